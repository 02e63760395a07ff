//! The fallback parser, for failed steps no ecosystem parser understood, and small helpers
//! the Python, JavaScript, shell and infra parsers share.
//!
//! It never answers nothing for a failed step: the last error-like line (`error`, `Error:`,
//! `FAILED`, `fatal:`) becomes the message, a `path:line(:col)` near it the location, and
//! the lines before `##[error]Process completed with exit code N.` the excerpt.

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::Regex;

use super::Found;
use super::util::window;
use crate::logs::{Failure, Frame, Kind, Level, StepLog};

/// Tool names this parser answers to for `--tool`.
pub const TOOLS: &[&str] = &["unknown"];

/// Lines that say something failed, in any tool's words.
static ERROR_LIKE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(^|[^a-z])(error|errors|failed|failure|fatal|panic|exception|cannot|could not|unable to|not found|denied|aborted)([^a-z]|$)",
    )
    .unwrap()
});

/// `path/to/file.ext:12` or `file.ext:12:5`, the commonest way tools name a location.
static PATH_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:^|[\s(\[\x22'])((?:[A-Za-z]:)?[\w./\\-]*\w\.[A-Za-z]\w{0,9}):(\d+)(?::(\d+))?")
        .unwrap()
});

/// How many lines before the last error-like line the excerpt shows.
const EXCERPT_BEFORE: usize = 8;

/// Failures in `step`: one guess at the root cause, or nothing when the step did not fail.
pub fn parse(step: &StepLog) -> Vec<Found> {
    if !step.failed && step.exit_code.unwrap_or(0) == 0 {
        return Vec::new();
    }
    let header = header_lines(step);
    let meaningful: Vec<usize> = (0..step.lines.len())
        .filter(|&i| !header[i] && is_meaningful(&step.lines[i]))
        .collect();
    let at = meaningful
        .iter()
        .rev()
        .copied()
        .find(|&i| ERROR_LIKE.is_match(&step.lines[i]))
        .or_else(|| meaningful.last().copied());
    let Some(at) = at else {
        return vec![Found {
            at: 0,
            failure: exit_only(step),
        }];
    };
    let text = step.lines[at].trim_start().trim_start_matches("##[error]");
    let kind = super::classify::kind_near(&step.lines, at).unwrap_or(Kind::Unknown);
    let mut failure = Failure::new("unknown", kind, one_line(text));
    if let Some((file, line, column)) = location_near(&step.lines, at).or_else(|| annotated(step)) {
        failure = failure.at(file, line, column);
    }
    failure = failure.with_excerpt(&window(&step.lines, at, EXCERPT_BEFORE, 3));
    vec![Found { at, failure }]
}

/// The failure of a step that printed nothing useful: only its exit code.
fn exit_only(step: &StepLog) -> Failure {
    let message = match step.exit_code {
        Some(code) => format!("the step failed with exit code {code} and printed nothing else"),
        None => "the step failed and printed nothing else".to_string(),
    };
    Failure::new("unknown", Kind::Unknown, message)
}

/// A line worth quoting: not blank, not a runner marker, not the closing exit-code line.
pub(crate) fn is_meaningful(line: &str) -> bool {
    let t = line.trim();
    !t.is_empty()
        && t != StepLog::GAP
        && (!t.starts_with("##[") || is_error_annotation(t))
        && !t.starts_with("[command]")
        && !t.starts_with("shell: ")
        && !t
            .chars()
            .all(|c| matches!(c, '=' | '-' | '_' | '*' | '~' | '#' | ' '))
}

/// A `##[error]` line of the step's own (not the runner's closing exit-code line).
fn is_error_annotation(t: &str) -> bool {
    t.strip_prefix("##[error]")
        .is_some_and(|m| !m.starts_with("Process completed with exit code") && !m.trim().is_empty())
}

/// The first `path:line(:col)` on `at` or the few lines around it, nearest first.
fn location_near(lines: &[String], at: usize) -> Option<(String, Option<u32>, Option<u32>)> {
    let order = [0isize, -1, 1, -2, 2, -3, -4];
    order.iter().find_map(|d| {
        let i = at.checked_add_signed(*d)?;
        let c = PATH_LINE.captures(lines.get(i)?)?;
        Some((
            c[1].to_string(),
            c[2].parse().ok(),
            c.get(3).and_then(|m| m.as_str().parse().ok()),
        ))
    })
}

/// Marks the lines of each `##[group]Run …` header: the title, the script echo (the step's
/// commands), `shell:` and the `env:` block. They quote the script, not its output.
pub(crate) fn header_lines(step: &StepLog) -> Vec<bool> {
    let mut marks = vec![false; step.lines.len()];
    let mut in_header = false;
    for (i, line) in step.lines.iter().enumerate() {
        let t = line.trim();
        in_header = if line.starts_with("##[group]Run ") {
            true
        } else {
            in_header
                && (step.commands.iter().any(|c| c.trim() == t)
                    || t.starts_with("shell: ")
                    || t == "env:"
                    || (line.starts_with("  ") && t.contains(": ")))
        };
        marks[i] = in_header;
    }
    marks
}

/// `step` with line prefixes that hide a tool's own output taken off: `##[error]`,
/// `##[warning]` and `##[notice]` (tools with a GitHub output format, such as
/// `ruff --output-format=github`, print workflow commands the runner turns into these) and
/// BuildKit's `#12 3.456 ` step prefix (`docker build` running the tool).
pub(crate) fn unmarked(step: &StepLog) -> Cow<'_, StepLog> {
    if !step.lines.iter().any(|l| prefix_len(l) > 0) {
        return Cow::Borrowed(step);
    }
    let mut owned = step.clone();
    for line in owned.lines.iter_mut() {
        let cut = prefix_len(line);
        line.drain(..cut);
    }
    Cow::Owned(owned)
}

