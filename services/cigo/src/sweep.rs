//! Orphans: files that belong to no richiesta and to no upload in progress, removed when a process
//! starts and then every hour.
//!
//! - **A blob with no row** is what a process killed between the blob's write and the commit of
//!   its richiesta leaves behind (a client that goes away cannot cause it any more: the upload's
//!   last step runs to its end, see `Caricamento::finish`). Blobs live under the day of their
//!   upload (`richieste/YYYY/MM/DD/`), so the sweep lists a few days of the store, never all of
//!   it, and compares each day with the richieste inserted around it. Runs with the reaper role.
//! - **A spool file with no upload** is what a process killed while it received a body leaves (an
//!   upload that fails or is cancelled removes its own). Runs with the api role: the spool is the
//!   local directory of the process that receives uploads.
//!
//! Only files older than `--orphan-min-age-secs` are looked at: a younger one may belong to an
//! upload about to commit. `cigo_orphans_swept_total{kind="blob"|"spool"}` counts what went.

use crate::app::App;
use crate::service::{BLOB_PREFIX, SPOOL_PREFIX};
use chrono::{DateTime, Utc};
use std::collections::HashSet;
use std::path::Path;
use std::time::{Duration, SystemTime};

/// How often the sweep runs after the first one.
const PERIOD: Duration = Duration::from_secs(3600);
/// Days of the blob store the first sweep of a process looks at (it may have been down a while),
/// and the later ones (a day and the one before, which covers an upload around midnight).
const DAYS_AT_START: i64 = 7;
const DAYS_PERIODIC: i64 = 2;

/// Removes the blobs of the `days` days up to `now` that no richiesta holds and that are older
/// than `min_age`; how many.
pub async fn sweep_blobs(app: &App, days: i64, now: DateTime<Utc>, min_age: Duration) -> anyhow::Result<u64> {
    let before = SystemTime::from(now)
        .checked_sub(min_age)
        .unwrap_or(SystemTime::UNIX_EPOCH);
    let mut removed = 0;
    for back in 0..days {
        let day = (now - chrono::Duration::days(back)).date_naive();
        let prefix = format!("{BLOB_PREFIX}{}/", day.format("%Y/%m/%d"));
        let listed = app.blob.list_older_than(&prefix, before).await?;
        if listed.is_empty() {
            continue;
        }
        // A blob's day is the day of its write, the row's time that of the commit just after:
        // the window around the day holds both sides of a midnight.
        let start = day.and_time(chrono::NaiveTime::MIN).and_utc();
        let held: HashSet<String> = app
            .store
            .blob_keys_inserted(start - chrono::Duration::days(1), start + chrono::Duration::days(2))
            .await?
            .into_iter()
            .collect();
        for key in listed.into_iter().filter(|k| !held.contains(k)) {
            app.blob.delete(&key).await?;
            tracing::info!(blob_key = %key, "orphan blob removed");
            metrics::counter!("cigo_orphans_swept_total", "kind" => "blob").increment(1);
            removed += 1;
        }
    }
    Ok(removed)
}

/// Removes the spool files under `dir` last written more than `min_age` ago; how many.
pub fn sweep_spool(dir: &Path, min_age: Duration) -> std::io::Result<u64> {
    let mut removed = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if !(name.starts_with(SPOOL_PREFIX) && entry.file_type()?.is_file()) {
            continue;
        }
        let age = entry.metadata()?.modified()?.elapsed().unwrap_or_default();
        if age > min_age {
            match std::fs::remove_file(entry.path()) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            }
            tracing::info!(file = %entry.path().display(), "orphan spool file removed");
            metrics::counter!("cigo_orphans_swept_total", "kind" => "spool").increment(1);
            removed += 1;
        }
    }
    Ok(removed)
}

