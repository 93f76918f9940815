//! The SQLite implementation of [`Store`]: the embedded default, one file.
//!
//! Two pools on the same file: a writer pool of exactly one connection, through which every write
//! goes (each write transaction starts with `BEGIN IMMEDIATE`), and a reader pool of a few
//! connections. With the journal in WAL mode readers never block the writer nor each other, and
//! since there is one writer no transaction ever has to upgrade a read lock to a write lock (the
//! source of `SQLITE_BUSY` that `busy_timeout` cannot fix). The single writer also serialises the
//! sendings, so the protocol counter needs no row lock. `synchronous = FULL`: a committed
//! transaction is on disk (a 202 promises that).
//!
//! Timestamps are TEXT in the fixed format of `common::sqlite_ts`, from the application clock.

use crate::common::{
    self, attach_findings, convert, date_column_of, day_after, day_start, db_err, finding_json, findings_invio, i64_of,
    job_of_stale, like_substring, now, paging, protocollo, sqlite_ts, trunc, DomandaRow, FindingRow, InvioRow,
    OutboxRow, RichiestaRow, TokenRow, TransizioneRow, FASE_PREVALIDAZIONE, INSERT_CHUNK, INVIO_COLS,
};
use crate::common::{AuditRow, PeriodoRow, RapportoRow};
use crate::{AuditEntry, Delega, NewAudit, PeriodoArchivio, RapportoLavoro};
use crate::{CreateOutcome, ErroreElaborazione, SlaStats};
use crate::{
    DomandaRecord, NewRichiesta, OutboxMessage, Page, Result, Richiesta, RichiestaFilter, Store, StoreError, Timestamp,
    TokenRecord, TransitionRequest, Transizione,
};
use async_trait::async_trait;
use chrono::NaiveDate;
use cigo_domain::archivio::{rivalida_invio, Archivio};
use cigo_domain::{DomandaEsito, EsitoDomanda, EsitoPrevalidazione, Finding, JobKind, Ruolo, StatoRichiesta};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{QueryBuilder, Sqlite, SqliteConnection, Transaction};
use std::collections::HashMap;
use std::str::FromStr;
use std::time::Duration;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/sqlite");

/// Connections of the reader pool.
const READERS: u32 = 4;

const RICHIESTA_COLS: &str = "numero, intermediario, stato, prevalidazione, blob_key, sha256, size_bytes, \
    data_inserimento, data_prevalidazione, data_approvazione, data_consegna, data_eliminazione, updated_at, \
    domande_totali, domande_valide, domande_scartate, domande_protocollate, file_finding, rule_set";

const TOKEN_COLS: &str = "id, intermediario, nome, ruolo, created_at, expires_at, revoked_at";

const DOMANDA_COLS: &str = "numero_richiesta, progressivo, matricola, codice_fiscale_azienda, denominazione, \
    unita_produttiva, periodo_dal, periodo_al, esito, protocollo, data_protocollo";

const OUTBOX_COLS: &str = "id, kind, numero_richiesta, trace_context, created_at, attempts";

pub struct SqliteStore {
    /// Exactly one connection: every write transaction.
    writer: SqlitePool,
    /// Reads (the same pool as `writer` for an in-memory database).
    reader: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating it, and its directory, if missing) the database file named by `url`:
    /// `sqlite:///abs/path.db` or `sqlite://relative.db`. Does not migrate.
    pub async fn connect(url: &str) -> Result<Self> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        // An in-memory database lives in one connection: readers must share it.
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        if !in_memory {
            if let Some(dir) = options
                .get_filename()
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
            {
                tokio::fs::create_dir_all(dir)
                    .await
                    .map_err(sqlx::Error::Io)?;
            }
        }
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(60))
            .connect_with(options.clone())
            .await?;
        let reader = if in_memory {
            writer.clone()
        } else {
            SqlitePoolOptions::new()
                .max_connections(READERS)
                .acquire_timeout(Duration::from_secs(30))
                .connect_with(options)
                .await?
        };
        Ok(Self { writer, reader })
    }

    /// Closes both pools.
    pub async fn close(&self) {
        self.reader.close().await;
        self.writer.close().await;
    }

    async fn begin_write(&self) -> Result<Transaction<'static, Sqlite>> {
        Ok(self.writer.begin_with("BEGIN IMMEDIATE").await?)
    }
}

async fn fetch_richiesta(conn: &mut SqliteConnection, numero: i64) -> Result<Option<Richiesta>> {
    let row: Option<RichiestaRow> =
        sqlx::query_as(&format!("SELECT {RICHIESTA_COLS} FROM richieste WHERE numero = ?1"))
            .bind(numero)
            .fetch_optional(&mut *conn)
            .await
            .map_err(db_err)?;
    row.map(Richiesta::try_from).transpose()
}

async fn must_fetch_richiesta(conn: &mut SqliteConnection, numero: i64) -> Result<Richiesta> {
    fetch_richiesta(conn, numero)
        .await?
        .ok_or(StoreError::NotFound(numero))
}

/// The error for a compare-and-set that changed no row: `StateConflict` or `NotFound`.
async fn conflict(conn: &mut SqliteConnection, numero: i64) -> StoreError {
    let stato: Result<Option<String>, sqlx::Error> =
        sqlx::query_scalar("SELECT stato FROM richieste WHERE numero = ?1")
            .bind(numero)
            .fetch_optional(&mut *conn)
            .await;
    match stato {
        Err(e) => db_err(e),
        Ok(None) => StoreError::NotFound(numero),
        Ok(Some(s)) => match s.parse::<StatoRichiesta>() {
            Ok(current) => StoreError::StateConflict { current },
            Err(_) => StoreError::Corrupt(format!("invalid stato of richiesta {numero}: {s:?}")),
        },
    }
}

