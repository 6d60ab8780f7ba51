//! `/v1/admin/{tours,content,checklists,launchers,themes,audiences}`: one set of
//! handlers for every kind of authored object, generic over its [`Document`].
//! Viewers read; editors create, edit, publish, roll back, promote, duplicate,
//! archive and delete. Drafts carry a revision: `ETag` on reads, `If-Match` on
//! writes (412 when someone changed it meanwhile). Every change is audited in
//! the same transaction.

use crate::auth::{AdminActor, EditorRole, Principal, RequestMeta, RoleNeeded, ViewerRole};
use crate::error::{ApiError, ApiResult, AppJson, AppPath, AppQuery, ErrorCode, OptionalJson};
use crate::openapi::{ApiRouter, NoContent};
use crate::routes::publishing::{self, gate, Gate};
use crate::routes::{Page, PageQuery};
use crate::state::AppState;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use spotlight_domain::{Document, ObjectId, ObjectKind, ObjectStatus, Timestamp};
use spotlight_store::{AuditEntry, Environment, ObjectFilter, ObjectRecord};
use std::collections::BTreeMap;

/// The routes of one kind, documented: `/v1/admin/tours`, `/v1/admin/tours/{id}`, ….
pub fn routes<D: Document + utoipa::ToSchema>() -> ApiRouter {
    let kind = D::KIND;
    let (c, k) = (kind.collection(), kind.as_str());
    let a = if k.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    let base = format!("/v1/admin/{c}");
    let one = format!("{base}/{{id}}");
    let at = |tail: &str| format!("{one}/{tail}");
    ApiRouter::new()
        .tag(c)
        .get(
            &base,
            list::<D>,
            format!("List {c} (cursor, status, q, ids)"),
        )
        .post(&base, create::<D>, format!("Create {a} {k} draft"))
        .answers::<ObjectView>(201)
        .get(&one, get_one::<D>, format!("One {k}, with its ETag"))
        .answers::<ObjectView>(200)
        .put(
            &one,
            update::<D>,
            format!("Replace the {k}'s draft (If-Match: its ETag)"),
        )
        .answers::<ObjectView>(200)
        .errors(&[ErrorCode::PreconditionFailed])
        .delete(&one, delete::<D>, format!("Delete the {k}"))
        .post(
            &at("publish"),
            publish::<D>,
            "Publish the draft to an environment as a new version (where editors need approval, an editor's publish answers 202 with a request instead)",
        )
        .answers::<Published>(200)
        .also_answers::<crate::routes::publishing::PublishRequestView>(202)
        .post(
            &at("unpublish"),
            unpublish::<D>,
            "Stop serving it in an environment",
        )
        .answers::<ObjectView>(200)
        .get(
            &at("versions"),
            versions::<D>,
            "Published versions, newest first",
        )
        .get(
            &at("versions/{version}"),
            version::<D>,
            "One version's document",
        )
        .post(
            &at("rollback"),
            rollback::<D>,
            "Re-publish an earlier version",
        )
        .answers::<ObjectView>(200)
        .post(
            &at("promote"),
            promote::<D>,
            "Publish what staging serves to production",
        )
        .answers::<ObjectView>(200)
        .post(&at("duplicate"), duplicate::<D>, "Copy as a new draft")
        .answers::<ObjectView>(201)
        .post(
            &at("archive"),
            archive::<D>,
            "Archive (stops serving everywhere)",
        )
        .answers::<ObjectView>(200)
        .post(&at("unarchive"), unarchive::<D>, "Restore from the archive")
        .answers::<ObjectView>(200)
        .post(
            &at("kill-switch"),
            kill_switch::<D>,
            "Stop (or resume) showing it at once",
        )
        .answers::<ObjectView>(200)
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct PublishedView {
    version: i64,
    published_at: Timestamp,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ObjectView {
    id: ObjectId,
    kind: ObjectKind,
    name: String,
    status: ObjectStatus,
    revision: i64,
    latest_version: i64,
    /// On: the SDK shows this object nowhere, at once.
    kill_switch: bool,
    /// Environment → the version it serves.
    published: BTreeMap<String, PublishedView>,
    #[schema(value_type = Object)]
    document: Value,
    created_at: Timestamp,
    updated_at: Timestamp,
    archived_at: Option<Timestamp>,
}

impl ObjectView {
    fn of(o: ObjectRecord) -> ApiResult<ObjectView> {
        let status = o.status();
        let document = serde_json::from_str(&o.draft).map_err(ApiError::internal)?;
        Ok(ObjectView {
            id: o.id,
            kind: o.kind,
            name: o.name,
            status,
            revision: o.revision,
            latest_version: o.latest_version,
            kill_switch: o.kill_switch,
            published: o
                .publications
                .into_iter()
                .map(|p| {
                    (
                        p.environment,
                        PublishedView {
                            version: p.version,
                            published_at: p.published_at,
                        },
                    )
                })
                .collect(),
            document,
            created_at: o.created_at,
            updated_at: o.updated_at,
            archived_at: o.archived_at,
        })
    }
}

fn etag(revision: i64) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{revision}\""))
        .unwrap_or_else(|_| HeaderValue::from_static("\"0\""))
}

