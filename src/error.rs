//! One error type for the whole application, and its mapping to GraphQL `extensions.code`.
//!
//! Layer errors (`DbErr`, upstream HTTP errors) convert into [`AppError`]; internal causes are logged once,
//! where they become a client-facing error, and the client only ever sees a generic message and a code.

use async_graphql::ErrorExtensions;
use sea_orm::DbErr;
use serde::Serialize;

/// The error codes a client can see in `extensions.code`, with the HTTP status an answer refused before
/// execution carries: one list for every layer (resolvers, the HTTP handler, the layers below it,
/// WebSockets, trusted documents).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    Unauthenticated,
    Forbidden,
    BadUserInput,
    NotFound,
    Conflict,
    Internal,
    /// The request took longer than `limits.request_timeout_seconds`.
    Timeout,
    /// The request body is larger than `limits.max_body_bytes`.
    PayloadTooLarge,
    /// Too many requests for this token; wait for `Retry-After`.
    RateLimited,
    /// The database cannot be reached or has no free connection; retry after `Retry-After`.
    Unavailable,
    /// A setting that cannot work (found before anything runs; never sent to a client).
    BadSettings,
    /// Automatic Persisted Queries: the hash is not known yet (Apollo's links send the query then).
    PersistedQueryNotFound,
    /// Trusted documents only: the document is not in the list.
    PersistedQueryNotInList,
    /// The query does not hash to the hash sent with it.
    PersistedQueryHashMismatch,
}

impl ErrorCode {
    /// The code as clients see it: `BAD_USER_INPUT`.
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Unauthenticated => "UNAUTHENTICATED",
            ErrorCode::Forbidden => "FORBIDDEN",
            ErrorCode::BadUserInput => "BAD_USER_INPUT",
            ErrorCode::NotFound => "NOT_FOUND",
            ErrorCode::Conflict => "CONFLICT",
            ErrorCode::Internal => "INTERNAL",
            ErrorCode::Timeout => "TIMEOUT",
            ErrorCode::PayloadTooLarge => "PAYLOAD_TOO_LARGE",
            ErrorCode::RateLimited => "RATE_LIMITED",
            ErrorCode::Unavailable => "UNAVAILABLE",
            ErrorCode::BadSettings => "BAD_SETTINGS",
            ErrorCode::PersistedQueryNotFound => "PERSISTED_QUERY_NOT_FOUND",
            ErrorCode::PersistedQueryNotInList => "PERSISTED_QUERY_NOT_IN_LIST",
            ErrorCode::PersistedQueryHashMismatch => "PERSISTED_QUERY_HASH_MISMATCH",
        }
    }

    /// The HTTP status of an answer refused with this code before a GraphQL operation ran (errors of
    /// a running operation are `200` with the code in the body, as GraphQL over HTTP has it).
    pub const fn http_status(self) -> u16 {
        match self {
            ErrorCode::Unauthenticated => 401,
            ErrorCode::Forbidden => 403,
            ErrorCode::NotFound => 404,
            ErrorCode::Timeout => 408,
            ErrorCode::PayloadTooLarge => 413,
            ErrorCode::RateLimited => 429,
            ErrorCode::Internal | ErrorCode::BadSettings => 500,
            ErrorCode::Unavailable => 503,
            ErrorCode::BadUserInput
            | ErrorCode::Conflict
            | ErrorCode::PersistedQueryNotFound
            | ErrorCode::PersistedQueryNotInList
            | ErrorCode::PersistedQueryHashMismatch => 400,
        }
    }

    /// The code of an error status that no handler described (axum's and tower-http's own answers).
    pub const fn of_status(status: u16) -> Self {
        match status {
            401 => ErrorCode::Unauthenticated,
            403 => ErrorCode::Forbidden,
            404 => ErrorCode::NotFound,
            409 => ErrorCode::Conflict,
            408 | 504 => ErrorCode::Timeout,
            413 => ErrorCode::PayloadTooLarge,
            429 => ErrorCode::RateLimited,
            503 => ErrorCode::Unavailable,
            500..=599 => ErrorCode::Internal,
            _ => ErrorCode::BadUserInput,
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Bad input, naming what was wrong: the argument or field, the value given and what was expected.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct InvalidInput {
    /// The argument or field path, e.g. `filter.indicators`.
    pub field: String,
    /// The value that was given, as text.
    pub value: String,
    /// What was expected instead.
    pub expected: String,
}

/// What is wrong with one row of a batch or a file: the row (0-based index in a request's list, 1-based
/// data row in a file), the field or column, the value given and what was expected. Every batch and file
/// path reports bad rows in this one shape.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RowError {
    pub row: usize,
    pub field: String,
    pub value: String,
    pub message: String,
}

impl RowError {
    pub fn new(
        row: usize,
        field: impl Into<String>,
        value: impl ToString,
        message: impl Into<String>,
    ) -> Self {
        RowError {
            row,
            field: field.into(),
            value: value.to_string(),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "row {}: {} {:?}: {}",
            self.row, self.field, self.value, self.message
        )
    }
}

/// Every failure a use case can report.
#[derive(Clone, Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    NotFound(String),
    #[error("{field}: {value:?} is not valid; expected {expected}", field = .0.field, value = .0.value, expected = .0.expected)]
    Invalid(Box<InvalidInput>),
    #[error("{0}")]
    Conflict(String),
    /// A decision on a submission that shares values with other pending ones: which stands must be
    /// said (`extensions.submissions` lists the others' ids).
    #[error("{message}")]
    Overlap {
        message: String,
        submissions: Vec<i64>,
    },
    /// A write lost a race to a concurrent writer; it is retried, and reported as a conflict when it
    /// keeps losing.
    #[error("another write changed the same values at the same time; try again")]
    Contention,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Unauthenticated(String),
    /// An upstream system (an OIDC provider, …) failed; the text is for the log only.
    #[error("upstream failure: {0}")]
    Upstream(String),
    /// The database cannot be reached or has no free connection now; the caller should retry shortly
    /// (HTTP 503 with `Retry-After`). The text is for the log only.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// A statement ran past `database.statement_timeout` and the database cancelled it: the question
    /// is too big for one answer. The text is for the log only.
    #[error("statement timed out: {0}")]
    StatementTimeout(String),
    /// A setting (settings file, environment or flag) that cannot work, found before anything runs.
    #[error("settings: {0}")]
    Settings(String),
    /// A bug or an infrastructure failure; the text is for the log only.
    #[error("internal error: {0}")]
    Internal(String),
}

