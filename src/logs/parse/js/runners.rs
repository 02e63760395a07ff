//! JavaScript test runners: jest (`● Suite › test` blocks with `at f (file:line:col)`
//! stacks), vitest (` FAIL  file > suite > test`, `❯ file:line:col`) and `node --test`
//! (the TAP reporter's `not ok` + YAML, and the spec reporter's `✖ name (1ms)`).
//!
//! Stacks are printed innermost first; frames are stored outermost first, and the location
//! is the innermost frame outside node internals and node_modules.

use std::sync::LazyLock;

use regex::Regex;

use super::super::Found;
use super::super::generic::{is_vendor_path, one_line};
use super::super::util::window;
use crate::logs::{Failure, Frame, Kind};

/// `at fn (file:1:2)`, `at file:1:2`, TAP's bare `fn (file:1:2)`, vitest's `❯ fn file:1:2`.
static STACK: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\s*(?:at |❯ )?(?:(?:async )?([^\s(]+(?: \[as \w+\])?) \(?)?((?:file://)?(?:[A-Za-z]:)?[^\s():]+):(\d+):(\d+)\)?\s*$").unwrap()
});
static JEST_HEAD: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^\s*● (.+?)\s*$").unwrap());
static JEST_SUITE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\s*FAIL\s+(\S+)\s*(?:\(.*\))?$").unwrap());
static JEST_END: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\s*(?:Test Suites:|Tests:|PASS\s|FAIL\s|Summary of all failing tests)").unwrap()
});
static CANNOT_FIND: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"Cannot find (?:module|package) '([^']+)'").unwrap());
static VITEST_HEAD: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\s*FAIL\s+(\S+?)(?:\s+>\s+(.+?)|\s+\[ .* \])\s*$").unwrap());
static VITEST_RULE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^\s*⎯{3,}").unwrap());
static TAP_NOT_OK: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(\s*)not ok \d+ - (.+?)(?: # (?:SKIP|TODO).*)?\s*$").unwrap());
static YAML_KEY: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^\s*(\w+): ?(.*)$").unwrap());
static SPEC_FAIL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(\s*)✖ (.+?) \([\d.]+m?s\)\s*$").unwrap());

/// A stack frame from one line of a JavaScript stack trace.
pub(super) fn stack_frame(line: &str) -> Option<Frame> {
    let c = STACK.captures(line)?;
    let file = c[2].trim_start_matches("file://").to_string();
    Some(Frame {
        file,
        line: c[3].parse().ok(),
        function: c.get(1).map(|m| m.as_str().to_string()),
    })
}

/// Frames of the stack lines in `lines`, outermost first.
fn frames_in(lines: &[String]) -> Vec<Frame> {
    let mut frames: Vec<Frame> = lines.iter().filter_map(|l| stack_frame(l)).collect();
    frames.reverse();
    frames
}

/// A test failure with its frames; located at the innermost frame of the repo's own code.
fn located(tool: &str, message: &str, frames: Vec<Frame>, fallback: Option<&str>) -> Failure {
    let kind = if CANNOT_FIND.is_match(message) {
        Kind::ImportError
    } else {
        Kind::TestFailure
    };
    let mut f = Failure::new(tool, kind, one_line(message));
    f.symbol = CANNOT_FIND.captures(message).map(|c| c[1].to_string());
    if let Some(loc) = frames.iter().rev().find(|fr| !is_vendor_path(&fr.file)) {
        f = f.at(loc.file.clone(), loc.line, None);
    } else if let Some(file) = fallback {
        f = f.at(file, None, None);
    }
    f.frames = frames;
    f
}

/// jest's `● Suite › test` blocks (and `● Test suite failed to run`).
pub(super) fn jest(lines: &[String]) -> Vec<Found> {
    let mut found = Vec::new();
    let mut suite: Option<String> = None;
    for (i, line) in lines.iter().enumerate() {
        if let Some(c) = JEST_SUITE.captures(line).filter(|_| !line.contains(" > ")) {
            suite = Some(c[1].to_string());
            continue;
        }
        let Some(c) = JEST_HEAD.captures(line) else {
            continue;
        };
        let end = (i + 1..lines.len())
            .find(|&j| JEST_HEAD.is_match(&lines[j]) || JEST_END.is_match(&lines[j]));
        let body = &lines[i + 1..end.unwrap_or(lines.len())];
        let message = jest_message(body);
        let mut f = located("jest", &message, frames_in(body), suite.as_deref());
        let header = c[1].to_string();
        if header == "Test suite failed to run" {
            if message.contains("SyntaxError") {
                f.kind = Kind::SyntaxError;
            }
        } else {
            f.test = Some(header);
        }
        found.push(Found {
            at: i,
            failure: f.with_excerpt(&window(lines, i, 0, body.len().min(16))),
        });
    }
    found
}

/// The first line of a jest block, with `Expected:`/`Received:` folded in.
fn jest_message(body: &[String]) -> String {
    let mut texts = body.iter().map(|l| l.trim()).filter(|l| !l.is_empty());
    let first = texts.next().unwrap_or("jest test failed").to_string();
    let values: Vec<&str> = body
        .iter()
        .map(|l| l.trim())
        .filter(|l| l.starts_with("Expected:") || l.starts_with("Received:"))
        .take(2)
        .collect();
    if values.is_empty() {
        first
    } else {
        format!("{first} ({})", values.join(", "))
    }
}

/// vitest's ` FAIL  file > suite > test` blocks, up to the `⎯⎯⎯` rule.
pub(super) fn vitest(lines: &[String]) -> Vec<Found> {
    let mut found: Vec<Found> = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let Some(c) = VITEST_HEAD.captures(line) else {
            continue;
        };
        let end = (i + 1..lines.len())
            .find(|&j| VITEST_RULE.is_match(&lines[j]) || VITEST_HEAD.is_match(&lines[j]))
            .unwrap_or(lines.len());
        let body = &lines[i + 1..end];
        let message = body
            .iter()
            .map(|l| l.trim())
            .find(|l| !l.is_empty())
            .unwrap_or("vitest test failed");
        let mut f = located("vitest", message, frames_in(body), Some(&c[1]));
        f.test = c.get(2).map(|m| m.as_str().to_string());
        if message.starts_with("SyntaxError") {
            f.kind = Kind::SyntaxError;
        }
        let repeat = found
            .iter()
            .any(|p| p.failure.test == f.test && p.failure.file == f.file && f.test.is_some());
        if !repeat {
            found.push(Found {
                at: i,
                failure: f.with_excerpt(&window(lines, i, 0, body.len().min(14))),
            });
        }
    }
    found
}

