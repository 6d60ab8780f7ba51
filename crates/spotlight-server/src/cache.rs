//! Bounded read-through caches for the SDK hot path, and what keeps them correct.
//!
//! Correctness comes from generations, not from timing: every change the store
//! announces (this node at once, other nodes through PostgreSQL NOTIFY) bumps a
//! counter, and an entry loaded under an older generation is never served again.
//! Because the generation is read *before* loading, a load racing a change can
//! only store an entry that is already outdated, never a stale one that looks
//! current. Freshness bounds what no notice can reach (another process changing
//! SQLite), and stale-if-error keeps serving an entry whose generation is still
//! current while the database is down, up to a configured age.

use crate::metrics::Metrics;
use moka::future::Cache;
use spotlight_domain::Clock;
use std::hash::Hash;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

struct Slot<V> {
    value: Option<Arc<V>>,
    generation: u64,
    loaded_at: i64,
    /// Set when the last refresh failed: `value` (if any) is stale.
    failed: bool,
    retry_at: i64,
    /// Set once a background refresh of this slot has been started.
    refreshing: Arc<AtomicBool>,
}

impl<V> Clone for Slot<V> {
    fn clone(&self) -> Self {
        Slot {
            value: self.value.clone(),
            generation: self.generation,
            loaded_at: self.loaded_at,
            failed: self.failed,
            retry_at: self.retry_at,
            refreshing: self.refreshing.clone(),
        }
    }
}

