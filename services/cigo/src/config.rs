//! Configuration: defaults < config file < environment < flags.
//!
//! [`Settings`] is plain data; its [`Default`] is the embedded mode, and code and tests build it
//! as a struct literal (`Settings { data_dir, ..Default::default() }`). A run of `cigo` layers, from
//! the bottom: those defaults, a TOML file (`--config FILE` or `CIGO_CONFIG`; keys are the field
//! names, `database_url = "postgres://…"`, `-` allowed for `_`), then the `CIGO_<KEY>` environment
//! variables and the flags (`--database-url`), which clap reads (environment below flags). The
//! process environment is only read, never written.
//!
//! The flags come in groups ([`StoreArgs`], [`QueueArgs`], [`LogArgs`], [`BlobArgs`], [`RetentionArgs`],
//! [`ServerArgs`]) that each
//! command flattens as it needs them, so `cigo validate --help` shows no server option. Every
//! group field is an `Option`: `None` means "not given", and the layer below shows through.
//!
//! An unknown key in the file, or a value that does not fit its setting (in the file, the
//! environment or a flag), is an error that names the key.

use cigo_telemetry::LogFormat;
use clap::builder::BoolishValueParser;
use clap::Args;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Everything a process is configured by.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    pub data_dir: PathBuf,
    pub database_url: Option<String>,
    pub amqp_url: Option<String>,
    pub queue_prefix: String,
    pub blob_url: Option<String>,
    pub spool_dir: Option<PathBuf>,
    pub listen: String,
    pub admin_listen: Option<String>,
    pub max_upload_bytes: u64,
    pub worker_concurrency: usize,
    pub sender_concurrency: usize,
    pub no_migrate: bool,
    pub db_max_connections: u32,
    pub sla_requeue_after_secs: u64,
    pub relay_poll_ms: u64,
    pub shutdown_grace_secs: u64,
    pub job_max_attempts: u32,
    pub job_retry_base_ms: u64,
    pub sla_secs: u64,
    pub relay_publish_copies: u32,
    #[serde(with = "log_format")]
    pub log_format: LogFormat,
    pub log: String,
    pub deleghe_required: bool,
    pub rate_limit_per_minute: u32,
    pub rate_limit_burst: u32,
    pub max_concurrent_uploads: usize,
    pub upload_idle_timeout_secs: u64,
    pub upload_timeout_secs: u64,
    pub max_connections: usize,
    pub header_read_timeout_secs: u64,
    pub orphan_min_age_secs: u64,
    pub max_gzip_ratio: u64,
    pub data_presentazione: Option<chrono::NaiveDate>,
    /// How long a session of the web console lasts from sign-in, in minutes.
    pub console_session_minutes: u32,
    /// Days after its elimination an ELIMINATA richiesta is purged; 0: never.
    pub retention_eliminate_days: u32,
    /// Days after its last change a richiesta in a final state is purged; 0: never.
    pub retention_days: u32,
}

/// The embedded mode: SQLite, blobs and spool under `./data`, the in-process queue.
impl Default for Settings {
    fn default() -> Self {
        Settings {
            data_dir: PathBuf::from("./data"),
            database_url: None,
            amqp_url: None,
            queue_prefix: String::new(),
            blob_url: None,
            spool_dir: None,
            listen: "127.0.0.1:8080".into(),
            admin_listen: None,
            max_upload_bytes: 200 * 1024 * 1024,
            worker_concurrency: 2,
            sender_concurrency: 1,
            no_migrate: false,
            db_max_connections: 10,
            sla_requeue_after_secs: 300,
            relay_poll_ms: 250,
            shutdown_grace_secs: 20,
            job_max_attempts: 5,
            job_retry_base_ms: 1000,
            sla_secs: 86_400,
            relay_publish_copies: 1,
            log_format: LogFormat::Text,
            log: "info".into(),
            deleghe_required: true,
            rate_limit_per_minute: 600,
            rate_limit_burst: 60,
            max_concurrent_uploads: 4,
            upload_idle_timeout_secs: 30,
            upload_timeout_secs: 900,
            max_connections: 1024,
            header_read_timeout_secs: 20,
            orphan_min_age_secs: 3600,
            max_gzip_ratio: 100,
            data_presentazione: None,
            console_session_minutes: 480,
            retention_eliminate_days: 30,
            // The legal retention period is the data controller's decision: off until set.
            retention_days: 0,
        }
    }
}

