//! The HTTP surface (axum only): `/` (dashboard), `/graphql`, `/graphiql`, `/assets/…`, `/reports/…`,
//! `/exports/…`, `/healthz`, `/readyz`, and the layers every request goes through (request id, tracing,
//! timeout, body limit, CORS, security headers, errors as JSON).

pub mod assets;
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

use crate::auth::authenticate::Authenticator;
use crate::config::Settings;
use crate::graphql::AppSchema;
use crate::service::Db;
use crate::service::snapshot::{Snapshot, Snapshots};
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
const CORS_REQUEST_HEADERS: [&str; 7] = [
    "authorization",
    "content-type",
    "apollographql-client-name",
    "apollographql-client-version",
    "traceparent",
    "tracestate",
    "x-request-id",
];

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
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

/// `GET /graphql`: a WebSocket upgrade starts a subscription session; anything else is a query.
async fn graphql_get(
    axum::extract::State(state): axum::extract::State<AppState>,
    request: axum::extract::Request,
) -> axum::response::Response {
    use axum::extract::FromRequestParts;
    let (mut parts, _) = request.into_parts();
    let upgrade = parts
        .headers
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    if upgrade {
        return graphql_ws_parts(state, &mut parts).await;
    }
    let query = axum::extract::Query::from_request_parts(&mut parts, &state).await;
    match query {
        Ok(query) => graphql::get(axum::extract::State(state), parts.headers, query).await,
        Err(rejection) => axum::response::IntoResponse::into_response(rejection),
    }
}

/// `GET /graphql/ws`: subscriptions.
async fn graphql_ws(
    axum::extract::State(state): axum::extract::State<AppState>,
    request: axum::extract::Request,
) -> axum::response::Response {
    let (mut parts, _) = request.into_parts();
    graphql_ws_parts(state, &mut parts).await
}

async fn graphql_ws_parts(
    state: AppState,
    parts: &mut axum::http::request::Parts,
) -> axum::response::Response {
    use axum::extract::FromRequestParts;
    use axum::response::IntoResponse;
    let protocol =
        match async_graphql_axum::GraphQLProtocol::from_request_parts(parts, &state).await {
            Ok(p) => p,
            Err(status) => return status.into_response(),
        };
    // A router in passthrough mode forwards the client's Authorization header on the handshake; a
    // token in `connection_init` wins over it. A page's socket comes with the session cookie instead —
    // only from the hub's own pages: a socket opened by another site's script (which the browser would
    // send the cookie with) is refused by its Origin.
    let mut authorization = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    if authorization.is_none()
        && session::cookie(&parts.headers, session::cookie_name(&state.settings)).is_some()
    {
        if !same_origin(&parts.headers) {
            return graphql::error_response(&crate::error::AppError::Forbidden(
                "a WebSocket with the session cookie must come from the hub's own pages (Origin)"
                    .into(),
            ));
        }
        authorization = match bearer_of(&state, &parts.headers, Csrf::NotNeeded).await {
            Ok(found) => found,
            Err(e) => return graphql::error_response(&e),
        };
    }
    match axum::extract::ws::WebSocketUpgrade::from_request_parts(parts, &state).await {
        Ok(ws) => subscriptions::upgrade(state, protocol, ws, authorization).await,
        Err(rejection) => rejection.into_response(),
    }
}

/// Whether the request's `Origin` is the hub itself (the host the request was sent to).
fn same_origin(headers: &axum::http::HeaderMap) -> bool {
    let text = |name| {
        headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
    };
    let (Some(origin), Some(host)) = (text(header::ORIGIN), text(header::HOST)) else {
        return false;
    };
    origin
        .split_once("://")
        .is_some_and(|(_, authority)| authority.eq_ignore_ascii_case(host))
}

/// Who is asking, and the snapshot of reference data the request reads: one for the whole request, so
/// that every part of an answer agrees.
pub struct Caller {
    pub identity: crate::auth::Identity,
    pub snapshot: Arc<Snapshot>,
}

