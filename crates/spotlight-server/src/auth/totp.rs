//! The second factor: TOTP (RFC 6238: HMAC-SHA1, 6 digits, 30-second steps,
//! one step of clock drift either way), as every authenticator app reads it
//! from an `otpauth://` URI, and one-time recovery codes. The time step a code
//! was made for is returned so the store can accept each step once.

use qrcode::render::svg;
use qrcode::QrCode;
use rand::{Rng, RngCore};
use spotlight_domain::KeyHash;
use totp_rs::{Algorithm, Builder, Secret, Totp};

const STEP_SECS: u64 = 30;
const DIGITS: u8 = 6;
/// How many recovery codes an account gets at a time.
pub const RECOVERY_CODES: usize = 10;
/// Shown beside the account in authenticator apps.
const ISSUER: &str = "Spotlight";

/// A fresh 160-bit secret (RFC 4226's recommended length), base32.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 20];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    Secret::new_stack(bytes).to_base32()
}

fn totp(secret_base32: &str, account: &str) -> Option<Totp> {
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(DIGITS)
        .with_skew(1)
        .with_step_duration(STEP_SECS)
        .with_secret(Secret::try_from_base32(secret_base32).ok()?)
        .with_issuer(Some(ISSUER))
        .with_account_name(account)
        .build()
        .ok()
}

/// The `otpauth://totp/…` URI an authenticator app scans.
pub fn otpauth_url(secret_base32: &str, account: &str) -> Option<String> {
    totp(secret_base32, account)?.to_url().ok()
}

/// The URI as a QR code, an SVG document (dark modules on white).
pub fn qr_svg(url: &str) -> Option<String> {
    let code = QrCode::new(url.as_bytes()).ok()?;
    Some(
        code.render::<svg::Color>()
            .min_dimensions(200, 200)
            .quiet_zone(true)
            .build(),
    )
}

/// The time step `code` was made for, if it is the code of this step or of one
/// step either side (compared in constant time by the library).
pub fn matching_step(secret_base32: &str, code: &str, now_secs: u64) -> Option<i64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != usize::from(DIGITS) || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    totp(secret_base32, "-")?
        .check(&code, now_secs)
        .and_then(|step| i64::try_from(step).ok())
}

/// Letters and digits that cannot be misread for one another.
const ALPHABET: &[u8] = b"23456789abcdefghjkmnpqrstuvwxyz";

/// New recovery codes (`xxxxx-xxxxx`, about 49 bits each) and their hashes.
pub fn new_recovery_codes() -> (Vec<String>, Vec<KeyHash>) {
    let mut rng = rand::rngs::OsRng;
    let codes: Vec<String> = (0..RECOVERY_CODES)
        .map(|_| {
            let c: String = (0..10)
                .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
                .collect();
            format!("{}-{}", &c[..5], &c[5..])
        })
        .collect();
    let hashes = codes.iter().map(|c| recovery_hash(c)).collect();
    (codes, hashes)
}

/// The stored form of a recovery code as typed: case, spaces and dashes aside.
pub fn recovery_hash(code: &str) -> KeyHash {
    let normal: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    KeyHash::of(&format!("recovery:{normal}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA-1, truncated to six digits.
    #[test]
    fn rfc_6238_vectors() {
        let secret = Secret::from(b"12345678901234567890".as_slice()).to_base32();
        for (time, code) in [
            (59u64, "287082"),
            (1_111_111_109, "081804"),
            (1_234_567_890, "005924"),
            (2_000_000_000, "279037"),
        ] {
            assert_eq!(
                matching_step(&secret, code, time),
                Some((time / 30) as i64),
                "{time}"
            );
        }
        // One step of drift either way, not two.
        assert_eq!(
            matching_step(&secret, "081804", 1_111_111_109 + 30),
            Some(37_037_036)
        );
        assert_eq!(matching_step(&secret, "081804", 1_111_111_109 + 61), None);
        assert_eq!(matching_step(&secret, "08180", 1_111_111_109), None);
        assert_eq!(matching_step(&secret, "08180x", 1_111_111_109), None);
        assert_eq!(
            matching_step(&secret, "081 804", 1_111_111_109),
            Some(37_037_036)
        );
    }

    #[test]
    fn url_qr_and_recovery_codes() {
        let s = new_secret();
        assert_eq!(s.len(), 32);
        let url = otpauth_url(&s, "ana@example.com").unwrap();
        assert!(
            url.starts_with("otpauth://totp/Spotlight:ana%40example.com?"),
            "{url}"
        );
        assert!(url.contains(&format!("secret={s}")));
        assert!(qr_svg(&url).unwrap().starts_with("<?xml"));
        let (codes, hashes) = new_recovery_codes();
        assert_eq!(codes.len(), RECOVERY_CODES);
        assert!(recovery_hash(&codes[0].to_uppercase().replace('-', " ")) == hashes[0]);
        assert!(hashes[0] != hashes[1]);
    }
}
