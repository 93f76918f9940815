//! Sending of one approved richiesta: the archive re-validation, protocol numbers and the
//! attestato di consegna all happen in one transaction (`Store::complete_invio`), so a sender
//! killed at any point either left nothing or left the whole result, never half of it.

use crate::app::App;
use crate::jobs::JobError;
use cigo_domain::{Event, StatoRichiesta};
use cigo_store::{StoreError, TransitionRequest};

pub const ACTOR: &str = "sistema:sender";

pub async fn invia(app: &App, numero: i64) -> Result<(), JobError> {
    let Some(richiesta) = app.store.get_richiesta(numero).await? else {
        tracing::warn!(numero, "message for an unknown richiesta, dropped");
        return Ok(());
    };
    match richiesta.stato {
        StatoRichiesta::Approvata => {
            let to = richiesta
                .stato
                .apply(Event::StartSending)
                .expect("APPROVATA allows StartSending");
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
                Err(StoreError::StateConflict { current }) => {
                    tracing::info!(numero, %current, "richiesta taken by another sender");
                    return Ok(());
                }
                Err(e) => return Err(e.into()),
            }
        }
        StatoRichiesta::InInvio => tracing::info!(numero, "resuming an interrupted sending"),
        other => {
            tracing::debug!(numero, stato = %other, "not waiting to be sent, nothing to do");
            return Ok(());
        }
    }
    match app
        .store
        .complete_invio(numero, ACTOR, chrono::Utc::now())
        .await
    {
        Ok(done) => {
            tracing::info!(numero, stato = %done.stato, protocollate = done.domande_protocollate, "richiesta sent");
            metrics::counter!("cigo_domande_protocollate_total").increment(done.domande_protocollate as u64);
            Ok(())
        }
        Err(StoreError::StateConflict { current }) => {
            tracing::info!(numero, %current, "already sent by another attempt");
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}
