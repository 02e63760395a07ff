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

use std::collections::HashSet;
use std::sync::LazyLock;

use regex::Regex;

use super::Found;
use super::util::window;
use crate::logs::{Failure, Frame, Kind, StepLog};

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

/// The lines after a header up to the end of its block: a blank line (unless cargo's
/// `Caused by:` follows), the next diagnostic header, or 40 lines.
fn block_after(lines: &[String], at: usize) -> &[String] {
    let mut end = at + 1;
    while end < lines.len() && end - at < 40 {
        let l = &lines[end];
        if ANY_HEADER.is_match(l) || l == StepLog::GAP {
            break;
        }
        if l.trim().is_empty() {
            let next = lines.get(end + 1).map(|s| s.trim());
            if next != Some("Caused by:") {
                break;
            }
        }
        end += 1;
    }
    &lines[at + 1..end]
}

/// `error…:` headers: rustc diagnostics with a `-->` location, and cargo's own errors.
fn diagnostics(lines: &[String], ctx: &Context) -> Vec<Found> {
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if let Some(found) = short_diagnostic(line, ctx) {
            out.push(Found {
                at: i,
                failure: found.with_excerpt(std::slice::from_ref(line)),
            });
            continue;
        }
        let Some(caps) = HEADER.captures(line) else {
            continue;
        };
        let message = caps[2].trim();
        if SUMMARY.is_match(message) {
            continue;
        }
        let code = caps.get(1).map(|m| m.as_str());
        let block = block_after(lines, i);
        let header = line.trim_end();
        let found = match block.iter().take(3).find_map(|l| LOCATION.captures(l)) {
            Some(loc) => compiler_error(header, code, message, block, &loc, ctx),
            None => cargo_error(header, message, block, ctx),
        };
        if let Some(failure) = found {
            let excerpt: Vec<String> = std::iter::once(header.to_string())
                .chain(block.iter().take(14).cloned())
                .collect();
            out.push(Found {
                at: i,
                failure: failure.with_excerpt(&excerpt),
            });
        }
    }
    out
}

/// `--message-format=short`: `src/lib.rs:5:23: error[E0308]: mismatched types: …`.
fn short_diagnostic(line: &str, ctx: &Context) -> Option<Failure> {
    let c = SHORT.captures(line)?;
    let message = c[5].trim();
    if SUMMARY.is_match(message) {
        return None;
    }
    let code = c.get(4).map(|m| m.as_str());
    let header = match code {
        Some(code) => format!("error[{code}]: {message}"),
        None => format!("error: {message}"),
    };
    let arrow = format!(" --> {}:{}:{}", &c[1], &c[2], &c[3]);
    let loc = LOCATION.captures(&arrow)?;
    compiler_error(&header, code, message, &[], &loc, ctx)
}

/// A rustc (or clippy, or rustfmt parse) error located by its `-->` line.
fn compiler_error(
    header: &str,
    code: Option<&str>,
    message: &str,
    block: &[String],
    loc: &regex::Captures,
    ctx: &Context,
) -> Option<Failure> {
    let file = &loc[1];
    let rusty = file.ends_with(".rs") || file.ends_with("Cargo.toml") || ctx.cargo;
    if code.is_none() && !rusty {
        return None;
    }
    let lint = lint_name(block);
    let kind = match (&lint, code) {
        (Some(_), _) => Kind::Lint,
        (None, Some(c)) if TYPE_ERRORS.contains(&c) => Kind::TypeError,
        (None, Some(c)) if IMPORT_ERRORS.contains(&c) => Kind::ImportError,
        (None, None) if SYNTAX.is_match(message) => Kind::SyntaxError,
        // a registry crate that does not build: a version or toolchain mismatch
        _ if !is_own_path(file) => Kind::Dependency,
        _ => Kind::CompileError,
    };
    let tool = match &lint {
        Some((_, true)) => "clippy",
        Some(_) if ctx.clippy => "clippy",
        None if ctx.fmt_only => "rustfmt",
        _ => "rustc",
    };
    let mut failure = Failure::new(tool, kind, header).at(
        file.to_string(),
        loc[2].parse().ok(),
        loc[3].parse().ok(),
    );
    failure.symbol = match lint {
        Some((name, _)) => Some(name),
        None => named_symbol(message),
    };
    Some(failure)
}

