//! Backups as portable JSON lines: a header (format, schema migrations, time),
//! then one `{"table", "row"}` line per row, tables in foreign-key order. The
//! same file restores into SQLite or PostgreSQL — so it is also how a demo store
//! moves to a production cluster. Sessions are not kept (people log in again).
//! Restore writes into an empty, migrated database in one transaction.

use crate::{Store, StoreError};
use futures_util::TryStreamExt;
use serde_json::{json, Map, Value};
use sqlx::Row;
use std::io::{BufRead, Write};

#[derive(Clone, Copy)]
enum Col {
    Text,
    Int,
}

use Col::{Int, Text};

/// Every table and column a backup carries, in restore order.
const TABLES: &[(&str, &[(&str, Col)])] = &[
    (
        "tenants",
        &[
            ("id", Text),
            ("name", Text),
            ("allowed_origins", Text),
            ("settings", Text),
            ("created_at", Int),
            ("updated_at", Int),
        ],
    ),
    (
        "environments",
        &[
            ("id", Text),
            ("tenant_id", Text),
            ("name", Text),
            ("created_at", Int),
        ],
    ),
    (
        "api_keys",
        &[
            ("id", Text),
            ("tenant_id", Text),
            ("environment_id", Text),
            ("kind", Text),
            ("key_hash", Text),
            ("prefix", Text),
            ("label", Text),
            ("created_at", Int),
            ("expires_at", Int),
            ("revoked_at", Int),
            ("replaced_by", Text),
        ],
    ),
    (
        "accounts",
        &[
            ("id", Text),
            ("email", Text),
            ("password_hash", Text),
            ("created_at", Int),
            ("updated_at", Int),
        ],
    ),
    (
        "memberships",
        &[
            ("tenant_id", Text),
            ("account_id", Text),
            ("role", Text),
            ("created_at", Int),
        ],
    ),
    (
        "invitations",
        &[
            ("id", Text),
            ("tenant_id", Text),
            ("email", Text),
            ("role", Text),
            ("token_hash", Text),
            ("invited_by", Text),
            ("created_at", Int),
            ("expires_at", Int),
            ("accepted_at", Int),
            ("revoked_at", Int),
        ],
    ),
    (
        "account_two_factor",
        &[
            ("account_id", Text),
            ("secret_sealed", Text),
            ("confirmed_at", Int),
            ("last_step", Int),
            ("created_at", Int),
        ],
    ),
    (
        "account_recovery_codes",
        &[("account_id", Text), ("code_hash", Text), ("used_at", Int)],
    ),
    (
        "tenant_sso",
        &[
            ("tenant_id", Text),
            ("settings", Text),
            ("client_secret_sealed", Text),
            ("updated_at", Int),
        ],
    ),
    (
        "sso_identities",
        &[
            ("tenant_id", Text),
            ("issuer", Text),
            ("subject", Text),
            ("account_id", Text),
            ("managed", Int),
            ("created_at", Int),
            ("last_sign_in_at", Int),
        ],
    ),
    (
        "objects",
        &[
            ("id", Text),
            ("tenant_id", Text),
            ("kind", Text),
            ("name", Text),
            ("draft", Text),
            ("revision", Int),
            ("latest_version", Int),
            ("kill_switch", Int),
            ("created_at", Int),
            ("updated_at", Int),
            ("archived_at", Int),
        ],
    ),
    (
        "object_versions",
        &[
            ("object_id", Text),
            ("tenant_id", Text),
            ("version", Int),
            ("document", Text),
            ("created_at", Int),
            ("created_by", Text),
        ],
    ),
    (
        "publications",
        &[
            ("environment_id", Text),
            ("object_id", Text),
            ("tenant_id", Text),
            ("kind", Text),
            ("version", Int),
            ("published_at", Int),
            ("published_by", Text),
        ],
    ),
    (
        "publish_requests",
        &[
            ("id", Text),
            ("tenant_id", Text),
            ("object_id", Text),
            ("kind", Text),
            ("environment_id", Text),
            ("revision", Int),
            ("document", Text),
            ("requested_by", Text),
            ("requested_by_account", Text),
            ("created_at", Int),
            ("status", Text),
            ("decided_by", Text),
            ("decided_at", Int),
            ("comment", Text),
            ("version", Int),
        ],
    ),
    (
        "audit_log",
        &[
            ("id", Text),
            ("tenant_id", Text),
            ("at", Int),
            ("actor", Text),
            ("action", Text),
            ("object_kind", Text),
            ("object_id", Text),
            ("before_doc", Text),
            ("after_doc", Text),
            ("ip", Text),
            ("user_agent", Text),
        ],
    ),
    (
        "end_users",
        &[
            ("environment_id", Text),
            ("user_id", Text),
            ("tenant_id", Text),
            ("attributes", Text),
            ("verified", Int),
            ("first_seen", Int),
            ("last_seen", Int),
        ],
    ),
    (
        "user_progress",
        &[
            ("environment_id", Text),
            ("user_id", Text),
            ("object_id", Text),
            ("tenant_id", Text),
            ("times_shown", Int),
            ("last_shown_at", Int),
            ("last_session", Text),
            ("step_reached", Int),
            ("items_completed", Text),
            ("started_at", Int),
            ("completed_at", Int),
            ("dismissed_at", Int),
            ("updated_at", Int),
        ],
    ),
    (
        "user_event_counts",
        &[
            ("environment_id", Text),
            ("user_id", Text),
            ("event", Text),
            ("tenant_id", Text),
            ("count", Int),
            ("last_at", Int),
        ],
    ),
    (
        "events",
        &[
            ("environment_id", Text),
            ("event_id", Text),
            ("tenant_id", Text),
            ("name", Text),
            ("user_id", Text),
            ("session_id", Text),
            ("object_id", Text),
            ("step", Int),
            ("occurred_at", Int),
            ("received_at", Int),
            ("schema_version", Int),
            ("properties", Text),
            ("account_id", Text),
        ],
    ),
    (
        "rollups",
        &[
            ("environment_id", Text),
            ("grain", Text),
            ("bucket", Int),
            ("object_id", Text),
            ("step", Int),
            ("event", Text),
            ("detail", Text),
            ("tenant_id", Text),
            ("count", Int),
        ],
    ),
    (
        "rollup_users",
        &[
            ("environment_id", Text),
            ("day", Int),
            ("object_id", Text),
            ("user_id", Text),
            ("tenant_id", Text),
        ],
    ),
    (
        "experiment_exposures",
        &[
            ("environment_id", Text),
            ("object_id", Text),
            ("user_id", Text),
            ("tenant_id", Text),
            ("arm", Text),
            ("exposed_at", Int),
            ("converted_at", Int),
        ],
    ),
    (
        "webhooks",
        &[
            ("id", Text),
            ("tenant_id", Text),
            ("environment_id", Text),
            ("url", Text),
            ("description", Text),
            ("events", Text),
            ("enabled", Int),
            ("secret", Text),
            ("previous_secret", Text),
            ("previous_until", Int),
            ("created_at", Int),
            ("updated_at", Int),
        ],
    ),
    (
        "outbox",
        &[
            ("id", Text),
            ("tenant_id", Text),
            ("environment_id", Text),
            ("sink", Text),
            ("event_count", Int),
            ("status", Text),
            ("attempts", Int),
            ("next_attempt_at", Int),
            ("lease_until", Int),
            ("last_error", Text),
            ("created_at", Int),
            ("finished_at", Int),
        ],
    ),
    ("outbox_payloads", &[("outbox_id", Text), ("payload", Text)]),
    (
        "identity_monitor",
        &[
            ("environment_id", Text),
            ("hour", Int),
            ("reason", Text),
            ("tenant_id", Text),
            ("count", Int),
        ],
    ),
    (
        "usage_daily",
        &[
            ("tenant_id", Text),
            ("environment_id", Text),
            ("day", Text),
            ("config_requests", Int),
            ("events_ingested", Int),
            ("deliveries", Int),
        ],
    ),
    (
        "usage_active_users",
        &[
            ("tenant_id", Text),
            ("environment_id", Text),
            ("month", Text),
            ("user_id", Text),
        ],
    ),
    (
        "account_profiles",
        &[
            ("environment_id", Text),
            ("account_id", Text),
            ("tenant_id", Text),
            ("attributes", Text),
            ("first_seen", Int),
            ("last_seen", Int),
        ],
    ),
    (
        "account_members",
        &[
            ("environment_id", Text),
            ("account_id", Text),
            ("user_id", Text),
            ("tenant_id", Text),
            ("joined_at", Int),
            ("last_seen", Int),
        ],
    ),
    (
        "account_event_counts",
        &[
            ("environment_id", Text),
            ("account_id", Text),
            ("event", Text),
            ("tenant_id", Text),
            ("count", Int),
            ("last_at", Int),
        ],
    ),
    (
        "account_progress",
        &[
            ("environment_id", Text),
            ("account_id", Text),
            ("object_id", Text),
            ("tenant_id", Text),
            ("times_shown", Int),
            ("last_shown_at", Int),
        ],
    ),
    (
        "account_rollups",
        &[
            ("environment_id", Text),
            ("account_id", Text),
            ("bucket", Int),
            ("object_id", Text),
            ("step", Int),
            ("event", Text),
            ("detail", Text),
            ("tenant_id", Text),
            ("count", Int),
        ],
    ),
    (
        "account_rollup_users",
        &[
            ("environment_id", Text),
            ("account_id", Text),
            ("day", Int),
            ("object_id", Text),
            ("user_id", Text),
            ("tenant_id", Text),
        ],
    ),
    (
        "erasures",
        &[
            ("environment_id", Text),
            ("user_digest", Text),
            ("tenant_id", Text),
            ("erased_at", Int),
            ("until", Int),
        ],
    ),
];

