-- The receipts (SQLite). Same logical schema as migrations/postgres/0005_attestati.sql.

-- The name of the uploaded file as the intermediario sent it (multipart filename, `?nome=` or
-- `X-Nome-File`); NULL for richieste uploaded before this or without a name.
ALTER TABLE richieste ADD COLUMN nome_file TEXT;

-- Domande rejected by the re-validation at sending (`domande_scartate` counts them together with
-- those rejected at prevalidation): the esito tells the two apart.
ALTER TABLE richieste ADD COLUMN domande_scartate_in_invio INTEGER NOT NULL DEFAULT 0;
UPDATE richieste SET domande_scartate_in_invio =
    (SELECT COUNT(*) FROM domande d WHERE d.numero_richiesta = richieste.numero AND d.esito = 'SCARTATA_IN_INVIO');

-- Every attestato issued, by its verification code: what `GET /api/v1/attestati/verifica/{codice}`
-- answers. `json` is the canonical JSON the code hashes; an attestato, once issued, never changes.
CREATE TABLE attestati (
    codice           TEXT PRIMARY KEY,
    numero_richiesta INTEGER NOT NULL REFERENCES richieste (numero),
    tipo             TEXT NOT NULL CHECK (tipo IN ('TRASMISSIONE', 'CONSEGNA')),
    json             TEXT NOT NULL,
    emesso_il        TEXT NOT NULL,
    UNIQUE (numero_richiesta, tipo)
) WITHOUT ROWID;
