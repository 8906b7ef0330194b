//! GraphQL subscriptions over WebSocket (`graphql-transport-ws`, and the older `graphql-ws`) at
//! `/graphql` (an upgrade request) and `/graphql/ws`. The bearer token comes in `connection_init`
//! (`{"Authorization": "Bearer …"}`, or `{"token": "…"}`) or, failing that, in the handshake's
//! `Authorization` header (a federation router forwards it there); it is checked like an HTTP token,
//! and the connection is closed (4401) when the token expires.
//!
//! Every `subscribe` meets the HTTP handler's alias and field limits and the caller's rate limit (the
//! same functions) before async-graphql sees it; a refused one is answered with an `error` message for
//! its id. The server pings every `http.websocket_ping_interval` and closes only a peer that answers
//! nothing for two intervals: a quiet feed is not a dead one.

use crate::auth::Identity;
use crate::graphql::context::RequestId;
use crate::graphql::loaders;
use crate::http::AppState;
use async_graphql::Data;
use async_graphql::http::ALL_WEBSOCKET_PROTOCOLS;
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::response::{IntoResponse, Response};
use futures::{SinkExt, StreamExt};
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::time::Instant;

/// Accepts the upgrade and serves the connection.
/// `handshake_authorization` is the upgrade request's `Authorization` header, used when
/// `connection_init` carries no token (what a federation router forwards).
pub async fn upgrade(
    state: AppState,
    protocol: GraphQLProtocol,
    ws: WebSocketUpgrade,
    handshake_authorization: Option<String>,
) -> Response {
    ws.protocols(ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |socket| serve(state, protocol, socket, handshake_authorization))
        .into_response()
}

/// The token a `connection_init` payload carries.
fn authorization_of(payload: &serde_json::Value) -> Option<String> {
    ["Authorization", "authorization"]
        .iter()
        .find_map(|k| payload.get(k).and_then(|v| v.as_str()).map(str::to_owned))
        .or_else(|| {
            payload
                .get("token")
                .and_then(|v| v.as_str())
                .map(|t| format!("Bearer {t}"))
        })
        .or_else(|| {
            payload
                .get("headers")
                .and_then(|h| h.get("Authorization").or_else(|| h.get("authorization")))
                .and_then(|v| v.as_str())
                .map(str::to_owned)
        })
}

/// What the gate in front of async-graphql decided for one incoming frame.
enum Gate {
    /// Pass it on.
    Forward(Message),
    /// Answer this instead (a refused `subscribe`), and pass nothing on.
    Refuse(Message),
    /// Control frames (ping, pong): nothing for async-graphql.
    Drop,
}

/// The checks a `subscribe` (`start` in the older protocol) meets before it runs: the document's size
/// and the caller's rate. `None` lets the frame through.
fn refusal(state: &AppState, identity: Option<&Identity>, text: &str) -> Option<Message> {
    let message: serde_json::Value = serde_json::from_str(text).ok()?;
    let kind = message.get("type")?.as_str()?;
    if kind != "subscribe" && kind != "start" {
        return None;
    }
    let id = message.get("id")?.as_str()?;
    let transport_ws = kind == "subscribe";
    let limits = &state.settings.limits;
    if let Some(identity) = identity
        && state.rate.check(identity).is_err()
    {
        let why = crate::http::graphql::rate_limited_message(limits);
        return Some(error_message(
            transport_ws,
            id,
            crate::error::ErrorCode::RateLimited,
            &why,
        ));
    }
    let query = message.pointer("/payload/query")?.as_str()?;
    // A document that does not parse is async-graphql's to report, in the usual shape.
    let document = async_graphql::parser::parse_query(query).ok()?;
    let variables = message
        .pointer("/payload/variables")
        .cloned()
        .map(async_graphql::Variables::from_json)
        .unwrap_or_default();
    let refused = crate::http::graphql::check_size(&document, &variables, limits).err()?;
    Some(error_message(
        transport_ws,
        id,
        crate::error::ErrorCode::BadUserInput,
        &refused,
    ))
}