const FORMAT: &str = "spotlight-backup/1";

/// What a backup or a restore carried, table by table.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct BackupSummary {
    pub tables: Vec<TableSummary>,
}

/// A table's row count and a checksum of its content that does not depend on
/// row order or on the store: two databases with the same rows (SQLite or
/// PostgreSQL) give the same checksum, so a restore can be compared with its source.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct TableSummary {
    pub table: String,
    pub rows: u64,
    sum: u128,
}

impl TableSummary {
    fn new(table: &str) -> TableSummary {
        TableSummary {
            table: table.to_owned(),
            ..TableSummary::default()
        }
    }

    /// Adds one row, as its backup line's JSON (keys sorted, so canonical).
    fn add(&mut self, row: &Map<String, Value>) {
        use sha2::Digest;
        let digest = sha2::Sha256::digest(Value::Object(row.clone()).to_string().as_bytes());
        let mut first = [0u8; 16];
        first.copy_from_slice(&digest[..16]);
        self.sum = self.sum.wrapping_add(u128::from_be_bytes(first));
        self.rows += 1;
    }

    /// The sum of every row's SHA-256 (first 128 bits), hex.
    pub fn checksum(&self) -> String {
        format!("{:032x}", self.sum)
    }
}

impl BackupSummary {
    pub fn rows(&self) -> u64 {
        self.tables.iter().map(|t| t.rows).sum()
    }
}

