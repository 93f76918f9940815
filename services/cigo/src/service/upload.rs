//! The upload of a richiesta, in three steps so that no adapter holds the file in memory:
//! [`Service::caricamento`] checks access and takes a slot of the intermediario's upload quota,
//! [`Caricamento::receive`] streams the bytes to a spool file while it hashes and measures them
//! (the read stops as soon as it passes the limit), and [`Caricamento::finish`] does the rest.
//!
//! `finish` answers a retried upload (same `Idempotency-Key`) with the first one's richiesta,
//! moves the spool file to the blob store (durable when it returns), and only then commits the
//! richiesta and its outbox row in one transaction, which also refuses a duplicate (the same file
//! of the same intermediario, not eliminata). A numero richiesta given out is never lost; if the
//! commit fails the blob is removed, so nothing is left behind for an upload that got no number.

use super::limits::UploadSlot;
use super::{Caller, Service, ServiceError};
use bytes::Bytes;
use cigo_store::{CreateOutcome, NewRichiesta, Richiesta};
use futures::{Stream, StreamExt};
use sha2::{Digest, Sha256};
use std::fmt::Display;
use tokio::io::AsyncWriteExt;

/// Where the uploaded files go in the blob store: `richieste/YYYY/MM/DD/…` by the day (UTC) of
/// the upload.
pub const BLOB_PREFIX: &str = "richieste/";

/// The names of the spool files of uploads being received begin with this (`crate::sweep`
/// removes the ones a killed process left).
pub const SPOOL_PREFIX: &str = "upload-";

/// An upload in progress; obtained from [`Service::caricamento`]. Dropping it releases its slot
/// of the quota and removes the spool file.
pub struct Caricamento {
    service: Service,
    caller: Caller,
    _slot: UploadSlot,
    spooled: Option<Spooled>,
    nome_file: Option<String>,
}

struct Spooled {
    file: tempfile::NamedTempFile,
    size: u64,
    sha256: String,
}

/// How an upload ended.
#[derive(Debug)]
pub enum UploadOutcome {
    /// A new richiesta, RICEVUTA and queued for prevalidation.
    Created(Richiesta),
    /// A retry with the same Idempotency-Key and file: the richiesta the first upload created,
    /// as it is now.
    Replayed(Richiesta),
}

impl Service {
    /// Starts an upload: only an intermediario for itself, within its quota of concurrent uploads.
    pub fn caricamento(&self, caller: &Caller) -> Result<Caricamento, ServiceError> {
        caller.ensure_may_change()?;
        let slot = self.limits.upload_slot(&caller.intermediario)?;
        Ok(Caricamento { service: self.clone(), caller: caller.clone(), _slot: slot, spooled: None, nome_file: None })
    }
}

impl Caricamento {
    /// The largest file accepted, in bytes.
    pub fn limit_bytes(&self) -> u64 {
        self.service.app.settings.max_upload_bytes
    }

    /// The original name of the file, as sent (see [`super::nome_file::nome_file`] for what is
    /// refused, `invalid_nome_file`).
    pub fn set_nome_file(&mut self, raw: &str) -> Result<(), ServiceError> {
        self.nome_file = Some(super::nome_file::nome_file(raw)?);
        Ok(())
    }

