//! Single sign-on with the tenant's OpenID Connect provider.
//!
//! Owners set it up at `/v1/admin/sso` (the issuer must answer discovery; the
//! client secret is sealed and never shown). A sign-in starts at
//! `GET /v1/auth/sso/{tenant}/start`: a new attempt (state, nonce, PKCE
//! verifier) is kept ten minutes, its state also in a `SameSite=Lax` cookie
//! (the provider's redirect back is a cross-site navigation), and the browser
//! goes to the provider. The callback takes the attempt once, checks the
//! cookie, exchanges the code, verifies the ID token (`auth::oidc`), links the
//! identity, makes or updates the membership as the groups say, and opens a
//! session. A browser that fails there is sent to the dashboard's sign-in page
//! with the reason; an API client gets the error.

use crate::auth::oidc::{self, OidcError, Relying};
use crate::auth::session::{self, open_session, SignedIn};
use crate::auth::{AdminActor, AdminRole, OwnerRole, RequestMeta};
use crate::error::{ApiError, ApiResult, AppJson, AppPath, AppQuery, ErrorCode};
use crate::openapi::NoContent;
use crate::routes::audit_entry;
use crate::state::AppState;
use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{AppendHeaders, IntoResponse, Response};
use serde::{Deserialize, Serialize};
use spotlight_domain::sso::SsoSettings;
use spotlight_domain::{AccountId, Email, KeyHash, Role, TenantId, Timestamp};
use spotlight_store::{SsoFlow, SsoOutcome, SsoSignIn, StoredSso};
use std::net::SocketAddr;

/// How long a sign-in attempt may take at the provider.
const FLOW_TTL_SECS: i64 = 600;
const STATE_COOKIE: &str = "spotlight_sso_state";
const COOKIE_PATH: &str = "/v1/auth/sso";

#[derive(Serialize, utoipa::ToSchema)]
pub struct SsoView {
    #[serde(flatten)]
    settings: SsoSettings,
    /// A client secret is saved (it is never shown).
    client_secret_set: bool,
    /// Register this as the client's redirect URI at the provider.
    redirect_uri: String,
    /// Where members start signing in (the dashboard's sign-in page links it).
    sign_in_url: String,
    updated_at: Timestamp,
}

fn not_set_up() -> ApiError {
    ApiError::new(
        ErrorCode::NotFound,
        "single sign-on is not set up for this tenant",
    )
}

fn redirect_uri(base: &str, tenant: TenantId) -> String {
    format!("{base}/v1/auth/sso/{tenant}/callback")
}

fn relying(state: &AppState) -> Relying<'_> {
    Relying {
        http: &state.sso_http,
        policy: &state.outbound,
        clock: state.clock.as_ref(),
    }
}

/// The tenant's settings, as stored (the client secret still sealed).
async fn stored(state: &AppState, tenant: TenantId) -> ApiResult<Option<(SsoSettings, StoredSso)>> {
    let Some(stored) = state.store.sso_settings(tenant).await? else {
        return Ok(None);
    };
    let settings = serde_json::from_str(&stored.settings).map_err(ApiError::internal)?;
    Ok(Some((settings, stored)))
}

/// The tenant's settings and its client secret, opened.
async fn load(state: &AppState, tenant: TenantId) -> ApiResult<Option<(SsoSettings, String)>> {
    let Some((settings, stored)) = stored(state, tenant).await? else {
        return Ok(None);
    };
    let secret = state
        .secrets
        .open(&stored.client_secret_sealed)
        .map_err(ApiError::internal)?;
    Ok(Some((settings, secret)))
}

/// `GET /v1/admin/sso`
pub async fn get(
    actor: AdminActor<AdminRole>,
    State(state): State<AppState>,
    headers: HeaderMap,
) -> ApiResult<AppJson<SsoView>> {
    let (settings, stored) = stored(&state, actor.tenant_id)
        .await?
        .ok_or_else(not_set_up)?;
    Ok(AppJson(view(
        &state,
        &headers,
        actor.tenant_id,
        settings,
        stored.updated_at,
    )))
}

fn view(
    state: &AppState,
    headers: &HeaderMap,
    tenant: TenantId,
    settings: SsoSettings,
    updated_at: Timestamp,
) -> SsoView {
    let base = state.base_url(headers);
    SsoView {
        settings,
        client_secret_set: true,
        redirect_uri: redirect_uri(&base, tenant),
        sign_in_url: format!("{base}/v1/auth/sso/{tenant}/start"),
        updated_at,
    }
}

