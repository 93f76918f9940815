//! The web console over HTTP, against the real binary (no browser): sign-in and the session
//! cookie's flags, the security headers, the search page, output escaping, the CSRF and Origin
//! checks, sign-out.

mod support;

use std::time::Duration;
use support::*;

struct Browser {
    base: String,
    http: reqwest::Client,
}

struct Page {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: String,
}

impl Page {
    fn header(&self, name: &str) -> String {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default()
    }
}

impl Browser {
    /// A client that keeps redirects visible (each response is asserted on) and sends the
    /// session cookie by hand, like a browser would.
    fn new(base: &str) -> Self {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap();
        Browser { base: base.to_string(), http }
    }

    async fn read(r: reqwest::Response) -> Page {
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        Page { status, headers, body: r.text().await.unwrap() }
    }

    async fn get(&self, cookie: Option<&str>, path: &str) -> Page {
        let mut req = self.http.get(format!("{}{path}", self.base));
        if let Some(c) = cookie {
            req = req.header("cookie", c);
        }
        Self::read(req.send().await.unwrap()).await
    }

    async fn post(&self, cookie: Option<&str>, origin: Option<&str>, path: &str, form: &str) -> Page {
        let mut req = self
            .http
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form.to_string());
        if let Some(c) = cookie {
            req = req.header("cookie", c);
        }
        if let Some(o) = origin {
            req = req.header("origin", o);
        }
        Self::read(req.send().await.unwrap()).await
    }
}

/// The `name=value` of the session cookie a sign-in set.
fn session_cookie(page: &Page) -> String {
    let set = page.header("set-cookie");
    set.split(';').next().unwrap().to_string()
}

/// The CSRF token of the page's forms.
fn csrf(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").expect("no csrf field") + "name=\"csrf\" value=\"".len();
    html[at..].split('"').next().unwrap().to_string()
}

#[tokio::test]
async fn sign_in_search_and_sign_out() {
    let dir = tempfile::tempdir().unwrap();
    let dep = Deployment::embedded(dir.path());
    let (serve, api) = dep
        .spawn_api("serve", &["serve", "--sender-concurrency", "0"])
        .await;
    let token = dep.token(CF_A);
    let numero = api
        .upload_ok(&token, generate(&dep, 3, 0.0, 7).bytes, true)
        .await;
    api.wait_for_state(&token, numero, &["PREVALIDATA"], Duration::from_secs(60))
        .await;
    let b = Browser::new(&api.base);
    let origin = api.base.clone();

    // Not signed in: the console's entry leads to the sign-in, which is an Italian form under a
    // strict CSP; the JSON API is unchanged beside it.
    let home = b.get(None, "/").await;
    assert_eq!((home.status, home.header("location").as_str()), (303, "/accesso"));
    let form = b.get(None, "/accesso").await;
    assert_eq!(form.status, 200);
    assert!(form.body.contains("Token di accesso"), "{}", form.body);
    assert!(form
        .header("content-security-policy")
        .starts_with("default-src 'self'"));
    assert_eq!(form.header("x-frame-options"), "DENY");
    assert_eq!(
        b.get(None, "/static/console.css")
            .await
            .header("cache-control"),
        "public, max-age=86400"
    );
    api.get(None, "/api/v1/richieste").await.expect(401, None);
    api.get(None, "/nessuna-pagina").await.expect(404, None);

    // A wrong token, a sign-in posted from another site: refused.
    let wrong = b
        .post(None, Some(&origin), "/accesso", "token=cigo_sbagliato")
        .await;
    assert_eq!(wrong.status, 401);
    assert!(wrong.body.contains("Token non valido"));
    let forged = b
        .post(None, Some("https://evil.example"), "/accesso", &format!("token={token}"))
        .await;
    assert_eq!(forged.status, 403);
    assert!(forged.header("set-cookie").is_empty());

    // Signed in: a session cookie the page's script cannot read, not the token.
    let signed = b
        .post(None, Some(&origin), "/accesso", &format!("token={token}"))
        .await;
    assert_eq!((signed.status, signed.header("location").as_str()), (303, "/richieste"));
    let set = signed.header("set-cookie");
    assert!(set.contains("HttpOnly") && set.contains("SameSite=Strict") && set.contains("Path=/"), "{set}");
    assert!(!set.contains("Secure"), "plain HTTP: {set}");
    assert!(!set.contains(&token), "the token is not the cookie");
    let cookie = session_cookie(&signed);

    // The search page lists the richiesta, with Italian dates.
    let list = b.get(Some(&cookie), "/richieste").await;
    assert_eq!(list.status, 200, "{}", list.body);
    assert!(list.body.contains(&format!("<td>{numero}</td>")), "{}", list.body);
    assert!(list.body.contains("XML prevalidato"), "{}", list.body);
    let today = cigo_domain::attestato::ora_di_roma(chrono::Utc::now())
        .format("%d/%m/%Y")
        .to_string();
    assert!(list.body.contains(&today), "{}", list.body);
    // Filters are in the URL, and what is typed comes back as text, never as markup.
    let xss = b
        .get(Some(&cookie), "/richieste?denominazione=%3Cscript%3Ealert(1)%3C%2Fscript%3E")
        .await;
    assert_eq!(xss.status, 200);
    assert!(!xss.body.contains("<script>alert(1)</script>"), "{}", xss.body);
    assert!(
        xss.body
            .contains("&#60;script&#62;alert(1)&#60;/script&#62;")
            || xss.body.contains("&lt;script&gt;")
    );
    let nessuna = b
        .get(Some(&cookie), &format!("/richieste?numero={}", numero + 1000))
        .await;
    assert!(nessuna.body.contains("Nessuna richiesta trovata"), "{}", nessuna.body);
    let bad = b.get(Some(&cookie), "/richieste?inserita_dal=ieri").await;
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("data non valida"), "{}", bad.body);

    // Sign-out needs the page's CSRF token and this site's Origin.
    let no_csrf = b
        .post(Some(&cookie), Some(&origin), "/uscita", "csrf=forged")
        .await;
    assert_eq!(no_csrf.status, 403);
    let csrf = csrf(&list.body);
    let other_site = b
        .post(Some(&cookie), Some("https://evil.example"), "/uscita", &format!("csrf={csrf}"))
        .await;
    assert_eq!(other_site.status, 403);
    assert_eq!(b.get(Some(&cookie), "/richieste").await.status, 200, "still signed in");
    let out = b
        .post(Some(&cookie), Some(&origin), "/uscita", &format!("csrf={csrf}"))
        .await;
    assert_eq!((out.status, out.header("location").as_str()), (303, "/accesso"));
    assert!(out.header("set-cookie").contains("Max-Age=0"));
    let after = b.get(Some(&cookie), "/richieste").await;
    assert_eq!((after.status, after.header("location").as_str()), (303, "/accesso"));

    // Neither the token nor the session id is in the service log.
    let log = serve.log();
    assert!(!log.contains(&token));
    assert!(!log.contains(cookie.split('=').nth(1).unwrap()));
}

