//! The patterns behind the risk score: which paths are sensitive, what weakens a test,
//! what is dangerous to add. Each rule has a stable name used in JSON and PR bodies.

use std::sync::LazyLock;

use regex::Regex;

use super::{Change, Finding, LineDiff};
use crate::logs::paths::is_test_path;

fn re(s: &str) -> Regex {
    Regex::new(s).expect("static regex")
}

/// (rule, pattern) pairs that weaken a test when ADDED.
static SKIPS: LazyLock<Vec<(&str, Regex)>> = LazyLock::new(|| {
    vec![
        (
            "python-skip",
            re(
                r"pytest\.skip\(|@pytest\.mark\.(skip|skipif|xfail)\b|@unittest\.skip|\.skipTest\(|pytest\.xfail\(",
            ),
        ),
        ("rust-ignore", re(r"#\[ignore\b")),
        ("go-skip", re(r"\bt\.Skip(Now|f)?\(")),
        (
            "js-skip",
            re(
                r"\b(it|test|describe)\.skip\(|\bx(it|test|describe)\(|\{\s*skip\s*:\s*true|\bt\.skip\(|\.todo\(",
            ),
        ),
        (
            "js-only",
            re(r"\b(it|test|describe)\.only\(|\bf(it|describe)\("),
        ),
        ("java-disabled", re(r"@Disabled\b|@Ignore\b")),
        (
            "exit-code-masked",
            re(r"\|\|\s*true\b|\|\|\s*:\s*$|continue-on-error:\s*true|set \+e\b|\|\|\s*exit 0"),
        ),
    ]
});

/// Assertion lines: REMOVING more of them than are added weakens a test.
static ASSERTION: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"^\s*(assert\b|self\.assert\w*\(|assert!|assert_eq!|assert_ne!|debug_assert|expect\(|assert\.\w+\(|t\.(Error|Errorf|Fatal|Fatalf|Fail)\(|assert(Equals|True|False|That|Throws|NotNull|Null)\(|Assertions\.)",
    )
});

/// A test function definition: removing one deletes a test.
static TEST_DEF: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"^\s*(def test_\w+|async def test_\w+|#\[test\]|#\[tokio::test|func Test\w+\(|(it|test)\(['`\x22]|@Test\b)",
    )
});

/// A line that states an expected value (a comparison or an equality assertion).
static EXPECTATION: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"==|!=|assert_eq!|assert_ne!|assert(Equals?|NotEquals?)\(|\.(toBe|toEqual|toStrictEqual|equal|strictEqual|deepEqual|deepStrictEqual)\(|\b(want|expected|expect)\s*:?=",
    )
});

static LITERAL: LazyLock<Regex> = LazyLock::new(|| {
    re(r#"\[[^\[\]\n]*\]|-?\d+(\.\d+)?|"[^"]*"|'[^']*'|\b(true|false|True|False|None|null|nil)\b"#)
});

static DANGERS: LazyLock<Vec<(&str, Regex)>> = LazyLock::new(|| {
    vec![
        (
            "rm-rf",
            re(
                r"\brm\s+-[a-zA-Z]*r[a-zA-Z]*f|\brm\s+-[a-zA-Z]*f[a-zA-Z]*r|shutil\.rmtree\(\s*['\x22]/",
            ),
        ),
        (
            "pipe-to-shell",
            re(r"(curl|wget)\b[^|\n]*\|\s*(sudo\s+)?(ba|z|da)?sh\b"),
        ),
        (
            "credential-read",
            re(
                r"\.ssh/|\.aws/credentials|\.netrc|/etc/(passwd|shadow)|GITHUB_TOKEN|GH_TOKEN|OPENAI_API_KEY|AWS_SECRET|secrets\.\w+|id_rsa|\.docker/config\.json",
            ),
        ),
        (
            "code-exec",
            re(
                r"\beval\(|\bexec\(|base64\s+(-d|--decode)\s*\|\s*(ba)?sh|child_process|os\.system\(|subprocess\.(call|run|Popen)\([^)]*shell\s*=\s*True",
            ),
        ),
        ("chmod-world", re(r"chmod\s+(-R\s+)?(777|a\+w|o\+w)")),
    ]
});

static NETWORK_IN_TEST: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"requests\.(get|post|put)\(|urllib\.request|urlopen\(|httpx\.|\bfetch\(|http\.(Get|Post)\(|reqwest::|socket\.(socket|create_connection)\(|new URL\(['\x22]https?://|https?://[a-z0-9.-]+\.[a-z]{2,}",
    )
});

