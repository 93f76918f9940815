//! Archivio: the facts layer 5 judges against, and their import, for both backends (see the module
//! doc of `both`).

use super::{list, ts, Backend, Conn, IN_LIST};
use crate::common::{db_err, now};
use crate::sql;
use crate::{PeriodoArchivio, RapportoLavoro, Result};
use cigo_domain::archivio::{ChiaviArchivio, DelegheTenute, FattiArchivio, LavoratoreArchivio};

/// The periods of CIG for `chiavi` (one query; none when no domanda can be judged), also used by
/// the sending inside its transaction.
pub(super) async fn periodi(conn: &mut Conn, chiavi: &ChiaviArchivio) -> Result<Vec<PeriodoArchivio>> {
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

/// The workers of domande protocollate for `chiavi` (one query; none when no domanda can be
/// judged or names no worker), also used by the sending inside its transaction.
pub(super) async fn lavoratori(conn: &mut Conn, chiavi: &ChiaviArchivio) -> Result<Vec<LavoratoreArchivio>> {
    let Some(dal) = chiavi.dal.filter(|_| !chiavi.codici_fiscali.is_empty()) else {
        return Ok(Vec::new());
    };
    sqlx::query_as(&sql::select_lavoratori(IN_LIST))
        .bind(list(&chiavi.codici_fiscali)?)
        .bind(dal)
        .fetch_all(&mut *conn)
        .await
        .map_err(db_err)
}

impl Backend {
    pub async fn fatti_archivio(&self, chiavi: &ChiaviArchivio) -> Result<FattiArchivio> {
        let mut tx = self.begin_read().await?;
        let periodi = periodi(&mut tx, chiavi).await?;
        let lavoratori = lavoratori(&mut tx, chiavi).await?;
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
        Ok(FattiArchivio { periodi, rapporti, lavoratori, deleghe })
    }

    pub async fn unita_protocollate(&self, matricola: &str) -> Result<Vec<crate::UnitaProtocollata>> {
        let rows: Vec<crate::UnitaProtocollata> = sqlx::query_as(sql::SELECT_UNITA_PROTOCOLLATE)
            .bind(matricola)
            .fetch_all(self.reader())
            .await
            .map_err(db_err)?;
        let mut visti = std::collections::HashSet::new();
        Ok(rows
            .into_iter()
            .filter(|u| visti.insert(u.unita_produttiva.clone()))
            .collect())
    }

    pub async fn import_autorizzazioni(&self, rows: &[PeriodoArchivio]) -> Result<u64> {
        let now = now();
        self.write_rows(sql::INSERT_AUTORIZZAZIONI, rows, sql::AUTORIZZAZIONI_CONFLICT, |mut b, p| {
            b.push_bind(&p.matricola)
                .push_bind(&p.riferimento)
                .push_bind(&p.unita_produttiva)
                .push_bind(p.dal)
                .push_bind(p.al)
                .push_bind(p.ore)
                .push_bind(p.evento_non_evitabile)
                .push_bind(ts(now));
        })
        .await
    }

    pub async fn import_rapporti(&self, rows: &[RapportoLavoro]) -> Result<u64> {
        let now = now();
        self.write_rows(sql::INSERT_RAPPORTI, rows, sql::RAPPORTI_CONFLICT, |mut b, r| {
            b.push_bind(&r.matricola)
                .push_bind(&r.codice_fiscale)
                .push_bind(r.assunto_dal)
                .push_bind(r.cessato_al)
                .push_bind(ts(now));
        })
        .await
    }
}
