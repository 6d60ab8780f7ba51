//! `/v1/admin/analytics/…` over real ingested events: tour funnel, completion
//! rate and median time, surveys (NPS, text), experiments per arm, content,
//! checklists, the overview, CSV export and bad input.

use crate::both_stores;
use crate::events::post_ok;
use crate::helpers::{admin, at};
use crate::helpers::{error_code, prod, TestApp};
use serde_json::json;

both_stores!(analytics_from_ingested_events, |app: TestApp| async move {
    let t = app.tenant("acme", &[]).await;
    let (pk, sk) = prod(&t);
    let a = admin(&app, &t);
    let tour = a
        .publish(
            "tours",
            json!({"name": "Onboarding", "steps": [
                {"kind": "modal", "title": "Welcome"},
                {"kind": "survey", "title": "Thoughts?", "survey": {"type": "text", "question": "Anything to say?"}},
                {"kind": "survey", "title": "Rate us", "survey": {"type": "nps", "question": "Recommend us?"}}
            ], "experiment": {"arms": [{"name": "control", "weight": 1, "holdout": true}, {"name": "a", "weight": 1}], "goal_event": "export"}}),
        )
        .await;
    let banner = a
        .publish(
            "content",
            json!({"name": "News", "type": "banner", "position": "top", "title": "New!"}),
        )
        .await;
    let checklist = a
        .publish(
            "checklists",
            json!({"name": "Start", "title": "Start", "items": [
                {"id": "one", "title": "One", "completed_by": {"type": "event", "event": "export"}},
                {"id": "two", "title": "Two", "completed_by": {"type": "event", "event": "invite"}}
            ]}),
        )
        .await;
    let t0 = time::OffsetDateTime::now_utc().unix_timestamp() * 1000 - 3_600_000;
    let step = |n: i64| json!({"tour_id": tour, "step": n});
    let tid = json!({"tour_id": tour});
    let events = vec![
        at(
            "experiment_exposed",
            "u1",
            t0 - 10,
            json!({"object_id": tour, "arm": "a"}),
        ),
        at(
            "experiment_exposed",
            "u2",
            t0 - 10,
            json!({"object_id": tour, "arm": "a"}),
        ),
        at(
            "experiment_exposed",
            "u3",
            t0 - 10,
            json!({"object_id": tour, "arm": "control"}),
        ),
        at(
            "experiment_exposed",
            "u4",
            t0 - 10,
            json!({"object_id": tour, "arm": "control"}),
        ),
        at("tour_started", "u1", t0, tid.clone()),
        at("step_viewed", "u1", t0 + 1, step(0)),
        at("step_viewed", "u1", t0 + 2, step(1)),
        at(
            "survey_answered",
            "u1",
            t0 + 3,
            json!({"tour_id": tour, "step": 1, "text": "Love it"}),
        ),
        at("step_viewed", "u1", t0 + 4, step(2)),
        at(
            "survey_answered",
            "u1",
            t0 + 5,
            json!({"tour_id": tour, "step": 2, "score": 10}),
        ),
        at("tour_completed", "u1", t0 + 60_000, tid.clone()),
        at("tour_started", "u2", t0, tid.clone()),
        at("step_viewed", "u2", t0 + 1, step(0)),
        at("step_viewed", "u2", t0 + 2, step(1)),
        at(
            "tour_dismissed",
            "u2",
            t0 + 3,
            json!({"tour_id": tour, "step": 1}),
        ),
        at("tour_started", "u3", t0, tid.clone()),
        at("step_viewed", "u3", t0 + 1, step(0)),
        at("tour_started", "u4", t0, tid.clone()),
        at("step_viewed", "u4", t0 + 1, step(0)),
        at("step_viewed", "u4", t0 + 2, step(1)),
        at("step_viewed", "u4", t0 + 3, step(2)),
        at(
            "survey_answered",
            "u4",
            t0 + 4,
            json!({"tour_id": tour, "step": 2, "score": 3}),
        ),
        at("tour_completed", "u4", t0 + 120_000, tid.clone()),
        at("export", "u1", t0 + 200_000, json!({})),
        at("export", "u3", t0 + 200_000, json!({})),
        at("invite", "u3", t0 + 200_001, json!({})),
        at("content_viewed", "u1", t0, json!({"content_id": banner})),
        at("content_viewed", "u2", t0, json!({"content_id": banner})),
        at(
            "content_clicked",
            "u1",
            t0 + 5,
            json!({"content_id": banner}),
        ),
    ];
    let answer = post_ok(&app, pk, &json!({"events": events})).await;
    assert_eq!(answer["accepted"], 29, "{answer}");

    let s = app
        .admin(sk)
        .get_json(&format!("/v1/admin/analytics/tours/{tour}"))
        .await;
    assert_eq!(
        (
            s["starts"].as_u64(),
            s["completions"].as_u64(),
            s["dismissals"].as_u64()
        ),
        (Some(4), Some(2), Some(1)),
        "{s}"
    );
    assert_eq!(s["completion_rate"], 0.5);
    assert_eq!(s["unique_viewers"], 4);
    assert_eq!(s["median_time_to_complete_ms"], 90_000.0, "{s}");
    let views: Vec<u64> = s["funnel"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["views"].as_u64().unwrap())
        .collect();
    assert_eq!(views, vec![4, 3, 2]);
    let drop: Vec<f64> = s["funnel"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["drop_off"].as_f64().unwrap())
        .collect();
    assert!(
        (drop[0] - 0.0).abs() < 1e-9
            && (drop[1] - 0.25).abs() < 1e-9
            && (drop[2] - 1.0 / 3.0).abs() < 1e-9,
        "{drop:?}"
    );
    assert_eq!(s["funnel"][1]["title"], "Thoughts?");
    let starts: u64 = s["series"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["starts"].as_u64().unwrap())
        .sum();
    assert_eq!(starts, 4);

    // Hourly grain over the last three hours holds the same totals.
    let from = t0 - 2 * 3_600_000;
    let hourly = app
        .admin(sk)
        .get_json(&format!(
            "/v1/admin/analytics/tours/{tour}?grain=hour&from={from}"
        ))
        .await;
    assert_eq!(hourly["starts"], 4, "{hourly}");
    assert_eq!(hourly["grain"], "hour");

    let sv = app
        .admin(sk)
        .get_json(&format!("/v1/admin/analytics/surveys/{tour}"))
        .await;
    let steps = sv["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 2, "{sv}");
    assert_eq!(steps[0]["texts"][0]["text"], "Love it");
    assert_eq!(steps[0]["responses"], 1);
    assert_eq!(steps[1]["type"], "nps");
    assert_eq!(steps[1]["responses"], 2);
    assert_eq!(steps[1]["nps"], 0.0, "one promoter, one detractor");
    assert_eq!(steps[1]["average"], 6.5);

    let x = app
        .admin(sk)
        .get_json(&format!("/v1/admin/analytics/experiments/{tour}"))
        .await;
    assert_eq!(x["goal_event"], "export");
    assert_eq!(x["control"], "control");
    let arms = x["arms"].as_array().unwrap();
    for arm in arms {
        assert_eq!(
            (arm["exposed"].as_u64(), arm["converted"].as_u64()),
            (Some(2), Some(1)),
            "{x}"
        );
        assert!(arm["ci_low"].as_f64().unwrap() < 0.5 && arm["ci_high"].as_f64().unwrap() > 0.5);
    }
    assert!(
        arms[1]["lift"]["difference"].as_f64().unwrap().abs() < 1e-9,
        "{x}"
    );

    let c = app
        .admin(sk)
        .get_json(&format!("/v1/admin/analytics/content/{banner}"))
        .await;
    assert_eq!(
        (c["views"].as_u64(), c["clicks"].as_u64()),
        (Some(2), Some(1))
    );
    assert_eq!(c["click_rate"], 0.5);

    let cl = app
        .admin(sk)
        .get_json(&format!("/v1/admin/analytics/checklists/{checklist}"))
        .await;
    assert_eq!(
        (cl["users"].as_u64(), cl["completed"].as_u64()),
        (Some(2), Some(1)),
        "{cl}"
    );
    assert_eq!(cl["items"][0]["completions"], 2);
    assert_eq!(cl["items"][1]["completions"], 1);

    let o = app.admin(sk).get_json("/v1/admin/analytics/overview").await;
    assert_eq!(o["active_users"], 4, "{o}");
    assert_eq!(o["tour_starts"], 4);
    assert_eq!(o["events"], 29);
    assert_eq!(o["top_tours"][0]["id"], tour.as_str());
    assert_eq!(o["top_tours"][0]["name"], "Onboarding");
    let total: u64 = o["series"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["events"].as_u64().unwrap())
        .sum();
    assert_eq!(total, 29);

    // CSV export.
    let r = app
        .admin(sk)
        .get(&format!(
            "/v1/admin/analytics/tours/{tour}?format=csv&table=funnel"
        ))
        .await;
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let csv = r.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "step,title,views,viewers,completions,drop_off");
    assert_eq!(lines.len(), 4, "{csv}");
    assert!(lines[1].starts_with("0,Welcome,4,4,"), "{csv}");
    let r = app
        .admin(sk)
        .get("/v1/admin/analytics/overview?format=csv")
        .await;
    assert!(r.text().await.unwrap().starts_with("bucket,events,"));

    // Bad input, and other tenants' objects.
    for q in [
        "grain=week",
        "format=xml",
        "from=yesterday",
        "from=2026-01-02&to=2026-01-01",
        "grain=hour&from=0",
        "environment=nope",
    ] {
        let r = app
            .admin(sk)
            .get(&format!("/v1/admin/analytics/overview?{q}"))
            .await;
        error_code(r, 422).await;
    }
    let other = app.tenant("other", &[]).await;
    let (_, other_sk) = prod(&other);
    for kind in ["tours", "surveys", "experiments"] {
        let r = app
            .admin(other_sk)
            .get(&format!("/v1/admin/analytics/{kind}/{tour}"))
            .await;
        error_code(r, 404).await;
    }
    let r = app.admin(sk).get("/v1/admin/analytics/tours/nope").await;
    error_code(r, 404).await;
    // The other tenant sees none of these events.
    let o = app
        .admin(other_sk)
        .get_json("/v1/admin/analytics/overview")
        .await;
    assert_eq!(o["events"], 0);
});

