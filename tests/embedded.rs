//! The embedded mode (`cigo serve`: SQLite, in-process queue, local blobs), driven over HTTP.

mod support;

use std::time::Duration;
use support::*;

#[tokio::test]
async fn the_whole_flow_with_1000_domande() {
    let dir = tempfile::tempdir().unwrap();
    let dep = Deployment::embedded(dir.path());
    let (_serve, api) = dep.spawn_api("serve", &["serve"]).await;
    let token = dep.token(CF_A);
    let generated = generate(&dep, 1000, 0.1, 7);
    assert!(!generated.invalid.is_empty());
    let secs = full_flow(&api, &token, &generated).await;
    println!("embedded: upload to esito of 1000 domande in {secs:.3} s");
}

#[tokio::test]
async fn direct_mode_sends_without_approval() {
    let dir = tempfile::tempdir().unwrap();
    let dep = Deployment::embedded(dir.path());
    let (_serve, api) = dep.spawn_api("serve", &["serve"]).await;
    let token = dep.token(CF_A);
    let generated = generate(&dep, 20, 0.0, 11);
    let numero = api.upload_ok(&token, generated.bytes.clone(), false).await;
    let done = api
        .wait_for_state(&token, numero, &["CONSEGNATA", "SCARTATA", "SCARTATA_IN_INVIO"], Duration::from_secs(60))
        .await;
    assert_eq!(done["stato"], "CONSEGNATA", "{done}");
    assert_eq!(done["prevalidazione"], false);
    assert_eq!(done["domande_protocollate"], 20);
    let storia = api
        .get(Some(&token), &format!("/api/v1/richieste/{numero}/transizioni"))
        .await
        .expect(200, None)
        .json();
    let stati: Vec<&str> = storia
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["a"].as_str().unwrap())
        .collect();
    assert_eq!(stati, ["RICEVUTA", "IN_ELABORAZIONE", "PREVALIDATA", "APPROVATA", "IN_INVIO", "CONSEGNATA"]);
}

