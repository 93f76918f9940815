//! The contract of [`Store`], run against both implementations.
//!
//! - SQLite: a fresh file in a temporary directory per test.
//! - PostgreSQL: a fresh database per test (`cigo_t_<uuid>`) on the server named by
//!   `CIGO_TEST_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/test`), dropped at the
//!   end. These tests FAIL when the server is unreachable: they are not optional.

use chrono::{DateTime, Duration as ChronoDuration, NaiveDate, TimeZone, Utc};
use cigo_domain::archivio::ARC_PERIODO_SOVRAPPOSTO;
use cigo_domain::archivio::{ChiaviArchivio, PeriodoArchivio, RapportoLavoro};
use cigo_domain::{
    DomandaEsito, EsitoDomanda, EsitoPrevalidazione, Finding, JobKind, Layer, Ruolo, Severity, StatoRichiesta,
};
use cigo_store::postgres::PgStore;
use cigo_store::sqlite::SqliteStore;
use cigo_store::{
    CreateOutcome, CriterioPurga, NewAudit, NewRichiesta, NuovoAttestato, RegolaPurga, Richiesta, RichiestaFilter,
    Store, StoreError, TransitionRequest,
};
use sqlx::{Connection, Executor, PgConnection};
use std::collections::HashSet;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

// --- Fixtures -----------------------------------------------------------------------------------

/// The reads and writes these tests make, through the public methods of [`Store`].
trait Uso {
    /// A new richiesta (every file of these tests is a new one).
    async fn create_richiesta(&self, new: NewRichiesta) -> Result<Richiesta, StoreError>;
    /// The periods of `matricole` ending on or after `dal`, as [`Store::fatti_archivio`] loads them.
    async fn archivio_periodi(&self, matricole: &[String], dal: NaiveDate) -> Result<Vec<PeriodoArchivio>, StoreError>;
    /// The employment relations of `matricole`, as [`Store::fatti_archivio`] loads them.
    async fn archivio_rapporti(&self, matricole: &[String]) -> Result<Vec<RapportoLavoro>, StoreError>;
}

impl<S: Store + ?Sized> Uso for S {
    async fn create_richiesta(&self, new: NewRichiesta) -> Result<Richiesta, StoreError> {
        match self.create_richiesta_once(new, None).await? {
            CreateOutcome::Created(r) => Ok(r),
            other => panic!("not created: {other:?}"),
        }
    }
    async fn archivio_periodi(&self, matricole: &[String], dal: NaiveDate) -> Result<Vec<PeriodoArchivio>, StoreError> {
        let chiavi = ChiaviArchivio { matricole: matricole.to_vec(), dal: Some(dal), ..ChiaviArchivio::default() };
        Ok(self.fatti_archivio(&chiavi).await?.periodi)
    }
    async fn archivio_rapporti(&self, matricole: &[String]) -> Result<Vec<RapportoLavoro>, StoreError> {
        let chiavi = ChiaviArchivio {
            matricole: matricole.to_vec(),
            dal: NaiveDate::from_ymd_opt(1900, 1, 1),
            ..ChiaviArchivio::default()
        };
        Ok(self.fatti_archivio(&chiavi).await?.rapporti)
    }
}

struct Fixture {
    store: Arc<dyn Store>,
    _dir: Option<tempfile::TempDir>,
    /// (admin URL, database name) of a PostgreSQL test database, dropped at the end.
    pg: Option<(String, String)>,
}

async fn make_sqlite() -> Fixture {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", dir.path().join("cigo.db").display());
    let store = SqliteStore::connect(&url).await.expect("open sqlite");
    store.migrate().await.expect("migrate sqlite");
    Fixture { store: Arc::new(store), _dir: Some(dir), pg: None }
}

