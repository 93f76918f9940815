//! Prevalidation of one richiesta.
//!
//! The message only names the richiesta; its state in the database says what to do:
//! `RICEVUTA` is moved to `IN_ELABORAZIONE` and processed, `IN_ELABORAZIONE` (a previous attempt
//! crashed) is processed again, anything else is already done and the message is just acked.
//! The file is streamed from the blob store through the domain's parser on a blocking thread (it
//! is CPU work), and the esito is committed in one transaction by `Store::save_esito`.

use crate::app::App;
use crate::jobs::JobError;
use cigo_domain::validate::{prevalidate, Limits};
use cigo_domain::{Event, StatoRichiesta};
use cigo_store::{StoreError, TransitionRequest};
use std::io::BufReader;
use std::time::Instant;
use tokio_util::io::{StreamReader, SyncIoBridge};

pub const ACTOR: &str = "sistema:worker";

pub async fn prevalida(app: &App, numero: i64) -> Result<(), JobError> {
    let Some(richiesta) = app.store.get_richiesta(numero).await? else {
        tracing::warn!(numero, "message for an unknown richiesta, dropped");
        return Ok(());
    };
    match richiesta.stato {
        StatoRichiesta::Ricevuta => {
            let to = richiesta
                .stato
                .apply(Event::StartProcessing)
                .expect("RICEVUTA allows StartProcessing");
            match app
                .store
                .transition(TransitionRequest {
                    numero,
                    from: richiesta.stato,
                    to,
                    actor: ACTOR.into(),
                    nota: None,
                    enqueue: None,
                    trace_context: None,
                })
                .await
            {
                Ok(_) => {}
                // Another worker took it (a duplicate message), or its owner deleted it.
                Err(StoreError::StateConflict { current }) => {
                    tracing::info!(numero, %current, "richiesta taken or changed meanwhile, nothing to do");
                    return Ok(());
                }
                Err(e) => return Err(e.into()),
            }
        }
        StatoRichiesta::InElaborazione => {
            tracing::info!(numero, "resuming a prevalidation interrupted before its esito was saved");
        }
        other => {
            tracing::debug!(numero, stato = %other, "already prevalidated, nothing to do");
            return Ok(());
        }
    }

    let started = Instant::now();
    let stream = app.blob.get(&richiesta.blob_key).await?;
    // The bridge blocks on the runtime from the blocking thread: it must be made here, inside it.
    let bridge = SyncIoBridge::new(StreamReader::new(stream));
    let esito = tokio::task::spawn_blocking(move || {
        prevalidate(BufReader::with_capacity(64 * 1024, bridge), &Limits::default())
    })
    .await
    .map_err(|e| JobError::Permanent(anyhow::anyhow!("the prevalidation of richiesta {numero} crashed: {e}")))?;
    let parse_secs = started.elapsed().as_secs_f64();
    let mut esito = esito;
    // Layer 5: the archive (two queries for the whole richiesta), then the deleghe.
    cigo_store::verifica_archivio(app.store.as_ref(), &mut esito).await?;
    if app.settings.deleghe_required {
        check_deleghe(app.store.as_ref(), &richiesta.intermediario, &mut esito).await?;
    }

    let auto_approve = !richiesta.prevalidazione;
    match app
        .store
        .save_esito(numero, &esito, ACTOR, auto_approve)
        .await
    {
        Ok(saved) => {
            tracing::info!(
                numero,
                stato = %saved.stato,
                domande = saved.domande_totali,
                valide = saved.domande_valide,
                scartate = saved.domande_scartate,
                parse_secs,
                "esito saved"
            );
            metrics::histogram!("cigo_prevalidazione_seconds").record(started.elapsed().as_secs_f64());
            metrics::counter!("cigo_domande_prevalidate_total", "esito" => "valide")
                .increment(saved.domande_valide as u64);
            metrics::counter!("cigo_domande_prevalidate_total", "esito" => "scartate")
                .increment(saved.domande_scartate as u64);
            if saved.stato == StatoRichiesta::Approvata {
                app.outbox_written.notify_one();
            }
            Ok(())
        }
        Err(StoreError::StateConflict { current }) => {
            tracing::info!(numero, %current, "esito already saved by another attempt");
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}

/// The delega check (ARC-050), after the pure prevalidation: each domanda for a matricola the
/// intermediario holds no delega for gets the finding and its esito recomputed. A domanda whose
/// azienda (QuadroA CodiceFiscale) is the intermediario itself needs no delega. One query for all
/// the matricole of the richiesta.
pub async fn check_deleghe(
    store: &dyn cigo_store::Store,
    intermediario: &str,
    esito: &mut cigo_domain::EsitoPrevalidazione,
) -> Result<(), StoreError> {
    use std::collections::BTreeSet;
    let needs = |d: &cigo_domain::DomandaEsito| {
        d.matricola.is_some() && d.codice_fiscale_azienda.as_deref() != Some(intermediario)
    };
    let matricole: BTreeSet<String> = esito
        .domande
        .iter()
        .filter(|d| needs(d))
        .filter_map(|d| d.matricola.clone())
        .collect();
    if matricole.is_empty() {
        return Ok(());
    }
    let matricole: Vec<String> = matricole.into_iter().collect();
    let held: BTreeSet<String> = store
        .deleghe_held(intermediario, &matricole)
        .await?
        .into_iter()
        .collect();
    let mut rejected = 0usize;
    for d in esito.domande.iter_mut().filter(|d| needs(d)) {
        let matricola = d.matricola.clone().unwrap_or_default();
        if held.contains(&matricola) {
            continue;
        }
        let mut f = cigo_domain::rules::ARC_DELEGA_MANCANTE
            .finding(format!("l'intermediario {intermediario} non ha una delega per la matricola {matricola}"));
        f.xpath = Some(format!("/RichiestaCIGO/Domanda[{}]/QuadroA/Matricola", d.progressivo));
        f.value = Some(matricola);
        d.findings.push(f);
        d.esito = cigo_domain::DomandaEsito::esito_from(&d.findings);
        rejected += 1;
    }
    if rejected > 0 {
        tracing::info!(domande = rejected, "domande without delega rejected (ARC-050)");
    }
    Ok(())
}
