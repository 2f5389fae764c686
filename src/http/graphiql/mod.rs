//! GraphiQL, served from the binary with its own assets (no CDN): it loads
//! with no network, under a strict Content-Security-Policy. `GET /graphql`
//! from a browser asking for HTML gets the page; its assets are under
//! `/graphiql/`, cached for a year (their URLs change with their content).

use actix_web::{http::header, web, HttpRequest, HttpResponse};
use std::sync::OnceLock;

/// The assets: name, media type, bytes.
const ASSETS: &[(&str, &str, &[u8])] = &[
    (
        "graphiql.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("assets/graphiql.min.js"),
    ),
    (
        "graphiql.min.css",
        "text/css; charset=utf-8",
        include_bytes!("assets/graphiql.min.css"),
    ),
    (
        "react.production.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("assets/react.production.min.js"),
    ),
    (
        "react-dom.production.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("assets/react-dom.production.min.js"),
    ),
    (
        "graphql-ws.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("assets/graphql-ws.min.js"),
    ),
    (
        "init.js",
        "text/javascript; charset=utf-8",
        include_bytes!("assets/init.js"),
    ),
    (
        "page.css",
        "text/css; charset=utf-8",
        include_bytes!("assets/page.css"),
    ),
];

/// Only this server's own scripts and styles; data URIs for GraphiQL's
/// fonts and icons; requests to this origin only.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    font-src 'self' data:; img-src 'self' data:; connect-src 'self'; \
    base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// Whether a GET is a browser opening the page (not a query).
pub(crate) fn wanted(req: &HttpRequest) -> bool {
    let wants_html = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"));
    let is_query = req.query_string().split('&').any(|p| {
        matches!(
            p.split('=').next(),
            Some("query" | "extensions" | "documentId")
        )
    });
    wants_html && !is_query
}

/// A version of all the assets, so that a new build's URLs change.
fn version() -> &'static str {
    static VERSION: OnceLock<String> = OnceLock::new();
    VERSION.get_or_init(|| {
        // FNV-1a: stable across builds and platforms, unlike std's hasher.
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for (_, _, bytes) in ASSETS {
            for b in bytes.iter() {
                hash ^= u64::from(*b);
                hash = hash.wrapping_mul(0x0100_0000_01b3);
            }
        }
        format!("{hash:016x}")
    })
}

pub(crate) fn page() -> HttpResponse {
    let v = version();
    let page = format!(
        r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Invitations GraphiQL</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/graphiql/graphiql.min.css?v={v}">
<link rel="stylesheet" href="/graphiql/page.css?v={v}">
</head>
<body>
<div id="graphiql">Loading GraphiQL…</div>
<script src="/graphiql/react.production.min.js?v={v}"></script>
<script src="/graphiql/react-dom.production.min.js?v={v}"></script>
<script src="/graphiql/graphql-ws.min.js?v={v}"></script>
<script src="/graphiql/graphiql.min.js?v={v}"></script>
<script src="/graphiql/init.js?v={v}"></script>
</body>
</html>
"#
    );
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CONTENT_SECURITY_POLICY, CSP))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(page)
}

/// `GET /graphiql/{name}`.
pub(crate) async fn asset(name: web::Path<String>) -> HttpResponse {
    match ASSETS.iter().find(|(n, _, _)| *n == name.as_str()) {
        Some((_, media_type, bytes)) => HttpResponse::Ok()
            .content_type(*media_type)
            .insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"))
            .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
            .body(*bytes),
        None => HttpResponse::NotFound().finish(),
    }
}
