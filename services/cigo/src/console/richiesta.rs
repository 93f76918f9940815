//! The pages and actions of one richiesta: "Dettaglio domande", the XML file, the ricevute
//! (attestati as PDF), "Approva all'invio" and "Elimina". Each is one call of the service layer,
//! which checks access, writes the audit row and applies the state machine.

use super::sessione::{self, Utente};
use super::{errore, esito, formato, refused, Intestazione};
use crate::service::{Azione, FormatoEsito, Paging, Service, ServiceError, TipoAttestato};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use cigo_domain::EsitoDomanda;
use cigo_store::{DomandaRecord, Richiesta};
use serde::Deserialize;

/// Domande per page of "Dettaglio domande".
const PAGE_SIZE: u32 = 50;

/// How a screen names the esito of a domanda.
fn esito_domanda(e: EsitoDomanda) -> &'static str {
    match e {
        EsitoDomanda::Valida => "Valida",
        EsitoDomanda::ValidaConAvvisi => "Valida con avvisi",
        EsitoDomanda::Scartata => "Scartata",
        EsitoDomanda::Protocollata => "Protocollata",
        EsitoDomanda::ScartataInInvio => "Scartata in fase di invio",
    }
}

/// A link or a button of a row of "Ricerca elaborazioni" or of the head of "Dettaglio domande".
pub struct Azioni {
    pub numero: i64,
    /// Shown on "Dettaglio domande" itself: no link to it.
    pub in_dettaglio: bool,
    pub approva: bool,
    pub elimina: bool,
    pub trasmissione: bool,
    pub consegna: bool,
}

impl Azioni {
    /// What `utente` may do on `r` now: the buttons follow the service's answer, the links the
    /// attestati issued.
    pub fn of(utente: &Utente, r: &Richiesta) -> Self {
        let azioni = utente.0.caller.azioni(r);
        Azioni {
            numero: r.numero,
            in_dettaglio: false,
            approva: azioni.contains(&Azione::Approva),
            elimina: azioni.contains(&Azione::Elimina),
            trasmissione: TipoAttestato::Trasmissione.issued(r),
            consegna: TipoAttestato::Consegna.issued(r),
        }
    }
}

struct Segnalazione {
    codice: String,
    /// What the rule checks and its legal basis, from the catalogue.
    regola: String,
    gravita: &'static str,
    messaggio: String,
    dove: String,
    valore: String,
}

struct RigaDomanda {
    progressivo: i64,
    matricola: String,
    denominazione: String,
    unita: String,
    periodo: String,
    esito: &'static str,
    scartata: bool,
    protocollo: String,
    segnalazioni: Vec<Segnalazione>,
}

fn data(d: Option<chrono::NaiveDate>) -> String {
    d.map(|d| d.format("%d/%m/%Y").to_string())
        .unwrap_or_default()
}

impl RigaDomanda {
    fn of(d: &DomandaRecord) -> Self {
        RigaDomanda {
            progressivo: d.progressivo,
            matricola: d.matricola.clone().unwrap_or_default(),
            denominazione: d.denominazione.clone().unwrap_or_default(),
            unita: d
                .unita_produttiva
                .as_deref()
                .map(formato::unita)
                .unwrap_or_default(),
            periodo: format!("{} – {}", data(d.periodo_dal), data(d.periodo_al)),
            esito: esito_domanda(d.esito),
            scartata: matches!(d.esito, EsitoDomanda::Scartata | EsitoDomanda::ScartataInInvio),
            protocollo: d.protocollo.clone().unwrap_or_default(),
            segnalazioni: d
                .findings
                .iter()
                .map(|f| Segnalazione {
                    codice: f.code.clone(),
                    regola: cigo_domain::rules::rule(&f.code)
                        .map(|r| format!("{}. Base normativa: {}.", r.description, r.legal_basis))
                        .unwrap_or_default(),
                    gravita: if f.is_error() { "Errore" } else { "Avviso" },
                    messaggio: f.message.clone(),
                    dove: match (&f.xpath, f.line) {
                        (Some(x), Some(l)) => format!("{x} (riga {l})"),
                        (Some(x), None) => x.clone(),
                        (None, Some(l)) => format!("riga {l}"),
                        (None, None) => String::new(),
                    },
                    valore: f.value.clone().unwrap_or_default(),
                })
                .collect(),
        }
    }
}

struct OpzioneEsito {
    codice: &'static str,
    etichetta: &'static str,
    scelta: bool,
}

