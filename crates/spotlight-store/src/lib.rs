//! Spotlight's persistence. One [`Store`] serves both SQLite (embedded default) and
//! PostgreSQL through sqlx's `Any` driver: SQL is kept portable (`$N` placeholders,
//! UUID text ids, BIGINT millisecond timestamps, 0/1 flags), migrations are kept per
//! dialect, and the few dialect-specific statements branch on [`Backend`].
//! Every method on tenant data takes a `TenantId`: there is no unscoped query.

mod accounts;
mod analytics;
mod audit;
mod backup;
mod changes;
mod delivery;
mod end_accounts;
mod error;
mod events;
mod invitations;
mod keys;
mod monitor;
mod objects;
mod privacy;
mod publish_requests;
mod retention;
mod sso;
mod tenants;
mod tombstones;
mod two_factor;
mod usage;
mod users;
mod webhooks;
mod write;

pub use accounts::{Account, Member, Membership, NewSession, SessionRecord};
pub use analytics::{Cell, Slice};
pub use audit::{AuditEntry, AuditFilter, AuditRecord};
pub use backup::{BackupSummary, TableSummary};
pub use changes::{Change, Generations};
pub use delivery::BundleRow;
pub use end_accounts::{AccountMember, AccountState, AccountSummary, EndAccount};
pub use error::StoreError;
pub use events::{IngestBatch, Ingested, SinkTarget};
pub use invitations::{Invitation, NewInvitation};
pub use keys::{ApiKey, AuthKey, NewKey};
pub use monitor::MonitorTally;
pub use objects::{ObjectFilter, ObjectRecord, Publication, VersionRecord};
pub use privacy::{
    CarriedDelivery, Erased, ErasureScope, Exposure, UserEvent, UserRecords, ERASED_EVENT,
    TOMBSTONE_MS,
};
pub use publish_requests::{NewPublishRequest, PublishRequest};
pub use retention::Purge;
pub use sso::{SsoFlow, SsoOutcome, SsoSignIn, StoredSso, NO_PASSWORD};
pub use tenants::{Environment, NewEnvironment, NewTenant, Tenant};
pub use tombstones::user_digest;
pub use two_factor::TwoFactor;
pub use usage::{UsageCounts, UsageRow};
pub use users::{
    AudienceSubject, EndUser, ImportOutcome, ImportRow, ProfileWrite, Profiles, RecentEvent,
    UserState,
};
pub use webhooks::{
    AttemptRecord, Backlog, Claimed, OutboxRecord, Outcome, WebhookRecord, WebhookWrite,
};

use spotlight_domain::Clock;
use sqlx::any::AnyPoolOptions;
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, Executor};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn from_url(url: &str) -> Option<Backend> {
        if url.starts_with("sqlite:") {
            Some(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Some(Backend::Postgres)
        } else {
            None
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Connections for PostgreSQL, and readers for SQLite (SQLite has one writer).
    pub max_connections: u32,
    pub acquire_timeout: Duration,
    /// SQLite: how long the WAL may grow under sustained writes before the
    /// writer restarts it (a restart costs the writer two fsyncs, so the
    /// longer, the rarer that stall). An idle WAL is emptied whatever its size.
    pub sqlite_wal_restart_bytes: u64,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            max_connections: 16,
            acquire_timeout: Duration::from_secs(5),
            sqlite_wal_restart_bytes: 256 << 20,
        }
    }
}

/// Migration state, for `/readyz` and `spotlight migrate`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationStatus {
    pub known: usize,
    pub applied: usize,
    pub pending: Vec<i64>,
}

impl MigrationStatus {
    pub fn is_current(&self) -> bool {
        self.pending.is_empty()
    }
}

