//! SDK routes (publishable key). CORS here answers only allowed origins: the
//! `SdkClient` extractor refuses any other with 403 before a handler runs, so the
//! `Access-Control-Allow-Origin` echo below only ever accompanies an allowed
//! origin's data. Preflights carry no key, so they are answered generically and
//! cached by the browser.

use crate::auth::SdkClient;
use crate::delivery::{build_bundle, merge_attributes, EtagMemo, Item, ETAG_MEMO_MS};
use crate::error::{ApiError, AppJson, ErrorCode};
use crate::identity::{Refusal, Verified};
use crate::metrics::Metrics;
use crate::state::AppState;
use axum::extract::{FromRequestParts, State};
use axum::http::HeaderMap;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use spotlight_domain::audience::AccountSubject;
use spotlight_domain::delivery::{evaluate_by, Progress as ObjectProgress, Viewer};
use spotlight_domain::page::PageUrl;
use spotlight_domain::settings::{IdentityVerification, VerificationMode};
use spotlight_domain::validation::ValidationErrors;
use spotlight_domain::{EnvironmentId, ObjectKind, TenantId};
use spotlight_store::{AccountState, ProfileWrite, UserState};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use tracing::Instrument;

/// Every SDK route answers `OPTIONS` (a CORS preflight) with this. A
/// preflight carries no header values, so the publishable key comes in the
/// query (`?key=`, as the SDK sends it) and the origin is granted only when it
/// is allowed for the key's tenant; without a key, only an origin the operator
/// allows for every tenant. A refused preflight gets the refusal and no
/// `Access-Control-Allow-Origin`, so the browser sends nothing.
pub async fn preflight(State(state): State<AppState>, request: axum::extract::Request) -> Response {
    let (mut parts, _) = request.into_parts();
    if let Some(origin) = parts.headers.get(header::ORIGIN) {
        let has_key = parts
            .uri
            .query()
            .is_some_and(|q| url::form_urlencoded::parse(q.as_bytes()).any(|(k, _)| k == "key"));
        if has_key {
            if let Err(e) = SdkClient::from_request_parts(&mut parts, &state).await {
                return e.into_response();
            }
        } else if !origin
            .to_str()
            .is_ok_and(|o| crate::auth::sdk::origin_allowed(&state, &[], o))
        {
            state.metrics.auth_failure("sdk", "origin");
            return ApiError::new(
                ErrorCode::OriginNotAllowed,
                "this origin is not allowed: a cross-origin caller sends its publishable key in the query (?key=) so that its preflight can be checked",
            )
            .into_response();
        } else {
            crate::middleware::CorsGrant::grant(&parts.extensions);
        }
    }
    let mut r = StatusCode::NO_CONTENT.into_response();
    let h = r.headers_mut();
    h.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, POST"),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static(
            "x-spotlight-key, authorization, content-type, if-none-match, x-request-id",
        ),
    );
    h.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("7200"),
    );
    r
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Ping {
    ok: bool,
    environment: String,
}

/// Installation check: is this key valid from this origin, and for which environment?
pub async fn ping(client: SdkClient) -> AppJson<Ping> {
    AppJson(Ping {
        ok: true,
        environment: client.environment,
    })
}

/// `GET /v1/sdk/config` query.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ConfigQuery {
    /// The end user's id; omit for a new anonymous user (the answer names the
    /// id to keep). Ignored in favour of a verified token's subject.
    pub user_id: Option<String>,
    /// The page's URL (absolute, or a path starting with /).
    pub url: Option<String>,
    /// Language tag (fr, pt-BR); variants fall back to the language, then the default text.
    pub locale: Option<String>,
    /// End-user attributes as a JSON object (at most 16 KiB, 100 names).
    pub attributes: Option<String>,
    /// The SDK's session id (for "every session" frequencies).
    pub session_id: Option<String>,
    /// In-app admins: evaluate drafts instead of published versions.
    pub preview: Option<bool>,
    /// The user's active account (B2B: their company), for `account.…` rules.
    pub account_id: Option<String>,
    /// The account's attributes as a JSON object (merged into the stored ones).
    pub account_attributes: Option<String>,
}

const MAX_URL: usize = 2048;
const MAX_ATTRIBUTES_BYTES: usize = 16 * 1024;
/// How long (10 s) a browser may reuse a config without asking (it revalidates by ETag after).
const CONFIG_CACHE_CONTROL: &str = "private, max-age=10";

