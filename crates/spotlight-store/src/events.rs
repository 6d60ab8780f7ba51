//! Event ingest: one transaction for a group of batches (group commit). New
//! events are told from resent ones by their id; only new ones change state:
//! profiles, event counts, progress, checklist items, rollups, experiment
//! exposures — and each environment's sinks get an outbox row in the same
//! transaction, so a committed event is always delivered and never half-written.
//!
//! Rows are written with multi-row statements in power-of-two chunks, so a few
//! prepared statements per table serve every batch size.
//!
//! The group is written in a [`Store::begin_write`] transaction: on an SQLite
//! file, synchronously on the caller's thread (the server's ingest writer has a
//! thread of its own).

use crate::write::{chunks, values, Cells, Col, Exec, V};
use crate::{Backend, Store, StoreError};
use serde_json::value::RawValue;
use spotlight_domain::events::Catalog;
use spotlight_domain::events::{Effects, Event, ProgressDelta};
use spotlight_domain::{EnvironmentId, TenantId};
use sqlx::Row;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

/// A sink of an environment, and the events it wants (empty: all).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SinkTarget {
    /// A webhook id, or `nats`.
    pub sink: String,
    pub events: Vec<String>,
}

impl SinkTarget {
    pub(crate) fn wants(&self, name: &str) -> bool {
        self.events.is_empty() || self.events.iter().any(|e| e == name || e == "*")
    }
}

/// One request's accepted events.
#[derive(Debug, Clone)]
pub struct IngestBatch {
    pub tenant: TenantId,
    pub environment: EnvironmentId,
    pub environment_name: String,
    pub events: Vec<Event>,
    pub catalog: Arc<Catalog>,
    pub sinks: Arc<Vec<SinkTarget>>,
    /// Each event as sinks receive it (JSON), made by the request that brought
    /// it rather than by the writer every request waits on; empty without sinks.
    wire: Vec<Box<RawValue>>,
}

impl IngestBatch {
    pub fn new(
        tenant: TenantId,
        environment: EnvironmentId,
        environment_name: String,
        events: Vec<Event>,
        catalog: Arc<Catalog>,
        sinks: Arc<Vec<SinkTarget>>,
    ) -> IngestBatch {
        let wire = if sinks.is_empty() {
            Vec::new()
        } else {
            events.iter().map(wire).collect()
        };
        IngestBatch {
            tenant,
            environment,
            environment_name,
            events,
            catalog,
            sinks,
            wire,
        }
    }
}

/// One event as a sink receives it.
fn wire(e: &Event) -> Box<RawValue> {
    #[derive(serde::Serialize)]
    struct Out<'a> {
        event_id: uuid::Uuid,
        name: &'a str,
        #[serde(skip_serializing_if = "str::is_empty")]
        user_id: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        account_id: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        session_id: Option<&'a str>,
        timestamp: String,
        schema_version: u64,
        properties: &'a RawValue,
    }
    // `properties_json` is what the event's properties serialise to.
    let fallback;
    let properties = match serde_json::from_str::<&RawValue>(&e.properties_json) {
        Ok(p) => p,
        Err(_) => {
            fallback = serde_json::value::to_raw_value(&e.properties)
                .unwrap_or_else(|_| RawValue::NULL.to_owned());
            &*fallback
        }
    };
    let out = Out {
        event_id: e.event_id,
        name: &e.name,
        user_id: &e.user_id,
        account_id: e.account_id.as_deref(),
        session_id: e.session_id.as_deref(),
        timestamp: spotlight_domain::Timestamp(e.occurred_at).to_rfc3339(),
        schema_version: e.schema_version,
        properties,
    };
    serde_json::value::to_raw_value(&out).unwrap_or_else(|_| RawValue::NULL.to_owned())
}

/// What became of one batch: the ids stored by this call (the rest were already
/// stored: resent).
#[derive(Debug, Clone, Default)]
pub struct Ingested {
    pub new: HashSet<uuid::Uuid>,
}

/// What [`insert_rows`] wants back.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Returning {
    Nothing,
    Rows,
}

