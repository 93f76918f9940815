//! Sending of one approved richiesta: the archive re-validation and the filing deadline at the
//! date of the attestato di trasmissione, protocol numbers and the attestato di consegna all
//! happen in one transaction (`Store::complete_invio`), so a sender killed at any point either
//! left nothing or left the whole result, never half of it.

use crate::app::App;
use crate::job::{prendi, JobError};
use cigo_domain::Event;
use cigo_store::StoreError;

pub const ACTOR: &str = "sistema:sender";

pub async fn invia(app: &App, numero: i64) -> Result<(), JobError> {
    let Some(richiesta) = prendi(app, numero, Event::StartSending, ACTOR).await? else {
        return Ok(());
    };
    let now = chrono::Utc::now();
    // The legal filing date is the attestato di trasmissione's: the moment of the approval.
    let data_presentazione = crate::app::data_presentazione(&app.settings, richiesta.data_approvazione.unwrap_or(now));
    match app
        .store
        .complete_invio(numero, ACTOR, now, data_presentazione)
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
