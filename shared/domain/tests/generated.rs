//! Generated richieste: valid ones have no ERRORE, invalid ones carry exactly the expected code.

use cigo_domain::{generate, prevalidate, EsitoDomanda, GenerateOptions, Limits, Severity};
use proptest::prelude::*;

fn gen(domande: usize, invalid_ratio: f64, seed: u64) -> (Vec<u8>, Vec<cigo_domain::GeneratedDomanda>) {
    let mut out = Vec::new();
    let g = generate(&GenerateOptions { domande, invalid_ratio, seed }, &mut out).unwrap();
    (out, g)
}

#[test]
fn same_seed_same_bytes() {
    let (a, ga) = gen(40, 0.3, 42);
    let (b, gb) = gen(40, 0.3, 42);
    assert_eq!(a, b);
    assert_eq!(ga, gb);
    let (c, _) = gen(40, 0.3, 43);
    assert_ne!(a, c);
}

#[test]
fn every_kind_of_fault_shows_up() {
    let (xml, g) = gen(400, 1.0, 5);
    let mut kinds: Vec<&str> = g.iter().filter_map(|d| d.expected_code).collect();
    kinds.sort();
    kinds.dedup();
    assert_eq!(
        kinds,
        vec![
            "CAM-001", "CAM-003", "CAM-006", "COE-001", "COE-002", "COE-005", "COE-007", "COE-012", "COE-025",
            "COE-037", "STR-001", "STR-004"
        ]
    );
    let e = prevalidate(&xml[..], &Limits::default());
    assert!(e.file_finding.is_none());
    assert!(e.domande.iter().all(|d| d.esito == EsitoDomanda::Scartata));
}

#[test]
fn a_large_file_streams() {
    // Written and read through pipes-like adapters: nothing requires the whole file in memory.
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0 += b.len();
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut c = Count(0);
    let g = generate(&GenerateOptions { domande: 1000, invalid_ratio: 0.1, seed: 9 }, &mut c).unwrap();
    assert_eq!(g.len(), 1000);
    assert!(c.0 > 1_000_000);
    let (xml, _) = gen(1000, 0.1, 9);
    assert_eq!(xml.len(), c.0);
    let e = prevalidate(std::io::BufReader::with_capacity(4096, &xml[..]), &Limits::default());
    assert!(e.file_finding.is_none());
    assert_eq!(e.domande.len(), 1000);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, .. ProptestConfig::default() })]

    #[test]
    fn valid_files_have_no_errors(seed in any::<u64>(), domande in 1usize..30) {
        let (xml, g) = gen(domande, 0.0, seed);
        prop_assert!(g.iter().all(|d| d.expected_code.is_none()));
        let e = prevalidate(&xml[..], &Limits::default());
        prop_assert!(e.file_finding.is_none(), "{:?}", e.file_finding);
        prop_assert_eq!(e.domande.len(), domande);
        for d in &e.domande {
            prop_assert!(d.findings.iter().all(|f| f.severity != Severity::Errore), "{:#?}", d.findings);
            prop_assert!(d.esito.is_sendable());
        }
    }

    #[test]
    fn invalid_domande_carry_their_code(seed in any::<u64>(), domande in 1usize..40) {
        let (xml, g) = gen(domande, 0.3, seed);
        let e = prevalidate(&xml[..], &Limits::default());
        prop_assert!(e.file_finding.is_none(), "{:?}", e.file_finding);
        prop_assert_eq!(e.domande.len(), g.len());
        for (d, gd) in e.domande.iter().zip(&g) {
            prop_assert_eq!(d.progressivo, gd.progressivo);
            match gd.expected_code {
                Some(code) => {
                    prop_assert!(d.findings.iter().any(|f| f.code == code), "domanda {} expected {}: {:#?}", d.progressivo, code, d.findings);
                    prop_assert_eq!(d.esito, EsitoDomanda::Scartata);
                }
                None => {
                    prop_assert!(d.findings.is_empty(), "domanda {}: {:#?}", d.progressivo, d.findings);
                    prop_assert_eq!(d.esito, EsitoDomanda::Valida);
                }
            }
        }
    }
}
