//! What the store writes when a prevalidation or a sending ends, decided here from the facts it
//! loaded: the store locks, loads, asks these functions and writes the plan they return, in one
//! transaction. Every state a plan passes through comes from [`StatoRichiesta::apply`].

use crate::archivio::{rivalida_invio, DomandaInvio, LavoratoreArchivio, PeriodoArchivio};
use crate::esito::{DomandaEsito, EsitoPrevalidazione};
use crate::finding::Finding;
use crate::job::JobKind;
use crate::stato::{Event, StatoRichiesta, TransitionError};
use chrono::NaiveDate;

/// One change of state of a richiesta: the store's compare-and-set from `da` to `a`, recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Passo {
    pub da: StatoRichiesta,
    pub a: StatoRichiesta,
}

impl Passo {
    /// The step `event` takes from `da`, if the state machine allows it.
    pub fn di(da: StatoRichiesta, event: Event) -> Result<Passo, TransitionError> {
        Ok(Passo { da, a: da.apply(event)? })
    }
}

/// The state a new richiesta starts in (the upload, before any work).
pub const STATO_INIZIALE: StatoRichiesta = StatoRichiesta::Ricevuta;

/// What is known when the esito of a prevalidation is ready.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FattiEsito {
    /// The state the richiesta is in (`IN_ELABORAZIONE` when all is well).
    pub stato: StatoRichiesta,
    /// At least one domanda can be sent and the file as a whole was not rejected
    /// ([`crate::EsitoPrevalidazione::stato_finale`] is `PREVALIDATA`).
    pub inviabile: bool,
    /// Direct mode: the richiesta was uploaded without the approval step (`prevalidazione =
    /// false`), so a richiesta that can be sent is approved at once.
    pub approvazione_automatica: bool,
}

impl FattiEsito {
    /// The facts of `esito` for a richiesta in `stato`.
    pub fn di(stato: StatoRichiesta, esito: &EsitoPrevalidazione, approvazione_automatica: bool) -> FattiEsito {
        FattiEsito { stato, inviabile: esito.stato_finale() == StatoRichiesta::Prevalidata, approvazione_automatica }
    }
}

/// What the store writes with an esito: the steps in order (the first is the compare-and-set
/// that guards the whole transaction), and the job that follows, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PianoEsito {
    pub passi: Vec<Passo>,
    pub accoda: Option<JobKind>,
}

impl PianoEsito {
    /// The state the richiesta ends in.
    pub fn finale(&self) -> StatoRichiesta {
        self.passi
            .last()
            .map_or(StatoRichiesta::InElaborazione, |p| p.a)
    }
}

/// The plan of an esito: `PREVALIDATA` or `SCARTATA`; in direct mode a `PREVALIDATA` richiesta
/// goes on to `APPROVATA` and its sending is queued. An error when `fatti.stato` does not allow
/// an esito (the store answers it with the current state).
pub fn piano_esito(fatti: &FattiEsito) -> Result<PianoEsito, TransitionError> {
    let evento = if fatti.inviabile { Event::Prevalidated } else { Event::Rejected };
    let mut passi = vec![Passo::di(fatti.stato, evento)?];
    let mut accoda = None;
    if fatti.approvazione_automatica && fatti.inviabile {
        passi.push(Passo::di(passi[0].a, Event::Approve)?);
        accoda = Some(JobKind::Invio);
    }
    Ok(PianoEsito { passi, accoda })
}

/// What is known inside the sending transaction, after the protocol counter of the year is locked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FattiInvio {
    /// The state the richiesta is in (`IN_INVIO` when all is well).
    pub stato: StatoRichiesta,
    /// The year of the sending (of its protocol numbers).
    pub anno: i32,
    /// The last protocol number given in `anno` (0: none yet).
    pub ultimo_protocollo: i64,
    /// The domande still to be sent (`VALIDA` or `VALIDA_CON_AVVISI`), in file order.
    pub domande: Vec<DomandaInvio>,
    /// What the archive holds now for their keys (`archivio::ChiaviArchivio::invio`).
    pub periodi: Vec<PeriodoArchivio>,
    /// The workers of domande protocollate now that are also in these domande.
    pub lavoratori: Vec<LavoratoreArchivio>,
    /// The legal filing date: the day (Europe/Rome) of the attestato di trasmissione.
    pub data_presentazione: NaiveDate,
}

