//! Turns a GitHub Actions run-log ZIP (or a plain job log, a cached run directory, stdin)
//! into bounded [`StepLog`]s, streaming: the archive is never extracted to disk.
//!
//! Layout and quirks: shared/github-api/LOGS.md. Step files are read when a job's folder
//! has them, the job file otherwise (as step [`StepLog::UNKNOWN_STEP`]); never both, since
//! the job file repeats the step files. Entries are inflated on up to four threads, a big
//! entry on two (inflate | scan). What can be read is read: a cut archive, a corrupt entry
//! or an unsafe name becomes a warning; only a total failure or a zip bomb is an error.
//!
//! Parts: `sniff` (what a file is), `zipread` (entries, inflating, bomb caps), `names` and
//! `selection` (which entries to read and what to call them), `reader` (threads), `scan` (lines
//! to bounded steps), `cached` (cached run directories).
//!
//! Kept lines: see [`scan`]. Marker lines are kept as the runner wrote them
//! (`##[group]Run pytest`, `##[error]…`); `##[endgroup]` and `##[debug]` are dropped.

mod cached;
mod foreign;
mod names;
mod reader;
pub mod scan;
mod selection;
mod sniff;
mod zipread;

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::StepLog;
use super::ci::{self, Ci};
use crate::error::Hint;
use cached::read_dir;
use reader::read_zip;
use scan::{ScanLimits, Scanner, StepMeta};
use zipread::CHUNK;

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
    /// `-` is stdin, a directory is a cached run, otherwise the file's first bytes decide
    /// (not its extension). Anything that is not a ZIP is read as text; [`read_run`] then
    /// says when it is an HTML page or a JSON error instead.
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
            return Ok(LogSource::Dir(path));
        }
        let file = File::open(&path).map_err(|e| LogError::Io {
            path: arg.to_string(),
            source: e,
        })?;
        let mut head = [0u8; 4];
        let n = read_head(&mut &file, &mut head).map_err(|e| LogError::Io {
            path: arg.to_string(),
            source: e,
        })?;
        match sniff::sniff(&head[..n]) {
            sniff::Kind::Zip => Ok(LogSource::Zip(path)),
            _ => Ok(LogSource::Text(path)),
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

impl From<LogError> for crate::error::Error {
    fn from(e: LogError) -> Self {
        crate::error::Error::from_stage(crate::error::exit::ERROR, e)
    }
}

impl Limits {
    /// The caps `[logs]` sets.
    pub fn from_config(logs: &crate::config::LogsConfig) -> Limits {
        Limits {
            max_inflated_bytes: logs.max_inflated_bytes,
            max_ratio: logs.max_ratio,
            tail_lines: logs.tail_lines,
            max_line_bytes: logs.max_line_bytes,
        }
    }
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
    /// Entries in the archive (files for a directory or a plain log).
    pub entries: u64,
    /// Entries read (job files repeated by step files are not).
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

impl Hint for LogError {
    fn hint(&self) -> String {
        let hint = match self {
            LogError::Io { .. } => "check the path and that you may read it",
            LogError::NotALog { .. } => {
                "download the run's logs again (`gh run view RUN --log` or the Actions page's 'Download log archive')"
            }
            LogError::Corrupt { .. } => "the download was probably cut; download the logs again",
            LogError::Bomb { .. } => {
                "raise [logs] max_inflated_bytes / max_ratio in self-heal.toml if this archive is genuine"
            }
        };
        hint.into()
    }
}

/// Whether an archive's job name (sanitised by GitHub, LOGS.md §3) names the API's job.
pub fn same_job_name(archive_name: &str, api_name: &str) -> bool {
    names::match_score(archive_name, api_name) > 0
}

/// Reads every job and step log in `source` into bounded step logs.
pub fn read_run(source: &LogSource, limits: &Limits) -> Result<ReadOutcome, LogError> {
    read_run_from(source, limits, None)
}

/// [`read_run`] for a text log written by `from` (detected from its first bytes when
/// `None`): GitHub job logs, GitLab traces, Jenkins console text or plain output. ZIPs and
/// cached run directories are GitHub's whatever `from` says.
pub fn read_run_from(
    source: &LogSource,
    limits: &Limits,
    from: Option<Ci>,
) -> Result<ReadOutcome, LogError> {
    match source {
        LogSource::Zip(path) | LogSource::Text(path) => read_path(path, limits, from),
        LogSource::Dir(dir) => read_dir(dir, limits),
        LogSource::Stdin => read_stdin(limits, from),
    }
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> LogError + '_ {
    move |source| LogError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Fills `buf` as far as the reader goes; returns how much it got.
fn read_head(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

/// A file: a ZIP or a job log, by content.
fn read_path(path: &Path, limits: &Limits, from: Option<Ci>) -> Result<ReadOutcome, LogError> {
    let label = path.display().to_string();
    let mut file = File::open(path).map_err(io_err(path))?;
    let mut head = vec![0u8; sniff::HEAD];
    let n = read_head(&mut file, &mut head).map_err(io_err(path))?;
    head.truncate(n);
    match sniff::sniff(&head) {
        sniff::Kind::Zip => read_zip(&file, &label, limits, None).map(|(o, _)| o),
        sniff::Kind::Text => {
            let job = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            let ci = from.unwrap_or_else(|| ci::detect(&head));
            if ci != Ci::Github {
                return foreign::read(head.as_slice().chain(file), ci, &job, &label, limits)
                    .map_err(io_err(path));
            }
            let meta = StepMeta {
                job,
                step: StepLog::UNKNOWN_STEP.into(),
                source: label.clone(),
                ..StepMeta::default()
            };
            read_text(head.as_slice().chain(file), meta, limits).map_err(io_err(path))
        }
        sniff::Kind::Empty => Err(LogError::NotALog {
            path: label,
            what: "the file is empty".into(),
        }),
        sniff::Kind::Other(what) => Err(LogError::NotALog { path: label, what }),
    }
}

/// Standard input: see [`read_stream`].
fn read_stdin(limits: &Limits, from: Option<Ci>) -> Result<ReadOutcome, LogError> {
    read_stream_from(io::stdin().lock(), "standard input", limits, from)
}

/// Reads logs from any stream (a download in memory, a pipe): a ZIP is spooled to an
/// anonymous temporary file (ZIP needs seeking; nothing is extracted), text is scanned as
/// it comes. `label` names the source in messages.
pub fn read_stream(
    input: impl Read,
    label: &str,
    limits: &Limits,
) -> Result<ReadOutcome, LogError> {
    read_stream_from(input, label, limits, None)
}

/// [`read_stream`] for text written by `from` (detected when `None`), as [`read_run_from`].
pub fn read_stream_from(
    mut input: impl Read,
    label: &str,
    limits: &Limits,
    from: Option<Ci>,
) -> Result<ReadOutcome, LogError> {
    let label = label.to_string();
    let here = PathBuf::from(&label);
    let mut head = vec![0u8; sniff::HEAD];
    let n = read_head(&mut input, &mut head).map_err(io_err(&here))?;
    head.truncate(n);
    match sniff::sniff(&head) {
        sniff::Kind::Zip => {
            let mut spool = tempfile::tempfile().map_err(io_err(Path::new("a temporary file")))?;
            spool.write_all(&head).map_err(io_err(&here))?;
            io::copy(&mut input, &mut spool).map_err(io_err(&here))?;
            read_zip(&spool, &label, limits, None).map(|(o, _)| o)
        }
        sniff::Kind::Text => {
            let ci = from.unwrap_or_else(|| ci::detect(&head));
            if ci != Ci::Github {
                return foreign::read(head.as_slice().chain(input), ci, "", &label, limits)
                    .map_err(io_err(&here));
            }
            let meta = StepMeta {
                job: String::new(),
                step: StepLog::UNKNOWN_STEP.into(),
                source: label,
                ..StepMeta::default()
            };
            read_text(head.as_slice().chain(input), meta, limits).map_err(io_err(&here))
        }
        sniff::Kind::Empty => Err(LogError::NotALog {
            path: label,
            what: "nothing came in".into(),
        }),
        sniff::Kind::Other(what) => Err(LogError::NotALog { path: label, what }),
    }
}

fn scan_limits(limits: &Limits, split_on_run: bool) -> ScanLimits {
    ScanLimits {
        tail_lines: limits.tail_lines,
        max_line_bytes: limits.max_line_bytes,
        split_on_run,
    }
}

/// A plain job log, split into steps at `##[group]Run …` lines.
/// The job takes the real name the set-up step gives (`Complete job name: …`).
fn read_text(mut reader: impl Read, meta: StepMeta, limits: &Limits) -> io::Result<ReadOutcome> {
    let job = meta.job.clone();
    let mut scanner = Scanner::new(meta, scan_limits(limits, true));
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        scanner.feed(&buf[..n]);
    }
    let stats = ReadStats {
        entries: 1,
        entries_read: 1,
        bytes_compressed: scanner.bytes,
        bytes_inflated: scanner.bytes,
        lines: scanner.lines,
    };
    let title = scanner.job_title.take();
    let mut steps = scanner.finish();
    if let Some(title) = title {
        rename_job(&mut steps, &job, &title);
    }
    Ok(ReadOutcome {
        steps,
        stats,
        warnings: Vec::new(),
    })
}

fn rename_job(steps: &mut [StepLog], from: &str, to: &str) {
    for s in steps.iter_mut().filter(|s| s.job == from) {
        s.job = to.to_string();
    }
}

fn merge(into: &mut ReadOutcome, from: ReadOutcome) {
    into.steps.extend(from.steps);
    into.warnings.extend(from.warnings);
    let (a, b) = (&mut into.stats, from.stats);
    a.entries += b.entries;
    a.entries_read += b.entries_read;
    a.bytes_compressed += b.bytes_compressed;
    a.bytes_inflated += b.bytes_inflated;
    a.lines += b.lines;
}

#[cfg(test)]
mod tests;
