-- Retention of personal data (`cigo admin purga`, the reaper's daily run). Same logical schema as
-- migrations/sqlite/0013_purga.sql.
--
-- A purged richiesta keeps its row as a tombstone: `transizioni` references it and is append-only
-- (as is `audit`), so the row cannot go without breaking the trail. The purge deletes what holds
-- the personal data (domande, findings, attestati, outbox, idempotency keys, recorded failures,
-- the blob), clears the personal columns of the row (`nome_file`, `file_finding`) and sets
-- `purgata_il`. NULL for every richiesta not purged.
ALTER TABLE richieste ADD COLUMN purgata_il TIMESTAMPTZ;

-- The candidates of the retention: final states not yet purged, by the time their rule counts from.
CREATE INDEX richieste_da_purgare ON richieste (stato, updated_at) WHERE purgata_il IS NULL;
