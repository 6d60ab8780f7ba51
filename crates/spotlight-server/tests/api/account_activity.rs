//! What accounts do: events sent for an account (by the SDK, a verified
//! token, or the tenant's backend) count for `account.event("…")`, make
//! "once per account" guides the first member's only, and fill the account's
//! own analytics; a token's account claims win over the request's.

use crate::both_stores;
use crate::events::post_ok;
use crate::helpers::{admin, at, config, config_json, error_code, prod, TestApp};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp() * 1000
}

/// The ids of the tours and content a config answer shows.
fn shown(c: &Value) -> Vec<String> {
    ["tours", "content"]
        .iter()
        .flat_map(|k| c[k].as_array().cloned().unwrap_or_default())
        .map(|x| x["id"].as_str().unwrap().to_owned())
        .collect()
}

/// What a config request of `user` in `acct` shows.
async fn cfg(app: &TestApp, pk: &str, user: &str, acct: &str) -> Vec<String> {
    let q = format!("user_id={user}&url=/&session_id=s-{user}&account_id={acct}");
    shown(&config_json(app, pk, &q).await)
}

async fn track(app: &TestApp, sk: &str, body: Value) -> reqwest::Response {
    app.admin(sk).post("/v1/admin/events").json(&body).await
}

both_stores!(
    account_events_reach_rules_once_per_account_and_analytics,
    |app: TestApp| async move {
        let t = app.tenant("acme", &[]).await;
        let (pk, sk) = prod(&t);
        let a = admin(&app, &t);
        let sso = a
            .publish(
                "tours",
                json!({"name": "Connect SSO", "steps": [{"kind": "modal", "title": "SSO"}],
                       "audience": "account.event(\"sso_connected\") = 0"}),
            )
            .await;
        let news = a
            .publish(
                "content",
                json!({"name": "Plan news", "type": "banner", "position": "top", "title": "New plan",
                       "frequency": {"type": "once_per_account"}}),
            )
            .await;
        for acct in ["acct-1", "acct-2"] {
            let r = app
                .admin(sk)
                .request(reqwest::Method::PUT, &format!("/v1/admin/accounts/{acct}"))
                .json(&json!({"attributes": {"plan": "team"}}))
                .await;
            assert_eq!(r.status(), 200);
        }
        let first = cfg(&app, pk, "u-1", "acct-1").await;
        assert!(first.contains(&sso) && first.contains(&news), "{first:?}");

        // u-1 sees the banner (an SDK batch naming the account for every event).
        let t0 = now() - 1_000;
        let mut viewed = at("content_viewed", "u-1", t0, json!({"content_id": news}));
        viewed["session_id"] = json!("s-u-1");
        post_ok(
            &app,
            pk,
            &json!({"user_id": "u-1", "account_id": "acct-1", "events": [viewed]}),
        )
        .await;
        let other_member = cfg(&app, pk, "u-2", "acct-1").await;
        assert!(
            !other_member.contains(&news),
            "once per account: {other_member:?}"
        );
        assert!(
            cfg(&app, pk, "u-3", "acct-2").await.contains(&news),
            "another account"
        );
        assert!(
            cfg(&app, pk, "u-1", "acct-1").await.contains(&news),
            "the member who saw it keeps it through the session"
        );

        // The backend records the account's SSO, for no one in particular.
        let r = track(
            &app,
            sk,
            json!({"account_id": "acct-1", "events": [{
                "event_id": uuid::Uuid::new_v4().to_string(), "schema_version": 1,
                "name": "sso_connected", "timestamp": t0, "properties": {}}]}),
        )
        .await;
        assert_eq!(r.status(), 202, "{}", r.text().await.unwrap());
        assert!(
            !cfg(&app, pk, "u-2", "acct-1").await.contains(&sso),
            "SSO connected"
        );
        assert!(cfg(&app, pk, "u-3", "acct-2").await.contains(&sso));
        let v = a.get_json("/v1/admin/accounts/acct-1").await;
        assert_eq!(v["event_counts"]["sso_connected"], 1, "{v}");
        assert_eq!(v["event_counts"]["content_viewed"], 1, "{v}");
        assert_eq!(v["shown"][&news], 1, "{v}");
        let members: Vec<&str> = v["members"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["user_id"].as_str().unwrap())
            .collect();
        assert!(members.contains(&"u-1"), "{v}");
        // A guide's event is someone's; an event needs a user or an account.
        let refused = |name: &str, props: Value| {
            json!({"account_id": "acct-1", "events": [{
                "event_id": uuid::Uuid::new_v4().to_string(), "schema_version": 1,
                "name": name, "timestamp": t0, "properties": props}]})
        };
        let (_, body, _) = error_code(
            track(&app, sk, refused("tour_started", json!({"tour_id": sso}))).await,
            422,
        )
        .await;
        assert!(body.to_string().contains("user_id is required"), "{body}");
        let mut nobody = refused("x", json!({}));
        nobody.as_object_mut().unwrap().remove("account_id");
        error_code(track(&app, sk, nobody).await, 422).await;
        // …and from the SDK, always a user.
        let r = app
            .anon()
            .post("/v1/sdk/events")
            .header("x-spotlight-key", pk)
            .json(&refused("x", json!({})))
            .await;
        error_code(r, 422).await;
        let bad = json!({"account_id": "", "events": [at("x", "u-1", t0, json!({}))]});
        let r = app
            .anon()
            .post("/v1/sdk/events")
            .header("x-spotlight-key", pk)
            .json(&bad)
            .await;
        error_code(r, 422).await;

        // Analytics of one account: its own events and users only.
        post_ok(
            &app,
            pk,
            &json!({"account_id": "acct-2", "events": [
                at("content_viewed", "u-3", t0, json!({"content_id": news})),
                at("content_clicked", "u-3", t0, json!({"content_id": news})),
            ]}),
        )
        .await;
        let of = |q: &str| format!("/v1/admin/analytics/content/{news}?{q}");
        let all = a.get_json(&of("")).await;
        assert_eq!(all["views"], 2, "{all}");
        let one = a.get_json(&of("account=acct-2")).await;
        assert_eq!(
            (one["views"].as_u64(), one["clicks"].as_u64()),
            (Some(1), Some(1)),
            "{one}"
        );
        assert_eq!(one["account"], "acct-2", "{one}");
        let o = a
            .get_json("/v1/admin/analytics/overview?account=acct-1")
            .await;
        assert_eq!(o["active_users"], 1, "{o}");
        assert_eq!(o["events"], 2, "content_viewed and sso_connected: {o}");
        let csv = a
            .get(&format!(
                "/v1/admin/analytics/content/{news}?account=acct-2&format=csv"
            ))
            .await;
        assert_eq!(csv.status(), 200);
        for (q, field) in [
            ("account=acct-2&grain=hour", "grain"),
            ("account=acct-404", "account"),
        ] {
            let (_, body, _) = error_code(
                a.get(&format!("/v1/admin/analytics/overview?{q}")).await,
                422,
            )
            .await;
            assert_eq!(
                body["error"]["details"]["fields"][0]["path"], field,
                "{q}: {body}"
            );
        }
        let other = app.tenant("globex", &[]).await;
        error_code(
            admin(&app, &other)
                .get("/v1/admin/analytics/overview?account=acct-2")
                .await,
            422,
        )
        .await;

        // The audience editor's count reaches accounts.
        app.state
            .profiles
            .flush(std::time::Duration::from_secs(5))
            .await;
        // The list, by id: member counts; a prefix; LIKE's wildcards are literal.
        let l = a.get_json("/v1/admin/accounts").await;
        let ids: Vec<(&str, u64)> = l["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| {
                (
                    x["account_id"].as_str().unwrap(),
                    x["member_count"].as_u64().unwrap(),
                )
            })
            .collect();
        assert_eq!(ids, [("acct-1", 2), ("acct-2", 1)], "{l}");
        let l = a.get_json("/v1/admin/accounts?q=acct-2&limit=1").await;
        assert_eq!(l["items"].as_array().unwrap().len(), 1, "{l}");
        let l = a.get_json("/v1/admin/accounts?q=acct%25").await;
        assert_eq!(l["items"], json!([]), "{l}");
        let l = a.get_json("/v1/admin/accounts?limit=1").await;
        assert_eq!(l["next_cursor"], "acct-1", "{l}");
        let l = a.get_json("/v1/admin/accounts?limit=1&cursor=acct-1").await;
        assert_eq!(l["items"][0]["account_id"], "acct-2", "{l}");
        let m = a
            .send(
                reqwest::Method::POST,
                "/v1/admin/audiences/matches",
                json!({"rule": "account.plan = \"team\" and account.event(\"sso_connected\") = 0"}),
            )
            .await;
        assert_eq!(
            (m["matched"].as_u64(), m["accounts_matched"].as_u64()),
            (Some(1), Some(1)),
            "{m}"
        );
        assert_eq!(m["sample"], json!(["u-3"]), "{m}");
        let m = a
            .send(
                reqwest::Method::POST,
                "/v1/admin/audiences/matches",
                json!({"rule": "account.plan = \"team\""}),
            )
            .await;
        assert_eq!(
            (m["matched"].as_u64(), m["accounts_matched"].as_u64()),
            (Some(3), Some(2)),
            "{m}"
        );

        // A person's erasure leaves the account's figures without their id.
        let r = app
            .admin(sk)
            .request(reqwest::Method::DELETE, "/v1/admin/users/u-3")
            .await;
        assert_eq!(r.status(), 200);
        let left = crate::events::count(
            &app,
            "SELECT count(*) FROM account_rollup_users WHERE user_id = 'u-3'",
        )
        .await;
        assert_eq!(left, 0);
        let one = a.get_json(&of("account=acct-2")).await;
        assert_eq!(one["views"], 1, "counts stay: {one}");
    }
);

