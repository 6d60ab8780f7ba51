//! End users' data from the tenant's backend and out to the person:
//! `PUT /v1/admin/users/{id}` (attributes), `POST /v1/admin/events` (track),
//! and `GET /v1/admin/users/{id}/export`, which gathers everything stored
//! about one person, in every environment, and nothing about anyone else.

use crate::both_stores;
use crate::events::post_ok;
use crate::helpers::{admin, at, config_json, error_code, prod, TestApp};
use serde_json::{json, Value};

/// An event a second ago.
fn event(name: &str, user: &str, props: Value) -> Value {
    let now = time::OffsetDateTime::now_utc().unix_timestamp() * 1000;
    at(name, user, now - 1_000, props)
}

both_stores!(
    an_export_holds_everything_about_the_person_and_nothing_else,
    |app: TestApp| async move {
        let t = app.tenant("acme", &[]).await;
        let (pk, sk) = prod(&t);
        let a = admin(&app, &t);
        let tour = a
            .publish(
                "tours",
                json!({"name": "Onboarding", "steps": [
                    {"kind": "modal", "title": "Welcome"},
                    {"kind": "survey", "title": "Rate us", "survey": {"type": "nps", "question": "Recommend us?"}}
                ], "experiment": {"arms": [{"name": "control", "weight": 1}, {"name": "a", "weight": 1}], "goal_event": "export"}}),
            )
            .await;
        // A webhook, so ingest writes deliveries that carry the events.
        let r = app
            .admin(sk)
            .post("/v1/admin/webhooks")
            .json(&json!({"url": "http://127.0.0.1:9/hook", "environment": "production"}))
            .await;
        assert_eq!(r.status(), 201);
        // A profile with attributes, written behind the config request.
        config_json(
            &app,
            pk,
            "user_id=u-1&url=/&attributes=%7B%22plan%22%3A%22pro%22%7D",
        )
        .await;
        app.state
            .profiles
            .flush(std::time::Duration::from_secs(5))
            .await;
        let tid = json!({"tour_id": tour});
        let mine = [
            event(
                "experiment_exposed",
                "u-1",
                json!({"object_id": tour, "arm": "a"}),
            ),
            event("tour_started", "u-1", tid.clone()),
            event(
                "survey_answered",
                "u-1",
                json!({"tour_id": tour, "step": 1, "score": 9}),
            ),
            event("export", "u-1", json!({"format": "csv"})),
        ];
        // Someone else, and an id that differs only in case.
        let theirs = [
            event("tour_started", "u-2", tid.clone()),
            event("export", "U-1", json!({})),
        ];
        let all: Vec<Value> = mine.iter().chain(&theirs).cloned().collect();
        post_ok(&app, pk, &json!({ "events": all })).await;

        let export = a.get_json("/v1/admin/users/u-1/export").await;
        assert_eq!(export["user_id"], "u-1");
        let envs = export["environments"].as_object().unwrap();
        assert_eq!(envs.keys().collect::<Vec<_>>(), ["production"], "{export}");
        let p = &export["environments"]["production"];
        assert_eq!(p["profile"]["attributes"]["plan"], "pro");
        let ids = |list: &Value| -> Vec<String> {
            list.as_array()
                .unwrap()
                .iter()
                .map(|e| e["event_id"].as_str().unwrap().to_owned())
                .collect()
        };
        let mut expected: Vec<String> = mine
            .iter()
            .map(|e| e["event_id"].as_str().unwrap().to_owned())
            .collect();
        let mut got = ids(&p["events"]);
        expected.sort();
        got.sort();
        assert_eq!(got, expected, "exactly the person's events");
        assert_eq!(p["survey_answers"].as_array().unwrap().len(), 1);
        assert_eq!(p["survey_answers"][0]["properties"]["score"], 9);
        assert_eq!(p["event_counts"]["export"], 1);
        assert_eq!(
            p["progress"][&tour]["times_shown"], 1,
            "the tour it started"
        );
        assert_eq!(p["experiments"][0]["arm"], "a");
        let deliveries = p["deliveries"].as_array().unwrap();
        assert_eq!(deliveries.len(), 1, "{p}");
        assert_eq!(
            deliveries[0]["events"], 4,
            "the other two events are not the person's"
        );

        // Audited, by a digest of the id rather than the id.
        let audit = a.get_json("/v1/admin/audit?action=user.export").await;
        let entry = &audit["items"][0];
        assert!(
            entry["object_id"].as_str().unwrap().starts_with("sha256:"),
            "{entry}"
        );
        assert!(!audit.to_string().contains("u-1"), "{audit}");

        // Nobody stored, an invalid id, another tenant's person: 404.
        for path in [
            "/v1/admin/users/nobody/export",
            "/v1/admin/users/anon-nope/export",
        ] {
            let (code, _, _) = error_code(a.get(path).await, 404).await;
            assert_eq!(code, "not_found");
        }
        let other = app.tenant("globex", &[]).await;
        let r = admin(&app, &other).get("/v1/admin/users/u-1/export").await;
        error_code(r, 404).await;
    }
);

