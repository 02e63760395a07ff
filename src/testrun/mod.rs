//! What running a project's tests means, wherever they run: the [`ValidationRequest`], the
//! [`Outcome`], the [`Validator`] trait, the bounded output [`Tail`], and how the test
//! command and language of a repository are detected ([`detect`]).
//!
//! Both validators build on this module and on nothing of each other:
//! [`crate::validate::LocalValidator`] runs the command on this machine,
//! [`crate::sandbox::DockerValidator`] in a locked-down container. [`validate_scoped`]
//! runs the failing tests first, then the suite, with either.

pub mod detect;
pub mod tail;

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

pub use detect::{Lang, detect_command, detect_lang, scoped_command, shell_quote};
pub use tail::Tail;

/// One validation to run.
#[derive(Clone, Debug)]
pub struct ValidationRequest {
    /// The tree to test: a copy with the patch applied, never the user's working tree.
    pub repo_dir: PathBuf,
    /// Run with `sh -c`.
    pub command: String,
    /// After this the command (or container) is killed and the outcome is `timed_out`.
    pub timeout: Duration,
    /// Test ids from triage, used by [`validate_scoped`] to run those first.
    pub failing_tests: Vec<String>,
    /// The pipeline run this belongs to; labels containers for cleanup.
    pub run_id: String,
}

impl ValidationRequest {
    pub fn new(
        repo_dir: impl Into<PathBuf>,
        command: impl Into<String>,
        timeout: Duration,
        run_id: impl Into<String>,
    ) -> Self {
        ValidationRequest {
            repo_dir: repo_dir.into(),
            command: command.into(),
            timeout,
            failing_tests: Vec::new(),
            run_id: run_id.into(),
        }
    }
}

/// How a validation went.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Outcome {
    /// Exit code 0 within the time limit.
    pub passed: bool,
    /// `None` when the process was killed before it reported one (timeout).
    pub exit_code: Option<i64>,
    pub timed_out: bool,
    /// The kernel's OOM killer stopped it (Docker's `State.OOMKilled`).
    pub oom_killed: bool,
    #[serde(serialize_with = "serialize_secs")]
    pub duration: Duration,
    /// The last ~200 lines / 64 KiB of stdout and stderr, interleaved as they came.
    pub tail: String,
    /// The command that ran.
    pub command: String,
}

fn serialize_secs<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

impl Outcome {
    /// One line for reports: `passed in 3.2 s`, `failed (exit 1) in 2.0 s`, `timed out after 600 s`.
    pub fn summary(&self) -> String {
        let secs = self.duration.as_secs_f64();
        if self.timed_out {
            format!("timed out after {secs:.0} s")
        } else if self.oom_killed {
            format!("killed: out of memory after {secs:.1} s")
        } else if self.passed {
            format!("passed in {secs:.1} s")
        } else {
            match self.exit_code {
                Some(code) => format!("failed (exit {code}) in {secs:.1} s"),
                None => format!("failed in {secs:.1} s"),
            }
        }
    }
}

/// Where streamed output goes as it arrives (a progress display, a log file).
pub type OutputSink = Arc<dyn Fn(&[u8]) + Send + Sync>;

/// Runs a [`ValidationRequest`] somewhere and reports the [`Outcome`]. Test failures are
/// outcomes, not errors; `Error` is what kept the tests from running (each validator
/// keeps its own typed error).
pub trait Validator {
    type Error: std::error::Error + Send + Sync + 'static;

    fn validate(
        &self,
        req: &ValidationRequest,
    ) -> impl Future<Output = Result<Outcome, Self::Error>> + Send;
}

/// Runs the failing tests alone first (fast feedback), then, if they pass, the whole suite.
///
/// Returns the first outcome that failed, or the full suite's outcome. When the command
/// cannot be narrowed (no ids, unknown tool) only the full suite runs.
pub async fn validate_scoped<V: Validator + Sync>(
    v: &V,
    req: &ValidationRequest,
) -> Result<Outcome, V::Error> {
    if let Some(scoped) = scoped_command(&req.command, &req.failing_tests) {
        let first = v
            .validate(&ValidationRequest {
                command: scoped,
                ..req.clone()
            })
            .await?;
        if !first.passed {
            return Ok(first);
        }
    }
    v.validate(req).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// Records the commands it was asked to run; fails those containing "fail".
    struct Recorder(Mutex<Vec<String>>);

    impl Validator for Recorder {
        type Error = std::io::Error;

        async fn validate(&self, req: &ValidationRequest) -> Result<Outcome, std::io::Error> {
            self.0.lock().unwrap().push(req.command.clone());
            let passed = !req.command.contains("fail");
            Ok(Outcome {
                passed,
                exit_code: Some(if passed { 0 } else { 1 }),
                timed_out: false,
                oom_killed: false,
                duration: Duration::from_millis(5),
                tail: String::new(),
                command: req.command.clone(),
            })
        }
    }

    fn request(ids: &[&str]) -> ValidationRequest {
        let mut r =
            ValidationRequest::new("/tmp", "python3 -m pytest -q", Duration::from_secs(5), "r1");
        r.failing_tests = ids.iter().map(|s| s.to_string()).collect();
        r
    }

    #[tokio::test]
    async fn scoped_then_full() {
        let rec = Recorder(Mutex::new(vec![]));
        let out = validate_scoped(&rec, &request(&["t.py::test_a"]))
            .await
            .unwrap();
        assert!(out.passed);
        assert_eq!(
            *rec.0.lock().unwrap(),
            vec!["python3 -m pytest -q t.py::test_a", "python3 -m pytest -q"]
        );
    }

    #[tokio::test]
    async fn scoped_failure_stops_early() {
        let rec = Recorder(Mutex::new(vec![]));
        let out = validate_scoped(&rec, &request(&["t.py::test_fail"]))
            .await
            .unwrap();
        assert!(!out.passed);
        assert_eq!(rec.0.lock().unwrap().len(), 1);
    }

    #[tokio::test]
    async fn no_ids_runs_full_suite_only() {
        let rec = Recorder(Mutex::new(vec![]));
        validate_scoped(&rec, &request(&[])).await.unwrap();
        assert_eq!(*rec.0.lock().unwrap(), vec!["python3 -m pytest -q"]);
    }

    #[test]
    fn summaries() {
        let mut o = Outcome {
            passed: false,
            exit_code: Some(2),
            timed_out: false,
            oom_killed: false,
            duration: Duration::from_millis(1500),
            tail: String::new(),
            command: "x".into(),
        };
        assert_eq!(o.summary(), "failed (exit 2) in 1.5 s");
        o.oom_killed = true;
        assert_eq!(o.summary(), "killed: out of memory after 1.5 s");
        o.timed_out = true;
        assert_eq!(o.summary(), "timed out after 2 s");
        let json = serde_json::to_value(&o).unwrap();
        assert_eq!(json["duration"], 1.5);
    }
}
