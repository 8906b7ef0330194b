//! Wiring: connect, migrate, seed an empty embedded database, build the schema and router, and bind.

use crate::auth::authenticate::Authenticator;
use crate::auth::token::Verifier;
use crate::config::Settings;
use crate::error::{AppError, AppResult};
use crate::events::{self, Bus};
use crate::graphql::build_schema;
use crate::http::{AppState, router};
use crate::seed;
use crate::service::snapshot::Snapshots;
use crate::sources::config::SourceConfig;
use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, Database, DatabaseConnection};
use secrecy::ExposeSecret;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;

/// Connects to the configured database, creating the SQLite file's folder when needed.
pub async fn connect(settings: &Settings) -> AppResult<DatabaseConnection> {
    if let Some(path) = sqlite_path(settings.database_url())
        && let Some(dir) = std::path::Path::new(path).parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir)
            .map_err(|e| AppError::Internal(format!("creating {}: {e}", dir.display())))?;
    }
    let pool = &settings.database;
    let mut options = ConnectOptions::new(settings.database_url().to_owned());
    // One writer at a time is SQLite's model; a small pool avoids lock contention on writes.
    let default_size = if settings.is_sqlite() { 4 } else { 10 };
    options
        .sqlx_logging(false)
        .max_connections(pool.max_connections.unwrap_or(default_size))
        .acquire_timeout(pool.acquire_timeout)
        .connect_timeout(pool.connect_timeout);
    let busy = pool.sqlite_busy_timeout;
    // Write-ahead logging: readers never wait for a writer and a writer never waits for readers, so an
    // import and the server share one file. NORMAL synchronisation is safe with WAL (a power cut can lose
    // the last commits, never corrupt the file) and spares an fsync per commit. Every connection of every
    // process (serve, the command line) opens the file the same way, here.
    options.map_sqlx_sqlite_opts(move |o| {
        o.busy_timeout(busy)
            .journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
            .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
    });
    let statement_timeout = format!("{}ms", pool.statement_timeout.as_millis());
    options.map_sqlx_postgres_opts(move |o| {
        o.options([("statement_timeout", statement_timeout.as_str())])
    });
    let mut db = Database::connect(options)
        .await
        .map_err(|e| connect_error(settings, &e.to_string()))?;
    db.set_metric_callback(crate::service::record_statement);
    Ok(db)
}

/// What a failed connection means for the person starting the hub, in words they can act on.
fn connect_error(settings: &Settings, cause: &str) -> AppError {
    let url = settings.database_url();
    let name = url
        .rsplit('/')
        .next()
        .and_then(|n| n.split('?').next())
        .unwrap_or("childhub");
    if cause.contains("does not exist") && cause.contains("database") {
        return AppError::invalid(
            "database_url",
            format!("database {name}"),
            format!(
                "an existing database: create it first, e.g. `createdb {name}` or `psql -c 'CREATE DATABASE {name}'`, then run `childhub seed` to load the plan's catalogue"
            ),
        );
    }
    if cause.contains("password authentication failed") || cause.contains("no password") {
        return AppError::invalid(
            "database_url",
            "its user and password",
            "credentials the database accepts (CHILDHUB_DATABASE_URL=postgres://USER:PASSWORD@HOST:5432/NAME)",
        );
    }
    // Opening the pool waits for its first connection, bounded by both timeouts.
    let waited = settings
        .database
        .acquire_timeout
        .min(settings.database.connect_timeout);
    AppError::Unavailable(format!(
        "connecting to the database (is it running and reachable? it was given {} to answer): {cause}",
        humantime::format_duration(waited)
    ))
}

fn sqlite_path(url: &str) -> Option<&str> {
    let rest = url.strip_prefix("sqlite://")?;
    let path = rest.split('?').next()?;
    (!path.is_empty() && path != ":memory:").then_some(path)
}

/// The PostgreSQL advisory lock replicas take while they migrate and seed ("childhub" in ASCII).
const SETUP_LOCK: i64 = 0x6368_696c_6468_7562;

/// Runs `work` holding the database's setup lock, so that replicas starting together on one empty
/// PostgreSQL database migrate and seed one after another instead of colliding. SQLite serializes
/// writers itself (and is one process).
pub async fn under_setup_lock<T>(
    db: &DatabaseConnection,
    work: impl std::future::Future<Output = AppResult<T>>,
) -> AppResult<T> {
    if db.get_database_backend() != sea_orm::DbBackend::Postgres {
        return work.await;
    }
    let pool = db.get_postgres_connection_pool();
    let fail = |e: sea_orm::sqlx::Error| AppError::Internal(format!("the setup lock: {e}"));
    // The lock belongs to one session: hold this connection until the work is done.
    let mut connection = pool.acquire().await.map_err(fail)?;
    sea_orm::sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(SETUP_LOCK)
        .execute(&mut *connection)
        .await
        .map_err(fail)?;
    let result = work.await;
    let _ = sea_orm::sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(SETUP_LOCK)
        .execute(&mut *connection)
        .await;
    result
}

/// Applies every pending migration (under the setup lock).
pub async fn migrate(db: &DatabaseConnection) -> AppResult<()> {
    under_setup_lock(db, async {
        Migrator::up(db, None)
            .await
            .map_err(|e| AppError::Internal(format!("migrating: {e}")))
    })
    .await
}

