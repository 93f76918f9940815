//! One input per rule: the valid example with one change. The finding must carry exactly the
//! expected code(s), on exactly that domanda, with the right xpath, line and column.

use cigo_domain::{prevalidate, EsitoDomanda, EsitoPrevalidazione, Limits, Severity};
use std::collections::BTreeSet;

const VALID: &str = include_str!("../../../docs/examples/valid.xml");

fn run(xml: &str) -> EsitoPrevalidazione {
    prevalidate(xml.as_bytes(), &Limits::default())
}

/// Byte range of domanda `n` (1-based) in `xml`.
fn segment(xml: &str, n: usize) -> (usize, usize) {
    let start = xml
        .match_indices("<Domanda ")
        .nth(n - 1)
        .expect("domanda")
        .0;
    let end = start + xml[start..].find("</Domanda>").expect("end");
    (start, end)
}

/// Replaces the first `from` inside domanda `n`.
fn mutate(xml: &str, n: usize, from: &str, to: &str) -> String {
    let (s, e) = segment(xml, n);
    let i = s + xml[s..e]
        .find(from)
        .unwrap_or_else(|| panic!("{from:?} not in domanda {n}"));
    format!("{}{}{}", &xml[..i], to, &xml[i + from.len()..])
}

/// The text of the first element `tag` inside domanda `n`.
fn segment_text(xml: &str, n: usize, tag: &str) -> String {
    let (s, e) = segment(xml, n);
    let open = format!("<{tag}>");
    let i = s
        + xml[s..e]
            .find(&open)
            .unwrap_or_else(|| panic!("{tag} not in domanda {n}"))
        + open.len();
    xml[i..i + xml[i..].find('<').unwrap()].to_string()
}

/// Line and column (1-based) of the first `needle` inside domanda `n`.
fn pos_of(xml: &str, n: usize, needle: &str) -> (u32, u32) {
    let (s, e) = segment(xml, n);
    let i = s + xml[s..e]
        .find(needle)
        .unwrap_or_else(|| panic!("{needle:?} not in domanda {n}"));
    let line = xml[..i].matches('\n').count() as u32 + 1;
    let col = (i - xml[..i].rfind('\n').map(|p| p + 1).unwrap_or(0)) as u32 + 1;
    (line, col)
}

struct Expect<'a> {
    domanda: usize,
    codes: &'a [&'a str],
    /// The finding of `codes[0]`: its xpath and the text its start tag begins with.
    xpath: &'a str,
    at: &'a str,
    value: Option<&'a str>,
}

fn check(xml: &str, e: Expect<'_>) {
    let esito = run(xml);
    assert!(esito.file_finding.is_none(), "{:?}", esito.file_finding);
    assert_eq!(esito.domande.len(), 2);
    for d in &esito.domande {
        let codes: BTreeSet<&str> = d.findings.iter().map(|f| f.code.as_str()).collect();
        if d.progressivo as usize == e.domanda {
            let mut want: BTreeSet<&str> = e.codes.iter().copied().collect();
            // A structure error leaves checks that cannot run, and the domanda says so.
            if e.codes.iter().any(|c| c.starts_with("STR-")) {
                want.insert("STR-099");
            }
            assert_eq!(codes, want, "{:#?}", d.findings);
            let f = d.findings.iter().find(|f| f.code == e.codes[0]).unwrap();
            assert_eq!(f.xpath.as_deref(), Some(e.xpath), "{f:#?}");
            let (line, col) = pos_of(xml, e.domanda, e.at);
            assert_eq!((f.line, f.column), (Some(line), Some(col)), "{f:#?}");
            if let Some(v) = e.value {
                assert_eq!(f.value.as_deref(), Some(v));
            }
            assert!(!f.message.is_empty());
            let rule = cigo_domain::rules::rule(&f.code).expect("in catalogue");
            assert_eq!((f.layer, f.severity), (rule.layer, rule.severity));
            let expected = if d.findings.iter().any(|f| f.severity == Severity::Errore) {
                EsitoDomanda::Scartata
            } else {
                EsitoDomanda::ValidaConAvvisi
            };
            assert_eq!(d.esito, expected);
        } else {
            assert!(d.findings.is_empty(), "domanda {}: {:#?}", d.progressivo, d.findings);
            assert_eq!(d.esito, EsitoDomanda::Valida);
        }
    }
}

#[test]
fn the_valid_example_has_no_findings() {
    let e = run(VALID);
    assert!(e.file_finding.is_none());
    assert_eq!(e.domande.len(), 2);
    assert!(e
        .domande
        .iter()
        .all(|d| d.findings.is_empty() && d.esito == EsitoDomanda::Valida));
    let d = &e.domande[0];
    assert_eq!(d.matricola.as_deref(), Some("5012345678"));
    assert_eq!(d.codice_fiscale_azienda.as_deref(), Some("12345678903"));
    assert_eq!(d.denominazione.as_deref(), Some("Officine Rossi & Figli S.r.l."));
    assert_eq!(d.unita_produttiva.as_deref(), Some("20099|SESTO SAN GIOVANNI|VIA ENRICO FERMI 7"));
    assert_eq!(d.periodo_dal.map(|d| d.to_string()).as_deref(), Some("2026-02-02"));
    assert_eq!(d.periodo_al.map(|d| d.to_string()).as_deref(), Some("2026-02-15"));
}

