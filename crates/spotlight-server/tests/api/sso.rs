//! Single sign-on against a real OpenID provider (oidc-provider, run by Node):
//! just-in-time membership from the groups claim, a role that follows the
//! groups, the ID tokens a relying party must refuse, replays, login CSRF, and
//! "SSO required" with a break-glass owner.

use crate::both_stores;
use crate::helpers::*;
use crate::oidc_provider::*;
use serde_json::{json, Value};
use spotlight_domain::Role;
use spotlight_server::tenants::ProvisionedTenant;

/// A tenant, its owner's session, and a provider that may send browsers back
/// to the tenant's callback.
async fn tenant_with_provider(app: &TestApp) -> (ProvisionedTenant, String, Session, Provider) {
    tenant_with(app, false).await
}

async fn tenant_with(
    app: &TestApp,
    claims_in_id_token: bool,
) -> (ProvisionedTenant, String, Session, Provider) {
    let t = app.tenant("Acme", &[]).await;
    let pw = app.member(&t, "owner@acme.test", Role::Owner).await;
    let owner = app.login("owner@acme.test", &pw).await;
    let tenant = t.tenant_id.to_string();
    let callback = app.url(&format!("/v1/auth/sso/{tenant}/callback"));
    let idp = if claims_in_id_token {
        Provider::with_claims_in_id_token(&callback).await
    } else {
        Provider::start(&callback).await
    };
    (t, tenant, owner, idp)
}

fn settings(idp: &Provider) -> Value {
    json!({
        "issuer": idp.issuer,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "scopes": ["email", "profile", "groups"],
        "groups_claim": "groups",
        "group_roles": {"spotlight-editors": "editor", "spotlight-admins": "admin"},
    })
}

async fn me(app: &TestApp, browser: &reqwest::Client) -> reqwest::Response {
    browser.get(app.url("/v1/auth/me")).send().await.unwrap()
}

async fn members(app: &TestApp, owner: &Session) -> Vec<Value> {
    let r = owner
        .client
        .get(app.url("/v1/admin/members"))
        .send()
        .await
        .unwrap();
    let body: Value = r.json().await.unwrap();
    body["items"].as_array().unwrap().clone()
}

async fn audit_actions(app: &TestApp, owner: &Session, kind: &str) -> Vec<String> {
    let r = owner
        .client
        .get(app.url(&format!("/v1/admin/audit?object_kind={kind}")))
        .send()
        .await
        .unwrap();
    let body: Value = r.json().await.unwrap();
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{} {}",
                e["action"].as_str().unwrap(),
                e["actor"].as_str().unwrap()
            )
        })
        .collect()
}

