//! `/v1/admin/translations`: every translatable string of the tenant's tours,
//! announcements and checklists (all, some by id, or those an environment serves), as
//! XLIFF 2.0 or JSON keyed by stable ids, each with its source text and the
//! draft revision it was read from; and the import of translators' work, which
//! checks every string (unknown ids, a stale revision, unsafe HTML — sanitised
//! as on save) and writes each object's accepted strings as one new draft
//! revision. XML with a DOCTYPE (entity expansion) is refused whole.

use crate::auth::{AdminActor, EditorRole, RequestMeta, ViewerRole};
use crate::error::{ApiError, ApiResult, AppJson, AppQuery, ErrorCode};
use crate::routes::audit_entry;
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use serde::{Deserialize, Serialize};
use spotlight_domain::content::{Checklist, Content};
use spotlight_domain::tour::Tour;
use spotlight_domain::translations::{self, Outcome, Unit};
use spotlight_domain::{ObjectId, ObjectKind};
use spotlight_store::{ObjectFilter, ObjectRecord, StoreError};
use std::collections::BTreeMap;

const KINDS: [ObjectKind; 3] = [ObjectKind::Tour, ObjectKind::Content, ObjectKind::Checklist];
const XLIFF_NS: &str = "urn:oasis:names:tc:xliff:document:2.0";
const SPOTLIGHT_NS: &str = "urn:spotlight:translations:1";
/// Strings one import may carry.
const MAX_STRINGS: usize = 50_000;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ExportQuery {
    /// The language to translate into (`fr`, `pt-BR`).
    locale: String,
    /// `json` (default) or `xliff`.
    format: Option<String>,
    /// `a,b,c`: only these objects.
    ids: Option<String>,
    /// Only the objects this environment serves.
    environment: Option<String>,
    /// The language of the default texts (default `en`).
    source_locale: Option<String>,
}

/// One object's strings, read from its draft.
struct Source {
    object: ObjectRecord,
    units: Vec<Unit>,
}

fn units(o: &ObjectRecord, locale: &str) -> ApiResult<Vec<Unit>> {
    Ok(match o.kind {
        ObjectKind::Tour => {
            let t: Tour = serde_json::from_str(&o.draft).map_err(ApiError::internal)?;
            translations::tour_units(&t, locale)
        }
        ObjectKind::Checklist => {
            let c: Checklist = serde_json::from_str(&o.draft).map_err(ApiError::internal)?;
            translations::checklist_units(&c, locale)
        }
        _ => {
            let c: Content = serde_json::from_str(&o.draft).map_err(ApiError::internal)?;
            translations::content_units(&c, locale)
        }
    })
}

fn locale_param(field: &str, v: &str) -> ApiResult<()> {
    if spotlight_domain::tour::valid_locale(v) {
        Ok(())
    } else {
        Err(ApiError::field(
            field,
            "must be a locale tag like fr or pt-BR",
        ))
    }
}

async fn sources(
    state: &AppState,
    actor: &AdminActor<ViewerRole>,
    q: &ExportQuery,
) -> ApiResult<Vec<Source>> {
    let ids = q
        .ids
        .as_deref()
        .map(crate::routes::objects::parse_ids)
        .transpose()?;
    let env = match &q.environment {
        Some(name) => Some(
            crate::routes::environment_named(state, actor.tenant_id, name, "environment")
                .await?
                .name,
        ),
        None => None,
    };
    let mut out = Vec::new();
    for kind in KINDS {
        let objects = match &ids {
            Some(ids) => {
                state
                    .store
                    .objects_by_ids(actor.tenant_id, kind, ids)
                    .await?
            }
            None => {
                let mut all = Vec::new();
                let mut after = None;
                loop {
                    let page = state
                        .store
                        .objects(actor.tenant_id, kind, &ObjectFilter::default(), after, 100)
                        .await?;
                    after = page.last().map(|o| o.id);
                    let done = page.len() < 100;
                    all.extend(page);
                    if done {
                        break;
                    }
                }
                all
            }
        };
        for object in objects {
            if object.archived_at.is_some()
                || env
                    .as_ref()
                    .is_some_and(|e| !object.publications.iter().any(|p| &p.environment == e))
            {
                continue;
            }
            let units = units(&object, &q.locale)?;
            if !units.is_empty() {
                out.push(Source { object, units });
            }
        }
    }
    Ok(out)
}

