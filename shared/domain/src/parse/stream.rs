//! The streaming loop: quick-xml's events (or the fast path, between domande) turned into one
//! tree per domanda, and every file-level failure into its finding.

use super::fast::{fast_domanda, FastCx, Mode, Scratch, Stop};
use super::ns::Ns;
use super::reader::{CountingReader, CHUNK, WINDOW_MAX};
use super::tag::Tag;
use super::text::{file_finding, is_ws, text_of, utf8_or_fail, xml_chars_or_fail};
use super::tree::{append_text, open_child, store_attrs, NodeId, Tree, NONE};
use crate::finding::Finding;
use crate::limits::Limits;
use crate::model::{Versione, NAMESPACE, NAMESPACE_V2};
use crate::rules;
use quick_xml::events::{BytesCData, BytesDecl, BytesStart, Event};
use quick_xml::Reader;
use std::io::BufRead;

/// Streams `reader`, calling `on_domanda(tree, position)` for each complete `<Domanda>` (position
/// 1-based). Returns the number of domande, or the file-level finding that stops the file.
pub fn stream<R: BufRead, F: FnMut(&Tree, u32)>(reader: R, limits: &Limits, on_domanda: F) -> Result<u32, Finding> {
    stream_impl(reader, limits, limits.parser_fast_path, on_domanda)
}

/// [`stream`], with or without the fast path (the tests check that both read the same).
pub(super) fn stream_impl<R: BufRead, F: FnMut(&Tree, u32)>(
    reader: R,
    limits: &Limits,
    fast: bool,
    mut on_domanda: F,
) -> Result<u32, Finding> {
    let mut s = Streamer::new(reader, limits);
    let mut buf: Vec<u8> = Vec::with_capacity(4096);
    loop {
        let pos = s.xr.get_mut().line_column();
        if fast && s.state == State::Root && s.fast_domanda(&mut on_domanda) {
            continue;
        }
        if !s.in_text {
            // A text split by references is one event for the budget, as it is for the rules.
            s.xr.get_mut().start_event();
        }
        buf.clear();
        let ev = match s.xr.read_event_into(&mut buf) {
            Ok(ev) => ev,
            Err(e) => return Err(map_error(e, s.xr.get_mut(), limits)),
        };
        if let Some(n) = s.event(ev, pos, &mut on_domanda)? {
            return Ok(n);
        }
    }
}

#[cfg(test)]
thread_local! {
    /// Domande read by the fast path (the tests check that plain files take it).
    pub(super) static FAST_DOMANDE: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// Where the stream is in the document.
#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Prolog,
    Root,
    InDomanda,
    Epilog,
}

/// What quick-xml read last, which says where it stands for the fast path.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Last {
    /// An end tag: inside text.
    End,
    /// A text or a reference in it: before the `<` of the next markup (not consumed yet), or
    /// inside text (after a reference).
    Text,
    /// Anything else.
    Other,
}

/// The state of one stream.
struct Streamer<'l, R> {
    xr: Reader<CountingReader<R>>,
    limits: &'l Limits,
    /// Byte budget of one event (see [`CountingReader`]).
    budget: u64,
    ns: Ns,
    state: State,
    /// The domanda being read, and its element open now.
    tree: Tree,
    cur: NodeId,
    depth: usize,
    n_domande: u32,
    /// No event read yet (the XML declaration must be the first).
    first: bool,
    last: Last,
    /// A text split by quick-xml at its entity and character references (`Text`, `GeneralRef`,
    /// `Text`, ...): its pieces as written, joined, and the position of the first one. It is
    /// decoded as a whole once it ends, so that a value and its errors are as for one text.
    text: Vec<u8>,
    text_pos: (u32, u32),
    in_text: bool,
    scratch: Scratch,
    /// Look-ahead asked of the reader for the next domanda: twice the last one.
    want: usize,
}

impl<'l, R: BufRead> Streamer<'l, R> {
    fn new(reader: R, limits: &'l Limits) -> Self {
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
        {
            let c = xr.config_mut();
            c.expand_empty_elements = true;
            c.check_end_names = true;
            c.check_comments = true;
            // A lone `&` stays in the text, which is then unescaped (and its error reported) as
            // a whole, as for any other text.
            c.allow_dangling_amp = true;
            c.trim_text(false);
        }
        Streamer {
            xr,
            limits,
            budget,
            ns: Ns::default(),
            state: State::Prolog,
            tree: Tree::default(),
            cur: NONE,
            depth: 0,
            n_domande: 0,
            first: true,
            last: Last::Other,
            text: Vec::new(),
            text_pos: (0, 0),
            in_text: false,
            scratch: Scratch::default(),
            want: CHUNK,
        }
    }

