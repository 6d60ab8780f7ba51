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
