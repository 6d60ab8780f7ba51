//! Webhook endpoints (secrets stay sealed: the store never sees them in the clear)
//! and the outbox they are fed from: claiming due deliveries under a lease,
//! recording each attempt, retrying, dead-lettering, replaying and discarding.

use crate::audit::AuditEntry;
use crate::keys::ensure_env;
use crate::write::{Cells, Col, Exec, V};
use crate::{parse_id, Backend, Store, StoreError};
use spotlight_domain::{EnvironmentId, TenantId, Timestamp, WebhookId};
use sqlx::Row;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookRecord {
    pub id: WebhookId,
    pub tenant_id: TenantId,
    pub environment_id: EnvironmentId,
    pub environment: String,
    pub url: String,
    pub description: String,
    /// Event names delivered; empty: all.
    pub events: Vec<String>,
    pub enabled: bool,
    /// Sealed by the server's master key.
    pub secret: String,
    pub previous_secret: Option<String>,
    pub previous_until: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone)]
pub struct WebhookWrite {
    pub environment_id: EnvironmentId,
    pub url: String,
    pub description: String,
    pub events: Vec<String>,
    pub enabled: bool,
}

const COLUMNS: &str = "w.id, w.tenant_id, w.environment_id, e.name AS environment, w.url, \
    w.description, w.events, w.enabled, w.secret, w.previous_secret, w.previous_until, \
    w.created_at, w.updated_at";

fn from_row(r: &sqlx::any::AnyRow) -> Result<WebhookRecord, StoreError> {
    Ok(WebhookRecord {
        id: parse_id(&r.try_get::<String, _>("id")?)?,
        tenant_id: parse_id(&r.try_get::<String, _>("tenant_id")?)?,
        environment_id: parse_id(&r.try_get::<String, _>("environment_id")?)?,
        environment: r.try_get("environment")?,
        url: r.try_get("url")?,
        description: r.try_get("description")?,
        events: serde_json::from_str(&r.try_get::<String, _>("events")?)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?,
        enabled: r.try_get::<i64, _>("enabled")? != 0,
        secret: r.try_get("secret")?,
        previous_secret: r.try_get("previous_secret")?,
        previous_until: r
            .try_get::<Option<i64>, _>("previous_until")?
            .map(Timestamp),
        created_at: Timestamp(r.try_get("created_at")?),
        updated_at: Timestamp(r.try_get("updated_at")?),
    })
}

fn json_of(w: &WebhookRecord) -> String {
    serde_json::json!({
        "id": w.id.to_string(), "environment": w.environment, "url": w.url,
        "description": w.description, "events": w.events, "enabled": w.enabled,
    })
    .to_string()
}

/// An outbox row claimed for one delivery attempt.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub id: String,
    pub tenant_id: TenantId,
    pub environment_id: EnvironmentId,
    pub sink: String,
    pub payload: String,
    pub event_count: i64,
    /// This attempt's number (1 for the first).
    pub attempt: i64,
    pub created_at: Timestamp,
}

/// A delivery as the admin API lists it (dead letters, delivery log).
#[derive(Debug, Clone)]
pub struct OutboxRecord {
    pub id: String,
    pub environment_id: EnvironmentId,
    pub sink: String,
    pub status: String,
    pub event_count: i64,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub created_at: Timestamp,
    pub finished_at: Option<Timestamp>,
}

#[derive(Debug, Clone)]
pub struct AttemptRecord {
    pub outbox_id: String,
    pub attempt: i64,
    pub at: Timestamp,
    pub duration_ms: i64,
    pub status_code: Option<i64>,
    pub ok: bool,
    pub error: Option<String>,
}

/// The outcome of one attempt.
#[derive(Debug, Clone)]
pub enum Outcome {
    Delivered,
    /// Try again at this time.
    Retry {
        at: Timestamp,
        error: String,
    },
    /// Out of attempts: to the dead-letter store.
    Dead {
        error: String,
    },
}

