//! The commands. Each loads configuration the same way (`--config FILE` plus
//! `SPOTLIGHT_*`), opens the store when it needs one, and prints JSON with `--json`.

use anyhow::{anyhow, bail, Context};
use clap::{Args, Parser, Subcommand};
use secrecy::ExposeSecret;
use serde_json::json;
use spotlight_domain::{Email, KeyId, KeyKind, PlainKey, Role, SystemClock, TenantId};
use spotlight_server::auth::password;
use spotlight_server::config::Config;
use spotlight_server::serve::open_store;
use spotlight_server::tenants::{new_key, provision, KeyView, ProvisionError};
use spotlight_server::Application;
use spotlight_store::{AuditEntry, Store, StoreError};
use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Parser)]
#[command(
    name = "spotlight",
    version,
    about = "Self-hostable in-app guidance: tours, announcements, checklists"
)]
pub struct Cli {
    /// A TOML configuration file; SPOTLIGHT_* environment variables override it.
    #[arg(long, global = true, env = "SPOTLIGHT_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server.
    Serve,
    /// Print the OpenAPI document of the admin and SDK API.
    Openapi,
    /// Run a demo on an embedded SQLite store with a demo tenant and login.
    Demo(DemoArgs),
    /// Apply pending database migrations and exit.
    Migrate {
        /// Only report: exit 0 when the schema is current, 3 when migrations are pending.
        #[arg(long)]
        check: bool,
    },
    /// A synthetic check for a canary or cron: /readyz, then (with --key) a
    /// real SDK config and one event. Exits non-zero with the reason.
    Check(CheckArgs),
    /// Configuration tools.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Tenants.
    #[command(subcommand)]
    Tenant(TenantCommand),
    /// API keys.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Dashboard members.
    #[command(subcommand)]
    Member(MemberCommand),
    /// Write every tenant's data to a portable file (JSON lines), with each
    /// table's row count and content checksum.
    Backup(BackupArgs),
    /// Load a backup into an empty database (SQLite or PostgreSQL).
    Restore {
        #[arg(long)]
        from: PathBuf,
    },
}

#[derive(Args)]
pub struct CheckArgs {
    /// The server (or the balancer in front of it), e.g. https://spotlight.example.com;
    /// default: this configuration's own listen address (the container health check).
    #[arg(long)]
    url: Option<String>,
    /// A publishable key: also fetch an SDK config and post one event with it.
    #[arg(long)]
    key: Option<String>,
    /// The Origin to send (one of the key's allowed origins).
    #[arg(long)]
    origin: Option<String>,
    /// Only readiness (the container health check).
    #[arg(long)]
    ready_only: bool,
    /// Seconds each request may take.
    #[arg(long, default_value_t = 5)]
    timeout: u64,
}

#[derive(Args)]
#[command(group(clap::ArgGroup::new("target").required(true).args(["out", "dir"])))]
pub struct BackupArgs {
    /// Write this file.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Write spotlight-<UTC time>.jsonl files into this folder.
    #[arg(long)]
    dir: Option<PathBuf>,
    /// With --dir: keep taking a backup this often (e.g. 24h, 30m) until stopped.
    #[arg(long, requires = "dir", value_parser = parse_every)]
    every: Option<std::time::Duration>,
    /// With --dir: keep the newest N backups, delete older ones.
    #[arg(long, requires = "dir")]
    keep: Option<usize>,
}

/// `90s`, `30m`, `24h`, `7d`.
fn parse_every(text: &str) -> Result<std::time::Duration, String> {
    let (n, unit) = text.split_at(
        text.find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len()),
    );
    let n: u64 = n
        .parse()
        .map_err(|_| format!("{text:?}: expected a number and s, m, h or d"))?;
    let secs = match unit {
        "s" => n,
        "m" => n.saturating_mul(60),
        "h" => n.saturating_mul(3600),
        "d" => n.saturating_mul(86_400),
        _ => return Err(format!("{text:?}: expected a number and s, m, h or d")),
    };
    if secs == 0 {
        return Err("must be more than 0".into());
    }
    Ok(std::time::Duration::from_secs(secs))
}