/// The object, with its `ETag`, as a response.
fn respond(status: StatusCode, o: ObjectRecord) -> ApiResult<Response> {
    let tag = etag(o.revision);
    Ok((status, [(header::ETAG, tag)], AppJson(ObjectView::of(o)?)).into_response())
}

/// `If-Match: "7"` → Some(7); `*` or absent → None (no precondition).
fn if_match(headers: &HeaderMap) -> ApiResult<Option<i64>> {
    let Some(v) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    let text = v.to_str().map_err(|_| precondition())?.trim();
    if text == "*" {
        return Ok(None);
    }
    let text = text.strip_prefix("W/").unwrap_or(text);
    text.trim_matches('"')
        .parse()
        .map(Some)
        .map_err(|_| precondition())
}

fn precondition() -> ApiError {
    ApiError::new(
        ErrorCode::PreconditionFailed,
        "the object changed since you read it; reload it, or retry with its current ETag",
    )
}

fn audit<R: RoleNeeded>(
    actor: &AdminActor<R>,
    meta: &RequestMeta,
    kind: ObjectKind,
    action: &str,
    id: ObjectId,
) -> AuditEntry {
    crate::routes::audit_entry(
        actor,
        meta,
        &format!("{}.{action}", kind.as_str()),
        kind.as_str(),
        id,
    )
}

/// The environment named in a request, else the key's own, else production.
pub async fn environment<R: RoleNeeded>(
    state: &AppState,
    actor: &AdminActor<R>,
    name: Option<&str>,
    field: &str,
) -> ApiResult<Environment> {
    let name = match (name, &actor.principal) {
        (Some(n), _) => n,
        (None, Principal::Key { environment, .. }) => environment.as_str(),
        (None, Principal::Member { .. }) => "production",
    };
    crate::routes::environment_named(state, actor.tenant_id, name, field).await
}

fn validated<D: Document>(mut doc: D) -> ApiResult<(D, String)> {
    doc.validate().map_err(ApiError::validation)?;
    let json = serde_json::to_string(&doc).map_err(ApiError::internal)?;
    Ok((doc, json))
}

#[derive(Deserialize, utoipa::ToSchema, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Page size (default 50, at most 100 whatever is asked).
    limit: Option<u32>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
    /// `draft`, `published` or `archived`.
    status: Option<String>,
    /// Words the name contains (case-insensitive).
    q: Option<String>,
    /// `a,b,c`: fetch these (at most 100) in one query.
    ids: Option<String>,
}

/// `?ids=a,b,c`: at most a page of object ids.
pub fn parse_ids(text: &str) -> ApiResult<Vec<ObjectId>> {
    let ids: Vec<ObjectId> = text
        .split(',')
        .filter(|s| !s.is_empty())
        .map(|s| s.trim().parse())
        .collect::<Result<_, _>>()
        .map_err(|_| ApiError::field("ids", "must be a comma-separated list of ids"))?;
    if ids.len() > PageQuery::MAX as usize {
        return Err(ApiError::field("ids", "at most 100 ids"));
    }
    Ok(ids)
}

