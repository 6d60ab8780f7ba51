//! `/v1/admin/webhooks` (endpoints: create, update, delete, event filters,
//! secret shown once, rotate, test-send, delivery log) and
//! `/v1/admin/dead-letters` (list, inspect, replay, discard). Reading needs the
//! `viewer` role, changing needs `admin`. Secrets are sealed with the master key.

use crate::auth::{AdminActor, AdminRole, RequestMeta, ViewerRole};
use crate::error::{ApiError, ApiResult, AppJson, AppPath, AppQuery, OptionalJson};
use crate::openapi::{Created, NoContent};
use crate::routes::audit_entry;
use crate::routes::{Page, PageQuery};
use crate::state::AppState;
use axum::extract::State;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use spotlight_domain::{Timestamp, ValidationErrors, WebhookId};
use spotlight_store::{OutboxRecord, WebhookRecord, WebhookWrite};

const MAX_FILTERS: usize = 50;
/// How long a rotated-out secret keeps signing (receivers update meanwhile).
const ROTATION_OVERLAP_SECS: i64 = 24 * 3600;
/// The delivery log goes back this far.
const LOG_DAYS: i64 = 30;

#[derive(Serialize, utoipa::ToSchema)]
pub struct WebhookView {
    id: String,
    environment: String,
    url: String,
    description: String,
    /// Event names delivered; empty: every event.
    events: Vec<String>,
    enabled: bool,
    /// Until when the previous secret also signs (after a rotation).
    previous_secret_valid_until: Option<Timestamp>,
    created_at: Timestamp,
    updated_at: Timestamp,
}

