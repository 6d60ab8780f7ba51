//! `POST /v1/admin/users/import`: NDJSON and CSV, typed cells, bad rows
//! reported by line while the valid ones are kept, and files too large refused.

use crate::both_stores;
use crate::helpers::{admin, error_code, prod, TestApp};
use serde_json::{json, Value};

async fn import(app: &TestApp, sk: &str, content_type: &str, body: String) -> reqwest::Response {
    app.admin(sk)
        .post("/v1/admin/users/import")
        .header("content-type", content_type)
        .body(body)
        .await
}

both_stores!(
    an_ndjson_import_keeps_the_valid_rows_and_reports_the_rest_by_line,
    |app: TestApp| async move {
        let t = app.tenant("acme", &[]).await;
        let (_, sk) = prod(&t);
        let a = admin(&app, &t);
        // Someone known already: the import merges into their attributes.
        let r = app
            .admin(sk)
            .request(reqwest::Method::PUT, "/v1/admin/users/known")
            .json(&json!({"attributes": {"plan": "free", "legacy": true}}))
            .await;
        assert_eq!(r.status(), 200);
        let lines = [
            r#"{"user_id": "u-1", "attributes": {"plan": "team", "seats": 12}}"#,
            r#"{"user_id": "known", "attributes": {"plan": "team", "legacy": null}}"#,
            r#"{"user_id": "u-2", "attributes": {"plan": "#,
            "",
            r#"{"user_id": "u-3", "attributes": {"address": {"city": "Oslo"}}}"#,
            r#"{"user_id": "u-1", "attributes": {"plan": "other"}}"#,
            r#"{"user_id": "anon-x", "attributes": {}}"#,
            r#"{"user_id": 7}"#,
            r#"{"user_id": "u-4"}"#,
        ];
        let r = import(&app, sk, "application/x-ndjson", lines.join("\n")).await;
        assert_eq!(r.status(), 200);
        let report: Value = r.json().await.unwrap();
        assert_eq!(report["rows"], 8, "the blank line is no row: {report}");
        assert_eq!(
            (report["created"].as_u64(), report["updated"].as_u64()),
            (Some(2), Some(1))
        );
        assert_eq!(report["imported"], 3);
        assert_eq!(report["failed"], 5);
        let errors: Vec<(u64, &str)> = report["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e["line"].as_u64().unwrap(), e["code"].as_str().unwrap()))
            .collect();
        assert_eq!(
            errors,
            [
                (3, "invalid_json"),
                (5, "invalid_attributes"),
                (6, "duplicate_id"),
                (7, "invalid_user_id"),
                (8, "invalid_user_id")
            ]
        );
        assert!(report["stopped"].is_null());
        let u = a.get_json("/v1/admin/users/u-1").await;
        assert_eq!(
            u["attributes"],
            json!({"plan": "team", "seats": 12}),
            "the first u-1 row"
        );
        let k = a.get_json("/v1/admin/users/known").await;
        assert_eq!(
            k["attributes"],
            json!({"plan": "team"}),
            "merged; null removed one"
        );
        error_code(a.get("/v1/admin/users/u-3").await, 404).await;
        // Audited once, with counts and no ids.
        let audit = a.get_json("/v1/admin/audit?action=user.import").await;
        assert_eq!(audit["items"].as_array().unwrap().len(), 1);
        assert!(!audit.to_string().contains("u-1"), "{audit}");
    }
);

both_stores!(
    a_csv_import_types_cells_and_keeps_formulas_as_text,
    |app: TestApp| async move {
        let t = app.tenant("acme", &[]).await;
        let (_, sk) = prod(&t);
        let a = admin(&app, &t);
        let csv = "user_id,plan,seats,beta,zip,note\n\
                   c-1,team,12,true,007,\"=HYPERLINK(\"\"http://evil.test\"\",\"\"x\"\")\"\n\
                   c-2,free,,false,,\"two\nlines\"\n\
                   c-3,team,3\n\
                   c-4,pro,1.5,true,90210,plain\n";
        let r = import(&app, sk, "text/csv; charset=utf-8", csv.to_owned()).await;
        assert_eq!(r.status(), 200);
        let report: Value = r.json().await.unwrap();
        assert_eq!(report["imported"], 3, "{report}");
        assert_eq!(
            report["errors"][0]["line"], 5,
            "c-3 has too few fields: {report}"
        );
        let c1 = a.get_json("/v1/admin/users/c-1").await;
        assert_eq!(
            c1["attributes"],
            json!({"plan": "team", "seats": 12, "beta": true, "zip": "007",
                   "note": "=HYPERLINK(\"http://evil.test\",\"x\")"})
        );
        let c2 = a.get_json("/v1/admin/users/c-2").await;
        assert_eq!(
            c2["attributes"],
            json!({"plan": "free", "beta": false, "note": "two\nlines"}),
            "empty cells set nothing"
        );
        assert_eq!(
            a.get_json("/v1/admin/users/c-4").await["attributes"]["seats"],
            1.5
        );

        // A header without user_id: nothing is read or written.
        let r = import(&app, sk, "text/csv", "id,plan\nc-9,team\n".into()).await;
        let (code, err, _) = error_code(r, 422).await;
        assert_eq!(code, "validation_failed");
        assert_eq!(err["error"]["details"]["fields"][0]["path"], "body");
        error_code(a.get("/v1/admin/users/c-9").await, 404).await;
        // An environment that does not exist; a publishable key.
        let r = app
            .admin(sk)
            .post("/v1/admin/users/import?environment=nope")
            .body("{}")
            .await;
        error_code(r, 422).await;
        let r = import(&app, prod(&t).0, "text/csv", csv.to_owned()).await;
        error_code(r, 401).await;
    }
);

both_stores!(
    files_too_large_are_refused_and_an_overlong_line_stops_the_read,
    |app: TestApp| async move {
        let t = app.tenant("acme", &[]).await;
        let (_, sk) = prod(&t);
        let a = admin(&app, &t);
        // A 2 GB file, declared: refused before a byte of it is read.
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut s = tokio::net::TcpStream::connect(app.addr).await.unwrap();
        let head = format!(
            "POST /v1/admin/users/import HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {sk}\r\n\
             Content-Type: text/csv\r\nContent-Length: 2147483648\r\n\r\nuser_id\nz-1\n"
        );
        s.write_all(head.as_bytes()).await.unwrap();
        let mut answer = vec![0u8; 4096];
        let n = tokio::time::timeout(std::time::Duration::from_secs(10), s.read(&mut answer))
            .await
            .unwrap()
            .unwrap();
        let answer = String::from_utf8_lossy(&answer[..n]);
        assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
        assert!(answer.contains("payload_too_large"), "{answer}");
        error_code(a.get("/v1/admin/users/z-1").await, 404).await;

        // A line of 70 KB: the rows before it are kept, reading stops there.
        let body = format!(
            "{{\"user_id\": \"l-1\"}}\n{{\"user_id\": \"l-2\", \"attributes\": {{\"x\": \"{}\"}}}}\n{{\"user_id\": \"l-3\"}}\n",
            "y".repeat(70_000)
        );
        let r = import(&app, sk, "application/x-ndjson", body).await;
        assert_eq!(r.status(), 200);
        let report: Value = r.json().await.unwrap();
        assert_eq!(report["imported"], 1, "{report}");
        assert_eq!(report["stopped"]["code"], "line_too_long");
        assert_eq!(report["stopped"]["line"], 2);
        a.get_json("/v1/admin/users/l-1").await;
        error_code(a.get("/v1/admin/users/l-3").await, 404).await;
    }
);

both_stores!(
    accounts_import_as_users_do_and_reach_account_rules,
    |app: TestApp| async move {
        let t = app.tenant("acme", &[]).await;
        let (pk, sk) = prod(&t);
        let a = admin(&app, &t);
        let tour = a
            .publish(
                "tours",
                json!({"name": "Team", "steps": [{"kind": "modal", "title": "T"}],
                       "audience": "account.plan = \"team\" and account.seats >= 10"}),
            )
            .await;
        let r = app
            .admin(sk)
            .request(reqwest::Method::PUT, "/v1/admin/accounts/acct-1")
            .json(&json!({"attributes": {"plan": "free", "region": "eu"}}))
            .await;
        assert_eq!(r.status(), 200);
        let csv = "account_id,plan,seats,note\n\
                   acct-1,team,40,\"=HYPERLINK(\"\"http://evil\"\")\"\n\
                   acct-2,team,3,\n\
                   acct-1,free,1,dup\n\
                   ,team,1,\n\
                   acct-3,team\n";
        let r = app
            .admin(sk)
            .post("/v1/admin/accounts/import")
            .header("content-type", "text/csv")
            .body(csv)
            .await;
        assert_eq!(r.status(), 200);
        let report: Value = r.json().await.unwrap();
        assert_eq!(
            (
                report["created"].as_u64(),
                report["updated"].as_u64(),
                report["failed"].as_u64()
            ),
            (Some(1), Some(1), Some(3)),
            "{report}"
        );
        let codes: Vec<&str> = report["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["code"].as_str().unwrap())
            .collect();
        assert_eq!(
            codes,
            ["duplicate_id", "invalid_account_id", "invalid_row"],
            "{report}"
        );
        let v = a.get_json("/v1/admin/accounts/acct-1").await;
        assert_eq!(v["attributes"]["seats"], 40, "typed: {v}");
        assert_eq!(v["attributes"]["region"], "eu", "merged: {v}");
        assert_eq!(
            v["attributes"]["note"], "=HYPERLINK(\"http://evil\")",
            "kept as text: {v}"
        );
        // The imported attributes reach rules at once.
        let q = "user_id=u-1&url=/&account_id=acct-1";
        let c = crate::helpers::config_json(&app, pk, q).await;
        assert!(
            c["tours"]
                .as_array()
                .unwrap()
                .iter()
                .any(|x| x["id"] == tour),
            "{c}"
        );
        // NDJSON names account_id; a user_id file is not an account file.
        let r = app
            .admin(sk)
            .post("/v1/admin/accounts/import")
            .header("content-type", "application/x-ndjson")
            .body("{\"account_id\": \"acct-4\", \"attributes\": {\"plan\": \"team\"}}\n{\"user_id\": \"u-1\"}\n")
            .await;
        let report: Value = r.json().await.unwrap();
        assert_eq!(
            (report["created"].as_u64(), report["failed"].as_u64()),
            (Some(1), Some(1)),
            "{report}"
        );
        assert_eq!(report["errors"][0]["code"], "invalid_json", "{report}");
        let r = app
            .admin(sk)
            .post("/v1/admin/accounts/import")
            .header("content-type", "text/csv")
            .body("user_id,plan\nu-1,team\n")
            .await;
        let (_, body, _) = error_code(r, 422).await;
        assert!(body.to_string().contains("account_id column"), "{body}");
        // Audited as an account import.
        let audit = a.get_json("/v1/admin/audit?limit=10").await;
        assert!(audit.to_string().contains("account.import"), "{audit}");
    }
);