/// The lint that made this diagnostic an error, and whether it is clippy's.
fn lint_name(block: &[String]) -> Option<(String, bool)> {
    let patterns: [&Regex; 4] = [&LINT_URL, &LINT_IMPLIED, &LINT_ATTR, &LINT_ALLOW];
    for re in patterns {
        for line in block {
            for caps in re.captures_iter(line) {
                let raw = &caps[1];
                let clippy = std::ptr::eq(re, &*LINT_URL) || raw.starts_with("clippy::");
                let name = raw.trim_start_matches("clippy::").replace('-', "_");
                if name != "warnings" && !name.is_empty() {
                    return Some((name, clippy));
                }
            }
        }
    }
    None
}

/// The name an "unresolved"-style message is about: its first backticked text.
fn named_symbol(message: &str) -> Option<String> {
    if !NAMES_A_SYMBOL.is_match(message) {
        return None;
    }
    BACKTICKED.captures(message).map(|c| c[1].to_string())
}

/// cargo's own errors (no source location): dependencies, manifests, subcommands.
fn cargo_error(header: &str, message: &str, block: &[String], ctx: &Context) -> Option<Failure> {
    let caused_by = block.join("\n");
    let kind = if CARGO_DEPENDENCY.is_match(message) {
        if CARGO_NETWORK.is_match(&caused_by) {
            Kind::Network
        } else {
            Kind::Dependency
        }
    } else if CARGO_CONFIG.is_match(message) {
        Kind::Config
    } else if message.starts_with("no such command") {
        Kind::CommandNotFound
    } else if message.starts_with("linking with")
        || message.starts_with("failed to run custom build command")
    {
        Kind::CompileError
    } else if ctx.cargo && !ctx.fmt_only {
        Kind::Unknown
    } else {
        return None;
    };
    let mut failure = Failure::new("cargo", kind, header);
    if let Some(path) = manifest_path(message, &caused_by) {
        failure = failure.at(path, None, None);
    }
    if matches!(kind, Kind::Dependency | Kind::Network) {
        failure.symbol = CRATE_NAMED.captures(message).map(|c| c[1].to_string());
    }
    if message.starts_with("linking with") {
        failure.tool = "rustc".into();
        failure.symbol = undefined_symbol(block);
    }
    Some(failure)
}

/// The manifest or lock file a cargo error is about.
fn manifest_path(message: &str, caused_by: &str) -> Option<String> {
    if let Some(c) = MANIFEST_AT.captures(message) {
        return c.get(1).or(c.get(2)).map(|m| m.as_str().to_string());
    }
    let text = format!("{message}\n{caused_by}");
    let dir = REQUIRED_BY.captures(&text)?;
    let dir = dir[1].trim_end_matches('/');
    if dir.starts_with('/') || dir.contains(":\\") {
        Some(format!("{dir}/Cargo.toml"))
    } else {
        None
    }
}

/// The first symbol a linker note says is undefined.
fn undefined_symbol(block: &[String]) -> Option<String> {
    static UNDEF: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"undefined (?:reference to [`']([^'`]+)'|symbol: (\S+))").unwrap()
    });
    block
        .iter()
        .find_map(|l| UNDEF.captures(l))
        .map(|c| c.get(1).or(c.get(2)).unwrap().as_str().to_string())
}

/// One panic: where it happened, what it said, and the backtrace if there was one.
fn panics(lines: &[String]) -> Vec<Found> {
    let mut out = Vec::new();
    let mut section: Option<String> = None;
    let mut in_tests = false;
    for (i, line) in lines.iter().enumerate() {
        let trimmed = line.trim();
        if let Some(c) = SECTION.captures(trimmed) {
            section = Some(c[1].to_string());
        }
        let running = trimmed.starts_with("running ")
            && (trimmed.ends_with(" test") || trimmed.ends_with(" tests"));
        in_tests |= running || NEXTEST_FAILED.is_match(line);
        if let Some(c) = PANIC.captures(line) {
            let thread = c[1].to_string();
            if let Some(f) = panic_failure(lines, i, &thread, &c[2], section.as_deref(), in_tests) {
                out.push(Found { at: i, failure: f });
            }
        }
    }
    out
}

