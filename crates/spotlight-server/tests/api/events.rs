//! `POST /v1/sdk/events`: validation per event, idempotency, the state events
//! change (progress, counts, checklists, audiences), group commit under
//! concurrency, and bad input.

use crate::both_stores;
use crate::helpers::{admin, config_json};
use crate::helpers::{error_code, prod, TestApp};
use serde_json::{json, Value};

pub fn ev(name: &str, props: Value) -> Value {
    json!({
        "event_id": uuid::Uuid::new_v4().to_string(),
        "schema_version": 1,
        "name": name,
        "timestamp": time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap(),
        "properties": props,
    })
}

pub async fn post_events(app: &TestApp, pk: &str, body: &Value) -> reqwest::Response {
    app.anon()
        .post("/v1/sdk/events")
        .header("x-spotlight-key", pk)
        .json(body)
        .await
}

pub async fn post_ok(app: &TestApp, pk: &str, body: &Value) -> Value {
    let r = post_events(app, pk, body).await;
    let status = r.status();
    let text = r.text().await.unwrap();
    assert_eq!(status, 202, "{text}");
    serde_json::from_str(&text).unwrap()
}

pub async fn count(app: &TestApp, sql: &str) -> i64 {
    app.store().scalar_for_tests(sql).await.unwrap()
}

/// Posts `body` on a task of its own; its answer, a 202.
fn post_spawned(app: &TestApp, pk: &str, body: Value) -> tokio::task::JoinHandle<Value> {
    let (client, url, pk) = (app.client.clone(), app.url("/v1/sdk/events"), pk.to_owned());
    tokio::spawn(async move {
        let resp = client
            .post(url)
            .header("x-spotlight-key", pk)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 202);
        resp.json().await.unwrap()
    })
}

/// `n` click events are stored, and counted once per user and in the rollups.
async fn assert_clicks_stored_and_counted(app: &TestApp, n: i64) {
    assert_eq!(count(app, "SELECT COUNT(*) FROM events").await, n);
    assert_eq!(
        count(
            app,
            "SELECT CAST(SUM(count) AS BIGINT) FROM user_event_counts WHERE event = 'click'"
        )
        .await,
        n
    );
    assert_eq!(
        count(
            app,
            "SELECT CAST(SUM(count) AS BIGINT) FROM rollups WHERE grain = 'day' AND event = 'click'"
        )
        .await,
        n
    );
}

fn modal(title: &str) -> Value {
    json!({"kind": "modal", "title": title})
}

