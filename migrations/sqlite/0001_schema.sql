-- cigo: initial schema (SQLite).
-- Same logical schema as migrations/postgres/0001_schema.sql. Timestamps are TEXT in one fixed
-- format, 'YYYY-MM-DDTHH:MM:SS.ffffff+00:00' (UTC, microseconds), so that they compare as text
-- in chronological order; dates are TEXT 'YYYY-MM-DD'. Both are written by the application.

CREATE TABLE api_tokens (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash    TEXT NOT NULL UNIQUE,
    intermediario TEXT NOT NULL,
    nome          TEXT,
    ruolo         TEXT NOT NULL CHECK (ruolo IN ('intermediario', 'operatore', 'admin')),
    created_at    TEXT NOT NULL,
    expires_at    TEXT,
    revoked_at    TEXT
);

CREATE TABLE richieste (
    numero               INTEGER PRIMARY KEY AUTOINCREMENT,
    intermediario        TEXT NOT NULL,
    stato                TEXT NOT NULL CHECK (stato IN ('RICEVUTA', 'IN_ELABORAZIONE', 'PREVALIDATA',
                             'SCARTATA', 'APPROVATA', 'IN_INVIO', 'CONSEGNATA', 'SCARTATA_IN_INVIO', 'ELIMINATA')),
    prevalidazione       BOOLEAN NOT NULL,
    blob_key             TEXT NOT NULL,
    sha256               TEXT NOT NULL,
    size_bytes           INTEGER NOT NULL,
    data_inserimento     TEXT NOT NULL,
    data_prevalidazione  TEXT,
    data_approvazione    TEXT,
    data_consegna        TEXT,
    data_eliminazione    TEXT,
    updated_at           TEXT NOT NULL,
    domande_totali       INTEGER NOT NULL DEFAULT 0,
    domande_valide       INTEGER NOT NULL DEFAULT 0,
    domande_scartate     INTEGER NOT NULL DEFAULT 0,
    domande_protocollate INTEGER NOT NULL DEFAULT 0,
    file_finding         TEXT,
    rule_set             TEXT
);

CREATE INDEX richieste_intermediario_numero ON richieste (intermediario, numero DESC);
CREATE INDEX richieste_data_inserimento ON richieste (data_inserimento);
CREATE INDEX richieste_data_approvazione ON richieste (data_approvazione) WHERE data_approvazione IS NOT NULL;
CREATE INDEX richieste_in_corso ON richieste (updated_at)
    WHERE stato IN ('RICEVUTA', 'IN_ELABORAZIONE', 'APPROVATA', 'IN_INVIO');

CREATE TABLE transizioni (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    numero_richiesta INTEGER NOT NULL REFERENCES richieste (numero),
    da               TEXT,
    a                TEXT NOT NULL,
    actor            TEXT NOT NULL,
    at               TEXT NOT NULL,
    nota             TEXT
);
CREATE INDEX transizioni_richiesta ON transizioni (numero_richiesta, id);

CREATE TABLE domande (
    numero_richiesta       INTEGER NOT NULL REFERENCES richieste (numero),
    progressivo            INTEGER NOT NULL,
    matricola              TEXT,
    codice_fiscale_azienda TEXT,
    denominazione          TEXT,
    unita_produttiva       TEXT,
    periodo_dal            TEXT,
    periodo_al             TEXT,
    esito                  TEXT NOT NULL CHECK (esito IN ('VALIDA', 'VALIDA_CON_AVVISI', 'SCARTATA',
                               'PROTOCOLLATA', 'SCARTATA_IN_INVIO')),
    protocollo             TEXT UNIQUE,
    data_protocollo        TEXT,
    PRIMARY KEY (numero_richiesta, progressivo)
) WITHOUT ROWID;
CREATE INDEX domande_matricola ON domande (matricola, numero_richiesta);
CREATE INDEX domande_codice_fiscale ON domande (codice_fiscale_azienda, numero_richiesta);
CREATE INDEX domande_archivio ON domande (matricola, unita_produttiva, periodo_dal, periodo_al)
    WHERE esito = 'PROTOCOLLATA';

CREATE TABLE findings (
    numero_richiesta INTEGER NOT NULL,
    progressivo      INTEGER NOT NULL,
    fase             TEXT NOT NULL CHECK (fase IN ('PREVALIDAZIONE', 'INVIO')),
    seq              INTEGER NOT NULL,
    code             TEXT NOT NULL,
    layer            TEXT NOT NULL,
    severity         TEXT NOT NULL,
    message          TEXT NOT NULL,
    xpath            TEXT,
    line             INTEGER,
    col              INTEGER,
    value            TEXT,
    PRIMARY KEY (numero_richiesta, progressivo, fase, seq),
    FOREIGN KEY (numero_richiesta, progressivo) REFERENCES domande (numero_richiesta, progressivo) ON DELETE CASCADE
) WITHOUT ROWID;

CREATE TABLE protocollo_contatori (
    anno   INTEGER PRIMARY KEY,
    ultimo INTEGER NOT NULL
);

CREATE TABLE outbox (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    kind             TEXT NOT NULL CHECK (kind IN ('prevalidazione', 'invio')),
    numero_richiesta INTEGER NOT NULL REFERENCES richieste (numero),
    trace_context    TEXT,
    created_at       TEXT NOT NULL,
    leased_until     TEXT,
    published_at     TEXT,
    attempts         INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX outbox_unpublished ON outbox (id) WHERE published_at IS NULL;
CREATE INDEX outbox_unpublished_richiesta ON outbox (numero_richiesta) WHERE published_at IS NULL;
CREATE INDEX outbox_richiesta ON outbox (numero_richiesta, id);
