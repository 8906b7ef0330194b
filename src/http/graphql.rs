//! The `/graphql` endpoint, written here rather than taken from async-graphql-axum so that it closes the
//! holes a GraphQL server has by default: GET carries queries only (a mutation over GET is 405), POST
//! needs a JSON content type (415 otherwise, which stops form and `text/plain` CSRF), batches are bounded,
//! alias and field floods are refused before execution, and every error carries `extensions.code`.

use crate::error::{AppError, ErrorCode};
use crate::graphql::context::RequestId;
use crate::graphql::documents::{self, reads_only_the_sdl};
use crate::graphql::loaders;
use crate::http::{AppState, session};
use crate::service::replicas::{self, Route};
use crate::service::snapshot::Snapshot;
use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, OperationType, Selection, SelectionSet,
};
use async_graphql::{BatchRequest, Request, Response as GqlResponse, ServerError, Variables};
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;
use tracing::Instrument;

/// Query-string parameters of a GET request.
#[derive(Debug, Deserialize)]
pub struct GetParams {
    query: Option<String>,
    #[serde(rename = "operationName")]
    operation_name: Option<String>,
    variables: Option<String>,
    /// JSON, e.g. `{"persistedQuery": {"version": 1, "sha256Hash": "…"}}` (APQ over GET).
    extensions: Option<String>,
    /// `sha256:<hex>`: a trusted document's id.
    #[serde(rename = "documentId")]
    document_id: Option<String>,
}

fn error_body(status: StatusCode, code: ErrorCode, message: &str) -> Response {
    let body =
        json!({ "errors": [{ "message": message, "extensions": { "code": code.as_str() } }] });
    (status, axum::Json(body)).into_response()
}

