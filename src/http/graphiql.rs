//! GraphiQL, for a browser asking `GET /graphql` for HTML.

use actix_web::{http::header, HttpRequest, HttpResponse};
use async_graphql::http::GraphiQLSource;

/// Whether a GET is a browser opening the page (not a query).
pub(crate) fn wanted(req: &HttpRequest) -> bool {
    let wants_html = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"));
    wants_html && !req.query_string().contains("query=")
}

pub(crate) fn page() -> HttpResponse {
    let page = GraphiQLSource::build()
        .endpoint("/graphql")
        .title("Invitations GraphiQL")
        .finish();
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(page)
}
