//! Test harness: runs the real `cigo` binary as child processes and drives it over HTTP.
//!
//! Every test gets its own data directory, port, database and queue names, so tests run in
//! parallel. Processes are killed (SIGKILL) when their handle is dropped.

#![allow(dead_code)]

use reqwest::StatusCode;
use serde_json::Value;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const CF_A: &str = "RSSMRA85T10A562S";
pub const CF_B: &str = "VRDLGU70A01H501Z";

/// The filing date every deployment of the tests judges deadlines at (`CIGO_DATA_PRESENTAZIONE`).
pub const DATA_PRESENTAZIONE: &str = "2026-01-05";

pub fn cigo_bin() -> &'static str {
    env!("CARGO_BIN_EXE_cigo")
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The environment a set of processes shares (one deployment).
#[derive(Clone, Debug)]
pub struct Deployment {
    pub dir: PathBuf,
    pub vars: Vec<(String, String)>,
}

impl Deployment {
    /// An embedded deployment (SQLite, in-process queue, local blobs) in a fresh directory.
    pub fn embedded(dir: &Path) -> Self {
        Deployment {
            dir: dir.to_path_buf(),
            vars: vec![
                ("CIGO_DATA_DIR".into(), dir.join("data").display().to_string()),
                ("CIGO_LOG".into(), "info,cigo=debug".into()),
                ("CIGO_RELAY_POLL_MS".into(), "50".into()),
                // Issue 5: the generated files' matricole have no delega, and the tests poll fast;
                // the suites that test deleghe and the rate limit turn them on (tests/access.rs).
                ("CIGO_DELEGHE_REQUIRED".into(), "false".into()),
                ("CIGO_RATE_LIMIT_PER_MINUTE".into(), "0".into()),
                // The fixtures' periods are in 2026 from Monday 5 January: filed that day, none
                // is late; the suites that test the deadline set another date.
                ("CIGO_DATA_PRESENTAZIONE".into(), DATA_PRESENTAZIONE.into()),
            ],
        }
    }

    pub fn with(mut self, key: &str, value: impl Into<String>) -> Self {
        self.vars.retain(|(k, _)| k != key);
        self.vars.push((key.into(), value.into()));
        self
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(cigo_bin());
        cmd.args(args);
        for (k, _) in std::env::vars() {
            if k.starts_with("CIGO_") || k == "OTEL_EXPORTER_OTLP_ENDPOINT" {
                cmd.env_remove(k);
            }
        }
        for (k, v) in &self.vars {
            cmd.env(k, v);
        }
        cmd
    }

    /// Runs a command to completion and returns its stdout; panics with its stderr on failure.
    pub fn run(&self, args: &[&str]) -> String {
        let out = self.command(args).output().expect("cannot run cigo");
        assert!(out.status.success(), "cigo {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    }

    /// Runs a command to completion: (exit code, stdout, stderr), whatever the exit code.
    pub fn run_status(&self, args: &[&str]) -> (i32, String, String) {
        let out = self.command(args).output().expect("cannot run cigo");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    pub fn token(&self, intermediario: &str) -> String {
        self.token_with_role(intermediario, "intermediario")
    }

    pub fn token_with_role(&self, intermediario: &str, ruolo: &str) -> String {
        let out = self.run(&["admin", "token", "create", "--intermediario", intermediario, "--ruolo", ruolo]);
        out.trim().to_string()
    }

    /// Starts `cigo <role>` in the background, logging to `<dir>/<name>.log`.
    pub fn spawn(&self, name: &str, args: &[&str]) -> Process {
        let log_path = self.dir.join(format!("{name}.log"));
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .unwrap();
        let child = self
            .command(args)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("cannot start cigo");
        Process { name: name.to_string(), child: Some(child), log_path }
    }

    /// Starts a process with an HTTP API on a free port and waits until `/healthz` answers.
    pub async fn spawn_api(&self, name: &str, args: &[&str]) -> (Process, Api) {
        let port = free_port();
        let listen = format!("127.0.0.1:{port}");
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["--listen", &listen]);
        let process = self.spawn(name, &all);
        let api = Api::new(format!("http://{listen}"));
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(r) = api.http.get(format!("{}/healthz", api.base)).send().await {
                if r.status().is_success() {
                    break;
                }
            }
            assert!(Instant::now() < deadline, "{name} did not start:\n{}", process.log());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        (process, api)
    }
}

pub struct Process {
    pub name: String,
    child: Option<Child>,
    log_path: PathBuf,
}

impl Process {
    /// SIGKILL: no chance to clean up, like a crash.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// SIGTERM, then wait for a clean exit.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let mut c = self.child.take().expect("process already stopped");
        let _ = Command::new("kill")
            .args(["-TERM", &c.id().to_string()])
            .status();
        c.wait().unwrap()
    }

    /// The process id while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(|c| c.id())
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// Still running (not exited, not killed).
    pub fn is_running(&mut self) -> bool {
        match self.child.as_mut() {
            Some(c) => matches!(c.try_wait(), Ok(None)),
            None => false,
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
    }
}

/// An HTTP client bound to one API base URL.
#[derive(Clone)]
pub struct Api {
    pub base: String,
    pub http: reqwest::Client,
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|_| panic!("not JSON ({}): {}", self.status, String::from_utf8_lossy(&self.body)))
    }

