//! The dashboard at `/app/`: one HTML shell for every path under it (the app
//! routes on the client) and its script and stylesheet under content-hashed
//! names, cached for a year. Built from `dashboard/` (`npm run build`,
//! committed) and embedded in the binary. Strict CSP: nothing but this origin.

use axum::extract::Path;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use sha2::{Digest, Sha256};
use std::sync::OnceLock;

const JS: &str = include_str!("../../../../dashboard/dist/app.js");
const CSS: &str = include_str!("../../../../dashboard/dist/app.css");
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; object-src 'none'; frame-ancestors 'none'";

struct Assets {
    js: String,
    css: String,
    html: String,
}

fn short_hash(s: &str) -> String {
    hex::encode(&Sha256::digest(s.as_bytes())[..8])
}

fn assets() -> &'static Assets {
    static CELL: OnceLock<Assets> = OnceLock::new();
    CELL.get_or_init(|| {
        let js = format!("app.{}.js", short_hash(JS));
        let css = format!("app.{}.css", short_hash(CSS));
        let html = format!(
            "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <title>Spotlight</title>\n<link rel=\"stylesheet\" href=\"/app/assets/{css}\">\n\
             <script src=\"/app/assets/{js}\" defer></script>\n</head>\n\
             <body>\n<div id=\"app\"></div>\n</body>\n</html>\n"
        );
        Assets { js, css, html }
    })
}

/// `/app` → `/app/`.
pub async fn root() -> Redirect {
    Redirect::permanent("/app/")
}

/// The shell, for `/app/` and every client-side route under it.
pub async fn shell() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_SECURITY_POLICY, CSP),
            (header::CACHE_CONTROL, "no-cache"),
            // "Pick on page" and "Preview on page" open the tenant's app, which
            // posts the picked element back to its opener.
            (
                header::HeaderName::from_static("cross-origin-opener-policy"),
                "same-origin-allow-popups",
            ),
        ],
        assets().html.as_str(),
    )
        .into_response()
}

/// `/app/assets/{file}`: the hashed script and stylesheet.
pub async fn asset(Path(file): Path<String>) -> Response {
    let a = assets();
    let (body, kind) = if file == a.js {
        (JS, "text/javascript; charset=utf-8")
    } else if file == a.css {
        (CSS, "text/css; charset=utf-8")
    } else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let mut resp = ([(header::CONTENT_TYPE, kind)], body).into_response();
    resp.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    resp
}