// ---- STRUTTURA ----

#[test]
fn str_001_required_element_missing() {
    let xml = mutate(VALID, 2, "      <Denominazione>Verdi Giuseppe</Denominazione>\n", "");
    check(
        &xml,
        Expect {
            domanda: 2,
            codes: &["STR-001"],
            xpath: "/RichiestaCIGO/Domanda[2]/QuadroA/Denominazione",
            at: "<QuadroA>",
            value: None,
        },
    );
}

#[test]
fn str_001_repeated_element_with_none() {
    let xml =
        mutate(VALID, 1, "<OreCIG settimana=\"1\">16</OreCIG>\n        <OreCIG settimana=\"2\">24.5</OreCIG>", "");
    check(
        &xml,
        Expect {
            domanda: 1,
            codes: &["STR-001"],
            xpath: "/RichiestaCIGO/Domanda[1]/Lavoratori/Lavoratore[3]/OreCIG",
            at: "<Lavoratore>\n        <CodiceFiscale>SPS",
            value: None,
        },
    );
}

#[test]
fn str_002_unexpected_element() {
    let xml = mutate(VALID, 1, "<Cap>20099</Cap>", "<Cap>20099</Cap><Extra>x</Extra>");
    check(
        &xml,
        Expect {
            domanda: 1,
            codes: &["STR-002"],
            xpath: "/RichiestaCIGO/Domanda[1]/QuadroB/Extra",
            at: "<Extra>",
            value: Some("Extra"),
        },
    );
}

#[test]
fn str_002_element_in_another_namespace() {
    let xml =
        mutate(VALID, 2, "<Comune>Torino</Comune>", "<Comune>Torino</Comune><x:Nota xmlns:x=\"urn:altro\">y</x:Nota>");
    check(
        &xml,
        Expect {
            domanda: 2,
            codes: &["STR-002"],
            xpath: "/RichiestaCIGO/Domanda[2]/QuadroA/x:Nota",
            at: "<x:Nota",
            value: Some("x:Nota"),
        },
    );
}

#[test]
fn str_002_out_of_sequence_and_repeated() {
    let xml = mutate(
        VALID,
        2,
        "<Cognome>Greco</Cognome>\n        <Nome>Paolo</Nome>",
        "<Nome>Paolo</Nome>\n        <Cognome>Greco</Cognome>",
    );
    check(
        &xml,
        Expect {
            domanda: 2,
            codes: &["STR-002", "STR-001"],
            xpath: "/RichiestaCIGO/Domanda[2]/Lavoratori/Lavoratore[2]/Cognome",
            at: "<Cognome>Greco",
            value: Some("Cognome"),
        },
    );
    let xml = mutate(
        VALID,
        2,
        "<Matricola>7098765432</Matricola>",
        "<Matricola>7098765432</Matricola><Matricola>7098765432</Matricola>",
    );
    check(
        &xml,
        Expect {
            domanda: 2,
            codes: &["STR-002"],
            xpath: "/RichiestaCIGO/Domanda[2]/QuadroA/Matricola[2]",
            at: "<Matricola>7098765432</Matricola>\n",
            value: None,
        },
    );
}

#[test]
fn str_003_date() {
    let xml = mutate(VALID, 1, "<PeriodoDal>2026-02-02</PeriodoDal>", "<PeriodoDal>2026-02-30</PeriodoDal>");
    check(
        &xml,
        Expect {
            domanda: 1,
            codes: &["STR-003"],
            xpath: "/RichiestaCIGO/Domanda[1]/QuadroC/PeriodoDal",
            at: "<PeriodoDal>",
            value: Some("2026-02-30"),
        },
    );
}

#[test]
fn str_003_decimal() {
    let xml = mutate(VALID, 1, "<OreCIG settimana=\"2\">12</OreCIG>", "<OreCIG settimana=\"2\">12,5</OreCIG>");
    check(
        &xml,
        Expect {
            domanda: 1,
            codes: &["STR-003"],
            xpath: "/RichiestaCIGO/Domanda[1]/Lavoratori/Lavoratore[2]/OreCIG[2]",
            at: "<OreCIG settimana=\"2\">12,5",
            value: Some("12,5"),
        },
    );
}

#[test]
fn str_003_integer_boolean_and_empty_text() {
    let xml =
        mutate(VALID, 2, "<LavoratoriInForza>6</LavoratoriInForza>", "<LavoratoriInForza>sei</LavoratoriInForza>");
    check(
        &xml,
        Expect {
            domanda: 2,
            codes: &["STR-003"],
            xpath: "/RichiestaCIGO/Domanda[2]/QuadroA/LavoratoriInForza",
            at: "<LavoratoriInForza>",
            value: Some("sei"),
        },
    );
    let xml = mutate(
        VALID,
        2,
        "<ConsultazioneSindacale>false</ConsultazioneSindacale>",
        "<ConsultazioneSindacale>no</ConsultazioneSindacale>",
    );
    check(
        &xml,
        Expect {
            domanda: 2,
            codes: &["STR-003"],
            xpath: "/RichiestaCIGO/Domanda[2]/QuadroC/ConsultazioneSindacale",
            at: "<ConsultazioneSindacale>",
            value: Some("no"),
        },
    );
    let xml = mutate(VALID, 2, "<Comune>Torino</Comune>", "<Comune>  </Comune>");
    check(
        &xml,
        Expect {
            domanda: 2,
            codes: &["STR-003"],
            xpath: "/RichiestaCIGO/Domanda[2]/QuadroA/Comune",
            at: "<Comune>",
            value: None,
        },
    );
}

