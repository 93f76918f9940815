//! Sending of one approved richiesta: the archive re-validation, protocol numbers and the
//! attestato di consegna all happen in one transaction (`Store::complete_invio`), so a sender
//! killed at any point either left nothing or left the whole result, never half of it.

use crate::app::App;
use crate::job::{prendi, JobError};
use cigo_domain::Event;
use cigo_store::StoreError;

pub const ACTOR: &str = "sistema:sender";

pub async fn invia(app: &App, numero: i64) -> Result<(), JobError> {
    if prendi(app, numero, Event::StartSending, ACTOR)
        .await?
        .is_none()
    {
        return Ok(());
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
