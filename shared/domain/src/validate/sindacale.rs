//! Quadro M, the union consultation: its dates (communication before the suspension, the joint
//! examination within 10 or 25 days), and its agreement with what quadro C declares.

use super::cx::{fmt, Cx};
use super::struttura::Ids;
use crate::model::*;
use crate::rules;

pub(super) fn check(cx: &mut Cx<'_>, d: &Domanda, ids: &Ids) {
    let p = &d.periodo;
    let eone = p.causale.oggettivamente_non_evitabile();
    if let Some(m) = &d.quadro_m {
        if let Some(cons) = m.data_consultazione {
            if cons < m.data_comunicazione {
                cx.at(
                    &rules::COE_M_DATE_INVERTITE,
                    ids.m_consultazione.unwrap_or(ids.m),
                    format!(
                        "La consultazione sindacale ({}) è precedente alla comunicazione ({}): correggere le date.",
                        fmt(cons),
                        fmt(m.data_comunicazione)
                    ),
                    Some(&cons.to_string()),
                );
            } else {
                let giorni = if d.azienda.lavoratori_in_forza <= 50 { 10 } else { 25 };
                if (cons - m.data_comunicazione).num_days() > giorni {
                    cx.at(
                        &rules::COE_M_ESAME_TARDIVO,
                        ids.m_consultazione.unwrap_or(ids.m),
                        format!(
                            "L'esame congiunto ({}) è avvenuto oltre {giorni} giorni dalla comunicazione ({}): verificare le date.",
                            fmt(cons),
                            fmt(m.data_comunicazione)
                        ),
                        Some(&cons.to_string()),
                    );
                }
            }
        }
        if !eone && m.data_comunicazione > p.dal {
            cx.at(
                &rules::COE_M_COMUNICAZIONE_TARDIVA,
                ids.m_comunicazione,
                format!(
                    "La comunicazione sindacale ({}) è successiva all'inizio della sospensione ({}): va inviata prima, salvo eventi oggettivamente non evitabili.",
                    fmt(m.data_comunicazione),
                    fmt(p.dal)
                ),
                Some(&m.data_comunicazione.to_string()),
            );
        }
        let incoerente = if p.consultazione_sindacale {
            m.data_consultazione.is_none() && m.motivi_mancata_consultazione.is_none()
        } else {
            m.data_consultazione.is_some()
        };
        if incoerente {
            let msg = if p.consultazione_sindacale {
                "Il quadro C dichiara la consultazione sindacale: indicare nel quadro M la data della consultazione o i motivi della mancata consultazione."
            } else {
                "Il quadro M indica una data di consultazione ma il quadro C dichiara che la consultazione non è stata attivata: correggere uno dei due."
            };
            cx.at(&rules::COE_M_CONSULTAZIONE, ids.m, msg.into(), None);
        }
    }
}
