//! Writes the model as XML of the tracciato, streaming (one domanda at a time), without serde.

use crate::model::*;
use crate::parse::Tag;
use std::io::{self, Write};

/// Small deliberate changes used by the generator to produce invalid domande.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Alter {
    /// Leave this element out (the first one met).
    pub omit: Option<Tag>,
    /// Write this code instead of the causale.
    pub causale: Option<&'static str>,
}

/// Escapes text for element content and attribute values.
pub fn escape(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.contains(['&', '<', '>', '"', '\'']) {
        return s.into();
    }
    let mut o = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            c => o.push(c),
        }
    }
    o.into()
}

/// The XML declaration and the start tag of `RichiestaCIGO`, tracciato version 1.
pub fn write_header<W: Write>(out: &mut W) -> io::Result<()> {
    write_header_versione(out, Versione::V1)
}

/// The XML declaration and the start tag of `RichiestaCIGO` of a version of the tracciato. The
/// domande written after it must carry the elements of that version (those of v2 are written
/// when set).
pub fn write_header_versione<W: Write>(out: &mut W, v: Versione) -> io::Result<()> {
    writeln!(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>")?;
    writeln!(out, "<RichiestaCIGO xmlns=\"{}\" versione=\"{v}\">", v.namespace())
}

/// The end tag of `RichiestaCIGO`.
pub fn write_footer<W: Write>(out: &mut W) -> io::Result<()> {
    writeln!(out, "</RichiestaCIGO>")
}

/// A whole richiesta.
pub fn write_richiesta<W: Write>(out: &mut W, r: &Richiesta) -> io::Result<()> {
    write_header_versione(out, Versione::from_attr(&r.versione).unwrap_or_default())?;
    for d in &r.domande {
        write_domanda(out, d)?;
    }
    write_footer(out)
}

/// One `<Domanda>`.
pub fn write_domanda<W: Write>(out: &mut W, d: &Domanda) -> io::Result<()> {
    write_domanda_with(out, d, &Alter::default())
}

struct W<'a, O: Write> {
    out: &'a mut O,
    alter: Alter,
}

impl<O: Write> W<'_, O> {
    fn skip(&mut self, tag: Tag) -> bool {
        if self.alter.omit == Some(tag) {
            self.alter.omit = None;
            true
        } else {
            false
        }
    }

    fn leaf(&mut self, indent: usize, tag: Tag, value: impl std::fmt::Display) -> io::Result<()> {
        if self.skip(tag) {
            return Ok(());
        }
        let v = value.to_string();
        writeln!(self.out, "{:indent$}<{n}>{}</{n}>", "", escape(&v), n = tag.name())
    }

    fn open(&mut self, indent: usize, tag: Tag) -> io::Result<()> {
        writeln!(self.out, "{:indent$}<{}>", "", tag.name())
    }

    fn close(&mut self, indent: usize, tag: Tag) -> io::Result<()> {
        writeln!(self.out, "{:indent$}</{}>", "", tag.name())
    }
}

