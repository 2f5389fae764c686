//! Logs: readable lines for people, JSON for machines; `RUST_LOG` filters.
//! Records of the `log` crate (actix, reqwest, parts of sqlx) are taken in
//! too (tracing-subscriber's `tracing-log`, installed by `try_init`).

use tracing_subscriber::{fmt, EnvFilter};

use crate::config::LogFormat;

pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn"));
    let builder = fmt().with_env_filter(filter).with_writer(std::io::stderr);
    // A second init (as in tests) keeps the first subscriber.
    let _ = match format {
        LogFormat::Pretty => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}
