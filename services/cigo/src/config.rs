//! Configuration: defaults < config file < environment < flags.
//!
//! Every flag has an environment variable `CIGO_<FLAG>` (`--database-url` is
//! `CIGO_DATABASE_URL`). A TOML config file (`--config FILE` or `CIGO_CONFIG`) may set the same
//! keys (`database_url = "postgres://…"` or `database-url = …`); [`apply_config_file`] turns its
//! keys into environment variables that are not already set, so clap sees the right precedence.
//! The defaults run the embedded mode.

use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Clone, Args)]
pub struct Settings {
    /// Where the embedded mode keeps its SQLite database, blobs and spool files.
    #[arg(long, global = true, env = "CIGO_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,

    /// `postgres://…` for production; default: `sqlite://<data-dir>/cigo.db` (embedded).
    #[arg(long, global = true, env = "CIGO_DATABASE_URL")]
    pub database_url: Option<String>,

    /// `amqp://…` for RabbitMQ; default: the in-process queue (only with `cigo serve`).
    #[arg(long, global = true, env = "CIGO_AMQP_URL")]
    pub amqp_url: Option<String>,

    /// Prefix of every queue and exchange name (lets several deployments or tests share a broker).
    #[arg(long, global = true, env = "CIGO_QUEUE_PREFIX", default_value = "")]
    pub queue_prefix: String,

    /// Where uploaded files are kept: a directory, `file:///dir`, `s3://bucket/prefix`;
    /// default: `<data-dir>/blobs`.
    #[arg(long, global = true, env = "CIGO_BLOB_URL")]
    pub blob_url: Option<String>,

    /// Directory for uploads in transit (must be local disk); default `<data-dir>/spool`.
    #[arg(long, global = true, env = "CIGO_SPOOL_DIR")]
    pub spool_dir: Option<PathBuf>,

    /// Address the HTTP API listens on.
    #[arg(long, global = true, env = "CIGO_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: String,

    /// Largest accepted upload, in bytes (413 above it).
    #[arg(long, global = true, env = "CIGO_MAX_UPLOAD_BYTES", default_value_t = 200 * 1024 * 1024)]
    pub max_upload_bytes: u64,

    /// Prevalidation jobs processed at once by this process.
    #[arg(long, global = true, env = "CIGO_WORKER_CONCURRENCY", default_value_t = 2)]
    pub worker_concurrency: usize,

    /// Sending jobs processed at once by this process.
    #[arg(long, global = true, env = "CIGO_SENDER_CONCURRENCY", default_value_t = 1)]
    pub sender_concurrency: usize,

    /// Do not apply the database migrations at start (`serve` and `api` apply them by default).
    #[arg(long, global = true, env = "CIGO_NO_MIGRATE")]
    pub no_migrate: bool,

    /// Database connections per process (PostgreSQL).
    #[arg(long, global = true, env = "CIGO_DB_MAX_CONNECTIONS", default_value_t = 10)]
    pub db_max_connections: u32,

    /// A richiesta not finished this many seconds after its last change is queued again
    /// (the legal promise is 24 hours; we keep the bound short).
    #[arg(long, global = true, env = "CIGO_SLA_REQUEUE_AFTER_SECS", default_value_t = 300)]
    pub sla_requeue_after_secs: u64,

    /// How often the outbox relay looks for rows written by other processes, in milliseconds.
    #[arg(long, global = true, env = "CIGO_RELAY_POLL_MS", default_value_t = 250)]
    pub relay_poll_ms: u64,

    /// Seconds given to in-flight work after SIGTERM / Ctrl-C.
    #[arg(long, global = true, env = "CIGO_SHUTDOWN_GRACE_SECS", default_value_t = 20)]
    pub shutdown_grace_secs: u64,

    // --- Reliability (issue 4) --------------------------------------------------------------------
    /// Attempts of a job that fails transiently (database, blob store down...) before its message
    /// goes to the dead-letter queue and the richiesta shows `errore_elaborazione`.
    #[arg(long, global = true, env = "CIGO_JOB_MAX_ATTEMPTS", default_value_t = 5)]
    pub job_max_attempts: u32,

    /// Pause before the first retry of a failed job, in milliseconds; doubled at every attempt
    /// (capped at 60 s).
    #[arg(long, global = true, env = "CIGO_JOB_RETRY_BASE_MS", default_value_t = 1000)]
    pub job_retry_base_ms: u64,

    /// The service level promised for an esito, in seconds (the legal promise: 24 hours); the
    /// gauge `cigo_sla_finished_within_ratio` measures against it.
    #[arg(long, global = true, env = "CIGO_SLA_SECS", default_value_t = 86_400)]
    pub sla_secs: u64,

    /// Test only: the outbox relay publishes every message this many times (proves that
    /// consumers are idempotent).
    #[arg(long, global = true, env = "CIGO_RELAY_PUBLISH_COPIES", default_value_t = 1, hide = true)]
    pub relay_publish_copies: u32,

