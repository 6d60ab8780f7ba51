//! The SDK path's data, each behind a bounded cache ([`Caches`]): API keys,
//! per-tenant views (settings, origins, verification keys, event sinks),
//! per-environment bundles of published documents prepared for evaluation,
//! end-user state, and recent config answers by request.

use crate::cache::{CacheSettings, Cached, Unavailable, Weigh};
use crate::identity::Verifier;
use crate::metrics::Metrics;
use crate::secrets::SecretBox;
use moka::sync::Cache as SyncCache;
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use spotlight_domain::audience::{self, Expr};
use spotlight_domain::audience_doc::{Audience, Theme};
use spotlight_domain::content::{Checklist, Content, Launcher};
use spotlight_domain::delivery::{
    localize_checklist, localize_content, localize_tour, pick_locale, Doc, Prepared,
};
use spotlight_domain::events::Catalog;
use spotlight_domain::settings::TenantSettings;
use spotlight_domain::tour::Tour;
use spotlight_domain::{AllowedOrigin, Clock, EnvironmentId, KeyHash, ObjectKind, TenantId};
use spotlight_pipeline::relay::NATS_SINK;
use spotlight_store::{
    AccountState, AuthKey, Backend, BundleRow, Generations, SinkTarget, Store, StoreError,
    UserState,
};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// A tenant's settings as the SDK path uses them.
pub struct TenantView {
    pub tenant_id: TenantId,
    pub settings: TenantSettings,
    pub origins: Vec<AllowedOrigin>,
    /// By environment name.
    pub verifiers: HashMap<String, Verifier>,
    /// Where each environment's events go (webhooks, NATS).
    sinks: HashMap<EnvironmentId, Arc<Vec<SinkTarget>>>,
    /// Environments without webhooks: NATS only, or nothing.
    default_sinks: Arc<Vec<SinkTarget>>,
    bytes: usize,
}

impl TenantView {
    pub fn sinks(&self, env: EnvironmentId) -> Arc<Vec<SinkTarget>> {
        self.sinks.get(&env).unwrap_or(&self.default_sinks).clone()
    }
}

impl Weigh for TenantView {
    fn weigh(&self) -> usize {
        self.bytes
    }
}

impl Weigh for AuthKey {
    fn weigh(&self) -> usize {
        256
    }
}

impl Weigh for AccountState {
    fn weigh(&self) -> usize {
        let attrs: usize = self
            .attributes
            .iter()
            .map(|(k, v)| k.len() + v.to_string().len())
            .sum();
        96 + attrs + self.event_counts.len() * 48
    }
}

impl Weigh for UserState {
    fn weigh(&self) -> usize {
        let attrs: usize = self
            .attributes
            .iter()
            .map(|(k, v)| k.len() + v.to_string().len())
            .sum();
        128 + attrs + self.event_counts.len() * 48 + self.progress.len() * 160
    }
}

/// One published document, evaluated and rendered for the SDK.
pub struct Item {
    pub prepared: Prepared,
    pub kind: ObjectKind,
    /// The default-locale document as the SDK receives it.
    pub rendered: Box<RawValue>,
    /// The same in each locale the document has a variant for.
    pub localized: std::collections::BTreeMap<String, Box<RawValue>>,
}

/// Everything an environment delivers, prepared once per change.
pub struct Bundle {
    pub items: Vec<Item>,
    /// What events may refer to.
    pub catalog: Arc<Catalog>,
    pub audiences: HashMap<String, Expr>,
    pub themes: HashMap<String, Box<RawValue>>,
    /// Identifies the bundle's content (same on every node for the same data).
    pub stamp: [u8; 32],
    bytes: usize,
}

impl Weigh for Bundle {
    fn weigh(&self) -> usize {
        self.bytes
    }
}

/// Fields end users never receive: targeting stays on the server.
const PRIVATE_FIELDS: &[&str] = &[
    "audience",
    "audience_id",
    "schedule",
    "locales",
    "experiment",
];

pub fn render_public<T: serde::Serialize>(doc: &T) -> Option<Box<RawValue>> {
    let mut v = serde_json::to_value(doc).ok()?;
    if let Value::Object(m) = &mut v {
        for f in PRIVATE_FIELDS {
            m.remove(*f);
        }
    }
    serde_json::value::to_raw_value(&v).ok()
}

impl Item {
    /// The document in the viewer's locale (exact, then language, then default).
    pub fn render(&self, locale: Option<&str>) -> &RawValue {
        pick_locale(&self.localized, locale).unwrap_or(&self.rendered)
    }
}

