//! Layer CAMPI: each field on its own (codici fiscali, matricola, provincia, CAP, contacts, IBAN,
//! hours, years, dates), on every quadro whose structure is sound, even when another quadro's is
//! not (one round of errors: a file corrected after its structure errors must not reveal field
//! errors that were there all along).

use super::cx::{fmt, Cx};
use super::struttura::{Ids, Letta};
use crate::codice_fiscale as cf;
use crate::model::*;
use crate::rules;
use chrono::Datelike;

/// The parts of a domanda the field rules read; `None` where a part is absent or was not read.
pub(super) struct Campi<'a> {
    pub azienda: Option<&'a Azienda>,
    pub unita: Option<&'a UnitaProduttiva>,
    pub lavoratori: &'a [Lavoratore],
    pub quadro_f: Option<&'a QuadroF>,
    pub quadro_g: Option<&'a QuadroG>,
    pub quadro_h: Option<&'a QuadroH>,
    pub quadro_q: Option<&'a QuadroQ>,
    pub relazione: Option<&'a RelazioneTecnica>,
}

impl<'a> Campi<'a> {
    /// Every part of a domanda read whole.
    pub fn di(d: &'a Domanda) -> Campi<'a> {
        Campi {
            azienda: Some(&d.azienda),
            unita: Some(&d.unita_produttiva),
            lavoratori: &d.lavoratori.lavoratori,
            quadro_f: d.quadro_f.as_ref(),
            quadro_g: d.quadro_g.as_ref(),
            quadro_h: d.quadro_h.as_ref(),
            quadro_q: d.quadro_q.as_ref(),
            relazione: d.relazione.as_ref(),
        }
    }

    /// The parts that were read of a domanda whose structure is not sound.
    pub fn letti(l: &'a Letta) -> Campi<'a> {
        Campi {
            azienda: l.azienda.as_ref(),
            unita: l.unita_produttiva.as_ref(),
            lavoratori: l.lavoratori.as_ref().map_or(&[], |l| &l.lavoratori),
            quadro_f: l.quadro_f.as_ref().and_then(Option::as_ref),
            quadro_g: l.quadro_g.as_ref().and_then(Option::as_ref),
            quadro_h: l.quadro_h.as_ref().and_then(Option::as_ref),
            quadro_q: l.quadro_q.as_ref().and_then(Option::as_ref),
            relazione: l.relazione.as_ref().and_then(Option::as_ref),
        }
    }
}

/// Every field rule, in the order the findings are reported.
pub(super) fn check(cx: &mut Cx<'_>, d: &Campi<'_>, ids: &Ids) {
    check_azienda(cx, d, ids);
    check_cf_lavoratori(cx, d, ids);
    check_contatti(cx, d, ids);
    check_cf_firmatari(cx, d, ids);
    check_lavoratori(cx, d, ids);
    check_orari(cx, d, ids);
    check_ore_giorno(cx, d, ids);
    check_indicatori(cx, d, ids);
    check_date(cx);
}

/// Quadri A and B: matricola, codice fiscale, provincia, CAP.
fn check_azienda(cx: &mut Cx<'_>, d: &Campi<'_>, ids: &Ids) {
    if let Some(a) = d.azienda {
        check_quadro_a(cx, a, ids);
    }
    // Provincia and CAP of quadro A, then of quadro B.
    let luoghi = [
        d.azienda
            .map(|a| (&a.provincia, &a.cap, ids.a_provincia, ids.a_cap)),
        d.unita
            .map(|u| (&u.provincia, &u.cap, ids.b_provincia, ids.b_cap)),
    ];
    for &(prov, _, node, _) in luoghi.iter().flatten() {
        if !is_provincia(prov) {
            cx.at(
                &rules::CAM_PROVINCIA,
                node,
                format!("'{prov}' non è la sigla di una provincia italiana: indicare la sigla di due lettere maiuscole (es. RM, MI)."),
                Some(prov),
            );
        }
    }
    for &(_, cap, _, node) in luoghi.iter().flatten() {
        if !is_cap(cap) {
            cx.at(&rules::CAM_CAP, node, "Il CAP deve essere composto da 5 cifre: correggerlo.".into(), Some(cap));
        }
    }
}

/// Quadro A: matricola, codice fiscale.
fn check_quadro_a(cx: &mut Cx<'_>, a: &Azienda, ids: &Ids) {
    if !is_matricola(&a.matricola) {
        cx.at(
            &rules::CAM_MATRICOLA,
            ids.a_matricola,
            "La matricola INPS dell'azienda deve essere composta da 10 cifre: correggerla.".into(),
            Some(&a.matricola),
        );
    }
    let cf_ok = if a.codice_fiscale.len() == 16 {
        cf::is_valid_codice_fiscale_persona(&a.codice_fiscale)
    } else {
        cf::is_valid_codice_fiscale_azienda(&a.codice_fiscale)
    };
    if !cf_ok {
        cx.at(
            &rules::CAM_CF_AZIENDA,
            ids.a_cf,
            "Il codice fiscale dell'azienda non è valido: indicare 11 cifre con la cifra di controllo corretta (o il codice fiscale di 16 caratteri del titolare di ditta individuale).".into(),
            Some(&a.codice_fiscale),
        );
    }
}

/// The codice fiscale of each worker.
fn check_cf_lavoratori(cx: &mut Cx<'_>, d: &Campi<'_>, ids: &Ids) {
    for (l, li) in d.lavoratori.iter().zip(&ids.lavoratori) {
        if !cf::is_valid_codice_fiscale_persona(&l.codice_fiscale) {
            cx.at(
                &rules::CAM_CF_PERSONA,
                li.cf,
                format!(
                    "Il codice fiscale del lavoratore {} {} non è valido (struttura o carattere di controllo): verificarlo sulla tessera sanitaria.",
                    l.cognome, l.nome
                ),
                Some(&l.codice_fiscale),
            );
        }
    }
}

/// Quadro A: telephone, mobile, e-mail, fax.
fn check_contatti(cx: &mut Cx<'_>, d: &Campi<'_>, ids: &Ids) {
    let Some(a) = d.azienda else { return };
    for (i, v) in [&a.telefono, &a.cellulare, &a.email, &a.fax]
        .into_iter()
        .enumerate()
    {
        let (Some(v), Some(node)) = (v, ids.a_contatti[i]) else { continue };
        if i == 2 {
            if !is_email(v) {
                cx.at(
                    &rules::CAM_EMAIL,
                    node,
                    "L'indirizzo e-mail non è valido: indicarlo nella forma nome@dominio.it.".into(),
                    Some(v),
                );
            }
        } else if !is_telefono(v) {
            cx.at(
                &rules::CAM_TELEFONO,
                node,
                format!("Il numero '{v}' non è valido: indicare da 6 a 15 cifre, eventualmente precedute da +."),
                Some(v),
            );
        }
    }
}

/// The codice fiscale of the signer (quadro F) and of the inserimento contracts (quadro Q).
fn check_cf_firmatari(cx: &mut Cx<'_>, d: &Campi<'_>, ids: &Ids) {
    if let Some(f) = d.quadro_f {
        if !cf::is_valid_codice_fiscale_persona(&f.codice_fiscale) {
            cx.at(
                &rules::CAM_CF_PERSONA,
                ids.f_cf,
                format!(
                    "Il codice fiscale del firmatario {} {} non è valido (struttura o carattere di controllo): verificarlo.",
                    f.cognome, f.nome
                ),
                Some(&f.codice_fiscale),
            );
        }
    }
    if let Some(qq) = d.quadro_q {
        for (c, &node) in qq.contratti.iter().zip(&ids.q_cf) {
            if !cf::is_valid_codice_fiscale_persona(&c.codice_fiscale) {
                cx.at(
                    &rules::CAM_CF_PERSONA,
                    node,
                    "Il codice fiscale del lavoratore del contratto di inserimento non è valido: verificarlo.".into(),
                    Some(&c.codice_fiscale),
                );
            }
        }
    }
}

/// Each worker's contractual hours and IBAN.
fn check_lavoratori(cx: &mut Cx<'_>, d: &Campi<'_>, ids: &Ids) {
    for (l, li) in d.lavoratori.iter().zip(&ids.lavoratori) {
        let c = l.ore_settimanali_contrattuali;
        if c.0 <= 0 || c > Ore::from_hours(48) {
            cx.at(
                &rules::CAM_ORE_CONTRATTUALI,
                li.contrattuali,
                format!(
                    "Le ore settimanali contrattuali di {} {} valgono {c}: indicare un valore maggiore di 0 e non superiore a 48.",
                    l.cognome, l.nome
                ),
                Some(&c.to_string()),
            );
        }
        if let (Some(iban), Some(node)) = (&l.iban, li.iban) {
            if !is_iban(iban) {
                cx.at(
                    &rules::CAM_IBAN,
                    node,
                    format!(
                        "L'IBAN di {} {} non è valido (lunghezza, caratteri o cifre di controllo): indicarlo senza spazi, 27 caratteri per un conto italiano (es. IT60X0542811101000000123456).",
                        l.cognome, l.nome
                    ),
                    Some(iban),
                );
            }
        }
    }
}

/// Quadri G1-G4: the contractual schedules (hours, minutes, days).
fn check_orari(cx: &mut Cx<'_>, d: &Campi<'_>, ids: &Ids) {
    if let Some(g) = d.quadro_g {
        for (o, &(node, ore, giorni)) in g.orari.iter().zip(&ids.g_orari) {
            if o.minuti > 59 || o.ore > 48 {
                let (bad, v) = if o.minuti > 59 { ("minuti", o.minuti) } else { ("ore", o.ore) };
                cx.at(
                    &rules::CAM_MINUTI,
                    if o.minuti > 59 { node } else { ore },
                    format!(
                        "Orario contrattuale {} / {}: {v} {bad} non è un valore ammesso (ore da 0 a 48, minuti da 0 a 59).",
                        o.tipo_orario, o.qualifica
                    ),
                    Some(&v.to_string()),
                );
            }
            if !(1..=7).contains(&o.giorni) {
                cx.at(
                    &rules::CAM_GIORNI,
                    giorni,
                    format!(
                        "Orario contrattuale {} / {}: i giorni lavorativi devono essere da 1 a 7, non {}.",
                        o.tipo_orario, o.qualifica, o.giorni
                    ),
                    Some(&o.giorni.to_string()),
                );
            }
        }
    }
}

/// Quadro H: at most 24 hours in a day.
fn check_ore_giorno(cx: &mut Cx<'_>, d: &Campi<'_>, ids: &Ids) {
    if let Some(h) = d.quadro_h {
        let ventiquattro = Ore::from_hours(24);
        for (g, &(node, _, _)) in h
            .settimane
            .iter()
            .flat_map(|s| s.giorni.iter())
            .zip(&ids.h_giorni)
        {
            let max = g.ordinarie.max(g.straordinarie).max(g.altro).max(g.totale);
            if max > ventiquattro {
                cx.at(
                    &rules::CAM_ORE_GIORNO,
                    node,
                    format!("Quadro H, giorno {}: {max} ore in un giorno non sono possibili (massimo 24).", g.giorno),
                    Some(&max.to_string()),
                );
            }
        }
    }
}

/// The relazione tecnica: the year of each economic indicator.
fn check_indicatori(cx: &mut Cx<'_>, d: &Campi<'_>, ids: &Ids) {
    if let Some(ind) = d.relazione.and_then(|r| r.indicatori.as_ref()) {
        for (i, &node) in ind.indicatori.iter().zip(&ids.indicatori) {
            if !(1990..=2099).contains(&i.anno) {
                cx.at_attr(
                    &rules::CAM_ANNO_INDICATORE,
                    node,
                    "anno",
                    format!(
                        "L'anno {} dell'indicatore economico non è plausibile: indicare un anno dal 1990 al 2099.",
                        i.anno
                    ),
                    Some(&i.anno.to_string()),
                );
            }
        }
    }
}

/// Every date read (CAM-011): between 1900 and 2099.
fn check_date(cx: &mut Cx<'_>) {
    let dates = std::mem::take(&mut cx.dates);
    for &(node, date) in &dates {
        if !(1900..=2099).contains(&date.year()) {
            cx.at(
                &rules::CAM_DATA,
                node,
                format!("La data {} non è plausibile: indicare una data dal 1900 al 2099.", fmt(date)),
                Some(&date.to_string()),
            );
        }
    }
}
