//! Spotlight's event pipeline after ingest. Ingest (in the server) commits events
//! and their outbox rows together; from there the [`relay::Relay`] delivers each
//! outbox row at least once to its sink ([`sinks`]: webhooks signed per
//! [`signature`], NATS JetStream), retrying with backoff behind a per-sink
//! circuit breaker, and [`retention`] removes what is past its keeping time.

pub mod outbound;
pub mod relay;
pub mod retention;
pub mod signature;
pub mod sinks;

/// Where the pipeline reports what it does (the server's metrics).
pub trait Observer: Send + Sync + 'static {
    /// One attempt at a sink (`webhook` | `nats`) ended: `delivered`, `failed`,
    /// or `skipped` (circuit open, sink disabled).
    fn attempt(&self, sink: &'static str, result: &'static str);
    /// A delivery ran out of attempts.
    fn dead_letter(&self, sink: &'static str);
    /// Deliveries waiting, and the age of the oldest.
    fn backlog(&self, pending: i64, oldest_age_secs: f64);
    /// Rows removed by the retention job.
    fn removed(&self, table: &'static str, rows: u64);
    /// A delivery of this environment's events reached its sink (usage).
    fn delivered(
        &self,
        _tenant: spotlight_domain::TenantId,
        _environment: spotlight_domain::EnvironmentId,
    ) {
    }
}

/// An observer that forgets everything (tools and tests).
pub struct Quiet;

impl Observer for Quiet {
    fn attempt(&self, _: &'static str, _: &'static str) {}
    fn dead_letter(&self, _: &'static str) {}
    fn backlog(&self, _: i64, _: f64) {}
    fn removed(&self, _: &'static str, _: u64) {}
}