fn render_locales(doc: &Doc) -> std::collections::BTreeMap<String, Box<RawValue>> {
    let locales: Vec<&String> = match doc {
        Doc::Tour(t) => t.locales.keys().collect(),
        Doc::Content(c) => c.locales.keys().collect(),
        Doc::Checklist(c) => c.locales.keys().collect(),
        _ => vec![],
    };
    locales
        .into_iter()
        .filter_map(|l| {
            let raw = match doc {
                Doc::Tour(t) => render_public(&localize_tour(t, Some(l))),
                Doc::Content(c) => render_public(&localize_content(c, Some(l))),
                Doc::Checklist(c) => render_public(&localize_checklist(c, Some(l))),
                _ => None,
            }?;
            Some((l.clone(), raw))
        })
        .collect()
}

pub fn build_bundle(rows: &[BundleRow], settings: &TenantSettings) -> Bundle {
    let mut hasher = Sha256::new();
    if let Ok(s) = serde_json::to_vec(settings) {
        hasher.update(&s);
    }
    let mut bundle = Bundle {
        items: Vec::new(),
        catalog: Arc::default(),
        audiences: HashMap::new(),
        themes: HashMap::new(),
        stamp: [0; 32],
        bytes: 0,
    };
    for row in rows {
        hasher.update(row.id.as_bytes());
        hasher.update(row.version.to_be_bytes());
        hasher.update([u8::from(row.kill_switch)]);
        if row.version == 0 {
            // Served from a draft: its content is what identifies it.
            hasher.update(row.document.as_bytes());
        }
        bundle.bytes += row.document.len() * 3 + 256;
        let doc = match row.kind {
            ObjectKind::Tour => serde_json::from_str::<Tour>(&row.document).map(Doc::Tour),
            ObjectKind::Content => serde_json::from_str::<Content>(&row.document).map(Doc::Content),
            ObjectKind::Checklist => {
                serde_json::from_str::<Checklist>(&row.document).map(Doc::Checklist)
            }
            ObjectKind::Launcher => {
                serde_json::from_str::<Launcher>(&row.document).map(Doc::Launcher)
            }
            ObjectKind::Audience => {
                match serde_json::from_str::<Audience>(&row.document)
                    .ok()
                    .and_then(|a| audience::parse(&a.rule).ok())
                {
                    Some(expr) => {
                        bundle.audiences.insert(row.id.clone(), expr);
                    }
                    None => tracing::warn!(id = %row.id, "stored audience does not parse"),
                }
                continue;
            }
            ObjectKind::Theme => {
                match serde_json::from_str::<Theme>(&row.document)
                    .ok()
                    .and_then(|t| render_public(&t))
                {
                    Some(raw) => {
                        bundle.themes.insert(row.id.clone(), raw);
                    }
                    None => tracing::warn!(id = %row.id, "stored theme does not parse"),
                }
                continue;
            }
        };
        let doc = match doc {
            Ok(d) => d,
            Err(e) => {
                tracing::warn!(id = %row.id, error = %e, "stored document does not parse; not delivered");
                continue;
            }
        };
        let rendered = match &doc {
            Doc::Tour(t) => render_public(t),
            Doc::Content(c) => render_public(c),
            Doc::Checklist(c) => render_public(c),
            Doc::Launcher(l) => render_public(l),
        };
        let Some(rendered) = rendered else { continue };
        let localized = render_locales(&doc);
        bundle.bytes += localized.values().map(|r| r.get().len()).sum::<usize>();
        bundle.items.push(Item {
            localized,
            prepared: Prepared::new(row.id.clone(), row.version, row.kill_switch, doc),
            kind: row.kind,
            rendered,
        });
    }
    let mut catalog = Catalog::default();
    for item in &bundle.items {
        let id = &item.prepared.id;
        match &item.prepared.doc {
            Doc::Tour(t) => catalog.add_tour(id, t),
            Doc::Content(c) => catalog.add_content(id, c.experiment.as_ref()),
            Doc::Checklist(c) => catalog.add_checklist(id, c),
            Doc::Launcher(_) => catalog.add_launcher(id),
        }
    }
    bundle.catalog = Arc::new(catalog);
    bundle.stamp = hasher.finalize().into();
    bundle
}

/// What a config answer depended on: valid while the tenant's generation and
/// the user's cached state are the ones it was computed from, for a few seconds
/// at most (schedules and day-based rules move with time).
pub struct EtagMemo {
    pub etag: String,
    pub generation: u64,
    pub user_id: String,
    pub user: Arc<UserState>,
    /// The account the answer was evaluated with, as then cached.
    pub account: Option<(String, Arc<AccountState>)>,
    pub valid_until: i64,
}

