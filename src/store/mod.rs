//! The state directory (`.selfheal/` under the repository root by default): the log cache
//! and the memory of which runs were handled. Nothing outside it is ever written.
//!
//! ```text
//! .selfheal/
//!   .gitignore            "*": the state never ends up in a commit
//!   store.json            {"version": 1}
//!   cache/runs/<run_id>/  run.json, jobs.json, logs.zip, jobs/<job_id>.txt
//!                         (the layout `selfheal offline .selfheal/cache/runs/<id>` replays)
//!   handled.json          {"version": 1, "runs": [{run_id, attempt, outcome, …}]}
//!   spend.json            {"version": 1, "days": {"2026-12-05": 0.42}}: LLM dollars per UTC day
//!   handled.lock, run.lock, spend.lock
//! ```
//! Every file is written atomically (temporary file in the same folder, then rename), and
//! `handled.json` is read-modified-written under an exclusive file lock, so two `selfheal run`
//! processes never lose each other's records.

mod spend;

use std::fs::{self, File, OpenOptions};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::Hint;

mod atomic;
pub use atomic::{write_atomic, write_atomic_mode};

/// The version of every format in the state dir; bump it when one changes.
pub const FORMAT_VERSION: u32 = 1;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot {action} {path}")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not a valid selfheal state file")]
    Corrupt {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error(
        "{path} was written by a newer selfheal (format {found}, this one reads {FORMAT_VERSION})"
    )]
    TooNew { path: PathBuf, found: u32 },
    #[error("another `selfheal run` is working in {path}")]
    Busy { path: PathBuf },
}

impl Hint for StoreError {
    fn hint(&self) -> String {
        let hint = match self {
            StoreError::Io { .. } => {
                "check that the state directory ([state] dir, --state-dir) is writable"
            }
            StoreError::Corrupt { .. } => {
                "delete the file named above; selfheal rebuilds it (runs may be handled again)"
            }
            StoreError::TooNew { .. } => {
                "upgrade selfheal, or point --state-dir at another directory"
            }
            StoreError::Busy { .. } => {
                "wait for the other run to finish, or use another --state-dir"
            }
        };
        hint.into()
    }
}

impl From<StoreError> for crate::error::Error {
    fn from(e: StoreError) -> Self {
        crate::error::Error::from_stage(crate::error::exit::ERROR, e)
    }
}

fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> StoreError {
    let path = path.to_path_buf();
    move |source| StoreError::Io {
        action,
        path,
        source,
    }
}

/// What became of a handled run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// A pull request was opened or updated.
    PullRequest,
    /// The fix was pushed, without a pull request (`[publish] pr = false`).
    Pushed,
    /// A validated patch waits for `selfheal approve` ("awaiting approval": not redone,
    /// and not handled until a person approves or rejects it).
    NeedsApproval,
    /// A person rejected the patch; the failure is not proposed again (`--force` does).
    Rejected,
    /// In CI, a validated patch too risky to merge unseen became a draft pull request
    /// labelled `selfheal: needs review`.
    NeedsReview,
    /// The patch weakened the tests or added something dangerous: no pull request, the
    /// run record says why.
    Vetoed,
    /// The failure looks flaky and its failed jobs were re-run (once per run).
    Rerun,
    /// Triage only (a run from a fork, or `--triage-only`): the diagnosis, no repair.
    Triaged,
    /// No patch passed validation.
    NotHealed,
    /// Nothing to fix in the logs (or the logs were gone).
    NothingFound,
    /// The failure looks flaky (it passed on a re-run or on the same commit): reported,
    /// not patched (`--heal-flaky` patches it anyway).
    Flaky,
    /// Deliberately left alone (dedupe, PR cap, closed PR for the same failure, …).
    Skipped,
    /// An error stopped the attempt (network, LLM 5xx, Docker down): tried again on a
    /// later poll with a growing wait, until `[github] max_error_retries`, then reported.
    Error,
}

impl Outcome {
    /// The name `--json`, `GITHUB_OUTPUT` and the step summary use (`pull_request`).
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::PullRequest => "pull_request",
            Outcome::Pushed => "pushed",
            Outcome::NeedsApproval => "needs_approval",
            Outcome::Rejected => "rejected",
            Outcome::NeedsReview => "needs_review",
            Outcome::Vetoed => "vetoed",
            Outcome::Rerun => "rerun",
            Outcome::Triaged => "triaged",
            Outcome::NotHealed => "not_healed",
            Outcome::NothingFound => "nothing_found",
            Outcome::Flaky => "flaky",
            Outcome::Skipped => "skipped",
            Outcome::Error => "error",
        }
    }
}

