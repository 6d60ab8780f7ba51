//! Authored objects: drafts, immutable numbered versions, and per-environment
//! publications. Every mutation writes its audit entry in the same transaction.
//! Concurrent edits are detected by the draft's revision (optimistic locking).

use crate::audit::AuditEntry;
use crate::keys::ensure_env;
use crate::{parse_id, Store, StoreError};
use spotlight_domain::{EnvironmentId, ObjectId, ObjectKind, ObjectStatus, TenantId, Timestamp};
use sqlx::{Any, Row, Transaction};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Publication {
    pub environment: String,
    pub version: i64,
    pub published_at: Timestamp,
}

#[derive(Debug, Clone)]
pub struct ObjectRecord {
    pub id: ObjectId,
    pub tenant_id: TenantId,
    pub kind: ObjectKind,
    pub name: String,
    /// The draft document, JSON.
    pub draft: String,
    pub revision: i64,
    pub latest_version: i64,
    pub kill_switch: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub archived_at: Option<Timestamp>,
    pub publications: Vec<Publication>,
}

impl ObjectRecord {
    pub fn status(&self) -> ObjectStatus {
        if self.archived_at.is_some() {
            ObjectStatus::Archived
        } else if self.publications.is_empty() {
            ObjectStatus::Draft
        } else {
            ObjectStatus::Published
        }
    }
}

#[derive(Debug, Clone)]
pub struct VersionRecord {
    pub version: i64,
    pub document: String,
    pub created_at: Timestamp,
    pub created_by: String,
}

#[derive(Debug, Clone, Default)]
pub struct ObjectFilter {
    pub status: Option<ObjectStatus>,
    /// Case-insensitive substring of the name.
    pub search: Option<String>,
}

const COLUMNS: &str = "id, tenant_id, kind, name, draft, revision, latest_version, kill_switch, \
                       created_at, updated_at, archived_at";

fn object_from_row(r: &sqlx::any::AnyRow) -> Result<ObjectRecord, StoreError> {
    let kind: String = r.try_get("kind")?;
    Ok(ObjectRecord {
        id: parse_id(&r.try_get::<String, _>("id")?)?,
        tenant_id: parse_id(&r.try_get::<String, _>("tenant_id")?)?,
        kind: ObjectKind::parse(&kind).ok_or_else(|| StoreError::Corrupt(kind.clone()))?,
        name: r.try_get("name")?,
        draft: r.try_get("draft")?,
        revision: r.try_get("revision")?,
        latest_version: r.try_get("latest_version")?,
        kill_switch: r.try_get::<i64, _>("kill_switch")? != 0,
        created_at: Timestamp(r.try_get("created_at")?),
        updated_at: Timestamp(r.try_get("updated_at")?),
        archived_at: r.try_get::<Option<i64>, _>("archived_at")?.map(Timestamp),
        publications: Vec::new(),
    })
}

