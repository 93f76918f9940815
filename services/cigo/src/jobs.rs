//! The consumer loop shared by the worker and the sender.
//!
//! Each of `concurrency` tasks holds its own consumer with prefetch 1, so a slow richiesta never
//! holds back messages another task could take. A message is acked only after its result is
//! committed; a transient failure gives it back to the queue after a pause; a permanent one
//! rejects it (dead-letter queue). On shutdown a task finishes the job in hand and stops; messages
//! it has not acked go back to the queue.

use crate::app::App;
use cigo_domain::JobKind;
use std::time::{Duration, Instant};
use tracing::Instrument;

#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// Worth retrying (database or blob store unreachable, a deadlock...).
    #[error("transient: {0:#}")]
    Transient(anyhow::Error),
    /// Retrying cannot help (the file makes the parser fail in an unexpected way...).
    #[error("permanent: {0:#}")]
    Permanent(anyhow::Error),
}

impl From<cigo_store::StoreError> for JobError {
    fn from(e: cigo_store::StoreError) -> Self {
        JobError::Transient(e.into())
    }
}

impl From<cigo_blob::BlobError> for JobError {
    fn from(e: cigo_blob::BlobError) -> Self {
        JobError::Transient(e.into())
    }
}

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
    let mut backoff = Duration::from_millis(200);
    while !app.shutdown.is_cancelled() {
        let mut consumer = match app.queue.consumer(kind, 1).await {
            Ok(c) => {
                backoff = Duration::from_millis(200);
                c
            }
            Err(e) => {
                tracing::warn!(%kind, index, error = %e, ?backoff, "cannot start consumer, retrying");
                tokio::select! {
                    _ = app.shutdown.cancelled() => return,
                    _ = tokio::time::sleep(backoff) => {},
                }
                backoff = (backoff * 2).min(Duration::from_secs(10));
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
            let span = tracing::info_span!("job", %kind, numero_richiesta = numero, redelivered = delivery.redelivered);
            cigo_telemetry::set_parent(&span, delivery.message.trace_context.as_deref());
            let started = Instant::now();
            let result = handle(&app, kind, numero).instrument(span.clone()).await;
            let elapsed = started.elapsed().as_secs_f64();
            let outcome = match result {
                Ok(()) => delivery.ack().await.map(|_| "ok"),
                Err(JobError::Transient(e)) => {
                    tracing::warn!(parent: &span, error = %format!("{e:#}"), "job failed, it will be retried");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    delivery.nack(true).await.map(|_| "retry")
                }
                Err(JobError::Permanent(e)) => {
                    tracing::error!(parent: &span, error = %format!("{e:#}"), "job failed permanently, dead-lettered");
                    delivery.nack(false).await.map(|_| "dead_letter")
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

async fn handle(app: &App, kind: JobKind, numero: i64) -> Result<(), JobError> {
    match kind {
        JobKind::Prevalidazione => crate::worker::prevalida(app, numero).await,
        JobKind::Invio => crate::sender::invia(app, numero).await,
    }
}
