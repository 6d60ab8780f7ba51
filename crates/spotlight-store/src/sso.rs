//! Single sign-on (OpenID Connect) per tenant: its settings (a JSON document
//! the server owns, and the client secret sealed by the server), the sign-in
//! attempts in flight (taken once: a replayed callback finds nothing), and the
//! identities — a provider's subject linked to an account. A membership that
//! SSO made is "managed": its role follows the provider's groups at every
//! sign-in, and it ends when they no longer grant one.

use crate::accounts::{end_membership, upsert_membership};
use crate::audit::{insert_audit, AuditEntry};
use crate::{parse_id, Store, StoreError};
use spotlight_domain::{AccountId, Email, KeyHash, Role, TenantId, Timestamp};
use sqlx::Row;

/// What `tenant_sso` holds for a tenant.
#[derive(Debug, Clone)]
pub struct StoredSso {
    pub settings: String,
    pub client_secret_sealed: String,
    pub updated_at: Timestamp,
}

/// A sign-in attempt: what the callback must find to finish it.
#[derive(Debug, Clone)]
pub struct SsoFlow {
    pub state_hash: KeyHash,
    pub tenant_id: TenantId,
    pub nonce: String,
    pub pkce_verifier_sealed: String,
    pub return_to: String,
    pub expires_at: Timestamp,
}

/// Who the provider says signed in, and the role its groups grant here.
pub struct SsoSignIn<'a> {
    pub tenant_id: TenantId,
    pub issuer: &'a str,
    pub subject: &'a str,
    pub email: &'a Email,
    /// The provider vouches for the address: only then may the identity be
    /// linked to an existing account with that address.
    pub email_verified: bool,
    /// The role the groups (or the default) grant; `None`: none.
    pub granted: Option<Role>,
    /// Whether the provider's groups decide the role (a groups mapping is
    /// set): then a managed membership follows them.
    pub groups_decide: bool,
    pub ip: String,
    pub user_agent: String,
}

/// How an SSO sign-in ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SsoOutcome {
    /// A member now, with this role.
    Member {
        account_id: AccountId,
        email: String,
        role: Role,
    },
    /// Not a member, and nothing grants a role.
    NoRole,
    /// Was a managed member; the groups no longer grant a role, so the
    /// membership (and its sessions) ended.
    Removed,
    /// An account with this address exists, not linked to this identity, and
    /// the provider does not vouch for the address.
    UnverifiedEmail,
}

/// The password hash of an account made by SSO: no password matches it.
pub const NO_PASSWORD: &str = "!sso";

