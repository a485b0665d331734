-- The audit log's own database file, attached to every connection as `audit` (see
-- sqlite/mod.rs, `prepare_audit_file`). Every SCIM request, reads too, appends an audit event,
-- and in WAL mode SQLite empties a reader's whole page cache whenever the file it reads has changed
-- since its last read: with the log in the directory's file, a batch of events every 25 ms kept
-- each reader's cache cold. Unqualified names resolve to the attached file (the tables are not
-- in `main`), so no query names the schema.
--
-- Run at every open, so it is not a numbered migration: a fresh file, a store made before the
-- move (migrations 2 and 3 create these tables in `main`; they are copied here and then dropped
-- there) and a restored backup whose audit file is missing all end with these tables.
CREATE TABLE IF NOT EXISTS audit.audit_events (
    seq         INTEGER PRIMARY KEY,
    tenant_id   TEXT,
    at          TEXT NOT NULL,
    actor       TEXT NOT NULL,
    operation   TEXT NOT NULL,
    target      TEXT,
    outcome     TEXT NOT NULL,
    status      INTEGER NOT NULL,
    request_id  TEXT,
    method      TEXT,
    path        TEXT,
    message     TEXT,
    before      TEXT,
    after       TEXT,
    duration_us INTEGER
);
CREATE INDEX IF NOT EXISTS audit.audit_events_tenant ON audit_events (tenant_id, seq);
CREATE INDEX IF NOT EXISTS audit.audit_events_actor ON audit_events (tenant_id, actor, seq);
CREATE TABLE IF NOT EXISTS audit.audit_targets (
    bucket INTEGER NOT NULL,
    target TEXT NOT NULL,
    seq    INTEGER NOT NULL,
    PRIMARY KEY (bucket, target, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS audit.audit_index (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    upto INTEGER NOT NULL
);
INSERT OR IGNORE INTO audit.audit_index (id, upto)
SELECT 1, COALESCE(MAX(seq), 0) FROM audit.audit_events;
