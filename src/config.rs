//! Settings from flags and environment variables (every flag has one), and
//! the command line.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::{fmt, net::SocketAddr, path::PathBuf, str::FromStr, time::Duration};

#[derive(Debug, Parser)]
#[command(
    name = "invitations",
    version,
    about = "GraphQL server for workspace invitations"
)]
pub struct Cli {
    #[command(flatten)]
    pub settings: Settings,
    /// What to do; `serve` when absent.
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve GraphQL over HTTP (the default).
    Serve,
    /// Apply or inspect database migrations.
    Migrate {
        #[arg(value_enum, default_value_t = MigrateAction::Up)]
        action: MigrateAction,
    },
    /// Print a signed token for the configured (or development) secret.
    Token(TokenArgs),
    /// Print the GraphQL schema (SDL).
    Schema {
        /// The Apollo Federation v2 subgraph schema instead.
        #[arg(long)]
        federation: bool,
    },
    /// Run only the mail worker (for deployments that run it apart).
    Worker,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MigrateAction {
    /// Apply pending migrations.
    Up,
    /// Roll back the last migration.
    Down,
    /// List migrations and whether they are applied.
    Status,
    /// Drop every table and apply all migrations again.
    Fresh,
}

#[derive(Debug, Clone, Args)]
pub struct TokenArgs {
    #[arg(long)]
    pub email: String,
    #[arg(long)]
    pub name: Option<String>,
    /// The token's subject; `dev|<email>` by default.
    #[arg(long)]
    pub sub: Option<String>,
    /// Lifetime, such as 30m, 24h or 7d.
    #[arg(long, default_value = "24h", value_parser = parse_duration)]
    pub ttl: Duration,
}

#[derive(Debug, Clone, Args)]
pub struct Settings {
    /// `sqlite://path?mode=rwc` (embedded) or `postgres://user@host/db`.
    #[arg(
        long,
        env = "DATABASE_URL",
        global = true,
        default_value = "sqlite://invitations.db?mode=rwc"
    )]
    pub database_url: Secret,
    #[arg(
        long,
        env = "BIND_ADDR",
        global = true,
        default_value = "127.0.0.1:8080"
    )]
    pub bind_addr: SocketAddr,
    /// HS256 secret, at least 32 bytes. Without it (and without a JWKS URL)
    /// the server runs in development mode with a generated secret.
    #[arg(long, env = "AUTH_JWT_SECRET", global = true, hide_env_values = true)]
    pub auth_jwt_secret: Option<Secret>,
    /// An OpenID provider's key set (RS256/ES256), such as
    /// `https://YOUR_TENANT.auth0.com/.well-known/jwks.json`.
    #[arg(long, env = "AUTH_JWKS_URL", global = true)]
    pub auth_jwks_url: Option<String>,
    /// Tolerance for clock differences when checking `exp`.
    #[arg(long, env = "AUTH_CLOCK_SKEW", global = true, default_value = "30s", value_parser = parse_duration)]
    pub auth_clock_skew: Duration,
    /// The key set is fetched again for an unknown `kid` at most this often.
    #[arg(long, env = "AUTH_JWKS_MIN_REFRESH", global = true, default_value = "60s", value_parser = parse_duration)]
    pub auth_jwks_min_refresh: Duration,
    /// The key set is refreshed in the background once it is this old; the
    /// cached keys keep verifying tokens meanwhile.
    #[arg(long, env = "AUTH_JWKS_MAX_AGE", global = true, default_value = "1h", value_parser = parse_duration)]
    pub auth_jwks_max_age: Duration,
    /// Required `iss` claim, when set.
    #[arg(long, env = "AUTH_ISSUER", global = true)]
    pub auth_issuer: Option<String>,
    /// Required `aud` claim, when set.
    #[arg(long, env = "AUTH_AUDIENCE", global = true)]
    pub auth_audience: Option<String>,
    #[arg(long, env = "LOG_FORMAT", global = true, value_enum, default_value_t = LogFormat::Pretty)]
    pub log_format: LogFormat,
    /// Serve without applying pending migrations first.
    #[arg(long, env = "NO_MIGRATE", global = true)]
    pub no_migrate: bool,
    /// Maximum depth of a GraphQL query.
    #[arg(long, env = "GRAPHQL_MAX_DEPTH", global = true, default_value_t = 16)]
    pub graphql_max_depth: usize,
    /// The most a query may cost: each field 1 plus its selection, each
    /// connection its page size (`first`/`last`, 20 when absent) times its
    /// selection.
    #[arg(
        long,
        env = "GRAPHQL_MAX_COMPLEXITY",
        global = true,
        default_value_t = 20_000
    )]
    pub graphql_max_complexity: usize,
    /// Directives on one field, at most.
    #[arg(
        long,
        env = "GRAPHQL_MAX_DIRECTIVES",
        global = true,
        default_value_t = 5
    )]
    pub graphql_max_directives: usize,
    /// Maximum number of aliases in a GraphQL document.
    #[arg(long, env = "GRAPHQL_MAX_ALIASES", global = true, default_value_t = 30)]
    pub graphql_max_aliases: usize,
    /// Maximum number of root fields in one operation.
    #[arg(
        long,
        env = "GRAPHQL_MAX_ROOT_FIELDS",
        global = true,
        default_value_t = 20
    )]
    pub graphql_max_root_fields: usize,
    /// Operations in one batched POST, at most.
    #[arg(long, env = "GRAPHQL_MAX_BATCH", global = true, default_value_t = 10)]
    pub graphql_max_batch: usize,
    /// Whether clients may introspect the schema (GraphiQL and code
    /// generators need it).
    #[arg(long, env = "GRAPHQL_INTROSPECTION", global = true, default_value_t = true, action = clap::ArgAction::Set)]
    pub graphql_introspection: bool,
    /// A tracing span per resolved field (costly; for debugging).
    #[arg(long, env = "GRAPHQL_RESOLVER_SPANS", global = true, default_value_t = false, action = clap::ArgAction::Set)]
    pub graphql_resolver_spans: bool,
    /// Apollo automatic persisted queries, with this many queries cached
    /// (0 turns them off).
    #[arg(
        long,
        env = "GRAPHQL_PERSISTED_QUERIES",
        global = true,
        default_value_t = 1000
    )]
    pub graphql_persisted_queries: usize,
    /// A JSON map of SHA-256 to document (GraphQL Code Generator's
    /// `persisted-documents.json`): only those documents run.
    #[arg(long, env = "GRAPHQL_TRUSTED_DOCUMENTS", global = true)]
    pub graphql_trusted_documents: Option<PathBuf>,
    /// Request bodies larger than this get 413.
    #[arg(long, env = "MAX_BODY_BYTES", global = true, default_value_t = 1 << 20)]
    pub max_body_bytes: usize,
    /// A request body that takes longer than this to arrive gets 408.
    #[arg(long, env = "REQUEST_BODY_TIMEOUT", global = true, default_value = "10s", value_parser = parse_duration)]
    pub request_body_timeout: Duration,
    /// A GraphQL request taking longer than this is answered with an error.
    #[arg(long, env = "REQUEST_TIMEOUT", global = true, default_value = "30s", value_parser = parse_duration)]
    pub request_timeout: Duration,
    /// Comma-separated origins allowed by CORS (none by default).
    #[arg(
        long,
        env = "CORS_ALLOWED_ORIGINS",
        global = true,
        value_delimiter = ','
    )]
    pub cors_allowed_origins: Vec<String>,
    /// Connections in the PostgreSQL pool (SQLite keeps one). With several
    /// processes on one server, keep processes x pool under max_connections.
    #[arg(long, env = "DB_MAX_CONNECTIONS", global = true, default_value_t = 20)]
    pub db_max_connections: u32,
    /// How long a request waits for a database connection before failing.
    #[arg(long, env = "DB_ACQUIRE_TIMEOUT", global = true, default_value = "5s", value_parser = parse_duration)]
    pub db_acquire_timeout: Duration,
    /// Invitations one person may create per window (0: no limit).
    #[arg(
        long,
        env = "INVITE_RATE_PER_INVITER",
        global = true,
        default_value_t = 100
    )]
    pub invite_rate_per_inviter: u32,
    /// Invitations one workspace may receive per window (0: no limit).
    #[arg(
        long,
        env = "INVITE_RATE_PER_WORKSPACE",
        global = true,
        default_value_t = 1000
    )]
    pub invite_rate_per_workspace: u32,
    /// The rate limits' sliding window.
    #[arg(long, env = "INVITE_RATE_WINDOW", global = true, default_value = "1h", value_parser = parse_duration)]
    pub invite_rate_window: Duration,
    /// The shortest expiry a workspace or an invitation may have (an ISO
    /// 8601 duration; the longest is P90D).
    #[arg(long, env = "INVITATION_EXPIRY_MIN", global = true, default_value = "PT1H", value_parser = parse_iso_duration)]
    pub invitation_expiry_min: Duration,
    /// Between two resends of one invitation.
    #[arg(long, env = "INVITATION_RESEND_COOLDOWN", global = true, default_value = "60s", value_parser = parse_duration)]
    pub invitation_resend_cooldown: Duration,
    /// HTTP worker threads; the number of CPUs when absent.
    #[arg(long, env = "HTTP_WORKERS", global = true)]
    pub http_workers: Option<usize>,
    /// `smtp://[user:password@]host[:port]` (STARTTLS), `smtps://...`
    /// (implicit TLS), either with `?tls=none`. Without it, emails are
    /// written as `.eml` files under MAIL_DIR.
    #[arg(long, env = "SMTP_URL", global = true, hide_env_values = true)]
    pub smtp_url: Option<Secret>,
    /// The sender: `Name <address>` or an address.
    #[arg(
        long,
        env = "MAIL_FROM",
        global = true,
        default_value = "Invitations <invitations@localhost>"
    )]
    pub mail_from: String,
    /// Where the file transport writes `.eml` files.
    #[arg(long, env = "MAIL_DIR", global = true, default_value = "mail")]
    pub mail_dir: PathBuf,
    /// The front end's base URL; links are `PUBLIC_APP_URL/invitations/<id>`.
    #[arg(
        long,
        env = "PUBLIC_APP_URL",
        global = true,
        default_value = "http://127.0.0.1:8080"
    )]
    pub public_app_url: String,
    /// Run the mail worker inside `serve` (turn off when workers run apart).
    #[arg(long, env = "MAIL_WORKER", global = true, default_value_t = true, action = clap::ArgAction::Set)]
    pub mail_worker: bool,
    /// Attempts before an email is FAILED.
    #[arg(long, env = "MAIL_MAX_ATTEMPTS", global = true, default_value_t = 8)]
    pub mail_max_attempts: i32,
    /// Emails one connection claims at a time.
    #[arg(long, env = "MAIL_BATCH_SIZE", global = true, default_value_t = 10)]
    pub mail_batch_size: u64,
    /// SMTP connections sending at once.
    #[arg(long, env = "MAIL_CONCURRENCY", global = true, default_value_t = 4)]
    pub mail_concurrency: usize,
    /// How often the worker looks for due emails when not woken.
    #[arg(long, env = "MAIL_POLL_INTERVAL", global = true, default_value = "1s", value_parser = parse_duration)]
    pub mail_poll_interval: Duration,
    /// How long a claim holds an email; renewed while it is being sent, so
    /// after a crash the email is taken up again once this has passed.
    #[arg(long, env = "MAIL_LEASE", global = true, default_value = "10s", value_parser = parse_duration)]
    pub mail_lease: Duration,
    /// Serve `/metrics` on this address instead of the public one.
    #[arg(long, env = "METRICS_ADDR", global = true)]
    pub metrics_addr: Option<SocketAddr>,
    /// Serve Apollo Federation's `_service` and `_entities` (a subgraph).
    #[arg(long, env = "GRAPHQL_FEDERATION", global = true, default_value_t = false, action = clap::ArgAction::Set)]
    pub graphql_federation: bool,
    /// Subscriptions one WebSocket may hold at once.
    #[arg(
        long,
        env = "GRAPHQL_MAX_SUBSCRIPTIONS",
        global = true,
        default_value_t = 10
    )]
    pub graphql_max_subscriptions: usize,
    /// Let webhooks point at `http://` and private, loopback and link-local
    /// addresses (development and tests only).
    #[arg(long, env = "WEBHOOK_ALLOW_PRIVATE", global = true, default_value_t = false, action = clap::ArgAction::Set)]
    pub webhook_allow_private: bool,
    /// How long a webhook receiver has to answer one delivery.
    #[arg(long, env = "WEBHOOK_TIMEOUT", global = true, default_value = "10s", value_parser = parse_duration)]
    pub webhook_timeout: Duration,
    /// Attempts before a webhook delivery is FAILED.
    #[arg(long, env = "WEBHOOK_MAX_ATTEMPTS", global = true, default_value_t = 8)]
    pub webhook_max_attempts: i32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Pretty,
    Json,
}

