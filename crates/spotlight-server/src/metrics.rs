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
use std::sync::Arc;

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
pub struct CacheLabels {
    pub cache: &'static str,
    pub result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ResultLabels {
    pub result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct MailLabels {
    pub kind: &'static str,
    pub result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabels {
    pub reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct BuildLabels {
    pub version: &'static str,
    pub store: &'static str,
    pub mode: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DeliveryLabels {
    pub sink: &'static str,
    pub result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TableLabels {
    pub table: &'static str,
}

pub struct Metrics {
    registry: Registry,
    pub events_ingested: Family<ResultLabels, Counter>,
    pub events_rejected: Family<ReasonLabels, Counter>,
    pub ingest_group_events: Histogram,
    pub ingest_commit_seconds: Histogram,
    pub outbox_backlog: Gauge,
    pub outbox_oldest_age_seconds: Gauge<f64, AtomicU64>,
    pub deliveries: Family<DeliveryLabels, Counter>,
    pub dead_letters: Family<DeliveryLabels, Counter>,
    pub retention_removed: Family<TableLabels, Counter>,
    pub requests: Family<RequestLabels, Counter>,
    pub request_duration: Family<RouteLabels, Histogram>,
    pub auth_failures: Family<AuthFailureLabels, Counter>,
    pub rate_limited: Family<ScopeLabels, Counter>,
    pub startup_seconds: Gauge<f64, AtomicU64>,
    /// 1 while `/readyz` last answered 200.
    pub ready: Gauge,
    /// The filesystem holding the data directory (the SQLite store): free and total bytes.
    pub disk_free_bytes: Gauge,
    pub disk_size_bytes: Gauge,
    pub build_info: Family<BuildLabels, Gauge>,
    pub cache_lookups: Family<CacheLabels, Counter>,
    pub sdk_config_served: Family<ResultLabels, Counter>,
    pub identity_monitor: Family<ReasonLabels, Counter>,
    pub jwks_fetches: Family<ResultLabels, Counter>,
    pub mails: Family<MailLabels, Counter>,
    pub profile_writes: Family<ResultLabels, Counter>,
    /// Usage counts not yet added to the store (see `usage`).
    pub usage: Arc<crate::usage::UsageMeter>,
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
        let ready = Gauge::default();
        let disk_free_bytes = Gauge::default();
        let disk_size_bytes = Gauge::default();
        registry.register(
            "ready",
            "1 while /readyz last answered 200 (store reachable, migrations current, backlog under threshold, not draining)",
            ready.clone(),
        );
        registry.register(
            "store_disk_free_bytes",
            "Bytes available to the server on the data directory's filesystem (SQLite store)",
            disk_free_bytes.clone(),
        );
        registry.register(
            "store_disk_size_bytes",
            "Size of the data directory's filesystem (SQLite store)",
            disk_size_bytes.clone(),
        );
        let cache_lookups = Family::<CacheLabels, Counter>::default();
        let sdk_config_served = Family::<ResultLabels, Counter>::default();
        let identity_monitor = Family::<ReasonLabels, Counter>::default();
        let jwks_fetches = Family::<ResultLabels, Counter>::default();
        let mails = Family::<MailLabels, Counter>::default();
        registry.register(
            "mails",
            "Mails sent (invitations, sign-in alerts) by kind and result",
            mails.clone(),
        );
        let profile_writes = Family::<ResultLabels, Counter>::default();
        registry.register(
            "cache_lookups",
            "Cache lookups by cache and result (hit, miss, refresh, stale, error)",
            cache_lookups.clone(),
        );
        registry.register(
            "sdk_config_served",
            "SDK configs answered, by result (full, not_modified, disabled)",
            sdk_config_served.clone(),
        );
        registry.register(
            "identity_monitor_would_refuse",
            "Requests identity verification in monitor mode would refuse, by reason",
            identity_monitor.clone(),
        );
        registry.register(
            "jwks_fetches",
            "JWKS downloads by result",
            jwks_fetches.clone(),
        );
        registry.register(
            "end_user_profile_writes",
            "End-user profile writes by result (written, dropped, failed)",
            profile_writes.clone(),
        );
        let usage = Arc::new(crate::usage::UsageMeter::default());
        usage.register(&mut registry);
        let events_ingested = Family::<ResultLabels, Counter>::default();
        let events_rejected = Family::<ReasonLabels, Counter>::default();
        let ingest_group_events = Histogram::new([
            1.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0, 2000.0, 5000.0,
        ]);
        let ingest_commit_seconds = Histogram::new([
            0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
        ]);
        let outbox_backlog = Gauge::default();
        let outbox_oldest_age_seconds = Gauge::<f64, AtomicU64>::default();
        let deliveries = Family::<DeliveryLabels, Counter>::default();
        let dead_letters = Family::<DeliveryLabels, Counter>::default();
        let retention_removed = Family::<TableLabels, Counter>::default();
        registry.register(
            "events_ingested",
            "Events stored (accepted) or recognised as resent (duplicate)",
            events_ingested.clone(),
        );
        registry.register(
            "events_rejected",
            "Events refused at ingest, by reason code",
            events_rejected.clone(),
        );
        registry.register(
            "ingest_group_events",
            "Events per group commit",
            ingest_group_events.clone(),
        );
        registry.register(
            "ingest_commit_seconds",
            "Time to commit one group of event batches",
            ingest_commit_seconds.clone(),
        );
        registry.register(
            "outbox_backlog",
            "Outbox deliveries waiting (pending)",
            outbox_backlog.clone(),
        );
        registry.register(
            "outbox_oldest_age_seconds",
            "Age of the oldest pending outbox delivery",
            outbox_oldest_age_seconds.clone(),
        );
        registry.register(
            "deliveries",
            "Delivery attempts by sink kind and result (delivered, failed, skipped)",
            deliveries.clone(),
        );
        registry.register(
            "dead_letters",
            "Deliveries moved to the dead-letter store, by sink kind",
            dead_letters.clone(),
        );
        registry.register(
            "retention_rows_removed",
            "Rows removed by the retention job, by table",
            retention_removed.clone(),
        );
        Metrics {
            registry,
            events_ingested,
            events_rejected,
            ingest_group_events,
            ingest_commit_seconds,
            outbox_backlog,
            outbox_oldest_age_seconds,
            deliveries,
            dead_letters,
            retention_removed,
            cache_lookups,
            sdk_config_served,
            identity_monitor,
            jwks_fetches,
            mails,
            profile_writes,
            usage,
            requests,
            request_duration,
            auth_failures,
            rate_limited,
            startup_seconds,
            ready,
            disk_free_bytes,
            disk_size_bytes,
            build_info,
        }
    }

    /// Counts a mail sent (or not).
    pub fn mail(&self, kind: &'static str, sent: bool) {
        let result = if sent { "sent" } else { "failed" };
        self.mails.get_or_create(&MailLabels { kind, result }).inc();
    }

    pub fn auth_failure(&self, kind: &'static str, reason: &'static str) {
        self.auth_failures
            .get_or_create(&AuthFailureLabels { kind, reason })
            .inc();
    }

    /// The counter of one cache's hits, to keep and bump without a label lookup.
    pub fn cache_hits(&self, cache: &'static str) -> Counter {
        self.cache_lookups
            .get_or_create(&CacheLabels {
                cache,
                result: "hit",
            })
            .clone()
    }

    pub fn cache_lookup(&self, cache: &'static str, result: &'static str) {
        self.cache_lookups
            .get_or_create(&CacheLabels { cache, result })
            .inc();
    }

    pub fn count(family: &Family<ResultLabels, Counter>, result: &'static str) {
        family.get_or_create(&ResultLabels { result }).inc();
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}

impl spotlight_pipeline::Observer for Metrics {
    fn attempt(&self, sink: &'static str, result: &'static str) {
        self.deliveries
            .get_or_create(&DeliveryLabels { sink, result })
            .inc();
    }
    fn dead_letter(&self, sink: &'static str) {
        self.dead_letters
            .get_or_create(&DeliveryLabels {
                sink,
                result: "dead",
            })
            .inc();
    }
    fn backlog(&self, pending: i64, oldest_age_secs: f64) {
        self.outbox_backlog.set(pending);
        self.outbox_oldest_age_seconds.set(oldest_age_secs);
    }
    fn delivered(
        &self,
        tenant: spotlight_domain::TenantId,
        environment: spotlight_domain::EnvironmentId,
    ) {
        self.usage
            .used(tenant, environment, crate::usage::What::Delivery);
    }
    fn removed(&self, table: &'static str, rows: u64) {
        self.retention_removed
            .get_or_create(&TableLabels { table })
            .inc_by(rows);
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}
