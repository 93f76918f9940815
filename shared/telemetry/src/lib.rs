//! # cigo-telemetry
//!
//! - logs to stderr, as text or JSON, filtered with `RUST_LOG` syntax;
//! - OpenTelemetry traces, exported over OTLP/gRPC only when `OTEL_EXPORTER_OTLP_ENDPOINT` (or
//!   `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set; without it spans still get real trace and span
//!   ids (an SDK tracer provider with no exporter), so the trace context still travels through
//!   the queue;
//! - the W3C trace context: [`current_traceparent`] to put into a queue message,
//!   [`set_parent`] to continue it on the consumer side.
//!
//! With OTLP export on, [`init`] must run inside a Tokio runtime: the gRPC channel of the
//! exporter lives on it (the batch processor itself runs on a thread of its own).

use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::{TraceContextExt, TracerProvider as _};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use opentelemetry_sdk::Resource;
use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

/// The name of the W3C trace context header / field.
pub const TRACEPARENT: &str = "traceparent";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

impl LogFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            LogFormat::Text => "text",
            LogFormat::Json => "json",
        }
    }
}

impl fmt::Display for LogFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown log format {0:?} (expected \"text\" or \"json\")")]
pub struct UnknownLogFormat(pub String);

/// `text` or `json`, case-insensitive. Usable as a clap argument (`value_parser` picks `FromStr`).
impl FromStr for LogFormat {
    type Err = UnknownLogFormat;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            _ => Err(UnknownLogFormat(s.to_string())),
        }
    }
}

#[derive(Debug, Clone)]
pub struct TelemetryConfig {
    /// `service.name` of the traces.
    pub service_name: String,
    pub log_format: LogFormat,
    /// `RUST_LOG` syntax, e.g. `info,cigo=debug`.
    pub log_filter: String,
}

impl Default for TelemetryConfig {
    fn default() -> Self {
        Self { service_name: "cigo".to_string(), log_format: LogFormat::Text, log_filter: "info".to_string() }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    #[error("invalid log filter {filter:?}: {message}")]
    Filter { filter: String, message: String },
    #[error("cannot set up the OTLP exporter: {0}")]
    Exporter(String),
    /// `init` was already called (or another global subscriber is installed). Harmless.
    #[error("telemetry already initialised: {0}")]
    AlreadyInitialized(String),
}

/// Flushes and shuts down the tracer provider when dropped (keep it alive in `main`).
#[must_use = "dropping the guard shuts tracing export down"]
pub struct TelemetryGuard {
    provider: Option<SdkTracerProvider>,
}

impl TelemetryGuard {
    /// A guard that does nothing.
    pub fn noop() -> Self {
        Self { provider: None }
    }
}

impl fmt::Debug for TelemetryGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TelemetryGuard")
            .field("active", &self.provider.is_some())
            .finish()
    }
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        if let Some(provider) = self.provider.take() {
            // The batch exporter's shutdown blocks until its task answers; on a current-thread
            // runtime that task cannot run, so wait a bounded time in another thread.
            let (tx, rx) = std::sync::mpsc::channel();
            std::thread::spawn(move || {
                let _ = tx.send(provider.shutdown());
            });
            match rx.recv_timeout(Duration::from_secs(5)) {
                Ok(Ok(())) | Err(_) => {}
                Ok(Err(e)) => eprintln!("cigo-telemetry: shutting down the tracer provider: {e}"),
            }
        }
    }
}

fn otlp_endpoint_set() -> bool {
    ["OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"]
        .iter()
        .any(|var| std::env::var(var).is_ok_and(|v| !v.trim().is_empty()))
}

fn tracer_provider(service_name: &str) -> Result<SdkTracerProvider, TelemetryError> {
    let resource = Resource::builder()
        .with_service_name(service_name.to_string())
        .build();
    let builder = SdkTracerProvider::builder().with_resource(resource);
    let builder = if otlp_endpoint_set() {
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_tonic()
            .build()
            .map_err(|e| TelemetryError::Exporter(e.to_string()))?;
        builder.with_batch_exporter(exporter)
    } else {
        builder
    };
    Ok(builder.build())
}

/// Installs the global subscriber (logs to stderr + spans to OpenTelemetry) and the W3C
/// propagator. A second call returns [`TelemetryError::AlreadyInitialized`] and changes nothing
/// (except the propagator, which is the same).
pub fn init(cfg: &TelemetryConfig) -> Result<TelemetryGuard, TelemetryError> {
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());

    let filter_text = if cfg.log_filter.trim().is_empty() { "info" } else { cfg.log_filter.as_str() };
    let filter = EnvFilter::builder()
        .parse(filter_text)
        .map_err(|e| TelemetryError::Filter { filter: filter_text.to_string(), message: e.to_string() })?;

    let provider = tracer_provider(&cfg.service_name)?;
    let tracer = provider.tracer("cigo");
    let otel = tracing_opentelemetry::layer().with_tracer(tracer);

    let fmt = match cfg.log_format {
        // Colours only for a person at a terminal: a file or a log collector gets plain text.
        LogFormat::Text => tracing_subscriber::fmt::layer()
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .with_writer(std::io::stderr)
            .boxed(),
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .with_writer(std::io::stderr)
            .boxed(),
    };

    let installed = tracing_subscriber::registry()
        .with(filter)
        .with(fmt)
        .with(otel)
        .try_init();
    if let Err(e) = installed {
        // Spans go to the subscriber installed first; this provider is of no use.
        let _ = provider.shutdown();
        return Err(TelemetryError::AlreadyInitialized(e.to_string()));
    }
    opentelemetry::global::set_tracer_provider(provider.clone());
    Ok(TelemetryGuard { provider: Some(provider) })
}

