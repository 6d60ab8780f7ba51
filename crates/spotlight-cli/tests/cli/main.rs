//! The `spotlight` binary as an operator uses it: real processes, real stores.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

mod cluster;
mod crash;
mod dashboards;
mod drill;
mod ops;
mod runbooks;
mod traces;

const BIN: &str = env!("CARGO_BIN_EXE_spotlight");

/// The server tests' JWKS and the RSA key it publishes (kid `rsa-1`).
const JWKS: &str = include_str!("../../../spotlight-server/tests/api/keys/jwks.json");
const RSA: &str = include_str!("../../../spotlight-server/tests/api/keys/rsa.pem");

/// Serves `app` on a free loopback port (on the current runtime); its base URL.
async fn serve_on_loopback(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

/// An end user's RS256 token (`sub` user-7) for the JWKS above, valid for an hour.
fn end_user_token() -> String {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some("rsa-1".into());
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(RSA.as_bytes()).unwrap();
    jsonwebtoken::encode(
        &header,
        &json!({"sub": "user-7", "iss": "https://idp.example.test", "aud": "spotlight",
                "exp": now + 3600, "iat": now}),
        &key,
    )
    .unwrap()
}

/// A command with a clean SPOTLIGHT_* environment and its own data directory.
fn spotlight(dir: &std::path::Path) -> Command {
    let mut cmd = Command::new(BIN);
    for (k, _) in std::env::vars() {
        if k.starts_with("SPOTLIGHT_") {
            cmd.env_remove(k);
        }
    }
    cmd.env("SPOTLIGHT_DATA_DIR", dir)
        .env("SPOTLIGHT_LOG_FORMAT", "json");
    cmd
}

fn run(cmd: &mut Command) -> Output {
    cmd.stdin(Stdio::null()).output().unwrap()
}

/// Runs a command with `input` piped to its standard input.
fn run_with_stdin(cmd: &mut Command, input: &[u8]) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

fn stdout_json(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "exit {:?}: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

/// `tenant create --name Acme --origin ORIGIN --json` on this store (SQLite in
/// `dir` when `database_url` is None): the tenant with its keys.
fn create_tenant(dir: &std::path::Path, database_url: Option<&str>, origin: &str) -> Value {
    let mut cmd = spotlight(dir);
    if let Some(url) = database_url {
        cmd.env("SPOTLIGHT_DATABASE_URL", url);
    }
    stdout_json(&run(cmd.args([
        "tenant", "create", "--name", "Acme", "--origin", origin, "--json",
    ])))
}

/// Runs SQL through psql (`format`: `-qtA` for bare values, `--csv`); success and output.
fn psql(db: &str, sql: &str, format: &str) -> (bool, String) {
    let mut child = Command::new("psql")
        .args([db, "-v", "ON_ERROR_STOP=1", format])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(sql.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// `tenant create --json`'s production key of this kind (`publishable_key`, `secret_key`).
fn production_key(tenant: &Value, kind: &str) -> String {
    tenant["environments"]["production"][kind]
        .as_str()
        .unwrap_or_else(|| panic!("no production {kind} in {tenant}"))
        .to_owned()
}

/// A fresh PostgreSQL database for one test, or None outside CI without one.
fn postgres_url() -> Option<String> {
    match std::env::var("SPOTLIGHT_TEST_DATABASE_URL") {
        Ok(base) => {
            let name = format!("spotlight_test_{}", uuid::Uuid::new_v4().simple());
            create_pg_database(&base, &name);
            let (prefix, _) = base.rsplit_once('/').unwrap();
            Some(format!("{prefix}/{name}"))
        }
        Err(_) => {
            assert!(
                std::env::var_os("CI").is_none(),
                "SPOTLIGHT_TEST_DATABASE_URL must be set in CI"
            );
            eprintln!("skipping PostgreSQL: SPOTLIGHT_TEST_DATABASE_URL is not set");
            None
        }
    }
}

fn create_pg_database(base: &str, name: &str) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = spotlight_store::Store::connect(
            base,
            &spotlight_store::StoreOptions::default(),
            std::sync::Arc::new(spotlight_domain::SystemClock),
        )
        .await
        .unwrap();
        store.create_database_for_tests(name).await.unwrap();
        store.close().await;
    });
}

#[test]
fn config_check_prints_redacted_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(spotlight(dir.path())
        .args(["config", "check"])
        .env(
            "SPOTLIGHT_OPERATOR_TOKEN",
            "super-secret-operator-token-xyz",
        )
        .env(
            "SPOTLIGHT_DATABASE_URL",
            "postgres://app:hunter2@db.internal/spotlight",
        ));
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("mode = \"development\""), "{text}");
    assert!(
        text.contains("postgres://app:[redacted]@db.internal/spotlight"),
        "{text}"
    );
    assert!(
        !text.contains("hunter2") && !text.contains("super-secret"),
        "{text}"
    );
}

