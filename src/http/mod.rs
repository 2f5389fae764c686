//! The HTTP edge: routes and probes, middleware, reading GraphQL requests
//! and writing their responses, GraphiQL. Everything past this folder is
//! free of HTTP.
//!
//! A request flows: [`middleware`] (request id, access log, CORS) ->
//! [`graphql`] handler -> [`request`] (body, limits, one parse, the bearer
//! token) -> the schema -> [`response`] (status, media type). A `GET`
//! asking for a WebSocket goes to [`websocket`] (graphql-transport-ws).

mod documents;
mod graphiql;
mod graphql;
pub mod middleware;
mod probes;
mod request;
mod response;
mod websocket;

use actix_web::web;
use sea_orm::DatabaseConnection;
use std::{sync::Arc, time::Duration};

use crate::auth::Verifier;
use crate::graphql::{limits::ShapeLimits, partial::OutputTypes, AppSchema};
use crate::health::Health;
use crate::metrics::Metrics;

pub use middleware::RequestId;

impl AppState {
    /// `trusted_documents`: a file of the only documents that may run;
    /// otherwise `persisted_queries` automatic persisted queries are kept.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        db: DatabaseConnection,
        schema: AppSchema,
        verifier: Arc<Verifier>,
        metrics: Arc<Metrics>,
        health: Health,
        limits: HttpLimits,
        trusted_documents: Option<&std::path::Path>,
        persisted_queries: usize,
        allowed_origins: Vec<String>,
    ) -> Result<Self, String> {
        let types = OutputTypes::from_sdl(&schema.sdl());
        Ok(Self {
            db,
            schema,
            documents: documents::Documents::new(trusted_documents, persisted_queries)?,
            types,
            verifier,
            metrics,
            health,
            limits,
            allowed_origins,
        })
    }
}

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
    /// Operations one WebSocket may run at once.
    pub max_subscriptions: usize,
}

pub struct AppState {
    pub db: DatabaseConnection,
    pub schema: AppSchema,
    documents: documents::Documents,
    /// The schema's field types, to complete partial results.
    types: OutputTypes,
    pub verifier: Arc<Verifier>,
    pub metrics: Arc<Metrics>,
    pub health: Health,
    pub limits: HttpLimits,
    /// `CORS_ALLOWED_ORIGINS`, which WebSockets are checked against too.
    allowed_origins: Vec<String>,
}

/// The public routes; `/metrics` among them unless it is served apart.
pub fn routes(cfg: &mut web::ServiceConfig, with_metrics: bool) {
    cfg.route("/graphql", web::post().to(graphql::post))
        .route("/graphql", web::get().to(graphql::get))
        .route("/graphiql/{name}", web::get().to(graphiql::asset))
        .route("/healthz", web::get().to(probes::healthz))
        .route("/readyz", web::get().to(probes::readyz));
    if with_metrics {
        metrics_routes(cfg);
    }
}

/// `/metrics` alone (on `METRICS_ADDR`, off the public port).
pub fn metrics_routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/metrics", web::get().to(probes::metrics));
}
