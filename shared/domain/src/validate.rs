//! Prevalidation: streams a richiesta one domanda at a time ([`crate::parse`]), maps each domanda to
//! the typed model collecting structural findings (layer STRUTTURA, what the XSD says), then, when
//! the structure is sound, runs the field (CAMPI) and coherence (COERENZA) rules on the typed model.
//! Layers are ordered as in Peppol's phive: a domanda with structural errors is not checked further
//! (it is already rejected; the user fixes the structure first).

use crate::archivio::{DatiArchivio, LavoratoreDomanda};
use crate::esito::{DomandaEsito, EsitoPrevalidazione};
use crate::finding::{Finding, Severity};
use crate::model::*;
use crate::parse::{self, NodeId, Tag, Tree};
use crate::rules::{self, RuleInfo};
use crate::{archivio, codice_fiscale as cf};
use chrono::NaiveDate;
use std::collections::{HashMap, HashSet};

mod quadri;

/// Id and version of the rule set.
pub const RULE_SET: &str = "cigo-regole/3";

/// Bounds that protect the service from hostile or broken files. Exceeding one is a file-level
/// failure (FIL-009).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Maximum element nesting (the root is depth 1).
    pub max_depth: usize,
    /// Maximum number of elements in one `<Domanda>` (itself included).
    pub max_elements_per_domanda: usize,
    /// Maximum length, in characters, of one text value.
    pub max_text_len: usize,
    /// Maximum number of domande in one richiesta.
    pub max_domande: usize,
    /// Findings kept per domanda; beyond it one AVVISO (COE-099) says the list was truncated.
    pub max_findings_per_domanda: usize,
    /// Findings kept per file: once reached, each further domanda keeps only its first ERRORE (so
    /// that its esito stays explained) and one AVVISO (COE-099) says the list was truncated.
    pub max_findings_per_file: usize,
    /// Filing date of the domanda, when known (the crate has no clock). It is the reference date for
    /// the 30 days of seniority (otherwise PeriodoDal) and enables the deadline rule (COE-055).
    pub data_presentazione: Option<NaiveDate>,
    /// Read plainly written domande with the parser's fast path (the default). Off only to
    /// compare the two ways of reading, which must give the same esito (tests, fuzzing).
    pub parser_fast_path: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 16,
            max_elements_per_domanda: 20_000,
            max_text_len: 4096,
            max_domande: 100_000,
            max_findings_per_domanda: 50,
            max_findings_per_file: 10_000,
            data_presentazione: None,
            parser_fast_path: true,
        }
    }
}

const MAX_VALUE_CHARS: usize = 200;

/// The offending value as reported in a finding: at most 200 characters.
pub(crate) fn truncate_value(s: &str) -> String {
    match s.char_indices().nth(MAX_VALUE_CHARS) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

/// Streams the file one domanda at a time (never the whole richiesta in memory) and runs every rule.
///
/// Never panics, whatever the bytes. A file-level failure gives `file_finding = Some(..)` (layer
/// FILE) and no domande.
pub fn prevalidate<R: std::io::BufRead>(reader: R, limits: &Limits) -> EsitoPrevalidazione {
    let mut domande = Vec::new();
    let mut overlap = OverlapIndex::default();
    let mut total = 0usize;
    let res = parse::stream(reader, limits, |tree, pos| {
        let mut d = validate_domanda(tree, pos, limits, &mut overlap);
        if total >= limits.max_findings_per_file && !d.findings.is_empty() {
            let n = d.findings.len();
            let first_error = d
                .findings
                .iter()
                .position(|f| f.severity == Severity::Errore);
            let mut kept: Vec<Finding> = first_error
                .map(|i| d.findings.swap_remove(i))
                .into_iter()
                .collect();
            if n > kept.len() {
                let mut f = rules::COE_SEGNALAZIONI_TRONCATE.finding(format!(
                    "Il file ha superato {} segnalazioni: per questa domanda ne sono omesse {}. Correggere le segnalazioni riportate e ripetere la prevalidazione.",
                    limits.max_findings_per_file,
                    n - kept.len()
                ));
                f.xpath = Some(format!("/RichiestaCIGO/Domanda[{pos}]"));
                f.line = Some(tree.node(0).line);
                f.column = Some(tree.node(0).column);
                kept.push(f);
            }
            d.findings = kept;
        }
        total += d.findings.len();
        domande.push(d);
    });
    match res {
        Ok(_) => EsitoPrevalidazione { file_finding: None, domande, rule_set: RULE_SET.to_string() },
        Err(f) => EsitoPrevalidazione { file_finding: Some(f), domande: Vec::new(), rule_set: RULE_SET.to_string() },
    }
}

/// (dal, al, progressivo) of a domanda already read.
type Visto = (NaiveDate, NaiveDate, u32);

/// Per richiesta: the periods seen so far for each (matricola, unità produttiva).
#[derive(Default)]
struct OverlapIndex {
    seen: HashMap<(String, String), Vec<Visto>>,
}

fn validate_domanda(tree: &Tree, pos: u32, limits: &Limits, overlap: &mut OverlapIndex) -> DomandaEsito {
    let mut cx = Cx { t: tree, dpos: pos, findings: Vec::new(), dates: Vec::new() };
    let mut ids = Ids::default();
    let mapped = map_domanda(&mut cx, &mut ids);
    if let Some(d) = &mapped {
        check_campi(&mut cx, d, &ids);
        quadri::check_campi(&mut cx, d, &ids);
        check_coerenza(&mut cx, d, &ids);
        quadri::check_coerenza(&mut cx, d, &ids, limits);
        check_overlap(&mut cx, d, &ids, overlap);
    }
    let summary = Summary::from_tree(tree);
    let archivio = mapped.as_ref().map(|d| dati_archivio(tree, d, &ids));
    let esito = DomandaEsito::esito_from(&cx.findings);
    let mut findings = cx.findings;
    if findings.len() > limits.max_findings_per_domanda {
        let total = findings.len();
        // Keep the errors first so that the esito stays explained.
        findings.sort_by_key(|f| f.severity != Severity::Errore);
        findings.truncate(limits.max_findings_per_domanda);
        let mut f = rules::COE_SEGNALAZIONI_TRONCATE.finding(format!(
            "La domanda ha {total} segnalazioni: sono riportate le prime {}. Correggere quelle indicate e ripetere la prevalidazione.",
            limits.max_findings_per_domanda
        ));
        f.xpath = Some(format!("/RichiestaCIGO/Domanda[{pos}]"));
        f.line = Some(tree.node(0).line);
        f.column = Some(tree.node(0).column);
        findings.push(f);
    }
    DomandaEsito {
        progressivo: pos,
        matricola: summary.matricola,
        codice_fiscale_azienda: summary.codice_fiscale,
        denominazione: summary.denominazione,
        unita_produttiva: summary.unita,
        periodo_dal: summary.dal,
        periodo_al: summary.al,
        esito,
        findings,
        archivio,
    }
}

/// What the archive rules (layer 5, `archivio::verifica`) need from a domanda that could be read.
fn dati_archivio(tree: &Tree, d: &Domanda, ids: &Ids) -> DatiArchivio {
    let listati = &d.lavoratori.lavoratori;
    let media_contrattuale = if listati.is_empty() {
        Ore::from_hours(40).0
    } else {
        listati
            .iter()
            .map(|l| l.ore_settimanali_contrattuali.0)
            .sum::<i64>()
            / listati.len() as i64
    };
    let attivita = d.azienda.attivita.as_deref().unwrap_or("").to_lowercase();
    let edile = d.unita_produttiva.cantiere.is_some()
        || ["edil", "lapid", "costruzion", "cava", "marm"]
            .iter()
            .any(|k| attivita.contains(k));
    DatiArchivio {
        ore_cig: d.periodo.totale_ore_cig,
        evento_non_evitabile: d.periodo.causale.oggettivamente_non_evitabile(),
        mesi_quinquennio: if edile { 30 } else { 24 },
        ore_lavorabili_settimanali: Ore(i64::from(d.azienda.lavoratori_in_forza).saturating_mul(media_contrattuale)),
        lavoratori: listati
            .iter()
            .zip(&ids.lavoratori)
            .zip(1u32..)
            .map(|((l, li), posizione)| {
                let n = tree.node(li.cf);
                LavoratoreDomanda {
                    codice_fiscale: l.codice_fiscale.clone(),
                    data_assunzione: l.data_assunzione,
                    posizione,
                    line: n.line,
                    column: n.column,
                }
            })
            .collect(),
    }
}

/// Keys of a domanda read straight from the tree (also when the structure is broken).
struct Summary {
    matricola: Option<String>,
    codice_fiscale: Option<String>,
    denominazione: Option<String>,
    unita: Option<String>,
    dal: Option<NaiveDate>,
    al: Option<NaiveDate>,
}

fn collapse(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for w in s.split_ascii_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(w);
    }
    out
}

