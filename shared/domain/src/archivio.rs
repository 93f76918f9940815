//! Layer 5: the rules checked against the archive, what the database already holds about a
//! unità produttiva and its workers. The store loads the data ([`Archivio`]); the rules
//! themselves (which limit, which window, what the finding says) live here, pure, so that the
//! worker, the sender and `cigo validate --database-url` judge alike.
//!
//! The archive holds two kinds of record:
//! - [`PeriodoArchivio`]: a period of CIG of a unità produttiva: a domanda this service has
//!   protocollata, or an authorisation imported from earlier records (`cigo archivio import`);
//! - [`RapportoLavoro`]: an employment relation of a worker with a matricola (imported);
//! - [`LavoratoreArchivio`]: a worker of a domanda protocollata, for one CIG per worker at a time.
//!
//! The windows are counted backwards from the last day of the domanda's period:
//! - biennio mobile: the two years ending on `PeriodoAl` (52 weeks; one third of the workable hours);
//! - quinquennio mobile: the five years ending on `PeriodoAl` (24 months, 30 for construction and stone).

use crate::esito::{DomandaEsito, EsitoPrevalidazione};
use crate::finding::Finding;
use crate::model::{settimane_tra, Ore, Settore};
use crate::rules::{self, RuleInfo};
use crate::termine::Tardiva;
use chrono::{Months, NaiveDate};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt::Write as _;

/// Code of the finding given to a domanda whose unità produttiva already has a domanda
/// protocollata (or an authorisation) for an overlapping period.
pub const ARC_PERIODO_SOVRAPPOSTO: &str = "ARC-001";

/// Weeks of CIG allowed in the biennio mobile per unità produttiva (D.Lgs. 148/2015 art. 12 c. 1).
pub const SETTIMANE_BIENNIO: u32 = 52;
/// Weeks in a biennio: the denominator of the one-third rule (art. 12 c. 5).
pub const SETTIMANE_IN_BIENNIO: i64 = 104;

pub use crate::esito::{DatiArchivio, LavoratoreDomanda};

/// A period of CIG the archive knows for a unità produttiva.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct PeriodoArchivio {
    pub matricola: String,
    /// Normalised key of the unità produttiva (`model::unita_key`).
    pub unita_produttiva: String,
    /// How a person finds it: the protocol number, or the reference of an imported authorisation.
    pub riferimento: String,
    pub dal: NaiveDate,
    pub al: NaiveDate,
    pub ore: Ore,
    pub evento_non_evitabile: bool,
}

/// An employment relation (imported): the worker was employed by the matricola from
/// `assunto_dal` to `cessato_al` (still employed when `None`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct RapportoLavoro {
    pub matricola: String,
    pub codice_fiscale: String,
    pub assunto_dal: NaiveDate,
    pub cessato_al: Option<NaiveDate>,
}

/// A worker (codice fiscale) of a domanda protocollata, with the domanda's keys and period: the
/// same worker cannot be in CIG twice for the same hours (ARC-008, ARC-009). Only the domande
/// prevalidated since the workers are kept (migration 0014) are known here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct LavoratoreArchivio {
    pub codice_fiscale: String,
    pub matricola: String,
    /// Normalised key of the unità produttiva (`model::unita_key`).
    pub unita_produttiva: String,
    /// The protocol number of the domanda.
    pub riferimento: String,
    pub dal: NaiveDate,
    pub al: NaiveDate,
}

/// What the archive holds about the unità produttive, matricole and workers of one richiesta,
/// indexed.
#[derive(Debug, Default)]
pub struct Archivio {
    periodi: HashMap<(String, String), Vec<PeriodoArchivio>>,
    rapporti: HashMap<String, Vec<RapportoLavoro>>,
    /// By codice fiscale, upper case.
    lavoratori: HashMap<String, Vec<LavoratoreArchivio>>,
}

/// What the store must load for layer 5 of one richiesta: see [`ChiaviArchivio::di`]. The
/// store loads it in one query per kind of record ([`FattiArchivio`]).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ChiaviArchivio {
    /// Matricole of the domande (for the periods and the employment relations).
    pub matricole: Vec<String>,
    /// Periods ending before this day cannot fall in any window of the richiesta; `None` when no
    /// domanda can be judged against the archive (nothing to load).
    pub dal: Option<NaiveDate>,
    /// When the deleghe are checked (ARC-050): whose, and for which matricole.
    pub deleghe: Option<ChiaviDeleghe>,
    /// Codici fiscali (upper case, sorted) of the workers of the domande, for ARC-008 and ARC-009.
    pub codici_fiscali: Vec<String>,
}

/// The deleghe to look up: of `intermediario`, for the matricole of its domande that need one.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ChiaviDeleghe {
    pub intermediario: String,
    pub matricole: Vec<String>,
}

/// What the archive holds for a [`ChiaviArchivio`]: everything layer 5 judges on.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FattiArchivio {
    pub periodi: Vec<PeriodoArchivio>,
    pub rapporti: Vec<RapportoLavoro>,
    /// The workers of [`ChiaviArchivio::codici_fiscali`] in domande protocollate from `dal` on.
    pub lavoratori: Vec<LavoratoreArchivio>,
    /// When the deleghe are checked: the intermediario and the matricole (of those asked) it
    /// holds a delega for.
    pub deleghe: Option<DelegheTenute>,
}

/// The deleghe an intermediario holds, of the matricole asked about.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DelegheTenute {
    pub intermediario: String,
    pub matricole: Vec<String>,
}

impl ChiaviArchivio {
    /// The keys of `esito`: the matricole and the earliest day the archive rules can look at, and,
    /// when `deleghe_di` names the intermediario whose deleghe are required, the matricole that
    /// need one (a domanda whose azienda, QuadroA CodiceFiscale, is the intermediario itself does
    /// not).
    pub fn di(esito: &EsitoPrevalidazione, deleghe_di: Option<&str>) -> ChiaviArchivio {
        let giudicabili = || esito.domande.iter().filter(|d| d.archivio.is_some());
        let deleghe = deleghe_di.map(|intermediario| ChiaviDeleghe {
            intermediario: intermediario.to_string(),
            matricole: ordinate(
                esito
                    .domande
                    .iter()
                    .filter(|d| serve_delega(d, intermediario))
                    .filter_map(|d| d.matricola.clone()),
            ),
        });
        ChiaviArchivio {
            matricole: ordinate(giudicabili().filter_map(|d| d.matricola.clone())),
            dal: giudicabili()
                .filter_map(|d| Some(inizio_utile(d.periodo_dal?, d.periodo_al?)))
                .min(),
            deleghe,
            codici_fiscali: codici_fiscali(
                giudicabili()
                    .filter_map(|d| d.archivio.as_ref())
                    .map(|a| &a.lavoratori),
            ),
        }
    }

    /// The keys of the domande still to be sent (no deleghe: they were checked at prevalidation).
    pub fn invio(domande: &[DomandaInvio]) -> ChiaviArchivio {
        ChiaviArchivio {
            matricole: ordinate(domande.iter().filter_map(|d| d.matricola.clone())),
            dal: domande
                .iter()
                .filter_map(|d| Some(inizio_utile(d.periodo_dal?, d.periodo_al?)))
                .min(),
            deleghe: None,
            codici_fiscali: codici_fiscali(domande.iter().map(|d| &d.lavoratori)),
        }
    }
}

/// The workers' codici fiscali, upper case, sorted, without repeats.
fn codici_fiscali<'a>(liste: impl Iterator<Item = &'a Vec<LavoratoreDomanda>>) -> Vec<String> {
    ordinate(
        liste
            .flatten()
            .map(|l| l.codice_fiscale.to_ascii_uppercase()),
    )
}

/// Sorted, without repeats.
fn ordinate(matricole: impl Iterator<Item = String>) -> Vec<String> {
    let mut v: Vec<String> = matricole.collect();
    v.sort();
    v.dedup();
    v
}

/// The earliest day the archive rules look at for a domanda of `[dal, al]`: the start of its
/// quinquennio mobile (or its own start, if earlier).
fn inizio_utile(dal: NaiveDate, al: NaiveDate) -> NaiveDate {
    dal.min(inizio_finestra(al, 60))
}

/// The domanda needs a delega of `intermediario` (ARC-050): it names a matricola and its azienda
/// is not the intermediario itself.
fn serve_delega(d: &DomandaEsito, intermediario: &str) -> bool {
    d.matricola.is_some() && d.codice_fiscale_azienda.as_deref() != Some(intermediario)
}

/// Layer 5 of prevalidation, the one function the worker and `cigo validate --database-url` call:
/// the archive rules ([`verifica`]: ARC-001..007) then, when `fatti` carries the deleghe, ARC-050.
pub fn giudica(esito: &mut EsitoPrevalidazione, fatti: FattiArchivio) {
    verifica(esito, &Archivio::new(fatti.periodi, fatti.rapporti).con_lavoratori(fatti.lavoratori));
    if let Some(deleghe) = fatti.deleghe {
        verifica_deleghe(esito, &deleghe);
    }
}

