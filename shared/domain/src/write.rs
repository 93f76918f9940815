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

/// The XML declaration and the start tag of `RichiestaCIGO`.
pub fn write_header<W: Write>(out: &mut W) -> io::Result<()> {
    writeln!(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>")?;
    writeln!(out, "<RichiestaCIGO xmlns=\"{NAMESPACE}\" versione=\"{VERSIONE}\">")
}

/// The end tag of `RichiestaCIGO`.
pub fn write_footer<W: Write>(out: &mut W) -> io::Result<()> {
    writeln!(out, "</RichiestaCIGO>")
}

/// A whole richiesta.
pub fn write_richiesta<W: Write>(out: &mut W, r: &Richiesta) -> io::Result<()> {
    write_header(out)?;
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

    let a = &d.azienda;
    w.open(4, Tag::QuadroA)?;
    w.leaf(6, Tag::Matricola, &a.matricola)?;
    w.leaf(6, Tag::CodiceFiscale, &a.codice_fiscale)?;
    w.leaf(6, Tag::Denominazione, &a.denominazione)?;
    w.leaf(6, Tag::Indirizzo, &a.indirizzo)?;
    w.leaf(6, Tag::Comune, &a.comune)?;
    w.leaf(6, Tag::Provincia, &a.provincia)?;
    w.leaf(6, Tag::Cap, &a.cap)?;
    if let Some(v) = &a.attivita {
        w.leaf(6, Tag::Attivita, v)?;
    }
    if let Some(v) = a.data_inizio_attivita {
        w.leaf(6, Tag::DataInizioAttivita, v)?;
    }
    w.leaf(6, Tag::LavoratoriInForza, a.lavoratori_in_forza)?;
    w.close(4, Tag::QuadroA)?;

    let u = &d.unita_produttiva;
    w.open(4, Tag::QuadroB)?;
    w.leaf(6, Tag::Indirizzo, &u.indirizzo)?;
    w.leaf(6, Tag::Comune, &u.comune)?;
    w.leaf(6, Tag::Provincia, &u.provincia)?;
    w.leaf(6, Tag::Cap, &u.cap)?;
    w.close(4, Tag::QuadroB)?;

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

    w.open(4, Tag::QuadroE)?;
    for r in &d.quadro_e.righe {
        writeln!(w.out, "      <Riga tipoOrario=\"{}\" qualifica=\"{}\">", r.tipo_orario, r.qualifica)?;
        w.leaf(8, Tag::InForza, r.in_forza)?;
        w.leaf(8, Tag::Sospesi, r.sospesi)?;
        w.leaf(8, Tag::OrarioRidotto, r.orario_ridotto)?;
        w.leaf(8, Tag::TotaleInCIG, r.totale_in_cig)?;
        w.close(6, Tag::Riga)?;
    }
    w.close(4, Tag::QuadroE)?;

    w.open(4, Tag::Lavoratori)?;
    for l in &d.lavoratori.lavoratori {
        w.open(6, Tag::Lavoratore)?;
        w.leaf(8, Tag::CodiceFiscale, &l.codice_fiscale)?;
        w.leaf(8, Tag::Cognome, &l.cognome)?;
        w.leaf(8, Tag::Nome, &l.nome)?;
        w.leaf(8, Tag::Qualifica, l.qualifica)?;
        w.leaf(8, Tag::TipoOrario, l.tipo_orario)?;
        w.leaf(8, Tag::OreSettimanaliContrattuali, l.ore_settimanali_contrattuali)?;
        for o in &l.ore_cig {
            writeln!(w.out, "        <OreCIG settimana=\"{}\">{}</OreCIG>", o.settimana, o.ore)?;
        }
        w.close(6, Tag::Lavoratore)?;
    }
    w.close(4, Tag::Lavoratori)?;
    writeln!(w.out, "  </Domanda>")
}
