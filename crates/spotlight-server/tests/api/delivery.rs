//! `GET /v1/sdk/config`: targeting, locales, themes, progress, experiments,
//! preview, ETag/304, kill switches, bad input and rate limits.

use crate::both_stores;
use crate::helpers::{admin, config, config_json, error_code, prod, urlencode, TestApp};
use serde_json::{json, Value};
use spotlight_domain::delivery::Progress;

fn ids(v: &Value, list: &str) -> Vec<String> {
    v[list]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect()
}

fn step(title: &str) -> Value {
    json!({"kind": "modal", "title": title, "body": "<p>Hi</p>"})
}

both_stores!(
    targets_by_page_audience_events_and_progress,
    |app: TestApp| async move {
        let t = app.tenant("acme", &["https://app.acme.test"]).await;
        let (pk, _) = prod(&t);
        let a = admin(&app, &t);
        let pro = a
            .create(
                "audiences",
                json!({"name": "Pro", "rule": "plan in [\"pro\", \"team\"]"}),
            )
            .await;
        let theme = a
            .create(
                "themes",
                json!({"name": "Dark", "tokens": {"primary": "#112233"}}),
            )
            .await;
        let everywhere = a
            .publish(
                "tours",
                json!({"name": "Everywhere", "steps": [step("A")], "priority": 1}),
            )
            .await;
        let settings_only = a
            .publish(
                "tours",
                json!({"name": "Settings", "steps": [step("B")], "priority": 5,
                   "pages": [{"match": "glob", "pattern": "/app/*/settings"}]}),
            )
            .await;
        let pros = a
            .publish(
                "tours",
                json!({"name": "Pros", "steps": [step("C")], "audience_id": pro, "theme_id": theme,
                   "locales": {"fr": [{"title": "Cé"}]}}),
            )
            .await;
        let exporters = a
        .publish(
            "tours",
            json!({"name": "Exporters", "steps": [step("D")], "audience": "event(\"export\") >= 2",
                   "frequency": {"type": "until_completed"}}),
        )
        .await;
        let _draft_only = a
            .create("tours", json!({"name": "Draft", "steps": [step("E")]}))
            .await;
        let banner = a
            .publish(
                "content",
                json!({"name": "News", "type": "banner", "position": "top", "title": "New!",
                   "pages": [{"match": "exact", "pattern": "/home"}]}),
            )
            .await;

        // An anonymous visitor on a settings page.
        let v = config_json(&app, pk, "url=https://app.acme.test/app/42/settings").await;
        assert_eq!(v["enabled"], true);
        assert!(v["user"]["id"].as_str().unwrap().starts_with("anon-"));
        assert_eq!(v["user"]["anonymous"], true);
        assert_eq!(
            ids(&v, "tours"),
            [settings_only.clone(), everywhere.clone()],
            "priority order"
        );
        assert!(ids(&v, "content").is_empty());
        // Targeting stays on the server.
        let doc = &v["tours"][0]["document"];
        assert!(
            doc.get("audience").is_none() && doc.get("schedule").is_none(),
            "{doc}"
        );

        // A pro user (attributes sent once, remembered after) in French on /home.
        let q = format!(
            "user_id=u-pro&url=/home&locale=fr-CA&attributes={}",
            urlencode(&json!({"plan": "pro"}).to_string())
        );
        let v = config_json(&app, pk, &q).await;
        let tours = ids(&v, "tours");
        assert!(
            tours.contains(&pros) && !tours.contains(&settings_only),
            "{tours:?}"
        );
        assert_eq!(ids(&v, "content"), std::slice::from_ref(&banner));
        let pro_tour = v["tours"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["id"] == pros.as_str())
            .unwrap();
        assert_eq!(
            pro_tour["document"]["steps"][0]["title"], "Cé",
            "fr-CA falls back to fr"
        );
        assert_eq!(v["themes"][&theme]["tokens"]["primary"], "#112233");
        // Known now: the stored attributes keep matching without being sent again.
        app.state
            .profiles
            .flush(std::time::Duration::from_secs(5))
            .await;
        let v = config_json(&app, pk, "user_id=u-pro&url=/home").await;
        assert!(ids(&v, "tours").contains(&pros));
        let env = t.environments["production"].environment_id;
        let profile = app
            .store()
            .end_user(t.tenant_id, env, "u-pro")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(profile.state.attributes["plan"], "pro");

        // Event counts and progress, as event ingest records them.
        app.store()
            .add_event_counts(t.tenant_id, env, "u-ex", &[("export", 3)])
            .await
            .unwrap();
        let v = config_json(&app, pk, "user_id=u-ex&url=/x").await;
        assert!(ids(&v, "tours").contains(&exporters));
        app.store()
            .set_progress(
                t.tenant_id,
                env,
                "u-ex",
                &exporters,
                &Progress {
                    times_shown: 1,
                    completed: true,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        app.store()
            .set_progress(
                t.tenant_id,
                env,
                "u-ex",
                &everywhere,
                &Progress {
                    times_shown: 1,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        app.state
            .caches
            .users
            .forget(&(env, "u-ex".to_owned()))
            .await;
        let v = config_json(&app, pk, "user_id=u-ex&url=/x").await;
        let tours = ids(&v, "tours");
        assert!(!tours.contains(&exporters), "completed: {tours:?}");
        assert!(
            !tours.contains(&everywhere),
            "shown once already: {tours:?}"
        );
        assert_eq!(v["progress"][&exporters]["completed"], true);
        assert_eq!(v["progress"][&everywhere]["times_shown"], 1);
        // The team sees the same through the admin API.
        let u = a.get("/v1/admin/users/u-ex?environment=production").await;
        assert_eq!(u.status(), 200);
        let u: Value = u.json().await.unwrap();
        assert_eq!(u["progress"][&exporters]["completed"], true);
        assert_eq!(u["event_counts"]["export"], 3);
        let r = a.get("/v1/admin/users/nobody").await;
        assert_eq!(error_code(r, 404).await.0, "not_found");
    }
);

both_stores!(
    etag_kill_switches_rollback_and_preview,
    |app: TestApp| async move {
        let t = app.tenant("acme", &[]).await;
        let (pk, _) = prod(&t);
        let a = admin(&app, &t);
        let tour = a
            .publish("tours", json!({"name": "T", "steps": [step("v1")]}))
            .await;
        let q = "user_id=u1&url=/";
        let r = config(&app, pk, q).await;
        assert_eq!(r.status(), 200);
        let etag = r.headers()["etag"].to_str().unwrap().to_owned();
        assert!(
            etag.starts_with('"') && !etag.starts_with("W/"),
            "strong: {etag}"
        );
        assert_eq!(r.headers()["cache-control"], "private, max-age=10");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["tours"][0]["version"], 1);
        let revalidate = |etag: String| {
            let app = &app;
            async move {
                app.anon()
                    .get(&format!("/v1/sdk/config?{q}"))
                    .header("x-spotlight-key", pk)
                    .header("if-none-match", etag)
                    .await
            }
        };
        let r = revalidate(etag.clone()).await;
        assert_eq!(r.status(), 304);
        assert_eq!(r.headers()["etag"].to_str().unwrap(), etag);
        assert!(r.text().await.unwrap().is_empty());

        // A new version changes the tag at once (the change invalidates the cache).
        a.send(
            reqwest::Method::PUT,
            &format!("/v1/admin/tours/{tour}"),
            json!({"name": "T", "steps": [step("v2")]}),
        )
        .await;
        a.send(
            reqwest::Method::POST,
            &format!("/v1/admin/tours/{tour}/publish"),
            json!({"environment": "production"}),
        )
        .await;
        let r = revalidate(etag.clone()).await;
        assert_eq!(r.status(), 200);
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["tours"][0]["version"], 2);
        assert_eq!(v["tours"][0]["document"]["steps"][0]["title"], "v2");

        // Rollback.
        a.send(
            reqwest::Method::POST,
            &format!("/v1/admin/tours/{tour}/rollback"),
            json!({"environment": "production", "version": 1}),
        )
        .await;
        let v = config_json(&app, pk, q).await;
        assert_eq!(v["tours"][0]["version"], 1);

        // Per-tour kill switch, then the tenant's.
        a.send(
            reqwest::Method::POST,
            &format!("/v1/admin/tours/{tour}/kill-switch"),
            json!({"enabled": true}),
        )
        .await;
        assert!(ids(&config_json(&app, pk, q).await, "tours").is_empty());
        a.send(
            reqwest::Method::POST,
            &format!("/v1/admin/tours/{tour}/kill-switch"),
            json!({"enabled": false}),
        )
        .await;
        assert_eq!(
            ids(&config_json(&app, pk, q).await, "tours"),
            std::slice::from_ref(&tour)
        );
        a.settings(json!({"kill_switch": true})).await;
        let v = config_json(&app, pk, q).await;
        assert_eq!(v["enabled"], false);
        assert!(ids(&v, "tours").is_empty());
        a.settings(json!({"kill_switch": false})).await;

        // Drafts: only an in-app admin asking for a preview sees them.
        let draft = a
            .create("tours", json!({"name": "Draft", "steps": [step("d")]}))
            .await;
        a.settings(json!({"admin_detection": {"strategy": "table", "user_ids": ["boss"]}}))
            .await;
        let v = config_json(&app, pk, "user_id=boss&url=/&preview=true").await;
        assert_eq!(v["user"]["is_admin"], true);
        assert_eq!(v["preview"], true);
        assert!(ids(&v, "tours").contains(&draft));
        let v = config_json(&app, pk, "user_id=u1&url=/&preview=true").await;
        assert_eq!(v["user"]["is_admin"], false);
        assert_eq!(v["preview"], false);
        assert!(!ids(&v, "tours").contains(&draft));
    }
);

both_stores!(
    experiments_split_users_deterministically,
    |app: TestApp| async move {
        let t = app.tenant("acme", &[]).await;
        let (pk, _) = prod(&t);
        let a = admin(&app, &t);
        let tour = a
            .publish(
                "tours",
                json!({"name": "AB", "steps": [step("x")], "frequency": {"type": "every_session"},
                   "experiment": {"goal_event": "upgraded", "arms": [
                       {"name": "control", "weight": 1, "holdout": true},
                       {"name": "treatment", "weight": 1}]}}),
            )
            .await;
        let (mut shown, mut held) = (0, 0);
        for u in 0..40 {
            let q = format!("user_id=user-{u}&url=/");
            let v = config_json(&app, pk, &q).await;
            let again = config_json(&app, pk, &q).await;
            assert_eq!(v["experiments"], again["experiments"], "stable per user");
            let x = &v["experiments"][0];
            assert_eq!(x["object_id"], tour.as_str());
            assert_eq!(x["goal_event"], "upgraded");
            if x["holdout"] == true {
                held += 1;
                assert!(ids(&v, "tours").is_empty(), "hold-out sees nothing");
            } else {
                shown += 1;
                assert_eq!(v["tours"][0]["arm"], "treatment");
            }
        }
        assert!(shown > 5 && held > 5, "{shown} shown, {held} held out");
    }
);

both_stores!(bad_input_is_a_clear_4xx, |app: TestApp| async move {
    let t = app.tenant("acme", &["https://app.acme.test"]).await;
    let (pk, _) = prod(&t);
    let cases: Vec<(String, u16, &str)> = vec![
        ("url=javascript:alert(1)".into(), 422, "url"),
        ("url=not%20a%20url".into(), 422, "url"),
        (format!("url=/{}", "a".repeat(3000)), 422, "url"),
        ("url=/&locale=%3Cscript%3E".into(), 422, "locale"),
        ("url=/&user_id=anon-42".into(), 422, "user_id"),
        ("url=/&user_id=".into(), 422, "user_id"),
        ("url=/&attributes=%5B1%5D".into(), 422, "attributes"),
        (
            "url=/&attributes=%7B%22a%22%3A%7B%22deep%22%3A1%7D%7D".into(),
            422,
            "attributes",
        ),
        (
            format!(
                "url=/&attributes={}",
                urlencode(&json!({"big": "x".repeat(20_000)}).to_string())
            ),
            422,
            "attributes",
        ),
    ];
    for (q, status, field) in cases {
        let (code, body, _) = error_code(config(&app, pk, &q).await, status).await;
        assert_eq!(code, "validation_failed", "{q}");
        assert_eq!(body["error"]["details"]["fields"][0]["path"], field, "{q}");
    }
    // 100 KB of attributes does not fit in a URL at all (clients refuse to send
    // it, so write the request by hand).
    let huge = urlencode(&json!({"big": "x".repeat(100_000)}).to_string());
    let status = raw_get(&app, &format!("/v1/sdk/config?url=/&attributes={huge}"), pk).await;
    assert!((400..500).contains(&status), "{status}");
    // A well-formed locale without a variant falls back to the default text.
    assert_eq!(config(&app, pk, "url=/&locale=zz-ZZ").await.status(), 200);
    // Keys and origins.
    let r = app.anon().get("/v1/sdk/config?url=/").await;
    assert_eq!(error_code(r, 401).await.0, "unauthenticated");
    let r = config(&app, "pk_live_garbage", "url=/").await;
    assert_eq!(error_code(r, 401).await.0, "unauthenticated");
    let r = app
        .sdk(pk, "https://evil.test")
        .get("/v1/sdk/config?url=/")
        .await;
    assert_eq!(error_code(r, 403).await.0, "origin_not_allowed");
    let r = app
        .sdk(pk, "https://app.acme.test")
        .get("/v1/sdk/config?url=/")
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["access-control-allow-origin"],
        "https://app.acme.test"
    );
    // Revoked: refused at once on this node, whatever was cached.
    let key_id = app
        .store()
        .key_by_hash(
            &spotlight_domain::PlainKey::parse(spotlight_domain::KeyKind::Publishable, pk)
                .unwrap()
                .hash(),
        )
        .await
        .unwrap()
        .unwrap()
        .key
        .id;
    admin(&app, &t)
        .send(
            reqwest::Method::POST,
            &format!("/v1/admin/keys/{key_id}/revoke"),
            json!({}),
        )
        .await;
    let r = config(&app, pk, "url=/").await;
    assert_eq!(error_code(r, 401).await.0, "unauthenticated");
});

both_stores!(
    rate_limits_answer_429_with_retry_after,
    |app: TestApp| async move {
        let t = app.tenant("acme", &[]).await;
        let other = app.tenant("other", &[]).await;
        let (pk, _) = prod(&t);
        let a = admin(&app, &t);
        a.settings(json!({"rate_limits": {"sdk_per_minute": 5, "admin_per_minute": 5}}))
            .await;
        let mut statuses = vec![];
        for _ in 0..7 {
            statuses.push(config(&app, pk, "url=/").await.status().as_u16());
        }
        assert_eq!(statuses, [200, 200, 200, 200, 200, 429, 429]);
        let r = config(&app, pk, "url=/").await;
        let retry: u64 = r.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=60).contains(&retry), "{retry}");
        assert_eq!(error_code(r, 429).await.0, "rate_limited");
        // Another tenant is not affected.
        assert_eq!(config(&app, prod(&other).0, "url=/").await.status(), 200);
        // The admin API: per key (the settings call above used one of 5).
        let mut statuses = vec![];
        for _ in 0..6 {
            let r = a.get("/v1/admin/tours").await;
            statuses.push(r.status().as_u16());
        }
        assert_eq!(statuses, [200, 200, 200, 200, 200, 429]);
        let metrics = app.metrics().await;
        assert!(
            metrics.contains("spotlight_rate_limited_requests_total{scope=\"sdk\"}"),
            "{metrics}"
        );
        assert!(metrics.contains("spotlight_cache_lookups_total{cache=\"keys\",result=\"hit\"}"));
    }
);

