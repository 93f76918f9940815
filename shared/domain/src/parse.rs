//! The streaming parser: reads a richiesta with quick-xml from any `BufRead`, one `<Domanda>` at a
//! time, into a small bounded tree ([`Tree`]) that keeps for every element its name, attributes,
//! text and the line and column of its start tag. The whole richiesta is never in memory.
//!
//! Plainly written domande (nearly all) are read by a fast path over a look-ahead window of the
//! reader (`fast_domanda`); anything unusual in a domanda is left to quick-xml, so that both give
//! the same tree and the same findings (checked by the tests below, fast path on and off).
//!
//! Everything that makes the *file* unacceptable (not well-formed, DOCTYPE, unknown entities,
//! wrong root/namespace/versione, encoding, limits) ends the stream with a file-level finding.

use crate::finding::{truncate_value, Finding};
use crate::limits::Limits;
use crate::model::{NAMESPACE, VERSIONE};
use crate::rules::{self, RuleInfo};
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::{NamespaceError, PrefixDeclaration};
use quick_xml::Reader;
use std::io::{self, BufRead, Read};
use std::sync::OnceLock;

/// Names of the elements of the tracciato (a new element of the XSD is added here).
macro_rules! tags {
    ($($t:ident),+ $(,)?) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Tag {
            $($t,)+
            /// Any other name, or a known name in another namespace.
            Unknown,
        }
        impl Tag {
            /// The tag of a local name (only names of our namespace should be passed).
            pub fn from_local(name: &[u8]) -> Tag {
                static TABLE: OnceLock<TagTable> = OnceLock::new();
                TABLE.get_or_init(|| TagTable::new(&[$((stringify!($t), Tag::$t)),+])).get(name)
            }
            /// The element name as written in the XML.
            pub fn name(self) -> &'static str {
                match self { $(Tag::$t => stringify!($t),)+ Tag::Unknown => "?" }
            }
            /// Every known tag.
            pub const ALL: &'static [Tag] = &[$(Tag::$t),+];
        }
    };
}

tags!(
    Domanda,
    TipoDomanda,
    QuadroA,
    Matricola,
    CodiceFiscale,
    Denominazione,
    Indirizzo,
    Comune,
    Provincia,
    Cap,
    Attivita,
    DataInizioAttivita,
    LavoratoriInForza,
    QuadroB,
    QuadroC,
    PeriodoDal,
    PeriodoAl,
    NumeroSettimane,
    TotaleOreCIG,
    Causale,
    DescrizioneCausale,
    ConsultazioneSindacale,
    QuadroE,
    Riga,
    InForza,
    Sospesi,
    OrarioRidotto,
    TotaleInCIG,
    Lavoratori,
    Lavoratore,
    Cognome,
    Nome,
    Qualifica,
    TipoOrario,
    OreSettimanaliContrattuali,
    OreCIG,
    Telefono,
    Cellulare,
    Email,
    Fax,
    Cantiere,
    GenereAttivita,
    FaseLavorativa,
    Mansione,
    Numero,
    Descrizione,
    LuogoLavori,
    QuadroD,
    Ripresa,
    DataRipresa,
    QuadroF,
    Qualita,
    DataDichiarazione,
    QuadroG,
    OrarioContrattuale,
    Ore,
    Minuti,
    Giorni,
    Settimana,
    OreCIGRichieste,
    QuadroH,
    Giorno,
    OreOrdinarie,
    OreStraordinarie,
    OreAltro,
    TotaleOre,
    CodiceEvento,
    DescrizioneEvento,
    QuadroI,
    Reparto,
    InteressatoCIG,
    AddettiOperai,
    AddettiImpiegati,
    InteressatiOperai,
    InteressatiImpiegati,
    AssuntiUltimi3Mesi,
    LicenziatiUltimi3Mesi,
    LicenziamentiPrevisti,
    MotivoLicenziamenti,
    QuadroL,
    FerieAnnoPrecedente,
    FerieAnnoInCorso,
    FerieAggiuntive,
    RiposiCompensativi,
    PermessiRetribuiti,
    PeriodoFerie,
    Dal,
    Al,
    FissatoIn,
    QuadroM,
    ModalitaComunicazione,
    DataComunicazione,
    DataConsultazione,
    MotiviMancataConsultazione,
    QuadroN,
    ConTuttiILavoratori,
    OperaiSospesi,
    OperaiOrarioRidotto,
    ImpiegatiSospesi,
    ImpiegatiOrarioRidotto,
    CantiereRipresa,
    QuadroO,
    DataRipresaPrevista,
    NumeroLavoratori,
    UnitaRipresa,
    ElementiGiustificativi,
    QuadroP,
    MotiviProroga,
    QuadroQ,
    ContrattoInserimento,
    DataApprovazione,
    DataAssunzione,
    DurataMesi,
    OreAddestramento,
    OreAddestramentoEsaurite,
    QuadroR,
    CIGSPresentata,
    CausaleCIGS,
    Reparti,
    QuadroS,
    Procedura,
    TipoProcedura,
    Data,
    QuadroT,
    DichiarazioneResa,
    RelazioneTecnica,
    DataEvento,
    CommesseInCorso,
    OrdiniInPortafoglio,
    Macchinario,
    Fornitore,
    BollettinoMeteo,
    ProvvedimentoAutorita,
    IndicatoriEconomici,
    Indicatore,
    Fatturato,
    Ordinativi,
    OreLavorate,
    Dipendenti,
    Iban,
);

/// Element names hashed on (length, first, middle and last byte) into small buckets: a lookup is
/// a hash and one or two comparisons instead of a scan over every name.
struct TagTable {
    buckets: Vec<Vec<(&'static [u8], Tag)>>,
}

const TAG_BUCKETS: usize = 1024;

impl TagTable {
    fn new(names: &[(&'static str, Tag)]) -> TagTable {
        let mut buckets = vec![Vec::new(); TAG_BUCKETS];
        for &(n, t) in names {
            buckets[Self::hash(n.as_bytes())].push((n.as_bytes(), t));
        }
        TagTable { buckets }
    }

    #[inline]
    fn hash(n: &[u8]) -> usize {
        match n {
            [] => 0,
            [first, .., last] | [first @ last] => {
                let h = (n.len() as u32)
                    .wrapping_mul(31)
                    .wrapping_add(*first as u32)
                    .wrapping_mul(31)
                    .wrapping_add(n[n.len() / 2] as u32)
                    .wrapping_mul(31)
                    .wrapping_add(*last as u32);
                (h.wrapping_mul(2_654_435_761) >> 16) as usize % TAG_BUCKETS
            }
        }
    }

    #[inline]
    fn get(&self, name: &[u8]) -> Tag {
        self.buckets[Self::hash(name)]
            .iter()
            .find(|(n, _)| *n == name)
            .map_or(Tag::Unknown, |&(_, t)| t)
    }
}

/// Index of a node in a [`Tree`].
pub type NodeId = u32;
const NONE: NodeId = u32::MAX;

/// One element of the domanda being read.
#[derive(Debug, Clone)]
pub struct Node {
    pub tag: Tag,
    /// The qualified name as written (only stored for [`Tag::Unknown`]).
    name: (u32, u32),
    pub parent: NodeId,
    first_child: NodeId,
    last_child: NodeId,
    next_sibling: NodeId,
    attrs: (u32, u32),
    text: (u32, u32),
    /// Non-white-space text beside child elements.
    pub mixed: bool,
    pub line: u32,
    pub column: u32,
}

#[derive(Debug, Clone, Copy)]
struct AttrRec {
    name: (u32, u32),
    value: (u32, u32),
}

/// The elements of one `<Domanda>`, in document order (node 0 is the `Domanda` itself). Buffers
/// are reused from one domanda to the next.
#[derive(Debug, Default)]
pub struct Tree {
    nodes: Vec<Node>,
    attrs: Vec<AttrRec>,
    buf: String,
}

fn range_of(buf: &str, r: (u32, u32)) -> &str {
    buf.get(r.0 as usize..r.1 as usize).unwrap_or("")
}

impl Tree {
    fn clear(&mut self) {
        self.nodes.clear();
        self.attrs.clear();
        self.buf.clear();
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id as usize]
    }

    /// The element name as written.
    pub fn name(&self, id: NodeId) -> &str {
        let n = self.node(id);
        match n.tag {
            Tag::Unknown => range_of(&self.buf, n.name),
            t => t.name(),
        }
    }

    /// The text content (unescaped, as written; leaves only).
    pub fn text(&self, id: NodeId) -> &str {
        range_of(&self.buf, self.node(id).text)
    }

    pub fn children(&self, id: NodeId) -> Children<'_> {
        Children { tree: self, next: self.node(id).first_child }
    }

    /// The attributes as (qualified name, unescaped value).
    pub fn attributes(&self, id: NodeId) -> impl Iterator<Item = (&str, &str)> + '_ {
        let (a, b) = self.node(id).attrs;
        self.attrs[a as usize..b as usize]
            .iter()
            .map(move |r| (range_of(&self.buf, r.name), range_of(&self.buf, r.value)))
    }