impl Settings {
    pub fn database_url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", self.data_dir.join("cigo.db").display()))
    }

    pub fn blob_url(&self) -> String {
        self.blob_url
            .clone()
            .unwrap_or_else(|| self.data_dir.join("blobs").display().to_string())
    }

    pub fn spool_dir(&self) -> PathBuf {
        self.spool_dir
            .clone()
            .unwrap_or_else(|| self.data_dir.join("spool"))
    }

    pub fn queue_url(&self) -> String {
        self.amqp_url
            .clone()
            .unwrap_or_else(|| "memory:".to_string())
    }

    /// The settings of a run: the defaults, then the TOML file `file`, then `layers` (what the
    /// command line and the environment gave, see [`layer`]), each key of a layer replacing the
    /// one below.
    pub fn load(file: Option<&Path>, layers: &[toml::Table]) -> Result<Settings, ConfigError> {
        let mut table = to_table(&Settings::default());
        if let Some(path) = file {
            let text = std::fs::read_to_string(path)
                .map_err(|e| ConfigError::File { path: path.to_path_buf(), message: e.to_string() })?;
            let keys = parse_file(&text).map_err(|(key, message)| ConfigError::Key {
                path: path.to_path_buf(),
                key,
                message,
            })?;
            table.extend(keys);
        }
        for layer in layers {
            table.extend(layer.clone());
        }
        Settings::deserialize(toml::Value::Table(table)).map_err(|e| ConfigError::Flags(e.message().to_string()))
    }

    /// The default value of every setting that has one, as text (shown by `--help`).
    pub fn default_values() -> Vec<(String, String)> {
        to_table(&Settings::default())
            .into_iter()
            .map(|(key, value)| {
                let text = match value {
                    toml::Value::String(s) => s,
                    other => other.to_string(),
                };
                (key, text)
            })
            .collect()
    }
}

/// A configuration that cannot be used; names the file and the key.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("config file {}: {message}", path.display())]
    File { path: PathBuf, message: String },
    #[error("config file {}: key `{key}`: {message}", path.display())]
    Key { path: PathBuf, key: String, message: String },
    /// Cannot happen with the typed flag groups; kept so that a bug says so instead of panicking.
    #[error("settings from the command line and environment: {0}")]
    Flags(String),
}

/// The keys of a TOML config file, checked one by one (so that an error names its key):
/// `-` in a key stands for `_`; a key that is not a setting, or a value that does not fit it,
/// is `Err((key, why))`.
fn parse_file(text: &str) -> Result<toml::Table, (String, String)> {
    let file: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| (String::new(), format!("invalid TOML: {}", e.message())))?;
    let mut out = toml::Table::new();
    for (key, value) in file {
        let key = key.replace('-', "_");
        let one = toml::Table::from_iter([(key.clone(), value.clone())]);
        Settings::deserialize(toml::Value::Table(one)).map_err(|e| (key.clone(), e.message().to_string()))?;
        out.insert(key, value);
    }
    Ok(out)
}

fn to_table<T: Serialize>(value: &T) -> toml::Table {
    toml::Table::try_from(value).expect("settings serialize to a TOML table")
}

/// The keys of `args` (a flag group) that `given` holds, as a layer for [`Settings::load`]:
/// `given` are the settings the command line or the environment set (clap also fills in the
/// defaults shown by `--help`, which must not hide the config file).
pub fn layer<T: Serialize>(args: &T, given: &BTreeSet<String>) -> toml::Table {
    to_table(args)
        .into_iter()
        .filter(|(key, _)| given.contains(key))
        .collect()
}

/// Where the settings of this run come from, besides the flag groups of its command.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    /// `--config FILE` / `CIGO_CONFIG`.
    pub file: Option<PathBuf>,
    /// The settings set on the command line or in the environment.
    pub given: BTreeSet<String>,
}

impl Sources {
    /// The settings: defaults, the file, then the flag groups `groups` of the command.
    pub fn settings(&self, groups: &[toml::Table]) -> anyhow::Result<Settings> {
        Ok(Settings::load(self.file.as_deref(), groups)?)
    }

    pub fn layer<T: Serialize>(&self, args: &T) -> toml::Table {
        layer(args, &self.given)
    }
}

mod log_format {
    use cigo_telemetry::LogFormat;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(format: &LogFormat, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(format.as_str())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<LogFormat, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }

