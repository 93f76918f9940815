//! The resumption of activity: quadro D and the quadro it points to (N happened, O expected,
//! P not foreseeable), their dates, and the workers still suspended (N).

use super::cx::{fmt, Cx};
use super::struttura::Ids;
use crate::model::*;
use crate::rules;

pub(super) fn check(cx: &mut Cx<'_>, d: &Domanda, ids: &Ids) {
    let p = &d.periodo;
    if let Some(qd) = &d.quadro_d {
        let (rule, needed, quadro) = match qd.ripresa {
            Ripresa::Avvenuta => (&rules::COE_D_AVVENUTA_N, d.quadro_n.is_none(), "N"),
            Ripresa::Prevista => (&rules::COE_D_PREVISTA_O, d.quadro_o.is_none(), "O"),
            Ripresa::NonPrevedibile => (&rules::COE_D_NON_PREVEDIBILE_P, d.quadro_p.is_none(), "P"),
        };
        if qd.ripresa == Ripresa::NonPrevedibile {
            cx.at(
                &rules::COE_RIPRESA_NON_PREVEDIBILE,
                ids.d_ripresa,
                "Il quadro D dichiara la ripresa dell'attività non prevedibile: la CIGO presuppone una situazione transitoria, con ripresa prevedibile alla presentazione della domanda. Se la ripresa è prevista, indicarla (quadro O); altrimenti valutare la CIGS o un altro strumento.".into(),
                Some(qd.ripresa.as_str()),
            );
        }
        if needed {
            cx.at(
                rule,
                ids.d_ripresa,
                format!("Il quadro D indica la ripresa {}: compilare il quadro {quadro}.", qd.ripresa),
                Some(qd.ripresa.as_str()),
            );
        }
        let con_data = qd.ripresa != Ripresa::NonPrevedibile;
        if con_data != qd.data_ripresa.is_some() {
            let msg = if con_data {
                "Il quadro D indica una ripresa avvenuta o prevista: indicare DataRipresa.".to_string()
            } else {
                "La ripresa è dichiarata non prevedibile: togliere DataRipresa dal quadro D.".to_string()
            };
            cx.at(&rules::COE_D_DATA, ids.d_data.unwrap_or(ids.d_ripresa), msg, None);
        }
        if let Some(data) = qd.data_ripresa {
            let altra = match qd.ripresa {
                Ripresa::Avvenuta => d.quadro_n.as_ref().map(|n| (n.data_ripresa, "N")),
                Ripresa::Prevista => d.quadro_o.as_ref().map(|o| (o.data_prevista, "O")),
                Ripresa::NonPrevedibile => None,
            };
            if let Some((altra, quadro)) = altra.filter(|(a, _)| *a != data) {
                cx.at(
                    &rules::COE_D_DATA_DIVERSA,
                    ids.d_data.unwrap_or(ids.d_ripresa),
                    format!(
                        "La data di ripresa del quadro D ({}) è diversa da quella del quadro {quadro} ({}): indicare la stessa data.",
                        fmt(data),
                        fmt(altra)
                    ),
                    Some(&data.to_string()),
                );
            }
        }
    }
    if let Some(n) = &d.quadro_n {
        if n.data_ripresa < p.dal {
            cx.at(
                &rules::COE_RIPRESA_PRIMA,
                ids.n_data,
                format!(
                    "La ripresa risulta avvenuta il {}, prima dell'inizio del periodo di CIG ({}): correggere la data.",
                    fmt(n.data_ripresa),
                    fmt(p.dal)
                ),
                Some(&n.data_ripresa.to_string()),
            );
        }
        if !n.con_tutti
            && [n.operai_sospesi, n.operai_orario_ridotto, n.impiegati_sospesi, n.impiegati_orario_ridotto]
                .iter()
                .all(Option::is_none)
        {
            cx.at(
                &rules::COE_N_LAVORATORI,
                ids.n_tutti,
                "La ripresa non è avvenuta con tutti i lavoratori: indicare quanti operai e impiegati restano sospesi o a orario ridotto.".into(),
                Some("false"),
            );
        }
    }
    if let Some(o) = &d.quadro_o {
        if o.data_prevista <= p.al {
            cx.at(
                &rules::COE_O_DATA,
                ids.o_data,
                format!(
                    "La ripresa è prevista il {}, prima della fine del periodo di CIG ({}): verificare il periodo richiesto.",
                    fmt(o.data_prevista),
                    fmt(p.al)
                ),
                Some(&o.data_prevista.to_string()),
            );
        }
    }
}
