//! Mail over a real SMTP server (Python's aiosmtpd, `tests/smtp/server.py`):
//! invitations mailed instead of shown (the same answer whether or not the
//! address has an account), a mail that cannot be sent withdraws its
//! invitation, and sign-in alerts for a new address or browser.

use crate::helpers::*;
use serde_json::{json, Value};
use spotlight_domain::Role;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};

struct SmtpServer {
    _child: tokio::process::Child,
    port: u16,
    _dir: tempfile::TempDir,
    mails: PathBuf,
}

impl SmtpServer {
    async fn start() -> SmtpServer {
        let venv = std::env::var_os("SPOTLIGHT_VENV")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cache/spotlight-venv")
            });
        let python = venv.join("bin/python");
        assert!(
            python.exists(),
            "no Python venv at {} with aiosmtpd (scripts/test makes it from scripts/fuzz-requirements.txt)",
            venv.display()
        );
        let dir = tempfile::tempdir().unwrap();
        let mails = dir.path().join("mails.jsonl");
        let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/smtp/server.py");
        let mut child = tokio::process::Command::new(python)
            .arg(script)
            .arg(&mails)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await
            .expect("the SMTP server starts within 30 s")
            .unwrap()
            .expect("the SMTP server prints its port (is aiosmtpd installed?)");
        let port = serde_json::from_str::<Value>(&first).unwrap()["port"]
            .as_u64()
            .unwrap() as u16;
        SmtpServer {
            _child: child,
            port,
            _dir: dir,
            mails,
        }
    }

    fn received(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.mails)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// The mails to `to`, waiting up to 10 s for the `n`th.
    async fn to(&self, to: &str, n: usize) -> Vec<Value> {
        for _ in 0..100 {
            let mails: Vec<Value> = self
                .received()
                .into_iter()
                .filter(|m| m["to"][0] == to)
                .collect();
            if mails.len() >= n {
                return mails;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("no mail #{n} to {to}: {:?}", self.received());
    }
}

async fn with_mail(db: Db) -> (TestApp, SmtpServer) {
    let smtp = SmtpServer::start().await;
    let port = smtp.port;
    let app = TestApp::spawn_with(db, move |c| {
        c.mail.smtp_url = Some(format!("smtp://127.0.0.1:{port}").into());
        c.mail.mail_from = Some("Spotlight <spotlight@acme.test>".into());
    })
    .await;
    (app, smtp)
}

async fn invite(app: &TestApp, owner: &Session, email: &str) -> reqwest::Response {
    let body = json!({"email": email, "role": "editor"});
    owner
        .send(app, reqwest::Method::POST, "/v1/admin/members", &body)
        .await
}

async fn invitations_are_mailed_and_a_failed_mail_withdraws_its_invitation(db: Db) {
    let (app, smtp) = with_mail(db).await;
    let t = app.tenant("Acme", &[]).await;
    let pw = app.member(&t, "owner@acme.test", Role::Owner).await;
    let owner = app.login("owner@acme.test", &pw).await;
    app.member(&t, "known@acme.test", Role::Viewer).await;

    // A new address and one with an account get the same answer: mailed,
    // and no token or link to the inviter.
    let mut shapes = Vec::new();
    for email in ["new@corp.test", "known@acme.test"] {
        let r = invite(&app, &owner, email).await;
        assert_eq!(r.status(), 201);
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["mailed"], true);
        assert!(
            body["token"].is_null() && body["accept_url"].is_null(),
            "{body}"
        );
        let mut keys: Vec<_> = body.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        shapes.push(keys);
    }
    assert_eq!(shapes[0], shapes[1]);

    let mail = smtp.to("new@corp.test", 1).await.remove(0);
    assert_eq!(mail["from"], "spotlight@acme.test");
    let data = mail["data"].as_str().unwrap().replace("=\r\n", "");
    assert!(
        data.contains("Subject: You are invited to Acme on Spotlight"),
        "{data}"
    );
    let prefix = app.url("/app/accept#");
    let at = data
        .find(&prefix)
        .unwrap_or_else(|| panic!("no link in {data}"));
    let token: String = data[at + prefix.len()..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    // The mailed link works (once).
    let r = app
        .client
        .post(app.url("/v1/auth/invitations/accept"))
        .json(&json!({"token": token, "password": "a-long-new-password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());

    // The SMTP server refuses the recipient: 503, and the invitation is
    // withdrawn (no link exists that nobody received).
    let r = invite(&app, &owner, "someone@refused.test").await;
    let (code, body, _) = error_code(r, 503).await;
    assert_eq!(code, "unavailable");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("withdrawn"),
        "{body}"
    );
    let pending: Value = owner
        .client
        .get(app.url("/v1/admin/invitations"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        !pending.to_string().contains("refused.test"),
        "withdrawn: {pending}"
    );
    let audit: Value = owner
        .client
        .get(app.url("/v1/admin/audit?object_kind=invitation"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        audit.to_string().contains("member.invite.withdraw"),
        "{audit}"
    );
    let metrics = app.metrics().await;
    assert!(
        metrics.contains(r#"spotlight_mails_total{kind="invitation",result="failed"} 1"#),
        "{metrics}"
    );
}

async fn a_sign_in_from_a_new_browser_is_mailed_to_the_account(db: Db) {
    let (app, smtp) = with_mail(db).await;
    let t = app.tenant("Acme", &[]).await;
    let pw = app.member(&t, "ada@acme.test", Role::Editor).await;
    let login = |agent: &'static str| {
        let app = &app;
        let pw = pw.clone();
        async move {
            let r = app
                .client
                .post(app.url("/v1/auth/login"))
                .header("user-agent", agent)
                .json(&json!({"email": "ada@acme.test", "password": pw}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
        }
    };
    // The first sign-in ever, and the same browser again: no alert.
    login("Firefox/140").await;
    login("Firefox/140").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(smtp.received().is_empty(), "{:?}", smtp.received());
    // Another browser: an alert naming it.
    login("Chromium/156 (new laptop)").await;
    let mail = smtp.to("ada@acme.test", 1).await.remove(0);
    let data = mail["data"].as_str().unwrap();
    assert!(
        data.contains("Subject: New sign-in to your Spotlight account"),
        "{data}"
    );
    assert!(data.contains("Chromium/156 (new laptop)"), "{data}");
    assert!(data.contains("127.0.0.1"), "{data}");
    login("Chromium/156 (new laptop)").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(smtp.to("ada@acme.test", 1).await.len(), 1, "known now");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invitations_are_mailed_sqlite() {
    invitations_are_mailed_and_a_failed_mail_withdraws_its_invitation(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invitations_are_mailed_postgres() {
    if postgres_available() {
        invitations_are_mailed_and_a_failed_mail_withdraws_its_invitation(Db::Postgres).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_alerts_sqlite() {
    a_sign_in_from_a_new_browser_is_mailed_to_the_account(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_alerts_postgres() {
    if postgres_available() {
        a_sign_in_from_a_new_browser_is_mailed_to_the_account(Db::Postgres).await;
    }
}
