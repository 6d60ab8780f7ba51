//! Reads for analytics: sums over rollups, distinct users per day, completion
//! times, checklist progress, survey texts and experiment arms. Every query is
//! scoped by tenant and environment; none reads raw events except survey texts.

use crate::{Store, StoreError};
use spotlight_domain::{EnvironmentId, TenantId};
use sqlx::Row;

pub use spotlight_domain::analytics::report::Cell;

fn n(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

impl Store {
    /// Rollup sums per bucket, object, step, event and detail in `[from, to)`,
    /// optionally for one object.
    #[tracing::instrument(name = "store.rollup_cells", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn rollup_cells(
        &self,
        tenant: TenantId,
        env: EnvironmentId,
        grain: &str,
        from: i64,
        to: i64,
        object: Option<&str>,
    ) -> Result<Vec<Cell>, StoreError> {
        let mut sql = String::from(
            "SELECT bucket, object_id, step, event, detail, CAST(SUM(count) AS BIGINT) AS n \
             FROM rollups WHERE environment_id = $1 AND tenant_id = $2 AND grain = $3 \
             AND bucket >= $4 AND bucket < $5",
        );
        if object.is_some() {
            sql.push_str(" AND object_id = $6");
        }
        sql.push_str(" GROUP BY bucket, object_id, step, event, detail");
        let mut q = sqlx::query(&sql)
            .bind(env.to_string())
            .bind(tenant.to_string())
            .bind(grain)
            .bind(from)
            .bind(to);
        if let Some(o) = object {
            q = q.bind(o);
        }
        q.fetch_all(&self.read)
            .await?
            .iter()
            .map(|r| {
                Ok(Cell {
                    bucket: r.try_get("bucket")?,
                    object_id: r.try_get("object_id")?,
                    step: r.try_get("step")?,
                    event: r.try_get("event")?,
                    detail: r.try_get("detail")?,
                    count: n(r.try_get("n")?),
                })
            })
            .collect()
    }

    /// Distinct users in `[from_day, to_day)`: of the environment (`object` ""),
    /// or of one object.
    #[tracing::instrument(name = "store.distinct_users", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn distinct_users(
        &self,
        tenant: TenantId,
        env: EnvironmentId,
        from_day: i64,
        to_day: i64,
        object: &str,
    ) -> Result<u64, StoreError> {
        let v: i64 = sqlx::query_scalar(
            "SELECT COUNT(DISTINCT user_id) FROM rollup_users WHERE environment_id = $1 \
             AND tenant_id = $2 AND object_id = $3 AND day >= $4 AND day < $5",
        )
        .bind(env.to_string())
        .bind(tenant.to_string())
        .bind(object)
        .bind(from_day)
        .bind(to_day)
        .fetch_one(&self.read)
        .await?;
        Ok(n(v))
    }

    /// Distinct users in `[from_day, to_day)` of each of `objects` (one query),
    /// by object id; objects nobody has are left out.
    #[tracing::instrument(name = "store.distinct_users_of", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn distinct_users_of(
        &self,
        tenant: TenantId,
        env: EnvironmentId,
        from_day: i64,
        to_day: i64,
        objects: &[String],
    ) -> Result<Vec<(String, u64)>, StoreError> {
        if objects.is_empty() {
            return Ok(vec![]);
        }
        let sql = format!(
            "SELECT object_id, COUNT(DISTINCT user_id) AS n FROM rollup_users \
             WHERE environment_id = $1 AND tenant_id = $2 AND day >= $3 AND day < $4 \
             AND object_id IN ({}) GROUP BY object_id",
            crate::objects::placeholders(5, objects.len())
        );
        let mut q = sqlx::query(&sql)
            .bind(env.to_string())
            .bind(tenant.to_string())
            .bind(from_day)
            .bind(to_day);
        for o in objects {
            q = q.bind(o.as_str());
        }
        let rows = q.fetch_all(&self.read).await?;
        rows.iter()
            .map(|r| Ok((r.try_get("object_id")?, n(r.try_get("n")?))))
            .collect()
    }

    /// Distinct users per day in `[from_day, to_day)` (of the environment, or one object).
    #[tracing::instrument(name = "store.daily_users", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn daily_users(
        &self,
        tenant: TenantId,
        env: EnvironmentId,
        from_day: i64,
        to_day: i64,
        object: &str,
    ) -> Result<Vec<(i64, u64)>, StoreError> {
        let rows = sqlx::query(
            "SELECT day, COUNT(*) AS n FROM rollup_users WHERE environment_id = $1 \
             AND tenant_id = $2 AND object_id = $3 AND day >= $4 AND day < $5 GROUP BY day",
        )
        .bind(env.to_string())
        .bind(tenant.to_string())
        .bind(object)
        .bind(from_day)
        .bind(to_day)
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("day")?, n(r.try_get("n")?))))
            .collect()
    }

    /// Users first seen in `[from, to)`.
    #[tracing::instrument(name = "store.new_users", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn new_users(
        &self,
        tenant: TenantId,
        env: EnvironmentId,
        from: i64,
        to: i64,
    ) -> Result<u64, StoreError> {
        let v: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM end_users WHERE environment_id = $1 AND tenant_id = $2 \
             AND first_seen >= $3 AND first_seen < $4",
        )
        .bind(env.to_string())
        .bind(tenant.to_string())
        .bind(from)
        .bind(to)
        .fetch_one(&self.read)
        .await?;
        Ok(n(v))
    }

    /// Time from start to completion (ms) of each user who completed `object` in `[from, to)`.
    #[tracing::instrument(name = "store.completion_times", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn completion_times(
        &self,
        tenant: TenantId,
        env: EnvironmentId,
        object: &str,
        from: i64,
        to: i64,
    ) -> Result<Vec<i64>, StoreError> {
        let rows = sqlx::query(
            "SELECT completed_at - started_at AS took FROM user_progress WHERE environment_id = $1 \
             AND tenant_id = $2 AND object_id = $3 AND completed_at >= $4 AND completed_at < $5 \
             AND started_at IS NOT NULL AND completed_at >= started_at",
        )
        .bind(env.to_string())
        .bind(tenant.to_string())
        .bind(object)
        .bind(from)
        .bind(to)
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(|r| Ok(r.try_get("took")?)).collect()
    }

    /// Every user's progress on a checklist: (items done, JSON list; completed).
    #[tracing::instrument(name = "store.checklist_progress", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn checklist_progress(
        &self,
        tenant: TenantId,
        env: EnvironmentId,
        object: &str,
    ) -> Result<Vec<(Vec<String>, bool)>, StoreError> {
        let rows = sqlx::query(
            "SELECT items_completed, completed_at FROM user_progress WHERE environment_id = $1 \
             AND tenant_id = $2 AND object_id = $3",
        )
        .bind(env.to_string())
        .bind(tenant.to_string())
        .bind(object)
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| {
                let items: String = r.try_get("items_completed")?;
                Ok((
                    serde_json::from_str(&items).unwrap_or_default(),
                    r.try_get::<Option<i64>, _>("completed_at")?.is_some(),
                ))
            })
            .collect()
    }

    /// Every survey answer to one tour in `[from, to)`, newest first, after the
    /// `(time, event id)` cursor: (time, event id, user, step, properties).
    #[allow(clippy::type_complexity)]
    #[tracing::instrument(name = "store.survey_responses", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn survey_responses(
        &self,
        tenant: TenantId,
        env: EnvironmentId,
        tour: &str,
        (from, to): (i64, i64),
        before: Option<(i64, String)>,
        limit: usize,
    ) -> Result<Vec<(i64, String, String, Option<i64>, String)>, StoreError> {
        let (at, id) = before.unwrap_or((i64::MAX, String::new()));
        let rows = sqlx::query(&format!(
            "SELECT occurred_at, event_id, user_id, step, properties FROM events \
             WHERE environment_id = $1 AND tenant_id = $2 AND name = 'survey_answered' \
             AND object_id = $3 AND occurred_at >= $4 AND occurred_at < $5 \
             AND (occurred_at < $6 OR (occurred_at = $6 AND event_id < $7)) \
             ORDER BY occurred_at DESC, event_id DESC LIMIT {}",
            limit.clamp(1, 101)
        ))
        .bind(env.to_string())
        .bind(tenant.to_string())
        .bind(tour)
        .bind(from)
        .bind(to)
        .bind(at)
        .bind(id)
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get("occurred_at")?,
                    r.try_get("event_id")?,
                    r.try_get("user_id")?,
                    r.try_get("step")?,
                    r.try_get("properties")?,
                ))
            })
            .collect()
    }

    /// Free-text survey answers to one step, newest first: (time, user, text).
    #[tracing::instrument(name = "store.survey_texts", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn survey_texts(
        &self,
        tenant: TenantId,
        env: EnvironmentId,
        tour: &str,
        step: i64,
        (from, to): (i64, i64),
        limit: usize,
    ) -> Result<Vec<(i64, String, String)>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT occurred_at, user_id, properties FROM events WHERE environment_id = $1 \
             AND tenant_id = $2 AND name = 'survey_answered' AND occurred_at >= $3 \
             AND occurred_at < $4 AND object_id = $5 AND step = $6 \
             ORDER BY occurred_at DESC LIMIT {}",
            limit.min(1000)
        ))
        .bind(env.to_string())
        .bind(tenant.to_string())
        .bind(from)
        .bind(to)
        .bind(tour)
        .bind(step)
        .fetch_all(&self.read)
        .await?;
        let mut out = Vec::new();
        for r in &rows {
            let props: String = r.try_get("properties")?;
            let v: serde_json::Value = serde_json::from_str(&props).unwrap_or_default();
            if let Some(text) = v.get("text").and_then(|t| t.as_str()) {
                out.push((
                    r.try_get("occurred_at")?,
                    r.try_get("user_id")?,
                    text.to_owned(),
                ));
            }
        }
        Ok(out)
    }

    /// Per experiment arm: (arm, users exposed, users converted), exposures in `[from, to)`.
    #[tracing::instrument(name = "store.experiment_arms", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn experiment_arms(
        &self,
        tenant: TenantId,
        env: EnvironmentId,
        object: &str,
        from: i64,
        to: i64,
    ) -> Result<Vec<(String, u64, u64)>, StoreError> {
        let rows = sqlx::query(
            "SELECT arm, COUNT(*) AS exposed, COUNT(converted_at) AS converted \
             FROM experiment_exposures WHERE environment_id = $1 AND tenant_id = $2 \
             AND object_id = $3 AND exposed_at >= $4 AND exposed_at < $5 GROUP BY arm ORDER BY arm",
        )
        .bind(env.to_string())
        .bind(tenant.to_string())
        .bind(object)
        .bind(from)
        .bind(to)
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get("arm")?,
                    n(r.try_get("exposed")?),
                    n(r.try_get("converted")?),
                ))
            })
            .collect()
    }
}
