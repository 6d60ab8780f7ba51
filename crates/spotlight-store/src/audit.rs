//! The audit log: one row per mutation, written in the mutation's transaction.

use crate::{parse_id, Store, StoreError};
use spotlight_domain::{AuditId, TenantId, Timestamp};
use sqlx::{Any, Row, Transaction};

/// Who did what to which object, with the object before and after (JSON text).
#[derive(Debug, Clone, Default)]
pub struct AuditEntry {
    pub actor: String,
    pub action: String,
    pub object_kind: String,
    pub object_id: String,
    pub before: Option<String>,
    pub after: Option<String>,
    pub ip: String,
    pub user_agent: String,
}

#[derive(Debug, Clone)]
pub struct AuditRecord {
    pub id: AuditId,
    pub at: Timestamp,
    pub entry: AuditEntry,
}

#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub object_kind: Option<String>,
    pub object_id: Option<String>,
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
}

pub(crate) async fn insert_audit(
    tx: &mut Transaction<'_, Any>,
    tenant: TenantId,
    e: &AuditEntry,
    now: Timestamp,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO audit_log (id, tenant_id, at, actor, action, object_kind, object_id, \
         before_doc, after_doc, ip, user_agent) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(AuditId::new_v7().to_string())
    .bind(tenant.to_string())
    .bind(now.millis())
    .bind(&e.actor)
    .bind(&e.action)
    .bind(&e.object_kind)
    .bind(&e.object_id)
    .bind(e.before.clone())
    .bind(e.after.clone())
    .bind(&e.ip)
    .bind(&e.user_agent)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl Store {
    /// The tail of a mutation the SDK path caches (objects, keys, settings,
    /// webhooks): its audit entry in the same transaction, then the commit,
    /// which tells every node the tenant changed.
    pub(crate) async fn commit_change_audited(
        &self,
        mut tx: Transaction<'static, Any>,
        tenant: TenantId,
        audit: &AuditEntry,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        insert_audit(&mut tx, tenant, audit, now).await?;
        self.commit_change(tx, tenant).await
    }

    /// The tail of any other audited mutation: the entry, then the commit.
    pub(crate) async fn commit_audited(
        &self,
        mut tx: Transaction<'static, Any>,
        tenant: TenantId,
        audit: &AuditEntry,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        insert_audit(&mut tx, tenant, audit, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records a mutation that has no transaction of its own to join.
    #[tracing::instrument(name = "store.record_audit", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn record_audit(&self, tenant: TenantId, e: &AuditEntry) -> Result<(), StoreError> {
        let tx = self.begin().await?;
        self.commit_audited(tx, tenant, e, self.clock.now()).await
    }

    /// Newest first, before an optional cursor (an entry id).
    #[tracing::instrument(name = "store.audit", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn audit(
        &self,
        tenant: TenantId,
        f: &AuditFilter,
        before: Option<AuditId>,
        limit: u32,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, at, actor, action, object_kind, object_id, before_doc, after_doc, ip, user_agent \
             FROM audit_log WHERE tenant_id = $1 \
             AND ($2 = '' OR id < $2) \
             AND ($3 = '' OR actor = $3) \
             AND ($4 = '' OR action = $4) \
             AND ($5 = '' OR object_kind = $5) \
             AND ($6 = '' OR object_id = $6) \
             AND at >= $7 AND at <= $8 \
             ORDER BY id DESC LIMIT $9",
        )
        .bind(tenant.to_string())
        .bind(before.map(|b| b.to_string()).unwrap_or_default())
        .bind(f.actor.clone().unwrap_or_default())
        .bind(f.action.clone().unwrap_or_default())
        .bind(f.object_kind.clone().unwrap_or_default())
        .bind(f.object_id.clone().unwrap_or_default())
        .bind(f.from.map_or(i64::MIN, Timestamp::millis))
        .bind(f.to.map_or(i64::MAX, Timestamp::millis))
        .bind(i64::from(limit))
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(AuditRecord {
                    id: parse_id(&r.try_get::<String, _>("id")?)?,
                    at: Timestamp(r.try_get("at")?),
                    entry: AuditEntry {
                        actor: r.try_get("actor")?,
                        action: r.try_get("action")?,
                        object_kind: r.try_get("object_kind")?,
                        object_id: r.try_get("object_id")?,
                        before: r.try_get("before_doc")?,
                        after: r.try_get("after_doc")?,
                        ip: r.try_get("ip")?,
                        user_agent: r.try_get("user_agent")?,
                    },
                })
            })
            .collect()
    }
}
