//! The OpenID Connect relying party, by the `openidconnect` crate: discovery
//! (the document must name the configured issuer), the authorization request
//! (code flow with PKCE S256, `state`, `nonce`), the code exchange, and the ID
//! token's verification — signature by a key of the provider's JWKS with an
//! asymmetric algorithm (never `none`, never HMAC), `iss`, `aud`, `exp`,
//! `nonce`. Every request goes through the outbound policy's client (checked
//! addresses, no redirects, a timeout) and reads at most 256 KiB.

use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreGenderClaim, CoreJwsSigningAlgorithm,
    CoreProviderMetadata,
};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, HttpRequest, HttpResponse, IssuerUrl,
    Nonce, OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope,
    TokenResponse, UserInfoClaims,
};
use serde_json::{Map, Value};
use spotlight_domain::sso::SsoSettings;
use spotlight_domain::Clock;
use spotlight_pipeline::outbound::{self, OutboundPolicy};

const MAX_BODY: usize = 256 * 1024;

/// Why a sign-in through the provider failed.
#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    /// The provider could not be reached or answered nonsense.
    #[error("the identity provider is unavailable: {0}")]
    Unavailable(String),
    /// The provider refused (e.g. a code used twice or issued to another client).
    #[error("the identity provider refused the sign-in: {0}")]
    Refused(String),
    /// The ID token is not one to trust.
    #[error("the ID token was refused: {0}")]
    InvalidToken(String),
}

/// An HTTP failure of a request to the provider.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct HttpError(String);

/// The outbound policy's client, as the crate's HTTP client: the URL checked
/// first, the body read up to [`MAX_BODY`].
struct Http<'a> {
    client: &'a reqwest::Client,
    policy: &'a OutboundPolicy,
}

type HttpFuture<'c> = std::pin::Pin<
    Box<dyn std::future::Future<Output = Result<HttpResponse, HttpError>> + Send + 'c>,
>;

impl<'c> openidconnect::AsyncHttpClient<'c> for Http<'_> {
    type Error = HttpError;
    type Future = HttpFuture<'c>;

    fn call(&'c self, request: HttpRequest) -> HttpFuture<'c> {
        Box::pin(send(self.client.clone(), self.policy.clone(), request))
    }
}

async fn send(
    client: reqwest::Client,
    policy: OutboundPolicy,
    request: HttpRequest,
) -> Result<HttpResponse, HttpError> {
    let url = request.uri().to_string();
    policy
        .check_url(&url)
        .map_err(|r| HttpError(format!("{url}: refused by the outbound policy: {r}")))?;
    let (parts, body) = request.into_parts();
    let mut req = client.request(parts.method, &url).body(body);
    for (name, value) in &parts.headers {
        req = req.header(name, value);
    }
    let mut resp = outbound::with_trace_context(req)
        .send()
        .await
        .map_err(|e| match outbound::refusal_in(&e) {
            Some(r) => HttpError(format!("{url}: refused by the outbound policy: {r}")),
            None => HttpError(format!("{url}: {}", error_chain(&e.without_url()))),
        })?;
    let mut builder = openidconnect::http::Response::builder().status(resp.status());
    for (name, value) in resp.headers() {
        builder = builder.header(name, value);
    }
    let mut bytes = Vec::new();
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| HttpError(format!("{url}: {}", e.without_url())))?
    {
        bytes.extend_from_slice(&chunk);
        if bytes.len() > MAX_BODY {
            return Err(HttpError(format!("{url}: answer over {MAX_BODY} bytes")));
        }
    }
    builder
        .body(bytes)
        .map_err(|e| HttpError(format!("{url}: {e}")))
}

/// What the provider's client needs besides the settings.
pub struct Relying<'a> {
    pub http: &'a reqwest::Client,
    pub policy: &'a OutboundPolicy,
    pub clock: &'a dyn Clock,
}

/// The start of a sign-in: where to send the browser, and what the callback
/// must find again.
pub struct Authorization {
    pub url: String,
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
}

/// Who the provider says signed in (the ID token verified).
#[derive(Debug)]
pub struct Verified {
    pub subject: String,
    pub email: Option<String>,
    pub email_verified: bool,
    /// Every claim of the ID token, for the groups claim.
    pub claims: Map<String, Value>,
}

