//! The parts a process is made of, opened from the settings.

use crate::config::Settings;
use anyhow::Context;
use chrono::NaiveDate;
use cigo_blob::BlobStore;
use cigo_domain::validate::{prevalidate, Limits};
use cigo_queue::{Queue, QueueError};
use cigo_store::Store;
use std::io::BufReader;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;
use tokio_util::io::{StreamReader, SyncIoBridge};
use tokio_util::sync::CancellationToken;

/// Shared by every task of a process.
#[derive(Clone)]
pub struct App {
    pub settings: Arc<Settings>,
    pub store: Arc<dyn Store>,
    pub queue: Arc<dyn Queue>,
    pub blob: Arc<dyn BlobStore>,
    /// Wakes the outbox relay of this process as soon as it wrote an outbox row.
    pub outbox_written: Arc<Notify>,
    /// Cancelled on SIGTERM / Ctrl-C: every loop stops taking new work.
    pub shutdown: CancellationToken,
}

impl App {
    /// Opens the database (applying migrations when `migrate`), the queue and the blob store,
    /// waiting for a broker that is still starting.
    pub async fn open(settings: Settings, migrate: bool) -> anyhow::Result<App> {
        App::open_with(settings, migrate, BrokerAtStart::Wait).await
    }

    /// [`App::open`], with what to do when the broker is unreachable at start.
    pub async fn open_with(settings: Settings, migrate: bool, broker: BrokerAtStart) -> anyhow::Result<App> {
        let store = connect_store(&settings, settings.db_max_connections).await?;
        if migrate {
            store
                .migrate()
                .await
                .context("cannot apply the migrations")?;
        }
        let queue = match broker {
            BrokerAtStart::Wait => connect_queue(&settings).await?,
            BrokerAtStart::GoOn => connect_queue_or_go_on(&settings).await?,
        };
        let blob = cigo_blob::open(&settings.blob_url()).context("cannot open the blob store")?;
        std::fs::create_dir_all(settings.spool_dir())
            .with_context(|| format!("cannot create spool dir {}", settings.spool_dir().display()))?;
        Ok(App {
            settings: Arc::new(settings),
            store,
            queue,
            blob,
            outbox_written: Arc::new(Notify::new()),
            shutdown: CancellationToken::new(),
        })
    }

    /// Waits `delay`, or less if shutdown is requested meanwhile; `false` when it was.
    pub async fn pause(&self, delay: Duration) -> bool {
        tokio::select! {
            _ = self.shutdown.cancelled() => false,
            _ = tokio::time::sleep(delay) => true,
        }
    }
}

/// The database of `settings` with its migrations applied: how the admin commands (and
/// `cigo migrate`) open it. The embedded mode's data directory is created first.
pub async fn open_store(settings: &Settings, max_connections: u32) -> anyhow::Result<Arc<dyn Store>> {
    let store = connect_store(settings, max_connections).await?;
    store
        .migrate()
        .await
        .context("cannot apply the migrations")?;
    Ok(store)
}

async fn connect_store(settings: &Settings, max_connections: u32) -> anyhow::Result<Arc<dyn Store>> {
    if settings.database_url.is_none() {
        std::fs::create_dir_all(&settings.data_dir)
            .with_context(|| format!("cannot create data dir {}", settings.data_dir.display()))?;
    }
    cigo_store::connect(&settings.database_url(), max_connections)
        .await
        .context("cannot open the database")
}

/// The prevalidation (layers 1-4) of a stored file, streamed from the blob store through the
/// domain's parser on a blocking thread (it is CPU work), with the deadline and the seniority
/// judged at `data_presentazione` when given. An error means that thread crashed.
pub async fn prevalidate_blob(
    stream: cigo_blob::ByteStream,
    data_presentazione: Option<NaiveDate>,
) -> Result<cigo_domain::EsitoPrevalidazione, tokio::task::JoinError> {
    // The bridge blocks on the runtime from the blocking thread: it must be made here, inside it.
    let bridge = SyncIoBridge::new(StreamReader::new(stream));
    let limits = Limits { data_presentazione, ..Limits::default() };
    tokio::task::spawn_blocking(move || prevalidate(BufReader::with_capacity(64 * 1024, bridge), &limits)).await
}

