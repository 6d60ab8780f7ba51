//! Fault drill with a real Prometheus (Debian's) scraping a real node and
//! evaluating deploy/prometheus/alerts.yml — with its `for:` durations and
//! rate windows scaled from minutes to seconds, nothing else changed. The
//! node's webhook receiver fails: deliveries fail, the circuit opens and skips
//! them, they become dead letters, and SpotlightDeadLetters and
//! SpotlightSinkCircuitOpen fire. The receiver comes back, the dead letters
//! are replayed as the runbook says (docs/runbooks/sink-down.md), they reach
//! the receiver, and both alerts resolve.

use super::{create_tenant, production_key, run, spotlight, stdout_json, Server};
use serde_json::{json, Value};
use std::path::Path;
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
pub(super) fn scaled_rules() -> String {
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

/// An instant PromQL query: each series' labels and value.
pub(super) async fn query(
    c: &reqwest::Client,
    prometheus: &str,
    promql: &str,
) -> Vec<(Value, f64)> {
    let v: Value = c
        .get(format!("{prometheus}/api/v1/query"))
        .query(&[("query", promql)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["status"], "success", "{promql}: {v}");
    v["data"]["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let value = r["value"][1].as_str().unwrap().parse().unwrap();
            (r["metric"].clone(), value)
        })
        .collect()
}

pub(super) fn firing(name: &str, alerts: &[(String, String)]) -> bool {
    alerts.iter().any(|(n, s)| n == name && s == "firing")
}

/// Alert name → state (`firing`, `pending`) from Prometheus's API.
pub(super) async fn alerts(c: &reqwest::Client, prometheus: &str) -> Vec<(String, String)> {
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

/// Debian's Prometheus scraping one node every second and evaluating the
/// scaled rules every second; killed when dropped.
pub(super) struct Prometheus {
    child: std::process::Child,
    pub(super) url: String,
}

impl Prometheus {
    pub(super) fn start(dir: &Path, node: &str) -> Prometheus {
        Prometheus::scraping(dir, &[node])
    }

    /// Scraping several nodes.
    pub(super) fn scraping(dir: &Path, nodes: &[&str]) -> Prometheus {
        Prometheus::with_rules(dir, nodes, &scaled_rules())
    }

    /// Scraping `nodes`, evaluating `rules`.
    pub(super) fn with_rules(dir: &Path, nodes: &[&str], rules: &str) -> Prometheus {
        let bin = "/usr/bin/prometheus";
        assert!(
            Path::new(bin).exists(),
            "Prometheus is needed (apt-get install prometheus)"
        );
        let port = free_port();
        std::fs::write(dir.join("alerts.yml"), rules).unwrap();
        std::fs::write(
            dir.join("prometheus.yml"),
            format!(
                "global: {{scrape_interval: 1s, evaluation_interval: 1s}}\nrule_files: [alerts.yml]\n\
                 scrape_configs:\n  - job_name: spotlight\n    static_configs: [{{targets: [{targets}]}}]\n",
                targets = nodes.iter().map(|n| format!("'{n}'")).collect::<Vec<_>>().join(", ")
            ),
        )
        .unwrap();
        let child = Command::new(bin)
            .current_dir(dir)
            .args([
                "--config.file=prometheus.yml",
                "--storage.tsdb.path=tsdb",
                &format!("--web.listen-address=127.0.0.1:{port}"),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        Prometheus {
            child,
            url: format!("http://127.0.0.1:{port}"),
        }
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(super) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits (at most 2 minutes) until Prometheus's alerts satisfy `want`; answers how long that took.
pub(super) async fn wait_for_alerts(
    c: &reqwest::Client,
    prometheus: &str,
    what: &str,
    want: impl Fn(&[(String, String)]) -> bool,
) -> Duration {
    let started = Instant::now();
    loop {
        let now = alerts(c, prometheus).await;
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

#[test]
fn a_failing_sink_fires_its_alerts_in_prometheus_and_they_resolve_after_replay() {
    let dir = tempfile::tempdir().unwrap();
    let tenant = stdout_json(&run(
        spotlight(dir.path()).args(["tenant", "create", "--name", "Acme", "--json"])
    ));
    let pk = production_key(&tenant, "publishable_key");
    let sk = production_key(&tenant, "secret_key");
    let mut cmd = spotlight(dir.path());
    cmd.env("SPOTLIGHT_RELAY_MAX_ATTEMPTS", "3")
        .env("SPOTLIGHT_RELAY_BACKOFF_BASE_MS", "50")
        .env("SPOTLIGHT_RELAY_BACKOFF_MAX_SECS", "1");
    let server = Server::start_with(cmd);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let receiver = Receiver::default();
    receiver.status.store(200, Ordering::SeqCst);
    let hook_url = rt.block_on(async {
        let app = axum::Router::new()
            .route("/hook", axum::routing::post(hook))
            .with_state(receiver.clone());
        format!("{}/hook", super::serve_on_loopback(app).await)
    });

    let node = server.base.trim_start_matches("http://").to_owned();
    let prometheus = Prometheus::start(dir.path(), &node);
    let prom = prometheus.url.clone();

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
        let fired = wait_for_alerts(&c, &prom, "dead letters and an open circuit", |a| {
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
        let resolved = wait_for_alerts(&c, &prom, "both alerts resolved", |a| {
            !a.iter().any(|(n, _)| n == "SpotlightDeadLetters" || n == "SpotlightSinkCircuitOpen")
        })
        .await;
        eprintln!("drill: {} dead letters replayed and delivered; both alerts resolved {resolved:?} later", ids.len());
        let dead = admin(reqwest::Method::GET, "/v1/admin/dead-letters".into(), None).await;
        assert_eq!(dead["items"], json!([]), "{dead}");
    });
    drop(prometheus);
}

/// A PostgreSQL server of the test's own (Debian's binaries, `initdb` into a
/// temporary folder as the `postgres` user, trust auth, a free port), so the
/// drill can stop it without touching the machine's shared server.
struct PrivatePostgres {
    dir: tempfile::TempDir,
    bin: std::path::PathBuf,
    port: u16,
}

impl PrivatePostgres {
    fn start() -> PrivatePostgres {
        let versions =
            std::fs::read_dir("/usr/lib/postgresql").expect("PostgreSQL's server binaries");
        let bin = versions
            .filter_map(Result::ok)
            .map(|e| e.path().join("bin"))
            .max()
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        assert!(Command::new("chown")
            .args(["-R", "postgres:postgres", dir.path().to_str().unwrap()])
            .status()
            .unwrap()
            .success());
        let pg = PrivatePostgres {
            dir,
            bin,
            port: free_port(),
        };
        pg.as_postgres(
            "initdb",
            &["-D", "data", "--auth=trust", "-U", "postgres", "--no-sync"],
        );
        pg.start_again();
        pg
    }

    fn as_postgres(&self, tool: &str, args: &[&str]) {
        let out = Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(self.bin.join(tool))
            .args(args)
            .current_dir(self.dir.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{tool}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn start_again(&self) {
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.path().display()
        );
        self.as_postgres(
            "pg_ctl",
            &["-D", "data", "-l", "log", "-w", "-o", &opts, "start"],
        );
    }

    fn stop(&self) {
        self.as_postgres("pg_ctl", &["-D", "data", "-m", "fast", "-w", "stop"]);
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let _ = Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(self.bin.join("pg_ctl"))
            .args(["-D", "data", "-m", "immediate", "stop"])
            .current_dir(self.dir.path())
            .output();
    }
}

/// PostgreSQL stops: the node turns unready and SpotlightNotReady fires in
/// Prometheus while the SDK config keeps being served from the node's caches;
/// PostgreSQL starts again and the alert resolves (docs/runbooks/postgres-unreachable.md).
#[test]
fn postgres_down_fires_the_readiness_alert_while_config_serves_from_cache() {
    let pg = PrivatePostgres::start();
    let dir = tempfile::tempdir().unwrap();
    let with_db = |cmd: &mut Command| {
        cmd.env("SPOTLIGHT_DATABASE_URL", pg.url());
    };
    let tenant = create_tenant(dir.path(), Some(&pg.url()), "https://app.example");
    let pk = production_key(&tenant, "publishable_key");
    let mut cmd = spotlight(dir.path());
    with_db(&mut cmd);
    let server = Server::start_with(cmd);
    let node = server.base.trim_start_matches("http://").to_owned();
    let prometheus = Prometheus::start(dir.path(), &node);
    let c = reqwest::Client::builder().no_proxy().build().unwrap();
    let config = || {
        let (c, pk, base) = (c.clone(), pk.clone(), server.base.clone());
        async move {
            c.get(format!("{base}/v1/sdk/config"))
                .query(&[
                    ("key", pk.as_str()),
                    ("user_id", "u1"),
                    ("url", "https://app.example/"),
                ])
                .header("origin", "https://app.example")
                .send()
                .await
                .map(|r| r.status().as_u16())
                .unwrap_or(0)
        }
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        assert_eq!(config().await, 200);
        wait_for_alerts(&c, &prometheus.url, "Prometheus evaluating, nothing firing", |a| {
            a.is_empty()
        })
        .await;
        // Prometheus has scraped a ready node.
        tokio::time::sleep(Duration::from_secs(3)).await;

        pg.stop();
        let stopped = Instant::now();
        let fired = wait_for_alerts(&c, &prometheus.url, "SpotlightNotReady firing", |a| {
            firing("SpotlightNotReady", a)
        })
        .await;
        // Meanwhile the SDK is still answered, from the caches.
        for _ in 0..5 {
            assert_eq!(config().await, 200, "SDK config while PostgreSQL is down");
        }
        let r = c.get(format!("{}/readyz", server.base)).send().await.unwrap();
        assert_eq!(r.status(), 503);
        eprintln!("drill: PostgreSQL stopped; SpotlightNotReady firing after {fired:?}; SDK config answered 200 throughout");

        pg.start_again();
        let resolved = wait_for_alerts(&c, &prometheus.url, "SpotlightNotReady resolved", |a| {
            !a.iter().any(|(n, _)| n == "SpotlightNotReady")
        })
        .await;
        eprintln!(
            "drill: PostgreSQL started; SpotlightNotReady resolved {resolved:?} later ({:?} after the stop)",
            stopped.elapsed()
        );
        let r = c.get(format!("{}/readyz", server.base)).send().await.unwrap();
        assert_eq!(r.status(), 200);
    });
}
