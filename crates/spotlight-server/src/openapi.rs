//! The route list and `/openapi.json` are one thing. [`ApiRouter`] adds each
//! route to axum and describes it from the handler's own signature: the role
//! from `AdminActor<R>`, the publishable key from `SdkClient`, the operator
//! token from `Operator`, path and query parameters from `AppPath`/`AppQuery<T>`
//! (`utoipa::IntoParams`), the body from `AppJson<T>`/`OptionalJson<T>`, the
//! answer from `AppJson<T>`, `Created<T>` or `NoContent`. A handler whose
//! answer its type does not say (a `Response` with headers or CSV) names it on
//! its route line. Adding a route is one line in `routes::api`, and a route
//! cannot exist undocumented.

use crate::auth::{AdminActor, Operator, RequestMeta, RoleNeeded, SdkClient};
use crate::error::{AppJson, AppPath, AppQuery, ErrorCode, OptionalJson};
use crate::state::AppState;
use axum::extract::{ConnectInfo, Request, State};
use axum::handler::Handler;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{on, MethodFilter};
use axum::Router;
use spotlight_domain::Role;
use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use utoipa::openapi::path::{
    HttpMethod, OperationBuilder, Parameter, ParameterBuilder, ParameterIn, PathItemBuilder,
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
use utoipa::{IntoParams, ToSchema};

/// Who may call an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    None,
    /// A publishable key, from an allowed origin.
    Sdk,
    /// A secret key (acting as `admin`) or a member's session, with at least this role.
    Admin(Role),
    /// A dashboard session.
    Session,
    Operator,
}

/// One documented operation, filled in by its handler's extractors and answer.
pub struct Operation {
    method: HttpMethod,
    path: String,
    tag: &'static str,
    summary: String,
    auth: Auth,
    query: Vec<Parameter>,
    /// The body's schema and whether it must be present.
    body: Option<(RefOr<Schema>, bool)>,
    /// The body's media types (none: JSON).
    body_types: &'static [&'static str],
    /// Status and body of the success answer.
    success: Option<(u16, Option<RefOr<Schema>>)>,
    /// Another success answer some requests get (a publish that becomes a
    /// request for approval answers 202).
    also: Option<(u16, RefOr<Schema>)>,
    /// Errors this operation meets beyond those its shape implies.
    errors: Vec<ErrorCode>,
}

impl Operation {
    /// The success answer: its status and body.
    pub fn answers(&mut self, status: u16, body: Option<RefOr<Schema>>) {
        self.success = Some((status, body));
    }

    fn new(method: HttpMethod, path: &str, tag: &'static str, summary: String) -> Operation {
        Operation {
            method,
            path: path.to_owned(),
            tag,
            summary,
            auth: Auth::None,
            query: Vec::new(),
            body: None,
            body_types: &[],
            success: None,
            also: None,
            errors: Vec::new(),
        }
    }
}

/// The components the document's operations refer to.
#[derive(Default)]
pub struct Schemas(BTreeMap<String, RefOr<Schema>>, BTreeSet<String>);

impl Schemas {
    /// A reference to `T`, registering it and every schema it uses.
    pub fn of<T: ToSchema>(&mut self) -> RefOr<Schema> {
        let name = T::name().into_owned();
        let schema = <T as utoipa::PartialSchema>::schema();
        if self.0.contains_key(&name) {
            self.add(name.clone(), schema);
        } else {
            let mut found = Vec::new();
            T::schemas(&mut found);
            self.add(name.clone(), schema);
            for (n, schema) in found {
                self.add(n, schema);
            }
        }
        schema_ref(&name)
    }

    /// Registers a schema by name; two different ones under one name (two
    /// types named alike in different modules) are a collision.
    fn add(&mut self, name: String, schema: RefOr<Schema>) {
        match self.0.get(&name) {
            Some(known) if *known != schema => {
                self.1.insert(name);
            }
            Some(_) => {}
            None => {
                self.0.insert(name, schema);
            }
        }
    }

    /// `{items: [T], next_cursor}`, named `KeyPage` for `KeyView`.
    pub fn page_of<T: ToSchema>(&mut self) -> RefOr<Schema> {
        let item = T::name();
        let name = format!("{}Page", item.strip_suffix("View").unwrap_or(&item));
        let item = self.of::<T>();
        self.0
            .entry(name.clone())
            .or_insert_with(|| page_schema(item));
        schema_ref(&name)
    }
}

