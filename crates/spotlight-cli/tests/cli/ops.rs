//! What an operator's tooling calls: `migrate --check`, `check` (the synthetic
//! probe and container health check), SIGTERM's drain, scheduled backups.

use super::{postgres_url, production_key, run, spotlight, stdout_json, Server};
use std::process::Command;
use std::time::{Duration, Instant};

fn migrate_check(database_url: Option<&str>) {
    let dir = tempfile::tempdir().unwrap();
    let with = |cmd: &mut Command| {
        if let Some(url) = database_url {
            cmd.env("SPOTLIGHT_DATABASE_URL", url);
        }
    };
    let mut check = spotlight(dir.path());
    with(&mut check);
    let out = run(check.args(["migrate", "--check"]));
    assert_eq!(out.status.code(), Some(3), "pending migrations exit 3");
    assert!(String::from_utf8_lossy(&out.stdout).contains("pending"));
    let mut migrate = spotlight(dir.path());
    with(&mut migrate);
    assert!(run(migrate.args(["migrate"])).status.success());
    let mut check = spotlight(dir.path());
    with(&mut check);
    let out = run(check.args(["migrate", "--check"]));
    assert_eq!(out.status.code(), Some(0), "a current schema exits 0");
    assert!(String::from_utf8_lossy(&out.stdout).contains("current"));
    // An unreachable store is an error, not "current" or "pending".
    let out = run(spotlight(dir.path())
        .env(
            "SPOTLIGHT_DATABASE_URL",
            "postgres://nobody@127.0.0.1:1/none",
        )
        .args(["migrate", "--check"]));
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn migrate_check_exits_3_while_migrations_are_pending_on_sqlite() {
    migrate_check(None);
}

#[test]
fn migrate_check_exits_3_while_migrations_are_pending_on_postgres() {
    let Some(db) = postgres_url() else { return };
    migrate_check(Some(&db));
}

#[test]
fn check_probes_readiness_config_and_events_and_names_what_failed() {
    let dir = tempfile::tempdir().unwrap();
    let tenant = stdout_json(&run(spotlight(dir.path()).args([
        "tenant",
        "create",
        "--name",
        "Acme",
        "--origin",
        "https://app.example",
        "--json",
    ])));
    let pk = production_key(&tenant, "publishable_key");
    let mut server = Server::start(dir.path(), None);
    let base = server.base.clone();
    let check = |args: &[&str]| {
        let out = run(spotlight(dir.path())
            .args(["check", "--url", &base])
            .args(args));
        (
            out.status.code(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        )
    };
    let (code, text) = check(&["--key", &pk, "--origin", "https://app.example"]);
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains("config: 200") && text.contains("event: 202"),
        "{text}"
    );
    let (code, text) = check(&["--ready-only"]);
    assert_eq!(code, Some(0), "{text}");
    // Without --url: this configuration's own listen address (the image's health check).
    let listen = base.trim_start_matches("http://");
    let out = run(spotlight(dir.path())
        .env("SPOTLIGHT_LISTEN", listen)
        .args(["check", "--ready-only"]));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains(listen));
    let (code, text) = check(&["--key", &pk, "--origin", "https://other.example"]);
    assert_eq!(code, Some(1));
    assert!(text.contains("origin_not_allowed"), "{text}");
    let (code, text) = check(&["--key", "pk_unknown", "--origin", "https://app.example"]);
    assert_eq!(code, Some(1));
    assert!(text.contains("SDK config answered 401"), "{text}");
    // The access log names the key by id and the tenant, never the key itself.
    let logs = server.logs();
    let config_line = logs
        .iter()
        .find(|l| l.contains("\"route\":\"/v1/sdk/config\"") && l.contains("\"status\":200"))
        .unwrap_or_else(|| panic!("no access log line for the config request: {logs:?}"));
    assert!(
        config_line.contains("\"key_id\"") && config_line.contains("\"tenant_id\""),
        "{config_line}"
    );
    assert!(config_line.contains("latency_ms"), "{config_line}");
    assert!(!logs.iter().any(|l| l.contains(&pk)), "a key in the log");
    assert!(server.terminate().success());
    let (code, text) = check(&["--ready-only"]);
    assert_eq!(code, Some(1));
    assert!(text.contains("unreachable"), "{text}");
}

/// SIGTERM with a drain: /readyz turns 503 at once while every other request
/// is still answered (closing its connection), and the process exits after the drain.
#[test]
fn sigterm_turns_readiness_off_first_and_keeps_serving_through_the_drain() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = spotlight(dir.path());
    cmd.env("SPOTLIGHT_SHUTDOWN_DRAIN_SECS", "2");
    let mut server = Server::start_with(cmd);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let c = reqwest::Client::builder().no_proxy().build().unwrap();
    let get = |path: &str| {
        let url = format!("{}{path}", server.base);
        rt.block_on(async {
            let r = c.get(url).send().await.unwrap();
            let close = r.headers().get("connection").is_some_and(|v| v == "close");
            (r.status().as_u16(), close, r.text().await.unwrap())
        })
    };
    assert_eq!(get("/readyz").0, 200);
    let signalled = Instant::now();
    Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .unwrap();
    rt.block_on(async { tokio::time::sleep(Duration::from_millis(300)).await });
    let (status, close, body) = get("/readyz");
    assert_eq!(status, 503, "unready while draining: {body}");
    assert!(body.contains("shutting down"), "{body}");
    assert!(close, "a draining node closes connections");
    let (status, close, _) = get("/v1/sdk/ping");
    assert_ne!(status, 0);
    assert!(status < 500, "still serving while draining: {status}");
    assert!(close);
    let exit = server.child.wait().unwrap();
    let took = signalled.elapsed();
    assert!(exit.success(), "{exit:?}");
    assert!(
        took >= Duration::from_secs(2) && took < Duration::from_secs(10),
        "exited after the drain: {took:?}"
    );
}

#[test]
fn scheduled_backups_keep_the_newest_and_stop_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    assert!(
        run(spotlight(dir.path()).args(["tenant", "create", "--name", "Acme"]))
            .status
            .success()
    );
    let backups = dir.path().join("backups");
    let child = spotlight(dir.path())
        .args([
            "backup",
            "--dir",
            backups.to_str().unwrap(),
            "--every",
            "1s",
            "--keep",
            "2",
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async { tokio::time::sleep(Duration::from_millis(3600)).await });
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.matches("backup: ").count() >= 3, "{text}");
    assert!(text.contains("deleted the old backup"), "{text}");
    assert!(text.contains("tenants: 1 rows, checksum "), "{text}");
    let mut files: Vec<_> = std::fs::read_dir(&backups)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    files.sort();
    assert_eq!(files.len(), 2, "{files:?}");
    assert!(files
        .iter()
        .all(|f| f.starts_with("spotlight-") && f.ends_with(".jsonl")));
    // Bad schedules are refused before anything runs.
    let out = run(spotlight(dir.path()).args(["backup", "--dir", "x", "--every", "soon"]));
    assert_eq!(out.status.code(), Some(2));
    let out = run(spotlight(dir.path()).args(["backup", "--every", "1h"]));
    assert_eq!(out.status.code(), Some(2));
}