#[test]
fn str_004_enumeration() {
    let xml = mutate(VALID, 2, "<Causale>EVENTI_METEO</Causale>", "<Causale>MALTEMPO</Causale>");
    check(
        &xml,
        Expect {
            domanda: 2,
            codes: &["STR-004"],
            xpath: "/RichiestaCIGO/Domanda[2]/QuadroC/Causale",
            at: "<Causale>",
            value: Some("MALTEMPO"),
        },
    );
    let xml = mutate(VALID, 1, "qualifica=\"IMPIEGATI\"", "qualifica=\"IMPIEGATE\"");
    check(
        &xml,
        Expect {
            domanda: 1,
            codes: &["STR-004"],
            xpath: "/RichiestaCIGO/Domanda[1]/QuadroE/Riga[2]/@qualifica",
            at: "<Riga tipoOrario=\"PART_TIME\"",
            value: Some("IMPIEGATE"),
        },
    );
}

#[test]
fn str_005_attribute_missing() {
    let xml = mutate(VALID, 2, "<OreCIG settimana=\"1\">32</OreCIG>", "<OreCIG>32</OreCIG>");
    check(
        &xml,
        Expect {
            domanda: 2,
            codes: &["STR-005"],
            xpath: "/RichiestaCIGO/Domanda[2]/Lavoratori/Lavoratore[1]/OreCIG[1]/@settimana",
            at: "<OreCIG>32",
            value: None,
        },
    );
}

#[test]
fn str_006_attribute_not_expected() {
    let xml = mutate(VALID, 2, "<Domanda progressivo=\"2\">", "<Domanda progressivo=\"2\" urgente=\"si\">");
    check(
        &xml,
        Expect {
            domanda: 2,
            codes: &["STR-006"],
            xpath: "/RichiestaCIGO/Domanda[2]/@urgente",
            at: "<Domanda",
            value: Some("si"),
        },
    );
}

#[test]
fn str_007_text_not_expected() {
    let xml = mutate(VALID, 2, "<QuadroB>", "<QuadroB>testo");
    check(
        &xml,
        Expect {
            domanda: 2,
            codes: &["STR-007"],
            xpath: "/RichiestaCIGO/Domanda[2]/QuadroB",
            at: "<QuadroB>",
            value: None,
        },
    );
}

// ---- CAMPI ----

#[test]
fn cam_001_matricola() {
    let xml = mutate(VALID, 2, "<Matricola>7098765432</Matricola>", "<Matricola>709876543</Matricola>");
    check(
        &xml,
        Expect {
            domanda: 2,
            codes: &["CAM-001"],
            xpath: "/RichiestaCIGO/Domanda[2]/QuadroA/Matricola",
            at: "<Matricola>",
            value: Some("709876543"),
        },
    );
}

#[test]
fn cam_002_codice_fiscale_azienda() {
    let xml =
        mutate(VALID, 1, "<CodiceFiscale>12345678903</CodiceFiscale>", "<CodiceFiscale>12345678901</CodiceFiscale>");
    check(
        &xml,
        Expect {
            domanda: 1,
            codes: &["CAM-002"],
            xpath: "/RichiestaCIGO/Domanda[1]/QuadroA/CodiceFiscale",
            at: "<CodiceFiscale>1234",
            value: Some("12345678901"),
        },
    );
    // A sole trader's 16-character code with a wrong check character.
    let xml = mutate(VALID, 2, "VRDGPP60D12L219U", "VRDGPP60D12L219V");
    check(
        &xml,
        Expect {
            domanda: 2,
            codes: &["CAM-002"],
            xpath: "/RichiestaCIGO/Domanda[2]/QuadroA/CodiceFiscale",
            at: "<CodiceFiscale>VRD",
            value: Some("VRDGPP60D12L219V"),
        },
    );
}

#[test]
fn cam_003_codice_fiscale_lavoratore() {
    let xml = mutate(VALID, 1, "BNCGLI90C45F205Y", "BNCGLI90C45F205X");
    check(
        &xml,
        Expect {
            domanda: 1,
            codes: &["CAM-003"],
            xpath: "/RichiestaCIGO/Domanda[1]/Lavoratori/Lavoratore[2]/CodiceFiscale",
            at: "<CodiceFiscale>BNC",
            value: Some("BNCGLI90C45F205X"),
        },
    );
}

