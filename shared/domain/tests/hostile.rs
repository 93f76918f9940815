//! Hostile or broken bytes: never a panic, and file-level failures get their FIL code.

use cigo_domain::{generate, prevalidate, GenerateOptions, Layer, Limits};
use proptest::prelude::*;

const VALID: &str = include_str!("../../../docs/examples/valid.xml");

fn file_code(xml: &[u8]) -> Option<String> {
    let e = prevalidate(xml, &Limits::default());
    if let Some(f) = &e.file_finding {
        assert_eq!(f.layer, Layer::File);
        assert!(e.domande.is_empty());
        assert!(f.line.is_some() && f.column.is_some());
    }
    e.file_finding.map(|f| f.code)
}

#[test]
fn billion_laughs_is_refused_without_expansion() {
    let xml = r#"<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<RichiestaCIGO xmlns="urn:cigo:richiesta:1" versione="1"><Domanda progressivo="1"><TipoDomanda>&lol9;</TipoDomanda></Domanda></RichiestaCIGO>"#;
    let e = prevalidate(xml.as_bytes(), &Limits::default());
    let f = e.file_finding.expect("refused");
    assert_eq!(f.code, "FIL-002");
    assert_eq!(f.line, Some(2));
    assert!(e.domande.is_empty());
    // Without the DOCTYPE the reference is an unknown entity.
    let body = xml.split("]>\n").nth(1).unwrap();
    assert_eq!(file_code(body.as_bytes()).as_deref(), Some("FIL-003"));
}

#[test]
fn external_entities_are_refused() {
    let xml = "<?xml version=\"1.0\"?><!DOCTYPE r SYSTEM \"file:///etc/passwd\"><RichiestaCIGO/>";
    assert_eq!(file_code(xml.as_bytes()).as_deref(), Some("FIL-002"));
}

#[test]
fn file_level_codes() {
    let ok_root = "<RichiestaCIGO xmlns=\"urn:cigo:richiesta:1\" versione=\"1\">";
    assert_eq!(file_code(b""), Some("FIL-001".into()));
    assert_eq!(file_code(b"not xml at all"), Some("FIL-001".into()));
    assert_eq!(file_code(&VALID.as_bytes()[..VALID.len() / 2]), Some("FIL-001".into()));
    assert_eq!(file_code(VALID.replace("</Cap>", "</CAP>").as_bytes()), Some("FIL-001".into()));
    assert_eq!(file_code(format!("{VALID}<RichiestaCIGO/>").as_bytes()), Some("FIL-001".into()));
    assert_eq!(
        file_code(
            VALID
                .replace("urn:cigo:richiesta:1", "urn:cigo:richiesta:9")
                .as_bytes()
        ),
        Some("FIL-004".into())
    );
    assert_eq!(file_code(b"<Richiesta xmlns=\"urn:cigo:richiesta:1\" versione=\"1\"/>"), Some("FIL-004".into()));
    assert_eq!(file_code(VALID.replace("versione=\"1\"", "versione=\"2\"").as_bytes()), Some("FIL-005".into()));
    assert_eq!(file_code(VALID.replace(" versione=\"1\"", "").as_bytes()), Some("FIL-005".into()));
    assert_eq!(file_code(VALID.replace("UTF-8", "windows-1252").as_bytes()), Some("FIL-006".into()));
    let mut latin1 = VALID.as_bytes().to_vec();
    let i = VALID.find("Figli").unwrap();
    latin1[i] = 0xE8;
    assert_eq!(file_code(&latin1), Some("FIL-007".into()));
    assert_eq!(file_code(VALID.replace("Figli", "Fi\u{1}gli").as_bytes()), Some("FIL-007".into()));
    assert_eq!(file_code(format!("{ok_root}</RichiestaCIGO>").as_bytes()), Some("FIL-008".into()));
    assert_eq!(file_code(format!("{ok_root}<Altro/></RichiestaCIGO>").as_bytes()), Some("FIL-010".into()));
    assert_eq!(file_code(format!("{ok_root}testo</RichiestaCIGO>").as_bytes()), Some("FIL-010".into()));
    // A UTF-8 BOM and a prefixed namespace are fine.
    assert_eq!(file_code(format!("\u{FEFF}{VALID}").as_bytes()), None);
}

#[test]
fn limits_are_file_level() {
    let code = |xml: &str, l: Limits| prevalidate(xml.as_bytes(), &l).file_finding.map(|f| f.code);
    let d = Limits::default();
    assert_eq!(code(VALID, Limits { max_domande: 1, ..d.clone() }).as_deref(), Some("FIL-009"));
    assert_eq!(code(VALID, Limits { max_elements_per_domanda: 20, ..d.clone() }).as_deref(), Some("FIL-009"));
    assert_eq!(code(VALID, Limits { max_depth: 4, ..d.clone() }).as_deref(), Some("FIL-009"));
    assert_eq!(code(VALID, Limits { max_text_len: 10, ..d.clone() }).as_deref(), Some("FIL-009"));
    assert_eq!(code(VALID, d.clone()), None);
    // A huge text node stops at the byte budget, long before it is read whole.
    let huge = VALID.replace("Verdi Giuseppe</Denominazione>", &format!("{}</Denominazione>", "x".repeat(2_000_000)));
    assert_eq!(code(&huge, d.clone()).as_deref(), Some("FIL-009"));
    // Deep nesting.
    let deep = VALID.replace("<Comune>Torino</Comune>", &format!("{}{}", "<a>".repeat(100), "</a>".repeat(100)));
    assert_eq!(code(&deep, d).as_deref(), Some("FIL-009"));
}

fn small_generated() -> Vec<u8> {
    let mut v = Vec::new();
    generate(&GenerateOptions { domande: 3, invalid_ratio: 0.3, seed: 11 }, &mut v).unwrap();
    v
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let e = prevalidate(&bytes[..], &Limits::default());
        prop_assert!(e.file_finding.is_some() || !e.domande.is_empty());
    }

    #[test]
    fn mutated_files_never_panic(
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..4), 1..12),
        generated in any::<bool>(),
    ) {
        let mut bytes = if generated { small_generated() } else { VALID.as_bytes().to_vec() };
        for (idx, b, op) in edits {
            if bytes.is_empty() { break; }
            let i = idx.index(bytes.len());
            match op {
                0 => bytes[i] = b,
                1 => { bytes.remove(i); }
                2 => bytes.insert(i, *b"<>&;\"'/=!?[]-x".get((b % 14) as usize).unwrap_or(&b'<')),
                _ => { let j = (i + (b as usize)).min(bytes.len()); bytes.drain(i..j); }
            }
        }
        let e = prevalidate(&bytes[..], &Limits::default());
        if let Some(f) = &e.file_finding {
            prop_assert!(e.domande.is_empty());
            prop_assert_eq!(f.layer, Layer::File);
        }
        for d in &e.domande {
            prop_assert!(d.findings.len() <= Limits::default().max_findings_per_domanda + 1);
        }
    }

    #[test]
    fn tiny_limits_never_panic(depth in 0usize..6, elems in 0usize..50, text in 0usize..20, dom in 0usize..3, fin in 0usize..3) {
        let l = Limits { max_depth: depth, max_elements_per_domanda: elems, max_text_len: text, max_domande: dom, max_findings_per_domanda: fin, ..Limits::default() };
        let e = prevalidate(VALID.as_bytes(), &l);
        for d in &e.domande {
            prop_assert!(d.findings.len() <= fin + 1);
        }
    }
}
