-- Usage per tenant and environment, what an operator bills or attributes cost
-- by: daily counters each node adds to (config requests, events ingested,
-- deliveries), and the end users active in each month (one row per user and
-- month, written with the user's profile).
CREATE TABLE usage_daily (
    tenant_id TEXT NOT NULL,
    environment_id TEXT NOT NULL,
    day TEXT NOT NULL,
    config_requests BIGINT NOT NULL DEFAULT 0,
    events_ingested BIGINT NOT NULL DEFAULT 0,
    deliveries BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, environment_id, day)
);
CREATE TABLE usage_active_users (
    tenant_id TEXT NOT NULL,
    environment_id TEXT NOT NULL,
    month TEXT NOT NULL,
    user_id TEXT NOT NULL,
    PRIMARY KEY (tenant_id, environment_id, month, user_id)
);
