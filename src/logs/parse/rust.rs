//! Parser for Rust tools: rustc diagnostics in cargo's human format (with clippy lints and
//! `-D warnings`), cargo's own errors (dependency resolution, manifests, lock files),
//! rustfmt's `--check` diffs, and test failures from `cargo test` and `cargo nextest`
//! (panics old and new style, doc-tests, the `failures:` list).
//!
//! Kinds, decided once here: errors whose code is in [`TYPE_ERRORS`] (mismatched types,
//! unsatisfied trait bounds, wrong argument counts, …) are `type_error`; unresolved imports
//! and missing crates are `import_error`; parse errors are `syntax_error`; errors that a lint
//! level turned into errors (`-D warnings`, `#[deny]`, deny-by-default) are `lint`; every
//! other rustc error (unresolved names, borrow errors, …) is `compile_error`. Summaries such
//! as ``could not compile `x` `` or `test failed, to rerun pass` are never reported: the
//! errors above them are the root causes.
//!
//! One file per tool: `rustc` (rustc and clippy diagnostics, cargo's own errors), `panics`
//! (`cargo test` and nextest failures), `fmt` (rustfmt diffs); this file holds the entry
//! point and the patterns they share.

use std::collections::HashSet;
use std::sync::LazyLock;

use regex::Regex;

use super::Found;
use super::util::window;
use crate::logs::{Failure, Frame, Kind, StepLog};

mod fmt;
mod panics;
mod rustc;

use fmt::*;
use panics::*;
use rustc::*;

/// Tool names this parser answers to for `--tool`.
pub const TOOLS: &[&str] = &["cargo", "rustc", "cargo-test", "clippy", "rustfmt"];

/// rustc error codes reported as `type_error`.
pub const TYPE_ERRORS: &[&str] = &[
    "E0053", "E0061", "E0069", "E0271", "E0277", "E0282", "E0283", "E0308", "E0369", "E0600",
    "E0604", "E0605", "E0606", "E0607", "E0608", "E0614", "E0618", "E0620", "E0631",
];

/// rustc error codes reported as `import_error` (unresolved imports, crates not found).
pub const IMPORT_ERRORS: &[&str] = &["E0432", "E0463", "E0583"];

