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

use std::collections::HashSet;
use std::sync::LazyLock;

use regex::Regex;

use super::Found;
use super::util::{first_changed_line, window};
use crate::logs::{Failure, Frame, Kind, StepLog};

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

/// Compiler, vet and linter diagnostics: `file.go:line[:col]: message` at column 0.
fn source_errors(lines: &[String], cmds: &str) -> Vec<Found> {
    let linter_run = if cmds.contains("golangci-lint") {
        Some("golangci-lint")
    } else if cmds.contains("staticcheck") {
        Some("staticcheck")
    } else {
        None
    };
    let vet_run = cmds.contains("go vet");
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let Some(c) = SOURCE_ERROR.captures(line) else {
            continue;
        };
        let message = c[5].trim();
        if message.starts_with("warning:") || message == "too many errors" {
            continue;
        }
        let from_vet = c.get(1).is_some() || vet_run;
        let (tool, kind, symbol) = classify(message, from_vet, linter_run);
        let mut failure = Failure::new(tool, kind, line.trim()).at(
            c[2].to_string(),
            c[3].parse().ok(),
            c.get(4).and_then(|m| m.as_str().parse().ok()),
        );
        failure.symbol = symbol;
        let after = continuation(lines, i);
        out.push(Found {
            at: i,
            failure: failure.with_excerpt(&window(lines, i, 1, after)),
        });
    }
    out
}

/// How many indented lines (`have`/`want`, source and caret) follow a diagnostic.
fn continuation(lines: &[String], at: usize) -> usize {
    lines[at + 1..]
        .iter()
        .take(6)
        .take_while(|l| l.starts_with('\t') || l.starts_with("  ") && !TEST_LOG.is_match(l))
        .count()
}

/// Tool, kind and symbol of one `file.go:l:c: message` diagnostic.
fn classify(
    message: &str,
    from_vet: bool,
    linter_run: Option<&'static str>,
) -> (&'static str, Kind, Option<String>) {
    let linter = LINTER_SUFFIX.captures(message).map(|c| c[1].to_string());
    if let Some(name) = linter.filter(|n| linter_run.is_some() || known_linter(n)) {
        let kind = if name == "typecheck" {
            compile_kind(message)
        } else {
            Kind::Lint
        };
        let symbol = if kind == Kind::Lint {
            Some(name.clone())
        } else {
            undefined_name(message)
        };
        let tool = match linter_run {
            Some(t) => t,
            None if STATICCHECK_CODE.is_match(&name) => "staticcheck",
            None => "golangci-lint",
        };
        return (tool, kind, symbol);
    }
    if let Some(c) = VET_ANALYZER.captures(message) {
        return ("go-vet", Kind::Lint, Some(c[1].to_string()));
    }
    let kind = compile_kind(message);
    if (from_vet || VET_MSG.is_match(message)) && kind == Kind::CompileError {
        return ("go-vet", Kind::Lint, None);
    }
    let tool = if from_vet { "go-vet" } else { "go" };
    (tool, kind, undefined_name(message))
}

/// The kind of a compiler message.
fn compile_kind(message: &str) -> Kind {
    if SYNTAX_MSG.is_match(message) {
        Kind::SyntaxError
    } else if TYPE_MSG.is_match(message) {
        Kind::TypeError
    } else if DEPENDENCY_MSG.is_match(message) {
        Kind::Dependency
    } else if IMPORT_MSG.is_match(message) {
        Kind::ImportError
    } else {
        Kind::CompileError
    }
}