    pub fn attr(&self, id: NodeId, name: &str) -> Option<&str> {
        self.attributes(id)
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v)
    }

    /// 1-based position among the siblings with the same name, and whether the name repeats.
    fn position_among_siblings(&self, id: NodeId) -> (u32, bool) {
        let n = self.node(id);
        if n.parent == NONE {
            return (1, false);
        }
        let name = self.name(id);
        let (mut pos, mut total) = (0, 0);
        for c in self.children(n.parent) {
            if self.name(c) == name {
                total += 1;
                if c == id {
                    pos = total;
                }
            }
        }
        (pos, total > 1)
    }

    /// XPath of a node, e.g. `/RichiestaCIGO/Domanda[3]/Lavoratori/Lavoratore[2]/OreCIG[1]`:
    /// positional predicates on elements that may repeat (or that do repeat).
    pub fn xpath(&self, id: NodeId, domanda: u32) -> String {
        let mut chain = Vec::new();
        let mut cur = id;
        while cur != NONE && cur != 0 {
            chain.push(cur);
            cur = self.node(cur).parent;
        }
        let mut s = format!("/RichiestaCIGO/Domanda[{domanda}]");
        for &c in chain.iter().rev() {
            s.push('/');
            s.push_str(self.name(c));
            let (pos, repeats) = self.position_among_siblings(c);
            if repeats
                || matches!(
                    self.node(c).tag,
                    Tag::Riga
                        | Tag::Lavoratore
                        | Tag::OreCIG
                        | Tag::Mansione
                        | Tag::OrarioContrattuale
                        | Tag::Settimana
                        | Tag::Giorno
                        | Tag::Reparto
                        | Tag::PeriodoFerie
                        | Tag::ContrattoInserimento
                        | Tag::Procedura
                        | Tag::Indicatore
                )
            {
                s.push_str(&format!("[{pos}]"));
            }
        }
        s
    }

    fn push(&mut self, parent: NodeId, tag: Tag, line: u32, column: u32) -> NodeId {
        let id = self.nodes.len() as NodeId;
        self.nodes.push(Node {
            tag,
            name: (0, 0),
            parent,
            first_child: NONE,
            last_child: NONE,
            next_sibling: NONE,
            attrs: (self.attrs.len() as u32, self.attrs.len() as u32),
            text: (0, 0),
            mixed: false,
            line,
            column,
        });
        if parent != NONE {
            let p = &mut self.nodes[parent as usize];
            let last = p.last_child;
            p.last_child = id;
            if last == NONE {
                p.first_child = id;
            } else {
                self.nodes[last as usize].next_sibling = id;
            }
        }
        id
    }

    fn store(&mut self, s: &str) -> (u32, u32) {
        let a = self.buf.len() as u32;
        self.buf.push_str(s);
        (a, self.buf.len() as u32)
    }
}

pub struct Children<'a> {
    tree: &'a Tree,
    next: NodeId,
}

impl Iterator for Children<'_> {
    type Item = NodeId;
    fn next(&mut self) -> Option<NodeId> {
        if self.next == NONE {
            return None;
        }
        let id = self.next;
        self.next = self.tree.node(id).next_sibling;
        Some(id)
    }
}

/// A `BufRead` that tracks the line and column of the next byte quick-xml will read, and refuses
/// to hand out more than a budget of bytes for one event (so that a huge text or tag cannot fill
/// the memory).
///
/// The bytes are copied, `CHUNK` at a time, into a buffer of its own (so that quick-xml's many
/// `fill_buf` calls per event are a slice of it). Newlines are found once per chunk, word by word,
/// and turned into a line and column only when asked, so consuming bytes costs nothing per event.
///
/// The fast path of [`stream`] also looks ahead in the same buffer (`CountingReader::window`):
/// a whole domanda is read into it before it is consumed. `fill_buf` still hands out the bytes
/// exactly in the pieces the inner reader returned them (it never returns bytes past the end of
/// the chunk they were read in), so quick-xml sees the same sequence of `fill_buf` results, hence
/// the event budget trips at the same place, whether or not the fast path looked ahead.
pub struct CountingReader<R> {
    inner: R,
    buf: Vec<u8>,
    /// Unconsumed bytes of `buf`.
    start: usize,
    end: usize,
    /// Byte offset of `buf[start]` in the stream.
    pos: u64,
    line: u32,
    line_start: u64,
    /// Stream offsets of the newlines in `buf[..end]` from `next_newline` on, not yet counted in
    /// `line`.
    newlines: Vec<u64>,
    next_newline: usize,
    /// Stream offsets where the chunks in `buf` end, as the inner reader returned them.
    chunk_ends: Vec<u64>,
    next_chunk: usize,
    /// An error of the inner reader met while looking ahead: returned when the bytes read before it
    /// are consumed, where reading without looking ahead would have met it.
    pending: Option<io::Error>,
    event_bytes: u64,
    event_budget: u64,
    limit_hit: bool,
}

/// Bytes handed out (and scanned for newlines) at a time.
const CHUNK: usize = 64 * 1024;

/// The largest look-ahead of the fast path: a larger domanda goes through quick-xml.
const WINDOW_MAX: usize = 1024 * 1024;

/// Stream offsets (`base` + index) of the `\n` bytes of `s`, eight bytes at a time.
fn find_newlines(s: &[u8], base: u64, out: &mut Vec<u64>) {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    const _: () = assert!(HI == LO << 7);
    const NL: u64 = LO * b'\n' as u64;
    let mut words = s.chunks_exact(8);
    let mut at = base;
    for w in &mut words {
        let x = u64::from_le_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]) ^ NL;
        // The high bit of each byte of `zero` is set exactly where that byte of x is zero.
        let mut zero = !(((x & !HI) + !HI) | x) & HI;
        while zero != 0 {
            out.push(at + zero.trailing_zeros() as u64 / 8);
            zero &= zero - 1;
        }
        at += 8;
    }
    for (i, &b) in words.remainder().iter().enumerate() {
        if b == b'\n' {
            out.push(at + i as u64);
        }
    }
}

impl<R: BufRead> CountingReader<R> {
    pub fn new(inner: R, event_budget: u64) -> Self {
        CountingReader {
            inner,
            buf: vec![0; CHUNK],
            start: 0,
            end: 0,
            pos: 0,
            line: 1,
            line_start: 0,
            newlines: Vec::new(),
            next_newline: 0,
            chunk_ends: Vec::new(),
            next_chunk: 0,
            pending: None,
            event_bytes: 0,
            event_budget,
            limit_hit: false,
        }
    }

    /// Byte offset consumed so far.
    pub fn position(&self) -> u64 {
        self.pos
    }

    /// Counts the newlines before the current position.
    fn catch_up(&mut self) {
        while let Some(&at) = self.newlines.get(self.next_newline) {
            if at >= self.pos {
                break;
            }
            self.line = self.line.saturating_add(1);
            self.line_start = at + 1;
            self.next_newline += 1;
        }
    }

    /// Line (1-based) and byte column (1-based) of the next byte to consume.
    pub fn line_column(&mut self) -> (u32, u32) {
        self.catch_up();
        (self.line, (self.pos.saturating_sub(self.line_start) + 1).min(u32::MAX as u64) as u32)
    }

    /// Line and column of the last byte consumed, when it is not a newline (the `<` the fast path
    /// consumed for quick-xml): what [`Self::line_column`] said before it was consumed.
    fn line_column_before(&mut self) -> (u32, u32) {
        self.catch_up();
        let at = self.pos.saturating_sub(1);
        (self.line, (at.saturating_sub(self.line_start) + 1).min(u32::MAX as u64) as u32)
    }

    fn start_event(&mut self) {
        self.event_bytes = 0;
    }

    /// Whether the last byte consumed is `<` (quick-xml consumed it with the text before it).
    fn after_lt(&self) -> bool {
        self.start > 0 && self.buf[self.start - 1] == b'<'
    }

    /// Appends one chunk of the inner reader (as it returns it, at most [`CHUNK`] bytes) at
    /// `buf[end..]`, which has room for it. Returns its length (0 at the end of the input).
    fn read_chunk(&mut self) -> io::Result<usize> {
        let at = self.end;
        let n = {
            let inner = self.inner.fill_buf()?;
            let n = inner.len().min(CHUNK);
            self.buf[at..at + n].copy_from_slice(&inner[..n]);
            n
        };
        self.inner.consume(n);
        if n > 0 {
            let base = self.pos + (at - self.start) as u64;
            find_newlines(&self.buf[at..at + n], base, &mut self.newlines);
            self.end = at + n;
            self.chunk_ends.push(base + n as u64);
        }
        Ok(n)
    }

