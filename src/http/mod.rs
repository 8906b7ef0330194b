//! The HTTP surface (axum only): `/` (dashboard), `/graphql`, `/graphiql`, `/reports/…`, `/healthz`,
//! `/readyz`, and the layers every
//! request goes through (request id, tracing, timeout, body limit, CORS).

pub mod graphql;
pub mod health;
pub mod reports;

use crate::auth::authenticate::Authenticator;
use crate::config::Settings;
use crate::graphql::AppSchema;
use axum::Router;
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::Html;
use axum::routing::get;
use sea_orm::DatabaseConnection;
use std::sync::Arc;
use tower::ServiceBuilder;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub schema: AppSchema,
    pub settings: Arc<Settings>,
    pub auth: Arc<Authenticator>,
}

const GRAPHIQL_PAGE: &str = include_str!("graphiql.html");
const DASHBOARD_PAGE: &str = include_str!("dashboard.html");

/// The dashboard: a static page that signs in with a token and reads `/graphql`.
async fn dashboard() -> Html<&'static str> {
    Html(DASHBOARD_PAGE)
}

async fn graphiql() -> Html<&'static str> {
    Html(GRAPHIQL_PAGE)
}

/// The schema's introspection result, computed once per process.
async fn graphiql_schema() -> impl axum::response::IntoResponse {
    static SCHEMA: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    let json = SCHEMA
        .get_or_init(crate::graphql::introspection_json)
        .await
        .clone();
    ([(header::CONTENT_TYPE, "application/json")], json)
}

/// The router with all routes and layers.
pub fn router(state: AppState) -> Router {
    let settings = state.settings.clone();
    let request_id = HeaderName::from_static("x-request-id");
    let mut router = Router::new()
        .route("/", get(dashboard))
        .route("/graphql", get(graphql::get).post(graphql::post))
        .route("/reports/{year}/{file}", get(reports::get))
        .route("/graphiql", get(graphiql))
        .route("/graphiql/schema.json", get(graphiql_schema))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .with_state(state);
    if !settings.http.cors_origins.is_empty() {
        let origins: Vec<HeaderValue> = settings
            .http
            .cors_origins
            .iter()
            .filter_map(|o| HeaderValue::from_str(o).ok())
            .collect();
        router = router.layer(
            CorsLayer::new()
                .allow_origin(AllowOrigin::list(origins))
                .allow_methods([Method::GET, Method::POST])
                .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE]),
        );
    }
    router.layer(
        ServiceBuilder::new()
            .layer(RequestBodyLimitLayer::new(settings.limits.max_body_bytes))
            .layer(SetRequestIdLayer::new(request_id.clone(), MakeRequestUuid))
            .layer(
                TraceLayer::new_for_http().make_span_with(|request: &axum::http::Request<_>| {
                    let id = request
                        .headers()
                        .get("x-request-id")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("");
                    tracing::info_span!("request", method = %request.method(), uri = %request.uri().path(), request_id = %id)
                }),
            )
            .layer(PropagateRequestIdLayer::new(request_id))
            .layer(TimeoutLayer::with_status_code(
                StatusCode::REQUEST_TIMEOUT,
                settings.request_timeout(),
            )),
    )
}
