//! API keys: publishable (`pk_…`, for the browser SDK) and secret (`sk_…`, for the
//! admin API). 32 random bytes, base64url without padding. Only the SHA-256 of the
//! whole key is ever stored; the plain key exists once, in the response that creates it.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;
use subtle::ConstantTimeEq;

const RANDOM_BYTES: usize = 32;
const ENCODED_LEN: usize = 43; // base64url(32 bytes) without padding

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum KeyKind {
    Publishable,
    Secret,
}

impl KeyKind {
    pub fn prefix(self) -> &'static str {
        match self {
            KeyKind::Publishable => "pk_",
            KeyKind::Secret => "sk_",
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            KeyKind::Publishable => "publishable",
            KeyKind::Secret => "secret",
        }
    }
    pub fn parse(s: &str) -> Option<KeyKind> {
        match s {
            "publishable" => Some(KeyKind::Publishable),
            "secret" => Some(KeyKind::Secret),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyParseError {
    #[error("the key does not have the expected prefix")]
    Prefix,
    #[error("the key is not well-formed")]
    Malformed,
}

/// A key in plain text. Its `Debug` never prints the secret part.
#[derive(Clone, PartialEq, Eq)]
pub struct PlainKey {
    kind: KeyKind,
    text: String,
}

impl fmt::Debug for PlainKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PlainKey({}…)", self.display_prefix())
    }
}

impl PlainKey {
    pub fn generate(kind: KeyKind, rng: &mut impl RngCore) -> PlainKey {
        let mut bytes = [0u8; RANDOM_BYTES];
        rng.fill_bytes(&mut bytes);
        PlainKey {
            kind,
            text: format!("{}{}", kind.prefix(), URL_SAFE_NO_PAD.encode(bytes)),
        }
    }

    /// Parses a key of the expected kind. Does not say whether it exists.
    pub fn parse(kind: KeyKind, text: &str) -> Result<PlainKey, KeyParseError> {
        let rest = text
            .strip_prefix(kind.prefix())
            .ok_or(KeyParseError::Prefix)?;
        if rest.len() != ENCODED_LEN
            || !rest
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(KeyParseError::Malformed);
        }
        Ok(PlainKey {
            kind,
            text: text.to_owned(),
        })
    }

    /// Parses either kind, by prefix.
    pub fn parse_any(text: &str) -> Result<PlainKey, KeyParseError> {
        if text.starts_with("pk_") {
            Self::parse(KeyKind::Publishable, text)
        } else {
            Self::parse(KeyKind::Secret, text)
        }
    }

    pub fn kind(&self) -> KeyKind {
        self.kind
    }

    /// The whole key: only to be shown once to its creator.
    pub fn expose(&self) -> &str {
        &self.text
    }

    /// A short, non-secret prefix for lists (`pk_AbCd1234`): 8 of 43 random chars.
    pub fn display_prefix(&self) -> String {
        self.text.chars().take(3 + 8).collect()
    }

    pub fn hash(&self) -> KeyHash {
        KeyHash::of(&self.text)
    }
}

/// SHA-256 of a secret token, hex-encoded for storage.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct KeyHash(String);

impl fmt::Debug for KeyHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeyHash(…)")
    }
}

impl KeyHash {
    pub fn of(secret: &str) -> KeyHash {
        KeyHash(hex::encode(Sha256::digest(secret.as_bytes())))
    }
    pub fn from_stored(hex: String) -> KeyHash {
        KeyHash(hex)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// Constant-time comparison, so a lookup never leaks how much of a hash matched.
    pub fn ct_eq(&self, other: &KeyHash) -> bool {
        self.0.as_bytes().ct_eq(other.0.as_bytes()).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    #[test]
    fn generated_keys_parse_and_hash_stably() {
        let mut rng = StdRng::seed_from_u64(7);
        let pk = PlainKey::generate(KeyKind::Publishable, &mut rng);
        assert!(pk.expose().starts_with("pk_"));
        assert_eq!(pk.expose().len(), 3 + 43);
        let parsed = PlainKey::parse(KeyKind::Publishable, pk.expose()).unwrap();
        assert!(parsed.hash().ct_eq(&pk.hash()));
        assert_eq!(pk.hash().as_str().len(), 64);
        let sk = PlainKey::generate(KeyKind::Secret, &mut rng);
        assert!(!sk.hash().ct_eq(&pk.hash()));
        assert!(!format!("{sk:?}").contains(&sk.expose()[12..]));
    }

    #[test]
    fn rejects_wrong_kind_and_malformed() {
        let mut rng = StdRng::seed_from_u64(1);
        let pk = PlainKey::generate(KeyKind::Publishable, &mut rng);
        assert_eq!(
            PlainKey::parse(KeyKind::Secret, pk.expose()),
            Err(KeyParseError::Prefix)
        );
        for bad in [
            "pk_",
            "pk_short",
            "pk_!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!",
            "",
        ] {
            assert!(PlainKey::parse(KeyKind::Publishable, bad).is_err(), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn parse_is_total(s in ".{0,80}") {
            let _ = PlainKey::parse_any(&s);
        }
    }
}