    /// Makes at least `want` unconsumed bytes available when the input has them (and they fit in
    /// [`WINDOW_MAX`]), reading whole chunks ahead; consumes nothing. Returns the unconsumed
    /// bytes, their stream offset, and the newline state to compute lines and columns in them.
    fn window(&mut self, want: usize) -> (&[u8], u64, Lines<'_>) {
        while self.end - self.start < want && self.pending.is_none() {
            if self.buf.len() - self.end < CHUNK {
                // Move the unconsumed bytes to the front (forgetting the counted newlines and
                // the chunks already consumed), growing the buffer if that is not enough.
                self.catch_up();
                self.newlines.drain(..self.next_newline);
                self.next_newline = 0;
                let consumed_chunks = self
                    .chunk_ends
                    .iter()
                    .take_while(|&&e| e <= self.pos)
                    .count();
                self.chunk_ends.drain(..consumed_chunks);
                self.next_chunk = 0;
                self.buf.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
                if self.buf.len() - self.end < CHUNK {
                    let len = (self.buf.len() * 2).min(WINDOW_MAX + CHUNK);
                    if len - self.end < CHUNK {
                        break;
                    }
                    self.buf.resize(len, 0);
                }
            }
            match self.read_chunk() {
                Ok(0) => break,
                Ok(_) => {}
                // Left to quick-xml, which reads again after an interruption.
                Err(e) if e.kind() == io::ErrorKind::Interrupted => break,
                Err(e) => {
                    self.pending = Some(e);
                    break;
                }
            }
        }
        self.catch_up();
        let lines =
            Lines { nl: &self.newlines[self.next_newline..], i: 0, line: self.line, line_start: self.line_start };
        (&self.buf[self.start..self.end], self.pos, lines)
    }
}

/// Lines and columns in a look-ahead window, as [`CountingReader::line_column`] would say them
/// once the reader got there (without moving the reader: the fast path may still give up).
struct Lines<'a> {
    /// Stream offsets of the newlines not yet counted in `line`.
    nl: &'a [u64],
    i: usize,
    line: u32,
    line_start: u64,
}

impl Lines<'_> {
    /// What `line_column` says when the next byte to consume is at stream offset `at` (offsets
    /// asked in increasing order).
    fn at(&mut self, at: u64) -> (u32, u32) {
        while let Some(&n) = self.nl.get(self.i) {
            if n >= at {
                break;
            }
            self.line = self.line.saturating_add(1);
            self.line_start = n + 1;
            self.i += 1;
        }
        (self.line, (at.saturating_sub(self.line_start) + 1).min(u32::MAX as u64) as u32)
    }

    /// The position [`stream`] gives a start tag whose `<` is at stream offset `lt`: quick-xml has
    /// consumed the `<` with a text just before it, not otherwise.
    fn tag(&mut self, lt: u64, after_text: bool) -> (u32, u32) {
        if after_text {
            let (l, c) = self.at(lt + 1);
            (l, c.saturating_sub(1).max(1))
        } else {
            self.at(lt)
        }
    }
}

impl<R: BufRead> Read for CountingReader<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let n = {
            let avail = self.fill_buf()?;
            let n = avail.len().min(out.len());
            out[..n].copy_from_slice(&avail[..n]);
            n
        };
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for CountingReader<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.event_bytes > self.event_budget {
            self.limit_hit = true;
            return Err(io::Error::other("limite di dimensione di un elemento superato"));
        }
        if self.start == self.end {
            if let Some(e) = self.pending.take() {
                return Err(e);
            }
            self.catch_up();
            self.start = 0;
            self.end = 0;
            self.newlines.clear();
            self.next_newline = 0;
            self.chunk_ends.clear();
            self.next_chunk = 0;
            if self.read_chunk()? == 0 {
                return Ok(&[]);
            }
        }
        // Up to the end of the chunk of the next byte, as the inner reader returned it.
        while self.chunk_ends[self.next_chunk] <= self.pos {
            self.next_chunk += 1;
        }
        let n = (self.chunk_ends[self.next_chunk] - self.pos) as usize;
        Ok(&self.buf[self.start..self.start + n])
    }

    fn consume(&mut self, amt: usize) {
        let amt = amt.min(self.end - self.start);
        self.start += amt;
        self.pos += amt as u64;
        self.event_bytes += amt as u64;
    }
}

fn file_finding(rule: &RuleInfo, message: impl Into<String>, pos: (u32, u32), value: Option<&str>) -> Finding {
    let mut f = rule.finding(message);
    f.xpath = None;
    f.line = Some(pos.0);
    f.column = Some(pos.1);
    f.value = value.map(truncate_value);
    f
}

fn valid_xml_chars(s: &str) -> bool {
    let b = s.as_bytes();
    // U+FFFE and U+FFFF are EF BF BE / EF BF BF in UTF-8: only look for them if an EF byte is there.
    b.iter()
        .all(|&c| c >= 0x20 || c == b'\t' || c == b'\n' || c == b'\r')
        && (!b.contains(&0xEF) || !s.contains(['\u{FFFE}', '\u{FFFF}']))
}

fn is_ws(b: &[u8]) -> bool {
    b.iter().all(|&c| matches!(c, b' ' | b'\t' | b'\n' | b'\r'))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Prolog,
    Root,
    InDomanda,
    Epilog,
}

fn map_error<R: BufRead>(e: quick_xml::Error, r: &mut CountingReader<R>, limits: &Limits) -> Finding {
    let pos = r.line_column();
    if r.limit_hit {
        return file_finding(
            &rules::FIL_LIMITI,
            format!(
                "Un elemento o un testo supera la dimensione massima elaborabile (circa {} caratteri): ridurre il contenuto.",
                limits.max_text_len
            ),
            pos,
            None,
        );
    }
    match e {
        quick_xml::Error::Encoding(_) => file_finding(
            &rules::FIL_UTF8,
            "Il file contiene byte che non sono UTF-8 valido: salvare il file con codifica UTF-8.",
            pos,
            None,
        ),
        quick_xml::Error::Io(io) => file_finding(
            &rules::FIL_NON_BEN_FORMATO,
            format!("Errore di lettura del file: {io}. Ricaricare il file."),
            pos,
            None,
        ),
        other => file_finding(
            &rules::FIL_NON_BEN_FORMATO,
            format!("Il file non è XML ben formato ({other}): correggere la sintassi XML."),
            pos,
            None,
        ),
    }
}

/// Printable ASCII (or tab, line feed, carriage return) without `&`: valid UTF-8, only allowed XML
/// characters and nothing to unescape. One branch-free pass; most values of a richiesta are like this.
#[inline]
fn plain_ascii(raw: &[u8]) -> bool {
    !raw.iter().fold(false, |bad, &c| {
        bad | !(((0x20..0x7F).contains(&c) && c != b'&') || c == b'\t' || c == b'\n' || c == b'\r')
    })
}

fn text_of<'a>(raw: &'a [u8], pos: (u32, u32)) -> Result<std::borrow::Cow<'a, str>, Finding> {
    if plain_ascii(raw) {
        // SAFETY: `plain_ascii` admits only ASCII bytes, which are valid UTF-8.
        return Ok(std::borrow::Cow::Borrowed(unsafe { std::str::from_utf8_unchecked(raw) }));
    }
    let s = std::str::from_utf8(raw).map_err(|_| {
        file_finding(
            &rules::FIL_UTF8,
            "Il file contiene byte che non sono UTF-8 valido: salvare il file con codifica UTF-8.",
            pos,
            None,
        )
    })?;
    if !valid_xml_chars(s) {
        return Err(file_finding(
            &rules::FIL_UTF8,
            "Il file contiene caratteri di controllo non ammessi in XML: rimuoverli.",
            pos,
            None,
        ));
    }
    quick_xml::escape::unescape(s).map_err(|e| match e {
        quick_xml::escape::EscapeError::UnrecognizedEntity(_, name) => file_finding(
            &rules::FIL_ENTITA,
            format!("Riferimento all'entità '&{name};' non ammesso: usare solo &amp; &lt; &gt; &quot; &apos; o riferimenti numerici."),
            pos,
            Some(&name),
        ),
        other => file_finding(
            &rules::FIL_NON_BEN_FORMATO,
            format!("Riferimento a entità o carattere non valido ({other}): correggere il testo."),
            pos,
            None,
        ),
    })
}

fn utf8_or_fail(raw: &[u8], pos: (u32, u32)) -> Result<&str, Finding> {
    if raw.is_ascii() {
        // SAFETY: ASCII is valid UTF-8.
        return Ok(unsafe { std::str::from_utf8_unchecked(raw) });
    }
    std::str::from_utf8(raw).map_err(|_| {
        file_finding(
            &rules::FIL_UTF8,
            "Il file contiene byte che non sono UTF-8 valido: salvare il file con codifica UTF-8.",
            pos,
            None,
        )
    })
}

/// What the fast path made of one domanda.
#[derive(Debug, PartialEq, Eq)]
enum Fast {
    /// Read whole into the tree: consume `len` bytes of the window. `text_after`: white space
    /// came between `</Domanda>` and the `<` consumed after it (mode "after `<`" only).
    Done { len: usize, text_after: bool },
    /// The window ends before the domanda does.
    NeedMore,
    /// Something the fast path does not read: quick-xml reads this domanda.
    GiveUp,
}

/// Reusable buffers of the fast path.
#[derive(Default)]
struct Scratch {
    /// Ranges in the window of the names of the open elements.
    open: Vec<(usize, usize)>,
    /// Ranges in the window of (name, value) of the attributes of a start tag.
    attrs: Vec<(usize, usize, usize, usize)>,
}

fn is_name_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_'
}

