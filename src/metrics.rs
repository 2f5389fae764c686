//! Prometheus metrics: one registry per application, rendered at
//! `GET /metrics` in the text format. Counters are bumped where things
//! happen (HTTP edge, SQL callback, mail worker); pool and outbox gauges are
//! read when scraped.

use prometheus_client::{
    encoding::{text::encode, EncodeLabelSet},
    metrics::{
        counter::Counter,
        family::Family,
        gauge::Gauge,
        histogram::{exponential_buckets, Histogram},
    },
    registry::Registry,
};
use sea_orm::{DatabaseBackend, DatabaseConnection};
use std::{collections::HashSet, sync::Mutex};

use crate::delivery::{
    outbox::{self, EMAILS},
    DeliveryMetrics,
};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub operation: String,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OperationLabels {
    pub operation: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CodeLabels {
    pub code: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StateLabels {
    pub state: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StatusLabels {
    pub status: String,
}

fn latency() -> Histogram {
    // 0.5 ms to about 16 s.
    Histogram::new(exponential_buckets(0.0005, 2.0, 16))
}

pub struct Metrics {
    registry: Registry,
    pub http_requests: Family<RequestLabels, Counter>,
    pub http_duration: Family<OperationLabels, Histogram, fn() -> Histogram>,
    pub graphql_errors: Family<CodeLabels, Counter>,
    pub sql_statements: Counter,
    pub emails_sent: Counter,
    pub emails_retried: Counter,
    pub emails_failed: Counter,
    pub email_send_duration: Histogram,
    /// Webhook deliveries, by the same counters as emails.
    pub webhooks: DeliveryMetrics,
    pool_connections: Family<StateLabels, Gauge>,
    outbox_rows: Family<StatusLabels, Gauge>,
    /// Operation names are chosen by clients: only this many distinct ones
    /// become labels, the rest count as `other`.
    operations: Mutex<HashSet<String>>,
}

const MAX_OPERATION_LABELS: usize = 200;

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("invitations");
        let http_requests = Family::<RequestLabels, Counter>::default();
        let http_duration =
            Family::<OperationLabels, Histogram, fn() -> Histogram>::new_with_constructor(latency);
        let graphql_errors = Family::<CodeLabels, Counter>::default();
        let sql_statements = Counter::default();
        let emails_sent = Counter::default();
        let emails_retried = Counter::default();
        let emails_failed = Counter::default();
        let email_send_duration = latency();
        let webhooks = DeliveryMetrics {
            send_duration: Some(latency()),
            ..DeliveryMetrics::default()
        };
        let pool_connections = Family::<StateLabels, Gauge>::default();
        let outbox_rows = Family::<StatusLabels, Gauge>::default();
        registry.register(
            "http_requests",
            "HTTP requests by GraphQL operation and status",
            http_requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency by GraphQL operation",
            http_duration.clone(),
        );
        registry.register(
            "graphql_errors",
            "GraphQL errors by extensions.code",
            graphql_errors.clone(),
        );
        registry.register(
            "sql_statements",
            "SQL statements run",
            sql_statements.clone(),
        );
        registry.register(
            "emails_sent",
            "Invitation emails accepted by the SMTP server (or written)",
            emails_sent.clone(),
        );
        registry.register(
            "emails_retried",
            "Failed email attempts that will be retried",
            emails_retried.clone(),
        );
        registry.register("emails_failed", "Emails given up on", emails_failed.clone());
        registry.register(
            "email_send_duration_seconds",
            "Time to hand one email to the SMTP server (or write it)",
            email_send_duration.clone(),
        );
        registry.register(
            "webhooks_sent",
            "Webhook deliveries a receiver answered with 2xx",
            webhooks.sent.clone(),
        );
        registry.register(
            "webhooks_retried",
            "Failed webhook attempts that will be retried",
            webhooks.retried.clone(),
        );
        registry.register(
            "webhooks_failed",
            "Webhook deliveries given up on",
            webhooks.failed.clone(),
        );
        if let Some(h) = &webhooks.send_duration {
            registry.register(
                "webhook_send_duration_seconds",
                "Time for a webhook receiver to answer one delivery",
                h.clone(),
            );
        }
        registry.register(
            "db_pool_connections",
            "Database pool connections by state",
            pool_connections.clone(),
        );
        registry.register(
            "outbox_rows",
            "Email outbox rows by status",
            outbox_rows.clone(),
        );
        Self {
            registry,
            http_requests,
            http_duration,
            graphql_errors,
            sql_statements,
            emails_sent,
            emails_retried,
            emails_failed,
            email_send_duration,
            webhooks,
            pool_connections,
            outbox_rows,
            operations: Mutex::new(HashSet::new()),
        }
    }

    /// The counters the email delivery worker moves.
    pub fn email_delivery(&self) -> DeliveryMetrics {
        DeliveryMetrics {
            sent: self.emails_sent.clone(),
            retried: self.emails_retried.clone(),
            failed: self.emails_failed.clone(),
            send_duration: Some(self.email_send_duration.clone()),
        }
    }

    /// The label for a client's operation name: `anonymous`, the name (if
    /// it looks like one and the set is not full), or `other`.
    pub fn operation_label(&self, name: Option<&str>) -> String {
        let Some(name) = name.filter(|n| !n.is_empty()) else {
            return "anonymous".into();
        };
        let looks_like_a_name =
            name.len() <= 64 && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !looks_like_a_name {
            return "other".into();
        }
        let mut known = self.operations.lock().unwrap_or_else(|e| e.into_inner());
        if known.contains(name) || known.len() < MAX_OPERATION_LABELS {
            known.insert(name.to_owned());
            name.to_owned()
        } else {
            "other".into()
        }
    }

    /// The text exposition, with the gauges read now.
    pub async fn render(&self, db: &DatabaseConnection) -> String {
        let (size, idle) = pool_stats(db);
        self.pool_connections
            .get_or_create(&StateLabels {
                state: "in_use".into(),
            })
            .set(size.saturating_sub(idle) as i64);
        self.pool_connections
            .get_or_create(&StateLabels {
                state: "idle".into(),
            })
            .set(idle as i64);
        match outbox::count_by_status(db, &EMAILS).await {
            Ok(counts) => {
                for (status, n) in counts {
                    self.outbox_rows
                        .get_or_create(&StatusLabels {
                            status: status.as_str().to_owned(),
                        })
                        .set(n);
                }
            }
            Err(e) => tracing::warn!(error = ?e, "could not count outbox rows for /metrics"),
        }
        let mut out = String::new();
        if encode(&mut out, &self.registry).is_err() {
            tracing::error!("could not encode metrics");
        }
        // The process's own, under the names every exporter uses (no
        // prefix), before the closing `# EOF`.
        let process = process_metrics();
        match out.strip_suffix("# EOF\n") {
            Some(body) => format!("{body}{process}# EOF\n"),
            None => out + &process,
        }
    }
}

/// `build_info` and the process's CPU time, resident memory and open file
/// descriptors, read from `/proc` (Linux; elsewhere only `build_info`).
fn process_metrics() -> String {
    let mut out = format!(
        "# HELP invitations_build_info The running build.\n# TYPE invitations_build_info gauge\ninvitations_build_info{{version=\"{}\"}} 1\n",
        env!("CARGO_PKG_VERSION")
    );
    // Fields after the command name in /proc/self/stat: utime and stime
    // are the 12th and 13th, in clock ticks (100 per second on Linux).
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok());
    if let (Some(user), Some(system)) = (ticks(11), ticks(12)) {
        out.push_str(&format!(
            "# HELP process_cpu_seconds Total user and system CPU time spent in seconds.\n# TYPE process_cpu_seconds counter\nprocess_cpu_seconds_total {}\n",
            (user + system) / 100.0
        ));
    }
    let rss_kib = std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok());
    if let Some(kib) = rss_kib {
        out.push_str(&format!(
            "# HELP process_resident_memory_bytes Resident memory size in bytes.\n# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes {}\n",
            kib * 1024
        ));
    }
    if let Ok(fds) = std::fs::read_dir("/proc/self/fd") {
        out.push_str(&format!(
            "# HELP process_open_fds Number of open file descriptors.\n# TYPE process_open_fds gauge\nprocess_open_fds {}\n",
            fds.count()
        ));
    }
    out
}

/// Pool size and idle connections, whichever database it is.
fn pool_stats(db: &DatabaseConnection) -> (usize, usize) {
    match db.get_database_backend() {
        DatabaseBackend::Postgres => {
            let pool = db.get_postgres_connection_pool();
            (pool.size() as usize, pool.num_idle())
        }
        DatabaseBackend::Sqlite => {
            let pool = db.get_sqlite_connection_pool();
            (pool.size() as usize, pool.num_idle())
        }
        _ => (0, 0),
    }
}
