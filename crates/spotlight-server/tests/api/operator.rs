use crate::both_stores;
use crate::helpers::*;
use serde_json::{json, Value};

both_stores!(operator_token_is_required, |app: TestApp| async move {
    let r = app.anon().get("/v1/operator/tenants").await;
    let (code, _, _) = error_code(r, 401).await;
    assert_eq!(code, "unauthenticated");
    let r = app.admin("wrong-token").get("/v1/operator/tenants").await;
    error_code(r, 401).await;
    // A tenant's secret key is not an operator token.
    let t = app.tenant("Acme", &[]).await;
    let r = app.admin(prod(&t).1).get("/v1/operator/tenants").await;
    error_code(r, 401).await;
});

both_stores!(
    operator_creates_tenants_with_keys,
    |app: TestApp| async move {
        let r = app.operator().post("/v1/operator/tenants").json(&json!({ "name": "Acme", "allowed_origins": ["https://app.acme.test", "https://*.acme.dev"] })).await;
        assert_eq!(r.status(), 201);
        let body: Value = r.json().await.unwrap();
        let id = body["tenant_id"].as_str().unwrap();
        for env in ["production", "staging"] {
            let pk = body["environments"][env]["publishable_key"]
                .as_str()
                .unwrap();
            let sk = body["environments"][env]["secret_key"].as_str().unwrap();
            assert!(pk.starts_with("pk_") && sk.starts_with("sk_"), "{body}");
        }
        assert_eq!(
            body["allowed_origins"],
            json!(["https://app.acme.test", "https://*.acme.dev"])
        );

        let r = app
            .operator()
            .get(&format!("/v1/operator/tenants/{id}"))
            .await;
        assert_eq!(r.status(), 200);
        let got: Value = r.json().await.unwrap();
        assert_eq!(got["name"], "Acme");
        assert!(got["environments"]["staging"]["environment_id"].is_string());
        // Keys are shown once: never again.
        let text = got.to_string();
        assert!(!text.contains("pk_") && !text.contains("sk_"), "{text}");
    }
);

both_stores!(
    invalid_tenants_list_every_field,
    |app: TestApp| async move {
        let r = app.operator().post("/v1/operator/tenants").json(&json!({ "name": "  ", "allowed_origins": ["https://ok.test", "*", "ftp://x.test"] })).await;
        let (code, body, _) = error_code(r, 422).await;
        assert_eq!(code, "validation_failed");
        let paths: Vec<&str> = body["error"]["details"]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["path"].as_str().unwrap())
            .collect();
        assert_eq!(paths, ["name", "allowed_origins[1]", "allowed_origins[2]"]);
        assert!(app.store().list_tenants(None, 10).await.unwrap().is_empty());
    }
);

