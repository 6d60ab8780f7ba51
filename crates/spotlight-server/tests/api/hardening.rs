//! Issue #20: what an adversarial sweep found — each with the test that
//! failed before its fix, on both stores where storage is involved.

use crate::both_stores;
use crate::events::{ev, post_events};
use crate::helpers::admin;
use crate::helpers::{error_code, prod, Db, TestApp};
use serde_json::{json, Value};
use spotlight_pipeline::outbound::is_internal;
use spotlight_server::config::{Config, Mode};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

// 1. The NUL character: one rule on both stores (PostgreSQL cannot hold it):
// refused with a 4xx naming the field, per event in a batch.
both_stores!(
    nul_characters_are_refused_by_name,
    |app: TestApp| async move {
        let t = app.tenant("acme", &["https://app.acme.test"]).await;
        let (pk, sk) = prod(&t);
        let a = admin(&app, &t);
        let tour = a
            .publish(
                "tours",
                json!({"name": "Intro", "steps": [{"kind": "modal", "title": "a"}]}),
            )
            .await;

        // A batch: the valid events are kept, each bad one is refused by itself.
        let mut bad_session = ev("tour_started", json!({"tour_id": tour}));
        bad_session["session_id"] = json!("a\u{0}b");
        let bad_custom = ev("export", json!({"format": "c\u{0}sv"}));
        let good = ev("step_viewed", json!({"tour_id": tour, "step": 0}));
        let r = post_events(
            &app,
            pk,
            &json!({"user_id": "u1", "events": [bad_session, good, bad_custom]}),
        )
        .await;
        assert_eq!(r.status(), 202);
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["accepted"], 1, "{body}");
        let rejected = body["rejected"].as_array().unwrap();
        assert_eq!(rejected.len(), 2, "{body}");
        assert_eq!(rejected[0]["index"], 0);
        assert!(
            rejected[0]["message"]
                .as_str()
                .unwrap()
                .contains("session_id must not contain the NUL"),
            "{body}"
        );
        assert!(
            rejected[1]["message"]
                .as_str()
                .unwrap()
                .contains("properties.format"),
            "{body}"
        );
        // Identify attributes too.
        let r = post_events(
        &app,
        pk,
        &json!({"user_id": "u1", "events": [ev("identify", json!({"attributes": {"plan": "p\u{0}"}}))]}),
    )
    .await;
        let (code, _, _) = error_code(r, 422).await;
        assert_eq!(code, "validation_failed");

        // Admin bodies: 422 naming the field.
        let r = app
            .admin(sk)
            .post("/v1/admin/tours")
            .json(&json!({"name": "In\u{0}tro", "steps": [{"kind": "modal", "title": "a"}]}))
            .await;
        let (code, body, _) = error_code(r, 422).await;
        assert_eq!(code, "validation_failed");
        assert_eq!(
            body["error"]["details"]["fields"][0]["path"], "name",
            "{body}"
        );
        // An escaped backslash before u0000 is text, not NUL.
        let r = app
            .admin(sk)
            .post("/v1/admin/tours")
            .json(&json!({"name": "C:\\u0000", "steps": [{"kind": "modal", "title": "a"}]}))
            .await;
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());

        // Query strings and paths: 400 naming the parameter.
        for (path, name) in [
            ("/v1/admin/tours?q=a%00b", "q"),
            ("/v1/admin/tours?status=%00", "status"),
            ("/v1/admin/audit?actor=x%00", "actor"),
            ("/v1/admin/audit?object_id=%00", "object_id"),
            ("/v1/admin/dead-letters?sink=%00", "sink"),
            ("/v1/admin/users/a%00b", "user_id"),
        ] {
            let r = app.admin(sk).get(path).await;
            let (_, body, _) = error_code(r, 400).await;
            let message = body["error"]["message"].as_str().unwrap();
            assert!(
                message.contains(name) && message.contains("NUL"),
                "{path}: {body}"
            );
        }
        let r = app
            .anon()
            .get("/v1/sdk/config?user_id=u%00&url=/")
            .header("x-spotlight-key", pk)
            .await;
        let (code, _, _) = error_code(r, 400).await;
        assert_eq!(code, "invalid_query");
        let r = app
            .anon()
            .get("/v1/sdk/config?user_id=u1&url=/&attributes=%7B%22plan%22%3A%22%5Cu0000%22%7D")
            .header("x-spotlight-key", pk)
            .await;
        let (code, _, _) = error_code(r, 422).await;
        assert_eq!(code, "validation_failed");
        // Nothing half-written: the server still answers the user's config.
        let r = app
            .anon()
            .get("/v1/sdk/config?user_id=u1&url=/")
            .header("x-spotlight-key", pk)
            .await;
        assert_eq!(r.status(), 200);
    }
);