/// A string that is never printed: connection URLs hold passwords.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(..)")
    }
}

impl FromStr for Secret {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self(s.to_owned()))
    }
}

/// `90s`, `30m`, `24h`, `7d`, or a number of seconds.
pub fn parse_duration(raw: &str) -> Result<Duration, String> {
    let raw = raw.trim();
    let (digits, unit) = raw.split_at(raw.find(|c: char| !c.is_ascii_digit()).unwrap_or(raw.len()));
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("not a duration: {raw:?}"))?;
    let unit_secs: u64 = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("unknown unit in {raw:?}: use s, m, h or d")),
    };
    n.checked_mul(unit_secs)
        .map(Duration::from_secs)
        .ok_or_else(|| format!("{raw:?} is too long"))
}

/// An ISO 8601 duration such as `PT1H` or `P1D`.
pub fn parse_iso_duration(raw: &str) -> Result<Duration, String> {
    crate::domain::values::Expiry::parse(raw, Duration::from_secs(1))
        .map(|e| Duration::from_secs(e.secs().unsigned_abs()))
        .map_err(|_| format!("not an ISO 8601 duration of at least a second: {raw:?}"))
}

impl Settings {
    /// The defaults, whatever the environment says (for tests and
    /// embedding): every flag's environment variable is ignored.
    pub fn defaults() -> Self {
        use clap::{CommandFactory, FromArgMatches};
        let command = Cli::command().mut_args(|a| a.env(None));
        let matches = command
            .try_get_matches_from(["invitations"])
            .expect("the defaults parse");
        Cli::from_arg_matches(&matches)
            .expect("the defaults parse")
            .settings
    }

    /// The defaults, with this database.
    pub fn for_database(url: &str) -> Self {
        let mut s = Self::defaults();
        s.database_url = Secret::new(url);
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_take_units() {
        assert_eq!(parse_duration("24h").unwrap(), Duration::from_secs(86_400));
        assert_eq!(parse_duration("90").unwrap(), Duration::from_secs(90));
        assert!(parse_duration("1y").is_err());
    }

    #[test]
    fn a_duration_too_long_to_hold_is_refused_not_a_panic() {
        assert!(parse_duration("18446744073709551615d").is_err());
        assert!(parse_duration("99999999999999999999999s").is_err());
    }

    #[test]
    fn defaults_ignore_the_environment() {
        // No other test of this binary reads these variables.
        std::env::set_var("MAIL_FROM", "Leak <leak@example.test>");
        std::env::set_var("GRAPHQL_MAX_DEPTH", "3");
        let s = Settings::defaults();
        assert_eq!(s.mail_from, "Invitations <invitations@localhost>");
        assert_eq!(s.graphql_max_depth, 16);
    }

    #[test]
    fn secrets_are_not_printed() {
        assert_eq!(format!("{:?}", Secret::new("hunter2")), "Secret(..)");
    }
}
