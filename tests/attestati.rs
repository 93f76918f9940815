//! The attestati end to end, over HTTP with the real binary: the original file name from the
//! upload to the download, both attestati as JSON and PDF (read back with poppler), their
//! verification by code, and the esito told in one phrase. On the embedded mode and on
//! PostgreSQL + RabbitMQ.

mod support;

use reqwest::multipart::{Form, Part};
use serde_json::Value;
use std::path::Path;
use std::process::Command;
use std::time::Duration;
use support::*;

/// A name with a space and accents, as an intermediario's file would have.
const NOME: &str = "marzo Città.xml";

/// A generated richiesta whose every denominazione starts with an accented name.
fn richiesta_accentata(dep: &Deployment) -> Generated {
    let mut g = generate(dep, 30, 0.1, 1234);
    let xml = String::from_utf8(g.bytes).unwrap();
    assert!(xml.contains("<Denominazione>"), "the generated file names its employers");
    g.bytes = xml
        .replace("<Denominazione>", "<Denominazione>Niccolò ")
        .into_bytes();
    g
}

async fn upload_multipart(api: &Api, token: &str, xml: Vec<u8>, nome: &str) -> Reply {
    let form = Form::new().part("file", Part::bytes(xml).file_name(nome.to_string()));
    api.send(
        api.http
            .post(format!("{}/api/v1/richieste", api.base))
            .bearer_auth(token)
            .multipart(form),
    )
    .await
}

async fn upload_raw(api: &Api, token: &str, xml: Vec<u8>, query: &str, header: Option<&str>) -> Reply {
    let mut req = api
        .http
        .post(format!("{}/api/v1/richieste{query}", api.base))
        .bearer_auth(token)
        .header("content-type", "application/xml")
        .body(xml);
    if let Some(h) = header {
        req = req.header("x-nome-file", h);
    }
    api.send(req).await
}

fn run_tool(program: &str, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program} must be installed (poppler-utils): {e}"));
    assert!(out.status.success(), "{program} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// The PDF as its reader sees it: the text (`pdftotext`), and page 1 rendered to PNG for a
/// reviewer to look at (kept in the target dir).
fn pdf_text(pdf: &[u8], name: &str) -> String {
    assert!(pdf.starts_with(b"%PDF-"), "not a PDF");
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("attestati");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}.pdf"));
    std::fs::write(&path, pdf).unwrap();
    let p = path.to_str().unwrap();
    run_tool("pdftoppm", &["-png", "-r", "60", "-f", "1", "-l", "1", p, dir.join(name).to_str().unwrap()]);
    run_tool("pdftotext", &["-enc", "UTF-8", p, "-"])
}

async fn attestato(api: &Api, token: &str, numero: i64, tipo: &str) -> Value {
    api.get(Some(token), &format!("/api/v1/richieste/{numero}/attestati/{tipo}"))
        .await
        .expect(200, None)
        .json()
}

/// The PDF of an attestato by its `.pdf` path, checked equal to the one asked for by `Accept`.
async fn attestato_pdf(api: &Api, token: &str, numero: i64, tipo: &str) -> Vec<u8> {
    let by_path = api
        .get(Some(token), &format!("/api/v1/richieste/{numero}/attestati/{tipo}.pdf"))
        .await
        .expect(200, None);
    assert_eq!(by_path.headers["content-type"], "application/pdf");
    assert_eq!(
        by_path.headers["content-disposition"].to_str().unwrap(),
        format!("attachment; filename=\"attestato-{tipo}-{numero}.pdf\"")
    );
    let by_accept = api
        .send(
            api.http
                .get(format!("{}/api/v1/richieste/{numero}/attestati/{tipo}", api.base))
                .bearer_auth(token)
                .header("accept", "application/pdf"),
        )
        .await
        .expect(200, None);
    assert_eq!(by_accept.headers["content-type"], "application/pdf");
    assert_eq!(by_accept.body, by_path.body, "the same attestato gives the same PDF bytes");
    by_path.body
}

