//! What the engineer on call relies on: a wrong setup stops the process at start with one line
//! naming the setting; a broker that is merely down does not stop the API from taking uploads;
//! every process (worker and sender too) can be probed and scraped.
//!
//! The tests that need PostgreSQL and RabbitMQ are ignored by default; `.ci/run` runs them with
//! `--include-ignored`.

mod support;

use std::time::Duration;
use support::*;
use tokio::net::{TcpListener, TcpStream};

/// Runs `cigo args` to its end (failing the test if it is still running after a minute, which
/// would mean it retries instead of failing fast): (exit code, stderr).
async fn run_to_end(dep: &Deployment, args: &[&str]) -> (i32, String) {
    let dep = dep.clone();
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let run = tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        dep.run_status(&args)
    });
    let (code, _, stderr) = tokio::time::timeout(Duration::from_secs(60), run)
        .await
        .expect("the process did not stop on a wrong setup")
        .unwrap();
    (code, stderr)
}

#[tokio::test]
async fn a_separate_worker_without_postgres_stops_at_start() {
    let dir = tempfile::tempdir().unwrap();
    // No database URL: the embedded SQLite database would take jobs off a shared queue.
    let dep = Deployment::embedded(dir.path()).with("CIGO_AMQP_URL", amqp_url());
    for role in ["worker", "sender", "api"] {
        let (code, stderr) = run_to_end(&dep, &[role]).await;
        assert_ne!(code, 0, "{role}: {stderr}");
        assert!(stderr.contains("needs PostgreSQL") && stderr.contains("--database-url"), "{role}: {stderr}");
        assert_eq!(
            stderr
                .trim()
                .lines()
                .filter(|l| l.starts_with("error:"))
                .count(),
            1,
            "{stderr}"
        );
    }
}

#[tokio::test]
async fn an_unknown_database_scheme_stops_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let dep = Deployment::embedded(dir.path()).with("CIGO_DATABASE_URL", "mysql://localhost/cigo");
    let (code, stderr) = run_to_end(&dep, &["serve", "--listen", "127.0.0.1:0"]).await;
    assert_ne!(code, 0, "{stderr}");
    assert!(stderr.contains("unsupported database URL scheme") && stderr.contains("mysql"), "{stderr}");
}

#[tokio::test]
#[ignore = "needs PostgreSQL and RabbitMQ; run by .ci/run with --include-ignored"]
async fn credentials_refused_stop_the_process_at_start() {
    let servers = Servers::new().await;
    let dir = tempfile::tempdir().unwrap();
    let dep = servers.deployment(dir.path());
    dep.run(&["migrate"]);

    // RabbitMQ refuses the password: retrying cannot help.
    let wrong = amqp_url().replace("guest:guest@", "guest:not-the-password@");
    let refused = dep.clone().with("CIGO_AMQP_URL", wrong);
    for role in ["worker", "api"] {
        let (code, stderr) = run_to_end(&refused, &[role, "--listen", "127.0.0.1:0"]).await;
        assert_ne!(code, 0, "{role}: {stderr}");
        assert!(stderr.contains("refused") && stderr.contains("--amqp-url"), "{role}: {stderr}");
    }

    // PostgreSQL refuses the role.
    let admin = admin_url();
    let base = admin
        .rsplit_once('/')
        .unwrap()
        .0
        .replace("postgres@", "no_such_role_cigo@");
    let no_role = dep
        .clone()
        .with("CIGO_DATABASE_URL", format!("{base}/test"));
    let (code, stderr) = run_to_end(&no_role, &["worker"]).await;
    assert_ne!(code, 0, "{stderr}");
    assert!(stderr.contains("cannot open the database") && stderr.contains("no_such_role_cigo"), "{stderr}");
    servers.cleanup().await;
}

/// The status of `GET path`, or `None` while nothing answers.
async fn status_of(api: &Api, path: &str) -> Option<u16> {
    let reply = api
        .http
        .get(format!("{}{path}", api.base))
        .send()
        .await
        .ok()?;
    Some(reply.status().as_u16())
}

/// Forwards every connection accepted on `listener` to RabbitMQ: the broker "comes back" when
/// this starts.
async fn forward_to_rabbitmq(listener: TcpListener) {
    loop {
        let Ok((mut inbound, _)) = listener.accept().await else { return };
        tokio::spawn(async move {
            if let Ok(mut outbound) = TcpStream::connect("127.0.0.1:5672").await {
                let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
            }
        });
    }
}

