//! Logs and traces. Log lines go to stderr (JSON or pretty). Traces are off
//! unless an OTLP endpoint is configured (`otlp_endpoint` /
//! `SPOTLIGHT_OTLP_ENDPOINT`, or the standard `OTEL_EXPORTER_OTLP_ENDPOINT` /
//! `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`); then our spans (requests, store calls,
//! ingest commits, relay deliveries, JWKS fetches) are exported over OTLP/HTTP
//! with protobuf, sampled as `OTEL_TRACES_SAMPLER` says (parent-based, always
//! on, by default), and every JSON log line inside a span carries its trace and
//! span ids (`openTelemetry.traceId`, `openTelemetry.spanId`).
//!
//! W3C trace context is read from callers in [`crate::middleware::observe`] and
//! sent on webhook and JWKS requests (`spotlight_pipeline::outbound::with_trace_context`).

use crate::config::{Config, LogFormat};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_http::{Bytes, HttpClient, HttpError, Request, Response};
use opentelemetry_otlp::{WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::trace::SdkTracerProvider;
use std::time::Duration;
use tracing_subscriber::filter::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::Layer;

/// What `init` set up; [`Telemetry::shutdown`] sends the spans still queued.
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

/// Where spans go, when they go anywhere: our endpoint (the OTLP base URL, to
/// which `/v1/traces` is added) or the exporter's own `OTEL_*` variables.
enum Export {
    Off,
    To(String),
    FromOtelEnvironment,
}

fn export_target(config: &Config) -> Export {
    let set = |k: &str| std::env::var(k).is_ok_and(|v| !v.trim().is_empty());
    if std::env::var("OTEL_SDK_DISABLED").is_ok_and(|v| v.eq_ignore_ascii_case("true")) {
        return Export::Off;
    }
    match &config.telemetry.otlp_endpoint {
        Some(base) => Export::To(traces_url(base)),
        None if set("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") || set("OTEL_EXPORTER_OTLP_ENDPOINT") => {
            Export::FromOtelEnvironment
        }
        None => Export::Off,
    }
}

/// `http://collector:4318` → `http://collector:4318/v1/traces` (as the OTLP
/// exporter treats `OTEL_EXPORTER_OTLP_ENDPOINT`); a URL already naming the
/// traces path is kept.
pub fn traces_url(base: &str) -> String {
    let base = base.trim_end_matches('/');
    if base.ends_with("/v1/traces") {
        base.to_owned()
    } else {
        format!("{base}/v1/traces")
    }
}

impl Telemetry {
    /// Installs the global subscriber. `quiet` (one-shot commands) logs
    /// warnings only and never traces. Call inside the Tokio runtime: the
    /// exporter sends on it.
    pub fn init(config: &Config, quiet: bool) -> Telemetry {
        let filter = if quiet {
            "warn"
        } else {
            config.telemetry.log.as_str()
        };
        let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
        let export = if quiet {
            Export::Off
        } else {
            export_target(config)
        };
        let provider = match export {
            Export::Off => None,
            Export::To(url) => tracer_provider(Some(url)),
            Export::FromOtelEnvironment => tracer_provider(None),
        };
        let otel = provider.as_ref().map(|p| {
            opentelemetry::global::set_text_map_propagator(
                opentelemetry_sdk::propagation::TraceContextPropagator::new(),
            );
            // Our own spans, store calls included (debug), and our events at
            // info and above (as span events); nothing of the libraries'.
            let ours = tracing_subscriber::filter::filter_fn(|meta| {
                let level = if meta.is_span() {
                    tracing::Level::DEBUG
                } else {
                    tracing::Level::INFO
                };
                meta.target().starts_with("spotlight_") && *meta.level() <= level
            });
            tracing_opentelemetry::layer()
                .with_tracer(p.tracer("spotlight"))
                // Parents come from the tracing spans; nothing reads the OTel
                // context of the thread, and a span's busy and idle time is
                // not worth two clock reads on every poll.
                .with_context_activation(false)
                .with_tracked_inactivity(false)
                .with_location(false)
                .with_threads(false)
                .with_level(false)
                .with_target(false)
                .with_filter(ours)
        });
        let logs = match config.telemetry.log_format {
            LogFormat::Json => {
                let mut json = json_subscriber::layer()
                    .with_writer(std::io::stderr)
                    .flatten_event(true)
                    .with_current_span(true)
                    .with_span_list(false);
                if provider.is_some() {
                    json = json.with_opentelemetry_ids(true);
                }
                json.with_filter(filter).boxed()
            }
            LogFormat::Pretty => tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_filter(filter)
                .boxed(),
        };
        let _ = tracing_subscriber::registry()
            .with(logs)
            .with(otel)
            .try_init();
        if provider.is_some() {
            let sampler = std::env::var("OTEL_TRACES_SAMPLER")
                .unwrap_or_else(|_| "parentbased_always_on".into());
            tracing::info!(%sampler, "traces are exported over OTLP");
        }
        Telemetry { provider }
    }

    /// Exports what is queued and stops the exporter (bounded by its timeout).
    pub async fn shutdown(self) {
        if let Some(p) = self.provider {
            let done = tokio::task::spawn_blocking(move || p.shutdown()).await;
            if let Ok(Err(e)) = done {
                tracing::warn!(error = %e, "traces not all exported at shutdown");
            }
        }
    }
}

fn tracer_provider(url: Option<String>) -> Option<SdkTracerProvider> {
    let client = match OtlpClient::new() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("spotlight: traces off: {e}");
            return None;
        }
    };
    let mut exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_http_client(client)
        .with_protocol(opentelemetry_otlp::Protocol::HttpBinary);
    if let Some(url) = url {
        exporter = exporter.with_endpoint(url);
    }
    let exporter = match exporter.build() {
        Ok(e) => e,
        Err(e) => {
            eprintln!("spotlight: traces off: the OTLP exporter cannot start: {e}");
            return None;
        }
    };
    let mut resource = opentelemetry_sdk::Resource::builder().with_attribute(
        opentelemetry::KeyValue::new("service.version", env!("CARGO_PKG_VERSION")),
    );
    if std::env::var("OTEL_SERVICE_NAME").is_err() {
        resource = resource.with_service_name("spotlight");
    }
    Some(
        SdkTracerProvider::builder()
            .with_resource(resource.build())
            .with_batch_exporter(exporter)
            .build(),
    )
}

