//! Traces over real OTLP: a receiver decodes what the node exports (the
//! `opentelemetry-proto` messages) and the test follows one SDK request
//! through it — the caller's trace id on the request span, the store call and
//! the JWKS fetch beneath it, the `traceparent` the JWKS endpoint received,
//! and the same ids on the request's log line. Events: the group commit links
//! to the request it served; a webhook delivery is a span whose trace the
//! receiver continues.

use super::{create_tenant, production_key, Server};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value;
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What the fake peers saw: decoded spans, and the `traceparent` of each
/// JWKS and webhook request.
#[derive(Clone, Default)]
struct Seen {
    spans: Arc<Mutex<Vec<Span>>>,
    jwks: Arc<Mutex<Vec<Option<String>>>>,
    hooks: Arc<Mutex<Vec<Option<String>>>>,
}

fn traceparent(headers: &axum::http::HeaderMap) -> Option<String> {
    headers
        .get("traceparent")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// A collector's OTLP/HTTP endpoint, a JWKS endpoint and a webhook receiver.
async fn peers(seen: Seen) -> String {
    let (s1, s2, s3) = (seen.clone(), seen.clone(), seen);
    let app = axum::Router::new()
        .route(
            "/v1/traces",
            axum::routing::post(
                move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
                    let s = s1.clone();
                    async move {
                        assert_eq!(
                            headers.get("content-type").unwrap(),
                            "application/x-protobuf"
                        );
                        let req = ExportTraceServiceRequest::decode(body).unwrap();
                        let mut spans = s.spans.lock().unwrap();
                        for rs in req.resource_spans {
                            let service = rs
                                .resource
                                .iter()
                                .flat_map(|r| &r.attributes)
                                .find(|kv| kv.key == "service.name")
                                .and_then(|kv| text(kv.value.as_ref()?));
                            assert_eq!(service.as_deref(), Some("spotlight"));
                            for ss in rs.scope_spans {
                                spans.extend(ss.spans);
                            }
                        }
                        axum::http::StatusCode::OK
                    }
                },
            ),
        )
        .route(
            "/jwks.json",
            axum::routing::get(move |headers: axum::http::HeaderMap| {
                let s = s2.clone();
                async move {
                    s.jwks.lock().unwrap().push(traceparent(&headers));
                    super::JWKS
                }
            }),
        )
        .route(
            "/hook",
            axum::routing::post(move |headers: axum::http::HeaderMap| {
                let s = s3.clone();
                async move {
                    s.hooks.lock().unwrap().push(traceparent(&headers));
                    axum::http::StatusCode::OK
                }
            }),
        );
    super::serve_on_loopback(app).await
}

fn text(v: &opentelemetry_proto::tonic::common::v1::AnyValue) -> Option<String> {
    match v.value.as_ref()? {
        any_value::Value::StringValue(s) => Some(s.clone()),
        any_value::Value::IntValue(i) => Some(i.to_string()),
        any_value::Value::BoolValue(b) => Some(b.to_string()),
        _ => None,
    }
}

fn attr(span: &Span, key: &str) -> Option<String> {
    span.attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| text(kv.value.as_ref()?))
}

/// The trace id of a `traceparent` header (`00-<trace>-<span>-<flags>`).
fn trace_of(header: &str) -> &str {
    header.split('-').nth(1).unwrap_or("")
}

/// Waits until the exported spans satisfy `want` (30 s at most).
fn wait_for(
    rt: &tokio::runtime::Runtime,
    seen: &Seen,
    what: &str,
    want: impl Fn(&[Span]) -> bool,
) -> Vec<Span> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let spans = seen.spans.lock().unwrap().clone();
        if want(&spans) {
            return spans;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: spans now {:?}",
            spans.iter().map(|s| &s.name).collect::<Vec<_>>()
        );
        rt.block_on(async { tokio::time::sleep(Duration::from_millis(100)).await });
    }
}

