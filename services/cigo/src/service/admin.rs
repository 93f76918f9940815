//! The administration's use cases, behind one access check: [`Service::amministrazione`] gives
//! an [`Amministrazione`] only to an admin, and its methods need no check of their own.

use super::{Caller, Paging, Service, ServiceError};
use cigo_store::{AuditEntry, Page};

/// What an admin may do; obtained from [`Service::amministrazione`].
pub struct Amministrazione<'a> {
    service: &'a Service,
}

impl Service {
    /// The admin's handle; [`ServiceError::Forbidden`] for anyone else.
    pub fn amministrazione(&self, caller: &Caller) -> Result<Amministrazione<'_>, ServiceError> {
        caller.ensure_admin()?;
        Ok(Amministrazione { service: self })
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
}
