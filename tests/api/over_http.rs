//! SPEC Part 2 "Partial results and HTTP": the media type a client gets,
//! the status of request errors, caching, persisted queries and trusted
//! documents, and the cost of a query.

use crate::helpers::{code, spawn_app, spawn_app_with, TestApp, User};
use reqwest::header::{ACCEPT, CACHE_CONTROL, CONTENT_TYPE};
use serde_json::{json, Value};

const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";

async fn post_with_accept(
    app: &TestApp,
    user: Option<&User>,
    accept: Option<&str>,
    body: Value,
) -> (u16, String, Value, reqwest::header::HeaderMap) {
    let mut req = app.client.post(format!("{}/graphql", app.base)).json(&body);
    if let Some(a) = accept {
        req = req.header(ACCEPT, a);
    }
    if let Some(u) = user {
        req = req.bearer_auth(&u.token);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let ct = headers[CONTENT_TYPE].to_str().unwrap().to_owned();
    (status, ct, res.json().await.unwrap_or(Value::Null), headers)
}

#[tokio::test]
async fn json_is_the_media_type_for_json_any_or_no_accept() {
    let app = spawn_app().await;
    let body = json!({ "query": "{ __typename }" });
    for accept in [
        Some("application/json"),
        Some("*/*"),
        None,
        Some("text/html"),
    ] {
        let (status, ct, _, _) = post_with_accept(&app, None, accept, body.clone()).await;
        assert_eq!(status, 200, "{accept:?}");
        assert!(ct.starts_with("application/json"), "{accept:?}: {ct}");
    }
}

#[tokio::test]
async fn graphql_response_json_is_the_media_type_when_the_client_prefers_it() {
    let app = spawn_app().await;
    let body = json!({ "query": "{ __typename }" });
    for accept in [
        GRAPHQL_RESPONSE,
        "application/graphql-response+json, application/json",
        "application/json;q=0.9, application/graphql-response+json",
    ] {
        let (_, ct, _, _) = post_with_accept(&app, None, Some(accept), body.clone()).await;
        assert!(ct.starts_with(GRAPHQL_RESPONSE), "{accept}: {ct}");
    }
    let (_, ct, _, _) = post_with_accept(
        &app,
        None,
        Some("application/graphql-response+json;q=0.5, application/json"),
        body,
    )
    .await;
    assert!(ct.starts_with("application/json"), "q-values count: {ct}");
}

#[tokio::test]
async fn a_request_error_is_4xx_without_data_for_graphql_response_json_and_200_for_json() {
    let app = spawn_app().await;
    let ada = app.user("ada@acme.test");
    for query in ["{ me { ", "{ nope }"] {
        let body = json!({ "query": query });
        let (status, _, json_body, _) =
            post_with_accept(&app, Some(&ada), Some("application/json"), body.clone()).await;
        assert_eq!(status, 200, "{query}");
        assert!(json_body["errors"].is_array());
        let (status, _, gr_body, _) =
            post_with_accept(&app, Some(&ada), Some(GRAPHQL_RESPONSE), body).await;
        assert_eq!(status, 400, "{query}");
        assert!(gr_body.get("data").is_none(), "no data entry: {gr_body}");
        assert!(gr_body["errors"].is_array());
    }
    // A field error is not a request error.
    let (status, _, body, _) = post_with_accept(
        &app,
        None,
        Some(GRAPHQL_RESPONSE),
        json!({ "query": "{ me { id } }" }),
    )
    .await;
    assert_eq!((status, code(&body)), (200, "UNAUTHENTICATED"));
}

#[tokio::test]
async fn a_request_without_a_query_is_400() {
    let app = spawn_app().await;
    let (status, _, body, _) =
        post_with_accept(&app, None, None, json!({ "qeury": "{ __typename }" })).await;
    assert_eq!(status, 400);
    assert_eq!(code(&body), "BAD_USER_INPUT");
}

#[tokio::test]
async fn graphql_answers_are_private_and_never_stored() {
    let app = spawn_app().await;
    let ada = app.user("ada@acme.test");
    let (_, _, _, headers) =
        post_with_accept(&app, Some(&ada), None, json!({ "query": "{ me { id } }" })).await;
    assert_eq!(headers[CACHE_CONTROL], "private, no-store");
    let (_, _, _, headers) = post_with_accept(&app, None, None, json!({ "query": "{" })).await;
    assert_eq!(headers[CACHE_CONTROL], "private, no-store");
    let res = app
        .client
        .get(format!("{}/graphql", app.base))
        .query(&[("query", "{ me { id } }")])
        .bearer_auth(&ada.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()[CACHE_CONTROL], "private, no-store");
}

fn sha256(text: &str) -> String {
    ring::digest::digest(&ring::digest::SHA256, text.as_bytes())
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn persisted(hash: &str) -> Value {
    json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } })
}

