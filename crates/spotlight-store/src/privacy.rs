//! What the store holds about one end user, gathered for a data-subject
//! access request (the profile, progress and event counts, every raw event
//! still kept, experiment exposures, and the deliveries whose payload carried
//! the user's events), and the erasure of it all.
//!
//! An erasure runs in one transaction per tenant: it deletes the profile,
//! progress, event counts and raw events (survey answers are events), removes
//! the user's events from stored delivery payloads, replaces the id in the
//! rollups of unique users, experiment exposures and monthly active users by
//! a token of its own (counts stay right, the id is gone), clears the
//! attributes kept in the audit log's entries about the user, queues a
//! `user.erased` event for every sink that wants it, and leaves a tombstone.
//!
//! The tombstone (a digest of the id and the time, for [`TOMBSTONE_MS`]) is
//! read by every ingest and profile write in its own transaction, which drops
//! what still arrives for the user from before the erasure: a queued batch, a
//! request in flight. What the person does afterwards is new and kept. On PostgreSQL the two are ordered by an advisory lock
//! per environment, shared by writers and exclusive for an erasure, so an
//! ingest either commits before the erasure (which then removes what it
//! wrote) or reads its tombstone; on SQLite the write lock orders them.

use crate::events::SinkTarget;
use crate::tombstones::user_digest;
use crate::users::EndUser;
use crate::{AuditEntry, Store, StoreError};
use spotlight_domain::{EnvironmentId, TenantId};
use sqlx::Row;

/// How long an erasure is remembered: as long as ingest accepts an event's
/// timestamp, since the SDK's queue outlives reloads and offline spells.
pub const TOMBSTONE_MS: i64 =
    spotlight_domain::events::MAX_AGE_MS + spotlight_domain::events::MAX_FUTURE_MS;

/// One environment to erase a user from, with the sinks told of it.
#[derive(Debug, Clone)]
pub struct ErasureScope {
    pub environment: EnvironmentId,
    pub environment_name: String,
    pub sinks: Vec<SinkTarget>,
}

/// What an erasure removed in one environment.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Erased {
    pub profile: bool,
    pub events: u64,
    pub progress: u64,
    pub event_counts: u64,
    /// Experiment exposures, unique-user rollups and monthly active users kept
    /// under the erasure's token instead of the id.
    pub pseudonymised: u64,
    /// Delivery payloads the user's events were taken out of (deliveries left
    /// with no event are removed).
    pub deliveries_scrubbed: u64,
    /// Sinks told with a `user.erased` event.
    pub sinks_notified: u64,
}

impl Erased {
    fn is_empty(&self) -> bool {
        !self.profile
            && self.events == 0
            && self.progress == 0
            && self.event_counts == 0
            && self.pseudonymised == 0
            && self.deliveries_scrubbed == 0
    }
}

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
    pub account_id: Option<String>,
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
    /// The accounts (B2B) the user belongs to.
    pub accounts: Vec<String>,
    pub events: Vec<UserEvent>,
    pub exposures: Vec<Exposure>,
    pub deliveries: Vec<CarriedDelivery>,
}

impl UserRecords {
    pub fn is_empty(&self) -> bool {
        self.profile.is_none()
            && self.accounts.is_empty()
            && self.events.is_empty()
            && self.exposures.is_empty()
            && self.deliveries.is_empty()
    }
}

/// The LIKE pattern that narrows delivery payloads to those naming `user_id`.
fn payload_pattern(user_id: &str) -> Result<String, StoreError> {
    // Payloads are compact JSON written by ingest (`"user_id":"…"`); the
    // pattern narrows the rows, a parse decides (LIKE ignores case on SQLite).
    let quoted = serde_json::to_string(user_id).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    Ok(format!("%\"user_id\":{}%", like_literal(&quoted)))
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
             properties, account_id FROM events WHERE environment_id = $1 AND tenant_id = $2 AND user_id = $3 \
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
                account_id: r.try_get("account_id")?,
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
        let accounts = self.user_accounts(tenant, env, user_id).await?;
        let pattern = payload_pattern(user_id)?;
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
            accounts,
            events,
            exposures,
            deliveries,
        })
    }
}

