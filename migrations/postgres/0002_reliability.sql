-- cigo: reliability (issue 4): idempotency keys, duplicate uploads, processing errors.

-- `Idempotency-Key` of an upload -> the richiesta it created (per intermediario).
CREATE TABLE idempotency_keys (
    intermediario    TEXT NOT NULL,
    chiave           TEXT NOT NULL,
    numero_richiesta BIGINT NOT NULL REFERENCES richieste (numero),
    created_at       TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (intermediario, chiave)
);

-- The duplicate check of the upload (same file, same intermediario).
CREATE INDEX richieste_intermediario_sha256 ON richieste (intermediario, sha256);

-- A job that failed for good (its message went to the dead-letter queue): the text its owner
-- sees as `errore_elaborazione`. The SLA reaper leaves these richieste alone until an operator
-- replays them (`cigo admin dlq replay`), which deletes the row.
CREATE TABLE errori_elaborazione (
    numero_richiesta BIGINT PRIMARY KEY REFERENCES richieste (numero),
    kind             TEXT NOT NULL CHECK (kind IN ('prevalidazione', 'invio')),
    errore           TEXT NOT NULL,
    tentativi        INTEGER NOT NULL,
    at               TIMESTAMPTZ NOT NULL
);