    /// Streams the file to the spool, hashing and counting; [`ServiceError::PayloadTooLarge`] as
    /// soon as it passes [`Self::limit_bytes`].
    pub async fn receive<S, E>(&mut self, mut body: S) -> Result<(), ServiceError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: Display,
    {
        let limit = self.limit_bytes();
        let spool = tempfile::Builder::new()
            .prefix(SPOOL_PREFIX)
            .suffix(".xml")
            .tempfile_in(self.service.app.settings.spool_dir())
            .map_err(ServiceError::io)?;
        let mut file = tokio::fs::File::create(spool.path())
            .await
            .map_err(ServiceError::io)?;
        let mut hasher = Sha256::new();
        let mut size: u64 = 0;
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| read_error(&e.to_string(), limit))?;
            size += chunk.len() as u64;
            if size > limit {
                return Err(ServiceError::PayloadTooLarge { limit_bytes: limit });
            }
            hasher.update(&chunk);
            // A full disk is answered 507 (and the spool file removed as `spool` drops).
            file.write_all(&chunk).await.map_err(ServiceError::io)?;
        }
        file.flush().await.map_err(ServiceError::io)?;
        self.spooled = Some(Spooled { file: spool, size, sha256: hex::encode(hasher.finalize()) });
        Ok(())
    }

    /// Creates the richiesta from the received file (`prevalidazione: false` is the direct mode:
    /// validated and sent with no approval step). `idempotency_key` is the key as the client sent
    /// it (1 to 200 visible ASCII characters, else `invalid_idempotency_key`).
    ///
    /// It runs to its end on a task of its own: a client that goes away (its connection reset,
    /// the request future dropped) between the blob's write and the commit can no longer leave a
    /// blob without a row, since the task still commits the richiesta or removes the blob.
    pub async fn finish(
        self,
        prevalidazione: bool,
        idempotency_key: Option<&[u8]>,
    ) -> Result<UploadOutcome, ServiceError> {
        use tracing::Instrument;
        let idempotency_key = idempotency_key.map(<[u8]>::to_vec);
        let to_the_end = self
            .finish_here(prevalidazione, idempotency_key)
            .in_current_span();
        tokio::spawn(to_the_end)
            .await
            .unwrap_or_else(|e| Err(ServiceError::internal(anyhow::anyhow!("the upload's task failed: {e}"))))
    }

    async fn finish_here(
        self,
        prevalidazione: bool,
        idempotency_key: Option<Vec<u8>>,
    ) -> Result<UploadOutcome, ServiceError> {
        let Some(spooled) = self.spooled.as_ref().filter(|s| s.size > 0) else {
            return Err(ServiceError::invalid("empty_body", "il file inviato è vuoto"));
        };
        let (service, caller) = (&self.service, &self.caller);
        let store = &service.app.store;
        let rinvio_di = service
            .rinvio_verificato(caller, spooled.file.path())
            .await?;
        let idempotency_key = idempotency_key
            .as_deref()
            .map(parse_idempotency_key)
            .transpose()?;
        if let Some(key) = &idempotency_key {
            if let Some(first) = store
                .find_idempotency_key(&caller.intermediario, key)
                .await?
            {
                return replayed(first, &spooled.sha256);
            }
        }

        // Under the day of the upload, so that the sweep of orphan blobs (`crate::sweep`) looks at
        // a few days of the store, never all of it.
        let day = chrono::Utc::now().format("%Y/%m/%d");
        let blob_key = match &idempotency_key {
            // The same key and file on the same day always go to the same blob: a retry after a
            // crash between the blob and the commit overwrites it instead of leaving an orphan
            // behind (one left on another day is swept).
            Some(key) => {
                let id = Sha256::new()
                    .chain_update(caller.intermediario.as_bytes())
                    .chain_update([0u8])
                    .chain_update(key.as_bytes())
                    .chain_update([0u8])
                    .chain_update(spooled.sha256.as_bytes())
                    .finalize();
                format!("{BLOB_PREFIX}{day}/idem-{}.xml", hex::encode(id))
            }
            None => format!("{BLOB_PREFIX}{day}/{}.xml", uuid::Uuid::new_v4()),
        };
        service
            .app
            .blob
            .put_file(&blob_key, spooled.file.path())
            .await?;
        let created = store
            .create_richiesta_once(
                NewRichiesta {
                    intermediario: caller.intermediario.clone(),
                    blob_key: blob_key.clone(),
                    sha256: spooled.sha256.clone(),
                    size_bytes: spooled.size as i64,
                    prevalidazione,
                    actor: caller.actor(),
                    trace_context: cigo_telemetry::current_traceparent(),
                    rinvio_di,
                    nome_file: self.nome_file.clone(),
                },
                idempotency_key.as_deref(),
            )
            .await;
        let richiesta = match created {
            Ok(CreateOutcome::Created(r)) => r,
            Ok(CreateOutcome::Replayed(first)) => {
                if first.blob_key != blob_key {
                    service.remove_blob(&blob_key).await;
                }
                return replayed(first, &spooled.sha256);
            }
            Ok(CreateOutcome::Duplicate(existing)) => {
                if existing.blob_key != blob_key {
                    service.remove_blob(&blob_key).await;
                }
                metrics::counter!("cigo_upload_duplicates_total").increment(1);
                return Err(ServiceError::Duplicate { numero: existing.numero, stato: existing.stato });
            }
            Err(e) => {
                // No number given out, so nothing may stay behind. (With an Idempotency-Key the
                // blob is kept: the client retries with the same key and file, which reuse it.)
                if idempotency_key.is_none() {
                    service.remove_blob(&blob_key).await;
                }
                return Err(e.into());
            }
        };
        service.app.outbox_written.notify_one();
        metrics::counter!("cigo_richieste_accettate_total").increment(1);
        metrics::counter!("cigo_upload_bytes_total").increment(spooled.size);
        tracing::info!(
            numero = richiesta.numero,
            intermediario = %richiesta.intermediario,
            size = spooled.size,
            sha256 = %richiesta.sha256,
            "richiesta accepted"
        );
        Ok(UploadOutcome::Created(richiesta))
    }
}

impl Service {
    async fn remove_blob(&self, blob_key: &str) {
        if let Err(del) = self.app.blob.delete(blob_key).await {
            tracing::warn!(%blob_key, error = %del, "cannot remove the blob of an upload that created nothing");
        }
    }
}

/// A failure while reading the body: the client went away, or the adapter's own size limit
/// tripped (axum reports it as "length limit exceeded").
fn read_error(message: &str, limit: u64) -> ServiceError {
    if message.contains("length limit") {
        ServiceError::PayloadTooLarge { limit_bytes: limit }
    } else {
        ServiceError::invalid("body_read_error", format!("lettura del corpo interrotta: {message}"))
    }
}

/// An `Idempotency-Key`: 1 to 200 visible ASCII characters (a UUID is typical).
fn parse_idempotency_key(raw: &[u8]) -> Result<String, ServiceError> {
    if !raw.is_empty() && raw.len() <= 200 && raw.iter().all(u8::is_ascii_graphic) {
        Ok(String::from_utf8_lossy(raw).into_owned())
    } else {
        Err(ServiceError::invalid(
            "invalid_idempotency_key",
            "l'header Idempotency-Key deve avere da 1 a 200 caratteri ASCII visibili",
        ))
    }
}

/// A retried upload: the first one's richiesta, unless the key came with another file.
fn replayed(first: Richiesta, sha256: &str) -> Result<UploadOutcome, ServiceError> {
    if first.sha256 != sha256 {
        return Err(ServiceError::IdempotencyKeyReused { numero: first.numero });
    }
    metrics::counter!("cigo_upload_replays_total").increment(1);
    Ok(UploadOutcome::Replayed(first))
}
