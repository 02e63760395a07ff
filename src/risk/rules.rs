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
    re(r#"-?\d+(\.\d+)?|"[^"]*"|'[^']*'|\b(true|false|True|False|None|null|nil)\b"#)
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

/// Test-weakening findings in one file.
pub fn weakening(
    c: &Change<'_>,
    diff: &LineDiff<'_>,
    failure_points_at_code: bool,
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
        out.push(found("test-deleted", "deletes the test file".into()));
        return out;
    }
    let count = |lines: &[&str], r: &Regex| lines.iter().filter(|l| r.is_match(l)).count();
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
    } else if failure_points_at_code {
        out.extend(loosened(diff).map(|d| found("expected-value-changed", d)));
    }
    out
}

/// An assertion whose only change is a literal: the test was edited to match the bug.
fn loosened(diff: &LineDiff<'_>) -> Option<String> {
    for old in diff.removed.iter().filter(|l| EXPECTATION.is_match(l)) {
        let shape = LITERAL.replace_all(old.trim(), "_");
        if let Some(new) = diff
            .added
            .iter()
            .find(|n| EXPECTATION.is_match(n) && LITERAL.replace_all(n.trim(), "_") == shape)
        {
            return Some(format!(
                "changes the expected value: `{}` → `{}`",
                old.trim(),
                new.trim()
            ));
        }
    }
    None
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
