//! Hostile input: each answered with the right code, the server healthy
//! after.

use crate::helpers::{code, reason, spawn_app, TestApp};
use serde_json::{json, Value};

async fn still_healthy(app: &TestApp) {
    let res = app
        .client
        .get(format!("{}/healthz", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let me = app
        .gql(
            Some(&app.user("health@acme.test")),
            "{ me { id } }",
            json!({}),
        )
        .await;
    assert!(me.get("errors").is_none(), "{me}");
}

async fn raw_post(app: &TestApp, content_type: &str, body: Vec<u8>) -> (u16, Value) {
    let res = app
        .client
        .post(format!("{}/graphql", app.base))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn malformed_bodies_get_4xx_with_a_code() {
    let app = spawn_app().await;
    for (what, ct, body, status) in [
        (
            "malformed JSON",
            "application/json",
            b"{\"query\": ".to_vec(),
            400,
        ),
        ("empty body", "application/json", Vec::new(), 400),
        (
            "invalid UTF-8",
            "application/json",
            vec![b'{', b'"', 0xff, 0xfe, b'"', b'}'],
            400,
        ),
        (
            "wrong content type",
            "text/plain",
            b"{ me { id } }".to_vec(),
            415,
        ),
        (
            "not a GraphQL request",
            "application/json",
            b"[1, 2, 3]".to_vec(),
            400,
        ),
    ] {
        let (got, body) = raw_post(&app, ct, body).await;
        assert_eq!(got, status, "{what}");
        assert_eq!(code(&body), "BAD_USER_INPUT", "{what}");
    }
    still_healthy(&app).await;
}

#[tokio::test]
async fn a_10_mb_body_is_413() {
    let app = spawn_app().await;
    let (status, body) = raw_post(&app, "application/json", vec![b' '; 10 << 20]).await;
    assert_eq!(status, 413);
    assert_eq!(code(&body), "BAD_USER_INPUT");
    still_healthy(&app).await;
}

#[tokio::test]
async fn a_1000_operation_batch_is_refused() {
    let app = spawn_app().await;
    let batch = json!(vec![json!({ "query": "{ __typename }" }); 1000]);
    let (status, body) = raw_post(
        &app,
        "application/json",
        serde_json::to_vec(&batch).unwrap(),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(code(&body), "BAD_USER_INPUT");
    still_healthy(&app).await;
}

#[tokio::test]
async fn a_500_level_nested_query_is_refused() {
    let app = spawn_app().await;
    let nested = (0..500).fold(String::from("name"), |inner, _| {
        format!("ofType {{ {inner} }}")
    });
    let q = format!("{{ __schema {{ types {{ {nested} }} }} }}");
    let body = app.gql(Some(&app.user("a@acme.test")), &q, json!({})).await;
    assert!(
        ["GRAPHQL_PARSE_FAILED", "GRAPHQL_VALIDATION_FAILED"].contains(&code(&body)),
        "{body}"
    );
    still_healthy(&app).await;
}

#[tokio::test]
async fn ten_thousand_aliases_are_refused() {
    let app = spawn_app().await;
    let aliases: String = (0..10_000).map(|i| format!("a{i}: __typename ")).collect();
    let body = app
        .gql(
            Some(&app.user("a@acme.test")),
            &format!("{{ {aliases} }}"),
            json!({}),
        )
        .await;
    assert_eq!(code(&body), "GRAPHQL_VALIDATION_FAILED");
    still_healthy(&app).await;
}

const CREATE: &str = "mutation($input: CreateWorkspaceInput!) { createWorkspace(input: $input) { id name alias domains } }";

#[tokio::test]
async fn huge_strings_and_nul_bytes_are_invalid_names() {
    let app = spawn_app().await;
    let ada = app.user("ada@acme.test");
    for name in ["x".repeat(100 * 1024), "Acme\0Corp".to_owned()] {
        let body = app
            .gql(Some(&ada), CREATE, json!({ "input": { "name": name } }))
            .await;
        assert_eq!(reason(&body), "INVALID_NAME");
    }
    let body = app
        .gql(
            Some(&ada),
            CREATE,
            json!({ "input": { "name": "Acme", "domains": [format!("{}.com", "a".repeat(300))] } }),
        )
        .await;
    assert_eq!(reason(&body), "INVALID_DOMAIN");
    still_healthy(&app).await;
}

#[tokio::test]
async fn sql_metacharacters_are_just_text() {
    let app = spawn_app().await;
    let ada = app.user("ada@acme.test");
    let name = "Robert'); DROP TABLE workspace;--";
    let body = app
        .gql(
            Some(&ada),
            CREATE,
            json!({ "input": { "name": name, "domains": ["acme.test"] } }),
        )
        .await;
    assert_eq!(body["data"]["createWorkspace"]["name"], name);
    let ws = body["data"]["createWorkspace"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // `'` is a legal character of an address's local part.
    let inv = app.invite(&ada, &ws, "o'brien--@acme.test").await;
    assert_eq!(
        inv["data"]["createInvitation"]["email"],
        "o'brien--@acme.test"
    );
    let bad = app
        .invite(&ada, &ws, "x\"; DROP TABLE invitation; --@acme.test")
        .await;
    assert_eq!(reason(&bad), "INVALID_EMAIL");
    let list = app
        .ok(
            &ada,
            "{ workspaces { totalCount } sentInvitations { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(
        (
            list["workspaces"]["totalCount"].clone(),
            list["sentInvitations"]["totalCount"].clone()
        ),
        (json!(1), json!(1))
    );
    still_healthy(&app).await;
}

#[tokio::test]
async fn unicode_look_alikes_and_overlong_addresses_are_refused() {
    let app = spawn_app().await;
    let ada = app.user("ada@acme.test");
    let ws = app.create_workspace(&ada, "Acme", &["acme.test"]).await;
    // Cyrillic 'а' in the local part, then in the domain.
    assert_eq!(
        reason(&app.invite(&ada, &ws, "\u{430}da@acme.test").await),
        "INVALID_EMAIL"
    );
    assert_eq!(
        reason(&app.invite(&ada, &ws, "ada@\u{430}cme.test").await),
        "DOMAIN_NOT_ALLOWED"
    );
    let overlong = format!("{}@acme.test", "a".repeat(300));
    assert_eq!(
        reason(&app.invite(&ada, &ws, &overlong).await),
        "INVALID_EMAIL"
    );
    still_healthy(&app).await;
}

#[tokio::test]
async fn out_of_range_page_sizes_are_refused() {
    let app = spawn_app().await;
    let ada = app.user("ada@acme.test");
    let q = "query($n: Int) { sentInvitations(first: $n) { totalCount } }";
    for n in [json!(-1), json!(101), json!(2_147_483_647)] {
        assert_eq!(
            code(&app.gql(Some(&ada), q, json!({ "n": n })).await),
            "BAD_USER_INPUT",
            "{n}"
        );
    }
    // Beyond 32 bits it is not even an Int.
    let body = app
        .gql(Some(&ada), q, json!({ "n": 99_999_999_999u64 }))
        .await;
    assert!(body.get("errors").is_some(), "{body}");
    still_healthy(&app).await;
}

#[tokio::test]
async fn a_body_that_trickles_in_gets_408_and_frees_the_server() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = crate::helpers::spawn_app_with(|s| {
        s.request_body_timeout = std::time::Duration::from_secs(1)
    })
    .await;
    let addr = app.base.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
    // The server answers once the body is late, and stops reading.
    stream
        .write_all(
            format!(
                "POST /graphql HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
                 Content-Length: 100000\r\nConnection: close\r\n\r\n{{"
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    // A byte now and then, never the whole body.
    let (mut reader, mut writer) = stream.into_split();
    tokio::spawn(async move {
        for _ in 0..50 {
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            if writer.write_all(b" ").await.is_err() {
                break;
            }
        }
    });
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(
        std::time::Duration::from_secs(8),
        reader.read_to_end(&mut answer),
    )
    .await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("BAD_USER_INPUT"), "{answer}");
    still_healthy(&app).await;
}
