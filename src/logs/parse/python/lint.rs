//! Python checkers and installers: mypy (`x.py:12: error: … [code]`, with columns and
//! `--pretty` wrapping), ruff (concise `x.py:3:8: F401 [*] msg`, the full style's
//! `F401 msg` + ` --> x.py:3:8`, `ruff format --check` with or without `--diff`), black,
//! flake8, and pip's dependency, network and requirements-file failures.

use std::sync::LazyLock;

use regex::Regex;

use super::super::Found;
use super::super::generic::one_line;
use super::super::util::{first_changed_line, window};
use crate::logs::{Failure, Kind, StepLog};

static MYPY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^((?:[A-Za-z]:)?[^\s:]+\.pyi?):(?:(\d+):)?(?:(\d+):)?(?:\d+:\d+:)? error: (.*)$")
        .unwrap()
});
static MYPY_CODE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\s+\[([\w-]+)\]$").unwrap());
/// ruff concise (and pre-0.5 full) and flake8: `path:line:col: CODE msg`.
static CODE_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^((?:[A-Za-z]:)?[^\s:]+):(\d+):(\d+): ([A-Z]{1,4}\d{1,4}|SyntaxError:?|invalid-syntax:) (?:\[\*\] )?(.*)$")
        .unwrap()
});
/// ruff's full style: the headline above ` --> path:line:col`.
static ARROW: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\s*--> ((?:[A-Za-z]:)?[^\s:]+\.(?:py|pyi|ipynb)|pyproject\.toml):(\d+):(\d+)\s*$")
        .unwrap()
});
static HEADLINE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^([A-Z]{1,4}\d{1,4}|[a-z][\w-]*):? (?:\[\*\] )?(.*)$").unwrap());
static REFORMAT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:Would reformat|would reformat|reformatted):? (.+?)\s*$").unwrap()
});
/// `ruff format --diff`'s file header: `--- x.py` (no timestamp, unlike black's).
static DIFF_OLD: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^--- (\S+\.(?:py|pyi|ipynb))$").unwrap());
/// The summary both formatters end with: `1 file would be reformatted, 3 files …`.
static WOULD_REFORMAT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\d+ files? would be reformatted").unwrap());
static QUOTED: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"[`']([\w.]+)[`']").unwrap());
static PIP_NO_VERSION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^ERROR: (?:Could not find a version that satisfies the requirement|No matching distribution found for) (\S+)").unwrap()
});
static PIP_CONFLICT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^ERROR: (?:Cannot install (\S+).*conflicting dependencies.*|ResolutionImpossible.*)$",
    )
    .unwrap()
});
static PIP_CAUSE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\s+(\S+) \S+ depends on \S+").unwrap());
static PIP_REQ_LINE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^ERROR: Cannot install -r \S+ \(line (\d+)\)").unwrap());
static SOLVER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\s*(?:╰─▶ )?Because (?:the requested )?(?:package )?(\S+).*(?:version solving failed|requirements are unsatisfiable|we can conclude)").unwrap()
});
static STALE_LOCK: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:pyproject\.toml changed significantly since (poetry\.lock) was last generated|The lockfile at `(uv\.lock)` needs to be updated)").unwrap()
});
static SUBPROCESS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\s*error: (?:subprocess-exited-with-error|metadata-generation-failed)\s*$")
        .unwrap()
});
static PIP_SUBJECT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\s*(?:Processing|Collecting|Building wheel for|Obtaining|Preparing metadata .*for) (?:file://)?(\S+)").unwrap()
});
static OUTPUT_OPEN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"╰─> \[\d+ lines of output\]").unwrap());
static PIP_BUILD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:ERROR: )?(?:Failed to build installable wheels for some pyproject\.toml based projects \(([^),]+)|(?:Failed building wheel for|Failed to build|Could not build wheels for) (\S+?)[,\s]*$)").unwrap()
});
static PIP_CONFIG: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^ERROR: (Could not open requirements file: .*|Invalid requirement: .*|Directory '.*' is not installable.*)$").unwrap()
});
static PIP_PYTHON: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^ERROR: Package '([^']+)' requires a different Python").unwrap());
static PIP_NETWORK: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"Failed to establish a new connection|connection broken by|Max retries exceeded|Temporary failure in name resolution|Read timed out|ConnectTimeoutError|SSLError|ProxyError")
        .unwrap()
});
static REQUIREMENT_FILE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?:^|\s)(?:-r|--requirement)[ =]?(\S+)").unwrap());

