//! Write transactions for the hot paths (event ingest, the relay's claims and
//! settlements), on either backend through one small executor, [`Exec`].
//!
//! On an SQLite file they run on a connection of their own (rusqlite, linked to
//! the same SQLite as sqlx), synchronously on the calling thread, while holding
//! sqlx's one write connection — so writes still go one at a time and never meet
//! SQLite's busy handler. Through sqlx each statement is a hand-off to sqlx's
//! SQLite worker thread and back; a commit of ingest's ~20 statements waited for
//! a core ~40 times, and held the write lock all the while.

use crate::{Store, StoreError};
use rusqlite::types::{ToSqlOutput, Value as SqlValue};
use sqlx::any::AnyArguments;
use sqlx::pool::PoolConnection;
use sqlx::query::Query;
use sqlx::{Any, Row};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Mutex, OwnedMutexGuard};

/// A value bound to a statement, or read back.
#[derive(Debug, Clone)]
pub(crate) enum V {
    T(String),
    OT(Option<String>),
    I(i64),
    OI(Option<i64>),
}

impl V {
    /// A count, clamped into SQL's integer.
    pub(crate) fn count(n: u64) -> V {
        V::I(i64::try_from(n).unwrap_or(i64::MAX))
    }
}

/// A row read back, its columns taken in order; a missing or mistyped column
/// is an error, as with sqlx's own decoding.
pub(crate) struct Cells(std::vec::IntoIter<V>);

impl Cells {
    pub(crate) fn of(row: Vec<V>) -> Cells {
        Cells(row.into_iter())
    }
    /// Text, or NULL.
    pub(crate) fn opt_text(&mut self) -> Result<Option<String>, StoreError> {
        match self.0.next() {
            Some(V::T(s)) => Ok(Some(s)),
            Some(V::OT(s)) => Ok(s),
            other => Err(StoreError::Corrupt(format!("expected text, got {other:?}"))),
        }
    }
    pub(crate) fn text(&mut self) -> Result<String, StoreError> {
        self.opt_text()?
            .ok_or_else(|| StoreError::Corrupt("unexpected NULL".into()))
    }
    pub(crate) fn int(&mut self) -> Result<i64, StoreError> {
        match self.0.next() {
            Some(V::I(n) | V::OI(Some(n))) => Ok(n),
            other => Err(StoreError::Corrupt(format!(
                "expected an integer, got {other:?}"
            ))),
        }
    }
}

/// A row as `cols`, each column read by `get`.
fn read_row<E>(
    cols: &[Col],
    mut get: impl FnMut(usize, Col) -> Result<V, E>,
) -> Result<Vec<V>, StoreError>
where
    StoreError: From<E>,
{
    cols.iter()
        .enumerate()
        .map(|(n, c)| Ok(get(n, *c)?))
        .collect()
}

/// `sql` with `args` bound, for sqlx.
fn query(sql: &str, args: Vec<V>) -> Query<'_, Any, AnyArguments<'_>> {
    args.into_iter().fold(sqlx::query(sql), bind)
}

fn bind<'q>(q: Query<'q, Any, AnyArguments<'q>>, v: V) -> Query<'q, Any, AnyArguments<'q>> {
    match v {
        V::T(s) => q.bind(s),
        V::OT(s) => q.bind(s),
        V::I(i) => q.bind(i),
        V::OI(i) => q.bind(i),
    }
}

impl rusqlite::ToSql for V {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            V::T(s) | V::OT(Some(s)) => ToSqlOutput::from(s.as_str()),
            V::I(n) | V::OI(Some(n)) => ToSqlOutput::from(*n),
            V::OT(None) | V::OI(None) => ToSqlOutput::Owned(SqlValue::Null),
        })
    }
}

/// The type of a column read back.
#[derive(Clone, Copy)]
pub(crate) enum Col {
    /// Text or NULL, as [`V::OT`].
    Text,
    /// An integer, as [`V::I`].
    Int,
}

