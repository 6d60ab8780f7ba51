-- End users as the SDK sees them, per environment: a profile (attributes from
-- the SDK and verified claims), their progress per tour/announcement/checklist,
-- and counts of their tracked events (used by audience rules).
CREATE TABLE end_users (
    environment_id TEXT NOT NULL REFERENCES environments(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL,
    tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    attributes TEXT NOT NULL DEFAULT '{}',
    verified INTEGER NOT NULL DEFAULT 0,
    first_seen INTEGER NOT NULL,
    last_seen INTEGER NOT NULL,
    PRIMARY KEY (environment_id, user_id)
);
CREATE INDEX end_users_tenant_idx ON end_users (tenant_id, environment_id, last_seen);

CREATE TABLE user_progress (
    environment_id TEXT NOT NULL REFERENCES environments(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL,
    object_id TEXT NOT NULL,
    tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    times_shown INTEGER NOT NULL DEFAULT 0,
    last_shown_at INTEGER,
    last_session TEXT,
    step_reached INTEGER,
    items_completed TEXT NOT NULL DEFAULT '[]',
    started_at INTEGER,
    completed_at INTEGER,
    dismissed_at INTEGER,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (environment_id, user_id, object_id)
);

CREATE TABLE user_event_counts (
    environment_id TEXT NOT NULL REFERENCES environments(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL,
    event TEXT NOT NULL,
    tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    count INTEGER NOT NULL,
    last_at INTEGER NOT NULL,
    PRIMARY KEY (environment_id, user_id, event)
);
