//! The operations endpoints every process can serve: liveness, readiness and the Prometheus
//! metrics. The API's router carries them beside `/api/v1`; a process without the API (worker,
//! sender) serves them alone on `--admin-listen`, so that each process can be probed and scraped.

use super::error;
use crate::service::Service;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

/// `/healthz`, `/readyz` and `/metrics`, over `service` (whose readiness they report).
pub fn router() -> Router<Service> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
}

#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, description = "The process is up")))]
pub async fn healthz() -> &'static str {
    "ok"
}

#[utoipa::path(
    get, path = "/readyz", tag = "operations",
    responses(
        (status = 200, description = "Database reachable and writable, queue and blob store reachable"),
        (status = 503, description = "A dependency is down, or the database cannot write (a full disk)", body = error::ErrorBody)
    )
)]
pub async fn readyz(State(service): State<Service>) -> Response {
    match service.readiness().await {
        Ok(()) => (StatusCode::OK, "ready").into_response(),
        Err(e) => error::ApiError::from(e).into_response(),
    }
}

async fn metrics() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], crate::telemetry::prometheus().render())
}
