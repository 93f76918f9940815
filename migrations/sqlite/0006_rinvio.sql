-- The rinvio of rejected domande (SQLite; same logical schema as migrations/postgres/0006_rinvio.sql):
-- a richiesta uploaded from the scartate.xml of an earlier one names it (`rinvioDi` in the file),
-- and the earlier one names the latest such richiesta. Both NULL for every other richiesta.
ALTER TABLE richieste ADD COLUMN rinvio_di INTEGER REFERENCES richieste (numero);
ALTER TABLE richieste ADD COLUMN rinviata_in INTEGER REFERENCES richieste (numero);