#[tokio::test]
async fn an_unknown_persisted_query_is_persisted_query_not_found_with_200_whatever_the_accept() {
    let app = spawn_app().await;
    let ada = app.user("ada@acme.test");
    for accept in [None, Some(GRAPHQL_RESPONSE)] {
        let body = json!({ "extensions": persisted(&sha256("{ me { id } }")) });
        let (status, _, body, _) = post_with_accept(&app, Some(&ada), accept, body).await;
        assert_eq!(status, 200, "{accept:?}");
        assert_eq!(code(&body), "PERSISTED_QUERY_NOT_FOUND");
        assert_eq!(body["errors"][0]["message"], "PersistedQueryNotFound");
    }
}

#[tokio::test]
async fn a_document_with_a_hash_that_is_not_its_sha256_is_refused_and_registers_nothing() {
    let app = spawn_app().await;
    let ada = app.user("ada@acme.test");
    let wrong = sha256("{ __typename }");
    let body = json!({ "query": "{ me { id } }", "extensions": persisted(&wrong) });
    let (status, _, body, _) = post_with_accept(&app, Some(&ada), None, body).await;
    assert_eq!((status, code(&body)), (400, "BAD_USER_INPUT"));
    let (_, _, body, _) = post_with_accept(
        &app,
        Some(&ada),
        None,
        json!({ "extensions": persisted(&wrong) }),
    )
    .await;
    assert_eq!(code(&body), "PERSISTED_QUERY_NOT_FOUND");
}

#[tokio::test]
async fn a_persisted_mutation_is_refused_over_get_like_one_sent_as_text() {
    let app = spawn_app().await;
    let ada = app.user("ada@acme.test");
    let mutation = "mutation { createWorkspace(input: { name: \"Twice\" }) { id } }";
    let ext = persisted(&sha256(mutation));
    let (status, _, body, _) = post_with_accept(
        &app,
        Some(&ada),
        None,
        json!({ "query": mutation, "extensions": ext }),
    )
    .await;
    assert_eq!(status, 200);
    assert!(body.get("errors").is_none(), "{body}");
    let res = app
        .client
        .get(format!("{}/graphql", app.base))
        .query(&[("extensions", ext.to_string())])
        .bearer_auth(&ada.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 405);
    let count = app
        .ok(&ada, "{ workspaces { totalCount } }", json!({}))
        .await;
    assert_eq!(count["workspaces"]["totalCount"], 1, "it ran once");
    // A persisted query runs over GET.
    let query = "{ me { email } }";
    let ext = persisted(&sha256(query));
    post_with_accept(
        &app,
        Some(&ada),
        None,
        json!({ "query": query, "extensions": ext }),
    )
    .await;
    let res = app
        .client
        .get(format!("{}/graphql", app.base))
        .query(&[("extensions", ext.to_string())])
        .bearer_auth(&ada.token)
        .send()
        .await
        .unwrap();
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["data"]["me"]["email"], "ada@acme.test", "{body}");
}

