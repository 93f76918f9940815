//! Layer STRUTTURA: maps the tree of one domanda to the typed model, quadro by quadro, as the XSD
//! describes it (sequence, occurrences, types, enumerations), and records where each field the
//! later rules point at is in the tree ([`Ids`]).

use super::cx::{Cx, Slot, CODICE_MAX, DESCRIZIONE_MAX, TESTO_MAX, UNBOUNDED};
use crate::model::*;
use crate::parse::{NodeId, Tag};
use crate::rules;

/// Where the fields the rules look at are in the tree.
#[derive(Default)]
pub(super) struct Ids {
    pub a_matricola: NodeId,
    pub a_cf: NodeId,
    pub a_provincia: NodeId,
    pub a_cap: NodeId,
    pub a_data_inizio: Option<NodeId>,
    pub a_in_forza: NodeId,
    pub b_provincia: NodeId,
    pub b_cap: NodeId,
    /// Tracciato v2: QuadroA/Settore, QuadroE/OccupatiSemestre.
    pub a_settore: Option<NodeId>,
    pub e_occupati: Option<NodeId>,
    pub c_dal: NodeId,
    pub c_al: NodeId,
    pub c_settimane: NodeId,
    pub c_totale: NodeId,
    pub c_causale: NodeId,
    pub quadro_e: NodeId,
    pub righe: Vec<(NodeId, NodeId)>, // (Riga, TotaleInCIG)
    pub lavoratori: Vec<LavIds>,
    pub ore: Vec<NodeId>,
    pub a_contatti: [Option<NodeId>; 4],
    pub b: NodeId,
    pub d_ripresa: NodeId,
    pub d_data: Option<NodeId>,
    pub f_cf: NodeId,
    pub g: NodeId,
    /// (OrarioContrattuale, Ore, Giorni)
    pub g_orari: Vec<(NodeId, NodeId, NodeId)>,
    /// (Settimana, OreCIGRichieste)
    pub g_sett: Vec<(NodeId, NodeId)>,
    pub h_sett: Vec<NodeId>,
    /// (Giorno, TotaleOre, CodiceEvento) in document order, week by week.
    pub h_giorni: Vec<(NodeId, NodeId, Option<NodeId>)>,
    pub i_reparti: Vec<(NodeId, NodeId)>, // (Reparto, InteressatoCIG)
    pub l_periodi: Vec<(NodeId, NodeId)>, // (Dal, Al)
    pub m: NodeId,
    pub m_comunicazione: NodeId,
    pub m_consultazione: Option<NodeId>,
    pub n_data: NodeId,
    pub n_tutti: NodeId,
    pub o_data: NodeId,
    pub q_cf: Vec<NodeId>,
    pub r_presentata: NodeId,
    pub s_tipo: Vec<NodeId>,
    pub t_resa: NodeId,
    pub rel: NodeId,
    pub rel_data: Option<NodeId>,
    pub indicatori: Vec<NodeId>,
}

pub(super) struct LavIds {
    pub cf: NodeId,
    pub qualifica: NodeId,
    pub ore: (usize, usize), // range in Ids::ore
    pub contrattuali: NodeId,
    pub assunzione: Option<NodeId>,
    pub iban: Option<NodeId>,
}

/// Layer STRUTTURA of one domanda: the domanda, or what could be read of it (see [`Letta`]).
pub(super) fn map_domanda(cx: &mut Cx<'_>, ids: &mut Ids) -> Result<Domanda, Box<Letta>> {
    let root: NodeId = 0;
    cx.check_attrs(root, &["progressivo"]);
    let progressivo = cx.attr_uint(root, "progressivo", 9, 1, 999_999_999);
    let s = cx.seq(
        root,
        &[
            (Tag::TipoDomanda, 1, 1),
            (Tag::QuadroA, 1, 1),
            (Tag::QuadroB, 1, 1),
            (Tag::QuadroC, 1, 1),
            (Tag::QuadroD, 0, 1),
            (Tag::QuadroE, 1, 1),
            (Tag::QuadroF, 0, 1),
            (Tag::QuadroG, 0, 1),
            (Tag::QuadroH, 0, 1),
            (Tag::QuadroI, 0, 1),
            (Tag::QuadroL, 0, 1),
            (Tag::QuadroM, 0, 1),
            (Tag::QuadroN, 0, 1),
            (Tag::QuadroO, 0, 1),
            (Tag::QuadroP, 0, 1),
            (Tag::QuadroQ, 0, 1),
            (Tag::QuadroR, 0, 1),
            (Tag::QuadroS, 0, 1),
            (Tag::QuadroT, 0, 1),
            (Tag::RelazioneTecnica, 0, 1),
            (Tag::Lavoratori, 1, 1),
        ],
    );
    // Each quadro is read on its own and counts as read only when its own structure is sound
    // (it added no finding): the field checks run on the quadri read even when others are not.
    let tipo = sano(cx, |cx| cx.code::<TipoDomanda>(s[0]).map(|(_, v)| v));
    let azienda = sano(cx, |cx| s[1].first.and_then(|n| map_azienda(cx, n, ids)));
    let unita_produttiva = sano(cx, |cx| s[2].first.and_then(|n| map_unita(cx, n, ids)));
    let periodo = sano(cx, |cx| s[3].first.and_then(|n| map_periodo(cx, n, ids)));
    let quadro_d = sano(cx, |cx| opt_quadro(cx, s[4], ids, map_d));
    let quadro_e = sano(cx, |cx| s[5].first.and_then(|n| map_quadro_e(cx, n, ids)));
    let quadro_f = sano(cx, |cx| opt_quadro(cx, s[6], ids, map_f));
    let quadro_g = sano(cx, |cx| opt_quadro(cx, s[7], ids, map_g));
    let quadro_h = sano(cx, |cx| opt_quadro(cx, s[8], ids, map_h));
    let quadro_i = sano(cx, |cx| opt_quadro(cx, s[9], ids, map_i));
    let quadro_l = sano(cx, |cx| opt_quadro(cx, s[10], ids, map_l));
    let quadro_m = sano(cx, |cx| opt_quadro(cx, s[11], ids, map_m));
    let quadro_n = sano(cx, |cx| opt_quadro(cx, s[12], ids, map_n));
    let quadro_o = sano(cx, |cx| opt_quadro(cx, s[13], ids, map_o));
    let quadro_p = sano(cx, |cx| opt_quadro(cx, s[14], ids, map_p));
    let quadro_q = sano(cx, |cx| opt_quadro(cx, s[15], ids, map_q));
    let quadro_r = sano(cx, |cx| opt_quadro(cx, s[16], ids, map_r));
    let quadro_s = sano(cx, |cx| opt_quadro(cx, s[17], ids, map_s));
    let quadro_t = sano(cx, |cx| opt_quadro(cx, s[18], ids, map_t));
    let relazione = sano(cx, |cx| opt_quadro(cx, s[19], ids, map_relazione));
    let lavoratori = sano(cx, |cx| s[20].first.and_then(|n| map_lavoratori(cx, n, ids)));
    let letta = Letta {
        progressivo,
        tipo,
        azienda,
        unita_produttiva,
        periodo,
        quadro_d,
        quadro_e,
        quadro_f,
        quadro_g,
        quadro_h,
        quadro_i,
        quadro_l,
        quadro_m,
        quadro_n,
        quadro_o,
        quadro_p,
        quadro_q,
        quadro_r,
        quadro_s,
        quadro_t,
        relazione,
        lavoratori,
    };
    if cx.findings.is_empty() {
        letta.intera()
    } else {
        Err(Box::new(letta))
    }
}

