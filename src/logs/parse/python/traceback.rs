//! Python tracebacks: reading `Traceback (most recent call last):` blocks into frames and
//! the exception, `SyntaxError` reports without a traceback, unittest's `FAIL:`/`ERROR:`
//! blocks, and how an exception name maps to a kind and a symbol.

use std::sync::LazyLock;

use regex::Regex;

use super::super::Found;
use super::super::generic::{is_vendor_path, one_line};
use super::super::util::window;
use crate::logs::{Failure, Frame, Kind};

static HEAD: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(\s*)Traceback \(most recent call last\):\s*$").unwrap());
pub(super) static FILE_FRAME: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"^\s*File "([^"]+)", line (\d+)(?:, in (.+?))?\s*$"#).unwrap());
/// An exception line: `pkg.mod.SomeError: message` or a bare `KeyboardInterrupt`.
pub(super) static EXCEPTION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^([A-Za-z_][\w.]*?(?:Error|Exception|Exit|Interrupt|Iteration|Warning|Failed|Failure|NotFound|Timeout|Group))(?::\s?(.*))?$").unwrap()
});
static SYNTAX_EXC: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\s*(SyntaxError|IndentationError|TabError)(?::\s?(.*))?$").unwrap()
});
static UNITTEST_HEAD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(FAIL|ERROR|UNEXPECTED SUCCESS): (\S+) \(([\w.]+)\)(?:\s.*)?$").unwrap()
});
static CHAINED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^\s*(During handling of the above exception|The above exception was the direct cause)",
    )
    .unwrap()
});
static NETWORK: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"Name or service not known|Temporary failure in name resolution|Failed to establish a new connection|Connection reset by peer|Max retries exceeded").unwrap()
});
static NO_MODULE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"No module named '([^']+)'").unwrap());
static CANNOT_IMPORT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"cannot import name '([^']+)'").unwrap());
static NAME_NOT_DEFINED: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"name '([^']+)' is not defined").unwrap());
static NO_ATTRIBUTE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"has no attribute '([^']+)'").unwrap());

/// One traceback: frames outermost first and the exception line that ends it.
pub(super) struct Trace {
    pub frames: Vec<Frame>,
    pub exception: String,
    /// Index of the exception line.
    pub end: usize,
}

/// Reads the traceback whose `Traceback (most recent call last):` header is at `head`.
pub(super) fn read_trace(lines: &[String], head: usize) -> Option<Trace> {
    let indent = HEAD.captures(&lines[head])?[1].len();
    let mut frames = Vec::new();
    for (i, line) in lines.iter().enumerate().skip(head + 1) {
        if let Some(frame) = frame_of(line) {
            frames.push(frame);
        } else if line.trim().is_empty() || indent_of(line) > indent {
            continue;
        } else {
            return Some(Trace {
                frames,
                exception: one_line(line),
                end: i,
            });
        }
    }
    None
}

fn indent_of(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

/// A `File "x.py", line 3, in f` frame.
pub(super) fn frame_of(line: &str) -> Option<Frame> {
    let c = FILE_FRAME.captures(line)?;
    Some(Frame {
        file: c[1].to_string(),
        line: c[2].parse().ok(),
        function: c.get(3).map(|m| m.as_str().to_string()),
    })
}

/// The innermost frame in the repository's own code, else the innermost frame.
pub(super) fn location(frames: &[Frame]) -> Option<&Frame> {
    frames
        .iter()
        .rev()
        .find(|f| !is_vendor_path(&f.file))
        .or(frames.last())
}

/// The kind an exception means (`default` for ordinary errors) and the symbol it names.
pub(super) fn classify(exception: &str, default: Kind) -> (Kind, Option<String>) {
    let (name, message) = match EXCEPTION.captures(exception.trim()) {
        Some(c) => (
            c[1].rsplit('.').next().unwrap_or("").to_string(),
            c.get(2).map_or("", |m| m.as_str()).to_string(),
        ),
        None => (String::new(), exception.to_string()),
    };
    let grab = |re: &Regex| re.captures(&message).map(|c| c[1].to_string());
    match name.as_str() {
        "ModuleNotFoundError" | "ImportError" => (
            Kind::ImportError,
            grab(&CANNOT_IMPORT).or_else(|| grab(&NO_MODULE)),
        ),
        "SyntaxError" | "IndentationError" | "TabError" => (Kind::SyntaxError, None),
        "MemoryError" => (Kind::Oom, None),
        _ if NETWORK.is_match(&message) => (Kind::Network, None),
        "NameError" | "UnboundLocalError" => (default, grab(&NAME_NOT_DEFINED)),
        "AttributeError" => (default, grab(&NO_ATTRIBUTE)),
        "KeyError" => (
            default,
            Some(
                message
                    .trim()
                    .trim_matches(|c| c == '\'' || c == '"')
                    .to_string(),
            )
            .filter(|s| !s.is_empty()),
        ),
        _ => (default, None),
    }
}

/// A failure for `trace` under `tool`, starting at `at`.
pub(super) fn failure_of(
    tool: &str,
    default: Kind,
    trace: &Trace,
    lines: &[String],
    at: usize,
) -> Failure {
    let (kind, symbol) = classify(&trace.exception, default);
    let mut f = Failure::new(tool, kind, trace.exception.clone());
    if let Some(loc) = location(&trace.frames) {
        f = f.at(loc.file.clone(), loc.line, None);
    }
    f.symbol = symbol;
    f.frames = trace.frames.clone();
    let before = trace.end.saturating_sub(at).min(12);
    f.with_excerpt(&window(lines, trace.end, before, 1))
}

/// unittest's `FAIL: test_x (pkg.tests.TestY.test_x)` blocks with their tracebacks.
pub(super) fn parse_unittest(lines: &[String], covered: &mut [bool]) -> Vec<Found> {
    let mut found = Vec::new();
    for i in 0..lines.len() {
        let Some(c) = UNITTEST_HEAD.captures(&lines[i]) else {
            continue;
        };
        if covered[i] || !lines.get(i + 1).is_some_and(|l| l.starts_with("-----")) {
            continue;
        }
        let Some(head) = (i + 2..(i + 8).min(lines.len())).find(|&j| HEAD.is_match(&lines[j]))
        else {
            continue;
        };
        let Some(trace) = read_trace(lines, head) else {
            continue;
        };
        let mut f = failure_of("unittest", Kind::TestFailure, &trace, lines, i);
        f.test = Some(unittest_id(&c[2], &c[3]));
        covered[i..=trace.end].iter_mut().for_each(|c| *c = true);
        found.push(Found { at: i, failure: f });
    }
    found
}

/// `tests.test_x.TestY.test_y` from the method name and the parenthesised id (Python
/// 3.11+ prints the full id, older versions only the class).
fn unittest_id(name: &str, dotted: &str) -> String {
    if dotted.starts_with("unittest.loader.") {
        name.to_string()
    } else if dotted.ends_with(&format!(".{name}")) {
        dotted.to_string()
    } else {
        format!("{dotted}.{name}")
    }
}

/// Tracebacks and `SyntaxError` reports not already claimed by a test runner.
pub(super) fn parse_plain(lines: &[String], covered: &mut [bool]) -> Vec<Found> {
    let mut found = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if covered[i] {
            i += 1;
            continue;
        }
        if let Some(next) = plain_at(lines, i, &mut found) {
            covered[i..=next.min(lines.len() - 1)]
                .iter_mut()
                .for_each(|c| *c = true);
            i = next + 1;
        } else {
            i += 1;
        }
    }
    found
}

