//! The pages' session, on the request side: the session cookie (HttpOnly, SameSite=Lax, `Secure` and
//! `__Host-` prefixed over HTTPS), the CSRF check every cookie-authenticated GraphQL request and
//! sign-out must pass, and the silent renewal of the session's access token before it expires. A
//! request with a session is then identified exactly as one with its bearer token: the browser never
//! holds a token, and the policy cannot tell the two apart.

use crate::auth::oidc::{OidcClient, SigninError};
use crate::config::Settings;
use crate::error::{AppError, AppResult};
use crate::service::Db;
use crate::service::sessions;
use axum::http::{HeaderMap, HeaderValue, header};
use entity::web_session;
use secrecy::{ExposeSecret, SecretString};

/// The header a page sends its CSRF token in (from `<meta name="childhub-csrf">`).
pub const CSRF_HEADER: &str = "x-csrf-token";

/// What sign-in needs beyond the settings: the provider's client, or in development without one the
/// secret "sign in as …" sessions are signed with.
pub struct Signin {
    pub oidc: Option<OidcClient>,
    pub dev_secret: Option<SecretString>,
}

/// The session cookie's name: `__Host-` prefixed (Secure, host-only, path /) over HTTPS.
pub fn cookie_name(settings: &Settings) -> &'static str {
    if settings.served_over_https() {
        "__Host-childhub"
    } else {
        "childhub"
    }
}

/// The sign-in flow's cookie (only sent back to `/signin`).
pub const FLOW_COOKIE: &str = "childhub_signin";

/// The value of cookie `name` in the request, if any.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// A `Set-Cookie` value: HttpOnly and SameSite=Lax always (Lax, so the provider's redirect back to
/// the callback carries it), `Secure` over HTTPS; `max_age` 0 removes the cookie.
pub fn set_cookie(
    settings: &Settings,
    name: &str,
    value: &str,
    path: &str,
    max_age: u64,
) -> HeaderValue {
    let secure = if settings.served_over_https() {
        "; Secure"
    } else {
        ""
    };
    let text =
        format!("{name}={value}; Path={path}; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}");
    HeaderValue::from_str(&text)
        .unwrap_or_else(|_| HeaderValue::from_static("childhub=; Max-Age=0"))
}

/// Whether the request's CSRF header is its session's token (compared in constant time).
pub fn csrf_matches(headers: &HeaderMap, session: &web_session::Model) -> bool {
    let sent = headers
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    bool::from(subtle::ConstantTimeEq::ct_eq(
        sent.as_bytes(),
        session.csrf.as_bytes(),
    ))
}

/// The refusal of a cookie-authenticated request without its CSRF token.
pub fn csrf_refused() -> AppError {
    AppError::Forbidden(format!(
        "this request carries the session cookie but not its {CSRF_HEADER} header: pages send the token \
         they carry (<meta name=\"childhub-csrf\">); other clients use a bearer token"
    ))
}

/// The session whose cookie the request carries, renewed when its access token is about to expire.
/// `None`: no cookie, or the session ended (expired, or its provider no longer renews it).
pub async fn current(
    db: &Db,
    settings: &Settings,
    signin: &Signin,
    headers: &HeaderMap,
) -> AppResult<Option<web_session::Model>> {
    let Some(secret) = cookie(headers, cookie_name(settings)) else {
        return Ok(None);
    };
    let Some(session) = sessions::find(db, &secret).await? else {
        return Ok(None);
    };
    renewed(db, settings, signin, session).await
}

/// The session with an access token good for more than `signin.renew_before`: renewed with the
/// refresh token (or, for a development session, a newly signed token) when it is not. Two requests
/// renewing at once store one renewal; the other reads it.
async fn renewed(
    db: &Db,
    settings: &Settings,
    signin: &Signin,
    session: web_session::Model,
) -> AppResult<Option<web_session::Model>> {
    let now = chrono::Utc::now();
    let before = chrono::Duration::from_std(settings.signin.renew_before)
        .unwrap_or(chrono::Duration::seconds(60));
    if session.access_expires_at - now > before {
        return Ok(Some(session));
    }
    let still_valid = session.access_expires_at > now;
    let renewal = if session.development {
        match &signin.dev_secret {
            Some(secret) => {
                let remaining = (session.expires_at - now).num_seconds().max(1) as u64;
                let ttl = std::time::Duration::from_secs(remaining.min(3600));
                let roles = roles_of(&session.access_token);
                let role_refs: Vec<&str> = roles.iter().map(String::as_str).collect();
                let token = crate::auth::token::issue_dev_token(
                    &settings.auth,
                    secret.expose_secret(),
                    &session.subject,
                    &session.department,
                    &role_refs,
                    ttl,
                )?;
                Some(Ok((
                    token,
                    None,
                    None,
                    now + chrono::Duration::seconds(ttl.as_secs() as i64),
                )))
            }
            None => None,
        }
    } else {
        match (&signin.oidc, &session.refresh_token) {
            (Some(oidc), Some(refresh)) => Some(
                oidc.refresh(refresh)
                    .await
                    .map(|t| (t.access_token, t.refresh_token, t.id_token, now)),
            ),
            _ => None,
        }
    };
    match renewal {
        Some(Ok((access, refresh, id_token, mut expires))) => {
            if !session.development {
                // The renewed token's own `exp` is what counts; a token the checks refuse ends the session.
                match expiry_of(&access) {
                    Some(exp) => expires = exp,
                    None => {
                        sessions::end_found(db, &session).await?;
                        return Ok(None);
                    }
                }
            }
            if sessions::renew(db, &session, access, refresh, id_token, expires).await? {
                tracing::debug!(subject = %session.subject, "session renewed");
            }
            // Ours or a concurrent request's renewal: read what is stored now.
            sessions::find_by_key(db, &session.id).await
        }
        Some(Err(SigninError::Refused(why))) => {
            tracing::info!(subject = %session.subject, why, "the provider no longer renews this session");
            if still_valid {
                Ok(Some(session))
            } else {
                sessions::end_found(db, &session).await?;
                Ok(None)
            }
        }
        Some(Err(SigninError::Unreachable(why))) if !still_valid => Err(AppError::Unavailable(
            format!("renewing a session: the identity provider cannot be reached: {why}"),
        )),
        Some(Err(_)) => Ok(Some(session)),
        None if still_valid => Ok(Some(session)),
        None => {
            sessions::end_found(db, &session).await?;
            Ok(None)
        }
    }
}

/// The `exp` of a JWT, read without checking it (the verifier checks it on every request).
pub fn expiry_of(token: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    let claims = unverified_claims(token)?;
    let exp = claims.get("exp")?.as_i64()?;
    chrono::DateTime::from_timestamp(exp, 0)
}

/// The `roles` a development token was signed with.
fn roles_of(token: &str) -> Vec<String> {
    unverified_claims(token)
        .and_then(|c| {
            c.get("roles")?.as_array().map(|r| {
                r.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
        })
        .unwrap_or_default()
}

/// A JWT's payload, not verified: only for what the hub stored itself and verifies on use.
pub fn unverified_claims(token: &str) -> Option<serde_json::Value> {
    use base64::Engine;
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}