/// Runs statements. SQL uses `$N` placeholders, or `?` for values bound in order.
pub(crate) trait Exec: Send {
    /// Runs a statement; the number of rows it wrote.
    async fn run(&mut self, sql: &str, args: Vec<V>) -> Result<u64, StoreError>;
    /// Runs a query; its rows, one value per column of `cols`.
    async fn rows(
        &mut self,
        sql: &str,
        args: Vec<V>,
        cols: &[Col],
    ) -> Result<Vec<Vec<V>>, StoreError>;
}

impl Exec for sqlx::AnyConnection {
    async fn run(&mut self, sql: &str, args: Vec<V>) -> Result<u64, StoreError> {
        Ok(query(sql, args).execute(&mut *self).await?.rows_affected())
    }

    async fn rows(
        &mut self,
        sql: &str,
        args: Vec<V>,
        cols: &[Col],
    ) -> Result<Vec<Vec<V>>, StoreError> {
        let rows = query(sql, args).fetch_all(&mut *self).await?;
        rows.iter()
            .map(|r| {
                read_row(cols, |n, c| -> Result<V, sqlx::Error> {
                    Ok(match c {
                        Col::Text => V::OT(r.try_get(n)?),
                        Col::Int => V::I(r.try_get(n)?),
                    })
                })
            })
            .collect()
    }
}

/// The SQLite writer connection (see the module docs), and what it needs to
/// keep the WAL short.
#[derive(Clone)]
pub(crate) struct SqliteWriter {
    conn: Arc<Mutex<rusqlite::Connection>>,
    /// The database file, as SQLite names it.
    file: Arc<str>,
    /// Set by the checkpointer ([`Store::checkpoint_in_background`]).
    restart_due: Arc<AtomicBool>,
    /// The WAL's length at the writer's last hand-over: while it is still that
    /// long, the restart waits for the writer's next commit, and a checkpointer
    /// pass that sees it must not ask for another hand-over.
    handed_over_at: Arc<AtomicI64>,
    /// A WAL this long (in 4 KiB frames) is restarted once the checkpointer
    /// has caught up with it ([`crate::StoreOptions::sqlite_wal_restart_bytes`]).
    restart_frames: i64,
}

/// A write transaction on the SQLite writer connection; rolled back when
/// dropped uncommitted. Its statements run at once, on the calling thread.
pub(crate) struct SqliteTx {
    conn: OwnedMutexGuard<rusqlite::Connection>,
    /// sqlx's write connection, held so that no other write runs meanwhile.
    _slot: PoolConnection<Any>,
    open: bool,
}

impl SqliteTx {
    fn prepare(&self, sql: &str) -> rusqlite::Result<rusqlite::CachedStatement<'_>> {
        // `$N` → `?N`: SQLite numbers `$N` by first appearance, `?N` by `N`.
        if sql.contains('$') {
            self.conn.prepare_cached(&sql.replace('$', "?"))
        } else {
            self.conn.prepare_cached(sql)
        }
    }
}

impl Drop for SqliteTx {
    fn drop(&mut self) {
        if self.open {
            if let Err(e) = self.conn.execute_batch("ROLLBACK") {
                tracing::warn!(error = %e, "rollback failed");
            }
        }
    }
}

impl Exec for SqliteTx {
    async fn run(&mut self, sql: &str, args: Vec<V>) -> Result<u64, StoreError> {
        let mut stmt = self.prepare(sql)?;
        Ok(stmt.execute(rusqlite::params_from_iter(&args))? as u64)
    }

    async fn rows(
        &mut self,
        sql: &str,
        args: Vec<V>,
        cols: &[Col],
    ) -> Result<Vec<Vec<V>>, StoreError> {
        let mut stmt = self.prepare(sql)?;
        let mut rows = stmt.query(rusqlite::params_from_iter(&args))?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            out.push(read_row(cols, |n, c| -> rusqlite::Result<V> {
                Ok(match c {
                    Col::Text => V::OT(r.get(n)?),
                    Col::Int => V::I(r.get(n)?),
                })
            })?);
        }
        Ok(out)
    }
}