    /// The fast path, between domande, where quick-xml is left in a state it can be given back
    /// (see [`Mode`]). Returns whether it read a domanda (else nothing was consumed).
    fn fast_domanda<F: FnMut(&Tree, u32)>(&mut self, on_domanda: &mut F) -> bool {
        let mode = match self.last {
            Last::End => Mode::InText,
            Last::Text => Mode::BeforeMarkup,
            Last::Other => return false,
        };
        let cx = FastCx {
            limits: self.limits,
            ns_ok: self.ns.is_ours(b"Domanda"),
            n_domande: self.n_domande,
            max_token: (self.budget / 2).min(usize::MAX as u64) as usize,
        };
        let mut ask = self.want;
        let done = loop {
            let (w, base, mut lines) = self.xr.get_mut().window(ask);
            let got = w.len();
            match fast_domanda(w, base, mode, &mut lines, &mut self.tree, &mut self.scratch, &cx) {
                Ok(len) => break Some(len),
                Err(Stop::NeedMore) if got >= ask && ask < WINDOW_MAX => ask = (ask * 2).min(WINDOW_MAX),
                _ => break None,
            }
        };
        let Some(len) = done else { return false };
        #[cfg(test)]
        FAST_DOMANDE.with(|c| c.set(c.get() + 1));
        self.xr.get_mut().consume(len);
        self.want = len.saturating_mul(2).clamp(CHUNK, WINDOW_MAX);
        self.n_domande += 1;
        on_domanda(&self.tree, self.n_domande);
        self.cur = NONE;
        self.depth = 1;
        true
    }

    /// One event read at `pos`. Returns the number of domande at the end of the file.
    fn event<F: FnMut(&Tree, u32)>(
        &mut self,
        ev: Event<'_>,
        pos: (u32, u32),
        on_domanda: &mut F,
    ) -> Result<Option<u32>, Finding> {
        let ns_ok = match &ev {
            Event::Start(e) => match self.ns.push(e) {
                Ok(()) => self.ns.is_ours(e.name().as_ref()),
                Err(err) => return Err(map_error(quick_xml::Error::Namespace(err), self.xr.get_mut(), self.limits)),
            },
            Event::End(_) => {
                self.ns.pop();
                false
            }
            _ => false,
        };
        let was_first = std::mem::replace(&mut self.first, false);
        let text_before = matches!(self.last, Last::Text) || self.in_text;
        self.last = match ev {
            Event::Text(_) | Event::GeneralRef(_) => Last::Text,
            Event::End(_) => Last::End,
            _ => Last::Other,
        };
        match ev {
            Event::Decl(d) => self.decl(&d, was_first, pos)?,
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
            Event::Text(t) => self.text_piece(&t, pos)?,
            Event::GeneralRef(r) => {
                let name: &[u8] = &r;
                self.text_piece_parts(&[b"&", name, b";"], pos)?
            }
            Event::CData(c) => self.cdata(&c, pos)?,
            Event::Start(e) => self.start(&e, ns_ok, pos)?,
            Event::End(_) => self.end(pos, on_domanda)?,
            Event::Empty(_) => {
                // expand_empty_elements is on: never produced.
            }
            Event::Eof => {
                // The column of the end of the file after a text, as it has always been reported.
                let pos = if text_before { (pos.0, pos.1.saturating_sub(1).max(1)) } else { pos };
                return self.eof(pos).map(Some);
            }
        }
        Ok(None)
    }

    /// A piece of text: decoded at once when the text ends here (the usual case, no copy), else
    /// kept until its last piece.
    fn text_piece(&mut self, raw: &[u8], pos: (u32, u32)) -> Result<(), Finding> {
        if !self.in_text && self.text_ends() {
            return self.text(raw, pos);
        }
        self.text_piece_parts(&[raw], pos)
    }

    fn text_piece_parts(&mut self, parts: &[&[u8]], pos: (u32, u32)) -> Result<(), Finding> {
        if !self.in_text {
            self.in_text = true;
            self.text_pos = pos;
            self.text.clear();
        }
        for p in parts {
            self.text.extend_from_slice(p);
        }
        if !self.text_ends() {
            return Ok(());
        }
        self.in_text = false;
        let text = std::mem::take(&mut self.text);
        let r = self.text(&text, self.text_pos);
        self.text = text;
        r
    }

    /// Whether the text read so far ends here: markup or the end of the input comes next.
    fn text_ends(&mut self) -> bool {
        matches!(self.xr.get_mut().window(1).0.first(), None | Some(b'<'))
    }