/// Every action the state forbids answers 409 and says the state.
#[tokio::test]
async fn illegal_transitions_answer_409_with_the_state() {
    let dir = tempfile::tempdir().unwrap();
    let dep = Deployment::embedded(dir.path());
    // No workers and no sender: richieste stay where we put them.
    let (mut idle, api) = dep
        .spawn_api("idle", &["serve", "--worker-concurrency", "0", "--sender-concurrency", "0"])
        .await;
    let token = dep.token(CF_A);
    let valid = generate(&dep, 3, 0.0, 21).bytes;
    let approve = |n: i64| format!("/api/v1/richieste/{n}/approvazione");
    let one = |n: i64| format!("/api/v1/richieste/{n}");

    // RICEVUTA: approve refused, delete allowed, then ELIMINATA refuses everything.
    let n1 = api.upload_ok(&token, valid.clone(), true).await;
    let r = api
        .post(Some(&token), &approve(n1))
        .await
        .expect(409, Some("invalid_state"))
        .json();
    assert_eq!(r["stato"], "RICEVUTA");
    assert_eq!(r["numero_richiesta"], n1);
    api.get(Some(&token), &format!("/api/v1/richieste/{n1}/attestati/trasmissione"))
        .await
        .expect(409, Some("attestato_not_available"));
    let deleted = api
        .delete(Some(&token), &one(n1))
        .await
        .expect(200, None)
        .json();
    assert_eq!(deleted["stato"], "ELIMINATA");
    assert_eq!(
        api.delete(Some(&token), &one(n1))
            .await
            .expect(409, Some("invalid_state"))
            .json()["stato"],
        "ELIMINATA"
    );
    assert_eq!(
        api.post(Some(&token), &approve(n1))
            .await
            .expect(409, Some("invalid_state"))
            .json()["stato"],
        "ELIMINATA"
    );

    // Uploads waiting for a worker.
    let n2 = api.upload_ok(&token, valid.clone(), true).await; // will be PREVALIDATA
    let n3 = api.upload_ok(&token, b"<not-xml".to_vec(), true).await; // will be SCARTATA
    let n4 = api
        .upload_ok(&token, generate(&dep, 2, 0.0, 22).bytes, true)
        .await; // PREVALIDATA, deleted later
    assert!(idle.terminate().success(), "SIGTERM must stop cigo cleanly");
    let (_serve, api) = dep
        .spawn_api("serve", &["serve", "--sender-concurrency", "0"])
        .await;
    api.wait_for_state(&token, n2, &["PREVALIDATA"], Duration::from_secs(60))
        .await;
    let scartata = api
        .wait_for_state(&token, n3, &["SCARTATA"], Duration::from_secs(60))
        .await;
    assert!(
        scartata["file_finding"]["code"]
            .as_str()
            .unwrap()
            .starts_with("FIL-"),
        "{scartata}"
    );
    assert_eq!(scartata["domande_totali"], 0);
    api.wait_for_state(&token, n4, &["PREVALIDATA"], Duration::from_secs(60))
        .await;

    // SCARTATA: approve refused, delete allowed.
    assert_eq!(
        api.post(Some(&token), &approve(n3))
            .await
            .expect(409, Some("invalid_state"))
            .json()["stato"],
        "SCARTATA"
    );
    api.delete(Some(&token), &one(n3)).await.expect(200, None);
    // PREVALIDATA: delete allowed.
    api.delete(Some(&token), &one(n4)).await.expect(200, None);
    // APPROVATA (no sender running): approve again and delete refused.
    api.post(Some(&token), &approve(n2)).await.expect(202, None);
    assert_eq!(
        api.post(Some(&token), &approve(n2))
            .await
            .expect(409, Some("invalid_state"))
            .json()["stato"],
        "APPROVATA"
    );
    assert_eq!(
        api.delete(Some(&token), &one(n2))
            .await
            .expect(409, Some("invalid_state"))
            .json()["stato"],
        "APPROVATA"
    );
    api.get(Some(&token), &format!("/api/v1/richieste/{n2}/attestati/consegna"))
        .await
        .expect(409, Some("attestato_not_available"));
}

