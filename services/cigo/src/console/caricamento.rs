//! "Caricamento XML domande CIGO" (con e senza prevalidazione): the upload screens of the seed.
//!
//! One form takes one or many files (file picker or drag and drop). Without script it is posted
//! as `multipart/form-data` and answered with a page of outcomes, one per file; the console's
//! script (`static/console.js`) sends the same form once per file instead, to show each file's
//! progress, and reads the outcomes as JSON (`Accept: application/json`).
//!
//! Every file is one [`Service::caricamento`], as in the API: the same quota, spool, blob, commit
//! and duplicate check. The form carries a key made when the page was rendered; the `i`-th file
//! of the form goes with the `Idempotency-Key` `{chiave}-{i}`, so a reload that posts the form
//! again, a double click or a retry after a lost answer gets the first upload's numero back
//! instead of a second richiesta.

use super::pagine::{righe, Riga};
use super::sessione::{self, Utente};
use super::{formato, refused, Intestazione};
use crate::api::error::ApiError;
use crate::api::hostile::{guard_body, Violation};
use crate::service::{Paging, Ricerca, Service, ServiceError, UploadOutcome};
use askama::Template;
use axum::extract::{FromRequest, Multipart, Query, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};

/// The most files one form takes (the script sends one per request).
pub const MAX_FILE: usize = 50;

/// The longest value of a text field of the form, in bytes (the CSRF token and the key are 64).
const MAX_CAMPO: usize = 256;

/// How many of the most recent richieste the screen lists under the form, as the seed's screen
/// does ("Dettaglio elaborazioni").
const ULTIME: u32 = 10;

#[derive(Debug, Default, Deserialize)]
pub struct Modo {
    /// `no`: "Caricamento XML domande CIGO", validated and sent with no approval step.
    #[serde(default)]
    prevalidazione: String,
}

impl Modo {
    fn prevalidazione(&self) -> bool {
        self.prevalidazione != "no"
    }
}

#[derive(Template)]
#[template(path = "caricamento.html")]
struct PaginaCaricamento {
    testa: Intestazione,
    prevalidazione: bool,
    chiave: String,
    limite: String,
    max_file: usize,
    righe: Vec<Riga>,
    /// No bulk actions here (see "Ricerca elaborazioni").
    massive: bool,
}

/// The upload screen, with the most recent richieste under it.
pub async fn pagina(State(service): State<Service>, utente: Utente, Query(modo): Query<Modo>) -> Response {
    let caller = &utente.0.caller;
    if let Err(e) = caller.ensure_may_change() {
        return super::errore(e);
    }
    let ultime = Ricerca { paging: Paging { page: Some(1), page_size: Some(ULTIME) }, ..Default::default() };
    let page = match service.ricerca(caller, ultime).await {
        Ok(p) => p,
        Err(e) => return super::errore(e),
    };
    super::pagina(&PaginaCaricamento {
        testa: Intestazione::of(&utente),
        prevalidazione: modo.prevalidazione(),
        chiave: nuova_chiave(),
        limite: dimensione(service.settings().max_upload_bytes),
        max_file: MAX_FILE,
        righe: righe(&utente, &page.items),
        massive: false,
    })
}

/// A key for the files of one form: 128 random bits.
fn nuova_chiave() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// A size as a person reads it: "8 MB", "512 KB".
fn dimensione(bytes: u64) -> String {
    const MB: u64 = 1024 * 1024;
    if bytes >= MB && bytes.is_multiple_of(MB) {
        format!("{} MB", formato::numero((bytes / MB) as i64))
    } else if bytes >= 1024 {
        format!("{} KB", formato::numero(bytes.div_ceil(1024) as i64))
    } else {
        format!("{bytes} byte")
    }
}

/// The outcome of one file, as the page lists it and the script reads it.
#[derive(Debug, Serialize)]
pub struct Esito {
    /// The file's name as the browser sent it.
    nome: String,
    ok: bool,
    /// The HTTP status the API would have answered for this file (202 when accepted).
    stato_http: u16,
    /// The API's stable code of the refusal (`duplicate_richiesta`, `payload_too_large`...).
    #[serde(skip_serializing_if = "Option::is_none")]
    codice: Option<&'static str>,
    messaggio: String,
    /// The richiesta created (or found: a replay, a duplicate).
    #[serde(skip_serializing_if = "Option::is_none")]
    numero: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    link: Option<String>,
}

impl Esito {
    fn accettato(nome: String, numero: i64, replay: bool) -> Self {
        let messaggio = if replay {
            format!("Il file era già stato caricato con questo modulo. Il numero della richiesta è {numero}.")
        } else {
            format!("Caricamento eseguito con successo. Il numero della richiesta è {numero}.")
        };
        Esito {
            nome,
            ok: true,
            stato_http: StatusCode::ACCEPTED.as_u16(),
            codice: None,
            messaggio,
            numero: Some(numero),
            link: Some(format!("/richieste?numero={numero}")),
        }
    }

