//! `GET /metrics` in Prometheus text format, and the HTTP middleware that counts requests.
//!
//! Counters and histograms are recorded with the `metrics` crate's macros where things happen (HTTP here,
//! GraphQL operations in `http/graphql.rs`, submissions and decisions in `service`, source runs in
//! `sources`, webhook deliveries in `events`); this module installs the one process-wide Prometheus
//! recorder and renders it. Pool gauges are read from the pool when scraped. In production the endpoint
//! needs `metrics.token` (a bearer token of its own); without one it is not served there at all.

use crate::config::Environment;
use crate::http::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use secrecy::ExposeSecret;
use std::sync::OnceLock;
use std::time::Instant;
// Compared in constant time, so a scraper's token cannot be guessed from response times.
use subtle::ConstantTimeEq;

/// Latency buckets (seconds) from a cached catalogue read to a slow report.
const LATENCY_BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// The process's recorder, installed on first use (one per process, however many servers it runs).
pub fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &LATENCY_BUCKETS)
            .map(PrometheusBuilder::build_recorder)
            .unwrap_or_else(|_| PrometheusBuilder::new().build_recorder());
        let handle = recorder.handle();
        // Fails only when another recorder is installed already; this one still renders what it saw.
        let _ = metrics::set_global_recorder(recorder);
        handle
    })
}

/// Counts every request by route template (never the raw path: ids would explode the series), method
/// and status, with its latency.
pub async fn track(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = request.method().as_str().to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!("childhub_http_requests_total", "route" => route.clone(), "method" => method, "status" => status)
        .increment(1);
    metrics::histogram!("childhub_http_request_duration_seconds", "route" => route)
        .record(started.elapsed().as_secs_f64());
    response
}

/// `GET /metrics`.
pub async fn render(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let settings = &state.settings.metrics;
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match (&settings.token, presented) {
        (Some(token), Some(given))
            if bool::from(token.expose_secret().as_bytes().ct_eq(given.as_bytes())) => {}
        (Some(_), _) => {
            return (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "Bearer")],
                "metrics need the bearer token configured as metrics.token",
            )
                .into_response();
        }
        (None, _) if state.settings.environment == Environment::Production => {
            return (
                StatusCode::NOT_FOUND,
                "metrics are off in production until metrics.token is set",
            )
                .into_response();
        }
        (None, _) => {}
    }
    pool_gauges(&state);
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        handle().render(),
    )
        .into_response()
}

/// Connections in use and idle, read from the pool at scrape time.
fn pool_gauges(state: &AppState) {
    let (size, idle) = crate::service::pool_usage(&state.db);
    metrics::gauge!("childhub_db_connections", "state" => "idle").set(f64::from(idle));
    metrics::gauge!("childhub_db_connections", "state" => "in_use")
        .set(f64::from(size.saturating_sub(idle)));
    if !state.reads.has_standbys() {
        return;
    }
    for pool in state.reads.pools() {
        let name = pool.name.clone();
        metrics::gauge!("childhub_db_pool_up", "pool" => name.clone()).set(
            if pool.status == crate::service::replicas::Status::Healthy {
                1.0
            } else {
                0.0
            },
        );
        if let Some(lag) = pool.lag {
            metrics::gauge!("childhub_db_replica_lag_seconds", "pool" => name.clone())
                .set(lag.as_secs_f64());
        }
        // A counter kept by the router, published here as the total so far.
        metrics::counter!("childhub_db_pool_requests_total", "pool" => name).absolute(pool.served);
    }
}