/// One run that `selfheal run` dealt with.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HandledRun {
    pub run_id: u64,
    pub attempt: u32,
    pub outcome: Outcome,
    /// The failure signature (`logs::signature`), for dedupe across runs.
    #[serde(default)]
    pub signature: Option<String>,
    #[serde(default)]
    pub pr_number: Option<u64>,
    #[serde(default)]
    pub pr_url: Option<String>,
    /// A word on why, for `Skipped` / `Error`.
    #[serde(default)]
    pub note: Option<String>,
    /// The patch waiting for `selfheal approve` (`NeedsApproval`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_id: Option<String>,
    /// `Error`: how many attempts in a row ended in an error.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub errors: u32,
    /// `Error`: not tried again before this time (seconds since the epoch); `None` once
    /// selfheal gave up on the run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_at: Option<u64>,
    /// selfheal re-ran this run's failed jobs; kept when the record is replaced, so a run
    /// is never re-run twice.
    #[serde(default)]
    pub rerun: bool,
    /// Seconds since the Unix epoch.
    pub at: u64,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl HandledRun {
    /// Whether a later `run` should try this run again at `now`: an error it has not given
    /// up on, once its wait is over.
    pub fn retry_due(&self, now: u64) -> bool {
        self.outcome == Outcome::Error && self.retry_at.is_some_and(|at| now >= at)
    }

    /// Whether this record settles the run: a real outcome, an error given up on, or a
    /// patch waiting for a person.
    pub fn settled(&self) -> bool {
        self.outcome != Outcome::Error || self.retry_at.is_none()
    }
}