both_stores!(
    events_are_stored_once_and_change_what_users_see,
    |app: TestApp| async move {
        let t = app.tenant("acme", &["https://app.acme.test"]).await;
        let (pk, sk) = prod(&t);
        let a = admin(&app, &t);
        let tour = a
            .publish(
                "tours",
                json!({"name": "Intro", "steps": [modal("a"), modal("b")]}),
            )
            .await;
        let exporters = a
        .publish(
            "tours",
            json!({"name": "For exporters", "steps": [modal("x")], "audience": "event(\"export\") >= 1"}),
        )
        .await;
        let checklist = a
        .publish(
            "checklists",
            json!({"name": "Start", "title": "Get started", "items": [
                {"id": "exp", "title": "Export", "completed_by": {"type": "event", "event": "export"}},
                {"id": "intro", "title": "Intro", "completed_by": {"type": "tour", "tour_id": tour}}
            ]}),
        )
        .await;
        let before = config_json(&app, pk, "user_id=u1&url=/").await;
        let shown: Vec<&str> = before["tours"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["id"].as_str().unwrap())
            .collect();
        assert!(
            shown.contains(&tour.as_str()) && !shown.contains(&exporters.as_str()),
            "{before}"
        );

        let batch = json!({"user_id": "u1", "events": [
            ev("tour_started", json!({"tour_id": tour})),
            ev("step_viewed", json!({"tour_id": tour, "step": 0})),
            ev("step_viewed", json!({"tour_id": tour, "step": 1})),
            ev("tour_completed", json!({"tour_id": tour})),
            ev("export", json!({"format": "csv"})),
        ]});
        let answer = post_ok(&app, pk, &batch).await;
        assert_eq!(
            answer,
            json!({"accepted": 5, "duplicates": 0, "rejected": []})
        );
        // Resent (a retry after a lost answer): stored once, counted once.
        let again = post_ok(&app, pk, &batch).await;
        assert_eq!(
            again,
            json!({"accepted": 0, "duplicates": 5, "rejected": []})
        );
        assert_eq!(count(&app, "SELECT COUNT(*) FROM events").await, 5);
        // Partly resent: only the new event is stored and counted.
        let mixed = json!({"user_id": "u1", "events": [
            batch["events"][4].clone(),
            ev("export", json!({"format": "pdf"})),
        ]});
        assert_eq!(
            post_ok(&app, pk, &mixed).await,
            json!({"accepted": 1, "duplicates": 1, "rejected": []})
        );
        assert_eq!(count(&app, "SELECT COUNT(*) FROM events").await, 6);

        let user: Value = app.admin(sk).get_json("/v1/admin/users/u1").await;
        assert_eq!(user["event_counts"]["export"], 2, "{user}");
        assert_eq!(user["event_counts"]["tour_completed"], 1, "{user}");
        let p = &user["progress"][&tour];
        assert_eq!(p["completed"], true, "{user}");
        assert_eq!(p["step_reached"], 1, "{user}");
        assert_eq!(p["times_shown"], 1, "{user}");
        let c = &user["progress"][&checklist];
        assert_eq!(c["items_completed"], json!(["exp", "intro"]), "{user}");
        assert_eq!(c["completed"], true, "{user}");

        // The completed tour is gone; the audience that needed an export now matches.
        let after = config_json(&app, pk, "user_id=u1&url=/").await;
        let shown: Vec<&str> = after["tours"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["id"].as_str().unwrap())
            .collect();
        assert!(!shown.contains(&tour.as_str()), "{after}");
        assert!(shown.contains(&exporters.as_str()), "{after}");
        let metrics = app.metrics().await;
        assert!(
            metrics.contains("spotlight_events_ingested_total{result=\"accepted\"} 6"),
            "{metrics}"
        );
        assert!(
            metrics.contains("spotlight_events_ingested_total{result=\"duplicate\"} 6"),
            "{metrics}"
        );
    }
);

both_stores!(
    bad_events_get_reasons_and_the_rest_is_kept,
    |app: TestApp| async move {
        let t = app.tenant("acme", &[]).await;
        let (pk, _) = prod(&t);
        let a = admin(&app, &t);
        let tour = a
            .publish("tours", json!({"name": "T", "steps": [modal("a")]}))
            .await;
        let draft = a
            .create("tours", json!({"name": "Draft", "steps": [modal("a")]}))
            .await;
        let unknown = uuid::Uuid::new_v4().to_string();
        let mut future = ev("export", json!({}));
        future["timestamp"] = json!("2099-01-01T00:00:00Z");
        let mut v2 = ev("export", json!({}));
        v2["schema_version"] = json!(2);
        let mut wrong_type = ev("step_viewed", json!({"tour_id": tour, "step": "first"}));
        wrong_type["user_id"] = json!("u2");
        let batch = json!({"user_id": "u1", "events": [
            ev("tour_started", json!({"tour_id": tour})),
            future,
            v2,
            wrong_type,
            ev("tour_started", json!({"tour_id": unknown})),
            ev("step_viewed", json!({"tour_id": tour, "step": 5})),
            ev("tour_started", json!({"tour_id": draft})),
            ev("export", json!({"blob": "x".repeat(10_000)})),
            "not an event",
        ]});
        let answer = post_ok(&app, pk, &batch).await;
        assert_eq!(answer["accepted"], 2, "{answer}");
        let codes: Vec<(u64, &str)> = answer["rejected"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| (r["index"].as_u64().unwrap(), r["code"].as_str().unwrap()))
            .collect();
        assert_eq!(
            codes,
            vec![
                (1, "timestamp_in_future"),
                (2, "unknown_schema_version"),
                (3, "invalid_event"),
                (4, "unknown_object"),
                (5, "unknown_step"),
                (7, "too_large"),
                (8, "invalid_event"),
            ],
            "{answer}"
        );
        assert_eq!(count(&app, "SELECT COUNT(*) FROM events").await, 2);

        // Every event refused: 422, with the reasons.
        let r = post_events(
            &app,
            pk,
            &json!({"user_id": "u1", "events": [ev("tour_started", json!({"tour_id": unknown}))]}),
        )
        .await;
        let (code, body, _) = error_code(r, 422).await;
        assert_eq!(code, "validation_failed");
        assert_eq!(
            body["error"]["details"]["rejected"][0]["code"], "unknown_object",
            "{body}"
        );

        // Whole-batch errors.
        let r = app
            .anon()
            .post("/v1/sdk/events")
            .header("x-spotlight-key", pk)
            .header("content-type", "application/json")
            .body("{\"events\": [")
            .await;
        assert_eq!(error_code(r, 400).await.0, "invalid_json");
        let many: Vec<Value> = (0..101).map(|_| ev("export", json!({}))).collect();
        let r = post_events(&app, pk, &json!({"user_id": "u1", "events": many})).await;
        let (_, body, _) = error_code(r, 422).await;
        assert!(
            body["error"]["message"].as_str().unwrap().contains("100"),
            "{body}"
        );
        let r = post_events(&app, pk, &json!({"user_id": "u1", "events": []})).await;
        error_code(r, 422).await;
        let r = post_events(
            &app,
            pk,
            &json!({"user_id": "anon-1", "events": [ev("export", json!({}))]}),
        )
        .await;
        error_code(r, 422).await;
        let huge =
            json!({"user_id": "u1", "events": [ev("export", json!({"p": "x".repeat(1 << 20)}))]});
        let r = post_events(&app, pk, &huge).await;
        assert_eq!(error_code(r, 413).await.0, "payload_too_large");
        let r = app
            .anon()
            .post("/v1/sdk/events")
            .json(&json!({"events": [ev("export", json!({}))]}))
            .await;
        assert_eq!(error_code(r, 401).await.0, "unauthenticated");
        let r = post_events(
            &app,
            "pk_live_nope",
            &json!({"user_id": "u1", "events": [ev("export", json!({}))]}),
        )
        .await;
        error_code(r, 401).await;
        // Nothing of the refused batches was kept.
        assert_eq!(count(&app, "SELECT COUNT(*) FROM events").await, 2);
    }
);