#[test]
fn invalid_configuration_exits_2_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let cases: &[(&str, &str, &str)] = &[
        ("SPOTLIGHT_LISTEN", "not-an-address", "SPOTLIGHT_LISTEN"),
        ("SPOTLIGHT_MODE", "prod", "SPOTLIGHT_MODE"),
        ("SPOTLIGHT_LOG_FORMAT", "xml", "SPOTLIGHT_LOG_FORMAT"),
        (
            "SPOTLIGHT_REQUEST_TIMEOUT_SECS",
            "soon",
            "SPOTLIGHT_REQUEST_TIMEOUT_SECS",
        ),
    ];
    for (key, value, named) in cases {
        for args in [&["config", "check"][..], &["serve"][..]] {
            let out = run(spotlight(dir.path()).args(args).env(key, value));
            assert_eq!(out.status.code(), Some(2), "{key}={value} {args:?}");
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(err.contains(named), "{err}");
        }
    }
    // Production refuses missing secrets and a wildcard origin.
    let out = run(spotlight(dir.path())
        .args(["serve"])
        .env("SPOTLIGHT_MODE", "production"));
    assert_eq!(out.status.code(), Some(2));
    let out = run(spotlight(dir.path())
        .args(["config", "check"])
        .env("SPOTLIGHT_MODE", "production")
        .env("SPOTLIGHT_OPERATOR_TOKEN", "an-operator-token-long-enough")
        .env("SPOTLIGHT_MASTER_KEY", "11".repeat(32))
        .env("SPOTLIGHT_ALLOWED_ORIGINS", "*"));
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("SPOTLIGHT_ALLOWED_ORIGINS"));
    // A config file with an unknown key.
    let file = dir.path().join("spotlight.toml");
    std::fs::write(&file, "lisen = \"127.0.0.1:1\"\n").unwrap();
    let out =
        run(spotlight(dir.path()).args(["--config", file.to_str().unwrap(), "config", "check"]));
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("lisen"));
}

/// A `spotlight serve` child process; its address comes from the "ready" log line.
struct Server {
    child: Child,
    base: String,
    logs: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    drain: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    fn start(dir: &std::path::Path, database_url: Option<&str>) -> Server {
        let mut cmd = spotlight(dir);
        if let Some(url) = database_url {
            cmd.env("SPOTLIGHT_DATABASE_URL", url);
        }
        Server::start_with(cmd)
    }

    /// `spotlight serve` on a free port, with the environment `cmd` carries.
    fn start_with(mut cmd: Command) -> Server {
        cmd.args(["serve"]).env("SPOTLIGHT_LISTEN", "127.0.0.1:0");
        let mut child = cmd
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let mut lines = BufReader::new(stderr).lines();
        let deadline = Instant::now() + Duration::from_secs(30);
        let base = loop {
            assert!(Instant::now() < deadline, "server did not become ready");
            let line = lines.next().expect("server exited before ready").unwrap();
            if let Ok(v) = serde_json::from_str::<Value>(&line) {
                if v["message"] == "spotlight ready" {
                    break format!("http://{}", v["addr"].as_str().unwrap());
                }
            }
        };
        // Keep draining stderr (so the child never blocks on a full pipe) into a buffer.
        let logs = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = logs.clone();
        let drain = std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        Server {
            child,
            base,
            logs,
            drain: Some(drain),
        }
    }

