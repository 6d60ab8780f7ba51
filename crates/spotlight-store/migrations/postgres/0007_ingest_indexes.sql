-- Events by arrival, for retention, as a BRIN index: a btree entry per event was
-- a tenth of ingest's WAL; events arrive in order, so block ranges summarise
-- them (autosummarize: ranges are summarised as they fill).
DROP INDEX events_received_idx;
CREATE INDEX events_received_brin ON events USING brin (received_at) WITH (autosummarize = on);

-- Outbox payloads (JSON, tens of KB) compressed with lz4 where the server was
-- built with it: pglz took a twentieth of PostgreSQL's time under ingest load.
DO $$
BEGIN
    ALTER TABLE outbox_payloads ALTER COLUMN payload SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
    NULL;
END $$;
