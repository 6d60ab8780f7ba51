//! Who may change what an environment serves, and publish approvals. Each
//! environment's policy (`settings.publishing`) names the least role that
//! publishes there and whether editors need approval. Under approval, an
//! editor's publish becomes a request for the draft's exact revision, shown
//! with its diff against what is live; an admin or owner other than the
//! requester approves it (publishing that revision) or rejects it with a
//! comment. A change to the draft voids it. All of it is audited.

use crate::auth::{AdminActor, AdminRole, Principal, RequestMeta, RoleNeeded, ViewerRole};
use crate::error::{ApiError, ApiResult, AppJson, AppPath, AppQuery, ErrorCode};
use crate::routes::audit::{diff, Change};
use crate::routes::{audit_entry, Page};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use spotlight_domain::settings::PublishPolicy;
use spotlight_domain::{ObjectId, ObjectKind, PublishRequestId, Role, Timestamp};
use spotlight_store::{Environment, NewPublishRequest, PublishRequest, StoreError};

/// What a change to an environment takes from this actor.
pub enum Gate {
    /// Made at once.
    Direct,
    /// A publish becomes a request for approval.
    Request,
}

async fn policy(
    state: &AppState,
    tenant: spotlight_domain::TenantId,
    env: &str,
) -> ApiResult<PublishPolicy> {
    Ok(state
        .caches
        .tenant(tenant)
        .await?
        .and_then(|t| t.settings.publishing.get(env).copied())
        .unwrap_or_default())
}

/// The environment's policy for this actor: 403 below its publish role.
pub async fn gate<R: RoleNeeded>(
    state: &AppState,
    actor: &AdminActor<R>,
    env: &Environment,
) -> ApiResult<Gate> {
    let p = policy(state, actor.tenant_id, &env.name).await?;
    if !actor.role.allows(p.publish_role) {
        return Err(ApiError::forbidden(format!(
            "publishing to {} needs the {} role; you have {}",
            env.name,
            p.publish_role.as_str(),
            actor.role.as_str()
        )));
    }
    Ok(if p.requires_approval && !actor.role.allows(Role::Admin) {
        Gate::Request
    } else {
        Gate::Direct
    })
}

