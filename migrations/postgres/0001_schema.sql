-- cigo: initial schema (PostgreSQL).
-- Same logical schema as migrations/sqlite/0001_schema.sql. Timestamps are written by the
-- application (UTC, microsecond precision), never defaulted by the database.

-- Trigram indexes make the case-insensitive substring search on denominazione fast.
-- pg_trgm is a "trusted" extension (PostgreSQL 13+): the owner of the database may create it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE api_tokens (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    token_hash    TEXT NOT NULL UNIQUE,
    intermediario TEXT NOT NULL,
    nome          TEXT,
    ruolo         TEXT NOT NULL CHECK (ruolo IN ('intermediario', 'operatore', 'admin')),
    created_at    TIMESTAMPTZ NOT NULL,
    expires_at    TIMESTAMPTZ,
    revoked_at    TIMESTAMPTZ
);

CREATE TABLE richieste (
    numero               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    intermediario        TEXT NOT NULL,
    stato                TEXT NOT NULL CHECK (stato IN ('RICEVUTA', 'IN_ELABORAZIONE', 'PREVALIDATA',
                             'SCARTATA', 'APPROVATA', 'IN_INVIO', 'CONSEGNATA', 'SCARTATA_IN_INVIO', 'ELIMINATA')),
    prevalidazione       BOOLEAN NOT NULL,
    blob_key             TEXT NOT NULL,
    sha256               TEXT NOT NULL,
    size_bytes           BIGINT NOT NULL,
    data_inserimento     TIMESTAMPTZ NOT NULL,
    data_prevalidazione  TIMESTAMPTZ,
    data_approvazione    TIMESTAMPTZ,
    data_consegna        TIMESTAMPTZ,
    data_eliminazione    TIMESTAMPTZ,
    updated_at           TIMESTAMPTZ NOT NULL,
    domande_totali       BIGINT NOT NULL DEFAULT 0,
    domande_valide       BIGINT NOT NULL DEFAULT 0,
    domande_scartate     BIGINT NOT NULL DEFAULT 0,
    domande_protocollate BIGINT NOT NULL DEFAULT 0,
    file_finding         JSONB,
    rule_set             TEXT
);

-- "my richieste, newest first" and the search by intermediario + numero.
CREATE INDEX richieste_intermediario_numero ON richieste (intermediario, numero DESC);
CREATE INDEX richieste_data_inserimento ON richieste (data_inserimento);
CREATE INDEX richieste_data_approvazione ON richieste (data_approvazione) WHERE data_approvazione IS NOT NULL;
-- The SLA reaper: richieste still in progress, by age.
CREATE INDEX richieste_in_corso ON richieste (updated_at)
    WHERE stato IN ('RICEVUTA', 'IN_ELABORAZIONE', 'APPROVATA', 'IN_INVIO');

CREATE TABLE transizioni (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    numero_richiesta BIGINT NOT NULL REFERENCES richieste (numero),
    da               TEXT,
    a                TEXT NOT NULL,
    actor            TEXT NOT NULL,
    at               TIMESTAMPTZ NOT NULL,
    nota             TEXT
);
CREATE INDEX transizioni_richiesta ON transizioni (numero_richiesta, id);

CREATE TABLE domande (
    numero_richiesta       BIGINT NOT NULL REFERENCES richieste (numero),
    progressivo            BIGINT NOT NULL,
    matricola              TEXT,
    codice_fiscale_azienda TEXT,
    denominazione          TEXT,
    unita_produttiva       TEXT,
    periodo_dal            DATE,
    periodo_al             DATE,
    esito                  TEXT NOT NULL CHECK (esito IN ('VALIDA', 'VALIDA_CON_AVVISI', 'SCARTATA',
                               'PROTOCOLLATA', 'SCARTATA_IN_INVIO')),
    protocollo             TEXT UNIQUE,
    data_protocollo        TIMESTAMPTZ,
    PRIMARY KEY (numero_richiesta, progressivo)
);
-- The search form (EXISTS on domande).
CREATE INDEX domande_matricola ON domande (matricola, numero_richiesta);
CREATE INDEX domande_codice_fiscale ON domande (codice_fiscale_azienda, numero_richiesta);
CREATE INDEX domande_denominazione_trgm ON domande USING gin (denominazione gin_trgm_ops);
-- The archive re-validation at sending time (overlapping periods of protocollate domande).
CREATE INDEX domande_archivio ON domande (matricola, unita_produttiva, periodo_dal, periodo_al)
    WHERE esito = 'PROTOCOLLATA';

CREATE TABLE findings (
    numero_richiesta BIGINT NOT NULL,
    progressivo      BIGINT NOT NULL,
    fase             TEXT NOT NULL CHECK (fase IN ('PREVALIDAZIONE', 'INVIO')),
    seq              INTEGER NOT NULL,
    code             TEXT NOT NULL,
    layer            TEXT NOT NULL,
    severity         TEXT NOT NULL,
    message          TEXT NOT NULL,
    xpath            TEXT,
    line             BIGINT,
    col              BIGINT,
    value            TEXT,
    PRIMARY KEY (numero_richiesta, progressivo, fase, seq),
    FOREIGN KEY (numero_richiesta, progressivo) REFERENCES domande (numero_richiesta, progressivo) ON DELETE CASCADE
);

CREATE TABLE protocollo_contatori (
    anno   INTEGER PRIMARY KEY,
    ultimo BIGINT NOT NULL
);

CREATE TABLE outbox (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind             TEXT NOT NULL CHECK (kind IN ('prevalidazione', 'invio')),
    numero_richiesta BIGINT NOT NULL REFERENCES richieste (numero),
    trace_context    TEXT,
    created_at       TIMESTAMPTZ NOT NULL,
    leased_until     TIMESTAMPTZ,
    published_at     TIMESTAMPTZ,
    attempts         INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX outbox_unpublished ON outbox (id) WHERE published_at IS NULL;
CREATE INDEX outbox_unpublished_richiesta ON outbox (numero_richiesta) WHERE published_at IS NULL;
CREATE INDEX outbox_richiesta ON outbox (numero_richiesta, id);
