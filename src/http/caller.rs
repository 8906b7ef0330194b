//! Who is asking: the caller of a request from its `Authorization` header or else its session cookie
//! (with the CSRF token where one is needed), and the snapshot of reference data the request reads.

use crate::http::graphql::error_response;
use crate::http::{AppState, session};
use crate::service::snapshot::Snapshot;
use axum::http::header;
use std::sync::Arc;

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
    identified.await.map_err(|e| error_response(&e))
}
