//! Shell- and make-level failures: commands that do not exist (`bash: line 1: foo: command
//! not found`, dash's `sh: 1: foo: not found`, zsh, PowerShell, `env: 'foo'`), scripts
//! that cannot run, missing files that stopped a `set -e` script, and GNU make's
//! `make: *** [Makefile:12: test] Error 1`, `No rule to make target` and `missing
//! separator`.
//!
//! A make error names the recipe that failed; the tool that failed inside it prints its own
//! error earlier in the log, and that earlier finding comes first in log order.

use std::sync::LazyLock;

use regex::Regex;

use super::Found;
use super::generic::{is_meaningful, one_line, unmarked};
use super::util::window;
use crate::logs::{Failure, Kind, StepLog};

/// Tool names this parser answers to for `--tool`.
pub const TOOLS: &[&str] = &["shell", "make"];

/// `<where>: line 3: foo: command not found`, `bash: foo: command not found`,
/// `sh: 1: foo: not found`, `/x/run.sh: 4: foo: not found`, `zsh: command not found: foo`.
static NOT_FOUND: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"^(?P<script>[^\s:]+): line (?P<line>\d+): (?P<cmd>[^\s:]+): command not found\s*$",
        r"|^(?P<dscript>[^\s:]+): (?P<dline>\d+): (?P<dcmd>[^\s:]+): not found\s*$",
        r"|^(?:[\w/.-]+: )?(?P<bcmd>[^\s:]+): command not found\s*$",
        r"|^zsh: command not found: (?P<zcmd>\S+)\s*$",
        r"|^(?:/usr)?(?:/bin/)?env: [‘']?(?P<ecmd>[^'‘’:]+)[’']?: No such file or directory\s*$",
        r"|The term '(?P<pcmd>[^']+)' is not recognized as (?:the|a) name of a cmdlet",
        r"|^make(?:\[\d+\])?: (?P<mcmd>[^\s:*]+): (?:Command not found|No such file or directory)\s*$",
    ))
    .unwrap()
});
/// bash failing to run a script that is missing or not executable.
static CANNOT_RUN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:/usr)?(?:/bin/)?(?:ba)?sh: (?:line \d+: )?(?P<cmd>\S+): (?P<why>No such file or directory|Permission denied)\s*$").unwrap()
});
/// `cp: cannot stat 'x': No such file or directory` and other coreutils complaints.
static MISSING_FILE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^[\w.-]+: (?:[\w ]+ )?[‘']?(?P<path>[^'‘’:]+?)[’']?: No such file or directory\s*$",
    )
    .unwrap()
});
static MAKE_ERROR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:g|mingw32-)?make(?:\[\d+\])?: \*\*\* \[(?:(?P<file>[^\]:]+):(?P<line>\d+): )?(?P<target>[^\]]+)\] (?:Error (?P<code>\d+)|Killed|Terminated|Interrupt)").unwrap()
});
static MAKE_NO_RULE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:g|mingw32-)?make(?:\[\d+\])?: \*\*\* (?:No rule to make target '(?P<target>[^']+)'|No targets specified and no makefile found).*Stop\.\s*$").unwrap()
});
static MAKE_SYNTAX: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?P<file>[^\s:]*[Mm]akefile[^\s:]*|[^\s:]+\.mk):(?P<line>\d+): \*\*\* (?P<msg>.+?)\.?\s+Stop\.\s*$").unwrap()
});
static MAKE_LINE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(?:g|mingw32-)?make(?:\[\d+\])?: ").unwrap());
static ERRORISH: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)error|fail|fatal|cannot|can't|not found|no such file|denied|invalid|abort|killed",
    )
    .unwrap()
});

/// Failures in `step`, with where each starts.
pub fn parse(step: &StepLog) -> Vec<Found> {
    let step = &*unmarked(step);
    let lines = &step.lines;
    let mut found = not_found(lines);
    let make = make(lines);
    let used: Vec<usize> = make.iter().filter_map(|(_, cause)| *cause).collect();
    found.extend(missing_file(step, &used));
    found.extend(make.into_iter().map(|(f, _)| f));
    found
}

