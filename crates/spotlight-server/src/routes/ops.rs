//! Ops endpoints: liveness, readiness (store reachable, migrations current) and
//! Prometheus metrics.

use crate::state::AppState;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

pub async fn healthz() -> Response {
    axum::Json(json!({ "status": "ok" })).into_response()
}

/// Readiness, also kept as the `spotlight_ready` gauge (balancers and
/// orchestrators probe this often; the readiness alert reads the gauge).
pub async fn readyz(State(state): State<AppState>) -> Response {
    let resp = readiness(&state).await;
    state
        .metrics
        .ready
        .set(i64::from(resp.status().is_success()));
    resp
}

/// Evaluates readiness every `every` for the gauge, as a balancer would, so the
/// readiness alert holds when nothing probes `/readyz`.
pub fn watch_readiness(state: AppState, every: std::time::Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let ok = readiness(&state).await.status().is_success();
            state.metrics.ready.set(i64::from(ok));
        }
    })
}

async fn readiness(state: &AppState) -> Response {
    let store = state.store.backend().as_str();
    if state.is_draining() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(
                json!({ "status": "unavailable", "reason": "shutting down", "store": store }),
            ),
        )
            .into_response();
    }
    if let Err(e) = state.store.ping().await {
        tracing::warn!(error = %e, "readiness: store unreachable");
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(
                json!({ "status": "unavailable", "reason": "store unreachable", "store": store }),
            ),
        )
            .into_response();
    }
    let backlog = match state.store.outbox_backlog().await {
        Ok(b) => b,
        Err(e) => {
            tracing::warn!(error = %e, "readiness: outbox backlog unknown");
            spotlight_store::Backlog::default()
        }
    };
    if u64::try_from(backlog.pending).unwrap_or(0) > state.config.relay.outbox_ready_threshold {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(json!({
                "status": "unavailable",
                "reason": "outbox backlog over threshold",
                "store": store,
                "outbox_pending": backlog.pending,
                "threshold": state.config.relay.outbox_ready_threshold,
            })),
        )
            .into_response();
    }
    match state.store.migration_status().await {
        Ok(m) if m.is_current() => axum::Json(json!({
            "outbox_pending": backlog.pending,
            "status": "ready",
            "store": store,
            "migrations": { "applied": m.applied, "known": m.known },
        }))
        .into_response(),
        Ok(m) => (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(json!({
                "status": "unavailable",
                "reason": "migrations pending",
                "store": store,
                "pending": m.pending,
            })),
        )
            .into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "readiness: migration status unknown");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                axum::Json(json!({ "status": "unavailable", "reason": "migration status unknown", "store": store })),
            )
                .into_response()
        }
    }
}

pub async fn metrics(State(state): State<AppState>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render(),
    )
        .into_response()
}

pub async fn openapi() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        super::document(),
    )
        .into_response()
}

/// The API reference: a static page rendering `/openapi.json`, under a CSP that
/// allows only this origin's own script and style.
const DOCS_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; frame-ancestors 'none'";

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_SECURITY_POLICY, DOCS_CSP),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        body,
    )
        .into_response()
}

pub async fn docs() -> Response {
    asset(
        "text/html; charset=utf-8",
        include_str!("../../assets/docs.html"),
    )
}

pub async fn docs_js() -> Response {
    asset(
        "text/javascript; charset=utf-8",
        include_str!("../../assets/docs.js"),
    )
}

pub async fn docs_css() -> Response {
    asset(
        "text/css; charset=utf-8",
        include_str!("../../assets/docs.css"),
    )
}
