-- Sessions of the web console (SQLite). Same logical schema as migrations/postgres/0009_sessioni.sql;
-- timestamps are TEXT as in 0001.
--
-- A browser signs in with an API token and gets a random session id in an HttpOnly cookie. Only the
-- sha256 of that id is stored (a copy of this table opens no session), with the CSRF token of its
-- forms and the API token it acts as, which is re-checked at every request (a revoked token ends
-- its sessions).
CREATE TABLE sessioni (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    session_hash TEXT NOT NULL UNIQUE,
    csrf_token   TEXT NOT NULL,
    token_id     INTEGER NOT NULL REFERENCES api_tokens (id),
    created_at   TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    ended_at     TEXT
);
CREATE INDEX sessioni_token ON sessioni (token_id);
