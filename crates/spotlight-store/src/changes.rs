//! Change counters for caches. Every committed mutation that can change what
//! the SDK is served (objects, keys, settings, origins) bumps its tenant's
//! generation: in this process synchronously, right after the commit and before
//! the caller gets an answer, and with PostgreSQL on every other node through
//! `pg_notify`, sent inside the same transaction so it is delivered if, and only
//! when, the change commits. A process that changes SQLite from outside the
//! server (the CLI) cannot notify it; the server bounds that case by how long it
//! trusts cached keys.

use crate::{Backend, Store, StoreError};
use spotlight_domain::TenantId;
use sqlx::{Any, Transaction};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// The PostgreSQL channel the nodes listen on.
pub const CHANNEL: &str = "spotlight_changes";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Something of this tenant changed.
    Tenant(TenantId),
    /// Anything may have changed (a restore, or notices may have been missed).
    All,
}

/// One sequence, the value it had at each tenant's last change and at the last
/// change of everything. Caches compare the generation they loaded under with
/// the current one: a change makes every older entry unusable at once.
#[derive(Debug, Default)]
pub struct Generations {
    seq: AtomicU64,
    all: AtomicU64,
    tenants: RwLock<HashMap<TenantId, u64>>,
    /// Notices received from other nodes.
    pub remote: AtomicU64,
    /// This process's tag in its notices, so it skips its own: it applied them
    /// at commit already, and applying one again when it comes back would
    /// outdate every entry cached in between.
    node: NodeTag,
}

#[derive(Debug)]
struct NodeTag(String);

impl Default for NodeTag {
    fn default() -> Self {
        NodeTag(uuid::Uuid::new_v4().simple().to_string())
    }
}

impl Generations {
    pub fn apply(&self, change: Change) {
        let next = self.seq.fetch_add(1, Ordering::SeqCst) + 1;
        match change {
            Change::All => self.all.store(next, Ordering::SeqCst),
            Change::Tenant(t) => {
                if let Ok(mut map) = self.tenants.write() {
                    map.insert(t, next);
                }
            }
        }
    }

    /// Changes whenever this tenant, or everything, changed.
    pub fn tenant(&self, t: TenantId) -> u64 {
        let own = self
            .tenants
            .read()
            .ok()
            .and_then(|m| m.get(&t).copied())
            .unwrap_or(0);
        own.max(self.all.load(Ordering::SeqCst))
    }

    /// Changes whenever anything changed (for caches keyed by something that
    /// names its tenant only once loaded, like an API key).
    pub fn any(&self) -> u64 {
        self.seq.load(Ordering::SeqCst)
    }
}

impl Store {
    /// The change counters: this process's changes, and (PostgreSQL, once
    /// [`Store::listen_for_changes`] runs) every node's.
    pub fn generations(&self) -> &Arc<Generations> {
        &self.changes
    }

    /// Commits `tx` and announces that `tenant` changed.
    pub(crate) async fn commit_change(
        &self,
        mut tx: Transaction<'_, Any>,
        tenant: TenantId,
    ) -> Result<(), StoreError> {
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(CHANNEL)
                .bind(format!("{tenant} {}", self.changes.node.0))
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        self.changes.apply(Change::Tenant(tenant));
        Ok(())
    }

    /// Announces that `tenant` changed (every node's caches of it start over),
    /// for a change committed in parts, such as an import.
    #[tracing::instrument(name = "store.announce_change", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn announce_change(&self, tenant: TenantId) -> Result<(), StoreError> {
        let tx = self.begin().await?;
        self.commit_change(tx, tenant).await
    }

    pub(crate) fn announce(&self, change: Change) {
        self.changes.apply(change);
    }

    /// PostgreSQL only: listens (before returning, so no notice committed after
    /// start-up is missed) and applies other nodes' notices to
    /// [`Store::generations`] until the returned task is aborted. Once listening
    /// again after a lost connection it applies [`Change::All`], since notices
    /// sent meanwhile are gone; while it cannot reconnect, caches keep what they
    /// have (the database is most likely unreachable for them too, and
    /// stale-if-error applies). Returns `None` for SQLite.
    #[tracing::instrument(name = "store.listen_for_changes", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn listen_for_changes(
        &self,
    ) -> Result<Option<tokio::task::JoinHandle<()>>, StoreError> {
        if self.backend != Backend::Postgres {
            return Ok(None);
        }
        let first = connect_listener(&self.url).await?;
        let (url, changes) = (self.url.clone(), self.changes.clone());
        Ok(Some(tokio::spawn(async move {
            let mut current = Some(first);
            let mut delay = Duration::from_millis(100);
            loop {
                let listener = match current.take() {
                    Some(l) => l,
                    None => match connect_listener(&url).await {
                        Ok(l) => {
                            changes.apply(Change::All);
                            l
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "change listener cannot reconnect; retrying");
                            tokio::time::sleep(delay).await;
                            delay = (delay * 2).min(Duration::from_secs(5));
                            continue;
                        }
                    },
                };
                delay = Duration::from_millis(100);
                if let Err(e) = relay(listener, &changes).await {
                    tracing::warn!(error = %e, "change listener lost its connection");
                }
            }
        })))
    }
}

async fn connect_listener(url: &str) -> Result<sqlx::postgres::PgListener, sqlx::Error> {
    let mut listener = sqlx::postgres::PgListener::connect(url).await?;
    listener.listen(CHANNEL).await?;
    Ok(listener)
}

/// Applies notices until the connection is lost.
async fn relay(
    mut listener: sqlx::postgres::PgListener,
    changes: &Generations,
) -> Result<(), sqlx::Error> {
    loop {
        // `try_recv` answers None when the connection dropped.
        match listener.try_recv().await? {
            Some(n) => {
                // `tenant node`; a bare tenant id (older nodes) counts as remote.
                let (tenant, node) = n.payload().split_once(' ').unwrap_or((n.payload(), ""));
                if node == changes.node.0 {
                    continue;
                }
                let change = tenant
                    .parse::<TenantId>()
                    .map(Change::Tenant)
                    .unwrap_or(Change::All);
                changes.remote.fetch_add(1, Ordering::Relaxed);
                changes.apply(change);
            }
            None => return Ok(()),
        }
    }
}