both_stores!(
    sign_in_makes_a_member_whose_role_follows_the_groups,
    |app: TestApp| async move {
        let (_, tenant, owner, idp) = tenant_with_provider(&app).await;
        let r = set_up(&app, &owner, settings(&idp)).await;
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
        let view: Value = r.json().await.unwrap();
        assert!(
            view.get("client_secret").is_none(),
            "the secret is never shown"
        );
        assert_eq!(view["client_secret_set"], true);
        assert_eq!(
            view["redirect_uri"],
            app.url(&format!("/v1/auth/sso/{tenant}/callback"))
        );

        // A person in the editors group: a member just in time, as an editor.
        idp.user("ada-sub", "ada@corp.test", &["spotlight-editors"])
            .await;
        let ada = browser();
        let r = sign_in(&app, &ada, &tenant).await;
        assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
        assert_eq!(r.headers()["location"], "/app/");
        let cookies: Vec<_> = r.headers().get_all("set-cookie").iter().collect();
        assert!(cookies
            .iter()
            .any(|c| c.to_str().unwrap().starts_with("spotlight_session=")));
        let who: Value = me(&app, &ada).await.json().await.unwrap();
        assert_eq!(who["account"]["email"], "ada@corp.test");
        assert_eq!(who["role"], "editor");
        assert_eq!(who["tenant"]["id"], tenant.as_str());

        // The same callback again, even with its state cookie (captured
        // with the URL): the attempt was taken.
        let callback = to_callback(&app, &ada, &tenant).await;
        let r = ada.get(&callback).send().await.unwrap();
        assert_eq!(r.status(), 303);
        let sent_state = query(&callback, "state");
        let r = browser()
            .get(&callback)
            .header("cookie", format!("spotlight_sso_state={sent_state}"))
            .send()
            .await
            .unwrap();
        let (code, body, _) = error_code(r, 401).await;
        assert_eq!(code, "sso_failed");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("already used"),
            "{body}"
        );

        // The code of that sign-in, replayed under a new attempt: the
        // provider refuses a code used once.
        let fresh = to_callback(&app, &ada, &tenant).await;
        let old_code = query(&callback, "code");
        let mut replay = url::Url::parse(&fresh).unwrap();
        let pairs: Vec<(String, String)> = replay
            .query_pairs()
            .map(|(k, v)| {
                let v = if k == "code" {
                    old_code.clone()
                } else {
                    v.into_owned()
                };
                (k.into_owned(), v)
            })
            .collect();
        replay.query_pairs_mut().clear().extend_pairs(pairs);
        let (code, body, _) = error_code(ada.get(replay.as_str()).send().await.unwrap(), 401).await;
        assert_eq!(code, "sso_failed");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("refused"),
            "{body}"
        );

        // Promoted in the provider: admin at the next sign-in.
        idp.user(
            "ada-sub",
            "ada@corp.test",
            &["spotlight-editors", "spotlight-admins"],
        )
        .await;
        assert_eq!(sign_in(&app, &ada, &tenant).await.status(), 303);
        let who: Value = me(&app, &ada).await.json().await.unwrap();
        assert_eq!(who["role"], "admin");

        // Removed from the mapped groups: refused, the membership ends and
        // every session of it with it.
        let kept = browser();
        idp.control(json!({"next_user": "ada-sub"})).await;
        assert_eq!(sign_in(&app, &kept, &tenant).await.status(), 303);
        idp.user("ada-sub", "ada@corp.test", &["other-team"]).await;
        let r = sign_in(&app, &ada, &tenant).await;
        let (code, body, _) = error_code(r, 403).await;
        assert_eq!(code, "forbidden");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("no longer"),
            "{body}"
        );
        assert_eq!(
            me(&app, &kept).await.status(),
            401,
            "the earlier session ended"
        );
        assert!(!members(&app, &owner)
            .await
            .iter()
            .any(|m| m["email"] == "ada@corp.test"));
        // Not a member and granted nothing: refused, nothing made.
        let r = sign_in(&app, &ada, &tenant).await;
        assert_eq!(error_code(r, 403).await.0, "forbidden");

        let actions = audit_actions(&app, &owner, "member").await;
        for expected in [
            "member.join sso:ada@corp.test",
            "member.role sso:ada@corp.test",
            "member.remove sso:ada@corp.test",
        ] {
            assert!(
                actions.iter().any(|a| a == expected),
                "{expected} in {actions:?}"
            );
        }

        // A browser gets sent to the sign-in page with the reason instead.
        let r = browser()
            .get(app.url(&format!(
                "/v1/auth/sso/{tenant}/callback?error=access_denied&error_description=nope"
            )))
            .header("accept", "text/html")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        let to = r.headers()["location"].to_str().unwrap();
        assert!(to.starts_with("/app/?sso_error="), "{to}");
        assert!(to.contains("access_denied"), "{to}");
    }
);

both_stores!(
    id_tokens_a_relying_party_must_refuse_are_refused,
    |app: TestApp| async move {
        // The claims in the ID token here (elsewhere from userinfo): both
        // ways a provider may send them are read.
        let (_, tenant, owner, idp) = tenant_with(&app, true).await;
        let mut s = settings(&idp);
        s["default_role"] = json!("viewer");
        assert_eq!(set_up(&app, &owner, s).await.status(), 200);
        idp.user("bob-sub", "bob@corp.test", &[]).await;

        // Each case: the provider's token endpoint sends an ID token the
        // relying party must not trust; the sign-in fails, makes nobody.
        for (tamper, says) in [
            ("wrong_nonce", "nonce"),
            ("expired", "expired"),
            ("other_audience", "audience"),
            ("other_issuer", "issuer"),
            ("other_key", "signature"),
            ("alg_none", "signature"),
        ] {
            idp.control(json!({"tamper": tamper})).await;
            let b = browser();
            let r = sign_in(&app, &b, &tenant).await;
            let (code, body, _) = error_code(r, 401).await;
            assert_eq!(code, "sso_failed", "{tamper}");
            let message = body["error"]["message"].as_str().unwrap().to_lowercase();
            assert!(message.contains(says), "{tamper}: {message}");
            assert_eq!(me(&app, &b).await.status(), 401, "{tamper}: no session");
        }
        assert!(!members(&app, &owner)
            .await
            .iter()
            .any(|m| m["email"] == "bob@corp.test"));

        // Untampered, the same person signs in (as the default role).
        idp.control(json!({"tamper": null})).await;
        let b = browser();
        assert_eq!(sign_in(&app, &b, &tenant).await.status(), 303);
        let who: Value = me(&app, &b).await.json().await.unwrap();
        assert_eq!(who["role"], "viewer");

        // Login CSRF: a callback from another browser's attempt (its state
        // cookie is not here) is refused, and that attempt stays usable.
        let victim = browser();
        let attacker = browser();
        let callback = to_callback(&app, &attacker, &tenant).await;
        let (code, body, _) = error_code(victim.get(&callback).send().await.unwrap(), 401).await;
        assert_eq!(code, "sso_failed");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("browser"),
            "{body}"
        );
        assert_eq!(me(&app, &victim).await.status(), 401);

        // Bad input to the callback and start: clear 4xx.
        let r = b
            .get(app.url(&format!("/v1/auth/sso/{tenant}/callback")))
            .send()
            .await
            .unwrap();
        assert_eq!(error_code(r, 400).await.0, "bad_request");
        let r = b
            .get(app.url(&format!(
                "/v1/auth/sso/{tenant}/start?return_to=https://evil.test/"
            )))
            .send()
            .await
            .unwrap();
        assert_eq!(error_code(r, 422).await.0, "validation_failed");
        let other = app.tenant("Other", &[]).await;
        let r = b
            .get(app.url(&format!("/v1/auth/sso/{}/start", other.tenant_id)))
            .send()
            .await
            .unwrap();
        assert_eq!(error_code(r, 404).await.0, "not_found");
    }
);