#[derive(Args)]
struct DemoArgs {
    /// Keep data here (default: a temporary directory removed on exit).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Address to listen on (default: the configured one, 127.0.0.1:8080).
    #[arg(long)]
    listen: Option<String>,
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Validate the configuration and print it with secrets redacted.
    Check,
}

#[derive(Subcommand)]
enum TenantCommand {
    /// Create a tenant with production and staging environments and their keys.
    Create {
        #[arg(long)]
        name: String,
        /// An allowed SDK origin (repeatable): https://app.example.com or https://*.example.com
        #[arg(long = "origin")]
        origins: Vec<String>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum KeyCommand {
    /// Create a key; its secret is printed once.
    Create {
        #[arg(long)]
        tenant: String,
        #[arg(long, default_value = "production")]
        environment: String,
        #[arg(long, value_parser = ["publishable", "secret"])]
        kind: String,
        #[arg(long, default_value = "")]
        label: String,
        #[arg(long)]
        json: bool,
    },
    /// Replace a key; the old one keeps working for --grace-seconds (default 0).
    Rotate {
        /// Optional: when given, the key must belong to this tenant.
        #[arg(long)]
        tenant: Option<String>,
        /// The key's id, or the key itself (pk_… / sk_…).
        #[arg(long)]
        key: String,
        #[arg(long, default_value_t = 0)]
        grace_seconds: i64,
        #[arg(long)]
        json: bool,
    },
    /// Revoke a key at once.
    Revoke {
        /// Optional: when given, the key must belong to this tenant.
        #[arg(long)]
        tenant: Option<String>,
        /// The key's id, or the key itself (pk_… / sk_…).
        #[arg(long)]
        key: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum MemberCommand {
    /// Add a dashboard member (or change the role of an existing one).
    Add {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        email: String,
        #[arg(long, value_parser = ["owner", "admin", "editor", "viewer"])]
        role: String,
        /// Read the password from standard input instead of generating one.
        #[arg(long)]
        password_stdin: bool,
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(cli: Cli) -> ExitCode {
    let config = match Config::load(cli.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("spotlight: {e}");
            return ExitCode::from(2);
        }
    };
    let long_running = matches!(cli.command, Command::Serve | Command::Demo(_));
    let telemetry = spotlight_server::telemetry::Telemetry::init(&config, !long_running);
    let result = match cli.command {
        Command::Serve => serve(config).await,
        Command::Openapi => {
            println!("{}", spotlight_server::routes::document());
            Ok(())
        }
        Command::Demo(args) => demo(config, args).await,
        Command::Migrate { check: true } => return migrate_check(config).await,
        Command::Migrate { check: false } => migrate(config).await,
        Command::Check(args) => check(&config, args).await,
        Command::Config(ConfigCommand::Check) => {
            print!("{}", config.redacted());
            Ok(())
        }
        Command::Tenant(cmd) => tenant(config, cmd).await,
        Command::Key(cmd) => key(config, cmd).await,
        Command::Member(cmd) => member(config, cmd).await,
        Command::Backup(args) => backup(config, args).await,
        Command::Restore { from } => restore(config, from).await,
    };
    telemetry.shutdown().await;
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("spotlight: {e:#}");
            ExitCode::from(1)
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutdown signal received");
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let app = Application::build(config).await?;
    app.run_until_stopped(shutdown_signal()).await?;
    Ok(())
}

async fn store(config: &Config) -> anyhow::Result<Store> {
    let store = open_store(config, Arc::new(SystemClock)).await?;
    if config.store.migrate_on_start {
        store.migrate().await?;
    }
    Ok(store)
}

async fn migrate(config: Config) -> anyhow::Result<()> {
    let store = open_store(&config, Arc::new(SystemClock)).await?;
    let before = store.migration_status().await?;
    let after = store.migrate().await?;
    println!(
        "migrations: {} applied now, {} in total, {} known",
        after.applied.saturating_sub(before.applied),
        after.applied,
        after.known
    );
    store.close().await;
    Ok(())
}

/// Exit 0 when the schema is current, 3 when migrations are pending (1 on error).
async fn migrate_check(config: Config) -> ExitCode {
    let status = async {
        let store = open_store(&config, Arc::new(SystemClock)).await?;
        let status = store.migration_status().await?;
        store.close().await;
        anyhow::Ok(status)
    }
    .await;
    match status {
        Ok(s) if s.is_current() => {
            println!("migrations: current ({} applied)", s.applied);
            ExitCode::SUCCESS
        }
        Ok(s) => {
            println!(
                "migrations: {} pending {:?} ({} applied); run `spotlight migrate`",
                s.pending.len(),
                s.pending,
                s.applied
            );
            ExitCode::from(3)
        }
        Err(e) => {
            eprintln!("spotlight: {e:#}");
            ExitCode::from(1)
        }
    }
}

async fn check(config: &Config, args: CheckArgs) -> anyhow::Result<()> {
    let base = match &args.url {
        Some(url) => url.trim_end_matches('/').to_owned(),
        None => {
            let mut addr = config.http.listen;
            if addr.ip().is_unspecified() {
                addr.set_ip(if addr.is_ipv4() {
                    std::net::Ipv4Addr::LOCALHOST.into()
                } else {
                    std::net::Ipv6Addr::LOCALHOST.into()
                });
            }
            format!("http://{addr}")
        }
    };
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(args.timeout.max(1)))
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let ready = client
        .get(format!("{base}/readyz"))
        .send()
        .await
        .with_context(|| format!("{base}/readyz unreachable"))?;
    let status = ready.status();
    if !status.is_success() {
        let body = ready.text().await.unwrap_or_default();
        bail!("{base}/readyz answered {status}: {body}");
    }
    println!("ready: {base}");
    if args.ready_only {
        return Ok(());
    }
    let Some(key) = args.key else {
        return Ok(());
    };
    let origin = args.origin.unwrap_or_else(|| base.clone());
    let user = "spotlight-check";
    let mut config = client.get(format!("{base}/v1/sdk/config")).query(&[
        ("key", key.as_str()),
        ("user_id", user),
        ("url", &format!("{origin}/")),
    ]);
    config = config.header("origin", &origin);
    let started = std::time::Instant::now();
    let resp = config.send().await.context("SDK config unreachable")?;
    let status = resp.status();
    let body: serde_json::Value = resp.json().await.unwrap_or_default();
    if !status.is_success() || body.get("enabled").is_none() {
        bail!("SDK config answered {status}: {body}");
    }
    println!(
        "config: {status} in {} ms ({} tours)",
        started.elapsed().as_millis(),
        body["tours"].as_array().map_or(0, Vec::len)
    );
    let now_ms = time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000;
    let event = json!({ "events": [{
        "event_id": uuid::Uuid::new_v4().to_string(),
        "schema_version": 1,
        "name": "spotlight_check",
        "user_id": user,
        "timestamp": i64::try_from(now_ms).unwrap_or(0),
        "properties": {},
    }]});
    let started = std::time::Instant::now();
    let resp = client
        .post(format!("{base}/v1/sdk/events"))
        .query(&[("key", key.as_str())])
        .header("origin", &origin)
        .json(&event)
        .send()
        .await
        .context("events unreachable")?;
    let status = resp.status();
    let body: serde_json::Value = resp.json().await.unwrap_or_default();
    if !status.is_success()
        || body["accepted"].as_u64().unwrap_or(0) + body["duplicates"].as_u64().unwrap_or(0) != 1
    {
        bail!("events answered {status}: {body}");
    }
    println!("event: {status} in {} ms", started.elapsed().as_millis());
    Ok(())
}

async fn backup(config: Config, args: BackupArgs) -> anyhow::Result<()> {
    let store = store(&config).await?;
    let result = async {
        loop {
            let out = match (&args.out, &args.dir) {
                (Some(out), _) => out.clone(),
                (None, Some(dir)) => {
                    std::fs::create_dir_all(dir)
                        .with_context(|| format!("cannot create {}", dir.display()))?;
                    let now = time::OffsetDateTime::now_utc();
                    dir.join(format!(
                        "spotlight-{:04}{:02}{:02}T{:02}{:02}{:02}Z.jsonl",
                        now.year(),
                        u8::from(now.month()),
                        now.day(),
                        now.hour(),
                        now.minute(),
                        now.second()
                    ))
                }
                (None, None) => bail!("--out or --dir is required"),
            };
            backup_once(&store, &out).await?;
            if let (Some(dir), Some(keep)) = (&args.dir, args.keep) {
                prune_backups(dir, keep)?;
            }
            let Some(every) = args.every else { break };
            tokio::select! {
                () = tokio::time::sleep(every) => {}
                () = shutdown_signal() => break,
            }
        }
        anyhow::Ok(())
    }
    .await;
    store.close().await;
    result
}

async fn backup_once(store: &Store, out: &std::path::Path) -> anyhow::Result<()> {
    // Write beside the target, then rename: a failed backup never leaves a partial file.
    let dir = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    let summary = {
        let mut w = std::io::BufWriter::new(tmp.as_file_mut());
        store.backup(&mut w).await?
    };
    tmp.as_file().sync_all()?;
    tmp.persist(out)
        .with_context(|| format!("cannot write {}", out.display()))?;
    println!("backup: {} rows to {}", summary.rows(), out.display());
    print_tables(&summary);
    Ok(())
}

fn print_tables(summary: &spotlight_store::BackupSummary) {
    for t in &summary.tables {
        println!("  {}: {} rows, checksum {}", t.table, t.rows, t.checksum());
    }
}

/// Keeps the newest `keep` of this command's files in `dir`.
fn prune_backups(dir: &std::path::Path, keep: usize) -> anyhow::Result<()> {
    let mut ours: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("spotlight-") && n.ends_with(".jsonl"))
        })
        .collect();
    // The names sort by time.
    ours.sort();
    let excess = ours.len().saturating_sub(keep.max(1));
    for old in &ours[..excess] {
        std::fs::remove_file(old).with_context(|| format!("cannot delete {}", old.display()))?;
        println!("deleted the old backup {}", old.display());
    }
    Ok(())
}

async fn restore(config: Config, from: PathBuf) -> anyhow::Result<()> {
    let file =
        std::fs::File::open(&from).with_context(|| format!("cannot read {}", from.display()))?;
    let store = open_store(&config, Arc::new(SystemClock)).await?;
    store.migrate().await?;
    let summary = store.restore(std::io::BufReader::new(file)).await?;
    println!("restored {} rows from {}", summary.rows(), from.display());
    print_tables(&summary);
    store.close().await;
    Ok(())
}

/// `--tenant` takes an id or an exact, unambiguous name.
async fn resolve_tenant(store: &Store, text: &str) -> anyhow::Result<TenantId> {
    if let Ok(id) = text.parse::<TenantId>() {
        return match store.tenant(id).await {
            Ok(t) => Ok(t.id),
            Err(StoreError::NotFound) => bail!("no tenant with id {id}"),
            Err(e) => Err(e.into()),
        };
    }
    let named = store.tenants_named(text).await?;
    match named.as_slice() {
        [one] => Ok(one.id),
        [] => bail!("no tenant named {text:?}"),
        _ => bail!("several tenants are named {text:?}; pass --tenant with an id"),
    }
}

/// Changes made from the command line are audited as the operator's.
fn cli_audit(action: &str) -> AuditEntry {
    AuditEntry {
        actor: "operator (cli)".into(),
        action: action.into(),
        object_kind: "key".into(),
        ..AuditEntry::default()
    }
}

/// `--key` takes a key id or the key itself; `--tenant`, when given, must own it.
async fn resolve_key(
    store: &Store,
    tenant: Option<&str>,
    key: &str,
) -> anyhow::Result<(TenantId, KeyId)> {
    let (owner, id) = if let Ok(id) = key.parse::<KeyId>() {
        match store.tenant_of_key(id).await {
            Ok(t) => (t, id),
            Err(StoreError::NotFound) => bail!("no key with id {id}"),
            Err(e) => return Err(e.into()),
        }
    } else {
        let plain = PlainKey::parse_any(key.trim())
            .map_err(|_| anyhow!("--key must be a key id or a pk_…/sk_… key"))?;
        match store.key_by_hash(&plain.hash()).await? {
            Some(found) => (found.key.tenant_id, found.key.id),
            None => bail!("no such key"),
        }
    };
    if let Some(t) = tenant {
        if resolve_tenant(store, t).await? != owner {
            bail!("that key does not belong to tenant {t}");
        }
    }
    Ok((owner, id))
}

fn print_json(value: &serde_json::Value) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    Ok(())
}

