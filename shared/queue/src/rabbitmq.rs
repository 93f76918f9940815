//! RabbitMQ with lapin: durable quorum queues, publisher confirms, manual acks, dead-lettering.
//!
//! Topology (all names start with the prefix given to [`RabbitQueue::connect`]; declared at
//! every (re)connection, idempotently):
//!
//! ```text
//! exchange {p}cigo       (direct, durable) --kind--> queue {p}cigo.{kind}  (quorum, x-delivery-limit,
//!                                                                          x-dead-letter-exchange)
//! exchange {p}cigo.dlx   (fanout, durable) --------> queue {p}cigo.dead    (quorum)
//! ```
//!
//! A message goes to the dead-letter queue when it was rejected without requeue (a body that is
//! not a [`JobMessage`]) or returned more than `delivery_limit` times.
//!
//! Publishing uses one channel in confirm mode on its own connection; every consumer has its own
//! channel on a second connection (so that broker flow control of publishers never stalls acks).
//! When a connection or channel is found dead it is reopened lazily, with a short backoff and a
//! bounded wait ([`RabbitOptions::reconnect_wait`]), and the topology is declared again. A
//! consumer whose channel died returns [`QueueError::Connection`] from `next()`; the caller asks
//! for a new one.

use crate::{Acker, Consumer, Delivery, JobMessage, Queue, QueueError, Result};
use async_trait::async_trait;
use cigo_domain::JobKind;
use cigo_retry::BackoffBuilder;
use futures::StreamExt;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicNackOptions, BasicPublishOptions, BasicQosOptions, BasicRejectOptions,
    ConfirmSelectOptions, ExchangeDeclareOptions, ExchangeDeleteOptions, QueueBindOptions, QueueDeclareOptions,
    QueueDeleteOptions, QueuePurgeOptions,
};
use lapin::protocol::{AMQPErrorKind, AMQPHardError, AMQPSoftError};
use lapin::types::{AMQPValue, FieldTable, LongString, ShortString};
use lapin::Confirmation;
use lapin::{BasicProperties, Channel, Connection, ConnectionProperties, ExchangeKind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Mutex;

/// The longest wait for the broker to take an ack or nack.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(10);

/// The AMQP header that carries the W3C trace context.
pub const TRACEPARENT_HEADER: &str = "traceparent";

/// Tunables of [`RabbitQueue`]. Changing `delivery_limit` for a prefix whose queues already exist
/// makes the declaration fail (RabbitMQ refuses to redeclare a queue with other arguments): delete
/// the queues or use a policy instead.
#[derive(Debug, Clone)]
pub struct RabbitOptions {
    /// `x-delivery-limit` of the job queues: a message returned more times than this is
    /// dead-lettered.
    pub delivery_limit: u32,
    /// The time allowed to one connection attempt (TCP + AMQP handshake + topology).
    pub connect_timeout: Duration,
    /// How long an operation keeps retrying to (re)connect before giving up with
    /// [`QueueError::Connection`].
    pub reconnect_wait: Duration,
    /// The longest wait for a broker operation (publisher confirm, declaration, consumer setup)
    /// before the connection is considered dead.
    pub operation_timeout: Duration,
    /// Shown in the RabbitMQ management UI (`-publish` / `-consume` is appended).
    pub connection_name: String,
}

impl Default for RabbitOptions {
    fn default() -> Self {
        Self {
            delivery_limit: 5,
            connect_timeout: Duration::from_secs(5),
            reconnect_wait: Duration::from_secs(10),
            operation_timeout: Duration::from_secs(30),
            connection_name: "cigo".to_string(),
        }
    }
}

/// The names of the topology of one prefix.
#[derive(Debug, Clone)]
pub struct Topology {
    pub exchange: String,
    pub dead_letter_exchange: String,
    pub dead_letter_queue: String,
    prefix: String,
}

impl Topology {
    /// The names under `prefix`, joined to them with a `.` unless the prefix already ends with
    /// a separator (`.`, `-`, `_`) or is empty: `staging` names `staging.cigo.prevalidazione`.
    pub fn new(prefix: &str) -> Self {
        let prefix = if prefix.is_empty() || prefix.ends_with(['.', '-', '_']) {
            prefix.to_string()
        } else {
            format!("{prefix}.")
        };
        let prefix = prefix.as_str();
        Self {
            exchange: format!("{prefix}cigo"),
            dead_letter_exchange: format!("{prefix}cigo.dlx"),
            dead_letter_queue: format!("{prefix}cigo.dead"),
            prefix: prefix.to_string(),
        }
    }

    /// The queue of the jobs of `kind`: `{prefix}cigo.{kind}`.
    pub fn queue(&self, kind: JobKind) -> String {
        format!("{}cigo.{}", self.prefix, kind.as_str())
    }

    /// Declares everything (idempotent).
    async fn declare(&self, channel: &Channel, delivery_limit: u32) -> lapin::Result<()> {
        let durable = ExchangeDeclareOptions { durable: true, ..Default::default() };
        channel
            .exchange_declare(self.exchange.as_str().into(), ExchangeKind::Direct, durable, FieldTable::default())
            .await?;
        channel
            .exchange_declare(
                self.dead_letter_exchange.as_str().into(),
                ExchangeKind::Fanout,
                durable,
                FieldTable::default(),
            )
            .await?;
        let queue_options = QueueDeclareOptions { durable: true, ..Default::default() };
        channel
            .queue_declare(
                self.dead_letter_queue.as_str().into(),
                queue_options,
                field_table(&self.queue_arguments(None, delivery_limit)),
            )
            .await?;
        channel
            .queue_bind(
                self.dead_letter_queue.as_str().into(),
                self.dead_letter_exchange.as_str().into(),
                "".into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await?;
        for kind in JobKind::ALL {
            let args = field_table(&self.queue_arguments(Some(kind), delivery_limit));
            let queue = self.queue(kind);
            channel
                .queue_declare(queue.as_str().into(), queue_options, args)
                .await?;
            channel
                .queue_bind(
                    queue.into(),
                    self.exchange.as_str().into(),
                    kind.as_str().into(),
                    QueueBindOptions::default(),
                    FieldTable::default(),
                )
                .await?;
        }
        Ok(())
    }

    /// The arguments of a queue as declared: of the job queue of `kind`, or of the dead-letter
    /// queue (`None`). [`Topology::declare`] and [`Topology::definitions`] both use them.
    pub fn queue_arguments(&self, kind: Option<JobKind>, delivery_limit: u32) -> Vec<(&'static str, QueueArgument)> {
        let mut args = vec![("x-queue-type", QueueArgument::Str("quorum".into()))];
        if kind.is_some() {
            args.push(("x-delivery-limit", QueueArgument::Int(delivery_limit.min(i32::MAX as u32) as i64)));
            args.push(("x-dead-letter-exchange", QueueArgument::Str(self.dead_letter_exchange.clone())));
            args.push(("x-dead-letter-strategy", QueueArgument::Str("at-most-once".into())));
        }
        args
    }

    /// The topology as a RabbitMQ definitions document (`rabbitmqctl import_definitions`, or
    /// `load_definitions` in `rabbitmq.conf`) for the virtual host `vhost`: what
    /// [`Topology::declare`] declares. `deploy/rabbitmq-definitions.json` is this for prefix `""`
    /// and the default options (a test checks it).
    pub fn definitions(&self, delivery_limit: u32, vhost: &str) -> serde_json::Value {
        use serde_json::{json, Map, Value};
        let arguments = |kind: Option<JobKind>| {
            let mut map = Map::new();
            for (name, value) in self.queue_arguments(kind, delivery_limit) {
                let value = match value {
                    QueueArgument::Str(s) => Value::from(s),
                    QueueArgument::Int(i) => Value::from(i),
                };
                map.insert(name.to_string(), value);
            }
            Value::Object(map)
        };
        let queue = |name: &str, kind: Option<JobKind>| json!({"name": name, "vhost": vhost, "durable": true, "auto_delete": false, "arguments": arguments(kind)});
        let exchange = |name: &str, kind: &str| {
            json!({"name": name, "vhost": vhost, "type": kind, "durable": true, "auto_delete": false,
                   "internal": false, "arguments": {}})
        };
        let binding = |source: &str, queue: &str, key: &str| {
            json!({"source": source, "vhost": vhost, "destination": queue, "destination_type": "queue",
                   "routing_key": key, "arguments": {}})
        };
        let mut queues = vec![queue(&self.dead_letter_queue, None)];
        let mut bindings = vec![binding(&self.dead_letter_exchange, &self.dead_letter_queue, "")];
        for kind in JobKind::ALL {
            queues.push(queue(&self.queue(kind), Some(kind)));
            bindings.push(binding(&self.exchange, &self.queue(kind), kind.as_str()));
        }
        json!({
            "exchanges": [exchange(&self.exchange, "direct"), exchange(&self.dead_letter_exchange, "fanout")],
            "queues": queues,
            "bindings": bindings,
        })
    }

    fn all_queues(&self) -> Vec<(Option<JobKind>, String)> {
        JobKind::ALL
            .into_iter()
            .map(|k| (Some(k), self.queue(k)))
            .chain(std::iter::once((None, self.dead_letter_queue.clone())))
            .collect()
    }
}

/// The messages waiting in one queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueDepth {
    /// `None` for the dead-letter queue.
    pub kind: Option<JobKind>,
    pub queue: String,
    /// Messages ready to be delivered (not counting those delivered and not yet acked).
    pub ready: u32,
    pub consumers: u32,
}

/// The value of a queue argument (see [`Topology::queue_arguments`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueueArgument {
    Str(String),
    Int(i64),
}

