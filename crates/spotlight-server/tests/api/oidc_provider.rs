//! A real OpenID provider for the SSO tests: `tests/oidc/provider.mjs`, the npm
//! package oidc-provider (OpenID Certified) run by Node, one process per test,
//! and a browser-like client that walks a sign-in through it.

use crate::helpers::*;
use serde_json::{json, Value};
use std::process::Stdio;
use tokio::io::{AsyncBufReadExt, BufReader};

pub const CLIENT_ID: &str = "spotlight";
pub const CLIENT_SECRET: &str = "spotlight-test-client-secret";

pub struct Provider {
    _child: tokio::process::Child,
    pub issuer: String,
    http: reqwest::Client,
}

impl Provider {
    /// Starts a provider whose client `spotlight` may send browsers back to
    /// `redirect_uri`. It serves email and groups from its userinfo endpoint,
    /// as the specification has it.
    pub async fn start(redirect_uri: &str) -> Provider {
        Self::start_with(redirect_uri, false).await
    }

    /// …or puts them into the ID token too.
    pub async fn with_claims_in_id_token(redirect_uri: &str) -> Provider {
        Self::start_with(redirect_uri, true).await
    }

    async fn start_with(redirect_uri: &str, claims_in_id_token: bool) -> Provider {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oidc");
        assert!(
            dir.join("node_modules/oidc-provider").is_dir(),
            "the test OpenID provider is not installed: npm ci in {} (scripts/test does)",
            dir.display()
        );
        let mut child = tokio::process::Command::new("node")
            .arg("provider.mjs")
            .arg(redirect_uri)
            .arg(CLIENT_ID)
            .arg(CLIENT_SECRET)
            .current_dir(&dir)
            .env(
                "CLAIMS_IN_ID_TOKEN",
                if claims_in_id_token { "1" } else { "0" },
            )
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(if std::env::var_os("SPOTLIGHT_TEST_IDP_LOG").is_some() {
                Stdio::inherit()
            } else {
                Stdio::null()
            })
            .kill_on_drop(true)
            .spawn()
            .expect("node runs the test OpenID provider");
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let first = tokio::time::timeout(std::time::Duration::from_secs(30), lines.next_line())
            .await
            .expect("the provider starts within 30 s")
            .unwrap()
            .expect("the provider prints its issuer");
        let started: Value = serde_json::from_str(&first).unwrap();
        // Whatever it prints later is read (a closed pipe would end it).
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Provider {
            _child: child,
            issuer: started["issuer"].as_str().unwrap().to_owned(),
            http: client(),
        }
    }

    /// Sets who signs in next, users' claims, or how the token endpoint
    /// misbehaves (see provider.mjs).
    pub async fn control(&self, body: Value) {
        let r = self
            .http
            .post(format!("{}/control", self.issuer))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }

    /// A user the provider knows, signing in next.
    pub async fn user(&self, sub: &str, email: &str, groups: &[&str]) {
        self.control(json!({
            "users": {sub: {"email": email, "email_verified": true, "groups": groups}},
            "next_user": sub,
        }))
        .await;
    }
}

/// A browser: keeps cookies, follows no redirect by itself.
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Starts a sign-in at the server and follows the provider's redirects, as a
/// browser would, up to the callback; returns the callback URL (not visited).
pub async fn to_callback(app: &TestApp, browser: &reqwest::Client, tenant: &str) -> String {
    let r = browser
        .get(app.url(&format!("/v1/auth/sso/{tenant}/start")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "start: {}", r.text().await.unwrap());
    let mut location = r.headers()["location"].to_str().unwrap().to_owned();
    let callback = app.url(&format!("/v1/auth/sso/{tenant}/callback"));
    for _ in 0..10 {
        if location.starts_with(&callback) {
            return location;
        }
        let r = browser.get(&location).send().await.unwrap();
        assert!(
            r.status().is_redirection(),
            "the provider stopped at {location}: {} {}",
            r.status(),
            r.text().await.unwrap()
        );
        let next = r.headers()["location"].to_str().unwrap().to_owned();
        location = match url::Url::parse(&next) {
            Ok(u) => u.to_string(),
            Err(_) => url::Url::parse(&location)
                .unwrap()
                .join(&next)
                .unwrap()
                .to_string(),
        };
    }
    panic!("no callback after 10 redirects");
}

/// A whole sign-in; returns the callback's answer.
pub async fn sign_in(app: &TestApp, browser: &reqwest::Client, tenant: &str) -> reqwest::Response {
    let callback = to_callback(app, browser, tenant).await;
    browser.get(callback).send().await.unwrap()
}

/// Sets SSO up for the tenant with the owner's session.
pub async fn set_up(app: &TestApp, owner: &Session, settings: Value) -> reqwest::Response {
    owner
        .send(app, reqwest::Method::PUT, "/v1/admin/sso", &settings)
        .await
}
