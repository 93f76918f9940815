//! Hostile input at the HTTP layer: the upload body's timeouts (slow clients) and
//! `Content-Encoding: gzip` with limits on the expanded size and the expansion ratio.
//!
//! The guards wrap the request body before the upload reads it; a violation is recorded in a
//! [`Violation`] (the body readers above, multipart included, only see an I/O error) and the
//! upload answers with it: 408 `request_timeout`, 413 `payload_too_large` / `gzip_bomb`,
//! 400 `invalid_gzip`, 415 `unsupported_content_encoding`.

use super::error::ApiError;
use crate::config::Settings;
use crate::service::ServiceError;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, StatusCode};
use bytes::Bytes;
use futures::StreamExt;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Expansion below this many bytes is never called a bomb, whatever the ratio.
const RATIO_FLOOR_BYTES: u64 = 1024 * 1024;

/// The first limit a guarded body broke, if any.
#[derive(Clone, Default)]
pub struct Violation(Arc<Mutex<Option<ApiError>>>);

impl Violation {
    fn set(&self, e: ApiError) {
        let mut v = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if v.is_none() {
            *v = Some(e);
        }
    }

    /// The recorded violation, else `other`.
    pub fn or(&self, other: ApiError) -> ApiError {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
            .unwrap_or(other)
    }
}

fn timeout_error(what: &str) -> ApiError {
    ApiError::Refused {
        status: StatusCode::REQUEST_TIMEOUT,
        code: "request_timeout",
        message: format!("invio del file troppo lento: {what}"),
    }
}

/// Wraps the body of `request` in the timeouts of `settings` and, for `Content-Encoding: gzip`,
/// in a bounded decoder (the `Content-Encoding` header is then removed).
pub fn guard_body(request: Request, settings: &Settings, violation: &Violation) -> Result<Request, ApiError> {
    let encoding = request
        .headers()
        .get(header::CONTENT_ENCODING)
        .map(|v| v.to_str().unwrap_or("?").trim().to_ascii_lowercase());
    let gzip = match encoding.as_deref() {
        None | Some("") | Some("identity") => false,
        Some("gzip") | Some("x-gzip") => true,
        Some(other) => {
            return Err(ApiError::Refused {
                status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
                code: "unsupported_content_encoding",
                message: format!("Content-Encoding non supportato: {other}; ammessi identity e gzip"),
            })
        }
    };
    let (mut parts, body) = request.into_parts();
    let body = with_timeouts(
        body,
        Duration::from_secs(settings.upload_idle_timeout_secs.max(1)),
        Duration::from_secs(settings.upload_timeout_secs.max(1)),
        violation.clone(),
    );
    let body = if gzip {
        parts.headers.remove(header::CONTENT_ENCODING);
        parts.headers.remove(header::CONTENT_LENGTH);
        gunzip(body, settings.max_upload_bytes, settings.max_gzip_ratio.max(1), violation.clone())
    } else {
        body
    };
    Ok(Request::from_parts(parts, body))
}

/// Each chunk must arrive within `idle` of the previous one, and the whole body within `total`.
fn with_timeouts(body: Body, idle: Duration, total: Duration, violation: Violation) -> Body {
    let deadline = tokio::time::Instant::now() + total;
    let stream = body.into_data_stream();
    let guarded = futures::stream::unfold(Some(stream), move |state| {
        let violation = violation.clone();
        async move {
            let mut stream = state?;
            let until = (tokio::time::Instant::now() + idle).min(deadline);
            match tokio::time::timeout_at(until, stream.next()).await {
                Ok(Some(Ok(chunk))) => Some((Ok(chunk), Some(stream))),
                Ok(Some(Err(e))) => Some((Err(io::Error::other(e)), None)),
                Ok(None) => None,
                Err(_) => {
                    let what = if tokio::time::Instant::now() >= deadline {
                        format!("superato il tempo massimo di {} s", total.as_secs())
                    } else {
                        format!("nessun dato ricevuto per {} s", idle.as_secs())
                    };
                    violation.set(timeout_error(&what));
                    Some((Err(io::Error::new(io::ErrorKind::TimedOut, "request_timeout")), None))
                }
            }
        }
    });
    Body::from_stream(guarded)
}

