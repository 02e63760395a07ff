//! The fallback parser, for failed steps no ecosystem parser understood, and small helpers
//! the Python, JavaScript, shell and infra parsers share.
//!
//! It never answers nothing for a failed step: the last error-like line (`error`, `Error:`,
//! `FAILED`, `fatal:`) becomes the message, a `path:line(:col)` near it the location, and
//! the lines before `##[error]Process completed with exit code N.` the excerpt.

use std::sync::LazyLock;

use regex::Regex;

use super::Found;
use super::util::window;
use crate::logs::{Failure, Kind, StepLog};

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
    let mut failure = Failure::new("unknown", Kind::Unknown, one_line(&step.lines[at]));
    if let Some((file, line, column)) = location_near(&step.lines, at) {
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
        && !t.starts_with("##[")
        && !t.starts_with("[command]")
        && !t.starts_with("shell: ")
        && !t
            .chars()
            .all(|c| matches!(c, '=' | '-' | '_' | '*' | '~' | '#' | ' '))
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
    let p = path.replace('\\', "/");
    p.starts_with('<')
        || p.starts_with("node:")
        || p.starts_with("internal/")
        || [
            "site-packages/",
            "dist-packages/",
            "node_modules/",
            "/hostedtoolcache/",
            "/lib/python",
            "/usr/lib/",
            "/usr/share/nodejs/",
            "/usr/local/lib/",
            "/.pyenv/",
            "/.nvm/",
        ]
        .iter()
        .any(|m| p.contains(m))
}

#[cfg(test)]
pub(crate) mod corpus {
    //! Loads the committed corpus (tests/corpus/cases) as `StepLog`s, the way the archive
    //! reader would present a step, so each parser is checked on real output.

    use std::path::{Path, PathBuf};

    use crate::logs::{Failure, StepLog};

    /// One case: its name, the step as parsers see it, and what it expects.
    pub struct Case {
        pub name: String,
        pub step: StepLog,
        pub expected: toml::Table,
    }

