//! tsc (`src/a.ts(12,5): error TS2322: …` and `--pretty`'s `src/a.ts:12:5 - error TS2322: …`)
//! and eslint (the stylish default: a file line, then `  12:5  error  message  rule`;
//! `--format unix` and `--format compact`).

use std::sync::LazyLock;

use regex::Regex;

use super::super::Found;
use super::super::generic::one_line;
use super::super::util::window;
use crate::logs::{Failure, Kind};

static TSC_PLAIN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^((?:[A-Za-z]:)?[^\s(:][^(]*?)\((\d+),(\d+)\): error (TS\d+): (.*)$").unwrap()
});
static TSC_PRETTY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^((?:[A-Za-z]:)?[^\s:]+):(\d+):(\d+) - error (TS\d+): (.*)$").unwrap()
});
static TSC_GLOBAL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^error (TS\d+): (.*)$").unwrap());
static TS_NAMED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:Cannot find (?:module|name|namespace) |Property |has no exported member |Module '[^']*' has no exported member )'([^']+)'").unwrap()
});
static STYLISH: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\s+(\d+):(\d+)\s+(error|warning)\s+(.+?)(?:\s{2,}(@?[\w/-]+))?\s*$").unwrap()
});
static UNIX: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^((?:[A-Za-z]:)?[^\s:]+):(\d+):(\d+): (.*) \[(Error|Warning)/([^\]]+)\]$").unwrap()
});
static COMPACT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^((?:[A-Za-z]:)?[^:]+): line (\d+), col (\d+), (Error|Warning) - (.*?)(?: \(([@\w/-]+)\))?$").unwrap()
});
static PRETTIER_FILE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\[warn\] (\S+)\s*$").unwrap());
static PRETTIER_SYNTAX: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\[error\] ([^\s:]+): (SyntaxError: .*?)(?: \((\d+):(\d+)\))?\s*$").unwrap()
});
static QUOTED: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"'([\w$.]+)'").unwrap());

/// tsc's diagnostics.
pub(super) fn tsc(lines: &[String]) -> Vec<Found> {
    let mut found = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let f = if let Some(c) = TSC_PLAIN
            .captures(line)
            .or_else(|| TSC_PRETTY.captures(line))
        {
            ts_failure(&c[4], &c[5]).at(c[1].trim(), c[2].parse().ok(), c[3].parse().ok())
        } else if let Some(c) = TSC_GLOBAL.captures(line) {
            let mut f = ts_failure(&c[1], &c[2]);
            f.kind = Kind::Config;
            f
        } else {
            continue;
        };
        found.push(Found {
            at: i,
            failure: f.with_excerpt(&window(lines, i, 0, 4)),
        });
    }
    found
}

/// TS1xxx are syntax errors, TS2307 a missing module, TS5xxx/TS6xxx configuration.
fn ts_failure(code: &str, message: &str) -> Failure {
    let n: u32 = code[2..].parse().unwrap_or(0);
    let kind = match n {
        2307 | 2792 => Kind::ImportError,
        1000..=1999 => Kind::SyntaxError,
        5000..=6999 => Kind::Config,
        _ => Kind::TypeError,
    };
    let mut f = Failure::new("tsc", kind, one_line(&format!("{code}: {message}")));
    f.symbol = TS_NAMED.captures(message).map(|c| c[1].to_string());
    f
}

/// eslint's findings in any of its three text formats. Warnings count only when the step
/// has no errors (as with `--max-warnings 0`). The closing summary joins each excerpt
/// when it says `--fix` can help: the fixers read it there (`crate::fixers`).
pub(super) fn eslint(lines: &[String]) -> Vec<Found> {
    let mut found = eslint_findings(lines);
    if let Some(summary) = fix_summary(lines) {
        for f in &mut found {
            append_unseen(f, lines, summary.clone());
        }
    }
    found
}

/// Adds the lines of `range` that `f`'s excerpt does not show yet, `⋯` marking a gap.
fn append_unseen(f: &mut Found, lines: &[String], range: std::ops::Range<usize>) {
    let shown = f.at + AFTER;
    let unseen: Vec<usize> = range.filter(|&j| j > shown).collect();
    let Some(&first) = unseen.first() else {
        return;
    };
    let gap = if first == shown + 1 { "" } else { "\n⋯" };
    let tail: Vec<&str> = unseen.iter().map(|&j| lines[j].trim()).collect();
    let excerpt = f.failure.excerpt.trim_end();
    f.failure.excerpt = format!("{excerpt}{gap}\n{}", tail.join("\n"));
}

