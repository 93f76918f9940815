//! Dead letters: the jobs that failed for good.
//!
//! The list is the database's: a job whose transient failures outlast `--job-max-attempts`, or
//! that failed permanently (the parser crashed on the file), is recorded on its richiesta
//! (`Store::set_errore_elaborazione`, shown to its owner, skipped by the SLA reaper) and its
//! message rejected to the queue's dead letters. The queue may also give up on a message nobody
//! recorded a failure for (RabbitMQ dead-letters one returned more than `x-delivery-limit` times:
//! consumers killed again and again). [`drain`] takes every dead letter off the queue and
//! records a failure for the ones without, so an operator finds them all in one place;
//! `cigo admin dlq list | replay` read and replay the recorded failures, the same way in the
//! embedded and the distributed mode.

use crate::app::App;
use cigo_domain::{JobKind, StatoRichiesta};
use cigo_queue::{DeadLetter, Queue};
use cigo_retry::BackoffBuilder;
use cigo_store::{ErroreElaborazione, Store, StoreError};
use std::time::Duration;

/// How often the drain looks at the queue's dead letters when there were none.
const DRAIN_EVERY: Duration = Duration::from_secs(5);

/// Records each dead letter of `queue` on its richiesta (unless a failure is already recorded,
/// or the job is no longer pending) and removes it; returns how many it took. A dead letter that
/// cannot be recorded (the database is down) is kept for the next drain.
pub async fn drain(store: &dyn Store, queue: &dyn Queue) -> anyhow::Result<usize> {
    let mut taken = 0;
    while let Some(letter) = queue.take_dead_letter().await? {
        match record(store, &letter).await {
            Ok(()) => letter.ack().await?,
            Err(e) => {
                letter.nack(true).await?;
                return Err(e.into());
            }
        }
        taken += 1;
    }
    Ok(taken)
}

/// The failure of one dead letter, recorded unless there is nothing to record.
async fn record(store: &dyn Store, letter: &DeadLetter) -> Result<(), StoreError> {
    let Some(message) = &letter.message else {
        // Not a job: nothing to replay. Logged whole enough to be found, then removed.
        tracing::error!(body = %format!("{:.200}", letter.body), "undecodable dead letter removed");
        metrics::counter!("cigo_dead_letters_undecodable_total").increment(1);
        return Ok(());
    };
    let numero = message.numero_richiesta;
    if store.errore_elaborazione(numero).await?.is_some() {
        return Ok(());
    }
    let Some(richiesta) = store.get_richiesta(numero).await? else {
        tracing::warn!(numero, "dead letter for an unknown richiesta removed");
        return Ok(());
    };
    if !pending(richiesta.stato, message.kind) {
        tracing::info!(numero, stato = %richiesta.stato, kind = %message.kind, "dead letter of a job done meanwhile removed");
        return Ok(());
    }
    let reason = letter.reason.as_deref().unwrap_or("dead-lettered");
    let count = letter.count.unwrap_or(1).clamp(1, i32::MAX as i64) as i32;
    let errore = format!(
        "the queue gave up on the job ({reason}, {count} times) before any attempt recorded a failure: \
         its worker was interrupted again and again"
    );
    match store
        .set_errore_elaborazione(numero, message.kind, &errore, count)
        .await
    {
        Ok(()) | Err(StoreError::NotFound(_)) => {
            tracing::error!(numero, kind = %message.kind, reason, "dead letter recorded on the richiesta");
            metrics::counter!("cigo_dead_letters_recorded_total", "kind" => message.kind.as_str()).increment(1);
            Ok(())
        }
        Err(e) => Err(e),
    }
}

/// The richiesta still waits for the job of `kind`.
fn pending(stato: StatoRichiesta, kind: JobKind) -> bool {
    match kind {
        JobKind::Prevalidazione => matches!(stato, StatoRichiesta::Ricevuta | StatoRichiesta::InElaborazione),
        JobKind::Invio => matches!(stato, StatoRichiesta::Approvata | StatoRichiesta::InInvio),
    }
}

