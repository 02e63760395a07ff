//! GitHub's own structured diagnostics in a job log. Problem matchers (registered by
//! `actions/setup-go`, `setup-python`, `setup-node`, `setup-java` and many linters) make the
//! runner write the lines they match as `##[error]pkg/store/store.go:42:7: undefined: cfg`
//! or `##[warning]…`, and a tool's workflow commands reach the log echoed as
//! `::error file=…,line=…,col=…::message`.
//!
//! Each one is read here (marker stripped; file, line, column and message). An error
//! annotation that names the place a tool parser's failure names confirms it (the failure is
//! marked `annotated`, strong evidence for ranking); one that names a place no parser
//! claimed becomes a failure of its own. Warnings only confirm.

use std::sync::LazyLock;

use regex::Regex;

use super::Found;
use super::generic::one_line;
use super::util::window;
use crate::logs::{Failure, Kind, Level, StepLog};

/// `file:line[:col][:] message` or `file(line,col): message`, with an optional drive letter.
static LOCATED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^((?:[A-Za-z]:)?[\w./\\@+-]*[\w-]\.[A-Za-z0-9]{1,10})(?::(\d+)(?::(\d+))?:?|\((\d+),(\d+)\):?)\s*(.*)$",
    )
    .expect("static pattern")
});

/// `::error file=a.go,line=3,col=5,title=T::message`
static COMMAND: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^::(error|warning|notice)(?:\s+([^:]*))?::(.*)$").expect("static pattern")
});

/// One located annotation and the index of its line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Located {
    pub at: usize,
    pub level: Level,
    pub file: String,
    pub line: Option<u32>,
    pub column: Option<u32>,
    pub message: String,
}

/// Every annotation line of `step` that names a file, in log order.
pub fn located(step: &StepLog) -> Vec<Located> {
    step.lines
        .iter()
        .enumerate()
        .filter_map(|(at, l)| read_line(l.trim_start()).map(|a| Located { at, ..a }))
        .collect()
}

/// Reads one line: `##[error]…`/`##[warning]…` with a location, or an echoed workflow command.
pub fn read_line(line: &str) -> Option<Located> {
    let (level, body) = if let Some(b) = line.strip_prefix("##[error]") {
        (Level::Error, b)
    } else if let Some(b) = line.strip_prefix("##[warning]") {
        (Level::Warning, b)
    } else if let Some(b) = line.strip_prefix("##[notice]") {
        (Level::Notice, b)
    } else if line.starts_with("::") {
        return workflow_command(line);
    } else {
        return None;
    };
    if body.starts_with("::") {
        return workflow_command(body);
    }
    let c = LOCATED.captures(body.trim())?;
    let num = |i: usize| c.get(i).and_then(|m| m.as_str().parse().ok());
    Some(Located {
        at: 0,
        level,
        file: c[1].to_string(),
        line: num(2).or(num(4)),
        column: num(3).or(num(5)),
        message: one_line(&c[6]),
    })
}

fn workflow_command(line: &str) -> Option<Located> {
    let c = COMMAND.captures(line.trim())?;
    let level = match &c[1] {
        "error" => Level::Error,
        "warning" => Level::Warning,
        _ => Level::Notice,
    };
    let mut a = Located {
        at: 0,
        level,
        file: String::new(),
        line: None,
        column: None,
        message: one_line(&c[3]),
    };
    for kv in c.get(2).map_or("", |m| m.as_str()).split(',') {
        match kv.split_once('=').map(|(k, v)| (k.trim(), v.trim())) {
            Some(("file", v)) => a.file = v.to_string(),
            Some(("line", v)) => a.line = v.parse().ok(),
            Some(("col" | "column", v)) => a.column = v.parse().ok(),
            _ => {}
        }
    }
    (!a.file.is_empty()).then_some(a)
}

