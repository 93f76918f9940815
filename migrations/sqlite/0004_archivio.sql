-- cigo issue 3, layer 5: the archive the rules check against (SQLite). Same logical schema as
-- migrations/postgres/0004_archivio.sql; dates are TEXT YYYY-MM-DD, timestamps TEXT as in 0001.

-- A protocollata domanda counts for the limits of the later ones: its hours and whether its
-- causale is an evento oggettivamente non evitabile (NULL for domande saved before this). The
-- sender re-checks the limits with them and with the unit's workable hours and months allowed.
ALTER TABLE domande ADD COLUMN ore_cig_centesimi INTEGER;
ALTER TABLE domande ADD COLUMN ore_lavorabili_centesimi INTEGER;
ALTER TABLE domande ADD COLUMN mesi_quinquennio INTEGER;
ALTER TABLE domande ADD COLUMN evento_non_evitabile INTEGER;

-- Authorisations imported from earlier records (`cigo archivio import --autorizzazioni`).
CREATE TABLE archivio_autorizzazioni (
    matricola            TEXT NOT NULL,
    riferimento          TEXT NOT NULL,
    unita_produttiva     TEXT NOT NULL,
    periodo_dal          TEXT NOT NULL,
    periodo_al           TEXT NOT NULL,
    ore_centesimi        INTEGER NOT NULL,
    evento_non_evitabile INTEGER NOT NULL,
    importata_il         TEXT NOT NULL,
    PRIMARY KEY (matricola, riferimento),
    CHECK (periodo_al >= periodo_dal)
) WITHOUT ROWID;
CREATE INDEX archivio_autorizzazioni_finestra ON archivio_autorizzazioni (matricola, periodo_al);

-- Employment relations imported from earlier records (`cigo archivio import --rapporti`).
CREATE TABLE archivio_rapporti (
    matricola      TEXT NOT NULL,
    codice_fiscale TEXT NOT NULL,
    assunto_dal    TEXT NOT NULL,
    cessato_al     TEXT,
    importato_il   TEXT NOT NULL,
    PRIMARY KEY (matricola, codice_fiscale, assunto_dal)
) WITHOUT ROWID;
