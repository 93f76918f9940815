//! The in-process queue: one unbounded multi-consumer channel per [`JobKind`], living as long as
//! the process. Nothing is durable: after a restart the outbox and the SLA reaper re-send what was
//! in flight.
//!
//! Semantics, close to the broker's:
//! - each message goes to exactly one consumer of its kind;
//! - `nack(requeue = true)` puts the message back (at the tail) marked as redelivered;
//! - `nack(requeue = false)` moves it to the dead letters ([`Queue::take_dead_letter`]), reason
//!   `rejected`;
//! - a delivery dropped without being acked or nacked is put back too, as the broker does with the
//!   unacknowledged messages of a closed channel;
//! - `prefetch` is ignored (a consumer only takes a message when it asks for the next one);
//! - after [`InProcessQueue::shutdown`], `publish` and `next` return [`QueueError::Closed`].

use crate::{Acker, Consumer, DeadLetter, Delivery, JobMessage, Queue, QueueError, Result};
use async_trait::async_trait;
use cigo_domain::JobKind;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

#[derive(Debug)]
struct Envelope {
    message: JobMessage,
    redelivered: bool,
}

struct Lane {
    tx: async_channel::Sender<Envelope>,
    rx: async_channel::Receiver<Envelope>,
}

struct Inner {
    lanes: HashMap<JobKind, Lane>,
    /// The messages rejected without requeue.
    dead: Lane,
    closed: AtomicBool,
}

impl Inner {
    fn lane(&self, kind: JobKind) -> &Lane {
        // Every kind gets a lane in `new`, so this cannot fail.
        &self.lanes[&kind]
    }

    fn is_closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }
}

/// The embedded queue. Cheap to clone; clones share the same channels.
#[derive(Clone)]
pub struct InProcessQueue {
    inner: Arc<Inner>,
}

impl Default for InProcessQueue {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for InProcessQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InProcessQueue")
            .field("depths", &self.depths())
            .field("closed", &self.inner.is_closed())
            .finish()
    }
}

impl InProcessQueue {
    pub fn new() -> Self {
        let lanes = JobKind::ALL
            .into_iter()
            .map(|kind| {
                let (tx, rx) = async_channel::unbounded();
                (kind, Lane { tx, rx })
            })
            .collect();
        let (tx, rx) = async_channel::unbounded();
        Self { inner: Arc::new(Inner { lanes, dead: Lane { tx, rx }, closed: AtomicBool::new(false) }) }
    }

    /// Closes the queue: further publishes fail with [`QueueError::Closed`], waiting consumers
    /// wake up with [`QueueError::Closed`], and the messages still queued are dropped.
    pub fn shutdown(&self) {
        self.inner.closed.store(true, Ordering::SeqCst);
        for lane in self.inner.lanes.values().chain([&self.inner.dead]) {
            lane.tx.close();
            while lane.rx.try_recv().is_ok() {}
        }
    }

    pub fn is_closed(&self) -> bool {
        self.inner.is_closed()
    }

    /// The number of messages waiting (not delivered, or given back) per kind.
    pub fn depths(&self) -> Vec<(JobKind, u64)> {
        JobKind::ALL
            .into_iter()
            .map(|kind| (kind, self.inner.lane(kind).rx.len() as u64))
            .collect()
    }
}

#[async_trait]
impl Queue for InProcessQueue {
    fn backend(&self) -> &'static str {
        "memory"
    }

    async fn publish(&self, msg: &JobMessage) -> Result<()> {
        if self.inner.is_closed() {
            return Err(QueueError::Closed);
        }
        self.inner
            .lane(msg.kind)
            .tx
            .try_send(Envelope { message: msg.clone(), redelivered: false })
            .map_err(|_| QueueError::Closed)
    }

    async fn consumer(&self, kind: JobKind, _prefetch: u16) -> Result<Box<dyn Consumer>> {
        if self.inner.is_closed() {
            return Err(QueueError::Closed);
        }
        Ok(Box::new(InProcessConsumer { inner: self.inner.clone(), kind }))
    }

    async fn ping(&self) -> Result<()> {
        if self.inner.is_closed() {
            Err(QueueError::Closed)
        } else {
            Ok(())
        }
    }

    async fn take_dead_letter(&self) -> Result<Option<DeadLetter>> {
        if self.inner.is_closed() {
            return Err(QueueError::Closed);
        }
        let dead = &self.inner.dead;
        let Ok(envelope) = dead.rx.try_recv() else { return Ok(None) };
        Ok(Some(DeadLetter {
            body: serde_json::to_string(&envelope.message).unwrap_or_default(),
            message: Some(envelope.message.clone()),
            reason: Some("rejected".into()),
            count: None,
            // Kept: back among the dead letters; removed: gone.
            acker: Box::new(InProcessAcker {
                tx: dead.tx.clone(),
                dead: None,
                pending: std::sync::Mutex::new(Some(envelope.message)),
            }),
        }))
    }
}

struct InProcessConsumer {
    inner: Arc<Inner>,
    kind: JobKind,
}

#[async_trait]
impl Consumer for InProcessConsumer {
    async fn next(&mut self) -> Result<Delivery> {
        if self.inner.is_closed() {
            return Err(QueueError::Closed);
        }
        let lane = self.inner.lane(self.kind);
        let envelope = lane.rx.recv().await.map_err(|_| QueueError::Closed)?;
        if self.inner.is_closed() {
            return Err(QueueError::Closed);
        }
        Ok(Delivery {
            message: envelope.message.clone(),
            redelivered: envelope.redelivered,
            acker: Box::new(InProcessAcker {
                tx: lane.tx.clone(),
                dead: Some(self.inner.dead.tx.clone()),
                pending: std::sync::Mutex::new(Some(envelope.message)),
            }),
        })
    }
}

struct InProcessAcker {
    /// Where a requeued message goes.
    tx: async_channel::Sender<Envelope>,
    /// Where a message rejected without requeue goes (`None`: it is dropped).
    dead: Option<async_channel::Sender<Envelope>>,
    /// The message while it is not settled yet.
    pending: std::sync::Mutex<Option<JobMessage>>,
}

impl InProcessAcker {
    fn take(&self) -> Option<JobMessage> {
        self.pending
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take()
    }

    fn requeue(&self, message: JobMessage) -> Result<()> {
        self.tx
            .try_send(Envelope { message, redelivered: true })
            .map_err(|_| QueueError::Closed)
    }
}

#[async_trait]
impl Acker for InProcessAcker {
    async fn ack(&self) -> Result<()> {
        match self.take() {
            Some(_) => Ok(()),
            None => Err(QueueError::Refused("delivery already settled".into())),
        }
    }

    async fn nack(&self, requeue: bool) -> Result<()> {
        match self.take() {
            Some(message) if requeue => self.requeue(message),
            Some(message) => match &self.dead {
                Some(dead) => dead
                    .try_send(Envelope { message, redelivered: false })
                    .map_err(|_| QueueError::Closed),
                None => Ok(()),
            },
            None => Err(QueueError::Refused("delivery already settled".into())),
        }
    }
}

impl Drop for InProcessAcker {
    fn drop(&mut self) {
        // Not settled: give it back, as a broker does when the consumer's channel closes.
        if let Some(message) = self.take() {
            let _ = self.requeue(message);
        }
    }
}
