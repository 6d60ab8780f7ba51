//! The outbox relay. Each round it leases due deliveries (several relays — one
//! per node — may run at once: PostgreSQL hands each row to one of them, and a
//! lease that runs out is claimed again), sends them, one sink's deliveries in
//! order and different sinks side by side, and settles each attempt: delivered,
//! retried later (exponential backoff with jitter), or dead after the last
//! attempt. A sink that keeps failing opens its circuit breaker: its deliveries
//! wait, unattempted, until a trial after the cool-down succeeds.

use crate::sinks::{nats_subject, Attempt, NatsSink, WebhookSink};
use crate::Observer;
use futures_util::future::join_all;
use rand::Rng;
use spotlight_domain::{EnvironmentId, TenantId, Timestamp};
use spotlight_store::{Claimed, Outcome, Store, StoreError, WebhookRecord};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;

pub const NATS_SINK: &str = "nats";

#[derive(Debug, Clone)]
pub struct RelayConfig {
    pub max_attempts: u32,
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    /// How long a claimed delivery is ours before another relay may take it.
    pub lease: Duration,
    /// Deliveries claimed per round.
    pub batch: usize,
    /// Consecutive failures that open a sink's circuit.
    pub breaker_threshold: u32,
    /// How long an open circuit waits before a trial.
    pub breaker_cooldown: Duration,
    /// How often to look for due deliveries when nobody wakes us.
    pub poll: Duration,
    /// Where webhooks may be sent.
    pub outbound: Arc<crate::outbound::OutboundPolicy>,
}

/// How often the backlog gauge is measured.
const BACKLOG_EVERY: Duration = Duration::from_secs(5);

impl Default for RelayConfig {
    fn default() -> Self {
        RelayConfig {
            max_attempts: 12,
            backoff_base: Duration::from_secs(1),
            backoff_max: Duration::from_secs(3600),
            lease: Duration::from_secs(60),
            batch: 64,
            breaker_threshold: 5,
            breaker_cooldown: Duration::from_secs(30),
            poll: Duration::from_millis(250),
            outbound: Arc::default(),
        }
    }
}

/// The delay before attempt `attempt + 1`: base × 2^(attempt−1), capped, and
/// drawn between half and all of that so failing clients do not retry in step.
pub fn backoff(config: &RelayConfig, attempt: i64, jitter: f64) -> Duration {
    let exp = u32::try_from(attempt.saturating_sub(1).clamp(0, 30)).unwrap_or(30);
    let full = config
        .backoff_base
        .saturating_mul(2u32.saturating_pow(exp))
        .min(config.backoff_max);
    full.mul_f64(0.5 + 0.5 * jitter.clamp(0.0, 1.0))
}

#[derive(Debug, Default, Clone, Copy)]
struct Circuit {
    failures: u32,
    open_until: i64,
}

/// Per-sink circuit breakers of this relay.
#[derive(Default)]
pub struct Breaker {
    circuits: Mutex<HashMap<String, Circuit>>,
}

impl Breaker {
    /// Sinks whose circuit is open at `now` (their deliveries are not claimed).
    pub fn paused(&self, now: i64) -> Vec<String> {
        self.circuits
            .lock()
            .map(|c| {
                c.iter()
                    .filter(|(_, s)| s.open_until > now)
                    .map(|(k, _)| k.clone())
                    .collect()
            })
            .unwrap_or_default()
    }

    fn is_open(&self, sink: &str, now: i64) -> bool {
        self.circuits
            .lock()
            .map(|c| c.get(sink).is_some_and(|s| s.open_until > now))
            .unwrap_or(false)
    }

    fn success(&self, sink: &str) {
        if let Ok(mut c) = self.circuits.lock() {
            c.remove(sink);
        }
    }

    /// Returns whether the circuit is now open.
    fn failure(&self, sink: &str, now: i64, threshold: u32, cooldown: Duration) -> bool {
        let Ok(mut c) = self.circuits.lock() else {
            return false;
        };
        let s = c.entry(sink.to_owned()).or_default();
        s.failures += 1;
        if s.failures >= threshold {
            s.open_until = now + i64::try_from(cooldown.as_millis()).unwrap_or(i64::MAX);
            true
        } else {
            false
        }
    }
}

/// Opens a sealed webhook secret.
pub type SecretOpener = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

pub struct Relay {
    store: Store,
    config: RelayConfig,
    webhooks: WebhookSink,
    nats: Option<Arc<NatsSink>>,
    open_secret: SecretOpener,
    observer: Arc<dyn Observer>,
    breaker: Breaker,
    wake: Arc<Notify>,
    env_names: Mutex<HashMap<EnvironmentId, String>>,
    /// Attempts made this round, written together when it ends: one write
    /// transaction per round instead of one per attempt (with SQLite, relay
    /// writes take turns with ingest on the one writer).
    settled: Mutex<Vec<Settled>>,
}

type Settled = (Claimed, Outcome, Option<i64>, i64);

