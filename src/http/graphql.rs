//! `POST /graphql` and `GET /graphql`: read the requests, make each ready,
//! learn the caller, execute within the time limit, complete and write the
//! response.

use actix_web::{web, HttpRequest, HttpResponse};
use async_graphql::{BatchResponse, Request, Response, ServerError};
use std::time::Instant;

use super::{
    graphiql,
    request::{self, Incoming, Refused},
    response::{self, Refusal},
    websocket, AppState, RequestId,
};
use crate::graphql::{
    self,
    errors::{self, coded, Code},
    partial,
};
use crate::metrics::{CodeLabels, OperationLabels, RequestLabels};

pub(crate) async fn post(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> HttpResponse {
    match request::from_body(&req, payload, &state.limits).await {
        Ok(incoming) => handle(&state, &req, incoming, false).await,
        Err(refusal) => refuse_unread(&state, &req, refusal),
    }
}

pub(crate) async fn get(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> HttpResponse {
    if websocket::wanted(&req) {
        return websocket::upgrade(req, payload, state).await;
    }
    if graphiql::wanted(&req) {
        return graphiql::page();
    }
    match request::from_query_string(&req) {
        Ok(incoming) => handle(&state, &req, incoming, true).await,
        Err(refusal) => refuse_unread(&state, &req, refusal),
    }
}

/// Refuses a request that could not be read (too large, not JSON, ...),
/// counted among the requests as operation `refused`.
fn refuse_unread(state: &AppState, req: &HttpRequest, refusal: Refusal) -> HttpResponse {
    let res = refuse(state, req, refusal);
    state
        .metrics
        .http_requests
        .get_or_create(&RequestLabels {
            operation: "refused".to_owned(),
            status: res.status().as_u16(),
        })
        .inc();
    res
}

fn refuse(state: &AppState, req: &HttpRequest, refusal: Refusal) -> HttpResponse {
    count_error(state, refusal.code);
    refusal.into_response(req, &RequestId::of(req))
}

fn count_error(state: &AppState, code: Code) {
    state
        .metrics
        .graphql_errors
        .get_or_create(&CodeLabels {
            code: code.as_str().to_owned(),
        })
        .inc();
}

/// Counts a request by operation and status.
async fn handle(
    state: &AppState,
    req: &HttpRequest,
    incoming: Incoming,
    over_get: bool,
) -> HttpResponse {
    let started = Instant::now();
    let (res, operation) = if state.health.database_up() {
        run(state, req, incoming, over_get).await
    } else {
        // Known to be away: fail now rather than wait for a connection.
        tracing::warn!("refused: the database is unavailable");
        (
            refuse(state, req, Refusal::database_unavailable()),
            "unavailable".to_owned(),
        )
    };
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

/// The response and the operation's metrics label.
async fn run(
    state: &AppState,
    req: &HttpRequest,
    incoming: Incoming,
    over_get: bool,
) -> (HttpResponse, String) {
    let mut ready: Vec<Result<Request, Refused>> = incoming
        .params
        .into_iter()
        .map(|p| p.ready(&state.documents, &state.limits, over_get))
        .collect();
    if let (false, [Ok(r)]) = (incoming.batch, &mut ready[..]) {
        record_operation(r);
    }
    let operation = state
        .metrics
        .operation_label(match (&ready[..], incoming.batch) {
            (_, true) => Some("batch"),
            ([Ok(r)], false) => r.operation_name.as_deref(),
            _ => None,
        });
    if !incoming.batch {
        let single = ready.into_iter().next().expect("one request");
        let res = match single {
            Ok(r) => execute(state, req, vec![Ok(r)], false).await,
            Err(Refused::Http(refusal)) => refuse(state, req, refusal),
            Err(Refused::NotFound(e)) => {
                count_error(state, Code::PersistedQueryNotFound);
                response::not_found(req, e)
            }
            Err(Refused::Document(e)) => {
                if let Some(code) = Code::of(&e) {
                    count_error(state, code);
                }
                response::request_error(req, e)
            }
        };
        return (res, operation);
    }
    // In a batch, each request that cannot run answers in its own slot.
    let slots = ready
        .into_iter()
        .map(|r| {
            r.map_err(|refused| match refused {
                Refused::Http(refusal) => coded(refusal.message, refusal.code),
                Refused::NotFound(e) | Refused::Document(e) => e,
            })
        })
        .collect();
    (execute(state, req, slots, true).await, operation)
}

/// The operation's type and name on the request span, as OpenTelemetry's
/// GraphQL conventions name them (the document is parsed already).
fn record_operation(r: &mut Request) {
    use async_graphql::parser::types::OperationType;
    let wanted = r.operation_name.clone();
    let Ok(doc) = r.parsed_query() else { return };
    let Some((name, ty)) = request::operations_named(doc, wanted.as_deref()).next() else {
        return;
    };
    let ty = match ty {
        OperationType::Query => "query",
        OperationType::Mutation => "mutation",
        OperationType::Subscription => "subscription",
    };
    let span = tracing::Span::current();
    span.record("graphql.operation.type", ty);
    if let Some(name) = name {
        span.record("graphql.operation.name", name);
    }
}

/// Executes the requests that are ready, within the time limit, and
/// writes their responses.
async fn execute(
    state: &AppState,
    req: &HttpRequest,
    slots: Vec<Result<Request, ServerError>>,
    batch: bool,
) -> HttpResponse {
    let request_id = RequestId::of(req);
    // The documents, to complete partial results should fields fail.
    let sources: Vec<Option<(String, Option<String>)>> = slots
        .iter()
        .map(|s| {
            s.as_ref()
                .ok()
                .map(|r| (r.query.clone(), r.operation_name.clone()))
        })
        .collect();
    let auth = request::auth(req, &state.verifier).await;
    let runs = slots.into_iter().map(|slot| {
        let auth = auth.clone();
        async move {
            match slot {
                Ok(r) => {
                    state
                        .schema
                        .execute(graphql::prepare(r, &state.db, auth))
                        .await
                }
                Err(e) => Response::from_errors(vec![e]),
            }
        }
    });
    let executed = tokio::time::timeout(
        state.limits.request_timeout,
        futures_util::future::join_all(runs),
    )
    .await;
    let Ok(mut responses) = executed else {
        tracing::error!(timeout = ?state.limits.request_timeout, "request timed out");
        return refuse(state, req, Refusal::timed_out());
    };
    let mut codes = Vec::new();
    for (r, source) in responses.iter_mut().zip(&sources) {
        codes.extend(errors::finish(r, &request_id));
        if let Some((query, operation)) = source {
            if r.errors.iter().any(|e| !e.path.is_empty()) {
                if let Ok(doc) = async_graphql::parser::parse_query(query) {
                    partial::complete(r, &doc, operation.as_deref(), &state.types);
                }
            }
        }
    }
    for code in &codes {
        count_error(state, *code);
    }
    if codes.contains(&Code::InternalServerError) {
        state.health.suspect();
    }
    let response = if batch {
        BatchResponse::Batch(responses)
    } else {
        BatchResponse::Single(responses.pop().expect("one response"))
    };
    response::executed(req, response, &codes)
}