fn production(c: &mut Config) {
    c.mode = Mode::Production;
}

/// A TCP listener that counts the connections made to it (and drops them).
async fn counting_listener() -> (u16, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("0.0.0.0:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let count = Arc::new(AtomicUsize::new(0));
    let c = count.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            c.fetch_add(1, Ordering::SeqCst);
            drop(stream);
        }
    });
    (port, count)
}

/// This machine's own name, which its hosts file resolves to an internal
/// address: a name that passes when saved and must be refused when used.
async fn internal_name() -> (String, Vec<std::net::IpAddr>) {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .unwrap()
        .trim()
        .to_owned();
    let addrs: Vec<std::net::IpAddr> = tokio::net::lookup_host((name.as_str(), 0))
        .await
        .unwrap()
        .map(|a| a.ip())
        .collect();
    assert!(
        !addrs.is_empty() && addrs.iter().all(|a| is_internal(*a)),
        "this test needs the host name {name} to resolve to internal addresses: {addrs:?}"
    );
    (name, addrs)
}

async fn webhook(app: &TestApp, sk: &str, url: &str) -> reqwest::Response {
    app.admin(sk)
        .post("/v1/admin/webhooks")
        .json(&json!({ "url": url }))
        .await
}

async fn test_send(app: &TestApp, sk: &str, url: &str) -> Value {
    let r = webhook(app, sk, url).await;
    assert_eq!(r.status(), 201);
    let id = r.json::<Value>().await.unwrap()["webhook"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = app
        .admin(sk)
        .post(&format!("/v1/admin/webhooks/{id}/test"))
        .await;
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

// 3 and 4. Outbound URLs are parsed (never matched by prefix), https only in
// production, never to an internal address — checked on the address actually
// connected to, so a name that resolves inside is refused when used.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outbound_requests_reach_no_internal_address_in_production() {
    let app = TestApp::spawn_with(Db::Sqlite, production).await;
    let t = app.tenant("acme", &[]).await;
    let (pk, sk) = prod(&t);
    for url in [
        "https://169.254.169.254/latest/meta-data",
        "https://10.0.0.1/hook",
        "https://[::1]/hook",
        "https://localhost/hook",
        "https://127.0.0.1:5432/",
        "https://[::ffff:127.0.0.1]/hook",
        "https://2130706433/hook",
        "http://hooks.example.com/in",
        "https://user:pw@hooks.example.com/in",
    ] {
        let (code, body, _) = error_code(webhook(&app, sk, url).await, 422).await;
        assert_eq!(code, "validation_failed", "{url}");
        assert_eq!(
            body["error"]["details"]["fields"][0]["path"], "url",
            "{url}"
        );
    }
    for url in [
        "http://127.0.0.1@evil.test/jwks",
        "http://localhost.evil.test/jwks",
        "http://127.0.0.1:9/jwks",
        "https://169.254.169.254/jwks",
        "https://10.1.2.3/jwks",
    ] {
        let r = app
            .admin(sk)
            .patch("/v1/admin/settings")
            .json(&json!({"identity_verification": {"production": {
                "method": {"type": "jwks", "url": url}}}}))
            .await;
        let (_, body, _) = error_code(r, 422).await;
        assert_eq!(
            body["error"]["details"]["fields"][0]["path"],
            "identity_verification.production.method.url",
            "{url}: {body}"
        );
    }

    // A name that resolves to an internal address: saved, then refused at
    // connection time, for webhooks and JWKS alike; nothing reaches it.
    let (name, _) = internal_name().await;
    let (port, connections) = counting_listener().await;
    let sent = test_send(&app, sk, &format!("https://{name}:{port}/hook")).await;
    assert_eq!(sent["delivered"], false, "{sent}");
    assert!(
        sent["error"]
            .as_str()
            .unwrap()
            .contains("refused by the outbound policy"),
        "{sent}"
    );
    let a = admin(&app, &t);
    a.settings(json!({"identity_verification": {"production": {
        "mode": "enforce", "method": {"type": "jwks", "url": format!("https://{name}:{port}/jwks.json")}}}}))
        .await;
    let token = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256),
        &json!({"sub": "u1", "exp": 4_000_000_000_u64}),
        &jsonwebtoken::EncodingKey::from_rsa_pem(include_bytes!("keys/rsa.pem")).unwrap(),
    )
    .unwrap();
    let r = app
        .client
        .get(app.url("/v1/sdk/config?url=/"))
        .header("x-spotlight-key", pk)
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let (code, _, _) = error_code(r, 503).await;
    assert_eq!(code, "unavailable");
    assert_eq!(
        connections.load(Ordering::SeqCst),
        0,
        "an internal address was reached"
    );
}

