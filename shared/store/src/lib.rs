//! # cigo-store
//!
//! The database is the source of truth of cigo. This crate holds the one storage trait, [`Store`],
//! and its two implementations:
//!
//! - [`sqlite::SqliteStore`]: the embedded default (`cigo serve`), one file under `--data-dir`;
//! - [`postgres::PgStore`]: production, shared by any number of API, worker and sender processes.
//!
//! Both pass the same contract suite (`tests/contract.rs`). Every method that changes the state of
//! a richiesta is one transaction that also records the transition (who, when) and, where work
//! follows, an outbox row: the outbox relay turns those rows into queue messages, so a message is
//! never lost between "committed" and "published".

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use cigo_domain::archivio::{ChiaviArchivio, FattiArchivio};
pub use cigo_domain::archivio::{PeriodoArchivio, RapportoLavoro};
use cigo_domain::{EsitoDomanda, EsitoPrevalidazione, Finding, JobKind, Ruolo, StatoRichiesta};
use serde::Serialize;
use std::sync::Arc;
use std::time::Duration;

mod common;
mod forward;
pub mod postgres;
mod sql;
pub mod sqlite;
mod tx;

pub type Timestamp = DateTime<Utc>;
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No richiesta with that numero.
    #[error("richiesta {0} non trovata")]
    NotFound(i64),
    /// The compare-and-set on the state failed: the richiesta is in `current`, not in the state the
    /// caller expected.
    #[error("la richiesta è nello stato {current}")]
    StateConflict { current: StatoRichiesta },
    /// The disk under the database is full (SQLite's `SQLITE_FULL`, PostgreSQL's `disk_full`,
    /// an I/O error `ENOSPC`): nothing of the failed transaction was written, and the same call
    /// succeeds once space is freed. Told apart so that callers can say so and retry.
    #[error("spazio su disco esaurito: {0}")]
    DiskFull(#[source] sqlx::Error),
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
    #[error("migration error: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A value read back from the database does not decode (a bug or a hand-edited row).
    #[error("corrupt row: {0}")]
    Corrupt(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        if is_disk_full(&e) {
            StoreError::DiskFull(e)
        } else {
            StoreError::Database(e)
        }
    }
}

/// SQLite's `SQLITE_FULL` (13, the primary code of the extended one), PostgreSQL's SQLSTATE
/// 53100 `disk_full`, or an I/O error `ENOSPC`.
fn is_disk_full(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(db) => {
            let code = db.code();
            let code = code.as_deref().unwrap_or("");
            if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
                code.parse::<i32>().is_ok_and(|c| c & 0xff == 13)
            } else {
                code == "53100"
            }
        }
        sqlx::Error::Io(io) => io.kind() == std::io::ErrorKind::StorageFull,
        _ => false,
    }
}

impl StoreError {
    /// The disk is full ([`StoreError::DiskFull`]).
    pub fn is_disk_full(&self) -> bool {
        matches!(self, StoreError::DiskFull(_))
    }
}

/// Opens the store named by a URL: `sqlite://PATH` (created if missing) or `postgres://…`.
pub async fn connect(url: &str, max_connections: u32) -> Result<Arc<dyn Store>> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(sqlite::SqliteStore::connect(url).await?))
    } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        Ok(Arc::new(postgres::PgStore::connect(url, max_connections).await?))
    } else {
        Err(StoreError::Corrupt(format!(
            "unsupported database URL scheme (expected sqlite:// or postgres://): {}",
            url.split(':').next().unwrap_or("")
        )))
    }
}

/// An API token, as stored (only the SHA-256 of the token is kept).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct TokenRecord {
    pub id: i64,
    /// Codice fiscale of the intermediario the token acts for.
    pub intermediario: String,
    pub nome: Option<String>,
    pub ruolo: Ruolo,
    pub created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
}

/// A session of the web console to open: the sha256 of its random id (the id itself is only in
/// the browser's cookie), the CSRF token of its forms and the API token it acts as.
#[derive(Debug, Clone)]
pub struct NuovaSessione {
    pub session_hash: String,
    pub csrf_token: String,
    pub token_id: i64,
    pub expires_at: Timestamp,
}

/// A session of the web console, as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Sessione {
    pub id: i64,
    pub csrf_token: String,
    pub token_id: i64,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub ended_at: Option<Timestamp>,
}

