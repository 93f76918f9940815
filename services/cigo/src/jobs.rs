//! The consumer loop shared by the worker and the sender.
//!
//! Each of `concurrency` tasks holds its own consumer with prefetch 1, so a slow richiesta never
//! holds back messages another task could take. A message is acked only after its result is
//! committed; a transient failure is retried with exponential backoff up to
//! `--job-max-attempts`; when they are spent, or on a permanent failure, the failure is recorded
//! on the richiesta (`errore_elaborazione`, see `Store::set_errore_elaborazione`) and the message
//! rejected to the dead-letter queue (`cigo admin dlq list | replay`). A failure on a full disk is
//! the exception: it is given back to the queue after a pause, again and again until space is
//! freed. On shutdown a task finishes the job in hand and stops; messages it has not acked go back
//! to the queue.

use crate::app::App;
use crate::job::JobError;
use cigo_domain::JobKind;
use cigo_retry::BackoffBuilder;
use std::time::{Duration, Instant};
use tracing::Instrument;

/// How long a job that failed on a full disk waits before it is given back to the queue.
const DISK_FULL_PAUSE: Duration = Duration::from_secs(5);

pub async fn run(app: App, kind: JobKind, concurrency: usize) {
    // Zero is allowed: an instance that only serves the API.
    let tasks: Vec<_> = (0..concurrency)
        .map(|i| tokio::spawn(consume(app.clone(), kind, i)))
        .collect();
    for t in tasks {
        let _ = t.await;
    }
}

async fn consume(app: App, kind: JobKind, index: usize) {
    let policy = cigo_retry::exponential(Duration::from_millis(200), Duration::from_secs(10));
    let mut delays = policy.build();
    while !app.shutdown.is_cancelled() {
        let mut consumer = match app.queue.consumer(kind, 1).await {
            Ok(c) => {
                delays = policy.build();
                c
            }
            Err(e) => {
                let backoff = delays.next().unwrap_or(Duration::from_secs(10));
                tracing::warn!(%kind, index, error = %e, ?backoff, "cannot start consumer, retrying");
                tokio::select! {
                    _ = app.shutdown.cancelled() => return,
                    _ = tokio::time::sleep(backoff) => {},
                }
                continue;
            }
        };
        loop {
            let delivery = tokio::select! {
                _ = app.shutdown.cancelled() => return,
                d = consumer.next() => d,
            };
            let delivery = match delivery {
                Ok(d) => d,
                Err(e) => {
                    tracing::warn!(%kind, index, error = %e, "consumer lost, reconnecting");
                    break;
                }
            };
            let numero = delivery.message.numero_richiesta;
            let span = tracing::info_span!(
                "job",
                %kind,
                numero_richiesta = numero,
                redelivered = delivery.redelivered,
                trace_id = tracing::field::Empty
            );
            cigo_telemetry::set_parent(&span, delivery.message.trace_context.as_deref());
            cigo_telemetry::record_trace_id(&span);
            let started = Instant::now();
            let (result, attempts) = handle_with_retries(&app, kind, numero)
                .instrument(span.clone())
                .await;
            let elapsed = started.elapsed().as_secs_f64();
            let outcome = match result {
                Ok(()) => delivery.ack().await.map(|_| "ok"),
                Err(JobError::Transient(e))
                    if app.shutdown.is_cancelled() && attempts < app.settings.job_max_attempts =>
                {
                    tracing::info!(parent: &span, error = %format!("{e:#}"), "shutting down: job given back to the queue");
                    delivery.nack(true).await.map(|_| "released")
                }
                // A full disk is not the richiesta's fault and passes once space is freed: the job
                // is given back to the queue after a pause instead of dead-lettered (recording the
                // failure would need the disk too), and tried again until it succeeds.
                Err(e) if e.is_disk_full() => {
                    tracing::warn!(parent: &span, error = %e, attempts, pause = ?DISK_FULL_PAUSE, "disk full: job given back to the queue");
                    metrics::counter!("cigo_job_retries_total", "kind" => kind.as_str()).increment(1);
                    tokio::select! {
                        _ = app.shutdown.cancelled() => {},
                        _ = tokio::time::sleep(DISK_FULL_PAUSE) => {},
                    }
                    delivery.nack(true).await.map(|_| "retry")
                }
                Err(e) => {
                    let e = match e {
                        JobError::Transient(e) | JobError::Permanent(e) => e,
                    };
                    let errore = format!("{e:#}");
                    // Recorded first: if even that fails (the database is down), the message goes
                    // back to the queue rather than to the dead letters unexplained.
                    match app
                        .store
                        .set_errore_elaborazione(numero, kind, &errore, attempts as i32)
                        .await
                    {
                        Ok(()) | Err(cigo_store::StoreError::NotFound(_)) => {
                            tracing::error!(parent: &span, error = %errore, attempts, "job failed for good, dead-lettered");
                            metrics::counter!("cigo_jobs_dead_lettered_total", "kind" => kind.as_str()).increment(1);
                            delivery.nack(false).await.map(|_| "dead_letter")
                        }
                        Err(store) => {
                            tracing::warn!(parent: &span, error = %errore, store_error = %store, "job failed and its failure cannot be recorded: given back to the queue");
                            tokio::time::sleep(Duration::from_secs(1)).await;
                            delivery.nack(true).await.map(|_| "retry")
                        }
                    }
                }
            };
            match outcome {
                Ok(label) => {
                    metrics::counter!("cigo_jobs_total", "kind" => kind.as_str(), "outcome" => label).increment(1);
                    metrics::histogram!("cigo_job_seconds", "kind" => kind.as_str()).record(elapsed);
                }
                Err(e) => {
                    // The broker will redeliver the message: our result is committed and the next
                    // attempt will find nothing left to do.
                    tracing::warn!(%kind, numero, error = %e, "cannot settle the message, reconnecting");
                    break;
                }
            }
        }
    }
}