fn pg_admin_url() -> String {
    std::env::var("CIGO_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// `url` with its database replaced by `db`.
fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let authority_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let root = match base[authority_end..].find('/') {
        Some(i) => &base[..authority_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{root}/{db}?{q}"),
        None => format!("{root}/{db}"),
    }
}

async fn make_pg() -> Fixture {
    let admin_url = pg_admin_url();
    let mut admin = PgConnection::connect(&admin_url)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL is unreachable at {admin_url}: {e}"));
    let name = format!("cigo_t_{}", uuid::Uuid::new_v4().simple());
    admin
        .execute(format!("CREATE DATABASE {name}").as_str())
        .await
        .expect("create database");
    admin.close().await.ok();
    let store = PgStore::connect(&with_database(&admin_url, &name), 6)
        .await
        .expect("connect to the test database");
    store.migrate().await.expect("migrate postgres");
    Fixture { store: Arc::new(store), _dir: None, pg: Some((admin_url, name)) }
}

async fn drop_pg(admin_url: &str, name: &str) {
    if let Ok(mut admin) = PgConnection::connect(admin_url).await {
        let _ = admin
            .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
            .await;
        admin.close().await.ok();
    }
}

/// Runs one contract test on a fresh store; cleans up even when the test panics.
async fn run<M, MF, T, TF>(make: M, test: T)
where
    M: FnOnce() -> MF,
    MF: Future<Output = Fixture>,
    T: FnOnce(Arc<dyn Store>) -> TF,
    TF: Future<Output = ()> + Send + 'static,
{
    let fixture = make().await;
    let outcome = tokio::spawn(test(fixture.store.clone())).await;
    drop(fixture.store);
    if let Some((url, name)) = &fixture.pg {
        drop_pg(url, name).await;
    }
    if let Err(e) = outcome {
        match e.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            Err(e) => panic!("test task failed: {e}"),
        }
    }
}

macro_rules! contract_tests {
    ($backend:ident, $make:ident $(, #[$attr:meta])*) => {
        mod $backend {
            use super::*;
            contract_tests!(@each $make; [$(#[$attr])*];
                ping_and_migrate_again,
                tokens,
                sessioni,
                create_richiesta_numbers_transition_outbox,
                transition_compare_and_set,
                save_esito_large,
                save_esito_scartata,
                save_esito_after_failed_attempt,
                save_esito_auto_approve,
                list_domande_paging_filter_findings,
                search_filters_and_paging,
                complete_invio_protocols,
                complete_invio_overlap,
                complete_invio_all_rejected,
                complete_invio_state_checks,
                complete_invio_concurrent,
                lease_outbox_concurrent_and_expiry,
                requeue_stale,
                // Reliability (issue 4)
                create_richiesta_once_duplicates_and_keys,
                release_outbox_returns_rows_at_once,
                release_all_outbox_leases_after_a_crash,
                blob_keys_by_insertion_time,
                errore_elaborazione_and_replay,
                sla_stats_counts,
                // Archive (issue 3, layer 5)
                archivio_import_and_periodi,
                complete_invio_rechecks_the_limits,
                one_cig_per_worker_across_richieste,
                // The rinvio of rejected domande
                rinvio_links_both_richieste,
                // Receipts
                attestati_issued_once_and_found_by_code,
                // Retention
                purga_candidates_by_rule,
                purga_removes_the_data_and_keeps_the_trail,
            );
        }
    };
    (@each $make:ident; $attrs:tt; $(,)?) => {};
    (@each $make:ident; [$($attr:tt)*]; $name:ident $(, $rest:ident)* $(,)?) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        $($attr)*
        async fn $name() {
            run($make, super::$name).await
        }
        contract_tests!(@each $make; [$($attr)*]; $($rest),*);
    };
}

contract_tests!(sqlite, make_sqlite);
// Needs the PostgreSQL server: `bash .ci/run` runs these with --include-ignored.
contract_tests!(
    postgres,
    make_pg,
    #[ignore = "needs PostgreSQL; run by .ci/run with --include-ignored"]
);

// --- Helpers ------------------------------------------------------------------------------------

fn d(s: &str) -> NaiveDate {
    s.parse().expect("date")
}

fn finding(code: &str, severity: Severity, i: u32) -> Finding {
    Finding {
        code: code.into(),
        layer: Layer::Campi,
        severity,
        message: format!("messaggio {code} {i}"),
        xpath: Some(format!("/RichiestaCIGO/Domanda[{i}]/Campo")),
        line: Some(10 + i),
        column: Some(3),
        value: if i & 1 == 0 { Some(format!("v{i}")) } else { None },
    }
}

fn domanda(
    progressivo: u32,
    matricola: Option<&str>,
    up: Option<&str>,
    dal: &str,
    al: &str,
    findings: Vec<Finding>,
) -> DomandaEsito {
    DomandaEsito {
        progressivo,
        matricola: matricola.map(Into::into),
        codice_fiscale_azienda: Some(format!("{:011}", 1000 + progressivo)),
        denominazione: Some(format!("Azienda {progressivo} S.r.l.")),
        unita_produttiva: up.map(Into::into),
        periodo_dal: Some(d(dal)),
        periodo_al: Some(d(al)),
        esito: DomandaEsito::esito_from(&findings),
        findings,
        archivio: None,
    }
}

fn esito(domande: Vec<DomandaEsito>) -> EsitoPrevalidazione {
    EsitoPrevalidazione { file_finding: None, domande, rule_set: "cigo-regole/1".into() }
}

/// `n` domande: every 10th rejected (AVVISO + ERRORE), every 7th otherwise with a warning.
fn big_esito(n: u32) -> EsitoPrevalidazione {
    esito(
        (1..=n)
            .map(|i| {
                let mut f = Vec::new();
                if i % 7 == 0 || i % 10 == 0 {
                    f.push(finding("CMP-010", Severity::Avviso, i));
                }
                if i % 10 == 0 {
                    f.push(finding("CMP-001", Severity::Errore, i));
                }
                let m = format!("{:010}", 5000000000u64 + u64::from(i % 50));
                domanda(i, Some(&m), Some("UP-1"), "2026-01-05", "2026-01-11", f)
            })
            .collect(),
    )
}

fn new_richiesta(intermediario: &str, prevalidazione: bool) -> NewRichiesta {
    NewRichiesta {
        intermediario: intermediario.into(),
        blob_key: format!("blobs/{}", uuid::Uuid::new_v4()),
        sha256: uuid::Uuid::new_v4().simple().to_string().repeat(2),
        size_bytes: 1234,
        prevalidazione,
        actor: "token:1".into(),
        trace_context: Some("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01".into()),
        rinvio_di: None,
        nome_file: Some("domande di Niccolò.xml".into()),
    }
}

async fn step(store: &Arc<dyn Store>, numero: i64, from: StatoRichiesta, to: StatoRichiesta) -> Richiesta {
    store
        .transition(TransitionRequest {
            numero,
            from,
            to,
            actor: "test".into(),
            nota: None,
            enqueue: None,
            trace_context: None,
        })
        .await
        .unwrap_or_else(|e| panic!("transition {from} -> {to} of {numero}: {e}"))
}

/// A richiesta of `intermediario` prevalidated with `e` (not auto-approved).
async fn prevalidated(store: &Arc<dyn Store>, intermediario: &str, e: &EsitoPrevalidazione) -> Richiesta {
    let r = store
        .create_richiesta(new_richiesta(intermediario, true))
        .await
        .unwrap();
    step(store, r.numero, StatoRichiesta::Ricevuta, StatoRichiesta::InElaborazione).await;
    store
        .save_esito(r.numero, e, "sistema:worker", false)
        .await
        .unwrap()
}

/// A richiesta prevalidated with `e` and brought to IN_INVIO.
async fn in_invio(store: &Arc<dyn Store>, e: &EsitoPrevalidazione) -> Richiesta {
    let r = prevalidated(store, "INTERM00001", e).await;
    assert_eq!(r.stato, StatoRichiesta::Prevalidata);
    step(store, r.numero, StatoRichiesta::Prevalidata, StatoRichiesta::Approvata).await;
    step(store, r.numero, StatoRichiesta::Approvata, StatoRichiesta::InInvio).await
}

fn at_2026() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 10, 0, 0).unwrap() + ChronoDuration::microseconds(123_456)
}

async fn all_domande(store: &Arc<dyn Store>, numero: i64) -> Vec<cigo_store::DomandaRecord> {
    store
        .list_domande(numero, None, 1, 100_000)
        .await
        .unwrap()
        .items
}

/// Leases and publishes every outbox row (so that tests start from a clean outbox).
async fn drain_outbox(store: &Arc<dyn Store>) -> Vec<cigo_store::OutboxMessage> {
    let rows = store
        .lease_outbox(10_000, Duration::from_secs(60))
        .await
        .unwrap();
    store
        .mark_published(&rows.iter().map(|r| r.id).collect::<Vec<_>>())
        .await
        .unwrap();
    rows
}

// --- Contract -----------------------------------------------------------------------------------

/// A richiesta created as the rinvio of another names it, and the other names the latest rinvio.
async fn rinvio_links_both_richieste(store: Arc<dyn Store>) {
    let old = store
        .create_richiesta(new_richiesta("CFA", true))
        .await
        .unwrap();
    assert_eq!((old.rinvio_di, old.rinviata_in), (None, None));
    for _ in 0..2 {
        let new = store
            .create_richiesta(NewRichiesta { rinvio_di: Some(old.numero), ..new_richiesta("CFA", true) })
            .await
            .unwrap();
        assert_eq!(new.rinvio_di, Some(old.numero));
        assert_eq!(new.rinviata_in, None);
        let again = store.get_richiesta(old.numero).await.unwrap().unwrap();
        assert_eq!(again.rinviata_in, Some(new.numero));
        assert_eq!(again.updated_at, old.updated_at, "not a change of the old one");
    }
}

async fn ping_and_migrate_again(store: Arc<dyn Store>) {
    store.ping().await.unwrap();
    store.probe_write().await.unwrap();
    store.migrate().await.unwrap();
    store.probe_write().await.unwrap();
    assert!(matches!(store.backend(), "sqlite" | "postgres"));
    assert!(store.get_richiesta(1).await.unwrap().is_none());
}

async fn tokens(store: Arc<dyn Store>) {
    let expires = Utc.with_ymd_and_hms(2030, 1, 2, 3, 4, 5).unwrap() + ChronoDuration::microseconds(678_901);
    let t = store
        .create_token("hash-1", "RSSMRA80A01H501U", Some("gestionale"), Ruolo::Intermediario, Some(expires))
        .await
        .unwrap();
    assert_eq!(t.intermediario, "RSSMRA80A01H501U");
    assert_eq!(t.nome.as_deref(), Some("gestionale"));
    assert_eq!(t.ruolo, Ruolo::Intermediario);
    assert_eq!(t.expires_at, Some(expires));
    assert_eq!(t.revoked_at, None);
    assert!((Utc::now() - t.created_at).num_seconds().abs() < 60);

    let op = store
        .create_token("hash-2", "INPS", None, Ruolo::Operatore, None)
        .await
        .unwrap();
    assert!(op.id > t.id);

    assert_eq!(store.find_token("hash-1").await.unwrap(), Some(t));
    assert_eq!(store.find_token("hash-2").await.unwrap(), Some(op.clone()));
    assert_eq!(store.find_token("nope").await.unwrap(), None);
    assert_eq!(store.get_token(op.id).await.unwrap(), Some(op.clone()));
    assert_eq!(store.get_token(op.id + 1000).await.unwrap(), None);
    // The hash is unique.
    assert!(store
        .create_token("hash-1", "X", None, Ruolo::Admin, None)
        .await
        .is_err());
}

async fn sessioni(store: Arc<dyn Store>) {
    let token = store
        .create_token("hash-s", "RSSMRA80A01H501U", None, Ruolo::Intermediario, None)
        .await
        .unwrap();
    let expires = Utc.with_ymd_and_hms(2030, 1, 2, 3, 4, 5).unwrap() + ChronoDuration::microseconds(678_901);
    let nuova = cigo_store::NuovaSessione {
        session_hash: "sess-1".into(),
        csrf_token: "csrf-1".into(),
        token_id: token.id,
        expires_at: expires,
    };
    let s = store.create_sessione(nuova.clone()).await.unwrap();
    assert_eq!(s.token_id, token.id);
    assert_eq!(s.csrf_token, "csrf-1");
    assert_eq!(s.expires_at, expires);
    assert_eq!(s.ended_at, None);
    assert!((Utc::now() - s.created_at).num_seconds().abs() < 60);

    assert_eq!(store.find_sessione("sess-1").await.unwrap(), Some(s.clone()));
    assert_eq!(store.find_sessione("nope").await.unwrap(), None);
    // The hash is unique.
    assert!(store.create_sessione(nuova).await.is_err());

    assert!(store.end_sessione(s.id).await.unwrap());
    let ended = store
        .find_sessione("sess-1")
        .await
        .unwrap()
        .unwrap()
        .ended_at
        .expect("ended");
    // Ending again keeps the first end.
    assert!(store.end_sessione(s.id).await.unwrap());
    assert_eq!(
        store
            .find_sessione("sess-1")
            .await
            .unwrap()
            .unwrap()
            .ended_at,
        Some(ended)
    );
    assert!(!store.end_sessione(s.id + 1000).await.unwrap());
}

async fn create_richiesta_numbers_transition_outbox(store: Arc<dyn Store>) {
    let before = Utc::now() - ChronoDuration::seconds(1);
    let mut numeri = Vec::new();
    for _ in 0..3 {
        let new = new_richiesta("INTERM00001", true);
        let r = store.create_richiesta(new.clone()).await.unwrap();
        assert_eq!(r.stato, StatoRichiesta::Ricevuta);
        assert_eq!(r.intermediario, new.intermediario);
        assert_eq!(r.blob_key, new.blob_key);
        assert_eq!(r.sha256, new.sha256);
        assert_eq!(r.size_bytes, 1234);
        assert!(r.prevalidazione);
        assert!(r.data_inserimento >= before);
        assert_eq!(r.updated_at, r.data_inserimento);
        assert_eq!((r.domande_totali, r.domande_valide, r.domande_scartate, r.domande_protocollate), (0, 0, 0, 0));
        assert_eq!(r.data_prevalidazione, None);
        assert_eq!(r.file_finding, None);
        // Round trip: what was returned is what is stored, to the microsecond.
        assert_eq!(store.get_richiesta(r.numero).await.unwrap(), Some(r.clone()));

        let tr = store.transizioni(r.numero).await.unwrap();
        assert_eq!(tr.len(), 1);
        assert_eq!(tr[0].da, None);
        assert_eq!(tr[0].a, StatoRichiesta::Ricevuta);
        assert_eq!(tr[0].actor, "token:1");
        assert_eq!(tr[0].at, r.data_inserimento);
        numeri.push(r.numero);
    }
    assert!(numeri.windows(2).all(|w| w[0] < w[1]), "increasing: {numeri:?}");

    let rows = store
        .lease_outbox(10, Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows.iter().map(|r| r.numero_richiesta).collect::<Vec<_>>(), numeri);
    for row in &rows {
        assert_eq!(row.kind, JobKind::Prevalidazione);
        assert_eq!(row.attempts, 1);
        assert_eq!(row.trace_context.as_deref(), new_richiesta("x", true).trace_context.as_deref());
    }
    assert!(store
        .get_richiesta(numeri[2] + 1000)
        .await
        .unwrap()
        .is_none());
}

async fn transition_compare_and_set(store: Arc<dyn Store>) {
    let r = store
        .create_richiesta(new_richiesta("INTERM00001", true))
        .await
        .unwrap();
    drain_outbox(&store).await;

    let moved = step(&store, r.numero, StatoRichiesta::Ricevuta, StatoRichiesta::InElaborazione).await;
    assert_eq!(moved.stato, StatoRichiesta::InElaborazione);
    assert!(moved.updated_at >= r.updated_at);
    assert_eq!(moved.data_approvazione, None);

    // The same compare-and-set again: the richiesta is no longer RICEVUTA.
    let again = store
        .transition(TransitionRequest {
            numero: r.numero,
            from: StatoRichiesta::Ricevuta,
            to: StatoRichiesta::Eliminata,
            actor: "token:1".into(),
            nota: None,
            enqueue: None,
            trace_context: None,
        })
        .await;
    assert!(matches!(again, Err(StoreError::StateConflict { current: StatoRichiesta::InElaborazione })), "{again:?}");
    let missing = store
        .transition(TransitionRequest {
            numero: 987_654,
            from: StatoRichiesta::Ricevuta,
            to: StatoRichiesta::Eliminata,
            actor: "token:1".into(),
            nota: None,
            enqueue: None,
            trace_context: None,
        })
        .await;
    assert!(matches!(missing, Err(StoreError::NotFound(987_654))), "{missing:?}");
    // A failed compare-and-set leaves no trace.
    assert_eq!(store.transizioni(r.numero).await.unwrap().len(), 2);

    // ELIMINATA sets data_eliminazione and records actor and nota; APPROVATA sets data_approvazione
    // and writes the outbox row when asked.
    let r2 = store
        .create_richiesta(new_richiesta("INTERM00001", true))
        .await
        .unwrap();
    let deleted = store
        .transition(TransitionRequest {
            numero: r2.numero,
            from: StatoRichiesta::Ricevuta,
            to: StatoRichiesta::Eliminata,
            actor: "token:7".into(),
            nota: Some("caricato per errore".into()),
            enqueue: None,
            trace_context: None,
        })
        .await
        .unwrap();
    assert_eq!(deleted.stato, StatoRichiesta::Eliminata);
    assert_eq!(deleted.data_eliminazione, Some(deleted.updated_at));
    let tr = store.transizioni(r2.numero).await.unwrap();
    assert_eq!(tr.last().unwrap().da, Some(StatoRichiesta::Ricevuta));
    assert_eq!(tr.last().unwrap().a, StatoRichiesta::Eliminata);
    assert_eq!(tr.last().unwrap().actor, "token:7");
    assert_eq!(tr.last().unwrap().nota.as_deref(), Some("caricato per errore"));
    assert_eq!(store.get_richiesta(r2.numero).await.unwrap(), Some(deleted));

    let p = prevalidated(&store, "INTERM00001", &big_esito(3)).await;
    drain_outbox(&store).await;
    let approved = store
        .transition(TransitionRequest {
            numero: p.numero,
            from: StatoRichiesta::Prevalidata,
            to: StatoRichiesta::Approvata,
            actor: "token:1".into(),
            nota: None,
            enqueue: Some(JobKind::Invio),
            trace_context: Some("trace-approve".into()),
        })
        .await
        .unwrap();
    assert_eq!(approved.stato, StatoRichiesta::Approvata);
    assert_eq!(approved.data_approvazione, Some(approved.updated_at));
    let rows = store
        .lease_outbox(10, Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].kind, JobKind::Invio);
    assert_eq!(rows[0].numero_richiesta, p.numero);
    assert_eq!(rows[0].trace_context.as_deref(), Some("trace-approve"));
}

async fn save_esito_large(store: Arc<dyn Store>) {
    let e = big_esito(1_500);
    let r = store
        .create_richiesta(new_richiesta("INTERM00001", true))
        .await
        .unwrap();
    step(&store, r.numero, StatoRichiesta::Ricevuta, StatoRichiesta::InElaborazione).await;
    let saved = store
        .save_esito(r.numero, &e, "sistema:worker", false)
        .await
        .unwrap();
    assert_eq!(saved.stato, StatoRichiesta::Prevalidata);
    assert_eq!(saved.domande_totali, 1_500);
    assert_eq!(saved.domande_scartate, 150);
    assert_eq!(saved.domande_valide, 1_350);
    assert_eq!(saved.domande_protocollate, 0);
    assert_eq!(saved.rule_set.as_deref(), Some("cigo-regole/1"));
    assert_eq!(saved.file_finding, None);
    assert_eq!(saved.data_prevalidazione, Some(saved.updated_at));
    assert_eq!(saved.data_approvazione, None);
    assert_eq!(store.get_richiesta(r.numero).await.unwrap(), Some(saved.clone()));

    let domande = all_domande(&store, r.numero).await;
    assert_eq!(domande.len(), 1_500);
    for (got, want) in domande.iter().zip(&e.domande) {
        assert_eq!(got.numero_richiesta, r.numero);
        assert_eq!(got.progressivo, i64::from(want.progressivo));
        assert_eq!(got.matricola, want.matricola);
        assert_eq!(got.codice_fiscale_azienda, want.codice_fiscale_azienda);
        assert_eq!(got.denominazione, want.denominazione);
        assert_eq!(got.unita_produttiva, want.unita_produttiva);
        assert_eq!(got.periodo_dal, want.periodo_dal);
        assert_eq!(got.periodo_al, want.periodo_al);
        assert_eq!(got.esito, want.esito);
        assert_eq!(got.findings, want.findings);
        assert_eq!(got.protocollo, None);
        assert_eq!(got.data_protocollo, None);
    }

    let tr = store.transizioni(r.numero).await.unwrap();
    assert_eq!(
        tr.iter().map(|t| t.a).collect::<Vec<_>>(),
        vec![StatoRichiesta::Ricevuta, StatoRichiesta::InElaborazione, StatoRichiesta::Prevalidata]
    );
    assert_eq!(tr[2].actor, "sistema:worker");
    assert_eq!(tr[2].da, Some(StatoRichiesta::InElaborazione));

    // A redelivered message: the compare-and-set refuses a second esito, nothing changes.
    let second = store
        .save_esito(r.numero, &big_esito(10), "sistema:worker", false)
        .await;
    assert!(matches!(second, Err(StoreError::StateConflict { current: StatoRichiesta::Prevalidata })), "{second:?}");
    assert_eq!(store.get_richiesta(r.numero).await.unwrap(), Some(saved));
    assert_eq!(
        store
            .list_domande(r.numero, None, 1, 1)
            .await
            .unwrap()
            .total,
        1_500
    );

    let missing = store.save_esito(424_242, &e, "sistema:worker", false).await;
    assert!(matches!(missing, Err(StoreError::NotFound(424_242))), "{missing:?}");
    // Not yet IN_ELABORAZIONE.
    let fresh = store
        .create_richiesta(new_richiesta("INTERM00001", true))
        .await
        .unwrap();
    let early = store
        .save_esito(fresh.numero, &e, "sistema:worker", false)
        .await;
    assert!(matches!(early, Err(StoreError::StateConflict { current: StatoRichiesta::Ricevuta })), "{early:?}");
}

