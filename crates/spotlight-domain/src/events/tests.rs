use super::*;
use serde_json::json;

const NOW: i64 = 1_800_000_000_000;
const TOUR: &str = "0d5b6c1e-1111-4c6f-9a1e-000000000001";
const CONTENT: &str = "0d5b6c1e-2222-4c6f-9a1e-000000000002";
const CHECKLIST: &str = "0d5b6c1e-3333-4c6f-9a1e-000000000003";

fn cx() -> ParseContext<'static> {
    ParseContext {
        now_millis: NOW,
        default_user: Some("u1"),
        default_account: None,
        account_only: false,
    }
}

fn event(name: &str, props: Value) -> Value {
    json!({
        "event_id": uuid::Uuid::new_v4().to_string(),
        "schema_version": 1,
        "name": name,
        "timestamp": NOW - 1000,
        "properties": props,
    })
}

fn with(mut v: Value, field: &str, value: Value) -> Value {
    v.as_object_mut().unwrap().insert(field.into(), value);
    v
}

fn parse(v: &Value) -> Result<Event, &'static str> {
    parse_event(0, v, &cx()).map_err(|r| r.code)
}

fn catalog() -> Catalog {
    let tour: Tour = serde_json::from_value(json!({
        "name": "T",
        "steps": [{"kind": "modal", "title": "a"}, {"kind": "modal", "title": "b"}],
        "experiment": {"arms": [{"name": "control", "weight": 1, "holdout": true}, {"name": "a", "weight": 1}], "goal_event": "export"}
    }))
    .unwrap();
    let checklist: Checklist = serde_json::from_value(json!({
        "name": "C", "title": "Get started",
        "items": [
            {"id": "i1", "title": "Export", "completed_by": {"type": "event", "event": "export"}},
            {"id": "i2", "title": "Tour", "completed_by": {"type": "tour", "tour_id": TOUR}}
        ]
    }))
    .unwrap();
    let mut c = Catalog::default();
    c.add_tour(TOUR, &tour);
    c.add_content(CONTENT, None);
    c.add_checklist(CHECKLIST, &checklist);
    c
}

#[test]
fn parsing_table() {
    let good_step = event("step_viewed", json!({"tour_id": TOUR, "step": 1}));
    let cases: Vec<(&str, Value, Result<(), &str>)> = vec![
        (
            "custom event",
            event("export", json!({"format": "csv"})),
            Ok(()),
        ),
        ("step viewed", good_step.clone(), Ok(())),
        (
            "rfc3339 timestamp",
            with(
                good_step.clone(),
                "timestamp",
                json!("2027-01-15T08:00:00Z"),
            ),
            Ok(()),
        ),
        ("not an object", json!([1, 2]), Err("invalid_event")),
        (
            "unknown field",
            with(good_step.clone(), "extra", json!(1)),
            Err("invalid_event"),
        ),
        (
            "bad event id",
            with(good_step.clone(), "event_id", json!("x")),
            Err("invalid_event"),
        ),
        (
            "version 2",
            with(good_step.clone(), "schema_version", json!(2)),
            Err("unknown_schema_version"),
        ),
        (
            "version as string",
            with(good_step.clone(), "schema_version", json!("1")),
            Err("invalid_event"),
        ),
        (
            "future",
            with(good_step.clone(), "timestamp", json!(NOW + 3_600_000)),
            Err("timestamp_in_future"),
        ),
        (
            "slightly ahead",
            with(good_step.clone(), "timestamp", json!(NOW + 60_000)),
            Ok(()),
        ),
        (
            "too old",
            with(good_step.clone(), "timestamp", json!(NOW - 40 * DAY_MS)),
            Err("timestamp_too_old"),
        ),
        (
            "timestamp text",
            with(good_step.clone(), "timestamp", json!("yesterday")),
            Err("invalid_event"),
        ),
        (
            "no timestamp",
            with(good_step.clone(), "timestamp", Value::Null),
            Err("invalid_event"),
        ),
        (
            "step missing",
            event("step_viewed", json!({"tour_id": TOUR})),
            Err("invalid_event"),
        ),
        (
            "step as string",
            event("step_viewed", json!({"tour_id": TOUR, "step": "1"})),
            Err("invalid_event"),
        ),
        (
            "tour id not an id",
            event("tour_started", json!({"tour_id": "abc"})),
            Err("invalid_event"),
        ),
        (
            "unknown property",
            event("tour_started", json!({"tour_id": TOUR, "colour": 1})),
            Err("invalid_event"),
        ),
        ("bad name", event("", json!({})), Err("invalid_event")),
        (
            "name with newline",
            event("a\nb", json!({})),
            Err("invalid_event"),
        ),
        (
            "large property",
            event("export", json!({"blob": "x".repeat(9000)})),
            Err("too_large"),
        ),
        (
            "bad anonymous id",
            with(good_step.clone(), "user_id", json!("anon-1")),
            Err("invalid_event"),
        ),
        (
            "survey score",
            event(
                "survey_answered",
                json!({"tour_id": TOUR, "step": 0, "score": 9}),
            ),
            Ok(()),
        ),
        (
            "survey with two answers",
            event(
                "survey_answered",
                json!({"tour_id": TOUR, "step": 0, "score": 9, "text": "hi"}),
            ),
            Err("invalid_event"),
        ),
        (
            "survey without answer",
            event("survey_answered", json!({"tour_id": TOUR, "step": 0})),
            Err("invalid_event"),
        ),
        (
            "identify",
            event("identify", json!({"plan": "pro"})),
            Ok(()),
        ),
        (
            "identify nested",
            event("identify", json!({"plan": {"a": 1}})),
            Err("invalid_event"),
        ),
        (
            "exposure without arm",
            event("experiment_exposed", json!({"object_id": TOUR})),
            Err("invalid_event"),
        ),
        (
            "item without id",
            event(
                "checklist_item_completed",
                json!({"checklist_id": CHECKLIST}),
            ),
            Err("invalid_event"),
        ),
    ];
    for (name, v, want) in cases {
        assert_eq!(parse(&v).map(|_| ()), want, "{name}");
    }
}

