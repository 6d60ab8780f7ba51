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
