//! Shared state handed to every handler: the server's named parts.
//!
//! Each part is built in `serve.rs`, which also starts every background task.

use crate::auth::limits::Limits;
use crate::config::Config;
use crate::delivery::Caches;
use crate::identity::Identity;
use crate::ingest::Ingestor;
use crate::metrics::Metrics;
use crate::monitor::IdentityMonitor;
use crate::profiles::ProfileWriter;
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
    /// The HTTP client of SSO sign-ins (the outbound policy's: checked
    /// addresses, no redirects, a timeout).
    pub sso_http: reqwest::Client,
    /// Sends invitations and sign-in alerts, when SMTP is configured.
    pub mailer: Option<Arc<crate::mail::Mailer>>,
    /// Encrypts secrets stored at rest (master key).
    pub secrets: Arc<SecretBox>,
    /// Bounded caches of the SDK path and of API-key authentication.
    pub caches: Caches,
    /// End-user identity verification (JWKS, HS256 secrets).
    pub identity: Identity,
    /// Identity verification's monitor-mode tallies.
    pub monitor: Arc<IdentityMonitor>,
    /// SDK, admin and login rate limits.
    pub limits: Arc<Limits>,
    /// Group commit of event batches.
    pub ingest: Ingestor,
    /// Rung when deliveries are waiting (by ingest, by a replay): the relay listens.
    pub relay_wake: crate::ingest::Wake,
    /// End-user profiles, written behind the SDK path.
    pub profiles: ProfileWriter,
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

    /// The server's own address for links that leave it (the provider's
    /// redirect URI, mailed links): the configured public URL, else this
    /// request's host.
    pub fn base_url(&self, headers: &HeaderMap) -> String {
        if let Some(url) = &self.config.http.public_url {
            return url.trim_end_matches('/').to_owned();
        }
        let host = headers
            .get(axum::http::header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("localhost");
        let scheme = if self.request_is_https(headers) {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://{host}")
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
