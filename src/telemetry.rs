//! Logs and traces. Logs: `tracing` to stderr, human-readable or JSON lines; `RUST_LOG` wins over the
//! configured filter; colours only when stderr is a terminal. Traces: OpenTelemetry over OTLP/HTTP when
//! an endpoint is configured (off otherwise), with the W3C `traceparent` of an incoming request as the
//! parent of its span and passed on to the outgoing calls made under it. Every request's span carries
//! its request id and trace id, so each log line names both.

use crate::config::{LogSettings, OtlpProtocol, TracingSettings};
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::{TraceContextExt, TracerProvider as _};
use opentelemetry_http::{HeaderExtractor, HeaderInjector};
use opentelemetry_otlp::{WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider};
use std::io::IsTerminal;
use std::sync::OnceLock;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::Layer;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Whether spans are exported: set once by [`init`]; outgoing calls carry `traceparent` only then.
static EXPORTING: OnceLock<bool> = OnceLock::new();

/// Keeps the trace exporter alive; dropping it sends the spans not yet exported.
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        if let Some(provider) = self.provider.take() {
            let _ = provider.shutdown();
        }
    }
}

/// Installs the global subscriber once; later calls (tests) install nothing and export nothing.
/// Fails on a tracing setting that cannot work (an endpoint that is not a URL, a ratio outside 0 – 1).
pub fn init(log: &LogSettings, tracing: &TracingSettings) -> Result<Telemetry, String> {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&log.filter))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let provider = tracer_provider(tracing)?;
    // Spans go out whatever the log level: an operator who logs only warnings still gets traces.
    let otel = provider.as_ref().map(|provider| {
        tracing_opentelemetry::layer()
            .with_tracer(provider.tracer("childhub"))
            .with_filter(EnvFilter::new("childhub=info"))
    });
    let ansi = std::io::stderr().is_terminal();
    let registry = tracing_subscriber::registry().with(otel);
    let installed = if log.json {
        let fmt = tracing_subscriber::fmt::layer()
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .with_writer(std::io::stderr)
            .with_filter(filter);
        registry.with(fmt).try_init()
    } else {
        let fmt = tracing_subscriber::fmt::layer()
            .with_ansi(ansi)
            .with_writer(std::io::stderr)
            .with_filter(filter);
        registry.with(fmt).try_init()
    };
    let exporting = installed.is_ok() && provider.is_some();
    let _ = EXPORTING.set(exporting);
    Ok(Telemetry {
        provider: provider.filter(|_| exporting),
    })
}

/// The OTLP endpoint to export to: the setting, else the standard environment variable.
fn endpoint(settings: &TracingSettings) -> Option<String> {
    settings
        .otlp_endpoint
        .clone()
        .or_else(|| std::env::var("OTEL_EXPORTER_OTLP_ENDPOINT").ok())
        .filter(|url| !url.trim().is_empty())
}

fn tracer_provider(settings: &TracingSettings) -> Result<Option<SdkTracerProvider>, String> {
    let Some(base) = endpoint(settings) else {
        return Ok(None);
    };
    if !(0.0..=1.0).contains(&settings.sample_ratio) {
        return Err(format!(
            "tracing.sample_ratio must lie between 0.0 and 1.0, not {}",
            settings.sample_ratio
        ));
    }
    if !(base.starts_with("http://") || base.starts_with("https://")) {
        return Err(format!(
            "tracing.otlp_endpoint must be an http:// or https:// URL (the collector's OTLP/HTTP port, \
             usually 4318), not {base:?}"
        ));
    }
    let runtime = tokio::runtime::Handle::try_current()
        .map_err(|_| "tracing needs the async runtime to export spans".to_owned())?;
    let protocol = match settings.protocol {
        OtlpProtocol::HttpProtobuf => opentelemetry_otlp::Protocol::HttpBinary,
        OtlpProtocol::HttpJson => opentelemetry_otlp::Protocol::HttpJson,
    };
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_http_client(export::Client::new(runtime))
        .with_protocol(protocol)
        .with_endpoint(format!("{}/v1/traces", base.trim_end_matches('/')))
        .build()
        .map_err(|e| format!("tracing.otlp_endpoint {base:?} cannot be used: {e}"))?;
    let sampler = Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(settings.sample_ratio)));
    let resource = opentelemetry_sdk::Resource::builder()
        .with_service_name(settings.service_name.clone())
        .build();
    Ok(Some(
        SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_sampler(sampler)
            .with_resource(resource)
            .build(),
    ))
}

