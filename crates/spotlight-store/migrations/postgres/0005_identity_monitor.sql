-- Identity verification in monitor mode: per environment and hour, how many
-- SDK requests were checked and how many enforcing would have refused, by
-- reason (`checked` counts every request). Each node adds its tallies every
-- few seconds, so the figures are the cluster's. Kept 30 days by retention.
CREATE TABLE identity_monitor (
    environment_id TEXT NOT NULL,
    hour BIGINT NOT NULL,
    reason TEXT NOT NULL,
    tenant_id TEXT NOT NULL,
    count BIGINT NOT NULL,
    PRIMARY KEY (environment_id, hour, reason)
);