    /// A refused file, with the status and code of the API's one mapping of errors.
    fn rifiutato(nome: String, e: ApiError, limite: u64) -> Self {
        let numero = match &e {
            ApiError::Service(ServiceError::Duplicate { numero, .. })
            | ApiError::Service(ServiceError::IdempotencyKeyReused { numero }) => Some(*numero),
            _ => None,
        };
        let messaggio = match &e {
            ApiError::Service(ServiceError::PayloadTooLarge { .. }) => {
                format!("Il file supera la dimensione massima di {}.", dimensione(limite))
            }
            ApiError::Service(ServiceError::Duplicate { numero, .. }) => format!(
                "Lo stesso file è già stato caricato con la richiesta {numero}: eliminarla per caricarlo di nuovo."
            ),
            ApiError::UnsupportedMediaType(tipo) => format!("Il file non è un file XML (tipo {tipo})."),
            other => {
                let mut m = other.to_string();
                if let Some(first) = m.get(..1) {
                    m = first.to_uppercase() + &m[1..];
                }
                m
            }
        };
        Esito {
            nome,
            ok: false,
            stato_http: e.status().as_u16(),
            codice: Some(e.code()),
            messaggio,
            numero,
            link: numero.map(|n| format!("/richieste?numero={n}")),
        }
    }
}

#[derive(Template)]
#[template(path = "caricato.html")]
struct PaginaCaricato {
    testa: Intestazione,
    prevalidazione: bool,
    esiti: Vec<Esito>,
}

/// The text fields of the form, read before its files (a browser sends them in the form's order,
/// and the page puts them first).
#[derive(Default)]
struct Campi {
    csrf: String,
    chiave: String,
    prevalidazione: Option<String>,
    /// The position in the form of the first file of this request (the script sends one per
    /// request).
    indice: usize,
}

/// `POST /caricamento`: the files of the form, one richiesta each.
pub async fn carica(State(service): State<Service>, utente: Utente, request: Request) -> Response {
    let headers = request.headers().clone();
    let json = vuole_json(&headers);
    if !sessione::same_origin(&headers) {
        return refused("richiesta proveniente da un altro sito");
    }
    if let Err(e) = utente.0.caller.ensure_may_change() {
        return super::errore(e);
    }
    let limite = service.settings().max_upload_bytes;
    let violation = Violation::default();
    let request = match guard_body(request, service.settings(), &violation) {
        Ok(r) => r,
        Err(e) => return rifiuto(json, e),
    };
    let mut multipart = match Multipart::from_request(request, &()).await {
        Ok(m) => m,
        Err(e) => {
            return rifiuto(
                json,
                ApiError::bad_request("invalid_multipart", format!("modulo non valido: {}", e.body_text())),
            )
        }
    };
    let mut campi = Campi::default();
    let mut esiti: Vec<Esito> = Vec::new();
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => {
                let e = violation
                    .or(ApiError::bad_request("invalid_multipart", format!("invio interrotto: {}", e.body_text())));
                esiti.push(Esito::rifiutato("(i file successivi)".into(), e, limite));
                break;
            }
        };
        if field.name() != Some("file") {
            let nome = field.name().unwrap_or("").to_string();
            let valore = match testo_breve(field).await {
                Ok(v) => v,
                Err(e) => return rifiuto(json, violation.or(e)),
            };
            match nome.as_str() {
                "csrf" => campi.csrf = valore,
                "chiave" => campi.chiave = valore,
                "prevalidazione" => campi.prevalidazione = Some(valore),
                "indice" => campi.indice = valore.parse().unwrap_or(0).min(10_000),
                _ => {}
            }
            continue;
        }
        // The CSRF token comes before the first file, so nothing is stored for a forged form.
        if !utente.0.csrf_ok(&campi.csrf) {
            return refused("modulo scaduto o non valido: ricaricare la pagina e riprovare");
        }
        let nome = field.file_name().unwrap_or("").to_string();
        if nome.is_empty() {
            // The part of a file input with no file chosen.
            continue;
        }
        if esiti.len() == MAX_FILE {
            esiti.push(Esito::rifiutato(
                nome,
                ApiError::bad_request("too_many_files", format!("al massimo {MAX_FILE} file per invio")),
                limite,
            ));
            break;
        }
        let prevalidazione = campi.prevalidazione.as_deref() != Some("no");
        let chiave = (!campi.chiave.is_empty()).then(|| format!("{}-{}", campi.chiave, campi.indice + esiti.len()));
        let esito = match carica_file(&service, &utente, field, &nome, prevalidazione, chiave).await {
            Ok((numero, replay)) => Esito::accettato(nome, numero, replay),
            Err(e) => Esito::rifiutato(nome, violation.or(e), limite),
        };
        // The body itself broke off (a timeout, the client gone, a bad gzip stream): what
        // follows cannot be read. A file over the size limit is skipped, the next one read.
        let interrotto =
            matches!(esito.codice, Some("request_timeout" | "body_read_error" | "gzip_bomb" | "invalid_gzip"));
        esiti.push(esito);
        if interrotto {
            break;
        }
    }
    if esiti.is_empty() {
        return rifiuto(json, ApiError::bad_request("missing_file", "nessun file scelto"));
    }
    if json {
        return ([(header::CACHE_CONTROL, "no-store")], Json(serde_json::json!({ "esiti": esiti }))).into_response();
    }
    super::pagina(&PaginaCaricato {
        testa: Intestazione::of(&utente),
        prevalidazione: campi.prevalidazione.as_deref() != Some("no"),
        esiti,
    })
}

