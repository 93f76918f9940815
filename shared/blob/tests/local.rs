//! The local (fsync'd) blob store.

use cigo_blob::local::LocalBlobStore;
use cigo_blob::{read_all, BlobError, BlobStore};
use futures::StreamExt;
use std::io::Write;

fn content(len: usize) -> Vec<u8> {
    // Not a repeating pattern of a power of two, so a misplaced chunk shows.
    (0..len).map(|i| (i * 31 % 251) as u8).collect()
}

fn temp_file(bytes: &[u8]) -> tempfile::NamedTempFile {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(bytes).unwrap();
    f.flush().unwrap();
    f
}

#[tokio::test]
async fn roundtrip_of_a_5_mb_file_in_64_kib_chunks() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalBlobStore::new(dir.path().join("blobs")).unwrap();
    let bytes = content(5 * 1024 * 1024 + 17);
    let src = temp_file(&bytes);

    store
        .put_file("2025/01/42/upload.xml", src.path())
        .await
        .unwrap();
    assert!(dir.path().join("blobs/2025/01/42/upload.xml").is_file());
    // Nothing left in the temporary directory.
    assert_eq!(
        std::fs::read_dir(dir.path().join("blobs/.tmp"))
            .unwrap()
            .count(),
        0
    );

    let mut stream = store.get("2025/01/42/upload.xml").await.unwrap();
    let mut got = Vec::new();
    let mut chunks = 0;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.unwrap();
        assert!(chunk.len() <= 64 * 1024);
        got.extend_from_slice(&chunk);
        chunks += 1;
    }
    assert!(chunks >= 80, "streamed in {chunks} chunks");
    assert_eq!(got, bytes);
}

#[tokio::test]
async fn put_overwrites_and_empty_files_work() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalBlobStore::new(dir.path()).unwrap();
    store
        .put_file("a", temp_file(b"first").path())
        .await
        .unwrap();
    store
        .put_file("a", temp_file(b"second").path())
        .await
        .unwrap();
    assert_eq!(read_all(store.get("a").await.unwrap()).await.unwrap(), b"second");
    store
        .put_file("empty", temp_file(b"").path())
        .await
        .unwrap();
    assert_eq!(read_all(store.get("empty").await.unwrap()).await.unwrap(), b"");
}

#[tokio::test]
async fn invalid_keys_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalBlobStore::new(dir.path().join("root")).unwrap();
    let src = temp_file(b"x");
    for key in ["", "/etc/passwd", "../escape", "a/../../b", "a//b", "a/", "./a", "a/./b", ".tmp/x", "a\\b", "a\0b"] {
        let err = store.put_file(key, src.path()).await.unwrap_err();
        assert!(matches!(err, BlobError::InvalidUrl(_)), "{key:?}: {err:?}");
        assert!(matches!(store.get(key).await, Err(BlobError::InvalidUrl(_))), "{key:?}");
        assert!(matches!(store.delete(key).await, Err(BlobError::InvalidUrl(_))), "{key:?}");
    }
    assert!(!dir.path().join("escape").exists());
    // Dots inside a name are fine.
    store.put_file("a/..b/c..d.xml", src.path()).await.unwrap();
}

#[tokio::test]
async fn missing_blob_is_not_found() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalBlobStore::new(dir.path()).unwrap();
    assert!(matches!(store.get("nope").await, Err(BlobError::NotFound(k)) if k == "nope"));
    assert!(matches!(store.get("no/such/dir").await, Err(BlobError::NotFound(_))));
    store
        .put_file("d/file", temp_file(b"x").path())
        .await
        .unwrap();
    // A directory is not a blob.
    assert!(matches!(store.get("d").await, Err(BlobError::NotFound(_))));
}

#[tokio::test]
async fn delete_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalBlobStore::new(dir.path()).unwrap();
    store
        .put_file("x/y", temp_file(b"data").path())
        .await
        .unwrap();
    store.delete("x/y").await.unwrap();
    assert!(matches!(store.get("x/y").await, Err(BlobError::NotFound(_))));
    store.delete("x/y").await.unwrap();
    store.delete("never/was").await.unwrap();
}

#[tokio::test]
async fn missing_source_file_fails_and_leaves_no_temporary() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalBlobStore::new(dir.path()).unwrap();
    let err = store
        .put_file("k", &dir.path().join("does-not-exist"))
        .await
        .unwrap_err();
    assert!(matches!(err, BlobError::Io(_)), "{err:?}");
    assert_eq!(std::fs::read_dir(dir.path().join(".tmp")).unwrap().count(), 0);
    assert!(matches!(store.get("k").await, Err(BlobError::NotFound(_))));
}

#[tokio::test]
async fn ping_and_open_by_url() {
    let dir = tempfile::tempdir().unwrap();
    let plain = cigo_blob::open(dir.path().join("p").to_str().unwrap()).unwrap();
    plain.ping().await.unwrap();
    let url = format!("file://{}", dir.path().join("f").display());
    let file = cigo_blob::open(&url).unwrap();
    file.put_file("k", temp_file(b"hello").path())
        .await
        .unwrap();
    assert_eq!(read_all(file.get("k").await.unwrap()).await.unwrap(), b"hello");
    assert!(dir.path().join("f/k").is_file());

    let store = LocalBlobStore::new(dir.path().join("gone")).unwrap();
    std::fs::remove_dir_all(dir.path().join("gone")).unwrap();
    assert!(store.ping().await.is_err());
}

#[tokio::test]
async fn concurrent_puts_of_different_keys() {
    let dir = tempfile::tempdir().unwrap();
    let store = std::sync::Arc::new(LocalBlobStore::new(dir.path()).unwrap());
    let mut tasks = Vec::new();
    for i in 0..32 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let src = temp_file(format!("blob {i}").as_bytes());
            store
                .put_file(&format!("n/{}/{i}", i % 4), src.path())
                .await
                .unwrap();
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    for i in 0..32 {
        let got = read_all(store.get(&format!("n/{}/{i}", i % 4)).await.unwrap())
            .await
            .unwrap();
        assert_eq!(got, format!("blob {i}").as_bytes());
    }
}

/// The sweep of orphan blobs lists one day of keys older than a moment; the temporary files of
/// writes in progress are never keys.
#[tokio::test]
async fn list_older_than_a_moment_under_a_prefix() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalBlobStore::new(dir.path()).unwrap();
    for key in ["richieste/2026/12/01/a.xml", "richieste/2026/12/01/b.xml", "richieste/2026/12/02/c.xml", "altro/d.xml"]
    {
        store.put_file(key, temp_file(b"x").path()).await.unwrap();
    }
    let old = store.path_of("richieste/2026/12/01/a.xml").unwrap();
    std::fs::File::options()
        .write(true)
        .open(&old)
        .unwrap()
        .set_modified(std::time::SystemTime::now() - std::time::Duration::from_secs(7200))
        .unwrap();
    let hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    assert_eq!(store.list_older_than("richieste/", hour_ago).await.unwrap(), ["richieste/2026/12/01/a.xml"]);
    let later = std::time::SystemTime::now() + std::time::Duration::from_secs(5);
    assert_eq!(
        store
            .list_older_than("richieste/2026/12/01/", later)
            .await
            .unwrap(),
        ["richieste/2026/12/01/a.xml", "richieste/2026/12/01/b.xml"]
    );
    assert_eq!(store.list_older_than("", later).await.unwrap().len(), 4, "never the .tmp directory");
    assert!(store
        .list_older_than("nessuno/", later)
        .await
        .unwrap()
        .is_empty());
}
