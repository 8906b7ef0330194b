//! Typed settings, layered with figment: defaults, then a TOML file, then `CHILDHUB_*` environment
//! variables (`CHILDHUB_SECTION__KEY`, e.g. `CHILDHUB_LIMITS__MAX_PAGE_SIZE`, plus a few short names such
//! as `CHILDHUB_JWT_SECRET`), then command-line flags. This is the only module that reads the environment
//! or configuration files. Secrets are `SecretString`s, so `Debug` never prints them; durations are
//! written like `30s` or `5m`.

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The embedded default database: a SQLite file under `./data`, created on first use.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://./data/childhub.db?mode=rwc";

/// The shortest HS256 secret the hub verifies or signs with (256 bits of text).
pub const MIN_SECRET_LEN: usize = 32;

/// Everything the process can be configured with.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// `sqlite://…` or `postgres://…` (may carry a password, hence secret).
    pub database_url: SecretString,
    /// Address to listen on.
    pub bind: SocketAddr,
    /// `development` (introspection on, dev tokens printed) or `production`.
    pub environment: Environment,
    /// Load the catalogue and demo data when the database has no departments yet. Defaults to true for
    /// the embedded SQLite database and false otherwise.
    pub seed_if_empty: Option<bool>,
    /// The connection pool: how long a request may wait for a connection or a statement.
    pub database: DatabaseSettings,
    pub auth: AuthSettings,
    /// Signing in to the hub's pages with the city's OpenID Connect provider.
    pub signin: SigninSettings,
    pub limits: Limits,
    pub http: HttpSettings,
    /// Trusted documents and Automatic Persisted Queries.
    pub documents: DocumentSettings,
    pub plan: PlanSettings,
    /// When departments' yearly values are due.
    pub reporting: ReportingSettings,
    pub log: LogSettings,
    /// OpenTelemetry traces over OTLP (off unless an endpoint is set).
    pub tracing: TracingSettings,
    pub events: EventSettings,
    pub webhooks: WebhookSettings,
    /// How the hub pulls from source connectors.
    pub connectors: ConnectorSettings,
    /// `GET /metrics` (Prometheus).
    pub metrics: MetricsSettings,
    /// Sources defined here (`[[sources]]`, see docs/sources.md); checked and synced at start.
    pub sources: Vec<serde_json::Value>,
}

/// Who may read `GET /metrics`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsSettings {
    /// A bearer token scrapers present (`CHILDHUB_METRICS__TOKEN`). Without one the endpoint is open in
    /// development and not served in production.
    pub token: Option<SecretString>,
}

/// The connection pool. A request that cannot get a connection within `acquire_timeout` fails fast
/// with `UNAVAILABLE` (HTTP 503, `Retry-After`) instead of queueing until the request timeout.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseSettings {
    /// Connections in the pool; default 10 on PostgreSQL, 4 on SQLite (one writer at a time).
    pub max_connections: Option<u32>,
    /// How long a request waits for a free connection.
    #[serde(with = "humantime_serde")]
    pub acquire_timeout: Duration,
    /// How long opening a connection may take (an unreachable server fails in this time).
    #[serde(with = "humantime_serde")]
    pub connect_timeout: Duration,
    /// PostgreSQL's `statement_timeout` for the hub's sessions: a runaway statement is cancelled.
    #[serde(with = "humantime_serde")]
    pub statement_timeout: Duration,
    /// How long an SQLite writer waits for another process's write lock before giving up: a request is
    /// then answered `503 UNAVAILABLE` with `Retry-After`, and the command line says what it kept.
    #[serde(with = "humantime_serde")]
    pub sqlite_busy_timeout: Duration,
    /// PostgreSQL hot standbys that serve reads (`CHILDHUB_DATABASE__REPLICA_URLS`, comma-separated):
    /// queries, exports, reports and SDMX go to a healthy one, every write to `database_url`. See
    /// docs/operations.md ("Read replicas").
    pub replica_urls: Vec<SecretString>,
    /// A standby whose replay is further behind the primary than this serves nothing until it catches up.
    #[serde(with = "humantime_serde")]
    pub max_replica_lag: Duration,
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        DatabaseSettings {
            max_connections: None,
            acquire_timeout: Duration::from_secs(3),
            connect_timeout: Duration::from_secs(5),
            statement_timeout: Duration::from_secs(30),
            sqlite_busy_timeout: Duration::from_secs(10),
            replica_urls: Vec::new(),
            max_replica_lag: Duration::from_secs(5),
        }
    }
}

