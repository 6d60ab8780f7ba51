//! Configuration: a TOML file (`--config FILE`) and `SPOTLIGHT_*` environment
//! variables, the environment winning. Secrets may come from files (`*_FILE`).
//! Everything is validated here, once, into typed values; an invalid value is a
//! [`ConfigError`] naming the key, and the CLI exits with status 2.

use figment::providers::{Format, Toml};
use figment::Figment;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use spotlight_domain::AllowedOrigin;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The development operator token. Production refuses it.
pub const DEV_OPERATOR_TOKEN: &str = "spotlight-dev-operator-token";

#[derive(Debug, Clone, thiserror::Error)]
#[error("invalid configuration: {key}: {reason}")]
pub struct ConfigError {
    /// As written in the environment (`SPOTLIGHT_LISTEN`) or the file (`listen`).
    pub key: String,
    pub reason: String,
}

impl ConfigError {
    fn new(key: &str, reason: impl Into<String>) -> Self {
        ConfigError {
            key: format!("{} (SPOTLIGHT_{})", key, key.to_ascii_uppercase()),
            reason: reason.into(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Development,
    Production,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Json,
    Pretty,
}

/// Which SDK origins are allowed beyond each tenant's own list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExtraOrigins {
    /// Listed origins, allowed for every tenant.
    List(Vec<AllowedOrigin>),
    /// `*`: any origin. Development only.
    Any,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub database_url: SecretString,
    pub mode: Mode,
    pub operator_token: SecretString,
    /// 32 bytes. `None` only in development before the data dir provides one.
    pub master_key: Option<SecretString>,
    pub nats_url: Option<String>,
    pub log: String,
    pub log_format: LogFormat,
    pub migrate_on_start: bool,
    /// The URL users reach Spotlight at; `https://` turns on Secure cookies and HSTS.
    pub public_url: Option<String>,
    /// Trust `X-Forwarded-For` / `X-Forwarded-Proto` from a reverse proxy.
    pub trust_proxy: bool,
    pub allowed_origins: ExtraOrigins,
    pub body_limit_bytes: usize,
    pub request_timeout: Duration,
    pub header_read_timeout: Duration,
    pub shutdown_grace: Duration,
    /// After SIGTERM, how long `/readyz` answers 503 while requests are still
    /// served, so a balancer takes the node out before it stops accepting.
    pub shutdown_drain: Duration,
    pub session_ttl: Duration,
    pub login_per_ip_per_minute: u32,
    pub login_per_account_per_minute: u32,
    pub db_max_connections: u32,
    /// How long cached data may serve past its freshness while the database
    /// cannot be reached (stale-if-error).
    pub cache_max_stale: Duration,
    /// How long a tenant's JWKS is used before it is fetched again.
    pub jwks_refresh: Duration,
    /// How long a tenant's last good JWKS may verify tokens while its URL fails.
    pub jwks_max_stale: Duration,
    /// Event delivery: attempts before a delivery becomes a dead letter.
    pub relay_max_attempts: u32,
    /// First retry delay; doubles each attempt (with jitter) up to the maximum.
    pub relay_backoff_base: Duration,
    pub relay_backoff_max: Duration,
    /// How long a relay holds a claimed delivery before another may retry it
    /// (a relay that died mid-attempt is covered after this).
    pub relay_lease: Duration,
    /// Retention: raw events, delivered outbox rows, dead letters, audit log.
    pub retention: Retention,
    /// `/readyz` answers 503 while more deliveries than this wait.
    pub outbox_ready_threshold: u64,
    /// Internal ranges that webhooks and JWKS fetches may reach in production
    /// (CIDRs; none by default: see `spotlight_pipeline::outbound`).
    pub outbound_allow: Vec<ipnet::IpNet>,
    /// Where traces go (an OTLP/HTTP base URL); `None`: the `OTEL_*`
    /// variables decide, and without them traces are off.
    pub otlp_endpoint: Option<String>,
}

/// How long each kind of data is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    pub events: Duration,
    pub outbox: Duration,
    pub dead_letters: Duration,
    pub audit: Duration,
    /// How often the retention job runs.
    pub interval: Duration,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    listen: Option<String>,
    data_dir: Option<String>,
    database_url: Option<String>,
    database_url_file: Option<String>,
    mode: Option<String>,
    operator_token: Option<String>,
    operator_token_file: Option<String>,
    master_key: Option<String>,
    master_key_file: Option<String>,
    nats_url: Option<String>,
    log: Option<String>,
    log_format: Option<String>,
    migrate_on_start: Option<bool>,
    public_url: Option<String>,
    trust_proxy: Option<bool>,
    allowed_origins: Option<StringOrList>,
    body_limit_bytes: Option<u64>,
    request_timeout_secs: Option<u64>,
    header_read_timeout_secs: Option<u64>,
    shutdown_grace_secs: Option<u64>,
    shutdown_drain_secs: Option<u64>,
    session_ttl_hours: Option<u64>,
    login_per_ip_per_minute: Option<u32>,
    login_per_account_per_minute: Option<u32>,
    db_max_connections: Option<u32>,
    cache_max_stale_secs: Option<u64>,
    jwks_refresh_secs: Option<u64>,
    jwks_max_stale_secs: Option<u64>,
    relay_max_attempts: Option<u64>,
    relay_backoff_base_ms: Option<u64>,
    relay_backoff_max_secs: Option<u64>,
    relay_lease_secs: Option<u64>,
    retention_events_days: Option<u64>,
    retention_outbox_days: Option<u64>,
    retention_dead_letters_days: Option<u64>,
    retention_audit_days: Option<u64>,
    retention_interval_secs: Option<u64>,
    outbox_ready_threshold: Option<u64>,
    outbound_allow: Option<StringOrList>,
    otlp_endpoint: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum StringOrList {
    String(String),
    List(Vec<String>),
}

/// A list key: a TOML list, or (as environment variables are) comma-separated.
fn list(value: Option<StringOrList>) -> Vec<String> {
    match value {
        None => Vec::new(),
        Some(StringOrList::List(l)) => l,
        Some(StringOrList::String(s)) => s
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
    }
}

const KEYS: &[&str] = &[
    "listen",
    "data_dir",
    "database_url",
    "database_url_file",
    "mode",
    "operator_token",
    "operator_token_file",
    "master_key",
    "master_key_file",
    "nats_url",
    "log",
    "log_format",
    "migrate_on_start",
    "public_url",
    "trust_proxy",
    "allowed_origins",
    "body_limit_bytes",
    "request_timeout_secs",
    "header_read_timeout_secs",
    "shutdown_grace_secs",
    "shutdown_drain_secs",
    "session_ttl_hours",
    "login_per_ip_per_minute",
    "login_per_account_per_minute",
    "db_max_connections",
    "cache_max_stale_secs",
    "jwks_refresh_secs",
    "jwks_max_stale_secs",
    "relay_max_attempts",
    "relay_backoff_base_ms",
    "relay_backoff_max_secs",
    "relay_lease_secs",
    "retention_events_days",
    "retention_outbox_days",
    "retention_dead_letters_days",
    "retention_audit_days",
    "retention_interval_secs",
    "outbox_ready_threshold",
    "outbound_allow",
    "otlp_endpoint",
];

fn figment_error(e: figment::Error, source: &str) -> ConfigError {
    let key = e.path.join(".");
    let key = if key.is_empty() {
        source.to_owned()
    } else if source.starts_with("SPOTLIGHT_") {
        format!("SPOTLIGHT_{}", key.to_ascii_uppercase())
    } else {
        format!("{key} in {source}")
    };
    ConfigError {
        key,
        reason: e.kind.to_string(),
    }
}

impl Config {
    /// Loads from an optional TOML file and the process environment.
    pub fn load(file: Option<&Path>) -> Result<Config, ConfigError> {
        Self::load_from(file, std::env::vars())
    }

    /// Loads from an optional TOML file and the given environment (for tests).
    pub fn load_from(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        let file_raw: Raw = match file {
            None => Raw::default(),
            Some(path) => {
                if !path.is_file() {
                    return Err(ConfigError {
                        key: "--config".into(),
                        reason: format!("{} is not a readable file", path.display()),
                    });
                }
                Figment::from(Toml::file(path))
                    .extract()
                    .map_err(|e| figment_error(e, &path.display().to_string()))?
            }
        };
        // Only SPOTLIGHT_<known key>: other SPOTLIGHT_* variables (tests, tools) are ignored.
        let vars: Vec<(String, String)> = env
            .into_iter()
            .filter_map(|(k, v)| {
                let key = k.strip_prefix("SPOTLIGHT_")?.to_ascii_lowercase();
                KEYS.contains(&key.as_str()).then_some((key, v))
            })
            .collect();
        let mut env_raw = Raw::default();
        if !vars.is_empty() {
            let toml_text = vars.iter().fold(String::new(), |mut acc, (k, v)| {
                let _ = writeln!(acc, "{k} = {}", env_value_as_toml(k, v));
                acc
            });
            env_raw = Figment::from(Toml::string(&toml_text))
                .extract()
                .map_err(|e| figment_error(e, "SPOTLIGHT_"))?;
        }
        resolve(env_raw, file_raw)
    }

    pub fn is_production(&self) -> bool {
        self.mode == Mode::Production
    }

    /// Cookies get `Secure` and responses HSTS when users reach us over TLS.
    pub fn public_is_https(&self) -> bool {
        self.public_url
            .as_deref()
            .is_some_and(|u| u.starts_with("https://"))
    }

    /// The effective configuration, secrets redacted, as TOML.
    pub fn redacted(&self) -> String {
        let mut out = String::new();
        let origins = match &self.allowed_origins {
            ExtraOrigins::Any => "[\"*\"]".to_owned(),
            ExtraOrigins::List(l) => format!(
                "[{}]",
                l.iter()
                    .map(|o| format!("\"{o}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        let lines: Vec<(&str, String)> = vec![
            ("mode", quote(self.mode_str())),
            ("listen", quote(&self.listen.to_string())),
            ("data_dir", quote(&self.data_dir.display().to_string())),
            (
                "database_url",
                quote(&redact_url(self.database_url.expose_secret())),
            ),
            ("operator_token", quote("[redacted]")),
            (
                "master_key",
                quote(if self.master_key.is_some() {
                    "[redacted]"
                } else {
                    "(not set)"
                }),
            ),
            ("nats_url", quote(self.nats_url.as_deref().unwrap_or(""))),
            ("log", quote(&self.log)),
            (
                "log_format",
                quote(match self.log_format {
                    LogFormat::Json => "json",
                    LogFormat::Pretty => "pretty",
                }),
            ),
            ("migrate_on_start", self.migrate_on_start.to_string()),
            (
                "public_url",
                quote(self.public_url.as_deref().unwrap_or("")),
            ),
            ("trust_proxy", self.trust_proxy.to_string()),
            ("allowed_origins", origins),
            ("body_limit_bytes", self.body_limit_bytes.to_string()),
            (
                "request_timeout_secs",
                self.request_timeout.as_secs().to_string(),
            ),
            (
                "header_read_timeout_secs",
                self.header_read_timeout.as_secs().to_string(),
            ),
            (
                "shutdown_grace_secs",
                self.shutdown_grace.as_secs().to_string(),
            ),
            (
                "shutdown_drain_secs",
                self.shutdown_drain.as_secs().to_string(),
            ),
            (
                "session_ttl_hours",
                (self.session_ttl.as_secs() / 3600).to_string(),
            ),
            (
                "login_per_ip_per_minute",
                self.login_per_ip_per_minute.to_string(),
            ),
            (
                "login_per_account_per_minute",
                self.login_per_account_per_minute.to_string(),
            ),
            ("db_max_connections", self.db_max_connections.to_string()),
            (
                "cache_max_stale_secs",
                self.cache_max_stale.as_secs().to_string(),
            ),
            ("jwks_refresh_secs", self.jwks_refresh.as_secs().to_string()),
            (
                "jwks_max_stale_secs",
                self.jwks_max_stale.as_secs().to_string(),
            ),
            ("relay_max_attempts", self.relay_max_attempts.to_string()),
            (
                "relay_backoff_base_ms",
                self.relay_backoff_base.as_millis().to_string(),
            ),
            (
                "relay_backoff_max_secs",
                self.relay_backoff_max.as_secs().to_string(),
            ),
            ("relay_lease_secs", self.relay_lease.as_secs().to_string()),
            (
                "retention_events_days",
                (self.retention.events.as_secs() / 86_400).to_string(),
            ),
            (
                "retention_outbox_days",
                (self.retention.outbox.as_secs() / 86_400).to_string(),
            ),
            (
                "retention_dead_letters_days",
                (self.retention.dead_letters.as_secs() / 86_400).to_string(),
            ),
            (
                "retention_audit_days",
                (self.retention.audit.as_secs() / 86_400).to_string(),
            ),
            (
                "retention_interval_secs",
                self.retention.interval.as_secs().to_string(),
            ),
            (
                "outbox_ready_threshold",
                self.outbox_ready_threshold.to_string(),
            ),
            (
                "outbound_allow",
                format!(
                    "[{}]",
                    self.outbound_allow
                        .iter()
                        .map(|n| format!("\"{n}\""))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ),
            (
                "otlp_endpoint",
                quote(&redact_url(self.otlp_endpoint.as_deref().unwrap_or(""))),
            ),
        ];
        for (k, v) in lines {
            let _ = writeln!(out, "{k} = {v}");
        }
        out
    }

    /// Where webhooks and JWKS fetches may go.
    pub fn outbound_policy(&self) -> spotlight_pipeline::outbound::OutboundPolicy {
        use spotlight_pipeline::outbound::OutboundPolicy;
        if self.is_production() {
            OutboundPolicy::production(self.outbound_allow.clone())
        } else {
            OutboundPolicy::development()
        }
    }

    pub fn mode_str(&self) -> &'static str {
        match self.mode {
            Mode::Development => "development",
            Mode::Production => "production",
        }
    }
}

fn quote(s: &str) -> String {
    format!("{s:?}")
}

/// Environment values are strings; numbers and booleans are given to TOML bare so
/// they type-check like file values, everything else quoted.
fn env_value_as_toml(key: &str, value: &str) -> String {
    let numeric = key.ends_with("_secs")
        || key.ends_with("_bytes")
        || key.ends_with("_minute")
        || key.ends_with("_hours")
        || key.ends_with("_ms")
        || key.ends_with("_days")
        || key == "db_max_connections"
        || key == "relay_max_attempts"
        || key == "outbox_ready_threshold";
    let boolean = key == "migrate_on_start" || key == "trust_proxy";
    if (numeric && !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()))
        || (boolean && (value == "true" || value == "false"))
    {
        value.to_owned()
    } else {
        toml_string(value)
    }
}

fn toml_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `postgres://user:pass@host/db` → `postgres://user:[redacted]@host/db`.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.split_once('@') {
        Some((creds, host)) => match creds.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:[redacted]@{host}"),
            None => format!("{scheme}://{creds}@{host}"),
        },
        None => url.to_owned(),
    }
}

fn secret(
    key: &str,
    env_value: Option<String>,
    env_file: Option<String>,
    file_value: Option<String>,
    file_file: Option<String>,
) -> Result<Option<String>, ConfigError> {
    let read = |path: String| {
        std::fs::read_to_string(&path)
            .map(|s| s.trim_end_matches(['\n', '\r']).to_owned())
            .map_err(|e| {
                ConfigError::new(&format!("{key}_file"), format!("cannot read {path}: {e}"))
            })
    };
    if let Some(v) = env_value {
        return Ok(Some(v));
    }
    if let Some(p) = env_file {
        return read(p).map(Some);
    }
    if let Some(v) = file_value {
        return Ok(Some(v));
    }
    file_file.map(read).transpose()
}

/// Whole days, 1 to 10 years.
fn days(key: &str, v: Option<u64>, default: u64) -> Result<Duration, ConfigError> {
    Ok(secs(key, v, default, 1, 3650)?.saturating_mul(86_400))
}

fn secs(
    key: &str,
    v: Option<u64>,
    default: u64,
    min: u64,
    max: u64,
) -> Result<Duration, ConfigError> {
    let v = v.unwrap_or(default);
    if v < min || v > max {
        return Err(ConfigError::new(
            key,
            format!("must be between {min} and {max}, got {v}"),
        ));
    }
    Ok(Duration::from_secs(v))
}

fn resolve(env: Raw, file: Raw) -> Result<Config, ConfigError> {
    let mode = match env.mode.or(file.mode).as_deref() {
        None | Some("development") => Mode::Development,
        Some("production") => Mode::Production,
        Some(other) => {
            return Err(ConfigError::new(
                "mode",
                format!("must be \"development\" or \"production\", got {other:?}"),
            ))
        }
    };
    let production = mode == Mode::Production;

    let listen_text = env
        .listen
        .or(file.listen)
        .unwrap_or_else(|| "127.0.0.1:8080".into());
    let listen: SocketAddr = listen_text.parse().map_err(|_| {
        ConfigError::new(
            "listen",
            format!("{listen_text:?} is not an address like 127.0.0.1:8080"),
        )
    })?;

    let data_dir = PathBuf::from(
        env.data_dir
            .or(file.data_dir)
            .unwrap_or_else(|| "./data".into()),
    );
    if data_dir.as_os_str().is_empty() {
        return Err(ConfigError::new("data_dir", "must not be empty"));
    }

    let database_url = secret(
        "database_url",
        env.database_url,
        env.database_url_file,
        file.database_url,
        file.database_url_file,
    )?
    .unwrap_or_else(|| spotlight_store::sqlite_url_for_dir(&data_dir));
    if spotlight_store::Backend::from_url(&database_url).is_none() {
        return Err(ConfigError::new(
            "database_url",
            "must start with sqlite:// or postgres://",
        ));
    }

    let operator_token = secret(
        "operator_token",
        env.operator_token,
        env.operator_token_file,
        file.operator_token,
        file.operator_token_file,
    )?;
    let operator_token = match operator_token {
        Some(t) if production && t == DEV_OPERATOR_TOKEN => {
            return Err(ConfigError::new(
                "operator_token",
                "the development default is refused in production",
            ))
        }
        Some(t) if production && t.len() < 24 => {
            return Err(ConfigError::new(
                "operator_token",
                "must be at least 24 characters in production",
            ))
        }
        Some(t) if t.trim().is_empty() => {
            return Err(ConfigError::new("operator_token", "must not be empty"))
        }
        Some(t) => t,
        None if production => {
            return Err(ConfigError::new(
                "operator_token",
                "is required in production",
            ))
        }
        None => DEV_OPERATOR_TOKEN.to_owned(),
    };

    let master_key = secret(
        "master_key",
        env.master_key,
        env.master_key_file,
        file.master_key,
        file.master_key_file,
    )?;
    match &master_key {
        Some(k) => {
            parse_master_key(k).map_err(|reason| ConfigError::new("master_key", reason))?;
        }
        None if production => {
            return Err(ConfigError::new("master_key", "is required in production"))
        }
        None => {}
    }

    let nats_url = env.nats_url.or(file.nats_url).filter(|s| !s.is_empty());
    if let Some(url) = &nats_url {
        if !url.starts_with("nats://") && !url.starts_with("tls://") {
            return Err(ConfigError::new(
                "nats_url",
                "must start with nats:// or tls://",
            ));
        }
    }

    let otlp_endpoint = env
        .otlp_endpoint
        .or(file.otlp_endpoint)
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty());
    if let Some(url) = &otlp_endpoint {
        let ok = url::Url::parse(url)
            .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
        if !ok {
            return Err(ConfigError::new(
                "otlp_endpoint",
                "must be an http:// or https:// URL (the OTLP/HTTP collector, e.g. http://collector:4318)",
            ));
        }
    }

    let log = env.log.or(file.log).unwrap_or_else(|| "info".into());
    if tracing_subscriber::EnvFilter::try_new(&log).is_err() {
        return Err(ConfigError::new(
            "log",
            format!("{log:?} is not a valid log filter"),
        ));
    }
    let log_format = match env.log_format.or(file.log_format).as_deref() {
        None | Some("json") => LogFormat::Json,
        Some("pretty") => LogFormat::Pretty,
        Some(other) => {
            return Err(ConfigError::new(
                "log_format",
                format!("must be \"json\" or \"pretty\", got {other:?}"),
            ))
        }
    };

    let public_url = env.public_url.or(file.public_url).filter(|s| !s.is_empty());
    if let Some(u) = &public_url {
        if !(u.starts_with("http://") || u.starts_with("https://")) {
            return Err(ConfigError::new(
                "public_url",
                "must start with http:// or https://",
            ));
        }
    }

    let origins = list(env.allowed_origins.or(file.allowed_origins));
    let allowed_origins = if origins.iter().any(|o| o == "*") {
        if production {
            return Err(ConfigError::new(
                "allowed_origins",
                "a wildcard `*` is refused in production",
            ));
        }
        ExtraOrigins::Any
    } else {
        ExtraOrigins::List(
            origins
                .iter()
                .map(|o| {
                    AllowedOrigin::parse(o)
                        .map_err(|e| ConfigError::new("allowed_origins", format!("{o:?}: {e}")))
                })
                .collect::<Result<_, _>>()?,
        )
    };

    let body_limit = env
        .body_limit_bytes
        .or(file.body_limit_bytes)
        .unwrap_or(1024 * 1024);
    if !(1024..=64 * 1024 * 1024).contains(&body_limit) {
        return Err(ConfigError::new(
            "body_limit_bytes",
            "must be between 1024 and 67108864",
        ));
    }

    let per_minute = |key: &str, v: Option<u32>, default: u32| -> Result<u32, ConfigError> {
        match v.unwrap_or(default) {
            0 => Err(ConfigError::new(key, "must be at least 1")),
            n => Ok(n),
        }
    };
    let db_max_connections = env
        .db_max_connections
        .or(file.db_max_connections)
        .unwrap_or(16);
    if !(1..=1000).contains(&db_max_connections) {
        return Err(ConfigError::new(
            "db_max_connections",
            "must be between 1 and 1000",
        ));
    }

    Ok(Config {
        listen,
        data_dir,
        database_url: SecretString::from(database_url),
        mode,
        operator_token: SecretString::from(operator_token),
        master_key: master_key.map(SecretString::from),
        nats_url,
        log,
        log_format,
        migrate_on_start: env
            .migrate_on_start
            .or(file.migrate_on_start)
            .unwrap_or(true),
        public_url,
        trust_proxy: env.trust_proxy.or(file.trust_proxy).unwrap_or(false),
        allowed_origins,
        body_limit_bytes: body_limit as usize,
        request_timeout: secs(
            "request_timeout_secs",
            env.request_timeout_secs.or(file.request_timeout_secs),
            30,
            1,
            3600,
        )?,
        header_read_timeout: secs(
            "header_read_timeout_secs",
            env.header_read_timeout_secs
                .or(file.header_read_timeout_secs),
            10,
            1,
            300,
        )?,
        shutdown_grace: secs(
            "shutdown_grace_secs",
            env.shutdown_grace_secs.or(file.shutdown_grace_secs),
            30,
            0,
            3600,
        )?,
        shutdown_drain: secs(
            "shutdown_drain_secs",
            env.shutdown_drain_secs.or(file.shutdown_drain_secs),
            0,
            0,
            600,
        )?,
        session_ttl: secs(
            "session_ttl_hours",
            env.session_ttl_hours.or(file.session_ttl_hours),
            12,
            1,
            24 * 90,
        )?
        .saturating_mul(3600),
        login_per_ip_per_minute: per_minute(
            "login_per_ip_per_minute",
            env.login_per_ip_per_minute.or(file.login_per_ip_per_minute),
            20,
        )?,
        login_per_account_per_minute: per_minute(
            "login_per_account_per_minute",
            env.login_per_account_per_minute
                .or(file.login_per_account_per_minute),
            10,
        )?,
        db_max_connections,
        cache_max_stale: secs(
            "cache_max_stale_secs",
            env.cache_max_stale_secs.or(file.cache_max_stale_secs),
            3600,
            0,
            7 * 24 * 3600,
        )?,
        jwks_refresh: secs(
            "jwks_refresh_secs",
            env.jwks_refresh_secs.or(file.jwks_refresh_secs),
            3600,
            1,
            7 * 24 * 3600,
        )?,
        jwks_max_stale: secs(
            "jwks_max_stale_secs",
            env.jwks_max_stale_secs.or(file.jwks_max_stale_secs),
            24 * 3600,
            0,
            30 * 24 * 3600,
        )?,
        relay_max_attempts: secs(
            "relay_max_attempts",
            env.relay_max_attempts.or(file.relay_max_attempts),
            12,
            1,
            100,
        )?
        .as_secs() as u32,
        relay_backoff_base: Duration::from_millis(
            secs(
                "relay_backoff_base_ms",
                env.relay_backoff_base_ms.or(file.relay_backoff_base_ms),
                1000,
                10,
                600_000,
            )?
            .as_secs(),
        ),
        relay_backoff_max: secs(
            "relay_backoff_max_secs",
            env.relay_backoff_max_secs.or(file.relay_backoff_max_secs),
            3600,
            1,
            7 * 86_400,
        )?,
        relay_lease: secs(
            "relay_lease_secs",
            env.relay_lease_secs.or(file.relay_lease_secs),
            60,
            1,
            3600,
        )?,
        retention: Retention {
            events: days(
                "retention_events_days",
                env.retention_events_days.or(file.retention_events_days),
                90,
            )?,
            outbox: days(
                "retention_outbox_days",
                env.retention_outbox_days.or(file.retention_outbox_days),
                7,
            )?,
            dead_letters: days(
                "retention_dead_letters_days",
                env.retention_dead_letters_days
                    .or(file.retention_dead_letters_days),
                30,
            )?,
            audit: days(
                "retention_audit_days",
                env.retention_audit_days.or(file.retention_audit_days),
                365,
            )?,
            interval: secs(
                "retention_interval_secs",
                env.retention_interval_secs.or(file.retention_interval_secs),
                3600,
                1,
                7 * 86_400,
            )?,
        },
        outbox_ready_threshold: secs(
            "outbox_ready_threshold",
            env.outbox_ready_threshold.or(file.outbox_ready_threshold),
            100_000,
            1,
            u64::from(u32::MAX),
        )?
        .as_secs(),
        outbound_allow: list(env.outbound_allow.or(file.outbound_allow))
            .iter()
            .map(|n| {
                n.parse::<ipnet::IpNet>()
                    .or_else(|_| n.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                    .map_err(|_| {
                        ConfigError::new(
                            "outbound_allow",
                            format!("{n:?} is not an address range like 10.0.0.0/8"),
                        )
                    })
            })
            .collect::<Result<_, _>>()?,
        otlp_endpoint,
    })
}

/// The master key is 32 bytes, given as 64 hex characters or base64.
pub fn parse_master_key(text: &str) -> Result<[u8; 32], String> {
    use base64::Engine;
    let text = text.trim();
    let bytes = if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        hex::decode(text).map_err(|e| e.to_string())?
    } else {
        base64::engine::general_purpose::STANDARD
            .decode(text)
            .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(text))
            .map_err(|_| "must be 32 bytes as 64 hex characters or base64".to_owned())?
    };
    bytes
        .try_into()
        .map_err(|_| "must be exactly 32 bytes (64 hex characters or base64)".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect()
    }

