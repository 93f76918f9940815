//! Azioni massive: "Approva all'invio" or "Elimina" on the richieste selected in "Ricerca
//! elaborazioni", or on all those the search finds. First a page that says how many richieste and
//! domande the action touches and asks to confirm (it carries the numbers, so what is confirmed
//! is what is done), then the action, one richiesta at a time through the service
//! ([`Service::su_molte`]), and a page that reports each one that failed and why.

use super::pagine::Filtri;
use super::richiesta::cosa_succede_all_invio;
use super::sessione::{self, Utente};
use super::{errore, esito, formato, refused, Intestazione};
use crate::service::{Azione, Service, ServiceError, MAX_MASSIVA};
use askama::Template;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use cigo_store::Richiesta;

/// The fields of the bulk form, as posted (the richieste selected repeat `numero`).
#[derive(Debug, Default, PartialEq)]
struct Modulo {
    csrf: String,
    azione: String,
    numeri: Vec<String>,
    /// `si`: all the richieste the search of `filtro` finds, not only those selected.
    tutte: bool,
    /// The query string of the search the form was on.
    filtro: String,
    conferma: bool,
}

impl Modulo {
    fn leggi(body: &[u8]) -> Modulo {
        let mut m = Modulo::default();
        for (k, v) in form_urlencoded::parse(body) {
            match k.as_ref() {
                "csrf" => m.csrf = v.into_owned(),
                "azione" => m.azione = v.into_owned(),
                "numero" => m.numeri.push(v.into_owned()),
                "tutte" => m.tutte = v == "si",
                "filtro" => m.filtro = v.into_owned(),
                "conferma" => m.conferma = v == "si",
                _ => {}
            }
        }
        m
    }
}

/// One richiesta of the confirmation page.
struct Voce {
    numero: i64,
    nome_file: String,
    stato: &'static str,
    totali: String,
    /// The action is not possible on it now: it will be reported as failed.
    esclusa: bool,
}

#[derive(Template)]
#[template(path = "massiva.html")]
struct PaginaConferma {
    testa: Intestazione,
    azione: &'static str,
    titolo: String,
    cosa_succede: String,
    bottone: &'static str,
    pericolo: bool,
    voci: Vec<Voce>,
    ritorno: String,
}

/// One line of the report.
struct Fallita {
    numero: i64,
    motivo: String,
}

#[derive(Template)]
#[template(path = "massiva_esito.html")]
struct PaginaEsito {
    testa: Intestazione,
    riuscite: String,
    fallite: Vec<Fallita>,
    ritorno: String,
}

/// `POST /richieste/azioni`: the confirmation, then the action.
pub async fn azioni(State(service): State<Service>, utente: Utente, headers: HeaderMap, body: Bytes) -> Response {
    let m = Modulo::leggi(&body);
    if !sessione::same_origin(&headers) || !utente.0.csrf_ok(&m.csrf) {
        return refused("modulo scaduto o non valido: ricaricare la pagina e riprovare");
    }
    let caller = &utente.0.caller;
    let azione = match Azione::ALL.into_iter().find(|a| a.as_str() == m.azione) {
        Some(a) => a,
        None => return errore(ServiceError::invalid("invalid_form", "azione non valida")),
    };
    // Back to the same search (its query string is only ever used as one, on this site).
    let ritorno = format!("/richieste?{}", m.filtro.trim_start_matches('?'));
    let richieste: Vec<Richiesta> = if m.tutte && !m.conferma {
        let uri: Uri = match ritorno.parse() {
            Ok(u) => u,
            Err(_) => return errore(ServiceError::invalid("invalid_form", "ricerca non valida")),
        };
        let ricerca = match Query::<Filtri>::try_from_uri(&uri)
            .map_err(|_| ServiceError::invalid("invalid_form", "ricerca non valida"))
            .and_then(|Query(f)| f.ricerca())
        {
            Ok(r) => r,
            Err(e) => return errore(e),
        };
        match service.selezione(caller, ricerca, azione).await {
            Ok(r) => r,
            Err(e) => return errore(e),
        }
    } else {
        let mut numeri = Vec::with_capacity(m.numeri.len());
        for n in &m.numeri {
            match n.trim().parse::<i64>() {
                Ok(n) => numeri.push(n),
                Err(_) => {
                    return errore(ServiceError::invalid("invalid_form", format!("numero richiesta non valido: {n}")))
                }
            }
        }
        if numeri.len() > MAX_MASSIVA {
            return errore(ServiceError::invalid(
                "troppe_richieste",
                format!("al massimo {MAX_MASSIVA} richieste per volta"),
            ));
        }
        if m.conferma {
            return esegui(&service, &utente, azione, &numeri, ritorno).await;
        }
        let mut trovate = Vec::with_capacity(numeri.len());
        for n in numeri {
            match service.richiesta(caller, n).await {
                Ok(d) => trovate.push(d.richiesta),
                Err(e) => return errore(e),
            }
        }
        trovate
    };
    if richieste.is_empty() {
        let e = ServiceError::invalid(
            "nessuna_selezione",
            match azione {
                Azione::Approva => "nessuna richiesta da approvare all'invio: selezionarne almeno una prevalidata",
                Azione::Elimina => "nessuna richiesta da eliminare: selezionarne almeno una",
            },
        );
        return errore(e);
    }
    conferma(&utente, azione, &richieste, ritorno)
}

