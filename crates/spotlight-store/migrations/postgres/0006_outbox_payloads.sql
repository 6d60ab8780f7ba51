-- Outbox payloads live apart from the rows the relay updates. A delivery's row
-- is updated when it is claimed and when it is settled; SQLite rewrites a whole
-- row at each UPDATE, overflow pages included, so a payload of hundreds of
-- events was written three times. Written once here, removed with its row by
-- retention. (No foreign key, as for the other hot tables.)
CREATE TABLE outbox_payloads (
    outbox_id TEXT PRIMARY KEY,
    payload TEXT NOT NULL
);
INSERT INTO outbox_payloads (outbox_id, payload) SELECT id, payload FROM outbox;
ALTER TABLE outbox DROP COLUMN payload;
