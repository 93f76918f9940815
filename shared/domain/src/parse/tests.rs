//! The parser: its fast path reads exactly what quick-xml reads, positions, file-level failures.

use super::stream::{stream_impl, FAST_DOMANDE};
use super::*;
use crate::finding::Finding;
use crate::limits::Limits;
use proptest::prelude::*;
use std::io;

#[test]
fn the_fast_path_reads_plain_files() {
    for (xml, n) in [
        (generated(30, 0.3, 1), 30),
        (generated(30, 0.3, 1).replace('\n', "\r\n"), 30),
        (include_str!("../../../../docs/examples/valid.xml").to_string(), 2),
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
        ("valid", include_str!("../../../../docs/examples/valid.xml").to_string()),
        ("avvisi", include_str!("../../../../docs/examples/avvisi.xml").to_string()),
        ("scartata", include_str!("../../../../docs/examples/scartata.xml").to_string()),
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
    let bad_utf8 =
        b"<RichiestaCIGO xmlns=\"urn:cigo:richiesta:1\" versione=\"1\"><Domanda><A>\xff</A></Domanda></RichiestaCIGO>";
    let r = stream(&bad_utf8[..], &Limits::default(), |_, _| {});
    assert_eq!(r.unwrap_err().code, "FIL-007");
}