#[tokio::test]
async fn with_trusted_documents_only_those_run_by_hash_or_exact_text() {
    let query = "query Me { me { email } }";
    let path = std::env::temp_dir().join(format!("trusted-{}.json", uuid::Uuid::new_v4()));
    std::fs::write(&path, json!({ sha256(query): query }).to_string()).unwrap();
    let file = path.clone();
    let app = spawn_app_with(move |s| s.graphql_trusted_documents = Some(file.clone())).await;
    std::fs::remove_file(&path).unwrap();
    let ada = app.user("ada@acme.test");
    let send = |body: Value| post_with_accept(&app, Some(&ada), None, body);
    for body in [
        json!({ "extensions": persisted(&sha256(query)) }),
        json!({ "documentId": format!("sha256:{}", sha256(query)) }),
        json!({ "query": query }),
    ] {
        let (_, _, got, _) = send(body.clone()).await;
        assert_eq!(
            got["data"]["me"]["email"], "ada@acme.test",
            "{body} -> {got}"
        );
    }
    for body in [
        json!({ "query": "{ me { email } }" }),
        json!({ "query": "{ __typename }", "extensions": persisted(&sha256("{ __typename }")) }),
    ] {
        let (status, _, got, _) = send(body.clone()).await;
        assert_eq!(
            (status, code(&got)),
            (200, "PERSISTED_QUERY_NOT_FOUND"),
            "{body}"
        );
    }
}

#[tokio::test]
async fn a_query_whose_lists_multiply_beyond_the_cost_limit_is_refused_before_it_runs() {
    let app = spawn_app().await;
    let ada = app.user("ada@acme.test");
    let ws = app.create_workspace(&ada, "Acme", &["acme.test"]).await;
    for i in 0..20 {
        app.invited(&ada, &ws, &format!("u{i}@acme.test")).await;
    }
    let nested = "query($ws: ID!) { workspace(id: $ws) { invitations { nodes { workspace {
        invitations { nodes { workspace { invitations { nodes { workspace {
        invitations { nodes { id } } } } } } } } } } } } }";
    let before = app.statements();
    let (status, _, body, _) = post_with_accept(
        &app,
        Some(&ada),
        Some(GRAPHQL_RESPONSE),
        json!({ "query": nested, "variables": { "ws": ws } }),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(code(&body), "GRAPHQL_VALIDATION_FAILED");
    assert!(body.get("data").is_none());
    assert_eq!(app.statements(), before, "nothing ran");
    // Two levels cost 20 x (1 + 1 + 20 x 2) = 840: within the limit.
    let two = "query($ws: ID!) { workspace(id: $ws) { invitations { nodes { workspace {
        invitations { nodes { id } } } } } } }";
    app.ok(&ada, two, json!({ "ws": ws })).await;
    // first: 100 costs five times the default page.
    let wide = "query($ws: ID!) { workspace(id: $ws) { invitations(first: 100) { nodes { workspace {
        invitations(first: 100) { nodes { workspace { invitations(first: 2) { nodes { id } } } } } } } } } }";
    let body = app.gql(Some(&ada), wide, json!({ "ws": ws })).await;
    assert_eq!(code(&body), "GRAPHQL_VALIDATION_FAILED", "{body}");
}

#[tokio::test]
async fn directives_per_field_are_bounded() {
    let app = spawn_app().await;
    let ada = app.user("ada@acme.test");
    let many = (0..6)
        .map(|_| "@include(if: true)")
        .collect::<Vec<_>>()
        .join(" ");
    let body = app
        .gql(Some(&ada), &format!("{{ me {many} {{ id }} }}"), json!({}))
        .await;
    assert_eq!(code(&body), "GRAPHQL_VALIDATION_FAILED", "{body}");
    app.ok(&ada, "{ me @include(if: true) { id } }", json!({}))
        .await;
}

#[tokio::test]
async fn with_introspection_off_no_field_names_are_suggested() {
    let ada_on = spawn_app().await;
    let body = ada_on
        .gql(
            Some(&ada_on.user("a@acme.test")),
            "{ me { handel } }",
            json!({}),
        )
        .await;
    assert!(body.to_string().contains("Did you mean"), "on: {body}");
    let app = spawn_app_with(|s| s.graphql_introspection = false).await;
    let body = app
        .gql(
            Some(&app.user("a@acme.test")),
            "{ me { handel } }",
            json!({}),
        )
        .await;
    assert_eq!(code(&body), "GRAPHQL_VALIDATION_FAILED");
    assert!(!body.to_string().contains("Did you mean"), "off: {body}");
}
