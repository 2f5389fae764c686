//! Metrics, statement counts, compression and persisted queries.

use crate::helpers::{spawn_app, spawn_app_with, TestApp};
use serde_json::{json, Value};
use std::io::Read;

#[tokio::test]
async fn the_benchmark_requests_make_4_and_5_statements_whatever_the_page_size() {
    let app = crate::helpers::spawn_app_with(|s| s.invite_rate_per_inviter = 0).await;
    let ada = app.user("ada@acme.test");
    let ws = app.create_workspace(&ada, "Acme", &["acme.test"]).await;
    let sent = "{ sentInvitations(first: 50) { nodes { id status email created creator { name handle } workspace { name } } } }";
    let owner = "query($ws: ID!) { workspace(id: $ws) { invitations(first: 50) { totalCount nodes { email creator { name } } } } }";
    let mut made = 0;
    for target in [1, 10, 50] {
        while made < target {
            app.invited(&ada, &ws, &format!("u{made}@acme.test")).await;
            made += 1;
        }
        // Profile, page, creators, workspaces.
        assert_eq!(
            app.fewest_statements(&ada, sent, json!({})).await,
            4,
            "sentInvitations with {target}"
        );
        // Profile, membership with workspace, count, page, creators.
        assert_eq!(
            app.fewest_statements(&ada, owner, json!({ "ws": ws }))
                .await,
            5,
            "workspace invitations with {target}"
        );
    }
}

/// Checks the Prometheus text format line by line; returns the samples.
fn parse_prometheus(text: &str) -> Vec<(String, f64)> {
    let mut samples = Vec::new();
    for line in text.lines().filter(|l| !l.is_empty()) {
        if let Some(comment) = line.strip_prefix("# ") {
            assert!(
                ["HELP ", "TYPE ", "UNIT ", "EOF"]
                    .iter()
                    .any(|p| comment.starts_with(p)),
                "bad comment line: {line}"
            );
            continue;
        }
        let (series, value) = line
            .rsplit_once(' ')
            .unwrap_or_else(|| panic!("bad line: {line}"));
        let value: f64 = value
            .parse()
            .unwrap_or_else(|_| panic!("bad value: {line}"));
        let name_end = series.find('{').unwrap_or(series.len());
        assert!(
            series[..name_end]
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b':'),
            "bad name: {line}"
        );
        if name_end < series.len() {
            assert!(series.ends_with('}'), "bad labels: {line}");
        }
        samples.push((series.to_owned(), value));
    }
    samples
}

async fn scrape(app: &TestApp) -> Vec<(String, f64)> {
    let res = app
        .client
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    parse_prometheus(&res.text().await.unwrap())
}

fn value(samples: &[(String, f64)], series: &str) -> f64 {
    samples
        .iter()
        .find(|(s, _)| s == series)
        .map_or(0.0, |(_, v)| *v)
}