/// A domanda protocollata by a sending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Protocollazione {
    pub progressivo: i64,
    /// `CIGO-YYYY-NNNNNNN`, see [`protocollo`].
    pub protocollo: String,
    /// Warnings found at sending (a domanda late at its filing date is paid from a later day).
    pub avvisi: Vec<Finding>,
}

/// A domanda rejected at sending, with the findings that say why (phase INVIO).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScartoInvio {
    pub progressivo: i64,
    pub findings: Vec<Finding>,
}

/// What the store writes at the end of a sending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PianoInvio {
    /// In progressivo order, with consecutive protocol numbers after `ultimo_protocollo`.
    pub protocollate: Vec<Protocollazione>,
    pub scartate: Vec<ScartoInvio>,
    /// The new value of the protocol counter of the year.
    pub ultimo_protocollo: i64,
    /// `IN_INVIO` to `CONSEGNATA` (at least one protocollata) or `SCARTATA_IN_INVIO`.
    pub passo: Passo,
}

/// The plan of a sending: each domanda still to be sent is judged again by the archive rules
/// against what the archive holds now (ARC-001..004, ARC-008..010) and by the filing deadline at the filing
/// date (COE-055, COE-057), see [`rivalida_invio`]; the rejected ones become `SCARTATA_IN_INVIO`,
/// the others get the next protocol numbers of the year in file order, with the warnings found
/// now. An error when `fatti.stato` does not allow the end of a sending.
pub fn piano_invio(fatti: FattiInvio) -> Result<PianoInvio, TransitionError> {
    // Checked first: a richiesta not in sending gets no plan at all.
    Passo::di(fatti.stato, Event::Delivered)?;
    let mut nuovi = rivalida_invio(&fatti.domande, fatti.periodi, fatti.lavoratori, fatti.data_presentazione);
    let mut scartate = Vec::new();
    let mut protocollate = Vec::new();
    let mut ultimo = fatti.ultimo_protocollo;
    for d in &fatti.domande {
        let findings = nuovi
            .iter()
            .position(|(p, _)| *p == d.progressivo())
            .map(|i| nuovi.swap_remove(i).1)
            .unwrap_or_default();
        if DomandaEsito::esito_from(&findings).is_sendable() {
            ultimo += 1;
            protocollate.push(Protocollazione {
                progressivo: d.progressivo,
                protocollo: protocollo(fatti.anno, ultimo),
                avvisi: findings,
            });
        } else {
            scartate.push(ScartoInvio { progressivo: d.progressivo, findings });
        }
    }
    let evento = if protocollate.is_empty() { Event::RejectedInSending } else { Event::Delivered };
    Ok(PianoInvio { protocollate, scartate, ultimo_protocollo: ultimo, passo: Passo::di(fatti.stato, evento)? })
}

/// The protocol number `n` of year `anno`: `CIGO-2026-0000042`.
pub fn protocollo(anno: i32, n: i64) -> String {
    format!("CIGO-{anno}-{n:07}")
}