/// The end of eslint's summary when `--fix` would fix some of the problems.
const FIXABLE: &str = "potentially fixable with the `--fix` option";

/// eslint's closing summary when `--fix` would help, as line numbers: `✖ 3 problems
/// (3 errors, 0 warnings)` and the `… potentially fixable with the `--fix` option` line.
fn fix_summary(lines: &[String]) -> Option<std::ops::Range<usize>> {
    let k = lines.iter().position(|l| l.contains(FIXABLE))?;
    let start = (k.saturating_sub(2)..k)
        .find(|&j| lines[j].trim_start().starts_with('✖'))
        .unwrap_or(k);
    Some(start..k + 1)
}

/// Lines after an eslint finding that its excerpt shows.
const AFTER: usize = 2;

fn eslint_findings(lines: &[String]) -> Vec<Found> {
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    let mut file: Option<String> = None;
    for (i, line) in lines.iter().enumerate() {
        let hit = if let Some(c) = STYLISH.captures(line) {
            file.clone().map(|f| {
                (
                    f,
                    c[1].to_string(),
                    c[2].to_string(),
                    &c[3] == "error",
                    c[4].to_string(),
                    c.get(5),
                )
            })
        } else if let Some(c) = UNIX.captures(line) {
            Some((
                c[1].to_string(),
                c[2].to_string(),
                c[3].to_string(),
                &c[5] == "Error",
                c[4].to_string(),
                c.get(6),
            ))
        } else if let Some(c) = COMPACT.captures(line) {
            Some((
                c[1].to_string(),
                c[2].to_string(),
                c[3].to_string(),
                &c[4] == "Error",
                c[5].to_string(),
                c.get(6),
            ))
        } else {
            file = stylish_file(line).or(file.filter(|_| !line.trim().is_empty()));
            None
        };
        let Some((path, l, col, is_error, message, rule)) = hit else {
            continue;
        };
        let mut f = lint_failure(message.trim_end_matches('.'), rule.map(|r| r.as_str()));
        f = f
            .at(path, l.parse().ok(), col.parse().ok())
            .with_excerpt(&window(lines, i, 1, AFTER));
        let bucket = if is_error { &mut errors } else { &mut warnings };
        bucket.push(Found { at: i, failure: f });
    }
    if errors.is_empty() { warnings } else { errors }
}

/// prettier `--check`: `[warn] src/a.js` per unformatted file (when the run ends with
/// `Code style issues found`), and `[error] src/a.js: SyntaxError: … (3:5)`.
pub(super) fn prettier(lines: &[String]) -> Vec<Found> {
    let checked = lines.iter().any(|l| l.contains("Code style issues found"));
    let mut found = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let f = if let Some(c) = PRETTIER_SYNTAX.captures(line) {
            let (l, col) = (
                c.get(3).and_then(|m| m.as_str().parse().ok()),
                c.get(4).and_then(|m| m.as_str().parse().ok()),
            );
            Failure::new("prettier", Kind::SyntaxError, one_line(&c[2])).at(&c[1], l, col)
        } else if let Some(c) = PRETTIER_FILE.captures(line).filter(|_| checked) {
            if c[1].starts_with("Code") {
                continue;
            }
            Failure::new(
                "prettier",
                Kind::Format,
                format!("{} is not formatted (prettier --check)", &c[1]),
            )
            .at(&c[1], None, None)
        } else {
            continue;
        };
        found.push(Found {
            at: i,
            failure: f.with_excerpt(&window(lines, i, 1, 1)),
        });
    }
    found
}

/// A stylish-format file header: an unindented path with an extension and no spaces.
fn stylish_file(line: &str) -> Option<String> {
    let t = line.trim_end();
    let looks_like_path = !t.is_empty()
        && !t.starts_with(char::is_whitespace)
        && !t.contains(' ')
        && t.rsplit('/').next().is_some_and(|name| name.contains('.'));
    looks_like_path.then(|| t.to_string())
}