fn not_found(lines: &[String]) -> Vec<Found> {
    let mut found = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let f = if let Some(c) = NOT_FOUND.captures(line) {
            let cmd = ["cmd", "dcmd", "bcmd", "zcmd", "ecmd", "pcmd", "mcmd"]
                .iter()
                .find_map(|n| c.name(n))
                .map_or("", |m| m.as_str());
            let mut f = Failure::new("shell", Kind::CommandNotFound, one_line(line));
            f.symbol = Some(cmd.to_string());
            let line_no = c
                .name("line")
                .or(c.name("dline"))
                .and_then(|m| m.as_str().parse().ok());
            let script = c.name("script").or(c.name("dscript")).map(|m| m.as_str());
            if let Some(script) = script.filter(|s| is_repo_script(s)) {
                f = f.at(script, line_no, None);
            }
            f
        } else if let Some(c) = CANNOT_RUN.captures(line) {
            let kind = if &c["why"] == "Permission denied" {
                Kind::Config
            } else {
                Kind::CommandNotFound
            };
            let mut f = Failure::new("shell", kind, one_line(line));
            f.symbol = Some(c["cmd"].to_string());
            f
        } else {
            continue;
        };
        found.push(Found {
            at: i,
            failure: f.with_excerpt(&window(lines, i, 3, 1)),
        });
    }
    found
}

/// A script file of the repository, not the runner's generated `_temp/*.sh` nor a shell name.
fn is_repo_script(script: &str) -> bool {
    !script.contains("/_temp/")
        && !matches!(
            script,
            "bash" | "sh" | "/bin/sh" | "/bin/bash" | "/usr/bin/bash" | "dash" | "zsh"
        )
}

/// A missing file that stopped the script: only among the last lines the step printed, and
/// not when a make error already quotes it.
fn missing_file(step: &StepLog, used: &[usize]) -> Vec<Found> {
    let lines = &step.lines;
    let tail: Vec<usize> = (0..lines.len())
        .rev()
        .filter(|&i| is_meaningful(&lines[i]))
        .take(3)
        .collect();
    let Some(&i) = tail
        .iter()
        .rev()
        .find(|&&i| MISSING_FILE.is_match(&lines[i]) && !used.contains(&i))
    else {
        return Vec::new();
    };
    if NOT_FOUND.is_match(&lines[i]) || CANNOT_RUN.is_match(&lines[i]) {
        return Vec::new();
    }
    let mut f = Failure::new("shell", Kind::Unknown, one_line(&lines[i]));
    f.symbol = MISSING_FILE
        .captures(&lines[i])
        .map(|c| c["path"].to_string());
    vec![Found {
        at: i,
        failure: f.with_excerpt(&window(lines, i, 4, 1)),
    }]
}

/// make's own errors; only the first `*** [...] Error` (the innermost recipe), with the
/// index of the line it quotes as its cause.
fn make(lines: &[String]) -> Vec<(Found, Option<usize>)> {
    let mut found = Vec::new();
    if let Some(i) = lines.iter().position(|l| MAKE_ERROR.is_match(l)) {
        found.push(recipe_failure(lines, i));
    }
    for (i, line) in lines.iter().enumerate() {
        let f = if let Some(c) = MAKE_NO_RULE.captures(line) {
            let mut f = Failure::new("make", Kind::Config, one_line(line));
            f.symbol = c.name("target").map(|m| m.as_str().to_string());
            f
        } else if let Some(c) = MAKE_SYNTAX.captures(line) {
            Failure::new("make", Kind::SyntaxError, one_line(line)).at(
                &c["file"],
                c["line"].parse().ok(),
                None,
            )
        } else {
            continue;
        };
        found.push((
            Found {
                at: i,
                failure: f.with_excerpt(&window(lines, i, 2, 0)),
            },
            None,
        ));
    }
    found
}

