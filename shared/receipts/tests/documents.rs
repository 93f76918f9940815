//! The documents as their readers see them: the PDF through poppler (`pdftotext`, `pdffonts`,
//! `pdftoppm`), the CSV through Python's `csv` module read as Excel reads it, the XML through
//! `xmllint --schema`. The tools are installed by `.ci/run`; a missing one fails the test.
//!
//! The PNG pages land in `target/receipts-png/` for a person to look at.

use cigo_receipts::{attestato_pdf, esito_csv, sample, EsitoCsv, EsitoXml, ESITO_XSD_V1};
use std::path::{Path, PathBuf};
use std::process::Command;

fn out_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/receipts-png");
    std::fs::create_dir_all(&dir).expect("target/receipts-png");
    dir
}

/// Runs `cmd args`, panics with its stderr when it fails, returns its stdout.
fn run(cmd: &str, args: &[&str]) -> String {
    let out = Command::new(cmd)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{cmd} is needed by this test (poppler-utils, libxml2-utils, python3): {e}"));
    assert!(out.status.success(), "{cmd} {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

fn pdf_text(pdf: &Path) -> String {
    run("pdftotext", &["-layout", "-enc", "UTF-8", pdf.to_str().unwrap(), "-"])
}

fn pages(text: &str) -> Vec<&str> {
    let mut pages: Vec<&str> = text.split('\u{c}').collect();
    if pages.last().is_some_and(|p| p.trim().is_empty()) {
        pages.pop();
    }
    pages
}

#[test]
fn the_consegna_of_2000_domande_prints_every_protocol_number_on_numbered_pages() {
    let a = sample::consegna(4711, 2000);
    let bytes = attestato_pdf(&a).expect("pdf");
    let path = out_dir().join("consegna-2000.pdf");
    std::fs::write(&path, &bytes).unwrap();

    let text = pdf_text(&path);
    let pages = pages(&text);
    let total = pages.len();
    assert!(total > 30, "2,000 domande take more than 30 pages, got {total}");
    let codice = a.codice_verifica().to_string();
    for (i, page) in pages.iter().enumerate() {
        assert!(page.contains("Richiesta n. 4711"), "page {} has no header:\n{page}", i + 1);
        assert!(page.contains(&format!("pagina {} di {total}", i + 1)), "page {} is not numbered", i + 1);
        assert!(page.contains(&codice), "page {} has no verification code", i + 1);
    }
    assert!(text.contains("Attestato di consegna"));
    assert!(text.contains("Officine Niccolò S.r.l."), "accents print");
    assert!(text.contains("Città di Castello"), "accents print");
    assert!(text.contains("3f5a0c1e9b7d2a4c6e8f0a1b3c5d7e9f2a4b6c8d0e1f3a5b7c9d1e3f5a7b9c0d"), "file hash");
    assert!(text.contains("1.760 domande protocollate, 200 scartate in prevalidazione, 40 in fase d'invio"), "esito");
    assert!(text.contains("02/03/2026 00:30:00 (UTC+01:00)"), "reception time in Rome");
    let Attestato::Consegna(c) = &a else { unreachable!() };
    assert!(text.contains(&c.codice_trasmissione.to_string()), "link to the trasmissione");
    for d in &c.protocollate {
        assert!(text.contains(&d.protocollo), "protocollo {} missing", d.protocollo);
    }
    for d in &c.scartate_in_invio {
        assert!(text.contains(&format!("{} ", d.progressivo)), "scartata {} missing", d.progressivo);
    }
    assert!(text.contains("ARC-001: Il periodo richiesto"));
    // Each table page starts with the table's header row again.
    let middle = pages[total / 2];
    assert!(middle.contains("Protocollo") && middle.contains("Denominazione"), "header row repeated:\n{middle}");

    // Fonts embedded (and subset), PDF/A identification and output intent present.
    let fonts = run("pdffonts", &[path.to_str().unwrap()]);
    let rows: Vec<&str> = fonts.lines().skip(2).collect();
    assert!(!rows.is_empty(), "{fonts}");
    for row in &rows {
        let cols: Vec<&str> = row.split_whitespace().collect();
        assert!(row.contains("DejaVuSans"), "{row}");
        assert_eq!(cols[cols.len() - 5], "yes", "font not embedded: {row}");
    }
    let raw = String::from_utf8_lossy(&bytes);
    assert!(raw.contains("<pdfaid:part>2</pdfaid:part>") && raw.contains("<pdfaid:conformance>U</pdfaid:conformance>"));
    assert!(raw.contains("/OutputIntents"), "an OutputIntent (sRGB)");

    // Pages for a person to look at: the first and a middle one.
    let png = out_dir().join("consegna-2000");
    let png = png.to_str().unwrap();
    let mid = (total / 2).to_string();
    run("pdftoppm", &["-png", "-r", "80", "-f", "1", "-l", "1", path.to_str().unwrap(), png]);
    run("pdftoppm", &["-png", "-r", "80", "-f", &mid, "-l", &mid, path.to_str().unwrap(), png]);
}

use cigo_domain::attestato::Attestato;

#[test]
fn the_trasmissione_lists_the_domande_sent_without_protocol_numbers() {
    let a = sample::trasmissione(4711, 120);
    let path = out_dir().join("trasmissione-120.pdf");
    std::fs::write(&path, attestato_pdf(&a).unwrap()).unwrap();
    let text = pdf_text(&path);
    assert!(text.contains("Attestato di trasmissione"));
    assert!(text.contains("02/03/2026 09:15:00 (UTC+01:00)"), "filing time in Rome:\n{text}");
    assert!(text.contains(&a.codice_verifica().to_string()));
    assert!(text.contains("Domande trasmesse (108)"));
    assert!(text.contains("Àncora Müller S.r.l. 3"), "{text}");
    assert!(!text.contains("CIGO-2026-"), "no protocol number before sending");
    assert!(text.contains("pagina 1 di "));
    let png = out_dir().join("trasmissione-120");
    run("pdftoppm", &["-png", "-r", "80", "-f", "1", "-l", "1", path.to_str().unwrap(), png.to_str().unwrap()]);
}

#[test]
fn the_same_attestato_gives_the_same_bytes() {
    let a = sample::consegna(12, 300);
    let first = attestato_pdf(&a).unwrap();
    assert_eq!(first, attestato_pdf(&a).unwrap());
    assert!(first.starts_with(b"%PDF-1.7"), "PDF/A-2 is PDF 1.7");
    let other = sample::consegna(13, 300);
    assert_ne!(first, attestato_pdf(&other).unwrap());
}

#[test]
fn an_empty_consegna_still_renders_one_page() {
    let a = sample::consegna(1, 6); // all six protocollate
    let path = out_dir().join("consegna-6.pdf");
    std::fs::write(&path, attestato_pdf(&a).unwrap()).unwrap();
    let text = pdf_text(&path);
    assert!(text.contains("pagina 1 di 1"));
    assert!(text.contains("Nessuna domanda scartata in fase d'invio."));
    assert!(text.contains("6 domande protocollate, 0 scartate in prevalidazione, 0 in fase d'invio"), "{text}");
}

const EXCEL_READER: &str = r#"
import csv, json, sys
path = sys.argv[1]
raw = open(path, 'rb').read()
assert raw.startswith(b'\xef\xbb\xbf'), 'BOM'
# What Excel does with a ;-separated UTF-8 file with BOM: the 'excel' dialect, ';' separator.
with open(path, encoding='utf-8-sig', newline='') as f:
    rows = list(csv.reader(f, dialect='excel', delimiter=';'))
print(json.dumps(rows, ensure_ascii=False))
"#;

#[test]
fn the_csv_reads_in_python_as_excel_reads_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("esito.csv");
    let mut w = EsitoCsv::new(std::fs::File::create(&path).unwrap(), 4711).unwrap();
    let n = 200;
    let mut expected_lines = 0;
    for i in 1..=n {
        let (d, protocollo) = sample::domanda_esito(i);
        expected_lines += d.findings.len().max(1);
        w.domanda(&d, protocollo.as_deref()).unwrap();
    }
    w.finish().unwrap();

    let json = run("python3", &["-c", EXCEL_READER, path.to_str().unwrap()]);
    let rows: Vec<Vec<String>> = serde_json::from_str(&json).unwrap();
    assert_eq!(rows[0], esito_csv::COLUMNS.map(String::from).to_vec());
    assert_eq!(rows.len() - 1, expected_lines);
    assert!(rows.iter().all(|r| r.len() == 15), "every line has 15 columns");
    // Domanda 1: no findings, protocollata, one line.
    let r1 = &rows[1];
    assert_eq!(
        r1[..8],
        [
            "4711",
            "1",
            "1000000007",
            "Città di Castello Tessile S.p.A. 1",
            "Via dell'Industria 2, Forlì",
            "02/03/2026 - 29/03/2026",
            "PROTOCOLLATA",
            "CIGO-2026-0001001"
        ]
    );
    assert!(r1[8..].iter().all(String::is_empty));
    // Domanda 10: scartata, two findings, two lines; quotes, ';' and a newline survive, and the
    // value that looks like a formula is neutralised.
    let r10: Vec<&Vec<String>> = rows.iter().filter(|r| r[1] == "10").collect();
    assert_eq!(r10.len(), 2);
    assert_eq!(r10[0][6], "SCARTATA");
    assert_eq!(
        r10[0][8..],
        [
            "CAM-010",
            "ERRORE",
            "Matricola non valida: servono 10 cifre",
            "/RichiestaCIGO/Domanda[10]/QuadroA/Matricola",
            "403",
            "17",
            "'=1+2"
        ]
    );
    assert_eq!(r10[1][10], "Denominazione; \"vuota\"\nriga due");
    assert_eq!(r10[1][14], "Città");
}

#[test]
fn the_xml_is_valid_against_its_schema() {
    let dir = tempfile::tempdir().unwrap();
    let xsd = dir.path().join("esito-v1.xsd");
    std::fs::write(&xsd, ESITO_XSD_V1).unwrap();
    let mut w = EsitoXml::new(Vec::new(), 4711).unwrap();
    for i in 1..=200 {
        let (d, protocollo) = sample::domanda_esito(i);
        w.domanda(&d, protocollo.as_deref()).unwrap();
    }
    let xml = String::from_utf8(w.finish().unwrap()).unwrap();
    assert!(
        xml.contains(r#"<Totali domande="200" scartateInPrevalidazione="20" protocollate="176" scartateInInvio="4"/>"#)
    );
    assert!(xml.contains("<Messaggio>Denominazione; &quot;vuota&quot;&#10;riga due</Messaggio>"));
    let good = dir.path().join("esito.xml");
    std::fs::write(&good, &xml).unwrap();
    run("xmllint", &["--noout", "--schema", xsd.to_str().unwrap(), good.to_str().unwrap()]);

    // The check can fail: an esito the schema does not know is refused.
    let bad = dir.path().join("bad.xml");
    std::fs::write(&bad, xml.replacen("esito=\"PROTOCOLLATA\"", "esito=\"FORSE\"", 1)).unwrap();
    let status = Command::new("xmllint")
        .args(["--noout", "--schema", xsd.to_str().unwrap(), bad.to_str().unwrap()])
        .output()
        .unwrap()
        .status;
    assert!(!status.success(), "xmllint accepted an unknown esito");
}

/// A file rejected as a whole: its finding is the one line of the CSV and the one `Rilievo` of a
/// valid XML.
#[test]
fn a_file_rejected_as_a_whole_has_its_finding_in_both() {
    let f = cigo_domain::Finding {
        code: "FIL-002".into(),
        layer: cigo_domain::Layer::File,
        severity: cigo_domain::Severity::Errore,
        message: "File non ben formato".into(),
        xpath: None,
        line: Some(3),
        column: Some(7),
        value: None,
    };
    let mut csv = EsitoCsv::new(Vec::new(), 9).unwrap();
    csv.file_finding(&f).unwrap();
    let csv = String::from_utf8(csv.finish().unwrap()).unwrap();
    let lines: Vec<&str> = csv.split("\r\n").collect();
    assert_eq!(lines[1], "9;;;;;;SCARTATA;;FIL-002;ERRORE;File non ben formato;;3;7;");

    let dir = tempfile::tempdir().unwrap();
    let xsd = dir.path().join("esito-v1.xsd");
    std::fs::write(&xsd, ESITO_XSD_V1).unwrap();
    let mut xml = EsitoXml::new(Vec::new(), 9).unwrap();
    xml.file_finding(&f).unwrap();
    let xml = String::from_utf8(xml.finish().unwrap()).unwrap();
    assert!(xml.contains("<Rilievo codice=\"FIL-002\" livello=\"FILE\" gravita=\"ERRORE\">"), "{xml}");
    let path = dir.path().join("file.xml");
    std::fs::write(&path, &xml).unwrap();
    run("xmllint", &["--noout", "--schema", xsd.to_str().unwrap(), path.to_str().unwrap()]);
}