#[derive(Template)]
#[template(path = "domande.html")]
struct PaginaDomande {
    testa: Intestazione,
    numero: i64,
    stato: &'static str,
    nome_file: String,
    totali: String,
    valide: String,
    scartate: String,
    /// There are rejected domande: their file can be downloaded to correct.
    con_scartate: bool,
    azioni: Azioni,
    esiti: Vec<OpzioneEsito>,
    righe: Vec<RigaDomanda>,
    totale: String,
    pagina: u32,
    pagine: u32,
    precedente: Option<String>,
    successiva: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct FiltriDomande {
    #[serde(default)]
    esito: String,
    page: Option<u32>,
}

impl FiltriDomande {
    fn url(&self, numero: i64, page: u32) -> String {
        match self.esito.as_str() {
            "" => format!("/richieste/{numero}/domande?page={page}"),
            e => format!("/richieste/{numero}/domande?esito={e}&page={page}"),
        }
    }
}

/// "Dettaglio domande": every domanda of the richiesta with its esito, protocol and findings.
pub async fn domande(
    State(service): State<Service>,
    utente: Utente,
    Path(numero): Path<i64>,
    Query(filtri): Query<FiltriDomande>,
) -> Response {
    let caller = &utente.0.caller;
    let esito = match filtri.esito.as_str() {
        "" => None,
        e => match e.parse::<EsitoDomanda>() {
            Ok(e) => Some(e),
            Err(_) => return errore(ServiceError::invalid("invalid_query", "esito non valido")),
        },
    };
    let dettaglio = match service.richiesta(caller, numero).await {
        Ok(d) => d,
        Err(e) => return errore(e),
    };
    let paging = Paging { page: filtri.page, page_size: Some(PAGE_SIZE) };
    let page = match service.domande(caller, numero, esito, paging).await {
        Ok(p) => p,
        Err(e) => return errore(e),
    };
    let r = &dettaglio.richiesta;
    let pagine = (page.total.max(0) as u64)
        .div_ceil(u64::from(page.page_size.max(1)))
        .max(1) as u32;
    let pagina = PaginaDomande {
        testa: Intestazione::of(&utente),
        numero,
        stato: esito_richiesta(r),
        nome_file: r.nome_file.clone().unwrap_or_default(),
        totali: formato::conteggio(r.domande_totali, "domanda", "domande"),
        valide: formato::conteggio(r.domande_valide, "valida", "valide"),
        scartate: formato::conteggio(r.domande_scartate, "scartata", "scartate"),
        con_scartate: r.domande_scartate > 0,
        azioni: Azioni { in_dettaglio: true, ..Azioni::of(&utente, r) },
        esiti: EsitoDomanda::ALL
            .into_iter()
            .map(|e| OpzioneEsito {
                codice: e.as_str(),
                etichetta: esito_domanda(e),
                scelta: e.as_str() == filtri.esito,
            })
            .collect(),
        righe: page.items.iter().map(RigaDomanda::of).collect(),
        totale: formato::numero(page.total),
        pagina: page.page,
        pagine,
        precedente: (page.page > 1).then(|| filtri.url(numero, page.page - 1)),
        successiva: (page.page < pagine).then(|| filtri.url(numero, page.page + 1)),
    };
    super::pagina(&pagina)
}

fn esito_richiesta(r: &Richiesta) -> &'static str {
    esito(r.stato)
}

/// The esito as CSV for a spreadsheet (the API's `esito.csv`).
pub async fn esito_csv(State(service): State<Service>, utente: Utente, Path(numero): Path<i64>) -> Response {
    match service
        .esito_file(&utente.0.caller, numero, FormatoEsito::Csv)
        .await
    {
        Ok(file) => crate::http::esito_download(numero, FormatoEsito::Csv, file),
        Err(e) => errore(e),
    }
}

/// The file of the rejected domande, to correct and upload again (the API's `scartate.xml`).
pub async fn scartate(State(service): State<Service>, utente: Utente, Path(numero): Path<i64>) -> Response {
    match service.scartate(&utente.0.caller, numero).await {
        Ok(file) => crate::http::scartate_download(numero, file),
        Err(e) => errore(e),
    }
}

/// "XML File": the file as it was uploaded.
pub async fn xml(State(service): State<Service>, utente: Utente, Path(numero): Path<i64>) -> Response {
    match service.xml(&utente.0.caller, numero).await {
        Ok(file) => crate::http::xml_download(file),
        Err(e) => errore(e),
    }
}

/// "Ricevuta": the attestato `tipo` (trasmissione, consegna) as PDF.
pub async fn ricevuta(
    State(service): State<Service>,
    utente: Utente,
    Path((numero, tipo)): Path<(i64, String)>,
) -> Response {
    let emesso = match service.attestato(&utente.0.caller, numero, &tipo).await {
        Ok(e) => e,
        Err(e) => return errore(e),
    };
    match emesso.pdf().await {
        Ok((bytes, filename)) => (
            [
                (header::CONTENT_TYPE, "application/pdf".to_string()),
                (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{filename}\"")),
            ],
            bytes,
        )
            .into_response(),
        Err(e) => errore(e),
    }
}

