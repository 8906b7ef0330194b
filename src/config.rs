//! Typed settings: defaults, then an optional TOML file, then `CHILDHUB_*` environment variables, then
//! command-line flags. This is the only module that reads the environment or configuration files.

use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The embedded default database: a SQLite file under `./data`, created on first use.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://./data/childhub.db?mode=rwc";

/// Everything the process can be configured with.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// `sqlite://…` or `postgres://…`.
    pub database_url: String,
    /// Address to listen on.
    pub bind: SocketAddr,
    /// `development` (introspection on, dev tokens printed) or `production`.
    pub environment: Environment,
    /// Load the catalogue and demo data when the database has no departments yet. Defaults to true for
    /// the embedded SQLite database and false otherwise.
    pub seed_if_empty: Option<bool>,
    pub auth: AuthSettings,
    pub limits: Limits,
    pub http: HttpSettings,
    pub plan: PlanSettings,
    pub log: LogSettings,
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
    /// Shared HS256 secret (development, tests, small deployments). In development, when neither this nor
    /// `jwks_url` is set, a random secret is created once in `secret_file`.
    pub hs256_secret: Option<String>,
    /// Where the development secret is kept so that `childhub token` and `childhub serve` agree.
    pub secret_file: PathBuf,
    /// An OIDC provider's JWKS URL (RS256/ES256), e.g. Keycloak's `…/protocol/openid-connect/certs`.
    pub jwks_url: Option<String>,
    /// Expected `iss` claim.
    pub issuer: String,
    /// Expected `aud` claim.
    pub audience: String,
    /// Allowed clock skew.
    pub leeway_seconds: u64,
    /// Minimum time between two JWKS refetches triggered by an unknown `kid`.
    pub jwks_refetch_interval_seconds: u64,
    /// `none` (every GraphQL operation needs a token) or `public` (anonymous callers read approved
    /// city-level values of public indicators).
    pub anonymous_read: AnonymousRead,
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
    pub max_page_size: usize,
    pub default_page_size: usize,
    pub max_depth: usize,
    pub max_complexity: usize,
    pub max_batch: usize,
    pub max_aliases: usize,
    pub max_fields: usize,
    pub max_directives: usize,
    pub max_body_bytes: usize,
    pub request_timeout_seconds: u64,
    pub max_submission_rows: usize,
    /// Rows one `exportObservations` answer may carry (bigger exports stream from `/exports/…`).
    pub max_graphql_export_rows: usize,
    /// Rows one `GET /exports/observations.csv` may stream.
    pub max_export_rows: usize,
}

/// HTTP-level settings.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpSettings {
    /// Origins allowed by CORS; empty means CORS is off.
    pub cors_origins: Vec<String>,
    /// Introspection (`__schema`); defaults to on in development and off in production.
    pub introspection: Option<bool>,
}

/// The plan window and data-quality thresholds.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PlanSettings {
    /// Years a value may be submitted for.
    pub first_year: i32,
    pub last_year: i32,
    /// A value whose relative change from the previous year exceeds this share is flagged.
    pub jump_threshold: f64,
}

/// Logging.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogSettings {
    /// `tracing` filter, e.g. `info,childhub=debug`.
    pub filter: String,
    /// JSON lines instead of human-readable text.
    pub json: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            database_url: DEFAULT_DATABASE_URL.to_owned(),
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            environment: Environment::Development,
            seed_if_empty: None,
            auth: AuthSettings::default(),
            limits: Limits::default(),
            http: HttpSettings::default(),
            plan: PlanSettings::default(),
            log: LogSettings::default(),
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
            leeway_seconds: 30,
            jwks_refetch_interval_seconds: 30,
            anonymous_read: AnonymousRead::None,
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
            max_directives: 8,
            max_body_bytes: 2 * 1024 * 1024,
            request_timeout_seconds: 30,
            max_submission_rows: 10_000,
            max_graphql_export_rows: 10_000,
            max_export_rows: 5_000_000,
        }
    }
}

impl Default for PlanSettings {
    fn default() -> Self {
        PlanSettings {
            first_year: 2015,
            last_year: 2035,
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

/// A setting that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path}: {source}")]
    Parse {
        path: PathBuf,
        source: Box<toml::de::Error>,
    },
    #[error("missing setting: {0}")]
    Missing(&'static str),
    #[error("environment variable {name}={value:?}: expected {expected}")]
    Env {
        name: String,
        value: String,
        expected: &'static str,
    },
}

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
        let mut settings = match file {
            Some(path) => Self::from_file(&path)?,
            None => Settings::default(),
        };
        settings.apply_env(env)?;
        if let Some(url) = &overrides.database_url {
            settings.database_url = url.clone();
        }
        if let Some(bind) = overrides.bind {
            settings.bind = bind;
        }
        if let Some(environment) = overrides.environment {
            settings.environment = environment;
        }
        Ok(settings)
    }

    fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        toml::from_str(&text).map_err(|source| ConfigError::Parse {
            path: path.to_owned(),
            source: Box::new(source),
        })
    }

