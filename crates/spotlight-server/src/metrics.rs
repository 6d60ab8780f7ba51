//! Prometheus metrics, one registry per running server (so tests that start
//! several servers in one process see only their own). Names follow
//! `spotlight_<area>_<what>_<unit>`.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub method: String,
    pub route: String,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub method: String,
    pub route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct AuthFailureLabels {
    pub kind: &'static str,
    pub reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ScopeLabels {
    pub scope: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct BuildLabels {
    pub version: &'static str,
    pub store: &'static str,
    pub mode: &'static str,
}

pub struct Metrics {
    registry: Registry,
    pub requests: Family<RequestLabels, Counter>,
    pub request_duration: Family<RouteLabels, Histogram>,
    pub auth_failures: Family<AuthFailureLabels, Counter>,
    pub rate_limited: Family<ScopeLabels, Counter>,
    pub startup_seconds: Gauge<f64, AtomicU64>,
    pub build_info: Family<BuildLabels, Gauge>,
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("spotlight");
        let requests = Family::<RequestLabels, Counter>::default();
        let request_duration = Family::<RouteLabels, Histogram>::new_with_constructor(|| {
            Histogram::new([
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
            ])
        });
        let auth_failures = Family::<AuthFailureLabels, Counter>::default();
        let rate_limited = Family::<ScopeLabels, Counter>::default();
        let startup_seconds = Gauge::<f64, AtomicU64>::default();
        let build_info = Family::<BuildLabels, Gauge>::default();
        registry.register(
            "http_requests",
            "HTTP requests by route and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency by route",
            request_duration.clone(),
        );
        registry.register(
            "auth_failures",
            "Refused credentials by kind of caller and reason",
            auth_failures.clone(),
        );
        registry.register(
            "rate_limited_requests",
            "Requests refused by a rate limit, by scope",
            rate_limited.clone(),
        );
        registry.register(
            "startup_duration_seconds",
            "Time from process start to ready",
            startup_seconds.clone(),
        );
        registry.register(
            "build_info",
            "Version, store and mode of this node",
            build_info.clone(),
        );
        Metrics {
            registry,
            requests,
            request_duration,
            auth_failures,
            rate_limited,
            startup_seconds,
            build_info,
        }
    }

    pub fn auth_failure(&self, kind: &'static str, reason: &'static str) {
        self.auth_failures
            .get_or_create(&AuthFailureLabels { kind, reason })
            .inc();
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}