/// What an extractor tells the document about the operation that uses it.
pub trait Extracts {
    fn describe(_op: &mut Operation, _schemas: &mut Schemas) {}
}

impl<R: RoleNeeded> Extracts for AdminActor<R> {
    fn describe(op: &mut Operation, _: &mut Schemas) {
        op.auth = Auth::Admin(R::ROLE);
    }
}
impl Extracts for SdkClient {
    fn describe(op: &mut Operation, _: &mut Schemas) {
        op.auth = Auth::Sdk;
    }
}
impl Extracts for Operator {
    fn describe(op: &mut Operation, _: &mut Schemas) {
        op.auth = Auth::Operator;
    }
}
impl<T: IntoParams> Extracts for AppQuery<T> {
    fn describe(op: &mut Operation, _: &mut Schemas) {
        op.query.extend(T::into_params(|| Some(ParameterIn::Query)));
    }
}
impl<T: ToSchema> Extracts for AppJson<T> {
    fn describe(op: &mut Operation, schemas: &mut Schemas) {
        op.body = Some((schemas.of::<T>(), true));
    }
}
impl<T: ToSchema> Extracts for OptionalJson<T> {
    fn describe(op: &mut Operation, schemas: &mut Schemas) {
        op.body = Some((schemas.of::<T>(), false));
    }
}
// Path parameters are read from the path itself.
impl<T> Extracts for AppPath<T> {}
impl Extracts for State<AppState> {}
impl Extracts for RequestMeta {}
impl Extracts for HeaderMap {}
impl Extracts for Request {}
impl Extracts for axum::body::Body {}
impl<T> Extracts for ConnectInfo<T> {}
impl<T, E> Extracts for Result<T, E> {}

/// What a handler's answer tells the document.
pub trait Answers {
    fn describe(_op: &mut Operation, _schemas: &mut Schemas) {}
}

impl<T: ToSchema> Answers for AppJson<T> {
    fn describe(op: &mut Operation, schemas: &mut Schemas) {
        op.success = Some((200, Some(schemas.of::<T>())));
    }
}
impl<T: ToSchema> Answers for Created<T> {
    fn describe(op: &mut Operation, schemas: &mut Schemas) {
        op.success = Some((201, Some(schemas.of::<T>())));
    }
}
impl Answers for NoContent {
    fn describe(op: &mut Operation, _: &mut Schemas) {
        op.success = Some((204, None));
    }
}
impl<A: Answers, E> Answers for Result<A, E> {
    fn describe(op: &mut Operation, schemas: &mut Schemas) {
        A::describe(op, schemas);
    }
}
/// A hand-built answer: its route line says what it is ([`ApiRouter::answers`]).
impl Answers for Response {}

/// `201 Created` with a JSON body.
pub struct Created<T>(pub T);

impl<T: serde::Serialize> IntoResponse for Created<T> {
    fn into_response(self) -> Response {
        (StatusCode::CREATED, AppJson(self.0)).into_response()
    }
}

/// `204 No Content`.
pub struct NoContent;

impl IntoResponse for NoContent {
    fn into_response(self) -> Response {
        StatusCode::NO_CONTENT.into_response()
    }
}

/// A handler, described by its argument and answer types (`Args` is the tuple
/// of its arguments, as in axum's `Handler<T, S>`).
pub trait Documented<Args> {
    fn describe(op: &mut Operation, schemas: &mut Schemas);
}

macro_rules! documented {
    ($($arg:ident),*) => {
        impl<F, Fut, $($arg,)*> Documented<($($arg,)*)> for F
        where
            F: FnOnce($($arg),*) -> Fut,
            Fut: Future,
            Fut::Output: Answers,
            $($arg: Extracts,)*
        {
            fn describe(op: &mut Operation, schemas: &mut Schemas) {
                $(<$arg as Extracts>::describe(op, schemas);)*
                <Fut::Output as Answers>::describe(op, schemas);
            }
        }
    };
}
documented!();
documented!(A1);
documented!(A1, A2);
documented!(A1, A2, A3);
documented!(A1, A2, A3, A4);
documented!(A1, A2, A3, A4, A5);
documented!(A1, A2, A3, A4, A5, A6);

