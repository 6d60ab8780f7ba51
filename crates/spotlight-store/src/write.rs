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
use std::sync::Arc;
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
    pub(crate) fn text(self) -> Option<String> {
        match self {
            V::T(s) => Some(s),
            V::OT(s) => s,
            V::I(_) | V::OI(_) => None,
        }
    }
    pub(crate) fn int(&self) -> Option<i64> {
        match self {
            V::I(n) => Some(*n),
            V::OI(n) => *n,
            V::T(_) | V::OT(_) => None,
        }
    }
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
        let mut q = sqlx::query(sql);
        for v in args {
            q = bind(q, v);
        }
        Ok(q.execute(&mut *self).await?.rows_affected())
    }

    async fn rows(
        &mut self,
        sql: &str,
        args: Vec<V>,
        cols: &[Col],
    ) -> Result<Vec<Vec<V>>, StoreError> {
        let mut q = sqlx::query(sql);
        for v in args {
            q = bind(q, v);
        }
        let mut out = Vec::new();
        for r in q.fetch_all(&mut *self).await? {
            let mut row = Vec::with_capacity(cols.len());
            for (n, c) in cols.iter().enumerate() {
                row.push(match c {
                    Col::Text => V::OT(r.try_get(n)?),
                    Col::Int => V::I(r.try_get(n)?),
                });
            }
            out.push(row);
        }
        Ok(out)
    }
}

/// The SQLite writer connection (see the module docs).
pub(crate) type SqliteWriter = Arc<Mutex<rusqlite::Connection>>;

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
            let mut row = Vec::with_capacity(cols.len());
            for (n, c) in cols.iter().enumerate() {
                row.push(match c {
                    Col::Text => V::OT(r.get(n)?),
                    Col::Int => V::I(r.get(n)?),
                });
            }
            out.push(row);
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
        match &self.sqlite_writer {
            Some(conn) => {
                let slot = self.write.acquire().await?;
                let conn = conn.clone().lock_owned().await;
                conn.execute_batch("BEGIN IMMEDIATE")?;
                Ok(WriteTx::Sqlite(SqliteTx {
                    conn,
                    _slot: slot,
                    open: true,
                }))
            }
            None => Ok(WriteTx::Sqlx(self.write.begin().await?)),
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

/// Opens the SQLite writer connection to the file `write` is connected to (as
/// SQLite names it); `None` for an in-memory database, which only `write` sees.
pub(crate) async fn sqlite_writer(
    write: &sqlx::AnyPool,
    pragmas: &'static [&'static str],
) -> Result<Option<SqliteWriter>, StoreError> {
    let file: String =
        sqlx::query_scalar("SELECT file FROM pragma_database_list WHERE name = 'main'")
            .fetch_one(write)
            .await?;
    if file.is_empty() {
        return Ok(None);
    }
    let conn = tokio::task::spawn_blocking(move || {
        let conn = rusqlite::Connection::open_with_flags(
            &file,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        for p in pragmas {
            conn.execute_batch(p)?;
        }
        // A statement per table and chunk size.
        conn.set_prepared_statement_cache_capacity(128);
        Ok::<_, StoreError>(conn)
    })
    .await
    .map_err(|e| StoreError::Corrupt(format!("opening the SQLite writer: {e}")))??;
    Ok(Some(Arc::new(Mutex::new(conn))))
}