/// Linters golangci-lint prints as a `(name)` suffix.
fn known_linter(name: &str) -> bool {
    const LINTERS: &[&str] = &[
        "errcheck",
        "govet",
        "staticcheck",
        "unused",
        "gosimple",
        "ineffassign",
        "typecheck",
        "revive",
        "gocritic",
        "gosec",
        "misspell",
        "goimports",
        "gofmt",
        "gofumpt",
        "stylecheck",
        "unparam",
        "prealloc",
        "bodyclose",
        "dupl",
        "goconst",
        "gocyclo",
        "lll",
        "nakedret",
        "noctx",
        "errorlint",
        "exhaustive",
        "nilerr",
        "whitespace",
        "wrapcheck",
        "unconvert",
        "godot",
        "forcetypeassert",
        "contextcheck",
        "copyloopvar",
        "intrange",
        "perfsprint",
        "usestdlibvars",
        "testifylint",
        "thelper",
        "paralleltest",
        "tparallel",
        "mnd",
        "funlen",
        "gocognit",
        "cyclop",
        "nestif",
        "nolintlint",
        "errname",
        "predeclared",
        "asciicheck",
    ];
    LINTERS.contains(&name) || STATICCHECK_CODE.is_match(name)
}

/// The name a compiler message is about (undefined names, unused imports, packages).
fn undefined_name(message: &str) -> Option<String> {
    let c = UNDEFINED.captures(message)?;
    (1..c.len())
        .find_map(|g| c.get(g))
        .map(|m| m.as_str().trim_end_matches(';').to_string())
}

/// `go:` errors about modules and go.mod, and `go.mod:line:` parse errors.
fn module_errors(lines: &[String]) -> Vec<Found> {
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let failure = if let Some(c) = MOD_ERROR.captures(line) {
            let kind = if DEPENDENCY_MSG.is_match(&c[4]) {
                Kind::Dependency
            } else {
                Kind::Config
            };
            Failure::new("go", kind, line.trim()).at(
                c[1].to_string(),
                c[2].parse().ok(),
                c.get(3).and_then(|m| m.as_str().parse().ok()),
            )
        } else if let Some(c) = GO_ERROR.captures(line) {
            let Some(kind) = go_error_kind(&c[1], lines.get(i + 1)) else {
                continue;
            };
            let mut failure = Failure::new("go", kind, line.trim());
            failure.symbol = module_named(&c[1]);
            if kind != Kind::Network {
                failure = failure.at("go.mod", None, None);
            }
            failure
        } else {
            continue;
        };
        out.push(Found {
            at: i,
            failure: failure.with_excerpt(&window(lines, i, 0, 3)),
        });
    }
    out
}

/// The kind of a `go: …` message, when it is an error.
fn go_error_kind(message: &str, next: Option<&String>) -> Option<Kind> {
    let text = format!("{message} {}", next.map_or("", |s| s.as_str()));
    if NETWORK_MSG.is_match(&text) {
        Some(Kind::Network)
    } else if CONFIG_MSG.is_match(message) {
        Some(Kind::Config)
    } else if DEPENDENCY_MSG.is_match(message) {
        Some(Kind::Dependency)
    } else {
        None
    }
}

/// The module or package path a `go:` message names first (`go: github.com/x/y@v1: …`).
fn module_named(message: &str) -> Option<String> {
    static MODULE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?:^|module |package )([a-z0-9.-]+\.[a-z]{2,}/[^\s@:;]+)").unwrap()
    });
    MODULE.captures(message).map(|c| c[1].to_string())
}

/// One failing test's own log line (`    x_test.go:12: got 3 want 4`).
struct TestLog {
    at: usize,
    file: String,
    line: Option<u32>,
    message: String,
}

