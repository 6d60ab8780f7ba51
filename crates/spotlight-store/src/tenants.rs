//! Tenants and their environments. A tenant is created with its environments and
//! their first keys in one transaction.

use crate::audit::AuditEntry;
use crate::keys::{insert_key, NewKey};
use crate::{parse_id, Store, StoreError};
use spotlight_domain::{EnvironmentId, EnvironmentName, TenantId, TenantName, Timestamp};
use sqlx::Row;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    pub id: TenantId,
    pub name: String,
    pub allowed_origins: Vec<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Environment {
    pub id: EnvironmentId,
    pub tenant_id: TenantId,
    pub name: String,
    pub created_at: Timestamp,
}

pub struct NewEnvironment {
    pub id: EnvironmentId,
    pub name: EnvironmentName,
    pub keys: Vec<NewKey>,
}

pub struct NewTenant {
    pub id: TenantId,
    pub name: TenantName,
    /// Already validated and normalised origins.
    pub allowed_origins: Vec<String>,
    pub environments: Vec<NewEnvironment>,
}

fn tenant_from_row(row: &sqlx::any::AnyRow) -> Result<Tenant, StoreError> {
    let origins: String = row.try_get("allowed_origins")?;
    Ok(Tenant {
        id: parse_id(&row.try_get::<String, _>("id")?)?,
        name: row.try_get("name")?,
        allowed_origins: serde_json::from_str(&origins)
            .map_err(|e| StoreError::Corrupt(format!("allowed_origins: {e}")))?,
        created_at: Timestamp(row.try_get("created_at")?),
        updated_at: Timestamp(row.try_get("updated_at")?),
    })
}

fn environment_from_row(row: &sqlx::any::AnyRow) -> Result<Environment, StoreError> {
    Ok(Environment {
        id: parse_id(&row.try_get::<String, _>("id")?)?,
        tenant_id: parse_id(&row.try_get::<String, _>("tenant_id")?)?,
        name: row.try_get("name")?,
        created_at: Timestamp(row.try_get("created_at")?),
    })
}

const TENANT_COLUMNS: &str = "id, name, allowed_origins, created_at, updated_at";