async fn tenant(config: Config, cmd: TenantCommand) -> anyhow::Result<()> {
    let TenantCommand::Create {
        name,
        origins,
        json,
    } = cmd;
    let store = store(&config).await?;
    let t = match provision(&store, &name, &origins).await {
        Ok(t) => t,
        Err(ProvisionError::Invalid(e)) => bail!("invalid tenant: {e}"),
        Err(ProvisionError::Store(e)) => return Err(e.into()),
    };
    if json {
        print_json(&serde_json::to_value(&t)?)?;
    } else {
        println!("tenant {} ({})", t.tenant_id, t.name);
        for (env, keys) in &t.environments {
            println!("  {env}:");
            println!("    publishable key: {}", keys.publishable_key);
            println!("    secret key:      {}", keys.secret_key);
        }
        println!("Keys are shown once; store them now.");
    }
    store.close().await;
    Ok(())
}

async fn key(config: Config, cmd: KeyCommand) -> anyhow::Result<()> {
    let store = store(&config).await?;
    let now = store.clock().now();
    let (value, secret) = match cmd {
        KeyCommand::Create {
            tenant,
            environment,
            kind,
            label,
            json,
        } => {
            let tenant = resolve_tenant(&store, &tenant).await?;
            let env = store
                .environment_named(tenant, &environment)
                .await
                .map_err(|_| anyhow!("no environment {environment:?} in this tenant"))?;
            let kind = KeyKind::parse(&kind).ok_or_else(|| anyhow!("bad --kind"))?;
            let (plain, new) = new_key(kind, &label);
            let created = store
                .create_key(tenant, env.id, new, cli_audit("key.create"))
                .await?;
            let secret = plain.expose().to_owned();
            (
                json.then(|| json!({ "key": KeyView::of(created, now), "secret": secret })),
                Some(secret),
            )
        }
        KeyCommand::Rotate {
            tenant,
            key,
            grace_seconds,
            json,
        } => {
            if !(0..=30 * 24 * 3600).contains(&grace_seconds) {
                bail!("--grace-seconds must be between 0 and 2592000 (30 days)");
            }
            let (tenant, key) = resolve_key(&store, tenant.as_deref(), &key).await?;
            let current = store
                .key(tenant, key)
                .await
                .map_err(|_| anyhow!("no key {key} in this tenant"))?;
            let (plain, new) = new_key(current.kind, &current.label);
            let (old, created) = store
                .rotate_key(tenant, key, new, grace_seconds, cli_audit("key.rotate"))
                .await
                .map_err(|e| match e {
                    StoreError::NotFound => anyhow!("key {key} is not active"),
                    e => e.into(),
                })?;
            let secret = plain.expose().to_owned();
            (
                json.then(|| json!({ "old": KeyView::of(old, now), "key": KeyView::of(created, now), "secret": secret })),
                Some(secret),
            )
        }
        KeyCommand::Revoke { tenant, key, json } => {
            let (tenant, key) = resolve_key(&store, tenant.as_deref(), &key).await?;
            let revoked = store
                .revoke_key(tenant, key, cli_audit("key.revoke"))
                .await
                .map_err(|e| match e {
                    StoreError::NotFound => anyhow!("no key {key} in this tenant"),
                    e => e.into(),
                })?;
            (
                json.then(|| json!({ "key": KeyView::of(revoked, now) })),
                None,
            )
        }
    };
    match (value, secret) {
        (Some(v), _) => print_json(&v)?,
        (None, Some(s)) => println!("{s}\nThis key is shown once; store it now."),
        (None, None) => println!("revoked"),
    }
    store.close().await;
    Ok(())
}

