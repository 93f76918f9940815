//! The layout rule of ARCHITECTURE.md, checked: within a crate, files import each other one way.
//!
//! A module may use its parent or its children freely (that is how a folder is built), but two
//! modules that are not parent and child must not import each other, directly or through others.
//! The check reads `crate::` and `super::` paths as text, which is enough for this code base: a
//! path that names a module's item counts as an import of that module. Unit tests are left out.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Module path (`api::access`) -> source text, for every `.rs` file under `src`.
fn modules(src: &Path) -> BTreeMap<String, String> {
    fn walk(dir: &Path, src: &Path, out: &mut BTreeMap<String, String>) {
        for entry in std::fs::read_dir(dir).expect("readable source folder") {
            let path = entry.expect("readable entry").path();
            if path.is_dir() {
                walk(&path, src, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path
                    .strip_prefix(src)
                    .expect("under src")
                    .with_extension("");
                let rel = rel
                    .to_string_lossy()
                    .replace(std::path::MAIN_SEPARATOR, "::");
                let name = match rel.as_str() {
                    "lib" | "main" => "crate".to_string(),
                    r => r.strip_suffix("::mod").unwrap_or(r).to_string(),
                };
                out.insert(name, std::fs::read_to_string(&path).expect("readable file"));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(src, src, &mut out);
    out
}

/// The longest known module that `path` (`a::b::Item`) starts with.
fn owner<'a>(mods: &'a BTreeMap<String, String>, path: &str) -> Option<&'a str> {
    let parts: Vec<&str> = path.split("::").collect();
    (1..=parts.len())
        .rev()
        .map(|n| parts[..n].join("::"))
        .find_map(|candidate| mods.get_key_value(&candidate).map(|(k, _)| k.as_str()))
}

fn related(a: &str, b: &str) -> bool {
    a == "crate" || b == "crate" || a.starts_with(&format!("{b}::")) || b.starts_with(&format!("{a}::"))
}

/// Edges between modules that are not parent and child.
fn graph(mods: &BTreeMap<String, String>) -> BTreeMap<String, BTreeSet<String>> {
    let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (name, text) in mods {
        // Unit tests (a `#[cfg(test)]` module, by convention at the end of the file) may reach
        // anywhere: only the code that ships is held to the rule.
        if name == "tests" || name.ends_with("::tests") {
            continue;
        }
        let shipped = text.split("#[cfg(test)]").next().unwrap_or("");
        let code: String = shipped
            .lines()
            .map(|l| l.split("//").next().unwrap_or(""))
            .collect::<Vec<_>>()
            .join("\n");
        let parent = name.rsplit_once("::").map(|(p, _)| p.to_string());
        let mut targets = Vec::new();
        for (prefix, base) in [("crate::", None), ("super::", parent.as_deref().or(Some("")))] {
            let mut rest = code.as_str();
            while let Some(at) = rest.find(prefix) {
                rest = &rest[at + prefix.len()..];
                let group: String = if let Some(inner) = rest.strip_prefix('{') {
                    inner.split('}').next().unwrap_or("").to_string()
                } else {
                    rest.chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                        .collect()
                };
                for item in group.split(',') {
                    let item = item
                        .split_whitespace()
                        .next()
                        .unwrap_or("")
                        .trim_end_matches(':');
                    let full = match base {
                        Some(b) if !b.is_empty() => format!("{b}::{item}"),
                        _ => item.to_string(),
                    };
                    targets.push(full);
                }
            }
        }
        for t in targets {
            if let Some(o) = owner(mods, &t) {
                if o != name && !related(name, o) {
                    g.entry(name.clone()).or_default().insert(o.to_string());
                }
            }
        }
    }
    g
}

/// Strongly connected components with more than one module (Tarjan).
fn cycles(g: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct T<'a> {
        g: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        next: usize,
        out: Vec<Vec<String>>,
    }
    fn visit<'a>(t: &mut T<'a>, v: &'a str) {
        t.index.insert(v, t.next);
        t.low.insert(v, t.next);
        t.next += 1;
        t.stack.push(v);
        for w in t.g.get(v).into_iter().flatten() {
            let w = w.as_str();
            if !t.index.contains_key(w) {
                visit(t, w);
                let lw = t.low[w];
                let lv = t.low.get_mut(v).expect("visited");
                *lv = (*lv).min(lw);
            } else if t.stack.contains(&w) {
                let iw = t.index[w];
                let lv = t.low.get_mut(v).expect("visited");
                *lv = (*lv).min(iw);
            }
        }
        if t.low[v] == t.index[v] {
            let mut scc = Vec::new();
            while let Some(w) = t.stack.pop() {
                scc.push(w.to_string());
                if w == v {
                    break;
                }
            }
            if scc.len() > 1 {
                scc.sort();
                t.out.push(scc);
            }
        }
    }
    let mut t = T { g, index: BTreeMap::new(), low: BTreeMap::new(), stack: Vec::new(), next: 0, out: Vec::new() };
    for v in g.keys() {
        if !t.index.contains_key(v.as_str()) {
            visit(&mut t, v);
        }
    }
    t.out
}

fn assert_acyclic(crate_src: &str) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join(crate_src);
    let found = cycles(&graph(&modules(&src)));
    assert!(found.is_empty(), "import cycles in {crate_src}: {found:?}");
}

#[test]
fn service_modules_import_one_way() {
    assert_acyclic("src");
}

#[test]
fn domain_modules_import_one_way() {
    assert_acyclic("../../shared/domain/src");
}

#[test]
fn the_check_sees_a_cycle() {
    let mut mods = BTreeMap::new();
    mods.insert("a".to_string(), "use crate::b::X;".to_string());
    mods.insert("b".to_string(), "fn f() { crate::c::g() }".to_string());
    mods.insert("c".to_string(), "use crate::{a::Y, d};".to_string());
    mods.insert("d".to_string(), "use super::a;".to_string());
    mods.insert("a::child".to_string(), "use super::super::b;".to_string());
    assert_eq!(cycles(&graph(&mods)), vec![["a", "b", "c", "d"].map(String::from).to_vec()]);
}