/// Whether the process runs for development or production.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    Development,
    Production,
}

/// How callers are identified.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthSettings {
    /// Shared HS256 secret (development, tests, small deployments), at least 32 characters. In
    /// development, when neither this nor `jwks_url` is set, a random secret is created once in
    /// `secret_file`.
    pub hs256_secret: Option<SecretString>,
    /// Where the development secret is kept so that `childhub token` and `childhub serve` agree.
    pub secret_file: PathBuf,
    /// An OIDC provider's JWKS URL (RS256/ES256), e.g. Keycloak's `…/protocol/openid-connect/certs`.
    pub jwks_url: Option<String>,
    /// Expected `iss` claim.
    pub issuer: String,
    /// Expected `aud` claim.
    pub audience: String,
    /// Allowed clock skew.
    #[serde(with = "humantime_serde")]
    pub leeway: Duration,
    /// Minimum time between two JWKS refetches triggered by an unknown `kid`.
    #[serde(with = "humantime_serde")]
    pub jwks_refetch_interval: Duration,
    /// `none` (every GraphQL operation needs a token) or `public` (anonymous callers read approved
    /// city-level values of public indicators).
    pub anonymous_read: AnonymousRead,
    /// The access-token claim that carries the department code; a dotted path reads a nested claim.
    pub department_claim: String,
    /// The access-token claim that carries the roles (a list), e.g. `realm_access.roles` for
    /// Keycloak's realm roles.
    pub roles_claim: String,
}

/// Signing in to the pages: OpenID Connect's authorization code flow with PKCE against the provider at
/// `auth.issuer` (discovered from its `/.well-known/openid-configuration`). The session lives on the
/// hub (a backend for the pages): the browser holds an HttpOnly cookie, never a token. Off until
/// `client_id` is set; in development the hub then offers "sign in as …" instead.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SigninSettings {
    /// The hub's client at the provider (e.g. `childhub`).
    pub client_id: Option<String>,
    /// Set for a confidential client (sent with HTTP Basic to the token endpoint); none for a public
    /// client, which PKCE protects.
    pub client_secret: Option<SecretString>,
    /// Where the provider sends the browser back: `https://hub.city.example/signin/callback`. Default
    /// in development: `http://localhost:<port>/signin/callback`. Its scheme decides whether the
    /// session cookie is `Secure` (`__Host-` prefixed).
    pub redirect_url: Option<String>,
    /// Scopes asked for.
    pub scopes: Vec<String>,
    /// The longest a session lasts, renewals included; then the user signs in again.
    #[serde(with = "humantime_serde")]
    pub session_ttl: Duration,
    /// How long before the access token expires the hub renews it (with the refresh token).
    #[serde(with = "humantime_serde")]
    pub renew_before: Duration,
}

impl Default for SigninSettings {
    fn default() -> Self {
        SigninSettings {
            client_id: None,
            client_secret: None,
            redirect_url: None,
            scopes: vec!["openid".to_owned(), "profile".to_owned()],
            session_ttl: Duration::from_secs(8 * 3600),
            renew_before: Duration::from_secs(60),
        }
    }
}

/// What a caller without a token may read.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum AnonymousRead {
    None,
    Public,
}

/// Limits that protect the server from expensive requests; all on by default.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// The most rows one page of a connection returns (`first`).
    pub max_page_size: usize,
    /// Rows a page returns when `first` is not given.
    pub default_page_size: usize,
    pub max_depth: usize,
    pub max_complexity: usize,
    pub max_batch: usize,
    pub max_aliases: usize,
    pub max_fields: usize,
    /// Different assessments (`progress`, `summary`, `earlyWarnings` with different years, regions or
    /// filters) one operation may ask for; the same arguments under several aliases count once.
    pub max_assessments: usize,
    pub max_directives: usize,
    pub max_body_bytes: usize,
    /// A request still running after this is answered `408 TIMEOUT`.
    #[serde(with = "humantime_serde")]
    pub request_timeout: Duration,
    pub max_submission_rows: usize,
    /// The largest file a department may submit (the Reporting page, GraphQL uploads, file sources).
    pub max_upload_bytes: usize,
    /// Values one submitted file may hold.
    pub max_upload_rows: usize,
    /// Rows one `exportObservations` answer may carry (bigger exports stream from `/exports/…`).
    pub max_graphql_export_rows: usize,
    /// Rows one `GET /exports/observations.csv` may stream.
    pub max_export_rows: usize,
    /// Submissions or audit entries one list answers at most.
    pub max_list_size: u64,
    /// GraphQL requests one caller (a token's subject; all anonymous callers together) may send per
    /// minute, in bursts of up to a tenth of it; beyond it `429` with `Retry-After`. 0 turns it off.
    pub requests_per_minute: u32,
}

