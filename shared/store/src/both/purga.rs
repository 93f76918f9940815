//! The retention: the richieste due for a purge, the purge of one, the blobs of the purged, for
//! both backends (see the module doc of `both`).
//!
//! A purged richiesta is a tombstone, not a deleted row: `transizioni` references `richieste` and
//! is append-only (a trigger refuses DELETE), as is `audit`, and the trail of who did what to a
//! richiesta must outlive its data. So the purge deletes the rows that hold the personal data
//! (domande with their codici fiscali and hours, findings with their values, attestati with
//! their JSON, outbox rows, idempotency keys, recorded failures), clears the personal columns of
//! the row itself and stamps it `purgata_il`; what stays is the numero, the intermediario, the
//! states, the dates and the counters.

use super::{ts, Backend, Db, FOR_UPDATE};
use crate::common::{db_err, now};
use crate::sql::INSERT_AUDIT;
use crate::{CandidatoPurga, CriterioPurga, PurgaEseguita, RegolaPurga, Result, Timestamp};
use cigo_domain::StatoRichiesta;
use sqlx::QueryBuilder;

/// The columns a candidate is read from.
const CANDIDATO_COLS: &str = "SELECT numero, blob_key, stato, data_eliminazione, updated_at FROM richieste";

#[derive(sqlx::FromRow)]
struct Riga {
    numero: i64,
    blob_key: String,
    stato: StatoRichiesta,
    data_eliminazione: Option<Timestamp>,
    updated_at: Timestamp,
}

/// The final states (no transition leaves them, as the domain says), as SQL literals: the only
/// states a purge may touch.
fn stati_finali() -> String {
    StatoRichiesta::ALL
        .iter()
        .filter(|s| s.is_final())
        .map(|s| format!("'{}'", s.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// ` WHERE` the richiesta is not purged and is due by a rule of `criterio`; `false` (nothing
/// pushed) when no rule is on.
fn push_criterio(qb: &mut QueryBuilder<'_, Db>, criterio: &CriterioPurga) -> bool {
    if criterio.is_off() {
        return false;
    }
    let finali = stati_finali();
    qb.push(format!(" WHERE purgata_il IS NULL AND stato IN ({finali}) AND ("));
    let mut or = "";
    if let Some(t) = criterio.eliminate_prima_del {
        qb.push(format!("(stato = '{}' AND data_eliminazione < ", StatoRichiesta::Eliminata.as_str()))
            .push_bind(ts(t))
            .push(")");
        or = " OR ";
    }
    if let Some(t) = criterio.concluse_prima_del {
        qb.push(or).push("updated_at < ").push_bind(ts(t));
    }
    qb.push(")");
    true
}

/// The rule that makes `riga` due (the elimination's first) and the time it counts from.
fn candidato(riga: Riga, criterio: &CriterioPurga) -> CandidatoPurga {
    let eliminata = match (riga.stato, riga.data_eliminazione, criterio.eliminate_prima_del) {
        (StatoRichiesta::Eliminata, Some(il), Some(prima)) if il < prima => Some(il),
        _ => None,
    };
    let (regola, dal) = match eliminata {
        Some(il) => (RegolaPurga::Eliminata, il),
        None => (RegolaPurga::Conservazione, riga.updated_at),
    };
    CandidatoPurga { numero: riga.numero, blob_key: riga.blob_key, stato: riga.stato, regola, dal }
}

/// The rows of richiesta `$1` the purge deletes, children first (findings and workers reference
/// domande).
const DELETES: [(&str, &str); 7] = [
    ("findings", "DELETE FROM findings WHERE numero_richiesta = $1"),
    ("domande_lavoratori", "DELETE FROM domande_lavoratori WHERE numero_richiesta = $1"),
    ("domande", "DELETE FROM domande WHERE numero_richiesta = $1"),
    ("attestati", "DELETE FROM attestati WHERE numero_richiesta = $1"),
    ("outbox", "DELETE FROM outbox WHERE numero_richiesta = $1"),
    ("idempotency_keys", "DELETE FROM idempotency_keys WHERE numero_richiesta = $1"),
    ("errori_elaborazione", "DELETE FROM errori_elaborazione WHERE numero_richiesta = $1"),
];

/// The tombstone: `$1` numero, `$2` now. `updated_at` stays: it is what the retention counted from.
const UPDATE_PURGATA: &str =
    "UPDATE richieste SET purgata_il = $2, nome_file = NULL, file_finding = NULL WHERE numero = $1";

impl Backend {
    pub async fn candidati_purga(
        &self,
        criterio: &CriterioPurga,
        dopo: i64,
        limit: i64,
    ) -> Result<Vec<CandidatoPurga>> {
        let mut qb = QueryBuilder::<Db>::new(CANDIDATO_COLS);
        if !push_criterio(&mut qb, criterio) {
            return Ok(Vec::new());
        }
        qb.push(" AND numero > ")
            .push_bind(dopo)
            .push(" ORDER BY numero LIMIT ")
            .push_bind(limit);
        let righe: Vec<Riga> = qb
            .build_query_as()
            .fetch_all(self.reader())
            .await
            .map_err(db_err)?;
        Ok(righe.into_iter().map(|r| candidato(r, criterio)).collect())
    }

    pub async fn purga_richiesta(
        &self,
        numero: i64,
        criterio: &CriterioPurga,
        actor: &str,
    ) -> Result<Option<PurgaEseguita>> {
        let mut qb = QueryBuilder::<Db>::new(CANDIDATO_COLS);
        if !push_criterio(&mut qb, criterio) {
            return Ok(None);
        }
        qb.push(" AND numero = ").push_bind(numero).push(FOR_UPDATE);
        let now = now();
        let mut tx = self.begin_write().await?;
        // Read again under the lock: the listing may be old, and a richiesta that is no longer
        // due (or was purged by another run meanwhile) is left alone.
        let riga: Option<Riga> = qb
            .build_query_as()
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?;
        let Some(riga) = riga else {
            return Ok(None);
        };
        let candidato = candidato(riga, criterio);
        let mut removed = [0u64; DELETES.len()];
        for (n, (_, delete)) in removed.iter_mut().zip(DELETES) {
            *n = sqlx::query(delete)
                .bind(numero)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        }
        sqlx::query(UPDATE_PURGATA)
            .bind(numero)
            .bind(ts(now))
            .execute(&mut *tx)
            .await?;
        let counts = DELETES
            .iter()
            .zip(removed)
            .map(|((table, _), n)| format!(" {table}={n}"))
            .collect::<String>();
        let detail = format!(
            "regola={} stato={} dal={}{counts}",
            candidato.regola,
            candidato.stato,
            candidato
                .dal
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        );
        sqlx::query(INSERT_AUDIT)
            .bind(ts(now))
            .bind(actor)
            .bind("purga")
            .bind(Some(numero))
            .bind(Some(detail))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        let [findings, lavoratori, domande, attestati, outbox, chiavi, errori] = removed;
        Ok(Some(PurgaEseguita { candidato, domande, findings, attestati, outbox, altre: lavoratori + chiavi + errori }))
    }

    pub async fn blob_keys_purgati(&self, from: Timestamp, to: Timestamp) -> Result<Vec<String>> {
        let keys = sqlx::query_scalar("SELECT blob_key FROM richieste WHERE purgata_il >= $1 AND purgata_il < $2")
            .bind(ts(from))
            .bind(ts(to))
            .fetch_all(self.reader())
            .await?;
        Ok(keys)
    }
}
