//! Routes, one file per area; each reads top to bottom: extractor, store, domain,
//! response.

pub mod admin_keys;
pub mod analytics;
pub mod audiences;
pub mod audit;
pub mod auth;
pub mod dashboard;
pub mod members;
pub mod objects;
pub mod operator;
pub mod ops;
pub mod sdk;
pub mod sdk_events;
pub mod sdk_script;
pub mod settings;
pub mod users;
pub mod webhooks;

use crate::auth::{AdminActor, RequestMeta, RoleNeeded};
use serde::{Deserialize, Serialize};
use spotlight_store::AuditEntry;

/// An audit entry for a change an admin caller is making.
/// An environment of the tenant by name; one that does not exist is a
/// validation error on `field` (422), a store that cannot answer a 503.
pub async fn environment_named(
    state: &crate::state::AppState,
    tenant: spotlight_domain::TenantId,
    name: &str,
    field: &str,
) -> crate::error::ApiResult<spotlight_store::Environment> {
    match state.store.environment_named(tenant, name).await {
        Ok(e) => Ok(e),
        Err(spotlight_store::StoreError::NotFound) => {
            Err(crate::error::ApiError::field(field, "no such environment"))
        }
        Err(e) => Err(e.into()),
    }
}

pub fn audit_entry<R: RoleNeeded>(
    actor: &AdminActor<R>,
    meta: &RequestMeta,
    action: &str,
    object_kind: &str,
    object_id: impl ToString,
) -> AuditEntry {
    AuditEntry {
        actor: actor.actor_label(),
        action: action.to_owned(),
        object_kind: object_kind.to_owned(),
        object_id: object_id.to_string(),
        ip: meta.ip.clone(),
        user_agent: meta.user_agent.clone(),
        ..AuditEntry::default()
    }
}

/// `?limit=&cursor=`: default 50, at most 100 whatever is asked.
#[derive(Debug, Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    /// Page size (default 50, at most 100 whatever is asked).
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl PageQuery {
    pub const DEFAULT: u32 = 50;
    pub const MAX: u32 = 100;
    pub fn limit(&self) -> u32 {
        self.limit.unwrap_or(Self::DEFAULT).clamp(1, Self::MAX)
    }
}

#[derive(Debug, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}
