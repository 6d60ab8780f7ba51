//! B2B accounts: attributes set from the tenant's backend, the account a user
//! names on a config request, and audience rules on `account.…`.

use crate::both_stores;
use crate::helpers::{admin, config, config_json, error_code, prod, TestApp};

/// Whether `tour` is in the config answered for `query`.
async fn shows(app: &TestApp, pk: &str, query: String, tour: &str) -> bool {
    let c = config_json(app, pk, &query).await;
    c["tours"]
        .as_array()
        .unwrap()
        .iter()
        .any(|x| x["id"] == tour)
}
use serde_json::{json, Value};

both_stores!(
    account_attributes_from_the_backend_target_the_accounts_users,
    |app: TestApp| async move {
        let t = app.tenant("acme", &[]).await;
        let (pk, sk) = prod(&t);
        let a = admin(&app, &t);
        let tour = a
            .publish(
                "tours",
                json!({"name": "SSO setup", "steps": [{"kind": "modal", "title": "Connect SSO"}],
                       "audience": "account.plan = \"team\" and not account.sso exists and role = \"admin\""}),
            )
            .await;
        let put = |id: &str, body: Value| {
            app.admin(sk)
                .request(reqwest::Method::PUT, &format!("/v1/admin/accounts/{id}"))
                .json(&body)
        };
        let r = put(
            "acct-1",
            json!({"attributes": {"plan": "team", "seats": 40}}),
        )
        .await;
        assert_eq!(r.status(), 200);
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["attributes"], json!({"plan": "team", "seats": 40}));
        assert_eq!(v["member_count"], 0);
        put("acct-2", json!({"attributes": {"plan": "free"}})).await;

        let shown = |query: String| shows(&app, pk, query, &tour);
        let attrs = "attributes=%7B%22role%22%3A%22admin%22%7D";
        assert!(shown(format!("user_id=u-1&url=/&account_id=acct-1&{attrs}")).await);
        assert!(
            !shown(format!("user_id=u-2&url=/&account_id=acct-2&{attrs}")).await,
            "a free account"
        );
        assert!(
            !shown(format!("user_id=u-3&url=/&{attrs}")).await,
            "no account: no account rule holds"
        );
        assert!(
            !shown(format!("user_id=u-4&url=/&account_id=acct-404&{attrs}")).await,
            "an account never described"
        );
        // The account's attributes from the SDK merge into the stored ones for this request.
        let q = format!("user_id=u-5&url=/&account_id=acct-2&account_attributes=%7B%22plan%22%3A%22team%22%7D&{attrs}");
        assert!(shown(q).await);

        // The backend connects SSO: the guide is gone for the account's users.
        put("acct-1", json!({"attributes": {"sso": true}})).await;
        assert!(!shown(format!("user_id=u-1&url=/&account_id=acct-1&{attrs}")).await);

        // The users who named the account are its members.
        app.state
            .profiles
            .flush(std::time::Duration::from_secs(5))
            .await;
        let v = a.get_json("/v1/admin/accounts/acct-1").await;
        assert_eq!(
            v["attributes"],
            json!({"plan": "team", "seats": 40, "sso": true})
        );
        let members: Vec<&str> = v["members"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["user_id"].as_str().unwrap())
            .collect();
        assert_eq!(members, ["u-1"], "{v}");
        // The person's export names their account; their erasure ends the membership.
        let export = a.get_json("/v1/admin/users/u-1/export").await;
        assert_eq!(
            export["environments"]["production"]["accounts"],
            json!(["acct-1"])
        );
        let r = app
            .admin(sk)
            .request(reqwest::Method::DELETE, "/v1/admin/users/u-1")
            .await;
        assert_eq!(r.status(), 200);
        let v = a.get_json("/v1/admin/accounts/acct-1").await;
        assert_eq!(v["member_count"], 0, "{v}");
        assert_eq!(v["attributes"]["plan"], "team", "the account stays");
        let v = a.get_json("/v1/admin/accounts/acct-2").await;
        assert_eq!(
            v["attributes"]["plan"], "team",
            "the SDK's write is the latest: {v}"
        );

        // Bad input; other tenants; unknown accounts.
        let (code, err, _) = error_code(
            put("acct-1", json!({"attributes": {"x": {"y": 1}}})).await,
            422,
        )
        .await;
        assert_eq!(code, "validation_failed");
        assert_eq!(err["error"]["details"]["fields"][0]["path"], "attributes");
        error_code(config(&app, pk, "user_id=u-1&url=/&account_id=").await, 422).await;
        error_code(a.get("/v1/admin/accounts/nope").await, 404).await;
        let other = app.tenant("globex", &[]).await;
        error_code(
            admin(&app, &other).get("/v1/admin/accounts/acct-1").await,
            404,
        )
        .await;
    }
);
