//! The HTTP edge: routes and probes, middleware, reading GraphQL requests
//! and writing their responses, GraphiQL. Everything past this folder is
//! free of HTTP.
//!
//! A request flows: [`middleware`] (request id, access log, CORS) ->
//! [`graphql`] handler -> [`request`] (body, limits, one parse, the bearer
//! token) -> the schema -> [`response`] (status, media type).

mod graphiql;
mod graphql;
pub mod middleware;
mod probes;
mod request;
mod response;

use actix_web::web;
use sea_orm::DatabaseConnection;
use std::{sync::Arc, time::Duration};

use crate::auth::Verifier;
use crate::graphql::{limits::ShapeLimits, partial::OutputTypes, AppSchema};
use crate::metrics::Metrics;

pub use middleware::RequestId;

/// Limits the edge enforces before GraphQL executes a request.
#[derive(Debug, Clone, Copy)]
pub struct HttpLimits {
    /// Aliases and root fields per document.
    pub shape: ShapeLimits,
    /// Larger bodies get 413.
    pub max_body_bytes: usize,
    /// Bodies slower to arrive get 408.
    pub body_timeout: Duration,
    /// Operations in one batched POST, at most.
    pub max_batch: usize,
    /// Longer GraphQL executions are answered with an error.
    pub request_timeout: Duration,
}

pub struct AppState {
    pub db: DatabaseConnection,
    pub schema: AppSchema,
    /// The schema's field types, to complete partial results.
    pub types: OutputTypes,
    pub verifier: Arc<Verifier>,
    pub metrics: Arc<Metrics>,
    pub limits: HttpLimits,
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/graphql", web::post().to(graphql::post))
        .route("/graphql", web::get().to(graphql::get))
        .route("/metrics", web::get().to(probes::metrics))
        .route("/healthz", web::get().to(probes::healthz))
        .route("/readyz", web::get().to(probes::readyz));
}
