//! Issue 5: hostile input against the running service, in the embedded mode and on PostgreSQL +
//! RabbitMQ. Every case must end in a precise 4xx at upload or a file-level SCARTATA with its own
//! code, in bounded time, and a normal upload must succeed right after.
//!
//! The file corpus is `tests/hostile/` (expectations in `tests/hostile/expected.tsv`); the
//! HTTP-level cases (size, gzip, slow clients, content types, numbers) are built here.

mod support;

use std::io::Write;
use std::time::{Duration, Instant};
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Upload limit of the deployments under test (small, so that the oversize cases are quick).
const LIMIT: u64 = 2 * 1024 * 1024;
/// Every case, from upload to final state, must end within this.
const BOUND: Duration = Duration::from_secs(20);

fn corpus_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/hostile")
}

/// Expands `{{REPEAT:s:n}}` and `{{PORT}}`.
fn expand(raw: &[u8], port: u16) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(i) = find(rest, b"{{") {
        out.extend_from_slice(&rest[..i]);
        let j = find(&rest[i..], b"}}").expect("unclosed {{") + i;
        let tag = std::str::from_utf8(&rest[i + 2..j]).unwrap();
        if tag == "PORT" {
            out.extend_from_slice(port.to_string().as_bytes());
        } else {
            let spec = tag.strip_prefix("REPEAT:").expect("unknown tag");
            let (s, n) = spec.rsplit_once(':').unwrap();
            out.extend_from_slice(s.repeat(n.parse().unwrap()).as_bytes());
        }
        rest = &rest[j + 2..];
    }
    out.extend_from_slice(rest);
    out
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

struct Ctx {
    api: Api,
    token: String,
    normal: Vec<u8>,
    copies: std::sync::atomic::AtomicU32,
}

impl Ctx {
    /// The normal file, each time as a different file (the same file twice is a duplicate).
    fn normal(&self) -> Vec<u8> {
        let n = self
            .copies
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut v = self.normal.clone();
        v.extend_from_slice(format!("\n<!-- copia {n} -->\n").as_bytes());
        v
    }

    /// The service is healthy and a normal upload goes through prevalidation.
    async fn still_healthy(&self, case: &str) {
        self.api.get(None, "/healthz").await.expect(200, None);
        let started = Instant::now();
        let n = self.api.upload_ok(&self.token, self.normal(), true).await;
        let r = self
            .api
            .wait_for_state(&self.token, n, &["PREVALIDATA", "SCARTATA"], BOUND)
            .await;
        assert_eq!(r["stato"], "PREVALIDATA", "normal upload after {case}: {r}");
        assert!(started.elapsed() < BOUND, "normal upload after {case} too slow");
    }

    async fn raw(&self, content_type: Option<&str>, encoding: Option<&str>, body: Vec<u8>) -> Reply {
        let mut req = self
            .api
            .http
            .post(format!("{}/api/v1/richieste", self.api.base))
            .bearer_auth(&self.token)
            .body(body);
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        if let Some(e) = encoding {
            req = req.header("content-encoding", e);
        }
        self.api.send(req).await
    }

    /// Asserts a 4xx with its code, in bounded time, then that the service is still fine.
    async fn expect_refused(&self, case: &str, reply: Reply, started: Instant, status: u16, code: &str) {
        assert_eq!(reply.status.as_u16(), status, "{case}: {}", String::from_utf8_lossy(&reply.body));
        assert_eq!(reply.json()["code"], code, "{case}");
        assert!(started.elapsed() < BOUND, "{case}: took {:?}", started.elapsed());
        self.still_healthy(case).await;
    }
}