/// Findings of mypy, ruff, black, flake8 and pip in `step`.
pub(super) fn parse(step: &StepLog) -> Vec<Found> {
    let lines = &step.lines;
    let mut found = mypy(lines);
    found.extend(code_lines(step));
    found.extend(ruff_full(lines));
    found.extend(reformat(step));
    found.extend(ruff_format_diffs(step));
    found.extend(pip(step));
    found.extend(solvers(step));
    found
}

fn mypy(lines: &[String]) -> Vec<Found> {
    let mut found = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let Some(c) = MYPY.captures(line) else {
            continue;
        };
        let mut message = c[4].trim().to_string();
        for next in lines[i + 1..].iter().take(4) {
            if next.starts_with(' ')
                || next.trim().is_empty()
                || MYPY.is_match(next)
                || next.starts_with("Found ")
            {
                break;
            }
            message = format!("{message} {}", next.trim());
        }
        let code = MYPY_CODE.captures(&message).map(|m| m[1].to_string());
        if let Some(m) = MYPY_CODE.find(&message) {
            message.truncate(m.start());
        }
        let message = match code {
            Some(code) => format!("{message}  [{code}]"),
            None => message,
        };
        let f = Failure::new("mypy", Kind::TypeError, one_line(&message))
            .at(
                &c[1],
                c.get(2).and_then(|m| m.as_str().parse().ok()),
                c.get(3).and_then(|m| m.as_str().parse().ok()),
            )
            .with_excerpt(&window(lines, i, 0, 3));
        found.push(Found { at: i, failure: f });
    }
    found
}

/// `ruff` or `flake8`, whichever the step ran (ruff's `[*]` and `--fix` hints tell too).
fn lint_tool(step: &StepLog) -> &'static str {
    let said = |word: &str| {
        step.commands.iter().any(|c| c.contains(word))
            || step.lines.iter().any(|l| l.contains(word))
    };
    if said("ruff") || step.lines.iter().any(|l| l.contains(" [*] ")) {
        "ruff"
    } else {
        "flake8"
    }
}

fn code_lines(step: &StepLog) -> Vec<Found> {
    let lines = &step.lines;
    let mut tool = None;
    let mut found = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let Some(c) = CODE_LINE.captures(line) else {
            continue;
        };
        let tool = *tool.get_or_insert_with(|| lint_tool(step));
        let code = c[4].trim_end_matches(':');
        let f = lint_failure(tool, code, &c[5]).at(&c[1], c[2].parse().ok(), c[3].parse().ok());
        found.push(Found {
            at: i,
            failure: f.with_excerpt(&window(lines, i, 0, 4)),
        });
    }
    found
}

/// A lint finding: `CODE message`, symbol = the first quoted name in the message.
fn lint_failure(tool: &str, code: &str, message: &str) -> Failure {
    let kind = match code {
        "SyntaxError" | "invalid-syntax" | "E999" => Kind::SyntaxError,
        _ => Kind::Lint,
    };
    let mut f = Failure::new(tool, kind, one_line(&format!("{code} {message}")));
    f.symbol = QUOTED.captures(message).map(|c| c[1].to_string());
    f
}

fn ruff_full(lines: &[String]) -> Vec<Found> {
    let mut found = Vec::new();
    for i in 1..lines.len() {
        let Some(arrow) = ARROW.captures(&lines[i]) else {
            continue;
        };
        let Some(head) = HEADLINE.captures(&lines[i - 1]) else {
            continue;
        };
        let (code, message) = (&head[1], &head[2]);
        let mut f = if code == "unformatted" {
            Failure::new(
                "ruff",
                Kind::Format,
                format!("{}: {}", code, message.trim()),
            )
        } else {
            lint_failure("ruff", code, message)
        };
        f = f.at(&arrow[1], arrow[2].parse().ok(), arrow[3].parse().ok());
        found.push(Found {
            at: i - 1,
            failure: f.with_excerpt(&window(lines, i - 1, 0, 6)),
        });
    }
    found
}

/// The step ran black (its command, its sign-off, its pre-commit hook).
fn ran_black(step: &StepLog) -> bool {
    step.commands.iter().any(|c| c.contains("black"))
        || step.lines.iter().any(|l| {
            l.starts_with("Oh no!") || l.starts_with("All done!") || l == "- hook id: black"
        })
}

/// `Would reformat: x.py` (ruff format --check, older ruff) and black's `would reformat x.py`.
fn reformat(step: &StepLog) -> Vec<Found> {
    let lines = &step.lines;
    let tool = if ran_black(step) { "black" } else { "ruff" };
    (0..lines.len())
        .filter_map(|i| {
            let c = REFORMAT.captures(&lines[i])?;
            let f = Failure::new(tool, Kind::Format, one_line(&lines[i])).at(&c[1], None, None);
            Some(Found {
                at: i,
                failure: f.with_excerpt(&window(lines, i, 0, 2)),
            })
        })
        .collect()
}