/// `f`'s result when it added no finding: a part whose own structure is sound.
fn sano<T>(cx: &mut Cx<'_>, f: impl FnOnce(&mut Cx<'_>) -> Option<T>) -> Option<T> {
    let prima = cx.findings.len();
    f(cx).filter(|_| cx.findings.len() == prima)
}

/// What the structure layer read of a domanda, part by part: `None` where a part's structure is
/// not sound (for an optional quadro, `Some(None)` when it is absent). A domanda whose every part
/// was read, with no finding at all, is a [`Domanda`] ([`Letta::intera`]); the others are
/// rejected already, and the field checks run on the parts that were read (`campi::Campi`).
pub(super) struct Letta {
    pub progressivo: Option<u32>,
    pub tipo: Option<TipoDomanda>,
    pub azienda: Option<Azienda>,
    pub unita_produttiva: Option<UnitaProduttiva>,
    pub periodo: Option<Periodo>,
    pub quadro_d: Option<Option<QuadroD>>,
    pub quadro_e: Option<QuadroE>,
    pub quadro_f: Option<Option<QuadroF>>,
    pub quadro_g: Option<Option<QuadroG>>,
    pub quadro_h: Option<Option<QuadroH>>,
    pub quadro_i: Option<Option<QuadroI>>,
    pub quadro_l: Option<Option<QuadroL>>,
    pub quadro_m: Option<Option<QuadroM>>,
    pub quadro_n: Option<Option<QuadroN>>,
    pub quadro_o: Option<Option<QuadroO>>,
    pub quadro_p: Option<Option<QuadroP>>,
    pub quadro_q: Option<Option<QuadroQ>>,
    pub quadro_r: Option<Option<QuadroR>>,
    pub quadro_s: Option<Option<QuadroS>>,
    pub quadro_t: Option<Option<QuadroT>>,
    pub relazione: Option<Option<RelazioneTecnica>>,
    pub lavoratori: Option<Lavoratori>,
}

impl Letta {
    /// The domanda, when every part was read.
    fn intera(self) -> Result<Domanda, Box<Letta>> {
        match self {
            Letta {
                progressivo: Some(progressivo),
                tipo: Some(tipo),
                azienda: Some(azienda),
                unita_produttiva: Some(unita_produttiva),
                periodo: Some(periodo),
                quadro_d: Some(quadro_d),
                quadro_e: Some(quadro_e),
                quadro_f: Some(quadro_f),
                quadro_g: Some(quadro_g),
                quadro_h: Some(quadro_h),
                quadro_i: Some(quadro_i),
                quadro_l: Some(quadro_l),
                quadro_m: Some(quadro_m),
                quadro_n: Some(quadro_n),
                quadro_o: Some(quadro_o),
                quadro_p: Some(quadro_p),
                quadro_q: Some(quadro_q),
                quadro_r: Some(quadro_r),
                quadro_s: Some(quadro_s),
                quadro_t: Some(quadro_t),
                relazione: Some(relazione),
                lavoratori: Some(lavoratori),
            } => Ok(Domanda {
                progressivo,
                tipo,
                azienda,
                unita_produttiva,
                periodo,
                quadro_d,
                quadro_e,
                quadro_f,
                quadro_g,
                quadro_h,
                quadro_i,
                quadro_l,
                quadro_m,
                quadro_n,
                quadro_o,
                quadro_p,
                quadro_q,
                quadro_r,
                quadro_s,
                quadro_t,
                relazione,
                lavoratori,
            }),
            parziale => Err(Box::new(parziale)),
        }
    }

    /// The names of the parts the field checks read that could not be read.
    pub fn non_lette(&self) -> Vec<&'static str> {
        [
            ("QuadroA", self.azienda.is_none()),
            ("QuadroB", self.unita_produttiva.is_none()),
            ("QuadroF", self.quadro_f.is_none()),
            ("QuadroG", self.quadro_g.is_none()),
            ("QuadroH", self.quadro_h.is_none()),
            ("QuadroQ", self.quadro_q.is_none()),
            ("RelazioneTecnica", self.relazione.is_none()),
            ("Lavoratori", self.lavoratori.is_none()),
        ]
        .into_iter()
        .filter_map(|(nome, manca)| manca.then_some(nome))
        .collect()
    }
}

