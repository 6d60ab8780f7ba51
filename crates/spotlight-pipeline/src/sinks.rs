//! The two kinds of sink: webhooks (HTTP POST, signed) and NATS JetStream
//! (published with the delivery id as `Nats-Msg-Id`, so a retried publish is
//! dropped by the stream's duplicate window).

use crate::outbound::OutboundPolicy;
use crate::signature;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How one attempt went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    Delivered { status: Option<u16> },
    Failed { status: Option<u16>, error: String },
}

impl Attempt {
    pub fn status(&self) -> Option<u16> {
        match self {
            Attempt::Delivered { status } | Attempt::Failed { status, .. } => *status,
        }
    }
}

pub const WEBHOOK_TIMEOUT: Duration = Duration::from_secs(10);

/// One delivery to one endpoint.
#[derive(Debug, Clone, Copy)]
pub struct Outgoing<'a> {
    pub url: &'a str,
    pub delivery_id: &'a str,
    /// 1 for the first attempt.
    pub attempt: i64,
    pub events: i64,
    pub body: &'a str,
}

/// Posts deliveries to webhook endpoints, only where the outbound policy
/// lets it connect ([`OutboundPolicy`]).
#[derive(Clone)]
pub struct WebhookSink {
    client: reqwest::Client,
    policy: Arc<OutboundPolicy>,
}

impl WebhookSink {
    pub fn new(policy: &Arc<OutboundPolicy>) -> Result<WebhookSink, String> {
        let client = policy
            .client(
                WEBHOOK_TIMEOUT,
                concat!("Spotlight-Webhooks/", env!("CARGO_PKG_VERSION")),
            )
            .pool_max_idle_per_host(8)
            .build()
            .map_err(|e| e.to_string())?;
        Ok(WebhookSink {
            client,
            policy: policy.clone(),
        })
    }

    /// One POST. 2xx is delivered; anything else (or no answer) failed.
    #[tracing::instrument(
        name = "relay.deliver",
        skip_all,
        fields(
            otel.kind = "client",
            sink = "webhook",
            delivery_id = out.delivery_id,
            attempt = out.attempt,
            events = out.events,
            http.response.status_code = tracing::field::Empty,
            otel.status_code = tracing::field::Empty,
        )
    )]
    pub async fn send(
        &self,
        out: &Outgoing<'_>,
        secrets: &[&[u8]],
        now_unix: i64,
    ) -> (Attempt, Duration) {
        let Outgoing {
            url,
            delivery_id,
            attempt,
            events,
            body,
        } = *out;
        let started = Instant::now();
        // Saved URLs were checked then; the policy (or the URL's literal
        // address, which no resolver sees) is checked again now.
        if let Err(refused) = self.policy.check_url(url) {
            return (
                Attempt::Failed {
                    status: None,
                    error: format!("refused by the outbound policy: {refused}"),
                },
                started.elapsed(),
            );
        }
        let result = crate::outbound::with_trace_context(self.client.post(url))
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("Spotlight-Delivery", delivery_id)
            .header("Spotlight-Attempt", attempt.to_string())
            .header("Spotlight-Event-Count", events.to_string())
            .header(
                signature::HEADER,
                signature::header(secrets, now_unix, body.as_bytes()),
            )
            .body(body.to_owned())
            .send()
            .await;
        let outcome = match result {
            Ok(resp) => {
                let status = resp.status().as_u16();
                // Drain a little of the body so the connection can be reused.
                let _ = resp.bytes().await;
                if (200..300).contains(&status) {
                    Attempt::Delivered {
                        status: Some(status),
                    }
                } else {
                    Attempt::Failed {
                        status: Some(status),
                        error: format!("the endpoint answered {status}"),
                    }
                }
            }
            Err(e) => Attempt::Failed {
                status: None,
                error: describe(e),
            },
        };
        record_outcome(&outcome);
        (outcome, started.elapsed())
    }
}

