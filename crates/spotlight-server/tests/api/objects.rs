use crate::both_stores;
use crate::helpers::*;
use serde_json::{json, Value};
use spotlight_domain::Role;

fn tour(name: &str) -> Value {
    json!({
        "name": name,
        "steps": [
            {"kind": "modal", "title": "Welcome", "body": "<p>Hello<script>alert(1)</script></p>",
             "buttons": [{"action": "next", "label": "Start"}]},
            {"kind": "tooltip", "title": "Export", "target": {"selectors": ["#export"]}}
        ],
        "audience": "plan = \"pro\"",
        "pages": [{"match": "glob", "pattern": "/app/*"}]
    })
}

struct Api<'a> {
    app: &'a TestApp,
    sk: String,
}

impl Api<'_> {
    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
        if_match: Option<&str>,
    ) -> reqwest::Response {
        let mut call = self.app.admin(&self.sk).request(method, path);
        if let Some(b) = body {
            call = call.json(&b);
        }
        if let Some(m) = if_match {
            call = call.header("if-match", m);
        }
        call.await
    }
    async fn json(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
        status: u16,
    ) -> Value {
        let r = self.send(method, path, body, None).await;
        let got = r.status().as_u16();
        let text = r.text().await.unwrap();
        assert_eq!(got, status, "{path}: {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }
}

use reqwest::Method;

both_stores!(tour_lifecycle, |app: TestApp| async move {
    let t = app.tenant("Acme", &[]).await;
    let api = Api {
        app: &app,
        sk: prod(&t).1.to_owned(),
    };

    // Create: sanitised, ETag "1".
    let r = api
        .send(Method::POST, "/v1/admin/tours", Some(tour("Welcome")), None)
        .await;
    assert_eq!(r.status(), 201);
    assert_eq!(r.headers()["etag"], "\"1\"");
    let created: Value = r.json().await.unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    let base = format!("/v1/admin/tours/{id}");
    assert_eq!(created["status"], "draft");
    assert_eq!(created["document"]["steps"][0]["body"], "<p>Hello</p>");
    assert_eq!(created["document"]["steps"][1]["id"], "step-2");

    // Update with the right revision, then with a stale one.
    let r = api
        .send(Method::PUT, &base, Some(tour("Welcome v2")), Some("\"1\""))
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["etag"], "\"2\"");
    let r = api
        .send(Method::PUT, &base, Some(tour("Lost update")), Some("\"1\""))
        .await;
    let (code, _, _) = error_code(r, 412).await;
    assert_eq!(code, "precondition_failed");
    let got = api.json(Method::GET, &base, None, 200).await;
    assert_eq!(
        got["name"], "Welcome v2",
        "a refused update changed nothing"
    );

    // Publish to staging: version 1; again without changes: still 1.
    let p = api
        .json(
            Method::POST,
            &format!("{base}/publish"),
            Some(json!({"environment": "staging"})),
            200,
        )
        .await;
    assert_eq!(
        (p["version"].as_i64(), p["environment"].as_str()),
        (Some(1), Some("staging"))
    );
    assert_eq!(p["object"]["status"], "published");
    let p = api
        .json(
            Method::POST,
            &format!("{base}/publish"),
            Some(json!({"environment": "staging"})),
            200,
        )
        .await;
    assert_eq!(p["version"], 1);

    // Edit, publish v2 to staging, promote to production, roll production back to 1.
    api.json(Method::PUT, &base, Some(tour("Welcome v3")), 200)
        .await;
    let p = api
        .json(
            Method::POST,
            &format!("{base}/publish"),
            Some(json!({"environment": "staging"})),
            200,
        )
        .await;
    assert_eq!(p["version"], 2);
    let o = api
        .json(Method::POST, &format!("{base}/promote"), None, 200)
        .await;
    assert_eq!(o["published"]["production"]["version"], 2);
    assert_eq!(o["published"]["staging"]["version"], 2);
    let o = api
        .json(
            Method::POST,
            &format!("{base}/rollback"),
            Some(json!({"version": 1, "environment": "production"})),
            200,
        )
        .await;
    assert_eq!(o["published"]["production"]["version"], 1);
    let r = api
        .send(
            Method::POST,
            &format!("{base}/rollback"),
            Some(json!({"version": 9})),
            None,
        )
        .await;
    error_code(r, 422).await;

    let versions = api
        .json(Method::GET, &format!("{base}/versions"), None, 200)
        .await;
    let vs: Vec<i64> = versions["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_i64().unwrap())
        .collect();
    assert_eq!(vs, [2, 1]);
    assert_eq!(versions["items"][1]["published_in"], json!(["production"]));
    let v1 = api
        .json(Method::GET, &format!("{base}/versions/1"), None, 200)
        .await;
    assert_eq!(v1["document"]["name"], "Welcome v2");
    api.json(Method::GET, &format!("{base}/versions/7"), None, 404)
        .await;

    // Duplicate, archive (unpublishes), refuse publishing while archived, delete.
    let copy = api
        .json(Method::POST, &format!("{base}/duplicate"), None, 201)
        .await;
    assert_eq!(copy["name"], "Welcome v3 (copy)");
    assert_eq!(copy["status"], "draft");
    let o = api
        .json(Method::POST, &format!("{base}/archive"), None, 200)
        .await;
    assert_eq!(o["status"], "archived");
    assert_eq!(o["published"], json!({}));
    let r = api
        .send(Method::POST, &format!("{base}/publish"), None, None)
        .await;
    let (code, _, _) = error_code(r, 409).await;
    assert_eq!(code, "conflict");
    let o = api
        .json(Method::POST, &format!("{base}/unarchive"), None, 200)
        .await;
    assert_eq!(o["status"], "draft");
    let r = api.send(Method::DELETE, &base, None, None).await;
    assert_eq!(r.status(), 204);
    api.json(Method::GET, &base, None, 404).await;

    // The audit log has every step, newest first, with diffs.
    let audit = api
        .json(Method::GET, "/v1/admin/audit?object_kind=tour", None, 200)
        .await;
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "tour.delete",
            "tour.unarchive",
            "tour.archive",
            "tour.duplicate",
            "tour.rollback",
            "tour.promote",
            "tour.publish",
            "tour.update",
            "tour.publish",
            "tour.publish",
            "tour.update",
            "tour.create"
        ]
    );
    let update = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|a| a["action"] == "tour.update")
        .unwrap();
    assert!(
        update["changes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["path"] == "name"),
        "{update}"
    );
    assert!(update["actor"].as_str().unwrap().starts_with("key:"));
});