    /// A whole text (as written, references included) at `pos`.
    fn text(&mut self, raw: &[u8], pos: (u32, u32)) -> Result<(), Finding> {
        if self.state == State::InDomanda {
            // Between child elements white space needs no decoding nor storing.
            if !(self.tree.node(self.cur).first_child != NONE && is_ws(raw)) {
                let s = text_of(raw, pos)?;
                append_text(&mut self.tree, self.cur, &s, self.limits, pos)?;
            }
            return Ok(());
        }
        if is_ws(raw) {
            return Ok(());
        }
        utf8_or_fail(raw, pos)?;
        Err(if self.state == State::Root {
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
        })
    }

    /// The XML declaration: first, and UTF-8 if it names an encoding.
    fn decl(&mut self, d: &BytesDecl<'_>, was_first: bool, pos: (u32, u32)) -> Result<(), Finding> {
        if !was_first {
            return Err(file_finding(
                &rules::FIL_NON_BEN_FORMATO,
                "La dichiarazione XML (<?xml ...?>) deve trovarsi all'inizio del file.",
                pos,
                None,
            ));
        }
        match d.encoding() {
            None => Ok(()),
            Some(Ok(enc)) => {
                let e = enc.as_ref();
                if e.eq_ignore_ascii_case(b"UTF-8") || e.eq_ignore_ascii_case(b"UTF8") {
                    return Ok(());
                }
                let v = String::from_utf8_lossy(e).into_owned();
                Err(file_finding(
                    &rules::FIL_ENCODING,
                    format!("Codifica dichiarata '{v}' non ammessa: salvare il file in UTF-8 e dichiarare encoding=\"UTF-8\"."),
                    pos,
                    Some(&v),
                ))
            }
            Some(Err(e)) => Err(file_finding(
                &rules::FIL_NON_BEN_FORMATO,
                format!("Dichiarazione XML non valida ({e})."),
                pos,
                None,
            )),
        }
    }

    /// A CDATA section: text of a leaf inside a domanda, white space between domande.
    fn cdata(&mut self, c: &BytesCData<'_>, pos: (u32, u32)) -> Result<(), Finding> {
        let s = utf8_or_fail(c, pos)?;
        xml_chars_or_fail(s, pos)?;
        match self.state {
            State::InDomanda => append_text(&mut self.tree, self.cur, s, self.limits, pos),
            State::Root if is_ws(s.as_bytes()) => Ok(()),
            State::Root => Err(file_finding(
                &rules::FIL_CONTENUTO_RICHIESTA,
                "Testo non previsto tra le domande: RichiestaCIGO contiene solo elementi Domanda.",
                pos,
                None,
            )),
            _ => Err(file_finding(&rules::FIL_NON_BEN_FORMATO, "Sezione CDATA fuori dall'elemento radice.", pos, None)),
        }
    }

    fn start(&mut self, e: &BytesStart<'_>, ns_ok: bool, pos: (u32, u32)) -> Result<(), Finding> {
        let qname = e.name();
        let qname_str = utf8_or_fail(qname.as_ref(), pos)?;
        match self.state {
            State::Prolog => self.root(e, qname_str, ns_ok, pos),
            State::Epilog => Err(file_finding(
                &rules::FIL_NON_BEN_FORMATO,
                "Il file contiene più di un elemento radice: deve contenere un solo elemento RichiestaCIGO.",
                pos,
                Some(qname_str),
            )),
            State::Root => self.domanda(e, qname_str, ns_ok, pos),
            State::InDomanda => self.child(e, qname_str, ns_ok, pos),
        }
    }

