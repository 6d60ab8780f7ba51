//! Dashboard accounts (global, by e-mail), their memberships in tenants (with a
//! role), and server-side sessions (stored as token hashes, revocable).

use crate::audit::AuditEntry;
use crate::{parse_id, Store, StoreError};
use spotlight_domain::{AccountId, Email, KeyHash, Role, SessionId, TenantId, Timestamp};
use sqlx::Row;

#[derive(Debug, Clone)]
pub struct Account {
    pub id: AccountId,
    pub email: String,
    /// PHC string (argon2id).
    pub password_hash: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    pub tenant_id: TenantId,
    pub tenant_name: String,
    pub role: Role,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub account_id: AccountId,
    pub email: String,
    pub role: Role,
    pub created_at: Timestamp,
}

pub struct NewSession {
    pub id: SessionId,
    pub token_hash: KeyHash,
    pub account_id: AccountId,
    pub tenant_id: TenantId,
    pub expires_at: Timestamp,
    pub ip: String,
    pub user_agent: String,
    /// Signed in through the tenant's identity provider (not a password).
    pub sso: bool,
}

/// A live session with the role its account holds in the session's tenant now
/// (a removed membership ends the session).
#[derive(Debug, Clone)]
pub struct SessionRecord {
    pub id: SessionId,
    pub account_id: AccountId,
    pub email: String,
    pub tenant_id: TenantId,
    pub role: Role,
    pub expires_at: Timestamp,
    /// The account signs in with a second factor (a confirmed TOTP secret).
    pub two_factor: bool,
    /// Signed in through the tenant's identity provider (which owns the
    /// second factor then).
    pub sso: bool,
}

fn role_of(s: &str) -> Result<Role, StoreError> {
    Role::parse(s).ok_or_else(|| StoreError::Corrupt(format!("role {s}")))
}

