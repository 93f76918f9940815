-- Sessions of the web console (PostgreSQL). Same logical schema as migrations/sqlite/0009_sessioni.sql.
--
-- A browser signs in with an API token and gets a random session id in an HttpOnly cookie. Only the
-- sha256 of that id is stored (a copy of this table opens no session), with the CSRF token of its
-- forms and the API token it acts as, which is re-checked at every request (a revoked token ends
-- its sessions).
CREATE TABLE sessioni (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    session_hash TEXT NOT NULL UNIQUE,
    csrf_token   TEXT NOT NULL,
    token_id     BIGINT NOT NULL REFERENCES api_tokens (id),
    created_at   TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL,
    ended_at     TIMESTAMPTZ
);
CREATE INDEX sessioni_token ON sessioni (token_id);