#[test]
fn rejection_names_the_event() {
    let v = with(event("export", json!({})), "schema_version", json!(7));
    let r = parse_event(3, &v, &cx()).unwrap_err();
    assert_eq!(r.index, 3);
    assert_eq!(r.event_id.as_deref(), v["event_id"].as_str());
    assert!(r.message.contains('7'), "{}", r.message);
}

#[test]
fn user_comes_from_the_event_or_the_batch() {
    let v = event("export", json!({}));
    assert_eq!(parse(&v).unwrap().user_id, "u1");
    let v = with(v, "user_id", json!("u2"));
    assert_eq!(parse(&v).unwrap().user_id, "u2");
    let no_default = ParseContext {
        now_millis: NOW,
        default_user: None,
        default_account: None,
        account_only: false,
    };
    let r = parse_event(0, &event("export", json!({})), &no_default).unwrap_err();
    assert_eq!(r.code, "invalid_event");
}

#[test]
fn account_comes_from_the_event_or_the_batch() {
    let v = event("export", json!({}));
    assert_eq!(parse(&v).unwrap().account_id, None);
    let batch = ParseContext {
        default_account: Some("acme"),
        ..cx()
    };
    let e = parse_event(0, &v, &batch).unwrap();
    assert_eq!(e.account_id.as_deref(), Some("acme"));
    let e = parse_event(0, &with(v.clone(), "account_id", json!("globex")), &batch).unwrap();
    assert_eq!(
        e.account_id.as_deref(),
        Some("globex"),
        "the event's own wins"
    );
    for bad in [json!(""), json!(7), json!("a\u{7}b")] {
        let r = parse_event(0, &with(v.clone(), "account_id", bad.clone()), &batch);
        assert_eq!(r.unwrap_err().code, "invalid_event", "{bad}");
    }
    // From the tenant's backend an event may be the account's alone…
    let backend = ParseContext {
        now_millis: NOW,
        default_user: None,
        default_account: Some("acme"),
        account_only: true,
    };
    let e = parse_event(0, &v, &backend).unwrap();
    assert_eq!(
        (e.user_id.as_str(), e.account_id.as_deref()),
        ("", Some("acme"))
    );
    // …but a guide's event is always someone's, and the SDK always names a user.
    let started = event("tour_started", json!({"tour_id": TOUR}));
    let r = parse_event(0, &started, &backend).unwrap_err();
    assert!(r.message.contains("user_id is required"), "{}", r.message);
    let sdk = ParseContext {
        account_only: false,
        ..backend
    };
    assert_eq!(parse_event(0, &v, &sdk).unwrap_err().code, "invalid_event");
    let neither = ParseContext {
        default_account: None,
        ..backend
    };
    let r = parse_event(0, &v, &neither).unwrap_err();
    assert!(r.message.contains("user_id or account_id"), "{}", r.message);
}