/// The API's routes with their description, built together.
#[derive(Default)]
pub struct ApiRouter {
    router: Router<AppState>,
    operations: Vec<Operation>,
    schemas: Schemas,
    tag: &'static str,
}

impl ApiRouter {
    pub fn new() -> ApiRouter {
        ApiRouter::default()
    }

    /// The tag of the routes added after this.
    pub fn tag(mut self, tag: &'static str) -> ApiRouter {
        self.tag = tag;
        self
    }

    pub fn get<H, T, A>(self, path: &str, handler: H, summary: impl Into<String>) -> ApiRouter
    where
        H: Handler<T, AppState> + Documented<A>,
        T: 'static,
    {
        self.route(HttpMethod::Get, path, handler, summary.into())
    }

    pub fn post<H, T, A>(self, path: &str, handler: H, summary: impl Into<String>) -> ApiRouter
    where
        H: Handler<T, AppState> + Documented<A>,
        T: 'static,
    {
        self.route(HttpMethod::Post, path, handler, summary.into())
    }

    pub fn put<H, T, A>(self, path: &str, handler: H, summary: impl Into<String>) -> ApiRouter
    where
        H: Handler<T, AppState> + Documented<A>,
        T: 'static,
    {
        self.route(HttpMethod::Put, path, handler, summary.into())
    }

    pub fn patch<H, T, A>(self, path: &str, handler: H, summary: impl Into<String>) -> ApiRouter
    where
        H: Handler<T, AppState> + Documented<A>,
        T: 'static,
    {
        self.route(HttpMethod::Patch, path, handler, summary.into())
    }

    pub fn delete<H, T, A>(self, path: &str, handler: H, summary: impl Into<String>) -> ApiRouter
    where
        H: Handler<T, AppState> + Documented<A>,
        T: 'static,
    {
        self.route(HttpMethod::Delete, path, handler, summary.into())
    }

    fn route<H, T, A>(
        mut self,
        method: HttpMethod,
        path: &str,
        handler: H,
        summary: String,
    ) -> ApiRouter
    where
        H: Handler<T, AppState> + Documented<A>,
        T: 'static,
    {
        let filter = match method {
            HttpMethod::Get => MethodFilter::GET,
            HttpMethod::Post => MethodFilter::POST,
            HttpMethod::Put => MethodFilter::PUT,
            HttpMethod::Patch => MethodFilter::PATCH,
            _ => MethodFilter::DELETE,
        };
        self.router = self.router.route(path, on(filter, handler));
        let mut op = Operation::new(method, path, self.tag, summary);
        H::describe(&mut op, &mut self.schemas);
        self.operations.push(op);
        self
    }

    /// Changes the last route's description (a modifier before any route does nothing).
    fn amend(mut self, change: impl FnOnce(&mut Operation)) -> ApiRouter {
        if let Some(op) = self.operations.last_mut() {
            change(op);
        }
        self
    }

    /// The last route's success answer, for a handler that builds its `Response`.
    pub fn answers<T: ToSchema>(mut self, status: u16) -> ApiRouter {
        let body = self.schemas.of::<T>();
        self.amend(|op| op.success = Some((status, Some(body))))
    }

    /// Another success answer of the last route, beside its main one.
    pub fn also_answers<T: ToSchema>(mut self, status: u16) -> ApiRouter {
        let body = self.schemas.of::<T>();
        self.amend(|op| op.also = Some((status, body)))
    }

    /// The last route answers a page of `T` (200), for a handler that builds its `Response`.
    pub fn answers_page<T: ToSchema>(mut self) -> ApiRouter {
        let body = self.schemas.page_of::<T>();
        self.amend(|op| op.success = Some((200, Some(body))))
    }

    /// The last route answers this status with no body.
    pub fn answers_empty(self, status: u16) -> ApiRouter {
        self.amend(|op| op.success = Some((status, None)))
    }

    /// A schema the walk from the routes' types does not reach (one behind a
    /// `#[schema(no_recursion)]`).
    pub fn schema<T: ToSchema>(mut self) -> ApiRouter {
        self.schemas.of::<T>();
        self
    }

