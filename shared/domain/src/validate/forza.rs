//! Quadro E, the workers in force and in CIG by tipo orario and qualifica: each row once, its
//! total the sum of its columns, its count the count of the list of workers, its workers within
//! those of the employer (quadro A).

use super::cx::Cx;
use super::struttura::Ids;
use crate::model::*;
use crate::rules;
use std::collections::HashMap;

pub(super) fn check(cx: &mut Cx<'_>, d: &Domanda, ids: &Ids) {
    // Workers of the list by quadro E row (dirigenti are counted nowhere).
    let mut conteggio = [[0u32; QualificaE::ALL.len()]; TipoOrario::ALL.len()];
    for l in &d.lavoratori.lavoratori {
        if let Some(q) = l.qualifica.riga_e() {
            conteggio[l.tipo_orario as usize][q as usize] += 1;
        }
    }
    let mut righe_viste: HashMap<(TipoOrario, QualificaE), usize> = HashMap::new();
    let mut forza_e = 0u64;
    for (i, (r, &(rnode, tnode))) in d.quadro_e.righe.iter().zip(&ids.righe).enumerate() {
        forza_e += r.in_forza as u64;
        let k = (r.tipo_orario, r.qualifica);
        if let std::collections::hash_map::Entry::Vacant(v) = righe_viste.entry(k) {
            v.insert(i);
        } else {
            cx.at(
                &rules::COE_QUADRO_E_DOPPIA,
                rnode,
                format!(
                    "Il quadro E contiene più righe per {} / {}: riunirle in una sola riga.",
                    r.tipo_orario, r.qualifica
                ),
                None,
            );
        }
        if r.totale_in_cig as u64 != r.sospesi as u64 + r.orario_ridotto as u64 || r.totale_in_cig > r.in_forza {
            cx.at(
                &rules::COE_QUADRO_E_RIGA,
                tnode,
                format!(
                    "Riga {} / {} del quadro E: il totale in CIG ({}) deve essere uguale a sospesi ({}) + orario ridotto ({}) e non superiore ai lavoratori in forza ({}).",
                    r.tipo_orario, r.qualifica, r.totale_in_cig, r.sospesi, r.orario_ridotto, r.in_forza
                ),
                Some(&r.totale_in_cig.to_string()),
            );
        }
    }
    for &t in TipoOrario::ALL {
        for &q in QualificaE::ALL {
            let contati = conteggio[t as usize][q as usize];
            let riga = righe_viste.get(&(t, q)).copied();
            let dichiarati = riga.map(|i| d.quadro_e.righe[i].totale_in_cig).unwrap_or(0);
            if contati != dichiarati {
                let msg = format!(
                    "Il quadro E indica {dichiarati} lavoratori in CIG con tipo orario {t} e qualifica {q}, ma l'elenco dei lavoratori ne contiene {contati}: correggere il quadro E o l'elenco."
                );
                match riga {
                    Some(i) => {
                        cx.at(&rules::COE_QUADRO_E_LAVORATORI, ids.righe[i].1, msg, Some(&dichiarati.to_string()))
                    }
                    None => cx.at(&rules::COE_QUADRO_E_LAVORATORI, ids.quadro_e, msg, None),
                }
            }
        }
    }
    if forza_e > d.azienda.lavoratori_in_forza as u64 {
        cx.at(
            &rules::COE_FORZA_AZIENDA,
            ids.a_in_forza,
            format!(
                "L'azienda dichiara {} lavoratori in forza, ma il quadro E ne indica {forza_e} nell'unità produttiva: verificare i due dati.",
                d.azienda.lavoratori_in_forza
            ),
            Some(&d.azienda.lavoratori_in_forza.to_string()),
        );
    }
}