    /// `<RichiestaCIGO versione="N">` in the namespace of version N.
    fn root(&mut self, e: &BytesStart<'_>, qname_str: &str, ns_ok: bool, pos: (u32, u32)) -> Result<(), Finding> {
        let ns = self.ns.resolve(e.name().as_ref());
        let Some(ns) = ns.filter(|_| ns_ok && e.local_name().as_ref() == b"RichiestaCIGO") else {
            return Err(file_finding(
                &rules::FIL_RADICE,
                format!("L'elemento radice deve essere RichiestaCIGO nel namespace {NAMESPACE} (tracciato versione 1) o {NAMESPACE_V2} (versione 2): trovato '{qname_str}'."),
                pos,
                Some(qname_str),
            ));
        };
        let mut versione: Option<String> = None;
        for a in e.attributes() {
            let a = a.map_err(|err| {
                file_finding(&rules::FIL_NON_BEN_FORMATO, format!("Attributo non valido ({err})."), pos, None)
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
            Some(v) if Versione::from_attr(v) == Some(ns) => {}
            Some(v) => {
                let msg = match Versione::from_attr(v) {
                    Some(altra) => format!(
                        "L'attributo versione=\"{v}\" non corrisponde al namespace {} (tracciato versione {ns}): per la versione {altra} usare il namespace {}.",
                        ns.namespace(),
                        altra.namespace()
                    ),
                    None => format!("Versione del tracciato '{v}' non supportata: con il namespace {} usare versione=\"{ns}\".", ns.namespace()),
                };
                return Err(file_finding(&rules::FIL_VERSIONE, msg, pos, Some(v)));
            }
            None => {
                return Err(file_finding(
                    &rules::FIL_VERSIONE,
                    format!(
                        "Manca l'attributo versione di RichiestaCIGO: con il namespace {} indicare versione=\"{ns}\".",
                        ns.namespace()
                    ),
                    pos,
                    None,
                ))
            }
        }
        self.ns.versione = Some(ns);
        self.tree.versione = ns;
        self.state = State::Root;
        self.depth = 1;
        Ok(())
    }

    /// `<Domanda>`, read by quick-xml: a new tree.
    fn domanda(&mut self, e: &BytesStart<'_>, qname_str: &str, ns_ok: bool, pos: (u32, u32)) -> Result<(), Finding> {
        if e.local_name().as_ref() != b"Domanda" || !ns_ok {
            return Err(file_finding(
                &rules::FIL_CONTENUTO_RICHIESTA,
                format!("Elemento '{qname_str}' non previsto in RichiestaCIGO: sono ammessi solo elementi Domanda."),
                pos,
                Some(qname_str),
            ));
        }
        self.n_domande += 1;
        let limits = self.limits;
        if limits.max_depth < 2 {
            return Err(too_deep(limits, pos, qname_str));
        }
        if self.n_domande as usize > limits.max_domande {
            return Err(file_finding(
                &rules::FIL_LIMITI,
                format!("La richiesta contiene più di {} domande: dividerla in più file.", limits.max_domande),
                pos,
                None,
            ));
        }
        self.tree.clear();
        self.cur = self.tree.push(NONE, Tag::Domanda, pos.0, pos.1);
        store_attrs(&mut self.tree, self.cur, e, pos)?;
        self.state = State::InDomanda;
        self.depth = 2;
        Ok(())
    }

    /// An element inside a domanda.
    fn child(&mut self, e: &BytesStart<'_>, qname_str: &str, ns_ok: bool, pos: (u32, u32)) -> Result<(), Finding> {
        let limits = self.limits;
        self.depth += 1;
        if self.depth > limits.max_depth {
            return Err(too_deep(limits, pos, qname_str));
        }
        if self.tree.len() >= limits.max_elements_per_domanda {
            return Err(file_finding(
                &rules::FIL_LIMITI,
                format!(
                    "La domanda {} contiene più di {} elementi: dividerla in più domande o file.",
                    self.n_domande, limits.max_elements_per_domanda
                ),
                pos,
                None,
            ));
        }
        let tag = if ns_ok { Tag::from_local(e.local_name().as_ref()) } else { Tag::Unknown };
        self.cur = open_child(&mut self.tree, self.cur, tag, qname_str, pos);
        store_attrs(&mut self.tree, self.cur, e, pos)
    }

    fn end<F: FnMut(&Tree, u32)>(&mut self, pos: (u32, u32), on_domanda: &mut F) -> Result<(), Finding> {
        match self.state {
            State::InDomanda => {
                self.depth -= 1;
                let parent = self.tree.node(self.cur).parent;
                if parent == NONE {
                    on_domanda(&self.tree, self.n_domande);
                    self.state = State::Root;
                }
                self.cur = parent;
                Ok(())
            }
            State::Root => {
                self.depth = 0;
                self.state = State::Epilog;
                Ok(())
            }
            _ => Err(file_finding(&rules::FIL_NON_BEN_FORMATO, "Tag di chiusura non atteso.", pos, None)),
        }
    }

    fn eof(&mut self, pos: (u32, u32)) -> Result<u32, Finding> {
        match self.state {
            State::Epilog if self.n_domande == 0 => Err(file_finding(
                &rules::FIL_NESSUNA_DOMANDA,
                "La richiesta non contiene alcuna domanda: inserire almeno un elemento Domanda.",
                pos,
                None,
            )),
            State::Epilog => Ok(self.n_domande),
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
        }
    }
}

fn too_deep(limits: &Limits, pos: (u32, u32), qname_str: &str) -> Finding {
    file_finding(
        &rules::FIL_LIMITI,
        format!("Annidamento degli elementi oltre {} livelli: il tracciato non lo prevede.", limits.max_depth),
        pos,
        Some(qname_str),
    )
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