#[test]
fn cam_004_provincia() {
    let xml =
        mutate(VALID, 1, "<Provincia>MI</Provincia>\n      <Cap>20099", "<Provincia>XX</Provincia>\n      <Cap>20099");
    check(
        &xml,
        Expect {
            domanda: 1,
            codes: &["CAM-004"],
            xpath: "/RichiestaCIGO/Domanda[1]/QuadroB/Provincia",
            at: "<Provincia>XX",
            value: Some("XX"),
        },
    );
}

#[test]
fn cam_005_cap() {
    let xml = mutate(VALID, 1, "<Cap>20121</Cap>", "<Cap>2012</Cap>");
    check(
        &xml,
        Expect {
            domanda: 1,
            codes: &["CAM-005"],
            xpath: "/RichiestaCIGO/Domanda[1]/QuadroA/Cap",
            at: "<Cap>2012<",
            value: Some("2012"),
        },
    );
}

// ---- COERENZA ----

#[test]
fn coe_001_period_reversed() {
    let xml = mutate(VALID, 2, "<PeriodoAl>2026-03-08</PeriodoAl>", "<PeriodoAl>2026-02-27</PeriodoAl>");
    check(
        &xml,
        Expect {
            domanda: 2,
            codes: &["COE-001"],
            xpath: "/RichiestaCIGO/Domanda[2]/QuadroC/PeriodoAl",
            at: "<PeriodoAl>",
            value: Some("2026-02-27"),
        },
    );
}

#[test]
fn coe_002_more_than_13_weeks() {
    let xml = mutate(
        VALID,
        2,
        "<PeriodoAl>2026-03-08</PeriodoAl>\n      <NumeroSettimane>1<",
        "<PeriodoAl>2026-06-07</PeriodoAl>\n      <NumeroSettimane>14<",
    );
    check(
        &xml,
        Expect {
            domanda: 2,
            codes: &["COE-002"],
            xpath: "/RichiestaCIGO/Domanda[2]/QuadroC/PeriodoAl",
            at: "<PeriodoAl>",
            value: Some("2026-06-07"),
        },
    );
    // Exactly 13 weeks is fine.
    let xml = mutate(
        VALID,
        2,
        "<PeriodoAl>2026-03-08</PeriodoAl>\n      <NumeroSettimane>1<",
        "<PeriodoAl>2026-05-31</PeriodoAl>\n      <NumeroSettimane>13<",
    );
    assert!(run(&xml).domande.iter().all(|d| d.findings.is_empty()));
}

#[test]
fn coe_003_number_of_weeks_is_an_error() {
    let xml = mutate(VALID, 2, "<NumeroSettimane>1</NumeroSettimane>", "<NumeroSettimane>2</NumeroSettimane>");
    check(
        &xml,
        Expect {
            domanda: 2,
            codes: &["COE-003"],
            xpath: "/RichiestaCIGO/Domanda[2]/QuadroC/NumeroSettimane",
            at: "<NumeroSettimane>",
            value: Some("2"),
        },
    );
}

#[test]
fn coe_004_more_than_40_hours_within_the_contract_is_a_notice() {
    // A 45-hour contract: 41 hours of CIG are paid (art. 3 c. 1), with a notice; beyond the
    // contract they are an error (COE-005), whatever the 40 hours.
    let xml = mutate(VALID, 2, "<OreCIG settimana=\"1\">32</OreCIG>", "<OreCIG settimana=\"1\">41</OreCIG>");
    let xml = mutate(&xml, 2, "<TotaleOreCIG>64</TotaleOreCIG>", "<TotaleOreCIG>73</TotaleOreCIG>");
    let contratto = segment_text(&xml, 2, "OreSettimanaliContrattuali");
    let over = mutate(&xml, 2, &format!("<OreSettimanaliContrattuali>{contratto}"), "<OreSettimanaliContrattuali>45");
    let e = run(&over);
    let codes: Vec<_> = e.domande[1]
        .findings
        .iter()
        .map(|f| f.code.as_str())
        .collect();
    assert_eq!(codes, ["COE-004"], "{:#?}", e.domande[1].findings);
    assert_eq!(e.domande[1].esito, EsitoDomanda::ValidaConAvvisi);
    check(
        &xml,
        Expect {
            domanda: 2,
            codes: &["COE-005"],
            xpath: "/RichiestaCIGO/Domanda[2]/Lavoratori/Lavoratore[1]/OreCIG[1]",
            at: "<OreCIG settimana=\"1\">41",
            value: Some("41"),
        },
    );
}

#[test]
fn coe_005_more_than_contractual_hours() {
    let xml = mutate(VALID, 1, "<OreCIG settimana=\"2\">12</OreCIG>", "<OreCIG settimana=\"2\">22</OreCIG>");
    let xml = mutate(&xml, 1, "<TotaleOreCIG>142.5</TotaleOreCIG>", "<TotaleOreCIG>152.5</TotaleOreCIG>");
    check(
        &xml,
        Expect {
            domanda: 1,
            codes: &["COE-005"],
            xpath: "/RichiestaCIGO/Domanda[1]/Lavoratori/Lavoratore[2]/OreCIG[2]",
            at: "<OreCIG settimana=\"2\">22",
            value: Some("22"),
        },
    );
}

