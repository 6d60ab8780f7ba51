//! `POST /v1/admin/users/import` and `/accounts/import`: attributes for many
//! users (or accounts) at once, from the tenant's backend, as NDJSON
//! (`{"user_id": …, "attributes": {…}}` per line; `account_id` for accounts)
//! or CSV (a `user_id` or `account_id` column, one column per attribute), up
//! to 1,000,000 rows.
//!
//! The body is read as it arrives, never whole: a parser on a blocking thread
//! turns it into rows (with their line numbers) and hands them over a chunk
//! at a time; each chunk is written in a transaction of its own, so the valid
//! rows are kept whatever comes after them, and an upload's progress is the
//! server's progress (a slow store slows the upload, not memory). A bad row is
//! reported with its line and skipped; the report lists the first 1,000.

use crate::auth::{AdminActor, AdminRole, RequestMeta};
use crate::error::{ApiError, ApiResult, AppJson, AppQuery, ErrorCode};
use crate::state::AppState;
use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use spotlight_domain::end_user::{check_account_id, check_attributes, check_user_id};
use spotlight_store::{ImportRow, Profiles};
use std::collections::HashSet;
use std::hash::BuildHasher;
use std::io::{BufRead, Read};
use tokio::sync::mpsc;

pub const PATH: &str = "/v1/admin/users/import";
pub const ACCOUNTS_PATH: &str = "/v1/admin/accounts/import";

/// What an import is of: its id column, how ids are checked, what the audit names.
#[derive(Clone, Copy)]
struct Of {
    target: Profiles,
    id: &'static str,
    check: fn(&str) -> Result<(), &'static str>,
    action: &'static str,
    object: &'static str,
}

const USERS: Of = Of {
    target: Profiles::Users,
    id: "user_id",
    check: check_user_id,
    action: "user.import",
    object: "end_user",
};

const ACCOUNTS: Of = Of {
    target: Profiles::Accounts,
    id: "account_id",
    check: check_account_id,
    action: "account.import",
    object: "account",
};

/// Rows one import may hold.
pub const MAX_ROWS: u64 = 1_000_000;
/// Bytes one import may hold.
pub const MAX_BYTES: u64 = 512 * 1024 * 1024;
/// A line (NDJSON) or a line of a record (CSV) longer than this stops the import.
const MAX_LINE: usize = 64 * 1024;
/// Rows handed to the store at once (one transaction).
const CHUNK: usize = 1000;
/// Row errors listed in the report (all are counted).
const MAX_LISTED: usize = 1000;

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// Environment name (default production).
    environment: Option<String>,
    /// `ndjson` or `csv`; by default from the Content-Type (`text/csv` is CSV).
    format: Option<ImportFormat>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ImportFormat {
    Ndjson,
    Csv,
}

/// One refused row.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RowError {
    /// Where the row starts in the file (1 is the first line).
    line: u64,
    /// `invalid_json`, `invalid_row`, `invalid_user_id` (`invalid_account_id`),
    /// `invalid_attributes`, `duplicate_id`.
    code: &'static str,
    message: String,
}

/// Why an import stopped before the end of its file (the rows before stay).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Stopped {
    line: u64,
    /// `too_many_rows`, `line_too_long`, `too_large`, `unreadable`.
    code: &'static str,
    message: String,
}

/// What an import did.
#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
pub struct ImportReport {
    environment: String,
    /// Rows read (the header of a CSV file is no row).
    rows: u64,
    /// Rows written: profiles created and updated.
    imported: u64,
    created: u64,
    updated: u64,
    /// Rows refused; the first 1,000 are listed.
    failed: u64,
    errors: Vec<RowError>,
    /// Set when reading stopped before the end of the file.
    stopped: Option<Stopped>,
    duration_ms: u64,
}

/// What the parser hands over.
enum Msg {
    /// The file cannot be imported at all (a CSV header without the id column).
    Refused(String),
    Rows(Vec<ImportRow>, Vec<RowError>),
    Stopped(Stopped),
}

