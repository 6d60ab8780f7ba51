//! Publish approvals. In an environment that requires approval, an editor's
//! publish is kept as a request for the draft's exact revision (with its
//! document, for the diff). Approval publishes that revision in the same
//! transaction as the decision, and only if the draft is still that revision;
//! a change to the draft (or archiving) voids pending requests.

use crate::audit::AuditEntry;
use crate::objects::{fetch, publish_draft, ObjectRecord};
use crate::{parse_id, Store, StoreError};
use spotlight_domain::{
    AccountId, EnvironmentId, ObjectId, ObjectKind, PublishRequestId, TenantId, Timestamp,
};
use sqlx::{Any, Row, Transaction};

pub struct NewPublishRequest {
    pub id: PublishRequestId,
    pub tenant_id: TenantId,
    pub kind: ObjectKind,
    pub object_id: ObjectId,
    pub environment_id: EnvironmentId,
    pub requested_by: String,
    pub requested_by_account: Option<AccountId>,
}

#[derive(Debug, Clone)]
pub struct PublishRequest {
    pub id: PublishRequestId,
    pub kind: ObjectKind,
    pub object_id: ObjectId,
    pub object_name: String,
    pub environment_id: EnvironmentId,
    pub environment: String,
    pub revision: i64,
    /// The draft as it was requested (JSON).
    pub document: String,
    pub requested_by: String,
    pub requested_by_account: Option<AccountId>,
    pub created_at: Timestamp,
    /// `pending`, `approved`, `rejected` or `voided`.
    pub status: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<Timestamp>,
    pub comment: Option<String>,
    /// The version approval published.
    pub version: Option<i64>,
}

const SELECT: &str = "SELECT r.id, r.kind, r.object_id, o.name AS object_name, r.environment_id, \
    e.name AS environment, r.revision, r.document, r.requested_by, r.requested_by_account, \
    r.created_at, r.status, r.decided_by, r.decided_at, r.comment, r.version \
    FROM publish_requests r JOIN objects o ON o.id = r.object_id \
    JOIN environments e ON e.id = r.environment_id";

fn request(r: &sqlx::any::AnyRow) -> Result<PublishRequest, StoreError> {
    let kind: String = r.try_get("kind")?;
    Ok(PublishRequest {
        id: parse_id(&r.try_get::<String, _>("id")?)?,
        kind: ObjectKind::parse(&kind)
            .ok_or_else(|| StoreError::Corrupt(format!("object kind {kind}")))?,
        object_id: parse_id(&r.try_get::<String, _>("object_id")?)?,
        object_name: r.try_get("object_name")?,
        environment_id: parse_id(&r.try_get::<String, _>("environment_id")?)?,
        environment: r.try_get("environment")?,
        revision: r.try_get("revision")?,
        document: r.try_get("document")?,
        requested_by: r.try_get("requested_by")?,
        requested_by_account: r
            .try_get::<Option<String>, _>("requested_by_account")?
            .map(|a| parse_id(&a))
            .transpose()?,
        created_at: Timestamp(r.try_get("created_at")?),
        status: r.try_get("status")?,
        decided_by: r.try_get("decided_by")?,
        decided_at: r.try_get::<Option<i64>, _>("decided_at")?.map(Timestamp),
        comment: r.try_get("comment")?,
        version: r.try_get("version")?,
    })
}

async fn fetch_request<'c, E: sqlx::Executor<'c, Database = Any>>(
    db: E,
    tenant: TenantId,
    id: PublishRequestId,
) -> Result<PublishRequest, StoreError> {
    let row = sqlx::query(&format!("{SELECT} WHERE r.tenant_id = $1 AND r.id = $2"))
        .bind(tenant.to_string())
        .bind(id.to_string())
        .fetch_optional(db)
        .await?
        .ok_or(StoreError::NotFound)?;
    request(&row)
}

