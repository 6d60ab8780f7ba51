//! `/openapi.json`: the whole SDK, auth, admin, operator and ops API, built from
//! the wire types' schemas (derived from the code) and one table of operations.
//! The generic object routes are expanded for every kind. A test checks every
//! route the server answers is listed here.

use crate::error::ErrorCode;
use crate::routes;
use spotlight_domain::{audience_doc, content, settings, tour, ObjectKind};
use std::sync::OnceLock;
use utoipa::openapi::path::{
    HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn, PathItemBuilder,
};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Type};
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
};
use utoipa::openapi::{
    ComponentsBuilder, ContentBuilder, InfoBuilder, OpenApi, OpenApiBuilder, PathsBuilder, Ref,
    RefOr, ResponseBuilder, Schema,
};
use utoipa::ToSchema;

#[derive(Clone, Copy)]
enum Auth {
    None,
    Sdk,
    /// Secret key or session, with the least role.
    Admin(&'static str),
    Session,
    Operator,
}

struct Op {
    method: HttpMethod,
    path: String,
    tag: &'static str,
    summary: String,
    auth: Auth,
    request: Option<String>,
    /// Status and response schema (None: no body).
    response: (u16, Option<String>),
    errors: &'static [ErrorCode],
}

// One row of the operations table: positional on purpose, so rows read as a table.
#[allow(clippy::too_many_arguments)]
fn op(
    method: HttpMethod,
    path: impl Into<String>,
    tag: &'static str,
    summary: impl Into<String>,
    auth: Auth,
    request: Option<&str>,
    response: (u16, Option<&str>),
    errors: &'static [ErrorCode],
) -> Op {
    Op {
        method,
        path: path.into(),
        tag,
        summary: summary.into(),
        auth,
        request: request.map(str::to_owned),
        response: (response.0, response.1.map(str::to_owned)),
        errors,
    }
}

use ErrorCode as E;
const READ: &[ErrorCode] = &[
    E::Unauthenticated,
    E::Forbidden,
    E::NotFound,
    E::RateLimited,
];
const WRITE: &[ErrorCode] = &[
    E::InvalidJson,
    E::Unauthenticated,
    E::Forbidden,
    E::CsrfFailed,
    E::NotFound,
    E::Conflict,
    E::PayloadTooLarge,
    E::UnsupportedMediaType,
    E::ValidationFailed,
    E::RateLimited,
];
const UPDATE: &[ErrorCode] = &[
    E::InvalidJson,
    E::Unauthenticated,
    E::Forbidden,
    E::CsrfFailed,
    E::NotFound,
    E::PreconditionFailed,
    E::PayloadTooLarge,
    E::ValidationFailed,
    E::RateLimited,
];
const LIST: &[ErrorCode] = &[
    E::InvalidQuery,
    E::Unauthenticated,
    E::Forbidden,
    E::ValidationFailed,
    E::RateLimited,
];

fn doc_schema(kind: ObjectKind) -> &'static str {
    match kind {
        ObjectKind::Tour => "Tour",
        ObjectKind::Content => "Content",
        ObjectKind::Checklist => "Checklist",
        ObjectKind::Launcher => "Launcher",
        ObjectKind::Theme => "Theme",
        ObjectKind::Audience => "Audience",
    }
}

