use crate::both_stores;
use crate::helpers::*;
use serde_json::{json, Value};
use spotlight_domain::Role;

both_stores!(secret_keys_manage_keys, |app: TestApp| async move {
    let t = app.tenant("Acme", &[]).await;
    let (pk, sk) = prod(&t);
    let list: Value = app.admin(sk).get_json("/v1/admin/keys").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 4);
    assert!(
        !list.to_string().contains(&pk[3..]),
        "a listed key leaks its secret"
    );

    let r = app
        .admin(sk)
        .post("/v1/admin/keys")
        .json(&json!({ "kind": "publishable", "environment": "staging", "label": "ci" }))
        .await;
    assert_eq!(r.status(), 201);
    let created: Value = r.json().await.unwrap();
    let new_pk = created["secret"].as_str().unwrap().to_owned();
    assert!(new_pk.starts_with("pk_"));
    assert_eq!(created["key"]["environment"], "staging");
    let ping = app
        .anon()
        .get("/v1/sdk/ping")
        .header("x-spotlight-key", &new_pk)
        .await;
    assert_eq!(ping.status(), 200);
    let ping: Value = ping.json().await.unwrap();
    assert_eq!(ping["environment"], "staging");

    let r = app
        .admin(sk)
        .post("/v1/admin/keys")
        .json(&json!({ "kind": "publishable", "environment": "nope" }))
        .await;
    let (code, _, _) = error_code(r, 422).await;
    assert_eq!(code, "validation_failed");
});

both_stores!(
    revoked_and_rotated_keys_are_refused,
    |app: TestApp| async move {
        let t = app.tenant("Acme", &[]).await;
        let (pk, sk) = prod(&t);
        let keys: Value = app
            .admin(sk)
            .get_json("/v1/admin/keys?environment=production")
            .await;
        let id_of = |kind: &str| {
            keys["items"]
                .as_array()
                .unwrap()
                .iter()
                .find(|k| k["kind"] == kind)
                .unwrap()["id"]
                .as_str()
                .unwrap()
                .to_owned()
        };
        let pk_id = id_of("publishable");
        let sk_id = id_of("secret");

        // Rotate the publishable key with a grace period: both work for now.
        let r = app
            .admin(sk)
            .post(&format!("/v1/admin/keys/{pk_id}/rotate"))
            .json(&json!({ "grace_seconds": 3600 }))
            .await;
        assert_eq!(r.status(), 201);
        let rotated: Value = r.json().await.unwrap();
        let pk2 = rotated["secret"].as_str().unwrap().to_owned();
        assert!(rotated["old"]["expires_at"].is_string());
        for key in [pk, pk2.as_str()] {
            let r = app
                .anon()
                .get("/v1/sdk/ping")
                .header("x-spotlight-key", key)
                .await;
            assert_eq!(r.status(), 200);
        }

        // Revoke the old one: refused at once, with a 401 that does not say why.
        let r = app
            .admin(sk)
            .post(&format!("/v1/admin/keys/{pk_id}/revoke"))
            .await;
        assert_eq!(r.status(), 200);
        let revoked: Value = r.json().await.unwrap();
        assert_eq!(revoked["active"], false);
        let r = app
            .anon()
            .get("/v1/sdk/ping")
            .header("x-spotlight-key", pk)
            .await;
        let (code, body, _) = error_code(r, 401).await;
        assert_eq!(code, "unauthenticated");
        assert_eq!(body["error"]["message"], "missing or invalid credentials");

        // Rotating the secret key without grace: the old secret stops working at once.
        let r = app
            .admin(sk)
            .post(&format!("/v1/admin/keys/{sk_id}/rotate"))
            .await;
        assert_eq!(r.status(), 201);
        let rotated: Value = r.json().await.unwrap();
        let sk2 = rotated["secret"].as_str().unwrap().to_owned();
        let r = app.admin(sk).get("/v1/admin/keys").await;
        error_code(r, 401).await;
        let r = app.admin(&sk2).get("/v1/admin/keys").await;
        assert_eq!(r.status(), 200);

        // A revoked key cannot be rotated back to life.
        let r = app
            .admin(&sk2)
            .post(&format!("/v1/admin/keys/{pk_id}/rotate"))
            .await;
        error_code(r, 404).await;
        // Grace periods are bounded.
        let r = app
            .admin(&sk2)
            .post(&format!("/v1/admin/keys/{sk_id}/rotate"))
            .json(&json!({ "grace_seconds": -1 }))
            .await;
        error_code(r, 422).await;
    }
);

both_stores!(
    tenants_cannot_touch_each_others_keys,
    |app: TestApp| async move {
        let a = app.tenant("A", &[]).await;
        let b = app.tenant("B", &[]).await;
        let (a_pk, a_sk) = prod(&a);
        let (_, b_sk) = prod(&b);
        let a_keys: Value = app.admin(a_sk).get_json("/v1/admin/keys").await;
        let a_pk_id = a_keys["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["kind"] == "publishable" && k["environment"] == "production")
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        for action in ["rotate", "revoke"] {
            let r = app
                .admin(b_sk)
                .post(&format!("/v1/admin/keys/{a_pk_id}/{action}"))
                .await;
            let (code, _, _) = error_code(r, 404).await;
            assert_eq!(code, "not_found", "{action}");
        }
        // B's listing shows only B's keys; A's key still works.
        let b_keys: Value = app.admin(b_sk).get_json("/v1/admin/keys").await;
        assert!(!b_keys.to_string().contains(&a_pk_id));
        let r = app
            .anon()
            .get("/v1/sdk/ping")
            .header("x-spotlight-key", a_pk)
            .await;
        assert_eq!(r.status(), 200);
    }
);

both_stores!(wrong_kinds_of_key_are_refused, |app: TestApp| async move {
    let t = app.tenant("Acme", &[]).await;
    let (pk, sk) = prod(&t);
    // A publishable key is not an admin credential, and a secret key is not an SDK key.
    let r = app.admin(pk).get("/v1/admin/keys").await;
    error_code(r, 401).await;
    let r = app
        .anon()
        .get("/v1/sdk/ping")
        .header("x-spotlight-key", sk)
        .await;
    error_code(r, 401).await;
    for bad in [
        "Bearer",
        "Basic abc",
        "Bearer sk_short",
        "Bearer sk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    ] {
        let r = app
            .anon()
            .get("/v1/admin/keys")
            .header("authorization", bad)
            .await;
        error_code(r, 401).await;
    }
    // Members below admin cannot manage keys (403: it is their own tenant).
    let pw = app.member(&t, "ed@acme.test", Role::Editor).await;
    let s = app.login("ed@acme.test", &pw).await;
    let r = s
        .client
        .get(app.url("/v1/admin/keys"))
        .send()
        .await
        .unwrap();
    let (code, _, _) = error_code(r, 403).await;
    assert_eq!(code, "forbidden");
});