    fn apply_env(&mut self, env: impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        fn parsed<T: std::str::FromStr>(
            name: &str,
            value: String,
            expected: &'static str,
        ) -> Result<T, ConfigError> {
            value.parse().map_err(|_| ConfigError::Env {
                name: name.to_owned(),
                value,
                expected,
            })
        }
        if let Some(v) = env("CHILDHUB_DATABASE_URL") {
            self.database_url = v;
        }
        if let Some(v) = env("CHILDHUB_BIND") {
            self.bind = parsed("CHILDHUB_BIND", v, "an address like 127.0.0.1:8080")?;
        }
        if let Some(v) = env("CHILDHUB_ENVIRONMENT") {
            self.environment = match v.as_str() {
                "development" => Environment::Development,
                "production" => Environment::Production,
                _ => {
                    return Err(ConfigError::Env {
                        name: "CHILDHUB_ENVIRONMENT".into(),
                        value: v,
                        expected: "development or production",
                    });
                }
            };
        }
        if let Some(v) = env("CHILDHUB_SEED_IF_EMPTY") {
            self.seed_if_empty = Some(parsed("CHILDHUB_SEED_IF_EMPTY", v, "true or false")?);
        }
        if let Some(v) = env("CHILDHUB_JWT_SECRET") {
            self.auth.hs256_secret = Some(v);
        }
        if let Some(v) = env("CHILDHUB_JWKS_URL") {
            self.auth.jwks_url = Some(v);
        }
        if let Some(v) = env("CHILDHUB_JWT_ISSUER") {
            self.auth.issuer = v;
        }
        if let Some(v) = env("CHILDHUB_JWT_AUDIENCE") {
            self.auth.audience = v;
        }
        if let Some(v) = env("CHILDHUB_ANONYMOUS_READ") {
            self.auth.anonymous_read = match v.as_str() {
                "none" => AnonymousRead::None,
                "public" => AnonymousRead::Public,
                _ => {
                    return Err(ConfigError::Env {
                        name: "CHILDHUB_ANONYMOUS_READ".into(),
                        value: v,
                        expected: "none or public",
                    });
                }
            };
        }
        if let Some(v) = env("CHILDHUB_CORS_ORIGINS") {
            self.http.cors_origins = v.split(',').map(|s| s.trim().to_owned()).collect();
        }
        if let Some(v) = env("CHILDHUB_INTROSPECTION") {
            self.http.introspection = Some(parsed("CHILDHUB_INTROSPECTION", v, "true or false")?);
        }
        if let Some(v) = env("CHILDHUB_LOG") {
            self.log.filter = v;
        }
        if let Some(v) = env("CHILDHUB_LOG_JSON") {
            self.log.json = parsed("CHILDHUB_LOG_JSON", v, "true or false")?;
        }
        Ok(())
    }

    /// Whether the database is the embedded SQLite one.
    pub fn is_sqlite(&self) -> bool {
        self.database_url.starts_with("sqlite:")
    }

    /// Whether to load the catalogue and demo data into an empty database.
    pub fn should_seed_if_empty(&self) -> bool {
        self.seed_if_empty.unwrap_or_else(|| self.is_sqlite())
    }

    /// Whether `__schema`/`__type` introspection is answered.
    pub fn introspection_enabled(&self) -> bool {
        self.http
            .introspection
            .unwrap_or(self.environment == Environment::Development)
    }

    /// The request timeout.
    pub fn request_timeout(&self) -> Duration {
        Duration::from_secs(self.limits.request_timeout_seconds)
    }
}

impl Settings {
    /// The HS256 secret to verify and sign tokens with: the configured one; none when a JWKS URL is set;
    /// in development, one created once in `auth.secret_file` so that `childhub token` and `childhub serve`
    /// agree. Production without either is a configuration error.
    pub fn hs256_secret(&self) -> Result<Option<String>, ConfigError> {
        if let Some(secret) = &self.auth.hs256_secret {
            return Ok(Some(secret.clone()));
        }
        if self.auth.jwks_url.is_some() {
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
            if secret.len() >= 32 {
                return Ok(Some(secret));
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
        Ok(Some(secret))
    }
}
