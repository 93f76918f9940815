//! A full disk in the embedded mode, on a real small filesystem: a tmpfs mounted under the data
//! directory of `cigo serve` (so the test runs as root, as CI does; if the mount is refused the
//! test fails, it is not skipped).
//!
//! The report it reproduces: a richiesta accepted, then the disk filled while the worker wrote its
//! esito; from then on every write answered 500 ("attempted to call begin_with at non-zero
//! transaction depth") even after space was freed, the richiesta stayed IN_ELABORAZIONE and
//! `/readyz` said ready. Now: while the disk is full writes answer 507 `insufficient_storage` and
//! `/readyz` 503; once space is freed, with no restart, `/readyz` is ready again, uploads are
//! accepted and the richiesta the worker could not finish reaches its esito.

mod support;

use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;
use support::*;

/// A tmpfs mounted on a directory, unmounted when dropped (also when the test fails).
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(dir: &Path, size: &str) -> Self {
        std::fs::create_dir_all(dir).unwrap();
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .output()
            .expect("cannot run mount");
        assert!(
            out.status.success(),
            "this test mounts a tmpfs and must run as root: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Tmpfs(dir.to_path_buf())
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        // Lazy: a process of the test may still hold a file open when this runs.
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// Writes to the end of `path` until the filesystem refuses with ENOSPC, to the last bytes.
fn fill(path: &Path) {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    for chunk in [vec![0u8; 256 * 1024], vec![0u8; 4096], vec![0u8; 1]] {
        loop {
            if let Err(e) = file.write_all(&chunk) {
                assert_eq!(e.kind(), ErrorKind::StorageFull, "{e}");
                break;
            }
        }
    }
}

/// The files under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// The files of the blob store, asserting that none is left in its temporary folder.
fn blobs(data: &Path) -> Vec<PathBuf> {
    let all = files_under(&data.join("blobs"));
    assert!(
        all.iter()
            .all(|p| p.extension().is_some_and(|e| e == "xml")),
        "{all:?}"
    );
    all
}

/// `cigo_dependency_up` of the database, as `/metrics` shows it.
async fn database_up(api: &Api) -> String {
    let metrics = api.get(None, "/metrics").await.expect(200, None);
    String::from_utf8_lossy(&metrics.body)
        .lines()
        .find(|l| l.starts_with("cigo_dependency_up{dependency=\"database\"}"))
        .unwrap_or("")
        .to_string()
}

/// Sends an upload of `size` bytes through a socket with a small send buffer, all of it, and only
/// then reads the answer (as a simple client does); the answer, or what went wrong.
async fn send_whole_then_read(api: &Api, token: &str, size: usize) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr: std::net::SocketAddr = api.base.trim_start_matches("http://").parse().unwrap();
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_send_buffer_size(64 * 1024).unwrap();
    let mut s = socket.connect(addr).await.unwrap();
    let head = format!(
        "POST /api/v1/richieste HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/xml\r\nContent-Length: {size}\r\nConnection: close\r\n\r\n"
    );
    if let Err(e) = s.write_all(head.as_bytes()).await {
        return format!("head not sent: {e}");
    }
    let body = vec![b' '; size];
    if let Err(e) = s.write_all(&body).await {
        return format!("body not sent: {e}");
    }
    let mut answer = Vec::new();
    match tokio::time::timeout(Duration::from_secs(30), s.read_to_end(&mut answer)).await {
        Ok(Ok(_)) => String::from_utf8_lossy(&answer).into_owned(),
        Ok(Err(e)) => format!("answer not read: {e} (read {} bytes)", answer.len()),
        Err(_) => "no answer in 30 s".into(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_answers_507_and_everything_resumes_once_space_is_freed() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let _tmpfs = Tmpfs::mount(&data, "16m");
    // Few, quick retries: the job is given back to the queue on the full disk, not dead-lettered.
    let dep = Deployment::embedded(dir.path())
        .with("CIGO_JOB_MAX_ATTEMPTS", "2")
        .with("CIGO_JOB_RETRY_BASE_MS", "100");
    let token = dep.token(CF_A);
    let small = generate(&dep, 3, 0.0, 1);
    let big = generate(&dep, 200, 0.0, 2);
    let later = generate(&dep, 3, 0.0, 3);
    let (serve, api) = dep.spawn_api("serve", &["serve"]).await;
    api.get(None, "/readyz").await.expect(200, None);

    // Prevalidated before the disk fills: its approval is a write the full disk refuses.
    let before = api.upload_ok(&token, small.bytes.clone(), true).await;
    api.wait_for_state(&token, before, &["PREVALIDATA"], Duration::from_secs(60))
        .await;

    // The report: accepted, then the disk fills while the worker reads and writes its esito.
    let accepted = api.upload_ok(&token, big.bytes.clone(), true).await;
    let filler = data.join("filler");
    fill(&filler);

    // Every write is refused as a full disk (507), not as a bug (500): an upload (its spool file),
    // an approval (the database).
    api.upload(&token, later.bytes.clone(), true)
        .await
        .expect(507, Some("insufficient_storage"));
    // A body larger than the socket buffers can hold, sent whole before the answer is read: the
    // server reads and drops the rest after its 507, so the client gets the answer, not a reset.
    let answer = send_whole_then_read(&api, &token, 7 * 1024 * 1024).await;
    assert!(answer.starts_with("HTTP/1.1 507"), "{answer}");
    assert!(answer.contains("\"insufficient_storage\""), "{answer}");
    let approval = api
        .post(Some(&token), &format!("/api/v1/richieste/{before}/approvazione"))
        .await
        .expect(507, Some("insufficient_storage"));
    assert!(
        approval.json()["message"]
            .as_str()
            .unwrap()
            .contains("spazio su disco esaurito"),
        "{}",
        approval.json()
    );
    // Not ready: the database cannot write.
    let not_ready = api
        .get(None, "/readyz")
        .await
        .expect(503, Some("service_unavailable"));
    assert!(
        not_ready.json()["message"]
            .as_str()
            .unwrap()
            .contains("database (non scrivibile)"),
        "{}",
        not_ready.json()
    );
    assert_eq!(database_up(&api).await, "cigo_dependency_up{dependency=\"database\"} 0");
    // The worker met the full disk (its esito, or taking the richiesta in hand) and keeps the job.
    wait_until(Duration::from_secs(60), || async {
        serve
            .log()
            .contains("disk full: job given back to the queue")
            .then_some(())
    })
    .await
    .unwrap_or_else(|| panic!("the worker never met the full disk:\n{}", serve.log()));

    // An upload whose spool and blob fit but whose commit does not: room for exactly the two
    // copies of the file (the spool, the blob store's), not one page more for the database. The
    // worker is pausing meanwhile (it just gave its job back), so the room stays free.
    fill(&filler);
    let pages = |bytes: usize| bytes.div_ceil(4096) as u64;
    let room = 2 * pages(later.bytes.len()) * 4096;
    let filler_file = std::fs::OpenOptions::new()
        .write(true)
        .open(&filler)
        .unwrap();
    filler_file
        .set_len(filler_file.metadata().unwrap().len() - room)
        .unwrap();
    drop(filler_file);
    api.upload(&token, later.bytes.clone(), true)
        .await
        .expect(507, Some("insufficient_storage"));
    // (The log line of the upload's request, not of the approval's.)
    assert!(
        serve
            .log()
            .lines()
            .any(|l| l.contains("path=/api/v1/richieste trace_id") && l.contains("database: disk full")),
        "the upload did not reach its commit:\n{}",
        serve.log()
    );
    // Nothing left behind: the spool file and the blob are removed.
    assert_eq!(files_under(&data.join("spool")), Vec::<PathBuf>::new());
    assert_eq!(blobs(&data).len(), 2, "only the two richieste accepted");

    // Space is freed: no restart.
    std::fs::remove_file(&filler).unwrap();
    wait_until(Duration::from_secs(30), || async {
        (api.get(None, "/readyz").await.status.as_u16() == 200).then_some(())
    })
    .await
    .unwrap_or_else(|| panic!("/readyz did not become ready again:\n{}", serve.log()));
    assert_eq!(database_up(&api).await, "cigo_dependency_up{dependency=\"database\"} 1");

    // Writes work again: a new upload, the approval refused before.
    let nuova = api.upload_ok(&token, later.bytes.clone(), true).await;
    api.post(Some(&token), &format!("/api/v1/richieste/{before}/approvazione"))
        .await
        .expect(202, None);
    // And the richiesta accepted before the disk filled reaches its esito.
    let done = api
        .wait_for_state(&token, accepted, &["PREVALIDATA"], Duration::from_secs(120))
        .await;
    assert_eq!(done["domande_totali"], 200, "{done}");
    api.wait_for_state(&token, nuova, &["PREVALIDATA"], Duration::from_secs(60))
        .await;
    api.wait_for_state(&token, before, &["CONSEGNATA"], Duration::from_secs(60))
        .await;

    // Nothing left behind by the refused upload: the spool is empty, the blob store holds the
    // three richieste accepted.
    assert_eq!(files_under(&data.join("spool")), Vec::<PathBuf>::new());
    assert_eq!(blobs(&data).len(), 3, "the three richieste accepted");
    let log = serve.log();
    assert!(!log.contains("non-zero transaction depth"), "{log}");
    assert!(!log.contains("internal error"), "{log}");
}