static HEADER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^error(?:\[(E\d{4})\])?: (.+)$").unwrap());
static SHORT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^((?:[A-Za-z]:)?[^\s:][^:]*?\.rs):(\d+):(\d+): error(?:\[(E\d{4})\])?: (.+)$")
        .unwrap()
});
static ANY_HEADER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(?:error|warning)(?:\[\w+\])?: ").unwrap());
static LOCATION: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\s*--> (.+?):(\d+):(\d+)\s*$").unwrap());
static SUMMARY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^(?:could not compile|could not document|aborting due to|test failed, to rerun pass|doctest failed, to rerun pass|build failed|test run failed|process didn't exit successfully|\d+ previous errors?|no tests to run|Some errors have detailed explanations|For more information about)",
    )
    .unwrap()
});
static SYNTAX: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:expected |unexpected |unterminated |mismatched closing delimiter|this file contains an unclosed delimiter|unclosed delimiter|unknown start of token|missing `|found a documentation comment|invalid suffix|prefix `)").unwrap()
});
static NAMES_A_SYMBOL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:cannot find |unresolved import|failed to resolve|no method named|no field|no function or associated item named|no variant|no associated item named|use of undeclared|use of unresolved|unknown field|struct `[^`]+` has no field named|cannot find derive macro|can't find crate for)").unwrap()
});
static BACKTICKED: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"`([^`]+)`").unwrap());
static LINT_IMPLIED: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"`-[DF] ([\w:-]+)` implied by").unwrap());
static LINT_ATTR: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"`#\[(?:deny|forbid)\(([\w:]+)\)\]`").unwrap());
static LINT_URL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"rust-clippy/\S*#([a-z0-9_]+)").unwrap());
static LINT_ALLOW: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"add `#\[allow\(([\w:]+)\)\]`").unwrap());
static CARGO_ACTIVITY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\s*(?:(?:Compiling|Checking|Documenting) \S+ v\d|Updating crates\.io index|Finished .*target\(s\) in|Running (?:unittests |tests/|`))").unwrap()
});
static CARGO_DEPENDENCY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:failed to select a version|no matching package|failed to get `|the lock file .* needs to be updated|cannot create the lock file|cyclic package dependency|package `[^`]+` cannot be built because it requires rustc|rustc [\d.]+ is not supported by the following package|failed to download|could not find `[^`]+` in |failed to load source for dependency|failed to update|failed to fetch|failed to read lock file|the package `[^`]+` depends on `[^`]+`, with features)").unwrap()
});
static CARGO_CONFIG: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:failed to parse manifest|failed to load manifest|could not find `Cargo\.toml`|unexpected argument|invalid value|manifest path .* does not exist|current package believes it's in a workspace|failed to parse lock file|unrecognized subcommand|unexpected key|invalid type|the argument .* cannot be used with|no bin target named|no example target named|no test target named|package(?:\(s\))? `[^`]+` not found in workspace|none of the selected packages contains these features|Package `[^`]+` does not have (?:the )?feature)").unwrap()
});
static CARGO_NETWORK: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)couldn't resolve host|spurious network error|failed to connect|connection refused|connection reset|timed out|ssl connect error|network failure|\[6\] couldn't resolve|failed to download from").unwrap()
});
static REQUIRED_BY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:required by|dependency of) package `[^`(]+\(([^)]+)\)`").unwrap()
});
static MANIFEST_AT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"`([^`]*(?:Cargo\.toml|Cargo\.lock))`|(\S+Cargo\.lock)").unwrap());
static CRATE_NAMED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:requirement `|named `|version for `|failed to get `|package `)([A-Za-z0-9_-]+)")
        .unwrap()
});
static PANIC: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\s*thread '([^']*)'(?: \(\d+\))? panicked at (.*)$").unwrap());
static PANIC_NEW: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^(.+?):(\d+):(\d+):$").unwrap());
static PANIC_OLD_END: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(.*)', (.+?):(\d+):(\d+)$").unwrap());
static SECTION: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^---- (.+) std(?:out|err) ----$").unwrap());
static DOCTEST: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(.+?) - .*\(line (\d+)\)(?: - compile(?: fail)?)?$").unwrap());
static FRAME: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^\s*\d+: (.+)$").unwrap());
static FRAME_AT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\s*at (.+?):(\d+)(?::\d+)?$").unwrap());
static TEST_FAILED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\s*test (.+?)(?: - should panic(?: with .*)?)? \.\.\. FAILED$").unwrap()
});
static SECTION_NOTE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^(?:note: (test did not panic as expected)(?: at (.+?):(\d+):(\d+))?|(Error: .+))$",
    )
    .unwrap()
});
static NEXTEST_FAILED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\s*(?:FAIL|SIGSEGV|SIGABRT|SIGKILL|SIGBUS|TIMEOUT|ABORT|LEAK-FAIL) \[\s*[\d.]+m?s\](?: \(\s*\d+/\d+\))? \S+ (\S+)\s*$").unwrap()
});
static CARGO_BUILDS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"\bcargo\s+(?:\+\S+\s+)?(?:build|test|check|clippy|run|doc|nextest|b|t|c|r)\b|\brustc\b",
    )
    .unwrap()
});
static DIFF_IN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^Diff in (.+?)(?::(\d+)| at line (\d+)):\s*$").unwrap());

/// Failures in `step`, with where each starts.
pub fn parse(step: &StepLog) -> Vec<Found> {
    let step = &*super::generic::unmarked(step);
    let ctx = Context::of(step);
    let lines = &step.lines;
    let mut out = diagnostics(lines, &ctx);
    let panics = panics(lines);
    out.extend(unreported_tests(lines, &panics));
    out.extend(panics);
    out.extend(format_diffs(lines, &ctx));
    if out.iter().any(|f| f.failure.kind != Kind::Unknown) {
        // an unrecognised `error:` line (a test's own output, say) is no root cause when
        // a real one was found
        out.retain(|f| f.failure.kind != Kind::Unknown || f.failure.tool != "cargo");
    }
    out
}

/// What the step's commands and output say about which Rust tool ran.
#[derive(Debug, Default)]
struct Context {
    clippy: bool,
    fmt_only: bool,
    cargo: bool,
}

impl Context {
    fn of(step: &StepLog) -> Self {
        let cmds = step.commands.join("\n");
        let fmt = cmds.contains("fmt");
        Context {
            clippy: cmds.contains("clippy"),
            fmt_only: fmt && !CARGO_BUILDS.is_match(&cmds),
            cargo: cmds.contains("cargo")
                || cmds.contains("rustc")
                || step.lines.iter().any(|l| CARGO_ACTIVITY.is_match(l)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(text: &str, cmd: &str) -> StepLog {
        StepLog {
            failed: true,
            lines: text.lines().map(str::to_string).collect(),
            commands: vec![cmd.to_string()],
            ..StepLog::default()
        }
    }

    fn first(text: &str, cmd: &str) -> Failure {
        let mut found = parse(&step(text, cmd));
        found.sort_by_key(|f| f.at);
        found.into_iter().next().expect("a failure").failure
    }

    #[test]
    fn corpus_cases_match_expectations() {
        crate::logs::parse::corpus::assert_cases(&["rust-"], 10);
    }

    #[test]
    fn coded_error_takes_location_from_arrow_line() {
        let f = first(
            "error[E0425]: cannot find value `x` in this scope\n  --> src/main.rs:3:13\n   |\n3  |     let y = x;\n",
            "cargo build",
        );
        assert_eq!((f.tool.as_str(), f.kind), ("rustc", Kind::CompileError));
        assert_eq!(
            (f.file.as_deref(), f.line, f.column),
            (Some("src/main.rs"), Some(3), Some(13))
        );
        assert_eq!(f.symbol.as_deref(), Some("x"));
        assert_eq!(
            f.message,
            "error[E0425]: cannot find value `x` in this scope"
        );
    }

    #[test]
    fn short_message_format() {
        let f = first(
            "src/config.rs:5:23: error[E0308]: mismatched types: expected `u16`, found `String`\nerror: could not compile `app` (bin \"app\") due to 1 previous error\n",
            "cargo build --message-format=short",
        );
        assert_eq!(
            (f.kind, f.file.as_deref(), f.line, f.column),
            (Kind::TypeError, Some("src/config.rs"), Some(5), Some(23))
        );
    }

    #[test]
    fn error_in_a_registry_crate_is_a_dependency_failure() {
        let f = first(
            "error[E0658]: use of unstable library feature\n   --> /home/runner/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/foo-1.2.0/src/lib.rs:10:5\n",
            "cargo build",
        );
        assert_eq!(f.kind, Kind::Dependency);
    }

    #[test]
    fn test_output_error_lines_do_not_hide_the_panic() {
        let text = "running 1 test\ntest tests::connects ... FAILED\n\nfailures:\n\n---- tests::connects stdout ----\nerror: connection refused\n\nthread 'tests::connects' panicked at src/net.rs:40:9:\nboom\n";
        let found = parse(&step(text, "cargo test"));
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].failure.line, Some(40));
    }

    #[test]
    fn summaries_and_warnings_are_not_failures() {
        let text = "warning: unused variable: `a`\n --> src/lib.rs:1:5\n\nerror: could not compile `app` (lib) due to 1 previous error\nerror: aborting due to 2 previous errors\n";
        assert!(parse(&step(text, "cargo build")).is_empty());
    }

    #[test]
    fn deny_attribute_makes_a_lint() {
        let text = "error: unused variable: `x`\n --> src/lib.rs:4:9\n  |\nnote: the lint level is defined here\n --> src/lib.rs:1:9\n  |\n1 | #![deny(warnings)]\n  |         ^^^^^^^^\n  = note: `#[deny(unused_variables)]` implied by `#[deny(warnings)]`\n";
        let f = first(text, "cargo build");
        assert_eq!(
            (f.kind, f.symbol.as_deref(), f.line),
            (Kind::Lint, Some("unused_variables"), Some(4))
        );
    }

    #[test]
    fn old_style_single_line_panic() {
        let text = "running 1 test\ntest tests::it_adds ... FAILED\n\nfailures:\n\n---- tests::it_adds stdout ----\nthread 'tests::it_adds' panicked at 'boom', src/lib.rs:12:5\nnote: run with `RUST_BACKTRACE=1` environment variable to display a backtrace\n\n\nfailures:\n    tests::it_adds\n\ntest result: FAILED. 0 passed; 1 failed\n";
        let found = parse(&step(text, "cargo test"));
        assert_eq!(found.len(), 1, "{found:?}");
        let f = &found[0].failure;
        assert_eq!(
            (f.file.as_deref(), f.line, f.message.as_str()),
            (Some("src/lib.rs"), Some(12), "boom")
        );
        assert_eq!(f.test.as_deref(), Some("tests::it_adds"));
    }

    #[test]
    fn old_style_multi_line_assert_eq() {
        let text = "---- tests::eq stdout ----\nthread 'tests::eq' panicked at 'assertion failed: `(left == right)`\n  left: `4`,\n right: `5`', src/lib.rs:13:9\n";
        let f = first(text, "cargo test");
        assert_eq!((f.file.as_deref(), f.line), (Some("src/lib.rs"), Some(13)));
        assert!(
            f.message
                .starts_with("assertion failed: `(left == right)`; left: `4`"),
            "{}",
            f.message
        );
    }

    #[test]
    fn panic_in_std_falls_back_to_innermost_own_frame() {
        let text = "thread 'main' panicked at /rustc/abc/library/core/src/option.rs:2000:5:\nboom\nstack backtrace:\n   0: core::panicking::panic\n             at /rustc/abc/library/core/src/panicking.rs:1:1\n   1: app::run\n             at ./src/run.rs:7:3\n   2: app::main\n             at ./src/main.rs:2:5\n";
        let f = first(text, "cargo run");
        assert_eq!((f.tool.as_str(), f.kind), ("cargo", Kind::Unknown));
        assert_eq!((f.file.as_deref(), f.line), (Some("src/run.rs"), Some(7)));
        assert_eq!(
            f.frames.first().map(|fr| fr.file.as_str()),
            Some("src/main.rs")
        );
    }

    #[test]
    fn test_without_panic_is_reported_from_failures_list() {
        let text = "running 1 test\ntest tests::returns_err ... FAILED\n\nfailures:\n\n---- tests::returns_err stdout ----\nError: \"bad\"\n\nfailures:\n    tests::returns_err\n\ntest result: FAILED.\n";
        let found = parse(&step(text, "cargo test"));
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].failure.test.as_deref(), Some("tests::returns_err"));
    }

    #[test]
    fn older_rustfmt_diff_header() {
        let text = "Diff in /home/runner/work/a/a/src/lib.rs at line 1:\n-fn  f() {}\n+fn f() {}\n";
        let f = first(text, "cargo fmt -- --check");
        assert_eq!((f.kind, f.line), (Kind::Format, Some(1)));
        assert_eq!(f.file.as_deref(), Some("/home/runner/work/a/a/src/lib.rs"));
    }

    #[test]
    fn no_matching_package_is_a_dependency_failure() {
        let text = "    Updating crates.io index\nerror: no matching package named `serdee` found\nlocation searched: registry `crates-io`\nrequired by package `app v0.1.0 (/home/runner/work/app/app)`\n";
        let f = first(text, "cargo build");
        assert_eq!(
            (f.tool.as_str(), f.kind, f.symbol.as_deref()),
            ("cargo", Kind::Dependency, Some("serdee"))
        );
        assert_eq!(
            f.file.as_deref(),
            Some("/home/runner/work/app/app/Cargo.toml")
        );
    }

    #[test]
    fn registry_unreachable_is_network() {
        let text = "error: failed to get `serde` as a dependency of package `app v0.1.0 (/w/app)`\n\nCaused by:\n  download of config.json failed\n\nCaused by:\n  [6] Couldn't resolve host name (Could not resolve host: index.crates.io)\n";
        let f = first(text, "cargo build");
        assert_eq!(f.kind, Kind::Network);
        assert!(!f.needs_code_change);
    }

    #[test]
    fn plain_error_lines_outside_cargo_are_ignored() {
        assert!(
            parse(&step(
                "error: pathspec 'x' did not match any file(s) known to git\n",
                "git checkout x"
            ))
            .is_empty()
        );
    }
}