fn field_table(args: &[(&'static str, QueueArgument)]) -> FieldTable {
    let mut table = FieldTable::default();
    for (name, value) in args {
        let value = match value {
            QueueArgument::Str(s) => long_string(s),
            QueueArgument::Int(i) => AMQPValue::LongInt((*i).clamp(i32::MIN as i64, i32::MAX as i64) as i32),
        };
        table.insert((*name).into(), value);
    }
    table
}

fn long_string(s: &str) -> AMQPValue {
    AMQPValue::LongString(LongString::from(s))
}

/// A soft AMQP error (the broker refused this operation and closed the channel) is a refusal;
/// anything else means the connection is gone.
fn connection_error(e: lapin::Error) -> QueueError {
    if e.is_amqp_soft_error() {
        QueueError::Refused(e.to_string())
    } else {
        QueueError::Connection(e.to_string())
    }
}

/// A failed connection attempt: the broker refusing the login or the virtual host is a
/// [`QueueError::Refused`] (retrying cannot help: the settings are wrong); anything else means
/// the broker is unreachable for now.
fn login_error(e: lapin::Error) -> QueueError {
    let refused = match e.kind() {
        lapin::ErrorKind::ProtocolError(amqp) => matches!(
            amqp.kind(),
            AMQPErrorKind::Soft(AMQPSoftError::ACCESSREFUSED) | AMQPErrorKind::Hard(AMQPHardError::NOTALLOWED)
        ),
        _ => false,
    };
    let text = e.to_string();
    if refused || text.contains("ACCESS_REFUSED") || text.contains("NOT_ALLOWED") {
        QueueError::Refused(format!(
            "RabbitMQ refused the connection (check the user, password and virtual host of the AMQP URL): {text}"
        ))
    } else {
        QueueError::Connection(text)
    }
}

fn is_not_found(e: &lapin::Error) -> bool {
    matches!(e.kind(), lapin::ErrorKind::ProtocolError(amqp)
        if *amqp.kind() == AMQPErrorKind::Soft(AMQPSoftError::NOTFOUND))
}

/// Logs the errors and the flow control of `connection` (a task that ends with the connection:
/// without automatic recovery the first error is its last).
fn log_connection_errors(connection: &Connection) {
    let mut events = connection.events_listener();
    tokio::spawn(async move {
        while let Some(event) = events.next().await {
            match event {
                lapin::Event::Error(e) => {
                    tracing::warn!(error = %e, "RabbitMQ connection error");
                    break;
                }
                lapin::Event::ConnectionBlocked(reason) => {
                    tracing::warn!(%reason, "RabbitMQ blocked the connection (resource alarm)")
                }
                lapin::Event::ConnectionUnblocked => tracing::info!("RabbitMQ unblocked the connection"),
                _ => {}
            }
        }
    });
}

/// The outcome of an ack, nack or reject. lapin answers `Ok(false)` when the delivery can no
/// longer be settled: its channel closed, and the broker has already given the message back.
fn settled(result: lapin::Result<bool>) -> Result<()> {
    match result {
        Ok(true) => Ok(()),
        Ok(false) => {
            Err(QueueError::Connection("the channel of this delivery is closed (the message was given back)".into()))
        }
        Err(e) => Err(QueueError::Connection(e.to_string())),
    }
}

/// The publishing side: its connection and its channel in confirm mode.
#[derive(Clone)]
struct PublishLink {
    connection: Arc<Connection>,
    channel: Channel,
}

struct Shared {
    url: String,
    topology: Topology,
    options: RabbitOptions,
    publish: Mutex<Option<PublishLink>>,
    consume: Mutex<Option<Arc<Connection>>>,
}

/// The RabbitMQ queue. Cheap to clone; clones share the connections.
#[derive(Clone)]
pub struct RabbitQueue {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for RabbitQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RabbitQueue")
            .field("topology", &self.shared.topology)
            .field("options", &self.shared.options)
            .finish()
    }
}

impl RabbitQueue {
    /// Connects with the default [`RabbitOptions`] and declares the topology of `prefix`.
    pub async fn connect(url: &str, prefix: &str) -> Result<Self> {
        Self::connect_with(url, prefix, RabbitOptions::default()).await
    }

    /// Connects (publishing connection first, retrying up to `options.reconnect_wait`) and
    /// declares the topology of `prefix`.
    pub async fn connect_with(url: &str, prefix: &str, options: RabbitOptions) -> Result<Self> {
        let queue = Self::deferred(url, prefix, options);
        queue.publish_link().await?;
        Ok(queue)
    }

    /// The queue without connecting: the first operation connects (and declares the topology).
    /// For a process that must start while the broker is down (the API keeps accepting uploads
    /// into the outbox; the relay publishes them once the broker is back).
    pub fn deferred(url: &str, prefix: &str, options: RabbitOptions) -> Self {
        Self {
            shared: Arc::new(Shared {
                url: url.to_string(),
                topology: Topology::new(prefix),
                options,
                publish: Mutex::new(None),
                consume: Mutex::new(None),
            }),
        }
    }

    pub fn topology(&self) -> &Topology {
        &self.shared.topology
    }

    pub fn options(&self) -> &RabbitOptions {
        &self.shared.options
    }

    /// Opens one connection and declares the topology on it.
    async fn open_connection(&self, role: &str) -> Result<Arc<Connection>> {
        let shared = &self.shared;
        let name = format!("{}-{role}", shared.options.connection_name);
        let properties = ConnectionProperties::default().with_connection_name(name.into());
        let attempt = async {
            let connection = Connection::connect(&shared.url, properties)
                .await
                .map_err(login_error)?;
            log_connection_errors(&connection);
            let channel = connection
                .create_channel()
                .await
                .map_err(connection_error)?;
            shared
                .topology
                .declare(&channel, shared.options.delivery_limit)
                .await
                .map_err(connection_error)?;
            let _ = channel.close(200, "topology declared".into()).await;
            Ok::<_, QueueError>(Arc::new(connection))
        };
        match tokio::time::timeout(shared.options.connect_timeout, attempt).await {
            Ok(result) => result,
            Err(_) => Err(QueueError::Connection(format!(
                "connecting to RabbitMQ timed out after {:?}",
                shared.options.connect_timeout
            ))),
        }
    }

    /// Retries `open` with the one backoff policy (100 ms doubling up to 2 s, with jitter) until `reconnect_wait` is over.
    /// A refusal (e.g. a queue declared with other arguments) is not retried.
    async fn with_backoff<T, F, Fut>(&self, what: &str, mut open: F) -> Result<T>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T>>,
    {
        let deadline = tokio::time::Instant::now() + self.shared.options.reconnect_wait;
        let mut delays = cigo_retry::exponential(Duration::from_millis(100), Duration::from_secs(2)).build();
        loop {
            match open().await {
                Ok(value) => return Ok(value),
                Err(QueueError::Connection(e)) => {
                    let delay = delays.next().unwrap_or(Duration::from_secs(2));
                    let now = tokio::time::Instant::now();
                    if now + delay > deadline {
                        return Err(QueueError::Connection(e));
                    }
                    tracing::warn!(error = %e, retry_in = ?delay, "{what}: RabbitMQ unreachable");
                    tokio::time::sleep(delay).await;
                }
                Err(other) => return Err(other),
            }
        }
    }

    /// The publishing link, (re)opened if its connection or channel is dead.
    async fn publish_link(&self) -> Result<PublishLink> {
        let mut guard = self.shared.publish.lock().await;
        if let Some(link) = guard.as_mut() {
            if link.connection.status().connected() {
                if link.channel.status().connected() {
                    return Ok(link.clone());
                }
                match open_publish_channel(&link.connection).await {
                    Ok(channel) => {
                        link.channel = channel;
                        return Ok(link.clone());
                    }
                    Err(e) => tracing::warn!(error = %e, "reopening the publish channel failed"),
                }
            }
        }
        if let Some(old) = guard.take() {
            close_quietly(old.connection);
        }
        let link = self
            .with_backoff("publish", || async {
                let connection = self.open_connection("publish").await?;
                let channel = open_publish_channel(&connection)
                    .await
                    .map_err(connection_error)?;
                Ok(PublishLink { connection, channel })
            })
            .await?;
        *guard = Some(link.clone());
        Ok(link)
    }

    /// The consuming connection, (re)opened if dead.
    async fn consume_connection(&self) -> Result<Arc<Connection>> {
        let mut guard = self.shared.consume.lock().await;
        if let Some(connection) = guard.as_ref() {
            if connection.status().connected() {
                return Ok(connection.clone());
            }
        }
        if let Some(old) = guard.take() {
            close_quietly(old);
        }
        let connection = self
            .with_backoff("consume", || self.open_connection("consume"))
            .await?;
        *guard = Some(connection.clone());
        Ok(connection)
    }

    /// Drops the publishing link if it is still `link`, so that the next publish opens a new one.
    async fn forget_publish_link(&self, link: &PublishLink) {
        let mut guard = self.shared.publish.lock().await;
        if guard
            .as_ref()
            .is_some_and(|current| Arc::ptr_eq(&current.connection, &link.connection))
        {
            if let Some(old) = guard.take() {
                close_quietly(old.connection);
            }
        }
    }

    /// Declares the topology again on the publishing connection (after someone deleted it).
    async fn redeclare(&self, connection: &Connection) -> Result<()> {
        let channel = connection
            .create_channel()
            .await
            .map_err(connection_error)?;
        self.shared
            .topology
            .declare(&channel, self.shared.options.delivery_limit)
            .await
            .map_err(connection_error)?;
        let _ = channel.close(200, "topology declared".into()).await;
        Ok(())
    }

    /// Publishes once on `link`. `Ok(false)` means unroutable (no queue bound).
    async fn publish_once(
        &self,
        link: &PublishLink,
        msg: &JobMessage,
        body: &[u8],
        properties: BasicProperties,
    ) -> lapin::Result<Confirmation> {
        link.channel
            .basic_publish(
                self.shared.topology.exchange.as_str().into(),
                msg.kind.as_str().into(),
                BasicPublishOptions { mandatory: true, immediate: false },
                body,
                properties,
            )
            .await?
            .await
    }

    /// The number of messages waiting in every queue of the prefix (passive declarations).
    pub async fn queue_depths(&self) -> Result<Vec<QueueDepth>> {
        let link = self.publish_link().await?;
        let mut out = Vec::new();
        for (kind, queue) in self.shared.topology.all_queues() {
            let channel = link
                .connection
                .create_channel()
                .await
                .map_err(connection_error)?;
            let declared = channel
                .queue_declare(
                    queue.as_str().into(),
                    QueueDeclareOptions { passive: true, ..Default::default() },
                    FieldTable::default(),
                )
                .await;
            match declared {
                Ok(q) => {
                    out.push(QueueDepth { kind, queue, ready: q.message_count(), consumers: q.consumer_count() });
                    let _ = channel.close(200, "depth".into()).await;
                }
                // A missing queue (deleted behind our back) is not an error here.
                Err(e) if is_not_found(&e) => {}
                Err(e) => return Err(connection_error(e)),
            }
        }
        Ok(out)
    }

    /// Removes every message from the queues of the prefix (including the dead letters).
    pub async fn purge(&self) -> Result<()> {
        let link = self.publish_link().await?;
        let channel = link
            .connection
            .create_channel()
            .await
            .map_err(connection_error)?;
        for (_, queue) in self.shared.topology.all_queues() {
            channel
                .queue_purge(queue.into(), QueuePurgeOptions::default())
                .await
                .map_err(connection_error)?;
        }
        let _ = channel.close(200, "purged".into()).await;
        Ok(())
    }

    /// Deletes the queues and exchanges of the prefix (tests clean up with this). The next
    /// publish or consumer declares them again.
    pub async fn delete_topology(&self) -> Result<()> {
        let link = self.publish_link().await?;
        delete_topology_on(&link.connection, &self.shared.topology).await
    }

    /// Closes both connections; a later operation reconnects. Meant for tests of the recovery.
    #[doc(hidden)]
    pub async fn close_connections(&self) {
        if let Some(link) = self.shared.publish.lock().await.as_ref() {
            let _ = link.connection.close(320, "closed by cigo".into()).await;
        }
        if let Some(connection) = self.shared.consume.lock().await.as_ref() {
            let _ = connection.close(320, "closed by cigo".into()).await;
        }
    }
}

/// A dead letter taken from the dead-letter queue: the job, and why the broker dead-lettered it
/// (the first `x-death` entry: its `reason` and `count`).
fn dead_letter(delivery: lapin::message::Delivery, channel: Channel) -> crate::DeadLetter {
    let message = serde_json::from_slice::<JobMessage>(&delivery.data).ok();
    let body = String::from_utf8_lossy(&delivery.data).into_owned();
    let death = delivery
        .properties
        .headers()
        .as_ref()
        .and_then(|h| h.inner().get("x-death").cloned())
        .and_then(|v| match v {
            AMQPValue::FieldArray(a) => a.as_slice().first().cloned(),
            _ => None,
        })
        .and_then(|v| match v {
            AMQPValue::FieldTable(t) => Some(t),
            _ => None,
        });
    let reason = death.as_ref().and_then(|t| match t.inner().get("reason") {
        Some(AMQPValue::LongString(s)) => Some(s.to_string()),
        Some(AMQPValue::ShortString(s)) => Some(s.to_string()),
        _ => None,
    });
    let count = death.as_ref().and_then(|t| match t.inner().get("count") {
        Some(AMQPValue::LongLongInt(i)) => Some(*i),
        Some(AMQPValue::LongInt(i)) => Some(*i as i64),
        Some(AMQPValue::ShortInt(i)) => Some(*i as i64),
        _ => None,
    });
    crate::DeadLetter {
        message,
        body,
        reason,
        count,
        acker: Box::new(RabbitAcker { acker: delivery.acker, settled: AtomicBool::new(false), _channel: channel }),
    }
}

/// Deletes the queues and exchanges of `prefix` with a connection of its own (for test cleanup:
/// works even when the queue under test is gone).
pub async fn delete_topology(url: &str, prefix: &str) -> Result<()> {
    let connection = Connection::connect(url, ConnectionProperties::default())
        .await
        .map_err(|e| QueueError::Connection(e.to_string()))?;
    let result = delete_topology_on(&connection, &Topology::new(prefix)).await;
    let _ = connection.close(200, "cleanup done".into()).await;
    result
}

async fn delete_topology_on(connection: &Connection, topology: &Topology) -> Result<()> {
    let channel = connection
        .create_channel()
        .await
        .map_err(connection_error)?;
    for (_, queue) in topology.all_queues() {
        channel
            .queue_delete(queue.into(), QueueDeleteOptions::default())
            .await
            .map_err(connection_error)?;
    }
    for exchange in [&topology.exchange, &topology.dead_letter_exchange] {
        channel
            .exchange_delete(exchange.as_str().into(), ExchangeDeleteOptions::default())
            .await
            .map_err(connection_error)?;
    }
    let _ = channel.close(200, "deleted".into()).await;
    Ok(())
}

async fn open_publish_channel(connection: &Connection) -> lapin::Result<Channel> {
    let channel = connection.create_channel().await?;
    channel
        .confirm_select(ConfirmSelectOptions::default())
        .await?;
    Ok(channel)
}

fn close_quietly(connection: Arc<Connection>) {
    if connection.status().connected() {
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            handle.spawn(async move {
                let _ = connection.close(200, "reconnecting".into()).await;
            });
        }
    }
}