/// The W3C `traceparent` of the current tracing span, or `None` when there is no span (or no
/// OpenTelemetry layer, or the span was filtered out).
pub fn current_traceparent() -> Option<String> {
    traceparent_of(&tracing::Span::current())
}

/// The W3C `traceparent` of `span`.
pub fn traceparent_of(span: &tracing::Span) -> Option<String> {
    let cx = span.context();
    if !cx.span().span_context().is_valid() {
        return None;
    }
    let mut carrier = HashMap::new();
    TraceContextPropagator::new().inject_context(&cx, &mut carrier);
    carrier.remove(TRACEPARENT)
}

/// The trace id of `span` (32 hex digits), to record as a log field so that the logs of one
/// richiesta can be found from its trace and back.
pub fn trace_id(span: &tracing::Span) -> Option<String> {
    let cx = span.context();
    let context = cx.span().span_context().clone();
    context.is_valid().then(|| context.trace_id().to_string())
}

/// Records the trace id of `span` in its `trace_id` field (declared `tracing::field::Empty`).
pub fn record_trace_id(span: &tracing::Span) {
    if let Some(id) = trace_id(span) {
        span.record("trace_id", id.as_str());
    }
}

/// Adds to `span` a link to `other` (a span of another trace that caused it: the HTTP request
/// of an approval, for the span that continues the richiesta's own trace). Call it before
/// entering the span.
pub fn link_to(span: &tracing::Span, other: &tracing::Span) {
    let cx = other.context();
    let context = cx.span().span_context().clone();
    if context.is_valid() {
        span.add_link(context);
    }
}

/// Makes `span` a child of the remote context `traceparent` (from a queue message). Does
/// nothing when `traceparent` is `None` or malformed. Call it before entering the span.
pub fn set_parent(span: &tracing::Span, traceparent: Option<&str>) {
    let Some(traceparent) = traceparent else {
        return;
    };
    let mut carrier = HashMap::new();
    carrier.insert(TRACEPARENT.to_string(), traceparent.trim().to_string());
    let cx = TraceContextPropagator::new().extract(&carrier);
    if cx.span().span_context().is_valid() {
        // Fails only when the span is disabled (filtered out): then there is nothing to link.
        let _ = span.set_parent(cx);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn init_for_tests() {
        // Other tests (or another call) may have installed it already: that must be harmless.
        let _ = init(&TelemetryConfig {
            service_name: "cigo-telemetry-test".into(),
            log_format: LogFormat::Text,
            log_filter: "info".into(),
        })
        .map(std::mem::forget);
    }

    /// `00-<32 hex trace id>-<16 hex span id>-<2 hex flags>`
    fn parse(traceparent: &str) -> (String, String, String) {
        let parts: Vec<&str> = traceparent.split('-').collect();
        assert_eq!(parts.len(), 4, "{traceparent}");
        assert_eq!(parts[0], "00");
        assert_eq!(parts[1].len(), 32);
        assert_eq!(parts[2].len(), 16);
        assert_eq!(parts[3].len(), 2);
        for p in &parts {
            assert!(p
                .chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        }
        assert_ne!(parts[1], "0".repeat(32));
        assert_ne!(parts[2], "0".repeat(16));
        (parts[1].into(), parts[2].into(), parts[3].into())
    }

    #[test]
    fn traceparent_propagates_to_a_child_span() {
        init_for_tests();
        let producer = tracing::info_span!("upload");
        let sent = producer
            .in_scope(current_traceparent)
            .expect("a traceparent");
        let (trace_id, producer_span_id, flags) = parse(&sent);
        assert_eq!(flags, "01", "sampled");

        // The consumer side, as after the queue.
        let consumer = tracing::info_span!("prevalidazione");
        set_parent(&consumer, Some(&sent));
        let received = consumer
            .in_scope(current_traceparent)
            .expect("a traceparent");
        let (child_trace_id, child_span_id, _) = parse(&received);
        assert_eq!(child_trace_id, trace_id);
        assert_ne!(child_span_id, producer_span_id);

        // Nested spans keep the trace id too.
        let nested = consumer.in_scope(|| {
            let inner = tracing::info_span!("inner");
            inner.in_scope(current_traceparent)
        });
        assert_eq!(parse(&nested.unwrap()).0, trace_id);
    }

    #[test]
    fn no_span_no_traceparent_and_bad_input_is_ignored() {
        init_for_tests();
        assert_eq!(current_traceparent(), None);
        let span = tracing::info_span!("orphan");
        set_parent(&span, Some("garbage"));
        set_parent(&span, None);
        let own = span.in_scope(current_traceparent).unwrap();
        parse(&own);
        let other = tracing::info_span!("other")
            .in_scope(current_traceparent)
            .unwrap();
        assert_ne!(parse(&own).0, parse(&other).0, "unrelated spans get their own traces");
    }

    #[test]
    fn second_init_does_not_panic() {
        init_for_tests();
        let again = init(&TelemetryConfig::default());
        assert!(matches!(again, Err(TelemetryError::AlreadyInitialized(_))));
    }

    #[test]
    fn log_format_parses() {
        assert_eq!("text".parse::<LogFormat>().unwrap(), LogFormat::Text);
        assert_eq!("JSON".parse::<LogFormat>().unwrap(), LogFormat::Json);
        assert!("xml".parse::<LogFormat>().is_err());
        assert_eq!(LogFormat::Json.to_string(), "json");
    }

    #[test]
    fn bad_filter_is_an_error() {
        let err = init(&TelemetryConfig { log_filter: "info,[=".into(), ..TelemetryConfig::default() });
        assert!(err.is_err());
    }
}
