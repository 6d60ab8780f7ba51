//! `/v1/auth/two-factor`: a signed-in member turns TOTP sign-in on (a secret
//! shown once as a QR code, confirmed by a code made from it, which yields
//! recovery codes shown once), makes new recovery codes, or turns it off
//! (password and a code; not while the tenant requires it). The check at
//! sign-in is [`check_second_factor`].

use crate::auth::session::{live, live_changing};
use crate::auth::{password, totp, RequestMeta};
use crate::error::{ApiError, ApiResult, AppJson, ErrorCode};
use crate::openapi::NoContent;
use crate::state::AppState;
use axum::extract::{ConnectInfo, State};
use axum::http::HeaderMap;
use serde::{Deserialize, Serialize};
use spotlight_domain::{AccountId, Email};
use spotlight_store::{AuditEntry, SessionRecord, StoreError};
use std::net::SocketAddr;

fn bad_code() -> ApiError {
    ApiError::new(
        ErrorCode::InvalidTwoFactorCode,
        "wrong or already used code: enter the current code from your authenticator app",
    )
}

fn now_secs(state: &AppState) -> u64 {
    u64::try_from(state.clock.now().millis() / 1000).unwrap_or(0)
}

/// The second factor of an account that has one: a TOTP code (each time step
/// accepted once) or an unused recovery code. Accounts without one pass.
/// Answers whether the account has one.
pub(crate) async fn check_second_factor(
    state: &AppState,
    account: AccountId,
    code: Option<&str>,
    recovery_code: Option<&str>,
) -> ApiResult<bool> {
    let Some(tf) = state
        .store
        .two_factor(account)
        .await?
        .filter(|t| t.confirmed)
    else {
        return Ok(false);
    };
    if let Some(recovery) = recovery_code.filter(|c| !c.is_empty()) {
        if recovery.len() <= 64
            && state
                .store
                .use_recovery_code(account, &totp::recovery_hash(recovery))
                .await?
        {
            return Ok(true);
        }
        state.metrics.auth_failure("login", "bad_recovery_code");
        return Err(bad_code());
    }
    let Some(code) = code.filter(|c| !c.is_empty()) else {
        return Err(ApiError::new(
            ErrorCode::TwoFactorRequired,
            "this account signs in with a second factor: enter the code from your authenticator app, or a recovery code",
        ));
    };
    let secret = state
        .secrets
        .open(&tf.secret_sealed)
        .map_err(ApiError::internal)?;
    let step = (code.len() <= 16)
        .then(|| totp::matching_step(&secret, code, now_secs(state)))
        .flatten();
    match step {
        Some(step) if state.store.use_totp_step(account, step).await? => Ok(true),
        _ => {
            state.metrics.auth_failure("login", "bad_totp_code");
            Err(bad_code())
        }
    }
}

