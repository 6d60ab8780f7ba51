//! `SdkClient`: a browser SDK call with a publishable key (`X-Spotlight-Key`).
//! When the browser sends `Origin`, it must be one of the tenant's allowed origins
//! (or one allowed by configuration for every tenant); otherwise 403. A request
//! without `Origin` is not from a cross-origin browser page, which is the only
//! thing origin checks can police.

use crate::auth::{record_key, record_tenant};
use crate::config::ExtraOrigins;
use crate::delivery::TenantView;
use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderValue};
use spotlight_domain::origin::RequestOrigin;
use spotlight_domain::{AllowedOrigin, EnvironmentId, KeyId, KeyKind, PlainKey, TenantId};
use std::sync::Arc;

pub const KEY_HEADER: &str = "x-spotlight-key";

#[derive(Clone)]
pub struct SdkClient {
    pub tenant_id: TenantId,
    pub environment_id: EnvironmentId,
    pub environment: String,
    pub key_id: KeyId,
    pub origin: Option<String>,
    /// The tenant's settings as cached for the SDK path.
    pub tenant: Arc<TenantView>,
    /// The tenant's change generation `tenant` is current for.
    pub generation: u64,
}

fn refuse(state: &AppState, reason: &'static str) -> ApiError {
    state.metrics.auth_failure("sdk", reason);
    tracing::info!(reason, "sdk authentication refused");
    ApiError::unauthenticated()
}

pub fn origin_allowed(state: &AppState, tenant_origins: &[AllowedOrigin], origin: &str) -> bool {
    let extra = match &state.config.http.allowed_origins {
        ExtraOrigins::Any => return true,
        ExtraOrigins::List(extra) => extra,
    };
    let Some(origin) = RequestOrigin::parse(origin) else {
        return false;
    };
    extra
        .iter()
        .chain(tenant_origins)
        .any(|o| o.admits(&origin))
}

fn key_from_query(query: Option<&str>) -> Option<String> {
    url::form_urlencoded::parse(query?.as_bytes())
        .find(|(k, _)| k == "key")
        .map(|(_, v)| v.into_owned())
}

impl FromRequestParts<AppState> for SdkClient {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        // `sendBeacon` cannot set headers: on page hide the SDK puts the
        // (public) publishable key in the query instead.
        let text = match parts.headers.get(KEY_HEADER) {
            Some(v) => v.to_str().ok().map(std::borrow::Cow::Borrowed),
            None => key_from_query(parts.uri.query()).map(std::borrow::Cow::Owned),
        };
        let Some(text) = text else {
            return Err(refuse(state, "missing"));
        };
        let Some(key) = PlainKey::parse(KeyKind::Publishable, text.trim()).ok() else {
            return Err(refuse(state, "malformed"));
        };
        let hash = key.hash();
        let found = state.caches.key(&hash).await?;
        let Some(found) = found.filter(|f| f.hash.ct_eq(&hash)) else {
            return Err(refuse(state, "unknown_key"));
        };
        if !found.key.is_active(state.clock.now()) {
            return Err(refuse(state, "revoked_key"));
        }
        record_tenant(&found.key.tenant_id);
        record_key(&found.key.id);
        let origin = parts
            .headers
            .get(header::ORIGIN)
            .map(HeaderValue::to_str)
            .transpose()
            .map_err(|_| ApiError::new(ErrorCode::OriginNotAllowed, "origin not allowed"))?
            .map(str::to_owned);
        let generation = state.caches.generations.tenant(found.key.tenant_id);
        let tenant = state
            .caches
            .tenant_at(found.key.tenant_id, generation)
            .await?
            .ok_or_else(ApiError::unauthenticated)?;
        if let Some(o) = &origin {
            if !origin_allowed(state, &tenant.origins, o) {
                state.metrics.auth_failure("sdk", "origin");
                return Err(ApiError::new(
                    ErrorCode::OriginNotAllowed,
                    "this origin is not allowed for the key's tenant",
                ));
            }
            // From here on the answer, whatever it is, may be read there.
            crate::middleware::CorsGrant::grant(&parts.extensions);
        }
        if let Err(wait) = state.limits.sdk.check(
            &found.key.tenant_id,
            tenant.settings.rate_limits.sdk_per_minute,
        ) {
            state
                .metrics
                .rate_limited
                .get_or_create(&crate::metrics::ScopeLabels { scope: "sdk" })
                .inc();
            return Err(ApiError::rate_limited(wait));
        }
        Ok(SdkClient {
            tenant_id: found.key.tenant_id,
            environment_id: found.key.environment_id,
            environment: found.key.environment.clone(),
            key_id: found.key.id,
            origin,
            tenant,
            generation,
        })
    }
}
