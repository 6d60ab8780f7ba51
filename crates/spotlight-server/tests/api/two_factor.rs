//! Two-factor sign-in (TOTP) end to end: enrolment with a QR code, sign-in
//! with a code (each time step once), recovery codes (each once), a tenant
//! that requires it, and code guesses limited as password guesses.

use crate::both_stores;
use crate::helpers::*;
use serde_json::{json, Value};
use spotlight_domain::Role;
use spotlight_domain::{Clock, ManualClock, SystemClock, Timestamp};
use std::sync::Arc;
use totp_rs::{Builder, Secret};

/// The code an authenticator app shows at `unix_secs`.
fn code_at(secret: &str, unix_secs: i64) -> String {
    // The defaults are RFC 6238's: SHA-1, 6 digits, 30-second steps.
    let totp = Builder::new()
        .with_secret(Secret::try_from_base32(secret).unwrap())
        .build()
        .unwrap();
    totp.generate(unix_secs as u64).to_string()
}

/// The code an authenticator app shows `offset_steps` steps from now.
fn code(secret: &str, offset_steps: i64) -> String {
    let now = SystemClock.now().millis() / 1000;
    code_at(secret, now + offset_steps * 30)
}

async fn post(s: &Session, app: &TestApp, path: &str, body: Value) -> reqwest::Response {
    s.send(app, reqwest::Method::POST, path, &body).await
}