both_stores!(
    sso_required_refuses_passwords_but_the_break_glass_owners,
    |app: TestApp| async move {
        let (t, tenant, owner, idp) = tenant_with_provider(&app).await;
        let owner_id = owner.me["account"]["id"].as_str().unwrap().to_owned();

        // Settings that cannot work are refused whole.
        let mut s = settings(&idp);
        s["group_roles"]["root"] = json!("owner");
        let (code, body, _) = error_code(set_up(&app, &owner, s).await, 422).await;
        assert_eq!(code, "validation_failed");
        assert!(body.to_string().contains("group_roles"), "{body}");
        let mut s = settings(&idp);
        s["required"] = json!(true);
        let (_, body, _) = error_code(set_up(&app, &owner, s).await, 422).await;
        assert!(
            body.to_string().contains("break_glass_account_id"),
            "{body}"
        );
        let mut s = settings(&idp);
        s["issuer"] = json!(format!("{}/nowhere", idp.issuer));
        let (_, body, _) = error_code(set_up(&app, &owner, s).await, 422).await;
        assert!(body.to_string().contains("issuer"), "{body}");
        let mut s = settings(&idp);
        s.as_object_mut().unwrap().remove("client_secret");
        let (_, body, _) = error_code(set_up(&app, &owner, s).await, 422).await;
        assert!(body.to_string().contains("client_secret"), "{body}");
        assert_eq!(
            owner
                .client
                .get(app.url("/v1/admin/sso"))
                .send()
                .await
                .unwrap()
                .status(),
            404,
            "nothing was saved"
        );

        // A second owner and an editor with passwords, signed in.
        let pw2 = app.member(&t, "owner2@acme.test", Role::Owner).await;
        let pwe = app.member(&t, "ed@acme.test", Role::Editor).await;
        let ed = app.login("ed@acme.test", &pwe).await;

        let mut s = settings(&idp);
        s["required"] = json!(true);
        s["break_glass_account_id"] = json!(owner_id);
        let r = set_up(&app, &owner, s).await;
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());

        // The editor's password session ended; passwords are refused.
        let r = ed.client.get(app.url("/v1/auth/me")).send().await.unwrap();
        assert_eq!(r.status(), 401);
        for (email, pw) in [("ed@acme.test", &pwe), ("owner2@acme.test", &pw2)] {
            let r = app
                .client
                .post(app.url("/v1/auth/login"))
                .json(&json!({"email": email, "password": pw}))
                .send()
                .await
                .unwrap();
            let (code, body, _) = error_code(r, 403).await;
            assert_eq!(code, "sso_required");
            assert!(
                body["error"]["message"].as_str().unwrap().contains(&tenant),
                "{body}"
            );
        }
        // A wrong password still gets the wrong-password answer (nothing
        // learnt about SSO before the password is right).
        let r = app
            .client
            .post(app.url("/v1/auth/login"))
            .json(&json!({"email": "ed@acme.test", "password": "wrong-password"}))
            .send()
            .await
            .unwrap();
        assert_eq!(error_code(r, 401).await.0, "invalid_credentials");
        // The break-glass owner's session lives on, and a new one opens.
        assert_eq!(
            owner
                .client
                .get(app.url("/v1/auth/me"))
                .send()
                .await
                .unwrap()
                .status(),
            200
        );
        let view: Value = owner
            .client
            .get(app.url("/v1/admin/sso"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(view["required"], true);
        assert!(view.get("client_secret").is_none());

        // The editor signs in through the provider (an invited member keeps
        // the role they were given), and a tenant that requires two-factor
        // sign-in lets an SSO session in (the provider owns the factor).
        owner_settings(
            &app,
            &owner,
            json!({"sign_in": {"require_two_factor": true}}),
        )
        .await;
        idp.control(json!({
            "users": {"ed-sub": {"email": "ed@acme.test", "email_verified": true, "groups": []}},
            "next_user": "ed-sub",
        }))
        .await;
        let b = browser();
        assert_eq!(sign_in(&app, &b, &tenant).await.status(), 303);
        let who: Value = me(&app, &b).await.json().await.unwrap();
        assert_eq!(who["role"], "editor");
        let r = b.get(app.url("/v1/admin/tours")).send().await.unwrap();
        assert_eq!(r.status(), 200, "an SSO session passes the two-factor rule");
        // …and the dashboard is told so (it would otherwise hold the person
        // on the enrolment page).
        assert_eq!(who["sso"], true);
        assert_eq!(who["two_factor"]["required"], false, "{who}");

        // An address the provider does not vouch for is not linked to the
        // existing account.
        idp.control(json!({
            "users": {"mallory": {"email": "owner2@acme.test", "email_verified": false, "groups": ["spotlight-admins"]}},
            "next_user": "mallory",
        }))
        .await;
        let r = sign_in(&app, &browser(), &tenant).await;
        assert_eq!(error_code(r, 409).await.0, "conflict");

        // The owner's password session now meets the two-factor rule; the
        // owner signs in through the provider instead (the verified address
        // links the identity to the existing account, an owner still).
        let r = owner
            .client
            .get(app.url("/v1/admin/sso"))
            .send()
            .await
            .unwrap();
        assert_eq!(error_code(r, 403).await.0, "two_factor_enrolment_required");
        idp.control(json!({
            "users": {"owner-sub": {"email": "owner@acme.test", "email_verified": true, "groups": []}},
            "next_user": "owner-sub",
        }))
        .await;
        let ob = browser();
        assert_eq!(sign_in(&app, &ob, &tenant).await.status(), 303);
        let who: Value = me(&app, &ob).await.json().await.unwrap();
        assert_eq!(who["role"], "owner");
        let owner = Session {
            client: ob,
            csrf: who["csrf_token"].as_str().unwrap().to_owned(),
            cookie: String::new(),
            me: who,
        };

        // Turned off: passwords work again.
        let r = owner
            .client
            .delete(app.url("/v1/admin/sso"))
            .header("x-csrf-token", &owner.csrf)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 204);
        owner_settings(
            &app,
            &owner,
            json!({"sign_in": {"require_two_factor": false}}),
        )
        .await;
        app.login("ed@acme.test", &pwe).await;
        let actions = audit_actions(&app, &owner, "sso").await;
        assert_eq!(
            actions,
            ["sso.delete owner@acme.test", "sso.update owner@acme.test"]
        );
    }
);

