-- cigo issue 5: deleghe and the audit trail (SQLite). Same logical schema as
-- migrations/postgres/0003_access.sql; timestamps are TEXT as in 0001.

-- An intermediario files only for the matricole it holds a delega for.
CREATE TABLE deleghe (
    intermediario TEXT NOT NULL,
    matricola     TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    PRIMARY KEY (intermediario, matricola)
) WITHOUT ROWID;

-- Append-only: every read of a richiesta's data and every change made through the API, with
-- actor and time (the changes of state are also in `transizioni`). No UPDATE, no DELETE.
CREATE TABLE audit (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    at               TEXT NOT NULL,
    actor            TEXT NOT NULL,
    action           TEXT NOT NULL,
    numero_richiesta INTEGER,
    detail           TEXT
);
CREATE INDEX audit_richiesta ON audit (numero_richiesta, id);

CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN
    SELECT RAISE(ABORT, 'audit is append-only');
END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN
    SELECT RAISE(ABORT, 'audit is append-only');
END;
