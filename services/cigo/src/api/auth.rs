//! Bearer tokens: the API's way to a [`Caller`]. The token itself is checked by the service
//! ([`Service::authenticate`]); this only reads it from the `Authorization` header.

use super::error::ApiError;
use crate::service::{Service, ServiceError};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;

pub use crate::service::{hash_token, new_token, Caller};

impl FromRequestParts<Service> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, service: &Service) -> Result<Self, Self::Rejection> {
        let mut headers = parts
            .headers
            .get_all(axum::http::header::AUTHORIZATION)
            .iter();
        let (Some(header), None) = (headers.next(), headers.next()) else {
            return Err(
                match parts
                    .headers
                    .contains_key(axum::http::header::AUTHORIZATION)
                {
                    true => ApiError::bad_request("multiple_authorization", "più di un'intestazione Authorization"),
                    false => ServiceError::Unauthorized.into(),
                },
            );
        };
        let token = header
            .to_str()
            .ok()
            .and_then(bearer_token)
            .ok_or(ServiceError::Unauthorized)?;
        Ok(service.authenticate(token).await?)
    }
}

/// The token of `Bearer <token>`; the scheme is case-insensitive (RFC 9110 section 11.1).
fn bearer_token(header: &str) -> Option<&str> {
    let (scheme, token) = header.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

#[cfg(test)]
mod tests {
    use super::bearer_token;

    #[test]
    fn the_scheme_is_case_insensitive() {
        for header in ["Bearer abc", "bearer abc", "BEARER abc", "bEaReR  abc "] {
            assert_eq!(bearer_token(header), Some("abc"), "{header:?}");
        }
        for header in ["Basic abc", "Bearer", "Bearer ", "Bearerabc", ""] {
            assert_eq!(bearer_token(header), None, "{header:?}");
        }
    }
}
