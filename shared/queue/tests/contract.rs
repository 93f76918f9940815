//! The contract of [`Queue`]: the same tests against the in-process queue and RabbitMQ.
//!
//! RabbitMQ tests need a broker at `CIGO_TEST_AMQP_URL` (default
//! `amqp://guest:guest@127.0.0.1:5672/%2f`) and FAIL when there is none. Each uses its own
//! prefix and deletes its queues and exchanges at the end, also when it fails.

use cigo_domain::JobKind;
use cigo_queue::memory::InProcessQueue;
use cigo_queue::rabbitmq::{delete_topology, RabbitOptions, RabbitQueue};
use cigo_queue::{Consumer, Delivery, JobMessage, Queue, QueueError};
use futures::StreamExt;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(15);
const QUIET: Duration = Duration::from_millis(400);
/// The delivery limit of the test queues (small, so the dead-letter test is quick).
const DELIVERY_LIMIT: u32 = 3;

fn amqp_url() -> String {
    std::env::var("CIGO_TEST_AMQP_URL").unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".to_string())
}

struct Harness {
    queue: Arc<dyn Queue>,
    memory: Option<InProcessQueue>,
    rabbit: Option<RabbitQueue>,
    prefix: String,
}

impl Harness {
    fn memory() -> Self {
        let memory = InProcessQueue::new();
        Self { queue: Arc::new(memory.clone()), memory: Some(memory), rabbit: None, prefix: String::new() }
    }

    async fn rabbit() -> Self {
        let prefix = format!("test-{}-", uuid::Uuid::new_v4().simple());
        let options = RabbitOptions {
            delivery_limit: DELIVERY_LIMIT,
            reconnect_wait: Duration::from_secs(3),
            connection_name: format!("cigo-{prefix}"),
            ..RabbitOptions::default()
        };
        let rabbit = RabbitQueue::connect_with(&amqp_url(), &prefix, options)
            .await
            .unwrap_or_else(|e| panic!("RabbitMQ is required for these tests ({}): {e}", amqp_url()));
        Self { queue: Arc::new(rabbit.clone()), memory: None, rabbit: Some(rabbit), prefix }
    }

    async fn consumer(&self, kind: JobKind, prefetch: u16) -> Box<dyn Consumer> {
        self.queue.consumer(kind, prefetch).await.unwrap()
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        if self.rabbit.is_none() {
            return;
        }
        // Cannot await here (and the test may be unwinding): clean up on a thread of our own.
        let prefix = self.prefix.clone();
        let cleanup = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(delete_topology(&amqp_url(), &prefix))
        });
        match cleanup.join() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("cleanup of {} failed: {e}", self.prefix),
            Err(_) => eprintln!("cleanup of {} panicked", self.prefix),
        }
    }
}

fn msg(kind: JobKind, n: i64) -> JobMessage {
    JobMessage { kind, numero_richiesta: n, outbox_id: 1_000_000 + n, trace_context: None }
}

async fn next(consumer: &mut Box<dyn Consumer>) -> Delivery {
    tokio::time::timeout(WAIT, consumer.next())
        .await
        .expect("no delivery in time")
        .expect("consumer failed")
}