/// The drain as a loop (part of the reaper role): every few seconds, and with backoff while the
/// database or the broker is down.
pub async fn run_drain(app: App) {
    let policy = cigo_retry::exponential(Duration::from_secs(1), Duration::from_secs(60));
    let mut backoff = policy.build();
    loop {
        let delay = match drain(app.store.as_ref(), app.queue.as_ref()).await {
            Ok(_) => {
                backoff = policy.build();
                DRAIN_EVERY
            }
            Err(e) => {
                let delay = backoff.next().unwrap_or(DRAIN_EVERY);
                tracing::warn!(error = %format!("{e:#}"), ?delay, "cannot drain the dead letters, retrying");
                delay
            }
        };
        if !app.pause(delay).await {
            return;
        }
    }
}

/// The recorded failures, oldest first, at most `limit`.
pub async fn list(store: &dyn Store, limit: usize) -> Result<Vec<ErroreElaborazione>, StoreError> {
    store
        .list_errori_elaborazione(limit.min(i64::MAX as usize) as i64)
        .await
}

/// Replays the `n` oldest recorded failures (all with `None`): for each, one transaction deletes
/// the failure and writes an outbox row; the relays of the running processes publish the job.
pub async fn replay(store: &dyn Store, n: Option<usize>) -> Result<Vec<ErroreElaborazione>, StoreError> {
    let errori = list(store, n.unwrap_or(usize::MAX)).await?;
    for e in &errori {
        store.replay_job(e.numero_richiesta, e.kind).await?;
    }
    Ok(errori)
}

#[cfg(test)]
mod tests {
    use super::*;
    use cigo_queue::memory::InProcessQueue;
    use cigo_queue::JobMessage;

    #[test]
    fn only_the_states_waiting_for_a_job_are_pending() {
        assert!(pending(StatoRichiesta::InElaborazione, JobKind::Prevalidazione));
        assert!(!pending(StatoRichiesta::Prevalidata, JobKind::Prevalidazione));
        assert!(pending(StatoRichiesta::InInvio, JobKind::Invio));
        assert!(!pending(StatoRichiesta::Consegnata, JobKind::Invio));
        assert!(!pending(StatoRichiesta::Ricevuta, JobKind::Invio));
    }

    async fn dead_letter(queue: &InProcessQueue, numero: i64) {
        let msg =
            JobMessage { kind: JobKind::Prevalidazione, numero_richiesta: numero, outbox_id: 1, trace_context: None };
        queue.publish(&msg).await.unwrap();
        let mut consumer = queue.consumer(JobKind::Prevalidazione, 1).await.unwrap();
        consumer.next().await.unwrap().nack(false).await.unwrap();
    }

    #[tokio::test]
    async fn dead_letters_become_recorded_failures_once() {
        let dir = tempfile::tempdir().unwrap();
        let settings = crate::config::Settings { data_dir: dir.path().join("data"), ..Default::default() };
        let store = crate::app::open_store(&settings, 1).await.unwrap();
        let queue = InProcessQueue::new();

        // Unknown richiesta: removed, nothing recorded.
        dead_letter(&queue, 99).await;
        assert_eq!(drain(store.as_ref(), &queue).await.unwrap(), 1);
        assert!(list(store.as_ref(), 10).await.unwrap().is_empty());

        // A richiesta still waiting for its prevalidation, no failure recorded: one is.
        let r = store
            .create_richiesta_once(
                cigo_store::NewRichiesta {
                    intermediario: "RSSMRA85T10A562S".into(),
                    blob_key: "k".into(),
                    sha256: format!("{:064}", 1),
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
        dead_letter(&queue, r.numero).await;
        assert_eq!(drain(store.as_ref(), &queue).await.unwrap(), 1);
        let errori = list(store.as_ref(), 10).await.unwrap();
        assert_eq!(errori.len(), 1);
        assert!(errori[0].errore.contains("rejected"), "{errori:?}");

        // Already recorded (as a worker does before rejecting): left as it is.
        store
            .set_errore_elaborazione(r.numero, JobKind::Prevalidazione, "blob missing", 3)
            .await
            .unwrap();
        dead_letter(&queue, r.numero).await;
        assert_eq!(drain(store.as_ref(), &queue).await.unwrap(), 1);
        assert_eq!(drain(store.as_ref(), &queue).await.unwrap(), 0);
        let errori = list(store.as_ref(), 10).await.unwrap();
        assert_eq!((errori[0].errore.as_str(), errori[0].tentativi), ("blob missing", 3));

        // Replayed: the failure is gone.
        let replayed = replay(store.as_ref(), None).await.unwrap();
        assert_eq!(replayed.len(), 1);
        assert!(list(store.as_ref(), 10).await.unwrap().is_empty());
    }
}
