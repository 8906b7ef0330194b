//! The pages' sessions and the sign-ins under way, stored so that any replica serves any browser: a
//! session is found by the SHA-256 of its cookie, renewed with a conditional update (two requests that
//! renew at once write one renewal), and ended by deleting it. A sign-in flow is taken once: its
//! callback deletes it, so a replayed callback finds nothing.

use crate::auth::oidc::random_token;
use crate::error::AppResult;
use chrono::{DateTime, Utc};
use entity::{signin_flow, web_session};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use sha2::{Digest, Sha256};

/// How long a sign-in may take between the redirect to the provider and the callback.
pub const FLOW_TTL: chrono::Duration = chrono::Duration::minutes(10);

/// What a cookie's secret is stored as.
fn key_of(secret: &str) -> String {
    format!("{:x}", Sha256::digest(secret.as_bytes()))
}

/// A session to open: who, and the tokens that say so.
#[derive(Clone, Debug)]
pub struct NewSession {
    pub subject: String,
    pub name: String,
    pub department: String,
    pub access_token: String,
    pub refresh_token: Option<String>,
    pub id_token: Option<String>,
    pub access_expires_at: DateTime<Utc>,
    pub development: bool,
}

/// Opens a session lasting at most `ttl`; returns the cookie's secret (shown to the browser once, never
/// stored) and the stored session. Every sign-in opens a new one: a cookie planted before sign-in is
/// never promoted (no session fixation).
pub async fn open(
    db: &impl ConnectionTrait,
    new: NewSession,
    ttl: std::time::Duration,
) -> AppResult<(String, web_session::Model)> {
    let secret = random_token();
    let now = Utc::now();
    let ttl = chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::hours(8));
    let model = web_session::ActiveModel {
        id: Set(key_of(&secret)),
        subject: Set(new.subject),
        name: Set(new.name),
        department: Set(new.department),
        access_token: Set(new.access_token),
        refresh_token: Set(new.refresh_token),
        id_token: Set(new.id_token),
        access_expires_at: Set(new.access_expires_at),
        expires_at: Set(now + ttl),
        csrf: Set(random_token()),
        development: Set(new.development),
        created_at: Set(now),
        renewed_at: Set(now),
    };
    let stored = web_session::Entity::insert(model)
        .exec_with_returning(db)
        .await?;
    // Sessions that ended are removed as new ones begin, so the table holds live sessions only.
    web_session::Entity::delete_many()
        .filter(web_session::Column::ExpiresAt.lt(now))
        .exec(db)
        .await?;
    Ok((secret, stored))
}

/// The live session behind a cookie's secret, if any.
pub async fn find(
    db: &impl ConnectionTrait,
    secret: &str,
) -> AppResult<Option<web_session::Model>> {
    Ok(web_session::Entity::find_by_id(key_of(secret))
        .filter(web_session::Column::ExpiresAt.gt(Utc::now()))
        .one(db)
        .await?)
}

/// The live session stored under `key` (a session's `id`).
pub async fn find_by_key(
    db: &impl ConnectionTrait,
    key: &str,
) -> AppResult<Option<web_session::Model>> {
    Ok(web_session::Entity::find_by_id(key.to_owned())
        .filter(web_session::Column::ExpiresAt.gt(Utc::now()))
        .one(db)
        .await?)
}

/// Stores renewed tokens, unless another request renewed the session first (then `false`: read it
/// again). The update is conditional on the access token it replaces.
pub async fn renew(
    db: &impl ConnectionTrait,
    session: &web_session::Model,
    access_token: String,
    refresh_token: Option<String>,
    id_token: Option<String>,
    access_expires_at: DateTime<Utc>,
) -> AppResult<bool> {
    let model = web_session::ActiveModel {
        access_token: Set(access_token),
        // A provider that does not rotate refresh tokens sends none: the old one stays good.
        refresh_token: Set(refresh_token.or_else(|| session.refresh_token.clone())),
        id_token: Set(id_token.or_else(|| session.id_token.clone())),
        access_expires_at: Set(access_expires_at),
        renewed_at: Set(Utc::now()),
        ..Default::default()
    };
    let updated = web_session::Entity::update_many()
        .set(model)
        .filter(web_session::Column::Id.eq(session.id.clone()))
        .filter(web_session::Column::AccessToken.eq(session.access_token.clone()))
        .exec(db)
        .await?;
    Ok(updated.rows_affected == 1)
}

/// Ends the session behind a cookie's secret (nothing happens for an unknown one); returns what it held.
pub async fn end(db: &impl ConnectionTrait, secret: &str) -> AppResult<Option<web_session::Model>> {
    let Some(found) = web_session::Entity::find_by_id(key_of(secret))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    web_session::Entity::delete_by_id(found.id.clone())
        .exec(db)
        .await?;
    Ok(Some(found))
}

/// Ends a session found earlier (its tokens stopped working).
pub async fn end_found(db: &impl ConnectionTrait, session: &web_session::Model) -> AppResult<()> {
    web_session::Entity::delete_by_id(session.id.clone())
        .exec(db)
        .await?;
    Ok(())
}

/// Keeps a sign-in under way for the browser holding `secret`.
pub async fn begin_flow(
    db: &impl ConnectionTrait,
    secret: &str,
    flow: &crate::auth::oidc::Flow,
    return_to: &str,
) -> AppResult<()> {
    let now = Utc::now();
    signin_flow::Entity::delete_many()
        .filter(signin_flow::Column::CreatedAt.lt(now - FLOW_TTL))
        .exec(db)
        .await?;
    signin_flow::Entity::insert(signin_flow::ActiveModel {
        id: Set(key_of(secret)),
        state: Set(flow.state.clone()),
        nonce: Set(flow.nonce.clone()),
        verifier: Set(flow.verifier.clone()),
        return_to: Set(return_to.to_owned()),
        created_at: Set(now),
    })
    .exec(db)
    .await?;
    Ok(())
}

/// Takes the browser's sign-in under way, once: the row is deleted, and only the request whose delete
/// removed it gets it (a replayed or racing callback gets `None`). Flows older than [`FLOW_TTL`] are gone.
pub async fn take_flow(
    db: &impl ConnectionTrait,
    secret: &str,
) -> AppResult<Option<signin_flow::Model>> {
    let key = key_of(secret);
    let Some(found) = signin_flow::Entity::find_by_id(key.clone()).one(db).await? else {
        return Ok(None);
    };
    let deleted = signin_flow::Entity::delete_many()
        .filter(signin_flow::Column::Id.eq(key))
        .exec(db)
        .await?;
    let fresh = found.created_at > Utc::now() - FLOW_TTL;
    Ok((deleted.rows_affected == 1 && fresh).then_some(found))
}
