-- The rinvio of rejected domande (PostgreSQL; same logical schema as migrations/sqlite/0006_rinvio.sql):
-- a richiesta uploaded from the scartate.xml of an earlier one names it (`rinvioDi` in the file),
-- and the earlier one names the latest such richiesta. Both NULL for every other richiesta.
ALTER TABLE richieste ADD COLUMN rinvio_di BIGINT REFERENCES richieste (numero);
ALTER TABLE richieste ADD COLUMN rinviata_in BIGINT REFERENCES richieste (numero);