async fn save_esito_scartata(store: Arc<dyn Store>) {
    // Every domanda rejected.
    let all_bad = esito(
        (1..=5)
            .map(|i| {
                domanda(
                    i,
                    Some("5000000001"),
                    Some("UP-1"),
                    "2026-01-05",
                    "2026-01-11",
                    vec![finding("CMP-001", Severity::Errore, i)],
                )
            })
            .collect(),
    );
    let r = prevalidated(&store, "INTERM00001", &all_bad).await;
    assert_eq!(r.stato, StatoRichiesta::Scartata);
    assert_eq!((r.domande_totali, r.domande_valide, r.domande_scartate), (5, 0, 5));
    assert_eq!(
        store
            .transizioni(r.numero)
            .await
            .unwrap()
            .last()
            .map(|t| t.a),
        Some(StatoRichiesta::Scartata)
    );

    // A file-level failure: no domande, the finding is kept on the richiesta.
    let file_finding = Finding {
        code: "FIL-002".into(),
        layer: Layer::File,
        severity: Severity::Errore,
        message: "Il file non è un XML ben formato: «tag» non chiuso".into(),
        xpath: None,
        line: Some(42),
        column: Some(7),
        value: Some("<Domanda>".into()),
    };
    let bad_file = EsitoPrevalidazione {
        file_finding: Some(file_finding.clone()),
        domande: vec![],
        rule_set: "cigo-regole/1".into(),
    };
    let r = prevalidated(&store, "INTERM00001", &bad_file).await;
    assert_eq!(r.stato, StatoRichiesta::Scartata);
    assert_eq!(r.file_finding, Some(file_finding));
    assert_eq!(r.domande_totali, 0);
    assert_eq!(store.get_richiesta(r.numero).await.unwrap(), Some(r.clone()));
    assert_eq!(
        store
            .list_domande(r.numero, None, 1, 10)
            .await
            .unwrap()
            .total,
        0
    );

    // Auto-approve does not apply to a rejected richiesta.
    drain_outbox(&store).await;
    let x = store
        .create_richiesta(new_richiesta("INTERM00001", false))
        .await
        .unwrap();
    step(&store, x.numero, StatoRichiesta::Ricevuta, StatoRichiesta::InElaborazione).await;
    let x = store
        .save_esito(x.numero, &all_bad, "sistema:worker", true)
        .await
        .unwrap();
    assert_eq!(x.stato, StatoRichiesta::Scartata);
    assert_eq!(x.data_approvazione, None);
    let rows = store
        .lease_outbox(10, Duration::from_secs(60))
        .await
        .unwrap();
    assert!(rows.iter().all(|r| r.kind == JobKind::Prevalidazione), "{rows:?}");
}

async fn save_esito_after_failed_attempt(store: Arc<dyn Store>) {
    let r = store
        .create_richiesta(new_richiesta("INTERM00001", true))
        .await
        .unwrap();
    step(&store, r.numero, StatoRichiesta::Ricevuta, StatoRichiesta::InElaborazione).await;

    // Two domande with the same progressivo: the insert fails after some rows were written.
    let mut broken = big_esito(1_200);
    broken.domande[1_100].progressivo = 5;
    let failed = store
        .save_esito(r.numero, &broken, "sistema:worker", false)
        .await;
    assert!(matches!(failed, Err(StoreError::Database(_))), "{failed:?}");
    // The connection of the failed transaction was not reused as it was: the next writes, on
    // SQLite's one writer too, begin and commit.
    store.probe_write().await.unwrap();

    // Rolled back as a whole.
    let now = store.get_richiesta(r.numero).await.unwrap().unwrap();
    assert_eq!(now.stato, StatoRichiesta::InElaborazione);
    assert_eq!(now.domande_totali, 0);
    assert_eq!(
        store
            .list_domande(r.numero, None, 1, 10)
            .await
            .unwrap()
            .total,
        0
    );
    assert_eq!(store.transizioni(r.numero).await.unwrap().len(), 2);

    // The retry succeeds.
    let e = big_esito(1_200);
    let saved = store
        .save_esito(r.numero, &e, "sistema:worker", false)
        .await
        .unwrap();
    assert_eq!(saved.stato, StatoRichiesta::Prevalidata);
    assert_eq!(saved.domande_totali, 1_200);
    let domande = all_domande(&store, r.numero).await;
    assert_eq!(domande.len(), 1_200);
    assert_eq!(domande[1_099].findings, e.domande[1_099].findings);
}

async fn save_esito_auto_approve(store: Arc<dyn Store>) {
    let r = store
        .create_richiesta(new_richiesta("INTERM00001", false))
        .await
        .unwrap();
    assert!(!r.prevalidazione);
    drain_outbox(&store).await;
    step(&store, r.numero, StatoRichiesta::Ricevuta, StatoRichiesta::InElaborazione).await;
    let saved = store
        .save_esito(r.numero, &big_esito(20), "sistema:worker", true)
        .await
        .unwrap();
    assert_eq!(saved.stato, StatoRichiesta::Approvata);
    assert!(saved.data_prevalidazione.is_some());
    assert!(saved.data_approvazione.is_some());
    assert_eq!(saved.domande_valide, 18);
    let tr = store.transizioni(r.numero).await.unwrap();
    assert_eq!(
        tr.iter().map(|t| (t.da, t.a)).collect::<Vec<_>>(),
        vec![
            (None, StatoRichiesta::Ricevuta),
            (Some(StatoRichiesta::Ricevuta), StatoRichiesta::InElaborazione),
            (Some(StatoRichiesta::InElaborazione), StatoRichiesta::Prevalidata),
            (Some(StatoRichiesta::Prevalidata), StatoRichiesta::Approvata),
        ]
    );
    let rows = store
        .lease_outbox(10, Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].kind, JobKind::Invio);
    assert_eq!(rows[0].numero_richiesta, r.numero);
    // The trace of the upload carries on.
    assert_eq!(rows[0].trace_context, new_richiesta("x", true).trace_context);
}

async fn list_domande_paging_filter_findings(store: Arc<dyn Store>) {
    let e = big_esito(95);
    let r = prevalidated(&store, "INTERM00001", &e).await;

    let p2 = store.list_domande(r.numero, None, 2, 10).await.unwrap();
    assert_eq!(p2.total, 95);
    assert_eq!((p2.page, p2.page_size), (2, 10));
    assert_eq!(p2.items.iter().map(|d| d.progressivo).collect::<Vec<_>>(), (11..=20).collect::<Vec<i64>>());
    // Findings are attached to the right domanda, in file order.
    let d20 = &p2.items[9];
    assert_eq!(d20.esito, EsitoDomanda::Scartata);
    assert_eq!(
        d20.findings
            .iter()
            .map(|f| f.code.as_str())
            .collect::<Vec<_>>(),
        vec!["CMP-010", "CMP-001"]
    );
    assert_eq!(p2.items[3].findings.len(), 1); // 14: a warning
    assert_eq!(p2.items[3].esito, EsitoDomanda::ValidaConAvvisi);
    assert!(p2.items[0].findings.is_empty());

    let last = store.list_domande(r.numero, None, 10, 10).await.unwrap();
    assert_eq!(last.items.iter().map(|d| d.progressivo).collect::<Vec<_>>(), (91..=95).collect::<Vec<i64>>());
    assert!(store
        .list_domande(r.numero, None, 11, 10)
        .await
        .unwrap()
        .items
        .is_empty());

    let scartate = store
        .list_domande(r.numero, Some(EsitoDomanda::Scartata), 1, 4)
        .await
        .unwrap();
    assert_eq!(scartate.total, 9);
    assert_eq!(
        scartate
            .items
            .iter()
            .map(|d| d.progressivo)
            .collect::<Vec<_>>(),
        vec![10, 20, 30, 40]
    );
    assert!(scartate.items.iter().all(|d| d.findings.len() == 2));
    let scartate2 = store
        .list_domande(r.numero, Some(EsitoDomanda::Scartata), 2, 4)
        .await
        .unwrap();
    assert_eq!(
        scartate2
            .items
            .iter()
            .map(|d| d.progressivo)
            .collect::<Vec<_>>(),
        vec![50, 60, 70, 80]
    );
    assert_eq!(scartate2.items[0].findings[1].code, "CMP-001");
    let avvisi = store
        .list_domande(r.numero, Some(EsitoDomanda::ValidaConAvvisi), 1, 100)
        .await
        .unwrap();
    assert_eq!(avvisi.total, 12); // multiples of 7 up to 95 that are not multiples of 10 (70)
    assert_eq!(
        store
            .list_domande(r.numero, Some(EsitoDomanda::Protocollata), 1, 100)
            .await
            .unwrap()
            .total,
        0
    );

    let missing = store.list_domande(777_777, None, 1, 10).await;
    assert!(matches!(missing, Err(StoreError::NotFound(777_777))), "{missing:?}");

    // After sending, the finding of the sending comes after those of prevalidation.
    let first = esito(vec![domanda(1, Some("5000000001"), Some("UP-9"), "2026-02-01", "2026-02-10", vec![])]);
    let a = in_invio(&store, &first).await;
    store
        .complete_invio(a.numero, "sistema:sender", at_2026(), at_2026().date_naive())
        .await
        .unwrap();
    let second = esito(vec![domanda(
        1,
        Some("5000000001"),
        Some("UP-9"),
        "2026-02-05",
        "2026-02-06",
        vec![finding("CMP-010", Severity::Avviso, 1), finding("CMP-011", Severity::Avviso, 2)],
    )]);
    let b = in_invio(&store, &second).await;
    store
        .complete_invio(b.numero, "sistema:sender", at_2026(), at_2026().date_naive())
        .await
        .unwrap();
    let items = store
        .list_domande(b.numero, None, 1, 10)
        .await
        .unwrap()
        .items;
    assert_eq!(
        items[0]
            .findings
            .iter()
            .map(|f| f.code.as_str())
            .collect::<Vec<_>>(),
        vec!["CMP-010", "CMP-011", ARC_PERIODO_SOVRAPPOSTO]
    );
}

