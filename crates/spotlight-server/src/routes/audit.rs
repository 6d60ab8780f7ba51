//! `GET /v1/admin/audit`: the tenant's audit log, newest first, filtered by
//! actor, action, object and time range; `format=csv|json` exports up to 10,000
//! entries as a download. Needs the `admin` role.

use crate::auth::{AdminActor, AdminRole};
use crate::error::{ApiError, ApiResult, AppJson, AppQuery};
use crate::routes::{Page, PageQuery};
use crate::state::AppState;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use spotlight_domain::{AuditId, Timestamp};
use spotlight_store::{AuditFilter, AuditRecord};

const EXPORT_LIMIT: u32 = 10_000;

#[derive(Deserialize, utoipa::ToSchema, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// Only this actor's entries (an e-mail or a key id).
    actor: Option<String>,
    /// Only this action (`tour.publish`, `settings.update`…).
    action: Option<String>,
    /// Only entries about this kind of object.
    object_kind: Option<String>,
    /// Only entries about this object.
    object_id: Option<String>,
    /// From (inclusive), RFC 3339.
    from: Option<String>,
    /// To (exclusive), RFC 3339.
    to: Option<String>,
    /// Page size (default 50, at most 100).
    limit: Option<u32>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
    /// `json` (default) or `csv`: an export of every matching entry (up to 10,000).
    format: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Change {
    path: String,
    /// Any JSON value (a changed leaf may be a string, number, list…), or null.
    #[schema(value_type = Option<serde_json::Value>)]
    before: Option<Value>,
    #[schema(value_type = Option<serde_json::Value>)]
    after: Option<Value>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AuditView {
    id: AuditId,
    at: Timestamp,
    actor: String,
    action: String,
    object_kind: String,
    object_id: String,
    ip: String,
    user_agent: String,
    changes: Vec<Change>,
    /// Any JSON value (a changed leaf may be a string, number, list…), or null.
    #[schema(value_type = Option<serde_json::Value>)]
    before: Option<Value>,
    #[schema(value_type = Option<serde_json::Value>)]
    after: Option<Value>,
}

/// Leaf-level differences between two JSON documents, with paths like
/// `steps[1].title`.
pub fn diff(before: Option<&Value>, after: Option<&Value>) -> Vec<Change> {
    let mut out = Vec::new();
    walk(String::new(), before, after, &mut out);
    out
}

fn walk(path: String, a: Option<&Value>, b: Option<&Value>, out: &mut Vec<Change>) {
    match (a, b) {
        (Some(Value::Object(x)), Some(Value::Object(y))) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                walk(p, x.get(k), y.get(k), out);
            }
        }
        (Some(Value::Array(x)), Some(Value::Array(y))) => {
            for i in 0..x.len().max(y.len()) {
                walk(format!("{path}[{i}]"), x.get(i), y.get(i), out);
            }
        }
        (a, b) if a == b => {}
        (a, b) => out.push(Change {
            path: if path.is_empty() { ".".into() } else { path },
            before: a.cloned(),
            after: b.cloned(),
        }),
    }
}

fn view(r: AuditRecord) -> AuditView {
    let before = r
        .entry
        .before
        .as_deref()
        .and_then(|s| serde_json::from_str(s).ok());
    let after = r
        .entry
        .after
        .as_deref()
        .and_then(|s| serde_json::from_str(s).ok());
    AuditView {
        changes: diff(before.as_ref(), after.as_ref()),
        id: r.id,
        at: r.at,
        actor: r.entry.actor,
        action: r.entry.action,
        object_kind: r.entry.object_kind,
        object_id: r.entry.object_id,
        ip: r.entry.ip,
        user_agent: r.entry.user_agent,
        before,
        after,
    }
}

fn time(field: &str, v: Option<&str>) -> ApiResult<Option<Timestamp>> {
    v.map(|s| {
        Timestamp::parse_rfc3339(s).ok_or_else(|| {
            ApiError::field(field, "must be an RFC 3339 time like 2026-01-31T09:00:00Z")
        })
    })
    .transpose()
}