/// `node --test` with the TAP reporter: `not ok` entries and their YAML diagnostics.
pub(super) fn node_tap(lines: &[String]) -> Vec<Found> {
    let mut found = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let Some(c) = TAP_NOT_OK.captures(line) else {
            continue;
        };
        let Some(yaml) = yaml_block(lines, i + 1) else {
            continue;
        };
        let get = |key: &str| yaml.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
        if get("failureType").as_deref() == Some("subtestsFailed") {
            continue;
        }
        let message = get("error").unwrap_or_else(|| "test failed".into());
        let stack: Vec<String> = get("stack")
            .map(|s| s.lines().map(str::to_string).collect())
            .unwrap_or_default();
        let location = get("location").map(|l| l.trim_matches('\'').to_string());
        let loc_file = location.as_deref().and_then(stack_frame).map(|fr| fr.file);
        let mut f = located(
            "node-test",
            &message,
            frames_in(&stack),
            loc_file.as_deref(),
        );
        if f.line.is_none()
            && let Some(fr) = location.as_deref().and_then(stack_frame)
        {
            f.line = fr.line;
        }
        f.test = Some(c[2].replace("\\#", "#"));
        found.push(Found {
            at: i,
            failure: f.with_excerpt(&window(lines, i, 0, 12)),
        });
    }
    found
}

/// The `---` … `...` YAML block right after a TAP line, as (key, first line or block text).
fn yaml_block(lines: &[String], from: usize) -> Option<Vec<(String, String)>> {
    if lines.get(from).map(|l| l.trim()) != Some("---") {
        return None;
    }
    let end = (from + 1..lines.len()).find(|&j| lines[j].trim() == "...")?;
    let mut out: Vec<(String, String)> = Vec::new();
    let mut key_indent = usize::MAX;
    for line in &lines[from + 1..end] {
        let indent = line.len() - line.trim_start().len();
        match YAML_KEY.captures(line) {
            Some(c) if indent <= key_indent => {
                key_indent = indent;
                let value = c[2].trim();
                let value = if value.starts_with('|') || value.starts_with('>') {
                    ""
                } else {
                    value
                };
                out.push((c[1].to_string(), value.trim_matches('\'').to_string()));
            }
            _ => append_block_line(&mut out, line.trim()),
        }
    }
    Some(out)
}

fn append_block_line(out: &mut [(String, String)], text: &str) {
    if let Some((key, value)) = out.last_mut() {
        if text.is_empty() {
            return;
        }
        if key == "error" && !value.is_empty() {
            return; // the message is the block's first line
        }
        if !value.is_empty() {
            value.push('\n');
        }
        value.push_str(text);
    }
}