async fn search_filters_and_paging(store: Arc<dyn Store>) {
    // A: INTERM_A, domande of "Officine Rossi_50%" (matricola M1, cf C1) — approved.
    // B: INTERM_A, "Bianchi SpA" (M2, C2).  C: INTERM_B, "Rossi Alimentari" (M3, C3).
    let mk = |p: u32, m: &str, cf: &str, den: &str| {
        let mut x = domanda(p, Some(m), Some("UP-1"), "2026-01-05", "2026-01-11", vec![]);
        x.codice_fiscale_azienda = Some(cf.into());
        x.denominazione = Some(den.into());
        x
    };
    let a =
        prevalidated(&store, "INTERM_A", &esito(vec![mk(1, "1000000001", "01111111111", "Officine Rossi_50% S.r.l.")]))
            .await;
    step(&store, a.numero, StatoRichiesta::Prevalidata, StatoRichiesta::Approvata).await;
    let b = prevalidated(&store, "INTERM_A", &esito(vec![mk(1, "1000000002", "02222222222", "Bianchi SpA")])).await;
    let c = prevalidated(
        &store,
        "INTERM_B",
        &esito(vec![
            mk(1, "1000000003", "03333333333", "ROSSI ALIMENTARI"),
            mk(2, "1000000004", "04444444444", "Verdi"),
        ]),
    )
    .await;
    let r = store
        .create_richiesta(new_richiesta("INTERM_B", true))
        .await
        .unwrap(); // RICEVUTA, no domande

    let search = |f: RichiestaFilter| {
        let store = store.clone();
        async move {
            let page = store.search_richieste(&f).await.unwrap();
            (page.total, page.items.iter().map(|r| r.numero).collect::<Vec<_>>())
        }
    };
    let base = RichiestaFilter { page: 1, page_size: 50, ..Default::default() };

    // Everything, newest first.
    assert_eq!(search(base.clone()).await, (4, vec![r.numero, c.numero, b.numero, a.numero]));
    assert_eq!(
        search(RichiestaFilter { intermediario: Some("INTERM_A".into()), ..base.clone() }).await,
        (2, vec![b.numero, a.numero])
    );
    assert_eq!(search(RichiestaFilter { numero: Some(c.numero), ..base.clone() }).await, (1, vec![c.numero]));
    assert_eq!(
        search(RichiestaFilter { intermediario: Some("INTERM_A".into()), numero: Some(c.numero), ..base.clone() })
            .await,
        (0, vec![])
    );
    assert_eq!(
        search(RichiestaFilter { matricola: Some("1000000004".into()), ..base.clone() }).await,
        (1, vec![c.numero])
    );
    assert_eq!(
        search(RichiestaFilter { codice_fiscale: Some("02222222222".into()), ..base.clone() }).await,
        (1, vec![b.numero])
    );
    // Case-insensitive substring.
    assert_eq!(
        search(RichiestaFilter { denominazione: Some("rossi".into()), ..base.clone() }).await,
        (2, vec![c.numero, a.numero])
    );
    // Wildcards are literal.
    assert_eq!(
        search(RichiestaFilter { denominazione: Some("i_50%".into()), ..base.clone() }).await,
        (1, vec![a.numero])
    );
    assert_eq!(search(RichiestaFilter { denominazione: Some("%".into()), ..base.clone() }).await, (1, vec![a.numero]));
    assert_eq!(search(RichiestaFilter { denominazione: Some("_".into()), ..base.clone() }).await, (1, vec![a.numero]));
    // The conditions on domande hold for one and the same domanda.
    assert_eq!(
        search(RichiestaFilter {
            matricola: Some("1000000003".into()),
            denominazione: Some("verdi".into()),
            ..base.clone()
        })
        .await,
        (0, vec![])
    );
    assert_eq!(
        search(RichiestaFilter { stato: Some(StatoRichiesta::Prevalidata), ..base.clone() }).await,
        (2, vec![c.numero, b.numero])
    );

    // Dates: whole days, inclusive, UTC.
    let today = Utc::now().date_naive();
    let yesterday = today.pred_opt().unwrap();
    let tomorrow = today.succ_opt().unwrap();
    assert_eq!(
        search(RichiestaFilter { inserita_dal: Some(today), inserita_al: Some(today), ..base.clone() })
            .await
            .0,
        4
    );
    assert_eq!(
        search(RichiestaFilter { inserita_al: Some(yesterday), ..base.clone() })
            .await
            .0,
        0
    );
    assert_eq!(
        search(RichiestaFilter { inserita_dal: Some(tomorrow), ..base.clone() })
            .await
            .0,
        0
    );
    assert_eq!(
        search(RichiestaFilter { approvata_dal: Some(today), approvata_al: Some(today), ..base.clone() }).await,
        (1, vec![a.numero])
    );
    assert_eq!(
        search(RichiestaFilter { approvata_al: Some(yesterday), ..base.clone() })
            .await
            .0,
        0
    );

    // Paging.
    let p1 = search(RichiestaFilter { page: 1, page_size: 3, ..base.clone() }).await;
    let p2 = search(RichiestaFilter { page: 2, page_size: 3, ..base.clone() }).await;
    assert_eq!(p1, (4, vec![r.numero, c.numero, b.numero]));
    assert_eq!(p2, (4, vec![a.numero]));
    let p3 = store
        .search_richieste(&RichiestaFilter { page: 3, page_size: 3, ..base.clone() })
        .await
        .unwrap();
    assert_eq!((p3.total, p3.items.len(), p3.page, p3.page_size), (4, 0, 3, 3));
    // The items are whole records.
    let page = store
        .search_richieste(&RichiestaFilter { numero: Some(a.numero), ..base })
        .await
        .unwrap();
    assert_eq!(Some(&page.items[0]), store.get_richiesta(a.numero).await.unwrap().as_ref());
}

async fn complete_invio_protocols(store: Arc<dyn Store>) {
    let at = at_2026();
    let e1 = esito(vec![
        domanda(1, Some("5000000001"), Some("UP-1"), "2026-01-05", "2026-01-11", vec![]),
        domanda(
            2,
            Some("5000000001"),
            Some("UP-1"),
            "2026-01-12",
            "2026-01-18",
            vec![finding("CMP-001", Severity::Errore, 2)],
        ),
        domanda(
            3,
            Some("5000000002"),
            Some("UP-1"),
            "2026-01-05",
            "2026-01-11",
            vec![finding("CMP-010", Severity::Avviso, 3)],
        ),
    ]);
    let r1 = in_invio(&store, &e1).await;
    let done = store
        .complete_invio(r1.numero, "sistema:sender", at, at.date_naive())
        .await
        .unwrap();
    assert_eq!(done.stato, StatoRichiesta::Consegnata);
    assert_eq!(done.data_consegna, Some(at));
    assert_eq!(
        (done.domande_totali, done.domande_valide, done.domande_scartate, done.domande_protocollate),
        (3, 2, 1, 2)
    );
    assert_eq!(store.get_richiesta(r1.numero).await.unwrap(), Some(done.clone()));
    let tr = store.transizioni(r1.numero).await.unwrap();
    let last = tr.last().unwrap();
    assert_eq!(
        (last.da, last.a, last.actor.as_str()),
        (Some(StatoRichiesta::InInvio), StatoRichiesta::Consegnata, "sistema:sender")
    );

    let d1 = all_domande(&store, r1.numero).await;
    assert_eq!(d1[0].esito, EsitoDomanda::Protocollata);
    assert_eq!(d1[0].protocollo.as_deref(), Some("CIGO-2026-0000001"));
    assert_eq!(d1[0].data_protocollo, Some(at));
    assert_eq!(d1[1].esito, EsitoDomanda::Scartata);
    assert_eq!(d1[1].protocollo, None);
    assert_eq!(d1[2].esito, EsitoDomanda::Protocollata);
    assert_eq!(d1[2].protocollo.as_deref(), Some("CIGO-2026-0000002"));
    assert_eq!(d1[2].findings.len(), 1);

    // The second richiesta continues the sequence (different matricole: no overlap).
    let e2 = esito(
        (1..=3)
            .map(|i| domanda(i, Some("6000000001"), Some(&format!("UP-{i}")), "2026-01-05", "2026-01-11", vec![]))
            .collect(),
    );
    let r2 = in_invio(&store, &e2).await;
    let done2 = store
        .complete_invio(r2.numero, "sistema:sender", at, at.date_naive())
        .await
        .unwrap();
    assert_eq!(done2.domande_protocollate, 3);
    let numeri: Vec<String> = all_domande(&store, r2.numero)
        .await
        .into_iter()
        .filter_map(|d| d.protocollo)
        .collect();
    assert_eq!(numeri, vec!["CIGO-2026-0000003", "CIGO-2026-0000004", "CIGO-2026-0000005"]);

    // Another year has its own sequence.
    let e3 = esito(vec![domanda(1, Some("7000000001"), Some("UP-1"), "2027-01-04", "2027-01-08", vec![])]);
    let r3 = in_invio(&store, &e3).await;
    let at27 = Utc.with_ymd_and_hms(2027, 1, 10, 9, 0, 0).unwrap();
    store
        .complete_invio(r3.numero, "sistema:sender", at27, at27.date_naive())
        .await
        .unwrap();
    assert_eq!(
        all_domande(&store, r3.numero).await[0]
            .protocollo
            .as_deref(),
        Some("CIGO-2027-0000001")
    );

    // Sent once: a second attempt is refused.
    let again = store
        .complete_invio(r1.numero, "sistema:sender", at, at.date_naive())
        .await;
    assert!(matches!(again, Err(StoreError::StateConflict { current: StatoRichiesta::Consegnata })), "{again:?}");
}

async fn complete_invio_overlap(store: Arc<dyn Store>) {
    let at = at_2026();
    let a = in_invio(
        &store,
        &esito(vec![domanda(1, Some("5000000001"), Some("UP-1"), "2026-01-05", "2026-01-11", vec![])]),
    )
    .await;
    store
        .complete_invio(a.numero, "sistema:sender", at, at.date_naive())
        .await
        .unwrap();

    let mut no_keys = domanda(5, None, None, "2026-01-05", "2026-01-11", vec![]);
    no_keys.periodo_dal = None;
    let b = in_invio(
        &store,
        &esito(vec![
            // Overlaps on the last day of A: rejected, with a warning of its own kept first.
            domanda(
                1,
                Some("5000000001"),
                Some("UP-1"),
                "2026-01-11",
                "2026-01-18",
                vec![finding("CMP-010", Severity::Avviso, 1)],
            ),
            // The day after: no overlap.
            domanda(2, Some("5000000001"), Some("UP-1"), "2026-01-12", "2026-01-18", vec![]),
            // Another unità produttiva.
            domanda(3, Some("5000000001"), Some("UP-2"), "2026-01-05", "2026-01-11", vec![]),
            // Another matricola.
            domanda(4, Some("5000000009"), Some("UP-1"), "2026-01-05", "2026-01-11", vec![]),
            // Missing keys cannot overlap.
            no_keys,
            // Inside A's period.
            domanda(6, Some("5000000001"), Some("UP-1"), "2026-01-06", "2026-01-07", vec![]),
        ]),
    )
    .await;
    let done = store
        .complete_invio(b.numero, "sistema:sender", at, at.date_naive())
        .await
        .unwrap();
    assert_eq!(done.stato, StatoRichiesta::Consegnata);
    assert_eq!((done.domande_protocollate, done.domande_scartate, done.domande_valide), (4, 2, 4));

    let db = all_domande(&store, b.numero).await;
    let esiti: Vec<_> = db
        .iter()
        .map(|x| (x.progressivo, x.esito, x.protocollo.clone()))
        .collect();
    assert_eq!(
        esiti,
        vec![
            (1, EsitoDomanda::ScartataInInvio, None),
            (2, EsitoDomanda::Protocollata, Some("CIGO-2026-0000002".to_string())),
            (3, EsitoDomanda::Protocollata, Some("CIGO-2026-0000003".to_string())),
            (4, EsitoDomanda::Protocollata, Some("CIGO-2026-0000004".to_string())),
            (5, EsitoDomanda::Protocollata, Some("CIGO-2026-0000005".to_string())),
            (6, EsitoDomanda::ScartataInInvio, None),
        ]
    );
    assert_eq!(db[0].findings.len(), 2);
    assert_eq!(db[0].findings[0].code, "CMP-010");
    for f in [&db[0].findings[1], &db[5].findings[0]] {
        assert_eq!(f.code, ARC_PERIODO_SOVRAPPOSTO);
        assert_eq!(f.value.as_deref(), Some("CIGO-2026-0000001"));
        assert!(f
            .message
            .contains("protocollata la domanda CIGO-2026-0000001 per il periodo dal 05/01/2026 al 11/01/2026"));
    }
    assert_eq!(db[5].findings.len(), 1);
    assert_eq!(db[0].data_protocollo, None);

    // A rejected domanda does not block: an identical third richiesta still overlaps only with A
    // and with B's protocollate ones.
    let c = in_invio(
        &store,
        &esito(vec![domanda(1, Some("5000000001"), Some("UP-2"), "2026-01-10", "2026-01-10", vec![])]),
    )
    .await;
    store
        .complete_invio(c.numero, "sistema:sender", at, at.date_naive())
        .await
        .unwrap();
    let dc = all_domande(&store, c.numero).await;
    assert_eq!(dc[0].esito, EsitoDomanda::ScartataInInvio);
    assert_eq!(dc[0].findings[0].value.as_deref(), Some("CIGO-2026-0000003"));
}