both_stores!(
    a_verified_tokens_account_claims_win,
    |app: TestApp| async move {
        let t = app.tenant("acme", &[]).await;
        let (pk, _) = prod(&t);
        let a = admin(&app, &t);
        let secret = "account-claims-secret-0123456789abcdef";
        a.settings(json!({"identity_verification": {"production": {
            "mode": "enforce", "method": {"type": "hs256"}, "hs256_secrets": [secret]}}}))
            .await;
        let team = a
            .publish(
                "tours",
                json!({"name": "Team", "steps": [{"kind": "modal", "title": "T"}],
                       "audience": "account.plan = \"team\""}),
            )
            .await;
        let token = |claims: Value| {
            jsonwebtoken::encode(
                &Header::new(Algorithm::HS256),
                &claims,
                &EncodingKey::from_secret(secret.as_bytes()),
            )
            .unwrap()
        };
        let exp = now() / 1000 + 600;
        let with = |tok: String, q: &str| {
            app.anon()
                .get(&format!("/v1/sdk/config?url=/&{q}"))
                .header("x-spotlight-key", pk)
                .header("authorization", format!("Bearer {tok}"))
        };
        let good = token(json!({"sub": "u-1", "exp": exp, "account_id": "acct-9",
                               "account_attributes": {"plan": "team"}}));
        // The request names another account, on the free plan: the token wins.
        let q = "account_id=acct-1&account_attributes=%7B%22plan%22%3A%22free%22%7D";
        let r = with(good.clone(), q).await;
        assert_eq!(r.status(), 200);
        let c: Value = r.json().await.unwrap();
        assert!(shown(&c).contains(&team), "{c}");
        // Same account, but the request says free: the claim still wins.
        let q = "account_id=acct-9&account_attributes=%7B%22plan%22%3A%22free%22%7D";
        let c: Value = with(good.clone(), q).await.json().await.unwrap();
        assert!(shown(&c).contains(&team), "{c}");
        // Events under the token are the token's account's.
        let r = app
            .anon()
            .post("/v1/sdk/events")
            .header("x-spotlight-key", pk)
            .header("authorization", format!("Bearer {good}"))
            .json(&json!({"account_id": "acct-1", "events": [at("export", "u-1", now() - 1000, json!({}))]}))
            .await;
        assert_eq!(r.status(), 202, "{}", r.text().await.unwrap());
        let v = a.get_json("/v1/admin/accounts/acct-9").await;
        assert_eq!(v["event_counts"]["export"], 1, "{v}");
        app.state
            .profiles
            .flush(std::time::Duration::from_secs(5))
            .await;
        let v = a.get_json("/v1/admin/accounts/acct-9").await;
        assert_eq!(v["attributes"]["plan"], "team", "{v}");
        error_code(a.get("/v1/admin/accounts/acct-1").await, 404).await;

        // Claims that are not what they must be are refused.
        for (claims, path) in [
            (
                json!({"sub": "u-1", "exp": exp, "account_id": 7}),
                "token.account_id",
            ),
            (
                json!({"sub": "u-1", "exp": exp, "account_id": "a", "account_attributes": "x"}),
                "token.account_attributes",
            ),
            (
                json!({"sub": "u-1", "exp": exp, "account_id": "a", "account_attributes": {"n": {"deep": 1}}}),
                "token.account_attributes",
            ),
        ] {
            let (_, body, _) = error_code(with(token(claims), "").await, 422).await;
            assert_eq!(
                body["error"]["details"]["fields"][0]["path"], path,
                "{body}"
            );
        }
        // Without account claims the request's account stands.
        let plain = token(json!({"sub": "u-2", "exp": exp}));
        let q = "account_id=acct-5&account_attributes=%7B%22plan%22%3A%22team%22%7D";
        let c: Value = with(plain, q).await.json().await.unwrap();
        assert!(shown(&c).contains(&team), "{c}");
        let _ = config(&app, pk, "url=/").await;
    }
);