both_stores!(tenant_lists_paginate_by_cursor, |app: TestApp| async move {
    for i in 0..5 {
        app.tenant(&format!("T{i}"), &[]).await;
    }
    let mut names = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut url = app.url("/v1/operator/tenants?limit=2");
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let page: Value = app
            .client
            .get(url)
            .bearer_auth(app.operator_token())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        pages += 1;
        for t in page["items"].as_array().unwrap() {
            names.push(t["name"].as_str().unwrap().to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(names, ["T0", "T1", "T2", "T3", "T4"]);
    assert_eq!(pages, 3);
    // A limit above the maximum is clamped, not refused.
    let r = app
        .operator()
        .get("/v1/operator/tenants?limit=100000")
        .await;
    assert_eq!(r.status(), 200);
    let r = app
        .operator()
        .get("/v1/operator/tenants?cursor=garbage")
        .await;
    error_code(r, 422).await;
    let r = app.operator().get("/v1/operator/tenants/not-a-uuid").await;
    error_code(r, 404).await;
    let r = app
        .operator()
        .get(&format!("/v1/operator/tenants/{}", uuid::Uuid::now_v7()))
        .await;
    error_code(r, 404).await;
});

async fn usage(app: &TestApp, query: &str) -> reqwest::Response {
    app.operator()
        .get(&format!("/v1/operator/usage{query}"))
        .await
}

fn env_usage<'a>(report: &'a Value, tenant: &str, env: &str) -> &'a Value {
    report["tenants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["tenant_id"] == tenant)
        .and_then(|t| {
            t["environments"]
                .as_array()
                .unwrap()
                .iter()
                .find(|e| e["environment"] == env)
        })
        .unwrap_or_else(|| panic!("no usage for {tenant}/{env}: {report}"))
}

both_stores!(
    usage_sums_every_node_per_tenant_and_environment,
    |app: TestApp| async move {
        use crate::events::{ev, post_ok};
        use crate::helpers::config_json;
        let acme = app.tenant("Acme", &[]).await;
        let globex = app.tenant("Globex", &[]).await;
        let peer = app.spawn_peer().await;
        let (acme_pk, _) = prod(&acme);
        let acme_staging = &acme.environments["staging"].publishable_key;
        // Node A: three config requests by two users; node B: one more, by a third.
        for user in ["u1", "u2", "u1"] {
            config_json(&app, acme_pk, &format!("user_id={user}&url=/")).await;
        }
        config_json(&peer, acme_pk, "user_id=u3&url=/").await;
        // Events on node B, one batch resent (not counted twice).
        let mut events = vec![];
        for _ in 0..4 {
            let mut e = ev("clicked", json!({}));
            e["user_id"] = json!("u3");
            events.push(e);
        }
        let body = json!({ "events": events });
        post_ok(&peer, acme_pk, &body).await;
        let again = post_ok(&peer, acme_pk, &body).await;
        assert_eq!(again["duplicates"], 4);
        // Staging and another tenant are counted apart.
        config_json(&app, acme_staging, "user_id=s1&url=/").await;
        config_json(&app, prod(&globex).0, "user_id=g1&url=/").await;
        // Each node adds its own counts (and profile writes) when asked, and
        // every 10 s: B's first, then A's.
        assert_eq!(usage(&peer, "").await.status(), 200);
        let r = usage(&app, "").await;
        assert_eq!(r.status(), 200);
        let report: Value = r.json().await.unwrap();
        let acme_id = acme.tenant_id.to_string();
        let prod_usage = env_usage(&report, &acme_id, "production");
        assert_eq!(prod_usage["config_requests"], 4, "{report}");
        assert_eq!(prod_usage["events_ingested"], 4, "{report}");
        let month = report["to"].as_str().unwrap()[..7].to_owned();
        assert_eq!(prod_usage["monthly_active_users"][&month], 3, "{report}");
        assert!(prod_usage["stored_bytes"].as_u64().unwrap() > 0, "{report}");
        let staging = env_usage(&report, &acme_id, "staging");
        assert_eq!(staging["config_requests"], 1);
        assert_eq!(staging["monthly_active_users"][&month], 1);
        let globex_usage = env_usage(&report, &globex.tenant_id.to_string(), "production");
        assert_eq!(globex_usage["config_requests"], 1);
        assert_eq!(globex_usage["events_ingested"], 0);

        // A range without this month has none of it.
        let r = usage(&app, "?from=2020-01-01&to=2020-01-31").await;
        let old: Value = r.json().await.unwrap();
        assert_eq!(old["tenants"], json!([]), "{old}");

        // Prometheus: per tenant and environment, never per user.
        let metrics = app.metrics().await;
        let line = format!(
            "spotlight_usage_config_requests_total{{tenant=\"{acme_id}\",environment=\"{}\"}} 3",
            acme.environments["production"].environment_id
        );
        assert!(metrics.contains(&line), "{line} not in metrics");
        assert!(!metrics.contains("u1") && !metrics.contains("user_id"));

        // Bad input names the field.
        for (q, field) in [
            ("?from=yesterday", "from"),
            ("?to=2026-02-30", "to"),
            ("?from=2026-02-01&to=2026-01-01", "to"),
            ("?from=1900-01-01&to=2026-01-01", "to"),
        ] {
            let (code, body, _) = error_code(usage(&app, q).await, 422).await;
            assert_eq!(code, "validation_failed", "{q}: {body}");
            assert!(body.to_string().contains(field), "{q}: {body}");
        }
        let r = usage(&app, "?tenant=x").await;
        assert_eq!(r.status(), 400, "unknown parameters are refused");
        let r = app.admin(prod(&acme).1).get("/v1/operator/usage").await;
        error_code(r, 401).await;
    }
);
