//! Shared state handed to every handler.

use crate::auth::limits::LoginLimiter;
use crate::config::Config;
use crate::metrics::Metrics;
use crate::secrets::SecretBox;
use axum::http::HeaderMap;
use spotlight_domain::Clock;
use spotlight_store::Store;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

/// Cloned for every middleware layer and extractor of every request: one
/// reference count, not one per field (the SDK path's hottest atomics).
#[derive(Clone)]
pub struct AppState(Arc<AppStateInner>);

impl AppState {
    pub fn new(inner: AppStateInner) -> AppState {
        AppState(Arc::new(inner))
    }
}

impl std::ops::Deref for AppState {
    type Target = AppStateInner;
    fn deref(&self) -> &AppStateInner {
        &self.0
    }
}

pub struct AppStateInner {
    pub store: Store,
    pub config: Arc<Config>,
    pub metrics: Arc<Metrics>,
    pub clock: Arc<dyn Clock>,
    /// Where webhooks and JWKS fetches may go.
    pub outbound: Arc<spotlight_pipeline::outbound::OutboundPolicy>,
    pub login_limiter: Arc<LoginLimiter>,
    /// Encrypts secrets stored at rest (master key).
    pub secrets: Arc<SecretBox>,
    /// Caches and queues of the SDK path.
    pub delivery: Arc<crate::delivery::Delivery>,
    /// The demo host app's publishable key; set only by `spotlight demo`.
    pub demo: Arc<std::sync::OnceLock<String>>,
    /// Set on SIGTERM: `/readyz` answers 503 and answers close their
    /// connections, while requests are still served (`shutdown_drain_secs`).
    pub draining: std::sync::atomic::AtomicBool,
}

impl AppStateInner {
    pub fn is_draining(&self) -> bool {
        self.draining.load(std::sync::atomic::Ordering::Relaxed)
    }
}

impl AppState {
    /// Whether the user reached us over TLS (directly configured, or said by a trusted proxy).
    pub fn request_is_https(&self, headers: &HeaderMap) -> bool {
        if self.config.public_is_https() {
            return true;
        }
        self.config.http.trust_proxy
            && headers
                .get("x-forwarded-proto")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.eq_ignore_ascii_case("https"))
    }

    /// The client's address: the peer, or the last hop a trusted proxy recorded.
    pub fn client_ip(&self, headers: &HeaderMap, peer: Option<SocketAddr>) -> Option<IpAddr> {
        if self.config.http.trust_proxy {
            if let Some(ip) = headers
                .get("x-forwarded-for")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.rsplit(',').next())
                .and_then(|v| v.trim().parse().ok())
            {
                return Some(ip);
            }
        }
        peer.map(|p| p.ip())
    }
}
