//! Reads for analytics: sums over rollups, distinct users per day, completion
//! times, checklist progress, survey texts and experiment arms. Every query is
//! scoped by tenant and environment, and optionally by one account (its own
//! daily rollups and users; its members' progress; the events sent for it);
//! none reads raw events except survey texts.

use crate::{Store, StoreError};
use spotlight_domain::{EnvironmentId, TenantId};
use sqlx::Row;

pub use spotlight_domain::analytics::report::Cell;

fn n(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

/// What analytics read: a tenant's environment, or one account of it.
#[derive(Debug, Clone, Copy)]
pub struct Slice<'a> {
    pub tenant: TenantId,
    pub env: EnvironmentId,
    pub account: Option<&'a str>,
}

type Query<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;

impl<'a> Slice<'a> {
    /// The distinct-users table, and its condition on the account (`$n`).
    fn users_table(&self, n: usize) -> (&'static str, String) {
        match self.account {
            None => ("rollup_users", String::new()),
            Some(_) => ("account_rollup_users", format!(" AND account_id = ${n}")),
        }
    }

    /// A condition keeping the account's members' rows (`$n`); none for the environment.
    fn members(&self, n: usize) -> String {
        match self.account {
            None => String::new(),
            Some(_) => format!(
                " AND user_id IN (SELECT user_id FROM account_members \
                 WHERE environment_id = $1 AND account_id = ${n})"
            ),
        }
    }

    /// `$1` environment, `$2` tenant.
    fn bind<'q>(&self, sql: &'q str) -> Query<'q> {
        sqlx::query(sql)
            .bind(self.env.to_string())
            .bind(self.tenant.to_string())
    }

    /// The account last (when there is one).
    fn bind_account<'q>(&self, q: Query<'q>) -> Query<'q> {
        match self.account {
            Some(a) => q.bind(a.to_owned()),
            None => q,
        }
    }
}