fn bad(msg: impl Into<String>) -> StoreError {
    StoreError::Backup(msg.into())
}

impl Store {
    /// Writes every table to `out`. Reads one consistent snapshot (one transaction).
    #[tracing::instrument(name = "store.backup", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn backup(&self, out: &mut impl Write) -> Result<BackupSummary, StoreError> {
        let status = self.migration_status().await?;
        let migrations: Vec<i64> = self.migrator().iter().map(|m| m.version).collect();
        if !status.is_current() {
            return Err(bad("migrations are pending; run `spotlight migrate` first"));
        }
        let io = |e: std::io::Error| bad(format!("writing the backup: {e}"));
        let header = json!({
            "format": FORMAT,
            "migrations": migrations,
            "created_at": self.clock.now().to_rfc3339(),
            "source": self.backend.as_str(),
        });
        writeln!(out, "{header}").map_err(io)?;
        let mut summary = BackupSummary::default();
        // One snapshot for every table, read beside the writers (never holding
        // SQLite's write lock: ingest goes on while a backup runs).
        let mut tx = self.read.begin().await?;
        if self.backend == crate::Backend::Postgres {
            sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                .execute(&mut *tx)
                .await?;
        }
        for (table, cols) in TABLES {
            let names: Vec<&str> = cols.iter().map(|(n, _)| *n).collect();
            let sql = format!(
                "SELECT {} FROM {table} ORDER BY {}",
                names.join(", "),
                names[0]
            );
            let mut tally = TableSummary::new(table);
            // Streamed: a table never has to fit in memory.
            let mut rows = sqlx::query(&sql).fetch(&mut *tx);
            while let Some(r) = rows.try_next().await? {
                let mut row = Map::new();
                for (name, col) in cols.iter() {
                    let v = match col {
                        Text => r.try_get::<Option<String>, _>(*name)?.map(Value::from),
                        Int => r.try_get::<Option<i64>, _>(*name)?.map(Value::from),
                    };
                    row.insert((*name).to_owned(), v.unwrap_or(Value::Null));
                }
                tally.add(&row);
                writeln!(out, "{}", json!({ "table": table, "row": row })).map_err(io)?;
            }
            drop(rows);
            summary.tables.push(tally);
        }
        tx.commit().await?;
        out.flush().map_err(io)?;
        Ok(summary)
    }

    /// Restores a backup into this (migrated, empty) database, all or nothing.
    #[tracing::instrument(name = "store.restore", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn restore(&self, input: impl BufRead) -> Result<BackupSummary, StoreError> {
        let status = self.migration_status().await?;
        if !status.is_current() {
            return Err(bad(
                "migrate the target database first (`spotlight migrate`)",
            ));
        }
        let tenants: i64 = sqlx::query("SELECT COUNT(*) AS n FROM tenants")
            .fetch_one(&self.read)
            .await?
            .try_get("n")?;
        let accounts: i64 = sqlx::query("SELECT COUNT(*) AS n FROM accounts")
            .fetch_one(&self.read)
            .await?
            .try_get("n")?;
        if tenants > 0 || accounts > 0 {
            return Err(bad(
                "the target database is not empty; restore into a new one",
            ));
        }
        let mut lines = input.lines();
        let header: Value = match lines.next() {
            Some(Ok(l)) => serde_json::from_str(&l).map_err(|_| bad("not a Spotlight backup"))?,
            _ => return Err(bad("the backup is empty")),
        };
        if header["format"] != FORMAT {
            return Err(bad(format!("unknown backup format {}", header["format"])));
        }
        let ours: Vec<i64> = self.migrator().iter().map(|m| m.version).collect();
        let theirs: Vec<i64> = header["migrations"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_i64).collect())
            .unwrap_or_default();
        if theirs != ours {
            return Err(bad(format!(
                "the backup's schema ({theirs:?}) differs from this binary's ({ours:?}); use the same Spotlight version"
            )));
        }
        let mut summary = BackupSummary {
            tables: TABLES.iter().map(|(t, _)| TableSummary::new(t)).collect(),
        };
        let mut tx = self.begin().await?;
        for (n, line) in lines.enumerate() {
            let line = line.map_err(|e| bad(format!("reading the backup: {e}")))?;
            if line.trim().is_empty() {
                continue;
            }
            let at = n + 2;
            let v: Value =
                serde_json::from_str(&line).map_err(|e| bad(format!("line {at}: {e}")))?;
            let table = v["table"]
                .as_str()
                .ok_or_else(|| bad(format!("line {at}: no table")))?;
            let (index, (_, cols)) = TABLES
                .iter()
                .enumerate()
                .find(|(_, (t, _))| *t == table)
                .ok_or_else(|| bad(format!("line {at}: unknown table {table}")))?;
            let row = v["row"]
                .as_object()
                .ok_or_else(|| bad(format!("line {at}: no row")))?;
            let names: Vec<&str> = cols.iter().map(|(n, _)| *n).collect();
            let sql = format!(
                "INSERT INTO {table} ({}) VALUES ({})",
                names.join(", "),
                (1..=names.len())
                    .map(|i| format!("${i}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            let mut q = sqlx::query(&sql);
            for (name, col) in cols.iter() {
                let value = row.get(*name).unwrap_or(&Value::Null);
                q = match (col, value) {
                    (Text, Value::String(s)) => q.bind(Some(s.clone())),
                    (Text, Value::Null) => q.bind(None::<String>),
                    (Int, Value::Number(num)) => q.bind(num.as_i64()),
                    (Int, Value::Null) => q.bind(None::<i64>),
                    _ => return Err(bad(format!("line {at}: {table}.{name} has the wrong type"))),
                };
            }
            q.execute(&mut *tx).await?;
            if let Some(t) = summary.tables.get_mut(index) {
                t.add(row);
            }
        }
        tx.commit().await?;
        self.announce(crate::Change::All);
        Ok(summary)
    }
}
