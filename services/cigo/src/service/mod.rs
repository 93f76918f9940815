//! # The service layer: every use case of cigo, once
//!
//! Each public method of [`Service`] (and of the handles it gives out, [`Caricamento`] for an
//! upload, [`Amministrazione`] for the admin's use cases) is one use case: it takes the verified
//! [`Caller`] and plain arguments, and in that one function
//!
//! 1. checks access (an intermediario sees and changes only its own richieste, and another's is
//!    [`ServiceError::RichiestaNotFound`], exactly like a number that does not exist; an operatore
//!    reads all and changes nothing, [`ServiceError::Forbidden`]; admin: the audit trail);
//! 2. writes the audit row of every read of a richiesta's data (fail closed: no audit row, no
//!    answer); changes of state are recorded by the store with their actor (`transizioni`);
//! 3. applies the state handling: every change goes through `StatoRichiesta::apply` and then the
//!    store's compare-and-set, queueing the follow-up job in the same transaction;
//! 4. maps every failure once, to [`ServiceError`], whose `code()` is stable.
//!
//! It answers store records ([`cigo_store::Richiesta`], [`cigo_store::DomandaRecord`]...) or
//! the few types of its own (an [`AttestatoEmesso`], an [`UploadOutcome`]), never HTTP.
//!
//! **Adapters** translate a transport into these calls and the answers back, and nothing else.
//! The JSON API (`crate::api`) is the first: it extracts the Bearer token and the parameters,
//! calls the method, serialises the answer, and turns [`ServiceError`] into a status and body in
//! `api/error.rs` only. A second adapter (the web console, with a session cookie standing for the
//! token) authenticates with [`Service::authenticate`] and calls the same methods: it needs no
//! access check, audit row or state decision of its own, and must not add any.
//!
//! The per-request limits (rate limit, concurrent-upload quota, see [`limits`]) live here, in the
//! service of one process, not in the process-wide [`App`] that workers and senders share.

mod admin;
mod attestati;
mod caller;
mod cruscotto;
mod error;
mod esito;
pub mod limits;
mod nome_file;
pub mod purga;
mod richieste;
mod rinvio;
mod sessioni;
mod upload;

pub use admin::Amministrazione;
pub use attestati::{totali, AttestatoEmesso, TipoAttestato};
pub use caller::{hash_token, new_token, Caller};
pub use cruscotto::{Cruscotto, UnitaCruscotto};
pub use error::ServiceError;
pub use esito::{FileEsito, FormatoEsito};
pub use richieste::{Azione, Dettaglio, EsitoAzione, FileXml, Paging, Ricerca, MAX_MASSIVA};
pub use rinvio::FileScartate;
pub use sessioni::{SessioneAperta, SessioneAttiva};
pub use upload::{Caricamento, UploadOutcome, BLOB_PREFIX, SPOOL_PREFIX};

use crate::app::App;
use crate::config::Settings;
use cigo_store::Richiesta;
use std::sync::Arc;
use std::time::Duration;

/// The use cases over one process's [`App`]. Cheap to clone; every adapter of the process shares
/// one (and so one set of [`limits::Limits`]).
#[derive(Clone)]
pub struct Service {
    app: App,
    limits: Arc<limits::Limits>,
}

/// The data of a richiesta the retention purged (its domande, attestati and file) are gone: what
/// is read from them is [`ServiceError::NotFound`], while the richiesta itself, its states and
/// its trail still answer.
fn con_i_dati(r: &Richiesta) -> Result<(), ServiceError> {
    match r.purgata_il {
        Some(_) => Err(ServiceError::NotFound),
        None => Ok(()),
    }
}

impl Service {
    pub fn new(app: App) -> Self {
        let limits = Arc::new(limits::Limits::from_settings(&app.settings));
        Service { app, limits }
    }

    pub fn settings(&self) -> &Settings {
        &self.app.settings
    }

