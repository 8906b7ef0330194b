//! The workspace: one shell of server-rendered pages (askama, `templates/pages/`) with small scripts
//! (`assets/workspace/`), one page per room — Dashboard, Reporting, Review, Catalogue, Sources,
//! Webhooks, GraphiQL — each at its own path, so links can be bookmarked and the back button works.
//! The server renders only who is signed in and which rooms their roles open; every piece of data a
//! room shows is read by its script through `/graphql`, under the same policy as any client.

use crate::auth::{Identity, Role};
use crate::http::AppState;
use crate::http::session;
use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use entity::web_session;

/// A room of the workspace: its path, names and who it is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Room {
    Dashboard,
    Reporting,
    Review,
    Catalogue,
    Sources,
    Webhooks,
    Graphiql,
}

impl Room {
    pub const ALL: [Room; 7] = [
        Room::Dashboard,
        Room::Reporting,
        Room::Review,
        Room::Catalogue,
        Room::Sources,
        Room::Webhooks,
        Room::Graphiql,
    ];

    /// Its path, and its code in templates and scripts.
    pub fn path(self) -> &'static str {
        match self {
            Room::Dashboard => "/",
            Room::Reporting => "/reporting",
            Room::Review => "/review",
            Room::Catalogue => "/catalogue",
            Room::Sources => "/sources",
            Room::Webhooks => "/webhooks",
            Room::Graphiql => "/graphiql",
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Room::Dashboard => "dashboard",
            Room::Reporting => "reporting",
            Room::Review => "review",
            Room::Catalogue => "catalogue",
            Room::Sources => "sources",
            Room::Webhooks => "webhooks",
            Room::Graphiql => "graphiql",
        }
    }

    fn names(self) -> (&'static str, &'static str) {
        match self {
            Room::Dashboard => ("监测概览", "Dashboard"),
            Room::Reporting => ("数据填报", "Reporting"),
            Room::Review => ("审核", "Review"),
            Room::Catalogue => ("指标目录", "Catalogue"),
            Room::Sources => ("数据源", "Sources"),
            Room::Webhooks => ("消息推送", "Webhooks"),
            Room::Graphiql => ("查询台", "GraphiQL"),
        }
    }

    /// The role the room needs (reading needs a reading role in every room).
    pub fn needs(self) -> Option<Role> {
        match self {
            Room::Dashboard | Room::Graphiql => None,
            Room::Reporting => Some(Role::Submitter),
            Room::Review => Some(Role::Approver),
            Room::Catalogue | Room::Sources | Room::Webhooks => Some(Role::Admin),
        }
    }

    /// Whether `identity` may enter: what the room shows the API would answer it anyway; the rooms a
    /// person cannot use are not shown to them.
    pub fn opens_for(self, identity: &Identity) -> bool {
        let reads = identity
            .member()
            .is_some_and(|m| m.roles.iter().any(|r| r.grants_read()));
        reads && self.needs().is_none_or(|role| identity.has_role(role))
    }
}

/// One link of the navigation.
pub struct NavLink {
    pub path: &'static str,
    pub zh: &'static str,
    pub en: &'static str,
    pub current: bool,
}

/// The workspace page of one room.
#[derive(Template)]
#[template(path = "pages/workspace.html")]
pub struct Workspace {
    pub room: &'static str,
    pub title_zh: &'static str,
    pub title_en: &'static str,
    pub name: String,
    pub department: String,
    pub department_zh: String,
    pub roles: String,
    pub csrf: String,
    pub nav: Vec<NavLink>,
}

/// A page that says one thing: a refusal, an error, signed out.
#[derive(Template)]
#[template(path = "pages/message.html")]
pub struct Message {
    pub title_zh: String,
    pub title_en: String,
    pub text_zh: String,
    pub text_en: String,
    /// Where the one button goes, and what it says.
    pub action: Option<(String, String)>,
}

impl Message {
    pub fn new(title: (&str, &str), text: (&str, &str), action: Option<(&str, &str)>) -> Message {
        Message {
            title_zh: title.0.to_owned(),
            title_en: title.1.to_owned(),
            text_zh: text.0.to_owned(),
            text_en: text.1.to_owned(),
            action: action.map(|(href, label)| (href.to_owned(), label.to_owned())),
        }
    }

    /// The page as a response with `status`.
    pub fn respond(&self, status: StatusCode) -> Response {
        page(status, self.render())
    }
}