async fn run_everything(dep: &Deployment, api: Api) {
    let token = dep.token(CF_A);
    let normal = generate(dep, 3, 0.0, 71).bytes;
    // No connection reuse: the server closes a connection whose body it refused to read.
    let api = Api {
        base: api.base,
        http: reqwest::Client::builder()
            .pool_max_idle_per_host(0)
            .timeout(Duration::from_secs(120))
            .build()
            .unwrap(),
    };
    let ctx = Ctx { api, token, normal, copies: Default::default() };
    // A port nobody should ever connect to: the XXE files point at it.
    let trap = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    trap.set_nonblocking(true).unwrap();
    let port = trap.local_addr().unwrap().port();

    // --- The file corpus ---------------------------------------------------------------------
    let manifest = std::fs::read_to_string(corpus_dir().join("expected.tsv")).unwrap();
    let mut cases = 0;
    for line in manifest
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let (file, expected) = line.split_once('\t').expect("file<TAB>expected");
        let bytes = expand(&std::fs::read(corpus_dir().join(file)).unwrap(), port);
        let started = Instant::now();
        let n = ctx.api.upload_ok(&ctx.token, bytes, true).await;
        let r = ctx
            .api
            .wait_for_state(&ctx.token, n, &["PREVALIDATA", "SCARTATA"], BOUND)
            .await;
        let file_code = r["file_finding"]["code"].as_str().map(str::to_string);
        if expected == "ok" {
            assert_eq!(file_code, None, "{file}: {r}");
        } else {
            assert_eq!(r["stato"], "SCARTATA", "{file}: {r}");
            assert_eq!(file_code.as_deref(), Some(expected), "{file}: {r}");
            assert_eq!(r["domande_totali"], 0, "{file}");
        }
        assert!(started.elapsed() < BOUND, "{file}: {:?}", started.elapsed());
        cases += 1;
    }
    assert!(cases >= 25, "{cases}");
    ctx.still_healthy("the corpus").await;
    assert!(
        matches!(trap.accept(), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "a hostile file made the service open a network connection"
    );

    // --- Size ----------------------------------------------------------------------------------
    let big = vec![b'x'; LIMIT as usize + 1];
    let t = Instant::now();
    let r = ctx.raw(Some("application/xml"), None, big.clone()).await;
    ctx.expect_refused("over the limit", r, t, 413, "payload_too_large")
        .await;
    // Without a Content-Length (chunked): the server stops reading at the limit.
    let t = Instant::now();
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = big.chunks(64 * 1024).map(|c| Ok(c.to_vec())).collect();
    let req = ctx
        .api
        .http
        .post(format!("{}/api/v1/richieste", ctx.api.base))
        .bearer_auth(&ctx.token)
        .header("content-type", "application/xml")
        .body(reqwest::Body::wrap_stream(futures::stream::iter(chunks)));
    let r = ctx.api.send(req).await;
    ctx.expect_refused("chunked over the limit", r, t, 413, "payload_too_large")
        .await;

    // --- gzip ----------------------------------------------------------------------------------
    let t = Instant::now();
    let plain = ctx.normal();
    let n = ctx
        .raw(Some("application/xml"), Some("gzip"), gzip(&plain))
        .await
        .expect(202, None)
        .json()["numero_richiesta"]
        .as_i64()
        .unwrap();
    let r = ctx
        .api
        .wait_for_state(&ctx.token, n, &["PREVALIDATA", "SCARTATA"], BOUND)
        .await;
    assert_eq!(r["stato"], "PREVALIDATA", "gzip upload: {r}");
    let original = ctx
        .api
        .get(Some(&ctx.token), &format!("/api/v1/richieste/{n}/xml"))
        .await
        .expect(200, None);
    assert_eq!(original.body, plain, "a gzip upload keeps the expanded file");
    assert!(t.elapsed() < BOUND);
    let t = Instant::now();
    let bomb = gzip(&vec![b' '; (LIMIT - 1024) as usize]);
    assert!(bomb.len() < 10_000);
    let r = ctx.raw(Some("application/xml"), Some("gzip"), bomb).await;
    ctx.expect_refused("gzip bomb (ratio)", r, t, 413, "gzip_bomb")
        .await;
    let t = Instant::now();
    let incompressible: Vec<u8> = (0..LIMIT + 4096)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    let r = ctx
        .raw(Some("application/xml"), Some("gzip"), gzip(&incompressible))
        .await;
    ctx.expect_refused("gzip expanding over the limit", r, t, 413, "payload_too_large")
        .await;
    let t = Instant::now();
    let r = ctx
        .raw(Some("application/xml"), Some("gzip"), b"this is not gzip at all".to_vec())
        .await;
    ctx.expect_refused("invalid gzip", r, t, 400, "invalid_gzip")
        .await;
    let t = Instant::now();
    let r = ctx
        .raw(Some("application/xml"), Some("br"), ctx.normal())
        .await;
    ctx.expect_refused("unknown content encoding", r, t, 415, "unsupported_content_encoding")
        .await;

    // --- Slow client: headers and a few bytes, then silence --------------------------------------
    let t = Instant::now();
    let addr = ctx.api.base.trim_start_matches("http://").to_string();
    let mut s = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /api/v1/richieste HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/xml\r\nContent-Length: 100000\r\n\r\n<?xml version=\"1.0\"?>",
        ctx.token
    );
    s.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(BOUND, s.read_to_end(&mut answer))
        .await
        .expect("the server kept waiting for a slow client")
        .ok();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("\"request_timeout\""), "{answer}");
    assert!(t.elapsed() < BOUND);
    ctx.still_healthy("slow client").await;

    // --- Content types, empty bodies, multipart ----------------------------------------------------
    let t = Instant::now();
    let r = ctx.raw(Some("text/plain"), None, ctx.normal()).await;
    ctx.expect_refused("text/plain", r, t, 415, "unsupported_media_type")
        .await;
    let r = ctx.raw(None, None, ctx.normal()).await;
    ctx.expect_refused("no content type", r, t, 415, "unsupported_media_type")
        .await;
    let r = ctx
        .raw(Some("application/json"), None, b"{\"not\": ".to_vec())
        .await;
    ctx.expect_refused("malformed JSON body", r, t, 415, "unsupported_media_type")
        .await;
    let t = Instant::now();
    let r = ctx.raw(Some("application/xml"), None, Vec::new()).await;
    ctx.expect_refused("empty body", r, t, 400, "empty_body")
        .await;
    let t = Instant::now();
    let form = reqwest::multipart::Form::new().text("altro", "x");
    let req = ctx
        .api
        .http
        .post(format!("{}/api/v1/richieste", ctx.api.base))
        .bearer_auth(&ctx.token)
        .multipart(form);
    let r = ctx.api.send(req).await;
    ctx.expect_refused("multipart without file", r, t, 400, "missing_file")
        .await;
    let t = Instant::now();
    let r = ctx
        .raw(Some("multipart/form-data; boundary=xyz"), None, b"--xyz\r\ngarbage".to_vec())
        .await;
    assert_eq!(r.status.as_u16(), 400, "{}", String::from_utf8_lossy(&r.body));
    assert!(t.elapsed() < BOUND);

    // --- Numbers that overflow, in paths and queries ----------------------------------------------
    for (path, code) in [
        ("/api/v1/richieste/99999999999999999999999", "invalid_path"),
        ("/api/v1/richieste/-99999999999999999999999/domande", "invalid_path"),
        ("/api/v1/richieste/1e3", "invalid_path"),
        ("/api/v1/richieste?numero=99999999999999999999999", "invalid_query"),
        ("/api/v1/richieste?page=4294967296", "invalid_query"),
        ("/api/v1/richieste?page_size=-1", "invalid_query"),
        ("/api/v1/richieste/1/domande?page=99999999999999", "invalid_query"),
        ("/api/v1/richieste?inserita_dal=2026-13-45", "invalid_query"),
        ("/api/v1/richieste?stato=NON_ESISTE", "invalid_query"),
    ] {
        ctx.api
            .get(Some(&ctx.token), path)
            .await
            .expect(400, Some(code));
    }
    ctx.api
        .get(Some(&ctx.token), "/api/v1/richieste/-1")
        .await
        .expect(404, Some("not_found"));
    ctx.api
        .get(Some(&ctx.token), "/api/v1/richieste/9223372036854775807")
        .await
        .expect(404, Some("not_found"));
    ctx.still_healthy("numbers").await;
    protocol(&ctx).await;
}

