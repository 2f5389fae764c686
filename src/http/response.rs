//! Writing GraphQL responses: the media type the client speaks, the HTTP
//! status of request errors, and the edge's own refusals (malformed bodies,
//! limits), each a GraphQL error with a code.

use actix_web::Responder;
use actix_web::{
    http::{header, StatusCode},
    HttpRequest, HttpResponse,
};
use async_graphql::{BatchResponse, Response, ServerError};
use async_graphql_actix_web::GraphQLResponse;

use crate::graphql::errors::{coded, Code};

/// A request the edge refused before GraphQL saw it.
#[derive(Debug)]
pub(crate) struct Refusal {
    pub status: StatusCode,
    pub code: Code,
    pub message: String,
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

    pub(crate) fn timed_out() -> Self {
        Self {
            status: StatusCode::SERVICE_UNAVAILABLE,
            code: Code::InternalServerError,
            message: "The request took too long".into(),
        }
    }

    /// The response: one error and no data, as GraphQL clients expect.
    pub(crate) fn into_response(self, request_id: &str) -> HttpResponse {
        let mut err = coded(self.message, self.code);
        if self.code == Code::InternalServerError {
            err.extensions
                .get_or_insert_with(Default::default)
                .set("requestId", request_id);
        }
        let mut res = HttpResponse::build(self.status).json(Response::from_errors(vec![err]));
        if self.status == StatusCode::METHOD_NOT_ALLOWED {
            res.headers_mut()
                .insert(header::ALLOW, header::HeaderValue::from_static("POST"));
        }
        res
    }
}

const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";

/// Whether the client speaks the GraphQL-over-HTTP media type; then request
/// errors (unparsable or invalid documents) get 4xx statuses.
fn wants_graphql_response(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains(GRAPHQL_RESPONSE))
}

/// A response refused before execution (a shape limit, an unparsable
/// document).
pub(crate) fn request_error(req: &HttpRequest, err: ServerError) -> HttpResponse {
    let status = if wants_graphql_response(req) {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    with_media_type(
        req,
        HttpResponse::build(status).json(Response::from_errors(vec![err])),
    )
}

/// An executed response; `codes` are its errors' codes.
pub(crate) fn executed(req: &HttpRequest, response: BatchResponse, codes: &[Code]) -> HttpResponse {
    let request_error =
        matches!(response, BatchResponse::Single(_)) && codes.iter().any(|c| c.is_request_error());
    let mut res = GraphQLResponse::from(response)
        .respond_to(req)
        .map_into_boxed_body();
    if request_error && wants_graphql_response(req) {
        *res.status_mut() = StatusCode::BAD_REQUEST;
    }
    with_media_type(req, res)
}

fn with_media_type(req: &HttpRequest, mut res: HttpResponse) -> HttpResponse {
    if wants_graphql_response(req) {
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            header::HeaderValue::from_static("application/graphql-response+json; charset=utf-8"),
        );
    }
    res
}
