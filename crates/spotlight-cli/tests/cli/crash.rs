//! Crash safety of event ingest: a load generator posts batches while the server
//! is killed with SIGKILL and restarted, several times. Afterwards every event
//! that got a 202 is stored exactly once and reached the webhook at least once.

use super::{postgres_url, run, spotlight, stdout_json, Server};
use serde_json::{json, Value};
use std::collections::HashSet;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Event ids a webhook receiver got (duplicates allowed: delivery is at least once).
#[derive(Clone, Default)]
struct Received(Arc<Mutex<Vec<String>>>);

async fn hook(
    axum::extract::State(r): axum::extract::State<Received>,
    body: String,
) -> axum::http::StatusCode {
    let v: Value = serde_json::from_str(&body).unwrap();
    let mut ids = r.0.lock().unwrap();
    for e in v["events"].as_array().unwrap() {
        ids.push(e["event_id"].as_str().unwrap().to_owned());
    }
    axum::http::StatusCode::OK
}

fn crash_and_recover(database_url: Option<String>) {
    let dir = tempfile::tempdir().unwrap();
    let with_db = |cmd: &mut Command| {
        if let Some(db) = &database_url {
            cmd.env("SPOTLIGHT_DATABASE_URL", db);
        }
        cmd.env("SPOTLIGHT_RELAY_LEASE_SECS", "2")
            .env("SPOTLIGHT_RELAY_BACKOFF_BASE_MS", "50");
    };
    let mut create = spotlight(dir.path());
    with_db(&mut create);
    let tenant = stdout_json(&run(
        create.args(["tenant", "create", "--name", "Acme", "--json"])
    ));
    let pk = tenant["environments"]["production"]["publishable_key"]
        .as_str()
        .unwrap()
        .to_owned();
    let sk = tenant["environments"]["production"]["secret_key"]
        .as_str()
        .unwrap()
        .to_owned();
    let start = || {
        let mut cmd = spotlight(dir.path());
        with_db(&mut cmd);
        Server::start_with(cmd)
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    let received = Received::default();
    let receiver_url = rt.block_on(async {
        let app = axum::Router::new()
            .route("/hook", axum::routing::post(hook))
            .with_state(received.clone());
        format!("{}/hook", super::serve_on_loopback(app).await)
    });
    let mut server = start();
    let base = Arc::new(Mutex::new(server.base.clone()));
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    rt.block_on(async {
        let r = client
            .post(format!("{}/v1/admin/webhooks", server.base))
            .bearer_auth(&sk)
            .json(&json!({"url": receiver_url}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
    });

    // Eight clients post batches of ten until told to stop, whatever the server does.
    let acked: Arc<Mutex<Vec<String>>> = Arc::default();
    let sent = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let mut loaders = Vec::new();
    for worker in 0..8 {
        let (client, base, acked, sent, stop, pk) = (
            client.clone(),
            base.clone(),
            acked.clone(),
            sent.clone(),
            stop.clone(),
            pk.clone(),
        );
        loaders.push(rt.spawn(async move {
            while !stop.load(Ordering::SeqCst) {
                let ids: Vec<String> = (0..10).map(|_| uuid::Uuid::new_v4().to_string()).collect();
                let events: Vec<Value> = ids
                    .iter()
                    .map(|id| {
                        json!({"event_id": id, "schema_version": 1, "name": "click",
                        "timestamp": time::OffsetDateTime::now_utc().unix_timestamp() * 1000,
                        "properties": {"worker": worker}})
                    })
                    .collect();
                sent.fetch_add(ids.len(), Ordering::SeqCst);
                let url = format!("{}/v1/sdk/events", base.lock().unwrap().clone());
                let answer = client
                    .post(url)
                    .header("x-spotlight-key", &pk)
                    .timeout(Duration::from_secs(5))
                    .json(&json!({"user_id": format!("user-{worker}"), "events": events}))
                    .send()
                    .await;
                match answer {
                    Ok(r) if r.status().as_u16() == 202 => acked.lock().unwrap().extend(ids),
                    // Refused, reset or cut off by the crash: not acknowledged, so
                    // the client would send it again; this one just moves on.
                    _ => tokio::time::sleep(Duration::from_millis(5)).await,
                }
            }
        }));
    }
    let kills = 4;
    for _ in 0..kills {
        rt.block_on(async { tokio::time::sleep(Duration::from_millis(1500)).await });
        server.kill();
        *base.lock().unwrap() = "http://127.0.0.1:9".into();
        server = start();
        *base.lock().unwrap() = server.base.clone();
    }
    rt.block_on(async { tokio::time::sleep(Duration::from_millis(1500)).await });
    stop.store(true, Ordering::SeqCst);
    rt.block_on(async {
        for l in loaders {
            l.await.unwrap();
        }
    });
    let acked: Vec<String> = acked.lock().unwrap().clone();
    let acked_set: HashSet<&String> = acked.iter().collect();
    assert_eq!(acked.len(), acked_set.len());
    assert!(
        acked.len() >= 500,
        "the load ran: {} acknowledged",
        acked.len()
    );

    // Every acknowledged event reaches the webhook (leases of the killed relays
    // run out and are retried).
    let deadline = Instant::now() + Duration::from_secs(90);
    let delivered = loop {
        let got: HashSet<String> = received.0.lock().unwrap().iter().cloned().collect();
        let missing = acked_set
            .iter()
            .filter(|id| !got.contains(id.as_str()))
            .count();
        if missing == 0 {
            break got;
        }
        assert!(
            Instant::now() < deadline,
            "{missing} acknowledged events never reached the webhook"
        );
        rt.block_on(async { tokio::time::sleep(Duration::from_millis(100)).await });
    };
    let deliveries = received.0.lock().unwrap().len();
    server.kill();

    // Stored exactly once: the key allows one row per id, and every id is there.
    let url = database_url
        .clone()
        .unwrap_or_else(|| spotlight_store::sqlite_url_for_dir(dir.path()));
    let (stored, present) = rt.block_on(async {
        let store = spotlight_store::Store::connect(
            &url,
            &spotlight_store::StoreOptions::default(),
            Arc::new(spotlight_domain::SystemClock),
        )
        .await
        .unwrap();
        let stored = store
            .scalar_for_tests("SELECT COUNT(*) FROM events")
            .await
            .unwrap();
        let mut present = 0;
        for chunk in acked.chunks(500) {
            let list = chunk
                .iter()
                .map(|id| format!("'{id}'"))
                .collect::<Vec<_>>()
                .join(",");
            present += store
                .scalar_for_tests(&format!(
                    "SELECT COUNT(*) FROM events WHERE event_id IN ({list})"
                ))
                .await
                .unwrap();
        }
        let distinct = store
            .scalar_for_tests("SELECT COUNT(DISTINCT event_id) FROM events")
            .await
            .unwrap();
        assert_eq!(distinct, stored, "an event stored twice");
        store.close().await;
        (stored, present)
    });
    eprintln!(
        "crash test ({}): {kills} SIGKILLs; sent {}, acknowledged {}, stored {stored} \
         (acknowledged ones present: {present}), delivered {} distinct in {deliveries} deliveries of events",
        if database_url.is_some() { "PostgreSQL" } else { "SQLite" },
        sent.load(Ordering::SeqCst),
        acked.len(),
        delivered.len(),
    );
    assert_eq!(
        present as usize,
        acked.len(),
        "an acknowledged event was lost"
    );
    assert!(stored as usize >= acked.len());
}

#[test]
fn acknowledged_events_survive_sigkill_on_sqlite() {
    crash_and_recover(None);
}

#[test]
fn acknowledged_events_survive_sigkill_on_postgres() {
    if let Some(db) = postgres_url() {
        let mut migrate = spotlight(std::path::Path::new("/tmp"));
        migrate.env("SPOTLIGHT_DATABASE_URL", &db);
        assert!(run(migrate.args(["migrate"])).status.success());
        crash_and_recover(Some(db));
    }
}