fn operations() -> Vec<Op> {
    use HttpMethod::*;
    let mut ops = vec![
        op(
            Get,
            "/healthz",
            "ops",
            "Liveness",
            Auth::None,
            None,
            (200, None),
            &[],
        ),
        op(
            Get,
            "/readyz",
            "ops",
            "Readiness: store reachable and migrations current (503 otherwise)",
            Auth::None,
            None,
            (200, None),
            &[E::Unavailable],
        ),
        op(
            Get,
            "/metrics",
            "ops",
            "Prometheus metrics",
            Auth::None,
            None,
            (200, None),
            &[],
        ),
        op(
            Get,
            "/openapi.json",
            "ops",
            "This document",
            Auth::None,
            None,
            (200, None),
            &[],
        ),
        op(
            Get,
            "/v1/sdk/ping",
            "sdk",
            "Installation check: is this key valid from this origin?",
            Auth::Sdk,
            None,
            (200, Some("Ping")),
            &[E::Unauthenticated, E::OriginNotAllowed],
        ),
        op(
            Get,
            "/v1/sdk/config",
            "sdk",
            "What this end user should see on this page (strong ETag; If-None-Match answers 304)",
            Auth::Sdk,
            None,
            (200, Some("SdkConfig")),
            &[
                E::InvalidQuery,
                E::ValidationFailed,
                E::Unauthenticated,
                E::OriginNotAllowed,
                E::RateLimited,
                E::Unavailable,
            ],
        ),
        op(
            Post,
            "/v1/sdk/events",
            "sdk",
            "Record a batch of at most 100 interaction events (202 once durable; resent event ids are not counted twice)",
            Auth::Sdk,
            Some("EventBatch"),
            (202, Some("IngestAnswer")),
            &[
                E::InvalidJson,
                E::ValidationFailed,
                E::Unauthenticated,
                E::OriginNotAllowed,
                E::PayloadTooLarge,
                E::RateLimited,
                E::Unavailable,
            ],
        ),
        op(
            Post,
            "/v1/auth/login",
            "auth",
            "Log in to the dashboard (sets the session cookie)",
            Auth::None,
            Some("LoginRequest"),
            (200, Some("Me")),
            &[
                E::InvalidJson,
                E::InvalidCredentials,
                E::ValidationFailed,
                E::RateLimited,
            ],
        ),
        op(
            Post,
            "/v1/auth/logout",
            "auth",
            "End the session",
            Auth::Session,
            None,
            (204, None),
            &[E::Unauthenticated, E::CsrfFailed],
        ),
        op(
            Get,
            "/v1/auth/me",
            "auth",
            "The session's account, tenant, role and CSRF token",
            Auth::Session,
            None,
            (200, Some("Me")),
            &[E::Unauthenticated],
        ),
        op(
            Post,
            "/v1/operator/tenants",
            "operator",
            "Create a tenant with its environments and keys (shown once)",
            Auth::Operator,
            Some("CreateTenant"),
            (201, Some("ProvisionedTenant")),
            &[E::InvalidJson, E::Unauthenticated, E::ValidationFailed],
        ),
        op(
            Get,
            "/v1/operator/tenants",
            "operator",
            "List tenants",
            Auth::Operator,
            None,
            (200, Some("TenantPage")),
            &[E::Unauthenticated, E::ValidationFailed],
        ),
        op(
            Get,
            "/v1/operator/tenants/{id}",
            "operator",
            "A tenant",
            Auth::Operator,
            None,
            (200, Some("TenantView")),
            &[E::Unauthenticated, E::NotFound],
        ),
        op(
            Get,
            "/v1/operator/usage",
            "operator",
            "Usage per tenant and environment over a range of days: config requests, events, deliveries, monthly active users, stored bytes",
            Auth::Operator,
            None,
            (200, Some("UsageReport")),
            &[E::Unauthenticated, E::ValidationFailed],
        ),
        op(
            Get,
            "/v1/admin/keys",
            "keys",
            "List API keys (never their secrets)",
            Auth::Admin("admin"),
            None,
            (200, Some("KeyPage")),
            LIST,
        ),
        op(
            Post,
            "/v1/admin/keys",
            "keys",
            "Create a key; its secret is in this response only",
            Auth::Admin("admin"),
            Some("CreateKey"),
            (201, Some("CreatedKey")),
            WRITE,
        ),
        op(
            Post,
            "/v1/admin/keys/{id}/rotate",
            "keys",
            "Replace a key, the old one valid for a grace period",
            Auth::Admin("admin"),
            Some("RotateKey"),
            (201, Some("RotatedKey")),
            WRITE,
        ),
        op(
            Post,
            "/v1/admin/keys/{id}/revoke",
            "keys",
            "Revoke a key at once",
            Auth::Admin("admin"),
            None,
            (200, Some("KeyView")),
            WRITE,
        ),
        op(
            Get,
            "/v1/admin/audit",
            "audit",
            "The audit log, newest first; format=csv|json exports",
            Auth::Admin("admin"),
            None,
            (200, Some("AuditPage")),
            LIST,
        ),
        op(
            Get,
            "/v1/admin/analytics/overview",
            "analytics",
            "Tenant overview: active and new end users, events, tour starts and completions, top tours, trend (format=csv exports the series)",
            Auth::Admin("viewer"),
            None,
            (200, Some("Overview")),
            LIST,
        ),
        op(
            Get,
            "/v1/admin/analytics/tours/{id}",
            "analytics",
            "One tour: starts, completions, dismissals, completion rate, median time to complete, step funnel with drop-off, series (format=csv, table=funnel|series)",
            Auth::Admin("viewer"),
            None,
            (200, Some("TourStats")),
            LIST,
        ),
        op(
            Get,
            "/v1/admin/analytics/content/{id}",
            "analytics",
            "One announcement: views, unique viewers, clicks, dismissals, click rate, series (format=csv)",
            Auth::Admin("viewer"),
            None,
            (200, Some("ContentStats")),
            LIST,
        ),
        op(
            Get,
            "/v1/admin/analytics/checklists/{id}",
            "analytics",
            "One checklist: users, completions, completion per item (format=csv)",
            Auth::Admin("viewer"),
            None,
            (200, Some("ChecklistStats")),
            LIST,
        ),
        op(
            Get,
            "/v1/admin/analytics/surveys/{id}",
            "analytics",
            "A tour's survey steps: responses, answer distribution, NPS, average, free-text answers (format=csv)",
            Auth::Admin("viewer"),
            None,
            (200, Some("SurveyStats")),
            LIST,
        ),
        op(
            Get,
            "/v1/admin/analytics/surveys/{id}/responses",
            "analytics",
            "A tour's survey answers one by one, newest first: user, step, question, answer (limit, cursor; format=csv exports them all)",
            Auth::Admin("viewer"),
            None,
            (200, Some("SurveyResponses")),
            LIST,
        ),
        op(
            Post,
            "/v1/admin/audiences/matches",
            "audiences",
            "How many end users of an environment a rule matches now (up to 100,000 profiles read), with a few of their ids",
            Auth::Admin("viewer"),
            Some("MatchRequest"),
            (200, Some("MatchView")),
            WRITE,
        ),
        op(
            Get,
            "/v1/admin/settings/identity-monitor",
            "settings",
            "Identity verification's monitor figures over recent hours: requests checked and how many enforcing would refuse, by reason (every node's)",
            Auth::Admin("admin"),
            None,
            (200, Some("MonitorView")),
            LIST,
        ),
        op(
            Get,
            "/v1/admin/analytics/experiments/{id}",
            "analytics",
            "A tour's or announcement's experiment: exposure and goal conversion per arm with 95% intervals and lift over control (format=csv)",
            Auth::Admin("viewer"),
            None,
            (200, Some("ExperimentStats")),
            LIST,
        ),
        op(
            Get,
            "/v1/admin/webhooks",
            "webhooks",
            "List webhook endpoints (never their secrets)",
            Auth::Admin("viewer"),
            None,
            (200, Some("WebhookPage")),
            LIST,
        ),
        op(
            Post,
            "/v1/admin/webhooks",
            "webhooks",
            "Create a webhook endpoint; the signing secret is in this answer only",
            Auth::Admin("admin"),
            Some("WebhookBody"),
            (201, Some("CreatedWebhook")),
            WRITE,
        ),
        op(
            Get,
            "/v1/admin/webhooks/{id}",
            "webhooks",
            "One webhook endpoint",
            Auth::Admin("viewer"),
            None,
            (200, Some("WebhookView")),
            READ,
        ),
        op(
            Patch,
            "/v1/admin/webhooks/{id}",
            "webhooks",
            "Change a webhook endpoint (URL, environment, event filter, enabled)",
            Auth::Admin("admin"),
            Some("WebhookBody"),
            (200, Some("WebhookView")),
            WRITE,
        ),
        op(
            Delete,
            "/v1/admin/webhooks/{id}",
            "webhooks",
            "Delete a webhook endpoint (its waiting deliveries are discarded)",
            Auth::Admin("admin"),
            None,
            (204, None),
            WRITE,
        ),
        op(
            Post,
            "/v1/admin/webhooks/{id}/rotate",
            "webhooks",
            "New signing secret (shown once); the previous one also signs for 24 hours",
            Auth::Admin("admin"),
            None,
            (200, Some("RotatedSecret")),
            WRITE,
        ),
        op(
            Post,
            "/v1/admin/webhooks/{id}/test",
            "webhooks",
            "Send a signed test delivery now and report the endpoint's answer",
            Auth::Admin("admin"),
            None,
            (200, Some("TestResult")),
            WRITE,
        ),
        op(
            Get,
            "/v1/admin/webhooks/{id}/deliveries",
            "webhooks",
            "Delivery log: attempts at this endpoint in the last 30 days, newest first",
            Auth::Admin("viewer"),
            None,
            (200, Some("AttemptPage")),
            LIST,
        ),
        op(
            Get,
            "/v1/admin/dead-letters",
            "dead-letters",
            "Deliveries that ran out of attempts (kept 30 days), newest first",
            Auth::Admin("viewer"),
            None,
            (200, Some("DeadLetterPage")),
            LIST,
        ),
        op(
            Get,
            "/v1/admin/dead-letters/{id}",
            "dead-letters",
            "One dead letter with its payload",
            Auth::Admin("viewer"),
            None,
            (200, Some("DeadLetterView")),
            READ,
        ),
        op(
            Post,
            "/v1/admin/dead-letters/replay",
            "dead-letters",
            "Queue dead letters again (same delivery ids, attempts reset): the listed ids, or all (of a sink)",
            Auth::Admin("admin"),
            Some("SettleBody"),
            (200, Some("Settled")),
            WRITE,
        ),
        op(
            Post,
            "/v1/admin/dead-letters/discard",
            "dead-letters",
            "Discard dead letters: the listed ids, or all (of a sink)",
            Auth::Admin("admin"),
            Some("SettleBody"),
            (200, Some("Settled")),
            WRITE,
        ),
        op(
            Post,
            "/v1/admin/dead-letters/{id}/replay",
            "dead-letters",
            "Queue one dead letter again",
            Auth::Admin("admin"),
            None,
            (200, Some("Settled")),
            WRITE,
        ),
        op(
            Delete,
            "/v1/admin/dead-letters/{id}",
            "dead-letters",
            "Discard one dead letter",
            Auth::Admin("admin"),
            None,
            (204, None),
            WRITE,
        ),
        op(
            Get,
            "/v1/admin/users/{user_id}",
            "users",
            "One end user: profile, attributes, progress and event counts in an environment",
            Auth::Admin("viewer"),
            None,
            (200, Some("EndUserView")),
            READ,
        ),
        op(
            Get,
            "/v1/admin/settings",
            "settings",
            "Tenant settings",
            Auth::Admin("admin"),
            None,
            (200, Some("SettingsView")),
            READ,
        ),
        op(
            Patch,
            "/v1/admin/settings",
            "settings",
            "Change some settings",
            Auth::Admin("admin"),
            Some("SettingsPatch"),
            (200, Some("SettingsView")),
            WRITE,
        ),
        op(
            Put,
            "/v1/admin/settings",
            "settings",
            "Change some settings (same as PATCH)",
            Auth::Admin("admin"),
            Some("SettingsPatch"),
            (200, Some("SettingsView")),
            WRITE,
        ),
        op(
            Get,
            "/v1/admin/members",
            "members",
            "Dashboard members",
            Auth::Admin("admin"),
            None,
            (200, Some("MemberPage")),
            READ,
        ),
        op(
            Post,
            "/v1/admin/members",
            "members",
            "Invite an address with a role: the answer (the same whether or not the address has an account) holds the acceptance token and link, shown once",
            Auth::Admin("owner"),
            Some("AddMember"),
            (201, Some("Invited")),
            WRITE,
        ),
        op(
            Get,
            "/v1/admin/invitations",
            "members",
            "Invitations waiting for an answer",
            Auth::Admin("owner"),
            None,
            (200, Some("InvitationPage")),
            READ,
        ),
        op(
            Delete,
            "/v1/admin/invitations/{id}",
            "members",
            "Withdraw a pending invitation",
            Auth::Admin("owner"),
            None,
            (204, None),
            WRITE,
        ),
        op(
            Post,
            "/v1/auth/invitations/accept",
            "auth",
            "Accept an invitation: sign in as the invited address (or choose a password for a new one); sets the session cookie in the inviting tenant",
            Auth::None,
            Some("AcceptInvitation"),
            (200, Some("Me")),
            &[
                E::InvalidJson,
                E::InvalidCredentials,
                E::NotFound,
                E::ValidationFailed,
                E::RateLimited,
            ],
        ),
        op(
            Put,
            "/v1/admin/members/{account_id}",
            "members",
            "Change a member's role",
            Auth::Admin("owner"),
            Some("ChangeRole"),
            (200, Some("MemberView")),
            WRITE,
        ),
        op(
            Delete,
            "/v1/admin/members/{account_id}",
            "members",
            "Remove a member (never the last owner)",
            Auth::Admin("owner"),
            None,
            (204, None),
            WRITE,
        ),
    ];
    for kind in ObjectKind::ALL {
        let c = kind.collection();
        let doc = doc_schema(kind);
        let base = format!("/v1/admin/{c}");
        let one = format!("{base}/{{id}}");
        let k = kind.as_str();
        let a = if k.starts_with(['a', 'e', 'i', 'o', 'u']) {
            "an"
        } else {
            "a"
        };
        let ed = Auth::Admin("editor");
        let vw = Auth::Admin("viewer");
        ops.extend([
            op(
                Get,
                base.clone(),
                c,
                format!("List {c} (cursor, status, q, ids)"),
                vw,
                None,
                (200, Some("ObjectPage")),
                LIST,
            ),
            op(
                Post,
                base.clone(),
                c,
                format!("Create {a} {k} draft"),
                ed,
                Some(doc),
                (201, Some("ObjectView")),
                WRITE,
            ),
            op(
                Get,
                one.clone(),
                c,
                format!("One {k}, with its ETag"),
                vw,
                None,
                (200, Some("ObjectView")),
                READ,
            ),
            op(
                Put,
                one.clone(),
                c,
                format!("Replace the {k}'s draft (If-Match: its ETag)"),
                ed,
                Some(doc),
                (200, Some("ObjectView")),
                UPDATE,
            ),
            op(
                Delete,
                one.clone(),
                c,
                format!("Delete the {k}"),
                ed,
                None,
                (204, None),
                WRITE,
            ),
            op(
                Post,
                format!("{one}/publish"),
                c,
                "Publish the draft to an environment as a new version",
                ed,
                Some("EnvironmentBody"),
                (200, Some("Published")),
                WRITE,
            ),
            op(
                Post,
                format!("{one}/unpublish"),
                c,
                "Stop serving it in an environment",
                ed,
                Some("EnvironmentBody"),
                (200, Some("ObjectView")),
                WRITE,
            ),
            op(
                Get,
                format!("{one}/versions"),
                c,
                "Published versions, newest first",
                vw,
                None,
                (200, Some("VersionPage")),
                LIST,
            ),
            op(
                Get,
                format!("{one}/versions/{{version}}"),
                c,
                "One version's document",
                vw,
                None,
                (200, Some("VersionView")),
                READ,
            ),
            op(
                Post,
                format!("{one}/rollback"),
                c,
                "Re-publish an earlier version",
                ed,
                Some("RollbackBody"),
                (200, Some("ObjectView")),
                WRITE,
            ),
            op(
                Post,
                format!("{one}/promote"),
                c,
                "Publish what staging serves to production",
                ed,
                Some("PromoteBody"),
                (200, Some("ObjectView")),
                WRITE,
            ),
            op(
                Post,
                format!("{one}/duplicate"),
                c,
                "Copy as a new draft",
                ed,
                None,
                (201, Some("ObjectView")),
                WRITE,
            ),
            op(
                Post,
                format!("{one}/archive"),
                c,
                "Archive (stops serving everywhere)",
                ed,
                None,
                (200, Some("ObjectView")),
                WRITE,
            ),
            op(
                Post,
                format!("{one}/unarchive"),
                c,
                "Restore from the archive",
                ed,
                None,
                (200, Some("ObjectView")),
                WRITE,
            ),
            op(
                Post,
                format!("{one}/kill-switch"),
                c,
                "Stop (or resume) showing it at once",
                ed,
                Some("KillSwitchBody"),
                (200, Some("ObjectView")),
                WRITE,
            ),
        ]);
    }
    ops
}

