//! The retention job: every interval, removes raw events, finished deliveries,
//! the delivery log, dead letters and audit entries past their keeping time.

use crate::Observer;
use spotlight_domain::settings::TenantSettings;
use spotlight_domain::Timestamp;
use spotlight_store::{Purge, Store, StoreError};
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Clone, Copy)]
pub struct RetentionConfig {
    pub events: Duration,
    pub outbox: Duration,
    pub dead_letters: Duration,
    pub audit: Duration,
    pub interval: Duration,
}

const BATCH: u32 = 5_000;

impl RetentionConfig {
    fn keep(&self, what: Purge) -> Duration {
        match what {
            Purge::Events => self.events,
            Purge::Outbox => self.outbox,
            // The delivery log is shown for 30 days, like dead letters.
            Purge::DeadLetters | Purge::DeliveryAttempts => self.dead_letters,
            Purge::Audit => self.audit,
            Purge::Erasures => Duration::ZERO,
        }
    }
}

/// One pass over every kind of data; returns the rows removed per table.
pub async fn run_once(
    store: &Store,
    config: &RetentionConfig,
    observer: &dyn Observer,
) -> Result<Vec<(&'static str, u64)>, StoreError> {
    let now = store.clock().now();
    let mut out = Vec::new();
    for what in Purge::ALL {
        let keep = i64::try_from(config.keep(what).as_millis()).unwrap_or(i64::MAX / 2);
        let before = Timestamp(now.millis().saturating_sub(keep));
        let mut total = 0;
        loop {
            let n = store.purge(what, before, BATCH).await?;
            total += n;
            if n < u64::from(BATCH) {
                break;
            }
            tokio::task::yield_now().await;
        }
        observer.removed(what.table(), total);
        if total > 0 {
            tracing::info!(table = what.table(), rows = total, "retention removed rows");
        }
        out.push((what.table(), total));
    }
    // Tenants that keep events or audit entries for less than the server.
    for (tenant, json) in store.all_tenant_settings().await? {
        let Ok(settings) = serde_json::from_str::<TenantSettings>(&json) else {
            tracing::warn!(%tenant, "retention: unreadable tenant settings skipped");
            continue;
        };
        let own = [
            (Purge::Events, settings.retention.events_days),
            (Purge::Audit, settings.retention.audit_days),
        ];
        for (what, days) in own {
            let Some(days) = days else { continue };
            let keep = Duration::from_secs(u64::from(days) * 86_400);
            if keep >= config.keep(what) {
                continue;
            }
            let keep = i64::try_from(keep.as_millis()).unwrap_or(i64::MAX / 2);
            let before = Timestamp(now.millis().saturating_sub(keep));
            let mut total = 0;
            loop {
                let n = store.purge_tenant(what, tenant, before, BATCH).await?;
                total += n;
                if n < u64::from(BATCH) {
                    break;
                }
                tokio::task::yield_now().await;
            }
            observer.removed(what.table(), total);
            if total > 0 {
                tracing::info!(table = what.table(), %tenant, rows = total, "retention removed the tenant's rows");
                if let Some(entry) = out.iter_mut().find(|(t, _)| *t == what.table()) {
                    entry.1 += total;
                }
            }
        }
    }
    Ok(out)
}

pub fn start(
    store: Store,
    config: RetentionConfig,
    observer: Arc<dyn Observer>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(config.interval);
        loop {
            tick.tick().await;
            if let Err(e) = run_once(&store, &config, observer.as_ref()).await {
                tracing::warn!(error = %e, "retention pass failed");
            }
        }
    })
}
