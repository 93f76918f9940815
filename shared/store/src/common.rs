//! What the two implementations share: the clock, paging, LIKE escaping, the rows of findings,
//! and the questions both ask the domain.
//!
//! ## Timestamps
//!
//! Every timestamp is taken from the application clock, [`now`] (`Utc::now()` truncated to the
//! microsecond), never from the database clock: SQLite has no microsecond clock of its own, and
//! one choice for both backends keeps their behaviour identical. Timestamps handed in by callers
//! (`expires_at`, the `at` of `complete_invio`) are truncated the same way, so that whatever is
//! written compares equal to what is read back. PostgreSQL stores `TIMESTAMPTZ` (microseconds);
//! SQLite stores TEXT in the fixed format of [`sqlite_ts`], which sorts chronologically as text.

use crate::{DomandaRecord, StoreError};
use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use cigo_domain::piano::{self, FattiEsito, FattiInvio, PianoEsito, PianoInvio};
use cigo_domain::{EsitoPrevalidazione, Finding, Layer, Severity, StatoRichiesta};
use std::time::Duration;

pub(crate) type Timestamp = DateTime<Utc>;

/// Rows per multi-row INSERT. Domande take 13 binds a row, findings 12, the imports and deleghe
/// fewer: 1,000 rows stay far below both SQLite's 32,766 and PostgreSQL's 65,535 bind parameters
/// per statement.
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

/// Errors of sqlx that say a row does not decode become [`StoreError::Corrupt`].
pub(crate) fn db_err(e: sqlx::Error) -> StoreError {
    match e {
        sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_) => StoreError::Corrupt(e.to_string()),
        other => other.into(),
    }
}

pub(crate) fn i64_of(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// A finding as `list_domande` reads it, with the progressivo of its domanda: `(progressivo,
/// code, layer, severity, message, xpath, line, col, value)`.
pub(crate) type FindingColumns =
    (i64, String, Layer, Severity, String, Option<String>, Option<i64>, Option<i64>, Option<String>);

/// The [`Finding`] of a row read by `list_domande`.
pub(crate) fn finding_of(row: FindingColumns) -> Result<(i64, Finding), StoreError> {
    let (progressivo, code, layer, severity, message, xpath, line, col, value) = row;
    let pos = |v: Option<i64>, what: &str| {
        v.map(|v| u32::try_from(v).map_err(|_| StoreError::Corrupt(format!("invalid {what}: {v}"))))
            .transpose()
    };
    Ok((
        progressivo,
        Finding { code, layer, severity, message, xpath, line: pos(line, "line")?, column: pos(col, "col")?, value },
    ))
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

/// A finding to insert: `(progressivo, fase, seq, finding)`.
pub(crate) type FindingInsert<'a> = (i64, &'static str, i32, &'a Finding);

/// The findings of an esito as rows for `insert_findings`: phase PREVALIDAZIONE, numbered per domanda.
pub(crate) fn findings_prevalidazione(esito: &EsitoPrevalidazione) -> Vec<FindingInsert<'_>> {
    esito
        .domande
        .iter()
        .flat_map(|d| {
            d.findings.iter().enumerate().map(move |(seq, f)| {
                (i64::from(d.progressivo), FASE_PREVALIDAZIONE, i32::try_from(seq).unwrap_or(i32::MAX), f)
            })
        })
        .collect()
}

/// The findings of a sending as rows for `insert_findings`, phase INVIO, numbered per domanda:
/// why each rejected domanda was rejected, and the warnings of the protocollate ones.
pub(crate) fn findings_invio(piano: &PianoInvio) -> Vec<FindingInsert<'_>> {
    let scartate = piano.scartate.iter().map(|s| (s.progressivo, &s.findings));
    let protocollate = piano
        .protocollate
        .iter()
        .map(|p| (p.progressivo, &p.avvisi));
    scartate
        .chain(protocollate)
        .flat_map(|(progressivo, findings)| {
            findings
                .iter()
                .enumerate()
                .map(move |(seq, f)| (progressivo, FASE_INVIO, i32::try_from(seq).unwrap_or(i32::MAX), f))
        })
        .collect()
}

/// The plan of an esito for the richiesta `stato` (`StateConflict` when it allows none).
pub(crate) fn piano_esito(
    stato: StatoRichiesta,
    esito: &EsitoPrevalidazione,
    auto_approve: bool,
) -> Result<PianoEsito, StoreError> {
    piano::piano_esito(&FattiEsito::di(stato, esito, auto_approve))
        .map_err(|e| StoreError::StateConflict { current: e.from })
}

/// The plan of a sending (`StateConflict` when the richiesta is not in sending).
pub(crate) fn piano_invio(fatti: FattiInvio) -> Result<PianoInvio, StoreError> {
    piano::piano_invio(fatti).map_err(|e| StoreError::StateConflict { current: e.from })
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
    fn paging_reads_zero_as_one() {
        let p = paging(0, 0);
        assert_eq!((p.page, p.page_size, p.limit, p.offset), (1, 1, 1, 0));
        let p = paging(3, 20);
        assert_eq!((p.limit, p.offset), (20, 40));
    }
}
