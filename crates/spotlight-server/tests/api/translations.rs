//! Translation export and import: every translatable string by stable id, as
//! JSON and XLIFF 2.0, with its source text and revision; an import checks
//! each string, sanitises bodies, refuses stale ones and XML that could expand
//! entities, and writes one new draft revision per object; the config
//! endpoint then serves the language with its fallback (fr-CA → fr → default).

use crate::both_stores;
use crate::helpers::*;
use serde_json::{json, Value};

async fn import(app: &TestApp, sk: &str, content_type: &str, body: Vec<u8>) -> reqwest::Response {
    app.admin(sk)
        .post("/v1/admin/translations")
        .header("content-type", content_type)
        .body(body)
        .await
}

fn tour() -> Value {
    json!({"name": "Welcome", "steps": [
        {"id": "hello", "kind": "modal", "title": "Hello", "body": "<p>Welcome aboard</p>",
         "buttons": [{"action": "next", "label": "Next"}]},
        {"id": "bye", "kind": "modal", "title": "Bye"}
    ]})
}

both_stores!(
    strings_go_out_and_come_back_as_a_new_draft_revision,
    |app: TestApp| async move {
        let t = app.tenant("Acme", &[]).await;
        let (pk, sk) = prod(&t);
        let a = admin(&app, &t);
        let tour_id = a.publish("tours", tour()).await;
        let note = a
            .publish(
                "content",
                json!({"name": "News", "type": "banner", "title": "New!"}),
            )
            .await;
        let list = a
            .publish(
                "checklists",
                json!({"name": "Start", "title": "Get started", "items": [
                    {"id": "invite", "title": "Invite a teammate", "completed_by": {"type": "event", "event": "invited"}}
                ]}),
            )
            .await;

        // JSON: keyed by object and step id, with source and revision.
        let file = a.get_json("/v1/admin/translations?locale=fr").await;
        assert_eq!(file["locale"], "fr");
        let strings = file["strings"].as_object().unwrap();
        let key = |k: &str| format!("{tour_id}:{k}");
        assert_eq!(
            strings[&key("steps.hello.title")],
            json!({"kind": "tour", "object": "Welcome", "revision": 1, "source": "Hello", "target": null})
        );
        for k in [
            "steps.hello.body",
            "steps.hello.buttons.0",
            "steps.bye.title",
        ] {
            assert!(strings.contains_key(&key(k)), "{k}");
        }
        assert_eq!(strings[&format!("{note}:title")]["source"], "New!");
        assert_eq!(
            strings[&format!("{list}:items.invite.title")]["source"],
            "Invite a teammate"
        );
        assert_eq!(strings.len(), 7);
        // One object by id; bad parameters are named.
        let one = a
            .get_json(&format!("/v1/admin/translations?locale=fr&ids={note}"))
            .await;
        assert_eq!(one["strings"].as_object().unwrap().len(), 1);
        for (q, field) in [
            ("locale=French", "locale"),
            ("locale=fr&format=csv", "format"),
            ("locale=fr&ids=nope", "ids"),
        ] {
            let r = a.get(&format!("/v1/admin/translations?{q}")).await;
            let (code, details, _) = error_code(r, 422).await;
            assert_eq!(code, "validation_failed");
            assert_eq!(
                details["error"]["details"]["fields"][0]["path"], field,
                "{q}"
            );
        }

        // The translator's work, with everything that can go wrong.
        let mut back = file.clone();
        let s = back["strings"].as_object_mut().unwrap();
        s[&key("steps.hello.title")]["target"] = json!("Bonjour");
        s[&key("steps.hello.body")]["target"] =
            json!("<p>Bienvenue</p><img src=x onerror=alert(1)><script>steal()</script>");
        s[&key("steps.hello.buttons.0")]["target"] = json!("Suivant");
        s[&format!("{list}:items.invite.title")]["target"] = json!("Inviter un collègue");
        s[&format!("{note}:title")]["target"] = json!("Nouveau !");
        s[&format!("{note}:title")]["revision"] = json!(7);
        s.insert(
            key("steps.gone.title"),
            json!({"revision": 1, "source": "x", "target": "y"}),
        );
        s.insert(
            "01a00000-0000-7000-8000-000000000000:title".into(),
            json!({"revision": 1, "source": "x", "target": "y"}),
        );
        let r = import(&app, sk, "application/json", back.to_string().into_bytes()).await;
        assert_eq!(r.status(), 200);
        let report: Value = r.json().await.unwrap();
        let status_of = |id: &str| {
            report["strings"]
                .as_array()
                .unwrap()
                .iter()
                .find(|s| s["id"] == id)
                .unwrap_or_else(|| panic!("{id} in {report}"))["status"]
                .as_str()
                .unwrap()
                .to_owned()
        };
        assert_eq!(status_of(&key("steps.hello.title")), "applied");
        assert_eq!(status_of(&key("steps.hello.body")), "sanitized");
        assert_eq!(status_of(&key("steps.hello.buttons.0")), "applied");
        assert_eq!(status_of(&key("steps.bye.title")), "empty");
        assert_eq!(status_of(&key("steps.gone.title")), "unknown");
        assert_eq!(status_of(&format!("{note}:title")), "stale");
        assert_eq!(
            status_of("01a00000-0000-7000-8000-000000000000:title"),
            "unknown"
        );
        assert_eq!(status_of(&format!("{list}:items.invite.title")), "applied");
        assert_eq!(report["applied"], 4);
        assert_eq!(report["refused"], 3);
        assert_eq!(
            report["objects"],
            json!([
                {"id": tour_id, "kind": "tour", "revision": 2, "applied": 3},
                {"id": list, "kind": "checklist", "revision": 2, "applied": 1}
            ]),
            "objects in the file's order"
        );

        // A new draft revision holds them, sanitised; the stale one changed nothing.
        let o = a.get_json(&format!("/v1/admin/tours/{tour_id}")).await;
        assert_eq!(o["revision"], 2);
        let fr = &o["document"]["locales"]["fr"];
        assert_eq!(fr[0]["title"], "Bonjour");
        assert_eq!(fr[0]["buttons"], json!(["Suivant"]));
        let body = fr[0]["body"].as_str().unwrap();
        assert!(
            body.contains("Bienvenue") && !body.contains("script") && !body.contains("onerror"),
            "{body}"
        );
        assert_eq!(fr[1], json!({}));
        let n = a.get_json(&format!("/v1/admin/content/{note}")).await;
        assert_eq!(n["revision"], 1);
        let audit = a.get_json("/v1/admin/audit").await;
        assert!(audit["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "tour.translate"));

        // Published, the config serves French to fr-CA (fallback to fr), and
        // the default text to a language it lacks.
        a.send(
            reqwest::Method::POST,
            &format!("/v1/admin/tours/{tour_id}/publish"),
            json!({"environment": "production"}),
        )
        .await;
        let title = |v: &Value| v["tours"][0]["document"]["steps"][0]["title"].clone();
        let v = config_json(&app, pk, "user_id=u1&url=/&locale=fr-CA").await;
        assert_eq!(title(&v), "Bonjour");
        let v = config_json(&app, pk, "user_id=u1&url=/&locale=de").await;
        assert_eq!(title(&v), "Hello");
        a.send(
            reqwest::Method::POST,
            &format!("/v1/admin/checklists/{list}/publish"),
            json!({"environment": "production"}),
        )
        .await;
        let item = |v: &Value| v["checklists"][0]["document"]["items"][0]["title"].clone();
        let v = config_json(&app, pk, "user_id=u1&url=/&locale=fr-CA").await;
        assert_eq!(item(&v), "Inviter un collègue", "{v}");
        assert!(
            v["checklists"][0]["document"].get("locales").is_none(),
            "other languages stay on the server"
        );
        let v = config_json(&app, pk, "user_id=u1&url=/&locale=de").await;
        assert_eq!(item(&v), "Invite a teammate");

        // XLIFF 2.0 out (the French already there as targets) and back in.
        let r = a.get("/v1/admin/translations?locale=fr&format=xliff").await;
        assert_eq!(r.status(), 200);
        assert!(r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/xliff+xml"));
        let xliff = r.text().await.unwrap();
        assert!(
            xliff.contains(r#"xmlns="urn:oasis:names:tc:xliff:document:2.0""#),
            "{xliff}"
        );
        assert!(xliff.contains(r#"srcLang="en" trgLang="fr""#), "{xliff}");
        assert!(xliff.contains(r#"<unit id="steps.bye.title">"#), "{xliff}");
        assert!(xliff.contains("<target>Bonjour</target>"), "{xliff}");
        assert!(
            xliff.contains("&lt;p&gt;Welcome aboard&lt;/p&gt;"),
            "bodies as escaped text: {xliff}"
        );
        let filled = xliff.replace(
            "<source>Bye</source>",
            "<source>Bye</source>\n        <target>Au revoir &amp; &#224; bient&#xF4;t</target>",
        );
        let r = import(&app, sk, "application/xliff+xml", filled.into_bytes()).await;
        assert_eq!(r.status(), 200);
        let report: Value = r.json().await.unwrap();
        assert_eq!(report["objects"][0]["revision"], 3, "{report}");
        let o = a.get_json(&format!("/v1/admin/tours/{tour_id}")).await;
        assert_eq!(
            o["document"]["locales"]["fr"][1]["title"],
            "Au revoir & à bientôt"
        );
    }
);

both_stores!(hostile_files_are_refused_whole, |app: TestApp| async move {
    let t = app.tenant("Acme", &[]).await;
    let (_, sk) = prod(&t);
    let a = admin(&app, &t);
    let tour_id = a.publish("tours", tour()).await;
    let unit = format!(
        r#"<file id="o{tour_id}" xmlns:sl="urn:spotlight:translations:1" sl:object="{tour_id}" sl:revision="1"><unit id="steps.hello.title"><segment><source>Hello</source><target>&lol9;</target></segment></unit></file>"#
    );
    // The billion laughs: a DOCTYPE declaring entities that expand.
    let mut bomb =
        String::from("<?xml version=\"1.0\"?>\n<!DOCTYPE xliff [\n<!ENTITY lol \"lol\">\n");
    for i in 1..10 {
        let prev = if i == 1 {
            "lol".to_owned()
        } else {
            format!("lol{}", i - 1)
        };
        bomb.push_str(&format!(
            "<!ENTITY lol{i} \"{}\">\n",
            format!("&{prev};").repeat(10)
        ));
    }
    bomb.push_str(&format!(
            "]>\n<xliff xmlns=\"urn:oasis:names:tc:xliff:document:2.0\" version=\"2.0\" srcLang=\"en\" trgLang=\"fr\">{unit}</xliff>"
        ));
    let r = import(&app, sk, "application/xliff+xml", bomb.into_bytes()).await;
    let (code, e, _) = error_code(r, 422).await;
    assert_eq!(code, "validation_failed");
    assert!(
        e["error"]["message"].as_str().unwrap().contains("DOCTYPE"),
        "{e}"
    );
    // An entity XML does not define, without a DOCTYPE: refused too.
    let undefined = format!(
            "<xliff xmlns=\"urn:oasis:names:tc:xliff:document:2.0\" version=\"2.0\" srcLang=\"en\" trgLang=\"fr\">{unit}</xliff>"
        );
    let r = import(&app, sk, "application/xliff+xml", undefined.into_bytes()).await;
    let (_, e, _) = error_code(r, 422).await;
    assert!(
        e["error"]["message"].as_str().unwrap().contains("lol9"),
        "{e}"
    );
    // Broken XML, another format, and 50 MB.
    let r = import(
        &app,
        sk,
        "application/xliff+xml",
        b"<xliff><file></xliff>".to_vec(),
    )
    .await;
    assert_eq!(error_code(r, 422).await.0, "validation_failed");
    let r = import(&app, sk, "text/csv", b"a,b".to_vec()).await;
    assert_eq!(error_code(r, 415).await.0, "unsupported_media_type");
    let r = import(&app, sk, "application/json", b"{\"strings\": 3}".to_vec()).await;
    assert_eq!(error_code(r, 422).await.0, "validation_failed");
    // 50 MB declared: refused before it is read.
    {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut s = tokio::net::TcpStream::connect(app.addr).await.unwrap();
        s.write_all(
                format!("POST /v1/admin/translations HTTP/1.1\r\nhost: t\r\nauthorization: Bearer {sk}\r\ncontent-type: application/xliff+xml\r\ncontent-length: {}\r\n\r\n<xliff", 50 * 1024 * 1024).as_bytes(),
            )
            .await
            .unwrap();
        let mut head = vec![0u8; 12];
        s.read_exact(&mut head).await.unwrap();
        assert_eq!(&head, b"HTTP/1.1 413");
    }
    // Nothing was written.
    let o = a.get_json(&format!("/v1/admin/tours/{tour_id}")).await;
    assert_eq!(o["revision"], 1);
    assert!(o["document"].get("locales").is_none(), "{o}");
    // Viewers export; importing needs an editor.
    let vpw = app
        .member(&t, "v@acme.test", spotlight_domain::Role::Viewer)
        .await;
    let v = app.login("v@acme.test", &vpw).await;
    let r = v
        .client
        .get(app.url("/v1/admin/translations?locale=fr"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = v
        .client
        .post(app.url("/v1/admin/translations"))
        .header("x-csrf-token", &v.csrf)
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
});

both_stores!(
    an_object_that_would_not_validate_is_reported_and_the_rest_still_applies,
    |app: TestApp| async move {
        let t = app.tenant("Acme", &[]).await;
        let (_, sk) = prod(&t);
        let a = admin(&app, &t);
        let first = a.create("tours", tour()).await;
        // A tour already in the 50 languages a document may hold.
        let mut full = tour();
        let tags: Vec<String> = (0..50)
            .map(|i| {
                format!(
                    "{}{}",
                    (b'a' + (i / 26) as u8) as char,
                    (b'a' + (i % 26) as u8) as char
                )
            })
            .filter(|t| t != "fr")
            .take(50)
            .collect();
        assert_eq!(tags.len(), 50);
        full["locales"] = tags
            .iter()
            .map(|t| (t.clone(), json!([{"title": "x"}, {}])))
            .collect::<serde_json::Map<String, Value>>()
            .into();
        let second = a.create("tours", full).await;
        // French for both: the first takes it, the second cannot hold a 51st language.
        let file = json!({"locale": "fr", "strings": {
            format!("{first}:steps.hello.title"): {"revision": 1, "target": "Bonjour"},
            format!("{second}:steps.hello.title"): {"revision": 1, "target": "Bonjour"},
        }});
        let r = import(&app, sk, "application/json", file.to_string().into_bytes()).await;
        assert_eq!(r.status(), 200);
        let report: Value = r.json().await.unwrap();
        assert_eq!(report["applied"], 1, "{report}");
        assert_eq!(report["refused"], 1, "{report}");
        let refused = report["strings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"] == format!("{second}:steps.hello.title"))
            .unwrap();
        assert_eq!(refused["status"], "invalid");
        assert!(
            refused["message"]
                .as_str()
                .unwrap()
                .contains("at most 50 locales"),
            "{refused}"
        );
        let o = a.get_json(&format!("/v1/admin/tours/{first}")).await;
        assert_eq!(o["revision"], 2);
        let o = a.get_json(&format!("/v1/admin/tours/{second}")).await;
        assert_eq!(o["revision"], 1, "nothing written to the second");
    }
);