/// HTTP-level settings.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpSettings {
    /// Origins allowed by CORS; empty means CORS is off.
    pub cors_origins: Vec<String>,
    /// Introspection (`__schema`); defaults to on in development and off in production.
    pub introspection: Option<bool>,
    /// How often the server pings a subscription's WebSocket; a peer that answers nothing (no pong,
    /// no message) for two intervals is closed. Pings also keep proxies from closing a quiet feed.
    #[serde(with = "humantime_serde")]
    pub websocket_ping_interval: Duration,
}

impl Default for HttpSettings {
    fn default() -> Self {
        HttpSettings {
            cors_origins: Vec::new(),
            introspection: None,
            websocket_ping_interval: Duration::from_secs(30),
        }
    }
}

/// Which GraphQL documents run: an allow-list from a manifest, and Automatic Persisted Queries.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DocumentSettings {
    /// A manifest of trusted documents (Apollo's persisted query manifest, or a JSON map of
    /// `sha256` → text); clients may then send a document's id instead of its text.
    pub trusted: Option<PathBuf>,
    /// Run only the documents of the manifest (and a gateway's `_service { sdl }`); everything else is
    /// refused with `PERSISTED_QUERY_NOT_IN_LIST`. Turns APQ registration off.
    pub only_trusted: bool,
    /// Automatic Persisted Queries: clients send a hash, and the text only when asked.
    pub apq: bool,
}

impl Default for DocumentSettings {
    fn default() -> Self {
        DocumentSettings {
            trusted: None,
            only_trusted: false,
            apq: true,
        }
    }
}

/// The plan window and data-quality thresholds.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PlanSettings {
    /// Years a value may be submitted for.
    pub first_year: i32,
    pub last_year: i32,
    /// The plan's own period (规划期): its baseline year and its final year, for progress and reports.
    pub baseline_year: i32,
    pub target_year: i32,
    /// A value whose relative change from the previous year exceeds this share is flagged.
    pub jump_threshold: f64,
}

/// When a year's values are due.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReportingSettings {
    /// The day of the following year a year's values are due, as `MM-DD` (`03-31`: 31 March).
    pub deadline: String,
    /// Deadlines of particular years (`2025 = "2026-04-15"`), overriding `deadline`.
    pub deadlines: std::collections::BTreeMap<String, String>,
}

impl Default for ReportingSettings {
    fn default() -> Self {
        ReportingSettings {
            deadline: "03-31".to_owned(),
            deadlines: Default::default(),
        }
    }
}

/// Events: how replicas hear of new ones, and the jobs that run once across replicas.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EventSettings {
    /// How often a replica looks for new events when no notification came (PostgreSQL notifies at
    /// once; SQLite relies on this).
    #[serde(with = "humantime_serde")]
    pub poll_interval: Duration,
    /// How long a replica's hold on a once-only job (webhook delivery, the scheduler) lasts unless
    /// renewed; another replica takes the job over when it lapses.
    #[serde(with = "humantime_serde")]
    pub lease: Duration,
    /// Run the webhook delivery and status tracking jobs in this process.
    pub workers: bool,
}

/// Webhook delivery.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebhookSettings {
    /// How long one delivery attempt may take.
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
    /// The pause after the first failed attempt; it doubles (with jitter) up to `max_delay`.
    #[serde(with = "humantime_serde")]
    pub first_retry: Duration,
    #[serde(with = "humantime_serde")]
    pub max_delay: Duration,
    /// Failed attempts of one delivery after which the endpoint is marked failing (its deliveries then
    /// wait and are retried every `max_delay`; none is dropped).
    pub attempts_before_failing: i32,
    /// Whether endpoints may be loopback or link-local addresses; default: yes in development, no in
    /// production.
    pub allow_local_targets: Option<bool>,
}