/// `--- FAIL: TestX` failures located by the test's own `file.go:line:` log lines,
/// whether printed after the FAIL line (plain) or before it (`-v`, `=== RUN`/`=== NAME`).
fn test_failures(lines: &[String], panics: &[Found]) -> Vec<Found> {
    let mut current: Option<String> = None;
    let mut logs: Vec<(String, TestLog)> = Vec::new();
    let mut failed: Vec<(usize, String)> = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if let Some(c) = TEST_EVENT.captures(line) {
            let name = c
                .get(2)
                .or(c.get(4))
                .or(c.get(5))
                .map(|m| m.as_str().to_string());
            if c.get(3).is_some_and(|m| m.as_str() == "FAIL") || c.get(5).is_some() {
                failed.push((i, name.clone().unwrap_or_default()));
            }
            current = name;
        } else if let (Some(test), Some(c)) = (&current, TEST_LOG.captures(line)) {
            let log = TestLog {
                at: i,
                file: c[1].to_string(),
                line: c[2].parse().ok(),
                message: c[3].trim().to_string(),
            };
            logs.push((test.clone(), log));
        } else if !line.starts_with([' ', '\t']) && !line.is_empty() {
            current = None;
        }
    }
    let panicked: HashSet<&str> = panics
        .iter()
        .filter_map(|p| p.failure.test.as_deref())
        .collect();
    let names: Vec<&str> = failed.iter().map(|(_, n)| n.as_str()).collect();
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for (at, name) in &failed {
        let parent = names.iter().any(|n| {
            n.len() > name.len() && n.starts_with(name.as_str()) && n[name.len()..].starts_with('/')
        });
        if parent || panicked.contains(name.as_str()) || !seen.insert(name.clone()) {
            continue;
        }
        out.push(test_found(
            lines,
            *at,
            name,
            logs.iter().find(|(t, _)| t == name).map(|(_, l)| l),
        ));
    }
    out
}

/// The failure for test `name` whose `--- FAIL` is at `at`, located by its first log line.
fn test_found(lines: &[String], at: usize, name: &str, log: Option<&TestLog>) -> Found {
    let Some(log) = log else {
        let failure = Failure::new("go-test", Kind::TestFailure, lines[at].trim());
        let mut failure = failure.with_excerpt(&window(lines, at, 0, 3));
        failure.test = Some(name.to_string());
        return Found { at, failure };
    };
    let message = if log.message.is_empty() {
        testify_error(lines, log.at).unwrap_or_else(|| lines[at].trim().to_string())
    } else {
        log.message.clone()
    };
    let file = match package_after(lines, at).map(|p| package_dir(&p)) {
        Some(dir) if !log.file.contains('/') && !dir.is_empty() => format!("{dir}/{}", log.file),
        _ => log.file.clone(),
    };
    let mut failure = Failure::new("go-test", Kind::TestFailure, message)
        .at(file, log.line, None)
        .with_excerpt(&window(lines, log.at, 1, 4));
    failure.test = Some(name.to_string());
    Found {
        at: log.at,
        failure,
    }
}

/// testify's block under an empty log line: `Error:  Not equal:` and the expected/actual
/// lines after it, joined.
fn testify_error(lines: &[String], at: usize) -> Option<String> {
    static FIELD: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"^\s+(Error|expected|actual)\s*:\s*(.*)$").unwrap());
    let parts: Vec<String> = lines[at + 1..]
        .iter()
        .take(12)
        .take_while(|l| l.starts_with([' ', '\t']) && !TEST_EVENT.is_match(l))
        .filter_map(|l| FIELD.captures(l))
        .map(|c| format!("{}: {}", &c[1], c[2].trim()))
        .collect();
    (!parts.is_empty()).then(|| parts.join("; "))
}

/// The folder of package `import_path` in its repository, when the module is hosted where
/// the module path is `host/owner/repo[/vN]` (GitHub, GitLab, …): `github.com/acme/app/calc`
/// is `calc`. Other import paths are kept whole; with the checkout at hand, triage maps them
/// by their longest existing tail.
fn package_dir(import_path: &str) -> String {
    const HOSTS: &[&str] = &[
        "github.com/",
        "gitlab.com/",
        "bitbucket.org/",
        "codeberg.org/",
    ];
    if !HOSTS.iter().any(|h| import_path.starts_with(h)) {
        return import_path.to_string();
    }
    let mut parts = import_path.split('/').skip(3).peekable();
    let major = parts.peek().is_some_and(|p| {
        p.len() > 1 && p.starts_with('v') && p[1..].chars().all(|c| c.is_ascii_digit())
    });
    if major {
        parts.next();
    }
    parts.collect::<Vec<_>>().join("/")
}