/// Why a lookup has nothing to serve.
#[derive(Debug, thiserror::Error)]
#[error("{0} is unavailable")]
pub struct Unavailable(pub &'static str);

pub struct CacheSettings {
    pub fresh: Duration,
    pub max_stale: Duration,
    /// Bound on the estimated bytes held.
    pub max_bytes: u64,
    pub stale_while_refreshing: bool,
}

/// The hash for cache keys: seeded per process (keys such as end-user ids
/// come from clients), and cheaper than SipHash on the SDK's hot path.
pub type KeyHasher = foldhash::quality::RandomState;

/// A read-through cache whose values say how many bytes they hold.
pub struct Cached<K, V> {
    name: &'static str,
    inner: Cache<K, Slot<V>, KeyHasher>,
    /// Resolved once: hits are most lookups.
    hits: prometheus_client::metrics::counter::Counter,
    fresh_ms: i64,
    max_stale_ms: i64,
    stale_while_refreshing: bool,
    clock: Arc<dyn Clock>,
    metrics: Arc<Metrics>,
}

/// Rough size of a cached value, for the memory bound.
pub trait Weigh {
    fn weigh(&self) -> usize;
}

impl<K, V> Cached<K, V>
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
    V: Weigh + Send + Sync + 'static,
{
    pub fn new(
        name: &'static str,
        settings: CacheSettings,
        clock: Arc<dyn Clock>,
        metrics: Arc<Metrics>,
    ) -> Self {
        let inner = Cache::builder()
            .name(name)
            .max_capacity(settings.max_bytes)
            .weigher(|_k, v: &Slot<V>| {
                let bytes = 64 + v.value.as_ref().map_or(0, |v| v.weigh());
                u32::try_from(bytes).unwrap_or(u32::MAX)
            })
            .time_to_live(settings.fresh + settings.max_stale)
            .build_with_hasher(KeyHasher::default());
        Cached {
            name,
            inner,
            hits: metrics.cache_hits(name),
            fresh_ms: i64::try_from(settings.fresh.as_millis()).unwrap_or(i64::MAX),
            max_stale_ms: i64::try_from(settings.max_stale.as_millis()).unwrap_or(i64::MAX),
            stale_while_refreshing: settings.stale_while_refreshing,
            clock,
            metrics,
        }
    }

    /// The value for `key` under `generation`, loading it (once, however many
    /// ask at the same time) when missing, outdated or past its freshness.
    /// `load` makes the loading future (only when one is needed), which answers `Ok(None)` for "does not exist", which is cached too.
    /// With `stale_while_refreshing`, a current-generation value past its
    /// freshness is served at once while one background task refreshes it.
    pub async fn get<L, F, E>(
        &self,
        key: K,
        generation: u64,
        load: L,
    ) -> Result<Option<Arc<V>>, Unavailable>
    where
        L: FnOnce() -> F,
        F: std::future::Future<Output = Result<Option<V>, E>> + Send + 'static,
        E: std::fmt::Display,
    {
        let now = self.clock.now().millis();
        let prev = self.inner.get(&key).await;
        if let Some(s) = prev.as_ref().filter(|s| s.generation == generation) {
            let age = now - s.loaded_at;
            if !s.failed && age < self.fresh_ms {
                self.hits.inc();
                return Ok(s.value.clone());
            }
            if self.stale_while_refreshing
                && s.value.is_some()
                && age < self.fresh_ms + self.max_stale_ms
            {
                if (!s.failed || now >= s.retry_at) && !s.refreshing.swap(true, Ordering::AcqRel) {
                    let refresh = self.refresh(key, generation, prev.clone(), load(), now);
                    // The refresh stays in the trace of the request that asked.
                    tokio::spawn(tracing::Instrument::in_current_span(refresh));
                }
                self.metrics
                    .cache_lookup(self.name, if s.failed { "stale" } else { "refresh" });
                return Ok(s.value.clone());
            }
        }
        let slot = self.refresh(key, generation, prev, load(), now).await;
        if !slot.failed {
            self.metrics.cache_lookup(self.name, "miss");
            return Ok(slot.value);
        }
        let age = now - slot.loaded_at;
        match slot.value {
            Some(v) if slot.generation == generation && age < self.fresh_ms + self.max_stale_ms => {
                self.metrics.cache_lookup(self.name, "stale");
                Ok(Some(v))
            }
            _ => {
                self.metrics.cache_lookup(self.name, "error");
                Err(Unavailable(self.name))
            }
        }
    }

    /// Loads into the cache unless someone else already did; concurrent
    /// refreshes of one key run `load` once.
    fn refresh<F, E>(
        &self,
        key: K,
        generation: u64,
        prev: Option<Slot<V>>,
        load: F,
        now: i64,
    ) -> impl std::future::Future<Output = Slot<V>> + Send + 'static
    where
        F: std::future::Future<Output = Result<Option<V>, E>> + Send + 'static,
        E: std::fmt::Display,
    {
        let (inner, clock, name, fresh_ms) = (
            self.inner.clone(),
            self.clock.clone(),
            self.name,
            self.fresh_ms,
        );
        let init = async move {
            match load.await {
                Ok(v) => Slot {
                    value: v.map(Arc::new),
                    generation,
                    loaded_at: clock.now().millis(),
                    failed: false,
                    retry_at: 0,
                    refreshing: Arc::default(),
                },
                Err(e) => {
                    tracing::warn!(cache = name, error = %e, "cache refresh failed");
                    let now = clock.now().millis();
                    match prev.filter(|p| p.generation == generation) {
                        // Keep the last good value; try again in a second.
                        Some(p) => Slot {
                            failed: true,
                            retry_at: now + 1000,
                            refreshing: Arc::default(),
                            ..p
                        },
                        None => Slot {
                            value: None,
                            generation,
                            loaded_at: now - fresh_ms,
                            failed: true,
                            retry_at: now,
                            refreshing: Arc::default(),
                        },
                    }
                }
            }
        };
        async move {
            inner
                .entry(key)
                .or_insert_with_if(init, |s| {
                    s.generation != generation
                        || (s.failed && now >= s.retry_at)
                        || (!s.failed && now - s.loaded_at >= fresh_ms)
                })
                .await
                .into_value()
        }
    }

    /// Stores a value loaded outside [`Cached::get`].
    pub async fn put(&self, key: K, generation: u64, value: V) {
        let slot = Slot {
            value: Some(Arc::new(value)),
            generation,
            loaded_at: self.clock.now().millis(),
            failed: false,
            retry_at: 0,
            refreshing: Arc::default(),
        };
        self.inner.insert(key, slot).await;
    }

    /// Drops one entry (e.g. a user whose state this node just changed).
    pub async fn forget(&self, key: &K) {
        self.inner.invalidate(key).await;
    }

    pub fn entry_count(&self) -> u64 {
        self.inner.entry_count()
    }
}

impl Weigh for String {
    fn weigh(&self) -> usize {
        self.len()
    }
}