/// One file of the form: the API's upload, step by step.
async fn carica_file(
    service: &Service,
    utente: &Utente,
    field: axum::extract::multipart::Field<'_>,
    nome: &str,
    prevalidazione: bool,
    chiave: Option<String>,
) -> Result<(i64, bool), ApiError> {
    if let Some(tipo) = field.content_type() {
        if !tipo_xml(tipo) {
            return Err(ApiError::UnsupportedMediaType(tipo.to_string()));
        }
    }
    let mut upload = service.caricamento(&utente.0.caller)?;
    upload.set_nome_file(nome)?;
    upload.receive(field).await?;
    Ok(
        match upload
            .finish(prevalidazione, chiave.as_deref().map(str::as_bytes))
            .await?
        {
            UploadOutcome::Created(r) => (r.numero, false),
            UploadOutcome::Replayed(r) => (r.numero, true),
        },
    )
}

/// The content types a browser gives an XML file (by its extension), or a file it cannot type.
fn tipo_xml(tipo: &str) -> bool {
    let mime = tipo
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    matches!(mime.as_str(), "" | "application/xml" | "text/xml" | "application/octet-stream") || mime.ends_with("+xml")
}

/// A text field of the form, at most [`MAX_CAMPO`] bytes.
async fn testo_breve(mut field: axum::extract::multipart::Field<'_>) -> Result<String, ApiError> {
    let troppo_lungo = || ApiError::bad_request("invalid_multipart", "campo del modulo troppo lungo");
    let mut bytes = Vec::new();
    while let Some(chunk) = field
        .chunk()
        .await
        .map_err(|e| ApiError::bad_request("invalid_multipart", format!("modulo non valido: {}", e.body_text())))?
    {
        if bytes.len() + chunk.len() > MAX_CAMPO {
            return Err(troppo_lungo());
        }
        bytes.extend_from_slice(&chunk);
    }
    String::from_utf8(bytes).map_err(|_| ApiError::bad_request("invalid_multipart", "campo del modulo non UTF-8"))
}

fn vuole_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"))
}

/// A form refused as a whole: JSON for the script, else the error page.
fn rifiuto(json: bool, e: ApiError) -> Response {
    if json {
        let status = e.status();
        let body = serde_json::json!({ "code": e.code(), "message": e.to_string() });
        return (status, Json(body)).into_response();
    }
    super::errore_api(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_types_as_a_person_reads_them() {
        assert_eq!(dimensione(8 * 1024 * 1024), "8 MB");
        assert_eq!(dimensione(2048 * 1024 * 1024), "2.048 MB");
        assert_eq!(dimensione(1500), "2 KB");
        assert_eq!(dimensione(10), "10 byte");
        assert!(tipo_xml("text/xml") && tipo_xml("application/xml; charset=utf-8") && tipo_xml(""));
        assert!(tipo_xml("application/octet-stream") && tipo_xml("application/vnd.inps+xml"));
        assert!(!tipo_xml("application/pdf") && !tipo_xml("image/png"));
    }

    #[test]
    fn a_refusal_names_the_richiesta_already_there() {
        let e = Esito::rifiutato(
            "a.xml".into(),
            ServiceError::Duplicate { numero: 127, stato: cigo_domain::StatoRichiesta::Prevalidata }.into(),
            1024,
        );
        assert_eq!((e.ok, e.stato_http, e.codice, e.numero), (false, 409, Some("duplicate_richiesta"), Some(127)));
        assert_eq!(e.link.as_deref(), Some("/richieste?numero=127"));
        let e =
            Esito::rifiutato("a.xml".into(), ServiceError::PayloadTooLarge { limit_bytes: 1 << 20 }.into(), 1 << 20);
        assert_eq!((e.stato_http, e.messaggio.as_str()), (413, "Il file supera la dimensione massima di 1 MB."));
        let ok = Esito::accettato("a.xml".into(), 127, false);
        assert_eq!(ok.messaggio, "Caricamento eseguito con successo. Il numero della richiesta è 127.");
    }
}