/// The failure for the panic at `lines[at]`.
fn panic_failure(
    lines: &[String],
    at: usize,
    thread: &str,
    rest: &str,
    section: Option<&str>,
    in_tests: bool,
) -> Option<Failure> {
    let (message, file, line, col) = panic_site(lines, at, rest)?;
    let named = !matches!(thread, "main" | "<unnamed>" | "");
    let test = if named {
        Some(thread.to_string())
    } else {
        section.map(str::to_string)
    };
    let is_test = in_tests || section.is_some() || named;
    let (tool, kind) = if is_test {
        ("cargo-test", Kind::TestFailure)
    } else {
        ("cargo", Kind::Unknown)
    };
    let head = format!("thread '{thread}' panicked at {file}:{line}:{col}");
    let mut failure = Failure::new(tool, kind, if message.is_empty() { head } else { message });
    failure.frames = backtrace(lines, at);
    let (mut file, mut line) = (file, Some(line));
    if let Some((doc_file, doc_line)) = test.as_deref().and_then(doctest_site) {
        (file, line) = (doc_file, Some(doc_line));
    } else if let Some(f) = failure.frames.last().filter(|_| !is_own_path(&file)) {
        (file, line) = (f.file.clone(), f.line);
    }
    failure = failure.at(file, line, if line.is_some() { Some(col) } else { None });
    failure.test = test;
    Some(failure.with_excerpt(&window(lines, at, 1, 6)))
}

/// Message, file, line and column of a panic, new style (`panicked at f:l:c:` and the
/// message on the next lines) or old style (`panicked at 'msg', f:l:c`, maybe multi-line).
fn panic_site(lines: &[String], at: usize, rest: &str) -> Option<(String, String, u32, u32)> {
    if let Some(c) = PANIC_NEW.captures(rest.trim_end()) {
        let message = panic_message(&lines[at + 1..]);
        return Some((
            message,
            c[1].to_string(),
            c[2].parse().ok()?,
            c[3].parse().ok()?,
        ));
    }
    let quoted = rest.strip_prefix('\'')?;
    let mut parts: Vec<&str> = Vec::new();
    let following = lines.iter().skip(at + 1).take(12).map(String::as_str);
    for l in std::iter::once(quoted).chain(following) {
        if let Some(c) = PANIC_OLD_END.captures(l.trim_end()) {
            parts.push(c.get(1).map_or("", |m| m.as_str()).trim());
            let message = parts.join("; ");
            return Some((
                message,
                c[2].to_string(),
                c[3].parse().ok()?,
                c[4].parse().ok()?,
            ));
        }
        parts.push(l.trim());
    }
    None
}

/// The panic message lines after a new-style header, joined with `; `.
fn panic_message(after: &[String]) -> String {
    let mut parts = Vec::new();
    for l in after.iter().take(8) {
        let t = l.trim();
        if t.is_empty() || t.starts_with("note:") || t == "stack backtrace:" || PANIC.is_match(l) {
            break;
        }
        parts.push(t);
    }
    let joined = parts.join("; ");
    joined.chars().take(400).collect()
}

/// File and line of a doc-test from its name (`src/lib.rs - double (line 3)`).
fn doctest_site(name: &str) -> Option<(String, u32)> {
    let c = DOCTEST.captures(name)?;
    Some((c[1].to_string(), c[2].parse().ok()?))
}

/// False for the standard library, the toolchain and registry crates.
fn is_own_path(path: &str) -> bool {
    !(path.starts_with("/rustc/")
        || path.contains("/.cargo/registry/")
        || path.contains("/.cargo/git/")
        || path.contains("/.rustup/")
        || path.starts_with("library/"))
}

/// The project's frames of the `stack backtrace:` after a panic, outermost first.
fn backtrace(lines: &[String], at: usize) -> Vec<Frame> {
    let Some(start) =
        (at + 1..(at + 12).min(lines.len())).find(|&j| lines[j].trim() == "stack backtrace:")
    else {
        return Vec::new();
    };
    let mut frames = Vec::new();
    let mut function: Option<String> = None;
    for l in &lines[start + 1..] {
        if let Some(c) = FRAME_AT.captures(l) {
            let file = c[1].trim_start_matches("./").to_string();
            if is_own_path(&file) {
                frames.push(Frame {
                    file,
                    line: c[2].parse().ok(),
                    function: function.take(),
                });
            }
        } else if let Some(c) = FRAME.captures(l) {
            function = Some(c[1].trim().to_string());
        } else {
            break;
        }
    }
    frames.reverse();
    frames
}