/// The operator's allowlist opens an internal range to outbound requests.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_operator_allowlist_opens_internal_ranges() {
    let (name, addrs) = internal_name().await;
    let app = TestApp::spawn_with(Db::Sqlite, move |c: &mut Config| {
        c.mode = Mode::Production;
        c.security.outbound_allow = addrs.iter().map(|a| ipnet::IpNet::from(*a)).collect();
    })
    .await;
    let t = app.tenant("acme", &[]).await;
    let (_, sk) = prod(&t);
    let (port, connections) = counting_listener().await;
    let sent = test_send(&app, sk, &format!("https://{name}:{port}/hook")).await;
    // Connected (the listener speaks no TLS, so the delivery still fails).
    assert_eq!(sent["delivered"], false, "{sent}");
    assert!(connections.load(Ordering::SeqCst) >= 1, "{sent}");
    assert!(
        !sent["error"].as_str().unwrap().contains("outbound policy"),
        "{sent}"
    );
}

// 2. Concurrent admin writes queue; none fails with a lock error. Kill
// switches, settings and publishes from four clients at once, with events
// being ingested beside them (the SQLite writer's other user).
both_stores!(
    concurrent_admin_writes_all_succeed,
    |app: TestApp| async move {
        let t = app.tenant("acme", &["https://app.acme.test"]).await;
        let (pk, sk) = prod(&t);
        let a = admin(&app, &t);
        a.settings(
            json!({"rate_limits": {"admin_per_minute": 1_000_000, "sdk_per_minute": 1_000_000}}),
        )
        .await;
        let tour = a
            .publish(
                "tours",
                json!({"name": "Intro", "steps": [{"kind": "modal", "title": "a"}]}),
            )
            .await;
        let writes: Vec<(reqwest::Method, String, Value)> = vec![
            (
                reqwest::Method::POST,
                format!("/v1/admin/tours/{tour}/kill-switch"),
                json!({"enabled": true}),
            ),
            (
                reqwest::Method::POST,
                format!("/v1/admin/tours/{tour}/kill-switch"),
                json!({"enabled": false}),
            ),
            (
                reqwest::Method::PATCH,
                "/v1/admin/settings".to_owned(),
                json!({"kill_switch": false}),
            ),
            (
                reqwest::Method::PUT,
                format!("/v1/admin/tours/{tour}"),
                json!({"name": "Intro", "steps": [{"kind": "modal", "title": "b"}]}),
            ),
            (
                reqwest::Method::POST,
                format!("/v1/admin/tours/{tour}/publish"),
                json!({"environment": "production"}),
            ),
        ];
        let rounds = 100;
        let mut tasks = Vec::new();
        for client in 0..4 {
            let (c, base, sk, writes) = (
                app.client.clone(),
                app.url(""),
                sk.to_owned(),
                writes.clone(),
            );
            tasks.push(tokio::spawn(async move {
                let mut failures = Vec::new();
                for i in 0..rounds {
                    let (m, path, body) = &writes[(i + client) % writes.len()];
                    let r = c
                        .request(m.clone(), format!("{base}{path}"))
                        .bearer_auth(&sk)
                        .json(body)
                        .send()
                        .await
                        .unwrap();
                    if r.status().is_server_error() {
                        failures.push(format!("{m} {path}: {}", r.text().await.unwrap()));
                    }
                }
                failures
            }));
        }
        let (c, url, pk2) = (app.client.clone(), app.url("/v1/sdk/events"), pk.to_owned());
        let ingest = tokio::spawn(async move {
            let mut failures = Vec::new();
            for i in 0..rounds {
                let body = json!({"user_id": format!("u{i}"), "events": [ev("export", json!({}))]});
                let r = c
                    .post(&url)
                    .header("x-spotlight-key", &pk2)
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                if r.status().is_server_error() {
                    failures.push(format!("events: {}", r.text().await.unwrap()));
                }
            }
            failures
        });
        // Another process writing the same database meanwhile, as the CLI does
        // (`spotlight key create` while the server runs).
        let other = spotlight_store::Store::connect(
            secrecy::ExposeSecret::expose_secret(&app.state.config.store.database_url),
            &spotlight_store::StoreOptions::default(),
            Arc::new(spotlight_domain::SystemClock),
        )
        .await
        .unwrap();
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stopped = stop.clone();
        let cli = tokio::spawn(async move {
            let mut n = 0;
            while !stopped.load(Ordering::SeqCst) {
                other
                    .execute_for_tests("UPDATE tenants SET name = name")
                    .await
                    .unwrap();
                n += 1;
                tokio::time::sleep(std::time::Duration::from_millis(2)).await;
            }
            n
        });
        let mut failures = ingest.await.unwrap();
        for t in tasks {
            failures.extend(t.await.unwrap());
        }
        stop.store(true, Ordering::SeqCst);
        assert!(cli.await.unwrap() > 0);
        assert!(
            failures.is_empty(),
            "{} of {} writes failed: {:?}",
            failures.len(),
            rounds * 5,
            &failures[..failures.len().min(5)]
        );
    }
);

