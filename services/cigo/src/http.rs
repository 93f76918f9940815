//! The HTTP server under the API, the console and the operations endpoints: hyper's HTTP/1.1
//! connection loop, with the bounds a port open to anyone needs before a single request has been
//! authenticated.
//!
//! - **Concurrent connections** are capped ([`ConnectionLimits::max_connections`]): past the cap
//!   the loop stops accepting, so new sockets wait in the kernel's backlog instead of taking file
//!   descriptors the database, the blob store and the spool need. A thousand sockets that never
//!   send a byte can delay a request, not take the process down.
//! - **Reading a request head** is bounded ([`ConnectionLimits::header_read_timeout`]): a
//!   connection that has not sent a complete request line and headers within it is closed. The
//!   clock starts when the connection is accepted and again after every response, so the same
//!   bound is the idle time of a keep-alive connection; a client that trickles a byte a second
//!   is closed all the same. Bodies have their own bounds (the upload's idle and total
//!   timeouts, `api::hostile`).
//! - **Refusals hyper makes by itself** (a malformed request line or header: 400; a URI longer
//!   than hyper can hold: 414; headers too large or too many: 431) leave hyper with an empty
//!   body. [`ErrorBodies`] gives them the `{"code","message"}` body every other error has.
//!
//! On shutdown the loop stops accepting and asks every connection to finish the request in flight
//! and close; the caller bounds how long it waits.

use crate::api::error::automatic_refusal;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// The bounds of one listening port.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// Connections served at once; the others wait to be accepted.
    pub max_connections: usize,
    /// Longest wait for a complete request head, and longest idle time between the requests of
    /// a keep-alive connection.
    pub header_read_timeout: Duration,
}

/// File descriptors kept for everything but the HTTP connections (database pool, blob and
/// spool files, the broker, logs), when the cap on connections is checked against the process's
/// limit on open files.
const RESERVED_DESCRIPTORS: u64 = 256;

impl ConnectionLimits {
    /// The limits of `settings`, with the cap on connections brought within what the process may
    /// open: the soft limit on open files is raised to the hard one first (systemd gives 1,024
    /// unless the unit says otherwise, see `LimitNOFILE` in deploy/systemd), and if that is still
    /// too low for the cap, the cap is lowered with a warning.
    pub fn of(settings: &crate::config::Settings) -> ConnectionLimits {
        let wanted = settings.max_connections.max(1);
        let needed = wanted as u64 + RESERVED_DESCRIPTORS;
        let max_connections = match rlimit::increase_nofile_limit(needed) {
            Ok(available) if available < needed => {
                let fit = available.saturating_sub(RESERVED_DESCRIPTORS).max(16) as usize;
                tracing::warn!(
                    max_connections = wanted,
                    open_files_limit = available,
                    lowered_to = fit,
                    "the limit on open files cannot hold --max-connections: serving fewer connections at once (raise LimitNOFILE / ulimit -n)"
                );
                fit.min(wanted)
            }
            Ok(_) => wanted,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the limit on open files; keeping --max-connections as given");
                wanted
            }
        };
        ConnectionLimits {
            max_connections,
            header_read_timeout: Duration::from_secs(settings.header_read_timeout_secs.max(1)),
        }
    }
}

/// Serves `router` on `listener` within `limits` until `shutdown`, then lets the connections
/// finish their request in flight (see the module's comment). `what` names the port in the logs.
pub async fn serve(
    listener: TcpListener,
    router: axum::Router,
    limits: ConnectionLimits,
    shutdown: CancellationToken,
    what: &'static str,
) {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    metrics::gauge!("cigo_http_connections_max", "port" => what).set(limits.max_connections as f64);
    let mut connections = JoinSet::new();
    loop {
        // A free slot first, then the socket: past the cap, sockets wait in the backlog.
        let slot = tokio::select! {
            _ = shutdown.cancelled() => break,
            slot = slots.clone().acquire_owned() => slot.expect("the semaphore is never closed"),
        };
        let stream = tokio::select! {
            _ = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => stream,
                Err(e) => {
                    if !is_connection_error(&e) {
                        // Out of descriptors or similar: pause instead of spinning on the error.
                        tracing::error!(error = %e, "{what}: cannot accept a connection");
                        tokio::select! {
                            _ = shutdown.cancelled() => break,
                            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                        }
                    }
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let connection =
            http.serve_connection(TokioIo::new(ErrorBodies::new(stream)), TowerToHyperService::new(router.clone()));
        let shutdown = shutdown.clone();
        metrics::gauge!("cigo_http_connections", "port" => what).increment(1.0);
        connections.spawn(async move {
            let mut connection = std::pin::pin!(connection);
            let result = tokio::select! {
                result = connection.as_mut() => result,
                _ = shutdown.cancelled() => {
                    connection.as_mut().graceful_shutdown();
                    connection.await
                }
            };
            if let Err(e) = result {
                if e.is_timeout() {
                    metrics::counter!("cigo_http_header_timeouts_total", "port" => what).increment(1);
                }
                tracing::debug!(error = %e, "{what}: connection ended with an error");
            }
            metrics::gauge!("cigo_http_connections", "port" => what).decrement(1.0);
            drop(slot);
        });
        // Forget the connections that ended, so the set does not grow with the uptime.
        while connections.try_join_next().is_some() {}
    }
    while connections.join_next().await.is_some() {}
}

/// Errors of one incoming connection (the client went away before it was accepted), as opposed
/// to errors of the listener itself.
fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused | io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset
    )
}

