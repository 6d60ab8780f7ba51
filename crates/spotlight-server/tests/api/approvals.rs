//! Per-environment publish rights and publish approvals: an editor's publish
//! to an environment that requires approval becomes a request with its diff;
//! another admin or owner approves (publishing that exact revision) or
//! rejects it; a draft change voids it; the requester never decides it; all
//! of it is in the audit log.

use crate::both_stores;
use crate::helpers::*;
use serde_json::{json, Value};
use spotlight_domain::Role;

/// A member's call with the session's CSRF token: (status, body).
async fn as_member(
    app: &TestApp,
    s: &Session,
    method: reqwest::Method,
    path: &str,
    body: Value,
) -> (u16, Value) {
    let r = s.send(app, method, path, &body).await;
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

const POST: reqwest::Method = reqwest::Method::POST;

fn tour(title: &str) -> Value {
    json!({"name": "Welcome", "steps": [{"kind": "modal", "title": title}]})
}

both_stores!(
    an_editors_publish_waits_for_another_members_approval,
    |app: TestApp| async move {
        let t = app.tenant("Acme", &[]).await;
        let owner_pw = app.member(&t, "owner@acme.test", Role::Owner).await;
        let admin_pw = app.member(&t, "admin@acme.test", Role::Admin).await;
        let editor_pw = app.member(&t, "ed@acme.test", Role::Editor).await;
        let owner = app.login("owner@acme.test", &owner_pw).await;
        let adm = app.login("admin@acme.test", &admin_pw).await;
        let ed = app.login("ed@acme.test", &editor_pw).await;
        let key = admin(&app, &t);

        // The document says a publish answers 200, or 202 with a request.
        let doc = app.anon().get_json("/openapi.json").await;
        let answers = &doc["paths"]["/v1/admin/tours/{id}/publish"]["post"]["responses"];
        assert!(
            answers.get("200").is_some() && answers.get("202").is_some(),
            "{answers}"
        );
        assert!(
            answers["202"].to_string().contains("PublishRequestView"),
            "{answers}"
        );

        // Policies are validated: a known environment, never viewers.
        let r = key
            .patch("/v1/admin/settings")
            .json(&json!({"publishing": {"production": {"publish_role": "viewer"}}}))
            .await;
        assert_eq!(error_code(r, 422).await.0, "validation_failed");
        let r = key
            .patch("/v1/admin/settings")
            .json(&json!({"publishing": {"nowhere": {"requires_approval": true}}}))
            .await;
        assert!(r.status().is_client_error(), "{}", r.status());
        key.settings(json!({"publishing": {"production": {"requires_approval": true}}}))
            .await;
        let settings = key.get_json("/v1/admin/settings").await;
        assert_eq!(
            settings["publishing"]["production"],
            json!({"publish_role": "editor", "requires_approval": true})
        );

        // Live: version 1, published by the admin directly (admins approve).
        let (_, o) = as_member(&app, &ed, POST, "/v1/admin/tours", tour("Hello")).await;
        let id = o["id"].as_str().unwrap().to_owned();
        let publish = format!("/v1/admin/tours/{id}/publish");
        let (status, _) = as_member(
            &app,
            &adm,
            POST,
            &publish,
            json!({"environment": "production"}),
        )
        .await;
        assert_eq!(status, 200);

        // The editor changes the title and publishes: a request, with its diff.
        let (status, _) = as_member(
            &app,
            &ed,
            reqwest::Method::PUT,
            &format!("/v1/admin/tours/{id}"),
            tour("Hello, team"),
        )
        .await;
        assert_eq!(status, 200);
        let (status, req) = as_member(
            &app,
            &ed,
            POST,
            &publish,
            json!({"environment": "production"}),
        )
        .await;
        assert_eq!(status, 202, "{req}");
        assert_eq!(req["status"], "pending");
        assert_eq!(req["requested_by"], "ed@acme.test");
        assert_eq!(req["environment"], "production");
        assert_eq!(
            req["changes"],
            json!([{"path": "steps[0].title", "before": "Hello", "after": "Hello, team"}])
        );
        let rid = req["id"].as_str().unwrap().to_owned();
        // Nothing changed in production yet.
        let o = key.get_json(&format!("/v1/admin/tours/{id}")).await;
        assert_eq!(o["published"]["production"]["version"], 1);
        // Staging has no policy: the editor publishes there directly.
        let (status, _) =
            as_member(&app, &ed, POST, &publish, json!({"environment": "staging"})).await;
        assert_eq!(status, 200);
        // Other changes to production cannot be requested: refused.
        for (path, body) in [
            (
                format!("/v1/admin/tours/{id}/unpublish"),
                json!({"environment": "production"}),
            ),
            (
                format!("/v1/admin/tours/{id}/rollback"),
                json!({"environment": "production", "version": 1}),
            ),
            (format!("/v1/admin/tours/{id}/promote"), json!({})),
        ] {
            let (status, e) = as_member(&app, &ed, POST, &path, body).await;
            assert_eq!(status, 403, "{path}: {e}");
        }

        // The queue shows it; the editor cannot decide, nor can a key.
        let queue = key
            .get_json("/v1/admin/publish-requests?status=pending")
            .await;
        assert_eq!(queue["items"].as_array().unwrap().len(), 1);
        assert_eq!(queue["items"][0]["id"], rid.as_str());
        let r = key.get("/v1/admin/publish-requests?status=maybe").await;
        assert_eq!(error_code(r, 422).await.0, "validation_failed");
        let approve = format!("/v1/admin/publish-requests/{rid}/approve");
        let (status, _) = as_member(&app, &ed, POST, &approve, json!({})).await;
        assert_eq!(status, 403);
        let r = key.post(&approve).await;
        assert_eq!(error_code(r, 403).await.0, "forbidden");

        // The admin approves: exactly the requested revision goes live.
        let (status, done) = as_member(&app, &adm, POST, &approve, json!({})).await;
        assert_eq!(status, 200, "{done}");
        assert_eq!(done["status"], "approved");
        assert_eq!(done["decided_by"], "admin@acme.test");
        // The same revision went to staging first as version 2: the same version.
        assert_eq!(done["version"], 2);
        let o = key.get_json(&format!("/v1/admin/tours/{id}")).await;
        assert_eq!(o["published"]["production"]["version"], 2);
        let v = key
            .get_json(&format!("/v1/admin/tours/{id}/versions/2"))
            .await;
        assert_eq!(v["document"]["steps"][0]["title"], "Hello, team");
        // Decided once.
        let (status, _) = as_member(&app, &owner, POST, &approve, json!({})).await;
        assert_eq!(status, 409);

        // The audit log: the request, then the approval with the live document
        // before and the approved one after.
        let audit = key.get_json("/v1/admin/audit").await;
        let entries = audit["items"].as_array().unwrap();
        let approval = entries
            .iter()
            .find(|e| e["action"] == "tour.publish_approve")
            .expect("an approval entry");
        assert_eq!(approval["actor"], "admin@acme.test");
        assert_eq!(approval["after"]["request"], rid.as_str());
        assert_eq!(approval["after"]["requested_by"], "ed@acme.test");
        assert_eq!(approval["after"]["version"], 2);
        assert!(
            approval["changes"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c["path"] == "document.steps[0].title"
                    && c["before"] == "Hello"
                    && c["after"] == "Hello, team"),
            "{approval}"
        );
        assert!(entries
            .iter()
            .any(|e| e["action"] == "tour.publish_request" && e["actor"] == "ed@acme.test"));
    }
);

both_stores!(
    requests_are_voided_by_a_draft_change_and_never_decided_by_their_requester,
    |app: TestApp| async move {
        let t = app.tenant("Acme", &[]).await;
        let owner_pw = app.member(&t, "owner@acme.test", Role::Owner).await;
        let editor_pw = app.member(&t, "ed@acme.test", Role::Editor).await;
        let owner = app.login("owner@acme.test", &owner_pw).await;
        let ed = app.login("ed@acme.test", &editor_pw).await;
        let key = admin(&app, &t);
        key.settings(json!({"publishing": {"production": {"requires_approval": true}}}))
            .await;
        let (_, o) = as_member(&app, &ed, POST, "/v1/admin/tours", tour("One")).await;
        let id = o["id"].as_str().unwrap().to_owned();
        let publish = format!("/v1/admin/tours/{id}/publish");

        // A first request, then a change to the draft: void; approving it is a 409.
        let (_, first) = as_member(
            &app,
            &ed,
            POST,
            &publish,
            json!({"environment": "production"}),
        )
        .await;
        let first = first["id"].as_str().unwrap().to_owned();
        let (status, _) = as_member(
            &app,
            &ed,
            reqwest::Method::PUT,
            &format!("/v1/admin/tours/{id}"),
            tour("Two"),
        )
        .await;
        assert_eq!(status, 200);
        let r = key
            .get_json(&format!("/v1/admin/publish-requests/{first}"))
            .await;
        assert_eq!(r["status"], "voided");
        let (status, e) = as_member(
            &app,
            &owner,
            POST,
            &format!("/v1/admin/publish-requests/{first}/approve"),
            json!({}),
        )
        .await;
        assert_eq!(status, 409, "{e}");
        let o = key.get_json(&format!("/v1/admin/tours/{id}")).await;
        assert!(
            o["published"].get("production").is_none(),
            "nothing published"
        );

        // A second request; the owner rejects it with a comment.
        let (_, second) = as_member(
            &app,
            &ed,
            POST,
            &publish,
            json!({"environment": "production"}),
        )
        .await;
        let second = second["id"].as_str().unwrap().to_owned();
        let reject = format!("/v1/admin/publish-requests/{second}/reject");
        let (status, _) = as_member(&app, &owner, POST, &reject, json!({"comment": " "})).await;
        assert_eq!(status, 422);
        let (status, r) = as_member(
            &app,
            &owner,
            POST,
            &reject,
            json!({"comment": "Say who it is for"}),
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(r["status"], "rejected");
        assert_eq!(r["comment"], "Say who it is for");

        // A third request; its requester, promoted to admin meanwhile, still
        // cannot approve it.
        let (_, third) = as_member(
            &app,
            &ed,
            POST,
            &publish,
            json!({"environment": "production"}),
        )
        .await;
        let third = third["id"].as_str().unwrap().to_owned();
        let ed_account = key.get_json("/v1/admin/members").await["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["email"] == "ed@acme.test")
            .unwrap()["account_id"]
            .as_str()
            .unwrap()
            .to_owned();
        let (status, _) = as_member(
            &app,
            &owner,
            reqwest::Method::PUT,
            &format!("/v1/admin/members/{ed_account}"),
            json!({"role": "admin"}),
        )
        .await;
        assert_eq!(status, 200);
        let (status, e) = as_member(
            &app,
            &ed,
            POST,
            &format!("/v1/admin/publish-requests/{third}/approve"),
            json!({}),
        )
        .await;
        assert_eq!(status, 403, "{e}");
        assert!(e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("your own request"));

        // Another tenant sees none of it.
        let other = app.tenant("Other", &[]).await;
        let r = admin(&app, &other)
            .get(&format!("/v1/admin/publish-requests/{third}"))
            .await;
        assert_eq!(r.status(), 404);
        let list = admin(&app, &other)
            .get_json("/v1/admin/publish-requests")
            .await;
        assert_eq!(list["items"], json!([]));
    }
);

both_stores!(
    an_environment_can_need_a_higher_role_to_publish,
    |app: TestApp| async move {
        let t = app.tenant("Acme", &[]).await;
        let editor_pw = app.member(&t, "ed@acme.test", Role::Editor).await;
        let ed = app.login("ed@acme.test", &editor_pw).await;
        let key = admin(&app, &t);
        key.settings(json!({"publishing": {"production": {"publish_role": "admin"}}}))
            .await;
        let (_, o) = as_member(&app, &ed, POST, "/v1/admin/tours", tour("One")).await;
        let id = o["id"].as_str().unwrap().to_owned();
        let publish = format!("/v1/admin/tours/{id}/publish");
        let (status, e) = as_member(
            &app,
            &ed,
            POST,
            &publish,
            json!({"environment": "production"}),
        )
        .await;
        assert_eq!(status, 403);
        assert!(
            e["error"]["message"]
                .as_str()
                .unwrap()
                .contains("needs the admin role"),
            "{e}"
        );
        let (status, _) =
            as_member(&app, &ed, POST, &publish, json!({"environment": "staging"})).await;
        assert_eq!(status, 200);
        // Promoting into production is a change to it too.
        let (status, _) = as_member(
            &app,
            &ed,
            POST,
            &format!("/v1/admin/tours/{id}/promote"),
            json!({}),
        )
        .await;
        assert_eq!(status, 403);
        let r = key.post(&format!("/v1/admin/tours/{id}/promote")).await;
        assert_eq!(r.status(), 200);
    }
);
