//! Signing in and out of the pages. With a provider configured: `/signin` starts the authorization code
//! flow with PKCE (S256), `state` and `nonce`, `/signin/callback` finishes it — the code is exchanged on
//! the hub, the access token is checked as every bearer token is and the ID token against the nonce —
//! and opens a session (a new one each time: no fixation) whose cookie the browser keeps. `/signout`
//! ends the hub's session and sends the browser to the provider's `end_session_endpoint`. Each way it
//! can fail is a page that says what happened and what to do. In development without a provider,
//! `/signin` is the "sign in as …" page (department × roles, from the catalogue) instead.

use crate::auth::Role;
use crate::auth::oidc::{SigninError, random_token};
use crate::config::Environment;
use crate::http::AppState;
use crate::http::pages::{Message, page};
use crate::http::session::{self, FLOW_COOKIE};
use crate::service::sessions::{self, NewSession};
use askama::Template;
use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use secrecy::ExposeSecret;
use serde::Deserialize;

/// `?return_to=/review`: where to go once signed in.
#[derive(Debug, Default, Deserialize)]
pub struct SigninParams {
    return_to: Option<String>,
}

/// The page to return to after sign-in: a path on the hub, or `/`. Anything else — another site
/// (`https://…`, `//evil`), a backslash trick, control characters — would make sign-in an open redirect.
pub fn safe_return(requested: Option<&str>) -> String {
    match requested {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path.contains('\\')
                && path.len() <= 512
                && !path.chars().any(char::is_control) =>
        {
            path.to_owned()
        }
        _ => "/".to_owned(),
    }
}

/// The "sign in as …" page of development.
#[derive(Template)]
#[template(path = "pages/signin_dev.html")]
struct DevSignin {
    departments: Vec<(String, String, String)>,
    roles: Vec<&'static str>,
    return_to: String,
}

/// `GET /signin`.
pub async fn signin(State(state): State<AppState>, Query(params): Query<SigninParams>) -> Response {
    let return_to = safe_return(params.return_to.as_deref());
    let Some(oidc) = &state.signin.oidc else {
        if state.signin.dev_secret.is_none() {
            return Message::new(
                ("未配置登录", "Sign-in is not configured"),
                (
                    "本系统尚未接入统一身份认证。",
                    "This hub has no identity provider for its pages (set signin.client_id and auth.issuer, see docs/operations.md). The API takes bearer tokens.",
                ),
                None,
            )
            .respond(StatusCode::NOT_FOUND);
        }
        return dev_page(&state, return_to).await;
    };
    match oidc.begin().await {
        Ok((flow, url)) => {
            let secret = random_token();
            if let Err(e) = sessions::begin_flow(&state.db, &secret, &flow, &return_to).await {
                tracing::warn!(error = %e, "a sign-in could not be recorded");
                return unavailable_page(&return_to);
            }
            let mut response = Redirect::to(&url).into_response();
            let max_age = sessions::FLOW_TTL.num_seconds() as u64;
            response.headers_mut().append(
                header::SET_COOKIE,
                session::set_cookie(&state.settings, FLOW_COOKIE, &secret, "/signin", max_age),
            );
            response
        }
        Err(e) => {
            tracing::warn!(error = %e, "the identity provider cannot be reached");
            provider_unreachable(&state, &return_to)
        }
    }
}

fn provider_unreachable(state: &AppState, return_to: &str) -> Response {
    let retry = format!(
        "/signin?return_to={}",
        crate::http::pages::urlencode(return_to)
    );
    Message::new(
        ("统一身份认证暂时无法访问", "The city's sign-in service cannot be reached"),
        (
            "系统无法连接统一身份认证服务，请几分钟后重试；如持续出现，请联系信息中心。",
            &format!(
                "The hub could not reach the identity provider ({}). Try again in a few minutes; if it keeps happening, tell the IT service desk. Nothing was signed in.",
                state.settings.auth.issuer
            ),
        ),
        Some((&retry, "重试 Try again")),
    )
    .respond(StatusCode::SERVICE_UNAVAILABLE)
}