async fn complete_invio_all_rejected(store: Arc<dyn Store>) {
    let at = at_2026();
    let a = in_invio(
        &store,
        &esito(vec![
            domanda(1, Some("5000000001"), Some("UP-1"), "2026-01-05", "2026-01-11", vec![]),
            domanda(2, Some("5000000002"), Some("UP-1"), "2026-01-05", "2026-01-11", vec![]),
        ]),
    )
    .await;
    store
        .complete_invio(a.numero, "sistema:sender", at, at.date_naive())
        .await
        .unwrap();
    let b = in_invio(
        &store,
        &esito(vec![
            domanda(1, Some("5000000001"), Some("UP-1"), "2026-01-01", "2026-01-05", vec![]),
            domanda(2, Some("5000000002"), Some("UP-1"), "2026-01-11", "2026-01-31", vec![]),
            domanda(
                3,
                Some("5000000002"),
                Some("UP-1"),
                "2026-01-11",
                "2026-01-31",
                vec![finding("CMP-001", Severity::Errore, 3)],
            ),
        ]),
    )
    .await;
    let done = store
        .complete_invio(b.numero, "sistema:sender", at, at.date_naive())
        .await
        .unwrap();
    assert_eq!(done.stato, StatoRichiesta::ScartataInInvio);
    assert_eq!(done.data_consegna, Some(at));
    assert_eq!((done.domande_protocollate, done.domande_valide, done.domande_scartate), (0, 0, 3));
    // Of the 3 scartate, 2 at sending (1 at prevalidation).
    assert_eq!(done.domande_scartate_in_invio, 2);
    assert_eq!(store.transizioni(b.numero).await.unwrap().last().unwrap().a, StatoRichiesta::ScartataInInvio);
    assert!(all_domande(&store, b.numero)
        .await
        .iter()
        .all(|d| d.protocollo.is_none()));

    // No number was consumed.
    let c = in_invio(
        &store,
        &esito(vec![domanda(1, Some("5000000003"), Some("UP-1"), "2026-01-05", "2026-01-11", vec![])]),
    )
    .await;
    store
        .complete_invio(c.numero, "sistema:sender", at, at.date_naive())
        .await
        .unwrap();
    assert_eq!(all_domande(&store, c.numero).await[0].protocollo.as_deref(), Some("CIGO-2026-0000003"));
}

async fn complete_invio_state_checks(store: Arc<dyn Store>) {
    let r = prevalidated(&store, "INTERM00001", &big_esito(3)).await;
    let early = store
        .complete_invio(r.numero, "sistema:sender", at_2026(), at_2026().date_naive())
        .await;
    assert!(matches!(early, Err(StoreError::StateConflict { current: StatoRichiesta::Prevalidata })), "{early:?}");
    let missing = store
        .complete_invio(555_555, "sistema:sender", at_2026(), at_2026().date_naive())
        .await;
    assert!(matches!(missing, Err(StoreError::NotFound(555_555))), "{missing:?}");
    // Nothing was consumed by the refused attempts.
    let r = in_invio(&store, &big_esito(1)).await;
    store
        .complete_invio(r.numero, "sistema:sender", at_2026(), at_2026().date_naive())
        .await
        .unwrap();
    assert_eq!(all_domande(&store, r.numero).await[0].protocollo.as_deref(), Some("CIGO-2026-0000001"));
}

async fn complete_invio_concurrent(store: Arc<dyn Store>) {
    let at = at_2026();
    let mut numeri = Vec::new();
    for k in 0..5u32 {
        let e = esito(
            (1..=4)
                .map(|i| {
                    domanda(
                        i,
                        Some(&format!("{}", 5000000000u64 + u64::from(k * 10 + i))),
                        Some("UP-1"),
                        "2026-01-05",
                        "2026-01-11",
                        vec![],
                    )
                })
                .collect(),
        );
        numeri.push(in_invio(&store, &e).await.numero);
    }
    let send = |n: i64| {
        let store = store.clone();
        async move {
            store
                .complete_invio(n, "sistema:sender", at, at.date_naive())
                .await
        }
    };
    let (a, b, c, d, e) =
        tokio::join!(send(numeri[0]), send(numeri[1]), send(numeri[2]), send(numeri[3]), send(numeri[4]));
    for done in [a, b, c, d, e] {
        let done = done.unwrap();
        assert_eq!(done.stato, StatoRichiesta::Consegnata);
        assert_eq!(done.domande_protocollate, 4);
    }
    let mut all = Vec::new();
    for n in &numeri {
        let prot: Vec<u32> = all_domande(&store, *n)
            .await
            .iter()
            .map(|d| {
                d.protocollo
                    .as_deref()
                    .unwrap()
                    .strip_prefix("CIGO-2026-")
                    .unwrap()
                    .parse()
                    .unwrap()
            })
            .collect();
        // Within a richiesta: consecutive, in progressivo order (the richiesta was sent at once).
        assert!(prot.windows(2).all(|w| w[1] == w[0] + 1), "{prot:?}");
        all.extend(prot);
    }
    all.sort_unstable();
    assert_eq!(all, (1..=20).collect::<Vec<u32>>(), "unique, no gaps");
}

async fn lease_outbox_concurrent_and_expiry(store: Arc<dyn Store>) {
    for _ in 0..20 {
        store
            .create_richiesta(new_richiesta("INTERM00001", true))
            .await
            .unwrap();
    }
    assert!(store
        .lease_outbox(0, Duration::from_secs(60))
        .await
        .unwrap()
        .is_empty());

    // Two relays at once, leasing 3 at a time until nothing is left.
    let lease = |store: Arc<dyn Store>| async move {
        let mut got = Vec::new();
        loop {
            let rows = store
                .lease_outbox(3, Duration::from_secs(60))
                .await
                .unwrap();
            if rows.is_empty() {
                break got;
            }
            assert!(rows.windows(2).all(|w| w[0].id < w[1].id), "ordered by id");
            got.extend(rows);
        }
    };
    let (x, y) = tokio::join!(lease(store.clone()), lease(store.clone()));
    let mut ids: Vec<i64> = x.iter().chain(&y).map(|r| r.id).collect();
    let unique: HashSet<i64> = ids.iter().copied().collect();
    assert_eq!(ids.len(), 20, "every row leased exactly once: {ids:?}");
    assert_eq!(unique.len(), 20);
    ids.sort_unstable();
    assert!(x.iter().chain(&y).all(|r| r.attempts == 1));
    // Leased: nobody else gets them.
    assert!(store
        .lease_outbox(100, Duration::from_secs(60))
        .await
        .unwrap()
        .is_empty());

    // Short leases expire and the rows come back, with attempts bumped.
    let more: Vec<i64> = {
        let mut v = Vec::new();
        for _ in 0..3 {
            v.push(
                store
                    .create_richiesta(new_richiesta("INTERM00001", true))
                    .await
                    .unwrap()
                    .numero,
            );
        }
        v
    };
    let short = store
        .lease_outbox(10, Duration::from_millis(200))
        .await
        .unwrap();
    assert_eq!(short.iter().map(|r| r.numero_richiesta).collect::<Vec<_>>(), more);
    assert!(store
        .lease_outbox(10, Duration::from_millis(200))
        .await
        .unwrap()
        .is_empty());
    tokio::time::sleep(Duration::from_millis(400)).await;
    let back = store
        .lease_outbox(10, Duration::from_millis(200))
        .await
        .unwrap();
    assert_eq!(back.iter().map(|r| r.id).collect::<Vec<_>>(), short.iter().map(|r| r.id).collect::<Vec<_>>());
    assert!(back.iter().all(|r| r.attempts == 2));
    assert_eq!(back[0].created_at, short[0].created_at);

    // Published rows never come back.
    store
        .mark_published(&back.iter().map(|r| r.id).collect::<Vec<_>>())
        .await
        .unwrap();
    store.mark_published(&ids).await.unwrap();
    store.mark_published(&[]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(store
        .lease_outbox(100, Duration::from_secs(60))
        .await
        .unwrap()
        .is_empty());
}

async fn requeue_stale(store: Arc<dyn Store>) {
    // RICEVUTA (prevalidazione), APPROVATA (invio), PREVALIDATA (not in progress: never).
    let ricevuta = store
        .create_richiesta(new_richiesta("INTERM00001", true))
        .await
        .unwrap();
    let approvata = prevalidated(&store, "INTERM00001", &big_esito(2)).await;
    step(&store, approvata.numero, StatoRichiesta::Prevalidata, StatoRichiesta::Approvata).await;
    let prevalidata = prevalidated(&store, "INTERM00001", &big_esito(2)).await;
    let in_elab = store
        .create_richiesta(new_richiesta("INTERM00001", true))
        .await
        .unwrap();
    step(&store, in_elab.numero, StatoRichiesta::Ricevuta, StatoRichiesta::InElaborazione).await;
    let in_invio_r = in_invio(&store, &big_esito(2)).await;

    // Not old enough.
    drain_outbox(&store).await;
    assert_eq!(
        store
            .requeue_stale(Duration::from_secs(3600))
            .await
            .unwrap(),
        0
    );

    // With an unpublished row of its own a richiesta is not re-queued.
    let pending = store
        .transition(TransitionRequest {
            numero: in_elab.numero,
            from: StatoRichiesta::InElaborazione,
            to: StatoRichiesta::InElaborazione,
            actor: "test".into(),
            nota: None,
            enqueue: Some(JobKind::Prevalidazione),
            trace_context: None,
        })
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let before = store.get_richiesta(ricevuta.numero).await.unwrap().unwrap();
    assert_eq!(
        store
            .requeue_stale(Duration::from_millis(10))
            .await
            .unwrap(),
        3
    );
    let after = store.get_richiesta(ricevuta.numero).await.unwrap().unwrap();
    assert!(after.updated_at > before.updated_at);
    assert_eq!(after.stato, StatoRichiesta::Ricevuta);
    assert_eq!(
        store
            .get_richiesta(prevalidata.numero)
            .await
            .unwrap()
            .unwrap()
            .updated_at,
        prevalidata.updated_at
    );

    let mut rows: Vec<(i64, JobKind)> = store
        .lease_outbox(100, Duration::from_secs(60))
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.numero_richiesta, r.kind))
        .collect();
    rows.sort_unstable_by_key(|r| r.0);
    let mut expected = vec![
        (ricevuta.numero, JobKind::Prevalidazione),
        (approvata.numero, JobKind::Invio),
        (in_elab.numero, JobKind::Prevalidazione), // the row written by the transition above
        (in_invio_r.numero, JobKind::Invio),
    ];
    expected.sort_unstable_by_key(|r| r.0);
    assert_eq!(rows, expected);
    assert_eq!(pending.stato, StatoRichiesta::InElaborazione);

    // Leased but not published: still nothing to re-queue.
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(
        store
            .requeue_stale(Duration::from_millis(10))
            .await
            .unwrap(),
        0
    );
}

// --- Backend-specific ---------------------------------------------------------------------------

/// The file (and its directory) is created, in WAL mode; a row that does not decode is reported
/// as `Corrupt`, never a panic.
#[tokio::test]
async fn sqlite_file_wal_and_corrupt_rows() {
    use sqlx::sqlite::SqliteConnection;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/deeper/cigo.db");
    let store = SqliteStore::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    store.migrate().await.unwrap();
    let store: Arc<dyn Store> = Arc::new(store);
    let r = store
        .create_richiesta(new_richiesta("INTERM00001", true))
        .await
        .unwrap();
    let other = store
        .create_richiesta(new_richiesta("INTERM00001", true))
        .await
        .unwrap();
    assert!(path.exists());

    let mut raw = SqliteConnection::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&mut raw)
        .await
        .unwrap();
    assert_eq!(mode, "wal");
    sqlx::query("UPDATE richieste SET data_consegna = 'not a date' WHERE numero = ?1")
        .bind(r.numero)
        .execute(&mut raw)
        .await
        .unwrap();
    sqlx::query("UPDATE richieste SET file_finding = '{not json' WHERE numero = ?1")
        .bind(other.numero)
        .execute(&mut raw)
        .await
        .unwrap();
    raw.close().await.unwrap();

    let bad = store.get_richiesta(r.numero).await;
    assert!(matches!(bad, Err(StoreError::Corrupt(_))), "{bad:?}");
    let bad = store.get_richiesta(other.numero).await;
    assert!(matches!(bad, Err(StoreError::Corrupt(_))), "{bad:?}");
    let page = store
        .search_richieste(&RichiestaFilter { page: 1, page_size: 10, ..Default::default() })
        .await;
    assert!(matches!(page, Err(StoreError::Corrupt(_))), "{page:?}");
}

/// `cigo serve` may also run on an in-memory database (tests, demos).
#[tokio::test]
async fn sqlite_in_memory() {
    let store = SqliteStore::connect("sqlite::memory:").await.unwrap();
    store.migrate().await.unwrap();
    let r = store
        .create_richiesta(new_richiesta("INTERM00001", true))
        .await
        .unwrap();
    assert_eq!(store.get_richiesta(r.numero).await.unwrap(), Some(r));
}