/// The sweep as a loop: the blobs when `blobs`, the spool when `spool`.
pub async fn run(app: App, blobs: bool, spool: bool) {
    let min_age = Duration::from_secs(app.settings.orphan_min_age_secs);
    // Zero, so that the counter is exported before anything is swept.
    for (kind, swept) in [("blob", blobs), ("spool", spool)] {
        if swept {
            metrics::counter!("cigo_orphans_swept_total", "kind" => kind).increment(0);
        }
    }
    let mut days = DAYS_AT_START;
    loop {
        if blobs {
            if let Err(e) = sweep_blobs(&app, days, Utc::now(), min_age).await {
                tracing::warn!(error = %format!("{e:#}"), "cannot sweep the orphan blobs; trying again later");
            }
        }
        if spool {
            let dir = app.settings.spool_dir();
            match tokio::task::spawn_blocking(move || sweep_spool(&dir, min_age)).await {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => tracing::warn!(error = %e, "cannot sweep the spool; trying again later"),
                Err(e) => tracing::warn!(error = %e, "the spool sweep failed"),
            }
        }
        days = DAYS_PERIODIC;
        if !app.pause(PERIOD).await {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn age(path: &Path, by: Duration) {
        let f = std::fs::File::options().write(true).open(path).unwrap();
        f.set_modified(SystemTime::now() - by).unwrap();
    }

    #[test]
    fn only_old_spool_files_of_uploads_go() {
        let dir = tempfile::tempdir().unwrap();
        let old = dir.path().join(format!("{}abc.xml", SPOOL_PREFIX));
        let young = dir.path().join(format!("{}def.xml", SPOOL_PREFIX));
        let other = dir.path().join("note.txt");
        for p in [&old, &young, &other] {
            std::fs::write(p, b"x").unwrap();
        }
        age(&old, Duration::from_secs(7200));
        age(&other, Duration::from_secs(7200));
        assert_eq!(sweep_spool(dir.path(), Duration::from_secs(3600)).unwrap(), 1);
        assert!(!old.exists() && young.exists() && other.exists());
    }

    #[tokio::test]
    async fn a_blob_without_its_richiesta_goes_one_with_it_stays() {
        let dir = tempfile::tempdir().unwrap();
        let settings = crate::config::Settings { data_dir: dir.path().join("data"), ..Default::default() };
        let app = App::open(settings, true).await.unwrap();
        let service = crate::service::Service::new(app.clone());
        let caller = crate::service::Caller {
            token_id: 1,
            intermediario: "AAAAAA80A01H501A".into(),
            ruolo: cigo_domain::Ruolo::Intermediario,
            emulazione: None,
        };
        let mut up = service.caricamento(&caller).unwrap();
        let body = futures::stream::iter([Ok::<_, std::io::Error>(bytes::Bytes::from_static(b"<richiesta/>"))]);
        up.receive(body).await.unwrap();
        let kept = match up.finish(true, None).await.unwrap() {
            crate::service::UploadOutcome::Created(r) => r.blob_key,
            other => panic!("{other:?}"),
        };
        // An orphan of the same day, as a process killed before its commit leaves it.
        let day = Utc::now().format("%Y/%m/%d");
        let orphan = format!("{BLOB_PREFIX}{day}/orphan.xml");
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), b"<richiesta/>").unwrap();
        app.blob.put_file(&orphan, file.path()).await.unwrap();
        // Too young: kept.
        assert_eq!(
            sweep_blobs(&app, 2, Utc::now(), Duration::from_secs(3600))
                .await
                .unwrap(),
            0
        );
        // Old enough: the orphan goes, the richiesta's blob stays.
        let later = Utc::now() + chrono::Duration::seconds(2);
        assert_eq!(
            sweep_blobs(&app, 2, later, Duration::from_secs(1))
                .await
                .unwrap(),
            1
        );
        assert!(matches!(app.blob.get(&orphan).await, Err(cigo_blob::BlobError::NotFound(_))));
        assert!(app.blob.get(&kept).await.is_ok());
    }
}