/// Runs the job, retrying transient failures up to `--job-max-attempts` times with exponential
/// backoff with jitter (`--job-retry-base-ms`, doubled each time, capped at 60 s; `cigo_retry`). The message stays unacked
/// meanwhile: if the process dies the broker delivers it again. A permanent failure (the parser
/// crashed on the file: a panic caught by `spawn_blocking`) is not retried. Returns the result
/// and the attempts made. On shutdown no new attempt starts.
async fn handle_with_retries(app: &App, kind: JobKind, numero: i64) -> (Result<(), JobError>, u32) {
    let max = app.settings.job_max_attempts.max(1);
    let mut delays =
        cigo_retry::exponential(Duration::from_millis(app.settings.job_retry_base_ms), Duration::from_secs(60)).build();
    let mut attempt = 1;
    loop {
        match handle(app, kind, numero).await {
            Err(JobError::Transient(e)) if attempt < max && !app.shutdown.is_cancelled() => {
                let delay = delays.next().unwrap_or(Duration::from_secs(60));
                tracing::warn!(error = %format!("{e:#}"), attempt, ?delay, "job failed, retrying");
                metrics::counter!("cigo_job_retries_total", "kind" => kind.as_str()).increment(1);
                tokio::select! {
                    _ = app.shutdown.cancelled() => return (Err(JobError::Transient(e)), attempt),
                    _ = tokio::time::sleep(delay) => {},
                }
                attempt += 1;
            }
            other => return (other, attempt),
        }
    }
}

