//! Operator API: tenants. Guarded by the operator token.

use crate::auth::Operator;
use crate::error::{ApiError, ApiResult, AppJson, AppPath, AppQuery};
use crate::routes::{Page, PageQuery};
use crate::state::AppState;
use crate::tenants::{provision, ProvisionError, ProvisionedTenant};
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use spotlight_domain::{EnvironmentId, TenantId, Timestamp};
use spotlight_store::{Environment, Tenant};
use std::collections::BTreeMap;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTenant {
    name: String,
    #[serde(default)]
    allowed_origins: Vec<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct EnvironmentView {
    environment_id: EnvironmentId,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TenantView {
    tenant_id: TenantId,
    name: String,
    allowed_origins: Vec<String>,
    created_at: Timestamp,
    environments: BTreeMap<String, EnvironmentView>,
}

pub async fn create_tenant(
    _: Operator,
    State(state): State<AppState>,
    AppJson(body): AppJson<CreateTenant>,
) -> ApiResult<(StatusCode, AppJson<ProvisionedTenant>)> {
    match provision(&state.store, &body.name, &body.allowed_origins).await {
        Ok(t) => {
            tracing::info!(tenant = %t.tenant_id, "tenant created by operator");
            Ok((StatusCode::CREATED, AppJson(t)))
        }
        Err(ProvisionError::Invalid(e)) => Err(ApiError::validation(e)),
        Err(ProvisionError::Store(e)) => Err(e.into()),
    }
}

fn view(t: Tenant, envs: &[Environment]) -> TenantView {
    TenantView {
        environments: envs
            .iter()
            .filter(|e| e.tenant_id == t.id)
            .map(|e| {
                (
                    e.name.clone(),
                    EnvironmentView {
                        environment_id: e.id,
                    },
                )
            })
            .collect(),
        tenant_id: t.id,
        name: t.name,
        allowed_origins: t.allowed_origins,
        created_at: t.created_at,
    }
}

pub async fn get_tenant(
    _: Operator,
    State(state): State<AppState>,
    AppPath(id): AppPath<TenantId>,
) -> ApiResult<AppJson<TenantView>> {
    let t = state.store.tenant(id).await?;
    let envs = state.store.environments(id).await?;
    Ok(AppJson(view(t, &envs)))
}

pub async fn list_tenants(
    _: Operator,
    State(state): State<AppState>,
    AppQuery(q): AppQuery<PageQuery>,
) -> ApiResult<AppJson<Page<TenantView>>> {
    let after = match &q.cursor {
        None => None,
        Some(c) => Some(
            c.parse::<TenantId>()
                .map_err(|_| ApiError::field("cursor", "not a cursor from this list"))?,
        ),
    };
    let limit = q.limit();
    let tenants = state.store.list_tenants(after, limit).await?;
    let next_cursor = (tenants.len() == limit as usize)
        .then(|| tenants.last().map(|t| t.id.to_string()))
        .flatten();
    let ids: Vec<TenantId> = tenants.iter().map(|t| t.id).collect();
    let envs = state.store.environments_of(&ids).await?;
    let items = tenants.into_iter().map(|t| view(t, &envs)).collect();
    Ok(AppJson(Page { items, next_cursor }))
}
