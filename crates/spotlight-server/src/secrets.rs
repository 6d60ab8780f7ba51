//! Secrets Spotlight must read back (HS256 verification secrets, later webhook
//! signing secrets) are encrypted at rest with the master key: XChaCha20-Poly1305,
//! a random 24-byte nonce per value, stored as base64(nonce ‖ ciphertext).
//! Without a configured master key (development only), one is generated into the
//! data directory on first start and reused after.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use std::path::Path;

pub struct SecretBox {
    cipher: XChaCha20Poly1305,
}

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("cannot read or create the development master key at {path}: {source}")]
    KeyFile {
        path: String,
        source: std::io::Error,
    },
    #[error("the development master key file is not 32 bytes of hex")]
    KeyFormat,
    #[error("a stored secret could not be decrypted (wrong master key?)")]
    Decrypt,
}

impl SecretBox {
    pub fn new(key: &[u8; 32]) -> SecretBox {
        SecretBox {
            cipher: XChaCha20Poly1305::new(key.into()),
        }
    }

    /// The development key in `data_dir/master.key`, created (mode 0600) if missing.
    pub fn dev_key(data_dir: &Path) -> Result<[u8; 32], SecretError> {
        let path = data_dir.join("master.key");
        let io = |source| SecretError::KeyFile {
            path: path.display().to_string(),
            source,
        };
        if let Ok(text) = std::fs::read_to_string(&path) {
            let bytes = hex::decode(text.trim()).map_err(|_| SecretError::KeyFormat)?;
            return bytes.try_into().map_err(|_| SecretError::KeyFormat);
        }
        std::fs::create_dir_all(data_dir).map_err(io)?;
        let key: [u8; 32] = XChaCha20Poly1305::generate_key(&mut OsRng).into();
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        use std::io::Write;
        let mut f = options.open(&path).map_err(io)?;
        f.write_all(hex::encode(key).as_bytes()).map_err(io)?;
        Ok(key)
    }

    pub fn seal(&self, plain: &str) -> String {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        // Encryption with a fresh nonce and a valid key cannot fail.
        let ct = self
            .cipher
            .encrypt(&nonce, plain.as_bytes())
            .unwrap_or_default();
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ct);
        STANDARD.encode(out)
    }

    pub fn open(&self, sealed: &str) -> Result<String, SecretError> {
        let bytes = STANDARD.decode(sealed).map_err(|_| SecretError::Decrypt)?;
        if bytes.len() < 24 {
            return Err(SecretError::Decrypt);
        }
        let (nonce, ct) = bytes.split_at(24);
        let plain = self
            .cipher
            .decrypt(XNonce::from_slice(nonce), ct)
            .map_err(|_| SecretError::Decrypt)?;
        String::from_utf8(plain).map_err(|_| SecretError::Decrypt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_and_tamper() {
        let b = SecretBox::new(&[7u8; 32]);
        let s = b.seal("hunter2-hunter2");
        assert!(!s.contains("hunter2"));
        assert_ne!(s, b.seal("hunter2-hunter2"), "nonces differ");
        assert_eq!(b.open(&s).unwrap(), "hunter2-hunter2");
        let other = SecretBox::new(&[8u8; 32]);
        assert!(other.open(&s).is_err());
        let mut bytes = STANDARD.decode(&s).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        assert!(b.open(&STANDARD.encode(bytes)).is_err());
    }

    #[test]
    fn dev_key_is_created_once() {
        let dir = tempfile::tempdir().unwrap();
        let a = SecretBox::dev_key(dir.path()).unwrap();
        let b = SecretBox::dev_key(dir.path()).unwrap();
        assert_eq!(a, b);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("master.key"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
