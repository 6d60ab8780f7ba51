//! `/v1/admin/members`: the tenant's dashboard members. Admins list them; only
//! owners add, change and remove them, and the last owner can be neither
//! demoted nor removed.

use crate::auth::{password, AdminActor, AdminRole, OwnerRole, RequestMeta};
use crate::error::{ApiError, ApiResult, AppJson, AppPath, ErrorCode};
use crate::routes::{audit_entry, Page};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use spotlight_domain::{AccountId, Email, Role, Timestamp};
use spotlight_store::{Member, StoreError};

#[derive(Serialize, utoipa::ToSchema)]
pub struct MemberView {
    account_id: AccountId,
    email: String,
    role: Role,
    created_at: Timestamp,
}

impl From<Member> for MemberView {
    fn from(m: Member) -> Self {
        MemberView {
            account_id: m.account_id,
            email: m.email,
            role: m.role,
            created_at: m.created_at,
        }
    }
}

fn last_owner(e: StoreError) -> ApiError {
    match e {
        StoreError::Conflict(c) if c == "last_owner" => ApiError::new(
            ErrorCode::Conflict,
            "the tenant needs at least one owner; make someone else owner first",
        ),
        e => e.into(),
    }
}

pub async fn list(
    actor: AdminActor<AdminRole>,
    State(state): State<AppState>,
) -> ApiResult<AppJson<Page<MemberView>>> {
    let members = state.store.members(actor.tenant_id).await?;
    Ok(AppJson(Page {
        items: members.into_iter().map(MemberView::from).collect(),
        next_cursor: None,
    }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddMember {
    email: String,
    role: Role,
    /// For a new account; generated (and returned once) when absent.
    password: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AddedMember {
    member: MemberView,
    /// Only when a password was generated for a new account.
    #[serde(skip_serializing_if = "Option::is_none")]
    password: Option<String>,
}

pub async fn add(
    actor: AdminActor<OwnerRole>,
    meta: RequestMeta,
    State(state): State<AppState>,
    AppJson(body): AppJson<AddMember>,
) -> ApiResult<(StatusCode, AppJson<AddedMember>)> {
    let email = Email::parse(&body.email).map_err(|e| ApiError::field("email", e))?;
    if let Some(pw) = &body.password {
        password::check_strength(pw).map_err(|e| ApiError::field("password", &e))?;
    }
    let (account, generated) = match state.store.account_by_email(&email).await? {
        Some(a) => (a, None),
        None => {
            let (pw, generated) = match body.password {
                Some(pw) => (pw, None),
                None => {
                    let pw = password::generate();
                    (pw.clone(), Some(pw))
                }
            };
            let hash = password::hash(pw).await.map_err(ApiError::internal)?;
            (state.store.create_account(&email, &hash).await?, generated)
        }
    };
    let entry = audit_entry(&actor, &meta, "member.add", "member", account.id);
    let member = state
        .store
        .set_member_role(actor.tenant_id, account.id, body.role, entry)
        .await
        .map_err(last_owner)?;
    Ok((
        StatusCode::CREATED,
        AppJson(AddedMember {
            member: member.into(),
            password: generated,
        }),
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeRole {
    role: Role,
}

pub async fn change(
    actor: AdminActor<OwnerRole>,
    meta: RequestMeta,
    State(state): State<AppState>,
    AppPath(account): AppPath<AccountId>,
    AppJson(body): AppJson<ChangeRole>,
) -> ApiResult<AppJson<MemberView>> {
    // Only existing members of this tenant can be changed (404 otherwise).
    let members = state.store.members(actor.tenant_id).await?;
    if !members.iter().any(|m| m.account_id == account) {
        return Err(ApiError::not_found());
    }
    let entry = audit_entry(&actor, &meta, "member.role", "member", account);
    let member = state
        .store
        .set_member_role(actor.tenant_id, account, body.role, entry)
        .await
        .map_err(last_owner)?;
    Ok(AppJson(member.into()))
}

pub async fn remove(
    actor: AdminActor<OwnerRole>,
    meta: RequestMeta,
    State(state): State<AppState>,
    AppPath(account): AppPath<AccountId>,
) -> ApiResult<StatusCode> {
    let entry = audit_entry(&actor, &meta, "member.remove", "member", account);
    state
        .store
        .remove_member(actor.tenant_id, account, entry)
        .await
        .map_err(last_owner)?;
    Ok(StatusCode::NO_CONTENT)
}
