//! Production layout: PostgreSQL + RabbitMQ, with `cigo api`, `cigo worker` (two of them) and
//! `cigo sender` as separate processes, driven over HTTP.
//!
//! Needs the local servers (PostgreSQL on 127.0.0.1:5432 with trust auth, RabbitMQ on
//! 127.0.0.1:5672 guest/guest): `bash .ci/run` starts them and runs these tests with
//! `--include-ignored`. They fail, never skip, when a server is missing.

mod support;

use std::time::Duration;
use support::*;

#[tokio::test]
#[ignore = "needs PostgreSQL and RabbitMQ; run by .ci/run with --include-ignored"]
async fn the_whole_flow_on_postgres_and_rabbitmq_with_separate_processes() {
    let servers = Servers::new().await;
    let dir = tempfile::tempdir().unwrap();
    let dep = servers.deployment(dir.path());
    dep.run(&["migrate"]);
    let (_api, api) = dep.spawn_api("api", &["api", "--no-migrate"]).await;
    let _w1 = dep.spawn("worker-1", &["worker"]);
    let _w2 = dep.spawn("worker-2", &["worker"]);
    let _sender = dep.spawn("sender", &["sender"]);
    let token = dep.token(CF_A);
    api.get(None, "/readyz").await.expect(200, None);

    let generated = generate(&dep, 1000, 0.1, 7);
    let secs = full_flow(&api, &token, &generated).await;
    println!("postgres+rabbitmq: upload to esito of 1000 domande in {secs:.3} s");

    // The same domande again (a trailing comment makes it another file: the very same bytes
    // would be refused as a duplicate). Now they overlap the ones just protocollate: the archive
    // rules reject each at prevalidation (ARC-001), before anyone approves anything.
    let mut again = generated.bytes.clone();
    again.extend_from_slice(b"\n<!-- di nuovo -->\n");
    let numero = api.upload_ok(&token, again, true).await;
    let done = api
        .wait_for_state(&token, numero, &["PREVALIDATA", "SCARTATA"], Duration::from_secs(120))
        .await;
    assert_eq!(done["stato"], "SCARTATA", "{done}");
    let domande = api.all_domande(&token, numero, None).await;
    let invalid: std::collections::HashSet<u32> = generated.invalid.iter().map(|(p, _)| *p).collect();
    for d in &domande {
        let codes: Vec<&str> = d["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["code"].as_str().unwrap())
            .collect();
        assert_eq!(d["esito"], "SCARTATA", "{d}");
        if !invalid.contains(&(d["progressivo"].as_u64().unwrap() as u32)) {
            assert!(codes.contains(&"ARC-001"), "{d}");
        }
    }

    // Two overlapping richieste prevalidated before either is sent both pass prevalidation; the
    // re-validation at sending (under the protocol lock) rejects the second one sent.
    let fresh = generate(&dep, 10, 0.0, 99);
    let mut twin = fresh.bytes.clone();
    twin.extend_from_slice(b"\n<!-- gemella -->\n");
    let a = api.upload_ok(&token, fresh.bytes.clone(), true).await;
    let b = api.upload_ok(&token, twin, true).await;
    for n in [a, b] {
        let r = api
            .wait_for_state(&token, n, &["PREVALIDATA", "SCARTATA"], Duration::from_secs(120))
            .await;
        assert_eq!(r["stato"], "PREVALIDATA", "{r}");
    }
    for n in [a, b] {
        api.post(Some(&token), &format!("/api/v1/richieste/{n}/approvazione"))
            .await
            .expect(202, None);
    }
    let mut stati = Vec::new();
    for n in [a, b] {
        let r = api
            .wait_for_state(&token, n, &["CONSEGNATA", "SCARTATA_IN_INVIO"], Duration::from_secs(120))
            .await;
        stati.push(r["stato"].as_str().unwrap().to_string());
        if r["stato"] == "SCARTATA_IN_INVIO" {
            assert!(r["esito_elaborazione"]
                .as_str()
                .unwrap()
                .contains("scartate in fase d'invio"));
            let rejected = api.all_domande(&token, n, Some("SCARTATA_IN_INVIO")).await;
            assert_eq!(rejected.len(), 10);
            assert!(rejected[0]["findings"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["code"] == "ARC-001"));
        }
    }
    stati.sort();
    assert_eq!(stati, ["CONSEGNATA", "SCARTATA_IN_INVIO"]);
    servers.cleanup().await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL and RabbitMQ; run by .ci/run with --include-ignored"]
async fn parallel_senders_give_unique_protocol_numbers_and_two_apis_share_the_numbering() {
    let servers = Servers::new().await;
    let dir = tempfile::tempdir().unwrap();
    let dep = servers.deployment(dir.path());
    dep.run(&["migrate"]);
    let (_api1, api1) = dep.spawn_api("api-1", &["api"]).await;
    let (_api2, api2) = dep.spawn_api("api-2", &["api"]).await;
    let _w = dep.spawn("worker", &["worker", "--worker-concurrency", "4"]);
    let _s1 = dep.spawn("sender-1", &["sender"]);
    let _s2 = dep.spawn("sender-2", &["sender"]);
    let token = dep.token(CF_A);

    let mut numeri = Vec::new();
    for seed in 0..6u64 {
        let api = if seed % 2 == 0 { &api1 } else { &api2 };
        numeri.push(
            api.upload_ok(&token, generate(&dep, 40, 0.0, 500 + seed).bytes, false)
                .await,
        );
    }
    let mut sorted = numeri.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), numeri.len(), "numeri richiesta are unique across API processes");
    let mut protocolli = Vec::new();
    for &n in &numeri {
        let done = api1
            .wait_for_state(&token, n, &["CONSEGNATA", "SCARTATA_IN_INVIO", "SCARTATA"], Duration::from_secs(120))
            .await;
        assert_eq!(done["stato"], "CONSEGNATA", "{done}");
        for d in api1.all_domande(&token, n, Some("PROTOCOLLATA")).await {
            protocolli.push(d["protocollo"].as_str().unwrap().to_string());
        }
    }
    assert_eq!(protocolli.len(), 6 * 40);
    protocolli.sort();
    let before = protocolli.len();
    protocolli.dedup();
    assert_eq!(protocolli.len(), before, "protocol numbers are unique");
    servers.cleanup().await;
}

