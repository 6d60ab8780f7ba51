//! End-user identity verification: a JWT from the tenant's identity provider,
//! checked against HS256 shared secrets (two may be active while rotating), a
//! static public key, or a JWKS URL. Refusals carry a short reason code that
//! goes to logs and metrics, never to the caller.
//!
//! Expiry and not-before are checked here against the server's clock (time is a
//! parameter), with a small leeway for clock skew between servers.

use crate::cache::{CacheSettings, Cached, Weigh};
use crate::metrics::Metrics;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};
use spotlight_domain::settings::{IdentityVerification, KeyAlgorithm, VerificationMethod};
use spotlight_domain::Clock;
use spotlight_pipeline::outbound::{self, OutboundPolicy};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Tokens longer than this are refused before any decoding.
pub const MAX_TOKEN_BYTES: usize = 4096;
const LEEWAY_SECS: i64 = 30;
const JWKS_TIMEOUT: Duration = Duration::from_secs(5);
const JWKS_MAX_BYTES: usize = 256 * 1024;
/// An unknown `kid` may force a JWKS download at most this often per URL.
const FORCED_REFRESH_EVERY_MS: i64 = 30_000;

#[derive(Debug, Clone)]
pub struct Verified {
    pub subject: String,
    pub claims: Map<String, Value>,
}

/// The keys one environment verifies with, prepared once per settings load.
#[derive(Clone)]
pub enum Verifier {
    None,
    Hs256(Vec<DecodingKey>),
    PublicKey(Algorithm, DecodingKey),
    Jwks(String),
    /// Configured, but the key could not be used (reported at load).
    Broken,
}

impl Verifier {
    /// `secrets` are the environment's HS256 secrets, already opened.
    pub fn prepare(iv: &IdentityVerification, secrets: &[String]) -> Verifier {
        match &iv.method {
            VerificationMethod::None => Verifier::None,
            VerificationMethod::Hs256 => Verifier::Hs256(
                secrets
                    .iter()
                    .map(|s| DecodingKey::from_secret(s.as_bytes()))
                    .collect(),
            ),
            VerificationMethod::PublicKey { algorithm, pem } => {
                let pem = pem.as_bytes();
                let key = match algorithm {
                    KeyAlgorithm::Rs256 => {
                        DecodingKey::from_rsa_pem(pem).map(|k| (Algorithm::RS256, k))
                    }
                    KeyAlgorithm::Es256 => {
                        DecodingKey::from_ec_pem(pem).map(|k| (Algorithm::ES256, k))
                    }
                    KeyAlgorithm::EdDsa => {
                        DecodingKey::from_ed_pem(pem).map(|k| (Algorithm::EdDSA, k))
                    }
                };
                match key {
                    Ok((alg, k)) => Verifier::PublicKey(alg, k),
                    Err(e) => {
                        tracing::warn!(error = %e, "identity verification public key unusable");
                        Verifier::Broken
                    }
                }
            }
            VerificationMethod::Jwks { url } => Verifier::Jwks(url.clone()),
        }
    }

    pub fn is_configured(&self) -> bool {
        !matches!(self, Verifier::None)
    }
}

struct Jwks {
    set: JwkSet,
    bytes: usize,
}

impl Weigh for Jwks {
    fn weigh(&self) -> usize {
        self.bytes
    }
}

pub struct Identity {
    jwks: Cached<String, Jwks>,
    http: reqwest::Client,
    outbound: Arc<OutboundPolicy>,
    clock: Arc<dyn Clock>,
    metrics: Arc<Metrics>,
    forced: Mutex<HashMap<String, i64>>,
}

/// Why a token was refused, or why it could not be checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Invalid(&'static str),
    /// The JWKS could not be fetched and no usable copy is cached.
    KeysUnavailable,
}

/// How long a tenant's JWKS is used before it is fetched again, and how long
/// past that the last good copy still verifies while its URL fails.
#[derive(Debug, Clone, Copy)]
pub struct JwksTiming {
    pub refresh: Duration,
    pub max_stale: Duration,
}

impl Identity {
    pub fn new(
        clock: Arc<dyn Clock>,
        metrics: Arc<Metrics>,
        jwks: JwksTiming,
        outbound: Arc<OutboundPolicy>,
    ) -> Self {
        let http = outbound
            .client(
                JWKS_TIMEOUT,
                concat!("spotlight/", env!("CARGO_PKG_VERSION")),
            )
            .build()
            .unwrap_or_default();
        Identity {
            jwks: Cached::new(
                "jwks",
                CacheSettings {
                    fresh: jwks.refresh,
                    max_stale: jwks.max_stale,
                    max_bytes: 16 * 1024 * 1024,
                    stale_while_refreshing: true,
                },
                clock.clone(),
                metrics.clone(),
            ),
            http,
            outbound,
            clock,
            metrics,
            forced: Mutex::new(HashMap::new()),
        }
    }

