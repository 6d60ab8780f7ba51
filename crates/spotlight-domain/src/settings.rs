//! Tenant settings kept as one document: the kill switch, rate limits and the
//! strategy that decides which end users get the in-page editor. (Allowed
//! origins live beside it; identity verification per environment arrives with
//! the SDK config endpoint.)

use crate::validation::ValidationErrors;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RateLimits {
    /// SDK requests per minute for the whole tenant.
    pub sdk_per_minute: u32,
    /// Admin API requests per minute per key or session.
    pub admin_per_minute: u32,
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            sdk_per_minute: 60_000,
            admin_per_minute: 1_200,
        }
    }
}

/// Who is an in-app admin (gets the editor and draft previews).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default, utoipa::ToSchema)]
#[serde(tag = "strategy", rename_all = "snake_case", deny_unknown_fields)]
// Composites hold strategies: stop the schema walk from recursing forever.
#[schema(no_recursion)]
pub enum AdminDetection {
    #[default]
    None,
    /// The tenant's list of admin user ids.
    Table { user_ids: Vec<String> },
    /// A verified JWT claim (a string or list of strings) contains `permission`.
    JwtPermission { claim: String, permission: String },
    /// A verified JWT claim equals (or, for a list, contains) `role`.
    JwtRole { claim: String, role: String },
    /// Any (or all) of several strategies.
    Composite {
        mode: CompositeMode,
        strategies: Vec<AdminDetection>,
    },
}

impl AdminDetection {
    /// Is this end user an in-app admin? `claims` are the verified token's, if any.
    pub fn is_admin(
        &self,
        user_id: &str,
        claims: Option<&serde_json::Map<String, serde_json::Value>>,
    ) -> bool {
        let claim_has = |claim: &str, wanted: &str| {
            claims.and_then(|c| c.get(claim)).is_some_and(|v| match v {
                // A space-separated list, as OAuth scopes are written.
                serde_json::Value::String(s) => s.split(' ').any(|p| p == wanted),
                serde_json::Value::Array(a) => a.iter().any(|x| x.as_str() == Some(wanted)),
                _ => false,
            })
        };
        match self {
            AdminDetection::None => false,
            AdminDetection::Table { user_ids } => user_ids.iter().any(|u| u == user_id),
            AdminDetection::JwtPermission { claim, permission } => claim_has(claim, permission),
            AdminDetection::JwtRole { claim, role } => claim_has(claim, role),
            AdminDetection::Composite { mode, strategies } => match mode {
                CompositeMode::Any => strategies.iter().any(|s| s.is_admin(user_id, claims)),
                CompositeMode::All => {
                    !strategies.is_empty() && strategies.iter().all(|s| s.is_admin(user_id, claims))
                }
            },
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CompositeMode {
    Any,
    All,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum VerificationMode {
    /// Tokens are verified when sent; unverified user ids are accepted.
    #[default]
    Off,
    /// As off, but counts the requests enforcement would refuse.
    Monitor,
    /// Unverified user ids are refused.
    Enforce,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum KeyAlgorithm {
    Rs256,
    Es256,
    EdDsa,
}

/// How end-user tokens are verified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default, utoipa::ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum VerificationMethod {
    #[default]
    None,
    /// Shared secrets (at most two active, for rotation), set separately.
    Hs256,
    Jwks {
        url: String,
    },
    PublicKey {
        algorithm: KeyAlgorithm,
        pem: String,
    },
}

/// Identity verification for one environment. `hs256_secrets` hold sealed
/// (encrypted) secrets; they never leave the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IdentityVerification {
    #[serde(default)]
    pub mode: VerificationMode,
    #[serde(default = "yes")]
    pub allow_anonymous: bool,
    #[serde(default)]
    pub method: VerificationMethod,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<String>,
    /// Claims copied into the end user's attributes (they win over the SDK's).
    #[serde(default)]
    pub attribute_claims: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schema(ignore)]
    pub hs256_secrets: Vec<String>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TenantSettings {
    #[serde(default)]
    pub kill_switch: bool,
    #[serde(default)]
    pub rate_limits: RateLimits,
    #[serde(default)]
    pub admin_detection: AdminDetection,
    /// Per environment (`production`, `staging`, …).
    #[serde(default)]
    pub identity_verification: std::collections::BTreeMap<String, IdentityVerification>,
    /// The theme used where a tour or announcement names none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_theme_id: Option<String>,
    /// Shorter keeping times than the server's, for this tenant's data.
    #[serde(default)]
    pub retention: TenantRetention,
    /// How the tenant's members sign in to the dashboard.
    #[serde(default)]
    pub sign_in: SignInPolicy,
    /// Per environment: who publishes there, and whether editors need approval.
    #[serde(default)]
    pub publishing: std::collections::BTreeMap<String, PublishPolicy>,
}

/// Who may change what an environment serves (publish, unpublish, roll back,
/// promote into it). With `requires_approval`, a publish by a member below
/// admin becomes a request that an admin or owner other than the requester
/// approves (publishing that exact revision) or rejects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublishPolicy {
    /// The least role that publishes (or, under approval, asks to): `editor`,
    /// `admin` or `owner`.
    #[serde(default = "editor")]
    pub publish_role: crate::Role,
    #[serde(default)]
    pub requires_approval: bool,
}

fn editor() -> crate::Role {
    crate::Role::Editor
}

impl Default for PublishPolicy {
    fn default() -> Self {
        PublishPolicy {
            publish_role: crate::Role::Editor,
            requires_approval: false,
        }
    }
}

/// How members sign in. With `require_two_factor`, a member whose account has
/// no second factor may sign in, but reaches no admin route until enrolled.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignInPolicy {
    #[serde(default)]
    pub require_two_factor: bool,
}

/// How long this tenant's data is kept, in days; `None`: the server's time.
/// Never longer than the server's (the operator's maximum).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TenantRetention {
    /// Raw interaction events (survey answers included).
    #[serde(default)]
    pub events_days: Option<u32>,
    /// The audit log.
    #[serde(default)]
    pub audit_days: Option<u32>,
}