/// ARC-050: each domanda for a matricola the intermediario holds no delega for gets the finding
/// and its esito recomputed.
fn verifica_deleghe(esito: &mut EsitoPrevalidazione, deleghe: &DelegheTenute) {
    let intermediario = deleghe.intermediario.as_str();
    for d in esito
        .domande
        .iter_mut()
        .filter(|d| serve_delega(d, intermediario))
    {
        let matricola = d.matricola.clone().unwrap_or_default();
        if deleghe.matricole.contains(&matricola) {
            continue;
        }
        let mut f = rules::ARC_DELEGA_MANCANTE
            .finding(format!("l'intermediario {intermediario} non ha una delega per la matricola {matricola}"));
        f.xpath = Some(format!("/RichiestaCIGO/Domanda[{}]/QuadroA/Matricola", d.progressivo));
        f.value = Some(matricola);
        d.findings.push(f);
        d.esito = DomandaEsito::esito_from(&d.findings);
    }
}

impl Archivio {
    pub fn new(periodi: Vec<PeriodoArchivio>, rapporti: Vec<RapportoLavoro>) -> Archivio {
        let mut a = Archivio::default();
        for p in periodi {
            a.periodi
                .entry((p.matricola.clone(), p.unita_produttiva.clone()))
                .or_default()
                .push(p);
        }
        for r in rapporti {
            a.rapporti.entry(r.matricola.clone()).or_default().push(r);
        }
        a
    }

    /// The archive with the workers of the domande protocollate.
    pub fn con_lavoratori(mut self, lavoratori: Vec<LavoratoreArchivio>) -> Archivio {
        for l in lavoratori {
            self.lavoratori
                .entry(l.codice_fiscale.to_ascii_uppercase())
                .or_default()
                .push(l);
        }
        self
    }

    fn periodi(&self, matricola: &str, unita: &str) -> &[PeriodoArchivio] {
        self.periodi
            .get(&(matricola.to_string(), unita.to_string()))
            .map_or(&[], Vec::as_slice)
    }
}

/// First day of the window of `mesi` months ending on `al` (included).
fn inizio_finestra(al: NaiveDate, mesi: u32) -> NaiveDate {
    al.checked_sub_months(Months::new(mesi))
        .and_then(|d| d.succ_opt())
        .unwrap_or(NaiveDate::MIN)
}

/// Days of `[dal, al]` inside `[da, a]`.
fn giorni_in(dal: NaiveDate, al: NaiveDate, da: NaiveDate, a: NaiveDate) -> i64 {
    let (s, e) = (dal.max(da), al.min(a));
    if e < s {
        0
    } else {
        (e - s).num_days() + 1
    }
}

/// Two closed periods `[dal, al]` share at least one day.
pub fn periodi_sovrapposti(a_dal: NaiveDate, a_al: NaiveDate, b_dal: NaiveDate, b_al: NaiveDate) -> bool {
    a_dal <= b_al && b_dal <= a_al
}

fn data(d: NaiveDate) -> String {
    d.format("%d/%m/%Y").to_string()
}

fn finding(rule: &RuleInfo, progressivo: u32, elemento: &str, message: String, value: String) -> Finding {
    let mut f = rule.finding(message);
    f.xpath = Some(format!("/RichiestaCIGO/Domanda[{progressivo}]/{elemento}"));
    f.value = Some(value);
    f
}

/// A domanda as the store keeps it for the sending: its keys and what prevalidation kept of its
/// [`DatiArchivio`] (the file is not read again: ARC-005..007 stay as prevalidation found them;
/// the workers' codici fiscali are kept for ARC-008 and ARC-009). The columns of the hours, the causale and the months were added
/// after the first domande were saved: for those they are `None`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct DomandaInvio {
    /// 1-based position of the domanda in the file.
    pub progressivo: i64,
    pub matricola: Option<String>,
    pub unita_produttiva: Option<String>,
    pub periodo_dal: Option<NaiveDate>,
    pub periodo_al: Option<NaiveDate>,
    /// Quadro C, TotaleOreCIG, in hundredths of an hour.
    pub ore_cig_centesimi: Option<i64>,
    pub evento_non_evitabile: Option<bool>,
    /// Ordinary weekly hours of the unit, in hundredths of an hour (0: unknown, ARC-003 skipped).
    pub ore_lavorabili_centesimi: Option<i64>,
    pub mesi_quinquennio: Option<i32>,
    /// The last day it could be filed in time (`DatiArchivio::termine_presentazione`).
    pub termine_presentazione: Option<NaiveDate>,
    /// The workers as prevalidation kept them (none for domande prevalidated before they were
    /// kept); loaded beside the row.
    #[cfg_attr(feature = "sqlx", sqlx(skip))]
    pub lavoratori: Vec<LavoratoreDomanda>,
}

impl DomandaInvio {
    /// 1-based position in the file, as the findings' xpaths carry it.
    pub fn progressivo(&self) -> u32 {
        u32::try_from(self.progressivo).unwrap_or(u32::MAX)
    }

    /// What the limits are judged on. A domanda saved before the archive columns existed counts
    /// with what is known of it: no hours (ARC-003 skipped), not an evento non evitabile, and the
    /// general limit of 24 months of the quinquennio (D.Lgs. 148/2015 art. 4 c. 1), as
    /// [`DatiArchivio::default`] says.
    fn dati(&self) -> DatiArchivio {
        let base = DatiArchivio::default();
        DatiArchivio {
            ore_cig: self.ore_cig_centesimi.map_or(base.ore_cig, Ore),
            evento_non_evitabile: self
                .evento_non_evitabile
                .unwrap_or(base.evento_non_evitabile),
            mesi_quinquennio: self
                .mesi_quinquennio
                .map_or(base.mesi_quinquennio, |m| u32::try_from(m).unwrap_or(0)),
            // The store keeps the months, which only edilizia and lapidei have at 30: the rules
            // treat the two alike (art. 4 c. 2, art. 12 c. 4).
            settore: if self.mesi_quinquennio == Some(30) { Settore::Edilizia } else { base.settore },
            settore_presunto: false,
            ore_lavorabili_minime: None,
            ore_lavorabili_settimanali: self
                .ore_lavorabili_centesimi
                .map_or(base.ore_lavorabili_settimanali, Ore),
            lavoratori: self.lavoratori.clone(),
            causale: None,
            termine_presentazione: self.termine_presentazione,
        }
    }
}

/// One domanda under judgement: its keys and what the rules need from the file.
struct Giudicanda<'a> {
    progressivo: u32,
    matricola: &'a str,
    unita: &'a str,
    dal: NaiveDate,
    al: NaiveDate,
    dati: &'a DatiArchivio,
}

/// The archive rules over the domande of one richiesta in file order: each is judged against
/// the archive and against the earlier domande of the same richiesta that can be sent (two
/// domande that together pass the 52 weeks are caught although neither is in the archive yet).
#[derive(Default)]
struct Giudizio {
    /// Periods of earlier sendable domande of this richiesta, by (matricola, unità).
    stessa_richiesta: HashMap<(String, String), Vec<PeriodoArchivio>>,
}

impl Giudizio {
    /// The new findings of `g`; `inviabile` says, given them, whether it can still be sent (then
    /// it counts for the domande after it).
    fn giudica(
        &mut self,
        g: &Giudicanda<'_>,
        archivio: &Archivio,
        inviabile: impl FnOnce(&[Finding]) -> bool,
    ) -> Vec<Finding> {
        let key = (g.matricola.to_string(), g.unita.to_string());
        let archivio_unita = archivio.periodi(g.matricola, g.unita);
        let precedenti = self
            .stessa_richiesta
            .get(&key)
            .map_or(&[][..], Vec::as_slice);
        let mut nuovi = Vec::new();
        sovrapposizioni(g.progressivo, archivio_unita, g.dal, g.al, &mut nuovi);
        limiti(g.progressivo, g.dati, archivio_unita.iter().chain(precedenti), g.dal, g.al, &mut nuovi);
        if let Some(rapporti) = archivio.rapporti.get(g.matricola) {
            lavoratori(g.progressivo, g.dati, g.matricola, rapporti, g.dal, g.al, &mut nuovi);
        }
        stessi_lavoratori(g, archivio, &mut nuovi);
        if inviabile(&nuovi) {
            self.stessa_richiesta
                .entry(key)
                .or_default()
                .push(PeriodoArchivio {
                    matricola: g.matricola.to_string(),
                    unita_produttiva: g.unita.to_string(),
                    riferimento: format!("domanda {} di questa richiesta", g.progressivo),
                    dal: g.dal,
                    al: g.al,
                    ore: g.dati.ore_cig,
                    evento_non_evitabile: g.dati.evento_non_evitabile,
                });
        }
        nuovi
    }
}