impl Store {
    #[tracing::instrument(name = "store.create_tenant", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn create_tenant(&self, new: NewTenant) -> Result<Tenant, StoreError> {
        let now = self.clock.now();
        let origins = serde_json::to_string(&new.allowed_origins)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO tenants (id, name, allowed_origins, settings, created_at, updated_at) \
             VALUES ($1, $2, $3, '{}', $4, $4)",
        )
        .bind(new.id.to_string())
        .bind(new.name.as_str())
        .bind(&origins)
        .bind(now.millis())
        .execute(&mut *tx)
        .await?;
        for env in &new.environments {
            sqlx::query(
                "INSERT INTO environments (id, tenant_id, name, created_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(env.id.to_string())
            .bind(new.id.to_string())
            .bind(env.name.as_str())
            .bind(now.millis())
            .execute(&mut *tx)
            .await?;
            for key in &env.keys {
                insert_key(&mut tx, new.id, env.id, key, now).await?;
            }
        }
        tx.commit().await?;
        Ok(Tenant {
            id: new.id,
            name: new.name.as_str().to_owned(),
            allowed_origins: new.allowed_origins,
            created_at: now,
            updated_at: now,
        })
    }

    #[tracing::instrument(name = "store.tenant", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn tenant(&self, id: TenantId) -> Result<Tenant, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {TENANT_COLUMNS} FROM tenants WHERE id = $1"
        ))
        .bind(id.to_string())
        .fetch_optional(&self.read)
        .await?
        .ok_or(StoreError::NotFound)?;
        tenant_from_row(&row)
    }

    /// Operator listing, by id (creation order), after an optional cursor.
    #[tracing::instrument(name = "store.list_tenants", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn list_tenants(
        &self,
        after: Option<TenantId>,
        limit: u32,
    ) -> Result<Vec<Tenant>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {TENANT_COLUMNS} FROM tenants WHERE id > $1 ORDER BY id LIMIT $2"
        ))
        .bind(after.map(|a| a.to_string()).unwrap_or_default())
        .bind(i64::from(limit))
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(tenant_from_row).collect()
    }

    /// Tenants whose name is exactly `name` (names are not unique; the CLI asks
    /// for an id when several match).
    #[tracing::instrument(name = "store.tenants_named", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn tenants_named(&self, name: &str) -> Result<Vec<Tenant>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {TENANT_COLUMNS} FROM tenants WHERE name = $1 ORDER BY id LIMIT 10"
        ))
        .bind(name)
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(tenant_from_row).collect()
    }

    #[tracing::instrument(name = "store.set_allowed_origins", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn set_allowed_origins(
        &self,
        tenant: TenantId,
        origins: &[String],
    ) -> Result<(), StoreError> {
        let json =
            serde_json::to_string(origins).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let mut tx = self.begin().await?;
        let done =
            sqlx::query("UPDATE tenants SET allowed_origins = $1, updated_at = $2 WHERE id = $3")
                .bind(json)
                .bind(self.clock.now().millis())
                .bind(tenant.to_string())
                .execute(&mut *tx)
                .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        self.commit_change(tx, tenant).await
    }

    /// The settings document (JSON) and the allowed origins.
    #[tracing::instrument(name = "store.tenant_settings", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn tenant_settings(
        &self,
        tenant: TenantId,
    ) -> Result<(String, Vec<String>), StoreError> {
        let row = sqlx::query("SELECT settings, allowed_origins FROM tenants WHERE id = $1")
            .bind(tenant.to_string())
            .fetch_optional(&self.read)
            .await?
            .ok_or(StoreError::NotFound)?;
        let origins: String = row.try_get("allowed_origins")?;
        Ok((
            row.try_get("settings")?,
            serde_json::from_str(&origins).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        ))
    }

    /// Replaces settings and origins together, audited with before and after.
    #[tracing::instrument(name = "store.update_tenant_settings", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn update_tenant_settings(
        &self,
        tenant: TenantId,
        settings: &str,
        origins: &[String],
        mut audit: AuditEntry,
    ) -> Result<(), StoreError> {
        let now = self.clock.now();
        let origins_json =
            serde_json::to_string(origins).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let mut tx = self.begin().await?;
        let row = sqlx::query("SELECT settings, allowed_origins FROM tenants WHERE id = $1")
            .bind(tenant.to_string())
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::NotFound)?;
        let before_settings: String = row.try_get("settings")?;
        let before_origins: String = row.try_get("allowed_origins")?;
        sqlx::query(
            "UPDATE tenants SET settings = $1, allowed_origins = $2, updated_at = $3 WHERE id = $4",
        )
        .bind(settings)
        .bind(&origins_json)
        .bind(now.millis())
        .bind(tenant.to_string())
        .execute(&mut *tx)
        .await?;
        audit.before = Some(format!(
            "{{\"settings\":{before_settings},\"allowed_origins\":{before_origins}}}"
        ));
        audit.after = Some(format!(
            "{{\"settings\":{settings},\"allowed_origins\":{origins_json}}}"
        ));
        self.commit_change_audited(tx, tenant, &audit, now).await?;
        Ok(())
    }

    #[tracing::instrument(name = "store.environments", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn environments(&self, tenant: TenantId) -> Result<Vec<Environment>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, tenant_id, name, created_at FROM environments \
             WHERE tenant_id = $1 ORDER BY created_at, name",
        )
        .bind(tenant.to_string())
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(environment_from_row).collect()
    }

    /// Environments of several tenants in one query (operator listings).
    #[tracing::instrument(name = "store.environments_of", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn environments_of(
        &self,
        tenants: &[TenantId],
    ) -> Result<Vec<Environment>, StoreError> {
        if tenants.is_empty() {
            return Ok(Vec::new());
        }
        let placeholders: Vec<String> = (1..=tenants.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT id, tenant_id, name, created_at FROM environments \
             WHERE tenant_id IN ({}) ORDER BY tenant_id, created_at, name",
            placeholders.join(", ")
        );
        let mut q = sqlx::query(&sql);
        for t in tenants {
            q = q.bind(t.to_string());
        }
        let rows = q.fetch_all(&self.read).await?;
        rows.iter().map(environment_from_row).collect()
    }

    #[tracing::instrument(name = "store.environment_named", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn environment_named(
        &self,
        tenant: TenantId,
        name: &str,
    ) -> Result<Environment, StoreError> {
        let row = sqlx::query(
            "SELECT id, tenant_id, name, created_at FROM environments \
             WHERE tenant_id = $1 AND name = $2",
        )
        .bind(tenant.to_string())
        .bind(name)
        .fetch_optional(&self.read)
        .await?
        .ok_or(StoreError::NotFound)?;
        environment_from_row(&row)
    }
}
