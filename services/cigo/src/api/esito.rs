//! The esito of a richiesta as files to take away: CSV, XML (schema at `/api/v1/schema/esito.xsd`)
//! and the file of the rejected domande to correct and upload again. Each handler extracts,
//! calls one use case of the [`Service`], and streams its body.

use super::auth::Caller;
use super::error::ApiError;
use crate::service::{FormatoEsito, Service};
use axum::extract::{Path, State};
use axum::response::Response;

type PathRejection = axum::extract::rejection::PathRejection;

async fn esito(
    service: Service,
    caller: Caller,
    path: Result<Path<i64>, PathRejection>,
    formato: FormatoEsito,
) -> Result<Response, ApiError> {
    let Path(numero) = path?;
    let file = service.esito_file(&caller, numero, formato).await?;
    Ok(crate::http::esito_download(numero, formato, file))
}

#[utoipa::path(
    get, path = "/api/v1/richieste/{numero}/esito.csv", tag = "richieste",
    params(("numero" = i64, Path, description = "Numero richiesta")),
    responses(
        (status = 200, description = "The esito as CSV for a spreadsheet (UTF-8 with BOM, `;`, CRLF, dates GG/MM/AAAA): \
            one line per finding and one per domanda without findings", content_type = "text/csv", body = String),
        (status = 401, body = super::error::ErrorBody),
        (status = 404, body = super::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn esito_csv(
    State(service): State<Service>,
    caller: Caller,
    path: Result<Path<i64>, PathRejection>,
) -> Result<Response, ApiError> {
    esito(service, caller, path, FormatoEsito::Csv).await
}

#[utoipa::path(
    get, path = "/api/v1/richieste/{numero}/esito.xml", tag = "richieste",
    params(("numero" = i64, Path, description = "Numero richiesta")),
    responses(
        (status = 200, description = "The esito as XML (namespace `urn:cigo:esito:1`, schema `/api/v1/schema/esito.xsd`)",
            content_type = "application/xml", body = String),
        (status = 401, body = super::error::ErrorBody),
        (status = 404, body = super::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn esito_xml(
    State(service): State<Service>,
    caller: Caller,
    path: Result<Path<i64>, PathRejection>,
) -> Result<Response, ApiError> {
    esito(service, caller, path, FormatoEsito::Xml).await
}

#[utoipa::path(
    get, path = "/api/v1/richieste/{numero}/scartate.xml", tag = "richieste",
    params(("numero" = i64, Path, description = "Numero richiesta")),
    responses(
        (status = 200, description = "A richiesta file with only the domande rejected in prevalidazione or in fase d'invio, \
            each byte for byte as in the original file, in its envelope, the root carrying `rinvioDi` (this numero): \
            uploading it links the new richiesta to this one", content_type = "application/xml", body = String),
        (status = 401, body = super::error::ErrorBody),
        (status = 404, body = super::error::ErrorBody),
        (status = 409, description = "No rejected domanda (yet)", body = super::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn scartate(
    State(service): State<Service>,
    caller: Caller,
    path: Result<Path<i64>, PathRejection>,
) -> Result<Response, ApiError> {
    let Path(numero) = path?;
    let file = service.scartate(&caller, numero).await?;
    Ok(crate::http::scartate_download(numero, file))
}
