-- The last day a domanda can be filed in time (D.Lgs. 148/2015 art. 15 c. 2), computed at
-- prevalidation: the sender judges it again at the filing date of the sending (the attestato di
-- trasmissione). NULL for domande saved before this: their deadline is not judged again.
ALTER TABLE domande ADD COLUMN termine_presentazione DATE;