/// What the upload hands to [`Store::create_richiesta`] once the file is durably in the blob store.
#[derive(Debug, Clone)]
pub struct NewRichiesta {
    pub intermediario: String,
    pub blob_key: String,
    /// Lower-case hex SHA-256 of the file.
    pub sha256: String,
    pub size_bytes: i64,
    /// `false` selects the direct mode: validate and send with no approval step.
    pub prevalidazione: bool,
    /// Who uploaded it (for the transition record), e.g. `token:12`.
    pub actor: String,
    /// W3C `traceparent` of the upload, copied into the outbox row so one trace runs to the esito.
    pub trace_context: Option<String>,
    /// The richiesta whose rejected domande this file sends again (its `rinvioDi`), checked by
    /// the caller to be one the uploader may see; the store links the two.
    pub rinvio_di: Option<i64>,
    /// The name of the uploaded file as the intermediario sent it (already validated).
    pub nome_file: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct Richiesta {
    pub numero: i64,
    pub intermediario: String,
    pub stato: StatoRichiesta,
    pub prevalidazione: bool,
    pub blob_key: String,
    pub sha256: String,
    pub size_bytes: i64,
    pub data_inserimento: Timestamp,
    pub data_prevalidazione: Option<Timestamp>,
    pub data_approvazione: Option<Timestamp>,
    pub data_consegna: Option<Timestamp>,
    pub data_eliminazione: Option<Timestamp>,
    /// Last change of any kind (state, esito); the SLA reaper looks at it.
    pub updated_at: Timestamp,
    pub domande_totali: i64,
    pub domande_valide: i64,
    pub domande_scartate: i64,
    pub domande_protocollate: i64,
    /// The file-level failure, when prevalidation rejected the file as a whole.
    #[sqlx(json(nullable))]
    pub file_finding: Option<Finding>,
    /// Id and version of the rule set of the last esito.
    pub rule_set: Option<String>,
    /// The richiesta whose rejected domande this one sends again.
    pub rinvio_di: Option<i64>,
    /// The latest richiesta that sends this one's rejected domande again.
    pub rinviata_in: Option<i64>,
    /// The name of the uploaded file as the intermediario sent it, when it sent one.
    pub nome_file: Option<String>,
    /// Of `domande_scartate`, those rejected by the re-validation at sending.
    pub domande_scartate_in_invio: i64,
    /// When the retention purged its data ([`Store::purga_richiesta`]): the row stays as a
    /// tombstone for the audit trail, without domande, findings, attestati or blob.
    pub purgata_il: Option<Timestamp>,
}

/// One recorded change of state of a richiesta.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct Transizione {
    pub numero_richiesta: i64,
    /// `None` for the creation of the richiesta.
    pub da: Option<StatoRichiesta>,
    pub a: StatoRichiesta,
    pub actor: String,
    pub at: Timestamp,
    pub nota: Option<String>,
}

/// The search form of the screens. Every field is optional; they combine with AND.
#[derive(Debug, Clone, Default)]
pub struct RichiestaFilter {
    /// Only this intermediario's richieste (`None`: every intermediario, for operatori).
    pub intermediario: Option<String>,
    pub numero: Option<i64>,
    /// Richieste holding at least one domanda for this matricola.
    pub matricola: Option<String>,
    /// ... for this codice fiscale azienda.
    pub codice_fiscale: Option<String>,
    /// ... whose denominazione contains this text (case-insensitive).
    pub denominazione: Option<String>,
    pub inserita_dal: Option<NaiveDate>,
    pub inserita_al: Option<NaiveDate>,
    pub approvata_dal: Option<NaiveDate>,
    pub approvata_al: Option<NaiveDate>,
    pub stato: Option<StatoRichiesta>,
    /// 1-based.
    pub page: u32,
    pub page_size: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: i64,
    pub page: u32,
    pub page_size: u32,
}

/// One domanda of a richiesta, with its esito and every finding.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct DomandaRecord {
    pub numero_richiesta: i64,
    pub progressivo: i64,
    pub matricola: Option<String>,
    pub codice_fiscale_azienda: Option<String>,
    pub denominazione: Option<String>,
    pub unita_produttiva: Option<String>,
    pub periodo_dal: Option<NaiveDate>,
    pub periodo_al: Option<NaiveDate>,
    pub esito: EsitoDomanda,
    /// Set once the domanda is protocollata, e.g. `CIGO-2026-0000042`.
    pub protocollo: Option<String>,
    pub data_protocollo: Option<Timestamp>,
    /// Prevalidation findings first, then those of the sending re-validation, each in file order.
    #[sqlx(skip)]
    pub findings: Vec<Finding>,
}

