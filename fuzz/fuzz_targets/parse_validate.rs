//! Any bytes through the streaming parser and every rule: never a panic, the invariants of an
//! esito hold (a file-level failure has no domande; findings per domanda stay bounded), and the
//! parser's fast path reads exactly what quick-xml reads (same esito with it on and off).

#![no_main]

use cigo_domain::{prevalidate, Layer, Limits};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = Limits::default();
    let esito = prevalidate(data, &limits);
    if let Some(f) = &esito.file_finding {
        assert_eq!(f.layer, Layer::File);
        assert!(esito.domande.is_empty());
    }
    for d in &esito.domande {
        assert!(d.findings.len() <= limits.max_findings_per_domanda + 1);
        assert_eq!(d.esito, cigo_domain::DomandaEsito::esito_from(&d.findings));
    }
    let slow = prevalidate(data, &Limits { parser_fast_path: false, ..limits.clone() });
    assert_eq!(esito, slow, "the fast path and quick-xml read differently");
    // Tight limits take the other branches of the parser.
    let tight = Limits {
        max_depth: 6,
        max_elements_per_domanda: 64,
        max_text_len: 32,
        max_domande: 2,
        max_findings_per_domanda: 3,
        ..Limits::default()
    };
    let esito = prevalidate(data, &tight);
    for d in &esito.domande {
        assert!(d.findings.len() <= tight.max_findings_per_domanda + 1);
    }
});