/// How long a memoised answer may stand in for evaluation.
pub const ETAG_MEMO_MS: i64 = 5_000;

/// The caches behind `GET /v1/sdk/config`, event ingest and API-key
/// authentication. Each is invalidated by the store's generations (bumped by
/// every change, on every node) and bounded in bytes; with the store down they
/// serve what they hold for `cache_max_stale`.
pub struct Caches {
    store: Store,
    secrets: Arc<SecretBox>,
    pub generations: Arc<Generations>,
    pub keys: Cached<KeyHash, AuthKey>,
    pub tenants: Cached<TenantId, TenantView>,
    pub bundles: Cached<EnvironmentId, Bundle>,
    pub users: Cached<(EnvironmentId, String), UserState>,
    /// B2B accounts, as rules read them.
    pub accounts: Cached<(EnvironmentId, String), AccountState>,
    /// Recent config answers by request, so a revalidation that would get the
    /// same ETag is answered 304 without evaluating again (see routes::sdk).
    pub answers: SyncCache<u64, Arc<EtagMemo>, crate::cache::KeyHasher>,
    /// Seeds the keys of `answers`.
    pub answer_seed: crate::cache::KeyHasher,
    /// Whether events also go to NATS JetStream (part of each tenant's sinks).
    nats: bool,
}

impl Caches {
    pub fn new(
        store: &Store,
        secrets: Arc<SecretBox>,
        clock: Arc<dyn Clock>,
        metrics: Arc<Metrics>,
        max_stale: Duration,
        nats: bool,
    ) -> Caches {
        let settings = |fresh: Duration, max_bytes: u64| CacheSettings {
            fresh,
            max_stale,
            max_bytes,
            stale_while_refreshing: true,
        };
        // Another process (the CLI) may revoke a key in SQLite without telling us:
        // there a cached key is rechecked (in the background) twice a second, so
        // a revocation lands within a second. PostgreSQL notifies every node.
        let key_fresh = match store.backend() {
            Backend::Sqlite => Duration::from_millis(500),
            Backend::Postgres => Duration::from_secs(60),
        };
        let minute = Duration::from_secs(60);
        // (A macro: each cache has its own key and value types.)
        macro_rules! cache {
            ($name:expr, $fresh:expr, $max_bytes:expr) => {
                Cached::new(
                    $name,
                    settings($fresh, $max_bytes),
                    clock.clone(),
                    metrics.clone(),
                )
            };
        }
        Caches {
            store: store.clone(),
            secrets,
            generations: store.generations().clone(),
            keys: cache!("keys", key_fresh, 8 << 20),
            tenants: cache!("tenant_settings", minute, 32 << 20),
            bundles: cache!("bundles", minute, 256 << 20),
            users: cache!("end_users", minute, 128 << 20),
            accounts: cache!("accounts", minute, 32 << 20),
            answers: SyncCache::builder()
                .max_capacity(200_000)
                .time_to_live(Duration::from_secs(10))
                .build_with_hasher(crate::cache::KeyHasher::default()),
            answer_seed: crate::cache::KeyHasher::default(),
            nats,
        }
    }

    pub async fn key(&self, hash: &KeyHash) -> Result<Option<Arc<AuthKey>>, Unavailable> {
        self.keys
            .get(hash.clone(), self.generations.any(), || {
                let (store, h) = (self.store.clone(), hash.clone());
                async move { store.key_by_hash(&h).await }
            })
            .await
    }

    pub async fn tenant(&self, tenant: TenantId) -> Result<Option<Arc<TenantView>>, Unavailable> {
        self.tenant_at(tenant, self.generations.tenant(tenant))
            .await
    }

    /// The tenant's view as of `generation` (read by the caller beforehand);
    /// `None`: no such tenant.
    pub async fn tenant_at(
        &self,
        tenant: TenantId,
        generation: u64,
    ) -> Result<Option<Arc<TenantView>>, Unavailable> {
        self.tenants
            .get(tenant, generation, || {
                let (store, secrets, nats) = (self.store.clone(), self.secrets.clone(), self.nats);
                async move { load_view(&store, &secrets, tenant, nats).await }
            })
            .await
    }

