-- The event pipeline: raw interaction events (kept for the retention period),
-- rollups updated as events arrive, experiment exposures, webhook endpoints,
-- the transactional outbox (one row per delivery to one sink; dead letters are
-- rows whose retries ran out) and the log of delivery attempts.
-- The hot tables have no foreign keys: they are written tens of thousands of rows
-- a second, always with a tenant and environment taken from an authenticated key.

CREATE TABLE events (
    environment_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    tenant_id TEXT NOT NULL,
    name TEXT NOT NULL,
    user_id TEXT NOT NULL,
    session_id TEXT,
    object_id TEXT,
    step BIGINT,
    occurred_at BIGINT NOT NULL,
    received_at BIGINT NOT NULL,
    schema_version BIGINT NOT NULL,
    properties TEXT NOT NULL,
    PRIMARY KEY (environment_id, event_id)
);
CREATE INDEX events_received_idx ON events (received_at);
-- Free-text survey answers are the only raw events analytics reads.
CREATE INDEX events_survey_idx ON events (environment_id, object_id, step, occurred_at)
    WHERE name = 'survey_answered';

CREATE TABLE rollups (
    environment_id TEXT NOT NULL,
    grain TEXT NOT NULL,
    bucket BIGINT NOT NULL,
    object_id TEXT NOT NULL,
    step BIGINT NOT NULL,
    event TEXT NOT NULL,
    detail TEXT NOT NULL,
    tenant_id TEXT NOT NULL,
    count BIGINT NOT NULL,
    PRIMARY KEY (environment_id, grain, bucket, object_id, step, event, detail)
);

CREATE TABLE rollup_users (
    environment_id TEXT NOT NULL,
    day BIGINT NOT NULL,
    object_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    tenant_id TEXT NOT NULL,
    PRIMARY KEY (environment_id, day, object_id, user_id)
);

CREATE TABLE experiment_exposures (
    environment_id TEXT NOT NULL,
    object_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    tenant_id TEXT NOT NULL,
    arm TEXT NOT NULL,
    exposed_at BIGINT NOT NULL,
    converted_at BIGINT,
    PRIMARY KEY (environment_id, object_id, user_id)
);

CREATE TABLE webhooks (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    environment_id TEXT NOT NULL REFERENCES environments(id) ON DELETE CASCADE,
    url TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    events TEXT NOT NULL DEFAULT '[]',
    enabled BIGINT NOT NULL DEFAULT 1,
    secret TEXT NOT NULL,
    previous_secret TEXT,
    previous_until BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX webhooks_tenant_idx ON webhooks (tenant_id, environment_id);

CREATE TABLE outbox (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    environment_id TEXT NOT NULL,
    sink TEXT NOT NULL,
    payload TEXT NOT NULL,
    event_count BIGINT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    lease_until BIGINT,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    finished_at BIGINT
);
CREATE INDEX outbox_due_idx ON outbox (status, next_attempt_at);
CREATE INDEX outbox_tenant_idx ON outbox (tenant_id, status, created_at);
CREATE INDEX outbox_finished_idx ON outbox (finished_at);

CREATE TABLE delivery_attempts (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    outbox_id TEXT NOT NULL,
    sink TEXT NOT NULL,
    attempt BIGINT NOT NULL,
    at BIGINT NOT NULL,
    duration_ms BIGINT NOT NULL,
    status_code BIGINT,
    ok BIGINT NOT NULL,
    error TEXT
);
CREATE INDEX delivery_attempts_sink_idx ON delivery_attempts (tenant_id, sink, at);
CREATE INDEX delivery_attempts_at_idx ON delivery_attempts (at);
