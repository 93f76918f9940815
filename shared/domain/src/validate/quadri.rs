//! The quadri added to the tracciato after the first slice (B's site, D, F, G1-G4, H, I, L, M, N, O,
//! P, Q, R, S, T, the relazione tecnica), the worker's hiring date and IBAN: their mapping from the
//! tree (layer STRUTTURA) and their field (CAMPI) and coherence (COERENZA) rules.

use super::{Cx, Ids, Slot, CODICE_MAX, DESCRIZIONE_MAX, TESTO_MAX, UNBOUNDED};
use crate::codice_fiscale as cf;
use crate::model::*;
use crate::parse::{NodeId, Tag};
use crate::rules;
use crate::validate::Limits;
use chrono::{Datelike, Days, NaiveDate};
use std::collections::{HashMap, HashSet};

/// Where the fields of the later quadri are in the tree.
#[derive(Default)]
pub(super) struct IdsQ {
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

/// Maps an optional quadro: `Some(None)` when absent, `None` when present but broken.
pub(super) fn opt_quadro<T>(
    cx: &mut Cx<'_>,
    slot: Slot,
    q: &mut IdsQ,
    f: fn(&mut Cx<'_>, NodeId, &mut IdsQ) -> Option<T>,
) -> Option<Option<T>> {
    match slot.first {
        None => Some(None),
        Some(n) => f(cx, n, q).map(Some),
    }
}

fn attr_uint_opt(cx: &mut Cx<'_>, node: NodeId, name: &str, digits: usize, min: u32, max: u32) -> Option<Option<u32>> {
    if cx.t.attr(node, name).is_none() {
        return Some(None);
    }
    cx.attr_uint(node, name, digits, min, max).map(Some)
}

pub(super) fn map_cantiere(cx: &mut Cx<'_>, n: NodeId, _q: &mut IdsQ) -> Option<Cantiere> {
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

pub(super) fn map_d(cx: &mut Cx<'_>, n: NodeId, q: &mut IdsQ) -> Option<QuadroD> {
    cx.check_attrs(n, &[]);
    let s = cx.seq(n, &[(Tag::Ripresa, 1, 1), (Tag::DataRipresa, 0, 1)]);
    let ripresa = cx.code::<Ripresa>(s[0]);
    let data = cx.opt_date(s[1]);
    let (ripresa, data) = (ripresa?, data?);
    q.d_ripresa = ripresa.0;
    q.d_data = data.map(|d| d.0);
    Some(QuadroD { ripresa: ripresa.1, data_ripresa: data.map(|d| d.1) })
}

pub(super) fn map_f(cx: &mut Cx<'_>, n: NodeId, q: &mut IdsQ) -> Option<QuadroF> {
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
    q.f_cf = cf.0;
    Some(QuadroF { codice_fiscale: cf.1, cognome: cognome?.1, nome: nome?.1, qualita: qualita?.1, data: data?.1 })
}

pub(super) fn map_g(cx: &mut Cx<'_>, n: NodeId, q: &mut IdsQ) -> Option<QuadroG> {
    cx.check_attrs(n, &[]);
    q.g = n;
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
                q.g_orari.push((o, a.0, c.0));
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
                q.g_sett.push((w, c.0));
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

pub(super) fn map_h(cx: &mut Cx<'_>, n: NodeId, q: &mut IdsQ) -> Option<QuadroH> {
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
                    q.h_giorni.push((d, t.0, k.map(|k| k.0)));
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
                q.h_sett.push(w);
                settimane.push(SettimanaH { numero: k, giorni });
            }
            _ => ok = false,
        }
    }
    let descr = cx.opt_text(s[1], DESCRIZIONE_MAX);
    let descr = descr?;
    (ok && !settimane.is_empty()).then_some(QuadroH { settimane, descrizione_evento: descr })
}

pub(super) fn map_i(cx: &mut Cx<'_>, n: NodeId, q: &mut IdsQ) -> Option<QuadroI> {
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
                q.i_reparti.push((r, i.0));
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

pub(super) fn map_l(cx: &mut Cx<'_>, n: NodeId, q: &mut IdsQ) -> Option<QuadroL> {
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
                q.l_periodi.push((a.0, b.0));
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

pub(super) fn map_m(cx: &mut Cx<'_>, n: NodeId, q: &mut IdsQ) -> Option<QuadroM> {
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
    q.m = n;
    q.m_comunicazione = com.0;
    q.m_consultazione = cons.map(|c| c.0);
    Some(QuadroM {
        modalita: modalita?.1,
        data_comunicazione: com.1,
        data_consultazione: cons.map(|c| c.1),
        motivi_mancata_consultazione: motivi?,
    })
}

pub(super) fn map_n(cx: &mut Cx<'_>, n: NodeId, q: &mut IdsQ) -> Option<QuadroN> {
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
    q.n_data = data.0;
    q.n_tutti = tutti.0;
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

pub(super) fn map_o(cx: &mut Cx<'_>, n: NodeId, q: &mut IdsQ) -> Option<QuadroO> {
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
    q.o_data = data.0;
    Some(QuadroO { data_prevista: data.1, numero_lavoratori: numero?.1, unita: unita?.1, elementi: elementi?.1 })
}

pub(super) fn map_p(cx: &mut Cx<'_>, n: NodeId, _q: &mut IdsQ) -> Option<QuadroP> {
    cx.check_attrs(n, &[]);
    let s = cx.seq(n, &[(Tag::MotiviProroga, 1, 1)]);
    Some(QuadroP { motivi: cx.text(s[0], DESCRIZIONE_MAX)?.1 })
}

pub(super) fn map_q(cx: &mut Cx<'_>, n: NodeId, q: &mut IdsQ) -> Option<QuadroQ> {
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
                q.q_cf.push(a.0);
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

pub(super) fn map_r(cx: &mut Cx<'_>, n: NodeId, q: &mut IdsQ) -> Option<QuadroR> {
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
    q.r_presentata = presentata.0;
    Some(QuadroR {
        presentata: presentata.1,
        causale: causale?,
        numero_lavoratori: numero?.map(|v| v.1),
        reparti: reparti?,
    })
}

pub(super) fn map_s(cx: &mut Cx<'_>, n: NodeId, q: &mut IdsQ) -> Option<QuadroS> {
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
                q.s_tipo.push(a.0);
                procedure.push(Procedura { tipo: a.1, data: b.1 });
            }
            _ => ok = false,
        }
    }
    (ok && !procedure.is_empty()).then_some(QuadroS { procedure })
}

pub(super) fn map_t(cx: &mut Cx<'_>, n: NodeId, q: &mut IdsQ) -> Option<QuadroT> {
    cx.check_attrs(n, &[]);
    let s = cx.seq(n, &[(Tag::DichiarazioneResa, 1, 1), (Tag::DataDichiarazione, 1, 1)]);
    let resa = cx.boolean_id(s[0]);
    let data = cx.date(s[1]);
    let resa = resa?;
    q.t_resa = resa.0;
    Some(QuadroT { resa: resa.1, data: data?.1 })
}

pub(super) fn map_relazione(cx: &mut Cx<'_>, n: NodeId, q: &mut IdsQ) -> Option<RelazioneTecnica> {
    cx.check_attrs(n, &[]);
    q.rel = n;
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
        Some(ie) => map_indicatori(cx, ie, q).map(Some),
    };
    let data = data?;
    q.rel_data = data.map(|d| d.0);
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

fn map_indicatori(cx: &mut Cx<'_>, n: NodeId, q: &mut IdsQ) -> Option<IndicatoriEconomici> {
    cx.check_attrs(n, &[]);
    let s = cx.seq(n, &[(Tag::Indicatore, 1, 40)]);
    let mut ok = true;
    let mut out = Vec::new();
    for i in cx.each(s[0], Tag::Indicatore) {
        cx.check_attrs(i, &["anno", "trimestre"]);
        let anno = cx.attr_uint(i, "anno", 4, 1000, 9999);
        let trimestre = attr_uint_opt(cx, i, "trimestre", 1, 1, 4);
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
                q.indicatori.push(i);
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

fn fmt(d: NaiveDate) -> String {
    d.format("%d/%m/%Y").to_string()
}

/// Layer CAMPI for the later quadri and fields.
pub(super) fn check_campi(cx: &mut Cx<'_>, d: &Domanda, ids: &Ids) {
    let q = &ids.q;
    let a = &d.azienda;
    for (i, v) in [&a.telefono, &a.cellulare, &a.email, &a.fax]
        .into_iter()
        .enumerate()
    {
        let (Some(v), Some(node)) = (v, q.a_contatti[i]) else { continue };
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
    if let Some(f) = &d.quadro_f {
        if !cf::is_valid_codice_fiscale_persona(&f.codice_fiscale) {
            cx.at(
                &rules::CAM_CF_PERSONA,
                q.f_cf,
                format!(
                    "Il codice fiscale del firmatario {} {} non è valido (struttura o carattere di controllo): verificarlo.",
                    f.cognome, f.nome
                ),
                Some(&f.codice_fiscale),
            );
        }
    }
    if let Some(qq) = &d.quadro_q {
        for (c, &node) in qq.contratti.iter().zip(&q.q_cf) {
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
    for (l, li) in d.lavoratori.lavoratori.iter().zip(&ids.lavoratori) {
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
    if let Some(g) = &d.quadro_g {
        for (o, &(node, ore, giorni)) in g.orari.iter().zip(&q.g_orari) {
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
    if let Some(h) = &d.quadro_h {
        let ventiquattro = Ore::from_hours(24);
        for (g, &(node, _, _)) in h
            .settimane
            .iter()
            .flat_map(|s| s.giorni.iter())
            .zip(&q.h_giorni)
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
    if let Some(ind) = d.relazione.as_ref().and_then(|r| r.indicatori.as_ref()) {
        for (i, &node) in ind.indicatori.iter().zip(&q.indicatori) {
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

fn fine_mese_successivo(d: NaiveDate) -> NaiveDate {
    let (y, m) = if d.month() >= 11 { (d.year() + 1, d.month() - 10) } else { (d.year(), d.month() + 2) };
    NaiveDate::from_ymd_opt(y, m, 1)
        .and_then(|x| x.pred_opt())
        .unwrap_or(d)
}

/// Layer COERENZA for the later quadri and fields.
pub(super) fn check_coerenza(cx: &mut Cx<'_>, d: &Domanda, ids: &Ids, limits: &Limits) {
    let q = &ids.q;
    let p = &d.periodo;
    let eone = p.causale.oggettivamente_non_evitabile();
    let settimane = if p.dal <= p.al { p.settimane() } else { 0 };

    // D against N, O, P.
    if let Some(qd) = &d.quadro_d {
        let (rule, needed, quadro) = match qd.ripresa {
            Ripresa::Avvenuta => (&rules::COE_D_AVVENUTA_N, d.quadro_n.is_none(), "N"),
            Ripresa::Prevista => (&rules::COE_D_PREVISTA_O, d.quadro_o.is_none(), "O"),
            Ripresa::NonPrevedibile => (&rules::COE_D_NON_PREVEDIBILE_P, d.quadro_p.is_none(), "P"),
        };
        if needed {
            cx.at(
                rule,
                q.d_ripresa,
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
            cx.at(&rules::COE_D_DATA, q.d_data.unwrap_or(q.d_ripresa), msg, None);
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
                    q.d_data.unwrap_or(q.d_ripresa),
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
                q.n_data,
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
                q.n_tutti,
                "La ripresa non è avvenuta con tutti i lavoratori: indicare quanti operai e impiegati restano sospesi o a orario ridotto.".into(),
                Some("false"),
            );
        }
    }
    if let Some(o) = &d.quadro_o {
        if o.data_prevista <= p.al {
            cx.at(
                &rules::COE_O_DATA,
                q.o_data,
                format!(
                    "La ripresa è prevista il {}, prima della fine del periodo di CIG ({}): verificare il periodo richiesto.",
                    fmt(o.data_prevista),
                    fmt(p.al)
                ),
                Some(&o.data_prevista.to_string()),
            );
        }
    }

    // Weather events: B's site, H's codes.
    if p.causale == Causale::EventiMeteo && d.unita_produttiva.cantiere.is_none() {
        cx.at(
            &rules::COE_METEO_CANTIERE,
            q.b,
            "Per la causale EVENTI_METEO compilare nel quadro B l'elemento Cantiere (genere di attività, fase lavorativa, mansioni, lavori al coperto o allo scoperto).".into(),
            None,
        );
    }
    let codici: Vec<(CodiceEvento, NodeId)> = d
        .quadro_h
        .iter()
        .flat_map(|h| h.settimane.iter().flat_map(|s| s.giorni.iter()))
        .zip(&q.h_giorni)
        .filter_map(|(g, &(_, _, c))| Some((g.codice_evento?, c?)))
        .collect();
    if p.causale == Causale::EventiMeteo && codici.is_empty() {
        cx.at(
            &rules::COE_METEO_CODICI,
            ids.c_causale,
            "Per la causale EVENTI_METEO compilare il quadro H indicando il codice evento (1-8) nei giorni con ore da integrare.".into(),
            Some(p.causale.as_str()),
        );
    }
    if let Some(h) = &d.quadro_h {
        if h.descrizione_evento.is_none() {
            if let Some(&(_, node)) = codici.iter().find(|(c, _)| *c == CodiceEvento::Altro) {
                cx.at(
                    &rules::COE_EVENTO_ALTRO,
                    node,
                    "Con il codice evento 8 (altro) descrivere l'evento in DescrizioneEvento del quadro H.".into(),
                    Some("8"),
                );
            }
        }
        if p.causale != Causale::EventiMeteo {
            if let Some(&(c, node)) = codici.first() {
                cx.at(
                    &rules::COE_EVENTO_SENZA_METEO,
                    node,
                    format!(
                        "Il quadro H indica il codice evento meteo {c} ma la causale è {}: togliere i codici evento o correggere la causale.",
                        p.causale
                    ),
                    Some(c.as_str()),
                );
            }
        }
        let mut viste = HashSet::new();
        let mut gi = q.h_giorni.iter();
        for (s, &node) in h.settimane.iter().zip(&q.h_sett) {
            if s.numero > settimane && p.dal <= p.al {
                cx.at_attr(
                    &rules::COE_GH_FUORI_PERIODO,
                    node,
                    "numero",
                    format!(
                        "Il quadro H indica la settimana {}, ma il periodo comprende {settimane} settimane: correggere il numero della settimana.",
                        s.numero
                    ),
                    Some(&s.numero.to_string()),
                );
            }
            if !viste.insert(s.numero) {
                cx.at_attr(
                    &rules::COE_GH_DOPPIA,
                    node,
                    "numero",
                    format!("Il quadro H indica più volte la settimana {}: indicarla una sola volta.", s.numero),
                    Some(&s.numero.to_string()),
                );
            }
            let mut giorni_visti = HashSet::new();
            for g in &s.giorni {
                let Some(&(gnode, tnode, _)) = gi.next() else { break };
                if !giorni_visti.insert(g.giorno) {
                    cx.at_attr(
                        &rules::COE_GH_DOPPIA,
                        gnode,
                        "giorno",
                        format!("Nel quadro H la settimana {} indica più volte il giorno {}.", s.numero, g.giorno),
                        Some(g.giorno.as_str()),
                    );
                }
                let somma = Ore(g.ordinarie.0 + g.straordinarie.0 + g.altro.0);
                if somma != g.totale {
                    cx.at(
                        &rules::COE_H_TOTALE,
                        tnode,
                        format!(
                            "Quadro H, settimana {} giorno {}: il totale è {} ma ordinarie + straordinarie + altro fanno {somma}: correggere il totale.",
                            s.numero, g.giorno, g.totale
                        ),
                        Some(&g.totale.to_string()),
                    );
                }
            }
        }
    }

    // G1-G4 against the workers and quadro E.
    if let Some(g) = &d.quadro_g {
        let mut ore_lav: HashMap<(u32, TipoOrario, QualificaE), i64> = HashMap::new();
        for l in &d.lavoratori.lavoratori {
            let Some(qe) = l.qualifica.riga_e() else { continue };
            for o in &l.ore_cig {
                *ore_lav.entry((o.settimana, l.tipo_orario, qe)).or_default() += o.ore.0;
            }
        }
        let mut orari_visti = HashSet::new();
        for (o, &(node, _, _)) in g.orari.iter().zip(&q.g_orari) {
            if !orari_visti.insert((o.tipo_orario, o.qualifica)) {
                cx.at(
                    &rules::COE_GH_DOPPIA,
                    node,
                    format!(
                        "L'orario contrattuale {} / {} è indicato più volte: indicarlo una sola volta.",
                        o.tipo_orario, o.qualifica
                    ),
                    None,
                );
            }
        }
        let mut viste = HashSet::new();
        let mut gruppi = HashSet::new();
        for (s, &(node, ore_node)) in g.settimane.iter().zip(&q.g_sett) {
            let k = (s.numero, s.tipo_orario, s.qualifica);
            gruppi.insert((s.tipo_orario, s.qualifica));
            if s.numero > settimane && p.dal <= p.al {
                cx.at_attr(
                    &rules::COE_GH_FUORI_PERIODO,
                    node,
                    "numero",
                    format!(
                        "Il quadro G indica la settimana {}, ma il periodo comprende {settimane} settimane: correggere il numero della settimana.",
                        s.numero
                    ),
                    Some(&s.numero.to_string()),
                );
            }
            if !viste.insert(k) {
                cx.at_attr(
                    &rules::COE_GH_DOPPIA,
                    node,
                    "numero",
                    format!(
                        "Il quadro G indica più volte la settimana {} per {} / {}: indicarla una sola volta.",
                        s.numero, s.tipo_orario, s.qualifica
                    ),
                    Some(&s.numero.to_string()),
                );
                continue;
            }
            let attese = ore_lav.get(&k).copied().unwrap_or(0);
            if attese != s.ore_cig.0 {
                cx.at(
                    &rules::COE_G_ORE_LAVORATORI,
                    ore_node,
                    format!(
                        "Quadro G, settimana {} ({} / {}): sono richieste {} ore ma la somma delle ore dei lavoratori è {}: correggere il quadro G o l'elenco.",
                        s.numero,
                        s.tipo_orario,
                        s.qualifica,
                        s.ore_cig,
                        Ore(attese)
                    ),
                    Some(&s.ore_cig.to_string()),
                );
            }
            let in_cig = d
                .quadro_e
                .righe
                .iter()
                .find(|r| r.tipo_orario == s.tipo_orario && r.qualifica == s.qualifica)
                .map(|r| r.totale_in_cig)
                .unwrap_or(0);
            if s.sospesi as u64 + s.orario_ridotto as u64 > in_cig as u64 {
                cx.at(
                    &rules::COE_G_QUADRO_E,
                    node,
                    format!(
                        "Quadro G, settimana {} ({} / {}): {} sospesi e {} a orario ridotto superano i {in_cig} lavoratori in CIG del quadro E.",
                        s.numero, s.tipo_orario, s.qualifica, s.sospesi, s.orario_ridotto
                    ),
                    Some(&(s.sospesi + s.orario_ridotto).to_string()),
                );
            }
        }
        let mut mancanti: Vec<(TipoOrario, QualificaE)> = ore_lav
            .iter()
            .filter(|(k, &v)| v > 0 && !gruppi.contains(&(k.1, k.2)))
            .map(|(k, _)| (k.1, k.2))
            .collect();
        mancanti.sort();
        mancanti.dedup();
        for (t, qe) in mancanti {
            let quadro = match t {
                TipoOrario::TempoPieno => "G1",
                TipoOrario::PartTime => "G2",
                TipoOrario::Inserimento => "G3",
                TipoOrario::Solidarieta => "G4",
            };
            cx.at(
                &rules::COE_G_MANCANTE,
                q.g,
                format!(
                    "L'elenco contiene lavoratori {t} / {qe} con ore di CIG, ma il quadro {quadro} non ne riporta le settimane: aggiungerle al quadro G."
                ),
                Some(t.as_str()),
            );
        }
    }

    // Workers: inserimento contracts, seniority, hiring date, IBAN.
    let contratti: HashSet<String> = d
        .quadro_q
        .iter()
        .flat_map(|qq| qq.contratti.iter())
        .map(|c| c.codice_fiscale.to_ascii_uppercase())
        .collect();
    let riferimento = limits.data_presentazione.unwrap_or(p.dal);
    let mut iban_visti: HashMap<&str, &str> = HashMap::new();
    let mut inserimento = HashSet::new();
    for (l, li) in d.lavoratori.lavoratori.iter().zip(&ids.lavoratori) {
        let chi = format!("{} {}", l.cognome, l.nome);
        let cf_up = l.codice_fiscale.to_ascii_uppercase();
        if l.tipo_orario == TipoOrario::Inserimento {
            inserimento.insert(cf_up.clone());
            if !contratti.contains(&cf_up) {
                cx.at(
                    &rules::COE_INSERIMENTO_Q,
                    li.cf,
                    format!("Il lavoratore {chi} ha un contratto di inserimento: indicarne i dati nel quadro Q."),
                    Some(&l.codice_fiscale),
                );
            }
        }
        if let (Some(ass), Some(node)) = (l.data_assunzione, li.assunzione) {
            if ass > p.al {
                cx.at(
                    &rules::COE_ASSUNTO_DOPO,
                    node,
                    format!(
                        "Il lavoratore {chi} risulta assunto il {}, dopo la fine del periodo di CIG ({}): toglierlo dall'elenco o correggere la data.",
                        fmt(ass),
                        fmt(p.al)
                    ),
                    Some(&ass.to_string()),
                );
            } else if !eone && (riferimento - ass).num_days() < 30 {
                cx.at(
                    &rules::COE_ANZIANITA,
                    node,
                    format!(
                        "Il lavoratore {chi} è assunto dal {}: al {} non ha 30 giorni di anzianità nell'unità produttiva, richiesti per la causale {}. Toglierlo dall'elenco.",
                        fmt(ass),
                        fmt(riferimento),
                        p.causale
                    ),
                    Some(&ass.to_string()),
                );
            }
        }
        if let (Some(iban), Some(node)) = (&l.iban, li.iban) {
            if let Some(altro) = iban_visti.insert(iban.as_str(), l.codice_fiscale.as_str()) {
                if !altro.eq_ignore_ascii_case(&l.codice_fiscale) {
                    cx.at(
                        &rules::COE_IBAN_DOPPIO,
                        node,
                        format!("L'IBAN di {chi} è lo stesso di un altro lavoratore ({altro}): verificarlo."),
                        Some(iban),
                    );
                }
            }
        }
    }
    if let Some(qq) = &d.quadro_q {
        for (c, &node) in qq.contratti.iter().zip(&q.q_cf) {
            if !inserimento.contains(&c.codice_fiscale.to_ascii_uppercase()) {
                cx.at(
                    &rules::COE_Q_SCONOSCIUTO,
                    node,
                    format!(
                        "Il quadro Q indica un contratto di inserimento per {}, che non è nell'elenco dei lavoratori con tipo orario INSERIMENTO: verificare.",
                        c.codice_fiscale
                    ),
                    Some(&c.codice_fiscale),
                );
            }
        }
    }

    // M: union consultation.
    if let Some(m) = &d.quadro_m {
        if let Some(cons) = m.data_consultazione {
            if cons < m.data_comunicazione {
                cx.at(
                    &rules::COE_M_DATE_INVERTITE,
                    q.m_consultazione.unwrap_or(q.m),
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
                        q.m_consultazione.unwrap_or(q.m),
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
                q.m_comunicazione,
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
            cx.at(&rules::COE_M_CONSULTAZIONE, q.m, msg.into(), None);
        }
    }

    // I, L, R, S, T.
    if let Some(i) = &d.quadro_i {
        for (r, &(node, inode)) in i.reparti.iter().zip(&q.i_reparti) {
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
    if let Some(l) = &d.quadro_l {
        for (f, &(dal, al)) in l.periodi.iter().zip(&q.l_periodi) {
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
    if let Some(r) = &d.quadro_r {
        if r.presentata && (r.causale.is_none() || r.numero_lavoratori.is_none()) {
            cx.at(
                &rules::COE_R_CIGS,
                q.r_presentata,
                "È dichiarata una richiesta di CIGS: indicarne la causale (CausaleCIGS) e il numero di lavoratori."
                    .into(),
                Some("true"),
            );
        }
    }
    if let Some(s) = &d.quadro_s {
        for (pr, &node) in s.procedure.iter().zip(&q.s_tipo) {
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
    if let Some(t) = &d.quadro_t {
        if !t.resa {
            cx.at(
                &rules::COE_T_DISPONIBILITA,
                q.t_resa,
                "La dichiarazione di immediata disponibilità dei lavoratori non risulta resa: farla firmare ai lavoratori interessati.".into(),
                Some("false"),
            );
        }
    }

    // Relazione tecnica.
    if let Some(rel) = &d.relazione {
        let manca = match p.causale {
            Causale::MancanzaLavoro | Causale::CrisiMercato => rel
                .indicatori
                .as_ref()
                .is_none_or(|i| i.indicatori.is_empty())
                .then_some("IndicatoriEconomici (fatturato e ordinativi per anno o trimestre)"),
            Causale::GuastoMacchinari | Causale::ManutenzioneStraordinaria => {
                rel.macchinario.is_none().then_some("Macchinario")
            }
            Causale::MancanzaMateriePrime => rel.fornitore.is_none().then_some("Fornitore"),
            Causale::EventiMeteo => rel.bollettino_meteo.is_none().then_some("BollettinoMeteo"),
            Causale::SospensioneAutorita | Causale::ImpraticabilitaLocali => rel
                .provvedimento_autorita
                .is_none()
                .then_some("ProvvedimentoAutorita"),
            _ => None,
        };
        if let Some(campo) = manca {
            cx.at(
                &rules::COE_RELAZIONE_CAUSALE,
                q.rel,
                format!("Per la causale {} la relazione tecnica deve indicare {campo}: aggiungerlo.", p.causale),
                Some(p.causale.as_str()),
            );
        }
        if let (Some(ev), Some(node)) = (rel.data_evento, q.rel_data) {
            if ev > p.al {
                cx.at(
                    &rules::COE_EVENTO_DOPO,
                    node,
                    format!(
                        "L'evento della relazione tecnica è del {}, dopo la fine del periodo di CIG ({}): correggere la data.",
                        fmt(ev),
                        fmt(p.al)
                    ),
                    Some(&ev.to_string()),
                );
            }
        }
        if let Some(ind) = &rel.indicatori {
            let mut visti: HashMap<u32, (bool, HashSet<Option<u32>>)> = HashMap::new();
            for (i, &node) in ind.indicatori.iter().zip(&q.indicatori) {
                let e = visti
                    .entry(i.anno)
                    .or_insert((i.trimestre.is_some(), HashSet::new()));
                let misto = e.0 != i.trimestre.is_some();
                if misto || !e.1.insert(i.trimestre) {
                    let periodo = match i.trimestre {
                        Some(t) => format!("{}° trimestre {}", t, i.anno),
                        None => format!("anno {}", i.anno),
                    };
                    cx.at(
                        &rules::COE_INDICATORI,
                        node,
                        format!(
                            "Gli indicatori economici del {periodo} sono ripetuti o mescolano dati annuali e trimestrali dello stesso anno: indicare ogni periodo una sola volta."
                        ),
                        Some(&i.anno.to_string()),
                    );
                }
            }
        }
    }

    // Filing deadline (only when the filing date is known).
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
