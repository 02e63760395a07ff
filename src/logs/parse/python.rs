//! Python tools: pytest (every `--tb` style, collection and fixture errors, the short test
//! summary), unittest, plain tracebacks and `SyntaxError`s, mypy, ruff (check and format),
//! flake8 and pip.
//!
//! Tracebacks are read into frames, outermost first; a failure's location is the innermost
//! frame in the repository's own code (not site-packages or the interpreter's library), so
//! when a test calls into the code under test the code is named, and the test id stays in
//! `test`. `MemoryError` is reported as `oom` (the runner's memory, not the code, is the
//! usual culprit on CI).

mod lint;
mod pytest;
mod style;
mod traceback;

use super::Found;
use super::generic::unmarked;
use crate::logs::StepLog;

/// Tool names this parser answers to for `--tool`.
pub const TOOLS: &[&str] = &[
    "pytest",
    "unittest",
    "python",
    "mypy",
    "ruff",
    "flake8",
    "pip",
    "black",
    "poetry",
    "uv",
    "pylint",
    "isort",
    "pre-commit",
    "pyright",
];

/// Failures in `step`, with where each starts.
pub fn parse(step: &StepLog) -> Vec<Found> {
    let step = &*unmarked(step);
    let lines = &step.lines;
    let mut covered = vec![false; lines.len()];
    for (from, to) in lint::pip_output_blocks(lines) {
        covered[from..to].iter_mut().for_each(|c| *c = true);
    }
    let mut found = pytest::parse(lines, &mut covered);
    found.extend(traceback::parse_unittest(lines, &mut covered));
    found.extend(traceback::parse_plain(lines, &mut covered));
    found.extend(lint::parse(step));
    found.extend(style::parse(step));
    found
}

#[cfg(test)]
mod tests {
    use crate::logs::parse::corpus;

    #[test]
    fn corpus_python_cases() {
        corpus::assert_cases(&["py_", "make_wraps"], 20);
    }
}