fn is_name_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.')
}

/// Everything the fast path needs besides the window and the tree.
struct FastCx<'a> {
    limits: &'a Limits,
    /// Unprefixed names are in our namespace.
    ns_ok: bool,
    /// Domande read so far.
    n_domande: u32,
    /// The longest markup or text the fast path reads: shorter than half the event budget of
    /// [`CountingReader`], so that quick-xml would not have hit it either.
    max_token: usize,
    /// Position of the `<Domanda` start tag, as the main loop computed it.
    pos: (u32, u32),
}

/// The fast path: reads one whole `<Domanda>` from a slice of the look-ahead window into `tree`,
/// exactly as the quick-xml loop of [`stream`] would (same nodes, texts, attributes, positions),
/// but without quick-xml's per-event copying and bookkeeping. Most domande are written the
/// same plain way (unprefixed ASCII names, quoted attributes, no comments, CDATA, namespace
/// declarations or limits in sight); anything else makes it give up (before anything is
/// consumed or reported) and quick-xml reads the domanda, so that every finding, in particular
/// every file-level error with quick-xml's own message, stays the same.
///
/// `w` starts right after the `<` of `<Domanda` when quick-xml has consumed it (`after_lt`,
/// quick-xml is then inside markup), else at that `<` (quick-xml is then inside text). The
/// window must end where quick-xml is left in the same state: after the `<` that follows
/// `</Domanda>` (and the white space before it) in the first case, right after `</Domanda>`
/// in the second.
fn fast_domanda(
    w: &[u8],
    base: u64,
    after_lt: bool,
    lines: &mut Lines<'_>,
    tree: &mut Tree,
    scratch: &mut Scratch,
    cx: &FastCx<'_>,
) -> Fast {
    use Fast::{GiveUp, NeedMore};
    let limits = cx.limits;
    if !cx.ns_ok || limits.max_depth < 2 || cx.n_domande as usize >= limits.max_domande {
        return GiveUp;
    }
    // `i` is always just after a `<`.
    let mut i = if after_lt {
        0
    } else {
        match w.first() {
            None => return NeedMore,
            Some(b'<') => 1,
            Some(_) => return GiveUp,
        }
    };
    scratch.open.clear();
    let mut cur = NONE;
    let mut depth = 1usize;
    let mut after_text = false;
    loop {
        // (The `<` is at `i - 1`, before the window for the `<Domanda` of the first case.)
        let Some(&c) = w.get(i) else { return NeedMore };
        if c == b'/' {
            // End tag: exactly `</name>` of the open element.
            let Some(&(a, b)) = scratch.open.last() else { return GiveUp };
            let e = i + 1 + (b - a);
            if w.len() <= e {
                return NeedMore;
            }
            if w[i + 1..e] != w[a..b] || w[e] != b'>' {
                return GiveUp;
            }
            scratch.open.pop();
            depth -= 1;
            cur = tree.node(cur).parent;
            i = e + 1;
        } else {
            // Start tag: name, then attributes `name="value"` (or '...') separated by white space.
            if !is_name_start(c) {
                return GiveUp;
            }
            let mut j = i + 1;
            while j < w.len() && is_name_char(w[j]) {
                j += 1;
            }
            let name_end = j;
            scratch.attrs.clear();
            let mut sep = false;
            let (close, empty) = loop {
                let Some(&c) = w.get(j) else { return NeedMore };
                match c {
                    b' ' | b'\t' | b'\n' | b'\r' => {
                        sep = true;
                        j += 1;
                    }
                    b'>' => break (j, false),
                    b'/' => match w.get(j + 1) {
                        None => return NeedMore,
                        Some(b'>') => break (j, true),
                        Some(_) => return GiveUp,
                    },
                    c if sep && is_name_start(c) => {
                        let ka = j;
                        j += 1;
                        while j < w.len() && is_name_char(w[j]) {
                            j += 1;
                        }
                        let kb = j;
                        match w.get(j) {
                            None => return NeedMore,
                            Some(b'=') => j += 1,
                            Some(_) => return GiveUp,
                        }
                        let q = match w.get(j) {
                            None => return NeedMore,
                            Some(&q) if q == b'"' || q == b'\'' => q,
                            Some(_) => return GiveUp,
                        };
                        let va = j + 1;
                        let Some(len) = w[va..].iter().position(|&c| c == q) else { return NeedMore };
                        let vb = va + len;
                        if w[va..vb].iter().any(|&c| c == b'<' || c == b'>') {
                            return GiveUp;
                        }
                        scratch.attrs.push((ka, kb, va, vb));
                        j = vb + 1;
                        sep = false;
                    }
                    _ => return GiveUp,
                }
                if j + 1 - i > cx.max_token {
                    return GiveUp;
                }
            };
            // Also a long name with no attribute (the loop above breaks before its check).
            if close + 2 - i > cx.max_token {
                return GiveUp;
            }
            let raw_attrs = &w[name_end..close];
            // A namespace declaration (quick-xml's namespace scopes look for it anywhere in the
            // attributes) or a repeated attribute: left to quick-xml.
            if raw_attrs.windows(5).any(|x| x == b"xmlns") {
                return GiveUp;
            }
            let attrs = &scratch.attrs;
            if attrs.len() > 1
                && attrs
                    .iter()
                    .enumerate()
                    .any(|(k, a)| attrs[..k].iter().any(|b| w[a.0..a.1] == w[b.0..b.1]))
            {
                return GiveUp;
            }
            let qname = &w[i..name_end];
            let pos = if cur == NONE {
                if qname != b"Domanda" || depth != 1 {
                    return GiveUp;
                }
                tree.clear();
                depth = 2;
                cx.pos
            } else {
                depth += 1;
                if depth > limits.max_depth || tree.len() >= limits.max_elements_per_domanda {
                    return GiveUp;
                }
                // Not the first tag: `i >= 1`.
                lines.tag(base + (i - 1) as u64, after_text)
            };
            cur = if cur == NONE {
                tree.push(NONE, Tag::Domanda, pos.0, pos.1)
            } else {
                let tag = Tag::from_local(qname);
                // The name is stored only for an unknown element (ASCII by construction).
                let qname_str = if tag == Tag::Unknown { std::str::from_utf8(qname).unwrap_or("") } else { "" };
                open_child(tree, cur, tag, qname_str, pos)
            };
            for &(ka, kb, va, vb) in &scratch.attrs {
                if store_attr(tree, &w[ka..kb], &w[va..vb], pos).is_err() {
                    return GiveUp;
                }
            }
            tree.nodes[cur as usize].attrs.1 = tree.attrs.len() as u32;
            if empty {
                // `<a/>`: quick-xml gives a start and an end event.
                depth -= 1;
                cur = tree.node(cur).parent;
                i = close + 2;
            } else {
                scratch.open.push((i, name_end));
                i = close + 1;
            }
        }
        if cur == NONE {
            // `</Domanda>` read: give quick-xml back the state it would be in.
            if !after_lt {
                return Fast::Done { len: i, text_after: false };
            }
            let Some(k) = w[i..]
                .iter()
                .position(|c| !matches!(c, b' ' | b'\t' | b'\n' | b'\r'))
            else {
                return if w.len() - i > cx.max_token { GiveUp } else { NeedMore };
            };
            if w[i + k] != b'<' || k > cx.max_token {
                return GiveUp;
            }
            return Fast::Done { len: i + k + 1, text_after: k > 0 };
        }
        // The text up to the next markup.
        let Some(k) = w[i..].iter().position(|&c| c == b'<') else {
            return if w.len() - i > cx.max_token { GiveUp } else { NeedMore };
        };
        if k > cx.max_token {
            return GiveUp;
        }
        let raw = &w[i..i + k];
        after_text = k > 0;
        // As for a text event of quick-xml (which gives none for an empty text).
        if k > 0 && !(tree.node(cur).first_child != NONE && is_ws(raw)) {
            let Ok(s) = text_of(raw, (0, 0)) else { return GiveUp };
            if append_text(tree, cur, &s, limits, (0, 0)).is_err() {
                return GiveUp;
            }
        }
        i += k + 1;
    }
}

/// Streams `reader`, calling `on_domanda(tree, position)` for each complete `<Domanda>` (position
/// 1-based). Returns the number of domande, or the file-level finding that stops the file.
pub fn stream<R: BufRead, F: FnMut(&Tree, u32)>(reader: R, limits: &Limits, on_domanda: F) -> Result<u32, Finding> {
    stream_impl(reader, limits, limits.parser_fast_path, on_domanda)
}

