//! Prevalidation of one richiesta.
//!
//! The message only names the richiesta; its state in the database says what to do:
//! `RICEVUTA` is moved to `IN_ELABORAZIONE` and processed, `IN_ELABORAZIONE` (a previous attempt
//! crashed) is processed again, anything else is already done and the message is just acked.
//! The file is streamed from the blob store through the domain's parser on a blocking thread (it
//! is CPU work), and the esito is committed in one transaction by `Store::save_esito`.

use crate::app::App;
use crate::job::{prendi, JobError};
use cigo_domain::{Event, StatoRichiesta};
use cigo_store::StoreError;
use std::time::Instant;

pub const ACTOR: &str = "sistema:worker";

pub async fn prevalida(app: &App, numero: i64) -> Result<(), JobError> {
    let Some(richiesta) = prendi(app, numero, Event::StartProcessing, ACTOR).await? else {
        return Ok(());
    };

    let started = Instant::now();
    let stream = app.blob.get(&richiesta.blob_key).await?;
    // The domanda would be filed today if approved now: the deadline is judged at today, and
    // again at the approval's date when it is sent.
    let data_presentazione = crate::app::data_presentazione(&app.settings, chrono::Utc::now());
    let esito = crate::app::prevalidate_blob(stream, Some(data_presentazione))
        .await
        .map_err(|e| JobError::Permanent(anyhow::anyhow!("the prevalidation of richiesta {numero} crashed: {e}")))?;
    let parse_secs = started.elapsed().as_secs_f64();
    let mut esito = esito;
    // Layer 5: the archive and, where required, the deleghe (a fixed few queries for the whole
    // richiesta, then the domain judges).
    let deleghe_di = app
        .settings
        .deleghe_required
        .then_some(richiesta.intermediario.as_str());
    cigo_store::verifica_archivio(app.store.as_ref(), &mut esito, deleghe_di).await?;

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
