//! Layer 5 end to end: `cigo archivio import` seeds the archive from CSV, the worker checks an
//! upload against it, and `cigo validate --database-url` gives the server's verdict offline.
//! Embedded (SQLite) and PostgreSQL + RabbitMQ with separate processes.

mod support;

use serde_json::Value;
use std::collections::BTreeMap;
use std::time::Duration;
use support::*;

/// Two domande: 1 (matricola 5012345678, MANCANZA_LAVORO, 2 weeks from 2026-02-02) and
/// 2 (matricola 7098765432, EVENTI_METEO, workers CLMNDR95H02A794Y and GRCPLA69M30L219K).
const ESEMPIO: &str = include_str!("../docs/examples/valid.xml");

const AUTORIZZAZIONI: &str = "\
matricola;riferimento;cap;comune;indirizzo;periodo_dal;periodo_al;ore_autorizzate;evento_non_evitabile
# 51 weeks for the unit of domanda 1: with its 2, over the 52 of the biennio mobile.
5012345678;INPS-2025-0001;20099;Sesto San Giovanni;Via Enrico Fermi 7;03/02/2025;25/01/2026;1200,5;no
# 51 weeks of weather for the unit of domanda 2: events that could not be avoided do not count.
7098765432;INPS-2025-0002;10121;Torino;Corso Giulio Cesare 45;2025-01-06;2025-12-28;100;si
";

const RAPPORTI: &str = "\
matricola,codice_fiscale,data_assunzione,data_cessazione
7098765432,CLMNDR95H02A794Y,2019-09-01,
";