#[tokio::test]
async fn metrics_parse_as_prometheus_text_and_move_with_requests_and_emails() {
    let app = spawn_app().await;
    let ada = app.user("ada@acme.test");
    let before = scrape(&app).await;
    let ws = app.create_workspace(&ada, "Acme", &["acme.test"]).await;
    // Clients such as Apollo send the operation's name alongside it.
    let named = json!({ "query": "query Me { me { id } }", "operationName": "Me" });
    for token in [Some(&ada.token), Some(&ada.token), Some(&ada.token), None] {
        let mut req = app
            .client
            .post(format!("{}/graphql", app.base))
            .json(&named);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        assert_eq!(req.send().await.unwrap().status(), 200);
    }
    app.invited(&ada, &ws, "carol@acme.test").await;
    // Send the email through the app's own metrics.
    let worker = app
        .worker(invitations::mail::Mailer::Memory(Default::default()))
        .with_metrics(app.metrics.email_delivery());
    assert_eq!(
        worker.step(invitations::clock::now()).await.unwrap().sent,
        1
    );

    let after = scrape(&app).await;
    let me_ok = r#"invitations_http_requests_total{operation="Me",status="200"}"#;
    assert_eq!(value(&after, me_ok) - value(&before, me_ok), 4.0);
    let unauth = r#"invitations_graphql_errors_total{code="UNAUTHENTICATED"}"#;
    assert_eq!(value(&after, unauth), 1.0);
    assert!(
        value(&after, "invitations_sql_statements_total")
            > value(&before, "invitations_sql_statements_total")
    );
    assert_eq!(value(&after, "invitations_emails_sent_total"), 1.0);
    assert_eq!(
        value(&after, r#"invitations_outbox_rows{status="SENT"}"#),
        1.0
    );
    assert!(after
        .iter()
        .any(|(s, _)| s.starts_with("invitations_db_pool_connections{state=\"idle\"}")));
    assert!(after
        .iter()
        .any(|(s, _)| s.starts_with("invitations_http_request_duration_seconds_bucket{")));
    assert!(after
        .iter()
        .any(|(s, _)| s.starts_with("invitations_email_send_duration_seconds_count")));
}

#[tokio::test]
async fn responses_are_compressed_with_gzip_or_brotli_when_asked() {
    let app = spawn_app().await;
    let ada = app.user("ada@acme.test");
    let query = json!({ "query": "{ __schema { types { name fields { name } } } }" });
    for encoding in ["gzip", "br"] {
        let res = app
            .client
            .post(format!("{}/graphql", app.base))
            .bearer_auth(&ada.token)
            .header("accept-encoding", encoding)
            .json(&query)
            .send()
            .await
            .unwrap();
        assert_eq!(res.headers()["content-encoding"], encoding);
        let bytes = res.bytes().await.unwrap();
        let mut plain = Vec::new();
        match encoding {
            "gzip" => flate2::read::GzDecoder::new(&bytes[..])
                .read_to_end(&mut plain)
                .unwrap(),
            _ => brotli::Decompressor::new(&bytes[..], 4096)
                .read_to_end(&mut plain)
                .unwrap(),
        };
        let body: Value = serde_json::from_slice(&plain).unwrap();
        assert!(body["data"]["__schema"]["types"].as_array().unwrap().len() > 10);
    }
}

#[tokio::test]
async fn automatic_persisted_queries_round_trip() {
    let app = spawn_app().await;
    let ada = app.user("ada@acme.test");
    let query = "{ me { email } }";
    let hash: String = ring::digest::digest(&ring::digest::SHA256, query.as_bytes())
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let ext = json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } });
    let post = |body: Value| {
        let req = app
            .client
            .post(format!("{}/graphql", app.base))
            .bearer_auth(&ada.token)
            .json(&body);
        async move { req.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let unknown = post(json!({ "extensions": ext })).await;
    assert_eq!(
        unknown["errors"][0]["message"], "PersistedQueryNotFound",
        "{unknown}"
    );
    let registered = post(json!({ "query": query, "extensions": ext })).await;
    assert_eq!(registered["data"]["me"]["email"], "ada@acme.test");
    let by_hash = post(json!({ "extensions": ext })).await;
    assert_eq!(by_hash["data"]["me"]["email"], "ada@acme.test", "{by_hash}");
}

#[tokio::test]
async fn metrics_show_the_build_and_the_process() {
    let app = spawn_app().await;
    let samples = scrape(&app).await;
    let version = env!("CARGO_PKG_VERSION");
    assert_eq!(
        value(
            &samples,
            &format!("invitations_build_info{{version=\"{version}\"}}")
        ),
        1.0
    );
    assert!(value(&samples, "process_resident_memory_bytes") > 1e6);
    assert!(value(&samples, "process_open_fds") > 3.0);
    assert!(samples
        .iter()
        .any(|(s, _)| s == "process_cpu_seconds_total"));
}

#[tokio::test]
async fn a_request_refused_before_it_is_read_is_counted() {
    let app = spawn_app().await;
    let refused = app
        .client
        .post(format!("{}/graphql", app.base))
        .header("content-type", "text/plain")
        .body("{ me { id } }")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 415);
    let samples = scrape(&app).await;
    assert_eq!(
        value(
            &samples,
            "invitations_http_requests_total{operation=\"refused\",status=\"415\"}"
        ),
        1.0
    );
}

#[tokio::test]
async fn with_metrics_addr_the_metrics_leave_the_public_port() {
    let app = spawn_app_with(|s| s.metrics_addr = Some("127.0.0.1:0".parse().unwrap())).await;
    let public = app
        .client
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(public.status(), 404);
    let apart = app
        .client
        .get(format!("{}/metrics", app.metrics_base.as_ref().unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(apart.status(), 200);
    assert!(apart
        .text()
        .await
        .unwrap()
        .contains("invitations_build_info"));
}

#[tokio::test]
async fn records_of_the_log_crate_reach_the_log() {
    let dir = std::env::temp_dir().join(format!("invitations-log-{}", uuid::Uuid::new_v4()));
    let db = format!("sqlite://{}/inv.db?mode=rwc", dir.display());
    std::fs::create_dir_all(&dir).unwrap();
    let server =
        crate::helpers::ServerProcess::start(&db, &[("MAIL_DIR", "/tmp/invitations-log-mail")]);
    // actix-server logs its start through the `log` crate.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let found = loop {
        let found = server
            .log
            .lock()
            .unwrap()
            .iter()
            .any(|l| l.contains("\"target\":\"actix_server"));
        if found || std::time::Instant::now() > deadline {
            break found;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    drop(server);
    std::fs::remove_dir_all(dir).ok();
    assert!(found, "no actix_server record in the JSON log");
}
