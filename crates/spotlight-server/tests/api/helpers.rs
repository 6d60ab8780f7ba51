//! `TestApp`: a running server on port 0 with its own database, and helpers to
//! make tenants, members and sessions.

use reqwest::header::HeaderMap;
use secrecy::ExposeSecret;
use serde_json::{json, Value};
use spotlight_domain::{Email, Role, SystemClock};
use spotlight_server::auth::password;
use spotlight_server::config::Config;
use spotlight_server::state::AppState;
use spotlight_server::tenants::{provision, ProvisionedTenant};
use spotlight_server::Application;
use spotlight_store::{Store, StoreOptions};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::sync::oneshot;

pub const OPERATOR_TOKEN: &str = "test-operator-token-0123456789";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

/// Runs a test body once per store: `both_stores!(name, |app| async move { … })`.
/// The PostgreSQL variant needs SPOTLIGHT_TEST_DATABASE_URL; in CI its absence fails.
#[macro_export]
macro_rules! both_stores {
    ($name:ident, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let app = $crate::helpers::TestApp::spawn($crate::helpers::Db::Sqlite).await;
                ($body)(app).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if !$crate::helpers::postgres_available() {
                    return;
                }
                let app = $crate::helpers::TestApp::spawn($crate::helpers::Db::Postgres).await;
                ($body)(app).await;
            }
        }
    };
    ($name:ident, $body:expr, $tweak:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let app =
                    $crate::helpers::TestApp::spawn_with($crate::helpers::Db::Sqlite, $tweak).await;
                ($body)(app).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if !$crate::helpers::postgres_available() {
                    return;
                }
                let app =
                    $crate::helpers::TestApp::spawn_with($crate::helpers::Db::Postgres, $tweak)
                        .await;
                ($body)(app).await;
            }
        }
    };
}

pub fn postgres_available() -> bool {
    if std::env::var_os("SPOTLIGHT_TEST_DATABASE_URL").is_some() {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "SPOTLIGHT_TEST_DATABASE_URL must be set in CI: the PostgreSQL suite may not be skipped"
    );
    eprintln!("skipping PostgreSQL: SPOTLIGHT_TEST_DATABASE_URL is not set");
    false
}

/// A fresh database URL for one test, and the temp dir that holds it (SQLite).
pub async fn fresh_database(db: Db) -> (String, Option<tempfile::TempDir>) {
    match db {
        Db::Sqlite => {
            let dir = tempfile::tempdir().unwrap();
            (spotlight_store::sqlite_url_for_dir(dir.path()), Some(dir))
        }
        Db::Postgres => {
            let base = std::env::var("SPOTLIGHT_TEST_DATABASE_URL").unwrap();
            let name = format!("spotlight_test_{}", uuid::Uuid::new_v4().simple());
            let admin = Store::connect(
                &base,
                &StoreOptions {
                    max_connections: 2,
                    ..Default::default()
                },
                Arc::new(SystemClock),
            )
            .await
            .unwrap();
            admin.create_database_for_tests(&name).await.unwrap();
            admin.close().await;
            let (prefix, _) = base.rsplit_once('/').unwrap();
            (format!("{prefix}/{name}"), None)
        }
    }
}

pub async fn test_config(db: Db) -> (Config, Option<tempfile::TempDir>) {
    let (url, dir) = fresh_database(db).await;
    let data_dir = dir
        .as_ref()
        .map(|d| d.path().display().to_string())
        .unwrap_or_else(|| std::env::temp_dir().display().to_string());
    let env = vec![
        ("SPOTLIGHT_LISTEN".to_owned(), "127.0.0.1:0".to_owned()),
        ("SPOTLIGHT_DATABASE_URL".to_owned(), url),
        ("SPOTLIGHT_DATA_DIR".to_owned(), data_dir),
        (
            "SPOTLIGHT_OPERATOR_TOKEN".to_owned(),
            OPERATOR_TOKEN.to_owned(),
        ),
        ("SPOTLIGHT_DB_MAX_CONNECTIONS".to_owned(), "4".to_owned()),
    ];
    (Config::load_from(None, env).unwrap(), dir)
}