impl TenantRetention {
    /// Problems with these days under the operator's maximums (in days).
    pub fn check(&self, e: &mut ValidationErrors, events_max: u64, audit_max: u64) {
        for (field, days, max) in [
            ("retention.events_days", self.events_days, events_max),
            ("retention.audit_days", self.audit_days, audit_max),
        ] {
            if let Some(d) = days {
                if d == 0 || u64::from(d) > max {
                    e.add(
                        field,
                        format!("must be between 1 and {max} days (the server's keeping time)"),
                    );
                }
            }
        }
    }
}

fn check_identity(e: &mut ValidationErrors, path: &str, iv: &IdentityVerification) {
    match &iv.method {
        VerificationMethod::None if iv.mode != VerificationMode::Off => e.add(
            format!("{path}.method"),
            "monitor and enforce need a verification method",
        ),
        VerificationMethod::Hs256 if !(1..=2).contains(&iv.hs256_secrets.len()) => e.add(
            format!("{path}.hs256_secrets"),
            "HS256 needs one or two secrets",
        ),
        VerificationMethod::Jwks { url } => {
            // Parsed, never matched by prefix (`http://127.0.0.1@evil.test`
            // names evil.test). The server's outbound policy checks it again
            // for its mode (no plain http, no internal address in production).
            let parsed = url::Url::parse(url).ok().filter(|u| {
                u.username().is_empty()
                    && u.password().is_none()
                    && match (u.scheme(), u.host()) {
                        ("https", Some(_)) => true,
                        ("http", Some(url::Host::Domain(d))) => d == "localhost",
                        ("http", Some(url::Host::Ipv4(ip))) => ip.is_loopback(),
                        ("http", Some(url::Host::Ipv6(ip))) => ip.is_loopback(),
                        _ => false,
                    }
            });
            if parsed.is_none() || url.len() > 2000 {
                e.add(
                    format!("{path}.method.url"),
                    "must be an https URL (plain http only to a loopback host)",
                );
            }
        }
        VerificationMethod::PublicKey { pem, .. } => {
            let pem = pem.trim();
            if !(pem.starts_with("-----BEGIN PUBLIC KEY-----")
                && pem.ends_with("-----END PUBLIC KEY-----"))
                || pem.len() > 16 * 1024
            {
                e.add(
                    format!("{path}.method.pem"),
                    "must be a PEM public key (BEGIN PUBLIC KEY)",
                );
            }
        }
        _ => {}
    }
    for (field, v) in [("issuer", &iv.issuer), ("audience", &iv.audience)] {
        if v.as_ref().is_some_and(|v| v.is_empty() || v.len() > 500) {
            e.add(format!("{path}.{field}"), "must be 1 to 500 characters");
        }
    }
    if iv.attribute_claims.len() > 50 {
        e.add(format!("{path}.attribute_claims"), "at most 50 claims");
    }
    for (i, c) in iv.attribute_claims.iter().enumerate() {
        if c.is_empty() || c.len() > 100 {
            e.add(
                format!("{path}.attribute_claims[{i}]"),
                "must be 1 to 100 characters",
            );
        }
    }
}

fn check_detection(e: &mut ValidationErrors, path: &str, d: &AdminDetection, depth: usize) {
    let short = |e: &mut ValidationErrors, p: String, v: &str| {
        if v.trim().is_empty() || v.len() > 100 {
            e.add(p, "must be 1 to 100 characters");
        }
    };
    match d {
        AdminDetection::None => {}
        AdminDetection::Table { user_ids } => {
            if user_ids.len() > 10_000 {
                e.add(format!("{path}.user_ids"), "at most 10000 user ids");
            }
            for (i, u) in user_ids.iter().enumerate() {
                if u.is_empty() || u.len() > 256 {
                    e.add(
                        format!("{path}.user_ids[{i}]"),
                        "must be 1 to 256 characters",
                    );
                }
            }
        }
        AdminDetection::JwtPermission { claim, permission } => {
            short(e, format!("{path}.claim"), claim);
            short(e, format!("{path}.permission"), permission);
        }
        AdminDetection::JwtRole { claim, role } => {
            short(e, format!("{path}.claim"), claim);
            short(e, format!("{path}.role"), role);
        }
        AdminDetection::Composite { strategies, .. } => {
            if depth >= 3 {
                e.add(path, "composites nest at most 3 deep");
                return;
            }
            if !(1..=10).contains(&strategies.len()) {
                e.add(format!("{path}.strategies"), "1 to 10 strategies");
            }
            for (i, s) in strategies.iter().enumerate() {
                check_detection(e, &format!("{path}.strategies[{i}]"), s, depth + 1);
            }
        }
    }
}

