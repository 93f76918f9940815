//! The attestati as PDF: A4, DejaVu Sans embedded (subset), a header with the numero richiesta
//! and a footer with the verification code and "pagina N di M" on every page, tables that repeat
//! their header row on each page and never split a row. PDF/A-2u (level B, the archival
//! appearance, plus a Unicode mapping of every glyph so the text can be searched and copied),
//! checked by krilla's validator at export: an export that would not conform fails instead of
//! producing the file.
//!
//! Layout is done first, into pages of positioned items, so that the number of pages is known
//! when the footers are drawn; then every page is drawn. The same attestato always gives the
//! same bytes: krilla derives the file and instance ids from the content, and the document's
//! date is the attestato's own date ([`Attestato::data_emissione`]).

use chrono::{Datelike, Offset, Timelike};
use cigo_domain::attestato::{
    data_leggibile, data_ora_leggibile, numero_italiano, ora_di_roma, ore_due_decimali, quantita, riepilogo_esito,
    Attestato, AttestatoConsegna, AttestatoTrasmissione, CodiceVerifica, DatiRichiesta,
};
use krilla::color::rgb;
use krilla::configure::{Archival, ConfigurationBuilder};
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::metadata::{DateTime, Metadata};
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::surface::Surface;
use krilla::text::{Font, GlyphId, KrillaGlyph};
use krilla::{Document, SerializeSettings};
use skrifa::instance::{LocationRef, Size};
use skrifa::MetadataProvider;
use std::collections::HashMap;

static REGULAR: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");
static BOLD: &[u8] = include_bytes!("../fonts/DejaVuSans-Bold.ttf");

/// A PDF that could not be produced.
#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    #[error("font incorporato non leggibile")]
    Font,
    #[error("esportazione PDF fallita: {0}")]
    Export(String),
}

// A4 in points, and the frame of the page.
const PAGE_W: f32 = 595.276;
const PAGE_H: f32 = 841.89;
const MARGIN_X: f32 = 42.0;
const BODY_W: f32 = PAGE_W - 2.0 * MARGIN_X;
const HEADER_Y: f32 = 36.0;
const BODY_TOP: f32 = 66.0;
const BODY_BOTTOM: f32 = PAGE_H - 56.0;
const FOOTER_Y: f32 = PAGE_H - 32.0;

const TEXT: f32 = 9.0;
const TABLE_TEXT: f32 = 7.5;
const TABLE_LEADING: f32 = 9.4;
const CELL_PAD: f32 = 2.5;
/// Lines of one table cell at most; a longer cell ends with "…" (a motivo is a few lines).
const MAX_CELL_LINES: usize = 16;

/// One font with the glyph ids and advances (in em) of the characters used so far.
struct Face {
    font: Font,
    skrifa: skrifa::FontRef<'static>,
    upem: f32,
    cache: HashMap<char, Option<(u32, f32)>>,
}

impl Face {
    fn new(data: &'static [u8]) -> Result<Face, PdfError> {
        let font = Font::new(data.into(), 0).ok_or(PdfError::Font)?;
        let skrifa = skrifa::FontRef::new(data).map_err(|_| PdfError::Font)?;
        let upem = skrifa
            .metrics(Size::unscaled(), LocationRef::default())
            .units_per_em as f32;
        Ok(Face { font, skrifa, upem, cache: HashMap::new() })
    }

    /// Glyph id and advance of `c`, `None` when the font has no glyph for it.
    fn glyph(&mut self, c: char) -> Option<(u32, f32)> {
        if let Some(g) = self.cache.get(&c) {
            return *g;
        }
        let g = self
            .skrifa
            .charmap()
            .map(c)
            .filter(|g| g.to_u32() != 0)
            .map(|g| {
                let adv = self
                    .skrifa
                    .glyph_metrics(Size::unscaled(), LocationRef::default())
                    .advance_width(g);
                (g.to_u32(), adv.unwrap_or(0.0) / self.upem)
            });
        self.cache.insert(c, g);
        g
    }

    /// `text` with what cannot be printed replaced: control characters by a space, characters the
    /// font lacks by `?` (PDF/A forbids the .notdef glyph).
    fn printable(&mut self, text: &str) -> String {
        text.chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .map(|c| if self.glyph(c).is_some() { c } else { '?' })
            .collect()
    }