async fn handle(app: &App, kind: JobKind, numero: i64) -> Result<(), JobError> {
    match kind {
        JobKind::Prevalidazione => crate::worker::prevalida(app, numero).await,
        JobKind::Invio => crate::sender::invia(app, numero).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cigo_blob::{BlobStore, ByteStream};
    use cigo_queue::JobMessage;
    use futures::StreamExt;
    use std::path::Path;
    use std::sync::Arc;

    /// A blob store whose files under `poison/` make whoever reads them panic: the panic happens
    /// on the prevalidation's blocking thread, where the parser reads the file (as a parser bug
    /// would). Test-only: production code has no such trigger.
    struct PoisonedBlobs(Arc<dyn BlobStore>);

    #[async_trait::async_trait]
    impl BlobStore for PoisonedBlobs {
        async fn put_file(&self, key: &str, path: &Path) -> cigo_blob::Result<()> {
            self.0.put_file(key, path).await
        }
        async fn get(&self, key: &str) -> cigo_blob::Result<ByteStream> {
            if key.starts_with("poison/") {
                return Ok(futures::stream::once(async { panic!("the parser crashed on this file") }).boxed());
            }
            self.0.get(key).await
        }
        async fn delete(&self, key: &str) -> cigo_blob::Result<()> {
            self.0.delete(key).await
        }
        async fn ping(&self) -> cigo_blob::Result<()> {
            self.0.ping().await
        }
        async fn list_older_than(&self, prefix: &str, before: std::time::SystemTime) -> cigo_blob::Result<Vec<String>> {
            self.0.list_older_than(prefix, before).await
        }
    }

    /// Polls `f` until it gives `Some` (at most 30 s).
    async fn wait_for<T, F, Fut>(mut f: F) -> T
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Option<T>>,
    {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(v) = f().await {
                return v;
            }
            assert!(Instant::now() < deadline, "timed out");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn upload(app: &App, dir: &Path, key: &str, seed: u64) -> i64 {
        let path = dir.join(format!("{seed}.xml"));
        let opts = cigo_domain::generate::GenerateOptions { domande: 3, invalid_ratio: 0.0, seed };
        cigo_domain::generate::generate(&opts, std::fs::File::create(&path).unwrap()).unwrap();
        app.blob.put_file(key, &path).await.unwrap();
        let r = app
            .store
            .create_richiesta_once(
                cigo_store::NewRichiesta {
                    intermediario: "RSSMRA85T10A562S".into(),
                    blob_key: key.into(),
                    sha256: format!("{seed:064}"),
                    size_bytes: 1,
                    prevalidazione: true,
                    actor: "test".into(),
                    trace_context: None,
                    rinvio_di: None,
                    nome_file: None,
                },
                None,
            )
            .await
            .unwrap();
        let cigo_store::CreateOutcome::Created(r) = r else { panic!("not created: {r:?}") };
        for row in app
            .store
            .lease_outbox(10, Duration::from_secs(60))
            .await
            .unwrap()
        {
            let msg = JobMessage {
                kind: row.kind,
                numero_richiesta: row.numero_richiesta,
                outbox_id: row.id,
                trace_context: None,
            };
            app.queue.publish(&msg).await.unwrap();
            app.store.mark_published(&[row.id]).await.unwrap();
        }
        r.numero
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_file_that_crashes_the_parser_is_dead_lettered_and_the_worker_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let settings = crate::config::Settings { data_dir: data, ..Default::default() };
        let mut app = App::open(settings, true).await.unwrap();
        app.blob = Arc::new(PoisonedBlobs(app.blob.clone()));
        let worker = tokio::spawn(run(app.clone(), JobKind::Prevalidazione, 1));

        let poisoned = upload(&app, dir.path(), "poison/1.xml", 1).await;
        let errore = wait_for(|| async { app.store.errore_elaborazione(poisoned).await.unwrap() }).await;
        assert!(errore.errore.contains("crashed"), "{errore:?}");
        assert_eq!(errore.tentativi, 1, "a crash is not retried");
        assert_eq!(errore.kind, JobKind::Prevalidazione);

        // The same worker task takes the next file.
        let healthy = upload(&app, dir.path(), "ok/2.xml", 2).await;
        let done = wait_for(|| async {
            let r = app.store.get_richiesta(healthy).await.unwrap().unwrap();
            // PREVALIDATA, or SCARTATA where deleghe are required (the generated matricole have none).
            matches!(r.stato, cigo_domain::StatoRichiesta::Prevalidata | cigo_domain::StatoRichiesta::Scartata)
                .then_some(r)
        })
        .await;
        assert_eq!(done.domande_totali, 3);
        assert!(!worker.is_finished());
        app.shutdown.cancel();
        tokio::time::timeout(Duration::from_secs(10), worker)
            .await
            .unwrap()
            .unwrap();
    }
}