/// `payload` without the events of `user_id` and how many are left, or `None`
/// when it carried none of theirs. A `user.erased` notice stays: it is what
/// the sink must receive.
fn without_user(payload: &str, user_id: &str) -> Option<(String, usize)> {
    let mut body: serde_json::Value = serde_json::from_str(payload).ok()?;
    let events = body.get_mut("events")?.as_array_mut()?;
    let before = events.len();
    events.retain(|e| {
        e.get("user_id").and_then(|u| u.as_str()) != Some(user_id)
            || e.get("name").and_then(|n| n.as_str()) == Some(ERASED_EVENT)
    });
    if events.len() == before {
        return None;
    }
    let left = events.len();
    Some((serde_json::to_string(&body).ok()?, left))
}

impl Store {
    /// Erases everything stored about `user_id` in the given environments of
    /// the tenant, in one audited transaction (see the module docs): when, and
    /// what was removed per environment; `None` when nothing was stored (and
    /// nothing is written).
    #[tracing::instrument(name = "store.erase_user", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn erase_user(
        &self,
        tenant: TenantId,
        user_id: &str,
        scopes: &[ErasureScope],
        mut audit: AuditEntry,
    ) -> Result<Option<(spotlight_domain::Timestamp, Vec<Erased>)>, StoreError> {
        let now = self.clock.now();
        let t = tenant.to_string();
        let digest = user_digest(user_id);
        let token = format!("erased:{}", uuid::Uuid::new_v4().simple());
        let mut tx = self.begin().await?;
        let envs: Vec<String> = scopes.iter().map(|s| s.environment.to_string()).collect();
        crate::tombstones::lock_environments(self.backend, &mut *tx, &envs, true).await?;
        let mut report = Vec::with_capacity(scopes.len());
        for scope in scopes {
            let e = scope.environment.to_string();
            let mut done = Erased::default();
            let mut removed = [0u64; 5];
            for (n, table) in [
                "end_users",
                "user_progress",
                "user_event_counts",
                "events",
                "account_members",
            ]
            .into_iter()
            .enumerate()
            {
                removed[n] = sqlx::query(&format!(
                    "DELETE FROM {table} WHERE environment_id = $1 AND user_id = $2 AND tenant_id = $3"
                ))
                .bind(&e)
                .bind(user_id)
                .bind(&t)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            }
            // Membership of an account is the person's too (the account stays).
            done.profile = removed[0] > 0 || removed[4] > 0;
            (done.progress, done.event_counts, done.events) = (removed[1], removed[2], removed[3]);
            for table in [
                "experiment_exposures",
                "rollup_users",
                "account_rollup_users",
            ] {
                done.pseudonymised += sqlx::query(&format!(
                    "UPDATE {table} SET user_id = $4 WHERE environment_id = $1 AND user_id = $2 AND tenant_id = $3"
                ))
                .bind(&e)
                .bind(user_id)
                .bind(&t)
                .bind(&token)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            }
            done.pseudonymised += sqlx::query(
                "UPDATE usage_active_users SET user_id = $4 WHERE tenant_id = $3 AND environment_id = $1 AND user_id = $2",
            )
            .bind(&e)
            .bind(user_id)
            .bind(&t)
            .bind(&token)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            // Delivery payloads, pending or kept: without the user's events.
            let carried = sqlx::query(
                "SELECT o.id, p.payload FROM outbox o JOIN outbox_payloads p ON p.outbox_id = o.id \
                 WHERE o.tenant_id = $1 AND o.environment_id = $2 AND p.payload LIKE $3 ESCAPE '\\'",
            )
            .bind(&t)
            .bind(&e)
            .bind(payload_pattern(user_id)?)
            .fetch_all(&mut *tx)
            .await?;
            for row in carried {
                let (id, payload): (String, String) = (row.try_get(0)?, row.try_get(1)?);
                let Some((rest, left)) = without_user(&payload, user_id) else {
                    continue;
                };
                done.deliveries_scrubbed += 1;
                if left == 0 {
                    for sql in [
                        "DELETE FROM outbox_payloads WHERE outbox_id = $1",
                        "DELETE FROM outbox WHERE id = $1",
                    ] {
                        sqlx::query(sql).bind(&id).execute(&mut *tx).await?;
                    }
                } else {
                    sqlx::query("UPDATE outbox_payloads SET payload = $1 WHERE outbox_id = $2")
                        .bind(&rest)
                        .bind(&id)
                        .execute(&mut *tx)
                        .await?;
                    sqlx::query("UPDATE outbox SET event_count = $1 WHERE id = $2")
                        .bind(i64::try_from(left).unwrap_or(i64::MAX))
                        .bind(&id)
                        .execute(&mut *tx)
                        .await?;
                }
            }
            if !done.is_empty() {
                for sink in scope.sinks.iter().filter(|s| s.wants(ERASED_EVENT)) {
                    let id = uuid::Uuid::now_v7().to_string();
                    let body = serde_json::json!({
                        "delivery_id": id,
                        "tenant_id": tenant,
                        "environment": scope.environment_name,
                        "events": [{
                            "event_id": uuid::Uuid::now_v7(),
                            "name": ERASED_EVENT,
                            "user_id": user_id,
                            "timestamp": now.to_rfc3339(),
                            "schema_version": 1,
                            "properties": {},
                        }],
                    });
                    sqlx::query(
                        "INSERT INTO outbox (id, tenant_id, environment_id, sink, event_count, next_attempt_at, created_at) \
                         VALUES ($1, $2, $3, $4, 1, $5, $5)",
                    )
                    .bind(&id)
                    .bind(&t)
                    .bind(&e)
                    .bind(&sink.sink)
                    .bind(now.millis())
                    .execute(&mut *tx)
                    .await?;
                    sqlx::query("INSERT INTO outbox_payloads (outbox_id, payload) VALUES ($1, $2)")
                        .bind(&id)
                        .bind(body.to_string())
                        .execute(&mut *tx)
                        .await?;
                    done.sinks_notified += 1;
                }
            }
            sqlx::query(
                "INSERT INTO erasures (environment_id, user_digest, tenant_id, erased_at, until) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (environment_id, user_digest) \
                 DO UPDATE SET erased_at = excluded.erased_at, until = excluded.until",
            )
            .bind(&e)
            .bind(&digest)
            .bind(&t)
            .bind(now.millis())
            .bind(now.millis().saturating_add(TOMBSTONE_MS))
            .execute(&mut *tx)
            .await?;
            report.push(done);
        }
        if report.iter().all(Erased::is_empty) {
            tx.rollback().await?;
            return Ok(None);
        }
        // Entries about the user kept the attributes written for them.
        sqlx::query(
            "UPDATE audit_log SET before_doc = NULL, after_doc = NULL \
             WHERE tenant_id = $1 AND object_kind = 'end_user' AND object_id = $2",
        )
        .bind(&t)
        .bind(&audit.object_id)
        .execute(&mut *tx)
        .await?;
        audit.after = serde_json::to_string(&report).ok();
        crate::audit::insert_audit(&mut tx, tenant, &audit, now).await?;
        // Every node forgets what it cached of the tenant's users.
        self.commit_change(tx, tenant).await?;
        Ok(Some((now, report)))
    }
}

/// The event sinks receive when a user is erased.
pub const ERASED_EVENT: &str = "user.erased";

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

    #[test]
    fn events_up_to_the_clock_skew_after_an_erasure_predate_it() {
        let skew = spotlight_domain::events::MAX_FUTURE_MS;
        assert!(crate::tombstones::before_erasure(1_000, 1_000));
        assert!(crate::tombstones::before_erasure(1_000 + skew, 1_000));
        assert!(!crate::tombstones::before_erasure(1_001 + skew, 1_000));
    }

    #[test]
    fn scrubbing_keeps_the_other_users_events() {
        let payload = r#"{"delivery_id":"d","events":[{"user_id":"a"},{"user_id":"b"}]}"#;
        let (rest, left) = without_user(payload, "a").unwrap();
        assert_eq!(left, 1);
        assert!(!rest.contains(r#""a""#) && rest.contains(r#""b""#));
        assert_eq!(without_user(payload, "c"), None);
        assert_eq!(
            without_user(r#"{"events":[{"user_id":"a"}]}"#, "a")
                .unwrap()
                .1,
            0
        );
        let notice = r#"{"events":[{"user_id":"a","name":"user.erased"}]}"#;
        assert_eq!(without_user(notice, "a"), None);
    }
}