    pub async fn bundle(
        &self,
        view: &Arc<TenantView>,
        env: EnvironmentId,
    ) -> Result<Arc<Bundle>, Unavailable> {
        let tenant = view.tenant_id;
        let bundle = self
            .bundles
            .get(env, self.generations.tenant(tenant), || {
                let (store, view) = (self.store.clone(), view.clone());
                async move {
                    let rows = store.delivery_bundle(tenant, env).await?;
                    Ok::<_, StoreError>(Some(build_bundle(&rows, &view.settings)))
                }
            })
            .await?;
        // Loading always yields a bundle; none would be a store we cannot use.
        bundle.ok_or(Unavailable("bundles"))
    }

    pub async fn user(
        &self,
        tenant: TenantId,
        env: EnvironmentId,
        user_id: &str,
    ) -> Result<Arc<UserState>, Unavailable> {
        self.user_at(tenant, env, user_id, self.generations.tenant(tenant))
            .await
    }

    /// The user's state as of the tenant's `generation` (read by the caller
    /// beforehand, so what it puts back after is filed under the same one):
    /// an erasure reaches every node's copy.
    pub async fn user_at(
        &self,
        tenant: TenantId,
        env: EnvironmentId,
        user_id: &str,
        generation: u64,
    ) -> Result<Arc<UserState>, Unavailable> {
        let state = self
            .users
            .get((env, user_id.to_owned()), generation, || {
                let (store, u) = (self.store.clone(), user_id.to_owned());
                async move { store.user_state(tenant, env, &u).await.map(Some) }
            })
            .await?;
        Ok(state.unwrap_or_default())
    }
}

impl Caches {
    /// An account's state as of the tenant's `generation` (default: none known).
    pub async fn account_at(
        &self,
        tenant: TenantId,
        env: EnvironmentId,
        account_id: &str,
        generation: u64,
    ) -> Result<Arc<AccountState>, Unavailable> {
        let state = self
            .accounts
            .get((env, account_id.to_owned()), generation, || {
                let (store, a) = (self.store.clone(), account_id.to_owned());
                async move { store.account_state(tenant, env, &a).await.map(Some) }
            })
            .await?;
        Ok(state.unwrap_or_default())
    }
}

async fn load_view(
    store: &Store,
    secrets: &SecretBox,
    tenant: TenantId,
    nats: bool,
) -> Result<Option<TenantView>, StoreError> {
    let (json, origins) = match store.tenant_settings(tenant).await {
        Ok(x) => x,
        Err(StoreError::NotFound) => return Ok(None),
        Err(e) => return Err(e),
    };
    let settings: TenantSettings =
        serde_json::from_str(&json).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let verifiers = settings
        .identity_verification
        .iter()
        .map(|(env, iv)| {
            let opened: Vec<String> = iv
                .hs256_secrets
                .iter()
                .filter_map(|s| secrets.open(s).ok())
                .collect();
            (env.clone(), Verifier::prepare(iv, &opened))
        })
        .collect();
    let nats_sink = || SinkTarget {
        sink: NATS_SINK.to_owned(),
        events: Vec::new(),
    };
    let mut sinks: HashMap<EnvironmentId, Vec<SinkTarget>> = HashMap::new();
    for w in store.webhooks(tenant).await? {
        if w.enabled {
            sinks.entry(w.environment_id).or_default().push(SinkTarget {
                sink: w.id.to_string(),
                events: w.events,
            });
        }
    }
    let sinks: HashMap<_, _> = sinks
        .into_iter()
        .map(|(env, mut list)| {
            if nats {
                list.push(nats_sink());
            }
            (env, Arc::new(list))
        })
        .collect();
    let default_sinks = Arc::new(if nats { vec![nats_sink()] } else { vec![] });
    let bytes = json.len() * 2 + origins.iter().map(String::len).sum::<usize>() + 512;
    Ok(Some(TenantView {
        tenant_id: tenant,
        origins: origins
            .iter()
            .filter_map(|o| AllowedOrigin::parse(o).ok())
            .collect(),
        settings,
        verifiers,
        sinks,
        default_sinks,
        bytes,
    }))
}

/// Merges the SDK's attributes and verified claims over the stored ones.
pub fn merge_attributes(
    stored: &Map<String, Value>,
    from_sdk: Option<&Map<String, Value>>,
    claims: &[(String, Value)],
) -> Map<String, Value> {
    let mut out = stored.clone();
    if let Some(a) = from_sdk {
        for (k, v) in a {
            out.insert(k.clone(), v.clone());
        }
    }
    for (k, v) in claims {
        out.insert(k.clone(), v.clone());
    }
    out
}