both_stores!(
    the_backend_sets_attributes_that_targeting_reads,
    |app: TestApp| async move {
        let t = app.tenant("acme", &[]).await;
        let (pk, sk) = prod(&t);
        let a = admin(&app, &t);
        a.publish(
            "tours",
            json!({"name": "Team tour", "steps": [{"kind": "modal", "title": "Hi"}], "audience": "plan = \"team\" and seats > 10"}),
        )
        .await;
        let put = |body: Value| {
            app.admin(sk)
                .request(reqwest::Method::PUT, "/v1/admin/users/u-9")
                .json(&body)
        };

        // A user never seen: the profile is created, the types kept.
        let r = put(
            json!({"attributes": {"plan": "team", "seats": 12, "beta": true, "tags": ["a", "b"]}}),
        )
        .await;
        assert_eq!(r.status(), 200);
        let v: Value = r.json().await.unwrap();
        assert_eq!(
            v["attributes"],
            json!({"plan": "team", "seats": 12, "beta": true, "tags": ["a", "b"]})
        );
        let config = config_json(&app, pk, "user_id=u-9&url=/").await;
        assert_eq!(config["tours"].as_array().unwrap().len(), 1, "{config}");

        // Merged: null removes, the rest stays.
        let v: Value = put(json!({"attributes": {"beta": null, "seats": 3}}))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(
            v["attributes"],
            json!({"plan": "team", "seats": 3, "tags": ["a", "b"]})
        );
        let config = config_json(&app, pk, "user_id=u-9&url=/").await;
        assert_eq!(
            config["tours"].as_array().unwrap().len(),
            0,
            "seats is 3 now"
        );

        // The latest write wins: the SDK's, then the backend's again.
        config_json(
            &app,
            pk,
            "user_id=u-9&url=/&attributes=%7B%22seats%22%3A40%7D",
        )
        .await;
        app.state
            .profiles
            .flush(std::time::Duration::from_secs(5))
            .await;
        let v = a.get_json("/v1/admin/users/u-9").await;
        assert_eq!(v["attributes"]["seats"], 40);
        put(json!({"attributes": {"seats": 5}})).await;
        let v = a.get_json("/v1/admin/users/u-9").await;
        assert_eq!(v["attributes"]["seats"], 5);

        // Audited by a digest of the id.
        let audit = a.get_json("/v1/admin/audit?action=user.attributes").await;
        assert_eq!(audit["items"].as_array().unwrap().len(), 3);
        assert!(!audit["items"][0]["object_id"]
            .as_str()
            .unwrap()
            .contains("u-9"));

        // Bad input: 422 naming the field, nothing written.
        let too_many: serde_json::Map<String, Value> =
            (0..99).map(|i| (format!("a{i}"), json!(i))).collect();
        for (body, field) in [
            (json!({"attributes": {"x": {"nested": 1}}}), "attributes"),
            (json!({"attributes": too_many}), "attributes"),
            (json!({"attrs": {}}), ""),
        ] {
            let r = put(body).await;
            let (code, err, _) = error_code(r, 422).await;
            assert_eq!(code, "validation_failed");
            if !field.is_empty() {
                assert_eq!(err["error"]["details"]["fields"][0]["path"], field, "{err}");
            }
        }
        let v = a.get_json("/v1/admin/users/u-9").await;
        assert_eq!(
            v["attributes"],
            json!({"plan": "team", "seats": 5, "tags": ["a", "b"]})
        );
        let r = app
            .admin(sk)
            .request(reqwest::Method::PUT, "/v1/admin/users/anon-nope")
            .json(&json!({"attributes": {}}))
            .await;
        let (_, err, _) = error_code(r, 422).await;
        assert_eq!(err["error"]["details"]["fields"][0]["path"], "user_id");
        let r = app
            .admin(sk)
            .request(reqwest::Method::PUT, "/v1/admin/users/u-9?environment=nope")
            .json(&json!({"attributes": {}}))
            .await;
        error_code(r, 422).await;
    }
);