/// An error as an HTTP response: the status its code stands for and a GraphQL-shaped body.
pub fn error_response(err: &AppError) -> Response {
    let status =
        StatusCode::from_u16(err.code().http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    match status {
        StatusCode::INTERNAL_SERVER_ERROR => {
            tracing::error!(error = %err, "request failed before execution");
        }
        // The pool or the database is the problem, not this request: worth a warning, not an error.
        StatusCode::SERVICE_UNAVAILABLE => {
            tracing::warn!(error = %err, "request refused: database unavailable");
        }
        _ => {}
    }
    error_body(status, err.code(), &err.public_message())
}

fn bad_request(message: &str) -> Response {
    error_body(StatusCode::BAD_REQUEST, ErrorCode::BadUserInput, message)
}

/// `GET /graphql?query=…`: queries only.
pub async fn get(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(params): Query<GetParams>,
) -> Response {
    if params.query.is_none() && params.extensions.is_none() && params.document_id.is_none() {
        return bad_request("a GET request needs a `query` (or `documentId`) parameter");
    }
    let mut request = Request::new(params.query.unwrap_or_default());
    if let Some(extensions) = params.extensions {
        match serde_json::from_str(&extensions) {
            Ok(extensions) => request.extensions = extensions,
            Err(_) => return bad_request("`extensions` must be a JSON object"),
        }
    }
    if let Some(id) = params.document_id
        && let Err(refusal) = documents::adopt_document_id(&mut request, &id)
    {
        return refused(&refusal);
    }
    if let Some(name) = params.operation_name {
        request = request.operation_name(name);
    }
    if let Some(variables) = params.variables {
        match serde_json::from_str::<serde_json::Value>(&variables) {
            Ok(value) => request = request.variables(Variables::from_json(value)),
            Err(_) => return bad_request("`variables` must be a JSON object"),
        }
    }
    execute(state, &headers, BatchRequest::Single(request), true).await
}

/// `POST /graphql` with a JSON body: one operation or a bounded batch.
pub async fn post(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = content_type.split(';').next().unwrap_or("").trim();
    // The GraphQL multipart request spec, for file uploads (`submitFile`): one file at most, of at most
    // `limits.max_upload_bytes`. A cross-site form can send multipart, but not a bearer token or the
    // session's CSRF header, so it identifies nobody.
    if essence.eq_ignore_ascii_case("multipart/form-data") {
        let limits = &state.settings.limits;
        let options = async_graphql::http::MultipartOptions::default()
            .max_file_size(limits.max_upload_bytes)
            .max_num_files(1);
        let batch = match async_graphql::http::receive_batch_body(
            Some(content_type),
            futures::io::Cursor::new(body.to_vec()),
            options,
        )
        .await
        {
            Ok(batch) => batch,
            Err(e) => {
                return bad_request(&format!(
                    "a multipart upload as the GraphQL multipart request spec has it (operations, map, one file of at most {} MB): {e}",
                    limits.max_upload_bytes / 1_048_576
                ));
            }
        };
        return execute(state, &headers, batch, false).await;
    }
    if body.len() > state.settings.limits.max_body_bytes {
        return error_body(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::PayloadTooLarge,
            "the request body is larger than limits.max_body_bytes",
        );
    }
    if !essence.eq_ignore_ascii_case("application/json")
        && !essence.eq_ignore_ascii_case("application/graphql-response+json")
    {
        return error_body(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::BadUserInput,
            "POST /graphql needs Content-Type: application/json (or multipart/form-data for a file upload)",
        );
    }
    // Read the shape first: serde would happily read `[]` as one request with every field defaulted.
    let parsed = match serde_json::from_slice::<serde_json::Value>(&body) {
        Ok(serde_json::Value::Array(items)) => items
            .into_iter()
            .map(read_request)
            .collect::<Result<Vec<_>, _>>()
            .map(BatchRequest::Batch),
        Ok(value @ serde_json::Value::Object(_)) => read_request(value).map(BatchRequest::Single),
        _ => Err(None),
    };
    let batch = match parsed {
        Ok(batch) => batch,
        Err(Some(refusal)) => return refused(&refusal),
        Err(None) => {
            return bad_request(
                "the body must be a GraphQL request {\"query\": …} or a list of them",
            );
        }
    };
    execute(state, &headers, batch, false).await
}

/// One request of a body, with a `documentId` turned into the persisted-query form. `Err(None)`: not a
/// request at all.
fn read_request(value: serde_json::Value) -> Result<Request, Option<documents::Refusal>> {
    let document_id = value
        .get("documentId")
        .and_then(|id| id.as_str())
        .map(str::to_owned);
    let mut request = serde_json::from_value::<Request>(value).map_err(|_| None)?;
    if let Some(id) = document_id {
        documents::adopt_document_id(&mut request, &id).map_err(Some)?;
    }
    Ok(request)
}

/// A document that cannot run: APQ's "not found" is an ordinary answer a client acts on (200, as
/// Apollo Server sends it), the others are bad requests.
fn refused(refusal: &documents::Refusal) -> Response {
    let status = match refusal {
        documents::Refusal::NotFound => StatusCode::OK,
        _ => StatusCode::BAD_REQUEST,
    };
    error_body(status, refusal.code(), &refusal.message())
}

async fn execute(
    state: AppState,
    headers: &HeaderMap,
    batch: BatchRequest,
    is_get: bool,
) -> Response {
    // Who is asking comes first: a caller without a valid token learns nothing else — except a
    // federation gateway composing the supergraph, which may read `_service { sdl }` (the schema, no
    // data) without a user token.
    let crate::http::Caller {
        identity,
        mut snapshot,
        mut route,
    } = match crate::http::identify(&state, headers).await {
        Ok(caller) => caller,
        Err(_) if !headers.contains_key(header::AUTHORIZATION) && asks_only_for_sdl(&batch) => {
            let route = state.reads.primary();
            match state.snapshots.current(&route.db).await {
                Ok(snapshot) => crate::http::Caller {
                    identity: crate::auth::Identity::Anonymous,
                    snapshot,
                    route,
                },
                Err(e) => return error_response(&e),
            }
        }
        Err(refused) => return refused,
    };
    if let Err(wait) = state.rate.check(&identity) {
        let mut response = error_body(
            StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::RateLimited,
            &rate_limited_message(&state.settings.limits),
        );
        let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        if let Ok(value) = header::HeaderValue::from_str(&seconds.max(1).to_string()) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        return response;
    }
    let limits = &state.settings.limits;
    let single = matches!(batch, BatchRequest::Single(_));
    let mut requests = match batch {
        BatchRequest::Single(r) => vec![r],
        BatchRequest::Batch(rs) => {
            if rs.is_empty() {
                return bad_request("an empty batch has nothing to run");
            }
            if rs.len() > limits.max_batch {
                return bad_request(&format!(
                    "a batch may hold at most {} operations; this one has {}",
                    limits.max_batch,
                    rs.len()
                ));
            }
            rs
        }
    };
    for request in &mut requests {
        if let Err(refusal) = state.documents.resolve(request, reads_only_the_sdl) {
            return refused(&refusal);
        }
    }
    // The name each operation is counted under in the metrics: the one asked for, else the document's
    // only named operation.
    let mut operations = Vec::with_capacity(requests.len());
    let mut writes = false;
    for request in &requests {
        let Ok(document) = async_graphql::parser::parse_query(&request.query) else {
            // Let the executor report the syntax error in the usual shape.
            operations.push(operation_label(None));
            continue;
        };
        operations.push(operation_label(request.operation_name.as_deref().or(
            match &document.operations {
                DocumentOperations::Multiple(named) if named.len() == 1 => {
                    named.keys().next().map(|n| n.as_str())
                }
                _ => None,
            },
        )));
        let mutation = has_mutation(&document, request.operation_name.as_deref());
        writes |= mutation;
        if is_get && mutation {
            let mut response = error_body(
                StatusCode::METHOD_NOT_ALLOWED,
                ErrorCode::BadUserInput,
                "mutations must be sent with POST",
            );
            response
                .headers_mut()
                .insert(header::ALLOW, header::HeaderValue::from_static("POST"));
            return response;
        }
        if let Err(message) = check_size(&document, &request.variables, limits) {
            return bad_request(&message);
        }
    }

    let request_id = headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();

    // A batch that writes runs on the primary, reads inside the write included, over the primary's
    // snapshot.
    if writes && route.is_standby() {
        route = state.reads.primary();
        snapshot = match state.snapshots.current(&route.db).await {
            Ok(snapshot) => snapshot,
            Err(e) => return error_response(&e),
        };
    }

    let mut responses = Vec::with_capacity(requests.len());
    for (request, operation) in requests.into_iter().zip(operations) {
        let started = std::time::Instant::now();
        let span = crate::telemetry::operation_span(&operation);
        // Kept to run again on the primary should the standby fail it.
        let again = route.is_standby().then(|| copy_of(&request));
        let run = |request: Request, route: &Route, snapshot: &Arc<Snapshot>| {
            let request = request
                .data(identity.clone())
                .data(route.db.clone())
                .data(loaders::for_request(
                    route.db.clone(),
                    identity.clone(),
                    snapshot.clone(),
                ))
                .data(RequestId(request_id.clone()));
            state.schema.execute(request).instrument(span.clone())
        };
        let mut response = with_codes(run(request, &route, &snapshot).await);
        if let Some(again) = again
            && let Some(failure) = standby_failure(&response)
        {
            tracing::warn!(
                code = failure.as_str(),
                operation = operation.as_str(),
                "a read failed on a standby; running it again on the primary"
            );
            if failure == ErrorCode::Unavailable {
                state.reads.failed(&route);
            }
            route = state.reads.primary();
            match state.snapshots.current(&route.db).await {
                Ok(fresh) => {
                    snapshot = fresh;
                    response = with_codes(run(again, &route, &snapshot).await);
                }
                Err(e) => tracing::warn!(error = %e, "the primary cannot take over a failed read"),
            }
        }
        let outcome = response
            .errors
            .first()
            .and_then(error_code)
            .unwrap_or("ok")
            .to_owned();
        span.record("outcome", outcome.as_str());
        metrics::counter!("childhub_graphql_operations_total", "operation" => operation.clone(), "outcome" => outcome)
            .increment(1);
        metrics::histogram!("childhub_graphql_operation_duration_seconds", "operation" => operation)
            .record(started.elapsed().as_secs_f64());
        responses.push(response);
    }
    // Straight to bytes: going through a `serde_json::Value` first doubled the serialisation work.
    let body = if single {
        serde_json::to_vec(&responses[0])
    } else {
        serde_json::to_vec(&responses)
    };
    // An operation that failed because the database was unavailable is answered 503, so clients and
    // load balancers back off and retry (the error layer adds `Retry-After`).
    let unavailable = responses
        .iter()
        .flat_map(|r| &r.errors)
        .any(|e| error_code(e) == Some(ErrorCode::Unavailable.as_str()));
    // GraphQL over HTTP: a client that accepts `application/graphql-response+json` gets that media type,
    // and a request error (the document did not parse or validate, so nothing ran) is a 400.
    let graphql_response = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains(GRAPHQL_RESPONSE));
    let request_error = single
        && responses[0].data == async_graphql::Value::Null
        && !responses[0].errors.is_empty()
        && responses[0].errors.iter().all(|e| e.path.is_empty());
    let status = if unavailable {
        StatusCode::SERVICE_UNAVAILABLE
    } else if graphql_response && request_error {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let content_type = if graphql_response {
        GRAPHQL_RESPONSE
    } else {
        "application/json"
    };
    // What an anonymous caller may read by GET is public data, the same for everyone: caches may keep
    // it a minute. Anything read with a token is that caller's view and is never stored.
    let cacheable = is_get
        && matches!(identity, crate::auth::Identity::Anonymous)
        && status == StatusCode::OK
        && responses.iter().all(|r| r.errors.is_empty());
    let cache_control = if cacheable {
        "public, max-age=60"
    } else {
        "private, no-store"
    };
    let mut response = match body {
        Ok(body) => (
            status,
            [
                (header::CONTENT_TYPE, content_type),
                (header::CACHE_CONTROL, cache_control),
            ],
            body,
        )
            .into_response(),
        Err(e) => error_response(&AppError::Internal(format!("serialising a response: {e}"))),
    };
    if writes && state.reads.has_standbys() {
        // The primary's position after the write: sent back, it keeps the writer's next reads off
        // standbys that have not replayed it yet. Without standbys it would route nothing, so the
        // statement is not spent.
        match replicas::position(&state.db).await {
            Ok(Some(lsn)) => {
                let token = lsn.to_string();
                if let Ok(value) = header::HeaderValue::from_str(&token) {
                    response
                        .headers_mut()
                        .insert(crate::http::CONSISTENCY_HEADER, value);
                }
                let settings = &state.settings;
                if !headers.contains_key(header::AUTHORIZATION)
                    && session::cookie(headers, session::cookie_name(settings)).is_some()
                {
                    let cookie = session::set_cookie(
                        settings,
                        crate::http::CONSISTENCY_COOKIE,
                        &token,
                        "/",
                        CONSISTENCY_COOKIE_SECONDS,
                    );
                    response.headers_mut().append(header::SET_COOKIE, cookie);
                }
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "no consistency token for a write's answer"),
        }
    }
    response
}

/// How long the workspace's consistency cookie lives: far longer than any standby may lag (once every
/// standby has replayed it, it routes nothing), short enough not to outlive the working day's use.
const CONSISTENCY_COOKIE_SECONDS: u64 = 3600;

/// Why a standby's answer should be given by the primary instead: the standby went away (`UNAVAILABLE`)
/// or failed in a way the primary would not (`INTERNAL`: e.g. a query cancelled by a conflict with
/// replay). Reads are safe to run twice; timeouts are not retried, they would only double the wait.
fn standby_failure(response: &GqlResponse) -> Option<ErrorCode> {
    let codes: Vec<&str> = response.errors.iter().filter_map(error_code).collect();
    if codes.contains(&ErrorCode::Unavailable.as_str()) {
        Some(ErrorCode::Unavailable)
    } else if codes.contains(&ErrorCode::Internal.as_str()) {
        Some(ErrorCode::Internal)
    } else {
        None
    }
}

/// The request as the client sent it, without the data the server attached: to run it again.
fn copy_of(request: &Request) -> Request {
    let mut copy = Request::new(request.query.clone()).variables(request.variables.clone());
    copy.operation_name = request.operation_name.clone();
    copy.extensions = request.extensions.clone();
    copy
}

/// The GraphQL-over-HTTP response media type.
const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";

/// Whether the request is one query selecting nothing but `_service` (and `__typename`): what a gateway
/// sends to compose the supergraph.
fn asks_only_for_sdl(batch: &BatchRequest) -> bool {
    let BatchRequest::Single(request) = batch else {
        return false;
    };
    reads_only_the_sdl(&request.query)
}

/// How many distinct operation names get their own metrics series; later names count as `other`.
const MAX_OPERATION_LABELS: usize = 500;

/// The operation's name as a metrics label: a GraphQL name (letters, digits, `_`, at most 64) or
/// `anonymous`. Clients choose names, so only the first [`MAX_OPERATION_LABELS`] distinct ones get a
/// series of their own: a client inventing names cannot grow the metrics without bound.
fn operation_label(name: Option<&str>) -> String {
    static SEEN: std::sync::LazyLock<std::sync::Mutex<std::collections::HashSet<String>>> =
        std::sync::LazyLock::new(Default::default);
    match name {
        Some(n)
            if !n.is_empty()
                && n.len() <= 64
                && n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') =>
        {
            let Ok(mut seen) = SEEN.lock() else {
                return "other".to_owned();
            };
            if seen.contains(n) || seen.len() < MAX_OPERATION_LABELS {
                seen.insert(n.to_owned());
                n.to_owned()
            } else {
                "other".to_owned()
            }
        }
        Some(_) => "invalid".to_owned(),
        None => "anonymous".to_owned(),
    }
}

/// An error's `extensions.code` (every error has one after [`with_codes`]).
fn error_code(error: &ServerError) -> Option<&str> {
    match error.extensions.as_ref()?.get("code")? {
        async_graphql::Value::String(code) => Some(code.as_str()),
        _ => None,
    }
}

/// Gives every error an `extensions.code`: errors from our resolvers have one; what remains comes from
/// parsing, validation or argument coercion, which is the client's input.
fn with_codes(mut response: GqlResponse) -> GqlResponse {
    for error in &mut response.errors {
        ensure_code(error);
    }
    response
}

fn ensure_code(error: &mut ServerError) {
    let has_code = error
        .extensions
        .as_ref()
        .is_some_and(|e| e.get("code").is_some());
    if !has_code {
        error
            .extensions
            .get_or_insert_with(Default::default)
            .set("code", ErrorCode::BadUserInput.as_str());
    }
}

/// Whether the operation that would run (the named one, or any when unnamed) is a mutation or subscription.
fn has_mutation(document: &ExecutableDocument, operation_name: Option<&str>) -> bool {
    let is_write = |ty: OperationType| ty != OperationType::Query;
    match &document.operations {
        DocumentOperations::Single(op) => is_write(op.node.ty),
        DocumentOperations::Multiple(ops) => ops.iter().any(|(name, op)| {
            operation_name.is_none_or(|wanted| name.as_str() == wanted) && is_write(op.node.ty)
        }),
    }
}

/// The alias, field and assessment limits every operation meets before it runs, over HTTP and on every
/// WebSocket `subscribe` alike; the refusal's message names the limit.
pub fn check_size(
    document: &ExecutableDocument,
    variables: &Variables,
    limits: &crate::config::Limits,
) -> Result<(), String> {
    let (fields, aliases) = count_fields(document, limits.max_fields);
    if aliases > limits.max_aliases {
        return Err(format!(
            "the query uses {aliases} aliases; at most {} are allowed",
            limits.max_aliases
        ));
    }
    if fields > limits.max_fields {
        return Err(format!(
            "the query selects {fields} fields; at most {} are allowed",
            limits.max_fields
        ));
    }
    let assessments = distinct_assessments(document, variables);
    if assessments > limits.max_assessments {
        return Err(format!(
            "the query asks for {assessments} different assessments (progress, summary or earlyWarnings \
             with different years, regions or filters); at most {} run in one operation — the same \
             arguments under several aliases count once",
            limits.max_assessments
        ));
    }
    Ok(())
}

/// The root fields that assess every target, and the arguments that make one assessment differ from
/// another (`earlyWarnings(severity:)` only filters the same assessment).
const ASSESSMENT_FIELDS: [&str; 3] = ["progress", "summary", "earlyWarnings"];

/// How many different assessments the operations of `document` would run: aliases and fields that
/// share their arguments share one assessment (the snapshot makes it once), so they are weighed once.
fn distinct_assessments(document: &ExecutableDocument, variables: &Variables) -> usize {
    use async_graphql::Value;
    fn collect(
        doc: &ExecutableDocument,
        set: &SelectionSet,
        variables: &Variables,
        depth: usize,
        out: &mut std::collections::BTreeSet<String>,
    ) {
        if depth > 8 {
            return;
        }
        for selection in &set.items {
            match &selection.node {
                Selection::Field(field) => {
                    let name = field.node.name.node.as_str();
                    if !ASSESSMENT_FIELDS.contains(&name) {
                        continue;
                    }
                    let argument = |wanted: &str| -> Value {
                        field
                            .node
                            .arguments
                            .iter()
                            .find(|(n, _)| n.node.as_str() == wanted)
                            .and_then(|(_, v)| {
                                v.node
                                    .clone()
                                    .into_const_with(|name| variables.get(&name).cloned().ok_or(()))
                                    .ok()
                            })
                            .unwrap_or(Value::Null)
                    };
                    // One shape for every field: summary(year, region) is progress(filter: {year, region}).
                    let key = if name == "progress" {
                        argument("filter")
                    } else {
                        let mut filter = async_graphql::indexmap::IndexMap::new();
                        for wanted in ["year", "region"] {
                            let value = argument(wanted);
                            if value != Value::Null {
                                filter.insert(async_graphql::Name::new(wanted), value);
                            }
                        }
                        if filter.is_empty() {
                            Value::Null
                        } else {
                            Value::Object(filter)
                        }
                    };
                    out.insert(key.to_string());
                }
                Selection::InlineFragment(fragment) => collect(
                    doc,
                    &fragment.node.selection_set.node,
                    variables,
                    depth + 1,
                    out,
                ),
                Selection::FragmentSpread(spread) => {
                    if let Some(fragment) = doc.fragments.get(&spread.node.fragment_name.node) {
                        collect(
                            doc,
                            &fragment.node.selection_set.node,
                            variables,
                            depth + 1,
                            out,
                        );
                    }
                }
            }
        }
    }
    let mut out = std::collections::BTreeSet::new();
    for (_, op) in document.operations.iter() {
        collect(
            document,
            &op.node.selection_set.node,
            variables,
            0,
            &mut out,
        );
    }
    out.len()
}

/// The rate-limit refusal's message, the same over HTTP and WebSocket.
pub fn rate_limited_message(limits: &crate::config::Limits) -> String {
    format!(
        "more than limits.requests_per_minute ({}) requests from this caller; retry after the time in Retry-After",
        limits.requests_per_minute
    )
}

/// Fields and aliased fields the document selects, with fragment spreads expanded where they are used
/// (so that one fragment spread many times counts many times). Cycles, which validation rejects later,
/// are cut off by a depth bound.
pub fn count_fields(document: &ExecutableDocument, cap: usize) -> (usize, usize) {
    fn walk(
        doc: &ExecutableDocument,
        set: &SelectionSet,
        depth: usize,
        cap: usize,
        counts: &mut (usize, usize),
    ) {
        for selection in &set.items {
            // Past the cap the answer is "too many" already; stopping keeps nested spreads from
            // making the count itself expensive.
            if depth > 64 || counts.0 > cap {
                return;
            }
            match &selection.node {
                Selection::Field(field) => {
                    counts.0 += 1;
                    if field.node.alias.is_some() {
                        counts.1 += 1;
                    }
                    walk(doc, &field.node.selection_set.node, depth + 1, cap, counts);
                }
                Selection::InlineFragment(fragment) => walk(
                    doc,
                    &fragment.node.selection_set.node,
                    depth + 1,
                    cap,
                    counts,
                ),
                Selection::FragmentSpread(spread) => {
                    if let Some(fragment) = doc.fragments.get(&spread.node.fragment_name.node) {
                        walk(
                            doc,
                            &fragment.node.selection_set.node,
                            depth + 1,
                            cap,
                            counts,
                        );
                    }
                }
            }
        }
    }
    let mut counts = (0, 0);
    for (_, op) in document.operations.iter() {
        walk(document, &op.node.selection_set.node, 0, cap, &mut counts);
    }
    counts
}

/// `GET /graphql`: a WebSocket upgrade starts a subscription session; anything else is a query.
pub async fn graphql_get(
    axum::extract::State(state): axum::extract::State<AppState>,
    request: axum::extract::Request,
) -> axum::response::Response {
    use axum::extract::FromRequestParts;
    let (mut parts, _) = request.into_parts();
    let upgrade = parts
        .headers
        .get(axum::http::header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    if upgrade {
        return crate::http::subscriptions::graphql_ws_parts(state, &mut parts).await;
    }
    let query = axum::extract::Query::from_request_parts(&mut parts, &state).await;
    match query {
        Ok(query) => get(axum::extract::State(state), parts.headers, query).await,
        Err(rejection) => axum::response::IntoResponse::into_response(rejection),
    }
}

/// The schema's introspection result for GraphiQL, computed once per process. Where `/graphql` answers
/// introspection it is public too; otherwise it needs a valid token, like the API.
pub async fn graphiql_schema(
    axum::extract::State(state): axum::extract::State<AppState>,
    headers: axum::http::HeaderMap,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    if !state.settings.introspection_enabled() {
        let caller = match crate::http::identify(&state, &headers).await {
            Ok(caller) => caller,
            Err(refused) => return refused,
        };
        if caller.identity.member().is_none() {
            return error_response(&crate::error::AppError::Unauthenticated(
                "the schema needs a bearer token where introspection is off".into(),
            ));
        }
    }
    static SCHEMA: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    let json = SCHEMA
        .get_or_init(crate::graphql::introspection_json)
        .await
        .clone();
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        json,
    )
        .into_response()
}