fn map_azienda(cx: &mut Cx<'_>, n: NodeId, ids: &mut Ids) -> Option<Azienda> {
    cx.check_attrs(n, &[]);
    let s = cx.seq(
        n,
        &[
            (Tag::Matricola, 1, 1),
            (Tag::CodiceFiscale, 1, 1),
            (Tag::Denominazione, 1, 1),
            (Tag::Indirizzo, 1, 1),
            (Tag::Comune, 1, 1),
            (Tag::Provincia, 1, 1),
            (Tag::Cap, 1, 1),
            (Tag::Telefono, 0, 1),
            (Tag::Cellulare, 0, 1),
            (Tag::Email, 0, 1),
            (Tag::Fax, 0, 1),
            (Tag::Attivita, 0, 1),
            (Tag::DataInizioAttivita, 0, 1),
            (Tag::LavoratoriInForza, 1, 1),
            (Tag::Settore, v2_min(cx), v2_min(cx)),
        ],
    );
    let settore = if solo_v2(cx, s[14]) { cx.code::<Settore>(s[14]).map(Some) } else { Some(None) };
    let matricola = cx.text(s[0], CODICE_MAX);
    let codice_fiscale = cx.text(s[1], CODICE_MAX);
    let denominazione = cx.text(s[2], TESTO_MAX);
    let indirizzo = cx.text(s[3], TESTO_MAX);
    let comune = cx.text(s[4], TESTO_MAX);
    let provincia = cx.text(s[5], CODICE_MAX);
    let cap = cx.text(s[6], CODICE_MAX);
    let telefono = cx.opt_text_id(s[7], CODICE_MAX);
    let cellulare = cx.opt_text_id(s[8], CODICE_MAX);
    let email = cx.opt_text_id(s[9], TESTO_MAX);
    let fax = cx.opt_text_id(s[10], CODICE_MAX);
    let attivita = cx.opt_text(s[11], TESTO_MAX);
    let data_inizio = if s[12].count == 0 { Some(None) } else { cx.date(s[12]).map(Some) };
    let in_forza = cx.uint(s[13]);
    let (telefono, cellulare, email, fax) = (telefono?, cellulare?, email?, fax?);
    ids.a_contatti = [telefono.as_ref(), cellulare.as_ref(), email.as_ref(), fax.as_ref()].map(|o| o.map(|v| v.0));
    let (m, c, p, k, f) = (matricola?, codice_fiscale?, provincia?, cap?, in_forza?);
    ids.a_matricola = m.0;
    ids.a_cf = c.0;
    ids.a_provincia = p.0;
    ids.a_cap = k.0;
    ids.a_in_forza = f.0;
    let data_inizio = data_inizio?;
    ids.a_data_inizio = data_inizio.map(|(n, _)| n);
    let settore = settore?;
    ids.a_settore = settore.map(|(n, _)| n);
    Some(Azienda {
        matricola: m.1,
        codice_fiscale: c.1,
        denominazione: denominazione?.1,
        indirizzo: indirizzo?.1,
        comune: comune?.1,
        provincia: p.1,
        cap: k.1,
        telefono: telefono.map(|v| v.1),
        cellulare: cellulare.map(|v| v.1),
        email: email.map(|v| v.1),
        fax: fax.map(|v| v.1),
        attivita: attivita?,
        data_inizio_attivita: data_inizio.map(|(_, d)| d),
        lavoratori_in_forza: f.1,
        settore: settore.map(|(_, v)| v),
    })
}

fn map_unita(cx: &mut Cx<'_>, n: NodeId, ids: &mut Ids) -> Option<UnitaProduttiva> {
    cx.check_attrs(n, &[]);
    let s = cx.seq(
        n,
        &[
            (Tag::CodiceUnitaProduttiva, v2_min(cx), v2_min(cx)),
            (Tag::Indirizzo, 1, 1),
            (Tag::Comune, 1, 1),
            (Tag::Provincia, 1, 1),
            (Tag::Cap, 1, 1),
            (Tag::Cantiere, 0, 1),
        ],
    );
    let codice = if solo_v2(cx, s[0]) { codice_unita(cx, s[0]).map(Some) } else { Some(None) };
    let indirizzo = cx.text(s[1], TESTO_MAX);
    let comune = cx.text(s[2], TESTO_MAX);
    let provincia = cx.text(s[3], CODICE_MAX);
    let cap = cx.text(s[4], CODICE_MAX);
    let cantiere = opt_quadro(cx, s[5], ids, map_cantiere);
    let (p, k) = (provincia?, cap?);
    ids.b_provincia = p.0;
    ids.b_cap = k.0;
    ids.b = n;
    Some(UnitaProduttiva {
        codice: codice?,
        indirizzo: indirizzo?.1,
        comune: comune?.1,
        provincia: p.1,
        cap: k.1,
        cantiere: cantiere?,
    })
}

fn map_periodo(cx: &mut Cx<'_>, n: NodeId, ids: &mut Ids) -> Option<Periodo> {
    cx.check_attrs(n, &[]);
    let s = cx.seq(
        n,
        &[
            (Tag::PeriodoDal, 1, 1),
            (Tag::PeriodoAl, 1, 1),
            (Tag::NumeroSettimane, 1, 1),
            (Tag::TotaleOreCIG, 1, 1),
            (Tag::Causale, 1, 1),
            (Tag::DescrizioneCausale, 0, 1),
            (Tag::ConsultazioneSindacale, 1, 1),
        ],
    );
    let dal = cx.date(s[0]);
    let al = cx.date(s[1]);
    let settimane = cx.uint(s[2]);
    let totale = cx.ore(s[3], &[]);
    let causale = cx.code::<Causale>(s[4]);
    let descrizione = cx.opt_text(s[5], DESCRIZIONE_MAX);
    let consultazione = cx.boolean(s[6]);
    let (dal, al, settimane, totale, causale) = (dal?, al?, settimane?, totale?, causale?);
    ids.c_dal = dal.0;
    ids.c_al = al.0;
    ids.c_settimane = settimane.0;
    ids.c_totale = totale.0;
    ids.c_causale = causale.0;
    Some(Periodo {
        dal: dal.1,
        al: al.1,
        numero_settimane: settimane.1,
        totale_ore_cig: totale.1,
        causale: causale.1,
        descrizione_causale: descrizione?,
        consultazione_sindacale: consultazione?,
    })
}

