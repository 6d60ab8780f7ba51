//! Change notices for caches. Every committed mutation that can change what the
//! SDK is served (objects, keys, settings, origins) announces its tenant: to this
//! process at once through a broadcast channel, and with PostgreSQL to every other
//! node through `pg_notify` sent inside the same transaction — so it is delivered
//! if, and only when, the change commits. A process that changes SQLite from
//! outside the server (the CLI) cannot notify it; the server bounds that case by
//! how long it trusts cached keys.

use crate::{Backend, Store, StoreError};
use spotlight_domain::TenantId;
use sqlx::{Any, Transaction};
use std::time::Duration;
use tokio::sync::broadcast;

/// The PostgreSQL channel the nodes listen on.
pub const CHANNEL: &str = "spotlight_changes";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Something of this tenant changed.
    Tenant(TenantId),
    /// Anything may have changed (a restore, or notices may have been missed).
    All,
}

pub(crate) fn channel() -> broadcast::Sender<Change> {
    broadcast::channel(1024).0
}

impl Store {
    /// Changes committed from now on, by this process or (PostgreSQL, once
    /// [`Store::listen_for_changes`] runs) by any node.
    pub fn subscribe_changes(&self) -> broadcast::Receiver<Change> {
        self.changes.subscribe()
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
                .bind(tenant.to_string())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        let _ = self.changes.send(Change::Tenant(tenant));
        Ok(())
    }

    pub(crate) fn announce(&self, change: Change) {
        let _ = self.changes.send(change);
    }

    /// PostgreSQL only: relays other nodes' notices into [`Store::subscribe_changes`]
    /// until the returned task is aborted. After a lost connection it announces
    /// [`Change::All`], since notices sent meanwhile are gone. Returns `None` for SQLite.
    pub fn listen_for_changes(&self) -> Option<tokio::task::JoinHandle<()>> {
        if self.backend != Backend::Postgres {
            return None;
        }
        let url = self.url.clone();
        let changes = self.changes.clone();
        Some(tokio::spawn(async move {
            let mut delay = Duration::from_millis(100);
            loop {
                match listen(&url, &changes).await {
                    Ok(()) => delay = Duration::from_millis(100),
                    Err(e) => {
                        tracing::warn!(error = %e, "change listener lost its connection; retrying");
                        delay = (delay * 2).min(Duration::from_secs(5));
                    }
                }
                let _ = changes.send(Change::All);
                tokio::time::sleep(delay).await;
            }
        }))
    }
}

async fn listen(url: &str, changes: &broadcast::Sender<Change>) -> Result<(), sqlx::Error> {
    let mut listener = sqlx::postgres::PgListener::connect(url).await?;
    listener.listen(CHANNEL).await?;
    // Whatever changed while we were not listening is unknown.
    let _ = changes.send(Change::All);
    loop {
        // `try_recv` answers None when the connection dropped (and reconnects
        // on the next call): report it so caches are cleared.
        match listener.try_recv().await? {
            Some(n) => {
                let change = n
                    .payload()
                    .parse::<TenantId>()
                    .map(Change::Tenant)
                    .unwrap_or(Change::All);
                let _ = changes.send(change);
            }
            None => return Ok(()),
        }
    }
}