/// The archive rules and the filing deadline again at sending, under the store's protocol lock
/// (so that two senders cannot both pass a limit): `domande` are the domande of the richiesta
/// still to be sent, in file order, as the store keeps them, `periodi` what the archive holds now,
/// `data_presentazione` the legal filing date (the day of the attestato di trasmissione, which
/// may come days after the prevalidation: a domanda in time then can be late now). Returns, for
/// each domanda that gets new findings, those findings; the caller decides from them whether it
/// can still be sent.
pub fn rivalida_invio(
    domande: &[DomandaInvio],
    periodi: Vec<PeriodoArchivio>,
    lavoratori: Vec<LavoratoreArchivio>,
    data_presentazione: NaiveDate,
) -> Vec<(u32, Vec<Finding>)> {
    let archivio = Archivio::new(periodi, Vec::new()).con_lavoratori(lavoratori);
    let mut giudizio = Giudizio::default();
    let mut nuovi_di = Vec::new();
    for d in domande {
        let (Some(matricola), Some(dal), Some(al)) = (d.matricola.as_deref(), d.periodo_dal, d.periodo_al) else {
            continue;
        };
        if al < dal {
            continue;
        }
        let dati = d.dati();
        let mut termine = Vec::new();
        if let Some(t) = dati
            .termine_presentazione
            .and_then(|termine| Tardiva::di(data_presentazione, termine, dal, al))
        {
            termine.push(finding(t.rule(), d.progressivo(), t.elemento(), t.message(), t.presentazione.to_string()));
        }
        let g = Giudicanda {
            progressivo: d.progressivo(),
            matricola,
            unita: d.unita_produttiva.as_deref().unwrap_or_default(),
            dal,
            al,
            dati: &dati,
        };
        let mut nuovi = giudizio.giudica(&g, &archivio, |f| {
            let tutti: Vec<Finding> = termine.iter().chain(f).cloned().collect();
            DomandaEsito::esito_from(&tutti).is_sendable()
        });
        nuovi.splice(0..0, termine);
        if !nuovi.is_empty() {
            nuovi_di.push((g.progressivo, nuovi));
        }
    }
    nuovi_di
}

/// Applies the archive rules to every domanda of `esito` that carries its [`DatiArchivio`], adds
/// the findings and recomputes the esito (see [`Giudizio`] for how the domande of the richiesta
/// count for each other).
pub fn verifica(esito: &mut EsitoPrevalidazione, archivio: &Archivio) {
    let mut giudizio = Giudizio::default();
    for d in &mut esito.domande {
        let (Some(dati), Some(matricola), Some(dal), Some(al)) =
            (d.archivio.as_ref(), d.matricola.as_deref(), d.periodo_dal, d.periodo_al)
        else {
            continue;
        };
        if al < dal {
            continue;
        }
        let g = Giudicanda {
            progressivo: d.progressivo,
            matricola,
            unita: d.unita_produttiva.as_deref().unwrap_or_default(),
            dal,
            al,
            dati,
        };
        let (findings, esito_ora) = (&d.findings, d.esito);
        let nuovi = giudizio.giudica(&g, archivio, |nuovi| {
            if nuovi.is_empty() {
                return esito_ora.is_sendable();
            }
            let tutti: Vec<Finding> = findings.iter().chain(nuovi).cloned().collect();
            DomandaEsito::esito_from(&tutti).is_sendable()
        });
        if !nuovi.is_empty() {
            d.findings.extend(nuovi);
            d.esito = DomandaEsito::esito_from(&d.findings);
        }
    }
}

/// ARC-001: a period of the archive overlaps this one.
fn sovrapposizioni(
    progressivo: u32,
    periodi: &[PeriodoArchivio],
    dal: NaiveDate,
    al: NaiveDate,
    out: &mut Vec<Finding>,
) {
    for p in periodi
        .iter()
        .filter(|p| periodi_sovrapposti(p.dal, p.al, dal, al))
    {
        out.push(finding(
            &rules::ARC_PERIODO_SOVRAPPOSTO,
            progressivo,
            "QuadroC/PeriodoDal",
            format!(
                "Per la stessa unità produttiva risulta già {} per il periodo dal {} al {}, che si sovrappone a questo (dal {} al {}): presentare una domanda per un periodo diverso.",
                p.riferimento_esteso(),
                data(p.dal),
                data(p.al),
                data(dal),
                data(al)
            ),
            p.riferimento.clone(),
        ));
    }
}

impl PeriodoArchivio {
    /// "protocollata la domanda X", "autorizzato il periodo X", "presente la domanda N di questa richiesta".
    fn riferimento_esteso(&self) -> String {
        if self.riferimento.starts_with("domanda ") {
            format!("presente la {}", self.riferimento)
        } else if self.riferimento.starts_with("CIGO-") {
            format!("protocollata la domanda {}", self.riferimento)
        } else {
            format!("autorizzato il periodo {}", self.riferimento)
        }
    }
}

/// Up to three references, for the messages.
fn elenco<'a>(periodi: impl Iterator<Item = &'a PeriodoArchivio>) -> String {
    let mut out = String::new();
    for (n, p) in periodi.enumerate() {
        if n == 3 {
            out.push_str(", …");
            break;
        }
        if n > 0 {
            out.push_str(", ");
        }
        let _ = write!(out, "{} ({}-{})", p.riferimento, data(p.dal), data(p.al));
    }
    out
}

/// ARC-008 and ARC-009: a worker of this domanda is in a domanda protocollata for an overlapping
/// period. Art. 3 c. 1 integrates the hours not worked "comprese fra le ore zero e il limite
/// dell'orario contrattuale" of the worker's employment: for the same matricola the hours of the
/// period can be integrated once, so another unità produttiva (another address, another key) is
/// the same suspension (ARC-008, ERRORE; the same unit is ARC-001 already). With another matricola
/// it is another employment with its own contractual hours (two part-time jobs): possible, but
/// worth a look (ARC-009, AVVISO). One finding per other domanda, at its first common worker.
fn stessi_lavoratori(g: &Giudicanda<'_>, archivio: &Archivio, out: &mut Vec<Finding>) {
    if archivio.lavoratori.is_empty() {
        return;
    }
    // Per other domanda (its protocol number): the common workers, in this domanda's order.
    let mut comuni: Vec<(&LavoratoreArchivio, Vec<&LavoratoreDomanda>)> = Vec::new();
    for l in &g.dati.lavoratori {
        let cf = l.codice_fiscale.to_ascii_uppercase();
        for a in archivio.lavoratori.get(&cf).into_iter().flatten() {
            let stessa_unita = a.matricola == g.matricola && a.unita_produttiva == g.unita;
            if stessa_unita || !periodi_sovrapposti(a.dal, a.al, g.dal, g.al) {
                continue;
            }
            match comuni
                .iter_mut()
                .find(|(o, _)| o.riferimento == a.riferimento)
            {
                Some((_, ls)) => ls.push(l),
                None => comuni.push((a, vec![l])),
            }
        }
    }
    for (altra, ls) in comuni {
        let primo = ls[0];
        let cfs: Vec<String> = ls
            .iter()
            .map(|l| l.codice_fiscale.to_ascii_uppercase())
            .collect();
        let nomi = elenco_cf(cfs.iter().map(String::as_str));
        let (rule, message) = if altra.matricola == g.matricola {
            (
                &rules::ARC_STESSA_SOSPENSIONE,
                format!(
                    "{nomi} {} già nella domanda protocollata {} della stessa matricola per il periodo dal {} al {}, che si sovrappone a questo (un'altra unità produttiva: {}): è la stessa sospensione, le stesse ore non possono essere integrate due volte. Togliere i lavoratori o correggere il periodo.",
                    if ls.len() == 1 { "è" } else { "sono" },
                    altra.riferimento,
                    data(altra.dal),
                    data(altra.al),
                    altra.unita_produttiva
                ),
            )
        } else {
            (
                &rules::ARC_LAVORATORE_ALTRA_MATRICOLA,
                format!(
                    "{nomi} {} anche nella domanda protocollata {} della matricola {} per il periodo dal {} al {}, che si sovrappone a questo: ammesso solo per un altro rapporto di lavoro (con il proprio orario contrattuale), verificare che non si tratti delle stesse ore.",
                    if ls.len() == 1 { "è" } else { "sono" },
                    altra.riferimento,
                    altra.matricola,
                    data(altra.dal),
                    data(altra.al)
                ),
            )
        };
        let mut f = rule.finding(message);
        f.xpath = Some(format!(
            "/RichiestaCIGO/Domanda[{}]/Lavoratori/Lavoratore[{}]/CodiceFiscale",
            g.progressivo, primo.posizione
        ));
        if primo.line > 0 {
            f.line = Some(primo.line);
            f.column = Some(primo.column);
        }
        f.value = Some(altra.riferimento.clone());
        out.push(f);
    }
}

/// "Il lavoratore X", "I lavoratori X, Y, Z (e altri N)".
fn elenco_cf<'a>(cf: impl ExactSizeIterator<Item = &'a str>) -> String {
    let n = cf.len();
    let primi: Vec<&str> = cf.take(3).collect();
    match n {
        1 => format!("Il lavoratore {}", primi[0]),
        2 | 3 => format!("I lavoratori {}", primi.join(", ")),
        _ => format!("I lavoratori {} (e altri {})", primi.join(", "), n - 3),
    }
}

