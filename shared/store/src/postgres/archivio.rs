//! Archivio: the facts layer 5 judges against, and their import (PostgreSQL).

use super::{list, ts, PgStore, BATCH, IN_LIST};
use crate::common::{db_err, now};
use crate::sql;
use crate::{PeriodoArchivio, RapportoLavoro, Result};
use cigo_domain::archivio::{ChiaviArchivio, DelegheTenute, FattiArchivio};
use sqlx::PgConnection;

/// The periods of CIG for `chiavi` (one query; none when no domanda can be judged), also used by
/// the sending inside its transaction.
pub(super) async fn periodi(conn: &mut PgConnection, chiavi: &ChiaviArchivio) -> Result<Vec<PeriodoArchivio>> {
    let Some(dal) = chiavi.dal.filter(|_| !chiavi.matricole.is_empty()) else {
        return Ok(Vec::new());
    };
    sqlx::query_as(&sql::select_periodi(IN_LIST))
        .bind(list(&chiavi.matricole)?)
        .bind(dal)
        .fetch_all(&mut *conn)
        .await
        .map_err(db_err)
}

impl PgStore {
    pub async fn fatti_archivio(&self, chiavi: &ChiaviArchivio) -> Result<FattiArchivio> {
        let mut tx = self.begin_read().await?;
        let periodi = periodi(&mut tx, chiavi).await?;
        let rapporti = if chiavi.dal.is_none() || chiavi.matricole.is_empty() {
            Vec::new()
        } else {
            sqlx::query_as(&sql::select_rapporti(IN_LIST))
                .bind(list(&chiavi.matricole)?)
                .fetch_all(&mut *tx)
                .await
                .map_err(db_err)?
        };
        let deleghe = match &chiavi.deleghe {
            None => None,
            Some(d) if d.matricole.is_empty() => {
                Some(DelegheTenute { intermediario: d.intermediario.clone(), matricole: Vec::new() })
            }
            Some(d) => Some(DelegheTenute {
                intermediario: d.intermediario.clone(),
                matricole: sqlx::query_scalar(&sql::select_deleghe_tenute(IN_LIST))
                    .bind(list(&d.matricole)?)
                    .bind(&d.intermediario)
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(db_err)?,
            }),
        };
        tx.commit().await?;
        Ok(FattiArchivio { periodi, rapporti, deleghe })
    }

    pub async fn import_autorizzazioni(&self, rows: &[PeriodoArchivio]) -> Result<u64> {
        let now = ts(now());
        let mut tx = self.begin_write().await?;
        let mut written = 0;
        for chunk in rows.chunks(BATCH) {
            let col = |f: fn(&PeriodoArchivio) -> String| chunk.iter().map(f).collect::<Vec<String>>();
            written += sqlx::query(
                "INSERT INTO archivio_autorizzazioni (matricola, riferimento, unita_produttiva, periodo_dal, \
                 periodo_al, ore_centesimi, evento_non_evitabile, importata_il) \
                 SELECT *, $8::timestamptz FROM UNNEST($1::text[], $2::text[], $3::text[], $4::date[], $5::date[], \
                 $6::bigint[], $7::bool[]) \
                 ON CONFLICT (matricola, riferimento) DO UPDATE SET unita_produttiva = excluded.unita_produttiva, \
                 periodo_dal = excluded.periodo_dal, periodo_al = excluded.periodo_al, \
                 ore_centesimi = excluded.ore_centesimi, evento_non_evitabile = excluded.evento_non_evitabile, \
                 importata_il = excluded.importata_il",
            )
            .bind(col(|p| p.matricola.clone()))
            .bind(col(|p| p.riferimento.clone()))
            .bind(col(|p| p.unita_produttiva.clone()))
            .bind(chunk.iter().map(|p| p.dal).collect::<Vec<_>>())
            .bind(chunk.iter().map(|p| p.al).collect::<Vec<_>>())
            .bind(chunk.iter().map(|p| p.ore.0).collect::<Vec<_>>())
            .bind(
                chunk
                    .iter()
                    .map(|p| p.evento_non_evitabile)
                    .collect::<Vec<_>>(),
            )
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        }
        tx.commit().await?;
        Ok(written)
    }

    pub async fn import_rapporti(&self, rows: &[RapportoLavoro]) -> Result<u64> {
        let now = ts(now());
        let mut tx = self.begin_write().await?;
        let mut written = 0;
        for chunk in rows.chunks(BATCH) {
            written += sqlx::query(
                "INSERT INTO archivio_rapporti (matricola, codice_fiscale, assunto_dal, cessato_al, importato_il) \
                 SELECT *, $5::timestamptz FROM UNNEST($1::text[], $2::text[], $3::date[], $4::date[]) \
                 ON CONFLICT (matricola, codice_fiscale, assunto_dal) \
                 DO UPDATE SET cessato_al = excluded.cessato_al, importato_il = excluded.importato_il",
            )
            .bind(
                chunk
                    .iter()
                    .map(|r| r.matricola.clone())
                    .collect::<Vec<_>>(),
            )
            .bind(
                chunk
                    .iter()
                    .map(|r| r.codice_fiscale.clone())
                    .collect::<Vec<_>>(),
            )
            .bind(chunk.iter().map(|r| r.assunto_dal).collect::<Vec<_>>())
            .bind(chunk.iter().map(|r| r.cessato_al).collect::<Vec<_>>())
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        }
        tx.commit().await?;
        Ok(written)
    }
}
