//! The list of workers: each worker once, no dirigenti, the hours of each week (at most the
//! contractual hours, a notice beyond the 40 of the law's normal week, inside the period, each
//! week once) and their total (quadro C); the employment of each (inserimento contract in quadro Q, 30 days of seniority, hired before the
//! end of the period, IBAN not shared).

use super::cx::{fmt, Chi, Cx};
use super::struttura::Ids;
use crate::limits::Limits;
use crate::model::*;
use crate::rules;
use std::collections::{HashMap, HashSet};

/// Hours week by week, and their total against quadro C.
pub(super) fn check_ore(cx: &mut Cx<'_>, d: &Domanda, ids: &Ids) {
    let p = &d.periodo;
    let ordinato = p.dal <= p.al;
    let settimane = p.settimane();
    let quaranta = Ore::from_hours(40);
    let mut totale = 0i64;
    let mut visti: HashSet<String> = HashSet::with_capacity(d.lavoratori.lavoratori.len());
    for (l, li) in d.lavoratori.lavoratori.iter().zip(&ids.lavoratori) {
        let chi = Chi(&l.cognome, &l.nome);
        if !visti.insert(l.codice_fiscale.to_ascii_uppercase()) {
            cx.at(
                &rules::COE_LAVORATORE_DOPPIO,
                li.cf,
                format!(
                    "Il lavoratore {chi} ({}) compare più volte: indicarlo una sola volta, con tutte le sue settimane.",
                    l.codice_fiscale
                ),
                Some(&l.codice_fiscale),
            );
        }
        if l.qualifica.riga_e().is_none() {
            cx.at(
                &rules::COE_DIRIGENTE,
                li.qualifica,
                format!("Il lavoratore {chi} è un dirigente: i dirigenti non possono essere posti in CIG, toglierlo dall'elenco."),
                Some(l.qualifica.as_str()),
            );
        }
        let mut settimane_viste = 0u32;
        for (o, &node) in l.ore_cig.iter().zip(&ids.ore[li.ore.0..li.ore.1]) {
            totale += o.ore.0;
            if o.ore > l.ore_settimanali_contrattuali {
                cx.at(
                    &rules::COE_ORE_CONTRATTUALI,
                    node,
                    format!(
                        "Per il lavoratore {chi} nella settimana {} sono indicate {} ore di CIG, più delle {} ore settimanali contrattuali: ridurle.",
                        o.settimana, o.ore, l.ore_settimanali_contrattuali
                    ),
                    Some(&o.ore.to_string()),
                );
            } else if o.ore > quaranta {
                cx.at(
                    &rules::COE_ORE_40,
                    node,
                    format!(
                        "Per il lavoratore {chi} nella settimana {} sono indicate {} ore di CIG, oltre le 40 dell'orario normale di legge: sono integrabili perché entro l'orario contrattuale di {} ore, verificare che il contratto collettivo lo preveda.",
                        o.settimana, o.ore, l.ore_settimanali_contrattuali
                    ),
                    Some(&o.ore.to_string()),
                );
            }
            if ordinato && o.settimana > settimane {
                cx.at_attr(
                    &rules::COE_SETTIMANA_FUORI_PERIODO,
                    node,
                    "settimana",
                    format!(
                        "Per il lavoratore {chi} sono indicate ore nella settimana {}, ma il periodo comprende {settimane} settimane: correggere il numero della settimana o il periodo.",
                        o.settimana
                    ),
                    Some(&o.settimana.to_string()),
                );
            }
            let bit = 1u32 << o.settimana.min(31);
            if settimane_viste & bit != 0 {
                cx.at_attr(
                    &rules::COE_SETTIMANA_DOPPIA,
                    node,
                    "settimana",
                    format!(
                        "Per il lavoratore {chi} la settimana {} è indicata più volte: indicare le ore di ogni settimana una sola volta.",
                        o.settimana
                    ),
                    Some(&o.settimana.to_string()),
                );
            }
            settimane_viste |= bit;
        }
    }
    if totale != p.totale_ore_cig.0 {
        cx.at(
            &rules::COE_TOTALE_ORE,
            ids.c_totale,
            format!(
                "TotaleOreCIG vale {} ma la somma delle ore dei lavoratori è {}: correggere il totale (per i limiti valgono le ore dei lavoratori).",
                p.totale_ore_cig,
                Ore(totale)
            ),
            Some(&p.totale_ore_cig.to_string()),
        );
    }
}

