//! The session cookie: who is signed in ([`Utente`]), and the checks of a state-changing form
//! (CSRF token, Origin).

use crate::service::{Service, ServiceError, SessioneAttiva};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Redirect, Response};

/// The cookie that carries the session id (never the API token).
pub const COOKIE: &str = "cigo_sessione";

/// The cookie that keeps the intermediario an operatore is emulating (not a secret: it can only
/// narrow what the session sees, see `Caller::con_emulazione`).
pub const EMULAZIONE: &str = "cigo_emulazione";

/// The person signed in: the request's session, valid (its token re-checked by the service).
pub struct Utente(pub SessioneAttiva);

impl FromRequestParts<Service> for Utente {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, service: &Service) -> Result<Self, Self::Rejection> {
        let Some(id) = cookie(&parts.headers, COOKIE) else {
            return Err(Redirect::to("/accesso").into_response());
        };
        match service.sessione(&id).await {
            Ok(mut s) => {
                let emulato = cookie(&parts.headers, EMULAZIONE);
                s.caller = s.caller.con_emulazione(emulato.as_deref());
                Ok(Utente(s))
            }
            // Expired, ended or its token revoked: sign in again, and the stale cookie goes.
            Err(ServiceError::Unauthorized) => {
                Err(([(header::SET_COOKIE, clear_cookie(&parts.headers))], Redirect::to("/accesso")).into_response())
            }
            Err(e) => Err(super::errore(e)),
        }
    }
}

/// The value of cookie `name` in the request, if any.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// Behind a TLS-terminating proxy the cookie is Secure.
fn secure(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("https"))
}

/// The Set-Cookie of a new session: not readable by script, not sent by other sites' requests.
pub fn set_cookie(headers: &HeaderMap, id: &str, max_age_secs: i64) -> String {
    let secure = if secure(headers) { "; Secure" } else { "" };
    format!("{COOKIE}={id}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age_secs}{secure}")
}

/// The Set-Cookie of the emulazione of `intermediario` (empty and expired: its end), for the
/// session's lifetime at most.
pub fn emulazione_cookie(headers: &HeaderMap, intermediario: &str, max_age_secs: i64) -> String {
    let secure = if secure(headers) { "; Secure" } else { "" };
    format!("{EMULAZIONE}={intermediario}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age_secs}{secure}")
}

/// The Set-Cookie that removes the session cookie.
pub fn clear_cookie(headers: &HeaderMap) -> String {
    set_cookie(headers, "", 0)
}

/// A POST is accepted only from this server's own pages: an `Origin` (or, without one, a
/// `Referer`) naming another host is refused. Browsers send `Origin` on every POST.
pub fn same_origin(headers: &HeaderMap) -> bool {
    let Some(host) = headers.get(header::HOST).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let from = headers
        .get(header::ORIGIN)
        .or_else(|| headers.get(header::REFERER))
        .and_then(|v| v.to_str().ok());
    match from {
        None => true,
        Some(url) => {
            let rest = url.split_once("://").map(|(_, r)| r).unwrap_or("");
            rest.split('/').next() == Some(host)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn cookie_flags_and_lookup() {
        let plain = headers(&[]);
        let c = set_cookie(&plain, "abc", 60);
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Strict") && !c.contains("Secure"), "{c}");
        let tls = headers(&[("x-forwarded-proto", "https")]);
        assert!(set_cookie(&tls, "abc", 60).ends_with("; Secure"));
        let h = headers(&[("cookie", "a=1; cigo_sessione=xyz; b=2")]);
        assert_eq!(cookie(&h, COOKIE).as_deref(), Some("xyz"));
        assert_eq!(cookie(&plain, COOKIE), None);
    }

    #[test]
    fn posts_from_another_origin_are_refused() {
        assert!(same_origin(&headers(&[("host", "127.0.0.1:8080"), ("origin", "http://127.0.0.1:8080")])));
        assert!(!same_origin(&headers(&[("host", "127.0.0.1:8080"), ("origin", "https://evil.example")])));
        assert!(!same_origin(&headers(&[("host", "127.0.0.1:8080"), ("origin", "null")])));
        assert!(same_origin(&headers(&[("host", "127.0.0.1:8080")])));
    }
}