#[test]
fn effects_of_account_events() {
    let c = catalog();
    let acme = ParseContext {
        default_account: Some("acme"),
        ..cx()
    };
    let of = |v: Value, user: Option<&str>| {
        let v = match user {
            Some(u) => with(v, "user_id", json!(u)),
            None => v,
        };
        parse_event(0, &v, &acme).unwrap()
    };
    let day = Grain::Day.bucket(NOW - 1000);
    let events = [
        of(event("sso_connected", json!({})), Some("u1")),
        of(event("sso_connected", json!({})), Some("u2")),
        of(
            event("content_viewed", json!({"content_id": CONTENT})),
            Some("u2"),
        ),
        of(event("export", json!({})), None),
    ];
    let mut alone = of(event("seats_changed", json!({})), None);
    alone.user_id = String::new();
    let fx = Effects::of(events.iter().chain([&alone]), &c);
    assert_eq!(
        fx.account_counts[&("acme".into(), "sso_connected".into())].0,
        2
    );
    assert_eq!(fx.account_shown[&("acme".into(), CONTENT.into())].0, 1);
    assert_eq!(fx.account_shown.len(), 1, "only what was shown counts");
    let viewed = fx
        .account_rollups
        .iter()
        .find(|((a, k), _)| a == "acme" && k.event == "content_viewed")
        .unwrap();
    assert_eq!((viewed.0 .1.grain, *viewed.1), (Grain::Day, 1));
    assert!(fx
        .account_uniques
        .contains(&("acme".into(), day, CONTENT.into(), "u2".into())));
    assert!(fx
        .account_uniques
        .contains(&("acme".into(), day, String::new(), "u1".into())));
    // The account's own event: counted for it and in the rollups, for no user.
    assert_eq!(
        fx.account_counts[&("acme".into(), "seats_changed".into())].0,
        1
    );
    assert!(fx.counts.keys().all(|(u, _)| !u.is_empty()));
    assert!(fx.users.keys().all(|u| !u.is_empty()));
    assert!(fx.uniques.iter().all(|(_, _, u)| !u.is_empty()));
    assert!(fx
        .rollups
        .keys()
        .any(|k| k.event == "seats_changed" && k.grain == Grain::Hour));
}

#[test]
fn catalog_checks_references() {
    let c = catalog();
    let check = |v: Value| c.check(&parse(&v).unwrap());
    assert_eq!(
        check(event("step_viewed", json!({"tour_id": TOUR, "step": 1}))),
        Ok(true)
    );
    assert_eq!(
        check(event("step_viewed", json!({"tour_id": TOUR, "step": 2}))).map_err(|e| e.0),
        Err("unknown_step")
    );
    let other = "0d5b6c1e-9999-4c6f-9a1e-000000000009";
    assert_eq!(
        check(event("tour_started", json!({"tour_id": other}))),
        Ok(false)
    );
    assert_eq!(
        check(event("tour_started", json!({"tour_id": CONTENT}))).map_err(|e| e.0),
        Err("unknown_object")
    );
    assert_eq!(
        check(event(
            "checklist_item_completed",
            json!({"checklist_id": CHECKLIST, "item_id": "nope"})
        ))
        .map_err(|e| e.0),
        Err("unknown_item")
    );
    assert_eq!(
        check(event(
            "experiment_exposed",
            json!({"object_id": TOUR, "arm": "b"})
        ))
        .map_err(|e| e.0),
        Err("unknown_arm")
    );
    assert_eq!(
        check(event(
            "experiment_exposed",
            json!({"object_id": TOUR, "arm": "a"})
        )),
        Ok(true)
    );
    assert_eq!(check(event("export", json!({}))), Ok(true));
}