#[test]
fn one_sdk_request_is_traced_from_the_caller_through_store_and_jwks_into_its_log_line() {
    let dir = tempfile::tempdir().unwrap();
    let origin = "https://app.example";
    let tenant = create_tenant(dir.path(), None, origin);
    let tenant_id = tenant["tenant_id"].as_str().unwrap().to_owned();
    let (pk, sk) = (
        production_key(&tenant, "publishable_key"),
        production_key(&tenant, "secret_key"),
    );
    let rt = tokio::runtime::Runtime::new().unwrap();
    let seen = Seen::default();
    let peers = rt.block_on(peers(seen.clone()));

    let mut cmd = super::spotlight(dir.path());
    cmd.env("SPOTLIGHT_OTLP_ENDPOINT", &peers)
        .env("OTEL_BSP_SCHEDULE_DELAY", "100")
        .env_remove("OTEL_TRACES_SAMPLER")
        .env_remove("OTEL_SERVICE_NAME");
    let mut server = Server::start_with(cmd);
    let c = reqwest::Client::builder().no_proxy().build().unwrap();

    // The caller's trace: sampled.
    let caller_trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    let caller_span = "00f067aa0ba902b7";
    let events_trace = "0af7651916cd43dd8448eb211c80319c";
    rt.block_on(async {
        let admin = |method: reqwest::Method, path: &str, body: Value| {
            c.request(method, format!("{}{path}", server.base))
                .bearer_auth(&sk)
                .json(&body)
                .send()
        };
        let r = admin(
            reqwest::Method::PATCH,
            "/v1/admin/settings",
            json!({"identity_verification": {"production": {
                "mode": "enforce", "allow_anonymous": false,
                "method": {"type": "jwks", "url": format!("{peers}/jwks.json")},
                "issuer": "https://idp.example.test", "audience": "spotlight"}}}),
        )
        .await
        .unwrap();
        assert!(r.status().is_success(), "{}", r.text().await.unwrap());
        let r = admin(
            reqwest::Method::POST,
            "/v1/admin/webhooks",
            json!({"url": format!("{peers}/hook")}),
        )
        .await
        .unwrap();
        assert!(r.status().is_success(), "{}", r.text().await.unwrap());

        let r = c
            .get(format!("{}/v1/sdk/config", server.base))
            .header("x-spotlight-key", &pk)
            .header("origin", origin)
            .header("authorization", format!("Bearer {}", super::end_user_token()))
            .header(
                "traceparent",
                format!("00-{caller_trace}-{caller_span}-01"),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());

        let r = c
            .post(format!("{}/v1/sdk/events", server.base))
            .header("x-spotlight-key", &pk)
            .header("origin", origin)
            .header("authorization", format!("Bearer {}", super::end_user_token()))
            .header("traceparent", format!("00-{events_trace}-b7ad6b7169203331-01"))
            .json(&json!({"user_id": "user-7", "events": [{
                "event_id": uuid::Uuid::new_v4().to_string(), "schema_version": 1,
                "name": "traced", "properties": {},
                "timestamp": (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64}]}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 202, "{}", r.text().await.unwrap());
    });

    let hex = hex_of;
    // The config request: the caller's trace, the caller's span as parent.
    let spans = wait_for(&rt, &seen, "the config request's spans", |spans| {
        spans.iter().any(|s| {
            hex(&s.trace_id) == caller_trace
                && attr(s, "route").as_deref() == Some("/v1/sdk/config")
        }) && spans.iter().any(|s| s.name == "jwks.fetch")
            && spans.iter().any(|s| s.name == "relay.deliver")
            && spans.iter().any(|s| s.name == "ingest.commit")
    });
    let request = spans
        .iter()
        .find(|s| {
            hex(&s.trace_id) == caller_trace
                && attr(s, "route").as_deref() == Some("/v1/sdk/config")
        })
        .unwrap();
    assert_eq!(request.name, "GET /v1/sdk/config");
    assert_eq!(hex(&request.parent_span_id), caller_span);
    assert_eq!(request.kind, 2, "SPAN_KIND_SERVER");
    assert_eq!(attr(request, "status").as_deref(), Some("200"));
    assert_eq!(
        attr(request, "tenant_id").as_deref(),
        Some(tenant_id.as_str())
    );
    let request_span = hex(&request.span_id);

    // Beneath it, in the same trace: the store (the cache was empty) and the JWKS fetch.
    let in_trace: Vec<&Span> = spans
        .iter()
        .filter(|s| hex(&s.trace_id) == caller_trace)
        .collect();
    let children_of = |id: &str| -> Vec<&Span> {
        in_trace
            .iter()
            .copied()
            .filter(|s| hex(&s.parent_span_id) == id)
            .collect()
    };
    let below: Vec<&str> = children_of(&request_span)
        .iter()
        .map(|s| s.name.as_str())
        .collect();
    assert!(
        below.iter().any(|n| n.starts_with("store.")),
        "store spans under the request: {below:?}"
    );
    let jwks = in_trace
        .iter()
        .find(|s| s.name == "jwks.fetch")
        .unwrap_or_else(|| panic!("no JWKS fetch in the caller's trace: {below:?}"));
    // Under identity verification, under the request.
    let verify = in_trace
        .iter()
        .find(|s| s.span_id == jwks.parent_span_id)
        .unwrap();
    assert_eq!(verify.name, "identity.verify");
    assert_eq!(
        attr(verify, "tenant_id").as_deref(),
        Some(tenant_id.as_str())
    );
    assert_eq!(hex(&verify.parent_span_id), request_span);
    assert_eq!(jwks.kind, 3, "SPAN_KIND_CLIENT");

    // The JWKS endpoint was asked with the caller's trace, the fetch span as parent.
    let got = seen.jwks.lock().unwrap().clone();
    let sent = got[0].clone().expect("a traceparent on the JWKS request");
    assert_eq!(trace_of(&sent), caller_trace, "{sent}");
    assert_eq!(sent.split('-').nth(2), Some(hex(&jwks.span_id).as_str()));

    // Events: the group commit is a trace of its own, linked to the request.
    let events_request = spans
        .iter()
        .find(|s| hex(&s.trace_id) == events_trace && hex(&s.parent_span_id) == "b7ad6b7169203331")
        .expect("the events request's span");
    assert_eq!(events_request.name, "POST /v1/sdk/events");
    let commit = spans
        .iter()
        .find(|s| {
            s.name == "ingest.commit" && s.links.iter().any(|l| hex(&l.trace_id) == events_trace)
        })
        .expect("a commit linked to the events request");
    assert_eq!(attr(commit, "events").as_deref(), Some("1"));
    assert_eq!(
        hex(&commit.links[0].span_id),
        hex(&events_request.span_id),
        "{:?}",
        spans
            .iter()
            .filter(|s| hex(&s.trace_id) == events_trace)
            .map(|s| (&s.name, hex(&s.span_id), hex(&s.parent_span_id)))
            .collect::<Vec<_>>()
    );

    // The webhook delivery: its span's trace continues at the receiver.
    let delivery = spans.iter().find(|s| s.name == "relay.deliver").unwrap();
    assert_eq!(attr(delivery, "sink").as_deref(), Some("webhook"));
    assert_eq!(
        attr(delivery, "http.response.status_code").as_deref(),
        Some("200")
    );
    let hooks = seen.hooks.lock().unwrap().clone();
    let sent = hooks[0].clone().expect("a traceparent on the webhook");
    assert_eq!(trace_of(&sent), hex(&delivery.trace_id));

    // The request's access log line carries the same ids; no line a token.
    assert!(server.terminate().success());
    let logs = server.logs();
    let line: Value = logs
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|v| v["message"] == "request" && v["span"]["route"] == "/v1/sdk/config")
        .unwrap_or_else(|| panic!("no access log line: {logs:?}"));
    assert_eq!(line["openTelemetry"]["traceId"], caller_trace, "{line}");
    assert_eq!(
        line["openTelemetry"]["spanId"],
        request_span.as_str(),
        "{line}"
    );
    assert!(!logs.iter().any(|l| l.contains(&pk) || l.contains("Bearer")));
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Without an endpoint nothing is traced: no ids in the log, no `traceparent`
/// sent on (the caller's is not passed through untraced).
#[test]
fn without_an_endpoint_no_trace_context_is_sent_or_logged() {
    let dir = tempfile::tempdir().unwrap();
    let tenant = create_tenant(dir.path(), None, "https://app.example");
    let sk = production_key(&tenant, "secret_key");
    let pk = production_key(&tenant, "publishable_key");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let seen = Seen::default();
    let peers = rt.block_on(peers(seen.clone()));
    let mut server = Server::start(dir.path(), None);
    let c = reqwest::Client::builder().no_proxy().build().unwrap();
    rt.block_on(async {
        let r = c
            .post(format!("{}/v1/admin/webhooks", server.base))
            .bearer_auth(&sk)
            .json(&json!({"url": format!("{peers}/hook")}))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
        let r = c
            .post(format!("{}/v1/sdk/events", server.base))
            .header("x-spotlight-key", &pk)
            .header("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
            .json(&json!({"user_id": "u", "events": [{
                "event_id": uuid::Uuid::new_v4().to_string(), "schema_version": 1,
                "name": "plain", "properties": {},
                "timestamp": (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64}]}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 202);
        let deadline = Instant::now() + Duration::from_secs(20);
        while seen.hooks.lock().unwrap().is_empty() {
            assert!(Instant::now() < deadline, "the webhook was not delivered");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
    assert_eq!(seen.hooks.lock().unwrap()[0], None);
    assert!(seen.spans.lock().unwrap().is_empty());
    assert!(server.terminate().success());
    assert!(!server.logs().iter().any(|l| l.contains("openTelemetry")));
}
