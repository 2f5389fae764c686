//! OpenTelemetry traces (`--features otlp`): the server binary exports its
//! spans over OTLP/HTTP to a real receiver on port 0, which decodes the
//! protobuf export. Run: `cargo test --features otlp --test api otlp`.

use actix_web::{web, App, HttpResponse, HttpServer};
use opentelemetry_proto::tonic::{
    collector::trace::v1::ExportTraceServiceRequest, common::v1::any_value::Value as Any,
};
use prost::Message;
use serde_json::json;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::helpers::{team, ServerProcess};
use crate::receiver::Receiver;

/// A span as exported, ids in hex.
#[derive(Debug, Clone)]
struct Exported {
    name: String,
    trace_id: String,
    span_id: String,
    parent_span_id: String,
    attributes: HashMap<String, String>,
    service: String,
}

/// An OTLP/HTTP endpoint: `POST /v1/traces` with a protobuf export.
struct Collector {
    endpoint: String,
    spans: Arc<Mutex<Vec<Exported>>>,
    server: actix_web::dev::ServerHandle,
}

impl Collector {
    fn start() -> Self {
        let spans = Arc::new(Mutex::new(Vec::new()));
        let shared = web::Data::new(spans.clone());
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(shared.clone())
                .route("/v1/traces", web::post().to(export))
        })
        .workers(1)
        .listen(listener)
        .unwrap()
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        Self {
            endpoint: format!("http://127.0.0.1:{port}"),
            spans,
            server: handle,
        }
    }

    /// The span of the GraphQL operation named `name`.
    async fn operation(&self, name: &str) -> Exported {
        self.span(|s| {
            s.attributes
                .get("graphql.operation.name")
                .map(String::as_str)
                == Some(name)
        })
        .await
    }

    /// Waits up to 10 s for a span that `wanted` accepts.
    async fn span(&self, wanted: impl Fn(&Exported) -> bool) -> Exported {
        for _ in 0..200 {
            if let Some(s) = self.spans.lock().unwrap().iter().find(|s| wanted(s)) {
                return s.clone();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "no such span was exported; got {:#?}",
            self.spans.lock().unwrap()
        );
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        let server = self.server.clone();
        tokio::spawn(async move { server.stop(false).await });
    }
}

async fn export(body: web::Bytes, spans: web::Data<Arc<Mutex<Vec<Exported>>>>) -> HttpResponse {
    let Ok(request) = ExportTraceServiceRequest::decode(body) else {
        return HttpResponse::BadRequest().finish();
    };
    let text = |v: &Option<opentelemetry_proto::tonic::common::v1::AnyValue>| match v
        .as_ref()
        .and_then(|v| v.value.as_ref())
    {
        Some(Any::StringValue(s)) => s.clone(),
        Some(Any::IntValue(i)) => i.to_string(),
        Some(Any::BoolValue(b)) => b.to_string(),
        other => format!("{other:?}"),
    };
    let mut got = spans.lock().unwrap();
    for resource in request.resource_spans {
        let service = resource
            .resource
            .iter()
            .flat_map(|r| &r.attributes)
            .find(|a| a.key == "service.name")
            .map(|a| text(&a.value))
            .unwrap_or_default();
        for span in resource.scope_spans.into_iter().flat_map(|s| s.spans) {
            got.push(Exported {
                name: span.name,
                trace_id: hex(&span.trace_id),
                span_id: hex(&span.span_id),
                parent_span_id: hex(&span.parent_span_id),
                attributes: span
                    .attributes
                    .iter()
                    .map(|a| (a.key.clone(), text(&a.value)))
                    .collect(),
                service: service.clone(),
            });
        }
    }
    // An empty ExportTraceServiceResponse.
    HttpResponse::Ok()
        .content_type("application/x-protobuf")
        .finish()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

const TRACE: &str = "0af7651916cd43dd8448eb211c80319c";
const CALLER_SPAN: &str = "b7ad6b7169203331";

fn traced_server(db_url: &str, collector: &Collector, env: &[(&str, &str)]) -> ServerProcess {
    let mut all = vec![
        ("OTEL_EXPORTER_OTLP_ENDPOINT", collector.endpoint.as_str()),
        // Export within a moment rather than every 5 s.
        ("OTEL_BSP_SCHEDULE_DELAY", "50"),
    ];
    all.extend_from_slice(env);
    ServerProcess::start(db_url, &all)
}

#[tokio::test]
async fn a_request_span_carries_the_callers_trace_and_the_graphql_operation() {
    let t = team().await;
    let collector = Collector::start();
    let server = traced_server(&t.app.db_url, &collector, &[("MAIL_WORKER", "false")]);
    let res = reqwest::Client::new()
        .post(format!("{}/graphql", server.base))
        .bearer_auth(&t.ada.token)
        .header("traceparent", format!("00-{TRACE}-{CALLER_SPAN}-01"))
        .json(&json!({ "query": "query Mine { me { email } }", "operationName": "Mine" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);

    let span = collector.operation("Mine").await;
    assert_eq!(span.name, "POST /graphql");
    assert_eq!(span.attributes["graphql.operation.type"], "query");
    assert_eq!(span.attributes["http.response.status_code"], "200");
    assert_eq!(span.trace_id, TRACE, "the caller's trace");
    assert_eq!(
        span.parent_span_id, CALLER_SPAN,
        "a child of the caller's span"
    );
    assert_eq!(span.service, "invitations");
}

#[tokio::test]
async fn a_webhook_delivery_carries_the_trace_of_the_request_that_caused_it() {
    let t = team().await;
    let receiver = Receiver::start();
    t.app
        .ok(
            &t.ada,
            // CREATED only: the mail worker's EMAIL_SENT, recorded outside
            // any request, has no trace to carry.
            "mutation($ws: ID!, $url: String!) { createWebhook(workspaceId: $ws, url: $url, events: [CREATED]) { secret } }",
            json!({ "ws": t.ws, "url": receiver.url }),
        )
        .await;
    let collector = Collector::start();
    // This process's workers deliver: to 127.0.0.1, and mail to files.
    let mail_dir = std::env::temp_dir().join(format!("otlp-mail-{}", uuid::Uuid::new_v4()));
    let server = traced_server(
        &t.app.db_url,
        &collector,
        &[
            ("WEBHOOK_ALLOW_PRIVATE", "true"),
            ("MAIL_DIR", mail_dir.to_str().unwrap()),
        ],
    );
    let res = reqwest::Client::new()
        .post(format!("{}/graphql", server.base))
        .bearer_auth(&t.ada.token)
        .header("traceparent", format!("00-{TRACE}-{CALLER_SPAN}-01"))
        .json(&json!({
            "query": "mutation Invite($ws: ID!) { createInvitation(workspaceId: $ws, email: \"carol@acme.test\") { id } }",
            "variables": { "ws": t.ws },
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);

    let delivered = receiver.wait_for(1, Duration::from_secs(20)).await;
    let parent = &delivered
        .first()
        .expect("the webhook was called")
        .traceparent;
    let parts: Vec<&str> = parent.split('-').collect();
    assert_eq!(parts.len(), 4, "{parent}");
    assert_eq!(parts[1], TRACE, "the request's trace");
    let request = collector.operation("Invite").await;
    assert_eq!(request.attributes["graphql.operation.type"], "mutation");
    assert_eq!(
        parts[2], request.span_id,
        "sent as a child of the request's span"
    );
    drop(server);
    let _ = std::fs::remove_dir_all(mail_dir);
}
