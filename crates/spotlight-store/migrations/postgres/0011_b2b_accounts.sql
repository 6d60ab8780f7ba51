-- B2B accounts: the companies end users belong to, per environment, with their
-- own attributes (from the SDK's group(), a verified token's claims, or the
-- tenant's backend), their members, and their members' event counts (audience
-- rules: account.plan, account.event("x")).
CREATE TABLE account_profiles (
    environment_id TEXT NOT NULL,
    account_id TEXT NOT NULL,
    tenant_id TEXT NOT NULL,
    attributes TEXT NOT NULL DEFAULT '{}',
    first_seen BIGINT NOT NULL,
    last_seen BIGINT NOT NULL,
    PRIMARY KEY (environment_id, account_id)
);
CREATE INDEX account_profiles_tenant_idx ON account_profiles (tenant_id, environment_id, last_seen);

CREATE TABLE account_members (
    environment_id TEXT NOT NULL,
    account_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    tenant_id TEXT NOT NULL,
    joined_at BIGINT NOT NULL,
    last_seen BIGINT NOT NULL,
    PRIMARY KEY (environment_id, account_id, user_id)
);
CREATE INDEX account_members_user_idx ON account_members (environment_id, user_id);

CREATE TABLE account_event_counts (
    environment_id TEXT NOT NULL,
    account_id TEXT NOT NULL,
    event TEXT NOT NULL,
    tenant_id TEXT NOT NULL,
    count BIGINT NOT NULL,
    last_at BIGINT NOT NULL,
    PRIMARY KEY (environment_id, account_id, event)
);