// --- Reliability (issue 4) ------------------------------------------------------------------------

/// The transitions of a richiesta as `DA->A` strings.
async fn transizioni(api: &Api, token: &str, numero: i64) -> Vec<String> {
    let body = api
        .get(Some(token), &format!("/api/v1/richieste/{numero}/transizioni"))
        .await
        .expect(200, None)
        .json();
    let items = body
        .as_array()
        .cloned()
        .or_else(|| body["items"].as_array().cloned())
        .unwrap_or_default();
    items
        .iter()
        .map(|t| format!("{}->{}", t["da"].as_str().unwrap_or("-"), t["a"].as_str().unwrap_or("?")))
        .collect()
}

#[tokio::test]
#[ignore = "needs PostgreSQL and RabbitMQ; run by .ci/run with --include-ignored"]
async fn every_message_delivered_twice_still_one_esito_and_one_protocol_per_domanda() {
    let servers = Servers::new().await;
    let dir = tempfile::tempdir().unwrap();
    // Every relay publishes each outbox row twice: every job message arrives twice.
    let dep = servers
        .deployment(dir.path())
        .with("CIGO_RELAY_PUBLISH_COPIES", "2");
    dep.run(&["migrate"]);
    let (_api, api) = dep.spawn_api("api", &["api", "--no-migrate"]).await;
    let _w1 = dep.spawn("worker-1", &["worker", "--worker-concurrency", "3"]);
    let _w2 = dep.spawn("worker-2", &["worker", "--worker-concurrency", "3"]);
    let _s1 = dep.spawn("sender-1", &["sender", "--sender-concurrency", "2"]);
    let _s2 = dep.spawn("sender-2", &["sender", "--sender-concurrency", "2"]);
    let token = dep.token(CF_A);

    let mut numeri = Vec::new();
    let mut expected = Vec::new();
    for seed in 0..8u64 {
        let generated = generate(&dep, 30, 0.1, 900 + seed);
        // Half in direct mode (validated and sent at once), half approved by hand.
        let direct = seed % 2 == 0;
        numeri.push(
            api.upload_ok(&token, generated.bytes.clone(), !direct)
                .await,
        );
        expected.push((generated.total, generated.total - generated.invalid.len(), direct));
    }
    let mut protocolli = Vec::new();
    for (&n, &(total, valide, direct)) in numeri.iter().zip(&expected) {
        if !direct {
            api.wait_for_state(&token, n, &["PREVALIDATA"], Duration::from_secs(120))
                .await;
            api.post(Some(&token), &format!("/api/v1/richieste/{n}/approvazione"))
                .await
                .expect(202, None);
        }
        let done = api
            .wait_for_state(&token, n, &["CONSEGNATA", "SCARTATA_IN_INVIO", "SCARTATA"], Duration::from_secs(120))
            .await;
        assert_eq!(done["stato"], "CONSEGNATA", "{done}");
        assert_eq!(done["domande_protocollate"], valide as i64, "{done}");
        let domande = api.all_domande(&token, n, None).await;
        assert_eq!(domande.len(), total, "exactly one esito per domanda");
        let mut progressivi: Vec<i64> = domande
            .iter()
            .map(|d| d["progressivo"].as_i64().unwrap())
            .collect();
        progressivi.dedup();
        assert_eq!(progressivi.len(), total);
        for d in &domande {
            if let Some(p) = d["protocollo"].as_str() {
                protocolli.push(p.to_string());
            }
        }
        // Every change of state happened once.
        let steps = transizioni(&api, &token, n).await;
        let mut unique = steps.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), steps.len(), "a transition was made twice: {steps:?}");
    }
    let before = protocolli.len();
    assert_eq!(before, expected.iter().map(|e| e.1).sum::<usize>());
    protocolli.sort();
    protocolli.dedup();
    assert_eq!(protocolli.len(), before, "one protocol number per domanda, never reused");
    servers.cleanup().await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL and RabbitMQ; run by .ci/run with --include-ignored"]
