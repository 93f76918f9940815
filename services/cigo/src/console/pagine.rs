//! The handlers of the console's pages: each turns a form or query string into one call of the
//! service layer and its answer into a page.

use super::sessione::{self, Utente};
use super::{errore, esito, formato, refused, Intestazione};
use crate::service::{Paging, Ricerca, Service, ServiceError};
use askama::Template;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use cigo_domain::StatoRichiesta;
use cigo_store::Richiesta;
use serde::Deserialize;

/// `/`: the list of richieste (the extractor sends whoever is not signed in to the sign-in).
pub async fn home(_utente: Utente) -> Redirect {
    Redirect::to("/richieste")
}

#[derive(Template)]
#[template(path = "accesso.html")]
struct PaginaAccesso {
    errore: Option<String>,
}

pub async fn accesso_form() -> Response {
    super::pagina(&PaginaAccesso { errore: None })
}

#[derive(Deserialize)]
pub struct FormAccesso {
    token: String,
}

/// Sign-in: the token is checked by the service and exchanged for a session cookie; the token
/// itself is neither stored in the browser nor logged.
pub async fn accesso(State(service): State<Service>, headers: HeaderMap, Form(form): Form<FormAccesso>) -> Response {
    if !sessione::same_origin(&headers) {
        return refused("richiesta proveniente da un altro sito");
    }
    match service.apri_sessione(&form.token).await {
        Ok(aperta) => {
            let max_age = (aperta.attiva.expires_at - chrono::Utc::now())
                .num_seconds()
                .max(0);
            let cookie = sessione::set_cookie(&headers, &aperta.id, max_age);
            ([(header::SET_COOKIE, cookie)], Redirect::to("/richieste")).into_response()
        }
        Err(ServiceError::Unauthorized) => {
            let pagina = PaginaAccesso { errore: Some("Token non valido, scaduto o revocato.".into()) };
            (StatusCode::UNAUTHORIZED, super::pagina(&pagina)).into_response()
        }
        Err(e) => errore(e),
    }
}

#[derive(Deserialize)]
pub struct FormCsrf {
    #[serde(default)]
    csrf: String,
}

/// Sign-out: the session ends on the server, the cookie is removed.
pub async fn uscita(
    State(service): State<Service>,
    utente: Utente,
    headers: HeaderMap,
    Form(form): Form<FormCsrf>,
) -> Response {
    if !sessione::same_origin(&headers) || !utente.0.csrf_ok(&form.csrf) {
        return refused("modulo scaduto o non valido: ricaricare la pagina e riprovare");
    }
    match service.chiudi_sessione(&utente.0).await {
        Ok(()) => ([(header::SET_COOKIE, sessione::clear_cookie(&headers))], Redirect::to("/accesso")).into_response(),
        Err(e) => errore(e),
    }
}

#[derive(Template)]
#[template(path = "emulazione.html")]
struct PaginaEmulazione {
    testa: Intestazione,
}

/// "Emulazione": the form of the operatore (an intermediario cannot emulate: 403).
pub async fn emulazione_form(utente: Utente) -> Response {
    let c = &utente.0.caller;
    if !c.ruolo.reads_all() || c.emulazione.is_some() {
        return errore(ServiceError::Forbidden("l'emulazione è riservata agli operatori e agli amministratori"));
    }
    super::pagina(&PaginaEmulazione { testa: Intestazione::of(&utente) })
}

#[derive(Deserialize)]
pub struct FormEmulazione {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    intermediario: String,
}

/// Starts the emulazione of an intermediario: recorded by the service, kept in a cookie for the
/// rest of the session; then its "Ricerca elaborazioni".
pub async fn emulazione(
    State(service): State<Service>,
    utente: Utente,
    headers: HeaderMap,
    Form(form): Form<FormEmulazione>,
) -> Response {
    if !sessione::same_origin(&headers) || !utente.0.csrf_ok(&form.csrf) {
        return refused("modulo scaduto o non valido: ricaricare la pagina e riprovare");
    }
    match service
        .emulazione(&utente.0.caller, &form.intermediario)
        .await
    {
        Ok(c) => {
            let cf = c.emulazione.unwrap_or_default();
            let max_age = (utente.0.expires_at - chrono::Utc::now())
                .num_seconds()
                .max(0);
            ([(header::SET_COOKIE, sessione::emulazione_cookie(&headers, &cf, max_age))], Redirect::to("/richieste"))
                .into_response()
        }
        Err(e) => errore(e),
    }
}

