//! `/healthz` (the process is up) and `/readyz` (the database answers; with read replicas, how each
//! pool stands).

use crate::http::AppState;
use axum::extract::State;
use axum::http::StatusCode;

/// The process is up and serving.
pub async fn healthz() -> &'static str {
    "ok"
}

/// How long readiness waits for the database: a load balancer's probe gets its answer within a second.
const READY_WITHIN: std::time::Duration = std::time::Duration::from_secs(1);

/// The primary answers a ping within a second; 503 otherwise. With read replicas the body lists every
/// pool after `ready`: its state, its lag and the requests it served (a standby that is down does not
/// make the hub unready: reads go to the primary meanwhile).
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, String) {
    match tokio::time::timeout(READY_WITHIN, state.db.ping()).await {
        Ok(Ok(())) => (StatusCode::OK, ready_text(&state)),
        Err(_) => {
            tracing::warn!("readiness check: no database answer within a second");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "database unavailable".into(),
            )
        }
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "database unavailable".into(),
            )
        }
    }
}

fn ready_text(state: &AppState) -> String {
    let mut text = String::from("ready");
    if !state.reads.has_standbys() {
        return text;
    }
    for pool in state.reads.pools() {
        let lag = pool
            .lag
            .map(|l| format!(", lag {:.3}s", l.as_secs_f64()))
            .unwrap_or_default();
        text.push_str(&format!(
            "\n{}: {}{lag}, {} requests served",
            pool.name,
            pool.status.as_str(),
            pool.served
        ));
    }
    text
}
