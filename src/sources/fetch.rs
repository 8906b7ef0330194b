//! Fetching over HTTP as a careful client of a department's system: a timeout per request; bounded
//! retries with exponential backoff and jitter on 5xx answers, timeouts and refused connections (never on
//! a 4xx), honouring `Retry-After`; conditional requests (`If-None-Match`, `If-Modified-Since`) so that
//! an unchanged source costs one `304`; gzip; and a cap on the size of an answer, checked while it
//! streams in.

use crate::config::ConnectorSettings;
use crate::sources::config::Credentials;
use backon::{ExponentialBuilder, Retryable};
use reqwest::header::{self, HeaderMap, HeaderValue};
use std::time::Duration;

/// Why a pull failed, in words a department's IT staff can act on (never with a credential).
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct PullError {
    pub message: String,
    /// The HTTP status that ended it, if an answer came.
    pub http_status: Option<u16>,
    /// Worth asking again (a 5xx, a timeout, a refused connection).
    pub retryable: bool,
    /// How long the system asked us to wait (`Retry-After`).
    pub retry_after: Option<Duration>,
}

impl PullError {
    /// A failure that retrying will not mend (bad configuration, a 4xx, an unreadable answer).
    pub fn fatal(message: impl Into<String>) -> Self {
        PullError {
            message: message.into(),
            http_status: None,
            retryable: false,
            retry_after: None,
        }
    }
}

/// An answer.
#[derive(Clone, Debug)]
pub struct Fetched {
    pub status: u16,
    pub body: Vec<u8>,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    /// The `Link: <…>; rel="next"` target, if any.
    pub link_next: Option<String>,
}

impl Fetched {
    /// Whether the source answered "not modified".
    pub fn not_modified(&self) -> bool {
        self.status == 304
    }
}

/// What a conditional request sends.
#[derive(Clone, Debug, Default)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// An HTTP client for one pull.
pub struct Fetcher {
    client: reqwest::Client,
    settings: ConnectorSettings,
    auth: HeaderMap,
}

/// Reads a credential from the environment variable it is named by.
fn secret(name: &str) -> Result<String, PullError> {
    std::env::var(name).map_err(|_| {
        PullError::fatal(format!(
            "the environment variable {name} (named in the source's credentials) is not set"
        ))
    })
}

