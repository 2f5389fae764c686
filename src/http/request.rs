//! Reading a GraphQL request off HTTP: the body (size limit, content type,
//! JSON, batch size) or the GET query string, each document parsed once
//! and checked (shape limits; no mutation over GET) before execution; and
//! the bearer token.

use actix_web::{http::header, web, HttpRequest};
use async_graphql::{parser::types::OperationType, BatchRequest, Request, ServerError};
use futures_util::StreamExt;
use std::time::Duration;

use super::{response::Refusal, HttpLimits};
use crate::auth::{self, Verifier};
use crate::graphql::{
    errors::{with_code, Code},
    Auth,
};

/// What the caller's `Authorization` header says.
pub(crate) async fn auth(req: &HttpRequest, verifier: &Verifier) -> Auth {
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

/// A `POST /graphql` body: JSON, within the size limit, a batch within its
/// limit.
pub(crate) async fn from_body(
    req: &HttpRequest,
    payload: web::Payload,
    limits: &HttpLimits,
) -> Result<BatchRequest, Refusal> {
    let limit = limits.max_body_bytes;
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(Refusal::too_large(limit));
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
        return Err(Refusal::unsupported_media_type());
    }
    let body = read_body(payload, limit, limits.body_timeout).await?;
    let batch: BatchRequest = serde_json::from_slice(&body)
        .map_err(|e| Refusal::bad_request(format!("The body is not a GraphQL request: {e}")))?;
    if let BatchRequest::Batch(rs) = &batch {
        let max = limits.max_batch;
        if rs.len() > max || rs.is_empty() {
            return Err(Refusal::bad_request(format!(
                "A batch holds 1 to {max} operations"
            )));
        }
    }
    Ok(batch)
}

/// Reads the body up to the size limit, within the time limit (a body
/// trickling in must not hold a worker).
async fn read_body(
    mut payload: web::Payload,
    limit: usize,
    timeout: Duration,
) -> Result<web::BytesMut, Refusal> {
    let deadline = tokio::time::Instant::now() + timeout;
    let mut body = web::BytesMut::new();
    loop {
        let next = tokio::time::timeout_at(deadline, payload.next())
            .await
            .map_err(|_| Refusal::body_timeout(timeout))?;
        let Some(chunk) = next else { break };
        let chunk = chunk.map_err(|e| {
            Refusal::bad_request(format!("The request body could not be read: {e}"))
        })?;
        if body.len() + chunk.len() > limit {
            return Err(Refusal::too_large(limit));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// A `GET /graphql` query string.
pub(crate) fn from_query_string(req: &HttpRequest) -> Result<Request, Refusal> {
    async_graphql::http::parse_query_string(req.query_string())
        .map_err(|e| Refusal::bad_request(format!("Not a GraphQL request: {e}")))
}

/// Parses each request's document (kept for execution, so it is parsed
/// once) and checks its shape. A persisted query sent by hash alone has no
/// document yet and is left to the executor.
pub(crate) fn parse(batch: &mut BatchRequest, limits: &HttpLimits) -> Result<(), ServerError> {
    for request in batch.iter_mut() {
        if request.query.is_empty() {
            continue;
        }
        let doc = request
            .parsed_query()
            .map_err(|e| with_code(e, Code::GraphqlParseFailed))?;
        limits.shape.check(doc)?;
    }
    Ok(())
}

/// Whether the operation a request would run is a mutation (parsing its
/// document, kept for [`parse`]; one that does not parse is left to it).
pub(crate) fn is_mutation(request: &mut Request) -> bool {
    let name = request.operation_name.clone();
    let Ok(doc) = request.parsed_query() else {
        return false;
    };
    doc.operations
        .iter()
        .filter(|(op_name, _)| name.is_none() || op_name.map(|n| n.as_str()) == name.as_deref())
        .any(|(_, op)| op.node.ty == OperationType::Mutation)
}
