//! The filing deadline (D.Lgs. 148/2015 art. 15): 15 days from the start of the suspension, or the
//! end of the following month for an evento oggettivamente non evitabile; a late domanda is paid
//! only from the week before filing. Checked only when the filing date is known.

use super::cx::{fmt, Cx};
use super::struttura::Ids;
use crate::limits::Limits;
use crate::model::*;
use crate::rules;
use chrono::NaiveDate;
use chrono::{Datelike, Days};

pub(super) fn check(cx: &mut Cx<'_>, d: &Domanda, ids: &Ids, limits: &Limits) {
    let p = &d.periodo;
    let eone = p.causale.oggettivamente_non_evitabile();
    if let Some(pres) = limits.data_presentazione {
        let termine = if eone { fine_mese_successivo(p.dal) } else { p.dal + Days::new(15) };
        if pres > termine {
            let lunedi = pres - Days::new(pres.weekday().num_days_from_monday() as u64) - Days::new(7);
            let decorrenza = lunedi.max(p.dal);
            cx.at(
                &rules::COE_TERMINE,
                ids.c_dal,
                format!(
                    "La domanda è presentata il {}, oltre il termine del {}: l'integrazione spetta solo dal {} (inizio della settimana precedente la presentazione).",
                    fmt(pres),
                    fmt(termine),
                    fmt(decorrenza)
                ),
                Some(&p.dal.to_string()),
            );
        }
    }
}

fn fine_mese_successivo(d: NaiveDate) -> NaiveDate {
    let (y, m) = if d.month() >= 11 { (d.year() + 1, d.month() - 10) } else { (d.year(), d.month() + 2) };
    NaiveDate::from_ymd_opt(y, m, 1)
        .and_then(|x| x.pred_opt())
        .unwrap_or(d)
}