/// Upload with a name → approve → consegna → both attestati as JSON and PDF → verification.
async fn attestati_end_to_end(api: &Api, token: &str, dep: &Deployment, label: &str) {
    let g = richiesta_accentata(dep);
    let valide = g.total - g.invalid.len();
    let numero = upload_multipart(api, token, g.bytes.clone(), NOME)
        .await
        .expect(202, None)
        .json()["numero_richiesta"]
        .as_i64()
        .unwrap();
    let r = api
        .wait_for_state(token, numero, &["PREVALIDATA", "SCARTATA"], Duration::from_secs(120))
        .await;
    assert_eq!(r["stato"], "PREVALIDATA", "{r}");
    assert_eq!(r["nome_file"], NOME);
    let xml = api
        .get(Some(token), &format!("/api/v1/richieste/{numero}/xml"))
        .await
        .expect(200, None);
    assert_eq!(xml.body, g.bytes);
    assert_eq!(
        xml.headers["content-disposition"].to_str().unwrap(),
        "attachment; filename=\"marzo Citt_.xml\"; filename*=UTF-8''marzo%20Citt%C3%A0%2Exml"
    );

    api.post(Some(token), &format!("/api/v1/richieste/{numero}/approvazione"))
        .await
        .expect(202, None);
    let trasmissione = attestato(api, token, numero, "trasmissione").await;
    let done = api
        .wait_for_state(token, numero, &["CONSEGNATA", "SCARTATA_IN_INVIO"], Duration::from_secs(120))
        .await;
    assert_eq!(done["stato"], "CONSEGNATA", "{done}");
    let scartate = g.invalid.len();
    assert_eq!(
        done["esito_elaborazione"],
        format!("Richiesta consegnata: {valide} domande protocollate, {scartate} scartate in prevalidazione, 0 in fase d'invio")
    );

    // The trasmissione: what was sent and when, in Rome time; unchanged once issued.
    assert_eq!(trasmissione["tipo"], "TRASMISSIONE");
    assert_eq!(trasmissione["formato"], "cigo-attestato/1");
    let dati = &trasmissione["richiesta"];
    assert_eq!(dati["numero_richiesta"], numero);
    assert_eq!(dati["nome_file"], NOME);
    assert_eq!(dati["sha256"], r["sha256"]);
    assert_eq!(dati["dimensione_byte"], g.bytes.len() as i64);
    for key in ["data_ricezione", "data_trasmissione"] {
        let t = dati[key].as_str().unwrap();
        assert!(t.ends_with("+01:00") || t.ends_with("+02:00"), "{key} in Europe/Rome: {t}");
    }
    let domande = trasmissione["domande"].as_array().unwrap();
    assert_eq!(domande.len(), valide);
    for d in domande {
        assert!(d["denominazione"].as_str().unwrap().starts_with("Niccolò "), "{d}");
        assert!(d["causale"].is_string() && d["lavoratori"].as_u64().unwrap() > 0, "{d}");
        assert!(d["ore_cig"].as_str().unwrap().contains('.'), "{d}");
        assert!(d["matricola"].is_string() && d["unita_produttiva"].is_string() && d["periodo_dal"].is_string(), "{d}");
    }
    assert_eq!(attestato(api, token, numero, "trasmissione").await, trasmissione);

    // The consegna: each domanda protocollata, the totals, the link to the trasmissione.
    let consegna = attestato(api, token, numero, "consegna").await;
    assert_eq!(consegna["tipo"], "CONSEGNA");
    assert_eq!(consegna["codice_trasmissione"], trasmissione["codice_verifica"]);
    let protocollate = consegna["protocollate"].as_array().unwrap();
    assert_eq!(protocollate.len(), valide);
    assert!(protocollate
        .iter()
        .all(|d| d["protocollo"].as_str().unwrap().starts_with("CIGO-")));
    assert_eq!(consegna["scartate_in_invio"], serde_json::json!([]));
    assert_eq!(
        consegna["totali"],
        serde_json::json!({"domande": g.total, "scartate_in_prevalidazione": scartate, "protocollate": valide, "scartate_in_invio": 0})
    );

    // Both as PDF: the numero, the file name, the accents, the code, as a reader extracts them.
    for (tipo, json) in [("trasmissione", &trasmissione), ("consegna", &consegna)] {
        let pdf = attestato_pdf(api, token, numero, tipo).await;
        let text = pdf_text(&pdf, &format!("{label}-{tipo}"));
        assert!(text.contains(&numero.to_string()), "{tipo}: numero missing:\n{text}");
        assert!(text.contains(NOME), "{tipo}: file name missing:\n{text}");
        assert!(text.contains("Niccolò"), "{tipo}: accented denominazione missing:\n{text}");
        assert!(text.contains(json["codice_verifica"].as_str().unwrap()), "{tipo}: code missing:\n{text}");
    }
    let first = protocollate[0]["protocollo"].as_str().unwrap();
    assert!(
        pdf_text(&attestato_pdf(api, token, numero, "consegna").await, &format!("{label}-consegna")).contains(first)
    );

    // Verification: no token; the code as printed, or as typed (lower case, no dashes).
    for a in [&trasmissione, &consegna] {
        let codice = a["codice_verifica"].as_str().unwrap();
        let verified = api
            .get(None, &format!("/api/v1/attestati/verifica/{codice}"))
            .await
            .expect(200, None)
            .json();
        assert_eq!(&verified, a);
        let typed = codice.replace('-', "").to_lowercase();
        let again = api
            .get(None, &format!("/api/v1/attestati/verifica/{typed}"))
            .await
            .expect(200, None)
            .json();
        assert_eq!(&again, a);
        // One letter changed: a well-formed code this server never issued.
        let mut altered: Vec<char> = codice.chars().collect();
        altered[0] = if altered[0] == 'A' { 'B' } else { 'A' };
        let altered: String = altered.into_iter().collect();
        api.get(None, &format!("/api/v1/attestati/verifica/{altered}"))
            .await
            .expect(404, Some("attestato_not_found"));
    }
    api.get(None, "/api/v1/attestati/verifica/NOT-A-CODE")
        .await
        .expect(400, Some("invalid_codice_verifica"));
}

