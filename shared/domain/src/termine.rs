//! The filing deadline (D.Lgs. 148/2015 art. 15 c. 2): 15 days from the start of the suspension,
//! or, for an evento oggettivamente non evitabile, the end of the month after the one of the
//! event (second period of c. 2, added by D.Lgs. 185/2016 art. 2 c. 1 lett. a). A late domanda is
//! paid only from the week before filing (c. 3; the form reads it as the start of the week that
//! precedes the one of filing), so a period that ends before then is not payable at all.
//!
//! Judged at prevalidation (`validate`) and again at sending (`archivio::rivalida_invio`), at the
//! filing date the caller gives: the crate has no clock.

use crate::model::*;
use crate::rules::{self, RuleInfo};
use chrono::{Datelike, Days, NaiveDate};

fn fmt(d: NaiveDate) -> String {
    d.format("%d/%m/%Y").to_string()
}

/// A domanda filed after its deadline: from when it is paid, and whether anything is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tardiva {
    pub presentazione: NaiveDate,
    pub termine: NaiveDate,
    /// The first day paid (art. 15 c. 3), never before the start of the period.
    pub decorrenza: NaiveDate,
    pub al: NaiveDate,
}

impl Tardiva {
    /// `None` when a domanda for `dal..=al` with deadline `termine`, filed on `pres`, is in time.
    pub fn di(pres: NaiveDate, termine: NaiveDate, dal: NaiveDate, al: NaiveDate) -> Option<Tardiva> {
        let decorrenza = decorrenza_tardiva(pres, termine)?;
        Some(Tardiva { presentazione: pres, termine, decorrenza: decorrenza.max(dal), al })
    }

    /// Nothing of the period can be paid: it ends before the decorrenza.
    pub fn intera(&self) -> bool {
        self.decorrenza > self.al
    }

    /// COE-057 (nothing paid, an ERRORE) or COE-055 (paid from the decorrenza, an AVVISO).
    pub fn rule(&self) -> &'static RuleInfo {
        if self.intera() {
            &rules::COE_TARDIVA_INTERA
        } else {
            &rules::COE_TERMINE
        }
    }

    /// The element the finding points at: the end of the period when nothing is paid.
    pub fn elemento(&self) -> &'static str {
        if self.intera() {
            "QuadroC/PeriodoAl"
        } else {
            "QuadroC/PeriodoDal"
        }
    }

    pub fn message(&self) -> String {
        if self.intera() {
            format!(
                "La domanda è presentata il {}, oltre il termine del {}: l'integrazione spetta solo dal {} (inizio della settimana precedente quella di presentazione), dopo la fine del periodo ({}). Nessuna parte del periodo è integrabile.",
                fmt(self.presentazione),
                fmt(self.termine),
                fmt(self.decorrenza),
                fmt(self.al)
            )
        } else {
            format!(
                "La domanda è presentata il {}, oltre il termine del {}: l'integrazione spetta solo dal {} (inizio della settimana precedente quella di presentazione).",
                fmt(self.presentazione),
                fmt(self.termine),
                fmt(self.decorrenza)
            )
        }
    }
}

/// The last day the domanda can be filed on: 15 days from the start of the suspension, or the end
/// of the month after the event (the date of the event in the relazione tecnica, else the start
/// of the suspension) for an evento oggettivamente non evitabile.
pub fn termine_presentazione(d: &Domanda) -> NaiveDate {
    let p = &d.periodo;
    if p.causale.oggettivamente_non_evitabile() {
        let evento = d
            .relazione
            .as_ref()
            .and_then(|r| r.data_evento)
            .unwrap_or(p.dal);
        fine_mese_successivo(evento)
    } else {
        p.dal + Days::new(15)
    }
}

