//! The production topology of deploy/compose.yaml, started as operators start it
//! without containers (deploy/cluster/cluster.sh: this machine's PostgreSQL and
//! NATS, two nodes, HAProxy in front), under steady load from SDK config
//! reads, event batches and admin writes:
//! - a rolling upgrade (each node drained by SIGTERM, restarted on another
//!   binary) answers every request 2xx/304 and loses no acknowledged event;
//! - the newest scheduled backup, taken under that load and restored into a
//!   fresh PostgreSQL and a fresh SQLite, holds every table's rows with the
//!   same content checksum as its source.

use super::{postgres_url, run, spotlight};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const ORIGIN: &str = "https://app.example";

use super::drill::free_port;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

struct Cluster {
    dir: PathBuf,
    env: Vec<(&'static str, String)>,
    lb: String,
}

impl Cluster {
    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(repo().join("deploy/cluster/cluster.sh"));
        cmd.args(args);
        for (k, _) in std::env::vars() {
            if k.starts_with("SPOTLIGHT_") {
                cmd.env_remove(k);
            }
        }
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd
    }

    fn run(&self, args: &[&str]) -> String {
        let out = self.command(args).stdin(Stdio::null()).output().unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "cluster.sh {args:?} failed: {text}");
        text
    }

    fn logs(&self) -> String {
        ["a.log", "b.log", "haproxy.log"]
            .iter()
            .map(|f| std::fs::read_to_string(self.dir.join(f)).unwrap_or_default())
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self.command(&["down"]).output();
    }
}

/// What the load generator saw.
#[derive(Default)]
struct Seen {
    answered: AtomicU64,
    failures: Mutex<Vec<String>>,
    acknowledged: Mutex<Vec<String>>,
}

impl Seen {
    fn check(
        &self,
        what: &str,
        r: Result<reqwest::Response, reqwest::Error>,
    ) -> Option<reqwest::Response> {
        match r {
            Ok(r) if r.status().is_success() || r.status() == 304 => {
                self.answered.fetch_add(1, Ordering::Relaxed);
                Some(r)
            }
            Ok(r) => {
                self.failures
                    .lock()
                    .unwrap()
                    .push(format!("{what}: {}", r.status()));
                None
            }
            Err(e) => {
                self.failures.lock().unwrap().push(format!("{what}: {e}"));
                None
            }
        }
    }
}