/// Names from `?nome=` and `X-Nome-File`, and the names refused before anything is created.
async fn nomi_di_file(api: &Api, token: &str, dep: &Deployment) {
    for (query, header) in [
        ("?nome=..%2Fetc%2Fpasswd", None),
        ("?nome=a%0Ab.xml", None),
        ("", Some("dir%2Ffile.xml")),
        ("", Some("%FF.xml")),
    ] {
        upload_raw(api, token, generate(dep, 1, 0.0, 900).bytes, query, header)
            .await
            .expect(400, Some("invalid_nome_file"));
    }
    upload_multipart(api, token, generate(dep, 1, 0.0, 901).bytes, &"x".repeat(256))
        .await
        .expect(400, Some("invalid_nome_file"));
    let by_query =
        upload_raw(api, token, generate(dep, 1, 0.0, 902).bytes, "?nome=via%20query.xml", Some("ignorato.xml"))
            .await
            .expect(202, None)
            .json();
    assert_eq!(by_query["nome_file"], "via query.xml");
    let by_header = upload_raw(api, token, generate(dep, 1, 0.0, 903).bytes, "", Some("Citt%C3%A0%20bis.xml"))
        .await
        .expect(202, None)
        .json();
    assert_eq!(by_header["nome_file"], "Città bis.xml");
    let unnamed = upload_raw(api, token, generate(dep, 1, 0.0, 904).bytes, "", None)
        .await
        .expect(202, None)
        .json();
    assert!(unnamed.get("nome_file").is_none(), "{unnamed}");
    let search = api
        .get(Some(token), "/api/v1/richieste")
        .await
        .expect(200, None)
        .json();
    assert_eq!(search["total"], 3, "the refused uploads left nothing: {search}");
}

#[tokio::test]
async fn attestati_and_file_names_on_embedded() {
    let dir = tempfile::tempdir().unwrap();
    let dep = Deployment::embedded(dir.path());
    let (_serve, api) = dep.spawn_api("serve", &["serve"]).await;
    let token = dep.token(CF_A);
    attestati_end_to_end(&api, &token, &dep, "embedded").await;
    let other = dep.token(CF_B);
    nomi_di_file(&api, &other, &dep).await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL and RabbitMQ; run by .ci/run with --include-ignored"]
async fn attestati_on_postgres_and_rabbitmq() {
    let servers = Servers::new().await;
    let dir = tempfile::tempdir().unwrap();
    let dep = servers.deployment(dir.path());
    dep.run(&["migrate"]);
    let (_api, api) = dep.spawn_api("api", &["api", "--no-migrate"]).await;
    let _worker = dep.spawn("worker", &["worker"]);
    let _sender = dep.spawn("sender", &["sender"]);
    let token = dep.token(CF_A);
    attestati_end_to_end(&api, &token, &dep, "postgres").await;
    servers.cleanup().await;
}
