//! Weather events (causale EVENTI_METEO): the site in quadro B, the event codes and the daily hours
//! of quadro H, its weeks inside the period.

use super::cx::Cx;
use super::struttura::Ids;
use crate::model::*;
use crate::parse::NodeId;
use crate::rules;
use std::collections::HashSet;

pub(super) fn check(cx: &mut Cx<'_>, d: &Domanda, ids: &Ids) {
    let p = &d.periodo;
    if p.causale == Causale::EventiMeteo && d.unita_produttiva.cantiere.is_none() {
        cx.at(
            &rules::COE_METEO_CANTIERE,
            ids.b,
            "Per la causale EVENTI_METEO compilare nel quadro B l'elemento Cantiere (genere di attività, fase lavorativa, mansioni, lavori al coperto o allo scoperto).".into(),
            None,
        );
    }
    let codici: Vec<(CodiceEvento, NodeId)> = d
        .quadro_h
        .iter()
        .flat_map(|h| h.settimane.iter().flat_map(|s| s.giorni.iter()))
        .zip(&ids.h_giorni)
        .filter_map(|(g, &(_, _, c))| Some((g.codice_evento?, c?)))
        .collect();
    if p.causale == Causale::EventiMeteo && codici.is_empty() {
        cx.at(
            &rules::COE_METEO_CODICI,
            ids.c_causale,
            "Per la causale EVENTI_METEO compilare il quadro H indicando il codice evento (1-8) nei giorni con ore da integrare.".into(),
            Some(p.causale.as_str()),
        );
    }
    if let Some(h) = &d.quadro_h {
        if h.descrizione_evento.is_none() {
            if let Some(&(_, node)) = codici.iter().find(|(c, _)| *c == CodiceEvento::Altro) {
                cx.at(
                    &rules::COE_EVENTO_ALTRO,
                    node,
                    "Con il codice evento 8 (altro) descrivere l'evento in DescrizioneEvento del quadro H.".into(),
                    Some("8"),
                );
            }
        }
        if p.causale != Causale::EventiMeteo {
            if let Some(&(c, node)) = codici.first() {
                cx.at(
                    &rules::COE_EVENTO_SENZA_METEO,
                    node,
                    format!(
                        "Il quadro H indica il codice evento meteo {c} ma la causale è {}: togliere i codici evento o correggere la causale.",
                        p.causale
                    ),
                    Some(c.as_str()),
                );
            }
        }
        check_settimane_h(cx, h, ids, p);
    }
}

/// Quadro H week by week: inside the period, each week and each day once, each day's total the
/// sum of its hours.
fn check_settimane_h(cx: &mut Cx<'_>, h: &QuadroH, ids: &Ids, p: &Periodo) {
    let settimane = if p.dal <= p.al { p.settimane() } else { 0 };
    let mut viste = HashSet::new();
    let mut gi = ids.h_giorni.iter();
    for (s, &node) in h.settimane.iter().zip(&ids.h_sett) {
        if s.numero > settimane && p.dal <= p.al {
            cx.settimana_fuori_periodo(node, "H", s.numero, settimane);
        }
        if !viste.insert(s.numero) {
            cx.at_attr(
                &rules::COE_GH_DOPPIA,
                node,
                "numero",
                format!("Il quadro H indica più volte la settimana {}: indicarla una sola volta.", s.numero),
                Some(&s.numero.to_string()),
            );
        }
        let mut giorni_visti = HashSet::new();
        for g in &s.giorni {
            let Some(&(gnode, tnode, _)) = gi.next() else { break };
            if !giorni_visti.insert(g.giorno) {
                cx.at_attr(
                    &rules::COE_GH_DOPPIA,
                    gnode,
                    "giorno",
                    format!("Nel quadro H la settimana {} indica più volte il giorno {}.", s.numero, g.giorno),
                    Some(g.giorno.as_str()),
                );
            }
            let somma = Ore(g.ordinarie.0 + g.straordinarie.0 + g.altro.0);
            if somma != g.totale {
                cx.at(
                    &rules::COE_H_TOTALE,
                    tnode,
                    format!(
                        "Quadro H, settimana {} giorno {}: il totale è {} ma ordinarie + straordinarie + altro fanno {somma}: correggere il totale.",
                        s.numero, g.giorno, g.totale
                    ),
                    Some(&g.totale.to_string()),
                );
            }
        }
    }
}