#[tokio::test]
async fn auth_401_without_token_and_404_across_intermediari() {
    let dir = tempfile::tempdir().unwrap();
    let dep = Deployment::embedded(dir.path());
    let (_serve, api) = dep
        .spawn_api("serve", &["serve", "--sender-concurrency", "0"])
        .await;
    let a = dep.token(CF_A);
    let b = dep.token(CF_B);
    let operatore = dep.token_with_role("OPRTRE80A01H501X", "operatore");
    let n = api
        .upload_ok(&a, generate(&dep, 2, 0.0, 31).bytes, true)
        .await;
    api.wait_for_state(&a, n, &["PREVALIDATA"], Duration::from_secs(60))
        .await;

    let reads = [
        format!("/api/v1/richieste/{n}"),
        format!("/api/v1/richieste/{n}/domande"),
        format!("/api/v1/richieste/{n}/transizioni"),
        format!("/api/v1/richieste/{n}/xml"),
        format!("/api/v1/richieste/{n}/attestati/trasmissione"),
        "/api/v1/richieste".to_string(),
    ];
    for path in &reads {
        api.get(None, path).await.expect(401, Some("unauthorized"));
        api.get(Some("cigo_not-a-token"), path)
            .await
            .expect(401, Some("unauthorized"));
    }
    for path in &reads[..4] {
        api.get(Some(&b), path).await.expect(404, Some("not_found"));
        api.get(Some(&operatore), path).await.expect(200, None);
    }
    api.post(None, &format!("/api/v1/richieste/{n}/approvazione"))
        .await
        .expect(401, Some("unauthorized"));
    api.post(Some(&b), &format!("/api/v1/richieste/{n}/approvazione"))
        .await
        .expect(404, Some("not_found"));
    api.delete(Some(&b), &format!("/api/v1/richieste/{n}"))
        .await
        .expect(404, Some("not_found"));
    api.post(Some(&operatore), &format!("/api/v1/richieste/{n}/approvazione"))
        .await
        .expect(403, Some("forbidden"));
    api.delete(Some(&operatore), &format!("/api/v1/richieste/{n}"))
        .await
        .expect(403, Some("forbidden"));
    api.upload(&operatore, b"<x/>".to_vec(), true)
        .await
        .expect(403, Some("forbidden"));

    // A's richiesta is invisible in B's search and visible in A's and the operatore's.
    let search_b = api
        .get(Some(&b), "/api/v1/richieste")
        .await
        .expect(200, None)
        .json();
    assert_eq!(search_b["total"], 0);
    let search_a = api
        .get(Some(&a), "/api/v1/richieste")
        .await
        .expect(200, None)
        .json();
    assert_eq!(search_a["total"], 1);
    assert_eq!(search_a["items"][0]["numero_richiesta"], n);
    let search_op = api
        .get(Some(&operatore), &format!("/api/v1/richieste?numero={n}"))
        .await
        .expect(200, None)
        .json();
    assert_eq!(search_op["total"], 1);
    // The richiesta is untouched by all of the above.
    assert_eq!(api.richiesta(&a, n).await["stato"], "PREVALIDATA");
    // Unknown numbers and malformed ones.
    api.get(Some(&a), "/api/v1/richieste/999999")
        .await
        .expect(404, Some("not_found"));
    api.get(Some(&a), "/api/v1/richieste/abc")
        .await
        .expect(400, Some("invalid_path"));
    api.get(Some(&a), "/api/v1/richieste?page_size=5000")
        .await
        .expect(400, Some("invalid_query"));
    api.get(Some(&a), "/api/v1/nothing-here")
        .await
        .expect(404, Some("not_found"));
}

#[tokio::test]
async fn bad_uploads_get_precise_4xx_and_leave_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let dep = Deployment::embedded(dir.path());
    let (_serve, api) = dep
        .spawn_api("serve", &["serve", "--max-upload-bytes", "65536"])
        .await;
    let token = dep.token(CF_A);
    let url = format!("{}/api/v1/richieste", api.base);

    api.send(
        api.http
            .post(&url)
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body("{}"),
    )
    .await
    .expect(415, Some("unsupported_media_type"));
    api.send(api.http.post(&url).bearer_auth(&token).body("<x/>"))
        .await
        .expect(415, Some("unsupported_media_type"));
    api.upload(&token, Vec::new(), true)
        .await
        .expect(400, Some("empty_body"));
    let too_big = api
        .upload(&token, vec![b' '; 100_000], true)
        .await
        .expect(413, Some("payload_too_large"));
    assert_eq!(too_big.json()["limit_bytes"], 65536);
    // Over the limit without a Content-Length (chunked): the server stops reading and answers 413.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = (0..200).map(|_| Ok(vec![b' '; 1000])).collect();
    let body = reqwest::Body::wrap_stream(futures::stream::iter(chunks));
    api.send(
        api.http
            .post(&url)
            .bearer_auth(&token)
            .header("content-type", "application/xml")
            .body(body),
    )
    .await
    .expect(413, Some("payload_too_large"));
    api.upload(&token, b"<x/>".to_vec(), true).await; // a tiny file is accepted (and rejected later)
    let form = reqwest::multipart::Form::new().text("other", "x");
    api.send(api.http.post(&url).bearer_auth(&token).multipart(form))
        .await
        .expect(400, Some("missing_file"));
    let search = api
        .get(Some(&token), "/api/v1/richieste")
        .await
        .expect(200, None)
        .json();
    assert_eq!(search["total"], 1, "only the accepted upload is visible: {search}");

    // Multipart with the field `file` works like a plain body.
    let xml = generate(&dep, 1, 0.0, 41).bytes;
    assert!(xml.len() < 65536);
    let form = reqwest::multipart::Form::new()
        .part("file", reqwest::multipart::Part::bytes(xml.clone()).file_name("domanda.xml"));
    let reply = api
        .send(api.http.post(&url).bearer_auth(&token).multipart(form))
        .await
        .expect(202, None);
    let numero = reply.json()["numero_richiesta"].as_i64().unwrap();
    api.wait_for_state(&token, numero, &["PREVALIDATA"], Duration::from_secs(60))
        .await;
    let back = api
        .get(Some(&token), &format!("/api/v1/richieste/{numero}/xml"))
        .await
        .expect(200, None);
    assert_eq!(back.body, xml);
    // Spool files do not pile up.
    let spool = dir.path().join("data/spool");
    assert_eq!(std::fs::read_dir(spool).unwrap().count(), 0);
}