    pub fn serialize_some<S: Serializer>(format: &Option<LogFormat>, s: S) -> Result<S::Ok, S::Error> {
        match format {
            Some(f) => serialize(f, s),
            None => s.serialize_none(),
        }
    }
}

// --- The flag groups ------------------------------------------------------------------------------
// Help texts are the documentation of each setting; `--help` adds its default and its variable.

/// Where the data lives: every command that opens the database.
#[derive(Debug, Clone, Default, Args, Serialize)]
pub struct StoreArgs {
    /// Where the embedded mode keeps its SQLite database, blobs and spool files.
    #[arg(long, global = true, env = "CIGO_DATA_DIR")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,

    /// `postgres://…` for production; default: `sqlite://<data-dir>/cigo.db` (embedded).
    #[arg(long, global = true, env = "CIGO_DATABASE_URL")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
}

/// The queue: the server commands and `cigo admin dlq`.
#[derive(Debug, Clone, Default, Args, Serialize)]
pub struct QueueArgs {
    /// `amqp://…` for RabbitMQ; default: the in-process queue (only with `cigo serve`).
    #[arg(long, global = true, env = "CIGO_AMQP_URL")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amqp_url: Option<String>,

    /// Prefix of every queue and exchange name (lets several deployments or tests share a broker).
    #[arg(long, global = true, env = "CIGO_QUEUE_PREFIX")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queue_prefix: Option<String>,
}

/// Logs: the commands that run as services (and `migrate`).
#[derive(Debug, Clone, Default, Args, Serialize)]
pub struct LogArgs {
    /// Log format: `text` or `json`.
    #[arg(long, env = "CIGO_LOG_FORMAT")]
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "log_format::serialize_some")]
    pub log_format: Option<LogFormat>,

    /// Log filter in `RUST_LOG` syntax.
    #[arg(long, env = "CIGO_LOG")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log: Option<String>,
}

/// The blob store: the server commands and `cigo admin purga`.
#[derive(Debug, Clone, Default, Args, Serialize)]
pub struct BlobArgs {
    /// Where uploaded files are kept: a directory, `file:///dir`, `s3://bucket/prefix`;
    /// default: `<data-dir>/blobs`.
    #[arg(long, env = "CIGO_BLOB_URL")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blob_url: Option<String>,
}

/// The retention of personal data: the server commands (the reaper's daily run) and
/// `cigo admin purga`.
#[derive(Debug, Clone, Default, Args, Serialize)]
pub struct RetentionArgs {
    /// Days after its elimination an ELIMINATA richiesta is purged (its domande, findings,
    /// attestati and file; the audit trail stays); 0: never.
    #[arg(long, env = "CIGO_RETENTION_ELIMINATE_DAYS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retention_eliminate_days: Option<u32>,

    /// Days after its last change a richiesta in a final state (CONSEGNATA, SCARTATA_IN_INVIO,
    /// ELIMINATA) is purged; 0: never. The period is the data controller's decision.
    #[arg(long, env = "CIGO_RETENTION_DAYS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retention_days: Option<u32>,
}

/// What only a server process (`serve`, `api`, `worker`, `sender`) uses.
#[derive(Debug, Clone, Default, Args, Serialize)]
pub struct ServerArgs {
    /// Directory for uploads in transit (must be local disk); default `<data-dir>/spool`.
    #[arg(long, env = "CIGO_SPOOL_DIR")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spool_dir: Option<PathBuf>,

    /// Address the HTTP API listens on.
    #[arg(long, env = "CIGO_LISTEN")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<String>,

    /// Address of the operations endpoints (`/healthz`, `/readyz`, `/metrics`) of this process,
    /// for the processes without the API (`cigo worker`, `cigo sender`) to be probed and scraped;
    /// off by default (`cigo serve` and `cigo api` have them on `--listen` as well).
    #[arg(long, env = "CIGO_ADMIN_LISTEN")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admin_listen: Option<String>,

    /// Largest accepted upload, in bytes (413 above it).
    #[arg(long, env = "CIGO_MAX_UPLOAD_BYTES")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_upload_bytes: Option<u64>,

    /// Prevalidation jobs processed at once by this process.
    #[arg(long, env = "CIGO_WORKER_CONCURRENCY")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub worker_concurrency: Option<usize>,

    /// Sending jobs processed at once by this process.
    #[arg(long, env = "CIGO_SENDER_CONCURRENCY")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sender_concurrency: Option<usize>,