/// How sources are pulled.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConnectorSettings {
    /// How long one request to a department's system may take.
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
    /// Requests per page at most (the first and the retries after a 5xx, a timeout or a refused
    /// connection; a 4xx is not retried).
    pub attempts: usize,
    /// The pause before the first retry; it doubles with jitter. A `Retry-After` answer wins (up to
    /// `max_retry_after`).
    #[serde(with = "humantime_serde")]
    pub first_retry: Duration,
    #[serde(with = "humantime_serde")]
    pub max_retry_after: Duration,
    /// The largest answer (after decompression) one request may bring.
    pub max_bytes: usize,
    /// The most pages one pull follows.
    pub max_pages: usize,
    /// Run the scheduler in this process (once across replicas, under a lease).
    pub scheduler: bool,
}

/// Logging.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogSettings {
    /// `tracing` filter, e.g. `info,childhub=debug`; `RUST_LOG` wins when set.
    pub filter: String,
    /// JSON lines instead of human-readable text.
    pub json: bool,
}

/// Where traces go. Off unless `otlp_endpoint` (or the standard `OTEL_EXPORTER_OTLP_ENDPOINT`) is set;
/// the exporter also reads the other standard `OTEL_EXPORTER_OTLP_*` and `OTEL_BSP_*` variables.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TracingSettings {
    /// The collector's OTLP/HTTP base URL, e.g. `http://otel-collector:4318`; spans go to
    /// `<endpoint>/v1/traces`.
    pub otlp_endpoint: Option<String>,
    /// `http/protobuf` (the OTLP default) or `http/json`.
    pub protocol: OtlpProtocol,
    /// `service.name` of the exported spans.
    pub service_name: String,
    /// Share of new traces recorded, 0.0 – 1.0; a request that arrives with a sampled `traceparent`
    /// is always recorded.
    pub sample_ratio: f64,
}

/// The OTLP/HTTP encoding.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
pub enum OtlpProtocol {
    #[serde(rename = "http/protobuf")]
    HttpProtobuf,
    #[serde(rename = "http/json")]
    HttpJson,
}

impl Default for TracingSettings {
    fn default() -> Self {
        TracingSettings {
            otlp_endpoint: None,
            protocol: OtlpProtocol::HttpProtobuf,
            service_name: "childhub".to_owned(),
            sample_ratio: 1.0,
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            database_url: SecretString::from(DEFAULT_DATABASE_URL.to_owned()),
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            environment: Environment::Development,
            seed_if_empty: None,
            database: DatabaseSettings::default(),
            auth: AuthSettings::default(),
            signin: SigninSettings::default(),
            limits: Limits::default(),
            http: HttpSettings::default(),
            plan: PlanSettings::default(),
            reporting: ReportingSettings::default(),
            log: LogSettings::default(),
            tracing: TracingSettings::default(),
            documents: DocumentSettings::default(),
            events: EventSettings::default(),
            webhooks: WebhookSettings::default(),
            connectors: ConnectorSettings::default(),
            metrics: MetricsSettings::default(),
            sources: Vec::new(),
        }
    }
}

impl Default for ConnectorSettings {
    fn default() -> Self {
        ConnectorSettings {
            timeout: Duration::from_secs(30),
            attempts: 4,
            first_retry: Duration::from_secs(1),
            max_retry_after: Duration::from_secs(60),
            max_bytes: 100 * 1024 * 1024,
            max_pages: 1000,
            scheduler: true,
        }
    }
}

impl Default for EventSettings {
    fn default() -> Self {
        EventSettings {
            poll_interval: Duration::from_secs(1),
            lease: Duration::from_secs(15),
            workers: true,
        }
    }
}

impl Default for WebhookSettings {
    fn default() -> Self {
        WebhookSettings {
            timeout: Duration::from_secs(10),
            first_retry: Duration::from_secs(5),
            max_delay: Duration::from_secs(3600),
            // 5 s doubling to an hour, then hourly: about a day of retries before "failing".
            attempts_before_failing: 30,
            allow_local_targets: None,
        }
    }
}

impl Default for AuthSettings {
    fn default() -> Self {
        AuthSettings {
            hs256_secret: None,
            secret_file: PathBuf::from("data/dev-secret"),
            jwks_url: None,
            issuer: "childhub".to_owned(),
            audience: "childhub".to_owned(),
            leeway: Duration::from_secs(30),
            jwks_refetch_interval: Duration::from_secs(30),
            anonymous_read: AnonymousRead::None,
            department_claim: "dept".to_owned(),
            roles_claim: "roles".to_owned(),
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_page_size: 1000,
            default_page_size: 100,
            max_depth: 12,
            max_complexity: 20_000,
            max_batch: 10,
            max_aliases: 64,
            max_fields: 2000,
            max_assessments: 4,
            max_directives: 8,
            max_body_bytes: 2 * 1024 * 1024,
            request_timeout: Duration::from_secs(30),
            max_submission_rows: 10_000,
            max_upload_bytes: 20 * 1024 * 1024,
            max_upload_rows: 200_000,
            max_graphql_export_rows: 10_000,
            max_export_rows: 5_000_000,
            max_list_size: 1000,
            requests_per_minute: 1200,
        }
    }
}

