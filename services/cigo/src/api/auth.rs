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
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or(ServiceError::Unauthorized)?;
        let token = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
            .ok_or(ServiceError::Unauthorized)?;
        Ok(service.authenticate(token).await?)
    }
}