impl Store {
    #[tracing::instrument(name = "store.create_account", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn create_account(
        &self,
        email: &Email,
        password_hash: &str,
    ) -> Result<Account, StoreError> {
        let id = AccountId::new_v7();
        let now = self.clock.now().millis();
        sqlx::query(
            "INSERT INTO accounts (id, email, password_hash, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $4)",
        )
        .bind(id.to_string())
        .bind(email.as_str())
        .bind(password_hash)
        .bind(now)
        .execute(&self.write)
        .await?;
        Ok(Account {
            id,
            email: email.as_str().to_owned(),
            password_hash: password_hash.to_owned(),
        })
    }

    #[tracing::instrument(name = "store.account_by_email", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn account_by_email(&self, email: &Email) -> Result<Option<Account>, StoreError> {
        let row = sqlx::query("SELECT id, email, password_hash FROM accounts WHERE email = $1")
            .bind(email.as_str())
            .fetch_optional(&self.read)
            .await?;
        row.map(|r| {
            Ok(Account {
                id: parse_id(&r.try_get::<String, _>("id")?)?,
                email: r.try_get("email")?,
                password_hash: r.try_get("password_hash")?,
            })
        })
        .transpose()
    }

    /// Sets a new password and ends every session of the account.
    #[tracing::instrument(name = "store.set_password", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn set_password(
        &self,
        account: AccountId,
        password_hash: &str,
    ) -> Result<(), StoreError> {
        let now = self.clock.now().millis();
        let mut tx = self.begin().await?;
        sqlx::query("UPDATE accounts SET password_hash = $1, updated_at = $2 WHERE id = $3")
            .bind(password_hash)
            .bind(now)
            .bind(account.to_string())
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "UPDATE sessions SET revoked_at = $1 WHERE account_id = $2 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(account.to_string())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Adds the account to the tenant, or changes its role there.
    #[tracing::instrument(name = "store.put_membership", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn put_membership(
        &self,
        tenant: TenantId,
        account: AccountId,
        role: Role,
    ) -> Result<(), StoreError> {
        let now = self.clock.now().millis();
        let mut tx = self.begin().await?;
        // The tenant must exist: a foreign-key error would be a 500, this is a 404.
        sqlx::query("SELECT id FROM tenants WHERE id = $1")
            .bind(tenant.to_string())
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::NotFound)?;
        upsert_membership(&mut tx, tenant, account, role, now).await?;
        tx.commit().await?;
        Ok(())
    }

    #[tracing::instrument(name = "store.memberships", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn memberships(&self, account: AccountId) -> Result<Vec<Membership>, StoreError> {
        let rows = sqlx::query(
            "SELECT m.tenant_id, t.name, m.role FROM memberships m JOIN tenants t ON t.id = m.tenant_id \
             WHERE m.account_id = $1 ORDER BY m.created_at, m.tenant_id",
        )
        .bind(account.to_string())
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Membership {
                    tenant_id: parse_id(&r.try_get::<String, _>("tenant_id")?)?,
                    tenant_name: r.try_get("name")?,
                    role: role_of(&r.try_get::<String, _>("role")?)?,
                })
            })
            .collect()
    }

    #[tracing::instrument(name = "store.members", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn members(&self, tenant: TenantId) -> Result<Vec<Member>, StoreError> {
        let rows = sqlx::query(
            "SELECT a.id, a.email, m.role, m.created_at FROM memberships m \
             JOIN accounts a ON a.id = m.account_id WHERE m.tenant_id = $1 ORDER BY a.email",
        )
        .bind(tenant.to_string())
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Member {
                    account_id: parse_id(&r.try_get::<String, _>("id")?)?,
                    email: r.try_get("email")?,
                    role: role_of(&r.try_get::<String, _>("role")?)?,
                    created_at: Timestamp(r.try_get("created_at")?),
                })
            })
            .collect()
    }

    /// Sets a member's role (adding the membership if needed), refusing to leave
    /// the tenant without an owner. Audited in the same transaction.
    #[tracing::instrument(name = "store.set_member_role", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn set_member_role(
        &self,
        tenant: TenantId,
        account: AccountId,
        role: Role,
        mut audit: AuditEntry,
    ) -> Result<Member, StoreError> {
        let now = self.clock.now();
        let mut tx = self.begin().await?;
        let before: Option<String> =
            sqlx::query("SELECT role FROM memberships WHERE tenant_id = $1 AND account_id = $2")
                .bind(tenant.to_string())
                .bind(account.to_string())
                .fetch_optional(&mut *tx)
                .await?
                .map(|r| r.try_get("role"))
                .transpose()?;
        if before.as_deref() == Some("owner") && role != Role::Owner {
            ensure_another_owner(&mut tx, tenant, account).await?;
        }
        upsert_membership(&mut tx, tenant, account, role, now.millis()).await?;
        audit.before = before.map(|r| format!("{{\"role\":\"{r}\"}}"));
        audit.after = Some(format!("{{\"role\":\"{}\"}}", role.as_str()));
        let member = member_tx(&mut tx, tenant, account).await?;
        self.commit_audited(tx, tenant, &audit, now).await?;
        Ok(member)
    }

    /// Removes a member and ends their sessions in this tenant; never the last owner.
    #[tracing::instrument(name = "store.remove_member", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn remove_member(
        &self,
        tenant: TenantId,
        account: AccountId,
        mut audit: AuditEntry,
    ) -> Result<(), StoreError> {
        let now = self.clock.now();
        let mut tx = self.begin().await?;
        let member = member_tx(&mut tx, tenant, account).await?;
        if member.role == Role::Owner {
            ensure_another_owner(&mut tx, tenant, account).await?;
        }
        end_membership(&mut tx, tenant, account, now.millis()).await?;
        audit.before = Some(format!(
            "{{\"email\":{:?},\"role\":\"{}\"}}",
            member.email,
            member.role.as_str()
        ));
        self.commit_audited(tx, tenant, &audit, now).await?;
        Ok(())
    }

    #[tracing::instrument(name = "store.create_session", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn create_session(&self, s: NewSession) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO sessions (id, token_hash, account_id, tenant_id, created_at, expires_at, ip, user_agent, method) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(s.id.to_string())
        .bind(s.token_hash.as_str())
        .bind(s.account_id.to_string())
        .bind(s.tenant_id.to_string())
        .bind(self.clock.now().millis())
        .bind(s.expires_at.millis())
        .bind(s.ip)
        .bind(s.user_agent)
        .bind(if s.sso { "sso" } else { "password" })
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// A session that is live now (not expired, not revoked, membership still held).
    #[tracing::instrument(name = "store.live_session", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn live_session(
        &self,
        token_hash: &KeyHash,
    ) -> Result<Option<SessionRecord>, StoreError> {
        let row = sqlx::query(
            "SELECT s.id, s.account_id, a.email, s.tenant_id, m.role, s.expires_at, s.token_hash, s.method, \
             (SELECT COUNT(*) FROM account_two_factor t \
              WHERE t.account_id = s.account_id AND t.confirmed_at IS NOT NULL) AS two_factor \
             FROM sessions s \
             JOIN accounts a ON a.id = s.account_id \
             JOIN memberships m ON m.account_id = s.account_id AND m.tenant_id = s.tenant_id \
             WHERE s.token_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > $2",
        )
        .bind(token_hash.as_str())
        .bind(self.clock.now().millis())
        .fetch_optional(&self.read)
        .await?;
        let Some(r) = row else { return Ok(None) };
        let stored = KeyHash::from_stored(r.try_get("token_hash")?);
        if !stored.ct_eq(token_hash) {
            return Ok(None);
        }
        Ok(Some(SessionRecord {
            id: parse_id(&r.try_get::<String, _>("id")?)?,
            account_id: parse_id(&r.try_get::<String, _>("account_id")?)?,
            email: r.try_get("email")?,
            tenant_id: parse_id(&r.try_get::<String, _>("tenant_id")?)?,
            role: role_of(&r.try_get::<String, _>("role")?)?,
            expires_at: Timestamp(r.try_get("expires_at")?),
            two_factor: r.try_get::<i64, _>("two_factor")? > 0,
            sso: r.try_get::<String, _>("method")? == "sso",
        }))
    }

    /// How many sessions the account has had, and how many of them from this
    /// address and browser.
    #[tracing::instrument(name = "store.sessions_seen_from", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn sessions_seen_from(
        &self,
        account: AccountId,
        ip: &str,
        user_agent: &str,
    ) -> Result<(i64, i64), StoreError> {
        let r = sqlx::query(
            "SELECT COUNT(*) AS n, COALESCE(SUM(CASE WHEN ip = $2 AND user_agent = $3 THEN 1 ELSE 0 END), 0) AS seen \
             FROM sessions WHERE account_id = $1",
        )
        .bind(account.to_string())
        .bind(ip)
        .bind(user_agent)
        .fetch_one(&self.read)
        .await?;
        Ok((r.try_get("n")?, r.try_get("seen")?))
    }

    #[tracing::instrument(name = "store.revoke_session", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn revoke_session(&self, id: SessionId) -> Result<(), StoreError> {
        sqlx::query("UPDATE sessions SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(self.clock.now().millis())
            .bind(id.to_string())
            .execute(&self.write)
            .await?;
        Ok(())
    }
}