/// Work accepted before a crash (SIGKILL) is processed after the restart: nothing is lost.
#[tokio::test]
async fn restart_with_work_in_flight_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let dep = Deployment::embedded(dir.path());
    let token = dep.token(CF_A);
    let (mut first, api) = dep
        .spawn_api("first", &["serve", "--worker-concurrency", "0", "--sender-concurrency", "0"])
        .await;
    let mut numeri = Vec::new();
    for seed in 0..3 {
        numeri.push(
            api.upload_ok(&token, generate(&dep, 50, 0.1, 100 + seed).bytes, true)
                .await,
        );
    }
    first.kill();

    let (mut second, api) = dep
        .spawn_api("second", &["serve", "--sender-concurrency", "0"])
        .await;
    for &n in &numeri {
        api.wait_for_state(&token, n, &["PREVALIDATA"], Duration::from_secs(60))
            .await;
    }
    // Approved, then a crash before the sender ran.
    api.post(Some(&token), &format!("/api/v1/richieste/{}/approvazione", numeri[0]))
        .await
        .expect(202, None);
    second.kill();

    let (_third, api) = dep.spawn_api("third", &["serve"]).await;
    let done = api
        .wait_for_state(&token, numeri[0], &["CONSEGNATA"], Duration::from_secs(60))
        .await;
    assert_eq!(done["domande_protocollate"], done["domande_valide"]);
    for &n in &numeri[1..] {
        assert_eq!(api.richiesta(&token, n).await["stato"], "PREVALIDATA");
    }
    let health = api.get(None, "/readyz").await.expect(200, None);
    assert_eq!(health.body, b"ready");
}

// --- Duplicates and Idempotency-Key (issue 4) -----------------------------------------------------