/// The exporter's HTTP client: our reqwest, run on the server's runtime (the
/// batch processor exports from a thread of its own).
#[derive(Debug)]
struct OtlpClient {
    http: reqwest::Client,
    runtime: tokio::runtime::Handle,
}

/// A collector's answer is small; more than this is not read.
const OTLP_RESPONSE_MAX_BYTES: usize = 64 * 1024;

impl OtlpClient {
    fn new() -> Result<OtlpClient, String> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|e| e.to_string())?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .user_agent(concat!("Spotlight/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(OtlpClient { http, runtime })
    }
}

#[async_trait::async_trait]
impl HttpClient for OtlpClient {
    async fn send_bytes(&self, request: Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
        let request = reqwest::Request::try_from(request)?;
        let http = self.http.clone();
        let (status, headers, body) = self
            .runtime
            .spawn(async move {
                let mut resp = http.execute(request).await?;
                let (status, headers) = (resp.status(), resp.headers().clone());
                let mut body = Vec::new();
                while let Some(chunk) = resp.chunk().await? {
                    if body.len() + chunk.len() > OTLP_RESPONSE_MAX_BYTES {
                        break;
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok::<_, reqwest::Error>((status, headers, body))
            })
            .await??;
        let mut response = Response::builder().status(status).body(Bytes::from(body))?;
        *response.headers_mut() = headers;
        Ok(response)
    }
}
