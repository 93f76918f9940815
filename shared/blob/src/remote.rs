//! Blobs in an `object_store` backend: S3-compatible storage (`s3://bucket/prefix`, credentials,
//! region and endpoint from the usual `AWS_*` variables) or `memory://` (tests).

use crate::local::validate_key;
use crate::{BlobError, BlobStore, ByteStream, Result};
use async_trait::async_trait;
use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload, WriteMultipart};
use std::path::Path;
use std::sync::Arc;
use tokio::io::AsyncReadExt;

/// The size of the parts of a multipart upload; files up to this size are sent with one PUT.
pub const DEFAULT_PART_SIZE: usize = 8 * 1024 * 1024;
/// The smallest part S3 accepts (every part but the last).
pub const MIN_PART_SIZE: usize = 5 * 1024 * 1024;
/// Parts uploaded at the same time.
const PART_CONCURRENCY: usize = 4;
/// The size of the reads from the local file.
const READ_CHUNK: usize = 1024 * 1024;

pub struct ObjectStoreBlobStore {
    store: Arc<dyn ObjectStore>,
    prefix: ObjectPath,
    url: String,
    part_size: usize,
}

impl std::fmt::Debug for ObjectStoreBlobStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObjectStoreBlobStore")
            .field("url", &self.url)
            .field("store", &self.store.to_string())
            .field("part_size", &self.part_size)
            .finish()
    }
}

fn split_url(url: &str) -> Option<(&str, &str)> {
    let (scheme, rest) = url.split_once("://")?;
    Some((scheme, rest))
}

impl ObjectStoreBlobStore {
    /// `s3://bucket[/prefix]` (also `s3a://`; endpoint, region and credentials from the `AWS_*`
    /// variables) or `memory://[prefix]`.
    pub fn from_url(url: &str) -> Result<Self> {
        Self::from_url_with(url, object_store::aws::AmazonS3Builder::from_env())
    }

    /// Like [`ObjectStoreBlobStore::from_url`], with the settings of `s3` (endpoint, region,
    /// credentials) for an `s3://` URL instead of those of the environment.
    pub fn from_url_with(url: &str, s3: object_store::aws::AmazonS3Builder) -> Result<Self> {
        let (scheme, rest) = split_url(url).ok_or_else(|| BlobError::InvalidUrl(format!("{url}: no scheme")))?;
        let (store, prefix): (Arc<dyn ObjectStore>, &str) = match scheme {
            "memory" => (Arc::new(object_store::memory::InMemory::new()), rest),
            "s3" | "s3a" => {
                let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
                if bucket.is_empty() {
                    return Err(BlobError::InvalidUrl(format!("{url}: no bucket")));
                }
                (Arc::new(s3.with_bucket_name(bucket).build()?), prefix)
            }
            other => {
                return Err(BlobError::InvalidUrl(format!(
                    "unsupported blob store scheme {other}:// (expected a path, file://, s3:// or memory://)"
                )))
            }
        };
        let prefix = prefix.trim_matches('/');
        let prefix = if prefix.is_empty() {
            ObjectPath::default()
        } else {
            ObjectPath::parse(prefix).map_err(|e| BlobError::InvalidUrl(format!("{url}: bad prefix: {e}")))?
        };
        Ok(Self::new(store, prefix, url))
    }

    /// The metadata the backend keeps for `key` (size, ETag: a multipart upload's ETag ends in
    /// `-<number of parts>` on S3).
    pub async fn head(&self, key: &str) -> Result<object_store::ObjectMeta> {
        let location = self.location(key)?;
        self.store
            .head(&location)
            .await
            .map_err(|e| not_found(key, e))
    }

    /// Wraps any object store; keys are stored under `prefix`.
    pub fn new(store: Arc<dyn ObjectStore>, prefix: ObjectPath, url: &str) -> Self {
        Self { store, prefix, url: url.to_string(), part_size: DEFAULT_PART_SIZE }
    }

    /// Uploads files bigger than `bytes` in parts of `bytes` (at least [`MIN_PART_SIZE`]).
    pub fn with_part_size(mut self, bytes: usize) -> Self {
        self.part_size = bytes.max(MIN_PART_SIZE);
        self
    }

    pub fn part_size(&self) -> usize {
        self.part_size
    }

    fn location(&self, key: &str) -> Result<ObjectPath> {
        validate_key(key)?;
        Ok(key
            .split('/')
            .fold(self.prefix.clone(), |location, segment| location.join(segment)))
    }

    async fn put_multipart(&self, location: &ObjectPath, file: &mut tokio::fs::File) -> Result<()> {
        let upload = self.store.put_multipart(location).await?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, self.part_size);
        let mut buf = vec![0u8; READ_CHUNK];
        let result: Result<()> = async {
            loop {
                let n = file.read(&mut buf).await?;
                if n == 0 {
                    break;
                }
                writer.wait_for_capacity(PART_CONCURRENCY).await?;
                writer.write(&buf[..n]);
            }
            Ok(())
        }
        .await;
        match result {
            Ok(()) => {
                writer.finish().await?;
                Ok(())
            }
            Err(e) => {
                let _ = writer.abort().await;
                Err(e)
            }
        }
    }
}

fn not_found(key: &str, e: object_store::Error) -> BlobError {
    match e {
        object_store::Error::NotFound { .. } => BlobError::NotFound(key.to_string()),
        other => BlobError::ObjectStore(other),
    }
}

#[async_trait]
impl BlobStore for ObjectStoreBlobStore {
    async fn put_file(&self, key: &str, path: &Path) -> Result<()> {
        let location = self.location(key)?;
        let mut file = tokio::fs::File::open(path).await?;
        let size = file.metadata().await?.len();
        if size <= self.part_size as u64 {
            let mut content = Vec::with_capacity(size as usize);
            file.read_to_end(&mut content).await?;
            self.store
                .put(&location, PutPayload::from(Bytes::from(content)))
                .await?;
            Ok(())
        } else {
            self.put_multipart(&location, &mut file).await
        }
    }

    async fn get(&self, key: &str) -> Result<ByteStream> {
        let location = self.location(key)?;
        let result = self
            .store
            .get(&location)
            .await
            .map_err(|e| not_found(key, e))?;
        Ok(result.into_stream().map_err(std::io::Error::other).boxed())
    }

    async fn delete(&self, key: &str) -> Result<()> {
        let location = self.location(key)?;
        match self.store.delete(&location).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    async fn list_older_than(&self, prefix: &str, before: std::time::SystemTime) -> Result<Vec<String>> {
        let under = prefix
            .split('/')
            .filter(|s| !s.is_empty())
            .fold(self.prefix.clone(), |location, segment| location.join(segment));
        let mut keys: Vec<String> = self
            .store
            .list(Some(&under))
            .try_filter_map(|meta| async move {
                if std::time::SystemTime::from(meta.last_modified) >= before {
                    return Ok(None);
                }
                Ok(meta.location.prefix_match(&self.prefix).map(|parts| {
                    parts
                        .map(|p| p.as_ref().to_string())
                        .collect::<Vec<_>>()
                        .join("/")
                }))
            })
            .try_collect()
            .await?;
        keys.sort();
        Ok(keys)
    }

    async fn ping(&self) -> Result<()> {
        // Any answer from the backend, "not found" included, means it is reachable.
        match self.store.head(&self.prefix.clone().join(".ping")).await {
            Ok(_) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}