/// Ingest moves an end user's last-seen time forward a minute or more at a
/// time: a batch within a minute of the stored time writes nothing (each write
/// rewrote the row and moved its entry in the last-seen index, on a random page
/// per user: under load a large share of what a commit wrote).
const END_USER_SEEN: &str = "ON CONFLICT (environment_id, user_id) DO UPDATE SET \
     last_seen = excluded.last_seen WHERE excluded.last_seen >= end_users.last_seen + 60000";

/// Runs `head VALUES (…), … tail` over `rows` in chunks (a handful of prepared
/// statements serve every batch size); returns the rows returned, as `returning`
/// (none: nothing is read back), and how many rows were written.
async fn insert_rows(
    backend: Backend,
    conn: &mut impl Exec,
    head: &str,
    tail: &str,
    rows: Vec<Vec<V>>,
    returning: &[Col],
) -> Result<(Vec<Vec<V>>, u64), StoreError> {
    let mut out = Vec::new();
    let mut written = 0;
    let width = rows.first().map_or(0, Vec::len);
    let mut rows = rows.into_iter();
    for size in chunks(rows.len()) {
        let sql = format!("{head} VALUES {} {tail}", values(size, width, backend));
        let args = rows.by_ref().take(size).flatten().collect();
        if returning.is_empty() {
            written += conn.run(&sql, args).await?;
        } else {
            let got = conn.rows(&sql, args, returning).await?;
            written += got.len() as u64;
            out.extend(got);
        }
    }
    Ok((out, written))
}

/// A new event, and the form its sinks receive.
type Kept<'a> = (&'a Event, &'a RawValue);

/// The body a sink receives for one delivery.
fn payload(id: &str, batch: &IngestBatch, events: &[Kept<'_>]) -> String {
    #[derive(serde::Serialize)]
    struct Body<'a> {
        delivery_id: &'a str,
        tenant_id: TenantId,
        environment: &'a str,
        events: Vec<&'a RawValue>,
    }
    let body = Body {
        delivery_id: id,
        tenant_id: batch.tenant,
        environment: &batch.environment_name,
        events: events.iter().map(|(_, w)| *w).collect(),
    };
    serde_json::to_string(&body).unwrap_or_default()
}