pub struct Checked {
    pub user_id: Option<String>,
    pub page: PageUrl,
    pub locale: Option<String>,
    pub attributes: Option<Map<String, Value>>,
    pub session_id: Option<String>,
    pub preview: bool,
    pub account_id: Option<String>,
    pub account_attributes: Option<Map<String, Value>>,
}

pub use spotlight_domain::end_user::check_user_id;

fn check_attributes(text: &str) -> Result<Map<String, Value>, &'static str> {
    if text.len() > MAX_ATTRIBUTES_BYTES {
        return Err("must be at most 16384 bytes of JSON");
    }
    let Ok(Value::Object(map)) = serde_json::from_str::<Value>(text) else {
        return Err("must be a JSON object");
    };
    spotlight_domain::end_user::check_attributes(&map)?;
    Ok(map)
}

impl ConfigQuery {
    pub fn check(self) -> Result<Checked, ApiError> {
        let mut errors = ValidationErrors::new();
        if let Some(u) = &self.user_id {
            if let Err(m) = check_user_id(u) {
                errors.add("user_id", m);
            }
        }
        let url = self.url.as_deref().unwrap_or("/");
        let page = if url.len() > MAX_URL || url.chars().any(char::is_control) {
            None
        } else if url.starts_with('/') {
            PageUrl::parse(url)
        } else {
            url::Url::parse(url)
                .ok()
                .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
                .map(|u| PageUrl::from_url(&u))
        };
        if page.is_none() {
            errors.add(
                "url",
                "must be the page's absolute http(s) URL or a path starting with /, at most 2048 characters",
            );
        }
        if let Some(l) = &self.locale {
            if l.len() > 35 || !spotlight_domain::tour::valid_locale(l) {
                errors.add("locale", "must be a language tag like en, fr or pt-BR");
            }
        }
        let attributes = match self.attributes.as_deref().map(check_attributes) {
            Some(Ok(m)) => Some(m),
            Some(Err(m)) => {
                errors.add("attributes", m);
                None
            }
            None => None,
        };
        if let Some(s) = &self.session_id {
            if s.is_empty() || s.len() > 100 || s.chars().any(char::is_control) {
                errors.add("session_id", "must be 1 to 100 printable characters");
            }
        }
        if let Some(a) = &self.account_id {
            if let Err(m) = spotlight_domain::end_user::check_account_id(a) {
                errors.add("account_id", m);
            }
        }
        let account_attributes = match self.account_attributes.as_deref().map(check_attributes) {
            Some(Ok(m)) => Some(m),
            Some(Err(m)) => {
                errors.add("account_attributes", m);
                None
            }
            None => None,
        };
        if account_attributes.is_some() && self.account_id.is_none() {
            errors.add("account_attributes", "name the account with account_id");
        }
        errors.into_result().map_err(ApiError::validation)?;
        let Some(page) = page else {
            return Err(ApiError::internal("a page URL passed its check unparsed"));
        };
        Ok(Checked {
            user_id: self.user_id,
            page,
            locale: self.locale,
            attributes,
            session_id: self.session_id,
            preview: self.preview.unwrap_or(false),
            account_id: self.account_id,
            account_attributes,
        })
    }
}

/// Who the end user is, after identity verification.
struct EndUser {
    id: String,
    anonymous: bool,
    verified: Option<Verified>,
}

/// One request's identity check: where monitor-mode figures go, and whether
/// this request was already counted as one enforcing would refuse.
pub(crate) struct Monitored {
    tenant: TenantId,
    env: EnvironmentId,
    refused: std::sync::atomic::AtomicBool,
}

fn would_refuse(
    state: &AppState,
    monitored: &Monitored,
    mode: VerificationMode,
    reason: &'static str,
) -> Result<(), ApiError> {
    match mode {
        VerificationMode::Monitor => {
            let m = &state.monitor;
            m.count(monitored.tenant, monitored.env, reason);
            // A request may fail several checks; it is one refusal.
            if !monitored
                .refused
                .swap(true, std::sync::atomic::Ordering::Relaxed)
            {
                m.count(monitored.tenant, monitored.env, "would_refuse");
            }
            state
                .metrics
                .identity_monitor
                .get_or_create(&crate::metrics::ReasonLabels { reason })
                .inc();
            tracing::info!(reason, "identity verification (monitor) would refuse");
            Ok(())
        }
        _ => {
            state.metrics.auth_failure("identity", reason);
            tracing::info!(reason, "identity verification refused");
            Err(ApiError::unauthenticated())
        }
    }
}

