//! The outbox relay: turns committed outbox rows into queue messages.
//!
//! Writers (the upload, the worker's direct-mode approval, the approval endpoint, the SLA reaper)
//! never publish themselves: they commit an outbox row with their change. The relay leases rows
//! (oldest first), publishes each with a publisher confirm, then marks them published. A crash
//! between confirm and mark re-sends the message after the lease expires: consumers are
//! idempotent, so a duplicate costs a lookup, while a lost message would cost a consultant a
//! deadline.

use crate::app::App;
use cigo_domain::JobKind;
use cigo_queue::JobMessage;
use cigo_retry::BackoffBuilder;
use std::time::Duration;
use tracing::Instrument;

/// How long a leased row is ours before another relay may take it. Publishing a batch takes
/// milliseconds; the lease only bounds how long the rows of a relay that died wait for another
/// one (the only relay of `cigo serve` ends them at start, see `cmd::server`). A batch slower
/// than this (a broker in flow control) is published twice at worst, which consumers absorb.
const LEASE: Duration = Duration::from_secs(5);
const BATCH: i64 = 100;

pub async fn run(app: App) {
    let poll = Duration::from_millis(app.settings.relay_poll_ms);
    let policy = cigo_retry::exponential(Duration::from_millis(100), Duration::from_secs(10));
    let mut backoff = policy.build();
    loop {
        match relay_once(&app).await {
            Ok(n) if n as i64 == BATCH => continue, // more may be waiting
            Ok(_) => {
                backoff = policy.build();
                tokio::select! {
                    _ = app.shutdown.cancelled() => return,
                    _ = app.outbox_written.notified() => {},
                    _ = tokio::time::sleep(poll) => {},
                }
            }
            Err(e) => {
                let delay = backoff.next().unwrap_or(poll);
                tracing::warn!(error = %e, ?delay, "outbox relay: publishing failed, retrying");
                if !app.pause(delay).await {
                    return;
                }
            }
        }
    }
}

/// Publishes one batch; returns how many rows it leased.
pub async fn relay_once(app: &App) -> anyhow::Result<usize> {
    let rows = app.store.lease_outbox(BATCH, LEASE).await?;
    let leased = rows.len();
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mut published = Vec::with_capacity(leased);
    let mut failure = None;
    for row in rows {
        // The publish is a step of the richiesta's trace, between the commit that queued the job
        // and the job itself: the message carries this span as the job's parent.
        let span = tracing::info_span!("publish", kind = %row.kind, numero_richiesta = row.numero_richiesta);
        cigo_telemetry::set_parent(&span, row.trace_context.as_deref());
        let msg = JobMessage {
            kind: row.kind,
            numero_richiesta: row.numero_richiesta,
            outbox_id: row.id,
            trace_context: cigo_telemetry::traceparent_of(&span).or_else(|| row.trace_context.clone()),
        };
        // Stop at the first failure so messages keep the order of acceptance.
        let mut result = Ok(());
        for _ in 0..app.settings.relay_publish_copies.max(1) {
            result = app.queue.publish(&msg).instrument(span.clone()).await;
            if result.is_err() {
                break;
            }
        }
        if let Err(e) = result {
            failure = Some(e);
            break;
        }
        published.push(row.id);
    }
    if !published.is_empty() {
        app.store.mark_published(&published).await?;
        metrics::counter!("cigo_outbox_published_total").increment(published.len() as u64);
    }
    match failure {
        Some(e) => {
            // The rest of the batch goes back at once (not after the lease), still in order:
            // the next attempt, of this relay or another, starts from the first unpublished row.
            let unpublished: Vec<i64> = ids
                .into_iter()
                .filter(|id| !published.contains(id))
                .collect();
            if let Err(release) = app.store.release_outbox(&unpublished).await {
                tracing::warn!(error = %release, "cannot release the outbox lease; the rows wait for its expiry");
            }
            metrics::counter!("cigo_outbox_publish_failures_total").increment(1);
            Err(e.into())
        }
        None => Ok(leased),
    }
}

/// The SLA reaper: re-queues richieste left unfinished (a lost message, a crashed worker).
pub async fn run_reaper(app: App) {
    let bound = Duration::from_secs(app.settings.sla_requeue_after_secs);
    let every = (bound / 4).clamp(Duration::from_secs(1), Duration::from_secs(60));
    while app.pause(every).await {
        match app.store.requeue_stale(bound).await {
            Ok(0) => {}
            Ok(n) => {
                tracing::warn!(requeued = n, "SLA reaper: re-queued unfinished richieste");
                metrics::counter!("cigo_sla_requeued_total").increment(n);
                app.outbox_written.notify_one();
            }
            Err(e) => tracing::warn!(error = %e, "SLA reaper failed"),
        }
    }
}

/// The SLA gauges: `cigo_sla_oldest_unfinished_seconds` (age of the oldest richiesta not yet
/// finished: RICEVUTA, IN_ELABORAZIONE, APPROVATA, IN_INVIO) and `cigo_sla_finished_within_ratio`
/// (of the richieste received in the last 24 hours that have their esito, the share that got it
/// within `--sla-secs`; 1 when there are none).
pub async fn update_sla_gauges(app: &App) {
    let bound = Duration::from_secs(app.settings.sla_secs);
    match app
        .store
        .sla_stats(bound, Duration::from_secs(86_400))
        .await
    {
        Ok(stats) => {
            let age_of =
                |t: chrono::DateTime<chrono::Utc>| (chrono::Utc::now() - t).num_milliseconds().max(0) as f64 / 1000.0;
            let age = stats.oldest_unfinished.map(age_of).unwrap_or(0.0);
            let ratio = if stats.finished == 0 { 1.0 } else { stats.finished_within as f64 / stats.finished as f64 };
            metrics::gauge!("cigo_sla_oldest_unfinished_seconds").set(age);
            metrics::gauge!("cigo_sla_finished_within_ratio").set(ratio);
            // The queue lag, from the database (the source of truth, and the same answer in
            // every process): how long the oldest job of each queue has been waiting.
            let topology = cigo_queue::rabbitmq::Topology::new(&app.settings.queue_prefix);
            for (kind, since) in
                [(JobKind::Prevalidazione, stats.waiting_prevalidazione), (JobKind::Invio, stats.waiting_invio)]
            {
                let age = since.map(age_of).unwrap_or(0.0);
                metrics::gauge!("cigo_queue_oldest_message_age_seconds", "queue" => topology.queue(kind)).set(age);
            }
        }
        Err(e) => tracing::debug!(error = %e, "cannot compute the SLA gauges"),
    }
}

/// Keeps the SLA and queue-lag gauges of the process up to date (every process runs it, so that
/// each `/metrics` shows them).
pub async fn run_sla_gauges(app: App) {
    loop {
        update_sla_gauges(&app).await;
        if !app.pause(Duration::from_secs(15)).await {
            return;
        }
    }
}