pub(crate) fn write_domanda_with<O: Write>(out: &mut O, d: &Domanda, alter: &Alter) -> io::Result<()> {
    let mut w = W { out, alter: *alter };
    writeln!(w.out, "  <Domanda progressivo=\"{}\">", d.progressivo)?;
    w.leaf(4, Tag::TipoDomanda, d.tipo)?;

    write_azienda(&mut w, &d.azienda)?;

    write_unita(&mut w, &d.unita_produttiva)?;

    let p = &d.periodo;
    w.open(4, Tag::QuadroC)?;
    w.leaf(6, Tag::PeriodoDal, p.dal)?;
    w.leaf(6, Tag::PeriodoAl, p.al)?;
    w.leaf(6, Tag::NumeroSettimane, p.numero_settimane)?;
    w.leaf(6, Tag::TotaleOreCIG, p.totale_ore_cig)?;
    match w.alter.causale {
        Some(c) => w.leaf(6, Tag::Causale, c)?,
        None => w.leaf(6, Tag::Causale, p.causale)?,
    }
    if let Some(v) = &p.descrizione_causale {
        w.leaf(6, Tag::DescrizioneCausale, v)?;
    }
    w.leaf(6, Tag::ConsultazioneSindacale, p.consultazione_sindacale)?;
    w.close(4, Tag::QuadroC)?;

    if let Some(q) = &d.quadro_d {
        w.open(4, Tag::QuadroD)?;
        w.leaf(6, Tag::Ripresa, q.ripresa)?;
        if let Some(v) = q.data_ripresa {
            w.leaf(6, Tag::DataRipresa, v)?;
        }
        w.close(4, Tag::QuadroD)?;
    }

    w.open(4, Tag::QuadroE)?;
    for r in &d.quadro_e.righe {
        writeln!(w.out, "      <Riga tipoOrario=\"{}\" qualifica=\"{}\">", r.tipo_orario, r.qualifica)?;
        w.leaf(8, Tag::InForza, r.in_forza)?;
        w.leaf(8, Tag::Sospesi, r.sospesi)?;
        w.leaf(8, Tag::OrarioRidotto, r.orario_ridotto)?;
        w.leaf(8, Tag::TotaleInCIG, r.totale_in_cig)?;
        w.close(6, Tag::Riga)?;
    }
    if let Some(o) = &d.quadro_e.occupati_semestre {
        w.open(6, Tag::OccupatiSemestre)?;
        for f in &o.fasce {
            w.open(8, Tag::Fascia)?;
            w.leaf(10, Tag::OreSettimanali, f.ore_settimanali)?;
            w.leaf(10, Tag::MediaLavoratori, f.media_lavoratori)?;
            w.close(8, Tag::Fascia)?;
        }
        w.close(6, Tag::OccupatiSemestre)?;
    }
    w.close(4, Tag::QuadroE)?;
    write_quadri(&mut w, d)?;

    w.open(4, Tag::Lavoratori)?;
    for l in &d.lavoratori.lavoratori {
        w.open(6, Tag::Lavoratore)?;
        w.leaf(8, Tag::CodiceFiscale, &l.codice_fiscale)?;
        w.leaf(8, Tag::Cognome, &l.cognome)?;
        w.leaf(8, Tag::Nome, &l.nome)?;
        w.leaf(8, Tag::Qualifica, l.qualifica)?;
        w.leaf(8, Tag::TipoOrario, l.tipo_orario)?;
        w.leaf(8, Tag::OreSettimanaliContrattuali, l.ore_settimanali_contrattuali)?;
        if let Some(v) = l.data_assunzione {
            w.leaf(8, Tag::DataAssunzione, v)?;
        }
        if let Some(v) = &l.iban {
            w.leaf(8, Tag::Iban, v)?;
        }
        for o in &l.ore_cig {
            writeln!(w.out, "        <OreCIG settimana=\"{}\">{}</OreCIG>", o.settimana, o.ore)?;
        }
        w.close(6, Tag::Lavoratore)?;
    }
    w.close(4, Tag::Lavoratori)?;
    writeln!(w.out, "  </Domanda>")
}

fn opt<O: Write, T: std::fmt::Display>(w: &mut W<'_, O>, indent: usize, tag: Tag, v: Option<T>) -> io::Result<()> {
    match v {
        Some(v) => w.leaf(indent, tag, v),
        None => Ok(()),
    }
}