    /// Database reachable and writable, queue and blob store reachable, within 2 s each; else
    /// [`ServiceError::Unavailable`] naming those that are not. The database is written to
    /// (`Store::probe_write`), not only read: one that answers reads but cannot write (a full
    /// disk) would otherwise be reported ready while every upload fails. A probe still waiting
    /// after 2 s is not a failure: SQLite's one writer may be busy with a large esito.
    pub async fn readiness(&self) -> Result<(), ServiceError> {
        let timeout = Duration::from_secs(2);
        let store = self.app.store.as_ref();
        let db_down = match tokio::time::timeout(timeout, store.ping()).await {
            Ok(Ok(())) => match tokio::time::timeout(timeout, store.probe_write()).await {
                Ok(Err(e)) => {
                    tracing::debug!(error = %e, "readiness: the database cannot write");
                    Some("database (non scrivibile)")
                }
                Ok(Ok(())) | Err(_) => None,
            },
            Ok(Err(_)) | Err(_) => Some("database"),
        };
        let queue = tokio::time::timeout(timeout, self.app.queue.ping()).await;
        let blob = tokio::time::timeout(timeout, self.app.blob.ping()).await;
        let mut down = Vec::new();
        for (dependency, up, name) in [
            ("database", db_down.is_none(), db_down.unwrap_or("database")),
            ("broker", matches!(queue, Ok(Ok(()))), "queue"),
            ("blob", matches!(blob, Ok(Ok(()))), "blob store"),
        ] {
            // What /readyz found, for the dashboards and alerts (1 up, 0 down).
            metrics::gauge!("cigo_dependency_up", "dependency" => dependency).set(if up { 1.0 } else { 0.0 });
            if !up {
                down.push(name);
            }
        }
        if down.is_empty() {
            Ok(())
        } else {
            Err(ServiceError::Unavailable(down.join(", ")))
        }
    }

    /// The richiesta numbered `numero`, if the caller may see it. Another intermediario's
    /// richiesta is answered exactly like one that does not exist, and the probe is recorded.
    async fn load(&self, caller: &Caller, numero: i64) -> Result<Richiesta, ServiceError> {
        match self.app.store.get_richiesta(numero).await? {
            Some(r) if caller.may_read(&r.intermediario) => Ok(r),
            Some(_) => {
                self.record_refused_probe(caller, numero).await;
                Err(ServiceError::RichiestaNotFound(numero))
            }
            None => Err(ServiceError::RichiestaNotFound(numero)),
        }
    }

    /// Records in the audit trail (`accesso_negato`) that `caller` asked for a richiesta of
    /// someone else, within [`limits::PROBES_RECORDED_PER_WINDOW`] rows a minute per actor (the
    /// rest are counted in the next row). Best effort: the answer is a refusal either way, so a
    /// trail that cannot be written is logged, not turned into another error.
    async fn record_refused_probe(&self, caller: &Caller, numero: i64) {
        metrics::counter!("cigo_access_refused_total").increment(1);
        let actor = caller.actor();
        let Some(left_out) = self.limits.record_probe(&actor) else { return };
        let mut detail = "richiesta di un altro intermediario".to_string();
        if left_out > 0 {
            detail.push_str(&format!(
                "; altri {left_out} tentativi non registrati (al massimo {} al minuto)",
                limits::PROBES_RECORDED_PER_WINDOW
            ));
        }
        let row = cigo_store::NewAudit {
            actor,
            action: "accesso_negato".into(),
            numero_richiesta: Some(numero),
            detail: Some(detail),
        };
        if let Err(e) = self.app.store.append_audit(row).await {
            tracing::warn!(error = %e, numero, "cannot record a refused access in the audit trail");
        }
    }

    /// Appends one row to the audit trail; the use case fails if it cannot be written.
    async fn audit(
        &self,
        caller: &Caller,
        action: &str,
        numero: Option<i64>,
        detail: Option<String>,
    ) -> Result<(), ServiceError> {
        self.app
            .store
            .append_audit(cigo_store::NewAudit {
                actor: caller.actor(),
                action: action.to_string(),
                numero_richiesta: numero,
                detail,
            })
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests;
