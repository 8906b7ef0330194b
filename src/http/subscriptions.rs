//! GraphQL subscriptions over WebSocket (`graphql-transport-ws`, and the older `graphql-ws`) at
//! `/graphql` (an upgrade request) and `/graphql/ws`. The bearer token comes in `connection_init`
//! (`{"Authorization": "Bearer …"}`, or `{"token": "…"}`), is checked like an HTTP token, and the
//! connection is closed (4401) when the token expires.

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
use std::time::Duration;

/// Accepts the upgrade and serves the connection.
pub async fn upgrade(state: AppState, protocol: GraphQLProtocol, ws: WebSocketUpgrade) -> Response {
    ws.protocols(ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |socket| serve(state, protocol, socket))
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

async fn serve(state: AppState, protocol: GraphQLProtocol, socket: WebSocket) {
    let (mut sink, stream) = socket.split();
    // The GraphQL side writes into a channel; this task forwards it, and can close the socket itself.
    let (to_client, mut outgoing) = futures::channel::mpsc::unbounded::<Message>();
    let (expiry_tx, expiry_rx) = tokio::sync::oneshot::channel::<Option<u64>>();
    let auth = state.auth.clone();
    let snapshots = state.snapshots.clone();
    let db = state.db.clone();
    let request_id = format!("ws-{}", uuid::Uuid::new_v4().simple());
    let refused = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let refused_in_init = refused.clone();
    let on_init = move |payload: serde_json::Value| async move {
        let header = authorization_of(&payload);
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
        let mut data = Data::default();
        data.insert(loaders::for_request(db, identity.clone(), snapshot));
        data.insert(identity);
        data.insert(RequestId(request_id));
        Ok(data)
    };
    let graphql = GraphQLWebSocket::new_with_pair(
        to_client.sink_map_err(|_| ()),
        stream,
        state.schema.clone(),
        protocol,
    )
    .on_connection_init(on_init)
    .keepalive_timeout(Duration::from_secs(60))
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
            _ = &mut expiry => {
                let close = CloseFrame { code: 4401, reason: "the token expired".into() };
                let _ = sink.send(Message::Close(Some(close))).await;
                return;
            }
        }
    }
}
