//! End-to-end figures of the pipeline: upload → esito and approval → consegna, in the embedded
//! mode and (when `CIGO_BENCH_SERVERS=1`) on PostgreSQL + RabbitMQ with separate processes.
//!
//! ```sh
//! cargo bench -p cigo --bench pipeline                          # embedded, 1000 domande
//! CIGO_BENCH_SERVERS=1 CIGO_BENCH_DOMANDE=10000 cargo bench -p cigo --bench pipeline
//! ```
//! Prints figures; asserts nothing about time.

#[path = "../../../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};
use support::*;

async fn measure(label: &str, api: &Api, token: &str, files: &[Generated]) {
    let mut esito_secs = Vec::new();
    let mut consegna_secs = Vec::new();
    for generated in files {
        let started = Instant::now();
        let numero = api.upload_ok(token, generated.bytes.clone(), true).await;
        let accepted = started.elapsed().as_secs_f64();
        api.wait_for_state(token, numero, &["PREVALIDATA", "SCARTATA"], Duration::from_secs(600))
            .await;
        esito_secs.push(started.elapsed().as_secs_f64());
        let approving = Instant::now();
        api.post(Some(token), &format!("/api/v1/richieste/{numero}/approvazione"))
            .await;
        api.wait_for_state(token, numero, &["CONSEGNATA", "SCARTATA_IN_INVIO"], Duration::from_secs(600))
            .await;
        consegna_secs.push(approving.elapsed().as_secs_f64());
        println!(
            "{label}: richiesta {numero} ({:.1} MB): 202 after {accepted:.3} s, esito after {:.3} s, consegna {:.3} s after approval",
            generated.bytes.len() as f64 / 1e6,
            esito_secs.last().unwrap(),
            consegna_secs.last().unwrap()
        );
    }
    esito_secs.sort_by(f64::total_cmp);
    consegna_secs.sort_by(f64::total_cmp);
    let median = esito_secs[esito_secs.len() / 2];
    let domande = files[0].total;
    println!(
        "{label}: {domande} domande: upload→esito median {median:.3} s ({:.0} domande/s), approval→consegna median {:.3} s",
        domande as f64 / median,
        consegna_secs[consegna_secs.len() / 2]
    );
}

fn main() {
    let domande: usize = std::env::var("CIGO_BENCH_DOMANDE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let dep = Deployment::embedded(dir.path()).with("CIGO_LOG", "warn");
        // Distinct seeds, so that no domanda overlaps one already protocollata.
        let files: Vec<Generated> = (0..3)
            .map(|i| generate(&dep, domande, 0.1, 9000 + i))
            .collect();
        {
            let (_serve, api) = dep.spawn_api("serve", &["serve"]).await;
            let token = dep.token(CF_A);
            measure("embedded (SQLite, in-process queue)", &api, &token, &files).await;
        }
        if std::env::var("CIGO_BENCH_SERVERS").as_deref() == Ok("1") {
            let servers = Servers::new().await;
            let dep = servers.deployment(dir.path()).with("CIGO_LOG", "warn");
            dep.run(&["migrate"]);
            let (_api, api) = dep.spawn_api("api", &["api", "--no-migrate"]).await;
            let _worker = dep.spawn("worker", &["worker"]);
            let _sender = dep.spawn("sender", &["sender"]);
            let token = dep.token(CF_A);
            measure("postgres+rabbitmq (api, worker, sender processes)", &api, &token, &files).await;
            servers.cleanup().await;
        }
    });
}
