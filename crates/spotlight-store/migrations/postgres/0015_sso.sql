-- Single sign-on with OpenID Connect, per tenant. The settings are a JSON
-- document (issuer, client id, roles, "SSO required"); the client secret is
-- sealed with the master key. A sign-in attempt (state, nonce, PKCE verifier)
-- lives ten minutes and is taken once. An identity is the provider's subject
-- linked to an account; "managed" marks a membership SSO made, whose role
-- follows the provider's groups at every sign-in.
CREATE TABLE tenant_sso (
    tenant_id TEXT PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
    settings TEXT NOT NULL,
    client_secret_sealed TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE TABLE sso_flows (
    state_hash TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    nonce TEXT NOT NULL,
    pkce_verifier_sealed TEXT NOT NULL,
    return_to TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sso_flows_expiry_idx ON sso_flows (expires_at);
CREATE TABLE sso_identities (
    tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    issuer TEXT NOT NULL,
    subject TEXT NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    managed BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    last_sign_in_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, issuer, subject)
);
CREATE INDEX sso_identities_account_idx ON sso_identities (account_id);
-- How a session signed in: 'password' or 'sso'.
ALTER TABLE sessions ADD COLUMN method TEXT NOT NULL DEFAULT 'password';