// 7. CORS: the origin is echoed only where it is allowed — on preflights
// (the key comes in the query) and on answers alike; never `null`.
both_stores!(
    cors_answers_only_allowed_origins,
    |app: TestApp| async move {
        let t = app.tenant("acme", &["https://app.acme.test"]).await;
        let (pk, _) = prod(&t);
        let preflight = |origin: &'static str, query: String| {
            let (c, url) = (
                app.client.clone(),
                app.url(&format!("/v1/sdk/events{query}")),
            );
            async move {
                c.request(reqwest::Method::OPTIONS, url)
                    .header("origin", origin)
                    .header("access-control-request-method", "POST")
                    .header(
                        "access-control-request-headers",
                        "x-spotlight-key, content-type",
                    )
                    .send()
                    .await
                    .unwrap()
            }
        };
        let with_key = format!("?key={pk}");
        let r = preflight("https://app.acme.test", with_key.clone()).await;
        assert_eq!(r.status(), 204);
        assert_eq!(
            r.headers()["access-control-allow-origin"],
            "https://app.acme.test"
        );
        for origin in ["https://evil.test", "null"] {
            let r = preflight(origin, with_key.clone()).await;
            assert!(
                r.headers().get("access-control-allow-origin").is_none(),
                "{origin}"
            );
            let (code, _, _) = error_code(r, 403).await;
            assert_eq!(code, "origin_not_allowed");
        }
        // Without a key the tenant is unknown: nothing is granted.
        let r = preflight("https://app.acme.test", String::new()).await;
        assert!(r.headers().get("access-control-allow-origin").is_none());
        assert_eq!(r.status(), 403);
        // Answers: the refused origin is not echoed; the allowed one is.
        for (origin, status, echoed) in [
            ("https://evil.test", 403, false),
            ("null", 403, false),
            ("https://app.acme.test", 200, true),
        ] {
            let r = app.sdk(pk, origin).get("/v1/sdk/config?url=/").await;
            assert_eq!(r.status(), status, "{origin}");
            assert_eq!(
                r.headers().get("access-control-allow-origin").is_some(),
                echoed,
                "{origin}"
            );
        }
    }
);

