//! Identity verification in monitor mode: this node counts, per environment
//! and hour, the SDK requests it checked and those enforcing would refuse (by
//! reason), and adds them to the store every few seconds, so the dashboard
//! shows the cluster's figures before a tenant switches to enforce.

use spotlight_domain::{Clock, EnvironmentId, TenantId};
use spotlight_store::{MonitorTally, Store};
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

type TallyKey = (TenantId, EnvironmentId, i64, &'static str);

pub const HOUR_MS: i64 = spotlight_domain::Timestamp::HOUR_MS;

/// The start of the hour `millis` falls in (tallies are kept per hour).
pub fn hour_start(millis: i64) -> i64 {
    millis.div_euclid(HOUR_MS) * HOUR_MS
}
/// Tallies older than this are removed.
const KEEP_MS: i64 = 30 * 24 * HOUR_MS;

pub struct IdentityMonitor {
    pending: Mutex<HashMap<TallyKey, u64>>,
    store: Store,
    clock: Arc<dyn Clock>,
}

impl IdentityMonitor {
    pub fn new(store: Store, clock: Arc<dyn Clock>) -> Arc<IdentityMonitor> {
        Arc::new(IdentityMonitor {
            pending: Mutex::default(),
            store,
            clock,
        })
    }

    /// Writes the tallies every two seconds and prunes old ones hourly, until
    /// the monitor is dropped (a background task of the server's).
    pub fn keep_flushing(monitor: &Arc<IdentityMonitor>) -> impl Future<Output = ()> + Send {
        let weak = Arc::downgrade(monitor);
        async move {
            let mut tick = tokio::time::interval(Duration::from_secs(2));
            let mut last_prune = 0_i64;
            loop {
                tick.tick().await;
                let Some(m) = weak.upgrade() else { return };
                m.flush().await;
                let now = m.clock.now().millis();
                if now - last_prune > HOUR_MS {
                    last_prune = now;
                    if let Err(e) = m.store.prune_identity_monitor(now - KEEP_MS).await {
                        tracing::warn!(error = %e, "pruning identity monitor tallies failed");
                    }
                }
            }
        }
    }

    /// Counts one request: `checked`, or a reason enforcing would refuse it.
    pub fn count(&self, tenant: TenantId, env: EnvironmentId, reason: &'static str) {
        let hour = hour_start(self.clock.now().millis());
        let mut p = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        *p.entry((tenant, env, hour, reason)).or_default() += 1;
    }

    /// Writes this node's tallies; on failure they are kept for the next try.
    pub async fn flush(&self) {
        let drained: Vec<(TallyKey, u64)> = {
            let mut p = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
            p.drain().collect()
        };
        if drained.is_empty() {
            return;
        }
        let tallies: Vec<MonitorTally> = drained
            .iter()
            .map(
                |((tenant, environment, hour, reason), count)| MonitorTally {
                    tenant: *tenant,
                    environment: *environment,
                    hour: *hour,
                    reason: (*reason).to_owned(),
                    count: *count,
                },
            )
            .collect();
        if let Err(e) = self.store.add_identity_monitor(&tallies).await {
            tracing::warn!(error = %e, "writing identity monitor tallies failed; kept for later");
            let mut p = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
            for (k, n) in drained {
                *p.entry(k).or_default() += n;
            }
        }
    }
}