both_stores!(
    invalid_documents_list_every_field,
    |app: TestApp| async move {
        let t = app.tenant("Acme", &[]).await;
        let api = Api {
            app: &app,
            sk: prod(&t).1.to_owned(),
        };
        let bad = json!({"name": "", "steps": [{"kind": "tooltip"}], "audience": "plan ==", "priority": 9999});
        let r = api
            .send(Method::POST, "/v1/admin/tours", Some(bad), None)
            .await;
        let (code, body, _) = error_code(r, 422).await;
        assert_eq!(code, "validation_failed");
        let paths: Vec<&str> = body["error"]["details"]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["path"].as_str().unwrap())
            .collect();
        assert_eq!(paths, ["name", "steps[0].target", "audience", "priority"]);
        // Unknown fields and kinds: refused with the path.
        let r = api
            .send(
                Method::POST,
                "/v1/admin/tours",
                Some(json!({"name": "x", "steps": [{"kind": "popup"}]})),
                None,
            )
            .await;
        let (_, body, _) = error_code(r, 422).await;
        assert_eq!(
            body["error"]["details"]["fields"][0]["path"],
            "steps[0].kind"
        );
        let r = api
            .send(
                Method::POST,
                "/v1/admin/audiences",
                Some(json!({"name": "x", "rule": "a = 1", "extra": 1})),
                None,
            )
            .await;
        error_code(r, 422).await;
        // Audiences store the canonical rule; their errors point at the column.
        let a = api
            .json(
                Method::POST,
                "/v1/admin/audiences",
                Some(json!({"name": "Pros", "rule": "plan=\"pro\"  AND seats>1"})),
                201,
            )
            .await;
        assert_eq!(a["document"]["rule"], "plan = \"pro\" and seats > 1");
        let r = api
            .send(
                Method::POST,
                "/v1/admin/audiences",
                Some(json!({"name": "Bad", "rule": "plan in \"pro\""})),
                None,
            )
            .await;
        let (_, body, _) = error_code(r, 422).await;
        assert!(
            body["error"]["details"]["fields"][0]["message"]
                .as_str()
                .unwrap()
                .contains("column 9"),
            "{body}"
        );
        // Themes refuse CSS injection.
        let r = api
            .send(
                Method::POST,
                "/v1/admin/themes",
                Some(json!({"name": "T", "tokens": {"primary": "red;}*{display:none"}})),
                None,
            )
            .await;
        error_code(r, 422).await;
        // Nothing was written by the refused requests.
        let audit = api.json(Method::GET, "/v1/admin/audit", None, 200).await;
        assert_eq!(audit["items"].as_array().unwrap().len(), 1);
    }
);

