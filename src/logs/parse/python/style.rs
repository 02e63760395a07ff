//! pylint (`x.py:9:18: E0602: Undefined variable 'y' (undefined-variable)`), isort's
//! `--check-only`, and pre-commit hooks that failed by modifying files (`- files were
//! modified by this hook`, `Fixing x.py`) when the hook's own tool is not recognised.

use std::sync::LazyLock;

use regex::Regex;

use super::super::Found;
use super::super::generic::one_line;
use super::super::util::window;
use crate::logs::{Failure, Kind, StepLog};

static PYLINT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^((?:[A-Za-z]:)?[^\s:]+\.py):(\d+):(\d+): ([CRWEFI])(\d{4}): (.*?)(?: \(([\w-]+)\))?\s*$",
    )
    .unwrap()
});
static QUOTED: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"'([\w.]+)'").unwrap());
static PYRIGHT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\s*((?:[A-Za-z]:)?[^\s:]+\.pyi?):(\d+):(\d+) - error: (.*?)\s*$").unwrap()
});
static DOUBLE_QUOTED: LazyLock<Regex> = LazyLock::new(|| Regex::new(r#""([\w.]+)""#).unwrap());
static ISORT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^ERROR: (.+?) Imports are incorrectly sorted and/or formatted\.?\s*$").unwrap()
});
static HOOK: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(.+?)\.{3,}(?:\(no files to check\))?(Failed|Passed|Skipped)\s*$").unwrap()
});
static FIXED_FILE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:Fixing|Fixed|fixing|reformatted|Reformatting|Formatted) (\S+)\s*$").unwrap()
});
/// Lines the hook's own tool prints that other parsers report.
static TOOL_FINDING: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:reformatted |would reformat |Would reformat|\S+:\d+(?::\d+)?[: ])").unwrap()
});

/// pylint, isort and pre-commit findings in `step`.
pub(super) fn parse(step: &StepLog) -> Vec<Found> {
    let lines = &step.lines;
    let mut found = pylint(lines);
    found.extend(isort(lines));
    found.extend(pyright(lines));
    found.extend(pre_commit(lines));
    found
}

/// pylint's messages of the most severe category present (fatal and error before warning,
/// before refactor and convention): those are what to fix first.
fn pylint(lines: &[String]) -> Vec<Found> {
    let hits: Vec<(usize, regex::Captures)> = lines
        .iter()
        .enumerate()
        .filter_map(|(i, l)| PYLINT.captures(l).map(|c| (i, c)))
        .collect();
    let rank = |c: &str| match c {
        "F" | "E" => 0,
        "W" => 1,
        _ => 2,
    };
    let Some(worst) = hits.iter().map(|(_, c)| rank(&c[4])).min() else {
        return Vec::new();
    };
    hits.into_iter()
        .filter(|(_, c)| rank(&c[4]) == worst)
        .map(|(i, c)| {
            let code = format!("{}{}", &c[4], &c[5]);
            let kind = match code.as_str() {
                "E0001" => Kind::SyntaxError,
                "E0401" => Kind::ImportError,
                _ => Kind::Lint,
            };
            let rule = c
                .get(7)
                .map_or(String::new(), |m| format!(" ({})", m.as_str()));
            let mut f = Failure::new(
                "pylint",
                kind,
                one_line(&format!("{code}: {}{rule}", &c[6])),
            )
            .at(&c[1], c[2].parse().ok(), c[3].parse().ok());
            f.symbol = QUOTED.captures(&c[6]).map(|q| q[1].to_string());
            Found {
                at: i,
                failure: f.with_excerpt(&window(lines, i, 0, 2)),
            }
        })
        .collect()
}

/// pyright's `  /path/x.py:12:5 - error: message (rule)` under a file header line.
fn pyright(lines: &[String]) -> Vec<Found> {
    let mut found = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let Some(c) = PYRIGHT.captures(line) else {
            continue;
        };
        let message = &c[4];
        let kind = if message.starts_with("Import ") && message.contains("could not be resolved") {
            Kind::ImportError
        } else {
            Kind::TypeError
        };
        let mut f = Failure::new("pyright", kind, one_line(message)).at(
            &c[1],
            c[2].parse().ok(),
            c[3].parse().ok(),
        );
        f.symbol = DOUBLE_QUOTED.captures(message).map(|q| q[1].to_string());
        found.push(Found {
            at: i,
            failure: f.with_excerpt(&window(lines, i, 1, 2)),
        });
    }
    found
}