#[test]
fn coe_006_total_hours_is_an_error() {
    let xml = mutate(VALID, 1, "<TotaleOreCIG>142.5</TotaleOreCIG>", "<TotaleOreCIG>100</TotaleOreCIG>");
    check(
        &xml,
        Expect {
            domanda: 1,
            codes: &["COE-006"],
            xpath: "/RichiestaCIGO/Domanda[1]/QuadroC/TotaleOreCIG",
            at: "<TotaleOreCIG>",
            value: Some("100"),
        },
    );
}

#[test]
fn coe_007_quadro_e_against_workers() {
    let xml = mutate(
        VALID,
        2,
        "<OrarioRidotto>2</OrarioRidotto>\n        <TotaleInCIG>2</TotaleInCIG>",
        "<OrarioRidotto>3</OrarioRidotto>\n        <TotaleInCIG>3</TotaleInCIG>",
    );
    check(
        &xml,
        Expect {
            domanda: 2,
            codes: &["COE-007"],
            xpath: "/RichiestaCIGO/Domanda[2]/QuadroE/Riga[1]/TotaleInCIG",
            at: "<TotaleInCIG>",
            value: Some("3"),
        },
    );
    // A worker whose (tipo orario, qualifica) has no row: the finding points at QuadroE.
    let xml = mutate(VALID, 2, "<TipoOrario>TEMPO_PIENO</TipoOrario>\n        <OreSettimanaliContrattuali>40</OreSettimanaliContrattuali>\n        <OreCIG settimana=\"1\">32</OreCIG>\n      </Lavoratore>\n    </Lavoratori>", "<TipoOrario>INSERIMENTO</TipoOrario>\n        <OreSettimanaliContrattuali>40</OreSettimanaliContrattuali>\n        <OreCIG settimana=\"1\">32</OreCIG>\n      </Lavoratore>\n    </Lavoratori>");
    let e = run(&xml);
    let codes: Vec<_> = e.domande[1]
        .findings
        .iter()
        .map(|f| (f.code.as_str(), f.xpath.as_deref().unwrap_or("")))
        .collect();
    assert_eq!(
        codes,
        vec![
            ("COE-007", "/RichiestaCIGO/Domanda[2]/QuadroE/Riga[1]/TotaleInCIG"),
            ("COE-007", "/RichiestaCIGO/Domanda[2]/QuadroE"),
            // Rule set 2: an inserimento worker also needs his contract in quadro Q.
            ("COE-035", "/RichiestaCIGO/Domanda[2]/Lavoratori/Lavoratore[2]/CodiceFiscale")
        ]
    );
}

#[test]
fn coe_008_quadro_e_row() {
    let xml = mutate(VALID, 2, "<Sospesi>0</Sospesi>", "<Sospesi>1</Sospesi>");
    check(
        &xml,
        Expect {
            domanda: 2,
            codes: &["COE-008"],
            xpath: "/RichiestaCIGO/Domanda[2]/QuadroE/Riga[1]/TotaleInCIG",
            at: "<TotaleInCIG>",
            value: Some("2"),
        },
    );
}

#[test]
fn coe_009_quadro_e_duplicate_row() {
    let extra = "<Riga tipoOrario=\"TEMPO_PIENO\" qualifica=\"OPERAI\"><InForza>0</InForza><Sospesi>0</Sospesi><OrarioRidotto>0</OrarioRidotto><TotaleInCIG>0</TotaleInCIG></Riga>\n    </QuadroE>";
    let xml = mutate(VALID, 1, "</QuadroE>", extra);
    check(
        &xml,
        Expect {
            domanda: 1,
            codes: &["COE-009"],
            xpath: "/RichiestaCIGO/Domanda[1]/QuadroE/Riga[3]",
            at: "<Riga tipoOrario=\"TEMPO_PIENO\" qualifica=\"OPERAI\"><InForza>0",
            value: None,
        },
    );
}

#[test]
fn coe_010_week_outside_the_period() {
    let xml = mutate(VALID, 2, "<OreCIG settimana=\"1\">32</OreCIG>", "<OreCIG settimana=\"2\">32</OreCIG>");
    check(
        &xml,
        Expect {
            domanda: 2,
            codes: &["COE-010"],
            xpath: "/RichiestaCIGO/Domanda[2]/Lavoratori/Lavoratore[1]/OreCIG[1]/@settimana",
            at: "<OreCIG settimana=\"2\">",
            value: Some("2"),
        },
    );
}

#[test]
fn coe_011_same_week_twice() {
    let xml = mutate(VALID, 1, "<OreCIG settimana=\"2\">40</OreCIG>", "<OreCIG settimana=\"1\">40</OreCIG>");
    check(
        &xml,
        Expect {
            domanda: 1,
            codes: &["COE-011"],
            xpath: "/RichiestaCIGO/Domanda[1]/Lavoratori/Lavoratore[1]/OreCIG[2]/@settimana",
            at: "<OreCIG settimana=\"1\">40</OreCIG>\n      </Lavoratore>",
            value: Some("1"),
        },
    );
}