pub async fn import_users(
    State(state): State<AppState>,
    actor: AdminActor<AdminRole>,
    meta: RequestMeta,
    AppQuery(q): AppQuery<ImportQuery>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<AppJson<ImportReport>> {
    import(&state, (&actor, &meta), q, &headers, body, USERS).await
}

pub async fn import_accounts(
    State(state): State<AppState>,
    actor: AdminActor<AdminRole>,
    meta: RequestMeta,
    AppQuery(q): AppQuery<ImportQuery>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<AppJson<ImportReport>> {
    import(&state, (&actor, &meta), q, &headers, body, ACCOUNTS).await
}

async fn import(
    state: &AppState,
    (actor, meta): (&AdminActor<AdminRole>, &RequestMeta),
    q: ImportQuery,
    headers: &HeaderMap,
    body: Body,
    of: Of,
) -> ApiResult<AppJson<ImportReport>> {
    let started = std::time::Instant::now();
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|s| s.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BYTES) {
        return Err(ApiError::new(
            ErrorCode::PayloadTooLarge,
            format!("an import holds at most {MAX_BYTES} bytes; split the file"),
        ));
    }
    let env_name = q.environment.unwrap_or_else(|| "production".to_owned());
    let env =
        crate::routes::environment_named(state, actor.tenant_id, &env_name, "environment").await?;
    let is_csv = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("text/csv"));
    let format = q.format.unwrap_or(if is_csv {
        ImportFormat::Csv
    } else {
        ImportFormat::Ndjson
    });

    // The body as a blocking reader, cut off past the byte limit.
    let mut seen = 0u64;
    let stream = body.into_data_stream().map(move |chunk| {
        let chunk = chunk.map_err(std::io::Error::other)?;
        seen += chunk.len() as u64;
        if seen > MAX_BYTES {
            return Err(std::io::Error::other(TooLarge));
        }
        Ok::<_, std::io::Error>(chunk)
    });
    let reader = tokio_util::io::SyncIoBridge::new(tokio_util::io::StreamReader::new(stream));
    let (tx, mut rx) = mpsc::channel::<Msg>(2);
    let parser = tokio::task::spawn_blocking(move || parse(reader, (format, of), MAX_ROWS, &tx));

    let mut report = ImportReport {
        environment: env_name,
        ..ImportReport::default()
    };
    let check = |after: &Map<String, Value>| check_attributes(after).map_err(str::to_owned);
    let mut wrote = false;
    while let Some(msg) = rx.recv().await {
        match msg {
            Msg::Refused(message) => {
                return Err(ApiError::field("body", &message));
            }
            Msg::Rows(rows, errors) => {
                report.rows += (rows.len() + errors.len()) as u64;
                for e in errors {
                    report.note(e);
                }
                if rows.is_empty() {
                    continue;
                }
                let done = state
                    .store
                    .import_profiles(of.target, (actor.tenant_id, env.id), &rows, check)
                    .await?;
                wrote = true;
                report.created += done.created;
                report.updated += done.updated;
                for (line, message) in done.refused {
                    report.note(RowError {
                        line,
                        code: "invalid_attributes",
                        message,
                    });
                }
            }
            Msg::Stopped(s) => report.stopped = Some(s),
        }
    }
    // The parser ends when its channel does; a panic there is ours, not the client's.
    parser.await.map_err(ApiError::internal)?;
    report.imported = report.created + report.updated;
    report.errors.sort_by_key(|e| e.line);
    report.duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    if wrote {
        // Every node forgets the tenant's cached users once, not per chunk.
        state.store.announce_change(actor.tenant_id).await?;
    }
    let mut entry = crate::routes::audit_entry(
        actor,
        meta,
        of.action,
        of.object,
        format!("import:{}", report.environment),
    );
    entry.after = Some(
        serde_json::json!({
            "rows": report.rows, "created": report.created, "updated": report.updated,
            "failed": report.failed, "stopped": report.stopped.as_ref().map(|s| s.code),
        })
        .to_string(),
    );
    state.store.record_audit(actor.tenant_id, &entry).await?;
    Ok(AppJson(report))
}

impl ImportReport {
    fn note(&mut self, e: RowError) {
        self.failed += 1;
        if self.errors.len() < MAX_LISTED {
            self.errors.push(e);
        }
    }
}