fn isort(lines: &[String]) -> Vec<Found> {
    (0..lines.len())
        .filter_map(|i| {
            let c = ISORT.captures(&lines[i])?;
            let f = Failure::new("isort", Kind::Format, one_line(&lines[i])).at(&c[1], None, None);
            Some(Found {
                at: i,
                failure: f.with_excerpt(&window(lines, i, 0, 2)),
            })
        })
        .collect()
}

/// Failed pre-commit hooks that modified files and whose output no other parser reads.
fn pre_commit(lines: &[String]) -> Vec<Found> {
    let hooks: Vec<usize> = (0..lines.len())
        .filter(|&i| HOOK.is_match(&lines[i]))
        .collect();
    let mut found = Vec::new();
    for (n, &i) in hooks.iter().enumerate() {
        let c = HOOK.captures(&lines[i]).unwrap();
        let end = hooks.get(n + 1).copied().unwrap_or(lines.len());
        let body = &lines[i + 1..end];
        let modified = body
            .iter()
            .any(|l| l.trim() == "- files were modified by this hook");
        if &c[2] != "Failed" || !modified || body.iter().any(|l| TOOL_FINDING.is_match(l)) {
            continue;
        }
        let hook_id = body
            .iter()
            .find_map(|l| l.strip_prefix("- hook id: "))
            .unwrap_or(c[1].trim());
        let mut f = Failure::new(
            "pre-commit",
            Kind::Format,
            format!("hook {hook_id} modified files"),
        );
        if let Some(file) = body
            .iter()
            .find_map(|l| FIXED_FILE.captures(l).map(|m| m[1].to_string()))
        {
            f = f.at(file, None, None);
        }
        f.symbol = Some(hook_id.to_string());
        found.push(Found {
            at: i,
            failure: f.with_excerpt(&window(lines, i, 0, body.len().min(8))),
        });
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<String> {
        text.lines().map(str::to_string).collect()
    }

    #[test]
    fn pylint_reports_the_worst_category_only() {
        let l = lines(
            "************* Module app.x\napp/x.py:1:0: C0114: Missing module docstring (missing-module-docstring)\napp/x.py:3:0: E0401: Unable to import 'yaml' (import-error)",
        );
        let found = pylint(&l);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].failure.kind, Kind::ImportError);
        assert_eq!(found[0].failure.symbol.as_deref(), Some("yaml"));
    }

    #[test]
    fn pyright_errors() {
        let l = lines(
            "/home/runner/work/app/app/app/x.py\n  /home/runner/work/app/app/app/x.py:3:8 - error: Import \"yaml\" could not be resolved (reportMissingImports)\n  /home/runner/work/app/app/app/x.py:9:12 - error: \"totl\" is not defined (reportUndefinedVariable)\n2 errors, 0 warnings, 0 informations",
        );
        let found = pyright(&l);
        assert_eq!(found.len(), 2);
        assert_eq!(
            (found[0].failure.kind, found[0].failure.symbol.as_deref()),
            (Kind::ImportError, Some("yaml"))
        );
        assert_eq!(
            (found[1].failure.kind, found[1].failure.line),
            (Kind::TypeError, Some(9))
        );
    }

    #[test]
    fn pre_commit_fixers_without_their_own_format() {
        let l = lines(
            "trim trailing whitespace.................................................Failed\n- hook id: trailing-whitespace\n- exit code: 1\n- files were modified by this hook\n\nFixing app/x.py\n\ncheck yaml...............................................................Passed",
        );
        let f = &pre_commit(&l)[0].failure;
        assert_eq!((f.tool.as_str(), f.kind), ("pre-commit", Kind::Format));
        assert_eq!(f.file.as_deref(), Some("app/x.py"));
        assert_eq!(f.symbol.as_deref(), Some("trailing-whitespace"));
    }

    #[test]
    fn hooks_whose_tool_is_recognised_are_left_to_it() {
        let l = lines(
            "black....Failed\n- hook id: black\n- files were modified by this hook\n\nreformatted app/x.py\n",
        );
        assert!(pre_commit(&l).is_empty());
    }
}