both_stores!(
    the_backend_tracks_events_with_the_sdks_schema_and_idempotency,
    |app: TestApp| async move {
        let t = app.tenant("acme", &[]).await;
        let (pk, sk) = prod(&t);
        let a = admin(&app, &t);
        let tour = a
            .publish(
                "tours",
                json!({"name": "Tour", "steps": [{"kind": "modal", "title": "Hi"}]}),
            )
            .await;
        let batch = json!({"user_id": "u-5", "events": [
            event("tour_started", "u-5", json!({"tour_id": tour})),
            event("export", "u-5", json!({"rows": 10})),
            event("tour_started", "u-5", json!({"tour_id": uuid::Uuid::now_v7().to_string()})),
        ]});
        let track = |body: &Value| app.admin(sk).post("/v1/admin/events").json(body);
        let r = track(&batch).await;
        assert_eq!(r.status(), 202);
        let v: Value = r.json().await.unwrap();
        assert_eq!(
            (v["accepted"].as_u64(), v["duplicates"].as_u64()),
            (Some(2), Some(0)),
            "{v}"
        );
        assert_eq!(v["rejected"][0]["index"], 2);
        assert_eq!(v["rejected"][0]["code"], "unknown_object");
        // Resent: stored once.
        let v: Value = track(&batch).await.json().await.unwrap();
        assert_eq!(
            (v["accepted"].as_u64(), v["duplicates"].as_u64()),
            (Some(0), Some(2))
        );
        let u = a.get_json("/v1/admin/users/u-5").await;
        assert_eq!(u["event_counts"]["export"], 1);
        assert_eq!(u["progress"][&tour]["times_shown"], 1);

        // Every event refused: 422 naming each; an unknown environment: 422;
        // a publishable key is no secret key: 401.
        let bad = json!({"events": [event("tour_started", "u-5", json!({}))]});
        let (code, _, _) = error_code(track(&bad).await, 422).await;
        assert_eq!(code, "validation_failed");
        let r = app
            .admin(sk)
            .post("/v1/admin/events?environment=nope")
            .json(&batch)
            .await;
        error_code(r, 422).await;
        let r = app.admin(pk).post("/v1/admin/events").json(&batch).await;
        error_code(r, 401).await;
    }
);

/// `DELETE /v1/admin/users/{id}` as a caller sends it.
async fn erase(app: &TestApp, sk: &str, user: &str) -> reqwest::Response {
    app.admin(sk)
        .request(reqwest::Method::DELETE, &format!("/v1/admin/users/{user}"))
        .await
}