/// Ends the emulazione: back to the operatore's own view.
pub async fn fine_emulazione(utente: Utente, headers: HeaderMap, Form(form): Form<FormCsrf>) -> Response {
    if !sessione::same_origin(&headers) || !utente.0.csrf_ok(&form.csrf) {
        return refused("modulo scaduto o non valido: ricaricare la pagina e riprovare");
    }
    ([(header::SET_COOKIE, sessione::emulazione_cookie(&headers, "", 0))], Redirect::to("/richieste")).into_response()
}

/// The search form of "Ricerca elaborazioni", as the query string keeps it (bookmarkable).
#[derive(Debug, Default, Deserialize)]
pub struct Filtri {
    #[serde(default)]
    numero: String,
    #[serde(default)]
    denominazione: String,
    #[serde(default)]
    matricola: String,
    #[serde(default)]
    codice_fiscale: String,
    #[serde(default)]
    inserita_dal: String,
    #[serde(default)]
    inserita_al: String,
    #[serde(default)]
    approvata_dal: String,
    #[serde(default)]
    approvata_al: String,
    #[serde(default)]
    stato: String,
    page: Option<u32>,
}

fn testo(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_string())
}

fn data_campo(nome: &str, s: &str) -> Result<Option<chrono::NaiveDate>, ServiceError> {
    match testo(s) {
        None => Ok(None),
        Some(t) => formato::leggi_data(&t)
            .map(Some)
            .ok_or_else(|| ServiceError::invalid("invalid_query", format!("{nome}: data non valida (GG/MM/AAAA)"))),
    }
}

impl Filtri {
    pub(super) fn ricerca(&self) -> Result<Ricerca, ServiceError> {
        let numero = match testo(&self.numero) {
            None => None,
            Some(n) => Some(n.parse().map_err(|_| {
                ServiceError::invalid("invalid_query", "il numero richiesta deve essere un numero intero")
            })?),
        };
        let stato = match testo(&self.stato) {
            None => None,
            Some(s) => Some(
                StatoRichiesta::ALL
                    .into_iter()
                    .find(|x| x.as_str() == s)
                    .ok_or_else(|| ServiceError::invalid("invalid_query", "stato non valido"))?,
            ),
        };
        Ok(Ricerca {
            numero,
            matricola: testo(&self.matricola),
            codice_fiscale: testo(&self.codice_fiscale),
            denominazione: testo(&self.denominazione),
            inserita_dal: data_campo("data inserimento dal", &self.inserita_dal)?,
            inserita_al: data_campo("data inserimento al", &self.inserita_al)?,
            approvata_dal: data_campo("data invio approvazione dal", &self.approvata_dal)?,
            approvata_al: data_campo("data invio approvazione al", &self.approvata_al)?,
            stato,
            paging: Paging { page: self.page, page_size: Some(PAGE_SIZE) },
        })
    }

    /// The query string of these filters on another page.
    pub(super) fn query(&self, page: u32) -> String {
        let pairs = [
            ("numero", &self.numero),
            ("denominazione", &self.denominazione),
            ("matricola", &self.matricola),
            ("codice_fiscale", &self.codice_fiscale),
            ("inserita_dal", &self.inserita_dal),
            ("inserita_al", &self.inserita_al),
            ("approvata_dal", &self.approvata_dal),
            ("approvata_al", &self.approvata_al),
            ("stato", &self.stato),
        ];
        let mut q = url_pairs(
            pairs
                .iter()
                .filter(|(_, v)| !v.is_empty())
                .map(|(k, v)| (*k, v.as_str())),
        );
        if !q.is_empty() {
            q.push('&');
        }
        q.push_str(&format!("page={page}"));
        q
    }
}

