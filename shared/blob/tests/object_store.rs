//! The object_store backend, on `memory://`.

use cigo_blob::remote::ObjectStoreBlobStore;
use cigo_blob::{read_all, BlobError, BlobStore};
use std::io::Write;

fn temp_file(bytes: &[u8]) -> tempfile::NamedTempFile {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(bytes).unwrap();
    f.flush().unwrap();
    f
}

fn content(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 % 253) as u8).collect()
}

#[tokio::test]
async fn small_file_roundtrip() {
    let store = ObjectStoreBlobStore::from_url("memory://").unwrap();
    store.ping().await.unwrap();
    store
        .put_file("a/b/c.xml", temp_file(b"<x/>").path())
        .await
        .unwrap();
    assert_eq!(
        read_all(store.get("a/b/c.xml").await.unwrap())
            .await
            .unwrap(),
        b"<x/>"
    );
}

#[tokio::test]
async fn big_file_goes_up_in_parts() {
    let store = ObjectStoreBlobStore::from_url("memory://some/prefix").unwrap();
    let bytes = content(20 * 1024 * 1024 + 3);
    store
        .put_file("big", temp_file(&bytes).path())
        .await
        .unwrap();
    let got = read_all(store.get("big").await.unwrap()).await.unwrap();
    assert_eq!(got.len(), bytes.len());
    assert!(got == bytes);
}

#[tokio::test]
async fn not_found_delete_and_keys() {
    let store = cigo_blob::open("memory://").unwrap();
    assert!(matches!(store.get("missing").await, Err(BlobError::NotFound(k)) if k == "missing"));
    store.put_file("k", temp_file(b"v").path()).await.unwrap();
    store.delete("k").await.unwrap();
    assert!(matches!(store.get("k").await, Err(BlobError::NotFound(_))));
    store.delete("k").await.unwrap();
    for key in ["", "/abs", "../x", "a//b", "a/./b"] {
        assert!(matches!(store.get(key).await, Err(BlobError::InvalidUrl(_))), "{key:?}");
    }
}

#[test]
fn unsupported_urls_are_rejected() {
    assert!(matches!(ObjectStoreBlobStore::from_url("ftp://host/x"), Err(BlobError::InvalidUrl(_))));
    assert!(matches!(ObjectStoreBlobStore::from_url("s3://"), Err(BlobError::InvalidUrl(_))));
}