#[derive(Clone)]
pub struct Store {
    backend: Backend,
    /// Reads. For PostgreSQL the same pool as `write`.
    read: AnyPool,
    /// Writes. For SQLite a single connection, so write transactions never contend
    /// with each other for the lock (and never hit SQLITE_BUSY on upgrade).
    write: AnyPool,
    clock: Arc<dyn Clock>,
    /// Committed changes that cached readers must drop (see [`changes`]).
    changes: Arc<changes::Generations>,
    /// For PostgreSQL's LISTEN connection (holds credentials: never logged).
    url: Arc<str>,
    /// SQLite file: the connection the hot paths write with (see [`write`]).
    sqlite_writer: Option<write::SqliteWriter>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend)
            .finish()
    }
}

impl Store {
    /// Connects without migrating. The database URL is `sqlite://PATH` or `postgres://…`.
    #[tracing::instrument(name = "store.connect", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn connect(
        url: &str,
        options: &StoreOptions,
        clock: Arc<dyn Clock>,
    ) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let backend = Backend::from_url(url).ok_or(StoreError::UnsupportedUrl)?;
        match backend {
            Backend::Sqlite => {
                let url = sqlite_url(url);
                let read = sqlite_pool(options.max_connections.max(1), options, false)
                    .connect(&url)
                    .await?;
                let write = sqlite_pool(1, options, true).connect(&url).await?;
                let sqlite_writer =
                    write::sqlite_writer(&write, &[SQLITE_PRAGMAS, SQLITE_WRITER_PRAGMAS], options)
                        .await?;
                Ok(Store {
                    backend,
                    read,
                    write,
                    clock,
                    changes: Arc::default(),
                    url: url.as_str().into(),
                    sqlite_writer,
                })
            }
            Backend::Postgres => {
                let pool = AnyPoolOptions::new()
                    .max_connections(options.max_connections.max(2))
                    .acquire_timeout(options.acquire_timeout)
                    .connect(url)
                    .await?;
                Ok(Store {
                    backend,
                    read: pool.clone(),
                    write: pool,
                    clock,
                    changes: Arc::default(),
                    url: url.into(),
                    sqlite_writer: None,
                })
            }
        }
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    pub(crate) fn migrator(&self) -> &'static Migrator {
        match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        }
    }

    /// A write transaction. On SQLite it takes the write lock as it begins
    /// (`BEGIN IMMEDIATE`), waiting its turn behind the busy handler: a
    /// deferred transaction that read first and then wrote would fail at once
    /// with "database is locked" whenever another connection (another process,
    /// such as the CLI) committed in between. PostgreSQL's are plain.
    pub(crate) async fn begin(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>, StoreError> {
        Ok(match self.backend {
            Backend::Sqlite => self.write.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.write.begin().await?,
        })
    }

    #[tracing::instrument(name = "store.migrate", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn migrate(&self) -> Result<MigrationStatus, StoreError> {
        self.migrator().run(&self.write).await?;
        self.migration_status().await
    }

    #[tracing::instrument(name = "store.migration_status", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn migration_status(&self) -> Result<MigrationStatus, StoreError> {
        let applied: Vec<i64> = match sqlx::query_scalar::<_, i64>(
            "SELECT version FROM _sqlx_migrations WHERE success = TRUE ORDER BY version",
        )
        .fetch_all(&self.read)
        .await
        {
            Ok(v) => v,
            // No bookkeeping table yet: nothing is applied.
            Err(sqlx::Error::Database(e)) if is_missing_table(e.message()) => Vec::new(),
            Err(e) => return Err(e.into()),
        };
        let known: Vec<i64> = self.migrator().iter().map(|m| m.version).collect();
        let pending = known
            .iter()
            .copied()
            .filter(|v| !applied.contains(v))
            .collect();
        Ok(MigrationStatus {
            known: known.len(),
            applied: applied.len(),
            pending,
        })
    }

    /// A round trip to the database, for readiness.
    #[tracing::instrument(name = "store.ping", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.read.execute("SELECT 1").await?;
        Ok(())
    }

    #[tracing::instrument(name = "store.close", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn close(&self) {
        self.read.close().await;
        self.write.close().await;
    }
}

fn is_missing_table(message: &str) -> bool {
    message.contains("no such table") || message.contains("does not exist")
}