/// [`stream`], with or without the fast path (the tests check that both read the same).
fn stream_impl<R: BufRead, F: FnMut(&Tree, u32)>(
    reader: R,
    limits: &Limits,
    fast: bool,
    mut on_domanda: F,
) -> Result<u32, Finding> {
    let budget = (limits.max_text_len as u64)
        .saturating_mul(8)
        .max(64 * 1024);
    let mut cr = CountingReader::new(reader, budget);
    // Skip a UTF-8 BOM ourselves so that columns on the first line stay right.
    if let Ok(b) = cr.fill_buf() {
        if b.starts_with(&[0xEF, 0xBB, 0xBF]) {
            cr.consume(3);
        }
    }
    let mut xr = Reader::from_reader(cr);
    let mut ns = Ns::default();
    {
        let c = xr.config_mut();
        c.expand_empty_elements = true;
        c.check_end_names = true;
        c.check_comments = true;
        c.trim_text(false);
    }
    let mut buf: Vec<u8> = Vec::with_capacity(4096);
    let mut state = State::Prolog;
    let mut tree = Tree::default();
    let mut cur: NodeId = NONE;
    let mut depth = 0usize;
    let mut n_domande = 0u32;
    let mut prev_text = false;
    let mut first = true;
    // The last event was an end tag (quick-xml is then inside text).
    let mut prev_end = false;
    // The fast path consumed the `<` right after `</Domanda>` (quick-xml is inside markup, as
    // after a text): the next position is that of the `<`, as quick-xml would have read it next.
    let mut silent_lt = false;
    let mut scratch = Scratch::default();
    // Look-ahead asked of the reader for the next domanda: twice the last one.
    let mut want = CHUNK;

    loop {
        let (line, col) = {
            let cr = xr.get_mut();
            if silent_lt {
                cr.line_column_before()
            } else {
                let (l, c) = cr.line_column();
                (l, if prev_text { c.saturating_sub(1).max(1) } else { c })
            }
        };
        let pos = (line, col);
        let was_silent = std::mem::take(&mut silent_lt);
        if fast && state == State::Root {
            // The fast path, between domande, where quick-xml is left in a state it can be given
            // back: just after the `<` of the next element, or after the end tag of a domanda.
            let after_lt = (prev_text || was_silent) && xr.get_mut().after_lt();
            if after_lt || prev_end {
                let cx = FastCx {
                    limits,
                    ns_ok: ns.is_ours(b"Domanda"),
                    n_domande,
                    max_token: (budget / 2).min(usize::MAX as u64) as usize,
                    pos,
                };
                let mut ask = want;
                let done = loop {
                    let (w, base, mut lines) = xr.get_mut().window(ask);
                    let got = w.len();
                    match fast_domanda(w, base, after_lt, &mut lines, &mut tree, &mut scratch, &cx) {
                        Fast::Done { len, text_after } => break Some((len, text_after)),
                        Fast::NeedMore if got >= ask && ask < WINDOW_MAX => ask = (ask * 2).min(WINDOW_MAX),
                        _ => break None,
                    }
                };
                if let Some((len, text_after)) = done {
                    #[cfg(test)]
                    tests::FAST_DOMANDE.with(|c| c.set(c.get() + 1));
                    xr.get_mut().consume(len);
                    want = len.saturating_mul(2).clamp(CHUNK, WINDOW_MAX);
                    n_domande += 1;
                    on_domanda(&tree, n_domande);
                    cur = NONE;
                    depth = 1;
                    prev_text = after_lt && text_after;
                    silent_lt = after_lt && !text_after;
                    prev_end = !after_lt;
                    continue;
                }
            }
        }
        xr.get_mut().start_event();
        buf.clear();
        let ev = match xr.read_event_into(&mut buf) {
            Ok(ev) => ev,
            Err(e) => return Err(map_error(e, xr.get_mut(), limits)),
        };
        let ns_ok = match &ev {
            Event::Start(e) => match ns.push(e) {
                Ok(()) => ns.is_ours(e.name().as_ref()),
                Err(err) => return Err(map_error(quick_xml::Error::Namespace(err), xr.get_mut(), limits)),
            },
            Event::End(_) => {
                ns.pop();
                false
            }
            _ => false,
        };
        let was_first = first;
        first = false;
        prev_text = matches!(ev, Event::Text(_));
        prev_end = matches!(ev, Event::End(_));
        match ev {
            Event::Decl(d) => {
                if !was_first {
                    return Err(file_finding(
                        &rules::FIL_NON_BEN_FORMATO,
                        "La dichiarazione XML (<?xml ...?>) deve trovarsi all'inizio del file.",
                        pos,
                        None,
                    ));
                }
                match d.encoding() {
                    None => {}
                    Some(Ok(enc)) => {
                        let e = enc.as_ref();
                        if !(e.eq_ignore_ascii_case(b"UTF-8") || e.eq_ignore_ascii_case(b"UTF8")) {
                            let v = String::from_utf8_lossy(e).into_owned();
                            return Err(file_finding(
                                &rules::FIL_ENCODING,
                                format!("Codifica dichiarata '{v}' non ammessa: salvare il file in UTF-8 e dichiarare encoding=\"UTF-8\"."),
                                pos,
                                Some(&v),
                            ));
                        }
                    }
                    Some(Err(e)) => {
                        return Err(file_finding(
                            &rules::FIL_NON_BEN_FORMATO,
                            format!("Dichiarazione XML non valida ({e})."),
                            pos,
                            None,
                        ))
                    }
                }
            }
            Event::DocType(_) => {
                return Err(file_finding(
                    &rules::FIL_DOCTYPE,
                    "Il file contiene una dichiarazione DOCTYPE (DTD o entità), non ammessa: rimuoverla.",
                    pos,
                    None,
                ))
            }
            Event::PI(p) => {
                utf8_or_fail(&p, pos)?;
            }
            Event::Comment(c) => {
                utf8_or_fail(&c, pos)?;
            }
            Event::Text(t) => {
                let raw: &[u8] = &t;
                match state {
                    State::InDomanda => {
                        // Between child elements white space needs no decoding nor storing.
                        if !(tree.node(cur).first_child != NONE && is_ws(raw)) {
                            let s = text_of(raw, pos)?;
                            append_text(&mut tree, cur, &s, limits, pos)?;
                        }
                    }
                    _ => {
                        if !is_ws(raw) {
                            utf8_or_fail(raw, pos)?;
                            return Err(if state == State::Root {
                                file_finding(
                                    &rules::FIL_CONTENUTO_RICHIESTA,
                                    "Testo non previsto tra le domande: RichiestaCIGO contiene solo elementi Domanda.",
                                    pos,
                                    None,
                                )
                            } else {
                                file_finding(
                                    &rules::FIL_NON_BEN_FORMATO,
                                    "Testo fuori dall'elemento radice: il file deve contenere solo l'elemento RichiestaCIGO.",
                                    pos,
                                    None,
                                )
                            });
                        }
                    }
                }
            }
            Event::CData(c) => {
                let s = utf8_or_fail(&c, pos)?;
                if !valid_xml_chars(s) {
                    return Err(file_finding(
                        &rules::FIL_UTF8,
                        "Il file contiene caratteri di controllo non ammessi in XML: rimuoverli.",
                        pos,
                        None,
                    ));
                }
                match state {
                    State::InDomanda => append_text(&mut tree, cur, s, limits, pos)?,
                    State::Root => {
                        if !is_ws(s.as_bytes()) {
                            return Err(file_finding(
                                &rules::FIL_CONTENUTO_RICHIESTA,
                                "Testo non previsto tra le domande: RichiestaCIGO contiene solo elementi Domanda.",
                                pos,
                                None,
                            ));
                        }
                    }
                    _ => {
                        return Err(file_finding(
                            &rules::FIL_NON_BEN_FORMATO,
                            "Sezione CDATA fuori dall'elemento radice.",
                            pos,
                            None,
                        ))
                    }
                }
            }
            Event::Start(e) => {
                let qname = e.name();
                let qname_str = utf8_or_fail(qname.as_ref(), pos)?;
                let local = e.local_name();
                match state {
                    State::Prolog => {
                        if local.as_ref() != b"RichiestaCIGO" || !ns_ok {
                            return Err(file_finding(
                                &rules::FIL_RADICE,
                                format!("L'elemento radice deve essere RichiestaCIGO nel namespace {NAMESPACE}: trovato '{qname_str}'. Usare il tracciato versione 1."),
                                pos,
                                Some(qname_str),
                            ));
                        }
                        let mut versione: Option<String> = None;
                        for a in e.attributes() {
                            let a = a.map_err(|err| {
                                file_finding(
                                    &rules::FIL_NON_BEN_FORMATO,
                                    format!("Attributo non valido ({err})."),
                                    pos,
                                    None,
                                )
                            })?;
                            let v = text_of(&a.value, pos)?;
                            if a.key.as_ref() == b"versione" {
                                versione = Some(v.into_owned());
                            }
                        }
                        match versione
                            .as_deref()
                            .map(|v| v.trim_matches(crate::model::is_xml_ws))
                        {
                            Some(VERSIONE) => {}
                            Some(v) => {
                                return Err(file_finding(
                                    &rules::FIL_VERSIONE,
                                    format!(
                                        "Versione del tracciato '{v}' non supportata: usare versione=\"{VERSIONE}\"."
                                    ),
                                    pos,
                                    Some(v),
                                ))
                            }
                            None => {
                                return Err(file_finding(
                                    &rules::FIL_VERSIONE,
                                    format!(
                                    "Manca l'attributo versione di RichiestaCIGO: indicare versione=\"{VERSIONE}\"."
                                ),
                                    pos,
                                    None,
                                ))
                            }
                        }
                        state = State::Root;
                        depth = 1;
                    }
                    State::Epilog => return Err(file_finding(
                        &rules::FIL_NON_BEN_FORMATO,
                        "Il file contiene più di un elemento radice: deve contenere un solo elemento RichiestaCIGO.",
                        pos,
                        Some(qname_str),
                    )),
                    State::Root => {
                        if local.as_ref() != b"Domanda" || !ns_ok {
                            return Err(file_finding(
                                &rules::FIL_CONTENUTO_RICHIESTA,
                                format!("Elemento '{qname_str}' non previsto in RichiestaCIGO: sono ammessi solo elementi Domanda."),
                                pos,
                                Some(qname_str),
                            ));
                        }
                        n_domande += 1;
                        if limits.max_depth < 2 {
                            return Err(file_finding(
                                &rules::FIL_LIMITI,
                                format!(
                                    "Annidamento degli elementi oltre {} livelli: il tracciato non lo prevede.",
                                    limits.max_depth
                                ),
                                pos,
                                Some(qname_str),
                            ));
                        }
                        if n_domande as usize > limits.max_domande {
                            return Err(file_finding(
                                &rules::FIL_LIMITI,
                                format!(
                                    "La richiesta contiene più di {} domande: dividerla in più file.",
                                    limits.max_domande
                                ),
                                pos,
                                None,
                            ));
                        }
                        tree.clear();
                        cur = tree.push(NONE, Tag::Domanda, line, col);
                        store_attrs(&mut tree, cur, &e, pos)?;
                        state = State::InDomanda;
                        depth = 2;
                    }
                    State::InDomanda => {
                        depth += 1;
                        if depth > limits.max_depth {
                            return Err(file_finding(
                                &rules::FIL_LIMITI,
                                format!(
                                    "Annidamento degli elementi oltre {} livelli: il tracciato non lo prevede.",
                                    limits.max_depth
                                ),
                                pos,
                                Some(qname_str),
                            ));
                        }
                        if tree.len() >= limits.max_elements_per_domanda {
                            return Err(file_finding(
                                &rules::FIL_LIMITI,
                                format!(
                                    "La domanda {n_domande} contiene più di {} elementi: dividerla in più domande o file.",
                                    limits.max_elements_per_domanda
                                ),
                                pos,
                                None,
                            ));
                        }
                        let tag = if ns_ok { Tag::from_local(local.as_ref()) } else { Tag::Unknown };
                        cur = open_child(&mut tree, cur, tag, qname_str, pos);
                        store_attrs(&mut tree, cur, &e, pos)?;
                    }
                }
            }
            Event::End(_) => match state {
                State::InDomanda => {
                    depth -= 1;
                    let parent = tree.node(cur).parent;
                    if parent == NONE {
                        on_domanda(&tree, n_domande);
                        state = State::Root;
                    }
                    cur = parent;
                }
                State::Root => {
                    depth = 0;
                    state = State::Epilog;
                }
                _ => {
                    return Err(file_finding(&rules::FIL_NON_BEN_FORMATO, "Tag di chiusura non atteso.", pos, None));
                }
            },
            Event::Empty(_) => {
                // expand_empty_elements is on: never produced.
            }
            Event::Eof => {
                return match state {
                    State::Epilog if n_domande == 0 => Err(file_finding(
                        &rules::FIL_NESSUNA_DOMANDA,
                        "La richiesta non contiene alcuna domanda: inserire almeno un elemento Domanda.",
                        pos,
                        None,
                    )),
                    State::Epilog => Ok(n_domande),
                    State::Prolog => Err(file_finding(
                        &rules::FIL_NON_BEN_FORMATO,
                        "Il file è vuoto o non contiene alcun elemento XML.",
                        pos,
                        None,
                    )),
                    _ => Err(file_finding(
                        &rules::FIL_NON_BEN_FORMATO,
                        "Il file termina prima della chiusura degli elementi aperti: il file è troncato o non ben formato.",
                        pos,
                        None,
                    )),
                };
            }
        }
    }
}

