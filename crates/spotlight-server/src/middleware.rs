//! The request pipeline around every route: request ids, the request span and
//! metrics, panics turned into 500s, timeouts, and security headers.

use crate::error::{ApiError, ErrorCode};
use crate::metrics::{RequestLabels, RouteLabels};
use crate::request_id::{accept_request_id, REQUEST_ID, X_REQUEST_ID};
use crate::state::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderName, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures_util::FutureExt;
use std::panic::AssertUnwindSafe;
use std::time::Instant;
use tracing::Instrument;

/// Request id, span, access log and request metrics. Outermost.
pub async fn observe(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = accept_request_id(req.headers().get(&X_REQUEST_ID))
        .unwrap_or_else(|| uuid::Uuid::now_v7().simple().to_string());
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let method = req.method().clone();
    let span = tracing::info_span!(
        "request",
        otel.name = %format_args!("{method} {route}"),
        otel.kind = "server",
        otel.status_code = tracing::field::Empty,
        request_id = %id,
        method = %method,
        route = %route,
        status = tracing::field::Empty,
        tenant_id = tracing::field::Empty,
        key_id = tracing::field::Empty,
    );
    follow_caller_trace(&span, req.headers());
    let mut response = REQUEST_ID
        .scope(id.clone(), next.run(req).instrument(span.clone()))
        .await;
    if let Ok(v) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(X_REQUEST_ID.clone(), v);
    }
    let status = response.status().as_u16();
    span.record("status", status);
    if status >= 500 {
        span.record("otel.status_code", "error");
    }
    let elapsed = started.elapsed();
    let m = &state.metrics;
    m.requests
        .get_or_create(&RequestLabels {
            method: method.to_string(),
            route: route.clone(),
            status,
        })
        .inc();
    m.request_duration
        .get_or_create(&RouteLabels {
            method: method.to_string(),
            route,
        })
        .observe(elapsed.as_secs_f64());
    span.in_scope(|| {
        let ms = elapsed.as_secs_f64() * 1000.0;
        if status >= 500 {
            tracing::error!(status, latency_ms = ms, "request failed");
        } else {
            tracing::info!(status, latency_ms = ms, "request");
        }
    });
    response
}

/// A caller's W3C `traceparent` (and `tracestate`) makes this request's span a
/// child of the caller's, when traces are on (without the OpenTelemetry layer
/// there is no propagator and nothing happens).
fn follow_caller_trace(span: &tracing::Span, headers: &axum::http::HeaderMap) {
    use tracing_opentelemetry::OpenTelemetrySpanExt;
    if !headers.contains_key("traceparent") {
        return;
    }
    let parent = opentelemetry::global::get_text_map_propagator(|p| {
        p.extract(&opentelemetry_http::HeaderExtractor(headers))
    });
    let _ = span.set_parent(parent);
}

/// A panic in a handler becomes a 500 carrying the request id, not a dropped connection.
pub async fn catch_panic(req: Request, next: Next) -> Response {
    match AssertUnwindSafe(next.run(req)).catch_unwind().await {
        Ok(resp) => resp,
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_owned());
            ApiError::internal(format!("handler panicked: {what}")).into_response()
        }
    }
}

/// How long a route that reads its body as it arrives (an import) may take.
const STREAMED_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30 * 60);

/// Whether the request's route reads its (large) body as it arrives and
/// bounds it itself: [`crate::routes::import`].
fn reads_as_it_arrives(req: &Request) -> bool {
    req.extensions()
        .get::<axum::extract::MatchedPath>()
        .is_some_and(|p| {
            let p = p.as_str();
            p == crate::routes::import::PATH || p == crate::routes::import::ACCOUNTS_PATH
        })
}

