//! The relazione tecnica: what each causale needs it to say (DM 95442/2016 art. 2), the date of
//! the event inside the period, the economic indicators each period once.

use super::cx::{fmt, Cx};
use super::struttura::Ids;
use crate::model::*;
use crate::rules;
use std::collections::{HashMap, HashSet};

pub(super) fn check(cx: &mut Cx<'_>, d: &Domanda, ids: &Ids) {
    let p = &d.periodo;
    if let Some(rel) = &d.relazione {
        let manca = match p.causale {
            Causale::MancanzaLavoro | Causale::CrisiMercato => rel
                .indicatori
                .as_ref()
                .is_none_or(|i| i.indicatori.is_empty())
                .then_some("IndicatoriEconomici (fatturato e ordinativi per anno o trimestre)"),
            Causale::GuastoMacchinari | Causale::ManutenzioneStraordinaria => {
                rel.macchinario.is_none().then_some("Macchinario")
            }
            Causale::MancanzaMateriePrime => rel.fornitore.is_none().then_some("Fornitore"),
            Causale::EventiMeteo => rel.bollettino_meteo.is_none().then_some("BollettinoMeteo"),
            Causale::SospensioneAutorita | Causale::ImpraticabilitaLocali => rel
                .provvedimento_autorita
                .is_none()
                .then_some("ProvvedimentoAutorita"),
            _ => None,
        };
        if let Some(campo) = manca {
            cx.at(
                &rules::COE_RELAZIONE_CAUSALE,
                ids.rel,
                format!("Per la causale {} la relazione tecnica deve indicare {campo}: aggiungerlo.", p.causale),
                Some(p.causale.as_str()),
            );
        }
        if let (Some(ev), Some(node)) = (rel.data_evento, ids.rel_data) {
            if ev > p.al {
                cx.at(
                    &rules::COE_EVENTO_DOPO,
                    node,
                    format!(
                        "L'evento della relazione tecnica è del {}, dopo la fine del periodo di CIG ({}): correggere la data.",
                        fmt(ev),
                        fmt(p.al)
                    ),
                    Some(&ev.to_string()),
                );
            }
        }
        if let Some(ind) = &rel.indicatori {
            let mut visti: HashMap<u32, (bool, HashSet<Option<u32>>)> = HashMap::new();
            for (i, &node) in ind.indicatori.iter().zip(&ids.indicatori) {
                let e = visti
                    .entry(i.anno)
                    .or_insert((i.trimestre.is_some(), HashSet::new()));
                let misto = e.0 != i.trimestre.is_some();
                if misto || !e.1.insert(i.trimestre) {
                    let periodo = match i.trimestre {
                        Some(t) => format!("{}° trimestre {}", t, i.anno),
                        None => format!("anno {}", i.anno),
                    };
                    cx.at(
                        &rules::COE_INDICATORI,
                        node,
                        format!(
                            "Gli indicatori economici del {periodo} sono ripetuti o mescolano dati annuali e trimestrali dello stesso anno: indicare ogni periodo una sola volta."
                        ),
                        Some(&i.anno.to_string()),
                    );
                }
            }
        }
    }
}