/// Namespace scopes, as quick-xml's `NsReader` keeps them (same bindings, same errors), but only
/// for the elements that declare a namespace: most elements have no attributes at all, and for
/// them nothing is pushed.
#[derive(Default)]
struct Ns {
    bindings: Vec<Binding>,
    prefixes: Vec<u8>,
    level: u32,
    /// For each open element, whether it declared namespaces.
    pushed: Vec<bool>,
}

struct Binding {
    /// Range of the prefix in `prefixes` (empty: the default namespace).
    prefix: (usize, usize),
    /// Bound to our namespace.
    ours: bool,
    /// `xmlns:p=""` (the prefix is unbound).
    empty: bool,
    level: u32,
}

const XML_NS: &[u8] = b"http://www.w3.org/XML/1998/namespace";
const XMLNS_NS: &[u8] = b"http://www.w3.org/2000/xmlns/";

impl Ns {
    fn push(&mut self, e: &BytesStart<'_>) -> Result<(), NamespaceError> {
        let raw = e.attributes_raw();
        if raw.is_empty() || !raw.contains(&b'x') || !raw.windows(5).any(|w| w == b"xmlns") {
            self.pushed.push(false);
            return Ok(());
        }
        self.pushed.push(true);
        self.level += 1;
        for a in e.attributes().with_checks(false) {
            let Ok(a) = a else { break };
            let v: &[u8] = &a.value;
            let prefix: &[u8] = match a.key.as_namespace_binding() {
                None => continue,
                Some(PrefixDeclaration::Default) => b"",
                Some(PrefixDeclaration::Named(b"xml")) => {
                    if v != XML_NS {
                        return Err(NamespaceError::InvalidXmlPrefixBind(v.to_vec()));
                    }
                    continue;
                }
                Some(PrefixDeclaration::Named(b"xmlns")) => {
                    return Err(NamespaceError::InvalidXmlnsPrefixBind(v.to_vec()));
                }
                Some(PrefixDeclaration::Named(p)) => {
                    if v == XML_NS {
                        return Err(NamespaceError::InvalidPrefixForXml(p.to_vec()));
                    } else if v == XMLNS_NS {
                        return Err(NamespaceError::InvalidPrefixForXmlns(p.to_vec()));
                    }
                    p
                }
            };
            let start = self.prefixes.len();
            self.prefixes.extend_from_slice(prefix);
            self.bindings.push(Binding {
                prefix: (start, self.prefixes.len()),
                ours: v == NAMESPACE.as_bytes(),
                empty: v.is_empty(),
                level: self.level,
            });
        }
        Ok(())
    }

    fn pop(&mut self) {
        if self.pushed.pop() == Some(true) {
            self.level -= 1;
            while self.bindings.last().is_some_and(|b| b.level > self.level) {
                if let Some(b) = self.bindings.pop() {
                    self.prefixes.truncate(b.prefix.0);
                }
            }
        }
    }

    /// Whether an element name resolves to our namespace.
    fn is_ours(&self, qname: &[u8]) -> bool {
        let prefix = qname.iter().position(|&c| c == b':').map(|i| &qname[..i]);
        if prefix.is_none() && self.bindings.len() == 1 && self.bindings[0].prefix.0 == self.bindings[0].prefix.1 {
            // The usual case: one default namespace declared on the root.
            return self.bindings[0].ours;
        }
        for b in self.bindings.iter().rev() {
            let bp = &self.prefixes[b.prefix.0..b.prefix.1];
            match (bp.is_empty(), prefix) {
                (true, None) => return b.ours,
                (true, Some(_)) | (false, None) => continue,
                (false, Some(p)) if p != bp => continue,
                _ => return b.ours && !b.empty,
            }
        }
        false
    }
}

fn append_text(tree: &mut Tree, cur: NodeId, s: &str, limits: &Limits, pos: (u32, u32)) -> Result<(), Finding> {
    if s.is_empty() {
        return Ok(());
    }
    let node = tree.node(cur);
    if node.first_child != NONE {
        if !is_ws(s.as_bytes()) {
            tree.nodes[cur as usize].mixed = true;
        }
        return Ok(());
    }
    let (a, b) = node.text;
    let (a, b) = if a == b { (tree.buf.len() as u32, tree.buf.len() as u32) } else { (a, b) };
    if b as usize != tree.buf.len() {
        // Cannot happen for a leaf (nothing else is stored between its pieces of text).
        return Ok(());
    }
    tree.buf.push_str(s);
    let end = tree.buf.len() as u32;
    tree.nodes[cur as usize].text = (a, end);
    let bytes = (end - a) as usize;
    if bytes > limits.max_text_len && tree.buf[a as usize..].chars().count() > limits.max_text_len {
        return Err(file_finding(
            &rules::FIL_LIMITI,
            format!("Un testo supera {} caratteri: ridurne la lunghezza.", limits.max_text_len),
            pos,
            None,
        ));
    }
    Ok(())
}

