//! # cigo-blob
//!
//! Where the uploaded files live, unchanged, for as long as their richiesta exists.
//!
//! - [`local::LocalBlobStore`]: files under a directory, written to a temporary name, fsync'd and
//!   renamed, so a blob that `put_file` reported is on disk even after a power cut;
//! - [`remote::ObjectStoreBlobStore`]: any backend of the `object_store` crate (S3-compatible
//!   storage, `memory://` for tests).

use async_trait::async_trait;
use bytes::Bytes;
use futures::stream::BoxStream;
use std::path::Path;
use std::sync::Arc;

pub mod local;
#[cfg(feature = "moto")]
pub mod moto;
pub mod remote;

#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("blob {0} not found")]
    NotFound(String),
    #[error("blob I/O error: {0}")]
    Io(#[from] std::io::Error),
    #[error("object store error: {0}")]
    ObjectStore(#[from] object_store::Error),
    #[error("invalid blob store URL: {0}")]
    InvalidUrl(String),
}

pub type Result<T, E = BlobError> = std::result::Result<T, E>;

pub type ByteStream = BoxStream<'static, std::io::Result<Bytes>>;

#[async_trait]
pub trait BlobStore: Send + Sync + 'static {
    /// Stores the content of the local file `path` under `key`. Durable when it returns `Ok`.
    async fn put_file(&self, key: &str, path: &Path) -> Result<()>;

    /// The content of `key` as a stream of chunks (never the whole file in memory).
    async fn get(&self, key: &str) -> Result<ByteStream>;

    /// Removes `key`; removing a missing key is not an error.
    async fn delete(&self, key: &str) -> Result<()>;

    /// Checks that the store is reachable (for `/readyz`).
    async fn ping(&self) -> Result<()>;

    /// The keys that start with `prefix` (whole segments: `richieste/`) and were last written
    /// before `before`: what the sweep of orphan blobs looks at.
    async fn list_older_than(&self, prefix: &str, before: std::time::SystemTime) -> Result<Vec<String>>;
}

/// Opens the blob store named by a URL: a plain path or `file:///path` (local, fsync'd),
/// `s3://bucket/prefix` (credentials from the usual `AWS_*` variables), `memory://`.
pub fn open(url: &str) -> Result<Arc<dyn BlobStore>> {
    if let Some(path) = url.strip_prefix("file://") {
        Ok(Arc::new(local::LocalBlobStore::new(path)?))
    } else if !url.contains("://") {
        Ok(Arc::new(local::LocalBlobStore::new(url)?))
    } else {
        Ok(Arc::new(remote::ObjectStoreBlobStore::from_url(url)?))
    }
}

/// Reads a whole stream into memory (tests and small files only).
pub async fn read_all(mut stream: ByteStream) -> std::io::Result<Vec<u8>> {
    use futures::StreamExt;
    let mut out = Vec::new();
    while let Some(chunk) = stream.next().await {
        out.extend_from_slice(&chunk?);
    }
    Ok(out)
}