/// Marks the failures in `found` that an annotation confirms, and adds a failure for each
/// error annotation whose place no parser claimed.
pub fn apply(step: &StepLog, found: &mut Vec<Found>) {
    for a in located(step) {
        let mut confirmed = false;
        for f in found.iter_mut().filter(|f| same_place(&f.failure, &a)) {
            f.failure.annotated = true;
            confirmed = true;
        }
        if !confirmed && a.level == Level::Error {
            found.push(Found {
                at: a.at,
                failure: failure_of(step, &a),
            });
        }
    }
}

/// The failure an unclaimed error annotation stands for. The tool is the step's (a problem
/// matcher belongs to the tool it was registered for); the kind comes from the message.
fn failure_of(step: &StepLog, a: &Located) -> Failure {
    let tool = step_tool(step).unwrap_or("github");
    let kind = match super::classify::kind_of(&a.message) {
        Some(k) => k,
        None if is_lint_tool(tool) => Kind::Lint,
        None if a.message.to_ascii_lowercase().contains("test") => Kind::TestFailure,
        None => Kind::CompileError,
    };
    let mut f = Failure::new(tool, kind, a.message.clone()).at(a.file.clone(), a.line, a.column);
    f.annotated = true;
    f.with_excerpt(&window(&step.lines, a.at, 3, 3))
}

/// The known tool the step's first command runs (`go`, `golangci-lint`, `npx eslint` → eslint).
fn step_tool(step: &StepLog) -> Option<&'static str> {
    let names = super::tool_names();
    step.commands.iter().find_map(|c| {
        c.split_whitespace()
            .filter(|w| !matches!(*w, "npx" | "uv" | "run" | "poetry" | "python" | "-m"))
            .map(|w| w.rsplit('/').next().unwrap_or(w))
            .find_map(|w| names.iter().copied().find(|n| *n == w))
    })
}

fn is_lint_tool(tool: &str) -> bool {
    matches!(
        tool,
        "golangci-lint"
            | "staticcheck"
            | "eslint"
            | "ruff"
            | "flake8"
            | "pylint"
            | "clippy"
            | "shellcheck"
            | "stylelint"
    )
}

/// The annotation names the failure's place: the same line of the same file (one path may
/// be a tail of the other: the problem matcher and the tool may print them differently).
fn same_place(f: &Failure, a: &Located) -> bool {
    let Some(file) = f.file.as_deref() else {
        return false;
    };
    let norm = |p: &str| p.replace('\\', "/").trim_start_matches("./").to_string();
    let (x, y) = (norm(file), norm(&a.file));
    let tail = x == y || x.ends_with(&format!("/{y}")) || y.ends_with(&format!("/{x}"));
    tail && (a.line.is_none() || f.line == a.line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problem_matcher_lines_are_read_without_the_marker() {
        let a = read_line("##[error]pkg/store/store.go:42:7: undefined: cfg").unwrap();
        assert_eq!(a.file, "pkg/store/store.go");
        assert_eq!((a.line, a.column), (Some(42), Some(7)));
        assert_eq!(a.message, "undefined: cfg");
        assert_eq!(a.level, Level::Error);
        let w = read_line("##[warning]src/app.ts(3,5): error TS2322: nope").unwrap();
        assert_eq!(
            (w.file.as_str(), w.line, w.column),
            ("src/app.ts", Some(3), Some(5))
        );
        assert_eq!(w.level, Level::Warning);
        let win = read_line(r"##[error]D:\a\app\app\main.go:3:2: missing return").unwrap();
        assert_eq!(win.file, r"D:\a\app\app\main.go");
        assert!(read_line("##[error]Process completed with exit code 1.").is_none());
        assert!(read_line("plain text").is_none());
    }

    #[test]
    fn echoed_workflow_commands_are_read() {
        let a = read_line("::error file=app/main.py,line=3,col=5,title=E1::bad thing").unwrap();
        assert_eq!(a.file, "app/main.py");
        assert_eq!((a.line, a.column), (Some(3), Some(5)));
        assert_eq!(a.message, "bad thing");
        let b = read_line("##[error]::error file=x.go,line=9::boom").unwrap();
        assert_eq!((b.file.as_str(), b.line), ("x.go", Some(9)));
        assert!(read_line("::error::no file here").is_none());
    }
}
