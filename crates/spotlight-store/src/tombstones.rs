//! Erased users' tombstones, as every writer of a user's data reads them:
//! ingest and profile writes drop what arrives for a user from before their
//! erasure (see `privacy.rs`). On PostgreSQL, writers and erasures of one
//! environment are ordered by an advisory lock, shared by writers and
//! exclusive for an erasure.

use crate::write::{chunks, values, Col, Exec, V};
use crate::{Backend, StoreError};
use sha2::Digest;
use std::collections::{BTreeSet, HashMap};

/// The audit log and tombstones name a person by a digest of their id.
pub fn user_digest(user_id: &str) -> String {
    let digest = sha2::Sha256::digest(user_id.as_bytes());
    format!("sha256:{}", hex::encode(&digest[..12]))
}

/// The advisory lock (PostgreSQL) that orders erasures and writes of one environment.
fn lock_key(env: &str) -> i32 {
    let d = sha2::Sha256::digest(env.as_bytes());
    i32::from_be_bytes([d[0], d[1], d[2], d[3]])
}

/// Class of Spotlight's advisory locks (two-key form), apart from sqlx's migration lock.
const LOCK_CLASS: i32 = 0x5350;

/// Takes the environments' advisory locks, shared or exclusive, in one order
/// (PostgreSQL; SQLite's write lock already orders writers). Held to the end
/// of the transaction.
pub(crate) async fn lock_environments(
    backend: Backend,
    tx: &mut impl Exec,
    envs: &[String],
    exclusive: bool,
) -> Result<(), StoreError> {
    if backend != Backend::Postgres {
        return Ok(());
    }
    let keys: BTreeSet<i32> = envs.iter().map(|e| lock_key(e)).collect();
    if keys.is_empty() {
        return Ok(());
    }
    let f = if exclusive {
        "pg_advisory_xact_lock"
    } else {
        "pg_advisory_xact_lock_shared"
    };
    // In key order (the sorted subquery feeds the aggregate in its order), so
    // writers and erasures never wait on each other in a circle. The keys are
    // integers computed here, not input: formatted into the statement.
    let values = keys
        .iter()
        .map(|k| format!("({k})"))
        .collect::<Vec<_>>()
        .join(", ");
    tx.rows(
        &format!(
            "SELECT count({f}({LOCK_CLASS}, k)) FROM \
             (SELECT k FROM (VALUES {values}) AS v(k) ORDER BY k) AS s"
        ),
        Vec::new(),
        &[Col::Int],
    )
    .await?;
    Ok(())
}

/// Of `users` (environment id, user id), those erased within their
/// tombstone, with when (Unix milliseconds); read after [`lock_environments`].
pub(crate) async fn tombstones(
    backend: Backend,
    tx: &mut impl Exec,
    users: BTreeSet<(String, String)>,
) -> Result<HashMap<(String, String), i64>, StoreError> {
    let mut by_digest: HashMap<(String, String), (String, String)> = users
        .into_iter()
        .map(|(env, user)| ((env.clone(), user_digest(&user)), (env, user)))
        .collect();
    let keys: Vec<(String, String)> = by_digest.keys().cloned().collect();
    let mut out = HashMap::new();
    let mut rest = keys.iter();
    for size in chunks(keys.len()) {
        let args: Vec<V> = rest
            .by_ref()
            .take(size)
            .flat_map(|(e, d)| [V::T(e.clone()), V::T(d.clone())])
            .collect();
        let sql = format!(
            "SELECT environment_id, user_digest, erased_at FROM erasures \
             WHERE (environment_id, user_digest) IN (VALUES {})",
            values(size, 2, backend)
        );
        for r in tx
            .rows(&sql, args, &[Col::Text, Col::Text, Col::Int])
            .await?
        {
            let mut c = crate::write::Cells::of(r);
            let key = (c.text()?, c.text()?);
            let at = c.int()?;
            if let Some(user) = by_digest.remove(&key) {
                out.insert(user, at);
            }
        }
    }
    Ok(out)
}

/// Whether an event that happened at `occurred_at` may predate an erasure at
/// `erased_at` (the SDK's queue outlives reloads, and its clock may run up to
/// the tolerated skew ahead): such an event is dropped; later ones are the
/// person's new activity.
pub(crate) fn before_erasure(occurred_at: i64, erased_at: i64) -> bool {
    occurred_at <= erased_at.saturating_add(spotlight_domain::events::MAX_FUTURE_MS)
}
