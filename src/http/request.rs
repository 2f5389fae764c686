//! Reading GraphQL requests off HTTP: the POST body (size and time limits,
//! content type, JSON, batch size) or the GET query string; then each
//! request made ready: its document resolved (persisted documents), parsed
//! once, checked (no mutation over GET, shape limits) and handed on parsed.
//! And the bearer token.

use actix_web::{http::header, web, HttpRequest};
use async_graphql::{
    parser::types::{ExecutableDocument, OperationType},
    Request, ServerError, Variables,
};
use futures_util::StreamExt;
use serde::Deserialize;
use std::time::Duration;

use super::{
    documents::{Documents, Missing},
    response::Refusal,
    HttpLimits,
};
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

/// One GraphQL request's parameters as sent.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Params {
    query: Option<String>,
    operation_name: Option<String>,
    variables: Option<serde_json::Value>,
    extensions: Option<serde_json::Map<String, serde_json::Value>>,
    /// The GraphQL-over-HTTP spec's persisted document: `sha256:<hex>`.
    document_id: Option<String>,
}

/// A body holds one request or a batch of them.
#[derive(Deserialize)]
#[serde(untagged)]
enum Body {
    Single(Params),
    Batch(Vec<Params>),
}

/// The requests of one HTTP request.
pub(crate) struct Incoming {
    pub(crate) params: Vec<Params>,
    pub(crate) batch: bool,
}

/// A `POST /graphql` body: JSON, within the size and time limits, a batch
/// within its limit.
pub(crate) async fn from_body(
    req: &HttpRequest,
    payload: web::Payload,
    limits: &HttpLimits,
) -> Result<Incoming, Refusal> {
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
    let body: Body = serde_json::from_slice(&body)
        .map_err(|e| Refusal::bad_request(format!("The body is not a GraphQL request: {e}")))?;
    match body {
        Body::Single(p) => Ok(Incoming {
            params: vec![p],
            batch: false,
        }),
        Body::Batch(ps) => {
            let max = limits.max_batch;
            if ps.len() > max || ps.is_empty() {
                return Err(Refusal::bad_request(format!(
                    "A batch holds 1 to {max} operations"
                )));
            }
            Ok(Incoming {
                params: ps,
                batch: true,
            })
        }
    }
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

/// A `GET /graphql` query string: `query`, `operationName`, and
/// `variables` and `extensions` as JSON text.
pub(crate) fn from_query_string(req: &HttpRequest) -> Result<Incoming, Refusal> {
    let mut p = Params::default();
    for (key, value) in url::form_urlencoded::parse(req.query_string().as_bytes()) {
        let json = |what: &str| {
            serde_json::from_str(&value)
                .map_err(|e| Refusal::bad_request(format!("`{what}` is not JSON: {e}")))
        };
        match key.as_ref() {
            "query" => p.query = Some(value.into_owned()),
            "operationName" => p.operation_name = Some(value.into_owned()),
            "variables" => p.variables = Some(json("variables")?),
            "extensions" => {
                p.extensions = match json("extensions")? {
                    serde_json::Value::Object(map) => Some(map),
                    serde_json::Value::Null => None,
                    _ => return Err(Refusal::bad_request("`extensions` must be an object")),
                }
            }
            "documentId" => p.document_id = Some(value.into_owned()),
            _ => {}
        }
    }
    Ok(Incoming {
        params: vec![p],
        batch: false,
    })
}

/// Why a request was not made ready.
pub(crate) enum Refused {
    /// Malformed: the edge answers with this status.
    Http(Refusal),
    /// A persisted document the server does not have (always HTTP 200, so
    /// Apollo clients send the document).
    NotFound(ServerError),
    /// Its document does not parse or is over a limit.
    Document(ServerError),
}

impl Params {
    fn hash(&self) -> Option<&str> {
        let apq = self
            .extensions
            .as_ref()
            .and_then(|e| e.get("persistedQuery"))
            .and_then(|p| p.get("sha256Hash"))
            .and_then(|h| h.as_str());
        apq.or_else(|| self.document_id.as_deref()?.strip_prefix("sha256:"))
    }

    /// The request to execute: its document resolved and parsed once,
    /// checked (over GET, not a mutation; its shape within the limits).
    pub(crate) fn ready(
        mut self,
        documents: &Documents,
        limits: &HttpLimits,
        over_get: bool,
    ) -> Result<Request, Refused> {
        let hash = self.hash().map(str::to_owned);
        let query = self.query.take().filter(|q| !q.is_empty());
        let query = documents
            .resolve(query, hash.as_deref())
            .map_err(|m| match m {
                Missing::NoDocument => Refused::Http(Refusal::bad_request(
                    "The request has no `query` (or persisted document)",
                )),
                Missing::WrongHash => Refused::Http(Refusal::bad_request(
                    "The document is not the one its persistedQuery hash names",
                )),
                Missing::NotFound => Refused::NotFound(with_code(
                    ServerError::new("PersistedQueryNotFound", None),
                    Code::PersistedQueryNotFound,
                )),
            })?;
        let variables = match self.variables {
            None | Some(serde_json::Value::Null) => Variables::default(),
            Some(v @ serde_json::Value::Object(_)) => Variables::from_json(v),
            Some(_) => {
                return Err(Refused::Http(Refusal::bad_request(
                    "`variables` must be an object",
                )))
            }
        };
        let mut request = Request::new(query).variables(variables);
        request.operation_name = self.operation_name;
        if let Some(ext) = self.extensions {
            for (k, v) in ext {
                if let Ok(v) = async_graphql::Value::from_json(v) {
                    request.extensions.insert(k, v);
                }
            }
        }
        let operation = request.operation_name.clone();
        let doc = request
            .parsed_query()
            .map_err(|e| Refused::Document(with_code(e, Code::GraphqlParseFailed)))?;
        if over_get && is_mutation(doc, operation.as_deref()) {
            return Err(Refused::Http(Refusal::mutation_over_get()));
        }
        limits.shape.check(doc).map_err(Refused::Document)?;
        Ok(request)
    }
}

/// Whether the operation a document would run is a mutation.
fn is_mutation(doc: &ExecutableDocument, name: Option<&str>) -> bool {
    operations_named(doc, name).any(|(_, ty)| ty == OperationType::Mutation)
}

/// The operations `operationName` may select, with their names and types:
/// the one so named, or, with no name given, all of them.
pub(crate) fn operations_named<'a>(
    doc: &'a ExecutableDocument,
    name: Option<&'a str>,
) -> impl Iterator<Item = (Option<&'a str>, OperationType)> + 'a {
    doc.operations
        .iter()
        .map(|(op_name, op)| (op_name.map(|n| n.as_str()), op.node.ty))
        .filter(move |(op_name, _)| name.is_none() || *op_name == name)
}