/// The whole job of the desk in the console: the row's actions follow the state and the role,
/// "Dettaglio domande" shows each domanda's findings, the XML and the ricevute download, "Approva
/// all'invio" sends, "Elimina" asks first; another intermediario gets 404 and an operatore no
/// buttons.
#[tokio::test]
async fn approve_inspect_download_and_delete_in_the_console() {
    let dir = tempfile::tempdir().unwrap();
    let dep = Deployment::embedded(dir.path());
    let (_serve, api) = dep.spawn_api("serve", &["serve"]).await;
    let token = dep.token(CF_A);
    let mista = generate(&dep, 6, 0.5, 31);
    assert!(!mista.invalid.is_empty());
    let uploaded = mista.bytes.clone();
    let n1 = api.upload_ok(&token, mista.bytes, true).await;
    let n2 = api
        .upload_ok(&token, generate(&dep, 2, 0.0, 32).bytes, true)
        .await;
    for n in [n1, n2] {
        api.wait_for_state(&token, n, &["PREVALIDATA"], Duration::from_secs(60))
            .await;
    }
    let b = Browser::new(&api.base);
    let origin = api.base.clone();
    let sign_in = |token: String| {
        let (b, origin) = (&b, origin.clone());
        async move {
            let signed = b
                .post(None, Some(&origin), "/accesso", &format!("token={token}"))
                .await;
            assert_eq!(signed.status, 303);
            session_cookie(&signed)
        }
    };
    let cookie = sign_in(token.clone()).await;

    // The row of a prevalidated richiesta offers what its owner may do now.
    let list = b
        .get(Some(&cookie), &format!("/richieste?numero={n1}"))
        .await;
    assert_eq!(list.status, 200);
    for action in [
        format!("/richieste/{n1}/domande"),
        format!("/richieste/{n1}/xml"),
        format!("action=\"/richieste/{n1}/approva\""),
        format!("action=\"/richieste/{n1}/elimina\""),
    ] {
        assert!(list.body.contains(&action), "{action} missing: {}", list.body);
    }
    assert!(!list.body.contains("/ricevuta/"), "no ricevuta before the approval");
    let token_csrf = csrf(&list.body);

    // Dettaglio domande: every domanda, the rejected ones with their rule and where.
    let detail = b
        .get(Some(&cookie), &format!("/richieste/{n1}/domande"))
        .await;
    assert_eq!(detail.status, 200, "{}", detail.body);
    assert!(detail.body.contains("6 domande"), "{}", detail.body);
    for (_, code) in &mista.invalid {
        assert!(detail.body.contains(code), "{code} not shown: {}", detail.body);
    }
    let scartate = b
        .get(Some(&cookie), &format!("/richieste/{n1}/domande?esito=SCARTATA"))
        .await;
    assert!(
        scartate
            .body
            .contains(&format!("{} domande · pagina 1 di 1", mista.invalid.len())),
        "{}",
        scartate.body
    );
    assert_eq!(
        b.get(Some(&cookie), &format!("/richieste/{n1}/domande?esito=FORSE"))
            .await
            .status,
        400
    );

    // The file, byte for byte.
    let xml = b
        .http
        .get(format!("{}/richieste/{n1}/xml", b.base))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(xml.status(), 200);
    assert!(xml.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment"));
    assert!(xml.bytes().await.unwrap() == uploaded, "the XML downloaded is the one uploaded");

    // Approva all'invio: only with the page's CSRF token; then the sending runs and the
    // ricevute appear on the row.
    let forged = b
        .post(Some(&cookie), Some(&origin), &format!("/richieste/{n1}/approva"), "csrf=forged")
        .await;
    assert_eq!(forged.status, 403);
    // The first press asks, saying how many domande go and how many stay behind.
    let ask = b
        .post(Some(&cookie), Some(&origin), &format!("/richieste/{n1}/approva"), &format!("csrf={token_csrf}"))
        .await;
    assert_eq!(ask.status, 200);
    let valide = mista.total - mista.invalid.len();
    assert!(
        ask.body
            .contains(&format!("Approvare all&#39;invio la richiesta {n1}?"))
            || ask
                .body
                .contains(&format!("Approvare all&#x27;invio la richiesta {n1}?")),
        "{}",
        ask.body
    );
    let inviate = match valide {
        1 => "Sarà inviata 1 domanda valida".to_string(),
        n => format!("Saranno inviate {n} domande valide"),
    };
    assert!(ask.body.contains(&inviate), "{}", ask.body);
    assert_eq!(api.richiesta(&token, n1).await["stato"], "PREVALIDATA", "nothing approved yet");
    let approved = b
        .post(
            Some(&cookie),
            Some(&origin),
            &format!("/richieste/{n1}/approva"),
            &format!("csrf={token_csrf}&conferma=si"),
        )
        .await;
    assert_eq!((approved.status, approved.header("location")), (303, format!("/richieste?numero={n1}")));
    api.wait_for_state(&token, n1, &["CONSEGNATA"], Duration::from_secs(60))
        .await;
    let list = b
        .get(Some(&cookie), &format!("/richieste?numero={n1}"))
        .await;
    assert!(list.body.contains("Consegnato"), "{}", list.body);
    assert!(!list.body.contains(&format!("/richieste/{n1}/approva")), "approved once only");
    for tipo in ["trasmissione", "consegna"] {
        let link = format!("/richieste/{n1}/ricevuta/{tipo}");
        assert!(list.body.contains(&link), "{link} missing");
        let pdf = b
            .http
            .get(format!("{}{link}", b.base))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(pdf.headers()["content-type"], "application/pdf");
        assert!(pdf.bytes().await.unwrap().starts_with(b"%PDF-"), "{tipo}");
    }
    let detail = b
        .get(Some(&cookie), &format!("/richieste/{n1}/domande?esito=PROTOCOLLATA"))
        .await;
    assert!(detail.body.contains("CIGO-"), "protocol numbers shown: {}", detail.body);

    // Elimina asks first, then deletes.
    let ask = b
        .post(Some(&cookie), Some(&origin), &format!("/richieste/{n2}/elimina"), &format!("csrf={token_csrf}"))
        .await;
    assert_eq!(ask.status, 200);
    assert!(ask.body.contains(&format!("Eliminare la richiesta {n2}?")), "{}", ask.body);
    assert_eq!(api.richiesta(&token, n2).await["stato"], "PREVALIDATA", "nothing deleted yet");
    let deleted = b
        .post(
            Some(&cookie),
            Some(&origin),
            &format!("/richieste/{n2}/elimina"),
            &format!("csrf={token_csrf}&conferma=si"),
        )
        .await;
    assert_eq!(deleted.status, 303);
    assert_eq!(api.richiesta(&token, n2).await["stato"], "ELIMINATA");

    // Another intermediario: the richiesta does not exist for it, to read or to change.
    let other = sign_in(dep.token(CF_B)).await;
    assert_eq!(
        b.get(Some(&other), &format!("/richieste/{n1}/domande"))
            .await
            .status,
        404
    );
    assert_eq!(
        b.get(Some(&other), &format!("/richieste/{n1}/xml"))
            .await
            .status,
        404
    );
    let other_list = b.get(Some(&other), "/richieste").await;
    let other_csrf = csrf(&other_list.body);
    let refused = b
        .post(
            Some(&other),
            Some(&origin),
            &format!("/richieste/{n2}/elimina"),
            &format!("csrf={other_csrf}&conferma=si"),
        )
        .await;
    assert_eq!(refused.status, 404);

    // An operatore reads everything and is offered no change.
    let op = sign_in(dep.token_with_role("OPRTRE80A01H501O", "operatore")).await;
    let seen = b.get(Some(&op), &format!("/richieste?numero={n1}")).await;
    assert!(seen.body.contains(&format!("/richieste/{n1}/domande")), "{}", seen.body);
    assert!(!seen.body.contains("/approva\"") && !seen.body.contains("/elimina\""), "{}", seen.body);
}

/// The upload screens without script: a form of several files is one richiesta per file, the
/// page lists each outcome; posting the same form again (a reload) creates nothing new; a file
/// over the limit, a duplicate and a non-XML file are refused one by one with the API's status;
/// a form without its CSRF token stores nothing.
#[tokio::test]
async fn upload_many_files_from_the_form() {
    let dir = tempfile::tempdir().unwrap();
    let dep = Deployment::embedded(dir.path()).with("CIGO_MAX_UPLOAD_BYTES", "200000");
    let (_serve, api) = dep.spawn_api("serve", &["serve"]).await;
    let token = dep.token(CF_A);
    let b = Browser::new(&api.base);
    let origin = api.base.clone();
    let signed = b
        .post(None, Some(&origin), "/accesso", &format!("token={token}"))
        .await;
    let cookie = session_cookie(&signed);

    let page = b.get(Some(&cookie), "/caricamento").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page
        .body
        .contains("Caricamento file .XML domande CIGO (con validazione preventiva)"));
    assert!(page.body.contains("multiple"), "many files at once");
    let form_csrf = csrf(&page.body);
    let chiave = {
        let at = page.body.find("name=\"chiave\" value=\"").unwrap() + "name=\"chiave\" value=\"".len();
        page.body[at..].split('"').next().unwrap().to_string()
    };
    let senza = b.get(Some(&cookie), "/caricamento?prevalidazione=no").await;
    assert!(
        senza
            .body
            .contains("Caricamento file .XML domande CIGO</h1>"),
        "{}",
        senza.body
    );

    let one = generate(&dep, 2, 0.0, 61).bytes;
    let two = generate(&dep, 3, 0.0, 62).bytes;
    let big = generate(&dep, 400, 0.0, 63).bytes;
    assert!(big.len() > 200_000, "the third file is over the limit");
    let form = |csrf: &str, files: Vec<(&str, &'static str, Vec<u8>)>| {
        let mut f = reqwest::multipart::Form::new()
            .text("csrf", csrf.to_string())
            .text("chiave", chiave.clone())
            .text("prevalidazione", "si");
        for (name, mime, bytes) in files {
            f = f.part(
                "file",
                reqwest::multipart::Part::bytes(bytes)
                    .file_name(name.to_string())
                    .mime_str(mime)
                    .unwrap(),
            );
        }
        f
    };
    let post = |form: reqwest::multipart::Form, json: bool| {
        let mut req = b
            .http
            .post(format!("{}/caricamento", b.base))
            .header("cookie", &cookie)
            .header("origin", &origin)
            .multipart(form);
        if json {
            req = req.header("accept", "application/json");
        }
        req.send()
    };
    let files = || {
        vec![
            ("uno.xml", "text/xml", one.clone()),
            ("due.xml", "application/xml", two.clone()),
            ("grande.xml", "text/xml", big.clone()),
            ("foto.png", "image/png", b"\x89PNG".to_vec()),
        ]
    };

    // Without the CSRF token: refused before any file is read, nothing stored.
    let forged = post(form("falso", files()), false).await.unwrap();
    assert_eq!(forged.status(), 403);
    assert_eq!(api.get(Some(&token), "/api/v1/richieste").await.json()["total"], 0);

    // The form as the page sends it without script: a page of outcomes, one per file.
    let r = post(form(&form_csrf, files()), false).await.unwrap();
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    let numeri: Vec<i64> = html
        .match_indices("Il numero della richiesta è ")
        .map(|(at, m)| {
            html[at + m.len()..]
                .split('.')
                .next()
                .unwrap()
                .parse()
                .unwrap()
        })
        .collect();
    assert_eq!(numeri.len(), 2, "{html}");
    assert!(html.contains("Caricamento eseguito con successo"), "{html}");
    assert!(html.contains("Il file supera la dimensione massima di 196 KB"), "{html}");
    assert!(html.contains("Il file non è un file XML (tipo image/png)."), "{html}");
    for n in &numeri {
        assert!(html.contains(&format!("href=\"/richieste?numero={n}\"")), "{html}");
    }

    // Posted again (a reload of the answer): the same numeri, no new richiesta.
    let again = post(form(&form_csrf, files()), true).await.unwrap();
    assert_eq!(again.status(), 200);
    let again: serde_json::Value = again.json().await.unwrap();
    let esiti = again["esiti"].as_array().unwrap();
    assert_eq!(esiti.len(), 4, "{again}");
    assert_eq!(esiti[0]["numero"], numeri[0]);
    assert_eq!(esiti[1]["numero"], numeri[1]);
    assert!(esiti[0]["messaggio"]
        .as_str()
        .unwrap()
        .contains("già stato caricato con questo modulo"));
    assert_eq!((esiti[2]["stato_http"].as_u64(), esiti[2]["codice"].as_str()), (Some(413), Some("payload_too_large")));
    assert_eq!(esiti[3]["stato_http"], 415);
    assert_eq!(api.get(Some(&token), "/api/v1/richieste").await.json()["total"], 2);

    // The same file in a new form (a new key): a duplicate, with the richiesta already there.
    let page = b.get(Some(&cookie), "/caricamento").await;
    assert!(!page.body.contains(&chiave), "every page has its own key");
    let dup = b
        .http
        .post(format!("{}/caricamento", b.base))
        .header("cookie", &cookie)
        .header("origin", &origin)
        .header("accept", "application/json")
        .multipart(
            reqwest::multipart::Form::new()
                .text("csrf", form_csrf.clone())
                .text("chiave", "altra")
                .part("file", reqwest::multipart::Part::bytes(one.clone()).file_name("uno.xml")),
        )
        .send()
        .await
        .unwrap();
    let dup: serde_json::Value = dup.json().await.unwrap();
    assert_eq!(dup["esiti"][0]["stato_http"], 409, "{dup}");
    assert_eq!(dup["esiti"][0]["codice"], "duplicate_richiesta");
    assert_eq!(dup["esiti"][0]["link"], format!("/richieste?numero={}", numeri[0]));

    // Both are processed, and the screen's table lists them with their esito.
    for n in &numeri {
        api.wait_for_state(&token, *n, &["PREVALIDATA"], Duration::from_secs(60))
            .await;
        assert_eq!(api.richiesta(&token, *n).await["nome_file"], if *n == numeri[0] { "uno.xml" } else { "due.xml" });
    }
    let page = b.get(Some(&cookie), "/caricamento").await;
    assert!(page.body.contains("id=\"elaborazioni\""));
    assert_eq!(page.body.matches("XML prevalidato").count(), 2, "{}", page.body);

    // An operatore is not offered the screen, and cannot post to it.
    let op_signed = b
        .post(
            None,
            Some(&origin),
            "/accesso",
            &format!("token={}", dep.token_with_role("OPRTRE80A01H501O", "operatore")),
        )
        .await;
    let op = session_cookie(&op_signed);
    let list = b.get(Some(&op), "/richieste").await;
    assert!(!list.body.contains("href=\"/caricamento\""));
    assert_eq!(b.get(Some(&op), "/caricamento").await.status, 403);
    let op_csrf = csrf(&list.body);
    let refused = b
        .http
        .post(format!("{}/caricamento", b.base))
        .header("cookie", &op)
        .header("origin", &origin)
        .multipart(
            reqwest::multipart::Form::new()
                .text("csrf", op_csrf)
                .part("file", reqwest::multipart::Part::bytes(two.clone()).file_name("due.xml")),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
}
