use crate::both_stores;
use crate::helpers::*;
use serde_json::{json, Value};

both_stores!(operator_token_is_required, |app: TestApp| async move {
    let r = app
        .client
        .get(app.url("/v1/operator/tenants"))
        .send()
        .await
        .unwrap();
    let (code, _, _) = error_code(r, 401).await;
    assert_eq!(code, "unauthenticated");
    let r = app
        .client
        .get(app.url("/v1/operator/tenants"))
        .bearer_auth("wrong-token")
        .send()
        .await
        .unwrap();
    error_code(r, 401).await;
    // A tenant's secret key is not an operator token.
    let t = app.tenant("Acme", &[]).await;
    let r = app
        .client
        .get(app.url("/v1/operator/tenants"))
        .bearer_auth(prod(&t).1)
        .send()
        .await
        .unwrap();
    error_code(r, 401).await;
});

both_stores!(
    operator_creates_tenants_with_keys,
    |app: TestApp| async move {
        let r = app
        .client
        .post(app.url("/v1/operator/tenants"))
        .bearer_auth(app.operator_token())
        .json(&json!({ "name": "Acme", "allowed_origins": ["https://app.acme.test", "https://*.acme.dev"] }))
        .send()
        .await
        .unwrap();
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
            .client
            .get(app.url(&format!("/v1/operator/tenants/{id}")))
            .bearer_auth(app.operator_token())
            .send()
            .await
            .unwrap();
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
        let r = app
        .client
        .post(app.url("/v1/operator/tenants"))
        .bearer_auth(app.operator_token())
        .json(&json!({ "name": "  ", "allowed_origins": ["https://ok.test", "*", "ftp://x.test"] }))
        .send()
        .await
        .unwrap();
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
        .client
        .get(app.url("/v1/operator/tenants?limit=100000"))
        .bearer_auth(app.operator_token())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = app
        .client
        .get(app.url("/v1/operator/tenants?cursor=garbage"))
        .bearer_auth(app.operator_token())
        .send()
        .await
        .unwrap();
    error_code(r, 422).await;
    let r = app
        .client
        .get(app.url("/v1/operator/tenants/not-a-uuid"))
        .bearer_auth(app.operator_token())
        .send()
        .await
        .unwrap();
    error_code(r, 404).await;
    let r = app
        .client
        .get(app.url(&format!("/v1/operator/tenants/{}", uuid::Uuid::now_v7())))
        .bearer_auth(app.operator_token())
        .send()
        .await
        .unwrap();
    error_code(r, 404).await;
});
