//! The browser SDK's script: `/sdk/v1/spotlight.js` (cached briefly, so a new
//! release reaches pages within minutes) and `/sdk/v1/spotlight.<hash>.js`
//! (content-addressed, cached for a year), plus lazy chunks the core loads by
//! content hash (`spotlight-widgets.<hash>.js`, `spotlight-editor.<hash>.js`). The files are built from `sdk/`
//! (`npm run build`, committed) and embedded in the binary.

use axum::extract::Path;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use std::sync::OnceLock;

const CORE: &[u8] = include_bytes!("../../../../sdk/dist/spotlight.js");
const ESM: &[u8] = include_bytes!("../../../../sdk/dist/spotlight.mjs");
const WIDGETS: &[u8] = include_bytes!("../../../../sdk/dist/spotlight-widgets.js");
const EDITOR: &[u8] = include_bytes!("../../../../sdk/dist/spotlight-editor.js");
/// How long `/sdk/v1/spotlight.js` may be reused without asking.
const SHORT_CACHE: &str = "public, max-age=300";
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

struct Asset {
    bytes: &'static [u8],
    /// The first 16 hex digits of the SHA-256 of the bytes.
    hash: String,
}

fn asset(which: &'static [u8], cell: &'static OnceLock<Asset>) -> &'static Asset {
    cell.get_or_init(|| Asset {
        bytes: which,
        hash: hex::encode(&Sha256::digest(which)[..8]),
    })
}

fn core() -> &'static Asset {
    static CELL: OnceLock<Asset> = OnceLock::new();
    asset(CORE, &CELL)
}

fn esm() -> &'static Asset {
    static CELL: OnceLock<Asset> = OnceLock::new();
    asset(ESM, &CELL)
}

fn widgets() -> &'static Asset {
    static CELL: OnceLock<Asset> = OnceLock::new();
    asset(WIDGETS, &CELL)
}

fn editor() -> &'static Asset {
    static CELL: OnceLock<Asset> = OnceLock::new();
    asset(EDITOR, &CELL)
}

/// The content-hashed path of the SDK script, for pages that pin a release.
pub fn hashed_path() -> String {
    format!("/sdk/v1/spotlight.{}.js", core().hash)
}

fn serve(a: &'static Asset, headers: &HeaderMap, cache: &'static str) -> Response {
    let etag = format!("\"{}\"", a.hash);
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    let mut resp = if matches {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/javascript; charset=utf-8"),
            )],
            a.bytes,
        )
            .into_response()
    };
    let h = resp.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    // Any site may load the script (its API calls are what origins police),
    // also as a module (`import()` of `spotlight.mjs` is a CORS request): the
    // files are public and fetched without credentials, so `*` discloses nothing.
    h.insert(
        header::HeaderName::from_static("cross-origin-resource-policy"),
        HeaderValue::from_static("cross-origin"),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    resp
}

/// `GET /sdk/v1/{file}`: `spotlight.js`, `spotlight.mjs`, or a hashed name.
pub async fn script(Path(file): Path<String>, headers: HeaderMap) -> Response {
    let (core, esm, widgets, editor) = (core(), esm(), widgets(), editor());
    match file.as_str() {
        "spotlight.js" => serve(core, &headers, SHORT_CACHE),
        "spotlight.mjs" => serve(esm, &headers, SHORT_CACHE),
        f if f == format!("spotlight.{}.js", core.hash) => serve(core, &headers, IMMUTABLE),
        f if f == format!("spotlight.{}.mjs", esm.hash) => serve(esm, &headers, IMMUTABLE),
        f if f == format!("spotlight-widgets.{}.js", widgets.hash) => {
            serve(widgets, &headers, IMMUTABLE)
        }
        f if f == format!("spotlight-editor.{}.js", editor.hash) => {
            serve(editor, &headers, IMMUTABLE)
        }
        _ => crate::error::ApiError::new(crate::error::ErrorCode::RouteNotFound, "no such file")
            .into_response(),
    }
}