/// The span of one HTTP request: method, path, request id and trace id, a child of the caller's
/// `traceparent` when it sent one. Without export the trace id is the caller's (so logs still join up
/// with the caller's trace); with export it is the span's own trace.
pub fn request_span(
    method: &str,
    path: &str,
    request_id: &str,
    headers: &http::HeaderMap,
) -> tracing::Span {
    let span = tracing::info_span!(
        "request",
        otel.name = tracing::field::Empty,
        otel.kind = "server",
        method = %method,
        uri = %path,
        request_id = %request_id,
        trace_id = tracing::field::Empty,
        http.response.status_code = tracing::field::Empty,
        otel.status_code = tracing::field::Empty,
    );
    // Only what is used is computed: this runs for every request.
    if exporting() {
        span.record("otel.name", format!("{method} {path}"));
        let parent = TraceContextPropagator::new().extract(&HeaderExtractor(headers));
        let _ = span.set_parent(parent);
        let own = span.context().span().span_context().trace_id();
        span.record("trace_id", tracing::field::display(own));
    } else if headers.contains_key("traceparent") {
        let parent = TraceContextPropagator::new().extract(&HeaderExtractor(headers));
        let remote = parent.span().span_context().trace_id();
        if remote != opentelemetry::trace::TraceId::INVALID {
            span.record("trace_id", tracing::field::display(remote));
        }
    }
    span
}

/// The span of one GraphQL operation, named `graphql <operation>` for the trace backend; its `outcome`
/// is recorded when the operation ends.
pub fn operation_span(operation: &str) -> tracing::Span {
    let span = tracing::info_span!(
        "graphql",
        otel.name = tracing::field::Empty,
        operation = %operation,
        outcome = tracing::field::Empty,
    );
    if exporting() {
        span.record("otel.name", format!("graphql {operation}"));
    }
    span
}

/// Records the answer's status on a request's span: `http.response.status_code`, and an error status for
/// a 5xx, so that trace backends flag the failed requests.
pub fn record_response(span: &tracing::Span, status: u16) {
    span.record("http.response.status_code", i64::from(status));
    if status >= 500 {
        span.record("otel.status_code", "ERROR");
    }
}

/// Adds the current span's `traceparent` (and `tracestate`) to an outgoing request's headers, so the
/// called system's spans join this trace. Nothing when traces are not exported.
pub fn inject_trace_context(headers: &mut http::HeaderMap) {
    if !exporting() {
        return;
    }
    let context = tracing::Span::current().context();
    TraceContextPropagator::new().inject_context(&context, &mut HeaderInjector(headers));
}

fn exporting() -> bool {
    EXPORTING.get().copied().unwrap_or(false)
}

/// The exporter's HTTP client: the hub's own reqwest, run on the process's runtime. The SDK's batch
/// processor exports from a thread of its own, where no runtime is entered; spawning onto the handle
/// lets it use the async client anyway (and spares a second HTTP stack).
mod export {
    use bytes::Bytes;
    use opentelemetry_http::{HttpClient, HttpError};

    #[derive(Debug)]
    pub struct Client {
        client: reqwest::Client,
        runtime: tokio::runtime::Handle,
    }

    impl Client {
        pub fn new(runtime: tokio::runtime::Handle) -> Client {
            Client {
                client: reqwest::Client::builder()
                    .timeout(std::time::Duration::from_secs(10))
                    .build()
                    .unwrap_or_default(),
                runtime,
            }
        }
    }

    #[async_trait::async_trait]
    impl HttpClient for Client {
        async fn send_bytes(
            &self,
            request: http::Request<Bytes>,
        ) -> Result<http::Response<Bytes>, HttpError> {
            let client = self.client.clone();
            let sent = self.runtime.spawn(async move {
                let (parts, body) = request.into_parts();
                let response = client
                    .request(parts.method, parts.uri.to_string())
                    .headers(parts.headers)
                    .body(body)
                    .send()
                    .await?;
                let mut answer = http::Response::builder().status(response.status());
                if let Some(headers) = answer.headers_mut() {
                    *headers = response.headers().clone();
                }
                let body = response.bytes().await?;
                Ok::<_, HttpError>(answer.body(body)?)
            });
            sent.await?
        }
    }
}