#[test]
fn effects_fold_progress_counts_and_rollups() {
    let c = catalog();
    let at = |v: Value, ms: i64| parse(&with(v, "timestamp", json!(ms))).unwrap();
    let t0 = NOW - 10 * 60_000;
    let events = vec![
        at(
            with(
                event("tour_started", json!({"tour_id": TOUR})),
                "session_id",
                json!("s1"),
            ),
            t0,
        ),
        at(
            event("step_viewed", json!({"tour_id": TOUR, "step": 0})),
            t0 + 1,
        ),
        at(
            event("step_viewed", json!({"tour_id": TOUR, "step": 1})),
            t0 + 2,
        ),
        at(event("tour_completed", json!({"tour_id": TOUR})), t0 + 3),
        at(event("export", json!({})), t0 + 4),
        at(event("export", json!({})), t0 + 5),
        at(
            event("experiment_exposed", json!({"object_id": TOUR, "arm": "a"})),
            t0 - 5,
        ),
        at(
            event(
                "survey_answered",
                json!({"tour_id": TOUR, "step": 1, "choices": ["x", "y"]}),
            ),
            t0 + 6,
        ),
        at(event("identify", json!({"plan": "pro"})), t0 + 7),
    ];
    let fx = Effects::of(&events, &c);
    assert_eq!(fx.users["u1"], (t0 - 5, t0 + 7));
    assert_eq!(fx.counts[&("u1".into(), "export".into())], (2, t0 + 5));
    let p = &fx.progress[&("u1".into(), TOUR.into())];
    assert_eq!(p.shown, 1);
    assert_eq!(p.last_session.as_deref(), Some("s1"));
    assert_eq!(p.step_reached, Some(1));
    assert_eq!(p.started, Some(t0));
    assert_eq!(p.completed, Some(t0 + 3));
    // The export event and the finished tour tick both checklist items.
    let cl = &fx.progress[&("u1".into(), CHECKLIST.into())];
    assert_eq!(cl.items.iter().collect::<Vec<_>>(), vec!["i1", "i2"]);
    assert_eq!(
        cl.all_items.as_deref(),
        Some(&["i1".to_string(), "i2".to_string()][..])
    );
    assert_eq!(
        fx.exposures[&(TOUR.into(), "u1".into())],
        ("a".into(), t0 - 5)
    );
    assert_eq!(fx.conversions[&(TOUR.into(), "u1".into())], t0 + 4);
    assert_eq!(fx.identities["u1"]["plan"], json!("pro"));
    let views: u64 = fx
        .rollups
        .iter()
        .filter(|(k, _)| k.grain == Grain::Day && k.event == "step_viewed")
        .map(|(_, n)| n)
        .sum();
    assert_eq!(views, 2);
    let choices: Vec<&str> = fx
        .rollups
        .keys()
        .filter(|k| k.grain == Grain::Hour && k.event == SURVEY_ANSWER)
        .map(|k| k.detail.as_str())
        .collect();
    assert_eq!(choices, vec!["x", "y"]);
    let responses: u64 = fx
        .rollups
        .iter()
        .filter(|(k, _)| k.grain == Grain::Hour && k.event == "survey_answered")
        .map(|(_, n)| n)
        .sum();
    assert_eq!(responses, 1, "one response with two choices");
    assert!(fx
        .uniques
        .contains(&(Grain::Day.bucket(t0), String::new(), "u1".into())));
    assert!(fx
        .uniques
        .contains(&(Grain::Day.bucket(t0), TOUR.into(), "u1".into())));
    let steps: Vec<&str> = fx
        .uniques
        .iter()
        .filter(|(_, o, _)| o.starts_with(&format!("{TOUR}#")))
        .map(|(_, o, _)| o.as_str())
        .collect();
    assert!(!steps.is_empty(), "step viewers are kept per step");
    assert!(
        steps.iter().all(|o| o.ends_with("#0") || o.ends_with("#1")),
        "{steps:?}"
    );
}

#[test]
fn buckets_are_utc_hours_and_days() {
    assert_eq!(Grain::Hour.bucket(3_600_000 * 5 + 17), 3_600_000 * 5);
    assert_eq!(Grain::Day.bucket(DAY_MS * 3 + 5), DAY_MS * 3);
    assert_eq!(Grain::Day.bucket(-1), -DAY_MS);
}