    #[test]
    fn defaults_are_a_development_sqlite_server() {
        let c = Config::load_from(None, env(&[])).unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(c.mode, Mode::Development);
        assert!(c.database_url.expose_secret().starts_with("sqlite://"));
        assert_eq!(c.allowed_origins, ExtraOrigins::List(vec![]));
    }

    #[test]
    fn pipeline_settings_come_from_the_environment() {
        let c = Config::load_from(
            None,
            env(&[
                ("SPOTLIGHT_RELAY_MAX_ATTEMPTS", "4"),
                ("SPOTLIGHT_RELAY_BACKOFF_BASE_MS", "50"),
                ("SPOTLIGHT_RELAY_LEASE_SECS", "2"),
                ("SPOTLIGHT_RETENTION_EVENTS_DAYS", "7"),
                ("SPOTLIGHT_OUTBOX_READY_THRESHOLD", "10"),
            ]),
        )
        .unwrap();
        assert_eq!(c.relay_max_attempts, 4);
        assert_eq!(c.relay_backoff_base, Duration::from_millis(50));
        assert_eq!(c.relay_lease, Duration::from_secs(2));
        assert_eq!(c.retention.events, Duration::from_secs(7 * 86_400));
        assert_eq!(c.outbox_ready_threshold, 10);
        let err =
            Config::load_from(None, env(&[("SPOTLIGHT_RELAY_MAX_ATTEMPTS", "0")])).unwrap_err();
        assert!(err.key.starts_with("relay_max_attempts"), "{}", err.key);
    }

