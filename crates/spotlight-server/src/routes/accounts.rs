//! B2B accounts for the tenant's team: the list (by id, optionally by id
//! prefix), one account with its attributes, its members' event counts and
//! its members (`GET`), and its attributes set from the tenant's backend
//! (`PUT`, merged; `null` removes one).

use crate::auth::{AdminActor, AdminRole, RequestMeta, ViewerRole};
use crate::error::{ApiError, ApiResult, AppJson, AppPath, AppQuery};
use crate::routes::users::{AttributesPatch, UserQuery};
use crate::routes::{Page, PageQuery};
use crate::state::AppState;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use spotlight_domain::Timestamp;
use std::collections::BTreeMap;

/// Members listed on an account's page (all are counted).
const MEMBERS_SHOWN: u32 = 200;

#[derive(Serialize, utoipa::ToSchema)]
pub struct AccountView {
    account_id: String,
    environment: String,
    first_seen: Timestamp,
    last_seen: Timestamp,
    #[schema(value_type = Object)]
    attributes: serde_json::Map<String, serde_json::Value>,
    /// Its members' tracked events, summed (what `account.event("…")` reads).
    event_counts: BTreeMap<String, u64>,
    /// Times each tour or announcement (by id) was shown to any member
    /// (what "once per account" reads).
    shown: BTreeMap<String, u32>,
    member_count: u64,
    /// The most recently seen first, at most 200.
    members: Vec<AccountMemberView>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AccountMemberView {
    user_id: String,
    joined_at: Timestamp,
    last_seen: Timestamp,
}

/// `?environment=&q=&limit=&cursor=`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListAccounts {
    /// Environment name (default production).
    #[param(example = "production")]
    environment: Option<String>,
    /// Only accounts whose id starts with this.
    q: Option<String>,
    /// Page size (default 50, at most 100).
    limit: Option<u32>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AccountSummaryView {
    account_id: String,
    first_seen: Timestamp,
    last_seen: Timestamp,
    #[schema(value_type = Object)]
    attributes: serde_json::Map<String, serde_json::Value>,
    member_count: u64,
}

/// `GET /v1/admin/accounts`: an environment's accounts, by id.
pub async fn list(
    State(state): State<AppState>,
    actor: AdminActor<ViewerRole>,
    AppQuery(q): AppQuery<ListAccounts>,
) -> ApiResult<AppJson<Page<AccountSummaryView>>> {
    if let Some(p) = &q.q {
        if p.len() > 256 || p.chars().any(char::is_control) {
            return Err(ApiError::field(
                "q",
                "must be at most 256 printable characters",
            ));
        }
    }
    let after = q.cursor.unwrap_or_default();
    if after.len() > 256 {
        return Err(ApiError::field("cursor", "not a cursor from this list"));
    }
    let limit = PageQuery {
        limit: q.limit,
        cursor: None,
    }
    .limit();
    let env_name = q.environment.unwrap_or_else(|| "production".to_owned());
    let env =
        crate::routes::environment_named(&state, actor.tenant_id, &env_name, "environment").await?;
    let prefix = q.q.as_deref().filter(|p| !p.is_empty());
    let accounts = state
        .store
        .list_accounts(actor.tenant_id, env.id, prefix, &after, limit)
        .await?;
    let next_cursor = (accounts.len() == limit as usize)
        .then(|| accounts.last().map(|a| a.account_id.clone()))
        .flatten();
    Ok(AppJson(Page {
        items: accounts
            .into_iter()
            .map(|a| AccountSummaryView {
                account_id: a.account_id,
                first_seen: a.first_seen,
                last_seen: a.last_seen,
                attributes: a.attributes,
                member_count: a.member_count,
            })
            .collect(),
        next_cursor,
    }))
}

fn check_account_id(id: &str) -> Result<(), &'static str> {
    spotlight_domain::end_user::check_account_id(id)
}

pub async fn get(
    State(state): State<AppState>,
    actor: AdminActor<ViewerRole>,
    AppPath(account_id): AppPath<String>,
    AppQuery(q): AppQuery<UserQuery>,
) -> ApiResult<AppJson<AccountView>> {
    if check_account_id(&account_id).is_err() {
        return Err(ApiError::not_found());
    }
    let env_name = q.environment.unwrap_or_else(|| "production".to_owned());
    let env =
        crate::routes::environment_named(&state, actor.tenant_id, &env_name, "environment").await?;
    view(&state, actor.tenant_id, env.id, env_name, account_id).await
}

/// `PUT /v1/admin/accounts/{account_id}`: the tenant's backend sets an
/// account's attributes (creating the account). The latest write of an
/// attribute wins, this one's or the SDK's; a verified token's claims win
/// over both.
pub async fn put(
    State(state): State<AppState>,
    actor: AdminActor<AdminRole>,
    meta: RequestMeta,
    AppPath(account_id): AppPath<String>,
    AppQuery(q): AppQuery<UserQuery>,
    AppJson(body): AppJson<AttributesPatch>,
) -> ApiResult<AppJson<AccountView>> {
    if let Err(msg) = check_account_id(&account_id) {
        return Err(ApiError::field("account_id", msg));
    }
    let patch = body.attributes;
    if let Err(msg) = spotlight_domain::end_user::check_patch(&patch) {
        return Err(ApiError::field("attributes", msg));
    }
    let env_name = q.environment.unwrap_or_else(|| "production".to_owned());
    let env =
        crate::routes::environment_named(&state, actor.tenant_id, &env_name, "environment").await?;
    let entry = crate::routes::audit_entry(
        &actor,
        &meta,
        "account.attributes",
        "account",
        account_id.clone(),
    );
    let check = |after: &serde_json::Map<String, serde_json::Value>| {
        spotlight_domain::end_user::check_attributes(after).map_err(str::to_owned)
    };
    let merged = state
        .store
        .merge_account_attributes(actor.tenant_id, env.id, &account_id, &patch, check, entry)
        .await?;
    if let Err(msg) = merged {
        return Err(ApiError::field("attributes", &msg));
    }
    view(&state, actor.tenant_id, env.id, env_name, account_id).await
}

async fn view(
    state: &AppState,
    tenant: spotlight_domain::TenantId,
    env: spotlight_domain::EnvironmentId,
    env_name: String,
    account_id: String,
) -> ApiResult<AppJson<AccountView>> {
    let a = state
        .store
        .end_account(tenant, env, &account_id, MEMBERS_SHOWN)
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(AppJson(AccountView {
        account_id: a.account_id,
        environment: env_name,
        first_seen: a.first_seen,
        last_seen: a.last_seen,
        attributes: a.state.attributes,
        event_counts: a.state.event_counts.into_iter().collect(),
        shown: a.state.shown.into_iter().collect(),
        member_count: a.member_count,
        members: a
            .members
            .into_iter()
            .map(|m| AccountMemberView {
                user_id: m.user_id,
                joined_at: m.joined_at,
                last_seen: m.last_seen,
            })
            .collect(),
    }))
}
