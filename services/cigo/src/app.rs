//! The parts a process is made of, opened from the settings.

use crate::config::Settings;
use anyhow::Context;
use cigo_blob::BlobStore;
use cigo_queue::Queue;
use cigo_store::Store;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;
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
    /// Opens the database (applying migrations when `migrate`), the queue and the blob store.
    pub async fn open(settings: Settings, migrate: bool) -> anyhow::Result<App> {
        let embedded = settings.database_url.is_none();
        if embedded {
            std::fs::create_dir_all(&settings.data_dir)
                .with_context(|| format!("cannot create data dir {}", settings.data_dir.display()))?;
        }
        let store = cigo_store::connect(&settings.database_url(), settings.db_max_connections)
            .await
            .context("cannot open the database")?;
        if migrate {
            store
                .migrate()
                .await
                .context("cannot apply the migrations")?;
        }
        let queue = connect_queue(&settings).await?;
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
}

/// Connects to the queue, retrying for a while: at boot the broker may still be starting.
async fn connect_queue(settings: &Settings) -> anyhow::Result<Arc<dyn Queue>> {
    let url = settings.queue_url();
    let mut delay = Duration::from_millis(200);
    let mut attempt = 0;
    loop {
        match cigo_queue::connect(&url, &settings.queue_prefix).await {
            Ok(q) => return Ok(q),
            Err(e) if attempt < 8 => {
                tracing::warn!(error = %e, ?delay, "queue not reachable yet, retrying");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
                attempt += 1;
            }
            Err(e) => return Err(e).context("cannot connect to the queue"),
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
