//! The HTTP edge: routes, request ids, the bearer token, and GraphQL over
//! HTTP. Everything past this module is free of HTTP.

use actix_cors::Cors;
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
use std::{
    sync::Arc,
    time::{Duration, Instant},
};
use tracing::Instrument;

use crate::auth::{self, Verifier};
use crate::error::INTERNAL_MESSAGE;
use crate::graphql::{self, limits::ShapeLimits, AppSchema, Auth};
use crate::metrics::{CodeLabels, Metrics, OperationLabels, RequestLabels};

/// Limits the HTTP edge enforces before GraphQL executes a request.
#[derive(Debug, Clone, Copy)]
pub struct HttpLimits {
    /// Aliases and root fields per document.
    pub shape: ShapeLimits,
    /// Larger bodies get 413.
    pub max_body_bytes: usize,
    /// Operations in one batched POST, at most.
    pub max_batch: usize,
    /// Longer GraphQL executions are answered with an error.
    pub request_timeout: Duration,
}

pub struct AppState {
    pub db: DatabaseConnection,
    pub schema: AppSchema,
    pub verifier: Arc<Verifier>,
    pub metrics: Arc<Metrics>,
    pub limits: HttpLimits,
}

/// The id under which the log has a request's details.
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/graphql", web::post().to(graphql_post))
        .route("/graphql", web::get().to(graphql_get))
        .route("/metrics", web::get().to(metrics))
        .route("/healthz", web::get().to(healthz))
        .route("/readyz", web::get().to(readyz));
}

/// CORS for the configured origins only; with none, browsers on other
/// origins get no CORS headers (and so no access).
pub fn cors(origins: &[String]) -> Cors {
    let cors = Cors::default()
        .allowed_methods(["GET", "POST"])
        .allowed_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::ACCEPT])
        .allowed_header("x-request-id")
        .expose_headers(["x-request-id"])
        .max_age(3600);
    origins
        .iter()
        .map(|o| o.trim())
        .filter(|o| !o.is_empty())
        .fold(cors, |cors, origin| cors.allowed_origin(origin))
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
    error_response_with(status, code, message, None)
}

fn error_response_with(
    status: StatusCode,
    code: &str,
    message: &str,
    request_id: Option<&str>,
) -> HttpResponse {
    let mut ext = ErrorExtensionValues::default();
    ext.set("code", code);
    if let Some(id) = request_id {
        ext.set("requestId", id);
    }
    let mut err = ServerError::new(message, None);
    err.extensions = Some(ext);
    let body = Response::from_errors(vec![err]);
    HttpResponse::build(status).json(body)
}

/// Whether the client speaks the GraphQL-over-HTTP media type; then request
/// errors (unparsable or invalid documents) get 4xx statuses.
fn wants_graphql_response(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains(GRAPHQL_RESPONSE))
}

const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";

async fn execute(state: &AppState, req: &HttpRequest, batch: BatchRequest) -> HttpResponse {
    let started = Instant::now();
    let operation = state.metrics.operation_label(match &batch {
        BatchRequest::Single(r) => r.operation_name.as_deref(),
        BatchRequest::Batch(_) => Some("batch"),
    });
    let res = run(state, req, batch).await;
    state
        .metrics
        .http_requests
        .get_or_create(&RequestLabels {
            operation: operation.clone(),
            status: res.status().as_u16(),
        })
        .inc();
    state
        .metrics
        .http_duration
        .get_or_create(&OperationLabels { operation })
        .observe(started.elapsed().as_secs_f64());
    res
}