/// A compare-and-set of the state of a richiesta (see [`Store::transition`]).
#[derive(Debug, Clone)]
pub struct TransitionRequest {
    pub numero: i64,
    /// The state the caller saw and validated the event against (with `StatoRichiesta::apply`).
    pub from: StatoRichiesta,
    pub to: StatoRichiesta,
    pub actor: String,
    pub nota: Option<String>,
    /// Work that follows the transition, written to the outbox in the same transaction.
    pub enqueue: Option<JobKind>,
    pub trace_context: Option<String>,
}

/// A row of the outbox: "publish a message for this job on this richiesta".
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct OutboxMessage {
    pub id: i64,
    pub kind: JobKind,
    pub numero_richiesta: i64,
    pub trace_context: Option<String>,
    pub created_at: Timestamp,
    /// How many times it was leased (1 on the first lease).
    pub attempts: i32,
}

/// The storage contract. Implementations: [`sqlite::SqliteStore`] and [`postgres::PgStore`],
/// laid out alike, one file per aggregate (`richieste`, `outbox`, `access`, `archivio`).
///
/// The store decides nothing about states: the domain does ([`cigo_domain::piano`],
/// `StatoRichiesta::apply`); the store locks, loads the facts, asks the domain and writes its
/// answer, each change in one transaction guarded by a compare-and-set on the state.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Which backend this is: `"sqlite"` or `"postgres"`.
    fn backend(&self) -> &'static str;

    /// Applies the migrations of this backend (`migrations/sqlite` or `migrations/postgres`).
    async fn migrate(&self) -> Result<()>;

    /// A round trip to the database (for `/readyz`).
    async fn ping(&self) -> Result<()>;

    /// A real write: the one row of `heartbeat` updated in a write transaction (for `/readyz`:
    /// a database that reads but cannot write, a full disk, is not ready).
    async fn probe_write(&self) -> Result<()>;

    // --- Richieste: the uploaded files, their state, their domande and esiti ------------------

    /// A new richiesta, guarded against repeats, in one transaction serialised per
    /// intermediario: if `idempotency_key` was already used by `new.intermediario` nothing is
    /// written and [`CreateOutcome::Replayed`] returns the richiesta it created; else if a
    /// richiesta of the intermediario with the same `sha256` exists and is not `ELIMINATA`,
    /// nothing is written and [`CreateOutcome::Duplicate`] returns it (the newest); otherwise the
    /// richiesta is created in `RICEVUTA` with the next numero, its creation transition and an
    /// outbox row for [`JobKind::Prevalidazione`], and the key is remembered.
    async fn create_richiesta_once(&self, new: NewRichiesta, idempotency_key: Option<&str>) -> Result<CreateOutcome>;

    /// The richiesta created by an upload of `intermediario` with this `Idempotency-Key`.
    async fn find_idempotency_key(&self, intermediario: &str, key: &str) -> Result<Option<Richiesta>>;

    async fn get_richiesta(&self, numero: i64) -> Result<Option<Richiesta>>;

    /// The blob keys of the richieste inserted in `[from, to)`, whatever their state, except the
    /// purged ones (their blob is to go): what the sweep of orphan blobs compares a day of the
    /// blob store with.
    async fn blob_keys_inserted(&self, from: Timestamp, to: Timestamp) -> Result<Vec<String>>;

    /// Newest first (by numero, descending).
    async fn search_richieste(&self, filter: &RichiestaFilter) -> Result<Page<Richiesta>>;

    /// Every transition of a richiesta, oldest first.
    async fn transizioni(&self, numero: i64) -> Result<Vec<Transizione>>;

    /// In one transaction: moves the richiesta from `req.from` to `req.to` only if it is still in
    /// `req.from` (else `StateConflict` with the current state; `NotFound` if there is none),
    /// records the transition, sets the date column that belongs to `req.to`
    /// (`APPROVATA` → `data_approvazione`, `ELIMINATA` → `data_eliminazione`), bumps `updated_at`,
    /// and writes an outbox row when `req.enqueue` is set.
    async fn transition(&self, req: TransitionRequest) -> Result<Richiesta>;

    /// In one transaction, for a richiesta in `IN_ELABORAZIONE` (else `StateConflict`): replaces
    /// its domande and findings with `esito` (batched inserts), sets the counters, `rule_set`,
    /// `file_finding` and `data_prevalidazione`, and walks the plan of the domain
    /// ([`cigo_domain::piano::piano_esito`]) recording each transition: `PREVALIDATA` or
    /// `SCARTATA`; with `auto_approve` (direct mode) a `PREVALIDATA` richiesta goes on to
    /// `APPROVATA` (`data_approvazione`, outbox row for [`JobKind::Invio`]).
    async fn save_esito(
        &self,
        numero: i64,
        esito: &EsitoPrevalidazione,
        actor: &str,
        auto_approve: bool,
    ) -> Result<Richiesta>;

    /// The domande of a richiesta in file order (by progressivo), optionally only those with one
    /// esito, with their findings. `page` is 1-based.
    async fn list_domande(
        &self,
        numero: i64,
        esito: Option<EsitoDomanda>,
        page: u32,
        page_size: u32,
    ) -> Result<Page<DomandaRecord>>;

    /// In one transaction, for a richiesta in `IN_INVIO` (else `StateConflict`), serialised
    /// against every other sending (the protocol counter row of the year of `at` is locked
    /// first): loads the domande still to be sent and what the archive holds for them, and
    /// writes the plan of the domain ([`cigo_domain::piano::piano_invio`]): the rejected domande
    /// become `SCARTATA_IN_INVIO` with their findings (phase INVIO), the others `PROTOCOLLATA`
    /// with their protocol numbers and `data_protocollo = at`; the richiesta becomes
    /// `CONSEGNATA` or `SCARTATA_IN_INVIO`, with `data_consegna = at`, its counters and the
    /// transition recorded. `data_presentazione` is the legal filing date the deadline is judged
    /// at again (the day of the attestato di trasmissione, Europe/Rome).
    async fn complete_invio(
        &self,
        numero: i64,
        actor: &str,
        at: Timestamp,
        data_presentazione: chrono::NaiveDate,
    ) -> Result<Richiesta>;

    // --- Retention: purging the personal data of richieste past their time ------------------

    /// The richieste `criterio` makes due, not purged yet, with a numero above `dopo`, by
    /// numero, at most `limit` (a batch: the next one starts after the last numero). Only
    /// richieste in a final state (`StatoRichiesta::is_final`) are ever candidates. Each names
    /// the rule that makes it due (the elimination's first, when both do) and the time it counts
    /// from. Empty when no rule of `criterio` is on.
    async fn candidati_purga(&self, criterio: &CriterioPurga, dopo: i64, limit: i64) -> Result<Vec<CandidatoPurga>>;

    /// In one transaction, if richiesta `numero` is still a candidate of `criterio` (its row
    /// locked): deletes its domande, findings, attestati, outbox rows, idempotency keys and
    /// recorded failure, clears the personal columns of its row (`nome_file`, `file_finding`),
    /// sets `purgata_il`, and appends the audit row `purga` (actor `actor`; detail: the rule, the
    /// stato, the time it counted from and the rows removed). `transizioni` and `audit` stay: the
    /// row is their tombstone. `None` (nothing written) when it is not a candidate (any more).
    /// The blob is the caller's to delete, after this commits.
    async fn purga_richiesta(
        &self,
        numero: i64,
        criterio: &CriterioPurga,
        actor: &str,
    ) -> Result<Option<PurgaEseguita>>;

    /// The blob keys of the richieste purged in `[from, to)`: a blob a crash left after its rows'
    /// purge is deleted again from these.
    async fn blob_keys_purgati(&self, from: Timestamp, to: Timestamp) -> Result<Vec<String>>;

    // --- Outbox and jobs: the work that follows a change, its failures, its SLA ---------------

    /// Leases up to `limit` unpublished outbox rows, oldest first, that are not leased by someone
    /// else (or whose lease expired): sets their lease to now + `lease` and bumps `attempts`.
    /// Safe with several relays at once (PostgreSQL: `FOR UPDATE SKIP LOCKED`).
    async fn lease_outbox(&self, limit: i64, lease: Duration) -> Result<Vec<OutboxMessage>>;

    /// Marks rows as published (after the broker confirmed them).
    async fn mark_published(&self, ids: &[i64]) -> Result<()>;

    /// Ends the lease of outbox rows the relay could not publish, so that the next lease (of any
    /// relay) takes them at once, in order, instead of after the lease expires.
    async fn release_outbox(&self, ids: &[i64]) -> Result<()>;

    /// The W3C `traceparent` the richiesta's first job was queued with (its upload's trace), so
    /// that later steps (the approval, the sending) continue the same trace.
    async fn trace_context_of(&self, numero: i64) -> Result<Option<String>>;

    /// Ends every lease of unpublished rows; how many there were. For a process that knows it is
    /// the only relay (the in-process queue of `cigo serve`): whatever is leased was leased by its
    /// previous life, killed before it could publish, and is published now instead of after the
    /// lease expires.
    async fn release_all_outbox_leases(&self) -> Result<u64>;

    /// The SLA reaper: for every richiesta in a state in progress (the job that moves it on is
    /// [`cigo_domain::piano::lavoro_in_corso`]) not updated for `older_than`, with no
    /// unpublished outbox row of its own and no recorded failure, writes a new outbox row and
    /// bumps `updated_at`. Returns how many it re-queued.
    async fn requeue_stale(&self, older_than: Duration) -> Result<u64>;

    /// Records that the job `kind` of richiesta `numero` failed for good after `tentativi`
    /// attempts (its message is dead-lettered): the text its owner sees as
    /// `errore_elaborazione`. Replaces an earlier record. While recorded, the SLA reaper leaves
    /// the richiesta alone ([`Store::requeue_stale`] skips it). `NotFound` if there is none.
    async fn set_errore_elaborazione(&self, numero: i64, kind: JobKind, errore: &str, tentativi: i32) -> Result<()>;

    /// The failure recorded by [`Store::set_errore_elaborazione`], if any.
    async fn errore_elaborazione(&self, numero: i64) -> Result<Option<ErroreElaborazione>>;

    /// Every recorded failure, oldest first, at most `limit` (the dead letters of the embedded
    /// mode, whose in-process queue has no dead-letter queue).
    async fn list_errori_elaborazione(&self, limit: i64) -> Result<Vec<ErroreElaborazione>>;

    /// Operator replay of a dead-lettered job, in one transaction: deletes the recorded failure
    /// and writes an outbox row for `kind`. `NotFound` if there is no such richiesta.
    async fn replay_job(&self, numero: i64, kind: JobKind) -> Result<()>;

    /// For the SLA gauges: the oldest unfinished richiesta and, of the richieste received in the
    /// last `window`, how many have their esito and how many got it within `bound`.
    async fn sla_stats(&self, bound: Duration, window: Duration) -> Result<SlaStats>;

    // --- Access: API tokens, deleghe, the audit trail ----------------------------------------

    async fn create_token(
        &self,
        token_hash: &str,
        intermediario: &str,
        nome: Option<&str>,
        ruolo: Ruolo,
        expires_at: Option<Timestamp>,
    ) -> Result<TokenRecord>;

    /// The token with this hash, whatever its expiry or revocation (the caller checks those).
    async fn find_token(&self, token_hash: &str) -> Result<Option<TokenRecord>>;

    /// The token numbered `id`, whatever its expiry or revocation (the caller checks those).
    async fn get_token(&self, id: i64) -> Result<Option<TokenRecord>>;

    /// Every token (of one intermediario when given), oldest first. Only metadata: the hash is
    /// never returned.
    async fn list_tokens(&self, intermediario: Option<&str>) -> Result<Vec<TokenRecord>>;

    /// Revokes the token `id` (keeps the first revocation time if already revoked); `None` when
    /// there is no such token.
    async fn revoke_token(&self, id: i64) -> Result<Option<TokenRecord>>;

    /// Adds the deleghe `(intermediario, matricola)` in one transaction, ignoring those already
    /// held; returns how many were new.
    async fn add_deleghe(&self, deleghe: &[(String, String)]) -> Result<u64>;

    /// Removes one delega; `false` when it was not held.
    async fn remove_delega(&self, intermediario: &str, matricola: &str) -> Result<bool>;

    /// The deleghe, optionally of one intermediario and/or for one matricola, ordered.
    async fn list_deleghe(&self, intermediario: Option<&str>, matricola: Option<&str>) -> Result<Vec<Delega>>;

    /// Opens a console session (see [`NuovaSessione`]).
    async fn create_sessione(&self, nuova: NuovaSessione) -> Result<Sessione>;

    /// The session with this hash, whatever its expiry or end (the caller checks those).
    async fn find_sessione(&self, session_hash: &str) -> Result<Option<Sessione>>;

    /// Ends the session `id` (keeps the first end time if already ended); `false` when there is
    /// no such session.
    async fn end_sessione(&self, id: i64) -> Result<bool>;

    /// Appends one row to the audit trail (append-only: there is no method to change it).
    async fn append_audit(&self, entry: NewAudit) -> Result<()>;

    /// The audit trail, oldest first: the rows of [`Store::append_audit`] merged with every
    /// transition (`action` = `transizione`, `detail` = `DA -> A`), optionally of one richiesta.
    async fn list_audit(&self, numero: Option<i64>, page: u32, page_size: u32) -> Result<Page<AuditEntry>>;

    // --- Archivio: what layer 5 judges against ------------------------------------------------

    /// What the archive holds for `chiavi`, in one read snapshot and one query per kind of
    /// record: the periods of CIG of the matricole ending on or after `chiavi.dal` (the domande
    /// protocollate and the imported authorisations, ordered by matricola and start; none when
    /// `dal` is `None`), their imported employment relations, and, when `chiavi.deleghe` is set,
    /// which of its matricole the intermediario holds a delega for.
    async fn fatti_archivio(&self, chiavi: &ChiaviArchivio) -> Result<FattiArchivio>;

    /// The unità produttive of `matricola` with a domanda protocollata, each with what its latest
    /// one declared (weekly workable hours, months of the quinquennio): the base of its cruscotto.
    async fn unita_protocollate(&self, matricola: &str) -> Result<Vec<UnitaProtocollata>>;

    /// Imports authorisations in one transaction; a row with the same (matricola, riferimento)
    /// is replaced, so importing the same file twice changes nothing. Returns the rows written.
    async fn import_autorizzazioni(&self, rows: &[PeriodoArchivio]) -> Result<u64>;

    /// Imports employment relations in one transaction; a row with the same (matricola, codice
    /// fiscale, assunto_dal) is replaced. Returns the rows written.
    async fn import_rapporti(&self, rows: &[RapportoLavoro]) -> Result<u64>;

    // --- Attestati: the receipts issued, for their verification ------------------------------

    /// Records an issued attestato, unless one with the same code, or of the same `tipo` for the
    /// same richiesta, is already recorded (an attestato, once issued, never changes). Returns the
    /// one recorded for `(numero_richiesta, tipo)` afterwards: `new` or the earlier one.
    async fn issue_attestato(&self, new: &NuovoAttestato) -> Result<AttestatoRecord>;

    /// The attestato of `tipo` issued for richiesta `numero`, if any.
    async fn attestato_di(&self, numero: i64, tipo: &str) -> Result<Option<AttestatoRecord>>;

    /// The attestato issued with this verification code (its 32 letters, no separators).
    async fn attestato_per_codice(&self, codice: &str) -> Result<Option<AttestatoRecord>>;
}