/// `PUT /v1/admin/sso` (owners): checks the settings, that the issuer answers
/// discovery, and that the break-glass account is an owner here; saves them.
/// Turning "required" on ends the tenant's password sessions but the
/// break-glass owner's.
pub async fn put(
    actor: AdminActor<OwnerRole>,
    State(state): State<AppState>,
    meta: RequestMeta,
    headers: HeaderMap,
    AppJson(mut settings): AppJson<SsoSettings>,
) -> ApiResult<AppJson<SsoView>> {
    settings.validate().map_err(ApiError::validation)?;
    if let Err(refused) = state.outbound.check_url(&settings.issuer) {
        return Err(ApiError::field("issuer", &refused.to_string()));
    }
    let before = state.store.sso_settings(actor.tenant_id).await?;
    let sealed = match (settings.client_secret.take(), &before) {
        (Some(secret), _) => state.secrets.seal(&secret),
        (None, Some(b)) => b.client_secret_sealed.clone(),
        (None, None) => {
            return Err(ApiError::field(
                "client_secret",
                "is needed the first time SSO is set up",
            ))
        }
    };
    if let Some(account) = settings.break_glass_account_id {
        let owner = state
            .store
            .members(actor.tenant_id)
            .await?
            .into_iter()
            .any(|m| m.account_id == account && m.role == Role::Owner);
        if !owner {
            return Err(ApiError::field(
                "break_glass_account_id",
                "must be an owner of this tenant",
            ));
        }
    }
    relying(&state)
        .check_issuer(&settings.issuer)
        .await
        .map_err(|e| ApiError::field("issuer", &e.to_string()))?;
    let text = serde_json::to_string(&settings).map_err(ApiError::internal)?;
    let mut entry = audit_entry(&actor, &meta, "sso.update", "sso", actor.tenant_id);
    entry.before = before.map(|b| b.settings);
    entry.after = Some(text.clone());
    let required = settings.required.then_some(settings.break_glass_account_id);
    state
        .store
        .put_sso_settings(actor.tenant_id, &text, &sealed, required, &entry)
        .await?;
    let now = state.clock.now();
    Ok(AppJson(view(
        &state,
        &headers,
        actor.tenant_id,
        settings,
        now,
    )))
}

/// `DELETE /v1/admin/sso` (owners): password sign-in only again. Linked
/// identities are kept for when it is set up again.
pub async fn delete(
    actor: AdminActor<OwnerRole>,
    State(state): State<AppState>,
    meta: RequestMeta,
) -> ApiResult<NoContent> {
    let entry = audit_entry(&actor, &meta, "sso.delete", "sso", actor.tenant_id);
    if !state
        .store
        .delete_sso_settings(actor.tenant_id, &entry)
        .await?
    {
        return Err(not_set_up());
    }
    Ok(NoContent)
}

