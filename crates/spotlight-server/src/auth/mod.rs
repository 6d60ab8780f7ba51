//! Who is calling. Three extractors, one per kind of caller, so a route cannot
//! forget to authenticate or to scope by tenant:
//! - [`SdkClient`]: publishable key (`X-Spotlight-Key`) used from an allowed origin;
//! - [`AdminActor`]: secret key (`Authorization: Bearer sk_…`) or dashboard session
//!   cookie (with CSRF on mutations), carrying a role checked against the route's need;
//! - [`Operator`]: the operator token from configuration.

pub mod admin;
pub mod limits;
pub mod meta;
pub mod oidc;
pub mod operator;
pub mod password;
pub mod sdk;
pub mod session;
pub mod totp;

pub use admin::{AdminActor, AdminRole, EditorRole, OwnerRole, Principal, RoleNeeded, ViewerRole};
pub use meta::RequestMeta;
pub use operator::Operator;
pub use sdk::SdkClient;

use axum::http::HeaderMap;

/// The token of an `Authorization: Bearer …` header, if any.
pub(crate) fn bearer(headers: &HeaderMap) -> Option<Result<&str, ()>> {
    let value = headers.get(axum::http::header::AUTHORIZATION)?;
    let text = match value.to_str() {
        Ok(t) => t,
        Err(_) => return Some(Err(())),
    };
    let (scheme, token) = match text.split_once(' ') {
        Some(p) => p,
        None => return Some(Err(())),
    };
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Some(Err(()));
    }
    Some(Ok(token.trim()))
}

pub(crate) fn record_tenant(tenant: &spotlight_domain::TenantId) {
    tracing::Span::current().record("tenant_id", tracing::field::display(tenant));
}

/// The key a request authenticated with, by id (never the key) in its log line.
pub(crate) fn record_key(key: &spotlight_domain::KeyId) {
    tracing::Span::current().record("key_id", tracing::field::display(key));
}