async fn member(config: Config, cmd: MemberCommand) -> anyhow::Result<()> {
    let MemberCommand::Add {
        tenant,
        email,
        role,
        password_stdin,
        json,
    } = cmd;
    let email = Email::parse(&email).map_err(|e| anyhow!("--email {e}"))?;
    let role = Role::parse(&role).ok_or_else(|| anyhow!("bad --role"))?;
    let store = store(&config).await?;
    let tenant = resolve_tenant(&store, &tenant).await?;
    let given = match piped_password(password_stdin)? {
        Some(pw) => {
            password::check_strength(&pw).map_err(|e| anyhow!("password {e}"))?;
            Some(pw)
        }
        None if password_stdin => bail!("--password-stdin: standard input was empty"),
        None => None,
    };
    let existing = store.account_by_email(&email).await?;
    let (account, generated) = match existing {
        Some(account) => {
            if let Some(pw) = &given {
                let hash = password::hash(pw.clone()).await.map_err(|e| anyhow!(e))?;
                store.set_password(account.id, &hash).await?;
            }
            (account, None)
        }
        None => {
            let (pw, generated) = match given {
                Some(pw) => (pw, None),
                None => {
                    let pw = password::generate();
                    (pw.clone(), Some(pw))
                }
            };
            let hash = password::hash(pw).await.map_err(|e| anyhow!(e))?;
            (store.create_account(&email, &hash).await?, generated)
        }
    };
    store.put_membership(tenant, account.id, role).await?;
    if json {
        print_json(&json!({
            "account_id": account.id,
            "tenant_id": tenant,
            "email": email.as_str(),
            "role": role.as_str(),
            "password": generated,
        }))?;
    } else {
        println!("{} is {} of tenant {}", email, role.as_str(), tenant);
        if let Some(pw) = generated {
            println!("password: {pw}");
            println!("This password is shown once.");
        }
    }
    store.close().await;
    Ok(())
}

