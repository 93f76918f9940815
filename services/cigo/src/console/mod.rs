//! # The web console: the second adapter over the service layer
//!
//! Server-rendered HTML for the people at the desk (intermediari, operatori, admin), in the same
//! binary as the JSON API. Like `crate::api`, it only translates: a session cookie stands for the
//! API token ([`crate::service::Service::sessione`]), forms and query strings become the arguments
//! of the same [`Service`] methods, and their answers become pages. Access checks, audit rows and
//! state handling are the service's; nothing here decides them.
//!
//! Security: every page carries a strict Content-Security-Policy (`default-src 'self'`, no inline
//! script), every state-changing form a CSRF token compared in constant time and an Origin check,
//! templates escape their output (askama, HTML escaping by default).

mod amministrazione;
mod caricamento;
mod cruscotto;
mod formato;
mod massive;
mod pagine;
mod richiesta;
mod sessione;

use crate::api::error::ApiError;
use crate::service::{Service, ServiceError};
use askama::Template;
use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use cigo_domain::StatoRichiesta;

/// The CSP of every console page: nothing from outside the server, no inline script or style.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; \
    form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The console's routes, at `/` beside the API's `/api/v1` (merge it with the API's router: it
/// has no fallback of its own, so unknown paths keep the API's JSON 404).
pub fn router(service: Service) -> Router {
    // A form of many files: each is held to the upload limit as it is read, the whole form to
    // that many of them.
    let form_limit = (service.settings().max_upload_bytes as usize)
        .saturating_mul(caricamento::MAX_FILE)
        .saturating_add(64 * 1024);
    Router::new()
        .route("/", get(pagine::home))
        .route("/accesso", get(pagine::accesso_form).post(pagine::accesso))
        .route("/uscita", post(pagine::uscita))
        .route(
            "/caricamento",
            get(caricamento::pagina)
                .post(caricamento::carica)
                .layer(DefaultBodyLimit::max(form_limit))
                .layer(axum::middleware::from_fn(crate::api::hostile::drain_refused_body)),
        )
        .route("/richieste", get(pagine::richieste))
        .route("/richieste/azioni", post(massive::azioni))
        .route("/cruscotto", get(cruscotto::pagina))
        .route("/emulazione", get(pagine::emulazione_form).post(pagine::emulazione))
        .route("/emulazione/fine", post(pagine::fine_emulazione))
        .route("/amministrazione", get(amministrazione::pagina))
        .route("/amministrazione/riprova/{numero}", post(amministrazione::riprova))
        .route("/richieste/{numero}/domande", get(richiesta::domande))
        .route("/richieste/{numero}/xml", get(richiesta::xml))
        .route("/richieste/{numero}/esito.csv", get(richiesta::esito_csv))
        .route("/richieste/{numero}/scartate.xml", get(richiesta::scartate))
        .route("/richieste/{numero}/ricevuta/{tipo}", get(richiesta::ricevuta))
        .route("/richieste/{numero}/approva", post(richiesta::approva))
        .route("/richieste/{numero}/elimina", post(richiesta::elimina))
        .route("/static/console.css", get(css))
        .route("/static/console.js", get(js))
        .layer(axum::middleware::map_response(intestazioni))
        .with_state(service)
}

/// Who is signed in, as the page header shows it, and the CSRF token of its forms.
pub struct Intestazione {
    pub chi: String,
    /// The intermediario being emulated, if any.
    pub emulato: Option<String>,
    /// The session may start an emulazione (an operatore or admin, not in one already).
    pub emula: bool,
    /// The administration screen is offered (an admin).
    pub admin: bool,
    pub ruolo: String,
    pub csrf: String,
    /// The upload screens are offered (an intermediario, not an operatore or an admin).
    pub carica: bool,
}

impl Intestazione {
    fn of(u: &sessione::Utente) -> Self {
        let c = &u.0.caller;
        Intestazione {
            chi: c.intermediario.clone(),
            emulato: c.emulazione.clone(),
            emula: c.ruolo.reads_all() && c.emulazione.is_none(),
            admin: c.ensure_admin().is_ok() && c.emulazione.is_none(),
            ruolo: c.ruolo.to_string(),
            csrf: u.0.csrf_token.clone(),
            carica: c.ensure_may_change().is_ok(),
        }
    }
}

/// The "Esito Elaborazione" of the seed's screens for each state.
fn esito(stato: StatoRichiesta) -> &'static str {
    match stato {
        StatoRichiesta::Ricevuta => "XML inserito per la validazione",
        StatoRichiesta::InElaborazione => "XML in fase di elaborazione",
        StatoRichiesta::Prevalidata => "XML prevalidato",
        StatoRichiesta::Scartata => "XML scartato",
        StatoRichiesta::Approvata => "Approvato all'invio",
        StatoRichiesta::InInvio => "In fase di invio",
        StatoRichiesta::Consegnata => "Consegnato",
        StatoRichiesta::ScartataInInvio => "Scartato in fase di invio",
        StatoRichiesta::Eliminata => "Eliminato",
    }
}

/// The security headers of every console response.
async fn intestazioni(mut response: Response) -> Response {
    let h = response.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    response
}

/// The stylesheet, embedded in the binary; cached for a day (it changes only with the binary).
async fn css() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=86400")],
        include_str!("../../static/console.css"),
    )
        .into_response()
}

/// The console's one script, embedded like the stylesheet: progressive enhancement of pages
/// that work without it (the uploads' progress, the tables that update themselves).
async fn js() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=86400")],
        include_str!("../../static/console.js"),
    )
        .into_response()
}

/// A rendered template as a response (an error page if it cannot be rendered).
fn pagina(t: &impl askama::Template) -> Response {
    match t.render() {
        Ok(html) => ([(header::CACHE_CONTROL, "no-store")], Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "console template failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "errore interno").into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "errore.html")]
struct PaginaErrore {
    titolo: String,
    messaggio: String,
}

/// The Italian error page of a failed use case, with the status the API answers for it (the
/// API's one mapping of errors to HTTP).
pub fn errore(e: ServiceError) -> Response {
    errore_api(e.into())
}

/// The error page of a request the API's HTTP layer would refuse, with the same status.
pub fn errore_api(e: ApiError) -> Response {
    let status = e.status();
    if status == StatusCode::INTERNAL_SERVER_ERROR {
        tracing::error!(error = ?e, "console request failed");
    }
    let p = PaginaErrore { titolo: "Operazione non riuscita".into(), messaggio: e.to_string() };
    (status, pagina(&p)).into_response()
}

pub(crate) fn refused(messaggio: &str) -> Response {
    let p = PaginaErrore { titolo: "Richiesta rifiutata".into(), messaggio: messaggio.into() };
    (StatusCode::FORBIDDEN, pagina(&p)).into_response()
}