    fn width(&mut self, text: &str, size: f32) -> f32 {
        text.chars()
            .map(|c| self.glyph(c).map_or(0.0, |g| g.1))
            .sum::<f32>()
            * size
    }

    fn glyphs(&mut self, text: &str) -> Vec<KrillaGlyph> {
        text.char_indices()
            .filter_map(|(i, c)| {
                let (id, adv) = self.glyph(c)?;
                Some(KrillaGlyph {
                    glyph_id: GlyphId::new(id),
                    text_range: i..i + c.len_utf8(),
                    x_advance: adv,
                    x_offset: 0.0,
                    y_offset: 0.0,
                    y_advance: 0.0,
                    location: None,
                })
            })
            .collect()
    }
}

/// What is drawn on a page, already positioned (y is the baseline, from the top).
enum Item {
    Text { x: f32, y: f32, text: String, bold: bool, size: f32 },
    Rule { y: f32, width: f32 },
    Band { y: f32, h: f32 },
}

#[derive(Clone, Copy, PartialEq)]
enum Align {
    Left,
    Right,
}

struct Column {
    title: &'static str,
    width: f32,
    align: Align,
}

const fn col(title: &'static str, width: f32, align: Align) -> Column {
    Column { title, width, align }
}

struct Layout {
    regular: Face,
    bold: Face,
    pages: Vec<Vec<Item>>,
    y: f32,
}

impl Layout {
    fn new() -> Result<Layout, PdfError> {
        Ok(Layout { regular: Face::new(REGULAR)?, bold: Face::new(BOLD)?, pages: vec![Vec::new()], y: BODY_TOP })
    }

    fn face(&mut self, bold: bool) -> &mut Face {
        if bold {
            &mut self.bold
        } else {
            &mut self.regular
        }
    }

    fn push(&mut self, item: Item) {
        self.pages.last_mut().expect("a page").push(item);
    }

    fn new_page(&mut self) {
        self.pages.push(Vec::new());
        self.y = BODY_TOP;
    }

    /// Starts a new page unless `h` points still fit on this one; true if it did.
    fn room_for(&mut self, h: f32) -> bool {
        if self.y + h > BODY_BOTTOM && self.y > BODY_TOP {
            self.new_page();
            return true;
        }
        false
    }

    fn text_at(&mut self, x: f32, y: f32, text: &str, bold: bool, size: f32) {
        let text = self.face(bold).printable(text);
        self.push(Item::Text { x, y, text, bold, size });
    }

