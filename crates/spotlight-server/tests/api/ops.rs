use crate::both_stores;
use crate::helpers::*;
use serde_json::Value;

both_stores!(health_and_readiness, |app: TestApp| async move {
    let r = app.anon().get("/healthz").await;
    assert_eq!(r.status(), 200);
    let r = app.anon().get("/readyz").await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["status"], "ready");
    let expected = match app.db {
        Db::Sqlite => "sqlite",
        Db::Postgres => "postgres",
    };
    assert_eq!(body["store"], expected);
});

both_stores!(
    metrics_count_requests_and_startup,
    |app: TestApp| async move {
        app.anon().get("/healthz").await;
        app.anon().get("/v1/admin/keys").await; // 401
        let text = app.anon().get("/metrics").await.text().await.unwrap();
        assert!(
            text.contains(
                r#"spotlight_http_requests_total{method="GET",route="/healthz",status="200"} 1"#
            ),
            "{text}"
        );
        assert!(
            text.contains("spotlight_http_request_duration_seconds_bucket"),
            "{text}"
        );
        assert!(
            text.contains(r#"spotlight_auth_failures_total{kind="admin",reason="missing"} 1"#),
            "{text}"
        );
        assert!(
            text.contains("spotlight_startup_duration_seconds "),
            "{text}"
        );
        assert!(text.contains("spotlight_build_info{version="), "{text}");
    }
);

both_stores!(
    security_headers_on_every_response,
    |app: TestApp| async move {
        for path in ["/healthz", "/no/such/route", "/v1/admin/keys"] {
            let r = app.anon().get(path).await;
            let h = r.headers();
            assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
            assert_eq!(h["x-frame-options"], "DENY", "{path}");
            assert!(h["content-security-policy"]
                .to_str()
                .unwrap()
                .contains("frame-ancestors 'none'"));
            assert_eq!(h["referrer-policy"], "no-referrer");
            assert!(h.contains_key("permissions-policy"));
            // Plain HTTP with no TLS proxy: no HSTS.
            assert!(!h.contains_key("strict-transport-security"));
            assert!(h.contains_key("x-request-id"));
        }
    }
);

both_stores!(request_ids_are_kept_when_plain, |app: TestApp| async move {
    let r = app
        .anon()
        .get("/no/such/route")
        .header("x-request-id", "client-abc.123")
        .await;
    assert_eq!(r.headers()["x-request-id"], "client-abc.123");
    let (_, body, _) = error_code(r, 404).await;
    assert_eq!(body["error"]["request_id"], "client-abc.123");

    let r = app
        .anon()
        .get("/healthz")
        .header("x-request-id", "bad id with spaces")
        .await;
    let id = r.headers()["x-request-id"].to_str().unwrap();
    assert_ne!(id, "bad id with spaces");
    assert_eq!(id.len(), 32);
});

#[tokio::test]
async fn readiness_fails_while_migrations_are_pending() {
    for db in [Db::Sqlite, Db::Postgres] {
        if db == Db::Postgres && !postgres_available() {
            continue;
        }
        let app = TestApp::spawn_with(db, |c| c.store.migrate_on_start = false).await;
        let r = app.anon().get("/readyz").await;
        assert_eq!(r.status(), 503, "{db:?}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["reason"], "migrations pending");
        assert!(!body["pending"].as_array().unwrap().is_empty());
        // Liveness does not depend on the store.
        let r = app.anon().get("/healthz").await;
        assert_eq!(r.status(), 200);
        // Migrating makes the same node ready.
        app.store().migrate().await.unwrap();
        let r = app.anon().get("/readyz").await;
        assert_eq!(r.status(), 200, "{db:?}");
    }
}

#[tokio::test]
async fn readiness_fails_when_the_store_is_unreachable() {
    // A PostgreSQL database that is dropped under a running node.
    if !postgres_available() {
        return;
    }
    let app = TestApp::spawn(Db::Postgres).await;
    assert_eq!(app.anon().get("/readyz").await.status(), 200);
    app.store().close().await;
    let r = app.anon().get("/readyz").await;
    assert_eq!(r.status(), 503);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["reason"], "store unreachable");
}

both_stores!(
    responses_are_compressed_when_asked,
    |app: TestApp| async move {
        // Enough traffic that /metrics is well over the compression threshold.
        for _ in 0..5 {
            app.anon().get("/healthz").await;
        }
        let r = app
            .anon()
            .get("/metrics")
            .header("accept-encoding", "gzip")
            .await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-encoding"], "gzip");
        let plain = app.anon().get("/metrics").await;
        assert!(plain.headers().get("content-encoding").is_none());
    }
);

// Every metric the alert rules (deploy/prometheus/alerts.yml) read is one this server exports.
both_stores!(
    alert_rules_read_only_exported_metrics,
    |app: TestApp| async move {
        let rules = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../deploy/prometheus/alerts.yml"),
        )
        .unwrap();
        // Readiness is evaluated once, so its gauge has a value.
        app.anon().get("/readyz").await;
        let metrics = app.metrics().await;
        let mut names: Vec<String> = rules
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .filter(|w| w.starts_with("spotlight_"))
            .map(|w| {
                let mut n = w.to_owned();
                for suffix in ["_total", "_bucket", "_sum", "_count"] {
                    if let Some(base) = n.strip_suffix(suffix) {
                        n = base.to_owned();
                    }
                }
                n
            })
            .collect();
        names.sort();
        names.dedup();
        assert!(names.len() >= 10, "{names:?}");
        for name in &names {
            assert!(
                metrics.contains(&format!("# TYPE {name} ")),
                "the alert rules read {name}, which /metrics does not export"
            );
        }
        assert!(
            metrics.contains("spotlight_ready 1"),
            "ready after /readyz answered 200"
        );
    }
);
