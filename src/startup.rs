//! Wiring: connect, migrate, seed an empty embedded database, build the schema and router, and bind.

use crate::auth::authenticate::Authenticator;
use crate::auth::token::Verifier;
use crate::config::Settings;
use crate::error::{AppError, AppResult};
use crate::graphql::build_schema;
use crate::http::{AppState, router};
use crate::seed;
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
    let mut options = ConnectOptions::new(settings.database_url().to_owned());
    options.sqlx_logging(false);
    if settings.is_sqlite() {
        // One writer at a time is SQLite's model; a small pool avoids lock contention on writes.
        options.max_connections(4);
    }
    Database::connect(options)
        .await
        .map_err(|e| AppError::Internal(format!("connecting to the database: {e}")))
}

fn sqlite_path(url: &str) -> Option<&str> {
    let rest = url.strip_prefix("sqlite://")?;
    let path = rest.split('?').next()?;
    (!path.is_empty() && path != ":memory:").then_some(path)
}

/// Applies every pending migration.
pub async fn migrate(db: &DatabaseConnection) -> AppResult<()> {
    Migrator::up(db, None)
        .await
        .map_err(|e| AppError::Internal(format!("migrating: {e}")))
}

/// Loads the catalogue and the demo into an empty database when the settings ask for it.
pub async fn seed_if_empty(db: &DatabaseConnection, settings: &Settings) -> AppResult<bool> {
    if !settings.should_seed_if_empty() || !seed::is_empty(db).await? {
        return Ok(false);
    }
    seed::load_catalogue(db).await?;
    seed::load_demo(db).await?;
    Ok(true)
}

/// The application: state and router, ready to serve.
pub struct App {
    pub state: AppState,
    pub router: axum::Router,
}

/// Builds the application over an open, migrated database.
pub fn build(db: DatabaseConnection, settings: Settings) -> AppResult<App> {
    let settings = Arc::new(settings);
    let secret = settings
        .hs256_secret()
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let verifier = Verifier::new(&settings.auth, secret.as_ref().map(|s| s.expose_secret()))?;
    let state = AppState {
        schema: build_schema(db.clone(), settings.clone()),
        auth: Arc::new(Authenticator::new(
            verifier,
            settings.auth.anonymous_read,
            Arc::new(crate::service::catalogue::DepartmentDirectory(db.clone())),
        )),
        settings,
        db,
    };
    Ok(App {
        router: router(state.clone()),
        state,
    })
}

/// Binds the listener (port 0 picks a free port) and returns it with its address.
pub async fn bind(addr: SocketAddr) -> AppResult<(TcpListener, SocketAddr)> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|e| AppError::Internal(format!("binding {addr}: {e}")))?;
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
