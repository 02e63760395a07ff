//! Failures no code change fixes: job and step timeouts, cancellations, OOM kills, the
//! network, a full disk and lost runners. Tool `runner` throughout.
//!
//! OOM: `Killed` job reports, `signal: killed`, `Killed signal terminated program`,
//! `Cannot allocate memory`, and exit code 137 (SIGKILL, how the kernel's OOM killer and
//! Docker end a process) when nothing else explains it. Python's `MemoryError` and V8's
//! heap limit are reported by the Python and JavaScript parsers as `oom` too.
//! Timeouts: the runner's `exceeded the maximum execution time`, a step's `has timed out
//! after`, and GNU `timeout`'s exit code 124.
//! One finding per category, the first in the log: the later lines repeat it.

use std::sync::LazyLock;

use regex::Regex;

use super::Found;
use super::generic::{header_lines, one_line};
use super::util::window;
use crate::logs::{Failure, Kind, StepLog};

/// Tool names this parser answers to for `--tool`.
pub const TOOLS: &[&str] = &["runner"];

/// A category of runner trouble: its kind and the lines that show it.
struct Category {
    kind: Kind,
    pattern: &'static LazyLock<Regex>,
}

static TIMEOUT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"has exceeded the maximum execution time of \d+ minutes|has timed out after \d+ minutes|The operation was canceled\.|The job was canceled because|The run was canceled by").unwrap()
});
static OOM: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:^|: |\s)\d* ?Killed\s+\S|^Killed\s*$|signal: killed|SIGKILL|Killed signal terminated program|Cannot allocate memory|[Oo]ut of memory(?:\s|$|:)|std::bad_alloc|OOMKilled|exit code 137").unwrap()
});
static NETWORK: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"Could not resolve host|Temporary failure in name resolution|Name or service not known|getaddrinfo (?:ENOTFOUND|EAI_AGAIN)",
        r"|Connection timed out|Connection reset by peer|ECONNRESET|ETIMEDOUT|TLS handshake timeout|i/o timeout|Network is unreachable",
        r"|No route to host|Failed to connect to \S+ port|SSL_ERROR_SYSCALL|RPC failed; curl|The requested URL returned error: 5\d\d",
        r"|\b50[234] (?:Service Unavailable|Bad Gateway|Gateway Time-?out)|toomanyrequests|API rate limit exceeded|unable to access '[^']+': (?:Could|Failed|Recv|OpenSSL)",
    ))
    .unwrap()
});
static DISK: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)no space left on device|ENOSPC|[Nn]ot enough space on the disk|disk quota exceeded",
    )
    .unwrap()
});
static RUNNER_LOST: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"The runner has received a shutdown signal|lost communication with the server|The hosted runner encountered an error|Cannot connect to the Docker daemon|runner .* did not connect|The self-hosted runner .* lost|was not acquired by Runner").unwrap()
});

/// A test runner's closing summary with failures: connection errors before it are what
/// the failing tests printed, and the tests are the root cause to report.
static TESTS_FAILED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^=+ short test summary info =+$|^Tests:\s+\d+ failed|^\s*\d+ failing$|^FAILED \((?:failures|errors)=|^[#ℹ] fail [1-9]|^\s*Tests?\s+\d+ failed|^--- FAIL: |^\[ERROR\] Tests run:.*Failures: [1-9]").unwrap()
});

/// The workflow itself is wrong: an action or tool version that does not exist.
static WORKFLOW: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"Unable to resolve action `[^`]+`|Can't find 'action\.ya?ml'|Invalid workflow file|The workflow is not valid|The version '[^']+' with architecture '[^']+' was not found|Unable to find Node version|Could not find a version that satisfied version spec").unwrap()
});

static CATEGORIES: [Category; 6] = [
    Category {
        kind: Kind::Timeout,
        pattern: &TIMEOUT,
    },
    Category {
        kind: Kind::Config,
        pattern: &WORKFLOW,
    },
    Category {
        kind: Kind::Oom,
        pattern: &OOM,
    },
    Category {
        kind: Kind::Network,
        pattern: &NETWORK,
    },
    Category {
        kind: Kind::Infra,
        pattern: &DISK,
    },
    Category {
        kind: Kind::Infra,
        pattern: &RUNNER_LOST,
    },
];

/// Failures in `step`, with where each starts.
pub fn parse(step: &StepLog) -> Vec<Found> {
    let tests_failed = step.lines.iter().any(|l| TESTS_FAILED.is_match(l));
    let mut found: Vec<Found> = CATEGORIES
        .iter()
        .filter(|c| !(tests_failed && c.kind == Kind::Network))
        .filter_map(|c| first_of(step, c))
        .collect();
    if !found.iter().any(|f| f.failure.kind == Kind::Timeout)
        && let Some(f) = gnu_timeout(step)
    {
        found.push(f);
    }
    if !found.iter().any(|f| f.failure.kind == Kind::Oom)
        && let Some(f) = killed_137(step)
    {
        found.push(f);
    }
    found
}

