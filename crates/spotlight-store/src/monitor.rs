//! Identity verification's monitor-mode figures: per environment and hour, how
//! many SDK requests were checked and how many enforcing would have refused, by
//! reason. Nodes add their tallies; reads sum them.

use crate::{Store, StoreError};
use spotlight_domain::{EnvironmentId, TenantId};
use sqlx::Row;

/// One node's tally for one environment, hour and reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonitorTally {
    pub tenant: TenantId,
    pub environment: EnvironmentId,
    /// Unix milliseconds at the start of the hour.
    pub hour: i64,
    /// `checked`, or why enforcing would have refused.
    pub reason: String,
    pub count: u64,
}

impl Store {
    /// Adds tallies (one transaction).
    #[tracing::instrument(name = "store.add_identity_monitor", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn add_identity_monitor(&self, tallies: &[MonitorTally]) -> Result<(), StoreError> {
        if tallies.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin().await?;
        for t in tallies {
            sqlx::query(
                "INSERT INTO identity_monitor (environment_id, hour, reason, tenant_id, count) \
                 VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (environment_id, hour, reason) DO UPDATE SET \
                 count = identity_monitor.count + excluded.count \
                 WHERE identity_monitor.tenant_id = excluded.tenant_id",
            )
            .bind(t.environment.to_string())
            .bind(t.hour)
            .bind(&t.reason)
            .bind(t.tenant.to_string())
            .bind(i64::try_from(t.count).unwrap_or(i64::MAX))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Sums per reason since `since` (Unix milliseconds).
    #[tracing::instrument(name = "store.identity_monitor", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn identity_monitor(
        &self,
        tenant: TenantId,
        env: EnvironmentId,
        since: i64,
    ) -> Result<Vec<(String, u64)>, StoreError> {
        let rows = sqlx::query(
            "SELECT reason, CAST(SUM(count) AS BIGINT) AS n FROM identity_monitor \
             WHERE environment_id = $1 AND tenant_id = $2 AND hour >= $3 \
             GROUP BY reason ORDER BY reason",
        )
        .bind(env.to_string())
        .bind(tenant.to_string())
        .bind(since)
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| {
                let n: i64 = r.try_get("n")?;
                Ok((r.try_get("reason")?, u64::try_from(n).unwrap_or(0)))
            })
            .collect()
    }

    /// Removes tallies older than `before` (Unix milliseconds); returns how many.
    #[tracing::instrument(name = "store.prune_identity_monitor", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn prune_identity_monitor(&self, before: i64) -> Result<u64, StoreError> {
        Ok(sqlx::query("DELETE FROM identity_monitor WHERE hour < $1")
            .bind(before)
            .execute(&self.write)
            .await?
            .rows_affected())
    }
}
