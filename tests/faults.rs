//! Fault injection against the real servers (issue 4): nothing accepted is lost, nothing is done
//! twice, whatever happens to our processes, the broker or the database.
//!
//! One test, five runs in sequence (they stop shared servers, so nothing else may run beside them:
//! this binary holds this one test, and cargo runs test binaries one after another). Each run
//! uploads `UPLOADS` small generated richieste (distinct seeds, direct mode: validated and sent
//! with no approval) from concurrent clients that retry with the same `Idempotency-Key` until they
//! get an answer, while one fault is injected:
//!
//! 1. `kill-workers`: a worker is SIGKILLed every 2 s and started again;
//! 2. `rabbitmq-restart`: `rabbitmqctl stop_app` for a few seconds, then `start_app`;
//! 3. `postgres-restart`: the PostgreSQL cluster is restarted (twice);
//! 4. `kill-api`: the API process is SIGKILLed in the middle of uploads and started again;
//! 5. `kill-senders`: senders are SIGKILLed repeatedly while they number and send.
//!
//! Then, from the database and the blob directory: every upload that got a 202 reaches a final
//! state, every domanda has exactly one esito, protocol numbers are unique and without gaps, no
//! transition happened twice, no blob without a row or row without a blob, and no richiesta
//! exists that no client got a 202 for. A table is printed; any loss or duplicate fails the test.
//! The servers are always restored (a guard, even on panic).

mod support;

use sqlx::Connection;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::*;

const UPLOADS: usize = 500;
const CLIENTS: usize = 16;
const DOMANDE: usize = 3;
const DRAIN_TIMEOUT: Duration = Duration::from_secs(180);
/// Marks, among the notes of the clients, a retry answered from its Idempotency-Key.
const REPLAYED: &str = "replayed";
const FINAL: &[&str] = &["CONSEGNATA", "SCARTATA_IN_INVIO", "SCARTATA"];

#[derive(Debug, Clone, Copy, PartialEq)]
enum Fault {
    KillWorkers,
    RabbitRestart,
    PostgresRestart,
    KillApi,
    KillSenders,
}

impl Fault {
    fn name(self) -> &'static str {
        match self {
            Fault::KillWorkers => "kill-workers",
            Fault::RabbitRestart => "rabbitmq-restart",
            Fault::PostgresRestart => "postgres-restart",
            Fault::KillApi => "kill-api",
            Fault::KillSenders => "kill-senders",
        }
    }
}

/// Restores RabbitMQ and PostgreSQL when dropped (also on panic).
struct ServerGuard;

impl Drop for ServerGuard {
    fn drop(&mut self) {
        rabbit_start();
        postgres_ensure_up();
    }
}

fn sh(program: &str, args: &[&str]) -> bool {
    match Command::new(program).args(args).output() {
        Ok(o) if o.status.success() => true,
        Ok(o) => {
            eprintln!("{program} {args:?} failed: {}", String::from_utf8_lossy(&o.stderr));
            false
        }
        Err(e) => {
            eprintln!("cannot run {program}: {e}");
            false
        }
    }
}

fn rabbit_stop() {
    assert!(sh("rabbitmqctl", &["-q", "stop_app"]), "rabbitmqctl stop_app");
}

fn rabbit_start() {
    sh("rabbitmqctl", &["-q", "start_app"]);
    sh("rabbitmqctl", &["-q", "await_startup"]);
}

fn pg_version() -> String {
    std::fs::read_dir("/etc/postgresql")
        .expect("/etc/postgresql")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .next()
        .expect("a PostgreSQL cluster")
}

fn postgres_restart() {
    let v = pg_version();
    assert!(sh("pg_ctlcluster", &["--skip-systemctl-redirect", &v, "main", "restart"]), "pg_ctlcluster restart");
}

