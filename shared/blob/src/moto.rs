//! An S3-protocol server for tests: `moto` in server mode (PyPI `moto[server]`, command
//! `moto_server`; `CIGO_MOTO_SERVER` names another command), started on a free port of
//! 127.0.0.1 and killed when dropped. Only with the `moto` feature.
//!
//! moto keeps everything in memory and accepts any credentials: the ones here only make the
//! requests signed the way S3 wants.

use crate::remote::ObjectStoreBlobStore;
use crate::Result;
use object_store::aws::AmazonS3Builder;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The longest wait for a fresh server to answer (Python starts slowly on a busy machine).
const START_TIMEOUT: Duration = Duration::from_secs(90);
/// How often a starting server is asked whether it answers.
const POLL: Duration = Duration::from_millis(100);

pub const ACCESS_KEY_ID: &str = "testing";
pub const SECRET_ACCESS_KEY: &str = "testing";
pub const REGION: &str = "us-east-1";

/// A running `moto_server`. Its stderr (one line per request) goes to a file in the temporary
/// directory, shown in the error when it does not start.
pub struct MotoServer {
    child: Child,
    endpoint: String,
    log_path: PathBuf,
    http: reqwest::Client,
}

impl std::fmt::Debug for MotoServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MotoServer")
            .field("endpoint", &self.endpoint)
            .finish()
    }
}

fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

impl MotoServer {
    /// Starts a server and waits until it answers.
    pub async fn start() -> Result<Self, String> {
        let command = std::env::var("CIGO_MOTO_SERVER").unwrap_or_else(|_| "moto_server".to_string());
        let port = free_port().map_err(|e| format!("no free port: {e}"))?;
        let log_path = std::env::temp_dir().join(format!("cigo-moto-{}-{port}.log", std::process::id()));
        let log = std::fs::File::create(&log_path).map_err(|e| format!("{}: {e}", log_path.display()))?;
        let child = Command::new(&command)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .map_err(|e| format!("cannot run {command} (install it with `pip install 'moto[server]'`): {e}"))?;
        let mut server =
            Self { child, endpoint: format!("http://127.0.0.1:{port}"), log_path, http: reqwest::Client::new() };
        server.wait_until_it_answers().await?;
        Ok(server)
    }

    async fn wait_until_it_answers(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("moto_server exited ({status}): {}", self.log()));
            }
            // Any HTTP answer (the list of buckets) means it is serving.
            if self.http.get(&self.endpoint).send().await.is_ok() {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!("moto_server did not answer within {START_TIMEOUT:?}: {}", self.log()));
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// What the server wrote to stderr so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// `http://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Creates `bucket` (S3 `CreateBucket`).
    pub async fn create_bucket(&self, bucket: &str) -> Result<(), String> {
        let response = self
            .http
            .put(format!("{}/{bucket}", self.endpoint))
            .send()
            .await
            .map_err(|e| format!("creating bucket {bucket}: {e}"))?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(format!("creating bucket {bucket}: HTTP {}", response.status()))
        }
    }

    /// The `AWS_*` variables that send the `s3://` blob URLs of a cigo process to this server.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT", self.endpoint.clone()),
            ("AWS_ALLOW_HTTP", "true".to_string()),
            ("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID.to_string()),
            ("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY.to_string()),
            ("AWS_REGION", REGION.to_string()),
        ]
    }

    /// The blob store of the URL `s3://bucket[/prefix]` on this server (the settings of
    /// [`MotoServer::env`], without touching the environment of the process).
    pub fn blob_store(&self, url: &str) -> Result<ObjectStoreBlobStore> {
        let s3 = AmazonS3Builder::new()
            .with_endpoint(&self.endpoint)
            .with_allow_http(true)
            .with_access_key_id(ACCESS_KEY_ID)
            .with_secret_access_key(SECRET_ACCESS_KEY)
            .with_region(REGION);
        ObjectStoreBlobStore::from_url_with(url, s3)
    }
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log_path);
    }
}
