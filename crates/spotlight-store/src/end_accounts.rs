//! B2B accounts: the companies end users belong to (per environment), their
//! attributes and members, and what audience rules read of them.

use crate::{AuditEntry, Store, StoreError};
use spotlight_domain::{EnvironmentId, TenantId, Timestamp};
use sqlx::Row;
use std::collections::HashMap;

type Attributes = serde_json::Map<String, serde_json::Value>;

/// What audience rules read of an account.
#[derive(Debug, Clone, Default)]
pub struct AccountState {
    pub known: bool,
    pub attributes: Attributes,
    /// Its members' tracked events, summed.
    pub event_counts: HashMap<String, u64>,
    /// Times each guide (by id) was shown to any of its members.
    pub shown: HashMap<String, u32>,
}

/// One member of an account.
#[derive(Debug, Clone)]
pub struct AccountMember {
    pub user_id: String,
    pub joined_at: Timestamp,
    pub last_seen: Timestamp,
}

/// An account in a list.
#[derive(Debug, Clone)]
pub struct AccountSummary {
    pub account_id: String,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
    pub attributes: Attributes,
    pub member_count: u64,
}

/// An account as the tenant's team sees it.
#[derive(Debug, Clone)]
pub struct EndAccount {
    pub account_id: String,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
    pub state: AccountState,
    /// The most recently seen members first.
    pub members: Vec<AccountMember>,
    /// How many members it has (the list may be cut).
    pub member_count: u64,
}

fn corrupt(e: serde_json::Error) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

