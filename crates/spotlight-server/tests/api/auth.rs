use crate::both_stores;
use crate::helpers::*;
use serde_json::{json, Value};
use spotlight_domain::Role;

both_stores!(
    login_sets_a_strict_session_cookie,
    |app: TestApp| async move {
        let t = app.tenant("Acme", &[]).await;
        let pw = app.member(&t, "Owner@Acme.test", Role::Owner).await;
        let s = app.login("owner@acme.test", &pw).await;
        assert!(s.cookie.starts_with("spotlight_session="), "{}", s.cookie);
        assert!(s.cookie.contains("HttpOnly"));
        assert!(s.cookie.contains("SameSite=Strict"));
        assert!(s.cookie.contains("Path=/"));
        assert!(
            !s.cookie.contains("Secure"),
            "plain HTTP without a TLS proxy"
        );
        assert_eq!(s.me["role"], "owner");
        assert_eq!(s.me["tenant"]["name"], "Acme");

        let me: Value = s
            .client
            .get(app.url("/v1/auth/me"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(me["account"]["email"], "owner@acme.test");
        assert_eq!(me["csrf_token"], s.csrf.as_str());
        // The session works on admin routes.
        let r = s
            .client
            .get(app.url("/v1/admin/keys"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
);

both_stores!(
    cookie_mutations_need_the_csrf_token,
    |app: TestApp| async move {
        let t = app.tenant("Acme", &[]).await;
        let pw = app.member(&t, "admin@acme.test", Role::Admin).await;
        let s = app.login("admin@acme.test", &pw).await;
        let body = json!({ "kind": "secret", "environment": "production" });
        let r = s
            .client
            .post(app.url("/v1/admin/keys"))
            .json(&body)
            .send()
            .await
            .unwrap();
        let (code, _, _) = error_code(r, 403).await;
        assert_eq!(code, "csrf_failed");
        let r = s
            .client
            .post(app.url("/v1/admin/keys"))
            .header("x-csrf-token", "forged")
            .json(&body)
            .send()
            .await
            .unwrap();
        error_code(r, 403).await;
        let r = s
            .client
            .post(app.url("/v1/admin/keys"))
            .header("x-csrf-token", &s.csrf)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        // Logout needs it too, then ends the session everywhere.
        let r = s
            .client
            .post(app.url("/v1/auth/logout"))
            .send()
            .await
            .unwrap();
        error_code(r, 403).await;
        let r = s
            .client
            .post(app.url("/v1/auth/logout"))
            .header("x-csrf-token", &s.csrf)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 204);
        // Even replaying the old cookie by hand is refused: the session is revoked server-side.
        let token = s.cookie.split(';').next().unwrap().to_owned();
        let r = app.anon().get("/v1/auth/me").header("cookie", &token).await;
        error_code(r, 401).await;
        let r = app
            .anon()
            .get("/v1/admin/keys")
            .header("cookie", &token)
            .await;
        error_code(r, 401).await;
    }
);

both_stores!(wrong_credentials_look_alike, |app: TestApp| async move {
    let t = app.tenant("Acme", &[]).await;
    app.member(&t, "ada@acme.test", Role::Viewer).await;
    let wrong_pw = app
        .anon()
        .post("/v1/auth/login")
        .json(&json!({ "email": "ada@acme.test", "password": "wrong-password" }))
        .await;
    let (c1, b1, _) = error_code(wrong_pw, 401).await;
    let unknown = app
        .anon()
        .post("/v1/auth/login")
        .json(&json!({ "email": "nobody@acme.test", "password": "wrong-password" }))
        .await;
    let (c2, b2, _) = error_code(unknown, 401).await;
    assert_eq!(c1, "invalid_credentials");
    assert_eq!(c1, c2);
    assert_eq!(b1["error"]["message"], b2["error"]["message"]);
    let r = app
        .anon()
        .post("/v1/auth/login")
        .json(&json!({ "email": "not-an-email", "password": "x" }))
        .await;
    error_code(r, 422).await;
    let r = app.anon().get("/v1/auth/me").await;
    error_code(r, 401).await;
});

both_stores!(roles_are_enforced, |app: TestApp| async move {
    let t = app.tenant("Acme", &[]).await;
    for (email, role, keys_status) in [
        ("v@acme.test", Role::Viewer, 403),
        ("e@acme.test", Role::Editor, 403),
        ("a@acme.test", Role::Admin, 200),
        ("o@acme.test", Role::Owner, 200),
    ] {
        let pw = app.member(&t, email, role).await;
        let s = app.login(email, &pw).await;
        let r = s
            .client
            .get(app.url("/v1/admin/keys"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), keys_status, "{email}");
    }
});

#[tokio::test]
async fn login_is_rate_limited_per_account_and_per_ip() {
    for db in [Db::Sqlite, Db::Postgres] {
        if db == Db::Postgres && !postgres_available() {
            continue;
        }
        let app = TestApp::spawn_with(db, |c| {
            c.security.login_per_account_per_minute = 3;
            c.security.login_per_ip_per_minute = 5;
        })
        .await;
        let t = app.tenant("Acme", &[]).await;
        let pw = app.member(&t, "ada@acme.test", Role::Viewer).await;
        let attempt = |email: &'static str, password: String| {
            let client = app.client.clone();
            let url = app.url("/v1/auth/login");
            async move {
                client
                    .post(url)
                    .json(&json!({ "email": email, "password": password }))
                    .send()
                    .await
                    .unwrap()
            }
        };
        for _ in 0..3 {
            assert_eq!(attempt("ada@acme.test", "wrong".into()).await.status(), 401);
        }
        // The account is now limited, even with the right password.
        let (code, _, headers) = error_code(attempt("ada@acme.test", pw.clone()).await, 429).await;
        assert_eq!(code, "rate_limited");
        let retry: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((1..=60).contains(&retry), "{retry}");
        // Another account from the same IP: the IP bucket (5) has one attempt left.
        assert_eq!(attempt("bob@acme.test", "wrong".into()).await.status(), 401);
        let (code, _, _) = error_code(attempt("carl@acme.test", "wrong".into()).await, 429).await;
        assert_eq!(code, "rate_limited");
        let metrics = app.anon().get("/metrics").await.text().await.unwrap();
        assert!(
            metrics.contains(r#"spotlight_rate_limited_requests_total{scope="login"} 2"#),
            "{metrics}"
        );
    }
}

#[tokio::test]
async fn behind_a_tls_proxy_cookies_are_secure_and_hsts_is_sent() {
    let app = TestApp::spawn_with(Db::Sqlite, |c| c.http.trust_proxy = true).await;
    let t = app.tenant("Acme", &[]).await;
    let pw = app.member(&t, "ada@acme.test", Role::Viewer).await;
    let r = app
        .anon()
        .post("/v1/auth/login")
        .header("x-forwarded-proto", "https")
        .header("x-forwarded-for", "203.0.113.9")
        .json(&json!({ "email": "ada@acme.test", "password": pw }))
        .await;
    assert_eq!(r.status(), 200);
    let cookie = r.headers()["set-cookie"].to_str().unwrap();
    assert!(cookie.starts_with("__Host-spotlight_session="), "{cookie}");
    assert!(cookie.contains("; Secure"));
    assert!(r.headers()["strict-transport-security"]
        .to_str()
        .unwrap()
        .contains("max-age="));
}

/// An invitation can be accepted for seven days; after that its link answers
/// as a used one does, and the invitee is not a member.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invitation_expires_after_seven_days() {
    use spotlight_domain::{ManualClock, SystemClock, Timestamp};
    use std::sync::Arc;
    for db in [Db::Sqlite, Db::Postgres] {
        if db == Db::Postgres && !postgres_available() {
            continue;
        }
        let clock = ManualClock::new(Timestamp(
            spotlight_domain::Clock::now(&SystemClock).millis(),
        ));
        let app = TestApp::spawn_with_clock(db, Arc::new(clock.clone())).await;
        let t = app.tenant("Acme", &[]).await;
        let pw = app.member(&t, "owner@acme.test", Role::Owner).await;
        let owner = app.login("owner@acme.test", &pw).await;
        let invite = |email: &'static str| {
            let (app, owner) = (&app, &owner);
            async move {
                let body = json!({"email": email, "role": "editor"});
                let r = owner
                    .send(app, reqwest::Method::POST, "/v1/admin/members", &body)
                    .await;
                assert_eq!(r.status(), 201);
                let body: Value = r.json().await.unwrap();
                body["token"].as_str().unwrap().to_owned()
            }
        };
        let late = invite("late@corp.test").await;
        let in_time = invite("in-time@corp.test").await;
        let accept = |token: String| {
            let app = &app;
            async move {
                app.client
                    .post(app.url("/v1/auth/invitations/accept"))
                    .json(&json!({"token": token, "password": "a-long-new-password"}))
                    .send()
                    .await
                    .unwrap()
            }
        };
        clock.advance_secs(7 * 86_400 - 60);
        assert_eq!(accept(in_time).await.status(), 200, "a minute before");
        clock.advance_secs(120);
        let (code, _, _) = error_code(accept(late).await, 404).await;
        assert_eq!(code, "not_found");
        let owner = app.login("owner@acme.test", &pw).await;
        let r = owner
            .client
            .get(app.url("/v1/admin/members"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let members = r.text().await.unwrap();
        assert!(members.contains("in-time@corp.test"), "{members}");
        assert!(!members.contains("late@corp.test"), "{members}");
    }
}