    /// SIGKILL: no shutdown, no flushing — a crash.
    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(d) = self.drain.take() {
            let _ = d.join();
        }
    }

    fn logs(&self) -> Vec<String> {
        self.logs.lock().unwrap().clone()
    }

    fn terminate(&mut self) -> std::process::ExitStatus {
        Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                // The pipe is closed: the drain thread ends with every line read.
                if let Some(d) = self.drain.take() {
                    d.join().unwrap();
                }
                return status;
            }
            assert!(Instant::now() < deadline, "server ignored SIGTERM");
            std::thread::yield_now();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

fn operator_flow(database_url: Option<&str>) {
    let dir = tempfile::tempdir().unwrap();
    let with_db = |cmd: &mut Command| {
        if let Some(url) = database_url {
            cmd.env("SPOTLIGHT_DATABASE_URL", url);
        }
    };

    let mut migrate = spotlight(dir.path());
    with_db(&mut migrate);
    let out = run(migrate.args(["migrate"]));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let mut create = spotlight(dir.path());
    with_db(&mut create);
    let tenant = stdout_json(&run(create.args([
        "tenant",
        "create",
        "--name",
        "Acme",
        "--origin",
        "https://app.acme.test",
        "--json",
    ])));
    let tenant_id = tenant["tenant_id"].as_str().unwrap().to_owned();
    let pk = tenant["environments"]["production"]["publishable_key"]
        .as_str()
        .unwrap()
        .to_owned();
    let sk = tenant["environments"]["production"]["secret_key"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(pk.starts_with("pk_") && sk.starts_with("sk_"));
    assert!(tenant["environments"]["staging"]["publishable_key"]
        .as_str()
        .unwrap()
        .starts_with("pk_"));

    // A member whose password comes from stdin.
    let mut add = spotlight(dir.path());
    with_db(&mut add);
    let out = run_with_stdin(
        add.args([
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
    // A password piped without the flag is used too.
    let mut add = spotlight(dir.path());
    with_db(&mut add);
    let out = run_with_stdin(
        add.args([
            "member",
            "add",
            "--tenant",
            "Acme",
            "--email",
            "piped@acme.test",
            "--role",
            "editor",
        ]),
        b"piped password 123\n",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("password:"),
        "a piped password was ignored"
    );
    // A generated password is printed once.
    let mut add = spotlight(dir.path());
    with_db(&mut add);
    let gen = stdout_json(&run(add.args([
        "member",
        "add",
        "--tenant",
        &tenant_id,
        "--email",
        "viewer@acme.test",
        "--role",
        "viewer",
        "--json",
    ])));
    let generated = gen["password"].as_str().unwrap().to_owned();

    // A new key, then the server: the key works until the CLI revokes it.
    let mut key = spotlight(dir.path());
    with_db(&mut key);
    let created = stdout_json(&run(key.args([
        "key",
        "create",
        "--tenant",
        &tenant_id,
        "--environment",
        "staging",
        "--kind",
        "publishable",
        "--json",
    ])));
    let new_pk = created["secret"].as_str().unwrap().to_owned();
    let new_id = created["key"]["id"].as_str().unwrap().to_owned();

    let mut server = Server::start(dir.path(), database_url);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let c = reqwest::Client::builder().no_proxy().build().unwrap();
        for (email, pw) in [
            ("ops@acme.test", "a long enough password"),
            ("viewer@acme.test", generated.as_str()),
        ] {
            let r = c
                .post(format!("{}/v1/auth/login", server.base))
                .json(&json!({ "email": email, "password": pw }))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200, "{email}");
        }
        let ping = |key: String| {
            let c = c.clone();
            let url = format!("{}/v1/sdk/ping", server.base);
            async move {
                c.get(url)
                    .header("x-spotlight-key", key)
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16()
            }
        };
        assert_eq!(ping(new_pk.clone()).await, 200);
        assert_eq!(ping(pk.clone()).await, 200);
        let mut revoke = spotlight(dir.path());
        with_db(&mut revoke);
        let out = run(revoke.args(["key", "revoke", "--tenant", &tenant_id, "--key", &new_id]));
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        // Another process changed SQLite: the server trusts its cached key for at
        // most a second (SPEC: refused everywhere within 1 s).
        let revoked_at = std::time::Instant::now();
        while ping(new_pk.clone()).await != 401 {
            assert!(
                revoked_at.elapsed() < std::time::Duration::from_millis(1500),
                "revoked key still accepted"
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        let r = c
            .get(format!("{}/v1/admin/keys", server.base))
            .bearer_auth(&sk)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    });
    let status = server.terminate();
    assert!(
        status.success(),
        "SIGTERM should end the server cleanly: {status:?}"
    );

    // Structured logs: request lines carry the request id, route and tenant; no
    // key, session or password ever reaches them.
    let logs = server.logs();
    let requests: Vec<Value> = logs
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["message"] == "request")
        .collect();
    let keys_line = requests
        .iter()
        .find(|v| v["span"]["route"] == "/v1/admin/keys")
        .unwrap_or_else(|| panic!("no request log for /v1/admin/keys in {logs:#?}"));
    assert_eq!(
        keys_line["span"]["tenant_id"],
        tenant_id.as_str(),
        "{keys_line}"
    );
    assert!(keys_line["span"]["request_id"]
        .as_str()
        .is_some_and(|s| s.len() == 32));
    assert_eq!(keys_line["status"], 200);
    let all = logs.join("\n");
    for secret in [
        &pk[3..],
        &sk[3..],
        &new_pk[3..],
        "a long enough password",
        generated.as_str(),
    ] {
        assert!(!all.contains(secret), "a secret reached the logs");
    }

    // Unknown tenants are errors, not panics.
    let mut bad = spotlight(dir.path());
    with_db(&mut bad);
    let out = run(bad.args(["key", "create", "--tenant", "Nope", "--kind", "secret"]));
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no tenant named"));
}

#[test]
fn operator_flow_on_sqlite() {
    operator_flow(None);
}

#[test]
fn operator_flow_on_postgres() {
    if let Some(url) = postgres_url() {
        operator_flow(Some(&url));
    }
}

#[test]
fn backup_moves_a_store_from_sqlite_to_another_store() {
    let src = tempfile::tempdir().unwrap();
    let tenant = stdout_json(&run(
        spotlight(src.path()).args(["tenant", "create", "--name", "Acme", "--json"])
    ));
    let pk = tenant["environments"]["production"]["publishable_key"]
        .as_str()
        .unwrap()
        .to_owned();
    let sk = tenant["environments"]["production"]["secret_key"]
        .as_str()
        .unwrap()
        .to_owned();
    let out = run_with_stdin(
        spotlight(src.path()).args([
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
    assert!(out.status.success());

    // Authoring through the real server: a tour, edited and published twice.
    let mut server = Server::start(src.path(), None);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let tour_id = rt.block_on(async {
        let c = reqwest::Client::builder().no_proxy().build().unwrap();
        let tour = json!({"name": "Welcome", "steps": [{"kind": "modal", "title": "Hi"}]});
        let v: Value = c
            .post(format!("{}/v1/admin/tours", server.base))
            .bearer_auth(&sk)
            .json(&tour)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let id = v["id"].as_str().unwrap().to_owned();
        for name in ["Welcome", "Welcome!"] {
            let tour = json!({"name": name, "steps": [{"kind": "modal", "title": "Hi"}]});
            c.put(format!("{}/v1/admin/tours/{id}", server.base))
                .bearer_auth(&sk)
                .json(&tour)
                .send()
                .await
                .unwrap();
            let r = c
                .post(format!("{}/v1/admin/tours/{id}/publish", server.base))
                .bearer_auth(&sk)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
        }
        id
    });
    assert!(server.terminate().success());

    let file = src.path().join("backup.jsonl");
    let out = run(spotlight(src.path()).args(["backup", "--out", file.to_str().unwrap()]));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.starts_with("{") && text.contains("\"spotlight-backup/1\""));
    assert!(
        !text.contains(&sk[3..]),
        "a backup holds key hashes, never keys"
    );

    // Restore into PostgreSQL when available (CI), else into a second SQLite store.
    let dst = tempfile::tempdir().unwrap();
    let pg = postgres_url();
    let with_db = |cmd: &mut Command| {
        if let Some(url) = &pg {
            cmd.env("SPOTLIGHT_DATABASE_URL", url);
        }
    };
    let mut restore = spotlight(dst.path());
    with_db(&mut restore);
    let out = run(restore.args(["restore", "--from", file.to_str().unwrap()]));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("object_versions: 2"));
    // A second restore into the now non-empty database is refused.
    let mut again = spotlight(dst.path());
    with_db(&mut again);
    let out = run(again.args(["restore", "--from", file.to_str().unwrap()]));
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not empty"));

    let mut server = Server::start(dst.path(), pg.as_deref());
    rt.block_on(async {
        let c = reqwest::Client::builder().no_proxy().build().unwrap();
        let r = c
            .get(format!("{}/v1/sdk/ping", server.base))
            .header("x-spotlight-key", &pk)
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status(),
            200,
            "the old publishable key works after restore"
        );
        let r = c
            .post(format!("{}/v1/auth/login", server.base))
            .json(&json!({"email": "ops@acme.test", "password": "a long enough password"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "logins survive");
        let v: Value = c
            .get(format!("{}/v1/admin/tours/{tour_id}/versions", server.base))
            .bearer_auth(&sk)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(v["items"].as_array().unwrap().len(), 2);
        let t: Value = c
            .get(format!("{}/v1/admin/tours/{tour_id}", server.base))
            .bearer_auth(&sk)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(t["name"], "Welcome!");
        assert_eq!(t["published"]["production"]["version"], 2);
    });
    assert!(server.terminate().success());

    // A damaged backup is refused and writes nothing.
    let broken = src.path().join("broken.jsonl");
    let mut lines: Vec<&str> = text.lines().collect();
    lines.insert(3, "{\"table\": \"tenants\", \"row\": {\"id\": 5}}");
    std::fs::write(&broken, lines.join("\n")).unwrap();
    let empty = tempfile::tempdir().unwrap();
    let out = run(spotlight(empty.path()).args(["restore", "--from", broken.to_str().unwrap()]));
    assert_eq!(out.status.code(), Some(1));
    let out = run(spotlight(empty.path()).args(["restore", "--from", file.to_str().unwrap()]));
    assert!(
        out.status.success(),
        "the failed restore left nothing behind: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Two `spotlight serve` processes on one PostgreSQL database: a change made
/// through one (or by the CLI) reaches the other's caches within a second.
#[test]
fn two_nodes_share_changes_within_a_second() {
    let Some(db) = postgres_url() else { return };
    let dir = tempfile::tempdir().unwrap();
    let with_db = |cmd: &mut Command| {
        cmd.env("SPOTLIGHT_DATABASE_URL", &db);
    };
    let mut migrate = spotlight(dir.path());
    with_db(&mut migrate);
    assert!(run(migrate.args(["migrate"])).status.success());
    let mut create = spotlight(dir.path());
    with_db(&mut create);
    let tenant = stdout_json(&run(
        create.args(["tenant", "create", "--name", "Acme", "--json"])
    ));
    let tenant_id = tenant["tenant_id"].as_str().unwrap().to_owned();
    let pk = tenant["environments"]["production"]["publishable_key"]
        .as_str()
        .unwrap()
        .to_owned();
    let sk = tenant["environments"]["production"]["secret_key"]
        .as_str()
        .unwrap()
        .to_owned();
    let a = Server::start(dir.path(), Some(&db));
    let b = Server::start(dir.path(), Some(&db));
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let c = reqwest::Client::builder().no_proxy().build().unwrap();
        let admin = |method: reqwest::Method, path: String, body: Value| {
            let (c, sk, url) = (c.clone(), sk.clone(), format!("{}{}", a.base, path));
            async move {
                let r = c
                    .request(method, url)
                    .bearer_auth(sk)
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                assert!(r.status().is_success(), "{path}: {}", r.status());
                r.json::<Value>().await.unwrap_or(Value::Null)
            }
        };
        let config_on = |base: String, key: String| {
            let c = c.clone();
            async move {
                let r = c
                    .get(format!("{base}/v1/sdk/config?user_id=u1&url=/"))
                    .header("x-spotlight-key", key)
                    .send()
                    .await
                    .unwrap();
                let status = r.status().as_u16();
                (status, r.json::<Value>().await.unwrap_or(Value::Null))
            }
        };
        // Polls node B until `done` holds; answers how long that took.
        let until_b = |key: String, done: fn(u16, &Value) -> bool| {
            let (b_base, config_on) = (b.base.clone(), &config_on);
            async move {
                let started = Instant::now();
                loop {
                    let (status, v) = config_on(b_base.clone(), key.clone()).await;
                    if done(status, &v) {
                        return started.elapsed();
                    }
                    assert!(
                        started.elapsed() < Duration::from_secs(1),
                        "node B did not see the change within 1 s: {status} {v}"
                    );
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            }
        };
        fn version(v: &Value) -> i64 {
            v["tours"][0]["version"].as_i64().unwrap_or(0)
        }
        let mut delays = vec![];

        // Both nodes' caches warm, empty.
        assert_eq!(config_on(b.base.clone(), pk.clone()).await.0, 200);
        let tour = admin(
            reqwest::Method::POST,
            "/v1/admin/tours".into(),
            json!({"name": "T", "steps": [{"kind": "modal", "title": "one"}]}),
        )
        .await;
        let id = tour["id"].as_str().unwrap().to_owned();
        admin(
            reqwest::Method::POST,
            format!("/v1/admin/tours/{id}/publish"),
            json!({"environment": "production"}),
        )
        .await;
        delays.push(("publish", until_b(pk.clone(), |_, v| version(v) == 1).await));

        admin(
            reqwest::Method::PUT,
            format!("/v1/admin/tours/{id}"),
            json!({"name": "T", "steps": [{"kind": "modal", "title": "two"}]}),
        )
        .await;
        admin(
            reqwest::Method::POST,
            format!("/v1/admin/tours/{id}/publish"),
            json!({"environment": "production"}),
        )
        .await;
        delays.push((
            "publish v2",
            until_b(pk.clone(), |_, v| version(v) == 2).await,
        ));
        admin(
            reqwest::Method::POST,
            format!("/v1/admin/tours/{id}/rollback"),
            json!({"environment": "production", "version": 1}),
        )
        .await;
        delays.push((
            "rollback",
            until_b(pk.clone(), |_, v| version(v) == 1).await,
        ));

        admin(
            reqwest::Method::POST,
            format!("/v1/admin/tours/{id}/kill-switch"),
            json!({"enabled": true}),
        )
        .await;
        delays.push((
            "tour kill switch",
            until_b(pk.clone(), |_, v| {
                v["tours"].as_array().is_some_and(Vec::is_empty)
            })
            .await,
        ));

        admin(
            reqwest::Method::PATCH,
            "/v1/admin/settings".into(),
            json!({"kill_switch": true}),
        )
        .await;
        delays.push((
            "tenant kill switch",
            until_b(pk.clone(), |_, v| v["enabled"] == false).await,
        ));
        admin(
            reqwest::Method::PATCH,
            "/v1/admin/settings".into(),
            json!({"kill_switch": false}),
        )
        .await;
        delays.push((
            "settings change",
            until_b(pk.clone(), |_, v| v["enabled"] == true).await,
        ));

        // A key revoked through node A's API.
        let created = admin(
            reqwest::Method::POST,
            "/v1/admin/keys".into(),
            json!({"kind": "publishable", "environment": "production"}),
        )
        .await;
        let key = created["secret"].as_str().unwrap().to_owned();
        let key_id = created["key"]["id"].as_str().unwrap().to_owned();
        assert_eq!(config_on(b.base.clone(), key.clone()).await.0, 200);
        admin(
            reqwest::Method::POST,
            format!("/v1/admin/keys/{key_id}/revoke"),
            json!({}),
        )
        .await;
        delays.push((
            "key revoke (API)",
            until_b(key.clone(), |s, _| s == 401).await,
        ));

        // A key revoked by the CLI, a third process.
        assert_eq!(config_on(b.base.clone(), pk.clone()).await.0, 200);
        let mut revoke = spotlight(dir.path());
        with_db(&mut revoke);
        let out = run(revoke.args(["key", "revoke", "--tenant", &tenant_id, "--key", &pk]));
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        delays.push((
            "key revoke (CLI)",
            until_b(pk.clone(), |s, _| s == 401).await,
        ));
        assert_eq!(config_on(a.base.clone(), pk.clone()).await.0, 401);

        for (what, d) in &delays {
            eprintln!(
                "cross-node: {what} seen by node B after {:.1} ms",
                d.as_secs_f64() * 1000.0
            );
        }
    });
}