fn unavailable_page(return_to: &str) -> Response {
    let retry = format!(
        "/signin?return_to={}",
        crate::http::pages::urlencode(return_to)
    );
    Message::new(
        ("暂时无法登录", "Sign-in is not available right now"),
        (
            "系统繁忙，请稍后重试。",
            "The hub's database is busy or unreachable. Try again in a minute.",
        ),
        Some((&retry, "重试 Try again")),
    )
    .respond(StatusCode::SERVICE_UNAVAILABLE)
}

fn start_again(title: (&str, &str), text: (&str, &str), status: StatusCode) -> Response {
    Message::new(title, text, Some(("/signin", "重新登录 Sign in again"))).respond(status)
}

/// What the provider sends back.
#[derive(Debug, Deserialize)]
pub struct CallbackParams {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// `GET /signin/callback`.
pub async fn callback(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(params): Query<CallbackParams>,
) -> Response {
    let Some(oidc) = &state.signin.oidc else {
        return StatusCode::NOT_FOUND.into_response();
    };
    // The flow is taken once, whatever happens next: a replayed or forged callback finds nothing.
    let flow = match session::cookie(&headers, FLOW_COOKIE) {
        Some(secret) => sessions::take_flow(&state.db, &secret).await,
        None => Ok(None),
    };
    let flow = match flow {
        Ok(Some(flow)) => flow,
        Ok(None) => {
            return start_again(
                (
                    "登录链接已失效",
                    "This sign-in has expired or was already used",
                ),
                (
                    "该登录已完成、已过期或不是在本浏览器中发起的。请重新登录。",
                    "This browser has no sign-in waiting for this answer: it was completed already (a link used twice), took longer than 10 minutes, or was started in another browser. Nothing was signed in. Start again.",
                ),
                StatusCode::BAD_REQUEST,
            );
        }
        Err(e) => {
            tracing::warn!(error = %e, "a sign-in could not be read");
            return unavailable_page("/");
        }
    };
    let clear_flow = session::set_cookie(&state.settings, FLOW_COOKIE, "", "/signin", 0);
    let mut answer = finish(&state, oidc, flow, params).await;
    answer.headers_mut().append(header::SET_COOKIE, clear_flow);
    answer
}

async fn finish(
    state: &AppState,
    oidc: &crate::auth::oidc::OidcClient,
    flow: entity::signin_flow::Model,
    params: CallbackParams,
) -> Response {
    let sent_state = params.state.unwrap_or_default();
    if !bool::from(subtle::ConstantTimeEq::ct_eq(
        sent_state.as_bytes(),
        flow.state.as_bytes(),
    )) {
        tracing::warn!("a sign-in callback's state did not match");
        return start_again(
            ("登录未完成", "Sign-in could not be completed"),
            (
                "认证服务返回的信息与本浏览器发起的登录不一致，未登录。请重新登录；如反复出现，请联系信息中心。",
                "The answer from the sign-in service does not belong to the sign-in this browser started (the state does not match). Nothing was signed in. Start again; if this keeps happening, tell the IT service desk — someone may be trying to sign you in to their account.",
            ),
            StatusCode::BAD_REQUEST,
        );
    }
    if let Some(error) = params.error {
        return start_again(
            ("登录已取消", "Sign-in was cancelled"),
            (
                "统一身份认证未完成登录。",
                &format!(
                    "The identity provider did not sign you in ({error}). Start again when you are ready."
                ),
            ),
            StatusCode::BAD_REQUEST,
        );
    }
    let Some(code) = params.code else {
        return start_again(
            ("登录未完成", "Sign-in could not be completed"),
            (
                "认证服务未返回授权码。",
                "The identity provider sent no code back. Start again.",
            ),
            StatusCode::BAD_REQUEST,
        );
    };
    let tokens = match oidc.exchange(&code, &flow.verifier).await {
        Ok(tokens) => tokens,
        Err(SigninError::Refused(why)) => {
            return start_again(
                (
                    "登录链接已失效",
                    "This sign-in has expired or was already used",
                ),
                (
                    "认证服务拒绝了此次登录（授权码已使用或已过期）。请重新登录。",
                    &format!(
                        "The identity provider refused the code ({why}): it was used already or has expired. Nothing was signed in. Start again."
                    ),
                ),
                StatusCode::BAD_REQUEST,
            );
        }
        Err(SigninError::Unreachable(why)) => {
            tracing::warn!(why, "the token endpoint cannot be reached");
            return provider_unreachable(state, &flow.return_to);
        }
    };
    // The access token must pass the checks every bearer token passes (signature, iss, aud, exp).
    let verifier = state.auth.verifier();
    let claims = match verifier.verify(&tokens.access_token).await {
        Ok(claims) => claims,
        Err(e) => {
            return token_refused(&e.to_string());
        }
    };
    // And the ID token must be this sign-in's (its nonce) and for this client.
    let id_claims = match &tokens.id_token {
        Some(id_token) => match verifier
            .verify_id_token(id_token, oidc.client_id(), &flow.nonce)
            .await
        {
            Ok(c) => c,
            Err(e) => return token_refused(&e.to_string()),
        },
        None => {
            return token_refused(
                "the provider sent no ID token (is `openid` among signin.scopes?)",
            );
        }
    };
    let Some(department) = claims.department.clone() else {
        return Message::new(
            ("账号未关联部门", "Your account has no department"),
            (
                "您的统一身份账号没有所属部门信息，暂不能使用本系统。请联系身份认证管理员为账号设置部门后重新登录。",
                &format!(
                    "Your city account carries no department (the access token has no `{}` claim), so the hub cannot tell what you may see. Ask the identity provider's administrator to set your department, then sign in again.",
                    verifier.department_claim()
                ),
            ),
            Some(("/signin", "重新登录 Sign in again")),
        )
        .respond(StatusCode::FORBIDDEN);
    };
    // The department must exist and the roles must grant reading: the same check as any request.
    let bearer = format!("Bearer {}", tokens.access_token);
    let known = match state.snapshots.current(&state.db).await {
        Ok(snapshot) => state
            .auth
            .identify(Some(&bearer), snapshot.reference.as_ref())
            .await
            .map(|_| ()),
        Err(e) => Err(e),
    };
    if let Err(e) = known {
        return Message::new(
            ("账号无法使用本系统", "Your account cannot use the hub"),
            (
                "您的部门不在本系统的部门目录中。请联系身份认证管理员。",
                &format!(
                    "{} Ask the identity provider's administrator to check your department.",
                    e.public_message()
                ),
            ),
            Some(("/signin", "重新登录 Sign in again")),
        )
        .respond(StatusCode::FORBIDDEN);
    }
    let name = ["name", "preferred_username"]
        .iter()
        .find_map(|k| id_claims.get(*k).and_then(|v| v.as_str()))
        .unwrap_or(claims.sub.as_str())
        .to_owned();
    let new = NewSession {
        subject: claims.sub.clone(),
        name,
        department,
        access_expires_at: chrono::DateTime::from_timestamp(claims.exp as i64, 0)
            .unwrap_or_else(chrono::Utc::now),
        access_token: tokens.access_token,
        refresh_token: tokens.refresh_token,
        id_token: tokens.id_token,
        development: false,
    };
    open_session(state, new, &flow.return_to).await
}

fn token_refused(reason: &str) -> Response {
    tracing::warn!(reason, "a sign-in's token was refused");
    Message::new(
        ("账号令牌无法用于本系统", "The sign-in service's token is not for this hub"),
        (
            "统一身份认证签发的令牌不能用于本系统，未登录。请联系身份认证管理员检查 childhub 客户端配置。",
            &format!(
                "The identity provider issued a token the hub cannot accept ({reason}). Nothing was signed in. An administrator must set up the childhub client (audience `childhub`, department and roles claims; see docs/operations.md)."
            ),
        ),
        Some(("/signin", "重新登录 Sign in again")),
    )
    .respond(StatusCode::FORBIDDEN)
}

/// Opens the session, sets its cookie and goes to `return_to`.
async fn open_session(state: &AppState, new: NewSession, return_to: &str) -> Response {
    match sessions::open(&state.db, new, state.settings.signin.session_ttl).await {
        Ok((secret, _)) => {
            let mut response = Redirect::to(&safe_return(Some(return_to))).into_response();
            response.headers_mut().append(
                header::SET_COOKIE,
                session::set_cookie(
                    &state.settings,
                    session::cookie_name(&state.settings),
                    &secret,
                    "/",
                    state.settings.signin.session_ttl.as_secs(),
                ),
            );
            response
        }
        Err(e) => {
            tracing::warn!(error = %e, "a session could not be opened");
            unavailable_page(return_to)
        }
    }
}

async fn dev_page(state: &AppState, return_to: String) -> Response {
    let departments = match state.snapshots.current(&state.db).await {
        Ok(snapshot) => snapshot
            .reference
            .departments()
            .iter()
            .map(|d| (d.code.clone(), d.name_zh.clone(), d.name_en.clone()))
            .collect(),
        Err(_) => return unavailable_page(&return_to),
    };
    let page_ = DevSignin {
        departments,
        roles: Role::ALL.iter().map(|r| r.as_str()).collect(),
        return_to,
    };
    page(StatusCode::OK, page_.render())
}

/// `POST /signin/dev`: department, roles and return_to of the development page's form.
pub async fn dev_signin(
    State(state): State<AppState>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let (Some(secret), true) = (
        &state.signin.dev_secret,
        state.settings.environment == Environment::Development,
    ) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let field = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let department = field("department").unwrap_or("").to_owned();
    let roles: Vec<&str> = fields
        .iter()
        .filter(|(k, _)| k == "roles")
        .map(|(_, v)| v.as_str())
        .filter(|r| Role::parse(r).is_some())
        .collect();
    let return_to = safe_return(field("return_to"));
    let known = match state.snapshots.current(&state.db).await {
        Ok(snapshot) => snapshot.reference.department(&department).is_some(),
        Err(_) => return unavailable_page(&return_to),
    };
    if !known || roles.is_empty() {
        return Message::new(
            ("请选择部门和角色", "Choose a department and a role"),
            (
                "请选择一个部门和至少一个角色。",
                "Choose one department of the catalogue and at least one role.",
            ),
            Some(("/signin", "返回 Back")),
        )
        .respond(StatusCode::BAD_REQUEST);
    }
    let ttl = state
        .settings
        .signin
        .session_ttl
        .min(std::time::Duration::from_secs(3600));
    let subject = format!("dev-{department}-{}", roles.join("-"));
    let token = match crate::auth::token::issue_dev_token(
        &state.settings.auth,
        secret.expose_secret(),
        &subject,
        &department,
        &roles,
        ttl,
    ) {
        Ok(token) => token,
        Err(e) => {
            tracing::error!(error = %e, "a development token could not be signed");
            return unavailable_page(&return_to);
        }
    };
    let new = NewSession {
        subject,
        name: format!("开发 Development · {department}"),
        department,
        access_token: token,
        refresh_token: None,
        id_token: None,
        access_expires_at: chrono::Utc::now() + chrono::Duration::seconds(ttl.as_secs() as i64),
        development: true,
    };
    open_session(&state, new, &return_to).await
}

/// `POST /signout` (the pages send it with their CSRF token): ends the hub's session and answers where
/// to go to end the provider's too.
pub async fn signout(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let name = session::cookie_name(&state.settings);
    let Some(secret) = session::cookie(&headers, name) else {
        return axum::Json(serde_json::json!({ "redirect": "/signed-out" })).into_response();
    };
    let found = match sessions::find(&state.db, &secret).await {
        Ok(found) => found,
        Err(e) => return crate::http::graphql::error_response(&e),
    };
    if let Some(found) = &found
        && !session::csrf_matches(&headers, found)
    {
        return crate::http::graphql::error_response(&session::csrf_refused());
    }
    if let Err(e) = sessions::end(&state.db, &secret).await {
        return crate::http::graphql::error_response(&e);
    }
    let after = state.settings.post_logout_url();
    let redirect = match (&state.signin.oidc, found) {
        (Some(oidc), Some(found)) if !found.development => {
            oidc.end_session_url(&after).await.unwrap_or(after)
        }
        _ => "/signed-out".to_owned(),
    };
    let mut response = axum::Json(serde_json::json!({ "redirect": redirect })).into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        session::set_cookie(&state.settings, name, "", "/", 0),
    );
    response
}

/// `GET /signed-out`.
pub async fn signed_out() -> Response {
    Message::new(
        ("已退出", "Signed out"),
        (
            "您已退出本系统。",
            "You have signed out of the hub (and of the city's sign-in service, where it offers that).",
        ),
        Some(("/signin", "重新登录 Sign in again")),
    )
    .respond(StatusCode::OK)
}
