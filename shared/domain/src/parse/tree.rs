//! The bounded tree of one domanda ([`Tree`]), and how the parser builds it (elements, attributes,
//! text), whichever way the domanda was read.

use super::tag::Tag;
use super::text::{file_finding, is_ws, text_of, utf8_or_fail};
use crate::finding::Finding;
use crate::limits::Limits;
use crate::rules;

/// Index of a node in a [`Tree`].
pub type NodeId = u32;
pub(super) const NONE: NodeId = u32::MAX;

/// One element of the domanda being read.
#[derive(Debug, Clone)]
pub struct Node {
    pub tag: Tag,
    /// The qualified name as written (only stored for [`Tag::Unknown`]).
    pub(super) name: (u32, u32),
    pub parent: NodeId,
    pub(super) first_child: NodeId,
    pub(super) last_child: NodeId,
    pub(super) next_sibling: NodeId,
    pub(super) attrs: (u32, u32),
    pub(super) text: (u32, u32),
    /// Non-white-space text beside child elements.
    pub mixed: bool,
    pub line: u32,
    pub column: u32,
}

#[derive(Debug, Clone, Copy)]
pub(super) struct AttrRec {
    pub name: (u32, u32),
    pub value: (u32, u32),
}

/// The elements of one `<Domanda>`, in document order (node 0 is the `Domanda` itself). Buffers
/// are reused from one domanda to the next.
#[derive(Debug, Default)]
pub struct Tree {
    /// The version of the tracciato the document declares (kept across domande).
    pub versione: crate::model::Versione,
    pub(super) nodes: Vec<Node>,
    pub(super) attrs: Vec<AttrRec>,
    pub(super) buf: String,
}

fn range_of(buf: &str, r: (u32, u32)) -> &str {
    buf.get(r.0 as usize..r.1 as usize).unwrap_or("")
}

impl Tree {
    pub(super) fn clear(&mut self) {
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
    pub(super) fn position_among_siblings(&self, id: NodeId) -> (u32, bool) {
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

    pub(super) fn push(&mut self, parent: NodeId, tag: Tag, line: u32, column: u32) -> NodeId {
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

    pub(super) fn store(&mut self, s: &str) -> (u32, u32) {
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

pub(super) fn append_text(
    tree: &mut Tree,
    cur: NodeId,
    s: &str,
    limits: &Limits,
    pos: (u32, u32),
) -> Result<(), Finding> {
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

pub(super) fn store_attrs(
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
pub(super) fn store_attr(tree: &mut Tree, key: &[u8], value: &[u8], pos: (u32, u32)) -> Result<(), Finding> {
    let key = utf8_or_fail(key, pos)?;
    let value = text_of(value, pos)?;
    let name = tree.store(key);
    let value = tree.store(&value);
    tree.attrs.push(AttrRec { name, value });
    Ok(())
}

/// Pushes a child element of `parent` (any element below the `Domanda`).
pub(super) fn open_child(tree: &mut Tree, parent: NodeId, tag: Tag, qname: &str, pos: (u32, u32)) -> NodeId {
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
