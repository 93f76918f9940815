//! Reading and acting on richieste: the esito, the domande, approva all'invio, elimina, the
//! original file and the attestati.

use super::access::audit;
use super::auth::Caller;
use super::dto::*;
use super::error::ApiError;
use crate::app::App;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use cigo_domain::{EsitoDomanda, Event, StatoRichiesta};
use cigo_store::{Richiesta, RichiestaFilter, StoreError, TransitionRequest};

type PathRejection = axum::extract::rejection::PathRejection;
type QueryRejection = axum::extract::rejection::QueryRejection;

const MAX_PAGE_SIZE: u32 = 1000;

/// The richiesta numbered `numero`, if the caller may see it. Another intermediario's richiesta is
/// answered exactly like one that does not exist.
async fn load(app: &App, caller: &Caller, numero: i64) -> Result<Richiesta, ApiError> {
    match app.store.get_richiesta(numero).await? {
        Some(r) if caller.may_read(&r.intermediario) => Ok(r),
        _ => Err(ApiError::RichiestaNotFound(numero)),
    }
}

fn numero(path: Result<Path<i64>, PathRejection>) -> Result<i64, ApiError> {
    let Path(n) = path?;
    Ok(n)
}

fn page_size(requested: Option<u32>, default: u32) -> Result<u32, ApiError> {
    match requested {
        None => Ok(default),
        Some(n) if (1..=MAX_PAGE_SIZE).contains(&n) => Ok(n),
        Some(n) => Err(ApiError::bad_request(
            "invalid_query",
            format!("page_size deve essere tra 1 e {MAX_PAGE_SIZE} (ricevuto {n})"),
        )),
    }
}

fn page(requested: Option<u32>) -> Result<u32, ApiError> {
    match requested {
        None => Ok(1),
        Some(0) => Err(ApiError::bad_request("invalid_query", "page parte da 1")),
        Some(n) => Ok(n),
    }
}

