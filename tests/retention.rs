//! The retention of personal data with the real binary (embedded mode): `cigo admin purga
//! --dry-run` lists and changes nothing; `cigo admin purga --as-of` a day past the retention
//! purges the ELIMINATA richiesta (rows and blob file gone, the purge in the audit trail, the
//! transitions kept) and touches no other; a richiesta not in a final state is never due.

mod support;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::Duration;
use support::*;

/// Every file of the blob directory.
fn blob_files(dir: &Path) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, &mut out);
    out.sort();
    out
}

/// The blob files holding exactly `bytes`.
fn files_with(dir: &Path, bytes: &[u8]) -> usize {
    blob_files(dir)
        .iter()
        .filter(|p| std::fs::read(p).unwrap() == bytes)
        .count()
}

/// The audit trail of richiesta `numero` without the reads (this test reads too).
async fn audit(api: &Api, admin: &str, numero: i64) -> Vec<Value> {
    api.get(Some(admin), &format!("/api/v1/audit?numero={numero}&page_size=1000"))
        .await
        .expect(200, None)
        .json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| !e["action"].as_str().unwrap().starts_with("lettura"))
        .cloned()
        .collect()
}

/// The lines of the table `cigo admin purga` prints, without its header.
fn rows(out: &str) -> Vec<Vec<String>> {
    out.lines()
        .skip(1)
        .map(|l| l.split('\t').map(str::to_string).collect())
        .collect()
}

#[tokio::test]
async fn purga_dry_run_changes_nothing_then_purges_the_eliminata_only() {
    let dir = tempfile::tempdir().unwrap();
    scenario(Deployment::embedded(dir.path()), &dir.path().join("data").join("blobs")).await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL and RabbitMQ; run by .ci/run with --include-ignored"]
async fn purga_on_postgres_and_rabbitmq() {
    let servers = Servers::new().await;
    let dir = tempfile::tempdir().unwrap();
    scenario(servers.deployment(dir.path()), &dir.path().join("blobs")).await;
    servers.cleanup().await;
}

/// Three richieste prevalidated, one eliminated: the dry run lists it only when due and changes
/// nothing; the purge removes its rows and blob file (in `blobs`), keeps its trail, adds the
/// purge to it, and leaves the other two as they were.
async fn scenario(dep: Deployment, blobs: &Path) {
    let (_serve, api) = dep.spawn_api("serve", &["serve"]).await;
    let token = dep.token(CF_A);
    let admin = dep.token_with_role(CF_A, "admin");

    let files: Vec<Vec<u8>> = (1..=3)
        .map(|seed| generate(&dep, 5, 0.0, seed).bytes)
        .collect();
    let mut numeri = Vec::new();
    for xml in &files {
        let n = api.upload_ok(&token, xml.clone(), true).await;
        api.wait_for_state(&token, n, &["PREVALIDATA"], Duration::from_secs(60))
            .await;
        numeri.push(n);
    }
    let (gone, kept) = (numeri[0], &numeri[1..]);
    api.delete(Some(&token), &format!("/api/v1/richieste/{gone}"))
        .await
        .expect(200, None);
    assert_eq!(files_with(blobs, &files[0]), 1);
    let audit_before = audit(&api, &admin, gone).await;
    let domande_before = api.all_domande(&token, gone, None).await;
    assert_eq!(domande_before.len(), 5);

    // Today nothing is due: eliminated just now, 30 days to go (the default).
    let (code, out, err) = dep.run_status(&["admin", "purga", "--dry-run"]);
    assert_eq!(code, 0, "{err}");
    assert!(rows(&out).is_empty(), "{out}");

    // As of 31 days from now it is due, and only it (the others are PREVALIDATA, not final,
    // never due even with a one-day retention of every final state).
    let later = (chrono::Utc::now() + chrono::Duration::days(31))
        .date_naive()
        .to_string();
    let dep = dep.with("CIGO_RETENTION_DAYS", "1");
    let (code, out, err) = dep.run_status(&["admin", "purga", "--dry-run", "--as-of", &later]);
    assert_eq!(code, 0, "{err}");
    let listed = rows(&out);
    assert_eq!(listed.len(), 1, "{out}");
    assert_eq!(listed[0][0], gone.to_string());
    assert_eq!(
        (listed[0][1].as_str(), listed[0][3].as_str(), listed[0][4].as_str()),
        ("ELIMINATA", "eliminata", "da purgare")
    );
    assert!(err.contains("nothing changed"), "{err}");
    // The dry run changed nothing.
    assert_eq!(files_with(blobs, &files[0]), 1);
    assert_eq!(api.all_domande(&token, gone, None).await, domande_before);
    assert_eq!(audit(&api, &admin, gone).await, audit_before);

    // The purge.
    let (code, out, err) = dep.run_status(&["admin", "purga", "--as-of", &later]);
    assert_eq!(code, 0, "{err}");
    let purged = rows(&out);
    assert_eq!(purged.len(), 1, "{out}");
    assert_eq!(purged[0][0], gone.to_string());
    assert!(purged[0][4].starts_with("purgata (domande 5"), "{out}");
    assert!(err.contains("1 richiesta(e) purged") && err.contains("1 blob(s) deleted"), "{err}");

    // Rows and file are gone; the richiesta stays as a tombstone with its trail.
    assert_eq!(files_with(blobs, &files[0]), 0);
    assert!(api.all_domande(&token, gone, None).await.is_empty());
    let tomb = api.richiesta(&token, gone).await;
    assert_eq!(tomb["stato"], "ELIMINATA", "{tomb}");
    api.get(Some(&token), &format!("/api/v1/richieste/{gone}/xml"))
        .await
        .expect(404, None);
    let trail = audit(&api, &admin, gone).await;
    assert_eq!(trail[..audit_before.len()], audit_before[..], "the trail before the purge stays");
    let purga: Vec<&Value> = trail.iter().filter(|e| e["action"] == "purga").collect();
    assert_eq!(purga.len(), 1, "{trail:?}");
    let detail = purga[0]["detail"].as_str().unwrap();
    assert!(
        detail.contains("regola=eliminata") && detail.contains("stato=ELIMINATA") && detail.contains("domande=5"),
        "{detail}"
    );
    assert!(
        trail
            .iter()
            .any(|e| e["action"] == "transizione" && e["detail"] == "PREVALIDATA -> ELIMINATA"),
        "{trail:?}"
    );

    // The others are untouched.
    for (n, xml) in kept.iter().zip(&files[1..]) {
        assert_eq!(api.richiesta(&token, *n).await["stato"], "PREVALIDATA");
        assert_eq!(api.all_domande(&token, *n, None).await.len(), 5);
        assert_eq!(files_with(blobs, xml), 1);
        assert!(!audit(&api, &admin, *n)
            .await
            .iter()
            .any(|e| e["action"] == "purga"));
    }

    // Run again: nothing is due any more.
    let (code, out, err) = dep.run_status(&["admin", "purga", "--as-of", &later]);
    assert_eq!(code, 0, "{err}");
    assert!(rows(&out).is_empty(), "{out}");
}

/// Both rules off: the command says so and does nothing.
#[test]
fn purga_with_the_retention_off_does_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let dep = Deployment::embedded(dir.path())
        .with("CIGO_RETENTION_ELIMINATE_DAYS", "0")
        .with("CIGO_RETENTION_DAYS", "0");
    let (code, out, err) = dep.run_status(&["admin", "purga", "--as-of", "2100-01-01"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.is_empty() && err.contains("retention is off"), "{out} {err}");
}
