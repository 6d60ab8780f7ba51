//! The runbooks walked in fault drills: a real node, Debian's Prometheus
//! evaluating deploy/prometheus/alerts.yml (minutes scaled to seconds), the
//! fault made real, the alert fired, then every check and action the runbook
//! names run as written — its PromQL against the same Prometheus, its API
//! calls and `curl` — until the alert resolves.
//! docs/runbooks/outbox-backlog.md and docs/runbooks/jwks-failing.md.

use super::drill::{firing, query, wait_for_alerts, Prometheus};
use super::{create_tenant, production_key, spotlight, Server};
use serde_json::{json, Value};
use std::process::Command;
use std::sync::atomic::{AtomicU16, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const ORIGIN: &str = "https://app.example";

/// The runbook's own text, which must still say each of `says` (what the drill runs).
fn runbook(name: &str, says: &[&str]) -> String {
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join(format!("../../docs/runbooks/{name}")),
    )
    .unwrap();
    for q in says {
        assert!(text.contains(q), "{name} no longer says {q}");
    }
    text
}

/// The runbook's shell command (a backticked `curl …` containing `fragment`)
/// with its variables given, run with `sh -c`; its standard output.
fn run_runbook_command(text: &str, fragment: &str, vars: &[(&str, &str)]) -> String {
    let command = text
        .split('`')
        .find(|c| c.starts_with("curl ") && c.contains(fragment))
        .unwrap_or_else(|| panic!("no command with {fragment} in the runbook"));
    let mut command = command.to_owned();
    for (k, v) in vars {
        command = command.replace(k, v);
    }
    let out = Command::new("sh")
        .args(["-c", &format!("{command} -sSf")])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{command}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// A webhook receiver that takes `delay` milliseconds to answer 200.
#[derive(Clone, Default)]
struct SlowReceiver {
    delay_ms: Arc<AtomicU64>,
    delivered: Arc<AtomicUsize>,
}

async fn slow_hook(axum::extract::State(r): axum::extract::State<SlowReceiver>) -> &'static str {
    let delay = r.delay_ms.load(Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(delay)).await;
    r.delivered.fetch_add(1, Ordering::SeqCst);
    "ok"
}