/// Quadri F to T and the relazione tecnica.
fn write_azienda<O: Write>(w: &mut W<'_, O>, a: &Azienda) -> io::Result<()> {
    w.open(4, Tag::QuadroA)?;
    w.leaf(6, Tag::Matricola, &a.matricola)?;
    w.leaf(6, Tag::CodiceFiscale, &a.codice_fiscale)?;
    w.leaf(6, Tag::Denominazione, &a.denominazione)?;
    w.leaf(6, Tag::Indirizzo, &a.indirizzo)?;
    w.leaf(6, Tag::Comune, &a.comune)?;
    w.leaf(6, Tag::Provincia, &a.provincia)?;
    w.leaf(6, Tag::Cap, &a.cap)?;
    for (tag, v) in
        [(Tag::Telefono, &a.telefono), (Tag::Cellulare, &a.cellulare), (Tag::Email, &a.email), (Tag::Fax, &a.fax)]
    {
        if let Some(v) = v {
            w.leaf(6, tag, v)?;
        }
    }
    if let Some(v) = &a.attivita {
        w.leaf(6, Tag::Attivita, v)?;
    }
    if let Some(v) = a.data_inizio_attivita {
        w.leaf(6, Tag::DataInizioAttivita, v)?;
    }
    w.leaf(6, Tag::LavoratoriInForza, a.lavoratori_in_forza)?;
    if let Some(v) = a.settore {
        w.leaf(6, Tag::Settore, v)?;
    }
    w.close(4, Tag::QuadroA)?;
    Ok(())
}

fn write_unita<O: Write>(w: &mut W<'_, O>, u: &UnitaProduttiva) -> io::Result<()> {
    w.open(4, Tag::QuadroB)?;
    if let Some(v) = &u.codice {
        w.leaf(6, Tag::CodiceUnitaProduttiva, v)?;
    }
    w.leaf(6, Tag::Indirizzo, &u.indirizzo)?;
    w.leaf(6, Tag::Comune, &u.comune)?;
    w.leaf(6, Tag::Provincia, &u.provincia)?;
    w.leaf(6, Tag::Cap, &u.cap)?;
    if let Some(c) = &u.cantiere {
        w.open(6, Tag::Cantiere)?;
        w.leaf(8, Tag::GenereAttivita, &c.genere_attivita)?;
        w.leaf(8, Tag::FaseLavorativa, &c.fase_lavorativa)?;
        for m in &c.mansioni {
            w.open(8, Tag::Mansione)?;
            w.leaf(10, Tag::Numero, m.numero)?;
            w.leaf(10, Tag::Descrizione, &m.descrizione)?;
            w.close(8, Tag::Mansione)?;
        }
        w.leaf(8, Tag::LuogoLavori, c.luogo_lavori)?;
        w.close(6, Tag::Cantiere)?;
    }
    w.close(4, Tag::QuadroB)?;
    Ok(())
}

fn write_quadri<O: Write>(w: &mut W<'_, O>, d: &Domanda) -> io::Result<()> {
    if let Some(f) = &d.quadro_f {
        write_quadro_f(w, f)?;
    }
    if let Some(g) = &d.quadro_g {
        write_quadro_g(w, g)?;
    }
    if let Some(h) = &d.quadro_h {
        write_quadro_h(w, h)?;
    }
    if let Some(i) = &d.quadro_i {
        write_quadro_i(w, i)?;
    }
    if let Some(l) = &d.quadro_l {
        write_quadro_l(w, l)?;
    }
    if let Some(m) = &d.quadro_m {
        write_quadro_m(w, m)?;
    }
    if let Some(n) = &d.quadro_n {
        write_quadro_n(w, n)?;
    }
    if let Some(o) = &d.quadro_o {
        write_quadro_o(w, o)?;
    }
    if let Some(p) = &d.quadro_p {
        write_quadro_p(w, p)?;
    }
    if let Some(q) = &d.quadro_q {
        write_quadro_q(w, q)?;
    }
    if let Some(r) = &d.quadro_r {
        write_quadro_r(w, r)?;
    }
    if let Some(s) = &d.quadro_s {
        write_quadro_s(w, s)?;
    }
    if let Some(t) = &d.quadro_t {
        write_quadro_t(w, t)?;
    }
    if let Some(r) = &d.relazione {
        write_relazione(w, r)?;
    }
    Ok(())
}