/// Tests the log says failed (`test x ... FAILED`, the `failures:` list, nextest's `FAIL`)
/// that no panic explained (a returned `Err`, `should_panic`, a crash, a truncated log).
fn unreported_tests(lines: &[String], panics: &[Found]) -> Vec<Found> {
    let mut seen: HashSet<String> = panics
        .iter()
        .filter_map(|f| f.failure.test.clone())
        .collect();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let name = TEST_FAILED
            .captures(line)
            .or_else(|| NEXTEST_FAILED.captures(line))
            .map(|c| c[1].to_string())
            .or_else(|| failures_list_entry(lines, i));
        let Some(name) = name else { continue };
        if !seen.insert(name.clone()) {
            continue;
        }
        let mut failure = section_failure(lines, &name)
            .unwrap_or_else(|| Failure::new("cargo-test", Kind::TestFailure, line.trim()));
        if let Some((file, l)) = doctest_site(&name) {
            failure = failure.at(file, Some(l), None);
        }
        failure.test = Some(name);
        out.push(Found {
            at: i,
            failure: failure.with_excerpt(&window(lines, i, 0, 3)),
        });
    }
    out
}

/// What a failed test's `---- name stdout ----` section says when it did not panic: a
/// `should_panic` test that did not (`note: test did not panic as expected at f:l:c`) or a
/// test that returned `Err` (`Error: …`).
fn section_failure(lines: &[String], name: &str) -> Option<Failure> {
    let header = format!("---- {name} stdout ----");
    let start = lines.iter().position(|l| l.trim() == header)?;
    let c = lines[start + 1..]
        .iter()
        .take_while(|l| !l.starts_with("---- ") && l.trim() != "failures:")
        .take(30)
        .find_map(|l| SECTION_NOTE.captures(l.trim()))?;
    let message = c.get(1).or(c.get(5)).map_or("", |m| m.as_str());
    let failure = Failure::new("cargo-test", Kind::TestFailure, message);
    Some(match (c.get(2), c.get(3)) {
        (Some(f), Some(l)) => failure.at(
            f.as_str(),
            l.as_str().parse().ok(),
            c.get(4).and_then(|m| m.as_str().parse().ok()),
        ),
        _ => failure,
    })
}

/// The test named on `lines[i]` when it is an entry of libtest's final `failures:` list.
fn failures_list_entry(lines: &[String], i: usize) -> Option<String> {
    let name = lines[i].trim();
    if name.is_empty()
        || !lines[i].starts_with("    ")
        || name.contains(' ') && !name.contains(" - ")
    {
        return None;
    }
    let mut j = i;
    // the list holds one failed test a line: a few hundred at most
    while j > 0 && i - j < 1000 {
        j -= 1;
        let t = lines[j].trim();
        if t == "failures:" {
            return Some(name.to_string());
        }
        if t.is_empty() || !lines[j].starts_with("    ") || t.starts_with("----") {
            return None;
        }
    }
    None
}

/// rustfmt `--check` diffs (`Diff in f.rs:12:`, older `Diff in f.rs at line 12:`), reported
/// at the first changed line; in a format-only step, the bare file list of `-l`.
fn format_diffs(lines: &[String], ctx: &Context) -> Vec<Found> {
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let Some(c) = DIFF_IN.captures(line) else {
            continue;
        };
        let start: u32 = c
            .get(2)
            .or(c.get(3))
            .and_then(|m| m.as_str().parse().ok())
            .unwrap_or(1);
        let hunk: Vec<&String> = lines[i + 1..]
            .iter()
            .take_while(|l| l.is_empty() || l.starts_with([' ', '+', '-']) && !DIFF_IN.is_match(l))
            .collect();
        let context = hunk
            .iter()
            .take_while(|l| !l.starts_with(['+', '-']))
            .count() as u32;
        let failure = Failure::new("rustfmt", Kind::Format, line.trim())
            .at(c[1].to_string(), Some(start + context), None)
            .with_excerpt(&window(lines, i, 0, hunk.len().min(12)));
        out.push(Found { at: i, failure });
    }
    if out.is_empty() && ctx.fmt_only {
        out = listed_files(lines);
    }
    out
}

/// `rustfmt --check -l` / `cargo fmt -- --check -l`: one unformatted file per line.
fn listed_files(lines: &[String]) -> Vec<Found> {
    lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.trim().ends_with(".rs") && !l.trim().contains(' '))
        .map(|(i, l)| Found {
            at: i,
            failure: Failure::new(
                "rustfmt",
                Kind::Format,
                format!("{} is not formatted", l.trim()),
            )
            .at(l.trim(), None, None)
            .with_excerpt(std::slice::from_ref(l)),
        })
        .collect()
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
