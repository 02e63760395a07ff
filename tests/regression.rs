//! One test per bug found in the field, named after what the user saw. Each drives the
//! public API (or the binary) the way the bug was met, so it stays true however the code
//! inside moves. The commit that fixed it is named in the test's comment.

use std::path::Path;

use selfheal::logs::Kind;
use selfheal::logs::archive::LogSource;
use selfheal::logs::triage::{Triage, TriageOptions, triage};

use crate::cli::selfheal;

/// A job log as `gh run view --log-failed` or the job page's download gives it.
fn triage_job_log(dir: &Path, text: &str, tool: Option<&str>) -> Triage {
    let path = dir.join("job.txt");
    std::fs::write(&path, text).unwrap();
    let opts = TriageOptions {
        tool: tool.map(str::to_string),
        ..TriageOptions::default()
    };
    triage(&LogSource::Text(path), &opts).unwrap()
}

/// ff23ea6: jest's `● Console` and `● Validation Warning` blocks were reported as test
/// failures next to the real one, and the model was asked to "fix" a console.log.
#[test]
fn jest_console_output_was_reported_as_a_test_failure() {
    let dir = tempfile::tempdir().unwrap();
    let log = "\
FAIL src/sum.test.js
  ● Console

    console.log
      computing the sum

  ● Validation Warning:

  Unknown option \"coverageThresholds\" with value {} was found.

  ● sum › adds two numbers

    expect(received).toBe(expected) // Object.is equality

    Expected: 3
    Received: 4

      at Object.<anonymous> (src/sum.test.js:4:19)

Tests:       1 failed, 1 total
##[error]Process completed with exit code 1.
";
    let t = triage_job_log(dir.path(), log, Some("jest"));
    assert_eq!(t.failures.len(), 1, "{:#?}", t.failures);
    let f = &t.failures[0];
    assert_eq!(f.kind, Kind::TestFailure);
    assert!(f.message.contains("Expected: 3"), "{}", f.message);
}

/// 7005162: `/usr/bin/env: ‘python’: No such file or directory` (GNU coreutils quotes
/// with curly quotes in a UTF-8 locale) was not seen as a missing interpreter, so the
/// run was triaged as "nothing found".
#[test]
fn env_with_curly_quotes_was_not_seen_as_a_missing_command() {
    let dir = tempfile::tempdir().unwrap();
    let log = "\
Run ./scripts/check.py
/usr/bin/env: ‘python’: No such file or directory
##[error]Process completed with exit code 127.
";
    let t = triage_job_log(dir.path(), log, None);
    let f = t
        .failures
        .iter()
        .find(|f| f.kind == Kind::CommandNotFound)
        .unwrap_or_else(|| panic!("no command-not-found failure in {:#?}", t.failures));
    assert!(f.message.contains("python"), "{}", f.message);
}

/// 6c47cee: a GitHub token made of letters only (`ghp_` and 36 letters) was left in the
/// log text sent to the model, because every token shape had to "look random".
#[test]
fn a_github_token_without_digits_leaked_into_the_prompt() {
    let token = format!("ghp_{}", "abcdefghij".repeat(4));
    let mut line =
        format!("git remote set-url origin https://x-access-token:{token}@github.com/a/b");
    let masked = selfheal::logs::secrets::mask_line(&mut line);
    assert_eq!(masked, 1, "{line}");
    assert!(!line.contains(&token), "{line}");
    // An ordinary hyphenated word that starts like an OpenAI key is not a secret.
    let mut prose = "the sk-learn-compatible-estimator-wrapper module".to_string();
    assert_eq!(selfheal::logs::secrets::mask_line(&mut prose), 0, "{prose}");
}

/// Issue 12: `selfheal offline` on a missing file printed the headline twice, once as
/// `error:` and again under `Caused by:` (the error was its own first cause).
#[test]
fn caused_by_repeated_the_headline() {
    let out = selfheal()
        .args(["offline", "/nonexistent/logs.zip", "--no-llm"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        stderr.matches("cannot read /nonexistent/logs.zip").count(),
        1,
        "{stderr}"
    );
    assert!(
        stderr.contains("Caused by:\n  No such file or directory"),
        "the cause is still shown: {stderr}"
    );
}

/// 85b3660: a `go test -timeout` panic pointed at `testing.go` (the alarm goroutine, the
/// first one printed) instead of the line where the test was stuck, so the model was sent
/// Go's own source as context.
#[test]
fn a_go_test_timeout_pointed_at_the_go_runtime() {
    let dir = tempfile::tempdir().unwrap();
    let log = "\
panic: test timed out after 3s

goroutine 17 [running]:
testing.(*M).startAlarm.func1()
\t/usr/lib/go-1.19/src/testing/testing.go:2036 +0x8e
created by time.goFunc
\t/usr/lib/go-1.19/src/time/sleep.go:176 +0x32

goroutine 6 [chan receive]:
github.com/acme/app/queue.Drain(...)
\t/home/runner/work/app/app/queue/queue.go:6
github.com/acme/app/queue.TestDrain(0xc000007860)
\t/home/runner/work/app/app/queue/queue_test.go:9 +0x98
testing.tRunner(0xc000007860, 0x52f388)
\t/usr/lib/go-1.19/src/testing/testing.go:1446 +0x10b
created by testing.(*T).Run
\t/usr/lib/go-1.19/src/testing/testing.go:1493 +0x35f
FAIL\tgithub.com/acme/app/queue\t3.007s
FAIL
##[error]Process completed with exit code 1.
";
    let t = triage_job_log(dir.path(), log, Some("go-test"));
    let f = t
        .failures
        .iter()
        .find(|f| f.kind == Kind::Timeout)
        .unwrap_or_else(|| panic!("no timeout in {:#?}", t.failures));
    let file = f.file.as_deref().unwrap_or_default();
    assert!(file.ends_with("queue/queue.go"), "{file}");
    assert_eq!(f.line, Some(6));
    assert_eq!(f.test.as_deref(), Some("TestDrain"));
}
