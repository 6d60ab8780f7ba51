//! Spotlight's HTTP server: configuration, the request pipeline, authentication
//! extractors and routes. [`Application::build`] binds the listener (port 0 works,
//! for tests) and [`Application::run_until_stopped`] serves until told to stop.

pub mod auth;
pub mod cache;
pub mod config;
pub mod conn;
pub mod delivery;
pub mod demo;
pub mod error;
pub mod identity;
pub mod ingest;
pub mod metrics;
pub mod middleware;
pub mod monitor;
pub mod openapi;
pub mod request_id;
pub mod routes;
pub mod secrets;
pub mod serve;
pub mod state;
pub mod telemetry;
pub mod tenants;
pub mod usage;

pub use config::{Config, ConfigError};
pub use serve::{Application, StartError};

use crate::state::AppState;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;
use spotlight_domain::content::{Checklist, Content, Launcher};
use tower_http::compression::CompressionLayer;

/// Every route and the pipeline around them. Drivable without a network (`oneshot`).
pub fn router(state: AppState) -> Router {
    let sdk = Router::new()
        .route(
            "/v1/sdk/ping",
            get(routes::sdk::ping).options(routes::sdk::preflight),
        )
        .route(
            "/v1/sdk/config",
            get(routes::sdk::config).options(routes::sdk::preflight),
        )
        .route(
            "/v1/sdk/events",
            post(routes::sdk_events::ingest).options(routes::sdk::preflight),
        );

    let api = Router::new()
        .route("/healthz", get(routes::ops::healthz))
        .route("/readyz", get(routes::ops::readyz))
        .route("/metrics", get(routes::ops::metrics))
        .route("/openapi.json", get(routes::ops::openapi))
        .route("/sdk/v1/{file}", get(routes::sdk_script::script))
        .route("/app", get(routes::dashboard::root))
        .route("/app/", get(routes::dashboard::shell))
        .route("/app/assets/{file}", get(routes::dashboard::asset))
        .route("/app/{*path}", get(routes::dashboard::shell))
        .route("/demo", get(demo::page))
        .route("/demo/", get(demo::page))
        .route("/demo/app.js", get(demo::script))
        .route("/demo/app.css", get(demo::style))
        .route("/demo/{*path}", get(demo::page))
        .route("/docs", get(routes::ops::docs))
        .route("/docs/docs.js", get(routes::ops::docs_js))
        .route("/docs/docs.css", get(routes::ops::docs_css))
        .route("/v1/auth/login", post(routes::auth::login))
        .route("/v1/auth/logout", post(routes::auth::logout))
        .route("/v1/auth/me", get(routes::auth::me))
        .route(
            "/v1/auth/invitations/accept",
            post(routes::auth::accept_invitation),
        )
        .route("/v1/admin/invitations", get(routes::members::invitations))
        .route(
            "/v1/admin/invitations/{id}",
            axum::routing::delete(routes::members::revoke_invitation),
        )
        .route(
            "/v1/operator/tenants",
            post(routes::operator::create_tenant).get(routes::operator::list_tenants),
        )
        .route(
            "/v1/operator/tenants/{id}",
            get(routes::operator::get_tenant),
        )
        .route("/v1/operator/usage", get(routes::operator::usage))
        .route(
            "/v1/admin/keys",
            get(routes::admin_keys::list).post(routes::admin_keys::create),
        )
        .route("/v1/admin/audit", get(routes::audit::list))
        .route("/v1/admin/users/{user_id}", get(routes::users::get))
        .route(
            "/v1/admin/analytics/overview",
            get(routes::analytics::overview),
        )
        .route(
            "/v1/admin/analytics/tours/{id}",
            get(routes::analytics::tour),
        )
        .route(
            "/v1/admin/analytics/content/{id}",
            get(routes::analytics::content),
        )
        .route(
            "/v1/admin/analytics/checklists/{id}",
            get(routes::analytics::checklist),
        )
        .route(
            "/v1/admin/analytics/surveys/{id}",
            get(routes::analytics::survey),
        )
        .route(
            "/v1/admin/analytics/surveys/{id}/responses",
            get(routes::analytics::survey_responses),
        )
        .route(
            "/v1/admin/audiences/matches",
            post(routes::audiences::matches),
        )
        .route(
            "/v1/admin/settings/identity-monitor",
            get(routes::settings::identity_monitor),
        )
        .route(
            "/v1/admin/analytics/experiments/{id}",
            get(routes::analytics::experiment),
        )
        .route(
            "/v1/admin/webhooks",
            get(routes::webhooks::list).post(routes::webhooks::create),
        )
        .route(
            "/v1/admin/webhooks/{id}",
            get(routes::webhooks::get)
                .patch(routes::webhooks::update)
                .delete(routes::webhooks::delete),
        )
        .route(
            "/v1/admin/webhooks/{id}/rotate",
            post(routes::webhooks::rotate),
        )
        .route(
            "/v1/admin/webhooks/{id}/test",
            post(routes::webhooks::test_send),
        )
        .route(
            "/v1/admin/webhooks/{id}/deliveries",
            get(routes::webhooks::deliveries),
        )
        .route(
            "/v1/admin/dead-letters",
            get(routes::webhooks::dead_letters),
        )
        .route(
            "/v1/admin/dead-letters/replay",
            post(routes::webhooks::replay),
        )
        .route(
            "/v1/admin/dead-letters/discard",
            post(routes::webhooks::discard),
        )
        .route(
            "/v1/admin/dead-letters/{id}",
            get(routes::webhooks::dead_letter).delete(routes::webhooks::discard_one),
        )
        .route(
            "/v1/admin/dead-letters/{id}/replay",
            post(routes::webhooks::replay_one),
        )
        .route(
            "/v1/admin/settings",
            get(routes::settings::get)
                .patch(routes::settings::patch)
                .put(routes::settings::patch),
        )
        .route(
            "/v1/admin/members",
            get(routes::members::list).post(routes::members::add),
        )
        .route(
            "/v1/admin/members/{account_id}",
            axum::routing::put(routes::members::change).delete(routes::members::remove),
        )
        .route(
            "/v1/admin/keys/{id}/rotate",
            post(routes::admin_keys::rotate),
        )
        .route(
            "/v1/admin/keys/{id}/revoke",
            post(routes::admin_keys::revoke),
        )
        .merge(routes::objects::routes::<spotlight_domain::tour::Tour>())
        .merge(routes::objects::routes::<
            spotlight_domain::audience_doc::Audience,
        >())
        .merge(routes::objects::routes::<
            spotlight_domain::audience_doc::Theme,
        >())
        .merge(routes::objects::routes::<Content>())
        .merge(routes::objects::routes::<Checklist>())
        .merge(routes::objects::routes::<Launcher>())
        .merge(sdk);
    with_pipeline(api, state)
}

/// Wraps routes in the request pipeline every response goes through. Public so
/// tests can put deliberately slow or panicking routes behind the real pipeline.
pub fn with_pipeline(routes: Router<AppState>, state: AppState) -> Router {
    let api = routes
        .fallback(middleware::route_not_found)
        .method_not_allowed_fallback(middleware::method_not_allowed);
    // Layers run outermost-last: security headers wrap everything, then the
    // request id/span/metrics, then compression, panics, timeouts, the body
    // read whole (and bounded) before any route runs.
    api.layer(DefaultBodyLimit::max(state.config.http.body_limit_bytes))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::read_body,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::timeout,
        ))
        .layer(axum::middleware::from_fn(middleware::catch_panic))
        .layer(CompressionLayer::new())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::observe,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::security_headers,
        ))
        .with_state(state)
}