/// `ruff format --check --diff`: a unified diff per file (`--- x.py` / `+++ x.py`) and
/// the `N file(s) would be reformatted` summary, with no line naming the file otherwise.
/// Reported at the first changed line. Black's `--diff` names its files in `would
/// reformat` lines, which [`reformat`] reads, so a black step is left to it.
fn ruff_format_diffs(step: &StepLog) -> Vec<Found> {
    let lines = &step.lines;
    let ruff = step.commands.iter().any(|c| c.contains("ruff"))
        || lines.iter().any(|l| WOULD_REFORMAT.is_match(l));
    if !ruff || ran_black(step) {
        return Vec::new();
    }
    let mut found = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let Some(c) = DIFF_OLD.captures(line) else {
            continue;
        };
        let path = &c[1];
        if lines.get(i + 1).map(String::as_str) != Some(&format!("+++ {path}")) {
            continue;
        }
        let f = Failure::new("ruff", Kind::Format, format!("Would reformat: {path}"))
            .at(path, first_changed_line(lines, i + 1), None)
            .with_excerpt(&window(lines, i, 0, 8));
        found.push(Found { at: i, failure: f });
    }
    found
}

/// pip's failures: one per distinct problem; network trouble seen in the retries wins.
fn pip(step: &StepLog) -> Vec<Found> {
    let lines = &step.lines;
    let network = lines
        .iter()
        .position(|l| l.starts_with("WARNING: Retrying") && PIP_NETWORK.is_match(l));
    let requirements = step
        .commands
        .iter()
        .find_map(|c| REQUIREMENT_FILE.captures(c).map(|m| m[1].to_string()));
    let mut found: Vec<Found> = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let Some((kind, mut symbol)) = pip_problem(line).or_else(|| subprocess_error(lines, i))
        else {
            continue;
        };
        if line.contains("ResolutionImpossible") && !found.is_empty() {
            continue;
        }
        if symbol.as_deref().is_none_or(|s| s.starts_with('-')) && PIP_CONFLICT.is_match(line) {
            symbol = lines[i + 1..]
                .iter()
                .take(8)
                .find_map(|l| PIP_CAUSE.captures(l).map(|c| c[1].to_string()));
        }
        if found
            .iter()
            .any(|f| f.failure.symbol == symbol && symbol.is_some())
        {
            continue;
        }
        let mut f = match network {
            Some(n) if kind == Kind::Dependency => {
                Failure::new("pip", Kind::Network, one_line(&lines[n]))
            }
            _ if SUBPROCESS.is_match(line) => {
                Failure::new("pip", kind, subprocess_message(lines, i))
            }
            _ => Failure::new("pip", kind, one_line(line)),
        };
        if let Some(file) = &requirements {
            let line_no = PIP_REQ_LINE.captures(line).and_then(|c| c[1].parse().ok());
            f = f.at(file.clone(), line_no, None);
        }
        f.symbol = symbol;
        let at = network.filter(|_| f.kind == Kind::Network).unwrap_or(i);
        found.push(Found {
            at,
            failure: f.with_excerpt(&window(lines, i, 3, 2)),
        });
    }
    found
}

/// poetry's and uv's resolver failures and stale lock files.
fn solvers(step: &StepLog) -> Vec<Found> {
    let lines = &step.lines;
    let uv = step.commands.iter().any(|c| c.contains("uv "))
        || lines
            .iter()
            .any(|l| l.contains("No solution found when resolving"));
    let mut found = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let f = if let Some(c) = SOLVER.captures(line) {
            let mut f = Failure::new(
                if uv { "uv" } else { "poetry" },
                Kind::Dependency,
                one_line(line),
            );
            f.symbol =
                solver_culprit(line).or_else(|| Some(c[1].trim_end_matches(',').to_string()));
            f
        } else if let Some(c) = STALE_LOCK.captures(line) {
            let file = c.get(1).or(c.get(2)).map_or("", |m| m.as_str());
            let tool = if file == "uv.lock" { "uv" } else { "poetry" };
            Failure::new(tool, Kind::Dependency, one_line(line)).at(file, None, None)
        } else {
            continue;
        };
        found.push(Found {
            at: i,
            failure: f.with_excerpt(&window(lines, i, 2, 2)),
        });
        break;
    }
    found
}

