//! The Grafana dashboards (deploy/grafana/dashboards/*.json) against live
//! data: two nodes on PostgreSQL under a short load (SDK configs, a tour's
//! events, admin writes, sign-ins), scraped by a real Prometheus. Every
//! panel's Prometheus query must return data from Prometheus, every SQL query
//! rows from PostgreSQL (Grafana's variables and macros filled in as Grafana
//! would), and no panel may name a metric the server does not export.

use super::drill::Prometheus;
use super::{create_tenant, postgres_url, production_key, psql, run_with_stdin, spotlight, Server};
use serde_json::{json, Value};
use std::process::Command;
use std::time::Duration;

fn dashboards() -> Vec<(String, Value)> {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/grafana/dashboards");
    let mut out: Vec<(String, Value)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| {
            let v: Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
            (p.file_name().unwrap().to_string_lossy().into_owned(), v)
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[test]
fn every_dashboard_panel_returns_live_data() {
    let Some(db) = postgres_url() else { return };
    let dir = tempfile::tempdir().unwrap();
    let with_db = |cmd: &mut Command| {
        cmd.env("SPOTLIGHT_DATABASE_URL", &db);
    };
    let tenant = create_tenant(dir.path(), Some(&db), "https://app.example");
    let tenant_id = tenant["tenant_id"].as_str().unwrap().to_owned();
    let pk = production_key(&tenant, "publishable_key");
    let sk = production_key(&tenant, "secret_key");
    let mut member = spotlight(dir.path());
    with_db(&mut member);
    let out = run_with_stdin(
        member.args([
            "member",
            "add",
            "--tenant",
            "Acme",
            "--email",
            "ops@acme.test",
            "--role",
            "owner",
            "--password-stdin",
        ]),
        b"a long enough password\n",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let nodes: Vec<Server> = (0..2)
        .map(|_| {
            let mut cmd = spotlight(dir.path());
            with_db(&mut cmd);
            Server::start_with(cmd)
        })
        .collect();
    let addrs: Vec<String> = nodes
        .iter()
        .map(|n| n.base.trim_start_matches("http://").to_owned())
        .collect();
    let prometheus = Prometheus::scraping(
        dir.path(),
        &addrs.iter().map(String::as_str).collect::<Vec<_>>(),
    );

    let rt = tokio::runtime::Runtime::new().unwrap();
    let c = reqwest::Client::builder().no_proxy().build().unwrap();
    let tour = rt.block_on(async {
        let base = &nodes[0].base;
        let admin = |method: reqwest::Method, url: String, body: Value| {
            let (c, sk) = (c.clone(), sk.clone());
            async move {
                let r = c
                    .request(method, url)
                    .bearer_auth(sk)
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                assert!(r.status().is_success(), "{}", r.status());
                r.json::<Value>().await.unwrap_or(Value::Null)
            }
        };
        let steps: Vec<Value> = (0..3)
            .map(|i| json!({"kind": "modal", "title": format!("Step {i}")}))
            .collect();
        let tour = admin(
            reqwest::Method::POST,
            format!("{base}/v1/admin/tours"),
            json!({"name": "Welcome", "steps": steps}),
        )
        .await;
        let id = tour["id"].as_str().unwrap().to_owned();
        admin(
            reqwest::Method::POST,
            format!("{base}/v1/admin/tours/{id}/publish"),
            json!({"environment": "production"}),
        )
        .await;
        admin(
            reqwest::Method::POST,
            format!("{base}/v1/admin/keys"),
            json!({"kind": "publishable", "environment": "staging"}),
        )
        .await;
        // Load on both nodes for a few seconds: configs, a tour's events, sign-ins.
        // Longer when the dashboards are to be pictured (charts need a history).
        let rounds = if std::env::var_os("SPOTLIGHT_DASHBOARD_RENDER").is_some() {
            60
        } else {
            6
        };
        for round in 0..rounds {
            for (n, node) in nodes.iter().enumerate() {
                let user = format!("user-{round}-{n}");
                let r = c
                    .get(format!("{}/v1/sdk/config", node.base))
                    .query(&[
                        ("key", pk.as_str()),
                        ("user_id", &user),
                        ("url", "https://app.example/"),
                    ])
                    .header("origin", "https://app.example")
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 200);
                let now =
                    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64;
                let mut events =
                    vec![json!({"name": "tour_started", "properties": {"tour_id": id}})];
                for s in 0..(1 + round % 3) {
                    events.push(
                        json!({"name": "step_viewed", "properties": {"tour_id": id, "step": s}}),
                    );
                }
                if round % 2 == 0 {
                    events.push(json!({"name": "tour_completed", "properties": {"tour_id": id}}));
                }
                for e in &mut events {
                    e["event_id"] = json!(uuid::Uuid::new_v4().to_string());
                    e["schema_version"] = json!(1);
                    e["timestamp"] = json!(now);
                }
                let r = c
                    .post(format!("{}/v1/sdk/events", node.base))
                    .header("x-spotlight-key", &pk)
                    .json(&json!({"user_id": user, "events": events}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 202);
                let password = if round % 3 == 0 {
                    "a wrong password"
                } else {
                    "a long enough password"
                };
                c.post(format!("{}/v1/auth/login", node.base))
                    .json(&json!({"email": "ops@acme.test", "password": password}))
                    .send()
                    .await
                    .unwrap();
            }
            tokio::time::sleep(Duration::from_millis(700)).await;
        }
        // Profiles, usage and rollups in the store; a few more scrapes.
        for node in &nodes {
            c.get(format!("{}/v1/operator/usage", node.base))
                .bearer_auth("spotlight-dev-operator-token")
                .send()
                .await
                .unwrap();
        }
        tokio::time::sleep(Duration::from_secs(3)).await;
        id
    });

    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let fill = |q: &str| {
        q.replace("$tenant", &tenant_id)
            .replace("$tour", &tour)
            .replace("$__unixEpochFrom()", &(now - 86_400).to_string())
            .replace("$__unixEpochTo()", &(now + 60).to_string())
            .replace("$__rate_interval", "15s")
    };
    let mut checked = 0;
    // SPOTLIGHT_DASHBOARD_RENDER=DIR: also keep each panel's data for
    // scripts/render-dashboards (pictures of the dashboards without Grafana).
    let render = std::env::var_os("SPOTLIGHT_DASHBOARD_RENDER").map(std::path::PathBuf::from);
    rt.block_on(async {
        for (file, d) in dashboards() {
            let mut kept = vec![];
            for v in d["templating"]["list"].as_array().unwrap() {
                let (ok, rows) = psql(&db, &format!("{};", fill(v["query"].as_str().unwrap())), "-qtA");
                assert!(
                    ok && !rows.trim().is_empty(),
                    "{file}: variable {}: {rows}",
                    v["name"]
                );
            }
            for p in d["panels"].as_array().unwrap() {
                let title = p["title"].as_str().unwrap();
                for t in p["targets"].as_array().unwrap() {
                    if let Some(expr) = t["expr"].as_str() {
                        let result = super::drill::query(&c, &prometheus.url, &fill(expr)).await;
                        assert!(!result.is_empty(), "{file} / {title}: no data for {expr}");
                        if render.is_some() {
                            let range: Value = c
                                .get(format!("{}/api/v1/query_range", prometheus.url))
                                .query(&[
                                    ("query", fill(expr)),
                                    ("start", (now - 90).to_string()),
                                    ("end", now.to_string()),
                                    ("step", "1".into()),
                                ])
                                .send()
                                .await
                                .unwrap()
                                .json()
                                .await
                                .unwrap();
                            kept.push(json!({"panel": title, "type": p["type"], "legend": t["legendFormat"], "prometheus": range["data"]["result"]}));
                        }
                    } else {
                        let sql = fill(t["rawSql"].as_str().unwrap());
                        let (ok, rows) = psql(&db, &format!("{sql};"), "-qtA");
                        assert!(ok, "{file} / {title}: {sql}: {rows}");
                        assert!(
                            !rows.trim().is_empty(),
                            "{file} / {title}: no rows for {sql}"
                        );
                        if render.is_some() {
                            let (_, csv) = psql(&db, &format!("{sql};"), "--csv");
                            kept.push(json!({"panel": title, "type": p["type"], "csv": csv}));
                        }
                    }
                    checked += 1;
                }
            }
            if let Some(dir) = &render {
                std::fs::create_dir_all(dir).unwrap();
                let doc = json!({"title": d["title"], "panels": kept});
                std::fs::write(dir.join(&file), doc.to_string()).unwrap();
            }
        }
    });
    // No panel names a metric the nodes do not export.
    let metrics = rt.block_on(async {
        c.get(format!("{}/metrics", nodes[0].base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    });
    for (file, d) in dashboards() {
        let text = d.to_string();
        for word in text.split(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '_')) {
            if let Some(name) = word.strip_prefix("spotlight_").map(|_| word) {
                let base = ["_total", "_bucket", "_sum", "_count"]
                    .iter()
                    .find_map(|s| name.strip_suffix(s))
                    .unwrap_or(name);
                if base.starts_with("spotlight_") {
                    assert!(
                        metrics.contains(&format!("# TYPE {base} ")),
                        "{file} names {base}, which /metrics does not export"
                    );
                }
            }
        }
    }
    // Every PromQL query a runbook tells the operator to run is valid here and
    // names only what the nodes export.
    let runbooks = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/runbooks");
    let mut promql = 0;
    for entry in std::fs::read_dir(runbooks).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        for expr in text.split('`').skip(1).step_by(2) {
            if !(expr.contains("spotlight_") && expr.contains('(')) || expr.starts_with("curl") {
                continue;
            }
            // Valid PromQL (the query asserts Prometheus answers "success").
            rt.block_on(super::drill::query(&c, &prometheus.url, expr));
            for word in expr.split(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '_')) {
                if word.starts_with("spotlight_") {
                    let base = word.strip_suffix("_total").unwrap_or(word);
                    assert!(
                        metrics.contains(&format!("# TYPE {base} ")),
                        "{} names {base}, which /metrics does not export",
                        path.display()
                    );
                }
            }
            promql += 1;
        }
    }
    assert!(promql >= 8, "{promql}");
    eprintln!(
        "dashboards: {checked} panel queries returned live data; {promql} runbook queries valid"
    );
    assert!(checked >= 25, "{checked}");
    drop(prometheus);
}
