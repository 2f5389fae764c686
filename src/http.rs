//! The HTTP edge: routes, request ids, the bearer token, and GraphQL over
//! HTTP. Everything past this module is free of HTTP.

use actix_web::{
    body::MessageBody,
    dev::{ServiceRequest, ServiceResponse},
    http::{header, StatusCode},
    middleware::Next,
    web, HttpMessage, HttpRequest, HttpResponse,
};
use async_graphql::{
    http::GraphiQLSource, parser::types::OperationType, BatchRequest, BatchResponse,
    ErrorExtensionValues, Response, ServerError,
};
use async_graphql_actix_web::GraphQLResponse;
use sea_orm::DatabaseConnection;
use std::{sync::Arc, time::Instant};
use tracing::Instrument;

use crate::auth::{self, Verifier};
use crate::error::INTERNAL_MESSAGE;
use crate::graphql::{self, AppSchema, Auth};

/// Requests in one POST batch, at most.
pub const MAX_BATCH: usize = 10;
/// Request bodies, at most (larger ones get 413).
pub const MAX_BODY_BYTES: usize = 1 << 20;

pub struct AppState {
    pub db: DatabaseConnection,
    pub schema: AppSchema,
    pub verifier: Arc<Verifier>,
}

/// The id under which the log has a request's details.
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.app_data(web::PayloadConfig::new(MAX_BODY_BYTES))
        .route("/graphql", web::post().to(graphql_post))
        .route("/graphql", web::get().to(graphql_get))
        .route("/healthz", web::get().to(healthz))
        .route("/readyz", web::get().to(readyz));
}

/// Gives every request an id (the client's `x-request-id` when sane), a
/// span carrying it, and one log line when it ends.
pub async fn request_id(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 64
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    req.extensions_mut().insert(RequestId(id.clone()));
    let span = tracing::info_span!("request", request_id = %id, method = %req.method(), path = %req.path());
    let started = Instant::now();
    async move {
        let mut res = next.call(req).await?;
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

fn request_id_of(req: &HttpRequest) -> String {
    req.extensions()
        .get::<RequestId>()
        .map(|r| r.0.clone())
        .unwrap_or_default()
}

async fn auth_of(req: &HttpRequest, verifier: &Verifier) -> Auth {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return Auth::Missing;
    };
    let Ok(value) = value.to_str() else {
        return Auth::Invalid("Authorization header is not readable".into());
    };
    let token = match auth::bearer(value) {
        Ok(token) => token,
        Err(e) => return Auth::Invalid(e.0),
    };
    match verifier.verify(token).await {
        Ok(identity) => Auth::Valid(identity),
        Err(e) => Auth::Invalid(e.0),
    }
}

/// A response with one error and no data, as GraphQL clients expect.
fn error_response(status: StatusCode, code: &str, message: &str) -> HttpResponse {
    let mut ext = ErrorExtensionValues::default();
    ext.set("code", code);
    let mut err = ServerError::new(message, None);
    err.extensions = Some(ext);
    let body = Response::from_errors(vec![err]);
    HttpResponse::build(status).json(body)
}

async fn execute(state: &AppState, req: &HttpRequest, batch: BatchRequest) -> HttpResponse {
    let auth = auth_of(req, &state.verifier).await;
    let prepare = |r| graphql::prepare(r, &state.db, auth.clone());
    let batch = match batch {
        BatchRequest::Single(r) => BatchRequest::Single(prepare(r)),
        BatchRequest::Batch(rs) => BatchRequest::Batch(rs.into_iter().map(prepare).collect()),
    };
    let mut response = state.schema.execute_batch(batch).await;
    add_request_id(&mut response, &request_id_of(req));
    actix_web::Responder::respond_to(GraphQLResponse::from(response), req).map_into_boxed_body()
}

/// Internal errors carry the request id so the client can quote it.
fn add_request_id(response: &mut BatchResponse, id: &str) {
    let responses: Vec<&mut Response> = match response {
        BatchResponse::Single(r) => vec![r],
        BatchResponse::Batch(rs) => rs.iter_mut().collect(),
    };
    for r in responses {
        for e in &mut r.errors {
            let ext = e.extensions.get_or_insert_with(Default::default);
            if ext.get("code").is_none() {
                // Errors raised by async-graphql itself (validation, limits).
                let code = if e.message.contains("syntax error") || e.message.starts_with(" --> ") {
                    "GRAPHQL_PARSE_FAILED"
                } else {
                    "GRAPHQL_VALIDATION_FAILED"
                };
                ext.set("code", code);
            }
            if matches!(ext.get("code"), Some(async_graphql::Value::String(c)) if c == "INTERNAL_SERVER_ERROR")
            {
                e.message = INTERNAL_MESSAGE.to_owned();
                ext.set("requestId", id);
            }
        }
    }
}

async fn graphql_post(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> HttpResponse {
    let is_json = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            ct.trim_start()
                .to_ascii_lowercase()
                .starts_with("application/json")
        });
    if !is_json {
        return error_response(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "BAD_USER_INPUT",
            "POST /graphql takes Content-Type: application/json",
        );
    }
    let batch: BatchRequest = match serde_json::from_slice(&body) {
        Ok(b) => b,
        Err(e) => {
            return error_response(
                StatusCode::BAD_REQUEST,
                "BAD_USER_INPUT",
                &format!("The body is not a GraphQL request: {e}"),
            )
        }
    };
    if let BatchRequest::Batch(rs) = &batch {
        if rs.len() > MAX_BATCH || rs.is_empty() {
            return error_response(
                StatusCode::BAD_REQUEST,
                "BAD_USER_INPUT",
                &format!("A batch holds 1 to {MAX_BATCH} operations"),
            );
        }
    }
    execute(&state, &req, batch).await
}

async fn graphql_get(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let wants_html = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"));
    if wants_html && !req.query_string().contains("query=") {
        let page = GraphiQLSource::build()
            .endpoint("/graphql")
            .title("Invitations GraphiQL")
            .finish();
        return HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .body(page);
    }
    let request = match async_graphql::http::parse_query_string(req.query_string()) {
        Ok(r) => r,
        Err(e) => {
            return error_response(
                StatusCode::BAD_REQUEST,
                "BAD_USER_INPUT",
                &format!("Not a GraphQL request: {e}"),
            )
        }
    };
    if is_mutation(&request) {
        let mut res = error_response(
            StatusCode::METHOD_NOT_ALLOWED,
            "BAD_USER_INPUT",
            "Mutations are only accepted over POST",
        );
        res.headers_mut()
            .insert(header::ALLOW, header::HeaderValue::from_static("POST"));
        return res;
    }
    execute(&state, &req, BatchRequest::Single(request)).await
}

/// Whether the operation a GET would run is a mutation (an unparsable
/// query is left for the executor to report).
fn is_mutation(request: &async_graphql::Request) -> bool {
    let Ok(doc) = async_graphql::parser::parse_query(&request.query) else {
        return false;
    };
    let name = request.operation_name.as_deref();
    doc.operations
        .iter()
        .filter(|(op_name, _)| name.is_none() || op_name.map(|n| n.as_str()) == name)
        .any(|(_, op)| op.node.ty == OperationType::Mutation)
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok")
}

async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    match state.db.ping().await {
        Ok(()) => HttpResponse::Ok().content_type("text/plain").body("ready"),
        Err(e) => {
            tracing::warn!(error = %e, "database is not answering");
            HttpResponse::ServiceUnavailable()
                .content_type("text/plain")
                .body("database unavailable")
        }
    }
}
