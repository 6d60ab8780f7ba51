//! The request id: accepted from the caller's `X-Request-Id` when short and
//! plain (else the pipeline makes one); held for the task that serves the request, so an
//! error answer anywhere below can carry it. A leaf: it depends on nothing of ours.

use axum::http::{HeaderName, HeaderValue};

pub static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

tokio::task_local! {
    pub(crate) static REQUEST_ID: String;
}

/// The id of the request being served on this task ("" outside a request).
pub fn current_request_id() -> String {
    REQUEST_ID.try_with(Clone::clone).unwrap_or_default()
}

/// A client's id is kept when it is short and plain; otherwise we make one.
pub(crate) fn accept_request_id(value: Option<&HeaderValue>) -> Option<String> {
    let s = value?.to_str().ok()?;
    let ok = !s.is_empty()
        && s.len() <= 128
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'));
    ok.then(|| s.to_owned())
}