impl Relying<'_> {
    async fn discover(&self, issuer: &str) -> Result<CoreProviderMetadata, OidcError> {
        let issuer = IssuerUrl::new(issuer.to_owned())
            .map_err(|e| OidcError::Unavailable(format!("issuer: {e}")))?;
        let http = Http {
            client: self.http,
            policy: self.policy,
        };
        CoreProviderMetadata::discover_async(issuer, &http)
            .await
            .map_err(|e| OidcError::Unavailable(error_chain(&e)))
    }

    /// Checks that the issuer answers discovery (and its JWKS), for saving
    /// settings that can work.
    pub async fn check_issuer(&self, issuer: &str) -> Result<(), OidcError> {
        self.discover(issuer).await.map(|_| ())
    }

    /// The provider's authorization URL for a new attempt.
    pub async fn authorize(
        &self,
        settings: &SsoSettings,
        redirect_uri: &str,
        login_hint: Option<&str>,
    ) -> Result<Authorization, OidcError> {
        let metadata = self.discover(&settings.issuer).await?;
        let client = CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(settings.client_id.clone()),
            None,
        )
        .set_redirect_uri(redirect(redirect_uri)?);
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .set_pkce_challenge(challenge);
        for scope in &settings.scopes {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        if let Some(hint) = login_hint {
            request = request.add_extra_param("login_hint", hint.to_owned());
        }
        let (url, state, nonce) = request.url();
        Ok(Authorization {
            url: url.to_string(),
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
        })
    }

    /// Exchanges the code (with the attempt's PKCE verifier) and verifies the
    /// ID token against the attempt's nonce.
    pub async fn finish(
        &self,
        settings: &SsoSettings,
        client_secret: &str,
        redirect_uri: &str,
        code: &str,
        pkce_verifier: String,
        nonce: &str,
    ) -> Result<Verified, OidcError> {
        let metadata = self.discover(&settings.issuer).await?;
        let client = CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(settings.client_id.clone()),
            Some(ClientSecret::new(client_secret.to_owned())),
        )
        .set_redirect_uri(redirect(redirect_uri)?);
        let http = Http {
            client: self.http,
            policy: self.policy,
        };
        let token = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|e| OidcError::Unavailable(error_chain(&e)))?
            .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier))
            .request_async(&http)
            .await
            .map_err(|e| match e {
                openidconnect::RequestTokenError::ServerResponse(r) => {
                    OidcError::Refused(r.to_string())
                }
                other => OidcError::Unavailable(error_chain(&other)),
            })?;
        let id_token = token
            .id_token()
            .ok_or_else(|| OidcError::InvalidToken("the provider sent no ID token".into()))?;
        let now_ms = self.clock.now().millis();
        let verifier = client
            .id_token_verifier()
            .set_allowed_algs(ASYMMETRIC)
            .set_time_fn(move || {
                chrono::DateTime::from_timestamp_millis(now_ms).unwrap_or_default()
            });
        let claims = id_token
            .claims(&verifier, &Nonce::new(nonce.to_owned()))
            .map_err(|e| OidcError::InvalidToken(error_chain(&e)))?;
        // The access token must be the one the ID token was issued with.
        if let Some(expected) = claims.access_token_hash() {
            let alg = id_token
                .signing_alg()
                .map_err(|e| OidcError::InvalidToken(error_chain(&e)))?;
            let key = id_token
                .signing_key(&verifier)
                .map_err(|e| OidcError::InvalidToken(error_chain(&e)))?;
            let actual = openidconnect::AccessTokenHash::from_token(token.access_token(), alg, key)
                .map_err(|e| OidcError::InvalidToken(error_chain(&e)))?;
            if actual != *expected {
                return Err(OidcError::InvalidToken(
                    "at_hash does not match the access token".into(),
                ));
            }
        }
        // Verified: its payload (the middle part) holds every claim, the
        // provider's own ones (groups) too.
        let raw = id_token.to_string();
        let mut all = raw
            .split('.')
            .nth(1)
            .and_then(|p| {
                use base64::Engine;
                base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(p)
                    .ok()
            })
            .and_then(|b| serde_json::from_slice::<Map<String, Value>>(&b).ok())
            .unwrap_or_default();
        let mut email = claims.email().map(|e| e.as_str().to_owned());
        let mut email_verified = claims.email_verified().unwrap_or(false);
        let subject = claims.subject().clone();
        // A conformant provider may keep the profile claims for its userinfo
        // endpoint (they are in the ID token only when no access token is
        // issued): ask it, for the same subject, when the token lacks them.
        let lacking = email.is_none()
            || settings
                .groups_claim
                .as_deref()
                .is_some_and(|c| !all.contains_key(c));
        if lacking {
            if let Ok(request) =
                client.user_info(token.access_token().clone(), Some(subject.clone()))
            {
                let info: UserInfoClaims<AllClaims, CoreGenderClaim> = request
                    .request_async(&http)
                    .await
                    .map_err(|e| OidcError::Refused(format!("userinfo: {}", error_chain(&e))))?;
                if email.is_none() {
                    email = info.email().map(|e| e.as_str().to_owned());
                    email_verified = info.email_verified().unwrap_or(false);
                }
                for (k, v) in info.additional_claims().rest.clone() {
                    all.entry(k).or_insert(v);
                }
            }
        }
        Ok(Verified {
            subject: subject.as_str().to_owned(),
            email,
            email_verified,
            claims: all,
        })
    }
}

/// Every claim of a userinfo answer, for the provider's own (groups).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct AllClaims {
    #[serde(flatten)]
    rest: Map<String, Value>,
}

impl openidconnect::AdditionalClaims for AllClaims {}

/// The algorithms an ID token may be signed with: public-key ones.
const ASYMMETRIC: [CoreJwsSigningAlgorithm; 9] = [
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha384,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha512,
    CoreJwsSigningAlgorithm::RsaSsaPssSha256,
    CoreJwsSigningAlgorithm::RsaSsaPssSha384,
    CoreJwsSigningAlgorithm::RsaSsaPssSha512,
    CoreJwsSigningAlgorithm::EcdsaP256Sha256,
    CoreJwsSigningAlgorithm::EcdsaP384Sha384,
    CoreJwsSigningAlgorithm::EdDsa,
];

fn redirect(uri: &str) -> Result<RedirectUrl, OidcError> {
    RedirectUrl::new(uri.to_owned())
        .map_err(|e| OidcError::Unavailable(format!("redirect URI: {e}")))
}

/// An error with its causes, on one line.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// The groups a verified ID token lists under `claim` (a list of strings, or
/// one string).
pub fn groups<'a>(claims: &'a Map<String, Value>, claim: &str) -> Vec<&'a str> {
    match claims.get(claim) {
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
        Some(Value::String(one)) => vec![one.as_str()],
        _ => Vec::new(),
    }
}