#[test]
fn coe_012_dirigente() {
    let xml = mutate(VALID, 2, "<Qualifica>OPERAIO</Qualifica>", "<Qualifica>DIRIGENTE</Qualifica>");
    let xml = mutate(
        &xml,
        2,
        "<OrarioRidotto>2</OrarioRidotto>\n        <TotaleInCIG>2</TotaleInCIG>",
        "<OrarioRidotto>1</OrarioRidotto>\n        <TotaleInCIG>1</TotaleInCIG>",
    );
    check(
        &xml,
        Expect {
            domanda: 2,
            codes: &["COE-012"],
            xpath: "/RichiestaCIGO/Domanda[2]/Lavoratori/Lavoratore[2]/Qualifica",
            at: "<Qualifica>DIRIGENTE",
            value: Some("DIRIGENTE"),
        },
    );
}

#[test]
fn coe_058_altro_is_not_a_causale_of_the_dm() {
    // Described or not: the DM's causali are the ones CIGO is granted for.
    for to in [
        "<Causale>ALTRO</Causale>",
        "<Causale>ALTRO</Causale><DescrizioneCausale>Allagamento del parcheggio</DescrizioneCausale>",
    ] {
        let xml = mutate(VALID, 1, "<Causale>MANCANZA_LAVORO</Causale>", to);
        check(
            &xml,
            Expect {
                domanda: 1,
                codes: &["COE-058"],
                xpath: "/RichiestaCIGO/Domanda[1]/QuadroC/Causale",
                at: "<Causale>",
                value: Some("ALTRO"),
            },
        );
    }
}

#[test]
fn coe_014_same_worker_twice() {
    let xml = mutate(
        VALID,
        2,
        "<CodiceFiscale>GRCPLA69M30L219K</CodiceFiscale>",
        "<CodiceFiscale>clmndr95h02a794y</CodiceFiscale>",
    );
    check(
        &xml,
        Expect {
            domanda: 2,
            codes: &["COE-014"],
            xpath: "/RichiestaCIGO/Domanda[2]/Lavoratori/Lavoratore[2]/CodiceFiscale",
            at: "<CodiceFiscale>clm",
            value: Some("clmndr95h02a794y"),
        },
    );
}

#[test]
fn coe_015_overlapping_domande_of_one_richiesta() {
    // Domanda 2 for the same matricola and unit (written differently), one week inside domanda 1's period.
    let mut xml = mutate(VALID, 2, "<Matricola>7098765432</Matricola>", "<Matricola>5012345678</Matricola>");
    xml = mutate(&xml, 2, "<QuadroB>\n      <Indirizzo>Corso Giulio Cesare 45</Indirizzo>\n      <Comune>Torino</Comune>\n      <Provincia>TO</Provincia>\n      <Cap>10121</Cap>", "<QuadroB>\n      <Indirizzo>via  enrico fermi 7</Indirizzo>\n      <Comune>SESTO SAN GIOVANNI</Comune>\n      <Provincia>MI</Provincia>\n      <Cap>20099</Cap>");
    xml = mutate(
        &xml,
        2,
        "<PeriodoDal>2026-03-02</PeriodoDal>\n      <PeriodoAl>2026-03-08</PeriodoAl>",
        "<PeriodoDal>2026-02-09</PeriodoDal>\n      <PeriodoAl>2026-02-15</PeriodoAl>",
    );
    check(
        &xml,
        Expect {
            domanda: 2,
            codes: &["COE-015"],
            xpath: "/RichiestaCIGO/Domanda[2]/QuadroC/PeriodoDal",
            at: "<PeriodoDal>",
            value: Some("1"),
        },
    );
    // The week after: no overlap.
    let xml = xml.replace(
        "<PeriodoDal>2026-02-09</PeriodoDal>\n      <PeriodoAl>2026-02-15</PeriodoAl>",
        "<PeriodoDal>2026-02-16</PeriodoDal>\n      <PeriodoAl>2026-02-22</PeriodoAl>",
    );
    assert!(run(&xml).domande.iter().all(|d| d.findings.is_empty()));
}

/// Domanda 2 moved into domanda 1's period, with one of domanda 1's workers in place of its second.
fn same_worker_in_domanda_2(matricola: &str) -> String {
    let mut xml = mutate(VALID, 2, "<Matricola>7098765432</Matricola>", &format!("<Matricola>{matricola}</Matricola>"));
    xml = mutate(
        &xml,
        2,
        "<PeriodoDal>2026-03-02</PeriodoDal>\n      <PeriodoAl>2026-03-08</PeriodoAl>",
        "<PeriodoDal>2026-02-09</PeriodoDal>\n      <PeriodoAl>2026-02-15</PeriodoAl>",
    );
    mutate(
        &xml,
        2,
        "<CodiceFiscale>GRCPLA69M30L219K</CodiceFiscale>",
        "<CodiceFiscale>rssmra85t10a562s</CodiceFiscale>",
    )
}

