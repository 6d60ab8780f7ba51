//! Operator API: tenants. Guarded by the operator token.

use crate::auth::Operator;
use crate::error::{ApiError, ApiResult, AppJson, AppPath, AppQuery};
use crate::openapi::Created;
use crate::routes::{Page, PageQuery};
use crate::state::AppState;
use crate::tenants::{provision, ProvisionError, ProvisionedTenant};
use axum::extract::State;
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
) -> ApiResult<Created<ProvisionedTenant>> {
    match provision(&state.store, &body.name, &body.allowed_origins).await {
        Ok(t) => {
            tracing::info!(tenant = %t.tenant_id, "tenant created by operator");
            Ok(Created(t))
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

#[derive(Debug, Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct UsageQuery {
    /// First day, `YYYY-MM-DD` (UTC); default: the first day of this month.
    #[param(example = "2026-11-01")]
    pub from: Option<String>,
    /// Last day, inclusive; default: today.
    #[param(example = "2026-11-30")]
    pub to: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct UsageReport {
    from: String,
    to: String,
    /// Tenants with any usage in the range.
    tenants: Vec<TenantUsage>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TenantUsage {
    tenant_id: TenantId,
    name: String,
    environments: Vec<EnvironmentUsage>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct EnvironmentUsage {
    environment: String,
    environment_id: EnvironmentId,
    /// SDK config requests answered (304s included).
    config_requests: u64,
    /// Events stored (resent duplicates and refused events not counted).
    events_ingested: u64,
    /// Deliveries that reached a webhook or NATS.
    deliveries: u64,
    /// Distinct end users seen, per month (`YYYY-MM`) the range touches.
    monthly_active_users: BTreeMap<String, u64>,
    /// What the environment stores now: its events, end users and progress (bytes of text).
    stored_bytes: u64,
}

fn day(field: &str, text: &str) -> Result<time::Date, ApiError> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(text, &format).map_err(|_| ApiError::field(field, "a day as YYYY-MM-DD"))
}

/// Usage per tenant and environment over a range of days: what an operator
/// bills or attributes cost by. Counts from every node (each adds its own
/// every 10 s; this node's are added first).
pub async fn usage(
    _: Operator,
    State(state): State<AppState>,
    AppQuery(q): AppQuery<UsageQuery>,
) -> ApiResult<AppJson<UsageReport>> {
    let today = time::OffsetDateTime::from_unix_timestamp(state.clock.now().millis() / 1000)
        .map(|t| t.date())
        .map_err(|_| ApiError::unavailable())?;
    let from = match &q.from {
        Some(t) => day("from", t)?,
        None => today.replace_day(1).unwrap_or(today),
    };
    let to = match &q.to {
        Some(t) => day("to", t)?,
        None => today,
    };
    if from > to {
        return Err(ApiError::field("to", "must not be before from"));
    }
    if (to - from).whole_days() > 3660 {
        return Err(ApiError::field("to", "at most ten years after from"));
    }
    // This node's counts and active users first (the others add theirs every 10 s).
    state
        .profiles
        .flush(std::time::Duration::from_secs(2))
        .await;
    crate::usage::flush(&state.store, &state.metrics.usage, state.clock.as_ref()).await;
    let (from, to) = (from.to_string(), to.to_string());
    let rows = state.store.usage(&from, &to).await?;
    let mut ids: Vec<TenantId> = rows
        .iter()
        .filter_map(|r| r.tenant_id.parse().ok())
        .collect();
    ids.dedup();
    let envs = state.store.environments_of(&ids).await?;
    let mut tenants = Vec::new();
    for id in ids {
        if tenants.iter().any(|t: &TenantUsage| t.tenant_id == id) {
            continue;
        }
        let name = state
            .store
            .tenant(id)
            .await
            .map(|t| t.name)
            .unwrap_or_default();
        let environments = rows
            .iter()
            .filter(|r| r.tenant_id == id.to_string())
            .filter_map(|r| {
                let env = envs.iter().find(|e| e.id.to_string() == r.environment_id)?;
                Some(EnvironmentUsage {
                    environment: env.name.clone(),
                    environment_id: env.id,
                    config_requests: r.counts.config_requests,
                    events_ingested: r.counts.events_ingested,
                    deliveries: r.counts.deliveries,
                    monthly_active_users: r.active_users.clone(),
                    stored_bytes: r.stored_bytes,
                })
            })
            .collect();
        tenants.push(TenantUsage {
            tenant_id: id,
            name,
            environments,
        });
    }
    Ok(AppJson(UsageReport { from, to, tenants }))
}
