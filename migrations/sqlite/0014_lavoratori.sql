-- One CIG per worker at a time (ARC-008, ARC-009): the workers of each domanda that can be sent,
-- by codice fiscale, kept with the esito so that later domande (prevalidation, and again at
-- sending) find the protocollate ones a worker is already in. Same logical schema as
-- migrations/postgres/0014_lavoratori.sql (see there).
CREATE TABLE domande_lavoratori (
    numero_richiesta INTEGER NOT NULL,
    progressivo      INTEGER NOT NULL,
    posizione        INTEGER NOT NULL,
    codice_fiscale   TEXT NOT NULL,
    line             INTEGER NOT NULL,
    col              INTEGER NOT NULL,
    PRIMARY KEY (numero_richiesta, progressivo, posizione),
    FOREIGN KEY (numero_richiesta, progressivo) REFERENCES domande (numero_richiesta, progressivo) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX domande_lavoratori_cf ON domande_lavoratori (codice_fiscale);
