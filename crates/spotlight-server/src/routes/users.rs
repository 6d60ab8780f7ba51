//! End-user lookup for the tenant's team: one user's profile, attributes,
//! progress and event counts in one environment (production unless asked).

use crate::auth::{AdminActor, ViewerRole};
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
    environment: Option<String>,
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
    let user = state
        .store
        .end_user(actor.tenant_id, env.id, &user_id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let s = user.state;
    let event_last_at = state
        .store
        .event_last_seen(actor.tenant_id, env.id, &user_id)
        .await?
        .into_iter()
        .collect();
    let recent_events = state
        .store
        .recent_events(actor.tenant_id, env.id, &user_id, RECENT_WINDOW, 50)
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
    Ok(AppJson(EndUserView {
        event_last_at,
        recent_events,
        user_id: user.user_id,
        environment: env_name,
        first_seen: user.first_seen,
        last_seen: user.last_seen,
        verified: s.verified,
        attributes: s.attributes,
        event_counts: s.event_counts.into_iter().collect(),
        progress: s
            .progress
            .into_iter()
            .map(|(id, p)| {
                (
                    id,
                    ProgressEntry {
                        times_shown: p.times_shown,
                        last_shown_at: p.last_shown_millis,
                        step_reached: p.step_reached.and_then(|s| u32::try_from(s).ok()),
                        items_completed: p.items_completed,
                        completed: p.completed,
                        dismissed: p.dismissed,
                    },
                )
            })
            .collect(),
    }))
}
