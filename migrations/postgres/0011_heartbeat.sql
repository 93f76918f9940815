-- The readiness probe's write: `/readyz` updates this one row in a write transaction, so that a
-- database that answers reads but cannot write (a full disk, a read-only replica after a failover)
-- is reported not ready, instead of ready while every upload fails.
CREATE TABLE heartbeat (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    at TIMESTAMPTZ NOT NULL
);
INSERT INTO heartbeat (id, at) VALUES (1, 'epoch');