both_stores!(
    an_erasure_removes_the_person_and_keeps_the_counts,
    |app: TestApp| async move {
        let t = app.tenant("acme", &[]).await;
        let (pk, sk) = prod(&t);
        let a = admin(&app, &t);
        let tour = a
            .publish(
                "tours",
                json!({"name": "Onboarding", "steps": [
                    {"kind": "modal", "title": "Welcome"},
                    {"kind": "survey", "title": "Rate us", "survey": {"type": "nps", "question": "Recommend us?"}}
                ], "experiment": {"arms": [{"name": "control", "weight": 1}, {"name": "a", "weight": 1}], "goal_event": "export"}}),
            )
            .await;
        // A webhook that never answers: its deliveries stay pending, carrying events.
        let r = app
            .admin(sk)
            .post("/v1/admin/webhooks")
            .json(&json!({"url": "http://127.0.0.1:9/hook", "environment": "production"}))
            .await;
        assert_eq!(r.status(), 201);
        config_json(
            &app,
            pk,
            "user_id=u-1&url=/&attributes=%7B%22plan%22%3A%22pro%22%7D",
        )
        .await;
        app.state
            .profiles
            .flush(std::time::Duration::from_secs(5))
            .await;
        // The backend wrote an attribute: the audit entry keeps it, until the erasure.
        let r = app
            .admin(sk)
            .request(reqwest::Method::PUT, "/v1/admin/users/u-1")
            .json(&json!({"attributes": {"email": "ann@example.com"}}))
            .await;
        assert_eq!(r.status(), 200);
        let tid = json!({"tour_id": tour});
        let events = [
            event(
                "experiment_exposed",
                "u-1",
                json!({"object_id": tour, "arm": "a"}),
            ),
            event("tour_started", "u-1", tid.clone()),
            event(
                "survey_answered",
                "u-1",
                json!({"tour_id": tour, "step": 1, "score": 9}),
            ),
            event("export", "u-1", json!({"format": "csv"})),
            // Someone else, in the same deliveries.
            event("tour_started", "u-2", tid.clone()),
        ];
        post_ok(&app, pk, &json!({ "events": events })).await;
        let analytics = format!("/v1/admin/analytics/tours/{tour}");
        let before = a.get_json(&analytics).await;
        let overview = a.get_json("/v1/admin/analytics/overview").await;

        let r = erase(&app, sk, "u-1").await;
        assert_eq!(r.status(), 200);
        let report: Value = r.json().await.unwrap();
        let p = &report["environments"]["production"];
        assert_eq!(p["profile"], true, "{report}");
        assert_eq!(p["events"], 4);
        assert_eq!(p["deliveries_scrubbed"], 1);
        assert_eq!(p["sinks_notified"], 1);
        assert!(p["pseudonymised"].as_u64().unwrap() >= 3, "{report}");
        assert_eq!(
            report["environments"].as_object().unwrap().len(),
            1,
            "staging held nothing of theirs: {report}"
        );

        // Nothing of theirs is left but the notice to the sink.
        let (_, _, _) = error_code(a.get("/v1/admin/users/u-1").await, 404).await;
        let store = app.store();
        let env = t.environments["production"].environment_id;
        let left = store.user_records(t.tenant_id, env, "u-1").await.unwrap();
        assert!(left.profile.is_none() && left.events.is_empty() && left.exposures.is_empty());
        assert_eq!(left.deliveries.len(), 1, "the user.erased notice");
        for sql in [
            "SELECT count(*) FROM events WHERE user_id = 'u-1'",
            "SELECT count(*) FROM user_progress WHERE user_id = 'u-1'",
            "SELECT count(*) FROM user_event_counts WHERE user_id = 'u-1'",
            "SELECT count(*) FROM rollup_users WHERE user_id = 'u-1'",
            "SELECT count(*) FROM experiment_exposures WHERE user_id = 'u-1'",
            "SELECT count(*) FROM usage_active_users WHERE user_id = 'u-1'",
            "SELECT count(*) FROM audit_log WHERE after_doc LIKE '%ann@example.com%' OR before_doc LIKE '%ann@example.com%'",
            "SELECT count(*) FROM outbox_payloads WHERE payload LIKE '%u-1%' AND payload NOT LIKE '%user.erased%'",
        ] {
            assert_eq!(crate::events::count(&app, sql).await, 0, "{sql}");
        }
        let notice = crate::events::count(
            &app,
            "SELECT count(*) FROM outbox_payloads WHERE payload LIKE '%\"name\":\"user.erased\"%' \
             AND payload LIKE '%\"user_id\":\"u-1\"%'",
        )
        .await;
        assert_eq!(notice, 1);
        // The other person keeps their events, in the scrubbed delivery too.
        let theirs = store.user_records(t.tenant_id, env, "u-2").await.unwrap();
        assert_eq!(theirs.events.len(), 1);
        assert_eq!(theirs.deliveries.len(), 1);
        assert_eq!(theirs.deliveries[0].events, 1);
        // Counts stay as they were: unique users, starts, arms.
        assert_eq!(a.get_json(&analytics).await, before);
        let after = a.get_json("/v1/admin/analytics/overview").await;
        assert_eq!(after["tour_starts"], overview["tour_starts"], "{after}");

        // Audited without the id; the entry says what was removed.
        let audit = a.get_json("/v1/admin/audit?action=user.erase").await;
        assert_eq!(audit["items"].as_array().unwrap().len(), 1);
        assert!(!audit.to_string().contains("u-1"), "{audit}");

        // Again, or someone never seen, or another tenant's: 404.
        error_code(erase(&app, sk, "u-1").await, 404).await;
        error_code(erase(&app, sk, "nobody").await, 404).await;
        let other = app.tenant("globex", &[]).await;
        error_code(erase(&app, prod(&other).1, "u-2").await, 404).await;
        assert_eq!(
            store
                .user_records(t.tenant_id, env, "u-2")
                .await
                .unwrap()
                .events
                .len(),
            1
        );
    }
);

