//! `POST /api/v1/richieste`: the upload.
//!
//! The body is streamed to a spool file while it is hashed and measured (never held in memory,
//! and the read stops as soon as it passes the limit). The spool file goes to the blob store
//! (durable when it returns), and only then one transaction commits the richiesta and its outbox
//! row. The 202 is sent after that commit: a numero richiesta given out is never lost. If the
//! commit fails the blob is removed, so nothing is left behind for an upload that got no 202.

use super::auth::Caller;
use super::dto::{RichiestaView, UploadQuery};
use super::error::ApiError;
use crate::app::App;
use axum::extract::{FromRequest, Multipart, Query, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use bytes::Bytes;
use cigo_store::{CreateOutcome, NewRichiesta, Richiesta};
use futures::{Stream, StreamExt};
use sha2::{Digest, Sha256};
use std::path::Path;
use tokio::io::AsyncWriteExt;

#[utoipa::path(
    post,
    path = "/api/v1/richieste",
    tag = "richieste",
    params(UploadQuery),
    request_body(
        description = "The XML file of the richiesta (application/xml), or multipart/form-data with the field `file`",
        content(
            (String = "application/xml"),
            (String = "multipart/form-data")
        )
    ),
    responses(
        (status = 202, description = "Accepted: the richiesta has its numero and is queued for prevalidation", body = RichiestaView,
            headers(("Location" = String, description = "The URL of the new richiesta"))),
        (status = 400, description = "Empty body, or multipart without the field `file`", body = super::error::ErrorBody),
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
    State(app): State<App>,
    caller: Caller,
    query: Result<Query<UploadQuery>, axum::extract::rejection::QueryRejection>,
    request: Request,
) -> Result<Response, ApiError> {
    caller.ensure_may_change()?;
    // Issue 5: the intermediario's quota of concurrent uploads, gzip, and the body's timeouts.
    let _slot = app.access.upload_slot(&caller.intermediario)?;
    let violation = super::hostile::Violation::default();
    let request = super::hostile::guard_body(request, &app.settings, &violation)?;
    let Query(query) = query?;
    let limit = app.settings.max_upload_bytes;
    let headers = request.headers().clone();
    if let Some(len) = content_length(&headers) {
        if len > limit {
            return Err(ApiError::PayloadTooLarge { limit_bytes: limit });
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

    let spool = tempfile::Builder::new()
        .prefix("upload-")
        .suffix(".xml")
        .tempfile_in(app.settings.spool_dir())
        .map_err(|e| ApiError::Internal(e.into()))?;
    let spooled = match mime.as_str() {
        "application/xml" | "text/xml" => {
            let body = request.into_body().into_data_stream();
            spool_stream(body, spool.path(), limit)
                .await
                .map_err(|e| violation.or(e))?
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
            spool_multipart(&mut multipart, spool.path(), limit)
                .await
                .map_err(|e| violation.or(e))?
        }
        "" => return Err(ApiError::UnsupportedMediaType("(nessuno)".into())),
        other => return Err(ApiError::UnsupportedMediaType(other.to_string())),
    };
    if spooled.size == 0 {
        return Err(ApiError::bad_request("empty_body", "il file inviato è vuoto"));
    }

    // Issue 4: a retried upload (same `Idempotency-Key`) gets the first one's answer.
    let idempotency_key = idempotency_key(&headers)?;
    if let Some(key) = &idempotency_key {
        if let Some(first) = app
            .store
            .find_idempotency_key(&caller.intermediario, key)
            .await?
        {
            return replayed(&first, &spooled.sha256);
        }
    }

    let now = chrono::Utc::now();
    let blob_key = match &idempotency_key {
        // The same key and file always go to the same blob: a retry after a crash between the
        // blob and the commit overwrites it instead of leaving an orphan behind.
        Some(key) => {
            let id = Sha256::new()
                .chain_update(caller.intermediario.as_bytes())
                .chain_update([0u8])
                .chain_update(key.as_bytes())
                .chain_update([0u8])
                .chain_update(spooled.sha256.as_bytes())
                .finalize();
            format!("richieste/idem/{}.xml", hex::encode(id))
        }
        None => format!("richieste/{}/{}.xml", now.format("%Y/%m/%d"), uuid::Uuid::new_v4()),
    };
    app.blob.put_file(&blob_key, spool.path()).await?;
    let created = app
        .store
        .create_richiesta_once(
            NewRichiesta {
                intermediario: caller.intermediario.clone(),
                blob_key: blob_key.clone(),
                sha256: spooled.sha256.clone(),
                size_bytes: spooled.size as i64,
                prevalidazione: query.prevalidazione.unwrap_or(true),
                actor: caller.actor(),
                trace_context: cigo_telemetry::current_traceparent(),
            },
            idempotency_key.as_deref(),
        )
        .await;
    let richiesta = match created {
        Ok(CreateOutcome::Created(r)) => r,
        Ok(CreateOutcome::Replayed(first)) => {
            if first.blob_key != blob_key {
                remove_blob(&app, &blob_key).await;
            }
            return replayed(&first, &spooled.sha256);
        }
        Ok(CreateOutcome::Duplicate(existing)) => {
            if existing.blob_key != blob_key {
                remove_blob(&app, &blob_key).await;
            }
            metrics::counter!("cigo_upload_duplicates_total").increment(1);
            return Ok(duplicate(&existing));
        }
        Err(e) => {
            // No 202, so nothing may stay behind. (With an Idempotency-Key the blob is kept: the
            // client retries with the same key and the same file, which reuse it.)
            if idempotency_key.is_none() {
                remove_blob(&app, &blob_key).await;
            }
            return Err(e.into());
        }
    };
    app.outbox_written.notify_one();
    metrics::counter!("cigo_richieste_accettate_total").increment(1);
    metrics::counter!("cigo_upload_bytes_total").increment(spooled.size);
    tracing::info!(
        numero = richiesta.numero,
        intermediario = %richiesta.intermediario,
        size = spooled.size,
        sha256 = %richiesta.sha256,
        "richiesta accepted"
    );
    let view = RichiestaView::from_record(&richiesta);
    let location = view.links.self_.clone();
    Ok((StatusCode::ACCEPTED, [(header::LOCATION, location)], Json(view)).into_response())
}

fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

struct Spooled {
    size: u64,
    sha256: String,
}

async fn spool_stream<S, E>(mut body: S, path: &Path, limit: u64) -> Result<Spooled, ApiError>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let mut file = tokio::fs::File::create(path)
        .await
        .map_err(|e| ApiError::Internal(e.into()))?;
    let mut hasher = Sha256::new();
    let mut size: u64 = 0;
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| read_error(&e.to_string(), limit))?;
        size += chunk.len() as u64;
        if size > limit {
            return Err(ApiError::PayloadTooLarge { limit_bytes: limit });
        }
        hasher.update(&chunk);
        file.write_all(&chunk)
            .await
            .map_err(|e| ApiError::Internal(e.into()))?;
    }
    file.flush()
        .await
        .map_err(|e| ApiError::Internal(e.into()))?;
    Ok(Spooled { size, sha256: hex::encode(hasher.finalize()) })
}