impl Summary {
    fn from_tree(t: &Tree) -> Summary {
        let child = |p: NodeId, tag: Tag| t.children(p).find(|&c| t.node(c).tag == tag);
        let val = |p: Option<NodeId>, tag: Tag| {
            p.and_then(|p| child(p, tag))
                .map(|c| collapse(t.text(c)))
                .filter(|s| !s.is_empty())
        };
        let a = child(0, Tag::QuadroA);
        let b = child(0, Tag::QuadroB);
        let c = child(0, Tag::QuadroC);
        let unita = match (val(b, Tag::Cap), val(b, Tag::Comune), val(b, Tag::Indirizzo)) {
            (Some(cap), Some(comune), Some(ind)) => Some(unita_key(&cap, &comune, &ind)),
            _ => None,
        };
        Summary {
            matricola: val(a, Tag::Matricola).map(|s| truncate_value(&s)),
            codice_fiscale: val(a, Tag::CodiceFiscale).map(|s| truncate_value(&s)),
            denominazione: val(a, Tag::Denominazione).map(|s| truncate_value(&s)),
            unita: unita.map(|s| truncate_value(&s)),
            dal: val(c, Tag::PeriodoDal).and_then(|s| parse_date(&s)),
            al: val(c, Tag::PeriodoAl).and_then(|s| parse_date(&s)),
        }
    }
}

/// `YYYY-MM-DD` (the only lexical form the XSD pattern allows), surrounding white space ignored.
pub(crate) fn parse_date(s: &str) -> Option<NaiveDate> {
    let b = s.trim_matches(is_xml_ws).as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let mut v = 0u32;
        for &c in &b[r] {
            if !c.is_ascii_digit() {
                return None;
            }
            v = v * 10 + (c - b'0') as u32;
        }
        Some(v)
    };
    NaiveDate::from_ymd_opt(num(0..4)? as i32, num(5..7)?, num(8..10)?)
}

fn parse_uint(s: &str, max_digits: usize) -> Option<u32> {
    let b = s.trim_matches(is_xml_ws).as_bytes();
    if b.is_empty() || b.len() > max_digits || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    b.iter()
        .try_fold(0u32, |v, &c| v.checked_mul(10)?.checked_add((c - b'0') as u32))
}

/// "Cognome Nome" of a worker, formatted only when a message needs it.
struct Chi<'a>(&'a str, &'a str);

impl std::fmt::Display for Chi<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.0, self.1)
    }
}

/// Where the fields the rules look at are in the tree.
#[derive(Default)]
struct Ids {
    a_matricola: NodeId,
    a_cf: NodeId,
    a_provincia: NodeId,
    a_cap: NodeId,
    a_data_inizio: Option<NodeId>,
    a_in_forza: NodeId,
    b_provincia: NodeId,
    b_cap: NodeId,
    c_dal: NodeId,
    c_al: NodeId,
    c_settimane: NodeId,
    c_totale: NodeId,
    c_causale: NodeId,
    quadro_e: NodeId,
    righe: Vec<(NodeId, NodeId)>, // (Riga, TotaleInCIG)
    lavoratori: Vec<LavIds>,
    ore: Vec<NodeId>,
    q: quadri::IdsQ,
}

struct LavIds {
    cf: NodeId,
    qualifica: NodeId,
    ore: (usize, usize), // range in Ids::ore
    contrattuali: NodeId,
    assunzione: Option<NodeId>,
    iban: Option<NodeId>,
}

#[derive(Clone, Copy)]
struct Slot {
    first: Option<NodeId>,
    last: NodeId,
    count: u32,
}

const UNBOUNDED: u32 = u32::MAX;

struct Cx<'a> {
    t: &'a Tree,
    dpos: u32,
    findings: Vec<Finding>,
    /// Every date read, for the plausibility rule (CAM-011).
    dates: Vec<(NodeId, NaiveDate)>,
}

impl<'a> Cx<'a> {
    fn push(&mut self, rule: &RuleInfo, node: NodeId, xpath: String, message: String, value: Option<&str>) {
        let n = self.t.node(node);
        let mut f = rule.finding(message);
        f.xpath = Some(xpath);
        f.line = Some(n.line);
        f.column = Some(n.column);
        f.value = value.map(truncate_value);
        self.findings.push(f);
    }

    fn at(&mut self, rule: &RuleInfo, node: NodeId, message: String, value: Option<&str>) {
        let xp = self.t.xpath(node, self.dpos);
        self.push(rule, node, xp, message, value);
    }

