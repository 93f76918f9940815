//! The esito of a richiesta as XML, for payroll programs to import: namespace [`NAMESPACE`]
//! (the version is in the namespace and in the `versione` attribute), described by
//! [`XSD_V1`](crate::ESITO_XSD_V1) (`shared/receipts/schema/esito-v1.xsd`). Same content as the CSV;
//! dates are `xs:date` (`AAAA-MM-GG`), the machine form. The totals come last, as the writer
//! streams and counts while it goes: nothing but the counts is kept in memory.

use cigo_domain::attestato::Totali;
use cigo_domain::{DomandaEsito, Finding};
use std::io::{self, Write};

/// Namespace of the esito format, version 1.
pub const NAMESPACE: &str = "urn:cigo:esito:1";
/// The `versione` attribute of this format.
pub const VERSIONE: &str = "1";

/// Writes the esito of one richiesta as XML, one domanda at a time.
pub struct EsitoXml<W: Write> {
    out: W,
    totali: Totali,
}

/// `s` escaped for element text and attribute values. Characters XML 1.0 cannot carry at all
/// (most control characters) become U+FFFD.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

impl<W: Write> EsitoXml<W> {
    /// Writes the declaration and opens the root element.
    pub fn new(mut out: W, numero_richiesta: i64) -> io::Result<EsitoXml<W>> {
        write!(
            out,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<EsitoRichiesta xmlns=\"{NAMESPACE}\" versione=\"{VERSIONE}\" numeroRichiesta=\"{numero_richiesta}\">\n"
        )?;
        Ok(EsitoXml { out, totali: Totali::default() })
    }

    fn element(&mut self, indent: &str, name: &str, value: Option<String>) -> io::Result<()> {
        match value {
            Some(v) => writeln!(self.out, "{indent}<{name}>{}</{name}>", escape(&v)),
            None => Ok(()),
        }
    }

    /// Writes one domanda with its findings and its protocol number, if it has one.
    pub fn domanda(&mut self, d: &DomandaEsito, protocollo: Option<&str>) -> io::Result<()> {
        self.totali.conta(d.esito);
        writeln!(self.out, "  <Domanda progressivo=\"{}\" esito=\"{}\">", d.progressivo, d.esito.as_str())?;
        self.element("    ", "Matricola", d.matricola.clone())?;
        self.element("    ", "Denominazione", d.denominazione.clone())?;
        self.element("    ", "UnitaProduttiva", d.unita_produttiva.clone())?;
        self.element("    ", "PeriodoDal", d.periodo_dal.map(|p| p.to_string()))?;
        self.element("    ", "PeriodoAl", d.periodo_al.map(|p| p.to_string()))?;
        self.element("    ", "Protocollo", protocollo.map(str::to_string))?;
        for f in &d.findings {
            self.rilievo("    ", f)?;
        }
        writeln!(self.out, "  </Domanda>")
    }

    /// Writes the finding of a file rejected as a whole (it has no domande); before any domanda.
    pub fn file_finding(&mut self, f: &Finding) -> io::Result<()> {
        self.rilievo("  ", f)
    }

    fn rilievo(&mut self, indent: &str, f: &Finding) -> io::Result<()> {
        writeln!(
            self.out,
            "{indent}<Rilievo codice=\"{}\" livello=\"{}\" gravita=\"{}\">",
            escape(&f.code),
            f.layer.as_str(),
            f.severity.as_str()
        )?;
        let inner = format!("{indent}  ");
        self.element(&inner, "Messaggio", Some(f.message.clone()))?;
        self.element(&inner, "XPath", f.xpath.clone())?;
        self.element(&inner, "Riga", f.line.map(|n| n.to_string()))?;
        self.element(&inner, "Colonna", f.column.map(|n| n.to_string()))?;
        self.element(&inner, "Valore", f.value.clone())?;
        writeln!(self.out, "{indent}</Rilievo>")
    }

    /// Hands what is buffered to the output (see [`EsitoCsv::flush`](crate::EsitoCsv::flush)).
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    /// Writes the totals, closes the root element and gives the output back.
    pub fn finish(mut self) -> io::Result<W> {
        let t = self.totali;
        writeln!(
            self.out,
            "  <Totali domande=\"{}\" scartateInPrevalidazione=\"{}\" protocollate=\"{}\" scartateInInvio=\"{}\"/>\n</EsitoRichiesta>",
            t.domande, t.scartate_in_prevalidazione, t.protocollate, t.scartate_in_invio
        )?;
        self.out.flush()?;
        Ok(self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_forbidden_characters_replaced() {
        assert_eq!(escape("a<b & \"c\">"), "a&lt;b &amp; &quot;c&quot;&gt;");
        assert_eq!(escape("riga\nnuova\u{1}"), "riga&#10;nuova\u{fffd}");
        assert_eq!(escape("Niccolò"), "Niccolò");
    }
}