fn properties(msg: &JobMessage) -> BasicProperties {
    let mut properties = BasicProperties::default()
        .with_delivery_mode(2)
        .with_content_type(ShortString::from("application/json"))
        .with_message_id(ShortString::from(msg.outbox_id.to_string()))
        .with_type(ShortString::from(msg.kind.as_str()));
    if let Some(traceparent) = &msg.trace_context {
        let mut headers = FieldTable::default();
        headers.insert(TRACEPARENT_HEADER.into(), long_string(traceparent));
        properties = properties.with_headers(headers);
    }
    properties
}

#[async_trait]
impl Queue for RabbitQueue {
    fn backend(&self) -> &'static str {
        "rabbitmq"
    }

    async fn publish(&self, msg: &JobMessage) -> Result<()> {
        let body = serde_json::to_vec(msg).map_err(|e| QueueError::Refused(e.to_string()))?;
        let properties = properties(msg);
        let mut failures = 0;
        let mut redeclared = false;
        loop {
            let link = self.publish_link().await?;
            let attempt = tokio::time::timeout(
                self.shared.options.operation_timeout,
                self.publish_once(&link, msg, &body, properties.clone()),
            )
            .await;
            let Ok(confirmed) = attempt else {
                // No confirm in time: the channel is stuck, make the next attempt open a new one.
                failures += 1;
                self.forget_publish_link(&link).await;
                if failures > 2 {
                    return Err(QueueError::Connection("no publisher confirm from the broker in time".into()));
                }
                tracing::warn!("no publisher confirm in time; retrying");
                continue;
            };
            match confirmed {
                Ok(Confirmation::Ack(None)) | Ok(Confirmation::NotRequested) => return Ok(()),
                Ok(Confirmation::Ack(Some(_))) | Ok(Confirmation::Nack(Some(_))) => {
                    // Returned as unroutable: the queue or the binding is gone.
                    if redeclared {
                        return Err(QueueError::Refused(format!("message for {} is unroutable", msg.kind)));
                    }
                    tracing::warn!(kind = %msg.kind, "unroutable message: declaring the topology again");
                    self.redeclare(&link.connection).await?;
                    redeclared = true;
                }
                Ok(Confirmation::Nack(None)) => {
                    return Err(QueueError::Refused(format!(
                        "the broker nacked the message for {} (outbox {})",
                        msg.kind, msg.outbox_id
                    )))
                }
                Err(e) if is_not_found(&e) && !redeclared => {
                    // The exchange is gone (the broker closed the channel): declare it again.
                    tracing::warn!(error = %e, "exchange not found: declaring the topology again");
                    self.redeclare(&link.connection).await?;
                    redeclared = true;
                }
                Err(e) => {
                    failures += 1;
                    if failures > 2 {
                        return Err(connection_error(e));
                    }
                    // The next `publish_link` reopens what died; a duplicate is harmless.
                    tracing::warn!(error = %e, "publish failed; retrying");
                }
            }
        }
    }

    async fn consumer(&self, kind: JobKind, prefetch: u16) -> Result<Box<dyn Consumer>> {
        let queue = self.shared.topology.queue(kind);
        let mut failures = 0;
        loop {
            let connection = self.consume_connection().await?;
            let opened = tokio::time::timeout(
                self.shared.options.operation_timeout,
                open_consumer(&connection, &queue, prefetch),
            )
            .await
            .map_err(|_| QueueError::Connection(format!("opening a consumer of {queue} timed out")))?;
            match opened {
                Ok((channel, consumer)) => return Ok(Box::new(RabbitConsumer { kind, channel, consumer })),
                Err(e) => {
                    failures += 1;
                    if failures > 2 {
                        return Err(connection_error(e));
                    }
                    if is_not_found(&e) {
                        self.redeclare(&connection).await?;
                    } else {
                        tracing::warn!(error = %e, "opening a consumer failed; retrying");
                    }
                }
            }
        }
    }

    async fn ping(&self) -> Result<()> {
        let link = self.publish_link().await?;
        if !link.connection.status().connected() {
            return Err(QueueError::Connection("publish connection not connected".into()));
        }
        let consume_dead = {
            let guard = self.shared.consume.lock().await;
            guard.as_ref().is_some_and(|c| !c.status().connected())
        };
        if consume_dead {
            self.consume_connection().await?;
        }
        Ok(())
    }

    /// One `basic.get` on a channel of its own, which the dead letter holds until it is settled.
    async fn take_dead_letter(&self) -> Result<Option<crate::DeadLetter>> {
        let connection = self.consume_connection().await?;
        let channel = connection
            .create_channel()
            .await
            .map_err(connection_error)?;
        let got = channel
            .basic_get(
                self.shared.topology.dead_letter_queue.as_str().into(),
                lapin::options::BasicGetOptions { no_ack: false },
            )
            .await
            .map_err(connection_error)?;
        match got {
            Some(got) => Ok(Some(dead_letter(got.delivery, channel))),
            None => {
                let _ = channel.close(200, "no dead letter".into()).await;
                Ok(None)
            }
        }
    }
}

