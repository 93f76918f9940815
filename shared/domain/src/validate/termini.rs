//! The filing deadline at prevalidation, at the filing date the caller knows (the day of the
//! prevalidation): the rule itself is [`crate::termine`], which the sending judges again.

use super::cx::Cx;
use super::struttura::Ids;
use crate::limits::Limits;
use crate::model::*;
use crate::termine::{termine_presentazione, Tardiva};

pub(super) fn check(cx: &mut Cx<'_>, d: &Domanda, ids: &Ids, limits: &Limits) {
    let Some(pres) = limits.data_presentazione else {
        return;
    };
    let p = &d.periodo;
    if let Some(t) = Tardiva::di(pres, termine_presentazione(d), p.dal, p.al) {
        let (node, value) = if t.intera() { (ids.c_al, p.al) } else { (ids.c_dal, p.dal) };
        cx.at(t.rule(), node, t.message(), Some(&value.to_string()));
    }
}
