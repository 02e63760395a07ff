//! Parser for Go tools: compiler errors (`./x.go:12:5: undefined: Foo` under a `# pkg`
//! header), `go vet`, `go test` failures (plain, `-v`, subtests, gotestsum's `=== FAIL:` and
//! `-json`, which is unwrapped to its `Output` lines first), panics with goroutine stacks,
//! `gofmt -l` / `gofmt -d`, golangci-lint and staticcheck issues and `go:` module errors.
//!
//! Kinds: type mismatches (`cannot use`, `mismatched types`, argument counts) are
//! `type_error`; parse errors `syntax_error`; packages that cannot be imported
//! `import_error`; module resolution (`no required module provides package`, `missing go.sum
//! entry`) `dependency`; vet and linter findings `lint`; other compiler errors
//! `compile_error`. Summaries (`FAIL\tpkg [build failed]`, `FAIL`, `ok`) are skipped.
//!
//! One file per tool: `build` (go build, go vet and linters), `module` (`go: …` module
//! errors), `gotest` (`go test` failures and panics), `fmt` (gofmt); this file holds the
//! entry point and the patterns they share.

use std::collections::HashSet;
use std::sync::LazyLock;

use regex::Regex;

use super::Found;
use super::util::{first_changed_line, window};
use crate::logs::{Failure, Frame, Kind, StepLog};

mod build;
mod fmt;
mod gotest;
mod module;

use build::*;
use fmt::*;
use gotest::*;
use module::*;

/// Tool names this parser answers to for `--tool`.
pub const TOOLS: &[&str] = &[
    "go",
    "go-test",
    "go-vet",
    "gofmt",
    "golangci-lint",
    "staticcheck",
];