/// The import path of the package a test belongs to: the `FAIL\tpkg\t0.01s` (or `ok`)
/// line after it. Go prints only the test file's base name, so the failure's file becomes
/// `<import path>/<base name>`, whose tail is the repo path (see `paths::to_repo_relative`).
fn package_after(lines: &[String], at: usize) -> Option<String> {
    static RESULT: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"^(?:FAIL|ok)\s+(\S+)\s+(?:[\d.]+s|\(cached\)|\[)").unwrap());
    lines[at..]
        .iter()
        .take(400)
        .find_map(|l| RESULT.captures(l))
        .map(|c| c[1].to_string())
}

/// `panic:` / `fatal error:` with a goroutine stack: located at the innermost frame of the
/// project's own code (not the Go root, not the module cache).
fn panics(lines: &[String]) -> Vec<Found> {
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let Some(c) = PANIC.captures(line) else {
            continue;
        };
        let Some(start) =
            (i + 1..(i + 8).min(lines.len())).find(|&j| GOROUTINE.is_match(&lines[j]))
        else {
            continue;
        };
        let mut frames = goroutine_frames(lines, start + 1);
        if c[1].starts_with("panic: test timed out") {
            frames = test_goroutine(lines, start + 1).unwrap_or(frames);
        }
        let mut failure = panic_failure(lines, i, &c[1], &frames);
        failure.excerpt = window(lines, i, 1, 12).join("\n");
        out.push(Found { at: i, failure });
    }
    out
}

/// After a test timeout, the frames of the goroutine running the test (the first goroutine
/// is the timer's): where the test was stuck.
fn test_goroutine(lines: &[String], from: usize) -> Option<Vec<Frame>> {
    for (j, l) in lines.iter().enumerate().skip(from).take(2000) {
        if l.starts_with("FAIL") || l.starts_with("exit status") || l.starts_with("ok ") {
            break;
        }
        if !GOROUTINE.is_match(l) {
            continue;
        }
        let frames = goroutine_frames(lines, j + 1);
        let has_test = frames
            .iter()
            .any(|f| f.function.as_deref().is_some_and(|n| TEST_FUNC.is_match(n)));
        if has_test {
            return Some(frames);
        }
    }
    None
}

/// The failure for a panic whose first goroutine has `frames` (innermost first, all of them).
fn panic_failure(lines: &[String], at: usize, message: &str, frames: &[Frame]) -> Failure {
    let goroots = goroots(frames);
    let own: Vec<&Frame> = frames.iter().filter(|f| is_own(f, &goroots)).collect();
    let test = panicking_test(lines, at, frames);
    let timeout = message.starts_with("panic: test timed out");
    let (tool, kind) = match (&test, timeout) {
        (_, true) => ("go-test", Kind::Timeout),
        (Some(_), false) => ("go-test", Kind::TestFailure),
        (None, false) => ("go", Kind::Unknown),
    };
    let mut failure = Failure::new(tool, kind, message);
    if let Some(f) = own.first() {
        failure = failure.at(f.file.clone(), f.line, None);
    }
    failure.frames = own.iter().rev().map(|f| (*f).clone()).collect();
    failure.test = test;
    failure
}

/// Frames of the goroutine stack starting at `from`: function line, then a tab-indented
/// `file:line +0x…` line; innermost first as Go prints them.
fn goroutine_frames(lines: &[String], from: usize) -> Vec<Frame> {
    let mut frames = Vec::new();
    let mut function: Option<String> = None;
    for l in lines.iter().skip(from).take(200) {
        if let Some(c) = FRAME_AT.captures(l) {
            frames.push(Frame {
                file: c[1].to_string(),
                line: c[2].parse().ok(),
                function: function.take(),
            });
        } else if l.trim().is_empty()
            || l.starts_with("goroutine ")
            || l.starts_with("FAIL")
            || l.starts_with("exit status")
        {
            break;
        } else if let Some(c) = FRAME_FUNC.captures(l) {
            function = Some(c[1].to_string());
        }
    }
    frames
}

