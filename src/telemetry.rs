//! Logs and traces: `tracing` spans on every request and network call, printed to stderr
//! (as text for people, or one JSON object a line for log collectors) and, when an OTLP
//! endpoint is configured, exported with OpenTelemetry.
use std::io::IsTerminal;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::metrics::SdkMeterProvider;
use opentelemetry_sdk::trace::SdkTracerProvider;
use serde::Deserialize;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

use crate::config::TelemetryConfig;

/// How log lines are written. `serve --log-format` wins over `[telemetry] log_format`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// One line per event for people; coloured only when stderr is a terminal.
    #[default]
    Text,
    /// One JSON object per line (timestamp, level, message, fields, current span), for
    /// log collectors. Never coloured.
    Json,
}

/// Keeps the exporter alive; call [`Telemetry::shutdown`] before exit to flush spans.
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
    meters: Option<SdkMeterProvider>,
}

pub fn init(config: &TelemetryConfig, default_filter: &str) -> Result<Telemetry, String> {
    let filter = config
        .log_filter
        .clone()
        .unwrap_or_else(|| default_filter.to_owned());
    let env_filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(filter));
    // Colour codes are for a person at a terminal: in a file, a pipe or a log collector they
    // are noise that breaks grep. NO_COLOR (no-color.org) turns them off at a terminal too.
    let ansi = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let fmt = fmt_layer(config.log_format, std::io::stderr, ansi);
    let mut provider = None;
    let mut meters = None;
    let otel = match &config.otlp_endpoint {
        None => None,
        Some(endpoint) => {
            // Metrics (operator alarms, ...) go to the same collector; until a provider is
            // installed the instruments are no-ops.
            let metric_exporter = opentelemetry_otlp::MetricExporter::builder()
                .with_tonic()
                .with_endpoint(endpoint.clone())
                .build()
                .map_err(|e| format!("OTLP metric exporter: {e}"))?;
            let mp = SdkMeterProvider::builder()
                .with_periodic_exporter(metric_exporter)
                .build();
            opentelemetry::global::set_meter_provider(mp.clone());
            meters = Some(mp);
            let exporter = opentelemetry_otlp::SpanExporter::builder()
                .with_tonic()
                .with_endpoint(endpoint.clone())
                .build()
                .map_err(|e| format!("OTLP exporter: {e}"))?;
            let p = SdkTracerProvider::builder()
                .with_batch_exporter(exporter)
                .build();
            let tracer = p.tracer("kakehashi");
            provider = Some(p);
            Some(tracing_opentelemetry::layer().with_tracer(tracer).boxed())
        }
    };
    tracing_subscriber::registry()
        .with(env_filter)
        .with(fmt)
        .with(otel)
        .try_init()
        .map_err(|e| e.to_string())?;
    Ok(Telemetry { provider, meters })
}

/// The log-line layer, writing to `writer`; `ansi` only matters for text.
fn fmt_layer<S, W>(format: LogFormat, writer: W, ansi: bool) -> Box<dyn Layer<S> + Send + Sync>
where
    S: tracing::Subscriber + for<'span> LookupSpan<'span>,
    W: for<'writer> MakeWriter<'writer> + Send + Sync + 'static,
{
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(writer)
        .with_target(false);
    match format {
        LogFormat::Text => layer.with_ansi(ansi).boxed(),
        LogFormat::Json => layer
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .boxed(),
    }
}

impl Telemetry {
    pub async fn shutdown(self) {
        if let Some(provider) = self.provider {
            // shutdown() blocks while it flushes.
            let _ = tokio::task::spawn_blocking(move || provider.shutdown()).await;
        }
        if let Some(meters) = self.meters {
            let _ = tokio::task::spawn_blocking(move || meters.shutdown()).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    /// Log output captured in memory.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().expect("log buffer").extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'writer> MakeWriter<'writer> for Captured {
        type Writer = Captured;
        fn make_writer(&'writer self) -> Self::Writer {
            self.clone()
        }
    }

    fn log_a_payment(format: LogFormat, ansi: bool) -> String {
        let captured = Captured::default();
        let subscriber =
            tracing_subscriber::registry().with(fmt_layer(format, captured.clone(), ansi));
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!("network.pay", payment_id = "pay_1");
            let _entered = span.enter();
            tracing::info!(
                network = "linepay",
                latency_ms = 12_u64,
                "Network pay answered"
            );
            tracing::warn!("Outcome unknown; will query");
        });
        let bytes = captured.0.lock().expect("log buffer").clone();
        String::from_utf8(bytes).expect("logs are UTF-8")
    }

    #[test]
    fn json_logs_are_one_object_a_line_with_the_fields_at_the_top() {
        let logs = log_a_payment(LogFormat::Json, true);
        let lines: Vec<serde_json::Value> = logs
            .lines()
            .map(|line| serde_json::from_str(line).expect("each line is one JSON object"))
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["level"], "INFO");
        assert_eq!(lines[0]["message"], "Network pay answered");
        assert_eq!(lines[0]["network"], "linepay");
        assert_eq!(lines[0]["latency_ms"], 12);
        assert_eq!(lines[0]["span"]["payment_id"], "pay_1");
        assert_eq!(lines[1]["level"], "WARN");
        assert!(!logs.contains('\u{1b}'), "JSON is never coloured");
    }

    #[test]
    fn text_logs_without_a_terminal_carry_no_colour_codes() {
        let plain = log_a_payment(LogFormat::Text, false);
        assert!(plain.contains("Network pay answered"));
        assert!(!plain.contains('\u{1b}'), "no ANSI escapes: {plain:?}");
        // At a terminal the same line is coloured: the switch above is what turns it off.
        assert!(log_a_payment(LogFormat::Text, true).contains('\u{1b}'));
    }

    #[test]
    fn log_format_reads_from_config_in_lowercase() {
        let config: TelemetryConfig = toml::from_str("log_format = \"json\"").expect("parses");
        assert_eq!(config.log_format, LogFormat::Json);
        assert_eq!(TelemetryConfig::default().log_format, LogFormat::Text);
        assert!(toml::from_str::<TelemetryConfig>("log_format = \"yaml\"").is_err());
    }
}