static SOURCE_ERROR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(vet: )?((?:[A-Za-z]:)?[^\s:]*\.go):(\d+)(?::(\d+))?: (.+)$").unwrap()
});
static MOD_ERROR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^((?:[A-Za-z]:)?[^\s:]*go\.(?:mod|sum|work)):(\d+)(?::(\d+))?: (.+)$").unwrap()
});
static GO_ERROR: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^go: (.+)$").unwrap());
static TYPE_MSG: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:cannot use|mismatched types|invalid operation|cannot convert|not enough arguments|too many arguments|not enough return values|too many return values|assignment mismatch|multiple-value|non-boolean|impossible type|cannot range over|invalid argument|incompatible type|cannot assign)|does not implement|\(mismatched types").unwrap()
});
static SYNTAX_MSG: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:syntax error|expected |illegal character|newline in string|string literal not terminated|rune literal not terminated|invalid character|missing return)").unwrap()
});
static IMPORT_MSG: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"could not import|is not in (?:GOROOT|std)|cannot find package|use of internal package|import cycle not allowed|no Go files in|found packages .* in ").unwrap()
});
static DEPENDENCY_MSG: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"no required module provides package|missing go\.sum entry|module .*: not found|unknown revision|invalid version|updates to go\.mod needed|checksum mismatch|SECURITY ERROR|ambiguous import|inconsistent vendoring|is not in your go\.mod|reading .*: 404|410 Gone|requires go >=|cannot find module providing package|module lookup disabled|does not contain package|go\.mod has post-v\d module path|malformed module path").unwrap()
});
static CONFIG_MSG: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"errors parsing go\.mod|cannot find main module|unknown directive|go\.mod file indicates go|requires go >= .*running go|unknown subcommand|flag provided but not defined|GOTOOLCHAIN|invalid go version").unwrap()
});
static NETWORK_MSG: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"dial tcp|no such host|i/o timeout|TLS handshake timeout|connection refused|connection reset|server misbehaving|502 Bad Gateway|503 Service Unavailable").unwrap()
});
static VET_MSG: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:[a-z]+: )?(?:.*\bformat %|.*call has arguments but no formatting directives|.*call has possible (?:Printf )?formatting directive|.*arg list ends with redundant newline|.*call needs \d+ args? but has|conversion from .* to string yields a string of one rune|possible misuse of|suspect or:|redundant (?:or|and):|self-assignment of|unreachable code|.*composite literal uses unkeyed fields|.*passes lock by value|.*copies lock value|the cancel function|result of .* call not used|struct field tag|.*should have signature|comparison of function|.*possible nil pointer dereference|loop variable .* captured by func literal|using .* before checking for errors|.*Errorf format)").unwrap()
});
static VET_ANALYZER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(asmdecl|assign|atomic|bools|buildtag|cgocall|composites|copylocks|directive|errorsas|framepointer|httpresponse|ifaceassert|loopclosure|lostcancel|nilfunc|printf|shift|sigchanyzer|slog|stdmethods|stringintconv|structtag|testinggoroutine|tests|timeformat|unmarshal|unreachable|unsafeptr|unusedresult|appends|defers|stdversion|waitgroup|hostport): ").unwrap()
});
static LINTER_SUFFIX: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r" \(([A-Za-z][A-Za-z0-9_-]*)\)$").unwrap());
static STATICCHECK_CODE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(?:SA|S|ST|QF|U)\d{4}$").unwrap());
static UNDEFINED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^undefined: (\S+)|^\S+\.(\w+) undefined \(|^(?:declared and not used|declared but not used): (\w+)|^(\w+) declared (?:and|but) not used|^\x22([^\x22]+)\x22 imported (?:and|but) not used|^imported and not used: \x22([^\x22]+)\x22|package ([^\s;]+)|could not import (\S+)|no field or method (\w+)").unwrap()
});
static TEST_EVENT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\s*(?:=== (RUN|CONT|NAME|PAUSE) +(\S+)|--- (FAIL|PASS|SKIP): (\S+) \(|=== FAIL: \S+ (\S+) \()").unwrap()
});
static TEST_LOG: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\s+([^\s:]+\.go):(\d+): ?(.*)$").unwrap());
static PANIC: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(panic: .+?|fatal error: .+?)(?: \[recovered(?:, repanicked)?\])?$").unwrap()
});
static GOROUTINE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^goroutine \d+ \[[^\]]+\]:$").unwrap());
static FRAME_FUNC: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:created by )?(\S+?)(?:\([^()]*\))?(?: in goroutine \d+)?$").unwrap()
});
static FRAME_AT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\s+(\S.*?\.(?:go|s)):(\d+)(?: \+0x[0-9a-f]+)?$").unwrap());
static TEST_FUNC: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\.((?:Test|Example|Fuzz)\w*)$").unwrap());
static GO_FILE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(?:[\w.@+-]+/)*[\w.@+-]+\.go$").unwrap());
static DIFF_HEADER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^diff(?: -u)? (?:\S+\.orig|a/\S+) (?:b/)?(\S+\.go)$").unwrap());
static RUNNING_TEST: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\s+((?:Test|Example|Fuzz)\S*) \(").unwrap());

/// Failures in `step`, with where each starts.
pub fn parse(step: &StepLog) -> Vec<Found> {
    let step = &*super::generic::unmarked(step);
    let (lines, origin) = unwrap_json(&step.lines);
    let cmds = step.commands.join("\n");
    let mut out = source_errors(&lines, &cmds);
    out.extend(module_errors(&lines));
    let panics = panics(&lines);
    out.extend(test_failures(&lines, &panics));
    out.extend(panics);
    out.extend(format_findings(&lines, &cmds));
    for f in &mut out {
        f.at = origin[f.at];
    }
    out
}

/// `go test -json` events replaced by their `Output` lines (other lines kept), with the
/// index of the log line each came from.
fn unwrap_json(lines: &[String]) -> (Vec<String>, Vec<usize>) {
    let mut text = Vec::with_capacity(lines.len());
    let mut origin = Vec::with_capacity(lines.len());
    for (i, line) in lines.iter().enumerate() {
        if !(line.starts_with('{') && line.contains("\"Action\"")) {
            text.push(line.clone());
            origin.push(i);
            continue;
        }
        let Ok(event) = serde_json::from_str::<serde_json::Value>(line) else {
            text.push(line.clone());
            origin.push(i);
            continue;
        };
        if let Some(output) = event.get("Output").and_then(|o| o.as_str()) {
            for part in output.trim_end_matches('\n').split('\n') {
                text.push(part.trim_end_matches('\r').to_string());
                origin.push(i);
            }
        }
    }
    (text, origin)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str, cmd: &str) -> Vec<Failure> {
        crate::logs::parse::corpus::failures_of(parse, text, cmd)
    }

    #[test]
    fn corpus_cases_match_expectations() {
        crate::logs::parse::corpus::assert_cases(&["go-"], 10);
    }

    #[test]
    fn newer_vet_output_names_the_analyzer() {
        let f = &found(
            "# example.com/app\n./main.go:8:2: printf: fmt.Printf format %d has arg s of wrong type string\n",
            "go vet ./...",
        )[0];
        assert_eq!(
            (f.tool.as_str(), f.kind, f.symbol.as_deref()),
            ("go-vet", Kind::Lint, Some("printf"))
        );
        assert_eq!(
            (f.file.as_deref(), f.line, f.column),
            (Some("./main.go"), Some(8), Some(2))
        );
    }

    #[test]
    fn newer_unused_variable_wording() {
        let f = &found(
            "# example.com/app\n./main.go:5:2: declared and not used: x\n",
            "go build ./...",
        )[0];
        assert_eq!(
            (f.kind, f.symbol.as_deref()),
            (Kind::CompileError, Some("x"))
        );
    }

    #[test]
    fn golangci_lint_issue_with_source_and_caret() {
        let text = "main.go:10:12: Error return value of `f.Close` is not checked (errcheck)\n\tdefer f.Close()\n\t           ^\n1 issues:\n* errcheck: 1\n";
        let f = &found(text, "golangci-lint run")[0];
        assert_eq!(
            (f.tool.as_str(), f.kind, f.symbol.as_deref()),
            ("golangci-lint", Kind::Lint, Some("errcheck"))
        );
        assert!(f.excerpt.contains("defer f.Close()"));
    }

    #[test]
    fn plain_subtest_output_reports_the_leaf() {
        let text = "--- FAIL: TestParse (0.00s)\n    --- FAIL: TestParse/empty (0.00s)\n        parse_test.go:20: got err EOF\nFAIL\nFAIL\texample.com/app/parse\t0.002s\n";
        let all = found(text, "go test ./...");
        assert_eq!(all.len(), 1, "{all:?}");
        assert_eq!(
            (all[0].test.as_deref(), all[0].line),
            (Some("TestParse/empty"), Some(20))
        );
        assert_eq!(
            all[0].file.as_deref(),
            Some("example.com/app/parse/parse_test.go")
        );
    }

    #[test]
    fn testify_assertion_message() {
        let text = "--- FAIL: TestSum (0.00s)\n    sum_test.go:12: \n        \tError Trace:\t/home/runner/work/a/a/sum_test.go:12\n        \tError:      \tNot equal: \n        \t            \texpected: 4\n        \t            \tactual  : 3\n        \tTest:       \tTestSum\nFAIL\nFAIL\texample.com/a\t0.01s\n";
        let f = &found(text, "go test ./...")[0];
        assert_eq!((f.line, f.test.as_deref()), (Some(12), Some("TestSum")));
        assert_eq!(f.message, "Error: Not equal:; expected: 4; actual: 3");
    }

    #[test]
    fn hosted_module_paths_become_repo_folders() {
        assert_eq!(
            package_dir("github.com/acme/app/internal/calc"),
            "internal/calc"
        );
        assert_eq!(package_dir("github.com/acme/app/v2/calc"), "calc");
        assert_eq!(package_dir("github.com/acme/app"), "");
        assert_eq!(package_dir("example.com/app/calc"), "example.com/app/calc");
    }

    #[test]
    fn gotestsum_failure_block() {
        let text = "=== FAIL: calc TestAdd (0.00s)\n    calc_test.go:9: Add(1, 1) = 3\n\nDONE 4 tests, 1 failure in 0.712s\n";
        let f = &found(text, "gotestsum -- ./...")[0];
        assert_eq!(
            (f.test.as_deref(), f.file.as_deref(), f.line),
            (Some("TestAdd"), Some("calc_test.go"), Some(9))
        );
    }

    #[test]
    fn test_timeout_names_the_running_test() {
        let text = "panic: test timed out after 2s\nrunning tests:\n\tTestSlow (2s)\n\ngoroutine 33 [running]:\ntesting.(*M).startAlarm.func1()\n\t/usr/local/go/src/testing/testing.go:2366 +0x265\n";
        let f = &found(text, "go test -timeout 2s ./...")[0];
        assert_eq!(
            (f.kind, f.test.as_deref()),
            (Kind::Timeout, Some("TestSlow"))
        );
    }

    #[test]
    fn module_proxy_unreachable_is_network() {
        let text = "go: github.com/google/uuid@v1.6.0: Get \"https://proxy.golang.org/github.com/google/uuid/@v/v1.6.0.mod\": dial tcp: lookup proxy.golang.org: no such host\n";
        let f = &found(text, "go mod download")[0];
        assert_eq!(f.kind, Kind::Network);
    }

    #[test]
    fn go_mod_parse_error_is_config() {
        let text = "go: errors parsing go.mod:\n/home/runner/work/a/a/go.mod:5: unknown directive: requir\n";
        let all = found(text, "go build ./...");
        assert!(
            all.iter()
                .any(|f| f.kind == Kind::Config && f.line == Some(5)),
            "{all:?}"
        );
    }

    #[test]
    fn gofmt_file_list_only_counts_in_fmt_steps() {
        assert!(found("main.go\n", "go build ./...").is_empty());
        assert_eq!(found("main.go\n", "gofmt -l .")[0].kind, Kind::Format);
    }
}
