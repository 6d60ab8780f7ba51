//! One error type for every route, rendered from one table of codes as
//! `{"error":{"code","message","request_id","details"?}}`. Clients switch on `code`.
//! 5xx bodies never carry internals: the cause goes to the log with the request id.

use crate::request_id::current_request_id;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};
use spotlight_domain::ValidationErrors;
use spotlight_store::StoreError;

macro_rules! codes {
    ($($variant:ident => ($code:literal, $status:ident)),* $(,)?) => {
        /// Every error code the API returns, with its HTTP status.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum ErrorCode { $($variant),* }

        impl ErrorCode {
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant),*];
            pub fn as_str(self) -> &'static str {
                match self { $(ErrorCode::$variant => $code),* }
            }
            pub fn status(self) -> StatusCode {
                match self { $(ErrorCode::$variant => StatusCode::$status),* }
            }
        }
    };
}

codes! {
    BadRequest => ("bad_request", BAD_REQUEST),
    InvalidJson => ("invalid_json", BAD_REQUEST),
    InvalidQuery => ("invalid_query", BAD_REQUEST),
    Unauthenticated => ("unauthenticated", UNAUTHORIZED),
    InvalidCredentials => ("invalid_credentials", UNAUTHORIZED),
    TwoFactorRequired => ("two_factor_required", UNAUTHORIZED),
    InvalidTwoFactorCode => ("invalid_two_factor_code", UNAUTHORIZED),
    TwoFactorEnrolmentRequired => ("two_factor_enrolment_required", FORBIDDEN),
    SsoRequired => ("sso_required", FORBIDDEN),
    SsoFailed => ("sso_failed", UNAUTHORIZED),
    Forbidden => ("forbidden", FORBIDDEN),
    OriginNotAllowed => ("origin_not_allowed", FORBIDDEN),
    CsrfFailed => ("csrf_failed", FORBIDDEN),
    NotFound => ("not_found", NOT_FOUND),
    RouteNotFound => ("route_not_found", NOT_FOUND),
    MethodNotAllowed => ("method_not_allowed", METHOD_NOT_ALLOWED),
    Conflict => ("conflict", CONFLICT),
    PreconditionFailed => ("precondition_failed", PRECONDITION_FAILED),
    PayloadTooLarge => ("payload_too_large", PAYLOAD_TOO_LARGE),
    UnsupportedMediaType => ("unsupported_media_type", UNSUPPORTED_MEDIA_TYPE),
    ValidationFailed => ("validation_failed", UNPROCESSABLE_ENTITY),
    RateLimited => ("rate_limited", TOO_MANY_REQUESTS),
    Internal => ("internal", INTERNAL_SERVER_ERROR),
    Unavailable => ("unavailable", SERVICE_UNAVAILABLE),
    IdentityProviderUnavailable => ("identity_provider_unavailable", BAD_GATEWAY),
    Timeout => ("timeout", SERVICE_UNAVAILABLE),
}

