//! End users per environment: profiles (written behind by the SDK config
//! endpoint), progress per tour/announcement/checklist and event counts (written
//! by event ingest), read together as one [`UserState`].

use crate::{Store, StoreError};
use spotlight_domain::delivery::Progress;
use spotlight_domain::{EnvironmentId, TenantId, Timestamp};
use sqlx::Row;
use std::collections::HashMap;

/// What evaluation needs to know about one end user.
#[derive(Debug, Clone, Default)]
pub struct UserState {
    /// False until the profile was first written.
    pub known: bool,
    pub attributes: serde_json::Map<String, serde_json::Value>,
    pub verified: bool,
    pub event_counts: HashMap<String, u64>,
    /// By object id.
    pub progress: HashMap<String, Progress>,
    /// When the profile was last written (ms; 0 when never).
    pub last_seen_millis: i64,
}

/// A profile as the admin API shows it.
#[derive(Debug, Clone)]
pub struct EndUser {
    pub user_id: String,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
    pub state: UserState,
}

/// One row of an import: the line it came from, the user's or account's id,
/// the attributes to merge (`null` removes one).
#[derive(Debug, Clone)]
pub struct ImportRow {
    pub line: u64,
    pub id: String,
    pub attributes: serde_json::Map<String, serde_json::Value>,
}

/// What an import writes: end users' profiles or accounts'.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profiles {
    Users,
    Accounts,
}

impl Profiles {
    /// The table and its id column.
    fn table(self) -> (&'static str, &'static str) {
        match self {
            Profiles::Users => ("end_users", "user_id"),
            Profiles::Accounts => ("account_profiles", "account_id"),
        }
    }

    /// The columns written, and one row's values: `$1` environment, `$2`
    /// tenant, `$3` now, then `${id}` and `${attributes}`.
    fn insert(self, id: usize, attributes: usize) -> (&'static str, String) {
        match self {
            Profiles::Users => (
                "environment_id, user_id, tenant_id, attributes, verified, first_seen, last_seen",
                format!("($1, ${id}, $2, ${attributes}, 0, $3, $3)"),
            ),
            Profiles::Accounts => (
                "environment_id, account_id, tenant_id, attributes, first_seen, last_seen",
                format!("($1, ${id}, $2, ${attributes}, $3, $3)"),
            ),
        }
    }
}

/// What one [`Store::import_users`] call wrote.
#[derive(Debug, Clone, Default)]
pub struct ImportOutcome {
    pub created: u64,
    pub updated: u64,
    /// Rows refused after the merge: their line and why.
    pub refused: Vec<(u64, String)>,
}

/// One profile upsert: created on first sight, attributes replaced, last seen advanced.
#[derive(Debug, Clone)]
pub struct ProfileWrite {
    pub tenant: TenantId,
    pub environment: EnvironmentId,
    pub user_id: String,
    /// A JSON object.
    pub attributes: String,
    pub verified: bool,
    pub seen_at: Timestamp,
    /// The account the user named, and its attributes after this request's
    /// (`None`: none were sent; the stored ones stay).
    pub account: Option<(String, Option<String>)>,
}