/// Several processes may start at once and all migrate: sqlx serialises them with an advisory lock.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs PostgreSQL; run by .ci/run with --include-ignored"]
async fn postgres_concurrent_migrations() {
    let admin_url = pg_admin_url();
    let mut admin = PgConnection::connect(&admin_url)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL is unreachable at {admin_url}: {e}"));
    let name = format!("cigo_t_{}", uuid::Uuid::new_v4().simple());
    admin
        .execute(format!("CREATE DATABASE {name}").as_str())
        .await
        .unwrap();
    admin.close().await.ok();
    let url = with_database(&admin_url, &name);
    let outcome = tokio::spawn(async move {
        let (a, b, c) = tokio::join!(PgStore::connect(&url, 2), PgStore::connect(&url, 2), PgStore::connect(&url, 2));
        let (a, b, c) = (a.unwrap(), b.unwrap(), c.unwrap());
        let (x, y, z) = tokio::join!(a.migrate(), b.migrate(), c.migrate());
        x.unwrap();
        y.unwrap();
        z.unwrap();
        a.create_richiesta(new_richiesta("INTERM00001", true))
            .await
            .unwrap();
        assert_eq!(
            b.search_richieste(&RichiestaFilter { page: 1, page_size: 5, ..Default::default() })
                .await
                .unwrap()
                .total,
            1
        );
        for s in [a, b, c] {
            s.close().await;
        }
    })
    .await;
    drop_pg(&admin_url, &name).await;
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

#[test]
fn database_urls() {
    assert_eq!(with_database("postgres://u@h:5432/test", "x"), "postgres://u@h:5432/x");
    assert_eq!(with_database("postgres://u@h/test?sslmode=disable", "x"), "postgres://u@h/x?sslmode=disable");
    assert_eq!(with_database("postgres://u@h", "x"), "postgres://u@h/x");
}

// --- Reliability (issue 4) ------------------------------------------------------------------------

fn with_sha(intermediario: &str, sha: char) -> NewRichiesta {
    NewRichiesta { sha256: sha.to_string().repeat(64), ..new_richiesta(intermediario, true) }
}

async fn create_richiesta_once_duplicates_and_keys(store: Arc<dyn Store>) {
    use cigo_store::CreateOutcome;
    let first = match store
        .create_richiesta_once(with_sha("INTERM00001", 'a'), Some("k-1"))
        .await
        .unwrap()
    {
        CreateOutcome::Created(r) => r,
        other => panic!("expected Created, got {other:?}"),
    };
    assert_eq!(first.stato, StatoRichiesta::Ricevuta);
    assert_eq!(drain_outbox(&store).await.len(), 1, "one outbox row");

    // The same key again (even with another file: the caller compares sha256): the first one.
    match store
        .create_richiesta_once(with_sha("INTERM00001", 'b'), Some("k-1"))
        .await
        .unwrap()
    {
        CreateOutcome::Replayed(r) => assert_eq!(r.numero, first.numero),
        other => panic!("expected Replayed, got {other:?}"),
    }
    let found = store
        .find_idempotency_key("INTERM00001", "k-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.numero, first.numero);
    assert!(
        store
            .find_idempotency_key("INTERM00002", "k-1")
            .await
            .unwrap()
            .is_none(),
        "keys are per intermediario"
    );
    assert!(store
        .find_idempotency_key("INTERM00001", "k-2")
        .await
        .unwrap()
        .is_none());

    // The same file with another key (or none): a duplicate, nothing written.
    for key in [Some("k-2"), None] {
        match store
            .create_richiesta_once(with_sha("INTERM00001", 'a'), key)
            .await
            .unwrap()
        {
            CreateOutcome::Duplicate(r) => assert_eq!(r.numero, first.numero),
            other => panic!("expected Duplicate, got {other:?}"),
        }
    }
    assert!(drain_outbox(&store).await.is_empty(), "a duplicate writes no outbox row");
    assert!(
        store
            .find_idempotency_key("INTERM00001", "k-2")
            .await
            .unwrap()
            .is_none(),
        "nor its key"
    );

    // Another intermediario may upload the same file.
    assert!(matches!(
        store
            .create_richiesta_once(with_sha("INTERM00002", 'a'), Some("k-1"))
            .await
            .unwrap(),
        CreateOutcome::Created(_)
    ));
    // Once the first is ELIMINATA the file may come again.
    step(&store, first.numero, StatoRichiesta::Ricevuta, StatoRichiesta::Eliminata).await;
    let again = match store
        .create_richiesta_once(with_sha("INTERM00001", 'a'), Some("k-3"))
        .await
        .unwrap()
    {
        CreateOutcome::Created(r) => r,
        other => panic!("expected Created, got {other:?}"),
    };
    assert!(again.numero > first.numero);

    // Concurrent uploads of one file with distinct keys: exactly one is created.
    let mut tasks = Vec::new();
    for i in 0..8 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            store
                .create_richiesta_once(with_sha("INTERM00003", 'c'), Some(&format!("c-{i}")))
                .await
                .unwrap()
        }));
    }
    let mut created = 0;
    for t in tasks {
        if matches!(t.await.unwrap(), CreateOutcome::Created(_)) {
            created += 1;
        }
    }
    assert_eq!(created, 1);
}