fn store_attrs(
    tree: &mut Tree,
    id: NodeId,
    e: &quick_xml::events::BytesStart<'_>,
    pos: (u32, u32),
) -> Result<(), Finding> {
    let raw = e.attributes_raw();
    if raw.is_empty() {
        return Ok(());
    }
    // Duplicate names need two attributes, hence two `=`: with fewer, skip the duplicate check
    // (the only difference between the checked and unchecked iterators) and its allocation.
    let checks = raw.iter().filter(|&&c| c == b'=').count() > 1;
    for a in e.attributes().with_checks(checks) {
        let a = a.map_err(|err| {
            file_finding(&rules::FIL_NON_BEN_FORMATO, format!("Attributo non valido ({err})."), pos, None)
        })?;
        store_attr(tree, a.key.as_ref(), &a.value, pos)?;
    }
    tree.nodes[id as usize].attrs.1 = tree.attrs.len() as u32;
    Ok(())
}

/// Stores one attribute (raw name and value as written) of the node last pushed.
fn store_attr(tree: &mut Tree, key: &[u8], value: &[u8], pos: (u32, u32)) -> Result<(), Finding> {
    let key = utf8_or_fail(key, pos)?;
    let value = text_of(value, pos)?;
    let name = tree.store(key);
    let value = tree.store(&value);
    tree.attrs.push(AttrRec { name, value });
    Ok(())
}