#[tokio::test]
#[ignore = "needs PostgreSQL and RabbitMQ; run by .ci/run with --include-ignored"]
async fn the_api_takes_uploads_while_the_broker_is_down() {
    let servers = Servers::new().await;
    let dir = tempfile::tempdir().unwrap();
    let dep = servers.deployment(dir.path());
    dep.run(&["migrate"]);
    // The API reaches the broker through a port where nothing listens yet.
    let port = free_port();
    let through = amqp_url().replace("127.0.0.1:5672", &format!("127.0.0.1:{port}"));
    let api_dep = dep.clone().with("CIGO_AMQP_URL", through);
    let (api_process, api) = api_dep.spawn_api("api", &["api", "--no-migrate"]).await;

    let ready = api.get(None, "/readyz").await.expect(503, None);
    assert!(ready.json().to_string().contains("queue"), "{}", ready.json());
    let token = dep.token(CF_A);
    let generated = generate(&dep, 5, 0.0, 11);
    let numero = api.upload_ok(&token, generated.bytes.clone(), false).await;
    assert_eq!(api.richiesta(&token, numero).await["stato"], "RICEVUTA");

    // The broker comes back; workers and senders run; the outbox is published.
    let listener = TcpListener::bind(("127.0.0.1", port)).await.unwrap();
    let proxy = tokio::spawn(forward_to_rabbitmq(listener));
    let _worker = dep.spawn("worker", &["worker"]);
    let _sender = dep.spawn("sender", &["sender"]);
    let done = api
        .wait_for_state(&token, numero, &["CONSEGNATA"], Duration::from_secs(120))
        .await;
    assert_eq!(done["domande_totali"], 5, "{done}");
    let back =
        wait_until(Duration::from_secs(60), || async { (status_of(&api, "/readyz").await == Some(200)).then_some(()) })
            .await;
    assert!(back.is_some(), "readyz after the broker came back:\n{}", api_process.log());
    proxy.abort();
    servers.cleanup().await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL and RabbitMQ; run by .ci/run with --include-ignored"]
async fn worker_and_sender_can_be_probed_and_scraped() {
    let servers = Servers::new().await;
    let dir = tempfile::tempdir().unwrap();
    let dep = servers.deployment(dir.path());
    dep.run(&["migrate"]);
    let (_api, api) = dep.spawn_api("api", &["api", "--no-migrate"]).await;
    let worker_admin = format!("127.0.0.1:{}", free_port());
    let sender_admin = format!("127.0.0.1:{}", free_port());
    let worker = dep.spawn("worker", &["worker", "--admin-listen", &worker_admin]);
    let sender = dep.spawn("sender", &["sender", "--admin-listen", &sender_admin]);
    let worker_ops = Api::new(format!("http://{worker_admin}"));
    let sender_ops = Api::new(format!("http://{sender_admin}"));
    for (ops, process) in [(&worker_ops, &worker), (&sender_ops, &sender)] {
        let up = wait_until(Duration::from_secs(60), || async {
            (status_of(ops, "/readyz").await == Some(200)).then_some(())
        })
        .await;
        assert!(up.is_some(), "{} not ready:\n{}", process.name, process.log());
        ops.get(None, "/healthz").await.expect(200, None);
    }

    let token = dep.token(CF_A);
    let generated = generate(&dep, 3, 0.0, 12);
    let numero = api.upload_ok(&token, generated.bytes, false).await;
    api.wait_for_state(&token, numero, &["CONSEGNATA"], Duration::from_secs(120))
        .await;

    // Each process exports its own jobs, and what its readiness check found.
    for (ops, kind) in [(&worker_ops, "prevalidazione"), (&sender_ops, "invio")] {
        let text = String::from_utf8(ops.get(None, "/metrics").await.expect(200, None).body).unwrap();
        let jobs = text.lines().find(|l| {
            l.starts_with("cigo_jobs_total") && l.contains(&format!("kind=\"{kind}\"")) && l.contains("outcome=\"ok\"")
        });
        assert!(jobs.is_some(), "no {kind} job counted:\n{text}");
        for dependency in ["database", "broker", "blob"] {
            let line = format!("cigo_dependency_up{{dependency=\"{dependency}\"}} 1");
            assert!(text.lines().any(|l| l == line), "{line} missing:\n{text}");
        }
        // The queue lag of both queues, named as the broker names them; nothing waits now.
        for queue in ["prevalidazione", "invio"] {
            let line = format!("cigo_queue_oldest_message_age_seconds{{queue=\"{}cigo.{queue}\"}} 0", servers.prefix());
            assert!(text.lines().any(|l| l == line), "{line} missing:\n{text}");
        }
    }
    servers.cleanup().await;
}

// --- One trace per richiesta -----------------------------------------------------------------

use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{TraceService, TraceServiceServer};
use opentelemetry_proto::tonic::collector::trace::v1::{ExportTraceServiceRequest, ExportTraceServiceResponse};
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
use opentelemetry_proto::tonic::trace::v1::Span;
use std::sync::{Arc, Mutex};

/// A span as the receiver got it, with the service that sent it.
#[derive(Debug, Clone)]
struct Received {
    service: String,
    span: Span,
}

impl Received {
    fn attribute(&self, key: &str) -> Option<String> {
        let value = self
            .span
            .attributes
            .iter()
            .find(|a| a.key == key)?
            .value
            .as_ref()?;
        Some(text_of(value.value.as_ref()?))
    }
}

fn text_of(v: &AnyValue) -> String {
    match v {
        AnyValue::StringValue(s) => s.clone(),
        AnyValue::IntValue(i) => i.to_string(),
        AnyValue::BoolValue(b) => b.to_string(),
        AnyValue::DoubleValue(d) => d.to_string(),
        other => format!("{other:?}"),
    }
}

/// An OTLP/gRPC trace receiver: keeps every span it is sent.
#[derive(Clone, Default)]
struct Receiver(Arc<Mutex<Vec<Received>>>);

#[tonic::async_trait]
impl TraceService for Receiver {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        let mut all = self.0.lock().unwrap();
        for resource in request.into_inner().resource_spans {
            let service = resource
                .resource
                .as_ref()
                .and_then(|r| r.attributes.iter().find(|a| a.key == "service.name"))
                .and_then(|a| a.value.as_ref()?.value.as_ref().map(text_of))
                .unwrap_or_default();
            for scope in resource.scope_spans {
                for span in scope.spans {
                    all.push(Received { service: service.clone(), span });
                }
            }
        }
        Ok(tonic::Response::new(ExportTraceServiceResponse { partial_success: None }))
    }
}

