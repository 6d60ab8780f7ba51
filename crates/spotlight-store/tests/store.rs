//! The store against real SQLite and real PostgreSQL (when SPOTLIGHT_TEST_DATABASE_URL
//! is set; in CI it always is, and a missing variable fails there).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use spotlight_domain::*;
use spotlight_store::*;
use std::sync::Arc;

async fn sqlite_store(dir: &tempfile::TempDir) -> Store {
    let url = sqlite_url_for_dir(dir.path());
    Store::connect(&url, &StoreOptions::default(), Arc::new(SystemClock))
        .await
        .unwrap()
}

async fn postgres_store() -> Option<Store> {
    let Ok(base) = std::env::var("SPOTLIGHT_TEST_DATABASE_URL") else {
        assert!(
            std::env::var_os("CI").is_none(),
            "SPOTLIGHT_TEST_DATABASE_URL must be set in CI"
        );
        eprintln!("skipping PostgreSQL: SPOTLIGHT_TEST_DATABASE_URL not set");
        return None;
    };
    let name = format!("spotlight_test_{}", uuid::Uuid::new_v4().simple());
    let admin = Store::connect(&base, &StoreOptions::default(), Arc::new(SystemClock))
        .await
        .unwrap();
    admin.create_database_for_tests(&name).await.unwrap();
    admin.close().await;
    let (prefix, _) = base.rsplit_once('/').unwrap();
    Some(
        Store::connect(
            &format!("{prefix}/{name}"),
            &StoreOptions::default(),
            Arc::new(SystemClock),
        )
        .await
        .unwrap(),
    )
}

fn new_key(kind: KeyKind) -> (PlainKey, NewKey) {
    let plain = PlainKey::generate(kind, &mut rand::thread_rng());
    let new = NewKey {
        id: KeyId::new_v7(),
        kind,
        hash: plain.hash(),
        prefix: plain.display_prefix(),
        label: String::new(),
    };
    (plain, new)
}

async fn exercise(store: Store) {
    let status = store.migration_status().await.unwrap();
    assert!(!status.is_current());
    let status = store.migrate().await.unwrap();
    assert!(status.is_current(), "{status:?}");
    store.migrate().await.unwrap(); // idempotent

    let (pk, pk_new) = new_key(KeyKind::Publishable);
    let tenant = store
        .create_tenant(NewTenant {
            id: TenantId::new_v7(),
            name: TenantName::parse("Acme").unwrap(),
            allowed_origins: vec!["https://app.acme.test".into()],
            environments: vec![NewEnvironment {
                id: EnvironmentId::new_v7(),
                name: EnvironmentName::production(),
                keys: vec![pk_new],
            }],
        })
        .await
        .unwrap();
    assert_eq!(store.tenant(tenant.id).await.unwrap(), tenant);
    let found = store.key_by_hash(&pk.hash()).await.unwrap().unwrap();
    assert_eq!(found.key.tenant_id, tenant.id);
    assert_eq!(found.key.environment, "production");
    assert!(store
        .key_by_hash(&KeyHash::of("pk_nope"))
        .await
        .unwrap()
        .is_none());

    // Rotation without grace revokes the old key at once.
    let (_sk2, sk2_new) = new_key(KeyKind::Publishable);
    let (old, new) = store
        .rotate_key(tenant.id, found.key.id, sk2_new, 0, AuditEntry::default())
        .await
        .unwrap();
    let now = store.clock().now();
    assert!(!old.is_active(now) && new.is_active(now));

    // Another tenant cannot see or revoke the key.
    let other = TenantId::new_v7();
    assert!(matches!(
        store.key(other, new.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.revoke_key(other, new.id, AuditEntry::default()).await,
        Err(StoreError::NotFound)
    ));

    let email = Email::parse("ada@acme.test").unwrap();
    let account = store.create_account(&email, "hash").await.unwrap();
    let dup = store.create_account(&email, "hash").await.unwrap_err();
    assert!(dup.is_conflict_on("accounts_email_key"), "{dup:?}");
    store
        .put_membership(tenant.id, account.id, Role::Editor)
        .await
        .unwrap();
    store
        .put_membership(tenant.id, account.id, Role::Admin)
        .await
        .unwrap();
    assert!(matches!(
        store.put_membership(other, account.id, Role::Admin).await,
        Err(StoreError::NotFound)
    ));
    let ms = store.memberships(account.id).await.unwrap();
    assert_eq!(ms.len(), 1);
    assert_eq!(ms[0].role, Role::Admin);

    let listed = store.list_tenants(None, 10).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert!(store
        .list_tenants(Some(tenant.id), 10)
        .await
        .unwrap()
        .is_empty());
    store.close().await;
}

#[tokio::test]
async fn store_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    exercise(sqlite_store(&dir).await).await;
}

