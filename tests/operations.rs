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
    }
    servers.cleanup().await;
}
