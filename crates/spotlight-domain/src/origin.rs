//! Allowed origins for publishable keys: exact origins (`https://app.example.com`,
//! `http://localhost:3000`) and wildcard subdomains (`https://*.example.com`, which
//! matches any depth of subdomain but not the apex). There is no `*`.

use serde::{Serialize, Serializer};
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OriginError {
    #[error("a bare `*` is not allowed; list origins or use `https://*.example.com`")]
    BareWildcard,
    #[error("origin must start with http:// or https://")]
    Scheme,
    #[error("origin must be scheme://host[:port] with no path, query or credentials")]
    Shape,
    #[error("origin host is not valid")]
    Host,
    #[error("origin port is not valid")]
    Port,
    #[error("origin is longer than 253 characters")]
    TooLong,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Parts {
    https: bool,
    host: String,
    port: u16,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AllowedOrigin {
    parts: Parts,
    /// `*.` prefix: any subdomain of `host`.
    wildcard: bool,
}

fn parse_parts(input: &str, allow_wildcard: bool) -> Result<(Parts, bool), OriginError> {
    if input.len() > 253 + 14 {
        return Err(OriginError::TooLong);
    }
    // Origins carry no path, so the whole value is case-insensitive.
    let input = input.to_ascii_lowercase();
    let (https, rest) = if let Some(r) = input.strip_prefix("https://") {
        (true, r)
    } else if let Some(r) = input.strip_prefix("http://") {
        (false, r)
    } else {
        return Err(OriginError::Scheme);
    };
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    if rest.is_empty() || rest.contains(['/', '?', '#', '@', '\\']) {
        return Err(OriginError::Shape);
    }
    let (host, port) = match rest.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || p.is_empty() => {
            let port: u16 = p.parse().map_err(|_| OriginError::Port)?;
            if port == 0 {
                return Err(OriginError::Port);
            }
            (h, port)
        }
        _ => (rest, if https { 443 } else { 80 }),
    };
    let (wildcard, bare_host) = match host.strip_prefix("*.") {
        Some(h) if allow_wildcard => (true, h.to_owned()),
        Some(_) => return Err(OriginError::Host),
        None => (false, host.to_owned()),
    };
    if bare_host.len() > 253 {
        return Err(OriginError::TooLong);
    }
    let valid_label = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    let is_ipv6 = bare_host.starts_with('[')
        && bare_host.ends_with(']')
        && bare_host[1..bare_host.len() - 1]
            .bytes()
            .all(|b| b.is_ascii_hexdigit() || b == b':');
    if !is_ipv6 && !bare_host.split('.').all(valid_label) {
        return Err(OriginError::Host);
    }
    // `https://*.com` would allow every .com site: a wildcard needs a registrable-looking base.
    if wildcard && !bare_host.contains('.') {
        return Err(OriginError::Host);
    }
    Ok((
        Parts {
            https,
            host: bare_host,
            port,
        },
        wildcard,
    ))
}

/// A browser's `Origin` header value, taken apart once to test against many entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestOrigin(Parts);

impl RequestOrigin {
    /// `None` for anything that is not `scheme://host[:port]` (`null` included).
    pub fn parse(value: &str) -> Option<RequestOrigin> {
        match parse_parts(value, false) {
            Ok((parts, false)) => Some(RequestOrigin(parts)),
            _ => None,
        }
    }
}

impl AllowedOrigin {
    pub fn parse(input: &str) -> Result<AllowedOrigin, OriginError> {
        let input = input.trim();
        if input == "*" || input.starts_with("*") {
            return Err(OriginError::BareWildcard);
        }
        let (parts, wildcard) = parse_parts(input, true)?;
        Ok(AllowedOrigin { parts, wildcard })
    }

    pub fn is_wildcard(&self) -> bool {
        self.wildcard
    }

    /// Does the browser's `Origin` header value match this entry?
    pub fn matches(&self, request_origin: &str) -> bool {
        RequestOrigin::parse(request_origin).is_some_and(|o| self.admits(&o))
    }

    /// Does this entry admit the (parsed) request origin?
    pub fn admits(&self, origin: &RequestOrigin) -> bool {
        let req = &origin.0;
        if req.https != self.parts.https || req.port != self.parts.port {
            return false;
        }
        if self.wildcard {
            req.host.len() > self.parts.host.len() + 1
                && req.host.ends_with(&self.parts.host)
                && req.host.as_bytes()[req.host.len() - self.parts.host.len() - 1] == b'.'
        } else {
            req.host == self.parts.host
        }
    }
}

impl fmt::Display for AllowedOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = if self.parts.https { "https" } else { "http" };
        let default_port = if self.parts.https { 443 } else { 80 };
        let star = if self.wildcard { "*." } else { "" };
        write!(f, "{scheme}://{star}{}", self.parts.host)?;
        if self.parts.port != default_port {
            write!(f, ":{}", self.parts.port)?;
        }
        Ok(())
    }
}

impl Serialize for AllowedOrigin {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_and_normalises() {
        let o = AllowedOrigin::parse("HTTPS://App.Example.com:443/").unwrap();
        assert_eq!(o.to_string(), "https://app.example.com");
        let o = AllowedOrigin::parse("http://localhost:3000").unwrap();
        assert_eq!(o.to_string(), "http://localhost:3000");
        let o = AllowedOrigin::parse("https://*.example.com").unwrap();
        assert!(o.is_wildcard());
        assert_eq!(o.to_string(), "https://*.example.com");
    }

    #[test]
    fn refuses_bad_shapes() {
        let cases = [
            ("*", OriginError::BareWildcard),
            ("*.example.com", OriginError::BareWildcard),
            ("example.com", OriginError::Scheme),
            ("ftp://example.com", OriginError::Scheme),
            ("https://example.com/path", OriginError::Shape),
            ("https://user@example.com", OriginError::Shape),
            ("https://exa mple.com", OriginError::Host),
            ("https://example.com:0", OriginError::Port),
            ("https://example.com:99999", OriginError::Port),
            ("https://*.com", OriginError::Host),
            ("https://a.*.example.com", OriginError::Host),
        ];
        for (input, err) in cases {
            assert_eq!(AllowedOrigin::parse(input), Err(err), "{input}");
        }
    }

    #[test]
    fn matches_exact_and_wildcards() {
        let exact = AllowedOrigin::parse("https://app.example.com").unwrap();
        assert!(exact.matches("https://app.example.com"));
        assert!(exact.matches("https://app.example.com:443"));
        assert!(!exact.matches("http://app.example.com"));
        assert!(!exact.matches("https://app.example.com:8443"));
        assert!(!exact.matches("https://evil-app.example.com"));
        assert!(!exact.matches("null"));

        let wild = AllowedOrigin::parse("https://*.example.com").unwrap();
        assert!(wild.matches("https://a.example.com"));
        assert!(wild.matches("https://a.b.example.com"));
        assert!(!wild.matches("https://example.com"));
        assert!(!wild.matches("https://badexample.com"));
        assert!(!wild.matches("https://a.example.com.evil.net"));
        assert!(!wild.matches("http://a.example.com"));
        assert!(!wild.matches("https://*.example.com"));
    }

    proptest! {
        #[test]
        fn parse_and_match_are_total(a in ".{0,60}", b in ".{0,60}") {
            if let Ok(o) = AllowedOrigin::parse(&a) {
                let _ = o.matches(&b);
                // Display output parses back to the same origin.
                prop_assert_eq!(AllowedOrigin::parse(&o.to_string()).ok(), Some(o));
            }
        }
    }
}