both_stores!(
    late_batches_do_not_bring_an_erased_user_back,
    |app: TestApp| async move {
        let t = app.tenant("acme", &[]).await;
        let (pk, sk) = prod(&t);
        let env = t.environments["production"].environment_id;
        post_ok(
            &app,
            pk,
            &json!({"events": [event("export", "u-1", json!({}))]}),
        )
        .await;
        // Batches keep coming while the erasure runs; each is answered 202.
        let sender = {
            let (url, client, pk) = (app.url("/v1/sdk/events"), app.client.clone(), pk.to_owned());
            tokio::spawn(async move {
                for _ in 0..30 {
                    let r = client
                        .post(&url)
                        .header("x-spotlight-key", &pk)
                        .json(&json!({"events": [event("export", "u-1", json!({}))]}))
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(r.status(), 202);
                }
            })
        };
        let r = erase(&app, sk, "u-1").await;
        assert_eq!(r.status(), 200);
        let report: Value = r.json().await.unwrap();
        let erased_at =
            spotlight_domain::Timestamp::parse_rfc3339(report["erased_at"].as_str().unwrap())
                .unwrap();
        sender.await.unwrap();
        // A batch queued before the erasure (an SDK's stored queue), sent late: dropped.
        post_ok(
            &app,
            pk,
            &json!({"events": [event("export", "u-1", json!({}))]}),
        )
        .await;
        // A profile write of a request answered before the erasure, applied
        // after it: dropped. One of a request after it: the person is back.
        let write = |user: &str, seen_at: i64| spotlight_store::ProfileWrite {
            tenant: t.tenant_id,
            environment: env,
            user_id: user.to_owned(),
            attributes: r#"{"plan":"pro"}"#.to_owned(),
            verified: false,
            seen_at: spotlight_domain::Timestamp(seen_at),
            account: None,
        };
        let store = app.store();
        store
            .upsert_profiles(&[write("u-1", erased_at.millis() - 10)])
            .await
            .unwrap();
        let left = store.user_records(t.tenant_id, env, "u-1").await.unwrap();
        assert!(
            left.is_empty(),
            "{} events, profile {:?}",
            left.events.len(),
            left.profile.map(|p| p.state.attributes)
        );
        error_code(app.admin(sk).get("/v1/admin/users/u-1").await, 404).await;
        // Other users are stored as ever.
        post_ok(
            &app,
            pk,
            &json!({"events": [event("export", "u-3", json!({}))]}),
        )
        .await;
        let theirs = store.user_records(t.tenant_id, env, "u-3").await.unwrap();
        assert_eq!(theirs.events.len(), 1);
        // The person's activity after the erasure is new: kept.
        let later = erased_at.millis() + 1;
        store.upsert_profiles(&[write("u-1", later)]).await.unwrap();
        assert!(store
            .user_records(t.tenant_id, env, "u-1")
            .await
            .unwrap()
            .profile
            .is_some());
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_keeps_its_data_for_less_than_the_server_on_sqlite() {
    tenant_retention(crate::helpers::Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_keeps_its_data_for_less_than_the_server_on_postgres() {
    if crate::helpers::postgres_available() {
        tenant_retention(crate::helpers::Db::Postgres).await;
    }
}

/// A tenant's own keeping times: at most the server's (422 past it), and the
/// retention job applies them to its events and audit entries only.
async fn tenant_retention(db: crate::helpers::Db) {
    use spotlight_domain::Clock;
    let clock = std::sync::Arc::new(spotlight_domain::ManualClock::new(
        spotlight_domain::SystemClock.now(),
    ));
    let app = TestApp::spawn_full(db, |_| {}, None, clock.clone()).await;
    let (short, long) = (
        app.tenant("short", &[]).await,
        app.tenant("long", &[]).await,
    );
    let s = admin(&app, &short);
    // The server keeps events 90 days and audit entries 365: no tenant keeps more.
    let settings = s.get_json("/v1/admin/settings").await;
    assert_eq!(
        settings["retention_limits"],
        json!({"events_days": 90, "audit_days": 365})
    );
    assert_eq!(
        settings["retention"],
        json!({"events_days": null, "audit_days": null})
    );
    for (body, field) in [
        (
            json!({"retention": {"events_days": 91}}),
            "retention.events_days",
        ),
        (
            json!({"retention": {"audit_days": 0}}),
            "retention.audit_days",
        ),
    ] {
        let r = s.patch("/v1/admin/settings").json(&body).await;
        let (_, err, _) = error_code(r, 422).await;
        assert_eq!(err["error"]["details"]["fields"][0]["path"], field, "{err}");
    }
    let r = s
        .patch("/v1/admin/settings")
        .json(&json!({"retention": {"events_days": 7, "audit_days": 30}}))
        .await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["retention"], json!({"events_days": 7, "audit_days": 30}));

    let now = clock.now().millis();
    for t in [&short, &long] {
        post_ok(
            &app,
            prod(t).0,
            &json!({"events": [at("export", "u-1", now - 1000, json!({}))]}),
        )
        .await;
        admin(&app, t).settings(json!({"kill_switch": false})).await;
    }
    // Eight days on: the short tenant's events are past its week, not past the server's 90 days.
    clock.advance_secs(8 * 86_400);
    let later = clock.now().millis();
    for t in [&short, &long] {
        post_ok(
            &app,
            prod(t).0,
            &json!({"events": [at("export", "u-2", later - 1000, json!({}))]}),
        )
        .await;
    }
    let config = &app.state.config.retention;
    let retention = spotlight_pipeline::retention::RetentionConfig {
        events: config.events,
        outbox: config.outbox,
        dead_letters: config.dead_letters,
        audit: config.audit,
        interval: config.interval,
    };
    let run = || {
        spotlight_pipeline::retention::run_once(app.store(), &retention, app.state.metrics.as_ref())
    };
    let removed = run().await.unwrap();
    assert!(removed.contains(&("events", 1)), "{removed:?}");
    let events = |t: &spotlight_server::tenants::ProvisionedTenant, user: &'static str| {
        let env = t.environments["production"].environment_id;
        let (store, tenant) = (app.store().clone(), t.tenant_id);
        async move {
            store
                .user_records(tenant, env, user)
                .await
                .unwrap()
                .events
                .len()
        }
    };
    assert_eq!(events(&short, "u-1").await, 0, "past the tenant's week");
    assert_eq!(events(&short, "u-2").await, 1);
    assert_eq!(
        events(&long, "u-1").await,
        1,
        "another tenant keeps the server's time"
    );
    // The audit log: a month on, the short tenant's entries of the first day go.
    clock.advance_secs(30 * 86_400);
    let before = crate::events::count(
        &app,
        &format!(
            "SELECT count(*) FROM audit_log WHERE tenant_id = '{}'",
            long.tenant_id
        ),
    )
    .await;
    run().await.unwrap();
    let audit = |t: &spotlight_server::tenants::ProvisionedTenant| {
        format!(
            "SELECT count(*) FROM audit_log WHERE tenant_id = '{}'",
            t.tenant_id
        )
    };
    assert_eq!(crate::events::count(&app, &audit(&short)).await, 0);
    assert_eq!(crate::events::count(&app, &audit(&long)).await, before);
    assert!(before > 0);
}
