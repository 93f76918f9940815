//! # cigo-queue
//!
//! The queue only says "look at richiesta N for job K": the database says what there is to do, so
//! a message delivered twice or late does no harm (consumers are idempotent), and a message lost
//! is re-sent from the outbox or by the SLA reaper.
//!
//! One trait, [`Queue`], two implementations:
//! - [`memory::InProcessQueue`]: the embedded default, a channel per job kind inside the process;
//! - [`rabbitmq::RabbitQueue`]: durable quorum queues on RabbitMQ, publisher confirms, manual acks,
//!   trace context in the AMQP headers.
//!
//! Both pass the same contract suite (`tests/contract.rs`).

use async_trait::async_trait;
use cigo_domain::JobKind;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

pub mod memory;
pub mod rabbitmq;

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// The broker connection or channel is gone; the caller should reconnect with backoff.
    #[error("queue connection lost: {0}")]
    Connection(String),
    /// The broker refused a publish (negative confirm) or a declaration.
    #[error("queue refused the operation: {0}")]
    Refused(String),
    /// The queue was closed (in-process queue shut down).
    #[error("queue closed")]
    Closed,
}

pub type Result<T, E = QueueError> = std::result::Result<T, E>;

/// The body of every message (JSON). Never carries the XML, only ids.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobMessage {
    pub kind: JobKind,
    pub numero_richiesta: i64,
    /// The outbox row this message was published from.
    pub outbox_id: i64,
    /// W3C `traceparent` of the operation that caused the job (also sent as the AMQP header
    /// `traceparent`), so one trace runs from upload to esito.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_context: Option<String>,
}

/// A queue of jobs. Cheap to share (`Arc<dyn Queue>`).
#[async_trait]
pub trait Queue: Send + Sync + 'static {
    /// Which implementation this is: `"memory"` or `"rabbitmq"`.
    fn backend(&self) -> &'static str;

    /// Publishes one message persistently to the queue of `msg.kind`; returns only after the
    /// broker confirmed it (RabbitMQ publisher confirm).
    async fn publish(&self, msg: &JobMessage) -> Result<()>;

    /// A consumer of the queue of `kind` that receives at most `prefetch` unacknowledged
    /// messages at a time. Several consumers of one kind share the messages between them.
    async fn consumer(&self, kind: JobKind, prefetch: u16) -> Result<Box<dyn Consumer>>;

    /// Checks the connection to the broker (for `/readyz`).
    async fn ping(&self) -> Result<()>;

    /// Takes the oldest dead letter (a message rejected without requeue, or, on RabbitMQ, one
    /// returned more than `x-delivery-limit` times), if there is one. It is held, unseen by other
    /// callers, until acked (removed for good) or nacked with requeue (kept for later).
    async fn take_dead_letter(&self) -> Result<Option<DeadLetter>>;
}

/// A message the queue gave up on (see [`Queue::take_dead_letter`]).
pub struct DeadLetter {
    /// The job, when the body decodes as one.
    pub message: Option<JobMessage>,
    /// The body as text (lossy), to report one that does not decode.
    pub body: String,
    /// Why it was dead-lettered, in RabbitMQ's words (`rejected`, `delivery_limit`, `expired`).
    pub reason: Option<String>,
    /// How many times it was dead-lettered or delivered, when the queue knows.
    pub count: Option<i64>,
    pub acker: Box<dyn Acker>,
}

impl DeadLetter {
    pub async fn ack(self) -> Result<()> {
        self.acker.ack().await
    }

    pub async fn nack(self, requeue: bool) -> Result<()> {
        self.acker.nack(requeue).await
    }
}

impl std::fmt::Debug for DeadLetter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeadLetter")
            .field("message", &self.message)
            .field("reason", &self.reason)
            .field("count", &self.count)
            .finish()
    }
}

#[async_trait]
pub trait Consumer: Send {
    /// The next delivery; waits until there is one. An error means the consumer is dead (the
    /// connection dropped, or the queue was closed) and a new one must be made.
    async fn next(&mut self) -> Result<Delivery>;
}

/// Settles a delivery with the broker.
#[async_trait]
pub trait Acker: Send + Sync {
    async fn ack(&self) -> Result<()>;
    /// Gives the message back: `requeue` puts it back on the queue, otherwise it is dropped (or
    /// dead-lettered where the queue has a dead-letter exchange).
    async fn nack(&self, requeue: bool) -> Result<()>;
}

/// One received message. Must be acked (after the result is committed) or nacked.
pub struct Delivery {
    pub message: JobMessage,
    /// The broker delivered this message before (to this or another consumer).
    pub redelivered: bool,
    pub acker: Box<dyn Acker>,
}

impl Delivery {
    pub async fn ack(self) -> Result<()> {
        self.acker.ack().await
    }

    pub async fn nack(self, requeue: bool) -> Result<()> {
        self.acker.nack(requeue).await
    }
}

impl std::fmt::Debug for Delivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Delivery")
            .field("message", &self.message)
            .field("redelivered", &self.redelivered)
            .finish()
    }
}

/// Opens the queue named by a URL: `amqp://…` (RabbitMQ) or `memory:` (in-process).
/// `prefix` is prepended to every queue and exchange name (tests use one per test).
pub async fn connect(url: &str, prefix: &str) -> Result<Arc<dyn Queue>> {
    let queue = deferred(url, prefix)?;
    // RabbitMQ: the publishing connection, and the topology declared on it.
    queue.ping().await?;
    Ok(queue)
}

/// The queue named by a URL, as [`connect`], but without connecting: the first operation
/// connects (see [`rabbitmq::RabbitQueue::deferred`]).
pub fn deferred(url: &str, prefix: &str) -> Result<Arc<dyn Queue>> {
    if url.starts_with("amqp://") || url.starts_with("amqps://") {
        Ok(Arc::new(rabbitmq::RabbitQueue::deferred(url, prefix, rabbitmq::RabbitOptions::default())))
    } else if url == "memory:" || url.is_empty() {
        Ok(Arc::new(memory::InProcessQueue::new()))
    } else {
        Err(QueueError::Refused(format!(
            "unsupported queue URL (expected amqp://… or memory:): {}",
            url.split(':').next().unwrap_or("")
        )))
    }
}
