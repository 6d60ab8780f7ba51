use crate::both_stores;
use crate::helpers::*;
use serde_json::json;

both_stores!(
    unknown_routes_and_methods_are_json,
    |app: TestApp| async move {
        let r = app.anon().get("/v1/nothing").await;
        let (code, _, _) = error_code(r, 404).await;
        assert_eq!(code, "route_not_found");
        let r = app
            .anon()
            .request(reqwest::Method::DELETE, "/healthz")
            .await;
        let (code, _, _) = error_code(r, 405).await;
        assert_eq!(code, "method_not_allowed");
    }
);

both_stores!(
    malformed_json_names_the_position,
    |app: TestApp| async move {
        let token = app.operator_token();
        let r = app
            .admin(&token)
            .post("/v1/operator/tenants")
            .header("content-type", "application/json")
            .body("{\"name\": \"Acme\",")
            .await;
        let (code, body, _) = error_code(r, 400).await;
        assert_eq!(code, "invalid_json");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("line 1 column"),
            "{body}"
        );

        // Wrong content type.
        let r = app
            .admin(&token)
            .post("/v1/operator/tenants")
            .body("{\"name\": \"Acme\"}")
            .await;
        let (code, _, _) = error_code(r, 415).await;
        assert_eq!(code, "unsupported_media_type");

        // Unknown fields are errors, not silently dropped.
        let r = app
            .admin(&token)
            .post("/v1/operator/tenants")
            .json(&json!({ "name": "Acme", "colour": "red" }))
            .await;
        let (code, body, _) = error_code(r, 422).await;
        assert_eq!(code, "validation_failed");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("colour"),
            "{body}"
        );
        // Nothing was created by the refused requests.
        assert!(app.store().list_tenants(None, 10).await.unwrap().is_empty());
    }
);

#[tokio::test]
async fn oversize_bodies_are_413() {
    for db in [Db::Sqlite, Db::Postgres] {
        if db == Db::Postgres && !postgres_available() {
            continue;
        }
        let app = TestApp::spawn_with(db, |c| c.http.body_limit_bytes = 4096).await;
        let name = "x".repeat(10_000);
        let r = app
            .operator()
            .post("/v1/operator/tenants")
            .json(&json!({ "name": name }))
            .await;
        let (code, _, _) = error_code(r, 413).await;
        assert_eq!(code, "payload_too_large");
        let r = app
            .anon()
            .post("/v1/auth/login")
            .json(&json!({ "email": "a@b.test", "password": name }))
            .await;
        let (code, _, _) = error_code(r, 413).await;
        assert_eq!(code, "payload_too_large");
    }
}
