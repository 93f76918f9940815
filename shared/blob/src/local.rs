//! Blobs as files under a root directory.
//!
//! `put_file` copies the file to `root/.tmp/<unique>`, fsyncs it, renames it to `root/<key>` and
//! fsyncs the directories it changed, so a blob reported stored survives a power cut and a
//! reader never sees half a file.

use crate::{BlobError, BlobStore, ByteStream, Result};
use async_trait::async_trait;
use futures::StreamExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The directory (under the root) where files are written before being renamed into place.
const TMP_DIR: &str = ".tmp";
/// The size of the chunks `get` streams.
const CHUNK: usize = 64 * 1024;
/// Temporary files older than this are leftovers of a crash, removed when the store opens.
const STALE_TMP: Duration = Duration::from_secs(3600);

/// Checks a blob key: relative, `/`-separated, no empty, `.` or `..` segment, no backslash or
/// NUL, and not inside the reserved `.tmp` directory. Shared by both stores so that a key valid
/// for one is valid for the other.
pub(crate) fn validate_key(key: &str) -> Result<()> {
    let invalid = |why: &str| Err(BlobError::InvalidUrl(format!("invalid blob key {key:?}: {why}")));
    if key.is_empty() {
        return invalid("empty");
    }
    if key.starts_with('/') {
        return invalid("absolute");
    }
    if key.contains('\\') || key.contains('\0') {
        return invalid("backslash or NUL");
    }
    for segment in key.split('/') {
        match segment {
            "" => return invalid("empty segment"),
            "." | ".." => return invalid("relative segment"),
            _ => {}
        }
    }
    if key.split('/').next() == Some(TMP_DIR) {
        return invalid("reserved directory");
    }
    Ok(())
}

/// Files under a local directory.
#[derive(Debug, Clone)]
pub struct LocalBlobStore {
    root: PathBuf,
}

impl LocalBlobStore {
    /// Opens (creating it if needed) the store rooted at `root`, and removes the temporary files
    /// a crash may have left.
    pub fn new(root: impl Into<PathBuf>) -> Result<Self> {
        let root = root.into();
        let tmp = root.join(TMP_DIR);
        std::fs::create_dir_all(&tmp)?;
        if let Ok(entries) = std::fs::read_dir(&tmp) {
            for entry in entries.flatten() {
                let stale = entry
                    .metadata()
                    .and_then(|m| m.modified())
                    .ok()
                    .and_then(|t| t.elapsed().ok())
                    .is_some_and(|age| age > STALE_TMP);
                if stale {
                    let _ = std::fs::remove_file(entry.path());
                }
            }
        }
        Ok(Self { root })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The path of the file of `key` (validated).
    pub fn path_of(&self, key: &str) -> Result<PathBuf> {
        validate_key(key)?;
        Ok(self.root.join(key))
    }

    fn tmp_path(&self) -> PathBuf {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        self.root
            .join(TMP_DIR)
            .join(format!("{}-{nanos}-{n}", std::process::id()))
    }
}

fn fsync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

/// Copies `source` to `tmp`, fsyncs, renames to `dest`, fsyncs the directories changed.
fn put_blocking(root: &Path, source: &Path, tmp: &Path, dest: &Path) -> std::io::Result<()> {
    {
        let mut from = std::fs::File::open(source)?;
        let mut to = std::fs::File::create(tmp)?;
        std::io::copy(&mut from, &mut to)?;
        to.sync_all()?;
    }
    let parent = dest.parent().unwrap_or(root);
    // The highest directory that does not exist yet: its parent's entry changes too.
    let mut first_missing = None;
    let mut dir = parent;
    while dir != root && !dir.exists() {
        first_missing = Some(dir);
        match dir.parent() {
            Some(p) => dir = p,
            None => break,
        }
    }
    if first_missing.is_some() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::rename(tmp, dest)?;
    fsync_dir(parent)?;
    if let Some(top) = first_missing {
        // Make the new directories themselves durable, up to the one that already existed.
        let mut dir = parent;
        while dir != top {
            match dir.parent() {
                Some(p) => {
                    fsync_dir(p)?;
                    dir = p;
                }
                None => break,
            }
        }
        if let Some(p) = top.parent() {
            fsync_dir(p)?;
        }
    }
    // The rename took the file out of `.tmp`.
    fsync_dir(&root.join(TMP_DIR))?;
    Ok(())
}

#[async_trait]
impl BlobStore for LocalBlobStore {
    async fn put_file(&self, key: &str, path: &Path) -> Result<()> {
        let dest = self.path_of(key)?;
        let tmp = self.tmp_path();
        let root = self.root.clone();
        let source = path.to_path_buf();
        let result = tokio::task::spawn_blocking(move || {
            let result = put_blocking(&root, &source, &tmp, &dest);
            if result.is_err() {
                let _ = std::fs::remove_file(&tmp);
            }
            result
        })
        .await
        .map_err(|e| std::io::Error::other(format!("blob write task failed: {e}")))?;
        Ok(result?)
    }

    async fn get(&self, key: &str) -> Result<ByteStream> {
        let path = self.path_of(key)?;
        let file = match tokio::fs::File::open(&path).await {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(BlobError::NotFound(key.to_string())),
            Err(e) => return Err(e.into()),
        };
        if file.metadata().await?.is_dir() {
            return Err(BlobError::NotFound(key.to_string()));
        }
        Ok(tokio_util::io::ReaderStream::with_capacity(file, CHUNK).boxed())
    }

    async fn list_older_than(&self, prefix: &str, before: SystemTime) -> Result<Vec<String>> {
        let root = self.root.clone();
        let start = root.join(prefix.trim_end_matches('/'));
        let keys = tokio::task::spawn_blocking(move || {
            let mut keys = Vec::new();
            let mut dirs = vec![start];
            while let Some(dir) = dirs.pop() {
                let entries = match std::fs::read_dir(&dir) {
                    Ok(entries) => entries,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                    Err(e) => return Err(e),
                };
                for entry in entries {
                    let entry = entry?;
                    let path = entry.path();
                    let meta = entry.metadata()?;
                    if meta.is_dir() {
                        if path != root.join(TMP_DIR) {
                            dirs.push(path);
                        }
                    } else if meta.modified()? < before {
                        let Ok(relative) = path.strip_prefix(&root) else { continue };
                        let key: Vec<String> = relative
                            .components()
                            .map(|c| c.as_os_str().to_string_lossy().into_owned())
                            .collect();
                        keys.push(key.join("/"));
                    }
                }
            }
            keys.sort();
            Ok(keys)
        })
        .await
        .map_err(|e| std::io::Error::other(format!("blob listing task failed: {e}")))??;
        Ok(keys)
    }

    async fn delete(&self, key: &str) -> Result<()> {
        let path = self.path_of(key)?;
        match tokio::fs::remove_file(&path).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    async fn ping(&self) -> Result<()> {
        let meta = tokio::fs::metadata(self.root.join(TMP_DIR)).await?;
        if meta.is_dir() {
            Ok(())
        } else {
            Err(BlobError::Io(std::io::Error::other(format!(
                "{} is not a directory",
                self.root.join(TMP_DIR).display()
            ))))
        }
    }
}
