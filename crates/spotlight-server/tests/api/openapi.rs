//! `/openapi.json` covers every route: each route the server has is documented
//! with its method, and each method the document leaves out of a path is one
//! the server refuses with 405. Every `$ref` resolves.

use crate::helpers::*;
use serde_json::Value;

const COLLECTIONS: [&str; 6] = [
    "tours",
    "content",
    "checklists",
    "launchers",
    "themes",
    "audiences",
];
const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

fn expected() -> Vec<(&'static str, String)> {
    let mut r: Vec<(&'static str, String)> = [
        ("get", "/healthz"),
        ("get", "/readyz"),
        ("get", "/metrics"),
        ("get", "/openapi.json"),
        ("get", "/v1/sdk/ping"),
        ("get", "/v1/sdk/config"),
        ("post", "/v1/sdk/events"),
        ("get", "/v1/admin/users/{user_id}"),
        ("get", "/v1/admin/analytics/overview"),
        ("get", "/v1/admin/analytics/tours/{id}"),
        ("get", "/v1/admin/analytics/content/{id}"),
        ("get", "/v1/admin/analytics/checklists/{id}"),
        ("get", "/v1/admin/analytics/surveys/{id}"),
        ("get", "/v1/admin/analytics/surveys/{id}/responses"),
        ("post", "/v1/admin/audiences/matches"),
        ("get", "/v1/admin/settings/identity-monitor"),
        ("get", "/v1/admin/analytics/experiments/{id}"),
        ("get", "/v1/admin/webhooks"),
        ("post", "/v1/admin/webhooks"),
        ("get", "/v1/admin/webhooks/{id}"),
        ("patch", "/v1/admin/webhooks/{id}"),
        ("delete", "/v1/admin/webhooks/{id}"),
        ("post", "/v1/admin/webhooks/{id}/rotate"),
        ("post", "/v1/admin/webhooks/{id}/test"),
        ("get", "/v1/admin/webhooks/{id}/deliveries"),
        ("get", "/v1/admin/dead-letters"),
        ("get", "/v1/admin/dead-letters/{id}"),
        ("delete", "/v1/admin/dead-letters/{id}"),
        ("post", "/v1/admin/dead-letters/{id}/replay"),
        ("post", "/v1/admin/dead-letters/replay"),
        ("post", "/v1/admin/dead-letters/discard"),
        ("post", "/v1/auth/login"),
        ("post", "/v1/auth/logout"),
        ("get", "/v1/auth/me"),
        ("post", "/v1/operator/tenants"),
        ("get", "/v1/operator/tenants"),
        ("get", "/v1/operator/tenants/{id}"),
        ("get", "/v1/operator/usage"),
        ("get", "/v1/admin/keys"),
        ("post", "/v1/admin/keys"),
        ("post", "/v1/admin/keys/{id}/rotate"),
        ("post", "/v1/admin/keys/{id}/revoke"),
        ("get", "/v1/admin/audit"),
        ("get", "/v1/admin/settings"),
        ("patch", "/v1/admin/settings"),
        ("put", "/v1/admin/settings"),
        ("get", "/v1/admin/members"),
        ("post", "/v1/admin/members"),
        ("put", "/v1/admin/members/{account_id}"),
        ("delete", "/v1/admin/members/{account_id}"),
        ("get", "/v1/admin/invitations"),
        ("delete", "/v1/admin/invitations/{id}"),
        ("post", "/v1/auth/invitations/accept"),
    ]
    .into_iter()
    .map(|(m, p)| (m, p.to_owned()))
    .collect();
    for c in COLLECTIONS {
        let base = format!("/v1/admin/{c}");
        let one = format!("{base}/{{id}}");
        r.extend([
            ("get", base.clone()),
            ("post", base.clone()),
            ("get", one.clone()),
            ("put", one.clone()),
            ("delete", one.clone()),
            ("post", format!("{one}/publish")),
            ("post", format!("{one}/unpublish")),
            ("get", format!("{one}/versions")),
            ("get", format!("{one}/versions/{{version}}")),
            ("post", format!("{one}/rollback")),
            ("post", format!("{one}/promote")),
            ("post", format!("{one}/duplicate")),
            ("post", format!("{one}/archive")),
            ("post", format!("{one}/unarchive")),
            ("post", format!("{one}/kill-switch")),
        ]);
    }
    r
}