pub struct TestApp {
    pub db: Db,
    pub addr: SocketAddr,
    pub client: reqwest::Client,
    pub state: AppState,
    shutdown: Option<oneshot::Sender<()>>,
    pub server: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    _dir: Option<tempfile::TempDir>,
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

impl TestApp {
    pub async fn spawn(db: Db) -> TestApp {
        Self::spawn_with(db, |_| {}).await
    }

    pub async fn spawn_with(db: Db, tweak: impl FnOnce(&mut Config)) -> TestApp {
        Self::spawn_router(db, tweak, None).await
    }

    /// With `routes`, serves them behind the real pipeline instead of the app's own.
    pub async fn spawn_router(
        db: Db,
        tweak: impl FnOnce(&mut Config),
        routes: Option<axum::Router<AppState>>,
    ) -> TestApp {
        Self::spawn_full(db, tweak, routes, Arc::new(SystemClock)).await
    }

    /// With a clock the test controls.
    pub async fn spawn_with_clock(db: Db, clock: Arc<dyn spotlight_domain::Clock>) -> TestApp {
        Self::spawn_full(db, |_| {}, None, clock).await
    }

    pub async fn spawn_full(
        db: Db,
        tweak: impl FnOnce(&mut Config),
        routes: Option<axum::Router<AppState>>,
        clock: Arc<dyn spotlight_domain::Clock>,
    ) -> TestApp {
        let (mut config, dir) = test_config(db).await;
        tweak(&mut config);
        let app = Application::build_with_clock(config, clock).await.unwrap();
        let addr = app.local_addr();
        let state = app.state().clone();
        let (tx, rx) = oneshot::channel::<()>();
        let stop = async move {
            let _ = rx.await;
        };
        let server = match routes {
            None => tokio::spawn(app.run_until_stopped(stop)),
            Some(r) => {
                let router = spotlight_server::with_pipeline(r, state.clone());
                tokio::spawn(app.serve_router(router, stop))
            }
        };
        TestApp {
            db,
            addr,
            client: client(),
            state,
            shutdown: Some(tx),
            server: Some(server),
            _dir: dir,
        }
    }

    /// A second node on the same database (and data directory), as a cluster runs.
    pub async fn spawn_peer(&self) -> TestApp {
        let config = (*self.state.config).clone();
        let app = Application::build(config).await.unwrap();
        let addr = app.local_addr();
        let state = app.state().clone();
        let (tx, rx) = oneshot::channel::<()>();
        let server = tokio::spawn(app.run_until_stopped(async move {
            let _ = rx.await;
        }));
        TestApp {
            db: self.db,
            addr,
            client: client(),
            state,
            shutdown: Some(tx),
            server: Some(server),
            _dir: None,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn store(&self) -> &Store {
        &self.state.store
    }

    /// The Prometheus text of `/metrics`.
    pub async fn metrics(&self) -> String {
        let r = self.client.get(self.url("/metrics")).send().await.unwrap();
        r.text().await.unwrap()
    }

    /// Signals shutdown; the server drains and its task ends.
    pub fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }

    pub async fn tenant(&self, name: &str, origins: &[&str]) -> ProvisionedTenant {
        let origins: Vec<String> = origins.iter().map(|s| (*s).to_owned()).collect();
        provision(self.store(), name, &origins).await.unwrap()
    }

    /// Adds a member with a known password to a tenant.
    pub async fn member(&self, t: &ProvisionedTenant, email: &str, role: Role) -> String {
        let pw = format!("pw-{}", uuid::Uuid::new_v4());
        let email = Email::parse(email).unwrap();
        let hash = password::hash(pw.clone()).await.unwrap();
        let account = match self.store().account_by_email(&email).await.unwrap() {
            Some(a) => a,
            None => self.store().create_account(&email, &hash).await.unwrap(),
        };
        self.store()
            .put_membership(t.tenant_id, account.id, role)
            .await
            .unwrap();
        pw
    }

    /// Logs in; returns a client holding the session cookie, and the CSRF token.
    pub async fn login(&self, email: &str, password: &str) -> Session {
        let client = reqwest::Client::builder()
            .no_proxy()
            .cookie_store(true)
            .build()
            .unwrap();
        let resp = client
            .post(self.url("/v1/auth/login"))
            .json(&json!({ "email": email, "password": password }))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "login failed");
        let cookie = resp
            .headers()
            .get("set-cookie")
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned();
        let body: Value = resp.json().await.unwrap();
        Session {
            client,
            csrf: body["csrf_token"].as_str().unwrap().to_owned(),
            cookie,
            me: body,
        }
    }

