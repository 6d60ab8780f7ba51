-- Publish approvals: in an environment that requires approval, an editor's
-- publish becomes a request for the draft's exact revision (its document kept
-- for the diff). An admin or owner other than the requester approves (which
-- publishes that revision) or rejects it with a comment; a change to the
-- draft voids it.
CREATE TABLE publish_requests (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    object_id TEXT NOT NULL REFERENCES objects(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    environment_id TEXT NOT NULL REFERENCES environments(id) ON DELETE CASCADE,
    revision INTEGER NOT NULL,
    document TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    requested_by_account TEXT,
    created_at INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'voided')),
    decided_by TEXT,
    decided_at INTEGER,
    comment TEXT,
    version INTEGER
);
CREATE INDEX publish_requests_tenant_idx ON publish_requests (tenant_id, status, id);
CREATE INDEX publish_requests_object_idx ON publish_requests (object_id, status);