/// `make: *** [Makefile:5: dist] Error 1`: the recipe's location, and as message the error
/// line printed just before it when there is one.
fn recipe_failure(lines: &[String], i: usize) -> (Found, Option<usize>) {
    let c = MAKE_ERROR.captures(&lines[i]).unwrap();
    let cause = (i.saturating_sub(4)..i).rev().find(|&j| {
        is_meaningful(&lines[j]) && !MAKE_LINE.is_match(&lines[j]) && ERRORISH.is_match(&lines[j])
    });
    let kind = match c.name("code").map(|m| m.as_str()) {
        Some("127") => Kind::CommandNotFound,
        _ => Kind::Unknown,
    };
    let message = cause.map_or_else(|| one_line(&lines[i]), |j| one_line(&lines[j]));
    let mut f = Failure::new("make", kind, message);
    f.symbol = Some(c["target"].to_string());
    let file = c.name("file").map_or("Makefile", |m| m.as_str());
    f = f.at(
        file,
        c.name("line").and_then(|m| m.as_str().parse().ok()),
        None,
    );
    let at = cause.unwrap_or(i);
    (
        Found {
            at,
            failure: f.with_excerpt(&window(lines, i, i - at + 2, 0)),
        },
        cause,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::parse::corpus;

    fn step(text: &str) -> StepLog {
        StepLog {
            failed: true,
            lines: text.lines().map(str::to_string).collect(),
            ..StepLog::default()
        }
    }

    #[test]
    fn corpus_shell_and_make_cases() {
        corpus::assert_cases(&["sh_", "make_"], 6);
    }

    #[test]
    fn every_not_found_style() {
        for (line, cmd) in [
            ("bash: line 1: jq: command not found", "jq"),
            ("bash: jq: command not found", "jq"),
            ("/bin/sh: 1: jq: not found", "jq"),
            ("zsh: command not found: jq", "jq"),
            ("env: 'jq': No such file or directory", "jq"),
            (
                "/usr/bin/env: 'python': No such file or directory",
                "python",
            ),
            (
                "jq : The term 'jq' is not recognized as a name of a cmdlet, function, script file, or executable program.",
                "jq",
            ),
            ("make: jq: No such file or directory", "jq"),
            ("bash: ./gradlew: No such file or directory", "./gradlew"),
        ] {
            let f = &parse(&step(line))[0].failure;
            assert_eq!(f.symbol.as_deref(), Some(cmd), "{line}");
            assert_eq!(f.kind, Kind::CommandNotFound, "{line}");
        }
    }

    #[test]
    fn repo_scripts_are_located() {
        let f = &parse(&step(
            "./scripts/release.sh: line 12: gh: command not found",
        ))[0]
            .failure;
        assert_eq!(
            (f.file.as_deref(), f.line),
            (Some("./scripts/release.sh"), Some(12))
        );
    }

    #[test]
    fn recursive_make_reports_the_innermost_recipe() {
        let s = step(
            "make[1]: Entering directory '/w/app/lib'\ngcc -c x.c\nmake[1]: *** [Makefile:7: x.o] Error 1\nmake[1]: Leaving directory '/w/app/lib'\nmake: *** [Makefile:3: all] Error 2",
        );
        let found = parse(&s);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].failure.line, Some(7));
        assert_eq!(found[0].failure.symbol.as_deref(), Some("x.o"));
    }

    #[test]
    fn missing_separator_and_old_make() {
        let f = &parse(&step("Makefile:4: *** missing separator.  Stop."))[0].failure;
        assert_eq!((f.kind, f.line), (Kind::SyntaxError, Some(4)));
        let f = &parse(&step("make: *** [test] Error 2"))[0].failure;
        assert_eq!((f.file.as_deref(), f.line), (Some("Makefile"), None));
    }

    #[test]
    fn benign_missing_files_early_in_the_log_are_ignored() {
        let s = step(
            "ls: cannot access 'cache': No such file or directory\nbuilding\nstep 2\nstep 3\nstep 4",
        );
        assert!(parse(&s).is_empty());
    }
}
