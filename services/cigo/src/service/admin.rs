//! The administration's use cases, behind one access check: [`Service::amministrazione`] gives
//! an [`Amministrazione`] only to an admin, and its methods need no check of their own.

use super::{Caller, Paging, Service, ServiceError};
use cigo_store::{AuditEntry, ErroreElaborazione, Page};

/// What an admin may do; obtained from [`Service::amministrazione`].
pub struct Amministrazione<'a> {
    service: &'a Service,
    caller: &'a Caller,
}

impl Service {
    /// The admin's handle; [`ServiceError::Forbidden`] for anyone else.
    pub fn amministrazione<'a>(&'a self, caller: &'a Caller) -> Result<Amministrazione<'a>, ServiceError> {
        caller.ensure_admin()?;
        // In emulazione an admin sees an intermediario's screens, and does nothing else.
        caller
            .emulazione
            .is_none()
            .then_some(())
            .ok_or(ServiceError::Forbidden("in emulazione non si amministra: terminare l'emulazione"))?;
        Ok(Amministrazione { service: self, caller })
    }
}

impl Amministrazione<'_> {
    /// The audit trail, oldest first: every read of a richiesta's data (the `audit` table) merged
    /// with every change of state (`transizioni`), optionally of one richiesta (default page
    /// size 100).
    pub async fn audit_trail(&self, numero: Option<i64>, paging: Paging) -> Result<Page<AuditEntry>, ServiceError> {
        let (page, page_size) = (paging.page()?, paging.page_size(100)?);
        Ok(self
            .service
            .app
            .store
            .list_audit(numero, page, page_size)
            .await?)
    }

    /// The jobs that failed past their retries (the dead letters), oldest first, at most `limit`.
    pub async fn errori_elaborazione(&self, limit: usize) -> Result<Vec<ErroreElaborazione>, ServiceError> {
        Ok(crate::dlq::list(self.service.app.store.as_ref(), limit).await?)
    }

    /// Replays the failed job of richiesta `numero` (after its cause is fixed): the failure is
    /// deleted and the job queued in one transaction, as `cigo admin dlq replay` does; audited.
    pub async fn riprova(&self, numero: i64) -> Result<ErroreElaborazione, ServiceError> {
        let store = &self.service.app.store;
        let Some(errore) = store.errore_elaborazione(numero).await? else {
            return Err(ServiceError::NotFound);
        };
        store.replay_job(numero, errore.kind).await?;
        self.service.app.outbox_written.notify_one();
        self.service
            .audit(self.caller, "riprova", Some(numero), Some(errore.kind.to_string()))
            .await?;
        tracing::info!(numero, kind = %errore.kind, "failed job replayed by an admin");
        Ok(errore)
    }
}
