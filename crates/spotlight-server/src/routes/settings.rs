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
use spotlight_domain::settings::{
    AdminDetection, IdentityVerification, PublishPolicy, RateLimits, SignInPolicy, TenantRetention,
    TenantSettings, VerificationMethod, VerificationMode,
};
use std::collections::BTreeMap;

/// Identity verification as shown: everything but the secrets.
#[derive(Serialize, utoipa::ToSchema)]
pub struct IdentityView {
    mode: VerificationMode,
    allow_anonymous: bool,
    method: VerificationMethod,
    issuer: Option<String>,
    audience: Option<String>,
    attribute_claims: Vec<String>,
    /// How many HS256 secrets are set (they are never shown).
    hs256_secrets_configured: usize,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SettingsView {
    allowed_origins: Vec<String>,
    kill_switch: bool,
    rate_limits: RateLimits,
    admin_detection: AdminDetection,
    identity_verification: BTreeMap<String, IdentityView>,
    default_theme_id: Option<String>,
    /// This tenant's keeping times (`null`: the server's).
    retention: TenantRetention,
    /// The server's keeping times: the longest a tenant may choose.
    retention_limits: RetentionLimits,
    sign_in: SignInPolicy,
    /// Environment → who publishes there (absent: editors, no approval).
    publishing: BTreeMap<String, PublishPolicy>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct RetentionLimits {
    events_days: u64,
    audit_days: u64,
}

fn view(
    settings: TenantSettings,
    allowed_origins: Vec<String>,
    limits: RetentionLimits,
) -> SettingsView {
    SettingsView {
        retention: settings.retention,
        retention_limits: limits,
        sign_in: settings.sign_in,
        publishing: settings.publishing,
        allowed_origins,
        kill_switch: settings.kill_switch,
        rate_limits: settings.rate_limits,
        admin_detection: settings.admin_detection,
        default_theme_id: settings.default_theme_id,
        identity_verification: settings
            .identity_verification
            .into_iter()
            .map(|(env, iv)| {
                (
                    env,
                    IdentityView {
                        hs256_secrets_configured: iv.hs256_secrets.len(),
                        mode: iv.mode,
                        allow_anonymous: iv.allow_anonymous,
                        method: iv.method,
                        issuer: iv.issuer,
                        audience: iv.audience,
                        attribute_claims: iv.attribute_claims,
                    },
                )
            })
            .collect(),
    }
}

/// Changes to one environment's identity verification; absent fields stay.
#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IdentityPatch {
    mode: Option<VerificationMode>,
    allow_anonymous: Option<bool>,
    method: Option<VerificationMethod>,
    issuer: Option<String>,
    audience: Option<String>,
    attribute_claims: Option<Vec<String>>,
    /// Write-only: replaces the HS256 secrets (one or two, 32+ characters each).
    hs256_secrets: Option<Vec<String>>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingsPatch {
    allowed_origins: Option<Vec<String>>,
    kill_switch: Option<bool>,
    rate_limits: Option<RateLimits>,
    admin_detection: Option<AdminDetection>,
    /// Environment name → changes.
    identity_verification: Option<BTreeMap<String, IdentityPatch>>,
    /// A theme of this tenant, or "" to clear.
    default_theme_id: Option<String>,
    /// Keeping times in days, at most the server's; `null` for the server's.
    retention: Option<TenantRetention>,
    /// How members sign in (owners only).
    sign_in: Option<SignInPolicy>,
    /// Environment → who publishes there; the environments named are replaced.
    publishing: Option<BTreeMap<String, PublishPolicy>>,
}

/// The server's keeping times, in days.
fn limits(state: &AppState) -> RetentionLimits {
    let days = |d: std::time::Duration| d.as_secs() / 86_400;
    RetentionLimits {
        events_days: days(state.config.retention.events),
        audit_days: days(state.config.retention.audit),
    }
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
    Ok(AppJson(view(settings, allowed_origins, limits(&state))))
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
    if let Some(theme) = p.default_theme_id {
        if theme.is_empty() {
            settings.default_theme_id = None;
        } else {
            let exists = match theme.parse::<spotlight_domain::ObjectId>() {
                Ok(id) => state
                    .store
                    .object(actor.tenant_id, spotlight_domain::ObjectKind::Theme, id)
                    .await
                    .is_ok(),
                Err(_) => false,
            };
            if !exists {
                return Err(ApiError::field("default_theme_id", "no such theme"));
            }
            settings.default_theme_id = Some(theme);
        }
    }
    for (env, patch) in p.identity_verification.unwrap_or_default() {
        let field = format!("identity_verification.{env}");
        crate::routes::environment_named(&state, actor.tenant_id, &env, &field).await?;
        let iv: &mut IdentityVerification = settings.identity_verification.entry(env).or_default();
        if let Some(v) = patch.mode {
            iv.mode = v;
        }
        if let Some(v) = patch.allow_anonymous {
            iv.allow_anonymous = v;
        }
        if let Some(v) = patch.method {
            iv.method = v;
        }
        if let Some(v) = patch.issuer {
            iv.issuer = Some(v).filter(|s| !s.is_empty());
        }
        if let Some(v) = patch.audience {
            iv.audience = Some(v).filter(|s| !s.is_empty());
        }
        if let Some(v) = patch.attribute_claims {
            iv.attribute_claims = v;
        }
        if let Some(secrets) = patch.hs256_secrets {
            if secrets.iter().any(|s| s.len() < 32 || s.len() > 512) {
                return Err(ApiError::field(
                    &format!("{field}.hs256_secrets"),
                    "each secret must be 32 to 512 characters",
                ));
            }
            iv.hs256_secrets = secrets.iter().map(|s| state.secrets.seal(s)).collect();
        }
    }
    if let Some(r) = p.retention {
        settings.retention = r;
    }
    for (env, policy) in p.publishing.unwrap_or_default() {
        let field = format!("publishing.{env}");
        crate::routes::environment_named(&state, actor.tenant_id, &env, &field).await?;
        settings.publishing.insert(env, policy);
    }
    if let Some(policy) = p.sign_in {
        if policy != settings.sign_in && !actor.role.allows(spotlight_domain::Role::Owner) {
            return Err(ApiError::forbidden(
                "only an owner changes how members sign in".to_owned(),
            ));
        }
        settings.sign_in = policy;
    }
    let max = limits(&state);
    let mut problems = settings.validate().err().unwrap_or_default();
    settings
        .retention
        .check(&mut problems, max.events_days, max.audit_days);
    problems.into_result().map_err(ApiError::validation)?;
    for (env, iv) in &settings.identity_verification {
        if let spotlight_domain::settings::VerificationMethod::Jwks { url } = &iv.method {
            if let Err(refused) = state.outbound.check_url(url) {
                return Err(ApiError::field(
                    &format!("identity_verification.{env}.method.url"),
                    &refused.0,
                ));
            }
        }
    }
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
    Ok(AppJson(view(settings, origins, limits(&state))))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct MonitorQuery {
    /// Environment name (default production).
    #[param(example = "production")]
    environment: Option<String>,
    /// How far back, in hours (1–720, default 24).
    hours: Option<u32>,
}

/// What enforcing identity verification would have done, over recent hours.
#[derive(Serialize, utoipa::ToSchema)]
pub struct MonitorView {
    environment: String,
    hours: u32,
    mode: VerificationMode,
    /// SDK requests checked while the environment was in monitor mode.
    checked: u64,
    /// Of those, how many enforcing would have refused.
    would_refuse: u64,
    /// By reason (a request failing two checks counts under both) (`unverified`, `anonymous`, `expired`, `bad_signature`, …).
    by_reason: BTreeMap<String, u64>,
}

/// `GET /v1/admin/settings/identity-monitor`: monitor mode's figures, from every node.
pub async fn identity_monitor(
    State(state): State<AppState>,
    actor: AdminActor<AdminRole>,
    crate::error::AppQuery(q): crate::error::AppQuery<MonitorQuery>,
) -> ApiResult<AppJson<MonitorView>> {
    let environment = q.environment.unwrap_or_else(|| "production".to_owned());
    let hours = q.hours.unwrap_or(24);
    if !(1..=720).contains(&hours) {
        return Err(ApiError::field("hours", "must be 1 to 720"));
    }
    let env =
        crate::routes::environment_named(&state, actor.tenant_id, &environment, "environment")
            .await?;
    // This node's latest tallies first, so a request just made is counted.
    state.monitor.flush().await;
    use crate::monitor::{hour_start, HOUR_MS};
    let since = hour_start(state.clock.now().millis()) - (i64::from(hours) - 1) * HOUR_MS;
    let rows = state
        .store
        .identity_monitor(actor.tenant_id, env.id, since)
        .await?;
    let (mut checked, mut would_refuse) = (0, 0);
    let mut by_reason = BTreeMap::new();
    for (reason, n) in rows {
        match reason.as_str() {
            "checked" => checked = n,
            "would_refuse" => would_refuse = n,
            _ => {
                by_reason.insert(reason, n);
            }
        }
    }
    let (settings, _) = load(&state, &actor).await?;
    let mode = settings
        .identity_verification
        .get(&environment)
        .map(|iv| iv.mode)
        .unwrap_or_default();
    Ok(AppJson(MonitorView {
        environment,
        hours,
        mode,
        checked,
        would_refuse,
        by_reason,
    }))
}