async fn open_consumer(
    connection: &Connection,
    queue: &str,
    prefetch: u16,
) -> lapin::Result<(Channel, lapin::Consumer)> {
    let channel = connection.create_channel().await?;
    channel
        .basic_qos(prefetch, BasicQosOptions::default())
        .await?;
    let consumer = channel
        .basic_consume(queue.into(), "".into(), BasicConsumeOptions::default(), FieldTable::default())
        .await?;
    Ok((channel, consumer))
}

struct RabbitConsumer {
    kind: JobKind,
    /// Kept so that the channel lives as long as the consumer (lapin closes a channel when its
    /// last handle is dropped, which gives the unacked messages back to the queue).
    channel: Channel,
    consumer: lapin::Consumer,
}

fn decode(kind: JobKind, delivery: &lapin::message::Delivery) -> Result<JobMessage, String> {
    let mut message: JobMessage = serde_json::from_slice(&delivery.data).map_err(|e| e.to_string())?;
    if message.kind != kind {
        return Err(format!("message of kind {} in the queue of {}", message.kind, kind));
    }
    if message.trace_context.is_none() {
        message.trace_context = delivery
            .properties
            .headers()
            .as_ref()
            .and_then(|h| h.inner().get(TRACEPARENT_HEADER))
            .and_then(|v| match v {
                AMQPValue::LongString(s) => Some(s.to_string()),
                AMQPValue::ShortString(s) => Some(s.to_string()),
                _ => None,
            });
    }
    Ok(message)
}