/// The document an environment serves of an object now, if any.
async fn live_document<'c, E: sqlx::Executor<'c, Database = Any>>(
    db: E,
    env: EnvironmentId,
    object: ObjectId,
) -> Result<Option<String>, StoreError> {
    Ok(sqlx::query(
        "SELECT v.document FROM publications p JOIN object_versions v \
         ON v.object_id = p.object_id AND v.version = p.version \
         WHERE p.environment_id = $1 AND p.object_id = $2",
    )
    .bind(env.to_string())
    .bind(object.to_string())
    .fetch_optional(db)
    .await?
    .map(|r| r.try_get("document"))
    .transpose()?)
}

async fn decide(
    tx: &mut Transaction<'static, Any>,
    id: PublishRequestId,
    status: &str,
    by: Option<&str>,
    comment: Option<&str>,
    version: Option<i64>,
    now: Timestamp,
) -> Result<(), StoreError> {
    let done = sqlx::query(
        "UPDATE publish_requests SET status = $2, decided_by = $3, decided_at = $4, comment = $5, \
         version = $6 WHERE id = $1 AND status = 'pending'",
    )
    .bind(id.to_string())
    .bind(status)
    .bind(by)
    .bind(now.millis())
    .bind(comment)
    .bind(version)
    .execute(&mut **tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::Conflict("not_pending".into()));
    }
    Ok(())
}

