//! Routes, one file per area; each reads top to bottom: extractor, store, domain,
//! response.

pub mod accounts;
pub mod admin_keys;
pub mod analytics;
pub mod audiences;
pub mod audit;
pub mod auth;
pub mod dashboard;
pub mod import;
pub mod members;
pub mod objects;
pub mod operator;
pub mod ops;
pub mod publishing;
pub mod sdk;
pub mod sdk_events;
pub mod sdk_script;
pub mod settings;
pub mod sso;
pub mod translations;
pub mod two_factor;
pub mod users;
pub mod webhooks;

use crate::auth::{AdminActor, RequestMeta, RoleNeeded};
use crate::error::ErrorCode as E;
use crate::openapi::ApiRouter;
use spotlight_domain::{audience_doc, content, tour};

/// The OpenAPI document of [`api`], built once.
pub fn document() -> &'static str {
    static DOC: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DOC.get_or_init(|| {
        api()
            .document()
            .to_json()
            .unwrap_or_else(|_| "{}".to_owned())
    })
}

/// Every API route, with what the document says of it beyond its handler's
/// signature (see [`crate::openapi`]). Pages and assets are in [`crate::router`].
pub fn api() -> ApiRouter {
    let key_in_query = utoipa::openapi::path::ParameterBuilder::new()
        .name("key")
        .parameter_in(utoipa::openapi::path::ParameterIn::Query)
        .description(Some("The publishable key, instead of the X-Spotlight-Key header (the SDK sends it here so its request needs no CORS preflight)."))
        .schema(Some(utoipa::openapi::schema::ObjectBuilder::new().schema_type(utoipa::openapi::schema::Type::String)))
        .build();
    ApiRouter::new()
        .tag("ops")
        .get("/healthz", ops::healthz, "Liveness")
        .answers_empty(200)
        .get(
            "/readyz",
            ops::readyz,
            "Readiness: store reachable and migrations current (503 otherwise)",
        )
        .answers_empty(200)
        .errors(&[E::Unavailable])
        .get("/metrics", ops::metrics, "Prometheus metrics")
        .answers_empty(200)
        .get("/openapi.json", ops::openapi, "This document")
        .answers_empty(200)
        .tag("sdk")
        .get(
            "/v1/sdk/ping",
            sdk::ping,
            "Installation check: is this key valid from this origin?",
        )
        .preflight(sdk::preflight)
        .get(
            "/v1/sdk/config",
            sdk::config,
            "What this end user should see on this page (strong ETag; If-None-Match answers 304)",
        )
        .answers::<sdk::ConfigBody<'static>>(200)
        .query_param(key_in_query)
        .query::<sdk::ConfigQuery>()
        .errors(&[E::Unavailable])
        .preflight(sdk::preflight)
        .post(
            "/v1/sdk/events",
            sdk_events::ingest,
            "Record a batch of at most 100 interaction events (202 once durable; resent event ids are not counted twice)",
        )
        .body::<sdk_events::EventBatch>()
        .answers::<sdk_events::IngestAnswer>(202)
        .errors(&[E::Unavailable])
        .preflight(sdk::preflight)
        .tag("events")
        .post(
            "/v1/admin/events",
            sdk_events::track,
            "Record a batch of at most 100 events from the tenant's backend (secret key): the SDK's schema and idempotency, for the users it names (202 once durable)",
        )
        .body::<sdk_events::EventBatch>()
        .answers::<sdk_events::IngestAnswer>(202)
        .errors(&[E::Unavailable])
        .tag("auth")
        .post(
            "/v1/auth/login",
            auth::login,
            "Log in to the dashboard (sets the session cookie)",
        )
        .answers::<auth::Me>(200)
        .errors(&[
            E::InvalidCredentials,
            E::TwoFactorRequired,
            E::InvalidTwoFactorCode,
            E::SsoRequired,
            E::RateLimited,
        ])
        .post("/v1/auth/logout", auth::logout, "End the session")
        .answers_empty(204)
        .session()
        .get(
            "/v1/auth/me",
            auth::me,
            "The session's account, tenant, role and CSRF token",
        )
        .session()
        .post(
            "/v1/auth/invitations/accept",
            auth::accept_invitation,
            "Accept an invitation: sign in as the invited address (or choose a password for a new one); sets the session cookie in the inviting tenant",
        )
        .answers::<auth::Me>(200)
        .errors(&[
            E::InvalidCredentials,
            E::TwoFactorRequired,
            E::InvalidTwoFactorCode,
            E::SsoRequired,
            E::NotFound,
            E::RateLimited,
        ])
        .get(
            "/v1/auth/two-factor",
            two_factor::status,
            "Whether the session's account signs in with a second factor, whether its tenant requires one, and how many recovery codes are left",
        )
        .session()
        .post(
            "/v1/auth/two-factor/setup",
            two_factor::setup,
            "Start two-factor sign-in: a new TOTP secret as an otpauth URI and a QR code, pending until confirmed",
        )
        .session()
        .errors(&[E::Conflict])
        .post(
            "/v1/auth/two-factor/enable",
            two_factor::enable,
            "Confirm the pending secret with a current code; answers recovery codes (shown once)",
        )
        .session()
        .errors(&[E::InvalidTwoFactorCode, E::Conflict, E::RateLimited])
        .post(
            "/v1/auth/two-factor/recovery-codes",
            two_factor::recovery_codes,
            "New recovery codes for a current code (the old ones stop working)",
        )
        .session()
        .errors(&[E::InvalidTwoFactorCode, E::Conflict, E::RateLimited])
        .post(
            "/v1/auth/two-factor/disable",
            two_factor::disable,
            "Turn two-factor sign-in off, with the password and a code (not while the tenant requires it)",
        )
        .answers_empty(204)
        .session()
        .errors(&[E::InvalidCredentials, E::InvalidTwoFactorCode, E::Conflict, E::RateLimited])
        .get(
            "/v1/auth/sso/{tenant_id}/start",
            sso::start,
            "Start signing in through the tenant's OpenID Connect provider: 303 to the provider (code flow with PKCE, state and nonce)",
        )
        .answers_empty(303)
        .query::<sso::StartQuery>()
        .errors(&[E::NotFound, E::RateLimited, E::IdentityProviderUnavailable])
        .get(
            "/v1/auth/sso/{tenant_id}/callback",
            sso::callback,
            "Where the provider sends the browser back: the ID token verified, the membership made or updated from the groups, a session opened; 303 to the dashboard (a browser that fails is sent to the sign-in page with the reason)",
        )
        .answers_empty(303)
        .query::<sso::CallbackQuery>()
        .errors(&[
            E::BadRequest,
            E::SsoFailed,
            E::Forbidden,
            E::Conflict,
            E::NotFound,
            E::IdentityProviderUnavailable,
        ])
        .tag("operator")
        .post(
            "/v1/operator/tenants",
            operator::create_tenant,
            "Create a tenant with its environments and keys (shown once)",
        )
        .get("/v1/operator/tenants", operator::list_tenants, "List tenants")
        .get("/v1/operator/tenants/{id}", operator::get_tenant, "A tenant")
        .get(
            "/v1/operator/usage",
            operator::usage,
            "Usage per tenant and environment over a range of days: config requests, events, deliveries, monthly active users, stored bytes",
        )
        .tag("keys")
        .get(
            "/v1/admin/keys",
            admin_keys::list,
            "List API keys (never their secrets)",
        )
        .post(
            "/v1/admin/keys",
            admin_keys::create,
            "Create a key; its secret is in this response only",
        )
        .post(
            "/v1/admin/keys/{id}/rotate",
            admin_keys::rotate,
            "Replace a key, the old one valid for a grace period",
        )
        .post(
            "/v1/admin/keys/{id}/revoke",
            admin_keys::revoke,
            "Revoke a key at once",
        )
        .tag("audit")
        .get(
            "/v1/admin/audit",
            audit::list,
            "The audit log, newest first; format=csv|json exports",
        )
        .answers_page::<audit::AuditView>()
        .tag("translations")
        .get(
            "/v1/admin/translations",
            translations::export,
            "Every translatable string of tours, announcements and checklists (all, ?ids=, or what ?environment= serves) for a locale, as JSON keyed by stable ids or as XLIFF 2.0 (format=xliff), with its source text and draft revision",
        )
        .answers::<translations::TranslationFile>(200)
        .query::<translations::ExportQuery>()
        .post(
            "/v1/admin/translations",
            translations::import,
            "Import translations (application/json as exported, or application/xliff+xml): each string checked (unknown, stale, unsafe HTML sanitised) and reported; each object's accepted strings become one new draft revision",
        )
        .body_text(&["application/json", "application/xliff+xml"])
        .answers::<translations::TranslationReport>(200)
        .errors(&[E::UnsupportedMediaType, E::PayloadTooLarge])
        .tag("publish-requests")
        .get(
            "/v1/admin/publish-requests",
            publishing::list,
            "Publish requests, newest first (?status=pending for the approval queue), each pending one with its diff against what is live",
        )
        .answers_page::<publishing::PublishRequestView>()
        .query::<publishing::ListQuery>()
        .get(
            "/v1/admin/publish-requests/{id}",
            publishing::get_one,
            "One publish request, with its diff while pending",
        )
        .post(
            "/v1/admin/publish-requests/{id}/approve",
            publishing::approve,
            "Approve: publishes the requested revision (an admin or owner other than the requester; 409 if the draft changed since)",
        )
        .errors(&[E::Conflict])
        .post(
            "/v1/admin/publish-requests/{id}/reject",
            publishing::reject,
            "Reject with a comment (an admin or owner other than the requester)",
        )
        .errors(&[E::Conflict])
        .tag("analytics")
        .get(
            "/v1/admin/analytics/overview",
            analytics::overview,
            "Tenant overview: active and new end users, events, tour starts and completions, top tours, trend (format=csv exports the series)",
        )
        .answers::<spotlight_domain::analytics::report::Overview>(200)
        .get(
            "/v1/admin/analytics/tours/{id}",
            analytics::tour,
            "One tour: starts, completions, dismissals, completion rate, median time to complete, step funnel with drop-off, series (format=csv, table=funnel|series)",
        )
        .answers::<spotlight_domain::analytics::report::TourStats>(200)
        .get(
            "/v1/admin/analytics/content/{id}",
            analytics::content,
            "One announcement: views, unique viewers, clicks, dismissals, click rate, series (format=csv)",
        )
        .answers::<spotlight_domain::analytics::report::ContentStats>(200)
        .get(
            "/v1/admin/analytics/checklists/{id}",
            analytics::checklist,
            "One checklist: users, completions, completion per item (format=csv)",
        )
        .answers::<spotlight_domain::analytics::report::ChecklistStats>(200)
        .get(
            "/v1/admin/analytics/surveys/{id}",
            analytics::survey,
            "A tour's survey steps: responses, answer distribution, NPS, average, free-text answers (format=csv)",
        )
        .answers::<spotlight_domain::analytics::report::SurveyStats>(200)
        .get(
            "/v1/admin/analytics/surveys/{id}/responses",
            analytics::survey_responses,
            "A tour's survey answers one by one, newest first: user, step, question, answer (limit, cursor; format=csv exports them all)",
        )
        .answers::<spotlight_domain::analytics::report::SurveyResponses>(200)
        .get(
            "/v1/admin/analytics/experiments/{id}",
            analytics::experiment,
            "A tour's or announcement's experiment: exposure and goal conversion per arm with 95% intervals and lift over control (format=csv)",
        )
        .answers::<spotlight_domain::analytics::report::ExperimentStats>(200)
        .tag("audiences")
        .post(
            "/v1/admin/audiences/matches",
            audiences::matches,
            "How many end users of an environment a rule matches now (up to 100,000 profiles read), with a few of their ids",
        )
        .tag("users")
        .get(
            "/v1/admin/users/{user_id}",
            users::get,
            "One end user: profile, attributes, progress and event counts in an environment",
        )
        .put(
            "/v1/admin/users/{user_id}",
            users::put,
            "Set or remove some of an end user's attributes from the tenant's backend (creates the profile; the latest write of an attribute wins, a verified token's claims win over all)",
        )
        .delete(
            "/v1/admin/users/{user_id}",
            users::erase,
            "Erase one person in every environment: profile, attributes, progress, event counts, raw events and survey answers, their events in stored deliveries; unique-user rollups, experiment arms and monthly actives keep their counts under a token; sinks get a `user.erased` event; events from before the erasure that still arrive (an SDK's stored queue, a request in flight) are dropped for 30 days (audited by a digest of the id)",
        )
        .post(
            import::PATH,
            import::import_users,
            "Set attributes of many end users from the tenant's backend: NDJSON (`{\"user_id\": …, \"attributes\": {…}}` per line) or CSV (a `user_id` column, one per attribute), up to 1,000,000 rows and 512 MiB, read as it arrives; bad rows are reported by line and skipped, the valid ones kept",
        )
        .body_text(&["application/x-ndjson", "text/csv"])
        .schema::<import::ImportFormat>()
        .errors(&[E::PayloadTooLarge])
        .get(
            "/v1/admin/users/{user_id}/export",
            users::export,
            "Everything stored about one person, in every environment: profile, attributes, progress, event counts, raw events, survey answers, experiment arms and the deliveries that carried their events (a data-subject access request; audited by a digest of the id)",
        )
        .post(
            import::ACCOUNTS_PATH,
            import::import_accounts,
            "Set attributes of many B2B accounts from the tenant's backend: NDJSON (`{\"account_id\": …, \"attributes\": {…}}` per line) or CSV (an `account_id` column, one per attribute), up to 1,000,000 rows and 512 MiB, read as it arrives; bad rows are reported by line and skipped, the valid ones kept",
        )
        .body_text(&["application/x-ndjson", "text/csv"])
        .errors(&[E::PayloadTooLarge])
        .get(
            "/v1/admin/accounts",
            accounts::list,
            "An environment's B2B accounts by id (optionally those whose id starts with `q`), with their attributes and member counts",
        )
        .get(
            "/v1/admin/accounts/{account_id}",
            accounts::get,
            "One B2B account (a company end users belong to) in an environment: attributes, its members' event counts, its members",
        )
        .put(
            "/v1/admin/accounts/{account_id}",
            accounts::put,
            "Set or remove some of an account's attributes from the tenant's backend (creates the account; the latest write of an attribute wins)",
        )
        .tag("settings")
        .get("/v1/admin/settings", settings::get, "Tenant settings")
        .schema::<spotlight_domain::settings::CompositeMode>()
        .patch("/v1/admin/settings", settings::patch, "Change some settings")
        .put(
            "/v1/admin/settings",
            settings::patch,
            "Change some settings (same as PATCH)",
        )
        .get(
            "/v1/admin/settings/identity-monitor",
            settings::identity_monitor,
            "Identity verification's monitor figures over recent hours: requests checked and how many enforcing would refuse, by reason (every node's)",
        )
        .get(
            "/v1/admin/sso",
            sso::get,
            "The tenant's single sign-on (OpenID Connect) settings, the redirect URI to register at the provider and the sign-in URL (never the client secret)",
        )
        .put(
            "/v1/admin/sso",
            sso::put,
            "Set up single sign-on (owners): the issuer must answer discovery; with required, password sign-in is refused but for the break-glass owner and the tenant's password sessions end",
        )
        .delete(
            "/v1/admin/sso",
            sso::delete,
            "Turn single sign-on off (owners)",
        )
        .tag("webhooks")
        .get(
            "/v1/admin/webhooks",
            webhooks::list,
            "List webhook endpoints (never their secrets)",
        )
        .post(
            "/v1/admin/webhooks",
            webhooks::create,
            "Create a webhook endpoint; the signing secret is in this answer only",
        )
        .get("/v1/admin/webhooks/{id}", webhooks::get, "One webhook endpoint")
        .patch(
            "/v1/admin/webhooks/{id}",
            webhooks::update,
            "Change a webhook endpoint (URL, environment, event filter, enabled)",
        )
        .delete(
            "/v1/admin/webhooks/{id}",
            webhooks::delete,
            "Delete a webhook endpoint (its waiting deliveries are discarded)",
        )
        .post(
            "/v1/admin/webhooks/{id}/rotate",
            webhooks::rotate,
            "New signing secret (shown once); the previous one also signs for 24 hours",
        )
        .post(
            "/v1/admin/webhooks/{id}/test",
            webhooks::test_send,
            "Send a signed test delivery now and report the endpoint's answer",
        )
        .get(
            "/v1/admin/webhooks/{id}/deliveries",
            webhooks::deliveries,
            "Delivery log: attempts at this endpoint in the last 30 days, newest first",
        )
        .tag("dead-letters")
        .get(
            "/v1/admin/dead-letters",
            webhooks::dead_letters,
            "Deliveries that ran out of attempts (kept 30 days), newest first",
        )
        .get(
            "/v1/admin/dead-letters/{id}",
            webhooks::dead_letter,
            "One dead letter with its payload",
        )
        .post(
            "/v1/admin/dead-letters/replay",
            webhooks::replay,
            "Queue dead letters again (same delivery ids, attempts reset): the listed ids, or all (of a sink)",
        )
        .post(
            "/v1/admin/dead-letters/discard",
            webhooks::discard,
            "Discard dead letters: the listed ids, or all (of a sink)",
        )
        .post(
            "/v1/admin/dead-letters/{id}/replay",
            webhooks::replay_one,
            "Queue one dead letter again",
        )
        .delete(
            "/v1/admin/dead-letters/{id}",
            webhooks::discard_one,
            "Discard one dead letter",
        )
        .tag("members")
        .get("/v1/admin/members", members::list, "Dashboard members")
        .post(
            "/v1/admin/members",
            members::add,
            "Invite an address with a role: the answer (the same whether or not the address has an account) holds the acceptance token and link, shown once",
        )
        .put(
            "/v1/admin/members/{account_id}",
            members::change,
            "Change a member's role",
        )
        .delete(
            "/v1/admin/members/{account_id}",
            members::remove,
            "Remove a member (never the last owner)",
        )
        .get(
            "/v1/admin/invitations",
            members::invitations,
            "Invitations waiting for an answer",
        )
        .delete(
            "/v1/admin/invitations/{id}",
            members::revoke_invitation,
            "Withdraw a pending invitation",
        )
        .merge(objects::routes::<tour::Tour>())
        .merge(objects::routes::<content::Content>())
        .merge(objects::routes::<content::Checklist>())
        .merge(objects::routes::<content::Launcher>())
        .merge(objects::routes::<audience_doc::Theme>())
        .merge(objects::routes::<audience_doc::Audience>())
}