    #[test]
    fn env_wins_over_file_and_secrets_come_from_files() {
        let dir = tempfile::tempdir().unwrap();
        let toml = dir.path().join("spotlight.toml");
        std::fs::write(&toml, "listen = \"127.0.0.1:9000\"\nlog = \"debug\"\n").unwrap();
        let token = dir.path().join("token");
        std::fs::write(&token, "a-very-long-operator-token-from-a-file\n").unwrap();
        let c = Config::load_from(
            Some(&toml),
            env(&[
                ("SPOTLIGHT_LISTEN", "127.0.0.1:9001"),
                ("SPOTLIGHT_OPERATOR_TOKEN_FILE", token.to_str().unwrap()),
                ("SPOTLIGHT_TEST_DATABASE_URL", "ignored"),
                ("SPOTLIGHT_REQUEST_TIMEOUT_SECS", "5"),
            ]),
        )
        .unwrap();
        assert_eq!(c.listen.port(), 9001);
        assert_eq!(c.log, "debug");
        assert_eq!(c.request_timeout, Duration::from_secs(5));
        assert_eq!(
            c.operator_token.expose_secret(),
            "a-very-long-operator-token-from-a-file"
        );
        assert!(!c.redacted().contains("a-very-long"));
    }

    #[test]
    fn invalid_values_name_their_key() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (&[("SPOTLIGHT_LISTEN", "nope")], "SPOTLIGHT_LISTEN"),
            (&[("SPOTLIGHT_MODE", "staging")], "SPOTLIGHT_MODE"),
            (
                &[("SPOTLIGHT_DATABASE_URL", "mysql://x")],
                "SPOTLIGHT_DATABASE_URL",
            ),
            (
                &[("SPOTLIGHT_REQUEST_TIMEOUT_SECS", "abc")],
                "SPOTLIGHT_REQUEST_TIMEOUT_SECS",
            ),
            (
                &[("SPOTLIGHT_REQUEST_TIMEOUT_SECS", "0")],
                "SPOTLIGHT_REQUEST_TIMEOUT_SECS",
            ),
            (&[("SPOTLIGHT_LOG_FORMAT", "xml")], "SPOTLIGHT_LOG_FORMAT"),
            (
                &[("SPOTLIGHT_ALLOWED_ORIGINS", "https://a.test/path")],
                "SPOTLIGHT_ALLOWED_ORIGINS",
            ),
            (&[("SPOTLIGHT_MASTER_KEY", "short")], "SPOTLIGHT_MASTER_KEY"),
            (
                &[("SPOTLIGHT_MASTER_KEY_FILE", "/nonexistent/key")],
                "SPOTLIGHT_MASTER_KEY_FILE",
            ),
        ];
        for (vars, key) in cases {
            let err = Config::load_from(None, env(vars)).unwrap_err();
            assert!(err.to_string().contains(key), "{vars:?}: {err}");
        }
    }

    #[test]
    fn unknown_file_keys_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let toml = dir.path().join("spotlight.toml");
        std::fs::write(&toml, "listne = \"127.0.0.1:9000\"\n").unwrap();
        let err = Config::load_from(Some(&toml), env(&[])).unwrap_err();
        assert!(err.to_string().contains("listne"), "{err}");
    }

    #[test]
    fn production_refuses_unsafe_settings() {
        let key = "00".repeat(32);
        let good = [
            ("SPOTLIGHT_MODE", "production"),
            ("SPOTLIGHT_MASTER_KEY", key.as_str()),
            (
                "SPOTLIGHT_OPERATOR_TOKEN",
                "an-operator-token-of-decent-length",
            ),
        ];
        Config::load_from(None, env(&good)).unwrap();
        let refusals: &[(&str, &str, &str)] = &[
            (
                "SPOTLIGHT_ALLOWED_ORIGINS",
                "*",
                "SPOTLIGHT_ALLOWED_ORIGINS",
            ),
            (
                "SPOTLIGHT_OPERATOR_TOKEN",
                DEV_OPERATOR_TOKEN,
                "SPOTLIGHT_OPERATOR_TOKEN",
            ),
            ("SPOTLIGHT_MASTER_KEY", "", "SPOTLIGHT_MASTER_KEY"),
        ];
        for (k, v, named) in refusals {
            let mut vars = env(&good);
            vars.retain(|(name, _)| name != k);
            if !v.is_empty() {
                vars.push(((*k).into(), (*v).into()));
            }
            let err = Config::load_from(None, vars).unwrap_err();
            assert!(err.to_string().contains(named), "{k}: {err}");
        }
        // Development accepts a wildcard (with a warning at start-up).
        let c = Config::load_from(None, env(&[("SPOTLIGHT_ALLOWED_ORIGINS", "*")])).unwrap();
        assert_eq!(c.allowed_origins, ExtraOrigins::Any);
    }

    #[test]
    fn redacts_database_passwords() {
        assert_eq!(
            redact_url("postgres://app:hunter2@db:5432/spotlight"),
            "postgres://app:[redacted]@db:5432/spotlight"
        );
        assert_eq!(redact_url("sqlite://./data/x.db"), "sqlite://./data/x.db");
    }
}