    /// `text` broken into lines of at most `width` points, at spaces where possible.
    fn wrap(&mut self, text: &str, bold: bool, size: f32, width: f32) -> Vec<String> {
        let face = self.face(bold);
        let text = face.printable(text);
        let mut lines = Vec::new();
        let mut line = String::new();
        for word in text.split(' ').filter(|w| !w.is_empty()) {
            let candidate = if line.is_empty() { word.to_string() } else { format!("{line} {word}") };
            if face.width(&candidate, size) <= width {
                line = candidate;
                continue;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            // A word wider than the column is broken between characters.
            for c in word.chars() {
                line.push(c);
                if face.width(&line, size) > width && line.chars().count() > 1 {
                    line.pop();
                    lines.push(std::mem::replace(&mut line, c.to_string()));
                }
            }
        }
        if !line.is_empty() || lines.is_empty() {
            lines.push(line);
        }
        if lines.len() > MAX_CELL_LINES {
            lines.truncate(MAX_CELL_LINES);
            lines[MAX_CELL_LINES - 1].push('…');
        }
        lines
    }

    fn paragraph(&mut self, text: &str, bold: bool, size: f32) {
        let leading = size * 1.3;
        for line in self.wrap(text, bold, size, BODY_W) {
            self.room_for(leading);
            self.y += leading;
            self.text_at(MARGIN_X, self.y - size * 0.25, &line, bold, size);
        }
    }

    fn space(&mut self, h: f32) {
        self.y += h;
    }

    fn heading(&mut self, text: &str) {
        // Keep a heading with the table header and first row that follow it.
        self.room_for(14.0 + 3.0 * TABLE_LEADING + 4.0 * CELL_PAD);
        self.space(6.0);
        self.paragraph(text, true, 11.0);
        self.space(3.0);
    }

    /// Label and value pairs, the value wrapped beside its label.
    fn fields(&mut self, fields: &[(&str, String)]) {
        const LABEL_W: f32 = 150.0;
        let leading = TEXT * 1.35;
        for (label, value) in fields {
            let lines = self.wrap(value, false, TEXT, BODY_W - LABEL_W);
            self.room_for(leading * lines.len() as f32);
            self.text_at(MARGIN_X, self.y + leading - 2.5, label, true, TEXT);
            for line in &lines {
                self.y += leading;
                self.text_at(MARGIN_X + LABEL_W, self.y - 2.5, line, false, TEXT);
            }
        }
    }

    fn row(&mut self, columns: &[Column], cells: &[Vec<String>], bold: bool) {
        let lines = cells.iter().map(Vec::len).max().unwrap_or(1).max(1);
        let h = lines as f32 * TABLE_LEADING + 2.0 * CELL_PAD;
        if bold {
            self.push(Item::Band { y: self.y, h });
        }
        let mut x = MARGIN_X;
        for (column, cell) in columns.iter().zip(cells) {
            for (i, line) in cell.iter().enumerate() {
                let baseline = self.y + CELL_PAD + (i + 1) as f32 * TABLE_LEADING - 2.2;
                let tx = match column.align {
                    Align::Left => x + CELL_PAD,
                    Align::Right => x + column.width - CELL_PAD - self.face(bold).width(line, TABLE_TEXT),
                };
                self.push(Item::Text { x: tx, y: baseline, text: line.clone(), bold, size: TABLE_TEXT });
            }
            x += column.width;
        }
        self.y += h;
        self.push(Item::Rule { y: self.y, width: if bold { 0.8 } else { 0.25 } });
    }

    fn header_row(&mut self, columns: &[Column]) {
        let cells: Vec<Vec<String>> = columns
            .iter()
            .map(|c| self.wrap(c.title, true, TABLE_TEXT, c.width - 2.0 * CELL_PAD))
            .collect();
        self.row(columns, &cells, true);
    }

    /// A table whose header row is repeated at the top of every page it runs onto; rows are
    /// never split across pages.
    fn table(&mut self, columns: &[Column], rows: impl IntoIterator<Item = Vec<String>>) {
        self.header_row(columns);
        for row in rows {
            let cells: Vec<Vec<String>> = columns
                .iter()
                .zip(&row)
                .map(|(c, text)| {
                    text.split('\n')
                        .flat_map(|part| self.wrap(part, false, TABLE_TEXT, c.width - 2.0 * CELL_PAD))
                        .take(MAX_CELL_LINES)
                        .collect()
                })
                .collect();
            let lines = cells.iter().map(Vec::len).max().unwrap_or(1).max(1);
            if self.room_for(lines as f32 * TABLE_LEADING + 2.0 * CELL_PAD) {
                self.header_row(columns);
            }
            self.row(columns, &cells, false);
        }
    }
}

fn richiesta_fields(r: &DatiRichiesta) -> Vec<(&'static str, String)> {
    vec![
        ("Numero richiesta", r.numero_richiesta.to_string()),
        ("Intermediario", r.intermediario.clone()),
        ("Nome del file", r.nome_file.clone().unwrap_or_else(|| "non indicato".into())),
        ("Impronta SHA-256 del file", r.sha256.clone()),
        ("Dimensione del file", format!("{} byte", numero_italiano(r.dimensione_byte))),
        ("Data e ora di ricezione", data_ora_leggibile(r.data_ricezione)),
        ("Data e ora di trasmissione", data_ora_leggibile(r.data_trasmissione)),
    ]
}

fn opt(s: &Option<String>) -> String {
    s.clone().unwrap_or_default()
}

fn trasmissione(l: &mut Layout, a: &AttestatoTrasmissione, codice: &CodiceVerifica) {
    let mut fields = richiesta_fields(&a.richiesta);
    fields.push(("Domande trasmesse", quantita(a.domande.len() as u64, "domanda", "domande")));
    fields.push(("Codice di verifica", codice.to_string()));
    l.fields(&fields);
    l.space(4.0);
    l.paragraph(
        "La data e ora di trasmissione è la data di presentazione delle domande elencate. Le domande non hanno \
         ancora un numero di protocollo: lo riporta l'attestato di consegna.",
        false,
        TEXT,
    );
    l.heading(&format!("Domande trasmesse ({})", numero_italiano(a.domande.len() as u64)));
    const COLUMNS: [Column; 8] = [
        col("Prog.", 28.0, Align::Right),
        col("Matricola", 56.0, Align::Left),
        col("Denominazione", 105.0, Align::Left),
        col("Unità produttiva", 102.0, Align::Left),
        col("Periodo", 58.0, Align::Left),
        col("Causale", 88.0, Align::Left),
        col("Lavor.", 32.0, Align::Right),
        col("Ore CIG", 46.276, Align::Right),
    ];
    l.table(
        &COLUMNS,
        a.domande.iter().map(|d| {
            vec![
                d.progressivo.to_string(),
                opt(&d.matricola),
                opt(&d.denominazione),
                opt(&d.unita_produttiva),
                crate::periodo_leggibile(d.periodo_dal, d.periodo_al, data_leggibile),
                // The code with spaces, so that a long one wraps between words, not inside them.
                d.causale
                    .as_deref()
                    .map(|c| c.replace('_', " "))
                    .unwrap_or_default(),
                d.lavoratori
                    .map(|n| numero_italiano(n.into()))
                    .unwrap_or_default(),
                d.ore_cig
                    .map(|o| ore_due_decimali(o, ','))
                    .unwrap_or_default(),
            ]
        }),
    );
}

fn consegna(l: &mut Layout, a: &AttestatoConsegna, codice: &CodiceVerifica) {
    let mut fields = richiesta_fields(&a.richiesta);
    fields.push(("Data e ora di consegna", data_ora_leggibile(a.data_consegna)));
    fields.push(("Attestato di trasmissione", format!("codice di verifica {}", a.codice_trasmissione)));
    fields.push(("Esito", riepilogo_esito(&a.totali)));
    fields.push(("Codice di verifica", codice.to_string()));
    l.fields(&fields);

    l.heading(&format!("Domande protocollate ({})", numero_italiano(a.protocollate.len() as u64)));
    const PROTOCOLLATE: [Column; 5] = [
        col("Prog.", 30.0, Align::Right),
        col("Matricola", 56.0, Align::Left),
        col("Denominazione", 150.0, Align::Left),
        col("Protocollo", 100.0, Align::Left),
        col("Data e ora del protocollo", 179.276, Align::Left),
    ];
    if a.protocollate.is_empty() {
        l.paragraph("Nessuna domanda protocollata.", false, TEXT);
    } else {
        l.table(
            &PROTOCOLLATE,
            a.protocollate.iter().map(|d| {
                vec![
                    d.progressivo.to_string(),
                    opt(&d.matricola),
                    opt(&d.denominazione),
                    d.protocollo.clone(),
                    data_ora_leggibile(d.data_protocollo),
                ]
            }),
        );
    }

    l.heading(&format!("Domande scartate in fase d'invio ({})", numero_italiano(a.scartate_in_invio.len() as u64)));
    const SCARTATE: [Column; 4] = [
        col("Prog.", 30.0, Align::Right),
        col("Matricola", 56.0, Align::Left),
        col("Denominazione", 150.0, Align::Left),
        col("Motivo (codice regola: messaggio)", 275.276, Align::Left),
    ];
    if a.scartate_in_invio.is_empty() {
        l.paragraph("Nessuna domanda scartata in fase d'invio.", false, TEXT);
    } else {
        l.table(
            &SCARTATE,
            a.scartate_in_invio.iter().map(|d| {
                let motivi: Vec<String> = d
                    .motivi
                    .iter()
                    .map(|m| format!("{}: {}", m.codice, m.messaggio))
                    .collect();
                vec![d.progressivo.to_string(), opt(&d.matricola), opt(&d.denominazione), motivi.join("\n")]
            }),
        );
    }
}

fn titolo(a: &Attestato) -> &'static str {
    match a {
        Attestato::Trasmissione(_) => "Attestato di trasmissione",
        Attestato::Consegna(_) => "Attestato di consegna",
    }
}

