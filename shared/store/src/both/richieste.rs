//! Richieste: creation, reading and search, transitions, the esito of a prevalidation and the
//! end of a sending, for both backends (see the module doc of `both`).

use super::archivio::{lavoratori, periodi};
use super::outbox::enqueue;
use super::{contains_ci, insert_rows, mark_invio, serialise_uploads, ts, Backend, Conn, Db, FOR_UPDATE};
use crate::common::{
    self, attach_findings, date_column_of, day_after, day_start, db_err, finding_of, findings_invio,
    findings_prevalidazione, i64_of, like_substring, now, paging, trunc, FindingColumns, FindingInsert, Paging,
};
use crate::sql::{self, RICHIESTA_COLS};
use crate::{
    CreateOutcome, DomandaRecord, NewRichiesta, Page, Result, Richiesta, RichiestaFilter, StoreError, Timestamp,
    TransitionRequest, Transizione,
};
use chrono::NaiveDate;
use cigo_domain::archivio::{ChiaviArchivio, DomandaInvio, LavoratoreDomanda};
use cigo_domain::piano::{FattiInvio, Passo, STATO_INIZIALE};
use cigo_domain::{EsitoDomanda, EsitoPrevalidazione, JobKind, StatoRichiesta};
use sqlx::types::Json;
use sqlx::{Database, FromRow, QueryBuilder};

pub(super) async fn fetch_richiesta(conn: &mut Conn, numero: i64) -> Result<Option<Richiesta>> {
    sqlx::query_as(&format!("SELECT {RICHIESTA_COLS} FROM richieste WHERE numero = $1"))
        .bind(numero)
        .fetch_optional(&mut *conn)
        .await
        .map_err(db_err)
}

pub(super) async fn must_fetch_richiesta(conn: &mut Conn, numero: i64) -> Result<Richiesta> {
    fetch_richiesta(conn, numero)
        .await?
        .ok_or(StoreError::NotFound(numero))
}

/// The state of richiesta `numero`, its row locked to the end of the transaction where the backend
/// locks rows ([`FOR_UPDATE`]) (`NotFound` if there is none).
async fn stato(conn: &mut Conn, numero: i64) -> Result<StatoRichiesta> {
    sqlx::query_scalar(&format!("{}{FOR_UPDATE}", sql::SELECT_STATO))
        .bind(numero)
        .fetch_optional(&mut *conn)
        .await
        .map_err(db_err)?
        .ok_or(StoreError::NotFound(numero))
}

/// The error for a compare-and-set that changed no row: `StateConflict` or `NotFound`.
async fn conflict(conn: &mut Conn, numero: i64) -> StoreError {
    match stato(conn, numero).await {
        Ok(current) => StoreError::StateConflict { current },
        Err(e) => e,
    }
}

/// The compare-and-set of `passo` with its transition recorded (inside the caller's transaction).
async fn step(
    conn: &mut Conn,
    numero: i64,
    passo: Passo,
    actor: &str,
    nota: Option<&str>,
    at: Timestamp,
) -> Result<()> {
    let changed = sqlx::query(&sql::update_stato(date_column_of(passo.a)))
        .bind(numero)
        .bind(passo.da)
        .bind(passo.a)
        .bind(ts(at))
        .execute(&mut *conn)
        .await?
        .rows_affected();
    if changed == 0 {
        return Err(conflict(conn, numero).await);
    }
    record_transition(conn, numero, Some(passo.da), passo.a, actor, at, nota).await
}