impl Default for PlanSettings {
    fn default() -> Self {
        PlanSettings {
            first_year: 2015,
            last_year: 2035,
            baseline_year: 2020,
            target_year: 2030,
            jump_threshold: 0.5,
        }
    }
}

impl Default for LogSettings {
    fn default() -> Self {
        LogSettings {
            filter: "info,sqlx=warn,sea_orm=warn".to_owned(),
            json: false,
        }
    }
}

/// Values given on the command line; they win over everything else.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    pub database_url: Option<String>,
    pub bind: Option<SocketAddr>,
    pub environment: Option<Environment>,
}

/// A setting that could not be read; the message names the key and where its value came from.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{}", describe(.0))]
    Invalid(Box<figment::Error>),
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("missing setting: {0}")]
    Missing(&'static str),
}

/// A settings error as an operator reads it: the key, what was wrong, and where the value came from
/// (for the environment, the variable's name).
fn describe(error: &figment::Error) -> String {
    let key = error.path.join(".").to_ascii_lowercase();
    let from = match &error.metadata {
        Some(m) if m.name.contains("environment") => {
            format!(
                "environment variable CHILDHUB_{}",
                key.replace('.', "__").to_ascii_uppercase()
            )
        }
        Some(m) => m
            .source
            .as_ref()
            .map_or_else(|| m.name.to_string(), |s| s.to_string()),
        None => "the settings".to_owned(),
    };
    format!("setting {key}: {} (from {from})", error.kind)
}

/// Environment variables of the process that are not settings (the config path, the test suite's).
const NOT_SETTINGS: &[&str] = &["config", "chromium", "docker_compose"];

/// Short names kept for the most used settings: `CHILDHUB_<name>` → key.
const SHORT_NAMES: &[(&str, &str)] = &[
    ("JWT_SECRET", "auth.hs256_secret"),
    ("JWKS_URL", "auth.jwks_url"),
    ("JWT_ISSUER", "auth.issuer"),
    ("JWT_AUDIENCE", "auth.audience"),
    ("ANONYMOUS_READ", "auth.anonymous_read"),
    ("INTROSPECTION", "http.introspection"),
    ("LOG", "log.filter"),
    ("LOG_JSON", "log.json"),
];

impl Settings {
    /// Reads the settings: defaults, the config file (the given path, `CHILDHUB_CONFIG`, or `childhub.toml`
    /// when it exists), the environment, then `overrides`.
    pub fn load(config_file: Option<&Path>, overrides: &Overrides) -> Result<Self, ConfigError> {
        let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let file = config_file
            .map(Path::to_path_buf)
            .or_else(|| env("CHILDHUB_CONFIG").map(PathBuf::from))
            .or_else(|| {
                let default = PathBuf::from("childhub.toml");
                default.exists().then_some(default)
            });
        let mut figment = Figment::new();
        if let Some(path) = file {
            // A named file that is missing is an error, not silently the defaults.
            std::fs::metadata(&path).map_err(|source| ConfigError::Read {
                path: path.clone(),
                source,
            })?;
            figment = figment.merge(Toml::file_exact(path));
        }
        let short: Vec<String> = SHORT_NAMES
            .iter()
            .map(|(name, _)| name.to_ascii_lowercase())
            .collect();
        figment = figment.merge(Env::prefixed("CHILDHUB_").split("__").filter(move |key| {
            let key = key.as_str().to_ascii_lowercase();
            let key = key.as_str();
            !NOT_SETTINGS.contains(&key)
                && !key.starts_with("test_")
                && !key.starts_with("settings_probe")
                && key != "cors_origins"
                && key != "database.replica_urls"
                && !short.iter().any(|s| s == key)
        }));
        for (name, key) in SHORT_NAMES {
            let var = format!("CHILDHUB_{name}");
            figment = figment.merge(Env::raw().only(&[var.as_str()]).map(move |_| (*key).into()));
        }
        if let Some(origins) = env("CHILDHUB_CORS_ORIGINS") {
            let list: Vec<String> = origins.split(',').map(|s| s.trim().to_owned()).collect();
            figment = figment.merge(Serialized::default("http.cors_origins", list));
        }
        if let Some(urls) = env("CHILDHUB_DATABASE__REPLICA_URLS") {
            let list: Vec<String> = urls.split(',').map(|s| s.trim().to_owned()).collect();
            figment = figment.merge(Serialized::default("database.replica_urls", list));
        }
        if let Some(url) = &overrides.database_url {
            figment = figment.merge(Serialized::default("database_url", url));
        }
        if let Some(bind) = overrides.bind {
            figment = figment.merge(Serialized::default("bind", bind.to_string()));
        }
        if let Some(environment) = overrides.environment {
            let name = match environment {
                Environment::Development => "development",
                Environment::Production => "production",
            };
            figment = figment.merge(Serialized::default("environment", name));
        }
        figment
            .extract()
            .map_err(|e| ConfigError::Invalid(Box::new(e)))
    }

