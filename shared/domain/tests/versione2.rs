//! Tracciato version 2 beside version 1: the same domande judged alike, what v2 adds read and
//! used (the unit's code as its identity, the declared sector, the semester's workers as the
//! base of the one-third limit), and the elements of one version refused in the other.

use cigo_domain::model::{Ore, Settore, NAMESPACE, NAMESPACE_V2};
use cigo_domain::{generate, generate_versione, prevalidate, EsitoPrevalidazione, GenerateOptions, Limits, Versione};

fn v(versione: Versione, domande: usize, invalid_ratio: f64, seed: u64) -> String {
    let mut out = Vec::new();
    generate_versione(&GenerateOptions { domande, invalid_ratio, seed }, versione, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

fn esito(xml: &str) -> EsitoPrevalidazione {
    prevalidate(xml.as_bytes(), &Limits::default())
}

fn codes(e: &EsitoPrevalidazione, i: usize) -> Vec<String> {
    e.domande[i]
        .findings
        .iter()
        .map(|f| f.code.clone())
        .collect()
}

#[test]
fn the_same_domande_get_the_same_verdicts_in_both_versions() {
    let (a, b) = (v(Versione::V1, 60, 0.3, 7), v(Versione::V2, 60, 0.3, 7));
    assert!(b.contains(NAMESPACE_V2) && b.contains("versione=\"2\""));
    let (ea, eb) = (esito(&a), esito(&b));
    assert!(ea.file_finding.is_none() && eb.file_finding.is_none(), "{:?}", eb.file_finding);
    assert_eq!(ea.domande.len(), eb.domande.len());
    for i in 0..ea.domande.len() {
        assert_eq!(codes(&ea, i), codes(&eb, i), "domanda {}", i + 1);
        assert_eq!(ea.domande[i].esito, eb.domande[i].esito);
    }
    // What v1 has to presume, v2 declares.
    let d1 = ea.domande[0].archivio.as_ref().unwrap();
    let d2 = eb.domande[0].archivio.as_ref().unwrap();
    assert!(d1.settore_presunto && !d2.settore_presunto);
    assert!(d1.ore_lavorabili_minime.is_some() && d2.ore_lavorabili_minime.is_none());
    assert!(eb.domande[0]
        .unita_produttiva
        .as_deref()
        .unwrap()
        .starts_with("UP:"));
}

fn one_domanda_v2() -> String {
    v(Versione::V2, 1, 0.0, 3)
}

#[test]
fn the_v2_elements_are_required_in_v2_and_refused_in_v1() {
    let x = one_domanda_v2();
    for (tag, what) in [("Settore", "QuadroA"), ("CodiceUnitaProduttiva", "QuadroB"), ("OccupatiSemestre", "QuadroE")] {
        let start = x.find(&format!("<{tag}>")).unwrap();
        let end = x.find(&format!("</{tag}>")).unwrap() + tag.len() + 3;
        let senza = format!("{}{}", &x[..start], &x[end..]);
        let e = esito(&senza);
        let f = &e.domande[0].findings;
        assert!(
            f.iter().any(|f| f.code == "STR-001"
                && f.xpath
                    .as_deref()
                    .unwrap_or("")
                    .ends_with(&format!("{what}/{tag}"))),
            "{tag}: {f:?}"
        );
        // The same element in a v1 file: not part of that version, and the message says which has it.
        let in_v1 = x
            .replace(NAMESPACE_V2, NAMESPACE)
            .replace("versione=\"2\"", "versione=\"1\"");
        let e = esito(&in_v1);
        let f = e.domande[0]
            .findings
            .iter()
            .find(|f| f.value.as_deref() == Some(tag))
            .unwrap_or_else(|| panic!("{tag}: {:?}", e.domande[0].findings));
        assert_eq!(f.code, "STR-002");
        assert!(f.message.contains("versione 2"), "{}", f.message);
    }
}

#[test]
fn namespace_and_versione_must_agree_and_versions_do_not_mix() {
    let x = one_domanda_v2();
    let e = esito(&x.replace("versione=\"2\"", "versione=\"1\""));
    assert_eq!(e.file_finding.as_ref().map(|f| f.code.as_str()), Some("FIL-005"));
    // A v1 element inside a v2 document is not an element of the document's tracciato.
    let misto = x.replacen("<Settore>", &format!("<Settore xmlns=\"{NAMESPACE}\">"), 1);
    let e = esito(&misto);
    assert!(codes(&e, 0).contains(&"STR-002".to_string()), "{:?}", e.domande[0].findings);
}

#[test]
fn the_unit_code_is_the_units_identity() {
    // Two domande of one matricola and one period, same code, different addresses: the same unit.
    let x = v(Versione::V2, 2, 0.0, 5);
    let e = esito(&x);
    let (m0, m1) = (e.domande[0].matricola.clone().unwrap(), e.domande[1].matricola.clone().unwrap());
    let code0 = e.domande[0]
        .unita_produttiva
        .clone()
        .unwrap()
        .trim_start_matches("UP:")
        .to_string();
    let code1 = e.domande[1]
        .unita_produttiva
        .clone()
        .unwrap()
        .trim_start_matches("UP:")
        .to_string();
    let dal0 = e.domande[0].periodo_dal.unwrap().to_string();
    let al0 = e.domande[0].periodo_al.unwrap().to_string();
    let dal1 = e.domande[1].periodo_dal.unwrap().to_string();
    let al1 = e.domande[1].periodo_al.unwrap().to_string();
    let second = x.rfind("<Domanda ").unwrap();
    let (head, tail) = x.split_at(second);
    let tail = tail
        .replacen(&m1, &m0, 1)
        .replacen(
            &format!("<CodiceUnitaProduttiva>{code1}<"),
            &format!("<CodiceUnitaProduttiva>{}<", code0.to_lowercase()),
            1,
        )
        .replacen(&format!("<PeriodoDal>{dal1}<"), &format!("<PeriodoDal>{dal0}<"), 1)
        .replacen(&format!("<PeriodoAl>{al1}<"), &format!("<PeriodoAl>{al0}<"), 1);
    let e = esito(&format!("{head}{tail}"));
    assert!(codes(&e, 1).contains(&"COE-015".to_string()), "{:?}", e.domande[1].findings);
}

#[test]
fn v2_declares_the_sector_and_the_base_of_the_one_third_limit() {
    let x = one_domanda_v2();
    let e = esito(&x);
    let d = e.domande[0].archivio.as_ref().unwrap();
    assert!(!d.settore_presunto);
    let edile = x.replacen("<Settore>INDUSTRIA</Settore>", "<Settore>EDILIZIA</Settore>", 1);
    let d = esito(&edile).domande[0].archivio.clone().unwrap();
    assert_eq!((d.settore, d.mesi_quinquennio), (Settore::Edilizia, 30));
    let lapidei = x.replacen("<Settore>INDUSTRIA</Settore>", "<Settore>LAPIDEI</Settore>", 1);
    assert_eq!(
        esito(&lapidei).domande[0]
            .archivio
            .as_ref()
            .unwrap()
            .mesi_quinquennio,
        30
    );
    // The base is what OccupatiSemestre says: 12.5 workers at 40 hours and 2 at 20.
    let start = x.find("<OccupatiSemestre>").unwrap();
    let end = x.find("</OccupatiSemestre>").unwrap() + "</OccupatiSemestre>".len();
    let nuova = format!(
        "{}<OccupatiSemestre><Fascia><OreSettimanali>40</OreSettimanali><MediaLavoratori>12.5</MediaLavoratori></Fascia><Fascia><OreSettimanali>20</OreSettimanali><MediaLavoratori>2</MediaLavoratori></Fascia></OccupatiSemestre>{}",
        &x[..start],
        &x[end..]
    );
    let e = esito(&nuova);
    assert_eq!(
        e.domande[0]
            .archivio
            .as_ref()
            .unwrap()
            .ore_lavorabili_settimanali,
        Ore::from_hours(540)
    );
    // A bad unit code is a type error.
    let e = esito(&x.replacen("<CodiceUnitaProduttiva>", "<CodiceUnitaProduttiva>UP-", 1));
    assert!(codes(&e, 0).contains(&"STR-003".to_string()), "{:?}", e.domande[0].findings);
    // And v1 files are still read as before.
    let mut v1 = Vec::new();
    generate(&GenerateOptions { domande: 3, invalid_ratio: 0.0, seed: 3 }, &mut v1).unwrap();
    assert!(esito(std::str::from_utf8(&v1).unwrap())
        .domande
        .iter()
        .all(|d| d.findings.is_empty()));
}
