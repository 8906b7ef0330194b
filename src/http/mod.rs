//! The HTTP surface (axum only): the router — `/` and the workspace's pages, `/graphql` (its handlers in
//! `graphql.rs`, WebSockets in `subscriptions.rs`), `/graphiql`, `/assets/…`, `/reports/…`, `/exports/…`,
//! `/templates/…`, `/healthz`, `/readyz` — and the layers every request goes through (request id,
//! tracing, timeout, body limit, CORS, security headers, errors as JSON). Who is asking: `caller.rs`.

pub mod assets;
pub mod caller;
pub mod errors;
pub mod exports;
pub mod graphql;
pub mod health;
pub mod metrics;
pub mod pages;
pub mod rate;
pub mod reports;
pub mod sdmx;
pub mod session;
pub mod signin;
pub mod subscriptions;
pub mod templates;

pub use caller::{Caller, Csrf, bearer_of, identify, identify_download};

use crate::auth::authenticate::Authenticator;
use crate::config::Settings;
use crate::graphql::AppSchema;
use crate::service::Db;
use crate::service::snapshot::Snapshots;
use axum::Router;
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::routing::get;
use std::sync::Arc;
use tower::ServiceBuilder;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnFailure, TraceLayer};

/// What browsers and Apollo clients send with a GraphQL request: the token, the body type, the
/// client's name and version (Apollo Studio), W3C trace context and a caller-chosen request id.
const CORS_REQUEST_HEADERS: [&str; 8] = [
    "authorization",
    "content-type",
    "apollographql-client-name",
    "apollographql-client-version",
    "traceparent",
    "tracestate",
    "x-request-id",
    CONSISTENCY_HEADER,
];

/// The header that carries a consistency token: the primary's WAL position after a caller's write.
/// With standbys, every mutation's answer sets it; a request that sends it back reads from a standby only once that
/// standby has replayed the write (docs/operations.md, "Read replicas").
pub const CONSISTENCY_HEADER: &str = "x-childhub-consistency";

/// The workspace's copy of the consistency token: a cookie the answer to a session's mutation sets, so
/// that the pages (and the downloads they open by links) read their own writes without any script.
pub const CONSISTENCY_COOKIE: &str = "childhub_consistency";

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The primary: every write, sessions, and reads inside writes.
    pub db: Db,
    /// Where reads go: a healthy standby, else the primary.
    pub reads: Arc<crate::service::replicas::Replicas>,
    pub schema: AppSchema,
    pub settings: Arc<Settings>,
    pub auth: Arc<Authenticator>,
    /// New events, for this replica's subscriptions.
    pub bus: crate::events::Bus,
    /// The reference data and memoised answers, checked against the database at each request.
    pub snapshots: Snapshots,
    /// Requests per caller per minute on `/graphql`.
    pub rate: rate::RateLimit,
    /// Trusted documents and the APQ memo.
    pub documents: Arc<crate::graphql::documents::Documents>,
    /// Signing in to the pages.
    pub signin: Arc<session::Signin>,
}

