-- One CIG per worker at a time (ARC-008, ARC-009): the workers of each domanda that can be sent,
-- by codice fiscale, kept with the esito so that later domande (prevalidation, and again at
-- sending) find the protocollate ones a worker is already in. Same logical schema as
-- migrations/sqlite/0014_lavoratori.sql.
--
-- Written for the domande VALIDA or VALIDA_CON_AVVISI only (the others are never sent), removed
-- with their domanda (a new esito, the purge). `posizione`, `line` and `col` place the worker in
-- the file, for the findings of the sending. Domande prevalidated before this migration have no
-- rows: their workers are not known to the rule.
CREATE TABLE domande_lavoratori (
    numero_richiesta BIGINT NOT NULL,
    progressivo      BIGINT NOT NULL,
    posizione        BIGINT NOT NULL,
    codice_fiscale   TEXT NOT NULL,
    line             BIGINT NOT NULL,
    col              BIGINT NOT NULL,
    PRIMARY KEY (numero_richiesta, progressivo, posizione),
    FOREIGN KEY (numero_richiesta, progressivo) REFERENCES domande (numero_richiesta, progressivo) ON DELETE CASCADE
);
CREATE INDEX domande_lavoratori_cf ON domande_lavoratori (codice_fiscale);
