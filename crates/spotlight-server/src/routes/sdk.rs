//! SDK routes (publishable key). CORS here answers only allowed origins: the
//! `SdkClient` extractor refuses any other with 403 before a handler runs, so the
//! `Access-Control-Allow-Origin` echo below only ever accompanies an allowed
//! origin's data. Preflights carry no key, so they are answered generically and
//! cached by the browser.

use crate::auth::SdkClient;
use crate::error::AppJson;
use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// Every SDK route answers `OPTIONS` with this (see [`cors`] for the origin).
pub async fn preflight() -> Response {
    let mut r = StatusCode::NO_CONTENT.into_response();
    let h = r.headers_mut();
    h.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, POST"),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static(
            "x-spotlight-key, authorization, content-type, if-none-match, x-request-id",
        ),
    );
    h.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("7200"),
    );
    r
}

pub async fn cors(req: Request, next: Next) -> Response {
    let origin = req.headers().get(header::ORIGIN).cloned();
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.append(header::VARY, HeaderValue::from_static("Origin"));
    if let Some(o) = origin {
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, o);
        h.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("etag, retry-after, x-request-id"),
        );
    }
    resp
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Ping {
    ok: bool,
    environment: String,
}

/// Installation check: is this key valid from this origin, and for which environment?
pub async fn ping(client: SdkClient) -> AppJson<Ping> {
    AppJson(Ping {
        ok: true,
        environment: client.environment,
    })
}
