//! Between domande of one richiesta: two periods of the same matricola and unità produttiva must
//! not overlap (COE-015), and a worker is in CIG once for the same hours: the same workers in two
//! domande of the same matricola for overlapping periods are the same suspension whatever the
//! units' keys say (COE-060), and a worker of two matricole for overlapping periods is worth a
//! look (COE-061). See `archivio::stessi_lavoratori` for the same rules against the archive.

use super::cx::Cx;
use super::struttura::Ids;
use crate::model::Domanda;
use crate::{archivio, rules};
use chrono::NaiveDate;
use std::collections::HashMap;

/// (dal, al, progressivo) of a domanda already read.
type Visto = (NaiveDate, NaiveDate, u32);

/// A domanda already read, as the worker rules need it.
struct Vista {
    dal: NaiveDate,
    al: NaiveDate,
    progressivo: u32,
    matricola: String,
    unita: String,
}

/// Per richiesta: the periods seen so far for each (matricola, unità produttiva), and the domande
/// each worker (codice fiscale, upper case) was seen in. Only these small keys are kept, never
/// the domande themselves.
#[derive(Default)]
pub(super) struct OverlapIndex {
    seen: HashMap<(String, String), Vec<Visto>>,
    viste: Vec<Vista>,
    per_lavoratore: HashMap<String, Vec<usize>>,
}

pub(super) fn check(cx: &mut Cx<'_>, d: &Domanda, ids: &Ids, idx: &mut OverlapIndex) {
    let p = &d.periodo;
    if p.dal > p.al {
        return;
    }
    let key = (d.azienda.matricola.clone(), d.unita_produttiva.key());
    let entry = idx.seen.entry(key.clone()).or_default();
    if let Some(&(dal, al, prog)) = entry
        .iter()
        .find(|(dal, al, _)| archivio::periodi_sovrapposti(*dal, *al, p.dal, p.al))
    {
        cx.at(
            &rules::COE_DOMANDE_SOVRAPPOSTE,
            ids.c_dal,
            format!(
                "Il periodo si sovrappone a quello della domanda {prog} della stessa richiesta (dal {} al {}) per la stessa matricola e unità produttiva: unire le due domande o correggere i periodi.",
                data(dal),
                data(al)
            ),
            Some(&prog.to_string()),
        );
    }
    entry.push((p.dal, p.al, cx.dpos));
    stessi_lavoratori(cx, d, ids, idx, &key);
}

/// COE-060 and COE-061: one finding per earlier domanda that shares workers with this one for an
/// overlapping period (the same matricola and unit is COE-015 already), at the first common
/// worker; then this domanda's workers are recorded for the domande after it.
fn stessi_lavoratori(cx: &mut Cx<'_>, d: &Domanda, ids: &Ids, idx: &mut OverlapIndex, key: &(String, String)) {
    let p = &d.periodo;
    let corrente = idx.viste.len();
    // Earlier domanda (index in `viste`) -> (position of the first common worker, how many).
    let mut comuni: Vec<(usize, usize, usize)> = Vec::new();
    for (i, l) in d.lavoratori.lavoratori.iter().enumerate() {
        let cf = l.codice_fiscale.to_ascii_uppercase();
        let viste = idx.per_lavoratore.entry(cf).or_default();
        for &v in viste.iter().filter(|&&v| v != corrente) {
            let altra = &idx.viste[v];
            let stessa_unita = altra.matricola == key.0 && altra.unita == key.1;
            if stessa_unita || !archivio::periodi_sovrapposti(altra.dal, altra.al, p.dal, p.al) {
                continue;
            }
            match comuni.iter_mut().find(|(o, _, _)| *o == v) {
                Some((_, _, n)) => *n += 1,
                None => comuni.push((v, i, 1)),
            }
        }
        if viste.last() != Some(&corrente) {
            viste.push(corrente);
        }
    }
    for (v, i, n) in comuni {
        let altra = &idx.viste[v];
        let cf = d.lavoratori.lavoratori[i]
            .codice_fiscale
            .to_ascii_uppercase();
        let chi = match n {
            1 => format!("Il lavoratore {cf} è"),
            n => format!("{n} lavoratori (tra cui {cf}) sono"),
        };
        let (rule, message) = if altra.matricola == key.0 {
            (
                &rules::COE_STESSA_SOSPENSIONE,
                format!(
                    "{chi} anche nella domanda {} della stessa richiesta, per la stessa matricola e il periodo dal {} al {} che si sovrappone a questo, con un'altra unità produttiva: è la stessa sospensione, le stesse ore non possono essere integrate due volte. Unire le due domande o togliere i lavoratori da una.",
                    altra.progressivo,
                    data(altra.dal),
                    data(altra.al)
                ),
            )
        } else {
            (
                &rules::COE_LAVORATORE_ALTRA_MATRICOLA,
                format!(
                    "{chi} anche nella domanda {} della stessa richiesta, della matricola {}, per il periodo dal {} al {} che si sovrappone a questo: ammesso solo per un altro rapporto di lavoro (con il proprio orario contrattuale), verificare che non si tratti delle stesse ore.",
                    altra.progressivo,
                    altra.matricola,
                    data(altra.dal),
                    data(altra.al)
                ),
            )
        };
        let node = ids.lavoratori.get(i).map_or(ids.c_dal, |l| l.cf);
        cx.at(rule, node, message, Some(&altra.progressivo.to_string()));
    }
    idx.viste.push(Vista {
        dal: p.dal,
        al: p.al,
        progressivo: cx.dpos,
        matricola: key.0.clone(),
        unita: key.1.clone(),
    });
}

fn data(d: NaiveDate) -> String {
    d.format("%d/%m/%Y").to_string()
}
