//! Everything the pages load, served from the binary (a city intranet has no CDN): the workspace's
//! styles and scripts, and the pinned GraphiQL packages under `assets/vendor` (see
//! `scripts/vendor-assets.sh`, which fetches and checks them). The pages themselves are `pages`'.

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

/// One embedded file: its path under `/assets/`, content type and bytes.
struct Asset {
    path: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
}

macro_rules! asset {
    ($path:literal, $type:expr) => {
        Asset {
            path: $path,
            content_type: $type,
            bytes: include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/assets/", $path)),
        }
    };
}

const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const TEXT: &str = "text/plain; charset=utf-8";

static ASSETS: &[Asset] = &[
    asset!("workspace.css", CSS),
    asset!("workspace/api.js", JS),
    asset!("workspace/dashboard.js", JS),
    asset!("workspace/reporting.js", JS),
    asset!("workspace/review.js", JS),
    asset!("workspace/catalogue.js", JS),
    asset!("workspace/sources.js", JS),
    asset!("workspace/webhooks.js", JS),
    asset!("workspace/graphiql.js", JS),
    asset!("vendor/graphiql.min.js", JS),
    asset!("vendor/graphiql.min.css", CSS),
    asset!("vendor/react.production.min.js", JS),
    asset!("vendor/react-dom.production.min.js", JS),
    asset!("vendor/LICENSE.graphiql", TEXT),
    asset!("vendor/LICENSE.react", TEXT),
    asset!("vendor/LICENSE.react-dom", TEXT),
];

/// Sample files a department's system might publish, so that docs/sources.md's example runs on one
/// machine: `GET /demo/sources/{file}`.
static DEMO_SOURCES: &[Asset] = &[asset!(
    "demo/vaccination-2026.csv",
    "text/csv; charset=utf-8"
)];

/// `GET /demo/sources/{file}`.
pub async fn demo_source(Path(file): Path<String>) -> Response {
    match DEMO_SOURCES
        .iter()
        .find(|a| a.path.strip_prefix("demo/") == Some(file.as_str()))
    {
        Some(asset) => ([(header::CONTENT_TYPE, asset.content_type)], asset.bytes).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// `GET /assets/{path}`.
pub async fn get(Path(path): Path<String>) -> Response {
    match ASSETS.iter().find(|a| a.path == path) {
        Some(asset) => (
            [
                (header::CONTENT_TYPE, asset.content_type),
                // The files change only with a new release of the binary.
                (header::CACHE_CONTROL, "public, max-age=3600"),
            ],
            asset.bytes,
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
