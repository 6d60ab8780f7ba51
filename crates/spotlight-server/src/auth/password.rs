//! Dashboard passwords: argon2id (the argon2 crate's defaults: m=19 MiB, t=2, p=1),
//! hashed and verified off the async runtime.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use std::sync::OnceLock;

pub const MIN_LENGTH: usize = 10;
pub const MAX_LENGTH: usize = 1024;

pub fn check_strength(password: &str) -> Result<(), String> {
    let n = password.chars().count();
    if n < MIN_LENGTH {
        return Err(format!("must be at least {MIN_LENGTH} characters"));
    }
    if password.len() > MAX_LENGTH {
        return Err(format!("must be at most {MAX_LENGTH} bytes"));
    }
    Ok(())
}

pub fn hash_blocking(password: &str) -> Result<String, String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

pub async fn hash(password: String) -> Result<String, String> {
    tokio::task::spawn_blocking(move || hash_blocking(&password))
        .await
        .map_err(|e| e.to_string())?
}

fn real_hash(stored: Option<&str>) -> bool {
    stored.is_some_and(|s| PasswordHash::new(s).is_ok())
}

/// Verifies `password` against `stored`. With no stored hash (unknown account) it
/// verifies against a dummy, so both answers take the same time.
pub async fn verify(password: String, stored: Option<String>) -> bool {
    tokio::task::spawn_blocking(move || {
        let dummy;
        // An account without a password (made by SSO) takes the dummy's
        // time too.
        let real = stored.as_deref().and_then(|s| PasswordHash::new(s).ok());
        let parsed = match real {
            Some(p) => p,
            None => {
                dummy = dummy_hash();
                let Ok(p) = PasswordHash::new(dummy.as_str()) else {
                    return false;
                };
                p
            }
        };
        let ok = Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok();
        ok && real_hash(stored.as_deref())
    })
    .await
    .unwrap_or(false)
}

fn dummy_hash() -> String {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY
        .get_or_init(|| hash_blocking("no account has this password").unwrap_or_default())
        .clone()
}

/// A readable random password (for `spotlight member add` without stdin).
pub fn generate() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::thread_rng();
    (0..20)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_are_argon2id_and_verify() {
        let h = hash("correct horse battery".into()).await.unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify("correct horse battery".into(), Some(h.clone())).await);
        assert!(!verify("wrong".into(), Some(h)).await);
        assert!(!verify("anything".into(), None).await);
        assert!(!verify("x".into(), Some("not a phc string".into())).await);
    }

    #[test]
    fn strength_and_generation() {
        assert!(check_strength("short").is_err());
        assert!(check_strength(&"x".repeat(2000)).is_err());
        let p = generate();
        assert_eq!(p.len(), 20);
        assert!(check_strength(&p).is_ok());
    }
}
