//! Writing GraphQL responses as the GraphQL-over-HTTP spec has them: the
//! media type negotiated from `Accept` (q-values count), the status
//! (`application/json`: 200 for any well-formed request;
//! `application/graphql-response+json`: 4xx and no `data` for a request
//! error), `Cache-Control: private, no-store`; and the edge's own refusals
//! (malformed bodies, limits), each a GraphQL error with a code.

use actix_web::{
    http::{header, StatusCode},
    HttpRequest, HttpResponse,
};
use async_graphql::{BatchResponse, Response, ServerError};

use crate::graphql::errors::{coded, Code, INTERNAL_MESSAGE};

/// The media types a GraphQL response can have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MediaType {
    Json,
    GraphqlResponse,
}

impl MediaType {
    /// What the client's `Accept` prefers: `application/graphql-response+json`
    /// when it ranks it above `application/json` (or names it and not the
    /// other), `application/json` otherwise, including for no `Accept` and
    /// for `*/*`.
    pub(crate) fn of(req: &HttpRequest) -> Self {
        let accept = req
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        Self::negotiate(accept)
    }

    fn negotiate(accept: &str) -> Self {
        let graphql = quality(accept, "application", "graphql-response+json");
        let json = quality(accept, "application", "json");
        match (graphql, json) {
            // Named outright, and ranked no lower than JSON.
            (Some((q, true)), Some((j, _))) if q >= j && q > 0.0 => MediaType::GraphqlResponse,
            (Some((q, _)), None) if q > 0.0 => MediaType::GraphqlResponse,
            (Some((q, _)), Some((j, _))) if q > j => MediaType::GraphqlResponse,
            _ => MediaType::Json,
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            MediaType::Json => "application/json; charset=utf-8",
            MediaType::GraphqlResponse => "application/graphql-response+json; charset=utf-8",
        }
    }
}

/// The q-value `accept` gives `type/subtype`, from its most specific
/// matching range, and whether that range names the type exactly.
fn quality(accept: &str, ty: &str, subtype: &str) -> Option<(f32, bool)> {
    let mut best: Option<(u8, f32)> = None;
    for range in accept.split(',') {
        let mut parts = range.split(';');
        let Some((t, s)) = parts.next().and_then(|m| m.trim().split_once('/')) else {
            continue;
        };
        let (t, s) = (t.trim().to_ascii_lowercase(), s.trim().to_ascii_lowercase());
        let specificity = match (t.as_str(), s.as_str()) {
            (a, b) if a == ty && b == subtype => 2,
            (a, "*") if a == ty => 1,
            ("*", "*") => 0,
            _ => continue,
        };
        let q = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|v| v.trim().parse::<f32>().ok())
            .unwrap_or(1.0)
            .clamp(0.0, 1.0);
        if best.is_none_or(|(spec, _)| specificity > spec) {
            best = Some((specificity, q));
        }
    }
    best.map(|(spec, q)| (q, spec == 2))
}

/// A request the edge refused before GraphQL saw it.
#[derive(Debug)]
pub(crate) struct Refusal {
    pub(crate) status: StatusCode,
    pub(crate) code: Code,
    pub(crate) message: String,
}

impl Refusal {
    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            code: Code::BadUserInput,
            message: message.into(),
        }
    }

    pub(crate) fn too_large(limit: usize) -> Self {
        Self {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            code: Code::BadUserInput,
            message: format!("The request body is larger than {limit} bytes"),
        }
    }

    pub(crate) fn body_timeout(limit: std::time::Duration) -> Self {
        Self {
            status: StatusCode::REQUEST_TIMEOUT,
            code: Code::BadUserInput,
            message: format!(
                "The request body did not arrive within {} s",
                limit.as_secs()
            ),
        }
    }

    pub(crate) fn unsupported_media_type() -> Self {
        Self {
            status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
            code: Code::BadUserInput,
            message: "POST /graphql takes Content-Type: application/json".into(),
        }
    }

    pub(crate) fn mutation_over_get() -> Self {
        Self {
            status: StatusCode::METHOD_NOT_ALLOWED,
            code: Code::BadUserInput,
            message: "Mutations are only accepted over POST".into(),
        }
    }

    pub(crate) fn database_unavailable() -> Self {
        Self {
            status: StatusCode::SERVICE_UNAVAILABLE,
            code: Code::InternalServerError,
            // Generic, as every internal error's (the log says why).
            message: INTERNAL_MESSAGE.into(),
        }
    }

    pub(crate) fn timed_out() -> Self {
        Self {
            status: StatusCode::SERVICE_UNAVAILABLE,
            code: Code::InternalServerError,
            message: "The request took too long".into(),
        }
    }

    /// The response: one error and no data.
    pub(crate) fn into_response(self, req: &HttpRequest, request_id: &str) -> HttpResponse {
        let mut err = coded(self.message, self.code);
        if self.code == Code::InternalServerError {
            err.extensions
                .get_or_insert_with(Default::default)
                .set("requestId", request_id);
        }
        let mut res = write(req, self.status, &serde_json::json!({ "errors": [err] }));
        if self.status == StatusCode::METHOD_NOT_ALLOWED {
            res.headers_mut()
                .insert(header::ALLOW, header::HeaderValue::from_static("POST"));
        }
        res
    }
}

