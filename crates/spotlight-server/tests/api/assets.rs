//! Embedded assets: the SDK script (`/sdk/v1/…`), its content-hashed aliases and lazy
//! chunks, the beacon path (publishable key in the query), the demo app and the dashboard.

use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sdk_script_is_served_short_cached_and_under_its_hash_immutable() {
    let app = TestApp::spawn(Db::Sqlite).await;
    let r = app.anon().get("/sdk/v1/spotlight.js").await;
    assert_eq!(r.status(), 200);
    let h = r.headers().clone();
    assert!(h["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/javascript"));
    assert_eq!(h["cache-control"], "public, max-age=300");
    assert_eq!(h["cross-origin-resource-policy"], "cross-origin");
    let etag = h["etag"].to_str().unwrap().to_owned();
    let body = r.text().await.unwrap();
    assert!(body.len() > 10_000, "the real bundle, not a stub");

    // Revalidation.
    let r = app
        .anon()
        .get("/sdk/v1/spotlight.js")
        .header("if-none-match", &etag)
        .await;
    assert_eq!(r.status(), 304);

    // The same bytes under the hashed name, cached for a year.
    let hashed = spotlight_server::routes::sdk_script::hashed_path();
    let r = app.anon().get(&hashed).await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert_eq!(r.text().await.unwrap(), body);

    // The core names its lazy chunks by hash; those names are served.
    for name in ["spotlight-widgets.", "spotlight-editor."] {
        let at = body.find(name).expect("the core refers to its lazy chunks");
        let chunk: String = body[at..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '.' || *c == '-')
            .collect();
        assert!(chunk.ends_with(".js"), "{chunk}");
        let r = app.anon().get(&format!("/sdk/v1/{chunk}")).await;
        assert_eq!(r.status(), 200, "{chunk}");
        assert_eq!(r.headers()["access-control-allow-origin"], "*", "{chunk}");
    }

    // Every file may be imported as a module from a tenant's origin (CORS).
    for file in [
        "/sdk/v1/spotlight.js",
        "/sdk/v1/spotlight.mjs",
        hashed.as_str(),
    ] {
        let r = app
            .anon()
            .get(file)
            .header("origin", "https://app.tenant.test")
            .await;
        assert_eq!(r.status(), 200, "{file}");
        assert_eq!(r.headers()["access-control-allow-origin"], "*", "{file}");
    }

    for missing in [
        "/sdk/v1/spotlight.0000000000000000.js",
        "/sdk/v1/other.js",
        "/sdk/v1/spotlight-widgets.js",
    ] {
        let r = app.anon().get(missing).await;
        assert_eq!(r.status(), 404, "{missing}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_beacon_may_carry_the_publishable_key_in_the_query() {
    let app = TestApp::spawn(Db::Sqlite).await;
    let t = app.tenant("Beacon", &["https://app.beacon.test"]).await;
    let (pk, _) = prod(&t);
    let batch = serde_json::json!({"events": [{
        "event_id": uuid::Uuid::new_v4().to_string(),
        "schema_version": 1,
        "name": "opened_page",
        "timestamp": time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap(),
        "user_id": "u-beacon",
    }]});
    // sendBeacon: text/plain, no custom headers.
    let r = app
        .anon()
        .post(&format!("/v1/sdk/events?key={pk}"))
        .header("origin", "https://app.beacon.test")
        .header("content-type", "text/plain;charset=UTF-8")
        .body(batch.to_string())
        .await;
    assert_eq!(r.status(), 202, "{}", r.text().await.unwrap());
    // Still policed: a wrong origin or a bad key is refused.
    let r = app
        .anon()
        .post(&format!("/v1/sdk/events?key={pk}"))
        .header("origin", "https://evil.test")
        .body(batch.to_string())
        .await;
    assert_eq!(r.status(), 403);
    let r = app
        .anon()
        .post("/v1/sdk/events?key=pk_nope")
        .body(batch.to_string())
        .await;
    assert_eq!(r.status(), 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_app_exists_only_under_spotlight_demo() {
    let app = TestApp::spawn(Db::Sqlite).await;
    for path in ["/demo/", "/demo/reports", "/demo/app.js", "/demo/app.css"] {
        let r = app.anon().get(path).await;
        assert_eq!(r.status(), 404, "{path} without the demo");
    }
    let _ = app.state.demo.set("pk_demo_key".into());
    let r = app.anon().get("/demo/reports").await;
    assert_eq!(r.status(), 200);
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"));
    let html = r.text().await.unwrap();
    assert!(html.contains(r#"data-key="pk_demo_key""#));
    assert!(html.contains(r#"src="/sdk/v1/spotlight.js""#));
    assert!(!html.contains("<script>"), "no inline script");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_shell_and_its_hashed_assets_are_served_under_a_strict_csp() {
    let app = TestApp::spawn(Db::Sqlite).await;
    for path in ["/app/", "/app/tours", "/app/settings/keys"] {
        let r = app.anon().get(path).await;
        assert_eq!(r.status(), 200, "{path}");
        let csp = r.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            csp.contains("script-src 'self'") && !csp.contains("unsafe"),
            "{csp}"
        );
        let html = r.text().await.unwrap();
        assert!(!html.contains("<script>"), "no inline script");
        for ext in ["js", "css"] {
            let marker = "/app/assets/app.";
            let at = html
                .match_indices(marker)
                .map(|(i, _)| i)
                .find(|i| html[*i..].split('"').next().unwrap().ends_with(ext))
                .unwrap_or_else(|| panic!("the shell links its {ext}"));
            let asset = html[at..].split('"').next().unwrap().to_owned();
            let r = app.anon().get(&asset).await;
            assert_eq!(r.status(), 200, "{asset}");
            assert_eq!(
                r.headers()["cache-control"],
                "public, max-age=31536000, immutable"
            );
        }
    }
    let r = app.anon().get("/app/assets/app.0000.js").await;
    assert_eq!(r.status(), 404);
}
