//! Fault drill with a real Prometheus (Debian's) scraping a real node and
//! evaluating deploy/prometheus/alerts.yml — with its `for:` durations and
//! rate windows scaled from minutes to seconds, nothing else changed. The
//! node's webhook receiver fails: deliveries fail, the circuit opens and skips
//! them, they become dead letters, and SpotlightDeadLetters and
//! SpotlightSinkCircuitOpen fire. The receiver comes back, the dead letters
//! are replayed as the runbook says (docs/runbooks/sink-down.md), they reach
//! the receiver, and both alerts resolve.

use super::{run, spotlight, stdout_json, Server};
use serde_json::{json, Value};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU16, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Clone, Default)]
struct Receiver {
    status: Arc<AtomicU16>,
    delivered: Arc<AtomicUsize>,
}

async fn hook(axum::extract::State(r): axum::extract::State<Receiver>) -> axum::http::StatusCode {
    let status = r.status.load(Ordering::SeqCst);
    if status == 200 {
        r.delivered.fetch_add(1, Ordering::SeqCst);
    }
    axum::http::StatusCode::from_u16(status).unwrap()
}

/// The alert rules with every duration of minutes made seconds (`5m` → `5s`).
fn scaled_rules() -> String {
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/prometheus/alerts.yml"),
    )
    .unwrap();
    let mut out = String::new();
    let mut rest = text.as_str();
    // `[15m]`, `for: 5m`: a number followed by `m` and a delimiter.
    while let Some(i) = rest.find(|c: char| c.is_ascii_digit()) {
        let (head, tail) = rest.split_at(i);
        out.push_str(head);
        let digits = tail.chars().take_while(char::is_ascii_digit).count();
        let (n, after) = tail.split_at(digits);
        out.push_str(n);
        if after.starts_with('m') && after[1..].starts_with([']', '\n', ' ']) {
            out.push('s');
            rest = &after[1..];
        } else {
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

fn firing(name: &str, alerts: &[(String, String)]) -> bool {
    alerts.iter().any(|(n, s)| n == name && s == "firing")
}

/// Alert name → state (`firing`, `pending`) from Prometheus's API.
async fn alerts(c: &reqwest::Client, prometheus: &str) -> Vec<(String, String)> {
    let Ok(r) = c.get(format!("{prometheus}/api/v1/alerts")).send().await else {
        return vec![];
    };
    let v: Value = r.json().await.unwrap_or_default();
    v["data"]["alerts"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|x| {
                    (
                        x["labels"]["alertname"].as_str().unwrap_or("").to_owned(),
                        x["state"].as_str().unwrap_or("").to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn a_failing_sink_fires_its_alerts_in_prometheus_and_they_resolve_after_replay() {
    let prometheus_bin = "/usr/bin/prometheus";
    assert!(
        std::path::Path::new(prometheus_bin).exists(),
        "Prometheus is needed (apt-get install prometheus)"
    );
    let dir = tempfile::tempdir().unwrap();
    let tenant = stdout_json(&run(
        spotlight(dir.path()).args(["tenant", "create", "--name", "Acme", "--json"])
    ));
    let pk = tenant["environments"]["production"]["publishable_key"]
        .as_str()
        .unwrap()
        .to_owned();
    let sk = tenant["environments"]["production"]["secret_key"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut cmd = spotlight(dir.path());
    cmd.env("SPOTLIGHT_RELAY_MAX_ATTEMPTS", "3")
        .env("SPOTLIGHT_RELAY_BACKOFF_BASE_MS", "50")
        .env("SPOTLIGHT_RELAY_BACKOFF_MAX_SECS", "1");
    let server = Server::start_with(cmd);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let receiver = Receiver::default();
    receiver.status.store(200, Ordering::SeqCst);
    let hook_url = rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = axum::Router::new()
            .route("/hook", axum::routing::post(hook))
            .with_state(receiver.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        format!("http://{addr}/hook")
    });

    // Prometheus: scrapes the node every second, evaluates the (scaled) rules every second.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let node = server.base.trim_start_matches("http://").to_owned();
    std::fs::write(dir.path().join("alerts.yml"), scaled_rules()).unwrap();
    std::fs::write(
        dir.path().join("prometheus.yml"),
        format!(
            "global: {{scrape_interval: 1s, evaluation_interval: 1s}}\nrule_files: [alerts.yml]\n\
             scrape_configs:\n  - job_name: spotlight\n    static_configs: [{{targets: ['{node}']}}]\n"
        ),
    )
    .unwrap();
    let mut prometheus = Command::new(prometheus_bin)
        .current_dir(dir.path())
        .args([
            "--config.file=prometheus.yml",
            "--storage.tsdb.path=tsdb",
            &format!("--web.listen-address=127.0.0.1:{port}"),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let prom = format!("http://127.0.0.1:{port}");

    let c = reqwest::Client::builder().no_proxy().build().unwrap();
    let admin = |method: reqwest::Method, path: String, body: Option<Value>| {
        let (c, sk, url) = (c.clone(), sk.clone(), format!("{}{path}", server.base));
        async move {
            let mut r = c.request(method, url).bearer_auth(sk);
            if let Some(b) = body {
                r = r.json(&b);
            }
            let r = r.send().await.unwrap();
            assert!(r.status().is_success(), "{path}: {}", r.status());
            r.json::<Value>().await.unwrap_or(Value::Null)
        }
    };
    let send = |n: usize| {
        let (c, pk, base) = (c.clone(), pk.clone(), server.base.clone());
        async move {
            for _ in 0..n {
                let events = json!({"user_id": "u1", "events": [{
                    "event_id": uuid::Uuid::new_v4().to_string(), "schema_version": 1,
                    "name": "drill", "timestamp": (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64,
                    "properties": {}}]});
                let r = c
                    .post(format!("{base}/v1/sdk/events"))
                    .header("x-spotlight-key", &pk)
                    .json(&events)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 202);
            }
        }
    };
    let wait_for = |what: &'static str, want: fn(&[(String, String)]) -> bool| {
        let (c, prom) = (c.clone(), prom.clone());
        async move {
            let started = Instant::now();
            loop {
                let now = alerts(&c, &prom).await;
                if want(&now) {
                    return started.elapsed();
                }
                assert!(
                    started.elapsed() < Duration::from_secs(120),
                    "{what}: alerts now {now:?}"
                );
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        }
    };

    rt.block_on(async {
        admin(reqwest::Method::POST, "/v1/admin/webhooks".into(), Some(json!({"url": hook_url}))).await;
        // Healthy first: deliveries succeed, no alert.
        send(3).await;
        let deadline = Instant::now() + Duration::from_secs(20);
        while receiver.delivered.load(Ordering::SeqCst) < 3 {
            assert!(Instant::now() < deadline, "deliveries before the outage");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(alerts(&c, &prom).await.iter().all(|(_, s)| s != "firing"));

        // The receiver fails.
        receiver.status.store(503, Ordering::SeqCst);
        send(8).await;
        let fired = wait_for("dead letters and an open circuit", |a| {
            firing("SpotlightDeadLetters", a) && firing("SpotlightSinkCircuitOpen", a)
        })
        .await;
        eprintln!("drill: SpotlightDeadLetters and SpotlightSinkCircuitOpen firing {fired:?} after the receiver failed");

        // The runbook: the receiver is fixed, then every dead letter is replayed.
        receiver.status.store(200, Ordering::SeqCst);
        let before = receiver.delivered.load(Ordering::SeqCst);
        let dead = admin(reqwest::Method::GET, "/v1/admin/dead-letters".into(), None).await;
        let ids: Vec<String> = dead["items"].as_array().unwrap().iter().map(|d| d["id"].as_str().unwrap().to_owned()).collect();
        assert!(!ids.is_empty(), "{dead}");
        for id in &ids {
            admin(reqwest::Method::POST, format!("/v1/admin/dead-letters/{id}/replay"), None).await;
        }
        let deadline = Instant::now() + Duration::from_secs(60);
        while receiver.delivered.load(Ordering::SeqCst) < before + ids.len() {
            assert!(Instant::now() < deadline, "replayed dead letters delivered");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let resolved = wait_for("both alerts resolved", |a| {
            !a.iter().any(|(n, _)| n == "SpotlightDeadLetters" || n == "SpotlightSinkCircuitOpen")
        })
        .await;
        eprintln!("drill: {} dead letters replayed and delivered; both alerts resolved {resolved:?} later", ids.len());
        let dead = admin(reqwest::Method::GET, "/v1/admin/dead-letters".into(), None).await;
        assert_eq!(dead["items"], json!([]), "{dead}");
    });
    let _ = prometheus.kill();
    let _ = prometheus.wait();
}
