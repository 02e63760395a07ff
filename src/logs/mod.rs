//! Failure triage: from GitHub Actions run logs to root causes.
//!
//! `archive` turns a run-log ZIP (or a plain job log, a cached run directory, stdin, or
//! another CI's log: `ci` tells which) into bounded [`StepLog`]s; `clean` strips timestamps, BOMs, ANSI and runner markers;
//! `parse` finds [`Failure`]s in real tools' output; `paths`, `secrets` and `signature`
//! normalise what the parsers found; `triage` ties them together. Nothing here touches
//! the network or writes to disk.

pub mod archive;
pub mod baseline;
pub mod ci;
pub mod clean;
pub mod parse;
pub mod paths;
pub mod rank;
pub mod secrets;
pub mod signature;
pub mod triage;

use serde::{Deserialize, Serialize};

/// What sort of failure a [`Failure`] is. Serialised in snake_case (`test_failure`, …).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    TestFailure,
    CompileError,
    TypeError,
    Lint,
    Format,
    Dependency,
    ImportError,
    SyntaxError,
    Config,
    Timeout,
    Oom,
    CommandNotFound,
    Network,
    Infra,
    Unknown,
}

impl Kind {
    pub const ALL: [Kind; 15] = [
        Kind::TestFailure,
        Kind::CompileError,
        Kind::TypeError,
        Kind::Lint,
        Kind::Format,
        Kind::Dependency,
        Kind::ImportError,
        Kind::SyntaxError,
        Kind::Config,
        Kind::Timeout,
        Kind::Oom,
        Kind::CommandNotFound,
        Kind::Network,
        Kind::Infra,
        Kind::Unknown,
    ];

    /// The snake_case name used in JSON and `--tool`-style flags.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::TestFailure => "test_failure",
            Kind::CompileError => "compile_error",
            Kind::TypeError => "type_error",
            Kind::Lint => "lint",
            Kind::Format => "format",
            Kind::Dependency => "dependency",
            Kind::ImportError => "import_error",
            Kind::SyntaxError => "syntax_error",
            Kind::Config => "config",
            Kind::Timeout => "timeout",
            Kind::Oom => "oom",
            Kind::CommandNotFound => "command_not_found",
            Kind::Network => "network",
            Kind::Infra => "infra",
            Kind::Unknown => "unknown",
        }
    }

    /// Failures of these kinds are not fixed by editing the repository's code:
    /// re-run, raise a limit, fix the runner or the network.
    pub fn needs_code_change(self) -> bool {
        !matches!(
            self,
            Kind::Timeout | Kind::Oom | Kind::Network | Kind::Infra
        )
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One frame of a traceback or stack trace, outermost first as the tool printed it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Frame {
    pub file: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub function: Option<String>,
}

/// One root cause found in a log. Parsers fill tool..frames; `triage` fills job, step,
/// repo-relative paths, the masked excerpt and the signature.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    /// The tool that reported it: `pytest`, `cargo`, `rustc`, `clippy`, `go`, `tsc`, `eslint`, …
    pub tool: String,
    pub kind: Kind,
    /// One line saying what went wrong, in the tool's words.
    pub message: String,
    pub file: Option<String>,
    pub line: Option<u32>,
    pub column: Option<u32>,
    pub job: String,
    pub step: String,
    /// A few lines of the log around the failure, cleaned and masked.
    pub excerpt: String,
    /// A stable key for "the same failure" across runs (see `signature`).
    pub signature: String,
    /// The failing test's id (`tests/test_x.py::test_y[param]`, `pkg.TestFoo`), when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test: Option<String>,
    /// The symbol the failure names (a function, type, module or key), for context lookup.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub symbol: Option<String>,
    /// Traceback / stack frames, outermost first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub frames: Vec<Frame>,
    /// False for timeouts, OOM kills, network and runner trouble: no code change will fix them.
    pub needs_code_change: bool,
    /// A GitHub annotation (a problem matcher's `##[error]file:line:col: …` line or an echoed
    /// `::error file=…` command) names the same place: strong evidence for ranking.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub annotated: bool,
}

impl Failure {
    /// A failure with the fields every parser must set; the rest start empty.
    pub fn new(tool: impl Into<String>, kind: Kind, message: impl Into<String>) -> Self {
        Failure {
            tool: tool.into(),
            kind,
            message: message.into(),
            file: None,
            line: None,
            column: None,
            job: String::new(),
            step: String::new(),
            excerpt: String::new(),
            signature: String::new(),
            test: None,
            symbol: None,
            frames: Vec::new(),
            needs_code_change: kind.needs_code_change(),
            annotated: false,
        }
    }

    pub fn at(mut self, file: impl Into<String>, line: Option<u32>, column: Option<u32>) -> Self {
        self.file = Some(file.into());
        self.line = line;
        self.column = column;
        self
    }

    pub fn with_excerpt(mut self, lines: &[String]) -> Self {
        self.excerpt = lines.join("\n");
        self
    }
}

/// Severity of a `##[error]` / `##[warning]` / `##[notice]` line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Error,
    Warning,
    Notice,
}

/// A workflow command annotation as it appears in the log (`##[error]msg`), with the
/// location when the step gave one (`::error file=a.py,line=3::msg`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Annotation {
    pub level: Level,
    pub message: String,
    pub file: Option<String>,
    pub line: Option<u32>,
    pub column: Option<u32>,
}

/// The part of one step's log that triage keeps: bounded, cleaned, masked.
///
/// A step of any size becomes at most `Limits::tail_lines` lines plus a few capped windows
/// around earlier error lines, so memory stays flat whatever the log size.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StepLog {
    /// Job name as it appears in the archive (sanitised by GitHub, see LOGS.md §3).
    pub job: String,
    /// Step name; `UNKNOWN STEP` when only the job file was there (as gh does).
    pub step: String,
    /// The step's `number` from the jobs API / the `<S>_` prefix of its file.
    pub number: Option<u32>,
    /// Where it came from: ZIP entry name or file path.
    pub source: String,
    /// The step ended with `##[error]Process completed with exit code N.` (or the jobs API says so).
    pub failed: bool,
    pub exit_code: Option<i32>,
    /// Cleaned lines kept, in log order. Where lines were dropped, one line
    /// [`StepLog::GAP`] stands in for them.
    pub lines: Vec<String>,
    /// `Run …` group titles: the commands the step ran (helps tool detection).
    pub commands: Vec<String>,
    pub annotations: Vec<Annotation>,
    /// Lines and bytes seen in the whole step (not only those kept).
    pub total_lines: u64,
    pub total_bytes: u64,
    /// Secrets masked in the kept lines.
    pub masked: u32,
    /// Where the job checked the repository out, learned from the log (GitLab's and
    /// Jenkins' workspaces, `cd` lines): paths under them are made repo-relative.
    pub workspaces: Vec<String>,
}

impl StepLog {
    /// Stands in for lines that were not kept.
    pub const GAP: &'static str = "⋯";
    /// Step name used when only the job file was available (gh's wording).
    pub const UNKNOWN_STEP: &'static str = "UNKNOWN STEP";
}
