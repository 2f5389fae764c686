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
async fn graphiql_is_served_to_a_browser_with_its_own_assets_under_a_strict_csp() {
    let app = spawn_app().await;
    let res = app
        .client
        .get(format!("{}/graphql", app.base))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let csp = res.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("script-src 'self'") && csp.contains("connect-src 'self'"),
        "{csp}"
    );
    let page = res.text().await.unwrap();
    assert!(!page.contains("<script>"), "no inline script");
    let assets: Vec<&str> = page
        .split(['"', '\''])
        .filter(|s| s.starts_with("/graphiql/"))
        .collect();
    assert!(assets.len() >= 5, "{page}");
    assert!(
        !page.contains("http://") && !page.contains("https://"),
        "nothing from elsewhere"
    );
    for asset in assets {
        let res = app
            .client
            .get(format!("{}{asset}", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{asset}");
        assert_eq!(
            res.headers()["cache-control"],
            "public, max-age=31536000, immutable",
            "{asset}"
        );
        assert!(!res.bytes().await.unwrap().is_empty(), "{asset}");
    }
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

#[tokio::test]
async fn too_many_aliases_or_root_fields_are_refused() {
    let app = spawn_app().await;
    let ada = app.user("ada@acme.test");
    let aliases: String = (0..31).map(|i| format!("a{i}: me {{ id }} ")).collect();
    let body = app
        .gql(Some(&ada), &format!("{{ {aliases} }}"), json!({}))
        .await;
    assert_eq!(code(&body), "GRAPHQL_VALIDATION_FAILED", "{body}");
    let roots: String = (0..21).map(|_| "me { id } ").collect();
    let body = app
        .gql(Some(&ada), &format!("{{ {roots} }}"), json!({}))
        .await;
    assert_eq!(code(&body), "GRAPHQL_VALIDATION_FAILED", "{body}");
    assert!(app
        .gql(Some(&ada), "{ a: me { id } b: me { id } }", json!({}))
        .await
        .get("errors")
        .is_none());
}

#[tokio::test]
async fn introspection_can_be_turned_off() {
    let app = crate::helpers::spawn_app_with(|s| s.graphql_introspection = false).await;
    let body = app
        .gql(
            Some(&app.user("ada@acme.test")),
            "{ __schema { queryType { name } } }",
            json!({}),
        )
        .await;
    assert!(
        body.get("errors").is_some() || body["data"]["__schema"].is_null(),
        "{body}"
    );
}

#[tokio::test]
async fn graphql_response_json_clients_get_400_for_request_errors() {
    let app = spawn_app().await;
    let ada = app.user("ada@acme.test");
    let send = |query: &'static str| {
        app.client
            .post(format!("{}/graphql", app.base))
            .bearer_auth(&ada.token)
            .header("accept", "application/graphql-response+json")
            .json(&json!({ "query": query }))
            .send()
    };
    let bad = send("{ nope }").await.unwrap();
    assert_eq!(bad.status(), 400);
    assert!(bad.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/graphql-response+json"));
    let good = send("{ me { id } }").await.unwrap();
    assert_eq!(good.status(), 200);
    // A field error is not a request error.
    let unauthenticated = app
        .client
        .post(format!("{}/graphql", app.base))
        .header("accept", "application/graphql-response+json")
        .json(&json!({ "query": "{ me { id } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(unauthenticated.status(), 200);
}

#[tokio::test]
async fn cors_allows_only_the_configured_origins() {
    let app = crate::helpers::spawn_app_with(|s| {
        s.cors_allowed_origins = vec!["https://app.acme.test".into()]
    })
    .await;
    let preflight = |origin: &'static str| {
        app.client
            .request(reqwest::Method::OPTIONS, format!("{}/graphql", app.base))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization, content-type",
            )
            .send()
    };
    let ok = preflight("https://app.acme.test").await.unwrap();
    assert_eq!(
        ok.headers()["access-control-allow-origin"],
        "https://app.acme.test"
    );
    let evil = preflight("https://evil.test").await.unwrap();
    assert!(evil.headers().get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn cors_allows_the_headers_apollo_clients_and_tracing_send() {
    let app = crate::helpers::spawn_app_with(|s| {
        s.cors_allowed_origins = vec!["https://app.acme.test".into()]
    })
    .await;
    let wanted = "authorization, content-type, traceparent, apollo-require-preflight, \
                  x-apollo-operation-name, apollographql-client-name, apollographql-client-version";
    let res = app
        .client
        .request(reqwest::Method::OPTIONS, format!("{}/graphql", app.base))
        .header("origin", "https://app.acme.test")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", wanted)
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.status());
    let allowed = res.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    for h in wanted.split(", ").map(str::trim) {
        assert!(allowed.contains(h), "{h} in {allowed}");
    }
}

#[tokio::test]
async fn no_cors_origin_is_allowed_by_default() {
    let app = spawn_app().await;
    let res = app
        .client
        .request(reqwest::Method::OPTIONS, format!("{}/graphql", app.base))
        .header("origin", "https://app.acme.test")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert!(res.headers().get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn a_request_over_the_timeout_is_answered_with_an_error_and_its_request_id() {
    let app =
        crate::helpers::spawn_app_with(|s| s.request_timeout = std::time::Duration::from_nanos(1))
            .await;
    let res = app
        .client
        .post(format!("{}/graphql", app.base))
        .bearer_auth(&app.user("ada@acme.test").token)
        .header("x-request-id", "slow-1")
        .json(&json!({ "query": "{ me { id } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 503);
    let body: Value = res.json().await.unwrap();
    assert_eq!(code(&body), "INTERNAL_SERVER_ERROR");
    assert_eq!(body["errors"][0]["extensions"]["requestId"], "slow-1");
}