/// A GET written on a plain socket; answers the status code.
async fn raw_get(app: &TestApp, path: &str, key: &str) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    let req = format!(
        "GET {path} HTTP/1.1\r\nhost: x\r\nx-spotlight-key: {key}\r\nconnection: close\r\n\r\n"
    );
    let _ = s.write_all(req.as_bytes()).await;
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf).await;
    let text = String::from_utf8_lossy(&buf);
    text.split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

/// The database goes away: users whose data is cached keep getting their
/// config (stale-if-error, bounded), a user never seen gets a clear 503, and
/// service resumes when the database returns.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_outage_serves_cached_users() {
    use secrecy::ExposeSecret;
    use spotlight_domain::{Clock, ManualClock, SystemClock};
    if !crate::helpers::postgres_available() {
        return;
    }
    let clock = ManualClock::new(SystemClock.now());
    let app = TestApp::spawn_with_clock(
        crate::helpers::Db::Postgres,
        std::sync::Arc::new(clock.clone()),
    )
    .await;
    let t = app.tenant("acme", &[]).await;
    let (pk, _) = prod(&t);
    let tour = admin(&app, &t)
        .publish(
            "tours",
            json!({"name": "T", "steps": [step("x")], "frequency": {"type": "every_session"}}),
        )
        .await;
    assert_eq!(
        ids(&config_json(&app, pk, "user_id=u1&url=/").await, "tours"),
        std::slice::from_ref(&tour)
    );
    app.state
        .profiles
        .flush(std::time::Duration::from_secs(5))
        .await;

    let url = app
        .state
        .config
        .store
        .database_url
        .expose_secret()
        .to_owned();
    let (base, name) = url.rsplit_once('/').unwrap();
    let (base, name) = (format!("{base}/postgres"), name.to_owned());
    let dba = spotlight_store::Store::connect(
        &base,
        &Default::default(),
        std::sync::Arc::new(SystemClock),
    )
    .await
    .unwrap();
    let cut = |allow: bool| {
        let (dba, name) = (&dba, name.clone());
        async move {
            dba.execute_for_tests(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS {allow}"))
                .await
                .unwrap();
            if !allow {
                dba.execute_for_tests(&format!(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}' AND pid <> pg_backend_pid()"
                )).await.unwrap();
            }
        }
    };
    cut(false).await;
    clock.advance_secs(120); // past every cache's freshness
    let v = config_json(&app, pk, "user_id=u1&url=/").await;
    assert_eq!(
        ids(&v, "tours"),
        std::slice::from_ref(&tour),
        "served from the caches"
    );
    let r = config(&app, pk, "user_id=never-seen&url=/").await;
    assert_eq!(error_code(r, 503).await.0, "unavailable");
    // The first answers come while background refreshes are tried; once they
    // have failed, answers are counted as served stale.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let v = config_json(&app, pk, "user_id=u1&url=/").await;
        assert_eq!(ids(&v, "tours"), std::slice::from_ref(&tour));
        let m = app.metrics().await;
        if m.contains("spotlight_cache_lookups_total{cache=\"keys\",result=\"stale\"}") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never counted as stale: {m}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }

    cut(true).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        clock.advance_secs(2);
        if config(&app, pk, "user_id=never-seen&url=/").await.status() == 200 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "did not recover");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// How many profile writes this node has made, once `user`'s profile is in