/// Employment: inserimento contracts (quadro Q), seniority, hiring date, IBAN.
pub(super) fn check_rapporti(cx: &mut Cx<'_>, d: &Domanda, ids: &Ids, limits: &Limits) {
    let p = &d.periodo;
    let eone = p.causale.oggettivamente_non_evitabile();
    let contratti: HashSet<String> = d
        .quadro_q
        .iter()
        .flat_map(|qq| qq.contratti.iter())
        .map(|c| c.codice_fiscale.to_ascii_uppercase())
        .collect();
    let riferimento = limits.data_presentazione.unwrap_or(p.dal);
    let mut iban_visti: HashMap<&str, &str> = HashMap::new();
    let mut inserimento = HashSet::new();
    for (l, li) in d.lavoratori.lavoratori.iter().zip(&ids.lavoratori) {
        let chi = format!("{} {}", l.cognome, l.nome);
        let cf_up = l.codice_fiscale.to_ascii_uppercase();
        if l.tipo_orario == TipoOrario::Inserimento {
            inserimento.insert(cf_up.clone());
            if !contratti.contains(&cf_up) {
                cx.at(
                    &rules::COE_INSERIMENTO_Q,
                    li.cf,
                    format!("Il lavoratore {chi} ha un contratto di inserimento: indicarne i dati nel quadro Q."),
                    Some(&l.codice_fiscale),
                );
            }
        }
        if let (Some(ass), Some(node)) = (l.data_assunzione, li.assunzione) {
            if ass > p.al {
                cx.at(
                    &rules::COE_ASSUNTO_DOPO,
                    node,
                    format!(
                        "Il lavoratore {chi} risulta assunto il {}, dopo la fine del periodo di CIG ({}): toglierlo dall'elenco o correggere la data.",
                        fmt(ass),
                        fmt(p.al)
                    ),
                    Some(&ass.to_string()),
                );
            } else if !eone && (riferimento - ass).num_days() < 30 {
                cx.at(
                    &rules::COE_ANZIANITA,
                    node,
                    format!(
                        "Il lavoratore {chi} è assunto dal {}: al {} non ha 30 giorni di anzianità nell'unità produttiva, richiesti per la causale {}. Toglierlo dall'elenco.",
                        fmt(ass),
                        fmt(riferimento),
                        p.causale
                    ),
                    Some(&ass.to_string()),
                );
            }
        }
        if let (Some(iban), Some(node)) = (&l.iban, li.iban) {
            if let Some(altro) = iban_visti.insert(iban.as_str(), l.codice_fiscale.as_str()) {
                if !altro.eq_ignore_ascii_case(&l.codice_fiscale) {
                    cx.at(
                        &rules::COE_IBAN_DOPPIO,
                        node,
                        format!("L'IBAN di {chi} è lo stesso di un altro lavoratore ({altro}): verificarlo."),
                        Some(iban),
                    );
                }
            }
        }
    }
    if let Some(qq) = &d.quadro_q {
        for (c, &node) in qq.contratti.iter().zip(&ids.q_cf) {
            if !inserimento.contains(&c.codice_fiscale.to_ascii_uppercase()) {
                cx.at(
                    &rules::COE_Q_SCONOSCIUTO,
                    node,
                    format!(
                        "Il quadro Q indica un contratto di inserimento per {}, che non è nell'elenco dei lavoratori con tipo orario INSERIMENTO: verificare.",
                        c.codice_fiscale
                    ),
                    Some(&c.codice_fiscale),
                );
            }
        }
    }
}