    fn at_attr(&mut self, rule: &RuleInfo, node: NodeId, attr: &str, message: String, value: Option<&str>) {
        let xp = format!("{}/@{attr}", self.t.xpath(node, self.dpos));
        self.push(rule, node, xp, message, value);
    }

    fn name(&self, node: NodeId) -> &'a str {
        self.t.name(node)
    }

    /// Attributes other than `allowed` (namespace declarations and xsi:* aside) are STR-006.
    fn check_attrs(&mut self, node: NodeId, allowed: &[&str]) {
        let t = self.t;
        for (k, v) in t.attributes(node) {
            if allowed.contains(&k) || k == "xmlns" || k.starts_with("xmlns:") || k.starts_with("xsi:") {
                continue;
            }
            let msg = format!("L'attributo '{k}' non è previsto in {}: rimuoverlo.", self.name(node));
            self.at_attr(&rules::STR_ATTRIBUTO_NON_PREVISTO, node, k, msg, Some(v));
        }
    }

    /// Matches the children of `node` against a sequence (tag, minOccurs, maxOccurs), reporting
    /// unexpected, out-of-sequence, surplus and missing elements and non-white-space text.
    fn seq<const N: usize>(&mut self, node: NodeId, spec: &[(Tag, u32, u32); N]) -> [Slot; N] {
        let t = self.t;
        let mut out = [Slot { first: None, last: 0, count: 0 }; N];
        let mut at = 0usize;
        if t.node(node).mixed {
            let msg = format!("{} deve contenere solo elementi, non testo: rimuovere il testo.", self.name(node));
            self.at(&rules::STR_TESTO_NON_PREVISTO, node, msg, None);
        }
        for c in t.children(node) {
            let tag = t.node(c).tag;
            let found = if tag == Tag::Unknown { None } else { (at..N).find(|&j| spec[j].0 == tag) };
            match found {
                Some(j) if out[j].count < spec[j].2 => {
                    at = j;
                    let s = &mut out[j];
                    if s.first.is_none() {
                        s.first = Some(c);
                    }
                    s.last = c;
                    s.count += 1;
                }
                Some(j) => {
                    let msg = format!(
                        "L'elemento {} compare in {} più di {} volte: eliminare quelli in eccesso.",
                        spec[j].0.name(),
                        self.name(node),
                        spec[j].2
                    );
                    self.at(&rules::STR_NON_PREVISTO, c, msg, Some(self.name(c)));
                }
                None => {
                    let expected: Vec<&str> = spec.iter().map(|s| s.0.name()).collect();
                    let msg = format!(
                        "L'elemento '{}' non è previsto in questa posizione di {}: gli elementi ammessi, in quest'ordine, sono {}.",
                        self.name(c),
                        self.name(node),
                        expected.join(", ")
                    );
                    self.at(&rules::STR_NON_PREVISTO, c, msg, Some(self.name(c)));
                }
            }
        }
        for (j, s) in out.iter().enumerate() {
            if s.count < spec[j].1 {
                let xp = format!("{}/{}", t.xpath(node, self.dpos), spec[j].0.name());
                let msg = if spec[j].1 > 1 && s.count > 0 {
                    format!(
                        "{} deve contenere almeno {} elementi {}: aggiungere quelli mancanti.",
                        self.name(node),
                        spec[j].1,
                        spec[j].0.name()
                    )
                } else {
                    format!("Manca l'elemento obbligatorio {} in {}: inserirlo.", spec[j].0.name(), self.name(node))
                };
                self.push(&rules::STR_MANCANTE, node, xp, msg, None);
            }
        }
        out
    }

    /// Iterates the nodes matched by a repeated slot.
    fn each(&self, slot: Slot, tag: Tag) -> Vec<NodeId> {
        let mut v = Vec::with_capacity(slot.count as usize);
        let Some(first) = slot.first else { return v };
        let t = self.t;
        // Walk siblings from `first` to `last`, keeping the ones of this tag.
        let parent = t.node(first).parent;
        let mut started = false;
        for c in t.children(parent) {
            if c == first {
                started = true;
            }
            if started && t.node(c).tag == tag && v.len() < slot.count as usize {
                v.push(c);
            }
            if c == slot.last {
                break;
            }
        }
        v
    }

    /// The text of a leaf (an element with no children), checking it has no children nor attributes.
    fn leaf(&mut self, slot: Slot, attrs: &[&str]) -> Option<(NodeId, &'a str)> {
        let n = slot.first?;
        let t = self.t;
        for c in t.children(n) {
            let msg = format!(
                "L'elemento '{}' non è previsto in {}, che contiene solo un valore: rimuoverlo.",
                self.name(c),
                self.name(n)
            );
            self.at(&rules::STR_NON_PREVISTO, c, msg, Some(self.name(c)));
        }
        self.check_attrs(n, attrs);
        Some((n, t.text(n)))
    }

    fn bad_type(&mut self, node: NodeId, value: &str, what: &str) {
        let msg = format!("Il valore di {} non è valido: {what}.", self.name(node));
        self.at(&rules::STR_TIPO, node, msg, Some(value));
    }

    fn text(&mut self, slot: Slot, max: usize) -> Option<(NodeId, String)> {
        let (n, raw) = self.leaf(slot, &[])?;
        let v = collapse(raw);
        if v.is_empty() {
            self.bad_type(n, raw, "indicare un testo non vuoto");
            return None;
        }
        if v.chars().count() > max {
            self.bad_type(n, &v, &format!("il testo supera {max} caratteri, abbreviarlo"));
            return None;
        }
        Some((n, v))
    }

    fn opt_text(&mut self, slot: Slot, max: usize) -> Option<Option<String>> {
        if slot.count == 0 {
            return Some(None);
        }
        self.text(slot, max).map(|(_, s)| Some(s))
    }

    fn opt_text_id(&mut self, slot: Slot, max: usize) -> Option<Option<(NodeId, String)>> {
        if slot.count == 0 {
            return Some(None);
        }
        self.text(slot, max).map(Some)
    }

    fn opt_date(&mut self, slot: Slot) -> Option<Option<(NodeId, NaiveDate)>> {
        if slot.count == 0 {
            return Some(None);
        }
        self.date(slot).map(Some)
    }

    fn opt_uint(&mut self, slot: Slot) -> Option<Option<(NodeId, u32)>> {
        if slot.count == 0 {
            return Some(None);
        }
        self.uint(slot).map(Some)
    }

    fn importo(&mut self, slot: Slot) -> Option<(NodeId, Importo)> {
        let (n, raw) = self.leaf(slot, &[])?;
        match parse_importo(raw.trim_matches(is_xml_ws)) {
            Some(o) => Some((n, o)),
            None => {
                self.bad_type(
                    n,
                    raw,
                    "indicare un importo non negativo in euro con al massimo due decimali e il punto come separatore (es. 1250.50)",
                );
                None
            }
        }
    }

    fn opt_importo(&mut self, slot: Slot) -> Option<Option<(NodeId, Importo)>> {
        if slot.count == 0 {
            return Some(None);
        }
        self.importo(slot).map(Some)
    }

    fn opt_code<E: XmlCode>(&mut self, slot: Slot) -> Option<Option<(NodeId, E)>> {
        if slot.count == 0 {
            return Some(None);
        }
        self.code::<E>(slot).map(Some)
    }

    fn opt_ore(&mut self, slot: Slot) -> Option<Option<(NodeId, Ore)>> {
        if slot.count == 0 {
            return Some(None);
        }
        self.ore(slot, &[]).map(Some)
    }

    fn date(&mut self, slot: Slot) -> Option<(NodeId, NaiveDate)> {
        let (n, raw) = self.leaf(slot, &[])?;
        match parse_date(raw) {
            Some(d) => {
                self.dates.push((n, d));
                Some((n, d))
            }
            None => {
                self.bad_type(n, raw, "indicare una data esistente nel formato AAAA-MM-GG (es. 2026-01-05)");
                None
            }
        }
    }

    fn ore(&mut self, slot: Slot, attrs: &[&str]) -> Option<(NodeId, Ore)> {
        let (n, raw) = self.leaf(slot, attrs)?;
        match parse_ore(raw.trim_matches(is_xml_ws)) {
            Some(o) => Some((n, o)),
            None => {
                self.bad_type(
                    n,
                    raw,
                    "indicare un numero di ore non negativo con al massimo due decimali e il punto come separatore (es. 7.5)",
                );
                None
            }
        }
    }

    fn uint(&mut self, slot: Slot) -> Option<(NodeId, u32)> {
        let (n, raw) = self.leaf(slot, &[])?;
        match parse_uint(raw, 7) {
            Some(v) => Some((n, v)),
            None => {
                self.bad_type(n, raw, "indicare un numero intero non negativo (al massimo 7 cifre)");
                None
            }
        }
    }

    fn boolean_id(&mut self, slot: Slot) -> Option<(NodeId, bool)> {
        let n = slot.first?;
        self.boolean(slot).map(|b| (n, b))
    }

    fn boolean(&mut self, slot: Slot) -> Option<bool> {
        let (n, raw) = self.leaf(slot, &[])?;
        match raw.trim_matches(is_xml_ws) {
            "true" => Some(true),
            "false" => Some(false),
            _ => {
                self.bad_type(n, raw, "indicare true oppure false");
                None
            }
        }
    }

    fn code<E: XmlCode>(&mut self, slot: Slot) -> Option<(NodeId, E)> {
        let (n, raw) = self.leaf(slot, &[])?;
        let v = raw.trim_matches(is_xml_ws);
        match E::from_code(v) {
            Some(e) => Some((n, e)),
            None => {
                let msg = format!(
                    "Il valore '{v}' di {} non è ammesso: usare uno tra {}.",
                    self.name(n),
                    E::all()
                        .iter()
                        .map(|e| e.code())
                        .collect::<Vec<_>>()
                        .join(", ")
                );
                self.at(&rules::STR_ENUM, n, msg, Some(raw));
                None
            }
        }
    }

    fn attr_code<E: XmlCode>(&mut self, node: NodeId, name: &str) -> Option<E> {
        let t = self.t;
        let Some(raw) = t.attr(node, name) else {
            let msg = format!("Manca l'attributo obbligatorio {name} di {}: indicarlo.", self.name(node));
            self.at_attr(&rules::STR_ATTRIBUTO_MANCANTE, node, name, msg, None);
            return None;
        };
        let v = raw.trim_matches(is_xml_ws);
        match E::from_code(v) {
            Some(e) => Some(e),
            None => {
                let msg = format!(
                    "Il valore '{v}' dell'attributo {name} non è ammesso: usare uno tra {}.",
                    E::all()
                        .iter()
                        .map(|e| e.code())
                        .collect::<Vec<_>>()
                        .join(", ")
                );
                self.at_attr(&rules::STR_ENUM, node, name, msg, Some(raw));
                None
            }
        }
    }

    fn attr_uint(&mut self, node: NodeId, name: &str, digits: usize, min: u32, max: u32) -> Option<u32> {
        let t = self.t;
        let Some(raw) = t.attr(node, name) else {
            let msg = format!("Manca l'attributo obbligatorio {name} di {}: indicarlo.", self.name(node));
            self.at_attr(&rules::STR_ATTRIBUTO_MANCANTE, node, name, msg, None);
            return None;
        };
        match parse_uint(raw, digits).filter(|v| (min..=max).contains(v)) {
            Some(v) => Some(v),
            None => {
                let msg = format!("Il valore dell'attributo {name} deve essere un numero intero da {min} a {max}.");
                self.at_attr(&rules::STR_TIPO, node, name, msg, Some(raw));
                None
            }
        }
    }
}

