//! Login rate limits, per client IP and per account (e-mail), as token buckets.

use governor::clock::{Clock, DefaultClock};
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};
use std::net::IpAddr;
use std::num::NonZeroU32;

type Keyed<K> = RateLimiter<K, DefaultKeyedStateStore<K>, DefaultClock>;

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

    /// Forgets keys whose buckets are full again, bounding memory.
    pub fn retain_recent(&self) {
        self.per_ip.retain_recent();
        self.per_ip.shrink_to_fit();
        self.per_account.retain_recent();
        self.per_account.shrink_to_fit();
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
