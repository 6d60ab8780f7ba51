//! End-user identity verification on `GET /v1/sdk/config`: valid tokens from
//! each method, the attack suite (every forged or broken token is refused with
//! its reason counted), monitor mode, and a JWKS outage.

use crate::helpers::{admin, config, urlencode};
use crate::helpers::{error_code, prod, Db, TestApp};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use spotlight_domain::{Clock, ManualClock, SystemClock};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

const RSA: &str = include_str!("keys/rsa.pem");
const RSA_PUB: &str = include_str!("keys/rsa.pub.pem");
const RSA_OTHER: &str = include_str!("keys/rsa-other.pem");
const EC: &str = include_str!("keys/ec.pem");
const ED: &str = include_str!("keys/ed.pem");
const JWKS: &str = include_str!("keys/jwks.json");
const ISS: &str = "https://idp.example.test";
const AUD: &str = "spotlight";

/// A JWKS endpoint the test can take down and bring back.
struct JwksServer {
    url: String,
    body: Arc<Mutex<Option<String>>>,
    hits: Arc<AtomicUsize>,
}

async fn jwks_server() -> JwksServer {
    let body = Arc::new(Mutex::new(Some(JWKS.to_owned())));
    let hits = Arc::new(AtomicUsize::new(0));
    let (b, h) = (body.clone(), hits.clone());
    let app = axum::Router::new().route(
        "/jwks.json",
        axum::routing::get(move || {
            let (b, h) = (b.clone(), h.clone());
            async move {
                h.fetch_add(1, Ordering::SeqCst);
                match b.lock().unwrap().clone() {
                    Some(text) => (axum::http::StatusCode::OK, text),
                    None => (axum::http::StatusCode::SERVICE_UNAVAILABLE, String::new()),
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/jwks.json", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    JwksServer { url, body, hits }
}

fn sign(alg: Algorithm, kid: Option<&str>, key: &EncodingKey, claims: &Value) -> String {
    let mut h = Header::new(alg);
    h.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&h, claims, key).unwrap()
}

fn rsa() -> EncodingKey {
    EncodingKey::from_rsa_pem(RSA.as_bytes()).unwrap()
}

fn claims(now: i64, sub: &str) -> Value {
    json!({"sub": sub, "iss": ISS, "aud": AUD, "exp": now + 48 * 3600, "iat": now, "plan": "enterprise", "roles": ["spotlight-admin"]})
}

fn b64(v: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v)
}

async fn with_token(app: &TestApp, pk: &str, query: &str, token: &str) -> reqwest::Response {
    app.anon()
        .get(&format!("/v1/sdk/config?{query}"))
        .header("x-spotlight-key", pk)
        .header("authorization", format!("Bearer {token}"))
        .await
}

async fn metrics(app: &TestApp) -> String {
    app.metrics().await
}

fn count(metrics: &str, series: &str) -> u64 {
    metrics
        .lines()
        .find(|l| l.starts_with(series))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

async fn jwks_tenant(app: &TestApp, url: &str, mode: &str) -> (String, String) {
    let t = app.tenant("acme", &[]).await;
    let a = admin(app, &t);
    a.settings(json!({
        "identity_verification": {"production": {
            "mode": mode, "allow_anonymous": false,
            "method": {"type": "jwks", "url": url},
            "issuer": ISS, "audience": AUD, "attribute_claims": ["plan"]
        }},
        "admin_detection": {"strategy": "jwt_role", "claim": "roles", "role": "spotlight-admin"}
    }))
    .await;
    let (pk, sk) = prod(&t);
    (pk.to_owned(), sk.to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verified_tokens_from_each_jwks_algorithm() {
    let app = TestApp::spawn(Db::Sqlite).await;
    let jwks = jwks_server().await;
    let (pk, _) = jwks_tenant(&app, &jwks.url, "enforce").await;
    let now = SystemClock.now().millis() / 1000;
    let ec = EncodingKey::from_ec_pem(EC.as_bytes()).unwrap();
    let ed = EncodingKey::from_ed_pem(ED.as_bytes()).unwrap();
    let tokens = [
        sign(
            Algorithm::RS256,
            Some("rsa-1"),
            &rsa(),
            &claims(now, "u-rsa"),
        ),
        sign(Algorithm::ES256, Some("ec-1"), &ec, &claims(now, "u-ec")),
        sign(Algorithm::EdDSA, Some("ed-1"), &ed, &claims(now, "u-ed")),
    ];
    let sdk_attrs = urlencode(&json!({"plan": "free", "team": "blue"}).to_string());
    for (token, sub) in tokens.iter().zip(["u-rsa", "u-ec", "u-ed"]) {
        let r = with_token(&app, &pk, &format!("url=/&attributes={sdk_attrs}"), token).await;
        let status = r.status();
        let v: Value = r.json().await.unwrap();
        assert_eq!(status, 200, "{sub}: {v}");
        assert_eq!(v["user"]["id"], sub);
        assert_eq!(v["user"]["verified"], true);
        assert_eq!(
            v["user"]["is_admin"], true,
            "jwt_role from the verified claim"
        );
    }
    // Claims win over the SDK's attributes; the profile records both.
    app.state
        .profiles
        .flush(std::time::Duration::from_secs(5))
        .await;
    let t = app.store().tenants_named("acme").await.unwrap().remove(0);
    let env = app
        .store()
        .environment_named(t.id, "production")
        .await
        .unwrap();
    let u = app
        .store()
        .end_user(t.id, env.id, "u-rsa")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(u.state.attributes["plan"], "enterprise");
    assert_eq!(u.state.attributes["team"], "blue");
    assert!(u.state.verified);
    // One download served all three.
    assert_eq!(jwks.hits.load(Ordering::SeqCst), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attack_suite_is_refused_with_reasons() {
    let app = TestApp::spawn(Db::Sqlite).await;
    let jwks = jwks_server().await;
    let (pk, _) = jwks_tenant(&app, &jwks.url, "enforce").await;
    let now = SystemClock.now().millis() / 1000;
    let good = claims(now, "u1");
    let with = |patch: Value| {
        let mut c = good.clone();
        for (k, v) in patch.as_object().unwrap() {
            if v.is_null() {
                c.as_object_mut().unwrap().remove(k);
            } else {
                c[k] = v.clone();
            }
        }
        c
    };
    let valid = sign(Algorithm::RS256, Some("rsa-1"), &rsa(), &good);
    let parts: Vec<&str> = valid.split('.').collect();
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        b64(with(json!({"sub": "someone-else"})).to_string().as_bytes()),
        parts[2]
    );
    let alg_none = format!(
        "{}.{}.",
        b64(br#"{"alg":"none","typ":"JWT"}"#),
        b64(good.to_string().as_bytes())
    );
    let hs_with_public_key = sign(
        Algorithm::HS256,
        Some("rsa-1"),
        &EncodingKey::from_secret(RSA_PUB.as_bytes()),
        &good,
    );
    let other_key = EncodingKey::from_rsa_pem(RSA_OTHER.as_bytes()).unwrap();
    let huge = sign(
        Algorithm::RS256,
        Some("rsa-1"),
        &rsa(),
        &with(json!({"padding": "x".repeat(5000)})),
    );
    let r = |c: &Value| sign(Algorithm::RS256, Some("rsa-1"), &rsa(), c);
    let cases: Vec<(&str, String, &str, &str)> = vec![
        ("alg none", alg_none, "url=/", "algorithm"),
        (
            "HS256 signed with the public key",
            hs_with_public_key,
            "url=/",
            "algorithm",
        ),
        (
            "expired",
            r(&with(json!({"exp": now - 3600}))),
            "url=/",
            "expired",
        ),
        (
            "not yet valid",
            r(&with(json!({"nbf": now + 3600}))),
            "url=/",
            "not_yet_valid",
        ),
        (
            "wrong issuer",
            r(&with(json!({"iss": "https://evil.test"}))),
            "url=/",
            "issuer",
        ),
        (
            "wrong audience",
            r(&with(json!({"aud": "someone-else"}))),
            "url=/",
            "audience",
        ),
        (
            "no exp",
            r(&with(json!({"exp": null}))),
            "url=/",
            "missing_exp",
        ),
        (
            "no sub",
            r(&with(json!({"sub": null}))),
            "url=/",
            "missing_subject",
        ),
        (
            "unknown kid",
            sign(Algorithm::RS256, Some("rotated-away"), &rsa(), &good),
            "url=/",
            "unknown_kid",
        ),
        (
            "signed by another key",
            sign(Algorithm::RS256, Some("rsa-1"), &other_key, &good),
            "url=/",
            "signature",
        ),
        ("tampered payload", tampered, "url=/", "signature"),
        (
            "an unknown critical extension (RFC 7515 4.1.11)",
            {
                let mut h = Header::new(Algorithm::RS256);
                h.kid = Some("rsa-1".into());
                h.crit = Some(vec!["exp-policy".into()]);
                jsonwebtoken::encode(&h, &good, &rsa()).unwrap()
            },
            "url=/",
            "critical_extension",
        ),
        (
            "a NUL in the subject",
            r(&with(json!({"sub": "u\u{0}1"}))),
            "url=/",
            "invalid_subject",
        ),
        ("oversized", huge, "url=/", "token_too_large"),
        (
            "truncated",
            valid[..valid.len() / 2].to_owned(),
            "url=/",
            "malformed",
        ),
        ("garbage", "not.a.jwt".to_owned(), "url=/", "malformed"),
        ("two segments", "abc.def".to_owned(), "url=/", "malformed"),
        (
            "someone else's id",
            valid.clone(),
            "url=/&user_id=u2",
            "subject_mismatch",
        ),
    ];
    for (name, token, query, reason) in &cases {
        let before = count(
            &metrics(&app).await,
            &format!("spotlight_auth_failures_total{{kind=\"identity\",reason=\"{reason}\"}}"),
        );
        let resp = with_token(&app, &pk, query, token).await;
        let (code, _, _) = error_code(resp, 401).await;
        assert_eq!(code, "unauthenticated", "{name}");
        let after = count(
            &metrics(&app).await,
            &format!("spotlight_auth_failures_total{{kind=\"identity\",reason=\"{reason}\"}}"),
        );
        assert_eq!(after, before + 1, "{name}: reason {reason} not counted");
    }
    // Enforced: an unverified user id and an anonymous visitor are refused too.
    let (code, _, _) = error_code(config(&app, &pk, "url=/&user_id=u1").await, 401).await;
    assert_eq!(code, "unauthenticated");
    assert_eq!(
        config(&app, &pk, "url=/").await.status(),
        401,
        "anonymous disabled"
    );
    let m = metrics(&app).await;
    assert_eq!(
        count(
            &m,
            "spotlight_auth_failures_total{kind=\"identity\",reason=\"unverified\"}"
        ),
        1
    );
    // Events follow the config route's rules (issue #20): with anonymous use
    // off, an anonymous visitor's events are refused, as is an unverified id;
    // the verified subject's are kept.
    let anon = format!("anon-{}", uuid::Uuid::new_v4());
    let events =
        |user: &str| json!({"user_id": user, "events": [crate::events::ev("export", json!({}))]});
    let post = |user: String, token: Option<String>| {
        let (app, pk, body) = (&app, pk.clone(), events(&user));
        async move {
            let mut req = app
                .client
                .post(app.url("/v1/sdk/events"))
                .header("x-spotlight-key", pk)
                .json(&body);
            if let Some(t) = token {
                req = req.bearer_auth(t);
            }
            req.send().await.unwrap()
        }
    };
    let (code, body, _) = error_code(post(anon.clone(), None).await, 422).await;
    assert_eq!(code, "validation_failed");
    assert_eq!(
        body["error"]["details"]["rejected"][0]["code"], "anonymous_refused",
        "{body}"
    );
    let (_, body, _) = error_code(post("u1".into(), None).await, 422).await;
    assert_eq!(
        body["error"]["details"]["rejected"][0]["code"], "user_mismatch",
        "{body}"
    );
    let r = post("u1".into(), Some(valid.clone())).await;
    assert_eq!(r.status(), 202);
    // The valid token still works.
    assert_eq!(with_token(&app, &pk, "url=/", &valid).await.status(), 200);
    eprintln!(
        "attack suite: {} forged or broken tokens refused",
        cases.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hs256_rotation_public_key_and_monitor_mode() {
    let app = TestApp::spawn(Db::Sqlite).await;
    let t = app.tenant("acme", &[]).await;
    let (pk, _) = prod(&t);
    let a = admin(&app, &t);
    let (s1, s2) = (
        "first-secret-0123456789-0123456789",
        "second-secret-0123456789-012345678",
    );
    a.settings(json!({"identity_verification": {"production": {
        "mode": "enforce", "method": {"type": "hs256"}, "hs256_secrets": [s1, s2]}}}))
        .await;
    let now = SystemClock.now().millis() / 1000;
    let c = json!({"sub": "u1", "exp": now + 600});
    for s in [s1, s2] {
        let token = sign(
            Algorithm::HS256,
            None,
            &EncodingKey::from_secret(s.as_bytes()),
            &c,
        );
        assert_eq!(with_token(&app, pk, "url=/", &token).await.status(), 200);
    }
    let wrong = sign(
        Algorithm::HS256,
        None,
        &EncodingKey::from_secret(b"not-one-of-them-0123456789abcdef"),
        &c,
    );
    assert_eq!(with_token(&app, pk, "url=/", &wrong).await.status(), 401);
    // Signed by the first secret but expired: counted as expired, not as a
    // signature the second secret failed (issue #20).
    let series = |reason: &str| {
        format!("spotlight_auth_failures_total{{kind=\"identity\",reason=\"{reason}\"}}")
    };
    let before = count(&metrics(&app).await, &series("expired"));
    let signatures = count(&metrics(&app).await, &series("signature"));
    let expired = sign(
        Algorithm::HS256,
        None,
        &EncodingKey::from_secret(s1.as_bytes()),
        &json!({"sub": "u1", "exp": now - 3600}),
    );
    assert_eq!(with_token(&app, pk, "url=/", &expired).await.status(), 401);
    let m = metrics(&app).await;
    assert_eq!(count(&m, &series("expired")), before + 1, "{m}");
    assert_eq!(count(&m, &series("signature")), signatures, "{m}");

    // A static public key: RS256 only.
    a.settings(json!({"identity_verification": {"production": {
        "mode": "enforce", "method": {"type": "public_key", "algorithm": "rs256", "pem": RSA_PUB}}}}))
        .await;
    let token = sign(Algorithm::RS256, None, &rsa(), &c);
    assert_eq!(with_token(&app, pk, "url=/", &token).await.status(), 200);
    let ec = sign(
        Algorithm::ES256,
        None,
        &EncodingKey::from_ec_pem(EC.as_bytes()).unwrap(),
        &c,
    );
    assert_eq!(with_token(&app, pk, "url=/", &ec).await.status(), 401);

    // Monitor: nothing is refused, what would be is counted.
    a.settings(json!({"identity_verification": {"production": {"mode": "monitor"}}}))
        .await;
    let r = with_token(&app, pk, "url=/&user_id=u9", &ec).await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["user"]["id"], "u9");
    assert_eq!(v["user"]["verified"], false);
    assert_eq!(config(&app, pk, "url=/&user_id=u8").await.status(), 200);
    let m = metrics(&app).await;
    assert_eq!(
        count(
            &m,
            "spotlight_identity_monitor_would_refuse_total{reason=\"algorithm\"}"
        ),
        1,
        "{m}"
    );
    assert_eq!(
        count(
            &m,
            "spotlight_identity_monitor_would_refuse_total{reason=\"unverified\"}"
        ),
        2
    );
}

/// The JWKS server goes down: users whose keys are cached keep working past
/// the hour of freshness, up to the configured staleness; then the server
/// answers 503 rather than guess, and recovers when the JWKS returns.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jwks_outage_serves_cached_keys_within_bounds() {
    let clock = ManualClock::new(SystemClock.now());
    let app = TestApp::spawn_with_clock(Db::Sqlite, Arc::new(clock.clone())).await;
    let jwks = jwks_server().await;
    let (pk, _) = jwks_tenant(&app, &jwks.url, "enforce").await;
    let now = clock.now().millis() / 1000;
    let token = sign(
        Algorithm::RS256,
        Some("rsa-1"),
        &rsa(),
        &json!({"sub": "u1", "iss": ISS, "aud": AUD, "exp": now + 10 * 24 * 3600}),
    );
    assert_eq!(with_token(&app, &pk, "url=/", &token).await.status(), 200);
    assert_eq!(jwks.hits.load(Ordering::SeqCst), 1);

    *jwks.body.lock().unwrap() = None;
    clock.advance_secs(2 * 3600);
    // Past freshness: served from the cache while a refresh is tried (and fails).
    assert_eq!(with_token(&app, &pk, "url=/", &token).await.status(), 200);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while count(
        &metrics(&app).await,
        "spotlight_jwks_fetches_total{result=\"error\"}",
    ) < 3
    {
        assert!(std::time::Instant::now() < deadline, "no refresh attempted");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    for _ in 0..3 {
        assert_eq!(with_token(&app, &pk, "url=/", &token).await.status(), 200);
    }
    let m = metrics(&app).await;
    assert!(
        count(
            &m,
            "spotlight_cache_lookups_total{cache=\"jwks\",result=\"stale\"}"
        ) >= 1,
        "{m}"
    );

    // Beyond the bound (24 h by default): no guessing.
    clock.advance_secs(25 * 3600);
    let r = with_token(&app, &pk, "url=/", &token).await;
    assert_eq!(error_code(r, 503).await.0, "unavailable");

    // Back up: verified again.
    *jwks.body.lock().unwrap() = Some(JWKS.to_owned());
    clock.advance_secs(5);
    assert_eq!(with_token(&app, &pk, "url=/", &token).await.status(), 200);
}