fn audit(session: &SessionRecord, meta: &RequestMeta, action: &str) -> AuditEntry {
    AuditEntry {
        actor: session.email.clone(),
        action: action.into(),
        object_kind: "account".into(),
        object_id: session.account_id.to_string(),
        before: None,
        after: None,
        ip: meta.ip.clone(),
        user_agent: meta.user_agent.clone(),
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TwoFactorStatus {
    /// This account signs in with a TOTP code.
    enabled: bool,
    /// The session's tenant requires a second factor of its members.
    required: bool,
    /// Recovery codes not used yet.
    recovery_codes_left: i64,
}

/// `GET /v1/auth/two-factor`
pub async fn status(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> ApiResult<AppJson<TwoFactorStatus>> {
    let (_, session) = live(&state, &headers).await?;
    let enabled = session.two_factor;
    Ok(AppJson(TwoFactorStatus {
        enabled,
        required: required_of(&state, &session).await?,
        recovery_codes_left: if enabled {
            state.store.recovery_codes_left(session.account_id).await?
        } else {
            0
        },
    }))
}

/// Whether this session must still show a second factor: the tenant
/// requires one, and the session came by password (an SSO session's second
/// factor is the identity provider's).
pub(crate) async fn required_of(state: &AppState, session: &SessionRecord) -> ApiResult<bool> {
    Ok(!session.sso && required(state, session).await?)
}

/// Whether the tenant requires a second factor of password sign-ins.
pub(crate) async fn required(state: &AppState, session: &SessionRecord) -> ApiResult<bool> {
    Ok(state
        .caches
        .tenant(session.tenant_id)
        .await?
        .is_some_and(|t| t.settings.sign_in.require_two_factor))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TwoFactorSetup {
    /// The shared secret (base32), for typing into an app by hand.
    secret: String,
    /// The `otpauth://totp/…` URI the QR code holds.
    otpauth_url: String,
    /// The QR code, an SVG document.
    qr_svg: String,
}

/// `POST /v1/auth/two-factor/setup`: a new secret, pending until confirmed
/// (a pending one is replaced; an enabled one is not: 409).
pub async fn setup(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> ApiResult<AppJson<TwoFactorSetup>> {
    let session = live_changing(&state, &headers).await?;
    let secret = totp::new_secret();
    let otpauth_url =
        totp::otpauth_url(&secret, &session.email).ok_or_else(|| ApiError::internal("totp"))?;
    let qr_svg = totp::qr_svg(&otpauth_url).ok_or_else(|| ApiError::internal("qr code"))?;
    match state
        .store
        .begin_two_factor(session.account_id, &state.secrets.seal(&secret))
        .await
    {
        Ok(()) => {}
        Err(StoreError::Conflict(_)) => {
            return Err(ApiError::new(
                ErrorCode::Conflict,
                "two-factor sign-in is already on; turn it off first to use another app",
            ))
        }
        Err(e) => return Err(e.into()),
    }
    Ok(AppJson(TwoFactorSetup {
        secret,
        otpauth_url,
        qr_svg,
    }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CodeBody {
    /// The 6-digit code the authenticator app shows now.
    code: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct RecoveryCodes {
    /// Shown once: each signs in once in place of a code.
    recovery_codes: Vec<String>,
}

/// `POST /v1/auth/two-factor/enable`: confirms the pending secret with a code
/// made from it; answers the recovery codes (shown once).
pub async fn enable(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    meta: RequestMeta,
    headers: HeaderMap,
    AppJson(body): AppJson<CodeBody>,
) -> ApiResult<AppJson<RecoveryCodes>> {
    let session = live_changing(&state, &headers).await?;
    limit(&state, &headers, peer, &session)?;
    let pending = state
        .store
        .two_factor(session.account_id)
        .await?
        .filter(|t| !t.confirmed)
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::Conflict,
                "nothing to confirm: start with POST /v1/auth/two-factor/setup",
            )
        })?;
    let secret = state
        .secrets
        .open(&pending.secret_sealed)
        .map_err(ApiError::internal)?;
    let step = (body.code.len() <= 16)
        .then(|| totp::matching_step(&secret, &body.code, now_secs(&state)))
        .flatten()
        .ok_or_else(bad_code)?;
    let (codes, hashes) = totp::new_recovery_codes();
    let entry = audit(&session, &meta, "account.two_factor.enable");
    if !state
        .store
        .confirm_two_factor(session.account_id, step, &hashes, session.tenant_id, &entry)
        .await?
    {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            "two-factor sign-in is already on",
        ));
    }
    Ok(AppJson(RecoveryCodes {
        recovery_codes: codes,
    }))
}

/// `POST /v1/auth/two-factor/recovery-codes`: new recovery codes (the old ones
/// stop working), for a current code.
pub async fn recovery_codes(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    meta: RequestMeta,
    headers: HeaderMap,
    AppJson(body): AppJson<CodeBody>,
) -> ApiResult<AppJson<RecoveryCodes>> {
    let session = live_changing(&state, &headers).await?;
    limit(&state, &headers, peer, &session)?;
    if !session.two_factor {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            "two-factor sign-in is off",
        ));
    }
    check_second_factor(&state, session.account_id, Some(&body.code), None).await?;
    let (codes, hashes) = totp::new_recovery_codes();
    let entry = audit(&session, &meta, "account.two_factor.recovery_codes");
    state
        .store
        .replace_recovery_codes(session.account_id, &hashes, session.tenant_id, &entry)
        .await?;
    Ok(AppJson(RecoveryCodes {
        recovery_codes: codes,
    }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DisableBody {
    password: String,
    /// A current code, or a recovery code.
    code: String,
}

/// `POST /v1/auth/two-factor/disable`: with the password and a code; refused
/// while the session's tenant requires a second factor.
pub async fn disable(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    meta: RequestMeta,
    headers: HeaderMap,
    AppJson(body): AppJson<DisableBody>,
) -> ApiResult<NoContent> {
    let session = live_changing(&state, &headers).await?;
    limit(&state, &headers, peer, &session)?;
    if !session.two_factor {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            "two-factor sign-in is off",
        ));
    }
    if required(&state, &session).await? {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            "this tenant requires two-factor sign-in; an owner can lift that in settings",
        ));
    }
    if body.password.is_empty() || body.password.len() > password::MAX_LENGTH {
        return Err(ApiError::field("password", "must be 1 to 1024 bytes"));
    }
    let email = Email::parse(&session.email).map_err(ApiError::internal)?;
    let account = state.store.account_by_email(&email).await?;
    if !password::verify(body.password, account.map(|a| a.password_hash)).await {
        return Err(ApiError::new(
            ErrorCode::InvalidCredentials,
            "wrong password",
        ));
    }
    let is_totp = body.code.trim().len() == 6;
    let (code, recovery) = if is_totp {
        (Some(body.code.as_str()), None)
    } else {
        (None, Some(body.code.as_str()))
    };
    check_second_factor(&state, session.account_id, code, recovery).await?;
    let entry = audit(&session, &meta, "account.two_factor.disable");
    state
        .store
        .disable_two_factor(session.account_id, session.tenant_id, &entry)
        .await?;
    Ok(NoContent)
}

/// Code guesses are limited as password guesses are: per IP and per account.
fn limit(
    state: &AppState,
    headers: &HeaderMap,
    peer: SocketAddr,
    session: &SessionRecord,
) -> ApiResult<()> {
    let ip = state.client_ip(headers, Some(peer));
    crate::auth::session::limit_login(state, ip, &session.email)
}