impl Store {
    /// What rules read of an account (`known: false` when there is none).
    #[tracing::instrument(name = "store.account_state", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn account_state(
        &self,
        tenant: TenantId,
        env: EnvironmentId,
        account_id: &str,
    ) -> Result<AccountState, StoreError> {
        let mut found = self
            .account_states(tenant, env, &[account_id.to_owned()])
            .await?;
        Ok(found.remove(account_id).unwrap_or_default())
    }

    /// Up to `limit` accounts after `after` (by id), those whose id starts
    /// with `prefix` when given, with their member counts (two queries).
    #[tracing::instrument(name = "store.list_accounts", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn list_accounts(
        &self,
        tenant: TenantId,
        env: EnvironmentId,
        prefix: Option<&str>,
        after: &str,
        limit: u32,
    ) -> Result<Vec<AccountSummary>, StoreError> {
        let (t, e) = (tenant.to_string(), env.to_string());
        let filter = if prefix.is_some() {
            " AND account_id LIKE $5 ESCAPE '\\'"
        } else {
            ""
        };
        let sql = format!(
            "SELECT account_id, first_seen, last_seen, attributes FROM account_profiles \
             WHERE environment_id = $1 AND tenant_id = $2 AND account_id > $3{filter} \
             ORDER BY account_id LIMIT $4"
        );
        let mut q = sqlx::query(&sql)
            .bind(&e)
            .bind(&t)
            .bind(after)
            .bind(i64::from(limit.clamp(1, 100)));
        if let Some(p) = prefix {
            q = q.bind(format!("{}%", crate::objects::like_escape(p)));
        }
        let mut out = Vec::new();
        for r in q.fetch_all(&self.read).await? {
            out.push(AccountSummary {
                account_id: r.try_get(0)?,
                first_seen: Timestamp(r.try_get(1)?),
                last_seen: Timestamp(r.try_get(2)?),
                attributes: serde_json::from_str(&r.try_get::<String, _>(3)?).map_err(corrupt)?,
                member_count: 0,
            });
        }
        if out.is_empty() {
            return Ok(out);
        }
        let sql = format!(
            "SELECT account_id, count(*) FROM account_members WHERE environment_id = $1 \
             AND tenant_id = $2 AND account_id IN ({}) GROUP BY account_id",
            crate::objects::placeholders(3, out.len())
        );
        let mut q = sqlx::query(&sql).bind(&e).bind(&t);
        for a in &out {
            q = q.bind(a.account_id.as_str());
        }
        let counts: HashMap<String, i64> = q
            .fetch_all(&self.read)
            .await?
            .iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect::<Result<_, sqlx::Error>>()?;
        for a in &mut out {
            a.member_count = counts
                .get(&a.account_id)
                .map_or(0, |n| u64::try_from(*n).unwrap_or(0));
        }
        Ok(out)
    }

    /// The accounts a user belongs to, the one they were seen in last (their
    /// active account) first.
    #[tracing::instrument(name = "store.user_accounts", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn user_accounts(
        &self,
        tenant: TenantId,
        env: EnvironmentId,
        user_id: &str,
    ) -> Result<Vec<String>, StoreError> {
        Ok(sqlx::query_scalar::<_, String>(
            "SELECT account_id FROM account_members \
             WHERE environment_id = $1 AND tenant_id = $2 AND user_id = $3 \
             ORDER BY last_seen DESC, account_id",
        )
        .bind(env.to_string())
        .bind(tenant.to_string())
        .bind(user_id)
        .fetch_all(&self.read)
        .await?)
    }

    /// What rules read of each of `ids` that exists (three queries per 500
    /// ids; one when none exists).
    #[tracing::instrument(name = "store.account_states", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn account_states(
        &self,
        tenant: TenantId,
        env: EnvironmentId,
        ids: &[String],
    ) -> Result<HashMap<String, AccountState>, StoreError> {
        let mut out: HashMap<String, AccountState> = HashMap::new();
        for part in ids.chunks(500) {
            let list = crate::objects::placeholders(3, part.len());
            fn bind<'q>(
                sql: &'q str,
                env: EnvironmentId,
                tenant: TenantId,
                ids: &'q [String],
            ) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
                let mut q = sqlx::query(sql)
                    .bind(env.to_string())
                    .bind(tenant.to_string());
                for id in ids {
                    q = q.bind(id.as_str());
                }
                q
            }
            let sql = format!(
                "SELECT account_id, attributes FROM account_profiles \
                 WHERE environment_id = $1 AND tenant_id = $2 AND account_id IN ({list})"
            );
            for r in bind(&sql, env, tenant, part).fetch_all(&self.read).await? {
                let attributes: Attributes =
                    serde_json::from_str(&r.try_get::<String, _>(1)?).map_err(corrupt)?;
                out.insert(
                    r.try_get(0)?,
                    AccountState {
                        known: true,
                        attributes,
                        ..AccountState::default()
                    },
                );
            }
            if out.is_empty() {
                continue;
            }
            let sql = format!(
                "SELECT account_id, event, count FROM account_event_counts \
                 WHERE environment_id = $1 AND tenant_id = $2 AND account_id IN ({list})"
            );
            for r in bind(&sql, env, tenant, part).fetch_all(&self.read).await? {
                let id: String = r.try_get(0)?;
                let n: i64 = r.try_get(2)?;
                if let Some(a) = out.get_mut(&id) {
                    a.event_counts
                        .insert(r.try_get(1)?, u64::try_from(n).unwrap_or(0));
                }
            }
            let sql = format!(
                "SELECT account_id, object_id, times_shown FROM account_progress \
                 WHERE environment_id = $1 AND tenant_id = $2 AND account_id IN ({list})"
            );
            for r in bind(&sql, env, tenant, part).fetch_all(&self.read).await? {
                let id: String = r.try_get(0)?;
                let n: i64 = r.try_get(2)?;
                if let Some(a) = out.get_mut(&id) {
                    a.shown
                        .insert(r.try_get(1)?, u32::try_from(n).unwrap_or(u32::MAX));
                }
            }
        }
        Ok(out)
    }

    /// One account with up to `limit` of its members; `None` when unknown.
    #[tracing::instrument(name = "store.end_account", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn end_account(
        &self,
        tenant: TenantId,
        env: EnvironmentId,
        account_id: &str,
        limit: u32,
    ) -> Result<Option<EndAccount>, StoreError> {
        let (t, e) = (tenant.to_string(), env.to_string());
        let Some(row) = sqlx::query(
            "SELECT first_seen, last_seen FROM account_profiles \
             WHERE environment_id = $1 AND account_id = $2 AND tenant_id = $3",
        )
        .bind(&e)
        .bind(account_id)
        .bind(&t)
        .fetch_optional(&self.read)
        .await?
        else {
            return Ok(None);
        };
        let (first_seen, last_seen): (i64, i64) = (row.try_get(0)?, row.try_get(1)?);
        let state = self.account_state(tenant, env, account_id).await?;
        let members = sqlx::query(
            "SELECT user_id, joined_at, last_seen FROM account_members \
             WHERE environment_id = $1 AND account_id = $2 AND tenant_id = $3 \
             ORDER BY last_seen DESC, user_id LIMIT $4",
        )
        .bind(&e)
        .bind(account_id)
        .bind(&t)
        .bind(i64::from(limit))
        .fetch_all(&self.read)
        .await?
        .iter()
        .map(|r| {
            Ok(AccountMember {
                user_id: r.try_get(0)?,
                joined_at: Timestamp(r.try_get(1)?),
                last_seen: Timestamp(r.try_get(2)?),
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
        let count: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM account_members \
             WHERE environment_id = $1 AND account_id = $2 AND tenant_id = $3",
        )
        .bind(&e)
        .bind(account_id)
        .bind(&t)
        .fetch_one(&self.read)
        .await?;
        Ok(Some(EndAccount {
            account_id: account_id.to_owned(),
            first_seen: Timestamp(first_seen),
            last_seen: Timestamp(last_seen),
            state,
            members,
            member_count: u64::try_from(count).unwrap_or(0),
        }))
    }

    /// Merges `patch` into an account's attributes (`null` removes one),
    /// creating the account when there is none, in one audited transaction;
    /// the attributes after, or `check`'s refusal (nothing written).
    #[tracing::instrument(name = "store.merge_account_attributes", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn merge_account_attributes(
        &self,
        tenant: TenantId,
        env: EnvironmentId,
        account_id: &str,
        patch: &Attributes,
        check: impl FnOnce(&Attributes) -> Result<(), String>,
        mut audit: AuditEntry,
    ) -> Result<Result<Attributes, String>, StoreError> {
        let now = self.clock.now();
        let (t, e) = (tenant.to_string(), env.to_string());
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO account_profiles (environment_id, account_id, tenant_id, attributes, first_seen, last_seen) \
             VALUES ($1, $2, $3, '{}', $4, $4) ON CONFLICT (environment_id, account_id) DO NOTHING",
        )
        .bind(&e)
        .bind(account_id)
        .bind(&t)
        .bind(now.millis())
        .execute(&mut *tx)
        .await?;
        let lock = match self.backend {
            crate::Backend::Sqlite => "",
            crate::Backend::Postgres => " FOR UPDATE",
        };
        let row = sqlx::query(&format!(
            "SELECT attributes FROM account_profiles \
             WHERE environment_id = $1 AND account_id = $2 AND tenant_id = $3{lock}"
        ))
        .bind(&e)
        .bind(account_id)
        .bind(&t)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound)?;
        let before: Attributes =
            serde_json::from_str(&row.try_get::<String, _>(0)?).map_err(corrupt)?;
        let after = spotlight_domain::end_user::apply_patch(&before, patch);
        if let Err(message) = check(&after) {
            return Ok(Err(message));
        }
        let text = serde_json::to_string(&after).map_err(corrupt)?;
        sqlx::query(
            "UPDATE account_profiles SET attributes = $1 WHERE environment_id = $2 AND account_id = $3",
        )
        .bind(&text)
        .bind(&e)
        .bind(account_id)
        .execute(&mut *tx)
        .await?;
        audit.before = Some(serde_json::to_string(&before).map_err(corrupt)?);
        audit.after = Some(text);
        crate::audit::insert_audit(&mut tx, tenant, &audit, now).await?;
        // Every node's cached account state starts over.
        self.commit_change(tx, tenant).await?;
        Ok(Ok(after))
    }
}
