//! `selfheal offline` on logs from other CI systems and on piped output: GitLab job
//! traces, Jenkins console text, plain `make` output, and GitHub job logs with problem
//! matcher annotations (tests/corpus/other-ci/, written after the formats' documentation).
//! Detected by content, or forced with `--from`; the same parsers, ranking and JSON.

use std::path::PathBuf;

use crate::cli::selfheal;

fn fixture(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/corpus/other-ci")
        .join(name)
        .display()
        .to_string()
}

/// `offline --no-llm --json` on `args`, from a folder that is not a repository.
fn triage_json(args: &[&str], stdin: Option<Vec<u8>>) -> serde_json::Value {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = selfheal();
    cmd.current_dir(dir.path())
        .args(["offline", "--no-llm", "--json", "--no-config"])
        .args(args);
    if let Some(input) = stdin {
        cmd.write_stdin(input);
    }
    let out = cmd.assert();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

fn first(v: &serde_json::Value) -> &serde_json::Value {
    &v["failures"][0]
}

#[test]
fn gitlab_go_panic_is_located_in_the_repository_below_a_nested_group() {
    let v = triage_json(&[&fixture("gitlab-go-test-panic.log")], None);
    let f = first(&v);
    assert_eq!(f["tool"], "go-test");
    assert_eq!(f["kind"], "test_failure");
    assert_eq!(f["file"], "internal/cart/cart.go");
    assert_eq!(f["line"], 19);
    assert_eq!(f["step"], "step_script");
    assert_eq!(v["files"][0]["path"], "internal/cart/cart.go");
}

#[test]
fn gitlab_test_failure_ranks_above_warnings_and_the_after_script() {
    let v = triage_json(&[&fixture("gitlab-shell-pytest.log")], None);
    let f = first(&v);
    assert_eq!(f["kind"], "test_failure");
    assert_eq!(f["file"], "tests/test_pricing.py");
    assert_eq!(f["test"], "tests/test_pricing.py::test_bulk_discount");
    let failures = v["failures"].as_array().unwrap();
    assert!(failures.iter().all(|f| {
        !f["message"]
            .as_str()
            .unwrap()
            .contains("DeprecationWarning")
    }));
}

#[test]
fn jenkins_maven_first_error_with_a_path_comes_before_build_failure() {
    let v = triage_json(&[&fixture("jenkins-pipeline-maven.log")], None);
    let f = first(&v);
    assert_eq!(f["kind"], "compile_error");
    assert_eq!(f["file"], "core/src/main/java/com/acme/shop/Cart.java");
    assert_eq!(f["line"], 31);
    assert_eq!(f["job"], "shop_main");
    assert_eq!(f["step"], "Build");
}

#[test]
fn jenkins_freestyle_make_reports_the_compiler_not_make() {
    let v = triage_json(&[&fixture("jenkins-freestyle-make.log")], None);
    let f = first(&v);
    assert_eq!(f["tool"], "gcc");
    assert_eq!(f["file"], "src/parser.c");
    assert_eq!(f["line"], 88);
    let kinds: Vec<&str> = v["failures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["kind"].as_str().unwrap())
        .collect();
    assert!(!kinds.contains(&"unknown"), "{kinds:?}");
}

#[test]
fn piped_plain_output_puts_the_compile_error_before_the_missing_binary() {
    let text = std::fs::read(fixture("plain-make-build.txt")).unwrap();
    let v = triage_json(&["-"], Some(text));
    let f = first(&v);
    assert_eq!(f["kind"], "compile_error");
    assert_eq!(f["file"], "cmd/server/main.go");
    assert_eq!(f["line"], 14);
    let failures = v["failures"].as_array().unwrap();
    let last = failures.last().unwrap();
    assert_eq!(last["kind"], "command_not_found");
}

#[test]
fn from_forces_the_reader() {
    // Jenkins console text read as plain output: one step named `output`, same root cause
    let v = triage_json(
        &["--from", "plain", &fixture("jenkins-freestyle-make.log")],
        None,
    );
    assert_eq!(first(&v)["step"], "output");
    assert_eq!(first(&v)["file"], "src/parser.c");
    let v = triage_json(
        &["--from", "jenkins", &fixture("jenkins-freestyle-make.log")],
        None,
    );
    assert_eq!(first(&v)["step"], "console");
}

#[test]
fn an_unknown_ci_is_a_usage_error() {
    selfheal()
        .args([
            "offline",
            "--no-llm",
            "--from",
            "travis",
            &fixture("plain-make-build.txt"),
        ])
        .assert()
        .code(2);
}

#[test]
fn problem_matcher_lines_give_clean_paths_and_count_as_evidence() {
    let v = triage_json(&[&fixture("github-setup-go-matcher.txt")], None);
    let failures = v["failures"].as_array().unwrap();
    for f in failures {
        let file = f["file"].as_str().unwrap();
        assert!(!file.contains("##["), "{file}");
    }
    assert_eq!(first(&v)["file"], "pkg/store/store.go");
    assert_eq!(first(&v)["line"], 42);
    assert_eq!(first(&v)["annotated"], true);
    let reasons = v["files"][0]["reasons"].to_string();
    assert!(reasons.contains("annotated"), "{reasons}");
}

#[test]
fn go_import_paths_are_never_reported_as_files() {
    let v = triage_json(&[&fixture("github-go-test-workflow-command.txt")], None);
    let f = first(&v);
    assert_eq!(f["file"], "internal/cart/cart_test.go");
    assert_eq!(f["line"], 18);
    assert_eq!(f["annotated"], true);
    for f in v["failures"].as_array().unwrap() {
        assert!(!f["file"].as_str().unwrap_or("").starts_with("example.com/"));
    }
}