both_stores!(
    lists_paginate_filter_and_fetch_by_ids,
    |app: TestApp| async move {
        let t = app.tenant("Acme", &[]).await;
        let api = Api {
            app: &app,
            sk: prod(&t).1.to_owned(),
        };
        let mut ids = Vec::new();
        for i in 0..5 {
            let o = api
                .json(
                    Method::POST,
                    "/v1/admin/tours",
                    Some(tour(&format!("Tour {i}"))),
                    201,
                )
                .await;
            ids.push(o["id"].as_str().unwrap().to_owned());
        }
        api.json(
            Method::POST,
            &format!("/v1/admin/tours/{}/publish", ids[1]),
            None,
            200,
        )
        .await;
        api.json(
            Method::POST,
            &format!("/v1/admin/tours/{}/archive", ids[2]),
            None,
            200,
        )
        .await;

        let page = api
            .json(Method::GET, "/v1/admin/tours?limit=2", None, 200)
            .await;
        assert_eq!(page["items"].as_array().unwrap().len(), 2);
        let next = page["next_cursor"].as_str().unwrap();
        let page2 = api
            .json(
                Method::GET,
                &format!("/v1/admin/tours?limit=2&cursor={next}"),
                None,
                200,
            )
            .await;
        assert_eq!(page2["items"][0]["id"], ids[2].as_str());
        let all = api
            .json(Method::GET, "/v1/admin/tours?limit=1000", None, 200)
            .await;
        assert_eq!(all["items"].as_array().unwrap().len(), 5);

        let status = |s: &'static str| {
            let api = &api;
            async move {
                let p = api
                    .json(
                        Method::GET,
                        &format!("/v1/admin/tours?status={s}"),
                        None,
                        200,
                    )
                    .await;
                p["items"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|o| o["id"].as_str().unwrap().to_owned())
                    .collect::<Vec<_>>()
            }
        };
        assert_eq!(status("published").await, [ids[1].clone()]);
        assert_eq!(status("archived").await, [ids[2].clone()]);
        assert_eq!(status("draft").await.len(), 3);
        api.json(Method::GET, "/v1/admin/tours?status=bogus", None, 422)
            .await;

        let found = api
            .json(Method::GET, "/v1/admin/tours?q=our%203", None, 200)
            .await;
        assert_eq!(found["items"][0]["name"], "Tour 3");
        let none = api
            .json(Method::GET, "/v1/admin/tours?q=%25", None, 200)
            .await;
        assert!(
            none["items"].as_array().unwrap().is_empty(),
            "% is literal in searches"
        );

        let picked = api
            .json(
                Method::GET,
                &format!("/v1/admin/tours?ids={},{}", ids[4], ids[0]),
                None,
                200,
            )
            .await;
        let got: Vec<&str> = picked["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["id"].as_str().unwrap())
            .collect();
        assert_eq!(got, [ids[0].as_str(), ids[4].as_str()]);
        api.json(Method::GET, "/v1/admin/tours?ids=nope", None, 422)
            .await;
    }
);

