//! `/v1/admin/keys`: list, create, rotate (with an optional grace period for the
//! old key) and revoke. Needs the `admin` role. A key's secret is in the response
//! that creates it and nowhere else.

use crate::auth::{AdminActor, AdminRole, RequestMeta};
use crate::error::{ApiError, ApiResult, AppJson, AppPath, AppQuery, OptionalJson};
use crate::openapi::Created;
use crate::routes::audit_entry;
use crate::routes::{Page, PageQuery};
use crate::state::AppState;
use crate::tenants::{new_key, KeyView};
use axum::extract::State;
use serde::{Deserialize, Serialize};
use spotlight_domain::{KeyId, KeyKind};

#[derive(Deserialize, utoipa::ToSchema, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListKeys {
    /// Only this environment's keys (by name).
    #[param(example = "production")]
    environment: Option<String>,
    /// Page size (default 50, at most 100).
    limit: Option<u32>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

pub async fn list(
    actor: AdminActor<AdminRole>,
    State(state): State<AppState>,
    AppQuery(q): AppQuery<ListKeys>,
) -> ApiResult<AppJson<Page<KeyView>>> {
    let env = match &q.environment {
        Some(name) => Some(
            crate::routes::environment_named(&state, actor.tenant_id, name, "environment")
                .await?
                .id,
        ),
        None => None,
    };
    let page = PageQuery {
        limit: q.limit,
        cursor: q.cursor,
    };
    let after = page
        .cursor
        .as_deref()
        .map(|c| {
            c.parse::<KeyId>()
                .map_err(|_| ApiError::field("cursor", "not a cursor from this list"))
        })
        .transpose()?;
    let limit = page.limit();
    let keys = state
        .store
        .list_keys(actor.tenant_id, env, after, limit)
        .await?;
    let next_cursor = (keys.len() == limit as usize)
        .then(|| keys.last().map(|k| k.id.to_string()))
        .flatten();
    let now = state.clock.now();
    Ok(AppJson(Page {
        items: keys.into_iter().map(|k| KeyView::of(k, now)).collect(),
        next_cursor,
    }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateKey {
    kind: KeyKind,
    #[schema(example = "staging")]
    environment: String,
    #[serde(default)]
    label: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CreatedKey {
    key: KeyView,
    /// The whole key. Shown once.
    secret: String,
}

fn check_label(label: &str) -> ApiResult<()> {
    if label.chars().count() > 100 || label.chars().any(char::is_control) {
        return Err(ApiError::field(
            "label",
            "at most 100 characters, no control characters",
        ));
    }
    Ok(())
}

pub async fn create(
    actor: AdminActor<AdminRole>,
    meta: RequestMeta,
    State(state): State<AppState>,
    AppJson(body): AppJson<CreateKey>,
) -> ApiResult<Created<CreatedKey>> {
    check_label(&body.label)?;
    let env =
        crate::routes::environment_named(&state, actor.tenant_id, &body.environment, "environment")
            .await?;
    let (plain, new) = new_key(body.kind, &body.label);
    let entry = audit_entry(&actor, &meta, "key.create", "key", new.id);
    let key = state
        .store
        .create_key(actor.tenant_id, env.id, new, entry)
        .await?;
    tracing::info!(key = %key.id, by = %actor.actor_label(), "key created");
    Ok(Created(CreatedKey {
        key: KeyView::of(key, state.clock.now()),
        secret: plain.expose().to_owned(),
    }))
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RotateKey {
    /// How long the old key keeps working; 0 (default) revokes it at once.
    #[serde(default)]
    grace_seconds: i64,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct RotatedKey {
    old: KeyView,
    key: KeyView,
    secret: String,
}

pub const MAX_GRACE_SECONDS: i64 = 30 * 24 * 3600;

pub async fn rotate(
    actor: AdminActor<AdminRole>,
    meta: RequestMeta,
    State(state): State<AppState>,
    AppPath(id): AppPath<KeyId>,
    OptionalJson(body): OptionalJson<RotateKey>,
) -> ApiResult<Created<RotatedKey>> {
    if !(0..=MAX_GRACE_SECONDS).contains(&body.grace_seconds) {
        return Err(ApiError::field(
            "grace_seconds",
            "must be between 0 and 2592000 (30 days)",
        ));
    }
    let current = state.store.key(actor.tenant_id, id).await?;
    let (plain, new) = new_key(current.kind, &current.label);
    let (old, key) = state
        .store
        .rotate_key(
            actor.tenant_id,
            id,
            new,
            body.grace_seconds,
            audit_entry(&actor, &meta, "key.rotate", "key", id),
        )
        .await?;
    tracing::info!(old = %old.id, new = %key.id, by = %actor.actor_label(), "key rotated");
    let now = state.clock.now();
    Ok(Created(RotatedKey {
        old: KeyView::of(old, now),
        key: KeyView::of(key, now),
        secret: plain.expose().to_owned(),
    }))
}

pub async fn revoke(
    actor: AdminActor<AdminRole>,
    meta: RequestMeta,
    State(state): State<AppState>,
    AppPath(id): AppPath<KeyId>,
) -> ApiResult<AppJson<KeyView>> {
    let entry = audit_entry(&actor, &meta, "key.revoke", "key", id);
    let key = state.store.revoke_key(actor.tenant_id, id, entry).await?;
    tracing::info!(key = %key.id, by = %actor.actor_label(), "key revoked");
    Ok(AppJson(KeyView::of(key, state.clock.now())))
}
