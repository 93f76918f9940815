//! The streaming parser: reads a richiesta with quick-xml from any `BufRead`, one `<Domanda>` at a
//! time, into a small bounded tree ([`Tree`]) that keeps for every element its name, attributes,
//! text and the line and column of its start tag. The whole richiesta is never in memory.
//!
//! Everything that makes the *file* unacceptable (not well-formed, DOCTYPE, unknown entities,
//! wrong root/namespace/versione, encoding, limits) ends the stream with a file-level finding.

use crate::finding::Finding;
use crate::model::{NAMESPACE, VERSIONE};
use crate::rules::{self, RuleInfo};
use crate::validate::Limits;
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::{NamespaceError, PrefixDeclaration};
use quick_xml::Reader;
use std::io::{self, BufRead, Read};
use std::sync::OnceLock;

/// Names of the elements of the tracciato. A later quadro adds its elements here.
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
/// The bytes are copied, [`CHUNK`] at a time, into a buffer of its own (so that quick-xml's many
/// `fill_buf` calls per event are a slice of it). Newlines are found once per chunk, word by word,
/// and turned into a line and column only when asked, so consuming bytes costs nothing per event.
pub struct CountingReader<R> {
    inner: R,
    buf: Box<[u8]>,
    /// Unconsumed bytes of `buf`.
    start: usize,
    end: usize,
    pos: u64,
    line: u32,
    line_start: u64,
    /// Offsets (from `chunk_start`) of the newlines of the current chunk not yet counted in `line`.
    newlines: Vec<u32>,
    next_newline: usize,
    chunk_start: u64,
    event_bytes: u64,
    event_budget: u64,
    limit_hit: bool,
}

/// Bytes handed out (and scanned for newlines) at a time.
const CHUNK: usize = 64 * 1024;

/// Offsets of the `\n` bytes of `s`, eight bytes at a time.
fn find_newlines(s: &[u8], out: &mut Vec<u32>) {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    const _: () = assert!(HI == LO << 7);
    const NL: u64 = LO * b'\n' as u64;
    let mut words = s.chunks_exact(8);
    let mut base = 0usize;
    for w in &mut words {
        let x = u64::from_le_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]) ^ NL;
        // The high bit of each byte of `zero` is set exactly where that byte of x is zero.
        let mut zero = !(((x & !HI) + !HI) | x) & HI;
        while zero != 0 {
            out.push((base + zero.trailing_zeros() as usize / 8) as u32);
            zero &= zero - 1;
        }
        base += 8;
    }
    for (i, &b) in words.remainder().iter().enumerate() {
        if b == b'\n' {
            out.push((base + i) as u32);
        }
    }
}

impl<R: BufRead> CountingReader<R> {
    pub fn new(inner: R, event_budget: u64) -> Self {
        CountingReader {
            inner,
            buf: vec![0; CHUNK].into_boxed_slice(),
            start: 0,
            end: 0,
            pos: 0,
            line: 1,
            line_start: 0,
            newlines: Vec::new(),
            next_newline: 0,
            chunk_start: 0,
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
        while let Some(&i) = self.newlines.get(self.next_newline) {
            let at = self.chunk_start + i as u64;
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

    fn start_event(&mut self) {
        self.event_bytes = 0;
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
            self.catch_up();
            let n = {
                let inner = self.inner.fill_buf()?;
                let n = inner.len().min(CHUNK);
                self.buf[..n].copy_from_slice(&inner[..n]);
                n
            };
            self.inner.consume(n);
            self.start = 0;
            self.end = n;
            self.newlines.clear();
            self.next_newline = 0;
            self.chunk_start = self.pos;
            find_newlines(&self.buf[..n], &mut self.newlines);
        }
        Ok(&self.buf[self.start..self.end])
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
    f.value = value.map(crate::validate::truncate_value);
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

/// Streams `reader`, calling `on_domanda(tree, position)` for each complete `<Domanda>` (position
/// 1-based). Returns the number of domande, or the file-level finding that stops the file.
pub fn stream<R: BufRead, F: FnMut(&Tree, u32)>(reader: R, limits: &Limits, mut on_domanda: F) -> Result<u32, Finding> {
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

    loop {
        let (line, col) = {
            let (l, c) = xr.get_mut().line_column();
            (l, if prev_text { c.saturating_sub(1).max(1) } else { c })
        };
        let pos = (line, col);
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
                        let parent = cur;
                        if tree.node(parent).first_child == NONE && tree.node(parent).text.1 > tree.node(parent).text.0
                        {
                            // Text before the first child: only white space is allowed.
                            let t = tree.text(parent);
                            if !is_ws(t.as_bytes()) {
                                tree.nodes[parent as usize].mixed = true;
                            }
                        }
                        cur = tree.push(parent, tag, line, col);
                        if tag == Tag::Unknown {
                            let r = tree.store(qname_str);
                            tree.nodes[cur as usize].name = r;
                        }
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
        let key = utf8_or_fail(a.key.as_ref(), pos)?;
        let value = text_of(&a.value, pos)?;
        let name = tree.store(key);
        let value = tree.store(&value);
        tree.attrs.push(AttrRec { name, value });
    }
    tree.nodes[id as usize].attrs.1 = tree.attrs.len() as u32;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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