both_stores!(
    objects_are_invisible_across_tenants,
    |app: TestApp| async move {
        let a = app.tenant("A", &[]).await;
        let b = app.tenant("B", &[]).await;
        let api_a = Api {
            app: &app,
            sk: prod(&a).1.to_owned(),
        };
        let api_b = Api {
            app: &app,
            sk: prod(&b).1.to_owned(),
        };
        let o = api_a
            .json(Method::POST, "/v1/admin/tours", Some(tour("Secret")), 201)
            .await;
        let id = o["id"].as_str().unwrap();
        let base = format!("/v1/admin/tours/{id}");
        let attempts: Vec<(Method, String, Option<Value>)> = vec![
            (Method::GET, base.clone(), None),
            (Method::PUT, base.clone(), Some(tour("Hijacked"))),
            (Method::DELETE, base.clone(), None),
            (Method::POST, format!("{base}/publish"), None),
            (Method::POST, format!("{base}/unpublish"), None),
            (Method::GET, format!("{base}/versions"), None),
            (Method::GET, format!("{base}/versions/1"), None),
            (
                Method::POST,
                format!("{base}/rollback"),
                Some(json!({"version": 1})),
            ),
            (Method::POST, format!("{base}/promote"), None),
            (Method::POST, format!("{base}/duplicate"), None),
            (Method::POST, format!("{base}/archive"), None),
            (Method::POST, format!("{base}/unarchive"), None),
            // The same id under another kind is not found either.
            (Method::GET, format!("/v1/admin/themes/{id}"), None),
        ];
        for (method, path, body) in attempts {
            let r = api_b.send(method.clone(), &path, body, None).await;
            let (code, _, _) = error_code(r, 404).await;
            assert_eq!(code, "not_found", "{method} {path}");
        }
        let listed = api_b
            .json(Method::GET, &format!("/v1/admin/tours?ids={id}"), None, 200)
            .await;
        assert!(listed["items"].as_array().unwrap().is_empty());
        let audit_b = api_b.json(Method::GET, "/v1/admin/audit", None, 200).await;
        assert!(audit_b["items"].as_array().unwrap().is_empty());
        // A's tour is untouched.
        let still = api_a.json(Method::GET, &base, None, 200).await;
        assert_eq!(still["name"], "Secret");
        assert_eq!(still["revision"], 1);
        assert_eq!(still["status"], "draft");
    }
);

both_stores!(roles_gate_authoring, |app: TestApp| async move {
    let t = app.tenant("Acme", &[]).await;
    let pw_v = app.member(&t, "v@acme.test", Role::Viewer).await;
    let pw_e = app.member(&t, "e@acme.test", Role::Editor).await;
    let viewer = app.login("v@acme.test", &pw_v).await;
    let editor = app.login("e@acme.test", &pw_e).await;
    let r = viewer
        .client
        .post(app.url("/v1/admin/tours"))
        .header("x-csrf-token", &viewer.csrf)
        .json(&tour("x"))
        .send()
        .await
        .unwrap();
    let (code, _, _) = error_code(r, 403).await;
    assert_eq!(code, "forbidden");
    let r = editor
        .client
        .post(app.url("/v1/admin/tours"))
        .header("x-csrf-token", &editor.csrf)
        .json(&tour("x"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let created: Value = r.json().await.unwrap();
    let r = viewer
        .client
        .get(app.url("/v1/admin/tours"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = viewer
        .client
        .get(app.url(&format!(
            "/v1/admin/tours/{}",
            created["id"].as_str().unwrap()
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // Editors cannot read the audit log (admin and up).
    let r = editor
        .client
        .get(app.url("/v1/admin/audit"))
        .send()
        .await
        .unwrap();
    error_code(r, 403).await;
    // The member's e-mail is the audit actor.
    let (_, sk) = prod(&t);
    let audit: Value = app.admin(sk).get_json("/v1/admin/audit").await;
    assert_eq!(audit["items"][0]["actor"], "e@acme.test");
    // CSV export.
    let r = app.admin(sk).get("/v1/admin/audit?format=csv").await;
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let csv = r.text().await.unwrap();
    assert!(csv.starts_with("id,at,actor,action"), "{csv}");
    assert!(csv.contains("e@acme.test,tour.create,tour,"), "{csv}");
});
