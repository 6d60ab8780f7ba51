//! Rate limits as token buckets: login per client IP and per account (e-mail),
//! and per-tenant / per-key quotas for the SDK and admin APIs.

use governor::clock::{Clock, DefaultClock};
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};
use std::net::IpAddr;
use std::num::NonZeroU32;

type Keyed<K> = RateLimiter<K, DefaultKeyedStateStore<K>, DefaultClock>;

/// Every rate limit the server applies.
pub struct Limits {
    /// SDK requests per tenant (the tenant's `sdk_per_minute`).
    pub sdk: QuotaLimiter<spotlight_domain::TenantId>,
    /// Admin requests per key or session (the tenant's `admin_per_minute`).
    pub admin: QuotaLimiter<String>,
    /// Logins per client IP and per account (configuration).
    pub login: LoginLimiter,
}

impl Limits {
    pub fn new(login_per_ip_per_minute: u32, login_per_account_per_minute: u32) -> Limits {
        Limits {
            sdk: QuotaLimiter::new(100_000),
            admin: QuotaLimiter::new(100_000),
            login: LoginLimiter::new(login_per_ip_per_minute, login_per_account_per_minute),
        }
    }
}

pub struct LoginLimiter {
    per_ip: Keyed<IpAddr>,
    per_account: Keyed<String>,
    clock: DefaultClock,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limited {
    Ip(u64),
    Account(u64),
}

impl Limited {
    pub fn retry_after_secs(self) -> u64 {
        match self {
            Limited::Ip(s) | Limited::Account(s) => s,
        }
    }
}

fn quota(per_minute: u32) -> Quota {
    Quota::per_minute(NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN))
}

impl LoginLimiter {
    pub fn new(per_ip_per_minute: u32, per_account_per_minute: u32) -> Self {
        LoginLimiter {
            per_ip: RateLimiter::keyed(quota(per_ip_per_minute)),
            per_account: RateLimiter::keyed(quota(per_account_per_minute)),
            clock: DefaultClock::default(),
        }
    }

    /// Takes one attempt from both buckets, or says how long to wait.
    pub fn check(&self, ip: Option<IpAddr>, account: &str) -> Result<(), Limited> {
        if let Some(ip) = ip {
            if let Err(not_until) = self.per_ip.check_key(&ip) {
                let wait = not_until.wait_time_from(self.clock.now());
                return Err(Limited::Ip(wait.as_secs() + 1));
            }
        }
        if let Err(not_until) = self.per_account.check_key(&account.to_owned()) {
            let wait = not_until.wait_time_from(self.clock.now());
            return Err(Limited::Account(wait.as_secs() + 1));
        }
        Ok(())
    }

    /// Takes one attempt from the client IP's bucket only: for a sign-in
    /// that names no account yet (an SSO start, which many people of one
    /// team make).
    pub fn check_ip(&self, ip: Option<IpAddr>) -> Result<(), Limited> {
        if let Some(ip) = ip {
            if let Err(not_until) = self.per_ip.check_key(&ip) {
                let wait = not_until.wait_time_from(self.clock.now());
                return Err(Limited::Ip(wait.as_secs() + 1));
            }
        }
        Ok(())
    }

    /// Forgets keys whose buckets are full again, bounding memory.
    pub fn retain_recent(&self) {
        self.per_ip.retain_recent();
        self.per_ip.shrink_to_fit();
        self.per_account.retain_recent();
        self.per_account.shrink_to_fit();
    }
}

/// Token buckets keyed by tenant or key, each with its own per-minute quota
/// (tenants configure theirs). A changed quota starts a fresh bucket.
pub struct QuotaLimiter<K: std::hash::Hash + Eq + Send + Sync + 'static> {
    buckets: moka::sync::Cache<K, std::sync::Arc<Bucket>, crate::cache::KeyHasher>,
    clock: DefaultClock,
}

pub struct Bucket {
    per_minute: u32,
    limiter: governor::DefaultDirectRateLimiter,
}

impl<K: std::hash::Hash + Eq + Clone + Send + Sync + 'static> QuotaLimiter<K> {
    pub fn new(max_keys: u64) -> Self {
        QuotaLimiter {
            buckets: moka::sync::Cache::builder()
                .max_capacity(max_keys)
                // An idle bucket is full again after a minute anyway.
                .time_to_idle(std::time::Duration::from_secs(120))
                .build_with_hasher(crate::cache::KeyHasher::default()),
            clock: DefaultClock::default(),
        }
    }

    /// Takes one request, or says how many seconds to wait.
    pub fn check(&self, key: &K, per_minute: u32) -> Result<(), u64> {
        let bucket = match self.buckets.get(key) {
            Some(b) if b.per_minute == per_minute => b,
            _ => {
                let b = std::sync::Arc::new(Bucket {
                    per_minute,
                    limiter: RateLimiter::direct(quota(per_minute)),
                });
                self.buckets.insert(key.clone(), b.clone());
                b
            }
        };
        bucket
            .limiter
            .check()
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()).as_secs() + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_per_ip_and_per_account() {
        let l = LoginLimiter::new(3, 2);
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        assert!(l.check(Some(ip), "a@x.test").is_ok());
        assert!(l.check(Some(ip), "a@x.test").is_ok());
        assert!(matches!(
            l.check(Some(ip), "a@x.test"),
            Err(Limited::Account(_))
        ));
        // The IP's third attempt was taken above; the fourth is refused by IP.
        assert!(matches!(l.check(Some(ip), "b@x.test"), Err(Limited::Ip(_))));
        let other: IpAddr = "10.0.0.2".parse().unwrap();
        assert!(l.check(Some(other), "b@x.test").is_ok());
    }
}