fn codes(d: &Value) -> Vec<String> {
    let mut c: Vec<String> = d["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect();
    c.sort();
    c
}

async fn scenario(dep: &Deployment, api: &Api, database_url: &str) {
    let token = dep.token(CF_A);
    let aut = dep.dir.join("autorizzazioni.csv");
    let rap = dep.dir.join("rapporti.csv");
    std::fs::write(&aut, AUTORIZZAZIONI).unwrap();
    std::fs::write(&rap, RAPPORTI).unwrap();
    let file = dep.dir.join("esempio.xml");
    std::fs::write(&file, ESEMPIO).unwrap();
    let args = ["archivio", "import", "--autorizzazioni", aut.to_str().unwrap(), "--rapporti", rap.to_str().unwrap()];
    dep.run(&args);
    dep.run(&args); // importing the same files again changes nothing

    // A bad file imports nothing and says where.
    let bad = dep.dir.join("bad.csv");
    std::fs::write(&bad, "matricola,codice_fiscale,data_assunzione,data_cessazione\n7098765432,GRCPLA69M30L219K,2019-09-01,\n123,X,2019-01-01,\n").unwrap();
    let (code, _, err) = dep.run_status(&["archivio", "import", "--rapporti", bad.to_str().unwrap()]);
    assert_ne!(code, 0);
    assert!(err.contains("record 2") && err.contains("nothing imported"), "{err}");

    let numero = api
        .upload_ok(&token, ESEMPIO.as_bytes().to_vec(), true)
        .await;
    let done = api
        .wait_for_state(&token, numero, &["PREVALIDATA", "SCARTATA"], Duration::from_secs(60))
        .await;
    assert_eq!(done["stato"], "SCARTATA", "{done}");
    let domande = api.all_domande(&token, numero, None).await;
    assert_eq!(domande.len(), 2);

    // Domanda 1: the 52 weeks, naming the authorisation and what is left.
    let c1 = codes(&domande[0]);
    assert!(c1.contains(&"ARC-002".to_string()) && !c1.contains(&"ARC-001".to_string()), "{c1:?}");
    let f = domande[0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "ARC-002")
        .unwrap();
    let msg = f["message"].as_str().unwrap();
    assert!(
        msg.contains("INPS-2025-0001") && msg.contains("51 settimane") && msg.contains("al massimo 1 settimana."),
        "{msg}"
    );
    assert_eq!(f["severity"], "ERRORE");
    assert_eq!(f["xpath"], "/RichiestaCIGO/Domanda[1]/QuadroC/NumeroSettimane");

    // Domanda 2: weather is outside the 52 weeks; one worker is not employed by the matricola.
    let c2 = codes(&domande[1]);
    assert!(!c2.contains(&"ARC-002".to_string()), "{c2:?}");
    let f = domande[1]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "ARC-005")
        .unwrap_or_else(|| panic!("no ARC-005 in {c2:?}"));
    assert_eq!(f["value"], "GRCPLA69M30L219K");
    assert_eq!(f["xpath"], "/RichiestaCIGO/Domanda[2]/Lavoratori/Lavoratore[2]/CodiceFiscale");
    let line = ESEMPIO
        .lines()
        .position(|l| l.contains("<CodiceFiscale>GRCPLA69M30L219K"))
        .unwrap()
        + 1;
    assert_eq!(f["line"], line as u64);
    assert_eq!(domande[1]["esito"], "SCARTATA");

    // Offline, with the same database: the server's verdict, domanda by domanda.
    let (code, out, err) =
        dep.run_status(&["validate", "--database-url", database_url, "--format", "json", file.to_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    let offline: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(offline["archivio"], true);
    let by_domanda = |list: &[Value]| -> BTreeMap<u64, (String, Vec<String>)> {
        list.iter()
            .map(|d| (d["progressivo"].as_u64().unwrap(), (d["esito"].as_str().unwrap().to_string(), codes(d))))
            .collect()
    };
    assert_eq!(by_domanda(offline["domande"].as_array().unwrap()), by_domanda(&domande));

    // Without a database (none configured at all): layers 1-4 only, and it says so.
    let (code, out, _) = Deployment::embedded(&dep.dir).run_status(&["validate", file.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("senza archivio"), "{out}");
}

#[tokio::test]
async fn the_archive_rules_on_the_embedded_deployment() {
    let dir = tempfile::tempdir().unwrap();
    let dep = Deployment::embedded(dir.path());
    let (_serve, api) = dep.spawn_api("serve", &["serve"]).await;
    let url = format!("sqlite://{}", dir.path().join("data").join("cigo.db").display());
    scenario(&dep, &api, &url).await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL and RabbitMQ; run by .ci/run with --include-ignored"]
async fn the_archive_rules_on_postgres_and_rabbitmq() {
    let servers = Servers::new().await;
    let dir = tempfile::tempdir().unwrap();
    let dep = servers.deployment(dir.path());
    dep.run(&["migrate"]);
    let (_api, api) = dep.spawn_api("api", &["api", "--no-migrate"]).await;
    let _w = dep.spawn("worker", &["worker"]);
    let _s = dep.spawn("sender", &["sender"]);
    scenario(&dep, &api, &servers.database_url()).await;
    servers.cleanup().await;
}

/// The filing deadline end to end: judged at the day of the prevalidation, then again at the
/// filing date of the sending. Domanda 1 (2026-02-02..2026-02-15, MANCANZA_LAVORO) is in time
/// until 2026-02-17; domanda 2 (weather in March) until the end of April. Prevalidated on the
/// 17th, approved (and so filed) on the 25th: domanda 1 has nothing payable any more and is
/// rejected at sending with COE-057, domanda 2 is protocollata.
async fn deadline_scenario(api: &Api, token: &str, restart: impl AsyncFnOnce()) {
    let numero = api
        .upload_ok(token, ESEMPIO.as_bytes().to_vec(), true)
        .await;
    let done = api
        .wait_for_state(token, numero, &["PREVALIDATA", "SCARTATA"], Duration::from_secs(60))
        .await;
    assert_eq!(done["stato"], "PREVALIDATA", "{done}");
    let domande = api.all_domande(token, numero, None).await;
    assert!(domande.iter().all(|d| d["esito"] == "VALIDA"), "{domande:?}");

    restart().await;
    api.post(Some(token), &format!("/api/v1/richieste/{numero}/approvazione"))
        .await
        .expect(202, None);
    let done = api
        .wait_for_state(token, numero, &["CONSEGNATA", "SCARTATA_IN_INVIO"], Duration::from_secs(60))
        .await;
    assert_eq!(done["stato"], "CONSEGNATA", "{done}");
    let domande = api.all_domande(token, numero, None).await;
    assert_eq!(domande[0]["esito"], "SCARTATA_IN_INVIO", "{}", domande[0]);
    let f = &domande[0]["findings"][0];
    assert_eq!(f["code"], "COE-057", "{f}");
    assert!(f["message"].as_str().unwrap().contains("17/02/2026"), "{f}");
    assert_eq!(domande[1]["esito"], "PROTOCOLLATA", "{}", domande[1]);
}

#[tokio::test]
async fn the_deadline_is_judged_again_when_sent_embedded() {
    let dir = tempfile::tempdir().unwrap();
    let dep = Deployment::embedded(dir.path()).with("CIGO_DATA_PRESENTAZIONE", "2026-02-17");
    let token = dep.token(CF_A);
    let (serve, api) = dep.spawn_api("serve", &["serve"]).await;
    let mut serve = Some(serve);
    let later = dep.clone().with("CIGO_DATA_PRESENTAZIONE", "2026-02-25");
    let port = api.base.rsplit(':').next().unwrap().to_string();
    let mut again = None;
    deadline_scenario(&api, &token, async || {
        serve.take().unwrap().terminate();
        let listen = format!("127.0.0.1:{port}");
        again = Some(later.spawn("serve-later", &["serve", "--listen", &listen]));
        wait_until(Duration::from_secs(60), || async {
            let r = api
                .http
                .get(format!("{}/healthz", api.base))
                .send()
                .await
                .ok()?;
            r.status().is_success().then_some(())
        })
        .await
        .expect("serve restarted");
    })
    .await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL and RabbitMQ; run by .ci/run with --include-ignored"]
async fn the_deadline_is_judged_again_when_sent_on_postgres_and_rabbitmq() {
    let servers = Servers::new().await;
    let dir = tempfile::tempdir().unwrap();
    let dep = servers
        .deployment(dir.path())
        .with("CIGO_DATA_PRESENTAZIONE", "2026-02-17");
    dep.run(&["migrate"]);
    let token = dep.token(CF_A);
    let (_api, api) = dep.spawn_api("api", &["api", "--no-migrate"]).await;
    let _w = dep.spawn("worker", &["worker"]);
    // The sender runs later, on another day: the one that judges the filing date of the sending.
    let later = dep.clone().with("CIGO_DATA_PRESENTAZIONE", "2026-02-25");
    let mut sender = None;
    deadline_scenario(&api, &token, async || {
        sender = Some(later.spawn("sender", &["sender"]));
    })
    .await;
    servers.cleanup().await;
}

/// `ESEMPIO` in tracciato v2: the sector of each azienda, a unit code for each unit and the
/// semester's workers (5.5 at 40 hours for domanda 1, 6 at 40 for domanda 2).
fn esempio_v2(settore_2: &str) -> String {
    let mut domande = ESEMPIO
        .replace("urn:cigo:richiesta:1", "urn:cigo:richiesta:2")
        .replace("versione=\"1\"", "versione=\"2\"");
    for (n, (settore, codice, media)) in [("INDUSTRIA", "MI0001", "5.5"), (settore_2, "TO0002", "6")]
        .into_iter()
        .enumerate()
    {
        let mut at = 0;
        for _ in 0..=n {
            at = domande[at..].find("<Domanda ").map(|i| at + i + 1).unwrap();
        }
        let (head, tail) = domande.split_at(at);
        let tail = tail
            .replacen("</QuadroA>", &format!("  <Settore>{settore}</Settore>\n    </QuadroA>"), 1)
            .replacen("<QuadroB>", &format!("<QuadroB>\n      <CodiceUnitaProduttiva>{codice}</CodiceUnitaProduttiva>"), 1)
            .replacen(
                "</QuadroE>",
                &format!("  <OccupatiSemestre><Fascia><OreSettimanali>40</OreSettimanali><MediaLavoratori>{media}</MediaLavoratori></Fascia></OccupatiSemestre>\n    </QuadroE>"),
                1,
            );
        domande = format!("{head}{tail}");
    }
    domande
}

/// Tracciato v2 end to end: the units are matched by their INPS code (the imported
/// authorisations carry other addresses), 52 consecutive weeks close the unit for 52 more
/// (art. 12 c. 2: ARC-010), and in edilizia the 52 weather weeks of the unit count toward the 52
/// of the biennio (art. 12 c. 4: with domanda 2's week, 53) where in industry they do not.
async fn v2_scenario(dep: &Deployment, api: &Api) {
    let token = dep.token(CF_A);
    let r = api
        .get(None, "/api/v1/schema/richiesta-v2.xsd")
        .await
        .expect(200, None);
    assert!(String::from_utf8_lossy(&r.body).contains("targetNamespace=\"urn:cigo:richiesta:2\""));
    let aut = dep.dir.join("autorizzazioni-v2.csv");
    std::fs::write(
        &aut,
        "matricola;riferimento;cap;comune;indirizzo;periodo_dal;periodo_al;ore_autorizzate;evento_non_evitabile;codice_unita_produttiva\n\
         5012345678;INPS-2025-0101;20099;Sesto S. Giovanni;V. E. Fermi 7;2024-12-30;2025-12-28;100;no;mi0001\n\
         7098765432;INPS-2025-0102;10100;Torino;C.so G. Cesare 45;2025-01-06;2025-12-28;100;si;TO0002\n\
         7098765432;INPS-2024-0103;10100;Torino;C.so G. Cesare 45;2024-06-03;2024-06-09;10;si;TO0002\n",
    )
    .unwrap();
    dep.run(&["archivio", "import", "--autorizzazioni", aut.to_str().unwrap()]);

    // `cigo generate --versione 2` writes files that `cigo validate` reads as v2, all valid.
    let generated = dep.dir.join("generated-v2.xml");
    dep.run(&["generate", "--versione", "2", "--domande", "5", "--out", generated.to_str().unwrap()]);
    let xml = std::fs::read_to_string(&generated).unwrap();
    assert!(xml.contains("xmlns=\"urn:cigo:richiesta:2\" versione=\"2\"") && xml.contains("<CodiceUnitaProduttiva>"));
    let (code, out, err) =
        Deployment::embedded(&dep.dir).run_status(&["validate", "--format", "json", generated.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert!(
        v["domande"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["esito"] == "VALIDA"),
        "{v}"
    );

    for (settore, weather_counts) in [("INDUSTRIA", false), ("EDILIZIA", true)] {
        let numero = api
            .upload_ok(&token, esempio_v2(settore).into_bytes(), true)
            .await;
        api.wait_for_state(&token, numero, &["PREVALIDATA", "SCARTATA"], Duration::from_secs(60))
            .await;
        let domande = api.all_domande(&token, numero, None).await;
        let c1 = codes(&domande[0]);
        assert!(c1.contains(&"ARC-010".to_string()) && !c1.contains(&"ARC-002".to_string()), "{c1:?}");
        let f = domande[0]["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["code"] == "ARC-010")
            .unwrap();
        assert!(
            f["message"]
                .as_str()
                .unwrap()
                .contains("per periodi dal 28/12/2026"),
            "{f}"
        );
        assert!(
            domande[0]["unita_produttiva"]
                .as_str()
                .unwrap()
                .starts_with("UP:MI0001"),
            "{}",
            domande[0]
        );
        let c2 = codes(&domande[1]);
        assert_eq!(c2.contains(&"ARC-002".to_string()), weather_counts, "{settore}: {c2:?}");
        // The declared sector is not presumed: no message says so.
        assert!(!domande[1].to_string().contains("settore presunto"), "{}", domande[1]);
    }
}

#[tokio::test]
async fn tracciato_v2_on_the_embedded_deployment() {
    let dir = tempfile::tempdir().unwrap();
    let dep = Deployment::embedded(dir.path());
    let (_serve, api) = dep.spawn_api("serve", &["serve"]).await;
    v2_scenario(&dep, &api).await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL and RabbitMQ; run by .ci/run with --include-ignored"]
async fn tracciato_v2_on_postgres_and_rabbitmq() {
    let servers = Servers::new().await;
    let dir = tempfile::tempdir().unwrap();
    let dep = servers.deployment(dir.path());
    dep.run(&["migrate"]);
    let (_api, api) = dep.spawn_api("api", &["api", "--no-migrate"]).await;
    let _w = dep.spawn("worker", &["worker"]);
    v2_scenario(&dep, &api).await;
    servers.cleanup().await;
}

/// One CIG per worker at a time, end to end: `ESEMPIO` sent and protocollato; then the same
/// domande again with domanda 1 at another address (the same suspension: ARC-008, rejected,
/// naming the protocol number) and domanda 2 under another matricola (another employment: ARC-009,
/// a notice). The filing date is fixed where `ESEMPIO` is in time.
async fn stessi_lavoratori_scenario(api: &Api, token: &str) {
    let numero = api
        .upload_ok(token, ESEMPIO.as_bytes().to_vec(), true)
        .await;
    let done = api
        .wait_for_state(token, numero, &["PREVALIDATA", "SCARTATA"], Duration::from_secs(60))
        .await;
    assert_eq!(done["stato"], "PREVALIDATA", "{done}");
    api.post(Some(token), &format!("/api/v1/richieste/{numero}/approvazione"))
        .await
        .expect(202, None);
    api.wait_for_state(token, numero, &["CONSEGNATA", "SCARTATA_IN_INVIO"], Duration::from_secs(60))
        .await;
    let prime = api.all_domande(token, numero, None).await;
    assert!(prime.iter().all(|d| d["esito"] == "PROTOCOLLATA"), "{prime:?}");
    let protocollo = |i: usize| prime[i]["protocollo"].as_str().unwrap().to_string();

    let again = ESEMPIO
        .replacen("<Indirizzo>Via Enrico Fermi 7</Indirizzo>", "<Indirizzo>Viale Italia 100</Indirizzo>", 1)
        .replacen("<Matricola>7098765432</Matricola>", "<Matricola>7011111111</Matricola>", 1);
    let seconda = api.upload_ok(token, again.into_bytes(), true).await;
    api.wait_for_state(token, seconda, &["PREVALIDATA", "SCARTATA"], Duration::from_secs(60))
        .await;
    let domande = api.all_domande(token, seconda, None).await;
    assert_eq!(codes(&domande[0]), ["ARC-008"], "{}", domande[0]);
    assert_eq!(domande[0]["esito"], "SCARTATA");
    let f = &domande[0]["findings"][0];
    assert_eq!(f["value"], protocollo(0).as_str());
    assert_eq!(f["xpath"], "/RichiestaCIGO/Domanda[1]/Lavoratori/Lavoratore[1]/CodiceFiscale");
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .starts_with("I lavoratori RSSMRA85T10A562S, BNCGLI90C45F205Y, SPSLCU78S23F839N sono già"),
        "{f}"
    );
    assert_eq!(codes(&domande[1]), ["ARC-009"], "{}", domande[1]);
    assert_eq!(domande[1]["esito"], "VALIDA_CON_AVVISI");
    assert_eq!(domande[1]["findings"][0]["value"], protocollo(1).as_str());
}

#[tokio::test]
async fn one_cig_per_worker_on_the_embedded_deployment() {
    let dir = tempfile::tempdir().unwrap();
    let dep = Deployment::embedded(dir.path()).with("CIGO_DATA_PRESENTAZIONE", "2026-02-17");
    let (_serve, api) = dep.spawn_api("serve", &["serve"]).await;
    stessi_lavoratori_scenario(&api, &dep.token(CF_A)).await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL and RabbitMQ; run by .ci/run with --include-ignored"]
async fn one_cig_per_worker_on_postgres_and_rabbitmq() {
    let servers = Servers::new().await;
    let dir = tempfile::tempdir().unwrap();
    let dep = servers
        .deployment(dir.path())
        .with("CIGO_DATA_PRESENTAZIONE", "2026-02-17");
    dep.run(&["migrate"]);
    let (_api, api) = dep.spawn_api("api", &["api", "--no-migrate"]).await;
    let _w = dep.spawn("worker", &["worker"]);
    let _s = dep.spawn("sender", &["sender"]);
    stessi_lavoratori_scenario(&api, &dep.token(CF_A)).await;
    servers.cleanup().await;
}
