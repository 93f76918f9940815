//! The HTTP API: JSON under `/api/v1`, Bearer tokens, one error shape (see [`error`]).
//!
//! The first adapter over the service layer ([`crate::service`]): handlers extract the caller and
//! the parameters, call one use case, and serialise its answer; access checks, audit rows and
//! state handling are the service's.

pub mod attestati;
pub mod audit;
pub mod auth;
pub mod dto;
pub mod error;
pub mod esito;
pub mod hostile;
pub mod openapi_exact;
pub mod operations;
pub mod richieste;
pub mod upload;

use crate::app::App;
use crate::service::Service;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::http::header;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use std::time::Instant;
use tower_http::trace::TraceLayer;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "cigo",
        description = "Bulk upload, prevalidation and sending of CIGO domande (cassa integrazione guadagni ordinaria).",
        version = "1"
    ),
    paths(
        upload::upload,
        richieste::search,
        richieste::get_richiesta,
        richieste::elimina,
        richieste::domande,
        richieste::transizioni,
        richieste::approva,
        richieste::xml,
        attestati::attestato,
        attestati::verifica,
        esito::esito_csv,
        esito::esito_xml,
        esito::scartate,
        audit::audit,
        operations::healthz,
        operations::readyz,
    ),
    components(schemas(error::ErrorBody)),
    modifiers(&BearerAuth),
    tags(
        (name = "richieste", description = "Upload, esito, approva all'invio, elimina, attestati"),
        (name = "attestati", description = "Verification of an attestato by its code (no token)"),
        (name = "amministrazione", description = "Audit trail (admin only)")
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The API over a new [`Service`] of `app` (the process's one: it holds the per-intermediario
/// limits).
pub fn router(app: App) -> Router {
    router_over(Service::new(app))
}

/// The API as an adapter over `service`, for a process that shares it with another adapter.
pub fn router_over(service: Service) -> Router {
    // axum's own limit applies to the multipart extractor; the upload counts bytes itself too.
    let upload_limit = (service.settings().max_upload_bytes as usize).saturating_add(64 * 1024);
    let api = Router::new()
        .route(
            "/richieste",
            post(upload::upload)
                .layer(DefaultBodyLimit::max(upload_limit))
                .layer(middleware::from_fn(hostile::drain_refused_body))
                .get(richieste::search),
        )
        .route("/richieste/{numero}", get(richieste::get_richiesta).delete(richieste::elimina))
        .route("/richieste/{numero}/domande", get(richieste::domande))
        .route("/richieste/{numero}/transizioni", get(richieste::transizioni))
        .route("/richieste/{numero}/approvazione", post(richieste::approva))
        .route("/richieste/{numero}/xml", get(richieste::xml))
        .route("/richieste/{numero}/attestati/{tipo}", get(attestati::attestato))
        .route("/attestati/verifica/{codice}", get(attestati::verifica))
        .route("/richieste/{numero}/esito.csv", get(esito::esito_csv))
        .route("/richieste/{numero}/esito.xml", get(esito::esito_xml))
        .route("/richieste/{numero}/scartate.xml", get(esito::scartate))
        .route("/audit", get(audit::audit))
        .route("/openapi.json", get(openapi))
        .route("/schema/richiesta.xsd", get(xsd))
        .route("/schema/richiesta-v2.xsd", get(xsd_v2))
        .route("/schema/esito.xsd", get(esito_xsd));
    Router::new()
        .nest("/api/v1", api)
        .merge(operations::router())
        .route_layer(middleware::from_fn(track_metrics))
        .fallback(error::fallback)
        .method_not_allowed_fallback(error::method_not_allowed)
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
            let span = tracing::info_span!(
                "http",
                method = %req.method(),
                path = %req.uri().path(),
                trace_id = tracing::field::Empty
            );
            cigo_telemetry::record_trace_id(&span);
            span
        }))
        .with_state(service)
}

async fn openapi() -> impl IntoResponse {
    Json(openapi_exact::exact(ApiDoc::openapi()))
}

async fn xsd() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/xml")], cigo_domain::XSD_V1)
}

async fn xsd_v2() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/xml")], cigo_domain::XSD_V2)
}

async fn esito_xsd() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/xml")], cigo_receipts::ESITO_XSD_V1)
}

/// The method as a metric label: one of a closed set, so that made-up methods cannot create
/// series without bound (the route is the matched pattern or `unmatched`, the status a number).
fn method_label(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// Counts requests and their latency by route and status.
async fn track_metrics(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let method = method_label(req.method()).to_owned();
    let started = Instant::now();
    let response = next.run(req).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!("cigo_http_requests_total", "method" => method.clone(), "route" => route.clone(), "status" => status)
        .increment(1);
    metrics::histogram!("cigo_http_request_seconds", "method" => method, "route" => route)
        .record(started.elapsed().as_secs_f64());
    response
}
