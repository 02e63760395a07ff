//! Our workflows and composite action: the structure checker
//! (`tests/support/check_workflows.py`) passes on them and fails, rule by rule, on the
//! shapes it exists to stop (the old self-heal workflow ran `.ci/images.sh` and `uses: ./`
//! from the failing commit with a write token and the LLM key); actionlint passes on
//! every workflow.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tempfile::TempDir;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn check(dir: &Path) -> Output {
    Command::new("python3")
        .arg(root().join("tests/support/check_workflows.py"))
        .arg(dir)
        .output()
        .expect("python3 runs (.ci/run installs it with PyYAML)")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A repository holding one workflow (and optionally an action.yml).
fn repo(workflow: &str, action: Option<&str>) -> TempDir {
    let dir = TempDir::new().unwrap();
    let wf = dir.path().join(".github/workflows");
    std::fs::create_dir_all(&wf).unwrap();
    std::fs::write(wf.join("w.yml"), workflow).unwrap();
    if let Some(a) = action {
        std::fs::write(dir.path().join("action.yml"), a).unwrap();
    }
    dir
}

const CHECKOUT: &str = "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683";

#[test]
fn our_workflows_and_action_pass_the_structure_check() {
    let out = check(&root());
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("and action.yml: 0 problem(s)"),
        "{}",
        text(&out)
    );
}

#[test]
fn the_old_self_heal_workflow_is_refused_on_every_count() {
    let old = format!(
        "name: self-heal
on:
  workflow_run:
    workflows: [ci]
    types: [completed]
permissions:
  contents: write
  pull-requests: write
jobs:
  heal:
    runs-on: ubuntu-24.04
    steps:
      - uses: {CHECKOUT}
        with:
          ref: ${{{{ github.event.workflow_run.head_sha }}}}
      - name: images
        run: sudo bash .ci/images.sh
      - id: heal
        uses: ./
        with:
          api-key: ${{{{ secrets.OPENAI_API_KEY }}}}
      - uses: github/codeql-action/upload-sarif@v3
        continue-on-error: true
"
    );
    let out = check(repo(&old, None).path());
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let report = text(&out);
    for rule in [
        "head-checkout",
        "runs-tree: `sudo bash .ci/images.sh`",
        "local-action",
        "fork-secrets: a job that forks' runs reach names a secret",
        "fork-secrets: a job that forks' runs reach can write: ['contents']",
        "pinned: `github/codeql-action/upload-sarif@v3`",
        "hidden-failure: `continue-on-error`",
    ] {
        assert!(report.contains(rule), "no `{rule}` in:\n{report}");
    }
}

#[test]
fn a_read_only_job_may_run_its_tree_and_a_same_repo_job_may_hold_secrets() {
    let ok = format!(
        "on:
  pull_request:
permissions:
  contents: read
jobs:
  ci:
    runs-on: ubuntu-24.04
    steps:
      - uses: {CHECKOUT}
      - run: bash .ci/run
  heal:
    if: github.event.workflow_run.head_repository.full_name == github.repository
    runs-on: ubuntu-24.04
    permissions:
      contents: write
    steps:
      - uses: {CHECKOUT}
      - uses: selfheal/selfheal@v0.1.0
        with:
          api-key: ${{{{ secrets.KEY }}}}
"
    );
    let out = check(repo(&ok, None).path());
    assert!(out.status.success(), "{}", text(&out));
}

#[test]
fn privileged_runs_of_the_tree_and_hidden_failures_in_the_action_are_refused() {
    let wf = format!(
        "on: push
jobs:
  build:
    runs-on: ubuntu-24.04
    steps:
      - uses: {CHECKOUT}
      - run: |
          echo building
          make release
"
    );
    let action = "name: a
runs:
  using: composite
  steps:
    - shell: bash
      run: selfheal offline x --format sarif > out.sarif || true
    - shell: bash
      run: ./scripts/run.sh
";
    let out = check(repo(&wf, Some(action)).path());
    let report = text(&out);
    assert_eq!(out.status.code(), Some(1), "{report}");
    // No permissions block: the default token may write.
    assert!(report.contains("runs-tree: `make release`"), "{report}");
    assert!(report.contains("hidden-failure: `|| true`"), "{report}");
    assert!(report.contains("runs-tree: `./scripts/run.sh`"), "{report}");
}

#[test]
fn actionlint_passes_on_every_workflow() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join(".github/workflows"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml" || e == "yaml"))
        .collect();
    files.sort();
    assert!(files.len() >= 3, "ci, self-heal and release: {files:?}");
    let out = match Command::new("actionlint").args(&files).output() {
        Ok(out) => out,
        Err(e) => {
            assert!(
                std::env::var("CI").is_err(),
                "CI=true needs actionlint (.ci/run installs it): {e}"
            );
            eprintln!("SKIP actionlint_passes_on_every_workflow: {e}");
            return;
        }
    };
    assert!(out.status.success(), "{}", text(&out));
}
