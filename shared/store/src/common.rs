//! What the two implementations share: the clock, paging, LIKE escaping, protocol numbers, and
//! the raw rows read from either database with their checked conversion into the public records.
//!
//! ## Timestamps
//!
//! Every timestamp is taken from the application clock, [`now`] (`Utc::now()` truncated to the
//! microsecond), never from the database clock: SQLite has no microsecond clock of its own, and
//! one choice for both backends keeps their behaviour identical. Timestamps handed in by callers
//! (`expires_at`, the `at` of `complete_invio`) are truncated the same way, so that whatever is
//! written compares equal to what is read back. PostgreSQL stores `TIMESTAMPTZ` (microseconds);
//! SQLite stores TEXT in the fixed format of [`sqlite_ts`], which sorts chronologically as text.

use crate::{
    DomandaRecord, OutboxMessage, PeriodoArchivio, RapportoLavoro, Richiesta, StoreError, TokenRecord, Transizione,
};
use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use cigo_domain::archivio::DatiArchivio;
use cigo_domain::model::Ore;
use cigo_domain::{DomandaEsito, EsitoDomanda, Finding, JobKind, Layer, Ruolo, Severity, StatoRichiesta};
use std::str::FromStr;
use std::time::Duration;

pub(crate) type Timestamp = DateTime<Utc>;

/// Rows per multi-row INSERT. Domande take 9 binds a row, findings 12: 1,000 rows stay far below
/// both SQLite's 32,766 and PostgreSQL's 65,535 bind parameters per statement.
pub(crate) const INSERT_CHUNK: usize = 1_000;

pub(crate) const FASE_PREVALIDAZIONE: &str = "PREVALIDAZIONE";
pub(crate) const FASE_INVIO: &str = "INVIO";

/// The application clock, truncated to the microsecond (the precision of both databases).
pub(crate) fn now() -> Timestamp {
    trunc(Utc::now())
}

/// `t` truncated to the microsecond.
pub(crate) fn trunc(t: Timestamp) -> Timestamp {
    DateTime::from_timestamp_micros(t.timestamp_micros()).unwrap_or(t)
}

/// The SQLite text form of a timestamp: fixed width, UTC, microseconds, so that text order is
/// time order (`2026-01-05T08:30:00.000000+00:00`). sqlx decodes it back as RFC 3339.
pub(crate) fn sqlite_ts(t: Timestamp) -> String {
    trunc(t).format("%Y-%m-%dT%H:%M:%S%.6f+00:00").to_string()
}

/// A lease or an age as a chrono duration (saturating: absurdly long ones become 100 years).
pub(crate) fn chrono_duration(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or_else(|_| chrono::Duration::days(36_500))
}

/// `t + d`, saturating at the largest timestamp.
pub(crate) fn plus(t: Timestamp, d: Duration) -> Timestamp {
    t.checked_add_signed(chrono_duration(d))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// `t - d`, saturating at the smallest timestamp.
pub(crate) fn minus(t: Timestamp, d: Duration) -> Timestamp {
    t.checked_sub_signed(chrono_duration(d))
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// 00:00 UTC of a day.
pub(crate) fn day_start(d: NaiveDate) -> Timestamp {
    Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0).unwrap_or_default())
}

/// 00:00 UTC of the day after (the exclusive upper bound of an inclusive "until" day).
pub(crate) fn day_after(d: NaiveDate) -> Timestamp {
    match d.succ_opt() {
        Some(next) => day_start(next),
        None => DateTime::<Utc>::MAX_UTC,
    }
}

/// A `LIKE` pattern matching `text` as a substring, with `\` as the escape character.
pub(crate) fn like_substring(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('%');
    for c in text.chars() {
        if matches!(c, '\\' | '%' | '_') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// Page number (1-based, 0 read as 1) and size (at least 1), with LIMIT and OFFSET.
pub(crate) struct Paging {
    pub page: u32,
    pub page_size: u32,
    pub limit: i64,
    pub offset: i64,
}

pub(crate) fn paging(page: u32, page_size: u32) -> Paging {
    let page = page.max(1);
    let page_size = page_size.max(1);
    Paging { page, page_size, limit: i64::from(page_size), offset: (i64::from(page) - 1) * i64::from(page_size) }
}

/// The protocol number `n` of year `anno`: `CIGO-2026-0000042`.
pub(crate) fn protocollo(anno: i32, n: i64) -> String {
    format!("CIGO-{anno}-{n:07}")
}

pub(crate) fn anno(t: Timestamp) -> i32 {
    t.year()
}

/// The state column to set for a target state, if any (see [`crate::Store::transition`]).
pub(crate) fn date_column_of(to: StatoRichiesta) -> Option<&'static str> {
    match to {
        StatoRichiesta::Approvata => Some("data_approvazione"),
        StatoRichiesta::Eliminata => Some("data_eliminazione"),
        _ => None,
    }
}

/// The job the SLA reaper re-queues for a state in progress.
pub(crate) fn job_of_stale(stato: StatoRichiesta) -> Option<JobKind> {
    match stato {
        StatoRichiesta::Ricevuta | StatoRichiesta::InElaborazione => Some(JobKind::Prevalidazione),
        StatoRichiesta::Approvata | StatoRichiesta::InInvio => Some(JobKind::Invio),
        _ => None,
    }
}

/// Errors of sqlx that say a row does not decode become [`StoreError::Corrupt`].
pub(crate) fn db_err(e: sqlx::Error) -> StoreError {
    match e {
        sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_) => StoreError::Corrupt(e.to_string()),
        other => StoreError::Database(other),
    }
}

