//! Where Spotlight may send requests of its own (webhooks, JWKS): the URLs a
//! tenant may save, and — because a name may resolve elsewhere by the time it
//! is used (DNS rebinding) — the addresses actually connected to.
//!
//! `https` only; plain `http` only to a loopback host in development. In
//! production no private, loopback, link-local, shared (CGNAT), multicast or
//! metadata address is reached unless the operator allows its range
//! (`outbound_allow`, for internal sinks). Every client built by
//! [`OutboundPolicy::client`] resolves names through the policy and connects
//! only to the addresses it permits; redirects are never followed.

use ipnet::IpNet;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

/// What outbound requests may reach.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutboundPolicy {
    /// Production refuses internal addresses (development allows them all).
    pub production: bool,
    /// Ranges the operator allows in production although they are internal.
    pub allow: Vec<IpNet>,
}

/// Why a URL or an address is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

impl OutboundPolicy {
    /// Development: any address; `http` to loopback hosts.
    pub fn development() -> Self {
        OutboundPolicy::default()
    }

    /// Production, with the operator's allowed ranges.
    pub fn production(allow: Vec<IpNet>) -> Self {
        OutboundPolicy {
            production: true,
            allow,
        }
    }

    /// Whether a connection to `ip` is allowed.
    pub fn permits(&self, ip: IpAddr) -> bool {
        !self.production || !is_internal(ip) || self.allow.iter().any(|n| n.contains(&ip))
    }

    /// Checks a URL a tenant saves (or one about to be used): absolute,
    /// `https` (or `http` to a loopback host in development), no credentials,
    /// and — in production — no internal address or `localhost` name.
    pub fn check_url(&self, text: &str) -> Result<url::Url, Refused> {
        let refused = |m: &str| Err(Refused(m.to_owned()));
        if text.len() > 2048 {
            return refused("must be at most 2048 characters");
        }
        let Ok(url) = url::Url::parse(text) else {
            return refused("must be an absolute https URL");
        };
        if !url.username().is_empty() || url.password().is_some() {
            return refused("must not carry a user name or password");
        }
        let Some(host) = url.host() else {
            return refused("must name a host");
        };
        let ip = match &host {
            url::Host::Ipv4(v4) => Some(IpAddr::V4(*v4)),
            url::Host::Ipv6(v6) => Some(IpAddr::V6(*v6)),
            url::Host::Domain(_) => None,
        };
        let local_name = match &host {
            url::Host::Domain(d) => {
                let d = d.trim_end_matches('.').to_ascii_lowercase();
                d == "localhost" || d.ends_with(".localhost")
            }
            _ => false,
        };
        let loopback = local_name || ip.is_some_and(|ip| canonical(ip).is_loopback());
        match url.scheme() {
            "https" => {}
            "http" if loopback && !self.production => {}
            "http" if self.production => return refused("must be https in production"),
            "http" => return refused("must be https (plain http only to a loopback host)"),
            _ => return refused("must be an https URL"),
        }
        if self.production {
            if let Some(ip) = ip {
                if !self.permits(ip) {
                    return refused(
                        "must not point at a private, loopback, link-local or metadata address",
                    );
                }
            } else if local_name
                && !self
                    .allow
                    .iter()
                    .any(|n| n.contains(&IpAddr::from(Ipv4Addr::LOCALHOST)))
            {
                return refused(
                    "must not point at a private, loopback, link-local or metadata address",
                );
            }
        }
        Ok(url)
    }

    /// A client whose every connection obeys this policy: names resolve
    /// through it (addresses it refuses are dropped; none left is an error)
    /// and redirects are not followed. Requests to an IP literal do not
    /// resolve, so [`OutboundPolicy::check_url`] is asked again before each
    /// request by its callers.
    pub fn client(self: &Arc<Self>, timeout: Duration, user_agent: &str) -> reqwest::ClientBuilder {
        reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(Duration::from_secs(5).min(timeout))
            .redirect(reqwest::redirect::Policy::none())
            // A proxy would connect on our behalf to addresses never checked.
            .no_proxy()
            .user_agent(user_agent)
            .dns_resolver(Arc::new(Guard(self.clone())))
    }
}

/// Adds the current span's W3C trace context (`traceparent`, `tracestate`)
/// to an outbound request, so the receiver's trace continues ours. Nothing is
/// added while traces are off (no propagator, no span context).
pub fn with_trace_context(request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
    use tracing_opentelemetry::OpenTelemetrySpanExt;
    let cx = tracing::Span::current().context();
    let mut headers = reqwest::header::HeaderMap::new();
    opentelemetry::global::get_text_map_propagator(|p| {
        p.inject_context(&cx, &mut opentelemetry_http::HeaderInjector(&mut headers));
    });
    request.headers(headers)
}

