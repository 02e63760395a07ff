//! Turns a GitHub Actions run-log ZIP (or a plain job log, a cached run directory, stdin)
//! into bounded [`StepLog`]s, streaming: the archive is never extracted to disk.
//!
//! Layout and quirks: shared/github-api/LOGS.md. STUB: owned by the archive work.

use std::path::PathBuf;

use serde::Serialize;

use super::StepLog;

/// Where the logs come from, decided by [`LogSource::from_arg`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LogSource {
    /// A run-log ZIP as GitHub serves it.
    Zip(PathBuf),
    /// One plain job log (`.txt`, the job-log endpoint's body).
    Text(PathBuf),
    /// A cached run: `logs.zip`, `run.json`, `jobs.json`, `jobs/<job_id>.txt`.
    Dir(PathBuf),
    /// `-`: a ZIP or a plain log on standard input (sniffed).
    Stdin,
}

impl LogSource {
    /// `-` is stdin, a directory is a cached run, otherwise the file's first bytes decide.
    pub fn from_arg(arg: &str) -> Result<LogSource, LogError> {
        if arg == "-" {
            return Ok(LogSource::Stdin);
        }
        let path = PathBuf::from(arg);
        let meta = std::fs::metadata(&path).map_err(|e| LogError::Io {
            path: arg.to_string(),
            source: e,
        })?;
        if meta.is_dir() {
            Ok(LogSource::Dir(path))
        } else {
            Ok(LogSource::Zip(path))
        }
    }
}

/// Caps that keep memory bounded and refuse zip bombs. Defaults come from config `[logs]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Refuse an archive that inflates to more than this many bytes in all.
    pub max_inflated_bytes: u64,
    /// Refuse an entry whose inflated/compressed ratio exceeds this.
    pub max_ratio: u64,
    /// Lines kept from the end of each failed step.
    pub tail_lines: usize,
    /// A longer line is cut to this many bytes (the rest is counted, not kept).
    pub max_line_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_inflated_bytes: 8 << 30,
            max_ratio: 2000,
            tail_lines: 2000,
            max_line_bytes: 4096,
        }
    }
}

/// Counts for `stats` in the JSON output.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ReadStats {
    pub entries: u64,
    pub entries_read: u64,
    pub bytes_compressed: u64,
    pub bytes_inflated: u64,
    pub lines: u64,
}

/// What could be read. `warnings` says what could not (a cut archive, a skipped entry).
#[derive(Clone, Debug, Default)]
pub struct ReadOutcome {
    pub steps: Vec<StepLog>,
    pub stats: ReadStats,
    pub warnings: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error("cannot read {path}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not a run-log ZIP or a job log: {what}")]
    NotALog { path: String, what: String },
    #[error("{path} is corrupt: {what}")]
    Corrupt { path: String, what: String },
    #[error("{path} looks like a zip bomb: {what}")]
    Bomb { path: String, what: String },
}

impl LogError {
    /// What the user should do next.
    pub fn hint(&self) -> &'static str {
        match self {
            LogError::Io { .. } => "check the path and that you may read it",
            LogError::NotALog { .. } => {
                "download the run's logs again (`gh run view RUN --log` or the Actions page's 'Download log archive')"
            }
            LogError::Corrupt { .. } => "the download was probably cut; download the logs again",
            LogError::Bomb { .. } => {
                "raise [logs] max_inflated_bytes / max_ratio in self-heal.toml if this archive is genuine"
            }
        }
    }
}

/// Reads every job and step log in `source` into bounded step logs.
pub fn read_run(source: &LogSource, limits: &Limits) -> Result<ReadOutcome, LogError> {
    let _ = (source, limits);
    Err(LogError::NotALog {
        path: String::new(),
        what: "archive reading is not built yet".into(),
    })
}