/// The package a resolver explanation blames: `depends on X`, `no version of X`,
/// `X was not found`.
fn solver_culprit(line: &str) -> Option<String> {
    static CULPRIT: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"depends on ([A-Za-z0-9][\w.-]*)|no versions? of ([A-Za-z0-9][\w.-]*)|([A-Za-z0-9][\w.-]*) was not found").unwrap()
    });
    let c = CULPRIT.captures(line)?;
    c.get(1)
        .or(c.get(2))
        .or(c.get(3))
        .map(|m| m.as_str().trim_end_matches('.').to_string())
}

/// `error: subprocess-exited-with-error`: a package's build script failed; the package is
/// the last one pip said it was processing.
fn subprocess_error(lines: &[String], i: usize) -> Option<(Kind, Option<String>)> {
    if !SUBPROCESS.is_match(&lines[i]) {
        return None;
    }
    let subject = lines[..i]
        .iter()
        .rev()
        .find_map(|l| PIP_SUBJECT.captures(l).map(|c| c[1].to_string()));
    let name = subject.map(|s| {
        let base = s
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap_or(&s)
            .to_string();
        base.split(['=', '<', '>', '!', '~', '[', ';'])
            .next()
            .unwrap_or("")
            .to_string()
    });
    Some((Kind::Dependency, name.filter(|n| !n.is_empty())))
}

/// `× Preparing metadata (pyproject.toml) did not run successfully.` and the last line the
/// failing build printed (`RuntimeError: …`).
fn subprocess_message(lines: &[String], i: usize) -> String {
    let rest = &lines[i + 1..];
    let what = rest
        .iter()
        .take(4)
        .find_map(|l| l.trim().strip_prefix("× "))
        .unwrap_or("a build step failed");
    let last = rest
        .iter()
        .position(|l| l.trim() == "[end of output]")
        .and_then(|e| {
            rest[..e]
                .iter()
                .rev()
                .map(|l| l.trim())
                .find(|l| !l.is_empty())
        });
    match last {
        Some(last) => one_line(&format!("{what} {last}")),
        None => one_line(what),
    }
}

/// `[start, end)` of each `╰─> [N lines of output]` … `[end of output]` block pip quotes
/// from a build: a traceback inside is the package's, reported with pip's failure.
pub(super) fn pip_output_blocks(lines: &[String]) -> Vec<(usize, usize)> {
    (0..lines.len())
        .filter(|&i| OUTPUT_OPEN.is_match(&lines[i]))
        .map(|i| {
            let end = (i + 1..lines.len())
                .find(|&j| lines[j].trim() == "[end of output]")
                .unwrap_or(lines.len());
            (i, end)
        })
        .collect()
}

