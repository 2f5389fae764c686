//! Logs: readable lines for people, JSON for machines; `RUST_LOG` filters.
//! Records of the `log` crate (actix, reqwest, parts of sqlx) are taken in
//! too (tracing-subscriber's `tracing-log`, installed by `try_init`).
//!
//! Traces: in a build with `--features otlp` and `OTEL_EXPORTER_OTLP_ENDPOINT`
//! set, the same spans also go to an OpenTelemetry collector ([`otlp`]).
//! Without the feature the trace functions here do nothing.

use tracing_subscriber::{
    fmt, layer::SubscriberExt, util::SubscriberInitExt, EnvFilter, Layer, Registry,
};

use crate::config::LogFormat;

#[cfg(feature = "otlp")]
mod otlp;

/// Keeps the trace exporter alive; dropping it sends what is left.
#[must_use = "traces stop being exported when this is dropped"]
pub struct Telemetry {
    #[cfg(feature = "otlp")]
    _otlp: Option<otlp::Exporter>,
}

pub fn init(format: LogFormat) -> Telemetry {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn"));
    let logs: Box<dyn Layer<Registry> + Send + Sync> = match format {
        LogFormat::Pretty => fmt::layer().with_writer(std::io::stderr).boxed(),
        LogFormat::Json => fmt::layer()
            .json()
            .flatten_event(true)
            .with_writer(std::io::stderr)
            .boxed(),
    };
    #[cfg(feature = "otlp")]
    let exporter = otlp::Exporter::from_env();
    #[cfg(feature = "otlp")]
    let traces = exporter.as_ref().map(otlp::Exporter::layer);
    #[cfg(not(feature = "otlp"))]
    let traces = None;
    let layers: Vec<_> = std::iter::once(logs).chain(traces).collect();
    // A second init (as in tests) keeps the first subscriber.
    let _ = tracing_subscriber::registry()
        .with(layers.with_filter(filter))
        .try_init();
    #[cfg(feature = "otlp")]
    if let Some(e) = &exporter {
        tracing::info!(endpoint = %e.endpoint, "exporting traces over OTLP");
    }
    Telemetry {
        #[cfg(feature = "otlp")]
        _otlp: exporter,
    }
}

/// Makes the caller's W3C `traceparent` (and `tracestate`) the parent of
/// `span`, so a trace crosses into this server.
pub fn adopt_parent(span: &tracing::Span, headers: &actix_web::http::header::HeaderMap) {
    #[cfg(feature = "otlp")]
    otlp::adopt_parent(span, headers);
    #[cfg(not(feature = "otlp"))]
    let _ = (span, headers);
}

/// The current span's W3C `traceparent`, to send on with work done later
/// on the request's behalf (webhook deliveries); `None` when not tracing.
pub fn traceparent() -> Option<String> {
    #[cfg(feature = "otlp")]
    return otlp::traceparent();
    #[cfg(not(feature = "otlp"))]
    None
}