impl Store {
    /// Rollup sums per bucket, object, step, event and detail in `[from, to)`,
    /// optionally for one object. An account's rollups are daily only.
    #[tracing::instrument(name = "store.rollup_cells", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn rollup_cells(
        &self,
        at: Slice<'_>,
        grain: &str,
        from: i64,
        to: i64,
        object: Option<&str>,
    ) -> Result<Vec<Cell>, StoreError> {
        let mut sql = match at.account {
            None => String::from(
                "SELECT bucket, object_id, step, event, detail, CAST(SUM(count) AS BIGINT) AS n \
                 FROM rollups WHERE environment_id = $1 AND tenant_id = $2 AND grain = $3 \
                 AND bucket >= $4 AND bucket < $5",
            ),
            Some(_) => String::from(
                "SELECT bucket, object_id, step, event, detail, CAST(SUM(count) AS BIGINT) AS n \
                 FROM account_rollups WHERE environment_id = $1 AND tenant_id = $2 \
                 AND $3 = 'day' AND bucket >= $4 AND bucket < $5 AND account_id = $6",
            ),
        };
        if object.is_some() {
            let n = if at.account.is_some() { 7 } else { 6 };
            sql.push_str(&format!(" AND object_id = ${n}"));
        }
        sql.push_str(" GROUP BY bucket, object_id, step, event, detail");
        let q = at.bind(&sql).bind(grain).bind(from).bind(to);
        let mut q = at.bind_account(q);
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

    /// Distinct users in `[from_day, to_day)` of one object ("" for any).
    #[tracing::instrument(name = "store.distinct_users", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn distinct_users(
        &self,
        at: Slice<'_>,
        from_day: i64,
        to_day: i64,
        object: &str,
    ) -> Result<u64, StoreError> {
        let (table, account) = at.users_table(6);
        let sql = format!(
            "SELECT COUNT(DISTINCT user_id) AS n FROM {table} WHERE environment_id = $1 \
             AND tenant_id = $2 AND object_id = $3 AND day >= $4 AND day < $5{account}"
        );
        let q = at.bind(&sql).bind(object).bind(from_day).bind(to_day);
        let row = at.bind_account(q).fetch_one(&self.read).await?;
        Ok(n(row.try_get("n")?))
    }

    /// Distinct users in `[from_day, to_day)` of each of `objects` (one query),
    /// by object id; objects nobody has are left out.
    #[tracing::instrument(name = "store.distinct_users_of", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn distinct_users_of(
        &self,
        at: Slice<'_>,
        from_day: i64,
        to_day: i64,
        objects: &[String],
    ) -> Result<Vec<(String, u64)>, StoreError> {
        if objects.is_empty() {
            return Ok(vec![]);
        }
        let (table, account) = at.users_table(5);
        let first = if at.account.is_some() { 6 } else { 5 };
        let sql = format!(
            "SELECT object_id, COUNT(DISTINCT user_id) AS n FROM {table} \
             WHERE environment_id = $1 AND tenant_id = $2 AND day >= $3 AND day < $4{account} \
             AND object_id IN ({}) GROUP BY object_id",
            crate::objects::placeholders(first, objects.len())
        );
        let q = at.bind(&sql).bind(from_day).bind(to_day);
        let mut q = at.bind_account(q);
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
        at: Slice<'_>,
        from_day: i64,
        to_day: i64,
        object: &str,
    ) -> Result<Vec<(i64, u64)>, StoreError> {
        let (table, account) = at.users_table(6);
        let sql = format!(
            "SELECT day, COUNT(*) AS n FROM {table} WHERE environment_id = $1 \
             AND tenant_id = $2 AND object_id = $3 AND day >= $4 AND day < $5{account} GROUP BY day"
        );
        let q = at.bind(&sql).bind(object).bind(from_day).bind(to_day);
        let rows = at.bind_account(q).fetch_all(&self.read).await?;
        rows.iter()
            .map(|r| Ok((r.try_get("day")?, n(r.try_get("n")?))))
            .collect()
    }

    /// Users first seen in `[from, to)`.
    #[tracing::instrument(name = "store.new_users", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn new_users(&self, at: Slice<'_>, from: i64, to: i64) -> Result<u64, StoreError> {
        let sql = format!(
            "SELECT COUNT(*) AS n FROM end_users WHERE environment_id = $1 AND tenant_id = $2 \
             AND first_seen >= $3 AND first_seen < $4{}",
            at.members(5)
        );
        let q = at.bind(&sql).bind(from).bind(to);
        let row = at.bind_account(q).fetch_one(&self.read).await?;
        Ok(n(row.try_get("n")?))
    }

    /// Time from start to completion (ms) of each user who completed `object` in `[from, to)`.
    #[tracing::instrument(name = "store.completion_times", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn completion_times(
        &self,
        at: Slice<'_>,
        object: &str,
        from: i64,
        to: i64,
    ) -> Result<Vec<i64>, StoreError> {
        let sql = format!(
            "SELECT completed_at - started_at AS took FROM user_progress WHERE environment_id = $1 \
             AND tenant_id = $2 AND object_id = $3 AND completed_at >= $4 AND completed_at < $5 \
             AND started_at IS NOT NULL AND completed_at >= started_at{}",
            at.members(6)
        );
        let q = at.bind(&sql).bind(object).bind(from).bind(to);
        let rows = at.bind_account(q).fetch_all(&self.read).await?;
        rows.iter().map(|r| Ok(r.try_get("took")?)).collect()
    }

    /// Every user's progress on a checklist: (items done, JSON list; completed).
    #[tracing::instrument(name = "store.checklist_progress", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn checklist_progress(
        &self,
        at: Slice<'_>,
        object: &str,
    ) -> Result<Vec<(Vec<String>, bool)>, StoreError> {
        let sql = format!(
            "SELECT items_completed, completed_at FROM user_progress WHERE environment_id = $1 \
             AND tenant_id = $2 AND object_id = $3{}",
            at.members(4)
        );
        let q = at.bind(&sql).bind(object);
        let rows = at.bind_account(q).fetch_all(&self.read).await?;
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
        at: Slice<'_>,
        tour: &str,
        (from, to): (i64, i64),
        before: Option<(i64, String)>,
        limit: usize,
    ) -> Result<Vec<(i64, String, String, Option<i64>, String)>, StoreError> {
        let (after_at, after_id) = before.unwrap_or((i64::MAX, String::new()));
        let account = if at.account.is_some() {
            " AND account_id = $8"
        } else {
            ""
        };
        let sql = format!(
            "SELECT occurred_at, event_id, user_id, step, properties FROM events \
             WHERE environment_id = $1 AND tenant_id = $2 AND name = 'survey_answered' \
             AND object_id = $3 AND occurred_at >= $4 AND occurred_at < $5 \
             AND (occurred_at < $6 OR (occurred_at = $6 AND event_id < $7)){account} \
             ORDER BY occurred_at DESC, event_id DESC LIMIT {}",
            limit.clamp(1, 101)
        );
        let q = at
            .bind(&sql)
            .bind(tour)
            .bind(from)
            .bind(to)
            .bind(after_at)
            .bind(after_id);
        let rows = at.bind_account(q).fetch_all(&self.read).await?;
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
        at: Slice<'_>,
        tour: &str,
        step: i64,
        (from, to): (i64, i64),
        limit: usize,
    ) -> Result<Vec<(i64, String, String)>, StoreError> {
        let account = if at.account.is_some() {
            " AND account_id = $7"
        } else {
            ""
        };
        let sql = format!(
            "SELECT occurred_at, user_id, properties FROM events WHERE environment_id = $1 \
             AND tenant_id = $2 AND name = 'survey_answered' AND occurred_at >= $3 \
             AND occurred_at < $4 AND object_id = $5 AND step = $6{account} \
             ORDER BY occurred_at DESC LIMIT {}",
            limit.min(1000)
        );
        let q = at.bind(&sql).bind(from).bind(to).bind(tour).bind(step);
        let rows = at.bind_account(q).fetch_all(&self.read).await?;
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
        at: Slice<'_>,
        object: &str,
        from: i64,
        to: i64,
    ) -> Result<Vec<(String, u64, u64)>, StoreError> {
        let sql = format!(
            "SELECT arm, COUNT(*) AS exposed, COUNT(converted_at) AS converted \
             FROM experiment_exposures WHERE environment_id = $1 AND tenant_id = $2 \
             AND object_id = $3 AND exposed_at >= $4 AND exposed_at < $5{} \
             GROUP BY arm ORDER BY arm",
            at.members(6)
        );
        let q = at.bind(&sql).bind(object).bind(from).bind(to);
        let rows = at.bind_account(q).fetch_all(&self.read).await?;
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
