//! Middleware of every route: a request id and one access-log line per
//! request, and CORS for the configured origins.

use actix_cors::Cors;
use actix_web::{
    body::MessageBody,
    dev::{ServiceRequest, ServiceResponse},
    http::header,
    middleware::Next,
    HttpMessage, HttpRequest,
};
use std::time::Instant;
use tracing::Instrument;

/// The id under which the log has a request's details.
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

impl RequestId {
    /// The id the middleware gave this request.
    pub fn of(req: &HttpRequest) -> String {
        req.extensions()
            .get::<RequestId>()
            .map(|r| r.0.clone())
            .unwrap_or_default()
    }
}

/// The client's `x-request-id` when it is sane, otherwise a new one.
fn id_for(req: &ServiceRequest) -> String {
    req.headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 64
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
}

/// Gives every request an id, a span carrying it, and one log line when it
/// ends; echoes the id in the response.
pub async fn request_id(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let id = id_for(&req);
    req.extensions_mut().insert(RequestId(id.clone()));
    // The GraphQL attributes are OpenTelemetry's semantic conventions,
    // filled in once the operation is known (`http::graphql::record_operation`).
    let span = tracing::info_span!(
        "request",
        otel.name = %format_args!("{} {}", req.method(), req.path()),
        otel.kind = "server",
        request_id = %id,
        method = %req.method(),
        path = %req.path(),
        graphql.operation.name = tracing::field::Empty,
        graphql.operation.type = tracing::field::Empty,
        http.response.status_code = tracing::field::Empty,
    );
    crate::telemetry::adopt_parent(&span, req.headers());
    let started = Instant::now();
    async move {
        let mut res = next.call(req).await?;
        tracing::Span::current().record("http.response.status_code", res.status().as_u16());
        tracing::info!(
            status = res.status().as_u16(),
            ms = started.elapsed().as_millis() as u64,
            "request finished"
        );
        if let Ok(value) = header::HeaderValue::from_str(&id) {
            res.headers_mut()
                .insert(header::HeaderName::from_static("x-request-id"), value);
        }
        Ok(res)
    }
    .instrument(span)
    .await
}

/// CORS for the configured origins only; with none, browsers on other
/// origins get no CORS headers (and so no access).
pub fn cors(origins: &[String]) -> Cors {
    let cors = Cors::default()
        .allowed_methods(["GET", "POST"])
        .allowed_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::ACCEPT])
        // Request ids, trace context, and what Apollo clients send.
        .allowed_headers([
            "x-request-id",
            "traceparent",
            "tracestate",
            "apollo-require-preflight",
            "x-apollo-operation-name",
            "apollographql-client-name",
            "apollographql-client-version",
        ])
        .expose_headers(["x-request-id"])
        .max_age(3600);
    origins
        .iter()
        .map(|o| o.trim())
        .filter(|o| !o.is_empty())
        .fold(cors, |cors, origin| cors.allowed_origin(origin))
}
