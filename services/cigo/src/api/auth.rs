//! Bearer tokens. A token is `cigo_` followed by 64 hex digits of randomness; the database keeps
//! only its SHA-256, so a leaked database does not leak working tokens.

use super::error::ApiError;
use crate::app::App;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use cigo_domain::Ruolo;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// Who is calling, once the token is verified.
#[derive(Debug, Clone)]
pub struct Caller {
    pub token_id: i64,
    /// Codice fiscale of the intermediario the token acts for.
    pub intermediario: String,
    pub ruolo: Ruolo,
}

impl Caller {
    /// The actor recorded in transitions.
    pub fn actor(&self) -> String {
        format!("{}:{} (token {})", self.ruolo, self.intermediario, self.token_id)
    }

    /// Richieste of other intermediari do not exist for an intermediario (404, not 403: their
    /// existence is not leaked).
    pub fn may_read(&self, owner: &str) -> bool {
        self.ruolo.reads_all() || self.intermediario == owner
    }

    /// Administration (audit trail): admin only.
    pub fn ensure_admin(&self) -> Result<(), ApiError> {
        if self.ruolo == Ruolo::Admin {
            Ok(())
        } else {
            Err(ApiError::Forbidden("operazione riservata agli amministratori"))
        }
    }

    pub fn ensure_may_change(&self) -> Result<(), ApiError> {
        if self.ruolo.may_change() {
            Ok(())
        } else {
            Err(ApiError::Forbidden("questo profilo può consultare le richieste ma non modificarle"))
        }
    }
}

pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    format!("cigo_{}", hex::encode(bytes))
}

pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

impl FromRequestParts<App> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or(ApiError::Unauthorized)?;
        let token = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty() && t.len() <= 256)
            .ok_or(ApiError::Unauthorized)?;
        let record = app
            .store
            .find_token(&hash_token(token))
            .await?
            .ok_or(ApiError::Unauthorized)?;
        let now = chrono::Utc::now();
        if record.revoked_at.is_some() || record.expires_at.is_some_and(|e| e <= now) {
            return Err(ApiError::Unauthorized);
        }
        app.access.check_rate(&record.intermediario)?;
        Ok(Caller { token_id: record.id, intermediario: record.intermediario, ruolo: record.ruolo })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