pub(crate) fn placeholders(from: usize, n: usize) -> String {
    (from..from + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `LIKE` pattern for a substring, with `%`, `_` and `\` escaped.
fn like_pattern(s: &str) -> String {
    format!("%{}%", like_escape(&s.to_lowercase()))
}

/// `s` with `LIKE`'s wildcards (`%`, `_`) and escape (`\`) escaped.
pub(crate) fn like_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

pub(crate) async fn fetch(
    tx: &mut Transaction<'_, Any>,
    tenant: TenantId,
    kind: ObjectKind,
    id: ObjectId,
) -> Result<ObjectRecord, StoreError> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM objects WHERE tenant_id = $1 AND kind = $2 AND id = $3"
    ))
    .bind(tenant.to_string())
    .bind(kind.as_str())
    .bind(id.to_string())
    .fetch_optional(&mut **tx)
    .await?
    .ok_or(StoreError::NotFound)?;
    let mut o = object_from_row(&row)?;
    o.publications = publications_tx(tx, tenant, id).await?;
    Ok(o)
}

async fn publications_tx(
    tx: &mut Transaction<'_, Any>,
    tenant: TenantId,
    id: ObjectId,
) -> Result<Vec<Publication>, StoreError> {
    let rows = sqlx::query(
        "SELECT e.name, p.version, p.published_at FROM publications p \
         JOIN environments e ON e.id = p.environment_id \
         WHERE p.tenant_id = $1 AND p.object_id = $2 ORDER BY e.name",
    )
    .bind(tenant.to_string())
    .bind(id.to_string())
    .fetch_all(&mut **tx)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Publication {
                environment: r.try_get("name")?,
                version: r.try_get("version")?,
                published_at: Timestamp(r.try_get("published_at")?),
            })
        })
        .collect()
}

async fn upsert_publication(
    tx: &mut Transaction<'_, Any>,
    object: &ObjectRecord,
    env: EnvironmentId,
    version: i64,
    by: &str,
    now: Timestamp,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO publications (environment_id, object_id, tenant_id, kind, version, published_at, published_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (environment_id, object_id) DO UPDATE SET \
         version = excluded.version, published_at = excluded.published_at, published_by = excluded.published_by",
    )
    .bind(env.to_string())
    .bind(object.id.to_string())
    .bind(object.tenant_id.to_string())
    .bind(object.kind.as_str())
    .bind(version)
    .bind(now.millis())
    .bind(by)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Publishes `current`'s draft to an environment, in the caller's
/// transaction: snapshots it as a new version when it differs from the latest
/// one (authored by `by`), and points the environment at it.
pub(crate) async fn publish_draft(
    tx: &mut Transaction<'static, Any>,
    current: &ObjectRecord,
    env: EnvironmentId,
    by: &str,
    now: Timestamp,
) -> Result<i64, StoreError> {
    ensure_env(tx, current.tenant_id, env).await?;
    if current.archived_at.is_some() {
        return Err(StoreError::Conflict("archived".into()));
    }
    let id = current.id;
    let latest_doc: Option<String> = if current.latest_version > 0 {
        sqlx::query("SELECT document FROM object_versions WHERE object_id = $1 AND version = $2")
            .bind(id.to_string())
            .bind(current.latest_version)
            .fetch_optional(&mut **tx)
            .await?
            .map(|r| r.try_get("document"))
            .transpose()?
    } else {
        None
    };
    let version = if latest_doc.as_deref() == Some(current.draft.as_str()) {
        current.latest_version
    } else {
        let next = current.latest_version + 1;
        sqlx::query(
            "INSERT INTO object_versions (object_id, tenant_id, version, document, created_at, created_by) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id.to_string())
        .bind(current.tenant_id.to_string())
        .bind(next)
        .bind(&current.draft)
        .bind(now.millis())
        .bind(by)
        .execute(&mut **tx)
        .await?;
        sqlx::query("UPDATE objects SET latest_version = $1 WHERE tenant_id = $2 AND id = $3")
            .bind(next)
            .bind(current.tenant_id.to_string())
            .bind(id.to_string())
            .execute(&mut **tx)
            .await?;
        next
    };
    upsert_publication(tx, current, env, version, by, now).await?;
    Ok(version)
}

/// Voids the object's pending publish requests (its draft changed, or it was
/// archived): approval publishes only the revision that was asked for.
pub(crate) async fn void_pending(
    tx: &mut Transaction<'static, Any>,
    tenant: TenantId,
    object: ObjectId,
    now: Timestamp,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE publish_requests SET status = 'voided', decided_at = $3 \
         WHERE tenant_id = $1 AND object_id = $2 AND status = 'pending'",
    )
    .bind(tenant.to_string())
    .bind(object.to_string())
    .bind(now.millis())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl Store {
    #[tracing::instrument(name = "store.create_object", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn create_object(
        &self,
        tenant: TenantId,
        kind: ObjectKind,
        id: ObjectId,
        name: &str,
        draft: &str,
        audit: AuditEntry,
    ) -> Result<ObjectRecord, StoreError> {
        let now = self.clock.now();
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO objects (id, tenant_id, kind, name, draft, revision, latest_version, kill_switch, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, 1, 0, 0, $6, $6)",
        )
        .bind(id.to_string())
        .bind(tenant.to_string())
        .bind(kind.as_str())
        .bind(name)
        .bind(draft)
        .bind(now.millis())
        .execute(&mut *tx)
        .await?;
        let o = fetch(&mut tx, tenant, kind, id).await?;
        self.commit_change_audited(tx, tenant, &audit, now).await?;
        Ok(o)
    }

    #[tracing::instrument(name = "store.object", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn object(
        &self,
        tenant: TenantId,
        kind: ObjectKind,
        id: ObjectId,
    ) -> Result<ObjectRecord, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM objects WHERE tenant_id = $1 AND kind = $2 AND id = $3"
        ))
        .bind(tenant.to_string())
        .bind(kind.as_str())
        .bind(id.to_string())
        .fetch_optional(&self.read)
        .await?
        .ok_or(StoreError::NotFound)?;
        let mut objects = vec![object_from_row(&row)?];
        self.attach_publications(tenant, &mut objects).await?;
        objects.pop().ok_or(StoreError::NotFound)
    }

    /// A page of objects in creation order, after an optional cursor.
    #[tracing::instrument(name = "store.objects", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn objects(
        &self,
        tenant: TenantId,
        kind: ObjectKind,
        filter: &ObjectFilter,
        after: Option<ObjectId>,
        limit: u32,
    ) -> Result<Vec<ObjectRecord>, StoreError> {
        let status = filter.status.map(ObjectStatus::as_str).unwrap_or("");
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM objects o WHERE tenant_id = $1 AND kind = $2 AND id > $3 \
             AND ($4 = '' OR LOWER(name) LIKE $4 ESCAPE '\\') \
             AND ($5 = '' \
                  OR ($5 = 'archived' AND archived_at IS NOT NULL) \
                  OR ($5 = 'published' AND archived_at IS NULL AND EXISTS \
                      (SELECT 1 FROM publications p WHERE p.object_id = o.id)) \
                  OR ($5 = 'draft' AND archived_at IS NULL AND NOT EXISTS \
                      (SELECT 1 FROM publications p WHERE p.object_id = o.id))) \
             ORDER BY id LIMIT $6"
        ))
        .bind(tenant.to_string())
        .bind(kind.as_str())
        .bind(after.map(|a| a.to_string()).unwrap_or_default())
        .bind(
            filter
                .search
                .as_deref()
                .map(like_pattern)
                .unwrap_or_default(),
        )
        .bind(status)
        .bind(i64::from(limit))
        .fetch_all(&self.read)
        .await?;
        let mut objects = rows
            .iter()
            .map(object_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        self.attach_publications(tenant, &mut objects).await?;
        Ok(objects)
    }

    /// Several objects by id in one query; ids of other tenants simply don't appear.
    #[tracing::instrument(name = "store.objects_by_ids", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn objects_by_ids(
        &self,
        tenant: TenantId,
        kind: ObjectKind,
        ids: &[ObjectId],
    ) -> Result<Vec<ObjectRecord>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT {COLUMNS} FROM objects WHERE tenant_id = $1 AND kind = $2 AND id IN ({}) ORDER BY id",
            placeholders(3, ids.len())
        );
        let mut q = sqlx::query(&sql)
            .bind(tenant.to_string())
            .bind(kind.as_str());
        for id in ids {
            q = q.bind(id.to_string());
        }
        let rows = q.fetch_all(&self.read).await?;
        let mut objects = rows
            .iter()
            .map(object_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        self.attach_publications(tenant, &mut objects).await?;
        Ok(objects)
    }

    async fn attach_publications(
        &self,
        tenant: TenantId,
        objects: &mut [ObjectRecord],
    ) -> Result<(), StoreError> {
        if objects.is_empty() {
            return Ok(());
        }
        let sql = format!(
            "SELECT p.object_id, e.name, p.version, p.published_at FROM publications p \
             JOIN environments e ON e.id = p.environment_id \
             WHERE p.tenant_id = $1 AND p.object_id IN ({}) ORDER BY e.name",
            placeholders(2, objects.len())
        );
        let mut q = sqlx::query(&sql).bind(tenant.to_string());
        for o in objects.iter() {
            q = q.bind(o.id.to_string());
        }
        for r in q.fetch_all(&self.read).await? {
            let id: ObjectId = parse_id(&r.try_get::<String, _>("object_id")?)?;
            if let Some(o) = objects.iter_mut().find(|o| o.id == id) {
                o.publications.push(Publication {
                    environment: r.try_get("name")?,
                    version: r.try_get("version")?,
                    published_at: Timestamp(r.try_get("published_at")?),
                });
            }
        }
        Ok(())
    }

    /// Replaces the draft. With `if_revision`, refuses (`Precondition`) when the
    /// draft changed since the caller read it. `audit` gets the before/after.
    #[allow(clippy::too_many_arguments)]
    #[tracing::instrument(name = "store.update_object", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn update_object(
        &self,
        tenant: TenantId,
        kind: ObjectKind,
        id: ObjectId,
        if_revision: Option<i64>,
        name: &str,
        draft: &str,
        mut audit: AuditEntry,
    ) -> Result<ObjectRecord, StoreError> {
        let now = self.clock.now();
        let mut tx = self.begin().await?;
        let current = fetch(&mut tx, tenant, kind, id).await?;
        if if_revision.is_some_and(|r| r != current.revision) {
            return Err(StoreError::Precondition);
        }
        let done = sqlx::query(
            "UPDATE objects SET name = $1, draft = $2, revision = revision + 1, updated_at = $3 \
             WHERE tenant_id = $4 AND id = $5 AND revision = $6",
        )
        .bind(name)
        .bind(draft)
        .bind(now.millis())
        .bind(tenant.to_string())
        .bind(id.to_string())
        .bind(current.revision)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            // Someone else's update landed between our read and write.
            return Err(StoreError::Precondition);
        }
        audit.before = Some(current.draft.clone());
        audit.after = Some(draft.to_owned());
        void_pending(&mut tx, tenant, id, now).await?;
        let updated = fetch(&mut tx, tenant, kind, id).await?;
        self.commit_change_audited(tx, tenant, &audit, now).await?;
        Ok(updated)
    }

    /// Deletes the object, its versions and publications.
    #[tracing::instrument(name = "store.delete_object", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn delete_object(
        &self,
        tenant: TenantId,
        kind: ObjectKind,
        id: ObjectId,
        mut audit: AuditEntry,
    ) -> Result<(), StoreError> {
        let now = self.clock.now();
        let mut tx = self.begin().await?;
        let current = fetch(&mut tx, tenant, kind, id).await?;
        sqlx::query("DELETE FROM objects WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.to_string())
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        audit.before = Some(current.draft);
        self.commit_change_audited(tx, tenant, &audit, now).await?;
        Ok(())
    }

    /// Archives (unpublishing everywhere) or restores an object.
    #[tracing::instrument(name = "store.set_archived", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn set_archived(
        &self,
        tenant: TenantId,
        kind: ObjectKind,
        id: ObjectId,
        archived: bool,
        audit: AuditEntry,
    ) -> Result<ObjectRecord, StoreError> {
        let now = self.clock.now();
        let mut tx = self.begin().await?;
        fetch(&mut tx, tenant, kind, id).await?;
        sqlx::query(
            "UPDATE objects SET archived_at = $1, updated_at = $2 WHERE tenant_id = $3 AND id = $4",
        )
        .bind(archived.then_some(now.millis()))
        .bind(now.millis())
        .bind(tenant.to_string())
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
        if archived {
            sqlx::query("DELETE FROM publications WHERE tenant_id = $1 AND object_id = $2")
                .bind(tenant.to_string())
                .bind(id.to_string())
                .execute(&mut *tx)
                .await?;
            void_pending(&mut tx, tenant, id, now).await?;
        }
        let o = fetch(&mut tx, tenant, kind, id).await?;
        self.commit_change_audited(tx, tenant, &audit, now).await?;
        Ok(o)
    }

    /// Publishes the draft to an environment: snapshots it as a new version when
    /// it differs from the latest one, and points the environment at it.
    #[tracing::instrument(name = "store.publish", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn publish(
        &self,
        tenant: TenantId,
        kind: ObjectKind,
        id: ObjectId,
        env: EnvironmentId,
        mut audit: AuditEntry,
    ) -> Result<(ObjectRecord, i64), StoreError> {
        let now = self.clock.now();
        let mut tx = self.begin().await?;
        let current = fetch(&mut tx, tenant, kind, id).await?;
        let version = publish_draft(&mut tx, &current, env, &audit.actor, now).await?;
        audit.after = Some(current.draft.clone());
        let o = fetch(&mut tx, tenant, kind, id).await?;
        self.commit_change_audited(tx, tenant, &audit, now).await?;
        Ok((o, version))
    }

    /// Points an environment at an earlier (or any existing) version.
    #[tracing::instrument(name = "store.publish_version", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn publish_version(
        &self,
        tenant: TenantId,
        kind: ObjectKind,
        id: ObjectId,
        env: EnvironmentId,
        version: i64,
        mut audit: AuditEntry,
    ) -> Result<ObjectRecord, StoreError> {
        let now = self.clock.now();
        let mut tx = self.begin().await?;
        ensure_env(&mut tx, tenant, env).await?;
        let current = fetch(&mut tx, tenant, kind, id).await?;
        if current.archived_at.is_some() {
            return Err(StoreError::Conflict("archived".into()));
        }
        let doc: String = sqlx::query(
            "SELECT document FROM object_versions WHERE object_id = $1 AND tenant_id = $2 AND version = $3",
        )
        .bind(id.to_string())
        .bind(tenant.to_string())
        .bind(version)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NoSuchVersion)?
        .try_get("document")?;
        upsert_publication(&mut tx, &current, env, version, &audit.actor, now).await?;
        audit.after = Some(doc);
        let o = fetch(&mut tx, tenant, kind, id).await?;
        self.commit_change_audited(tx, tenant, &audit, now).await?;
        Ok(o)
    }

    /// Turns an object's kill switch on or off: on, the SDK stops showing it at once.
    #[tracing::instrument(name = "store.set_kill_switch", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn set_kill_switch(
        &self,
        tenant: TenantId,
        kind: ObjectKind,
        id: ObjectId,
        on: bool,
        mut audit: AuditEntry,
    ) -> Result<ObjectRecord, StoreError> {
        let now = self.clock.now();
        let mut tx = self.begin().await?;
        let before = fetch(&mut tx, tenant, kind, id).await?;
        sqlx::query("UPDATE objects SET kill_switch = $1 WHERE tenant_id = $2 AND id = $3")
            .bind(i64::from(on))
            .bind(tenant.to_string())
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        audit.before = Some(format!("{{\"kill_switch\":{}}}", before.kill_switch));
        audit.after = Some(format!("{{\"kill_switch\":{on}}}"));
        let o = fetch(&mut tx, tenant, kind, id).await?;
        self.commit_change_audited(tx, tenant, &audit, now).await?;
        Ok(o)
    }

    /// The version an environment publishes, if any.
    #[tracing::instrument(name = "store.published_version", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn published_version(
        &self,
        tenant: TenantId,
        id: ObjectId,
        env: EnvironmentId,
    ) -> Result<Option<i64>, StoreError> {
        let row = sqlx::query(
            "SELECT version FROM publications WHERE tenant_id = $1 AND object_id = $2 AND environment_id = $3",
        )
        .bind(tenant.to_string())
        .bind(id.to_string())
        .bind(env.to_string())
        .fetch_optional(&self.read)
        .await?;
        row.map(|r| r.try_get("version").map_err(StoreError::from))
            .transpose()
    }

    #[tracing::instrument(name = "store.unpublish", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn unpublish(
        &self,
        tenant: TenantId,
        kind: ObjectKind,
        id: ObjectId,
        env: EnvironmentId,
        audit: AuditEntry,
    ) -> Result<ObjectRecord, StoreError> {
        let now = self.clock.now();
        let mut tx = self.begin().await?;
        fetch(&mut tx, tenant, kind, id).await?;
        sqlx::query(
            "DELETE FROM publications WHERE tenant_id = $1 AND object_id = $2 AND environment_id = $3",
        )
        .bind(tenant.to_string())
        .bind(id.to_string())
        .bind(env.to_string())
        .execute(&mut *tx)
        .await?;
        let o = fetch(&mut tx, tenant, kind, id).await?;
        self.commit_change_audited(tx, tenant, &audit, now).await?;
        Ok(o)
    }

    /// Versions, newest first, before an optional cursor (a version number).
    /// Scoped by tenant: an object the tenant does not have has none (callers
    /// that must answer 404 look the object up first, as they need it anyway).
    #[tracing::instrument(name = "store.versions", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn versions(
        &self,
        tenant: TenantId,
        id: ObjectId,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<VersionRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT version, document, created_at, created_by FROM object_versions \
             WHERE tenant_id = $1 AND object_id = $2 AND version < $3 ORDER BY version DESC LIMIT $4",
        )
        .bind(tenant.to_string())
        .bind(id.to_string())
        .bind(before.unwrap_or(i64::MAX))
        .bind(i64::from(limit))
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(version_from_row).collect()
    }

    /// One version (`NoSuchVersion` when the tenant's object has no such version).
    #[tracing::instrument(name = "store.version", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn version(
        &self,
        tenant: TenantId,
        id: ObjectId,
        version: i64,
    ) -> Result<VersionRecord, StoreError> {
        let row = sqlx::query(
            "SELECT version, document, created_at, created_by FROM object_versions \
             WHERE tenant_id = $1 AND object_id = $2 AND version = $3",
        )
        .bind(tenant.to_string())
        .bind(id.to_string())
        .bind(version)
        .fetch_optional(&self.read)
        .await?
        .ok_or(StoreError::NoSuchVersion)?;
        version_from_row(&row)
    }
}

fn version_from_row(r: &sqlx::any::AnyRow) -> Result<VersionRecord, StoreError> {
    Ok(VersionRecord {
        version: r.try_get("version")?,
        document: r.try_get("document")?,
        created_at: Timestamp(r.try_get("created_at")?),
        created_by: r.try_get("created_by")?,
    })
}
