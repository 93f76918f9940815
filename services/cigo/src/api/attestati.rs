//! The attestati over HTTP: as JSON (the attestato's canonical JSON with its verification code)
//! or as PDF/A (`Accept: application/pdf`, or a `.pdf` path), and their public verification.

use super::auth::Caller;
use super::error::ApiError;
use crate::service::{AttestatoEmesso, Service};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

type PathRejection = axum::extract::rejection::PathRejection;

/// An attestato: the content of `cigo_domain::attestato` in its canonical JSON (RFC 8785 over
/// integers and strings; instants in RFC 3339 with the Europe/Rome offset; absent values left
/// out), plus `codice_verifica`, the first 160 bits of the SHA-256 of that JSON without
/// `codice_verifica`, in base32 groups (`GET /api/v1/attestati/verifica/{codice}`).
#[derive(Debug, Serialize, ToSchema)]
pub struct AttestatoView {
    /// `TRASMISSIONE` or `CONSEGNA`.
    pub tipo: String,
    /// The version of the format, `cigo-attestato/1`.
    pub formato: String,
    /// 8 groups of 4 letters A-Z and digits 2-7 joined by `-`.
    pub codice_verifica: String,
    /// Numero richiesta, intermediario, `nome_file`, `sha256`, `dimensione_byte`,
    /// `data_ricezione`, `data_trasmissione` (the legal filing date).
    #[schema(value_type = Object)]
    pub richiesta: serde_json::Value,
    /// Trasmissione: the domande sent (progressivo, matricola, denominazione,
    /// unita_produttiva, periodo_dal, periodo_al, causale, lavoratori, ore_cig).
    #[schema(value_type = Option<Vec<Object>>)]
    pub domande: Option<serde_json::Value>,
    /// Consegna: when the sending ended.
    pub data_consegna: Option<String>,
    /// Consegna: the verification code of the attestato di trasmissione it follows.
    pub codice_trasmissione: Option<String>,
    /// Consegna: each domanda taken in charge, with `protocollo` and `data_protocollo`.
    #[schema(value_type = Option<Vec<Object>>)]
    pub protocollate: Option<serde_json::Value>,
    /// Consegna: each domanda rejected at sending, with its `motivi` (rule `codice`, `messaggio`).
    #[schema(value_type = Option<Vec<Object>>)]
    pub scartate_in_invio: Option<serde_json::Value>,
    /// Consegna: `domande`, `scartate_in_prevalidazione`, `protocollate`, `scartate_in_invio`.
    #[schema(value_type = Option<Object>)]
    pub totali: Option<serde_json::Value>,
}

#[utoipa::path(
    get, path = "/api/v1/richieste/{numero}/attestati/{tipo}", tag = "richieste",
    params(
        ("numero" = i64, Path, description = "Numero richiesta"),
        ("tipo" = String, Path, description = "`trasmissione` or `consegna`: JSON, or PDF with `Accept: application/pdf`; `trasmissione.pdf` or `consegna.pdf`: PDF"),
    ),
    responses(
        (status = 200, description = "The attestato: JSON, or PDF/A-2u (the same attestato always gives the same bytes)",
            content((AttestatoView = "application/json"), (String = "application/pdf")),
            headers(("Content-Disposition" = String, description = "For the PDF: `attachment; filename=\"attestato-consegna-N.pdf\"`"))),
        (status = 401, body = super::error::ErrorBody),
        (status = 404, description = "`not_found`: no such richiesta (or another's), or no such tipo", body = super::error::ErrorBody),
        (status = 409, description = "`attestato_not_available`: not issued yet", body = super::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn attestato(
    State(service): State<Service>,
    caller: Caller,
    path: Result<Path<(i64, String)>, PathRejection>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let Path((numero, tipo)) = path?;
    let (tipo, pdf) = match tipo.strip_suffix(".pdf") {
        Some(t) => (t, true),
        None => (tipo.as_str(), wants_pdf(&headers)),
    };
    let emesso = service.attestato(&caller, numero, tipo).await?;
    answer(emesso, pdf).await
}

#[utoipa::path(
    get, path = "/api/v1/attestati/verifica/{codice}", tag = "attestati",
    params(("codice" = String, Path, description = "The verification code printed on the attestato: any case, with or without the dashes")),
    responses(
        (status = 200, description = "This server issued the attestato: its JSON (or its PDF with `Accept: application/pdf`)",
            content((AttestatoView = "application/json"), (String = "application/pdf"))),
        (status = 400, description = "`invalid_codice_verifica`: not 32 letters A-Z and digits 2-7", body = super::error::ErrorBody),
        (status = 404, description = "`attestato_not_found`: this server issued no attestato with that code", body = super::error::ErrorBody),
    )
)]
pub async fn verifica(
    State(service): State<Service>,
    path: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let Path(codice) = path?;
    let emesso = service.verifica_attestato(&codice).await?;
    answer(emesso, wants_pdf(&headers)).await
}

/// Whether `Accept` asks for the PDF: `application/pdf` listed before any JSON or wildcard.
fn wants_pdf(headers: &HeaderMap) -> bool {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    accept
        .split(',')
        .map(|m| {
            m.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .find(|m| matches!(m.as_str(), "application/pdf" | "application/json" | "*/*" | "application/*"))
        .is_some_and(|m| m == "application/pdf")
}

async fn answer(emesso: AttestatoEmesso, pdf: bool) -> Result<Response, ApiError> {
    if !pdf {
        return Ok(Json(emesso.json).into_response());
    }
    let etag = format!("\"{}\"", emesso.codice.as_letters());
    let (bytes, filename) = emesso.pdf().await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{filename}\"")),
            (header::ETAG, etag),
        ],
        bytes,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT, v.parse().unwrap());
        h
    }

    #[test]
    fn the_pdf_only_when_asked_for_before_json() {
        assert!(wants_pdf(&accept("application/pdf")));
        assert!(wants_pdf(&accept("application/pdf, application/json;q=0.5")));
        assert!(!wants_pdf(&accept("application/json, application/pdf")));
        assert!(!wants_pdf(&accept("*/*")));
        assert!(!wants_pdf(&HeaderMap::new()));
    }
}