#[derive(Debug, Clone, Copy, Default)]
pub struct Backlog {
    pub pending: i64,
    pub oldest_created_at: Option<i64>,
}

fn outbox_from_row(r: &sqlx::any::AnyRow) -> Result<OutboxRecord, StoreError> {
    Ok(OutboxRecord {
        id: r.try_get("id")?,
        environment_id: parse_id(&r.try_get::<String, _>("environment_id")?)?,
        sink: r.try_get("sink")?,
        status: r.try_get("status")?,
        event_count: r.try_get("event_count")?,
        attempts: r.try_get("attempts")?,
        last_error: r.try_get("last_error")?,
        created_at: Timestamp(r.try_get("created_at")?),
        finished_at: r.try_get::<Option<i64>, _>("finished_at")?.map(Timestamp),
    })
}

const OUTBOX_COLUMNS: &str =
    "id, environment_id, sink, status, event_count, attempts, last_error, created_at, finished_at";

impl Store {
    #[tracing::instrument(name = "store.create_webhook", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn create_webhook(
        &self,
        tenant: TenantId,
        w: &WebhookWrite,
        sealed_secret: &str,
        mut audit: AuditEntry,
    ) -> Result<WebhookRecord, StoreError> {
        let now = self.clock.now();
        let id = WebhookId::new_v7();
        let mut tx = self.begin().await?;
        ensure_env(&mut tx, tenant, w.environment_id).await?;
        sqlx::query(
            "INSERT INTO webhooks (id, tenant_id, environment_id, url, description, events, enabled, \
             secret, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)",
        )
        .bind(id.to_string())
        .bind(tenant.to_string())
        .bind(w.environment_id.to_string())
        .bind(&w.url)
        .bind(&w.description)
        .bind(serde_json::to_string(&w.events).unwrap_or_else(|_| "[]".into()))
        .bind(i64::from(w.enabled))
        .bind(sealed_secret)
        .bind(now.millis())
        .execute(&mut *tx)
        .await?;
        let created = fetch(&mut tx, tenant, id).await?;
        audit.object_id = id.to_string();
        audit.after = Some(json_of(&created));
        self.commit_change_audited(tx, tenant, &audit, now).await?;
        Ok(created)
    }

    #[tracing::instrument(name = "store.webhooks", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn webhooks(&self, tenant: TenantId) -> Result<Vec<WebhookRecord>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM webhooks w JOIN environments e ON e.id = w.environment_id \
             WHERE w.tenant_id = $1 ORDER BY w.created_at, w.id"
        ))
        .bind(tenant.to_string())
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(from_row).collect()
    }

    #[tracing::instrument(name = "store.webhook", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn webhook(
        &self,
        tenant: TenantId,
        id: WebhookId,
    ) -> Result<WebhookRecord, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM webhooks w JOIN environments e ON e.id = w.environment_id \
             WHERE w.tenant_id = $1 AND w.id = $2"
        ))
        .bind(tenant.to_string())
        .bind(id.to_string())
        .fetch_optional(&self.read)
        .await?
        .ok_or(StoreError::NotFound)?;
        from_row(&row)
    }

    #[tracing::instrument(name = "store.update_webhook", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn update_webhook(
        &self,
        tenant: TenantId,
        id: WebhookId,
        w: &WebhookWrite,
        mut audit: AuditEntry,
    ) -> Result<WebhookRecord, StoreError> {
        let now = self.clock.now();
        let mut tx = self.begin().await?;
        let before = fetch(&mut tx, tenant, id).await?;
        ensure_env(&mut tx, tenant, w.environment_id).await?;
        sqlx::query(
            "UPDATE webhooks SET environment_id = $1, url = $2, description = $3, events = $4, \
             enabled = $5, updated_at = $6 WHERE tenant_id = $7 AND id = $8",
        )
        .bind(w.environment_id.to_string())
        .bind(&w.url)
        .bind(&w.description)
        .bind(serde_json::to_string(&w.events).unwrap_or_else(|_| "[]".into()))
        .bind(i64::from(w.enabled))
        .bind(now.millis())
        .bind(tenant.to_string())
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
        let after = fetch(&mut tx, tenant, id).await?;
        audit.object_id = id.to_string();
        audit.before = Some(json_of(&before));
        audit.after = Some(json_of(&after));
        self.commit_change_audited(tx, tenant, &audit, now).await?;
        Ok(after)
    }

    /// Replaces the secret; the previous one keeps signing until `previous_until`.
    #[tracing::instrument(name = "store.rotate_webhook_secret", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn rotate_webhook_secret(
        &self,
        tenant: TenantId,
        id: WebhookId,
        sealed_secret: &str,
        previous_until: Timestamp,
        mut audit: AuditEntry,
    ) -> Result<WebhookRecord, StoreError> {
        let now = self.clock.now();
        let mut tx = self.begin().await?;
        fetch(&mut tx, tenant, id).await?;
        sqlx::query(
            "UPDATE webhooks SET previous_secret = secret, previous_until = $1, secret = $2, \
             updated_at = $3 WHERE tenant_id = $4 AND id = $5",
        )
        .bind(previous_until.millis())
        .bind(sealed_secret)
        .bind(now.millis())
        .bind(tenant.to_string())
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
        let after = fetch(&mut tx, tenant, id).await?;
        audit.object_id = id.to_string();
        self.commit_change_audited(tx, tenant, &audit, now).await?;
        Ok(after)
    }

    #[tracing::instrument(name = "store.delete_webhook", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn delete_webhook(
        &self,
        tenant: TenantId,
        id: WebhookId,
        mut audit: AuditEntry,
    ) -> Result<(), StoreError> {
        let now = self.clock.now();
        let mut tx = self.begin().await?;
        let before = fetch(&mut tx, tenant, id).await?;
        sqlx::query("DELETE FROM webhooks WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.to_string())
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        // Deliveries still waiting for it have nowhere to go.
        sqlx::query(
            "UPDATE outbox SET status = 'discarded', finished_at = $1, last_error = 'webhook deleted' \
             WHERE tenant_id = $2 AND sink = $3 AND status = 'pending'",
        )
        .bind(now.millis())
        .bind(tenant.to_string())
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
        audit.object_id = id.to_string();
        audit.before = Some(json_of(&before));
        self.commit_change_audited(tx, tenant, &audit, now).await?;
        Ok(())
    }

    /// A webhook by id for the relay (the outbox row names its tenant).
    #[tracing::instrument(name = "store.webhook_for_delivery", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn webhook_for_delivery(
        &self,
        tenant: TenantId,
        id: &str,
    ) -> Result<Option<WebhookRecord>, StoreError> {
        match id.parse::<WebhookId>() {
            Ok(id) => match self.webhook(tenant, id).await {
                Ok(w) => Ok(Some(w)),
                Err(StoreError::NotFound) => Ok(None),
                Err(e) => Err(e),
            },
            Err(_) => Ok(None),
        }
    }

    /// Queues one delivery (a test send) outside event ingest.
    #[tracing::instrument(name = "store.enqueue_delivery", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn enqueue_delivery(
        &self,
        tenant: TenantId,
        env: EnvironmentId,
        sink: &str,
        id: &str,
        payload: &str,
    ) -> Result<(), StoreError> {
        let now = self.clock.now().millis();
        let mut tx = self.begin_write().await?;
        tx.run(
            "INSERT INTO outbox (id, tenant_id, environment_id, sink, event_count, \
             next_attempt_at, created_at) VALUES ($1, $2, $3, $4, 0, $5, $5)",
            vec![
                V::T(id.to_owned()),
                V::T(tenant.to_string()),
                V::T(env.to_string()),
                V::T(sink.to_owned()),
                V::I(now),
            ],
        )
        .await?;
        tx.run(
            "INSERT INTO outbox_payloads (outbox_id, payload) VALUES ($1, $2)",
            vec![V::T(id.to_owned()), V::T(payload.to_owned())],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Leases up to `limit` due deliveries for `lease_ms`, skipping `paused` sinks
    /// (open circuit breakers). With PostgreSQL rows locked by another relay are
    /// skipped (`FOR UPDATE SKIP LOCKED`); a lease that ran out (a relay died
    /// mid-attempt) is claimed again.
    #[tracing::instrument(name = "store.claim_deliveries", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn claim_deliveries(
        &self,
        limit: usize,
        lease_ms: i64,
        paused: &[String],
    ) -> Result<Vec<Claimed>, StoreError> {
        let now = self.clock.now().millis();
        let paused_sql = if paused.is_empty() {
            String::new()
        } else {
            let list = (0..paused.len())
                .map(|i| format!("${}", i + 4))
                .collect::<Vec<_>>()
                .join(", ");
            format!(" AND sink NOT IN ({list})")
        };
        let lock = match self.backend {
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let sql = format!(
            "UPDATE outbox SET attempts = attempts + 1, lease_until = $1 + $2 WHERE id IN (\
             SELECT id FROM outbox WHERE status = 'pending' AND next_attempt_at <= $1 \
             AND (lease_until IS NULL OR lease_until <= $1){paused_sql} \
             ORDER BY next_attempt_at LIMIT $3{lock}) \
             RETURNING id, tenant_id, environment_id, sink, \
             (SELECT payload FROM outbox_payloads WHERE outbox_id = outbox.id), \
             event_count, attempts, created_at"
        );
        let mut args = vec![
            V::I(now),
            V::I(lease_ms),
            V::I(i64::try_from(limit).unwrap_or(100)),
        ];
        args.extend(paused.iter().map(|p| V::T(p.clone())));
        use Col::{Int, Text};
        let cols = [Text, Text, Text, Text, Text, Int, Int, Int];
        let rows = self.write_rows(&sql, args, &cols).await?;
        rows.into_iter()
            .map(|r| {
                let mut r = Cells::of(r);
                Ok(Claimed {
                    id: r.text()?,
                    tenant_id: parse_id(&r.text()?)?,
                    environment_id: parse_id(&r.text()?)?,
                    sink: r.text()?,
                    payload: r.text()?,
                    event_count: r.int()?,
                    attempt: r.int()?,
                    created_at: Timestamp(r.int()?),
                })
            })
            .collect()
    }

    /// Records an attempt and what follows from it, in one transaction.
    #[tracing::instrument(name = "store.finish_attempt", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn finish_attempt(
        &self,
        claimed: &Claimed,
        outcome: &Outcome,
        status_code: Option<i64>,
        duration_ms: i64,
    ) -> Result<(), StoreError> {
        self.finish_attempts(&[(claimed.clone(), outcome.clone(), status_code, duration_ms)])
            .await
    }

    /// Records several attempts in one transaction (a relay round's).
    #[tracing::instrument(name = "store.finish_attempts", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn finish_attempts(
        &self,
        attempts: &[(Claimed, Outcome, Option<i64>, i64)],
    ) -> Result<(), StoreError> {
        if attempts.is_empty() {
            return Ok(());
        }
        let now = self.clock.now().millis();
        let mut tx = self.begin_write().await?;
        for (claimed, outcome, status_code, duration_ms) in attempts {
            Self::settle_in(&mut tx, now, claimed, outcome, *status_code, *duration_ms).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn settle_in(
        tx: &mut impl Exec,
        now: i64,
        claimed: &Claimed,
        outcome: &Outcome,
        status_code: Option<i64>,
        duration_ms: i64,
    ) -> Result<(), StoreError> {
        let (ok, error) = match outcome {
            Outcome::Delivered => (true, None),
            Outcome::Retry { error, .. } | Outcome::Dead { error } => (false, Some(error.clone())),
        };
        tx.run(
            "INSERT INTO delivery_attempts (id, tenant_id, outbox_id, sink, attempt, at, duration_ms, \
             status_code, ok, error) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            vec![
                V::T(uuid::Uuid::now_v7().to_string()),
                V::T(claimed.tenant_id.to_string()),
                V::T(claimed.id.clone()),
                V::T(claimed.sink.clone()),
                V::I(claimed.attempt),
                V::I(now),
                V::I(duration_ms),
                V::OI(status_code),
                V::I(i64::from(ok)),
                V::OT(error),
            ],
        )
        .await?;
        // Only the lease holder of this attempt may settle it.
        let key = [V::T(claimed.id.clone()), V::I(claimed.attempt)];
        let (sql, more) = match outcome {
            Outcome::Delivered => (
                "UPDATE outbox SET status = 'delivered', finished_at = $3, lease_until = NULL, \
                 last_error = NULL WHERE id = $1 AND status = 'pending' AND attempts = $2",
                vec![V::I(now)],
            ),
            Outcome::Retry { at, error } => (
                "UPDATE outbox SET next_attempt_at = $3, lease_until = NULL, last_error = $4 \
                 WHERE id = $1 AND status = 'pending' AND attempts = $2",
                vec![V::I(at.millis()), V::T(error.clone())],
            ),
            Outcome::Dead { error } => (
                "UPDATE outbox SET status = 'dead', finished_at = $3, lease_until = NULL, \
                 last_error = $4 WHERE id = $1 AND status = 'pending' AND attempts = $2",
                vec![V::I(now), V::T(error.clone())],
            ),
        };
        tx.run(sql, key.into_iter().chain(more).collect()).await?;
        Ok(())
    }

    /// Gives a claimed delivery back without counting the attempt (the sink's
    /// circuit is open, or the node is stopping).
    #[tracing::instrument(name = "store.release_delivery", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn release_delivery(
        &self,
        claimed: &Claimed,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        self.write_rows(
            "UPDATE outbox SET attempts = attempts - 1, lease_until = NULL, next_attempt_at = $3 \
             WHERE id = $1 AND status = 'pending' AND attempts = $2",
            vec![
                V::T(claimed.id.clone()),
                V::I(claimed.attempt),
                V::I(at.millis()),
            ],
            &[],
        )
        .await?;
        Ok(())
    }

    #[tracing::instrument(name = "store.outbox_backlog", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn outbox_backlog(&self) -> Result<Backlog, StoreError> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM outbox WHERE status = 'pending'",
        )
        .fetch_one(&self.read)
        .await?;
        Ok(Backlog {
            pending: row.try_get("n")?,
            oldest_created_at: row.try_get("oldest")?,
        })
    }

    /// Deliveries of one tenant by status, newest first; `before` pages (an id).
    #[tracing::instrument(name = "store.outbox_by_status", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn outbox_by_status(
        &self,
        tenant: TenantId,
        status: &str,
        sink: Option<&str>,
        before: Option<&str>,
        limit: usize,
    ) -> Result<Vec<OutboxRecord>, StoreError> {
        let mut sql =
            format!("SELECT {OUTBOX_COLUMNS} FROM outbox WHERE tenant_id = $1 AND status = $2");
        let mut n = 2;
        if sink.is_some() {
            n += 1;
            sql.push_str(&format!(" AND sink = ${n}"));
        }
        if before.is_some() {
            n += 1;
            sql.push_str(&format!(" AND id < ${n}"));
        }
        sql.push_str(&format!(" ORDER BY id DESC LIMIT {}", limit.min(1000)));
        let mut q = sqlx::query(&sql).bind(tenant.to_string()).bind(status);
        if let Some(s) = sink {
            q = q.bind(s);
        }
        if let Some(b) = before {
            q = q.bind(b);
        }
        q.fetch_all(&self.read)
            .await?
            .iter()
            .map(outbox_from_row)
            .collect()
    }

    #[tracing::instrument(name = "store.outbox_entry", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn outbox_entry(
        &self,
        tenant: TenantId,
        id: &str,
    ) -> Result<(OutboxRecord, String), StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {OUTBOX_COLUMNS}, \
             (SELECT payload FROM outbox_payloads WHERE outbox_id = outbox.id) AS payload \
             FROM outbox WHERE tenant_id = $1 AND id = $2"
        ))
        .bind(tenant.to_string())
        .bind(id)
        .fetch_optional(&self.read)
        .await?
        .ok_or(StoreError::NotFound)?;
        let payload: Option<String> = row.try_get("payload")?;
        Ok((outbox_from_row(&row)?, payload.unwrap_or_default()))
    }

    /// Dead letters back to the queue (same delivery id), attempts reset.
    #[tracing::instrument(name = "store.replay_dead_letters", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn replay_dead_letters(
        &self,
        tenant: TenantId,
        ids: &[String],
        mut audit: AuditEntry,
    ) -> Result<u64, StoreError> {
        self.settle_dead(tenant, ids, true, &mut audit).await
    }

    #[tracing::instrument(name = "store.discard_dead_letters", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn discard_dead_letters(
        &self,
        tenant: TenantId,
        ids: &[String],
        mut audit: AuditEntry,
    ) -> Result<u64, StoreError> {
        self.settle_dead(tenant, ids, false, &mut audit).await
    }

    async fn settle_dead(
        &self,
        tenant: TenantId,
        ids: &[String],
        replay: bool,
        audit: &mut AuditEntry,
    ) -> Result<u64, StoreError> {
        let now = self.clock.now();
        let mut tx = self.begin().await?;
        let mut n = 0;
        for id in ids {
            let sql = if replay {
                "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = $1, \
                 lease_until = NULL, finished_at = NULL WHERE tenant_id = $2 AND id = $3 AND status = 'dead'"
            } else {
                "UPDATE outbox SET status = 'discarded', finished_at = $1 \
                 WHERE tenant_id = $2 AND id = $3 AND status = 'dead'"
            };
            n += sqlx::query(sql)
                .bind(now.millis())
                .bind(tenant.to_string())
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        }
        audit.after = Some(serde_json::json!({ "ids": ids, "count": n }).to_string());
        self.commit_audited(tx, tenant, audit, now).await?;
        Ok(n)
    }

    /// Attempts at one sink since `since`, newest first.
    #[tracing::instrument(name = "store.delivery_attempts", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn delivery_attempts(
        &self,
        tenant: TenantId,
        sink: &str,
        since: Timestamp,
        limit: usize,
    ) -> Result<Vec<AttemptRecord>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT outbox_id, attempt, at, duration_ms, status_code, ok, error FROM delivery_attempts \
             WHERE tenant_id = $1 AND sink = $2 AND at >= $3 ORDER BY at DESC LIMIT {}",
            limit.min(1000)
        ))
        .bind(tenant.to_string())
        .bind(sink)
        .bind(since.millis())
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(AttemptRecord {
                    outbox_id: r.try_get("outbox_id")?,
                    attempt: r.try_get("attempt")?,
                    at: Timestamp(r.try_get("at")?),
                    duration_ms: r.try_get("duration_ms")?,
                    status_code: r.try_get("status_code")?,
                    ok: r.try_get::<i64, _>("ok")? != 0,
                    error: r.try_get("error")?,
                })
            })
            .collect()
    }
}

async fn fetch(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    tenant: TenantId,
    id: WebhookId,
) -> Result<WebhookRecord, StoreError> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM webhooks w JOIN environments e ON e.id = w.environment_id \
         WHERE w.tenant_id = $1 AND w.id = $2"
    ))
    .bind(tenant.to_string())
    .bind(id.to_string())
    .fetch_optional(&mut **tx)
    .await?
    .ok_or(StoreError::NotFound)?;
    from_row(&row)
}