/// Makes the account a member of the tenant with this role (or changes its role).
pub(crate) async fn upsert_membership(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    tenant: TenantId,
    account: AccountId,
    role: Role,
    now_millis: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO memberships (tenant_id, account_id, role, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (tenant_id, account_id) DO UPDATE SET role = excluded.role",
    )
    .bind(tenant.to_string())
    .bind(account.to_string())
    .bind(role.as_str())
    .bind(now_millis)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Deletes the membership and revokes the account's sessions in the tenant.
pub(crate) async fn end_membership(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    tenant: TenantId,
    account: AccountId,
    now_millis: i64,
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM memberships WHERE tenant_id = $1 AND account_id = $2")
        .bind(tenant.to_string())
        .bind(account.to_string())
        .execute(&mut **tx)
        .await?;
    sqlx::query(
        "UPDATE sessions SET revoked_at = $1 WHERE tenant_id = $2 AND account_id = $3 AND revoked_at IS NULL",
    )
    .bind(now_millis)
    .bind(tenant.to_string())
    .bind(account.to_string())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn member_tx(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    tenant: TenantId,
    account: AccountId,
) -> Result<Member, StoreError> {
    let r = sqlx::query(
        "SELECT a.id, a.email, m.role, m.created_at FROM memberships m \
         JOIN accounts a ON a.id = m.account_id WHERE m.tenant_id = $1 AND m.account_id = $2",
    )
    .bind(tenant.to_string())
    .bind(account.to_string())
    .fetch_optional(&mut **tx)
    .await?
    .ok_or(StoreError::NotFound)?;
    Ok(Member {
        account_id: parse_id(&r.try_get::<String, _>("id")?)?,
        email: r.try_get("email")?,
        role: role_of(&r.try_get::<String, _>("role")?)?,
        created_at: Timestamp(r.try_get("created_at")?),
    })
}

async fn ensure_another_owner(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    tenant: TenantId,
    account: AccountId,
) -> Result<(), StoreError> {
    let others: i64 = sqlx::query(
        "SELECT COUNT(*) AS n FROM memberships WHERE tenant_id = $1 AND role = 'owner' AND account_id <> $2",
    )
    .bind(tenant.to_string())
    .bind(account.to_string())
    .fetch_one(&mut **tx)
    .await?
    .try_get("n")?;
    if others == 0 {
        return Err(StoreError::Conflict("last_owner".into()));
    }
    Ok(())
}
