//! Dashboard sessions: a random token in an HttpOnly, SameSite=Strict cookie
//! (`__Host-` prefixed and Secure over TLS), stored server-side as a SHA-256 hash.
//! The CSRF token is derived from the session token, so it needs no storage and
//! survives page reloads (`GET /v1/auth/me` returns it).

use axum::http::{header, HeaderMap, HeaderValue};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};
use spotlight_domain::{AccountId, KeyHash, Role, SessionId, TenantId};
use spotlight_store::{NewSession, SessionRecord};
use std::time::Duration;
use subtle::ConstantTimeEq;

pub const COOKIE: &str = "spotlight_session";
pub const SECURE_COOKIE: &str = "__Host-spotlight_session";
pub const CSRF_HEADER: &str = "x-csrf-token";

pub struct SessionToken(String);

impl SessionToken {
    pub fn generate() -> SessionToken {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        SessionToken(URL_SAFE_NO_PAD.encode(bytes))
    }
    pub fn hash(&self) -> KeyHash {
        KeyHash::of(&self.0)
    }
    pub fn csrf(&self) -> String {
        csrf_for(&self.0)
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

fn csrf_for(token: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"spotlight-csrf\0");
    h.update(token.as_bytes());
    URL_SAFE_NO_PAD.encode(h.finalize())
}

/// The value of the first of the request's cookies named one of `names`.
pub(crate) fn cookie<'a>(headers: &'a HeaderMap, names: &[&str]) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| names.contains(name))
        .map(|(_, value)| value.trim())
}

/// The session token from the request's cookies, if any (43 base64url chars).
pub fn token_from(headers: &HeaderMap) -> Option<SessionToken> {
    cookie(headers, &[COOKIE, SECURE_COOKIE])
        .filter(|v| {
            v.len() == 43
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
        .map(|v| SessionToken(v.to_owned()))
}

/// Whether the request's `X-CSRF-Token` matches the session.
pub fn csrf_ok(headers: &HeaderMap, token: &SessionToken) -> bool {
    let Some(sent) = headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    sent.as_bytes().ct_eq(token.csrf().as_bytes()).into()
}

pub fn set_cookie(token: &SessionToken, ttl: Duration, secure: bool) -> HeaderValue {
    let (name, secure_attr) = if secure {
        (SECURE_COOKIE, "; Secure")
    } else {
        (COOKIE, "")
    };
    let v = format!(
        "{name}={}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{secure_attr}",
        token.expose(),
        ttl.as_secs()
    );
    HeaderValue::from_str(&v).unwrap_or_else(|_| HeaderValue::from_static(""))
}

pub fn clear_cookie(secure: bool) -> HeaderValue {
    if secure {
        HeaderValue::from_static(
            "__Host-spotlight_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0; Secure",
        )
    } else {
        HeaderValue::from_static("spotlight_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0")
    }
}

/// The request's live session (401 without one), with its token.
pub(crate) async fn live(
    state: &crate::state::AppState,
    headers: &HeaderMap,
) -> Result<(SessionToken, spotlight_store::SessionRecord), crate::error::ApiError> {
    use crate::error::ApiError;
    let Some(token) = token_from(headers) else {
        state.metrics.auth_failure("session", "missing");
        return Err(ApiError::unauthenticated());
    };
    let Some(record) = state.store.live_session(&token.hash()).await? else {
        state.metrics.auth_failure("session", "session");
        return Err(ApiError::unauthenticated());
    };
    Ok((token, record))
}

/// The live session of a request that changes something: with its CSRF token.
pub(crate) async fn live_changing(
    state: &crate::state::AppState,
    headers: &HeaderMap,
) -> Result<spotlight_store::SessionRecord, crate::error::ApiError> {
    use crate::error::{ApiError, ErrorCode};
    let (token, record) = live(state, headers).await?;
    if !csrf_ok(headers, &token) {
        state.metrics.auth_failure("session", "csrf");
        return Err(ApiError::new(
            ErrorCode::CsrfFailed,
            "missing or wrong X-CSRF-Token",
        ));
    }
    Ok(record)
}

/// Counts a sign-in attempt (a password or a second-factor code) for the
/// client IP and the account; past either limit, a 429 with `Retry-After`.
pub(crate) fn limit_login(
    state: &crate::state::AppState,
    ip: Option<std::net::IpAddr>,
    account: &str,
) -> Result<(), crate::error::ApiError> {
    limited(state, state.limits.login.check(ip, account))
}

/// Counts a sign-in attempt that names no account (an SSO start) for the
/// client IP only.
pub(crate) fn limit_login_ip(
    state: &crate::state::AppState,
    ip: Option<std::net::IpAddr>,
) -> Result<(), crate::error::ApiError> {
    limited(state, state.limits.login.check_ip(ip))
}

fn limited(
    state: &crate::state::AppState,
    checked: Result<(), crate::auth::limits::Limited>,
) -> Result<(), crate::error::ApiError> {
    checked.map_err(|limited| {
        state
            .metrics
            .rate_limited
            .get_or_create(&crate::metrics::ScopeLabels { scope: "login" })
            .inc();
        crate::error::ApiError::rate_limited(limited.retry_after_secs())
    })
}

/// Who a new session is for.
pub(crate) struct SignedIn {
    pub account_id: AccountId,
    pub email: String,
    pub tenant_id: TenantId,
    pub role: Role,
    /// The account signs in with a second factor.
    pub two_factor: bool,
    /// Signed in through the tenant's identity provider.
    pub sso: bool,
}

/// Records a new session; its token goes into the cookie.
/// Mails the account when it signs in from an address and browser none of
/// its sessions had (not at its very first sign-in). Sent in the background:
/// signing in never waits for mail.
async fn alert_if_new_device(
    state: &crate::state::AppState,
    email: &str,
    account: AccountId,
    tenant: TenantId,
    meta: &crate::auth::RequestMeta,
    sso: bool,
) -> crate::error::ApiResult<()> {
    let Some(mailer) = state.mailer.clone() else {
        return Ok(());
    };
    let (sessions, seen) = state
        .store
        .sessions_seen_from(account, &meta.ip, &meta.user_agent)
        .await?;
    if sessions == 0 || seen > 0 {
        return Ok(());
    }
    let team = state.store.tenant(tenant).await?.name;
    let when = time::OffsetDateTime::from_unix_timestamp(state.clock.now().millis() / 1000)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc2822)
                .ok()
        })
        .unwrap_or_default();
    let how = if sso { "single sign-on" } else { "password" };
    let ip = if meta.ip.is_empty() {
        "an unknown address"
    } else {
        meta.ip.as_str()
    };
    let browser: String = meta.user_agent.chars().take(200).collect();
    let text = format!(
        "Your Spotlight account signed in to {team} by {how}.\n\n\
         When: {when}\nFrom: {ip}\nBrowser: {browser}\n\n\
         If this was you, there is nothing to do. If not, change your password,\n\
         turn on two-factor sign-in, and tell an owner of {team}.\n"
    );
    let to = email.to_owned();
    let metrics = state.metrics.clone();
    tokio::spawn(async move {
        let sent = mailer
            .send(&to, "New sign-in to your Spotlight account", text)
            .await;
        if let Err(e) = &sent {
            tracing::warn!(error = %e, "a sign-in alert could not be mailed");
        }
        metrics.mail("sign_in_alert", sent.is_ok());
    });
    Ok(())
}