impl Gate {
    /// For changes that cannot be requested (unpublish, roll back, promote).
    pub fn direct_only(self, env: &Environment) -> ApiResult<()> {
        match self {
            Gate::Direct => Ok(()),
            Gate::Request => Err(ApiError::forbidden(format!(
                "{} requires approval of editors' changes: publish the draft to ask an admin or owner",
                env.name
            ))),
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct PublishRequestView {
    id: PublishRequestId,
    kind: ObjectKind,
    object_id: ObjectId,
    object_name: String,
    environment: String,
    /// The draft revision approval publishes (and nothing else).
    revision: i64,
    /// `pending`, `approved`, `rejected` or `voided` (the draft changed).
    status: String,
    requested_by: String,
    requested_at: Timestamp,
    decided_by: Option<String>,
    decided_at: Option<Timestamp>,
    /// The approver's comment on a rejection.
    comment: Option<String>,
    /// The version approval published.
    version: Option<i64>,
    /// For a pending request: what approving it changes in the environment,
    /// leaf by leaf, against what it serves now.
    changes: Vec<Change>,
    /// The requested document.
    #[schema(value_type = Object)]
    document: Value,
}

async fn view(state: &AppState, r: PublishRequest) -> ApiResult<PublishRequestView> {
    let document: Value = serde_json::from_str(&r.document).map_err(ApiError::internal)?;
    let changes = if r.status == "pending" {
        let live = state
            .store
            .live_document(r.environment_id, r.object_id)
            .await?
            .map(|d| serde_json::from_str::<Value>(&d))
            .transpose()
            .map_err(ApiError::internal)?;
        diff(live.as_ref(), Some(&document))
    } else {
        Vec::new()
    };
    Ok(PublishRequestView {
        id: r.id,
        kind: r.kind,
        object_id: r.object_id,
        object_name: r.object_name,
        environment: r.environment,
        revision: r.revision,
        status: r.status,
        requested_by: r.requested_by,
        requested_at: r.created_at,
        decided_by: r.decided_by,
        decided_at: r.decided_at,
        comment: r.comment,
        version: r.version,
        changes,
        document,
    })
}

/// An editor's publish under approval: 202 with the request.
pub async fn request<R: RoleNeeded>(
    state: &AppState,
    actor: &AdminActor<R>,
    meta: &RequestMeta,
    kind: ObjectKind,
    object: ObjectId,
    env: &Environment,
) -> ApiResult<Response> {
    let id = PublishRequestId::new_v7();
    let entry = audit_entry(
        actor,
        meta,
        &format!("{}.publish_request", kind.as_str()),
        kind.as_str(),
        object,
    );
    let account = match &actor.principal {
        Principal::Member { account_id, .. } => Some(*account_id),
        Principal::Key { .. } => None,
    };
    let created = state
        .store
        .create_publish_request(
            NewPublishRequest {
                id,
                tenant_id: actor.tenant_id,
                kind,
                object_id: object,
                environment_id: env.id,
                requested_by: actor.actor_label(),
                requested_by_account: account,
            },
            entry,
        )
        .await
        .map_err(conflict)?;
    tracing::info!(object = %object, environment = %env.name, request = %id, "publish requested");
    Ok((StatusCode::ACCEPTED, AppJson(view(state, created).await?)).into_response())
}

fn conflict(e: StoreError) -> ApiError {
    match e {
        StoreError::Conflict(c) if c == "not_pending" => ApiError::new(
            ErrorCode::Conflict,
            "this request was already decided, or voided by a change to the draft",
        ),
        StoreError::Conflict(c) if c == "stale" => ApiError::new(
            ErrorCode::Conflict,
            "the draft changed after this request, so it is void; publish again to ask for the new revision",
        ),
        StoreError::Conflict(c) if c == "archived" => ApiError::new(
            ErrorCode::Conflict,
            "archived objects cannot be published; unarchive it first",
        ),
        e => e.into(),
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// `pending`, `approved`, `rejected` or `voided` (all when absent).
    status: Option<String>,
    /// Page size (default 50, at most 100 whatever is asked).
    limit: Option<u32>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

const STATUSES: [&str; 4] = ["pending", "approved", "rejected", "voided"];

/// `GET /v1/admin/publish-requests`
pub async fn list(
    actor: AdminActor<ViewerRole>,
    State(state): State<AppState>,
    AppQuery(q): AppQuery<ListQuery>,
) -> ApiResult<AppJson<Page<PublishRequestView>>> {
    if q.status.as_deref().is_some_and(|s| !STATUSES.contains(&s)) {
        return Err(ApiError::field(
            "status",
            "must be pending, approved, rejected or voided",
        ));
    }
    let before = q
        .cursor
        .as_deref()
        .map(|c| {
            c.parse::<PublishRequestId>()
                .map_err(|_| ApiError::field("cursor", "not a cursor from this list"))
        })
        .transpose()?;
    let limit = crate::routes::PageQuery {
        limit: q.limit,
        cursor: None,
    }
    .limit();
    let rows = state
        .store
        .publish_requests(actor.tenant_id, q.status.as_deref(), before, limit)
        .await?;
    let next_cursor = (rows.len() == limit as usize)
        .then(|| rows.last().map(|r| r.id.to_string()))
        .flatten();
    let mut items = Vec::with_capacity(rows.len());
    for r in rows {
        items.push(view(&state, r).await?);
    }
    Ok(AppJson(Page { items, next_cursor }))
}

/// `GET /v1/admin/publish-requests/{id}`
pub async fn get_one(
    actor: AdminActor<ViewerRole>,
    State(state): State<AppState>,
    AppPath(id): AppPath<PublishRequestId>,
) -> ApiResult<AppJson<PublishRequestView>> {
    let r = state.store.publish_request(actor.tenant_id, id).await?;
    Ok(AppJson(view(&state, r).await?))
}

/// The deciding member: signed in (a key is nobody), other than the requester,
/// and allowed to publish to the request's environment.
async fn decider(
    state: &AppState,
    actor: &AdminActor<AdminRole>,
    r: &PublishRequest,
) -> ApiResult<()> {
    let Principal::Member { account_id, .. } = &actor.principal else {
        return Err(ApiError::forbidden(
            "requests are decided by a signed-in admin or owner, not with an API key",
        ));
    };
    if r.requested_by_account == Some(*account_id) {
        return Err(ApiError::forbidden(
            "you cannot decide your own request: another admin or owner must",
        ));
    }
    let p = policy(state, actor.tenant_id, &r.environment).await?;
    if !actor.role.allows(p.publish_role) {
        return Err(ApiError::forbidden(format!(
            "publishing to {} needs the {} role",
            r.environment,
            p.publish_role.as_str()
        )));
    }
    Ok(())
}

/// `POST /v1/admin/publish-requests/{id}/approve`: publishes the requested
/// revision (409 if the draft has changed since: the request is void).
pub async fn approve(
    actor: AdminActor<AdminRole>,
    meta: RequestMeta,
    State(state): State<AppState>,
    AppPath(id): AppPath<PublishRequestId>,
) -> ApiResult<AppJson<PublishRequestView>> {
    let r = state.store.publish_request(actor.tenant_id, id).await?;
    decider(&state, &actor, &r).await?;
    let entry = audit_entry(
        &actor,
        &meta,
        &format!("{}.publish_approve", r.kind.as_str()),
        r.kind.as_str(),
        r.object_id,
    );
    let (decided, _) = state
        .store
        .approve_publish_request(actor.tenant_id, id, entry)
        .await
        .map_err(conflict)?;
    tracing::info!(request = %id, version = ?decided.version, "publish approved");
    Ok(AppJson(view(&state, decided).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RejectBody {
    /// Why, for the requester (1 to 2,000 characters).
    comment: String,
}

/// `POST /v1/admin/publish-requests/{id}/reject`
pub async fn reject(
    actor: AdminActor<AdminRole>,
    meta: RequestMeta,
    State(state): State<AppState>,
    AppPath(id): AppPath<PublishRequestId>,
    AppJson(body): AppJson<RejectBody>,
) -> ApiResult<AppJson<PublishRequestView>> {
    let comment = body.comment.trim();
    if comment.is_empty() || comment.chars().count() > 2000 || comment.contains('\0') {
        return Err(ApiError::field("comment", "must be 1 to 2000 characters"));
    }
    let r = state.store.publish_request(actor.tenant_id, id).await?;
    decider(&state, &actor, &r).await?;
    let entry = audit_entry(
        &actor,
        &meta,
        &format!("{}.publish_reject", r.kind.as_str()),
        r.kind.as_str(),
        r.object_id,
    );
    let decided = state
        .store
        .reject_publish_request(actor.tenant_id, id, comment, entry)
        .await
        .map_err(conflict)?;
    Ok(AppJson(view(&state, decided).await?))
}