fn draw_text(s: &mut Surface, face: &mut Face, x: f32, y: f32, text: &str, size: f32) {
    let glyphs = face.glyphs(text);
    s.draw_glyphs(Point::from_xy(x, y), &glyphs, face.font.clone(), text, size, false);
}

fn line(s: &mut Surface, y: f32, width: f32) {
    let mut pb = PathBuilder::new();
    pb.move_to(MARGIN_X, y);
    pb.line_to(PAGE_W - MARGIN_X, y);
    if let Some(path) = pb.finish() {
        s.set_fill(None);
        s.set_stroke(Some(Stroke { paint: rgb::Color::new(90, 90, 90).into(), width, ..Default::default() }));
        s.draw_path(&path);
        s.set_stroke(None);
    }
}

fn band(s: &mut Surface, y: f32, h: f32) {
    let mut pb = PathBuilder::new();
    if let Some(rect) = Rect::from_xywh(MARGIN_X, y, BODY_W, h) {
        pb.push_rect(rect);
    }
    if let Some(path) = pb.finish() {
        s.set_stroke(None);
        s.set_fill(Some(Fill {
            paint: rgb::Color::new(230, 233, 238).into(),
            opacity: NormalizedF32::ONE,
            ..Default::default()
        }));
        s.draw_path(&path);
    }
    s.set_fill(Some(Fill::default()));
}

