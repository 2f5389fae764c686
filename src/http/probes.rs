//! Probes and metrics: `/healthz`, `/readyz`, `/metrics`.

use actix_web::{web, HttpResponse};

use super::AppState;

pub(crate) async fn healthz() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok")
}

/// 200 while the database answers and the delivery worker (if this
/// process runs one) is alive.
pub(crate) async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let unavailable = |why: &'static str| {
        HttpResponse::ServiceUnavailable()
            .content_type("text/plain")
            .body(why)
    };
    if !state.health.probe(&state.db).await {
        return unavailable("database unavailable");
    }
    if !state.health.ready() {
        return unavailable("delivery worker not running");
    }
    HttpResponse::Ok().content_type("text/plain").body("ready")
}

pub(crate) async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
        .body(state.metrics.render(&state.db).await)
}