/// A connection's socket that gives hyper's automatic refusals a JSON body.
///
/// hyper answers a request head it cannot parse by itself, before any service runs, with a
/// bodiless response (`content-length: 0`, no content type) and then closes the connection. Such
/// a response is written in one piece and is the only thing that can look like it: every
/// response of ours has a content type, and a body. When one goes by, the same status line and
/// headers are written with [`automatic_refusal`]'s body instead.
pub struct ErrorBodies<T> {
    inner: T,
    /// A rewritten response being written: its bytes, how many are written, and the length of
    /// hyper's original, which is reported as written once the whole replacement is.
    replacement: Option<(Vec<u8>, usize, usize)>,
}

impl<T> ErrorBodies<T> {
    pub fn new(inner: T) -> Self {
        ErrorBodies { inner, replacement: None }
    }
}

/// The replacement of `head` when it is one of hyper's automatic refusals.
fn rewrite(head: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(head).ok()?;
    let text = text.strip_suffix("\r\n\r\n")?;
    let mut lines = text.split("\r\n");
    let status_line = lines.next()?;
    let status: u16 = status_line
        .strip_prefix("HTTP/1.1 ")?
        .get(..3)?
        .parse()
        .ok()?;
    let headers: Vec<&str> = lines.collect();
    let named = |name: &str| {
        headers.iter().any(|h| {
            h.len() > name.len() && h[..name.len()].eq_ignore_ascii_case(name) && h.as_bytes()[name.len()] == b':'
        })
    };
    let bodiless = headers
        .iter()
        .any(|h| h.eq_ignore_ascii_case("content-length: 0"));
    if !bodiless || named("content-type") {
        return None;
    }
    let status = axum::http::StatusCode::from_u16(status).ok()?;
    let body = serde_json::to_vec(&automatic_refusal(status)?).ok()?;
    let mut out = Vec::with_capacity(head.len() + body.len() + 64);
    out.extend_from_slice(status_line.as_bytes());
    out.extend_from_slice(b"\r\n");
    for h in headers
        .iter()
        .filter(|h| !h.to_ascii_lowercase().starts_with("content-length:"))
    {
        out.extend_from_slice(h.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"content-type: application/json\r\n");
    out.extend_from_slice(format!("content-length: {}\r\n", body.len()).as_bytes());
    if !named("connection") {
        out.extend_from_slice(b"connection: close\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(&body);
    Some(out)
}

impl<T: AsyncWrite + Unpin> ErrorBodies<T> {
    /// Writes the pending replacement; ready with the length of the original once it is all out.
    fn poll_replacement(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        let ErrorBodies { inner, replacement } = self;
        loop {
            let Some((bytes, written, original)) = replacement.as_mut() else {
                unreachable!("called with a replacement pending")
            };
            if *written == bytes.len() {
                let original = *original;
                *replacement = None;
                return Poll::Ready(Ok(original));
            }
            match Pin::new(&mut *inner).poll_write(cx, &bytes[*written..]) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => *written += n,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for ErrorBodies<T> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for ErrorBodies<T> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        // hyper writes the same bytes again after a Pending, so a replacement under way goes on.
        if self.replacement.is_none() {
            match rewrite(buf) {
                Some(bytes) => self.replacement = Some((bytes, 0, buf.len())),
                None => return Pin::new(&mut self.inner).poll_write(cx, buf),
            }
        }
        self.poll_replacement(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        // A bodiless head is one buffer; anything in several is a response with a body.
        let mut filled = bufs.iter().filter(|b| !b.is_empty());
        if let (Some(only), None) = (filled.next(), filled.next()) {
            if self.replacement.is_some() || rewrite(only).is_some() {
                return self.poll_write(cx, only);
            }
        }
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// The uploaded file as a download, under the name it was uploaded with (both adapters answer it
/// the same way).
pub fn xml_download(file: crate::service::FileXml) -> axum::response::Response {
    use axum::http::header;
    use axum::response::IntoResponse;
    let r = file.richiesta;
    (
        [
            (header::CONTENT_TYPE, "application/xml".to_string()),
            (header::CONTENT_LENGTH, r.size_bytes.to_string()),
            (header::CONTENT_DISPOSITION, content_disposition(r.nome_file.as_deref(), r.numero)),
            (header::ETAG, format!("\"{}\"", r.sha256)),
        ],
        axum::body::Body::from_stream(file.bytes),
    )
        .into_response()
}

/// The esito of richiesta `numero` as a file (`esito-N.csv`, `esito-N.xml`), streamed.
pub fn esito_download(
    numero: i64,
    formato: crate::service::FormatoEsito,
    file: crate::service::FileEsito,
) -> axum::response::Response {
    let content_type = match formato {
        crate::service::FormatoEsito::Csv => "text/csv; charset=utf-8",
        crate::service::FormatoEsito::Xml => "application/xml",
    };
    attachment(content_type, format!("esito-{numero}.{}", formato.as_str()), file.body)
}

/// The file of the rejected domande of richiesta `numero` (`scartate-N.xml`), streamed.
pub fn scartate_download(numero: i64, file: crate::service::FileScartate) -> axum::response::Response {
    attachment("application/xml", format!("scartate-{numero}.xml"), file.body)
}

/// An attachment streamed as `content_type`.
fn attachment(
    content_type: &str,
    filename: String,
    body: futures::stream::BoxStream<'static, std::io::Result<bytes::Bytes>>,
) -> axum::response::Response {
    use axum::http::header;
    use axum::response::IntoResponse;
    (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{filename}\"")),
        ],
        axum::body::Body::from_stream(body),
    )
        .into_response()
}

/// `attachment` with the original name of the file: `filename` in ASCII (anything else, and
/// quotes, as `_`) for old clients, `filename*` in UTF-8 (RFC 6266) for the others;
/// `richiesta-N.xml` when the upload had no name.
fn content_disposition(nome_file: Option<&str>, numero: i64) -> String {
    let Some(nome) = nome_file else {
        return format!("attachment; filename=\"richiesta-{numero}.xml\"");
    };
    let ascii: String = nome
        .chars()
        .map(|c| if c.is_ascii_graphic() && c != '"' && c != '%' || c == ' ' { c } else { '_' })
        .collect();
    let encoded = percent_encoding::utf8_percent_encode(nome, percent_encoding::NON_ALPHANUMERIC);
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_download_is_named_as_the_upload_was() {
        assert_eq!(content_disposition(None, 7), "attachment; filename=\"richiesta-7.xml\"");
        assert_eq!(
            content_disposition(Some("Città \"bis\".xml"), 7),
            "attachment; filename=\"Citt_ _bis_.xml\"; filename*=UTF-8''Citt%C3%A0%20%22bis%22%2Exml"
        );
    }

    fn json_of(response: &[u8]) -> serde_json::Value {
        let text = std::str::from_utf8(response).unwrap();
        let (_, body) = text.split_once("\r\n\r\n").unwrap();
        serde_json::from_str(body).unwrap()
    }

    #[test]
    fn hypers_bodiless_refusals_get_the_documented_body() {
        for (status_line, code) in [
            ("HTTP/1.1 400 Bad Request", "bad_request"),
            ("HTTP/1.1 414 URI Too Long", "uri_too_long"),
            ("HTTP/1.1 431 Request Header Fields Too Large", "request_header_fields_too_large"),
        ] {
            let head = format!("{status_line}\r\ncontent-length: 0\r\ndate: Thu, 03 Dec 2026 13:00:00 GMT\r\n\r\n");
            let out = rewrite(head.as_bytes()).unwrap_or_else(|| panic!("{status_line} not rewritten"));
            let text = String::from_utf8(out.clone()).unwrap();
            assert!(text.starts_with(&format!("{status_line}\r\n")), "{text}");
            assert!(text.contains("\r\ndate: Thu, 03 Dec 2026 13:00:00 GMT\r\n"), "{text}");
            assert!(text.contains("\r\ncontent-type: application/json\r\n"), "{text}");
            assert!(text.contains("\r\nconnection: close\r\n"), "{text}");
            let body = json_of(&out);
            assert_eq!(body["code"], code, "{text}");
            assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()), "{text}");
            let length: usize = text
                .split("\r\n")
                .find_map(|h| h.strip_prefix("content-length: "))
                .unwrap()
                .parse()
                .unwrap();
            assert_eq!(length, text.split_once("\r\n\r\n").unwrap().1.len());
        }
    }

    #[test]
    fn our_own_responses_pass_untouched() {
        let ours = [
            // A JSON error of ours: it has a content type and a body.
            "HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}",
            // Its head alone, as a vectored write would give it.
            "HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: 45\r\n\r\n",
            // A bodiless answer that is not a refusal.
            "HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n",
            // A status hyper never makes by itself.
            "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n",
            // Body bytes that happen to look like a head.
            "{\"a\":1}",
        ];
        for bytes in ours {
            assert!(rewrite(bytes.as_bytes()).is_none(), "{bytes}");
        }
    }

    #[tokio::test]
    async fn a_replacement_survives_short_writes() {
        use tokio::io::AsyncWriteExt;
        // A peer that takes 7 bytes at a time.
        let (client, mut server) = tokio::io::duplex(7);
        let mut io = ErrorBodies::new(client);
        let head = b"HTTP/1.1 414 URI Too Long\r\ncontent-length: 0\r\n\r\n";
        let reader = tokio::spawn(async move {
            let mut all = Vec::new();
            tokio::io::AsyncReadExt::read_to_end(&mut server, &mut all)
                .await
                .unwrap();
            all
        });
        io.write_all(head).await.unwrap();
        io.shutdown().await.unwrap();
        drop(io);
        let all = reader.await.unwrap();
        assert_eq!(json_of(&all)["code"], "uri_too_long");
    }
}