/// A document refused before execution (it does not parse, or is over a
/// limit): 200 for `application/json`, 400 otherwise; never `data`.
pub(crate) fn request_error(req: &HttpRequest, err: ServerError) -> HttpResponse {
    let status = match MediaType::of(req) {
        MediaType::Json => StatusCode::OK,
        MediaType::GraphqlResponse => StatusCode::BAD_REQUEST,
    };
    write(req, status, &serde_json::json!({ "errors": [err] }))
}

/// A persisted document the server does not have: 200 whatever the
/// `Accept`, so Apollo clients retry with the document.
pub(crate) fn not_found(req: &HttpRequest, err: ServerError) -> HttpResponse {
    write(req, StatusCode::OK, &serde_json::json!({ "errors": [err] }))
}

/// An executed response; `codes` are its errors' codes.
pub(crate) fn executed(req: &HttpRequest, response: BatchResponse, codes: &[Code]) -> HttpResponse {
    let media = MediaType::of(req);
    match response {
        BatchResponse::Single(r)
            if media == MediaType::GraphqlResponse
                && codes.iter().any(|c| c.is_request_error()) =>
        {
            write(req, StatusCode::BAD_REQUEST, &without_data(&r))
        }
        response => write(req, StatusCode::OK, &response),
    }
}

/// A request error's body: the response without its `data` entry.
fn without_data(r: &Response) -> serde_json::Value {
    let mut body = serde_json::to_value(r).unwrap_or_default();
    if let Some(map) = body.as_object_mut() {
        map.remove("data");
    }
    body
}

fn write(req: &HttpRequest, status: StatusCode, body: &impl serde::Serialize) -> HttpResponse {
    let bytes = match serde_json::to_vec(body) {
        Ok(b) => b,
        Err(e) => {
            tracing::error!(error = %e, "could not serialise a response");
            return HttpResponse::InternalServerError().finish();
        }
    };
    HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, MediaType::of(req).content_type()))
        // Every answer depends on the caller.
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .body(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(accept: &str) -> MediaType {
        MediaType::negotiate(accept)
    }

    #[test]
    fn json_without_an_accept_or_for_anything() {
        assert_eq!(n(""), MediaType::Json);
        assert_eq!(n("*/*"), MediaType::Json);
        assert_eq!(n("application/json"), MediaType::Json);
        assert_eq!(n("application/*"), MediaType::Json);
        assert_eq!(n("text/html"), MediaType::Json);
    }

    #[test]
    fn graphql_response_json_when_it_is_preferred() {
        assert_eq!(
            n("application/graphql-response+json"),
            MediaType::GraphqlResponse
        );
        assert_eq!(
            n("application/graphql-response+json, application/json"),
            MediaType::GraphqlResponse
        );
        assert_eq!(
            n("application/json;q=0.9, application/graphql-response+json"),
            MediaType::GraphqlResponse
        );
        assert_eq!(
            n("application/graphql-response+json, */*;q=0.5"),
            MediaType::GraphqlResponse
        );
    }

    #[test]
    fn q_values_count() {
        assert_eq!(
            n("application/graphql-response+json;q=0.5, application/json"),
            MediaType::Json
        );
        assert_eq!(n("application/graphql-response+json;q=0"), MediaType::Json);
        assert_eq!(
            n("application/json;q=0, application/graphql-response+json;q=0.1"),
            MediaType::GraphqlResponse
        );
    }
}
