//! Logs to stderr: human-readable by default, JSON with `MUSTER_LOG_FORMAT=json`; level from
//! `MUSTER_LOG` (default `info`, without the line per request: the audit log already records
//! every SCIM request, and formatting that line was 5 % of a request's CPU;
//! `MUSTER_LOG=info,tower_http=info` brings it back). Headers are never logged, so tokens never
//! are. Colours only on a terminal (and not with a non-empty `NO_COLOR`): in a file or a log
//! collector the escape codes are noise, and writing them was 3 % of a request's instructions.

use std::io::IsTerminal;
use tracing_subscriber::EnvFilter;

/// The default `MUSTER_LOG`.
pub const DEFAULT_FILTER: &str = "info,sqlx=warn,tower_http=warn";

pub fn init() {
    let filter =
        EnvFilter::try_from_env("MUSTER_LOG").unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let json = std::env::var("MUSTER_LOG_FORMAT").is_ok_and(|v| v.eq_ignore_ascii_case("json"));
    let colour = std::io::stderr().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(colour)
        .with_writer(std::io::stderr);
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}