#[test]
fn coe_060_the_same_workers_of_one_matricola_at_another_unit() {
    // The same matricola, the unit in Torino instead of Sesto San Giovanni: the same suspension.
    check(
        &same_worker_in_domanda_2("5012345678"),
        Expect {
            domanda: 2,
            codes: &["COE-060"],
            xpath: "/RichiestaCIGO/Domanda[2]/Lavoratori/Lavoratore[2]/CodiceFiscale",
            at: "<CodiceFiscale>rss",
            value: Some("1"),
        },
    );
    let e = run(&same_worker_in_domanda_2("5012345678"));
    let f = &e.domande[1].findings[0];
    assert!(f.message.contains("RSSMRA85T10A562S") && f.message.contains("domanda 1"), "{}", f.message);
    // Without the common worker: two suspensions of two units, no finding.
    let xml = mutate(
        &same_worker_in_domanda_2("5012345678"),
        2,
        "<CodiceFiscale>rssmra85t10a562s</CodiceFiscale>",
        "<CodiceFiscale>GRCPLA69M30L219K</CodiceFiscale>",
    );
    assert!(run(&xml).domande.iter().all(|d| d.findings.is_empty()));
}

#[test]
fn coe_061_the_same_worker_with_another_matricola() {
    check(
        &same_worker_in_domanda_2("7098765432"),
        Expect {
            domanda: 2,
            codes: &["COE-061"],
            xpath: "/RichiestaCIGO/Domanda[2]/Lavoratori/Lavoratore[2]/CodiceFiscale",
            at: "<CodiceFiscale>rss",
            value: Some("1"),
        },
    );
    assert_eq!(run(&same_worker_in_domanda_2("7098765432")).domande[1].esito, EsitoDomanda::ValidaConAvvisi);
}

#[test]
fn str_099_one_round_of_errors() {
    // A structure error in quadro C and a wrong provincia in quadro A: both at once, and a notice
    // of what could not be checked (the field checks of the quadro not read, the coherence).
    let xml = mutate(VALID, 1, "<NumeroSettimane>2</NumeroSettimane>", "<NumeroSettimane>due</NumeroSettimane>");
    let xml = mutate(&xml, 1, "<Provincia>MI</Provincia>", "<Provincia>XX</Provincia>");
    let e = run(&xml);
    let d = &e.domande[0];
    let codes: Vec<&str> = d.findings.iter().map(|f| f.code.as_str()).collect();
    assert_eq!(codes, ["STR-003", "CAM-004", "STR-099"], "{:#?}", d.findings);
    assert_eq!(d.esito, EsitoDomanda::Scartata);
    let notice = &d.findings[2];
    assert_eq!(notice.severity, Severity::Avviso);
    assert_eq!(notice.xpath.as_deref(), Some("/RichiestaCIGO/Domanda[1]"));
    assert!(notice.message.contains("coerenza"), "{}", notice.message);
    // Quadro C is not one the field checks read: not named.
    assert!(!notice.message.contains("QuadroC"), "{}", notice.message);
    assert!(e.domande[1].findings.is_empty());

    // A structure error among the workers: their field checks are the ones not run, named.
    let xml = mutate(VALID, 1, "<Cognome>Rossi</Cognome>", "<Cognome>Rossi</Cognome><Soprannome>x</Soprannome>");
    let d = &run(&xml).domande[0];
    let notice = d
        .findings
        .iter()
        .find(|f| f.code == "STR-099")
        .expect("STR-099");
    assert!(
        notice
            .message
            .contains("i controlli dei campi di Lavoratori"),
        "{}",
        notice.message
    );
}

#[test]
fn coe_016_progressivo() {
    let xml = mutate(VALID, 2, "<Domanda progressivo=\"2\">", "<Domanda progressivo=\"5\">");
    check(
        &xml,
        Expect {
            domanda: 2,
            codes: &["COE-016"],
            xpath: "/RichiestaCIGO/Domanda[2]/@progressivo",
            at: "<Domanda",
            value: Some("5"),
        },
    );
}

#[test]
fn coe_017_workers_in_force() {
    let xml = mutate(VALID, 2, "<LavoratoriInForza>6</LavoratoriInForza>", "<LavoratoriInForza>5</LavoratoriInForza>");
    check(
        &xml,
        Expect {
            domanda: 2,
            codes: &["COE-017"],
            xpath: "/RichiestaCIGO/Domanda[2]/QuadroA/LavoratoriInForza",
            at: "<LavoratoriInForza>",
            value: Some("5"),
        },
    );
}

#[test]
fn coe_018_activity_started_after_the_period() {
    let xml = mutate(
        VALID,
        1,
        "<DataInizioAttivita>1998-03-01</DataInizioAttivita>",
        "<DataInizioAttivita>2026-02-10</DataInizioAttivita>",
    );
    check(
        &xml,
        Expect {
            domanda: 1,
            codes: &["COE-018"],
            xpath: "/RichiestaCIGO/Domanda[1]/QuadroA/DataInizioAttivita",
            at: "<DataInizioAttivita>",
            value: Some("2026-02-10"),
        },
    );
}