/// Length of a marker or BuildKit prefix at the start of `line` (0 when none).
fn prefix_len(line: &str) -> usize {
    static BUILDKIT: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^#\d+ \d+\.\d+ ").unwrap());
    const MARKS: [&str; 3] = ["##[error]", "##[warning]", "##[notice]"];
    if let Some(m) = MARKS.iter().find(|m| line.starts_with(**m)) {
        // the runner's own closing line stays as the runner wrote it
        return if is_error_annotation(line) || !line.starts_with("##[error]") {
            m.len()
        } else {
            0
        };
    }
    BUILDKIT.find(line).map_or(0, |m| m.end())
}

/// The location of the step's first `::error file=…,line=…::` annotation.
fn annotated(step: &StepLog) -> Option<(String, Option<u32>, Option<u32>)> {
    let a = step
        .annotations
        .iter()
        .find(|a| a.level == Level::Error && a.file.is_some())?;
    Some((a.file.clone()?, a.line, a.column))
}

/// `s` trimmed and cut to a readable single line.
pub(crate) fn one_line(s: &str) -> String {
    let t = s.trim();
    match t.char_indices().nth(400) {
        Some((cut, _)) => format!("{}…", &t[..cut]),
        None => t.to_string(),
    }
}

/// Files that are not the repository's own code: installed packages, the interpreter's
/// library, node internals, `<string>` and `<frozen …>` pseudo-files.
pub(crate) fn is_vendor_path(path: &str) -> bool {
    // node before 16 named its internals without the `node:` scheme
    const NODE_INTERNALS: [&str; 5] = [
        "internal/modules/",
        "internal/process/",
        "internal/main/",
        "internal/timers",
        "internal/bootstrap/",
    ];
    let p = path.replace('\\', "/");
    p.starts_with('<')
        || p.starts_with("node:")
        || NODE_INTERNALS.iter().any(|m| p.starts_with(m))
        || [
            "site-packages/",
            "dist-packages/",
            "node_modules/",
            "/hostedtoolcache/",
            "/lib/python2",
            "/lib/python3",
            "/usr/lib/",
            "/usr/share/nodejs/",
            "/usr/local/lib/",
            "/.pyenv/",
            "/.nvm/",
        ]
        .iter()
        .any(|m| p.contains(m))
}

