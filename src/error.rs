//! The top-level error, the exit-code table and the hints shown to users.
//!
//! Every stage has its own `thiserror` enum; they convert into [`Error`] here so the
//! binary can pick an exit code and print `error: …`, `(hint: …)`, `Caused by:` like
//! cargo-nextest does. Exit codes are part of the public contract (README, `--help`).

use std::fmt;

/// Exit codes, documented in `--help` and README.md. Never renumber one.
pub mod exit {
    /// Everything asked for was done (failures found and reported, patch applied, …).
    pub const SUCCESS: i32 = 0;
    /// A runtime error: I/O, network, corrupt input, a stage that failed.
    pub const ERROR: i32 = 1;
    /// The command line or the configuration is wrong, or the subcommand is not built yet.
    pub const USAGE: i32 = 2;
    /// The input held no failure to act on (a green log, no failed runs).
    pub const NOTHING_FOUND: i32 = 3;
    /// A patch was produced but waits for a human (`selfheal approve`).
    pub const NEEDS_APPROVAL: i32 = 4;
    /// The failure was healed neither by the LLM nor by a fixer within the attempts allowed.
    pub const NOT_HEALED: i32 = 5;
    /// Interrupted by Ctrl-C / SIGTERM; the working tree was restored.
    pub const INTERRUPTED: i32 = 130;

    /// `(code, name, meaning)` for `--help` and the README table.
    pub const TABLE: &[(i32, &str, &str)] = &[
        (
            SUCCESS,
            "success",
            "done; failures were found and reported, or the patch was applied",
        ),
        (
            ERROR,
            "error",
            "runtime error (I/O, network, corrupt input); the message says what to do",
        ),
        (
            USAGE,
            "usage",
            "bad flags or configuration, or a subcommand that is not built yet",
        ),
        (
            NOTHING_FOUND,
            "nothing-found",
            "no failure to act on in the input",
        ),
        (
            NEEDS_APPROVAL,
            "needs-approval",
            "a patch is waiting in the queue for `selfheal approve`",
        ),
        (
            NOT_HEALED,
            "not-healed",
            "no patch passed validation within the attempts allowed",
        ),
        (
            INTERRUPTED,
            "interrupted",
            "stopped by Ctrl-C or SIGTERM; the working tree was restored",
        ),
    ];

    /// The table as text for the end of `--help`.
    pub fn help_text() -> String {
        let mut s = String::from("Exit codes:\n");
        for (code, name, meaning) in TABLE {
            s.push_str(&format!("  {code:>3}  {name:<15} {meaning}\n"));
        }
        s
    }
}

/// What the user should do next. Every stage error implements it, so the one conversion
/// into [`Error`] ([`Error::from_stage`]) gives every error its hint the same way.
/// An empty hint means the message itself ends with the next step.
pub trait Hint: std::error::Error + Send + Sync + 'static {
    fn hint(&self) -> String;

    /// The message and the hint on one line, for warnings and notes.
    fn with_hint(&self) -> String {
        match self.hint() {
            h if h.is_empty() => self.to_string(),
            h => format!("{self} (hint: {h})"),
        }
    }
}

/// An error that knows its exit code and, where we can tell, what the user should do next.
#[derive(Debug)]
pub struct Error {
    pub code: i32,
    pub message: String,
    pub hint: Option<String>,
    pub source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

impl Error {
    pub fn new(code: i32, message: impl Into<String>) -> Self {
        Error {
            code,
            message: message.into(),
            hint: None,
            source: None,
        }
    }
    pub fn usage(message: impl Into<String>) -> Self {
        Error::new(exit::USAGE, message)
    }
    pub fn runtime(message: impl Into<String>) -> Self {
        Error::new(exit::ERROR, message)
    }
    /// A stage error as the top-level error: its text is the headline, its [`Hint`] the
    /// hint, and it stays the source, so `Caused by:` lists what it wraps (and never the
    /// headline again, see [`Error::render`]).
    pub fn from_stage(code: i32, e: impl Hint) -> Self {
        let hint = e.hint();
        let out = Error::new(code, e.to_string());
        let out = if hint.is_empty() {
            out
        } else {
            out.with_hint(hint)
        };
        out.with_source(e)
    }
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }
    /// `error: …`, `(hint: …)`, then the `Caused by:` chain, as nextest prints it.
    pub fn render(&self) -> String {
        let mut out = format!("error: {}\n", self.message);
        if let Some(hint) = &self.hint {
            out.push_str(&format!("(hint: {hint})\n"));
        }
        let causes = self.causes();
        if !causes.is_empty() {
            out.push_str("Caused by:\n");
        }
        for c in causes {
            out.push_str(&format!("  {c}\n"));
        }
        out
    }

    /// The source chain as text, leaving out what the lines above already say: a stage
    /// error whose text is the headline, or a cause its wrapper quotes (`…: {source}`).
    fn causes(&self) -> Vec<String> {
        let mut shown = vec![self.message.clone()];
        let mut out = Vec::new();
        let mut cause: Option<&(dyn std::error::Error + 'static)> = self
            .source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static));
        while let Some(c) = cause {
            let text = c.to_string();
            if !text.is_empty() && !shown.iter().any(|s| s.contains(&text)) {
                out.push(text.clone());
            }
            shown.push(text);
            cause = c.source();
        }
        out
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct_and_listed() {
        let mut codes: Vec<i32> = exit::TABLE.iter().map(|r| r.0).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), exit::TABLE.len());
        assert!(exit::help_text().contains("needs-approval"));
    }

    #[test]
    fn render_shows_hint_and_cause() {
        let io = std::io::Error::other("disk on fire");
        let e = Error::runtime("could not read logs.zip")
            .with_hint("pass a run-log ZIP")
            .with_source(io);
        let text = e.render();
        assert!(text.starts_with(
            "error: could not read logs.zip\n(hint: pass a run-log ZIP)\nCaused by:\n  disk on fire"
        ));
    }

    #[derive(Debug, thiserror::Error)]
    #[error("cannot write {path}: {source}")]
    struct Quoting {
        path: String,
        source: std::io::Error,
    }

    impl Hint for Quoting {
        fn hint(&self) -> String {
            "free some space".into()
        }
    }

    #[test]
    fn caused_by_leaves_out_what_the_headline_already_says() {
        let e = Error::from_stage(
            exit::ERROR,
            Quoting {
                path: "a.py".into(),
                source: std::io::Error::other("disk full"),
            },
        );
        assert_eq!(
            e.render(),
            "error: cannot write a.py: disk full\n(hint: free some space)\n"
        );
        let wrapped = Error::runtime("could not save").with_source(Quoting {
            path: "a.py".into(),
            source: std::io::Error::other("disk full"),
        });
        assert_eq!(
            wrapped.render(),
            "error: could not save\nCaused by:\n  cannot write a.py: disk full\n"
        );
    }
}
