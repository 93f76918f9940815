//! "Amministrazione" (admin only): the jobs that failed past their retries, each with its error
//! and a button to run it again once the cause is fixed, and the audit trail of reads and changes
//! with a filter on the richiesta. The service decides who may ([`Service::amministrazione`]).

use super::sessione::{self, Utente};
use super::{errore, formato, refused, Intestazione};
use crate::service::{Paging, Service, ServiceError};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;

/// Rows per page of the audit trail; failures shown at most.
const PAGE_SIZE: u32 = 50;
const MAX_ERRORI: usize = 200;

#[derive(Debug, Default, Deserialize)]
pub struct Filtri {
    #[serde(default)]
    numero: String,
    page: Option<u32>,
}

struct Errore {
    numero: i64,
    job: String,
    errore: String,
    tentativi: i32,
    quando: String,
}

struct Voce {
    quando: String,
    chi: String,
    azione: String,
    numero: String,
    dettaglio: String,
}

#[derive(Template)]
#[template(path = "amministrazione.html")]
struct Pagina {
    testa: Intestazione,
    errori: Vec<Errore>,
    numero: String,
    voci: Vec<Voce>,
    totale: String,
    pagina: u32,
    pagine: u32,
    precedente: Option<String>,
    successiva: Option<String>,
}

pub async fn pagina(State(service): State<Service>, utente: Utente, Query(f): Query<Filtri>) -> Response {
    let admin = match service.amministrazione(&utente.0.caller) {
        Ok(a) => a,
        Err(e) => return errore(e),
    };
    let numero = match f.numero.trim() {
        "" => None,
        n => match n.parse::<i64>() {
            Ok(n) => Some(n),
            Err(_) => {
                return errore(ServiceError::invalid(
                    "invalid_query",
                    "il numero richiesta deve essere un numero intero",
                ))
            }
        },
    };
    let errori = match admin.errori_elaborazione(MAX_ERRORI).await {
        Ok(e) => e,
        Err(e) => return errore(e),
    };
    let audit = match admin
        .audit_trail(numero, Paging { page: f.page, page_size: Some(PAGE_SIZE) })
        .await
    {
        Ok(p) => p,
        Err(e) => return errore(e),
    };
    let pagine = (audit.total.max(0) as u64)
        .div_ceil(u64::from(PAGE_SIZE))
        .max(1) as u32;
    let url = |p: u32| match numero {
        Some(n) => format!("/amministrazione?numero={n}&page={p}"),
        None => format!("/amministrazione?page={p}"),
    };
    let pagina = Pagina {
        testa: Intestazione::of(&utente),
        errori: errori
            .into_iter()
            .map(|e| Errore {
                numero: e.numero_richiesta,
                job: e.kind.to_string(),
                errore: e.errore,
                tentativi: e.tentativi,
                quando: formato::data_ora(e.at),
            })
            .collect(),
        numero: f.numero.trim().to_string(),
        voci: audit
            .items
            .into_iter()
            .map(|a| Voce {
                quando: formato::data_ora(a.at),
                chi: a.actor,
                azione: a.action,
                numero: a
                    .numero_richiesta
                    .map(|n| n.to_string())
                    .unwrap_or_default(),
                dettaglio: a.detail.unwrap_or_default(),
            })
            .collect(),
        totale: formato::numero(audit.total),
        pagina: audit.page,
        pagine,
        precedente: (audit.page > 1).then(|| url(audit.page - 1)),
        successiva: (audit.page < pagine).then(|| url(audit.page + 1)),
    };
    super::pagina(&pagina)
}

#[derive(Deserialize)]
pub struct FormCsrf {
    #[serde(default)]
    csrf: String,
}

/// "Riprova": the failed job of the richiesta queued again.
pub async fn riprova(
    State(service): State<Service>,
    utente: Utente,
    headers: HeaderMap,
    Path(numero): Path<i64>,
    Form(form): Form<FormCsrf>,
) -> Response {
    if !sessione::same_origin(&headers) || !utente.0.csrf_ok(&form.csrf) {
        return refused("modulo scaduto o non valido: ricaricare la pagina e riprovare");
    }
    let fatto = match service.amministrazione(&utente.0.caller) {
        Ok(a) => a.riprova(numero).await,
        Err(e) => Err(e),
    };
    match fatto {
        Ok(_) => Redirect::to(&format!("/richieste?numero={numero}")).into_response(),
        Err(e) => errore(e),
    }
}