    pub async fn verify(
        &self,
        iv: &IdentityVerification,
        verifier: &Verifier,
        token: &str,
    ) -> Result<Verified, Refusal> {
        use Refusal::Invalid;
        if token.len() > MAX_TOKEN_BYTES {
            return Err(Invalid("token_too_large"));
        }
        let header = match jsonwebtoken::decode_header(token) {
            Ok(h) => h,
            Err(_) if names_alg_none(token) => return Err(Invalid("algorithm")),
            Err(_) => return Err(Invalid("malformed")),
        };
        // RFC 7515 §4.1.11: extensions listed as critical must be understood;
        // this verifier understands none.
        if header.crit.is_some() {
            return Err(Invalid("critical_extension"));
        }
        let (alg, key) = match verifier {
            Verifier::None => return Err(Invalid("not_configured")),
            Verifier::Broken => return Err(Invalid("key_unusable")),
            Verifier::Hs256(keys) => {
                if header.alg != Algorithm::HS256 {
                    return Err(Invalid("algorithm"));
                }
                // Either active secret may have signed it. Once one has, any
                // other refusal (expiry, issuer, audience) is the real reason.
                for k in keys {
                    match self.check(token, Algorithm::HS256, k, iv) {
                        Ok(v) => return Ok(v),
                        Err(Invalid("signature")) => {}
                        Err(e) => return Err(e),
                    }
                }
                return Err(Invalid("signature"));
            }
            Verifier::PublicKey(alg, key) => {
                if header.alg != *alg {
                    return Err(Invalid("algorithm"));
                }
                (*alg, key.clone())
            }
            Verifier::Jwks(url) => {
                if !matches!(
                    header.alg,
                    Algorithm::RS256 | Algorithm::ES256 | Algorithm::EdDSA
                ) {
                    return Err(Invalid("algorithm"));
                }
                let key = self
                    .jwks_key(url, header.kid.as_deref(), header.alg)
                    .await?;
                (header.alg, key)
            }
        };
        self.check(token, alg, &key, iv)
    }

    fn check(
        &self,
        token: &str,
        alg: Algorithm,
        key: &DecodingKey,
        iv: &IdentityVerification,
    ) -> Result<Verified, Refusal> {
        use jsonwebtoken::errors::ErrorKind;
        use Refusal::Invalid;
        let mut v = Validation::new(alg);
        v.validate_exp = false;
        v.validate_nbf = false;
        v.validate_aud = false;
        v.required_spec_claims.clear();
        let data = jsonwebtoken::decode::<Map<String, Value>>(token, key, &v).map_err(|e| {
            Invalid(match e.kind() {
                ErrorKind::InvalidSignature => "signature",
                ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName => "algorithm",
                _ => "malformed",
            })
        })?;
        let claims = data.claims;
        let now = self.clock.now().millis() / 1000;
        let Some(exp) = claims.get("exp").and_then(Value::as_i64) else {
            return Err(Invalid("missing_exp"));
        };
        if exp + LEEWAY_SECS <= now {
            return Err(Invalid("expired"));
        }
        if let Some(nbf) = claims.get("nbf") {
            match nbf.as_i64() {
                Some(nbf) if nbf - LEEWAY_SECS <= now => {}
                _ => return Err(Invalid("not_yet_valid")),
            }
        }
        if let Some(iss) = &iv.issuer {
            if claims.get("iss").and_then(Value::as_str) != Some(iss.as_str()) {
                return Err(Invalid("issuer"));
            }
        }
        if let Some(aud) = &iv.audience {
            let ok = match claims.get("aud") {
                Some(Value::String(s)) => s == aud,
                Some(Value::Array(a)) => a.iter().any(|x| x.as_str() == Some(aud.as_str())),
                _ => false,
            };
            if !ok {
                return Err(Invalid("audience"));
            }
        }
        let subject = match claims.get("sub").and_then(Value::as_str) {
            Some(s) if !s.is_empty() && s.len() <= 256 && !s.chars().any(char::is_control) => {
                s.to_owned()
            }
            Some(_) => return Err(Invalid("invalid_subject")),
            None => return Err(Invalid("missing_subject")),
        };
        Ok(Verified { subject, claims })
    }