/// The sweep of orphan blobs asks which blobs a window of insertion times holds: every state
/// counts (an eliminata keeps its file), the window is half-open. And the richiesta keeps the
/// trace of its upload.
async fn blob_keys_by_insertion_time(store: Arc<dyn Store>) {
    let r = store
        .create_richiesta(new_richiesta("INTERM00001", true))
        .await
        .unwrap();
    // The upload's trace stays with the richiesta, for the steps that come after it.
    assert_eq!(
        store.trace_context_of(r.numero).await.unwrap().as_deref(),
        Some("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
    );
    assert_eq!(store.trace_context_of(i64::MAX).await.unwrap(), None);
    let at = r.data_inserimento;
    let second = chrono::Duration::seconds(1);
    let keys = store
        .blob_keys_inserted(at - second, at + second)
        .await
        .unwrap();
    assert!(keys.contains(&r.blob_key), "{keys:?}");
    let keys = store
        .blob_keys_inserted(at + second, at + second * 2)
        .await
        .unwrap();
    assert!(!keys.contains(&r.blob_key), "{keys:?}");
    let keys = store.blob_keys_inserted(at - second, at).await.unwrap();
    assert!(!keys.contains(&r.blob_key), "the end of the window is excluded: {keys:?}");
}

/// A relay killed between lease and publish leaves leased rows behind; the only relay of the next
/// life ends those leases at start and takes the rows at once, in order.
async fn release_all_outbox_leases_after_a_crash(store: Arc<dyn Store>) {
    drain_outbox(&store).await;
    for _ in 0..2 {
        store
            .create_richiesta(new_richiesta("INTERM00001", true))
            .await
            .unwrap();
    }
    let leased = store
        .lease_outbox(10, Duration::from_secs(600))
        .await
        .unwrap();
    assert_eq!(leased.len(), 2);
    store.mark_published(&[leased[0].id]).await.unwrap();
    // The process dies here; its lease on the second row would last ten minutes.
    assert_eq!(store.release_all_outbox_leases().await.unwrap(), 1, "only the unpublished row was leased");
    let again = store
        .lease_outbox(10, Duration::from_secs(600))
        .await
        .unwrap();
    assert_eq!(again.iter().map(|r| r.id).collect::<Vec<_>>(), vec![leased[1].id]);
    assert_eq!(again[0].attempts, 2, "a second lease of the same row");
    assert_eq!(store.release_all_outbox_leases().await.unwrap(), 1);
    store.mark_published(&[leased[1].id]).await.unwrap();
    assert_eq!(store.release_all_outbox_leases().await.unwrap(), 0, "a published row is no one's lease");
}

async fn release_outbox_returns_rows_at_once(store: Arc<dyn Store>) {
    drain_outbox(&store).await;
    for _ in 0..3 {
        store
            .create_richiesta(new_richiesta("INTERM00001", true))
            .await
            .unwrap();
    }
    let leased = store
        .lease_outbox(10, Duration::from_secs(600))
        .await
        .unwrap();
    assert_eq!(leased.len(), 3);
    assert!(store
        .lease_outbox(10, Duration::from_secs(600))
        .await
        .unwrap()
        .is_empty());
    // The first was published; the other two go back.
    store.mark_published(&[leased[0].id]).await.unwrap();
    store
        .release_outbox(&[leased[1].id, leased[2].id])
        .await
        .unwrap();
    store.release_outbox(&[]).await.unwrap();
    let again = store
        .lease_outbox(10, Duration::from_secs(600))
        .await
        .unwrap();
    assert_eq!(again.iter().map(|r| r.id).collect::<Vec<_>>(), vec![leased[1].id, leased[2].id], "in order");
    // Releasing a published row changes nothing.
    store.release_outbox(&[leased[0].id]).await.unwrap();
    assert!(store
        .lease_outbox(10, Duration::from_secs(600))
        .await
        .unwrap()
        .is_empty());
}

async fn errore_elaborazione_and_replay(store: Arc<dyn Store>) {
    let r = store
        .create_richiesta(new_richiesta("INTERM00001", true))
        .await
        .unwrap();
    step(&store, r.numero, StatoRichiesta::Ricevuta, StatoRichiesta::InElaborazione).await;
    drain_outbox(&store).await;
    assert!(store.errore_elaborazione(r.numero).await.unwrap().is_none());
    store
        .set_errore_elaborazione(r.numero, JobKind::Prevalidazione, "blob mancante", 3)
        .await
        .unwrap();
    store
        .set_errore_elaborazione(r.numero, JobKind::Prevalidazione, "blob ancora mancante", 5)
        .await
        .unwrap();
    let e = store.errore_elaborazione(r.numero).await.unwrap().unwrap();
    assert_eq!(
        (e.numero_richiesta, e.kind, e.errore.as_str(), e.tentativi),
        (r.numero, JobKind::Prevalidazione, "blob ancora mancante", 5)
    );
    assert!(matches!(
        store
            .set_errore_elaborazione(999_999, JobKind::Invio, "x", 1)
            .await,
        Err(StoreError::NotFound(999_999))
    ));

    // The SLA reaper leaves it alone while the failure is recorded.
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(store.requeue_stale(Duration::from_millis(1)).await.unwrap(), 0);

    let listed = store.list_errori_elaborazione(10).await.unwrap();
    assert_eq!(listed, vec![e.clone()]);
    assert!(store.list_errori_elaborazione(0).await.unwrap().is_empty());

    // Replay: the failure goes, an outbox row comes.
    store
        .replay_job(r.numero, JobKind::Prevalidazione)
        .await
        .unwrap();
    assert!(store.errore_elaborazione(r.numero).await.unwrap().is_none());
    let rows = drain_outbox(&store).await;
    assert_eq!(rows.len(), 1);
    assert_eq!((rows[0].numero_richiesta, rows[0].kind), (r.numero, JobKind::Prevalidazione));
    assert!(matches!(store.replay_job(999_999, JobKind::Invio).await, Err(StoreError::NotFound(999_999))));
    // And the reaper watches it again.
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(store.requeue_stale(Duration::from_millis(1)).await.unwrap(), 1);
}

async fn sla_stats_counts(store: Arc<dyn Store>) {
    let empty = store
        .sla_stats(Duration::from_secs(60), Duration::from_secs(3600))
        .await
        .unwrap();
    assert_eq!((empty.oldest_unfinished, empty.finished, empty.finished_within), (None, 0, 0));
    assert_eq!((empty.waiting_prevalidazione, empty.waiting_invio), (None, None));
    let open = store
        .create_richiesta(new_richiesta("INTERM00001", true))
        .await
        .unwrap();
    prevalidated(&store, "INTERM00001", &big_esito(2)).await;
    let stats = store
        .sla_stats(Duration::from_secs(60), Duration::from_secs(3600))
        .await
        .unwrap();
    assert_eq!(stats.oldest_unfinished, Some(open.data_inserimento));
    assert_eq!((stats.finished, stats.finished_within), (1, 1));
    // A bound of zero: finished, but not within it.
    tokio::time::sleep(Duration::from_millis(5)).await;
    let late = prevalidated(&store, "INTERM00001", &big_esito(2)).await;
    assert!(late.data_prevalidazione.unwrap() > late.data_inserimento);
    let strict = store
        .sla_stats(Duration::ZERO, Duration::from_secs(3600))
        .await
        .unwrap();
    assert_eq!(strict.finished, 2);
    assert!(strict.finished_within < 2);
    // The queue lag: the oldest richiesta each kind of job still waits for.
    assert_eq!((strict.waiting_prevalidazione, strict.waiting_invio), (Some(open.data_inserimento), None));
    let approvata = step(&store, late.numero, StatoRichiesta::Prevalidata, StatoRichiesta::Approvata).await;
    let stats = store
        .sla_stats(Duration::ZERO, Duration::from_secs(3600))
        .await
        .unwrap();
    assert!(approvata.data_approvazione.is_some());
    assert_eq!(stats.waiting_invio, approvata.data_approvazione);
}

async fn archivio_import_and_periodi(store: Arc<dyn Store>) {
    use cigo_domain::archivio::{DatiArchivio, PeriodoArchivio, RapportoLavoro};
    use cigo_domain::model::Ore;
    let m = |s: &str| vec![s.to_string()];
    assert!(store
        .archivio_periodi(&[], d("2020-01-01"))
        .await
        .unwrap()
        .is_empty());
    assert!(store.archivio_rapporti(&[]).await.unwrap().is_empty());

    // Imported authorisations: upsert by (matricola, riferimento).
    let aut = |rif: &str, dal: &str, al: &str, ore: i64| PeriodoArchivio {
        matricola: "7000000001".into(),
        unita_produttiva: "UP-1".into(),
        riferimento: rif.into(),
        dal: d(dal),
        al: d(al),
        ore: Ore::from_hours(ore),
        evento_non_evitabile: false,
    };
    let rows = vec![aut("AUT-1", "2025-01-06", "2025-02-02", 400), aut("AUT-0", "2019-01-07", "2019-02-03", 10)];
    assert_eq!(store.import_autorizzazioni(&rows).await.unwrap(), 2);
    let mut again = rows.clone();
    again[0].ore = Ore::from_hours(500);
    again[0].evento_non_evitabile = true;
    store.import_autorizzazioni(&again).await.unwrap();

    // A protocollata domanda counts too, with its hours and causale.
    let mut dom = domanda(1, Some("7000000001"), Some("UP-1"), "2026-01-05", "2026-01-11", vec![]);
    dom.archivio = Some(DatiArchivio { ore_cig: Ore(12_345), evento_non_evitabile: false, ..DatiArchivio::default() });
    let other = domanda(2, Some("7000000002"), Some("UP-1"), "2026-01-05", "2026-01-11", vec![]);
    let r = in_invio(&store, &esito(vec![dom, other])).await;
    store
        .complete_invio(r.numero, "sistema:sender", at_2026(), at_2026().date_naive())
        .await
        .unwrap();

    let periodi = store
        .archivio_periodi(&m("7000000001"), d("2020-01-01"))
        .await
        .unwrap();
    assert_eq!(periodi.len(), 2, "{periodi:?}");
    assert_eq!(
        periodi[0],
        PeriodoArchivio { ore: Ore::from_hours(500), evento_non_evitabile: true, ..rows[0].clone() }
    );
    assert_eq!(periodi[1].riferimento, "CIGO-2026-0000001");
    assert_eq!((periodi[1].dal, periodi[1].al, periodi[1].ore), (d("2026-01-05"), d("2026-01-11"), Ore(12_345)));
    // The window bound and the matricola filter.
    assert_eq!(
        store
            .archivio_periodi(&m("7000000001"), d("2026-01-01"))
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        store
            .archivio_periodi(&m("7000000001"), d("2018-01-01"))
            .await
            .unwrap()
            .len(),
        3
    );
    assert_eq!(
        store
            .archivio_periodi(&m("7000000009"), d("2018-01-01"))
            .await
            .unwrap()
            .len(),
        0
    );

    let rap = |cf: &str, dal: &str, al: Option<&str>| RapportoLavoro {
        matricola: "7000000001".into(),
        codice_fiscale: cf.into(),
        assunto_dal: d(dal),
        cessato_al: al.map(d),
    };
    let rapporti =
        vec![rap("RSSMRA85T10A562S", "2020-01-01", None), rap("BNCLRA90A41F205X", "2021-03-01", Some("2025-12-31"))];
    assert_eq!(store.import_rapporti(&rapporti).await.unwrap(), 2);
    store
        .import_rapporti(&[rap("RSSMRA85T10A562S", "2020-01-01", Some("2026-06-30"))])
        .await
        .unwrap();
    let got = store.archivio_rapporti(&m("7000000001")).await.unwrap();
    assert_eq!(got, vec![rapporti[1].clone(), rap("RSSMRA85T10A562S", "2020-01-01", Some("2026-06-30"))]);

    // verifica_archivio: loads and applies (ARC-001 against the protocollata domanda).
    let mut nuova = domanda(1, Some("7000000001"), Some("UP-1"), "2026-01-10", "2026-01-20", vec![]);
    nuova.archivio = Some(DatiArchivio { mesi_quinquennio: 24, ..DatiArchivio::default() });
    let mut e = esito(vec![nuova]);
    cigo_store::verifica_archivio(store.as_ref(), &mut e, None)
        .await
        .unwrap();
    let codes: Vec<&str> = e.domande[0]
        .findings
        .iter()
        .map(|f| f.code.as_str())
        .collect();
    assert_eq!(codes, [ARC_PERIODO_SOVRAPPOSTO]);
    assert_eq!(e.domande[0].esito, EsitoDomanda::Scartata);
}

/// Sending judges the domande again against what the archive holds then: an authorisation
/// imported (or a domanda protocollata) after prevalidation can push a domanda past the 52 weeks.
async fn complete_invio_rechecks_the_limits(store: Arc<dyn Store>) {
    use cigo_domain::archivio::{DatiArchivio, PeriodoArchivio};
    use cigo_domain::model::Ore;
    let dati = DatiArchivio { mesi_quinquennio: 24, ..DatiArchivio::default() };
    let mut a = domanda(1, Some("7100000001"), Some("UP-1"), "2026-03-02", "2026-04-05", vec![]);
    a.archivio = Some(dati.clone());
    // Overlapping the authorisation too: two findings, numbered.
    let mut b = domanda(2, Some("7100000001"), Some("UP-1"), "2025-12-01", "2025-12-07", vec![]);
    b.archivio = Some(dati.clone());
    let mut c = domanda(3, Some("7100000001"), Some("UP-2"), "2026-03-02", "2026-03-22", vec![]);
    c.archivio = Some(dati);
    let r = in_invio(&store, &esito(vec![a, b, c])).await;
    // 48 weeks authorised for UP-1, imported while the richiesta waited.
    store
        .import_autorizzazioni(&[PeriodoArchivio {
            matricola: "7100000001".into(),
            unita_produttiva: "UP-1".into(),
            riferimento: "INPS-48".into(),
            dal: d("2025-01-06"),
            al: d("2025-12-07"),
            ore: Ore(0),
            evento_non_evitabile: false,
        }])
        .await
        .unwrap();
    let done = store
        .complete_invio(r.numero, "sistema:sender", at_2026(), at_2026().date_naive())
        .await
        .unwrap();
    assert_eq!(done.stato, StatoRichiesta::Consegnata);
    assert_eq!((done.domande_protocollate, done.domande_scartate), (1, 2));
    let db = all_domande(&store, r.numero).await;
    let got: Vec<(EsitoDomanda, Vec<&str>)> = db
        .iter()
        .map(|x| (x.esito, x.findings.iter().map(|f| f.code.as_str()).collect()))
        .collect();
    assert_eq!(
        got,
        vec![
            (EsitoDomanda::ScartataInInvio, vec!["ARC-002"]),
            (EsitoDomanda::ScartataInInvio, vec![ARC_PERIODO_SOVRAPPOSTO]),
            (EsitoDomanda::Protocollata, vec![]),
        ]
    );
    assert!(db[0].findings[0].message.contains("INPS-48"), "{}", db[0].findings[0].message);
    // The cruscotto's base: the unit with a protocollata domanda, as it declared itself.
    let unita = store.unita_protocollate("7100000001").await.unwrap();
    assert_eq!(
        unita,
        [cigo_store::UnitaProtocollata {
            unita_produttiva: "UP-2".into(),
            ore_lavorabili_centesimi: Some(0),
            mesi_quinquennio: Some(24)
        }]
    );
    assert!(store
        .unita_protocollate("0000000000")
        .await
        .unwrap()
        .is_empty());
}

/// The workers of a protocollata domanda are what later domande are judged against (ARC-008 at
/// sending, the keys of prevalidation); a SCARTATA domanda's are not kept; the purge removes them.
async fn one_cig_per_worker_across_richieste(store: Arc<dyn Store>) {
    use cigo_domain::archivio::{ChiaviArchivio, DatiArchivio, LavoratoreDomanda};
    let cf = "RSSMRA85T10A562S";
    let con = |mut x: DomandaEsito, cfs: &[&str]| {
        x.archivio = Some(DatiArchivio {
            lavoratori: cfs
                .iter()
                .zip(1u32..)
                .map(|(cf, posizione)| LavoratoreDomanda {
                    codice_fiscale: cf.to_lowercase(),
                    data_assunzione: None,
                    posizione,
                    line: 20 + posizione,
                    column: 9,
                })
                .collect(),
            ..DatiArchivio::default()
        });
        x
    };
    let prima = con(domanda(1, Some("7200000001"), Some("UP-1"), "2026-03-02", "2026-03-15", vec![]), &[cf]);
    let scartata = con(
        domanda(
            2,
            Some("7200000001"),
            Some("UP-9"),
            "2026-03-02",
            "2026-03-15",
            vec![finding("CMP-001", Severity::Errore, 2)],
        ),
        &["BNCLRA90A41F205X"],
    );
    let r1 = in_invio(&store, &esito(vec![prima, scartata])).await;
    store
        .complete_invio(r1.numero, "sistema:sender", at_2026(), at_2026().date_naive())
        .await
        .unwrap();
    let protocollo = all_domande(&store, r1.numero).await[0]
        .protocollo
        .clone()
        .unwrap();

    let chiavi = |cfs: &[&str]| ChiaviArchivio {
        matricole: vec!["7200000001".into()],
        dal: Some(d("2026-01-01")),
        codici_fiscali: cfs.iter().map(|c| c.to_string()).collect(),
        ..ChiaviArchivio::default()
    };
    let found = store
        .fatti_archivio(&chiavi(&[cf, "BNCLRA90A41F205X"]))
        .await
        .unwrap()
        .lavoratori;
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        (found[0].codice_fiscale.as_str(), found[0].unita_produttiva.as_str(), found[0].riferimento.as_str()),
        (cf, "UP-1", protocollo.as_str())
    );
    assert_eq!((found[0].dal, found[0].al), (d("2026-03-02"), d("2026-03-15")));

    // Prevalidated before the first was sent: the same worker, the same matricola, another unit.
    let seconda = con(
        domanda(1, Some("7200000001"), Some("UP-2"), "2026-03-09", "2026-03-22", vec![]),
        &["BNCLRA90A41F205X", cf],
    );
    let r2 = in_invio(&store, &esito(vec![seconda])).await;
    let done = store
        .complete_invio(r2.numero, "sistema:sender", at_2026(), at_2026().date_naive())
        .await
        .unwrap();
    assert_eq!(done.stato, StatoRichiesta::ScartataInInvio);
    let f = &all_domande(&store, r2.numero).await[0].findings[0];
    assert_eq!((f.code.as_str(), f.value.as_deref()), ("ARC-008", Some(protocollo.as_str())));
    assert_eq!(f.xpath.as_deref(), Some("/RichiestaCIGO/Domanda[1]/Lavoratori/Lavoratore[2]/CodiceFiscale"));
    assert_eq!((f.line, f.column), (Some(22), Some(9)));

    // Purged, the first richiesta's workers are gone with its domande.
    let future = Utc::now() + ChronoDuration::minutes(1);
    let criterio = CriterioPurga { eliminate_prima_del: Some(future), concluse_prima_del: Some(future) };
    let done = store
        .purga_richiesta(r1.numero, &criterio, "test")
        .await
        .unwrap();
    assert!(done.is_some());
    assert!(store
        .fatti_archivio(&chiavi(&[cf]))
        .await
        .unwrap()
        .lavoratori
        .is_empty());
}

// --- Attestati --------------------------------------------------------------------------------------