/// The body grew past [`MAX_BYTES`].
#[derive(Debug)]
struct TooLarge;

impl std::fmt::Display for TooLarge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "an import holds at most {MAX_BYTES} bytes")
    }
}

impl std::error::Error for TooLarge {}

/// Why reading stopped, from an I/O error of the body.
fn stopped_by(line: u64, e: &std::io::Error) -> Stopped {
    let too_large = e
        .get_ref()
        .is_some_and(|inner| inner.downcast_ref::<TooLarge>().is_some());
    let too_long = e
        .get_ref()
        .is_some_and(|inner| inner.downcast_ref::<LineTooLong>().is_some());
    let (code, message) = if too_large {
        ("too_large", TooLarge.to_string())
    } else if too_long {
        ("line_too_long", LineTooLong.to_string())
    } else {
        ("unreadable", format!("the body could not be read: {e}"))
    };
    Stopped {
        line,
        code,
        message,
    }
}

/// A line longer than [`MAX_LINE`].
#[derive(Debug)]
struct LineTooLong;

impl std::fmt::Display for LineTooLong {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "a line is longer than {MAX_LINE} bytes")
    }
}

impl std::error::Error for LineTooLong {}

/// A reader that fails once a line grows past [`MAX_LINE`], so no row, however
/// malformed, is held in memory beyond that.
struct Lines<R> {
    inner: R,
    run: usize,
}

impl<R: Read> Read for Lines<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        for &b in &buf[..n] {
            if b == b'\n' {
                self.run = 0;
            } else {
                self.run += 1;
                if self.run > MAX_LINE {
                    return Err(std::io::Error::other(LineTooLong));
                }
            }
        }
        Ok(n)
    }
}

/// Checks the id of a row and whether an earlier row had it.
struct Ids {
    of: Of,
    seen: HashSet<u64>,
    hasher: std::collections::hash_map::RandomState,
}

impl Ids {
    fn new(of: Of) -> Ids {
        Ids {
            of,
            seen: HashSet::new(),
            hasher: std::collections::hash_map::RandomState::new(),
        }
    }

    /// The code of a row whose id is not one.
    fn invalid(&self) -> &'static str {
        match self.of.target {
            Profiles::Users => "invalid_user_id",
            Profiles::Accounts => "invalid_account_id",
        }
    }

    fn check(&mut self, line: u64, id: &str) -> Result<(), RowError> {
        let field = self.of.id;
        if let Err(m) = (self.of.check)(id) {
            return Err(row_error(line, self.invalid(), format!("{field} {m}")));
        }
        // A keyed 64-bit hash per id: 8 bytes a row, whatever the ids' length.
        if !self.seen.insert(self.hasher.hash_one(id)) {
            return Err(row_error(
                line,
                "duplicate_id",
                format!("{field} {id:?} is on an earlier line"),
            ));
        }
        Ok(())
    }
}

fn row_error(line: u64, code: &'static str, message: String) -> RowError {
    RowError {
        line,
        code,
        message,
    }
}

/// A row's attributes, checked as they are set (`null` removes one).
fn checked(line: u64, attributes: Map<String, Value>) -> Result<Map<String, Value>, RowError> {
    spotlight_domain::end_user::check_patch(&attributes)
        .map(|()| attributes)
        .map_err(|m| row_error(line, "invalid_attributes", m.to_owned()))
}

/// Reads the whole body, handing rows over a chunk at a time (on a blocking thread).
fn parse(
    reader: impl Read,
    (format, of): (ImportFormat, Of),
    max_rows: u64,
    tx: &mpsc::Sender<Msg>,
) {
    let reader = std::io::BufReader::with_capacity(
        64 * 1024,
        Lines {
            inner: reader,
            run: 0,
        },
    );
    let mut out = Chunks {
        tx,
        rows: Vec::with_capacity(CHUNK),
        errors: Vec::new(),
        count: 0,
        max_rows,
    };
    let end = match format {
        ImportFormat::Ndjson => parse_ndjson(reader, Ids::new(of), &mut out),
        ImportFormat::Csv => parse_csv(reader, Ids::new(of), &mut out),
    };
    if let Err(msg) = end {
        if matches!(msg, Msg::Stopped(_)) {
            out.flush();
        }
        let _ = tx.blocking_send(msg);
        return;
    }
    out.flush();
}