async fn record_transition(
    conn: &mut Conn,
    numero: i64,
    da: Option<StatoRichiesta>,
    a: StatoRichiesta,
    actor: &str,
    at: Timestamp,
    nota: Option<&str>,
) -> Result<()> {
    sqlx::query(sql::INSERT_TRANSIZIONE)
        .bind(numero)
        .bind(da)
        .bind(a)
        .bind(actor)
        .bind(ts(at))
        .bind(nota)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// A new richiesta in the initial state: the row, its first transition and the outbox row of its
/// prevalidation (inside the caller's transaction). Returns its numero.
async fn insert_richiesta(conn: &mut Conn, new: &NewRichiesta, now: Timestamp) -> Result<i64> {
    let numero: i64 = sqlx::query_scalar(sql::INSERT_RICHIESTA)
        .bind(&new.intermediario)
        .bind(STATO_INIZIALE)
        .bind(new.prevalidazione)
        .bind(&new.blob_key)
        .bind(&new.sha256)
        .bind(new.size_bytes)
        .bind(ts(now))
        .bind(new.rinvio_di)
        .bind(&new.nome_file)
        .fetch_one(&mut *conn)
        .await?;
    if let Some(old) = new.rinvio_di {
        sqlx::query(sql::SET_RINVIATA_IN)
            .bind(old)
            .bind(numero)
            .execute(&mut *conn)
            .await?;
    }
    record_transition(conn, numero, None, STATO_INIZIALE, &new.actor, now, None).await?;
    enqueue(conn, JobKind::Prevalidazione, numero, new.trace_context.as_deref(), now).await?;
    Ok(numero)
}

async fn insert_findings(conn: &mut Conn, numero: i64, rows: &[FindingInsert<'_>]) -> Result<()> {
    insert_rows(conn, sql::INSERT_FINDINGS, rows, "", |mut b, (progressivo, fase, seq, f)| {
        b.push_bind(numero)
            .push_bind(*progressivo)
            .push_bind(*fase)
            .push_bind(*seq)
            .push_bind(f.code.as_str())
            .push_bind(f.layer)
            .push_bind(f.severity)
            .push_bind(f.message.as_str())
            .push_bind(f.xpath.as_deref())
            .push_bind(f.line.map(i64::from))
            .push_bind(f.column.map(i64::from))
            .push_bind(f.value.as_deref());
    })
    .await?;
    Ok(())
}

async fn insert_domande(conn: &mut Conn, numero: i64, esito: &EsitoPrevalidazione) -> Result<()> {
    insert_rows(conn, sql::INSERT_DOMANDE, &esito.domande, "", |mut b, d| {
        let dati = d.archivio.as_ref();
        b.push_bind(numero)
            .push_bind(i64::from(d.progressivo))
            .push_bind(d.matricola.as_deref())
            .push_bind(d.codice_fiscale_azienda.as_deref())
            .push_bind(d.denominazione.as_deref())
            .push_bind(d.unita_produttiva.as_deref())
            .push_bind(d.periodo_dal)
            .push_bind(d.periodo_al)
            .push_bind(d.esito)
            .push_bind(dati.map(|a| a.ore_cig))
            .push_bind(dati.map(|a| a.evento_non_evitabile))
            .push_bind(dati.map(|a| a.ore_lavorabili_settimanali))
            .push_bind(dati.map(|a| i32::try_from(a.mesi_quinquennio).unwrap_or(i32::MAX)))
            .push_bind(dati.and_then(|a| a.termine_presentazione));
    })
    .await?;
    Ok(())
}

/// The workers of the domande that can be sent (ARC-008, ARC-009 of the later domande), each
/// codice fiscale upper case.
async fn insert_lavoratori(conn: &mut Conn, numero: i64, esito: &EsitoPrevalidazione) -> Result<()> {
    let rows: Vec<(i64, &LavoratoreDomanda)> = esito
        .domande
        .iter()
        .filter(|d| d.esito.is_sendable())
        .filter_map(|d| Some((i64::from(d.progressivo), d.archivio.as_ref()?)))
        .flat_map(|(progressivo, a)| a.lavoratori.iter().map(move |l| (progressivo, l)))
        .collect();
    insert_rows(conn, sql::INSERT_LAVORATORI, &rows, "", |mut b, (progressivo, l)| {
        b.push_bind(numero)
            .push_bind(*progressivo)
            .push_bind(i64::from(l.posizione))
            .push_bind(l.codice_fiscale.to_ascii_uppercase())
            .push_bind(i64::from(l.line))
            .push_bind(i64::from(l.column));
    })
    .await?;
    Ok(())
}

/// The domande of richiesta `numero` still to be sent, with their workers.
async fn domande_invio(conn: &mut Conn, numero: i64) -> Result<Vec<DomandaInvio>> {
    let mut domande: Vec<DomandaInvio> = sqlx::query_as(sql::SELECT_DOMANDE_INVIO)
        .bind(numero)
        .fetch_all(&mut *conn)
        .await
        .map_err(db_err)?;
    let lavoratori: Vec<(i64, i64, String, i64, i64)> = sqlx::query_as(sql::SELECT_LAVORATORI_INVIO)
        .bind(numero)
        .fetch_all(&mut *conn)
        .await
        .map_err(db_err)?;
    let mut domande_it = domande.iter_mut().peekable();
    for (progressivo, posizione, codice_fiscale, line, col) in lavoratori {
        // Both sorted by progressivo: walk them together.
        while domande_it
            .peek()
            .is_some_and(|d| d.progressivo < progressivo)
        {
            domande_it.next();
        }
        if let Some(d) = domande_it
            .peek_mut()
            .filter(|d| d.progressivo == progressivo)
        {
            d.lavoratori.push(LavoratoreDomanda {
                codice_fiscale,
                data_assunzione: None,
                posizione: u32::try_from(posizione).unwrap_or(0),
                line: u32::try_from(line).unwrap_or(0),
                column: u32::try_from(col).unwrap_or(0),
            });
        }
    }
    Ok(domande)
}

/// A page of `list_domande` by `query`: `$1` numero, `$2` esito or NULL, `$3` limit, `$4` offset.
async fn fetch_page<O>(
    conn: &mut Conn,
    query: &str,
    numero: i64,
    esito: Option<EsitoDomanda>,
    p: &Paging,
) -> Result<Vec<O>>
where
    O: for<'r> FromRow<'r, <Db as Database>::Row> + Send + Unpin,
{
    sqlx::query_as(query)
        .bind(numero)
        .bind(esito)
        .bind(p.limit)
        .bind(p.offset)
        .fetch_all(&mut *conn)
        .await
        .map_err(db_err)
}

/// `AND {column}` from the start of day `dal` to the end of day `al`, each bound when given.
fn push_days(qb: &mut QueryBuilder<'_, Db>, column: &str, dal: Option<NaiveDate>, al: Option<NaiveDate>) {
    if let Some(d) = dal {
        qb.push(format!(" AND {column} >= "))
            .push_bind(ts(day_start(d)));
    }
    if let Some(d) = al {
        qb.push(format!(" AND {column} < "))
            .push_bind(ts(day_after(d)));
    }
}

/// The WHERE clause of the search form (on `richieste r`).
fn push_filter(qb: &mut QueryBuilder<'_, Db>, f: &RichiestaFilter) {
    qb.push(" WHERE 1 = 1");
    if let Some(i) = &f.intermediario {
        qb.push(" AND r.intermediario = ").push_bind(i.clone());
    }
    if let Some(n) = f.numero {
        qb.push(" AND r.numero = ").push_bind(n);
    }
    if let Some(s) = f.stato {
        qb.push(" AND r.stato = ").push_bind(s);
    }
    push_days(qb, "r.data_inserimento", f.inserita_dal, f.inserita_al);
    push_days(qb, "r.data_approvazione", f.approvata_dal, f.approvata_al);
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
            qb.push(" AND ");
            contains_ci(qb, "d.denominazione", like_substring(den));
        }
        qb.push(")");
    }
}