#[utoipa::path(
    get, path = "/api/v1/richieste/{numero}", tag = "richieste",
    params(("numero" = i64, Path, description = "Numero richiesta")),
    responses(
        (status = 200, body = RichiestaView),
        (status = 401, body = super::error::ErrorBody),
        (status = 404, body = super::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn get_richiesta(
    State(app): State<App>,
    caller: Caller,
    path: Result<Path<i64>, PathRejection>,
) -> Result<Json<RichiestaView>, ApiError> {
    let r = load(&app, &caller, numero(path)?).await?;
    audit(&app, &caller, "lettura", Some(r.numero), None).await?;
    let errore = app.store.errore_elaborazione(r.numero).await?;
    Ok(Json(RichiestaView::from_record(&r).with_errore(errore)))
}

#[utoipa::path(
    get, path = "/api/v1/richieste", tag = "richieste",
    params(RichiesteQuery),
    responses(
        (status = 200, body = RichiestePage),
        (status = 400, body = super::error::ErrorBody),
        (status = 401, body = super::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn search(
    State(app): State<App>,
    caller: Caller,
    query: Result<Query<RichiesteQuery>, QueryRejection>,
) -> Result<Json<RichiestePage>, ApiError> {
    let Query(q) = query?;
    let filter = RichiestaFilter {
        intermediario: (!caller.ruolo.reads_all()).then(|| caller.intermediario.clone()),
        numero: q.numero,
        matricola: q.matricola,
        codice_fiscale: q.codice_fiscale,
        denominazione: q.denominazione,
        inserita_dal: q.inserita_dal,
        inserita_al: q.inserita_al,
        approvata_dal: q.approvata_dal,
        approvata_al: q.approvata_al,
        stato: q.stato,
        page: page(q.page)?,
        page_size: page_size(q.page_size, 50)?,
    };
    let found = app.store.search_richieste(&filter).await?;
    let numeri: Vec<String> = found.items.iter().map(|r| r.numero.to_string()).collect();
    audit(&app, &caller, "ricerca", None, Some(format!("richieste lette: [{}]", numeri.join(",")))).await?;
    Ok(Json(RichiestePage {
        items: found.items.iter().map(RichiestaView::from_record).collect(),
        total: found.total,
        page: found.page,
        page_size: found.page_size,
    }))
}

#[utoipa::path(
    get, path = "/api/v1/richieste/{numero}/domande", tag = "richieste",
    params(("numero" = i64, Path, description = "Numero richiesta"), DomandeQuery),
    responses(
        (status = 200, body = DomandePage),
        (status = 400, body = super::error::ErrorBody),
        (status = 401, body = super::error::ErrorBody),
        (status = 404, body = super::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn domande(
    State(app): State<App>,
    caller: Caller,
    path: Result<Path<i64>, PathRejection>,
    query: Result<Query<DomandeQuery>, QueryRejection>,
) -> Result<Json<DomandePage>, ApiError> {
    let numero = numero(path)?;
    let Query(q) = query?;
    load(&app, &caller, numero).await?;
    audit(&app, &caller, "lettura_domande", Some(numero), None).await?;
    let found = app
        .store
        .list_domande(numero, q.esito, page(q.page)?, page_size(q.page_size, 100)?)
        .await?;
    Ok(Json(DomandePage {
        numero_richiesta: numero,
        items: found.items.into_iter().map(DomandaView::from).collect(),
        total: found.total,
        page: found.page,
        page_size: found.page_size,
    }))
}

#[utoipa::path(
    get, path = "/api/v1/richieste/{numero}/transizioni", tag = "richieste",
    params(("numero" = i64, Path, description = "Numero richiesta")),
    responses(
        (status = 200, body = Vec<TransizioneView>),
        (status = 401, body = super::error::ErrorBody),
        (status = 404, body = super::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn transizioni(
    State(app): State<App>,
    caller: Caller,
    path: Result<Path<i64>, PathRejection>,
) -> Result<Json<Vec<TransizioneView>>, ApiError> {
    let numero = numero(path)?;
    load(&app, &caller, numero).await?;
    audit(&app, &caller, "lettura_transizioni", Some(numero), None).await?;
    let list = app.store.transizioni(numero).await?;
    Ok(Json(list.into_iter().map(TransizioneView::from).collect()))
}

/// Applies `event` to the richiesta through the state machine, then the store's compare-and-set.
async fn act(
    app: &App,
    caller: &Caller,
    numero: i64,
    event: Event,
    enqueue: Option<cigo_domain::JobKind>,
) -> Result<Richiesta, ApiError> {
    let current = load(app, caller, numero).await?;
    caller.ensure_may_change()?;
    let to = current
        .stato
        .apply(event)
        .map_err(|e| ApiError::InvalidState { numero, stato: e.from })?;
    let req = TransitionRequest {
        numero,
        from: current.stato,
        to,
        actor: caller.actor(),
        nota: None,
        enqueue,
        trace_context: cigo_telemetry::current_traceparent(),
    };
    match app.store.transition(req).await {
        Ok(r) => Ok(r),
        Err(StoreError::StateConflict { current }) => Err(ApiError::InvalidState { numero, stato: current }),
        Err(e) => Err(e.into()),
    }
}

#[utoipa::path(
    post, path = "/api/v1/richieste/{numero}/approvazione", tag = "richieste",
    params(("numero" = i64, Path, description = "Numero richiesta")),
    responses(
        (status = 202, description = "Approved: queued for sending; the attestato di trasmissione is issued", body = RichiestaView),
        (status = 401, body = super::error::ErrorBody),
        (status = 403, body = super::error::ErrorBody),
        (status = 404, body = super::error::ErrorBody),
        (status = 409, description = "Not in PREVALIDATA", body = super::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn approva(
    State(app): State<App>,
    caller: Caller,
    path: Result<Path<i64>, PathRejection>,
) -> Result<Response, ApiError> {
    let numero = numero(path)?;
    let r = act(&app, &caller, numero, Event::Approve, Some(cigo_domain::JobKind::Invio)).await?;
    app.outbox_written.notify_one();
    tracing::info!(numero, "richiesta approvata all'invio");
    Ok((StatusCode::ACCEPTED, Json(RichiestaView::from_record(&r))).into_response())
}

#[utoipa::path(
    delete, path = "/api/v1/richieste/{numero}", tag = "richieste",
    params(("numero" = i64, Path, description = "Numero richiesta")),
    responses(
        (status = 200, description = "Deleted (kept for audit as ELIMINATA)", body = RichiestaView),
        (status = 401, body = super::error::ErrorBody),
        (status = 403, body = super::error::ErrorBody),
        (status = 404, body = super::error::ErrorBody),
        (status = 409, description = "Already approved, or being processed", body = super::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn elimina(
    State(app): State<App>,
    caller: Caller,
    path: Result<Path<i64>, PathRejection>,
) -> Result<Json<RichiestaView>, ApiError> {
    let numero = numero(path)?;
    let r = act(&app, &caller, numero, Event::Delete, None).await?;
    tracing::info!(numero, "richiesta eliminata");
    Ok(Json(RichiestaView::from_record(&r)))
}

#[utoipa::path(
    get, path = "/api/v1/richieste/{numero}/xml", tag = "richieste",
    params(("numero" = i64, Path, description = "Numero richiesta")),
    responses(
        (status = 200, description = "The original file, byte for byte", content_type = "application/xml", body = String),
        (status = 401, body = super::error::ErrorBody),
        (status = 404, body = super::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn xml(
    State(app): State<App>,
    caller: Caller,
    path: Result<Path<i64>, PathRejection>,
) -> Result<Response, ApiError> {
    let numero = numero(path)?;
    let r = load(&app, &caller, numero).await?;
    audit(&app, &caller, "download_xml", Some(numero), None).await?;
    let stream = app.blob.get(&r.blob_key).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/xml".to_string()),
            (header::CONTENT_LENGTH, r.size_bytes.to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"richiesta-{numero}.xml\"")),
            (header::ETAG, format!("\"{}\"", r.sha256)),
        ],
        Body::from_stream(stream),
    )
        .into_response())
}

#[utoipa::path(
    get, path = "/api/v1/richieste/{numero}/attestati/{tipo}", tag = "richieste",
    params(
        ("numero" = i64, Path, description = "Numero richiesta"),
        ("tipo" = String, Path, description = "`trasmissione` or `consegna`"),
    ),
    responses(
        (status = 200, body = Attestato),
        (status = 401, body = super::error::ErrorBody),
        (status = 404, body = super::error::ErrorBody),
        (status = 409, description = "Not issued yet", body = super::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn attestato(
    State(app): State<App>,
    caller: Caller,
    path: Result<Path<(i64, String)>, PathRejection>,
) -> Result<Json<Attestato>, ApiError> {
    let Path((numero, tipo)) = path?;
    let r = load(&app, &caller, numero).await?;
    let (tipo, wanted): (&'static str, fn(EsitoDomanda) -> bool) = match tipo.as_str() {
        "trasmissione" => ("TRASMISSIONE", |e| e != EsitoDomanda::Scartata),
        "consegna" => ("CONSEGNA", |e| matches!(e, EsitoDomanda::Protocollata | EsitoDomanda::ScartataInInvio)),
        _ => return Err(ApiError::NotFound),
    };
    let issued = match tipo {
        "TRASMISSIONE" => r.data_approvazione.is_some(),
        _ => matches!(r.stato, StatoRichiesta::Consegnata | StatoRichiesta::ScartataInInvio),
    };
    let Some(data_trasmissione) = r.data_approvazione.filter(|_| issued) else {
        return Err(ApiError::AttestatoNotAvailable { numero, stato: r.stato });
    };
    audit(&app, &caller, "lettura_attestato", Some(numero), Some(tipo.to_string())).await?;
    let mut domande = Vec::new();
    let mut page = 1;
    loop {
        let chunk = app
            .store
            .list_domande(numero, None, page, MAX_PAGE_SIZE)
            .await?;
        let done = chunk.items.len() < MAX_PAGE_SIZE as usize;
        domande.extend(
            chunk
                .items
                .into_iter()
                .filter(|d| wanted(d.esito))
                .map(|d| AttestatoDomanda {
                    progressivo: d.progressivo,
                    matricola: d.matricola,
                    denominazione: d.denominazione,
                    periodo_dal: d.periodo_dal,
                    periodo_al: d.periodo_al,
                    esito: d.esito,
                    protocollo: d.protocollo,
                    data_protocollo: d.data_protocollo,
                    motivi_scarto: if d.esito == EsitoDomanda::ScartataInInvio {
                        d.findings
                            .into_iter()
                            .filter(|f| f.layer == cigo_domain::Layer::Archivio)
                            .collect()
                    } else {
                        Vec::new()
                    },
                }),
        );
        if done {
            break;
        }
        page += 1;
    }
    Ok(Json(Attestato {
        tipo,
        numero_richiesta: r.numero,
        intermediario: r.intermediario,
        sha256: r.sha256,
        size_bytes: r.size_bytes,
        data_inserimento: r.data_inserimento,
        data_trasmissione,
        data_consegna: r.data_consegna,
        stato: r.stato,
        domande,
    }))
}