/// Decodes a gzip body, stopping as soon as the expanded size passes `limit` or, past
/// [`RATIO_FLOOR_BYTES`], `ratio` times the compressed bytes read so far.
fn gunzip(body: Body, limit: u64, ratio: u64, violation: Violation) -> Body {
    use async_compression::tokio::bufread::GzipDecoder;
    use tokio_util::io::{ReaderStream, StreamReader};
    let compressed = Arc::new(AtomicU64::new(0));
    let counter = compressed.clone();
    let raw = body.into_data_stream().map(move |chunk| match chunk {
        Ok(b) => {
            counter.fetch_add(b.len() as u64, Ordering::Relaxed);
            Ok::<Bytes, io::Error>(b)
        }
        Err(e) => Err(io::Error::other(e)),
    });
    let mut decoder = GzipDecoder::new(StreamReader::new(raw));
    decoder.multiple_members(true);
    let mut expanded: u64 = 0;
    let decoded = ReaderStream::with_capacity(decoder, 64 * 1024).map(move |chunk| {
        let chunk = match chunk {
            Ok(c) => c,
            Err(e) => {
                // A timeout is already recorded (the first violation wins); anything else is bad
                // gzip (or a client that went away, which reads no answer anyway).
                if e.kind() != io::ErrorKind::TimedOut {
                    violation.set(ApiError::bad_request("invalid_gzip", format!("corpo gzip non valido: {e}")));
                }
                return Err(e);
            }
        };
        expanded += chunk.len() as u64;
        let read = compressed.load(Ordering::Relaxed).max(1);
        if expanded > limit {
            violation.set(ServiceError::PayloadTooLarge { limit_bytes: limit }.into());
            return Err(io::Error::other("gzip: expanded size over the limit"));
        }
        if expanded > RATIO_FLOOR_BYTES && expanded / read > ratio {
            violation.set(ApiError::Refused {
                status: StatusCode::PAYLOAD_TOO_LARGE,
                code: "gzip_bomb",
                message: format!("il contenuto gzip si espande oltre {ratio} volte la dimensione compressa"),
            });
            return Err(io::Error::other("gzip: expansion ratio over the limit"));
        }
        Ok(chunk)
    });
    Body::from_stream(decoded)
}

/// Most bytes read and thrown away after a refused upload (see [`drain_refused_body`]).
const DRAIN_MAX_BYTES: u64 = 8 * 1024 * 1024;
const DRAIN_MAX_TIME: Duration = Duration::from_secs(2);

/// Middleware of the upload route: when the upload is refused (4xx other than 408) or fails (5xx:
/// the store down or its disk full) before its body was read to the end, reads and discards what the client is still sending, up to
/// [`DRAIN_MAX_BYTES`] and [`DRAIN_MAX_TIME`], before answering. Without it the server closes a
/// socket with unread data, the kernel resets the connection, and a client still writing never
/// sees the 413 (or 400, 415, 503) that explains why. Bounded, so the server still stops reading a
/// body that is far too large.
pub async fn drain_refused_body(request: Request, next: axum::middleware::Next) -> axum::response::Response {
    use tokio::sync::Mutex;
    let (parts, body) = request.into_parts();
    let slot = Arc::new(Mutex::new(Some(body.into_data_stream())));
    let shared = futures::stream::unfold(slot.clone(), |slot| async move {
        let item = match slot.lock().await.as_mut() {
            Some(stream) => stream.next().await,
            None => None,
        };
        item.map(|i| (i, slot))
    });
    let response = next
        .run(Request::from_parts(parts, Body::from_stream(shared)))
        .await;
    let status = response.status();
    // After a 408 the client is the one that stopped sending: nothing to drain.
    if (status.is_client_error() || status.is_server_error()) && status != StatusCode::REQUEST_TIMEOUT {
        if let Some(mut stream) = slot.lock().await.take() {
            let deadline = tokio::time::Instant::now() + DRAIN_MAX_TIME;
            let mut drained: u64 = 0;
            while drained < DRAIN_MAX_BYTES {
                match tokio::time::timeout_at(deadline, stream.next()).await {
                    Ok(Some(Ok(chunk))) => drained += chunk.len() as u64,
                    _ => break,
                }
            }
        }
    }
    response
}
