//! Who is calling, and what that identity may do: the access decisions of every use case.
//!
//! A token is `cigo_` followed by 64 hex digits of randomness; the database keeps only its
//! SHA-256, so a leaked database does not leak working tokens.

use super::{Service, ServiceError};
use cigo_domain::Ruolo;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// The identity a use case runs for, once its credential is verified ([`Service::authenticate`]).
#[derive(Debug, Clone)]
pub struct Caller {
    pub token_id: i64,
    /// Codice fiscale of the intermediario the token acts for.
    pub intermediario: String,
    pub ruolo: Ruolo,
    /// Set when an operatore looks at the screens of this intermediario ("emulazione"): reads are
    /// limited to its richieste, every change is refused.
    pub emulazione: Option<String>,
}

impl Caller {
    /// The actor recorded in transitions and in the audit trail.
    pub fn actor(&self) -> String {
        let actor = format!("{}:{} (token {})", self.ruolo, self.intermediario, self.token_id);
        match &self.emulazione {
            Some(cf) => format!("{actor} in emulazione di {cf}"),
            None => actor,
        }
    }

    /// The same caller looking at `intermediario`'s richieste, read-only.
    pub fn in_emulazione(mut self, intermediario: impl Into<String>) -> Self {
        self.emulazione = Some(intermediario.into());
        self
    }

    /// A session's caller with the emulazione it asked for (the console keeps the intermediario
    /// in a cookie, [`Service::emulazione`] having recorded the start): applied only for a role
    /// that may emulate and a well-formed codice fiscale, otherwise the caller unchanged (a
    /// cookie can only narrow a view, never widen one).
    pub fn con_emulazione(self, intermediario: Option<&str>) -> Self {
        match intermediario.and_then(codice_intermediario) {
            Some(cf) if self.ruolo.reads_all() && self.emulazione.is_none() => self.in_emulazione(cf),
            _ => self,
        }
    }

    /// Whose richieste a search returns: `None` for all of them.
    pub fn scope(&self) -> Option<&str> {
        match &self.emulazione {
            Some(cf) => Some(cf),
            None if self.ruolo.reads_all() => None,
            None => Some(&self.intermediario),
        }
    }

    /// Richieste of other intermediari do not exist for an intermediario (404, not 403: their
    /// existence is not leaked).
    pub fn may_read(&self, owner: &str) -> bool {
        self.scope().is_none_or(|cf| cf == owner)
    }

    /// Administration (audit trail): admin only.
    pub fn ensure_admin(&self) -> Result<(), ServiceError> {
        if self.ruolo == Ruolo::Admin {
            Ok(())
        } else {
            Err(ServiceError::Forbidden("operazione riservata agli amministratori"))
        }
    }

    /// Upload, approve, delete: an intermediario acting for itself.
    pub fn ensure_may_change(&self) -> Result<(), ServiceError> {
        if self.ruolo.may_change() && self.emulazione.is_none() {
            Ok(())
        } else {
            Err(ServiceError::Forbidden("questo profilo può consultare le richieste ma non modificarle"))
        }
    }
}

/// A codice fiscale of an intermediario as written (16 characters, or 11 digits for a company),
/// upper case; `None` when it is not one.
pub(super) fn codice_intermediario(s: &str) -> Option<String> {
    let cf = s.trim().to_ascii_uppercase();
    ((cf.len() == 11 || cf.len() == 16) && cf.bytes().all(|b| b.is_ascii_alphanumeric())).then_some(cf)
}

pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    format!("cigo_{}", hex::encode(bytes))
}

pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

impl Service {
    /// The caller a token stands for: unknown, expired and revoked tokens are
    /// [`ServiceError::Unauthorized`]. Counts one request against the intermediario's rate
    /// limit, so every adapter calls it once per request (a revoked token stops at once).
    pub async fn authenticate(&self, token: &str) -> Result<Caller, ServiceError> {
        let token = token.trim();
        if token.is_empty() || token.len() > 256 {
            return Err(ServiceError::Unauthorized);
        }
        let record = self
            .app
            .store
            .find_token(&hash_token(token))
            .await?
            .ok_or(ServiceError::Unauthorized)?;
        self.caller_of(record)
    }

    /// The caller of a stored token, if the token is still valid (not expired, not revoked);
    /// counts one request against the rate limit. The one check of a token, for the API's Bearer
    /// token and for the token behind a console session alike.
    pub(super) fn caller_of(&self, record: cigo_store::TokenRecord) -> Result<Caller, ServiceError> {
        let now = chrono::Utc::now();
        if record.revoked_at.is_some() || record.expires_at.is_some_and(|e| e <= now) {
            return Err(ServiceError::Unauthorized);
        }
        self.limits.check_rate(&record.intermediario)?;
        Ok(Caller { token_id: record.id, intermediario: record.intermediario, ruolo: record.ruolo, emulazione: None })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(ruolo: Ruolo) -> Caller {
        Caller { token_id: 1, intermediario: "A".into(), ruolo, emulazione: None }
    }

    #[test]
    fn tokens_are_random_and_hashes_stable() {
        let a = new_token();
        let b = new_token();
        assert_ne!(a, b);
        assert!(a.starts_with("cigo_") && a.len() == 69);
        assert_eq!(hash_token(&a), hash_token(&a));
        assert_ne!(hash_token(&a), hash_token(&b));
        assert_eq!(hash_token(&a).len(), 64);
    }

    #[test]
    fn emulazione_reads_only_the_emulated_intermediario_and_changes_nothing() {
        let op = caller(Ruolo::Operatore);
        assert!(op.may_read("B") && op.scope().is_none());
        let em = op.in_emulazione("B");
        assert!(em.may_read("B"));
        assert!(!em.may_read("C"));
        assert_eq!(em.scope(), Some("B"));
        assert!(em.ensure_may_change().is_err());
        assert!(em.actor().ends_with("in emulazione di B"), "{}", em.actor());
        assert_eq!(caller(Ruolo::Intermediario).actor(), "intermediario:A (token 1)");
    }
}
