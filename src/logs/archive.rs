//! Turns a GitHub Actions run-log ZIP (or a plain job log, a cached run directory, stdin)
//! into bounded [`StepLog`]s, streaming: the archive is never extracted to disk.
//!
//! Layout and quirks: shared/github-api/LOGS.md. Step files are read when a job's folder
//! has them, the job file otherwise (as step [`StepLog::UNKNOWN_STEP`]); never both, since
//! the job file repeats the step files. Entries are inflated on up to four threads, a big
//! entry on two (inflate | scan). What can be read is read: a cut archive, a corrupt entry
//! or an unsafe name becomes a warning; only a total failure or a zip bomb is an error.
//!
//! Kept lines: see [`scan`]. Marker lines are kept as the runner wrote them
//! (`##[group]Run pytest`, `##[error]…`); `##[endgroup]` and `##[debug]` are dropped.

mod names;
pub mod scan;
mod sniff;
mod zipread;

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, mpsc};

use serde::{Deserialize, Serialize};

use super::StepLog;
use names::EntryKind;
use scan::{ScanLimits, Scanner, StepMeta};
use zipread::{Budget, CHUNK, EntryMeta, InflateError, Inflater};

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
    match source {
        LogSource::Zip(path) | LogSource::Text(path) => read_path(path, limits, None),
        LogSource::Dir(dir) => read_dir(dir, limits),
        LogSource::Stdin => read_stdin(limits),
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
fn read_path(path: &Path, limits: &Limits, api: Option<&ApiRun>) -> Result<ReadOutcome, LogError> {
    let label = path.display().to_string();
    let mut file = File::open(path).map_err(io_err(path))?;
    let mut head = vec![0u8; sniff::HEAD];
    let n = read_head(&mut file, &mut head).map_err(io_err(path))?;
    head.truncate(n);
    match sniff::sniff(&head) {
        sniff::Kind::Zip => read_zip(&file, &label, limits, api).map(|(o, _)| o),
        sniff::Kind::Text => {
            let job = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
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
fn read_stdin(limits: &Limits) -> Result<ReadOutcome, LogError> {
    read_stream(io::stdin().lock(), "standard input", limits)
}

/// Reads logs from any stream (a download in memory, a pipe): a ZIP is spooled to an
/// anonymous temporary file (ZIP needs seeking; nothing is extracted), text is scanned as
/// it comes. `label` names the source in messages.
pub fn read_stream(
    mut input: impl Read,
    label: &str,
    limits: &Limits,
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

/// GitHub's list-jobs response, as a cached run keeps it in `jobs.json`.
#[derive(Clone, Debug, Default, Deserialize)]
struct ApiRun {
    #[serde(default)]
    jobs: Vec<ApiJob>,
}

#[derive(Clone, Debug, Deserialize)]
struct ApiJob {
    id: u64,
    name: String,
    #[serde(default)]
    conclusion: Option<String>,
    #[serde(default)]
    steps: Vec<ApiStep>,
}

#[derive(Clone, Debug, Deserialize)]
struct ApiStep {
    name: String,
    number: u32,
    #[serde(default)]
    conclusion: Option<String>,
}

fn is_failure(conclusion: &Option<String>) -> bool {
    matches!(
        conclusion.as_deref(),
        Some("failure" | "timed_out" | "startup_failure")
    )
}

/// A cached run directory: `logs.zip` named by `jobs.json`, `jobs/<id>.txt` for jobs the
/// archive lacks.
fn read_dir(dir: &Path, limits: &Limits) -> Result<ReadOutcome, LogError> {
    let mut out = ReadOutcome::default();
    let api = read_jobs_json(dir, &mut out.warnings);
    let zip_path = dir.join("logs.zip");
    let mut unmatched: Vec<usize> = api
        .as_ref()
        .map(|a| (0..a.jobs.len()).collect())
        .unwrap_or_default();
    let mut zip_error = None;
    if zip_path.is_file() {
        match read_zip_path(&zip_path, limits, api.as_ref()) {
            Ok((o, left)) => {
                merge(&mut out, o);
                unmatched = left;
            }
            Err(e @ LogError::Bomb { .. }) => return Err(e),
            Err(e) => zip_error = Some(e),
        }
    }
    let zip_read = zip_path.is_file() && zip_error.is_none();
    let texts = read_job_texts(dir, api.as_ref(), &unmatched, zip_read, limits, &mut out)?;
    if let Some(e) = zip_error {
        if out.steps.is_empty() {
            return Err(e);
        }
        out.warnings
            .insert(0, format!("{e}; used the job logs in jobs/ instead"));
    }
    if out.steps.is_empty() && texts == 0 && !zip_path.is_file() {
        return Err(LogError::NotALog {
            path: dir.display().to_string(),
            what: "the directory holds no logs.zip and no jobs/<job_id>.txt".into(),
        });
    }
    Ok(out)
}

fn read_zip_path(
    path: &Path,
    limits: &Limits,
    api: Option<&ApiRun>,
) -> Result<(ReadOutcome, Vec<usize>), LogError> {
    let label = path.display().to_string();
    let mut file = File::open(path).map_err(io_err(path))?;
    let mut head = [0u8; sniff::HEAD];
    let n = read_head(&mut file, &mut head).map_err(io_err(path))?;
    match sniff::sniff(&head[..n]) {
        sniff::Kind::Zip => read_zip(&file, &label, limits, api),
        sniff::Kind::Empty => Err(LogError::NotALog {
            path: label,
            what: "the file is empty".into(),
        }),
        sniff::Kind::Other(what) => Err(LogError::NotALog { path: label, what }),
        sniff::Kind::Text => Err(LogError::NotALog {
            path: label,
            what: "this is text, not a ZIP".into(),
        }),
    }
}

fn read_jobs_json(dir: &Path, warnings: &mut Vec<String>) -> Option<ApiRun> {
    let path = dir.join("jobs.json");
    let text = std::fs::read(&path).ok()?;
    match serde_json::from_slice::<ApiRun>(&text) {
        Ok(run) => Some(run),
        Err(e) => {
            warnings.push(format!(
                "{} is not GitHub's list-jobs response ({e}); steps are named from the archive",
                path.display()
            ));
            None
        }
    }
}

/// `jobs/<id>.txt` for the API jobs the archive lacked; without jobs.json, every
/// `jobs/*.txt` when there is no readable logs.zip.
fn read_job_texts(
    dir: &Path,
    api: Option<&ApiRun>,
    unmatched: &[usize],
    zip_read: bool,
    limits: &Limits,
    out: &mut ReadOutcome,
) -> Result<usize, LogError> {
    let jobs_dir = dir.join("jobs");
    let mut files: Vec<(PathBuf, String, Option<bool>)> = Vec::new();
    match api {
        Some(api) => {
            for &i in unmatched {
                let job = &api.jobs[i];
                let path = jobs_dir.join(format!("{}.txt", job.id));
                if path.is_file() {
                    files.push((
                        path,
                        job.name.clone(),
                        is_failure(&job.conclusion).then_some(true),
                    ));
                } else if is_failure(&job.conclusion) {
                    out.warnings.push(format!(
                        "job {:?} ({}) failed but its log is not here; fetch it with `gh run view --job {} --log`",
                        job.name, job.id, job.id
                    ));
                }
            }
        }
        None if !zip_read => {
            let mut found: Vec<PathBuf> = std::fs::read_dir(&jobs_dir)
                .map(|rd| {
                    rd.filter_map(|e| e.ok().map(|e| e.path()))
                        .filter(|p| p.extension().is_some_and(|x| x == "txt"))
                        .collect()
                })
                .unwrap_or_default();
            found.sort();
            for p in found {
                let name = p
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default();
                files.push((p, name, None));
            }
        }
        None => {}
    }
    let count = files.len();
    for (path, job, known_failed) in files {
        let meta = StepMeta {
            job,
            step: StepLog::UNKNOWN_STEP.into(),
            number: None,
            source: path.display().to_string(),
            known_failed,
        };
        match read_path_text(&path, meta, limits) {
            Ok(o) => merge(out, o),
            Err(e) => out.warnings.push(format!("{e}")),
        }
    }
    Ok(count)
}

fn read_path_text(path: &Path, meta: StepMeta, limits: &Limits) -> Result<ReadOutcome, LogError> {
    let mut file = File::open(path).map_err(io_err(path))?;
    let mut head = vec![0u8; sniff::HEAD];
    let n = read_head(&mut file, &mut head).map_err(io_err(path))?;
    head.truncate(n);
    match sniff::sniff(&head) {
        sniff::Kind::Text | sniff::Kind::Empty => {
            read_text(head.as_slice().chain(file), meta, limits).map_err(io_err(path))
        }
        sniff::Kind::Zip => Err(LogError::NotALog {
            path: path.display().to_string(),
            what: "this is a ZIP, not a job log".into(),
        }),
        sniff::Kind::Other(what) => Err(LogError::NotALog {
            path: path.display().to_string(),
            what,
        }),
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

/// One entry to read and how to name what it holds.
#[derive(Clone, Debug)]
struct Task {
    entry: usize,
    meta: StepMeta,
}

/// What to read from an archive.
#[derive(Debug, Default)]
struct Plan {
    tasks: Vec<Task>,
    warnings: Vec<String>,
    /// API jobs no archive job matched (indices into `ApiRun::jobs`).
    unmatched: Vec<usize>,
}

/// One job as the archive holds it: a job file, a step folder, or both.
#[derive(Debug)]
struct ArchiveJob {
    name: String,
    ordinal: i64,
    job_file: Option<usize>,
    /// (number, step name, entry)
    steps: Vec<(u32, String, usize)>,
}

/// Decides which entries to read: step files where a job's folder has them, else the job
/// file; names from the jobs API when there is one.
fn plan(entries: &[EntryMeta], api: Option<&ApiRun>, head: &dyn Fn(usize) -> Vec<u8>) -> Plan {
    let mut plan = Plan::default();
    let (job_files, folders) = sort_entries(entries, &mut plan.warnings);
    let mut jobs = pair_jobs(entries, job_files, folders, head);
    jobs.sort_by_key(|j| j.ordinal);
    let api_of = match_api(&jobs, api, &mut plan.unmatched);
    for (job, api_job) in jobs.iter().zip(api_of) {
        push_tasks(job, api_job, &mut plan.tasks);
    }
    plan
}

type JobFiles = Vec<(usize, i64, String)>;
/// (number, step name, entry index)
type StepFiles = Vec<(u32, String, usize)>;
type Folders = Vec<(String, StepFiles)>;

fn sort_entries(entries: &[EntryMeta], warnings: &mut Vec<String>) -> (JobFiles, Folders) {
    let mut job_files = Vec::new();
    let mut folders: Folders = Vec::new();
    let mut folder_index: HashMap<String, usize> = HashMap::new();
    for (i, e) in entries.iter().enumerate() {
        let kind = names::classify(&e.name);
        if matches!(kind, EntryKind::JobFile { .. } | EntryKind::StepFile { .. })
            && e.method != 0
            && e.method != 8
        {
            warnings.push(format!(
                "skipped {:?}: compressed with a method other than deflate",
                e.name
            ));
            continue;
        }
        match kind {
            EntryKind::JobFile { ordinal, job } => job_files.push((i, ordinal, job)),
            EntryKind::StepFile { job, number, step } => {
                let at = *folder_index.entry(job.clone()).or_insert_with(|| {
                    folders.push((job, Vec::new()));
                    folders.len() - 1
                });
                folders[at].1.push((number, step, i));
            }
            EntryKind::Unsafe => warnings.push(format!(
                "skipped the unsafe entry name {:?} (it points outside the archive)",
                e.name
            )),
            EntryKind::Ignored => {}
        }
    }
    for (_, steps) in &mut folders {
        steps.sort_by_key(|s| s.0);
    }
    (job_files, folders)
}

/// Matches job files to step folders by name. When several job files want one folder
/// (duplicate names), the one that starts like the folder's first step file wins (a job
/// file is its step files one after the other), else the one closest in size.
fn pair_jobs(
    entries: &[EntryMeta],
    job_files: JobFiles,
    folders: Folders,
    head: &dyn Fn(usize) -> Vec<u8>,
) -> Vec<ArchiveJob> {
    let mut claims: Vec<Vec<usize>> = vec![Vec::new(); folders.len()];
    for (j, (_, _, name)) in job_files.iter().enumerate() {
        let best = folders
            .iter()
            .enumerate()
            .map(|(f, (folder, _))| {
                (
                    names::match_score(folder, name).max(names::match_score(name, folder)),
                    f,
                )
            })
            .filter(|(score, _)| *score > 0)
            .max_by_key(|(score, f)| (*score, std::cmp::Reverse(*f)));
        if let Some((_, f)) = best {
            claims[f].push(j);
        }
    }
    let mut owner: Vec<Option<usize>> = vec![None; job_files.len()];
    for (f, claimants) in claims.iter().enumerate() {
        let folder_size: u64 = folders[f].1.iter().map(|s| entries[s.2].size).sum();
        let first_step = match (claimants.len() > 1, folders[f].1.first()) {
            (true, Some(step)) => head(step.2),
            _ => Vec::new(),
        };
        let starts_alike =
            |j: usize| !first_step.is_empty() && same_start(&head(job_files[j].0), &first_step);
        let winner = claimants.iter().copied().min_by_key(|&j| {
            (
                !starts_alike(j),
                entries[job_files[j].0].size.abs_diff(folder_size),
            )
        });
        if let Some(j) = winner {
            owner[j] = Some(f);
        }
    }
    let mut folders: Vec<Option<(String, StepFiles)>> = folders.into_iter().map(Some).collect();
    let mut jobs = Vec::new();
    for (j, (entry, ordinal, name)) in job_files.into_iter().enumerate() {
        let steps = owner[j]
            .and_then(|f| folders[f].take())
            .map(|(_, s)| s)
            .unwrap_or_default();
        jobs.push(ArchiveJob {
            name,
            ordinal,
            job_file: Some(entry),
            steps,
        });
    }
    for (name, steps) in folders.into_iter().flatten() {
        if !steps.is_empty() {
            jobs.push(ArchiveJob {
                name,
                ordinal: i64::MAX,
                job_file: None,
                steps,
            });
        }
    }
    jobs
}

/// Two logs start with the same bytes (BOMs aside) as far as both go.
fn same_start(a: &[u8], b: &[u8]) -> bool {
    let strip = |x: &[u8]| x.strip_prefix(super::clean::BOM).unwrap_or(x).to_vec();
    let (a, b) = (strip(a), strip(b));
    let n = a.len().min(b.len());
    n > 0 && a[..n] == b[..n]
}

/// The API job each archive job is, best name match first; fills `unmatched`.
fn match_api<'a>(
    jobs: &[ArchiveJob],
    api: Option<&'a ApiRun>,
    unmatched: &mut Vec<usize>,
) -> Vec<Option<&'a ApiJob>> {
    let Some(api) = api else {
        return vec![None; jobs.len()];
    };
    let mut used = vec![false; api.jobs.len()];
    let mut out = vec![None; jobs.len()];
    for min_score in [3u8, 2, 1] {
        for (j, job) in jobs.iter().enumerate() {
            if out[j].is_some() {
                continue;
            }
            let hit =
                api.jobs.iter().enumerate().find(|(a, aj)| {
                    !used[*a] && names::match_score(&job.name, &aj.name) >= min_score
                });
            if let Some((a, aj)) = hit {
                used[a] = true;
                out[j] = Some(aj);
            }
        }
    }
    unmatched.extend(
        used.iter()
            .enumerate()
            .filter(|(_, u)| !**u)
            .map(|(a, _)| a),
    );
    out
}

fn push_tasks(job: &ArchiveJob, api: Option<&ApiJob>, tasks: &mut Vec<Task>) {
    let job_name = api.map_or_else(|| job.name.clone(), |a| a.name.clone());
    if job.steps.is_empty() {
        if let Some(entry) = job.job_file {
            let known_failed = api
                .is_some_and(|a| is_failure(&a.conclusion))
                .then_some(true);
            let meta = StepMeta {
                job: job_name,
                step: StepLog::UNKNOWN_STEP.into(),
                number: None,
                source: String::new(),
                known_failed,
            };
            tasks.push(Task { entry, meta });
        }
        return;
    }
    for (number, step, entry) in &job.steps {
        let api_step = api.and_then(|a| a.steps.iter().find(|s| s.number == *number));
        let meta = StepMeta {
            job: job_name.clone(),
            step: api_step.map_or_else(|| step.clone(), |s| s.name.clone()),
            number: Some(*number),
            source: String::new(),
            known_failed: api_step
                .is_some_and(|s| is_failure(&s.conclusion))
                .then_some(true),
        };
        tasks.push(Task {
            entry: *entry,
            meta,
        });
    }
}

/// Reads a ZIP; also returns the API jobs it had no log for.
fn read_zip(
    file: &File,
    label: &str,
    limits: &Limits,
    api: Option<&ApiRun>,
) -> Result<(ReadOutcome, Vec<usize>), LogError> {
    let len = file.metadata().map_err(io_err(Path::new(label)))?.len();
    let listing = zipread::list(file, len, limits.max_inflated_bytes);
    let mut out = ReadOutcome {
        warnings: listing.warnings,
        ..ReadOutcome::default()
    };
    out.stats.entries = listing.entries.len() as u64;
    if listing.entries.is_empty() {
        let path = label.to_string();
        if !listing.recovered {
            let what = "the archive is empty: it holds no job logs".into();
            return Err(LogError::NotALog { path, what });
        }
        let what = match out.warnings.is_empty() {
            true => "no entry could be read".to_string(),
            false => out.warnings.join("; "),
        };
        return Err(match what.contains("max_inflated_bytes") {
            true => LogError::Bomb { path, what },
            false => LogError::Corrupt { path, what },
        });
    }
    let head = |i: usize| zipread::head(file, &listing.entries[i], 512);
    let mut plan = plan(&listing.entries, api, &head);
    out.warnings.append(&mut plan.warnings);
    if plan.tasks.is_empty() {
        let sample: Vec<&str> = listing
            .entries
            .iter()
            .take(5)
            .map(|e| e.name.as_str())
            .collect();
        return Err(LogError::NotALog {
            path: label.to_string(),
            what: format!(
                "the archive holds no job logs ({} entries: {})",
                listing.entries.len(),
                sample.join(", ")
            ),
        });
    }
    for t in &mut plan.tasks {
        t.meta.source = listing.entries[t.entry].name.clone();
    }
    run_tasks(file, label, &listing.entries, plan.tasks, limits, &mut out)?;
    Ok((out, plan.unmatched))
}

/// Compressed entries bigger than this are inflated on their own thread.
const PIPELINE_MIN: u64 = 2 << 20;

struct Done {
    steps: Vec<StepLog>,
    job_title: Option<String>,
    lines: u64,
    inflated: u64,
    warning: Option<String>,
}

/// Reads the planned entries on a few threads; results keep the plan's order.
fn run_tasks(
    file: &File,
    label: &str,
    entries: &[EntryMeta],
    tasks: Vec<Task>,
    limits: &Limits,
    out: &mut ReadOutcome,
) -> Result<(), LogError> {
    let budget = Budget {
        max_total: limits.max_inflated_bytes,
        max_ratio: limits.max_ratio.max(1),
        inflated: AtomicU64::new(0),
    };
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 4)
        .min(tasks.len());
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let results: Mutex<Vec<Option<Result<Done, InflateError>>>> =
        Mutex::new((0..tasks.len()).map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                while !stop.load(Ordering::Relaxed) {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(task) = tasks.get(i) else { break };
                    let r = read_entry(
                        file,
                        &entries[task.entry],
                        task.meta.clone(),
                        limits,
                        &budget,
                    );
                    if matches!(r, Err(InflateError::Bomb(_))) {
                        stop.store(true, Ordering::Relaxed);
                    }
                    results.lock().unwrap_or_else(|p| p.into_inner())[i] = Some(r);
                }
            });
        }
    });
    let results = results.into_inner().unwrap_or_else(|p| p.into_inner());
    let mut titles: Vec<(String, String)> = Vec::new();
    for (task, r) in tasks.iter().zip(results) {
        match r {
            Some(Ok(done)) => {
                out.stats.entries_read += 1;
                out.stats.bytes_compressed += entries[task.entry].compressed;
                out.stats.bytes_inflated += done.inflated;
                out.stats.lines += done.lines;
                out.steps.extend(done.steps);
                if let Some(title) = done.job_title {
                    titles.push((task.meta.job.clone(), title));
                }
                out.warnings.extend(done.warning);
            }
            Some(Err(InflateError::Bomb(what))) => {
                return Err(LogError::Bomb {
                    path: label.to_string(),
                    what,
                });
            }
            Some(Err(e)) => out
                .warnings
                .push(format!("skipped {:?}: {e}", entries[task.entry].name)),
            None => {}
        }
    }
    // the runner's own name for a job (`Complete job name: …`) beats the sanitised one
    for (archive_name, title) in titles {
        if archive_name != title && names::match_score(&archive_name, &title) > 0 {
            rename_job(&mut out.steps, &archive_name, &title);
        }
    }
    Ok(())
}