/// The frames in the repository's own code: installed packages and runtime internals
/// would only dilute the ranking of files to fix.
pub(crate) fn own_frames(frames: &[Frame]) -> Vec<Frame> {
    frames
        .iter()
        .filter(|f| !is_vendor_path(&f.file))
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(lines: &[&str], code: i32) -> StepLog {
        StepLog {
            failed: true,
            exit_code: Some(code),
            lines: lines.iter().map(|s| s.to_string()).collect(),
            ..StepLog::default()
        }
    }

    #[test]
    fn last_error_line_with_a_nearby_location() {
        let s = step(
            &[
                "compiling",
                "src/gen.xyz:14:2: bad token",
                "Error: generation failed",
                "##[error]Process completed with exit code 2.",
            ],
            2,
        );
        let f = &parse(&s)[0].failure;
        assert_eq!(f.message, "Error: generation failed");
        assert_eq!(f.file.as_deref(), Some("src/gen.xyz"));
        assert_eq!((f.line, f.column), (Some(14), Some(2)));
        assert_eq!(f.kind, Kind::Unknown);
        assert!(f.excerpt.contains("bad token"));
    }

    #[test]
    fn never_nothing_for_a_failed_step() {
        let quiet = step(&["##[error]Process completed with exit code 3."], 3);
        let found = parse(&quiet);
        assert_eq!(found.len(), 1);
        assert!(found[0].failure.message.contains("exit code 3"));
        let chatty = step(
            &[
                "doing things",
                "done with things",
                "##[error]Process completed with exit code 1.",
            ],
            1,
        );
        assert_eq!(parse(&chatty)[0].failure.message, "done with things");
    }

    #[test]
    fn annotation_location_when_the_text_has_none() {
        let mut s = step(&["checking schema", "##[error]schema drift detected"], 1);
        s.annotations.push(crate::logs::Annotation {
            level: Level::Error,
            message: "schema drift detected".into(),
            file: Some("db/schema.sql".into()),
            line: Some(40),
            column: None,
        });
        let f = &parse(&s)[0].failure;
        assert_eq!(
            (f.file.as_deref(), f.line),
            (Some("db/schema.sql"), Some(40))
        );
        assert_eq!(f.message, "schema drift detected");
    }

    #[test]
    fn a_passing_step_gives_nothing() {
        let mut s = step(&["all good"], 0);
        s.failed = false;
        assert!(parse(&s).is_empty());
    }

    #[test]
    fn markers_are_taken_off_and_run_headers_skipped() {
        let s = step(&["##[error]app/x.py:1:8: F401 `os` imported but unused"], 1);
        assert_eq!(
            unmarked(&s).lines[0],
            "app/x.py:1:8: F401 `os` imported but unused"
        );
        let s = step(
            &["#11 2.301 src/a.ts(3,7): error TS2322: Type 'string' is not assignable."],
            1,
        );
        assert!(unmarked(&s).lines[0].starts_with("src/a.ts(3,7)"));
        let mut s = step(
            &[
                "##[group]Run ./build.sh --strict",
                "./build.sh --strict",
                "shell: /usr/bin/bash -e {0}",
                "##[error]Process completed with exit code 4.",
            ],
            4,
        );
        s.commands = vec!["./build.sh --strict".into()];
        assert!(parse(&s)[0].failure.message.contains("exit code 4"));
    }

    #[test]
    fn vendor_paths() {
        assert!(is_vendor_path(
            "/opt/hostedtoolcache/Python/3.11.7/x64/lib/python3.11/json/decoder.py"
        ));
        assert!(is_vendor_path(
            ".venv/lib/python3.12/site-packages/requests/api.py"
        ));
        assert!(is_vendor_path("node:internal/modules/cjs/loader"));
        assert!(is_vendor_path("<frozen os>"));
        assert!(!is_vendor_path("/home/runner/work/app/app/src/cart.js"));
        assert!(!is_vendor_path("tests/test_x.py"));
        assert!(is_vendor_path("internal/modules/cjs/loader.js"));
        assert!(!is_vendor_path("internal/billing/invoice.js"));
        assert!(!is_vendor_path("src/lib/python_utils/io.py"));
    }

    #[test]
    fn corpus_generic_cases() {
        crate::logs::parse::corpus::assert_cases(&["generic_"], 1);
    }
}