/// The HTTP protocol edges: the Authorization header, methods, long search values, and metric
/// labels that a client without a token cannot multiply.
async fn protocol(ctx: &Ctx) {
    let url = format!("{}/api/v1/richieste", ctx.api.base);
    let send = |req: reqwest::RequestBuilder| async move {
        let r = req.send().await.expect("request failed");
        let status = r.status().as_u16();
        let body: serde_json::Value = r.json().await.unwrap_or_default();
        (status, body)
    };
    // The scheme is case-insensitive (RFC 9110 section 11.1).
    for scheme in ["Bearer", "bearer", "BEARER"] {
        let (status, body) = send(
            ctx.api
                .http
                .get(&url)
                .header("authorization", format!("{scheme} {}", ctx.token)),
        )
        .await;
        assert_eq!(status, 200, "{scheme}: {body}");
    }
    // Two Authorization headers: which one would count? Neither.
    let (status, body) = send(
        ctx.api
            .http
            .get(&url)
            .header("authorization", format!("Bearer {}", ctx.token))
            .header("authorization", "Bearer someone-else"),
    )
    .await;
    assert_eq!((status, body["code"].as_str()), (400, Some("multiple_authorization")), "{body}");
    // A method the route does not have: 405 in the documented shape.
    let (status, body) = send(ctx.api.http.put(&url).bearer_auth(&ctx.token)).await;
    assert_eq!((status, body["code"].as_str()), (405, Some("method_not_allowed")), "{body}");
    // A 60 KB search value is refused before the database sees it, naming the parameter.
    let long = "a".repeat(60_000);
    let (status, body) = send(
        ctx.api
            .http
            .get(format!("{url}?denominazione={long}"))
            .bearer_auth(&ctx.token),
    )
    .await;
    assert_eq!((status, body["code"].as_str()), (400, Some("invalid_query")), "{body}");
    assert!(body["message"].as_str().unwrap().contains("denominazione"), "{body}");

    // Request heads hyper refuses before any route runs answer in the documented shape too.
    let addr = ctx.api.base.trim_start_matches("http://").to_string();
    let long_uri = format!("GET /api/v1/richieste?denominazione={} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(70_000));
    let many_headers = format!(
        "GET /healthz HTTP/1.1\r\nHost: x\r\n{}\r\n",
        (0..200)
            .map(|i| format!("x-h{i}: v\r\n"))
            .collect::<String>()
    );
    for (case, request, status, code) in [
        ("malformed request line", "GET /healthz HTTP/9.Z\r\n\r\n".to_string(), 400, "bad_request"),
        ("malformed header", "GET /healthz HTTP/1.1\r\nHo st: x\r\n\r\n".to_string(), 400, "bad_request"),
        ("70 KB URI", long_uri, 414, "uri_too_long"),
        ("200 headers", many_headers, 431, "request_header_fields_too_large"),
    ] {
        let answer = exchange(&addr, request.as_bytes()).await;
        let text = String::from_utf8_lossy(&answer);
        assert!(text.starts_with(&format!("HTTP/1.1 {status} ")), "{case}: {text}");
        assert!(text.contains("content-type: application/json\r\n"), "{case}: {text}");
        let body: serde_json::Value = serde_json::from_str(text.split_once("\r\n\r\n").unwrap().1)
            .unwrap_or_else(|e| panic!("{case}: {e}: {text}"));
        assert_eq!(body["code"], code, "{case}: {text}");
    }

    // Made-up methods without a token do not make new metric series.
    let series = |text: &str| {
        text.lines()
            .filter(|l| l.starts_with("cigo_http_requests_total"))
            .count()
    };
    let metrics = || async { String::from_utf8(ctx.api.get(None, "/metrics").await.expect(200, None).body).unwrap() };
    let before = series(&metrics().await);
    for i in 0..200 {
        let method = reqwest::Method::from_bytes(format!("XYZ{i}").as_bytes()).unwrap();
        ctx.api
            .http
            .request(method, format!("{}/healthz", ctx.api.base))
            .send()
            .await
            .unwrap();
    }
    let after = metrics().await;
    assert!(!after.contains("XYZ"), "a made-up method became a label");
    assert!(series(&after) <= before + 3, "series grew from {before} to {}", series(&after));
    ctx.still_healthy("protocol").await;
}

/// Writes `request` on a new connection and reads the answer until the server closes it.
async fn exchange(addr: &str, request: &[u8]) -> Vec<u8> {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(request).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(BOUND, s.read_to_end(&mut answer))
        .await
        .expect("the server did not close the connection")
        .ok();
    answer
}

fn hostile_deployment(dep: Deployment) -> Deployment {
    dep.with("CIGO_MAX_UPLOAD_BYTES", LIMIT.to_string())
        .with("CIGO_UPLOAD_IDLE_TIMEOUT_SECS", "2")
        .with("CIGO_MAX_GZIP_RATIO", "100")
}

#[tokio::test]
async fn hostile_input_embedded() {
    let dir = tempfile::tempdir().unwrap();
    let dep = hostile_deployment(Deployment::embedded(dir.path()));
    let (_serve, api) = dep.spawn_api("serve", &["serve"]).await;
    run_everything(&dep, api).await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL and RabbitMQ; run by .ci/run with --include-ignored"]
async fn hostile_input_on_postgres_and_rabbitmq() {
    let servers = Servers::new().await;
    let dir = tempfile::tempdir().unwrap();
    let dep = hostile_deployment(servers.deployment(dir.path()));
    dep.run(&["migrate"]);
    let (_api, api) = dep.spawn_api("api", &["api", "--no-migrate"]).await;
    let _worker = dep.spawn("worker", &["worker"]);
    run_everything(&dep, api).await;
    servers.cleanup().await;
}

/// Sockets that never send a byte, clients that trickle their headers and idle keep-alive
/// connections cannot take the port: connections are capped, a request head must arrive within
/// the header timeout, and the descriptors the server holds stay bounded by the cap.
#[tokio::test]
async fn connections_are_bounded() {
    const CAP: usize = 40;
    const SILENT: usize = 300;
    let dir = tempfile::tempdir().unwrap();
    let dep = Deployment::embedded(dir.path())
        .with("CIGO_MAX_CONNECTIONS", CAP.to_string())
        .with("CIGO_HEADER_READ_TIMEOUT_SECS", "1");
    let (serve, api) = dep.spawn_api("serve", &["serve"]).await;
    let addr = api.base.trim_start_matches("http://").to_string();
    let descriptors = |pid: u32| {
        std::fs::read_dir(format!("/proc/{pid}/fd"))
            .unwrap()
            .count()
    };
    let pid = serve.pid().unwrap();
    let before = descriptors(pid);

    // Silent sockets, far more than the cap: the server takes CAP of them at a time.
    let mut silent = Vec::new();
    for _ in 0..SILENT {
        silent.push(tokio::net::TcpStream::connect(&addr).await.unwrap());
    }
    let held = descriptors(pid);
    assert!(
        held <= before + CAP + 8,
        "{SILENT} silent sockets took {} descriptors of the server (cap {CAP})",
        held - before
    );
    // The port still answers: the silent ones are closed after the header timeout, slot by slot.
    let started = Instant::now();
    api.get(None, "/healthz").await.expect(200, None);
    assert!(started.elapsed() < BOUND, "/healthz took {:?} behind silent sockets", started.elapsed());
    // Every silent socket is closed by the server in the end (EOF), none kept forever.
    let closed = futures::future::join_all(silent.iter_mut().map(|s| async move {
        let mut byte = [0u8; 1];
        matches!(tokio::time::timeout(BOUND, s.read(&mut byte)).await, Ok(Ok(0)) | Ok(Err(_)))
    }))
    .await;
    assert!(closed.iter().all(|c| *c), "{} silent sockets were kept open", closed.iter().filter(|c| !**c).count());

    // A client that trickles its head a byte every 200 ms is closed at the header timeout.
    let started = Instant::now();
    let mut slow = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Padding: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";
    let mut cut = false;
    for byte in head {
        if slow.write_all(&[*byte]).await.is_err() {
            cut = true;
            break;
        }
        let mut probe = [0u8; 1];
        if let Ok(r) = tokio::time::timeout(Duration::from_millis(200), slow.read(&mut probe)).await {
            assert!(matches!(r, Ok(0) | Err(_)), "the trickling client got an answer");
            cut = true;
            break;
        }
    }
    assert!(cut, "a client trickling its headers was served in {:?}", started.elapsed());
    assert!(started.elapsed() < Duration::from_secs(5), "closed only after {:?}", started.elapsed());

    // A keep-alive connection idle past the timeout is closed after its answer.
    let mut idle = tokio::net::TcpStream::connect(&addr).await.unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut answer = vec![0u8; 4096];
    let n = idle.read(&mut answer).await.unwrap();
    assert!(answer[..n].starts_with(b"HTTP/1.1 200"), "{}", String::from_utf8_lossy(&answer[..n]));
    let started = Instant::now();
    let mut rest = Vec::new();
    tokio::time::timeout(BOUND, idle.read_to_end(&mut rest))
        .await
        .expect("an idle keep-alive connection was kept open")
        .ok();
    assert!(started.elapsed() < Duration::from_secs(5), "idle connection closed after {:?}", started.elapsed());

    // And the service works as before.
    let token = dep.token(CF_A);
    let n = api
        .upload_ok(&token, generate(&dep, 2, 0.0, 5).bytes, true)
        .await;
    let r = api
        .wait_for_state(&token, n, &["PREVALIDATA", "SCARTATA"], BOUND)
        .await;
    assert_eq!(r["stato"], "PREVALIDATA", "{r}");
}

/// Every file under `dir`, recursively.
fn files_in(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(d) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for e in entries.flatten() {
            if e.file_type().unwrap().is_dir() {
                dirs.push(e.path());
            } else {
                out.push(e.path());
            }
        }
    }
    out
}

fn age(path: &std::path::Path, by: Duration) {
    let f = std::fs::File::options().write(true).open(path).unwrap();
    f.set_modified(std::time::SystemTime::now() - by).unwrap();
}

/// Clients that reset the connection right after their body leave no blob without a richiesta,
/// and what a killed process left (an orphan blob, a spool file) is swept at the next start.
#[tokio::test]
async fn resets_and_kills_leave_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let dep = Deployment::embedded(dir.path()).with("CIGO_ORPHAN_MIN_AGE_SECS", "600");
    let (mut serve, api) = dep.spawn_api("serve", &["serve"]).await;
    let token = dep.token(CF_A);
    let addr = api.base.trim_start_matches("http://").to_string();
    let blobs = dir.path().join("data/blobs/richieste");
    let base = generate(&dep, 2, 0.0, 9).bytes;

    // Resets at every point from "body sent" to "answer due": the upload's last step must still
    // end in a richiesta or no blob.
    for i in 0..60u64 {
        let mut xml = base.clone();
        xml.extend_from_slice(format!("\n<!-- reset {i} -->\n").as_bytes());
        let mut s = tokio::net::TcpStream::connect(&addr).await.unwrap();
        s.set_zero_linger().unwrap();
        let head = format!(
            "POST /api/v1/richieste HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: application/xml\r\nContent-Length: {}\r\n\r\n",
            xml.len()
        );
        s.write_all(head.as_bytes()).await.unwrap();
        s.write_all(&xml).await.unwrap();
        // 0 to 3 ms after the last byte: some land before the blob, some between blob and commit.
        tokio::time::sleep(Duration::from_micros(i * 50)).await;
        drop(s); // SO_LINGER 0: a reset, not a close
    }
    let settled = wait_until(BOUND, || async {
        let total = api
            .get(Some(&token), "/api/v1/richieste?page_size=1")
            .await
            .expect(200, None)
            .json()["total"]
            .as_i64()
            .unwrap() as usize;
        let files = files_in(&blobs).len();
        (files == total).then_some((files, total))
    })
    .await;
    assert!(settled.is_some(), "blobs without a richiesta after resets: {} files", files_in(&blobs).len());

    // A killed process's leftovers: a spool file and a blob of today, both older than the bound.
    serve.kill();
    let day = chrono::Utc::now().format("%Y/%m/%d").to_string();
    let orphan = blobs.join(&day).join("orphan-of-a-kill.xml");
    std::fs::create_dir_all(orphan.parent().unwrap()).unwrap();
    std::fs::write(&orphan, &base).unwrap();
    age(&orphan, Duration::from_secs(3600));
    let spool = dir.path().join("data/spool/upload-killed.xml");
    std::fs::write(&spool, &base).unwrap();
    age(&spool, Duration::from_secs(3600));
    let held_before = files_in(&blobs).len() - 1;
    let (_serve, api) = dep.spawn_api("serve-again", &["serve"]).await;
    let swept = wait_until(BOUND, || async { (!orphan.exists() && !spool.exists()).then_some(()) }).await;
    assert!(swept.is_some(), "orphan left: blob {}, spool {}", orphan.exists(), spool.exists());
    assert_eq!(files_in(&blobs).len(), held_before, "a blob of a richiesta was swept");
    let metrics = String::from_utf8(api.get(None, "/metrics").await.expect(200, None).body).unwrap();
    for kind in ["blob", "spool"] {
        let line = format!("cigo_orphans_swept_total{{kind=\"{kind}\"}} 1");
        assert!(metrics.contains(&line), "{line} not in /metrics");
    }
}