fn method_name(m: &HttpMethod) -> &'static str {
    match m {
        HttpMethod::Get => "get",
        HttpMethod::Post => "post",
        HttpMethod::Put => "put",
        HttpMethod::Patch => "patch",
        HttpMethod::Delete => "delete",
        HttpMethod::Head => "head",
        HttpMethod::Options => "options",
        HttpMethod::Trace => "trace",
    }
}

fn schema_ref(name: &str) -> RefOr<Schema> {
    RefOr::Ref(Ref::from_schema_name(name))
}

fn page_schema(item: &str) -> Schema {
    ObjectBuilder::new()
        .property("items", ArrayBuilder::new().items(schema_ref(item)))
        .required("items")
        .property(
            "next_cursor",
            ObjectBuilder::new().schema_type(utoipa::openapi::schema::SchemaType::from_iter([
                Type::String,
                Type::Null,
            ])),
        )
        .description(Some(
            "A page; pass next_cursor as ?cursor= for the next one (null: no more).",
        ))
        .into()
}

fn error_schema() -> Schema {
    let codes: Vec<String> = ErrorCode::ALL
        .iter()
        .map(|c| c.as_str().to_owned())
        .collect();
    let inner = ObjectBuilder::new()
        .property(
            "code",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(codes)),
        )
        .required("code")
        .property("message", ObjectBuilder::new().schema_type(Type::String))
        .required("message")
        .property("request_id", ObjectBuilder::new().schema_type(Type::String))
        .required("request_id")
        .property("details", ObjectBuilder::new().schema_type(Type::Object));
    ObjectBuilder::new()
        .property("error", inner)
        .required("error")
        .into()
}