both_stores!(
    a_revalidated_config_follows_its_account,
    |app: TestApp| async move {
        let t = app.tenant("acme", &[]).await;
        let (pk, sk) = prod(&t);
        let a = admin(&app, &t);
        let tour = a
            .publish(
                "tours",
                json!({"name": "Invite", "steps": [{"kind": "modal", "title": "I"}],
                       "audience": "account.event(\"invited\") = 0"}),
            )
            .await;
        app.admin(sk)
            .request(reqwest::Method::PUT, "/v1/admin/accounts/acct-1")
            .json(&json!({"attributes": {"plan": "team"}}))
            .await;
        let path = "/v1/sdk/config?user_id=u-1&url=/&account_id=acct-1";
        let r = app.anon().get(path).header("x-spotlight-key", pk).await;
        let etag = r.headers()["etag"].to_str().unwrap().to_owned();
        let c: Value = r.json().await.unwrap();
        assert!(shown(&c).contains(&tour));
        let again = || {
            app.anon()
                .get(path)
                .header("x-spotlight-key", pk)
                .header("if-none-match", etag.clone())
        };
        assert_eq!(again().await.status(), 304);
        // Another member invites someone: the account's answer changes at once.
        post_ok(
            &app,
            pk,
            &json!({"account_id": "acct-1", "events": [at("invited", "u-2", now() - 1000, json!({}))]}),
        )
        .await;
        let r = again().await;
        assert_eq!(r.status(), 200);
        let c: Value = r.json().await.unwrap();
        assert!(!shown(&c).contains(&tour), "{c}");
    }
);
