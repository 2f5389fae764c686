//! `POST /graphql` and `GET /graphql`: read the request, learn the caller,
//! execute it within the time limit, and write the response.

use actix_web::{web, HttpRequest, HttpResponse};
use async_graphql::{BatchRequest, BatchResponse};
use std::time::Instant;

use super::{
    graphiql, request,
    response::{self, Refusal},
    AppState, RequestId,
};
use crate::graphql::{self, errors, partial};
use crate::metrics::{CodeLabels, OperationLabels, RequestLabels};

pub(crate) async fn post(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> HttpResponse {
    match request::from_body(&req, payload, &state.limits).await {
        Ok(batch) => execute(&state, &req, batch).await,
        Err(refusal) => refuse(&state, &req, refusal),
    }
}

pub(crate) async fn get(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    if graphiql::wanted(&req) {
        return graphiql::page();
    }
    let mut request = match request::from_query_string(&req) {
        Ok(r) => r,
        Err(refusal) => return refuse(&state, &req, refusal),
    };
    if request::is_mutation(&mut request) {
        return refuse(&state, &req, Refusal::mutation_over_get());
    }
    execute(&state, &req, BatchRequest::Single(request)).await
}

fn refuse(state: &AppState, req: &HttpRequest, refusal: Refusal) -> HttpResponse {
    count_error(state, refusal.code);
    refusal.into_response(&RequestId::of(req))
}

fn count_error(state: &AppState, code: errors::Code) {
    state
        .metrics
        .graphql_errors
        .get_or_create(&CodeLabels {
            code: code.as_str().to_owned(),
        })
        .inc();
}

/// Runs a request and counts it by operation and status.
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
    let request_id = RequestId::of(req);
    if let Err(refused) = request::parse(&mut batch, &state.limits) {
        if let Some(code) = errors::Code::of(&refused) {
            count_error(state, code);
        }
        return response::request_error(req, refused);
    }
    // The documents, to complete partial results should fields fail.
    let sources: Vec<(String, Option<String>)> = batch
        .iter()
        .map(|r| (r.query.clone(), r.operation_name.clone()))
        .collect();
    let auth = request::auth(req, &state.verifier).await;
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
        return refuse(state, req, Refusal::timed_out());
    };
    let responses: Vec<&mut async_graphql::Response> = match &mut response {
        BatchResponse::Single(r) => vec![r],
        BatchResponse::Batch(rs) => rs.iter_mut().collect(),
    };
    let mut codes = Vec::new();
    for (r, (query, operation)) in responses.into_iter().zip(&sources) {
        codes.extend(errors::finish(r, &request_id));
        if r.errors.iter().any(|e| !e.path.is_empty()) {
            if let Ok(doc) = async_graphql::parser::parse_query(query) {
                partial::complete(r, &doc, operation.as_deref(), &state.types);
            }
        }
    }
    for code in &codes {
        count_error(state, *code);
    }
    response::executed(req, response, &codes)
}
