//! `selfheal offline --no-llm --repo-dir`: a failure that names only the test file ranks
//! the code the test calls first under "likely fix in", with the reason, in text and JSON.

use super::cli::selfheal;

const SLUG: &str = r#""""URL slugs."""
import re

_UNSAFE = re.compile(r"[^a-z0-9]")


def slugify(title, sep="-"):
    """Lower-case `title` and join its words with `sep`."""
    words = _UNSAFE.split(title.lower())
    return sep.join(w for w in words if w)
"#;

const TEST_SLUG: &str = r#"from textkit.slug import slugify


def test_keeps_words():
    assert slugify("Hello, World") == "hello-world"


def test_apostrophes_join_the_word():
    title = "Don't panic"
    assert slugify(title) == "dont-panic"
"#;

/// What `python3 -m pytest -q tests` printed for this repository (pytest 9).
const PYTEST_OUTPUT: &str = r#".F                                                                       [100%]
=================================== FAILURES ===================================
________________________ test_apostrophes_join_the_word ________________________

    def test_apostrophes_join_the_word():
        title = "Don't panic"
>       assert slugify(title) == "dont-panic"
E       AssertionError: assert 'don-t-panic' == 'dont-panic'
E         
E         - dont-panic
E         + don-t-panic
E         ?    +

tests/test_slug.py:10: AssertionError
=========================== short test summary info ============================
FAILED tests/test_slug.py::test_apostrophes_join_the_word - AssertionError: a...
1 failed, 1 passed in 0.06s
"#;

fn repo() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    for (rel, text) in [
        ("textkit/__init__.py", ""),
        ("textkit/slug.py", SLUG),
        ("tests/test_slug.py", TEST_SLUG),
        ("job.txt", PYTEST_OUTPUT),
    ] {
        let p = d.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    d
}

#[test]
fn likely_fix_in_names_the_code_the_failing_test_calls() {
    let d = repo();
    let out = selfheal()
        .current_dir(d.path())
        .args(["offline", "job.txt", "--no-llm", "--repo-dir", "."])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    let list = stdout.split("likely fix in:").nth(1).expect(&stdout);
    let first = list.lines().nth(1).unwrap();
    assert!(
        first.starts_with(
            "  1. textkit/slug.py (called on the failing line of the test: `slugify` (lines 7-10)"
        ),
        "{stdout}"
    );
    let test_line = list
        .lines()
        .position(|l| l.contains("tests/test_slug.py"))
        .unwrap();
    assert!(
        test_line > 1,
        "the test ranks below the code it calls: {stdout}"
    );
}

#[test]
fn json_files_carry_the_reasons() {
    let d = repo();
    let out = selfheal()
        .current_dir(d.path())
        .args([
            "offline",
            "job.txt",
            "--no-llm",
            "--repo-dir",
            ".",
            "--json",
        ])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let files = v["files"].as_array().unwrap();
    assert_eq!(files[0]["path"], "textkit/slug.py", "{v}");
    let reasons: Vec<&str> = files[0]["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r.as_str())
        .collect();
    assert_eq!(
        reasons[0],
        "called on the failing line of the test: `slugify` (lines 7-10)"
    );
    assert!(
        reasons.contains(&"module-level statement used by the code under test: `_UNSAFE` (line 4)"),
        "{reasons:?}"
    );
    assert_eq!(files[1]["path"], "tests/test_slug.py", "{v}");
}