/// The end user's token, checked by the environment's verification settings.
pub(crate) struct TokenCheck {
    pub monitored: Monitored,
    pub verified: Option<Verified>,
    pub mode: VerificationMode,
    pub allow_anonymous: bool,
}

pub(crate) async fn verify_token(
    state: &AppState,
    client: &SdkClient,
    headers: &HeaderMap,
) -> Result<TokenCheck, ApiError> {
    static OFF: std::sync::OnceLock<IdentityVerification> = std::sync::OnceLock::new();
    let iv = client
        .tenant
        .settings
        .identity_verification
        .get(&client.environment)
        .unwrap_or_else(|| OFF.get_or_init(IdentityVerification::default));
    let verifier = client.tenant.verifiers.get(&client.environment);
    let scope = Monitored {
        tenant: client.tenant_id,
        env: client.environment_id,
        refused: Default::default(),
    };
    if iv.mode == VerificationMode::Monitor {
        state.monitor.count(scope.tenant, scope.env, "checked");
    }
    let mut verified = None;
    let token = match crate::auth::bearer(headers) {
        Some(Ok(t)) => Some(t),
        Some(Err(())) => {
            would_refuse(state, &scope, iv.mode, "malformed")?;
            None
        }
        None => None,
    };
    match (token, verifier.filter(|v| v.is_configured())) {
        (Some(token), Some(verifier)) => {
            let verifying = tracing::info_span!("identity.verify", tenant_id = %client.tenant_id);
            let checked = state
                .identity
                .verify(iv, verifier, token)
                .instrument(verifying)
                .await;
            match checked {
                Ok(v) => verified = Some(v),
                Err(Refusal::KeysUnavailable) => {
                    if iv.mode == VerificationMode::Monitor {
                        would_refuse(state, &scope, iv.mode, "keys_unavailable")?;
                    } else {
                        tracing::warn!("cannot verify end-user tokens: JWKS unavailable");
                        return Err(ApiError::unavailable());
                    }
                }
                Err(Refusal::Invalid(reason)) => would_refuse(state, &scope, iv.mode, reason)?,
            }
        }
        (Some(_), None) => {
            tracing::debug!("end-user token sent, but no verification is configured");
        }
        _ => {}
    }
    Ok(TokenCheck {
        monitored: scope,
        verified,
        mode: iv.mode,
        allow_anonymous: iv.allow_anonymous,
    })
}

pub(crate) fn would_refuse_for(
    state: &AppState,
    check: &TokenCheck,
    reason: &'static str,
) -> Result<(), ApiError> {
    would_refuse(state, &check.monitored, check.mode, reason)
}

async fn identify(
    state: &AppState,
    client: &SdkClient,
    headers: &HeaderMap,
    user_id: Option<String>,
) -> Result<EndUser, ApiError> {
    let check = verify_token(state, client, headers).await?;
    let iv_mode = check.mode;
    let scope = &check.monitored;
    if let Some(v) = check.verified {
        if user_id.as_ref().is_some_and(|u| *u != v.subject) {
            would_refuse(state, scope, iv_mode, "subject_mismatch")?;
            // Monitor mode: the token does not vouch for this id.
        } else {
            return Ok(EndUser {
                id: v.subject.clone(),
                anonymous: false,
                verified: Some(v),
            });
        }
    }
    let enforcing = iv_mode != VerificationMode::Off;
    match user_id {
        Some(id) if !id.starts_with("anon-") => {
            if enforcing {
                would_refuse(state, scope, iv_mode, "unverified")?;
            }
            Ok(EndUser {
                id,
                anonymous: false,
                verified: None,
            })
        }
        id => {
            if enforcing && !check.allow_anonymous {
                would_refuse(state, scope, iv_mode, "anonymous")?;
            }
            Ok(EndUser {
                id: id.unwrap_or_else(|| format!("anon-{}", uuid::Uuid::new_v4())),
                anonymous: true,
                verified: None,
            })
        }
    }
}

/// One delivered document.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = SdkItem)]
pub struct DeliveredItem<'a> {
    id: &'a str,
    version: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    arm: Option<&'a str>,
    /// Present and true for a tour under way (or an announcement shown this session)
    /// that may stay on screen here but must not start afresh (its frequency).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    resume_only: bool,
    /// The published document in the requested locale, without its targeting rules.
    #[schema(value_type = Object)]
    document: &'a RawValue,
}

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = SdkProgress)]
pub struct ProgressView<'a> {
    times_shown: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_shown_at: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    step_reached: Option<usize>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    #[schema(value_type = Vec<String>)]
    items_completed: &'a [String],
    completed: bool,
    dismissed: bool,
}

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = SdkAssignment)]
pub struct Assignment<'a> {
    object_id: &'a str,
    arm: &'a str,
    holdout: bool,
    goal_event: &'a str,
}

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = SdkUser)]
pub struct UserView<'a> {
    /// The id to use from now on (generated `anon-<uuid>` when none was sent).
    id: &'a str,
    anonymous: bool,
    verified: bool,
    is_admin: bool,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SdkSettings {
    events_url: &'static str,
    refresh_seconds: u32,
}