async fn a_job_failing_every_time_is_retried_dead_lettered_shown_and_replayed() {
    let servers = Servers::new().await;
    let dir = tempfile::tempdir().unwrap();
    let dep = servers
        .deployment(dir.path())
        .with("CIGO_JOB_MAX_ATTEMPTS", "3")
        .with("CIGO_JOB_RETRY_BASE_MS", "100");
    dep.run(&["migrate"]);
    let (_api, api) = dep.spawn_api("api", &["api", "--no-migrate"]).await;
    let token = dep.token(CF_A);

    // A real fault: the file of the richiesta disappears from the blob store before a worker
    // runs (every attempt fails as the store cannot read it).
    let generated = generate(&dep, 5, 0.0, 4242);
    let numero = api.upload_ok(&token, generated.bytes.clone(), true).await;
    let blobs = dir.path().join("blobs");
    let blob = find_file(&blobs, &generated.bytes).expect("the blob of the upload");
    std::fs::remove_file(&blob).unwrap();
    let mut worker = dep.spawn("worker", &["worker"]);

    let failed = wait_until(Duration::from_secs(60), || async {
        let r = api.richiesta(&token, numero).await;
        r["errore_elaborazione"].is_string().then_some(r)
    })
    .await
    .expect("the failure is shown on the richiesta");
    assert_eq!(failed["stato"], "IN_ELABORAZIONE", "{failed}");
    assert!(
        failed["esito_elaborazione"]
            .as_str()
            .unwrap()
            .contains("3 tentativi"),
        "{failed}"
    );
    assert!(worker.is_running(), "the worker survives:\n{}", worker.log());
    let metrics = String::from_utf8(api.get(None, "/metrics").await.body).unwrap();
    assert!(metrics.contains("cigo_sla_oldest_unfinished_seconds"), "{metrics}");

    // The operator sees it in the dead-letter queue...
    let listed = dep.run(&["admin", "dlq", "list"]);
    assert!(
        listed
            .lines()
            .any(|l| l.starts_with(&format!("{numero}\tprevalidazione\trejected"))),
        "{listed}"
    );
    // ... the other richieste go on meanwhile ...
    let other = api
        .upload_ok(&token, generate(&dep, 5, 0.0, 4243).bytes, true)
        .await;
    api.wait_for_state(&token, other, &["PREVALIDATA"], Duration::from_secs(60))
        .await;
    // ... puts the file back and replays it.
    std::fs::write(&blob, &generated.bytes).unwrap();
    let replayed = dep.run(&["admin", "dlq", "replay"]);
    assert!(replayed.contains(&format!("{numero}\tprevalidazione\treplayed")), "{replayed}");
    let done = api
        .wait_for_state(&token, numero, &["PREVALIDATA"], Duration::from_secs(60))
        .await;
    assert!(done.get("errore_elaborazione").is_none(), "{done}");
    assert_eq!(dep.run(&["admin", "dlq", "list"]).lines().count(), 1, "only the header is left");
    servers.cleanup().await;
}

