//! Store errors. Unique-constraint violations are mapped to the constraint's name
//! (the same on both backends) so the API layer can turn them into 409s.

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("conflict on {0}")]
    Conflict(String),
    #[error("the object changed since it was read")]
    Precondition,
    #[error("the object has no such version")]
    NoSuchVersion,
    #[error("unsupported database URL (expected sqlite:// or postgres://)")]
    UnsupportedUrl,
    #[error("backup: {0}")]
    Backup(String),
    #[error("corrupt data: {0}")]
    Corrupt(String),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database error: {0}")]
    Database(sqlx::Error),
    /// From the SQLite connection event ingest writes with.
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

/// SQLite reports `UNIQUE constraint failed: table.col[, table.col]`; name it as
/// PostgreSQL would.
const SQLITE_UNIQUE_NAMES: &[(&str, &str)] = &[
    ("accounts.email", "accounts_email_key"),
    ("api_keys.key_hash", "api_keys_hash_key"),
    (
        "environments.tenant_id, environments.name",
        "environments_tenant_name_key",
    ),
    ("sessions.token_hash", "sessions_token_hash_key"),
    (
        "memberships.tenant_id, memberships.account_id",
        "memberships_pkey",
    ),
];

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::RowNotFound => StoreError::NotFound,
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                if let Some(name) = db.constraint() {
                    return StoreError::Conflict(name.to_owned());
                }
                let msg = db.message();
                let cols = msg
                    .strip_prefix("UNIQUE constraint failed: ")
                    .unwrap_or(msg);
                let name = SQLITE_UNIQUE_NAMES
                    .iter()
                    .find(|(c, _)| *c == cols)
                    .map(|(_, n)| (*n).to_owned())
                    .unwrap_or_else(|| cols.to_owned());
                StoreError::Conflict(name)
            }
            _ => StoreError::Database(e),
        }
    }
}

impl StoreError {
    pub fn is_conflict_on(&self, constraint: &str) -> bool {
        matches!(self, StoreError::Conflict(c) if c == constraint)
    }

    /// The store cannot be reached (as opposed to a bad query or bad data).
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Database(
                sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed,
            ) => true,
            // SQLite still busy after its busy timeout (5 s): the store is
            // overloaded or held by another process — try again, not a bug.
            StoreError::Database(sqlx::Error::Database(db)) => {
                let code = db.code();
                let code = code.as_deref().unwrap_or("");
                // SQLITE_BUSY, SQLITE_LOCKED and their extended codes.
                code.parse::<i32>().is_ok_and(|c| matches!(c & 0xff, 5 | 6)) || code == "55P03"
                // PostgreSQL: lock_not_available
            }
            StoreError::Sqlite(rusqlite::Error::SqliteFailure(e, _)) => matches!(
                e.code,
                rusqlite::ErrorCode::DatabaseBusy
                    | rusqlite::ErrorCode::DatabaseLocked
                    | rusqlite::ErrorCode::SystemIoFailure
                    | rusqlite::ErrorCode::CannotOpen
            ),
            _ => false,
        }
    }
}