/// A write transaction of [`Store::begin_write`].
pub(crate) enum WriteTx {
    Sqlite(SqliteTx),
    Sqlx(sqlx::Transaction<'static, Any>),
}

impl WriteTx {
    pub(crate) async fn commit(self) -> Result<(), StoreError> {
        match self {
            WriteTx::Sqlite(mut tx) => {
                tx.conn.execute_batch("COMMIT")?;
                tx.open = false;
            }
            WriteTx::Sqlx(tx) => tx.commit().await?,
        }
        Ok(())
    }

    pub(crate) async fn rollback(self) -> Result<(), StoreError> {
        match self {
            // Dropping it rolls back.
            WriteTx::Sqlite(tx) => drop(tx),
            WriteTx::Sqlx(tx) => tx.rollback().await?,
        }
        Ok(())
    }
}

impl Exec for WriteTx {
    async fn run(&mut self, sql: &str, args: Vec<V>) -> Result<u64, StoreError> {
        match self {
            WriteTx::Sqlite(tx) => tx.run(sql, args).await,
            WriteTx::Sqlx(tx) => (**tx).run(sql, args).await,
        }
    }

    async fn rows(
        &mut self,
        sql: &str,
        args: Vec<V>,
        cols: &[Col],
    ) -> Result<Vec<Vec<V>>, StoreError> {
        match self {
            WriteTx::Sqlite(tx) => tx.rows(sql, args, cols).await,
            WriteTx::Sqlx(tx) => (**tx).rows(sql, args, cols).await,
        }
    }
}

impl Store {
    /// Begins a write transaction for a hot path: on an SQLite file its
    /// statements then run synchronously on the calling thread, which they block
    /// for the transaction's length (see the module docs).
    pub(crate) async fn begin_write(&self) -> Result<WriteTx, StoreError> {
        self.begin_write_as(false).await
    }

    /// [`Store::begin_write`] for the event ingest writer, which (on its own
    /// thread) also takes the WAL hand-over: when the checkpointer has copied
    /// a long WAL back up to where its pass began, copying the rest (the
    /// commits since) lets this transaction start the WAL afresh. Done before
    /// the transaction, not after the last one's commit, so the requests that
    /// commit answered do not wait for its two fsyncs.
    pub(crate) async fn begin_ingest_write(&self) -> Result<WriteTx, StoreError> {
        self.begin_write_as(true).await
    }

    async fn begin_write_as(&self, hand_over: bool) -> Result<WriteTx, StoreError> {
        match &self.sqlite_writer {
            Some(w) => {
                let slot = self.write.acquire().await?;
                let conn = w.conn.clone().lock_owned().await;
                if hand_over && w.restart_due.swap(false, Ordering::Relaxed) {
                    match checkpoint(&conn) {
                        Ok((frames, _)) => w.handed_over_at.store(frames, Ordering::Relaxed),
                        Err(e) => tracing::debug!(error = %e, "checkpoint skipped"),
                    }
                }
                conn.execute_batch("BEGIN IMMEDIATE")?;
                Ok(WriteTx::Sqlite(SqliteTx {
                    conn,
                    _slot: slot,
                    open: true,
                }))
            }
            None => Ok(WriteTx::Sqlx(self.begin().await?)),
        }
    }
}

impl Store {
    /// One statement of a hot path, in a transaction of its own; its rows as
    /// `cols` (none for a statement that returns nothing).
    pub(crate) async fn write_rows(
        &self,
        sql: &str,
        args: Vec<V>,
        cols: &[Col],
    ) -> Result<Vec<Vec<V>>, StoreError> {
        if self.sqlite_writer.is_none() {
            let mut conn = self.write.acquire().await?;
            return (*conn).rows(sql, args, cols).await;
        }
        let mut tx = self.begin_write().await?;
        let rows = tx.rows(sql, args, cols).await?;
        tx.commit().await?;
        Ok(rows)
    }
}

/// How often the checkpointer copies the WAL back into the database while it
/// grows: small, frequent passes keep each pass's fsyncs short, so the disk
/// never queues up long behind them (bench/events.sh: every 100 ms, ingest's
/// p99 was 56–64 ms; every 10 ms, 45–53 ms).
const CHECKPOINT_EVERY: Duration = Duration::from_millis(10);
/// How often while nothing is written.
const CHECKPOINT_IDLE: Duration = Duration::from_millis(250);
/// Passes in a row without new frames that make the WAL idle.
const QUIET_PASSES: u32 = 20;
/// How many of its ticks the checkpointer waits at most for the writer to
/// take its turn.
const HANDOVER_TICKS: u32 = 10;

/// A passive checkpoint: copies what it can of the WAL into the database
/// without waiting for anyone; returns the WAL's frames and those copied.
fn checkpoint(conn: &rusqlite::Connection) -> rusqlite::Result<(i64, i64)> {
    conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
        Ok((r.get(1)?, r.get(2)?))
    })
}

