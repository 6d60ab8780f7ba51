//! Configuration: a TOML file (`--config FILE`), then `SPOTLIGHT_*`
//! environment variables, then secrets read from files (`*_FILE`), layered
//! by figment. Each section (http, store, security, relay, retention,
//! telemetry) is one serde definition of what may be given and one `TryFrom`
//! that validates it into typed values; an invalid value is a [`ConfigError`]
//! naming the key, and the CLI exits with status 2. The effective
//! configuration prints through `Serialize`, secrets redacted.

use figment::providers::{Format, Toml};
use figment::value::{Dict, Map, Value};
use figment::{Figment, Metadata, Profile, Provider};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize, Serializer};
use spotlight_domain::AllowedOrigin;
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Development,
    Production,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
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

/// The validated configuration.
#[derive(Debug, Clone, Serialize)]
pub struct Config {
    pub mode: Mode,
    #[serde(flatten)]
    pub http: HttpConfig,
    #[serde(flatten)]
    pub store: StoreConfig,
    #[serde(flatten)]
    pub security: SecurityConfig,
    #[serde(flatten)]
    pub relay: RelayConfig,
    #[serde(flatten)]
    pub retention: Retention,
    #[serde(flatten)]
    pub telemetry: TelemetryConfig,
    #[serde(flatten)]
    pub mail: MailConfig,
}