/// The answer of `GET /v1/sdk/config`, borrowed from the cached bundle.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = SdkConfig)]
pub struct ConfigBody<'a> {
    /// False when the tenant's kill switch is on: show nothing, remove what is shown.
    enabled: bool,
    environment: &'a str,
    user: UserView<'a>,
    /// Drafts, for an in-app admin who asked with `preview=true`.
    preview: bool,
    tours: Vec<DeliveredItem<'a>>,
    content: Vec<DeliveredItem<'a>>,
    checklists: Vec<DeliveredItem<'a>>,
    launchers: Vec<DeliveredItem<'a>>,
    /// Themes the delivered items use, by id.
    #[schema(value_type = HashMap<String, Object>)]
    themes: BTreeMap<&'a str, &'a RawValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    default_theme_id: Option<&'a str>,
    /// The user's progress, by object id.
    progress: BTreeMap<&'a str, ProgressView<'a>>,
    /// Experiment arms this user is in (hold-out arms included: report their exposure).
    experiments: Vec<Assignment<'a>>,
    settings: SdkSettings,
}

impl<'a> ConfigBody<'a> {
    /// An answer with nothing to show.
    fn empty(environment: &'a str, user: UserView<'a>, preview: bool) -> ConfigBody<'a> {
        ConfigBody {
            enabled: true,
            environment,
            user,
            preview,
            tours: vec![],
            content: vec![],
            checklists: vec![],
            launchers: vec![],
            themes: BTreeMap::new(),
            default_theme_id: None,
            progress: BTreeMap::new(),
            experiments: vec![],
            settings: SdkSettings {
                events_url: "/v1/sdk/events",
                refresh_seconds: 300,
            },
        }
    }

    fn into_response(self, etag: &str) -> Result<Response, ApiError> {
        // Sized up front: the documents are most of the answer.
        let items = [
            &self.tours,
            &self.content,
            &self.checklists,
            &self.launchers,
        ];
        let estimate = 2048
            + items
                .iter()
                .flat_map(|list| list.iter())
                .map(|i| i.document.get().len() + 96)
                .sum::<usize>()
            + self.themes.values().map(|t| t.get().len()).sum::<usize>();
        let mut bytes = Vec::with_capacity(estimate);
        serde_json::to_writer(&mut bytes, &self).map_err(ApiError::internal)?;
        let json = HeaderValue::from_static("application/json");
        let mut resp = ([(header::CONTENT_TYPE, json)], bytes).into_response();
        cache_headers(&mut resp, etag);
        Ok(resp)
    }
}