/// The PDF of an attestato: same attestato, same bytes.
pub fn attestato_pdf(a: &Attestato) -> Result<Vec<u8>, PdfError> {
    let codice = a.codice_verifica();
    let numero = a.richiesta().numero_richiesta;
    let mut l = Layout::new()?;
    l.paragraph(titolo(a), true, 16.0);
    l.paragraph("Cassa integrazione guadagni ordinaria", false, TEXT);
    l.space(8.0);
    match a {
        Attestato::Trasmissione(t) => trasmissione(&mut l, t, &codice),
        Attestato::Consegna(c) => consegna(&mut l, c, &codice),
    }
    l.space(8.0);
    l.paragraph(
        &format!(
            "Il codice di verifica {codice} è l'impronta del contenuto di questo attestato: \
             GET /api/v1/attestati/verifica/{} conferma che è stato emesso e ne restituisce il contenuto.",
            codice.as_letters()
        ),
        false,
        7.5,
    );

    let settings = SerializeSettings {
        configuration: ConfigurationBuilder::new()
            .with_archival_validator(Archival::A2_U)
            .finish()
            .map_err(|e| PdfError::Export(format!("{e:?}")))?,
        ..Default::default()
    };
    let mut doc = Document::new_with(settings);
    let total = l.pages.len();
    let header = format!("{} · Cassa integrazione guadagni ordinaria", titolo(a));
    let footer = format!("Codice di verifica {codice}");
    let pages = std::mem::take(&mut l.pages);
    for (n, items) in pages.into_iter().enumerate() {
        let mut page = doc.start_page_with(PageSettings::from_wh(PAGE_W, PAGE_H).expect("A4"));
        let mut s = page.surface();
        let head = l.regular.printable(&header);
        draw_text(&mut s, &mut l.regular, MARGIN_X, HEADER_Y, &head, 8.0);
        let num = format!("Richiesta n. {numero}");
        let w = l.bold.width(&num, 10.0);
        draw_text(&mut s, &mut l.bold, PAGE_W - MARGIN_X - w, HEADER_Y, &num, 10.0);
        line(&mut s, HEADER_Y + 6.0, 0.6);
        for item in items {
            match item {
                Item::Text { x, y, text, bold, size } => draw_text(&mut s, l.face(bold), x, y, &text, size),
                Item::Rule { y, width } => line(&mut s, y, width),
                Item::Band { y, h } => band(&mut s, y, h),
            }
        }
        line(&mut s, FOOTER_Y - 11.0, 0.6);
        draw_text(&mut s, &mut l.regular, MARGIN_X, FOOTER_Y, &footer, 8.0);
        let pagina = format!("pagina {} di {total}", n + 1);
        let w = l.regular.width(&pagina, 8.0);
        draw_text(&mut s, &mut l.regular, PAGE_W - MARGIN_X - w, FOOTER_Y, &pagina, 8.0);
        s.finish();
        page.finish();
    }
    let t = ora_di_roma(a.data_emissione());
    let offset = t.offset().fix().local_minus_utc() / 60;
    let date = DateTime::new(t.year().clamp(0, 9999) as u16)
        .month(t.month() as u8)
        .day(t.day() as u8)
        .hour(t.hour() as u8)
        .minute(t.minute() as u8)
        .second(t.second() as u8)
        .utc_offset_hour((offset / 60) as i8)
        .utc_offset_minute((offset % 60).unsigned_abs() as u8);
    doc.set_metadata(
        Metadata::new()
            .title(format!("{} – richiesta n. {numero}", titolo(a)))
            .language("it".into())
            .creator("cigo".into())
            .document_id(codice.as_letters().to_string())
            .creation_date(date),
    );
    doc.finish().map_err(|e| PdfError::Export(format!("{e:?}")))
}
