//! The esito as files, over HTTP with the real binary: `esito.csv` read back as Excel reads it,
//! `esito.xml` valid against its published schema, `scartate.xml` holding exactly the rejected
//! domande byte for byte and linking the richiesta it is uploaded as to the original; and
//! `cigo validate --format csv` writing the same CSV offline. Embedded, and PostgreSQL + RabbitMQ.

mod support;

use serde_json::Value;
use std::path::Path;
use std::process::Command;
use std::time::Duration;
use support::*;

/// What Excel does with a `;`-separated UTF-8 file with BOM: the excel dialect, `;`, `utf-8-sig`.
const EXCEL_READER: &str = r#"
import csv, json, sys
raw = open(sys.argv[1], 'rb').read()
assert raw.startswith(b'\xef\xbb\xbf'), 'BOM'
with open(sys.argv[1], encoding='utf-8-sig', newline='') as f:
    rows = list(csv.reader(f, dialect='excel', delimiter=';'))
print(json.dumps(rows, ensure_ascii=False))
"#;

fn run(program: &str, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
    assert!(out.status.success(), "{program} {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

fn excel_rows(dir: &Path, name: &str, bytes: &[u8]) -> Vec<Vec<String>> {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    serde_json::from_str(&run("python3", &["-c", EXCEL_READER, path.to_str().unwrap()])).unwrap()
}

/// The byte range of each `<Domanda …>…</Domanda>` of a generated file, found by plain search
/// (independently of the server's reader).
fn domanda_slices(file: &[u8]) -> Vec<&[u8]> {
    let text = std::str::from_utf8(file).unwrap();
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(start) = text[from..].find("<Domanda ").map(|i| from + i) {
        let end = start + text[start..].find("</Domanda>").unwrap() + "</Domanda>".len();
        out.push(&file[start..end]);
        from = end;
    }
    out
}

/// The codes of the findings that reject a domanda (a resent domanda keeps its original
/// `progressivo`, which the new file's order may not match: warning COE-016, no rejection).
fn errori(d: &Value) -> Vec<String> {
    d["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] == "ERRORE")
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect()
}

fn header(reply: &Reply, name: &str) -> String {
    reply.headers[name].to_str().unwrap().to_string()
}

/// The esito of `numero` as CSV: checked against the JSON esito, line by line.
async fn check_csv(api: &Api, token: &str, dir: &Path, numero: i64, domande: &[Value]) -> Vec<Vec<String>> {
    let reply = api
        .get(Some(token), &format!("/api/v1/richieste/{numero}/esito.csv"))
        .await
        .expect(200, None);
    assert_eq!(header(&reply, "content-type"), "text/csv; charset=utf-8");
    assert_eq!(header(&reply, "content-disposition"), format!("attachment; filename=\"esito-{numero}.csv\""));
    let rows = excel_rows(dir, &format!("esito-{numero}.csv"), &reply.body);
    assert_eq!(rows[0][..3], ["Numero richiesta", "Progressivo", "Matricola"]);
    assert_eq!(rows[0].len(), 15);
    let mut lines = rows[1..].iter();
    for d in domande {
        let findings = d["findings"].as_array().unwrap();
        for i in 0..findings.len().max(1) {
            let row = lines
                .next()
                .unwrap_or_else(|| panic!("no line for domanda {d}"));
            assert_eq!(row.len(), 15, "{row:?}");
            assert_eq!(row[0], numero.to_string());
            assert_eq!(row[1], d["progressivo"].to_string());
            assert_eq!(row[2], d["matricola"].as_str().unwrap_or(""));
            assert_eq!(row[6], d["esito"].as_str().unwrap());
            assert_eq!(row[8], findings.get(i).map_or("", |f| f["code"].as_str().unwrap()));
            // Dates as an Italian reads them.
            if let Some(dal) = d["periodo_dal"].as_str() {
                let (y, rest) = dal.split_once('-').unwrap();
                let (m, g) = rest.split_once('-').unwrap();
                assert!(row[5].starts_with(&format!("{g}/{m}/{y}")), "{row:?}");
            }
        }
    }
    assert!(lines.next().is_none(), "more lines than findings");
    rows
}

/// The esito of `numero` as XML, valid against the schema the server publishes.
async fn check_xml(api: &Api, token: &str, dir: &Path, numero: i64, domande: usize) {
    let reply = api
        .get(Some(token), &format!("/api/v1/richieste/{numero}/esito.xml"))
        .await
        .expect(200, None);
    assert_eq!(header(&reply, "content-type"), "application/xml");
    let xsd = api
        .get(None, "/api/v1/schema/esito.xsd")
        .await
        .expect(200, None);
    let (xml_path, xsd_path) = (dir.join(format!("esito-{numero}.xml")), dir.join("esito-v1.xsd"));
    std::fs::write(&xml_path, &reply.body).unwrap();
    std::fs::write(&xsd_path, &xsd.body).unwrap();
    run("xmllint", &["--noout", "--schema", xsd_path.to_str().unwrap(), xml_path.to_str().unwrap()]);
    let text = String::from_utf8(reply.body).unwrap();
    assert!(text.contains(&format!("numeroRichiesta=\"{numero}\"")));
    assert_eq!(text.matches("<Domanda ").count(), domande);
}

/// The three downloads on one deployment, and the rinvio of the rejected domande.
async fn downloads(dep: &Deployment, api: &Api) {
    let token = dep.token(CF_A);
    let dir = dep.dir.clone();
    let generated = generate(dep, 60, 0.25, 5);
    let numero = api.upload_ok(&token, generated.bytes.clone(), true).await;
    let esito = api
        .wait_for_state(&token, numero, &["PREVALIDATA", "SCARTATA"], Duration::from_secs(120))
        .await;
    assert_eq!(esito["stato"], "PREVALIDATA", "{esito}");
    assert_eq!(esito["links"]["scartate"], format!("/api/v1/richieste/{numero}/scartate.xml"));
    let domande = api.all_domande(&token, numero, None).await;
    let rows = check_csv(api, &token, &dir, numero, &domande).await;
    check_xml(api, &token, &dir, numero, domande.len()).await;

    // `cigo validate --format csv`: the same lines offline, with no numero richiesta yet.
    let original = dir.join("originale.xml");
    std::fs::write(&original, &generated.bytes).unwrap();
    let (code, stdout, stderr) = dep.run_status(&["validate", original.to_str().unwrap(), "--format", "csv"]);
    assert_eq!(code, 1, "some domande are rejected: {stderr}");
    let offline = excel_rows(&dir, "offline.csv", stdout.as_bytes());
    assert_eq!(offline.len(), rows.len());
    for (off, on) in offline.iter().zip(&rows).skip(1) {
        assert_eq!(off[0], "");
        assert_eq!(off[1..], on[1..]);
    }

    // scartate.xml: exactly the rejected domande, each byte for byte as in the original.
    let scartate: Vec<&Value> = domande
        .iter()
        .filter(|d| d["esito"] == "SCARTATA" || d["esito"] == "SCARTATA_IN_INVIO")
        .collect();
    assert_eq!(scartate.len(), generated.invalid.len());
    let reply = api
        .get(Some(&token), &format!("/api/v1/richieste/{numero}/scartate.xml"))
        .await
        .expect(200, None);
    assert_eq!(header(&reply, "content-disposition"), format!("attachment; filename=\"scartate-{numero}.xml\""));
    let rinvio = reply.body;
    let slices = domanda_slices(&generated.bytes);
    let kept = domanda_slices(&rinvio);
    let expected: Vec<&[u8]> = scartate
        .iter()
        .map(|d| slices[d["progressivo"].as_u64().unwrap() as usize - 1])
        .collect();
    assert_eq!(kept, expected, "the rejected domande, byte for byte, in order");
    let head = &generated.bytes[..generated
        .bytes
        .windows(9)
        .position(|w| w == b"<Domanda ")
        .unwrap()];
    let head = std::str::from_utf8(head).unwrap();
    let root_end = head.rfind('>').unwrap();
    assert!(
        rinvio.starts_with(format!("{} rinvioDi=\"{numero}\">", &head[..root_end]).as_bytes()),
        "the original envelope with rinvioDi: {}",
        String::from_utf8_lossy(&rinvio[..head.len() + 20])
    );

    // Uploaded again: the same domande, rejected for the same reasons, and the two linked.
    let n2 = api.upload_ok(&token, rinvio.clone(), true).await;
    let again = api
        .wait_for_state(&token, n2, &["PREVALIDATA", "SCARTATA"], Duration::from_secs(120))
        .await;
    assert_eq!(again["stato"], "SCARTATA", "{again}");
    assert_eq!(again["rinvio_di"], numero);
    assert_eq!(api.richiesta(&token, numero).await["rinviata_in"], n2);
    let domande2 = api.all_domande(&token, n2, None).await;
    assert_eq!(domande2.len(), scartate.len());
    for (d2, d) in domande2.iter().zip(&scartate) {
        assert_eq!(d2["matricola"], d["matricola"]);
        assert_eq!(d2["esito"], "SCARTATA");
        assert_eq!(errori(d2), errori(d), "{d2}\n{d}");
    }
    // And its own scartate.xml names it, with the same domande.
    let second = api
        .get(Some(&token), &format!("/api/v1/richieste/{n2}/scartate.xml"))
        .await
        .expect(200, None);
    assert_eq!(domanda_slices(&second.body), expected);
    assert!(String::from_utf8_lossy(&second.body).contains(&format!(" rinvioDi=\"{n2}\">")));

    // Refusals: another intermediario's richiesta is not found, as a rinvio too; nothing to send
    // again is a 409.
    let other = dep.token(CF_B);
    api.get(Some(&other), &format!("/api/v1/richieste/{numero}/scartate.xml"))
        .await
        .expect(404, Some("not_found"));
    api.get(Some(&other), &format!("/api/v1/richieste/{numero}/esito.csv"))
        .await
        .expect(404, Some("not_found"));
    let mut foreign = rinvio;
    foreign.extend_from_slice(b"<!-- altro intermediario -->\n");
    api.upload(&other, foreign, true)
        .await
        .expect(400, Some("rinvio_non_valido"));
    let valid = generate(dep, 3, 0.0, 8);
    let n3 = api.upload_ok(&token, valid.bytes, true).await;
    api.wait_for_state(&token, n3, &["PREVALIDATA"], Duration::from_secs(120))
        .await;
    api.get(Some(&token), &format!("/api/v1/richieste/{n3}/scartate.xml"))
        .await
        .expect(409, Some("nessuna_domanda_scartata"));
}

#[tokio::test]
async fn downloads_of_the_esito_embedded() {
    let dir = tempfile::tempdir().unwrap();
    let dep = Deployment::embedded(dir.path());
    let (_serve, api) = dep.spawn_api("serve", &["serve"]).await;
    downloads(&dep, &api).await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL and RabbitMQ; run by .ci/run with --include-ignored"]
async fn downloads_of_the_esito_on_postgres_and_rabbitmq() {
    let servers = Servers::new().await;
    let dir = tempfile::tempdir().unwrap();
    let dep = servers.deployment(dir.path());
    dep.run(&["migrate"]);
    let (_api, api) = dep.spawn_api("api", &["api", "--no-migrate"]).await;
    let _worker = dep.spawn("worker", &["worker"]);
    downloads(&dep, &api).await;
    servers.cleanup().await;
}