/// The wait before retry `n` (1-based) of a run that ended in an error: `base` doubled
/// each time, at most an hour.
pub fn error_backoff(base_secs: u64, n: u32) -> u64 {
    base_secs
        .max(1)
        .saturating_mul(1u64 << (n.saturating_sub(1)).min(12))
        .min(3600)
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct HandledFile {
    version: u32,
    runs: Vec<HandledRun>,
}

#[derive(Serialize, Deserialize)]
struct StoreFile {
    version: u32,
}

/// The state directory.
#[derive(Clone, Debug)]
pub struct Store {
    root: PathBuf,
}

/// Held while a `selfheal run` works; released on drop.
#[derive(Debug)]
pub struct RunLock {
    _file: File,
}

impl Store {
    /// Opens (creating if needed) the state dir at `root`; refuses a newer format.
    pub fn open(root: &Path) -> Result<Store, StoreError> {
        fs::create_dir_all(root).map_err(io("create", root))?;
        let store = Store {
            root: root.to_path_buf(),
        };
        store.check_version()?;
        let ignore = root.join(".gitignore");
        if !ignore.exists() {
            write_atomic(&ignore, b"# selfheal state: never commit it\n*\n")
                .map_err(io("write", &ignore))?;
        }
        Ok(store)
    }

    fn check_version(&self) -> Result<(), StoreError> {
        let path = self.root.join("store.json");
        match fs::read(&path) {
            Ok(bytes) => {
                let f: StoreFile =
                    serde_json::from_slice(&bytes).map_err(|source| StoreError::Corrupt {
                        path: path.clone(),
                        source,
                    })?;
                if f.version > FORMAT_VERSION {
                    return Err(StoreError::TooNew {
                        path,
                        found: f.version,
                    });
                }
                Ok(())
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let body = serde_json::to_vec(&StoreFile {
                    version: FORMAT_VERSION,
                })
                .expect("serialises");
                write_atomic(&path, &body).map_err(io("write", &path))
            }
            Err(e) => Err(io("read", &path)(e)),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `cache/runs/<run_id>`: a directory `selfheal offline` can read.
    pub fn run_dir(&self, run_id: u64) -> PathBuf {
        self.root
            .join("cache")
            .join("runs")
            .join(run_id.to_string())
    }

    /// Where the run-log ZIP goes; `github::Client::download_run_logs` writes it atomically.
    pub fn logs_zip_path(&self, run_id: u64) -> PathBuf {
        self.run_dir(run_id).join("logs.zip")
    }

    /// Where one job's log goes (the fallback when the ZIP lacks the job).
    pub fn job_log_path(&self, run_id: u64, job_id: u64) -> PathBuf {
        self.run_dir(run_id)
            .join("jobs")
            .join(format!("{job_id}.txt"))
    }

    /// The cached ZIP, if a download finished before.
    pub fn cached_logs(&self, run_id: u64) -> Option<PathBuf> {
        let p = self.logs_zip_path(run_id);
        p.is_file().then_some(p)
    }

    /// Writes `name` (`run.json`, `jobs.json`) in the run's cache directory, atomically.
    /// What goes in is the caller's (`crate::fetch` keeps GitHub's own shapes there).
    pub fn save_cached<T: Serialize>(
        &self,
        run_id: u64,
        name: &str,
        value: &T,
    ) -> Result<PathBuf, StoreError> {
        let path = self.run_dir(run_id).join(name);
        write_json(&path, value)?;
        Ok(path)
    }

    /// `name` from the run's cache directory, if it was saved.
    pub fn load_cached<T: serde::de::DeserializeOwned>(
        &self,
        run_id: u64,
        name: &str,
    ) -> Result<Option<T>, StoreError> {
        read_json(&self.run_dir(run_id).join(name))
    }

    /// Takes the run lock, or fails at once if another `selfheal run` holds it.
    pub fn lock_run(&self) -> Result<RunLock, StoreError> {
        let path = self.root.join("run.lock");
        let file = open_lock_file(&path)?;
        match file.try_lock() {
            Ok(()) => Ok(RunLock { _file: file }),
            Err(fs::TryLockError::WouldBlock) => Err(StoreError::Busy { path }),
            Err(fs::TryLockError::Error(e)) => Err(io("lock", &path)(e)),
        }
    }

    /// Every handled run, oldest first.
    pub fn handled(&self) -> Result<Vec<HandledRun>, StoreError> {
        Ok(self.read_handled()?.runs)
    }

    /// Whether this attempt of this run was handled before.
    pub fn is_handled(&self, run_id: u64, attempt: u32) -> Result<bool, StoreError> {
        Ok(self.record_of(run_id, attempt)?.is_some())
    }

    /// The record of this attempt of this run, if any.
    pub fn record_of(&self, run_id: u64, attempt: u32) -> Result<Option<HandledRun>, StoreError> {
        Ok(self
            .handled()?
            .into_iter()
            .rfind(|h| h.run_id == run_id && h.attempt == attempt))
    }

    /// Whether selfheal already re-ran this run's failed jobs (in any attempt).
    pub fn was_rerun(&self, run_id: u64) -> Result<bool, StoreError> {
        Ok(self
            .handled()?
            .iter()
            .any(|h| h.run_id == run_id && (h.rerun || h.outcome == Outcome::Rerun)))
    }

    /// Earlier records with this failure signature, newest first.
    pub fn by_signature(&self, signature: &str) -> Result<Vec<HandledRun>, StoreError> {
        let mut v: Vec<HandledRun> = self
            .handled()?
            .into_iter()
            .filter(|h| h.signature.as_deref() == Some(signature))
            .collect();
        v.reverse();
        Ok(v)
    }

    /// Records a handled run (replacing an earlier record of the same run and attempt),
    /// under an exclusive lock so concurrent runs do not lose records.
    pub fn mark_handled(&self, record: HandledRun) -> Result<(), StoreError> {
        let lock_path = self.root.join("handled.lock");
        let lock = open_lock_file(&lock_path)?;
        lock.lock().map_err(io("lock", &lock_path))?;
        let mut file = self.read_handled()?;
        let mut record = record;
        let same = |h: &HandledRun| h.run_id == record.run_id && h.attempt == record.attempt;
        record.rerun |= file.runs.iter().any(|h| same(h) && h.rerun);
        file.runs.retain(|h| !same(h));
        file.runs.push(record);
        write_json(&self.handled_path(), &file)
    }

    fn handled_path(&self) -> PathBuf {
        self.root.join("handled.json")
    }

    fn read_handled(&self) -> Result<HandledFile, StoreError> {
        let path = self.handled_path();
        let file: Option<HandledFile> = read_json(&path)?;
        let file = file.unwrap_or(HandledFile {
            version: FORMAT_VERSION,
            runs: Vec::new(),
        });
        if file.version > FORMAT_VERSION {
            return Err(StoreError::TooNew {
                path,
                found: file.version,
            });
        }
        Ok(file)
    }
}

fn open_lock_file(path: &Path) -> Result<File, StoreError> {
    OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(io("open", path))
}

fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), StoreError> {
    let mut bytes = serde_json::to_vec_pretty(value).expect("state serialises");
    bytes.push(b'\n');
    write_atomic(path, &bytes).map_err(io("write", path))
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<Option<T>, StoreError> {
    match fs::read(path) {
        Ok(bytes) => {
            serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|source| StoreError::Corrupt {
                    path: path.to_path_buf(),
                    source,
                })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io("read", path)(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(run_id: u64, attempt: u32, sig: &str) -> HandledRun {
        HandledRun {
            run_id,
            attempt,
            outcome: Outcome::PullRequest,
            signature: Some(sig.into()),
            pr_number: Some(3),
            pr_url: None,
            note: None,
            pending_id: None,
            errors: 0,
            retry_at: None,
            rerun: false,
            at: 1,
        }
    }

    #[test]
    fn errors_are_retried_with_a_growing_wait_until_given_up() {
        assert_eq!(error_backoff(10, 1), 10);
        assert_eq!(error_backoff(10, 3), 40);
        assert_eq!(error_backoff(600, 9), 3600);
        let mut h = record(1, 1, "s");
        h.outcome = Outcome::Error;
        h.retry_at = Some(100);
        assert!(!h.retry_due(99) && h.retry_due(100) && !h.settled());
        h.retry_at = None;
        assert!(!h.retry_due(1000) && h.settled());
        assert!(record(2, 1, "s").settled());
    }

    #[test]
    fn cached_files_round_trip_in_the_offline_layout() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join(".selfheal")).unwrap();
        let run = serde_json::json!({"id": 42, "run_attempt": 2});
        store.save_cached(42, "run.json", &run).unwrap();
        let got: Option<serde_json::Value> = store.load_cached(42, "run.json").unwrap();
        assert_eq!(got, Some(run));
        let d = store.run_dir(42);
        assert!(d.ends_with("cache/runs/42"));
        assert!(d.join("run.json").is_file());
        assert_eq!(store.job_log_path(42, 7), d.join("jobs/7.txt"));
        assert_eq!(store.cached_logs(42), None);
        let none: Option<serde_json::Value> = store.load_cached(1, "run.json").unwrap();
        assert_eq!(none, None);
    }

    #[test]
    fn handled_runs_are_remembered_per_attempt() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        assert!(!store.is_handled(5, 1).unwrap());
        store.mark_handled(record(5, 1, "sig-a")).unwrap();
        store.mark_handled(record(6, 1, "sig-b")).unwrap();
        let again = Store::open(dir.path()).unwrap();
        assert!(again.is_handled(5, 1).unwrap());
        assert!(!again.is_handled(5, 2).unwrap(), "a re-run attempt is new");
        let mut updated = record(5, 1, "sig-a");
        updated.outcome = Outcome::Skipped;
        again.mark_handled(updated).unwrap();
        let all = again.handled().unwrap();
        assert_eq!(all.len(), 2);
        assert!(!again.was_rerun(5).unwrap());
        let mut rerun = record(5, 1, "sig-a");
        (rerun.outcome, rerun.rerun) = (Outcome::Rerun, true);
        again.mark_handled(rerun).unwrap();
        again.mark_handled(record(5, 1, "sig-a")).unwrap();
        assert!(
            again.was_rerun(5).unwrap(),
            "a later record keeps the re-run"
        );
        again.mark_handled(updated_skip()).unwrap();
        assert_eq!(
            again.by_signature("sig-a").unwrap()[0].outcome,
            Outcome::Skipped
        );
    }

    fn updated_skip() -> HandledRun {
        let mut r = record(5, 1, "sig-a");
        r.outcome = Outcome::Skipped;
        r
    }

    #[test]
    fn concurrent_writers_lose_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        std::thread::scope(|s| {
            for t in 0..4u64 {
                let store = store.clone();
                s.spawn(move || {
                    for i in 0..10 {
                        store.mark_handled(record(t * 100 + i, 1, "x")).unwrap();
                    }
                });
            }
        });
        assert_eq!(store.handled().unwrap().len(), 40);
    }

    #[test]
    fn second_run_lock_is_busy() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let held = store.lock_run().unwrap();
        let e = store.lock_run().unwrap_err();
        assert!(matches!(e, StoreError::Busy { .. }), "{e:?}");
        drop(held);
        store.lock_run().unwrap();
    }

    #[test]
    fn newer_format_is_refused_and_state_is_git_ignored() {
        let dir = tempfile::tempdir().unwrap();
        Store::open(dir.path()).unwrap();
        assert_eq!(
            fs::read_to_string(dir.path().join(".gitignore"))
                .unwrap()
                .lines()
                .last(),
            Some("*")
        );
        fs::write(dir.path().join("store.json"), r#"{"version": 99}"#).unwrap();
        let e = Store::open(dir.path()).unwrap_err();
        assert!(matches!(e, StoreError::TooNew { found: 99, .. }));
        assert!(e.hint().contains("upgrade"));
    }

    #[test]
    fn corrupt_handled_file_names_itself() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        fs::write(dir.path().join("handled.json"), "{not json").unwrap();
        let e = store.is_handled(1, 1).unwrap_err();
        assert!(e.to_string().contains("handled.json"), "{e}");
    }
}
