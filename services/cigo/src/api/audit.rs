//! `GET /api/v1/audit`: the audit trail, for admins.
//!
//! Every read of a richiesta's data is appended to the `audit` table by the service layer; every
//! change of state is in `transizioni` with its actor. The store merges the two, oldest first.

use super::auth::Caller;
use super::error::{ApiError, ErrorBody};
use crate::service::{Paging, Service};
use axum::extract::{Query, State};
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Only the entries of this richiesta.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub numero: Option<i64>,
    /// 1-based (default 1).
    #[serde(default, deserialize_with = "empty_as_none")]
    #[param(minimum = 1)]
    pub page: Option<u32>,
    /// 1 to 1000 (default 100).
    #[serde(default, deserialize_with = "empty_as_none")]
    #[param(minimum = 1, maximum = 1000)]
    pub page_size: Option<u32>,
}

/// `?x=` is the same as no `x`, as in every other query of the API.
fn empty_as_none<'de, D, T>(de: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    let raw: Option<String> = Option::deserialize(de)?;
    match raw.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) => s.parse().map(Some).map_err(serde::de::Error::custom),
    }
}

/// One entry of the audit trail.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEntryView {
    pub at: DateTime<Utc>,
    /// Who: `ruolo:codice fiscale (token id)` or `sistema:worker`, `sistema:sender`...
    pub actor: String,
    /// What: `transizione`, `lettura`, `lettura_domande`, `lettura_transizioni`, `download_xml`,
    /// `download_esito` (detail: `csv`, `xml`), `download_scartate`, `lettura_attestato`, `ricerca`.
    pub action: String,
    pub numero_richiesta: Option<i64>,
    /// For a `transizione`: `DA -> A`; for a read: what was read.
    pub detail: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPage {
    pub items: Vec<AuditEntryView>,
    pub total: i64,
    pub page: u32,
    pub page_size: u32,
}

#[utoipa::path(
    get, path = "/api/v1/audit", tag = "amministrazione",
    params(AuditQuery),
    responses(
        (status = 200, description = "The audit trail, oldest first", body = AuditPage),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 429, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn audit(
    State(service): State<Service>,
    caller: Caller,
    query: Result<Query<AuditQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<AuditPage>, ApiError> {
    let admin = service.amministrazione(&caller)?;
    let Query(q) = query?;
    let found = admin
        .audit_trail(q.numero, Paging { page: q.page, page_size: q.page_size })
        .await?;
    Ok(Json(AuditPage {
        items: found
            .items
            .into_iter()
            .map(|e| AuditEntryView {
                at: e.at,
                actor: e.actor,
                action: e.action,
                numero_richiesta: e.numero_richiesta,
                detail: e.detail,
            })
            .collect(),
        total: found.total,
        page: found.page,
        page_size: found.page_size,
    }))
}
