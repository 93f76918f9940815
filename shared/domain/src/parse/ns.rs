//! Namespace scopes of the open elements.

use crate::model::Versione;
use quick_xml::events::BytesStart;
use quick_xml::name::{NamespaceError, PrefixDeclaration};

/// Namespace scopes, as quick-xml's `NsReader` keeps them (same bindings, same errors), but only
/// for the elements that declare a namespace: most elements have no attributes at all, and for
/// them nothing is pushed.
#[derive(Default)]
pub(super) struct Ns {
    bindings: Vec<Binding>,
    prefixes: Vec<u8>,
    level: u32,
    /// For each open element, whether it declared namespaces.
    pushed: Vec<bool>,
    /// The version of the document, once its root is read: only that version's namespace is
    /// ours below it (a v1 element inside a v2 document is not ours).
    pub(super) versione: Option<Versione>,
}

pub(super) struct Binding {
    /// Range of the prefix in `prefixes` (empty: the default namespace).
    prefix: (usize, usize),
    /// Bound to the namespace of a version of the tracciato.
    ours: Option<Versione>,
    /// `xmlns:p=""` (the prefix is unbound).
    empty: bool,
    level: u32,
}

pub(super) const XML_NS: &[u8] = b"http://www.w3.org/XML/1998/namespace";
pub(super) const XMLNS_NS: &[u8] = b"http://www.w3.org/2000/xmlns/";

impl Ns {
    pub(super) fn push(&mut self, e: &BytesStart<'_>) -> Result<(), NamespaceError> {
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
                ours: Versione::from_namespace(v),
                empty: v.is_empty(),
                level: self.level,
            });
        }
        Ok(())
    }

    pub(super) fn pop(&mut self) {
        if self.pushed.pop() == Some(true) {
            self.level -= 1;
            while self.bindings.last().is_some_and(|b| b.level > self.level) {
                if let Some(b) = self.bindings.pop() {
                    self.prefixes.truncate(b.prefix.0);
                }
            }
        }
    }

    /// Whether an element name resolves to the namespace of the document's version (before the
    /// root is read: to the namespace of any version).
    pub(super) fn is_ours(&self, qname: &[u8]) -> bool {
        match (self.resolve(qname), self.versione) {
            (Some(v), Some(doc)) => v == doc,
            (Some(_), None) => true,
            (None, _) => false,
        }
    }

    /// The version whose namespace an element name resolves to.
    pub(super) fn resolve(&self, qname: &[u8]) -> Option<Versione> {
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
                _ => return b.ours.filter(|_| !b.empty),
            }
        }
        None
    }
}