impl Store {
    /// Stores a group of batches in one transaction; see the module docs.
    ///
    /// Almost always every event is new: the group is first written on that
    /// assumption, and the events insert confirms it (on SQLite by the count of
    /// rows it wrote; on PostgreSQL by not failing on the key). If some were
    /// stored before (a resend), that transaction is rolled back and the group
    /// written again, learning from the insert which ones are new.
    ///
    /// On an SQLite file the statements run on the calling thread, which they
    /// block for the length of the transaction (a few milliseconds): call it
    /// from a thread that may block, as the server's ingest writer does.
    #[tracing::instrument(name = "store.ingest", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn ingest(&self, batches: &[IngestBatch]) -> Result<Vec<Ingested>, StoreError> {
        for returning in [Returning::Nothing, Returning::Rows] {
            let mut tx = self.begin_ingest_write().await?;
            if let Some(done) = self.ingest_as(&mut tx, batches, returning).await? {
                tx.commit().await?;
                return Ok(done);
            }
            tx.rollback().await?;
        }
        Err(StoreError::Corrupt(
            "ingest: new events not returned".into(),
        ))
    }

    /// One attempt of [`Store::ingest`] in `tx`; `None` when, told nothing back
    /// (`Returning::Nothing`), some events turn out to be resent: the caller
    /// then rolls back.
    async fn ingest_as(
        &self,
        tx: &mut impl Exec,
        batches: &[IngestBatch],
        returning: Returning,
    ) -> Result<Option<Vec<Ingested>>, StoreError> {
        let now = self.clock.now().millis();

        // 0. Users erased moments ago: what still arrives for them is dropped.
        let envs: Vec<String> = batches
            .iter()
            .map(|b| b.environment.to_string())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        crate::tombstones::lock_environments(self.backend, tx, &envs, false).await?;
        let users = batches.iter().flat_map(|b| {
            let env = b.environment.to_string();
            b.events
                .iter()
                .map(move |e| (env.clone(), e.user_id.clone()))
        });
        let erased = crate::tombstones::tombstones(self.backend, tx, users.collect()).await?;
        let dropped = |env: &str, e: &Event| {
            !erased.is_empty()
                && erased
                    .get(&(env.to_owned(), e.user_id.clone()))
                    .is_some_and(|at| crate::tombstones::before_erasure(e.occurred_at, *at))
        };

        // 1. The events; resent ones are skipped by their key.
        // In key order: concurrent writers (PostgreSQL) then take index locks in
        // the same order, so two groups resending the same events cannot deadlock.
        let mut keyed: Vec<(String, String, &IngestBatch, &Event)> = batches
            .iter()
            .flat_map(|b| {
                let env = b.environment.to_string();
                b.events
                    .iter()
                    .map(move |e| (env.clone(), e.event_id.to_string(), b, e))
            })
            .filter(|(env, _, _, e)| !dropped(env, e))
            .collect();
        keyed.sort_by(|x, y| (&x.0, &x.1).cmp(&(&y.0, &y.1)));
        let mut rows = Vec::with_capacity(keyed.len());
        {
            for (env, id, b, e) in keyed {
                let t = b.tenant.to_string();
                rows.push(vec![
                    V::T(env),
                    V::T(id),
                    V::T(t),
                    V::T(e.name.clone()),
                    V::T(e.user_id.clone()),
                    V::OT(e.session_id.clone()),
                    V::OT(e.object_id.clone()),
                    V::OI(e.step.map(i64::from)),
                    V::I(e.occurred_at),
                    V::I(now),
                    V::count(e.schema_version),
                    V::T(e.properties_json.clone()),
                    V::OT(e.account_id.clone()),
                ]);
            }
        }
        let expected = rows.len() as u64;
        let inserted = insert_rows(
            self.backend,
            tx,
            "INSERT INTO events (environment_id, event_id, tenant_id, name, user_id, session_id, \
             object_id, step, occurred_at, received_at, schema_version, properties, account_id)",
            match (returning, self.backend) {
                // For ON CONFLICT, PostgreSQL looks each row's key up before
                // inserting it (for events, a tenth of its time under
                // bench/events.sh): the first attempt inserts plainly, and a
                // resent event fails it.
                (Returning::Nothing, Backend::Postgres) => "",
                (Returning::Nothing, Backend::Sqlite) => {
                    "ON CONFLICT (environment_id, event_id) DO NOTHING"
                }
                (Returning::Rows, _) => {
                    "ON CONFLICT (environment_id, event_id) DO NOTHING \
                     RETURNING environment_id, event_id"
                }
            },
            rows,
            match returning {
                Returning::Nothing => &[],
                Returning::Rows => &[Col::Text, Col::Text],
            },
        )
        .await;
        let (inserted, written) = match inserted {
            Err(e) if returning == Returning::Nothing && e.is_conflict_on("events_pkey") => {
                return Ok(None);
            }
            other => other?,
        };
        // `None`: every one is new.
        let mut new: Option<HashSet<(String, String)>> = match returning {
            Returning::Nothing if written != expected => {
                // Some were here already: which ones, the insert must tell.
                return Ok(None);
            }
            Returning::Nothing => None,
            Returning::Rows => {
                let mut new = HashSet::with_capacity(inserted.len());
                for r in inserted {
                    let mut r = Cells::of(r);
                    new.insert((r.text()?, r.text()?));
                }
                Some(new)
            }
        };

        // 2. Per batch, the events that are new (first occurrence only).
        let mut outcomes = Vec::with_capacity(batches.len());
        let mut by_env: BTreeMap<String, (&IngestBatch, Vec<Kept<'_>>)> = BTreeMap::new();
        let none = RawValue::NULL;
        for b in batches {
            let env = b.environment.to_string();
            let mut ingested = Ingested::default();
            let mut kept = Vec::with_capacity(b.events.len());
            for (n, e) in b.events.iter().enumerate() {
                if dropped(&env, e) {
                    continue;
                }
                let is_new = match &mut new {
                    None => true,
                    Some(new) => new.remove(&(env.clone(), e.event_id.to_string())),
                };
                if is_new {
                    ingested.new.insert(e.event_id);
                    kept.push((e, b.wire.get(n).map_or(none, |w| &**w)));
                }
            }
            by_env.entry(env).or_insert((b, Vec::new())).1.extend(kept);
            outcomes.push(ingested);
        }

        // 3. What they change, and the outbox.
        let (mut outbox, mut payloads) = (Vec::new(), Vec::new());
        for (env, (first, events)) in &by_env {
            let tenant = first.tenant.to_string();
            let fx = Effects::of(events.iter().map(|(e, _)| *e), &first.catalog);
            self.apply_effects(tx, &tenant, env, fx, now).await?;
            for sink in first.sinks.iter() {
                let wanted: Vec<Kept<'_>> = events
                    .iter()
                    .copied()
                    .filter(|(e, _)| sink.wants(&e.name))
                    .collect();
                for part in wanted.chunks(500) {
                    let id = uuid::Uuid::now_v7().to_string();
                    payloads.push(vec![V::T(id.clone()), V::T(payload(&id, first, part))]);
                    outbox.push(vec![
                        V::T(id),
                        V::T(tenant.clone()),
                        V::T(env.clone()),
                        V::T(sink.sink.clone()),
                        V::count(part.len() as u64),
                        V::I(now),
                        V::I(now),
                    ]);
                }
            }
        }
        insert_rows(
            self.backend,
            tx,
            "INSERT INTO outbox (id, tenant_id, environment_id, sink, event_count, \
             next_attempt_at, created_at)",
            "",
            outbox,
            &[],
        )
        .await?;
        insert_rows(
            self.backend,
            tx,
            "INSERT INTO outbox_payloads (outbox_id, payload)",
            "",
            payloads,
            &[],
        )
        .await?;
        Ok(Some(outcomes))
    }

    async fn apply_effects(
        &self,
        conn: &mut impl Exec,
        tenant: &str,
        env: &str,
        fx: Effects,
        now: i64,
    ) -> Result<(), StoreError> {
        let t = || V::T(tenant.to_owned());
        let e = || V::T(env.to_owned());
        let users = fx
            .users
            .iter()
            .map(|(u, (first, last))| vec![e(), V::T(u.clone()), t(), V::I(*first), V::I(*last)])
            .collect();
        insert_rows(
            self.backend,
            conn,
            "INSERT INTO end_users (environment_id, user_id, tenant_id, first_seen, last_seen)",
            END_USER_SEEN,
            users,
            &[],
        )
        .await?;
        let counts = fx
            .counts
            .iter()
            .map(|((u, name), (n, last))| {
                vec![
                    e(),
                    V::T(u.clone()),
                    V::T(name.clone()),
                    t(),
                    V::count(*n),
                    V::I(*last),
                ]
            })
            .collect();
        insert_rows(
            self.backend,
            conn,
            "INSERT INTO user_event_counts (environment_id, user_id, event, tenant_id, count, last_at)",
            "ON CONFLICT (environment_id, user_id, event) DO UPDATE SET \
             count = user_event_counts.count + excluded.count, last_at = \
             CASE WHEN excluded.last_at > user_event_counts.last_at THEN excluded.last_at \
             ELSE user_event_counts.last_at END",
            counts,
            &[],
        )
        .await?;
        let mut with_items = Vec::new();
        let progress = fx
            .progress
            .iter()
            .map(|((u, object), p)| {
                if !p.items.is_empty() {
                    with_items.push((u, object, p));
                }
                vec![
                    e(),
                    V::T(u.clone()),
                    V::T(object.clone()),
                    t(),
                    V::I(i64::from(p.shown)),
                    V::OI(p.last_shown),
                    V::OT(p.last_session.clone()),
                    V::OI(p.step_reached.map(i64::from)),
                    V::OI(p.started),
                    V::OI(p.completed),
                    V::OI(p.dismissed),
                    V::I(now),
                ]
            })
            .collect();
        insert_rows(
            self.backend,
            conn,
            "INSERT INTO user_progress (environment_id, user_id, object_id, tenant_id, times_shown, \
             last_shown_at, last_session, step_reached, started_at, completed_at, dismissed_at, updated_at)",
            "ON CONFLICT (environment_id, user_id, object_id) DO UPDATE SET \
             times_shown = user_progress.times_shown + excluded.times_shown, \
             last_session = CASE WHEN excluded.last_shown_at IS NOT NULL AND \
               (user_progress.last_shown_at IS NULL OR excluded.last_shown_at >= user_progress.last_shown_at) \
               THEN excluded.last_session ELSE user_progress.last_session END, \
             last_shown_at = CASE WHEN excluded.last_shown_at IS NOT NULL AND \
               (user_progress.last_shown_at IS NULL OR excluded.last_shown_at >= user_progress.last_shown_at) \
               THEN excluded.last_shown_at ELSE user_progress.last_shown_at END, \
             step_reached = CASE WHEN excluded.step_reached IS NOT NULL AND \
               (user_progress.step_reached IS NULL OR excluded.step_reached > user_progress.step_reached) \
               THEN excluded.step_reached ELSE user_progress.step_reached END, \
             started_at = COALESCE(user_progress.started_at, excluded.started_at), \
             completed_at = COALESCE(user_progress.completed_at, excluded.completed_at), \
             dismissed_at = COALESCE(user_progress.dismissed_at, excluded.dismissed_at), \
             updated_at = excluded.updated_at",
            progress,
            &[],
        )
        .await?;
        for (u, object, p) in with_items {
            self.merge_items(conn, env, u, object, p, now).await?;
        }
        let rollups = fx
            .rollups
            .iter()
            .map(|(k, n)| {
                vec![
                    e(),
                    V::T(k.grain.as_str().to_owned()),
                    V::I(k.bucket),
                    V::T(k.object_id.clone()),
                    V::I(k.step),
                    V::T(k.event.clone()),
                    V::T(k.detail.clone()),
                    t(),
                    V::count(*n),
                ]
            })
            .collect();
        insert_rows(
            self.backend,
            conn,
            "INSERT INTO rollups (environment_id, grain, bucket, object_id, step, event, detail, tenant_id, count)",
            "ON CONFLICT (environment_id, grain, bucket, object_id, step, event, detail) \
             DO UPDATE SET count = rollups.count + excluded.count",
            rollups,
            &[],
        )
        .await?;
        let uniques = fx
            .uniques
            .iter()
            .map(|(day, object, u)| {
                vec![e(), V::I(*day), V::T(object.clone()), V::T(u.clone()), t()]
            })
            .collect();
        insert_rows(
            self.backend,
            conn,
            "INSERT INTO rollup_users (environment_id, day, object_id, user_id, tenant_id)",
            "ON CONFLICT (environment_id, day, object_id, user_id) DO NOTHING",
            uniques,
            &[],
        )
        .await?;
        let exposures = fx
            .exposures
            .iter()
            .map(|((object, u), (arm, at))| {
                vec![
                    e(),
                    V::T(object.clone()),
                    V::T(u.clone()),
                    t(),
                    V::T(arm.clone()),
                    V::I(*at),
                ]
            })
            .collect();
        insert_rows(
            self.backend,
            conn,
            "INSERT INTO experiment_exposures (environment_id, object_id, user_id, tenant_id, arm, exposed_at)",
            "ON CONFLICT (environment_id, object_id, user_id) DO NOTHING",
            exposures,
            &[],
        )
        .await?;
        for ((object, u), at) in &fx.conversions {
            conn.run(
                "UPDATE experiment_exposures SET converted_at = $1 WHERE environment_id = $2 \
                 AND object_id = $3 AND user_id = $4 AND converted_at IS NULL AND exposed_at <= $1",
                vec![V::I(*at), e(), V::T(object.clone()), V::T(u.clone())],
            )
            .await?;
        }
        for (u, attrs) in &fx.identities {
            self.merge_identity(conn, env, u, attrs).await?;
        }
        if !fx.accounts.is_empty() {
            self.apply_account_effects(conn, tenant, env, &fx).await?;
        }
        Ok(())
    }

    /// What events sent for accounts change: the accounts (made known),
    /// who their events came from, their event counts, what they were shown,
    /// and their daily rollups and users.
    async fn apply_account_effects(
        &self,
        conn: &mut impl Exec,
        tenant: &str,
        env: &str,
        fx: &Effects,
    ) -> Result<(), StoreError> {
        let t = || V::T(tenant.to_owned());
        let e = || V::T(env.to_owned());
        let accounts = fx
            .accounts
            .iter()
            .map(|(a, (first, last))| {
                vec![
                    e(),
                    V::T(a.clone()),
                    t(),
                    V::T("{}".into()),
                    V::I(*first),
                    V::I(*last),
                ]
            })
            .collect();
        insert_rows(
            self.backend,
            conn,
            "INSERT INTO account_profiles (environment_id, account_id, tenant_id, attributes, first_seen, last_seen)",
            "ON CONFLICT (environment_id, account_id) DO NOTHING",
            accounts,
            &[],
        )
        .await?;
        let members = fx
            .account_members
            .iter()
            .map(|((a, u), at)| {
                vec![
                    e(),
                    V::T(a.clone()),
                    V::T(u.clone()),
                    t(),
                    V::I(*at),
                    V::I(*at),
                ]
            })
            .collect();
        insert_rows(
            self.backend,
            conn,
            "INSERT INTO account_members (environment_id, account_id, user_id, tenant_id, joined_at, last_seen)",
            "ON CONFLICT (environment_id, account_id, user_id) DO NOTHING",
            members,
            &[],
        )
        .await?;
        let counts = fx
            .account_counts
            .iter()
            .map(|((a, name), (n, last))| {
                vec![
                    e(),
                    V::T(a.clone()),
                    V::T(name.clone()),
                    t(),
                    V::count(*n),
                    V::I(*last),
                ]
            })
            .collect();
        insert_rows(
            self.backend,
            conn,
            "INSERT INTO account_event_counts (environment_id, account_id, event, tenant_id, count, last_at)",
            "ON CONFLICT (environment_id, account_id, event) DO UPDATE SET \
             count = account_event_counts.count + excluded.count, last_at = \
             CASE WHEN excluded.last_at > account_event_counts.last_at THEN excluded.last_at \
             ELSE account_event_counts.last_at END",
            counts,
            &[],
        )
        .await?;
        let shown = fx
            .account_shown
            .iter()
            .map(|((a, object), (n, last))| {
                vec![
                    e(),
                    V::T(a.clone()),
                    V::T(object.clone()),
                    t(),
                    V::I(i64::from(*n)),
                    V::I(*last),
                ]
            })
            .collect();
        insert_rows(
            self.backend,
            conn,
            "INSERT INTO account_progress (environment_id, account_id, object_id, tenant_id, times_shown, last_shown_at)",
            "ON CONFLICT (environment_id, account_id, object_id) DO UPDATE SET \
             times_shown = account_progress.times_shown + excluded.times_shown, last_shown_at = \
             CASE WHEN excluded.last_shown_at > account_progress.last_shown_at \
             THEN excluded.last_shown_at ELSE account_progress.last_shown_at END",
            shown,
            &[],
        )
        .await?;
        let rollups = fx
            .account_rollups
            .iter()
            .map(|((a, k), n)| {
                vec![
                    e(),
                    V::T(a.clone()),
                    V::I(k.bucket),
                    V::T(k.object_id.clone()),
                    V::I(k.step),
                    V::T(k.event.clone()),
                    V::T(k.detail.clone()),
                    t(),
                    V::count(*n),
                ]
            })
            .collect();
        insert_rows(
            self.backend,
            conn,
            "INSERT INTO account_rollups (environment_id, account_id, bucket, object_id, step, event, detail, tenant_id, count)",
            "ON CONFLICT (environment_id, account_id, bucket, object_id, step, event, detail) \
             DO UPDATE SET count = account_rollups.count + excluded.count",
            rollups,
            &[],
        )
        .await?;
        let uniques = fx
            .account_uniques
            .iter()
            .map(|(a, day, object, u)| {
                vec![
                    e(),
                    V::T(a.clone()),
                    V::I(*day),
                    V::T(object.clone()),
                    V::T(u.clone()),
                    t(),
                ]
            })
            .collect();
        insert_rows(
            self.backend,
            conn,
            "INSERT INTO account_rollup_users (environment_id, account_id, day, object_id, user_id, tenant_id)",
            "ON CONFLICT (environment_id, account_id, day, object_id, user_id) DO NOTHING",
            uniques,
            &[],
        )
        .await?;
        Ok(())
    }

    fn for_update(&self) -> &'static str {
        match self.backend {
            Backend::Postgres => " FOR UPDATE",
            Backend::Sqlite => "",
        }
    }

    /// Adds checklist items to a user's progress; completes the checklist when
    /// every item is done.
    async fn merge_items(
        &self,
        conn: &mut impl Exec,
        env: &str,
        user: &str,
        object: &str,
        p: &ProgressDelta,
        now: i64,
    ) -> Result<(), StoreError> {
        let sql = format!(
            "SELECT items_completed FROM user_progress WHERE environment_id = $1 AND user_id = $2 \
             AND object_id = $3{}",
            self.for_update()
        );
        let key = || {
            vec![
                V::T(env.to_owned()),
                V::T(user.to_owned()),
                V::T(object.to_owned()),
            ]
        };
        let current = match conn.rows(&sql, key(), &[Col::Text]).await?.pop() {
            Some(row) => Cells::of(row).opt_text()?,
            None => None,
        };
        let mut items: Vec<String> = current
            .and_then(|c| serde_json::from_str(&c).ok())
            .unwrap_or_default();
        for item in &p.items {
            if !items.contains(item) {
                items.push(item.clone());
            }
        }
        let done = p
            .all_items
            .as_ref()
            .is_some_and(|all| !all.is_empty() && all.iter().all(|i| items.contains(i)));
        let json = serde_json::to_string(&items).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let mut args = vec![V::T(json), V::I(i64::from(done)), V::I(now)];
        args.extend(key());
        conn.run(
            "UPDATE user_progress SET items_completed = $1, \
             completed_at = CASE WHEN $2 = 1 THEN COALESCE(completed_at, $3) ELSE completed_at END \
             WHERE environment_id = $4 AND user_id = $5 AND object_id = $6",
            args,
        )
        .await?;
        Ok(())
    }

    /// `identify` attributes: merged into the profile; claims of a verified profile
    /// are kept.
    async fn merge_identity(
        &self,
        conn: &mut impl Exec,
        env: &str,
        user: &str,
        attrs: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<(), StoreError> {
        let sql = format!(
            "SELECT attributes, verified FROM end_users WHERE environment_id = $1 AND user_id = $2{}",
            self.for_update()
        );
        let key = || vec![V::T(env.to_owned()), V::T(user.to_owned())];
        let Some(row) = conn
            .rows(&sql, key(), &[Col::Text, Col::Int])
            .await?
            .into_iter()
            .next()
        else {
            return Ok(());
        };
        let mut row = Cells::of(row);
        let mut current: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(&row.text()?).unwrap_or_default();
        let verified = row.int()? != 0;
        for (k, v) in attrs {
            if !(verified && current.contains_key(k)) {
                current.insert(k.clone(), v.clone());
            }
        }
        if current.len() > spotlight_domain::end_user::MAX_ATTRIBUTES {
            return Ok(());
        }
        let mut args = vec![V::T(serde_json::Value::Object(current).to_string())];
        args.extend(key());
        conn.run(
            "UPDATE end_users SET attributes = $1 WHERE environment_id = $2 AND user_id = $3",
            args,
        )
        .await?;
        Ok(())
    }

    /// Which of these objects exist for the tenant (drafts included), by kind.
    #[tracing::instrument(name = "store.existing_objects", level = "debug", skip_all, fields(otel.kind = "client"))]
    pub async fn existing_objects(
        &self,
        tenant: TenantId,
        ids: &[String],
    ) -> Result<HashMap<String, String>, StoreError> {
        let mut out = HashMap::new();
        for chunk in ids.chunks(100) {
            let list = (0..chunk.len())
                .map(|i| format!("${}", i + 2))
                .collect::<Vec<_>>()
                .join(", ");
            let sql =
                format!("SELECT id, kind FROM objects WHERE tenant_id = $1 AND id IN ({list})");
            let mut q = sqlx::query(&sql).bind(tenant.to_string());
            for id in chunk {
                q = q.bind(id);
            }
            for r in q.fetch_all(&self.read).await? {
                out.insert(r.try_get(0)?, r.try_get(1)?);
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_are_powers_of_two() {
        assert_eq!(chunks(0), Vec::<usize>::new());
        assert_eq!(chunks(1), vec![1]);
        assert_eq!(chunks(7), vec![4, 2, 1]);
        assert_eq!(chunks(600), vec![256, 256, 64, 16, 8]);
    }

    #[test]
    fn values_numbers_placeholders() {
        assert_eq!(values(2, 2, Backend::Postgres), "($1, $2), ($3, $4)");
        assert_eq!(values(2, 2, Backend::Sqlite), "(?, ?), (?, ?)");
    }
}