    /// The last route's body, for a handler that reads its bytes itself.
    pub fn body<T: ToSchema>(mut self) -> ApiRouter {
        let body = self.schemas.of::<T>();
        self.amend(|op| op.body = Some((body, true)))
    }

    /// The last route's body: text (a file) of these media types, for a
    /// handler that reads it as it arrives.
    pub fn body_text(self, types: &'static [&'static str]) -> ApiRouter {
        let text = RefOr::T(Schema::Object(
            utoipa::openapi::ObjectBuilder::new()
                .schema_type(utoipa::openapi::Type::String)
                .build(),
        ));
        self.amend(|op| {
            op.body = Some((text, true));
            op.body_types = types;
        })
    }

    /// The last route's query, for a handler that parses it itself.
    pub fn query<T: IntoParams>(self) -> ApiRouter {
        self.amend(|op| op.query.extend(T::into_params(|| Some(ParameterIn::Query))))
    }

    /// One more query parameter of the last route.
    pub fn query_param(self, param: Parameter) -> ApiRouter {
        self.amend(|op| op.query.push(param))
    }

    /// The last route reads the session cookie itself.
    pub fn session(self) -> ApiRouter {
        self.amend(|op| op.auth = Auth::Session)
    }

    /// Errors of the last route beyond those its shape implies.
    pub fn errors(self, errors: &[ErrorCode]) -> ApiRouter {
        self.amend(|op| op.errors.extend_from_slice(errors))
    }

    /// CORS preflight for the last route's path (not an operation of its own).
    pub fn preflight<H, T>(mut self, handler: H) -> ApiRouter
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        if let Some(op) = self.operations.last() {
            let path = op.path.clone();
            self.router = self.router.route(&path, on(MethodFilter::OPTIONS, handler));
        }
        self
    }

    pub fn merge(mut self, other: ApiRouter) -> ApiRouter {
        self.router = self.router.merge(other.router);
        self.operations.extend(other.operations);
        for (name, schema) in other.schemas.0 {
            self.schemas.add(name, schema);
        }
        self.schemas.1.extend(other.schemas.1);
        self
    }

    /// Schema names two different types registered (each must be renamed).
    pub fn schema_collisions(&self) -> Vec<String> {
        self.schemas.1.iter().cloned().collect()
    }

    pub fn operations(&self) -> &[Operation] {
        &self.operations
    }

    pub fn into_router(self) -> Router<AppState> {
        self.router
    }

    /// The OpenAPI document of these routes.
    pub fn document(self) -> OpenApi {
        build(self.operations, self.schemas)
    }
}

use ErrorCode as E;