async fn login_with(app: &TestApp, body: Value) -> reqwest::Response {
    app.client
        .post(app.url("/v1/auth/login"))
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// Turns two-factor sign-in on for the session's account: the secret and the
/// recovery codes.
async fn enrol(app: &TestApp, s: &Session) -> (String, Vec<String>) {
    let r = post(s, app, "/v1/auth/two-factor/setup", json!({})).await;
    assert_eq!(r.status(), 200);
    let setup: Value = r.json().await.unwrap();
    let secret = setup["secret"].as_str().unwrap().to_owned();
    let r = post(
        s,
        app,
        "/v1/auth/two-factor/enable",
        json!({ "code": code(&secret, 0) }),
    )
    .await;
    assert_eq!(r.status(), 200);
    let codes: Value = r.json().await.unwrap();
    let codes = codes["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    (secret, codes)
}

/// Five seconds into a time step, on a clock the test moves.
const T0: i64 = 1_900_000_005;

#[tokio::test]
async fn enrolment_sign_in_and_replays() {
    for db in [Db::Sqlite, Db::Postgres] {
        if db == Db::Postgres && !postgres_available() {
            continue;
        }
        let clock = ManualClock::new(Timestamp(T0 * 1000));
        // Far more sign-ins than one person makes in a minute (the limit has
        // its own test below).
        let app = TestApp::spawn_full(
            db,
            |c| c.security.login_per_account_per_minute = 100,
            None,
            Arc::new(clock.clone()),
        )
        .await;
        enrolment_flow(&app, &clock).await;
    }
}

async fn enrolment_flow(app: &TestApp, clock: &ManualClock) {
    let t = app.tenant("Acme", &[]).await;
    let pw = app.member(&t, "ana@acme.test", Role::Editor).await;
    let s = app.login("ana@acme.test", &pw).await;
    assert_eq!(
        s.me["two_factor"],
        json!({"enabled": false, "required": false})
    );
    let login = |extra: Value| {
        let mut body = json!({"email": "ana@acme.test", "password": pw});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        login_with(app, body)
    };

    // Enabling needs a pending secret, then a code made from it.
    let r = post(
        &s,
        app,
        "/v1/auth/two-factor/enable",
        json!({"code": "123456"}),
    )
    .await;
    assert_eq!(error_code(r, 409).await.0, "conflict");
    let r = post(&s, app, "/v1/auth/two-factor/setup", json!({})).await;
    let setup: Value = r.json().await.unwrap();
    let secret = setup["secret"].as_str().unwrap().to_owned();
    let url = setup["otpauth_url"].as_str().unwrap();
    assert!(
        url.starts_with("otpauth://totp/Spotlight:ana%40acme.test?"),
        "{url}"
    );
    assert!(url.contains(&format!("secret={secret}")), "{url}");
    assert!(setup["qr_svg"].as_str().unwrap().contains("<svg"));
    // Without the CSRF token: refused.
    let r = s
        .client
        .post(app.url("/v1/auth/two-factor/setup"))
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(r, 403).await.0, "csrf_failed");
    // A code from another secret, or a malformed one: refused.
    let other = Secret::from([7u8; 20].as_slice()).to_base32();
    let r = post(
        &s,
        app,
        "/v1/auth/two-factor/enable",
        json!({"code": code_at(&other, T0)}),
    )
    .await;
    assert_eq!(error_code(r, 401).await.0, "invalid_two_factor_code");
    let r = post(&s, app, "/v1/auth/two-factor/enable", json!({"code": "12"})).await;
    assert_eq!(error_code(r, 401).await.0, "invalid_two_factor_code");
    // Nothing is on yet: the password alone still signs in.
    assert_eq!(login(json!({})).await.status(), 200);

    let r = post(
        &s,
        app,
        "/v1/auth/two-factor/enable",
        json!({"code": code_at(&secret, T0)}),
    )
    .await;
    assert_eq!(r.status(), 200);
    let recovery: Vec<String> = r.json::<Value>().await.unwrap()["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(recovery.len(), 10);
    let status = |s: &Session| {
        let req = s.client.get(app.url("/v1/auth/two-factor"));
        async move { req.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    assert_eq!(
        status(&s).await,
        json!({"enabled": true, "required": false, "recovery_codes_left": 10})
    );
    // A second setup would replace the app: not while it is on.
    let r = post(&s, app, "/v1/auth/two-factor/setup", json!({})).await;
    assert_eq!(error_code(r, 409).await.0, "conflict");

    // Sign-in now needs the second factor.
    assert_eq!(
        error_code(login(json!({})).await, 401).await.0,
        "two_factor_required"
    );
    // A wrong password gets the password's answer, whatever the code.
    let r = login_with(
        app,
        json!({"email": "ana@acme.test", "password": "wrong", "totp_code": code_at(&secret, T0 + 30)}),
    )
    .await;
    assert_eq!(error_code(r, 401).await.0, "invalid_credentials");
    // The code that enabled it was used: refused within its window.
    let r = login(json!({"totp_code": code_at(&secret, T0)})).await;
    assert_eq!(error_code(r, 401).await.0, "invalid_two_factor_code");
    // The next step's code (one step of drift either way) signs in, once.
    let r = login(json!({"totp_code": code_at(&secret, T0 + 30)})).await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.json::<Value>().await.unwrap()["two_factor"]["enabled"],
        true
    );
    let r = login(json!({"totp_code": code_at(&secret, T0 + 30)})).await;
    assert_eq!(error_code(r, 401).await.0, "invalid_two_factor_code");
    // Two steps ahead is out of the window.
    let r = login(json!({"totp_code": code_at(&secret, T0 + 60)})).await;
    assert_eq!(error_code(r, 401).await.0, "invalid_two_factor_code");

    // A recovery code, typed loosely, signs in once.
    let typed = recovery[0].to_uppercase().replace('-', " ");
    assert_eq!(login(json!({"recovery_code": typed})).await.status(), 200);
    let r = login(json!({"recovery_code": recovery[0]})).await;
    assert_eq!(error_code(r, 401).await.0, "invalid_two_factor_code");
    assert_eq!(status(&s).await["recovery_codes_left"], 9);

    // A minute on: new recovery codes for a current code; the old set stops.
    clock.advance_secs(60);
    let r = post(
        &s,
        app,
        "/v1/auth/two-factor/recovery-codes",
        json!({"code": "000000"}),
    )
    .await;
    assert_eq!(error_code(r, 401).await.0, "invalid_two_factor_code");
    let r = post(
        &s,
        app,
        "/v1/auth/two-factor/recovery-codes",
        json!({"code": code_at(&secret, T0 + 60)}),
    )
    .await;
    assert_eq!(r.status(), 200);
    let fresh: Vec<String> = r.json::<Value>().await.unwrap()["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    let r = login(json!({"recovery_code": recovery[1]})).await;
    assert_eq!(error_code(r, 401).await.0, "invalid_two_factor_code");

    // Turning it off needs the password and a code (a recovery code here).
    let r = post(
        &s,
        app,
        "/v1/auth/two-factor/disable",
        json!({"password": "wrong", "code": fresh[0]}),
    )
    .await;
    assert_eq!(error_code(r, 401).await.0, "invalid_credentials");
    let r = post(
        &s,
        app,
        "/v1/auth/two-factor/disable",
        json!({"password": pw, "code": fresh[0]}),
    )
    .await;
    assert_eq!(r.status(), 204);
    assert_eq!(login(json!({})).await.status(), 200);

    // Each change is in the audit log, without any secret.
    let audit = admin(app, &t).get_json("/v1/admin/audit").await;
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for action in [
        "account.two_factor.enable",
        "account.two_factor.recovery_codes",
        "account.two_factor.disable",
    ] {
        assert!(actions.contains(&action), "{action}: {actions:?}");
    }
    let text = audit.to_string();
    assert!(!text.contains(&secret) && !text.contains(&fresh[1]));
}

both_stores!(
    a_tenant_can_require_a_second_factor,
    |app: TestApp| async move {
        let t = app.tenant("Acme", &[]).await;
        let owner_pw = app.member(&t, "owner@acme.test", Role::Owner).await;
        let admin_pw = app.member(&t, "admin@acme.test", Role::Admin).await;
        let owner = app.login("owner@acme.test", &owner_pw).await;
        let adm = app.login("admin@acme.test", &admin_pw).await;

        // Only an owner changes how members sign in (a secret key acts as admin).
        let patch = json!({"sign_in": {"require_two_factor": true}});
        let r = adm
            .client
            .patch(app.url("/v1/admin/settings"))
            .header("x-csrf-token", &adm.csrf)
            .json(&patch)
            .send()
            .await
            .unwrap();
        assert_eq!(error_code(r, 403).await.0, "forbidden");
        let r = admin(&app, &t)
            .patch("/v1/admin/settings")
            .json(&patch)
            .await;
        assert_eq!(error_code(r, 403).await.0, "forbidden");
        // The owner enrols first, then requires it.
        enrol(&app, &owner).await;
        let r = owner
            .client
            .patch(app.url("/v1/admin/settings"))
            .header("x-csrf-token", &owner.csrf)
            .json(&patch)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(
            r.json::<Value>().await.unwrap()["sign_in"]["require_two_factor"],
            true
        );

        // The admin without a second factor may sign in, and enrol, but reaches
        // no admin route until then.
        let r = adm
            .client
            .get(app.url("/v1/admin/tours"))
            .send()
            .await
            .unwrap();
        assert_eq!(error_code(r, 403).await.0, "two_factor_enrolment_required");
        let me: Value = adm
            .client
            .get(app.url("/v1/auth/me"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            me["two_factor"],
            json!({"enabled": false, "required": true})
        );
        // Keys are not members: the backend keeps working.
        assert_eq!(admin(&app, &t).get("/v1/admin/tours").await.status(), 200);
        // The owner, enrolled, keeps working.
        let r = owner
            .client
            .get(app.url("/v1/admin/tours"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        enrol(&app, &adm).await;
        let r = adm
            .client
            .get(app.url("/v1/admin/tours"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        // While required, it cannot be turned off.
        let r = post(
            &adm,
            &app,
            "/v1/auth/two-factor/disable",
            json!({"password": admin_pw, "code": "whatever-code"}),
        )
        .await;
        assert_eq!(error_code(r, 409).await.0, "conflict");
    }
);

#[tokio::test]
async fn code_guesses_are_limited_as_password_guesses() {
    let app = TestApp::spawn_with(Db::Sqlite, |c| {
        c.security.login_per_account_per_minute = 5;
        c.security.login_per_ip_per_minute = 100;
    })
    .await;
    let t = app.tenant("Acme", &[]).await;
    let pw = app.member(&t, "ana@acme.test", Role::Viewer).await;
    let s = app.login("ana@acme.test", &pw).await;
    let (secret, _) = enrol(&app, &s).await;
    // One sign-in and the enabling code spent two of five; three guesses left.
    for guess in ["000000", "111111", "222222"] {
        let r = login_with(
            &app,
            json!({"email": "ana@acme.test", "password": pw, "totp_code": guess}),
        )
        .await;
        assert_eq!(error_code(r, 401).await.0, "invalid_two_factor_code");
    }
    // The account's bucket is empty: even the right code waits.
    let r = login_with(
        &app,
        json!({"email": "ana@acme.test", "password": pw, "totp_code": code(&secret, 1)}),
    )
    .await;
    assert_eq!(error_code(r, 429).await.0, "rate_limited");
}