/// See [`Store::unita_protocollate`].
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct UnitaProtocollata {
    pub unita_produttiva: String,
    /// Hundredths of an hour; `None` for domande saved before the column existed.
    pub ore_lavorabili_centesimi: Option<i64>,
    pub mesi_quinquennio: Option<i32>,
}

/// An attestato to record (see [`Store::issue_attestato`]).
#[derive(Debug, Clone)]
pub struct NuovoAttestato {
    /// The verification code: 32 letters, no separators.
    pub codice: String,
    pub numero_richiesta: i64,
    /// `TRASMISSIONE` or `CONSEGNA`.
    pub tipo: String,
    /// The canonical JSON the code hashes.
    pub json: String,
}

/// An issued attestato, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct AttestatoRecord {
    pub codice: String,
    pub numero_richiesta: i64,
    pub tipo: String,
    pub json: String,
    pub emesso_il: Timestamp,
}

/// Layer 5 of prevalidation, the one entry point of the worker and of `cigo validate
/// --database-url`: loads what the archive holds for the domande of `esito` (and, when
/// `deleghe_di` names an intermediario, its deleghe) with [`Store::fatti_archivio`], then the
/// domain judges it ([`cigo_domain::archivio::giudica`]: ARC-001..007, ARC-050).
pub async fn verifica_archivio(
    store: &dyn Store,
    esito: &mut EsitoPrevalidazione,
    deleghe_di: Option<&str>,
) -> Result<()> {
    let fatti = store
        .fatti_archivio(&ChiaviArchivio::di(esito, deleghe_di))
        .await?;
    cigo_domain::archivio::giudica(esito, fatti);
    Ok(())
}