both_stores!(
    concurrent_batches_are_all_committed,
    |app: TestApp| async move {
        let t = app.tenant("acme", &[]).await;
        let (pk, _) = prod(&t);
        let tasks: Vec<_> = (0..24)
            .map(|r| {
                let events: Vec<Value> = (0..20).map(|_| ev("click", json!({"n": r}))).collect();
                let body = json!({"user_id": format!("user-{}", r % 4), "events": events});
                post_spawned(&app, pk, body)
            })
            .collect();
        let mut total = 0;
        for task in tasks {
            total += task.await.unwrap()["accepted"].as_u64().unwrap();
        }
        assert_eq!(total, 480);
        assert_clicks_stored_and_counted(&app, 480).await;
        let metrics = app.metrics().await;
        assert!(
            metrics.contains("spotlight_ingest_group_events_count"),
            "{metrics}"
        );
    }
);

both_stores!(
    concurrent_resends_are_stored_once,
    |app: TestApp| async move {
        // Each batch sent four times at once, as SDKs retrying after lost
        // answers do: copies meet in one group, or in two groups committing
        // side by side (PostgreSQL's two writers). Every event is stored and
        // counted once, and each is accepted by exactly one of the requests.
        let t = app.tenant("acme", &[]).await;
        let (pk, _) = prod(&t);
        let batches: Vec<Value> = (0..8)
            .map(|r| {
                let events: Vec<Value> = (0..20).map(|_| ev("click", json!({"n": r}))).collect();
                json!({"user_id": format!("user-{}", r % 3), "events": events})
            })
            .collect();
        let mut tasks = Vec::new();
        for _ in 0..4 {
            for batch in &batches {
                tasks.push(post_spawned(&app, pk, batch.clone()));
            }
        }
        let (mut accepted, mut duplicates) = (0, 0);
        for task in tasks {
            let body = task.await.unwrap();
            accepted += body["accepted"].as_u64().unwrap();
            duplicates += body["duplicates"].as_u64().unwrap();
        }
        assert_eq!((accepted, duplicates), (160, 480));
        assert_clicks_stored_and_counted(&app, 160).await;
    }
);