fn refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(r)) = m.get("$ref") {
                out.push(r.clone());
            }
            m.values().for_each(|x| refs(x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
        _ => {}
    }
}

#[tokio::test]
async fn openapi_documents_every_route() {
    let app = TestApp::spawn(Db::Sqlite).await;
    let t = app.tenant("Acme", &[]).await;
    let (_, sk) = prod(&t);
    let r = app
        .client
        .get(app.url("/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let spec: Value = r.json().await.unwrap();
    assert!(spec["openapi"].as_str().unwrap().starts_with("3."));
    let paths = spec["paths"].as_object().unwrap();

    let expected = expected();
    for (method, path) in &expected {
        let op = &paths
            .get(path)
            .unwrap_or_else(|| panic!("{path} is not documented"))[*method];
        assert!(op.is_object(), "{method} {path} is not documented");
        assert!(
            op["summary"].is_string() && op["responses"].is_object(),
            "{method} {path}"
        );
        let codes: Vec<&String> = op["responses"].as_object().unwrap().keys().collect();
        assert!(
            codes.iter().any(|c| c.starts_with('2')),
            "{method} {path} has no success response"
        );
    }
    let documented: usize = paths.values().map(|p| p.as_object().unwrap().len()).sum();
    assert_eq!(
        documented,
        expected.len(),
        "the document has operations this test does not know"
    );

    // The server agrees: documented methods are routed, the others are 405.
    let id = uuid::Uuid::now_v7().to_string();
    for (path, item) in paths {
        let concrete = path
            .replace("{id}", &id)
            .replace("{account_id}", &id)
            .replace("{version}", "1");
        for method in METHODS {
            let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let r = app
                .client
                .request(m, app.url(&concrete))
                .bearer_auth(sk)
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            let body = r.text().await.unwrap();
            if status == 404 {
                let v: Value = serde_json::from_str(&body).unwrap();
                assert_ne!(
                    v["error"]["code"], "route_not_found",
                    "{method} {path}: the server has no such route"
                );
            }
            if item.get(method).is_some() {
                assert_ne!(status, 405, "{method} {path} is documented but not routed");
            } else {
                assert_eq!(status, 405, "{method} {path} is routed but not documented");
            }
        }
    }

    // Every reference resolves.
    let mut all = Vec::new();
    refs(&spec, &mut all);
    let schemas = spec["components"]["schemas"].as_object().unwrap();
    for r in all {
        let name = r
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("odd ref {r}"));
        assert!(schemas.contains_key(name), "unresolved {r}");
    }
    // The documents have real schemas (from the code), e.g. step kinds.
    let text = spec.to_string();
    assert!(
        text.contains("\"highlight\"") && text.contains("\"every_n_days\""),
        "domain schemas missing"
    );
    eprintln!(
        "openapi: {} operations, {} schemas",
        documented,
        schemas.len()
    );
}

#[tokio::test]
async fn the_api_reference_page_is_served_locally() {
    let app = TestApp::spawn(Db::Sqlite).await;
    let r = app.client.get(app.url("/docs")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe"),
        "{csp}"
    );
    let html = r.text().await.unwrap();
    assert!(
        html.contains("/docs/docs.js") && !html.contains("http"),
        "no CDN: {html}"
    );
    for asset in ["/docs/docs.js", "/docs/docs.css"] {
        assert_eq!(
            app.client
                .get(app.url(asset))
                .send()
                .await
                .unwrap()
                .status(),
            200
        );
    }
}
