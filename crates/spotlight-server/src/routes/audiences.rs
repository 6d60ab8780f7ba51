//! `POST /v1/admin/audiences/matches`: how many of an environment's end users a
//! rule matches now — the audience editor's "who matches" count. The rule is
//! parsed (errors with line and column, as on save) and evaluated against each
//! profile's attributes and event counts, in pages, up to a bound.

use crate::auth::{AdminActor, ViewerRole};
use crate::error::{ApiError, ApiResult, AppJson};
use crate::state::AppState;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use spotlight_domain::audience::{self, AccountSubject, Subject};
use spotlight_store::AccountState;
use std::collections::{HashMap, HashSet};

/// At most this many profiles are read for one count.
pub const SCAN_LIMIT: u64 = 100_000;
const PAGE: usize = 2_000;
const SAMPLE: usize = 10;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MatchRequest {
    /// An audience rule, e.g. `plan = "pro" and event("export") >= 1`.
    #[schema(example = "plan == \"pro\" and event(\"export\") >= 1")]
    rule: String,
    /// Environment name (default production).
    #[schema(example = "production")]
    environment: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct MatchView {
    environment: String,
    /// The rule as saved (canonical form).
    rule: String,
    /// End users the rule matches among those scanned.
    matched: u64,
    /// Accounts (B2B) of the matched users: how many companies it reaches.
    accounts_matched: u64,
    /// End users evaluated.
    scanned: u64,
    /// True when the environment has more end users than one count reads.
    truncated: bool,
    /// A few matching user ids, for a spot check.
    sample: Vec<String>,
}

pub async fn matches(
    State(state): State<AppState>,
    actor: AdminActor<ViewerRole>,
    AppJson(req): AppJson<MatchRequest>,
) -> ApiResult<AppJson<MatchView>> {
    if req.rule.len() > 10_000 {
        return Err(ApiError::field("rule", "must be at most 10000 bytes"));
    }
    let parsed = audience::parse(&req.rule).map_err(|e| ApiError::field("rule", &e.to_string()))?;
    let environment = req.environment.unwrap_or_else(|| "production".to_owned());
    let env =
        crate::routes::environment_named(&state, actor.tenant_id, &environment, "environment")
            .await?;
    let now_millis = state.clock.now().millis();
    let (mut matched, mut scanned, mut sample) = (0_u64, 0_u64, Vec::new());
    let mut after = String::new();
    // The accounts read so far (only when the rule reads accounts), and those matched.
    let mut accounts: HashMap<String, AccountState> = HashMap::new();
    let mut reached: HashSet<String> = HashSet::new();
    let truncated = loop {
        let page = state
            .store
            .audience_subjects(actor.tenant_id, env.id, &after, PAGE)
            .await?;
        if parsed.reads_account() {
            let mut missing: Vec<String> = page
                .iter()
                .filter_map(|s| s.account_id.clone())
                .filter(|a| !accounts.contains_key(a))
                .collect();
            missing.sort();
            missing.dedup();
            let found = state
                .store
                .account_states(actor.tenant_id, env.id, &missing)
                .await?;
            for a in missing {
                let known = found.get(&a).cloned().unwrap_or_default();
                accounts.insert(a, known);
            }
        }
        for s in &page {
            let account = s
                .account_id
                .as_ref()
                .and_then(|a| accounts.get(a))
                .filter(|a| a.known)
                .map(|a| AccountSubject {
                    attributes: &a.attributes,
                    event_counts: &a.event_counts,
                    shown: &a.shown,
                });
            let subject = Subject {
                attributes: &s.attributes,
                event_counts: &s.event_counts,
                now_millis,
                account,
            };
            if parsed.eval(&subject) {
                matched += 1;
                if let Some(a) = &s.account_id {
                    if reached.len() < SCAN_LIMIT as usize {
                        reached.insert(a.clone());
                    }
                }
                if sample.len() < SAMPLE {
                    sample.push(s.user_id.clone());
                }
            }
        }
        scanned += page.len() as u64;
        match page.last() {
            Some(last) if page.len() == PAGE => after.clone_from(&last.user_id),
            _ => break false,
        }
        if scanned >= SCAN_LIMIT {
            break true;
        }
    };
    Ok(AppJson(MatchView {
        environment,
        rule: parsed.to_string(),
        matched,
        accounts_matched: reached.len() as u64,
        scanned,
        truncated,
        sample,
    }))
}