/// Mail Spotlight sends (invitations, sign-in alerts). Without an SMTP URL
/// none is sent: an invitation's link is shown to the inviter instead.
#[derive(Debug, Clone, Serialize)]
pub struct MailConfig {
    /// `smtp://host:25`, `smtp://user:password@host:587?tls=required`
    /// (STARTTLS) or `smtps://user:password@host:465`.
    #[serde(serialize_with = "redacted_url_or_empty")]
    pub smtp_url: Option<SecretString>,
    /// The sender, e.g. `Spotlight <spotlight@example.com>`.
    #[serde(serialize_with = "or_empty")]
    pub mail_from: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct HttpConfig {
    #[serde(serialize_with = "display")]
    pub listen: SocketAddr,
    /// The URL users reach Spotlight at; `https://` turns on Secure cookies and HSTS.
    #[serde(serialize_with = "or_empty")]
    pub public_url: Option<String>,
    /// Trust `X-Forwarded-For` / `X-Forwarded-Proto` from a reverse proxy.
    pub trust_proxy: bool,
    #[serde(serialize_with = "origins")]
    pub allowed_origins: ExtraOrigins,
    pub body_limit_bytes: usize,
    #[serde(rename = "request_timeout_secs", serialize_with = "as_secs")]
    pub request_timeout: Duration,
    #[serde(rename = "header_read_timeout_secs", serialize_with = "as_secs")]
    pub header_read_timeout: Duration,
    #[serde(rename = "shutdown_grace_secs", serialize_with = "as_secs")]
    pub shutdown_grace: Duration,
    /// After SIGTERM, how long `/readyz` answers 503 while requests are still
    /// served, so a balancer takes the node out before it stops accepting.
    #[serde(rename = "shutdown_drain_secs", serialize_with = "as_secs")]
    pub shutdown_drain: Duration,
}

#[derive(Debug, Clone, Serialize)]
pub struct StoreConfig {
    pub data_dir: PathBuf,
    #[serde(serialize_with = "redacted_url")]
    pub database_url: SecretString,
    pub db_max_connections: u32,
    pub migrate_on_start: bool,
    /// How long cached data may serve past its freshness while the database
    /// cannot be reached (stale-if-error).
    #[serde(rename = "cache_max_stale_secs", serialize_with = "as_secs")]
    pub cache_max_stale: Duration,
}

#[derive(Debug, Clone, Serialize)]
pub struct SecurityConfig {
    #[serde(serialize_with = "redacted")]
    pub operator_token: SecretString,
    /// 32 bytes. `None` only in development before the data dir provides one.
    #[serde(serialize_with = "redacted_option")]
    pub master_key: Option<SecretString>,
    #[serde(rename = "session_ttl_hours", serialize_with = "hours")]
    pub session_ttl: Duration,
    pub login_per_ip_per_minute: u32,
    pub login_per_account_per_minute: u32,
    /// How long a tenant's JWKS is used before it is fetched again.
    #[serde(rename = "jwks_refresh_secs", serialize_with = "as_secs")]
    pub jwks_refresh: Duration,
    /// How long a tenant's last good JWKS may verify tokens while its URL fails.
    #[serde(rename = "jwks_max_stale_secs", serialize_with = "as_secs")]
    pub jwks_max_stale: Duration,
    /// Internal ranges that webhooks and JWKS fetches may reach in production
    /// (CIDRs; none by default: see `spotlight_pipeline::outbound`).
    #[serde(serialize_with = "displays")]
    pub outbound_allow: Vec<ipnet::IpNet>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RelayConfig {
    #[serde(serialize_with = "or_empty")]
    pub nats_url: Option<String>,
    /// Attempts before a delivery becomes a dead letter.
    #[serde(rename = "relay_max_attempts")]
    pub max_attempts: u32,
    /// First retry delay; doubles each attempt (with jitter) up to the maximum.
    #[serde(rename = "relay_backoff_base_ms", serialize_with = "millis")]
    pub backoff_base: Duration,
    #[serde(rename = "relay_backoff_max_secs", serialize_with = "as_secs")]
    pub backoff_max: Duration,
    /// How long a relay holds a claimed delivery before another may retry it
    /// (a relay that died mid-attempt is covered after this).
    #[serde(rename = "relay_lease_secs", serialize_with = "as_secs")]
    pub lease: Duration,
    /// `/readyz` answers 503 while more deliveries than this wait.
    pub outbox_ready_threshold: u64,
}

/// How long each kind of data is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Retention {
    #[serde(rename = "retention_events_days", serialize_with = "days_of")]
    pub events: Duration,
    #[serde(rename = "retention_outbox_days", serialize_with = "days_of")]
    pub outbox: Duration,
    #[serde(rename = "retention_dead_letters_days", serialize_with = "days_of")]
    pub dead_letters: Duration,
    #[serde(rename = "retention_audit_days", serialize_with = "days_of")]
    pub audit: Duration,
    /// How often the retention job runs.
    #[serde(rename = "retention_interval_secs", serialize_with = "as_secs")]
    pub interval: Duration,
}

#[derive(Debug, Clone, Serialize)]
pub struct TelemetryConfig {
    pub log: String,
    pub log_format: LogFormat,
    /// Where traces go (an OTLP/HTTP base URL); `None`: the `OTEL_*`
    /// variables decide, and without them traces are off.
    #[serde(serialize_with = "or_empty")]
    pub otlp_endpoint: Option<String>,
}

// ---- What the file and the environment may give, section by section ----

/// A list key: a TOML list, or (as environment variables are) comma-separated.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum StringOrList {
    String(String),
    List(Vec<String>),
}

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

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ModeRaw {
    mode: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct HttpRaw {
    listen: Option<String>,
    public_url: Option<String>,
    trust_proxy: Option<bool>,
    allowed_origins: Option<StringOrList>,
    body_limit_bytes: Option<u64>,
    request_timeout_secs: Option<u64>,
    header_read_timeout_secs: Option<u64>,
    shutdown_grace_secs: Option<u64>,
    shutdown_drain_secs: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct StoreRaw {
    data_dir: Option<String>,
    database_url: Option<String>,
    database_url_file: Option<String>,
    db_max_connections: Option<u32>,
    migrate_on_start: Option<bool>,
    cache_max_stale_secs: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct SecurityRaw {
    operator_token: Option<String>,
    operator_token_file: Option<String>,
    master_key: Option<String>,
    master_key_file: Option<String>,
    session_ttl_hours: Option<u64>,
    login_per_ip_per_minute: Option<u32>,
    login_per_account_per_minute: Option<u32>,
    jwks_refresh_secs: Option<u64>,
    jwks_max_stale_secs: Option<u64>,
    outbound_allow: Option<StringOrList>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RelayRaw {
    nats_url: Option<String>,
    relay_max_attempts: Option<u64>,
    relay_backoff_base_ms: Option<u64>,
    relay_backoff_max_secs: Option<u64>,
    relay_lease_secs: Option<u64>,
    outbox_ready_threshold: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RetentionRaw {
    retention_events_days: Option<u64>,
    retention_outbox_days: Option<u64>,
    retention_dead_letters_days: Option<u64>,
    retention_audit_days: Option<u64>,
    retention_interval_secs: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct TelemetryRaw {
    log: Option<String>,
    log_format: Option<String>,
    otlp_endpoint: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct MailRaw {
    smtp_url: Option<String>,
    smtp_url_file: Option<String>,
    mail_from: Option<String>,
}

/// Every key a file or a `SPOTLIGHT_*` variable may set, from the sections' definitions.
fn known_keys() -> Vec<&'static str> {
    use serde_aux::serde_introspection::serde_introspect;
    [
        serde_introspect::<ModeRaw>(),
        serde_introspect::<HttpRaw>(),
        serde_introspect::<StoreRaw>(),
        serde_introspect::<SecurityRaw>(),
        serde_introspect::<RelayRaw>(),
        serde_introspect::<RetentionRaw>(),
        serde_introspect::<TelemetryRaw>(),
        serde_introspect::<MailRaw>(),
    ]
    .concat()
}

/// `SPOTLIGHT_<KEY>` variables of known keys, as strings: each field's type
/// decides how its text is read (figment's lossy extraction), nothing is guessed.
struct Environment(Dict);

const FROM_ENVIRONMENT: &str = "SPOTLIGHT_ environment variables";

impl Provider for Environment {
    fn metadata(&self) -> Metadata {
        Metadata::named(FROM_ENVIRONMENT)
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        Ok(Profile::Default.collect(self.0.clone()))
    }
}

fn figment_error(e: figment::Error) -> ConfigError {
    let key = e.path.join(".");
    let from_env = e
        .metadata
        .as_ref()
        .is_some_and(|m| m.name == FROM_ENVIRONMENT);
    let source = e
        .metadata
        .as_ref()
        .and_then(|m| m.source.as_ref())
        .map(|s| s.to_string())
        .unwrap_or_else(|| "the configuration".to_owned());
    let key = if from_env && !key.is_empty() {
        format!("SPOTLIGHT_{}", key.to_ascii_uppercase())
    } else if key.is_empty() {
        source
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
        let known = known_keys();
        let mut figment = Figment::new();
        if let Some(path) = file {
            if !path.is_file() {
                return Err(ConfigError {
                    key: "--config".into(),
                    reason: format!("{} is not a readable file", path.display()),
                });
            }
            let keys: Dict = Figment::from(Toml::file_exact(path))
                .extract()
                .map_err(figment_error)?;
            if let Some(unknown) = keys.keys().find(|k| !known.contains(&k.as_str())) {
                return Err(ConfigError {
                    key: format!("{unknown} in {}", path.display()),
                    reason: format!("unknown key `{unknown}`"),
                });
            }
            figment = figment.merge(Toml::file_exact(path));
        }
        // Only SPOTLIGHT_<known key>: other SPOTLIGHT_* variables (tests, tools) are ignored.
        let vars: Dict = env
            .into_iter()
            .filter_map(|(k, v)| {
                let key = k.strip_prefix("SPOTLIGHT_")?.to_ascii_lowercase();
                known.contains(&key.as_str()).then(|| (key, Value::from(v)))
            })
            .collect();
        let figment = figment.merge(Environment(vars));
        let mode = match figment
            .extract_lossy::<ModeRaw>()
            .map_err(figment_error)?
            .mode
            .as_deref()
        {
            None | Some("development") => Mode::Development,
            Some("production") => Mode::Production,
            Some(other) => {
                return Err(ConfigError::new(
                    "mode",
                    format!("must be \"development\" or \"production\", got {other:?}"),
                ))
            }
        };
        let http: HttpRaw = figment.extract_lossy().map_err(figment_error)?;
        let store: StoreRaw = figment.extract_lossy().map_err(figment_error)?;
        let security: SecurityRaw = figment.extract_lossy().map_err(figment_error)?;
        let relay: RelayRaw = figment.extract_lossy().map_err(figment_error)?;
        let retention: RetentionRaw = figment.extract_lossy().map_err(figment_error)?;
        let telemetry: TelemetryRaw = figment.extract_lossy().map_err(figment_error)?;
        let mail: MailRaw = figment.extract_lossy().map_err(figment_error)?;
        Ok(Config {
            mode,
            http: HttpConfig::try_from((http, mode))?,
            store: StoreConfig::try_from(store)?,
            security: SecurityConfig::try_from((security, mode))?,
            relay: RelayConfig::try_from(relay)?,
            retention: Retention::try_from(retention)?,
            telemetry: TelemetryConfig::try_from(telemetry)?,
            mail: MailConfig::try_from(mail)?,
        })
    }

    pub fn is_production(&self) -> bool {
        self.mode == Mode::Production
    }

    /// Cookies get `Secure` and responses HSTS when users reach us over TLS.
    pub fn public_is_https(&self) -> bool {
        self.http
            .public_url
            .as_deref()
            .is_some_and(|u| u.starts_with("https://"))
    }

    /// The effective configuration, secrets redacted, as TOML.
    pub fn redacted(&self) -> String {
        let mut text = toml::to_string(self)
            .unwrap_or_else(|e| format!("# cannot print the configuration: {e}"));
        if !text.ends_with('\n') {
            text.push('\n');
        }
        text
    }

    /// Where webhooks and JWKS fetches may go.
    pub fn outbound_policy(&self) -> spotlight_pipeline::outbound::OutboundPolicy {
        use spotlight_pipeline::outbound::OutboundPolicy;
        if self.is_production() {
            OutboundPolicy::production(self.security.outbound_allow.clone())
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

// ---- Validation, section by section ----

impl TryFrom<(HttpRaw, Mode)> for HttpConfig {
    type Error = ConfigError;

    fn try_from((raw, mode): (HttpRaw, Mode)) -> Result<Self, ConfigError> {
        let listen_text = raw.listen.unwrap_or_else(|| "127.0.0.1:8080".into());
        let listen: SocketAddr = listen_text.parse().map_err(|_| {
            ConfigError::new(
                "listen",
                format!("{listen_text:?} is not an address like 127.0.0.1:8080"),
            )
        })?;
        let public_url = raw.public_url.filter(|s| !s.is_empty());
        if let Some(u) = &public_url {
            if !(u.starts_with("http://") || u.starts_with("https://")) {
                return Err(ConfigError::new(
                    "public_url",
                    "must start with http:// or https://",
                ));
            }
        }
        let origins = list(raw.allowed_origins);
        let allowed_origins = if origins.iter().any(|o| o == "*") {
            if mode == Mode::Production {
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
        let body_limit = number(
            "body_limit_bytes",
            raw.body_limit_bytes,
            1024 * 1024,
            1024,
            64 * 1024 * 1024,
        )?;
        Ok(HttpConfig {
            listen,
            public_url,
            trust_proxy: raw.trust_proxy.unwrap_or(false),
            allowed_origins,
            body_limit_bytes: usize::try_from(body_limit).unwrap_or(usize::MAX),
            request_timeout: secs(
                "request_timeout_secs",
                raw.request_timeout_secs,
                30,
                1,
                3600,
            )?,
            header_read_timeout: secs(
                "header_read_timeout_secs",
                raw.header_read_timeout_secs,
                10,
                1,
                300,
            )?,
            shutdown_grace: secs("shutdown_grace_secs", raw.shutdown_grace_secs, 30, 0, 3600)?,
            shutdown_drain: secs("shutdown_drain_secs", raw.shutdown_drain_secs, 0, 0, 600)?,
        })
    }
}

impl TryFrom<StoreRaw> for StoreConfig {
    type Error = ConfigError;

    fn try_from(raw: StoreRaw) -> Result<Self, ConfigError> {
        let data_dir = PathBuf::from(raw.data_dir.unwrap_or_else(|| "./data".into()));
        if data_dir.as_os_str().is_empty() {
            return Err(ConfigError::new("data_dir", "must not be empty"));
        }
        let database_url = secret("database_url", raw.database_url, raw.database_url_file)?
            .unwrap_or_else(|| spotlight_store::sqlite_url_for_dir(&data_dir));
        if spotlight_store::Backend::from_url(&database_url).is_none() {
            return Err(ConfigError::new(
                "database_url",
                "must start with sqlite:// or postgres://",
            ));
        }
        let db_max_connections = number(
            "db_max_connections",
            raw.db_max_connections.map(u64::from),
            16,
            1,
            1000,
        )?;
        Ok(StoreConfig {
            data_dir,
            database_url: SecretString::from(database_url),
            db_max_connections: u32::try_from(db_max_connections).unwrap_or(16),
            migrate_on_start: raw.migrate_on_start.unwrap_or(true),
            cache_max_stale: secs(
                "cache_max_stale_secs",
                raw.cache_max_stale_secs,
                3600,
                0,
                7 * 24 * 3600,
            )?,
        })
    }
}

impl TryFrom<(SecurityRaw, Mode)> for SecurityConfig {
    type Error = ConfigError;

    fn try_from((raw, mode): (SecurityRaw, Mode)) -> Result<Self, ConfigError> {
        let production = mode == Mode::Production;
        let operator_token = match secret(
            "operator_token",
            raw.operator_token,
            raw.operator_token_file,
        )? {
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
        let master_key = secret("master_key", raw.master_key, raw.master_key_file)?;
        match &master_key {
            Some(k) => {
                parse_master_key(k).map_err(|reason| ConfigError::new("master_key", reason))?;
            }
            None if production => {
                return Err(ConfigError::new("master_key", "is required in production"))
            }
            None => {}
        }
        let per_minute = |key: &str, v: Option<u32>, default: u32| -> Result<u32, ConfigError> {
            match v.unwrap_or(default) {
                0 => Err(ConfigError::new(key, "must be at least 1")),
                n => Ok(n),
            }
        };
        Ok(SecurityConfig {
            operator_token: SecretString::from(operator_token),
            master_key: master_key.map(SecretString::from),
            session_ttl: secs("session_ttl_hours", raw.session_ttl_hours, 12, 1, 24 * 90)?
                .saturating_mul(3600),
            login_per_ip_per_minute: per_minute(
                "login_per_ip_per_minute",
                raw.login_per_ip_per_minute,
                20,
            )?,
            login_per_account_per_minute: per_minute(
                "login_per_account_per_minute",
                raw.login_per_account_per_minute,
                10,
            )?,
            jwks_refresh: secs(
                "jwks_refresh_secs",
                raw.jwks_refresh_secs,
                3600,
                1,
                7 * 24 * 3600,
            )?,
            jwks_max_stale: secs(
                "jwks_max_stale_secs",
                raw.jwks_max_stale_secs,
                24 * 3600,
                0,
                30 * 24 * 3600,
            )?,
            outbound_allow: list(raw.outbound_allow)
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
        })
    }
}

impl TryFrom<RelayRaw> for RelayConfig {
    type Error = ConfigError;

    fn try_from(raw: RelayRaw) -> Result<Self, ConfigError> {
        let nats_url = raw.nats_url.filter(|s| !s.is_empty());
        if let Some(url) = &nats_url {
            if !url.starts_with("nats://") && !url.starts_with("tls://") {
                return Err(ConfigError::new(
                    "nats_url",
                    "must start with nats:// or tls://",
                ));
            }
        }
        Ok(RelayConfig {
            nats_url,
            max_attempts: u32::try_from(number(
                "relay_max_attempts",
                raw.relay_max_attempts,
                12,
                1,
                100,
            )?)
            .unwrap_or(12),
            backoff_base: Duration::from_millis(number(
                "relay_backoff_base_ms",
                raw.relay_backoff_base_ms,
                1000,
                10,
                600_000,
            )?),
            backoff_max: secs(
                "relay_backoff_max_secs",
                raw.relay_backoff_max_secs,
                3600,
                1,
                7 * 86_400,
            )?,
            lease: secs("relay_lease_secs", raw.relay_lease_secs, 60, 1, 3600)?,
            outbox_ready_threshold: number(
                "outbox_ready_threshold",
                raw.outbox_ready_threshold,
                100_000,
                1,
                u64::from(u32::MAX),
            )?,
        })
    }
}

impl TryFrom<RetentionRaw> for Retention {
    type Error = ConfigError;

    fn try_from(raw: RetentionRaw) -> Result<Self, ConfigError> {
        Ok(Retention {
            events: days("retention_events_days", raw.retention_events_days, 90)?,
            outbox: days("retention_outbox_days", raw.retention_outbox_days, 7)?,
            dead_letters: days(
                "retention_dead_letters_days",
                raw.retention_dead_letters_days,
                30,
            )?,
            audit: days("retention_audit_days", raw.retention_audit_days, 365)?,
            interval: secs(
                "retention_interval_secs",
                raw.retention_interval_secs,
                3600,
                1,
                7 * 86_400,
            )?,
        })
    }
}

impl TryFrom<TelemetryRaw> for TelemetryConfig {
    type Error = ConfigError;

    fn try_from(raw: TelemetryRaw) -> Result<Self, ConfigError> {
        let log = raw.log.unwrap_or_else(|| "info".into());
        if tracing_subscriber::EnvFilter::try_new(&log).is_err() {
            return Err(ConfigError::new(
                "log",
                format!("{log:?} is not a valid log filter"),
            ));
        }
        let log_format = match raw.log_format.as_deref() {
            None | Some("json") => LogFormat::Json,
            Some("pretty") => LogFormat::Pretty,
            Some(other) => {
                return Err(ConfigError::new(
                    "log_format",
                    format!("must be \"json\" or \"pretty\", got {other:?}"),
                ))
            }
        };
        let otlp_endpoint = raw
            .otlp_endpoint
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
        Ok(TelemetryConfig {
            log,
            log_format,
            otlp_endpoint,
        })
    }
}

impl TryFrom<MailRaw> for MailConfig {
    type Error = ConfigError;

    fn try_from(raw: MailRaw) -> Result<Self, ConfigError> {
        let smtp_url = secret("smtp_url", raw.smtp_url, raw.smtp_url_file)?
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty());
        let mail_from = raw
            .mail_from
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty());
        if let Some(url) = &smtp_url {
            let ok = url::Url::parse(url)
                .is_ok_and(|u| matches!(u.scheme(), "smtp" | "smtps") && u.host().is_some());
            if !ok {
                return Err(ConfigError::new(
                    "smtp_url",
                    "must be an smtp:// or smtps:// URL (e.g. smtp://user:password@mail.example.com:587?tls=required)",
                ));
            }
            match &mail_from {
                None => {
                    return Err(ConfigError::new(
                        "mail_from",
                        "is needed with smtp_url (e.g. Spotlight <spotlight@example.com>)",
                    ))
                }
                Some(from) if from.parse::<lettre::message::Mailbox>().is_err() => {
                    return Err(ConfigError::new(
                        "mail_from",
                        format!(
                            "{from:?} is not an address (e.g. Spotlight <spotlight@example.com>)"
                        ),
                    ))
                }
                Some(_) => {}
            }
        }
        Ok(MailConfig {
            smtp_url: smtp_url.map(SecretString::from),
            mail_from,
        })
    }
}

/// A secret: the `<key>_file`'s content (trailing newline removed) when a
/// file is named, else the value.
fn secret(
    key: &str,
    value: Option<String>,
    file: Option<String>,
) -> Result<Option<String>, ConfigError> {
    match file.filter(|f| !f.is_empty()) {
        Some(path) => std::fs::read_to_string(&path)
            .map(|s| Some(s.trim_end_matches(['\n', '\r']).to_owned()))
            .map_err(|e| {
                ConfigError::new(&format!("{key}_file"), format!("cannot read {path}: {e}"))
            }),
        None => Ok(value),
    }
}

fn number(key: &str, v: Option<u64>, default: u64, min: u64, max: u64) -> Result<u64, ConfigError> {
    let v = v.unwrap_or(default);
    if v < min || v > max {
        return Err(ConfigError::new(
            key,
            format!("must be between {min} and {max}, got {v}"),
        ));
    }
    Ok(v)
}

fn secs(
    key: &str,
    v: Option<u64>,
    default: u64,
    min: u64,
    max: u64,
) -> Result<Duration, ConfigError> {
    number(key, v, default, min, max).map(Duration::from_secs)
}

/// Whole days, 1 to 10 years.
fn days(key: &str, v: Option<u64>, default: u64) -> Result<Duration, ConfigError> {
    Ok(secs(key, v, default, 1, 3650)?.saturating_mul(86_400))
}

// ---- How the effective configuration prints ----

fn display<S: Serializer, T: std::fmt::Display>(v: &T, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(v)
}

fn displays<S: Serializer, T: std::fmt::Display>(v: &[T], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(v.iter().map(ToString::to_string))
}

/// Unset prints as `""`, which reads back as unset.
fn or_empty<S: Serializer>(v: &Option<String>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(v.as_deref().unwrap_or(""))
}

fn as_secs<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(d.as_secs())
}

fn millis<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

fn hours<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(d.as_secs() / 3600)
}

fn days_of<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(d.as_secs() / 86_400)
}

fn redacted<S: Serializer>(_: &SecretString, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str("[redacted]")
}

fn redacted_option<S: Serializer>(v: &Option<SecretString>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(if v.is_some() {
        "[redacted]"
    } else {
        "(not set)"
    })
}

fn redacted_url_or_empty<S: Serializer>(v: &Option<SecretString>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(
        &v.as_ref()
            .map(|u| redact_url(u.expose_secret()))
            .unwrap_or_default(),
    )
}

fn redacted_url<S: Serializer>(v: &SecretString, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&redact_url(v.expose_secret()))
}

fn origins<S: Serializer>(v: &ExtraOrigins, s: S) -> Result<S::Ok, S::Error> {
    match v {
        ExtraOrigins::Any => s.collect_seq(["*"]),
        ExtraOrigins::List(l) => s.collect_seq(l.iter().map(ToString::to_string)),
    }
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
        assert_eq!(c.http.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(c.mode, Mode::Development);
        assert!(c
            .store
            .database_url
            .expose_secret()
            .starts_with("sqlite://"));
        assert_eq!(c.http.allowed_origins, ExtraOrigins::List(vec![]));
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
        assert_eq!(c.relay.max_attempts, 4);
        assert_eq!(c.relay.backoff_base, Duration::from_millis(50));
        assert_eq!(c.relay.lease, Duration::from_secs(2));
        assert_eq!(c.retention.events, Duration::from_secs(7 * 86_400));
        assert_eq!(c.relay.outbox_ready_threshold, 10);
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
        assert_eq!(c.http.listen.port(), 9001);
        assert_eq!(c.telemetry.log, "debug");
        assert_eq!(c.http.request_timeout, Duration::from_secs(5));
        assert_eq!(
            c.security.operator_token.expose_secret(),
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
        assert_eq!(c.http.allowed_origins, ExtraOrigins::Any);
    }

    #[test]
    fn environment_text_is_read_as_each_key_s_type() {
        let c = Config::load_from(
            None,
            env(&[
                ("SPOTLIGHT_OPERATOR_TOKEN", "123456789012345678901234567890"),
                ("SPOTLIGHT_TRUST_PROXY", "true"),
                ("SPOTLIGHT_BODY_LIMIT_BYTES", "2048"),
                (
                    "SPOTLIGHT_ALLOWED_ORIGINS",
                    "https://a.test, https://b.test",
                ),
                ("SPOTLIGHT_LOG", "warn"),
            ]),
        )
        .unwrap();
        assert_eq!(
            c.security.operator_token.expose_secret(),
            "123456789012345678901234567890"
        );
        assert!(c.http.trust_proxy);
        assert_eq!(c.http.body_limit_bytes, 2048);
        assert!(matches!(&c.http.allowed_origins, ExtraOrigins::List(l) if l.len() == 2));
        let err = Config::load_from(None, env(&[("SPOTLIGHT_TRUST_PROXY", "maybe")])).unwrap_err();
        assert_eq!(err.key, "SPOTLIGHT_TRUST_PROXY", "{err}");
    }

    #[test]
    fn the_redacted_configuration_is_toml_naming_every_key() {
        let c = Config::load_from(
            None,
            env(&[
                (
                    "SPOTLIGHT_DATABASE_URL",
                    "postgres://app:hunter2@db/spotlight",
                ),
                ("SPOTLIGHT_OPERATOR_TOKEN", "a-secret-operator-token-here"),
                ("SPOTLIGHT_NATS_URL", "nats://127.0.0.1:4222"),
                ("SPOTLIGHT_OTLP_ENDPOINT", "http://collector:4318"),
                ("SPOTLIGHT_MASTER_KEY", &"ab".repeat(32)),
            ]),
        )
        .unwrap();
        let text = c.redacted();
        let printed: toml::Table = text.parse().unwrap();
        for key in known_keys() {
            if key.ends_with("_file") {
                continue;
            }
            assert!(printed.contains_key(key), "{key} missing from\n{text}");
        }
        assert_eq!(
            printed["database_url"].as_str(),
            Some("postgres://app:[redacted]@db/spotlight")
        );
        assert_eq!(printed["operator_token"].as_str(), Some("[redacted]"));
        assert_eq!(printed["relay_backoff_base_ms"].as_integer(), Some(1000));
        assert!(!text.contains("hunter2") && !text.contains("a-secret") && !text.contains("abab"));
        // What it prints loads back to the same configuration.
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("printed.toml");
        let reloadable: String = text
            .lines()
            .filter(|l| !l.contains("[redacted]") && !l.starts_with("master_key"))
            .map(|l| format!("{l}\n"))
            .collect();
        std::fs::write(&file, reloadable).unwrap();
        let again = Config::load_from(Some(&file), env(&[])).unwrap();
        assert_eq!(again.relay.backoff_base, c.relay.backoff_base);
        assert_eq!(again.retention, c.retention);
        assert_eq!(again.telemetry.otlp_endpoint, c.telemetry.otlp_endpoint);
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