/// Points for where the change is, with a reason each.
pub fn path_points(path: &str, reasons: &mut Vec<String>) -> u32 {
    let name = path.rsplit('/').next().unwrap_or(path);
    let lower = path.to_ascii_lowercase();
    let mut add = |points: u32, why: &str| {
        reasons.push(format!("{path}: {why}"));
        points
    };
    if lower.starts_with(".github/")
        || name == ".gitlab-ci.yml"
        || name == "Jenkinsfile"
        || lower.starts_with(".circleci/")
    {
        return add(35, "CI configuration");
    }
    if matches!(
        name,
        "Cargo.lock"
            | "package-lock.json"
            | "yarn.lock"
            | "pnpm-lock.yaml"
            | "poetry.lock"
            | "Pipfile.lock"
            | "go.sum"
            | "uv.lock"
            | "Gemfile.lock"
            | "composer.lock"
    ) {
        return add(25, "lock file");
    }
    if matches!(
        name,
        "build.rs"
            | "Makefile"
            | "setup.py"
            | "setup.cfg"
            | "CMakeLists.txt"
            | "pom.xml"
            | "build.gradle"
            | "build.gradle.kts"
            | "Dockerfile"
            | "package.json"
            | "pyproject.toml"
            | "Cargo.toml"
            | "go.mod"
            | "requirements.txt"
    ) || name.ends_with(".sh")
    {
        return add(15, "build script or manifest");
    }
    if [
        "auth",
        "crypto",
        "secret",
        "password",
        "token",
        "security",
        "permission",
        ".env",
        "credential",
    ]
    .iter()
    .any(|w| lower.contains(w))
    {
        return add(20, "security-sensitive path");
    }
    if is_test_path(path) {
        return add(15, "changes a test");
    }
    0
}

/// What the failures say, for judging edits of tests.
#[derive(Clone, Debug, Default)]
pub struct Evidence {
    /// A failure or a frame names a file that is not a test: the bug is likely in the code.
    pub points_at_code: bool,
    /// Some failure is a failing test (an assertion), not a test that cannot build or load.
    pub test_failure: bool,
    /// Every failure blames the test itself (a name undefined in the test, a syntax error
    /// in it, an import the test got wrong): editing only the test can be the fix.
    pub blames_test: bool,
    /// Literals the failing run printed (expected and actual values).
    pub printed: Vec<String>,
}

/// Test-weakening findings in one file. `renamed`: the file is deleted because its tests
/// moved, intact, to another file of the same patch.
pub fn weakening(
    c: &Change<'_>,
    diff: &LineDiff<'_>,
    evidence: &Evidence,
    renamed: bool,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let found = |rule: &str, detail: String| Finding {
        rule: rule.into(),
        path: c.path.into(),
        detail,
    };
    for line in &diff.added {
        if let Some((rule, _)) = SKIPS.iter().find(|(_, r)| r.is_match(line)) {
            out.push(found(rule, format!("adds `{}`", line.trim())));
        }
    }
    if !is_test_path(c.path) {
        return out;
    }
    if c.new.is_none() && c.old.is_some() {
        if !renamed {
            out.push(found("test-deleted", "deletes the test file".into()));
        }
        return out;
    }
    let (rm_tests, add_tests) = (
        count(&diff.removed, &TEST_DEF),
        count(&diff.added, &TEST_DEF),
    );
    if rm_tests > add_tests {
        out.push(found(
            "test-removed",
            format!("removes {} test function(s)", rm_tests - add_tests),
        ));
    }
    let (rm_asserts, add_asserts) = (
        count(&diff.removed, &ASSERTION),
        count(&diff.added, &ASSERTION),
    );
    if rm_asserts > add_asserts {
        out.push(found(
            "assertion-removed",
            format!("removes {} assertion(s)", rm_asserts - add_asserts),
        ));
    }
    let (rm_rows, add_rows) = (
        count(&diff.removed, &TABLE_ROW),
        count(&diff.added, &TABLE_ROW),
    );
    if rm_rows > add_rows && rm_tests == 0 {
        let row = diff.removed.iter().find(|l| TABLE_ROW.is_match(l));
        out.push(found(
            "test-case-removed",
            format!(
                "removes {} case(s) of a table-driven or parametrised test, e.g. `{}`",
                rm_rows - add_rows,
                row.map_or("", |l| l.trim())
            ),
        ));
    }
    if rm_asserts <= add_asserts {
        out.extend(
            changed_literals(diff, evidence)
                .into_iter()
                .map(|(rule, d)| found(rule, d)),
        );
    }
    out
}

/// A test definition or an assertion line (what a renamed test file must keep).
pub fn is_test_line(line: &str) -> bool {
    TEST_DEF.is_match(line) || ASSERTION.is_match(line)
}

/// The literals of a line, in order.
pub fn literals(line: &str) -> Vec<&str> {
    LITERAL.find_iter(line).map(|m| m.as_str()).collect()
}

fn count(lines: &[&str], r: &Regex) -> usize {
    lines.iter().filter(|l| r.is_match(l)).count()
}

/// A row of a table-driven or parametrised test (or of a multi-line expected value):
/// `{"empty", "", 0},`, `(1, 2, 3),`, `['a', 'b'],`, `{ sku: 'a', qty: 2 },`.
static TABLE_ROW: LazyLock<Regex> =
    LazyLock::new(|| re(r#"^\s*(\{|\(|\[|pytest\.param\().*(\}|\)|\])\s*,?\s*(//.*|#.*)?$"#));

/// A line that only words a failure or a log message.
static MESSAGE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"^\s*(t\.(Error|Errorf|Fatal|Fatalf|Log|Logf|Skip)\(|print(ln)?!?\(|console\.(log|error)\(|log\.|logger\.|panic!\(|eprintln!\(|fmt\.Print|System\.out\.)",
    )
});