const TESTO_MAX: usize = 200;
const DESCRIZIONE_MAX: usize = 2000;
const CODICE_MAX: usize = 20;

fn map_domanda(cx: &mut Cx<'_>, ids: &mut Ids) -> Option<Domanda> {
    let root: NodeId = 0;
    cx.check_attrs(root, &["progressivo"]);
    let progressivo = cx.attr_uint(root, "progressivo", 9, 1, 999_999_999);
    let s = cx.seq(
        root,
        &[
            (Tag::TipoDomanda, 1, 1),
            (Tag::QuadroA, 1, 1),
            (Tag::QuadroB, 1, 1),
            (Tag::QuadroC, 1, 1),
            (Tag::QuadroD, 0, 1),
            (Tag::QuadroE, 1, 1),
            (Tag::QuadroF, 0, 1),
            (Tag::QuadroG, 0, 1),
            (Tag::QuadroH, 0, 1),
            (Tag::QuadroI, 0, 1),
            (Tag::QuadroL, 0, 1),
            (Tag::QuadroM, 0, 1),
            (Tag::QuadroN, 0, 1),
            (Tag::QuadroO, 0, 1),
            (Tag::QuadroP, 0, 1),
            (Tag::QuadroQ, 0, 1),
            (Tag::QuadroR, 0, 1),
            (Tag::QuadroS, 0, 1),
            (Tag::QuadroT, 0, 1),
            (Tag::RelazioneTecnica, 0, 1),
            (Tag::Lavoratori, 1, 1),
        ],
    );
    let tipo = cx.code::<TipoDomanda>(s[0]).map(|(_, v)| v);
    let azienda = s[1].first.and_then(|n| map_azienda(cx, n, ids));
    let unita = s[2].first.and_then(|n| map_unita(cx, n, ids));
    let periodo = s[3].first.and_then(|n| map_periodo(cx, n, ids));
    let q = &mut ids.q;
    let quadro_d = quadri::opt_quadro(cx, s[4], q, quadri::map_d);
    let quadro_e = s[5].first.and_then(|n| map_quadro_e(cx, n, ids));
    let q = &mut ids.q;
    let quadro_f = quadri::opt_quadro(cx, s[6], q, quadri::map_f);
    let quadro_g = quadri::opt_quadro(cx, s[7], q, quadri::map_g);
    let quadro_h = quadri::opt_quadro(cx, s[8], q, quadri::map_h);
    let quadro_i = quadri::opt_quadro(cx, s[9], q, quadri::map_i);
    let quadro_l = quadri::opt_quadro(cx, s[10], q, quadri::map_l);
    let quadro_m = quadri::opt_quadro(cx, s[11], q, quadri::map_m);
    let quadro_n = quadri::opt_quadro(cx, s[12], q, quadri::map_n);
    let quadro_o = quadri::opt_quadro(cx, s[13], q, quadri::map_o);
    let quadro_p = quadri::opt_quadro(cx, s[14], q, quadri::map_p);
    let quadro_q = quadri::opt_quadro(cx, s[15], q, quadri::map_q);
    let quadro_r = quadri::opt_quadro(cx, s[16], q, quadri::map_r);
    let quadro_s = quadri::opt_quadro(cx, s[17], q, quadri::map_s);
    let quadro_t = quadri::opt_quadro(cx, s[18], q, quadri::map_t);
    let relazione = quadri::opt_quadro(cx, s[19], q, quadri::map_relazione);
    let lavoratori = s[20].first.and_then(|n| map_lavoratori(cx, n, ids));
    let d = Domanda {
        progressivo: progressivo?,
        tipo: tipo?,
        azienda: azienda?,
        unita_produttiva: unita?,
        periodo: periodo?,
        quadro_d: quadro_d?,
        quadro_e: quadro_e?,
        quadro_f: quadro_f?,
        quadro_g: quadro_g?,
        quadro_h: quadro_h?,
        quadro_i: quadro_i?,
        quadro_l: quadro_l?,
        quadro_m: quadro_m?,
        quadro_n: quadro_n?,
        quadro_o: quadro_o?,
        quadro_p: quadro_p?,
        quadro_q: quadro_q?,
        quadro_r: quadro_r?,
        quadro_s: quadro_s?,
        quadro_t: quadro_t?,
        relazione: relazione?,
        lavoratori: lavoratori?,
    };
    if cx.findings.is_empty() {
        Some(d)
    } else {
        None
    }
}