impl Backend {
    pub async fn create_richiesta_once(
        &self,
        new: NewRichiesta,
        idempotency_key: Option<&str>,
    ) -> Result<CreateOutcome> {
        let now = now();
        let mut tx = self.begin_write().await?;
        serialise_uploads(&mut tx, &new.intermediario).await?;
        if let Some(key) = idempotency_key {
            let seen: Option<i64> = sqlx::query_scalar(sql::SELECT_IDEMPOTENCY_KEY)
                .bind(&new.intermediario)
                .bind(key)
                .fetch_optional(&mut *tx)
                .await?;
            if let Some(numero) = seen {
                let first = must_fetch_richiesta(&mut tx, numero).await?;
                tx.rollback().await?;
                return Ok(CreateOutcome::Replayed(first));
            }
        }
        let duplicate: Option<i64> = sqlx::query_scalar(sql::SELECT_DUPLICATE)
            .bind(&new.intermediario)
            .bind(&new.sha256)
            .fetch_optional(&mut *tx)
            .await?;
        if let Some(numero) = duplicate {
            let existing = must_fetch_richiesta(&mut tx, numero).await?;
            tx.rollback().await?;
            return Ok(CreateOutcome::Duplicate(existing));
        }
        let numero = insert_richiesta(&mut tx, &new, now).await?;
        if let Some(key) = idempotency_key {
            sqlx::query(sql::INSERT_IDEMPOTENCY_KEY)
                .bind(&new.intermediario)
                .bind(key)
                .bind(numero)
                .bind(ts(now))
                .execute(&mut *tx)
                .await?;
        }
        let richiesta = must_fetch_richiesta(&mut tx, numero).await?;
        tx.commit().await?;
        Ok(CreateOutcome::Created(richiesta))
    }

