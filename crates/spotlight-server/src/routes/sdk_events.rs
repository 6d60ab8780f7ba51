//! `POST /v1/sdk/events`: a batch of at most 100 interaction events. Each event
//! is checked against its schema version and what the environment publishes; the
//! valid ones are stored (with their outbox rows) by group commit, and `202`
//! answers only once they are committed. Resent events (same `event_id`) are
//! recognised and not counted twice. `POST /v1/admin/events` takes the same
//! batch from the tenant's backend.

use crate::auth::{AdminActor, AdminRole, SdkClient};
use crate::delivery::{Bundle, TenantView};
use crate::error::{ApiError, AppQuery, ErrorCode};
use crate::ingest::IngestError;
use crate::metrics::{ReasonLabels, ResultLabels};
use crate::routes::sdk::{verify_token, would_refuse_for, TokenCheck};
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use serde_json::{json, Value};
use spotlight_domain::events::{self, Event, ParseContext, Rejection};
use spotlight_domain::{EnvironmentId, ObjectKind, TenantId, ValidationErrors};
use spotlight_store::IngestBatch;
use std::collections::HashSet;
use std::sync::Arc;

/// What became of a batch.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct IngestAnswer {
    /// Events stored by this request.
    pub accepted: usize,
    /// Events already stored before (same `event_id`): not counted again.
    pub duplicates: usize,
    /// Events refused, each with its position and reason.
    pub rejected: Vec<Rejection>,
}

fn reject(
    rejected: &mut Vec<Rejection>,
    index: usize,
    e: &Event,
    code: &'static str,
    message: String,
) {
    rejected.push(Rejection {
        index,
        event_id: Some(e.event_id.to_string()),
        code,
        message,
    });
}

/// A batch as the SDK sends it (for the API document; parsed by hand so each
/// event gets its own verdict).
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
pub struct EventBatch {
    /// 1 to 100 events.
    pub events: Vec<EventDoc>,
    /// The user of events that name none.
    pub user_id: Option<String>,
    /// The account (B2B) of events that name none.
    pub account_id: Option<String>,
}

/// One interaction event, schema version 1.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
pub struct EventDoc {
    /// A UUID; resending an event with the same id stores it once.
    pub event_id: String,
    /// 1.
    pub schema_version: u32,
    /// tour_started, step_viewed, step_completed, tour_completed, tour_dismissed,
    /// content_viewed, content_clicked, content_dismissed, checklist_item_completed,
    /// survey_answered, launcher_opened, experiment_exposed, identify, or a custom name.
    pub name: String,
    /// RFC 3339, or Unix milliseconds; at most 5 minutes ahead, 30 days behind.
    pub timestamp: String,
    /// The user; from the tenant's backend an event may name an account alone.
    pub user_id: Option<String>,
    /// The account (B2B) it is sent for: counted for `account.event("…")`,
    /// "once per account" and the account's analytics.
    pub account_id: Option<String>,
    pub session_id: Option<String>,
    /// Typed per event: tour_id and step, content_id, checklist_id and item_id,
    /// object_id and arm, score | choices | text; identify: attributes; custom: anything (8 KiB).
    #[schema(value_type = Object)]
    pub properties: Option<serde_json::Value>,
}

/// A batch as received: its events, and the user and account of those that name none.
struct Unpacked {
    list: Vec<Value>,
    user: Option<String>,
    account: Option<String>,
}

/// A batch-level id, checked as the events' own are.
fn batch_id(
    m: &mut serde_json::Map<String, Value>,
    field: &str,
    check: fn(&str) -> Result<(), &'static str>,
) -> Result<Option<String>, ApiError> {
    match m.remove(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(u)) => match check(&u) {
            Ok(()) => Ok(Some(u)),
            Err(msg) => Err(ApiError::field(field, msg)),
        },
        Some(_) => Err(ApiError::field(field, "must be a string")),
    }
}