#[tokio::test]
async fn store_on_postgres() {
    if let Some(store) = postgres_store().await {
        exercise(store).await;
    }
}

/// A store with one tenant, and batches of `n` events for it with one sink.
async fn tenant_with_sink(store: &Store) -> impl Fn(usize, usize) -> IngestBatch {
    let (_, _, batch) = tenant_batches(store).await;
    move |user, n| batch(user, n, SystemClock.now().millis())
}

/// [`tenant_with_sink`], with the tenant's ids and batches of events that
/// happened at a given time.
async fn tenant_batches(
    store: &Store,
) -> (
    TenantId,
    EnvironmentId,
    impl Fn(usize, usize, i64) -> IngestBatch,
) {
    store.migrate().await.unwrap();
    let (tenant, env) = (TenantId::new_v7(), EnvironmentId::new_v7());
    store
        .create_tenant(NewTenant {
            id: tenant,
            name: TenantName::parse("Acme").unwrap(),
            allowed_origins: vec![],
            environments: vec![NewEnvironment {
                id: env,
                name: EnvironmentName::parse("production").unwrap(),
                keys: vec![],
            }],
        })
        .await
        .unwrap();
    let sinks = Arc::new(vec![SinkTarget {
        sink: "hook".into(),
        events: vec![],
    }]);
    let catalog = Arc::new(events::Catalog::default());
    let batch = move |user, n, at| {
        let now = SystemClock.now().millis();
        let user = format!("user-{user}");
        let cx = events::ParseContext {
            now_millis: now,
            default_user: Some(&user),
            default_account: None,
            account_only: false,
        };
        let events = (0..n)
            .map(|i| {
                let v = serde_json::json!({"event_id": uuid::Uuid::now_v7().to_string(),
                    "schema_version": 1, "name": "click", "timestamp": at,
                    "properties": {"n": i, "page": format!("/app/{i}")}});
                events::parse_event(i, &v, &cx).unwrap()
            })
            .collect();
        IngestBatch::new(
            tenant,
            env,
            "production".into(),
            events,
            catalog.clone(),
            sinks.clone(),
        )
    };
    (tenant, env, batch)
}

/// Ingest moves an end user's last-seen time in steps of a minute or more: a
/// batch within the minute writes nothing; one past it moves it.
async fn last_seen_moves_by_the_minute(store: Store) {
    let (tenant, env, batch) = tenant_batches(&store).await;
    let t0 = SystemClock.now().millis() - 600_000;
    let seen = |s: &Store| {
        let s = s.clone();
        async move {
            s.end_user(tenant, env, "user-7")
                .await
                .unwrap()
                .unwrap()
                .last_seen
                .millis()
        }
    };
    store.ingest(&[batch(7, 2, t0)]).await.unwrap();
    assert_eq!(seen(&store).await, t0);
    store.ingest(&[batch(7, 2, t0 + 59_000)]).await.unwrap();
    assert_eq!(seen(&store).await, t0, "within the minute: not written");
    store.ingest(&[batch(7, 2, t0 + 60_000)]).await.unwrap();
    assert_eq!(seen(&store).await, t0 + 60_000);
    // An older batch (sent late) never moves it back.
    store.ingest(&[batch(7, 2, t0)]).await.unwrap();
    assert_eq!(seen(&store).await, t0 + 60_000);
}

#[tokio::test]
async fn last_seen_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    last_seen_moves_by_the_minute(sqlite_store(&dir).await).await;
}

#[tokio::test]
async fn last_seen_on_postgres() {
    if let Some(store) = postgres_store().await {
        last_seen_moves_by_the_minute(store).await;
    }
}

/// A delivery is claimed with its payload (kept apart from the row the relay
/// updates), settled, and removed by retention together with its payload.
async fn deliveries_keep_and_lose_their_payloads(store: Store) {
    let batch = tenant_with_sink(&store).await;
    let b = batch(1, 3);
    let ids: Vec<String> = b.events.iter().map(|e| e.event_id.to_string()).collect();
    store.ingest(&[b]).await.unwrap();
    let claimed = store.claim_deliveries(10, 60_000, &[]).await.unwrap();
    assert_eq!(claimed.len(), 1);
    let payload: serde_json::Value = serde_json::from_str(&claimed[0].payload).unwrap();
    assert_eq!(payload["delivery_id"], claimed[0].id.as_str());
    let sent: Vec<&str> = payload["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event_id"].as_str().unwrap())
        .collect();
    assert_eq!(sent, ids);
    store
        .finish_attempt(&claimed[0], &Outcome::Delivered, Some(200), 3)
        .await
        .unwrap();
    let later = Timestamp(SystemClock.now().millis() + 60_000);
    assert_eq!(store.purge(Purge::Outbox, later, 100).await.unwrap(), 1);
    for table in ["outbox", "outbox_payloads"] {
        let n = store
            .scalar_for_tests(&format!("SELECT COUNT(*) FROM {table}"))
            .await
            .unwrap();
        assert_eq!(n, 0, "{table}");
    }
}