/// `sqlite://path` → a URL that creates the file when missing.
fn sqlite_url(url: &str) -> String {
    if url.contains("mode=") || url.contains(":memory:") {
        url.to_owned()
    } else if url.contains('?') {
        format!("{url}&mode=rwc")
    } else {
        format!("{url}?mode=rwc")
    }
}

fn sqlite_pool(max: u32, options: &StoreOptions, writer: bool) -> AnyPoolOptions {
    // The writer keeps a page cache that holds ingest's hot index pages, and no
    // larger: at every commit SQLite scans the whole cache once a B-tree balance
    // has renumbered a page (it parks pages at the lock-byte page number while
    // it does, which marks the cache as holding pages past the end of the
    // file), so 128 MiB of cache cost ~10 % of ingest's commits. Checkpoints
    // are left to [`Store::checkpoint_in_background`] (the writers' own limit,
    // ~400 MB of WAL, is only a backstop).
    // No memory-mapped I/O: a connection remaps whenever the file grows, and
    // each unmap interrupts the other cores to flush their TLBs; under event
    // ingest or profile writes that cost SDK config answers a quarter of their
    // throughput (see docs/benchmarks.md).
    let tuning: &'static str = if writer {
        SQLITE_WRITER_PRAGMAS
    } else {
        "PRAGMA cache_size = -16384;"
    };
    AnyPoolOptions::new()
        .max_connections(max)
        .min_connections(1)
        .acquire_timeout(options.acquire_timeout)
        // A connection to a local file has nothing to test.
        .test_before_acquire(false)
        .after_connect(move |conn, _meta| {
            Box::pin(async move {
                conn.execute(SQLITE_PRAGMAS).await?;
                conn.execute(tuning).await?;
                Ok(())
            })
        })
}

/// PRAGMAs of every SQLite connection. WAL: readers never block the writer;
/// NORMAL sync is durable across process crashes (the WAL is fsynced at
/// checkpoints; a commit is in the OS's hands at once).
pub(crate) const SQLITE_PRAGMAS: &str = "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
     PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;";

/// The writers' page cache and checkpoint PRAGMAs (see [`sqlite_pool`]).
const SQLITE_WRITER_PRAGMAS: &str = "PRAGMA cache_size = -32768; \
     PRAGMA wal_autocheckpoint = 100000; PRAGMA temp_store = MEMORY;";

/// The default SQLite URL for a data directory.
pub fn sqlite_url_for_dir(data_dir: &Path) -> String {
    format!("sqlite://{}", data_dir.join("spotlight.db").display())
}

/// Helpers shared by the modules: rows hold ids as text.
pub(crate) fn parse_id<T: std::str::FromStr>(s: &str) -> Result<T, StoreError> {
    s.parse()
        .map_err(|_| StoreError::Corrupt(format!("bad id in row: {s}")))
}

impl Store {
    /// Creates an empty database next to this one (PostgreSQL only), so each test
    /// gets its own. Not for production use.
    #[doc(hidden)]
    #[tracing::instrument(name = "store.create_database_for_tests", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn create_database_for_tests(&self, name: &str) -> Result<(), StoreError> {
        if !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Err(StoreError::Corrupt(format!("bad database name {name}")));
        }
        self.write
            .execute(format!("CREATE DATABASE {name}").as_str())
            .await?;
        Ok(())
    }
}

impl Store {
    /// Runs one statement (tests: simulate outages and the like). Not for production use.
    #[doc(hidden)]
    #[tracing::instrument(name = "store.execute_for_tests", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn execute_for_tests(&self, sql: &str) -> Result<(), StoreError> {
        self.write.execute(sql).await?;
        Ok(())
    }
}

impl Store {
    /// One integer from one query (tests: count rows). Not for production use.
    #[doc(hidden)]
    #[tracing::instrument(name = "store.scalar_for_tests", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn scalar_for_tests(&self, sql: &str) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar::<_, i64>(sql)
            .fetch_one(&self.read)
            .await?)
    }
}
