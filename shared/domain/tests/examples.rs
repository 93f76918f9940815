//! The three documented examples (docs/examples) and their outcome.

use cigo_domain::{prevalidate, EsitoDomanda, Limits, StatoRichiesta};

fn codes(xml: &str) -> (StatoRichiesta, Vec<(EsitoDomanda, Vec<String>)>) {
    let e = prevalidate(xml.as_bytes(), &Limits::default());
    assert!(e.file_finding.is_none(), "{:?}", e.file_finding);
    assert_eq!(e.rule_set, cigo_domain::RULE_SET);
    let d = e
        .domande
        .iter()
        .map(|d| (d.esito, d.findings.iter().map(|f| f.code.clone()).collect()))
        .collect();
    (e.stato_finale(), d)
}

#[test]
fn valid_example() {
    let (stato, d) = codes(include_str!("../../../docs/examples/valid.xml"));
    assert_eq!(stato, StatoRichiesta::Prevalidata);
    assert_eq!(d, vec![(EsitoDomanda::Valida, vec![]), (EsitoDomanda::Valida, vec![])]);
}

#[test]
fn example_with_warnings() {
    let (stato, d) = codes(include_str!("../../../docs/examples/avvisi.xml"));
    assert_eq!(stato, StatoRichiesta::Prevalidata);
    assert_eq!(
        d,
        vec![
            (EsitoDomanda::ValidaConAvvisi, vec!["COE-004".to_string(), "COE-004".to_string()]),
            (EsitoDomanda::Valida, vec![])
        ]
    );
}

#[test]
fn rejected_example() {
    let (stato, d) = codes(include_str!("../../../docs/examples/scartata.xml"));
    assert_eq!(stato, StatoRichiesta::Scartata);
    assert_eq!(
        d,
        vec![
            (EsitoDomanda::Scartata, vec!["CAM-003".to_string(), "COE-005".to_string(), "COE-006".to_string()]),
            (EsitoDomanda::Scartata, vec!["COE-001".to_string()])
        ]
    );
}

#[test]
fn catalogue_covers_every_code_and_archive_rule_agrees() {
    let cat = cigo_domain::catalogue();
    assert!(cat.iter().any(|r| r.code == "ARC-001"));
    let r = cigo_domain::rules::rule(cigo_domain::archivio::ARC_PERIODO_SOVRAPPOSTO).unwrap();
    assert_eq!((r.layer, r.severity), (cigo_domain::Layer::Archivio, cigo_domain::Severity::Errore));
}
