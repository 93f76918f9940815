//! Quadro C against itself and quadro A: the domanda's position in the file, the period (order,
//! at most 13 calendar weeks, the declared number of weeks), the start of the activity, the causale
//! ALTRO (not a causale of the DM).

use super::cx::{fmt, Cx};
use super::struttura::Ids;
use crate::model::*;
use crate::rules;

pub(super) fn check(cx: &mut Cx<'_>, d: &Domanda, ids: &Ids) {
    let p = &d.periodo;
    let ordinato = p.dal <= p.al;
    let settimane = p.settimane();
    if cx.dpos != d.progressivo {
        cx.at_attr(
            &rules::COE_PROGRESSIVO,
            0,
            "progressivo",
            format!(
                "Il progressivo {} non corrisponde alla posizione della domanda nel file ({}): numerare le domande 1, 2, 3, ... nell'ordine del file.",
                d.progressivo, cx.dpos
            ),
            Some(&d.progressivo.to_string()),
        );
    }
    if !ordinato {
        cx.at(
            &rules::COE_PERIODO_INVERTITO,
            ids.c_al,
            format!(
                "Il periodo termina il {} prima di iniziare il {}: correggere PeriodoDal o PeriodoAl.",
                fmt(p.al),
                fmt(p.dal)
            ),
            Some(&p.al.to_string()),
        );
    } else {
        if settimane > 13 {
            cx.at(
                &rules::COE_MAX_13_SETTIMANE,
                ids.c_al,
                format!(
                    "Il periodo dal {} al {} copre {settimane} settimane: una domanda può riguardare al massimo 13 settimane consecutive; per il periodo successivo presentare una domanda di proroga.",
                    fmt(p.dal),
                    fmt(p.al)
                ),
                Some(&p.al.to_string()),
            );
        }
        if p.numero_settimane != settimane {
            cx.at(
                &rules::COE_NUMERO_SETTIMANE,
                ids.c_settimane,
                format!(
                    "NumeroSettimane vale {} ma il periodo dal {} al {} copre {settimane} settimane: correggere il numero di settimane.",
                    p.numero_settimane,
                    fmt(p.dal),
                    fmt(p.al)
                ),
                Some(&p.numero_settimane.to_string()),
            );
        }
    }
    if let (Some(inizio), Some(node)) = (d.azienda.data_inizio_attivita, ids.a_data_inizio) {
        if inizio > p.dal {
            cx.at(
                &rules::COE_INIZIO_ATTIVITA,
                node,
                format!(
                    "L'attività risulta iniziata il {}, dopo l'inizio del periodo di CIG ({}): verificare le date.",
                    fmt(inizio),
                    fmt(p.dal)
                ),
                Some(&inizio.to_string()),
            );
        }
    }
    if p.causale == Causale::Altro {
        cx.at(
            &rules::COE_CAUSALE_NON_AMMESSA,
            ids.c_causale,
            "La causale ALTRO non è tra quelle per cui si concede l'integrazione ordinaria: indicare la causale del D.M. 95442/2016 che corrisponde all'evento (descritto nella relazione tecnica).".into(),
            Some(p.causale.as_str()),
        );
    }
}