fn path_params(path: &str) -> Vec<utoipa::openapi::path::Parameter> {
    path.split('/')
        .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(|name| {
            ParameterBuilder::new()
                .name(name)
                .parameter_in(ParameterIn::Path)
                .required(utoipa::openapi::Required::True)
                .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                .build()
        })
        .collect()
}

/// Query parameters, from the very structs the routes parse them into
/// (`utoipa::IntoParams`), so the document cannot drift from the code.
fn query_params(method: &HttpMethod, path: &str) -> Vec<utoipa::openapi::path::Parameter> {
    use routes::{admin_keys, analytics, audit, objects, settings, users, webhooks, PageQuery};
    use utoipa::IntoParams;
    if *method != HttpMethod::Get {
        return Vec::new();
    }
    let q = || Some(ParameterIn::Query);
    let kinds: Vec<String> = ObjectKind::ALL
        .iter()
        .map(|k| format!("/v1/admin/{}", k.collection()))
        .collect();
    match path {
        "/v1/sdk/config" => {
            let mut p = vec![ParameterBuilder::new()
                .name("key")
                .parameter_in(ParameterIn::Query)
                .required(utoipa::openapi::Required::False)
                .description(Some("The publishable key, instead of the X-Spotlight-Key header (the SDK sends it here so its request needs no CORS preflight)."))
                .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                .build()];
            p.extend(routes::sdk::ConfigQuery::into_params(q));
            p
        }
        "/v1/admin/analytics/surveys/{id}/responses" => analytics::ResponsesQuery::into_params(q),
        p if p.starts_with("/v1/admin/analytics/") => analytics::AnalyticsQuery::into_params(q),
        "/v1/admin/settings/identity-monitor" => settings::MonitorQuery::into_params(q),
        "/v1/admin/dead-letters" => webhooks::DeadLetterQuery::into_params(q),
        "/v1/admin/audit" => audit::AuditQuery::into_params(q),
        "/v1/admin/keys" => admin_keys::ListKeys::into_params(q),
        "/v1/admin/users/{user_id}" => users::UserQuery::into_params(q),
        "/v1/operator/tenants" | "/v1/admin/webhooks/{id}/deliveries" => PageQuery::into_params(q),
        "/v1/operator/usage" => routes::operator::UsageQuery::into_params(q),
        p if p.ends_with("/{id}/versions") => PageQuery::into_params(q),
        p if kinds.iter().any(|k| k == p) => objects::ListQuery::into_params(q),
        _ => Vec::new(),
    }
}

