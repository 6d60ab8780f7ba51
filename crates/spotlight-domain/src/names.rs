//! Validated names: tenant names, environment names and member e-mail addresses.

use serde::Serialize;
use std::fmt;

fn no_control(s: &str) -> bool {
    !s.chars().any(char::is_control)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct TenantName(String);

impl TenantName {
    pub fn parse(input: &str) -> Result<TenantName, &'static str> {
        let s = input.trim();
        if s.is_empty() {
            return Err("must not be empty");
        }
        if s.chars().count() > 100 {
            return Err("must be at most 100 characters");
        }
        if !no_control(s) {
            return Err("must not contain control characters");
        }
        Ok(TenantName(s.to_owned()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// `production`, `staging`, or another lowercase slug of at most 32 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct EnvironmentName(String);

impl EnvironmentName {
    pub const PRODUCTION: &'static str = "production";
    pub const STAGING: &'static str = "staging";

    pub fn parse(input: &str) -> Result<EnvironmentName, &'static str> {
        let ok = !input.is_empty()
            && input.len() <= 32
            && input.as_bytes()[0].is_ascii_lowercase()
            && input
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if ok {
            Ok(EnvironmentName(input.to_owned()))
        } else {
            Err("must be 1-32 characters of a-z, 0-9 and -, starting with a letter")
        }
    }
    pub fn production() -> EnvironmentName {
        EnvironmentName(Self::PRODUCTION.to_owned())
    }
    pub fn staging() -> EnvironmentName {
        EnvironmentName(Self::STAGING.to_owned())
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EnvironmentName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An e-mail address, lower-cased. Deliberately loose (one `@`, a dot in the
/// domain, no spaces): the address is a login name, not something we mail.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    pub fn parse(input: &str) -> Result<Email, &'static str> {
        let s = input.trim().to_lowercase();
        if s.len() > 254 {
            return Err("must be at most 254 characters");
        }
        let Some((local, domain)) = s.split_once('@') else {
            return Err("must be an e-mail address");
        };
        let ok = !local.is_empty()
            && local.len() <= 64
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains('@')
            && !s.chars().any(|c| c.is_whitespace() || c.is_control());
        if ok {
            Ok(Email(s))
        } else {
            Err("must be an e-mail address")
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenant_names() {
        assert_eq!(TenantName::parse("  Acme  ").unwrap().as_str(), "Acme");
        assert!(TenantName::parse("   ").is_err());
        assert!(TenantName::parse(&"x".repeat(101)).is_err());
        assert!(TenantName::parse("a\u{0}b").is_err());
    }

    #[test]
    fn environment_names() {
        for ok in ["production", "staging", "qa-2"] {
            assert!(EnvironmentName::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["", "Prod", "2qa", "a b", &"a".repeat(33)] {
            assert!(EnvironmentName::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn emails() {
        assert_eq!(
            Email::parse(" Ada@Example.COM ").unwrap().as_str(),
            "ada@example.com"
        );
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "a@b",
            "a b@c.d",
            "a@b@c.d",
            "a@.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }
}
