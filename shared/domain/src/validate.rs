//! Prevalidation: streams a richiesta one domanda at a time ([`crate::parse`]), maps each domanda to
//! the typed model collecting structural findings (layer STRUTTURA, what the XSD says), then, when
//! the structure is sound, runs the field (CAMPI) and coherence (COERENZA) rules on the typed model.
//! Layers are ordered as in Peppol's phive: a domanda with structural errors is not checked further
//! (it is already rejected; the user fixes the structure first).

use crate::archivio::{DatiArchivio, LavoratoreDomanda};
use crate::esito::{DomandaEsito, EsitoPrevalidazione};
use crate::finding::{truncate_value, Finding, Severity};
use crate::model::*;
use crate::parse::{self, NodeId, Tag, Tree};
use crate::rules;
use chrono::NaiveDate;
use cx::{collapse, parse_date, Cx};
use struttura::Ids;

pub use crate::limits::Limits;
pub use crate::rules::RULE_SET;

mod campi;
mod cx;
mod dichiarazioni;
mod forza;
mod lavoratori;
mod meteo;
mod orari;
mod periodo;
mod relazione;
mod ripresa;
mod sindacale;
mod sovrapposizioni;
mod struttura;
mod termini;

/// Streams the file one domanda at a time (never the whole richiesta in memory) and runs every rule.
///
/// Never panics, whatever the bytes. A file-level failure gives `file_finding = Some(..)` (layer
/// FILE) and no domande.
pub fn prevalidate<R: std::io::BufRead>(reader: R, limits: &Limits) -> EsitoPrevalidazione {
    let mut domande = Vec::new();
    let mut overlap = sovrapposizioni::OverlapIndex::default();
    let mut total = 0usize;
    let res = parse::stream(reader, limits, |tree, pos| {
        let mut d = validate_domanda(tree, pos, limits, &mut overlap);
        if total >= limits.max_findings_per_file && !d.findings.is_empty() {
            let n = d.findings.len();
            let first_error = d
                .findings
                .iter()
                .position(|f| f.severity == Severity::Errore);
            let mut kept: Vec<Finding> = first_error
                .map(|i| d.findings.swap_remove(i))
                .into_iter()
                .collect();
            if n > kept.len() {
                let mut f = rules::COE_SEGNALAZIONI_TRONCATE.finding(format!(
                    "Il file ha superato {} segnalazioni: per questa domanda ne sono omesse {}. Correggere le segnalazioni riportate e ripetere la prevalidazione.",
                    limits.max_findings_per_file,
                    n - kept.len()
                ));
                f.xpath = Some(format!("/RichiestaCIGO/Domanda[{pos}]"));
                f.line = Some(tree.node(0).line);
                f.column = Some(tree.node(0).column);
                kept.push(f);
            }
            d.findings = kept;
        }
        total += d.findings.len();
        domande.push(d);
    });
    match res {
        Ok(_) => EsitoPrevalidazione { file_finding: None, domande, rule_set: RULE_SET.to_string() },
        Err(f) => EsitoPrevalidazione { file_finding: Some(f), domande: Vec::new(), rule_set: RULE_SET.to_string() },
    }
}