/// `node --test` with the spec reporter: `✖ name (1.2ms)` then the indented error.
pub(super) fn node_spec(lines: &[String]) -> Vec<Found> {
    let mut found: Vec<Found> = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let Some(c) = SPEC_FAIL.captures(line) else {
            continue;
        };
        let indent = c[1].len();
        let end = (i + 1..lines.len())
            .find(|&j| {
                let l = &lines[j];
                !l.trim().is_empty() && l.len() - l.trim_start().len() <= indent
            })
            .unwrap_or(lines.len());
        let body = &lines[i + 1..end];
        let Some(message) = body.iter().map(|l| l.trim()).find(|l| !l.is_empty()) else {
            continue;
        };
        let name = c[2].to_string();
        if found
            .iter()
            .any(|f| f.failure.test.as_deref() == Some(name.as_str()))
        {
            continue;
        }
        let fallback = test_at(lines, i);
        let mut f = located("node-test", message, frames_in(body), fallback.as_deref());
        f.test = Some(name);
        found.push(Found {
            at: i,
            failure: f.with_excerpt(&window(lines, i, 0, body.len().min(12))),
        });
    }
    found
}

/// The `test at file:line:col` line the spec reporter prints above a repeated failure.
fn test_at(lines: &[String], i: usize) -> Option<String> {
    let prev = lines.get(i.checked_sub(1)?)?;
    let rest = prev.trim().strip_prefix("test at ")?;
    stack_frame(rest).map(|f| f.file)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<String> {
        text.lines().map(str::to_string).collect()
    }

    #[test]
    fn vitest_documented_format() {
        let l = lines(
            " ❯ src/basic.test.ts (2 tests | 1 failed) 5ms\n   × suite > adds 3ms\n\n⎯⎯⎯⎯⎯⎯⎯ Failed Tests 1 ⎯⎯⎯⎯⎯⎯⎯\n\n FAIL  src/basic.test.ts > suite > adds\nAssertionError: expected 5 to be 4 // Object.is equality\n\n- Expected\n+ Received\n\n- 4\n+ 5\n\n ❯ add src/math.ts:3:10\n ❯ src/basic.test.ts:8:19\n      6|   it('adds', () => {\n      8|     expect(add(2, 3)).toBe(4)\n       |                   ^\n\n⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯[1/1]⎯\n\n Test Files  1 failed (1)\n      Tests  1 failed | 1 passed (2)",
        );
        let f = &vitest(&l)[0].failure;
        assert_eq!(f.test.as_deref(), Some("suite > adds"));
        assert_eq!((f.file.as_deref(), f.line), (Some("src/math.ts"), Some(3)));
        assert!(f.message.starts_with("AssertionError: expected 5 to be 4"));
        assert_eq!(f.frames.len(), 2);
        assert_eq!(f.frames[0].file, "src/basic.test.ts");
    }

    #[test]
    fn vitest_suite_error() {
        let l = lines(
            " FAIL  src/a.test.ts [ src/a.test.ts ]\nError: Cannot find package 'zod' imported from /w/src/a.ts\n⎯⎯⎯⎯⎯⎯",
        );
        let f = &vitest(&l)[0].failure;
        assert_eq!(f.kind, Kind::ImportError);
        assert_eq!(f.symbol.as_deref(), Some("zod"));
        assert_eq!(f.file.as_deref(), Some("src/a.test.ts"));
    }

    #[test]
    fn tap_inline_error_and_nested_parents() {
        let l = lines(
            "# Subtest: outer\n    # Subtest: inner\n    not ok 1 - inner\n      ---\n      duration_ms: 0.5\n      location: 'file:///w/app/t.test.mjs:4:3'\n      failureType: 'testCodeFailure'\n      error: 'boom'\n      code: 'ERR_TEST_FAILURE'\n      ...\nnot ok 1 - outer\n  ---\n  duration_ms: 1\n  location: 'file:///w/app/t.test.mjs:3:1'\n  failureType: 'subtestsFailed'\n  error: '1 subtest failed'\n  ...",
        );
        let found = node_tap(&l);
        assert_eq!(found.len(), 1);
        let f = &found[0].failure;
        assert_eq!(f.message, "boom");
        assert_eq!(
            (f.file.as_deref(), f.line),
            (Some("/w/app/t.test.mjs"), Some(4))
        );
    }

    #[test]
    fn jest_suite_failed_to_run() {
        let l = lines(
            "FAIL src/a.test.js\n  ● Test suite failed to run\n\n    Cannot find module './missing' from 'src/a.test.js'\n\n    > 1 | const m = require('./missing');\n\n      at Resolver._throwModNotFoundError (node_modules/jest-resolve/build/resolver.js:427:11)\n      at Object.<anonymous> (src/a.test.js:1:1)\n\nTest Suites: 1 failed, 1 total",
        );
        let f = &jest(&l)[0].failure;
        assert_eq!(f.kind, Kind::ImportError);
        assert_eq!(f.symbol.as_deref(), Some("./missing"));
        assert_eq!(
            (f.file.as_deref(), f.line),
            (Some("src/a.test.js"), Some(1))
        );
        assert_eq!(f.test, None);
    }
}