impl<'a> UserView<'a> {
    fn of(user: &'a EndUser, is_admin: bool) -> UserView<'a> {
        UserView {
            id: &user.id,
            anonymous: user.anonymous,
            verified: user.verified.is_some(),
            is_admin,
        }
    }
}

impl<'a> ProgressView<'a> {
    fn of(p: &'a ObjectProgress) -> ProgressView<'a> {
        ProgressView {
            times_shown: p.times_shown,
            last_shown_at: p.last_shown_millis,
            step_reached: p.step_reached,
            items_completed: &p.items_completed,
            completed: p.completed,
            dismissed: p.dismissed,
        }
    }
}

/// Does `If-None-Match` name this entity tag (or `*`)?
fn etag_matches(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .any(|t| t == "*" || t.trim_start_matches("W/") == etag)
}

fn cache_headers(resp: &mut Response, etag: &str) {
    let h = resp.headers_mut();
    // Room for these, CORS, the request id and the security headers, at once.
    h.reserve(16);
    if let Ok(v) = HeaderValue::from_str(etag) {
        h.insert(header::ETAG, v);
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(CONFIG_CACHE_CONTROL),
    );
    h.append(
        header::VARY,
        HeaderValue::from_static("Authorization, X-Spotlight-Key"),
    );
}

/// What this end user should see on this page. See SPEC "HTTP surface".
pub async fn config(
    State(state): State<AppState>,
    client: SdkClient,
    request: axum::extract::Request,
) -> Result<Response, ApiError> {
    // Borrowed from the request (extracting them would copy them).
    let (headers, uri) = (request.headers(), request.uri());
    let now = state.clock.now().millis();
    let usage = crate::usage::What::ConfigRequest;
    let metrics = &state.metrics;
    metrics
        .usage
        .used(client.tenant_id, client.environment_id, usage);
    let memo_key = memo_key(&state, &client, uri.query(), headers);
    if let Some(resp) = revalidate(&state, &client, headers, memo_key, now).await? {
        return Ok(resp);
    }
    crate::error::refuse_nul_in_query(uri.query())?;
    let q = axum::extract::Query::<ConfigQuery>::try_from_uri(uri)?
        .0
        .check()?;
    let generated_id = q.user_id.is_none();
    let user = identify(&state, &client, headers, q.user_id.clone()).await?;
    let mut stamp = Stamp::of_user(&client, &user);
    if client.tenant.settings.kill_switch {
        return Ok(switched_off(&state, &client, &user, stamp, headers));
    }

    let is_admin = is_admin(&client, &user);
    let preview = q.preview && is_admin;
    let bundle = if preview {
        let rows = state.store.draft_bundle(client.tenant_id).await?;
        Arc::new(build_bundle(&rows, &client.tenant.settings))
    } else {
        let env = client.environment_id;
        state.caches.bundle(&client.tenant, env).await?
    };
    let generation = state.caches.generations.tenant(client.tenant_id);
    let stored = if user.anonymous && generated_id {
        Arc::new(UserState::default())
    } else {
        let (tenant, env) = (client.tenant_id, client.environment_id);
        state
            .caches
            .user_at(tenant, env, &user.id, generation)
            .await?
    };
    let claimed = user
        .verified
        .as_ref()
        .map(claimed_account)
        .transpose()?
        .flatten();
    let account = match named_account(&q, claimed) {
        Some((id, attributes)) => {
            let (tenant, env) = (client.tenant_id, client.environment_id);
            let stored = state
                .caches
                .account_at(tenant, env, &id, generation)
                .await?;
            let merged = attributes.map(|a| {
                let mut merged = stored.attributes.clone();
                merged.extend(a);
                merged
            });
            Some(NamedAccount { id, stored, merged })
        }
        None => None,
    };
    let seen = Seen {
        stored: &stored,
        generation,
        account: account.as_ref(),
    };
    let attributes = observe(&state, &client, &user, seen, &q, preview, now).await;

    let empty = HashMap::new();
    let viewer = Viewer {
        attributes: attributes.as_ref().unwrap_or(&stored.attributes),
        event_counts: &stored.event_counts,
        progress: if preview { &empty } else { &stored.progress },
        page: Some(&q.page),
        locale: q.locale.as_deref(),
        session_id: q.session_id.as_deref(),
        now_millis: now,
        // An account never described (by the backend or an SDK) matches no account rule.
        account: account
            .as_ref()
            .filter(|a| a.stored.known || a.merged.is_some())
            .map(|a| AccountSubject {
                attributes: a.merged.as_ref().unwrap_or(&a.stored.attributes),
                event_counts: &a.stored.event_counts,
                shown: &a.stored.shown,
            }),
    };
    let matched = evaluate_by(&bundle.items, |i| &i.prepared, &bundle.audiences, &viewer);
    stamp.answer(&bundle.stamp, q.locale.as_deref(), is_admin, preview);
    let (shown, experiments) = assign_arms(matched, &user.id, &mut stamp);
    let progress = if preview {
        BTreeMap::new()
    } else {
        progress_of(&bundle.items, &stored)
    };
    stamp.progress(&progress);
    let etag = stamp.etag();
    // Only clients that revalidate come back with the same question.
    if !generated_id && !preview && headers.contains_key(header::IF_NONE_MATCH) {
        remember(&state, &client, memo_key, &etag, &user, seen, now);
    }
    if etag_matches(headers, &etag) {
        Metrics::count(&metrics.sdk_config_served, "not_modified");
        return Ok(not_modified(&etag));
    }

    let settings = &client.tenant.settings;
    let mut body = ConfigBody {
        default_theme_id: settings.default_theme_id.as_deref(),
        progress: progress
            .iter()
            .map(|(id, p)| (*id, ProgressView::of(p)))
            .collect(),
        experiments,
        ..ConfigBody::empty(&client.environment, UserView::of(&user, is_admin), preview)
    };
    let theme_ids = shown
        .iter()
        .filter_map(|(i, _)| i.prepared.theme_id())
        .chain(settings.default_theme_id.as_deref());
    for id in theme_ids {
        if let Some((k, v)) = bundle.themes.get_key_value(id) {
            body.themes.insert(k.as_str(), v);
        }
    }
    for (item, arm) in shown {
        let delivered = DeliveredItem {
            id: &item.prepared.id,
            version: item.prepared.version,
            arm,
            resume_only: item.prepared.resume_only(&viewer),
            document: item.render(q.locale.as_deref()),
        };
        match item.kind {
            ObjectKind::Tour => body.tours.push(delivered),
            ObjectKind::Content => body.content.push(delivered),
            ObjectKind::Checklist => body.checklists.push(delivered),
            ObjectKind::Launcher => body.launchers.push(delivered),
            _ => {}
        }
    }
    Metrics::count(&metrics.sdk_config_served, "full");
    body.into_response(&etag)
}

/// What an answer's ETag covers: the environment, the user, the bundle, the
/// locale, the admin flags, the arms and the progress.
struct Stamp(Sha256);

impl Stamp {
    fn of_user(client: &SdkClient, user: &EndUser) -> Stamp {
        let mut h = Sha256::new();
        h.update(client.environment_id.to_string());
        h.update([0]);
        h.update(&user.id);
        h.update([
            0,
            u8::from(user.anonymous),
            u8::from(user.verified.is_some()),
        ]);
        Stamp(h)
    }

