//! `/healthz` (the process is up) and `/readyz` (the database answers).

use crate::http::AppState;
use axum::extract::State;
use axum::http::StatusCode;

/// The process is up and serving.
pub async fn healthz() -> &'static str {
    "ok"
}

/// How long readiness waits for the database: a load balancer's probe gets its answer within a second.
const READY_WITHIN: std::time::Duration = std::time::Duration::from_secs(1);

/// The database answers a ping within a second; 503 otherwise.
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, &'static str) {
    match tokio::time::timeout(READY_WITHIN, state.db.ping()).await {
        Ok(Ok(())) => (StatusCode::OK, "ready"),
        Err(_) => {
            tracing::warn!("readiness check: no database answer within a second");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
        }
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
        }
    }
}