fn map_quadro_e(cx: &mut Cx<'_>, n: NodeId, ids: &mut Ids) -> Option<QuadroE> {
    cx.check_attrs(n, &[]);
    ids.quadro_e = n;
    let s = cx.seq(n, &[(Tag::Riga, 1, 8), (Tag::OccupatiSemestre, v2_min(cx), v2_min(cx))]);
    let occupati = if solo_v2(cx, s[1]) { opt_quadro(cx, s[1], ids, map_occupati) } else { Some(None) };
    ids.e_occupati = s[1].first.filter(|_| cx.t.versione == Versione::V2);
    let mut righe = Vec::with_capacity(s[0].count as usize);
    let mut ok = true;
    for r in cx.each(s[0], Tag::Riga) {
        cx.check_attrs(r, &["tipoOrario", "qualifica"]);
        let tipo = cx.attr_code::<TipoOrario>(r, "tipoOrario");
        let qual = cx.attr_code::<QualificaE>(r, "qualifica");
        let f = cx.seq(
            r,
            &[(Tag::InForza, 1, 1), (Tag::Sospesi, 1, 1), (Tag::OrarioRidotto, 1, 1), (Tag::TotaleInCIG, 1, 1)],
        );
        let in_forza = cx.uint(f[0]);
        let sospesi = cx.uint(f[1]);
        let ridotto = cx.uint(f[2]);
        let totale = cx.uint(f[3]);
        match (tipo, qual, in_forza, sospesi, ridotto, totale) {
            (Some(t), Some(q), Some(a), Some(b), Some(c), Some(d)) => {
                ids.righe.push((r, d.0));
                righe.push(RigaE {
                    tipo_orario: t,
                    qualifica: q,
                    in_forza: a.1,
                    sospesi: b.1,
                    orario_ridotto: c.1,
                    totale_in_cig: d.1,
                });
            }
            _ => ok = false,
        }
    }
    let occupati_semestre = occupati?;
    (ok && !righe.is_empty()).then_some(QuadroE { righe, occupati_semestre })
}

/// Tracciato v2, QuadroE/OccupatiSemestre: one `Fascia` per contractual schedule.
fn map_occupati(cx: &mut Cx<'_>, n: NodeId, _ids: &mut Ids) -> Option<OccupatiSemestre> {
    cx.check_attrs(n, &[]);
    let s = cx.seq(n, &[(Tag::Fascia, 1, 16)]);
    let mut fasce = Vec::with_capacity(s[0].count as usize);
    let mut ok = true;
    for f in cx.each(s[0], Tag::Fascia) {
        cx.check_attrs(f, &[]);
        let c = cx.seq(f, &[(Tag::OreSettimanali, 1, 1), (Tag::MediaLavoratori, 1, 1)]);
        match (cx.ore(c[0], &[]), cx.ore(c[1], &[])) {
            (Some((_, ore)), Some((_, media))) => {
                fasce.push(FasciaOccupati { ore_settimanali: ore, media_lavoratori: media })
            }
            _ => ok = false,
        }
    }
    (ok && !fasce.is_empty()).then_some(OccupatiSemestre { fasce })
}

/// The occurrences (min and max) of an element that version 2 requires and version 1 does not
/// know: 1 in v2, 0 in v1 (where [`solo_v2`] reports it).
fn v2_min(cx: &Cx<'_>) -> u32 {
    u32::from(cx.t.versione == Versione::V2)
}

/// Whether a slot of an element of version 2 can be read: in a v1 document such an element is
/// not part of the tracciato (STR-002, saying which version has it) and is ignored.
fn solo_v2(cx: &mut Cx<'_>, slot: Slot) -> bool {
    if cx.t.versione == Versione::V2 {
        return true;
    }
    if let Some(n) = slot.first {
        let name = cx.t.node(n).tag.name();
        let msg = format!(
            "L'elemento {name} è del tracciato versione 2 e non è previsto nella versione 1: toglierlo, o dichiarare il file nel namespace {NAMESPACE_V2} con versione=\"2\"."
        );
        cx.at(&rules::STR_NON_PREVISTO, n, msg, Some(name));
    }
    false
}

/// QuadroB/CodiceUnitaProduttiva: the INPS identifier of the unit, 1 to 16 letters or digits.
fn codice_unita(cx: &mut Cx<'_>, slot: Slot) -> Option<String> {
    let (n, v) = cx.text(slot, CODICE_MAX)?;
    if v.is_empty() || v.len() > 16 || !v.bytes().all(|b| b.is_ascii_alphanumeric()) {
        let msg = "Il codice dell'unità produttiva deve essere quello attribuito da INPS all'unità (da 1 a 16 lettere o cifre, come nell'elemento UnitaProduttiva di UniEmens): correggerlo.".to_string();
        cx.at(&rules::STR_TIPO, n, msg, Some(&v));
        return None;
    }
    Some(v.to_ascii_uppercase())
}

fn map_lavoratori(cx: &mut Cx<'_>, n: NodeId, ids: &mut Ids) -> Option<Lavoratori> {
    cx.check_attrs(n, &[]);
    let s = cx.seq(n, &[(Tag::Lavoratore, 1, UNBOUNDED)]);
    let mut out = Vec::with_capacity(s[0].count as usize);
    let mut ok = true;
    for l in cx.each(s[0], Tag::Lavoratore) {
        match map_lavoratore(cx, l, ids) {
            Some(v) => out.push(v),
            None => ok = false,
        }
    }
    (ok && !out.is_empty()).then_some(Lavoratori { lavoratori: out })
}

fn map_lavoratore(cx: &mut Cx<'_>, n: NodeId, ids: &mut Ids) -> Option<Lavoratore> {
    cx.check_attrs(n, &[]);
    let s = cx.seq(
        n,
        &[
            (Tag::CodiceFiscale, 1, 1),
            (Tag::Cognome, 1, 1),
            (Tag::Nome, 1, 1),
            (Tag::Qualifica, 1, 1),
            (Tag::TipoOrario, 1, 1),
            (Tag::OreSettimanaliContrattuali, 1, 1),
            (Tag::DataAssunzione, 0, 1),
            (Tag::Iban, 0, 1),
            (Tag::OreCIG, 1, 13),
        ],
    );
    let cf = cx.text(s[0], CODICE_MAX);
    let cognome = cx.text(s[1], TESTO_MAX);
    let nome = cx.text(s[2], TESTO_MAX);
    let qualifica = cx.code::<Qualifica>(s[3]);
    let tipo = cx.code::<TipoOrario>(s[4]);
    let contr = cx.ore(s[5], &[]);
    let assunzione = cx.opt_date(s[6]);
    let iban = cx.opt_text_id(s[7], TESTO_MAX);
    let start = ids.ore.len();
    let mut ore = Vec::with_capacity(s[8].count as usize);
    let mut ok = true;
    for o in cx.each(s[8], Tag::OreCIG) {
        let settimana = cx.attr_uint(o, "settimana", 2, 1, 13);
        let slot = Slot { first: Some(o), last: o, count: 1 };
        let v = cx.ore(slot, &["settimana"]);
        match (settimana, v) {
            (Some(k), Some((_, h))) => {
                ids.ore.push(o);
                ore.push(OreSettimana { settimana: k, ore: h });
            }
            _ => ok = false,
        }
    }
    let (cf, qualifica, contr, assunzione, iban) = (cf?, qualifica?, contr?, assunzione?, iban?);
    if !ok {
        return None;
    }
    ids.lavoratori.push(LavIds {
        cf: cf.0,
        qualifica: qualifica.0,
        ore: (start, ids.ore.len()),
        contrattuali: contr.0,
        assunzione: assunzione.map(|v| v.0),
        iban: iban.as_ref().map(|v| v.0),
    });
    Some(Lavoratore {
        codice_fiscale: cf.1,
        cognome: cognome?.1,
        nome: nome?.1,
        qualifica: qualifica.1,
        tipo_orario: tipo?.1,
        ore_settimanali_contrattuali: contr.1,
        data_assunzione: assunzione.map(|v| v.1),
        iban: iban.map(|v| v.1),
        ore_cig: ore,
    })
}