/// What pages may load: their own scripts and styles only (everything is served from the binary), no
/// framing, no plugins. Inline styles stay allowed for the charts' SVG.
/// Forms may post to the hub only (the development sign-in page's form); no inline script anywhere.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The router with all routes and layers.
pub fn router(state: AppState) -> Router {
    // Installed before the first request, so that nothing is counted into the void.
    metrics::handle();
    let settings = state.settings.clone();
    let request_id = HeaderName::from_static("x-request-id");
    let mut router = Router::new()
        .route("/", get(pages::dashboard))
        .route("/reporting", get(pages::reporting))
        .route("/review", get(pages::review))
        .route("/catalogue", get(pages::catalogue))
        .route("/sources", get(pages::sources))
        .route("/webhooks", get(pages::webhooks))
        .route("/signin", get(signin::signin))
        .route("/signin/callback", get(signin::callback))
        .route("/signin/dev", axum::routing::post(signin::dev_signin))
        .route("/signout", axum::routing::post(signin::signout))
        .route("/signed-out", get(signin::signed_out))
        .route("/graphql", get(graphql::graphql_get).post(graphql::post))
        .route("/graphql/ws", get(subscriptions::graphql_ws))
        .route("/reports/{year}/{file}", get(reports::get))
        .route("/exports/{file}", get(exports::get))
        .route("/templates/{department}/{file}", get(templates::get))
        .merge(sdmx::routes())
        .route("/assets/{*path}", get(assets::get))
        .route("/demo/sources/{file}", get(assets::demo_source))
        .route("/graphiql", get(pages::graphiql))
        .route("/graphiql/schema.json", get(graphql::graphiql_schema))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(metrics::render))
        .route_layer(axum::middleware::from_fn(metrics::track))
        // Uploads need more than axum's default of 2 MB; the limit layer below bounds every body.
        .layer(axum::extract::DefaultBodyLimit::max(
            settings.limits.max_upload_bytes + 1024 * 1024,
        ))
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
                .allow_headers(CORS_REQUEST_HEADERS.map(HeaderName::from_static))
                .expose_headers([
                    HeaderName::from_static("x-request-id"),
                    HeaderName::from_static(CONSISTENCY_HEADER),
                ])
                .max_age(std::time::Duration::from_secs(600)),
        );
    }
    router
        .layer(
            ServiceBuilder::new()
                .layer(SetResponseHeaderLayer::if_not_present(
                    header::CONTENT_SECURITY_POLICY,
                    HeaderValue::from_static(CONTENT_SECURITY_POLICY),
                ))
                .layer(SetResponseHeaderLayer::if_not_present(
                    header::X_FRAME_OPTIONS,
                    HeaderValue::from_static("DENY"),
                ))
                .layer(SetResponseHeaderLayer::if_not_present(
                    header::X_CONTENT_TYPE_OPTIONS,
                    HeaderValue::from_static("nosniff"),
                ))
                .layer(SetResponseHeaderLayer::if_not_present(
                    header::REFERRER_POLICY,
                    HeaderValue::from_static("no-referrer"),
                ))
                // Uploads may be larger than other bodies; `/graphql` holds JSON bodies to
                // `max_body_bytes` itself.
                .layer(RequestBodyLimitLayer::new(
                    settings
                        .limits
                        .max_body_bytes
                        .max(settings.limits.max_upload_bytes + 1024 * 1024),
                ))
                .layer(SetRequestIdLayer::new(request_id.clone(), MakeRequestUuid))
                .layer(
                    TraceLayer::new_for_http()
                        .make_span_with(|request: &axum::http::Request<_>| {
                            let id = request
                                .headers()
                                .get("x-request-id")
                                .and_then(|v| v.to_str().ok())
                                .unwrap_or("");
                            crate::telemetry::request_span(
                                request.method().as_str(),
                                request.uri().path(),
                                id,
                                request.headers(),
                            )
                        })
                        .on_response(
                            |response: &axum::http::Response<_>,
                             latency: std::time::Duration,
                             span: &tracing::Span| {
                                crate::telemetry::record_response(span, response.status().as_u16());
                                tracing::debug!(
                                    status = response.status().as_u16(),
                                    ?latency,
                                    "answered"
                                );
                            },
                        )
                        // A 5xx is logged where its cause is known (an internal error at ERROR, an unavailable
                        // database at WARN); the layer's own line is a warning, not a second ERROR.
                        .on_failure(DefaultOnFailure::new().level(tracing::Level::WARN)),
                )
                .layer(PropagateRequestIdLayer::new(request_id))
                .layer(TimeoutLayer::with_status_code(
                    StatusCode::REQUEST_TIMEOUT,
                    settings.limits.request_timeout,
                )),
        )
        // Outermost, so that every error a layer above makes (body limit, timeout) is JSON with a code.
        .layer(axum::middleware::map_response(errors::json_errors))
}