/// Steady load until `stop`: two SDK config readers, two event senders, one admin writer.
fn load(
    rt: &tokio::runtime::Runtime,
    lb: &str,
    pk: &str,
    sk: &str,
    tour: &str,
    stop: Arc<AtomicBool>,
    seen: Arc<Seen>,
) -> Vec<tokio::task::JoinHandle<()>> {
    let c = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let mut tasks = Vec::new();
    for n in 0..2 {
        let (c, lb, pk, stop, seen) = (
            c.clone(),
            lb.to_owned(),
            pk.to_owned(),
            stop.clone(),
            seen.clone(),
        );
        tasks.push(rt.spawn(async move {
            let mut i = 0u64;
            while !stop.load(Ordering::Relaxed) {
                i += 1;
                let r = c
                    .get(format!("{lb}/v1/sdk/config"))
                    .query(&[
                        ("key", pk.as_str()),
                        ("user_id", &format!("reader-{n}-{}", i % 50)),
                        ("url", &format!("{ORIGIN}/home")),
                    ])
                    .header("origin", ORIGIN)
                    .send()
                    .await;
                if let Some(r) = seen.check("config", r) {
                    let _ = r.bytes().await;
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }));
    }
    for n in 0..2 {
        let (c, lb, pk, stop, seen) = (
            c.clone(),
            lb.to_owned(),
            pk.to_owned(),
            stop.clone(),
            seen.clone(),
        );
        tasks.push(rt.spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let ids: Vec<String> = (0..5).map(|_| uuid::Uuid::new_v4().to_string()).collect();
                let now = (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64;
                let events: Vec<Value> = ids
                    .iter()
                    .map(|id| json!({"event_id": id, "schema_version": 1, "name": "load", "user_id": format!("sender-{n}"), "timestamp": now, "properties": {}}))
                    .collect();
                let r = c
                    .post(format!("{lb}/v1/sdk/events"))
                    .query(&[("key", pk.as_str())])
                    .header("origin", ORIGIN)
                    .json(&json!({ "events": events }))
                    .send()
                    .await;
                if let Some(r) = seen.check("events", r) {
                    let v: Value = r.json().await.unwrap_or_default();
                    let stored = v["accepted"].as_u64().unwrap_or(0) + v["duplicates"].as_u64().unwrap_or(0);
                    if stored == 5 {
                        seen.acknowledged.lock().unwrap().extend(ids);
                    } else {
                        seen.failures.lock().unwrap().push(format!("events: {v}"));
                    }
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }));
    }
    let (lb, sk, tour) = (lb.to_owned(), sk.to_owned(), tour.to_owned());
    tasks.push(rt.spawn(async move {
        let mut i = 0u64;
        while !stop.load(Ordering::Relaxed) {
            i += 1;
            let body = json!({"name": format!("Welcome {i}"), "steps": [{"kind": "modal", "title": "Hi"}]});
            let r = c
                .put(format!("{lb}/v1/admin/tours/{tour}"))
                .bearer_auth(&sk)
                .json(&body)
                .send()
                .await;
            if let Some(r) = seen.check("admin write", r) {
                let _ = r.bytes().await;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }));
    tasks
}

/// `  table: N rows, checksum X` lines of a backup or restore.
fn tables(output: &str) -> BTreeMap<String, String> {
    output
        .lines()
        .filter_map(|l| l.strip_prefix("  "))
        .filter_map(|l| l.split_once(": "))
        .map(|(t, rest)| (t.to_owned(), rest.to_owned()))
        .collect()
}

fn stdout_of(cmd: &mut Command) -> String {
    let out = run(cmd);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn rolling_upgrade_under_load_fails_no_request_and_loses_no_event() {
    let Some(db) = postgres_url() else { return };
    assert!(
        Command::new("haproxy").arg("-v").output().is_ok(),
        "HAProxy is needed (apt-get install haproxy)"
    );
    let dir = tempfile::tempdir().unwrap();
    let (lb_port, stats_port) = (free_port(), free_port());
    let cluster = Cluster {
        dir: dir.path().to_owned(),
        env: vec![
            ("SPOTLIGHT_BIN", super::BIN.to_owned()),
            ("SPOTLIGHT_CLUSTER_DIR", dir.path().display().to_string()),
            ("DATABASE_URL", db.clone()),
            (
                "NATS_URL",
                std::env::var("SPOTLIGHT_TEST_NATS_URL")
                    .unwrap_or_else(|_| "nats://127.0.0.1:4222".into()),
            ),
            ("LB_PORT", lb_port.to_string()),
            ("STATS_PORT", stats_port.to_string()),
            ("NODE_A_PORT", free_port().to_string()),
            ("NODE_B_PORT", free_port().to_string()),
            (
                "DRAIN_SECS",
                std::env::var("SPOTLIGHT_TEST_DRAIN_SECS").unwrap_or_else(|_| "2".into()),
            ),
        ],
        lb: format!("http://127.0.0.1:{lb_port}"),
    };
    cluster.run(&["up"]);
    let operator = std::fs::read_to_string(dir.path().join("secrets/operator_token")).unwrap();

    let rt = tokio::runtime::Runtime::new().unwrap();
    let c = reqwest::Client::builder().no_proxy().build().unwrap();
    let (pk, sk, tour) = rt.block_on(async {
        let t: Value = c
            .post(format!("{}/v1/operator/tenants", cluster.lb))
            .bearer_auth(operator.trim())
            .json(&json!({"name": "Acme", "allowed_origins": [ORIGIN]}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let (pk, sk) = (
            super::production_key(&t, "publishable_key"),
            super::production_key(&t, "secret_key"),
        );
        let tour: Value = c
            .post(format!("{}/v1/admin/tours", cluster.lb))
            .bearer_auth(&sk)
            .json(&json!({"name": "Welcome", "steps": [{"kind": "modal", "title": "Hi"}]}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let id = tour["id"].as_str().unwrap().to_owned();
        let r = c
            .post(format!("{}/v1/admin/tours/{id}/publish", cluster.lb))
            .bearer_auth(&sk)
            .json(&json!({"environment": "production"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        (pk, sk, id)
    });

    let stop = Arc::new(AtomicBool::new(false));
    let seen = Arc::new(Seen::default());
    let tasks = load(
        &rt,
        &cluster.lb,
        &pk,
        &sk,
        &tour,
        stop.clone(),
        seen.clone(),
    );
    rt.block_on(async { tokio::time::sleep(Duration::from_secs(2)).await });
    let before_upgrade = seen.answered.load(Ordering::Relaxed);
    assert!(
        before_upgrade > 20,
        "the load is running: {before_upgrade} answers"
    );

    // "A new build": another binary file, as a release would bring.
    let new_bin = dir.path().join("spotlight-next");
    std::fs::copy(super::BIN, &new_bin).unwrap();
    let started = Instant::now();
    let out = cluster.run(&["upgrade", new_bin.to_str().unwrap()]);
    let upgrade_time = started.elapsed();
    assert!(
        out.contains("node a upgraded") && out.contains("node b upgraded"),
        "{out}"
    );
    rt.block_on(async { tokio::time::sleep(Duration::from_secs(1)).await });
    let after_upgrade = seen.answered.load(Ordering::Relaxed);
    // The synthetic check an operator's canary runs, through the balancer.
    let out = run(spotlight(dir.path()).args([
        "check",
        "--url",
        &cluster.lb,
        "--key",
        &pk,
        "--origin",
        ORIGIN,
    ]));
    assert!(
        out.status.success(),
        "spotlight check after the upgrade: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Scheduled backups under the same load; the newest is the one restored.
    let backups = dir.path().join("backups");
    let mut source = String::new();
    for _ in 0..2 {
        let mut cmd = spotlight(dir.path());
        cmd.env("SPOTLIGHT_DATABASE_URL", &db).args([
            "backup",
            "--dir",
            backups.to_str().unwrap(),
            "--keep",
            "1",
        ]);
        source = stdout_of(&mut cmd);
        rt.block_on(async { tokio::time::sleep(Duration::from_millis(1100)).await });
        // file names are by the second
    }
    stop.store(true, Ordering::Relaxed);
    rt.block_on(async {
        for t in tasks {
            t.await.unwrap();
        }
    });

    let failures = seen.failures.lock().unwrap().clone();
    let answered = seen.answered.load(Ordering::Relaxed);
    eprintln!(
        "rolling upgrade: {answered} answers ({} during the upgrade of {upgrade_time:?}), {} failures",
        after_upgrade - before_upgrade,
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} of {} requests failed during the rolling upgrade: {:?}\n{}",
        failures.len(),
        answered + failures.len() as u64,
        &failures[..failures.len().min(20)],
        cluster.logs()
    );
    assert!(
        after_upgrade - before_upgrade > 100,
        "load ran through the upgrade"
    );

    // Every acknowledged event is stored.
    let acked = seen.acknowledged.lock().unwrap().clone();
    let script = format!(
        "CREATE TEMP TABLE acked (id TEXT PRIMARY KEY);\nCOPY acked FROM STDIN;\n{}\n\\.\n\
         SELECT count(*) FROM acked a WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.event_id = a.id);\n",
        acked.join("\n")
    );
    let (ok, lost) = super::psql(&db, &script, "-qtA");
    assert!(ok, "{lost}");
    let lost = lost.trim();
    eprintln!("events acknowledged: {}, lost: {lost}", acked.len());
    assert!(acked.len() > 100);
    assert_eq!(lost, "0", "acknowledged events missing after the upgrade");

    // Restore drill: the newest backup into a fresh PostgreSQL and a fresh SQLite.
    let files: Vec<PathBuf> = std::fs::read_dir(&backups)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "--keep 1 keeps the newest only: {files:?}");
    let newest = files[0].to_str().unwrap().to_owned();
    let source = tables(&source);
    assert!(
        source.len() >= 19,
        "every table is in the backup: {source:?}"
    );
    assert!(!source["events"].starts_with("0 rows"), "{source:?}");
    let pg = postgres_url().unwrap();
    let sqlite = tempfile::tempdir().unwrap();
    for (name, url) in [("PostgreSQL", Some(pg.as_str())), ("SQLite", None)] {
        let target = sqlite.path().join(name);
        std::fs::create_dir_all(&target).unwrap();
        let with = |cmd: &mut Command| {
            if let Some(url) = url {
                cmd.env("SPOTLIGHT_DATABASE_URL", url);
            }
        };
        let mut restore = spotlight(&target);
        with(&mut restore);
        let started = Instant::now();
        stdout_of(restore.args(["restore", "--from", &newest]));
        let took = started.elapsed();
        let mut again = spotlight(&target);
        with(&mut again);
        let copy = target.join("check.jsonl");
        let restored = tables(&stdout_of(again.args([
            "backup",
            "--out",
            copy.to_str().unwrap(),
        ])));
        eprintln!("restored into {name} in {took:?}");
        assert_eq!(
            restored, source,
            "{name}: every table's rows and checksum as in the source"
        );
    }
}