/// The policy's refusal behind a failed request, if that is why it failed.
pub fn refusal_in<'e>(e: &'e (dyn std::error::Error + 'static)) -> Option<&'e Refused> {
    let mut cur = Some(e);
    while let Some(err) = cur {
        if let Some(r) = err.downcast_ref::<Refused>() {
            return Some(r);
        }
        cur = err.source();
    }
    None
}

/// The resolver of [`OutboundPolicy::client`].
struct Guard(Arc<OutboundPolicy>);

impl reqwest::dns::Resolve for Guard {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.0.clone();
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let permitted: Vec<SocketAddr> = found
                .iter()
                .copied()
                .filter(|a| policy.permits(a.ip()))
                .collect();
            if permitted.is_empty() {
                let why: Box<dyn std::error::Error + Send + Sync> = if found.is_empty() {
                    format!("{host} has no address").into()
                } else {
                    Refused(format!(
                        "{host} resolves only to addresses outbound requests may not reach ({})",
                        found
                            .iter()
                            .map(|a| a.ip().to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                    .into()
                };
                return Err(why);
            }
            let addrs: reqwest::dns::Addrs = Box::new(permitted.into_iter());
            Ok(addrs)
        })
    }
}

/// IPv4 inside IPv6 (mapped `::ffff:a.b.c.d`, NAT64 `64:ff9b::/96`) is judged
/// as the IPv4 address it carries.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return IpAddr::V4(v4);
            }
            let s = v6.segments();
            if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
                let [a, b] = s[6].to_be_bytes();
                let [c, d] = s[7].to_be_bytes();
                return IpAddr::V4(Ipv4Addr::new(a, b, c, d));
            }
            IpAddr::V6(v6)
        }
        v4 => v4,
    }
}

/// Addresses that are not the public internet: this host, private networks,
/// link-local (cloud metadata at 169.254.169.254 and fd00:ec2::254 included),
/// shared address space, multicast, broadcast and the reserved ranges.
pub fn is_internal(ip: IpAddr) -> bool {
    match canonical(ip) {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_unspecified()
                || v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_multicast()
                || v4.is_broadcast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b)) // 100.64.0.0/10, shared (CGNAT)
                || (a == 192 && b == 0 && v4.octets()[2] == 0) // 192.0.0.0/24, protocol assignments
                || (a == 198 && (b == 18 || b == 19)) // 198.18.0.0/15, benchmarking
                || a >= 240 // 240.0.0.0/4, reserved
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            v6.is_unspecified()
                || v6.is_loopback()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00 // fc00::/7, unique local
                || (first & 0xffc0) == 0xfe80 // fe80::/10, link-local
                || (first & 0xffc0) == 0xfec0 // fec0::/10, site-local (deprecated)
                || v6.segments()[..2] == [0x2001, 0xdb8] // documentation
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap_or_else(|_| panic!("{s}"))
    }

    #[test]
    fn internal_addresses() {
        for s in [
            "127.0.0.1",
            "127.8.9.10",
            "10.0.0.1",
            "172.16.5.4",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fe80::1",
            "fd00:ec2::254",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a00:1",
        ] {
            assert!(is_internal(ip(s)), "{s}");
        }
        for s in [
            "93.184.216.34",
            "1.1.1.1",
            "2606:4700:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            assert!(!is_internal(ip(s)), "{s}");
        }
    }

    #[test]
    fn urls_are_parsed_not_prefixed() {
        let dev = OutboundPolicy::development();
        let prod = OutboundPolicy::production(vec![]);
        // Plain http: loopback hosts only, development only.
        assert!(dev.check_url("http://127.0.0.1:9000/jwks").is_ok());
        assert!(dev.check_url("http://localhost/jwks").is_ok());
        assert!(dev.check_url("http://[::1]:80/").is_ok());
        for bad in [
            "http://127.0.0.1@evil.test/jwks",
            "http://localhost.evil.test/jwks",
            "http://evil.test/jwks",
            "ftp://127.0.0.1/",
            "https://user:pw@example.com/",
            "not a url",
            "/relative",
        ] {
            assert!(dev.check_url(bad).is_err(), "{bad}");
        }
        assert!(prod.check_url("https://example.com/hook").is_ok());
        for bad in [
            "http://127.0.0.1/x",
            "https://169.254.169.254/latest/meta-data",
            "https://10.0.0.1/",
            "https://[::1]/",
            "https://localhost/",
            "https://api.localhost/",
            "https://127.0.0.1:5432/",
            "https://[::ffff:a9fe:a9fe]/",
            "https://2130706433/",
            "https://0x7f.1/",
        ] {
            assert!(prod.check_url(bad).is_err(), "{bad}");
        }
        let allowing = OutboundPolicy::production(vec!["10.1.0.0/16".parse().unwrap()]);
        assert!(allowing.check_url("https://10.1.2.3/hook").is_ok());
        assert!(allowing.check_url("https://10.2.0.1/hook").is_err());
    }
}