    pub async fn find_idempotency_key(&self, intermediario: &str, key: &str) -> Result<Option<Richiesta>> {
        let mut conn = self.reader().acquire().await?;
        let seen: Option<i64> = sqlx::query_scalar(sql::SELECT_IDEMPOTENCY_KEY)
            .bind(intermediario)
            .bind(key)
            .fetch_optional(&mut *conn)
            .await?;
        match seen {
            Some(numero) => fetch_richiesta(&mut conn, numero).await,
            None => Ok(None),
        }
    }

    pub async fn get_richiesta(&self, numero: i64) -> Result<Option<Richiesta>> {
        let mut conn = self.reader().acquire().await?;
        fetch_richiesta(&mut conn, numero).await
    }

    pub async fn blob_keys_inserted(&self, from: Timestamp, to: Timestamp) -> Result<Vec<String>> {
        let keys = sqlx::query_scalar(
            "SELECT blob_key FROM richieste WHERE data_inserimento >= $1 AND data_inserimento < $2 \
             AND purgata_il IS NULL",
        )
        .bind(ts(from))
        .bind(ts(to))
        .fetch_all(self.reader())
        .await?;
        Ok(keys)
    }

    pub async fn search_richieste(&self, filter: &RichiestaFilter) -> Result<Page<Richiesta>> {
        let p = paging(filter.page, filter.page_size);
        let mut tx = self.begin_read().await?;
        let mut count = QueryBuilder::<Db>::new("SELECT COUNT(*) FROM richieste r");
        push_filter(&mut count, filter);
        let total: i64 = count
            .build_query_scalar()
            .fetch_one(&mut *tx)
            .await
            .map_err(db_err)?;
        let mut select = QueryBuilder::<Db>::new(format!("SELECT {RICHIESTA_COLS} FROM richieste r"));
        push_filter(&mut select, filter);
        select
            .push(" ORDER BY r.numero DESC LIMIT ")
            .push_bind(p.limit)
            .push(" OFFSET ")
            .push_bind(p.offset);
        let items = select
            .build_query_as()
            .fetch_all(&mut *tx)
            .await
            .map_err(db_err)?;
        tx.commit().await?;
        Ok(Page { items, total, page: p.page, page_size: p.page_size })
    }

    pub async fn transizioni(&self, numero: i64) -> Result<Vec<Transizione>> {
        sqlx::query_as(sql::SELECT_TRANSIZIONI)
            .bind(numero)
            .fetch_all(self.reader())
            .await
            .map_err(db_err)
    }

    pub async fn transition(&self, req: TransitionRequest) -> Result<Richiesta> {
        let now = now();
        let mut tx = self.begin_write().await?;
        let passo = Passo { da: req.from, a: req.to };
        if let Err(e) = step(&mut tx, req.numero, passo, &req.actor, req.nota.as_deref(), now).await {
            return tx.refuse(e).await;
        }
        if let Some(kind) = req.enqueue {
            enqueue(&mut tx, kind, req.numero, req.trace_context.as_deref(), now).await?;
        }
        let richiesta = must_fetch_richiesta(&mut tx, req.numero).await?;
        tx.commit().await?;
        Ok(richiesta)
    }

    pub async fn save_esito(
        &self,
        numero: i64,
        esito: &EsitoPrevalidazione,
        actor: &str,
        auto_approve: bool,
    ) -> Result<Richiesta> {
        let now = now();
        let mut tx = self.begin_write().await?;
        let piano = match common::piano_esito(stato(&mut tx, numero).await?, esito, auto_approve) {
            Ok(piano) => piano,
            Err(e) => return tx.refuse(e).await,
        };
        let (primo, poi) = piano
            .passi
            .split_first()
            .ok_or(StoreError::NotFound(numero))?;

        let changed = sqlx::query(sql::UPDATE_ESITO)
            .bind(numero)
            .bind(primo.da)
            .bind(primo.a)
            .bind(i64_of(esito.domande.len()))
            .bind(i64_of(esito.valide()))
            .bind(i64_of(esito.scartate()))
            .bind(&esito.rule_set)
            .bind(esito.file_finding.as_ref().map(Json))
            .bind(ts(now))
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if changed == 0 {
            let e = conflict(&mut tx, numero).await;
            return tx.refuse(e).await;
        }
        // Idempotent: whatever an earlier attempt left is replaced.
        sqlx::query(sql::DELETE_FINDINGS)
            .bind(numero)
            .execute(&mut *tx)
            .await?;
        sqlx::query(sql::DELETE_LAVORATORI)
            .bind(numero)
            .execute(&mut *tx)
            .await?;
        sqlx::query(sql::DELETE_DOMANDE)
            .bind(numero)
            .execute(&mut *tx)
            .await?;
        insert_domande(&mut tx, numero, esito).await?;
        insert_lavoratori(&mut tx, numero, esito).await?;
        insert_findings(&mut tx, numero, &findings_prevalidazione(esito)).await?;
        record_transition(&mut tx, numero, Some(primo.da), primo.a, actor, now, None).await?;
        for passo in poi {
            step(&mut tx, numero, *passo, actor, None, now).await?;
        }
        if let Some(kind) = piano.accoda {
            enqueue(&mut tx, kind, numero, None, now).await?;
        }
        let richiesta = must_fetch_richiesta(&mut tx, numero).await?;
        tx.commit().await?;
        Ok(richiesta)
    }

