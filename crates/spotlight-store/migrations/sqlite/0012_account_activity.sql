-- What accounts do: events name the account they were sent for (the SDK's
-- group(), a verified token's claim, or the tenant's backend); each account
-- keeps which guides its members were shown ("once per account") and daily
-- rollups of its members' events with the members seen per day (analytics
-- filtered by account).
ALTER TABLE events ADD COLUMN account_id TEXT;

CREATE TABLE account_progress (
    environment_id TEXT NOT NULL,
    account_id TEXT NOT NULL,
    object_id TEXT NOT NULL,
    tenant_id TEXT NOT NULL,
    times_shown BIGINT NOT NULL,
    last_shown_at BIGINT NOT NULL,
    PRIMARY KEY (environment_id, account_id, object_id)
);

CREATE TABLE account_rollups (
    environment_id TEXT NOT NULL,
    account_id TEXT NOT NULL,
    bucket BIGINT NOT NULL,
    object_id TEXT NOT NULL,
    step BIGINT NOT NULL,
    event TEXT NOT NULL,
    detail TEXT NOT NULL,
    tenant_id TEXT NOT NULL,
    count BIGINT NOT NULL,
    PRIMARY KEY (environment_id, account_id, bucket, object_id, step, event, detail)
);

CREATE TABLE account_rollup_users (
    environment_id TEXT NOT NULL,
    account_id TEXT NOT NULL,
    day BIGINT NOT NULL,
    object_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    tenant_id TEXT NOT NULL,
    PRIMARY KEY (environment_id, account_id, day, object_id, user_id)
);