fn conferma(utente: &Utente, azione: Azione, richieste: &[Richiesta], ritorno: String) -> Response {
    let possibili: Vec<&Richiesta> = richieste
        .iter()
        .filter(|r| utente.0.caller.azioni(r).contains(&azione))
        .collect();
    let quante = formato::conteggio(possibili.len() as i64, "richiesta", "richieste");
    let (titolo, cosa_succede, bottone, pericolo) = match azione {
        Azione::Approva => (
            format!("Approvare all'invio {quante}?"),
            cosa_succede_all_invio(
                possibili.iter().map(|r| r.domande_valide).sum(),
                possibili.iter().map(|r| r.domande_scartate).sum(),
            ),
            "Sì, approva all'invio",
            false,
        ),
        Azione::Elimina => (
            format!("Eliminare {quante}?"),
            "Una richiesta eliminata non può più essere approvata all'invio; i file potranno essere caricati di nuovo."
                .to_string(),
            "Sì, elimina",
            true,
        ),
    };
    let voci = richieste
        .iter()
        .map(|r| Voce {
            numero: r.numero,
            nome_file: r.nome_file.clone().unwrap_or_default(),
            stato: esito(r.stato),
            totali: formato::conteggio(r.domande_totali, "domanda", "domande"),
            esclusa: !utente.0.caller.azioni(r).contains(&azione),
        })
        .collect();
    super::pagina(&PaginaConferma {
        testa: Intestazione::of(utente),
        azione: azione.as_str(),
        titolo,
        cosa_succede,
        bottone,
        pericolo,
        voci,
        ritorno,
    })
}

async fn esegui(service: &Service, utente: &Utente, azione: Azione, numeri: &[i64], ritorno: String) -> Response {
    let esiti = match service.su_molte(&utente.0.caller, azione, numeri).await {
        Ok(e) => e,
        Err(e) => return errore(e),
    };
    let riuscite = esiti.iter().filter(|e| e.esito.is_ok()).count() as i64;
    let fatto = match azione {
        Azione::Approva => ("approvata all'invio", "approvate all'invio"),
        Azione::Elimina => ("eliminata", "eliminate"),
    };
    let riuscite = if riuscite == 1 {
        format!("1 richiesta {}.", fatto.0)
    } else {
        format!("{} richieste {}.", formato::numero(riuscite), fatto.1)
    };
    let fallite: Vec<Fallita> = esiti
        .into_iter()
        .filter_map(|e| {
            e.esito
                .err()
                .map(|err| Fallita { numero: e.numero, motivo: err.to_string() })
        })
        .collect();
    let status = if fallite.is_empty() { StatusCode::OK } else { StatusCode::CONFLICT };
    let pagina = PaginaEsito { testa: Intestazione::of(utente), riuscite, fallite, ritorno };
    (status, super::pagina(&pagina)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_keeps_every_selected_number() {
        let m =
            Modulo::leggi(b"csrf=x&azione=approva&numero=3&numero=7&filtro=stato%3DPREVALIDATA%26page%3D2&conferma=si");
        assert_eq!(m.numeri, ["3", "7"]);
        assert_eq!(m.filtro, "stato=PREVALIDATA&page=2");
        assert!(m.conferma && !m.tutte);
        assert_eq!(m.azione, "approva");
    }
}