fn write_quadro_f<O: Write>(w: &mut W<'_, O>, f: &QuadroF) -> io::Result<()> {
    w.open(4, Tag::QuadroF)?;
    w.leaf(6, Tag::CodiceFiscale, &f.codice_fiscale)?;
    w.leaf(6, Tag::Cognome, &f.cognome)?;
    w.leaf(6, Tag::Nome, &f.nome)?;
    w.leaf(6, Tag::Qualita, f.qualita)?;
    w.leaf(6, Tag::DataDichiarazione, f.data)?;
    w.close(4, Tag::QuadroF)?;
    Ok(())
}

fn write_quadro_g<O: Write>(w: &mut W<'_, O>, g: &QuadroG) -> io::Result<()> {
    w.open(4, Tag::QuadroG)?;
    for o in &g.orari {
        writeln!(w.out, "      <OrarioContrattuale tipoOrario=\"{}\" qualifica=\"{}\">", o.tipo_orario, o.qualifica)?;
        w.leaf(8, Tag::Ore, o.ore)?;
        w.leaf(8, Tag::Minuti, o.minuti)?;
        w.leaf(8, Tag::Giorni, o.giorni)?;
        w.close(6, Tag::OrarioContrattuale)?;
    }
    for s in &g.settimane {
        writeln!(
            w.out,
            "      <Settimana numero=\"{}\" tipoOrario=\"{}\" qualifica=\"{}\">",
            s.numero, s.tipo_orario, s.qualifica
        )?;
        w.leaf(8, Tag::Sospesi, s.sospesi)?;
        w.leaf(8, Tag::OrarioRidotto, s.orario_ridotto)?;
        w.leaf(8, Tag::OreCIGRichieste, s.ore_cig)?;
        w.close(6, Tag::Settimana)?;
    }
    w.close(4, Tag::QuadroG)?;
    Ok(())
}

fn write_quadro_h<O: Write>(w: &mut W<'_, O>, h: &QuadroH) -> io::Result<()> {
    w.open(4, Tag::QuadroH)?;
    for s in &h.settimane {
        writeln!(w.out, "      <Settimana numero=\"{}\">", s.numero)?;
        for g in &s.giorni {
            writeln!(w.out, "        <Giorno giorno=\"{}\">", g.giorno)?;
            w.leaf(10, Tag::OreOrdinarie, g.ordinarie)?;
            w.leaf(10, Tag::OreStraordinarie, g.straordinarie)?;
            w.leaf(10, Tag::OreAltro, g.altro)?;
            w.leaf(10, Tag::TotaleOre, g.totale)?;
            opt(w, 10, Tag::CodiceEvento, g.codice_evento)?;
            w.close(8, Tag::Giorno)?;
        }
        w.close(6, Tag::Settimana)?;
    }
    opt(w, 6, Tag::DescrizioneEvento, h.descrizione_evento.as_ref())?;
    w.close(4, Tag::QuadroH)?;
    Ok(())
}

fn write_quadro_i<O: Write>(w: &mut W<'_, O>, i: &QuadroI) -> io::Result<()> {
    w.open(4, Tag::QuadroI)?;
    for r in &i.reparti {
        w.open(6, Tag::Reparto)?;
        w.leaf(8, Tag::Nome, &r.nome)?;
        w.leaf(8, Tag::InteressatoCIG, r.interessato)?;
        w.leaf(8, Tag::AddettiOperai, r.addetti_operai)?;
        w.leaf(8, Tag::AddettiImpiegati, r.addetti_impiegati)?;
        w.leaf(8, Tag::InteressatiOperai, r.interessati_operai)?;
        w.leaf(8, Tag::InteressatiImpiegati, r.interessati_impiegati)?;
        w.leaf(8, Tag::AssuntiUltimi3Mesi, r.assunti)?;
        w.leaf(8, Tag::LicenziatiUltimi3Mesi, r.licenziati)?;
        w.leaf(8, Tag::LicenziamentiPrevisti, r.licenziamenti_previsti)?;
        w.close(6, Tag::Reparto)?;
    }
    opt(w, 6, Tag::MotivoLicenziamenti, i.motivo_licenziamenti.as_ref())?;
    w.close(4, Tag::QuadroI)?;
    Ok(())
}