impl TenantSettings {
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let mut e = ValidationErrors::new();
        if !(1..=10_000_000).contains(&self.rate_limits.sdk_per_minute) {
            e.add(
                "rate_limits.sdk_per_minute",
                "must be between 1 and 10000000",
            );
        }
        if !(1..=1_000_000).contains(&self.rate_limits.admin_per_minute) {
            e.add(
                "rate_limits.admin_per_minute",
                "must be between 1 and 1000000",
            );
        }
        check_detection(&mut e, "admin_detection", &self.admin_detection, 0);
        for (env, iv) in &self.identity_verification {
            check_identity(&mut e, &format!("identity_verification.{env}"), iv);
        }
        for (env, p) in &self.publishing {
            if p.publish_role == crate::Role::Viewer {
                e.add(
                    format!("publishing.{env}.publish_role"),
                    "viewers never publish: editor, admin or owner",
                );
            }
        }
        e.into_result()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn settings_validate() {
        let s: TenantSettings = serde_json::from_value(json!({
            "kill_switch": true,
            "admin_detection": {"strategy": "composite", "mode": "any", "strategies": [
                {"strategy": "table", "user_ids": ["u1"]},
                {"strategy": "jwt_role", "claim": "role", "role": "admin"}
            ]}
        }))
        .unwrap();
        s.validate().unwrap();
        let bad: TenantSettings = serde_json::from_value(json!({
            "rate_limits": {"sdk_per_minute": 0, "admin_per_minute": 10},
            "admin_detection": {"strategy": "jwt_permission", "claim": "", "permission": "x"}
        }))
        .unwrap();
        let paths: Vec<String> = bad
            .validate()
            .unwrap_err()
            .0
            .into_iter()
            .map(|f| f.path)
            .collect();
        assert_eq!(
            paths,
            ["rate_limits.sdk_per_minute", "admin_detection.claim"]
        );
        assert!(serde_json::from_value::<TenantSettings>(
            json!({"admin_detection": {"strategy": "magic"}})
        )
        .is_err());
    }

    #[test]
    fn admin_detection_strategies() {
        let d = |v: serde_json::Value| serde_json::from_value::<AdminDetection>(v).unwrap();
        let claims =
            json!({"perms": ["read", "spotlight:edit"], "scope": "a b admin", "role": "admin"});
        let claims = claims.as_object();
        let table = d(json!({"strategy": "table", "user_ids": ["u1"]}));
        let perm = d(
            json!({"strategy": "jwt_permission", "claim": "perms", "permission": "spotlight:edit"}),
        );
        let scope =
            d(json!({"strategy": "jwt_permission", "claim": "scope", "permission": "admin"}));
        let role = d(json!({"strategy": "jwt_role", "claim": "role", "role": "admin"}));
        let cases = [
            (&table, "u1", None, true),
            (&table, "u2", None, false),
            (&perm, "u2", claims, true),
            (&perm, "u2", None, false),
            (&scope, "u2", claims, true),
            (&role, "u2", claims, true),
            (&AdminDetection::None, "u1", claims, false),
        ];
        for (i, (strategy, user, claims, want)) in cases.into_iter().enumerate() {
            assert_eq!(strategy.is_admin(user, claims), want, "case {i}");
        }
        let all = d(
            json!({"strategy": "composite", "mode": "all", "strategies": [
                {"strategy": "table", "user_ids": ["u1"]},
                {"strategy": "jwt_role", "claim": "role", "role": "admin"}
            ]}),
        );
        assert!(all.is_admin("u1", claims));
        assert!(!all.is_admin("u2", claims));
        assert!(!all.is_admin("u1", None));
        let any = d(
            json!({"strategy": "composite", "mode": "any", "strategies": [
                {"strategy": "table", "user_ids": ["u1"]},
                {"strategy": "jwt_role", "claim": "role", "role": "admin"}
            ]}),
        );
        assert!(any.is_admin("u1", None));
        assert!(!any.is_admin("u2", None));
    }
}

#[cfg(test)]
mod schema_tests {
    #[test]
    fn admin_detection_schema_terminates() {
        use utoipa::{PartialSchema, ToSchema};
        let mut v = Vec::new();
        super::AdminDetection::schemas(&mut v);
        let _ = super::AdminDetection::schema();
        let mut v = Vec::new();
        super::TenantSettings::schemas(&mut v);
    }
}
