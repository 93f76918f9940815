//! The object_store backend, on `memory://` and on a real S3-protocol server (`moto`, started
//! by the tests; those are ignored by default, `.ci/run` runs them with `--include-ignored`).

use cigo_blob::moto::MotoServer;
use cigo_blob::remote::{ObjectStoreBlobStore, MIN_PART_SIZE};
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

// --- S3 protocol (moto) ----------------------------------------------------------------------

const BUCKET: &str = "cigo-blob-test";

/// A fresh moto server with the test bucket, and the store of `url` on it.
async fn on_moto(url: &str) -> (MotoServer, ObjectStoreBlobStore) {
    let moto = MotoServer::start()
        .await
        .expect("moto_server must be installed");
    moto.create_bucket(BUCKET).await.unwrap();
    let store = moto.blob_store(url).unwrap();
    (moto, store)
}

#[tokio::test]
#[ignore = "needs moto_server (PyPI moto[server]); run by .ci/run with --include-ignored"]
async fn s3_roundtrip_not_found_delete_and_prefixes() {
    let (moto, store) = on_moto(&format!("s3://{BUCKET}/richieste")).await;
    store.ping().await.unwrap();

    let bytes = content(100_000);
    store
        .put_file("2026/12/1.xml", temp_file(&bytes).path())
        .await
        .unwrap();
    let got = read_all(store.get("2026/12/1.xml").await.unwrap())
        .await
        .unwrap();
    assert!(got == bytes, "byte for byte");
    let meta = store.head("2026/12/1.xml").await.unwrap();
    assert_eq!(meta.size, bytes.len() as u64);
    assert_eq!(meta.location.as_ref(), "richieste/2026/12/1.xml", "stored under the prefix");

    // The same bucket under another prefix does not see it.
    let other = moto.blob_store(&format!("s3://{BUCKET}/altro")).unwrap();
    assert!(matches!(other.get("2026/12/1.xml").await, Err(BlobError::NotFound(_))));

    assert!(matches!(store.get("missing").await, Err(BlobError::NotFound(k)) if k == "missing"));
    store.delete("2026/12/1.xml").await.unwrap();
    assert!(matches!(store.get("2026/12/1.xml").await, Err(BlobError::NotFound(_))));
    store.delete("2026/12/1.xml").await.unwrap();
    for key in ["", "/abs", "../x", "a//b"] {
        assert!(matches!(store.get(key).await, Err(BlobError::InvalidUrl(_))), "{key:?}");
    }

    // A bucket that does not exist is an error, not a silent success.
    let missing = moto.blob_store("s3://no-such-bucket").unwrap();
    assert!(missing.put_file("k", temp_file(b"v").path()).await.is_err());
}

#[tokio::test]
#[ignore = "needs moto_server (PyPI moto[server]); run by .ci/run with --include-ignored"]
async fn s3_multipart_upload_of_a_file_over_the_part_size() {
    let (_moto, store) = on_moto(&format!("s3://{BUCKET}")).await;
    let store = store.with_part_size(MIN_PART_SIZE);
    assert_eq!(store.part_size(), MIN_PART_SIZE);

    // Two full parts and a short last one.
    let bytes = content(2 * MIN_PART_SIZE + 12_345);
    store
        .put_file("big.xml", temp_file(&bytes).path())
        .await
        .unwrap();
    let meta = store.head("big.xml").await.unwrap();
    assert_eq!(meta.size, bytes.len() as u64);
    let etag = meta.e_tag.unwrap_or_default();
    assert!(etag.trim_matches('"').ends_with("-3"), "a multipart upload of 3 parts, ETag {etag}");
    let got = read_all(store.get("big.xml").await.unwrap()).await.unwrap();
    assert_eq!(got.len(), bytes.len());
    assert!(got == bytes, "byte for byte");

    // A file of exactly one part goes up with one PUT.
    let one = content(MIN_PART_SIZE);
    store
        .put_file("one.xml", temp_file(&one).path())
        .await
        .unwrap();
    let etag = store
        .head("one.xml")
        .await
        .unwrap()
        .e_tag
        .unwrap_or_default();
    assert!(!etag.contains('-'), "a single PUT, ETag {etag}");
    assert!(read_all(store.get("one.xml").await.unwrap()).await.unwrap() == one);
}

/// The sweep of orphan blobs lists one day of keys older than a moment, under the store's prefix.
#[tokio::test]
#[ignore = "needs moto_server (PyPI moto[server]); run by .ci/run with --include-ignored"]
async fn s3_list_older_than_a_moment_under_a_prefix() {
    let (_moto, store) = on_moto(&format!("s3://{BUCKET}/blobs")).await;
    for key in ["richieste/2026/12/01/a.xml", "richieste/2026/12/01/b.xml", "richieste/2026/12/02/c.xml", "altro/d.xml"]
    {
        store.put_file(key, temp_file(b"x").path()).await.unwrap();
    }
    let later = std::time::SystemTime::now() + std::time::Duration::from_secs(5);
    let listed = store
        .list_older_than("richieste/2026/12/01/", later)
        .await
        .unwrap();
    assert_eq!(listed, ["richieste/2026/12/01/a.xml", "richieste/2026/12/01/b.xml"]);
    let earlier = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    assert!(store
        .list_older_than("richieste/", earlier)
        .await
        .unwrap()
        .is_empty());
    assert!(store
        .list_older_than("nessuno/", later)
        .await
        .unwrap()
        .is_empty());
}
