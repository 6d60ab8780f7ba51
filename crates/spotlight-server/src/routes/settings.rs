//! `/v1/admin/settings`: allowed origins, the tenant kill switch, rate limits and
//! admin detection. Reading and changing need the `admin` role; a change is
//! validated whole and audited with before and after.

use crate::auth::{AdminActor, AdminRole, RequestMeta};
use crate::error::{ApiError, ApiResult, AppJson};
use crate::routes::audit_entry;
use crate::state::AppState;
use crate::tenants::parse_origins;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use spotlight_domain::settings::{AdminDetection, RateLimits, TenantSettings};

#[derive(Serialize, utoipa::ToSchema)]
pub struct SettingsView {
    allowed_origins: Vec<String>,
    #[serde(flatten)]
    settings: TenantSettings,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingsPatch {
    allowed_origins: Option<Vec<String>>,
    kill_switch: Option<bool>,
    rate_limits: Option<RateLimits>,
    admin_detection: Option<AdminDetection>,
}

async fn load(
    state: &AppState,
    actor: &AdminActor<AdminRole>,
) -> ApiResult<(TenantSettings, Vec<String>)> {
    let (json, origins) = state.store.tenant_settings(actor.tenant_id).await?;
    let settings: TenantSettings = serde_json::from_str(&json).map_err(ApiError::internal)?;
    Ok((settings, origins))
}

pub async fn get(
    actor: AdminActor<AdminRole>,
    State(state): State<AppState>,
) -> ApiResult<AppJson<SettingsView>> {
    let (settings, allowed_origins) = load(&state, &actor).await?;
    Ok(AppJson(SettingsView {
        allowed_origins,
        settings,
    }))
}

pub async fn patch(
    actor: AdminActor<AdminRole>,
    meta: RequestMeta,
    State(state): State<AppState>,
    AppJson(p): AppJson<SettingsPatch>,
) -> ApiResult<AppJson<SettingsView>> {
    let (mut settings, mut origins) = load(&state, &actor).await?;
    if let Some(o) = p.allowed_origins {
        origins = parse_origins("allowed_origins", &o).map_err(ApiError::validation)?;
    }
    if let Some(k) = p.kill_switch {
        settings.kill_switch = k;
    }
    if let Some(r) = p.rate_limits {
        settings.rate_limits = r;
    }
    if let Some(a) = p.admin_detection {
        settings.admin_detection = a;
    }
    settings.validate().map_err(ApiError::validation)?;
    let json = serde_json::to_string(&settings).map_err(ApiError::internal)?;
    let entry = audit_entry(
        &actor,
        &meta,
        "settings.update",
        "settings",
        actor.tenant_id,
    );
    state
        .store
        .update_tenant_settings(actor.tenant_id, &json, &origins, entry)
        .await?;
    Ok(AppJson(SettingsView {
        allowed_origins: origins,
        settings,
    }))
}
