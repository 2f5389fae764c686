//! OpenTelemetry traces over OTLP/HTTP (protobuf), configured by the
//! standard variables: `OTEL_EXPORTER_OTLP_ENDPOINT` (or
//! `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`), `OTEL_SERVICE_NAME`,
//! `OTEL_BSP_SCHEDULE_DELAY` and the rest the SDK reads. The spans are the
//! ones the server already has (`tracing`), turned into OpenTelemetry spans
//! by `tracing-opentelemetry`; trace context is W3C `traceparent`.

use actix_web::http::header::HeaderMap;
use opentelemetry::{
    propagation::{Extractor, TextMapPropagator},
    trace::TracerProvider,
};
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::{propagation::TraceContextPropagator, trace::SdkTracerProvider, Resource};
use std::collections::HashMap;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::{filter::Targets, Layer, Registry};

// The test's receiver decodes the export with these; the server does not
// need them itself.
use opentelemetry_proto as _;
use prost as _;

pub(super) struct Exporter {
    provider: SdkTracerProvider,
    pub(super) endpoint: String,
}

impl Exporter {
    /// An exporter when an OTLP endpoint is configured.
    pub(super) fn from_env() -> Option<Self> {
        let endpoint = [
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
            "OTEL_EXPORTER_OTLP_ENDPOINT",
        ]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|e| !e.is_empty()))?;
        let exporter = match opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
            .build()
        {
            Ok(e) => e,
            Err(e) => {
                eprintln!("invitations: no trace export to {endpoint}: {e}");
                return None;
            }
        };
        let service = std::env::var("OTEL_SERVICE_NAME").unwrap_or_else(|_| "invitations".into());
        let provider = SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_resource(
                Resource::builder()
                    .with_service_name(service)
                    .with_attribute(opentelemetry::KeyValue::new(
                        "service.version",
                        env!("CARGO_PKG_VERSION"),
                    ))
                    .build(),
            )
            .build();
        Some(Self { provider, endpoint })
    }

    /// The layer that turns spans into OpenTelemetry spans. The exporter's
    /// own HTTP client is left out, so exporting does not trace itself.
    pub(super) fn layer(&self) -> Box<dyn Layer<Registry> + Send + Sync> {
        let quiet = Targets::new()
            .with_default(tracing::Level::TRACE)
            .with_target("opentelemetry", tracing::level_filters::LevelFilter::OFF)
            .with_target("reqwest", tracing::level_filters::LevelFilter::OFF)
            .with_target("hyper", tracing::level_filters::LevelFilter::OFF)
            .with_target("hyper_util", tracing::level_filters::LevelFilter::OFF)
            .with_target("h2", tracing::level_filters::LevelFilter::OFF);
        tracing_opentelemetry::layer()
            .with_tracer(self.provider.tracer("invitations"))
            .with_filter(quiet)
            .boxed()
    }
}

impl Drop for Exporter {
    fn drop(&mut self) {
        // Sends the spans still waiting in the batch.
        if let Err(e) = self.provider.shutdown() {
            eprintln!("invitations: the last traces were not exported: {e}");
        }
    }
}

struct Headers<'a>(&'a HeaderMap);

impl Extractor for Headers<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|k| k.as_str()).collect()
    }
}

pub(super) fn adopt_parent(span: &tracing::Span, headers: &HeaderMap) {
    let parent = TraceContextPropagator::new().extract(&Headers(headers));
    let _ = span.set_parent(parent);
}

pub(super) fn traceparent() -> Option<String> {
    let mut carrier = HashMap::new();
    TraceContextPropagator::new().inject_context(&tracing::Span::current().context(), &mut carrier);
    carrier.remove("traceparent")
}