impl Store {
    #[tracing::instrument(name = "store.sso_settings", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn sso_settings(&self, tenant: TenantId) -> Result<Option<StoredSso>, StoreError> {
        let row = sqlx::query(
            "SELECT settings, client_secret_sealed, updated_at FROM tenant_sso WHERE tenant_id = $1",
        )
        .bind(tenant.to_string())
        .fetch_optional(&self.write)
        .await?;
        row.map(|r| {
            Ok(StoredSso {
                settings: r.try_get("settings")?,
                client_secret_sealed: r.try_get("client_secret_sealed")?,
                updated_at: Timestamp(r.try_get("updated_at")?),
            })
        })
        .transpose()
    }

    /// Saves the tenant's SSO settings. With `required`, the tenant's
    /// password sessions end, but the break-glass account's.
    #[tracing::instrument(name = "store.put_sso_settings", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn put_sso_settings(
        &self,
        tenant: TenantId,
        settings: &str,
        client_secret_sealed: &str,
        required: Option<Option<AccountId>>,
        audit: &AuditEntry,
    ) -> Result<(), StoreError> {
        let now = self.clock.now();
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO tenant_sso (tenant_id, settings, client_secret_sealed, updated_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (tenant_id) DO UPDATE SET \
             settings = excluded.settings, client_secret_sealed = excluded.client_secret_sealed, \
             updated_at = excluded.updated_at",
        )
        .bind(tenant.to_string())
        .bind(settings)
        .bind(client_secret_sealed)
        .bind(now.millis())
        .execute(&mut *tx)
        .await?;
        if let Some(break_glass) = required {
            sqlx::query(
                "UPDATE sessions SET revoked_at = $1 WHERE tenant_id = $2 AND method = 'password' \
                 AND revoked_at IS NULL AND account_id <> $3",
            )
            .bind(now.millis())
            .bind(tenant.to_string())
            .bind(break_glass.map(|a| a.to_string()).unwrap_or_default())
            .execute(&mut *tx)
            .await?;
        }
        self.commit_audited(tx, tenant, audit, now).await
    }

    /// Removes the tenant's SSO settings (identities stay linked, for when it
    /// is set up again). False when there were none.
    #[tracing::instrument(name = "store.delete_sso_settings", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn delete_sso_settings(
        &self,
        tenant: TenantId,
        audit: &AuditEntry,
    ) -> Result<bool, StoreError> {
        let now = self.clock.now();
        let mut tx = self.begin().await?;
        let done = sqlx::query("DELETE FROM tenant_sso WHERE tenant_id = $1")
            .bind(tenant.to_string())
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        self.commit_audited(tx, tenant, audit, now).await?;
        Ok(true)
    }

    /// Records a sign-in attempt, and forgets the expired ones.
    #[tracing::instrument(name = "store.create_sso_flow", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn create_sso_flow(&self, flow: &SsoFlow) -> Result<(), StoreError> {
        let now = self.clock.now();
        let mut tx = self.begin().await?;
        sqlx::query("DELETE FROM sso_flows WHERE expires_at <= $1")
            .bind(now.millis())
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO sso_flows (state_hash, tenant_id, nonce, pkce_verifier_sealed, return_to, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(flow.state_hash.as_str())
        .bind(flow.tenant_id.to_string())
        .bind(&flow.nonce)
        .bind(&flow.pkce_verifier_sealed)
        .bind(&flow.return_to)
        .bind(flow.expires_at.millis())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Takes the live attempt with this state: it is gone afterwards, so a
    /// second callback with it finds nothing.
    #[tracing::instrument(name = "store.take_sso_flow", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn take_sso_flow(&self, state_hash: &KeyHash) -> Result<Option<SsoFlow>, StoreError> {
        let row = sqlx::query(
            "DELETE FROM sso_flows WHERE state_hash = $1 \
             RETURNING tenant_id, nonce, pkce_verifier_sealed, return_to, expires_at",
        )
        .bind(state_hash.as_str())
        .fetch_optional(&self.write)
        .await?;
        let Some(r) = row else { return Ok(None) };
        let flow = SsoFlow {
            state_hash: state_hash.clone(),
            tenant_id: parse_id(&r.try_get::<String, _>("tenant_id")?)?,
            nonce: r.try_get("nonce")?,
            pkce_verifier_sealed: r.try_get("pkce_verifier_sealed")?,
            return_to: r.try_get("return_to")?,
            expires_at: Timestamp(r.try_get("expires_at")?),
        };
        Ok((flow.expires_at > self.clock.now()).then_some(flow))
    }

    /// Signs an identity in: links it to its account (made if the address
    /// has none; an existing one only when the provider vouches for the
    /// address), and makes, updates or ends the membership as the groups say.
    /// Every change is in the audit log, in the same transaction.
    #[tracing::instrument(name = "store.sso_sign_in", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn sso_sign_in(&self, s: SsoSignIn<'_>) -> Result<SsoOutcome, StoreError> {
        let now = self.clock.now();
        let tenant = s.tenant_id.to_string();
        let mut tx = self.begin().await?;
        let linked = sqlx::query(
            "SELECT i.account_id, i.managed, a.email FROM sso_identities i \
             JOIN accounts a ON a.id = i.account_id \
             WHERE i.tenant_id = $1 AND i.issuer = $2 AND i.subject = $3",
        )
        .bind(&tenant)
        .bind(s.issuer)
        .bind(s.subject)
        .fetch_optional(&mut *tx)
        .await?;
        let (account_id, email, managed_before) = match linked {
            Some(r) => (
                parse_id::<AccountId>(&r.try_get::<String, _>("account_id")?)?,
                r.try_get::<String, _>("email")?,
                Some(r.try_get::<i64, _>("managed")? != 0),
            ),
            None => {
                let existing = sqlx::query("SELECT id FROM accounts WHERE email = $1")
                    .bind(s.email.as_str())
                    .fetch_optional(&mut *tx)
                    .await?;
                let id = match existing {
                    Some(r) if s.email_verified => parse_id(&r.try_get::<String, _>("id")?)?,
                    Some(_) => return Ok(SsoOutcome::UnverifiedEmail),
                    None => {
                        let id = AccountId::new_v7();
                        sqlx::query(
                            "INSERT INTO accounts (id, email, password_hash, created_at, updated_at) \
                             VALUES ($1, $2, $3, $4, $4)",
                        )
                        .bind(id.to_string())
                        .bind(s.email.as_str())
                        .bind(NO_PASSWORD)
                        .bind(now.millis())
                        .execute(&mut *tx)
                        .await?;
                        id
                    }
                };
                (id, s.email.as_str().to_owned(), None)
            }
        };
        let held: Option<Role> =
            sqlx::query("SELECT role FROM memberships WHERE tenant_id = $1 AND account_id = $2")
                .bind(&tenant)
                .bind(account_id.to_string())
                .fetch_optional(&mut *tx)
                .await?
                .map(|r| r.try_get::<String, _>("role"))
                .transpose()?
                .and_then(|r| Role::parse(&r));
        // A membership SSO did not make (an invited member) keeps its role.
        let managed = match (held, managed_before) {
            (None, _) => true,
            (Some(_), Some(m)) => m,
            (Some(_), None) => false,
        };
        let entry = |action: &str, before: Option<Role>, after: Option<Role>| AuditEntry {
            actor: format!("sso:{email}"),
            action: action.into(),
            object_kind: "member".into(),
            object_id: account_id.to_string(),
            before: before.map(|r| format!("{{\"role\":\"{}\"}}", r.as_str())),
            after: after.map(|r| format!("{{\"role\":\"{}\",\"via\":\"sso\"}}", r.as_str())),
            ip: s.ip.clone(),
            user_agent: s.user_agent.clone(),
        };
        let outcome_role = match (held, s.granted) {
            (None, None) => None,
            (None, Some(role)) => {
                upsert_membership(&mut tx, s.tenant_id, account_id, role, now.millis()).await?;
                insert_audit(
                    &mut tx,
                    s.tenant_id,
                    &entry("member.join", None, Some(role)),
                    now,
                )
                .await?;
                Some(role)
            }
            (Some(had), granted) if managed && s.groups_decide => match granted {
                Some(role) if role != had => {
                    upsert_membership(&mut tx, s.tenant_id, account_id, role, now.millis()).await?;
                    insert_audit(
                        &mut tx,
                        s.tenant_id,
                        &entry("member.role", Some(had), Some(role)),
                        now,
                    )
                    .await?;
                    Some(role)
                }
                Some(role) => Some(role),
                None => {
                    end_membership(&mut tx, s.tenant_id, account_id, now.millis()).await?;
                    insert_audit(
                        &mut tx,
                        s.tenant_id,
                        &entry("member.remove", Some(had), None),
                        now,
                    )
                    .await?;
                    None
                }
            },
            (Some(had), _) => Some(had),
        };
        sqlx::query(
            "INSERT INTO sso_identities (tenant_id, issuer, subject, account_id, managed, created_at, last_sign_in_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT (tenant_id, issuer, subject) \
             DO UPDATE SET last_sign_in_at = excluded.last_sign_in_at, managed = excluded.managed",
        )
        .bind(&tenant)
        .bind(s.issuer)
        .bind(s.subject)
        .bind(account_id.to_string())
        .bind(i64::from(managed))
        .bind(now.millis())
        .execute(&mut *tx)
        .await?;
        let outcome = match outcome_role {
            Some(role) => SsoOutcome::Member {
                account_id,
                email,
                role,
            },
            None if held.is_some() => SsoOutcome::Removed,
            None => SsoOutcome::NoRole,
        };
        tx.commit().await?;
        Ok(outcome)
    }
}