/// The protocol's error message for operation `id`: graphql-transport-ws (whose operations are
/// `subscribe`) sends a list of GraphQL errors, the older graphql-ws (`start`) one error object.
fn error_message(
    transport_ws: bool,
    id: &str,
    code: crate::error::ErrorCode,
    message: &str,
) -> Message {
    let error = serde_json::json!({ "message": message, "extensions": { "code": code.as_str() } });
    let payload = if transport_ws {
        serde_json::json!([error])
    } else {
        error
    };
    let text = serde_json::json!({ "id": id, "type": "error", "payload": payload }).to_string();
    Message::Text(text.into())
}

async fn serve(
    state: AppState,
    protocol: GraphQLProtocol,
    socket: WebSocket,
    handshake_authorization: Option<String>,
) {
    let (mut sink, stream) = socket.split();
    // The GraphQL side writes into a channel; this task forwards it, and can close the socket itself.
    let (to_client, mut outgoing) = futures::channel::mpsc::unbounded::<Message>();
    let (expiry_tx, expiry_rx) = tokio::sync::oneshot::channel::<Option<u64>>();
    let auth = state.auth.clone();
    let snapshots = state.snapshots.clone();
    let db = state.db.clone();
    let request_id = format!("ws-{}", uuid::Uuid::new_v4().simple());
    let refused = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let refused_in_init = refused.clone();
    // Who the session is, once `connection_init` was accepted (async-graphql reads no other message
    // before that), for the rate limit of each `subscribe`.
    let session: Arc<OnceLock<Identity>> = Arc::default();
    let session_in_init = session.clone();
    // When the peer last sent anything, pongs included.
    let heard = Arc::new(std::sync::Mutex::new(Instant::now()));
    let on_init = move |payload: serde_json::Value| async move {
        let header = authorization_of(&payload).or(handshake_authorization);
        // The session's nested fields read the catalogue as it was at `connection_init`; each event's
        // payload is read over the snapshot current when it arrives.
        let snapshot = snapshots.current(&db).await?;
        let identified = match auth
            .identify_session(header.as_deref(), snapshot.reference.as_ref())
            .await
        {
            Ok((Identity::Anonymous, _)) => Err(async_graphql::Error::new(
                "subscriptions need a bearer token in connection_init",
            )),
            Ok(found) => Ok(found),
            Err(e) => Err(async_graphql::Error::from(e)),
        };
        let (identity, expires) = identified.inspect_err(|_| {
            refused_in_init.store(true, std::sync::atomic::Ordering::SeqCst);
        })?;
        let _ = expiry_tx.send(expires);
        let _ = session_in_init.set(identity.clone());
        let mut data = Data::default();
        data.insert(loaders::for_request(db, identity.clone(), snapshot));
        data.insert(identity);
        data.insert(RequestId(request_id));
        Ok(data)
    };
    let gate_state = state.clone();
    let gate_heard = heard.clone();
    let gate_answers = to_client.clone();
    let gated = stream.filter_map(move |frame| {
        if let Ok(mut at) = gate_heard.lock() {
            *at = Instant::now();
        }
        let decision = match frame {
            Err(e) => return futures::future::ready(Some(Err(e))),
            Ok(Message::Text(text)) => match refusal(&gate_state, session.get(), text.as_str()) {
                Some(answer) => Gate::Refuse(answer),
                None => Gate::Forward(Message::Text(text)),
            },
            Ok(Message::Ping(_) | Message::Pong(_)) => Gate::Drop,
            Ok(other) => Gate::Forward(other),
        };
        futures::future::ready(match decision {
            Gate::Forward(message) => Some(Ok(message)),
            Gate::Refuse(answer) => {
                let _ = gate_answers.unbounded_send(answer);
                None
            }
            Gate::Drop => None,
        })
    });
    // No keep-alive timeout inside async-graphql: it closed every session 60 s after the client's last
    // message, however many events it was being sent. The pings below decide instead.
    let graphql = GraphQLWebSocket::new_with_pair(
        to_client.sink_map_err(|_| ()),
        gated,
        state.schema.clone(),
        protocol,
    )
    .on_connection_init(on_init)
    .serve();
    let expiry = async {
        match expiry_rx.await {
            Ok(Some(exp)) => {
                let now = chrono::Utc::now().timestamp().max(0) as u64;
                tokio::time::sleep(Duration::from_secs(exp.saturating_sub(now))).await;
            }
            // No session (refused or closed before init): nothing to wait for.
            _ => std::future::pending::<()>().await,
        }
    };
    let every = state
        .settings
        .http
        .websocket_ping_interval
        .max(Duration::from_millis(100));
    let mut pings = tokio::time::interval_at(Instant::now() + every, every);
    tokio::pin!(graphql, expiry);
    let mut graphql_done = false;
    loop {
        tokio::select! {
            message = outgoing.next() => match message {
                Some(message) => {
                    // graphql-transport-ws closes a refused connection_init with 4403 Forbidden.
                    let message = match message {
                        Message::Close(Some(frame))
                            if refused.load(std::sync::atomic::Ordering::SeqCst) =>
                        {
                            Message::Close(Some(CloseFrame { code: 4403, reason: frame.reason }))
                        }
                        other => other,
                    };
                    if sink.send(message).await.is_err() {
                        return;
                    }
                }
                // The GraphQL side ended and everything it wrote went out.
                None => return,
            },
            _ = &mut graphql, if !graphql_done => graphql_done = true,
            _ = pings.tick() => {
                let silent = heard.lock().map_or(Duration::ZERO, |at| at.elapsed());
                if silent >= every * 2 {
                    let close = CloseFrame { code: 1011, reason: "no answer to the server's pings".into() };
                    let _ = sink.send(Message::Close(Some(close))).await;
                    return;
                }
                if sink.send(Message::Ping(b"childhub".as_slice().into())).await.is_err() {
                    return;
                }
            }
            _ = &mut expiry => {
                let close = CloseFrame { code: 4401, reason: "the token expired".into() };
                let _ = sink.send(Message::Close(Some(close))).await;
                return;
            }
        }
    }
}