/// The batch: `{"events": [...], "user_id"?, "account_id"?}` or a bare list of events.
fn unpack(body: &[u8]) -> Result<Unpacked, ApiError> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        ApiError::new(
            ErrorCode::InvalidJson,
            format!("the body is not valid JSON: {e}"),
        )
    })?;
    let batch = match value {
        Value::Array(list) => Unpacked {
            list,
            user: None,
            account: None,
        },
        Value::Object(mut m) => {
            const FIELDS: [&str; 3] = ["events", "user_id", "account_id"];
            if let Some(k) = m.keys().find(|k| !FIELDS.contains(&k.as_str())) {
                return Err(ApiError::field(
                    k,
                    "unknown field (a batch has events, user_id and account_id)",
                ));
            }
            let user = batch_id(&mut m, "user_id", spotlight_domain::end_user::check_user_id)?;
            let account = batch_id(
                &mut m,
                "account_id",
                spotlight_domain::end_user::check_account_id,
            )?;
            match m.remove("events") {
                Some(Value::Array(list)) => Unpacked {
                    list,
                    user,
                    account,
                },
                _ => return Err(ApiError::field("events", "must be a list of events")),
            }
        }
        _ => {
            return Err(ApiError::field(
                "events",
                "the body must be {\"events\": [...]} or a list of events",
            ))
        }
    };
    let list = &batch.list;
    if list.is_empty() {
        return Err(ApiError::field("events", "must hold at least one event"));
    }
    if list.len() > events::MAX_BATCH {
        return Err(ApiError::field(
            "events",
            &format!(
                "at most {} events per batch (this one has {})",
                events::MAX_BATCH,
                list.len()
            ),
        ));
    }
    Ok(batch)
}

/// Where a batch goes: a tenant's environment, with the tenant's sinks.
struct Destination<'a> {
    tenant_id: TenantId,
    environment_id: EnvironmentId,
    environment: &'a str,
    tenant: &'a Arc<TenantView>,
}

/// `POST /v1/sdk/events`: unpack → parse → vouch → check references →
/// submit; each event refused on the way is named in the answer.
pub async fn ingest(
    State(state): State<AppState>,
    client: SdkClient,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = body?;
    let batch = unpack(&body)?;
    let token = verify_token(&state, &client, &headers).await?;
    let subject = token.verified.as_ref().map(|v| v.subject.clone());
    // A verified token's account wins over what the events say.
    let claimed = token
        .verified
        .as_ref()
        .map(crate::routes::sdk::claimed_account)
        .transpose()?
        .flatten();
    let mut rejected = Vec::new();
    let cx = ParseContext {
        now_millis: state.clock.now().millis(),
        default_user: batch.user.as_deref().or(subject.as_deref()),
        default_account: batch.account.as_deref(),
        account_only: false,
    };
    let mut parsed = parse(&batch.list, &cx, &mut rejected);
    if let Some(account) = claimed {
        for (_, e) in &mut parsed {
            e.account_id = Some(account.id.clone());
        }
    }
    let vouched = vouch(&state, &token, subject.as_deref(), parsed, &mut rejected);
    let to = Destination {
        tenant_id: client.tenant_id,
        environment_id: client.environment_id,
        environment: &client.environment,
        tenant: &client.tenant,
    };
    store(&state, &to, vouched, rejected).await
}

/// `?environment=` of events sent from the tenant's backend.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct TrackQuery {
    /// Environment name (default production).
    #[param(example = "production")]
    environment: Option<String>,
}