fn validate_domanda(
    tree: &Tree,
    pos: u32,
    limits: &Limits,
    overlap: &mut sovrapposizioni::OverlapIndex,
) -> DomandaEsito {
    let mut cx = Cx { t: tree, dpos: pos, findings: Vec::new(), dates: Vec::new() };
    let mut ids = Ids::default();
    let mapped = match struttura::map_domanda(&mut cx, &mut ids) {
        Ok(d) => {
            campi::check(&mut cx, &campi::Campi::di(&d), &ids);
            check_coerenza(&mut cx, &d, &ids, limits);
            sovrapposizioni::check(&mut cx, &d, &ids, overlap);
            Some(d)
        }
        Err(letta) => {
            campi::check(&mut cx, &campi::Campi::letti(&letta), &ids);
            controlli_non_eseguiti(&mut cx, &letta);
            None
        }
    };
    let summary = Summary::from_tree(tree);
    let archivio = mapped.as_ref().map(|d| dati_archivio(tree, d, &ids));
    let esito = DomandaEsito::esito_from(&cx.findings);
    let mut findings = cx.findings;
    if findings.len() > limits.max_findings_per_domanda {
        let total = findings.len();
        // Keep the errors first so that the esito stays explained.
        findings.sort_by_key(|f| f.severity != Severity::Errore);
        findings.truncate(limits.max_findings_per_domanda);
        let mut f = rules::COE_SEGNALAZIONI_TRONCATE.finding(format!(
            "La domanda ha {total} segnalazioni: sono riportate le prime {}. Correggere quelle indicate e ripetere la prevalidazione.",
            limits.max_findings_per_domanda
        ));
        f.xpath = Some(format!("/RichiestaCIGO/Domanda[{pos}]"));
        f.line = Some(tree.node(0).line);
        f.column = Some(tree.node(0).column);
        findings.push(f);
    }
    DomandaEsito {
        progressivo: pos,
        matricola: summary.matricola,
        codice_fiscale_azienda: summary.codice_fiscale,
        denominazione: summary.denominazione,
        unita_produttiva: summary.unita,
        periodo_dal: summary.dal,
        periodo_al: summary.al,
        esito,
        findings,
        archivio,
    }
}

/// STR-099: what could not be checked on a domanda whose structure is not sound, and why. The
/// domanda is rejected already; the notice tells the intermediario that correcting the structure
/// errors is not the end of it, so that no error comes as a surprise at the next upload.
fn controlli_non_eseguiti(cx: &mut Cx<'_>, letta: &struttura::Letta) {
    let non_lette = letta.non_lette();
    let campi = match non_lette.as_slice() {
        [] => String::new(),
        [uno] => format!("i controlli dei campi di {uno}, "),
        molti => format!("i controlli dei campi di {}, ", molti.join(", ")),
    };
    cx.at(
        &rules::STR_CONTROLLI_NON_ESEGUITI,
        0,
        format!(
            "Controlli non eseguiti per gli errori di struttura della domanda: {campi}i controlli di coerenza tra i quadri, con le altre domande della richiesta e con l'archivio. Saranno eseguiti alla prossima prevalidazione, corretti gli errori indicati."
        ),
        None,
    );
}

/// Layer COERENZA inside one domanda, subject by subject, in the order the findings are reported.
fn check_coerenza(cx: &mut Cx<'_>, d: &Domanda, ids: &Ids, limits: &Limits) {
    periodo::check(cx, d, ids);
    lavoratori::check_ore(cx, d, ids);
    forza::check(cx, d, ids);
    ripresa::check(cx, d, ids);
    meteo::check(cx, d, ids);
    orari::check(cx, d, ids);
    lavoratori::check_rapporti(cx, d, ids, limits);
    sindacale::check(cx, d, ids);
    dichiarazioni::check(cx, d, ids);
    relazione::check(cx, d, ids);
    termini::check(cx, d, ids, limits);
}