/// A delega: `intermediario` may file domande for the employer with this matricola.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Delega {
    pub intermediario: String,
    pub matricola: String,
    pub created_at: Timestamp,
}

/// A row to append to the audit trail.
#[derive(Debug, Clone)]
pub struct NewAudit {
    /// Who, e.g. `intermediario:RSSMRA85T10A562S (token 3)`.
    pub actor: String,
    /// What, e.g. `lettura_domande`, `upload`, `approvazione`.
    pub action: String,
    pub numero_richiesta: Option<i64>,
    pub detail: Option<String>,
}

/// One entry of the audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct AuditEntry {
    pub at: Timestamp,
    pub actor: String,
    pub action: String,
    pub numero_richiesta: Option<i64>,
    pub detail: Option<String>,
}

/// What [`Store::create_richiesta_once`] did.
#[derive(Debug, Clone, PartialEq)]
pub enum CreateOutcome {
    /// A new richiesta.
    Created(Richiesta),
    /// The same file of the same intermediario is already there (not `ELIMINATA`): not created.
    Duplicate(Richiesta),
    /// The `Idempotency-Key` was used before: the richiesta that upload created.
    Replayed(Richiesta),
}

/// A job that failed for good (see [`Store::set_errore_elaborazione`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct ErroreElaborazione {
    pub numero_richiesta: i64,
    pub kind: JobKind,
    pub errore: String,
    pub tentativi: i32,
    pub at: Timestamp,
}