struct Chunks<'a> {
    tx: &'a mpsc::Sender<Msg>,
    rows: Vec<ImportRow>,
    errors: Vec<RowError>,
    count: u64,
    max_rows: u64,
}

impl Chunks<'_> {
    /// Takes one row (or its error); `Err` once the file holds too many.
    fn push(&mut self, line: u64, row: Result<ImportRow, RowError>) -> Result<(), Msg> {
        self.count += 1;
        if self.count > self.max_rows {
            return Err(Msg::Stopped(Stopped {
                line,
                code: "too_many_rows",
                message: format!(
                    "an import holds at most {} rows; the rest was not read",
                    self.max_rows
                ),
            }));
        }
        match row {
            Ok(r) => self.rows.push(r),
            Err(e) => self.errors.push(e),
        }
        if self.rows.len() >= CHUNK {
            self.flush();
        }
        Ok(())
    }

    fn flush(&mut self) {
        if self.rows.is_empty() && self.errors.is_empty() {
            return;
        }
        let rows = std::mem::replace(&mut self.rows, Vec::with_capacity(CHUNK));
        let errors = std::mem::take(&mut self.errors);
        // The request went away: nothing more to do.
        let _ = self.tx.blocking_send(Msg::Rows(rows, errors));
    }
}

/// One NDJSON line: the id (`user_id` or `account_id`, as the import is of)
/// and the attributes; nothing else.
fn ndjson_row(text: &[u8], line: u64, ids: &Ids) -> Result<(String, Map<String, Value>), RowError> {
    let field = ids.of.id;
    let mut m = match serde_json::from_slice::<Value>(text) {
        Ok(Value::Object(m)) => m,
        Ok(_) => {
            return Err(row_error(
                line,
                "invalid_json",
                "a line must be a JSON object".into(),
            ))
        }
        Err(e) => return Err(row_error(line, "invalid_json", e.to_string())),
    };
    if let Some(k) = m.keys().find(|k| *k != field && *k != "attributes") {
        let message = format!("unknown field {k:?} (a line has {field} and attributes)");
        return Err(row_error(line, "invalid_json", message));
    }
    let attributes = match m.remove("attributes") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(a)) => a,
        Some(_) => {
            let message = "attributes must be an object".into();
            return Err(row_error(line, "invalid_json", message));
        }
    };
    match m.remove(field) {
        Some(Value::String(id)) => Ok((id, attributes)),
        _ => Err(row_error(
            line,
            ids.invalid(),
            format!("{field} must be a string"),
        )),
    }
}

fn parse_ndjson(mut reader: impl BufRead, mut ids: Ids, out: &mut Chunks<'_>) -> Result<(), Msg> {
    let mut buf = Vec::new();
    let mut line = 0u64;
    loop {
        buf.clear();
        match reader.read_until(b'\n', &mut buf) {
            Ok(0) => return Ok(()),
            Ok(_) => {}
            Err(e) => return Err(Msg::Stopped(stopped_by(line + 1, &e))),
        }
        line += 1;
        let text = buf.trim_ascii();
        if text.is_empty() {
            continue;
        }
        let row = ndjson_row(text, line, &ids).and_then(|(id, attributes)| {
            ids.check(line, &id)?;
            Ok(ImportRow {
                line,
                id,
                attributes: checked(line, attributes)?,
            })
        });
        out.push(line, row)?;
    }
}

