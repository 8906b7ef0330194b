//! Logging setup: `tracing` to stderr, human-readable or JSON lines. `RUST_LOG` wins over the
//! configured filter; colours only when stderr is a terminal.

use crate::config::LogSettings;
use std::io::IsTerminal;
use tracing_subscriber::EnvFilter;

/// Installs the global subscriber once; later calls (tests) are ignored.
pub fn init(settings: &LogSettings) {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&settings.filter))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    let _ = if settings.json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}