/// The password piped on standard input, if any. With `--password-stdin` stdin
/// is read to its end; without it, a piped stdin is read when it delivers within
/// two seconds (an empty or idle stdin means "generate one").
fn piped_password(required: bool) -> anyhow::Result<Option<String>> {
    if !required && std::io::stdin().is_terminal() {
        return Ok(None);
    }
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut text = String::new();
        let read = std::io::stdin().read_to_string(&mut text).map(|_| text);
        let _ = tx.send(read);
    });
    let text = if required {
        rx.recv().map_err(|e| anyhow!(e))?
    } else {
        match rx.recv_timeout(std::time::Duration::from_secs(2)) {
            Ok(r) => r,
            Err(_) => return Ok(None),
        }
    }
    .context("reading the password from standard input")?;
    let pw = text.trim_end_matches(['\n', '\r']).to_owned();
    Ok((!pw.is_empty()).then_some(pw))
}

const DEMO_EMAIL: &str = "demo@spotlight.local";
const DEMO_TENANT: &str = "Spotlight Demo";

async fn demo(mut config: Config, args: DemoArgs) -> anyhow::Result<()> {
    // A temporary directory lives as long as the demo; --data-dir keeps data.
    let temp;
    let data_dir = match args.data_dir {
        Some(d) => d,
        None => {
            temp = tempfile::Builder::new()
                .prefix("spotlight-demo-")
                .tempdir()?;
            temp.path().to_path_buf()
        }
    };
    if let Some(listen) = args.listen {
        config.http.listen = listen
            .parse()
            .map_err(|_| anyhow!("--listen {listen:?} is not an address like 127.0.0.1:8080"))?;
    }
    config.store.database_url = spotlight_store::sqlite_url_for_dir(&data_dir).into();
    config.store.data_dir = data_dir;
    config.store.migrate_on_start = true;

    let app = Application::build(config).await?;
    let addr = app.local_addr();
    let base = format!("http://{addr}");
    let store = app.state().store.clone();

    let origins = vec![base.clone(), format!("http://localhost:{}", addr.port())];
    let existing = store.tenants_named(DEMO_TENANT).await?;
    let (tenant_id, keys) = match existing.first() {
        None => {
            let t = provision(&store, DEMO_TENANT, &origins)
                .await
                .map_err(|e| anyhow!("creating the demo tenant: {e}"))?;
            let prod = t
                .environments
                .get("production")
                .map(|e| (e.publishable_key.clone(), e.secret_key.clone()));
            let env = store.environment_named(t.tenant_id, "production").await?;
            spotlight_server::demo::seed(&store, t.tenant_id, env.id)
                .await
                .map_err(|e| anyhow!("publishing the demo content: {e}"))?;
            (t.tenant_id, prod)
        }
        Some(t) => {
            // Keys are stored hashed: a rerun on the same data issues fresh ones.
            store.set_allowed_origins(t.id, &origins).await?;
            let env = store.environment_named(t.id, "production").await?;
            let (pk, pk_new) = new_key(KeyKind::Publishable, "demo");
            let (sk, sk_new) = new_key(KeyKind::Secret, "demo");
            store
                .create_key(t.id, env.id, pk_new, cli_audit("key.create"))
                .await?;
            store
                .create_key(t.id, env.id, sk_new, cli_audit("key.create"))
                .await?;
            (t.id, Some((pk.expose().to_owned(), sk.expose().to_owned())))
        }
    };
    let email = Email::parse(DEMO_EMAIL).map_err(|e| anyhow!(e))?;
    let pw = password::generate();
    let hash = password::hash(pw.clone()).await.map_err(|e| anyhow!(e))?;
    let account = match store.account_by_email(&email).await? {
        Some(a) => {
            store.set_password(a.id, &hash).await?;
            a
        }
        None => store.create_account(&email, &hash).await?,
    };
    store
        .put_membership(tenant_id, account.id, Role::Owner)
        .await?;

    let (pk, sk) = keys.unwrap_or_default();
    let _ = app.state().demo.set(pk.clone());
    let operator = app
        .state()
        .config
        .security
        .operator_token
        .expose_secret()
        .to_owned();
    let mut out = std::io::stdout().lock();
    writeln!(out, "Spotlight demo is running at {base}")?;
    writeln!(
        out,
        "  demo app:        {base}/demo/   (a tour, an announcement, a checklist, a survey)"
    )?;
    writeln!(out, "  dashboard:       {base}/app/")?;
    writeln!(
        out,
        "  login:           {DEMO_EMAIL} / {pw}   (POST {base}/v1/auth/login)"
    )?;
    writeln!(out, "  publishable key: {pk}")?;
    writeln!(out, "  secret key:      {sk}")?;
    writeln!(out, "  operator token:  {operator}")?;
    writeln!(
        out,
        "  API reference:   {base}/docs  (OpenAPI at {base}/openapi.json)"
    )?;
    writeln!(
        out,
        "  health:          {base}/readyz   metrics: {base}/metrics"
    )?;
    writeln!(out, "Press Ctrl-C to stop.")?;
    drop(out);
    if std::io::stdout().is_terminal() {
        let _ = std::io::stdout().flush();
    }
    app.run_until_stopped(shutdown_signal()).await?;
    Ok(())
}
