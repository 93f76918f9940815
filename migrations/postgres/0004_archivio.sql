-- cigo issue 3, layer 5: the archive the rules check against (PostgreSQL). Same logical schema
-- as migrations/sqlite/0004_archivio.sql.

-- A protocollata domanda counts for the limits of the later ones: its hours and whether its
-- causale is an evento oggettivamente non evitabile (NULL for domande saved before this). The
-- sender re-checks the limits with them and with the unit's workable hours and months allowed.
ALTER TABLE domande ADD COLUMN ore_cig_centesimi BIGINT;
ALTER TABLE domande ADD COLUMN ore_lavorabili_centesimi BIGINT;
ALTER TABLE domande ADD COLUMN mesi_quinquennio INTEGER;
ALTER TABLE domande ADD COLUMN evento_non_evitabile BOOLEAN;

-- Authorisations imported from earlier records (`cigo archivio import --autorizzazioni`).
CREATE TABLE archivio_autorizzazioni (
    matricola            TEXT NOT NULL,
    riferimento          TEXT NOT NULL,
    unita_produttiva     TEXT NOT NULL,
    periodo_dal          DATE NOT NULL,
    periodo_al           DATE NOT NULL,
    ore_centesimi        BIGINT NOT NULL,
    evento_non_evitabile BOOLEAN NOT NULL,
    importata_il         TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (matricola, riferimento),
    CHECK (periodo_al >= periodo_dal)
);
CREATE INDEX archivio_autorizzazioni_finestra ON archivio_autorizzazioni (matricola, periodo_al);

-- Employment relations imported from earlier records (`cigo archivio import --rapporti`).
CREATE TABLE archivio_rapporti (
    matricola      TEXT NOT NULL,
    codice_fiscale TEXT NOT NULL,
    assunto_dal    DATE NOT NULL,
    cessato_al     DATE,
    importato_il   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (matricola, codice_fiscale, assunto_dal)
);