/// The job that moves a richiesta on from a state in progress: what the SLA reaper re-queues
/// when it has been stuck there too long (`None` for states that wait for a person, or final).
pub fn lavoro_in_corso(stato: StatoRichiesta) -> Option<JobKind> {
    match stato {
        StatoRichiesta::Ricevuta | StatoRichiesta::InElaborazione => Some(JobKind::Prevalidazione),
        StatoRichiesta::Approvata | StatoRichiesta::InInvio => Some(JobKind::Invio),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stato::StatoRichiesta as S;
    use chrono::NaiveDate;

    fn fatti_esito(inviabile: bool, approvazione_automatica: bool) -> FattiEsito {
        FattiEsito { stato: S::InElaborazione, inviabile, approvazione_automatica }
    }

    #[test]
    fn an_esito_is_prevalidata_or_scartata() {
        let p = piano_esito(&fatti_esito(true, false)).unwrap();
        assert_eq!(p.passi, [Passo { da: S::InElaborazione, a: S::Prevalidata }]);
        assert_eq!((p.finale(), p.accoda), (S::Prevalidata, None));
        let p = piano_esito(&fatti_esito(false, true)).unwrap();
        assert_eq!((p.finale(), p.accoda), (S::Scartata, None), "a rejected richiesta is never approved");
    }

    #[test]
    fn direct_mode_approves_and_queues_the_sending() {
        let p = piano_esito(&fatti_esito(true, true)).unwrap();
        assert_eq!(
            p.passi,
            [Passo { da: S::InElaborazione, a: S::Prevalidata }, Passo { da: S::Prevalidata, a: S::Approvata }]
        );
        assert_eq!(p.accoda, Some(JobKind::Invio));
    }

    #[test]
    fn an_esito_needs_a_richiesta_in_elaborazione() {
        let e = piano_esito(&FattiEsito { stato: S::Prevalidata, ..fatti_esito(true, false) }).unwrap_err();
        assert_eq!(e.from, S::Prevalidata);
    }

    fn domanda(progressivo: i64, dal: &str, al: &str) -> DomandaInvio {
        DomandaInvio {
            progressivo,
            matricola: Some("1234567890".into()),
            unita_produttiva: Some("U".into()),
            periodo_dal: Some(dal.parse().unwrap()),
            periodo_al: Some(al.parse().unwrap()),
            ore_cig_centesimi: None,
            evento_non_evitabile: None,
            ore_lavorabili_centesimi: None,
            mesi_quinquennio: None,
            termine_presentazione: None,
            lavoratori: vec![],
        }
    }

    fn il(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn periodo(dal: &str, al: &str) -> PeriodoArchivio {
        PeriodoArchivio {
            matricola: "1234567890".into(),
            unita_produttiva: "U".into(),
            riferimento: "CIGO-2026-0000001".into(),
            dal: dal.parse::<NaiveDate>().unwrap(),
            al: al.parse::<NaiveDate>().unwrap(),
            ore: crate::model::Ore(0),
            evento_non_evitabile: false,
        }
    }

    #[test]
    fn a_sending_numbers_the_domande_that_pass_in_file_order() {
        let fatti = FattiInvio {
            stato: S::InInvio,
            anno: 2026,
            ultimo_protocollo: 41,
            domande: vec![
                domanda(1, "2026-03-02", "2026-03-08"),
                domanda(2, "2026-05-04", "2026-05-10"),
                domanda(3, "2026-06-01", "2026-06-07"),
            ],
            periodi: vec![periodo("2026-05-01", "2026-05-31")],
            lavoratori: vec![],
            data_presentazione: il("2026-02-20"),
        };
        let p = piano_invio(fatti).unwrap();
        assert_eq!(
            p.protocollate,
            [
                Protocollazione { progressivo: 1, protocollo: "CIGO-2026-0000042".into(), avvisi: vec![] },
                Protocollazione { progressivo: 3, protocollo: "CIGO-2026-0000043".into(), avvisi: vec![] },
            ]
        );
        assert_eq!(p.scartate.len(), 1);
        assert_eq!(p.scartate[0].progressivo, 2);
        assert_eq!(p.scartate[0].findings[0].code, "ARC-001");
        assert_eq!((p.ultimo_protocollo, p.passo), (43, Passo { da: S::InInvio, a: S::Consegnata }));
    }

    #[test]
    fn a_sending_with_nothing_left_is_scartata_in_invio() {
        let fatti = FattiInvio {
            stato: S::InInvio,
            anno: 2026,
            ultimo_protocollo: 7,
            domande: vec![domanda(1, "2026-05-04", "2026-05-10")],
            periodi: vec![periodo("2026-05-01", "2026-05-31")],
            lavoratori: vec![],
            data_presentazione: il("2026-04-20"),
        };
        let p = piano_invio(fatti).unwrap();
        assert!(p.protocollate.is_empty());
        assert_eq!((p.ultimo_protocollo, p.passo.a), (7, S::ScartataInInvio));
        let vuota = FattiInvio { domande: vec![], periodi: vec![], ..piano_fatti_in(S::InInvio) };
        assert_eq!(piano_invio(vuota).unwrap().passo.a, S::ScartataInInvio);
    }

    fn piano_fatti_in(stato: StatoRichiesta) -> FattiInvio {
        FattiInvio {
            stato,
            anno: 2026,
            ultimo_protocollo: 0,
            domande: vec![domanda(1, "2026-03-02", "2026-03-08")],
            periodi: vec![],
            lavoratori: vec![],
            data_presentazione: il("2026-02-20"),
        }
    }

    #[test]
    fn a_worker_protocollato_meanwhile_at_another_unit_rejects_the_domanda_in_sending() {
        // Prevalidated while the other domanda was not yet sent: at sending, the same worker of
        // the same matricola is in CIG at another unit for an overlapping period (ARC-008); at
        // another matricola it is a notice (ARC-009) and the domanda goes.
        let cf = "RSSMRA80A01H501U";
        let lavoratore = crate::esito::LavoratoreDomanda {
            codice_fiscale: cf.into(),
            data_assunzione: None,
            posizione: 2,
            line: 0,
            column: 0,
        };
        let altrove = |matricola: &str| crate::archivio::LavoratoreArchivio {
            codice_fiscale: cf.into(),
            matricola: matricola.into(),
            unita_produttiva: "ALTRA".into(),
            riferimento: "CIGO-2026-0000009".into(),
            dal: il("2026-03-01"),
            al: il("2026-03-31"),
        };
        let fatti = |matricola: &str| FattiInvio {
            domande: vec![DomandaInvio {
                lavoratori: vec![lavoratore.clone()],
                ..domanda(1, "2026-03-02", "2026-03-08")
            }],
            lavoratori: vec![altrove(matricola)],
            ..piano_fatti_in(S::InInvio)
        };
        let p = piano_invio(fatti("1234567890")).unwrap();
        assert!(p.protocollate.is_empty());
        let f = &p.scartate[0].findings[0];
        assert_eq!((f.code.as_str(), f.value.as_deref()), ("ARC-008", Some("CIGO-2026-0000009")));
        assert_eq!(f.xpath.as_deref(), Some("/RichiestaCIGO/Domanda[1]/Lavoratori/Lavoratore[2]/CodiceFiscale"));
        assert_eq!(f.line, None);
        let p = piano_invio(fatti("9999999999")).unwrap();
        assert_eq!(p.protocollate[0].avvisi[0].code, "ARC-009");
    }

    #[test]
    fn the_deadline_is_judged_again_at_the_filing_date_of_the_sending() {
        // Deadline 2026-03-17 for 2026-03-02..2026-03-22: in time on the 17th; approved on the
        // 25th it is paid from Monday the 16th (a notice on a protocollata domanda); approved in
        // April nothing of the period can be paid (rejected in sending).
        let fatti = |pres: &str| FattiInvio {
            domande: vec![DomandaInvio {
                periodo_al: Some(il("2026-03-22")),
                termine_presentazione: Some(il("2026-03-17")),
                ..domanda(1, "2026-03-02", "2026-03-08")
            }],
            data_presentazione: il(pres),
            ..piano_fatti_in(S::InInvio)
        };
        let p = piano_invio(fatti("2026-03-17")).unwrap();
        assert_eq!((p.protocollate.len(), p.protocollate[0].avvisi.len()), (1, 0));
        let p = piano_invio(fatti("2026-03-25")).unwrap();
        assert_eq!(p.protocollate[0].avvisi[0].code, "COE-055");
        assert!(p.protocollate[0].avvisi[0].message.contains("16/03/2026"), "{:?}", p.protocollate[0].avvisi);
        let p = piano_invio(fatti("2026-04-08")).unwrap();
        assert!(p.protocollate.is_empty());
        assert_eq!(p.scartate[0].findings[0].code, "COE-057");
        assert_eq!(p.passo.a, S::ScartataInInvio);
    }

    #[test]
    fn a_sending_needs_a_richiesta_in_invio() {
        assert_eq!(piano_invio(piano_fatti_in(S::Approvata)).unwrap_err().from, S::Approvata);
        assert_eq!(piano_invio(piano_fatti_in(S::Consegnata)).unwrap_err().from, S::Consegnata);
    }

    #[test]
    fn protocol_numbers_are_padded() {
        assert_eq!(protocollo(2026, 42), "CIGO-2026-0000042");
    }

    #[test]
    fn the_reaper_requeues_the_job_of_a_state_in_progress() {
        assert_eq!(lavoro_in_corso(S::Ricevuta), Some(JobKind::Prevalidazione));
        assert_eq!(lavoro_in_corso(S::InInvio), Some(JobKind::Invio));
        assert_eq!(lavoro_in_corso(S::Prevalidata), None);
        assert_eq!(lavoro_in_corso(S::Consegnata), None);
    }
}