// 12. Survey answers must be ones the step's question offers.
both_stores!(
    survey_answers_are_checked_against_the_question,
    |app: TestApp| async move {
        let t = app.tenant("acme", &[]).await;
        let (pk, _) = prod(&t);
        let a = admin(&app, &t);
        let tour = a
        .publish(
            "tours",
            json!({"name": "Survey", "steps": [
                {"kind": "survey", "survey": {"type": "nps", "question": "How likely?"}},
                {"kind": "survey", "survey": {"type": "single_choice", "question": "Role?", "choices": ["Dev", "PM"]}},
                {"kind": "survey", "survey": {"type": "scale", "question": "Ease?", "min": 1, "max": 7}},
                {"kind": "survey", "survey": {"type": "multiple_choice", "question": "Uses?", "choices": ["A", "B", "C"]}},
                {"kind": "modal", "title": "Thanks"}
            ]}),
        )
        .await;
        let answer = |step: u32, answer: Value| {
            let mut props = json!({"tour_id": tour, "step": step});
            for (k, v) in answer.as_object().unwrap() {
                props[k] = v.clone();
            }
            ev("survey_answered", props)
        };
        let good = [
            answer(0, json!({"score": 0})),
            answer(0, json!({"score": 10})),
            answer(1, json!({"choices": ["PM"]})),
            answer(2, json!({"score": 7})),
            answer(3, json!({"choices": ["A", "C"]})),
        ];
        let bad = [
            answer(0, json!({"score": 11})),
            answer(0, json!({"score": -1})),
            answer(0, json!({"text": "great"})),
            answer(1, json!({"choices": ["Boss"]})),
            answer(1, json!({"choices": ["Dev", "PM"]})),
            answer(2, json!({"score": 8})),
            answer(3, json!({"choices": ["A", "A"]})),
            answer(4, json!({"score": 5})),
        ];
        let events: Vec<Value> = good.iter().chain(bad.iter()).cloned().collect();
        let r = post_events(&app, pk, &json!({"user_id": "u1", "events": events})).await;
        assert_eq!(r.status(), 202);
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["accepted"], good.len(), "{body}");
        let rejected = body["rejected"].as_array().unwrap();
        assert_eq!(rejected.len(), bad.len(), "{body}");
        assert!(
            rejected.iter().all(|r| r["code"] == "invalid_answer"),
            "{body}"
        );
    }
);

/// Reads what the server sends on `stream` until `n` responses' status lines
/// have come (or it stops); the status codes.
async fn statuses(stream: &mut tokio::net::TcpStream, n: usize) -> Vec<u16> {
    use tokio::io::AsyncReadExt;
    let mut got = Vec::new();
    let mut buf = [0u8; 8192];
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let text = String::from_utf8_lossy(&got).into_owned();
        let codes: Vec<u16> = text
            .match_indices("HTTP/1.1 ")
            .filter_map(|(i, _)| text.get(i + 9..i + 12)?.parse().ok())
            .collect();
        if codes.len() >= n {
            return codes;
        }
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => return codes,
            Ok(Ok(k)) => got.extend_from_slice(&buf[..k]),
        }
    }
}