/// For a domanda filed on `pres` after its deadline `termine`, the first day that can be paid:
/// the Monday of the week before the week of filing. `None` when filed in time.
pub fn decorrenza_tardiva(pres: NaiveDate, termine: NaiveDate) -> Option<NaiveDate> {
    (pres > termine).then(|| pres - Days::new(u64::from(pres.weekday().num_days_from_monday())) - Days::new(7))
}

fn fine_mese_successivo(d: NaiveDate) -> NaiveDate {
    let (y, m) = if d.month() >= 11 { (d.year() + 1, d.month() - 10) } else { (d.year(), d.month() + 2) };
    NaiveDate::from_ymd_opt(y, m, 1)
        .and_then(|x| x.pred_opt())
        .unwrap_or(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn the_deadline_of_an_evento_non_evitabile_runs_from_the_event() {
        let mut dom = crate::generate::domanda_valida(3, 1);
        dom.periodo.dal = d("2026-03-02");
        dom.periodo.causale = Causale::MancanzaLavoro;
        assert_eq!(termine_presentazione(&dom), d("2026-03-17"));
        dom.periodo.causale = Causale::EventiMeteo;
        dom.relazione = None;
        assert_eq!(termine_presentazione(&dom), d("2026-04-30"));
        let mut rel = crate::generate::domanda_valida(3, 1)
            .relazione
            .unwrap_or_else(|| RelazioneTecnica {
                descrizione: "Grandinata".into(),
                ..serde_json::from_str("{\"Descrizione\":\"x\"}").unwrap()
            });
        rel.data_evento = Some(d("2026-02-27"));
        dom.relazione = Some(rel);
        assert_eq!(termine_presentazione(&dom), d("2026-03-31"));
    }

    #[test]
    fn end_of_the_month_after() {
        assert_eq!(fine_mese_successivo(d("2026-01-31")), d("2026-02-28"));
        assert_eq!(fine_mese_successivo(d("2026-11-03")), d("2026-12-31"));
        assert_eq!(fine_mese_successivo(d("2026-12-15")), d("2027-01-31"));
        assert_eq!(fine_mese_successivo(d("2027-12-01")), d("2028-01-31"));
        assert_eq!(fine_mese_successivo(d("2028-01-10")), d("2028-02-29"));
    }

    #[test]
    fn late_filing_is_a_notice_until_nothing_can_be_paid() {
        // Period 2026-02-02..2026-02-13, deadline 2026-02-17.
        let (dal, al, termine) = (d("2026-02-02"), d("2026-02-13"), d("2026-02-17"));
        assert_eq!(Tardiva::di(d("2026-02-17"), termine, dal, al), None);
        let t = Tardiva::di(d("2026-02-18"), termine, dal, al).unwrap();
        assert_eq!((t.decorrenza, t.rule().code), (d("2026-02-09"), "COE-055"));
        let t = Tardiva::di(d("2026-02-25"), termine, dal, al).unwrap();
        assert_eq!((t.decorrenza, t.rule().code), (d("2026-02-16"), "COE-057"));
        assert!(t.message().contains("Nessuna parte"), "{}", t.message());
        // Filed long after: the decorrenza never precedes the period.
        let t = Tardiva::di(d("2026-02-18"), termine, d("2026-02-12"), d("2026-02-20")).unwrap();
        assert_eq!(t.decorrenza, d("2026-02-12"));
    }

    #[test]
    fn late_filing_pays_from_the_monday_of_the_week_before() {
        // Filed on Thursday 2026-02-26, deadline 2026-02-17: from Monday 2026-02-16.
        assert_eq!(decorrenza_tardiva(d("2026-02-26"), d("2026-02-17")), Some(d("2026-02-16")));
        // Filed on a Monday: the Monday a week before.
        assert_eq!(decorrenza_tardiva(d("2026-02-23"), d("2026-02-17")), Some(d("2026-02-16")));
        // On the deadline itself: in time.
        assert_eq!(decorrenza_tardiva(d("2026-02-17"), d("2026-02-17")), None);
    }
}
