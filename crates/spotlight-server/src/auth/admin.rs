//! `AdminActor<R>`: the caller of an admin route, with the role the route needs
//! written into the handler's signature (`AdminActor<EditorRole>`). A secret key
//! acts as `admin` in its tenant; a session as its member's role. Cookie-
//! authenticated mutations must carry the CSRF token.

use crate::auth::{bearer, record_key, record_tenant, session};
use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::Method;
use spotlight_domain::{
    AccountId, EnvironmentId, KeyId, KeyKind, PlainKey, Role, SessionId, TenantId,
};
use std::marker::PhantomData;

pub trait RoleNeeded: Send + Sync + 'static {
    const ROLE: Role;
}

macro_rules! role_marker {
    ($name:ident, $role:expr) => {
        #[derive(Debug, Clone, Copy)]
        pub struct $name;
        impl RoleNeeded for $name {
            const ROLE: Role = $role;
        }
    };
}
role_marker!(ViewerRole, Role::Viewer);
role_marker!(EditorRole, Role::Editor);
role_marker!(AdminRole, Role::Admin);
role_marker!(OwnerRole, Role::Owner);

#[derive(Debug, Clone)]
pub enum Principal {
    Key {
        key_id: KeyId,
        environment_id: EnvironmentId,
        environment: String,
    },
    Member {
        account_id: AccountId,
        email: String,
        session_id: SessionId,
    },
}

#[derive(Debug, Clone)]
pub struct AdminActor<R: RoleNeeded = ViewerRole> {
    pub tenant_id: TenantId,
    pub role: Role,
    pub principal: Principal,
    _needs: PhantomData<R>,
}

impl<R: RoleNeeded> AdminActor<R> {
    /// For the audit log: `key:<id>` or the member's e-mail.
    pub fn actor_label(&self) -> String {
        match &self.principal {
            Principal::Key { key_id, .. } => format!("key:{key_id}"),
            Principal::Member { email, .. } => email.clone(),
        }
    }
}

fn refuse(state: &AppState, reason: &'static str) -> ApiError {
    state.metrics.auth_failure("admin", reason);
    tracing::info!(reason, "admin authentication refused");
    ApiError::unauthenticated()
}

impl<R: RoleNeeded> FromRequestParts<AppState> for AdminActor<R> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        // A member without a second factor, in a session (keys have none).
        let mut single_factor = false;
        let (tenant_id, role, principal) = match bearer(&parts.headers) {
            Some(Err(())) => return Err(refuse(state, "malformed")),
            Some(Ok(token)) => {
                let Ok(key) = PlainKey::parse(KeyKind::Secret, token) else {
                    return Err(refuse(state, "malformed"));
                };
                let hash = key.hash();
                let found = state.caches.key(&hash).await?;
                let Some(found) = found.filter(|f| f.hash.ct_eq(&hash)) else {
                    return Err(refuse(state, "unknown_key"));
                };
                if !found.key.is_active(state.clock.now()) {
                    return Err(refuse(state, "revoked_key"));
                }
                record_key(&found.key.id);
                (
                    found.key.tenant_id,
                    Role::Admin,
                    Principal::Key {
                        key_id: found.key.id,
                        environment_id: found.key.environment_id,
                        environment: found.key.environment.clone(),
                    },
                )
            }
            None => {
                let Some(token) = session::token_from(&parts.headers) else {
                    return Err(refuse(state, "missing"));
                };
                let Some(s) = state.store.live_session(&token.hash()).await? else {
                    return Err(refuse(state, "session"));
                };
                let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
                if !safe && !session::csrf_ok(&parts.headers, &token) {
                    state.metrics.auth_failure("admin", "csrf");
                    return Err(ApiError::new(
                        ErrorCode::CsrfFailed,
                        "missing or wrong X-CSRF-Token for a cookie-authenticated change",
                    ));
                }
                // The provider owns the second factor of an SSO session.
                single_factor = !s.two_factor && !s.sso;
                (
                    s.tenant_id,
                    s.role,
                    Principal::Member {
                        account_id: s.account_id,
                        email: s.email,
                        session_id: s.id,
                    },
                )
            }
        };
        record_tenant(&tenant_id);
        let limit_key = match &principal {
            Principal::Key { key_id, .. } => format!("key:{key_id}"),
            Principal::Member { session_id, .. } => format!("session:{session_id}"),
        };
        let view = state
            .caches
            .tenant(tenant_id)
            .await?
            .ok_or_else(ApiError::unauthenticated)?;
        if let Err(wait) = state
            .limits
            .admin
            .check(&limit_key, view.settings.rate_limits.admin_per_minute)
        {
            state
                .metrics
                .rate_limited
                .get_or_create(&crate::metrics::ScopeLabels { scope: "admin" })
                .inc();
            return Err(ApiError::rate_limited(wait));
        }
        if single_factor && view.settings.sign_in.require_two_factor {
            state.metrics.auth_failure("admin", "two_factor");
            return Err(ApiError::new(
                ErrorCode::TwoFactorEnrolmentRequired,
                "this tenant requires two-factor sign-in: turn it on for your account first (POST /v1/auth/two-factor/setup)",
            ));
        }
        if !role.allows(R::ROLE) {
            state.metrics.auth_failure("admin", "role");
            return Err(ApiError::forbidden(format!(
                "this needs the {} role; you have {}",
                R::ROLE.as_str(),
                role.as_str()
            )));
        }
        Ok(AdminActor {
            tenant_id,
            role,
            principal,
            _needs: PhantomData,
        })
    }
}
