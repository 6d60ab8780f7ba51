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

/// The paths SPEC.md fixes; the rest of the document comes from the route list.
const FIXED: [(&str, &str); 6] = [
    ("get", "/healthz"),
    ("get", "/readyz"),
    ("get", "/metrics"),
    ("get", "/openapi.json"),
    ("get", "/v1/sdk/config"),
    ("post", "/v1/sdk/events"),
];

/// `(method, path after /v1/admin/<collection>)` of one kind's operations.
fn kind_operations(paths: &serde_json::Map<String, Value>, c: &str) -> Vec<(String, String)> {
    let base = format!("/v1/admin/{c}");
    let mut ops: Vec<(String, String)> = paths
        .iter()
        .filter_map(|(p, item)| {
            let tail = p.strip_prefix(&base)?;
            (tail.is_empty() || tail.starts_with("/{id}")).then_some((tail, item))
        })
        .flat_map(|(tail, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .map(move |m| (m.clone(), tail.to_owned()))
        })
        .collect();
    ops.sort();
    ops
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
    // Two types under one schema name would describe one of them wrongly.
    let collisions = spotlight_server::routes::api().schema_collisions();
    assert!(
        collisions.is_empty(),
        "schema names used by two types: {collisions:?}"
    );
    let app = TestApp::spawn(Db::Sqlite).await;
    let t = app.tenant("Acme", &[]).await;
    let (_, sk) = prod(&t);
    let r = app.anon().get("/openapi.json").await;
    assert_eq!(r.status(), 200);
    let spec: Value = r.json().await.unwrap();
    assert!(spec["openapi"].as_str().unwrap().starts_with("3."));
    let paths = spec["paths"].as_object().unwrap();

    for (method, path) in FIXED {
        assert!(
            paths.get(path).and_then(|p| p.get(method)).is_some(),
            "{method} {path} is not documented"
        );
    }
    let mut documented = 0;
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            documented += 1;
            assert!(
                op["summary"].is_string() && op["responses"].is_object(),
                "{method} {path}"
            );
            let codes: Vec<&String> = op["responses"].as_object().unwrap().keys().collect();
            // A browser route's success is a redirect.
            assert!(
                codes
                    .iter()
                    .any(|c| c.starts_with('2') || c.starts_with('3')),
                "{method} {path} has no success response"
            );
            if path.starts_with("/v1/admin/") {
                assert!(
                    op["security"].as_array().is_some_and(|s| s.len() == 2),
                    "{method} {path} names no credentials"
                );
            }
        }
    }
    // The six kinds are one generic set of handlers, documented alike.
    let tours = kind_operations(paths, "tours");
    assert_eq!(tours.len(), 15, "{tours:?}");
    for c in COLLECTIONS {
        assert_eq!(kind_operations(paths, c), tours, "{c}");
    }
    // The role comes from the handler's extractor (`AdminActor<EditorRole>` …).
    for (method, path, role) in [
        ("get", "/v1/admin/tours", "viewer"),
        ("post", "/v1/admin/tours", "editor"),
        ("post", "/v1/admin/keys", "admin"),
        ("post", "/v1/admin/members", "owner"),
    ] {
        let description = paths[path][method]["description"].as_str().unwrap();
        assert!(
            description.contains(&format!("`{role}`")),
            "{method} {path}: {description}"
        );
    }
    // What is not documented is not routed.
    let r = app.admin(sk).get("/v1/admin/nothing-here").await;
    assert_eq!(r.status(), 404);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "route_not_found");

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
    let r = app.anon().get("/docs").await;
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
        assert_eq!(app.anon().get(asset).await.status(), 200);
    }
}