    fn answer(&mut self, bundle: &[u8; 32], locale: Option<&str>, is_admin: bool, preview: bool) {
        self.0.update(bundle);
        self.0.update(locale.unwrap_or("").as_bytes());
        self.0.update([0, u8::from(is_admin), u8::from(preview)]);
    }

    fn item(&mut self, id: &str, arm: Option<&str>) {
        self.0.update(id.as_bytes());
        self.0.update(arm.unwrap_or("").as_bytes());
    }

    fn progress(&mut self, progress: &BTreeMap<&str, &ObjectProgress>) {
        for (id, p) in progress {
            self.0.update(id.as_bytes());
            self.0.update(p.times_shown.to_be_bytes());
            self.0
                .update(p.last_shown_millis.unwrap_or(0).to_be_bytes());
            self.0
                .update(p.step_reached.unwrap_or(usize::MAX).to_be_bytes());
            self.0
                .update([u8::from(p.completed), u8::from(p.dismissed)]);
            for i in &p.items_completed {
                self.0.update(i.as_bytes());
            }
        }
    }

    fn etag(self) -> String {
        format!("\"{}\"", hex::encode(&self.0.finalize()[..16]))
    }
}

fn not_modified(etag: &str) -> Response {
    let mut resp = StatusCode::NOT_MODIFIED.into_response();
    cache_headers(&mut resp, etag);
    resp
}

/// The tenant's kill switch is on: nothing to show, and the SDK removes what it shows.
fn switched_off(
    state: &AppState,
    client: &SdkClient,
    user: &EndUser,
    stamp: Stamp,
    headers: &HeaderMap,
) -> Response {
    Metrics::count(&state.metrics.sdk_config_served, "disabled");
    let etag = format!("\"off-{}\"", hex::encode(&stamp.0.finalize()[..12]));
    if etag_matches(headers, &etag) {
        return not_modified(&etag);
    }
    let body = ConfigBody {
        enabled: false,
        ..ConfigBody::empty(&client.environment, UserView::of(user, false), false)
    };
    let mut resp = AppJson(body).into_response();
    cache_headers(&mut resp, &etag);
    resp
}

/// With verification configured, only a verified user can be an admin.
fn is_admin(client: &SdkClient, user: &EndUser) -> bool {
    let verification_on = client
        .tenant
        .verifiers
        .get(&client.environment)
        .is_some_and(|v| v.is_configured());
    let claims = user.verified.as_ref().map(|v| &v.claims);
    (!verification_on || user.verified.is_some())
        && !user.anonymous
        && client
            .tenant
            .settings
            .admin_detection
            .is_admin(&user.id, claims)
}

/// The user's attributes for this answer — stored, then the SDK's, then
/// verified claims (which win); `None`: the stored ones, unchanged — and what
/// this sight of the user changes: the profile (written behind) and the
/// cached state.
async fn observe(
    state: &AppState,
    client: &SdkClient,
    user: &EndUser,
    seen: Seen<'_>,
    q: &Checked,
    preview: bool,
    now: i64,
) -> Option<Map<String, Value>> {
    let (stored, account) = (seen.stored, seen.account);
    let iv = client
        .tenant
        .settings
        .identity_verification
        .get(&client.environment);
    let claims = user.verified.as_ref().map(|v| &v.claims);
    let claim_attrs: Vec<(String, Value)> = match (iv, claims) {
        (Some(iv), Some(c)) => iv
            .attribute_claims
            .iter()
            .filter_map(|k| c.get(k).map(|v| (k.clone(), v.clone())))
            .collect(),
        _ => vec![],
    };
    let attributes = if q.attributes.is_none() && claim_attrs.is_empty() {
        None
    } else {
        Some(merge_attributes(
            &stored.attributes,
            q.attributes.as_ref(),
            &claim_attrs,
        ))
    };
    let attrs = attributes.as_ref().unwrap_or(&stored.attributes);
    let verified = user.verified.is_some();
    // A new account, or new attributes of one, are written at once too.
    let account_changed = account.is_some_and(|a| {
        !a.stored.known || a.merged.as_ref().is_some_and(|m| *m != a.stored.attributes)
    });
    let changed = !stored.known
        || attributes.as_ref().is_some_and(|a| *a != stored.attributes)
        || stored.verified != verified
        || account_changed;
    let (tenant, environment) = (client.tenant_id, client.environment_id);
    state.profiles.saw(
        environment,
        &user.id,
        now,
        changed,
        stored.last_seen_millis,
        || {
            Some(ProfileWrite {
                tenant,
                environment,
                user_id: user.id.clone(),
                attributes: serde_json::to_string(attrs).ok()?,
                verified,
                seen_at: spotlight_domain::Timestamp(now),
                account: account.map(|a| {
                    let merged = a.merged.as_ref();
                    (
                        a.id.clone(),
                        merged.and_then(|m| serde_json::to_string(m).ok()),
                    )
                }),
            })
        },
    );
    if changed && !preview {
        let mut next = (**stored).clone();
        next.known = true;
        next.attributes = attrs.clone();
        next.verified = verified;
        next.last_seen_millis = now;
        let key = (environment, user.id.clone());
        state.caches.users.put(key, seen.generation, next).await;
    }
    attributes
}

/// The user's state as this request loaded it, the tenant's generation then,
/// and the account the request named.
#[derive(Clone, Copy)]
struct Seen<'a> {
    stored: &'a Arc<UserState>,
    generation: u64,
    account: Option<&'a NamedAccount>,
}

/// The account a config request named: as stored, and with the request's
/// attributes merged in (`None`: it sent none).
struct NamedAccount {
    id: String,
    stored: Arc<AccountState>,
    merged: Option<Map<String, Value>>,
}

/// The account a verified token vouches for: its `account_id` claim, with
/// the attributes of its `account_attributes` claim.
pub(crate) struct ClaimedAccount {
    pub id: String,
    pub attributes: Map<String, Value>,
}

/// The token's account claims (`None`: it carries no `account_id`); claims
/// that are not what they must be are refused, as a bad request would be.
pub(crate) fn claimed_account(v: &Verified) -> Result<Option<ClaimedAccount>, ApiError> {
    let id = match v.claims.get("account_id") {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(id)) => id,
        Some(_) => return Err(ApiError::field("token.account_id", "must be a string")),
    };
    if let Err(m) = spotlight_domain::end_user::check_account_id(id) {
        return Err(ApiError::field("token.account_id", m));
    }
    let attributes = match v.claims.get("account_attributes") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => {
            if let Err(msg) = spotlight_domain::end_user::check_attributes(m) {
                return Err(ApiError::field("token.account_attributes", msg));
            }
            m.clone()
        }
        Some(_) => {
            return Err(ApiError::field(
                "token.account_attributes",
                "must be an object",
            ))
        }
    };
    Ok(Some(ClaimedAccount {
        id: id.clone(),
        attributes,
    }))
}

