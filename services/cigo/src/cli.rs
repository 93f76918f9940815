//! The command line of `cigo`.

use crate::app::{cancel_on_signal, App};
use crate::config::{apply_config_file, Settings};
use anyhow::Context;
use cigo_domain::{JobKind, Ruolo};
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Debug, Parser)]
#[command(name = "cigo", version, about = "Bulk upload, prevalidation and sending of CIGO domande")]
pub struct Cli {
    /// A TOML file with the same keys as the flags (`database_url = "…"`); also `CIGO_CONFIG`.
    #[arg(long, global = true, env = "CIGO_CONFIG")]
    pub config: Option<PathBuf>,

    #[command(flatten)]
    pub settings: Settings,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Embedded mode: API, prevalidation workers and sender in one process, SQLite database,
    /// blobs under --data-dir, in-process queue (or RabbitMQ / PostgreSQL when given).
    Serve,
    /// The HTTP API alone (production; several may run at once).
    Api,
    /// Prevalidation workers alone (production; several may run at once).
    Worker,
    /// The sender alone (production; several may run at once).
    Sender,
    /// Applies the database migrations and exits.
    Migrate,
    /// Administration.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// The archive the layer-5 rules check against: imports from earlier records.
    Archivio {
        #[command(subcommand)]
        command: crate::archivio::ArchivioCommand,
    },
    /// Writes a realistic synthetic richiesta (deterministic for a seed).
    Generate {
        /// Number of domande.
        #[arg(long)]
        domande: usize,
        /// Share of domande that break at least one rule (0.0 to 1.0).
        #[arg(long, default_value_t = 0.0)]
        invalid_ratio: f64,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Output file (`-` for stdout).
        #[arg(long)]
        out: PathBuf,
        /// Also write a deleghe CSV (for `cigo admin delega import`) giving this intermediario
        /// (codice fiscale) a delega for every well-formed matricola of the file.
        #[arg(long, requires = "deleghe_out")]
        deleghe_per: Option<String>,
        /// Where to write that CSV.
        #[arg(long, requires = "deleghe_per")]
        deleghe_out: Option<PathBuf>,
    },
    /// Runs the server's prevalidation rules on a file, offline. Exit code 0: every domanda valid
    /// (warnings allowed); 1: some domanda rejected; 2: the file is rejected as a whole.
    ///
    /// Without a database, the layers 1-4 (what needs no archive). With `--database-url` also the
    /// archive rules (layer 5) against that database, and with `--intermediario` the deleghe as
    /// the server checks them: the same verdict the server would give on upload.
    Validate {
        file: PathBuf,
        /// `text` (for people) or `json` (the API's shape).
        #[arg(long, value_enum, default_value = "text")]
        format: OutputFormat,
        /// Codice fiscale of the intermediario that would upload the file: checks its deleghe
        /// (needs --database-url).
        #[arg(long, requires = "database_url")]
        intermediario: Option<String>,
    },
    /// Prints the rule catalogue (code, layer, severity, description, legal basis).
    Regole {
        #[arg(long, value_enum, default_value = "markdown")]
        format: OutputFormat,
    },
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum OutputFormat {
    Text,
    Json,
    Markdown,
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Deleghe: the matricole an intermediario may file domande for.
    Delega {
        #[command(subcommand)]
        command: crate::admin::DelegaCommand,
    },
    /// The dead-letter queue: jobs that failed for good (RabbitMQ only).
    Dlq {
        #[command(subcommand)]
        command: crate::dlq::DlqCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Creates a token and prints it, alone, on stdout (it is shown only once: only its hash is kept).
    Create {
        /// Codice fiscale of the intermediario the token acts for.
        #[arg(long)]
        intermediario: String,
        /// A note to recognise the token by.
        #[arg(long)]
        nome: Option<String>,
        /// intermediario (default), operatore or admin.
        #[arg(long, default_value = "intermediario")]
        ruolo: String,
        /// Days of validity (default: no expiry).
        #[arg(long)]
        giorni: Option<i64>,
    },
    /// Lists the tokens (id, intermediario, ruolo, dates, state); never a secret.
    List {
        /// Only the tokens of this intermediario.
        #[arg(long)]
        intermediario: Option<String>,
    },
    /// Revokes a token at once (by the id shown by `list`).
    Revoke {
        #[arg(long)]
        id: i64,
    },
}

pub fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    // Before any thread exists: the config file becomes environment variables clap reads.
    if let Err(e) = apply_config_file(&args) {
        eprintln!("error: {e}");
        return ExitCode::from(2);
    }
    let cli = Cli::parse_from(args);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let settings = cli.settings;
    match cli.command {
        Command::Generate { domande, invalid_ratio, seed, out, deleghe_per, deleghe_out } => {
            generate(domande, invalid_ratio, seed, &out)?;
            if let (Some(cf), Some(csv)) = (deleghe_per, deleghe_out) {
                write_deleghe_csv(domande, invalid_ratio, seed, cf.trim(), &csv)?;
            }
            return Ok(ExitCode::SUCCESS);
        }
        Command::Validate { file, format, intermediario } => {
            return crate::offline::validate(&settings, &file, format, intermediario.as_deref()).await
        }
        Command::Archivio { command } => return crate::archivio::run(&settings, command).await,
        Command::Regole { format } => {
            print!("{}", crate::offline::regole(format));
            return Ok(ExitCode::SUCCESS);
        }
        Command::Migrate => {
            let _telemetry = init_telemetry(&settings, "cigo-migrate");
            let app = App::open(settings, true).await?;
            tracing::info!(backend = app.store.backend(), "migrations applied");
            return Ok(ExitCode::SUCCESS);
        }
        Command::Admin { command: AdminCommand::Dlq { command } } => {
            return crate::dlq::run(&settings, command).await;
        }
        Command::Admin { command: AdminCommand::Delega { command } } => {
            return crate::admin::delega(&settings, command).await;
        }
        Command::Admin { command: AdminCommand::Token { command } } => {
            let (intermediario, nome, ruolo, giorni) = match command {
                TokenCommand::Create { intermediario, nome, ruolo, giorni } => (intermediario, nome, ruolo, giorni),
                other => return crate::admin::token(&settings, other).await,
            };
            let ruolo: Ruolo = ruolo.parse().map_err(|e| anyhow::anyhow!("--ruolo: {e}"))?;
            let store = cigo_store::connect(&settings.database_url(), 1).await?;
            ensure_data_dir(&settings)?;
            store.migrate().await?;
            let token = crate::api::auth::new_token();
            let expires = giorni.map(|d| chrono::Utc::now() + chrono::Duration::days(d));
            store
                .create_token(
                    &crate::api::auth::hash_token(&token),
                    intermediario.trim(),
                    nome.as_deref(),
                    ruolo,
                    expires,
                )
                .await?;
            println!("{token}");
            return Ok(ExitCode::SUCCESS);
        }
        _ => {}
    }

    let (service, migrate) = match cli.command {
        Command::Serve => ("cigo", !settings.no_migrate),
        Command::Api => ("cigo-api", !settings.no_migrate),
        Command::Worker => ("cigo-worker", false),
        Command::Sender => ("cigo-sender", false),
        _ => unreachable!("handled above"),
    };
    let _telemetry = init_telemetry(&settings, service);
    if matches!(cli.command, Command::Api | Command::Worker | Command::Sender) && settings.amqp_url.is_none() {
        anyhow::bail!("`cigo {}` runs as a separate process and needs --amqp-url (the in-process queue works only with `cigo serve`)", &service[5..]);
    }
    let app = App::open(settings, migrate).await?;
    crate::telemetry::prometheus();
    cancel_on_signal(app.shutdown.clone());
    tracing::info!(database = app.store.backend(), queue = app.queue.backend(), "{service} starting");

    let mut tasks = tokio::task::JoinSet::new();
    tasks.spawn(crate::relay::run(app.clone()));
    match cli.command {
        Command::Serve => {
            // The in-process queue lost whatever it held when the process stopped: queue again
            // everything unfinished. (With RabbitMQ this only adds harmless duplicates.)
            let n = app.store.requeue_stale(Duration::ZERO).await?;
            if n > 0 {
                tracing::info!(requeued = n, "unfinished richieste queued again after restart");
            }
            let listener = bind(&app.settings.listen).await?;
            tasks.spawn(serve_api(app.clone(), listener));
            tasks.spawn(crate::jobs::run(app.clone(), JobKind::Prevalidazione, app.settings.worker_concurrency));
            tasks.spawn(crate::jobs::run(app.clone(), JobKind::Invio, app.settings.sender_concurrency));
            tasks.spawn(crate::relay::run_reaper(app.clone()));
        }
        Command::Api => {
            let listener = bind(&app.settings.listen).await?;
            tasks.spawn(serve_api(app.clone(), listener));
            tasks.spawn(crate::relay::run_sla_gauges(app.clone()));
        }
        Command::Worker => {
            tasks.spawn(crate::jobs::run(app.clone(), JobKind::Prevalidazione, app.settings.worker_concurrency));
            tasks.spawn(crate::relay::run_reaper(app.clone()));
        }
        Command::Sender => {
            tasks.spawn(crate::jobs::run(app.clone(), JobKind::Invio, app.settings.sender_concurrency));
        }
        _ => unreachable!(),
    }

    app.shutdown.cancelled().await;
    let grace = Duration::from_secs(app.settings.shutdown_grace_secs);
    if tokio::time::timeout(grace, async { while tasks.join_next().await.is_some() {} })
        .await
        .is_err()
    {
        tracing::warn!(?grace, "grace period over, stopping with work in flight (it will be redelivered)");
    }
    tracing::info!("{service} stopped");
    Ok(ExitCode::SUCCESS)
}

async fn bind(addr: &str) -> anyhow::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))
}

