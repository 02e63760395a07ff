//! Python checkers and installers: mypy (`x.py:12: error: … [code]`, with columns and
//! `--pretty` wrapping), ruff (concise `x.py:3:8: F401 [*] msg`, the full style's
//! `F401 msg` + ` --> x.py:3:8`, `ruff format --check`), black, flake8, and pip's
//! dependency, network and requirements-file failures.

use std::sync::LazyLock;

use regex::Regex;

use super::super::Found;
use super::super::generic::one_line;
use super::super::util::window;
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
static REFORMAT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(?:Would reformat|would reformat):? (.+?)\s*$").unwrap());
static QUOTED: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"[`']([\w.]+)[`']").unwrap());
static PIP_NO_VERSION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^ERROR: (?:Could not find a version that satisfies the requirement|No matching distribution found for) (\S+)").unwrap()
});
static PIP_CONFLICT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^ERROR: (?:Cannot install (\S+?)(?:,| and ).*conflicting dependencies.*|ResolutionImpossible.*)$").unwrap()
});
static PIP_BUILD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:ERROR: )?(?:Failed building wheel for|Failed to build|Could not build wheels for) (\S+?)[,\s]*").unwrap()
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
    found.extend(pip(step));
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

/// `Would reformat: x.py` (ruff format --check, older ruff) and black's `would reformat x.py`.
fn reformat(step: &StepLog) -> Vec<Found> {
    let lines = &step.lines;
    let black = step.commands.iter().any(|c| c.contains("black"))
        || lines.iter().any(|l| l.starts_with("Oh no!"));
    let tool = if black { "black" } else { "ruff" };
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
        let Some((kind, symbol)) = pip_problem(line) else {
            continue;
        };
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
            _ => Failure::new("pip", kind, one_line(line)),
        };
        if let Some(file) = &requirements {
            f = f.at(file.clone(), None, None);
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
        return Some((Kind::Dependency, name(&c[1])));
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