/// Shorthand for results of use cases.
pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    /// Bad input in `field`: `value` was given, `expected` describes what would have been accepted.
    pub fn invalid(
        field: impl Into<String>,
        value: impl ToString,
        expected: impl Into<String>,
    ) -> Self {
        AppError::Invalid(Box::new(InvalidInput {
            field: field.into(),
            value: value.to_string(),
            expected: expected.into(),
        }))
    }

    /// The same error with its field named inside the input object `parent` (`nameZh` →
    /// `input.nameZh`). The `code` a mutation takes beside its input stays as it is.
    pub fn within(self, parent: &str) -> Self {
        match self {
            AppError::Invalid(mut input) if input.field != "code" => {
                input.field = format!("{parent}.{}", input.field);
                AppError::Invalid(input)
            }
            other => other,
        }
    }

    /// The `extensions.code` of this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            AppError::NotFound(_) => ErrorCode::NotFound,
            AppError::Invalid(_) => ErrorCode::BadUserInput,
            AppError::Settings(_) => ErrorCode::BadSettings,
            AppError::Conflict(_) | AppError::Overlap { .. } | AppError::Contention => {
                ErrorCode::Conflict
            }
            AppError::Forbidden(_) => ErrorCode::Forbidden,
            AppError::Unauthenticated(_) => ErrorCode::Unauthenticated,
            AppError::Upstream(_) | AppError::Internal(_) => ErrorCode::Internal,
            AppError::Unavailable(_) => ErrorCode::Unavailable,
            AppError::StatementTimeout(_) => ErrorCode::Timeout,
        }
    }

    /// The message a client may see. Internal and upstream causes are replaced by a generic text.
    pub fn public_message(&self) -> String {
        match self {
            AppError::Upstream(_) | AppError::Internal(_) => {
                "internal error; the server log has the details (quote the request id)".to_owned()
            }
            AppError::Unavailable(_) => {
                "the database is busy or cannot be reached; try again in a moment".to_owned()
            }
            AppError::StatementTimeout(_) => {
                "the question took longer than the database allows one statement (database.statement_timeout); narrow it with a filter or fewer groups".to_owned()
            }
            other => other.to_string(),
        }
    }
}

/// What a failed database call means for whoever asked: the one place that reads the database's error
/// codes (SQLite's result codes, PostgreSQL's SQLSTATE), so every path answers a failure alike.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DbFailure {
    /// The write lost a race to another writer (a unique index, a serialization failure, a deadlock,
    /// SQLite's stale WAL snapshot): running the whole transaction again is right.
    Contention,
    /// The database could not be reached or stayed locked past its timeout (a lock held by another
    /// process, a server restarting, no free connection): the caller should retry shortly.
    Unavailable,
    /// The database cancelled a statement that ran past its timeout: asking again will not help.
    TimedOut,
    /// Anything else: a bug or a broken database.
    Other,
}