/// A slow webhook receiver backs the outbox up: SpotlightOutboxBacklog fires;
/// the runbook's checks find deliveries succeeding, slowly, with a relay
/// attempting; the receiver answers at once again, the backlog drains and
/// the alert resolves.
#[test]
fn outbox_backlog_runbook_walked_from_alert_to_resolution() {
    let check_sinks = "sum by (sink, result) (rate(spotlight_deliveries_total[5m]))";
    let check_relay = "sum(rate(spotlight_deliveries_total[5m]))";
    let over = "max(spotlight_outbox_oldest_age_seconds)";
    let text = runbook(
        "outbox-backlog.md",
        &[
            check_sinks,
            check_relay,
            over,
            "/v1/admin/webhooks/$ID/deliveries",
        ],
    );
    let dir = tempfile::tempdir().unwrap();
    let tenant = create_tenant(dir.path(), None, ORIGIN);
    let (pk, sk) = (
        production_key(&tenant, "publishable_key"),
        production_key(&tenant, "secret_key"),
    );
    let server = Server::start(dir.path(), None);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let receiver = SlowReceiver::default();
    receiver.delay_ms.store(1500, Ordering::SeqCst);
    let hook_url = rt.block_on(async {
        let app = axum::Router::new()
            .route("/hook", axum::routing::post(slow_hook))
            .with_state(receiver.clone());
        format!("{}/hook", super::serve_on_loopback(app).await)
    });
    // 15 minutes are 15 seconds here, like every other duration.
    let rules = super::drill::scaled_rules();
    let age = "max(spotlight_outbox_oldest_age_seconds) > 900";
    assert!(rules.contains(age));
    let rules = rules.replace(age, "max(spotlight_outbox_oldest_age_seconds) > 15");
    let node = server.base.trim_start_matches("http://").to_owned();
    let prometheus = Prometheus::with_rules(dir.path(), &[&node], &rules);
    let prom = prometheus.url.clone();
    let c = reqwest::Client::builder().no_proxy().build().unwrap();
    rt.block_on(async {
        let hook: Value = c
            .post(format!("{}/v1/admin/webhooks", server.base))
            .bearer_auth(&sk)
            .json(&json!({ "url": hook_url }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let id = hook["webhook"]["id"].as_str().unwrap().to_owned();
        // 50 batches, one delivery each: 75 s of a receiver taking 1.5 s.
        let sent = 50;
        for n in 0..sent {
            let r = c
                .post(format!("{}/v1/sdk/events", server.base))
                .header("x-spotlight-key", &pk)
                .header("origin", ORIGIN)
                .json(&json!({"user_id": format!("u{n}"), "events": [{
                    "event_id": uuid::Uuid::new_v4().to_string(), "schema_version": 1,
                    "name": "backlog", "timestamp": now_ms(), "properties": {}}]}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 202);
        }
        let fired = wait_for_alerts(&c, &prom, "SpotlightOutboxBacklog firing", |a| {
            firing("SpotlightOutboxBacklog", a)
        })
        .await;
        eprintln!("drill: SpotlightOutboxBacklog firing {fired:?} after {sent} deliveries queued behind a 1.5 s receiver");

        // Check 1: deliveries succeed (nothing failed or skipped): not a sink outage.
        let by_result = query(&c, &prom, check_sinks).await;
        let rate = |result: &str| {
            by_result
                .iter()
                .filter(|(m, _)| m["sink"] == "webhook" && m["result"] == result)
                .map(|(_, v)| *v)
                .sum::<f64>()
        };
        assert!(rate("delivered") > 0.0, "{by_result:?}");
        assert_eq!(rate("failed") + rate("skipped"), 0.0, "{by_result:?}");
        // Check 2: the delivery log — each attempt took seconds: a slow receiver.
        let log = run_runbook_command(
            &text,
            "/deliveries",
            &[("$SK", &sk), ("$SPOTLIGHT", &server.base), ("$ID", &id)],
        );
        let log: Value = serde_json::from_str(&log).unwrap();
        let attempts: Vec<i64> = log["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|d| d["duration_ms"].as_i64())
            .collect();
        assert!(!attempts.is_empty(), "{log}");
        assert!(attempts.iter().all(|ms| *ms >= 1400), "{attempts:?}");
        // Check 3: a relay is attempting.
        let attempting = query(&c, &prom, check_relay).await;
        assert!(attempting.first().is_some_and(|(_, v)| *v > 0.0), "{attempting:?}");
        let backlog = query(&c, &prom, over).await;
        assert!(backlog[0].1 > 15.0, "{backlog:?}");

        // Do: the receiver's owner makes it answer at once; the backlog drains.
        receiver.delay_ms.store(0, Ordering::SeqCst);
        let fixed = Instant::now();
        let deadline = fixed + Duration::from_secs(60);
        while receiver.delivered.load(Ordering::SeqCst) < sent {
            assert!(Instant::now() < deadline, "the backlog did not drain");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let drained = fixed.elapsed();
        let resolved = wait_for_alerts(&c, &prom, "SpotlightOutboxBacklog resolved", |a| {
            !a.iter().any(|(n, _)| n == "SpotlightOutboxBacklog")
        })
        .await;
        // Over when the oldest delivery is seconds old again.
        let oldest = query(&c, &prom, over).await;
        assert!(oldest[0].1 < 5.0, "{oldest:?}");
        eprintln!("drill: receiver fixed; backlog drained in {drained:?}; SpotlightOutboxBacklog resolved {resolved:?} later");
    });
    drop(prometheus);
}

#[derive(Clone, Default)]
struct JwksEndpoint {
    status: Arc<AtomicU16>,
}

async fn jwks(
    axum::extract::State(j): axum::extract::State<JwksEndpoint>,
) -> (axum::http::StatusCode, &'static str) {
    let status = axum::http::StatusCode::from_u16(j.status.load(Ordering::SeqCst)).unwrap();
    (
        status,
        if status.is_success() {
            super::JWKS
        } else {
            "down"
        },
    )
}

/// A tenant's JWKS endpoint fails: tokens keep verifying against the last
/// good keys (every SDK request answered 200) while SpotlightJwksStale
/// fires; the runbook's checks find the tenant and URL in the log, the
/// errors in Prometheus and the status with curl; the stopgap (monitor
/// mode) is applied as written; the endpoint comes back and the alert
/// resolves.
#[test]
fn jwks_failing_runbook_walked_from_alert_to_resolution() {
    let check_errors = "sum by (result) (rate(spotlight_jwks_fetches_total[5m]))";
    let over = r#"sum(increase(spotlight_cache_lookups_total{cache="jwks",result="stale"}[10m]))"#;
    let text = runbook(
        "jwks-failing.md",
        &[
            check_errors,
            over,
            "curl -v URL",
            r#""mode":"monitor""#,
            "span.tenant_id",
        ],
    );
    let dir = tempfile::tempdir().unwrap();
    let tenant = create_tenant(dir.path(), None, ORIGIN);
    let tenant_id = tenant["tenant_id"].as_str().unwrap().to_owned();
    let (pk, sk) = (
        production_key(&tenant, "publishable_key"),
        production_key(&tenant, "secret_key"),
    );
    let mut cmd = spotlight(dir.path());
    cmd.env("SPOTLIGHT_JWKS_REFRESH_SECS", "2");
    let mut server = Server::start_with(cmd);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let endpoint = JwksEndpoint::default();
    endpoint.status.store(200, Ordering::SeqCst);
    let jwks_url = rt.block_on(async {
        let app = axum::Router::new()
            .route("/jwks.json", axum::routing::get(jwks))
            .with_state(endpoint.clone());
        format!("{}/jwks.json", super::serve_on_loopback(app).await)
    });
    let node = server.base.trim_start_matches("http://").to_owned();
    let prometheus = Prometheus::start(dir.path(), &node);
    let prom = prometheus.url.clone();
    let c = reqwest::Client::builder().no_proxy().build().unwrap();
    let settings = |body: Value| {
        let (c, sk, base) = (c.clone(), sk.clone(), server.base.clone());
        async move {
            let r = c
                .patch(format!("{base}/v1/admin/settings"))
                .bearer_auth(&sk)
                .json(&body)
                .send()
                .await
                .unwrap();
            assert!(r.status().is_success(), "{}", r.text().await.unwrap());
        }
    };
    // End users keep asking, every 200 ms, each answer recorded.
    let answers = Arc::new(std::sync::Mutex::new(Vec::<u16>::new()));
    rt.block_on(async {
        settings(json!({"identity_verification": {"production": {
            "mode": "enforce", "allow_anonymous": false,
            "method": {"type": "jwks", "url": jwks_url},
            "issuer": "https://idp.example.test", "audience": "spotlight"}}}))
        .await;
        let (c2, pk2, base, got) = (c.clone(), pk.clone(), server.base.clone(), answers.clone());
        let users = tokio::spawn(async move {
            loop {
                let status = c2
                    .get(format!("{base}/v1/sdk/config"))
                    .header("x-spotlight-key", &pk2)
                    .header("origin", ORIGIN)
                    .header(
                        "authorization",
                        format!("Bearer {}", super::end_user_token()),
                    )
                    .send()
                    .await
                    .map(|r| r.status().as_u16())
                    .unwrap_or(0);
                got.lock().unwrap().push(status);
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        });
        tokio::time::sleep(Duration::from_secs(3)).await;
        assert!(alerts_quiet(&c, &prom).await);

        // The tenant's endpoint fails.
        endpoint.status.store(503, Ordering::SeqCst);
        let fired = wait_for_alerts(&c, &prom, "SpotlightJwksStale firing", |a| {
            firing("SpotlightJwksStale", a)
        })
        .await;
        eprintln!("drill: SpotlightJwksStale firing {fired:?} after the JWKS endpoint failed");

        // Check 1: the errors in Prometheus.
        let fetches = query(&c, &prom, check_errors).await;
        assert!(
            fetches
                .iter()
                .any(|(m, v)| m["result"] == "error" && *v > 0.0),
            "{fetches:?}"
        );
        // Check 2: the URL from a node.
        let curl = Command::new("curl")
            .args(["-v", &jwks_url])
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&curl.stderr);
        assert!(said.contains("< HTTP/1.1 503"), "{said}");

        // Do (stopgap): monitor mode, with the runbook's own command.
        run_runbook_command(
            &text,
            "/v1/admin/settings",
            &[("$SK", &sk), ("$SPOTLIGHT", &server.base)],
        );
        let now: Value = c
            .get(format!("{}/v1/admin/settings", server.base))
            .bearer_auth(&sk)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let iv = &now["identity_verification"]["production"];
        assert_eq!(iv["mode"], "monitor");
        assert_eq!(
            iv["method"]["url"],
            jwks_url.as_str(),
            "the other fields stay"
        );

        // The tenant fixes the endpoint; the alert resolves.
        endpoint.status.store(200, Ordering::SeqCst);
        let resolved = wait_for_alerts(&c, &prom, "SpotlightJwksStale resolved", |a| {
            !a.iter().any(|(n, _)| n == "SpotlightJwksStale")
        })
        .await;
        let stale = query(&c, &prom, &over.replace("[10m]", "[10s]")).await;
        assert_eq!(stale.first().map(|(_, v)| *v), Some(0.0), "{stale:?}");
        eprintln!("drill: endpoint fixed; SpotlightJwksStale resolved {resolved:?} later");
        users.abort();
    });
    // Every end user was answered throughout: the last good keys verified.
    let answers = answers.lock().unwrap().clone();
    assert!(answers.len() > 20, "{answers:?}");
    assert!(answers.iter().all(|s| *s == 200), "{answers:?}");
    // Check 1 (the log): the failed refresh names the URL, the error and the tenant.
    assert!(server.terminate().success());
    let logs = server.logs();
    let line: Value = logs
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|v| v["message"] == "cache refresh failed" && v["cache"] == "jwks")
        .unwrap_or_else(|| panic!("no JWKS refresh warning: {logs:?}"));
    assert_eq!(line["level"], "WARN");
    assert!(
        line["error"].as_str().unwrap().contains(&jwks_url),
        "{line}"
    );
    assert!(line["error"].as_str().unwrap().contains("503"), "{line}");
    assert_eq!(line["span"]["tenant_id"], tenant_id.as_str(), "{line}");
    drop(prometheus);
}

/// Prometheus evaluates and nothing fires.
async fn alerts_quiet(c: &reqwest::Client, prom: &str) -> bool {
    wait_for_alerts(c, prom, "Prometheus evaluating", |_| true).await;
    !super::drill::alerts(c, prom)
        .await
        .iter()
        .any(|(_, s)| s == "firing")
}

/// A request with a JSON body (or none) and a bearer token: status and body.
async fn call(
    c: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    token: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut r = c.request(method, url).bearer_auth(token);
    if let Some(b) = body {
        r = r.json(&b);
    }
    let r = r.send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// A secret key leaks and is used to change a published tour: the audit log
/// lists what it did (`?actor=`), `spotlight key rotate --grace-seconds 0`
/// cuts it off at once, a rollback restores the tour, and the old key's
/// further attempts are counted as authentication failures and never audited.
#[test]
fn leaked_key_runbook_walked_from_leak_to_rollback() {
    runbook(
        "leaked-key.md",
        &[
            "GET /v1/admin/audit?actor=",
            "spotlight key rotate --key sk_… --grace-seconds 0",
            "POST /v1/admin/{kind}/{id}/rollback",
        ],
    );
    let dir = tempfile::tempdir().unwrap();
    let tenant = create_tenant(dir.path(), None, ORIGIN);
    let (pk, owner) = (
        production_key(&tenant, "publishable_key"),
        production_key(&tenant, "secret_key"),
    );
    // The key that will leak: a second secret key of the tenant's.
    let created = super::stdout_json(&super::run(spotlight(dir.path()).args([
        "key", "create", "--tenant", "Acme", "--kind", "secret", "--label", "ci", "--json",
    ])));
    let leaked = created["key"]
        .as_str()
        .or(created["secret"].as_str())
        .unwrap_or_else(|| panic!("{created}"))
        .to_owned();
    let server = Server::start(dir.path(), None);
    let base = server.base.clone();
    let c = reqwest::Client::builder().no_proxy().build().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    use reqwest::Method;
    let title_served = |c: reqwest::Client| {
        let (base, pk) = (base.clone(), pk.clone());
        async move {
            // The served config's text: which title it carries.
            let text = c
                .get(format!(
                    "{base}/v1/sdk/config?user_id=u1&url=https://app.example/"
                ))
                .header("x-spotlight-key", &pk)
                .header("origin", ORIGIN)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            ["Hello", "Pwned"]
                .into_iter()
                .find(|t| text.contains(t))
                .unwrap_or_else(|| panic!("no tour in {text}"))
                .to_owned()
        }
    };
    let tour = rt.block_on(async {
        let doc = json!({"name": "Welcome", "steps": [{"kind": "modal", "title": "Hello", "body": "<p>Hi</p>",
            "buttons": [{"action": "next", "label": "Next"}]}]});
        let (s, t) = call(&c, Method::POST, format!("{base}/v1/admin/tours"), &owner, Some(doc)).await;
        assert_eq!(s, 201, "{t}");
        let id = t["id"].as_str().unwrap().to_owned();
        let (s, _) = call(&c, Method::POST, format!("{base}/v1/admin/tours/{id}/publish"), &owner, Some(json!({"environment": "production"}))).await;
        assert!(s < 300);
        assert_eq!(title_served(c.clone()).await, "Hello");
        // The leaked key defaces it.
        let (s, v) = call(&c, Method::PUT, format!("{base}/v1/admin/tours/{id}"), &leaked,
            Some(json!({"name": "Welcome", "steps": [{"kind": "modal", "title": "Pwned", "body": "<p>x</p>",
                "buttons": [{"action": "next", "label": "Next"}]}]}))).await;
        assert!(s < 300, "{s} {v}");
        let (s, _) = call(&c, Method::POST, format!("{base}/v1/admin/tours/{id}/publish"), &leaked, Some(json!({"environment": "production"}))).await;
        assert!(s < 300);
        assert_eq!(title_served(c.clone()).await, "Pwned");
        id
    });

    rt.block_on(async {
        // Check 2: what the leaked key did — the audit log by actor.
        let (_, all) = call(
            &c,
            Method::GET,
            format!("{base}/v1/admin/audit"),
            &owner,
            None,
        )
        .await;
        let entries = all["items"].as_array().unwrap_or_else(|| panic!("{all}"));
        let newest = &entries[0];
        assert_eq!(newest["action"], "tour.publish", "{newest}");
        let actor = newest["actor"].as_str().unwrap().to_owned();
        let (_, by_leak) = call(
            &c,
            Method::GET,
            format!("{base}/v1/admin/audit?actor={actor}"),
            &owner,
            None,
        )
        .await;
        let actions: Vec<&str> = by_leak["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect();
        assert_eq!(actions, ["tour.publish", "tour.update"], "{by_leak}");
    });

    // Do 1: rotate at once, from a node's shell.
    let out = super::run(spotlight(dir.path()).args([
        "key",
        "rotate",
        "--key",
        &leaked,
        "--grace-seconds",
        "0",
        "--json",
    ]));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rotated: Value = serde_json::from_slice(&out.stdout).unwrap();
    let new_key = rotated["key"]
        .as_str()
        .or(rotated["secret"].as_str())
        .unwrap_or_else(|| panic!("{rotated}"))
        .to_owned();
    assert_ne!(new_key, leaked);
    rt.block_on(async {
        let rotated_at = Instant::now();
        loop {
            let (s, _) = call(
                &c,
                Method::GET,
                format!("{base}/v1/admin/tours"),
                &leaked,
                None,
            )
            .await;
            if s == 401 {
                break;
            }
            assert!(
                rotated_at.elapsed() < Duration::from_secs(2),
                "the old key still works: {s}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        eprintln!(
            "drill: the leaked key refused {:?} after `spotlight key rotate`",
            rotated_at.elapsed()
        );
        // Do 2: the new key (given to the tenant) works.
        let (s, _) = call(
            &c,
            Method::GET,
            format!("{base}/v1/admin/tours"),
            &new_key,
            None,
        )
        .await;
        assert_eq!(s, 200);
        // Do 3: roll the tour back to the version before the leak.
        let (s, v) = call(
            &c,
            Method::POST,
            format!("{base}/v1/admin/tours/{tour}/rollback"),
            &owner,
            Some(json!({"version": 1, "environment": "production"})),
        )
        .await;
        assert!(s < 300, "{s} {v}");
        let deadline = Instant::now() + Duration::from_secs(5);
        while title_served(c.clone()).await != "Hello" {
            assert!(Instant::now() < deadline, "the rollback is not served");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        // Over when: the old key's attempts fail, are counted, and change nothing.
        let (s, _) = call(
            &c,
            Method::DELETE,
            format!("{base}/v1/admin/tours/{tour}"),
            &leaked,
            None,
        )
        .await;
        assert_eq!(s, 401);
        let metrics = c
            .get(format!("{base}/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            metrics.lines().any(
                |l| l.starts_with("spotlight_auth_failures_total{kind=\"admin\"")
                    && !l.ends_with(" 0")
            ),
            "{metrics}"
        );
        let (_, all) = call(
            &c,
            Method::GET,
            format!("{base}/v1/admin/audit"),
            &owner,
            None,
        )
        .await;
        let newest = &all["items"][0];
        assert_eq!(newest["action"], "tour.rollback", "{newest}");
    });
}

/// A tenant's integration sends broken events and floods the SDK: the 202
/// answers name each refused event's code, the operator sees the tenant's
/// volume (`GET /v1/operator/usage`), the tenant's SDK limit is tightened
/// (429s follow) and the kill switch turns its content off at once.
#[test]
fn tenant_abuse_runbook_walked_from_rejections_to_kill_switch() {
    runbook(
        "tenant-abuse.md",
        &[
            "GET /v1/operator/usage",
            "PATCH /v1/admin/settings",
            "kill_switch: true",
            "`code` and `message`",
        ],
    );
    let dir = tempfile::tempdir().unwrap();
    let tenant = create_tenant(dir.path(), None, ORIGIN);
    let tenant_id = tenant["tenant_id"].as_str().unwrap().to_owned();
    let (pk, sk) = (
        production_key(&tenant, "publishable_key"),
        production_key(&tenant, "secret_key"),
    );
    let server = Server::start(dir.path(), None);
    let base = server.base.clone();
    let c = reqwest::Client::builder().no_proxy().build().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    use reqwest::Method;
    rt.block_on(async {
        // A broken integration: each batch has one good event and one without a name.
        let mut codes = vec![];
        for n in 0..5 {
            let good = json!({"event_id": uuid::Uuid::new_v4().to_string(), "schema_version": 1,
                "name": "ok", "timestamp": now_ms(), "properties": {}});
            let mut bad = good.clone();
            bad["event_id"] = json!(uuid::Uuid::new_v4().to_string());
            bad["name"] = json!("");
            let r = c
                .post(format!("{base}/v1/sdk/events"))
                .header("x-spotlight-key", &pk)
                .header("origin", ORIGIN)
                .json(&json!({"user_id": format!("u{n}"), "events": [good, bad]}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 202);
            let r: Value = r.json().await.unwrap();
            for rej in r["rejected"].as_array().unwrap_or_else(|| panic!("{r}")) {
                assert!(rej["message"].as_str().is_some_and(|m| !m.is_empty()), "{rej}");
                codes.push(rej["code"].as_str().unwrap().to_owned());
            }
        }
        assert_eq!(codes, vec!["invalid_event"; 5]);
        // Who: the operator's usage per tenant.
        let (s, usage) = call(&c, Method::GET, format!("{base}/v1/operator/usage"), "spotlight-dev-operator-token", None).await;
        assert_eq!(s, 200, "{usage}");
        let mine = usage["tenants"]
            .as_array()
            .unwrap_or_else(|| panic!("{usage}"))
            .iter()
            .find(|u| u["tenant_id"] == tenant_id.as_str())
            .unwrap_or_else(|| panic!("{usage}"));
        assert_eq!(mine["environments"][0]["events_ingested"], 5, "{mine}");

        // Do: tighten the tenant's SDK limit.
        let (s, v) = call(&c, Method::PATCH, format!("{base}/v1/admin/settings"), &sk,
            Some(json!({"rate_limits": {"sdk_per_minute": 5, "admin_per_minute": 1200}}))).await;
        assert_eq!(s, 200, "{v}");
        let mut limited = 0;
        for _ in 0..20 {
            let r = c
                .get(format!("{base}/v1/sdk/config?user_id=u1&url=https://app.example/"))
                .header("x-spotlight-key", &pk)
                .header("origin", ORIGIN)
                .send()
                .await
                .unwrap();
            if r.status() == 429 {
                limited += 1;
            }
        }
        assert!(limited >= 10, "{limited} of 20 limited");
        // Do: the kill switch (limits relaxed again so the answer is seen).
        let (s, v) = call(&c, Method::PATCH, format!("{base}/v1/admin/settings"), &sk,
            Some(json!({"kill_switch": true, "rate_limits": {"sdk_per_minute": 60000, "admin_per_minute": 1200}}))).await;
        assert_eq!(s, 200, "{v}");
        let switched = Instant::now();
        loop {
            let v: Value = c
                .get(format!("{base}/v1/sdk/config?user_id=u2&url=https://app.example/"))
                .header("x-spotlight-key", &pk)
                .header("origin", ORIGIN)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap_or(Value::Null);
            if v["enabled"] == false {
                break;
            }
            assert!(switched.elapsed() < Duration::from_secs(1), "{v}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        eprintln!("drill: kill switch served {:?} after the change", switched.elapsed());
    });
}
