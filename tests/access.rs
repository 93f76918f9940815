//! Issue 5, embedded mode: who may see and do what. The access sweep over every endpoint of the
//! OpenAPI document, token revocation and listing, deleghe (ARC-050), the audit trail, the rate
//! limit and upload quota, and no secret (token, IBAN) in the service log.

mod support;

use reqwest::Method;
use serde_json::Value;
use std::time::Duration;
use support::*;

const CF_OPERATORE: &str = "OPRTRE80A01H501X";
const CF_ADMIN: &str = "DMNSTR80A01H501X";
const CF_C: &str = "BNCLRA75C41F205Z";

async fn call(api: &Api, method: &Method, token: Option<&str>, path: &str) -> Reply {
    let mut req = api
        .http
        .request(method.clone(), format!("{}{}", api.base, path));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    api.send(req).await
}

fn is_admin_path(path: &str, op: &Value) -> bool {
    path.starts_with("/api/v1/audit")
        || path.starts_with("/api/v1/admin")
        || op["tags"]
            .as_array()
            .is_some_and(|t| t.iter().any(|t| t == "amministrazione"))
}

/// For every endpoint and method of the OpenAPI document: no token 401; another intermediario's
/// token 404 on a richiesta (exactly like a number that does not exist); an operatore reads and
/// gets 403 on changes; administration is for admins only (403 otherwise).
#[tokio::test]
async fn access_sweep_over_every_endpoint_and_method() {
    let dir = tempfile::tempdir().unwrap();
    let dep = Deployment::embedded(dir.path());
    let (_serve, api) = dep
        .spawn_api("serve", &["serve", "--sender-concurrency", "0"])
        .await;
    let a = dep.token(CF_A);
    let b = dep.token(CF_B);
    let operatore = dep.token_with_role(CF_OPERATORE, "operatore");
    let admin = dep.token_with_role(CF_ADMIN, "admin");
    let n = api
        .upload_ok(&a, generate(&dep, 2, 0.0, 31).bytes, true)
        .await;
    api.wait_for_state(&a, n, &["PREVALIDATA"], Duration::from_secs(60))
        .await;

    let doc = api
        .get(None, "/api/v1/openapi.json")
        .await
        .expect(200, None)
        .json();
    let mut checked = 0;
    for (template, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let Ok(method) = method.to_uppercase().parse::<Method>() else { continue };
            if op["security"].as_array().is_none_or(|s| s.is_empty()) {
                continue; // public: healthz, readyz
            }
            let path = template
                .replace("{numero}", &n.to_string())
                .replace("{tipo}", "trasmissione");
            let reads = method == Method::GET;
            let ctx = format!("{method} {path}");
            let r = call(&api, &method, None, &path).await;
            assert_eq!(r.status, 401, "{ctx} without token");
            assert_eq!(r.json()["code"], "unauthorized", "{ctx}");
            let r = call(&api, &method, Some("cigo_0000"), &path).await;
            assert_eq!(r.status, 401, "{ctx} with a bad token");

            if is_admin_path(&path, op) {
                for t in [&a, &b, &operatore] {
                    let r = call(&api, &method, Some(t), &path).await;
                    assert_eq!(r.status, 403, "{ctx} by a non-admin: {}", String::from_utf8_lossy(&r.body));
                }
                let r = call(&api, &method, Some(&admin), &path).await;
                assert!(r.status.is_success(), "{ctx} by an admin: {}", r.status);
            } else if template.contains("{numero}") {
                let other = call(&api, &method, Some(&b), &path).await;
                assert_eq!(other.status, 404, "{ctx} by another intermediario");
                let missing = call(&api, &method, Some(&a), &path.replace(&format!("/{n}"), "/987654")).await;
                assert_eq!(missing.status, 404, "{ctx} for a number that does not exist");
                assert_eq!(other.json()["code"], missing.json()["code"], "{ctx}: same answer as a missing number");
                for t in [&operatore, &admin] {
                    let r = call(&api, &method, Some(t), &path).await;
                    if reads {
                        assert!(![401, 403, 404].contains(&r.status.as_u16()), "{ctx} read by support: {}", r.status);
                    } else {
                        assert_eq!(r.status, 403, "{ctx} change by support");
                        assert_eq!(r.json()["code"], "forbidden");
                    }
                }
            } else {
                for t in [&operatore, &admin] {
                    let r = call(&api, &method, Some(t), &path).await;
                    if reads {
                        assert_eq!(r.status, 200, "{ctx} read by support");
                    } else {
                        assert_eq!(r.status, 403, "{ctx} change by support");
                    }
                }
            }
            checked += 1;
        }
    }
    assert!(checked >= 9, "only {checked} endpoints in the OpenAPI document");
    // Nothing above changed the richiesta; its owner still can.
    assert_eq!(api.richiesta(&a, n).await["stato"], "PREVALIDATA");
    api.post(Some(&a), &format!("/api/v1/richieste/{n}/approvazione"))
        .await
        .expect(202, None);

    // The audit trail has the operatore's reads and every transition, for the admin only.
    let trail = api
        .get(Some(&admin), &format!("/api/v1/audit?numero={n}&page_size=1000"))
        .await
        .expect(200, None)
        .json();
    let items = trail["items"].as_array().unwrap();
    assert!(items.iter().all(|e| e["numero_richiesta"] == n));
    let has = |action: &str, actor: &str| {
        items
            .iter()
            .any(|e| e["action"] == action && e["actor"].as_str().unwrap().contains(actor))
    };
    assert!(has("lettura", "operatore:"), "{trail}");
    assert!(has("lettura_domande", "operatore:"), "{trail}");
    assert!(has("download_xml", "operatore:"), "{trail}");
    assert!(has("lettura", &format!("intermediario:{CF_A}")), "{trail}");
    assert!(has("transizione", &format!("intermediario:{CF_A}")), "{trail}");
    assert!(items
        .iter()
        .any(|e| e["action"] == "transizione" && e["detail"] == "PREVALIDATA -> APPROVATA"));
    let ats: Vec<&str> = items.iter().map(|e| e["at"].as_str().unwrap()).collect();
    let mut sorted = ats.clone();
    sorted.sort();
    assert_eq!(ats.len(), sorted.len());
    // B's failed attempts read nothing, and each left its trace as a refused access only.
    let of_b: Vec<&serde_json::Value> = items
        .iter()
        .filter(|e| e["actor"].as_str().unwrap().contains(CF_B))
        .collect();
    assert!(!of_b.is_empty(), "B's probes left no trace: {trail}");
    assert!(of_b.iter().all(|e| e["action"] == "accesso_negato"), "{of_b:?}");
    api.get(Some(&admin), "/api/v1/audit?page=0")
        .await
        .expect(400, Some("invalid_query"));
    api.get(Some(&admin), "/api/v1/audit?numero=99999999999999999999999")
        .await
        .expect(400, Some("invalid_query"));

    // Append-only, also for someone with the database file.
    let db = dir.path().join("data").join("cigo.db");
    let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect(&format!("sqlite://{}", db.display()))
        .await
        .unwrap();
    for table in ["audit", "transizioni"] {
        let update = format!("UPDATE {table} SET actor = 'x'");
        assert!(sqlx::query(&update).execute(&mut conn).await.is_err(), "{table}");
        let delete = format!("DELETE FROM {table}");
        assert!(sqlx::query(&delete).execute(&mut conn).await.is_err(), "{table}");
    }
}