fn parse_csv(reader: impl Read, mut ids: Ids, out: &mut Chunks<'_>) -> Result<(), Msg> {
    let mut csv = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::Headers)
        .from_reader(reader);
    let headers = match csv.headers() {
        Ok(h) => h.clone(),
        Err(e) => return Err(csv_stop(1, e)),
    };
    let field = ids.of.id;
    let Some(id_col) = headers.iter().position(|h| h == field) else {
        return Err(Msg::Refused(format!(
            "the CSV header must name a {field} column"
        )));
    };
    let mut names = HashSet::new();
    if let Some(dup) = headers.iter().find(|h| !names.insert(*h)) {
        return Err(Msg::Refused(format!("the CSV header names {dup:?} twice")));
    }
    let mut record = csv::StringRecord::new();
    loop {
        let line = csv.position().line();
        match csv.read_record(&mut record) {
            Ok(false) => return Ok(()),
            Ok(true) => {}
            Err(e) if matches!(e.kind(), csv::ErrorKind::Io(_)) => return Err(csv_stop(line, e)),
            Err(e) => {
                out.push(line, Err(row_error(line, "invalid_row", e.to_string())))?;
                continue;
            }
        }
        let row = if record.len() != headers.len() {
            Err(row_error(
                line,
                "invalid_row",
                format!(
                    "{} fields where the header has {}",
                    record.len(),
                    headers.len()
                ),
            ))
        } else {
            let id = record.get(id_col).unwrap_or_default().to_owned();
            ids.check(line, &id).and_then(|()| {
                let attributes = headers
                    .iter()
                    .zip(record.iter())
                    .enumerate()
                    .filter(|(i, _)| *i != id_col)
                    .filter_map(|(_, (name, cell))| {
                        spotlight_domain::end_user::csv_value(cell).map(|v| (name.to_owned(), v))
                    })
                    .collect();
                Ok(ImportRow {
                    line,
                    id,
                    attributes: checked(line, attributes)?,
                })
            })
        };
        out.push(line, row)?;
    }
}

fn csv_stop(line: u64, e: csv::Error) -> Msg {
    match e.into_kind() {
        csv::ErrorKind::Io(io) => Msg::Stopped(stopped_by(line, &io)),
        other => Msg::Stopped(Stopped {
            line,
            code: "unreadable",
            message: format!("{other:?}"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `parse` hands over for `text`, with at most `max_rows` rows.
    fn run(
        text: &str,
        format: ImportFormat,
        max_rows: u64,
    ) -> (Vec<u64>, Vec<RowError>, Option<Stopped>) {
        let (tx, mut rx) = mpsc::channel(1000);
        parse(text.as_bytes(), (format, USERS), max_rows, &tx);
        drop(tx);
        let (mut lines, mut errors, mut stopped) = (Vec::new(), Vec::new(), None);
        while let Ok(msg) = rx.try_recv() {
            match msg {
                Msg::Rows(rows, errs) => {
                    lines.extend(rows.iter().map(|r| r.line));
                    errors.extend(errs);
                }
                Msg::Stopped(s) => stopped = Some(s),
                Msg::Refused(m) => panic!("refused: {m}"),
            }
        }
        (lines, errors, stopped)
    }

    #[test]
    fn rows_past_the_limit_are_not_read_and_those_before_are_kept() {
        let text = (1..=5)
            .map(|i| format!("{{\"user_id\":\"u{i}\"}}\n"))
            .collect::<String>();
        let (lines, errors, stopped) = run(&text, ImportFormat::Ndjson, 3);
        assert_eq!(lines, [1, 2, 3]);
        assert!(errors.is_empty());
        let stopped = stopped.unwrap();
        assert_eq!((stopped.line, stopped.code), (4, "too_many_rows"));
    }

    #[test]
    fn csv_rows_keep_their_line_across_quoted_newlines() {
        let text = "user_id,note\nu1,\"two\nlines\"\nu2,x,extra\nu3,ok\n";
        let (lines, errors, stopped) = run(text, ImportFormat::Csv, 10);
        assert_eq!(lines, [2, 5]);
        assert_eq!((errors[0].line, errors[0].code), (4, "invalid_row"));
        assert!(stopped.is_none());
    }

    #[test]
    fn a_line_past_the_limit_fails_the_read() {
        let long = vec![b'a'; MAX_LINE + 1];
        let mut r = Lines {
            inner: &long[..],
            run: 0,
        };
        let mut sink = Vec::new();
        assert!(r.read_to_end(&mut sink).is_err());
        let ok = [vec![b'a'; MAX_LINE], b"\n".to_vec(), vec![b'a'; MAX_LINE]].concat();
        let mut r = Lines {
            inner: &ok[..],
            run: 0,
        };
        assert!(r.read_to_end(&mut sink).is_ok());
    }
}
