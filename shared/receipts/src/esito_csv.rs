//! The esito of a richiesta as CSV for a spreadsheet: what Excel opens correctly with Italian
//! settings. UTF-8 with a byte order mark (without it Excel reads the accents as Windows-1252),
//! `;` between fields (the comma is the decimal separator in Italy), CRLF line ends, dates
//! `GG/MM/AAAA`. One line per finding, and one for each domanda without findings, so that a
//! filter on any column shows whole facts.
//!
//! The writer streams: each domanda is written as it is handed over and nothing is kept, so the
//! esito of 10,000 domande never sits in memory. No column holds a decimal number (hours are not
//! part of the esito); should one be added, write it with [`ore_due_decimali`](cigo_domain::attestato::ore_due_decimali)
//! and `','`.
//!
//! A cell that Excel would run as a formula (it starts with `=`, `+`, `-`, `@`, a tab or a
//! carriage return: text taken from the uploaded file can) is written with a leading `'`, as
//! OWASP advises against CSV injection.

use crate::periodo_leggibile;
use cigo_domain::attestato::data_leggibile;
use cigo_domain::{DomandaEsito, EsitoDomanda, Finding};
use std::io::{self, Write};

/// The header line, in the order of the columns.
pub const COLUMNS: [&str; 15] = [
    "Numero richiesta",
    "Progressivo",
    "Matricola",
    "Denominazione",
    "Unità produttiva",
    "Periodo",
    "Esito",
    "Protocollo",
    "Codice regola",
    "Gravità",
    "Messaggio",
    "XPath",
    "Riga",
    "Colonna",
    "Valore",
];

const BOM: &[u8] = "\u{feff}".as_bytes();

/// Writes the esito of one richiesta as CSV, one domanda at a time.
pub struct EsitoCsv<W: Write> {
    out: csv::Writer<W>,
    numero: String,
}

/// `s` made safe to open in a spreadsheet (see the module documentation).
fn cella(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    }
}

fn opt(s: &Option<String>) -> String {
    s.as_deref().map(cella).unwrap_or_default()
}

/// The last seven columns: what one finding says.
fn finding_cells(f: &Finding) -> [String; 7] {
    [
        cella(&f.code),
        f.severity.as_str().to_string(),
        cella(&f.message),
        opt(&f.xpath),
        f.line.map(|n| n.to_string()).unwrap_or_default(),
        f.column.map(|n| n.to_string()).unwrap_or_default(),
        opt(&f.value),
    ]
}

impl<W: Write> EsitoCsv<W> {
    /// Writes the byte order mark and the header line.
    pub fn new(out: W, numero_richiesta: i64) -> io::Result<EsitoCsv<W>> {
        Self::start(out, numero_richiesta.to_string())
    }

    /// As [`EsitoCsv::new`] for a file that is no richiesta yet (`cigo validate`): the column
    /// "Numero richiesta" stays empty.
    pub fn senza_numero(out: W) -> io::Result<EsitoCsv<W>> {
        Self::start(out, String::new())
    }

    fn start(mut out: W, numero: String) -> io::Result<EsitoCsv<W>> {
        out.write_all(BOM)?;
        let mut out = csv::WriterBuilder::new()
            .delimiter(b';')
            .terminator(csv::Terminator::CRLF)
            .from_writer(out);
        out.write_record(COLUMNS)?;
        Ok(EsitoCsv { out, numero })
    }

    /// Writes the line of a file rejected as a whole (it has no domande): esito SCARTATA, the
    /// columns of a domanda empty.
    pub fn file_finding(&mut self, f: &Finding) -> io::Result<()> {
        let base: [String; 8] = [
            self.numero.clone(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            EsitoDomanda::Scartata.as_str().to_string(),
            String::new(),
        ];
        self.out
            .write_record(base.iter().chain(&finding_cells(f)))?;
        Ok(())
    }

    /// Writes the lines of one domanda: one per finding, or one if it has none.
    pub fn domanda(&mut self, d: &DomandaEsito, protocollo: Option<&str>) -> io::Result<()> {
        let base = [
            self.numero.clone(),
            d.progressivo.to_string(),
            opt(&d.matricola),
            opt(&d.denominazione),
            opt(&d.unita_produttiva),
            periodo_leggibile(d.periodo_dal, d.periodo_al, data_leggibile),
            d.esito.as_str().to_string(),
            protocollo.map(cella).unwrap_or_default(),
        ];
        if d.findings.is_empty() {
            let empty: [String; 7] = Default::default();
            self.out.write_record(base.iter().chain(&empty))?;
        }
        for f in &d.findings {
            self.out
                .write_record(base.iter().chain(&finding_cells(f)))?;
        }
        Ok(())
    }

    /// Hands what is buffered to the output, e.g. at the end of a page of domande, so that a
    /// server can send it as one chunk of the response.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    /// Flushes what is buffered and gives the output back.
    pub fn finish(self) -> io::Result<W> {
        self.out.into_inner().map_err(|e| e.into_error())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_neutralised_and_others_kept() {
        assert_eq!(cella("=SUM(A1)"), "'=SUM(A1)");
        assert_eq!(cella("-5"), "'-5");
        assert_eq!(cella("@x"), "'@x");
        assert_eq!(cella("Città"), "Città");
        assert_eq!(cella(""), "");
    }

    #[test]
    fn flush_hands_the_lines_written_so_far_to_the_output() {
        let mut w = EsitoCsv::new(Vec::new(), 7).unwrap();
        let (d, p) = crate::sample::domanda_esito(1);
        w.domanda(&d, p.as_deref()).unwrap();
        w.flush().unwrap();
        let out = w.finish().unwrap();
        let text = std::str::from_utf8(&out[BOM.len()..]).unwrap();
        assert!(out.starts_with(BOM));
        assert_eq!(text.lines().count(), 2, "{text}");
        assert!(text.starts_with("Numero richiesta;Progressivo;"));
        assert!(text.ends_with("\r\n"), "CRLF line ends");
    }
}
