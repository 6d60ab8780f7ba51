use crate::both_stores;
use crate::helpers::*;
use serde_json::{json, Value};
use spotlight_domain::Role;

both_stores!(
    settings_are_validated_and_audited,
    |app: TestApp| async move {
        let t = app.tenant("Acme", &["https://app.acme.test"]).await;
        let (pk, sk) = prod(&t);
        let c = &app.client;
        let s: Value = app.admin(sk).get_json("/v1/admin/settings").await;
        assert_eq!(s["allowed_origins"], json!(["https://app.acme.test"]));
        assert_eq!(s["kill_switch"], false);
        assert_eq!(s["admin_detection"]["strategy"], "none");

        let r = app.admin(sk).patch("/v1/admin/settings").json(&json!({"allowed_origins": ["https://*.acme.dev"], "admin_detection": {"strategy": "table", "user_ids": ["u-1"]}})).await;
        assert_eq!(r.status(), 200);
        let s: Value = r.json().await.unwrap();
        assert_eq!(s["allowed_origins"], json!(["https://*.acme.dev"]));
        assert_eq!(s["admin_detection"]["user_ids"], json!(["u-1"]));
        // The new origins take effect for the SDK.
        let ping = |origin: &'static str| {
            c.get(app.url("/v1/sdk/ping"))
                .header("x-spotlight-key", pk)
                .header("origin", origin)
                .send()
        };
        assert_eq!(ping("https://eu.acme.dev").await.unwrap().status(), 200);
        assert_eq!(ping("https://app.acme.test").await.unwrap().status(), 403);

        // Invalid values: every field listed, nothing changed.
        let r = app.admin(sk).patch("/v1/admin/settings").json(&json!({"allowed_origins": ["*"], "rate_limits": {"sdk_per_minute": 0, "admin_per_minute": 1}})).await;
        let (_, body, _) = error_code(r, 422).await;
        assert_eq!(
            body["error"]["details"]["fields"][0]["path"],
            "allowed_origins[0]"
        );
        let r = app
            .admin(sk)
            .patch("/v1/admin/settings")
            .json(&json!({"rate_limits": {"sdk_per_minute": 0, "admin_per_minute": 1}}))
            .await;
        let (_, body, _) = error_code(r, 422).await;
        assert_eq!(
            body["error"]["details"]["fields"][0]["path"],
            "rate_limits.sdk_per_minute"
        );
        let s: Value = app.admin(sk).get_json("/v1/admin/settings").await;
        assert_eq!(s["allowed_origins"], json!(["https://*.acme.dev"]));

        let audit: Value = app
            .admin(sk)
            .get_json("/v1/admin/audit?action=settings.update")
            .await;
        let items = audit["items"].as_array().unwrap();
        assert_eq!(items.len(), 1);
        assert!(items[0]["changes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|ch| ch["path"] == "allowed_origins[0]"));
    }
);

both_stores!(members_are_managed_by_owners, |app: TestApp| async move {
    let t = app.tenant("Acme", &[]).await;
    let pw = app.member(&t, "owner@acme.test", Role::Owner).await;
    let owner = app.login("owner@acme.test", &pw).await;
    let post = |body: Value| {
        owner
            .client
            .post(app.url("/v1/admin/members"))
            .header("x-csrf-token", &owner.csrf)
            .json(&body)
            .send()
    };
    let r = post(json!({"email": "new@acme.test", "role": "editor"}))
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let invited: Value = r.json().await.unwrap();
    // The invitee joins by accepting, choosing a password; then logs in.
    let r = app
        .anon()
        .post("/v1/auth/invitations/accept")
        .json(&json!({"token": invited["token"], "password": "a-new-password-123"}))
        .await;
    assert_eq!(r.status(), 200);
    let joined: Value = r.json().await.unwrap();
    let new_id = joined["account"]["id"].as_str().unwrap().to_owned();
    let editor = app.login("new@acme.test", "a-new-password-123").await;
    assert_eq!(editor.me["role"], "editor");
    // Editors (and admins) cannot manage members.
    let r = editor
        .client
        .post(app.url("/v1/admin/members"))
        .header("x-csrf-token", &editor.csrf)
        .json(&json!({"email": "x@acme.test", "role": "owner"}))
        .send()
        .await
        .unwrap();
    error_code(r, 403).await;

    // The last owner can be neither demoted nor removed.
    let owner_id = owner.me["account"]["id"].as_str().unwrap().to_owned();
    let r = owner
        .client
        .put(app.url(&format!("/v1/admin/members/{owner_id}")))
        .header("x-csrf-token", &owner.csrf)
        .json(&json!({"role": "admin"}))
        .send()
        .await
        .unwrap();
    let (code, _, _) = error_code(r, 409).await;
    assert_eq!(code, "conflict");
    let r = owner
        .client
        .delete(app.url(&format!("/v1/admin/members/{owner_id}")))
        .header("x-csrf-token", &owner.csrf)
        .send()
        .await
        .unwrap();
    error_code(r, 409).await;

    // Promote, then removal ends the removed member's sessions.
    let r = owner
        .client
        .put(app.url(&format!("/v1/admin/members/{new_id}")))
        .header("x-csrf-token", &owner.csrf)
        .json(&json!({"role": "admin"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = owner
        .client
        .delete(app.url(&format!("/v1/admin/members/{new_id}")))
        .header("x-csrf-token", &owner.csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let r = editor
        .client
        .get(app.url("/v1/auth/me"))
        .send()
        .await
        .unwrap();
    error_code(r, 401).await;
    let list: Value = owner
        .client
        .get(app.url("/v1/admin/members"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    // Weak passwords are refused.
    let r = post(json!({"email": "weak@acme.test", "role": "viewer", "password": "short"}))
        .await
        .unwrap();
    error_code(r, 422).await;
});

both_stores!(
    kill_switches_are_per_object_and_audited,
    |app: TestApp| async move {
        let t = app.tenant("Acme", &[]).await;
        let (_, sk) = prod(&t);
        let tour: Value = app
            .admin(sk)
            .post("/v1/admin/tours")
            .json(&json!({"name": "T", "steps": [{"kind": "modal", "title": "Hi"}]}))
            .await
            .json()
            .await
            .unwrap();
        let id = tour["id"].as_str().unwrap();
        assert_eq!(tour["kill_switch"], false);
        let r = app
            .admin(sk)
            .post(&format!("/v1/admin/tours/{id}/kill-switch"))
            .json(&json!({"enabled": true}))
            .await;
        assert_eq!(r.status(), 200);
        let o: Value = r.json().await.unwrap();
        assert_eq!(o["kill_switch"], true);
        let audit: Value = app
            .admin(sk)
            .get_json("/v1/admin/audit?action=tour.kill_switch")
            .await;
        assert_eq!(audit["items"].as_array().unwrap().len(), 1);
    }
);

both_stores!(
    identity_verification_secrets_are_write_only_and_encrypted,
    |app: TestApp| async move {
        let t = app.tenant("Acme", &[]).await;
        let (_, sk) = prod(&t);
        let secret_a = "a".repeat(40);
        let secret_b = "shared-secret-number-two-0123456789abcdef";
        let patch = json!({"identity_verification": {"production": {
            "mode": "enforce", "method": {"type": "hs256"}, "hs256_secrets": [secret_a, secret_b],
            "issuer": "https://idp.acme.test", "attribute_claims": ["plan"]
        }}});
        let r = app.admin(sk).patch("/v1/admin/settings").json(&patch).await;
        assert_eq!(r.status(), 200);
        let text = r.text().await.unwrap();
        assert!(
            !text.contains(&secret_a) && !text.contains(secret_b),
            "a secret came back: {text}"
        );
        let v: Value = serde_json::from_str(&text).unwrap();
        let prod_iv = &v["identity_verification"]["production"];
        assert_eq!(prod_iv["hs256_secrets_configured"], 2);
        assert_eq!(prod_iv["mode"], "enforce");
        assert!(prod_iv.get("hs256_secrets").is_none());

        // At rest: sealed, and only the master key opens them.
        let (stored, _) = app.store().tenant_settings(t.tenant_id).await.unwrap();
        assert!(!stored.contains(secret_b), "stored in plain text");
        let settings: spotlight_domain::settings::TenantSettings =
            serde_json::from_str(&stored).unwrap();
        let sealed = &settings.identity_verification["production"].hs256_secrets;
        assert_eq!(app.state.secrets.open(&sealed[1]).unwrap(), secret_b);
        // ... and the audit log never shows them either.
        let audit = app
            .admin(sk)
            .get("/v1/admin/audit")
            .await
            .text()
            .await
            .unwrap();
        assert!(!audit.contains(secret_b));

        // A later change that does not mention secrets keeps them.
        let r = app
            .admin(sk)
            .patch("/v1/admin/settings")
            .json(&json!({"identity_verification": {"production": {"mode": "monitor"}}}))
            .await;
        let v: Value = r.json().await.unwrap();
        assert_eq!(
            v["identity_verification"]["production"]["hs256_secrets_configured"],
            2
        );

        for (bad, path) in [
            (
                json!({"identity_verification": {"nope": {"mode": "off"}}}),
                "identity_verification.nope",
            ),
            (
                json!({"identity_verification": {"staging": {"mode": "enforce"}}}),
                "identity_verification.staging.method",
            ),
            (
                json!({"identity_verification": {"staging": {"method": {"type": "jwks", "url": "http://idp.evil.test/jwks"}}}}),
                "identity_verification.staging.method.url",
            ),
            (
                json!({"identity_verification": {"staging": {"method": {"type": "hs256"}, "hs256_secrets": ["short"]}}}),
                "identity_verification.staging.hs256_secrets",
            ),
        ] {
            let r = app.admin(sk).patch("/v1/admin/settings").json(&bad).await;
            let (_, body, _) = error_code(r, 422).await;
            assert_eq!(body["error"]["details"]["fields"][0]["path"], path, "{bad}");
        }
    }
);

both_stores!(
    the_default_theme_must_be_the_tenants_own,
    |app: TestApp| async move {
        let a = app.tenant("A", &[]).await;
        let b = app.tenant("B", &[]).await;
        let (_, a_sk) = prod(&a);
        let (_, b_sk) = prod(&b);
        let theme = |sk: &str| {
            let c = app.client.clone();
            let url = app.url("/v1/admin/themes");
            let sk = sk.to_owned();
            async move {
                let v: Value = c
                    .post(url)
                    .bearer_auth(sk)
                    .json(&json!({"name": "Brand", "tokens": {"primary": "#123456"}}))
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                v["id"].as_str().unwrap().to_owned()
            }
        };
        let mine = theme(a_sk).await;
        let theirs = theme(b_sk).await;
        let set = |id: String| {
            app.client
                .patch(app.url("/v1/admin/settings"))
                .bearer_auth(a_sk)
                .json(&json!({"default_theme_id": id}))
                .send()
        };
        let r = set(mine.clone()).await.unwrap();
        assert_eq!(r.status(), 200);
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["default_theme_id"], mine.as_str());
        for bad in [theirs, "not-an-id".to_owned()] {
            let (_, body, _) = error_code(set(bad).await.unwrap(), 422).await;
            assert_eq!(
                body["error"]["details"]["fields"][0]["path"],
                "default_theme_id"
            );
        }
        let v: Value = set(String::new()).await.unwrap().json().await.unwrap();
        assert!(v["default_theme_id"].is_null());
    }
);