both_stores!(funnel_counts_viewers_not_views, |app: TestApp| async move {
    // One person who finished every step but went back to see step 2 again:
    // four views of four steps by one viewer, nobody dropped off.
    let t = app.tenant("acme", &[]).await;
    let (pk, sk) = prod(&t);
    let a = admin(&app, &t);
    let tour = a
        .publish(
            "tours",
            json!({"name": "Four", "steps": [
                {"kind": "modal", "title": "1"}, {"kind": "modal", "title": "2"},
                {"kind": "modal", "title": "3"}, {"kind": "modal", "title": "4"}
            ]}),
        )
        .await;
    let t0 = time::OffsetDateTime::now_utc().unix_timestamp() * 1000 - 3_600_000;
    let step = |n: i64| json!({"tour_id": tour, "step": n});
    let mut events = vec![at("tour_started", "solo", t0, json!({"tour_id": tour}))];
    for (i, n) in [0, 1, 0, 1, 2, 3].into_iter().enumerate() {
        events.push(at("step_viewed", "solo", t0 + 1 + i as i64, step(n)));
    }
    events.push(at(
        "tour_completed",
        "solo",
        t0 + 10,
        json!({"tour_id": tour}),
    ));
    // Someone else saw only the first step.
    events.push(at("tour_started", "other", t0, json!({"tour_id": tour})));
    events.push(at("step_viewed", "other", t0 + 1, step(0)));
    post_ok(&app, pk, &json!({"events": events})).await;

    let s = app
        .admin(sk)
        .get_json(&format!("/v1/admin/analytics/tours/{tour}"))
        .await;
    let col = |k: &str| -> Vec<f64> {
        s["funnel"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f[k].as_f64().unwrap())
            .collect()
    };
    assert_eq!(col("views"), vec![3.0, 2.0, 1.0, 1.0], "{s}");
    assert_eq!(col("viewers"), vec![2.0, 1.0, 1.0, 1.0], "{s}");
    assert_eq!(col("drop_off"), vec![0.0, 0.5, 0.0, 0.0], "{s}");
});