fn map_azienda(cx: &mut Cx<'_>, n: NodeId, ids: &mut Ids) -> Option<Azienda> {
    cx.check_attrs(n, &[]);
    let s = cx.seq(
        n,
        &[
            (Tag::Matricola, 1, 1),
            (Tag::CodiceFiscale, 1, 1),
            (Tag::Denominazione, 1, 1),
            (Tag::Indirizzo, 1, 1),
            (Tag::Comune, 1, 1),
            (Tag::Provincia, 1, 1),
            (Tag::Cap, 1, 1),
            (Tag::Telefono, 0, 1),
            (Tag::Cellulare, 0, 1),
            (Tag::Email, 0, 1),
            (Tag::Fax, 0, 1),
            (Tag::Attivita, 0, 1),
            (Tag::DataInizioAttivita, 0, 1),
            (Tag::LavoratoriInForza, 1, 1),
        ],
    );
    let matricola = cx.text(s[0], CODICE_MAX);
    let codice_fiscale = cx.text(s[1], CODICE_MAX);
    let denominazione = cx.text(s[2], TESTO_MAX);
    let indirizzo = cx.text(s[3], TESTO_MAX);
    let comune = cx.text(s[4], TESTO_MAX);
    let provincia = cx.text(s[5], CODICE_MAX);
    let cap = cx.text(s[6], CODICE_MAX);
    let telefono = cx.opt_text_id(s[7], CODICE_MAX);
    let cellulare = cx.opt_text_id(s[8], CODICE_MAX);
    let email = cx.opt_text_id(s[9], TESTO_MAX);
    let fax = cx.opt_text_id(s[10], CODICE_MAX);
    let attivita = cx.opt_text(s[11], TESTO_MAX);
    let data_inizio = if s[12].count == 0 { Some(None) } else { cx.date(s[12]).map(Some) };
    let in_forza = cx.uint(s[13]);
    let (telefono, cellulare, email, fax) = (telefono?, cellulare?, email?, fax?);
    ids.q.a_contatti = [telefono.as_ref(), cellulare.as_ref(), email.as_ref(), fax.as_ref()].map(|o| o.map(|v| v.0));
    let (m, c, p, k, f) = (matricola?, codice_fiscale?, provincia?, cap?, in_forza?);
    ids.a_matricola = m.0;
    ids.a_cf = c.0;
    ids.a_provincia = p.0;
    ids.a_cap = k.0;
    ids.a_in_forza = f.0;
    let data_inizio = data_inizio?;
    ids.a_data_inizio = data_inizio.map(|(n, _)| n);
    Some(Azienda {
        matricola: m.1,
        codice_fiscale: c.1,
        denominazione: denominazione?.1,
        indirizzo: indirizzo?.1,
        comune: comune?.1,
        provincia: p.1,
        cap: k.1,
        telefono: telefono.map(|v| v.1),
        cellulare: cellulare.map(|v| v.1),
        email: email.map(|v| v.1),
        fax: fax.map(|v| v.1),
        attivita: attivita?,
        data_inizio_attivita: data_inizio.map(|(_, d)| d),
        lavoratori_in_forza: f.1,
    })
}

fn map_unita(cx: &mut Cx<'_>, n: NodeId, ids: &mut Ids) -> Option<UnitaProduttiva> {
    cx.check_attrs(n, &[]);
    let s = cx.seq(
        n,
        &[(Tag::Indirizzo, 1, 1), (Tag::Comune, 1, 1), (Tag::Provincia, 1, 1), (Tag::Cap, 1, 1), (Tag::Cantiere, 0, 1)],
    );
    let indirizzo = cx.text(s[0], TESTO_MAX);
    let comune = cx.text(s[1], TESTO_MAX);
    let provincia = cx.text(s[2], CODICE_MAX);
    let cap = cx.text(s[3], CODICE_MAX);
    let cantiere = quadri::opt_quadro(cx, s[4], &mut ids.q, quadri::map_cantiere);
    let (p, k) = (provincia?, cap?);
    ids.b_provincia = p.0;
    ids.b_cap = k.0;
    ids.q.b = n;
    Some(UnitaProduttiva { indirizzo: indirizzo?.1, comune: comune?.1, provincia: p.1, cap: k.1, cantiere: cantiere? })
}