#[derive(Debug)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    pub details: Option<Value>,
    pub retry_after_secs: Option<u64>,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError {
            code,
            message: message.into(),
            details: None,
            retry_after_secs: None,
        }
    }
    pub fn with_details(mut self, details: Value) -> Self {
        self.details = Some(details);
        self
    }
    pub fn not_found() -> Self {
        Self::new(ErrorCode::NotFound, "not found")
    }
    /// Never says which part of the credentials failed.
    pub fn unauthenticated() -> Self {
        Self::new(ErrorCode::Unauthenticated, "missing or invalid credentials")
    }
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Forbidden, message)
    }
    pub fn rate_limited(retry_after_secs: u64) -> Self {
        ApiError {
            retry_after_secs: Some(retry_after_secs.max(1)),
            ..Self::new(ErrorCode::RateLimited, "too many requests; retry later")
        }
    }
    pub fn validation(errors: ValidationErrors) -> Self {
        Self::new(
            ErrorCode::ValidationFailed,
            format!("invalid input: {errors}"),
        )
        .with_details(json!({ "fields": errors }))
    }
    pub fn field(path: &str, message: &str) -> Self {
        Self::validation(ValidationErrors::single(path, message))
    }
    pub fn unavailable() -> Self {
        Self::new(
            ErrorCode::Unavailable,
            "temporarily unavailable; retry later",
        )
    }
    /// An internal failure: logged with its cause, answered without it.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(ErrorCode::Internal, "internal error")
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound | StoreError::NoSuchVersion => ApiError::not_found(),
            StoreError::Precondition => ApiError::new(
                ErrorCode::PreconditionFailed,
                "the object changed since you read it; reload it, or retry with its current ETag",
            ),
            StoreError::Conflict(what) => {
                ApiError::new(ErrorCode::Conflict, "conflicts with an existing object")
                    .with_details(json!({ "constraint": what }))
            }
            e if e.is_unavailable() => {
                tracing::error!(error = %e, "store unavailable");
                ApiError::new(
                    ErrorCode::Unavailable,
                    "the store is unavailable; retry later",
                )
            }
            e => ApiError::internal(e),
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        match r {
            JsonRejection::JsonSyntaxError(e) => ApiError::new(
                ErrorCode::InvalidJson,
                format!("malformed JSON: {}", source_text(&e)),
            ),
            JsonRejection::JsonDataError(e) => {
                // serde_path_to_error's text is "path: message" ("." at the root).
                let text = source_text(&e);
                let (path, message) = match text.split_once(": ") {
                    Some((p, m)) if !p.contains(' ') => (p.to_owned(), m.to_owned()),
                    _ => (".".to_owned(), text.clone()),
                };
                ApiError::new(ErrorCode::ValidationFailed, format!("invalid body: {text}"))
                    .with_details(json!({ "fields": [{ "path": path, "message": message }] }))
            }
            JsonRejection::MissingJsonContentType(_) => ApiError::new(
                ErrorCode::UnsupportedMediaType,
                "expected Content-Type: application/json",
            ),
            JsonRejection::BytesRejection(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                ApiError::new(ErrorCode::PayloadTooLarge, "request body is too large")
            }
            other => ApiError::new(ErrorCode::BadRequest, other.body_text()),
        }
    }
}

/// serde's message carries the position (`line 1 column 9`), without axum's prefix.
fn source_text(e: &dyn std::error::Error) -> String {
    let mut last = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        last = s.to_string();
        cur = s.source();
    }
    last
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        ApiError::new(ErrorCode::InvalidQuery, r.body_text())
    }
}

impl From<PathRejection> for ApiError {
    // A path segment that does not parse (not a UUID) names nothing that exists.
    fn from(_: PathRejection) -> Self {
        ApiError::not_found()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = json!({
            "code": self.code.as_str(),
            "message": self.message,
            "request_id": current_request_id(),
        });
        if let Some(d) = self.details {
            body["details"] = d;
        }
        let mut resp = (self.code.status(), axum::Json(json!({ "error": body }))).into_response();
        if let Some(secs) = self.retry_after_secs {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        resp.extensions_mut().insert(self.code);
        resp
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// `axum::Json` whose rejections come back in our error format, and which
/// refuses NUL characters anywhere in the body (see [`refuse_nul`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct AppJson<T>(pub T);

impl<T, S> axum::extract::FromRequest<S> for AppJson<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, ApiError> {
        if !json_content_type(req.headers()) {
            return Err(JsonRejection::from(
                axum::extract::rejection::MissingJsonContentType::default(),
            )
            .into());
        }
        let bytes = body_bytes(req, state).await?;
        refuse_nul(&bytes)?;
        Ok(AppJson(axum::Json::<T>::from_bytes(&bytes)?.0))
    }
}

/// `application/json` or a `+json` type, as `axum::Json` asks.
fn json_content_type(headers: &axum::http::HeaderMap) -> bool {
    let Some(ct) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let Some((kind, sub)) = essence.split_once('/') else {
        return false;
    };
    kind == "application" && (sub == "json" || sub.ends_with("+json"))
}

async fn body_bytes<S: Send + Sync>(
    req: axum::extract::Request,
    state: &S,
) -> Result<axum::body::Bytes, ApiError> {
    use axum::extract::FromRequest;
    Ok(axum::body::Bytes::from_request(req, state).await?)
}

/// A body that could not be read: over the limit (413), or broken (400).
impl From<axum::extract::rejection::BytesRejection> for ApiError {
    fn from(e: axum::extract::rejection::BytesRejection) -> Self {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(ErrorCode::PayloadTooLarge, "request body is too large")
        } else {
            ApiError::new(ErrorCode::BadRequest, e.body_text())
        }
    }
}

/// A JSON body can hold the NUL character only as the escape `\u0000`; where
/// one appears, the body is read as a value to name the field that holds it
/// (an escaped backslash before `u0000` is no NUL, and passes).
pub(crate) fn refuse_nul(body: &[u8]) -> Result<(), ApiError> {
    if !body.windows(6).any(|w| w == b"\\u0000") {
        return Ok(());
    }
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) else {
        // Malformed: the typed parse names the problem.
        return Ok(());
    };
    match spotlight_domain::validation::nul_path(&value) {
        Some(path) => Err(ApiError::field(
            &path,
            spotlight_domain::validation::NUL_MESSAGE,
        )),
        None => Ok(()),
    }
}

