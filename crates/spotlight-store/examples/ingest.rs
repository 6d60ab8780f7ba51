//! The store's side of event ingest alone (no HTTP): groups of batches of 20
//! events, as the server's group commit hands them over, written one group at a
//! time; prints events/s and the median and p99 time of one group.
//! Usage: cargo run --release -p spotlight-store --example ingest -- [URL] [groups] [batches per group]
#![allow(clippy::print_stdout)] // a benchmark: its figures are its output

use serde_json::json;
use spotlight_domain::events::{parse_event, Catalog, ParseContext};
use spotlight_domain::{Clock, EnvironmentId, EnvironmentName, SystemClock, TenantId, TenantName};
use spotlight_store::{IngestBatch, NewEnvironment, NewTenant, SinkTarget, Store, StoreOptions};
use std::sync::Arc;
use std::time::Instant;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let dir = tempfile::tempdir()?;
    let url = args
        .get(1)
        .filter(|a| !a.is_empty())
        .cloned()
        .unwrap_or_else(|| format!("sqlite://{}", dir.path().join("bench.db").display()));
    let groups: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(200);
    let per_group: usize = args.get(3).and_then(|a| a.parse().ok()).unwrap_or(32);
    let store = Store::connect(&url, &StoreOptions::default(), Arc::new(SystemClock)).await?;
    store.migrate().await?;
    let (tenant, env) = (TenantId::new_v7(), EnvironmentId::new_v7());
    store
        .create_tenant(NewTenant {
            id: tenant,
            name: TenantName::parse("Bench")?,
            allowed_origins: vec![],
            environments: vec![NewEnvironment {
                id: env,
                name: EnvironmentName::parse("production")?,
                keys: vec![],
            }],
        })
        .await?;
    let sinks = Arc::new(vec![SinkTarget {
        sink: "hook".into(),
        events: vec![],
    }]);
    let catalog = Arc::new(Catalog::default());
    let now = SystemClock.now().millis();
    let names = ["page_view", "click", "export", "search", "invite"];
    let mut times = Vec::with_capacity(groups);
    let started = Instant::now();
    for g in 0..groups {
        let batches = (0..per_group)
            .map(|b| {
                let user = format!("user-{}", (g * per_group + b) * 7919 % 10_000);
                let cx = ParseContext { now_millis: now, default_user: Some(&user), default_account: None, account_only: false };
                let events = (0..20)
                    .map(|n| {
                        let v = json!({"event_id": uuid::Uuid::now_v7().to_string(), "schema_version": 1,
                            "name": names[n % 5], "timestamp": now, "properties": {"n": n, "page": format!("/app/{n}")}});
                        parse_event(n, &v, &cx).map_err(|r| r.message)
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(IngestBatch::new(tenant, env, "production".into(), events, catalog.clone(), sinks.clone()))
            })
            .collect::<Result<Vec<_>, String>>()?;
        let t = Instant::now();
        store.ingest(&batches).await?;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let total = started.elapsed().as_secs_f64();
    let in_store: f64 = times.iter().sum::<f64>() / 1000.0;
    times.sort_by(f64::total_cmp);
    let events = (groups * per_group * 20) as f64;
    println!(
        "{groups} groups of {} events: {:.0} events/s in the store ({:.0} with making the batches), \
         group median {:.2} ms, p99 {:.2} ms",
        per_group * 20,
        events / in_store,
        events / total,
        times[times.len() / 2],
        times[times.len() * 99 / 100]
    );
    // Bytes this process wrote (the WAL and checkpoints), where the OS tells.
    if let Ok(io) = std::fs::read_to_string("/proc/self/io") {
        if let Some(w) = io.lines().find_map(|l| l.strip_prefix("wchar: ")) {
            let w: f64 = w.trim().parse().unwrap_or(0.0);
            println!("written: {:.0} bytes per event", w / events);
        }
    }
    Ok(())
}
