//! The retention of personal data: the richieste past their time lose their domande, findings,
//! attestati and file, and keep their trail (the row as a tombstone, `transizioni`, `audit` with
//! the purge itself). Run by `cigo admin purga` (an operator holding the database's credentials,
//! so no [`super::Caller`]) and once a day by the reaper (`crate::retention`).
//!
//! The rules come from the settings: an ELIMINATA richiesta `--retention-eliminate-days` after its
//! elimination, any richiesta in a final state `--retention-days` after its last change; 0 turns a
//! rule off. Only final states are ever touched (the store's query says so, from the domain).
//!
//! Order: the rows first, in one transaction per richiesta (with its audit row), then the blob.
//! A crash between the two leaves a blob no row holds: the next run deletes it again
//! ([`cigo_store::Store::blob_keys_purgati`]), and the orphan sweep does too for a recent one.

use super::ServiceError;
use crate::config::Settings;
use chrono::{DateTime, Utc};
use cigo_blob::BlobStore;
use cigo_store::{CandidatoPurga, CriterioPurga, PurgaEseguita, Store};

/// Richieste read and purged per batch.
const BATCH: i64 = 100;

/// How far back the blobs of earlier purges are deleted again (a crash between a purge's commit
/// and its blob's deletion; deleting a missing blob is no error).
const BLOB_RETRY_DAYS: i64 = 7;

/// The rules of `settings` at `as_of` (`None` for a rule that is off).
pub fn criterio(settings: &Settings, as_of: DateTime<Utc>) -> CriterioPurga {
    let cutoff = |days: u32| (days > 0).then(|| as_of - chrono::Duration::days(i64::from(days)));
    CriterioPurga {
        eliminate_prima_del: cutoff(settings.retention_eliminate_days),
        concluse_prima_del: cutoff(settings.retention_days),
    }
}

/// One richiesta of a run: due (dry run) or purged.
#[derive(Debug, Clone)]
pub struct VocePurga {
    pub candidato: CandidatoPurga,
    /// What was removed; `None` in a dry run.
    pub eseguita: Option<PurgaEseguita>,
}

/// The totals of a run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RiepilogoPurga {
    /// Richieste due (dry run) or purged.
    pub richieste: u64,
    pub domande: u64,
    pub attestati: u64,
    /// Blobs of this run deleted.
    pub blob_rimossi: u64,
    /// Blobs that could not be deleted now (the next run deletes them).
    pub blob_non_rimossi: u64,
}

/// One run of the retention at `as_of` by `actor` (written in the audit rows): every due
/// richiesta, by numero, in batches, handed to `each`; with `dry_run` nothing is written or
/// deleted. Does nothing when both rules are off.
pub async fn purga(
    store: &dyn Store,
    blob: &dyn BlobStore,
    settings: &Settings,
    as_of: DateTime<Utc>,
    dry_run: bool,
    actor: &str,
    mut each: impl FnMut(&VocePurga) + Send,
) -> Result<RiepilogoPurga, ServiceError> {
    let criterio = criterio(settings, as_of);
    let mut totali = RiepilogoPurga::default();
    if criterio.is_off() {
        return Ok(totali);
    }
    if !dry_run {
        let now = Utc::now();
        let from = now - chrono::Duration::days(BLOB_RETRY_DAYS);
        // Not counted in the totals: most were deleted by their own run already.
        let mut again = RiepilogoPurga::default();
        for key in store.blob_keys_purgati(from, now).await? {
            delete_blob(blob, &key, &mut again).await;
        }
    }
    let mut dopo = 0;
    loop {
        let batch = store.candidati_purga(&criterio, dopo, BATCH).await?;
        let Some(last) = batch.last() else {
            break;
        };
        dopo = last.numero;
        for candidato in batch {
            let voce = if dry_run {
                VocePurga { candidato, eseguita: None }
            } else {
                // None: no longer due (purged by another run meanwhile).
                let Some(eseguita) = store
                    .purga_richiesta(candidato.numero, &criterio, actor)
                    .await?
                else {
                    continue;
                };
                delete_blob(blob, &eseguita.candidato.blob_key, &mut totali).await;
                metrics::counter!("cigo_richieste_purgate_total", "regola" => eseguita.candidato.regola.as_str())
                    .increment(1);
                tracing::info!(
                    numero_richiesta = eseguita.candidato.numero,
                    stato = %eseguita.candidato.stato,
                    regola = %eseguita.candidato.regola,
                    domande = eseguita.domande,
                    "richiesta purged"
                );
                VocePurga { candidato: eseguita.candidato.clone(), eseguita: Some(eseguita) }
            };
            totali.richieste += 1;
            if let Some(e) = &voce.eseguita {
                totali.domande += e.domande;
                totali.attestati += e.attestati;
            }
            each(&voce);
        }
    }
    Ok(totali)
}

/// Deletes one blob after its rows' purge committed; a failure is counted and logged, not fatal
/// (the rows are gone already, and the next run deletes the blob again).
async fn delete_blob(blob: &dyn BlobStore, key: &str, totali: &mut RiepilogoPurga) {
    match blob.delete(key).await {
        Ok(()) => totali.blob_rimossi += 1,
        Err(e) => {
            tracing::warn!(blob_key = %key, error = %e, "cannot delete the blob of a purged richiesta; the next run tries again");
            totali.blob_non_rimossi += 1;
        }
    }
}