async fn spool_multipart(multipart: &mut Multipart, path: &Path, limit: u64) -> Result<Spooled, ApiError> {
    loop {
        let field = multipart.next_field().await.map_err(|e| {
            ApiError::bad_request("invalid_multipart", format!("corpo multipart non valido: {}", e.body_text()))
        })?;
        let Some(field) = field else {
            return Err(ApiError::bad_request("missing_file", "il corpo multipart non contiene il campo 'file'"));
        };
        if field.name() == Some("file") {
            return spool_stream(field, path, limit).await;
        }
    }
}

/// A failure while reading the body: the client went away, or axum's own limit tripped.
fn read_error(message: &str, limit: u64) -> ApiError {
    if message.contains("length limit") {
        ApiError::PayloadTooLarge { limit_bytes: limit }
    } else {
        ApiError::bad_request("body_read_error", format!("lettura del corpo interrotta: {message}"))
    }
}

// --- Duplicates and Idempotency-Key (issue 4) ------------------------------------------------

/// The `Idempotency-Key` header: 1 to 200 visible ASCII characters (a UUID is typical).
fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get("idempotency-key") else { return Ok(None) };
    match value.to_str() {
        Ok(v) if !v.is_empty() && v.len() <= 200 && v.bytes().all(|b| b.is_ascii_graphic()) => Ok(Some(v.to_string())),
        _ => Err(ApiError::bad_request(
            "invalid_idempotency_key",
            "l'header Idempotency-Key deve avere da 1 a 200 caratteri ASCII visibili",
        )),
    }
}

/// The answer to a retried upload: 202 with the richiesta the first one created (as it is now),
/// and `Idempotent-Replayed: true`; 422 `idempotency_key_reused` if the key came with another file.
fn replayed(first: &Richiesta, sha256: &str) -> Result<Response, ApiError> {
    if first.sha256 != sha256 {
        return Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(serde_json::json!({
                "code": "idempotency_key_reused",
                "message": format!(
                    "l'Idempotency-Key è già stata usata per la richiesta {} con un file diverso",
                    first.numero
                ),
                "numero_richiesta": first.numero,
            })),
        )
            .into_response());
    }
    metrics::counter!("cigo_upload_replays_total").increment(1);
    let view = RichiestaView::from_record(first);
    let location = view.links.self_.clone();
    let headers =
        [(header::LOCATION, location), (header::HeaderName::from_static("idempotent-replayed"), "true".to_string())];
    Ok((StatusCode::ACCEPTED, headers, Json(view)).into_response())
}

/// 409 `duplicate_richiesta`: the same file is already there (not eliminata).
fn duplicate(existing: &Richiesta) -> Response {
    (
        StatusCode::CONFLICT,
        [(header::LOCATION, format!("/api/v1/richieste/{}", existing.numero))],
        Json(serde_json::json!({
            "code": "duplicate_richiesta",
            "message": format!(
                "lo stesso file è già stato inviato con la richiesta {} (stato {}); eliminarla per inviarlo di nuovo",
                existing.numero, existing.stato
            ),
            "numero_richiesta": existing.numero,
            "stato": existing.stato.as_str(),
        })),
    )
        .into_response()
}

async fn remove_blob(app: &App, blob_key: &str) {
    if let Err(del) = app.blob.delete(blob_key).await {
        tracing::warn!(%blob_key, error = %del, "cannot remove the blob of an upload that created nothing");
    }
}
