//! The XSD matches the parser: xmllint accepts the examples and generated files, and on a set of
//! structural edits xmllint rejects a file exactly when prevalidation reports a STR or FIL finding.
//! Without xmllint the tests print a note and pass (CI installs libxml2-utils).

mod mutations;

use cigo_domain::{generate, generate_versione, prevalidate, GenerateOptions, Layer, Limits, Versione, XSD_V1, XSD_V2};
use std::io::Write;
use std::path::PathBuf;
use std::process::Command;

const VALID: &str = include_str!("../../../docs/examples/valid.xml");

fn xmllint_present() -> bool {
    let ok = Command::new("xmllint")
        .arg("--version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !ok {
        eprintln!("NOTE: xmllint not found; XSD validation skipped (install libxml2-utils)");
    }
    ok
}

fn tmp(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cigo-xsd-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::File::create(&p).unwrap().write_all(bytes).unwrap();
    p
}

fn xsd_valid(xml: &[u8], name: &str) -> (bool, String) {
    xsd_valid_against(XSD_V1, xml, name)
}

fn xsd_valid_against(schema: &str, xml: &[u8], name: &str) -> (bool, String) {
    let xsd = tmp(&format!("{name}.xsd"), schema.as_bytes());
    let f = tmp(name, xml);
    let out = Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(&xsd)
        .arg(&f)
        .output()
        .unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn examples_and_generated_files_validate() {
    if !xmllint_present() {
        return;
    }
    for (name, xml) in [
        ("valid.xml", VALID),
        ("avvisi.xml", include_str!("../../../docs/examples/avvisi.xml")),
        ("scartata.xml", include_str!("../../../docs/examples/scartata.xml")),
    ] {
        let (ok, err) = xsd_valid(xml.as_bytes(), name);
        assert!(ok, "{name}: {err}");
    }
    let mut g = Vec::new();
    generate(&GenerateOptions { domande: 50, invalid_ratio: 0.0, seed: 2026 }, &mut g).unwrap();
    let (ok, err) = xsd_valid(&g, "generated.xml");
    assert!(ok, "{err}");
}

#[test]
fn version_2_files_validate_against_their_own_schema_only() {
    if !xmllint_present() {
        return;
    }
    let opts = GenerateOptions { domande: 50, invalid_ratio: 0.0, seed: 2026 };
    let mut v2 = Vec::new();
    generate_versione(&opts, Versione::V2, &mut v2).unwrap();
    let (ok, err) = xsd_valid_against(XSD_V2, &v2, "generated-v2.xml");
    assert!(ok, "{err}");
    let (ok, _) = xsd_valid_against(XSD_V1, &v2, "generated-v2-as-v1.xml");
    assert!(!ok, "a v2 file must not pass the v1 schema");
    let mut v1 = Vec::new();
    generate(&opts, &mut v1).unwrap();
    let (ok, _) = xsd_valid_against(XSD_V2, &v1, "generated-v1-as-v2.xml");
    assert!(!ok, "a v1 file must not pass the v2 schema");
    // The prevalidation agrees: no structural finding on the v2 file.
    assert!(!structural(std::str::from_utf8(&v2).unwrap()));
}

fn structural(xml: &str) -> bool {
    let e = prevalidate(xml.as_bytes(), &Limits::default());
    e.file_finding.is_some()
        || e.domande.iter().any(|d| {
            d.findings
                .iter()
                .any(|f| f.layer == Layer::Struttura || f.layer == Layer::File)
        })
}

#[test]
fn xsd_and_structure_layer_agree() {
    if !xmllint_present() {
        return;
    }
    let edits: &[(&str, &str)] = &[
        ("<Denominazione>Verdi Giuseppe</Denominazione>", ""),
        ("<Attivita>Fabbricazione di prodotti in metallo</Attivita>", ""),
        ("<DataInizioAttivita>1998-03-01</DataInizioAttivita>", ""),
        ("<Cap>20099</Cap>", "<Cap>20099</Cap><Extra/>"),
        (
            "<Cognome>Greco</Cognome>\n        <Nome>Paolo</Nome>",
            "<Nome>Paolo</Nome>\n        <Cognome>Greco</Cognome>",
        ),
        ("<PeriodoDal>2026-02-02</PeriodoDal>", "<PeriodoDal>2026-02-30</PeriodoDal>"),
        ("<PeriodoDal>2026-02-02</PeriodoDal>", "<PeriodoDal> 2026-02-02 </PeriodoDal>"),
        ("<PeriodoDal>2026-02-02</PeriodoDal>", "<PeriodoDal>2026-02-02Z</PeriodoDal>"),
        ("<PeriodoDal>2026-02-02</PeriodoDal>", "<PeriodoDal>26-02-02</PeriodoDal>"),
        ("<OreCIG settimana=\"2\">12</OreCIG>", "<OreCIG settimana=\"2\">12,5</OreCIG>"),
        ("<OreCIG settimana=\"2\">12</OreCIG>", "<OreCIG settimana=\"2\">12.125</OreCIG>"),
        ("<OreCIG settimana=\"2\">12</OreCIG>", "<OreCIG settimana=\"2\">-1</OreCIG>"),
        ("<OreCIG settimana=\"2\">12</OreCIG>", "<OreCIG settimana=\"2\">\n 12.50 </OreCIG>"),
        ("<OreCIG settimana=\"2\">12</OreCIG>", "<OreCIG settimana=\"14\">12</OreCIG>"),
        ("<OreCIG settimana=\"2\">12</OreCIG>", "<OreCIG settimana=\"0\">12</OreCIG>"),
        ("<OreCIG settimana=\"2\">12</OreCIG>", "<OreCIG settimana=\" 2 \">12</OreCIG>"),
        ("<OreCIG settimana=\"2\">12</OreCIG>", "<OreCIG>12</OreCIG>"),
        ("<OreCIG settimana=\"2\">12</OreCIG>", "<OreCIG settimana=\"2\" extra=\"1\">12</OreCIG>"),
        ("<LavoratoriInForza>6</LavoratoriInForza>", "<LavoratoriInForza>sei</LavoratoriInForza>"),
        ("<LavoratoriInForza>6</LavoratoriInForza>", "<LavoratoriInForza>+6</LavoratoriInForza>"),
        (
            "<ConsultazioneSindacale>false</ConsultazioneSindacale>",
            "<ConsultazioneSindacale>0</ConsultazioneSindacale>",
        ),
        (
            "<ConsultazioneSindacale>false</ConsultazioneSindacale>",
            "<ConsultazioneSindacale> false </ConsultazioneSindacale>",
        ),
        ("<Causale>EVENTI_METEO</Causale>", "<Causale>MALTEMPO</Causale>"),
        ("<Causale>EVENTI_METEO</Causale>", "<Causale> EVENTI_METEO </Causale>"),
        ("<Causale>EVENTI_METEO</Causale>", "<Causale>eventi_meteo</Causale>"),
        ("qualifica=\"IMPIEGATI\"", "qualifica=\"IMPIEGATE\""),
        ("qualifica=\"IMPIEGATI\"", ""),
        ("<Comune>Torino</Comune>", "<Comune>   </Comune>"),
        ("<Comune>Torino</Comune>", "<Comune>  Torino   di  Sopra </Comune>"),
        ("<Comune>Torino</Comune>", "<Comune/>"),
        ("<Comune>Torino</Comune>", "<Comune><![CDATA[Torino]]></Comune>"),
        ("<Comune>Torino</Comune>", "<Comune>Tor<!-- c -->ino</Comune>"),
        ("<QuadroB>", "<QuadroB>testo"),
        ("<QuadroB>", "<QuadroB><!-- commento --><?pi x?>"),
        ("<Domanda progressivo=\"2\">", "<Domanda progressivo=\"2\" urgente=\"si\">"),
        ("<Domanda progressivo=\"2\">", "<Domanda>"),
        ("<Domanda progressivo=\"2\">", "<Domanda progressivo=\"0\">"),
        ("<Matricola>7098765432</Matricola>", "<Matricola>7098765432</Matricola><Matricola>1</Matricola>"),
        ("<Matricola>7098765432</Matricola>", "<Matricola>709876543212345678901</Matricola>"),
        ("<TipoDomanda>RICHIESTA</TipoDomanda>", ""),
        ("<TipoDomanda>RICHIESTA</TipoDomanda>", "<TipoDomanda>PROROGA</TipoDomanda>"),
        (
            "<Riga tipoOrario=\"PART_TIME\" qualifica=\"IMPIEGATI\">",
            "<Riga tipoOrario=\"PART_TIME\" qualifica=\"IMPIEGATI\"><Extra/>",
        ),
        ("<Matricola>7098765432</Matricola>", "<x:Matricola xmlns:x=\"urn:x\">7098765432</x:Matricola>"),
        ("<TotaleOreCIG>64</TotaleOreCIG>", "<TotaleOreCIG>64.</TotaleOreCIG>"),
        ("<TotaleOreCIG>64</TotaleOreCIG>", "<TotaleOreCIG>12345678</TotaleOreCIG>"),
    ];
    let mut disagreements = Vec::new();
    for (i, (from, to)) in edits.iter().enumerate() {
        assert!(VALID.contains(from), "{from}");
        let xml = VALID.replacen(from, to, 1);
        let (xsd_ok, err) = xsd_valid(xml.as_bytes(), &format!("edit{i}.xml"));
        let ours = !structural(&xml);
        if xsd_ok != ours {
            disagreements
                .push(format!("edit {i} {from:?} -> {to:?}: xmllint valid={xsd_ok}, ours valid={ours}\n{err}"));
        }
    }
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
}

/// The differential test over generated files, including every quadro: each mutation of the
/// coverage table (field and coherence rules: xmllint must accept, layer 2 must be silent) and each
/// structural edit of the quadri (both must reject), on two bases; plus generated files with faults.
#[test]
fn xsd_and_structure_layer_agree_on_generated_and_mutated_files() {
    if !xmllint_present() {
        return;
    }
    let mut files: Vec<(String, String)> = Vec::new();
    for seed in [3u64, 17] {
        let base = mutations::base(12, seed);
        files.push((format!("base {seed}"), base.clone()));
        for case in mutations::mutations() {
            if let Some((xml, pos)) = mutations::apply(&base, case.mutate) {
                files.push((format!("base {seed}, {} on domanda {pos}", case.code), xml));
            }
        }
        for (name, m) in mutations::structural_mutations() {
            if let Some((xml, pos)) = mutations::apply(&base, m) {
                files.push((format!("base {seed}, {name} on domanda {pos}"), xml));
            }
        }
    }
    for seed in 1..=3u64 {
        let mut g = Vec::new();
        generate(&GenerateOptions { domande: 20, invalid_ratio: 1.0, seed }, &mut g).unwrap();
        files.push((format!("generated with faults, seed {seed}"), String::from_utf8(g).unwrap()));
    }
    let mut disagreements = Vec::new();
    for (i, (name, xml)) in files.iter().enumerate() {
        let (xsd_ok, err) = xsd_valid(xml.as_bytes(), &format!("diff{i}.xml"));
        let ours = !structural(xml);
        if xsd_ok != ours {
            let first = err.lines().next().unwrap_or("");
            disagreements.push(format!("{name}: xmllint valid={xsd_ok}, ours valid={ours}: {first}"));
        }
    }
    assert!(files.len() > 80, "{}", files.len());
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
}