    /// Calls with a secret key (`Authorization: Bearer sk_…`).
    pub fn admin(&self, secret_key: &str) -> Caller<'_> {
        Caller {
            app: self,
            headers: vec![("authorization", format!("Bearer {secret_key}"))],
        }
    }

    /// Calls as the SDK: a publishable key, from an origin.
    pub fn sdk(&self, publishable_key: &str, origin: &str) -> Caller<'_> {
        Caller {
            app: self,
            headers: vec![
                ("x-spotlight-key", publishable_key.to_owned()),
                ("origin", origin.to_owned()),
            ],
        }
    }

    /// Calls with no credentials.
    pub fn anon(&self) -> Caller<'_> {
        Caller {
            app: self,
            headers: vec![],
        }
    }

    /// Calls with the operator token.
    pub fn operator(&self) -> Caller<'_> {
        Caller {
            app: self,
            headers: vec![("authorization", format!("Bearer {}", self.operator_token()))],
        }
    }

    pub fn operator_token(&self) -> String {
        self.state
            .config
            .security
            .operator_token
            .expose_secret()
            .to_owned()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.stop();
    }
}

pub struct Session {
    pub client: reqwest::Client,
    pub csrf: String,
    pub cookie: String,
    pub me: Value,
}

impl Session {
    /// A change in this session (its CSRF token sent), with a JSON body.
    pub async fn send(
        &self,
        app: &TestApp,
        method: reqwest::Method,
        path: &str,
        body: &Value,
    ) -> reqwest::Response {
        self.client
            .request(method, app.url(path))
            .header("x-csrf-token", &self.csrf)
            .json(body)
            .send()
            .await
            .unwrap()
    }
}

/// The tenant's production secret key as a caller.
pub fn admin<'a>(app: &'a TestApp, t: &ProvisionedTenant) -> Caller<'a> {
    app.admin(prod(t).1)
}

/// `GET /v1/sdk/config?{query}` with a publishable key (no origin: a server's call).
pub async fn config(app: &TestApp, pk: &str, query: &str) -> reqwest::Response {
    let path = format!("/v1/sdk/config?{query}");
    app.anon().get(&path).header("x-spotlight-key", pk).await
}

/// [`config`], asserting 200; the JSON answer.
pub async fn config_json(app: &TestApp, pk: &str, query: &str) -> Value {
    let r = config(app, pk, query).await;
    let status = r.status();
    let text = r.text().await.unwrap();
    assert_eq!(status, 200, "{query}: {text}");
    serde_json::from_str(&text).unwrap()
}

/// An SDK event of `user` at `ms` (Unix milliseconds).
pub fn at(name: &str, user: &str, ms: i64, props: Value) -> Value {
    json!({
        "event_id": uuid::Uuid::new_v4().to_string(),
        "schema_version": 1,
        "name": name,
        "user_id": user,
        "timestamp": ms,
        "properties": props,
    })
}

/// Percent-encodes a query value.
pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub fn prod(t: &ProvisionedTenant) -> (&str, &str) {
    let e = &t.environments["production"];
    (e.publishable_key.as_str(), e.secret_key.as_str())
}

