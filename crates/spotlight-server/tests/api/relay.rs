//! The outbox relay end to end: signed webhook deliveries with event filters, a
//! test send, secret rotation, the delivery log; a sink outage (retries, then
//! dead letters once the retry window is exhausted, then replay); NATS JetStream.

use crate::both_stores;
use crate::events::{count, ev, post_ok};
use crate::helpers::{prod, TestApp};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A webhook endpoint that records every request and answers with `status`.
#[derive(Clone)]
pub struct Receiver {
    pub addr: SocketAddr,
    hits: Arc<Mutex<Vec<(HeaderMap, String, u16)>>>,
    status: Arc<AtomicU16>,
}

impl Receiver {
    pub async fn start() -> Receiver {
        let hits = Arc::new(Mutex::new(Vec::new()));
        let status = Arc::new(AtomicU16::new(200));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let r = Receiver { addr, hits, status };
        let app = axum::Router::new()
            .route("/hook", axum::routing::post(hook))
            .with_state(r.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        r
    }

    pub fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    pub fn set_status(&self, s: u16) {
        self.status.store(s, Ordering::SeqCst);
    }

    /// Requests answered 2xx: (headers, parsed body).
    pub fn delivered(&self) -> Vec<(HeaderMap, Value)> {
        self.delivered_raw()
            .into_iter()
            .map(|(h, b)| (h, serde_json::from_str(&b).unwrap()))
            .collect()
    }

    /// Requests answered 2xx: (headers, body as sent).
    pub fn delivered_raw(&self) -> Vec<(HeaderMap, String)> {
        self.hits
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, _, s)| *s < 300)
            .map(|(h, b, _)| (h.clone(), b.clone()))
            .collect()
    }

    pub fn attempts(&self) -> usize {
        self.hits.lock().unwrap().len()
    }

    pub fn delivered_events(&self) -> Vec<Value> {
        self.delivered()
            .into_iter()
            .flat_map(|(_, b)| b["events"].as_array().cloned().unwrap_or_default())
            .collect()
    }
}

async fn hook(State(r): State<Receiver>, headers: HeaderMap, body: String) -> StatusCode {
    let status = r.status.load(Ordering::SeqCst);
    r.hits.lock().unwrap().push((headers, body, status));
    StatusCode::from_u16(status).unwrap()
}