/// The account this request is for, and the attributes it sends of it (in
/// order of precedence: the request's, then the token's, which win). A
/// verified token's account wins over the one the request names, whose
/// attributes then describe another account and are set aside.
fn named_account(
    q: &Checked,
    claimed: Option<ClaimedAccount>,
) -> Option<(String, Option<Map<String, Value>>)> {
    match claimed {
        None => q
            .account_id
            .clone()
            .map(|id| (id, q.account_attributes.clone())),
        Some(c) => {
            let mut attributes = match &q.account_id {
                Some(id) if *id == c.id => q.account_attributes.clone().unwrap_or_default(),
                _ => Map::new(),
            };
            attributes.extend(c.attributes);
            let sent = !attributes.is_empty();
            Some((c.id, sent.then_some(attributes)))
        }
    }
}

/// The matched items this user is shown, each with its arm (hold-out arms
/// shown nothing), and every arm the user is in (hold-outs included: their
/// exposure is reported).
fn assign_arms<'a>(
    matched: Vec<&'a Item>,
    user_id: &str,
    stamp: &mut Stamp,
) -> (Vec<(&'a Item, Option<&'a str>)>, Vec<Assignment<'a>>) {
    let mut shown = Vec::with_capacity(matched.len());
    let mut experiments = Vec::new();
    for item in matched {
        let p = &item.prepared;
        let arm = p.experiment().and_then(|x| {
            let arm = x.assign(&p.id, user_id)?;
            experiments.push(Assignment {
                object_id: &p.id,
                arm: &arm.name,
                holdout: arm.holdout,
                goal_event: &x.goal_event,
            });
            Some(arm)
        });
        stamp.item(&p.id, arm.map(|a| a.name.as_str()));
        if arm.is_some_and(|a| a.holdout) {
            continue;
        }
        shown.push((item, arm.map(|a| a.name.as_str())));
    }
    (shown, experiments)
}

