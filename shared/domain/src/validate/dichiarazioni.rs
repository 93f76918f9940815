//! What the employer declares besides the period and the workers: the departments (quadro I), the
//! holidays (L), other CIGS requests (R), insolvency procedures (S), the workers' availability (T).

use super::cx::{fmt, Cx};
use super::struttura::Ids;
use crate::model::*;
use crate::rules;

pub(super) fn check(cx: &mut Cx<'_>, d: &Domanda, ids: &Ids) {
    check_reparti(cx, d, ids);
    check_ferie(cx, d, ids);
    check_cigs(cx, d, ids);
    check_procedure(cx, d, ids);
    check_disponibilita(cx, d, ids);
}

/// Quadro I: the workers concerned in each department, within those employed there.
fn check_reparti(cx: &mut Cx<'_>, d: &Domanda, ids: &Ids) {
    if let Some(i) = &d.quadro_i {
        for (r, &(node, inode)) in i.reparti.iter().zip(&ids.i_reparti) {
            if r.interessati_operai > r.addetti_operai || r.interessati_impiegati > r.addetti_impiegati {
                cx.at(
                    &rules::COE_I_INTERESSATI,
                    node,
                    format!(
                        "Reparto {}: gli interessati alla CIG ({} operai, {} impiegati) superano gli addetti ({} operai, {} impiegati).",
                        r.nome, r.interessati_operai, r.interessati_impiegati, r.addetti_operai, r.addetti_impiegati
                    ),
                    None,
                );
            }
            let interessati = r.interessati_operai + r.interessati_impiegati;
            if r.interessato != (interessati > 0) {
                cx.at(
                    &rules::COE_I_REPARTO,
                    inode,
                    format!(
                        "Reparto {}: InteressatoCIG vale {} ma i lavoratori interessati sono {interessati}: correggere uno dei due.",
                        r.nome, r.interessato
                    ),
                    Some(if r.interessato { "true" } else { "false" }),
                );
            }
        }
    }
}

/// Quadro L: holiday periods in order, and not overlapping the period of CIG (not integrable).
fn check_ferie(cx: &mut Cx<'_>, d: &Domanda, ids: &Ids) {
    let p = &d.periodo;
    if let Some(l) = &d.quadro_l {
        for (f, &(dal, al)) in l.periodi.iter().zip(&ids.l_periodi) {
            if f.dal > f.al {
                cx.at(
                    &rules::COE_L_PERIODO,
                    al,
                    format!(
                        "Il periodo di ferie termina il {} prima di iniziare il {}: correggere le date.",
                        fmt(f.al),
                        fmt(f.dal)
                    ),
                    Some(&f.al.to_string()),
                );
            } else if f.dal <= p.al && p.dal <= f.al {
                cx.at(
                    &rules::COE_L_SOVRAPPOSTO,
                    dal,
                    format!(
                        "Il periodo di ferie dal {} al {} si sovrappone al periodo di CIG: le ore di ferie non sono integrabili, verificare.",
                        fmt(f.dal),
                        fmt(f.al)
                    ),
                    Some(&f.dal.to_string()),
                );
            }
        }
    }
}

/// Quadro R: a CIGS request for the same period says its causale and workers.
fn check_cigs(cx: &mut Cx<'_>, d: &Domanda, ids: &Ids) {
    if let Some(r) = &d.quadro_r {
        if r.presentata && (r.causale.is_none() || r.numero_lavoratori.is_none()) {
            cx.at(
                &rules::COE_R_CIGS,
                ids.r_presentata,
                "È dichiarata una richiesta di CIGS: indicarne la causale (CausaleCIGS) e il numero di lavoratori."
                    .into(),
                Some("true"),
            );
        }
    }
}

/// Quadro S: bankruptcy and liquidation exclude the CIGO (it presumes the activity resumes).
fn check_procedure(cx: &mut Cx<'_>, d: &Domanda, ids: &Ids) {
    if let Some(s) = &d.quadro_s {
        for (pr, &node) in s.procedure.iter().zip(&ids.s_tipo) {
            if matches!(
                pr.tipo,
                TipoProcedura::Fallimento | TipoProcedura::LiquidazioneCoatta | TipoProcedura::LiquidazioneVolontaria
            ) {
                cx.at(
                    &rules::COE_S_PROCEDURA,
                    node,
                    format!(
                        "È indicata la procedura {} ({}): la CIGO presuppone la ripresa dell'attività, valutare la CIGS o il trattamento previsto per la procedura.",
                        pr.tipo.descrizione(),
                        fmt(pr.data)
                    ),
                    Some(pr.tipo.as_str()),
                );
            }
        }
    }
}

/// Quadro T: the workers' declaration of immediate availability.
fn check_disponibilita(cx: &mut Cx<'_>, d: &Domanda, ids: &Ids) {
    if let Some(t) = &d.quadro_t {
        if !t.resa {
            cx.at(
                &rules::COE_T_DISPONIBILITA,
                ids.t_resa,
                "La dichiarazione di immediata disponibilità dei lavoratori non risulta resa: farla firmare ai lavoratori interessati.".into(),
                Some("false"),
            );
        }
    }
}