    pub async fn list_domande(
        &self,
        numero: i64,
        esito: Option<EsitoDomanda>,
        page: u32,
        page_size: u32,
    ) -> Result<Page<DomandaRecord>> {
        let p = paging(page, page_size);
        let mut tx = self.begin_read().await?;
        let exists: Option<i64> = sqlx::query_scalar(sql::SELECT_NUMERO)
            .bind(numero)
            .fetch_optional(&mut *tx)
            .await?;
        if exists.is_none() {
            return tx.refuse(StoreError::NotFound(numero)).await;
        }
        let total: i64 = sqlx::query_scalar(sql::COUNT_DOMANDE)
            .bind(numero)
            .bind(esito)
            .fetch_one(&mut *tx)
            .await?;
        let page = format!("SELECT {} {}", sql::DOMANDA_COLS, sql::PAGE_DOMANDE);
        let mut domande: Vec<DomandaRecord> = fetch_page(&mut tx, &page, numero, esito, &p).await?;
        if !domande.is_empty() {
            let rows: Vec<FindingColumns> = fetch_page(&mut tx, sql::PAGE_FINDINGS, numero, esito, &p).await?;
            let findings = rows.into_iter().map(finding_of).collect::<Result<_>>()?;
            attach_findings(&mut domande, findings);
        }
        tx.commit().await?;
        Ok(Page { items: domande, total, page: p.page, page_size: p.page_size })
    }

    pub async fn complete_invio(
        &self,
        numero: i64,
        actor: &str,
        at: Timestamp,
        data_presentazione: NaiveDate,
    ) -> Result<Richiesta> {
        let at = trunc(at);
        let now = now();
        let anno = common::anno(at);
        // The protocol counter of the year, locked first ([`FOR_UPDATE`]; SQLite's one writer
        // serialises every sending anyway): every sender waits here, so that the archive read below
        // holds every earlier sending and the richiesta cannot change under it.
        let mut tx = self.begin_write().await?;
        sqlx::query(sql::INSERT_CONTATORE)
            .bind(anno)
            .execute(&mut *tx)
            .await?;
        let ultimo_protocollo: i64 = sqlx::query_scalar(&format!("{}{FOR_UPDATE}", sql::SELECT_CONTATORE))
            .bind(anno)
            .fetch_one(&mut *tx)
            .await
            .map_err(db_err)?;
        let stato = stato(&mut tx, numero).await?;
        let domande = domande_invio(&mut tx, numero).await?;
        let chiavi = ChiaviArchivio::invio(&domande);
        let periodi = periodi(&mut tx, &chiavi).await?;
        let lavoratori = lavoratori(&mut tx, &chiavi).await?;
        let piano = match common::piano_invio(FattiInvio {
            stato,
            anno,
            ultimo_protocollo,
            domande,
            periodi,
            lavoratori,
            data_presentazione,
        }) {
            Ok(piano) => piano,
            Err(e) => return tx.refuse(e).await,
        };

        mark_invio(&mut tx, numero, &piano, at).await?;
        if piano.ultimo_protocollo != ultimo_protocollo {
            sqlx::query(sql::UPDATE_CONTATORE)
                .bind(anno)
                .bind(piano.ultimo_protocollo)
                .execute(&mut *tx)
                .await?;
        }
        insert_findings(&mut tx, numero, &findings_invio(&piano)).await?;
        sqlx::query(sql::UPDATE_CONSEGNA)
            .bind(numero)
            .bind(piano.passo.a)
            .bind(ts(at))
            .bind(ts(now))
            .bind(piano.passo.da)
            .execute(&mut *tx)
            .await?;
        record_transition(&mut tx, numero, Some(piano.passo.da), piano.passo.a, actor, at, None).await?;
        let richiesta = must_fetch_richiesta(&mut tx, numero).await?;
        tx.commit().await?;
        Ok(richiesta)
    }
}