/// What the archive rules (layer 5, `archivio::verifica`) need from a domanda that could be read.
fn dati_archivio(tree: &Tree, d: &Domanda, ids: &Ids) -> DatiArchivio {
    let listati = &d.lavoratori.lavoratori;
    let media_contrattuale = if listati.is_empty() {
        Ore::from_hours(40).0
    } else {
        listati
            .iter()
            .map(|l| l.ore_settimanali_contrattuali.0)
            .sum::<i64>()
            / listati.len() as i64
    };
    // The sector: declared in v2; a v1 file cannot say it, and the limits presume it
    // ([`Settore::presunto`]), which the findings that depend on it say (`settore_presunto`).
    let (settore, settore_presunto) = match d.azienda.settore {
        Some(s) => (s, false),
        None => (Settore::presunto(d.azienda.attivita.as_deref()), true),
    };
    // The one-third limit counts all the workers of the unità produttiva mediamente occupati in
    // the previous semester, by contractual hours (art. 12 c. 5-6): v2 states them. A v1 file
    // does not: the best base it holds is quadro E's workers in force at the unit times the
    // listed workers' average contractual hours (quadro A counts the whole azienda, a base
    // several times too high for an azienda with several units).
    let (ore_lavorabili, base_presunta) = match &d.quadro_e.occupati_semestre {
        Some(o) => (o.ore_settimanali(), None),
        None => {
            let in_forza_unita: u32 = d.quadro_e.righe.iter().map(|r| r.in_forza).sum();
            let listati_ore: i64 = listati
                .iter()
                .map(|l| l.ore_settimanali_contrattuali.0)
                .sum();
            (Ore(i64::from(in_forza_unita).saturating_mul(media_contrattuale)), Some(Ore(listati_ore)))
        }
    };
    // The hours that count are the workers' (COE-006 rejects a quadro C total that differs).
    let ore_lavoratori: i64 = listati
        .iter()
        .flat_map(|l| l.ore_cig.iter())
        .map(|o| o.ore.0)
        .sum();
    DatiArchivio {
        ore_cig: Ore(ore_lavoratori),
        evento_non_evitabile: d.periodo.causale.oggettivamente_non_evitabile(),
        mesi_quinquennio: if settore.edile_o_lapideo() { 30 } else { 24 },
        settore,
        settore_presunto,
        ore_lavorabili_settimanali: ore_lavorabili,
        ore_lavorabili_minime: base_presunta,
        lavoratori: listati
            .iter()
            .zip(&ids.lavoratori)
            .zip(1u32..)
            .map(|((l, li), posizione)| {
                let n = tree.node(li.cf);
                LavoratoreDomanda {
                    codice_fiscale: l.codice_fiscale.clone(),
                    data_assunzione: l.data_assunzione,
                    posizione,
                    line: n.line,
                    column: n.column,
                }
            })
            .collect(),
        causale: Some(d.periodo.causale.as_str().to_string()),
        termine_presentazione: Some(crate::termine::termine_presentazione(d)),
    }
}

/// Keys of a domanda read straight from the tree (also when the structure is broken).
struct Summary {
    matricola: Option<String>,
    codice_fiscale: Option<String>,
    denominazione: Option<String>,
    unita: Option<String>,
    dal: Option<NaiveDate>,
    al: Option<NaiveDate>,
}

impl Summary {
    fn from_tree(t: &Tree) -> Summary {
        let child = |p: NodeId, tag: Tag| t.children(p).find(|&c| t.node(c).tag == tag);
        let val = |p: Option<NodeId>, tag: Tag| {
            p.and_then(|p| child(p, tag))
                .map(|c| collapse(t.text(c)))
                .filter(|s| !s.is_empty())
        };
        let a = child(0, Tag::QuadroA);
        let b = child(0, Tag::QuadroB);
        let c = child(0, Tag::QuadroC);
        let unita =
            match (val(b, Tag::CodiceUnitaProduttiva), val(b, Tag::Cap), val(b, Tag::Comune), val(b, Tag::Indirizzo)) {
                (Some(codice), ..) if t.versione == Versione::V2 => Some(unita_key_codice(&codice)),
                (_, Some(cap), Some(comune), Some(ind)) => Some(unita_key(&cap, &comune, &ind)),
                _ => None,
            };
        Summary {
            matricola: val(a, Tag::Matricola).map(|s| truncate_value(&s)),
            codice_fiscale: val(a, Tag::CodiceFiscale).map(|s| truncate_value(&s)),
            denominazione: val(a, Tag::Denominazione).map(|s| truncate_value(&s)),
            unita: unita.map(|s| truncate_value(&s)),
            dal: val(c, Tag::PeriodoDal).and_then(|s| parse_date(&s)),
            al: val(c, Tag::PeriodoAl).and_then(|s| parse_date(&s)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(parse_date(" 2026-01-05 "), NaiveDate::from_ymd_opt(2026, 1, 5));
        assert_eq!(parse_date("2026-02-30"), None);
        assert_eq!(parse_date("2026-1-05"), None);
        assert_eq!(parse_date("2026-01-05Z"), None);
    }
}
