//! Building and running the server: open the store, migrate, bind, then serve
//! HTTP/1.1 and HTTP/2 with a header-read timeout, until a shutdown signal; then
//! stop accepting, let in-flight requests finish (bounded by the grace period).

use crate::auth::limits::Limits;
use crate::config::{Config, ExtraOrigins};
use crate::metrics::{BuildLabels, Metrics};
use crate::state::AppState;
use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use secrecy::ExposeSecret;
use spotlight_domain::{Clock, SystemClock};
use spotlight_store::{Backend, Store, StoreError, StoreOptions};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tower::Service;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot create the data directory {path}: {source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot open the store: {0}")]
    Store(#[from] StoreError),
    #[error(transparent)]
    Secrets(#[from] crate::secrets::SecretError),
    #[error("cannot build the HTTP client of SSO sign-ins: {0}")]
    HttpClient(String),
    #[error("cannot set up mail: {0}")]
    Mail(String),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

pub struct Application {
    listener: TcpListener,
    state: AppState,
    started: Instant,
    /// Every background task (see [`Application::build_with_clock`]).
    background: Vec<tokio::task::JoinHandle<()>>,
}

/// Opens (and, as configured, migrates) the store named by the configuration.
pub async fn open_store(config: &Config, clock: Arc<dyn Clock>) -> Result<Store, StartError> {
    let url = config.store.database_url.expose_secret();
    if Backend::from_url(url) == Some(Backend::Sqlite) {
        std::fs::create_dir_all(&config.store.data_dir).map_err(|source| StartError::DataDir {
            path: config.store.data_dir.display().to_string(),
            source,
        })?;
    }
    let options = StoreOptions {
        max_connections: config.store.db_max_connections,
        ..StoreOptions::default()
    };
    Ok(Store::connect(url, &options, clock).await?)
}

/// The relay (webhooks, NATS) and the retention job.
async fn start_pipeline(
    config: &Config,
    store: &Store,
    secrets: &Arc<crate::secrets::SecretBox>,
    metrics: &Arc<Metrics>,
    wake: crate::ingest::Wake,
) -> Vec<tokio::task::JoinHandle<()>> {
    use spotlight_pipeline::{relay, retention, sinks::NatsSink};
    let observer: Arc<dyn spotlight_pipeline::Observer> = metrics.clone();
    let nats = match &config.relay.nats_url {
        Some(url) => match NatsSink::connect(url).await {
            Ok(n) => Some(Arc::new(n)),
            Err(e) => {
                tracing::warn!(error = %e, "NATS unusable; its deliveries wait in the outbox");
                None
            }
        },
        None => None,
    };
    let opener: relay::SecretOpener = {
        let secrets = secrets.clone();
        Arc::new(move |sealed: &str| secrets.open(sealed).ok())
    };
    let relay_config = relay::RelayConfig {
        max_attempts: config.relay.max_attempts,
        backoff_base: config.relay.backoff_base,
        backoff_max: config.relay.backoff_max,
        lease: config.relay.lease,
        breaker_cooldown: config
            .relay
            .backoff_base
            .saturating_mul(30)
            .min(Duration::from_secs(60)),
        outbound: Arc::new(config.outbound_policy()),
        ..relay::RelayConfig::default()
    };
    let mut tasks = Vec::new();
    match relay::Relay::new(
        store.clone(),
        relay_config,
        nats,
        opener,
        observer.clone(),
        wake,
    ) {
        Ok(r) => tasks.push(Arc::new(r).start()),
        Err(e) => tracing::error!(error = %e, "cannot start the relay"),
    }
    let r = &config.retention;
    tasks.push(retention::start(
        store.clone(),
        retention::RetentionConfig {
            events: r.events,
            outbox: r.outbox,
            dead_letters: r.dead_letters,
            audit: r.audit,
            interval: r.interval,
        },
        observer,
    ));
    tasks
}

impl Application {
    pub async fn build(config: Config) -> Result<Application, StartError> {
        Self::build_with_clock(config, Arc::new(SystemClock)).await
    }

    pub async fn build_with_clock(
        config: Config,
        clock: Arc<dyn Clock>,
    ) -> Result<Application, StartError> {
        let started = Instant::now();
        let store = open_store(&config, clock.clone()).await?;
        if config.store.migrate_on_start {
            let status = store.migrate().await?;
            tracing::info!(applied = status.applied, "migrations current");
        } else {
            let status = store.migration_status().await?;
            if !status.is_current() {
                tracing::warn!(pending = ?status.pending, "migrations pending; /readyz answers 503 until `spotlight migrate` runs");
            }
        }
        if config.http.allowed_origins == ExtraOrigins::Any {
            tracing::warn!(
                "allowed_origins = \"*\": any site may use any publishable key (development only)"
            );
        }
        if config.security.operator_token.expose_secret() == crate::config::DEV_OPERATOR_TOKEN
            && !config.http.listen.ip().is_loopback()
        {
            tracing::warn!("the development operator token is in use on a non-loopback address");
        }
        let listener = TcpListener::bind(config.http.listen)
            .await
            .map_err(|source| StartError::Bind {
                addr: config.http.listen,
                source,
            })?;
        let master_key = match &config.security.master_key {
            Some(k) => crate::config::parse_master_key(k.expose_secret())
                .map_err(|_| crate::secrets::SecretError::KeyFormat)?,
            None => crate::secrets::SecretBox::dev_key(&config.store.data_dir)?,
        };
        let metrics = Metrics::new();
        metrics
            .build_info
            .get_or_create(&BuildLabels {
                version: env!("CARGO_PKG_VERSION"),
                store: store.backend().as_str(),
                mode: config.mode_str(),
            })
            .set(1);
        let metrics = Arc::new(metrics);
        let outbound = Arc::new(config.outbound_policy());
        let mailer = crate::mail::Mailer::from_config(&config.mail)
            .map_err(|e| StartError::Mail(e.to_string()))?
            .map(Arc::new);
        let secrets = Arc::new(crate::secrets::SecretBox::new(&master_key));

        // The parts requests use.
        let caches = crate::delivery::Caches::new(
            &store,
            secrets.clone(),
            clock.clone(),
            metrics.clone(),
            config.store.cache_max_stale,
            config.relay.nats_url.is_some(),
        );
        let jwks = crate::identity::JwksTiming {
            refresh: config.security.jwks_refresh,
            max_stale: config.security.jwks_max_stale,
        };
        let identity =
            crate::identity::Identity::new(clock.clone(), metrics.clone(), jwks, outbound.clone());
        let sso_http = outbound
            .client(
                Duration::from_secs(10),
                concat!("spotlight/", env!("CARGO_PKG_VERSION")),
            )
            // Sign-ins are rare: a fresh connection each time, never an idle
            // one the provider may have closed meanwhile.
            .pool_max_idle_per_host(0)
            .build()
            .map_err(|e| StartError::HttpClient(e.to_string()))?;
        let monitor = crate::monitor::IdentityMonitor::new(store.clone(), clock.clone());
        let limits = Arc::new(Limits::new(
            config.security.login_per_ip_per_minute,
            config.security.login_per_account_per_minute,
        ));
        let relay_wake = crate::ingest::Wake::default();
        let (ingest, ingest_writers) =
            crate::ingest::Ingestor::new(store.clone(), metrics.clone(), relay_wake.clone());
        let (profiles, profile_writes) =
            crate::profiles::ProfileWriter::new(store.clone(), metrics.clone());
        let state = AppState::new(crate::state::AppStateInner {
            store: store.clone(),
            config: Arc::new(config),
            metrics: metrics.clone(),
            clock: clock.clone(),
            outbound,
            sso_http,
            mailer,
            secrets: secrets.clone(),
            caches,
            identity,
            monitor,
            limits,
            ingest,
            relay_wake: relay_wake.clone(),
            profiles,
            demo: Arc::default(),
            draining: std::sync::atomic::AtomicBool::new(false),
        });
        let config = &state.config;

        // Every background task, started here; aborted at shutdown.
        ingest_writers.start(match store.backend() {
            Backend::Sqlite => 1,
            // Two overlap one group's commit with the next group's statements;
            // more make smaller groups, and more statements per event
            // (bench/events.sh on two cores: 1 → 35k events/s, 2 → 40–44k with
            // p99 43–54 ms, 3 → 41–42k with p99 56–62 ms).
            Backend::Postgres => 2,
        });
        let mut background = vec![
            tokio::spawn(profile_writes),
            tokio::spawn(crate::monitor::IdentityMonitor::keep_flushing(
                &state.monitor,
            )),
        ];
        // Store change notices to the caches (and, with PostgreSQL, other nodes').
        background.extend(store.listen_for_changes().await?);
        background.extend(store.checkpoint_in_background());
        background.extend(start_pipeline(config, &store, &secrets, &metrics, relay_wake).await);
        if store.backend() == Backend::Sqlite {
            background.push(watch_disk(config.store.data_dir.clone(), metrics.clone()));
        }
        background.push(crate::usage::start_flush(
            store.clone(),
            metrics.usage.clone(),
            clock.clone(),
            Duration::from_secs(10),
        ));
        background.push(crate::routes::ops::watch_readiness(
            state.clone(),
            Duration::from_secs(5),
        ));
        background.push({
            let limits = state.limits.clone();
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(Duration::from_secs(60));
                loop {
                    tick.tick().await;
                    limits.login.retain_recent();
                }
            })
        });
        Ok(Application {
            listener,
            state,
            started,
            background,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or_else(|_| self.state.config.http.listen)
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` completes, then drains in-flight requests.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let router = crate::router(self.state.clone());
        self.serve_router(router, shutdown).await
    }

    /// Like [`Application::run_until_stopped`] with a given router (tests).
    pub async fn serve_router(
        self,
        router: axum::Router,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let Application {
            listener,
            state,
            started,
            background,
        } = self;
        let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
        builder
            .http1()
            .timer(TokioTimer::new())
            .header_read_timeout(state.config.http.header_read_timeout);
        let graceful = GracefulShutdown::new();

        let ready = started.elapsed();
        state.metrics.startup_seconds.set(ready.as_secs_f64());
        tracing::info!(
            addr = %listener.local_addr()?,
            store = state.store.backend().as_str(),
            mode = state.config.mode_str(),
            startup_ms = ready.as_secs_f64() * 1000.0,
            "spotlight ready"
        );

        tokio::pin!(shutdown);
        // On the signal: unready first, still serving, so a balancer stops
        // sending here before the listener closes (a rolling upgrade loses nothing).
        let drain = tokio::time::sleep(Duration::MAX / 4);
        tokio::pin!(drain);
        let mut signalled = false;
        loop {
            tokio::select! {
                accepted = listener.accept() => {
                    let (stream, peer) = match accepted {
                        Ok(a) => a,
                        Err(e) => {
                            // Out of file descriptors and the like: back off, keep serving.
                            tracing::warn!(error = %e, "accept failed");
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            continue;
                        }
                    };
                    let _ = stream.set_nodelay(true);
                    let router = router.clone();
                    let service = hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
                        req.extensions_mut().insert(ConnectInfo(peer));
                        router.clone().call(req)
                    });
                    let conn = builder.serve_connection_with_upgrades(TokioIo::new(crate::conn::Guarded::new(stream)), service);
                    let conn = graceful.watch(conn.into_owned());
                    tokio::spawn(async move {
                        if let Err(e) = conn.await {
                            tracing::debug!(error = %e, "connection ended with an error");
                        }
                    });
                }
                () = &mut shutdown, if !signalled => {
                    signalled = true;
                    let wait = state.config.http.shutdown_drain;
                    if wait.is_zero() {
                        break;
                    }
                    state.draining.store(true, std::sync::atomic::Ordering::Relaxed);
                    tracing::info!(drain_secs = wait.as_secs(), "shutdown signal: readiness is 503, still serving while the balancer notices");
                    drain.as_mut().reset(tokio::time::Instant::now() + wait);
                }
                () = &mut drain => break,
            }
        }
        // Refuse new connections at once; let the open ones finish what they started.
        drop(listener);
        tracing::info!("shutting down: draining in-flight requests");
        tokio::select! {
            () = graceful.shutdown() => tracing::info!("all connections closed"),
            () = tokio::time::sleep(state.config.http.shutdown_grace) => {
                tracing::warn!("grace period over; closing remaining connections");
            }
        }
        state.profiles.flush(Duration::from_secs(2)).await;
        crate::usage::flush(&state.store, &state.metrics.usage, state.clock.as_ref()).await;
        for task in background {
            task.abort();
        }
        state.store.close().await;
        Ok(())
    }
}

/// Keeps the data directory's free and total bytes in the metrics (the disk alert).
fn watch_disk(dir: std::path::PathBuf, metrics: Arc<Metrics>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(30));
        loop {
            tick.tick().await;
            match rustix::fs::statvfs(&dir) {
                Ok(s) => {
                    let bytes = |blocks: u64| {
                        i64::try_from(blocks.saturating_mul(s.f_frsize)).unwrap_or(i64::MAX)
                    };
                    metrics.disk_free_bytes.set(bytes(s.f_bavail));
                    metrics.disk_size_bytes.set(bytes(s.f_blocks));
                }
                Err(e) => {
                    tracing::debug!(error = %e, "cannot read the data directory's filesystem")
                }
            }
        }
    })
}