/// Inflates and scans one entry. A corrupt tail becomes a warning; what came before is kept.
fn read_entry(
    file: &File,
    entry: &EntryMeta,
    meta: StepMeta,
    limits: &Limits,
    budget: &Budget,
) -> Result<Done, InflateError> {
    let mut scanner = Scanner::new(meta, scan_limits(limits, false));
    let (ended, inflated) = match entry.compressed >= PIPELINE_MIN {
        true => inflate_pipelined(file, entry, budget, &mut scanner),
        false => inflate_inline(file, entry, budget, &mut scanner),
    };
    let warning = match ended {
        Ok(()) => None,
        Err(InflateError::Bomb(what)) => return Err(InflateError::Bomb(what)),
        Err(e) if inflated == 0 => return Err(e),
        Err(e) => Some(format!(
            "{:?}: {e}; kept the {inflated} bytes read before",
            entry.name
        )),
    };
    let lines = scanner.lines;
    let job_title = scanner.job_title.take();
    Ok(Done {
        job_title,
        steps: scanner.finish(),
        lines,
        inflated,
        warning,
    })
}

fn inflate_inline(
    file: &File,
    entry: &EntryMeta,
    budget: &Budget,
    scanner: &mut Scanner,
) -> (Result<(), InflateError>, u64) {
    let mut inflater = Inflater::new(file, entry, budget);
    let mut buf = Vec::with_capacity(CHUNK);
    loop {
        match inflater.next_chunk(&mut buf) {
            Ok(true) => scanner.feed(&buf),
            Ok(false) => return (Ok(()), inflater.produced()),
            Err(e) => return (Err(e), inflater.produced()),
        }
    }
}