impl Relay {
    pub fn new(
        store: Store,
        config: RelayConfig,
        nats: Option<Arc<NatsSink>>,
        open_secret: SecretOpener,
        observer: Arc<dyn Observer>,
        wake: Arc<Notify>,
    ) -> Result<Relay, String> {
        Ok(Relay {
            store,
            webhooks: WebhookSink::new(&config.outbound)?,
            config,
            nats,
            open_secret,
            observer,
            breaker: Breaker::default(),
            wake,
            env_names: Mutex::default(),
            settled: Mutex::default(),
        })
    }

    fn now(&self) -> Timestamp {
        self.store.clock().now()
    }

    /// Runs rounds until the task is aborted; beside them, every 5 s, the
    /// backlog gauge — measured apart from the rounds, so that a round held up
    /// by a slow receiver does not hide the backlog it causes.
    pub fn start(self: Arc<Self>) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let backlog = async {
                loop {
                    let now = self.now();
                    if let Ok(b) = self.store.outbox_backlog().await {
                        let age = b
                            .oldest_created_at
                            .map_or(0.0, |c| (now.millis() - c).max(0) as f64 / 1000.0);
                        self.observer.backlog(b.pending, age);
                    }
                    tokio::time::sleep(BACKLOG_EVERY).await;
                }
            };
            let rounds = async {
                loop {
                    match self.round().await {
                        Ok(n) if n > 0 => continue,
                        Ok(_) => {}
                        Err(e) => tracing::warn!(error = %e, "relay round failed"),
                    }
                    tokio::select! {
                        () = self.wake.notified() => {}
                        () = tokio::time::sleep(self.config.poll) => {}
                    }
                }
            };
            tokio::join!(backlog, rounds);
        })
    }

    /// One round: claims what is due and attempts it. Returns how many it claimed.
    pub async fn round(&self) -> Result<usize, StoreError> {
        let paused = self.breaker.paused(self.now().millis());
        let lease = i64::try_from(self.config.lease.as_millis()).unwrap_or(60_000);
        let claimed = self
            .store
            .claim_deliveries(self.config.batch, lease, &paused)
            .await?;
        let n = claimed.len();
        let mut by_sink: BTreeMap<String, Vec<Claimed>> = BTreeMap::new();
        for c in claimed {
            by_sink.entry(c.sink.clone()).or_default().push(c);
        }
        let started = std::time::Instant::now();
        let results = join_all(
            by_sink
                .into_values()
                .map(|list| self.deliver_all(list, started)),
        )
        .await;
        let settled: Vec<Settled> = self
            .settled
            .lock()
            .map(|mut v| std::mem::take(&mut *v))
            .unwrap_or_default();
        // What was sent is recorded even when another sink's round failed; a
        // failure here leaves the leases to run out, and those deliveries are
        // attempted again (at least once).
        self.store.finish_attempts(&settled).await?;
        for r in results {
            r?;
        }
        Ok(n)
    }

    /// Attempts one sink's claimed deliveries in turn. Past half the lease
    /// (a slow receiver), the rest are given back unattempted: held longer,
    /// their leases would run out and another relay would send them too.
    async fn deliver_all(
        &self,
        list: Vec<Claimed>,
        started: std::time::Instant,
    ) -> Result<(), StoreError> {
        let mut webhook: Option<Option<WebhookRecord>> = None;
        for c in list {
            let now = self.now();
            if started.elapsed() > self.config.lease / 2 {
                self.store.release_delivery(&c, now).await?;
                continue;
            }
            if self.breaker.is_open(&c.sink, now.millis()) {
                self.store.release_delivery(&c, now).await?;
                self.observer.attempt(kind(&c.sink), "skipped");
                continue;
            }
            if c.sink == NATS_SINK {
                self.deliver_nats(&c).await?;
                continue;
            }
            if webhook.is_none() {
                webhook = Some(
                    self.store
                        .webhook_for_delivery(c.tenant_id, &c.sink)
                        .await?,
                );
            }
            match webhook.as_ref().and_then(Option::as_ref) {
                None => {
                    self.settle(
                        &c,
                        Attempt::Failed {
                            status: None,
                            error: "the webhook was deleted".into(),
                        },
                        Duration::ZERO,
                        true,
                    );
                }
                Some(w) if !w.enabled => {
                    // Disabled: keep the delivery for when it is enabled again.
                    self.store.release_delivery(&c, now.plus_secs(60)).await?;
                    self.observer.attempt("webhook", "skipped");
                }
                Some(w) => {
                    let mut secrets = vec![(self.open_secret)(&w.secret)];
                    if let (Some(prev), Some(until)) = (&w.previous_secret, w.previous_until) {
                        if until > now {
                            secrets.push((self.open_secret)(prev));
                        }
                    }
                    let secrets: Vec<String> = secrets.into_iter().flatten().collect();
                    if secrets.is_empty() {
                        self.settle(
                            &c,
                            Attempt::Failed {
                                status: None,
                                error: "the webhook secret cannot be opened (master key changed?)"
                                    .into(),
                            },
                            Duration::ZERO,
                            false,
                        );
                        continue;
                    }
                    let keys: Vec<&[u8]> = secrets.iter().map(String::as_bytes).collect();
                    let (attempt, took) = self
                        .webhooks
                        .send(
                            &crate::sinks::Outgoing {
                                url: &w.url,
                                delivery_id: &c.id,
                                attempt: c.attempt,
                                events: c.event_count,
                                body: &c.payload,
                            },
                            &keys,
                            now.millis() / 1000,
                        )
                        .await;
                    self.settle(&c, attempt, took, false);
                }
            }
        }
        Ok(())
    }

    async fn deliver_nats(&self, c: &Claimed) -> Result<(), StoreError> {
        let Some(nats) = &self.nats else {
            // NATS was configured when the event arrived, and is not now.
            self.store
                .release_delivery(c, self.now().plus_secs(60))
                .await?;
            return Ok(());
        };
        let env = self.env_name(c.tenant_id, c.environment_id).await?;
        let subject = nats_subject(&c.tenant_id.to_string(), &env);
        let (attempt, took) = nats.publish(subject, &c.id, &c.payload).await;
        self.settle(c, attempt, took, false);
        Ok(())
    }

    async fn env_name(&self, tenant: TenantId, env: EnvironmentId) -> Result<String, StoreError> {
        if let Some(n) = self
            .env_names
            .lock()
            .ok()
            .and_then(|m| m.get(&env).cloned())
        {
            return Ok(n);
        }
        let name = self
            .store
            .environments(tenant)
            .await?
            .into_iter()
            .find(|e| e.id == env)
            .map(|e| e.name)
            .unwrap_or_else(|| env.to_string());
        if let Ok(mut m) = self.env_names.lock() {
            m.insert(env, name.clone());
        }
        Ok(name)
    }

    /// Records the attempt and decides what follows.
    fn settle(&self, c: &Claimed, attempt: Attempt, took: Duration, give_up: bool) {
        let now = self.now();
        let sink_kind = kind(&c.sink);
        let status = attempt.status().map(i64::from);
        let outcome = match attempt {
            Attempt::Delivered { .. } => {
                self.breaker.success(&c.sink);
                self.observer.attempt(sink_kind, "delivered");
                self.observer.delivered(c.tenant_id, c.environment_id);
                Outcome::Delivered
            }
            Attempt::Failed { error, .. } => {
                self.observer.attempt(sink_kind, "failed");
                if self.breaker.failure(
                    &c.sink,
                    now.millis(),
                    self.config.breaker_threshold,
                    self.config.breaker_cooldown,
                ) {
                    tracing::warn!(sink = %c.sink, "sink keeps failing: circuit open");
                }
                if give_up || c.attempt >= i64::from(self.config.max_attempts) {
                    self.observer.dead_letter(sink_kind);
                    tracing::warn!(delivery = %c.id, sink = %c.sink, attempts = c.attempt, error = %error, "delivery dead-lettered");
                    Outcome::Dead { error }
                } else {
                    let delay = backoff(&self.config, c.attempt, rand::thread_rng().gen::<f64>());
                    let at = Timestamp(
                        now.millis() + i64::try_from(delay.as_millis()).unwrap_or(i64::MAX / 2),
                    );
                    Outcome::Retry { at, error }
                }
            }
        };
        let took_ms = i64::try_from(took.as_millis()).unwrap_or(i64::MAX);
        if let Ok(mut v) = self.settled.lock() {
            v.push((c.clone(), outcome, status, took_ms));
        }
    }
}

fn kind(sink: &str) -> &'static str {
    if sink == NATS_SINK {
        "nats"
    } else {
        "webhook"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_and_a_cap() {
        let c = RelayConfig {
            backoff_base: Duration::from_secs(1),
            backoff_max: Duration::from_secs(60),
            ..RelayConfig::default()
        };
        assert_eq!(backoff(&c, 1, 1.0), Duration::from_secs(1));
        assert_eq!(backoff(&c, 3, 1.0), Duration::from_secs(4));
        assert_eq!(backoff(&c, 3, 0.0), Duration::from_secs(2));
        assert_eq!(backoff(&c, 20, 1.0), Duration::from_secs(60));
    }

    #[test]
    fn breaker_opens_after_the_threshold_and_closes_on_success() {
        let b = Breaker::default();
        let cool = Duration::from_secs(30);
        assert!(!b.failure("w", 0, 3, cool));
        assert!(!b.failure("w", 0, 3, cool));
        assert!(b.failure("w", 0, 3, cool));
        assert_eq!(b.paused(1_000), vec!["w".to_string()]);
        assert!(b.paused(31_000).is_empty(), "half-open after the cool-down");
        b.success("w");
        assert!(!b.failure("w", 40_000, 3, cool));
    }
}