impl Fetcher {
    /// A client with the source's credentials.
    pub fn new(
        settings: &ConnectorSettings,
        credentials: Option<&Credentials>,
    ) -> Result<Self, PullError> {
        let client = reqwest::Client::builder()
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout.min(Duration::from_secs(10)))
            .user_agent(concat!(
                "childhub/",
                env!("CARGO_PKG_VERSION"),
                " (source connector)"
            ))
            .build()
            .map_err(|e| PullError::fatal(format!("building the HTTP client: {e}")))?;
        let mut auth = HeaderMap::new();
        if let Some(c) = credentials {
            if let Some(name) = &c.bearer_env {
                let value =
                    HeaderValue::from_str(&format!("Bearer {}", secret(name)?)).map_err(|_| {
                        PullError::fatal(format!("{name} holds characters a header cannot carry"))
                    })?;
                auth.insert(header::AUTHORIZATION, value);
            }
            if let Some(user) = &c.basic_user {
                use base64::Engine;
                let password = match &c.basic_password_env {
                    Some(name) => secret(name)?,
                    None => String::new(),
                };
                let token =
                    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
                let value = HeaderValue::from_str(&format!("Basic {token}")).map_err(|_| {
                    PullError::fatal("the basic credentials cannot be sent as a header")
                })?;
                auth.insert(header::AUTHORIZATION, value);
            }
        }
        Ok(Fetcher {
            client,
            settings: settings.clone(),
            auth,
        })
    }

    /// `GET url`, conditionally when `validators` are given.
    pub async fn get(&self, url: &str, validators: &Validators) -> Result<Fetched, PullError> {
        let request = || {
            let mut r = self.client.get(url).headers(self.headers());
            if let Some(etag) = &validators.etag {
                r = r.header(header::IF_NONE_MATCH, etag);
            }
            if let Some(modified) = &validators.last_modified {
                r = r.header(header::IF_MODIFIED_SINCE, modified);
            }
            r
        };
        self.with_retries(request).await
    }

    /// `POST url` with a JSON body (GraphQL).
    pub async fn post_json(
        &self,
        url: &str,
        body: &serde_json::Value,
    ) -> Result<Fetched, PullError> {
        let request = || self.client.post(url).headers(self.headers()).json(body);
        self.with_retries(request).await
    }

    /// The credentials, and the trace context so the source's own spans join the pull's trace.
    fn headers(&self) -> HeaderMap {
        let mut headers = self.auth.clone();
        crate::telemetry::inject_trace_context(&mut headers);
        headers
    }

    async fn with_retries(
        &self,
        request: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<Fetched, PullError> {
        let policy = ExponentialBuilder::default()
            .with_min_delay(self.settings.first_retry)
            .with_max_delay(self.settings.max_retry_after)
            .with_max_times(self.settings.attempts.saturating_sub(1))
            .with_jitter();
        let max_retry_after = self.settings.max_retry_after;
        (|| self.once(request()))
            .retry(policy)
            .sleep(tokio::time::sleep)
            .when(|e: &PullError| e.retryable)
            // A system that says when to come back is believed (up to a limit).
            .adjust(move |e: &PullError, pause| {
                e.retry_after.map(|a| a.min(max_retry_after)).or(pause)
            })
            .notify(|e: &PullError, pause| {
                tracing::info!(error = %e, ?pause, "a source request failed; retrying");
            })
            .await
    }

    async fn once(&self, request: reqwest::RequestBuilder) -> Result<Fetched, PullError> {
        let mut response = request.send().await.map_err(|e| PullError {
            message: if e.is_timeout() {
                format!(
                    "the source did not answer within {}",
                    humantime::format_duration(self.settings.timeout)
                )
            } else if e.is_connect() {
                "could not connect to the source".to_owned()
            } else {
                format!("the request failed: {}", without_url(&e))
            },
            http_status: None,
            retryable: e.is_timeout() || e.is_connect() || e.is_request(),
            retry_after: None,
        })?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = |name: header::HeaderName| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        if status >= 400 {
            let retryable = status >= 500 || status == 429;
            return Err(PullError {
                message: format!(
                    "the source answered {status}{}",
                    if retryable {
                        ""
                    } else {
                        " (not retried: fix the request or its credentials)"
                    }
                ),
                http_status: Some(status),
                retryable,
                retry_after: text(header::RETRY_AFTER).and_then(|v| parse_retry_after(&v)),
            });
        }
        let too_big = || PullError {
            message: format!(
                "the answer is larger than connectors.max_bytes ({} bytes); page the source or raise the cap",
                self.settings.max_bytes
            ),
            http_status: Some(status),
            retryable: false,
            retry_after: None,
        };
        if response
            .content_length()
            .is_some_and(|n| n as usize > self.settings.max_bytes)
        {
            return Err(too_big());
        }
        let mut body = Vec::new();
        loop {
            let chunk = response.chunk().await.map_err(|e| PullError {
                message: format!("reading the answer failed: {}", without_url(&e)),
                http_status: Some(status),
                retryable: e.is_timeout(),
                retry_after: None,
            })?;
            let Some(chunk) = chunk else { break };
            if body.len() + chunk.len() > self.settings.max_bytes {
                return Err(too_big());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Fetched {
            status,
            body,
            etag: text(header::ETAG),
            last_modified: text(header::LAST_MODIFIED),
            link_next: text(header::LINK).and_then(|l| next_link(&l)),
        })
    }
}

/// A reqwest error's text without the URL (it may carry query parameters the department considers
/// private).
fn without_url(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    if let Some(url) = e.url() {
        text = text.replace(url.as_str(), "the source");
    }
    text
}

/// `Retry-After`: seconds, or an HTTP date.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    if let Ok(seconds) = value.trim().parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let when = chrono::DateTime::parse_from_rfc2822(value.trim()).ok()?;
    (when.with_timezone(&chrono::Utc) - chrono::Utc::now())
        .to_std()
        .ok()
}

/// The `rel="next"` target of a `Link` header.
pub fn next_link(header: &str) -> Option<String> {
    header.split(',').find_map(|part| {
        let (target, params) = part.split_once(';')?;
        let is_next = params.split(';').any(|p| {
            p.trim()
                .replace(' ', "")
                .eq_ignore_ascii_case("rel=\"next\"")
                || p.trim().eq_ignore_ascii_case("rel=next")
        });
        is_next.then(|| {
            target
                .trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_owned()
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_headers_and_retry_after_are_read() {
        assert_eq!(
            next_link(
                r#"<https://x.example/a?page=1>; rel="prev", <https://x.example/a?page=3>; rel="next""#
            ),
            Some("https://x.example/a?page=3".to_owned())
        );
        assert_eq!(next_link(r#"<https://x.example/a>; rel="last""#), None);
        assert_eq!(parse_retry_after("7"), Some(Duration::from_secs(7)));
        assert!(parse_retry_after("soon").is_none());
    }
}
