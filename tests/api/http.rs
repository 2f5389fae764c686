//! SPEC "HTTP": routes, limits and request ids.

use crate::helpers::{code, spawn_app};
use serde_json::{json, Value};

#[tokio::test]
async fn healthz_and_readyz_answer() {
    let app = spawn_app().await;
    for path in ["/healthz", "/readyz"] {
        let res = app
            .client
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{path}");
    }
}

#[tokio::test]
async fn readyz_is_503_when_the_database_is_gone() {
    let app = spawn_app().await;
    app.db.clone().close().await.unwrap();
    let res = app
        .client
        .get(format!("{}/readyz", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 503);
}

#[tokio::test]
async fn internal_errors_show_a_generic_message_and_the_request_id() {
    let app = spawn_app().await;
    let ada = app.user("ada@acme.test");
    app.db.clone().close().await.unwrap();
    let res = app
        .client
        .post(format!("{}/graphql", app.base))
        .bearer_auth(&ada.token)
        .header("x-request-id", "trace-me-42")
        .json(&json!({ "query": "{ me { id } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-request-id"], "trace-me-42");
    let body: Value = res.json().await.unwrap();
    assert_eq!(code(&body), "INTERNAL_SERVER_ERROR");
    assert_eq!(body["errors"][0]["message"], "Internal server error");
    assert_eq!(body["errors"][0]["extensions"]["requestId"], "trace-me-42");
    let text = body.to_string().to_lowercase();
    assert!(
        !text.contains("sql") && !text.contains("pool"),
        "no internals leak: {text}"
    );
}

#[tokio::test]
async fn queries_work_over_get() {
    let app = spawn_app().await;
    let ada = app.user("ada@acme.test");
    let res = app
        .client
        .get(format!("{}/graphql", app.base))
        .query(&[("query", "{ me { email } }")])
        .bearer_auth(&ada.token)
        .send()
        .await
        .unwrap();
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["data"]["me"]["email"], "ada@acme.test");
}

#[tokio::test]
async fn a_mutation_over_get_is_405() {
    let app = spawn_app().await;
    let ada = app.user("ada@acme.test");
    let res = app
        .client
        .get(format!("{}/graphql", app.base))
        .query(&[(
            "query",
            "mutation { createWorkspace(input: { name: \"x\" }) { id } }",
        )])
        .bearer_auth(&ada.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 405);
    let list = app
        .ok(&ada, "{ workspaces { totalCount } }", json!({}))
        .await;
    assert_eq!(list["workspaces"]["totalCount"], 0, "nothing was created");
}

#[tokio::test]
async fn graphiql_is_served_to_a_browser() {
    let app = spawn_app().await;
    let res = app
        .client
        .get(format!("{}/graphql", app.base))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res
        .text()
        .await
        .unwrap()
        .to_lowercase()
        .contains("graphiql"));
}

#[tokio::test]
async fn batches_of_up_to_10_operations_run_and_larger_ones_are_refused() {
    let app = spawn_app().await;
    let ada = app.user("ada@acme.test");
    let batch = |n: usize| json!(vec![json!({ "query": "{ me { handle } }" }); n]);
    let res = app
        .client
        .post(format!("{}/graphql", app.base))
        .bearer_auth(&ada.token)
        .json(&batch(10))
        .send()
        .await
        .unwrap();
    let body: Value = res.json().await.unwrap();
    assert_eq!(body.as_array().unwrap().len(), 10);
    let res = app
        .client
        .post(format!("{}/graphql", app.base))
        .bearer_auth(&ada.token)
        .json(&batch(11))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.unwrap();
    assert_eq!(code(&body), "BAD_USER_INPUT");
}

#[tokio::test]
async fn bodies_over_1_mib_are_413() {
    let app = spawn_app().await;
    let huge = json!({ "query": format!("{{ __typename }} #{}", "x".repeat(1 << 20)) });
    let res = app
        .client
        .post(format!("{}/graphql", app.base))
        .json(&huge)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 413);
}

#[tokio::test]
async fn malformed_json_is_400_with_a_code() {
    let app = spawn_app().await;
    let res = app
        .client
        .post(format!("{}/graphql", app.base))
        .header("content-type", "application/json")
        .body("{ not json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.unwrap();
    assert_eq!(code(&body), "BAD_USER_INPUT");
}

#[tokio::test]
async fn syntax_errors_and_unknown_fields_carry_graphql_codes() {
    let app = spawn_app().await;
    let ada = app.user("ada@acme.test");
    assert_eq!(
        code(&app.gql(Some(&ada), "{ me { ", json!({})).await),
        "GRAPHQL_PARSE_FAILED"
    );
    assert_eq!(
        code(&app.gql(Some(&ada), "{ nope }", json!({})).await),
        "GRAPHQL_VALIDATION_FAILED"
    );
}

#[tokio::test]
async fn queries_deeper_than_the_limit_are_refused() {
    let app = spawn_app().await;
    let nested = (0..20).fold(String::from("name"), |inner, _| {
        format!("ofType {{ {inner} }}")
    });
    let q = format!("{{ __schema {{ types {{ fields {{ type {{ {nested} }} }} }} }} }}");
    let body = app
        .gql(Some(&app.user("ada@acme.test")), &q, json!({}))
        .await;
    assert_eq!(code(&body), "GRAPHQL_VALIDATION_FAILED", "{body}");
}