    /// The database URL (it may carry a password: do not log it).
    pub fn database_url(&self) -> &str {
        self.database_url.expose_secret()
    }

    /// Whether the database is the embedded SQLite one.
    pub fn is_sqlite(&self) -> bool {
        self.database_url().starts_with("sqlite:")
    }

    /// Whether to load the catalogue and demo data into an empty database.
    pub fn should_seed_if_empty(&self) -> bool {
        self.seed_if_empty.unwrap_or_else(|| self.is_sqlite())
    }

    /// Whether webhook endpoints may point at loopback or link-local addresses.
    pub fn allow_local_targets(&self) -> bool {
        self.webhooks
            .allow_local_targets
            .unwrap_or(self.environment == Environment::Development)
    }

    /// Whether the pages sign in with the OpenID Connect provider (else, in development only, with the
    /// "sign in as …" page).
    pub fn oidc_signin(&self) -> bool {
        self.signin.client_id.is_some()
    }

    /// Where the provider sends the browser back after sign-in.
    pub fn redirect_url(&self) -> String {
        self.signin
            .redirect_url
            .clone()
            .unwrap_or_else(|| format!("http://localhost:{}/signin/callback", self.bind.port()))
    }

    /// Where the provider sends the browser after signing out: `/signed-out` beside the callback.
    pub fn post_logout_url(&self) -> String {
        let callback = self.redirect_url();
        match callback.rfind("/signin/callback") {
            Some(at) => format!("{}/signed-out", &callback[..at]),
            None => "/signed-out".to_owned(),
        }
    }

    /// Whether the hub is reached over HTTPS (its session cookie is then `Secure`).
    pub fn served_over_https(&self) -> bool {
        self.redirect_url().starts_with("https://")
    }

    /// Whether `__schema`/`__type` introspection is answered.
    pub fn introspection_enabled(&self) -> bool {
        self.http
            .introspection
            .unwrap_or(self.environment == Environment::Development)
    }
}

impl Settings {
    /// The HS256 secret to verify and sign tokens with: the configured one; none when a JWKS URL is set;
    /// in development, one created once in `auth.secret_file` so that `childhub token` and `childhub serve`
    /// agree. Production without either is a configuration error.
    pub fn hs256_secret(&self) -> Result<Option<SecretString>, ConfigError> {
        if let Some(secret) = &self.auth.hs256_secret {
            return Ok(Some(secret.clone()));
        }
        // The provider's keys verify tokens when a key set is named or discovered for sign-in.
        if self.auth.jwks_url.is_some() || self.oidc_signin() {
            return Ok(None);
        }
        if self.environment == Environment::Production {
            return Err(ConfigError::Missing(
                "production needs auth.hs256_secret (CHILDHUB_JWT_SECRET) or auth.jwks_url (CHILDHUB_JWKS_URL)",
            ));
        }
        let path = &self.auth.secret_file;
        if let Ok(secret) = std::fs::read_to_string(path) {
            let secret = secret.trim().to_owned();
            if secret.len() >= MIN_SECRET_LEN {
                return Ok(Some(SecretString::from(secret)));
            }
        }
        let secret = format!(
            "{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        let write = |path: &Path| -> std::io::Result<()> {
            use std::io::Write;
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)?;
            }
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create(true).truncate(true);
            // Whoever can read the secret can mint tokens: readable by its owner only.
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options.open(path)?;
            #[cfg(unix)]
            std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
            file.write_all(secret.as_bytes())
        };
        write(path).map_err(|source| ConfigError::Read {
            path: path.clone(),
            source,
        })?;
        Ok(Some(SecretString::from(secret)))
    }
}
