//! `/v1/admin/members`: the tenant's dashboard members. Admins list them; only
//! owners invite, change and remove them, and the last owner can be neither
//! demoted nor removed. Inviting looks up no account: the invitee becomes a
//! member by accepting (see `routes::auth::accept_invitation`).

use crate::auth::{AdminActor, AdminRole, OwnerRole, RequestMeta};
use crate::error::{ApiError, ApiResult, AppJson, AppPath, ErrorCode};
use crate::openapi::{Created, NoContent};
use crate::routes::{audit_entry, Page};
use crate::state::AppState;
use axum::extract::State;
use axum::http::HeaderMap;
use serde::{Deserialize, Serialize};
use spotlight_domain::{AccountId, Email, InvitationId, Role, Timestamp};
use spotlight_store::{Invitation, Member, NewInvitation, StoreError};

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
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct InvitationView {
    id: InvitationId,
    email: String,
    role: Role,
    invited_by: String,
    created_at: Timestamp,
    expires_at: Timestamp,
}

impl From<Invitation> for InvitationView {
    fn from(i: Invitation) -> Self {
        InvitationView {
            id: i.id,
            email: i.email,
            role: i.role,
            invited_by: i.invited_by,
            created_at: i.created_at,
            expires_at: i.expires_at,
        }
    }
}

/// The answer to an invitation: the same whether or not the address already
/// has an account (nothing about accounts is looked up).
#[derive(Serialize, utoipa::ToSchema)]
pub struct Invited {
    invitation: InvitationView,
    /// Mailed to the invitee (SMTP is configured): then neither the token nor
    /// the link is shown here.
    mailed: bool,
    /// Without mail, shown once: whoever holds it can accept the invitation.
    token: Option<String>,
    /// Without mail, the dashboard page that accepts it (the token in its
    /// fragment, which browsers never send to a server). Relative unless
    /// `public_url` is set.
    accept_url: Option<String>,
}

/// How long an invitation can be accepted.
const INVITATION_TTL_SECS: i64 = 7 * 86_400;

/// `POST /v1/admin/members`: invites an address with a role. The invitee
/// becomes a member only by accepting (`POST /v1/auth/invitations/accept`).
/// With SMTP configured the link is mailed, never shown; a mail that cannot
/// be sent withdraws the invitation (503), so no link exists that nobody got.
pub async fn add(
    actor: AdminActor<OwnerRole>,
    meta: RequestMeta,
    headers: HeaderMap,
    State(state): State<AppState>,
    AppJson(body): AppJson<AddMember>,
) -> ApiResult<Created<Invited>> {
    let email = Email::parse(&body.email).map_err(|e| ApiError::field("email", e))?;
    let token = crate::auth::session::SessionToken::generate();
    let id = InvitationId::new_v7();
    let mut entry = audit_entry(&actor, &meta, "member.invite", "invitation", id);
    entry.after =
        Some(serde_json::json!({"email": email.as_str(), "role": body.role.as_str()}).to_string());
    let invitation = state
        .store
        .create_invitation(
            NewInvitation {
                id,
                tenant_id: actor.tenant_id,
                email: email.clone(),
                role: body.role,
                token_hash: token.hash(),
                invited_by: actor.actor_label(),
                expires_at: state.clock.now().plus_secs(INVITATION_TTL_SECS),
            },
            entry,
        )
        .await?;
    if let Some(mailer) = &state.mailer {
        let link = format!("{}/app/accept#{}", state.base_url(&headers), token.expose());
        let team = state.store.tenant(actor.tenant_id).await?.name;
        let text = format!(
            "{} invited you to join {team} on Spotlight as {}.\n\n\
             Accept within 7 days:\n{link}\n\n\
             If you did not expect this invitation, ignore this mail.\n",
            actor.actor_label(),
            body.role.as_str(),
        );
        let subject = format!("You are invited to {team} on Spotlight");
        if let Err(e) = mailer.send(email.as_str(), &subject, text).await {
            tracing::warn!(error = %e, "an invitation could not be mailed; withdrawn");
            state.metrics.mail("invitation", false);
            let undo = audit_entry(&actor, &meta, "member.invite.withdraw", "invitation", id);
            state
                .store
                .revoke_invitation(actor.tenant_id, id, undo)
                .await?;
            return Err(ApiError::new(
                ErrorCode::Unavailable,
                format!(
                    "the invitation could not be mailed ({e}); it was withdrawn: try again later"
                ),
            ));
        }
        state.metrics.mail("invitation", true);
        return Ok(Created(Invited {
            invitation: invitation.into(),
            mailed: true,
            token: None,
            accept_url: None,
        }));
    }
    let base = state
        .config
        .http
        .public_url
        .as_deref()
        .unwrap_or("")
        .trim_end_matches('/');
    Ok(Created(Invited {
        invitation: invitation.into(),
        mailed: false,
        accept_url: Some(format!("{base}/app/accept#{}", token.expose())),
        token: Some(token.expose().to_owned()),
    }))
}

/// `GET /v1/admin/invitations`: those still waiting for an answer.
pub async fn invitations(
    actor: AdminActor<OwnerRole>,
    State(state): State<AppState>,
) -> ApiResult<AppJson<Page<InvitationView>>> {
    let items = state.store.pending_invitations(actor.tenant_id).await?;
    Ok(AppJson(Page {
        items: items.into_iter().map(InvitationView::from).collect(),
        next_cursor: None,
    }))
}

/// `DELETE /v1/admin/invitations/{id}`: withdraws a pending invitation.
pub async fn revoke_invitation(
    actor: AdminActor<OwnerRole>,
    meta: RequestMeta,
    State(state): State<AppState>,
    AppPath(id): AppPath<InvitationId>,
) -> ApiResult<NoContent> {
    let entry = audit_entry(&actor, &meta, "member.uninvite", "invitation", id);
    state
        .store
        .revoke_invitation(actor.tenant_id, id, entry)
        .await?;
    Ok(NoContent)
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
) -> ApiResult<NoContent> {
    let entry = audit_entry(&actor, &meta, "member.remove", "member", account);
    state
        .store
        .remove_member(actor.tenant_id, account, entry)
        .await
        .map_err(last_owner)?;
    Ok(NoContent)
}