/// ARC-002 (52 weeks in the biennio), ARC-003 (one third of the workable hours in the biennio),
/// ARC-004 (24 or 30 months in the quinquennio).
fn limiti<'a>(
    progressivo: u32,
    dati: &DatiArchivio,
    periodi: impl Iterator<Item = &'a PeriodoArchivio> + Clone,
    dal: NaiveDate,
    al: NaiveDate,
    out: &mut Vec<Finding>,
) {
    let u = utilizzo(periodi.clone(), dati, dal, al);
    let (biennio, quinquennio) = (u.biennio_dal, u.quinquennio_dal);
    let nel_biennio = periodi
        .clone()
        .filter(|p| giorni_in(p.dal, p.al, biennio, al) > 0);

    // 52 weeks (art. 12 c. 2 and 3): periods for eventi oggettivamente non evitabili do not
    // count, on either side, except for the employers of art. 10 c. 1 lett. m), n), o) (art. 12
    // c. 4).
    let eone_contano = dati.settore.edile_o_lapideo();
    if eone_contano || !dati.evento_non_evitabile {
        let contati: Vec<&PeriodoArchivio> = nel_biennio
            .clone()
            .filter(|p| eone_contano || !p.evento_non_evitabile)
            .collect();
        let gia = u.settimane;
        let queste = settimane_tra(dal, al);
        if let Some((inizio, fine, dal_possibile)) = u.consecutive {
            // c. 2: after 52 consecutive weeks, a new domanda only after 52 weeks of normal activity.
            out.push(finding(
                &rules::ARC_52_CONSECUTIVE,
                progressivo,
                "QuadroC/PeriodoDal",
                format!(
                    "L'unità produttiva ha fruito di 52 settimane consecutive di CIGO (dal {} al {}){}: una nuova domanda è possibile solo dopo 52 settimane di normale attività lavorativa, cioè per periodi dal {}.",
                    data(inizio),
                    data(fine),
                    settore_presunto(dati),
                    data(dal_possibile)
                ),
                dal.to_string(),
            ));
        } else if gia + queste > SETTIMANE_BIENNIO {
            let restano = SETTIMANE_BIENNIO.saturating_sub(gia);
            out.push(finding(
                &rules::ARC_52_SETTIMANE,
                progressivo,
                "QuadroC/NumeroSettimane",
                format!(
                    "Nel biennio mobile dal {} al {} l'unità produttiva ha già {gia} settimane di CIG ({}){}; con le {queste} di questa domanda sarebbero {}, oltre il limite di {SETTIMANE_BIENNIO}: {}",
                    data(biennio),
                    data(al),
                    elenco(contati.iter().copied()),
                    settore_presunto(dati),
                    gia + queste,
                    if restano == 0 {
                        "non restano settimane disponibili per causali diverse dagli eventi oggettivamente non evitabili.".to_string()
                    } else {
                        format!(
                            "ridurre il periodo ad al massimo {restano} {}.",
                            if restano == 1 { "settimana" } else { "settimane" }
                        )
                    }
                ),
                (gia + queste).to_string(),
            ));
        }
    }

    // One third of the workable hours of the biennio; archive periods only partly inside the
    // window count pro rata of their days.
    if dati.ore_lavorabili_settimanali.0 > 0 {
        let lavorabili = i128::from(dati.ore_lavorabili_settimanali.0) * i128::from(SETTIMANE_IN_BIENNIO);
        let gia = i128::from(u.ore.0);
        let totale = gia + i128::from(dati.ore_cig.0);
        if totale * 3 > lavorabili {
            let ore = |c: i128| Ore(c.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64);
            out.push(finding(
                &rules::ARC_UN_TERZO_ORE,
                progressivo,
                "QuadroC/TotaleOreCIG",
                format!(
                    "Nel biennio mobile dal {} al {} le ore di CIG dell'unità produttiva sarebbero {} ({} già in archivio e {} di questa domanda), oltre un terzo delle {} ore lavorabili ({} ore settimanali {}, per 104 settimane): il massimo richiedibile con questa domanda è {} ore.",
                    data(biennio),
                    data(al),
                    ore(totale),
                    ore(gia),
                    dati.ore_cig,
                    ore(lavorabili),
                    ore(i128::from(dati.ore_lavorabili_settimanali.0)),
                    if dati.ore_lavorabili_minime.is_some() {
                        "dei lavoratori in forza nell'unità produttiva secondo il quadro E, all'orario contrattuale medio dei lavoratori elencati (base presunta dal tracciato versione 1)"
                    } else {
                        "dei lavoratori mediamente occupati nel semestre precedente, per orario contrattuale"
                    },
                    ore((lavorabili / 3 - gia).max(0)),
                ),
                ore(totale).to_string(),
            ));
        }
    }

    // v1: the base of the one-third limit is presumed; when the limit holds on it but not on
    // the lowest base the file is sure of, the verdict depends on the presumption (ARC-011).
    if let Some(minime) = dati.ore_lavorabili_minime.filter(|m| m.0 > 0) {
        let lavorabili = i128::from(dati.ore_lavorabili_settimanali.0) * i128::from(SETTIMANE_IN_BIENNIO);
        let minime_biennio = i128::from(minime.0) * i128::from(SETTIMANE_IN_BIENNIO);
        let totale = ore_nel_biennio(nel_biennio.clone(), biennio, al) + i128::from(dati.ore_cig.0);
        if totale * 3 <= lavorabili && totale * 3 > minime_biennio {
            out.push(finding(
                &rules::ARC_BASE_UN_TERZO_PRESUNTA,
                progressivo,
                "QuadroE",
                format!(
                    "Il limite di un terzo delle ore lavorabili nel biennio è rispettato sulla base presunta dal tracciato versione 1 ({} ore settimanali: lavoratori in forza nell'unità produttiva del quadro E all'orario contrattuale medio dei lavoratori elencati), non su quella dei soli lavoratori elencati ({} ore settimanali). La legge conta i lavoratori mediamente occupati nel semestre precedente, distinti per orario contrattuale: indicarli con il tracciato versione 2 (QuadroE/OccupatiSemestre).",
                    dati.ore_lavorabili_settimanali, minime
                ),
                dati.ore_lavorabili_settimanali.to_string(),
            ));
        }
    }

    // 24 (30) months in the quinquennio mobile, every causale.
    let (gia, limite) = (u.giorni, u.giorni_limite);
    let nel_quinquennio: Vec<&PeriodoArchivio> = periodi
        .filter(|p| giorni_in(p.dal, p.al, quinquennio, al) > 0)
        .collect();
    let questi = giorni_in(dal, al, dal, al);
    if gia + questi > limite {
        out.push(finding(
            &rules::ARC_QUINQUENNIO,
            progressivo,
            "QuadroC/PeriodoAl",
            format!(
                "Nel quinquennio mobile dal {} al {} l'unità produttiva ha già {gia} giorni di CIG ({}); con i {questi} di questa domanda sarebbero {}, oltre il limite di {} mesi ({limite} giorni){}: restano {} giorni.",
                data(quinquennio),
                data(al),
                elenco(nel_quinquennio.iter().copied()),
                gia + questi,
                dati.mesi_quinquennio,
                settore_presunto(dati),
                (limite - gia).max(0)
            ),
            (gia + questi).to_string(),
        ));
    }
}

/// ARC-005..007: the workers against the employment relations of the matricola. Only when the
/// archive holds relations for it (otherwise it knows nothing about its workers).
fn lavoratori(
    progressivo: u32,
    dati: &DatiArchivio,
    matricola: &str,
    rapporti: &[RapportoLavoro],
    dal: NaiveDate,
    al: NaiveDate,
    out: &mut Vec<Finding>,
) {
    let fine = |r: &RapportoLavoro| r.cessato_al.unwrap_or(NaiveDate::MAX);
    for l in &dati.lavoratori {
        let cf = l.codice_fiscale.to_ascii_uppercase();
        let mut suoi: Vec<&RapportoLavoro> = rapporti
            .iter()
            .filter(|r| {
                r.codice_fiscale.eq_ignore_ascii_case(&cf) && periodi_sovrapposti(r.assunto_dal, fine(r), dal, al)
            })
            .collect();
        suoi.sort_by_key(|r| r.assunto_dal);
        let at = |rule: &RuleInfo, elemento: &str, message: String, value: String| {
            let mut f = rule.finding(message);
            f.xpath = Some(format!(
                "/RichiestaCIGO/Domanda[{}]/Lavoratori/Lavoratore[{}]/{elemento}",
                progressivo, l.posizione
            ));
            f.line = Some(l.line);
            f.column = Some(l.column);
            f.value = Some(value);
            f
        };
        let Some(primo) = suoi.first() else {
            out.push(at(
                &rules::ARC_LAVORATORE_NON_IN_FORZA,
                "CodiceFiscale",
                format!(
                    "Il lavoratore {cf} non risulta alle dipendenze della matricola {matricola} in nessun giorno del periodo dal {} al {}: toglierlo dall'elenco o verificare il codice fiscale.",
                    data(dal),
                    data(al)
                ),
                cf.clone(),
            ));
            continue;
        };
        // Gaps: the relations (sorted) must cover [dal, al] without holes.
        let mut coperto_fino = dal.pred_opt().unwrap_or(dal);
        let mut buco = None;
        for r in &suoi {
            if r.assunto_dal > coperto_fino.succ_opt().unwrap_or(coperto_fino) {
                buco = Some(coperto_fino.succ_opt().unwrap_or(coperto_fino));
                break;
            }
            coperto_fino = coperto_fino.max(fine(r));
        }
        if buco.is_none() && coperto_fino < al {
            buco = coperto_fino.succ_opt();
        }
        if let Some(giorno) = buco {
            out.push(at(
                &rules::ARC_LAVORATORE_PARZIALE,
                "CodiceFiscale",
                format!(
                    "Il lavoratore {cf} non risulta alle dipendenze della matricola {matricola} per tutto il periodo (dal {} non risulta in forza): le ore dei giorni fuori dal rapporto di lavoro non sono integrabili.",
                    data(giorno)
                ),
                cf.clone(),
            ));
        }
        if let Some(dichiarata) = l.data_assunzione {
            if !suoi.iter().any(|r| r.assunto_dal == dichiarata) {
                out.push(at(
                    &rules::ARC_DATA_ASSUNZIONE,
                    "DataAssunzione",
                    format!(
                        "La data di assunzione indicata per il lavoratore {cf} ({}) non corrisponde a quella in archivio ({}): verificarla.",
                        data(dichiarata),
                        data(primo.assunto_dal)
                    ),
                    dichiarata.to_string(),
                ));
            }
        }
    }
}

