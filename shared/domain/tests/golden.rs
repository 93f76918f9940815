//! Golden esiti: the full esito (every finding with code, xpath, line, column, value and message)
//! of the documented examples, of a generated richiesta with faults and of a set of parser edge
//! cases, recorded as JSON under `tests/golden/`. Any change of verdict, position or message fails
//! here (so optimising the parser cannot silently change what users are told).
//!
//! After an intended change, re-record with `CIGO_BLESS=1 cargo test -p cigo-domain --test golden`
//! and review the diff.

use cigo_domain::{generate, prevalidate, GenerateOptions, Limits};
use std::path::PathBuf;

const VALID: &str = include_str!("../../../docs/examples/valid.xml");
const AVVISI: &str = include_str!("../../../docs/examples/avvisi.xml");
const SCARTATA: &str = include_str!("../../../docs/examples/scartata.xml");

fn generated(domande: usize, invalid_ratio: f64, seed: u64) -> Vec<u8> {
    let mut out = Vec::new();
    generate(&GenerateOptions { domande, invalid_ratio, seed }, &mut out).expect("generate");
    out
}

/// Inputs that exercise the parser's corners: namespaces, prefixes, line endings, entities,
/// CDATA, comments, unknown and foreign elements, mixed text, attributes, and file-level failures.
fn edge_cases() -> Vec<(&'static str, Vec<u8>)> {
    let v = VALID;
    let mut out: Vec<(&'static str, Vec<u8>)> = vec![
        ("crlf", v.replace('\n', "\r\n").into_bytes()),
        ("cr_only", v.replace('\n', "\r").into_bytes()),
        ("bom", format!("\u{FEFF}{v}").into_bytes()),
        (
            "prefixed",
            v.replace("<RichiestaCIGO xmlns=", "<c:RichiestaCIGO xmlns:c=")
                .replace("</RichiestaCIGO>", "</c:RichiestaCIGO>")
                .replace("<Domanda ", "<c:Domanda ")
                .replace("</Domanda>", "</c:Domanda>")
                .replace("<Matricola>", "<c:Matricola>")
                .replace("</Matricola>", "</c:Matricola>")
                .into_bytes(),
        ),
        ("unprefixed_in_prefixed_root", {
            v.replace("<RichiestaCIGO xmlns=", "<c:RichiestaCIGO xmlns:c=")
                .replace("</RichiestaCIGO>", "</c:RichiestaCIGO>")
                .into_bytes()
        }),
        (
            "foreign_ns_element",
            v.replacen("<Matricola>", "<x:Matricola xmlns:x=\"urn:altro\">", 1)
                .replacen("</Matricola>", "</x:Matricola>", 1)
                .into_bytes(),
        ),
        (
            "redeclared_default_ns",
            v.replacen("<QuadroA>", "<QuadroA xmlns=\"urn:altro\">", 1)
                .into_bytes(),
        ),
        (
            "unknown_element",
            v.replacen("<Comune>", "<Sconosciuto>x</Sconosciuto><Comune>", 1)
                .into_bytes(),
        ),
        ("mixed_text", v.replacen("<QuadroA>", "<QuadroA>testo", 1).into_bytes()),
        (
            "mixed_text_after_child",
            v.replacen("</Matricola>", "</Matricola>dopo", 1)
                .into_bytes(),
        ),
        (
            "extra_attr",
            v.replacen("<Matricola>", "<Matricola foo=\"b&amp;r\">", 1)
                .into_bytes(),
        ),
        (
            "xsi_attr",
            v.replacen(
                "<Matricola>",
                "<Matricola xsi:nil=\"false\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">",
                1,
            )
            .into_bytes(),
        ),
        (
            "cdata",
            v.replacen("Officine Rossi &amp; Figli", "<![CDATA[Officine Rossi & Figli]]>", 1)
                .into_bytes(),
        ),
        (
            "cdata_split",
            v.replacen("Officine Rossi &amp; Figli", "Officine <![CDATA[Rossi &]]> Figli", 1)
                .into_bytes(),
        ),
        (
            "char_refs",
            v.replacen("Officine Rossi", "Offi&#99;ine R&#x6F;ssi", 1)
                .into_bytes(),
        ),
        (
            "comment_in_leaf",
            v.replacen("<Matricola>5012", "<Matricola>50<!-- c -->12", 1)
                .into_bytes(),
        ),
        (
            "pi_in_leaf",
            v.replacen("<Matricola>5012", "<Matricola>50<?pi x?>12", 1)
                .into_bytes(),
        ),
        (
            "whitespace_values",
            v.replacen("<Matricola>5012345678", "<Matricola>\n  5012345678 \t", 1)
                .into_bytes(),
        ),
        (
            "multibyte",
            v.replacen("Via dell'Industria 12", "Via dell’Industria 12 – àèìòù 日本", 1)
                .into_bytes(),
        ),
        (
            "long_text",
            v.replacen("Via dell'Industria 12", &"é".repeat(300), 1)
                .into_bytes(),
        ),
        (
            "empty_leaf",
            v.replacen("<Matricola>5012345678</Matricola>", "<Matricola/>", 1)
                .into_bytes(),
        ),
        (
            "self_closing_with_space",
            v.replacen("<Matricola>5012345678</Matricola>", "<Matricola />", 1)
                .into_bytes(),
        ),
        (
            "single_quotes",
            v.replacen("progressivo=\"1\"", "progressivo='1'", 1)
                .into_bytes(),
        ),
        ("bad_entity", v.replacen("&amp;", "&nbsp;", 1).into_bytes()),
        ("bad_char_ref", v.replacen("&amp;", "&#1;", 1).into_bytes()),
        ("control_char", v.replacen("Figli", "Fi\u{1}gli", 1).into_bytes()),
        (
            "control_char_attr",
            v.replacen("progressivo=\"1\"", "progressivo=\"\u{2}\"", 1)
                .into_bytes(),
        ),
        ("fffe", v.replacen("Figli", "Fi\u{FFFE}gli", 1).into_bytes()),
        ("mismatched_end", v.replacen("</Cap>", "</CAP>", 1).into_bytes()),
        ("truncated", v.as_bytes()[..v.len() * 2 / 3].to_vec()),
        ("two_roots", format!("{v}<RichiestaCIGO/>").into_bytes()),
        ("text_after_root", format!("{v}testo").into_bytes()),
        ("text_in_root", v.replacen("<Domanda ", "testo<Domanda ", 1).into_bytes()),
        (
            "cdata_in_root",
            v.replacen("<Domanda ", "<![CDATA[x]]><Domanda ", 1)
                .into_bytes(),
        ),
        ("other_in_root", v.replacen("<Domanda ", "<Altro/><Domanda ", 1).into_bytes()),
        ("doctype", v.replacen("<!--", "<!DOCTYPE r><!--", 1).into_bytes()),
        ("decl_not_first", format!("\n{v}").into_bytes()),
        ("latin1_decl", v.replacen("UTF-8", "ISO-8859-1", 1).into_bytes()),
        (
            "wrong_ns",
            v.replacen("urn:cigo:richiesta:1", "urn:cigo:richiesta:9", 1)
                .into_bytes(),
        ),
        (
            "wrong_version",
            v.replacen("versione=\"1\"", "versione=\"2\"", 1)
                .into_bytes(),
        ),
        ("no_version", v.replacen(" versione=\"1\"", "", 1).into_bytes()),
        (
            "version_ws",
            v.replacen("versione=\"1\"", "versione=\" 1 \"", 1)
                .into_bytes(),
        ),
        ("empty", Vec::new()),
        ("not_xml", b"not xml at all".to_vec()),
        ("no_domande", b"<RichiestaCIGO xmlns=\"urn:cigo:richiesta:1\" versione=\"1\"></RichiestaCIGO>".to_vec()),
        (
            "bad_attr",
            v.replacen("progressivo=\"1\"", "progressivo=1", 1)
                .into_bytes(),
        ),
        (
            "dup_attr",
            v.replacen("progressivo=\"1\"", "progressivo=\"1\" progressivo=\"2\"", 1)
                .into_bytes(),
        ),
        (
            "bad_comment",
            v.replacen("<!-- Richiesta", "<!-- Rich -- iesta", 1)
                .into_bytes(),
        ),
        (
            "lt_in_attr",
            v.replacen("progressivo=\"1\"", "progressivo=\"<1\"", 1)
                .into_bytes(),
        ),
        (
            "ns_bind_xml",
            v.replacen("<QuadroA>", "<QuadroA xmlns:xml=\"urn:x\">", 1)
                .into_bytes(),
        ),
        (
            "ns_bind_xmlns",
            v.replacen("<QuadroA>", "<QuadroA xmlns:xmlns=\"urn:x\">", 1)
                .into_bytes(),
        ),
        (
            "ns_prefix_to_xml_uri",
            v.replacen("<QuadroA>", "<QuadroA xmlns:p=\"http://www.w3.org/XML/1998/namespace\">", 1)
                .into_bytes(),
        ),
        (
            "ns_in_root_error",
            v.replacen("versione=\"1\"", "versione=\"1\" xmlns:xmlns=\"u\"", 1)
                .into_bytes(),
        ),
        (
            "ns_empty_prefix",
            v.replacen("<QuadroA>", "<QuadroA xmlns:=\"urn:altro\">", 1)
                .into_bytes(),
        ),
        (
            "ns_unbound_prefix",
            v.replacen("<Matricola>", "<p:Matricola xmlns:p=\"\">", 1)
                .replacen("</Matricola>", "</p:Matricola>", 1)
                .into_bytes(),
        ),
        (
            "ns_prefix_rebound",
            v.replacen("<QuadroA>", "<QuadroA xmlns:p=\"urn:cigo:richiesta:1\">", 1)
                .replacen("<Matricola>", "<p:Matricola>", 1)
                .replacen("</Matricola>", "</p:Matricola>", 1)
                .replacen("<Comune>", "<p:Comune xmlns:p=\"urn:altro\">", 1)
                .replacen("</Comune>", "</p:Comune>", 1)
                .replacen("<Cap>", "<p:Cap>", 1)
                .replacen("</Cap>", "</p:Cap>", 1)
                .into_bytes(),
        ),
        (
            "ns_xml_prefixed_element",
            v.replacen("<Comune>", "<xml:Comune>", 1)
                .replacen("</Comune>", "</xml:Comune>", 1)
                .into_bytes(),
        ),
        (
            "ns_unknown_prefix",
            v.replacen("<Comune>", "<q:Comune>", 1)
                .replacen("</Comune>", "</q:Comune>", 1)
                .into_bytes(),
        ),
        (
            "ns_xmlns_in_value",
            v.replacen("<Matricola>", "<Matricola foo=\"xmlns\">", 1)
                .into_bytes(),
        ),
        ("gt_in_text", v.replacen("Figli", "Figli > altri", 1).into_bytes()),
    ];
    let mut latin1 = v.as_bytes().to_vec();
    let i = v.find("Figli").expect("Figli");
    latin1[i] = 0xE8;
    out.push(("latin1_byte", latin1));
    let mut bad_name = v.as_bytes().to_vec();
    let i = v.find("<Comune>").expect("Comune") + 2;
    bad_name[i] = 0xFF;
    out.push(("latin1_in_name", bad_name));
    out
}