#[tokio::test]
async fn tokens_are_listed_without_secrets_and_revoked_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let dep = Deployment::embedded(dir.path());
    let (_serve, api) = dep.spawn_api("serve", &["serve"]).await;
    let a = dep.token(CF_A);
    let b = dep.token(CF_B);
    let expired = dep.run(&["admin", "token", "create", "--intermediario", CF_A, "--giorni=-1"]);
    api.get(Some(expired.trim()), "/api/v1/richieste")
        .await
        .expect(401, Some("unauthorized"));
    api.get(Some(&a), "/api/v1/richieste")
        .await
        .expect(200, None);

    let list = dep.run(&["admin", "token", "list"]);
    for secret in [a.as_str(), b.as_str(), expired.trim()] {
        assert!(!list.contains(secret), "{list}");
        assert!(!list.contains(&cigo::api::auth::hash_token(secret)), "{list}");
    }
    let rows: Vec<&str> = list.lines().skip(1).collect();
    assert_eq!(rows.len(), 3, "{list}");
    assert!(rows[0].starts_with(&format!("1\t{CF_A}\tintermediario\tattivo")), "{list}");
    assert!(rows[2].contains("\tscaduto\t"), "{list}");
    let only_b = dep.run(&["admin", "token", "list", "--intermediario", CF_B]);
    assert_eq!(only_b.lines().count(), 2, "{only_b}");
    assert!(only_b.contains(&format!("2\t{CF_B}\t")));

    dep.run(&["admin", "token", "revoke", "--id", "1"]);
    api.get(Some(&a), "/api/v1/richieste")
        .await
        .expect(401, Some("unauthorized"));
    api.get(Some(&b), "/api/v1/richieste")
        .await
        .expect(200, None);
    assert!(dep
        .run(&["admin", "token", "list"])
        .lines()
        .nth(1)
        .unwrap()
        .contains("\trevocato\t"));
    // An unknown id is an error.
    let out = std::process::Command::new(cigo_bin())
        .args(["admin", "token", "revoke", "--id", "99"])
        .env("CIGO_DATA_DIR", dir.path().join("data"))
        .output()
        .unwrap();
    assert!(!out.status.success());
}