/// For the messages of the limits that depend on the sector: says when it was presumed (v1).
/// What a unità produttiva has used of the limits of art. 4 and 12 in the windows ending on `al`
/// (for a domanda starting on `dal`), counted exactly as ARC-002..004 and ARC-010 count: those
/// rules take their figures from here, so a screen that shows these never disagrees with a verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Utilizzo {
    /// First day of the biennio mobile (24 months) and of the quinquennio mobile (60), to `al`.
    pub biennio_dal: NaiveDate,
    pub quinquennio_dal: NaiveDate,
    pub al: NaiveDate,
    /// Weeks of CIGO in the biennio that count toward the 52 (art. 12 c. 3; eventi oggettivamente
    /// non evitabili only in edilizia and lapidei, c. 4).
    pub settimane: u32,
    /// Hours in the biennio, every causale (a period partly inside counts pro rata of its days).
    pub ore: Ore,
    /// One third of the workable hours of the biennio (art. 12 c. 5), when the unit's weekly
    /// workable hours are known.
    pub ore_limite: Option<Ore>,
    /// Days of CIG in the quinquennio, every causale, and the limit of 24 or 30 months in days
    /// (art. 4 c. 1-2).
    pub giorni: i64,
    pub giorni_limite: i64,
    /// After a run of 52 consecutive weeks (art. 12 c. 2): its first and last day, and the first
    /// day a new domanda can start.
    pub consecutive: Option<(NaiveDate, NaiveDate, NaiveDate)>,
}

/// See [`Utilizzo`]; `dati` gives the sector, the months of the quinquennio and the workable hours.
pub fn utilizzo<'a>(
    periodi: impl Iterator<Item = &'a PeriodoArchivio> + Clone,
    dati: &DatiArchivio,
    dal: NaiveDate,
    al: NaiveDate,
) -> Utilizzo {
    let biennio = inizio_finestra(al, 24);
    let quinquennio = inizio_finestra(al, 60);
    let eone_contano = dati.settore.edile_o_lapideo();
    let contano = |p: &&PeriodoArchivio| eone_contano || !p.evento_non_evitabile;
    let nel_biennio = periodi
        .clone()
        .filter(|p| giorni_in(p.dal, p.al, biennio, al) > 0);
    let settimane = nel_biennio
        .clone()
        .filter(contano)
        .map(|p| settimane_tra(p.dal.max(biennio), p.al.min(al)))
        .sum();
    let ore = ore_nel_biennio(nel_biennio, biennio, al);
    let ore_limite = (dati.ore_lavorabili_settimanali.0 > 0).then(|| {
        Ore(i64::try_from(i128::from(dati.ore_lavorabili_settimanali.0) * i128::from(SETTIMANE_IN_BIENNIO) / 3)
            .unwrap_or(i64::MAX))
    });
    let giorni = periodi
        .clone()
        .map(|p| giorni_in(p.dal, p.al, quinquennio, al))
        .sum();
    let consecutive = fine_52_consecutive(periodi.filter(contano), dal)
        .map(|(inizio, fine)| (inizio, fine, fine + chrono::Days::new(7 * 52 + 1)));
    Utilizzo {
        biennio_dal: biennio,
        quinquennio_dal: quinquennio,
        al,
        settimane,
        ore: Ore(i64::try_from(ore).unwrap_or(i64::MAX)),
        ore_limite,
        giorni,
        giorni_limite: (al - inizio_finestra(al, dati.mesi_quinquennio)).num_days() + 1,
        consecutive,
    }
}

/// The cruscotto of one unità produttiva on day `oggi`: what it has used (the windows ending
/// today, or on the last day of its periods when some are still to come: weeks already granted
/// count as used) and the first Monday, within two years, on which a one-week domanda would pass the
/// archive rules on periods (ARC-001..004, ARC-010: [`verifica`]'s own functions); `None` when no
/// week of the next two years would.
pub fn cruscotto(periodi: &[PeriodoArchivio], dati: &DatiArchivio, oggi: NaiveDate) -> (Utilizzo, Option<NaiveDate>) {
    use chrono::Datelike;
    let fine = periodi
        .iter()
        .map(|p| p.al)
        .max()
        .map_or(oggi, |al| al.max(oggi));
    let ora = utilizzo(periodi.iter(), dati, fine.succ_opt().unwrap_or(fine), fine);
    let primo = oggi + chrono::Days::new(u64::from((7 - oggi.weekday().num_days_from_monday()) % 7));
    let dati = DatiArchivio { ore_cig: Ore(0), evento_non_evitabile: false, ..dati.clone() };
    let prossima = (0..SETTIMANE_IN_BIENNIO as u64)
        .map(|w| primo + chrono::Days::new(7 * w))
        .find(|&dal| {
            let al = dal + chrono::Days::new(6);
            let mut out = Vec::new();
            sovrapposizioni(0, periodi, dal, al, &mut out);
            limiti(0, &dati, periodi.iter(), dal, al, &mut out);
            !out.iter().any(Finding::is_error)
        });
    (ora, prossima)
}

fn settore_presunto(dati: &DatiArchivio) -> String {
    if dati.settore_presunto {
        format!(
            " (settore presunto dal tracciato versione 1: {}; indicare QuadroA/Settore con il tracciato versione 2)",
            dati.settore.descrizione()
        )
    } else {
        String::new()
    }
}

/// Hours of the periods inside `[biennio, al]`; a period only partly inside counts pro rata of
/// its days.
fn ore_nel_biennio<'a>(periodi: impl Iterator<Item = &'a PeriodoArchivio>, biennio: NaiveDate, al: NaiveDate) -> i128 {
    periodi
        .map(|p| {
            let tutti = i128::from(giorni_in(p.dal, p.al, p.dal, p.al).max(1));
            i128::from(p.ore.0) * i128::from(giorni_in(p.dal, p.al, biennio, al)) / tutti
        })
        .sum()
}

/// Art. 12 c. 2: the last run of at least 52 consecutive calendar weeks of CIGO among `periodi`
/// that ended less than 52 weeks of normal activity before `dal` (first and last day of the
/// run's weeks), if any.
fn fine_52_consecutive<'a>(
    periodi: impl Iterator<Item = &'a PeriodoArchivio>,
    dal: NaiveDate,
) -> Option<(NaiveDate, NaiveDate)> {
    use chrono::Datelike;
    let lunedi = |d: NaiveDate| d - chrono::Days::new(u64::from(d.weekday().num_days_from_monday()));
    let mut settimane: Vec<(NaiveDate, NaiveDate)> = periodi
        .filter(|p| p.dal <= p.al && p.al < dal)
        .map(|p| (lunedi(p.dal), lunedi(p.al) + chrono::Days::new(6)))
        .collect();
    settimane.sort();
    let mut trovata = None;
    let mut corrente: Option<(NaiveDate, NaiveDate)> = None;
    for (s, e) in settimane {
        corrente = match corrente {
            Some((cs, ce)) if s <= ce + chrono::Days::new(1) => Some((cs, ce.max(e))),
            Some(run) => {
                trovata = lunga(run).or(trovata);
                Some((s, e))
            }
            None => Some((s, e)),
        };
    }
    if let Some(run) = corrente {
        trovata = lunga(run).or(trovata);
    }
    // 52 weeks of normal activity: the weeks strictly between the run and `dal`.
    trovata.filter(|&(_, fine)| lunedi(dal) < fine + chrono::Days::new(1 + 7 * 52))
}