/// `GET /graphql/ws`: subscriptions.
pub async fn graphql_ws(
    axum::extract::State(state): axum::extract::State<AppState>,
    request: axum::extract::Request,
) -> axum::response::Response {
    let (mut parts, _) = request.into_parts();
    graphql_ws_parts(state, &mut parts).await
}

pub async fn graphql_ws_parts(
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
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    if authorization.is_none()
        && crate::http::session::cookie(
            &parts.headers,
            crate::http::session::cookie_name(&state.settings),
        )
        .is_some()
    {
        if !same_origin(&parts.headers) {
            return crate::http::graphql::error_response(&crate::error::AppError::Forbidden(
                "a WebSocket with the session cookie must come from the hub's own pages (Origin)"
                    .into(),
            ));
        }
        authorization = match crate::http::bearer_of(
            &state,
            &parts.headers,
            crate::http::Csrf::NotNeeded,
        )
        .await
        {
            Ok(found) => found,
            Err(e) => return crate::http::graphql::error_response(&e),
        };
    }
    match axum::extract::ws::WebSocketUpgrade::from_request_parts(parts, &state).await {
        Ok(ws) => upgrade(state, protocol, ws, authorization).await,
        Err(rejection) => rejection.into_response(),
    }
}

/// Whether the request's `Origin` is the hub itself (the host the request was sent to).
fn same_origin(headers: &axum::http::HeaderMap) -> bool {
    let text = |name| {
        headers
            .get(name)
            .and_then(|v: &axum::http::HeaderValue| v.to_str().ok())
    };
    let (Some(origin), Some(host)) = (
        text(axum::http::header::ORIGIN),
        text(axum::http::header::HOST),
    ) else {
        return false;
    };
    origin
        .split_once("://")
        .is_some_and(|(_, authority)| authority.eq_ignore_ascii_case(host))
}