/// The user's progress on the bundle's items, by object id.
fn progress_of<'a>(
    items: &'a [Item],
    stored: &'a UserState,
) -> BTreeMap<&'a str, &'a ObjectProgress> {
    items
        .iter()
        .filter_map(|item| {
            let id = item.prepared.id.as_str();
            stored.progress.get(id).map(|p| (id, p))
        })
        .collect()
}

fn memo_key(state: &AppState, client: &SdkClient, query: Option<&str>, headers: &HeaderMap) -> u64 {
    use std::hash::BuildHasher;
    state.caches.answer_seed.hash_one((
        client.environment_id,
        query,
        headers
            .get(header::AUTHORIZATION)
            .map(HeaderValue::as_bytes),
    ))
}

/// A revalidation of an answer this node gave moments ago, with nothing it
/// depended on changed since: 304 without evaluating again.
async fn revalidate(
    state: &AppState,
    client: &SdkClient,
    headers: &HeaderMap,
    key: u64,
    now: i64,
) -> Result<Option<Response>, ApiError> {
    if !headers.contains_key(header::IF_NONE_MATCH) {
        return Ok(None);
    }
    let Some(memo) = state.caches.answers.get(&key) else {
        return Ok(None);
    };
    if now >= memo.valid_until
        || memo.generation != client.generation
        || memo.generation != state.caches.generations.tenant(client.tenant_id)
        || !etag_matches(headers, &memo.etag)
    {
        return Ok(None);
    }
    let current = state
        .caches
        .user(client.tenant_id, client.environment_id, &memo.user_id)
        .await?;
    if !Arc::ptr_eq(&current, &memo.user) {
        return Ok(None);
    }
    if let Some((id, account)) = &memo.account {
        let (tenant, env) = (client.tenant_id, client.environment_id);
        let current = state
            .caches
            .account_at(tenant, env, id, memo.generation)
            .await?;
        if !Arc::ptr_eq(&current, account) {
            return Ok(None);
        }
    }
    Metrics::count(&state.metrics.sdk_config_served, "not_modified");
    let mut resp = StatusCode::NOT_MODIFIED.into_response();
    cache_headers(&mut resp, &memo.etag);
    Ok(Some(resp))
}

fn remember(
    state: &AppState,
    client: &SdkClient,
    key: u64,
    etag: &str,
    user: &EndUser,
    seen: Seen<'_>,
    now: i64,
) {
    // Only an answer computed entirely under the generation the request began with.
    if state.caches.generations.tenant(client.tenant_id) != client.generation {
        return;
    }
    let token_exp = user
        .verified
        .as_ref()
        .and_then(|v| v.claims.get("exp"))
        .and_then(Value::as_i64)
        .map_or(i64::MAX, |s| s.saturating_mul(1000));
    state.caches.answers.insert(
        key,
        Arc::new(EtagMemo {
            etag: etag.to_owned(),
            generation: client.generation,
            user_id: user.id.clone(),
            user: seen.stored.clone(),
            account: seen.account.map(|a| (a.id.clone(), a.stored.clone())),
            valid_until: (now + ETAG_MEMO_MS).min(token_exp),
        }),
    );
}