fn map_periodo(cx: &mut Cx<'_>, n: NodeId, ids: &mut Ids) -> Option<Periodo> {
    cx.check_attrs(n, &[]);
    let s = cx.seq(
        n,
        &[
            (Tag::PeriodoDal, 1, 1),
            (Tag::PeriodoAl, 1, 1),
            (Tag::NumeroSettimane, 1, 1),
            (Tag::TotaleOreCIG, 1, 1),
            (Tag::Causale, 1, 1),
            (Tag::DescrizioneCausale, 0, 1),
            (Tag::ConsultazioneSindacale, 1, 1),
        ],
    );
    let dal = cx.date(s[0]);
    let al = cx.date(s[1]);
    let settimane = cx.uint(s[2]);
    let totale = cx.ore(s[3], &[]);
    let causale = cx.code::<Causale>(s[4]);
    let descrizione = cx.opt_text(s[5], DESCRIZIONE_MAX);
    let consultazione = cx.boolean(s[6]);
    let (dal, al, settimane, totale, causale) = (dal?, al?, settimane?, totale?, causale?);
    ids.c_dal = dal.0;
    ids.c_al = al.0;
    ids.c_settimane = settimane.0;
    ids.c_totale = totale.0;
    ids.c_causale = causale.0;
    Some(Periodo {
        dal: dal.1,
        al: al.1,
        numero_settimane: settimane.1,
        totale_ore_cig: totale.1,
        causale: causale.1,
        descrizione_causale: descrizione?,
        consultazione_sindacale: consultazione?,
    })
}

fn map_quadro_e(cx: &mut Cx<'_>, n: NodeId, ids: &mut Ids) -> Option<QuadroE> {
    cx.check_attrs(n, &[]);
    ids.quadro_e = n;
    let s = cx.seq(n, &[(Tag::Riga, 1, 8)]);
    let mut righe = Vec::with_capacity(s[0].count as usize);
    let mut ok = true;
    for r in cx.each(s[0], Tag::Riga) {
        cx.check_attrs(r, &["tipoOrario", "qualifica"]);
        let tipo = cx.attr_code::<TipoOrario>(r, "tipoOrario");
        let qual = cx.attr_code::<QualificaE>(r, "qualifica");
        let f = cx.seq(
            r,
            &[(Tag::InForza, 1, 1), (Tag::Sospesi, 1, 1), (Tag::OrarioRidotto, 1, 1), (Tag::TotaleInCIG, 1, 1)],
        );
        let in_forza = cx.uint(f[0]);
        let sospesi = cx.uint(f[1]);
        let ridotto = cx.uint(f[2]);
        let totale = cx.uint(f[3]);
        match (tipo, qual, in_forza, sospesi, ridotto, totale) {
            (Some(t), Some(q), Some(a), Some(b), Some(c), Some(d)) => {
                ids.righe.push((r, d.0));
                righe.push(RigaE {
                    tipo_orario: t,
                    qualifica: q,
                    in_forza: a.1,
                    sospesi: b.1,
                    orario_ridotto: c.1,
                    totale_in_cig: d.1,
                });
            }
            _ => ok = false,
        }
    }
    (ok && !righe.is_empty()).then_some(QuadroE { righe })
}

fn map_lavoratori(cx: &mut Cx<'_>, n: NodeId, ids: &mut Ids) -> Option<Lavoratori> {
    cx.check_attrs(n, &[]);
    let s = cx.seq(n, &[(Tag::Lavoratore, 1, UNBOUNDED)]);
    let mut out = Vec::with_capacity(s[0].count as usize);
    let mut ok = true;
    for l in cx.each(s[0], Tag::Lavoratore) {
        match map_lavoratore(cx, l, ids) {
            Some(v) => out.push(v),
            None => ok = false,
        }
    }
    (ok && !out.is_empty()).then_some(Lavoratori { lavoratori: out })
}

fn map_lavoratore(cx: &mut Cx<'_>, n: NodeId, ids: &mut Ids) -> Option<Lavoratore> {
    cx.check_attrs(n, &[]);
    let s = cx.seq(
        n,
        &[
            (Tag::CodiceFiscale, 1, 1),
            (Tag::Cognome, 1, 1),
            (Tag::Nome, 1, 1),
            (Tag::Qualifica, 1, 1),
            (Tag::TipoOrario, 1, 1),
            (Tag::OreSettimanaliContrattuali, 1, 1),
            (Tag::DataAssunzione, 0, 1),
            (Tag::Iban, 0, 1),
            (Tag::OreCIG, 1, 13),
        ],
    );
    let cf = cx.text(s[0], CODICE_MAX);
    let cognome = cx.text(s[1], TESTO_MAX);
    let nome = cx.text(s[2], TESTO_MAX);
    let qualifica = cx.code::<Qualifica>(s[3]);
    let tipo = cx.code::<TipoOrario>(s[4]);
    let contr = cx.ore(s[5], &[]);
    let assunzione = cx.opt_date(s[6]);
    let iban = cx.opt_text_id(s[7], TESTO_MAX);
    let start = ids.ore.len();
    let mut ore = Vec::with_capacity(s[8].count as usize);
    let mut ok = true;
    for o in cx.each(s[8], Tag::OreCIG) {
        let settimana = cx.attr_uint(o, "settimana", 2, 1, 13);
        let slot = Slot { first: Some(o), last: o, count: 1 };
        let v = cx.ore(slot, &["settimana"]);
        match (settimana, v) {
            (Some(k), Some((_, h))) => {
                ids.ore.push(o);
                ore.push(OreSettimana { settimana: k, ore: h });
            }
            _ => ok = false,
        }
    }
    let (cf, qualifica, contr, assunzione, iban) = (cf?, qualifica?, contr?, assunzione?, iban?);
    if !ok {
        return None;
    }
    ids.lavoratori.push(LavIds {
        cf: cf.0,
        qualifica: qualifica.0,
        ore: (start, ids.ore.len()),
        contrattuali: contr.0,
        assunzione: assunzione.map(|v| v.0),
        iban: iban.as_ref().map(|v| v.0),
    });
    Some(Lavoratore {
        codice_fiscale: cf.1,
        cognome: cognome?.1,
        nome: nome?.1,
        qualifica: qualifica.1,
        tipo_orario: tipo?.1,
        ore_settimanali_contrattuali: contr.1,
        data_assunzione: assunzione.map(|v| v.1),
        iban: iban.map(|v| v.1),
        ore_cig: ore,
    })
}

