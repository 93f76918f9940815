//! The console in a real browser: headless Chromium (Debian's `chromium`) driven over WebDriver
//! by its `chromedriver`, against the real `cigo` binary. Each screen the test passes through is
//! saved as a PNG under `target/tmp/console-screenshots/` for a reviewer to look at.
//!
//! The desk's whole job, as a person does it: sign in with the token, upload two files at once
//! and see both numbers, the esito appearing without a reload, a duplicate refused with a link,
//! the upload without prevalidazione, the search form with every field, Dettaglio domande with a
//! filter, approval with its confirmation by keyboard only, the ricevute, elimina, a denominazione
//! that is markup shown as text, a forged form refused, the operatore's read-only screens,
//! sign-out. One flow runs again on PostgreSQL + RabbitMQ.

mod support;

use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::*;

const WAIT: Duration = Duration::from_secs(60);

fn chromium_bin() -> String {
    std::env::var("CIGO_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into())
}

fn chromedriver_bin() -> String {
    std::env::var("CIGO_CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into())
}

/// A headless Chromium with a fresh profile, and the chromedriver that drives it (killed on drop).
struct Browser {
    client: Client,
    driver: Child,
    base: String,
    shots: PathBuf,
    _profile: tempfile::TempDir,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Browser {
    async fn start(base: &str, name: &str) -> Self {
        let port = free_port();
        let driver = Command::new(chromedriver_bin())
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver (Debian package chromium-driver) must be installed");
        let profile = tempfile::tempdir().unwrap();
        let caps = json!({
            "goog:chromeOptions": {
                "binary": chromium_bin(),
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--window-size=1280,900", "--lang=it-IT",
                    format!("--user-data-dir={}", profile.path().display()),
                ]
            }
        });
        let caps = caps.as_object().unwrap().clone();
        let deadline = Instant::now() + WAIT;
        let client = loop {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector)
                .capabilities(caps.clone())
                .connect(&format!("http://127.0.0.1:{port}"))
                .await
            {
                Ok(c) => break c,
                Err(e) => {
                    assert!(Instant::now() < deadline, "no WebDriver session: {e}");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        };
        let shots = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join("console-screenshots")
            .join(name);
        std::fs::create_dir_all(&shots).unwrap();
        Browser { client, driver, base: base.to_string(), shots, _profile: profile }
    }

    async fn goto(&self, path: &str) {
        self.client
            .goto(&format!("{}{path}", self.base))
            .await
            .unwrap();
    }

    async fn path(&self) -> String {
        let url = self.client.current_url().await.unwrap();
        match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        }
    }

    async fn shot(&self, name: &str) {
        let png = self.client.screenshot().await.unwrap();
        std::fs::write(self.shots.join(format!("{name}.png")), png).unwrap();
    }

    async fn css(&self, selector: &str) -> fantoccini::elements::Element {
        self.client
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css(selector))
            .await
            .unwrap_or_else(|e| panic!("{selector}: {e}"))
    }

    async fn text(&self, selector: &str) -> String {
        self.css(selector).await.text().await.unwrap()
    }

    async fn script(&self, js: &str) -> Value {
        self.client.execute(js, vec![]).await.unwrap()
    }

    /// Waits until `js` (an expression) is true in the page. While a form's answer is loading the
    /// old document may be gone and the new one not yet parsed: an expression that throws there
    /// (an element not there yet) counts as "not yet", and only the deadline fails the test.
    async fn until(&self, what: &str, js: &str) {
        let deadline = Instant::now() + WAIT;
        loop {
            let got = self
                .client
                .execute(&format!("return !!({js});"), vec![])
                .await;
            if matches!(got, Ok(ref v) if *v == json!(true)) {
                return;
            }
            if Instant::now() >= deadline {
                let body = self
                    .client
                    .execute("return document.body ? document.body.innerText : '';", vec![])
                    .await;
                panic!("{what}: not reached ({got:?}); the page shows:\n{body:?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// A key pressed and released on whatever has the focus, as a keyboard does.
    async fn press(&self, key: Key) {
        let keys = KeyActions::new("tastiera".into())
            .then(KeyAction::Down { value: key.into() })
            .then(KeyAction::Up { value: key.into() });
        self.client.perform_actions(keys).await.unwrap();
    }

    async fn sign_in(&self, token: &str) {
        self.goto("/").await;
        assert_eq!(self.path().await, "/accesso", "not signed in: the console's entry is the sign-in");
        self.css("#token").await.send_keys(token).await.unwrap();
        self.css("form button[type=submit]")
            .await
            .click()
            .await
            .unwrap();
        self.until("signed in", "location.pathname === '/richieste'")
            .await;
    }

    /// Chooses `files` in the upload form and sends them; returns the messages of the outcomes.
    async fn upload(&self, files: &[&Path]) -> Vec<String> {
        let paths: Vec<String> = files.iter().map(|p| p.display().to_string()).collect();
        self.css("#file")
            .await
            .send_keys(&paths.join("\n"))
            .await
            .unwrap();
        self.css("#carica").await.click().await.unwrap();
        self.until(
            "every file answered",
            &format!("document.querySelectorAll('#esiti li.ok, #esiti li.errore').length === {}", files.len()),
        )
        .await;
        let texts = self
            .script("return Array.from(document.querySelectorAll('#esiti li')).map(li => li.innerText);")
            .await;
        texts
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap().to_string())
            .collect()
    }
}

/// The numero in "... Il numero della richiesta è 127."
fn numero_in(text: &str) -> i64 {
    let at = text
        .find("numero della richiesta è ")
        .unwrap_or_else(|| panic!("no numero in {text:?}"));
    text[at + "numero della richiesta è ".len()..]
        .trim_start()
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

fn xml_file(dep: &Deployment, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dep.dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Debian's chromium and chromium-driver (.ci/run installs them)"]
async fn the_desk_workflow_in_chromium() {
    let dir = tempfile::tempdir().unwrap();
    let dep = Deployment::embedded(dir.path());
    let (_serve, api) = dep.spawn_api("serve", &["serve"]).await;
    let token = dep.token(CF_A);
    let b = Browser::start(&api.base, "embedded").await;

    // Accesso.
    b.goto("/").await;
    b.shot("01-accesso").await;
    b.sign_in(&token).await;
    assert!(b.text(".utente").await.contains(CF_A));
    b.shot("02-ricerca-vuota").await;

    // Caricamento con prevalidazione: two files at once, both numbers, then the esito in the
    // table below without a reload (a marker set on the page survives).
    let mista = generate(&dep, 6, 0.5, 41);
    assert!(!mista.invalid.is_empty());
    let pulita = generate(&dep, 3, 0.0, 42);
    let f_mista = xml_file(&dep, "domande mista.xml", &mista.bytes);
    let f_pulita = xml_file(&dep, "domande pulita.xml", &pulita.bytes);
    b.css("a[href='/caricamento']").await.click().await.unwrap();
    b.until("upload screen", "location.pathname === '/caricamento'")
        .await;
    assert!(b.text("h1").await.contains("con validazione preventiva"));
    b.script("window.__stessaPagina = true; return null;").await;
    let esiti = b.upload(&[&f_mista, &f_pulita]).await;
    assert_eq!(esiti.len(), 2, "{esiti:?}");
    for e in &esiti {
        assert!(e.contains("Caricamento eseguito con successo. Il numero della richiesta è"), "{e}");
    }
    let n_mista = numero_in(&esiti[0]);
    let n_pulita = numero_in(&esiti[1]);
    assert_ne!(n_mista, n_pulita);
    b.shot("03-caricamento-eseguito").await;
    b.until(
        "both esiti in the table without a reload",
        "document.querySelector('#elaborazioni [data-in-corso]') === null \
         && document.querySelector('#elaborazioni').innerText.split('XML prevalidato').length === 3",
    )
    .await;
    assert_eq!(b.script("return window.__stessaPagina === true;").await, json!(true), "the page was reloaded");
    b.shot("04-esito-senza-ricaricare").await;
    for n in [n_mista, n_pulita] {
        assert_eq!(api.richiesta(&token, n).await["stato"], "PREVALIDATA");
    }

    // The same file again: refused as a duplicate, with a link to the richiesta already there.
    let dup = b.upload(&[&f_pulita]).await;
    assert!(dup[0].contains(&format!("già stato caricato con la richiesta {n_pulita}")), "{dup:?}");
    assert_eq!(
        b.script("return document.querySelector('#esiti li.errore a').getAttribute('href');")
            .await,
        json!(format!("/richieste?numero={n_pulita}"))
    );
    // A file that is not XML: refused by its type.
    let png = xml_file(&dep, "foto.png", b"\x89PNG\r\n\x1a\nnot xml");
    let refused = b.upload(&[&png]).await;
    assert!(refused[0].contains("non è un file XML"), "{refused:?}");
    b.shot("05-caricamento-rifiutato").await;

    // Caricamento senza prevalidazione: validated and sent without the approval step.
    b.css("a[href='/caricamento?prevalidazione=no']")
        .await
        .click()
        .await
        .unwrap();
    b.until("direct upload screen", "location.search === '?prevalidazione=no'")
        .await;
    let diretta = generate(&dep, 2, 0.0, 43);
    let f_diretta = xml_file(&dep, "diretta.xml", &diretta.bytes);
    let esiti = b.upload(&[&f_diretta]).await;
    let n_diretta = numero_in(&esiti[0]);
    b.until("sent without approval", "document.querySelector('#elaborazioni').innerText.includes('Consegnato')")
        .await;
    assert_eq!(api.richiesta(&token, n_diretta).await["stato"], "CONSEGNATA");

    // Ricerca elaborazioni with every field of the form: only the mixed richiesta is found, the
    // filters are in the URL, and the back button returns to the unfiltered list.
    let domande = api.all_domande(&token, n_mista, None).await;
    let azienda = &domande[0];
    let today = cigo_domain::attestato::ora_di_roma(chrono::Utc::now())
        .format("%Y-%m-%d")
        .to_string();
    b.goto("/richieste").await;
    for (id, value) in [
        ("numero", n_mista.to_string()),
        ("denominazione", azienda["denominazione"].as_str().unwrap().to_string()),
        ("matricola", azienda["matricola"].as_str().unwrap().to_string()),
        (
            "codice_fiscale",
            azienda["codice_fiscale_azienda"]
                .as_str()
                .unwrap_or("")
                .to_string(),
        ),
    ] {
        if !value.is_empty() {
            b.css(&format!("#{id}"))
                .await
                .send_keys(&value)
                .await
                .unwrap();
        }
    }
    for id in ["inserita_dal", "inserita_al"] {
        b.script(&format!("document.getElementById('{id}').value = '{today}'; return null;"))
            .await;
    }
    b.css("#stato option[value='PREVALIDATA']")
        .await
        .click()
        .await
        .unwrap();
    b.css(".ricerca button[type=submit]")
        .await
        .click()
        .await
        .unwrap();
    b.until("searched", "location.search.includes('stato=PREVALIDATA')")
        .await;
    let url = b.path().await;
    for part in [format!("numero={n_mista}"), format!("inserita_dal={today}"), format!("inserita_al={today}")] {
        assert!(url.contains(&part), "{part} not in {url}");
    }
    let rows = b
        .script("return document.querySelectorAll('#elaborazioni tbody tr').length;")
        .await;
    assert_eq!(rows, json!(1), "{}", b.text("#elaborazioni").await);
    assert!(b.text("#elaborazioni").await.contains("domande mista.xml"));
    b.shot("06-ricerca").await;
    // An approval date in the future finds nothing.
    b.goto(&format!("/richieste?numero={n_mista}&approvata_dal=31/12/2099"))
        .await;
    assert!(b
        .text("#elaborazioni")
        .await
        .contains("Nessuna richiesta trovata"));
    b.client.back().await.unwrap();
    b.until("back", "location.search.includes('stato=PREVALIDATA')")
        .await;

    // Dettaglio domande with a filter on the esito: the rejected ones and their rules.
    b.css(&format!("a[href='/richieste/{n_mista}/domande']"))
        .await
        .click()
        .await
        .unwrap();
    b.css("#esito option[value='SCARTATA']")
        .await
        .click()
        .await
        .unwrap();
    b.css("form.ricerca button[type=submit]")
        .await
        .click()
        .await
        .unwrap();
    b.until("filtered", "location.search.includes('esito=SCARTATA')")
        .await;
    let detail = b.text("main").await;
    assert!(detail.contains(&format!("{} domande", mista.invalid.len())), "{detail}");
    for (_, code) in &mista.invalid {
        assert!(detail.contains(code), "{code} not shown: {detail}");
    }
    // A finding opens on its rule, with the legal basis.
    b.css("ul.segnalazioni summary")
        .await
        .click()
        .await
        .unwrap();
    b.until(
        "rule shown",
        "document.querySelector('ul.segnalazioni details[open] .regola').innerText.includes('Base normativa')",
    )
    .await;
    b.shot("07-dettaglio-domande-scartate").await;
    // The esito for a spreadsheet and the rejected domande to correct, from the same page (the
    // CSV's BOM is dropped by text(): its header comes first).
    for (href, tipo, inizio) in [
        (format!("/richieste/{n_mista}/esito.csv"), "text/csv; charset=utf-8", "Numer"),
        (format!("/richieste/{n_mista}/scartate.xml"), "application/xml", "<?xml"),
    ] {
        b.css(&format!("a[href='{href}']")).await;
        let got = b
            .client
            .execute_async(
                "const [href, done] = arguments; fetch(href).then(r => r.text().then(t => \
                 done([r.headers.get('content-type'), t.slice(0, 5)])));",
                vec![json!(href)],
            )
            .await
            .unwrap();
        assert_eq!(got[0], json!(tipo), "{href}");
        assert!(got[1].as_str().unwrap().starts_with(inizio), "{href}: {got}");
    }

    // Approva all'invio by keyboard only: Tab to the button, Enter; the confirmation says what
    // goes and what does not, and its button has the focus; Enter again.
    b.goto(&format!("/richieste?numero={n_mista}")).await;
    let mut reached = false;
    for _ in 0..60 {
        b.press(Key::Tab).await;
        let focused = b
            .script("const e = document.activeElement; return e ? e.innerText || '' : '';")
            .await;
        if focused == json!("Approva all'invio") {
            reached = true;
            break;
        }
    }
    assert!(reached, "the approval button cannot be reached with Tab");
    b.press(Key::Enter).await;
    b.until("confirmation", "document.querySelector('h1').innerText.startsWith('Approvare all')")
        .await;
    let conferma = b.text("main").await;
    let valide = mista.total - mista.invalid.len();
    let (inviate, scartate) = (
        match valide {
            1 => "Sarà inviata 1 domanda valida".to_string(),
            n => format!("Saranno inviate {n} domande valide"),
        },
        match mista.invalid.len() {
            1 => "la domanda scartata non sarà inviata".to_string(),
            n => format!("le {n} domande scartate non saranno inviate"),
        },
    );
    assert!(conferma.contains(&inviate) && conferma.contains(&scartate), "{conferma}");
    b.shot("08-conferma-approvazione").await;
    assert_eq!(b.script("return document.activeElement.innerText;").await, json!("Sì, approva all'invio"));
    b.press(Key::Enter).await;
    b.until("sent", "document.querySelector('#elaborazioni').innerText.includes('Consegnato')")
        .await;
    b.shot("09-consegnato").await;

    // Le ricevute: PDFs, from the links of the row.
    for tipo in ["trasmissione", "consegna"] {
        let href = format!("/richieste/{n_mista}/ricevuta/{tipo}");
        b.css(&format!("a[href='{href}']")).await;
        let got = b
            .client
            .execute_async(
                "const [href, done] = arguments; fetch(href).then(r => r.arrayBuffer().then(a => \
                 done([r.headers.get('content-type'), String.fromCharCode(...new Uint8Array(a.slice(0, 5)))])));",
                vec![json!(href)],
            )
            .await
            .unwrap();
        assert_eq!(got, json!(["application/pdf", "%PDF-"]), "{tipo}");
    }

    // Elimina, with its confirmation.
    b.goto(&format!("/richieste?numero={n_pulita}")).await;
    b.css(&format!("form[action='/richieste/{n_pulita}/elimina'] button"))
        .await
        .click()
        .await
        .unwrap();
    b.until("asked", &format!("document.querySelector('h1').innerText === 'Eliminare la richiesta {n_pulita}?'"))
        .await;
    b.css("form.conferma button").await.click().await.unwrap();
    b.until("deleted", "document.querySelector('#elaborazioni').innerText.includes('Eliminato')")
        .await;
    assert_eq!(api.richiesta(&token, n_pulita).await["stato"], "ELIMINATA");

    // A denominazione that is markup is shown as text, never run.
    let xss = String::from_utf8(generate(&dep, 1, 0.0, 44).bytes).unwrap();
    let start = xss.find("<Denominazione>").unwrap() + "<Denominazione>".len();
    let end = start + xss[start..].find("</Denominazione>").unwrap();
    let xss = format!("{}&lt;script&gt;alert(1)&lt;/script&gt;{}", &xss[..start], &xss[end..]);
    let n_xss = api.upload_ok(&token, xss.into_bytes(), true).await;
    api.wait_for_state(&token, n_xss, &["PREVALIDATA", "SCARTATA"], WAIT)
        .await;
    b.goto(&format!("/richieste/{n_xss}/domande")).await;
    assert!(b.text("main").await.contains("<script>alert(1)</script>"));
    assert!(b.client.get_alert_text().await.is_err(), "a script ran");
    assert_eq!(
        b.script("return document.querySelectorAll('main script').length;")
            .await,
        json!(0)
    );
    b.shot("10-markup-come-testo").await;

    // A form forged in the page with a made-up CSRF token: refused, nothing changes.
    b.goto(&format!("/richieste?numero={n_xss}")).await;
    b.script(&format!(
        "const f = document.createElement('form'); f.method = 'post'; f.action = '/richieste/{n_xss}/elimina'; \
         for (const [k, v] of [['csrf', 'falso'], ['conferma', 'si']]) {{ const i = document.createElement('input'); \
         i.type = 'hidden'; i.name = k; i.value = v; f.append(i); }} document.body.append(f); f.submit(); return null;"
    ))
    .await;
    b.until(
        "refused",
        "document.querySelector('h1') && document.querySelector('h1').innerText === 'Richiesta rifiutata'",
    )
    .await;
    assert_ne!(api.richiesta(&token, n_xss).await["stato"], "ELIMINATA");

    // Azioni massive: two richieste selected in the search, approved in one go; one of them is
    // deleted (elsewhere) while the confirmation is on screen, and the report says so.
    let mut massive = Vec::new();
    for seed in [61, 62] {
        let n = api
            .upload_ok(&token, generate(&dep, 2, 0.0, seed).bytes, true)
            .await;
        api.wait_for_state(&token, n, &["PREVALIDATA"], WAIT).await;
        massive.push(n);
    }
    b.goto("/richieste?stato=PREVALIDATA").await;
    for n in &massive {
        b.css(&format!("#sel-{n}")).await.click().await.unwrap();
    }
    b.shot("11-selezione-massiva").await;
    b.css("#massiva button[value=approva]")
        .await
        .click()
        .await
        .unwrap();
    b.until("bulk asked", "document.querySelector('h1').innerText === 'Approvare all\\'invio 2 richieste?'")
        .await;
    let conferma = b.text("main").await;
    assert!(conferma.contains("Saranno inviate 4 domande valide"), "{conferma}");
    b.shot("12-conferma-massiva").await;
    api.delete(Some(&token), &format!("/api/v1/richieste/{}", massive[1]))
        .await
        .expect(200, None);
    b.css("form.conferma button").await.click().await.unwrap();
    b.until("bulk done", "document.querySelector('#riuscite') !== null")
        .await;
    assert_eq!(b.text("#riuscite").await, "1 richiesta approvata all'invio.");
    let fallite = b.text("#fallite").await;
    assert!(
        fallite.contains(&format!("Richiesta {}: operazione non consentita", massive[1]))
            && fallite.contains("ELIMINATA"),
        "{fallite}"
    );
    b.shot("13-esito-massiva").await;
    api.wait_for_state(&token, massive[0], &["CONSEGNATA"], WAIT)
        .await;

    // Cruscotto: the units of the azienda just protocollata, each with its limits and the next
    // week that fits (the figures are the archive rules', proven in the domain); an azienda the
    // intermediario has nothing to do with is not found.
    let protocollate = api.all_domande(&token, massive[0], None).await;
    let matricola = protocollate[0]["matricola"].as_str().unwrap().to_string();
    b.css("a[href='/cruscotto']").await;
    b.goto(&format!("/cruscotto?matricola={matricola}")).await;
    let cruscotto = b.text("main").await;
    for d in protocollate
        .iter()
        .filter(|d| d["matricola"] == matricola.as_str())
    {
        let key = d["unita_produttiva"].as_str().unwrap();
        let parti: Vec<&str> = key.splitn(3, '|').collect();
        let nome = format!("{}, {} {}", parti[2], parti[0], parti[1]);
        assert!(cruscotto.contains(&nome), "{nome} not in: {cruscotto}");
    }
    assert!(cruscotto.contains("di 52 · restano"), "{cruscotto}");
    assert!(
        cruscotto.contains("Una domanda di una settimana") || cruscotto.contains("La prima settimana"),
        "{cruscotto}"
    );
    b.shot("14-cruscotto").await;
    b.css("section.unita details summary")
        .await
        .click()
        .await
        .unwrap();
    let periodi = b.text("section.unita details").await;
    assert!(periodi.contains(protocollate[0]["protocollo"].as_str().unwrap()), "{periodi}");
    b.goto("/cruscotto?matricola=9999999999").await;
    assert!(b.text("main").await.contains("risorsa non trovata"));

    // Esci: the session ends.
    b.goto("/richieste").await;
    b.css(".utente form button").await.click().await.unwrap();
    b.until("signed out", "location.pathname === '/accesso'")
        .await;
    b.goto("/richieste").await;
    assert_eq!(b.path().await, "/accesso");

    // The operatore: every richiesta, no button, no upload screen; a forged POST is refused.
    b.sign_in(&dep.token_with_role("OPRTRE80A01H501O", "operatore"))
        .await;
    b.goto(&format!("/richieste?numero={n_xss}")).await;
    let row = b.text("#elaborazioni").await;
    assert!(
        row.contains("Dettaglio Domande") && !row.contains("Approva all'invio") && !row.contains("Elimina"),
        "{row}"
    );
    assert_eq!(
        b.script("return document.querySelectorAll('#elaborazioni button').length;")
            .await,
        json!(0)
    );
    assert!(!b.text(".utente").await.contains("Caricamento"));
    b.shot("11-operatore").await;
    let csrf = b
        .script("return document.querySelector('input[name=csrf]').value;")
        .await;
    let status = b
        .client
        .execute_async(
            "const [n, csrf, done] = arguments; fetch('/richieste/' + n + '/elimina', {method: 'POST', \
             headers: {'content-type': 'application/x-www-form-urlencoded'}, body: 'conferma=si&csrf=' + csrf}) \
             .then(r => done(r.status));",
            vec![json!(n_xss), csrf],
        )
        .await
        .unwrap();
    assert_eq!(status, json!(403));
    b.goto("/caricamento").await;
    assert!(b.text("main").await.contains("non modificarle"));
    assert_ne!(api.richiesta(&token, n_xss).await["stato"], "ELIMINATA");

    // Emulazione: the operatore sees exactly one intermediario's screens, read-only; another's
    // richiesta is not there; a forged change is refused; the start is in the audit trail.
    let altro = dep.token(CF_B);
    let n_altro = api
        .upload_ok(&altro, generate(&dep, 1, 0.0, 71).bytes, true)
        .await;
    b.goto("/richieste").await;
    b.css("a[href='/emulazione']").await.click().await.unwrap();
    b.css("#intermediario").await.send_keys(CF_A).await.unwrap();
    b.css("main form button[type=submit]")
        .await
        .click()
        .await
        .unwrap();
    b.until("emulating", "document.querySelector('#emulazione') !== null")
        .await;
    assert!(b.text("#emulazione").await.contains(CF_A));
    let tabella = b.text("#elaborazioni").await;
    assert!(tabella.contains("Dettaglio Domande") && !tabella.contains("Approva all'invio"), "{tabella}");
    b.shot("15-emulazione").await;
    b.goto(&format!("/richieste?numero={n_altro}")).await;
    assert!(b
        .text("#elaborazioni")
        .await
        .contains("Nessuna richiesta trovata"));
    b.goto(&format!("/richieste?numero={n_xss}")).await;
    assert!(b.text("#elaborazioni").await.contains(&n_xss.to_string()));
    let csrf = b
        .script("return document.querySelector('input[name=csrf]').value;")
        .await;
    let status = b
        .client
        .execute_async(
            "const [n, csrf, done] = arguments; fetch('/richieste/' + n + '/elimina', {method: 'POST', \
             headers: {'content-type': 'application/x-www-form-urlencoded'}, body: 'conferma=si&csrf=' + csrf}) \
             .then(r => done(r.status));",
            vec![json!(n_xss), csrf],
        )
        .await
        .unwrap();
    assert_eq!(status, json!(403));
    let admin = dep.token_with_role("DMNSTR80A01H501Z", "admin");
    let audit = api
        .get(Some(&admin), "/api/v1/audit?page_size=1000")
        .await
        .expect(200, None)
        .json();
    assert!(
        audit["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "emulazione" && e["detail"].as_str().unwrap_or_default().contains(CF_A)),
        "{audit}"
    );
    b.css("form[action='/emulazione/fine'] button")
        .await
        .click()
        .await
        .unwrap();
    b.until("emulation over", "document.querySelector('#emulazione') === null && location.pathname === '/richieste'")
        .await;
    b.goto(&format!("/richieste?numero={n_altro}")).await;
    assert!(b.text("#elaborazioni").await.contains(&n_altro.to_string()));
}

/// The admin at 3 a.m.: a prevalidation failed past its retries (its file went missing from the
/// blob store); the failure is on the Amministrazione page with its error; once the file is back,
/// Riprova runs the job again and the richiesta gets its esito. The replay is in the audit trail.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs chromium and chromium-driver (.ci/run installs them)"]
async fn the_admin_replays_a_failed_job() {
    let dir = tempfile::tempdir().unwrap();
    let dep = Deployment::embedded(dir.path())
        .with("CIGO_JOB_MAX_ATTEMPTS", "2")
        .with("CIGO_JOB_RETRY_BASE_MS", "50");
    let (mut idle, api) = dep
        .spawn_api("idle", &["serve", "--worker-concurrency", "0", "--sender-concurrency", "0"])
        .await;
    let token = dep.token(CF_A);
    let bytes = generate(&dep, 2, 0.0, 81).bytes;
    let numero = api.upload_ok(&token, bytes.clone(), true).await;
    idle.kill();
    let blob = find_blob(&dir.path().join("data/blobs"), &bytes).expect("the blob");
    std::fs::remove_file(&blob).unwrap();
    let (_serve, api) = dep.spawn_api("serve", &["serve"]).await;
    wait_until(WAIT, || async {
        api.richiesta(&token, numero).await["errore_elaborazione"]
            .is_string()
            .then_some(())
    })
    .await
    .expect("the failure is recorded");

    let b = Browser::start(&api.base, "amministrazione").await;
    b.sign_in(&dep.token_with_role("DMNSTR80A01H501Z", "admin"))
        .await;
    b.css("a[href='/amministrazione']")
        .await
        .click()
        .await
        .unwrap();
    let fallite = b.text("#elaborazioni-fallite").await;
    assert!(fallite.contains(&numero.to_string()) && fallite.contains("prevalidazione"), "{fallite}");
    b.shot("01-elaborazioni-non-riuscite").await;
    std::fs::write(&blob, &bytes).unwrap();
    b.css(&format!("form[action='/amministrazione/riprova/{numero}'] button"))
        .await
        .click()
        .await
        .unwrap();
    b.until("back to the richiesta", "location.pathname === '/richieste'")
        .await;
    let done = api
        .wait_for_state(&token, numero, &["PREVALIDATA", "SCARTATA"], WAIT)
        .await;
    assert!(done.get("errore_elaborazione").is_none(), "{done}");
    b.goto(&format!("/amministrazione?numero={numero}")).await;
    assert!(b
        .text("#elaborazioni-fallite")
        .await
        .contains("Nessuna elaborazione non riuscita"));
    let registro = b.text("#registro-voci").await;
    assert!(registro.contains("riprova") && registro.contains("prevalidazione"), "{registro}");
    b.shot("02-registro").await;
    // An intermediario has no such page.
    b.css("form[action='/uscita'] button")
        .await
        .click()
        .await
        .unwrap();
    b.until("signed out", "location.pathname === '/accesso'")
        .await;
    b.sign_in(&token).await;
    b.goto("/amministrazione").await;
    assert!(b
        .text("main")
        .await
        .contains("riservata agli amministratori"));
}

/// The same console over PostgreSQL + RabbitMQ with separate api, worker and sender processes:
/// sign in, upload, the esito arrives without a reload, approve, the ricevuta appears.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs chromium, chromium-driver, PostgreSQL and RabbitMQ (.ci/run has them)"]
async fn the_console_on_postgres_and_rabbitmq() {
    let servers = Servers::new().await;
    let dir = tempfile::tempdir().unwrap();
    let dep = servers.deployment(dir.path());
    dep.run(&["migrate"]);
    let (_api, api) = dep.spawn_api("api", &["api", "--no-migrate"]).await;
    let _worker = dep.spawn("worker", &["worker"]);
    let _sender = dep.spawn("sender", &["sender"]);
    let token = dep.token(CF_A);
    let b = Browser::start(&api.base, "postgres").await;
    b.sign_in(&token).await;
    b.goto("/caricamento").await;
    let file = xml_file(&dep, "pg.xml", &generate(&dep, 4, 0.25, 51).bytes);
    let esiti = b.upload(&[&file]).await;
    let n = numero_in(&esiti[0]);
    b.until(
        "esito without a reload",
        "document.querySelector('#elaborazioni [data-in-corso]') === null \
         && document.querySelector('#elaborazioni').innerText.includes('XML prevalidato')",
    )
    .await;
    b.goto(&format!("/richieste?numero={n}")).await;
    b.css(&format!("form[action='/richieste/{n}/approva'] button"))
        .await
        .click()
        .await
        .unwrap();
    b.css("form.conferma button").await.click().await.unwrap();
    b.until("ricevuta", &format!("document.querySelector(\"a[href='/richieste/{n}/ricevuta/consegna']\") !== null"))
        .await;
    b.shot("01-consegnato").await;
    assert_eq!(api.richiesta(&token, n).await["stato"], "CONSEGNATA");
    drop(b);
    servers.cleanup().await;
}
