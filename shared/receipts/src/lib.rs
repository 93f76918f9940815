//! # cigo-receipts
//!
//! What a person or a program takes away from cigo, rendered from data the domain defines:
//!
//! - [`pdf`]: the attestati di trasmissione and di consegna as PDF ([`attestato_pdf`]);
//! - [`esito_csv`]: the esito of a richiesta as CSV for a spreadsheet ([`EsitoCsv`]);
//! - [`esito_xml`]: the same as XML for payroll programs ([`EsitoXml`], schema [`ESITO_XSD_V1`]).
//!
//! The esito writers take each domanda as the domain's [`DomandaEsito`](cigo_domain::DomandaEsito)
//! (what prevalidation produced) with its protocol number, if it has one.
//!
//! Everything here is synchronous and writes to any `io::Write` (or returns bytes): no clock,
//! no network, no file system. The same input always gives the same bytes.
//!
//! ## Why krilla for the PDF
//!
//! The attestato di consegna of a 10,000-domanda richiesta is a table over ~250 pages, and it
//! must be an archival PDF (PDF/A-2b at least; it is PDF/A-2u) whose bytes depend on the content only.
//! - **typst as a library** lays out tables over pages by itself, but brings a compiler, a
//!   layout engine, a font stack and ~300 crates: minutes of cold build on the 2 cores CI has,
//!   for one table whose layout is fixed.
//! - **printpdf** 0.12 pulls the azul layout engine for text, and embeds fonts without a PDF/A
//!   check.
//! - **krilla** (what typst itself uses to write PDF) writes PDF/A-2b/2u and *validates* it at
//!   export (a violation is an error, never a silently non-conforming file), subsets and embeds
//!   TrueType fonts with a ToUnicode map (text can be copied and searched), and derives the file
//!   ids from the content, so the output is deterministic. Built without its default features
//!   (no raster images, no rustybuzz, which RustSec lists as unmaintained), it adds pdf-writer,
//!   skrifa, subsetter, write-fonts and xmp-writer. Measured cold (a fresh target directory,
//!   dev profile, `cargo build -p krilla -p skrifa -p chrono-tz -p data-encoding`): 245 s of CPU
//!   (user + system) for the 71 units, so about 2 to 2.5 minutes of wall clock on 2 idle cores;
//!   write-fonts, read-fonts and skrifa are half of it.
//!   Latin text needs no shaping: glyphs are mapped and measured with skrifa, the font reader
//!   krilla itself uses, and this crate lays out the few shapes an attestato has (fields,
//!   paragraphs, tables with a repeated header row).
//!
//! The font is DejaVu Sans (Bitstream Vera licence, `fonts/LICENSE`), so accented names print
//! (Niccolò, Città di Castello).

pub mod esito_csv;
pub mod esito_xml;
pub mod pdf;
pub mod sample;

pub use esito_csv::EsitoCsv;
pub use esito_xml::EsitoXml;
pub use pdf::{attestato_pdf, PdfError};

use chrono::NaiveDate;

/// The XML Schema of the esito format, version 1 (namespace [`esito_xml::NAMESPACE`]).
pub const ESITO_XSD_V1: &str = include_str!("../schema/esito-v1.xsd");

/// A period as `dal - al` with dates written by `date`; one side alone if the other is unknown.
fn periodo_leggibile(dal: Option<NaiveDate>, al: Option<NaiveDate>, date: fn(NaiveDate) -> String) -> String {
    match (dal, al) {
        (Some(d), Some(a)) => format!("{} - {}", date(d), date(a)),
        (Some(d), None) => date(d),
        (None, Some(a)) => date(a),
        (None, None) => String::new(),
    }
}
