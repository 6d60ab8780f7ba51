//! Usage per tenant and environment — config requests, events ingested,
//! deliveries — counted on each node as it happens (one map update per
//! request) and, every few seconds ([`start_flush`]), added to the store's
//! daily rows and then to Prometheus counters (labelled by tenant and
//! environment id, never by user), so
//! `GET /v1/operator/usage` sums every node. Active users are recorded by
//! the profile writer (one row per user and month).

use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;
use spotlight_domain::{Clock, EnvironmentId, TenantId};
use spotlight_store::{Store, UsageCounts};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// An id as a Prometheus label value, without allocating a string per count.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub struct Id<T>(pub T);

impl<T: std::fmt::Display> EncodeLabelValue for Id<T> {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> Result<(), std::fmt::Error> {
        write!(encoder, "{}", self.0)
    }
}

#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct UsageLabels {
    pub tenant: Id<TenantId>,
    pub environment: Id<EnvironmentId>,
}

type Key = (TenantId, EnvironmentId);

/// Counts not yet added to the store, and the counters they go to after.
#[derive(Default)]
pub struct UsageMeter {
    pending: Mutex<HashMap<Key, UsageCounts, foldhash::quality::RandomState>>,
    config_requests: Family<UsageLabels, Counter>,
    events_ingested: Family<UsageLabels, Counter>,
    deliveries: Family<UsageLabels, Counter>,
}

pub enum What {
    ConfigRequest,
    Events(u64),
    Delivery,
}

impl UsageMeter {
    /// Registers `spotlight_usage_*_total`.
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "usage_config_requests",
            "SDK config requests answered, per tenant and environment (billing and cost attribution)",
            self.config_requests.clone(),
        );
        registry.register(
            "usage_events_ingested",
            "Events stored, per tenant and environment",
            self.events_ingested.clone(),
        );
        registry.register(
            "usage_deliveries",
            "Deliveries made to webhooks and NATS, per tenant and environment",
            self.deliveries.clone(),
        );
    }

    /// Counts usage of one environment (the next flush adds it to the store,
    /// then to the Prometheus counters).
    pub fn used(&self, tenant: TenantId, environment: EnvironmentId, what: What) {
        if let Ok(mut p) = self.pending.lock() {
            let c = p.entry((tenant, environment)).or_default();
            match what {
                What::ConfigRequest => c.config_requests += 1,
                What::Events(n) => c.events_ingested += n,
                What::Delivery => c.deliveries += 1,
            }
        }
    }

    fn export(&self, rows: &[(TenantId, EnvironmentId, UsageCounts)]) {
        for (tenant, environment, c) in rows {
            let labels = UsageLabels {
                tenant: Id(*tenant),
                environment: Id(*environment),
            };
            for (family, n) in [
                (&self.config_requests, c.config_requests),
                (&self.events_ingested, c.events_ingested),
                (&self.deliveries, c.deliveries),
            ] {
                if n > 0 {
                    family.get_or_create(&labels).inc_by(n);
                }
            }
        }
    }

    fn take(&self) -> Vec<(TenantId, EnvironmentId, UsageCounts)> {
        let Ok(mut p) = self.pending.lock() else {
            return Vec::new();
        };
        p.drain()
            .filter(|(_, c)| !c.is_zero())
            .map(|((t, e), c)| (t, e, c))
            .collect()
    }

    /// A failed flush's counts wait for the next one.
    fn put_back(&self, rows: Vec<(TenantId, EnvironmentId, UsageCounts)>) {
        if let Ok(mut p) = self.pending.lock() {
            for (t, e, c) in rows {
                let x = p.entry((t, e)).or_default();
                x.config_requests += c.config_requests;
                x.events_ingested += c.events_ingested;
                x.deliveries += c.deliveries;
            }
        }
    }
}

/// Adds this node's pending counts to today's rows (UTC day of the flush).
pub async fn flush(store: &Store, meter: &UsageMeter, clock: &dyn Clock) {
    let rows = meter.take();
    if rows.is_empty() {
        return;
    }
    let now = clock.now().to_rfc3339();
    let day = now.get(..10).unwrap_or(&now);
    match store.add_usage(day, &rows).await {
        Ok(()) => meter.export(&rows),
        Err(e) => {
            tracing::warn!(error = %e, "usage not recorded yet; retrying with the next flush");
            meter.put_back(rows);
        }
    }
}

/// Flushes every `every` until aborted (the last flush runs at shutdown, in `serve`).
pub fn start_flush(
    store: Store,
    meter: Arc<UsageMeter>,
    clock: Arc<dyn Clock>,
    every: Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            flush(&store, &meter, clock.as_ref()).await;
        }
    })
}
