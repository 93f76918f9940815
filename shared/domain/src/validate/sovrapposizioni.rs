//! Between domande of one richiesta: two periods of the same matricola and unità produttiva must
//! not overlap.

use super::cx::Cx;
use super::struttura::Ids;
use crate::model::Domanda;
use crate::{archivio, rules};
use chrono::NaiveDate;
use std::collections::HashMap;

/// (dal, al, progressivo) of a domanda already read.
type Visto = (NaiveDate, NaiveDate, u32);

/// Per richiesta: the periods seen so far for each (matricola, unità produttiva).
#[derive(Default)]
pub(super) struct OverlapIndex {
    seen: HashMap<(String, String), Vec<Visto>>,
}

pub(super) fn check(cx: &mut Cx<'_>, d: &Domanda, ids: &Ids, idx: &mut OverlapIndex) {
    let p = &d.periodo;
    if p.dal > p.al {
        return;
    }
    let key = (d.azienda.matricola.clone(), d.unita_produttiva.key());
    let entry = idx.seen.entry(key).or_default();
    if let Some(&(dal, al, prog)) = entry
        .iter()
        .find(|(dal, al, _)| archivio::periodi_sovrapposti(*dal, *al, p.dal, p.al))
    {
        cx.at(
            &rules::COE_DOMANDE_SOVRAPPOSTE,
            ids.c_dal,
            format!(
                "Il periodo si sovrappone a quello della domanda {prog} della stessa richiesta (dal {} al {}) per la stessa matricola e unità produttiva: unire le due domande o correggere i periodi.",
                dal.format("%d/%m/%Y"),
                al.format("%d/%m/%Y")
            ),
            Some(&prog.to_string()),
        );
    }
    entry.push((p.dal, p.al, cx.dpos));
}