#[async_trait]
impl Consumer for RabbitConsumer {
    async fn next(&mut self) -> Result<Delivery> {
        loop {
            match self.consumer.next().await {
                Some(Ok(delivery)) => match decode(self.kind, &delivery) {
                    Ok(message) => {
                        return Ok(Delivery {
                            message,
                            redelivered: delivery.redelivered,
                            acker: Box::new(RabbitAcker {
                                acker: delivery.acker,
                                settled: AtomicBool::new(false),
                                _channel: self.channel.clone(),
                            }),
                        })
                    }
                    Err(error) => {
                        tracing::warn!(
                            kind = %self.kind,
                            %error,
                            body_len = delivery.data.len(),
                            "undecodable message rejected to the dead-letter queue"
                        );
                        settled(
                            delivery
                                .acker
                                .reject(BasicRejectOptions { requeue: false })
                                .await,
                        )?;
                    }
                },
                Some(Err(e)) => return Err(QueueError::Connection(e.to_string())),
                None => {
                    return Err(QueueError::Connection(format!(
                        "consumer of {} cancelled (channel {})",
                        self.kind,
                        if self.channel.status().connected() { "open" } else { "closed" }
                    )))
                }
            }
        }
    }
}

struct RabbitAcker {
    acker: lapin::Acker,
    settled: AtomicBool,
    /// Keeps the channel open until the delivery is settled, even if the consumer is dropped.
    _channel: Channel,
}

