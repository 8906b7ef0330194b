//! Who is asking: the caller of a request from its `Authorization` header or else its session cookie
//! (with the CSRF token where one is needed), where the request reads (a standby or the primary, from
//! its consistency token) and the snapshot of reference data it reads there.

use crate::error::{AppError, AppResult};
use crate::http::graphql::error_response;
use crate::http::{AppState, session};
use crate::service::Db;
use crate::service::replicas::{Lsn, Route};
use crate::service::snapshot::Snapshot;
use axum::http::header;
use std::sync::Arc;

/// Who is asking, where the request reads, and the snapshot of reference data it reads there: one for
/// the whole request, so that every part of an answer agrees.
pub struct Caller {
    pub identity: crate::auth::Identity,
    pub snapshot: Arc<Snapshot>,
    pub route: Route,
}

impl Caller {
    /// What the caller may read.
    pub fn scope(&self) -> crate::service::observations::ReadScope {
        self.snapshot.scope(&self.identity)
    }

    /// Where the request reads.
    pub fn db(&self) -> &Db {
        &self.route.db
    }
}

/// The consistency token the request sent back: the `x-childhub-consistency` header, else the
/// workspace's cookie of that name (which a download opened by a link carries too), if any.
pub fn consistency_token(headers: &axum::http::HeaderMap) -> AppResult<Option<Lsn>> {
    let Some(value) = headers.get(crate::http::CONSISTENCY_HEADER) else {
        // The hub set the cookie itself; one that does not read is ignored, not refused.
        return Ok(session::cookie(headers, crate::http::CONSISTENCY_COOKIE)
            .and_then(|text| Lsn::parse(&text)));
    };
    value
        .to_str()
        .ok()
        .and_then(Lsn::parse)
        .map(Some)
        .ok_or_else(|| {
            AppError::invalid(
                crate::http::CONSISTENCY_HEADER,
                String::from_utf8_lossy(value.as_bytes()),
                "the token a mutation's answer carried in this header, e.g. 0/1A2B3C4D",
            )
        })
}

/// Where a read of this request goes: a standby that has replayed the caller's token, else the primary.
pub fn read_route(state: &AppState, headers: &axum::http::HeaderMap) -> AppResult<Route> {
    Ok(state.reads.reader(consistency_token(headers)?))
}

/// The snapshot at `route`, moving to the primary when a standby cannot give it.
pub async fn snapshot_at(state: &AppState, route: &mut Route) -> AppResult<Arc<Snapshot>> {
    match state.snapshots.current(&route.db).await {
        Err(AppError::Unavailable(_)) if route.is_standby() => {
            state.reads.failed(route);
            *route = state.reads.primary();
            state.snapshots.current(&route.db).await
        }
        found => found,
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
) -> AppResult<Option<String>> {
    if let Some(own) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        return Ok(Some(own.to_owned()));
    }
    let Some(found) = session::current(&state.db, &state.settings, &state.signin, headers).await?
    else {
        if session::cookie(headers, session::cookie_name(&state.settings)).is_some() {
            return Err(AppError::Unauthenticated(
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
        let mut route = read_route(state, headers)?;
        let authorization = bearer_of(state, headers, csrf).await?;
        let snapshot = snapshot_at(state, &mut route).await?;
        let identity = state
            .auth
            .identify(authorization.as_deref(), snapshot.reference.as_ref())
            .await?;
        Ok::<_, crate::error::AppError>(Caller {
            identity,
            snapshot,
            route,
        })
    };
    identified.await.map_err(|e| error_response(&e))
}