/// `POST /v1/admin/events`: the same batch from the tenant's backend (secret
/// key): unpack → parse → check references → submit. The backend is trusted
/// for the users it names, so no end-user token is asked for.
pub async fn track(
    State(state): State<AppState>,
    actor: AdminActor<AdminRole>,
    AppQuery(q): AppQuery<TrackQuery>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = body?;
    let batch = unpack(&body)?;
    let env_name = q.environment.unwrap_or_else(|| "production".to_owned());
    let env =
        crate::routes::environment_named(&state, actor.tenant_id, &env_name, "environment").await?;
    let tenant = state
        .caches
        .tenant(actor.tenant_id)
        .await?
        .ok_or_else(ApiError::unauthenticated)?;
    let mut rejected = Vec::new();
    let cx = ParseContext {
        now_millis: state.clock.now().millis(),
        default_user: batch.user.as_deref(),
        default_account: batch.account.as_deref(),
        account_only: true,
    };
    let parsed = parse(&batch.list, &cx, &mut rejected);
    let to = Destination {
        tenant_id: actor.tenant_id,
        environment_id: env.id,
        environment: &env.name,
        tenant: &tenant,
    };
    store(&state, &to, parsed, rejected).await
}

/// Checks what the events name and submits those kept: 202 with what became
/// of each, or 422 naming each when every one was refused.
async fn store(
    state: &AppState,
    to: &Destination<'_>,
    parsed: Numbered,
    mut rejected: Vec<Rejection>,
) -> Result<Response, ApiError> {
    let bundle = state.caches.bundle(to.tenant, to.environment_id).await?;
    let kept = check_references(state, to.tenant_id, &bundle, parsed, &mut rejected).await?;
    rejected.sort_by_key(|r| r.index);
    for r in &rejected {
        state
            .metrics
            .events_rejected
            .get_or_create(&ReasonLabels { reason: r.code })
            .inc();
    }
    if kept.is_empty() {
        return Err(all_refused(&rejected));
    }
    let (accepted, duplicates) = submit(state, to, &bundle, kept).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(IngestAnswer {
            accepted,
            duplicates,
            rejected,
        }),
    )
        .into_response())
}

/// Events by their position in the batch.
type Numbered = Vec<(usize, Event)>;

fn parse(list: &[Value], cx: &ParseContext<'_>, rejected: &mut Vec<Rejection>) -> Numbered {
    let mut parsed = Vec::with_capacity(list.len());
    for (i, v) in list.iter().enumerate() {
        match events::parse_event(i, v, cx) {
            Ok(e) => parsed.push((i, e)),
            Err(r) => rejected.push(r),
        }
    }
    parsed
}

/// The config route's rules for whose events these may be: a verified token
/// vouches for its subject (and the anonymous id it replaced); without one,
/// a named user is unverified, and an anonymous one refused where anonymous
/// use is off. Enforced, such events are refused; monitored, counted.
fn vouch(
    state: &AppState,
    token: &TokenCheck,
    subject: Option<&str>,
    parsed: Numbered,
    rejected: &mut Vec<Rejection>,
) -> Numbered {
    use spotlight_domain::settings::VerificationMode;
    let enforcing = token.mode == VerificationMode::Enforce;
    let mut vouched = Vec::with_capacity(parsed.len());
    for (i, e) in parsed {
        let anonymous = e.user_id.starts_with("anon-");
        let problem = match subject {
            Some(s) if s != e.user_id && !anonymous => Some("subject_mismatch"),
            Some(_) => None,
            None if token.mode == VerificationMode::Off => None,
            None if !anonymous => Some("unverified"),
            None if !token.allow_anonymous => Some("anonymous"),
            None => None,
        };
        match problem {
            Some(reason) if enforcing => {
                state.metrics.auth_failure("identity", reason);
                let (code, message) = if reason == "anonymous" {
                    (
                        "anonymous_refused",
                        format!(
                            "anonymous users are refused in this environment ({})",
                            e.user_id
                        ),
                    )
                } else {
                    (
                        "user_mismatch",
                        format!(
                            "the end-user token does not vouch for user {} ({reason})",
                            e.user_id
                        ),
                    )
                };
                reject(rejected, i, &e, code, message);
            }
            Some(reason) => {
                let _ = would_refuse_for(state, token, reason);
                vouched.push((i, e));
            }
            None => vouched.push((i, e)),
        }
    }
    vouched
}

