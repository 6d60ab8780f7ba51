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
pub mod mail;
pub mod metrics;
pub mod middleware;
pub mod monitor;
pub mod openapi;
pub mod profiles;
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
use axum::routing::get;
use axum::Router;
use tower_http::compression::CompressionLayer;

/// Every route and the pipeline around them. Drivable without a network (`oneshot`).
/// The API's routes and their document are [`routes::api`]; here are the pages
/// and assets besides it, which the document leaves out.
pub fn router(state: AppState) -> Router {
    let pages = Router::new()
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
        .route("/docs/docs.css", get(routes::ops::docs_css));
    with_pipeline(routes::api().into_router().merge(pages), state)
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