pub(crate) async fn open_session(
    state: &crate::state::AppState,
    meta: crate::auth::RequestMeta,
    who: SignedIn,
) -> crate::error::ApiResult<(SessionToken, SessionRecord)> {
    let SignedIn {
        account_id,
        email,
        tenant_id,
        role,
        two_factor,
        sso,
    } = who;
    let token = SessionToken::generate();
    let expires_at = state
        .clock
        .now()
        .plus_secs(state.config.security.session_ttl.as_secs() as i64);
    let id = SessionId::new_v7();
    if state.mailer.is_some() {
        alert_if_new_device(state, &email, account_id, tenant_id, &meta, sso).await?;
    }
    state
        .store
        .create_session(NewSession {
            id,
            token_hash: token.hash(),
            account_id,
            tenant_id,
            expires_at,
            ip: meta.ip,
            user_agent: meta.user_agent,
            sso,
        })
        .await?;
    tracing::info!(account = %account_id, tenant = %tenant_id, sso, "logged in");
    let record = SessionRecord {
        id,
        account_id,
        email,
        tenant_id,
        role,
        expires_at,
        two_factor,
        sso,
    };
    Ok((token, record))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie_round_trip_and_csrf() {
        let t = SessionToken::generate();
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_str(&format!("other=1; {COOKIE}={}", t.expose())).unwrap(),
        );
        let read = token_from(&h).unwrap();
        assert_eq!(read.expose(), t.expose());
        assert!(!csrf_ok(&h, &read));
        h.insert(CSRF_HEADER, HeaderValue::from_str(&t.csrf()).unwrap());
        assert!(csrf_ok(&h, &read));
        let c = set_cookie(&t, Duration::from_secs(60), true);
        let c = c.to_str().unwrap();
        assert!(c.starts_with("__Host-spotlight_session="));
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Strict") && c.contains("Secure"));
    }
}
