//! Reading and acting on richieste: the esito, the domande, approva all'invio, elimina, the
//! original file and the attestati. Each handler extracts, calls one use case of the
//! [`Service`], and serialises its answer.

use super::auth::Caller;
use super::dto::*;
use super::error::ApiError;
use crate::service::{Paging, Ricerca, Service};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

type PathRejection = axum::extract::rejection::PathRejection;
type QueryRejection = axum::extract::rejection::QueryRejection;

fn numero(path: Result<Path<i64>, PathRejection>) -> Result<i64, ApiError> {
    let Path(n) = path?;
    Ok(n)
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
    State(service): State<Service>,
    caller: Caller,
    path: Result<Path<i64>, PathRejection>,
) -> Result<Json<RichiestaView>, ApiError> {
    let d = service.richiesta(&caller, numero(path)?).await?;
    Ok(Json(RichiestaView::from_record(&d.richiesta).with_errore(d.errore)))
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
    State(service): State<Service>,
    caller: Caller,
    query: Result<Query<RichiesteQuery>, QueryRejection>,
) -> Result<Json<RichiestePage>, ApiError> {
    let Query(q) = query?;
    let ricerca = Ricerca {
        numero: q.numero,
        matricola: q.matricola,
        codice_fiscale: q.codice_fiscale,
        denominazione: q.denominazione,
        inserita_dal: q.inserita_dal,
        inserita_al: q.inserita_al,
        approvata_dal: q.approvata_dal,
        approvata_al: q.approvata_al,
        stato: q.stato,
        paging: Paging { page: q.page, page_size: q.page_size },
    };
    let found = service.ricerca(&caller, ricerca).await?;
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
    State(service): State<Service>,
    caller: Caller,
    path: Result<Path<i64>, PathRejection>,
    query: Result<Query<DomandeQuery>, QueryRejection>,
) -> Result<Json<DomandePage>, ApiError> {
    let numero = numero(path)?;
    let Query(q) = query?;
    let paging = Paging { page: q.page, page_size: q.page_size };
    let found = service.domande(&caller, numero, q.esito, paging).await?;
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
    State(service): State<Service>,
    caller: Caller,
    path: Result<Path<i64>, PathRejection>,
) -> Result<Json<Vec<TransizioneView>>, ApiError> {
    let list = service.transizioni(&caller, numero(path)?).await?;
    Ok(Json(list.into_iter().map(TransizioneView::from).collect()))
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
    State(service): State<Service>,
    caller: Caller,
    path: Result<Path<i64>, PathRejection>,
) -> Result<Response, ApiError> {
    let r = service.approva(&caller, numero(path)?).await?;
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
    State(service): State<Service>,
    caller: Caller,
    path: Result<Path<i64>, PathRejection>,
) -> Result<Json<RichiestaView>, ApiError> {
    let r = service.elimina(&caller, numero(path)?).await?;
    Ok(Json(RichiestaView::from_record(&r)))
}

#[utoipa::path(
    get, path = "/api/v1/richieste/{numero}/xml", tag = "richieste",
    params(("numero" = i64, Path, description = "Numero richiesta")),
    responses(
        (status = 200, description = "The original file, byte for byte", content_type = "application/xml", body = String,
            headers(("Content-Disposition" = String, description = "`attachment` with the original file name (`filename*` in UTF-8), or `richiesta-N.xml` when it had none"))),
        (status = 401, body = super::error::ErrorBody),
        (status = 404, body = super::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn xml(
    State(service): State<Service>,
    caller: Caller,
    path: Result<Path<i64>, PathRejection>,
) -> Result<Response, ApiError> {
    let numero = numero(path)?;
    let file = service.xml(&caller, numero).await?;
    Ok(crate::http::xml_download(file))
}
