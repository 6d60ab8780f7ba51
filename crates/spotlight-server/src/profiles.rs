//! End-user profiles, written behind the SDK path: a config request queues its
//! user's profile when it is new or changed (or last written long ago), and one
//! task applies the queue in batches, the latest write per user winning.

use crate::metrics::Metrics;
use moka::sync::Cache as SyncCache;
use spotlight_domain::EnvironmentId;
use spotlight_store::{ProfileWrite, Store};
use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, Notify};

/// Bounded queue of profile writes, applied in batches by one task.
pub struct ProfileWriter {
    tx: mpsc::Sender<ProfileWrite>,
    /// (environment, user) → when last queued.
    seen: SyncCache<(EnvironmentId, String), i64, crate::cache::KeyHasher>,
    pending: Arc<AtomicUsize>,
    idle: Arc<Notify>,
    metrics: Arc<Metrics>,
}

/// Profiles are rewritten at most this often when nothing else changed (last seen).
const PROFILE_REFRESH_MS: i64 = 5 * 60 * 1000;

/// Whether two instants (Unix milliseconds) fall in the same UTC month.
fn same_month(a: i64, b: i64) -> bool {
    let month = |ms: i64| {
        time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
            .map(|t| (t.year(), t.month()))
            .ok()
    };
    month(a) == month(b)
}

impl ProfileWriter {
    /// The writer, and the task that applies its queue (started with the
    /// server's other background tasks; it ends when the writer is dropped).
    pub fn new(
        store: Store,
        metrics: Arc<Metrics>,
    ) -> (ProfileWriter, impl Future<Output = ()> + Send + 'static) {
        let (tx, mut rx) = mpsc::channel::<ProfileWrite>(10_000);
        let pending = Arc::new(AtomicUsize::new(0));
        let idle = Arc::new(Notify::new());
        let (p, i, m) = (pending.clone(), idle.clone(), metrics.clone());
        let task = async move {
            let mut batch = Vec::with_capacity(512);
            while rx.recv_many(&mut batch, 512).await > 0 {
                let n = batch.len();
                // The latest write per user wins.
                let mut latest: HashMap<(EnvironmentId, String), ProfileWrite> = HashMap::new();
                for w in batch.drain(..) {
                    latest.insert((w.environment, w.user_id.clone()), w);
                }
                let writes: Vec<ProfileWrite> = latest.into_values().collect();
                let result = match store.upsert_profiles(&writes).await {
                    Ok(()) => "written",
                    Err(e) => {
                        tracing::warn!(error = %e, count = writes.len(), "profile write failed");
                        "failed"
                    }
                };
                m.profile_writes
                    .get_or_create(&crate::metrics::ResultLabels { result })
                    .inc_by(writes.len() as u64);
                if p.fetch_sub(n, Ordering::SeqCst) == n {
                    i.notify_waiters();
                }
            }
        };
        let writer = ProfileWriter {
            tx,
            seen: SyncCache::builder()
                .max_capacity(200_000)
                .build_with_hasher(crate::cache::KeyHasher::default()),
            pending,
            idle,
            metrics,
        };
        (writer, task)
    }

    /// Queues a write when the profile is new or changed, or was last written
    /// long ago (last seen: `stored_seen` as read with the user's state, or
    /// this node's own last write); `write` is only built when one is queued.
    pub fn saw(
        &self,
        environment: EnvironmentId,
        user_id: &str,
        now: i64,
        changed: bool,
        stored_seen: i64,
        write: impl FnOnce() -> Option<ProfileWrite>,
    ) {
        // A user's first sight in a month is always written (monthly active users).
        let recent = |at: i64| now - at < PROFILE_REFRESH_MS && same_month(now, at);
        if !changed && recent(stored_seen) {
            return;
        }
        let key = (environment, user_id.to_owned());
        if !changed && self.seen.get(&key).is_some_and(recent) {
            return;
        }
        let Some(write) = write() else { return };
        self.pending.fetch_add(1, Ordering::SeqCst);
        match self.tx.try_send(write) {
            Ok(()) => self.seen.insert(key, now),
            Err(_) => {
                self.pending.fetch_sub(1, Ordering::SeqCst);
                Metrics::count(&self.metrics.profile_writes, "dropped");
            }
        }
    }

    /// Waits (bounded) until queued writes are in the store.
    pub async fn flush(&self, within: Duration) {
        let _ = tokio::time::timeout(within, async {
            while self.pending.load(Ordering::SeqCst) > 0 {
                let notified = self.idle.notified();
                if self.pending.load(Ordering::SeqCst) == 0 {
                    break;
                }
                let _ = tokio::time::timeout(Duration::from_millis(50), notified).await;
            }
        })
        .await;
    }
}
