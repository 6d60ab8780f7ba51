//! Usage per tenant and environment: daily counters the nodes add to, end
//! users active per month, and what each environment stores.

use crate::{Store, StoreError};
use spotlight_domain::{EnvironmentId, TenantId};
use sqlx::Row;
use std::collections::BTreeMap;

/// Counts to add to one day of one environment.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct UsageCounts {
    pub config_requests: u64,
    pub events_ingested: u64,
    pub deliveries: u64,
}

impl UsageCounts {
    pub fn is_zero(&self) -> bool {
        *self == UsageCounts::default()
    }
}

/// One environment's usage over a range of days.
#[derive(Debug, Clone, Default)]
pub struct UsageRow {
    pub tenant_id: String,
    pub environment_id: String,
    pub counts: UsageCounts,
    /// Month (`YYYY-MM`) → distinct end users active in it.
    pub active_users: BTreeMap<String, u64>,
    /// The stored size of the environment's events, end users and progress (text bytes).
    pub stored_bytes: u64,
}

fn count(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

type Rows = BTreeMap<(String, String), UsageRow>;

/// The row of the environment a result row names.
fn entry<'a>(rows: &'a mut Rows, r: &sqlx::any::AnyRow) -> Result<&'a mut UsageRow, StoreError> {
    let (tenant_id, environment_id): (String, String) =
        (r.try_get("tenant_id")?, r.try_get("environment_id")?);
    Ok(rows
        .entry((tenant_id.clone(), environment_id.clone()))
        .or_insert_with(|| UsageRow {
            tenant_id,
            environment_id,
            ..UsageRow::default()
        }))
}

impl Store {
    /// Adds `counts` to `day` (`YYYY-MM-DD`) of each environment, in one transaction.
    #[tracing::instrument(name = "store.add_usage", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn add_usage(
        &self,
        day: &str,
        rows: &[(TenantId, EnvironmentId, UsageCounts)],
    ) -> Result<(), StoreError> {
        if rows.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin().await?;
        for (tenant, env, c) in rows {
            sqlx::query(
                "INSERT INTO usage_daily (tenant_id, environment_id, day, config_requests, events_ingested, deliveries) \
                 VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (tenant_id, environment_id, day) DO UPDATE SET \
                 config_requests = usage_daily.config_requests + excluded.config_requests, \
                 events_ingested = usage_daily.events_ingested + excluded.events_ingested, \
                 deliveries = usage_daily.deliveries + excluded.deliveries",
            )
            .bind(tenant.to_string())
            .bind(env.to_string())
            .bind(day)
            .bind(i64::try_from(c.config_requests).unwrap_or(i64::MAX))
            .bind(i64::try_from(c.events_ingested).unwrap_or(i64::MAX))
            .bind(i64::try_from(c.deliveries).unwrap_or(i64::MAX))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Usage of every environment with any between `from` and `to` (days,
    /// `YYYY-MM-DD`, inclusive), active users for the months they touch.
    #[tracing::instrument(name = "store.usage", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn usage(&self, from: &str, to: &str) -> Result<Vec<UsageRow>, StoreError> {
        let mut rows = Rows::new();
        let daily = sqlx::query(
            "SELECT tenant_id, environment_id, CAST(SUM(config_requests) AS BIGINT) AS c, \
             CAST(SUM(events_ingested) AS BIGINT) AS e, CAST(SUM(deliveries) AS BIGINT) AS d FROM usage_daily WHERE day >= $1 AND day <= $2 \
             GROUP BY tenant_id, environment_id",
        )
        .bind(from)
        .bind(to)
        .fetch_all(&self.read)
        .await?;
        for r in daily {
            let row = entry(&mut rows, &r)?;
            row.counts = UsageCounts {
                config_requests: count(r.try_get("c")?),
                events_ingested: count(r.try_get("e")?),
                deliveries: count(r.try_get("d")?),
            };
        }
        let (from_month, to_month) = (from.get(..7).unwrap_or(from), to.get(..7).unwrap_or(to));
        let active = sqlx::query(
            "SELECT tenant_id, environment_id, month, COUNT(*) AS n FROM usage_active_users \
             WHERE month >= $1 AND month <= $2 GROUP BY tenant_id, environment_id, month",
        )
        .bind(from_month)
        .bind(to_month)
        .fetch_all(&self.read)
        .await?;
        for r in active {
            let row = entry(&mut rows, &r)?;
            row.active_users
                .insert(r.try_get("month")?, count(r.try_get("n")?));
        }
        // What each environment stores now (text bytes of its rows' variable parts).
        for (table, size) in [
            ("events", "LENGTH(event_id) + LENGTH(name) + LENGTH(user_id) + COALESCE(LENGTH(session_id), 0) + COALESCE(LENGTH(object_id), 0) + LENGTH(properties) + 48"),
            ("end_users", "LENGTH(user_id) + LENGTH(attributes) + 24"),
            ("user_progress", "LENGTH(user_id) + LENGTH(object_id) + LENGTH(items_completed) + 64"),
        ] {
            let sql = format!(
                "SELECT tenant_id, environment_id, CAST(SUM({size}) AS BIGINT) AS n FROM {table} GROUP BY tenant_id, environment_id"
            );
            for r in sqlx::query(&sql).fetch_all(&self.read).await? {
                let key = (r.try_get::<String, _>("tenant_id")?, r.try_get::<String, _>("environment_id")?);
                if let Some(row) = rows.get_mut(&key) {
                    row.stored_bytes += count(r.try_get::<Option<i64>, _>("n")?.unwrap_or(0));
                }
            }
        }
        Ok(rows.into_values().collect())
    }
}