/// Lines of a test whose only change is a literal: an expected value or a test input
/// edited. Judged by what the failure says (see [`Evidence`]).
fn changed_literals(diff: &LineDiff<'_>, ev: &Evidence) -> Vec<(&'static str, String)> {
    let mut used = vec![false; diff.added.len()];
    let mut out = Vec::new();
    for old in &diff.removed {
        let shape = LITERAL.replace_all(old.trim(), "_");
        let Some(j) = (0..diff.added.len())
            .find(|&j| !used[j] && LITERAL.replace_all(diff.added[j].trim(), "_") == shape)
        else {
            continue;
        };
        used[j] = true;
        let new = diff.added[j];
        // a renamed test or a reworded failure message changes no value under test
        if TEST_DEF.is_match(old) || MESSAGE.is_match(old) {
            continue;
        }
        let pairs = literal_pairs(old, new);
        if pairs.is_empty() || pairs.iter().all(|(a, b)| is_typo_fix(a, b)) && !ev.points_at_code {
            continue;
        }
        let what = format!("`{}` → `{}`", old.trim(), new.trim());
        if let Some((a, b)) = pairs
            .iter()
            .find(|(a, b)| printed(&ev.printed, a) && printed(&ev.printed, b))
        {
            out.push((
                "expected-set-to-actual",
                format!("changes {a} to {b}, a value the failing run printed: {what}"),
            ));
        } else if ev.points_at_code || ev.test_failure && !ev.blames_test {
            let rule = if EXPECTATION.is_match(old) || EXPECTATION.is_match(new) {
                "expected-value-changed"
            } else {
                "test-input-changed"
            };
            let detail = if rule == "expected-value-changed" {
                format!("changes the expected value: {what}")
            } else {
                format!("changes what the failing test feeds the code: {what}")
            };
            out.push((rule, detail));
        }
    }
    out
}

/// The literals that differ between two lines of the same shape, in order.
fn literal_pairs(old: &str, new: &str) -> Vec<(String, String)> {
    let a: Vec<&str> = LITERAL.find_iter(old).map(|m| m.as_str()).collect();
    let b: Vec<&str> = LITERAL.find_iter(new).map(|m| m.as_str()).collect();
    a.iter()
        .zip(&b)
        .filter(|(x, y)| x != y)
        .map(|(x, y)| (x.to_string(), y.to_string()))
        .collect()
}

/// Whether the run printed `literal` (quotes and number formatting aside).
fn printed(values: &[String], literal: &str) -> bool {
    let bare = unquote(literal);
    !bare.is_empty()
        && values
            .iter()
            .any(|v| unquote(v) == bare || same_number(v, bare))
}

fn unquote(s: &str) -> &str {
    s.trim().trim_matches(|c| c == '"' || c == '\'' || c == '`')
}

fn same_number(a: &str, b: &str) -> bool {
    matches!((unquote(a).parse::<f64>(), b.parse::<f64>()), (Ok(x), Ok(y)) if x == y)
}

/// A spelling fix in an expected string: both quoted, letters only edited (one or two
/// of them, not just their case), long enough to be a word. `"helo world"` → `"hello world"`
/// is one; `"01:05"` → `"01: 5"` or `2.7` → `2.69` are values, not typos.
pub fn is_typo_fix(old: &str, new: &str) -> bool {
    let quoted = |s: &str| s.len() >= 2 && (s.starts_with('"') || s.starts_with('\''));
    if !quoted(old) || !quoted(new) || old.eq_ignore_ascii_case(new) {
        return false;
    }
    let (a, b) = (unquote(old), unquote(new));
    if a.chars().count().min(b.chars().count()) < 4 {
        return false;
    }
    let (x, y): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let start = x.iter().zip(&y).take_while(|(p, q)| p == q).count();
    let end = x[start..]
        .iter()
        .rev()
        .zip(y[start..].iter().rev())
        .take_while(|(p, q)| p == q)
        .count();
    let (dx, dy) = (&x[start..x.len() - end], &y[start..y.len() - end]);
    dx.len().max(dy.len()) <= 2 && dx.iter().chain(dy).all(|c| c.is_alphabetic())
}

/// Dangerous additions in one file.
pub fn dangers(c: &Change<'_>, diff: &LineDiff<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    for line in &diff.added {
        if let Some((rule, _)) = DANGERS.iter().find(|(_, r)| r.is_match(line)) {
            out.push(Finding {
                rule: (*rule).into(),
                path: c.path.into(),
                detail: format!("adds `{}`", line.trim()),
            });
        } else if is_test_path(c.path) && NETWORK_IN_TEST.is_match(line) {
            out.push(Finding {
                rule: "network-in-test".into(),
                path: c.path.into(),
                detail: format!("adds `{}`", line.trim()),
            });
        }
    }
    out
}