async fn attestati_issued_once_and_found_by_code(store: Arc<dyn Store>) {
    let r = store
        .create_richiesta(new_richiesta("RSSMRA85T10A562S", true))
        .await
        .unwrap();
    // The original file name is kept as it came, accents included.
    assert_eq!(r.nome_file.as_deref(), Some("domande di Niccolò.xml"));
    let read = store.get_richiesta(r.numero).await.unwrap().unwrap();
    assert_eq!(read.nome_file, r.nome_file);
    assert_eq!(read.domande_scartate_in_invio, 0);
    let without = NewRichiesta { nome_file: None, ..new_richiesta("RSSMRA85T10A562S", true) };
    assert_eq!(store.create_richiesta(without).await.unwrap().nome_file, None);

    let nuovo = |codice: char, tipo: &str, json: &str| NuovoAttestato {
        codice: codice.to_string().repeat(32),
        numero_richiesta: r.numero,
        tipo: tipo.into(),
        json: json.into(),
    };
    assert_eq!(store.attestato_di(r.numero, "TRASMISSIONE").await.unwrap(), None);
    let first = store
        .issue_attestato(&nuovo('A', "TRASMISSIONE", r#"{"tipo":"TRASMISSIONE","città":"Città"}"#))
        .await
        .unwrap();
    assert_eq!(
        (first.codice.as_str(), first.numero_richiesta, first.tipo.as_str()),
        ("A".repeat(32).as_str(), r.numero, "TRASMISSIONE")
    );
    assert_eq!(first.json, r#"{"tipo":"TRASMISSIONE","città":"Città"}"#);
    // Issued once: the same again, or another content of the same tipo, leaves the first.
    let again = store
        .issue_attestato(&nuovo('A', "TRASMISSIONE", r#"{"tipo":"TRASMISSIONE","città":"Città"}"#))
        .await
        .unwrap();
    assert_eq!(again, first);
    let other = store
        .issue_attestato(&nuovo('B', "TRASMISSIONE", "{}"))
        .await
        .unwrap();
    assert_eq!(other, first);
    assert_eq!(store.attestato_per_codice(&"B".repeat(32)).await.unwrap(), None);
    // The other tipo is its own attestato.
    let consegna = store
        .issue_attestato(&nuovo('C', "CONSEGNA", "{}"))
        .await
        .unwrap();
    assert_eq!(consegna.tipo, "CONSEGNA");
    assert_eq!(store.attestato_di(r.numero, "CONSEGNA").await.unwrap(), Some(consegna.clone()));
    assert_eq!(store.attestato_di(r.numero, "TRASMISSIONE").await.unwrap(), Some(first.clone()));
    assert_eq!(store.attestato_per_codice(&"A".repeat(32)).await.unwrap(), Some(first));
    assert_eq!(store.attestato_per_codice(&"C".repeat(32)).await.unwrap(), Some(consegna));
    assert_eq!(store.attestato_di(r.numero + 1, "CONSEGNA").await.unwrap(), None);
    // Only for a richiesta that exists.
    let orphan = NuovoAttestato { numero_richiesta: r.numero + 100, ..nuovo('D', "CONSEGNA", "{}") };
    assert!(store.issue_attestato(&orphan).await.is_err());
}

// --- Retention ------------------------------------------------------------------------------------

/// One richiesta in each kind of state the retention must tell apart: in progress (RICEVUTA),
/// waiting (PREVALIDATA), rejected but still deletable (SCARTATA), and the final ones ELIMINATA
/// and CONSEGNATA. Returned in that order (numeri increasing).
async fn one_of_each(store: &Arc<dyn Store>) -> [Richiesta; 5] {
    let valide = || {
        esito(vec![
            domanda(1, Some("5000000001"), Some("UP-1"), "2026-01-05", "2026-01-11", vec![]),
            domanda(
                2,
                Some("5000000002"),
                Some("UP-1"),
                "2026-01-05",
                "2026-01-11",
                vec![finding("CMP-010", Severity::Avviso, 2)],
            ),
        ])
    };
    let ricevuta = store
        .create_richiesta(new_richiesta("INTERM00001", true))
        .await
        .unwrap();
    let prevalidata = prevalidated(store, "INTERM00001", &valide()).await;
    let tutte_scartate = esito(vec![domanda(
        1,
        Some("5000000003"),
        Some("UP-1"),
        "2026-01-05",
        "2026-01-11",
        vec![finding("CMP-001", Severity::Errore, 1)],
    )]);
    let scartata = prevalidated(store, "INTERM00001", &tutte_scartate).await;
    assert_eq!(scartata.stato, StatoRichiesta::Scartata);
    let da_eliminare = prevalidated(store, "INTERM00001", &valide()).await;
    let eliminata = step(store, da_eliminare.numero, StatoRichiesta::Prevalidata, StatoRichiesta::Eliminata).await;
    let invio = in_invio(store, &valide()).await;
    let consegnata = store
        .complete_invio(invio.numero, "sistema:sender", at_2026(), d("2026-03-02"))
        .await
        .unwrap();
    assert_eq!(consegnata.stato, StatoRichiesta::Consegnata);
    [ricevuta, prevalidata, scartata, eliminata, consegnata]
}

/// The candidates by rule: ELIMINATA by its elimination, every final state by its last change;
/// a richiesta in any other state never, whatever the cutoffs; in batches by numero.
async fn purga_candidates_by_rule(store: Arc<dyn Store>) {
    let [ricevuta, prevalidata, scartata, eliminata, consegnata] = one_of_each(&store).await;
    let future = Utc::now() + ChronoDuration::minutes(1);
    let numeri = |c: &[cigo_store::CandidatoPurga]| c.iter().map(|c| c.numero).collect::<Vec<_>>();

    // No rule on: nothing is due.
    assert!(store
        .candidati_purga(&CriterioPurga::default(), 0, 100)
        .await
        .unwrap()
        .is_empty());

    // The elimination's rule: only the ELIMINATA one, from its data_eliminazione.
    let eliminate = CriterioPurga { eliminate_prima_del: Some(future), concluse_prima_del: None };
    let c = store.candidati_purga(&eliminate, 0, 100).await.unwrap();
    assert_eq!(numeri(&c), [eliminata.numero]);
    assert_eq!((c[0].regola, c[0].stato), (RegolaPurga::Eliminata, StatoRichiesta::Eliminata));
    assert_eq!(Some(c[0].dal), eliminata.data_eliminazione);
    assert_eq!(c[0].blob_key, eliminata.blob_key);
    // Eliminated after the cutoff: not yet.
    let earlier = CriterioPurga { eliminate_prima_del: eliminata.data_eliminazione, concluse_prima_del: None };
    assert!(store
        .candidati_purga(&earlier, 0, 100)
        .await
        .unwrap()
        .is_empty());

    // The retention period: every final state, from its last change.
    let concluse = CriterioPurga { eliminate_prima_del: None, concluse_prima_del: Some(future) };
    let c = store.candidati_purga(&concluse, 0, 100).await.unwrap();
    assert_eq!(numeri(&c), [eliminata.numero, consegnata.numero]);
    assert!(c.iter().all(|c| c.regola == RegolaPurga::Conservazione));
    assert_eq!((c[1].stato, c[1].dal), (StatoRichiesta::Consegnata, consegnata.updated_at));

    // Both rules: the elimination's names the ELIMINATA one.
    let both = CriterioPurga { eliminate_prima_del: Some(future), concluse_prima_del: Some(future) };
    let c = store.candidati_purga(&both, 0, 100).await.unwrap();
    assert_eq!(
        c.iter().map(|c| (c.numero, c.regola)).collect::<Vec<_>>(),
        [(eliminata.numero, RegolaPurga::Eliminata), (consegnata.numero, RegolaPurga::Conservazione)]
    );

    // In batches: after the last numero of the previous one.
    let first = store.candidati_purga(&both, 0, 1).await.unwrap();
    assert_eq!(numeri(&first), [eliminata.numero]);
    let second = store
        .candidati_purga(&both, first[0].numero, 1)
        .await
        .unwrap();
    assert_eq!(numeri(&second), [consegnata.numero]);
    assert!(store
        .candidati_purga(&both, second[0].numero, 1)
        .await
        .unwrap()
        .is_empty());

    // Not final: never a candidate, and never purged even when asked for by numero.
    let far = CriterioPurga {
        eliminate_prima_del: Some(future + ChronoDuration::days(10_000)),
        concluse_prima_del: Some(future + ChronoDuration::days(10_000)),
    };
    let due = numeri(&store.candidati_purga(&far, 0, 100).await.unwrap());
    for r in [&ricevuta, &prevalidata, &scartata] {
        assert!(!due.contains(&r.numero), "{} is {}", r.numero, r.stato);
        assert_eq!(store.purga_richiesta(r.numero, &far, "test").await.unwrap(), None);
        let after = store.get_richiesta(r.numero).await.unwrap().unwrap();
        assert_eq!(after.purgata_il, None);
        assert_eq!(after.nome_file, r.nome_file);
    }
    assert_eq!(all_domande(&store, prevalidata.numero).await.len(), 2);
    assert_eq!(all_domande(&store, scartata.numero).await.len(), 1);
}

/// A purge removes the rows that hold the data (domande, findings, attestati, outbox), leaves
/// a tombstone with its transitions and its audit rows, writes its own audit row, and touches
/// no other richiesta; purging again does nothing.
async fn purga_removes_the_data_and_keeps_the_trail(store: Arc<dyn Store>) {
    let [_, prevalidata, _, eliminata, consegnata] = one_of_each(&store).await;
    let n = consegnata.numero;
    store
        .issue_attestato(&NuovoAttestato {
            codice: "C".repeat(32),
            numero_richiesta: n,
            tipo: "CONSEGNA".into(),
            json: r#"{"tipo":"CONSEGNA"}"#.into(),
        })
        .await
        .unwrap();
    store
        .append_audit(NewAudit {
            actor: "intermediario:INTERM00001 (token 1)".into(),
            action: "lettura_domande".into(),
            numero_richiesta: Some(n),
            detail: None,
        })
        .await
        .unwrap();
    let transizioni = store.transizioni(n).await.unwrap();
    let audit_before = store.list_audit(Some(n), 1, 1000).await.unwrap().items;
    assert!(!all_domande(&store, n).await.is_empty());
    let other_domande = all_domande(&store, prevalidata.numero).await;

    let future = Utc::now() + ChronoDuration::minutes(1);
    let criterio = CriterioPurga { eliminate_prima_del: Some(future), concluse_prima_del: Some(future) };
    let done = store
        .purga_richiesta(n, &criterio, "sistema:retention")
        .await
        .unwrap()
        .expect("purged");
    assert_eq!((done.candidato.numero, done.candidato.regola), (n, RegolaPurga::Conservazione));
    assert_eq!((done.domande, done.findings, done.attestati), (2, 1, 1));
    assert!(done.outbox >= 1, "{done:?}");

    // The data is gone.
    assert!(all_domande(&store, n).await.is_empty());
    assert_eq!(store.attestato_di(n, "CONSEGNA").await.unwrap(), None);
    assert_eq!(store.attestato_per_codice(&"C".repeat(32)).await.unwrap(), None);
    // The tombstone: state, dates and counters stay, the personal columns do not.
    let tomb = store.get_richiesta(n).await.unwrap().unwrap();
    assert!(tomb.purgata_il.is_some());
    assert_eq!((tomb.stato, tomb.nome_file.as_deref()), (StatoRichiesta::Consegnata, None));
    assert_eq!((tomb.data_consegna, tomb.domande_totali), (consegnata.data_consegna, consegnata.domande_totali));
    // The trail stays, with the purge added to it.
    assert_eq!(store.transizioni(n).await.unwrap(), transizioni);
    let audit = store.list_audit(Some(n), 1, 1000).await.unwrap().items;
    assert_eq!(audit.len(), audit_before.len() + 1);
    assert_eq!(audit[..audit_before.len()], audit_before[..]);
    let purga = audit.last().unwrap();
    assert_eq!((purga.action.as_str(), purga.actor.as_str()), ("purga", "sistema:retention"));
    let detail = purga.detail.as_deref().unwrap();
    for part in ["regola=conservazione", "stato=CONSEGNATA", "domande=2", "findings=1", "attestati=1"] {
        assert!(detail.contains(part), "{detail}");
    }
    // The blob no longer counts as held; it is listed among the purged ones until deleted.
    let at = consegnata.data_inserimento;
    let hour = ChronoDuration::hours(1);
    let held = store
        .blob_keys_inserted(at - hour, at + hour)
        .await
        .unwrap();
    assert!(!held.contains(&consegnata.blob_key) && held.contains(&eliminata.blob_key), "{held:?}");
    let purged = store
        .blob_keys_purgati(tomb.purgata_il.unwrap() - hour, Utc::now() + hour)
        .await
        .unwrap();
    assert_eq!(purged, std::slice::from_ref(&consegnata.blob_key));

    // Once: no longer a candidate, and a second purge writes nothing.
    let due = store.candidati_purga(&criterio, 0, 100).await.unwrap();
    assert_eq!(due.iter().map(|c| c.numero).collect::<Vec<_>>(), [eliminata.numero]);
    assert_eq!(
        store
            .purga_richiesta(n, &criterio, "sistema:retention")
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .list_audit(Some(n), 1, 1000)
            .await
            .unwrap()
            .items
            .len(),
        audit.len()
    );
    // The others are untouched.
    assert_eq!(all_domande(&store, prevalidata.numero).await, other_domande);
    assert_eq!(
        store
            .get_richiesta(eliminata.numero)
            .await
            .unwrap()
            .unwrap()
            .purgata_il,
        None
    );

    // The ELIMINATA one by its rule; the audit row says so.
    let done = store
        .purga_richiesta(eliminata.numero, &criterio, "sistema:retention")
        .await
        .unwrap()
        .expect("purged");
    assert_eq!(done.candidato.regola, RegolaPurga::Eliminata);
    let audit = store
        .list_audit(Some(eliminata.numero), 1, 1000)
        .await
        .unwrap()
        .items;
    let detail = audit.last().unwrap().detail.clone().unwrap();
    assert!(detail.contains("regola=eliminata") && detail.contains("stato=ELIMINATA"), "{detail}");
    assert!(all_domande(&store, eliminata.numero).await.is_empty());
}