/// The delivery span says how it went.
fn record_outcome(outcome: &Attempt) {
    let span = tracing::Span::current();
    let status = match outcome {
        Attempt::Delivered { status } => status,
        Attempt::Failed { status, .. } => {
            span.record("otel.status_code", "error");
            status
        }
    };
    if let Some(s) = status {
        span.record("http.response.status_code", s);
    }
}

fn describe(e: reqwest::Error) -> String {
    // A name that resolved only to refused addresses: say so.
    if let Some(r) = crate::outbound::refusal_in(&e) {
        return format!("refused by the outbound policy: {r}");
    }
    if e.is_timeout() {
        "timed out".to_owned()
    } else if e.is_connect() {
        "could not connect".to_owned()
    } else {
        // No URL in the text: it may carry credentials.
        e.without_url().to_string()
    }
}

pub const NATS_STREAM: &str = "SPOTLIGHT_EVENTS";
pub const NATS_SUBJECTS: &str = "spotlight.events.>";

/// Publishes deliveries to JetStream.
pub struct NatsSink {
    js: async_nats::jetstream::Context,
    stream_ready: tokio::sync::OnceCell<()>,
}

impl NatsSink {
    /// Connects in the background: a server that is down at start-up is retried,
    /// and its deliveries wait in the outbox meanwhile.
    pub async fn connect(url: &str) -> Result<NatsSink, String> {
        let client = async_nats::ConnectOptions::new()
            .retry_on_initial_connect()
            .name("spotlight")
            .connect(url)
            .await
            .map_err(|e| e.to_string())?;
        Ok(NatsSink {
            js: async_nats::jetstream::new(client),
            stream_ready: tokio::sync::OnceCell::new(),
        })
    }

    async fn ensure_stream(&self) -> Result<(), String> {
        self.stream_ready
            .get_or_try_init(|| async {
                self.js
                    .get_or_create_stream(async_nats::jetstream::stream::Config {
                        name: NATS_STREAM.to_owned(),
                        subjects: vec![NATS_SUBJECTS.to_owned()],
                        duplicate_window: Duration::from_secs(600),
                        ..Default::default()
                    })
                    .await
                    .map(|_| ())
                    .map_err(|e| format!("cannot create the stream: {e}"))
            })
            .await
            .map(|_| ())
    }

    #[tracing::instrument(
        name = "relay.deliver",
        skip_all,
        fields(
            otel.kind = "producer",
            sink = "nats",
            delivery_id,
            messaging.destination.name = %subject,
            otel.status_code = tracing::field::Empty,
        )
    )]
    pub async fn publish(
        &self,
        subject: String,
        delivery_id: &str,
        body: &str,
    ) -> (Attempt, Duration) {
        let started = Instant::now();
        let outcome = match self.try_publish(subject, delivery_id, body).await {
            Ok(()) => Attempt::Delivered { status: None },
            Err(error) => Attempt::Failed {
                status: None,
                error,
            },
        };
        record_outcome(&outcome);
        (outcome, started.elapsed())
    }

    async fn try_publish(
        &self,
        subject: String,
        delivery_id: &str,
        body: &str,
    ) -> Result<(), String> {
        tokio::time::timeout(Duration::from_secs(10), async {
            self.ensure_stream().await?;
            let mut headers = async_nats::HeaderMap::new();
            headers.insert(async_nats::header::NATS_MESSAGE_ID, delivery_id);
            let ack = self
                .js
                .publish_with_headers(subject, headers, bytes::Bytes::from(body.to_owned()))
                .await
                .map_err(|e| format!("publish failed: {e}"))?;
            ack.await.map_err(|e| format!("no acknowledgement: {e}"))?;
            Ok(())
        })
        .await
        .map_err(|_| "timed out".to_owned())?
    }
}

/// The subject of an environment's events.
pub fn nats_subject(tenant: &str, environment: &str) -> String {
    format!("spotlight.events.{tenant}.{environment}")
}
