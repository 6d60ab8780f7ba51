//! Team invitations. An owner invites an address with a role; nothing about
//! any account is looked up then (the answer is the same whether or not the
//! address has one). The invitee accepts with the token — signing in, or
//! choosing a password when the address is new — and only then becomes a
//! member. Tokens are stored as hashes; an invitation is used once.

use crate::accounts::upsert_membership;
use crate::audit::AuditEntry;
use crate::{parse_id, Store, StoreError};
use spotlight_domain::{AccountId, Email, InvitationId, KeyHash, Role, TenantId, Timestamp};
use sqlx::Row;

pub struct NewInvitation {
    pub id: InvitationId,
    pub tenant_id: TenantId,
    pub email: Email,
    pub role: Role,
    pub token_hash: KeyHash,
    pub invited_by: String,
    pub expires_at: Timestamp,
}

#[derive(Debug, Clone)]
pub struct Invitation {
    pub id: InvitationId,
    pub tenant_id: TenantId,
    pub email: String,
    pub role: Role,
    pub invited_by: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

const COLUMNS: &str = "id, tenant_id, email, role, invited_by, created_at, expires_at";

fn invitation(r: &sqlx::any::AnyRow) -> Result<Invitation, StoreError> {
    let role: String = r.try_get("role")?;
    Ok(Invitation {
        id: parse_id(&r.try_get::<String, _>("id")?)?,
        tenant_id: parse_id(&r.try_get::<String, _>("tenant_id")?)?,
        email: r.try_get("email")?,
        role: Role::parse(&role).ok_or_else(|| StoreError::Corrupt(format!("role {role}")))?,
        invited_by: r.try_get("invited_by")?,
        created_at: Timestamp(r.try_get("created_at")?),
        expires_at: Timestamp(r.try_get("expires_at")?),
    })
}

impl Store {
    /// Records an invitation (and its audit entry).
    #[tracing::instrument(name = "store.create_invitation", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn create_invitation(
        &self,
        new: NewInvitation,
        audit: AuditEntry,
    ) -> Result<Invitation, StoreError> {
        let now = self.clock.now();
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO invitations (id, tenant_id, email, role, token_hash, invited_by, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(new.id.to_string())
        .bind(new.tenant_id.to_string())
        .bind(new.email.as_str())
        .bind(new.role.as_str())
        .bind(new.token_hash.as_str())
        .bind(&new.invited_by)
        .bind(now.millis())
        .bind(new.expires_at.millis())
        .execute(&mut *tx)
        .await?;
        self.commit_audited(tx, new.tenant_id, &audit, now).await?;
        Ok(Invitation {
            id: new.id,
            tenant_id: new.tenant_id,
            email: new.email.as_str().to_owned(),
            role: new.role,
            invited_by: new.invited_by,
            created_at: now,
            expires_at: new.expires_at,
        })
    }

    /// A tenant's invitations still waiting for an answer, newest first.
    #[tracing::instrument(name = "store.pending_invitations", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn pending_invitations(
        &self,
        tenant: TenantId,
    ) -> Result<Vec<Invitation>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM invitations WHERE tenant_id = $1 AND accepted_at IS NULL \
             AND revoked_at IS NULL AND expires_at > $2 ORDER BY created_at DESC LIMIT 200"
        ))
        .bind(tenant.to_string())
        .bind(self.clock.now().millis())
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(invitation).collect()
    }

    /// Withdraws a pending invitation of this tenant.
    #[tracing::instrument(name = "store.revoke_invitation", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn revoke_invitation(
        &self,
        tenant: TenantId,
        id: InvitationId,
        audit: AuditEntry,
    ) -> Result<(), StoreError> {
        let now = self.clock.now();
        let mut tx = self.begin().await?;
        let done = sqlx::query(
            "UPDATE invitations SET revoked_at = $1 WHERE id = $2 AND tenant_id = $3 \
             AND accepted_at IS NULL AND revoked_at IS NULL",
        )
        .bind(now.millis())
        .bind(id.to_string())
        .bind(tenant.to_string())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        self.commit_audited(tx, tenant, &audit, now).await?;
        Ok(())
    }

    /// The pending, unexpired invitation a token opens.
    #[tracing::instrument(name = "store.invitation_by_token", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn invitation_by_token(
        &self,
        token_hash: &KeyHash,
    ) -> Result<Option<Invitation>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS}, token_hash FROM invitations WHERE token_hash = $1 \
             AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > $2"
        ))
        .bind(token_hash.as_str())
        .bind(self.clock.now().millis())
        .fetch_optional(&self.read)
        .await?;
        let Some(r) = row else { return Ok(None) };
        if !KeyHash::from_stored(r.try_get("token_hash")?).ct_eq(token_hash) {
            return Ok(None);
        }
        invitation(&r).map(Some)
    }

    /// Uses an invitation: the account becomes a member with the invited role
    /// (an existing member keeps the higher of the two), once. `NotFound` when
    /// it was used, withdrawn or expired meanwhile.
    #[tracing::instrument(name = "store.accept_invitation", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn accept_invitation(
        &self,
        inv: &Invitation,
        account: AccountId,
        audit: AuditEntry,
    ) -> Result<Role, StoreError> {
        let now = self.clock.now();
        let mut tx = self.begin().await?;
        let used = sqlx::query(
            "UPDATE invitations SET accepted_at = $1 WHERE id = $2 AND accepted_at IS NULL \
             AND revoked_at IS NULL AND expires_at > $1",
        )
        .bind(now.millis())
        .bind(inv.id.to_string())
        .execute(&mut *tx)
        .await?;
        if used.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        let held: Option<String> =
            sqlx::query("SELECT role FROM memberships WHERE tenant_id = $1 AND account_id = $2")
                .bind(inv.tenant_id.to_string())
                .bind(account.to_string())
                .fetch_optional(&mut *tx)
                .await?
                .map(|r| r.try_get("role"))
                .transpose()?;
        let role = match held.as_deref().and_then(Role::parse) {
            Some(h) if h >= inv.role => h,
            _ => inv.role,
        };
        upsert_membership(&mut tx, inv.tenant_id, account, role, now.millis()).await?;
        self.commit_audited(tx, inv.tenant_id, &audit, now).await?;
        Ok(role)
    }
}