pub async fn list<D: Document>(
    actor: AdminActor<ViewerRole>,
    State(state): State<AppState>,
    AppQuery(q): AppQuery<ListQuery>,
) -> ApiResult<AppJson<Page<ObjectView>>> {
    if let Some(ids) = &q.ids {
        let ids = parse_ids(ids)?;
        let objects = state
            .store
            .objects_by_ids(actor.tenant_id, D::KIND, &ids)
            .await?;
        let items = objects
            .into_iter()
            .map(ObjectView::of)
            .collect::<ApiResult<_>>()?;
        return Ok(AppJson(Page {
            items,
            next_cursor: None,
        }));
    }
    let status = q
        .status
        .as_deref()
        .map(|s| {
            ObjectStatus::parse(s)
                .ok_or_else(|| ApiError::field("status", "must be draft, published or archived"))
        })
        .transpose()?;
    let search = q.q.filter(|s| !s.trim().is_empty());
    if search.as_ref().is_some_and(|s| s.len() > 200) {
        return Err(ApiError::field("q", "at most 200 characters"));
    }
    let page = PageQuery {
        limit: q.limit,
        cursor: q.cursor,
    };
    let after = page
        .cursor
        .as_deref()
        .map(|c| {
            c.parse::<ObjectId>()
                .map_err(|_| ApiError::field("cursor", "not a cursor from this list"))
        })
        .transpose()?;
    let limit = page.limit();
    let objects = state
        .store
        .objects(
            actor.tenant_id,
            D::KIND,
            &ObjectFilter { status, search },
            after,
            limit,
        )
        .await?;
    let next_cursor = (objects.len() == limit as usize)
        .then(|| objects.last().map(|o| o.id.to_string()))
        .flatten();
    let items = objects
        .into_iter()
        .map(ObjectView::of)
        .collect::<ApiResult<_>>()?;
    Ok(AppJson(Page { items, next_cursor }))
}

pub async fn create<D: Document>(
    actor: AdminActor<EditorRole>,
    meta: RequestMeta,
    State(state): State<AppState>,
    AppJson(doc): AppJson<D>,
) -> ApiResult<Response> {
    let (doc, json) = validated(doc)?;
    let id = ObjectId::new_v7();
    let mut entry = audit(&actor, &meta, D::KIND, "create", id);
    entry.after = Some(json.clone());
    let o = state
        .store
        .create_object(actor.tenant_id, D::KIND, id, doc.name(), &json, entry)
        .await?;
    respond(StatusCode::CREATED, o)
}

pub async fn get_one<D: Document>(
    actor: AdminActor<ViewerRole>,
    State(state): State<AppState>,
    AppPath(id): AppPath<ObjectId>,
) -> ApiResult<Response> {
    let o = state.store.object(actor.tenant_id, D::KIND, id).await?;
    respond(StatusCode::OK, o)
}

pub async fn update<D: Document>(
    actor: AdminActor<EditorRole>,
    meta: RequestMeta,
    State(state): State<AppState>,
    AppPath(id): AppPath<ObjectId>,
    headers: HeaderMap,
    AppJson(doc): AppJson<D>,
) -> ApiResult<Response> {
    let expected = if_match(&headers)?;
    let (doc, json) = validated(doc)?;
    let entry = audit(&actor, &meta, D::KIND, "update", id);
    let o = state
        .store
        .update_object(
            actor.tenant_id,
            D::KIND,
            id,
            expected,
            doc.name(),
            &json,
            entry,
        )
        .await
        .map_err(|e| match e {
            spotlight_store::StoreError::Precondition => precondition(),
            e => e.into(),
        })?;
    respond(StatusCode::OK, o)
}