/// Reads every request body before its route runs, bounded by the body limit:
/// a declared `Content-Length` over the limit is refused at once (413, not a
/// wait for bytes that will not be read), and a route that ignores its body
/// (`DELETE`, `…/duplicate`, `/healthz`) still leaves the connection clean for
/// the client's next request. Answers that leave body bytes unread close the
/// connection.
pub async fn read_body(State(state): State<AppState>, req: Request, next: Next) -> Response {
    use http_body_util::BodyExt;
    if reads_as_it_arrives(&req) {
        return next.run(req).await;
    }
    let limit = state.config.http.body_limit_bytes;
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|s| s.trim().parse::<u64>().ok());
    let too_large = || {
        let mut r = ApiError::new(
            ErrorCode::PayloadTooLarge,
            format!("request body is too large (at most {limit} bytes)"),
        )
        .into_response();
        r.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
        r
    };
    if declared.is_some_and(|n| n > limit as u64) {
        return too_large();
    }
    let chunked = req.headers().contains_key(header::TRANSFER_ENCODING);
    if declared.unwrap_or(0) == 0 && !chunked {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    match http_body_util::Limited::new(body, limit).collect().await {
        Ok(collected) => {
            let body = axum::body::Body::from(collected.to_bytes());
            next.run(Request::from_parts(parts, body)).await
        }
        Err(e) if e.is::<http_body_util::LengthLimitError>() => too_large(),
        Err(_) => {
            let mut r = ApiError::new(ErrorCode::BadRequest, "the request body could not be read")
                .into_response();
            r.headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            r
        }
    }
}

/// Bounds the time a request may take once its headers are read.
pub async fn timeout(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let limit = if reads_as_it_arrives(&req) {
        STREAMED_TIMEOUT
    } else {
        state.config.http.request_timeout
    };
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(resp) => resp,
        Err(_) => ApiError::new(ErrorCode::Timeout, "the request took too long").into_response(),
    }
}

/// Security headers on every response. A route may set its own CSP (pages do).
/// SDK routes' CORS headers are added here too (one layer less on the SDK's
/// hot path than a layer of their own).
pub async fn security_headers(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let https = state.request_is_https(req.headers());
    let mut req = req;
    let sdk = req.uri().path().starts_with(SDK_PATH_PREFIX).then(|| {
        let grant = CorsGrant::default();
        req.extensions_mut().insert(grant.clone());
        (req.headers().get(header::ORIGIN).cloned(), grant)
    });
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    if let Some((origin, grant)) = sdk {
        cors(h, origin.filter(|_| grant.granted()));
    }
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
        );
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        HeaderName::from_static("permissions-policy"),
        HeaderValue::from_static(
            "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()",
        ),
    );
    // The dashboard sets its own (it opens the tenant's pages to pick elements on).
    h.entry(HeaderName::from_static("cross-origin-opener-policy"))
        .or_insert(HeaderValue::from_static("same-origin"));
    if https {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    // Draining: a kept-alive connection would bring the balancer back here.
    if state.is_draining() {
        h.insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    resp
}

pub async fn route_not_found(method: Method) -> ApiError {
    let _ = method;
    ApiError::new(ErrorCode::RouteNotFound, "no such route")
}

pub async fn method_not_allowed() -> ApiError {
    ApiError::new(
        ErrorCode::MethodNotAllowed,
        "method not allowed on this route",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_accepted_only_when_plain() {
        let ok = HeaderValue::from_static("abc-123_x.y:z");
        assert_eq!(
            accept_request_id(Some(&ok)).as_deref(),
            Some("abc-123_x.y:z")
        );
        for bad in ["", "has space", "semi;colon", "<script>"] {
            let v = HeaderValue::from_str(bad).unwrap();
            assert_eq!(accept_request_id(Some(&v)), None, "{bad}");
        }
        let long = HeaderValue::from_str(&"a".repeat(129)).unwrap();
        assert_eq!(accept_request_id(Some(&long)), None);
    }
}

/// Where the SDK's routes live (their responses get CORS headers).
pub const SDK_PATH_PREFIX: &str = "/v1/sdk/";

/// Set on an SDK request's extensions by the pipeline; granted once the
/// request's `Origin` is known to be allowed (by [`SdkClient`] or the
/// preflight). Only then does the response echo the origin.
#[derive(Clone, Default)]
pub struct CorsGrant(std::sync::Arc<std::sync::atomic::AtomicBool>);

impl CorsGrant {
    pub fn grant(extensions: &axum::http::Extensions) {
        if let Some(g) = extensions.get::<CorsGrant>() {
            g.0.store(true, std::sync::atomic::Ordering::Relaxed);
        }
    }

    pub fn granted(&self) -> bool {
        self.0.load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// The CORS headers of a response to an SDK route (added by the pipeline's
/// `security_headers`): the request's origin echoed once it was granted.
fn cors(h: &mut axum::http::HeaderMap, origin: Option<HeaderValue>) {
    h.append(header::VARY, HeaderValue::from_static("Origin"));
    if let Some(o) = origin {
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, o);
        h.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("etag, retry-after, x-request-id"),
        );
    }
}