/// Go root folders seen in the stack (`…/src/` above `runtime.*` and `testing.*` frames).
fn goroots(frames: &[Frame]) -> Vec<String> {
    let std_fn = |f: &Frame| {
        f.function.as_deref().is_some_and(|n| {
            n.starts_with("runtime.") || n.starts_with("testing.") || n.starts_with("panic(")
        })
    };
    let mut roots: Vec<String> = frames
        .iter()
        .filter(|f| std_fn(f))
        .filter_map(|f| f.file.find("/src/").map(|k| f.file[..k + 5].to_string()))
        .collect();
    roots.dedup();
    roots
}

/// False for the Go root, the module cache and generated `<autogenerated>` frames.
fn is_own(frame: &Frame, goroots: &[String]) -> bool {
    let f = frame.file.as_str();
    !(goroots.iter().any(|r| f.starts_with(r.as_str()))
        || f.contains("/pkg/mod/")
        || f.starts_with('<')
        || f.contains("/usr/local/go/src/")
        || f.contains("/hostedtoolcache/go/")
        || f.contains("/usr/lib/go")
        || frame
            .function
            .as_deref()
            .is_some_and(|n| n.starts_with("runtime.") || n.starts_with("testing.")))
}

/// The test a panic happened in: the `--- FAIL:` just above, a `Test…` frame, or the
/// `running tests:` list of a timeout.
fn panicking_test(lines: &[String], at: usize, frames: &[Frame]) -> Option<String> {
    let above = lines[at.saturating_sub(3)..at].iter().rev().find_map(|l| {
        TEST_EVENT
            .captures(l)
            .filter(|c| c.get(3).is_some_and(|m| m.as_str() == "FAIL"))
            .map(|c| c[4].to_string())
    });
    let from_frame = || {
        frames.iter().find_map(|f| {
            f.function
                .as_deref()
                .and_then(|n| TEST_FUNC.captures(n))
                .map(|c| c[1].to_string())
        })
    };
    let running = || {
        lines
            .iter()
            .skip(at + 1)
            .take(4)
            .find_map(|l| RUNNING_TEST.captures(l))
            .map(|c| c[1].to_string())
    };
    above.or_else(from_frame).or_else(running)
}

/// `gofmt -l` file lists (in a step that runs gofmt/goimports) and `gofmt -d` diffs.
fn format_findings(lines: &[String], cmds: &str) -> Vec<Found> {
    let mut out = format_diffs(lines);
    let fmt_run = ["gofmt", "goimports", "go fmt", "gofumpt"]
        .iter()
        .any(|t| cmds.contains(t));
    if fmt_run {
        let diffed: HashSet<String> = out.iter().filter_map(|f| f.failure.file.clone()).collect();
        for (i, line) in lines.iter().enumerate() {
            let name = line.trim();
            if GO_FILE.is_match(name) && !diffed.contains(name) {
                let failure =
                    Failure::new("gofmt", Kind::Format, format!("{name} is not gofmt-ed"))
                        .at(name.trim_start_matches("./"), None, None)
                        .with_excerpt(std::slice::from_ref(line));
                out.push(Found { at: i, failure });
            }
        }
    }
    out
}

/// `diff x.go.orig x.go` blocks: reported at the first changed line of the first hunk.
fn format_diffs(lines: &[String]) -> Vec<Found> {
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let Some(c) = DIFF_HEADER.captures(line) else {
            continue;
        };
        let Some(first) = first_changed_line(lines, i) else {
            continue;
        };
        let failure = Failure::new("gofmt", Kind::Format, line.trim())
            .at(c[1].trim_start_matches("./"), Some(first), None)
            .with_excerpt(&window(lines, i, 0, 10));
        out.push(Found { at: i, failure });
    }
    out
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
