-- Kept in step with PostgreSQL's 0007 (a backup names its schema by the
-- migrations applied). Nothing changes here: SQLite has no BRIN index, its
-- btree on events.received_at stays, and it does not compress payloads.
SELECT 1;