pub async fn list(
    actor: AdminActor<AdminRole>,
    State(state): State<AppState>,
    AppQuery(q): AppQuery<AuditQuery>,
) -> ApiResult<Response> {
    for (field, v) in [
        ("actor", &q.actor),
        ("action", &q.action),
        ("object_kind", &q.object_kind),
        ("object_id", &q.object_id),
    ] {
        if v.as_ref().is_some_and(|v| v.len() > 320) {
            return Err(ApiError::field(field, "at most 320 characters"));
        }
    }
    let filter = AuditFilter {
        actor: q.actor.filter(|s| !s.is_empty()),
        action: q.action.filter(|s| !s.is_empty()),
        object_kind: q.object_kind.filter(|s| !s.is_empty()),
        object_id: q.object_id.filter(|s| !s.is_empty()),
        from: time("from", q.from.as_deref())?,
        to: time("to", q.to.as_deref())?,
    };
    let before = q
        .cursor
        .as_deref()
        .map(|c| {
            c.parse::<AuditId>()
                .map_err(|_| ApiError::field("cursor", "not a cursor from this list"))
        })
        .transpose()?;
    match q.format.as_deref() {
        None => {
            let limit = PageQuery {
                limit: q.limit,
                cursor: None,
            }
            .limit();
            let rows = state
                .store
                .audit(actor.tenant_id, &filter, before, limit)
                .await?;
            let next_cursor = (rows.len() == limit as usize)
                .then(|| rows.last().map(|r| r.id.to_string()))
                .flatten();
            let items = rows.into_iter().map(view).collect();
            Ok(AppJson(Page { items, next_cursor }).into_response())
        }
        Some("json") => {
            let rows = state
                .store
                .audit(actor.tenant_id, &filter, before, EXPORT_LIMIT)
                .await?;
            let items: Vec<AuditView> = rows.into_iter().map(view).collect();
            let body = serde_json::to_vec(&items).map_err(ApiError::internal)?;
            Ok((
                [
                    (header::CONTENT_TYPE, "application/json"),
                    (
                        header::CONTENT_DISPOSITION,
                        "attachment; filename=\"audit.json\"",
                    ),
                ],
                body,
            )
                .into_response())
        }
        Some("csv") => {
            let rows = state
                .store
                .audit(actor.tenant_id, &filter, before, EXPORT_LIMIT)
                .await?;
            let mut w = csv::Writer::from_writer(Vec::new());
            let header_row = [
                "id",
                "at",
                "actor",
                "action",
                "object_kind",
                "object_id",
                "ip",
                "user_agent",
                "changed",
            ];
            w.write_record(header_row).map_err(ApiError::internal)?;
            for r in rows.into_iter().map(view) {
                let changed: Vec<String> = r.changes.iter().map(|c| c.path.clone()).collect();
                w.write_record([
                    r.id.to_string(),
                    r.at.to_rfc3339(),
                    csv_safe(&r.actor),
                    r.action,
                    r.object_kind,
                    r.object_id,
                    r.ip,
                    csv_safe(&r.user_agent),
                    csv_safe(&changed.join("; ")),
                ])
                .map_err(ApiError::internal)?;
            }
            let body = w.into_inner().map_err(ApiError::internal)?;
            Ok((
                [
                    (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                    (
                        header::CONTENT_DISPOSITION,
                        "attachment; filename=\"audit.csv\"",
                    ),
                ],
                body,
            )
                .into_response())
        }
        Some(_) => Err(ApiError::field("format", "must be csv or json")),
    }
}

/// Spreadsheets run cells starting with = + - @ as formulas: defuse them.
pub(crate) fn csv_safe(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn diffs_name_leaf_paths() {
        let a = json!({"name": "A", "steps": [{"title": "x"}, {"title": "y"}], "priority": 1});
        let b = json!({"name": "B", "steps": [{"title": "x"}], "priority": 1, "audience": "p = 1"});
        let paths: Vec<String> = diff(Some(&a), Some(&b))
            .into_iter()
            .map(|c| c.path)
            .collect();
        assert_eq!(paths, ["audience", "name", "steps[1]"]);
        assert_eq!(diff(None, Some(&a)).len(), 1);
        assert!(diff(Some(&a), Some(&a)).is_empty());
    }

    #[test]
    fn csv_cells_are_defused() {
        assert_eq!(csv_safe("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(csv_safe("ada@acme.test"), "ada@acme.test");
    }
}