async fn serve_api(app: App, listener: tokio::net::TcpListener) {
    let addr = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    tracing::info!(%addr, "API listening on http://{addr}/api/v1");
    let shutdown = app.shutdown.clone();
    let router = crate::api::router(app);
    if let Err(e) = axum::serve(listener, router)
        .with_graceful_shutdown(async move { shutdown.cancelled().await })
        .await
    {
        tracing::error!(error = %e, "API server failed");
    }
}

pub(crate) fn ensure_data_dir(settings: &Settings) -> anyhow::Result<()> {
    if settings.database_url.is_none() {
        std::fs::create_dir_all(&settings.data_dir)?;
    }
    Ok(())
}

fn init_telemetry(settings: &Settings, service: &str) -> Option<cigo_telemetry::TelemetryGuard> {
    let log_format = settings
        .log_format
        .parse()
        .unwrap_or(cigo_telemetry::LogFormat::Text);
    let cfg = cigo_telemetry::TelemetryConfig {
        service_name: service.to_string(),
        log_format,
        log_filter: settings.log.clone(),
    };
    match cigo_telemetry::init(&cfg) {
        Ok(g) => Some(g),
        Err(e) => {
            eprintln!("warning: telemetry not initialised: {e}");
            None
        }
    }
}

/// The deleghe an intermediario needs to file a generated richiesta: one line per distinct
/// well-formed matricola (the generator is deterministic, so it is generated again in memory).
fn write_deleghe_csv(domande: usize, invalid_ratio: f64, seed: u64, cf: &str, csv: &PathBuf) -> anyhow::Result<()> {
    let opts = cigo_domain::generate::GenerateOptions { domande, invalid_ratio, seed };
    let mut xml = Vec::new();
    cigo_domain::generate::generate(&opts, &mut xml)?;
    let esito = cigo_domain::validate::prevalidate(&xml[..], &cigo_domain::validate::Limits::default());
    let mut matricole: Vec<String> = esito
        .domande
        .into_iter()
        .filter_map(|d| d.matricola)
        .filter(|m| m.len() == 10 && m.bytes().all(|b| b.is_ascii_digit()))
        .collect();
    matricole.sort();
    matricole.dedup();
    let mut text = String::from("intermediario,matricola\n");
    for m in &matricole {
        text.push_str(&format!("{cf},{m}\n"));
    }
    std::fs::write(csv, text).with_context(|| format!("cannot write {}", csv.display()))?;
    eprintln!("{} deleghe for {cf} written to {}", matricole.len(), csv.display());
    Ok(())
}

fn generate(domande: usize, invalid_ratio: f64, seed: u64, out: &PathBuf) -> anyhow::Result<()> {
    use std::io::Write;
    anyhow::ensure!((0.0..=1.0).contains(&invalid_ratio), "--invalid-ratio must be between 0 and 1");
    let opts = cigo_domain::generate::GenerateOptions { domande, invalid_ratio, seed };
    let summary = if out.as_os_str() == "-" {
        let stdout = std::io::stdout();
        let mut w = std::io::BufWriter::new(stdout.lock());
        let s = cigo_domain::generate::generate(&opts, &mut w)?;
        w.flush()?;
        s
    } else {
        let file = std::fs::File::create(out).with_context(|| format!("cannot create {}", out.display()))?;
        let mut w = std::io::BufWriter::new(file);
        let s = cigo_domain::generate::generate(&opts, &mut w)?;
        w.flush()?;
        s
    };
    let invalid = summary.iter().filter(|d| d.expected_code.is_some()).count();
    eprintln!(
        "{} domande written to {} ({} valid, {} breaking a rule)",
        summary.len(),
        out.display(),
        summary.len() - invalid,
        invalid
    );
    Ok(())
}