fn check_campi(cx: &mut Cx<'_>, d: &Domanda, ids: &Ids) {
    let a = &d.azienda;
    if !is_matricola(&a.matricola) {
        cx.at(
            &rules::CAM_MATRICOLA,
            ids.a_matricola,
            "La matricola INPS dell'azienda deve essere composta da 10 cifre: correggerla.".into(),
            Some(&a.matricola),
        );
    }
    let cf_ok = if a.codice_fiscale.len() == 16 {
        cf::is_valid_codice_fiscale_persona(&a.codice_fiscale)
    } else {
        cf::is_valid_codice_fiscale_azienda(&a.codice_fiscale)
    };
    if !cf_ok {
        cx.at(
            &rules::CAM_CF_AZIENDA,
            ids.a_cf,
            "Il codice fiscale dell'azienda non è valido: indicare 11 cifre con la cifra di controllo corretta (o il codice fiscale di 16 caratteri del titolare di ditta individuale).".into(),
            Some(&a.codice_fiscale),
        );
    }
    for (prov, node) in [(&a.provincia, ids.a_provincia), (&d.unita_produttiva.provincia, ids.b_provincia)] {
        if !is_provincia(prov) {
            cx.at(
                &rules::CAM_PROVINCIA,
                node,
                format!("'{prov}' non è la sigla di una provincia italiana: indicare la sigla di due lettere maiuscole (es. RM, MI)."),
                Some(prov),
            );
        }
    }
    for (cap, node) in [(&a.cap, ids.a_cap), (&d.unita_produttiva.cap, ids.b_cap)] {
        if !is_cap(cap) {
            cx.at(&rules::CAM_CAP, node, "Il CAP deve essere composto da 5 cifre: correggerlo.".into(), Some(cap));
        }
    }
    for (l, li) in d.lavoratori.lavoratori.iter().zip(&ids.lavoratori) {
        if !cf::is_valid_codice_fiscale_persona(&l.codice_fiscale) {
            cx.at(
                &rules::CAM_CF_PERSONA,
                li.cf,
                format!(
                    "Il codice fiscale del lavoratore {} {} non è valido (struttura o carattere di controllo): verificarlo sulla tessera sanitaria.",
                    l.cognome, l.nome
                ),
                Some(&l.codice_fiscale),
            );
        }
    }
}