use serde::{Deserialize, Serialize};
use spotlight_store::AuditEntry;

/// An audit entry for a change an admin caller is making.
/// An environment of the tenant by name; one that does not exist is a
/// validation error on `field` (422), a store that cannot answer a 503.
pub async fn environment_named(
    state: &crate::state::AppState,
    tenant: spotlight_domain::TenantId,
    name: &str,
    field: &str,
) -> crate::error::ApiResult<spotlight_store::Environment> {
    match state.store.environment_named(tenant, name).await {
        Ok(e) => Ok(e),
        Err(spotlight_store::StoreError::NotFound) => {
            Err(crate::error::ApiError::field(field, "no such environment"))
        }
        Err(e) => Err(e.into()),
    }
}

pub fn audit_entry<R: RoleNeeded>(
    actor: &AdminActor<R>,
    meta: &RequestMeta,
    action: &str,
    object_kind: &str,
    object_id: impl ToString,
) -> AuditEntry {
    AuditEntry {
        actor: actor.actor_label(),
        action: action.to_owned(),
        object_kind: object_kind.to_owned(),
        object_id: object_id.to_string(),
        ip: meta.ip.clone(),
        user_agent: meta.user_agent.clone(),
        ..AuditEntry::default()
    }
}

/// `?limit=&cursor=`: default 50, at most 100 whatever is asked.
#[derive(Debug, Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    /// Page size (default 50, at most 100 whatever is asked).
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl PageQuery {
    pub const DEFAULT: u32 = 50;
    pub const MAX: u32 = 100;
    pub fn limit(&self) -> u32 {
        self.limit.unwrap_or(Self::DEFAULT).clamp(1, Self::MAX)
    }
}

/// A page of `T` answers `{items, next_cursor}` (`KeyPage` for `KeyView`).
impl<T: utoipa::ToSchema> crate::openapi::Answers for crate::error::AppJson<Page<T>> {
    fn describe(op: &mut crate::openapi::Operation, schemas: &mut crate::openapi::Schemas) {
        op.answers(200, Some(schemas.page_of::<T>()));
    }
}

#[derive(Debug, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}