async fn run(state: &AppState, req: &HttpRequest, mut batch: BatchRequest) -> HttpResponse {
    let request_id = request_id_of(req);
    for request in batch.iter_mut() {
        if let Err(refused) = state.limits.shape.check(request) {
            if let Some(async_graphql::Value::String(code)) =
                refused.extensions.as_ref().and_then(|x| x.get("code"))
            {
                count_error(&state.metrics, code);
            }
            let status = if wants_graphql_response(req) {
                StatusCode::BAD_REQUEST
            } else {
                StatusCode::OK
            };
            return HttpResponse::build(status).json(Response::from_errors(vec![refused]));
        }
    }
    let auth = auth_of(req, &state.verifier).await;
    let prepare = |r| graphql::prepare(r, &state.db, auth.clone());
    let batch = match batch {
        BatchRequest::Single(r) => BatchRequest::Single(prepare(r)),
        BatchRequest::Batch(rs) => BatchRequest::Batch(rs.into_iter().map(prepare).collect()),
    };
    let executed = tokio::time::timeout(
        state.limits.request_timeout,
        state.schema.execute_batch(batch),
    )
    .await;
    let Ok(mut response) = executed else {
        tracing::error!(timeout = ?state.limits.request_timeout, "request timed out");
        count_error(&state.metrics, "INTERNAL_SERVER_ERROR");
        return error_response_with(
            StatusCode::SERVICE_UNAVAILABLE,
            "INTERNAL_SERVER_ERROR",
            "The request took too long",
            Some(&request_id),
        );
    };
    finish_errors(&mut response, &request_id, &state.metrics);
    let request_error = match &response {
        BatchResponse::Single(r) => r.errors.iter().any(|e| {
            matches!(e.extensions.as_ref().and_then(|x| x.get("code")),
                Some(async_graphql::Value::String(c)) if c == "GRAPHQL_PARSE_FAILED" || c == "GRAPHQL_VALIDATION_FAILED")
        }),
        BatchResponse::Batch(_) => false,
    };
    let mut res = actix_web::Responder::respond_to(GraphQLResponse::from(response), req)
        .map_into_boxed_body();
    if wants_graphql_response(req) {
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            header::HeaderValue::from_static("application/graphql-response+json; charset=utf-8"),
        );
        if request_error {
            *res.status_mut() = StatusCode::BAD_REQUEST;
        }
    }
    res
}

fn count_error(metrics: &Metrics, code: &str) {
    metrics
        .graphql_errors
        .get_or_create(&CodeLabels {
            code: code.to_owned(),
        })
        .inc();
}

/// Every error gets a code (async-graphql's own ones have none), internal
/// ones the request id so the client can quote it; each is counted.
fn finish_errors(response: &mut BatchResponse, id: &str, metrics: &Metrics) {
    let responses: Vec<&mut Response> = match response {
        BatchResponse::Single(r) => vec![r],
        BatchResponse::Batch(rs) => rs.iter_mut().collect(),
    };
    for r in responses {
        for e in &mut r.errors {
            let ext = e.extensions.get_or_insert_with(Default::default);
            if ext.get("code").is_none() {
                // Raised by async-graphql itself: validation and its limits
                // (documents that do not parse are refused before, with
                // GRAPHQL_PARSE_FAILED).
                ext.set("code", "GRAPHQL_VALIDATION_FAILED");
            }
            if let Some(async_graphql::Value::String(code)) = ext.get("code") {
                count_error(metrics, code);
                if code == "INTERNAL_SERVER_ERROR" {
                    e.message = INTERNAL_MESSAGE.to_owned();
                    ext.set("requestId", id);
                }
            }
        }
    }
}

/// Reads the body up to the limit; `None` when it is larger.
async fn read_body(
    mut payload: web::Payload,
    limit: usize,
) -> Result<Option<web::BytesMut>, actix_web::Error> {
    use futures_util::StreamExt;
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk?;
        if body.len() + chunk.len() > limit {
            return Ok(None);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Some(body))
}

async fn graphql_post(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> HttpResponse {
    let limit = state.limits.max_body_bytes;
    let too_large = || {
        error_response(
            StatusCode::PAYLOAD_TOO_LARGE,
            "BAD_USER_INPUT",
            &format!("The request body is larger than {limit} bytes"),
        )
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return too_large();
    }
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
    let body = match read_body(payload, limit).await {
        Ok(Some(body)) => body,
        Ok(None) => return too_large(),
        Err(e) => {
            return error_response(
                StatusCode::BAD_REQUEST,
                "BAD_USER_INPUT",
                &format!("The request body could not be read: {e}"),
            )
        }
    };
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
        let max = state.limits.max_batch;
        if rs.len() > max || rs.is_empty() {
            return error_response(
                StatusCode::BAD_REQUEST,
                "BAD_USER_INPUT",
                &format!("A batch holds 1 to {max} operations"),
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

async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
        .body(state.metrics.render(&state.db).await)
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