/// Polls `cond` until it holds, or fails after `secs`.
pub async fn eventually(secs: u64, what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    while !cond() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn admin_json(
    app: &TestApp,
    sk: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = app.client.request(method, app.url(path)).bearer_auth(sk);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn verify(headers: &HeaderMap, body: &str, secret: &str) -> bool {
    let sig = headers["spotlight-signature"].to_str().unwrap();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    spotlight_pipeline::signature::verify(sig, body.as_bytes(), secret.as_bytes(), now, 300).is_ok()
}

both_stores!(
    webhooks_get_signed_filtered_deliveries,
    |app: TestApp| async move {
        let all = Receiver::start().await;
        let exports = Receiver::start().await;
        let t = app.tenant("acme", &[]).await;
        let (pk, sk) = prod(&t);
        let (s, created) = admin_json(
            &app,
            sk,
            reqwest::Method::POST,
            "/v1/admin/webhooks",
            Some(json!({"url": all.url(), "description": "everything"})),
        )
        .await;
        assert_eq!(s, 201, "{created}");
        let secret = created["secret"].as_str().unwrap().to_owned();
        assert!(secret.starts_with("whsec_"));
        let id = created["webhook"]["id"].as_str().unwrap().to_owned();
        let (s, filtered) = admin_json(
            &app,
            sk,
            reqwest::Method::POST,
            "/v1/admin/webhooks",
            Some(json!({"url": exports.url(), "events": ["export"]})),
        )
        .await;
        assert_eq!(s, 201, "{filtered}");
        // Listing never shows secrets.
        let (_, list) =
            admin_json(&app, sk, reqwest::Method::GET, "/v1/admin/webhooks", None).await;
        assert_eq!(list["items"].as_array().unwrap().len(), 2);
        assert!(!list.to_string().contains("whsec_"), "{list}");
        // A staging webhook gets nothing from production.
        let staging = Receiver::start().await;
        admin_json(
            &app,
            sk,
            reqwest::Method::POST,
            "/v1/admin/webhooks",
            Some(json!({"url": staging.url(), "environment": "staging"})),
        )
        .await;

        let batch = json!({"user_id": "u1", "events": [
            ev("export", json!({"format": "csv"})), ev("click", json!({})), ev("export", json!({})),
            ev("click", json!({})), ev("click", json!({})),
        ]});
        post_ok(&app, pk, &batch).await;
        eventually(10, "deliveries", || {
            all.delivered_events().len() == 5 && exports.delivered_events().len() == 2
        })
        .await;
        for (headers, body) in all.delivered().iter().chain(exports.delivered().iter()) {
            assert_eq!(
                headers["spotlight-delivery"].to_str().unwrap(),
                body["delivery_id"].as_str().unwrap()
            );
            assert_eq!(body["environment"], "production");
            assert_eq!(body["tenant_id"], t.tenant_id.to_string());
        }
        let (h, sent) = &all.delivered_raw()[0];
        assert!(
            verify(h, sent, &secret),
            "signature verifies with the endpoint's secret"
        );
        assert!(!verify(h, sent, "whsec_wrong"));
        assert!(
            !verify(h, &sent.replace("csv", "tsv"), &secret),
            "a changed body fails"
        );
        assert!(exports
            .delivered_events()
            .iter()
            .all(|e| e["name"] == "export"));
        // Each event as sent, with its properties untouched.
        let events = all.delivered_events();
        let csv = events
            .iter()
            .find(|e| e["properties"] == json!({"format": "csv"}))
            .expect("the csv export was delivered");
        assert_eq!(csv["event_id"], batch["events"][0]["event_id"], "{csv}");
        assert_eq!(csv["user_id"], "u1", "{csv}");
        assert_eq!(csv["schema_version"], 1, "{csv}");
        let at = csv["timestamp"].as_str().unwrap_or_default();
        assert!(
            time::OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339).is_ok(),
            "{csv}"
        );
        assert_eq!(staging.attempts(), 0);
        // Resending the batch delivers nothing new.
        post_ok(&app, pk, &batch).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(all.delivered_events().len(), 5);

        // The delivery log.
        let (_, log) = admin_json(
            &app,
            sk,
            reqwest::Method::GET,
            &format!("/v1/admin/webhooks/{id}/deliveries"),
            None,
        )
        .await;
        assert_eq!(log["items"][0]["ok"], true, "{log}");
        assert_eq!(log["items"][0]["status_code"], 200, "{log}");

        // A test send reaches the endpoint now, signed.
        let (s, test) = admin_json(
            &app,
            sk,
            reqwest::Method::POST,
            &format!("/v1/admin/webhooks/{id}/test"),
            None,
        )
        .await;
        assert_eq!(s, 200);
        assert_eq!(test["delivered"], true, "{test}");
        let (h, sent) = all.delivered_raw().last().cloned().unwrap();
        assert!(sent.contains("\"test\":true"), "{sent}");
        assert!(verify(&h, &sent, &secret));

        // Rotation: the new secret signs, and the old one still does for a while.
        let (s, rotated) = admin_json(
            &app,
            sk,
            reqwest::Method::POST,
            &format!("/v1/admin/webhooks/{id}/rotate"),
            None,
        )
        .await;
        assert_eq!(s, 200, "{rotated}");
        let new_secret = rotated["secret"].as_str().unwrap().to_owned();
        assert_ne!(new_secret, secret);
        post_ok(
            &app,
            pk,
            &json!({"user_id": "u1", "events": [ev("click", json!({}))]}),
        )
        .await;
        eventually(10, "delivery after rotation", || {
            all.delivered_events().len() == 6
        })
        .await;
        let (h, sent) = all.delivered_raw().last().cloned().unwrap();
        assert!(verify(&h, &sent, &new_secret) && verify(&h, &sent, &secret));

        // Bad input.
        for body in [
            json!({"url": "ftp://x.test/"}),
            json!({"url": "not a url"}),
            json!({"url": all.url(), "events": ["bad\nname"]}),
            json!({"url": all.url(), "environment": "nope"}),
            json!({}),
        ] {
            let (s, e) = admin_json(
                &app,
                sk,
                reqwest::Method::POST,
                "/v1/admin/webhooks",
                Some(body.clone()),
            )
            .await;
            assert_eq!(s, 422, "{body}: {e}");
        }
        let (s, _) = admin_json(
            &app,
            sk,
            reqwest::Method::GET,
            "/v1/admin/webhooks/not-an-id",
            None,
        )
        .await;
        assert_eq!(s, 404);
        // Secrets are sealed at rest.
        let plain = count(
            &app,
            &format!(
                "SELECT COUNT(*) FROM webhooks WHERE secret LIKE '%{}%'",
                &secret[6..20]
            ),
        )
        .await;
        assert_eq!(plain, 0);
    }
);

both_stores!(
    a_sink_outage_retries_then_dead_letters_and_replays,
    |app: TestApp| async move {
        let rx = Receiver::start().await;
        let t = app.tenant("acme", &[]).await;
        let (pk, sk) = prod(&t);
        let (_, created) = admin_json(
            &app,
            sk,
            reqwest::Method::POST,
            "/v1/admin/webhooks",
            Some(json!({"url": rx.url()})),
        )
        .await;
        let hook = created["webhook"]["id"].as_str().unwrap().to_owned();

        // A short outage: retried until the endpoint is back; nothing lost, no dead letter.
        rx.set_status(503);
        post_ok(
            &app,
            pk,
            &json!({"user_id": "u1", "events": [ev("a", json!({})), ev("b", json!({}))]}),
        )
        .await;
        eventually(10, "a retry", || rx.attempts() >= 2).await;
        rx.set_status(200);
        eventually(10, "delivery after the outage", || {
            rx.delivered_events().len() == 2
        })
        .await;
        let (_, dead) = admin_json(
            &app,
            sk,
            reqwest::Method::GET,
            "/v1/admin/dead-letters",
            None,
        )
        .await;
        assert_eq!(dead["items"].as_array().unwrap().len(), 0, "{dead}");
        assert_eq!(
            rx.delivered().len(),
            1,
            "one delivery, attempted until it got through"
        );

        // An outage longer than the retry window: a dead letter with the last error.
        rx.set_status(500);
        post_ok(
            &app,
            pk,
            &json!({"user_id": "u1", "events": [ev("c", json!({}))]}),
        )
        .await;
        let mut dead_id = String::new();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        while dead_id.is_empty() {
            assert!(tokio::time::Instant::now() < deadline, "no dead letter");
            let (_, dead) = admin_json(
                &app,
                sk,
                reqwest::Method::GET,
                "/v1/admin/dead-letters",
                None,
            )
            .await;
            if let Some(d) = dead["items"].as_array().unwrap().first() {
                assert_eq!(d["attempts"], 4, "{d}");
                assert_eq!(d["sink"], hook.as_str());
                assert_eq!(d["last_error"], "the endpoint answered 500");
                dead_id = d["id"].as_str().unwrap().to_owned();
            } else {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        let (s, one) = admin_json(
            &app,
            sk,
            reqwest::Method::GET,
            &format!("/v1/admin/dead-letters/{dead_id}"),
            None,
        )
        .await;
        assert_eq!(s, 200);
        assert_eq!(one["payload"]["events"][0]["name"], "c", "{one}");
        let metrics = app.metrics().await;
        assert!(
            metrics.contains("spotlight_dead_letters_total{sink=\"webhook\",result=\"dead\"} 1"),
            "{metrics}"
        );

        // Replay once the endpoint is back: delivered with the same delivery id.
        rx.set_status(200);
        let (s, r) = admin_json(
            &app,
            sk,
            reqwest::Method::POST,
            &format!("/v1/admin/dead-letters/{dead_id}/replay"),
            None,
        )
        .await;
        assert_eq!((s, r["count"].as_u64()), (200, Some(1)), "{r}");
        eventually(15, "the replayed delivery", || {
            rx.delivered()
                .iter()
                .any(|(h, _)| h["spotlight-delivery"].to_str().unwrap() == dead_id)
        })
        .await;
        let (_, dead) = admin_json(
            &app,
            sk,
            reqwest::Method::GET,
            "/v1/admin/dead-letters",
            None,
        )
        .await;
        assert_eq!(dead["items"].as_array().unwrap().len(), 0, "{dead}");
        assert_eq!(
            rx.delivered_events().len(),
            3,
            "every acknowledged event arrived"
        );

        // Discard: another dead letter, thrown away.
        rx.set_status(500);
        post_ok(
            &app,
            pk,
            &json!({"user_id": "u1", "events": [ev("d", json!({}))]}),
        )
        .await;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        loop {
            let (_, dead) = admin_json(
                &app,
                sk,
                reqwest::Method::GET,
                "/v1/admin/dead-letters",
                None,
            )
            .await;
            if let Some(d) = dead["items"].as_array().unwrap().first() {
                let (s, _) = admin_json(
                    &app,
                    sk,
                    reqwest::Method::DELETE,
                    &format!("/v1/admin/dead-letters/{}", d["id"].as_str().unwrap()),
                    None,
                )
                .await;
                assert_eq!(s, 204);
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "no second dead letter"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let (_, dead) = admin_json(
            &app,
            sk,
            reqwest::Method::GET,
            "/v1/admin/dead-letters",
            None,
        )
        .await;
        assert_eq!(dead["items"].as_array().unwrap().len(), 0);
    },
    |c: &mut spotlight_server::Config| {
        c.relay.backoff_base = Duration::from_millis(20);
        c.relay.max_attempts = 4;
    }
);

#[tokio::test]
async fn events_reach_nats_jetstream() {
    let app = TestApp::spawn_with(crate::helpers::Db::Sqlite, |c| {
        c.relay.nats_url = Some("nats://127.0.0.1:4222".into());
    })
    .await;
    let t = app.tenant("acme", &[]).await;
    let (pk, _) = prod(&t);
    let client = async_nats::connect("127.0.0.1:4222")
        .await
        .expect("NATS with JetStream must run on 127.0.0.1:4222 for this suite");
    let subject = format!("spotlight.events.{}.production", t.tenant_id);
    let mut sub = client.subscribe(subject.clone()).await.unwrap();
    client.flush().await.unwrap();
    post_ok(
        &app,
        pk,
        &json!({"user_id": "u1", "events": [ev("export", json!({})), ev("click", json!({}))]}),
    )
    .await;
    let msg = tokio::time::timeout(
        Duration::from_secs(10),
        futures_util::StreamExt::next(&mut sub),
    )
    .await
    .expect("no message on the subject")
    .unwrap();
    let body: Value = serde_json::from_slice(&msg.payload).unwrap();
    assert_eq!(body["events"].as_array().unwrap().len(), 2);
    let id = msg
        .headers
        .as_ref()
        .unwrap()
        .get(async_nats::header::NATS_MESSAGE_ID)
        .unwrap()
        .to_string();
    assert_eq!(id, body["delivery_id"].as_str().unwrap());
    // Stored in the stream, too.
    let js = async_nats::jetstream::new(client);
    let mut stream = js.get_stream("SPOTLIGHT_EVENTS").await.unwrap();
    assert!(stream.info().await.unwrap().state.messages >= 1);
    // The outbox row is settled.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while count(
        &app,
        "SELECT COUNT(*) FROM outbox WHERE status = 'delivered'",
    )
    .await
        < 1
    {
        assert!(tokio::time::Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn readiness_reports_an_outbox_backlog() {
    let rx = Receiver::start().await;
    rx.set_status(500);
    let app = TestApp::spawn_with(crate::helpers::Db::Sqlite, |c| {
        c.relay.outbox_ready_threshold = 1;
        c.relay.backoff_base = Duration::from_secs(60);
    })
    .await;
    let t = app.tenant("acme", &[]).await;
    let (pk, sk) = prod(&t);
    let (_, created) = admin_json(
        &app,
        sk,
        reqwest::Method::POST,
        "/v1/admin/webhooks",
        Some(json!({"url": rx.url()})),
    )
    .await;
    let hook = created["webhook"]["id"].as_str().unwrap().to_owned();
    for _ in 0..2 {
        post_ok(
            &app,
            pk,
            &json!({"user_id": "u1", "events": [ev("a", json!({}))]}),
        )
        .await;
    }
    let r = app.anon().get("/readyz").await;
    assert_eq!(r.status(), 503);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["reason"], "outbox backlog over threshold", "{body}");
    assert_eq!(body["outbox_pending"], 2);
    // Deleting the endpoint discards what waited for it.
    let (s, _) = admin_json(
        &app,
        sk,
        reqwest::Method::DELETE,
        &format!("/v1/admin/webhooks/{hook}"),
        None,
    )
    .await;
    assert_eq!(s, 204);
    let r = app.anon().get("/readyz").await;
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn retention_removes_what_is_past_its_time_on_sqlite() {
    retention_removes_what_is_past_its_time(crate::helpers::Db::Sqlite).await;
}

#[tokio::test]
async fn retention_removes_what_is_past_its_time_on_postgres() {
    if crate::helpers::postgres_available() {
        retention_removes_what_is_past_its_time(crate::helpers::Db::Postgres).await;
    }
}

async fn retention_removes_what_is_past_its_time(db: crate::helpers::Db) {
    let clock = Arc::new(spotlight_domain::ManualClock::new(
        spotlight_domain::Timestamp(time::OffsetDateTime::now_utc().unix_timestamp() * 1000),
    ));
    let app = TestApp::spawn_full(
        db,
        |c| c.retention.events = Duration::from_secs(86_400),
        None,
        clock.clone(),
    )
    .await;
    let t = app.tenant("acme", &[]).await;
    let (pk, _) = prod(&t);
    post_ok(
        &app,
        pk,
        &json!({"user_id": "u1", "events": [ev("a", json!({})), ev("b", json!({}))]}),
    )
    .await;
    clock.advance_secs(2 * 86_400);
    let mut e = ev("c", json!({}));
    e["timestamp"] = json!(spotlight_domain::Clock::now(clock.as_ref()).millis());
    post_ok(&app, pk, &json!({"user_id": "u1", "events": [e]})).await;
    let config = &app.state.config.retention;
    let removed = spotlight_pipeline::retention::run_once(
        app.store(),
        &spotlight_pipeline::retention::RetentionConfig {
            events: config.events,
            outbox: config.outbox,
            dead_letters: config.dead_letters,
            audit: config.audit,
            interval: config.interval,
        },
        app.state.metrics.as_ref(),
    )
    .await
    .unwrap();
    assert!(removed.contains(&("events", 2)), "{removed:?}");
    assert_eq!(count(&app, "SELECT COUNT(*) FROM events").await, 1);
    // Rollups and counts stay: they are the long-term record.
    assert_eq!(
        count(
            &app,
            "SELECT CAST(SUM(count) AS BIGINT) FROM rollups WHERE grain = 'day'"
        )
        .await,
        3
    );
    let metrics = app.metrics().await;
    assert!(
        metrics.contains("spotlight_retention_rows_removed_total{table=\"events\"} 2"),
        "{metrics}"
    );
}

/// Counts concurrent requests per delivery id: two relays sending the same
/// attempt at once would show up as an overlap.
#[derive(Clone, Default)]
struct Overlaps {
    in_flight: Arc<Mutex<std::collections::HashMap<String, usize>>>,
    seen: Arc<Mutex<Vec<String>>>,
    overlaps: Arc<std::sync::atomic::AtomicUsize>,
    events: Arc<std::sync::atomic::AtomicUsize>,
    /// How long the receiver takes, beyond the 20 ms every answer takes.
    slow_ms: Arc<std::sync::atomic::AtomicU64>,
}

async fn slow_hook(State(o): State<Overlaps>, headers: HeaderMap, body: String) -> StatusCode {
    let id = headers["spotlight-delivery"].to_str().unwrap().to_owned();
    {
        let mut f = o.in_flight.lock().unwrap();
        let n = f.entry(id.clone()).or_default();
        if *n > 0 {
            o.overlaps.fetch_add(1, Ordering::SeqCst);
        }
        *n += 1;
    }
    // Slow enough that both relays are busy at once.
    tokio::time::sleep(Duration::from_millis(20 + o.slow_ms.load(Ordering::SeqCst))).await;
    let v: Value = serde_json::from_str(&body).unwrap();
    o.events
        .fetch_add(v["events"].as_array().unwrap().len(), Ordering::SeqCst);
    *o.in_flight.lock().unwrap().get_mut(&id).unwrap() -= 1;
    o.seen.lock().unwrap().push(id);
    StatusCode::OK
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_relay_without_delivering_an_attempt_twice() {
    if !crate::helpers::postgres_available() {
        return;
    }
    let a = TestApp::spawn(crate::helpers::Db::Postgres).await;
    relay_on_two_nodes(a, Overlaps::default()).await;
}

/// A receiver taking 200 ms, a 2 s lease: one relay's claimed batch (up to
/// 64) would take far longer than its lease, and the other node would claim
/// and send the same deliveries again. A relay gives back what it has not
/// attempted by half its lease.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_receiver_does_not_make_two_relays_send_the_same_delivery() {
    if !crate::helpers::postgres_available() {
        return;
    }
    let a = TestApp::spawn_with(crate::helpers::Db::Postgres, |c| {
        c.relay.lease = Duration::from_secs(2);
    })
    .await;
    let o = Overlaps::default();
    o.slow_ms.store(180, Ordering::SeqCst);
    relay_on_two_nodes(a, o).await;
}

async fn relay_on_two_nodes(a: TestApp, o: Overlaps) {
    let b = a.spawn_peer().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new()
        .route("/hook", axum::routing::post(slow_hook))
        .with_state(o.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let t = a.tenant("acme", &[]).await;
    let (pk, sk) = prod(&t);
    admin_json(
        &a,
        sk,
        reqwest::Method::POST,
        "/v1/admin/webhooks",
        Some(json!({"url": format!("http://{addr}/hook")})),
    )
    .await;
    // Both nodes take events (and both run a relay).
    for i in 0..40 {
        let node = if i % 2 == 0 { &a } else { &b };
        post_ok(node, pk, &json!({"user_id": format!("u{i}"), "events": [ev("click", json!({})), ev("export", json!({}))]})).await;
    }
    eventually(60, "every event delivered", || {
        o.events.load(Ordering::SeqCst) >= 80
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let seen = o.seen.lock().unwrap().clone();
    let distinct: std::collections::HashSet<&String> = seen.iter().collect();
    assert_eq!(
        o.overlaps.load(Ordering::SeqCst),
        0,
        "a delivery was sent by two relays at once"
    );
    assert_eq!(distinct.len(), seen.len(), "a delivery was sent twice");
    assert_eq!(o.events.load(Ordering::SeqCst), 80);
    // Both relays worked.
    let delivered = |m: String| {
        m.lines().any(|l| {
            l.starts_with("spotlight_deliveries_total{sink=\"webhook\",result=\"delivered\"}")
        })
    };
    assert!(
        delivered(a.metrics().await) && delivered(b.metrics().await),
        "both nodes delivered"
    );
}
