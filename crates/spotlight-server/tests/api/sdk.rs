use crate::both_stores;
use crate::helpers::*;

both_stores!(
    publishable_keys_only_from_allowed_origins,
    |app: TestApp| async move {
        let t = app
            .tenant("Acme", &["https://app.acme.test", "https://*.acme.dev"])
            .await;
        let (pk, _) = prod(&t);
        let ping = |origin: Option<&'static str>| {
            let mut req = app
                .client
                .get(app.url("/v1/sdk/ping"))
                .header("x-spotlight-key", pk);
            if let Some(o) = origin {
                req = req.header("origin", o);
            }
            req.send()
        };
        for ok in [
            "https://app.acme.test",
            "https://eu.acme.dev",
            "https://a.b.acme.dev",
        ] {
            let r = ping(Some(ok)).await.unwrap();
            assert_eq!(r.status(), 200, "{ok}");
            assert_eq!(r.headers()["access-control-allow-origin"], ok);
            assert!(
                r.headers()["vary"].to_str().unwrap().contains("Origin")
                    || r.headers().get_all("vary").iter().any(|v| v == "Origin")
            );
        }
        for bad in [
            "https://evil.test",
            "http://app.acme.test",
            "https://acme.dev",
            "https://app.acme.test.evil.test",
            "null",
        ] {
            let r = ping(Some(bad)).await.unwrap();
            let (code, _, _) = error_code(r, 403).await;
            assert_eq!(code, "origin_not_allowed", "{bad}");
        }
        // Not a browser page (no Origin): the key alone decides.
        assert_eq!(ping(None).await.unwrap().status(), 200);
    }
);

both_stores!(sdk_keys_are_checked, |app: TestApp| async move {
    let t = app.tenant("Acme", &[]).await;
    let (pk, _) = prod(&t);
    let r = app.anon().get("/v1/sdk/ping").await;
    error_code(r, 401).await;
    for bad in [
        "garbage",
        "pk_short",
        &format!("{}x", pk),
        "pk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    ] {
        let r = app
            .anon()
            .get("/v1/sdk/ping")
            .header("x-spotlight-key", bad)
            .await;
        let (code, body, _) = error_code(r, 401).await;
        assert_eq!(code, "unauthenticated");
        assert_eq!(body["error"]["message"], "missing or invalid credentials");
    }
    let metrics = app.anon().get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains(r#"spotlight_auth_failures_total{kind="sdk",reason="malformed"} 3"#),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"spotlight_auth_failures_total{kind="sdk",reason="unknown_key"} 1"#),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"spotlight_auth_failures_total{kind="sdk",reason="missing"} 1"#),
        "{metrics}"
    );
    assert!(!metrics.contains(&pk[3..]), "a key reached the metrics");
});

both_stores!(
    preflights_are_answered_and_cached,
    |app: TestApp| async move {
        let t = app.tenant("acme", &["https://app.acme.test"]).await;
        let (pk, _) = prod(&t);
        let r = app
            .client
            .request(
                reqwest::Method::OPTIONS,
                app.url(&format!("/v1/sdk/ping?key={pk}")),
            )
            .header("origin", "https://app.acme.test")
            .header("access-control-request-method", "GET")
            .header("access-control-request-headers", "x-spotlight-key")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 204);
        let h = r.headers();
        assert!(h["access-control-allow-headers"]
            .to_str()
            .unwrap()
            .contains("x-spotlight-key"));
        assert_eq!(h["access-control-max-age"], "7200");
        assert!(h.get("access-control-allow-credentials").is_none());
        assert_eq!(h["access-control-allow-origin"], "https://app.acme.test");
    }
);