/// Empties an idle WAL that is all copied: truncates the file to nothing when
/// no one writes or reads in it at this moment. Never waits for anyone (no busy
/// timeout: a writer would otherwise queue behind it while it waited for a
/// reader); when someone is there, it is a passive pass and the next idle
/// moment tries again. Returns whether the WAL was emptied, and (when it was
/// not) its frames and those copied, as [`checkpoint`] does.
fn truncate_idle(conn: &rusqlite::Connection) -> rusqlite::Result<(bool, i64, i64)> {
    conn.busy_timeout(Duration::ZERO)?;
    let r = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
        Ok((r.get::<_, i64>(0)? == 0, r.get(1)?, r.get(2)?))
    });
    conn.busy_timeout(Duration::from_secs(5))?;
    r
}

fn open(file: &str, pragmas: &[&str]) -> Result<rusqlite::Connection, StoreError> {
    let conn = rusqlite::Connection::open_with_flags(
        file,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    for p in pragmas {
        conn.execute_batch(p)?;
    }
    Ok(conn)
}

impl Store {
    /// SQLite: keeps the WAL short without stopping the writer for long. Its own
    /// connection copies the WAL back into the database every 10 ms while it
    /// grows and every 250 ms while idle (fsyncs included, off the writer's
    /// path). Once a long WAL (256 MiB by default) is all copied as far as a
    /// pass saw it, it pauses, and the ingest writer copies the last commit or
    /// two itself before its next transaction (two fsyncs: a stall of 15–45 ms
    /// measured here), which then restarts the WAL from the beginning — a WAL restarts
    /// only when it is all copied as a write begins and no reader is in it.
    /// The longer the WAL may grow, the rarer that stall (bench/events.sh,
    /// SQLite p99: 32 MiB 87–91 ms, 256 MiB 56–64 ms). Once writes stop, the WAL
    /// is emptied without the writer. Left to the writer alone, checkpoints
    /// came every ~400 MB and stalled ingest for hundreds of milliseconds.
    /// `None` for PostgreSQL (and in-memory SQLite).
    pub fn checkpoint_in_background(&self) -> Option<tokio::task::JoinHandle<()>> {
        let w = self.sqlite_writer.clone()?;
        Some(tokio::spawn(async move {
            let file = w.file.clone();
            let mut conn = match tokio::task::spawn_blocking(move || {
                open(&file, &[crate::SQLITE_PRAGMAS])
            })
            .await
            {
                Ok(Ok(conn)) => conn,
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "no checkpointer: the WAL is checkpointed by its writers only");
                    return;
                }
                Err(_) => return,
            };
            // Ticks left to wait while the writer takes its turn.
            let mut waiting = 0;
            // Passes in a row that found the WAL as the last one left it.
            let (mut quiet, mut last_frames, mut all_copied) = (0, -1, false);
            // Under load a pass follows the last at once when that took longer.
            let mut tick = tokio::time::interval(CHECKPOINT_EVERY);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if quiet >= QUIET_PASSES {
                    tokio::time::sleep(CHECKPOINT_IDLE).await;
                    tick.reset();
                }
                if waiting > 0 {
                    // The writer's fsyncs are quick only when none of ours is in
                    // flight; then its next write restarts the WAL, which no
                    // pass of ours must hold up. An idle writer never comes.
                    if !w.restart_due.load(Ordering::Relaxed) || waiting == 1 {
                        w.restart_due.store(false, Ordering::Relaxed);
                        waiting = 0;
                        tick.tick().await;
                    } else {
                        waiting -= 1;
                        continue;
                    }
                }
                // An idle WAL, all copied, is emptied: a restart can wait for
                // no writer then, and the file gives its space back. When
                // someone was in it, that pass was a passive one.
                let empty = quiet >= QUIET_PASSES && last_frames > 0 && all_copied;
                let pass = tokio::task::spawn_blocking(move || {
                    let r = if empty {
                        truncate_idle(&conn)
                    } else {
                        checkpoint(&conn).map(|(frames, copied)| (false, frames, copied))
                    };
                    (conn, r)
                })
                .await;
                let Ok((back, result)) = pass else { return };
                conn = back;
                match result {
                    Ok((true, _, _)) => (quiet, last_frames) = (0, 0),
                    Ok((false, frames, copied)) => {
                        quiet = if frames == last_frames {
                            quiet.saturating_add(1)
                        } else {
                            0
                        };
                        last_frames = frames;
                        all_copied = copied == frames;
                        if frames >= w.restart_frames
                            && all_copied
                            && frames != w.handed_over_at.load(Ordering::Relaxed)
                        {
                            w.restart_due.store(true, Ordering::Relaxed);
                            waiting = HANDOVER_TICKS;
                        }
                    }
                    Err(e) => tracing::debug!(error = %e, "checkpoint skipped"),
                }
            }
        }))
    }
}