/// The first line of `step` in `category`, skipping lines other parsers own (pip's retry
/// warnings, npm's error blocks).
fn first_of(step: &StepLog, category: &Category) -> Option<Found> {
    let lines = &step.lines;
    let header = header_lines(step);
    let i = (0..lines.len()).find(|&i| {
        !header[i] && category.pattern.is_match(&lines[i]) && !owned_elsewhere(&lines[i])
    })?;
    let message = lines[i].trim().trim_start_matches("##[error]");
    let f = Failure::new("runner", category.kind, one_line(message))
        .with_excerpt(&window(lines, i, 3, 1));
    Some(Found { at: i, failure: f })
}

fn owned_elsewhere(line: &str) -> bool {
    [
        "WARNING: Retrying",
        "npm ERR!",
        "npm error",
        "npm WARN",
        "npm warn",
    ]
    .iter()
    .any(|p| line.starts_with(p))
}

/// GNU `timeout` ends the command with 124 and prints nothing.
fn gnu_timeout(step: &StepLog) -> Option<Found> {
    if step.exit_code != Some(124) || !step.commands.iter().any(|c| c.contains("timeout ")) {
        return None;
    }
    let message = "the command was stopped by `timeout` (exit code 124)";
    Some(last_line_failure(step, Kind::Timeout, message))
}

/// Exit code 137 with no other explanation: SIGKILL, almost always the OOM killer.
fn killed_137(step: &StepLog) -> Option<Found> {
    if step.exit_code != Some(137) {
        return None;
    }
    let message = "the process was killed (exit code 137, SIGKILL: usually out of memory)";
    Some(last_line_failure(step, Kind::Oom, message))
}

fn last_line_failure(step: &StepLog, kind: Kind, message: &str) -> Found {
    let at = step.lines.len().saturating_sub(1);
    let f = Failure::new("runner", kind, message).with_excerpt(&window(&step.lines, at, 5, 0));
    Found { at, failure: f }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::parse::corpus;

    fn step(text: &str, code: Option<i32>) -> StepLog {
        StepLog {
            failed: true,
            exit_code: code,
            lines: text.lines().map(str::to_string).collect(),
            ..StepLog::default()
        }
    }

    #[test]
    fn corpus_infra_cases() {
        corpus::assert_cases(&["infra_"], 6);
    }

    #[test]
    fn runner_timeout_and_cancel() {
        let s = step(
            "running tests\n##[error]The job running on runner GitHub Actions 12 has exceeded the maximum execution time of 30 minutes.\n##[error]The operation was canceled.",
            None,
        );
        let found = parse(&s);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].failure.kind, Kind::Timeout);
        assert!(!found[0].failure.needs_code_change);
        assert!(
            found[0]
                .failure
                .message
                .starts_with("The job running on runner")
        );
    }

    #[test]
    fn each_category() {
        for (line, kind) in [
            (
                "c++: fatal error: Killed signal terminated program cc1plus",
                Kind::Oom,
            ),
            (
                "error: process didn't exit successfully: `target/debug/x` (signal: 9, SIGKILL: kill)",
                Kind::Oom,
            ),
            (
                "fatal: unable to access 'https://github.com/a/b/': Could not resolve host: github.com",
                Kind::Network,
            ),
            (
                "Get \"https://proxy.golang.org/x/@v/list\": net/http: TLS handshake timeout",
                Kind::Network,
            ),
            (
                "curl: (22) The requested URL returned error: 503",
                Kind::Network,
            ),
            (
                "write /var/lib/docker/tmp/x: no space left on device",
                Kind::Infra,
            ),
            (
                "System.IO.IOException: No space left on device",
                Kind::Infra,
            ),
            (
                "##[error]The version '3.6' with architecture 'x64' was not found for Ubuntu 24.04.",
                Kind::Config,
            ),
            (
                "##[error]Unable to resolve action `actions/setup-node@v9`, unable to find version `v9`",
                Kind::Config,
            ),
            (
                "##[error]The runner has received a shutdown signal. This can happen when the runner service is stopped",
                Kind::Infra,
            ),
        ] {
            let found = parse(&step(line, Some(1)));
            let got = found.first().map_or(Kind::Unknown, |f| f.failure.kind);
            assert_eq!(got, kind, "{line}");
        }
    }

    #[test]
    fn connection_errors_printed_by_failing_tests_are_not_network_failures() {
        let s = step(
            "test_api.py::test_fetch requests.exceptions.ConnectionError: Connection reset by peer\n=========================== short test summary info ============================\nFAILED tests/test_api.py::test_fetch",
            Some(1),
        );
        assert!(parse(&s).is_empty());
    }

    #[test]
    fn exit_137_alone_is_oom_and_pip_retries_are_left_to_pip() {
        assert_eq!(
            parse(&step("compiling", Some(137)))[0].failure.kind,
            Kind::Oom
        );
        let s = step(
            "WARNING: Retrying (Retry(total=4)) after connection broken by 'NewConnectionError(Failed to establish a new connection: [Errno -3] Temporary failure in name resolution)'",
            Some(1),
        );
        assert!(parse(&s).is_empty());
    }
}