fn parse<T: FromStr>(value: &str, what: &str) -> Result<T, StoreError> {
    value
        .parse()
        .map_err(|_| StoreError::Corrupt(format!("invalid {what}: {value:?}")))
}

fn opt_u32(value: Option<i64>, what: &str) -> Result<Option<u32>, StoreError> {
    value
        .map(|v| u32::try_from(v).map_err(|_| StoreError::Corrupt(format!("invalid {what}: {v}"))))
        .transpose()
}

pub(crate) fn finding_json(f: &Finding) -> Result<String, StoreError> {
    serde_json::to_string(f).map_err(|e| StoreError::Corrupt(format!("cannot encode a finding: {e}")))
}

pub(crate) fn i64_of(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

// --- Raw rows -------------------------------------------------------------------------------

#[derive(sqlx::FromRow)]
pub(crate) struct TokenRow {
    pub id: i64,
    pub intermediario: String,
    pub nome: Option<String>,
    pub ruolo: String,
    pub created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
}

impl TryFrom<TokenRow> for TokenRecord {
    type Error = StoreError;
    fn try_from(r: TokenRow) -> Result<Self, StoreError> {
        Ok(TokenRecord {
            id: r.id,
            intermediario: r.intermediario,
            nome: r.nome,
            ruolo: parse::<Ruolo>(&r.ruolo, "ruolo")?,
            created_at: r.created_at,
            expires_at: r.expires_at,
            revoked_at: r.revoked_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct RichiestaRow {
    pub numero: i64,
    pub intermediario: String,
    pub stato: String,
    pub prevalidazione: bool,
    pub blob_key: String,
    pub sha256: String,
    pub size_bytes: i64,
    pub data_inserimento: Timestamp,
    pub data_prevalidazione: Option<Timestamp>,
    pub data_approvazione: Option<Timestamp>,
    pub data_consegna: Option<Timestamp>,
    pub data_eliminazione: Option<Timestamp>,
    pub updated_at: Timestamp,
    pub domande_totali: i64,
    pub domande_valide: i64,
    pub domande_scartate: i64,
    pub domande_protocollate: i64,
    /// JSON text of a [`Finding`] (PostgreSQL: `file_finding::text`).
    pub file_finding: Option<String>,
    pub rule_set: Option<String>,
}

impl TryFrom<RichiestaRow> for Richiesta {
    type Error = StoreError;
    fn try_from(r: RichiestaRow) -> Result<Self, StoreError> {
        let file_finding = match r.file_finding {
            None => None,
            Some(json) => Some(
                serde_json::from_str::<Finding>(&json)
                    .map_err(|e| StoreError::Corrupt(format!("invalid file_finding of richiesta {}: {e}", r.numero)))?,
            ),
        };
        Ok(Richiesta {
            numero: r.numero,
            intermediario: r.intermediario,
            stato: parse(&r.stato, "stato")?,
            prevalidazione: r.prevalidazione,
            blob_key: r.blob_key,
            sha256: r.sha256,
            size_bytes: r.size_bytes,
            data_inserimento: r.data_inserimento,
            data_prevalidazione: r.data_prevalidazione,
            data_approvazione: r.data_approvazione,
            data_consegna: r.data_consegna,
            data_eliminazione: r.data_eliminazione,
            updated_at: r.updated_at,
            domande_totali: r.domande_totali,
            domande_valide: r.domande_valide,
            domande_scartate: r.domande_scartate,
            domande_protocollate: r.domande_protocollate,
            file_finding,
            rule_set: r.rule_set,
        })
    }
}

/// A row of the audit trail (issue 5), from `audit` or `transizioni`.
#[derive(sqlx::FromRow)]
pub(crate) struct AuditRow {
    pub at: Timestamp,
    pub actor: String,
    pub action: String,
    pub numero_richiesta: Option<i64>,
    pub detail: Option<String>,
}

impl TryFrom<AuditRow> for crate::AuditEntry {
    type Error = StoreError;
    fn try_from(r: AuditRow) -> Result<Self, StoreError> {
        Ok(crate::AuditEntry {
            at: r.at,
            actor: r.actor,
            action: r.action,
            numero_richiesta: r.numero_richiesta,
            detail: r.detail,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct TransizioneRow {
    pub numero_richiesta: i64,
    pub da: Option<String>,
    pub a: String,
    pub actor: String,
    pub at: Timestamp,
    pub nota: Option<String>,
}

impl TryFrom<TransizioneRow> for Transizione {
    type Error = StoreError;
    fn try_from(r: TransizioneRow) -> Result<Self, StoreError> {
        Ok(Transizione {
            numero_richiesta: r.numero_richiesta,
            da: r.da.as_deref().map(|s| parse(s, "stato")).transpose()?,
            a: parse(&r.a, "stato")?,
            actor: r.actor,
            at: r.at,
            nota: r.nota,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct DomandaRow {
    pub numero_richiesta: i64,
    pub progressivo: i64,
    pub matricola: Option<String>,
    pub codice_fiscale_azienda: Option<String>,
    pub denominazione: Option<String>,
    pub unita_produttiva: Option<String>,
    pub periodo_dal: Option<NaiveDate>,
    pub periodo_al: Option<NaiveDate>,
    pub esito: String,
    pub protocollo: Option<String>,
    pub data_protocollo: Option<Timestamp>,
}

impl TryFrom<DomandaRow> for DomandaRecord {
    type Error = StoreError;
    fn try_from(r: DomandaRow) -> Result<Self, StoreError> {
        Ok(DomandaRecord {
            numero_richiesta: r.numero_richiesta,
            progressivo: r.progressivo,
            matricola: r.matricola,
            codice_fiscale_azienda: r.codice_fiscale_azienda,
            denominazione: r.denominazione,
            unita_produttiva: r.unita_produttiva,
            periodo_dal: r.periodo_dal,
            periodo_al: r.periodo_al,
            esito: parse::<EsitoDomanda>(&r.esito, "esito")?,
            protocollo: r.protocollo,
            data_protocollo: r.data_protocollo,
            findings: Vec::new(),
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct FindingRow {
    pub progressivo: i64,
    pub code: String,
    pub layer: String,
    pub severity: String,
    pub message: String,
    pub xpath: Option<String>,
    pub line: Option<i64>,
    pub col: Option<i64>,
    pub value: Option<String>,
}

impl TryFrom<FindingRow> for (i64, Finding) {
    type Error = StoreError;
    fn try_from(r: FindingRow) -> Result<Self, StoreError> {
        Ok((
            r.progressivo,
            Finding {
                code: r.code,
                layer: parse::<Layer>(&r.layer, "layer")?,
                severity: parse::<Severity>(&r.severity, "severity")?,
                message: r.message,
                xpath: r.xpath,
                line: opt_u32(r.line, "line")?,
                column: opt_u32(r.col, "col")?,
                value: r.value,
            },
        ))
    }
}

/// Attaches findings (sorted by progressivo, then in display order) to their domande (sorted by
/// progressivo).
pub(crate) fn attach_findings(domande: &mut [DomandaRecord], findings: Vec<(i64, Finding)>) {
    let mut i = 0;
    for (progressivo, finding) in findings {
        while i < domande.len() && domande[i].progressivo < progressivo {
            i += 1;
        }
        if let Some(d) = domande.get_mut(i).filter(|d| d.progressivo == progressivo) {
            d.findings.push(finding);
        }
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct OutboxRow {
    pub id: i64,
    pub kind: String,
    pub numero_richiesta: i64,
    pub trace_context: Option<String>,
    pub created_at: Timestamp,
    pub attempts: i32,
}

impl TryFrom<OutboxRow> for OutboxMessage {
    type Error = StoreError;
    fn try_from(r: OutboxRow) -> Result<Self, StoreError> {
        Ok(OutboxMessage {
            id: r.id,
            kind: parse::<JobKind>(&r.kind, "outbox kind")?,
            numero_richiesta: r.numero_richiesta,
            trace_context: r.trace_context,
            created_at: r.created_at,
            attempts: r.attempts,
        })
    }
}

/// A domanda still to be sent, as `complete_invio` re-checks it against the archive (the keys
/// and what `save_esito` kept of `DatiArchivio`; NULL for domande saved before migration 0004).
#[derive(sqlx::FromRow)]
pub(crate) struct InvioRow {
    progressivo: i64,
    matricola: Option<String>,
    unita_produttiva: Option<String>,
    periodo_dal: Option<NaiveDate>,
    periodo_al: Option<NaiveDate>,
    ore_cig_centesimi: Option<i64>,
    evento_non_evitabile: Option<bool>,
    ore_lavorabili_centesimi: Option<i64>,
    mesi_quinquennio: Option<i32>,
}

/// The columns of [`InvioRow`], for `SELECT … FROM domande`.
pub(crate) const INVIO_COLS: &str = "progressivo, matricola, unita_produttiva, periodo_dal, periodo_al, \
     ore_cig_centesimi, evento_non_evitabile, ore_lavorabili_centesimi, mesi_quinquennio";

/// The findings of the re-validation at sending as rows for `insert_findings`: phase INVIO,
/// numbered per domanda.
pub(crate) fn findings_invio<'a>(found: &[(i64, &'a Finding)]) -> Vec<(i64, &'static str, i32, &'a Finding)> {
    let mut seq = 0;
    let mut last = None;
    found
        .iter()
        .map(|&(p, f)| {
            seq = if last == Some(p) { seq + 1 } else { 0 };
            last = Some(p);
            (p, FASE_INVIO, seq, f)
        })
        .collect()
}

impl InvioRow {
    pub(crate) fn into_domanda(self) -> DomandaEsito {
        DomandaEsito {
            progressivo: u32::try_from(self.progressivo).unwrap_or(u32::MAX),
            matricola: self.matricola,
            codice_fiscale_azienda: None,
            denominazione: None,
            unita_produttiva: self.unita_produttiva,
            periodo_dal: self.periodo_dal,
            periodo_al: self.periodo_al,
            esito: EsitoDomanda::Valida,
            findings: Vec::new(),
            archivio: Some(DatiArchivio {
                ore_cig: Ore(self.ore_cig_centesimi.unwrap_or(0)),
                evento_non_evitabile: self.evento_non_evitabile.unwrap_or(false),
                mesi_quinquennio: self.mesi_quinquennio.map_or(24, |m| m.max(0) as u32),
                ore_lavorabili_settimanali: Ore(self.ore_lavorabili_centesimi.unwrap_or(0)),
                lavoratori: Vec::new(),
            }),
        }
    }
}

/// Converts rows, stopping at the first that does not decode.
pub(crate) fn convert<R, T>(rows: Vec<R>) -> Result<Vec<T>, StoreError>
where
    T: TryFrom<R, Error = StoreError>,
{
    rows.into_iter().map(T::try_from).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_substring("a%b_c\\d"), "%a\\%b\\_c\\\\d%");
    }

    #[test]
    fn sqlite_timestamps_are_fixed_width() {
        let t = DateTime::from_timestamp_micros(1_767_225_600_000_000).unwrap();
        assert_eq!(sqlite_ts(t), "2026-01-01T00:00:00.000000+00:00");
        let t2 = DateTime::from_timestamp_micros(1_767_225_600_000_001).unwrap();
        assert!(sqlite_ts(t) < sqlite_ts(t2));
    }

    #[test]
    fn protocol_numbers_are_padded() {
        assert_eq!(protocollo(2026, 42), "CIGO-2026-0000042");
    }

    #[test]
    fn paging_reads_zero_as_one() {
        let p = paging(0, 0);
        assert_eq!((p.page, p.page_size, p.limit, p.offset), (1, 1, 1, 0));
        let p = paging(3, 20);
        assert_eq!((p.limit, p.offset), (20, 40));
    }
}

/// A row of `Store::archivio_periodi` (both backends: a domanda protocollata or an imported
/// authorisation; hours and causale are unknown, so 0 and false, for domande saved before 0004).
#[derive(sqlx::FromRow)]
pub(crate) struct PeriodoRow {
    matricola: String,
    unita_produttiva: String,
    protocollo: String,
    periodo_dal: NaiveDate,
    periodo_al: NaiveDate,
    ore_cig_centesimi: Option<i64>,
    evento_non_evitabile: Option<bool>,
}

impl PeriodoRow {
    pub(crate) fn into_periodo(self) -> PeriodoArchivio {
        PeriodoArchivio {
            matricola: self.matricola,
            unita_produttiva: self.unita_produttiva,
            riferimento: self.protocollo,
            dal: self.periodo_dal,
            al: self.periodo_al,
            ore: Ore(self.ore_cig_centesimi.unwrap_or(0)),
            evento_non_evitabile: self.evento_non_evitabile.unwrap_or(false),
        }
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct RapportoRow {
    matricola: String,
    codice_fiscale: String,
    assunto_dal: NaiveDate,
    cessato_al: Option<NaiveDate>,
}

impl RapportoRow {
    pub(crate) fn into_rapporto(self) -> RapportoLavoro {
        RapportoLavoro {
            matricola: self.matricola,
            codice_fiscale: self.codice_fiscale,
            assunto_dal: self.assunto_dal,
            cessato_al: self.cessato_al,
        }
    }
}
