//! The one error type of the service layer. Every adapter maps it once (the JSON API in
//! `api/error.rs`); [`ServiceError::code`] is the stable machine code clients match on, the
//! `Display` text is Italian, for the person at the desk.

use cigo_domain::StatoRichiesta;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// No credential, or one that is unknown, expired or revoked.
    #[error("token mancante, scaduto o non valido")]
    Unauthorized,
    /// The caller's role may not do this.
    #[error("{0}")]
    Forbidden(&'static str),
    /// No such richiesta, or one the caller may not see (the two are indistinguishable).
    #[error("richiesta {0} non trovata")]
    RichiestaNotFound(i64),
    #[error("risorsa non trovata")]
    NotFound,
    /// The state machine refuses the change from the richiesta's current state.
    #[error("operazione non consentita: la richiesta {numero} è nello stato {stato}")]
    InvalidState { numero: i64, stato: StatoRichiesta },
    #[error("attestato non ancora disponibile: la richiesta {numero} è nello stato {stato}")]
    AttestatoNotAvailable { numero: i64, stato: StatoRichiesta },
    /// The richiesta has no rejected domande (yet) to send again.
    #[error("la richiesta {numero} (stato {stato}) non ha domande scartate da inviare di nuovo")]
    NessunaScartata { numero: i64, stato: StatoRichiesta },
    /// No attestato with that verification code was issued by this server.
    #[error("nessun attestato emesso con questo codice di verifica")]
    AttestatoNotFound,
    #[error("il file supera il limite di {limit_bytes} byte")]
    PayloadTooLarge { limit_bytes: u64 },
    /// An argument out of its bounds (`code` says which rule: `invalid_query`, `empty_body`...).
    #[error("{message}")]
    InvalidInput { code: &'static str, message: String },
    /// The same file of the same intermediario is already there (not eliminata).
    #[error(
        "lo stesso file è già stato inviato con la richiesta {numero} (stato {stato}); eliminarla per inviarlo di nuovo"
    )]
    Duplicate { numero: i64, stato: StatoRichiesta },
    /// The Idempotency-Key already created a richiesta, from another file.
    #[error("l'Idempotency-Key è già stata usata per la richiesta {numero} con un file diverso")]
    IdempotencyKeyReused { numero: i64 },
    /// Rate limit or concurrent-upload quota of the intermediario: retry after that many seconds.
    #[error("{message}")]
    TooManyRequests { code: &'static str, message: String, retry_after_secs: u64 },
    /// The disk (of the database, the blob store or the upload spool) is full: nothing was
    /// written, retry later. What was accepted before stays accepted and is processed once space
    /// is freed.
    #[error("spazio su disco esaurito: riprovare più tardi; nulla di quanto già accettato è andato perso")]
    InsufficientStorage,
    /// A dependency (database, queue, blob store) is down.
    #[error("servizio temporaneamente non disponibile: {0}")]
    Unavailable(String),
    #[error("errore interno")]
    Internal(#[source] anyhow::Error),
}

impl ServiceError {
    pub fn invalid(code: &'static str, message: impl Into<String>) -> Self {
        ServiceError::InvalidInput { code, message: message.into() }
    }

    pub fn internal(e: impl Into<anyhow::Error>) -> Self {
        ServiceError::Internal(e.into())
    }

    /// The stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            ServiceError::Unauthorized => "unauthorized",
            ServiceError::Forbidden(_) => "forbidden",
            ServiceError::RichiestaNotFound(_) | ServiceError::NotFound => "not_found",
            ServiceError::InvalidState { .. } => "invalid_state",
            ServiceError::AttestatoNotAvailable { .. } => "attestato_not_available",
            ServiceError::NessunaScartata { .. } => "nessuna_domanda_scartata",
            ServiceError::AttestatoNotFound => "attestato_not_found",
            ServiceError::PayloadTooLarge { .. } => "payload_too_large",
            ServiceError::InvalidInput { code, .. } | ServiceError::TooManyRequests { code, .. } => code,
            ServiceError::Duplicate { .. } => "duplicate_richiesta",
            ServiceError::IdempotencyKeyReused { .. } => "idempotency_key_reused",
            ServiceError::InsufficientStorage => "insufficient_storage",
            ServiceError::Unavailable(_) => "service_unavailable",
            ServiceError::Internal(_) => "internal_error",
        }
    }
}

impl From<cigo_store::StoreError> for ServiceError {
    fn from(e: cigo_store::StoreError) -> Self {
        match e {
            cigo_store::StoreError::NotFound(n) => ServiceError::RichiestaNotFound(n),
            cigo_store::StoreError::DiskFull(e) => {
                tracing::warn!(error = %e, "database: disk full");
                ServiceError::InsufficientStorage
            }
            cigo_store::StoreError::Database(sqlx::Error::PoolTimedOut | sqlx::Error::Io(_)) => {
                ServiceError::Unavailable("database non raggiungibile".into())
            }
            other => ServiceError::Internal(other.into()),
        }
    }
}

impl From<cigo_blob::BlobError> for ServiceError {
    fn from(e: cigo_blob::BlobError) -> Self {
        match e {
            cigo_blob::BlobError::Io(io) => ServiceError::io(io),
            other => ServiceError::Internal(other.into()),
        }
    }
}

impl ServiceError {
    /// A local I/O error (the upload spool, the blob store's files): a full disk is
    /// [`ServiceError::InsufficientStorage`], anything else internal.
    pub fn io(e: std::io::Error) -> Self {
        if e.kind() == std::io::ErrorKind::StorageFull {
            tracing::warn!(error = %e, "disk full");
            ServiceError::InsufficientStorage
        } else {
            ServiceError::internal(e)
        }
    }
}