async fn assert_quiet(consumer: &mut Box<dyn Consumer>) {
    if let Ok(got) = tokio::time::timeout(QUIET, consumer.next()).await {
        panic!("unexpected delivery: {got:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// The contract, for both implementations.

async fn round_trip_per_kind(h: &Harness) {
    h.queue.ping().await.unwrap();
    for (i, kind) in JobKind::ALL.into_iter().enumerate() {
        let sent = msg(kind, i as i64 + 1);
        h.queue.publish(&sent).await.unwrap();
        let mut consumer = h.consumer(kind, 10).await;
        let d = next(&mut consumer).await;
        assert_eq!(d.message, sent);
        assert!(!d.redelivered);
        d.ack().await.unwrap();
        assert_quiet(&mut consumer).await;
    }
}

async fn kinds_do_not_mix(h: &Harness) {
    for n in 0..3 {
        h.queue
            .publish(&msg(JobKind::Prevalidazione, n))
            .await
            .unwrap();
    }
    for n in 10..12 {
        h.queue.publish(&msg(JobKind::Invio, n)).await.unwrap();
    }
    let mut invio = h.consumer(JobKind::Invio, 10).await;
    let mut got = Vec::new();
    for _ in 0..2 {
        let d = next(&mut invio).await;
        assert_eq!(d.message.kind, JobKind::Invio);
        got.push(d.message.numero_richiesta);
        d.ack().await.unwrap();
    }
    assert_quiet(&mut invio).await;
    got.sort();
    assert_eq!(got, vec![10, 11]);

    let mut prev = h.consumer(JobKind::Prevalidazione, 10).await;
    let mut got = Vec::new();
    for _ in 0..3 {
        let d = next(&mut prev).await;
        assert_eq!(d.message.kind, JobKind::Prevalidazione);
        got.push(d.message.numero_richiesta);
        d.ack().await.unwrap();
    }
    assert_quiet(&mut prev).await;
    got.sort();
    assert_eq!(got, vec![0, 1, 2]);
}

async fn two_consumers_share_the_messages(h: &Harness) {
    const N: i64 = 30;
    let a = h.consumer(JobKind::Prevalidazione, 1).await;
    let b = h.consumer(JobKind::Prevalidazione, 1).await;
    for n in 0..N {
        h.queue
            .publish(&msg(JobKind::Prevalidazione, n))
            .await
            .unwrap();
    }
    let work = |mut consumer: Box<dyn Consumer>| {
        tokio::spawn(async move {
            let mut got = Vec::new();
            while let Ok(delivery) = tokio::time::timeout(Duration::from_secs(2), consumer.next()).await {
                let d = delivery.unwrap();
                assert!(!d.redelivered);
                got.push(d.message.numero_richiesta);
                // Some work, so that the other consumer gets its share.
                tokio::time::sleep(Duration::from_millis(5)).await;
                d.ack().await.unwrap();
            }
            got
        })
    };
    let (a, b) = (work(a), work(b));
    let (a, b) = (a.await.unwrap(), b.await.unwrap());
    assert!(!a.is_empty() && !b.is_empty(), "a got {}, b got {}", a.len(), b.len());
    let mut all: Vec<i64> = a.iter().chain(&b).copied().collect();
    all.sort();
    assert_eq!(all, (0..N).collect::<Vec<_>>(), "each message exactly once");
}

async fn nack_requeue_redelivers(h: &Harness) {
    let sent = msg(JobKind::Invio, 7);
    h.queue.publish(&sent).await.unwrap();
    let mut consumer = h.consumer(JobKind::Invio, 1).await;
    let d = next(&mut consumer).await;
    assert!(!d.redelivered);
    d.nack(true).await.unwrap();
    let d = next(&mut consumer).await;
    assert_eq!(d.message, sent);
    assert!(d.redelivered);
    d.ack().await.unwrap();
    assert_quiet(&mut consumer).await;
}

async fn nack_without_requeue_drops(h: &Harness) {
    h.queue.publish(&msg(JobKind::Invio, 1)).await.unwrap();
    let mut consumer = h.consumer(JobKind::Invio, 1).await;
    next(&mut consumer).await.nack(false).await.unwrap();
    assert_quiet(&mut consumer).await;
}

/// Waits for the next dead letter (RabbitMQ dead-letters asynchronously).
async fn take_dead_letter(h: &Harness) -> cigo_queue::DeadLetter {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        if let Some(letter) = h.queue.take_dead_letter().await.unwrap() {
            return letter;
        }
        assert!(tokio::time::Instant::now() < deadline, "no dead letter in time");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn rejected_messages_are_dead_letters_until_removed(h: &Harness) {
    assert!(h.queue.take_dead_letter().await.unwrap().is_none());
    let sent = msg(JobKind::Prevalidazione, 42);
    h.queue.publish(&sent).await.unwrap();
    let mut consumer = h.consumer(JobKind::Prevalidazione, 1).await;
    next(&mut consumer).await.nack(false).await.unwrap();
    let letter = take_dead_letter(h).await;
    assert_eq!(letter.message.as_ref(), Some(&sent));
    assert_eq!(letter.reason.as_deref(), Some("rejected"));
    // Kept: taken again later; removed: gone.
    letter.nack(true).await.unwrap();
    let letter = take_dead_letter(h).await;
    assert_eq!(letter.message.as_ref(), Some(&sent));
    letter.ack().await.unwrap();
    tokio::time::sleep(QUIET).await;
    assert!(h.queue.take_dead_letter().await.unwrap().is_none());
    assert_quiet(&mut consumer).await;
}

async fn settling_twice_is_refused(h: &Harness) {
    h.queue.publish(&msg(JobKind::Invio, 1)).await.unwrap();
    let mut consumer = h.consumer(JobKind::Invio, 1).await;
    let d = next(&mut consumer).await;
    d.acker.ack().await.unwrap();
    assert!(matches!(d.acker.nack(true).await, Err(QueueError::Refused(_))));
    drop(d);
    assert_quiet(&mut consumer).await;
}

async fn unacked_when_the_consumer_is_dropped_is_redelivered(h: &Harness) {
    let kind = JobKind::Prevalidazione;
    h.queue.publish(&msg(kind, 1)).await.unwrap();
    h.queue.publish(&msg(kind, 2)).await.unwrap();
    let mut consumer = h.consumer(kind, 10).await;
    let first = next(&mut consumer).await;
    let taken = first.message.numero_richiesta;
    // With RabbitMQ the other message is prefetched by this consumer: it comes back only
    // because the consumer's channel closes.
    drop(first);
    drop(consumer);

    let mut again = h.consumer(kind, 10).await;
    let mut seen = HashMap::new();
    for _ in 0..2 {
        let d = next(&mut again).await;
        seen.insert(d.message.numero_richiesta, d.redelivered);
        d.ack().await.unwrap();
    }
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_eq!(seen.get(&taken), Some(&true), "{seen:?}");
    assert_quiet(&mut again).await;
}

async fn trace_context_survives(h: &Harness) {
    let traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let sent = JobMessage { trace_context: Some(traceparent.to_string()), ..msg(JobKind::Invio, 3) };
    h.queue.publish(&sent).await.unwrap();
    let mut consumer = h.consumer(JobKind::Invio, 1).await;
    let d = next(&mut consumer).await;
    assert_eq!(d.message.trace_context.as_deref(), Some(traceparent));
    assert_eq!(d.message, sent);
    d.ack().await.unwrap();
}

async fn a_thousand_messages_no_loss_no_duplicates(h: &Harness) {
    const N: i64 = 1000;
    let started = std::time::Instant::now();
    let queue = h.queue.clone();
    let results: Vec<_> = futures::stream::iter(0..N)
        .map(|n| {
            let queue = queue.clone();
            async move { queue.publish(&msg(JobKind::Prevalidazione, n)).await }
        })
        .buffer_unordered(64)
        .collect()
        .await;
    for r in results {
        r.unwrap();
    }
    let published = started.elapsed();

    let mut consumer = h.consumer(JobKind::Prevalidazione, 100).await;
    let mut seen = HashSet::new();
    while seen.len() < N as usize {
        let d = next(&mut consumer).await;
        assert!(seen.insert(d.message.numero_richiesta), "duplicate {}", d.message.numero_richiesta);
        d.ack().await.unwrap();
    }
    assert_quiet(&mut consumer).await;
    eprintln!("{}: 1000 published in {published:?}, all consumed in {:?}", h.queue.backend(), started.elapsed());
}

async fn consumer_can_be_made_before_publishing(h: &Harness) {
    let mut consumer = h.consumer(JobKind::Invio, 5).await;
    let waiting = tokio::spawn(async move {
        let d = next(&mut consumer).await;
        let n = d.message.numero_richiesta;
        d.ack().await.unwrap();
        n
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    h.queue.publish(&msg(JobKind::Invio, 99)).await.unwrap();
    assert_eq!(waiting.await.unwrap(), 99);
}

macro_rules! contract_tests {
    ($($name:ident),* $(,)?) => {
        mod memory {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let h = super::Harness::memory();
                    super::$name(&h).await;
                }
            )*
        }
        mod rabbitmq {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                #[ignore = "needs RabbitMQ; run by .ci/run with --include-ignored"]
                async fn $name() {
                    let h = super::Harness::rabbit().await;
                    super::$name(&h).await;
                }
            )*
        }
    };
}

contract_tests!(
    round_trip_per_kind,
    kinds_do_not_mix,
    two_consumers_share_the_messages,
    nack_requeue_redelivers,
    nack_without_requeue_drops,
    rejected_messages_are_dead_letters_until_removed,
    settling_twice_is_refused,
    unacked_when_the_consumer_is_dropped_is_redelivered,
    trace_context_survives,
    a_thousand_messages_no_loss_no_duplicates,
    consumer_can_be_made_before_publishing,
);

// ---------------------------------------------------------------------------------------------
// In-process only.

#[tokio::test]
async fn memory_publish_after_shutdown_is_closed() {
    let h = Harness::memory();
    let memory = h.memory.clone().unwrap();
    let mut consumer = h.consumer(JobKind::Invio, 1).await;
    h.queue.publish(&msg(JobKind::Invio, 1)).await.unwrap();
    assert_eq!(memory.depths()[1], (JobKind::Invio, 1));
    let waiting = h.consumer(JobKind::Prevalidazione, 1).await;
    let waiting = tokio::spawn(async move {
        let mut waiting = waiting;
        waiting.next().await
    });
    tokio::time::sleep(Duration::from_millis(50)).await;

    memory.shutdown();
    assert!(matches!(h.queue.publish(&msg(JobKind::Invio, 2)).await, Err(QueueError::Closed)));
    assert!(matches!(consumer.next().await, Err(QueueError::Closed)));
    assert!(matches!(tokio::time::timeout(WAIT, waiting).await.unwrap().unwrap(), Err(QueueError::Closed)));
    assert!(matches!(h.queue.ping().await, Err(QueueError::Closed)));
    assert!(h.queue.consumer(JobKind::Invio, 1).await.is_err());
}

#[tokio::test]
#[ignore = "needs RabbitMQ; run by .ci/run with --include-ignored"]
async fn connect_by_url() {
    let memory = cigo_queue::connect("memory:", "").await.unwrap();
    assert_eq!(memory.backend(), "memory");
    assert!(matches!(cigo_queue::connect("kafka://x", "").await, Err(QueueError::Refused(_))));
    let prefix = format!("test-{}-", uuid::Uuid::new_v4().simple());
    let rabbit = cigo_queue::connect(&amqp_url(), &prefix).await.unwrap();
    assert_eq!(rabbit.backend(), "rabbitmq");
    rabbit.ping().await.unwrap();
    delete_topology(&amqp_url(), &prefix).await.unwrap();
}

// ---------------------------------------------------------------------------------------------
// RabbitMQ only.

/// A raw connection for publishing bodies that bypass [`RabbitQueue`] and for reading the
/// dead-letter queue.
async fn raw_channel() -> (lapin::Connection, lapin::Channel) {
    let connection = lapin::Connection::connect(&amqp_url(), lapin::ConnectionProperties::default())
        .await
        .unwrap();
    let channel = connection.create_channel().await.unwrap();
    (connection, channel)
}

async fn raw_publish(channel: &lapin::Channel, queue: &str, body: &[u8], props: lapin::BasicProperties) {
    channel
        .basic_publish("".into(), queue.into(), Default::default(), body, props)
        .await
        .unwrap()
        .await
        .unwrap();
}

/// Waits for `n` messages in the dead-letter queue and returns their bodies.
async fn dead_letters(channel: &lapin::Channel, queue: &str, n: usize) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let deadline = tokio::time::Instant::now() + WAIT;
    while out.len() < n {
        assert!(tokio::time::Instant::now() < deadline, "only {} of {n} dead letters arrived", out.len());
        match channel
            .basic_get(queue.into(), lapin::options::BasicGetOptions { no_ack: true })
            .await
            .unwrap()
        {
            Some(message) => out.push(message.delivery.data),
            None => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs RabbitMQ; run by .ci/run with --include-ignored"]
async fn rabbitmq_undecodable_message_is_dead_lettered_and_the_consumer_goes_on() {
    let h = Harness::rabbit().await;
    let rabbit = h.rabbit.clone().unwrap();
    let topology = rabbit.topology().clone();
    let queue = topology.queue(JobKind::Prevalidazione);
    let (_connection, channel) = raw_channel().await;

    let mut consumer = h.consumer(JobKind::Prevalidazione, 5).await;
    raw_publish(&channel, &queue, b"this is not json", Default::default()).await;
    let wrong_kind = serde_json::to_vec(&msg(JobKind::Invio, 5)).unwrap();
    raw_publish(&channel, &queue, &wrong_kind, Default::default()).await;
    let good = msg(JobKind::Prevalidazione, 6);
    h.queue.publish(&good).await.unwrap();

    let d = next(&mut consumer).await;
    assert_eq!(d.message, good);
    d.ack().await.unwrap();
    assert_quiet(&mut consumer).await;

    let mut dead = dead_letters(&channel, &topology.dead_letter_queue, 2).await;
    dead.sort();
    let mut expected = vec![b"this is not json".to_vec(), wrong_kind];
    expected.sort();
    assert_eq!(dead, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs RabbitMQ; run by .ci/run with --include-ignored"]
async fn rabbitmq_message_nacked_past_the_delivery_limit_is_dead_lettered() {
    let h = Harness::rabbit().await;
    let rabbit = h.rabbit.clone().unwrap();
    let sent = msg(JobKind::Invio, 8);
    h.queue.publish(&sent).await.unwrap();
    let mut consumer = h.consumer(JobKind::Invio, 1).await;
    let mut deliveries = 0;
    while let Ok(d) = tokio::time::timeout(Duration::from_secs(1), consumer.next()).await {
        let d = d.unwrap();
        assert_eq!(d.message, sent);
        assert_eq!(d.redelivered, deliveries > 0);
        deliveries += 1;
        assert!(deliveries <= DELIVERY_LIMIT + 1, "delivered {deliveries} times");
        d.nack(true).await.unwrap();
    }
    assert!(deliveries >= DELIVERY_LIMIT, "delivered only {deliveries} times");

    let (_connection, channel) = raw_channel().await;
    let dead = dead_letters(&channel, &rabbit.topology().dead_letter_queue, 1).await;
    let body: JobMessage = serde_json::from_slice(&dead[0]).unwrap();
    assert_eq!(body, sent);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs RabbitMQ; run by .ci/run with --include-ignored"]
async fn rabbitmq_traceparent_header_alone_is_read() {
    let h = Harness::rabbit().await;
    let rabbit = h.rabbit.clone().unwrap();
    let (_connection, channel) = raw_channel().await;
    let traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    let mut headers = lapin::types::FieldTable::default();
    headers.insert("traceparent".into(), lapin::types::AMQPValue::LongString(traceparent.into()));
    let body = serde_json::to_vec(&msg(JobKind::Invio, 4)).unwrap();
    raw_publish(
        &channel,
        &rabbit.topology().queue(JobKind::Invio),
        &body,
        lapin::BasicProperties::default().with_headers(headers),
    )
    .await;
    let mut consumer = h.consumer(JobKind::Invio, 1).await;
    let d = next(&mut consumer).await;
    assert_eq!(d.message.trace_context.as_deref(), Some(traceparent));
    d.ack().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs RabbitMQ; run by .ci/run with --include-ignored"]
async fn rabbitmq_messages_are_persistent_json_with_message_id_and_header() {
    let h = Harness::rabbit().await;
    let rabbit = h.rabbit.clone().unwrap();
    let sent = JobMessage {
        trace_context: Some("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01".into()),
        ..msg(JobKind::Prevalidazione, 12)
    };
    h.queue.publish(&sent).await.unwrap();
    let (_connection, channel) = raw_channel().await;
    let got = channel
        .basic_get(
            rabbit.topology().queue(JobKind::Prevalidazione).into(),
            lapin::options::BasicGetOptions { no_ack: true },
        )
        .await
        .unwrap()
        .expect("the message");
    let props = &got.delivery.properties;
    assert_eq!(*props.delivery_mode(), Some(2));
    assert_eq!(props.content_type().as_ref().map(|s| s.as_str()), Some("application/json"));
    assert_eq!(props.message_id().as_ref().map(|s| s.to_string()), Some(sent.outbox_id.to_string()));
    let header = props
        .headers()
        .as_ref()
        .and_then(|h| h.inner().get("traceparent").cloned());
    assert_eq!(header, Some(lapin::types::AMQPValue::LongString(sent.trace_context.clone().unwrap().into())));
    let body: JobMessage = serde_json::from_slice(&got.delivery.data).unwrap();
    assert_eq!(body, sent);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs RabbitMQ; run by .ci/run with --include-ignored"]
async fn rabbitmq_recovers_after_the_connection_is_lost() {
    let h = Harness::rabbit().await;
    let rabbit = h.rabbit.clone().unwrap();
    let mut consumer = h.consumer(JobKind::Invio, 5).await;
    h.queue.publish(&msg(JobKind::Invio, 1)).await.unwrap();
    let held = next(&mut consumer).await;
    assert_eq!(held.message.numero_richiesta, 1);

    rabbit.close_connections().await;

    // The consumer is dead and says so; settling on the dead channel fails.
    let err = tokio::time::timeout(WAIT, consumer.next())
        .await
        .expect("next() must not hang on a dead channel");
    assert!(matches!(err, Err(QueueError::Connection(_))), "{err:?}");
    assert!(held.ack().await.is_err());

    // Everything reconnects lazily.
    h.queue.ping().await.unwrap();
    h.queue.publish(&msg(JobKind::Invio, 2)).await.unwrap();
    let mut consumer = h.consumer(JobKind::Invio, 5).await;
    let mut seen = HashMap::new();
    for _ in 0..2 {
        let d = next(&mut consumer).await;
        seen.insert(d.message.numero_richiesta, d.redelivered);
        d.ack().await.unwrap();
    }
    assert_eq!(seen.get(&1), Some(&true), "the unacked message came back: {seen:?}");
    assert_eq!(seen.get(&2), Some(&false), "{seen:?}");
}

/// Closes, broker side, the connections whose name contains `name` (needs `rabbitmqctl`).
fn rabbitmqctl_close_connections(name: &str) -> usize {
    let out = std::process::Command::new("rabbitmqctl")
        .args(["-q", "list_connections", "pid", "client_properties"])
        .output()
        .expect("rabbitmqctl");
    let mut closed = 0;
    for line in String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.contains(name))
    {
        let pid = line.split_whitespace().next().unwrap();
        let status = std::process::Command::new("rabbitmqctl")
            .args(["-q", "close_connection", pid, "killed by the cigo-queue test"])
            .status()
            .unwrap();
        assert!(status.success());
        closed += 1;
    }
    closed
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs rabbitmqctl on the broker's host"]
async fn rabbitmq_recovers_after_the_broker_closes_the_connections() {
    let h = Harness::rabbit().await;
    let mut consumer = h.consumer(JobKind::Invio, 5).await;
    h.queue.publish(&msg(JobKind::Invio, 1)).await.unwrap();
    let held = next(&mut consumer).await;

    let name = format!("cigo-{}", h.prefix);
    let closed = tokio::task::spawn_blocking(move || rabbitmqctl_close_connections(&name))
        .await
        .unwrap();
    assert_eq!(closed, 2, "publish and consume connections");

    let err = tokio::time::timeout(WAIT, consumer.next())
        .await
        .expect("next() must not hang");
    assert!(matches!(err, Err(QueueError::Connection(_))), "{err:?}");
    assert!(held.ack().await.is_err());
    h.queue.ping().await.unwrap();
    h.queue.publish(&msg(JobKind::Invio, 2)).await.unwrap();
    let mut consumer = h.consumer(JobKind::Invio, 5).await;
    let mut seen = HashMap::new();
    for _ in 0..2 {
        let d = next(&mut consumer).await;
        seen.insert(d.message.numero_richiesta, d.redelivered);
        d.ack().await.unwrap();
    }
    assert_eq!(seen.get(&1), Some(&true), "{seen:?}");
    assert_eq!(seen.get(&2), Some(&false), "{seen:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs RabbitMQ; run by .ci/run with --include-ignored"]
async fn rabbitmq_republishes_after_the_topology_was_deleted() {
    let h = Harness::rabbit().await;
    let rabbit = h.rabbit.clone().unwrap();
    rabbit.delete_topology().await.unwrap();
    // Unroutable → declared again → published.
    h.queue.publish(&msg(JobKind::Invio, 1)).await.unwrap();
    let mut consumer = h.consumer(JobKind::Invio, 1).await;
    assert_eq!(next(&mut consumer).await.message.numero_richiesta, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs RabbitMQ; run by .ci/run with --include-ignored"]
async fn rabbitmq_queue_depths_and_purge() {
    let h = Harness::rabbit().await;
    let rabbit = h.rabbit.clone().unwrap();
    for n in 0..3 {
        h.queue
            .publish(&msg(JobKind::Prevalidazione, n))
            .await
            .unwrap();
    }
    h.queue.publish(&msg(JobKind::Invio, 9)).await.unwrap();
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let depths = rabbit.queue_depths().await.unwrap();
        assert_eq!(depths.len(), 3);
        let ready: HashMap<_, _> = depths.iter().map(|d| (d.kind, d.ready)).collect();
        if ready[&Some(JobKind::Prevalidazione)] == 3 && ready[&Some(JobKind::Invio)] == 1 {
            assert_eq!(ready[&None], 0);
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{depths:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    rabbit.purge().await.unwrap();
    let depths = rabbit.queue_depths().await.unwrap();
    assert!(depths.iter().all(|d| d.ready == 0), "{depths:?}");
}

#[tokio::test]
async fn rabbitmq_unreachable_broker_is_a_connection_error_after_a_bounded_wait() {
    let started = std::time::Instant::now();
    let options = RabbitOptions {
        reconnect_wait: Duration::from_millis(800),
        connect_timeout: Duration::from_millis(500),
        ..RabbitOptions::default()
    };
    // Port 1 on localhost: nothing listens there.
    let err = RabbitQueue::connect_with("amqp://guest:guest@127.0.0.1:1/%2f", "x-", options)
        .await
        .unwrap_err();
    assert!(matches!(err, QueueError::Connection(_)), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
}
