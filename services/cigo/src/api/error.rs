//! The one error type of the API and its one mapping to HTTP.
//!
//! Every error answers `{"code": "…", "message": "…", …}` where `code` is stable (clients match on
//! it) and `message` is Italian, for the person at the desk.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use cigo_domain::StatoRichiesta;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("token mancante, scaduto o non valido")]
    Unauthorized,
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("richiesta {0} non trovata")]
    RichiestaNotFound(i64),
    #[error("risorsa non trovata")]
    NotFound,
    #[error("operazione non consentita: la richiesta {numero} è nello stato {stato}")]
    InvalidState { numero: i64, stato: StatoRichiesta },
    #[error("attestato non ancora disponibile: la richiesta {numero} è nello stato {stato}")]
    AttestatoNotAvailable { numero: i64, stato: StatoRichiesta },
    #[error("il file supera il limite di {limit_bytes} byte")]
    PayloadTooLarge { limit_bytes: u64 },
    #[error(
        "tipo di contenuto non supportato: {0}; inviare application/xml oppure multipart/form-data con il campo 'file'"
    )]
    UnsupportedMediaType(String),
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    #[error("servizio temporaneamente non disponibile: {0}")]
    Unavailable(String),
    #[error("errore interno")]
    Internal(#[source] anyhow::Error),
    /// Rate limit or concurrent-upload quota of the intermediario (429 with `Retry-After`).
    #[error("{message}")]
    TooManyRequests { code: &'static str, message: String, retry_after_secs: u64 },
    /// Any other refusal with its own status and code (408 `request_timeout`, 413 `gzip_bomb`,
    /// 415 `unsupported_content_encoding`, ...).
    #[error("{message}")]
    Refused { status: StatusCode, code: &'static str, message: String },
}

/// The JSON body of every error.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// Stable machine-readable code, e.g. `invalid_state`.
    pub code: &'static str,
    /// What went wrong, in Italian.
    pub message: String,
    /// The current state, for `invalid_state` and `attestato_not_available`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stato: Option<StatoRichiesta>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub numero_richiesta: Option<i64>,
    /// The size limit, for `payload_too_large`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit_bytes: Option<u64>,
}

impl ApiError {
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::BadRequest { code, message: message.into() }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::RichiestaNotFound(_) | ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::InvalidState { .. } | ApiError::AttestatoNotAvailable { .. } => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Refused { status, .. } => *status,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Unauthorized => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::RichiestaNotFound(_) | ApiError::NotFound => "not_found",
            ApiError::InvalidState { .. } => "invalid_state",
            ApiError::AttestatoNotAvailable { .. } => "attestato_not_available",
            ApiError::PayloadTooLarge { .. } => "payload_too_large",
            ApiError::UnsupportedMediaType(_) => "unsupported_media_type",
            ApiError::BadRequest { code, .. } => code,
            ApiError::Unavailable(_) => "service_unavailable",
            ApiError::Internal(_) => "internal_error",
            ApiError::TooManyRequests { code, .. } | ApiError::Refused { code, .. } => code,
        }
    }

    fn body(&self) -> ErrorBody {
        let (stato, numero) = match self {
            ApiError::InvalidState { numero, stato } | ApiError::AttestatoNotAvailable { numero, stato } => {
                (Some(*stato), Some(*numero))
            }
            ApiError::RichiestaNotFound(n) => (None, Some(*n)),
            _ => (None, None),
        };
        ErrorBody {
            code: self.code(),
            message: self.to_string(),
            stato,
            numero_richiesta: numero,
            limit_bytes: match self {
                ApiError::PayloadTooLarge { limit_bytes } => Some(*limit_bytes),
                _ => None,
            },
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        match &self {
            ApiError::Internal(e) => tracing::error!(error = %format!("{e:#}"), "internal error"),
            ApiError::Unavailable(e) => tracing::warn!(error = %e, "dependency unavailable"),
            _ => tracing::debug!(code = self.code(), "request refused"),
        }
        let mut response = (status, Json(self.body())).into_response();
        if let ApiError::TooManyRequests { retry_after_secs, .. } = &self {
            if let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"cigo\""));
        }
        response
    }
}

impl From<cigo_store::StoreError> for ApiError {
    fn from(e: cigo_store::StoreError) -> Self {
        match e {
            cigo_store::StoreError::NotFound(n) => ApiError::RichiestaNotFound(n),
            cigo_store::StoreError::Database(sqlx::Error::PoolTimedOut) => {
                ApiError::Unavailable("database non raggiungibile".into())
            }
            cigo_store::StoreError::Database(sqlx::Error::Io(_)) => {
                ApiError::Unavailable("database non raggiungibile".into())
            }
            other => ApiError::Internal(other.into()),
        }
    }
}

impl From<cigo_blob::BlobError> for ApiError {
    fn from(e: cigo_blob::BlobError) -> Self {
        ApiError::Internal(e.into())
    }
}

// Rejections of axum's extractors, in our shape.
impl From<axum::extract::rejection::PathRejection> for ApiError {
    fn from(e: axum::extract::rejection::PathRejection) -> Self {
        ApiError::bad_request("invalid_path", format!("percorso non valido: {}", e.body_text()))
    }
}

impl From<axum::extract::rejection::QueryRejection> for ApiError {
    fn from(e: axum::extract::rejection::QueryRejection) -> Self {
        ApiError::bad_request("invalid_query", format!("parametri non validi: {}", e.body_text()))
    }
}

/// Answer for routes that do not exist.
pub async fn fallback() -> ApiError {
    ApiError::NotFound
}
