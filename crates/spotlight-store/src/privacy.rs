//! What the store holds about one end user, gathered for a data-subject
//! access request: the profile, progress and event counts, every raw event
//! still kept, experiment exposures, and the deliveries whose payload carried
//! the user's events.

use crate::users::EndUser;
use crate::{Store, StoreError};
use spotlight_domain::{EnvironmentId, TenantId};
use sqlx::Row;

/// One raw event of the user.
#[derive(Debug, Clone)]
pub struct UserEvent {
    pub event_id: String,
    pub name: String,
    pub session_id: Option<String>,
    pub object_id: Option<String>,
    pub step: Option<i64>,
    pub occurred_at: i64,
    pub received_at: i64,
    /// A JSON object.
    pub properties: String,
}

/// The user's arm in one experiment.
#[derive(Debug, Clone)]
pub struct Exposure {
    pub object_id: String,
    pub arm: String,
    pub exposed_at: i64,
    pub converted_at: Option<i64>,
}

/// A delivery (pending, delivered or dead) whose payload holds events of the user.
#[derive(Debug, Clone)]
pub struct CarriedDelivery {
    pub id: String,
    pub sink: String,
    pub status: String,
    pub created_at: i64,
    pub finished_at: Option<i64>,
    /// How many of the payload's events are the user's.
    pub events: usize,
}

/// Everything about one user in one environment.
#[derive(Debug, Clone, Default)]
pub struct UserRecords {
    pub profile: Option<EndUser>,
    pub events: Vec<UserEvent>,
    pub exposures: Vec<Exposure>,
    pub deliveries: Vec<CarriedDelivery>,
}

impl UserRecords {
    pub fn is_empty(&self) -> bool {
        self.profile.is_none()
            && self.events.is_empty()
            && self.exposures.is_empty()
            && self.deliveries.is_empty()
    }
}

/// `s` as a literal inside a LIKE pattern (escape character `\`).
fn like_literal(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// How many events of a delivery payload (a JSON array of events, or one
/// event) belong to `user_id`.
fn events_of(payload: &str, user_id: &str) -> usize {
    let is_user =
        |e: &serde_json::Value| e.get("user_id").and_then(|u| u.as_str()) == Some(user_id);
    match serde_json::from_str::<serde_json::Value>(payload) {
        Ok(serde_json::Value::Array(list)) => list.iter().filter(|e| is_user(e)).count(),
        Ok(serde_json::Value::Object(o)) => match o.get("events") {
            Some(serde_json::Value::Array(list)) => list.iter().filter(|e| is_user(e)).count(),
            _ => usize::from(is_user(&serde_json::Value::Object(o))),
        },
        _ => 0,
    }
}

impl Store {
    /// Everything stored about `user_id` in one environment of the tenant.
    #[tracing::instrument(name = "store.user_records", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn user_records(
        &self,
        tenant: TenantId,
        env: EnvironmentId,
        user_id: &str,
    ) -> Result<UserRecords, StoreError> {
        let profile = self.end_user(tenant, env, user_id).await?;
        let (t, e) = (tenant.to_string(), env.to_string());
        let events = sqlx::query(
            "SELECT event_id, name, session_id, object_id, step, occurred_at, received_at, \
             properties FROM events WHERE environment_id = $1 AND tenant_id = $2 AND user_id = $3 \
             ORDER BY occurred_at, event_id",
        )
        .bind(&e)
        .bind(&t)
        .bind(user_id)
        .fetch_all(&self.read)
        .await?
        .iter()
        .map(|r| {
            Ok(UserEvent {
                event_id: r.try_get("event_id")?,
                name: r.try_get("name")?,
                session_id: r.try_get("session_id")?,
                object_id: r.try_get("object_id")?,
                step: r.try_get("step")?,
                occurred_at: r.try_get("occurred_at")?,
                received_at: r.try_get("received_at")?,
                properties: r.try_get("properties")?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
        let exposures = sqlx::query(
            "SELECT object_id, arm, exposed_at, converted_at FROM experiment_exposures \
             WHERE environment_id = $1 AND tenant_id = $2 AND user_id = $3 ORDER BY exposed_at",
        )
        .bind(&e)
        .bind(&t)
        .bind(user_id)
        .fetch_all(&self.read)
        .await?
        .iter()
        .map(|r| {
            Ok(Exposure {
                object_id: r.try_get("object_id")?,
                arm: r.try_get("arm")?,
                exposed_at: r.try_get("exposed_at")?,
                converted_at: r.try_get("converted_at")?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
        // Payloads are compact JSON written by ingest (`"user_id":"…"`); the
        // pattern narrows the rows, the parse decides (LIKE ignores case on SQLite).
        let quoted =
            serde_json::to_string(user_id).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let pattern = format!("%\"user_id\":{}%", like_literal(&quoted));
        let deliveries = sqlx::query(
            "SELECT o.id, o.sink, o.status, o.created_at, o.finished_at, p.payload \
             FROM outbox o JOIN outbox_payloads p ON p.outbox_id = o.id \
             WHERE o.tenant_id = $1 AND o.environment_id = $2 AND p.payload LIKE $3 ESCAPE '\\' \
             ORDER BY o.created_at, o.id",
        )
        .bind(&t)
        .bind(&e)
        .bind(&pattern)
        .fetch_all(&self.read)
        .await?
        .iter()
        .map(|r| {
            let payload: String = r.try_get("payload")?;
            Ok(CarriedDelivery {
                id: r.try_get("id")?,
                sink: r.try_get("sink")?,
                status: r.try_get("status")?,
                created_at: r.try_get("created_at")?,
                finished_at: r.try_get("finished_at")?,
                events: events_of(&payload, user_id),
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?
        .into_iter()
        .filter(|d| d.events > 0)
        .collect();
        Ok(UserRecords {
            profile,
            events,
            exposures,
            deliveries,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_take_wildcards_literally() {
        assert_eq!(like_literal(r#""a%b_c\d""#), r#""a\%b\_c\\d""#);
    }

    #[test]
    fn only_the_users_own_events_count() {
        let payload = r#"[{"user_id":"Bob"},{"user_id":"bob"},{"user_id":"bob","x":1}]"#;
        assert_eq!(events_of(payload, "bob"), 2);
        assert_eq!(events_of(payload, "Bob"), 1);
        assert_eq!(events_of(r#"{"events":[{"user_id":"a"}]}"#, "a"), 1);
        assert_eq!(events_of("not json", "a"), 0);
    }
}
