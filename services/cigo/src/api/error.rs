//! The one error type of the API and its one mapping to HTTP: every [`ServiceError`] of the
//! service layer gets its status and body here, and nowhere else.
//!
//! Every error answers `{"code": "…", "message": "…", …}` where `code` is stable (clients match on
//! it) and `message` is Italian, for the person at the desk.

use crate::service::ServiceError;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use cigo_domain::StatoRichiesta;
use serde::Serialize;
use utoipa::ToSchema;

/// What the API answers when a request fails: a [`ServiceError`] of the use case, or a request
/// the HTTP layer refuses before it reaches one.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    Service(#[from] ServiceError),
    #[error(
        "tipo di contenuto non supportato: {0}; inviare application/xml oppure multipart/form-data con il campo 'file'"
    )]
    UnsupportedMediaType(String),
    /// A malformed request: path, query, multipart form, gzip body (400 with `code`).
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
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
        use ServiceError as S;
        match self {
            ApiError::Service(e) => match e {
                S::Unauthorized => StatusCode::UNAUTHORIZED,
                S::Forbidden(_) => StatusCode::FORBIDDEN,
                S::RichiestaNotFound(_) | S::NotFound | S::AttestatoNotFound => StatusCode::NOT_FOUND,
                S::InvalidState { .. }
                | S::AttestatoNotAvailable { .. }
                | S::NessunaScartata { .. }
                | S::Duplicate { .. } => StatusCode::CONFLICT,
                S::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
                S::InvalidInput { .. } => StatusCode::BAD_REQUEST,
                S::IdempotencyKeyReused { .. } => StatusCode::UNPROCESSABLE_ENTITY,
                S::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
                S::InsufficientStorage => StatusCode::INSUFFICIENT_STORAGE,
                S::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
                S::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            },
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::Refused { status, .. } => *status,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Service(e) => e.code(),
            ApiError::UnsupportedMediaType(_) => "unsupported_media_type",
            ApiError::BadRequest { code, .. } | ApiError::Refused { code, .. } => code,
        }
    }

    fn body(&self) -> ErrorBody {
        use ServiceError as S;
        let (stato, numero) = match self {
            ApiError::Service(
                S::InvalidState { numero, stato }
                | S::AttestatoNotAvailable { numero, stato }
                | S::NessunaScartata { numero, stato },
            ) => (Some(*stato), Some(*numero)),
            ApiError::Service(S::RichiestaNotFound(n) | S::IdempotencyKeyReused { numero: n }) => (None, Some(*n)),
            _ => (None, None),
        };
        ErrorBody {
            code: self.code(),
            message: self.to_string(),
            stato,
            numero_richiesta: numero,
            limit_bytes: match self {
                ApiError::Service(S::PayloadTooLarge { limit_bytes }) => Some(*limit_bytes),
                _ => None,
            },
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        match &self {
            ApiError::Service(ServiceError::Internal(e)) => {
                tracing::error!(error = %format!("{e:#}"), "internal error")
            }
            ApiError::Service(ServiceError::Unavailable(e)) => tracing::warn!(error = %e, "dependency unavailable"),
            _ => tracing::debug!(code = self.code(), "request refused"),
        }
        if let ApiError::Service(ServiceError::Duplicate { numero, stato }) = &self {
            // The body names the richiesta already there and `Location` points to it.
            return (
                status,
                [(header::LOCATION, format!("/api/v1/richieste/{numero}"))],
                Json(serde_json::json!({
                    "code": self.code(),
                    "message": self.to_string(),
                    "numero_richiesta": numero,
                    "stato": stato.as_str(),
                })),
            )
                .into_response();
        }
        let mut response = (status, Json(self.body())).into_response();
        if let ApiError::Service(ServiceError::TooManyRequests { retry_after_secs, .. }) = &self {
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

/// Answer for a method a route does not have, in the documented error shape.
pub async fn method_not_allowed() -> ApiError {
    ApiError::Refused {
        status: StatusCode::METHOD_NOT_ALLOWED,
        code: "method_not_allowed",
        message: "metodo non ammesso per questo indirizzo".into(),
    }
}

/// The body of a refusal hyper makes by itself, before any route runs, for a request head it
/// cannot take (see [`crate::http::ErrorBodies`]); `None` for a status it never makes.
pub fn automatic_refusal(status: StatusCode) -> Option<ErrorBody> {
    let (code, message) = match status {
        StatusCode::BAD_REQUEST => {
            ("bad_request", "richiesta HTTP non valida: riga di richiesta o intestazioni malformate")
        }
        StatusCode::URI_TOO_LONG => ("uri_too_long", "indirizzo troppo lungo: al massimo 65.534 byte"),
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => (
            "request_header_fields_too_large",
            "intestazioni della richiesta troppo grandi o troppo numerose (al massimo 100)",
        ),
        _ => return None,
    };
    Some(ErrorBody { code, message: message.into(), stato: None, numero_richiesta: None, limit_bytes: None })
}

/// Answer for routes that do not exist.
pub async fn fallback() -> ApiError {
    ServiceError::NotFound.into()
}
