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
/// has no errors (as with `--max-warnings 0`).
pub(super) fn eslint(lines: &[String]) -> Vec<Found> {
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
            .with_excerpt(&window(lines, i, 1, 2));
        let bucket = if is_error { &mut errors } else { &mut warnings };
        bucket.push(Found { at: i, failure: f });
    }
    if errors.is_empty() { warnings } else { errors }
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
    fn stylish_lines_without_a_file_header_are_ignored() {
        assert!(eslint(&lines("  12:5  error  something  some-rule")).is_empty());
    }
}
