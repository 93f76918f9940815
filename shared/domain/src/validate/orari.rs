//! Quadri G1-G4, the contractual schedules and the hours asked week by week for each tipo orario
//! and qualifica, against the list of workers and quadro E.

use super::cx::Cx;
use super::struttura::Ids;
use crate::model::*;
use crate::rules;
use std::collections::{HashMap, HashSet};

/// Hours of CIG of the list of workers by (week, tipo orario, qualifica of quadro E).
type OrePerGruppo = HashMap<(u32, TipoOrario, QualificaE), i64>;

pub(super) fn check(cx: &mut Cx<'_>, d: &Domanda, ids: &Ids) {
    let Some(g) = &d.quadro_g else { return };
    let mut ore_lav = OrePerGruppo::new();
    for l in &d.lavoratori.lavoratori {
        let Some(qe) = l.qualifica.riga_e() else { continue };
        for o in &l.ore_cig {
            *ore_lav.entry((o.settimana, l.tipo_orario, qe)).or_default() += o.ore.0;
        }
    }
    check_orari_doppi(cx, g, ids);
    let gruppi = check_settimane(cx, d, g, ids, &ore_lav);
    check_gruppi_mancanti(cx, ids, &ore_lav, &gruppi);
}

/// Each contractual schedule once per (tipo orario, qualifica).
fn check_orari_doppi(cx: &mut Cx<'_>, g: &QuadroG, ids: &Ids) {
    let mut orari_visti = HashSet::new();
    for (o, &(node, _, _)) in g.orari.iter().zip(&ids.g_orari) {
        if !orari_visti.insert((o.tipo_orario, o.qualifica)) {
            cx.at(
                &rules::COE_GH_DOPPIA,
                node,
                format!(
                    "L'orario contrattuale {} / {} è indicato più volte: indicarlo una sola volta.",
                    o.tipo_orario, o.qualifica
                ),
                None,
            );
        }
    }
}

/// Each week inside the period and once per group, its hours those of the workers, its workers
/// within those in CIG of quadro E. Returns the groups (tipo orario, qualifica) G reports.
fn check_settimane(
    cx: &mut Cx<'_>,
    d: &Domanda,
    g: &QuadroG,
    ids: &Ids,
    ore_lav: &OrePerGruppo,
) -> HashSet<(TipoOrario, QualificaE)> {
    let p = &d.periodo;
    let settimane = if p.dal <= p.al { p.settimane() } else { 0 };
    let mut viste = HashSet::new();
    let mut gruppi = HashSet::new();
    for (s, &(node, ore_node)) in g.settimane.iter().zip(&ids.g_sett) {
        let k = (s.numero, s.tipo_orario, s.qualifica);
        gruppi.insert((s.tipo_orario, s.qualifica));
        if s.numero > settimane && p.dal <= p.al {
            cx.settimana_fuori_periodo(node, "G", s.numero, settimane);
        }
        if !viste.insert(k) {
            cx.at_attr(
                &rules::COE_GH_DOPPIA,
                node,
                "numero",
                format!(
                    "Il quadro G indica più volte la settimana {} per {} / {}: indicarla una sola volta.",
                    s.numero, s.tipo_orario, s.qualifica
                ),
                Some(&s.numero.to_string()),
            );
            continue;
        }
        let attese = ore_lav.get(&k).copied().unwrap_or(0);
        if attese != s.ore_cig.0 {
            cx.at(
                &rules::COE_G_ORE_LAVORATORI,
                ore_node,
                format!(
                    "Quadro G, settimana {} ({} / {}): sono richieste {} ore ma la somma delle ore dei lavoratori è {}: correggere il quadro G o l'elenco.",
                    s.numero,
                    s.tipo_orario,
                    s.qualifica,
                    s.ore_cig,
                    Ore(attese)
                ),
                Some(&s.ore_cig.to_string()),
            );
        }
        let in_cig = d
            .quadro_e
            .righe
            .iter()
            .find(|r| r.tipo_orario == s.tipo_orario && r.qualifica == s.qualifica)
            .map(|r| r.totale_in_cig)
            .unwrap_or(0);
        if s.sospesi as u64 + s.orario_ridotto as u64 > in_cig as u64 {
            cx.at(
                &rules::COE_G_QUADRO_E,
                node,
                format!(
                    "Quadro G, settimana {} ({} / {}): {} sospesi e {} a orario ridotto superano i {in_cig} lavoratori in CIG del quadro E.",
                    s.numero, s.tipo_orario, s.qualifica, s.sospesi, s.orario_ridotto
                ),
                Some(&(s.sospesi + s.orario_ridotto).to_string()),
            );
        }
    }
    gruppi
}

/// Every group with hours in the list of workers has its weeks in G.
fn check_gruppi_mancanti(
    cx: &mut Cx<'_>,
    ids: &Ids,
    ore_lav: &OrePerGruppo,
    gruppi: &HashSet<(TipoOrario, QualificaE)>,
) {
    let mut mancanti: Vec<(TipoOrario, QualificaE)> = ore_lav
        .iter()
        .filter(|(k, &v)| v > 0 && !gruppi.contains(&(k.1, k.2)))
        .map(|(k, _)| (k.1, k.2))
        .collect();
    mancanti.sort();
    mancanti.dedup();
    for (t, qe) in mancanti {
        let quadro = match t {
            TipoOrario::TempoPieno => "G1",
            TipoOrario::PartTime => "G2",
            TipoOrario::Inserimento => "G3",
            TipoOrario::Solidarieta => "G4",
        };
        cx.at(
            &rules::COE_G_MANCANTE,
            ids.g,
            format!(
                "L'elenco contiene lavoratori {t} / {qe} con ore di CIG, ma il quadro {quadro} non ne riporta le settimane: aggiungerle al quadro G."
            ),
            Some(t.as_str()),
        );
    }
}