/// The values of `<element>…</element>` in `xml`.
fn values_of(xml: &str, element: &str) -> Vec<String> {
    let (open, close) = (format!("<{element}>"), format!("</{element}>"));
    xml.split(&open)
        .skip(1)
        .filter_map(|rest| rest.split_once(&close).map(|(v, _)| v.trim().to_string()))
        .collect()
}

// Multi-threaded: the receiver must answer while the test waits for a process to stop.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL and RabbitMQ; run by .ci/run with --include-ignored"]
async fn one_trace_runs_from_the_upload_to_the_sending() {
    let receiver = Receiver::default();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(TraceServiceServer::new(receiver.clone()))
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener)),
    );

    let servers = Servers::new().await;
    let dir = tempfile::tempdir().unwrap();
    let dep = servers
        .deployment(dir.path())
        .with("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint);
    dep.run(&["migrate"]);
    let (mut api_process, api) = dep.spawn_api("api", &["api", "--no-migrate"]).await;
    let mut worker = dep.spawn("worker", &["worker"]);
    let mut sender = dep.spawn("sender", &["sender"]);
    let token = dep.token(CF_A);
    let generated = generate(&dep, 3, 0.0, 21);
    let xml = String::from_utf8(generated.bytes.clone()).unwrap();
    let numero = api.upload_ok(&token, generated.bytes, true).await;
    api.wait_for_state(&token, numero, &["PREVALIDATA"], Duration::from_secs(120))
        .await;
    api.post(Some(&token), &format!("/api/v1/richieste/{numero}/approvazione"))
        .await
        .expect(202, None);
    api.wait_for_state(&token, numero, &["CONSEGNATA"], Duration::from_secs(120))
        .await;
    // A clean stop flushes each process's batch of spans.
    for p in [&mut api_process, &mut worker, &mut sender] {
        assert!(p.terminate().success(), "{} did not stop cleanly:\n{}", p.name, p.log());
    }
    let numero_text = numero.to_string();
    let of_richiesta = |r: &Received, name: &str| {
        r.span.name == name && r.attribute("numero_richiesta").as_deref() == Some(numero_text.as_str())
    };
    let all = wait_until(Duration::from_secs(30), || async {
        let all = receiver.0.lock().unwrap().clone();
        let jobs = all.iter().filter(|r| of_richiesta(r, "job")).count();
        let publishes = all.iter().filter(|r| of_richiesta(r, "publish")).count();
        (jobs >= 2 && publishes >= 2).then_some(all)
    })
    .await
    .unwrap_or_else(|| {
        let all = receiver.0.lock().unwrap();
        let seen: Vec<String> = all
            .iter()
            .map(|r| {
                format!(
                    "{}:{} numero={:?} kind={:?}",
                    r.service,
                    r.span.name,
                    r.attribute("numero_richiesta"),
                    r.attribute("kind")
                )
            })
            .collect();
        let logs: String = [&api_process, &worker, &sender]
            .iter()
            .flat_map(|p| {
                p.log()
                    .lines()
                    .rev()
                    .take(15)
                    .map(|l| format!("{}: {l}", p.name))
                    .collect::<Vec<_>>()
            })
            .collect::<Vec<_>>()
            .join("\n");
        panic!("the spans of the richiesta never arrived; received {} spans: {seen:#?}\n{logs}", seen.len())
    });
    server.abort();

    let find = |name: &str, kind: Option<&str>| -> &Received {
        all.iter()
            .find(|r| of_richiesta(r, name) && kind.is_none_or(|k| r.attribute("kind").as_deref() == Some(k)))
            .unwrap_or_else(|| panic!("no {name} span ({kind:?}) of richiesta {numero}"))
    };
    let publish_p = find("publish", Some("prevalidazione"));
    let job_p = find("job", Some("prevalidazione"));
    let transizione = find("transizione", None);
    let publish_i = find("publish", Some("invio"));
    let job_i = find("job", Some("invio"));
    let by_id = |id: &[u8]| all.iter().find(|r| r.span.span_id == id);

    // The upload's HTTP span began the trace; every later step is in it.
    let upload = by_id(&publish_p.span.parent_span_id).expect("the publish has no parent among the spans received");
    assert_eq!(upload.service, "cigo-api");
    let root = all
        .iter()
        .find(|r| r.span.trace_id == upload.span.trace_id && r.span.name == "http" && r.span.parent_span_id.is_empty())
        .expect("the upload's HTTP span");
    assert_eq!(root.attribute("method").as_deref(), Some("POST"), "{root:?}");
    assert_eq!(root.attribute("path").as_deref(), Some("/api/v1/richieste"), "{root:?}");
    for step in [publish_p, job_p, transizione, publish_i, job_i] {
        assert_eq!(step.span.trace_id, root.span.trace_id, "{} ({}) is in another trace", step.span.name, step.service);
    }
    // Each step is the child of the one before it.
    assert_eq!(job_p.span.parent_span_id, publish_p.span.span_id, "the prevalidation job's parent is its publish");
    assert_eq!(job_p.service, "cigo-worker");
    assert_eq!(transizione.span.parent_span_id, publish_p.span.parent_span_id, "the approval continues the upload");
    assert_eq!(publish_i.span.parent_span_id, transizione.span.span_id, "the sending was queued by the approval");
    assert_eq!(job_i.span.parent_span_id, publish_i.span.span_id, "the sending job's parent is its publish");
    assert_eq!(job_i.service, "cigo-sender");
    // The approval's own request is a trace of its own, linked from the step it caused.
    let approval_request = transizione
        .span
        .links
        .first()
        .expect("the approval links to its request");
    let request = by_id(&approval_request.span_id).expect("the approval's request span");
    assert_eq!(request.attribute("method").as_deref(), Some("POST"));
    assert!(
        request
            .attribute("path")
            .unwrap_or_default()
            .ends_with("/approvazione"),
        "{request:?}"
    );

    // No span carries the token, a worker's codice fiscale or an IBAN.
    let mut secrets: Vec<String> = values_of(&xml, "CodiceFiscale")
        .into_iter()
        .filter(|cf| cf != CF_A)
        .collect();
    secrets.extend(values_of(&xml, "Iban"));
    secrets.push(token.clone());
    assert!(secrets.len() > 2, "the file has workers: {secrets:?}");
    for r in &all {
        let texts = r
            .span
            .attributes
            .iter()
            .chain(r.span.events.iter().flat_map(|e| e.attributes.iter()))
            .filter_map(|a| a.value.as_ref()?.value.as_ref().map(text_of))
            .chain([r.span.name.clone()]);
        for text in texts {
            for secret in &secrets {
                assert!(!text.contains(secret.as_str()), "span {} of {} carries {secret}", r.span.name, r.service);
            }
        }
    }
    // The span tree of the richiesta, for the record.
    let mut tree: Vec<&Received> = all
        .iter()
        .filter(|r| r.span.trace_id == root.span.trace_id)
        .collect();
    tree.sort_by_key(|r| r.span.start_time_unix_nano);
    for r in tree {
        let parent = by_id(&r.span.parent_span_id)
            .map(|p| p.span.name.clone())
            .unwrap_or_default();
        println!(
            "{:<12} {:<12} parent={parent:<12} kind={}",
            r.service,
            r.span.name,
            r.attribute("kind").unwrap_or_default()
        );
    }
    servers.cleanup().await;
}
