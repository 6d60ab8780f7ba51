//! End-user lookup for the tenant's team: one user's profile, attributes,
//! progress and event counts in one environment (production unless asked).

use crate::auth::{AdminActor, AdminRole, RequestMeta, ViewerRole};
use crate::error::{ApiError, ApiResult, AppJson, AppPath, AppQuery};
use crate::state::AppState;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use spotlight_domain::Timestamp;
use std::collections::BTreeMap;

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserQuery {
    /// Environment name (default production).
    #[param(example = "production")]
    pub(crate) environment: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ProgressEntry {
    times_shown: u32,
    last_shown_at: Option<i64>,
    step_reached: Option<u32>,
    items_completed: Vec<String>,
    completed: bool,
    dismissed: bool,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct EndUserView {
    user_id: String,
    environment: String,
    first_seen: Timestamp,
    last_seen: Timestamp,
    /// Whether the last request proved the id with a verified token.
    verified: bool,
    #[schema(value_type = Object)]
    attributes: serde_json::Map<String, serde_json::Value>,
    event_counts: BTreeMap<String, u64>,
    /// By tour, announcement or checklist id.
    progress: BTreeMap<String, ProgressEntry>,
    /// When each tracked event last happened (Unix milliseconds).
    event_last_at: BTreeMap<String, i64>,
    /// The user's events among the environment's latest 20,000, newest first (at most 50).
    recent_events: Vec<RecentEventView>,
    /// The B2B accounts they belong to, their active one (seen last) first.
    accounts: Vec<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct RecentEventView {
    event_id: String,
    name: String,
    occurred_at: Timestamp,
    object_id: Option<String>,
    step: Option<i64>,
    #[schema(value_type = serde_json::Value)]
    properties: serde_json::Value,
}

/// How many of the environment's latest events are searched for one user's.
const RECENT_WINDOW: usize = 20_000;

pub async fn get(
    State(state): State<AppState>,
    actor: AdminActor<ViewerRole>,
    AppPath(user_id): AppPath<String>,
    AppQuery(q): AppQuery<UserQuery>,
) -> ApiResult<AppJson<EndUserView>> {
    let env_name = q.environment.unwrap_or_else(|| "production".to_owned());
    let env =
        crate::routes::environment_named(&state, actor.tenant_id, &env_name, "environment").await?;
    if crate::routes::sdk::check_user_id(&user_id).is_err() {
        return Err(ApiError::not_found());
    }
    view(&state, actor.tenant_id, env.id, env_name, user_id).await
}

/// Set or remove some of a user's attributes.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttributesPatch {
    /// Attributes to set (strings, numbers, booleans or flat lists, kept as
    /// given); `null` removes one; those not named stay.
    #[schema(value_type = Object)]
    pub(crate) attributes: serde_json::Map<String, serde_json::Value>,
}

/// `PUT /v1/admin/users/{user_id}`: the tenant's backend sets attributes
/// (creating the profile when the user was never seen). The latest write of
/// an attribute wins, this one's or the SDK's; a verified token's claims win
/// over both when the user next asks for their config.
pub async fn put(
    State(state): State<AppState>,
    actor: AdminActor<AdminRole>,
    meta: RequestMeta,
    AppPath(user_id): AppPath<String>,
    AppQuery(q): AppQuery<UserQuery>,
    AppJson(body): AppJson<AttributesPatch>,
) -> ApiResult<AppJson<EndUserView>> {
    if let Err(msg) = crate::routes::sdk::check_user_id(&user_id) {
        return Err(ApiError::field("user_id", msg));
    }
    if let Err(msg) = spotlight_domain::end_user::check_patch(&body.attributes) {
        return Err(ApiError::field("attributes", msg));
    }
    let env_name = q.environment.unwrap_or_else(|| "production".to_owned());
    let env =
        crate::routes::environment_named(&state, actor.tenant_id, &env_name, "environment").await?;
    let entry = crate::routes::audit_entry(
        &actor,
        &meta,
        "user.attributes",
        "end_user",
        user_digest(&user_id),
    );
    let check = |after: &serde_json::Map<String, serde_json::Value>| {
        spotlight_domain::end_user::check_attributes(after).map_err(str::to_owned)
    };
    let merged = state
        .store
        .merge_user_attributes(
            actor.tenant_id,
            env.id,
            &user_id,
            &body.attributes,
            check,
            entry,
        )
        .await?;
    if let Err(msg) = merged {
        return Err(ApiError::field("attributes", &msg));
    }
    // This node's cached state; other nodes' expires within a minute, as after ingest.
    state.caches.users.forget(&(env.id, user_id.clone())).await;
    view(&state, actor.tenant_id, env.id, env_name, user_id).await
}

async fn view(
    state: &AppState,
    tenant: spotlight_domain::TenantId,
    env: spotlight_domain::EnvironmentId,
    env_name: String,
    user_id: String,
) -> ApiResult<AppJson<EndUserView>> {
    let user = state
        .store
        .end_user(tenant, env, &user_id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let s = user.state;
    let event_last_at = state
        .store
        .event_last_seen(tenant, env, &user_id)
        .await?
        .into_iter()
        .collect();
    let recent_events = state
        .store
        .recent_events(tenant, env, &user_id, RECENT_WINDOW, 50)
        .await?
        .into_iter()
        .map(|e| RecentEventView {
            properties: serde_json::from_str(&e.properties).unwrap_or_default(),
            event_id: e.event_id,
            name: e.name,
            occurred_at: Timestamp(e.occurred_at),
            object_id: e.object_id,
            step: e.step,
        })
        .collect();
    let accounts = state.store.user_accounts(tenant, env, &user_id).await?;
    Ok(AppJson(EndUserView {
        event_last_at,
        recent_events,
        accounts,
        user_id: user.user_id,
        environment: env_name,
        first_seen: user.first_seen,
        last_seen: user.last_seen,
        verified: s.verified,
        attributes: s.attributes,
        event_counts: s.event_counts.into_iter().collect(),
        progress: progress_entries(s.progress),
    }))
}

fn progress_entries(
    progress: std::collections::HashMap<String, spotlight_domain::delivery::Progress>,
) -> BTreeMap<String, ProgressEntry> {
    progress
        .into_iter()
        .map(|(id, p)| {
            let entry = ProgressEntry {
                times_shown: p.times_shown,
                last_shown_at: p.last_shown_millis,
                step_reached: p.step_reached.and_then(|s| u32::try_from(s).ok()),
                items_completed: p.items_completed,
                completed: p.completed,
                dismissed: p.dismissed,
            };
            (id, entry)
        })
        .collect()
}

// ---------------------------------------------------------------- export

/// Everything Spotlight stores about one person, for a data-subject access request.
#[derive(Serialize, utoipa::ToSchema)]
pub struct UserExport {
    user_id: String,
    exported_at: Timestamp,
    /// By environment name: each environment that holds anything about the user.
    environments: BTreeMap<String, EnvironmentRecords>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct EnvironmentRecords {
    /// Absent when no profile was written (only events or progress).
    profile: Option<ProfileExport>,
    /// The accounts (companies) the user belongs to.
    accounts: Vec<String>,
    /// By tour, announcement or checklist id.
    progress: BTreeMap<String, ProgressEntry>,
    event_counts: BTreeMap<String, u64>,
    /// Every raw event still kept (retention removes older ones), oldest first.
    events: Vec<ExportedEvent>,
    /// The user's survey answers (also among `events`).
    survey_answers: Vec<ExportedEvent>,
    experiments: Vec<ExposureExport>,
    /// Webhook and NATS deliveries whose payload carried the user's events.
    deliveries: Vec<DeliveryExport>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ProfileExport {
    first_seen: Timestamp,
    last_seen: Timestamp,
    verified: bool,
    #[schema(value_type = Object)]
    attributes: serde_json::Map<String, serde_json::Value>,
}

#[derive(Clone, Serialize, utoipa::ToSchema)]
pub struct ExportedEvent {
    event_id: String,
    name: String,
    session_id: Option<String>,
    object_id: Option<String>,
    step: Option<i64>,
    occurred_at: Timestamp,
    received_at: Timestamp,
    #[schema(value_type = Object)]
    properties: serde_json::Value,
    /// The account it was sent for.
    #[serde(skip_serializing_if = "Option::is_none")]
    account_id: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ExposureExport {
    object_id: String,
    arm: String,
    exposed_at: Timestamp,
    converted_at: Option<Timestamp>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct DeliveryExport {
    delivery_id: String,
    /// A webhook's id, or `nats`.
    sink: String,
    status: String,
    created_at: Timestamp,
    finished_at: Option<Timestamp>,
    /// How many of the delivery's events were the user's.
    events: usize,
}

fn environment_records(r: spotlight_store::UserRecords) -> EnvironmentRecords {
    let (profile, progress, event_counts) = match r.profile {
        Some(u) => {
            let profile = u.state.known.then_some(ProfileExport {
                first_seen: u.first_seen,
                last_seen: u.last_seen,
                verified: u.state.verified,
                attributes: u.state.attributes,
            });
            let counts = u.state.event_counts.into_iter().collect();
            (profile, progress_entries(u.state.progress), counts)
        }
        None => (None, BTreeMap::new(), BTreeMap::new()),
    };
    let events: Vec<ExportedEvent> = r
        .events
        .into_iter()
        .map(|e| ExportedEvent {
            properties: serde_json::from_str(&e.properties).unwrap_or_default(),
            event_id: e.event_id,
            name: e.name,
            session_id: e.session_id,
            object_id: e.object_id,
            step: e.step,
            occurred_at: Timestamp(e.occurred_at),
            received_at: Timestamp(e.received_at),
            account_id: e.account_id,
        })
        .collect();
    let survey = spotlight_domain::events::Kind::SurveyAnswered.as_str();
    let survey_answers = events
        .iter()
        .filter(|e| e.name == survey)
        .cloned()
        .collect();
    EnvironmentRecords {
        profile,
        accounts: r.accounts,
        progress,
        event_counts,
        events,
        survey_answers,
        experiments: r
            .exposures
            .into_iter()
            .map(|x| ExposureExport {
                object_id: x.object_id,
                arm: x.arm,
                exposed_at: Timestamp(x.exposed_at),
                converted_at: x.converted_at.map(Timestamp),
            })
            .collect(),
        deliveries: r
            .deliveries
            .into_iter()
            .map(|d| DeliveryExport {
                delivery_id: d.id,
                sink: d.sink,
                status: d.status,
                created_at: Timestamp(d.created_at),
                finished_at: d.finished_at.map(Timestamp),
                events: d.events,
            })
            .collect(),
    }
}

/// The audit log names a person by a digest of their id, not the id.
pub use spotlight_store::user_digest;

/// What an erasure removed, per environment where something was stored.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErasureReport {
    user_id: String,
    erased_at: Timestamp,
    /// Until then, events from before the erasure still arriving for this id
    /// (an SDK's stored queue, a request in flight) are dropped; what the
    /// person does after it is new and kept.
    tombstone_until: Timestamp,
    environments: BTreeMap<String, ErasedView>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErasedView {
    profile: bool,
    events: u64,
    progress: u64,
    event_counts: u64,
    /// Experiment exposures, unique-user rollups and monthly active users now
    /// kept under a token instead of the id (counts stay right).
    pseudonymised: u64,
    /// Stored deliveries the user's events were taken out of.
    deliveries_scrubbed: u64,
    /// Sinks sent a `user.erased` event.
    sinks_notified: u64,
}

/// `DELETE /v1/admin/users/{user_id}`: erases one person in every environment
/// (see `spotlight_store::privacy`); audited by a digest of the id, with what
/// was removed. 404 when nothing is stored.
pub async fn erase(
    State(state): State<AppState>,
    actor: AdminActor<AdminRole>,
    meta: RequestMeta,
    AppPath(user_id): AppPath<String>,
) -> ApiResult<AppJson<ErasureReport>> {
    if crate::routes::sdk::check_user_id(&user_id).is_err() {
        return Err(ApiError::not_found());
    }
    let tenant = state
        .caches
        .tenant(actor.tenant_id)
        .await?
        .ok_or_else(ApiError::unauthenticated)?;
    let environments = state.store.environments(actor.tenant_id).await?;
    let scopes: Vec<spotlight_store::ErasureScope> = environments
        .iter()
        .map(|env| spotlight_store::ErasureScope {
            environment: env.id,
            environment_name: env.name.clone(),
            sinks: tenant.sinks(env.id).as_ref().clone(),
        })
        .collect();
    let entry = crate::routes::audit_entry(
        &actor,
        &meta,
        "user.erase",
        "end_user",
        user_digest(&user_id),
    );
    let (erased_at, erased) = state
        .store
        .erase_user(actor.tenant_id, &user_id, &scopes, entry)
        .await?
        .ok_or_else(ApiError::not_found)?;
    for env in &environments {
        state.caches.users.forget(&(env.id, user_id.clone())).await;
    }
    state.relay_wake.notify_one();
    let environments = environments
        .into_iter()
        .zip(erased)
        .filter(|(_, e)| *e != spotlight_store::Erased::default())
        .map(|(env, e)| {
            let view = ErasedView {
                profile: e.profile,
                events: e.events,
                progress: e.progress,
                event_counts: e.event_counts,
                pseudonymised: e.pseudonymised,
                deliveries_scrubbed: e.deliveries_scrubbed,
                sinks_notified: e.sinks_notified,
            };
            (env.name, view)
        })
        .collect();
    Ok(AppJson(ErasureReport {
        user_id,
        erased_at,
        tombstone_until: Timestamp(erased_at.millis() + spotlight_store::TOMBSTONE_MS),
        environments,
    }))
}

/// `GET /v1/admin/users/{user_id}/export`: every environment's records of one
/// person; audited (by a digest of the id). 404 when nothing is stored.
pub async fn export(
    State(state): State<AppState>,
    actor: AdminActor<AdminRole>,
    meta: RequestMeta,
    AppPath(user_id): AppPath<String>,
) -> ApiResult<AppJson<UserExport>> {
    if crate::routes::sdk::check_user_id(&user_id).is_err() {
        return Err(ApiError::not_found());
    }
    let mut environments = BTreeMap::new();
    for env in state.store.environments(actor.tenant_id).await? {
        let records = state
            .store
            .user_records(actor.tenant_id, env.id, &user_id)
            .await?;
        if !records.is_empty() {
            environments.insert(env.name, environment_records(records));
        }
    }
    if environments.is_empty() {
        return Err(ApiError::not_found());
    }
    let digest = user_digest(&user_id);
    let entry = crate::routes::audit_entry(&actor, &meta, "user.export", "end_user", digest);
    state.store.record_audit(actor.tenant_id, &entry).await?;
    Ok(AppJson(UserExport {
        user_id,
        exported_at: state.clock.now(),
        environments,
    }))
}