// 9 and 10. A body the route does not read leaves the connection usable; a
// declared length over the limit is refused at once.
both_stores!(
    bodies_are_drained_or_refused_at_once,
    |app: TestApp| async move {
        use tokio::io::AsyncWriteExt;
        let t = app.tenant("acme", &[]).await;
        let (_, sk) = prod(&t);
        let a = admin(&app, &t);
        let tour = a
            .create(
                "tours",
                json!({"name": "T", "steps": [{"kind": "modal", "title": "a"}]}),
            )
            .await;
        for (method, path) in [
            ("GET", "/healthz".to_owned()),
            ("POST", format!("/v1/admin/tours/{tour}/duplicate")),
            ("DELETE", format!("/v1/admin/tours/{tour}")),
        ] {
            let mut s = tokio::net::TcpStream::connect(app.addr).await.unwrap();
            let body = "x".repeat(4000);
            let head = format!(
            "{method} {path} HTTP/1.1\r\nhost: t\r\nauthorization: Bearer {sk}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
            body.len()
        );
            s.write_all(head.as_bytes()).await.unwrap();
            s.write_all(&body.as_bytes()[..10]).await.unwrap();
            // The rest comes late, after the route could have answered.
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            s.write_all(&body.as_bytes()[10..]).await.unwrap();
            s.write_all(b"GET /healthz HTTP/1.1\r\nhost: t\r\n\r\n")
                .await
                .unwrap();
            let codes = statuses(&mut s, 2).await;
            assert_eq!(codes.len(), 2, "{method} {path}: {codes:?}");
            assert_eq!(codes[1], 200, "{method} {path}: {codes:?}");
        }
        // 50 MB declared, nothing sent: 413 at once, not a 30 s wait for a 503.
        let mut s = tokio::net::TcpStream::connect(app.addr).await.unwrap();
        let started = std::time::Instant::now();
        s.write_all(
        format!("POST /v1/admin/tours HTTP/1.1\r\nhost: t\r\nauthorization: Bearer {sk}\r\ncontent-type: application/json\r\ncontent-length: 50000000\r\n\r\n").as_bytes(),
    )
    .await
    .unwrap();
        let codes = statuses(&mut s, 1).await;
        assert_eq!(codes, vec![413]);
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }
);

// 8. Inviting reveals nothing about accounts (in any tenant) and makes no one
// a member: the invitee joins by accepting — signing in, or choosing a
// password when the address is new. A token is used once.
both_stores!(
    invitations_reveal_nothing_and_join_on_acceptance,
    |app: TestApp| async move {
        use spotlight_domain::Role;
        let a = app.tenant("A", &[]).await;
        let b = app.tenant("B", &[]).await;
        let pw = app.member(&a, "owner@a.test", Role::Owner).await;
        let owner = app.login("owner@a.test", &pw).await;
        let shared_pw = app.member(&b, "shared@b.test", Role::Editor).await;
        let invite = |email: &'static str| {
            let owner = &owner;
            let url = app.url("/v1/admin/members");
            async move {
                let r = owner
                    .client
                    .post(url)
                    .header("x-csrf-token", &owner.csrf)
                    .json(&json!({"email": email, "role": "viewer"}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 201);
                r.json::<Value>().await.unwrap()
            }
        };
        let existing = invite("shared@b.test").await;
        let fresh = invite("nobody@new.test").await;
        // The same answer either way: no account id, the same fields.
        let keys = |v: &Value| {
            let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
            k.extend(v["invitation"].as_object().unwrap().keys().cloned());
            k.sort();
            k
        };
        assert_eq!(keys(&existing), keys(&fresh));
        assert!(!existing.to_string().contains("account"), "{existing}");
        assert!(existing["accept_url"]
            .as_str()
            .unwrap()
            .starts_with("/app/accept#"));
        let members = |who: &'static str| {
            let owner = &owner;
            let url = app.url("/v1/admin/members");
            async move {
                let v: Value = owner
                    .client
                    .get(url)
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                v["items"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|m| m["email"] == who)
            }
        };
        assert!(
            !members("shared@b.test").await,
            "invited is not a member yet"
        );
        let listed: Value = owner
            .client
            .get(app.url("/v1/admin/invitations"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(listed["items"].as_array().unwrap().len(), 2);

        let accept = |token: Value, password: &'static str| {
            let (c, url) = (
                crate::helpers::client(),
                app.url("/v1/auth/invitations/accept"),
            );
            async move {
                c.post(url)
                    .json(&json!({"token": token, "password": password}))
                    .send()
                    .await
                    .unwrap()
            }
        };
        // An existing account must sign in: a wrong password is the login's answer.
        let (code, _, _) = error_code(
            accept(existing["token"].clone(), "wrong-password-123").await,
            401,
        )
        .await;
        assert_eq!(code, "invalid_credentials");
        let r = accept(
            existing["token"].clone(),
            Box::leak(shared_pw.into_boxed_str()),
        )
        .await;
        assert_eq!(r.status(), 200);
        assert!(r.headers().get("set-cookie").is_some());
        let me: Value = r.json().await.unwrap();
        assert_eq!(me["tenant"]["id"], a.tenant_id.to_string());
        assert_eq!(me["role"], "viewer");
        assert!(members("shared@b.test").await);
        // Used once.
        let (code, _, _) = error_code(
            accept(existing["token"].clone(), "whatever-123456").await,
            404,
        )
        .await;
        assert_eq!(code, "not_found");
        // A new address chooses a password (checked), then can log in.
        let (code, _, _) = error_code(accept(fresh["token"].clone(), "short").await, 422).await;
        assert_eq!(code, "validation_failed");
        assert_eq!(
            accept(fresh["token"].clone(), "a-fine-password-123")
                .await
                .status(),
            200
        );
        let joined = app.login("nobody@new.test", "a-fine-password-123").await;
        assert_eq!(joined.me["role"], "viewer");

        // Withdrawn: unusable; another tenant's owner cannot withdraw it (404).
        let third = invite("third@new.test").await;
        let id = third["invitation"]["id"].as_str().unwrap();
        let pw_b = app.member(&b, "owner@b.test", Role::Owner).await;
        let b_owner = app.login("owner@b.test", &pw_b).await;
        let r = b_owner
            .client
            .delete(app.url(&format!("/v1/admin/invitations/{id}")))
            .header("x-csrf-token", &b_owner.csrf)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404);
        let r = owner
            .client
            .delete(app.url(&format!("/v1/admin/invitations/{id}")))
            .header("x-csrf-token", &owner.csrf)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 204);
        let (code, _, _) = error_code(
            accept(third["token"].clone(), "a-fine-password-123").await,
            404,
        )
        .await;
        assert_eq!(code, "not_found");
    }
);