/// The JSON form: strings keyed by `<object id>:<string key>`.
#[derive(Serialize, Deserialize, utoipa::ToSchema)]
pub struct TranslationFile {
    /// The language translated into.
    locale: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    source_locale: Option<String>,
    strings: BTreeMap<String, TranslationString>,
}

#[derive(Serialize, Deserialize, utoipa::ToSchema)]
pub struct TranslationString {
    /// `tour` or `content` (for the translator; not read back).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    kind: Option<ObjectKind>,
    /// The object's name (for the translator; not read back).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    object: Option<String>,
    /// The draft revision the source text was read from.
    revision: i64,
    #[serde(default)]
    source: String,
    /// The translation; `null` or absent: not translated yet.
    #[serde(default)]
    target: Option<String>,
}

/// `GET /v1/admin/translations`: JSON, or XLIFF 2.0 with `format=xliff`.
pub async fn export(
    actor: AdminActor<ViewerRole>,
    State(state): State<AppState>,
    AppQuery(q): AppQuery<ExportQuery>,
) -> ApiResult<Response> {
    locale_param("locale", &q.locale)?;
    let source_locale = q.source_locale.clone().unwrap_or_else(|| "en".into());
    locale_param("source_locale", &source_locale)?;
    let xliff = match q.format.as_deref() {
        None | Some("json") => false,
        Some("xliff") => true,
        Some(_) => return Err(ApiError::field("format", "must be json or xliff")),
    };
    let sources = sources(&state, &actor, &q).await?;
    if xliff {
        let body = write_xliff(&sources, &source_locale, &q.locale).map_err(ApiError::internal)?;
        let name = format!("attachment; filename=\"spotlight-{}.xlf\"", q.locale);
        return Ok((
            [
                (
                    header::CONTENT_TYPE,
                    "application/xliff+xml; charset=utf-8".to_owned(),
                ),
                (header::CONTENT_DISPOSITION, name),
            ],
            body,
        )
            .into_response());
    }
    let mut strings = BTreeMap::new();
    for s in &sources {
        for u in &s.units {
            strings.insert(
                format!("{}:{}", s.object.id, u.key),
                TranslationString {
                    kind: Some(s.object.kind),
                    object: Some(s.object.name.clone()),
                    revision: s.object.revision,
                    source: u.source.clone(),
                    target: u.target.clone(),
                },
            );
        }
    }
    Ok(AppJson(TranslationFile {
        locale: q.locale,
        source_locale: Some(source_locale),
        strings,
    })
    .into_response())
}

fn write_xliff(sources: &[Source], source_locale: &str, locale: &str) -> std::io::Result<Vec<u8>> {
    let mut w = quick_xml::Writer::new_with_indent(Vec::new(), b' ', 2);
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    let mut root = BytesStart::new("xliff");
    root.push_attribute(("xmlns", XLIFF_NS));
    root.push_attribute(("xmlns:sl", SPOTLIGHT_NS));
    root.push_attribute(("version", "2.0"));
    root.push_attribute(("srcLang", source_locale));
    root.push_attribute(("trgLang", locale));
    w.write_event(Event::Start(root))?;
    for s in sources {
        let id = s.object.id.to_string();
        let revision = s.object.revision.to_string();
        let mut file = BytesStart::new("file");
        file.push_attribute(("id", format!("o{id}").as_str()));
        file.push_attribute(("sl:object", id.as_str()));
        file.push_attribute(("sl:kind", s.object.kind.as_str()));
        file.push_attribute(("sl:revision", revision.as_str()));
        w.write_event(Event::Start(file))?;
        w.write_event(Event::Start(BytesStart::new("notes")))?;
        w.write_event(Event::Start(BytesStart::new("note")))?;
        w.write_event(Event::Text(BytesText::new(&s.object.name)))?;
        w.write_event(Event::End(BytesEnd::new("note")))?;
        w.write_event(Event::End(BytesEnd::new("notes")))?;
        for u in &s.units {
            let mut unit = BytesStart::new("unit");
            unit.push_attribute(("id", u.key.as_str()));
            w.write_event(Event::Start(unit))?;
            w.write_event(Event::Start(BytesStart::new("segment")))?;
            w.write_event(Event::Start(BytesStart::new("source")))?;
            w.write_event(Event::Text(BytesText::new(&u.source)))?;
            w.write_event(Event::End(BytesEnd::new("source")))?;
            if let Some(t) = &u.target {
                w.write_event(Event::Start(BytesStart::new("target")))?;
                w.write_event(Event::Text(BytesText::new(t)))?;
                w.write_event(Event::End(BytesEnd::new("target")))?;
            }
            w.write_event(Event::End(BytesEnd::new("segment")))?;
            w.write_event(Event::End(BytesEnd::new("unit")))?;
        }
        w.write_event(Event::End(BytesEnd::new("file")))?;
    }
    w.write_event(Event::End(BytesEnd::new("xliff")))?;
    Ok(w.into_inner())
}