/// The errors any operation can meet by its shape, beyond those its row
/// names: a path (404 for what does not exist, 400 for a NUL), a query (400,
/// or 422 for a value out of range),
/// a body (400, 413, 415, 422), credentials (401, 429), a role (403), and the
/// request timeout every route has (503).
fn derived_errors(o: &Op, has_path: bool, has_query: bool) -> Vec<ErrorCode> {
    let mut errors = o.errors.to_vec();
    if has_path {
        errors.extend([E::NotFound, E::BadRequest]);
    }
    if has_query {
        errors.extend([E::InvalidQuery, E::ValidationFailed]);
    }
    if o.request.is_some() {
        errors.extend([
            E::InvalidJson,
            E::BadRequest,
            E::PayloadTooLarge,
            E::UnsupportedMediaType,
            E::ValidationFailed,
        ]);
    }
    match o.auth {
        Auth::None => {}
        Auth::Sdk => errors.extend([E::Unauthenticated, E::OriginNotAllowed, E::RateLimited]),
        Auth::Operator => errors.push(E::Unauthenticated),
        Auth::Session | Auth::Admin(_) => {
            errors.extend([E::Unauthenticated, E::Forbidden, E::RateLimited]);
            if o.method != HttpMethod::Get {
                errors.push(E::CsrfFailed);
            }
        }
    }
    errors.push(E::Timeout);
    let mut seen = std::collections::HashSet::new();
    errors.retain(|c| seen.insert(c.as_str()));
    errors
}