impl Caller {
    /// What the caller may read.
    pub fn scope(&self) -> crate::service::observations::ReadScope {
        self.snapshot.scope(&self.identity)
    }
}

/// Whether a request that authenticates with the session cookie must carry the session's CSRF token:
/// every GraphQL request and sign-out must; a download opened by a link (an export, a report) cannot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Csrf {
    Required,
    NotNeeded,
}

/// The caller of a request, from its `Authorization` header or else its session cookie (with the CSRF
/// token); a refusal is the error response to send.
pub async fn identify(
    state: &AppState,
    headers: &axum::http::HeaderMap,
) -> Result<Caller, axum::response::Response> {
    identify_as(state, headers, Csrf::Required).await
}

/// [`identify`] for downloads a page opens with a link: the session cookie alone identifies.
pub async fn identify_download(
    state: &AppState,
    headers: &axum::http::HeaderMap,
) -> Result<Caller, axum::response::Response> {
    identify_as(state, headers, Csrf::NotNeeded).await
}

/// The bearer header of the request: its own, or its session's (renewed when due). A session cookie
/// that no longer leads to a session is a clear refusal, not an anonymous caller.
pub async fn bearer_of(
    state: &AppState,
    headers: &axum::http::HeaderMap,
    csrf: Csrf,
) -> crate::error::AppResult<Option<String>> {
    if let Some(own) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        return Ok(Some(own.to_owned()));
    }
    let Some(found) = session::current(&state.db, &state.settings, &state.signin, headers).await?
    else {
        if session::cookie(headers, session::cookie_name(&state.settings)).is_some() {
            return Err(crate::error::AppError::Unauthenticated(
                "your session has ended: sign in again at /signin".into(),
            ));
        }
        return Ok(None);
    };
    if csrf == Csrf::Required && !session::csrf_matches(headers, &found) {
        return Err(session::csrf_refused());
    }
    Ok(Some(format!("Bearer {}", found.access_token)))
}

async fn identify_as(
    state: &AppState,
    headers: &axum::http::HeaderMap,
    csrf: Csrf,
) -> Result<Caller, axum::response::Response> {
    let identified = async {
        let authorization = bearer_of(state, headers, csrf).await?;
        let snapshot = state.snapshots.current(&state.db).await?;
        let identity = state
            .auth
            .identify(authorization.as_deref(), snapshot.reference.as_ref())
            .await?;
        Ok::<_, crate::error::AppError>(Caller { identity, snapshot })
    };
    identified.await.map_err(|e| graphql::error_response(&e))
}

/// The schema's introspection result for GraphiQL, computed once per process. Where `/graphql` answers
/// introspection it is public too; otherwise it needs a valid token, like the API.
async fn graphiql_schema(
    axum::extract::State(state): axum::extract::State<AppState>,
    headers: axum::http::HeaderMap,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    if !state.settings.introspection_enabled() {
        let caller = match identify(&state, &headers).await {
            Ok(caller) => caller,
            Err(refused) => return refused,
        };
        if caller.identity.member().is_none() {
            return graphql::error_response(&crate::error::AppError::Unauthenticated(
                "the schema needs a bearer token where introspection is off".into(),
            ));
        }
    }
    static SCHEMA: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    let json = SCHEMA
        .get_or_init(crate::graphql::introspection_json)
        .await
        .clone();
    ([(header::CONTENT_TYPE, "application/json")], json).into_response()
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
        .route("/graphql", get(graphql_get).post(graphql::post))
        .route("/graphql/ws", get(graphql_ws))
        .route("/reports/{year}/{file}", get(reports::get))
        .route("/exports/{file}", get(exports::get))
        .route("/templates/{department}/{file}", get(templates::get))
        .route("/sdmx/data/{indicator}", get(sdmx::data))
        .route("/assets/{*path}", get(assets::get))
        .route("/demo/sources/{file}", get(assets::demo_source))
        .route("/graphiql", get(pages::graphiql))
        .route("/graphiql/schema.json", get(graphiql_schema))
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
                .expose_headers([HeaderName::from_static("x-request-id")])
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