fn lint_failure(message: &str, rule: Option<&str>) -> Failure {
    let kind = if message.starts_with("Parsing error") {
        Kind::SyntaxError
    } else {
        Kind::Lint
    };
    let text = match rule {
        Some(rule) => format!("{message} ({rule})"),
        None => message.to_string(),
    };
    let mut f = Failure::new("eslint", kind, one_line(&text));
    f.symbol = QUOTED.captures(message).map(|c| c[1].to_string());
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<String> {
        text.lines().map(str::to_string).collect()
    }

    #[test]
    fn tsc_kinds_and_symbols() {
        let f = tsc(&lines(
            "src/api.ts(1,22): error TS2307: Cannot find module 'axios' or its corresponding type declarations.\n\
             src/b.ts(3,1): error TS1005: ';' expected.\n\
             error TS5058: The specified path does not exist: 'tsconfig.build.json'.",
        ));
        assert_eq!(f[0].failure.kind, Kind::ImportError);
        assert_eq!(f[0].failure.symbol.as_deref(), Some("axios"));
        assert_eq!(f[1].failure.kind, Kind::SyntaxError);
        assert_eq!(f[2].failure.kind, Kind::Config);
        assert_eq!(f[2].failure.file, None);
    }

    #[test]
    fn eslint_compact_and_parsing_errors() {
        let f = eslint(&lines(
            "/w/src/a.js: line 3, col 9, Error - Parsing error: Unexpected token )",
        ));
        assert_eq!(f[0].failure.kind, Kind::SyntaxError);
        assert_eq!(f[0].failure.line, Some(3));
        let f = eslint(&lines(
            "\n/w/src/b.ts\n  7:1  warning  Unexpected console statement  no-console\n\n✖ 1 problem (0 errors, 1 warning)\nESLint found too many warnings (maximum: 0).",
        ));
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].failure.file.as_deref(), Some("/w/src/b.ts"));
    }

    #[test]
    fn prettier_check_and_syntax_errors() {
        let f = prettier(&lines(
            "Checking formatting...\n[warn] src/a.js\n[warn] src/b.ts\n[warn] Code style issues found in 2 files. Run Prettier with --write to fix.",
        ));
        assert_eq!(f.len(), 2);
        assert_eq!(
            (f[0].failure.kind, f[0].failure.file.as_deref()),
            (Kind::Format, Some("src/a.js"))
        );
        let f = prettier(&lines(
            "[error] src/c.js: SyntaxError: Unexpected token (3:5)",
        ));
        assert_eq!(
            (f[0].failure.kind, f[0].failure.line, f[0].failure.column),
            (Kind::SyntaxError, Some(3), Some(5))
        );
        assert!(prettier(&lines("[warn] jsxBracketSameLine is deprecated.")).is_empty());
    }

    /// Issue 8: the fixable summary sits below the findings, out of their windows.
    #[test]
    fn eslint_excerpts_carry_the_fixable_summary() {
        let f = eslint(&lines(
            "\n/w/src/money.js\n  6:7   error  'cents' is never reassigned. Use 'const' instead  prefer-const\n  6:58  error  Missing semicolon  semi\n\n✖ 2 problems (2 errors, 0 warnings)\n  2 errors and 0 warnings potentially fixable with the `--fix` option.\n",
        ));
        assert_eq!(f.len(), 2);
        assert!(
            f.iter().all(|f| f.failure.excerpt.contains(FIXABLE)),
            "{f:?}"
        );
        assert!(
            f[0].failure
                .excerpt
                .ends_with("semi\n✖ 2 problems (2 errors, 0 warnings)\n2 errors and 0 warnings potentially fixable with the `--fix` option."),
            "{}",
            f[0].failure.excerpt
        );
        let f = eslint(&lines(
            "/w/a.js\n  1:1  error  'x' is not defined  no-undef\n",
        ));
        assert!(!f[0].failure.excerpt.contains(FIXABLE));
    }

    #[test]
    fn stylish_lines_without_a_file_header_are_ignored() {
        assert!(eslint(&lines("  12:5  error  something  some-rule")).is_empty());
    }
}