impl Store {
    #[tracing::instrument(name = "store.user_state", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn user_state(
        &self,
        tenant: TenantId,
        env: EnvironmentId,
        user_id: &str,
    ) -> Result<UserState, StoreError> {
        Ok(self
            .end_user(tenant, env, user_id)
            .await?
            .map(|u| u.state)
            .unwrap_or_default())
    }

    #[tracing::instrument(name = "store.end_user", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn end_user(
        &self,
        tenant: TenantId,
        env: EnvironmentId,
        user_id: &str,
    ) -> Result<Option<EndUser>, StoreError> {
        let (t, e) = (tenant.to_string(), env.to_string());
        let profile = sqlx::query(
            "SELECT attributes, verified, first_seen, last_seen FROM end_users \
             WHERE tenant_id = $1 AND environment_id = $2 AND user_id = $3",
        )
        .bind(&t)
        .bind(&e)
        .bind(user_id)
        .fetch_optional(&self.read)
        .await?;
        let progress = sqlx::query(
            "SELECT object_id, times_shown, last_shown_at, last_session, step_reached, \
             items_completed, completed_at, dismissed_at FROM user_progress \
             WHERE tenant_id = $1 AND environment_id = $2 AND user_id = $3",
        )
        .bind(&t)
        .bind(&e)
        .bind(user_id)
        .fetch_all(&self.read)
        .await?;
        let counts = sqlx::query(
            "SELECT event, count FROM user_event_counts \
             WHERE tenant_id = $1 AND environment_id = $2 AND user_id = $3",
        )
        .bind(&t)
        .bind(&e)
        .bind(user_id)
        .fetch_all(&self.read)
        .await?;
        if profile.is_none() && progress.is_empty() && counts.is_empty() {
            return Ok(None);
        }
        let corrupt = |e: serde_json::Error| StoreError::Corrupt(e.to_string());
        let mut state = UserState::default();
        let (mut first_seen, mut last_seen) = (Timestamp(0), Timestamp(0));
        if let Some(p) = &profile {
            state.known = true;
            state.attributes =
                serde_json::from_str(&p.try_get::<String, _>("attributes")?).map_err(corrupt)?;
            state.verified = p.try_get::<i64, _>("verified")? != 0;
            first_seen = Timestamp(p.try_get("first_seen")?);
            last_seen = Timestamp(p.try_get("last_seen")?);
            state.last_seen_millis = last_seen.millis();
        }
        for r in &progress {
            let step: Option<i64> = r.try_get("step_reached")?;
            state.progress.insert(
                r.try_get("object_id")?,
                Progress {
                    times_shown: u32::try_from(r.try_get::<i64, _>("times_shown")?)
                        .unwrap_or(u32::MAX),
                    last_shown_millis: r.try_get("last_shown_at")?,
                    last_session: r.try_get("last_session")?,
                    step_reached: step.and_then(|s| usize::try_from(s).ok()),
                    items_completed: serde_json::from_str(
                        &r.try_get::<String, _>("items_completed")?,
                    )
                    .map_err(corrupt)?,
                    completed: r.try_get::<Option<i64>, _>("completed_at")?.is_some(),
                    dismissed: r.try_get::<Option<i64>, _>("dismissed_at")?.is_some(),
                },
            );
        }
        for r in &counts {
            state.event_counts.insert(
                r.try_get("event")?,
                u64::try_from(r.try_get::<i64, _>("count")?).unwrap_or(0),
            );
        }
        Ok(Some(EndUser {
            user_id: user_id.to_owned(),
            first_seen,
            last_seen,
            state,
        }))
    }

    /// Merges `patch` into a user's attributes (a `null` value removes the
    /// attribute), creating the profile when there is none, in one audited
    /// transaction; returns the attributes after. `check` validates the result
    /// (counts and sizes) before anything is written.
    #[tracing::instrument(name = "store.merge_user_attributes", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn merge_user_attributes(
        &self,
        tenant: TenantId,
        env: EnvironmentId,
        user_id: &str,
        patch: &serde_json::Map<String, serde_json::Value>,
        check: impl FnOnce(&serde_json::Map<String, serde_json::Value>) -> Result<(), String>,
        mut audit: crate::AuditEntry,
    ) -> Result<Result<serde_json::Map<String, serde_json::Value>, String>, StoreError> {
        let now = self.clock.now();
        let (t, e) = (tenant.to_string(), env.to_string());
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO end_users (environment_id, user_id, tenant_id, attributes, verified, first_seen, last_seen) \
             VALUES ($1, $2, $3, '{}', 0, $4, $4) ON CONFLICT (environment_id, user_id) DO NOTHING",
        )
        .bind(&e)
        .bind(user_id)
        .bind(&t)
        .bind(now.millis())
        .execute(&mut *tx)
        .await?;
        let lock = match self.backend {
            crate::Backend::Sqlite => "",
            crate::Backend::Postgres => " FOR UPDATE",
        };
        let row = sqlx::query(&format!(
            "SELECT attributes FROM end_users WHERE environment_id = $1 AND user_id = $2 AND tenant_id = $3{lock}"
        ))
        .bind(&e)
        .bind(user_id)
        .bind(&t)
        .fetch_optional(&mut *tx)
        .await?
        // The id belongs to another tenant's environment: not ours to touch.
        .ok_or(StoreError::NotFound)?;
        let corrupt = |e: serde_json::Error| StoreError::Corrupt(e.to_string());
        let before: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(&row.try_get::<String, _>("attributes")?).map_err(corrupt)?;
        let after = spotlight_domain::end_user::apply_patch(&before, patch);
        if let Err(message) = check(&after) {
            return Ok(Err(message));
        }
        let text = serde_json::to_string(&after).map_err(corrupt)?;
        sqlx::query(
            "UPDATE end_users SET attributes = $1 WHERE environment_id = $2 AND user_id = $3",
        )
        .bind(&text)
        .bind(&e)
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
        audit.before = Some(serde_json::to_string(&before).map_err(corrupt)?);
        audit.after = Some(text);
        self.commit_audited(tx, tenant, &audit, now).await?;
        Ok(Ok(after))
    }

    /// Merges attributes into many users' or accounts' profiles (an import),
    /// in one transaction: each row as [`Store::merge_user_attributes`] would,
    /// read and written a chunk at a time. A row whose result `check` refuses
    /// is skipped, with its message; the rest are written. Tells how many
    /// profiles were created and updated.
    #[tracing::instrument(name = "store.import_profiles", level = "debug", skip_all, fields(otel.kind = "client", rows = rows.len()))]
    pub async fn import_profiles(
        &self,
        target: Profiles,
        (tenant, env): (TenantId, EnvironmentId),
        rows: &[ImportRow],
        check: impl Fn(&serde_json::Map<String, serde_json::Value>) -> Result<(), String>,
    ) -> Result<ImportOutcome, StoreError> {
        let now = self.clock.now().millis();
        let (t, e) = (tenant.to_string(), env.to_string());
        let mut out = ImportOutcome::default();
        let mut tx = self.begin().await?;
        let corrupt = |e: serde_json::Error| StoreError::Corrupt(e.to_string());
        for chunk in rows.chunks(500) {
            // The profiles there are, joined by their key from a JSON list of
            // ids: one parameter, and a lookup per id whatever the planner
            // thinks of the table (an `IN (…)` list let PostgreSQL, its
            // statistics taken while the table was empty, read the whole
            // environment per chunk). The tenant is checked on each row.
            let ids = serde_json::to_string(&chunk.iter().map(|r| &r.id).collect::<Vec<_>>())
                .map_err(corrupt)?;
            let (table, id) = target.table();
            let sql = match self.backend {
                crate::Backend::Sqlite => {
                    // CROSS JOIN: SQLite keeps its left side as the outer
                    // loop (it put the ids inside a scan of the environment).
                    format!(
                        "SELECT e.{id} AS id, e.attributes, e.tenant_id FROM json_each($2) AS u \
                         CROSS JOIN {table} e WHERE e.environment_id = $1 AND e.{id} = u.value"
                    )
                }
                crate::Backend::Postgres => format!(
                    "SELECT e.{id} AS id, e.attributes, e.tenant_id \
                     FROM json_array_elements_text($2::json) AS u(id) \
                     JOIN {table} e ON e.environment_id = $1 AND e.{id} = u.id \
                     FOR UPDATE OF e"
                ),
            };
            let q = sqlx::query(&sql).bind(&e).bind(&ids);
            let mut existing: HashMap<String, serde_json::Map<String, serde_json::Value>> =
                HashMap::with_capacity(chunk.len());
            for row in q.fetch_all(&mut *tx).await? {
                if row.try_get::<String, _>("tenant_id")? != t {
                    return Err(StoreError::NotFound);
                }
                let text: String = row.try_get("attributes")?;
                existing.insert(
                    row.try_get("id")?,
                    serde_json::from_str(&text).map_err(corrupt)?,
                );
            }
            let mut writes: Vec<(&str, String)> = Vec::with_capacity(chunk.len());
            for r in chunk {
                let before = existing.get(&r.id);
                let none = serde_json::Map::new();
                let after =
                    spotlight_domain::end_user::apply_patch(before.unwrap_or(&none), &r.attributes);
                if let Err(message) = check(&after) {
                    out.refused.push((r.line, message));
                    continue;
                }
                if before.is_some() {
                    out.updated += 1;
                } else {
                    out.created += 1;
                }
                writes.push((&r.id, serde_json::to_string(&after).map_err(corrupt)?));
            }
            if writes.is_empty() {
                continue;
            }
            let columns = target.insert(0, 0).0;
            let values = (0..writes.len())
                .map(|i| target.insert(2 * i + 4, 2 * i + 5).1)
                .collect::<Vec<_>>()
                .join(", ");
            let sql = format!(
                "INSERT INTO {table} ({columns}) \
                 VALUES {values} ON CONFLICT (environment_id, {id}) DO UPDATE SET \
                 attributes = excluded.attributes WHERE {table}.tenant_id = excluded.tenant_id"
            );
            let mut q = sqlx::query(&sql).bind(&e).bind(&t).bind(now);
            for (user, attributes) in &writes {
                q = q.bind(*user).bind(attributes);
            }
            q.execute(&mut *tx).await?;
        }
        // Caches learn of it from the caller, once per import ([`Store::announce_change`]).
        tx.commit().await?;
        Ok(out)
    }

    /// Writes a batch of profiles in one transaction.
    #[tracing::instrument(name = "store.upsert_profiles", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn upsert_profiles(&self, batch: &[ProfileWrite]) -> Result<(), StoreError> {
        if batch.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin().await?;
        // Users erased moments ago are not brought back by a late request.
        let envs: Vec<String> = batch
            .iter()
            .map(|p| p.environment.to_string())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        crate::tombstones::lock_environments(self.backend, &mut *tx, &envs, false).await?;
        let users = batch
            .iter()
            .map(|p| (p.environment.to_string(), p.user_id.clone()))
            .collect();
        let erased = crate::tombstones::tombstones(self.backend, &mut *tx, users).await?;
        for p in batch {
            // A request answered before the erasure, written after it.
            let key = (p.environment.to_string(), p.user_id.clone());
            if erased.get(&key).is_some_and(|at| p.seen_at.millis() <= *at) {
                continue;
            }
            sqlx::query(
                "INSERT INTO end_users (environment_id, user_id, tenant_id, attributes, verified, first_seen, last_seen) \
                 SELECT $1, $2, $3, $4, $5, $6, $6 \
                 WHERE EXISTS (SELECT 1 FROM environments WHERE id = $1 AND tenant_id = $3) \
                 ON CONFLICT (environment_id, user_id) DO UPDATE SET \
                 attributes = excluded.attributes, verified = excluded.verified, \
                 last_seen = CASE WHEN excluded.last_seen > end_users.last_seen \
                             THEN excluded.last_seen ELSE end_users.last_seen END \
                 WHERE end_users.tenant_id = excluded.tenant_id",
            )
            .bind(p.environment.to_string())
            .bind(&p.user_id)
            .bind(p.tenant.to_string())
            .bind(&p.attributes)
            .bind(i64::from(p.verified))
            .bind(p.seen_at.millis())
            .execute(&mut *tx)
            .await?;
            if let Some((account, attributes)) = &p.account {
                let (e, t, at) = (
                    p.environment.to_string(),
                    p.tenant.to_string(),
                    p.seen_at.millis(),
                );
                sqlx::query(
                    "INSERT INTO account_profiles (environment_id, account_id, tenant_id, attributes, first_seen, last_seen) \
                     SELECT $1, $2, $3, COALESCE($4, '{}'), $5, $5 \
                     WHERE EXISTS (SELECT 1 FROM environments WHERE id = $1 AND tenant_id = $3) \
                     ON CONFLICT (environment_id, account_id) DO UPDATE SET \
                     attributes = COALESCE($4, account_profiles.attributes), \
                     last_seen = CASE WHEN excluded.last_seen > account_profiles.last_seen \
                                 THEN excluded.last_seen ELSE account_profiles.last_seen END \
                     WHERE account_profiles.tenant_id = excluded.tenant_id",
                )
                .bind(&e)
                .bind(account)
                .bind(&t)
                .bind(attributes.as_deref())
                .bind(at)
                .execute(&mut *tx)
                .await?;
                sqlx::query(
                    "INSERT INTO account_members (environment_id, account_id, user_id, tenant_id, joined_at, last_seen) \
                     SELECT $1, $2, $3, $4, $5, $5 \
                     WHERE EXISTS (SELECT 1 FROM environments WHERE id = $1 AND tenant_id = $4) \
                     ON CONFLICT (environment_id, account_id, user_id) DO UPDATE SET \
                     last_seen = excluded.last_seen \
                     WHERE account_members.tenant_id = excluded.tenant_id",
                )
                .bind(&e)
                .bind(account)
                .bind(&p.user_id)
                .bind(&t)
                .bind(at)
                .execute(&mut *tx)
                .await?;
            }
            // Active in this month (usage): every profile write of a month names its user.
            let month = p.seen_at.to_rfc3339();
            sqlx::query(
                "INSERT INTO usage_active_users (tenant_id, environment_id, month, user_id) \
                 SELECT $1, $2, $3, $4 \
                 WHERE EXISTS (SELECT 1 FROM environments WHERE id = $2 AND tenant_id = $1) \
                 ON CONFLICT (tenant_id, environment_id, month, user_id) DO NOTHING",
            )
            .bind(p.tenant.to_string())
            .bind(p.environment.to_string())
            .bind(month.get(..7).unwrap_or(&month))
            .bind(&p.user_id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Replaces one user's progress on one object (event ingest; tests and seeding).
    #[tracing::instrument(name = "store.set_progress", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn set_progress(
        &self,
        tenant: TenantId,
        env: EnvironmentId,
        user_id: &str,
        object_id: &str,
        p: &Progress,
    ) -> Result<(), StoreError> {
        let now = self.clock.now().millis();
        let items = serde_json::to_string(&p.items_completed)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        sqlx::query(
            "INSERT INTO user_progress (environment_id, user_id, object_id, tenant_id, times_shown, \
             last_shown_at, last_session, step_reached, items_completed, started_at, completed_at, \
             dismissed_at, updated_at) \
             SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $10 \
             WHERE EXISTS (SELECT 1 FROM environments WHERE id = $1 AND tenant_id = $4) \
             ON CONFLICT (environment_id, user_id, object_id) DO UPDATE SET \
             times_shown = excluded.times_shown, last_shown_at = excluded.last_shown_at, \
             last_session = excluded.last_session, step_reached = excluded.step_reached, \
             items_completed = excluded.items_completed, completed_at = excluded.completed_at, \
             dismissed_at = excluded.dismissed_at, updated_at = excluded.updated_at \
             WHERE user_progress.tenant_id = excluded.tenant_id",
        )
        .bind(env.to_string())
        .bind(user_id)
        .bind(object_id)
        .bind(tenant.to_string())
        .bind(i64::from(p.times_shown))
        .bind(p.last_shown_millis)
        .bind(p.last_session.clone())
        .bind(p.step_reached.and_then(|s| i64::try_from(s).ok()))
        .bind(items)
        .bind(now)
        .bind(p.completed.then_some(now))
        .bind(p.dismissed.then_some(now))
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// Adds to one user's counts of tracked events.
    #[tracing::instrument(name = "store.add_event_counts", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn add_event_counts(
        &self,
        tenant: TenantId,
        env: EnvironmentId,
        user_id: &str,
        counts: &[(&str, u64)],
    ) -> Result<(), StoreError> {
        let now = self.clock.now().millis();
        let mut tx = self.begin().await?;
        for (event, n) in counts {
            sqlx::query(
                "INSERT INTO user_event_counts (environment_id, user_id, event, tenant_id, count, last_at) \
                 SELECT $1, $2, $3, $4, $5, $6 \
                 WHERE EXISTS (SELECT 1 FROM environments WHERE id = $1 AND tenant_id = $4) \
                 ON CONFLICT (environment_id, user_id, event) DO UPDATE SET \
                 count = user_event_counts.count + excluded.count, last_at = excluded.last_at \
                 WHERE user_event_counts.tenant_id = excluded.tenant_id",
            )
            .bind(env.to_string())
            .bind(user_id)
            .bind(*event)
            .bind(tenant.to_string())
            .bind(i64::try_from(*n).unwrap_or(i64::MAX))
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

/// One raw event of one end user, as the admin API shows it.
#[derive(Debug, Clone)]
pub struct RecentEvent {
    pub event_id: String,
    pub name: String,
    pub occurred_at: i64,
    pub object_id: Option<String>,
    pub step: Option<i64>,
    /// A JSON object.
    pub properties: String,
}

/// An end user as audience rules see them.
#[derive(Debug, Clone)]
pub struct AudienceSubject {
    pub user_id: String,
    pub attributes: serde_json::Map<String, serde_json::Value>,
    pub event_counts: HashMap<String, u64>,
    /// The account they were last seen in, when they belong to one.
    pub account_id: Option<String>,
}

impl Store {
    /// Up to `limit` end users after `after` (by user id), with their attributes and event counts:
    /// two range reads on primary keys.
    #[tracing::instrument(name = "store.audience_subjects", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn audience_subjects(
        &self,
        tenant: TenantId,
        env: EnvironmentId,
        after: &str,
        limit: usize,
    ) -> Result<Vec<AudienceSubject>, StoreError> {
        let (t, e) = (tenant.to_string(), env.to_string());
        let rows = sqlx::query(&format!(
            "SELECT user_id, attributes FROM end_users WHERE environment_id = $1 \
             AND tenant_id = $2 AND user_id > $3 ORDER BY user_id LIMIT {}",
            limit.clamp(1, 10_000)
        ))
        .bind(&e)
        .bind(&t)
        .bind(after)
        .fetch_all(&self.read)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let attrs: String = r.try_get("attributes")?;
            out.push(AudienceSubject {
                user_id: r.try_get("user_id")?,
                attributes: serde_json::from_str(&attrs).unwrap_or_default(),
                event_counts: HashMap::new(),
                account_id: None,
            });
        }
        let Some(last) = out.last().map(|s| s.user_id.clone()) else {
            return Ok(out);
        };
        // Each user's account: the membership seen last (ties: the least id).
        let members = sqlx::query(
            "SELECT user_id, account_id FROM account_members WHERE environment_id = $1 \
             AND tenant_id = $2 AND user_id > $3 AND user_id <= $4 \
             ORDER BY user_id, last_seen DESC, account_id",
        )
        .bind(&e)
        .bind(&t)
        .bind(after)
        .bind(&last)
        .fetch_all(&self.read)
        .await?;
        let counts = sqlx::query(
            "SELECT user_id, event, count FROM user_event_counts WHERE environment_id = $1 \
             AND tenant_id = $2 AND user_id > $3 AND user_id <= $4",
        )
        .bind(&e)
        .bind(&t)
        .bind(after)
        .bind(&last)
        .fetch_all(&self.read)
        .await?;
        let index: HashMap<String, usize> = out
            .iter()
            .enumerate()
            .map(|(i, s)| (s.user_id.clone(), i))
            .collect();
        for r in &counts {
            let user: String = r.try_get("user_id")?;
            if let Some(&i) = index.get(&user) {
                let n: i64 = r.try_get("count")?;
                out[i]
                    .event_counts
                    .insert(r.try_get("event")?, u64::try_from(n).unwrap_or(0));
            }
        }
        for r in &members {
            let user: String = r.try_get("user_id")?;
            if let Some(&i) = index.get(&user) {
                if out[i].account_id.is_none() {
                    out[i].account_id = Some(r.try_get("account_id")?);
                }
            }
        }
        Ok(out)
    }

    /// One user's events among the environment's latest `window` (newest first, at most
    /// `limit`): a bounded read that needs no per-user index on the hot events table.
    #[tracing::instrument(name = "store.recent_events", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn recent_events(
        &self,
        tenant: TenantId,
        env: EnvironmentId,
        user_id: &str,
        window: usize,
        limit: usize,
    ) -> Result<Vec<RecentEvent>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT event_id, name, occurred_at, object_id, step, properties FROM \
             (SELECT event_id, tenant_id, user_id, name, occurred_at, object_id, step, properties \
              FROM events WHERE environment_id = $1 ORDER BY event_id DESC LIMIT {}) AS latest \
             WHERE tenant_id = $2 AND user_id = $3 ORDER BY occurred_at DESC LIMIT {}",
            window.clamp(1, 100_000),
            limit.clamp(1, 500)
        ))
        .bind(env.to_string())
        .bind(tenant.to_string())
        .bind(user_id)
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(RecentEvent {
                    event_id: r.try_get("event_id")?,
                    name: r.try_get("name")?,
                    occurred_at: r.try_get("occurred_at")?,
                    object_id: r.try_get("object_id")?,
                    step: r.try_get("step")?,
                    properties: r.try_get("properties")?,
                })
            })
            .collect()
    }

    /// When each of a user's tracked events last happened (Unix milliseconds).
    #[tracing::instrument(name = "store.event_last_seen", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn event_last_seen(
        &self,
        tenant: TenantId,
        env: EnvironmentId,
        user_id: &str,
    ) -> Result<HashMap<String, i64>, StoreError> {
        let rows = sqlx::query(
            "SELECT event, last_at FROM user_event_counts \
             WHERE tenant_id = $1 AND environment_id = $2 AND user_id = $3",
        )
        .bind(tenant.to_string())
        .bind(env.to_string())
        .bind(user_id)
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("event")?, r.try_get("last_at")?)))
            .collect()
    }
}
