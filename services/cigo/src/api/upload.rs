//! `POST /api/v1/richieste`: the upload, over [`Service::caricamento`].
//!
//! This adapter owns what is HTTP about it: the body's guards (timeouts, gzip), the content
//! type, the multipart form, the `Idempotency-Key` header, and the 202 sent only after the
//! service committed the richiesta (a numero richiesta given out is never lost).

use super::auth::Caller;
use super::dto::{RichiestaView, UploadQuery};
use super::error::ApiError;
use crate::service::{Caricamento, Service, ServiceError, UploadOutcome};
use axum::extract::{FromRequest, Multipart, Query, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

#[utoipa::path(
    post,
    path = "/api/v1/richieste",
    tag = "richieste",
    params(UploadQuery),
    request_body(
        description = "The XML file of the richiesta (application/xml), or multipart/form-data with the field `file`. The original file name is the part's `filename`, or for a raw body `?nome=` or else the header `X-Nome-File` (UTF-8, percent-encoded)",
        content(
            (String = "application/xml"),
            (String = "multipart/form-data")
        )
    ),
    responses(
        (status = 202, description = "Accepted: the richiesta has its numero and is queued for prevalidation", body = RichiestaView,
            headers(("Location" = String, description = "The URL of the new richiesta"))),
        (status = 400, description = "Empty body, multipart without the field `file`, or `invalid_nome_file`: a file name that is empty, longer than 255 characters, with a path, control characters or blanks at either end", body = super::error::ErrorBody),
        (status = 401, description = "Missing or invalid token", body = super::error::ErrorBody),
        (status = 403, description = "The token may not upload", body = super::error::ErrorBody),
        (status = 409, description = "`duplicate_richiesta`: the same file of the same intermediario is already there (not eliminata); the body has its `numero_richiesta`", body = super::error::ErrorBody),
        (status = 413, description = "Over the size limit", body = super::error::ErrorBody),
        (status = 422, description = "`idempotency_key_reused`: the Idempotency-Key came with another file", body = super::error::ErrorBody),
        (status = 415, description = "Wrong content type", body = super::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn upload(
    State(service): State<Service>,
    caller: Caller,
    query: Result<Query<UploadQuery>, axum::extract::rejection::QueryRejection>,
    request: Request,
) -> Result<Response, ApiError> {
    let mut upload = service.caricamento(&caller)?;
    let violation = super::hostile::Violation::default();
    let request = super::hostile::guard_body(request, service.settings(), &violation)?;
    let Query(query) = query?;
    let limit = upload.limit_bytes();
    let headers = request.headers().clone();
    if let Some(len) = content_length(&headers) {
        if len > limit {
            return Err(ServiceError::PayloadTooLarge { limit_bytes: limit }.into());
        }
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let mime = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_string();
    match mime.as_str() {
        "application/xml" | "text/xml" => {
            if let Some(nome) = nome_of_raw_body(query.nome.as_deref(), &headers)? {
                upload.set_nome_file(&nome)?;
            }
            let body = request.into_body().into_data_stream();
            upload
                .receive(body)
                .await
                .map_err(|e| violation.or(e.into()))?
        }
        "multipart/form-data" => {
            let mut multipart = <Multipart as FromRequest<()>>::from_request(request, &())
                .await
                .map_err(|e| {
                    violation.or(ApiError::bad_request(
                        "invalid_multipart",
                        format!("corpo multipart non valido: {}", e.body_text()),
                    ))
                })?;
            receive_multipart(&mut multipart, &mut upload)
                .await
                .map_err(|e| violation.or(e))?
        }
        "" => return Err(ApiError::UnsupportedMediaType("(nessuno)".into())),
        other => return Err(ApiError::UnsupportedMediaType(other.to_string())),
    };
    let idempotency_key = headers.get("idempotency-key").map(|v| v.as_bytes());
    let (richiesta, replay) = match upload
        .finish(query.prevalidazione.unwrap_or(true), idempotency_key)
        .await?
    {
        UploadOutcome::Created(r) => (r, false),
        UploadOutcome::Replayed(r) => (r, true),
    };
    let view = RichiestaView::from_record(&richiesta);
    let location = view.links.self_.clone();
    let mut response = (StatusCode::ACCEPTED, [(header::LOCATION, location)], Json(view)).into_response();
    if replay {
        response
            .headers_mut()
            .insert(header::HeaderName::from_static("idempotent-replayed"), header::HeaderValue::from_static("true"));
    }
    Ok(response)
}

/// The file name of a raw body: `?nome=`, else the `X-Nome-File` header (UTF-8, percent-encoded
/// as `encodeURIComponent` writes it, so that any name fits in a header).
fn nome_of_raw_body(query: Option<&str>, headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    if let Some(nome) = query {
        return Ok(Some(nome.to_string()));
    }
    let Some(raw) = headers.get("x-nome-file") else {
        return Ok(None);
    };
    percent_encoding::percent_decode(raw.as_bytes())
        .decode_utf8()
        .map(|nome| Some(nome.into_owned()))
        .map_err(|_| {
            ApiError::bad_request("invalid_nome_file", "l'header X-Nome-File deve essere UTF-8 codificato con %XX")
        })
}

fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

/// Streams the field `file` of the form into the upload.
async fn receive_multipart(multipart: &mut Multipart, upload: &mut Caricamento) -> Result<(), ApiError> {
    loop {
        let field = multipart.next_field().await.map_err(|e| {
            ApiError::bad_request("invalid_multipart", format!("corpo multipart non valido: {}", e.body_text()))
        })?;
        let Some(field) = field else {
            return Err(ApiError::bad_request("missing_file", "il corpo multipart non contiene il campo 'file'"));
        };
        if field.name() == Some("file") {
            if let Some(nome) = field.file_name() {
                upload.set_nome_file(nome)?;
            }
            return Ok(upload.receive(field).await?);
        }
    }
}