    /// Asserts the status and, for errors, the stable code.
    pub fn expect(self, status: u16, code: Option<&str>) -> Self {
        assert_eq!(self.status.as_u16(), status, "unexpected status, body: {}", String::from_utf8_lossy(&self.body));
        if let Some(code) = code {
            assert_eq!(self.json()["code"], code, "body: {}", String::from_utf8_lossy(&self.body));
        }
        self
    }
}

impl Api {
    pub fn new(base: String) -> Self {
        Api {
            base,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(120))
                .build()
                .unwrap(),
        }
    }

    pub async fn send(&self, req: reqwest::RequestBuilder) -> Reply {
        let r = req.send().await.expect("request failed");
        Reply { status: r.status(), headers: r.headers().clone(), body: r.bytes().await.unwrap().to_vec() }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn get(&self, token: Option<&str>, path: &str) -> Reply {
        let mut req = self.http.get(self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        self.send(req).await
    }

    pub async fn post(&self, token: Option<&str>, path: &str) -> Reply {
        let mut req = self.http.post(self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        self.send(req).await
    }

    pub async fn delete(&self, token: Option<&str>, path: &str) -> Reply {
        let mut req = self.http.delete(self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        self.send(req).await
    }

    pub async fn upload(&self, token: &str, xml: Vec<u8>, prevalidazione: bool) -> Reply {
        let path = if prevalidazione {
            "/api/v1/richieste".to_string()
        } else {
            "/api/v1/richieste?prevalidazione=false".to_string()
        };
        let req = self
            .http
            .post(self.url(&path))
            .bearer_auth(token)
            .header("content-type", "application/xml")
            .body(xml);
        self.send(req).await
    }

    /// Uploads and returns the numero richiesta (asserting the 202 and its Location).
    pub async fn upload_ok(&self, token: &str, xml: Vec<u8>, prevalidazione: bool) -> i64 {
        let reply = self
            .upload(token, xml, prevalidazione)
            .await
            .expect(202, None);
        let body = reply.json();
        assert_eq!(body["stato"], "RICEVUTA");
        let numero = body["numero_richiesta"].as_i64().unwrap();
        assert_eq!(reply.headers.get("location").unwrap().to_str().unwrap(), format!("/api/v1/richieste/{numero}"));
        numero
    }

    pub async fn richiesta(&self, token: &str, numero: i64) -> Value {
        self.get(Some(token), &format!("/api/v1/richieste/{numero}"))
            .await
            .expect(200, None)
            .json()
    }

    /// Polls the richiesta until its stato is one of `states`; panics after `timeout`.
    pub async fn wait_for_state(&self, token: &str, numero: i64, states: &[&str], timeout: Duration) -> Value {
        wait_until(timeout, || async {
            let r = self.richiesta(token, numero).await;
            let stato = r["stato"].as_str().unwrap().to_string();
            states.contains(&stato.as_str()).then_some(r)
        })
        .await
        .unwrap_or_else(|| panic!("richiesta {numero} did not reach {states:?} within {timeout:?}"))
    }

    /// Every domanda of a richiesta (all pages).
    pub async fn all_domande(&self, token: &str, numero: i64, esito: Option<&str>) -> Vec<Value> {
        let mut out = Vec::new();
        let mut page = 1;
        loop {
            let mut path = format!("/api/v1/richieste/{numero}/domande?page={page}&page_size=1000");
            if let Some(e) = esito {
                path.push_str(&format!("&esito={e}"));
            }
            let body = self.get(Some(token), &path).await.expect(200, None).json();
            let items = body["items"].as_array().unwrap().clone();
            let n = items.len();
            out.extend(items);
            if n < 1000 {
                return out;
            }
            page += 1;
        }
    }
}

/// Polls `f` every 50 ms until it returns `Some`, or gives `None` after `timeout`.
pub async fn wait_until<T, F, Fut>(timeout: Duration, mut f: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f().await {
            return Some(v);
        }
        if Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A generated richiesta: written by `cigo generate`, with the expectations of the generator.
pub struct Generated {
    pub bytes: Vec<u8>,
    /// Progressivi of the domande that break a rule, with the code expected on each.
    pub invalid: Vec<(u32, &'static str)>,
    pub total: usize,
}

pub fn generate(dep: &Deployment, domande: usize, invalid_ratio: f64, seed: u64) -> Generated {
    let path = dep.dir.join(format!("gen-{domande}-{seed}.xml"));
    dep.run(&[
        "generate",
        "--domande",
        &domande.to_string(),
        "--invalid-ratio",
        &invalid_ratio.to_string(),
        "--seed",
        &seed.to_string(),
        "--out",
        path.to_str().unwrap(),
    ]);
    let bytes = std::fs::read(&path).unwrap();
    let opts = cigo_domain::generate::GenerateOptions { domande, invalid_ratio, seed };
    let summary = cigo_domain::generate::generate(&opts, std::io::sink()).unwrap();
    let invalid = summary
        .iter()
        .filter_map(|d| d.expected_code.map(|c| (d.progressivo, c)))
        .collect();
    Generated { bytes, invalid, total: domande }
}

/// The whole flow of the issue on one deployment: upload a generated richiesta, read its esito,
/// approve it, wait for CONSEGNATA, check protocol numbers, attestati and the original bytes.
/// Returns the seconds from upload to esito.
pub async fn full_flow(api: &Api, token: &str, generated: &Generated) -> f64 {
    let started = Instant::now();
    let numero = api.upload_ok(token, generated.bytes.clone(), true).await;
    let esito = api
        .wait_for_state(token, numero, &["PREVALIDATA", "SCARTATA"], Duration::from_secs(120))
        .await;
    let upload_to_esito = started.elapsed().as_secs_f64();
    assert_eq!(esito["stato"], "PREVALIDATA", "{esito}");
    assert_eq!(esito["domande_totali"], generated.total as i64);
    assert_eq!(esito["domande_scartate"], generated.invalid.len() as i64, "{esito}");
    assert_eq!(esito["domande_valide"], (generated.total - generated.invalid.len()) as i64);
    assert!(esito["esito_elaborazione"]
        .as_str()
        .unwrap()
        .contains("approvata all'invio"));
    assert_eq!(esito["azioni"], serde_json::json!(["approva", "elimina"]));

    // Every rejected domanda says why, with the code the generator meant and where.
    let scartate = api.all_domande(token, numero, Some("SCARTATA")).await;
    assert_eq!(scartate.len(), generated.invalid.len());
    for (d, (progressivo, code)) in scartate.iter().zip(&generated.invalid) {
        assert_eq!(d["progressivo"], *progressivo as i64);
        let findings = d["findings"].as_array().unwrap();
        assert!(
            findings
                .iter()
                .any(|f| f["code"] == *code && f["severity"] == "ERRORE"),
            "domanda {progressivo} should carry {code}: {d}"
        );
        assert!(findings
            .iter()
            .all(|f| f["message"].as_str().is_some_and(|m| !m.is_empty())));
    }
    let all = api.all_domande(token, numero, None).await;
    assert_eq!(all.len(), generated.total);

    // The attestato di consegna does not exist yet.
    api.get(Some(token), &format!("/api/v1/richieste/{numero}/attestati/consegna"))
        .await
        .expect(409, Some("attestato_not_available"));

    let approved = api
        .post(Some(token), &format!("/api/v1/richieste/{numero}/approvazione"))
        .await
        .expect(202, None)
        .json();
    assert_eq!(approved["stato"], "APPROVATA");
    assert!(approved["data_approvazione"].is_string());
    let trasmissione = api
        .get(Some(token), &format!("/api/v1/richieste/{numero}/attestati/trasmissione"))
        .await
        .expect(200, None)
        .json();
    assert_eq!(trasmissione["tipo"], "TRASMISSIONE");
    assert_eq!(trasmissione["richiesta"]["sha256"], esito["sha256"]);
    assert_eq!(trasmissione["domande"].as_array().unwrap().len(), generated.total - generated.invalid.len());

    let done = api
        .wait_for_state(token, numero, &["CONSEGNATA", "SCARTATA_IN_INVIO"], Duration::from_secs(120))
        .await;
    assert_eq!(done["stato"], "CONSEGNATA", "{done}");
    let valide = generated.total - generated.invalid.len();
    assert_eq!(done["domande_protocollate"], valide as i64);

    let protocollate = api.all_domande(token, numero, Some("PROTOCOLLATA")).await;
    assert_eq!(protocollate.len(), valide);
    let mut numbers: Vec<String> = protocollate
        .iter()
        .map(|d| {
            d["protocollo"]
                .as_str()
                .expect("protocol number")
                .to_string()
        })
        .collect();
    let before = numbers.len();
    numbers.sort();
    numbers.dedup();
    assert_eq!(numbers.len(), before, "protocol numbers must be unique");

    let consegna = api
        .get(Some(token), &format!("/api/v1/richieste/{numero}/attestati/consegna"))
        .await
        .expect(200, None)
        .json();
    assert_eq!(consegna["tipo"], "CONSEGNA");
    assert_eq!(consegna["protocollate"].as_array().unwrap().len(), valide);
    assert_eq!(consegna["codice_trasmissione"], trasmissione["codice_verifica"]);
    assert_eq!(consegna["totali"]["scartate_in_prevalidazione"], generated.invalid.len() as i64);

    // The original file, byte for byte.
    let xml = api
        .get(Some(token), &format!("/api/v1/richieste/{numero}/xml"))
        .await
        .expect(200, None);
    assert_eq!(xml.body, generated.bytes, "downloaded XML differs from the upload");
    upload_to_esito
}

// --- PostgreSQL + RabbitMQ -------------------------------------------------------------------

use sqlx::Connection;

pub fn admin_url() -> String {
    std::env::var("CIGO_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

pub fn amqp_url() -> String {
    std::env::var("CIGO_TEST_AMQP_URL").unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into())
}

/// A fresh database and queue prefix for one test; dropped at the end.
pub struct Servers {
    db_name: String,
    prefix: String,
}

impl Servers {
    pub async fn new() -> Self {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let db_name = format!("cigo_e2e_{id}");
        let mut conn = sqlx::PgConnection::connect(&admin_url())
            .await
            .expect("PostgreSQL must be running");
        sqlx::query(&format!("CREATE DATABASE {db_name}"))
            .execute(&mut conn)
            .await
            .unwrap();
        Servers { db_name, prefix: format!("e2e.{id}.") }
    }

    /// The queue prefix of this test's deployment.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    pub fn database_url(&self) -> String {
        let admin = admin_url();
        let base = admin.rsplit_once('/').unwrap().0;
        format!("{base}/{}", self.db_name)
    }

    pub fn deployment(&self, dir: &std::path::Path) -> Deployment {
        Deployment::embedded(dir)
            .with("CIGO_DATABASE_URL", self.database_url())
            .with("CIGO_AMQP_URL", amqp_url())
            .with("CIGO_QUEUE_PREFIX", self.prefix.clone())
            .with("CIGO_BLOB_URL", dir.join("blobs").display().to_string())
    }

    pub async fn cleanup(self) {
        if let Ok(q) = cigo_queue::rabbitmq::RabbitQueue::connect(&amqp_url(), &self.prefix).await {
            let _ = q.delete_topology().await;
        }
        if let Ok(mut conn) = sqlx::PgConnection::connect(&admin_url()).await {
            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.db_name))
                .execute(&mut conn)
                .await;
        }
    }
}

/// The file holding `bytes` under `dir` (a blob of the local blob store), if any.
pub fn find_blob(dir: &std::path::Path, bytes: &[u8]) -> Option<std::path::PathBuf> {
    for entry in std::fs::read_dir(dir).ok()?.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if let Some(found) = find_blob(&path, bytes) {
                return Some(found);
            }
        } else if std::fs::read(&path).ok().as_deref() == Some(bytes) {
            return Some(path);
        }
    }
    None
}