// 13. Answers hyper writes by itself (a request it cannot parse) carry the
// security headers too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unparseable_requests_get_security_headers() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = TestApp::spawn(Db::Sqlite).await;
    for raw in [
        "NOT A REQUEST\r\n\r\n".to_owned(),
        format!("GET /{} HTTP/1.1\r\nhost: t\r\n\r\n", "x".repeat(70_000)),
        format!(
            "GET / HTTP/1.1\r\nhost: t\r\nx-big: {}\r\n\r\n",
            "y".repeat(500_000)
        ),
    ] {
        let mut s = tokio::net::TcpStream::connect(app.addr).await.unwrap();
        let _ = s.write_all(raw.as_bytes()).await;
        let mut got = Vec::new();
        let _ =
            tokio::time::timeout(std::time::Duration::from_secs(5), s.read_to_end(&mut got)).await;
        let text = String::from_utf8_lossy(&got).to_ascii_lowercase();
        assert!(text.starts_with("http/1.1 4"), "{}: {text}", &raw[..20]);
        assert!(text.contains("x-content-type-options: nosniff"), "{text}");
        assert!(
            text.contains("content-security-policy: default-src 'none'"),
            "{text}"
        );
    }
    // The pipeline's own answers are not touched (no header twice).
    let r = app.anon().get("/v1/nothing").await;
    assert_eq!(
        r.headers().get_all("x-content-type-options").iter().count(),
        1
    );
}

// Found by a probe after the sweep: extreme analytics times overflowed the
// range arithmetic (a panic, 500). Times are bounded; ranges never overflow.
both_stores!(
    extreme_analytics_times_are_refused,
    |app: TestApp| async move {
        let t = app.tenant("acme", &[]).await;
        let (_, sk) = prod(&t);
        for q in [
            "from=0&to=9223372036854775807",
            "from=-9223372036854775808",
            "from=-1&to=5",
            "to=10000-01-01",
        ] {
            let r = app
                .admin(sk)
                .get(&format!("/v1/admin/analytics/overview?{q}"))
                .await;
            let (code, _, _) = error_code(r, 422).await;
            assert_eq!(code, "validation_failed", "{q}");
        }
        let r = app
            .admin(sk)
            .get("/v1/admin/analytics/overview?from=1970-01-01&to=1970-01-02")
            .await;
        assert_eq!(r.status(), 200);
    }
);