/// Opens the SQLite writer connection to the file `write` is connected to (as
/// SQLite names it); `None` for an in-memory database, which only `write` sees.
pub(crate) async fn sqlite_writer(
    write: &sqlx::AnyPool,
    pragmas: &'static [&'static str],
    options: &crate::StoreOptions,
) -> Result<Option<SqliteWriter>, StoreError> {
    let file: String =
        sqlx::query_scalar("SELECT file FROM pragma_database_list WHERE name = 'main'")
            .fetch_one(write)
            .await?;
    if file.is_empty() {
        return Ok(None);
    }
    let file: Arc<str> = file.into();
    let path = file.clone();
    let conn = tokio::task::spawn_blocking(move || {
        let conn = open(&path, pragmas)?;
        // A statement per table and chunk size.
        conn.set_prepared_statement_cache_capacity(128);
        Ok::<_, StoreError>(conn)
    })
    .await
    .map_err(|e| StoreError::Corrupt(format!("opening the SQLite writer: {e}")))??;
    Ok(Some(SqliteWriter {
        conn: Arc::new(Mutex::new(conn)),
        file,
        restart_due: Arc::default(),
        handed_over_at: Arc::new(AtomicI64::new(-1)),
        restart_frames: i64::try_from(options.sqlite_wal_restart_bytes >> 12)
            .unwrap_or(i64::MAX)
            .max(1),
    }))
}

/// Largest chunk of rows in one statement (SQLite allows 32766 parameters).
const MAX_CHUNK: usize = 256;

/// Splits `n` rows into power-of-two chunks, largest first.
pub(crate) fn chunks(mut n: usize) -> Vec<usize> {
    let mut out = Vec::new();
    while n > 0 {
        let mut c = MAX_CHUNK;
        while c > n {
            c /= 2;
        }
        out.push(c);
        n -= c;
    }
    out
}

/// `($1, $2, $3), ($4, $5, $6), …` — or, for SQLite, `(?, ?, ?), …`: SQLite
/// looks a named parameter up by a linear scan, so binding thousands of `$N`
/// costs quadratic time, while anonymous ones bind in order.
pub(crate) fn values(rows: usize, cols: usize, backend: crate::Backend) -> String {
    let mut s = String::with_capacity(rows * cols * 5);
    for r in 0..rows {
        if r > 0 {
            s.push_str(", ");
        }
        s.push('(');
        for c in 0..cols {
            if c > 0 {
                s.push_str(", ");
            }
            match backend {
                crate::Backend::Sqlite => s.push('?'),
                crate::Backend::Postgres => {
                    s.push('$');
                    s.push_str(&(r * cols + c + 1).to_string());
                }
            }
        }
        s.push(')');
    }
    s
}
