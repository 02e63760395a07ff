//! Runs the test command on this machine, in the directory the caller gives.
//!
//! The command runs as `sh -c COMMAND` in a process group of its own, so a timeout or
//! Ctrl-C kills everything it started (test workers, servers), not just the shell.
//! There is no isolation: callers point it at a throwaway copy of the tree, and only
//! when the user chose `--sandbox local` or no Docker engine answered (with a warning).
//! Variables that look like secrets are removed from the command's environment
//! ([`super::env`]), unless `[validate] pass_env` names them.

use std::os::unix::process::ExitStatusExt;
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::Command;

use super::ValidateError;
use crate::interrupt::interrupted;
use crate::testrun::{Outcome, OutputSink, Tail, ValidationRequest, Validator};

/// Runs tests with `sh -c` on the host.
#[derive(Clone, Default)]
pub struct LocalValidator {
    sink: Option<OutputSink>,
    env: Vec<(String, String)>,
    /// Inherited variables the command must not see.
    removed: Vec<String>,
}

impl LocalValidator {
    pub fn new() -> Self {
        LocalValidator::default()
    }

    /// Also sends output to `sink` as it arrives.
    pub fn with_output(mut self, sink: OutputSink) -> Self {
        self.sink = Some(sink);
        self
    }

    /// Sets an environment variable for the command (e.g. `CI=true`).
    pub fn with_env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Removes the inherited variables that look like secrets (tokens, keys, passwords,
    /// cloud credentials), except those in `pass`.
    pub fn without_secrets(mut self, pass: &[String]) -> Self {
        let names: Vec<String> = std::env::vars_os()
            .filter_map(|(k, _)| k.into_string().ok())
            .collect();
        self.removed = super::env::secrets_to_remove(names.iter().map(String::as_str), pass);
        self
    }

    fn spawn(&self, req: &ValidationRequest) -> Result<tokio::process::Child, ValidateError> {
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg(&req.command)
            .current_dir(&req.repo_dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .kill_on_drop(true);
        for k in &self.removed {
            cmd.env_remove(k);
        }
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd.spawn().map_err(|source| ValidateError::Spawn {
            command: req.command.clone(),
            dir: req.repo_dir.clone(),
            source,
        })
    }
}

impl Validator for LocalValidator {
    type Error = ValidateError;

    async fn validate(&self, req: &ValidationRequest) -> Result<Outcome, ValidateError> {
        let start = Instant::now();
        let mut child = self.spawn(req)?;
        let group = GroupGuard(child.id());
        let tail = Arc::new(Mutex::new(Tail::default()));
        let readers = [
            child
                .stdout
                .take()
                .map(|out| tokio::spawn(pump(out, tail.clone(), self.sink.clone()))),
            child
                .stderr
                .take()
                .map(|err| tokio::spawn(pump(err, tail.clone(), self.sink.clone()))),
        ];
        let status = tokio::select! {
            status = child.wait() => Some(status.map_err(|source| ValidateError::Wait { command: req.command.clone(), source })?),
            _ = tokio::time::sleep(req.timeout) => None,
            _ = interrupted() => {
                drop(group);
                return Err(ValidateError::Interrupted);
            }
        };
        // Kill what the command left behind (background servers keep the pipes open).
        drop(group);
        if status.is_none() {
            let _ = child.wait().await;
        }
        for reader in readers.into_iter().flatten() {
            let _ = tokio::time::timeout(Duration::from_secs(5), reader).await;
        }
        let tail = std::mem::take(&mut *tail.lock().unwrap_or_else(|e| e.into_inner())).finish();
        Ok(outcome(req, status, start.elapsed(), tail))
    }
}

fn outcome(
    req: &ValidationRequest,
    status: Option<ExitStatus>,
    duration: Duration,
    tail: String,
) -> Outcome {
    let exit_code = status.map(exit_code);
    Outcome {
        passed: exit_code == Some(0),
        exit_code,
        timed_out: status.is_none(),
        oom_killed: false,
        duration,
        tail,
        command: req.command.clone(),
    }
}

/// The shell convention: a signal `n` becomes `128 + n`.
fn exit_code(status: ExitStatus) -> i64 {
    match (status.code(), status.signal()) {
        (Some(code), _) => i64::from(code),
        (None, Some(sig)) => 128 + i64::from(sig),
        (None, None) => -1,
    }
}

async fn pump(mut from: impl AsyncRead + Unpin, tail: Arc<Mutex<Tail>>, sink: Option<OutputSink>) {
    let mut buf = vec![0u8; 16 * 1024];
    while let Ok(n) = from.read(&mut buf).await {
        if n == 0 {
            break;
        }
        if let Some(sink) = &sink {
            sink(&buf[..n]);
        }
        tail.lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(&buf[..n]);
    }
}

/// Kills the whole process group when dropped: on timeout, Ctrl-C, panic or normal exit.
struct GroupGuard(Option<u32>);

impl Drop for GroupGuard {
    fn drop(&mut self) {
        if let Some(pgid) = self.0.take() {
            kill_group(pgid);
        }
    }
}

/// `kill -KILL -PGID` through the shell's builtin (std has no killpg, and unsafe is forbidden).
fn kill_group(pgid: u32) {
    let _ = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("kill -s KILL -- -{pgid} 2>/dev/null"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(dir: &std::path::Path, command: &str, timeout_ms: u64) -> ValidationRequest {
        ValidationRequest::new(dir, command, Duration::from_millis(timeout_ms), "test")
    }

    #[tokio::test]
    async fn passing_command() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("marker"), "here").unwrap();
        let out = LocalValidator::new()
            .validate(&req(dir.path(), "cat marker; echo err >&2", 10_000))
            .await
            .unwrap();
        assert!(out.passed, "{out:?}");
        assert_eq!(out.exit_code, Some(0));
        assert!(
            out.tail.contains("here") && out.tail.contains("err"),
            "{}",
            out.tail
        );
    }

    #[tokio::test]
    async fn failing_command_keeps_exit_code() {
        let dir = tempfile::tempdir().unwrap();
        let out = LocalValidator::new()
            .validate(&req(dir.path(), "echo boom; exit 3", 10_000))
            .await
            .unwrap();
        assert!(!out.passed && !out.timed_out);
        assert_eq!(out.exit_code, Some(3));
        assert_eq!(out.tail, "boom\n");
    }

    #[tokio::test]
    async fn timeout_kills_the_whole_group() {
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("late");
        // A grandchild that would write the marker if it survived the kill.
        let cmd = format!("(sleep 2; touch {}) & sleep 30", marker.display());
        let started = Instant::now();
        let out = LocalValidator::new()
            .validate(&req(dir.path(), &cmd, 300))
            .await
            .unwrap();
        assert!(
            out.timed_out && !out.passed && out.exit_code.is_none(),
            "{out:?}"
        );
        assert!(started.elapsed() < Duration::from_secs(10));
        tokio::time::sleep(Duration::from_millis(2500)).await;
        assert!(
            !marker.exists(),
            "a process of the group survived the timeout"
        );
    }

    #[tokio::test]
    async fn output_is_streamed_and_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let seen = Arc::new(Mutex::new(0usize));
        let counter = seen.clone();
        let v = LocalValidator::new().with_output(Arc::new(move |b: &[u8]| {
            *counter.lock().unwrap() += b.len()
        }));
        let out = v
            .validate(&req(dir.path(), "seq 1 5000", 10_000))
            .await
            .unwrap();
        assert!(out.passed);
        assert_eq!(
            *seen.lock().unwrap(),
            (1..=5000)
                .map(|n: u32| n.to_string().len() + 1)
                .sum::<usize>()
        );
        assert!(
            out.tail
                .starts_with("[… 4800 earlier lines omitted]\n4801\n"),
            "{}",
            &out.tail[..60]
        );
        assert!(out.tail.ends_with("5000\n"));
    }

    #[tokio::test]
    async fn env_and_missing_dir() {
        let dir = tempfile::tempdir().unwrap();
        let v = LocalValidator::new().with_env("SELFHEAL_X", "42");
        let out = v
            .validate(&req(dir.path(), "test \"$SELFHEAL_X\" = 42", 10_000))
            .await
            .unwrap();
        assert!(out.passed);
        let err = v
            .validate(&req(&dir.path().join("nope"), "true", 1000))
            .await
            .unwrap_err();
        assert!(matches!(err, ValidateError::Spawn { .. }), "{err}");
    }

    #[test]
    fn signal_exit_codes() {
        assert_eq!(exit_code(ExitStatus::from_raw(9)), 137);
        assert_eq!(exit_code(ExitStatus::from_raw(1 << 8)), 1);
    }
}