impl<T: serde::Serialize> IntoResponse for AppJson<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// `axum::extract::Query` with our error format; a parameter holding a NUL
/// character (`%00`) is refused by name.
#[derive(Debug, Clone, Copy, Default)]
pub struct AppQuery<T>(pub T);

impl<T, S> axum::extract::FromRequestParts<S> for AppQuery<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, ApiError> {
        refuse_nul_in_query(parts.uri.query())?;
        let axum::extract::Query(v) =
            axum::extract::Query::<T>::from_request_parts(parts, state).await?;
        Ok(AppQuery(v))
    }
}

/// A query parameter holding a NUL character (`%00`) is refused by name.
pub(crate) fn refuse_nul_in_query(query: Option<&str>) -> Result<(), ApiError> {
    let Some(q) = query.filter(|q| q.contains("%00")) else {
        return Ok(());
    };
    match url::form_urlencoded::parse(q.as_bytes())
        .find(|(k, v)| k.contains('\0') || v.contains('\0'))
    {
        Some((name, _)) => Err(ApiError::new(
            ErrorCode::InvalidQuery,
            format!(
                "query parameter {} {}",
                name.replace('\0', "\\u0000"),
                spotlight_domain::validation::NUL_MESSAGE
            ),
        )),
        None => Ok(()),
    }
}

/// `axum::extract::Path` with our error format; a segment holding a NUL
/// character (`%00`) is refused by name.
#[derive(Debug, Clone, Copy, Default)]
pub struct AppPath<T>(pub T);

impl<T, S> axum::extract::FromRequestParts<S> for AppPath<T>
where
    T: serde::de::DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, ApiError> {
        if parts.uri.path().contains("%00") {
            if let Ok(raw) = axum::extract::RawPathParams::from_request_parts(parts, state).await {
                if let Some((name, _)) = raw.iter().find(|(_, v)| v.contains('\0')) {
                    return Err(ApiError::new(
                        ErrorCode::BadRequest,
                        format!(
                            "path parameter {name} {}",
                            spotlight_domain::validation::NUL_MESSAGE
                        ),
                    ));
                }
            }
        }
        let axum::extract::Path(v) =
            axum::extract::Path::<T>::from_request_parts(parts, state).await?;
        Ok(AppPath(v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_errors_are_4xx_or_5xx() {
        let mut seen = std::collections::HashSet::new();
        for c in ErrorCode::ALL {
            assert!(seen.insert(c.as_str()), "duplicate {}", c.as_str());
            assert!(c.status().is_client_error() || c.status().is_server_error());
        }
    }
}

/// A JSON body that may be absent (empty body → `T::default()`).
#[derive(Debug, Clone, Default)]
pub struct OptionalJson<T>(pub T);

impl<T, S> axum::extract::FromRequest<S> for OptionalJson<T>
where
    T: serde::de::DeserializeOwned + Default,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, ApiError> {
        let bytes = body_bytes(req, state).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptionalJson(T::default()));
        }
        refuse_nul(&bytes)?;
        let mut de = serde_json::Deserializer::from_slice(&bytes);
        match serde_path_to_error::deserialize(&mut de) {
            Ok(v) => Ok(OptionalJson(v)),
            Err(e) if e.inner().is_syntax() || e.inner().is_eof() => Err(ApiError::new(
                ErrorCode::InvalidJson,
                format!("malformed JSON: {}", e.inner()),
            )),
            Err(e) => Err(ApiError::new(
                ErrorCode::ValidationFailed,
                format!("invalid body: {}: {}", e.path(), e.inner()),
            )),
        }
    }
}

/// A cache with nothing to serve while the store is unreachable: 503.
impl From<crate::cache::Unavailable> for ApiError {
    fn from(e: crate::cache::Unavailable) -> Self {
        tracing::warn!(cache = e.0, "no cached data and the store is unreachable");
        ApiError::unavailable()
    }
}