/// The database's own error code, when the failure came from the database itself.
fn database_code(err: &DbErr) -> Option<String> {
    use sea_orm::RuntimeErr;
    let (DbErr::Exec(RuntimeErr::SqlxError(e))
    | DbErr::Query(RuntimeErr::SqlxError(e))
    | DbErr::Conn(RuntimeErr::SqlxError(e))) = err
    else {
        return None;
    };
    match e.as_ref() {
        sea_orm::sqlx::Error::Database(db) => db.code().map(|c| c.into_owned()),
        _ => None,
    }
}

/// Whether the driver lost its connection (the server went away mid-statement, a pool that closed).
fn is_connection_loss(err: &DbErr) -> bool {
    use sea_orm::RuntimeErr;
    let (DbErr::Exec(RuntimeErr::SqlxError(e))
    | DbErr::Query(RuntimeErr::SqlxError(e))
    | DbErr::Conn(RuntimeErr::SqlxError(e))) = err
    else {
        return false;
    };
    matches!(
        e.as_ref(),
        sea_orm::sqlx::Error::Io(_)
            | sea_orm::sqlx::Error::PoolTimedOut
            | sea_orm::sqlx::Error::PoolClosed
            | sea_orm::sqlx::Error::WorkerCrashed
            | sea_orm::sqlx::Error::Tls(_)
    )
}

/// What `err` means for the caller (see [`DbFailure`]).
pub fn classify(err: &DbErr) -> DbFailure {
    if matches!(
        err.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    ) {
        return DbFailure::Contention;
    }
    if matches!(err, DbErr::ConnectionAcquire(_)) || is_connection_loss(err) {
        return DbFailure::Unavailable;
    }
    match database_code(err).as_deref() {
        // SQLite: BUSY_SNAPSHOT (a WAL reader's snapshot went stale before it wrote). PostgreSQL:
        // serialization_failure, deadlock_detected, lock_not_available.
        Some("517" | "40001" | "40P01" | "55P03") => DbFailure::Contention,
        // SQLite: BUSY, LOCKED, BUSY_RECOVERY, LOCKED_SHAREDCACHE, BUSY_TIMEOUT — the lock outlasted
        // `database.sqlite_busy_timeout`. PostgreSQL: connection exceptions (class 08), the server
        // shutting down or starting (57P01–57P03), too many connections (53300).
        Some("5" | "6" | "261" | "262" | "773" | "57P01" | "57P02" | "57P03" | "53300") => {
            DbFailure::Unavailable
        }
        Some(code) if code.starts_with("08") => DbFailure::Unavailable,
        // PostgreSQL: query_canceled, which `statement_timeout` raises.
        Some("57014") => DbFailure::TimedOut,
        _ if matches!(err, DbErr::Conn(_)) => DbFailure::Unavailable,
        _ => DbFailure::Other,
    }
}

impl From<DbErr> for AppError {
    fn from(err: DbErr) -> Self {
        // The database text stays in the log: it can carry SQL, table names and values.
        match classify(&err) {
            DbFailure::Unavailable => AppError::Unavailable(unavailable_reason(&err)),
            DbFailure::TimedOut => AppError::StatementTimeout(format!("database: {err}")),
            DbFailure::Contention | DbFailure::Other => {
                AppError::Internal(format!("database: {err}"))
            }
        }
    }
}

/// The log's (and the command line's) account of an unavailable database: what is busy, in words.
fn unavailable_reason(err: &DbErr) -> String {
    match database_code(err).as_deref() {
        Some("5" | "6" | "261" | "262" | "773") => format!(
            "the database file is locked: another process (an import, another childhub) held its write lock longer than database.sqlite_busy_timeout ({err})"
        ),
        _ => format!("database: {err}"),
    }
}

impl From<AppError> for async_graphql::Error {
    fn from(err: AppError) -> Self {
        // Logged once, here, inside the request's span (which carries the request id).
        match &err {
            AppError::Internal(_) | AppError::Upstream(_) => {
                tracing::error!(error = %err, "request failed");
            }
            AppError::Unavailable(_) => tracing::warn!(error = %err, "database unavailable"),
            AppError::StatementTimeout(_) => tracing::warn!(error = %err, "statement timed out"),
            _ => {}
        }
        let code = err.code();
        let invalid = match &err {
            AppError::Invalid(input) => Some(input.as_ref().clone()),
            _ => None,
        };
        let others: Vec<String> = match &err {
            AppError::Overlap { submissions, .. } => {
                submissions.iter().map(i64::to_string).collect()
            }
            _ => Vec::new(),
        };
        async_graphql::Error::new(err.public_message()).extend_with(|_, ext| {
            ext.set("code", code.as_str());
            if let Some(input) = &invalid {
                ext.set("field", input.field.as_str());
                ext.set("value", input.value.as_str());
                ext.set("expected", input.expected.as_str());
            }
            if !others.is_empty() {
                ext.set("submissions", others.clone());
            }
        })
    }
}