fn check_coerenza(cx: &mut Cx<'_>, d: &Domanda, ids: &Ids) {
    let p = &d.periodo;
    let fmt = |d: NaiveDate| d.format("%d/%m/%Y").to_string();
    let ordinato = p.dal <= p.al;
    let settimane = p.settimane();
    if cx.dpos != d.progressivo {
        cx.at_attr(
            &rules::COE_PROGRESSIVO,
            0,
            "progressivo",
            format!(
                "Il progressivo {} non corrisponde alla posizione della domanda nel file ({}): numerare le domande 1, 2, 3, ... nell'ordine del file.",
                d.progressivo, cx.dpos
            ),
            Some(&d.progressivo.to_string()),
        );
    }
    if !ordinato {
        cx.at(
            &rules::COE_PERIODO_INVERTITO,
            ids.c_al,
            format!(
                "Il periodo termina il {} prima di iniziare il {}: correggere PeriodoDal o PeriodoAl.",
                fmt(p.al),
                fmt(p.dal)
            ),
            Some(&p.al.to_string()),
        );
    } else {
        if settimane > 13 {
            cx.at(
                &rules::COE_MAX_13_SETTIMANE,
                ids.c_al,
                format!(
                    "Il periodo dal {} al {} copre {settimane} settimane: una domanda può riguardare al massimo 13 settimane consecutive; per il periodo successivo presentare una domanda di proroga.",
                    fmt(p.dal),
                    fmt(p.al)
                ),
                Some(&p.al.to_string()),
            );
        }
        if p.numero_settimane != settimane {
            cx.at(
                &rules::COE_NUMERO_SETTIMANE,
                ids.c_settimane,
                format!(
                    "NumeroSettimane vale {} ma il periodo dal {} al {} copre {settimane} settimane: correggere il numero di settimane.",
                    p.numero_settimane,
                    fmt(p.dal),
                    fmt(p.al)
                ),
                Some(&p.numero_settimane.to_string()),
            );
        }
    }
    if let (Some(inizio), Some(node)) = (d.azienda.data_inizio_attivita, ids.a_data_inizio) {
        if inizio > p.dal {
            cx.at(
                &rules::COE_INIZIO_ATTIVITA,
                node,
                format!(
                    "L'attività risulta iniziata il {}, dopo l'inizio del periodo di CIG ({}): verificare le date.",
                    fmt(inizio),
                    fmt(p.dal)
                ),
                Some(&inizio.to_string()),
            );
        }
    }
    if p.causale.richiede_descrizione() && p.descrizione_causale.is_none() {
        cx.at(
            &rules::COE_CAUSALE_ALTRO,
            ids.c_causale,
            "Con la causale ALTRO occorre descrivere l'evento in DescrizioneCausale: aggiungere la descrizione.".into(),
            Some(p.causale.as_str()),
        );
    }

    // Workers, week by week.
    let quaranta = Ore::from_hours(40);
    let mut totale = 0i64;
    let mut visti: HashSet<String> = HashSet::with_capacity(d.lavoratori.lavoratori.len());
    let mut conteggio: HashMap<(TipoOrario, QualificaE), u32> = HashMap::new();
    for (l, li) in d.lavoratori.lavoratori.iter().zip(&ids.lavoratori) {
        let chi = Chi(&l.cognome, &l.nome);
        if !visti.insert(l.codice_fiscale.to_ascii_uppercase()) {
            cx.at(
                &rules::COE_LAVORATORE_DOPPIO,
                li.cf,
                format!(
                    "Il lavoratore {chi} ({}) compare più volte: indicarlo una sola volta, con tutte le sue settimane.",
                    l.codice_fiscale
                ),
                Some(&l.codice_fiscale),
            );
        }
        match l.qualifica.riga_e() {
            Some(q) => *conteggio.entry((l.tipo_orario, q)).or_default() += 1,
            None => cx.at(
                &rules::COE_DIRIGENTE,
                li.qualifica,
                format!("Il lavoratore {chi} è un dirigente: i dirigenti non possono essere posti in CIG, toglierlo dall'elenco."),
                Some(l.qualifica.as_str()),
            ),
        }
        let mut settimane_viste = 0u32;
        for (o, &node) in l.ore_cig.iter().zip(&ids.ore[li.ore.0..li.ore.1]) {
            totale += o.ore.0;
            if o.ore > quaranta {
                cx.at(
                    &rules::COE_ORE_40,
                    node,
                    format!(
                        "Per il lavoratore {chi} nella settimana {} sono indicate {} ore di CIG: il massimo è 40 ore settimanali.",
                        o.settimana, o.ore
                    ),
                    Some(&o.ore.to_string()),
                );
            } else if o.ore > l.ore_settimanali_contrattuali {
                cx.at(
                    &rules::COE_ORE_CONTRATTUALI,
                    node,
                    format!(
                        "Per il lavoratore {chi} nella settimana {} sono indicate {} ore di CIG, più delle {} ore settimanali contrattuali: ridurle.",
                        o.settimana, o.ore, l.ore_settimanali_contrattuali
                    ),
                    Some(&o.ore.to_string()),
                );
            }
            if ordinato && o.settimana > settimane {
                cx.at_attr(
                    &rules::COE_SETTIMANA_FUORI_PERIODO,
                    node,
                    "settimana",
                    format!(
                        "Per il lavoratore {chi} sono indicate ore nella settimana {}, ma il periodo comprende {settimane} settimane: correggere il numero della settimana o il periodo.",
                        o.settimana
                    ),
                    Some(&o.settimana.to_string()),
                );
            }
            let bit = 1u32 << o.settimana.min(31);
            if settimane_viste & bit != 0 {
                cx.at_attr(
                    &rules::COE_SETTIMANA_DOPPIA,
                    node,
                    "settimana",
                    format!(
                        "Per il lavoratore {chi} la settimana {} è indicata più volte: indicare le ore di ogni settimana una sola volta.",
                        o.settimana
                    ),
                    Some(&o.settimana.to_string()),
                );
            }
            settimane_viste |= bit;
        }
    }
    if totale != p.totale_ore_cig.0 {
        cx.at(
            &rules::COE_TOTALE_ORE,
            ids.c_totale,
            format!(
                "TotaleOreCIG vale {} ma la somma delle ore dei lavoratori è {}: correggere il totale (per il calcolo valgono le ore dei lavoratori).",
                p.totale_ore_cig,
                Ore(totale)
            ),
            Some(&p.totale_ore_cig.to_string()),
        );
    }

    // Quadro E.
    let mut righe_viste: HashMap<(TipoOrario, QualificaE), usize> = HashMap::new();
    let mut forza_e = 0u64;
    for (i, (r, &(rnode, tnode))) in d.quadro_e.righe.iter().zip(&ids.righe).enumerate() {
        forza_e += r.in_forza as u64;
        let k = (r.tipo_orario, r.qualifica);
        if let std::collections::hash_map::Entry::Vacant(v) = righe_viste.entry(k) {
            v.insert(i);
        } else {
            cx.at(
                &rules::COE_QUADRO_E_DOPPIA,
                rnode,
                format!(
                    "Il quadro E contiene più righe per {} / {}: riunirle in una sola riga.",
                    r.tipo_orario, r.qualifica
                ),
                None,
            );
        }
        if r.totale_in_cig as u64 != r.sospesi as u64 + r.orario_ridotto as u64 || r.totale_in_cig > r.in_forza {
            cx.at(
                &rules::COE_QUADRO_E_RIGA,
                tnode,
                format!(
                    "Riga {} / {} del quadro E: il totale in CIG ({}) deve essere uguale a sospesi ({}) + orario ridotto ({}) e non superiore ai lavoratori in forza ({}).",
                    r.tipo_orario, r.qualifica, r.totale_in_cig, r.sospesi, r.orario_ridotto, r.in_forza
                ),
                Some(&r.totale_in_cig.to_string()),
            );
        }
    }
    for &t in TipoOrario::ALL {
        for &q in QualificaE::ALL {
            let contati = conteggio.get(&(t, q)).copied().unwrap_or(0);
            let riga = righe_viste.get(&(t, q)).copied();
            let dichiarati = riga.map(|i| d.quadro_e.righe[i].totale_in_cig).unwrap_or(0);
            if contati != dichiarati {
                let msg = format!(
                    "Il quadro E indica {dichiarati} lavoratori in CIG con tipo orario {t} e qualifica {q}, ma l'elenco dei lavoratori ne contiene {contati}: correggere il quadro E o l'elenco."
                );
                match riga {
                    Some(i) => {
                        cx.at(&rules::COE_QUADRO_E_LAVORATORI, ids.righe[i].1, msg, Some(&dichiarati.to_string()))
                    }
                    None => cx.at(&rules::COE_QUADRO_E_LAVORATORI, ids.quadro_e, msg, None),
                }
            }
        }
    }
    if forza_e > d.azienda.lavoratori_in_forza as u64 {
        cx.at(
            &rules::COE_FORZA_AZIENDA,
            ids.a_in_forza,
            format!(
                "L'azienda dichiara {} lavoratori in forza, ma il quadro E ne indica {forza_e} nell'unità produttiva: verificare i due dati.",
                d.azienda.lavoratori_in_forza
            ),
            Some(&d.azienda.lavoratori_in_forza.to_string()),
        );
    }
}

fn check_overlap(cx: &mut Cx<'_>, d: &Domanda, ids: &Ids, idx: &mut OverlapIndex) {
    let p = &d.periodo;
    if p.dal > p.al {
        return;
    }
    let key = (d.azienda.matricola.clone(), d.unita_produttiva.key());
    let entry = idx.seen.entry(key).or_default();
    if let Some(&(dal, al, prog)) = entry
        .iter()
        .find(|(dal, al, _)| archivio::periodi_sovrapposti(*dal, *al, p.dal, p.al))
    {
        cx.at(
            &rules::COE_DOMANDE_SOVRAPPOSTE,
            ids.c_dal,
            format!(
                "Il periodo si sovrappone a quello della domanda {prog} della stessa richiesta (dal {} al {}) per la stessa matricola e unità produttiva: unire le due domande o correggere i periodi.",
                dal.format("%d/%m/%Y"),
                al.format("%d/%m/%Y")
            ),
            Some(&prog.to_string()),
        );
    }
    entry.push((p.dal, p.al, cx.dpos));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation() {
        let long = "é".repeat(300);
        let t = truncate_value(&long);
        assert_eq!(t.chars().count(), 201);
        assert_eq!(truncate_value("abc"), "abc");
    }

    #[test]
    fn dates() {
        assert_eq!(parse_date(" 2026-01-05 "), NaiveDate::from_ymd_opt(2026, 1, 5));
        assert_eq!(parse_date("2026-02-30"), None);
        assert_eq!(parse_date("2026-1-05"), None);
        assert_eq!(parse_date("2026-01-05Z"), None);
    }
}
