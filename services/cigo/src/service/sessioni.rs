//! Sessions of the web console: a browser signs in once with an API token and then carries a
//! random session id in a cookie. The session stands for the token, never beside it: every
//! request re-checks the token ([`Service::sessione`]), so a revoked or expired token ends its
//! sessions at the next request, and the caller is the token's, with the same access decisions.

use super::caller::hash_token;
use super::{Caller, Service, ServiceError};
use chrono::{DateTime, Duration, Utc};
use rand::RngCore;

/// A session just opened: `id` goes into the cookie (the store keeps only its SHA-256) and is
/// never shown again.
#[derive(Debug, Clone)]
pub struct SessioneAperta {
    pub id: String,
    pub attiva: SessioneAttiva,
}

/// A valid session and who it acts as.
#[derive(Debug, Clone)]
pub struct SessioneAttiva {
    /// The store's number of the session (not the secret id).
    pub numero: i64,
    /// The token every state-changing form of this session carries.
    pub csrf_token: String,
    pub expires_at: DateTime<Utc>,
    pub caller: Caller,
}

impl Service {
    /// Emulazione: an operatore (or admin) looks at exactly the screens of `intermediario`,
    /// read-only (every change is refused, [`Caller::ensure_may_change`]); the start is audited,
    /// and so is every read made in it (its actor names the emulazione). Refused to anyone who
    /// does not read every richiesta anyway.
    pub async fn emulazione(&self, caller: &Caller, intermediario: &str) -> Result<Caller, ServiceError> {
        if !caller.ruolo.reads_all() || caller.emulazione.is_some() {
            return Err(ServiceError::Forbidden("l'emulazione è riservata agli operatori e agli amministratori"));
        }
        let Some(cf) = super::caller::codice_intermediario(intermediario) else {
            return Err(ServiceError::invalid(
                "invalid_query",
                "il codice fiscale dell'intermediario è di 16 caratteri (11 cifre per una società)",
            ));
        };
        self.audit(caller, "emulazione", None, Some(format!("intermediario {cf}")))
            .await?;
        Ok(caller.clone().in_emulazione(cf))
    }
}

impl SessioneAttiva {
    /// Whether a form's CSRF token is this session's, compared in constant time (the time taken
    /// does not tell how many leading characters were right).
    pub fn csrf_ok(&self, given: &str) -> bool {
        constant_time_eq(self.csrf_token.as_bytes(), given.as_bytes())
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn random_hex() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

impl Service {
    /// Signs in with an API token: a new session lasting `console_session_minutes`, recorded in
    /// the audit trail (`accesso`). Unknown, expired and revoked tokens are
    /// [`ServiceError::Unauthorized`].
    pub async fn apri_sessione(&self, token: &str) -> Result<SessioneAperta, ServiceError> {
        let caller = self.authenticate(token).await?;
        let id = random_hex();
        let minutes = i64::from(self.app.settings.console_session_minutes.max(1));
        let stored = self
            .app
            .store
            .create_sessione(cigo_store::NuovaSessione {
                session_hash: hash_token(&id),
                csrf_token: random_hex(),
                token_id: caller.token_id,
                expires_at: Utc::now() + Duration::minutes(minutes),
            })
            .await?;
        self.audit(&caller, "accesso", None, Some(format!("sessione console {}", stored.id)))
            .await?;
        let attiva =
            SessioneAttiva { numero: stored.id, csrf_token: stored.csrf_token, expires_at: stored.expires_at, caller };
        Ok(SessioneAperta { id, attiva })
    }

    /// The session whose cookie carries `id`, if it is still valid: not ended, not expired, and
    /// its API token neither revoked nor expired (a session of a revoked token is ended here).
    /// Counts one request against the rate limit, like [`Service::authenticate`].
    pub async fn sessione(&self, id: &str) -> Result<SessioneAttiva, ServiceError> {
        if id.is_empty() || id.len() > 128 {
            return Err(ServiceError::Unauthorized);
        }
        let stored = self
            .app
            .store
            .find_sessione(&hash_token(id))
            .await?
            .ok_or(ServiceError::Unauthorized)?;
        if stored.ended_at.is_some() || stored.expires_at <= Utc::now() {
            return Err(ServiceError::Unauthorized);
        }
        let record = self
            .app
            .store
            .get_token(stored.token_id)
            .await?
            .ok_or(ServiceError::Unauthorized)?;
        let caller = match self.caller_of(record) {
            Ok(caller) => caller,
            Err(ServiceError::Unauthorized) => {
                self.app.store.end_sessione(stored.id).await?;
                return Err(ServiceError::Unauthorized);
            }
            Err(e) => return Err(e),
        };
        Ok(SessioneAttiva { numero: stored.id, csrf_token: stored.csrf_token, expires_at: stored.expires_at, caller })
    }

    /// Signs out: the session ends (its cookie opens nothing any more), recorded as `uscita`.
    pub async fn chiudi_sessione(&self, sessione: &SessioneAttiva) -> Result<(), ServiceError> {
        self.app.store.end_sessione(sessione.numero).await?;
        self.audit(&sessione.caller, "uscita", None, Some(format!("sessione console {}", sessione.numero)))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::constant_time_eq;

    #[test]
    fn csrf_comparison_needs_every_byte() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
        assert!(!constant_time_eq(b"", b"a"));
    }
}