    /// Do not apply the database migrations at start (`serve` and `api` apply them by default).
    #[arg(long, env = "CIGO_NO_MIGRATE", num_args = 0..=1, default_missing_value = "true",
          value_parser = BoolishValueParser::new())]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_migrate: Option<bool>,

    /// Database connections per process (PostgreSQL).
    #[arg(long, env = "CIGO_DB_MAX_CONNECTIONS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub db_max_connections: Option<u32>,

    /// A richiesta not finished this many seconds after its last change is queued again
    /// (the legal promise is 24 hours; we keep the bound short).
    #[arg(long, env = "CIGO_SLA_REQUEUE_AFTER_SECS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sla_requeue_after_secs: Option<u64>,

    /// How often the outbox relay looks for rows written by other processes, in milliseconds.
    #[arg(long, env = "CIGO_RELAY_POLL_MS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub relay_poll_ms: Option<u64>,

    /// Seconds given to in-flight work after SIGTERM / Ctrl-C.
    #[arg(long, env = "CIGO_SHUTDOWN_GRACE_SECS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shutdown_grace_secs: Option<u64>,

    /// Attempts of a job that fails transiently (database, blob store down...) before its
    /// failure is recorded on the richiesta (`errore_elaborazione`, `cigo admin dlq`).
    #[arg(long, env = "CIGO_JOB_MAX_ATTEMPTS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job_max_attempts: Option<u32>,

    /// Pause before the first retry of a failed job, in milliseconds; doubled at every attempt
    /// (capped at 60 s).
    #[arg(long, env = "CIGO_JOB_RETRY_BASE_MS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job_retry_base_ms: Option<u64>,

    /// The service level promised for an esito, in seconds (the legal promise: 24 hours); the
    /// gauge `cigo_sla_finished_within_ratio` measures against it.
    #[arg(long, env = "CIGO_SLA_SECS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sla_secs: Option<u64>,

    /// Test only: the outbox relay publishes every message this many times (proves that
    /// consumers are idempotent).
    #[arg(long, env = "CIGO_RELAY_PUBLISH_COPIES", hide = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub relay_publish_copies: Option<u32>,

    /// Reject (ARC-050) each domanda for a matricola the intermediario holds no delega for
    /// (`cigo admin delega …`); a domanda whose azienda is the intermediario itself needs none.
    /// `--deleghe-required false` turns the check off (test and demo deployments only).
    #[arg(long, env = "CIGO_DELEGHE_REQUIRED", value_parser = BoolishValueParser::new())]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deleghe_required: Option<bool>,

    /// Requests per minute allowed to one intermediario (every endpoint; 429 with Retry-After
    /// beyond it). 0 turns the limit off.
    #[arg(long, env = "CIGO_RATE_LIMIT_PER_MINUTE")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate_limit_per_minute: Option<u32>,

    /// Requests one intermediario may make in a burst above the steady rate.
    #[arg(long, env = "CIGO_RATE_LIMIT_BURST")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate_limit_burst: Option<u32>,

    /// Uploads one intermediario may have in flight at once (429 with Retry-After beyond it).
    #[arg(long, env = "CIGO_MAX_CONCURRENT_UPLOADS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_concurrent_uploads: Option<usize>,

    /// Seconds an upload may stay without sending a byte (408 `request_timeout` after it).
    #[arg(long, env = "CIGO_UPLOAD_IDLE_TIMEOUT_SECS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upload_idle_timeout_secs: Option<u64>,

    /// Seconds an upload body may take in all (408 `request_timeout` after it).
    #[arg(long, env = "CIGO_UPLOAD_TIMEOUT_SECS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upload_timeout_secs: Option<u64>,

    /// HTTP connections served at once per port; past it new connections wait to be accepted.
    #[arg(long, env = "CIGO_MAX_CONNECTIONS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_connections: Option<usize>,

    /// Seconds a connection may take to send a request's line and headers, and may stay idle
    /// between the requests of a keep-alive connection; it is closed after them.
    #[arg(long, env = "CIGO_HEADER_READ_TIMEOUT_SECS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub header_read_timeout_secs: Option<u64>,

    /// Age in seconds past which a blob no richiesta holds, or a spool file no upload is
    /// receiving, is removed by the sweep (at start and every hour). Keep it above
    /// --upload-timeout-secs.
    #[arg(long, env = "CIGO_ORPHAN_MIN_AGE_SECS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub orphan_min_age_secs: Option<u64>,

    /// Largest expansion ratio of a `Content-Encoding: gzip` upload (413 `gzip_bomb` beyond it;
    /// the expanded size is bounded by --max-upload-bytes as well).
    #[arg(long, env = "CIGO_MAX_GZIP_RATIO")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_gzip_ratio: Option<u64>,

    /// Tests and replays only: judge the filing deadline (COE-055, COE-057) and the workers'
    /// seniority at this date (YYYY-MM-DD) instead of the legal one, which is the day in Rome of
    /// the prevalidation, then of the attestato di trasmissione at sending.
    #[arg(long, env = "CIGO_DATA_PRESENTAZIONE", hide = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_presentazione: Option<chrono::NaiveDate>,
    /// How long a session of the web console lasts from sign-in, in minutes (default 480).
    #[arg(long, env = "CIGO_CONSOLE_SESSION_MINUTES")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub console_session_minutes: Option<u32>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn given(keys: &[&str]) -> BTreeSet<String> {
        keys.iter().map(|k| k.to_string()).collect()
    }

    fn file(text: &str) -> (tempfile::NamedTempFile, PathBuf) {
        let f = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(f.path(), text).unwrap();
        let path = f.path().to_path_buf();
        (f, path)
    }

    #[test]
    fn the_example_configuration_parses() {
        let text = include_str!("../../../deploy/cigo.example.toml");
        let keys = parse_file(text).unwrap();
        assert!(keys.contains_key("database_url"));
        let (_f, path) = file(text);
        let s = Settings::load(Some(&path), &[]).unwrap();
        assert_eq!(s.database_url.as_deref(), Some("postgres://cigo@db.internal:5432/cigo"));
        assert_eq!(s.log_format, LogFormat::Json);
        assert_eq!(s.listen, "0.0.0.0:8080");
        assert_eq!((s.retention_eliminate_days, s.retention_days), (30, 3653));
    }

    #[test]
    fn file_keys_with_dashes_or_underscores_replace_the_defaults() {
        let (_f, path) = file("database-url = \"postgres://x\"\nworker_concurrency = 4\nno_migrate = true\n");
        let s = Settings::load(Some(&path), &[]).unwrap();
        assert_eq!(
            s,
            Settings {
                database_url: Some("postgres://x".into()),
                worker_concurrency: 4,
                no_migrate: true,
                ..Default::default()
            }
        );
    }

    #[test]
    fn flags_and_environment_win_over_the_file_defaults_do_not() {
        let (_f, path) = file("worker_concurrency = 4\nlisten = \"0.0.0.0:1\"\n");
        let flags =
            ServerArgs { worker_concurrency: Some(7), listen: Some("127.0.0.1:8080".into()), ..Default::default() };
        // `listen` carries clap's default (not given): the file's value stays.
        let s = Settings::load(Some(&path), &[layer(&flags, &given(&["worker_concurrency"]))]).unwrap();
        assert_eq!(s.worker_concurrency, 7);
        assert_eq!(s.listen, "0.0.0.0:1");
    }

    #[test]
    fn an_unknown_key_is_an_error_that_names_it() {
        let (_f, path) = file("database_url = \"postgres://x\"\ndatbase_url = \"postgres://y\"\n");
        let e = Settings::load(Some(&path), &[]).unwrap_err().to_string();
        assert!(e.contains("`datbase_url`") && e.contains("unknown field"), "{e}");
        assert!(!e.contains('\n'), "one line: {e}");
    }

    #[test]
    fn a_value_that_does_not_fit_is_an_error_that_names_the_key() {
        let (_f, path) = file("log_format = \"yaml\"\n");
        let e = Settings::load(Some(&path), &[]).unwrap_err().to_string();
        assert!(e.contains("`log_format`") && e.contains("yaml"), "{e}");
        let (_f, path) = file("worker_concurrency = \"four\"\n");
        let e = Settings::load(Some(&path), &[]).unwrap_err().to_string();
        assert!(e.contains("`worker_concurrency`"), "{e}");
        let (_f, path) = file("[x]\na = 1\n");
        assert!(Settings::load(Some(&path), &[]).is_err());
    }

    #[test]
    fn defaults_are_shown_as_text() {
        let defaults = Settings::default_values();
        assert!(defaults.contains(&("listen".to_string(), "127.0.0.1:8080".to_string())));
        assert!(defaults.contains(&("log_format".to_string(), "text".to_string())));
        assert!(defaults.contains(&("deleghe_required".to_string(), "true".to_string())));
    }
}