fn write_quadro_l<O: Write>(w: &mut W<'_, O>, l: &QuadroL) -> io::Result<()> {
    w.open(4, Tag::QuadroL)?;
    w.leaf(6, Tag::FerieAnnoPrecedente, l.ferie_anno_precedente)?;
    w.leaf(6, Tag::FerieAnnoInCorso, l.ferie_anno_in_corso)?;
    w.leaf(6, Tag::FerieAggiuntive, l.ferie_aggiuntive)?;
    w.leaf(6, Tag::RiposiCompensativi, l.riposi_compensativi)?;
    w.leaf(6, Tag::PermessiRetribuiti, l.permessi_retribuiti)?;
    for p in &l.periodi {
        w.open(6, Tag::PeriodoFerie)?;
        w.leaf(8, Tag::Dal, p.dal)?;
        w.leaf(8, Tag::Al, p.al)?;
        w.leaf(8, Tag::FissatoIn, p.fissato_in)?;
        w.close(6, Tag::PeriodoFerie)?;
    }
    w.close(4, Tag::QuadroL)?;
    Ok(())
}

fn write_quadro_m<O: Write>(w: &mut W<'_, O>, m: &QuadroM) -> io::Result<()> {
    w.open(4, Tag::QuadroM)?;
    w.leaf(6, Tag::ModalitaComunicazione, m.modalita)?;
    w.leaf(6, Tag::DataComunicazione, m.data_comunicazione)?;
    opt(w, 6, Tag::DataConsultazione, m.data_consultazione)?;
    opt(w, 6, Tag::MotiviMancataConsultazione, m.motivi_mancata_consultazione.as_ref())?;
    w.close(4, Tag::QuadroM)?;
    Ok(())
}

fn write_quadro_n<O: Write>(w: &mut W<'_, O>, n: &QuadroN) -> io::Result<()> {
    w.open(4, Tag::QuadroN)?;
    w.leaf(6, Tag::DataRipresa, n.data_ripresa)?;
    w.leaf(6, Tag::ConTuttiILavoratori, n.con_tutti)?;
    opt(w, 6, Tag::OperaiSospesi, n.operai_sospesi)?;
    opt(w, 6, Tag::OperaiOrarioRidotto, n.operai_orario_ridotto)?;
    opt(w, 6, Tag::ImpiegatiSospesi, n.impiegati_sospesi)?;
    opt(w, 6, Tag::ImpiegatiOrarioRidotto, n.impiegati_orario_ridotto)?;
    opt(w, 6, Tag::CantiereRipresa, n.cantiere.as_ref())?;
    w.close(4, Tag::QuadroN)?;
    Ok(())
}

fn write_quadro_o<O: Write>(w: &mut W<'_, O>, o: &QuadroO) -> io::Result<()> {
    w.open(4, Tag::QuadroO)?;
    w.leaf(6, Tag::DataRipresaPrevista, o.data_prevista)?;
    w.leaf(6, Tag::NumeroLavoratori, o.numero_lavoratori)?;
    w.leaf(6, Tag::UnitaRipresa, o.unita)?;
    w.leaf(6, Tag::ElementiGiustificativi, &o.elementi)?;
    w.close(4, Tag::QuadroO)?;
    Ok(())
}

fn write_quadro_p<O: Write>(w: &mut W<'_, O>, p: &QuadroP) -> io::Result<()> {
    w.open(4, Tag::QuadroP)?;
    w.leaf(6, Tag::MotiviProroga, &p.motivi)?;
    w.close(4, Tag::QuadroP)?;
    Ok(())
}