/// The same richiesta as a different file (uploads of the same file are refused as duplicates).
fn unique(xml: &[u8], n: u32) -> Vec<u8> {
    let mut v = xml.to_vec();
    v.extend_from_slice(format!("\n<!-- copia {n} -->\n").as_bytes());
    v
}

/// Matricole of the domande of a generated file, in file order.
fn matricole(xml: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(xml);
    text.split("<Matricola>")
        .skip(1)
        .map(|s| s.split('<').next().unwrap().to_string())
        .collect()
}

fn codici_fiscali(xml: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(xml);
    text.split("<QuadroA>")
        .skip(1)
        .map(|q| {
            q.split("<CodiceFiscale>")
                .nth(1)
                .unwrap()
                .split('<')
                .next()
                .unwrap()
                .to_string()
        })
        .collect()
}

#[tokio::test]
async fn domande_without_delega_are_rejected_with_arc_050() {
    let dir = tempfile::tempdir().unwrap();
    let dep = Deployment::embedded(dir.path()).with("CIGO_DELEGHE_REQUIRED", "true");
    let (_serve, api) = dep
        .spawn_api("serve", &["serve", "--sender-concurrency", "0"])
        .await;
    let a = dep.token(CF_A);
    let generated = generate(&dep, 4, 0.0, 41);
    let m = matricole(&generated.bytes);
    assert_eq!(m.len(), 4);

    // No delega at all: every domanda is rejected, and so the richiesta.
    let n1 = api.upload_ok(&a, unique(&generated.bytes, 1), true).await;
    let r1 = api
        .wait_for_state(&a, n1, &["PREVALIDATA", "SCARTATA"], Duration::from_secs(60))
        .await;
    assert_eq!(r1["stato"], "SCARTATA", "{r1}");
    for d in api.all_domande(&a, n1, None).await {
        assert_eq!(d["esito"], "SCARTATA");
        let f = d["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["code"] == "ARC-050")
            .unwrap_or_else(|| panic!("{d}"));
        assert_eq!(f["layer"], "ARCHIVIO");
        assert_eq!(f["value"], d["matricola"]);
    }

    // Deleghe for the first two by hand, the third from a CSV file; the fourth stays without.
    dep.run(&["admin", "delega", "add", "--intermediario", CF_A, "--matricola", &m[0]]);
    dep.run(&["admin", "delega", "add", "--intermediario", CF_A, "--matricola", &m[1]]);
    dep.run(&["admin", "delega", "add", "--intermediario", CF_B, "--matricola", &m[3]]); // not A's
    let csv = dir.path().join("deleghe.csv");
    std::fs::write(&csv, format!("intermediario;matricola\n{CF_A};{}\n", m[2])).unwrap();
    dep.run(&["admin", "delega", "import", csv.to_str().unwrap()]);
    let list = dep.run(&["admin", "delega", "list", "--intermediario", CF_A]);
    assert_eq!(
        list.lines().count(),
        1 + m[..3]
            .iter()
            .collect::<std::collections::BTreeSet<_>>()
            .len(),
        "{list}"
    );
    // A bad CSV adds nothing.
    std::fs::write(&csv, format!("{CF_A},{}\n{CF_A},12\n", m[3])).unwrap();
    let bad = std::process::Command::new(cigo_bin())
        .args(["admin", "delega", "import", csv.to_str().unwrap()])
        .env("CIGO_DATA_DIR", dir.path().join("data"))
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("line 2"));

    let n2 = api.upload_ok(&a, unique(&generated.bytes, 2), true).await;
    api.wait_for_state(&a, n2, &["PREVALIDATA"], Duration::from_secs(60))
        .await;
    let domande = api.all_domande(&a, n2, None).await;
    for (i, d) in domande.iter().enumerate() {
        let arc = d["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["code"] == "ARC-050");
        let held = m[..3].contains(&m[i]);
        assert_eq!(arc, !held, "domanda {i}: {d}");
    }

    // Removing a delega applies to the next upload.
    dep.run(&["admin", "delega", "remove", "--intermediario", CF_A, "--matricola", &m[0]]);
    let n3 = api.upload_ok(&a, unique(&generated.bytes, 3), true).await;
    api.wait_for_state(&a, n3, &["PREVALIDATA", "SCARTATA"], Duration::from_secs(60))
        .await;
    let first = &api.all_domande(&a, n3, None).await[0];
    assert!(first["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["code"] == "ARC-050"));

    // An employer files for itself: no delega needed for its own domanda.
    let cf = codici_fiscali(&generated.bytes);
    let azienda = dep.token(&cf[3]);
    let n4 = api
        .upload_ok(&azienda, unique(&generated.bytes, 4), true)
        .await;
    api.wait_for_state(&azienda, n4, &["PREVALIDATA", "SCARTATA"], Duration::from_secs(60))
        .await;
    for (i, d) in api.all_domande(&azienda, n4, None).await.iter().enumerate() {
        let arc = d["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["code"] == "ARC-050");
        assert_eq!(arc, cf[i] != cf[3], "domanda {i}: {d}");
    }
}

#[tokio::test]
async fn rate_limit_and_upload_quota_answer_429_with_retry_after() {
    let dir = tempfile::tempdir().unwrap();
    let dep = Deployment::embedded(dir.path())
        .with("CIGO_RATE_LIMIT_PER_MINUTE", "60")
        .with("CIGO_RATE_LIMIT_BURST", "5")
        .with("CIGO_MAX_CONCURRENT_UPLOADS", "1");
    let (_serve, api) = dep.spawn_api("serve", &["serve"]).await;
    let a = dep.token(CF_A);
    let b = dep.token(CF_B);
    let mut limited = None;
    for _ in 0..20 {
        let r = api.get(Some(&a), "/api/v1/richieste").await;
        if r.status == 429 {
            limited = Some(r);
            break;
        }
        assert_eq!(r.status, 200);
    }
    let r = limited.expect("the rate limit never answered 429");
    assert_eq!(r.json()["code"], "rate_limited");
    let retry: u64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    // Another intermediario is not affected; after Retry-After the first one is served again.
    api.get(Some(&b), "/api/v1/richieste")
        .await
        .expect(200, None);
    tokio::time::sleep(Duration::from_secs(retry)).await;
    api.get(Some(&a), "/api/v1/richieste")
        .await
        .expect(200, None);

    // One upload in flight (a slow body), a second one is refused, then accepted once it ended.
    let c = dep.token(CF_C);
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(1);
    let body = reqwest::Body::wrap_stream(tokio_stream_from(rx));
    let slow = api
        .http
        .post(format!("{}/api/v1/richieste", api.base))
        .bearer_auth(&c)
        .header("content-type", "application/xml")
        .body(body);
    let slow = tokio::spawn(async move { slow.send().await.map(|r| r.status().as_u16()) });
    let xml = generate(&dep, 2, 0.0, 51).bytes;
    tx.send(Ok(xml[..100].to_vec())).await.unwrap();
    let refused = wait_until(Duration::from_secs(10), || async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let r = api.upload(&c, unique(&xml, 1), true).await;
        (r.status == 429).then_some(r)
    })
    .await
    .expect("the second upload was not refused");
    assert_eq!(refused.json()["code"], "too_many_concurrent_uploads");
    assert!(refused.headers.contains_key("retry-after"));
    tx.send(Ok(xml[100..].to_vec())).await.unwrap();
    drop(tx);
    assert_eq!(slow.await.unwrap().unwrap(), 202);
    api.upload(&c, unique(&xml, 2), true)
        .await
        .expect(202, None);
}

fn tokio_stream_from(
    mut rx: tokio::sync::mpsc::Receiver<Result<Vec<u8>, std::io::Error>>,
) -> impl futures::Stream<Item = Result<Vec<u8>, std::io::Error>> {
    futures::stream::poll_fn(move |cx| rx.poll_recv(cx))
}

#[tokio::test]
async fn no_token_and_no_iban_in_the_service_log() {
    let dir = tempfile::tempdir().unwrap();
    let dep = Deployment::embedded(dir.path()).with("CIGO_LOG", "trace,hyper=debug,h2=debug");
    let (serve, api) = dep.spawn_api("serve", &["serve"]).await;
    let token = dep.token(CF_A);
    let iban = "IT60X0542811101000000123456";
    let xml = String::from_utf8(generate(&dep, 3, 0.0, 61).bytes)
        .unwrap()
        .replacen("<Denominazione>", &format!("<Denominazione>IBAN {iban} "), 3);
    let n = api.upload_ok(&token, xml.into_bytes(), true).await;
    api.wait_for_state(&token, n, &["PREVALIDATA", "SCARTATA"], Duration::from_secs(60))
        .await;
    api.all_domande(&token, n, None).await;
    api.get(Some(&token), &format!("/api/v1/richieste/{n}/xml"))
        .await
        .expect(200, None);
    api.get(Some("cigo_wrong"), "/api/v1/richieste")
        .await
        .expect(401, None);
    let log = serve.log();
    assert!(log.contains("richiesta accepted"), "the log is empty?\n{log}");
    assert!(!log.contains(&token), "token in the log");
    assert!(!log.contains(&cigo::api::auth::hash_token(&token)), "token hash in the log");
    assert!(!log.contains(&token["cigo_".len()..]), "token in the log");
    assert!(!log.contains("cigo_wrong"), "a presented token in the log");
    assert!(!log.contains(iban), "IBAN in the log");
}

/// A richiesta with a few transizioni behind it.
async fn prevalidated_richiesta(dep: &Deployment, api: &Api) -> i64 {
    let token = dep.token(CF_A);
    let numero = api
        .upload_ok(&token, generate(dep, 2, 0.0, 71).bytes, true)
        .await;
    api.wait_for_state(&token, numero, &["PREVALIDATA"], Duration::from_secs(60))
        .await;
    numero
}

/// The trail of state changes, half of the audit, cannot be rewritten: an UPDATE or a DELETE of
/// `transizioni` is refused by the database itself, on SQLite and on PostgreSQL.
#[tokio::test]
async fn transizioni_are_append_only_on_sqlite() {
    use sqlx::Connection;
    let dir = tempfile::tempdir().unwrap();
    let dep = Deployment::embedded(dir.path());
    let (_serve, api) = dep.spawn_api("serve", &["serve"]).await;
    let numero = prevalidated_richiesta(&dep, &api).await;
    let url = format!("sqlite://{}", dir.path().join("data").join("cigo.db").display());
    let mut db = sqlx::SqliteConnection::connect(&url).await.unwrap();
    let before: i64 = sqlx::query_scalar("SELECT count(*) FROM transizioni WHERE numero_richiesta = ?")
        .bind(numero)
        .fetch_one(&mut db)
        .await
        .unwrap();
    assert!(before >= 2, "RICEVUTA -> IN_ELABORAZIONE -> PREVALIDATA recorded");
    for sql in ["UPDATE transizioni SET a = 'CONSEGNATA'", "DELETE FROM transizioni"] {
        let err = sqlx::query(sql).execute(&mut db).await.unwrap_err();
        assert!(err.to_string().contains("append-only"), "{sql}: {err}");
    }
    let after: i64 = sqlx::query_scalar("SELECT count(*) FROM transizioni WHERE numero_richiesta = ?")
        .bind(numero)
        .fetch_one(&mut db)
        .await
        .unwrap();
    assert_eq!(before, after);
}

#[tokio::test]
#[ignore = "needs PostgreSQL and RabbitMQ; run by .ci/run with --include-ignored"]
async fn transizioni_are_append_only_on_postgres() {
    use sqlx::Connection;
    let servers = Servers::new().await;
    let dir = tempfile::tempdir().unwrap();
    let dep = servers.deployment(dir.path());
    let (_serve, api) = dep.spawn_api("serve", &["serve"]).await;
    prevalidated_richiesta(&dep, &api).await;
    let mut db = sqlx::PgConnection::connect(&servers.database_url())
        .await
        .unwrap();
    for sql in ["UPDATE transizioni SET a = 'CONSEGNATA'", "DELETE FROM transizioni"] {
        let err = sqlx::query(sql).execute(&mut db).await.unwrap_err();
        assert!(err.to_string().contains("append-only"), "{sql}: {err}");
    }
    drop(db);
    servers.cleanup().await;
}
