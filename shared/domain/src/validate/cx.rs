//! What every rule of a domanda uses: the context that collects findings at a node of the tree
//! ([`Cx`]), the typed readers of leaves and attributes (layer STRUTTURA's type checks), and the
//! lexical forms of dates and integers.

use crate::finding::{truncate_value, Finding};
use crate::model::*;
use crate::parse::{NodeId, Tag, Tree};
use crate::rules::{self, RuleInfo};
use chrono::NaiveDate;

pub(super) fn collapse(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for w in s.split_ascii_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(w);
    }
    out
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

pub(super) fn parse_uint(s: &str, max_digits: usize) -> Option<u32> {
    let b = s.trim_matches(is_xml_ws).as_bytes();
    if b.is_empty() || b.len() > max_digits || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    b.iter()
        .try_fold(0u32, |v, &c| v.checked_mul(10)?.checked_add((c - b'0') as u32))
}

/// "Cognome Nome" of a worker, formatted only when a message needs it.
pub(super) struct Chi<'a>(pub &'a str, pub &'a str);

impl std::fmt::Display for Chi<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.0, self.1)
    }
}

#[derive(Clone, Copy)]
pub(super) struct Slot {
    pub first: Option<NodeId>,
    pub last: NodeId,
    pub count: u32,
}

pub(super) const UNBOUNDED: u32 = u32::MAX;

pub(super) struct Cx<'a> {
    pub t: &'a Tree,
    pub dpos: u32,
    pub findings: Vec<Finding>,
    /// Every date read, for the plausibility rule (CAM-011).
    pub dates: Vec<(NodeId, NaiveDate)>,
}

impl<'a> Cx<'a> {
    pub(super) fn push(&mut self, rule: &RuleInfo, node: NodeId, xpath: String, message: String, value: Option<&str>) {
        let n = self.t.node(node);
        let mut f = rule.finding(message);
        f.xpath = Some(xpath);
        f.line = Some(n.line);
        f.column = Some(n.column);
        f.value = value.map(truncate_value);
        self.findings.push(f);
    }

    pub(super) fn at(&mut self, rule: &RuleInfo, node: NodeId, message: String, value: Option<&str>) {
        let xp = self.t.xpath(node, self.dpos);
        self.push(rule, node, xp, message, value);
    }

    pub(super) fn at_attr(&mut self, rule: &RuleInfo, node: NodeId, attr: &str, message: String, value: Option<&str>) {
        let xp = format!("{}/@{attr}", self.t.xpath(node, self.dpos));
        self.push(rule, node, xp, message, value);
    }