pub async fn delete<D: Document>(
    actor: AdminActor<EditorRole>,
    meta: RequestMeta,
    State(state): State<AppState>,
    AppPath(id): AppPath<ObjectId>,
) -> ApiResult<NoContent> {
    let entry = audit(&actor, &meta, D::KIND, "delete", id);
    state
        .store
        .delete_object(actor.tenant_id, D::KIND, id, entry)
        .await?;
    Ok(NoContent)
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnvironmentBody {
    /// Environment name (default: the key's own, else production).
    #[schema(example = "production")]
    environment: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Published {
    environment: String,
    version: i64,
    object: ObjectView,
}

pub async fn publish<D: Document>(
    actor: AdminActor<EditorRole>,
    meta: RequestMeta,
    State(state): State<AppState>,
    AppPath(id): AppPath<ObjectId>,
    OptionalJson(body): OptionalJson<EnvironmentBody>,
) -> ApiResult<Response> {
    // The draft must still be valid under today's rules before it goes live.
    let current = state.store.object(actor.tenant_id, D::KIND, id).await?;
    let env = environment(&state, &actor, body.environment.as_deref(), "environment").await?;
    let doc: D = serde_json::from_str(&current.draft).map_err(ApiError::internal)?;
    validated(doc)?;
    if let Gate::Request = gate(&state, &actor, &env).await? {
        return publishing::request(&state, &actor, &meta, D::KIND, id, &env).await;
    }
    let entry = audit(&actor, &meta, D::KIND, "publish", id);
    let (o, version) = state
        .store
        .publish(actor.tenant_id, D::KIND, id, env.id, entry)
        .await
        .map_err(archived_conflict)?;
    tracing::info!(object = %id, environment = %env.name, version, "published");
    Ok(AppJson(Published {
        environment: env.name,
        version,
        object: ObjectView::of(o)?,
    })
    .into_response())
}

fn archived_conflict(e: spotlight_store::StoreError) -> ApiError {
    match e {
        spotlight_store::StoreError::Conflict(c) if c == "archived" => ApiError::new(
            ErrorCode::Conflict,
            "archived objects cannot be published; unarchive it first",
        ),
        e => e.into(),
    }
}

pub async fn unpublish<D: Document>(
    actor: AdminActor<EditorRole>,
    meta: RequestMeta,
    State(state): State<AppState>,
    AppPath(id): AppPath<ObjectId>,
    OptionalJson(body): OptionalJson<EnvironmentBody>,
) -> ApiResult<Response> {
    let env = environment(&state, &actor, body.environment.as_deref(), "environment").await?;
    gate(&state, &actor, &env).await?.direct_only(&env)?;
    let entry = audit(&actor, &meta, D::KIND, "unpublish", id);
    let o = state
        .store
        .unpublish(actor.tenant_id, D::KIND, id, env.id, entry)
        .await?;
    respond(StatusCode::OK, o)
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct VersionView {
    version: i64,
    created_at: Timestamp,
    created_by: String,
    /// Environments serving this version now.
    published_in: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    document: Option<Value>,
}

pub async fn versions<D: Document>(
    actor: AdminActor<ViewerRole>,
    State(state): State<AppState>,
    AppPath(id): AppPath<ObjectId>,
    AppQuery(q): AppQuery<PageQuery>,
) -> ApiResult<AppJson<Page<VersionView>>> {
    let before = q
        .cursor
        .as_deref()
        .map(|c| {
            c.parse::<i64>()
                .map_err(|_| ApiError::field("cursor", "not a cursor from this list"))
        })
        .transpose()?;
    let limit = q.limit();
    let object = state.store.object(actor.tenant_id, D::KIND, id).await?;
    let versions = state
        .store
        .versions(actor.tenant_id, id, before, limit)
        .await?;
    let next_cursor = (versions.len() == limit as usize)
        .then(|| versions.last().map(|v| v.version.to_string()))
        .flatten();
    let items = versions
        .into_iter()
        .map(|v| VersionView {
            published_in: object
                .publications
                .iter()
                .filter(|p| p.version == v.version)
                .map(|p| p.environment.clone())
                .collect(),
            version: v.version,
            created_at: v.created_at,
            created_by: v.created_by,
            document: None,
        })
        .collect();
    Ok(AppJson(Page { items, next_cursor }))
}

pub async fn version<D: Document>(
    actor: AdminActor<ViewerRole>,
    State(state): State<AppState>,
    AppPath((id, n)): AppPath<(ObjectId, i64)>,
) -> ApiResult<AppJson<VersionView>> {
    let object = state.store.object(actor.tenant_id, D::KIND, id).await?;
    let v = state.store.version(actor.tenant_id, id, n).await?;
    Ok(AppJson(VersionView {
        published_in: object
            .publications
            .iter()
            .filter(|p| p.version == n)
            .map(|p| p.environment.clone())
            .collect(),
        version: v.version,
        created_at: v.created_at,
        created_by: v.created_by,
        document: Some(serde_json::from_str(&v.document).map_err(ApiError::internal)?),
    }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RollbackBody {
    #[schema(example = 1)]
    version: i64,
    #[schema(example = "production")]
    environment: Option<String>,
}

/// Re-publishes an earlier version to an environment.
pub async fn rollback<D: Document>(
    actor: AdminActor<EditorRole>,
    meta: RequestMeta,
    State(state): State<AppState>,
    AppPath(id): AppPath<ObjectId>,
    AppJson(body): AppJson<RollbackBody>,
) -> ApiResult<Response> {
    let env = environment(&state, &actor, body.environment.as_deref(), "environment").await?;
    gate(&state, &actor, &env).await?.direct_only(&env)?;
    let entry = audit(&actor, &meta, D::KIND, "rollback", id);
    let o = state
        .store
        .publish_version(actor.tenant_id, D::KIND, id, env.id, body.version, entry)
        .await
        .map_err(|e| match e {
            // The store tells a missing version (the caller's mistake: 422) from a
            // missing object (another tenant's or none: 404).
            spotlight_store::StoreError::NoSuchVersion => {
                ApiError::field("version", "no such version")
            }
            e => archived_conflict(e),
        })?;
    respond(StatusCode::OK, o)
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PromoteBody {
    from: Option<String>,
    to: Option<String>,
}

/// Publishes to `to` (default production) the version `from` (default staging) serves.
pub async fn promote<D: Document>(
    actor: AdminActor<EditorRole>,
    meta: RequestMeta,
    State(state): State<AppState>,
    AppPath(id): AppPath<ObjectId>,
    OptionalJson(body): OptionalJson<PromoteBody>,
) -> ApiResult<Response> {
    state.store.object(actor.tenant_id, D::KIND, id).await?;
    let from = environment(
        &state,
        &actor,
        Some(body.from.as_deref().unwrap_or("staging")),
        "from",
    )
    .await?;
    let to = environment(
        &state,
        &actor,
        Some(body.to.as_deref().unwrap_or("production")),
        "to",
    )
    .await?;
    if from.id == to.id {
        return Err(ApiError::field("to", "must differ from `from`"));
    }
    gate(&state, &actor, &to).await?.direct_only(&to)?;
    let Some(version) = state
        .store
        .published_version(actor.tenant_id, id, from.id)
        .await?
    else {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            format!("nothing is published to {} to promote", from.name),
        ));
    };
    let entry = audit(&actor, &meta, D::KIND, "promote", id);
    let o = state
        .store
        .publish_version(actor.tenant_id, D::KIND, id, to.id, version, entry)
        .await
        .map_err(archived_conflict)?;
    respond(StatusCode::OK, o)
}

pub async fn duplicate<D: Document>(
    actor: AdminActor<EditorRole>,
    meta: RequestMeta,
    State(state): State<AppState>,
    AppPath(id): AppPath<ObjectId>,
) -> ApiResult<Response> {
    let source = state.store.object(actor.tenant_id, D::KIND, id).await?;
    let mut doc: D = serde_json::from_str(&source.draft).map_err(ApiError::internal)?;
    let name: String = format!("{} (copy)", doc.name()).chars().take(200).collect();
    doc.set_name(name);
    let json = serde_json::to_string(&doc).map_err(ApiError::internal)?;
    let new_id = ObjectId::new_v7();
    let mut entry = audit(&actor, &meta, D::KIND, "duplicate", new_id);
    entry.before = Some(source.draft);
    entry.after = Some(json.clone());
    let o = state
        .store
        .create_object(actor.tenant_id, D::KIND, new_id, doc.name(), &json, entry)
        .await?;
    respond(StatusCode::CREATED, o)
}

async fn set_archived<D: Document>(
    actor: AdminActor<EditorRole>,
    meta: RequestMeta,
    state: AppState,
    id: ObjectId,
    archived: bool,
) -> ApiResult<Response> {
    let entry = audit(
        &actor,
        &meta,
        D::KIND,
        if archived { "archive" } else { "unarchive" },
        id,
    );
    let o = state
        .store
        .set_archived(actor.tenant_id, D::KIND, id, archived, entry)
        .await?;
    respond(StatusCode::OK, o)
}

pub async fn archive<D: Document>(
    actor: AdminActor<EditorRole>,
    meta: RequestMeta,
    State(state): State<AppState>,
    AppPath(id): AppPath<ObjectId>,
) -> ApiResult<Response> {
    set_archived::<D>(actor, meta, state, id, true).await
}

pub async fn unarchive<D: Document>(
    actor: AdminActor<EditorRole>,
    meta: RequestMeta,
    State(state): State<AppState>,
    AppPath(id): AppPath<ObjectId>,
) -> ApiResult<Response> {
    set_archived::<D>(actor, meta, state, id, false).await
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KillSwitchBody {
    enabled: bool,
}

pub async fn kill_switch<D: Document>(
    actor: AdminActor<EditorRole>,
    meta: RequestMeta,
    State(state): State<AppState>,
    AppPath(id): AppPath<ObjectId>,
    AppJson(body): AppJson<KillSwitchBody>,
) -> ApiResult<Response> {
    let entry = audit(&actor, &meta, D::KIND, "kill_switch", id);
    let o = state
        .store
        .set_kill_switch(actor.tenant_id, D::KIND, id, body.enabled, entry)
        .await?;
    respond(StatusCode::OK, o)
}