/// Inflates on a second thread while this one scans; a few chunk buffers go back and forth.
fn inflate_pipelined(
    file: &File,
    entry: &EntryMeta,
    budget: &Budget,
    scanner: &mut Scanner,
) -> (Result<(), InflateError>, u64) {
    let (full_tx, full_rx) = mpsc::sync_channel::<Vec<u8>>(3);
    let (empty_tx, empty_rx) = mpsc::channel::<Vec<u8>>();
    std::thread::scope(|s| {
        let producer = s.spawn(move || {
            let mut inflater = Inflater::new(file, entry, budget);
            loop {
                let mut buf = empty_rx
                    .try_recv()
                    .unwrap_or_else(|_| Vec::with_capacity(CHUNK));
                match inflater.next_chunk(&mut buf) {
                    Ok(true) => {
                        if full_tx.send(buf).is_err() {
                            return (Ok(()), inflater.produced());
                        }
                    }
                    Ok(false) => return (Ok(()), inflater.produced()),
                    Err(e) => return (Err(e), inflater.produced()),
                }
            }
        });
        for buf in full_rx {
            scanner.feed(&buf);
            let _ = empty_tx.send(buf);
        }
        producer.join().unwrap_or_else(|_| {
            (
                Err(InflateError::Corrupt("the inflate thread failed".into())),
                0,
            )
        })
    })
}

#[cfg(test)]
mod tests;
