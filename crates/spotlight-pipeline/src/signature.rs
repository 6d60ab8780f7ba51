//! Webhook signatures: `Spotlight-Signature: t=<unix seconds>,v1=<hex>` where the
//! hex is HMAC-SHA256 over `"{t}.{body}"` with the endpoint's secret. During a
//! secret rotation a second `v1=` (the previous secret) is sent; a receiver
//! accepts the request when any `v1` matches and `t` is recent.

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

pub const HEADER: &str = "Spotlight-Signature";

pub fn sign(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    // HMAC takes keys of any length.
    let Ok(mut mac) = HmacSha256::new_from_slice(secret) else {
        return String::new();
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// The header value for a body signed with each of `secrets`.
pub fn header(secrets: &[&[u8]], timestamp: i64, body: &[u8]) -> String {
    let mut out = format!("t={timestamp}");
    for s in secrets {
        out.push_str(",v1=");
        out.push_str(&sign(s, timestamp, body));
    }
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Invalid {
    #[error("the header is malformed")]
    Malformed,
    #[error("the timestamp is outside the tolerance")]
    Stale,
    #[error("no signature matches")]
    Mismatch,
}

/// What a receiver does: checks the timestamp is within `tolerance_secs` of
/// `now` and that one `v1` matches, in constant time.
pub fn verify(
    header: &str,
    body: &[u8],
    secret: &[u8],
    now: i64,
    tolerance_secs: i64,
) -> Result<(), Invalid> {
    let mut t = None;
    let mut sigs = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) => t = v.parse::<i64>().ok(),
            Some(("v1", v)) => sigs.push(hex::decode(v).map_err(|_| Invalid::Malformed)?),
            _ => {}
        }
    }
    let t = t.ok_or(Invalid::Malformed)?;
    if sigs.is_empty() {
        return Err(Invalid::Malformed);
    }
    if (now - t).abs() > tolerance_secs {
        return Err(Invalid::Stale);
    }
    for sig in sigs {
        let Ok(mut mac) = HmacSha256::new_from_slice(secret) else {
            return Err(Invalid::Mismatch);
        };
        mac.update(t.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        if mac.verify_slice(&sig).is_ok() {
            return Ok(());
        }
    }
    Err(Invalid::Mismatch)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn known_vector() {
        // python3: hmac.new(b"whsec_test", b'1700000000.{"a":1}', hashlib.sha256).hexdigest()
        assert_eq!(
            sign(b"whsec_test", 1_700_000_000, br#"{"a":1}"#),
            "38877139021993b830af32feea6e18a8da83eb2f6e49ee50bd9e4cf4ca4d3789"
        );
    }

    #[test]
    fn round_trip_and_failures() {
        let body = br#"{"events":[]}"#;
        let h = header(&[b"new", b"old"], 1000, body);
        assert!(h.starts_with("t=1000,v1="));
        assert_eq!(verify(&h, body, b"new", 1010, 300), Ok(()));
        assert_eq!(verify(&h, body, b"old", 1010, 300), Ok(()));
        assert_eq!(
            verify(&h, body, b"other", 1010, 300),
            Err(Invalid::Mismatch)
        );
        assert_eq!(
            verify(&h, b"tampered", b"new", 1010, 300),
            Err(Invalid::Mismatch)
        );
        assert_eq!(verify(&h, body, b"new", 5000, 300), Err(Invalid::Stale));
        assert_eq!(
            verify("v1=zz", body, b"new", 1000, 300),
            Err(Invalid::Malformed)
        );
        assert_eq!(
            verify("t=1000", body, b"new", 1000, 300),
            Err(Invalid::Malformed)
        );
    }
}
