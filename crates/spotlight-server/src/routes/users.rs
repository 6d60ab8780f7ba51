//! End-user lookup for the tenant's team: one user's profile, attributes,
//! progress and event counts in one environment (production unless asked).

use crate::auth::{AdminActor, ViewerRole};
use crate::error::{ApiError, ApiResult, AppJson, AppPath, AppQuery};
use crate::state::AppState;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use spotlight_domain::Timestamp;
use std::collections::BTreeMap;

#[derive(Debug, Default, Deserialize)]
pub struct UserQuery {
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
}

pub async fn get(
    State(state): State<AppState>,
    actor: AdminActor<ViewerRole>,
    AppPath(user_id): AppPath<String>,
    AppQuery(q): AppQuery<UserQuery>,
) -> ApiResult<AppJson<EndUserView>> {
    let env_name = q.environment.unwrap_or_else(|| "production".to_owned());
    let env = state
        .store
        .environment_named(actor.tenant_id, &env_name)
        .await?;
    if crate::routes::sdk::check_user_id(&user_id).is_err() {
        return Err(ApiError::not_found());
    }
    let user = state
        .store
        .end_user(actor.tenant_id, env.id, &user_id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let s = user.state;
    Ok(AppJson(EndUserView {
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