/// lapin never resolves an ack on a channel that closed meanwhile: bound the wait.
async fn settle_within(settle: impl std::future::Future<Output = lapin::Result<bool>>) -> Result<()> {
    match tokio::time::timeout(SETTLE_TIMEOUT, settle).await {
        Ok(result) => settled(result),
        Err(_) => Err(QueueError::Connection("no answer from the broker to ack/nack".into())),
    }
}

impl RabbitAcker {
    /// A delivery can only be settled on the channel it came from: once that channel is closed
    /// the broker has already given the message back.
    fn check_channel(&self) -> Result<()> {
        if self._channel.status().connected() {
            Ok(())
        } else {
            Err(QueueError::Connection("the channel of this delivery is closed (the message was given back)".into()))
        }
    }

    fn settle(&self) -> Result<()> {
        if self.settled.swap(true, Ordering::SeqCst) {
            Err(QueueError::Refused("delivery already settled".into()))
        } else {
            Ok(())
        }
    }
}

#[async_trait]
impl Acker for RabbitAcker {
    async fn ack(&self) -> Result<()> {
        self.settle()?;
        self.check_channel()?;
        settle_within(self.acker.ack(BasicAckOptions::default())).await
    }

    async fn nack(&self, requeue: bool) -> Result<()> {
        self.settle()?;
        self.check_channel()?;
        settle_within(
            self.acker
                .nack(BasicNackOptions { requeue, multiple: false }),
        )
        .await
    }
}

impl Drop for RabbitAcker {
    fn drop(&mut self) {
        // Dropped without being settled: give the message back now rather than when the channel
        // closes (an unsettled delivery holds a prefetch slot).
        if !self.settled.swap(true, Ordering::SeqCst) && self._channel.status().connected() {
            if let Ok(handle) = tokio::runtime::Handle::try_current() {
                let acker = self.acker.clone();
                let channel = self._channel.clone();
                handle.spawn(async move {
                    let _ = settle_within(acker.nack(BasicNackOptions { requeue: true, multiple: false })).await;
                    drop(channel);
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prefix_is_joined_with_a_separator() {
        assert_eq!(Topology::new("").queue(JobKind::Prevalidazione), "cigo.prevalidazione");
        assert_eq!(Topology::new("staging").queue(JobKind::Prevalidazione), "staging.cigo.prevalidazione");
        assert_eq!(Topology::new("staging").dead_letter_queue, "staging.cigo.dead");
        for given in ["e2e.1.", "blue-", "green_"] {
            assert_eq!(Topology::new(given).exchange, format!("{given}cigo"), "{given} already ends with a separator");
        }
    }
}
