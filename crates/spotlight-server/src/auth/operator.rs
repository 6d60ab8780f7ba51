//! `Operator`: whoever holds the operator token from configuration.

use crate::auth::bearer;
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

#[derive(Debug, Clone, Copy)]
pub struct Operator;

impl FromRequestParts<AppState> for Operator {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Some(Ok(token)) = bearer(&parts.headers) else {
            state.metrics.auth_failure("operator", "missing");
            return Err(ApiError::unauthenticated());
        };
        // Hash both sides so the comparison is constant-time whatever the lengths.
        let sent = Sha256::digest(token.as_bytes());
        let expected = Sha256::digest(
            state
                .config
                .security
                .operator_token
                .expose_secret()
                .as_bytes(),
        );
        if bool::from(sent.ct_eq(&expected)) {
            Ok(Operator)
        } else {
            state.metrics.auth_failure("operator", "wrong_token");
            Err(ApiError::unauthenticated())
        }
    }
}