fn postgres_ensure_up() {
    if !sh("pg_isready", &["-h", "127.0.0.1", "-p", "5432", "-q"]) {
        let v = pg_version();
        sh("pg_ctlcluster", &["--skip-systemctl-redirect", &v, "main", "start"]);
        for _ in 0..60 {
            if sh("pg_isready", &["-h", "127.0.0.1", "-p", "5432", "-q"]) {
                return;
            }
            std::thread::sleep(Duration::from_secs(1));
        }
    }
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.unwrap()
}

/// One row of the table.
struct Outcome {
    run: &'static str,
    uploads: usize,
    accepted: usize,
    finished: usize,
    lost: usize,
    duplicated: usize,
    orphans: usize,
    drain_secs: f64,
    notes: Vec<String>,
}

/// The processes of one deployment: one API on a fixed address, two workers, two senders.
struct Cluster {
    dep: Deployment,
    listen: String,
    api: Process,
    workers: Vec<Process>,
    senders: Vec<Process>,
    restarts: usize,
}

impl Cluster {
    fn spawn_api(dep: &Deployment, listen: &str, n: usize) -> Process {
        dep.spawn(&format!("api-{n}"), &["api", "--no-migrate", "--listen", listen])
    }

    fn restart_worker(&mut self, i: usize) {
        self.workers[i].kill();
        self.restarts += 1;
        self.workers[i] = self
            .dep
            .spawn(&format!("worker-{i}-{}", self.restarts), &["worker"]);
    }

    fn restart_sender(&mut self, i: usize) {
        self.senders[i].kill();
        self.restarts += 1;
        self.senders[i] = self
            .dep
            .spawn(&format!("sender-{i}-{}", self.restarts), &["sender"]);
    }

    fn restart_api(&mut self) {
        self.api.kill();
        self.restarts += 1;
        self.api = Self::spawn_api(&self.dep, &self.listen, self.restarts);
    }
}

