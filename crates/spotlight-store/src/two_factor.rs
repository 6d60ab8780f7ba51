//! Two-factor sign-in state of a dashboard account: a TOTP secret (sealed by
//! the server; this module never sees it in the clear), confirmed once the
//! account has shown a code made from it, the newest time step a code was
//! accepted for (a code is good once), and recovery codes kept as hashes.

use crate::audit::AuditEntry;
use crate::{Store, StoreError};
use spotlight_domain::{AccountId, KeyHash, TenantId};
use sqlx::Row;

#[derive(Debug, Clone)]
pub struct TwoFactor {
    pub secret_sealed: String,
    pub confirmed: bool,
}

impl Store {
    #[tracing::instrument(name = "store.two_factor", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn two_factor(&self, account: AccountId) -> Result<Option<TwoFactor>, StoreError> {
        let row = sqlx::query(
            "SELECT secret_sealed, confirmed_at FROM account_two_factor WHERE account_id = $1",
        )
        .bind(account.to_string())
        .fetch_optional(&self.write)
        .await?;
        row.map(|r| {
            Ok(TwoFactor {
                secret_sealed: r.try_get("secret_sealed")?,
                confirmed: r.try_get::<Option<i64>, _>("confirmed_at")?.is_some(),
            })
        })
        .transpose()
    }

    /// Keeps a new, unconfirmed secret (replacing an unconfirmed one). A
    /// confirmed secret is never replaced here: `Conflict("two_factor_on")`.
    #[tracing::instrument(name = "store.begin_two_factor", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn begin_two_factor(
        &self,
        account: AccountId,
        secret_sealed: &str,
    ) -> Result<(), StoreError> {
        let done = sqlx::query(
            "INSERT INTO account_two_factor (account_id, secret_sealed, confirmed_at, last_step, created_at) \
             VALUES ($1, $2, NULL, 0, $3) \
             ON CONFLICT (account_id) DO UPDATE SET secret_sealed = excluded.secret_sealed, \
             created_at = excluded.created_at, last_step = 0 \
             WHERE account_two_factor.confirmed_at IS NULL",
        )
        .bind(account.to_string())
        .bind(secret_sealed)
        .bind(self.clock.now().millis())
        .execute(&self.write)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict("two_factor_on".into()));
        }
        Ok(())
    }

    /// Turns the pending secret on, with the time step of the code that proved
    /// it and a fresh set of recovery codes, in one transaction. False when
    /// there was no pending secret (none, or already confirmed).
    #[tracing::instrument(name = "store.confirm_two_factor", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn confirm_two_factor(
        &self,
        account: AccountId,
        step: i64,
        codes: &[KeyHash],
        tenant: TenantId,
        audit: &AuditEntry,
    ) -> Result<bool, StoreError> {
        let now = self.clock.now();
        let mut tx = self.begin().await?;
        let done = sqlx::query(
            "UPDATE account_two_factor SET confirmed_at = $2, last_step = $3 \
             WHERE account_id = $1 AND confirmed_at IS NULL",
        )
        .bind(account.to_string())
        .bind(now.millis())
        .bind(step)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        replace_codes(&mut tx, account, codes).await?;
        self.commit_audited(tx, tenant, audit, now).await?;
        Ok(true)
    }

    /// Accepts a code's time step once: true only when `step` is newer than
    /// every step accepted before (so a code replayed within its window, or an
    /// older one, is refused), on every node at once.
    #[tracing::instrument(name = "store.use_totp_step", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn use_totp_step(&self, account: AccountId, step: i64) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE account_two_factor SET last_step = $2 \
             WHERE account_id = $1 AND confirmed_at IS NOT NULL AND last_step < $2",
        )
        .bind(account.to_string())
        .bind(step)
        .execute(&self.write)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Uses a recovery code: true once per code.
    #[tracing::instrument(name = "store.use_recovery_code", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn use_recovery_code(
        &self,
        account: AccountId,
        code: &KeyHash,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE account_recovery_codes SET used_at = $3 \
             WHERE account_id = $1 AND code_hash = $2 AND used_at IS NULL",
        )
        .bind(account.to_string())
        .bind(code.as_str())
        .bind(self.clock.now().millis())
        .execute(&self.write)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    #[tracing::instrument(name = "store.recovery_codes_left", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn recovery_codes_left(&self, account: AccountId) -> Result<i64, StoreError> {
        Ok(sqlx::query(
            "SELECT COUNT(*) AS n FROM account_recovery_codes WHERE account_id = $1 AND used_at IS NULL",
        )
        .bind(account.to_string())
        .fetch_one(&self.write)
        .await?
        .try_get("n")?)
    }

    /// A new set of recovery codes; the old ones stop working.
    #[tracing::instrument(name = "store.replace_recovery_codes", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn replace_recovery_codes(
        &self,
        account: AccountId,
        codes: &[KeyHash],
        tenant: TenantId,
        audit: &AuditEntry,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        replace_codes(&mut tx, account, codes).await?;
        self.commit_audited(tx, tenant, audit, self.clock.now())
            .await
    }

    /// Turns two-factor sign-in off: the secret and every recovery code go.
    #[tracing::instrument(name = "store.disable_two_factor", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn disable_two_factor(
        &self,
        account: AccountId,
        tenant: TenantId,
        audit: &AuditEntry,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        for table in ["account_two_factor", "account_recovery_codes"] {
            sqlx::query(&format!("DELETE FROM {table} WHERE account_id = $1"))
                .bind(account.to_string())
                .execute(&mut *tx)
                .await?;
        }
        self.commit_audited(tx, tenant, audit, self.clock.now())
            .await
    }
}

async fn replace_codes(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    account: AccountId,
    codes: &[KeyHash],
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM account_recovery_codes WHERE account_id = $1")
        .bind(account.to_string())
        .execute(&mut **tx)
        .await?;
    for code in codes {
        sqlx::query(
            "INSERT INTO account_recovery_codes (account_id, code_hash, used_at) VALUES ($1, $2, NULL)",
        )
        .bind(account.to_string())
        .bind(code.as_str())
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}
