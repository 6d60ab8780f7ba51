-- A short tombstone per erased end user (by a digest of the id, never the id):
-- ingest and profile writes drop what still arrives for them from before the
-- erasure (an SDK's stored queue, a request in flight). An erasure finds the
-- user's raw events by scanning their environment's: an index by user cost
-- ingest a tenth of its throughput (bench/events.sh), for a rare request.
CREATE TABLE erasures (
    environment_id TEXT NOT NULL,
    user_digest TEXT NOT NULL,
    tenant_id TEXT NOT NULL,
    erased_at BIGINT NOT NULL,
    until BIGINT NOT NULL,
    PRIMARY KEY (environment_id, user_digest)
);