    async fn jwks_key(
        &self,
        url: &str,
        kid: Option<&str>,
        alg: Algorithm,
    ) -> Result<DecodingKey, Refusal> {
        let set = self
            .jwks
            .get(url.to_owned(), 0, || {
                fetch(self.fetcher(), url.to_owned(), self.metrics.clone())
            })
            .await
            .map_err(|_| Refusal::KeysUnavailable)?
            .ok_or(Refusal::KeysUnavailable)?;
        if let Some(k) = find(&set.set, kid, alg) {
            return Ok(k);
        }
        // A kid we do not know may be a key the provider just rotated in.
        if !self.may_force(url) {
            return Err(Refusal::Invalid("unknown_kid"));
        }
        match fetch(self.fetcher(), url.to_owned(), self.metrics.clone()).await {
            Ok(Some(fresh)) => {
                let key = find(&fresh.set, kid, alg);
                self.jwks.put(url.to_owned(), 0, fresh).await;
                key.ok_or(Refusal::Invalid("unknown_kid"))
            }
            _ => Err(Refusal::Invalid("unknown_kid")),
        }
    }

    fn fetcher(&self) -> Fetcher {
        Fetcher {
            http: self.http.clone(),
            outbound: self.outbound.clone(),
        }
    }

    fn may_force(&self, url: &str) -> bool {
        let now = self.clock.now().millis();
        let Ok(mut forced) = self.forced.lock() else {
            return false;
        };
        if forced.len() > 10_000 {
            forced.clear();
        }
        match forced.get(url) {
            Some(at) if now - at < FORCED_REFRESH_EVERY_MS => false,
            _ => {
                forced.insert(url.to_owned(), now);
                true
            }
        }
    }
}

fn find(set: &JwkSet, kid: Option<&str>, alg: Algorithm) -> Option<DecodingKey> {
    let fits = |k: &&jsonwebtoken::jwk::Jwk| {
        let key_alg_ok = match k.common.key_algorithm {
            Some(a) => a.to_string() == format!("{alg:?}"),
            None => true,
        };
        key_alg_ok && DecodingKey::from_jwk(k).is_ok()
    };
    let jwk = match kid {
        Some(kid) => set
            .keys
            .iter()
            .filter(|k| k.common.key_id.as_deref() == Some(kid))
            .find(fits),
        // Without a kid, only an unambiguous set will do.
        None => {
            let mut usable = set.keys.iter().filter(fits);
            match (usable.next(), usable.next()) {
                (Some(k), None) => Some(k),
                _ => None,
            }
        }
    }?;
    DecodingKey::from_jwk(jwk).ok()
}

/// Downloads a JWKS: three tries with backoff, each bounded by the client's
/// timeout, the body bounded in size.
/// What a JWKS download needs: the policy's client, and the policy to check
/// the URL against before each try (a literal address resolves nowhere).
struct Fetcher {
    http: reqwest::Client,
    outbound: Arc<OutboundPolicy>,
}

#[tracing::instrument(
    name = "jwks.fetch",
    skip_all,
    fields(otel.kind = "client", url.full = %url, otel.status_code = tracing::field::Empty)
)]
async fn fetch(
    fetcher: Fetcher,
    url: String,
    metrics: Arc<Metrics>,
) -> Result<Option<Jwks>, String> {
    let mut delay = Duration::from_millis(200);
    let mut last = String::new();
    if let Err(refused) = fetcher.outbound.check_url(&url) {
        Metrics::count(&metrics.jwks_fetches, "error");
        return Err(format!(
            "JWKS {url}: refused by the outbound policy: {refused}"
        ));
    }
    for attempt in 0..3 {
        if attempt > 0 {
            tokio::time::sleep(delay).await;
            delay *= 2;
        }
        match fetch_once(&fetcher.http, &url).await {
            Ok(j) => {
                Metrics::count(&metrics.jwks_fetches, "ok");
                return Ok(Some(j));
            }
            Err(e) => {
                Metrics::count(&metrics.jwks_fetches, "error");
                last = e;
            }
        }
    }
    tracing::Span::current().record("otel.status_code", "error");
    Err(format!("JWKS {url}: {last}"))
}

async fn fetch_once(http: &reqwest::Client, url: &str) -> Result<Jwks, String> {
    let mut resp = outbound::with_trace_context(http.get(url))
        .send()
        .await
        .map_err(|e| match outbound::refusal_in(&e) {
            Some(r) => format!("refused by the outbound policy: {r}"),
            None => e.without_url().to_string(),
        })?;
    if !resp.status().is_success() {
        return Err(format!("status {}", resp.status()));
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| e.to_string())? {
        body.extend_from_slice(&chunk);
        if body.len() > JWKS_MAX_BYTES {
            return Err("body too large".into());
        }
    }
    let set: JwkSet = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
    Ok(Jwks {
        set,
        bytes: body.len(),
    })
}

/// Does the token's header name `none` (which no decoder accepts, so ask plainly)?
fn names_alg_none(token: &str) -> bool {
    use base64::Engine;
    let Some(head) = token.split('.').next() else {
        return false;
    };
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(head.trim_end_matches('='))
        .ok()
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
        .and_then(|h| {
            h.get("alg")
                .and_then(Value::as_str)
                .map(str::to_ascii_lowercase)
        })
        .is_some_and(|a| a == "none")
}