/// A traceback or bare SyntaxError report starting at `i`: pushes it (unless a later
/// exception in the same chain replaces it) and returns the index of its last line.
fn plain_at(lines: &[String], i: usize, found: &mut Vec<Found>) -> Option<usize> {
    if HEAD.is_match(&lines[i]) {
        let trace = read_trace(lines, i)?;
        let chained =
            (trace.end + 1..(trace.end + 4).min(lines.len())).any(|j| CHAINED.is_match(&lines[j]));
        if !chained {
            found.push(Found {
                at: i,
                failure: failure_of("python", Kind::Unknown, &trace, lines, i),
            });
        }
        return Some(trace.end);
    }
    let frame = frame_of(&lines[i]).filter(|f| f.function.is_none())?;
    let end = (i + 1..(i + 6).min(lines.len())).find(|&j| SYNTAX_EXC.is_match(&lines[j]))?;
    let trace = Trace {
        frames: vec![frame],
        exception: one_line(&lines[end]),
        end,
    };
    found.push(Found {
        at: i,
        failure: failure_of("python", Kind::SyntaxError, &trace, lines, i),
    });
    Some(end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<String> {
        text.lines().map(str::to_string).collect()
    }

    #[test]
    fn chained_exceptions_report_the_last() {
        let l = lines(
            "Traceback (most recent call last):\n  File \"/w/app/db.py\", line 4, in get\n    return rows[0]\nIndexError: list index out of range\n\nDuring handling of the above exception, another exception occurred:\n\nTraceback (most recent call last):\n  File \"/w/app/main.py\", line 9, in <module>\n    get()\n  File \"/w/app/db.py\", line 6, in get\n    raise LookupError(\"no rows\")\nLookupError: no rows",
        );
        let found = parse_plain(&l, &mut vec![false; l.len()]);
        assert_eq!(found.len(), 1);
        let f = &found[0].failure;
        assert_eq!(f.message, "LookupError: no rows");
        assert_eq!((f.file.as_deref(), f.line), (Some("/w/app/db.py"), Some(6)));
        assert_eq!(f.frames.len(), 2);
    }

    #[test]
    fn name_and_attribute_errors_name_the_symbol() {
        assert_eq!(
            classify("NameError: name 'totl' is not defined", Kind::Unknown)
                .1
                .as_deref(),
            Some("totl")
        );
        assert_eq!(
            classify(
                "AttributeError: 'Cart' object has no attribute 'itms'",
                Kind::Unknown
            )
            .1
            .as_deref(),
            Some("itms")
        );
        assert_eq!(
            classify(
                "ImportError: cannot import name 'parse' from 'app.util'",
                Kind::Unknown
            ),
            (Kind::ImportError, Some("parse".into()))
        );
        assert_eq!(classify("MemoryError", Kind::TestFailure).0, Kind::Oom);
        let dns = "requests.exceptions.ConnectionError: HTTPSConnectionPool(host='api.example.com', port=443): Max retries exceeded";
        assert_eq!(classify(dns, Kind::Unknown).0, Kind::Network);
    }

    #[test]
    fn old_unittest_ids_gain_the_method() {
        assert_eq!(
            unittest_id("test_a", "tests.test_x.TestX"),
            "tests.test_x.TestX.test_a"
        );
        assert_eq!(
            unittest_id("test_a", "tests.test_x.TestX.test_a"),
            "tests.test_x.TestX.test_a"
        );
    }

    #[test]
    fn indented_traceback_in_a_log_message() {
        let l = lines(
            "  Traceback (most recent call last):\n    File \"tools/gen.py\", line 3, in <module>\n      main()\n  RuntimeError: boom",
        );
        let found = parse_plain(&l, &mut vec![false; l.len()]);
        assert_eq!(found[0].failure.message, "RuntimeError: boom");
        assert_eq!(found[0].failure.line, Some(3));
    }
}