/// A run of whole weeks `[lunedì, domenica]` that lasts at least 52 weeks.
fn lunga(run: (NaiveDate, NaiveDate)) -> Option<(NaiveDate, NaiveDate)> {
    ((run.1 - run.0).num_days() + 1 >= 7 * 52).then_some(run)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stato::EsitoDomanda;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn overlap_is_closed_on_both_ends() {
        assert!(periodi_sovrapposti(d("2026-01-05"), d("2026-01-11"), d("2026-01-11"), d("2026-01-18")));
        assert!(!periodi_sovrapposti(d("2026-01-05"), d("2026-01-11"), d("2026-01-12"), d("2026-01-18")));
        assert!(periodi_sovrapposti(d("2026-01-01"), d("2026-03-31"), d("2026-02-01"), d("2026-02-02")));
    }

    #[test]
    fn windows_end_on_the_last_day_of_the_period() {
        assert_eq!(inizio_finestra(d("2026-06-30"), 24), d("2024-07-01"));
        assert_eq!(inizio_finestra(d("2026-06-30"), 60), d("2021-07-01"));
        assert_eq!(giorni_in(d("2026-01-01"), d("2026-01-31"), d("2026-01-20"), d("2026-02-28")), 12);
        assert_eq!(giorni_in(d("2026-01-01"), d("2026-01-31"), d("2026-02-01"), d("2026-02-28")), 0);
    }

    const M: &str = "1234567890";
    const U: &str = "20100|MILANO|VIA ROMA 1";

    fn domanda(progressivo: u32, dal: &str, al: &str, ore: i64, lavoratori: Vec<LavoratoreDomanda>) -> DomandaEsito {
        DomandaEsito {
            progressivo,
            matricola: Some(M.into()),
            codice_fiscale_azienda: None,
            denominazione: None,
            unita_produttiva: Some(U.into()),
            periodo_dal: Some(d(dal)),
            periodo_al: Some(d(al)),
            esito: EsitoDomanda::Valida,
            findings: vec![],
            archivio: Some(DatiArchivio {
                ore_cig: Ore::from_hours(ore),
                evento_non_evitabile: false,
                mesi_quinquennio: 24,
                settore: Settore::Industria,
                settore_presunto: false,
                ore_lavorabili_settimanali: Ore::from_hours(10 * 40),
                ore_lavorabili_minime: None,
                lavoratori,
                causale: None,
                termine_presentazione: None,
            }),
        }
    }

    fn periodo(rif: &str, dal: &str, al: &str, ore: i64, eone: bool) -> PeriodoArchivio {
        PeriodoArchivio {
            matricola: M.into(),
            unita_produttiva: U.into(),
            riferimento: rif.into(),
            dal: d(dal),
            al: d(al),
            ore: Ore::from_hours(ore),
            evento_non_evitabile: eone,
        }
    }

    fn esito(domande: Vec<DomandaEsito>) -> EsitoPrevalidazione {
        EsitoPrevalidazione { file_finding: None, domande, rule_set: "t".into() }
    }

    fn codes(e: &EsitoPrevalidazione, i: usize) -> Vec<&str> {
        e.domande[i]
            .findings
            .iter()
            .map(|f| f.code.as_str())
            .collect()
    }

    #[test]
    fn an_empty_archive_finds_nothing() {
        let mut e = esito(vec![domanda(1, "2026-03-02", "2026-03-29", 100, vec![])]);
        verifica(&mut e, &Archivio::default());
        assert!(codes(&e, 0).is_empty());
        assert_eq!(e.domande[0].esito, EsitoDomanda::Valida);
    }

    #[test]
    fn overlap_with_a_protocollata_domanda_is_arc_001() {
        let a = Archivio::new(vec![periodo("CIGO-2026-0000001", "2026-03-23", "2026-04-05", 50, false)], vec![]);
        let mut e = esito(vec![domanda(1, "2026-03-02", "2026-03-29", 100, vec![])]);
        verifica(&mut e, &a);
        assert_eq!(codes(&e, 0), ["ARC-001"]);
        assert_eq!(e.domande[0].esito, EsitoDomanda::Scartata);
        assert!(e.domande[0].findings[0]
            .message
            .contains("protocollata la domanda CIGO-2026-0000001"));
        // Another unit of the same employer is another story.
        let altra = Archivio::new(
            vec![PeriodoArchivio {
                unita_produttiva: "X".into(),
                ..periodo("A1", "2026-03-23", "2026-04-05", 50, false)
            }],
            vec![],
        );
        let mut e = esito(vec![domanda(1, "2026-03-02", "2026-03-29", 100, vec![])]);
        verifica(&mut e, &altra);
        assert!(codes(&e, 0).is_empty());
    }

    #[test]
    fn fifty_two_weeks_in_the_biennio() {
        // 48 weeks already (2025-01-06 .. 2025-12-07), 4 more are fine, 5 are not.
        let a = Archivio::new(vec![periodo("AUT-1", "2025-01-06", "2025-12-07", 0, false)], vec![]);
        let mut ok = esito(vec![domanda(1, "2026-03-02", "2026-03-29", 0, vec![])]);
        verifica(&mut ok, &a);
        assert!(codes(&ok, 0).is_empty(), "{:?}", ok.domande[0].findings);
        let mut ko = esito(vec![domanda(1, "2026-03-02", "2026-04-05", 0, vec![])]);
        verifica(&mut ko, &a);
        assert_eq!(codes(&ko, 0), ["ARC-002"]);
        assert!(ko.domande[0].findings[0]
            .message
            .contains("ridurre il periodo ad al massimo 4 settimane"));
        // Events that could not be avoided do not count, on either side.
        let meteo = Archivio::new(vec![periodo("AUT-1", "2025-01-06", "2025-12-07", 0, true)], vec![]);
        let mut e = esito(vec![domanda(1, "2026-03-02", "2026-04-05", 0, vec![])]);
        verifica(&mut e, &meteo);
        assert!(codes(&e, 0).is_empty());
        let mut eone = esito(vec![domanda(1, "2026-03-02", "2026-04-05", 0, vec![])]);
        eone.domande[0]
            .archivio
            .as_mut()
            .unwrap()
            .evento_non_evitabile = true;
        verifica(&mut eone, &a);
        assert!(codes(&eone, 0).is_empty());
    }

    #[test]
    fn earlier_domande_of_the_same_richiesta_count() {
        let a = Archivio::new(vec![periodo("AUT-1", "2025-01-06", "2025-12-07", 0, false)], vec![]);
        let mut e = esito(vec![
            domanda(1, "2026-01-05", "2026-01-25", 0, vec![]),
            domanda(2, "2026-03-02", "2026-03-15", 0, vec![]),
        ]);
        verifica(&mut e, &a);
        assert!(codes(&e, 0).is_empty());
        assert_eq!(codes(&e, 1), ["ARC-002"]);
        assert!(e.domande[1].findings[0]
            .message
            .contains("domanda 1 di questa richiesta"));
    }

    #[test]
    fn one_third_of_the_workable_hours() {
        // 10 workers × 40 h × 104 weeks = 41 600 h; a third is 13 866.66 h.
        let a = Archivio::new(vec![periodo("AUT-1", "2025-06-02", "2025-06-29", 13_000, false)], vec![]);
        let mut ok = esito(vec![domanda(1, "2026-03-02", "2026-03-29", 866, vec![])]);
        verifica(&mut ok, &a);
        assert!(codes(&ok, 0).is_empty());
        let mut ko = esito(vec![domanda(1, "2026-03-02", "2026-03-29", 867, vec![])]);
        verifica(&mut ko, &a);
        assert_eq!(codes(&ko, 0), ["ARC-003"]);
        assert!(ko.domande[0].findings[0]
            .message
            .contains("il massimo richiedibile con questa domanda è 866.66 ore"));
        // Half of an archive period outside the biennio counts half.
        let a = Archivio::new(vec![periodo("AUT-2", "2024-03-18", "2024-03-31", 20_000, false)], vec![]);
        let mut e = esito(vec![domanda(1, "2026-03-02", "2026-03-24", 3_800, vec![])]);
        verifica(&mut e, &a);
        assert!(codes(&e, 0).is_empty(), "{:?}", e.domande[0].findings);
    }

    #[test]
    fn twenty_four_months_in_the_quinquennio_thirty_in_construction() {
        // Three long weather periods (outside the 52 weeks, inside the quinquennio): 699 days; with 42 more, over the 730 of 24 months.
        let a = Archivio::new(
            vec![
                periodo("A1", "2022-01-01", "2022-08-31", 0, true),
                periodo("A2", "2023-01-01", "2023-08-31", 0, true),
                periodo("A3", "2024-01-01", "2024-07-31", 0, true),
            ],
            vec![],
        );
        let mut e = esito(vec![domanda(1, "2026-03-02", "2026-04-12", 0, vec![])]);
        verifica(&mut e, &a);
        assert_eq!(codes(&e, 0), ["ARC-004"]);
        let mut edile = esito(vec![domanda(1, "2026-03-02", "2026-04-12", 0, vec![])]);
        edile.domande[0].archivio.as_mut().unwrap().mesi_quinquennio = 30;
        verifica(&mut edile, &a);
        assert!(codes(&edile, 0).is_empty());
    }

    #[test]
    fn eventi_non_evitabili_count_toward_the_52_weeks_in_edilizia_and_lapidei() {
        // 48 weeks of weather events in the biennio: outside the count for industry (art. 12
        // c. 4), inside it for the employers of art. 10 c. 1 lett. m), n), o).
        let a = Archivio::new(vec![periodo("AUT-1", "2025-01-06", "2025-12-07", 0, true)], vec![]);
        let mut industria = esito(vec![domanda(1, "2026-03-02", "2026-04-05", 0, vec![])]);
        verifica(&mut industria, &a);
        assert!(codes(&industria, 0).is_empty(), "{:?}", industria.domande[0].findings);
        for settore in [Settore::Edilizia, Settore::Lapidei] {
            let mut e = esito(vec![domanda(1, "2026-03-02", "2026-04-05", 0, vec![])]);
            e.domande[0].archivio.as_mut().unwrap().settore = settore;
            verifica(&mut e, &a);
            assert_eq!(codes(&e, 0), ["ARC-002"], "{settore:?}");
            // This domanda an evento non evitabile too: it counts as well.
            let mut e = esito(vec![domanda(1, "2026-03-02", "2026-04-05", 0, vec![])]);
            let dati = e.domande[0].archivio.as_mut().unwrap();
            dati.settore = settore;
            dati.evento_non_evitabile = true;
            verifica(&mut e, &a);
            assert_eq!(codes(&e, 0), ["ARC-002"], "{settore:?}");
        }
        // A presumed sector (v1) is named in the message.
        let mut e = esito(vec![domanda(1, "2026-03-02", "2026-04-05", 0, vec![])]);
        let dati = e.domande[0].archivio.as_mut().unwrap();
        dati.settore = Settore::Edilizia;
        dati.settore_presunto = true;
        verifica(&mut e, &a);
        assert!(
            e.domande[0].findings[0]
                .message
                .contains("settore presunto"),
            "{}",
            e.domande[0].findings[0].message
        );
    }

    #[test]
    fn after_52_consecutive_weeks_a_new_domanda_waits_52_weeks_of_normal_activity() {
        // Four back-to-back domande, 2024-01-01 .. 2024-12-29 (52 weeks, Monday to Sunday).
        let run = vec![
            periodo("CIGO-1", "2024-01-01", "2024-03-31", 0, false),
            periodo("CIGO-2", "2024-04-01", "2024-06-30", 0, false),
            periodo("CIGO-3", "2024-07-01", "2024-09-29", 0, false),
            periodo("CIGO-4", "2024-09-30", "2024-12-29", 0, false),
        ];
        let a = Archivio::new(run.clone(), vec![]);
        // 2025-12-22: 51 weeks after the run. (ARC-002 would fire too: c. 2 says more precisely
        // what is wrong and from when a domanda is possible, so it is reported instead.)
        let mut e = esito(vec![domanda(1, "2025-12-22", "2026-01-04", 0, vec![])]);
        verifica(&mut e, &a);
        assert_eq!(codes(&e, 0), ["ARC-010"]);
        assert!(
            e.domande[0].findings[0]
                .message
                .contains("per periodi dal 29/12/2025"),
            "{}",
            e.domande[0].findings[0].message
        );
        // From 2025-12-29 (52 weeks of normal activity): fine as far as c. 2 goes.
        let mut e = esito(vec![domanda(1, "2025-12-29", "2026-01-04", 0, vec![])]);
        verifica(&mut e, &a);
        assert!(!codes(&e, 0).contains(&"ARC-010"), "{:?}", e.domande[0].findings);
        // A gap of one week breaks the run: no ARC-010 (51 + 2 weeks in the biennio: ARC-002).
        let mut spezzata = run.clone();
        spezzata[3] = periodo("CIGO-4", "2024-10-07", "2024-12-29", 0, false);
        let mut e = esito(vec![domanda(1, "2025-12-22", "2026-01-04", 0, vec![])]);
        verifica(&mut e, &Archivio::new(spezzata, vec![]));
        assert_eq!(codes(&e, 0), ["ARC-002"]);
        // Weather periods do not make a run for industry (art. 12 c. 4)…
        let meteo: Vec<PeriodoArchivio> = run
            .iter()
            .map(|p| PeriodoArchivio { evento_non_evitabile: true, ..p.clone() })
            .collect();
        let mut e = esito(vec![domanda(1, "2025-12-22", "2026-01-04", 0, vec![])]);
        verifica(&mut e, &Archivio::new(meteo.clone(), vec![]));
        assert!(codes(&e, 0).is_empty(), "{:?}", e.domande[0].findings);
        // …but they do in edilizia.
        let mut e = esito(vec![domanda(1, "2025-12-22", "2026-01-04", 0, vec![])]);
        e.domande[0].archivio.as_mut().unwrap().settore = Settore::Edilizia;
        verifica(&mut e, &Archivio::new(meteo, vec![]));
        assert_eq!(codes(&e, 0), ["ARC-010"]);
    }

    #[test]
    fn a_presumed_base_of_the_one_third_limit_is_said_when_the_verdict_depends_on_it() {
        // Base presumed 400 h a week (10 in force × 40): a third over the biennio is 13 866.66 h.
        // The listed workers alone: 3 × 40 = 120 h a week, a third is 4 160 h.
        let a = Archivio::new(vec![periodo("AUT-1", "2025-06-02", "2025-06-29", 4_000, false)], vec![]);
        let con_base = |ore: i64| {
            let mut e = esito(vec![domanda(1, "2026-03-02", "2026-03-29", ore, vec![])]);
            e.domande[0]
                .archivio
                .as_mut()
                .unwrap()
                .ore_lavorabili_minime = Some(Ore::from_hours(120));
            verifica(&mut e, &a);
            e
        };
        // 4 000 + 100: within both bases, nothing to say.
        assert!(codes(&con_base(100), 0).is_empty());
        // 4 000 + 500: within the presumed base only: the AVVISO, and the domanda stays valid.
        let e = con_base(500);
        assert_eq!(codes(&e, 0), ["ARC-011"]);
        assert_eq!(e.domande[0].esito, EsitoDomanda::ValidaConAvvisi);
        // Over the presumed base too: ARC-003 (the error), no ARC-011.
        assert_eq!(codes(&con_base(10_000), 0), ["ARC-003"]);
        // Declared base (v2): never ARC-011.
        let mut e = esito(vec![domanda(1, "2026-03-02", "2026-03-29", 500, vec![])]);
        verifica(&mut e, &a);
        assert!(codes(&e, 0).is_empty());
    }

    fn lav(cf: &str, assunto: Option<&str>) -> LavoratoreDomanda {
        LavoratoreDomanda {
            codice_fiscale: cf.into(),
            data_assunzione: assunto.map(d),
            posizione: 1,
            line: 10,
            column: 5,
        }
    }

    fn rapporto(cf: &str, dal: &str, al: Option<&str>) -> RapportoLavoro {
        RapportoLavoro { matricola: M.into(), codice_fiscale: cf.into(), assunto_dal: d(dal), cessato_al: al.map(d) }
    }

    #[test]
    fn at_sending_the_limits_are_checked_again_and_earlier_domande_count() {
        let periodi = vec![periodo("CIGO-2026-0000001", "2025-01-06", "2025-12-07", 0, false)];
        let mut a = domanda(1, "2026-01-05", "2026-01-18", 0, vec![]);
        a.findings
            .push(rules::COE_TERMINE.finding("a warning of prevalidation, not repeated"));
        let b = domanda(2, "2026-03-02", "2026-03-22", 0, vec![]);
        let c = domanda(3, "2025-03-03", "2025-03-09", 0, vec![]);
        // What the store keeps of them (the findings of prevalidation are not among it).
        let invio = |d: &DomandaEsito| {
            let dati = d.archivio.as_ref().unwrap();
            DomandaInvio {
                progressivo: i64::from(d.progressivo),
                matricola: d.matricola.clone(),
                unita_produttiva: d.unita_produttiva.clone(),
                periodo_dal: d.periodo_dal,
                periodo_al: d.periodo_al,
                ore_cig_centesimi: Some(dati.ore_cig.0),
                evento_non_evitabile: Some(dati.evento_non_evitabile),
                ore_lavorabili_centesimi: Some(dati.ore_lavorabili_settimanali.0),
                mesi_quinquennio: Some(dati.mesi_quinquennio as i32),
                termine_presentazione: dati.termine_presentazione,
                lavoratori: dati.lavoratori.clone(),
            }
        };
        let rejected = rivalida_invio(&[invio(&a), invio(&b), invio(&c)], periodi, vec![], d("2026-01-02"));
        let codes: Vec<(u32, Vec<&str>)> = rejected
            .iter()
            .map(|(p, f)| (*p, f.iter().map(|f| f.code.as_str()).collect()))
            .collect();
        // 1 fits (48 + 2 weeks) and counts for 2 (48 + 2 + 3 > 52); 3 overlaps the protocollata one.
        assert_eq!(codes, [(2, vec!["ARC-002"]), (3, vec!["ARC-001"])]);
    }

    fn in_cig(cf: &str, matricola: &str, unita: &str, riferimento: &str, dal: &str, al: &str) -> LavoratoreArchivio {
        LavoratoreArchivio {
            codice_fiscale: cf.into(),
            matricola: matricola.into(),
            unita_produttiva: unita.into(),
            riferimento: riferimento.into(),
            dal: d(dal),
            al: d(al),
        }
    }

    #[test]
    fn one_cig_per_worker_at_a_time() {
        let cf = "RSSMRA85T10A562S";
        let lav = |cf: &str, posizione| LavoratoreDomanda {
            codice_fiscale: cf.into(),
            data_assunzione: None,
            posizione,
            line: 40 + posizione,
            column: 7,
        };
        let giudica = |archivio: Vec<LavoratoreArchivio>| {
            let mut e = esito(vec![domanda(
                1,
                "2026-03-02",
                "2026-03-15",
                40,
                vec![lav("BNCLRA90A41F205X", 1), lav(&cf.to_lowercase(), 2)],
            )]);
            verifica(&mut e, &Archivio::default().con_lavoratori(archivio));
            e.domande.remove(0)
        };
        let matricola = domanda(1, "2026-03-02", "2026-03-15", 0, vec![])
            .matricola
            .unwrap();
        let unita = domanda(1, "2026-03-02", "2026-03-15", 0, vec![])
            .unita_produttiva
            .unwrap();

        // The same matricola at another unit (another address for the same place, say): the same
        // suspension, rejected, naming the protocol number, at the common worker.
        let d1 = giudica(vec![in_cig(cf, &matricola, "ALTRA", "CIGO-2026-0000003", "2026-03-09", "2026-03-22")]);
        assert_eq!(d1.esito, EsitoDomanda::Scartata);
        let f = &d1.findings[0];
        assert_eq!(f.code, "ARC-008");
        assert_eq!(f.value.as_deref(), Some("CIGO-2026-0000003"));
        assert_eq!(f.xpath.as_deref(), Some("/RichiestaCIGO/Domanda[1]/Lavoratori/Lavoratore[2]/CodiceFiscale"));
        assert_eq!((f.line, f.column), (Some(42), Some(7)));
        assert!(f.message.contains(cf) && f.message.contains("09/03/2026"), "{}", f.message);

        // Another matricola: another employment, a notice.
        let d2 = giudica(vec![in_cig(cf, "9999999999", "ALTRA", "CIGO-2026-0000004", "2026-03-09", "2026-03-22")]);
        assert_eq!(d2.esito, EsitoDomanda::ValidaConAvvisi);
        assert_eq!(d2.findings[0].code, "ARC-009");
        assert!(d2.findings[0].message.contains("9999999999"));

        // Periods that do not overlap, or the same unit (ARC-001's business): nothing here.
        let d3 = giudica(vec![
            in_cig(cf, &matricola, "ALTRA", "CIGO-2026-0000005", "2026-03-16", "2026-03-29"),
            in_cig(cf, &matricola, &unita, "CIGO-2026-0000006", "2026-03-02", "2026-03-15"),
        ]);
        assert!(d3.findings.is_empty(), "{:?}", d3.findings);

        // Two common workers with one other domanda: one finding that counts them.
        let d4 = giudica(vec![
            in_cig(cf, &matricola, "ALTRA", "CIGO-2026-0000007", "2026-03-01", "2026-03-31"),
            in_cig("BNCLRA90A41F205X", &matricola, "ALTRA", "CIGO-2026-0000007", "2026-03-01", "2026-03-31"),
        ]);
        assert_eq!(d4.findings.len(), 1);
        assert!(
            d4.findings[0]
                .message
                .starts_with("I lavoratori BNCLRA90A41F205X, "),
            "{}",
            d4.findings[0].message
        );
        assert_eq!(
            d4.findings[0].xpath.as_deref(),
            Some("/RichiestaCIGO/Domanda[1]/Lavoratori/Lavoratore[1]/CodiceFiscale")
        );
    }

    #[test]
    fn the_cruscotto_counts_as_the_rules_and_finds_the_next_week_that_fits() {
        let dati = DatiArchivio { ore_lavorabili_settimanali: Ore::from_hours(400), ..DatiArchivio::default() };
        // 48 weeks in 2025 and 4 of weather (not counted in industry): 4 weeks left today.
        let periodi = vec![
            periodo("AUT-1", "2025-01-06", "2025-12-07", 3_000, false),
            periodo("AUT-2", "2025-12-08", "2026-01-04", 100, true),
        ];
        let (u, prossima) = cruscotto(&periodi, &dati, d("2026-01-07"));
        assert_eq!((u.settimane, u.biennio_dal, u.al), (48, d("2024-01-08"), d("2026-01-07")));
        assert_eq!(u.ore, Ore::from_hours(3_100));
        assert_eq!(u.ore_limite, Some(Ore(Ore::from_hours(400 * 104).0 / 3)));
        assert_eq!((u.giorni, u.giorni_limite), (364, 731));
        assert_eq!(u.consecutive, None);
        assert_eq!(prossima, Some(d("2026-01-12")));
        // In edilizia the weather weeks count: 52 consecutive, then 52 weeks of normal activity.
        let edile = DatiArchivio { settore: Settore::Edilizia, mesi_quinquennio: 30, ..dati.clone() };
        let (u, prossima) = cruscotto(&periodi, &edile, d("2026-01-07"));
        assert_eq!(u.settimane, 52);
        assert_eq!(u.consecutive, Some((d("2025-01-06"), d("2026-01-04"), d("2027-01-04"))));
        // Free of art. 12 c. 2 from 4 January 2027, but that week's biennio (from 11 January 2025)
        // still holds 52 weeks: the first that fits is the one after.
        assert_eq!(prossima, Some(d("2027-01-11")));
        // The verdict on a domanda for the week the cruscotto names, and the one before.
        let a = Archivio::new(periodi, vec![]);
        for (dal, al, ok) in [("2027-01-11", "2027-01-17", true), ("2027-01-04", "2027-01-10", false)] {
            let mut x = domanda(1, dal, al, 0, vec![]);
            x.archivio = Some(edile.clone());
            let mut e = esito(vec![x]);
            verifica(&mut e, &a);
            assert_eq!(e.domande[0].esito.is_sendable(), ok, "{dal}: {:?}", e.domande[0].findings);
        }
    }

    #[test]
    fn the_keys_carry_the_workers_codici_fiscali() {
        let lav = |cf: &str| LavoratoreDomanda {
            codice_fiscale: cf.into(),
            data_assunzione: None,
            posizione: 1,
            line: 1,
            column: 1,
        };
        let e = esito(vec![
            domanda(1, "2026-03-02", "2026-03-15", 0, vec![lav("bnclra90a41f205x"), lav("RSSMRA85T10A562S")]),
            domanda(2, "2026-04-06", "2026-04-12", 0, vec![lav("BNCLRA90A41F205X")]),
        ]);
        assert_eq!(ChiaviArchivio::di(&e, None).codici_fiscali, ["BNCLRA90A41F205X", "RSSMRA85T10A562S"]);
    }

    #[test]
    fn workers_against_the_employment_relations() {
        let cf = "RSSMRA85T10A562S";
        let mut e = esito(vec![domanda(1, "2026-03-02", "2026-03-29", 0, vec![lav(cf, Some("2020-01-01"))])]);
        // No relations for the matricola: nothing is known, nothing is said.
        verifica(&mut e, &Archivio::default());
        assert!(codes(&e, 0).is_empty());

        let a = Archivio::new(vec![], vec![rapporto("BNCLRA90A41F205X", "2019-01-01", None)]);
        verifica(&mut e, &a);
        assert_eq!(codes(&e, 0), ["ARC-005"]);
        let f = &e.domande[0].findings[0];
        assert_eq!(f.xpath.as_deref(), Some("/RichiestaCIGO/Domanda[1]/Lavoratori/Lavoratore[1]/CodiceFiscale"));
        assert_eq!((f.line, f.column), (Some(10), Some(5)));

        let a = Archivio::new(vec![], vec![rapporto(cf, "2020-01-01", Some("2026-03-15"))]);
        let mut e = esito(vec![domanda(1, "2026-03-02", "2026-03-29", 0, vec![lav(cf, Some("2020-01-01"))])]);
        verifica(&mut e, &a);
        assert_eq!(codes(&e, 0), ["ARC-006"]);
        assert_eq!(e.domande[0].esito, EsitoDomanda::ValidaConAvvisi);
        assert!(e.domande[0].findings[0].message.contains("dal 16/03/2026"));

        // Two relations back to back cover the period; the hiring date matches the first.
        let a = Archivio::new(
            vec![],
            vec![rapporto(cf, "2020-01-01", Some("2026-03-10")), rapporto(cf, "2026-03-11", None)],
        );
        let mut e = esito(vec![domanda(1, "2026-03-02", "2026-03-29", 0, vec![lav(cf, Some("2020-01-01"))])]);
        verifica(&mut e, &a);
        assert!(codes(&e, 0).is_empty(), "{:?}", e.domande[0].findings);
        let mut e =
            esito(vec![domanda(1, "2026-03-02", "2026-03-29", 0, vec![lav(&cf.to_lowercase(), Some("2021-05-01"))])]);
        verifica(&mut e, &a);
        assert_eq!(codes(&e, 0), ["ARC-007"]);
    }
}
