//! What every job handler (the worker's prevalidation, the sender's sending) shares: the error
//! the consumer loop (`jobs`) retries or dead-letters, and taking a richiesta in hand. The
//! handlers and the loop import this module; it imports neither.

use crate::app::App;
use cigo_domain::{Event, StatoRichiesta};
use cigo_store::{Richiesta, StoreError, TransitionRequest};

#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// Worth retrying (database or blob store unreachable, a deadlock...).
    #[error("transient: {0:#}")]
    Transient(anyhow::Error),
    /// Retrying cannot help (the file makes the parser fail in an unexpected way...).
    #[error("permanent: {0:#}")]
    Permanent(anyhow::Error),
}

impl JobError {
    /// The failure is a full disk (the database's or the blob store's): it passes once space is
    /// freed, so the consumer loop never dead-letters it (see `jobs`).
    pub fn is_disk_full(&self) -> bool {
        let JobError::Transient(e) = self else {
            return false;
        };
        e.chain().any(|cause| {
            cause
                .downcast_ref::<StoreError>()
                .is_some_and(StoreError::is_disk_full)
                || cause
                    .downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::StorageFull)
        })
    }
}

impl From<StoreError> for JobError {
    fn from(e: StoreError) -> Self {
        JobError::Transient(e.into())
    }
}

impl From<cigo_blob::BlobError> for JobError {
    fn from(e: cigo_blob::BlobError) -> Self {
        JobError::Transient(e.into())
    }
}

/// Takes richiesta `numero` in hand with `event` (`RICEVUTA` → `IN_ELABORAZIONE` for the
/// worker, `APPROVATA` → `IN_INVIO` for the sender), by the compare-and-set of the store, so
/// that of two deliveries of one message only one does the work. `Some`: taken now, or already in
/// the state `event` leads to (an earlier attempt took it and stopped before its result was
/// saved), do the work; `None`: nothing to do (unknown, taken by another process meanwhile, or
/// already past this job).
pub async fn prendi(app: &App, numero: i64, event: Event, actor: &str) -> Result<Option<Richiesta>, JobError> {
    let Some(richiesta) = app.store.get_richiesta(numero).await? else {
        tracing::warn!(numero, "message for an unknown richiesta, dropped");
        return Ok(None);
    };
    let Ok(to) = richiesta.stato.apply(event) else {
        if StatoRichiesta::sources_of(event)
            .iter()
            .any(|s| s.apply(event).ok() == Some(richiesta.stato))
        {
            tracing::info!(numero, stato = %richiesta.stato, "resuming work interrupted before its result was saved");
            return Ok(Some(richiesta));
        }
        tracing::debug!(numero, stato = %richiesta.stato, "nothing to do in this state");
        return Ok(None);
    };
    let req = TransitionRequest {
        numero,
        from: richiesta.stato,
        to,
        actor: actor.into(),
        nota: None,
        enqueue: None,
        trace_context: None,
    };
    match app.store.transition(req).await {
        Ok(taken) => Ok(Some(taken)),
        // Another process took it (a duplicate message), or its owner deleted it.
        Err(StoreError::StateConflict { current }) => {
            tracing::info!(numero, %current, "richiesta taken or changed meanwhile, nothing to do");
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}