fn pip_problem(line: &str) -> Option<(Kind, Option<String>)> {
    let name = |s: &str| {
        let n: String = s
            .chars()
            .take_while(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'))
            .collect();
        Some(n).filter(|n| !n.is_empty())
    };
    if let Some(c) = PIP_NO_VERSION.captures(line) {
        return Some((Kind::Dependency, name(&c[1])));
    }
    if let Some(c) = PIP_CONFLICT.captures(line) {
        return Some((Kind::Dependency, c.get(1).and_then(|m| name(m.as_str()))));
    }
    if let Some(c) = PIP_BUILD.captures(line) {
        return Some((
            Kind::Dependency,
            c.get(1).or(c.get(2)).and_then(|m| name(m.as_str())),
        ));
    }
    if let Some(c) = PIP_PYTHON.captures(line) {
        return Some((Kind::Dependency, name(&c[1])));
    }
    PIP_CONFIG.is_match(line).then_some((Kind::Config, None))
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

    #[test]
    fn resolution_impossible_is_dependency() {
        let s = step(
            "ERROR: Cannot install flask==3.0.0 and werkzeug==2.0.0 because these package versions have conflicting dependencies.\n\nThe conflict is caused by:\n    flask 3.0.0 depends on Werkzeug>=3.0.0\n\nERROR: ResolutionImpossible: for help visit https://pip.pypa.io/en/latest/topics/dependency-resolution/#dealing-with-dependency-conflicts",
            "pip install -r requirements/dev.txt",
        );
        let f = pip(&s);
        assert_eq!(f[0].failure.kind, Kind::Dependency);
        assert_eq!(f[0].failure.symbol.as_deref(), Some("flask"));
        assert_eq!(f[0].failure.file.as_deref(), Some("requirements/dev.txt"));
        assert!(f[0].failure.message.contains("conflicting dependencies"));
    }

    #[test]
    fn poetry_and_uv_resolution() {
        let s = step(
            "Because app depends on requests (^9.0) which doesn't match any versions, version solving failed.",
            "poetry install",
        );
        let f = &solvers(&s)[0].failure;
        assert_eq!(
            (f.tool.as_str(), f.kind, f.symbol.as_deref()),
            ("poetry", Kind::Dependency, Some("requests"))
        );
        let s = step(
            "  × No solution found when resolving dependencies:\n  ╰─▶ Because there is no version of numpy==9.9 and you require numpy==9.9, we can conclude that your requirements are unsatisfiable.",
            "uv sync",
        );
        assert_eq!(solvers(&s)[0].failure.tool, "uv");
        assert_eq!(solvers(&s)[0].failure.symbol.as_deref(), Some("numpy"));
        let s = step(
            "error: The lockfile at `uv.lock` needs to be updated, but `--locked` was provided. To update the lockfile, run `uv lock`.",
            "uv sync --locked",
        );
        assert_eq!(solvers(&s)[0].failure.file.as_deref(), Some("uv.lock"));
    }

    #[test]
    fn pip_build_failures_name_the_package() {
        assert_eq!(pip_problem("ERROR: Failed to build installable wheels for some pyproject.toml based projects (psycopg2)").unwrap().1.as_deref(), Some("psycopg2"));
        assert_eq!(
            pip_problem("  ERROR: Failed building wheel for lxml").map(|p| p.0),
            None
        );
        assert_eq!(
            pip_problem("ERROR: Failed building wheel for lxml")
                .unwrap()
                .1
                .as_deref(),
            Some("lxml")
        );
    }

    #[test]
    fn old_ruff_format_and_black() {
        let f = reformat(&step(
            "Would reformat: src/app/models.py\n1 file would be reformatted",
            "ruff format --check .",
        ));
        assert_eq!(
            (f[0].failure.tool.as_str(), f[0].failure.file.as_deref()),
            ("ruff", Some("src/app/models.py"))
        );
        let f = reformat(&step(
            "would reformat /home/runner/work/a/a/x.py\n\nOh no! 💥 💔 💥",
            "black --check .",
        ));
        assert_eq!(f[0].failure.tool, "black");
        assert_eq!(f[0].failure.kind, Kind::Format);
    }

    /// Issue 8: ruff 0.17's `ruff format --check --diff` prints only a diff and a summary.
    #[test]
    fn ruff_format_diff() {
        let s = step(
            "--- calc/stats.py\n+++ calc/stats.py\n@@ -7,11 +7,11 @@\n     return sum(values) / len(values)\n \n \n-def median( values ):\n+def median(values):\n\n1 file would be reformatted, 3 files already formatted",
            "ruff format --check --diff",
        );
        let f = &ruff_format_diffs(&s)[0].failure;
        assert_eq!(
            (f.tool.as_str(), f.kind, f.file.as_deref(), f.line),
            ("ruff", Kind::Format, Some("calc/stats.py"), Some(10))
        );
        let black = step(
            "--- /w/x.py\t2026-12-02 19:56:31+00:00\n+++ /w/x.py\t2026-12-02 19:56:32+00:00\n@@ -1 +1 @@\n-x=1\n+x = 1\nwould reformat /w/x.py\n\nOh no! 💥 💔 💥\n1 file would be reformatted.",
            "black --check --diff .",
        );
        assert!(
            ruff_format_diffs(&black).is_empty(),
            "black's own parser reads it"
        );
        let git = step("--- a.py\n+++ a.py\n@@ -1 +1 @@\n-x\n+y", "git diff");
        assert!(
            ruff_format_diffs(&git).is_empty(),
            "a diff alone is not ruff"
        );
    }

    #[test]
    fn flake8_on_windows_paths_and_syntax() {
        let f = code_lines(&step(
            ".\\app\\x.py:3:1: E999 SyntaxError: invalid syntax",
            "flake8",
        ));
        assert_eq!(f[0].failure.kind, Kind::SyntaxError);
        assert_eq!(f[0].failure.tool, "flake8");
    }

    #[test]
    fn mypy_file_level_error_has_no_line() {
        let f = mypy(&["app/x.py: error: Duplicate module named \"x\"".to_string()]);
        assert_eq!(f[0].failure.line, None);
        assert_eq!(f[0].failure.file.as_deref(), Some("app/x.py"));
    }

    #[test]
    fn rust_warnings_are_not_ruff() {
        let s = step(
            "warning: unused import: `std::io`\n --> src/main.rs:1:5",
            "cargo build",
        );
        assert!(ruff_full(&s.lines).is_empty());
    }
}
