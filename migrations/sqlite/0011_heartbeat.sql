-- The readiness probe's write (SQLite). Same logical schema as migrations/postgres/0011_heartbeat.sql;
-- timestamps are TEXT as in 0001.
--
-- `/readyz` updates this one row in a write transaction: a database that answers reads but cannot
-- write (a full disk, a read-only file) is reported not ready, instead of ready while every upload
-- fails. A real write, not `BEGIN IMMEDIATE; ROLLBACK`, which takes the lock but allocates nothing.
CREATE TABLE heartbeat (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    at TEXT NOT NULL
);
INSERT INTO heartbeat (id, at) VALUES (1, '1970-01-01T00:00:00.000000+00:00');