/// A new richiesta in `RICEVUTA`: the row, its first transition and the outbox row of its
/// prevalidation (inside the caller's transaction). Returns its numero.
async fn insert_richiesta(conn: &mut SqliteConnection, new: &NewRichiesta, now: Timestamp) -> Result<i64> {
    let numero: i64 = sqlx::query_scalar(
        "INSERT INTO richieste (intermediario, stato, prevalidazione, blob_key, sha256, size_bytes, \
         data_inserimento, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7) RETURNING numero",
    )
    .bind(&new.intermediario)
    .bind(StatoRichiesta::Ricevuta.as_str())
    .bind(new.prevalidazione)
    .bind(&new.blob_key)
    .bind(&new.sha256)
    .bind(new.size_bytes)
    .bind(sqlite_ts(now))
    .fetch_one(&mut *conn)
    .await?;
    record_transition(conn, numero, None, StatoRichiesta::Ricevuta, &new.actor, now, None).await?;
    enqueue(conn, JobKind::Prevalidazione, numero, new.trace_context.as_deref(), now).await?;
    Ok(numero)
}

async fn record_transition(
    conn: &mut SqliteConnection,
    numero: i64,
    da: Option<StatoRichiesta>,
    a: StatoRichiesta,
    actor: &str,
    at: Timestamp,
    nota: Option<&str>,
) -> Result<()> {
    sqlx::query("INSERT INTO transizioni (numero_richiesta, da, a, actor, at, nota) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
        .bind(numero)
        .bind(da.map(StatoRichiesta::as_str))
        .bind(a.as_str())
        .bind(actor)
        .bind(sqlite_ts(at))
        .bind(nota)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// An outbox row for `kind` on `numero`; with no trace context of its own it carries on the
/// trace of the latest outbox row of the richiesta (the upload's).
async fn enqueue(
    conn: &mut SqliteConnection,
    kind: JobKind,
    numero: i64,
    trace_context: Option<&str>,
    at: Timestamp,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO outbox (kind, numero_richiesta, trace_context, created_at, attempts) \
         VALUES (?1, ?2, COALESCE(?3, (SELECT o.trace_context FROM outbox o WHERE o.numero_richiesta = ?2 \
                                      ORDER BY o.id DESC LIMIT 1)), ?4, 0)",
    )
    .bind(kind.as_str())
    .bind(numero)
    .bind(trace_context)
    .bind(sqlite_ts(at))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The periods of CIG of `matricole` ending on or after `dal`: domande protocollate and imported
/// authorisations (`Store::archivio_periodi`, and the re-validation of `complete_invio` inside
/// its transaction).
async fn periodi_query(
    conn: &mut SqliteConnection,
    matricole: &[String],
    dal: NaiveDate,
) -> Result<Vec<PeriodoArchivio>> {
    if matricole.is_empty() {
        return Ok(Vec::new());
    }
    let list = serde_json::to_string(matricole).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let rows: Vec<PeriodoRow> = sqlx::query_as(
        "SELECT matricola, unita_produttiva, protocollo, periodo_dal, periodo_al, ore_cig_centesimi, \
                evento_non_evitabile \
         FROM domande WHERE esito = 'PROTOCOLLATA' AND protocollo IS NOT NULL \
          AND unita_produttiva IS NOT NULL AND periodo_dal IS NOT NULL AND periodo_al >= ?2 \
          AND matricola IN (SELECT value FROM json_each(?1)) \
         UNION ALL \
         SELECT matricola, unita_produttiva, riferimento, periodo_dal, periodo_al, ore_centesimi, \
                evento_non_evitabile \
         FROM archivio_autorizzazioni WHERE periodo_al >= ?2 \
          AND matricola IN (SELECT value FROM json_each(?1)) \
         ORDER BY 1, 4, 3",
    )
    .bind(list)
    .bind(dal)
    .fetch_all(&mut *conn)
    .await
    .map_err(db_err)?;
    Ok(rows.into_iter().map(PeriodoRow::into_periodo).collect())
}

async fn insert_findings(conn: &mut SqliteConnection, numero: i64, rows: &[(i64, &str, i32, &Finding)]) -> Result<()> {
    for chunk in rows.chunks(INSERT_CHUNK) {
        let mut qb = QueryBuilder::<Sqlite>::new(
            "INSERT INTO findings (numero_richiesta, progressivo, fase, seq, code, layer, severity, message, \
             xpath, line, col, value) ",
        );
        qb.push_values(chunk, |mut b, (progressivo, fase, seq, f)| {
            b.push_bind(numero)
                .push_bind(*progressivo)
                .push_bind(*fase)
                .push_bind(*seq)
                .push_bind(f.code.as_str())
                .push_bind(f.layer.as_str())
                .push_bind(f.severity.as_str())
                .push_bind(f.message.as_str())
                .push_bind(f.xpath.as_deref())
                .push_bind(f.line.map(i64::from))
                .push_bind(f.column.map(i64::from))
                .push_bind(f.value.as_deref());
        });
        qb.build().persistent(false).execute(&mut *conn).await?;
    }
    Ok(())
}

/// The WHERE clause of the search form (on `richieste r`).
fn push_filter(qb: &mut QueryBuilder<'_, Sqlite>, f: &RichiestaFilter) {
    qb.push(" WHERE 1 = 1");
    if let Some(i) = &f.intermediario {
        qb.push(" AND r.intermediario = ").push_bind(i.clone());
    }
    if let Some(n) = f.numero {
        qb.push(" AND r.numero = ").push_bind(n);
    }
    if let Some(s) = f.stato {
        qb.push(" AND r.stato = ").push_bind(s.as_str());
    }
    if let Some(d) = f.inserita_dal {
        qb.push(" AND r.data_inserimento >= ")
            .push_bind(sqlite_ts(day_start(d)));
    }
    if let Some(d) = f.inserita_al {
        qb.push(" AND r.data_inserimento < ")
            .push_bind(sqlite_ts(day_after(d)));
    }
    if let Some(d) = f.approvata_dal {
        qb.push(" AND r.data_approvazione >= ")
            .push_bind(sqlite_ts(day_start(d)));
    }
    if let Some(d) = f.approvata_al {
        qb.push(" AND r.data_approvazione < ")
            .push_bind(sqlite_ts(day_after(d)));
    }
    if f.matricola.is_some() || f.codice_fiscale.is_some() || f.denominazione.is_some() {
        // One EXISTS: the conditions hold for the same domanda.
        qb.push(" AND EXISTS (SELECT 1 FROM domande d WHERE d.numero_richiesta = r.numero");
        if let Some(m) = &f.matricola {
            qb.push(" AND d.matricola = ").push_bind(m.clone());
        }
        if let Some(cf) = &f.codice_fiscale {
            qb.push(" AND d.codice_fiscale_azienda = ")
                .push_bind(cf.clone());
        }
        if let Some(den) = &f.denominazione {
            // lower() folds ASCII only (as LIKE does): enough for the denominazioni of the tracciato.
            qb.push(" AND lower(d.denominazione) LIKE lower(")
                .push_bind(like_substring(den))
                .push(") ESCAPE '\\'");
        }
        qb.push(")");
    }
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn migrate(&self) -> Result<()> {
        MIGRATOR.run(&self.writer).await?;
        Ok(())
    }

    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.reader).await?;
        Ok(())
    }

    async fn create_token(
        &self,
        token_hash: &str,
        intermediario: &str,
        nome: Option<&str>,
        ruolo: Ruolo,
        expires_at: Option<Timestamp>,
    ) -> Result<TokenRecord> {
        let row: TokenRow = sqlx::query_as(&format!(
            "INSERT INTO api_tokens (token_hash, intermediario, nome, ruolo, created_at, expires_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING {TOKEN_COLS}"
        ))
        .bind(token_hash)
        .bind(intermediario)
        .bind(nome)
        .bind(ruolo.as_str())
        .bind(sqlite_ts(now()))
        .bind(expires_at.map(sqlite_ts))
        .fetch_one(&self.writer)
        .await
        .map_err(db_err)?;
        row.try_into()
    }

    async fn find_token(&self, token_hash: &str) -> Result<Option<TokenRecord>> {
        let row: Option<TokenRow> =
            sqlx::query_as(&format!("SELECT {TOKEN_COLS} FROM api_tokens WHERE token_hash = ?1"))
                .bind(token_hash)
                .fetch_optional(&self.reader)
                .await
                .map_err(db_err)?;
        row.map(TokenRecord::try_from).transpose()
    }

    async fn create_richiesta(&self, new: NewRichiesta) -> Result<Richiesta> {
        let now = now();
        let mut tx = self.begin_write().await?;
        let numero = insert_richiesta(&mut tx, &new, now).await?;
        let richiesta = must_fetch_richiesta(&mut tx, numero).await?;
        tx.commit().await?;
        Ok(richiesta)
    }

    async fn get_richiesta(&self, numero: i64) -> Result<Option<Richiesta>> {
        let mut conn = self.reader.acquire().await?;
        fetch_richiesta(&mut conn, numero).await
    }

    async fn search_richieste(&self, filter: &RichiestaFilter) -> Result<Page<Richiesta>> {
        let p = paging(filter.page, filter.page_size);
        // A read transaction: the count and the page see one snapshot.
        let mut tx = self.reader.begin().await?;

        let mut count = QueryBuilder::<Sqlite>::new("SELECT COUNT(*) FROM richieste r");
        push_filter(&mut count, filter);
        let total: i64 = count
            .build_query_scalar()
            .fetch_one(&mut *tx)
            .await
            .map_err(db_err)?;

        let mut select = QueryBuilder::<Sqlite>::new(format!("SELECT {RICHIESTA_COLS} FROM richieste r"));
        push_filter(&mut select, filter);
        select
            .push(" ORDER BY r.numero DESC LIMIT ")
            .push_bind(p.limit)
            .push(" OFFSET ")
            .push_bind(p.offset);
        let rows: Vec<RichiestaRow> = select
            .build_query_as()
            .fetch_all(&mut *tx)
            .await
            .map_err(db_err)?;
        tx.commit().await?;
        Ok(Page { items: convert(rows)?, total, page: p.page, page_size: p.page_size })
    }

    async fn transizioni(&self, numero: i64) -> Result<Vec<Transizione>> {
        let rows: Vec<TransizioneRow> = sqlx::query_as(
            "SELECT numero_richiesta, da, a, actor, at, nota FROM transizioni WHERE numero_richiesta = ?1 \
             ORDER BY id",
        )
        .bind(numero)
        .fetch_all(&self.reader)
        .await
        .map_err(db_err)?;
        convert(rows)
    }

    async fn transition(&self, req: TransitionRequest) -> Result<Richiesta> {
        let now = now();
        let mut tx = self.begin_write().await?;
        let date_set = date_column_of(req.to)
            .map(|c| format!(", {c} = ?4"))
            .unwrap_or_default();
        let changed = sqlx::query(&format!(
            "UPDATE richieste SET stato = ?3, updated_at = ?4{date_set} WHERE numero = ?1 AND stato = ?2"
        ))
        .bind(req.numero)
        .bind(req.from.as_str())
        .bind(req.to.as_str())
        .bind(sqlite_ts(now))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if changed == 0 {
            return Err(conflict(&mut tx, req.numero).await);
        }
        record_transition(&mut tx, req.numero, Some(req.from), req.to, &req.actor, now, req.nota.as_deref()).await?;
        if let Some(kind) = req.enqueue {
            enqueue(&mut tx, kind, req.numero, req.trace_context.as_deref(), now).await?;
        }
        let richiesta = must_fetch_richiesta(&mut tx, req.numero).await?;
        tx.commit().await?;
        Ok(richiesta)
    }

    async fn save_esito(
        &self,
        numero: i64,
        esito: &EsitoPrevalidazione,
        actor: &str,
        auto_approve: bool,
    ) -> Result<Richiesta> {
        let now = now();
        let finale = esito.stato_finale();
        let file_finding = esito.file_finding.as_ref().map(finding_json).transpose()?;
        let mut tx = self.begin_write().await?;

        let changed = sqlx::query(
            "UPDATE richieste SET stato = ?3, domande_totali = ?4, domande_valide = ?5, domande_scartate = ?6, \
             domande_protocollate = 0, rule_set = ?7, file_finding = ?8, data_prevalidazione = ?9, \
             updated_at = ?9 WHERE numero = ?1 AND stato = ?2",
        )
        .bind(numero)
        .bind(StatoRichiesta::InElaborazione.as_str())
        .bind(finale.as_str())
        .bind(i64_of(esito.domande.len()))
        .bind(i64_of(esito.valide()))
        .bind(i64_of(esito.scartate()))
        .bind(&esito.rule_set)
        .bind(file_finding)
        .bind(sqlite_ts(now))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if changed == 0 {
            return Err(conflict(&mut tx, numero).await);
        }

        // Idempotent: whatever an earlier attempt left is replaced.
        sqlx::query("DELETE FROM findings WHERE numero_richiesta = ?1")
            .bind(numero)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM domande WHERE numero_richiesta = ?1")
            .bind(numero)
            .execute(&mut *tx)
            .await?;

        for chunk in esito.domande.chunks(INSERT_CHUNK) {
            let mut qb = QueryBuilder::<Sqlite>::new(
                "INSERT INTO domande (numero_richiesta, progressivo, matricola, codice_fiscale_azienda, \
                 denominazione, unita_produttiva, periodo_dal, periodo_al, esito, ore_cig_centesimi, \
                 evento_non_evitabile, ore_lavorabili_centesimi, mesi_quinquennio) ",
            );
            qb.push_values(chunk, |mut b, d| {
                b.push_bind(numero)
                    .push_bind(i64::from(d.progressivo))
                    .push_bind(d.matricola.as_deref())
                    .push_bind(d.codice_fiscale_azienda.as_deref())
                    .push_bind(d.denominazione.as_deref())
                    .push_bind(d.unita_produttiva.as_deref())
                    .push_bind(d.periodo_dal)
                    .push_bind(d.periodo_al)
                    .push_bind(d.esito.as_str())
                    .push_bind(d.archivio.as_ref().map(|a| a.ore_cig.0))
                    .push_bind(d.archivio.as_ref().map(|a| a.evento_non_evitabile))
                    .push_bind(d.archivio.as_ref().map(|a| a.ore_lavorabili_settimanali.0))
                    .push_bind(
                        d.archivio
                            .as_ref()
                            .map(|a| i32::try_from(a.mesi_quinquennio).unwrap_or(i32::MAX)),
                    );
            });
            qb.build().persistent(false).execute(&mut *tx).await?;
        }
        let findings: Vec<(i64, &str, i32, &Finding)> = esito
            .domande
            .iter()
            .flat_map(|d| {
                d.findings.iter().enumerate().map(move |(seq, f)| {
                    (i64::from(d.progressivo), FASE_PREVALIDAZIONE, i32::try_from(seq).unwrap_or(i32::MAX), f)
                })
            })
            .collect();
        insert_findings(&mut tx, numero, &findings).await?;

        record_transition(&mut tx, numero, Some(StatoRichiesta::InElaborazione), finale, actor, now, None).await?;

        if auto_approve && finale == StatoRichiesta::Prevalidata {
            sqlx::query("UPDATE richieste SET stato = ?2, data_approvazione = ?3, updated_at = ?3 WHERE numero = ?1")
                .bind(numero)
                .bind(StatoRichiesta::Approvata.as_str())
                .bind(sqlite_ts(now))
                .execute(&mut *tx)
                .await?;
            record_transition(&mut tx, numero, Some(finale), StatoRichiesta::Approvata, actor, now, None).await?;
            enqueue(&mut tx, JobKind::Invio, numero, None, now).await?;
        }

        let richiesta = must_fetch_richiesta(&mut tx, numero).await?;
        tx.commit().await?;
        Ok(richiesta)
    }

    async fn list_domande(
        &self,
        numero: i64,
        esito: Option<EsitoDomanda>,
        page: u32,
        page_size: u32,
    ) -> Result<Page<DomandaRecord>> {
        let p = paging(page, page_size);
        let esito = esito.map(EsitoDomanda::as_str);
        let mut tx = self.reader.begin().await?;

        let exists: Option<i64> = sqlx::query_scalar("SELECT numero FROM richieste WHERE numero = ?1")
            .bind(numero)
            .fetch_optional(&mut *tx)
            .await?;
        if exists.is_none() {
            return Err(StoreError::NotFound(numero));
        }

        let total: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM domande WHERE numero_richiesta = ?1 AND (?2 IS NULL OR esito = ?2)",
        )
        .bind(numero)
        .bind(esito)
        .fetch_one(&mut *tx)
        .await?;

        let rows: Vec<DomandaRow> = sqlx::query_as(&format!(
            "SELECT {DOMANDA_COLS} FROM domande WHERE numero_richiesta = ?1 AND (?2 IS NULL OR esito = ?2) \
             ORDER BY progressivo LIMIT ?3 OFFSET ?4"
        ))
        .bind(numero)
        .bind(esito)
        .bind(p.limit)
        .bind(p.offset)
        .fetch_all(&mut *tx)
        .await
        .map_err(db_err)?;
        let mut domande: Vec<DomandaRecord> = convert(rows)?;

        if !domande.is_empty() {
            let rows: Vec<FindingRow> = sqlx::query_as(
                "SELECT progressivo, code, layer, severity, message, xpath, line, col, value FROM findings \
                 WHERE numero_richiesta = ?1 AND progressivo IN \
                   (SELECT progressivo FROM domande WHERE numero_richiesta = ?1 AND (?2 IS NULL OR esito = ?2) \
                    ORDER BY progressivo LIMIT ?3 OFFSET ?4) \
                 ORDER BY progressivo, CASE fase WHEN 'PREVALIDAZIONE' THEN 0 ELSE 1 END, seq",
            )
            .bind(numero)
            .bind(esito)
            .bind(p.limit)
            .bind(p.offset)
            .fetch_all(&mut *tx)
            .await
            .map_err(db_err)?;
            attach_findings(&mut domande, convert(rows)?);
        }
        tx.commit().await?;
        Ok(Page { items: domande, total, page: p.page, page_size: p.page_size })
    }

    async fn complete_invio(&self, numero: i64, actor: &str, at: Timestamp) -> Result<Richiesta> {
        let at = trunc(at);
        let now = now();
        let anno = common::anno(at);
        // The one writer connection serialises every sending.
        let mut tx = self.begin_write().await?;

        sqlx::query("INSERT INTO protocollo_contatori (anno, ultimo) VALUES (?1, 0) ON CONFLICT (anno) DO NOTHING")
            .bind(anno)
            .execute(&mut *tx)
            .await?;
        let ultimo: i64 = sqlx::query_scalar("SELECT ultimo FROM protocollo_contatori WHERE anno = ?1")
            .bind(anno)
            .fetch_one(&mut *tx)
            .await
            .map_err(db_err)?;

        let stato: Option<String> = sqlx::query_scalar("SELECT stato FROM richieste WHERE numero = ?1")
            .bind(numero)
            .fetch_optional(&mut *tx)
            .await?;
        match stato.as_deref().map(StatoRichiesta::from_str) {
            None => return Err(StoreError::NotFound(numero)),
            Some(Err(e)) => return Err(StoreError::Corrupt(e.to_string())),
            Some(Ok(StatoRichiesta::InInvio)) => {}
            Some(Ok(current)) => return Err(StoreError::StateConflict { current }),
        }

        // The domande still to be sent, judged again by the archive rules against what the
        // archive holds now (under the one writer, so no other sending can change it meanwhile).
        let rows: Vec<InvioRow> = sqlx::query_as(&format!(
            "SELECT {INVIO_COLS} FROM domande WHERE numero_richiesta = ?1 \
             AND esito IN ('VALIDA', 'VALIDA_CON_AVVISI') ORDER BY progressivo"
        ))
        .bind(numero)
        .fetch_all(&mut *tx)
        .await
        .map_err(db_err)?;
        let domande: Vec<DomandaEsito> = rows.into_iter().map(InvioRow::into_domanda).collect();
        let sendable: Vec<i64> = domande.iter().map(|d| i64::from(d.progressivo)).collect();
        let chiavi = Archivio::chiavi_domande(&domande);
        let periodi = match chiavi.dal {
            Some(dal) => periodi_query(&mut tx, &chiavi.matricole, dal).await?,
            None => Vec::new(),
        };
        let rifiutate: HashMap<i64, Vec<Finding>> = rivalida_invio(domande, periodi)
            .into_iter()
            .map(|(p, f)| (i64::from(p), f))
            .collect();

        let mut n = ultimo;
        let mut protocollate = 0usize;
        let mut nuovi_findings = Vec::new();
        for progressivo in sendable {
            if let Some(findings) = rifiutate.get(&progressivo) {
                sqlx::query(
                    "UPDATE domande SET esito = 'SCARTATA_IN_INVIO' WHERE numero_richiesta = ?1 AND progressivo = ?2",
                )
                .bind(numero)
                .bind(progressivo)
                .execute(&mut *tx)
                .await?;
                nuovi_findings.extend(findings.iter().map(|f| (progressivo, f)));
            } else {
                n += 1;
                protocollate += 1;
                sqlx::query(
                    "UPDATE domande SET esito = 'PROTOCOLLATA', protocollo = ?3, data_protocollo = ?4 \
                     WHERE numero_richiesta = ?1 AND progressivo = ?2",
                )
                .bind(numero)
                .bind(progressivo)
                .bind(protocollo(anno, n))
                .bind(sqlite_ts(at))
                .execute(&mut *tx)
                .await?;
            }
        }
        if n != ultimo {
            sqlx::query("UPDATE protocollo_contatori SET ultimo = ?2 WHERE anno = ?1")
                .bind(anno)
                .bind(n)
                .execute(&mut *tx)
                .await?;
        }
        if !nuovi_findings.is_empty() {
            let rows = findings_invio(&nuovi_findings);
            insert_findings(&mut tx, numero, &rows).await?;
        }

        let finale = if protocollate == 0 { StatoRichiesta::ScartataInInvio } else { StatoRichiesta::Consegnata };
        sqlx::query(
            "UPDATE richieste SET stato = ?2, data_consegna = ?3, updated_at = ?4, \
             domande_protocollate = (SELECT COUNT(*) FROM domande WHERE numero_richiesta = ?1 AND esito = 'PROTOCOLLATA'), \
             domande_valide = (SELECT COUNT(*) FROM domande WHERE numero_richiesta = ?1 \
                               AND esito IN ('VALIDA', 'VALIDA_CON_AVVISI', 'PROTOCOLLATA')), \
             domande_scartate = (SELECT COUNT(*) FROM domande WHERE numero_richiesta = ?1 \
                                 AND esito IN ('SCARTATA', 'SCARTATA_IN_INVIO')) \
             WHERE numero = ?1",
        )
        .bind(numero)
        .bind(finale.as_str())
        .bind(sqlite_ts(at))
        .bind(sqlite_ts(now))
        .execute(&mut *tx)
        .await?;
        record_transition(&mut tx, numero, Some(StatoRichiesta::InInvio), finale, actor, at, None).await?;

        let richiesta = must_fetch_richiesta(&mut tx, numero).await?;
        tx.commit().await?;
        Ok(richiesta)
    }

    async fn lease_outbox(&self, limit: i64, lease: Duration) -> Result<Vec<OutboxMessage>> {
        if limit <= 0 {
            return Ok(Vec::new());
        }
        let now = now();
        // One statement on the one writer connection: two relays cannot lease the same row.
        let mut rows: Vec<OutboxRow> = sqlx::query_as(&format!(
            "UPDATE outbox SET leased_until = ?1, attempts = attempts + 1 \
             WHERE id IN (SELECT id FROM outbox WHERE published_at IS NULL \
                          AND (leased_until IS NULL OR leased_until < ?2) ORDER BY id LIMIT ?3) \
             RETURNING {OUTBOX_COLS}"
        ))
        .bind(sqlite_ts(common::plus(now, lease)))
        .bind(sqlite_ts(now))
        .bind(limit)
        .fetch_all(&self.writer)
        .await
        .map_err(db_err)?;
        rows.sort_by_key(|r| r.id);
        convert(rows)
    }

    async fn mark_published(&self, ids: &[i64]) -> Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let now = sqlite_ts(now());
        let mut tx = self.begin_write().await?;
        for chunk in ids.chunks(INSERT_CHUNK) {
            let mut qb = QueryBuilder::<Sqlite>::new("UPDATE outbox SET published_at = ");
            qb.push_bind(now.as_str())
                .push(" WHERE published_at IS NULL AND id IN (");
            let mut list = qb.separated(", ");
            for id in chunk {
                list.push_bind(*id);
            }
            qb.push(")");
            qb.build().persistent(false).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn requeue_stale(&self, older_than: Duration) -> Result<u64> {
        let now = now();
        let cutoff = common::minus(now, older_than);
        let mut tx = self.begin_write().await?;
        let stale: Vec<(i64, String)> = sqlx::query_as(
            "SELECT numero, stato FROM richieste r \
             WHERE stato IN ('RICEVUTA', 'IN_ELABORAZIONE', 'APPROVATA', 'IN_INVIO') AND updated_at < ?1 \
               AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.numero_richiesta = r.numero AND o.published_at IS NULL) \
               AND NOT EXISTS (SELECT 1 FROM errori_elaborazione e WHERE e.numero_richiesta = r.numero) \
             ORDER BY numero",
        )
        .bind(sqlite_ts(cutoff))
        .fetch_all(&mut *tx)
        .await
        .map_err(db_err)?;
        let mut requeued = 0u64;
        for (numero, stato) in stale {
            let stato: StatoRichiesta = stato
                .parse()
                .map_err(|_| StoreError::Corrupt(format!("invalid stato of richiesta {numero}: {stato:?}")))?;
            let Some(kind) = job_of_stale(stato) else {
                continue;
            };
            enqueue(&mut tx, kind, numero, None, now).await?;
            sqlx::query("UPDATE richieste SET updated_at = ?2 WHERE numero = ?1")
                .bind(numero)
                .bind(sqlite_ts(now))
                .execute(&mut *tx)
                .await?;
            requeued += 1;
        }
        tx.commit().await?;
        Ok(requeued)
    }

    // --- Reliability (issue 4) ----------------------------------------------------------------

    async fn create_richiesta_once(&self, new: NewRichiesta, idempotency_key: Option<&str>) -> Result<CreateOutcome> {
        let now = now();
        // BEGIN IMMEDIATE: writes are serialised, so the checks below cannot race.
        let mut tx = self.begin_write().await?;
        if let Some(key) = idempotency_key {
            let seen: Option<i64> = sqlx::query_scalar(
                "SELECT numero_richiesta FROM idempotency_keys WHERE intermediario = ?1 AND chiave = ?2",
            )
            .bind(&new.intermediario)
            .bind(key)
            .fetch_optional(&mut *tx)
            .await?;
            if let Some(numero) = seen {
                return Ok(CreateOutcome::Replayed(must_fetch_richiesta(&mut tx, numero).await?));
            }
        }
        let duplicate: Option<i64> = sqlx::query_scalar(
            "SELECT numero FROM richieste WHERE intermediario = ?1 AND sha256 = ?2 AND stato <> 'ELIMINATA' \
             ORDER BY numero DESC LIMIT 1",
        )
        .bind(&new.intermediario)
        .bind(&new.sha256)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(numero) = duplicate {
            return Ok(CreateOutcome::Duplicate(must_fetch_richiesta(&mut tx, numero).await?));
        }
        let numero = insert_richiesta(&mut tx, &new, now).await?;
        if let Some(key) = idempotency_key {
            sqlx::query(
                "INSERT INTO idempotency_keys (intermediario, chiave, numero_richiesta, created_at) VALUES (?1, ?2, ?3, ?4)",
            )
            .bind(&new.intermediario)
            .bind(key)
            .bind(numero)
            .bind(sqlite_ts(now))
            .execute(&mut *tx)
            .await?;
        }
        let richiesta = must_fetch_richiesta(&mut tx, numero).await?;
        tx.commit().await?;
        Ok(CreateOutcome::Created(richiesta))
    }

    async fn find_idempotency_key(&self, intermediario: &str, key: &str) -> Result<Option<Richiesta>> {
        let mut conn = self.reader.acquire().await?;
        let seen: Option<i64> = sqlx::query_scalar(
            "SELECT numero_richiesta FROM idempotency_keys WHERE intermediario = ?1 AND chiave = ?2",
        )
        .bind(intermediario)
        .bind(key)
        .fetch_optional(&mut *conn)
        .await?;
        match seen {
            Some(numero) => fetch_richiesta(&mut conn, numero).await,
            None => Ok(None),
        }
    }

    async fn release_outbox(&self, ids: &[i64]) -> Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin_write().await?;
        for id in ids {
            sqlx::query("UPDATE outbox SET leased_until = NULL WHERE id = ?1 AND published_at IS NULL")
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn set_errore_elaborazione(&self, numero: i64, kind: JobKind, errore: &str, tentativi: i32) -> Result<()> {
        let mut tx = self.begin_write().await?;
        must_fetch_richiesta(&mut tx, numero).await?;
        sqlx::query(
            "INSERT INTO errori_elaborazione (numero_richiesta, kind, errore, tentativi, at) VALUES (?1, ?2, ?3, ?4, ?5) \
             ON CONFLICT (numero_richiesta) DO UPDATE SET kind = excluded.kind, errore = excluded.errore, \
             tentativi = excluded.tentativi, at = excluded.at",
        )
        .bind(numero)
        .bind(kind.as_str())
        .bind(errore)
        .bind(tentativi)
        .bind(sqlite_ts(now()))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn errore_elaborazione(&self, numero: i64) -> Result<Option<ErroreElaborazione>> {
        let row: Option<(i64, String, String, i32, Timestamp)> = sqlx::query_as(
            "SELECT numero_richiesta, kind, errore, tentativi, at FROM errori_elaborazione WHERE numero_richiesta = ?1",
        )
        .bind(numero)
        .fetch_optional(&self.reader)
        .await
        .map_err(db_err)?;
        row.map(|(numero_richiesta, kind, errore, tentativi, at)| {
            let kind = kind
                .parse()
                .map_err(|_| StoreError::Corrupt(format!("invalid job kind {kind:?}")))?;
            Ok(ErroreElaborazione { numero_richiesta, kind, errore, tentativi, at })
        })
        .transpose()
    }

    async fn list_errori_elaborazione(&self, limit: i64) -> Result<Vec<ErroreElaborazione>> {
        let rows: Vec<(i64, String, String, i32, Timestamp)> = sqlx::query_as(
            "SELECT numero_richiesta, kind, errore, tentativi, at FROM errori_elaborazione \
             ORDER BY at, numero_richiesta LIMIT ?1",
        )
        .bind(limit.max(0))
        .fetch_all(&self.reader)
        .await
        .map_err(db_err)?;
        rows.into_iter()
            .map(|(numero_richiesta, kind, errore, tentativi, at)| {
                let kind = kind
                    .parse()
                    .map_err(|_| StoreError::Corrupt(format!("invalid job kind {kind:?}")))?;
                Ok(ErroreElaborazione { numero_richiesta, kind, errore, tentativi, at })
            })
            .collect()
    }

    async fn replay_job(&self, numero: i64, kind: JobKind) -> Result<()> {
        let now = now();
        let mut tx = self.begin_write().await?;
        must_fetch_richiesta(&mut tx, numero).await?;
        sqlx::query("DELETE FROM errori_elaborazione WHERE numero_richiesta = ?1")
            .bind(numero)
            .execute(&mut *tx)
            .await?;
        enqueue(&mut tx, kind, numero, None, now).await?;
        sqlx::query("UPDATE richieste SET updated_at = ?2 WHERE numero = ?1")
            .bind(numero)
            .bind(sqlite_ts(now))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn archivio_periodi(&self, matricole: &[String], dal: NaiveDate) -> Result<Vec<PeriodoArchivio>> {
        let mut conn = self.reader.acquire().await?;
        periodi_query(&mut conn, matricole, dal).await
    }

    async fn archivio_rapporti(&self, matricole: &[String]) -> Result<Vec<RapportoLavoro>> {
        if matricole.is_empty() {
            return Ok(Vec::new());
        }
        let list = serde_json::to_string(matricole).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let rows: Vec<RapportoRow> = sqlx::query_as(
            "SELECT matricola, codice_fiscale, assunto_dal, cessato_al FROM archivio_rapporti \
             WHERE matricola IN (SELECT value FROM json_each(?1)) ORDER BY matricola, codice_fiscale, assunto_dal",
        )
        .bind(list)
        .fetch_all(&self.reader)
        .await
        .map_err(db_err)?;
        Ok(rows.into_iter().map(RapportoRow::into_rapporto).collect())
    }

    async fn import_autorizzazioni(&self, rows: &[PeriodoArchivio]) -> Result<u64> {
        let now = sqlite_ts(now());
        let mut tx = self.begin_write().await?;
        let mut written = 0;
        for p in rows {
            written += sqlx::query(
                "INSERT INTO archivio_autorizzazioni (matricola, riferimento, unita_produttiva, periodo_dal, \
                 periodo_al, ore_centesimi, evento_non_evitabile, importata_il) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) \
                 ON CONFLICT (matricola, riferimento) DO UPDATE SET unita_produttiva = excluded.unita_produttiva, \
                 periodo_dal = excluded.periodo_dal, periodo_al = excluded.periodo_al, \
                 ore_centesimi = excluded.ore_centesimi, evento_non_evitabile = excluded.evento_non_evitabile, \
                 importata_il = excluded.importata_il",
            )
            .bind(&p.matricola)
            .bind(&p.riferimento)
            .bind(&p.unita_produttiva)
            .bind(p.dal)
            .bind(p.al)
            .bind(p.ore.0)
            .bind(p.evento_non_evitabile)
            .bind(&now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        }
        tx.commit().await?;
        Ok(written)
    }

    async fn import_rapporti(&self, rows: &[RapportoLavoro]) -> Result<u64> {
        let now = sqlite_ts(now());
        let mut tx = self.begin_write().await?;
        let mut written = 0;
        for r in rows {
            written += sqlx::query(
                "INSERT INTO archivio_rapporti (matricola, codice_fiscale, assunto_dal, cessato_al, importato_il) \
                 VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (matricola, codice_fiscale, assunto_dal) \
                 DO UPDATE SET cessato_al = excluded.cessato_al, importato_il = excluded.importato_il",
            )
            .bind(&r.matricola)
            .bind(&r.codice_fiscale)
            .bind(r.assunto_dal)
            .bind(r.cessato_al)
            .bind(&now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        }
        tx.commit().await?;
        Ok(written)
    }

    async fn sla_stats(&self, bound: Duration, window: Duration) -> Result<SlaStats> {
        let now = now();
        let oldest: Option<Timestamp> = sqlx::query_scalar(
            "SELECT MIN(data_inserimento) FROM richieste \
             WHERE stato IN ('RICEVUTA', 'IN_ELABORAZIONE', 'APPROVATA', 'IN_INVIO')",
        )
        .fetch_one(&self.reader)
        .await
        .map_err(db_err)?;
        let (finished, finished_within): (i64, i64) = sqlx::query_as(
            "SELECT COUNT(*), COALESCE(SUM(CASE WHEN \
                 (julianday(data_prevalidazione) - julianday(data_inserimento)) * 86400.0 <= ?2 THEN 1 ELSE 0 END), 0) \
             FROM richieste WHERE data_inserimento >= ?1 AND data_prevalidazione IS NOT NULL",
        )
        .bind(sqlite_ts(common::minus(now, window)))
        .bind(bound.as_secs_f64())
        .fetch_one(&self.reader)
        .await
        .map_err(db_err)?;
        Ok(SlaStats { oldest_unfinished: oldest, finished, finished_within })
    }
    // --- Access (issue 5) -----------------------------------------------------------------------

    async fn list_tokens(&self, intermediario: Option<&str>) -> Result<Vec<TokenRecord>> {
        let rows: Vec<TokenRow> = sqlx::query_as(&format!(
            "SELECT {TOKEN_COLS} FROM api_tokens WHERE (?1 IS NULL OR intermediario = ?1) ORDER BY id"
        ))
        .bind(intermediario)
        .fetch_all(&self.reader)
        .await
        .map_err(db_err)?;
        convert(rows)
    }

    async fn revoke_token(&self, id: i64) -> Result<Option<TokenRecord>> {
        let row: Option<TokenRow> = sqlx::query_as(&format!(
            "UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, ?2) WHERE id = ?1 RETURNING {TOKEN_COLS}"
        ))
        .bind(id)
        .bind(sqlite_ts(now()))
        .fetch_optional(&self.writer)
        .await
        .map_err(db_err)?;
        row.map(TokenRecord::try_from).transpose()
    }

    async fn add_deleghe(&self, deleghe: &[(String, String)]) -> Result<u64> {
        let now = sqlite_ts(now());
        let mut tx = self.begin_write().await?;
        let mut added = 0;
        for (intermediario, matricola) in deleghe {
            added += sqlx::query(
                "INSERT INTO deleghe (intermediario, matricola, created_at) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (intermediario, matricola) DO NOTHING",
            )
            .bind(intermediario)
            .bind(matricola)
            .bind(&now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        }
        tx.commit().await?;
        Ok(added)
    }

    async fn remove_delega(&self, intermediario: &str, matricola: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM deleghe WHERE intermediario = ?1 AND matricola = ?2")
            .bind(intermediario)
            .bind(matricola)
            .execute(&self.writer)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn list_deleghe(&self, intermediario: Option<&str>, matricola: Option<&str>) -> Result<Vec<Delega>> {
        let rows: Vec<(String, String, Timestamp)> = sqlx::query_as(
            "SELECT intermediario, matricola, created_at FROM deleghe \
             WHERE (?1 IS NULL OR intermediario = ?1) AND (?2 IS NULL OR matricola = ?2) \
             ORDER BY intermediario, matricola",
        )
        .bind(intermediario)
        .bind(matricola)
        .fetch_all(&self.reader)
        .await
        .map_err(db_err)?;
        Ok(rows
            .into_iter()
            .map(|(intermediario, matricola, created_at)| Delega { intermediario, matricola, created_at })
            .collect())
    }

    async fn deleghe_held(&self, intermediario: &str, matricole: &[String]) -> Result<Vec<String>> {
        if matricole.is_empty() {
            return Ok(Vec::new());
        }
        // One query: the matricole travel as one JSON array.
        let list = serde_json::to_string(matricole).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let held: Vec<String> = sqlx::query_scalar(
            "SELECT matricola FROM deleghe WHERE intermediario = ?1 \
             AND matricola IN (SELECT value FROM json_each(?2)) ORDER BY matricola",
        )
        .bind(intermediario)
        .bind(list)
        .fetch_all(&self.reader)
        .await
        .map_err(db_err)?;
        Ok(held)
    }

    async fn append_audit(&self, entry: NewAudit) -> Result<()> {
        sqlx::query("INSERT INTO audit (at, actor, action, numero_richiesta, detail) VALUES (?1, ?2, ?3, ?4, ?5)")
            .bind(sqlite_ts(now()))
            .bind(&entry.actor)
            .bind(&entry.action)
            .bind(entry.numero_richiesta)
            .bind(&entry.detail)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    async fn list_audit(&self, numero: Option<i64>, page: u32, page_size: u32) -> Result<Page<AuditEntry>> {
        let p = paging(page, page_size);
        let union = "SELECT at, actor, action, numero_richiesta, detail, 0 AS src, id FROM audit \
                       WHERE (?1 IS NULL OR numero_richiesta = ?1) \
                     UNION ALL \
                     SELECT at, actor, 'transizione', numero_richiesta, COALESCE(da, '-') || ' -> ' || a, 1, id \
                       FROM transizioni WHERE (?1 IS NULL OR numero_richiesta = ?1)";
        let total: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM ({union})"))
            .bind(numero)
            .fetch_one(&self.reader)
            .await
            .map_err(db_err)?;
        let rows: Vec<AuditRow> = sqlx::query_as(&format!(
            "SELECT at, actor, action, numero_richiesta, detail FROM ({union}) ORDER BY at, src, id LIMIT ?2 OFFSET ?3"
        ))
        .bind(numero)
        .bind(p.limit)
        .bind(p.offset)
        .fetch_all(&self.reader)
        .await
        .map_err(db_err)?;
        Ok(Page { items: convert(rows)?, total, page: p.page, page_size: p.page_size })
    }
}
