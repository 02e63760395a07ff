//! Where the stages' `tracing` messages go: one subscriber, installed by the CLI before a
//! subcommand runs, writing to stderr only (stdout stays clean for `--json`). Warnings are
//! always shown; `-v` adds selfheal's debug detail (retries, waits, sandbox steps), `-vv`
//! the libraries' too; `RUST_LOG`, when set, replaces both (tracing's `EnvFilter` syntax).

use std::io::{IsTerminal, Write};

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

use super::args::ColorWhen;

/// The filter for `-v` given `verbose` times, unless `RUST_LOG` says otherwise.
pub fn directive(verbose: u8, rust_log: Option<&str>) -> String {
    if let Some(r) = rust_log.map(str::trim).filter(|r| !r.is_empty()) {
        return r.to_string();
    }
    match verbose {
        0 => "warn".into(),
        1 => "warn,selfheal=debug".into(),
        _ => "debug,selfheal=trace".into(),
    }
}

/// Colour on stderr: the `--color` flag, else only on a terminal without NO_COLOR.
pub fn ansi(color: Option<ColorWhen>, stderr_tty: bool, no_color: bool) -> bool {
    match color {
        Some(ColorWhen::Always) => true,
        Some(ColorWhen::Never) => false,
        Some(ColorWhen::Auto) | None => stderr_tty && !no_color,
    }
}

/// Installs the process-wide subscriber (a second call, as in tests that run the CLI
/// in-process, keeps the first). A `RUST_LOG` that does not parse is reported and ignored.
pub fn install(verbose: u8, color: Option<ColorWhen>) {
    let rust_log = std::env::var("RUST_LOG").ok();
    let filter = EnvFilter::try_new(directive(verbose, rust_log.as_deref())).unwrap_or_else(|e| {
        eprintln!("warning: RUST_LOG is not a valid filter ({e}); using the default");
        EnvFilter::new(directive(verbose, None))
    });
    let ansi = ansi(
        color,
        std::io::stderr().is_terminal(),
        std::env::var_os("NO_COLOR").is_some(),
    );
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(Stderr)
        .with_ansi(ansi)
        .with_target(verbose > 0);
    let _ = if verbose > 0 {
        builder
            .with_timer(tracing_subscriber::fmt::time::uptime())
            .try_init()
    } else {
        builder.without_time().try_init()
    };
}

/// stderr, one whole message per write, around any progress bar on screen.
#[derive(Clone, Copy)]
struct Stderr;

impl<'a> MakeWriter<'a> for Stderr {
    type Writer = Stderr;
    fn make_writer(&'a self) -> Stderr {
        Stderr
    }
}

impl Write for Stderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        crate::report::progress::suspend(|| std::io::stderr().write_all(buf))?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warnings_by_default_more_with_v_and_rust_log_wins() {
        assert_eq!(directive(0, None), "warn");
        assert_eq!(directive(1, None), "warn,selfheal=debug");
        assert_eq!(directive(3, None), "debug,selfheal=trace");
        assert_eq!(
            directive(0, Some("selfheal::github=trace")),
            "selfheal::github=trace"
        );
        assert_eq!(
            directive(1, Some("  ")),
            "warn,selfheal=debug",
            "empty RUST_LOG"
        );
        for d in [directive(0, None), directive(1, None), directive(2, None)] {
            assert!(EnvFilter::try_new(&d).is_ok(), "{d}");
        }
    }

    #[test]
    fn colour_follows_the_flag_then_the_terminal_and_no_color() {
        assert!(ansi(None, true, false));
        assert!(!ansi(None, true, true));
        assert!(!ansi(None, false, false));
        assert!(ansi(Some(ColorWhen::Always), false, true));
        assert!(!ansi(Some(ColorWhen::Never), true, false));
    }
}