/// Uploads every file from `CLIENTS` concurrent clients, each retrying (same key) until it gets
/// a 202 or gives up. Returns, per upload, the numeri of the 202s it got, and the time the last
/// upload was accepted.
async fn upload_all(api: Api, token: String, files: Vec<Vec<u8>>) -> (Vec<Vec<i64>>, Vec<String>) {
    let files = Arc::new(files);
    let next = Arc::new(Mutex::new(0usize));
    let results = Arc::new(Mutex::new(vec![Vec::new(); files.len()]));
    let problems = Arc::new(Mutex::new(Vec::new()));
    let mut tasks = Vec::new();
    for _ in 0..CLIENTS {
        let (files, next, results, problems, api, token) =
            (files.clone(), next.clone(), results.clone(), problems.clone(), api.clone(), token.clone());
        tasks.push(tokio::spawn(async move {
            let http = reqwest::Client::builder()
                .timeout(Duration::from_secs(20))
                .build()
                .unwrap();
            loop {
                let i = {
                    let mut n = next.lock().unwrap();
                    if *n >= files.len() {
                        return;
                    }
                    *n += 1;
                    *n - 1
                };
                let key = uuid::Uuid::new_v4().to_string();
                let deadline = Instant::now() + Duration::from_secs(120);
                loop {
                    let sent = http
                        .post(format!("{}/api/v1/richieste?prevalidazione=false", api.base))
                        .bearer_auth(&token)
                        .header("content-type", "application/xml")
                        .header("idempotency-key", &key)
                        .body(files[i].clone())
                        .send()
                        .await;
                    match sent {
                        Ok(r) if r.status().as_u16() == 202 => {
                            if r.headers().contains_key("idempotent-replayed") {
                                problems.lock().unwrap().push(REPLAYED.to_string());
                            }
                            let body: serde_json::Value = r.json().await.unwrap_or_default();
                            match body["numero_richiesta"].as_i64() {
                                Some(n) => {
                                    results.lock().unwrap()[i].push(n);
                                    break;
                                }
                                None => continue,
                            }
                        }
                        Ok(r) if r.status().is_client_error() => {
                            let status = r.status();
                            let text = r.text().await.unwrap_or_default();
                            problems
                                .lock()
                                .unwrap()
                                .push(format!("upload {i}: {status} {text}"));
                            break;
                        }
                        // 5xx or no answer (the API died, the database is restarting...): retry.
                        _ => {}
                    }
                    if Instant::now() > deadline {
                        problems
                            .lock()
                            .unwrap()
                            .push(format!("upload {i}: no 202 within 120 s"));
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let results = results.lock().unwrap().clone();
    let problems = problems.lock().unwrap().clone();
    (results, problems)
}

/// `GET /readyz` status (0 when there is no answer).
async fn readyz(api: &Api) -> u16 {
    match api
        .http
        .get(format!("{}/readyz", api.base))
        .timeout(Duration::from_secs(5))
        .send()
        .await
    {
        Ok(r) => r.status().as_u16(),
        Err(_) => 0,
    }
}

async fn wait_ready(api: &Api, timeout: Duration) -> bool {
    wait_until(timeout, || async { (readyz(api).await == 200).then_some(()) })
        .await
        .is_some()
}

/// Injects `fault` until `stop` is set (and at least for its own sequence).
async fn inject(
    fault: Fault,
    cluster: Arc<tokio::sync::Mutex<Cluster>>,
    api: Api,
    stop: Arc<tokio::sync::Notify>,
) -> Vec<String> {
    let mut notes = Vec::new();
    let stopped = {
        let stop = stop.clone();
        let flag = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let f = flag.clone();
        tokio::spawn(async move {
            stop.notified().await;
            f.store(true, std::sync::atomic::Ordering::SeqCst);
        });
        flag
    };
    let is_stopped = || stopped.load(std::sync::atomic::Ordering::SeqCst);
    tokio::time::sleep(Duration::from_secs(1)).await;
    match fault {
        Fault::KillWorkers => {
            let mut kills = 0;
            while !is_stopped() {
                cluster.lock().await.restart_worker(kills % 2);
                kills += 1;
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
            notes.push(format!("{kills} workers SIGKILLed"));
        }
        Fault::KillSenders => {
            let mut kills = 0;
            while !is_stopped() {
                cluster.lock().await.restart_sender(kills % 2);
                kills += 1;
                tokio::time::sleep(Duration::from_millis(1500)).await;
            }
            notes.push(format!("{kills} senders SIGKILLed"));
        }
        Fault::KillApi => {
            let mut kills = 0;
            while !is_stopped() && kills < 4 {
                cluster.lock().await.restart_api();
                kills += 1;
                tokio::time::sleep(Duration::from_millis(2500)).await;
            }
            notes.push(format!("API SIGKILLed {kills} times"));
        }
        Fault::RabbitRestart => {
            blocking(rabbit_stop).await;
            let down = Instant::now();
            tokio::time::sleep(Duration::from_secs(2)).await;
            let status = readyz(&api).await;
            notes.push(format!("readyz with RabbitMQ down: {status}"));
            assert_eq!(status, 503, "/readyz must say not ready while RabbitMQ is down");
            tokio::time::sleep(Duration::from_secs(3)).await;
            blocking(rabbit_start).await;
            notes.push(format!("RabbitMQ down {:.1} s", down.elapsed().as_secs_f64()));
            assert!(wait_ready(&api, Duration::from_secs(60)).await, "/readyz ready again after RabbitMQ is back");
        }
        Fault::PostgresRestart => {
            for _ in 0..2 {
                let t = Instant::now();
                blocking(postgres_restart).await;
                notes.push(format!("PostgreSQL restarted in {:.1} s", t.elapsed().as_secs_f64()));
                assert!(
                    wait_ready(&api, Duration::from_secs(60)).await,
                    "/readyz ready again after PostgreSQL is back"
                );
                tokio::time::sleep(Duration::from_secs(3)).await;
            }
        }
    }
    notes
}

/// Every regular file under `dir` (but the blob store's `.tmp`), as paths relative to `dir`.
fn files_under(dir: &Path, root: &Path, out: &mut HashSet<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n == ".tmp") {
                continue;
            }
            files_under(&path, root, out);
        } else {
            out.insert(path.strip_prefix(root).unwrap().to_path_buf());
        }
    }
}

async fn run(fault: Fault, seed_base: u64) -> Outcome {
    let servers = Servers::new().await;
    let dir = tempfile::tempdir().unwrap();
    let dep = servers
        .deployment(dir.path())
        .with("CIGO_LOG", "info")
        .with("CIGO_MAX_CONCURRENT_UPLOADS", "64")
        .with("CIGO_DB_MAX_CONNECTIONS", "8")
        .with("CIGO_SLA_REQUEUE_AFTER_SECS", "10")
        .with("CIGO_JOB_RETRY_BASE_MS", "200")
        .with("CIGO_JOB_MAX_ATTEMPTS", "8")
        .with("CIGO_SHUTDOWN_GRACE_SECS", "5");
    dep.run(&["migrate"]);
    let token = dep.token(CF_A);
    let listen = format!("127.0.0.1:{}", free_port());
    let api = Api::new(format!("http://{listen}"));
    let cluster = Cluster {
        api: Cluster::spawn_api(&dep, &listen, 0),
        workers: (0..2)
            .map(|i| dep.spawn(&format!("worker-{i}"), &["worker"]))
            .collect(),
        senders: (0..2)
            .map(|i| dep.spawn(&format!("sender-{i}"), &["sender"]))
            .collect(),
        dep: dep.clone(),
        listen: listen.clone(),
        restarts: 0,
    };
    let cluster = Arc::new(tokio::sync::Mutex::new(cluster));
    assert!(wait_ready(&api, Duration::from_secs(60)).await, "the API is ready");

    let files: Vec<Vec<u8>> = (0..UPLOADS as u64)
        .map(|i| {
            let opts =
                cigo_domain::generate::GenerateOptions { domande: DOMANDE, invalid_ratio: 0.2, seed: seed_base + i };
            let mut bytes = Vec::new();
            cigo_domain::generate::generate(&opts, &mut bytes).unwrap();
            bytes
        })
        .collect();

    let stop = Arc::new(tokio::sync::Notify::new());
    let injector = tokio::spawn(inject(fault, cluster.clone(), api.clone(), stop.clone()));
    let (results, problems) = upload_all(api.clone(), token.clone(), files).await;
    let uploaded = Instant::now();
    // Faults that hit the pipeline itself go on for a while after the uploads.
    if matches!(fault, Fault::KillWorkers | Fault::KillSenders) {
        tokio::time::sleep(Duration::from_secs(4)).await;
    }
    stop.notify_one();
    let mut notes = injector.await.unwrap();
    let replays = problems.iter().filter(|p| *p == REPLAYED).count();
    if replays > 0 {
        notes.push(format!("{replays} retried uploads answered from their Idempotency-Key"));
    }
    notes.extend(problems.iter().filter(|p| *p != REPLAYED).take(5).cloned());

    // Every 202 must reach a final state.
    let accepted: Vec<i64> = results.iter().flatten().copied().collect();
    let accepted_set: HashSet<i64> = accepted.iter().copied().collect();
    let mut db = sqlx::PgConnection::connect(&servers.database_url())
        .await
        .unwrap();
    let url = servers.database_url();
    let drained = wait_until(DRAIN_TIMEOUT, || {
        let (url, accepted_set) = (url.clone(), accepted_set.clone());
        async move {
            tokio::time::sleep(Duration::from_millis(200)).await;
            let mut c = sqlx::PgConnection::connect(&url).await.ok()?;
            let done: Vec<i64> = sqlx::query_scalar("SELECT numero FROM richieste WHERE stato = ANY($1)")
                .bind(FINAL.iter().map(|s| s.to_string()).collect::<Vec<_>>())
                .fetch_all(&mut c)
                .await
                .ok()?;
            let done: HashSet<i64> = done.into_iter().collect();
            accepted_set.is_subset(&done).then_some(())
        }
    })
    .await
    .is_some();
    let drain_secs = uploaded.elapsed().as_secs_f64();
    if !drained {
        notes.push("not drained in time".into());
    }

    // --- The checks, from the database and the blob directory ---------------------------------
    let rows: Vec<(i64, String, String, i64, i64)> =
        sqlx::query_as("SELECT numero, stato, blob_key, domande_totali, domande_protocollate FROM richieste")
            .fetch_all(&mut db)
            .await
            .unwrap();
    let stato: HashMap<i64, String> = rows.iter().map(|r| (r.0, r.1.clone())).collect();
    let finished = accepted_set
        .iter()
        .filter(|n| stato.get(n).is_some_and(|s| FINAL.contains(&s.as_str())))
        .count();
    let lost_uploads = results.iter().filter(|r| r.is_empty()).count();
    let lost = accepted_set.len() - finished + lost_uploads;

    let mut duplicated = 0;
    // One upload, one numero (however many times it was retried).
    let multi = results
        .iter()
        .filter(|r| r.iter().collect::<HashSet<_>>().len() > 1)
        .count();
    if multi > 0 {
        notes.push(format!("{multi} uploads got two numeri"));
    }
    duplicated += multi;
    // Rows no client got a 202 for: an upload with no 202 must leave nothing visible.
    let unseen = rows.iter().filter(|r| !accepted_set.contains(&r.0)).count();
    if unseen > 0 {
        notes.push(format!("{unseen} richieste nobody got a 202 for"));
    }
    duplicated += unseen;
    // Exactly one esito per domanda: the domande of a richiesta are its file's, once each.
    let counts: Vec<(i64, i64, i64)> = sqlx::query_as(
        "SELECT r.numero, r.domande_totali, COUNT(d.progressivo) FROM richieste r \
         LEFT JOIN domande d ON d.numero_richiesta = r.numero GROUP BY r.numero, r.domande_totali",
    )
    .fetch_all(&mut db)
    .await
    .unwrap();
    let bad_counts = counts
        .iter()
        .filter(|(n, totali, count)| {
            let file_level = stato.get(n).is_some_and(|s| s == "SCARTATA") && *count == 0;
            !(file_level || (*totali == DOMANDE as i64 && *count == DOMANDE as i64))
        })
        .count();
    if bad_counts > 0 {
        notes.push(format!("{bad_counts} richieste without exactly {DOMANDE} esiti"));
    }
    duplicated += bad_counts;
    // Protocol numbers: unique, and as many as the counter handed out (no gaps, no reuse).
    let (protocollate, distinct): (i64, i64) =
        sqlx::query_as("SELECT COUNT(protocollo), COUNT(DISTINCT protocollo) FROM domande")
            .fetch_one(&mut db)
            .await
            .unwrap();
    let counter: i64 = sqlx::query_scalar("SELECT COALESCE(SUM(ultimo), 0)::bigint FROM protocollo_contatori")
        .fetch_one(&mut db)
        .await
        .unwrap();
    let esito_protocollate: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM domande WHERE esito = 'PROTOCOLLATA'")
        .fetch_one(&mut db)
        .await
        .unwrap();
    if protocollate != distinct || protocollate != counter || protocollate != esito_protocollate {
        notes.push(format!(
            "protocols: {protocollate} given, {distinct} distinct, counter {counter}, {esito_protocollate} PROTOCOLLATA"
        ));
        duplicated += (protocollate - distinct).max(1) as usize;
    }
    // No change of state made twice (two esiti, two sendings).
    let twice: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM (SELECT numero_richiesta, da, a FROM transizioni \
         GROUP BY numero_richiesta, da, a HAVING COUNT(*) > 1) t",
    )
    .fetch_one(&mut db)
    .await
    .unwrap();
    if twice > 0 {
        notes.push(format!("{twice} transitions made twice"));
    }
    duplicated += twice as usize;
    // Blobs on disk against the rows' blob_key.
    let blob_root = dir.path().join("blobs");
    let mut on_disk = HashSet::new();
    files_under(&blob_root, &blob_root, &mut on_disk);
    let keys: HashSet<PathBuf> = rows.iter().map(|r| PathBuf::from(&r.2)).collect();
    let orphan_blobs = on_disk.difference(&keys).count();
    let missing_blobs = keys.difference(&on_disk).count();
    if orphan_blobs + missing_blobs > 0 {
        notes.push(format!("{orphan_blobs} blobs without a row, {missing_blobs} rows without a blob"));
    }
    let orphans = orphan_blobs + missing_blobs;
    // Dead letters: none expected (a fault is transient).
    let dead: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM errori_elaborazione")
        .fetch_one(&mut db)
        .await
        .unwrap();
    if dead > 0 {
        notes.push(format!("{dead} richieste dead-lettered"));
    }

    {
        let mut c = cluster.lock().await;
        c.api.kill();
        c.workers.iter_mut().for_each(Process::kill);
        c.senders.iter_mut().for_each(Process::kill);
    }
    drop(db);
    if lost + duplicated + orphans > 0 {
        // Keep the logs of a failed run.
        let keep = std::env::temp_dir().join(format!("cigo-faults-{}", fault.name()));
        let _ = std::fs::remove_dir_all(&keep);
        let _ = Command::new("cp")
            .args(["-r", &dir.path().display().to_string(), &keep.display().to_string()])
            .status();
        notes.push(format!("logs kept in {}", keep.display()));
    }
    servers.cleanup().await;
    Outcome {
        run: fault.name(),
        uploads: UPLOADS,
        accepted: accepted_set.len(),
        finished,
        lost,
        duplicated,
        orphans,
        drain_secs,
        notes,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs PostgreSQL and RabbitMQ; run by .ci/run with --include-ignored"]
async fn nothing_lost_nothing_done_twice_under_faults() {
    let _guard = ServerGuard;
    let runs = [Fault::KillWorkers, Fault::RabbitRestart, Fault::PostgresRestart, Fault::KillApi, Fault::KillSenders];
    let only = std::env::var("CIGO_FAULTS_ONLY").ok();
    let mut outcomes = Vec::new();
    for (i, fault) in runs.into_iter().enumerate() {
        if only
            .as_deref()
            .is_some_and(|o| !o.split(',').any(|n| n == fault.name()))
        {
            continue;
        }
        let t = Instant::now();
        let outcome = run(fault, 1_000_000 * (i as u64 + 1)).await;
        eprintln!("{} done in {:.1} s", fault.name(), t.elapsed().as_secs_f64());
        outcomes.push(outcome);
    }
    println!();
    println!(
        "| {:<17} | {:>7} | {:>8} | {:>8} | {:>4} | {:>10} | {:>7} | {:>14} | notes",
        "run", "uploads", "accepted", "finished", "lost", "duplicated", "orphans", "time to drain"
    );
    println!("|{:-<19}|{:-<9}|{:-<10}|{:-<10}|{:-<6}|{:-<12}|{:-<9}|{:-<16}|------", "", "", "", "", "", "", "", "");
    for o in &outcomes {
        println!(
            "| {:<17} | {:>7} | {:>8} | {:>8} | {:>4} | {:>10} | {:>7} | {:>12.1} s | {}",
            o.run,
            o.uploads,
            o.accepted,
            o.finished,
            o.lost,
            o.duplicated,
            o.orphans,
            o.drain_secs,
            o.notes.join("; ")
        );
    }
    let failed: Vec<&str> = outcomes
        .iter()
        .filter(|o| o.lost + o.duplicated + o.orphans > 0 || o.accepted != o.uploads)
        .map(|o| o.run)
        .collect();
    assert!(failed.is_empty(), "losses, duplicates or orphans in: {failed:?} (see the table above)");
}