/// Refuses a password sign-in to a tenant that requires SSO, but for its
/// break-glass owner.
pub(crate) async fn refuse_password(
    state: &AppState,
    tenant: TenantId,
    account: Option<AccountId>,
) -> ApiResult<()> {
    let Some((settings, _)) = stored(state, tenant).await? else {
        return Ok(());
    };
    if !settings.required || (account.is_some() && account == settings.break_glass_account_id) {
        return Ok(());
    }
    state.metrics.auth_failure("login", "sso_required");
    Err(ApiError::new(
        ErrorCode::SsoRequired,
        format!(
            "this organisation signs in through its identity provider: /v1/auth/sso/{tenant}/start"
        ),
    ))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct StartQuery {
    /// A dashboard path to land on after signing in (default `/app/`).
    return_to: Option<String>,
    /// Passed to the provider to fill in its sign-in form.
    login_hint: Option<String>,
}

/// A dashboard path, and nothing that could leave the dashboard.
fn safe_return(to: Option<&str>) -> ApiResult<String> {
    let Some(to) = to else {
        return Ok("/app/".into());
    };
    let ok = to.len() <= 512
        && to.starts_with("/app/")
        && !to.contains("//")
        && to.chars().all(|c| c.is_ascii_graphic() && c != '\\');
    if ok {
        Ok(to.to_owned())
    } else {
        Err(ApiError::field("return_to", "must be a path under /app/"))
    }
}

fn state_cookie(value: &str, max_age: i64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{STATE_COOKIE}={value}; Path={COOKIE_PATH}; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// `GET /v1/auth/sso/{tenant}/start`: a new sign-in attempt; 303 to the
/// provider. Limited per client IP as logins are (not per tenant: a whole
/// team signs in in the morning).
pub async fn start(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    AppPath(tenant): AppPath<TenantId>,
    AppQuery(q): AppQuery<StartQuery>,
) -> ApiResult<Response> {
    let return_to = safe_return(q.return_to.as_deref())?;
    if let Some(hint) = &q.login_hint {
        if hint.is_empty() || hint.len() > 256 || hint.chars().any(char::is_control) {
            return Err(ApiError::field("login_hint", "must be 1 to 256 characters"));
        }
    }
    let ip = state.client_ip(&headers, Some(peer));
    session::limit_login_ip(&state, ip)?;
    let (settings, _) = load(&state, tenant).await?.ok_or_else(not_set_up)?;
    let base = state.base_url(&headers);
    let auth = relying(&state)
        .authorize(
            &settings,
            &redirect_uri(&base, tenant),
            q.login_hint.as_deref(),
        )
        .await
        .map_err(provider_error)?;
    state
        .store
        .create_sso_flow(&SsoFlow {
            state_hash: KeyHash::of(&auth.state),
            tenant_id: tenant,
            nonce: auth.nonce,
            pkce_verifier_sealed: state.secrets.seal(&auth.pkce_verifier),
            return_to,
            expires_at: state.clock.now().plus_secs(FLOW_TTL_SECS),
        })
        .await?;
    let location = HeaderValue::from_str(&auth.url).map_err(ApiError::internal)?;
    let secure = state.request_is_https(&headers);
    Ok((
        StatusCode::SEE_OTHER,
        [
            (header::LOCATION, location),
            (
                header::SET_COOKIE,
                state_cookie(&auth.state, FLOW_TTL_SECS, secure),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
    )
        .into_response())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    /// The provider's error, instead of a code.
    error: Option<String>,
    error_description: Option<String>,
}

fn failed(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::SsoFailed, message)
}

fn provider_error(e: OidcError) -> ApiError {
    match e {
        OidcError::Unavailable(_) => {
            tracing::warn!(error = %e, "identity provider unavailable");
            ApiError::new(ErrorCode::IdentityProviderUnavailable, e.to_string())
        }
        OidcError::Refused(_) | OidcError::InvalidToken(_) => {
            tracing::warn!(error = %e, "SSO sign-in refused");
            failed(e.to_string())
        }
    }
}

fn bounded(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).take(200).collect()
}

/// `GET /v1/auth/sso/{tenant}/callback`: where the provider sends the browser
/// back. 303 to the dashboard with the session cookie set.
pub async fn callback(
    State(state): State<AppState>,
    meta: RequestMeta,
    headers: HeaderMap,
    AppPath(tenant): AppPath<TenantId>,
    AppQuery(q): AppQuery<CallbackQuery>,
) -> Response {
    let browser = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"));
    let secure = state.request_is_https(&headers);
    let clear = state_cookie("", 0, secure);
    match finish(&state, meta, &headers, tenant, q).await {
        Ok((cookie, to)) => (
            StatusCode::SEE_OTHER,
            AppendHeaders([
                (header::LOCATION, location(&to)),
                (header::SET_COOKIE, cookie),
                (header::SET_COOKIE, clear),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            ]),
        )
            .into_response(),
        Err(e) if browser => {
            let to = format!(
                "/app/?sso_error={}",
                url::form_urlencoded::byte_serialize(e.message.as_bytes()).collect::<String>()
            );
            (
                StatusCode::SEE_OTHER,
                AppendHeaders([
                    (header::LOCATION, location(&to)),
                    (header::SET_COOKIE, clear),
                ]),
            )
                .into_response()
        }
        Err(e) => (AppendHeaders([(header::SET_COOKIE, clear)]), e).into_response(),
    }
}

fn location(to: &str) -> HeaderValue {
    HeaderValue::from_str(to).unwrap_or(HeaderValue::from_static("/app/"))
}

async fn finish(
    state: &AppState,
    meta: RequestMeta,
    headers: &HeaderMap,
    tenant: TenantId,
    q: CallbackQuery,
) -> ApiResult<(HeaderValue, String)> {
    if let Some(error) = &q.error {
        let description = q.error_description.as_deref().unwrap_or("");
        return Err(failed(format!(
            "the identity provider answered {}: {}",
            bounded(error),
            bounded(description)
        )));
    }
    let (Some(code), Some(sent_state)) = (q.code.as_deref(), q.state.as_deref()) else {
        return Err(ApiError::new(
            ErrorCode::BadRequest,
            "the callback needs code and state",
        ));
    };
    if code.is_empty() || code.len() > 2048 || sent_state.is_empty() || sent_state.len() > 256 {
        return Err(ApiError::new(
            ErrorCode::BadRequest,
            "code or state out of bounds",
        ));
    }
    // The attempt must have started in this browser (login CSRF).
    let cookie = session::cookie(headers, &[STATE_COOKIE]);
    let same = cookie.is_some_and(|c| {
        use subtle::ConstantTimeEq;
        bool::from(c.as_bytes().ct_eq(sent_state.as_bytes()))
    });
    if !same {
        state.metrics.auth_failure("sso", "state_cookie");
        return Err(failed(
            "this sign-in was not started in this browser (or its cookie expired); start again",
        ));
    }
    let Some(flow) = state.store.take_sso_flow(&KeyHash::of(sent_state)).await? else {
        state.metrics.auth_failure("sso", "flow");
        return Err(failed(
            "this sign-in attempt was already used or has expired; start again",
        ));
    };
    if flow.tenant_id != tenant {
        return Err(failed("this sign-in attempt belongs to another tenant"));
    }
    let (settings, secret) = load(state, tenant).await?.ok_or_else(not_set_up)?;
    let verifier = state
        .secrets
        .open(&flow.pkce_verifier_sealed)
        .map_err(ApiError::internal)?;
    let base = state.base_url(headers);
    let verified = relying(state)
        .finish(
            &settings,
            &secret,
            &redirect_uri(&base, tenant),
            code,
            verifier,
            &flow.nonce,
        )
        .await
        .map_err(|e| {
            state.metrics.auth_failure("sso", "provider");
            provider_error(e)
        })?;
    let email = verified
        .email
        .as_deref()
        .and_then(|e| Email::parse(e).ok())
        .ok_or_else(|| {
            failed("the provider sent no usable e-mail address (ask for the email scope)")
        })?;
    let groups = settings
        .groups_claim
        .as_deref()
        .map(|claim| oidc::groups(&verified.claims, claim))
        .unwrap_or_default();
    let outcome = state
        .store
        .sso_sign_in(SsoSignIn {
            tenant_id: tenant,
            issuer: &settings.issuer,
            subject: &verified.subject,
            email: &email,
            email_verified: verified.email_verified,
            granted: settings.role_for(groups),
            groups_decide: settings.groups_decide(),
            ip: meta.ip.clone(),
            user_agent: meta.user_agent.clone(),
        })
        .await?;
    let (account_id, email, role) = match outcome {
        SsoOutcome::Member {
            account_id,
            email,
            role,
        } => (account_id, email, role),
        SsoOutcome::NoRole => {
            state.metrics.auth_failure("sso", "no_role");
            return Err(ApiError::forbidden(
                "your identity provider grants you no role in this tenant".to_owned(),
            ));
        }
        SsoOutcome::Removed => {
            state.metrics.auth_failure("sso", "removed");
            return Err(ApiError::forbidden(
                "your identity provider's groups no longer grant you a role here; your membership has ended".to_owned(),
            ));
        }
        SsoOutcome::UnverifiedEmail => {
            state.metrics.auth_failure("sso", "unverified_email");
            return Err(ApiError::new(
                ErrorCode::Conflict,
                "an account with this address exists and the provider does not vouch for the address (email_verified); sign in with the password and ask an owner",
            ));
        }
    };
    let two_factor = state
        .store
        .two_factor(account_id)
        .await?
        .is_some_and(|t| t.confirmed);
    let (token, _) = open_session(
        state,
        meta,
        SignedIn {
            account_id,
            email,
            tenant_id: tenant,
            role,
            two_factor,
            sso: true,
        },
    )
    .await?;
    let secure = state.request_is_https(headers);
    Ok((
        session::set_cookie(&token, state.config.security.session_ttl, secure),
        flow.return_to,
    ))
}