fn write_quadro_q<O: Write>(w: &mut W<'_, O>, q: &QuadroQ) -> io::Result<()> {
    w.open(4, Tag::QuadroQ)?;
    for c in &q.contratti {
        w.open(6, Tag::ContrattoInserimento)?;
        w.leaf(8, Tag::CodiceFiscale, &c.codice_fiscale)?;
        w.leaf(8, Tag::DataApprovazione, c.data_approvazione)?;
        w.leaf(8, Tag::DataAssunzione, c.data_assunzione)?;
        w.leaf(8, Tag::DurataMesi, c.durata_mesi)?;
        w.leaf(8, Tag::OreAddestramento, c.ore_addestramento)?;
        w.leaf(8, Tag::OreAddestramentoEsaurite, c.addestramento_esaurito)?;
        w.close(6, Tag::ContrattoInserimento)?;
    }
    w.close(4, Tag::QuadroQ)?;
    Ok(())
}

fn write_quadro_r<O: Write>(w: &mut W<'_, O>, r: &QuadroR) -> io::Result<()> {
    w.open(4, Tag::QuadroR)?;
    w.leaf(6, Tag::CIGSPresentata, r.presentata)?;
    opt(w, 6, Tag::CausaleCIGS, r.causale.as_ref())?;
    opt(w, 6, Tag::NumeroLavoratori, r.numero_lavoratori)?;
    opt(w, 6, Tag::Reparti, r.reparti.as_ref())?;
    w.close(4, Tag::QuadroR)?;
    Ok(())
}

fn write_quadro_s<O: Write>(w: &mut W<'_, O>, s: &QuadroS) -> io::Result<()> {
    w.open(4, Tag::QuadroS)?;
    for p in &s.procedure {
        w.open(6, Tag::Procedura)?;
        w.leaf(8, Tag::TipoProcedura, p.tipo)?;
        w.leaf(8, Tag::Data, p.data)?;
        w.close(6, Tag::Procedura)?;
    }
    w.close(4, Tag::QuadroS)?;
    Ok(())
}

fn write_quadro_t<O: Write>(w: &mut W<'_, O>, t: &QuadroT) -> io::Result<()> {
    w.open(4, Tag::QuadroT)?;
    w.leaf(6, Tag::DichiarazioneResa, t.resa)?;
    w.leaf(6, Tag::DataDichiarazione, t.data)?;
    w.close(4, Tag::QuadroT)?;
    Ok(())
}

fn write_relazione<O: Write>(w: &mut W<'_, O>, r: &RelazioneTecnica) -> io::Result<()> {
    w.open(4, Tag::RelazioneTecnica)?;
    w.leaf(6, Tag::Descrizione, &r.descrizione)?;
    opt(w, 6, Tag::DataEvento, r.data_evento)?;
    opt(w, 6, Tag::CommesseInCorso, r.commesse_in_corso)?;
    opt(w, 6, Tag::OrdiniInPortafoglio, r.ordini_in_portafoglio)?;
    opt(w, 6, Tag::Macchinario, r.macchinario.as_ref())?;
    opt(w, 6, Tag::Fornitore, r.fornitore.as_ref())?;
    opt(w, 6, Tag::BollettinoMeteo, r.bollettino_meteo.as_ref())?;
    opt(w, 6, Tag::ProvvedimentoAutorita, r.provvedimento_autorita.as_ref())?;
    if let Some(ind) = &r.indicatori {
        w.open(6, Tag::IndicatoriEconomici)?;
        for i in &ind.indicatori {
            match i.trimestre {
                Some(t) => writeln!(w.out, "        <Indicatore anno=\"{}\" trimestre=\"{t}\">", i.anno)?,
                None => writeln!(w.out, "        <Indicatore anno=\"{}\">", i.anno)?,
            }
            w.leaf(10, Tag::Fatturato, i.fatturato)?;
            opt(w, 10, Tag::Ordinativi, i.ordinativi)?;
            opt(w, 10, Tag::OreLavorate, i.ore_lavorate)?;
            opt(w, 10, Tag::Dipendenti, i.dipendenti)?;
            w.close(8, Tag::Indicatore)?;
        }
        w.close(6, Tag::IndicatoriEconomici)?;
    }
    w.close(4, Tag::RelazioneTecnica)?;
    Ok(())
}
