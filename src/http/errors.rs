//! Every error answer is JSON in the GraphQL error shape with `extensions.code`, including those made
//! below the handlers (body too large, timeout, unknown path, bad path or query parameters, wrong method),
//! which axum and tower-http answer in plain text or with an empty body — except the pages' own HTML
//! answers, which are written for people.

use crate::error::ErrorCode;
use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use serde_json::json;

/// The `extensions.code` of an error status that no handler described.
pub fn code_for(status: StatusCode) -> ErrorCode {
    ErrorCode::of_status(status.as_u16())
}

fn message_for(status: StatusCode) -> &'static str {
    match status {
        StatusCode::NOT_FOUND => "no such path; see / for the dashboard and /graphql for the API",
        StatusCode::METHOD_NOT_ALLOWED => "this path does not answer that method",
        StatusCode::REQUEST_TIMEOUT => "the request took too long and was stopped",
        StatusCode::PAYLOAD_TOO_LARGE => "the request body is larger than limits.max_body_bytes",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported content type",
        s if s.is_server_error() => "internal error; the server log has the details",
        _ => "the request is not valid",
    }
}

/// Rewrites error responses that are not JSON yet; the plain text axum produced (e.g. which path
/// parameter failed to parse) is kept as the message when it is short and harmless.
pub async fn json_errors(mut response: Response) -> Response {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    // Every 503 tells the client when to come back, JSON or not.
    if status == StatusCode::SERVICE_UNAVAILABLE {
        response
            .headers_mut()
            .entry(header::RETRY_AFTER)
            .or_insert(HeaderValue::from_static("1"));
    }
    // JSON errors are already in shape; an HTML page is one of the pages' own answers (a sign-in that
    // failed, a room not for this role), written for the person reading it.
    let written = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("json") || v.starts_with("text/html"));
    if written {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 4096)
        .await
        .ok()
        .and_then(|b| String::from_utf8(b.to_vec()).ok())
        .filter(|t| !t.trim().is_empty() && status.is_client_error())
        .unwrap_or_else(|| message_for(status).to_owned());
    let body = json!({ "errors": [{ "message": text.trim(), "extensions": { "code": code_for(status).as_str() } }] });
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    parts.headers.remove(header::CONTENT_LENGTH);
    let mut out = Response::from_parts(parts, Body::from(body.to_string()));
    if status == StatusCode::SERVICE_UNAVAILABLE && !out.headers().contains_key(header::RETRY_AFTER)
    {
        out.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    out
}