/// The sources of the settings file (`[[sources]]`), read and checked; errors name the source and key.
pub fn configured_sources(settings: &Settings) -> AppResult<Vec<SourceConfig>> {
    settings
        .sources
        .iter()
        .enumerate()
        .map(|(i, value)| {
            serde_json::from_value::<SourceConfig>(value.clone()).map_err(|e| {
                let name = value["name"].as_str().unwrap_or("?");
                AppError::invalid(
                    format!("sources[{i}] ({name})"),
                    e.to_string(),
                    "a source description with the keys of docs/sources.md",
                )
            })
        })
        .collect()
}

/// Brings the settings file's sources into the database (under the setup lock).
pub async fn sync_sources(db: &DatabaseConnection, settings: &Settings) -> AppResult<()> {
    let configured = configured_sources(settings)?;
    under_setup_lock(db, crate::sources::sync_from_settings(db, &configured)).await
}

/// Loads the catalogue and the demo into an empty database when the settings ask for it (under the
/// setup lock, so that only the first replica seeds).
pub async fn seed_if_empty(db: &DatabaseConnection, settings: &Settings) -> AppResult<bool> {
    if !settings.should_seed_if_empty() {
        return Ok(false);
    }
    under_setup_lock(db, async {
        if !seed::is_empty(db).await? {
            return Ok(false);
        }
        seed::load_catalogue(db).await?;
        seed::load_demo(db).await?;
        Ok(true)
    })
    .await
}

/// The application: state and router, ready to serve, and its background tasks (the event relay, and
/// unless switched off the events worker).
pub struct App {
    pub state: AppState,
    pub router: axum::Router,
    pub tasks: Vec<tokio::task::JoinHandle<()>>,
}

/// Builds the application over an open, migrated database and starts its background tasks (call it
/// inside the Tokio runtime).
pub fn build(db: DatabaseConnection, settings: Settings) -> AppResult<App> {
    let settings = Arc::new(settings);
    let bus = Bus::new();
    let secret = settings
        .hs256_secret()
        .map_err(|e| AppError::Settings(e.to_string()))?;
    let verifier = Verifier::new(
        &settings.auth,
        secret.as_ref().map(|s| s.expose_secret()),
        settings.oidc_signin(),
    )?;
    let oidc = crate::auth::oidc::OidcClient::from_settings(&settings)
        .map_err(|e| AppError::Settings(e.to_string()))?;
    // "Sign in as …" exists in development only, and only where no provider signs people in.
    let dev_secret = (settings.environment == crate::config::Environment::Development
        && oidc.is_none())
    .then(|| secret.clone())
    .flatten();
    let reads = crate::service::replicas::Replicas::new(db.clone(), &settings)?;
    // New suppression releases are stored on the primary when reads may go to read-only standbys.
    let snapshots = Snapshots::new(reads.has_standbys().then(|| db.clone()));
    let documents = Arc::new(
        crate::graphql::documents::Documents::load(&settings.documents)
            .map_err(AppError::Settings)?,
    );
    let state = AppState {
        schema: build_schema(
            db.clone(),
            settings.clone(),
            bus.clone(),
            snapshots.clone(),
            documents.clone(),
        ),
        auth: Arc::new(Authenticator::new(verifier, settings.auth.anonymous_read)),
        bus: bus.clone(),
        snapshots: snapshots.clone(),
        rate: crate::http::rate::RateLimit::new(settings.limits.requests_per_minute),
        documents,
        signin: Arc::new(crate::http::session::Signin { oidc, dev_secret }),
        settings: settings.clone(),
        db: db.clone(),
        reads: reads.clone(),
    };
    let mut tasks = vec![tokio::spawn(events::bus::relay(
        db.clone(),
        settings.database_url().to_owned(),
        settings.events.poll_interval,
        bus,
    ))];
    if reads.has_standbys() {
        tasks.push(tokio::spawn(reads.watch()));
    }
    if settings.events.workers {
        tasks.push(tokio::spawn(events::worker::run(
            db.clone(),
            settings.clone(),
            snapshots,
            process_name(),
        )));
    }
    if settings.connectors.scheduler {
        tasks.push(tokio::spawn(crate::sources::scheduler::run(
            db,
            settings.clone(),
            process_name(),
        )));
    }
    Ok(App {
        router: router(state.clone()),
        state,
        tasks,
    })
}

/// This process's name in leases: host, process id and a random suffix.
fn process_name() -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "childhub".into());
    format!(
        "{host}:{}:{}",
        std::process::id(),
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    )
}

/// Binds the listener (port 0 picks a free port) and returns it with its address.
pub async fn bind(addr: SocketAddr) -> AppResult<(TcpListener, SocketAddr)> {
    let listener = TcpListener::bind(addr).await.map_err(|e| match e.kind() {
        std::io::ErrorKind::AddrInUse => AppError::invalid(
            "--bind",
            addr,
            "a free address: another program (perhaps another childhub) already listens there; choose one with --bind, e.g. --bind 127.0.0.1:8081",
        ),
        std::io::ErrorKind::PermissionDenied => AppError::invalid(
            "--bind",
            addr,
            "a port this user may open (ports below 1024 need privileges), e.g. --bind 127.0.0.1:8080",
        ),
        _ => AppError::Internal(format!("binding {addr}: {e}")),
    })?;
    let local = listener
        .local_addr()
        .map_err(|e| AppError::Internal(format!("reading the bound address: {e}")))?;
    Ok((listener, local))
}

/// Serves until `shutdown` resolves, then finishes the requests in flight.
pub async fn serve(
    listener: TcpListener,
    router: axum::Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> AppResult<()> {
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(|e| AppError::Internal(format!("serving: {e}")))
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down");
}