#[tokio::test]
async fn same_file_twice_is_409_and_a_retried_upload_gets_the_first_answer() {
    let dir = tempfile::tempdir().unwrap();
    let dep = Deployment::embedded(dir.path());
    let (_serve, api) = dep
        .spawn_api("idle", &["serve", "--worker-concurrency", "0", "--sender-concurrency", "0"])
        .await;
    let a = dep.token(CF_A);
    let b = dep.token(CF_B);
    let xml = generate(&dep, 2, 0.0, 77).bytes;
    let url = format!("{}/api/v1/richieste", api.base);
    let post = |token: &str, body: Vec<u8>, key: Option<&str>| {
        let mut req = api
            .http
            .post(&url)
            .bearer_auth(token)
            .header("content-type", "application/xml")
            .body(body);
        if let Some(k) = key {
            req = req.header("idempotency-key", k);
        }
        api.send(req)
    };

    // With a key: the first answer, then the same answer again (same numero), nothing new.
    let first = post(&a, xml.clone(), Some("k-1")).await.expect(202, None);
    let numero = first.json()["numero_richiesta"].as_i64().unwrap();
    let again = post(&a, xml.clone(), Some("k-1")).await.expect(202, None);
    assert_eq!(again.json()["numero_richiesta"], numero);
    assert_eq!(again.headers.get("idempotent-replayed").unwrap(), "true");
    assert_eq!(again.headers.get("location").unwrap().to_str().unwrap(), format!("/api/v1/richieste/{numero}"));
    // The key with another file: refused.
    let other = generate(&dep, 2, 0.0, 78).bytes;
    let reused = post(&a, other.clone(), Some("k-1"))
        .await
        .expect(422, Some("idempotency_key_reused"));
    assert_eq!(reused.json()["numero_richiesta"], numero);
    post(&a, other.clone(), Some(&"x".repeat(201)))
        .await
        .expect(400, Some("invalid_idempotency_key"));

    // The same file without a key, or with another: 409 with the existing numero.
    for key in [None, Some("k-2")] {
        let dup = post(&a, xml.clone(), key)
            .await
            .expect(409, Some("duplicate_richiesta"));
        assert_eq!(dup.json()["numero_richiesta"], numero);
        assert_eq!(dup.json()["stato"], "RICEVUTA");
    }
    // Another intermediario may send the same file.
    post(&b, xml.clone(), None).await.expect(202, None);
    let mine = api
        .get(Some(&a), "/api/v1/richieste")
        .await
        .expect(200, None)
        .json();
    assert_eq!(mine["total"], 1, "nothing was created by the repeats: {mine}");

    // Once eliminata, the file may be sent again.
    api.delete(Some(&a), &format!("/api/v1/richieste/{numero}"))
        .await
        .expect(200, None);
    let new = post(&a, xml.clone(), None).await.expect(202, None);
    assert!(new.json()["numero_richiesta"].as_i64().unwrap() > numero);
    // The key still answers with its own richiesta (now ELIMINATA).
    let replay = post(&a, xml, Some("k-1")).await.expect(202, None);
    assert_eq!(replay.json()["numero_richiesta"], numero);
    assert_eq!(replay.json()["stato"], "ELIMINATA");
}

#[tokio::test]
async fn embedded_dead_letters_are_listed_and_replayed_from_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let dep = Deployment::embedded(dir.path())
        .with("CIGO_JOB_MAX_ATTEMPTS", "2")
        .with("CIGO_JOB_RETRY_BASE_MS", "50");
    let (mut idle, api) = dep
        .spawn_api("idle", &["serve", "--worker-concurrency", "0", "--sender-concurrency", "0"])
        .await;
    let token = dep.token(CF_A);
    let bytes = generate(&dep, 3, 0.0, 555).bytes;
    let numero = api.upload_ok(&token, bytes.clone(), true).await;
    idle.kill();
    // A real fault: the file is gone from the blob store when the worker runs.
    let blob = find_blob(&dir.path().join("data/blobs"), &bytes).expect("the blob");
    std::fs::remove_file(&blob).unwrap();
    let (_serve, api) = dep.spawn_api("serve", &["serve"]).await;
    let failed = wait_until(Duration::from_secs(60), || async {
        let r = api.richiesta(&token, numero).await;
        r["errore_elaborazione"].is_string().then_some(r)
    })
    .await
    .expect("the failure is shown");
    assert_eq!(failed["stato"], "IN_ELABORAZIONE");
    let listed = dep.run(&["admin", "dlq", "list"]);
    assert!(listed.contains(&format!("{numero}\tprevalidazione\tfailed\t2\t")), "{listed}");
    std::fs::write(&blob, &bytes).unwrap();
    assert!(dep
        .run(&["admin", "dlq", "replay"])
        .contains(&format!("{numero}\tprevalidazione\treplayed")));
    let done = api
        .wait_for_state(&token, numero, &["PREVALIDATA", "SCARTATA"], Duration::from_secs(60))
        .await;
    assert!(done.get("errore_elaborazione").is_none(), "{done}");
    assert_eq!(dep.run(&["admin", "dlq", "list"]).lines().count(), 1);
}