impl WebhookView {
    fn of(w: WebhookRecord, now: Timestamp) -> WebhookView {
        WebhookView {
            id: w.id.to_string(),
            environment: w.environment,
            url: w.url,
            description: w.description,
            events: w.events,
            enabled: w.enabled,
            previous_secret_valid_until: w.previous_until.filter(|u| *u > now),
            created_at: w.created_at,
            updated_at: w.updated_at,
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CreatedWebhook {
    webhook: WebhookView,
    /// The signing secret. Shown once.
    secret: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookBody {
    #[schema(example = "https://hooks.example.com/spotlight")]
    url: Option<String>,
    /// Environment name (default production).
    #[schema(example = "production")]
    environment: Option<String>,
    description: Option<String>,
    events: Option<Vec<String>>,
    enabled: Option<bool>,
}

fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("whsec_{}", hex::encode(bytes))
}

fn check(state: &AppState, w: &WebhookWrite) -> ApiResult<()> {
    let mut e = ValidationErrors::new();
    if let Err(refused) = state.outbound.check_url(&w.url) {
        e.add("url", refused.0);
    }
    if w.description.chars().count() > 500 || w.description.chars().any(char::is_control) {
        e.add(
            "description",
            "at most 500 characters, no control characters",
        );
    }
    if w.events.len() > MAX_FILTERS {
        e.add("events", "at most 50 event names");
    }
    for (i, name) in w.events.iter().enumerate() {
        if name != "*" && !spotlight_domain::events::valid_event_name(name) {
            e.add(format!("events[{i}]"), "not an event name");
        }
    }
    e.into_result().map_err(ApiError::validation)
}

async fn environment(
    state: &AppState,
    actor_tenant: spotlight_domain::TenantId,
    name: &str,
) -> ApiResult<spotlight_domain::EnvironmentId> {
    Ok(
        crate::routes::environment_named(state, actor_tenant, name, "environment")
            .await?
            .id,
    )
}

fn parse_id(id: &str) -> ApiResult<WebhookId> {
    id.parse().map_err(|_| ApiError::not_found())
}

pub async fn list(
    actor: AdminActor<ViewerRole>,
    State(state): State<AppState>,
) -> ApiResult<AppJson<Page<WebhookView>>> {
    let now = state.clock.now();
    let items = state
        .store
        .webhooks(actor.tenant_id)
        .await?
        .into_iter()
        .map(|w| WebhookView::of(w, now))
        .collect();
    Ok(AppJson(Page {
        items,
        next_cursor: None,
    }))
}

pub async fn create(
    actor: AdminActor<AdminRole>,
    meta: RequestMeta,
    State(state): State<AppState>,
    AppJson(body): AppJson<WebhookBody>,
) -> ApiResult<Created<CreatedWebhook>> {
    let Some(url) = body.url else {
        return Err(ApiError::field("url", "is required"));
    };
    let env_name = body.environment.unwrap_or_else(|| "production".into());
    let w = WebhookWrite {
        environment_id: environment(&state, actor.tenant_id, &env_name).await?,
        url,
        description: body.description.unwrap_or_default(),
        events: body.events.unwrap_or_default(),
        enabled: body.enabled.unwrap_or(true),
    };
    check(&state, &w)?;
    let secret = new_secret();
    let entry = audit_entry(&actor, &meta, "webhook.create", "webhook", "");
    let created = state
        .store
        .create_webhook(actor.tenant_id, &w, &state.secrets.seal(&secret), entry)
        .await?;
    Ok(Created(CreatedWebhook {
        webhook: WebhookView::of(created, state.clock.now()),
        secret,
    }))
}

pub async fn get(
    actor: AdminActor<ViewerRole>,
    State(state): State<AppState>,
    AppPath(id): AppPath<String>,
) -> ApiResult<AppJson<WebhookView>> {
    let w = state.store.webhook(actor.tenant_id, parse_id(&id)?).await?;
    Ok(AppJson(WebhookView::of(w, state.clock.now())))
}

pub async fn update(
    actor: AdminActor<AdminRole>,
    meta: RequestMeta,
    State(state): State<AppState>,
    AppPath(id): AppPath<String>,
    AppJson(body): AppJson<WebhookBody>,
) -> ApiResult<AppJson<WebhookView>> {
    let id = parse_id(&id)?;
    let current = state.store.webhook(actor.tenant_id, id).await?;
    let w = WebhookWrite {
        environment_id: match &body.environment {
            Some(name) => environment(&state, actor.tenant_id, name).await?,
            None => current.environment_id,
        },
        url: body.url.unwrap_or(current.url),
        description: body.description.unwrap_or(current.description),
        events: body.events.unwrap_or(current.events),
        enabled: body.enabled.unwrap_or(current.enabled),
    };
    check(&state, &w)?;
    let entry = audit_entry(&actor, &meta, "webhook.update", "webhook", id);
    let updated = state
        .store
        .update_webhook(actor.tenant_id, id, &w, entry)
        .await?;
    // Deliveries held while it was disabled may go now.
    state.relay_wake.notify_one();
    Ok(AppJson(WebhookView::of(updated, state.clock.now())))
}

pub async fn delete(
    actor: AdminActor<AdminRole>,
    meta: RequestMeta,
    State(state): State<AppState>,
    AppPath(id): AppPath<String>,
) -> ApiResult<NoContent> {
    let id = parse_id(&id)?;
    let entry = audit_entry(&actor, &meta, "webhook.delete", "webhook", id);
    state
        .store
        .delete_webhook(actor.tenant_id, id, entry)
        .await?;
    Ok(NoContent)
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct RotatedSecret {
    /// The new signing secret. Shown once.
    secret: String,
    /// The previous secret signs too (a second `v1=`) until then.
    previous_secret_valid_until: Timestamp,
}

pub async fn rotate(
    actor: AdminActor<AdminRole>,
    meta: RequestMeta,
    State(state): State<AppState>,
    AppPath(id): AppPath<String>,
) -> ApiResult<AppJson<RotatedSecret>> {
    let id = parse_id(&id)?;
    let secret = new_secret();
    let until = state.clock.now().plus_secs(ROTATION_OVERLAP_SECS);
    let entry = audit_entry(&actor, &meta, "webhook.rotate_secret", "webhook", id);
    state
        .store
        .rotate_webhook_secret(
            actor.tenant_id,
            id,
            &state.secrets.seal(&secret),
            until,
            entry,
        )
        .await?;
    Ok(AppJson(RotatedSecret {
        secret,
        previous_secret_valid_until: until,
    }))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TestResult {
    delivered: bool,
    status_code: Option<u16>,
    error: Option<String>,
    duration_ms: u64,
    delivery_id: String,
}

/// Sends a signed test delivery now and reports what the endpoint answered.
pub async fn test_send(
    actor: AdminActor<AdminRole>,
    State(state): State<AppState>,
    AppPath(id): AppPath<String>,
) -> ApiResult<AppJson<TestResult>> {
    let w = state.store.webhook(actor.tenant_id, parse_id(&id)?).await?;
    let secret = state
        .secrets
        .open(&w.secret)
        .map_err(|_| ApiError::internal("webhook secret cannot be opened"))?;
    let delivery_id = uuid::Uuid::now_v7().to_string();
    let now = state.clock.now();
    let body = serde_json::json!({
        "delivery_id": delivery_id,
        "tenant_id": actor.tenant_id.to_string(),
        "environment": w.environment,
        "test": true,
        "events": [],
    })
    .to_string();
    let sink =
        spotlight_pipeline::sinks::WebhookSink::new(&state.outbound).map_err(ApiError::internal)?;
    let (attempt, took) = sink
        .send(
            &spotlight_pipeline::sinks::Outgoing {
                url: &w.url,
                delivery_id: &delivery_id,
                attempt: 1,
                events: 0,
                body: &body,
            },
            &[secret.as_bytes()],
            now.millis() / 1000,
        )
        .await;
    let (delivered, error) = match &attempt {
        spotlight_pipeline::sinks::Attempt::Delivered { .. } => (true, None),
        spotlight_pipeline::sinks::Attempt::Failed { error, .. } => (false, Some(error.clone())),
    };
    Ok(AppJson(TestResult {
        delivered,
        status_code: attempt.status(),
        error,
        duration_ms: u64::try_from(took.as_millis()).unwrap_or(u64::MAX),
        delivery_id,
    }))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AttemptView {
    delivery_id: String,
    attempt: i64,
    at: Timestamp,
    duration_ms: i64,
    status_code: Option<i64>,
    ok: bool,
    error: Option<String>,
}

/// The last 30 days of attempts at this endpoint, newest first.
pub async fn deliveries(
    actor: AdminActor<ViewerRole>,
    State(state): State<AppState>,
    AppPath(id): AppPath<String>,
    AppQuery(q): AppQuery<PageQuery>,
) -> ApiResult<AppJson<Page<AttemptView>>> {
    let w = state.store.webhook(actor.tenant_id, parse_id(&id)?).await?;
    let since = state.clock.now().plus_secs(-LOG_DAYS * 86_400);
    let items = state
        .store
        .delivery_attempts(
            actor.tenant_id,
            &w.id.to_string(),
            since,
            q.limit() as usize,
        )
        .await?
        .into_iter()
        .map(|a| AttemptView {
            delivery_id: a.outbox_id,
            attempt: a.attempt,
            at: a.at,
            duration_ms: a.duration_ms,
            status_code: a.status_code,
            ok: a.ok,
            error: a.error,
        })
        .collect();
    Ok(AppJson(Page {
        items,
        next_cursor: None,
    }))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct DeadLetterView {
    /// The delivery id (the same when replayed).
    id: String,
    /// A webhook id, or `nats`.
    sink: String,
    event_count: i64,
    attempts: i64,
    last_error: Option<String>,
    created_at: Timestamp,
    failed_at: Option<Timestamp>,
    /// The body the sink would receive (single lookups only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Object)]
    payload: Option<serde_json::Value>,
}

impl DeadLetterView {
    fn of(r: OutboxRecord, payload: Option<serde_json::Value>) -> DeadLetterView {
        DeadLetterView {
            id: r.id,
            sink: r.sink,
            event_count: r.event_count,
            attempts: r.attempts,
            last_error: r.last_error,
            created_at: r.created_at,
            failed_at: r.finished_at,
            payload,
        }
    }
}

#[derive(Deserialize, utoipa::ToSchema, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DeadLetterQuery {
    /// Only this sink's (a webhook id, or `nats`).
    sink: Option<String>,
    /// Page size (default 50, at most 100).
    limit: Option<u32>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

pub async fn dead_letters(
    actor: AdminActor<ViewerRole>,
    State(state): State<AppState>,
    AppQuery(q): AppQuery<DeadLetterQuery>,
) -> ApiResult<AppJson<Page<DeadLetterView>>> {
    let limit = PageQuery {
        limit: q.limit,
        cursor: None,
    }
    .limit() as usize;
    let rows = state
        .store
        .outbox_by_status(
            actor.tenant_id,
            "dead",
            q.sink.as_deref(),
            q.cursor.as_deref(),
            limit,
        )
        .await?;
    let next_cursor = (rows.len() == limit)
        .then(|| rows.last().map(|r| r.id.clone()))
        .flatten();
    Ok(AppJson(Page {
        items: rows
            .into_iter()
            .map(|r| DeadLetterView::of(r, None))
            .collect(),
        next_cursor,
    }))
}

pub async fn dead_letter(
    actor: AdminActor<ViewerRole>,
    State(state): State<AppState>,
    AppPath(id): AppPath<String>,
) -> ApiResult<AppJson<DeadLetterView>> {
    let (record, payload) = state.store.outbox_entry(actor.tenant_id, &id).await?;
    if record.status != "dead" {
        return Err(ApiError::not_found());
    }
    let payload = serde_json::from_str(&payload).ok();
    Ok(AppJson(DeadLetterView::of(record, payload)))
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettleBody {
    /// These dead letters; omitted: every dead letter (of `sink`, when given).
    ids: Option<Vec<String>>,
    sink: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Settled {
    count: u64,
}

async fn settle(
    state: &AppState,
    actor: &AdminActor<AdminRole>,
    meta: &RequestMeta,
    body: SettleBody,
    replay: bool,
) -> ApiResult<AppJson<Settled>> {
    let ids = match body.ids {
        Some(ids) if ids.len() > 1000 => {
            return Err(ApiError::field("ids", "at most 1000 at a time"))
        }
        Some(ids) => ids,
        None => state
            .store
            .outbox_by_status(actor.tenant_id, "dead", body.sink.as_deref(), None, 1000)
            .await?
            .into_iter()
            .map(|r| r.id)
            .collect(),
    };
    let action = if replay {
        "dead_letter.replay"
    } else {
        "dead_letter.discard"
    };
    let entry = audit_entry(
        actor,
        meta,
        action,
        "dead_letter",
        ids.first().cloned().unwrap_or_default(),
    );
    let count = if replay {
        state
            .store
            .replay_dead_letters(actor.tenant_id, &ids, entry)
            .await?
    } else {
        state
            .store
            .discard_dead_letters(actor.tenant_id, &ids, entry)
            .await?
    };
    if replay && count > 0 {
        state.relay_wake.notify_one();
    }
    Ok(AppJson(Settled { count }))
}

pub async fn replay(
    actor: AdminActor<AdminRole>,
    meta: RequestMeta,
    State(state): State<AppState>,
    OptionalJson(body): OptionalJson<SettleBody>,
) -> ApiResult<AppJson<Settled>> {
    settle(&state, &actor, &meta, body, true).await
}

pub async fn discard(
    actor: AdminActor<AdminRole>,
    meta: RequestMeta,
    State(state): State<AppState>,
    OptionalJson(body): OptionalJson<SettleBody>,
) -> ApiResult<AppJson<Settled>> {
    settle(&state, &actor, &meta, body, false).await
}

pub async fn replay_one(
    actor: AdminActor<AdminRole>,
    meta: RequestMeta,
    State(state): State<AppState>,
    AppPath(id): AppPath<String>,
) -> ApiResult<AppJson<Settled>> {
    let body = SettleBody {
        ids: Some(vec![id]),
        sink: None,
    };
    let r = settle(&state, &actor, &meta, body, true).await?;
    if r.0.count == 0 {
        return Err(ApiError::not_found());
    }
    Ok(r)
}

pub async fn discard_one(
    actor: AdminActor<AdminRole>,
    meta: RequestMeta,
    State(state): State<AppState>,
    AppPath(id): AppPath<String>,
) -> ApiResult<NoContent> {
    let body = SettleBody {
        ids: Some(vec![id]),
        sink: None,
    };
    let r = settle(&state, &actor, &meta, body, false).await?;
    if r.0.count == 0 {
        return Err(ApiError::not_found());
    }
    Ok(NoContent)
}