impl Store {
    /// Records a request to publish the object's draft as it is now (an
    /// earlier pending request for the same environment is voided).
    #[tracing::instrument(name = "store.create_publish_request", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn create_publish_request(
        &self,
        new: NewPublishRequest,
        mut audit: AuditEntry,
    ) -> Result<PublishRequest, StoreError> {
        let now = self.clock.now();
        let mut tx = self.begin().await?;
        let object = fetch(&mut tx, new.tenant_id, new.kind, new.object_id).await?;
        if object.archived_at.is_some() {
            return Err(StoreError::Conflict("archived".into()));
        }
        crate::keys::ensure_env(&mut tx, new.tenant_id, new.environment_id).await?;
        sqlx::query(
            "UPDATE publish_requests SET status = 'voided', decided_at = $4 \
             WHERE tenant_id = $1 AND object_id = $2 AND environment_id = $3 AND status = 'pending'",
        )
        .bind(new.tenant_id.to_string())
        .bind(new.object_id.to_string())
        .bind(new.environment_id.to_string())
        .bind(now.millis())
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO publish_requests (id, tenant_id, object_id, kind, environment_id, revision, \
             document, requested_by, requested_by_account, created_at, status) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'pending')",
        )
        .bind(new.id.to_string())
        .bind(new.tenant_id.to_string())
        .bind(new.object_id.to_string())
        .bind(new.kind.as_str())
        .bind(new.environment_id.to_string())
        .bind(object.revision)
        .bind(&object.draft)
        .bind(&new.requested_by)
        .bind(new.requested_by_account.map(|a| a.to_string()))
        .bind(now.millis())
        .execute(&mut *tx)
        .await?;
        let created = fetch_request(&mut *tx, new.tenant_id, new.id).await?;
        audit.after = Some(
            serde_json::json!({
                "request": new.id.to_string(),
                "environment": created.environment,
                "revision": object.revision,
            })
            .to_string(),
        );
        self.commit_audited(tx, new.tenant_id, &audit, now).await?;
        Ok(created)
    }

    /// Requests, newest first, before an optional cursor (a request id).
    #[tracing::instrument(name = "store.publish_requests", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn publish_requests(
        &self,
        tenant: TenantId,
        status: Option<&str>,
        before: Option<PublishRequestId>,
        limit: u32,
    ) -> Result<Vec<PublishRequest>, StoreError> {
        // Each condition only when asked for: a NULL parameter has no type
        // PostgreSQL can infer.
        let mut sql = format!("{SELECT} WHERE r.tenant_id = $1");
        let mut n = 1;
        if status.is_some() {
            n += 1;
            sql.push_str(&format!(" AND r.status = ${n}"));
        }
        if before.is_some() {
            n += 1;
            sql.push_str(&format!(" AND r.id < ${n}"));
        }
        sql.push_str(&format!(" ORDER BY r.id DESC LIMIT ${}", n + 1));
        let mut q = sqlx::query(&sql).bind(tenant.to_string());
        if let Some(s) = status {
            q = q.bind(s);
        }
        if let Some(b) = before {
            q = q.bind(b.to_string());
        }
        let rows = q.bind(i64::from(limit)).fetch_all(&self.read).await?;
        rows.iter().map(request).collect()
    }

    /// The document an environment serves of an object now, if any.
    #[tracing::instrument(name = "store.live_document", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn live_document(
        &self,
        env: EnvironmentId,
        object: ObjectId,
    ) -> Result<Option<String>, StoreError> {
        live_document(&self.read, env, object).await
    }

    #[tracing::instrument(name = "store.publish_request", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn publish_request(
        &self,
        tenant: TenantId,
        id: PublishRequestId,
    ) -> Result<PublishRequest, StoreError> {
        fetch_request(&self.read, tenant, id).await
    }

    /// Approves a pending request: publishes the requested revision, with the
    /// decision and its audit entry, in one transaction. `Conflict("stale")`
    /// (the request is voided) when the draft is no longer that revision;
    /// `Conflict("not_pending")` when it was decided or voided already.
    #[tracing::instrument(name = "store.approve_publish_request", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn approve_publish_request(
        &self,
        tenant: TenantId,
        id: PublishRequestId,
        mut audit: AuditEntry,
    ) -> Result<(PublishRequest, ObjectRecord), StoreError> {
        let now = self.clock.now();
        let mut tx = self.begin().await?;
        let req = fetch_request(&mut *tx, tenant, id).await?;
        if req.status != "pending" {
            return Err(StoreError::Conflict("not_pending".into()));
        }
        let object = fetch(&mut tx, tenant, req.kind, req.object_id).await?;
        if object.revision != req.revision || object.draft != req.document {
            decide(&mut tx, id, "voided", None, None, None, now).await?;
            tx.commit().await?;
            return Err(StoreError::Conflict("stale".into()));
        }
        let live = live_document(&mut *tx, req.environment_id, req.object_id).await?;
        let version =
            publish_draft(&mut tx, &object, req.environment_id, &req.requested_by, now).await?;
        decide(
            &mut tx,
            id,
            "approved",
            Some(&audit.actor),
            None,
            Some(version),
            now,
        )
        .await?;
        // The audit entry shows what the approval changed in that environment
        // (the live document before, the approved one after) and the request.
        let doc = |d: &str| serde_json::from_str::<serde_json::Value>(d).unwrap_or_default();
        audit.before =
            Some(serde_json::json!({ "document": live.as_deref().map(doc) }).to_string());
        audit.after = Some(
            serde_json::json!({
                "request": id.to_string(),
                "environment": req.environment,
                "revision": req.revision,
                "version": version,
                "requested_by": req.requested_by,
                "document": doc(&req.document),
            })
            .to_string(),
        );
        let decided = fetch_request(&mut *tx, tenant, id).await?;
        let published = fetch(&mut tx, tenant, req.kind, req.object_id).await?;
        self.commit_change_audited(tx, tenant, &audit, now).await?;
        Ok((decided, published))
    }

    /// Rejects a pending request, with the approver's comment.
    #[tracing::instrument(name = "store.reject_publish_request", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn reject_publish_request(
        &self,
        tenant: TenantId,
        id: PublishRequestId,
        comment: &str,
        mut audit: AuditEntry,
    ) -> Result<PublishRequest, StoreError> {
        let now = self.clock.now();
        let mut tx = self.begin().await?;
        let req = fetch_request(&mut *tx, tenant, id).await?;
        decide(
            &mut tx,
            id,
            "rejected",
            Some(&audit.actor),
            Some(comment),
            None,
            now,
        )
        .await?;
        audit.after = Some(
            serde_json::json!({
                "request": id.to_string(),
                "environment": req.environment,
                "revision": req.revision,
                "requested_by": req.requested_by,
                "comment": comment,
            })
            .to_string(),
        );
        let decided = fetch_request(&mut *tx, tenant, id).await?;
        self.commit_audited(tx, tenant, &audit, now).await?;
        Ok(decided)
    }
}
