//! What the SDK config endpoint reads: every document an environment delivers,
//! in one query. Tours, content, checklists and launchers only as published
//! there; themes and audiences (which other documents refer to) as published
//! there, else as their current draft.

use crate::{Store, StoreError};
use spotlight_domain::{EnvironmentId, ObjectKind, TenantId};
use sqlx::Row;

#[derive(Debug, Clone)]
pub struct BundleRow {
    pub id: String,
    pub kind: ObjectKind,
    /// 0 for a theme or audience served from its draft.
    pub version: i64,
    pub kill_switch: bool,
    pub document: String,
}

impl Store {
    #[tracing::instrument(name = "store.delivery_bundle", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn delivery_bundle(
        &self,
        tenant: TenantId,
        env: EnvironmentId,
    ) -> Result<Vec<BundleRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT o.id, o.kind, o.kill_switch, o.draft, p.version, v.document \
             FROM objects o \
             LEFT JOIN publications p ON p.object_id = o.id AND p.environment_id = $2 \
             LEFT JOIN object_versions v ON v.object_id = o.id AND v.version = p.version \
             WHERE o.tenant_id = $1 AND o.archived_at IS NULL \
               AND (p.version IS NOT NULL OR o.kind IN ('theme', 'audience')) \
             ORDER BY o.id",
        )
        .bind(tenant.to_string())
        .bind(env.to_string())
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| {
                let kind: String = r.try_get("kind")?;
                let published: Option<String> = r.try_get("document")?;
                let version: Option<i64> = r.try_get("version")?;
                Ok(BundleRow {
                    id: r.try_get("id")?,
                    kind: ObjectKind::parse(&kind).ok_or(StoreError::Corrupt(kind))?,
                    version: version.unwrap_or(0),
                    kill_switch: r.try_get::<i64, _>("kill_switch")? != 0,
                    document: match published {
                        Some(d) => d,
                        None => r.try_get("draft")?,
                    },
                })
            })
            .collect()
    }

    /// Every current draft of the tenant (an in-app admin previewing drafts).
    #[tracing::instrument(name = "store.draft_bundle", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn draft_bundle(&self, tenant: TenantId) -> Result<Vec<BundleRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, kind, kill_switch, draft, latest_version FROM objects \
             WHERE tenant_id = $1 AND archived_at IS NULL ORDER BY id",
        )
        .bind(tenant.to_string())
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| {
                let kind: String = r.try_get("kind")?;
                Ok(BundleRow {
                    id: r.try_get("id")?,
                    kind: ObjectKind::parse(&kind).ok_or(StoreError::Corrupt(kind))?,
                    version: r.try_get("latest_version")?,
                    kill_switch: r.try_get::<i64, _>("kill_switch")? != 0,
                    document: r.try_get("draft")?,
                })
            })
            .collect()
    }
}