/// The rules of the retention, each on when its cutoff is set (see [`Store::candidati_purga`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CriterioPurga {
    /// `ELIMINATA` richieste eliminated before this ([`RegolaPurga::Eliminata`]).
    pub eliminate_prima_del: Option<Timestamp>,
    /// Richieste in a final state last changed (`updated_at`) before this
    /// ([`RegolaPurga::Conservazione`]).
    pub concluse_prima_del: Option<Timestamp>,
}

impl CriterioPurga {
    /// No rule is on: nothing is ever due.
    pub fn is_off(&self) -> bool {
        self.eliminate_prima_del.is_none() && self.concluse_prima_del.is_none()
    }
}

/// Which rule of the retention makes a richiesta due.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RegolaPurga {
    /// Eliminated by its owner long enough ago (`--retention-eliminate-days`).
    Eliminata,
    /// In a final state, unchanged for the retention period (`--retention-days`).
    Conservazione,
}

impl RegolaPurga {
    pub fn as_str(self) -> &'static str {
        match self {
            RegolaPurga::Eliminata => "eliminata",
            RegolaPurga::Conservazione => "conservazione",
        }
    }
}

impl std::fmt::Display for RegolaPurga {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A richiesta the retention would purge (see [`Store::candidati_purga`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CandidatoPurga {
    pub numero: i64,
    pub blob_key: String,
    pub stato: StatoRichiesta,
    pub regola: RegolaPurga,
    /// The time the rule counts from: `data_eliminazione` or `updated_at`.
    pub dal: Timestamp,
}

/// What [`Store::purga_richiesta`] removed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PurgaEseguita {
    pub candidato: CandidatoPurga,
    pub domande: u64,
    pub findings: u64,
    pub attestati: u64,
    pub outbox: u64,
    /// The workers of the domande, the idempotency keys and the recorded failure.
    pub altre: u64,
}

/// See [`Store::sla_stats`].
#[derive(Debug, Clone, PartialEq)]
pub struct SlaStats {
    /// `data_inserimento` of the oldest richiesta in `RICEVUTA`, `IN_ELABORAZIONE`, `APPROVATA`
    /// or `IN_INVIO`.
    pub oldest_unfinished: Option<Timestamp>,
    /// Richieste received in the window that have their esito (`data_prevalidazione` set).
    pub finished: i64,
    /// ... of which within the bound.
    pub finished_within: i64,
    /// `data_inserimento` of the oldest richiesta queued for prevalidation and not taken yet
    /// (`RICEVUTA`): the age of the oldest job waiting in that queue.
    pub waiting_prevalidazione: Option<Timestamp>,
    /// `data_approvazione` of the oldest richiesta approved and not taken by a sender yet
    /// (`APPROVATA`).
    pub waiting_invio: Option<Timestamp>,
}