/// the store (writes are applied in order, so everything queued before is too).
async fn profile_writes_after(app: &TestApp, sk: &str, user: &str) -> u64 {
    for _ in 0..200 {
        let r = app.admin(sk).get(&format!("/v1/admin/users/{user}")).await;
        if r.status() == 200 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let metrics = app.metrics().await;
    metrics
        .lines()
        .find_map(|l| {
            l.strip_prefix(r#"spotlight_end_user_profile_writes_total{result="written"} "#)
        })
        .map_or(0, |n| n.trim().parse().unwrap())
}

both_stores!(
    profiles_are_written_when_new_or_changed_not_per_request,
    |app: TestApp| async move {
        let t = app.tenant("acme", &[]).await;
        let (pk, sk) = prod(&t);
        let attrs = "attributes=%7B%22plan%22%3A%22pro%22%7D";
        config_json(&app, pk, &format!("user_id=u1&url=/&{attrs}")).await;
        assert_eq!(profile_writes_after(&app, sk, "u1").await, 1);
        // The same user again, unchanged: no write.
        config_json(&app, pk, &format!("user_id=u1&url=/a&{attrs}")).await;
        config_json(&app, pk, "user_id=u1&url=/b").await;
        config_json(&app, pk, "user_id=u2&url=/").await;
        assert_eq!(profile_writes_after(&app, sk, "u2").await, 2);

        // Another node knows from the store that u1 was seen moments ago.
        let peer = app.spawn_peer().await;
        config_json(&peer, pk, "user_id=u1&url=/").await;
        config_json(&peer, pk, "user_id=u3&url=/").await;
        assert_eq!(
            profile_writes_after(&peer, sk, "u3").await,
            1,
            "only u3 is written"
        );

        // Changed attributes are written at once.
        config_json(
            &app,
            pk,
            "user_id=u1&url=/&attributes=%7B%22plan%22%3A%22team%22%7D",
        )
        .await;
        config_json(&app, pk, "user_id=u4&url=/").await;
        assert_eq!(profile_writes_after(&app, sk, "u4").await, 4);
        let r = app.admin(sk).get("/v1/admin/users/u1").await;
        let user: Value = r.json().await.unwrap();
        assert_eq!(user["attributes"]["plan"], "team", "{user}");
    }
);
