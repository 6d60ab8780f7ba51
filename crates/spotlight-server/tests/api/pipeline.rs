//! The request pipeline around deliberately misbehaving routes: panics, slow
//! handlers, slow clients, and shutdown while requests are in flight.

use crate::helpers::*;
use axum::routing::get;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn misbehaving() -> axum::Router<spotlight_server::state::AppState> {
    axum::Router::new()
        .route(
            "/panic",
            get(|| async {
                if std::hint::black_box(true) {
                    panic!("deliberate test panic");
                }
                "unreachable"
            }),
        )
        .route(
            "/slow/{ms}",
            get(
                |axum::extract::Path(ms): axum::extract::Path<u64>| async move {
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                    "done"
                },
            ),
        )
}

#[tokio::test]
async fn a_panic_is_a_500_with_the_request_id() {
    let app = TestApp::spawn_router(Db::Sqlite, |_| {}, Some(misbehaving())).await;
    let r = app
        .anon()
        .get("/panic")
        .header("x-request-id", "trace-me-42")
        .await;
    let (code, body, headers) = error_code(r, 500).await;
    assert_eq!(code, "internal");
    assert_eq!(body["error"]["request_id"], "trace-me-42");
    assert_eq!(headers["x-request-id"], "trace-me-42");
    assert!(
        !body.to_string().contains("deliberate"),
        "internals leaked: {body}"
    );
    // The server keeps serving.
    assert_eq!(app.anon().get("/slow/1").await.status(), 200);
}

#[tokio::test]
async fn slow_requests_time_out() {
    let app = TestApp::spawn_router(
        Db::Sqlite,
        |c| c.http.request_timeout = Duration::from_secs(1),
        Some(misbehaving()),
    )
    .await;
    let started = Instant::now();
    let r = app.anon().get("/slow/5000").await;
    let (code, _, _) = error_code(r, 503).await;
    assert_eq!(code, "timeout");
    assert!(started.elapsed() < Duration::from_secs(4));
}

#[tokio::test]
async fn slow_headers_are_cut_off() {
    let app = TestApp::spawn_with(Db::Sqlite, |c| {
        c.http.header_read_timeout = Duration::from_secs(1)
    })
    .await;
    let mut conn = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    conn.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    // Never finish the headers: the server must close within its timeout.
    let mut buf = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), conn.read_to_end(&mut buf)).await;
    assert!(
        read.is_ok(),
        "connection was not closed by the header timeout"
    );
    let text = String::from_utf8_lossy(&buf);
    assert!(buf.is_empty() || text.starts_with("HTTP/1.1 408"), "{text}");
}

#[tokio::test]
async fn shutdown_drains_in_flight_requests_and_refuses_new_ones() {
    let mut app = TestApp::spawn_router(Db::Sqlite, |_| {}, Some(misbehaving())).await;
    let client = app.client.clone();
    let url = app.url("/slow/700");
    let in_flight = tokio::spawn(async move { client.get(url).send().await });
    // Let the request reach the handler, then ask the server to stop.
    tokio::time::sleep(Duration::from_millis(200)).await;
    app.stop();
    let resp = in_flight
        .await
        .unwrap()
        .expect("in-flight request was dropped");
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.text().await.unwrap(), "done");
    let server = app.server.take().unwrap();
    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("server did not stop")
        .unwrap()
        .unwrap();
    let refused = tokio::net::TcpStream::connect(app.addr).await;
    assert!(
        refused.is_err(),
        "a new connection was accepted after shutdown"
    );
}