fn build() -> OpenApi {
    let mut paths = PathsBuilder::new();
    let mut by_path: Vec<(String, PathItemBuilder)> = Vec::new();
    for o in operations() {
        let mut b = OperationBuilder::new()
            .summary(Some(o.summary.clone()))
            .tag(o.tag)
            .operation_id(Some(format!(
                "{}_{}",
                method_name(&o.method),
                o.path
                    .replace(['/', '{', '}', '-', '.'], "_")
                    .trim_matches('_')
            )));
        let path = path_params(&o.path);
        let query = query_params(&o.method, &o.path);
        let errors = derived_errors(&o, !path.is_empty(), !query.is_empty());
        for p in path.into_iter().chain(query) {
            b = b.parameter(p);
        }
        if let Some(req) = &o.request {
            b = b.request_body(Some(
                RequestBodyBuilder::new()
                    .content(
                        "application/json",
                        ContentBuilder::new().schema(Some(schema_ref(req))).build(),
                    )
                    .build(),
            ));
        }
        let ok = ResponseBuilder::new().description("Success");
        let ok = match &o.response.1 {
            Some(s) => ok.content(
                "application/json",
                ContentBuilder::new().schema(Some(schema_ref(s))).build(),
            ),
            None => ok,
        };
        b = b.response(o.response.0.to_string(), ok.build());
        let mut statuses: Vec<u16> = errors.iter().map(|c| c.status().as_u16()).collect();
        statuses.push(500);
        statuses.sort_unstable();
        statuses.dedup();
        for status in statuses {
            let codes: Vec<&str> = errors
                .iter()
                .filter(|c| c.status().as_u16() == status)
                .map(|c| c.as_str())
                .collect();
            let desc = if codes.is_empty() {
                "internal".to_owned()
            } else {
                codes.join(", ")
            };
            b = b.response(
                status.to_string(),
                ResponseBuilder::new()
                    .description(format!("Error codes: {desc}"))
                    .content(
                        "application/json",
                        ContentBuilder::new()
                            .schema(Some(schema_ref("Error")))
                            .build(),
                    )
                    .build(),
            );
        }
        let security = match o.auth {
            Auth::None => None,
            Auth::Sdk => Some(vec![SecurityRequirement::new(
                "publishable_key",
                Vec::<String>::new(),
            )]),
            Auth::Operator => Some(vec![SecurityRequirement::new(
                "operator_token",
                Vec::<String>::new(),
            )]),
            Auth::Session => Some(vec![SecurityRequirement::new(
                "session",
                Vec::<String>::new(),
            )]),
            Auth::Admin(role) => {
                b = b.description(Some(format!(
                    "Needs the `{role}` role (a secret key acts as `admin`)."
                )));
                Some(vec![
                    SecurityRequirement::new("secret_key", Vec::<String>::new()),
                    SecurityRequirement::new("session", Vec::<String>::new()),
                ])
            }
        };
        if let Some(s) = security {
            b = b.securities(Some(s));
        }
        match by_path.iter_mut().find(|(p, _)| *p == o.path) {
            Some((_, item)) => {
                let taken = std::mem::take(item);
                *item = taken.operation(o.method, b.build());
            }
            None => by_path.push((
                o.path.clone(),
                PathItemBuilder::new().operation(o.method, b.build()),
            )),
        }
    }
    for (path, item) in by_path {
        paths = paths.path(path, item.build());
    }

    let mut components = ComponentsBuilder::new()
        .schema("Error", error_schema())
        .schema("ObjectPage", page_schema("ObjectView"))
        .schema("VersionPage", page_schema("VersionView"))
        .schema("KeyPage", page_schema("KeyView"))
        .schema("WebhookPage", page_schema("WebhookView"))
        .schema("AttemptPage", page_schema("AttemptView"))
        .schema("DeadLetterPage", page_schema("DeadLetterView"))
        .schema("AuditPage", page_schema("AuditView"))
        .schema("MemberPage", page_schema("MemberView"))
        .schema("InvitationPage", page_schema("InvitationView"))
        .schema("TenantPage", page_schema("TenantView"))
        .security_scheme(
            "secret_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("Authorization: Bearer sk_…"))
                    .build(),
            ),
        )
        .security_scheme(
            "operator_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("The operator token from configuration"))
                    .build(),
            ),
        )
        .security_scheme(
            "publishable_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-Spotlight-Key"))),
        )
        .security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                "spotlight_session",
                "Dashboard session; mutations also need X-CSRF-Token",
            ))),
        );
    macro_rules! schemas {
        ($($t:ty),* $(,)?) => {
            $(
                let mut found = Vec::new();
                <$t as ToSchema>::schemas(&mut found);
                components = components.schema(<$t as ToSchema>::name(), <$t as utoipa::PartialSchema>::schema());
                for (name, schema) in found {
                    components = components.schema(name, schema);
                }
            )*
        };
    }
    schemas!(
        tour::Tour,
        content::Content,
        content::Checklist,
        content::Launcher,
        audience_doc::Theme,
        audience_doc::Audience,
        settings::TenantSettings,
        settings::AdminDetection,
        settings::CompositeMode,
        routes::objects::ObjectView,
        routes::objects::Published,
        routes::objects::VersionView,
        routes::objects::EnvironmentBody,
        routes::objects::RollbackBody,
        routes::objects::PromoteBody,
        routes::objects::KillSwitchBody,
        routes::admin_keys::CreateKey,
        routes::admin_keys::CreatedKey,
        routes::admin_keys::RotateKey,
        routes::admin_keys::RotatedKey,
        crate::tenants::KeyView,
        crate::tenants::ProvisionedTenant,
        routes::operator::CreateTenant,
        routes::operator::TenantView,
        routes::operator::UsageReport,
        routes::operator::TenantUsage,
        routes::operator::EnvironmentUsage,
        routes::auth::LoginRequest,
        routes::auth::Me,
        routes::audit::AuditView,
        routes::settings::SettingsView,
        routes::settings::SettingsPatch,
        routes::members::MemberView,
        routes::members::AddMember,
        routes::members::Invited,
        routes::members::InvitationView,
        routes::auth::AcceptInvitation,
        routes::members::ChangeRole,
        routes::sdk::Ping,
        routes::users::EndUserView,
        routes::users::ProgressEntry,
        routes::sdk::SdkConfig,
        routes::sdk::SdkUser,
        routes::sdk::SdkItem,
        routes::sdk::SdkProgress,
        routes::sdk::SdkAssignment,
        routes::sdk::SdkSettingsDoc,
        routes::sdk_events::EventBatch,
        routes::sdk_events::EventDoc,
        routes::sdk_events::IngestAnswer,
        spotlight_domain::events::Rejection,
        routes::webhooks::WebhookView,
        routes::analytics::Overview,
        routes::analytics::OverviewPoint,
        routes::analytics::TopTour,
        routes::analytics::TourStats,
        routes::analytics::FunnelStep,
        routes::analytics::TourPoint,
        routes::analytics::ContentStats,
        routes::analytics::ContentPoint,
        routes::analytics::ChecklistStats,
        routes::analytics::ItemStats,
        routes::analytics::SurveyStats,
        routes::analytics::SurveyStep,
        routes::analytics::AnswerCount,
        routes::analytics::TextAnswer,
        routes::analytics::SurveyResponses,
        routes::analytics::SurveyResponse,
        routes::audiences::MatchRequest,
        routes::audiences::MatchView,
        routes::settings::MonitorView,
        routes::users::RecentEventView,
        routes::analytics::ExperimentStats,
        routes::analytics::ArmStats,
        routes::analytics::Lift,
        routes::analytics::Window,
        routes::webhooks::WebhookBody,
        routes::webhooks::CreatedWebhook,
        routes::webhooks::RotatedSecret,
        routes::webhooks::TestResult,
        routes::webhooks::AttemptView,
        routes::webhooks::DeadLetterView,
        routes::webhooks::SettleBody,
        routes::webhooks::Settled,
    );

    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("Spotlight API")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some("In-app guidance: SDK, dashboard auth, admin and operator APIs. Errors are {\"error\":{\"code\",\"message\",\"request_id\",\"details\"?}}; switch on code."))
                .build(),
        )
        .paths(paths.build())
        .components(Some(components.build()))
        .build()
}

/// The document, built once.
pub fn document() -> &'static str {
    static DOC: OnceLock<String> = OnceLock::new();
    DOC.get_or_init(|| build().to_json().unwrap_or_else(|_| "{}".to_owned()))
}
