//! Removing rows past their keeping time, in bounded batches so a large backlog
//! never holds the write lock for long.

use crate::{Store, StoreError};
use spotlight_domain::Timestamp;
use sqlx::Row;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purge {
    /// Raw interaction events, by arrival.
    Events,
    /// Delivered and discarded deliveries, by when they ended.
    Outbox,
    /// The delivery log.
    DeliveryAttempts,
    /// Dead letters, by when they died.
    DeadLetters,
    /// The audit log.
    Audit,
}

impl Purge {
    pub const ALL: [Purge; 5] = [
        Purge::Events,
        Purge::Outbox,
        Purge::DeliveryAttempts,
        Purge::DeadLetters,
        Purge::Audit,
    ];

    pub fn table(self) -> &'static str {
        match self {
            Purge::Events => "events",
            Purge::Outbox => "outbox",
            Purge::DeliveryAttempts => "delivery_attempts",
            Purge::DeadLetters => "dead_letters",
            Purge::Audit => "audit_log",
        }
    }

    fn sql(self) -> &'static str {
        match self {
            Purge::Events => {
                "DELETE FROM events WHERE (environment_id, event_id) IN \
                 (SELECT environment_id, event_id FROM events WHERE received_at < $1 LIMIT $2)"
            }
            Purge::Outbox => {
                "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE \
                 status IN ('delivered', 'discarded') AND finished_at < $1 LIMIT $2)"
            }
            Purge::DeliveryAttempts => {
                "DELETE FROM delivery_attempts WHERE id IN \
                 (SELECT id FROM delivery_attempts WHERE at < $1 LIMIT $2)"
            }
            Purge::DeadLetters => {
                "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE \
                 status = 'dead' AND finished_at < $1 LIMIT $2)"
            }
            Purge::Audit => {
                "DELETE FROM audit_log WHERE id IN (SELECT id FROM audit_log WHERE at < $1 LIMIT $2)"
            }
        }
    }
}

impl Store {
    /// Removes up to `limit` rows of `what` older than `before`; returns how many.
    /// Deliveries go with their payloads.
    #[tracing::instrument(name = "store.purge", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn purge(
        &self,
        what: Purge,
        before: Timestamp,
        limit: u32,
    ) -> Result<u64, StoreError> {
        let query = |sql| {
            sqlx::query(sql)
                .bind(before.millis())
                .bind(i64::from(limit))
        };
        if !matches!(what, Purge::Outbox | Purge::DeadLetters) {
            return Ok(query(what.sql())
                .execute(&self.write)
                .await?
                .rows_affected());
        }
        let mut tx = self.begin().await?;
        let sql = format!("{} RETURNING id", what.sql());
        let ids: Vec<String> = query(&sql)
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|r| r.try_get(0))
            .collect::<Result<_, _>>()?;
        for chunk in ids.chunks(500) {
            let list = (1..=chunk.len())
                .map(|i| format!("${i}"))
                .collect::<Vec<_>>()
                .join(", ");
            let sql = format!("DELETE FROM outbox_payloads WHERE outbox_id IN ({list})");
            let mut q = sqlx::query(&sql);
            for id in chunk {
                q = q.bind(id);
            }
            q.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(ids.len() as u64)
    }
}