#[derive(Deserialize)]
pub struct FormAzione {
    #[serde(default)]
    csrf: String,
    /// Set by the confirmation page.
    #[serde(default)]
    conferma: String,
}

/// Where an action goes back to: the richiesta's row in "Ricerca elaborazioni".
fn dopo(numero: i64) -> Response {
    Redirect::to(&format!("/richieste?numero={numero}")).into_response()
}

#[derive(Template)]
#[template(path = "conferma.html")]
struct PaginaConferma {
    testa: Intestazione,
    numero: i64,
    /// The path segment of the action: `approva`, `elimina`.
    azione: &'static str,
    titolo: String,
    cosa_succede: String,
    bottone: &'static str,
    pericolo: bool,
    nome_file: String,
    totali: String,
}

/// "Approva all'invio" and "Elimina": first a page that says what will happen and asks to
/// confirm, then the action (`conferma=si`, posted by that page).
async fn con_conferma(
    service: Service,
    utente: Utente,
    headers: HeaderMap,
    numero: i64,
    form: FormAzione,
    azione: Azione,
) -> Response {
    if !sessione::same_origin(&headers) || !utente.0.csrf_ok(&form.csrf) {
        return refused("modulo scaduto o non valido: ricaricare la pagina e riprovare");
    }
    let caller = &utente.0.caller;
    if form.conferma != "si" {
        let r = match service.richiesta(caller, numero).await {
            Ok(d) => d.richiesta,
            Err(e) => return errore(e),
        };
        let (titolo, cosa_succede, bottone, pericolo) = match azione {
            Azione::Approva => (
                format!("Approvare all'invio la richiesta {numero}?"),
                cosa_succede_all_invio(r.domande_valide, r.domande_scartate),
                "Sì, approva all'invio",
                false,
            ),
            Azione::Elimina => (
                format!("Eliminare la richiesta {numero}?"),
                "Una richiesta eliminata non può più essere approvata all'invio; il file potrà essere caricato di nuovo."
                    .to_string(),
                "Sì, elimina",
                true,
            ),
        };
        return super::pagina(&PaginaConferma {
            testa: Intestazione::of(&utente),
            numero,
            azione: azione.as_str(),
            titolo,
            cosa_succede,
            bottone,
            pericolo,
            nome_file: r.nome_file.clone().unwrap_or_default(),
            totali: formato::conteggio(r.domande_totali, "domanda", "domande"),
        });
    }
    let fatto = match azione {
        Azione::Approva => service.approva(caller, numero).await,
        Azione::Elimina => service.elimina(caller, numero).await,
    };
    match fatto {
        Ok(_) => dopo(numero),
        Err(e) => errore(e),
    }
}

/// What the confirmation of "Approva all'invio" says will happen.
pub(super) fn cosa_succede_all_invio(valide: i64, scartate: i64) -> String {
    let inviate = match valide {
        1 => "Sarà inviata 1 domanda valida, convalidata di nuovo al momento dell'invio".to_string(),
        n => {
            format!("Saranno inviate {} domande valide, convalidate di nuovo al momento dell'invio", formato::numero(n))
        }
    };
    match scartate {
        0 => format!("{inviate}."),
        1 => format!("{inviate}; la domanda scartata non sarà inviata (si può correggere e caricare di nuovo)."),
        n => format!(
            "{inviate}; le {} domande scartate non saranno inviate (si possono correggere e caricare di nuovo).",
            formato::numero(n)
        ),
    }
}

/// "Approva all'invio".
pub async fn approva(
    State(service): State<Service>,
    utente: Utente,
    headers: HeaderMap,
    Path(numero): Path<i64>,
    Form(form): Form<FormAzione>,
) -> Response {
    con_conferma(service, utente, headers, numero, form, Azione::Approva).await
}

/// "Elimina".
pub async fn elimina(
    State(service): State<Service>,
    utente: Utente,
    headers: HeaderMap,
    Path(numero): Path<i64>,
    Form(form): Form<FormAzione>,
) -> Response {
    con_conferma(service, utente, headers, numero, form, Azione::Elimina).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_confirmation_counts_in_italian() {
        assert_eq!(
            cosa_succede_all_invio(1, 1),
            "Sarà inviata 1 domanda valida, convalidata di nuovo al momento dell'invio; \
             la domanda scartata non sarà inviata (si può correggere e caricare di nuovo)."
        );
        assert!(cosa_succede_all_invio(1200, 0).starts_with("Saranno inviate 1.200 domande valide"));
        assert!(cosa_succede_all_invio(3, 5).contains("le 5 domande scartate non saranno inviate"));
    }
}