    pub(super) fn name(&self, node: NodeId) -> &'a str {
        self.t.name(node)
    }

    /// Attributes other than `allowed` (namespace declarations and xsi:* aside) are STR-006.
    pub(super) fn check_attrs(&mut self, node: NodeId, allowed: &[&str]) {
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
    pub(super) fn seq<const N: usize>(&mut self, node: NodeId, spec: &[(Tag, u32, u32); N]) -> [Slot; N] {
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
                // Max 0: an element of another version of the tracciato, recorded for the
                // caller to report (see `struttura::solo_v2`).
                Some(j) if spec[j].2 == 0 && out[j].count == 0 => {
                    at = j;
                    out[j] = Slot { first: Some(c), last: c, count: 1 };
                }
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
                    let expected: Vec<&str> = spec
                        .iter()
                        .filter(|s| s.2 > 0)
                        .map(|s| s.0.name())
                        .collect();
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
    pub(super) fn each(&self, slot: Slot, tag: Tag) -> Vec<NodeId> {
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
    pub(super) fn leaf(&mut self, slot: Slot, attrs: &[&str]) -> Option<(NodeId, &'a str)> {
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

    pub(super) fn bad_type(&mut self, node: NodeId, value: &str, what: &str) {
        let msg = format!("Il valore di {} non è valido: {what}.", self.name(node));
        self.at(&rules::STR_TIPO, node, msg, Some(value));
    }

    /// The value of a leaf as `parse` reads its text; when it does not, a finding (STR-TIPO) that
    /// says `hint`.
    fn typed<T>(
        &mut self,
        slot: Slot,
        attrs: &[&str],
        parse: impl FnOnce(&str) -> Option<T>,
        hint: &str,
    ) -> Option<(NodeId, T)> {
        let (n, raw) = self.leaf(slot, attrs)?;
        match parse(raw) {
            Some(v) => Some((n, v)),
            None => {
                self.bad_type(n, raw, hint);
                None
            }
        }
    }

    /// An optional element: `None` when absent, else what `read` makes of it (itself `None` when
    /// invalid, with its finding).
    fn opt<T>(&mut self, slot: Slot, read: impl FnOnce(&mut Self, Slot) -> Option<T>) -> Option<Option<T>> {
        if slot.count == 0 {
            return Some(None);
        }
        read(self, slot).map(Some)
    }

    pub(super) fn text(&mut self, slot: Slot, max: usize) -> Option<(NodeId, String)> {
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

    pub(super) fn opt_text(&mut self, slot: Slot, max: usize) -> Option<Option<String>> {
        self.opt(slot, |cx, slot| cx.text(slot, max).map(|(_, s)| s))
    }

    pub(super) fn opt_text_id(&mut self, slot: Slot, max: usize) -> Option<Option<(NodeId, String)>> {
        self.opt(slot, |cx, slot| cx.text(slot, max))
    }

    pub(super) fn opt_date(&mut self, slot: Slot) -> Option<Option<(NodeId, NaiveDate)>> {
        self.opt(slot, |cx, slot| cx.date(slot))
    }

    pub(super) fn opt_uint(&mut self, slot: Slot) -> Option<Option<(NodeId, u32)>> {
        self.opt(slot, |cx, slot| cx.uint(slot))
    }

    pub(super) fn importo(&mut self, slot: Slot) -> Option<(NodeId, Importo)> {
        self.typed(
            slot,
            &[],
            |raw| parse_importo(raw.trim_matches(is_xml_ws)),
            "indicare un importo non negativo in euro con al massimo due decimali e il punto come separatore (es. 1250.50)",
        )
    }

    pub(super) fn opt_importo(&mut self, slot: Slot) -> Option<Option<(NodeId, Importo)>> {
        self.opt(slot, |cx, slot| cx.importo(slot))
    }

    pub(super) fn opt_code<E: XmlCode>(&mut self, slot: Slot) -> Option<Option<(NodeId, E)>> {
        self.opt(slot, |cx, slot| cx.code::<E>(slot))
    }

    pub(super) fn opt_ore(&mut self, slot: Slot) -> Option<Option<(NodeId, Ore)>> {
        self.opt(slot, |cx, slot| cx.ore(slot, &[]))
    }

    pub(super) fn date(&mut self, slot: Slot) -> Option<(NodeId, NaiveDate)> {
        let date =
            self.typed(slot, &[], parse_date, "indicare una data esistente nel formato AAAA-MM-GG (es. 2026-01-05)")?;
        self.dates.push(date);
        Some(date)
    }

    pub(super) fn ore(&mut self, slot: Slot, attrs: &[&str]) -> Option<(NodeId, Ore)> {
        self.typed(
            slot,
            attrs,
            |raw| parse_ore(raw.trim_matches(is_xml_ws)),
            "indicare un numero di ore non negativo con al massimo due decimali e il punto come separatore (es. 7.5)",
        )
    }

    pub(super) fn uint(&mut self, slot: Slot) -> Option<(NodeId, u32)> {
        self.typed(slot, &[], |raw| parse_uint(raw, 7), "indicare un numero intero non negativo (al massimo 7 cifre)")
    }

    pub(super) fn boolean_id(&mut self, slot: Slot) -> Option<(NodeId, bool)> {
        let n = slot.first?;
        self.boolean(slot).map(|b| (n, b))
    }

    pub(super) fn boolean(&mut self, slot: Slot) -> Option<bool> {
        let parse = |raw: &str| match raw.trim_matches(is_xml_ws) {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        };
        self.typed(slot, &[], parse, "indicare true oppure false")
            .map(|(_, b)| b)
    }

    pub(super) fn code<E: XmlCode>(&mut self, slot: Slot) -> Option<(NodeId, E)> {
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

    pub(super) fn attr_code<E: XmlCode>(&mut self, node: NodeId, name: &str) -> Option<E> {
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

    pub(super) fn attr_uint(&mut self, node: NodeId, name: &str, digits: usize, min: u32, max: u32) -> Option<u32> {
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

    /// COE-030 for week `numero` of quadro `quadro` (G or H), past the `settimane` of the period.
    pub(super) fn settimana_fuori_periodo(&mut self, node: NodeId, quadro: &str, numero: u32, settimane: u32) {
        self.at_attr(
            &rules::COE_GH_FUORI_PERIODO,
            node,
            "numero",
            format!(
                "Il quadro {quadro} indica la settimana {numero}, ma il periodo comprende {settimane} settimane: correggere il numero della settimana."
            ),
            Some(&numero.to_string()),
        );
    }

    /// An optional attribute: `Some(None)` when absent.
    pub(super) fn opt_attr_uint(
        &mut self,
        node: NodeId,
        name: &str,
        digits: usize,
        min: u32,
        max: u32,
    ) -> Option<Option<u32>> {
        if self.t.attr(node, name).is_none() {
            return Some(None);
        }
        self.attr_uint(node, name, digits, min, max).map(Some)
    }
}

pub(super) const TESTO_MAX: usize = 200;
pub(super) const DESCRIZIONE_MAX: usize = 2000;
pub(super) const CODICE_MAX: usize = 20;

/// A date as the messages write it (`05/01/2026`).
pub(super) fn fmt(d: NaiveDate) -> String {
    d.format("%d/%m/%Y").to_string()
}