fn url_pairs<'a>(pairs: impl Iterator<Item = (&'a str, &'a str)>) -> String {
    pairs
        .map(|(k, v)| format!("{k}={}", percent_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

const PAGE_SIZE: u32 = 20;

/// One row of the table of "Ricerca elaborazioni", written for the reader.
pub(super) struct Riga {
    pub(super) numero: i64,
    /// Still being processed: the console's script reloads the table until no row is.
    pub(super) in_corso: bool,
    pub(super) data_inserimento: String,
    pub(super) data_approvazione: String,
    pub(super) esito: String,
    pub(super) nome_file: String,
    pub(super) totali: String,
    pub(super) valide: String,
    pub(super) scartate: String,
    pub(super) azioni: super::richiesta::Azioni,
    /// The row can be selected for a bulk action (the caller may approve or delete it now).
    pub(super) selezionabile: bool,
}

impl Riga {
    fn of(utente: &Utente, r: &Richiesta) -> Self {
        let azioni = super::richiesta::Azioni::of(utente, r);
        Riga {
            selezionabile: azioni.approva || azioni.elimina,
            azioni,
            numero: r.numero,
            in_corso: matches!(
                r.stato,
                StatoRichiesta::Ricevuta
                    | StatoRichiesta::InElaborazione
                    | StatoRichiesta::Approvata
                    | StatoRichiesta::InInvio
            ),
            data_inserimento: formato::data_ora(r.data_inserimento),
            data_approvazione: r
                .data_approvazione
                .map(formato::data_ora)
                .unwrap_or_default(),
            esito: esito(r.stato).into(),
            nome_file: r.nome_file.clone().unwrap_or_default(),
            totali: formato::numero(r.domande_totali),
            valide: formato::numero(r.domande_valide),
            scartate: formato::numero(r.domande_scartate),
        }
    }
}

/// The rows of a table of richieste.
pub(super) fn righe(utente: &Utente, richieste: &[Richiesta]) -> Vec<Riga> {
    richieste.iter().map(|r| Riga::of(utente, r)).collect()
}

struct OpzioneStato {
    codice: &'static str,
    etichetta: &'static str,
    scelta: bool,
}

#[derive(Template)]
#[template(path = "richieste.html")]
struct PaginaRichieste {
    testa: Intestazione,
    /// The table offers selection and the bulk actions.
    massive: bool,
    /// The search as a query string (page 1), for the bulk form's "all found".
    filtro: String,
    filtri: Filtri,
    stati: Vec<OpzioneStato>,
    righe: Vec<Riga>,
    totale: String,
    pagina: u32,
    pagine: u32,
    precedente: Option<String>,
    successiva: Option<String>,
}

/// "Ricerca elaborazioni": the search form and the table of the richieste it finds.
pub async fn richieste(State(service): State<Service>, utente: Utente, Query(filtri): Query<Filtri>) -> Response {
    let ricerca = match filtri.ricerca() {
        Ok(r) => r,
        Err(e) => return errore(e),
    };
    let page = match service.ricerca(&utente.0.caller, ricerca).await {
        Ok(p) => p,
        Err(e) => return errore(e),
    };
    let pagine = (page.total.max(0) as u64)
        .div_ceil(u64::from(page.page_size.max(1)))
        .max(1) as u32;
    let precedente = (page.page > 1).then(|| format!("/richieste?{}", filtri.query(page.page - 1)));
    let successiva = (page.page < pagine).then(|| format!("/richieste?{}", filtri.query(page.page + 1)));
    let stati = StatoRichiesta::ALL
        .into_iter()
        .map(|s| OpzioneStato { codice: s.as_str(), etichetta: esito(s), scelta: s.as_str() == filtri.stato })
        .collect();
    let pagina = PaginaRichieste {
        testa: Intestazione::of(&utente),
        massive: utente.0.caller.ensure_may_change().is_ok(),
        filtro: filtri.query(1),
        righe: righe(&utente, &page.items),
        totale: formato::numero(page.total),
        pagina: page.page,
        pagine,
        precedente,
        successiva,
        stati,
        filtri,
    };
    super::pagina(&pagina)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_survive_in_the_query_string() {
        let f = Filtri { denominazione: "Rossi & figli".into(), stato: "PREVALIDATA".into(), ..Default::default() };
        assert_eq!(f.query(2), "denominazione=Rossi%20%26%20figli&stato=PREVALIDATA&page=2");
        assert_eq!(Filtri::default().query(1), "page=1");
        assert!(Filtri { numero: "x".into(), ..Default::default() }
            .ricerca()
            .is_err());
        let r = Filtri { inserita_dal: "01/02/2026".into(), ..Default::default() }
            .ricerca()
            .unwrap();
        assert_eq!(r.inserita_dal, chrono::NaiveDate::from_ymd_opt(2026, 2, 1));
    }
}
