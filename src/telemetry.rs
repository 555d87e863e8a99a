//! Logs and traces: `tracing` spans on every request and network call, printed to stderr
//! and, when an OTLP endpoint is configured, exported with OpenTelemetry.
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

use crate::config::TelemetryConfig;

/// Keeps the exporter alive; call [`Telemetry::shutdown`] before exit to flush spans.
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

pub fn init(config: &TelemetryConfig, default_filter: &str) -> Result<Telemetry, String> {
    let filter = config
        .log_filter
        .clone()
        .unwrap_or_else(|| default_filter.to_owned());
    let env_filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(filter));
    let fmt = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_target(false);
    let mut provider = None;
    let otel = match &config.otlp_endpoint {
        None => None,
        Some(endpoint) => {
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
    Ok(Telemetry { provider })
}

impl Telemetry {
    pub async fn shutdown(self) {
        if let Some(provider) = self.provider {
            // shutdown() blocks while it flushes.
            let _ = tokio::task::spawn_blocking(move || provider.shutdown()).await;
        }
    }
}