/// The filing date a domanda gets if sent when `at` (D.Lgs. 148/2015 art. 15: the day of the
/// sending, Europe/Rome): at prevalidation, "now", the day it would be sent if approved at once;
/// at sending, the moment of the approval (the attestato di trasmissione). The setting
/// `data_presentazione` fixes it, for tests and replays.
pub fn data_presentazione(settings: &Settings, at: chrono::DateTime<chrono::Utc>) -> NaiveDate {
    settings
        .data_presentazione
        .unwrap_or_else(|| cigo_domain::attestato::ora_di_roma(at).date_naive())
}

/// What a process does when the broker is unreachable at start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BrokerAtStart {
    /// Retry for a while, then fail: the process has nothing to do without it (worker, sender).
    Wait,
    /// Start anyway and connect when it is back: the API accepts uploads into the outbox
    /// meanwhile, and `/readyz` reports the broker down.
    GoOn,
}

/// Connects to the queue, retrying for a while (about 20 s) while the broker is unreachable (at
/// boot it may still be starting); a broker that refuses the login fails at once.
pub async fn connect_queue(settings: &Settings) -> anyhow::Result<Arc<dyn Queue>> {
    use cigo_retry::Retryable;
    let url = settings.queue_url();
    let policy = cigo_retry::exponential(Duration::from_millis(200), Duration::from_secs(5)).with_max_times(8);
    (|| cigo_queue::connect(&url, &settings.queue_prefix))
        .retry(policy)
        .when(|e| matches!(e, QueueError::Connection(_)))
        .notify(|e, delay| tracing::warn!(error = %e, ?delay, "queue not reachable yet, retrying"))
        .await
        .map_err(queue_error)
}

/// The queue, connected if the broker answers within a few seconds, else deferred (it
/// connects on first use). A broker that refuses the login fails at once.
async fn connect_queue_or_go_on(settings: &Settings) -> anyhow::Result<Arc<dyn Queue>> {
    let queue = cigo_queue::deferred(&settings.queue_url(), &settings.queue_prefix).map_err(queue_error)?;
    match tokio::time::timeout(Duration::from_secs(3), queue.ping()).await {
        Ok(Ok(())) => {}
        Ok(Err(e @ QueueError::Refused(_))) => return Err(queue_error(e)),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "broker unreachable: uploads go on into the outbox and are published when it is back")
        }
        Err(_) => {
            tracing::warn!("broker not answering: uploads go on into the outbox and are published when it is back")
        }
    }
    Ok(queue)
}

fn queue_error(e: QueueError) -> anyhow::Error {
    anyhow::Error::new(e).context("cannot connect to the queue (--amqp-url, CIGO_AMQP_URL)")
}

/// Logs (and traces, when `OTEL_EXPORTER_OTLP_ENDPOINT` is set) of a process named `service`.
pub fn init_telemetry(settings: &Settings, service: &str) -> Option<cigo_telemetry::TelemetryGuard> {
    let cfg = cigo_telemetry::TelemetryConfig {
        service_name: service.to_string(),
        log_format: settings.log_format,
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

/// Cancels `token` on SIGTERM or Ctrl-C.
pub fn cancel_on_signal(token: CancellationToken) {
    tokio::spawn(async move {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        {
            let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                .expect("cannot install the SIGTERM handler");
            tokio::select! {
                _ = ctrl_c => {},
                _ = term.recv() => {},
            }
        }
        #[cfg(not(unix))]
        let _ = ctrl_c.await;
        tracing::info!("shutdown requested: no new work is taken");
        token.cancel();
    });
}