/// One string of an import, whatever the format.
struct Incoming {
    object: String,
    key: String,
    revision: Option<i64>,
    target: Option<String>,
}

fn bad_file(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::ValidationFailed, message).with_details(serde_json::json!({
        "fields": [{"path": "body", "message": "not a translation file this server reads"}]
    }))
}

/// Reads XLIFF 2.0 as Spotlight writes it: `file` per object (its id and
/// revision in `sl:` attributes), `unit` per string, the `target` text.
/// No DOCTYPE (so no entity can expand), only XML's own entities.
fn read_xliff(body: &str) -> ApiResult<(String, Vec<Incoming>)> {
    let mut reader = quick_xml::Reader::from_str(body);
    let mut locale = None;
    let mut file: Option<(String, Option<i64>)> = None;
    let mut unit: Option<String> = None;
    let mut target: Option<String> = None;
    let mut out = Vec::new();
    let xml_error = |e: &dyn std::fmt::Display, at: u64| {
        bad_file(format!("not well-formed XML at byte {at}: {e}"))
    };
    loop {
        let at = reader.buffer_position();
        let event = reader.read_event().map_err(|e| xml_error(&e, at))?;
        match event {
            Event::DocType(_) => {
                return Err(bad_file(
                    "XML with a DOCTYPE is refused: entity declarations could expand without bound",
                ))
            }
            Event::Start(e) | Event::Empty(e) => {
                let name = e.local_name();
                let attr = |wanted: &str| -> ApiResult<Option<String>> {
                    for a in e.attributes() {
                        let a = a.map_err(|err| xml_error(&err, at))?;
                        if a.key.local_name().as_ref() == wanted {
                            let v = a
                                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                                .map_err(|err| xml_error(&err, at))?;
                            return Ok(Some(v.into_owned()));
                        }
                    }
                    Ok(None)
                };
                match name.as_ref() {
                    "xliff" => locale = attr("trgLang")?,
                    "file" => {
                        let object = attr("object")?.or(attr("id")?).unwrap_or_default();
                        let revision = attr("revision")?.and_then(|r| r.parse().ok());
                        file = Some((object, revision));
                    }
                    "unit" => unit = attr("id")?,
                    "target" => target = Some(String::new()),
                    _ => {}
                }
            }
            Event::Text(t) => {
                if let Some(buf) = target.as_mut() {
                    buf.push_str(&t.xml10_content());
                }
            }
            Event::CData(t) => {
                if let Some(buf) = target.as_mut() {
                    buf.push_str(&t.xml10_content());
                }
            }
            Event::GeneralRef(r) => {
                let c = match r.resolve_char_ref().map_err(|e| xml_error(&e, at))? {
                    Some(c) => c.to_string(),
                    None => quick_xml::escape::resolve_xml_entity(&r)
                        .ok_or_else(|| bad_file(format!("unknown entity &{};", &*r)))?
                        .to_owned(),
                };
                if let Some(buf) = target.as_mut() {
                    buf.push_str(&c);
                }
            }
            Event::End(e) => match e.local_name().as_ref() {
                "target" => {
                    if let (Some((object, revision)), Some(key), Some(text)) =
                        (&file, &unit, target.take())
                    {
                        if out.len() >= MAX_STRINGS {
                            return Err(bad_file(format!(
                                "at most {MAX_STRINGS} strings per file"
                            )));
                        }
                        out.push(Incoming {
                            object: object.clone(),
                            key: key.clone(),
                            revision: *revision,
                            target: Some(text),
                        });
                    }
                }
                "unit" => unit = None,
                "file" => file = None,
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
    }
    let locale = locale.ok_or_else(|| bad_file("the xliff element has no trgLang"))?;
    Ok((locale, out))
}

fn read_json(body: &[u8]) -> ApiResult<(String, Vec<Incoming>)> {
    let file: TranslationFile = serde_json::from_slice(body)
        .map_err(|e| bad_file(format!("not a Spotlight translation file: {e}")))?;
    if file.strings.len() > MAX_STRINGS {
        return Err(bad_file(format!("at most {MAX_STRINGS} strings per file")));
    }
    let strings = file
        .strings
        .into_iter()
        .map(|(id, s)| {
            let (object, key) = id.split_once(':').unwrap_or((id.as_str(), ""));
            Incoming {
                object: object.to_owned(),
                key: key.to_owned(),
                revision: Some(s.revision),
                target: s.target,
            }
        })
        .collect();
    Ok((file.locale, strings))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TranslatedString {
    /// `<object id>:<string key>`.
    id: String,
    /// `applied`, `sanitized` (applied without its unsafe HTML), `empty`
    /// (no translation), `unknown` (no such object or string), `stale` (the
    /// object changed since the export) or `invalid`.
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TranslatedObject {
    id: ObjectId,
    kind: ObjectKind,
    /// The new draft revision holding the translations.
    revision: i64,
    applied: usize,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TranslationReport {
    locale: String,
    applied: usize,
    refused: usize,
    objects: Vec<TranslatedObject>,
    strings: Vec<TranslatedString>,
}

/// `POST /v1/admin/translations`: an XLIFF 2.0 or JSON file (by its
/// content type) back from translators.
pub async fn import(
    actor: AdminActor<EditorRole>,
    meta: RequestMeta,
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<AppJson<TranslationReport>> {
    let body = body?;
    let ctype = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let (locale, incoming) = match ctype.as_str() {
        "application/json" => read_json(&body)?,
        "application/xliff+xml" | "application/xml" | "text/xml" => {
            let text = std::str::from_utf8(&body).map_err(|_| bad_file("XLIFF must be UTF-8"))?;
            read_xliff(text)?
        }
        _ => {
            return Err(ApiError::new(
                ErrorCode::UnsupportedMediaType,
                "send application/json or application/xliff+xml",
            ))
        }
    };
    locale_param("locale", &locale)?;
    // By object, in file order.
    let mut by_object: Vec<(String, Vec<Incoming>)> = Vec::new();
    for s in incoming {
        match by_object.iter_mut().find(|(o, _)| *o == s.object) {
            Some((_, list)) => list.push(s),
            None => by_object.push((s.object.clone(), vec![s])),
        }
    }
    let mut report = TranslationReport {
        locale: locale.clone(),
        applied: 0,
        refused: 0,
        objects: Vec::new(),
        strings: Vec::new(),
    };
    for (object, strings) in by_object {
        apply_object(
            &state,
            &actor,
            &meta,
            &locale,
            &object,
            strings,
            &mut report,
        )
        .await?;
    }
    report.refused = report
        .strings
        .iter()
        .filter(|s| !matches!(s.status, "applied" | "sanitized" | "empty"))
        .count();
    Ok(AppJson(report))
}

async fn find(
    state: &AppState,
    tenant: spotlight_domain::TenantId,
    id: &str,
) -> ApiResult<Option<ObjectRecord>> {
    let Ok(id) = id.parse::<ObjectId>() else {
        return Ok(None);
    };
    for kind in KINDS {
        match state.store.object(tenant, kind, id).await {
            Ok(o) => return Ok(Some(o)),
            Err(StoreError::NotFound) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(None)
}

/// Applies one object's strings as one new draft revision.
async fn apply_object(
    state: &AppState,
    actor: &AdminActor<EditorRole>,
    meta: &RequestMeta,
    locale: &str,
    object: &str,
    strings: Vec<Incoming>,
    report: &mut TranslationReport,
) -> ApiResult<()> {
    let refuse =
        |report: &mut TranslationReport, s: &Incoming, status: &'static str, message: &str| {
            report.strings.push(TranslatedString {
                id: format!("{}:{}", s.object, s.key),
                status,
                message: Some(message.to_owned()),
            });
        };
    let Some(o) = find(state, actor.tenant_id, object)
        .await?
        .filter(|o| o.archived_at.is_none())
    else {
        for s in &strings {
            refuse(
                report,
                s,
                "unknown",
                "no such tour, announcement or checklist here",
            );
        }
        return Ok(());
    };
    enum Doc {
        Tour(Tour),
        Content(Content),
        Checklist(Checklist),
    }
    let mut doc = match o.kind {
        ObjectKind::Tour => Doc::Tour(serde_json::from_str(&o.draft).map_err(ApiError::internal)?),
        ObjectKind::Checklist => {
            Doc::Checklist(serde_json::from_str(&o.draft).map_err(ApiError::internal)?)
        }
        _ => Doc::Content(serde_json::from_str(&o.draft).map_err(ApiError::internal)?),
    };
    let mut applied = 0;
    let mut results = Vec::new();
    for s in &strings {
        if s.revision != Some(o.revision) {
            results.push((s, "stale", Some(format!(
                "the object is at revision {} since this file was exported (revision {}); export again",
                o.revision,
                s.revision.map_or("none".into(), |r| r.to_string())
            ))));
            continue;
        }
        let Some(text) = s.target.as_deref().filter(|t| !t.is_empty()) else {
            results.push((s, "empty", None));
            continue;
        };
        let outcome = match &mut doc {
            Doc::Tour(t) => translations::apply_tour(t, locale, &s.key, text),
            Doc::Content(c) => translations::apply_content(c, locale, &s.key, text),
            Doc::Checklist(c) => translations::apply_checklist(c, locale, &s.key, text),
        };
        match outcome {
            Outcome::Applied => {
                applied += 1;
                results.push((s, "applied", None));
            }
            Outcome::Sanitized => {
                applied += 1;
                results.push((
                    s,
                    "sanitized",
                    Some("unsafe HTML was removed, as on save".into()),
                ));
            }
            Outcome::Unknown => {
                results.push((s, "unknown", Some("no such string in this object".into())))
            }
            Outcome::Invalid(m) => results.push((s, "invalid", Some(m))),
        }
    }
    // The whole document must still validate with its new texts (a 51st
    // language, say); if not, none of its strings is written, and the other
    // objects of the file still are.
    let checked = match &mut doc {
        Doc::Tour(t) => t
            .validate()
            .map(|()| (serde_json::to_string(t), t.name.clone())),
        Doc::Content(c) => c
            .validate()
            .map(|()| (serde_json::to_string(c), c.name.clone())),
        Doc::Checklist(c) => c
            .validate()
            .map(|()| (serde_json::to_string(c), c.name.clone())),
    };
    // Strings that were to be written, when they are not after all.
    let unwritten = |results: &mut Vec<(&Incoming, &'static str, Option<String>)>,
                     status: &'static str,
                     why: &str| {
        for (_, st, message) in results.iter_mut() {
            if matches!(*st, "applied" | "sanitized") {
                *st = status;
                *message = Some(why.to_owned());
            }
        }
    };
    match checked {
        _ if applied == 0 => {}
        Err(errors) => {
            unwritten(
                &mut results,
                "invalid",
                &format!("the object would not validate: {errors}"),
            );
            applied = 0;
        }
        Ok((draft, name)) => {
            let draft = draft.map_err(ApiError::internal)?;
            let entry = audit_entry(
                actor,
                meta,
                &format!("{}.translate", o.kind.as_str()),
                o.kind.as_str(),
                o.id,
            );
            match state
                .store
                .update_object(
                    actor.tenant_id,
                    o.kind,
                    o.id,
                    Some(o.revision),
                    &name,
                    &draft,
                    entry,
                )
                .await
            {
                Ok(updated) => report.objects.push(TranslatedObject {
                    id: o.id,
                    kind: o.kind,
                    revision: updated.revision,
                    applied,
                }),
                // Changed (or deleted) between our read and write.
                Err(StoreError::Precondition) => {
                    unwritten(
                        &mut results,
                        "stale",
                        "the object changed while this file was imported; export again",
                    );
                    applied = 0;
                }
                Err(StoreError::NotFound) => {
                    unwritten(
                        &mut results,
                        "unknown",
                        "the object was deleted while this file was imported",
                    );
                    applied = 0;
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
    report.applied += applied;
    for (s, status, message) in results {
        report.strings.push(TranslatedString {
            id: format!("{}:{}", s.object, s.key),
            status,
            message,
        });
    }
    Ok(())
}