/// The file under `dir` (recursively) whose content is `bytes`.
fn find_file(dir: &std::path::Path, bytes: &[u8]) -> Option<std::path::PathBuf> {
    for entry in std::fs::read_dir(dir).ok()?.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if let Some(found) = find_file(&path, bytes) {
                return Some(found);
            }
        } else if std::fs::read(&path).ok().as_deref() == Some(bytes) {
            return Some(path);
        }
    }
    None
}

#[tokio::test]
#[ignore = "needs PostgreSQL and RabbitMQ; run by .ci/run with --include-ignored"]
async fn sigterm_stops_taking_work_and_finishes_what_is_in_flight() {
    let servers = Servers::new().await;
    let dir = tempfile::tempdir().unwrap();
    let dep = servers
        .deployment(dir.path())
        .with("CIGO_SHUTDOWN_GRACE_SECS", "20");
    dep.run(&["migrate"]);
    let (_api, api) = dep.spawn_api("api", &["api", "--no-migrate"]).await;
    let _sender = dep.spawn("sender", &["sender"]);
    let token = dep.token(CF_A);
    let mut numeri = Vec::new();
    for seed in 0..3u64 {
        numeri.push(
            api.upload_ok(&token, generate(&dep, 1000, 0.0, 7000 + seed).bytes, true)
                .await,
        );
    }
    let mut worker = dep.spawn("worker", &["worker", "--worker-concurrency", "1"]);
    // As soon as it holds a job, SIGTERM: it finishes that one (or gives it back) and exits 0.
    wait_until(Duration::from_secs(60), || async {
        let r = api.richiesta(&token, numeri[0]).await;
        (r["stato"] != "RICEVUTA").then_some(())
    })
    .await
    .expect("the worker takes the first job");
    let started = std::time::Instant::now();
    let status = worker.terminate();
    assert!(status.success(), "clean exit: {status:?}\n{}", worker.log());
    assert!(started.elapsed() < Duration::from_secs(25), "within the grace period");
    assert!(worker.log().contains("shutdown requested"), "{}", worker.log());
    // Nothing is left half done: a new worker completes every richiesta.
    let _worker2 = dep.spawn("worker-2", &["worker"]);
    for n in numeri {
        let r = api
            .wait_for_state(&token, n, &["PREVALIDATA"], Duration::from_secs(120))
            .await;
        assert_eq!(r["domande_totali"], 1000);
    }
    servers.cleanup().await;
}