fn inputs() -> Vec<(String, Vec<u8>)> {
    let mut v = vec![
        ("example_valid".to_string(), VALID.as_bytes().to_vec()),
        ("example_avvisi".to_string(), AVVISI.as_bytes().to_vec()),
        ("example_scartata".to_string(), SCARTATA.as_bytes().to_vec()),
        ("generated_300_0.3_seed7".to_string(), generated(300, 0.3, 7)),
        ("generated_40_1.0_seed5".to_string(), generated(40, 1.0, 5)),
    ];
    v.extend(
        edge_cases()
            .into_iter()
            .map(|(n, b)| (format!("edge_{n}"), b)),
    );
    v
}

fn golden_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(format!("{name}.json"))
}

#[test]
fn esiti_are_unchanged() {
    let bless = std::env::var_os("CIGO_BLESS").is_some();
    let mut failures = Vec::new();
    for (name, bytes) in inputs() {
        let esito = prevalidate(&bytes[..], &Limits::default());
        // The same bytes through a tiny buffer (events split across refills) give the same esito.
        let small = prevalidate(std::io::BufReader::with_capacity(7, &bytes[..]), &Limits::default());
        assert_eq!(esito, small, "{name}: esito depends on the read buffer size");
        let json = serde_json::to_string_pretty(&esito).expect("json") + "\n";
        let path = golden_path(&name);
        if bless {
            std::fs::create_dir_all(path.parent().expect("dir")).expect("mkdir");
            std::fs::write(&path, &json).expect("write golden");
            continue;
        }
        match std::fs::read_to_string(&path) {
            Ok(want) if want == json => {}
            Ok(want) => {
                let line = want
                    .lines()
                    .zip(json.lines())
                    .position(|(a, b)| a != b)
                    .unwrap_or(0);
                failures.push(format!(
                    "{name}: differs from {} at line {}:\n  want: {}\n  got:  {}",
                    path.display(),
                    line + 1,
                    want.lines().nth(line).unwrap_or(""),
                    json.lines().nth(line).unwrap_or("")
                ));
            }
            Err(e) => failures.push(format!("{name}: cannot read {}: {e} (record with CIGO_BLESS=1)", path.display())),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
