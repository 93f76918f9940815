-- cigo issue 5: deleghe and the audit trail (PostgreSQL). Same logical schema as
-- migrations/sqlite/0003_access.sql.

-- An intermediario files only for the matricole it holds a delega for.
CREATE TABLE deleghe (
    intermediario TEXT NOT NULL,
    matricola     TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (intermediario, matricola)
);

-- Append-only: every read of a richiesta's data and every change made through the API, with
-- actor and time (the changes of state are also in `transizioni`). No UPDATE, no DELETE.
CREATE TABLE audit (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at               TIMESTAMPTZ NOT NULL,
    actor            TEXT NOT NULL,
    action           TEXT NOT NULL,
    numero_richiesta BIGINT,
    detail           TEXT
);
CREATE INDEX audit_richiesta ON audit (numero_richiesta, id);

CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit is append-only';
END;
$$;
CREATE TRIGGER audit_no_change BEFORE UPDATE OR DELETE ON audit
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