/// The objects events name: published here, or a draft of this tenant
/// being previewed (looked up in the store, once per batch).
async fn check_references(
    state: &AppState,
    tenant: TenantId,
    bundle: &Bundle,
    vouched: Numbered,
    rejected: &mut Vec<Rejection>,
) -> Result<Numbered, ApiError> {
    let mut unknown = Vec::new();
    let mut kept = Vec::with_capacity(vouched.len());
    for (i, e) in vouched {
        match bundle.catalog.check(&e) {
            Ok(true) => kept.push((i, e)),
            Ok(false) => unknown.push((i, e)),
            Err((code, message)) => reject(rejected, i, &e, code, message),
        }
    }
    if unknown.is_empty() {
        return Ok(kept);
    }
    let ids: Vec<String> = unknown
        .iter()
        .filter_map(|(_, e)| e.object_id.clone())
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let found = state.store.existing_objects(tenant, &ids).await?;
    for (i, e) in unknown {
        let id = e.object_id.clone().unwrap_or_default();
        let kind_ok = found.get(&id).is_some_and(|k| match e.object_kind {
            Some(want) => k == want.as_str(),
            None => k == ObjectKind::Tour.as_str() || k == ObjectKind::Content.as_str(),
        });
        if kind_ok {
            kept.push((i, e));
        } else {
            reject(
                rejected,
                i,
                &e,
                "unknown_object",
                format!("no object {id} of the right kind in this tenant"),
            );
        }
    }
    Ok(kept)
}

/// Every event refused: a 400 naming each.
fn all_refused(rejected: &[Rejection]) -> ApiError {
    let mut fields = ValidationErrors::new();
    for r in rejected {
        fields.add(
            format!("events[{}]", r.index),
            format!("{}: {}", r.code, r.message),
        );
    }
    ApiError::new(
        ErrorCode::ValidationFailed,
        format!("every event was refused: {fields}"),
    )
    .with_details(json!({ "fields": fields, "rejected": rejected }))
}

/// Hands the events to the group commit; answers how many were new and how
/// many already stored.
async fn submit(
    state: &AppState,
    to: &Destination<'_>,
    bundle: &Bundle,
    mut kept: Numbered,
) -> Result<(usize, usize), ApiError> {
    kept.sort_by_key(|(i, _)| *i);
    let events: Vec<Event> = kept.into_iter().map(|(_, e)| e).collect();
    let total = events.len();
    let users: HashSet<String> = events
        .iter()
        .map(|e| e.user_id.clone())
        .filter(|u| !u.is_empty())
        .collect();
    let accounts: HashSet<String> = events.iter().filter_map(|e| e.account_id.clone()).collect();
    let batch = IngestBatch::new(
        to.tenant_id,
        to.environment_id,
        to.environment.to_owned(),
        events,
        bundle.catalog.clone(),
        to.tenant.sinks(to.environment_id),
    );
    let stored = state.ingest.submit(batch).await.map_err(|e| match e {
        IngestError::Busy => {
            let mut err = ApiError::unavailable();
            err.retry_after_secs = Some(1);
            err
        }
        IngestError::Store(cause) => {
            tracing::error!(error = %cause, "events not stored");
            ApiError::unavailable()
        }
    })?;
    // This node's view of these users is now behind.
    for u in users {
        state.caches.users.forget(&(to.environment_id, u)).await;
    }
    for a in accounts {
        state.caches.accounts.forget(&(to.environment_id, a)).await;
    }
    let accepted = stored.new.len();
    let duplicates = total - accepted;
    let m = &state.metrics.events_ingested;
    m.get_or_create(&ResultLabels { result: "accepted" })
        .inc_by(accepted as u64);
    m.get_or_create(&ResultLabels {
        result: "duplicate",
    })
    .inc_by(duplicates as u64);
    state.metrics.usage.used(
        to.tenant_id,
        to.environment_id,
        crate::usage::What::Events(accepted as u64),
    );
    Ok((accepted, duplicates))
}
