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

    // Direct mode on the same deployment; its domande overlap the ones just protocollate
    // (same generator seed): the re-validation at sending rejects every one of them.
    let numero = api.upload_ok(&token, generated.bytes.clone(), false).await;
    let done = api
        .wait_for_state(&token, numero, &["CONSEGNATA", "SCARTATA_IN_INVIO", "SCARTATA"], Duration::from_secs(120))
        .await;
    assert_eq!(done["stato"], "SCARTATA_IN_INVIO", "{done}");
    assert_eq!(done["domande_protocollate"], 0);
    assert!(done["esito_elaborazione"]
        .as_str()
        .unwrap()
        .contains("scartate in fase d'invio"));
    let rejected = api
        .all_domande(&token, numero, Some("SCARTATA_IN_INVIO"))
        .await;
    assert_eq!(rejected.len(), generated.total - generated.invalid.len());
    assert!(rejected[0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["code"] == "ARC-001"));
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