/// Pushes a child element of `parent` (any element below the `Domanda`).
fn open_child(tree: &mut Tree, parent: NodeId, tag: Tag, qname: &str, pos: (u32, u32)) -> NodeId {
    let p = tree.node(parent);
    if p.first_child == NONE && p.text.1 > p.text.0 {
        // Text before the first child: only white space is allowed.
        let t = tree.text(parent);
        if !is_ws(t.as_bytes()) {
            tree.nodes[parent as usize].mixed = true;
        }
    }
    let id = tree.push(parent, tag, pos.0, pos.1);
    if tag == Tag::Unknown {
        let r = tree.store(qname);
        tree.nodes[id as usize].name = r;
    }
    id
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    thread_local! {
        /// Domande read by the fast path.
        pub(super) static FAST_DOMANDE: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
    }

    #[test]
    fn the_fast_path_reads_plain_files() {
        for (xml, n) in [
            (generated(30, 0.3, 1), 30),
            (generated(30, 0.3, 1).replace('\n', "\r\n"), 30),
            (include_str!("../../../docs/examples/valid.xml").to_string(), 2),
        ] {
            FAST_DOMANDE.with(|c| c.set(0));
            assert_eq!(stream(xml.as_bytes(), &Limits::default(), |_, _| {}), Ok(n));
            assert_eq!(FAST_DOMANDE.with(|c| c.get()), n);
        }
    }

    /// Everything a tree holds, for comparing the fast path with quick-xml.
    fn dump(t: &Tree, p: u32) -> String {
        let mut s = format!("domanda {p}: {} nodes, buf {:?}\n", t.len(), t.buf);
        for i in 0..t.len() as u32 {
            let n = t.node(i);
            let attrs: Vec<_> = t.attributes(i).collect();
            s.push_str(&format!(
                "{i} {:?} {} parent {} first {} last {} next {} text {:?}@{:?} attrs {:?}@{:?} mixed {} at {}:{} {}\n",
                n.tag,
                t.name(i),
                n.parent,
                n.first_child,
                n.last_child,
                n.next_sibling,
                t.text(i),
                n.text,
                attrs,
                n.attrs,
                n.mixed,
                n.line,
                n.column,
                t.xpath(i, p)
            ));
        }
        s
    }

    fn run(xml: &[u8], limits: &Limits, fast: bool, capacity: usize) -> (Result<u32, Finding>, Vec<String>) {
        let mut trees = Vec::new();
        let r = stream_impl(io::BufReader::with_capacity(capacity, xml), limits, fast, |t, p| trees.push(dump(t, p)));
        (r, trees)
    }

    /// The fast path reads exactly what quick-xml reads, whatever the read buffer (which decides,
    /// with or without it, where an over-long event is noticed).
    fn assert_same(name: &str, xml: &[u8], limits: &Limits) {
        for capacity in [64 * 1024, 8 * 1024, 7] {
            let slow = run(xml, limits, false, capacity);
            let fast = run(xml, limits, true, capacity);
            assert_eq!(slow.0, fast.0, "{name} (buffer {capacity}): different result");
            assert_eq!(slow.1.len(), fast.1.len(), "{name} (buffer {capacity}): different domande");
            for (a, b) in slow.1.iter().zip(&fast.1) {
                assert_eq!(a, b, "{name} (buffer {capacity}): different tree");
            }
        }
    }

    fn generated(domande: usize, invalid_ratio: f64, seed: u64) -> String {
        let mut out = Vec::new();
        crate::generate(&crate::GenerateOptions { domande, invalid_ratio, seed }, &mut out).expect("generate");
        String::from_utf8(out).expect("utf-8")
    }

    /// Variants of a richiesta that the fast path must read, or leave to quick-xml, identically.
    fn variants(v: &str) -> Vec<(&'static str, String)> {
        let minified: String = {
            let mut out = String::new();
            for l in v.lines() {
                out.push_str(l.trim_start());
            }
            out
        };
        vec![
            ("as is", v.to_string()),
            ("crlf", v.replace('\n', "\r\n")),
            ("cr only", v.replace('\n', "\r")),
            ("bom", format!("\u{FEFF}{v}")),
            ("minified", minified),
            ("tabs", v.replace("  ", "\t")),
            ("comment between domande", v.replace("</Domanda>\n", "</Domanda><!-- c -->\n")),
            ("comment in domanda", v.replacen("<QuadroA>", "<QuadroA><!-- c -->", 2)),
            ("cdata", v.replacen("<Comune>", "<Comune><![CDATA[x]]>", 2)),
            ("pi", v.replacen("<QuadroB>", "<QuadroB><?p x?>", 2)),
            ("text between domande", v.replacen("</Domanda>\n", "</Domanda>x\n", 1)),
            (
                "single quotes",
                v.replace("progressivo=\"", "progressivo='")
                    .replace("\">\n    <TipoDomanda", "'>\n    <TipoDomanda"),
            ),
            ("spaced attributes", v.replace(" progressivo=\"", "\n\t progressivo = \"")),
            (
                "no space before attribute",
                v.replacen("<Riga tipoOrario=\"TEMPO_PIENO\" ", "<Riga tipoOrario=\"TEMPO_PIENO\"", 3),
            ),
            (
                "duplicate attribute",
                v.replacen("<Domanda progressivo=\"1\"", "<Domanda progressivo=\"1\" progressivo=\"2\"", 1),
            ),
            ("entity in attribute", v.replacen("progressivo=\"", "progressivo=\"&amp;&#49;", 3)),
            ("bad entity in attribute", v.replacen("progressivo=\"", "progressivo=\"&x;", 1)),
            ("lt in attribute", v.replacen("progressivo=\"", "progressivo=\"<", 1)),
            ("gt in attribute", v.replacen("progressivo=\"", "progressivo=\">", 1)),
            ("extra attributes", v.replace("<Matricola>", "<Matricola a=\"1\" b='&apos;' c=\"\">")),
            ("xmlns in attribute value", v.replacen("<Matricola>", "<Matricola a=\"xmlns\">", 2)),
            (
                "xsi attribute",
                v.replacen(
                    "<Matricola>",
                    "<Matricola xsi:nil=\"false\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">",
                    2,
                ),
            ),
            ("redeclared default ns", v.replacen("<QuadroA>", "<QuadroA xmlns=\"urn:altro\">", 2)),
            (
                "foreign ns",
                v.replacen("<Matricola>", "<x:Matricola xmlns:x=\"urn:altro\">", 1)
                    .replacen("</Matricola>", "</x:Matricola>", 1),
            ),
            (
                "prefixed",
                v.replace("<RichiestaCIGO xmlns=", "<c:RichiestaCIGO xmlns:c=")
                    .replace("</RichiestaCIGO>", "</c:RichiestaCIGO>")
                    .replace("<Domanda ", "<c:Domanda ")
                    .replace("</Domanda>", "</c:Domanda>"),
            ),
            (
                "unprefixed in prefixed root",
                v.replace("<RichiestaCIGO xmlns=", "<c:RichiestaCIGO xmlns:c=")
                    .replace("</RichiestaCIGO>", "</c:RichiestaCIGO>"),
            ),
            ("unknown element", v.replace("<Comune>", "<Sconosciuto a=\"1\">x</Sconosciuto><Comune>")),
            ("odd names", v.replacen("<Comune>", "<a.b-c_d/><_x></_x><Comune>", 3)),
            ("empty elements", v.replace("<Cap>", "<Fax/><Fax a='1'/><Cap>")),
            ("empty domanda", v.replacen("<Domanda progressivo=\"1\">", "<Domanda/><Domanda progressivo=\"1\">", 1)),
            ("empty root then domanda", v.replacen("\">\n  <Domanda", "\"/>\n  <Domanda", 1)),
            ("mixed text", v.replace("<QuadroA>", "<QuadroA>testo")),
            ("mixed text after child", v.replace("</Matricola>", "</Matricola>dopo")),
            ("non-ascii", v.replace("Roma", "Forlì €𝄞")),
            ("entities", v.replace("Roma", "R&amp;o&lt;m&gt;a&quot;&apos;&#233;&#x20AC;")),
            ("unknown entity", v.replacen("Roma", "&roma;", 1)),
            ("bad char ref", v.replacen("Roma", "&#0;", 1)),
            ("control char", v.replacen("Roma", "R\u{1}oma", 1)),
            ("nonchar", v.replacen("Roma", "R\u{FFFE}oma", 1)),
            ("end tag with space", v.replacen("</Comune>", "</Comune >", 2)),
            ("mismatched end", v.replacen("</Comune>", "</Comun>", 1)),
            ("unclosed", v.replacen("</Comune>", "", 1)),
            ("stray end", v.replacen("</Cap>", "</Cap></Cap>", 1)),
            ("lt in text", v.replacen("Roma", "R<oma", 1)),
            ("bad name", v.replacen("<Comune>", "<1Comune>", 1)),
            ("slash in name", v.replacen("<Comune>", "<Com/une>", 1)),
            ("truncated", v[..v.len() * 2 / 3].to_string()),
            ("truncated after domanda", v[..v.rfind("</Domanda>").map_or(0, |i| i + 10)].to_string()),
            ("truncated after domanda and space", v[..v.rfind("</Domanda>").map_or(0, |i| i + 12)].to_string()),
            ("no root end", v.replace("</RichiestaCIGO>", "")),
            ("two roots", format!("{v}{v}")),
        ]
    }

    #[test]
    fn fast_path_reads_what_quick_xml_reads() {
        let mut inputs = vec![
            ("valid", include_str!("../../../docs/examples/valid.xml").to_string()),
            ("avvisi", include_str!("../../../docs/examples/avvisi.xml").to_string()),
            ("scartata", include_str!("../../../docs/examples/scartata.xml").to_string()),
        ];
        inputs.push(("generated", generated(40, 0.5, 3)));
        inputs.push(("generated, all invalid", generated(25, 1.0, 9)));
        for (name, v) in inputs {
            for (variant, xml) in variants(&v) {
                assert_same(&format!("{name}, {variant}"), xml.as_bytes(), &Limits::default());
            }
        }
    }

    #[test]
    fn fast_path_respects_the_limits() {
        let v = generated(6, 0.3, 5);
        let d = Limits::default();
        let cases = [
            Limits { max_depth: 1, ..d.clone() },
            Limits { max_depth: 2, ..d.clone() },
            Limits { max_depth: 4, ..d.clone() },
            Limits { max_elements_per_domanda: 1, ..d.clone() },
            Limits { max_elements_per_domanda: 40, ..d.clone() },
            Limits { max_text_len: 10, ..d.clone() },
            Limits { max_text_len: 0, ..d.clone() },
            Limits { max_domande: 0, ..d.clone() },
            Limits { max_domande: 3, ..d.clone() },
        ];
        for (i, l) in cases.iter().enumerate() {
            assert_same(&format!("limits {i}"), v.as_bytes(), l);
        }
        // Markup and texts around the event budget (64 KiB with the default limits).
        let big = |n: usize| v.replacen("Roma", &"r".repeat(n), 1);
        for n in [3_000, 5_000, 30_000, 40_000, 70_000, 140_000] {
            assert_same(&format!("text {n}"), big(n).as_bytes(), &d);
            assert_same(
                &format!("text {n}, small limit"),
                big(n).as_bytes(),
                &Limits { max_text_len: 100_000, ..d.clone() },
            );
        }
        let attr = v.replacen(
            "<Domanda progressivo=\"1\"",
            &format!("<Domanda a=\"{}\" progressivo=\"1\"", "x".repeat(40_000)),
            1,
        );
        assert_same("long attribute", attr.as_bytes(), &d);
        // Long names, with and without attributes, empty or not (tests/hostile/long_element_name.xml).
        for n in [20_000, 40_000, 200_000] {
            let name = "N".repeat(n);
            for tag in [format!("<{name}/>"), format!("<{name}></{name}>"), format!("<{name} a=\"1\"/>")] {
                let xml = v.replacen("<Provincia>", &format!("{tag}<Provincia>"), 1);
                assert_same(&format!("long name {n}: {}", &tag[tag.len() - 3..]), xml.as_bytes(), &d);
            }
        }
        // A domanda larger than the look-ahead window.
        let huge = v.replacen(
            "</QuadroA>",
            &format!("{}</QuadroA>", format!("<Fax>{}</Fax>\n", "1".repeat(1000)).repeat(1100)),
            1,
        );
        assert_same("huge domanda", huge.as_bytes(), &Limits { max_elements_per_domanda: 1_000_000, ..d });
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 300, .. ProptestConfig::default() })]

        #[test]
        fn fast_path_reads_mutated_files_as_quick_xml(
            edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..4), 1..8),
            seed in 0u64..4,
        ) {
            let mut bytes = generated(4, 0.3, seed).into_bytes();
            for (idx, b, op) in edits {
                if bytes.is_empty() { break; }
                let i = idx.index(bytes.len());
                match op {
                    0 => bytes[i] = b,
                    1 => { bytes.remove(i); }
                    2 => bytes.insert(i, *b"<>&;\"'/=!?[]-x \n".get((b % 16) as usize).unwrap_or(&b'<')),
                    _ => { let j = (i + (b as usize)).min(bytes.len()); bytes.drain(i..j); }
                }
            }
            assert_same("mutated", &bytes, &Limits::default());
        }
    }

    type Nodes = Vec<(String, u32, u32)>;

    fn trees(xml: &str) -> Result<Vec<(u32, usize, Nodes)>, Finding> {
        let mut out = Vec::new();
        stream(xml.as_bytes(), &Limits::default(), |t, p| {
            let nodes = (0..t.len() as u32)
                .map(|i| (t.xpath(i, p), t.node(i).line, t.node(i).column))
                .collect();
            out.push((p, t.len(), nodes));
        })?;
        Ok(out)
    }

    #[test]
    fn positions_and_xpaths() {
        let xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<RichiestaCIGO xmlns=\"urn:cigo:richiesta:1\" versione=\"1\">\n  <Domanda progressivo=\"1\">\n    <QuadroE><Riga/><Riga>x</Riga></QuadroE>\n  </Domanda>\n</RichiestaCIGO>\n";
        let t = trees(xml).unwrap();
        assert_eq!(t.len(), 1);
        let nodes = &t[0].2;
        assert_eq!(nodes[0], ("/RichiestaCIGO/Domanda[1]".to_string(), 3, 3));
        assert_eq!(nodes[1], ("/RichiestaCIGO/Domanda[1]/QuadroE".to_string(), 4, 5));
        assert_eq!(nodes[2], ("/RichiestaCIGO/Domanda[1]/QuadroE/Riga[1]".to_string(), 4, 14));
        assert_eq!(nodes[3], ("/RichiestaCIGO/Domanda[1]/QuadroE/Riga[2]".to_string(), 4, 21));
    }

    #[test]
    fn prefixed_namespace_is_fine_and_bom_is_skipped() {
        let xml = "\u{FEFF}<c:RichiestaCIGO xmlns:c=\"urn:cigo:richiesta:1\" versione=\"1\"><c:Domanda><c:QuadroA/></c:Domanda></c:RichiestaCIGO>";
        let t = trees(xml).unwrap();
        assert_eq!(t[0].2[1], ("/RichiestaCIGO/Domanda[1]/QuadroA".to_string(), 1, 76));
    }

    #[test]
    fn file_level_failures() {
        let code = |xml: &str| trees(xml).unwrap_err().code;
        assert_eq!(code(""), "FIL-001");
        assert_eq!(code("<RichiestaCIGO xmlns=\"urn:cigo:richiesta:1\" versione=\"1\"><Domanda>"), "FIL-001");
        assert_eq!(code("<RichiestaCIGO xmlns=\"urn:x\" versione=\"1\"/>"), "FIL-004");
        assert_eq!(code("<RichiestaCIGO xmlns=\"urn:cigo:richiesta:1\" versione=\"2\"/>"), "FIL-005");
        assert_eq!(code("<RichiestaCIGO xmlns=\"urn:cigo:richiesta:1\" versione=\"1\"/>"), "FIL-008");
        assert_eq!(code("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a/>"), "FIL-006");
        assert_eq!(code("<!DOCTYPE a [<!ENTITY x \"y\">]><a/>"), "FIL-002");
        assert_eq!(
            code("<RichiestaCIGO xmlns=\"urn:cigo:richiesta:1\" versione=\"1\"><Domanda><A>&foo;</A></Domanda></RichiestaCIGO>"),
            "FIL-003"
        );
        assert_eq!(
            code("<RichiestaCIGO xmlns=\"urn:cigo:richiesta:1\" versione=\"1\"><Altro/></RichiestaCIGO>"),
            "FIL-010"
        );
        let bad_utf8 = b"<RichiestaCIGO xmlns=\"urn:cigo:richiesta:1\" versione=\"1\"><Domanda><A>\xff</A></Domanda></RichiestaCIGO>";
        let r = stream(&bad_utf8[..], &Limits::default(), |_, _| {});
        assert_eq!(r.unwrap_err().code, "FIL-007");
    }
}
