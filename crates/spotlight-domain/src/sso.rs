//! A tenant's single sign-on through its OpenID Connect provider: which
//! provider and client, the role a member gets (a default, or by the
//! provider's groups), and whether password sign-in is still allowed.

use crate::{AccountId, Role, ValidationErrors};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// As the owner sets it. The client secret is only ever written: the server
/// keeps it sealed and never shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SsoSettings {
    /// The provider's issuer URL (its discovery document is at
    /// `<issuer>/.well-known/openid-configuration`).
    pub issuer: String,
    pub client_id: String,
    /// On `PUT`: the client secret (omit to keep the saved one). Never shown.
    #[serde(default, skip_serializing)]
    #[schema(write_only)]
    pub client_secret: Option<String>,
    /// Scopes asked for besides `openid`.
    #[serde(default = "default_scopes")]
    pub scopes: Vec<String>,
    /// The role of a person the provider signs in who is not a member yet
    /// and whose groups map to no role; `null`: such a person is refused.
    #[serde(default)]
    pub default_role: Option<Role>,
    /// The ID token claim that lists the person's groups (e.g. `groups`).
    #[serde(default)]
    pub groups_claim: Option<String>,
    /// Group → role; the highest role of the person's groups wins. With a
    /// mapping, the role of a member SSO made follows the groups at every
    /// sign-in, and the membership ends when they grant none.
    #[serde(default)]
    pub group_roles: BTreeMap<String, Role>,
    /// Password sign-in to this tenant is refused (and the tenant's password
    /// sessions end), but for the break-glass owner.
    #[serde(default)]
    pub required: bool,
    /// An owner who may still sign in with a password when SSO is required.
    #[serde(default)]
    pub break_glass_account_id: Option<AccountId>,
}

fn default_scopes() -> Vec<String> {
    vec!["email".into(), "profile".into()]
}

const MAX_TEXT: usize = 256;
const MAX_GROUPS: usize = 100;

fn token_like(s: &str) -> bool {
    !s.is_empty() && s.len() <= MAX_TEXT && s.chars().all(|c| c.is_ascii_graphic())
}

impl SsoSettings {
    /// Checks everything but the issuer's reachability (the caller discovers
    /// it) and whether the break-glass account is an owner (the store knows).
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::new();
        if self.issuer.is_empty() || self.issuer.len() > 2048 {
            errors.add("issuer", "must be a URL of at most 2048 characters");
        }
        if !token_like(&self.client_id) {
            errors.add("client_id", "must be 1 to 256 printable characters");
        }
        if let Some(secret) = &self.client_secret {
            if secret.is_empty() || secret.len() > 1024 {
                errors.add("client_secret", "must be 1 to 1024 bytes");
            }
        }
        if self.scopes.len() > 20 {
            errors.add("scopes", "at most 20");
        }
        for (i, s) in self.scopes.iter().enumerate() {
            if !token_like(s) || s == "openid" {
                errors.add(
                    format!("scopes[{i}]"),
                    "must be a scope name (openid is always asked for)",
                );
            }
        }
        let roles = self.default_role.iter().chain(self.group_roles.values());
        if roles.into_iter().any(|r| *r == Role::Owner) {
            errors.add(
                "group_roles",
                "SSO grants viewer, editor or admin; owners are made by an owner",
            );
        }
        if let Some(claim) = &self.groups_claim {
            if !token_like(claim) {
                errors.add("groups_claim", "must be a claim name");
            }
        }
        if !self.group_roles.is_empty() && self.groups_claim.is_none() {
            errors.add("groups_claim", "is needed for group_roles");
        }
        if self.group_roles.len() > MAX_GROUPS {
            errors.add("group_roles", "at most 100 groups");
        }
        if self
            .group_roles
            .keys()
            .any(|g| g.is_empty() || g.len() > MAX_TEXT)
        {
            errors.add("group_roles", "group names are 1 to 256 bytes");
        }
        if self.required && self.break_glass_account_id.is_none() {
            errors.add(
                "break_glass_account_id",
                "is needed when SSO is required: an owner who can still sign in with a password",
            );
        }
        errors.into_result()
    }

    /// Whether the provider's groups decide members' roles.
    pub fn groups_decide(&self) -> bool {
        self.groups_claim.is_some() && !self.group_roles.is_empty()
    }

    /// The role a person with these groups gets: the highest mapped one,
    /// else the default.
    pub fn role_for<'a>(&self, groups: impl IntoIterator<Item = &'a str>) -> Option<Role> {
        groups
            .into_iter()
            .filter_map(|g| self.group_roles.get(g).copied())
            .max()
            .or(self.default_role)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> SsoSettings {
        serde_json::from_value(serde_json::json!({
            "issuer": "https://idp.example.com",
            "client_id": "spotlight",
            "groups_claim": "groups",
            "group_roles": {"eng": "editor", "leads": "admin"},
            "default_role": "viewer"
        }))
        .unwrap()
    }

    #[test]
    fn the_highest_mapped_role_wins_else_the_default() {
        let s = settings();
        assert_eq!(s.role_for(["eng", "leads", "x"]), Some(Role::Admin));
        assert_eq!(s.role_for(["eng"]), Some(Role::Editor));
        assert_eq!(s.role_for(["x"]), Some(Role::Viewer));
        let none = SsoSettings {
            default_role: None,
            ..s
        };
        assert_eq!(none.role_for(["x"]), None);
    }

    #[test]
    fn owners_are_not_granted_and_required_needs_a_break_glass_owner() {
        let mut s = settings();
        s.group_roles.insert("root".into(), Role::Owner);
        s.required = true;
        let e = s.validate().unwrap_err();
        let paths: Vec<_> = e.0.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, ["group_roles", "break_glass_account_id"]);
        assert!(settings().validate().is_ok());
    }

    #[test]
    fn the_secret_is_never_serialised() {
        let mut s = settings();
        s.client_secret = Some("hunter2".into());
        assert!(!serde_json::to_string(&s).unwrap().contains("hunter2"));
    }
}