    /// Log format: `text` or `json`.
    #[arg(long, global = true, env = "CIGO_LOG_FORMAT", default_value = "text")]
    pub log_format: String,

    /// Log filter in `RUST_LOG` syntax.
    #[arg(long, global = true, env = "CIGO_LOG", default_value = "info")]
    pub log: String,

    // --- Access and hostile input (issue 5) -----------------------------------------------------
    /// Reject (ARC-050) each domanda for a matricola the intermediario holds no delega for
    /// (`cigo admin delega …`); a domanda whose azienda is the intermediario itself needs none.
    /// `--deleghe-required false` turns the check off (test and demo deployments only).
    #[arg(long, global = true, env = "CIGO_DELEGHE_REQUIRED", default_value_t = true, action = clap::ArgAction::Set)]
    pub deleghe_required: bool,

    /// Requests per minute allowed to one intermediario (every endpoint; 429 with Retry-After
    /// beyond it). 0 turns the limit off.
    #[arg(long, global = true, env = "CIGO_RATE_LIMIT_PER_MINUTE", default_value_t = 600)]
    pub rate_limit_per_minute: u32,

    /// Requests one intermediario may make in a burst above the steady rate.
    #[arg(long, global = true, env = "CIGO_RATE_LIMIT_BURST", default_value_t = 60)]
    pub rate_limit_burst: u32,

    /// Uploads one intermediario may have in flight at once (429 with Retry-After beyond it).
    #[arg(long, global = true, env = "CIGO_MAX_CONCURRENT_UPLOADS", default_value_t = 4)]
    pub max_concurrent_uploads: usize,

    /// Seconds an upload may stay without sending a byte (408 `request_timeout` after it).
    #[arg(long, global = true, env = "CIGO_UPLOAD_IDLE_TIMEOUT_SECS", default_value_t = 30)]
    pub upload_idle_timeout_secs: u64,

    /// Seconds an upload body may take in all (408 `request_timeout` after it).
    #[arg(long, global = true, env = "CIGO_UPLOAD_TIMEOUT_SECS", default_value_t = 900)]
    pub upload_timeout_secs: u64,

    /// Largest expansion ratio of a `Content-Encoding: gzip` upload (413 `gzip_bomb` beyond it;
    /// the expanded size is bounded by --max-upload-bytes as well).
    #[arg(long, global = true, env = "CIGO_MAX_GZIP_RATIO", default_value_t = 100)]
    pub max_gzip_ratio: u64,
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
}

/// Reads the config file named by `--config FILE` / `--config=FILE` in `args` or by `CIGO_CONFIG`,
/// and exports each of its keys as `CIGO_<KEY>` unless that variable is already set.
/// Must run before any thread is started.
pub fn apply_config_file(args: &[String]) -> Result<Option<PathBuf>, String> {
    let mut path = std::env::var_os("CIGO_CONFIG").map(PathBuf::from);
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        if arg == "--config" {
            path = it.next().map(PathBuf::from);
        } else if let Some(p) = arg.strip_prefix("--config=") {
            path = Some(PathBuf::from(p));
        }
    }
    let Some(path) = path else { return Ok(None) };
    let text =
        std::fs::read_to_string(&path).map_err(|e| format!("cannot read config file {}: {e}", path.display()))?;
    for (name, value) in parse_config(&text).map_err(|e| format!("{}: {e}", path.display()))? {
        if std::env::var_os(&name).is_none() {
            std::env::set_var(name, value);
        }
    }
    Ok(Some(path))
}

/// The `(CIGO_<KEY>, value)` pairs of a TOML config file.
fn parse_config(text: &str) -> Result<Vec<(String, String)>, String> {
    let table: toml::Table = text.parse().map_err(|e| format!("invalid TOML: {e}"))?;
    table
        .into_iter()
        .map(|(key, value)| {
            let name = format!("CIGO_{}", key.to_uppercase().replace('-', "_"));
            let value = match value {
                toml::Value::String(s) => s,
                toml::Value::Integer(i) => i.to_string(),
                toml::Value::Float(f) => f.to_string(),
                toml::Value::Boolean(b) => b.to_string(),
                other => return Err(format!("key {key}: unsupported value {other}")),
            };
            Ok((name, value))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_keys_become_environment_names() {
        let pairs =
            parse_config("database-url = \"postgres://x\"\nworker_concurrency = 4\nno_migrate = true\n").unwrap();
        assert_eq!(
            pairs,
            vec![
                ("CIGO_DATABASE_URL".to_string(), "postgres://x".to_string()),
                ("CIGO_NO_MIGRATE".to_string(), "true".to_string()),
                ("CIGO_WORKER_CONCURRENCY".to_string(), "4".to_string()),
            ]
        );
    }

    #[test]
    fn nested_tables_are_refused() {
        assert!(parse_config("[x]\na = 1\n").is_err());
    }
}