    /// Cases whose names start with one of `prefixes`.
    pub fn load(prefixes: &[&str]) -> Vec<Case> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/cases");
        let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
            .map(|rd| rd.filter_map(|e| e.ok()).map(|e| e.path()).collect())
            .unwrap_or_default();
        dirs.sort();
        dirs.into_iter()
            .filter(|d| d.join("meta.toml").is_file())
            .filter(|d| {
                let name = d.file_name().unwrap().to_string_lossy().to_string();
                prefixes.iter().any(|p| name.starts_with(p))
            })
            .map(|d| read_case(&d))
            .collect()
    }

    fn read_case(dir: &Path) -> Case {
        let read = |f: &str| std::fs::read_to_string(dir.join(f)).unwrap();
        let meta: toml::Table = toml::from_str(&read("meta.toml")).unwrap();
        let expected: toml::Table = toml::from_str(&read("expected.toml")).unwrap();
        let cmd = meta["cmd"].as_str().unwrap();
        let code = meta["exit"].as_integer().unwrap() as i32;
        let first = cmd.lines().next().unwrap_or("");
        // the lines the archive reader keeps for a `run:` step: group title, script echo,
        // shell, the output, the closing error marker
        let mut lines = vec![format!("##[group]Run {first}")];
        lines.extend(cmd.lines().map(str::to_string));
        lines.push("shell: /usr/bin/bash -e {0}".to_string());
        lines.extend(read("output.txt").lines().map(strip_ansi));
        lines.push(format!("##[error]Process completed with exit code {code}."));
        let step = StepLog {
            job: meta["job"].as_str().unwrap().to_string(),
            step: format!("Run {first}"),
            failed: true,
            exit_code: Some(code),
            lines,
            commands: cmd.lines().map(str::to_string).collect(),
            ..StepLog::default()
        };
        Case {
            name: dir.file_name().unwrap().to_string_lossy().to_string(),
            step,
            expected,
        }
    }

    /// CSI, OSC and charset-designation escapes removed, and `\r` overwrites resolved.
    pub fn strip_ansi(line: &str) -> String {
        let line = line.rsplit('\r').find(|s| !s.is_empty()).unwrap_or("");
        let mut out = String::new();
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            if c != '\x1b' {
                out.push(c);
                continue;
            }
            match chars.next() {
                Some('[') => {
                    for n in chars.by_ref() {
                        if ('\x40'..='\x7e').contains(&n) {
                            break;
                        }
                    }
                }
                Some(']') => {
                    for n in chars.by_ref() {
                        if n == '\x07' || n == '\\' {
                            break;
                        }
                    }
                }
                Some('(') | Some(')') => {
                    chars.next();
                }
                _ => {}
            }
        }
        out
    }

    /// A runner path made repo-relative, as triage does.
    pub fn relative(path: &str) -> String {
        let p = path.replace('\\', "/");
        let p = match p.find("/home/runner/work/app/app/") {
            Some(i) => p[i + "/home/runner/work/app/app/".len()..].to_string(),
            None => p,
        };
        p.trim_start_matches("./").to_string()
    }

    /// What differs between the first failure and the case's expectations.
    pub fn check(case: &Case, failures: &[Failure]) -> Vec<String> {
        let Some(got) = failures.first() else {
            return vec![format!("{}: nothing found", case.name)];
        };
        let e = &case.expected;
        let s = |k: &str| e.get(k).and_then(|v| v.as_str()).map(str::to_string);
        let mut diffs = Vec::new();
        let mut want = |what: &str, ok: bool, detail: String| {
            if !ok {
                diffs.push(format!("{}: {what}: {detail}", case.name));
            }
        };
        want(
            "tool",
            s("tool").as_deref() == Some(&got.tool),
            format!("got {}", got.tool),
        );
        want(
            "kind",
            s("kind").as_deref() == Some(got.kind.as_str()),
            format!("got {}", got.kind),
        );
        if let Some(file) = s("file") {
            let rel = got.file.as_deref().map(relative);
            want(
                "file",
                rel.as_deref() == Some(&file),
                format!("got {:?} want {file}", got.file),
            );
        }
        if let Some(line) = e.get("line").and_then(|v| v.as_integer()) {
            want(
                "line",
                got.line == Some(line as u32),
                format!("got {:?} want {line}", got.line),
            );
        }
        if let Some(m) = s("message_contains") {
            want(
                "message",
                got.message.contains(&m),
                format!("{:?} lacks {m:?}", got.message),
            );
        }
        if let Some(t) = s("test") {
            want(
                "test",
                got.test.as_deref() == Some(&t),
                format!("got {:?} want {t}", got.test),
            );
        }
        if let Some(sym) = s("symbol") {
            want(
                "symbol",
                got.symbol.as_deref() == Some(&sym),
                format!("got {:?} want {sym}", got.symbol),
            );
        }
        want("excerpt", !got.excerpt.is_empty(), "empty".into());
        want(
            "message is one line",
            !got.message.contains('\n'),
            got.message.clone(),
        );
        diffs
    }

    /// Runs the real dispatch on every case with one of `prefixes` and fails with all diffs.
    pub fn assert_cases(prefixes: &[&str], at_least: usize) {
        let cases = load(prefixes);
        assert!(
            cases.len() >= at_least,
            "only {} corpus cases for {prefixes:?}",
            cases.len()
        );
        let diffs: Vec<String> = cases
            .iter()
            .flat_map(|c| check(c, &crate::logs::parse::parse_step(&c.step, None)))
            .collect();
        assert!(
            diffs.is_empty(),
            "{} mismatches:\n{}",
            diffs.len(),
            diffs.join("\n")
        );
    }
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
    fn a_passing_step_gives_nothing() {
        let mut s = step(&["all good"], 0);
        s.failed = false;
        assert!(parse(&s).is_empty());
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
    }

    #[test]
    fn corpus_generic_cases() {
        corpus::assert_cases(&["generic_"], 1);
    }
}