/// `{"error":{"code":…}}` of a response, asserting the status.
pub async fn error_code(resp: reqwest::Response, status: u16) -> (String, Value, HeaderMap) {
    let got = resp.status().as_u16();
    let headers = resp.headers().clone();
    let text = resp.text().await.unwrap();
    assert_eq!(got, status, "unexpected status; body: {text}");
    let body: Value = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"));
    let code = body["error"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no error code: {text}"))
        .to_owned();
    assert!(body["error"]["message"].is_string(), "{text}");
    assert!(
        body["error"]["request_id"]
            .as_str()
            .is_some_and(|s| !s.is_empty()),
        "{text}"
    );
    (code, body, headers)
}

/// One caller of the test server: its requests carry its credentials and, on
/// `.await`, are sent (a transport error fails the test) — `app.admin(sk)
/// .get("/v1/admin/keys").await`.
pub struct Caller<'a> {
    app: &'a TestApp,
    headers: Vec<(&'static str, String)>,
}

impl Caller<'_> {
    pub fn request(&self, method: reqwest::Method, path: &str) -> Call {
        let mut b = self.app.client.request(method, self.app.url(path));
        for (name, value) in &self.headers {
            b = b.header(*name, value);
        }
        Call(b)
    }
    pub fn get(&self, path: &str) -> Call {
        self.request(reqwest::Method::GET, path)
    }
    pub fn post(&self, path: &str) -> Call {
        self.request(reqwest::Method::POST, path)
    }
    pub fn patch(&self, path: &str) -> Call {
        self.request(reqwest::Method::PATCH, path)
    }

    /// Sends `body`, asserting a 2xx; the JSON answer (null when empty).
    pub async fn send(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let r = self.request(method, path).json(&body).await;
        let status = r.status();
        let text = r.text().await.unwrap();
        assert!(status.is_success(), "{path}: {status} {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    /// Creates an object (a draft); returns its id.
    pub async fn create(&self, collection: &str, doc: Value) -> String {
        let path = format!("/v1/admin/{collection}");
        let o = self.send(reqwest::Method::POST, &path, doc).await;
        o["id"].as_str().unwrap().to_owned()
    }

    /// Creates an object and publishes it to production; returns its id.
    pub async fn publish(&self, collection: &str, doc: Value) -> String {
        let id = self.create(collection, doc).await;
        let path = format!("/v1/admin/{collection}/{id}/publish");
        let production = json!({"environment": "production"});
        self.send(reqwest::Method::POST, &path, production).await;
        id
    }

    /// Changes the tenant's settings.
    pub async fn settings(&self, patch: Value) {
        self.send(reqwest::Method::PATCH, "/v1/admin/settings", patch)
            .await;
    }

    /// GET, asserting 200; the JSON body.
    pub async fn get_json(&self, path: &str) -> Value {
        let r = self.get(path).await;
        let status = r.status();
        let text = r.text().await.unwrap();
        assert_eq!(status, 200, "GET {path}: {text}");
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("GET {path}: not JSON: {text}"))
    }
}

/// A request being built; `.await` sends it.
pub struct Call(reqwest::RequestBuilder);

impl Call {
    pub fn json<T: serde::Serialize + ?Sized>(self, body: &T) -> Call {
        Call(self.0.json(body))
    }
    pub fn header(self, name: &str, value: impl AsRef<str>) -> Call {
        Call(self.0.header(name, value.as_ref()))
    }
    pub fn body(self, body: impl Into<reqwest::Body>) -> Call {
        Call(self.0.body(body))
    }
}

impl std::future::IntoFuture for Call {
    type Output = reqwest::Response;
    type IntoFuture =
        std::pin::Pin<Box<dyn std::future::Future<Output = reqwest::Response> + Send>>;
    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move { self.0.send().await.unwrap() })
    }
}
