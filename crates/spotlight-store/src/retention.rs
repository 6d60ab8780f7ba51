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
    /// Erased users' tombstones, once they end.
    Erasures,
}

impl Purge {
    pub const ALL: [Purge; 6] = [
        Purge::Events,
        Purge::Outbox,
        Purge::DeliveryAttempts,
        Purge::DeadLetters,
        Purge::Audit,
        Purge::Erasures,
    ];

    pub fn table(self) -> &'static str {
        match self {
            Purge::Events => "events",
            Purge::Outbox => "outbox",
            Purge::DeliveryAttempts => "delivery_attempts",
            Purge::DeadLetters => "dead_letters",
            Purge::Audit => "audit_log",
            Purge::Erasures => "erasures",
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
            // `until` is when a tombstone ends: kept for no time past it.
            Purge::Erasures => {
                "DELETE FROM erasures WHERE (environment_id, user_digest) IN \
                 (SELECT environment_id, user_digest FROM erasures WHERE until < $1 LIMIT $2)"
            }
        }
    }
}

impl Store {
    /// Removes up to `limit` of one tenant's events (`Purge::Events`) or audit
    /// entries (`Purge::Audit`) older than `before`, for a tenant that keeps
    /// them for less than the server; returns how many. Other kinds: none.
    #[tracing::instrument(name = "store.purge_tenant", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn purge_tenant(
        &self,
        what: Purge,
        tenant: spotlight_domain::TenantId,
        before: Timestamp,
        limit: u32,
    ) -> Result<u64, StoreError> {
        // Events by arrival (the index retention already reads), this tenant's among them.
        let sql = match what {
            Purge::Events => {
                "DELETE FROM events WHERE (environment_id, event_id) IN \
                 (SELECT environment_id, event_id FROM events \
                  WHERE received_at < $1 AND tenant_id = $3 LIMIT $2)"
            }
            Purge::Audit => {
                "DELETE FROM audit_log WHERE id IN (SELECT id FROM audit_log \
                 WHERE tenant_id = $3 AND at < $1 LIMIT $2)"
            }
            _ => return Ok(0),
        };
        Ok(sqlx::query(sql)
            .bind(before.millis())
            .bind(i64::from(limit))
            .bind(tenant.to_string())
            .execute(&self.write)
            .await?
            .rows_affected())
    }

    /// Every tenant's settings (JSON), for the retention job.
    #[tracing::instrument(name = "store.all_tenant_settings", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn all_tenant_settings(
        &self,
    ) -> Result<Vec<(spotlight_domain::TenantId, String)>, StoreError> {
        sqlx::query("SELECT id, settings FROM tenants ORDER BY id")
            .fetch_all(&self.read)
            .await?
            .iter()
            .map(|r| {
                let id: String = r.try_get(0)?;
                let id = id
                    .parse()
                    .map_err(|_| StoreError::Corrupt(format!("tenant id {id}")))?;
                Ok((id, r.try_get(1)?))
            })
            .collect()
    }

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