/// Maps an optional quadro: `Some(None)` when absent, `None` when present but broken.
fn opt_quadro<T>(
    cx: &mut Cx<'_>,
    slot: Slot,
    ids: &mut Ids,
    f: fn(&mut Cx<'_>, NodeId, &mut Ids) -> Option<T>,
) -> Option<Option<T>> {
    match slot.first {
        None => Some(None),
        Some(n) => f(cx, n, ids).map(Some),
    }
}

fn map_cantiere(cx: &mut Cx<'_>, n: NodeId, _ids: &mut Ids) -> Option<Cantiere> {
    cx.check_attrs(n, &[]);
    let s = cx.seq(
        n,
        &[(Tag::GenereAttivita, 1, 1), (Tag::FaseLavorativa, 1, 1), (Tag::Mansione, 1, 20), (Tag::LuogoLavori, 1, 1)],
    );
    let genere = cx.text(s[0], TESTO_MAX);
    let fase = cx.text(s[1], DESCRIZIONE_MAX);
    let mut mansioni = Vec::new();
    let mut ok = true;
    for m in cx.each(s[2], Tag::Mansione) {
        cx.check_attrs(m, &[]);
        let f = cx.seq(m, &[(Tag::Numero, 1, 1), (Tag::Descrizione, 1, 1)]);
        let numero = cx.uint(f[0]);
        let descr = cx.text(f[1], TESTO_MAX);
        match (numero, descr) {
            (Some(a), Some(b)) => mansioni.push(Mansione { numero: a.1, descrizione: b.1 }),
            _ => ok = false,
        }
    }
    let luogo = cx.code::<LuogoLavori>(s[3]);
    let (genere, fase, luogo) = (genere?, fase?, luogo?);
    (ok && !mansioni.is_empty()).then_some(Cantiere {
        genere_attivita: genere.1,
        fase_lavorativa: fase.1,
        mansioni,
        luogo_lavori: luogo.1,
    })
}

fn map_d(cx: &mut Cx<'_>, n: NodeId, ids: &mut Ids) -> Option<QuadroD> {
    cx.check_attrs(n, &[]);
    let s = cx.seq(n, &[(Tag::Ripresa, 1, 1), (Tag::DataRipresa, 0, 1)]);
    let ripresa = cx.code::<Ripresa>(s[0]);
    let data = cx.opt_date(s[1]);
    let (ripresa, data) = (ripresa?, data?);
    ids.d_ripresa = ripresa.0;
    ids.d_data = data.map(|d| d.0);
    Some(QuadroD { ripresa: ripresa.1, data_ripresa: data.map(|d| d.1) })
}

fn map_f(cx: &mut Cx<'_>, n: NodeId, ids: &mut Ids) -> Option<QuadroF> {
    cx.check_attrs(n, &[]);
    let s = cx.seq(
        n,
        &[
            (Tag::CodiceFiscale, 1, 1),
            (Tag::Cognome, 1, 1),
            (Tag::Nome, 1, 1),
            (Tag::Qualita, 1, 1),
            (Tag::DataDichiarazione, 1, 1),
        ],
    );
    let cf = cx.text(s[0], CODICE_MAX);
    let cognome = cx.text(s[1], TESTO_MAX);
    let nome = cx.text(s[2], TESTO_MAX);
    let qualita = cx.code::<QualitaFirmatario>(s[3]);
    let data = cx.date(s[4]);
    let cf = cf?;
    ids.f_cf = cf.0;
    Some(QuadroF { codice_fiscale: cf.1, cognome: cognome?.1, nome: nome?.1, qualita: qualita?.1, data: data?.1 })
}

fn map_g(cx: &mut Cx<'_>, n: NodeId, ids: &mut Ids) -> Option<QuadroG> {
    cx.check_attrs(n, &[]);
    ids.g = n;
    let s = cx.seq(n, &[(Tag::OrarioContrattuale, 0, 8), (Tag::Settimana, 1, 104)]);
    let mut ok = true;
    let mut orari = Vec::new();
    for o in cx.each(s[0], Tag::OrarioContrattuale) {
        cx.check_attrs(o, &["tipoOrario", "qualifica"]);
        let tipo = cx.attr_code::<TipoOrario>(o, "tipoOrario");
        let qual = cx.attr_code::<QualificaE>(o, "qualifica");
        let f = cx.seq(o, &[(Tag::Ore, 1, 1), (Tag::Minuti, 1, 1), (Tag::Giorni, 1, 1)]);
        let ore = cx.uint(f[0]);
        let minuti = cx.uint(f[1]);
        let giorni = cx.uint(f[2]);
        match (tipo, qual, ore, minuti, giorni) {
            (Some(t), Some(ql), Some(a), Some(b), Some(c)) => {
                ids.g_orari.push((o, a.0, c.0));
                orari.push(OrarioContrattuale { tipo_orario: t, qualifica: ql, ore: a.1, minuti: b.1, giorni: c.1 });
            }
            _ => ok = false,
        }
    }
    let mut settimane = Vec::new();
    for w in cx.each(s[1], Tag::Settimana) {
        cx.check_attrs(w, &["numero", "tipoOrario", "qualifica"]);
        let numero = cx.attr_uint(w, "numero", 2, 1, 13);
        let tipo = cx.attr_code::<TipoOrario>(w, "tipoOrario");
        let qual = cx.attr_code::<QualificaE>(w, "qualifica");
        let f = cx.seq(w, &[(Tag::Sospesi, 1, 1), (Tag::OrarioRidotto, 1, 1), (Tag::OreCIGRichieste, 1, 1)]);
        let sospesi = cx.uint(f[0]);
        let ridotto = cx.uint(f[1]);
        let ore = cx.ore(f[2], &[]);
        match (numero, tipo, qual, sospesi, ridotto, ore) {
            (Some(k), Some(t), Some(ql), Some(a), Some(b), Some(c)) => {
                ids.g_sett.push((w, c.0));
                settimane.push(SettimanaG {
                    numero: k,
                    tipo_orario: t,
                    qualifica: ql,
                    sospesi: a.1,
                    orario_ridotto: b.1,
                    ore_cig: c.1,
                });
            }
            _ => ok = false,
        }
    }
    (ok && !settimane.is_empty()).then_some(QuadroG { orari, settimane })
}

fn map_h(cx: &mut Cx<'_>, n: NodeId, ids: &mut Ids) -> Option<QuadroH> {
    cx.check_attrs(n, &[]);
    let s = cx.seq(n, &[(Tag::Settimana, 1, 13), (Tag::DescrizioneEvento, 0, 1)]);
    let mut ok = true;
    let mut settimane = Vec::new();
    for w in cx.each(s[0], Tag::Settimana) {
        cx.check_attrs(w, &["numero"]);
        let numero = cx.attr_uint(w, "numero", 2, 1, 13);
        let g = cx.seq(w, &[(Tag::Giorno, 1, 7)]);
        let mut giorni = Vec::new();
        for d in cx.each(g[0], Tag::Giorno) {
            cx.check_attrs(d, &["giorno"]);
            let giorno = cx.attr_code::<GiornoSettimana>(d, "giorno");
            let f = cx.seq(
                d,
                &[
                    (Tag::OreOrdinarie, 1, 1),
                    (Tag::OreStraordinarie, 1, 1),
                    (Tag::OreAltro, 1, 1),
                    (Tag::TotaleOre, 1, 1),
                    (Tag::CodiceEvento, 0, 1),
                ],
            );
            let ord = cx.ore(f[0], &[]);
            let stra = cx.ore(f[1], &[]);
            let altro = cx.ore(f[2], &[]);
            let tot = cx.ore(f[3], &[]);
            let codice = cx.opt_code::<CodiceEvento>(f[4]);
            match (giorno, ord, stra, altro, tot, codice) {
                (Some(gg), Some(a), Some(b), Some(c), Some(t), Some(k)) => {
                    ids.h_giorni.push((d, t.0, k.map(|k| k.0)));
                    giorni.push(GiornoH {
                        giorno: gg,
                        ordinarie: a.1,
                        straordinarie: b.1,
                        altro: c.1,
                        totale: t.1,
                        codice_evento: k.map(|k| k.1),
                    });
                }
                _ => ok = false,
            }
        }
        match numero {
            Some(k) if !giorni.is_empty() => {
                ids.h_sett.push(w);
                settimane.push(SettimanaH { numero: k, giorni });
            }
            _ => ok = false,
        }
    }
    let descr = cx.opt_text(s[1], DESCRIZIONE_MAX);
    let descr = descr?;
    (ok && !settimane.is_empty()).then_some(QuadroH { settimane, descrizione_evento: descr })
}

fn map_i(cx: &mut Cx<'_>, n: NodeId, ids: &mut Ids) -> Option<QuadroI> {
    cx.check_attrs(n, &[]);
    let s = cx.seq(n, &[(Tag::Reparto, 1, 50), (Tag::MotivoLicenziamenti, 0, 1)]);
    let mut ok = true;
    let mut reparti = Vec::new();
    for r in cx.each(s[0], Tag::Reparto) {
        cx.check_attrs(r, &[]);
        let f = cx.seq(
            r,
            &[
                (Tag::Nome, 1, 1),
                (Tag::InteressatoCIG, 1, 1),
                (Tag::AddettiOperai, 1, 1),
                (Tag::AddettiImpiegati, 1, 1),
                (Tag::InteressatiOperai, 1, 1),
                (Tag::InteressatiImpiegati, 1, 1),
                (Tag::AssuntiUltimi3Mesi, 1, 1),
                (Tag::LicenziatiUltimi3Mesi, 1, 1),
                (Tag::LicenziamentiPrevisti, 1, 1),
            ],
        );
        let nome = cx.text(f[0], TESTO_MAX);
        let interessato = cx.boolean_id(f[1]);
        let v: Vec<Option<(NodeId, u32)>> = (2..9).map(|i| cx.uint(f[i])).collect();
        match (nome, interessato, v.iter().all(Option::is_some)) {
            (Some(nm), Some(i), true) => {
                let v: Vec<u32> = v.into_iter().flatten().map(|x| x.1).collect();
                ids.i_reparti.push((r, i.0));
                reparti.push(Reparto {
                    nome: nm.1,
                    interessato: i.1,
                    addetti_operai: v[0],
                    addetti_impiegati: v[1],
                    interessati_operai: v[2],
                    interessati_impiegati: v[3],
                    assunti: v[4],
                    licenziati: v[5],
                    licenziamenti_previsti: v[6],
                });
            }
            _ => ok = false,
        }
    }
    let motivo = cx.opt_text(s[1], DESCRIZIONE_MAX)?;
    (ok && !reparti.is_empty()).then_some(QuadroI { reparti, motivo_licenziamenti: motivo })
}

fn map_l(cx: &mut Cx<'_>, n: NodeId, ids: &mut Ids) -> Option<QuadroL> {
    cx.check_attrs(n, &[]);
    let s = cx.seq(
        n,
        &[
            (Tag::FerieAnnoPrecedente, 1, 1),
            (Tag::FerieAnnoInCorso, 1, 1),
            (Tag::FerieAggiuntive, 1, 1),
            (Tag::RiposiCompensativi, 1, 1),
            (Tag::PermessiRetribuiti, 1, 1),
            (Tag::PeriodoFerie, 0, 10),
        ],
    );
    let v: Vec<Option<(NodeId, u32)>> = (0..5).map(|i| cx.uint(s[i])).collect();
    let mut ok = true;
    let mut periodi = Vec::new();
    for p in cx.each(s[5], Tag::PeriodoFerie) {
        cx.check_attrs(p, &[]);
        let f = cx.seq(p, &[(Tag::Dal, 1, 1), (Tag::Al, 1, 1), (Tag::FissatoIn, 1, 1)]);
        let dal = cx.date(f[0]);
        let al = cx.date(f[1]);
        let fiss = cx.code::<FissatoIn>(f[2]);
        match (dal, al, fiss) {
            (Some(a), Some(b), Some(c)) => {
                ids.l_periodi.push((a.0, b.0));
                periodi.push(PeriodoFerie { dal: a.1, al: b.1, fissato_in: c.1 });
            }
            _ => ok = false,
        }
    }
    if !ok || !v.iter().all(Option::is_some) {
        return None;
    }
    let v: Vec<u32> = v.into_iter().flatten().map(|x| x.1).collect();
    Some(QuadroL {
        ferie_anno_precedente: v[0],
        ferie_anno_in_corso: v[1],
        ferie_aggiuntive: v[2],
        riposi_compensativi: v[3],
        permessi_retribuiti: v[4],
        periodi,
    })
}

fn map_m(cx: &mut Cx<'_>, n: NodeId, ids: &mut Ids) -> Option<QuadroM> {
    cx.check_attrs(n, &[]);
    let s = cx.seq(
        n,
        &[
            (Tag::ModalitaComunicazione, 1, 1),
            (Tag::DataComunicazione, 1, 1),
            (Tag::DataConsultazione, 0, 1),
            (Tag::MotiviMancataConsultazione, 0, 1),
        ],
    );
    let modalita = cx.code::<ModalitaComunicazione>(s[0]);
    let com = cx.date(s[1]);
    let cons = cx.opt_date(s[2]);
    let motivi = cx.opt_text(s[3], DESCRIZIONE_MAX);
    let (com, cons) = (com?, cons?);
    ids.m = n;
    ids.m_comunicazione = com.0;
    ids.m_consultazione = cons.map(|c| c.0);
    Some(QuadroM {
        modalita: modalita?.1,
        data_comunicazione: com.1,
        data_consultazione: cons.map(|c| c.1),
        motivi_mancata_consultazione: motivi?,
    })
}

fn map_n(cx: &mut Cx<'_>, n: NodeId, ids: &mut Ids) -> Option<QuadroN> {
    cx.check_attrs(n, &[]);
    let s = cx.seq(
        n,
        &[
            (Tag::DataRipresa, 1, 1),
            (Tag::ConTuttiILavoratori, 1, 1),
            (Tag::OperaiSospesi, 0, 1),
            (Tag::OperaiOrarioRidotto, 0, 1),
            (Tag::ImpiegatiSospesi, 0, 1),
            (Tag::ImpiegatiOrarioRidotto, 0, 1),
            (Tag::CantiereRipresa, 0, 1),
        ],
    );
    let data = cx.date(s[0]);
    let tutti = cx.boolean_id(s[1]);
    let a = cx.opt_uint(s[2]);
    let b = cx.opt_uint(s[3]);
    let c = cx.opt_uint(s[4]);
    let d = cx.opt_uint(s[5]);
    let cantiere = cx.opt_text(s[6], TESTO_MAX);
    let (data, tutti) = (data?, tutti?);
    ids.n_data = data.0;
    ids.n_tutti = tutti.0;
    Some(QuadroN {
        data_ripresa: data.1,
        con_tutti: tutti.1,
        operai_sospesi: a?.map(|v| v.1),
        operai_orario_ridotto: b?.map(|v| v.1),
        impiegati_sospesi: c?.map(|v| v.1),
        impiegati_orario_ridotto: d?.map(|v| v.1),
        cantiere: cantiere?,
    })
}

fn map_o(cx: &mut Cx<'_>, n: NodeId, ids: &mut Ids) -> Option<QuadroO> {
    cx.check_attrs(n, &[]);
    let s = cx.seq(
        n,
        &[
            (Tag::DataRipresaPrevista, 1, 1),
            (Tag::NumeroLavoratori, 1, 1),
            (Tag::UnitaRipresa, 1, 1),
            (Tag::ElementiGiustificativi, 1, 1),
        ],
    );
    let data = cx.date(s[0]);
    let numero = cx.uint(s[1]);
    let unita = cx.code::<UnitaRipresa>(s[2]);
    let elementi = cx.text(s[3], DESCRIZIONE_MAX);
    let data = data?;
    ids.o_data = data.0;
    Some(QuadroO { data_prevista: data.1, numero_lavoratori: numero?.1, unita: unita?.1, elementi: elementi?.1 })
}

fn map_p(cx: &mut Cx<'_>, n: NodeId, _ids: &mut Ids) -> Option<QuadroP> {
    cx.check_attrs(n, &[]);
    let s = cx.seq(n, &[(Tag::MotiviProroga, 1, 1)]);
    Some(QuadroP { motivi: cx.text(s[0], DESCRIZIONE_MAX)?.1 })
}

fn map_q(cx: &mut Cx<'_>, n: NodeId, ids: &mut Ids) -> Option<QuadroQ> {
    cx.check_attrs(n, &[]);
    let s = cx.seq(n, &[(Tag::ContrattoInserimento, 1, UNBOUNDED)]);
    let mut ok = true;
    let mut contratti = Vec::new();
    for c in cx.each(s[0], Tag::ContrattoInserimento) {
        cx.check_attrs(c, &[]);
        let f = cx.seq(
            c,
            &[
                (Tag::CodiceFiscale, 1, 1),
                (Tag::DataApprovazione, 1, 1),
                (Tag::DataAssunzione, 1, 1),
                (Tag::DurataMesi, 1, 1),
                (Tag::OreAddestramento, 1, 1),
                (Tag::OreAddestramentoEsaurite, 1, 1),
            ],
        );
        let cf = cx.text(f[0], CODICE_MAX);
        let appr = cx.date(f[1]);
        let ass = cx.date(f[2]);
        let durata = cx.uint(f[3]);
        let ore = cx.ore(f[4], &[]);
        let esaurite = cx.boolean(f[5]);
        match (cf, appr, ass, durata, ore, esaurite) {
            (Some(a), Some(b), Some(c2), Some(d), Some(e), Some(g)) => {
                ids.q_cf.push(a.0);
                contratti.push(ContrattoInserimento {
                    codice_fiscale: a.1,
                    data_approvazione: b.1,
                    data_assunzione: c2.1,
                    durata_mesi: d.1,
                    ore_addestramento: e.1,
                    addestramento_esaurito: g,
                });
            }
            _ => ok = false,
        }
    }
    (ok && !contratti.is_empty()).then_some(QuadroQ { contratti })
}

fn map_r(cx: &mut Cx<'_>, n: NodeId, ids: &mut Ids) -> Option<QuadroR> {
    cx.check_attrs(n, &[]);
    let s = cx.seq(
        n,
        &[(Tag::CIGSPresentata, 1, 1), (Tag::CausaleCIGS, 0, 1), (Tag::NumeroLavoratori, 0, 1), (Tag::Reparti, 0, 1)],
    );
    let presentata = cx.boolean_id(s[0]);
    let causale = cx.opt_text(s[1], TESTO_MAX);
    let numero = cx.opt_uint(s[2]);
    let reparti = cx.opt_text(s[3], TESTO_MAX);
    let presentata = presentata?;
    ids.r_presentata = presentata.0;
    Some(QuadroR {
        presentata: presentata.1,
        causale: causale?,
        numero_lavoratori: numero?.map(|v| v.1),
        reparti: reparti?,
    })
}

fn map_s(cx: &mut Cx<'_>, n: NodeId, ids: &mut Ids) -> Option<QuadroS> {
    cx.check_attrs(n, &[]);
    let s = cx.seq(n, &[(Tag::Procedura, 1, 6)]);
    let mut ok = true;
    let mut procedure = Vec::new();
    for p in cx.each(s[0], Tag::Procedura) {
        cx.check_attrs(p, &[]);
        let f = cx.seq(p, &[(Tag::TipoProcedura, 1, 1), (Tag::Data, 1, 1)]);
        let tipo = cx.code::<TipoProcedura>(f[0]);
        let data = cx.date(f[1]);
        match (tipo, data) {
            (Some(a), Some(b)) => {
                ids.s_tipo.push(a.0);
                procedure.push(Procedura { tipo: a.1, data: b.1 });
            }
            _ => ok = false,
        }
    }
    (ok && !procedure.is_empty()).then_some(QuadroS { procedure })
}

fn map_t(cx: &mut Cx<'_>, n: NodeId, ids: &mut Ids) -> Option<QuadroT> {
    cx.check_attrs(n, &[]);
    let s = cx.seq(n, &[(Tag::DichiarazioneResa, 1, 1), (Tag::DataDichiarazione, 1, 1)]);
    let resa = cx.boolean_id(s[0]);
    let data = cx.date(s[1]);
    let resa = resa?;
    ids.t_resa = resa.0;
    Some(QuadroT { resa: resa.1, data: data?.1 })
}

fn map_relazione(cx: &mut Cx<'_>, n: NodeId, ids: &mut Ids) -> Option<RelazioneTecnica> {
    cx.check_attrs(n, &[]);
    ids.rel = n;
    let s = cx.seq(
        n,
        &[
            (Tag::Descrizione, 1, 1),
            (Tag::DataEvento, 0, 1),
            (Tag::CommesseInCorso, 0, 1),
            (Tag::OrdiniInPortafoglio, 0, 1),
            (Tag::Macchinario, 0, 1),
            (Tag::Fornitore, 0, 1),
            (Tag::BollettinoMeteo, 0, 1),
            (Tag::ProvvedimentoAutorita, 0, 1),
            (Tag::IndicatoriEconomici, 0, 1),
        ],
    );
    let descrizione = cx.text(s[0], DESCRIZIONE_MAX);
    let data = cx.opt_date(s[1]);
    let commesse = cx.opt_uint(s[2]);
    let ordini = cx.opt_importo(s[3]);
    let macchinario = cx.opt_text(s[4], TESTO_MAX);
    let fornitore = cx.opt_text(s[5], TESTO_MAX);
    let bollettino = cx.opt_text(s[6], TESTO_MAX);
    let provvedimento = cx.opt_text(s[7], TESTO_MAX);
    let indicatori = match s[8].first {
        None => Some(None),
        Some(ie) => map_indicatori(cx, ie, ids).map(Some),
    };
    let data = data?;
    ids.rel_data = data.map(|d| d.0);
    Some(RelazioneTecnica {
        descrizione: descrizione?.1,
        data_evento: data.map(|d| d.1),
        commesse_in_corso: commesse?.map(|v| v.1),
        ordini_in_portafoglio: ordini?.map(|v| v.1),
        macchinario: macchinario?,
        fornitore: fornitore?,
        bollettino_meteo: bollettino?,
        provvedimento_autorita: provvedimento?,
        indicatori: indicatori?,
    })
}

fn map_indicatori(cx: &mut Cx<'_>, n: NodeId, ids: &mut Ids) -> Option<IndicatoriEconomici> {
    cx.check_attrs(n, &[]);
    let s = cx.seq(n, &[(Tag::Indicatore, 1, 40)]);
    let mut ok = true;
    let mut out = Vec::new();
    for i in cx.each(s[0], Tag::Indicatore) {
        cx.check_attrs(i, &["anno", "trimestre"]);
        let anno = cx.attr_uint(i, "anno", 4, 1000, 9999);
        let trimestre = cx.opt_attr_uint(i, "trimestre", 1, 1, 4);
        let f = cx.seq(
            i,
            &[(Tag::Fatturato, 1, 1), (Tag::Ordinativi, 0, 1), (Tag::OreLavorate, 0, 1), (Tag::Dipendenti, 0, 1)],
        );
        let fatt = cx.importo(f[0]);
        let ord = cx.opt_importo(f[1]);
        let ore = cx.opt_ore(f[2]);
        let dip = cx.opt_uint(f[3]);
        match (anno, trimestre, fatt, ord, ore, dip) {
            (Some(a), Some(t), Some(fa), Some(o), Some(h), Some(d)) => {
                ids.indicatori.push(i);
                out.push(Indicatore {
                    anno: a,
                    trimestre: t,
                    fatturato: fa.1,
                    ordinativi: o.map(|v| v.1),
                    ore_lavorate: h.map(|v| v.1),
                    dipendenti: d.map(|v| v.1),
                });
            }
            _ => ok = false,
        }
    }
    (ok && !out.is_empty()).then_some(IndicatoriEconomici { indicatori: out })
}
