//! Provisioning a tenant: its environments (`production`, `staging`) and one
//! publishable and one secret key for each, in one transaction. Shared by
//! `spotlight tenant create` and `POST /v1/operator/tenants`.

use serde::Serialize;
use spotlight_domain::{
    AllowedOrigin, EnvironmentId, EnvironmentName, KeyId, KeyKind, PlainKey, TenantId, TenantName,
    Timestamp, ValidationErrors,
};
use spotlight_store::{ApiKey, NewEnvironment, NewKey, NewTenant, Store, StoreError, Tenant};
use std::collections::BTreeMap;

#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    #[error("{0}")]
    Invalid(ValidationErrors),
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProvisionedEnvironment {
    pub environment_id: EnvironmentId,
    pub publishable_key: String,
    pub secret_key: String,
}

/// What `tenant create --json` prints and the operator API returns: the only time
/// the keys are shown.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProvisionedTenant {
    pub tenant_id: TenantId,
    pub name: String,
    pub allowed_origins: Vec<String>,
    pub created_at: Timestamp,
    pub environments: BTreeMap<String, ProvisionedEnvironment>,
}

/// Validates and normalises origins, with field paths for errors.
pub fn parse_origins(field: &str, origins: &[String]) -> Result<Vec<String>, ValidationErrors> {
    let mut errors = ValidationErrors::new();
    let mut out = Vec::new();
    if origins.len() > 100 {
        errors.add(field, "at most 100 origins");
    }
    for (i, o) in origins.iter().enumerate() {
        match AllowedOrigin::parse(o) {
            Ok(o) => {
                let s = o.to_string();
                if !out.contains(&s) {
                    out.push(s);
                }
            }
            Err(e) => errors.add(format!("{field}[{i}]"), e.to_string()),
        }
    }
    errors.into_result().map(|()| out)
}

pub fn new_key(kind: KeyKind, label: &str) -> (PlainKey, NewKey) {
    let plain = PlainKey::generate(kind, &mut rand::rngs::OsRng);
    let new = NewKey {
        id: KeyId::new_v7(),
        kind,
        hash: plain.hash(),
        prefix: plain.display_prefix(),
        label: label.to_owned(),
    };
    (plain, new)
}

pub async fn provision(
    store: &Store,
    name: &str,
    origins: &[String],
) -> Result<ProvisionedTenant, ProvisionError> {
    let mut errors = ValidationErrors::new();
    let name = TenantName::parse(name)
        .map_err(|e| errors.add("name", e))
        .ok();
    let origins = parse_origins("allowed_origins", origins)
        .map_err(|e| errors.0.extend(e.0))
        .ok();
    let (Some(name), Some(origins)) = (name, origins) else {
        return Err(ProvisionError::Invalid(errors));
    };
    let mut shown = BTreeMap::new();
    let mut environments = Vec::new();
    for env_name in [EnvironmentName::production(), EnvironmentName::staging()] {
        let id = EnvironmentId::new_v7();
        let (pk, pk_new) = new_key(KeyKind::Publishable, "default");
        let (sk, sk_new) = new_key(KeyKind::Secret, "default");
        shown.insert(
            env_name.as_str().to_owned(),
            ProvisionedEnvironment {
                environment_id: id,
                publishable_key: pk.expose().to_owned(),
                secret_key: sk.expose().to_owned(),
            },
        );
        environments.push(NewEnvironment {
            id,
            name: env_name,
            keys: vec![pk_new, sk_new],
        });
    }
    let tenant: Tenant = store
        .create_tenant(NewTenant {
            id: TenantId::new_v7(),
            name,
            allowed_origins: origins,
            environments,
        })
        .await?;
    Ok(ProvisionedTenant {
        tenant_id: tenant.id,
        name: tenant.name,
        allowed_origins: tenant.allowed_origins,
        created_at: tenant.created_at,
        environments: shown,
    })
}

/// A key as listed: never its secret.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct KeyView {
    pub id: KeyId,
    pub kind: KeyKind,
    pub environment: String,
    pub prefix: String,
    pub label: String,
    pub active: bool,
    pub created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
}

impl KeyView {
    pub fn of(k: ApiKey, now: Timestamp) -> KeyView {
        KeyView {
            active: k.is_active(now),
            id: k.id,
            kind: k.kind,
            environment: k.environment,
            prefix: k.prefix,
            label: k.label,
            created_at: k.created_at,
            expires_at: k.expires_at,
            revoked_at: k.revoked_at,
        }
    }
}
