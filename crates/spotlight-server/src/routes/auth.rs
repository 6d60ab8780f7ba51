//! Dashboard login, logout and "who am I". Login is rate-limited per client IP
//! and per account; a wrong e-mail and a wrong password get the same answer in
//! the same time.

use crate::auth::session::{open_session, SignedIn};
use crate::auth::{password, session, RequestMeta};
use crate::error::{ApiError, ApiResult, AppJson, ErrorCode};
use crate::state::AppState;
use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use spotlight_domain::{AccountId, Email, Role, TenantId, Timestamp};
use spotlight_store::{Membership, SessionRecord};
use std::net::SocketAddr;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    email: String,
    password: String,
    /// Which tenant to work in, when the account belongs to several.
    tenant_id: Option<TenantId>,
    /// For an account with two-factor sign-in: the authenticator app's code…
    totp_code: Option<String>,
    /// …or one of its recovery codes (each works once).
    recovery_code: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct MeAccount {
    id: AccountId,
    email: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct MeTenant {
    id: TenantId,
    name: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct MembershipView {
    tenant_id: TenantId,
    tenant_name: String,
    role: Role,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Me {
    account: MeAccount,
    tenant: MeTenant,
    role: Role,
    memberships: Vec<MembershipView>,
    /// Send as `X-CSRF-Token` on every cookie-authenticated change.
    csrf_token: String,
    expires_at: Timestamp,
    two_factor: MeTwoFactor,
    /// This session came through the tenant's identity provider.
    sso: bool,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct MeTwoFactor {
    /// The account signs in with a second factor.
    enabled: bool,
    /// The tenant requires one of this session: until enabled, admin routes
    /// answer 403 `two_factor_enrolment_required` (never for a session that
    /// came through single sign-on: the provider owns its second factor).
    required: bool,
}

async fn me_body(state: &AppState, s: &SessionRecord, csrf: String) -> ApiResult<Me> {
    let memberships: Vec<Membership> = state.store.memberships(s.account_id).await?;
    let tenant_name = memberships
        .iter()
        .find(|m| m.tenant_id == s.tenant_id)
        .map(|m| m.tenant_name.clone())
        .unwrap_or_default();
    Ok(Me {
        account: MeAccount {
            id: s.account_id,
            email: s.email.clone(),
        },
        tenant: MeTenant {
            id: s.tenant_id,
            name: tenant_name,
        },
        role: s.role,
        memberships: memberships
            .into_iter()
            .map(|m| MembershipView {
                tenant_id: m.tenant_id,
                tenant_name: m.tenant_name,
                role: m.role,
            })
            .collect(),
        csrf_token: csrf,
        expires_at: s.expires_at,
        sso: s.sso,
        two_factor: MeTwoFactor {
            enabled: s.two_factor,
            required: crate::routes::two_factor::required_of(state, s).await?,
        },
    })
}

/// Login attempts per client IP and per account (a 429 past the limit).
fn limit_login(state: &AppState, ip: Option<std::net::IpAddr>, email: &Email) -> ApiResult<()> {
    crate::auth::session::limit_login(state, ip, email.as_str())
}

fn no_invitation() -> ApiError {
    ApiError::new(
        ErrorCode::NotFound,
        "no such invitation: it was used, withdrawn or has expired",
    )
}

fn bad_login() -> ApiError {
    ApiError::new(ErrorCode::InvalidCredentials, "wrong e-mail or password")
}

#[tracing::instrument(name = "login", skip_all)]
pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    meta: RequestMeta,
    headers: HeaderMap,
    AppJson(body): AppJson<LoginRequest>,
) -> ApiResult<Response> {
    let email = Email::parse(&body.email).map_err(|e| ApiError::field("email", e))?;
    if body.password.is_empty() || body.password.len() > password::MAX_LENGTH {
        return Err(ApiError::field("password", "must be 1 to 1024 bytes"));
    }
    let ip = state.client_ip(&headers, Some(peer));
    limit_login(&state, ip, &email)?;
    let account = state.store.account_by_email(&email).await?;
    let ok = password::verify(
        body.password,
        account.as_ref().map(|a| a.password_hash.clone()),
    )
    .await;
    let Some(account) = account.filter(|_| ok) else {
        state.metrics.auth_failure("login", "bad_credentials");
        return Err(bad_login());
    };
    let memberships = state.store.memberships(account.id).await?;
    let chosen = match body.tenant_id {
        Some(t) => memberships.iter().find(|m| m.tenant_id == t),
        None => memberships.first(),
    };
    let Some(membership) = chosen else {
        state.metrics.auth_failure("login", "no_membership");
        return Err(bad_login());
    };
    crate::routes::sso::refuse_password(&state, membership.tenant_id, Some(account.id)).await?;
    let two_factor = crate::routes::two_factor::check_second_factor(
        &state,
        account.id,
        body.totp_code.as_deref(),
        body.recovery_code.as_deref(),
    )
    .await?;

    start_session(
        &state,
        &headers,
        meta,
        SignedIn {
            account_id: account.id,
            email: account.email,
            tenant_id: membership.tenant_id,
            role: membership.role,
            two_factor,
            sso: false,
        },
    )
    .await
}

/// Opens a session of the account in the tenant: the cookie, and `Me`.
async fn start_session(
    state: &AppState,
    headers: &HeaderMap,
    meta: RequestMeta,
    who: SignedIn,
) -> ApiResult<Response> {
    let (token, record) = open_session(state, meta, who).await?;
    let me = me_body(state, &record, token.csrf()).await?;
    let secure = state.request_is_https(headers);
    Ok((
        [(
            header::SET_COOKIE,
            session::set_cookie(&token, state.config.security.session_ttl, secure),
        )],
        axum::Json(me),
    )
        .into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptInvitation {
    /// The token from the invitation link.
    token: String,
    /// The invited address's password; for an address without an account,
    /// the password to create it with (at least 12 characters).
    password: String,
    /// For an account with two-factor sign-in: a current code…
    totp_code: Option<String>,
    /// …or a recovery code.
    recovery_code: Option<String>,
}

/// `POST /v1/auth/invitations/accept`: the invitee signs in (or, for an
/// address without an account, chooses a password) and becomes a member of the
/// inviting tenant with the invited role, in a session there. Rate-limited as
/// a login; a wrong password gets the login's answer.
#[tracing::instrument(name = "accept_invitation", skip_all)]
pub async fn accept_invitation(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    meta: RequestMeta,
    headers: HeaderMap,
    AppJson(body): AppJson<AcceptInvitation>,
) -> ApiResult<Response> {
    if body.token.is_empty() || body.token.len() > 100 {
        return Err(ApiError::field("token", "not an invitation token"));
    }
    if body.password.is_empty() || body.password.len() > password::MAX_LENGTH {
        return Err(ApiError::field("password", "must be 1 to 1024 bytes"));
    }
    let Some(inv) = state
        .store
        .invitation_by_token(&spotlight_domain::KeyHash::of(&body.token))
        .await?
    else {
        return Err(no_invitation());
    };
    let email = Email::parse(&inv.email).map_err(ApiError::internal)?;
    let ip = state.client_ip(&headers, Some(peer));
    limit_login(&state, ip, &email)?;
    crate::routes::sso::refuse_password(&state, inv.tenant_id, None).await?;
    let (account, two_factor) = match state.store.account_by_email(&email).await? {
        Some(account) => {
            if !password::verify(body.password, Some(account.password_hash.clone())).await {
                state.metrics.auth_failure("login", "bad_credentials");
                return Err(bad_login());
            }
            let two_factor = crate::routes::two_factor::check_second_factor(
                &state,
                account.id,
                body.totp_code.as_deref(),
                body.recovery_code.as_deref(),
            )
            .await?;
            (account, two_factor)
        }
        None => {
            password::check_strength(&body.password)
                .map_err(|e| ApiError::field("password", &e))?;
            let hash = password::hash(body.password)
                .await
                .map_err(ApiError::internal)?;
            match state.store.create_account(&email, &hash).await {
                Ok(a) => (a, false),
                // Created by a concurrent acceptance: sign in as it instead.
                Err(e) if e.is_conflict_on("accounts_email_key") => {
                    return Err(bad_login());
                }
                Err(e) => return Err(e.into()),
            }
        }
    };
    let audit = spotlight_store::AuditEntry {
        actor: account.email.clone(),
        action: "member.join".into(),
        object_kind: "member".into(),
        object_id: account.id.to_string(),
        before: None,
        after: Some(format!("{{\"role\":\"{}\"}}", inv.role.as_str())),
        ip: meta.ip.clone(),
        user_agent: meta.user_agent.clone(),
    };
    let role = match state.store.accept_invitation(&inv, account.id, audit).await {
        Ok(role) => role,
        Err(spotlight_store::StoreError::NotFound) => return Err(no_invitation()),
        Err(e) => return Err(e.into()),
    };
    start_session(
        &state,
        &headers,
        meta,
        SignedIn {
            account_id: account.id,
            email: account.email,
            tenant_id: inv.tenant_id,
            role,
            two_factor,
            sso: false,
        },
    )
    .await
}

#[tracing::instrument(name = "logout", skip_all)]
pub async fn logout(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<Response> {
    let record = session::live_changing(&state, &headers).await?;
    state.store.revoke_session(record.id).await?;
    let secure = state.request_is_https(&headers);
    Ok((
        StatusCode::NO_CONTENT,
        [(header::SET_COOKIE, session::clear_cookie(secure))],
    )
        .into_response())
}

#[tracing::instrument(name = "me", skip_all)]
pub async fn me(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<AppJson<Me>> {
    let (token, record) = session::live(&state, &headers).await?;
    Ok(AppJson(me_body(&state, &record, token.csrf()).await?))
}