async fn owner_settings(app: &TestApp, owner: &Session, patch: Value) {
    let r = owner
        .send(app, reqwest::Method::PATCH, "/v1/admin/settings", &patch)
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
}

fn query(url: &str, name: &str) -> String {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == name)
        .unwrap()
        .1
        .into_owned()
}

/// A whole team starts signing in at once: only the per-IP login limit
/// applies to starts, not the per-account one (no account is named yet).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_team_signing_in_at_once_is_limited_per_ip_only() {
    let app = TestApp::spawn_with(Db::Sqlite, |c| {
        c.security.login_per_account_per_minute = 2;
        c.security.login_per_ip_per_minute = 6;
    })
    .await;
    let (_, tenant, owner, idp) = tenant_with_provider(&app).await;
    let mut s = settings(&idp);
    s["default_role"] = json!("viewer");
    assert_eq!(set_up(&app, &owner, s).await.status(), 200);
    let start = app.url(&format!("/v1/auth/sso/{tenant}/start"));
    // The owner's login took one from this IP's bucket of 6.
    for i in 0..5 {
        let r = browser().get(&start).send().await.unwrap();
        assert_eq!(r.status(), 303, "start #{i}");
    }
    let r = browser().get(&start).send().await.unwrap();
    let (code, _, headers) = error_code(r, 429).await;
    assert_eq!(code, "rate_limited");
    assert!(headers.contains_key("retry-after"));
}