/// The errors an operation meets by its shape, beyond those it names: a path
/// (404 for what does not exist, 400 for a NUL), a query (400, or 422 for a
/// value out of range), a body (400, 413, 415, 422), credentials (401, 429),
/// a role (403), an admin change (404, 409 and a body's errors, the CSRF
/// token), and the request timeout every route has (503).
fn errors(o: &Operation, has_path: bool) -> Vec<ErrorCode> {
    let mut errors = o.errors.clone();
    if has_path {
        errors.extend([E::NotFound, E::BadRequest]);
    }
    if !o.query.is_empty() {
        errors.extend([E::InvalidQuery, E::ValidationFailed]);
    }
    if o.body.is_some() {
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
    if matches!(o.auth, Auth::Admin(_)) {
        errors.push(E::NotFound);
        if o.method != HttpMethod::Get {
            errors.extend([
                E::InvalidJson,
                E::Conflict,
                E::PayloadTooLarge,
                E::UnsupportedMediaType,
                E::ValidationFailed,
            ]);
        }
    }
    errors.push(E::Timeout);
    let mut seen = std::collections::HashSet::new();
    errors.retain(|c| seen.insert(c.as_str()));
    errors
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

fn page_schema(item: RefOr<Schema>) -> RefOr<Schema> {
    ObjectBuilder::new()
        .property("items", ArrayBuilder::new().items(item))
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

fn path_params(path: &str) -> Vec<Parameter> {
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

fn json(schema: RefOr<Schema>) -> utoipa::openapi::Content {
    ContentBuilder::new().schema(Some(schema)).build()
}

fn operation(o: Operation) -> utoipa::openapi::path::Operation {
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
    let errors = errors(&o, !path.is_empty());
    for p in path.into_iter().chain(o.query) {
        b = b.parameter(p);
    }
    if let Some((schema, required)) = o.body {
        let types: &[&str] = if o.body_types.is_empty() {
            &["application/json"]
        } else {
            o.body_types
        };
        let body = types.iter().fold(RequestBodyBuilder::new(), |b, t| {
            b.content(*t, json(schema.clone()))
        });
        let body = if required {
            body.required(Some(utoipa::openapi::Required::True))
        } else {
            body
        };
        b = b.request_body(Some(body.build()));
    }
    let (status, body) = o.success.unwrap_or((200, None));
    let ok = ResponseBuilder::new().description("Success");
    let ok = match body {
        Some(s) => ok.content("application/json", json(s)),
        None => ok,
    };
    b = b.response(status.to_string(), ok.build());
    if let Some((status, body)) = o.also {
        let also = ResponseBuilder::new()
            .description("Success")
            .content("application/json", json(body));
        b = b.response(status.to_string(), also.build());
    }
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
                .content("application/json", json(schema_ref("Error")))
                .build(),
        );
    }
    let scheme = |name: &str| vec![SecurityRequirement::new(name, Vec::<String>::new())];
    let security = match o.auth {
        Auth::None => None,
        Auth::Sdk => Some(scheme("publishable_key")),
        Auth::Operator => Some(scheme("operator_token")),
        Auth::Session => Some(scheme("session")),
        Auth::Admin(role) => {
            b = b.description(Some(format!(
                "Needs the `{}` role (a secret key acts as `admin`).",
                role.as_str()
            )));
            Some([scheme("secret_key"), scheme("session")].concat())
        }
    };
    if let Some(s) = security {
        b = b.securities(Some(s));
    }
    b.build()
}

fn build(operations: Vec<Operation>, schemas: Schemas) -> OpenApi {
    let mut by_path: Vec<(String, PathItemBuilder)> = Vec::new();
    for o in operations {
        let (path, method) = (o.path.clone(), o.method.clone());
        let op = operation(o);
        match by_path.iter_mut().find(|(p, _)| *p == path) {
            Some((_, item)) => *item = std::mem::take(item).operation(method, op),
            None => by_path.push((path, PathItemBuilder::new().operation(method, op))),
        }
    }
    let mut paths = PathsBuilder::new();
    for (path, item) in by_path {
        paths = paths.path(path, item.build());
    }

    let mut components = ComponentsBuilder::new()
        .schema("Error", error_schema())
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
    for (name, schema) in schemas.0 {
        components = components.schema(name, schema);
    }

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

#[cfg(test)]
mod tests {
    #[allow(dead_code)]
    mod one {
        #[derive(utoipa::ToSchema)]
        pub struct Twin {
            pub a: u32,
        }
    }
    #[allow(dead_code)]
    mod two {
        #[derive(utoipa::ToSchema)]
        pub struct Twin {
            pub b: String,
        }
    }

    #[test]
    fn two_types_under_one_schema_name_are_a_collision() {
        let mut s = super::Schemas::default();
        s.of::<one::Twin>();
        s.of::<one::Twin>();
        assert!(s.1.is_empty(), "the same type twice is no collision");
        s.of::<two::Twin>();
        let mut r = super::ApiRouter::new();
        r.schemas = s;
        assert_eq!(r.schema_collisions(), ["Twin"]);
    }

    #[test]
    fn every_operation_says_what_it_answers_and_who_may_call_it() {
        let api = crate::routes::api();
        for op in api.operations() {
            let (status, _) = op
                .success
                .as_ref()
                .unwrap_or_else(|| panic!("{} has no answer", op.path));
            // A browser route (SSO) succeeds with a redirect.
            assert!((200..400).contains(status), "{}", op.path);
            let open = ["/healthz", "/readyz", "/metrics", "/openapi.json"];
            let public = op.path.starts_with("/v1/auth/") && op.auth == super::Auth::None;
            assert!(
                op.auth != super::Auth::None || open.contains(&op.path.as_str()) || public,
                "{} has no credentials",
                op.path
            );
        }
    }
}
