//! The admin API behind the dashboard's helpers: an audience's "who matches"
//! count, survey responses one by one, an end user's recent events, and
//! identity verification's monitor figures.

use crate::both_stores;
use crate::events::post_ok;
use crate::helpers::{admin, config_json, urlencode};
use crate::helpers::{error_code, prod, TestApp};
use serde_json::{json, Value};
use std::time::Duration;

fn event(name: &str, user: &str, props: Value) -> Value {
    json!({
        "event_id": uuid::Uuid::now_v7().to_string(),
        "schema_version": 1,
        "name": name,
        "user_id": user,
        "timestamp": time::OffsetDateTime::now_utc().unix_timestamp() * 1000,
        "properties": props,
    })
}

async fn send(
    app: &TestApp,
    sk: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> reqwest::Response {
    let mut r = app.client.request(method, app.url(path)).bearer_auth(sk);
    if let Some(b) = body {
        r = r.json(&b);
    }
    r.send().await.unwrap()
}

async fn ok(r: reqwest::Response) -> Value {
    let status = r.status();
    let text = r.text().await.unwrap();
    assert_eq!(status, 200, "{text}");
    serde_json::from_str(&text).unwrap()
}

both_stores!(
    audience_matches_counts_end_users,
    |app: TestApp| async move {
        let t = app.tenant("acme", &[]).await;
        let (pk, sk) = prod(&t);
        let other = app.tenant("globex", &[]).await;
        for (user, plan, seats) in [
            ("u1", "pro", 5),
            ("u2", "pro", 50),
            ("u3", "free", 1),
            ("u4", "team", 12),
            ("u5", "pro", 2),
        ] {
            let attrs = urlencode(&json!({"plan": plan, "seats": seats}).to_string());
            config_json(
                &app,
                pk,
                &format!("user_id={user}&url=/&attributes={attrs}"),
            )
            .await;
        }
        app.state.profiles.flush(Duration::from_secs(5)).await;
        post_ok(&app, pk, &json!({"events": [
        event("export", "u1", json!({})), event("export", "u1", json!({})), event("export", "u4", json!({}))
    ]}))
    .await;
        let matches = |rule: &str| {
            send(
                &app,
                sk,
                reqwest::Method::POST,
                "/v1/admin/audiences/matches",
                Some(json!({"rule": rule})),
            )
        };
        let v = ok(matches(r#"plan = "pro""#).await).await;
        assert_eq!(
            (v["matched"].as_u64(), v["scanned"].as_u64()),
            (Some(3), Some(5)),
            "{v}"
        );
        assert_eq!(v["truncated"], false);
        let mut sample: Vec<&str> = v["sample"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        sample.sort_unstable();
        assert_eq!(sample, ["u1", "u2", "u5"]);
        let v = ok(matches(r#"plan in ["pro", "team"] and event("export") >= 1"#).await).await;
        assert_eq!(v["matched"], 2, "{v}");
        let v = ok(matches("seats > 4").await).await;
        assert_eq!(v["matched"], 3, "{v}");
        assert_eq!(v["rule"], "seats > 4");

        // A rule that does not parse: the field and where.
        let (code, body, _) = error_code(matches("plan = 1 and\n  seats >").await, 422).await;
        assert_eq!(code, "validation_failed");
        let f = &body["error"]["details"]["fields"][0];
        assert_eq!(f["path"], "rule");
        assert!(f["message"].as_str().unwrap().contains("line 2"), "{body}");
        let (code, _, _) = error_code(
            send(
                &app,
                sk,
                reqwest::Method::POST,
                "/v1/admin/audiences/matches",
                Some(json!({"rule": "x = 1", "environment": "nope"})),
            )
            .await,
            422,
        )
        .await;
        assert_eq!(code, "validation_failed");
        let (code, _, _) = error_code(
            send(
                &app,
                sk,
                reqwest::Method::POST,
                "/v1/admin/audiences/matches",
                Some(json!({"rule": "x = 1", "extra": 1})),
            )
            .await,
            422,
        )
        .await;
        assert!(
            code == "validation_failed" || code == "invalid_json",
            "{code}"
        );
        // Another tenant's count sees none of these users.
        let v = ok(send(
            &app,
            prod(&other).1,
            reqwest::Method::POST,
            "/v1/admin/audiences/matches",
            Some(json!({"rule": "seats > 0"})),
        )
        .await)
        .await;
        assert_eq!(
            (v["matched"].as_u64(), v["scanned"].as_u64()),
            (Some(0), Some(0))
        );
        // Staging has its own users.
        let v = ok(matches_env(&app, sk, "seats > 0", "staging").await).await;
        assert_eq!(v["scanned"], 0);
    }
);

async fn matches_env(app: &TestApp, sk: &str, rule: &str, env: &str) -> reqwest::Response {
    send(
        app,
        sk,
        reqwest::Method::POST,
        "/v1/admin/audiences/matches",
        Some(json!({"rule": rule, "environment": env})),
    )
    .await
}

both_stores!(
    survey_responses_and_recent_events,
    |app: TestApp| async move {
        let t = app.tenant("acme", &[]).await;
        let (pk, sk) = prod(&t);
        let a = admin(&app, &t);
        let tour = a
        .publish(
            "tours",
            json!({"name": "Feedback", "steps": [
                {"kind": "survey", "survey": {"type": "nps", "question": "Recommend us?"}},
                {"kind": "survey", "survey": {"type": "multiple_choice", "question": "Which?", "choices": ["a", "b", "c"]}},
                {"kind": "survey", "survey": {"type": "text", "question": "Anything else?"}}
            ]}),
        )
        .await;
        let s = |step: i64, extra: Value| {
            let mut p = json!({"tour_id": tour, "step": step});
            p.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            p
        };
        post_ok(
            &app,
            pk,
            &json!({"events": [
                event("survey_answered", "u1", s(0, json!({"score": 9}))),
                event("survey_answered", "u1", s(1, json!({"choices": ["a", "c"]}))),
                event("survey_answered", "u1", s(2, json!({"text": "More, please"}))),
                event("survey_answered", "u2", s(0, json!({"score": 3}))),
                event("survey_answered", "u3", s(0, json!({"score": 10}))),
                event("project_created", "u1", json!({"name": "Q4"})),
            ]}),
        )
        .await;
        let path = format!("/v1/admin/analytics/surveys/{tour}/responses");
        let first = ok(send(
            &app,
            sk,
            reqwest::Method::GET,
            &format!("{path}?limit=3"),
            None,
        )
        .await)
        .await;
        let items = first["items"].as_array().unwrap();
        assert_eq!(items.len(), 3, "{first}");
        let cursor = first["next_cursor"]
            .as_str()
            .expect("a next page")
            .to_owned();
        let rest = ok(send(
            &app,
            sk,
            reqwest::Method::GET,
            &format!("{path}?limit=3&cursor={cursor}"),
            None,
        )
        .await)
        .await;
        let all: Vec<&Value> = items
            .iter()
            .chain(rest["items"].as_array().unwrap())
            .collect();
        assert_eq!(all.len(), 5, "{rest}");
        assert!(rest["next_cursor"].is_null());
        let mut ids: Vec<&str> = all
            .iter()
            .map(|r| r["event_id"].as_str().unwrap())
            .collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), 5, "pages do not overlap");
        let text = all.iter().find(|r| r["step"] == 2).unwrap();
        assert_eq!(
            (
                text["answer"].as_str(),
                text["question"].as_str(),
                text["user_id"].as_str()
            ),
            (Some("More, please"), Some("Anything else?"), Some("u1"))
        );
        let choice = all.iter().find(|r| r["step"] == 1).unwrap();
        assert_eq!(choice["answer"], json!(["a", "c"]));
        let csv = send(
            &app,
            sk,
            reqwest::Method::GET,
            &format!("{path}?format=csv"),
            None,
        )
        .await;
        assert_eq!(csv.status(), 200);
        let csv = csv.text().await.unwrap();
        assert_eq!(csv.lines().count(), 6, "{csv}");
        assert!(csv.starts_with("at,user_id,step,question,answer"), "{csv}");
        let (code, _, _) = error_code(
            send(
                &app,
                sk,
                reqwest::Method::GET,
                &format!("{path}?cursor=garbage"),
                None,
            )
            .await,
            422,
        )
        .await;
        assert_eq!(code, "validation_failed");
        let (code, _, _) = error_code(
            send(
                &app,
                prod(&app.tenant("globex", &[]).await).1,
                reqwest::Method::GET,
                &path,
                None,
            )
            .await,
            404,
        )
        .await;
        assert_eq!(code, "not_found");

        // The end user's recent events and when each event last happened.
        let u = ok(send(&app, sk, reqwest::Method::GET, "/v1/admin/users/u1", None).await).await;
        let names: Vec<&str> = u["recent_events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["name"].as_str().unwrap())
            .collect();
        assert_eq!(names.len(), 4, "{u}");
        assert_eq!(names.iter().filter(|n| **n == "survey_answered").count(), 3);
        let created = u["recent_events"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["name"] == "project_created")
            .unwrap();
        assert_eq!(created["properties"]["name"], "Q4");
        assert!(
            u["event_last_at"]["project_created"].as_i64().unwrap() > 0,
            "{u}"
        );
        let u2 = ok(send(&app, sk, reqwest::Method::GET, "/v1/admin/users/u2", None).await).await;
        assert_eq!(u2["recent_events"].as_array().unwrap().len(), 1);
    }
);

both_stores!(identity_monitor_figures, |app: TestApp| async move {
    let t = app.tenant("acme", &[]).await;
    let (pk, sk) = prod(&t);
    let a = admin(&app, &t);
    let figures = |q: &'static str| send(&app, sk, reqwest::Method::GET, q, None);
    let v = ok(figures("/v1/admin/settings/identity-monitor").await).await;
    assert_eq!(
        (
            v["checked"].as_u64(),
            v["would_refuse"].as_u64(),
            v["mode"].as_str()
        ),
        (Some(0), Some(0), Some("off"))
    );
    a.settings(json!({"identity_verification": {"production": {
        "mode": "monitor", "method": {"type": "hs256"}, "hs256_secrets": ["first-secret-0123456789-0123456789"]}}}))
        .await;
    // An unverified id, a garbage token, and an anonymous user: all served, all counted.
    config_json(&app, pk, "user_id=u1&url=/").await;
    let r = app
        .client
        .get(app.url("/v1/sdk/config?user_id=u2&url=/"))
        .header("x-spotlight-key", pk)
        .bearer_auth("not.a.token")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    config_json(&app, pk, "url=/").await;
    let v = ok(figures("/v1/admin/settings/identity-monitor?hours=1").await).await;
    assert_eq!(v["mode"], "monitor");
    assert_eq!(v["checked"], 3, "{v}");
    assert_eq!(
        v["would_refuse"], 3,
        "a request failing two checks is one refusal: {v}"
    );
    assert_eq!(
        v["by_reason"],
        json!({"unverified": 2, "malformed": 1, "anonymous": 1}),
        "{v}"
    );
    // Staging saw nothing; bad input is refused.
    let v = ok(figures("/v1/admin/settings/identity-monitor?environment=staging").await).await;
    assert_eq!(v["checked"], 0);
    for q in [
        "/v1/admin/settings/identity-monitor?hours=0",
        "/v1/admin/settings/identity-monitor?hours=9999",
        "/v1/admin/settings/identity-monitor?environment=nope",
    ] {
        let (code, _, _) = error_code(figures(q).await, 422).await;
        assert_eq!(code, "validation_failed", "{q}");
    }
    let (code, _, _) = error_code(
        figures("/v1/admin/settings/identity-monitor?bogus=1").await,
        400,
    )
    .await;
    assert_eq!(code, "invalid_query");
});
