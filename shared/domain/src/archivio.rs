//! Rules checked against the archive (what the database already holds). The store runs the
//! queries; the rule itself (what overlaps, what the finding says) lives here.

use crate::finding::{Finding, Layer, Severity};
use chrono::NaiveDate;

/// Code of the finding given at sending time to a domanda whose unità produttiva already has a
/// domanda protocollata for an overlapping period.
pub const ARC_PERIODO_SOVRAPPOSTO: &str = "ARC-001";

/// Two closed periods `[dal, al]` share at least one day.
pub fn periodi_sovrapposti(a_dal: NaiveDate, a_al: NaiveDate, b_dal: NaiveDate, b_al: NaiveDate) -> bool {
    a_dal <= b_al && b_dal <= a_al
}

/// The finding for [`ARC_PERIODO_SOVRAPPOSTO`]; `protocollo` is the protocol number of the domanda
/// already in the archive.
pub fn periodo_sovrapposto(protocollo: &str, dal: NaiveDate, al: NaiveDate) -> Finding {
    Finding {
        code: ARC_PERIODO_SOVRAPPOSTO.to_string(),
        layer: Layer::Archivio,
        severity: Severity::Errore,
        message: format!(
            "Per la stessa unità produttiva risulta già protocollata la domanda {protocollo} per il periodo dal {} al {}, che si sovrappone a questo: presentare una domanda per un periodo diverso.",
            dal.format("%d/%m/%Y"),
            al.format("%d/%m/%Y")
        ),
        xpath: None,
        line: None,
        column: None,
        value: Some(protocollo.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn overlap_is_closed_on_both_ends() {
        assert!(periodi_sovrapposti(d("2026-01-05"), d("2026-01-11"), d("2026-01-11"), d("2026-01-18")));
        assert!(!periodi_sovrapposti(d("2026-01-05"), d("2026-01-11"), d("2026-01-12"), d("2026-01-18")));
        assert!(periodi_sovrapposti(d("2026-01-01"), d("2026-03-31"), d("2026-02-01"), d("2026-02-02")));
    }
}
