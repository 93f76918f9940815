//! The production layout with the uploaded files on an S3-protocol server: PostgreSQL +
//! RabbitMQ + `moto` (PyPI `moto[server]`, started by the test on a free port), with `cigo api`,
//! `cigo worker` and `cigo sender` as separate processes and `CIGO_BLOB_URL=s3://…`.
//!
//! Ignored by default like the other server-backed suites; `.ci/run` installs moto and runs it
//! with `--include-ignored`. It fails, never skips, when a server is missing.

mod support;

use cigo_blob::moto::MotoServer;
use support::*;

const BUCKET: &str = "cigo-e2e";

/// The deployment of `servers` with its blobs under `s3://BUCKET/prefix` on `moto`.
fn on_s3(servers: &Servers, dir: &std::path::Path, moto: &MotoServer, prefix: &str) -> Deployment {
    let mut dep = servers
        .deployment(dir)
        .with("CIGO_BLOB_URL", format!("s3://{BUCKET}/{prefix}"));
    for (key, value) in moto.env() {
        dep = dep.with(key, value);
    }
    dep
}

#[tokio::test]
#[ignore = "needs PostgreSQL, RabbitMQ and moto_server; run by .ci/run with --include-ignored"]
async fn the_whole_flow_with_the_files_on_s3() {
    let moto = MotoServer::start()
        .await
        .expect("moto_server must be installed");
    moto.create_bucket(BUCKET).await.unwrap();
    let servers = Servers::new().await;
    let dir = tempfile::tempdir().unwrap();
    let dep = on_s3(&servers, dir.path(), &moto, "richieste");
    dep.run(&["migrate"]);
    let (_api, api) = dep.spawn_api("api", &["api", "--no-migrate"]).await;
    let _worker = dep.spawn("worker", &["worker"]);
    let _sender = dep.spawn("sender", &["sender"]);
    let token = dep.token(CF_A);
    // Ready means every backend answered, the S3 bucket included.
    api.get(None, "/readyz").await.expect(200, None);

    // 600 domande make a file over the 8 MiB part size: it goes up as a multipart upload.
    let generated = generate(&dep, 600, 0.1, 21);
    assert!(generated.bytes.len() > 8 * 1024 * 1024, "{} bytes", generated.bytes.len());
    // Upload, esito, approval, sending and the download of the file byte for byte.
    let secs = full_flow(&api, &token, &generated).await;
    println!("postgres+rabbitmq+s3: upload to esito of 600 domande in {secs:.3} s");

    // The file is in the bucket (under the prefix, uploaded in parts), not on the local disk.
    let listing = reqwest::get(format!("{}/{BUCKET}?list-type=2&prefix=richieste/", moto.endpoint()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(listing.contains(&format!("<Size>{}</Size>", generated.bytes.len())), "{listing}");
    assert!(listing.contains("-2&#34;</ETag>") || listing.contains("-2\"</ETag>"), "two parts: {listing}");
    assert!(!dir.path().join("blobs").exists(), "nothing written to the local blob directory");

    servers.cleanup().await;
}