#[test]
fn coe_099_findings_are_capped_errors_first() {
    // A warning first (the progressivo), then errors (hours over the contract) on the workers of
    // domanda 1.
    let mut xml = mutate(VALID, 1, "progressivo=\"1\"", "progressivo=\"9\"");
    xml = xml
        .replace(">40</OreCIG>", ">45</OreCIG>")
        .replace(">16</OreCIG>", ">50</OreCIG>");
    let limits = Limits { max_findings_per_domanda: 2, ..Limits::default() };
    let e = prevalidate(xml.as_bytes(), &limits);
    let d = &e.domande[0];
    let codes: Vec<_> = d.findings.iter().map(|f| f.code.as_str()).collect();
    assert_eq!(codes, vec!["COE-005", "COE-005", "COE-099"], "{:#?}", d.findings);
    assert_eq!(d.findings[2].severity, Severity::Avviso);
    assert_eq!(d.esito, EsitoDomanda::Scartata);
}

#[test]
fn values_are_truncated_to_200_characters() {
    let long = "9".repeat(300);
    let xml = mutate(VALID, 1, "<TotaleOreCIG>142.5</TotaleOreCIG>", &format!("<TotaleOreCIG>{long}</TotaleOreCIG>"));
    let e = run(&xml);
    let f = &e.domande[0].findings[0];
    assert_eq!(f.code, "STR-003");
    assert_eq!(f.value.as_ref().unwrap().chars().count(), 201); // 200 + the ellipsis
}

fn at(xml: &str, data_presentazione: &str) -> EsitoPrevalidazione {
    let limits = Limits { data_presentazione: Some(data_presentazione.parse().unwrap()), ..Limits::default() };
    prevalidate(xml.as_bytes(), &limits)
}

fn codes_of(e: &EsitoPrevalidazione, n: usize) -> Vec<&str> {
    e.domande[n]
        .findings
        .iter()
        .map(|f| f.code.as_str())
        .collect()
}

#[test]
fn coe_055_057_the_deadline_at_the_filing_date() {
    // Domanda 1: MANCANZA_LAVORO from Monday 2026-02-02 to Sunday 2026-02-15, deadline 15 days
    // from the start (2026-02-17). Domanda 2: EVENTI_METEO in March, deadline end of April.
    let e = at(VALID, "2026-02-17");
    assert!(e.domande.iter().all(|d| d.findings.is_empty()), "{:#?}", e.domande);
    // A day late: paid from the Monday of the week before the filing week (2026-02-09).
    let e = at(VALID, "2026-02-18");
    assert_eq!(codes_of(&e, 0), ["COE-055"]);
    let f = &e.domande[0].findings[0];
    assert!(f.message.contains("09/02/2026") && f.message.contains("17/02/2026"), "{}", f.message);
    assert_eq!(f.xpath.as_deref(), Some("/RichiestaCIGO/Domanda[1]/QuadroC/PeriodoDal"));
    assert_eq!(e.domande[0].esito, EsitoDomanda::ValidaConAvvisi);
    assert!(codes_of(&e, 1).is_empty(), "filed before its period, domanda 2 is in time");
    // Filed on 2026-02-25: paid from 2026-02-16, after the period: nothing is paid.
    let e = at(VALID, "2026-02-25");
    assert_eq!(codes_of(&e, 0), ["COE-057"]);
    assert_eq!(e.domande[0].findings[0].xpath.as_deref(), Some("/RichiestaCIGO/Domanda[1]/QuadroC/PeriodoAl"));
    assert_eq!(e.domande[0].esito, EsitoDomanda::Scartata);
}

#[test]
fn coe_055_an_evento_non_evitabile_by_the_end_of_the_month_after_the_event() {
    // Weather in March 2026: in time until 30 April, not on 1 May.
    assert!(codes_of(&at(VALID, "2026-04-30"), 1).is_empty());
    assert_eq!(codes_of(&at(VALID, "2026-05-01"), 1), ["COE-057"]);
    // (The month of the event in the relazione tecnica, when given: see termini.rs.)
}

#[test]
fn coe_037_seniority_at_the_filing_date() {
    // Hired on 2026-01-10: 23 days at the start of the period (2026-02-02), 36 at a filing on
    // 2026-02-15 (art. 1 c. 2: "alla data di presentazione della domanda").
    let xml = mutate(
        VALID,
        1,
        "<OreSettimanaliContrattuali>20</OreSettimanaliContrattuali>",
        "<OreSettimanaliContrattuali>20</OreSettimanaliContrattuali><DataAssunzione>2026-01-10</DataAssunzione>",
    );
    assert_eq!(codes_of(&run(&xml), 0), ["COE-037"], "no filing date: measured at PeriodoDal");
    assert!(codes_of(&at(&xml, "2026-02-15"), 0).is_empty());
    let e = at(&xml, "2026-02-05");
    assert_eq!(codes_of(&e, 0), ["COE-037"]);
    assert!(e.domande[0].findings[0].message.contains("05/02/2026"), "{}", e.domande[0].findings[0].message);
}

#[test]
fn coe_059_resumption_not_foreseeable_is_an_error() {
    let xml = mutate(VALID, 1, "</QuadroC>", "</QuadroC><QuadroD><Ripresa>NON_PREVEDIBILE</Ripresa></QuadroD>");
    let e = run(&xml);
    assert_eq!(codes_of(&e, 0), ["COE-059", "COE-021"], "{:#?}", e.domande[0].findings);
    assert_eq!(e.domande[0].esito, EsitoDomanda::Scartata);
}