/// A rendered page with the headers every page carries: never cached (it shows who is signed in).
pub fn page(status: StatusCode, rendered: Result<String, askama::Error>) -> Response {
    match rendered {
        Ok(html) => (
            status,
            [(header::CACHE_CONTROL, "private, no-store")],
            Html(html),
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "a page could not be rendered");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

/// The signed-in person behind the request's cookie, and their identity; `Err` is the answer to send
/// (to sign-in, or a page saying why not).
async fn signed_in(
    state: &AppState,
    headers: &HeaderMap,
    room: Room,
) -> Result<(web_session::Model, Identity, String), Response> {
    let back_to = format!("/signin?return_to={}", urlencode(room.path()));
    let session = match session::current(&state.db, &state.settings, &state.signin, headers).await {
        Ok(Some(found)) => found,
        // A cookie without a session: it ended (its time was up, or the provider stopped renewing it).
        Ok(None) if session::cookie(headers, session::cookie_name(&state.settings)).is_some() => {
            let mut answer = Message::new(
                ("会话已结束", "Your session has ended"),
                (
                    "您的登录已超时或已失效，请重新登录后继续。",
                    "Your sign-in has run out (sessions last a working day at most, and end when the city's sign-in service ends them). Sign in again to go on where you were.",
                ),
                Some((&back_to, "重新登录 Sign in again")),
            )
            .respond(StatusCode::UNAUTHORIZED);
            answer.headers_mut().append(
                header::SET_COOKIE,
                session::set_cookie(
                    &state.settings,
                    session::cookie_name(&state.settings),
                    "",
                    "/",
                    0,
                ),
            );
            return Err(answer);
        }
        Ok(None) => return Err(Redirect::to(&back_to).into_response()),
        Err(e) => {
            tracing::warn!(error = %e, "a page could not read its session");
            return Err(Message::new(
                ("暂时无法访问", "Not available right now"),
                (
                    "系统暂时无法确认您的登录状态，请稍后重试。",
                    "The hub cannot check your sign-in right now (the identity provider or the database is not answering). Try again in a minute.",
                ),
                Some(("/", "重试 Try again")),
            )
            .respond(StatusCode::SERVICE_UNAVAILABLE));
        }
    };
    let identity = match state.snapshots.current(&state.db).await {
        Ok(snapshot) => {
            let bearer = format!("Bearer {}", session.access_token);
            let department_zh = snapshot
                .reference
                .department(&session.department)
                .map(|d| d.name_zh.clone())
                .unwrap_or_default();
            state
                .auth
                .identify(Some(&bearer), snapshot.reference.as_ref())
                .await
                .map(|identity| (identity, department_zh))
        }
        Err(e) => Err(e),
    };
    match identity {
        Ok((identity, department_zh)) => Ok((session, identity, department_zh)),
        Err(_) => {
            let _ = crate::service::sessions::end_found(&state.db, &session).await;
            Err(Redirect::to(&back_to).into_response())
        }
    }
}

/// Percent-encodes a path for a query parameter.
pub fn urlencode(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Serves `room` to the signed-in person it opens for.
pub async fn room(state: &AppState, headers: &HeaderMap, room: Room) -> Response {
    let (session, identity, department_zh) = match signed_in(state, headers, room).await {
        Ok(found) => found,
        Err(answer) => return answer,
    };
    if !room.opens_for(&identity) {
        let needs = room.needs().map_or("viewer", Role::as_str);
        let (zh, en) = room.names();
        return Message::new(
            ("无权访问", "Not for your roles"),
            (
                &format!("“{zh}”需要 {needs} 角色。如需开通，请联系本部门管理员。"),
                &format!(
                    "{en} needs the {needs} role, which your account does not have. Ask your department's administrator to grant it in the city's identity provider, then sign in again."
                ),
            ),
            Some(("/", "返回概览 Back to the dashboard")),
        )
        .respond(StatusCode::FORBIDDEN);
    }
    let member = identity.member();
    let (title_zh, title_en) = room.names();
    let nav = Room::ALL
        .into_iter()
        .filter(|r| r.opens_for(&identity))
        .map(|r| {
            let (zh, en) = r.names();
            NavLink {
                path: r.path(),
                zh,
                en,
                current: r == room,
            }
        })
        .collect();
    let page_ = Workspace {
        room: room.code(),
        title_zh,
        title_en,
        name: session.name.clone(),
        department: session.department.clone(),
        department_zh,
        roles: member
            .map(|m| {
                m.roles
                    .iter()
                    .map(|r| r.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default(),
        csrf: session.csrf.clone(),
        nav,
    };
    page(StatusCode::OK, page_.render())
}

macro_rules! room_handler {
    ($name:ident, $room:expr) => {
        /// One room of the workspace.
        pub async fn $name(State(state): State<AppState>, headers: HeaderMap) -> Response {
            room(&state, &headers, $room).await
        }
    };
}

room_handler!(dashboard, Room::Dashboard);
room_handler!(reporting, Room::Reporting);
room_handler!(review, Room::Review);
room_handler!(catalogue, Room::Catalogue);
room_handler!(sources, Room::Sources);
room_handler!(webhooks, Room::Webhooks);
room_handler!(graphiql, Room::Graphiql);