#[tokio::test]
async fn deliveries_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    deliveries_keep_and_lose_their_payloads(sqlite_store(&dir).await).await;
}

#[tokio::test]
async fn deliveries_on_postgres() {
    if let Some(store) = postgres_store().await {
        deliveries_keep_and_lose_their_payloads(store).await;
    }
}

/// Under sustained ingest the WAL is restarted, at the latest once the
/// checkpointer has caught up with as much of it as the store allows (32 MiB
/// here): its file stays far below the writers' own backstop (~400 MB), where
/// each checkpoint stalled ingest for hundreds of milliseconds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_wal_is_restarted_under_sustained_ingest() {
    let dir = tempfile::tempdir().unwrap();
    // A short restart length, so that what is watched is the restart itself,
    // not how much a machine writes in a given time.
    let restart: u64 = 1 << 20;
    let options = StoreOptions {
        sqlite_wal_restart_bytes: restart,
        ..StoreOptions::default()
    };
    let url = sqlite_url_for_dir(dir.path());
    let store = Store::connect(&url, &options, Arc::new(SystemClock))
        .await
        .unwrap();
    let batch = tenant_with_sink(&store).await;
    let checkpointer = store.checkpoint_in_background().expect("a checkpointer");
    let wal = dir.path().join("spotlight.db-wal");
    let size = || std::fs::metadata(&wal).map_or(0, |m| m.len());
    // A WAL that starts again from the beginning gets a new header: SQLite
    // changes its salts (bytes 16..24) at every restart.
    let salts = || {
        std::fs::read(&wal)
            .ok()
            .and_then(|b| b.get(16..24).map(<[u8]>::to_vec))
    };
    let mut user = 0;
    let mut ingest = || {
        let group: Vec<IngestBatch> = (0..16)
            .map(|_| {
                user += 1;
                batch(user % 5_000, 20)
            })
            .collect();
        let s = store.clone();
        // As the server's ingest writer does: on a thread that may block.
        tokio::task::spawn_blocking(move || {
            tokio::runtime::Handle::current().block_on(s.ingest(&group))
        })
    };
    ingest().await.unwrap().unwrap();
    let first = salts().expect("a WAL header");
    // Groups, not seconds: a slow machine writes fewer of them between two
    // checkpointer passes, never more. Each gives the checkpointer a turn.
    let mut restarts = 0;
    let mut seen = first;
    let mut largest = 0;
    for _ in 0..600 {
        ingest().await.unwrap().unwrap();
        largest = largest.max(size());
        if let Some(now) = salts() {
            if now != seen {
                restarts += 1;
                seen = now;
                if restarts == 3 {
                    break;
                }
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    checkpointer.abort();
    assert!(restarts >= 3, "{restarts} WAL restarts in 600 groups");
    // Restarted, the file is reused from its start: it stays near the restart
    // length (a group or two past it), however long the writes go on.
    assert!(
        largest < 8 * restart,
        "the WAL grew to {largest} bytes with restarts at {restart}"
    );
}

/// Once writes stop, the checkpointer empties the WAL (far below the length
/// that restarts it under load): an idle server gives the space back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_idle_wal_is_emptied() {
    let dir = tempfile::tempdir().unwrap();
    let store = sqlite_store(&dir).await;
    let batch = tenant_with_sink(&store).await;
    let checkpointer = store.checkpoint_in_background().expect("a checkpointer");
    let wal = dir.path().join("spotlight.db-wal");
    let size = || std::fs::metadata(&wal).map_or(0, |m| m.len());
    for user in 0..20 {
        let group: Vec<IngestBatch> = (0..8).map(|i| batch(user * 8 + i, 20)).collect();
        store.ingest(&group).await.unwrap();
    }
    let written = size();
    assert!(
        written > 1 << 20,
        "the WAL holds the writes: {written} bytes"
    );
    let pending = store.outbox_backlog().await.unwrap().pending;
    assert!(pending > 0);
    let started = std::time::Instant::now();
    while size() > 0 {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "the WAL is still {} bytes ({written} after the writes)",
            size()
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    // What was written is all there, in the database file.
    assert_eq!(store.outbox_backlog().await.unwrap().pending, pending);
    checkpointer.abort();
}
