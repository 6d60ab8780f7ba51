-- End users as the SDK sees them, per environment: a profile (attributes from
-- the SDK and verified claims), their progress per tour/announcement/checklist,
-- and counts of their tracked events (used by audience rules).
CREATE TABLE end_users (
    environment_id TEXT NOT NULL REFERENCES environments(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL,
    tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    attributes TEXT NOT NULL DEFAULT '{}',
    verified BIGINT NOT NULL DEFAULT 0,
    first_seen BIGINT NOT NULL,
    last_seen BIGINT NOT NULL,
    PRIMARY KEY (environment_id, user_id)
);
CREATE INDEX end_users_tenant_idx ON end_users (tenant_id, environment_id, last_seen);

CREATE TABLE user_progress (
    environment_id TEXT NOT NULL REFERENCES environments(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL,
    object_id TEXT NOT NULL,
    tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    times_shown BIGINT NOT NULL DEFAULT 0,
    last_shown_at BIGINT,
    last_session TEXT,
    step_reached BIGINT,
    items_completed TEXT NOT NULL DEFAULT '[]',
    started_at BIGINT,
    completed_at BIGINT,
    dismissed_at BIGINT,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (environment_id, user_id, object_id)
);

CREATE TABLE user_event_counts (
    environment_id TEXT NOT NULL REFERENCES environments(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL,
    event TEXT NOT NULL,
    tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    count BIGINT NOT NULL,
    last_at BIGINT NOT NULL,
    PRIMARY KEY (environment_id, user_id, event)
);
