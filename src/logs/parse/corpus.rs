//! The one harness for the committed real-output corpus, `tests/corpus/cases/<case>/`.
//!
//! Both generators (tests/corpus/gen_a.py, gen_b.sh) write one case format: `output.txt`
//! (what the tool printed), `meta.toml` (job, command, exit code), `expected.toml` (the
//! first failure triage must report, repo-relative) and `failure.zip` (the same output in
//! the run-log layout, read end to end by tests/corpus.rs). Here a case's output becomes the
//! failed step the archive reader keeps, every line cleaned by [`crate::logs::clean`], and
//! the parsers' first failure is checked against `expected.toml`. Each parser's tests call
//! [`assert_cases`] with the case-name prefixes it owns.

use std::path::{Path, PathBuf};

use crate::logs::clean::clean_text;
use crate::logs::paths::to_repo_relative;
use crate::logs::{Failure, StepLog};

/// One case: its name, the step as parsers see it, and what it expects.
pub struct Case {
    pub name: String,
    pub step: StepLog,
    pub expected: toml::Table,
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/cases")
}

/// Cases whose names start with one of `prefixes`, in name order.
pub fn load(prefixes: &[&str]) -> Vec<Case> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root())
        .map(|rd| rd.filter_map(|e| e.ok()).map(|e| e.path()).collect())
        .unwrap_or_default();
    dirs.sort();
    dirs.into_iter()
        .filter(|d| {
            let name = d.file_name().unwrap().to_string_lossy().to_string();
            prefixes.iter().any(|p| name.starts_with(p))
        })
        .map(|d| read_case(&d))
        .collect()
}

fn read_case(dir: &Path) -> Case {
    let name = dir.file_name().unwrap().to_string_lossy().to_string();
    let read = |f: &str| {
        std::fs::read(dir.join(f)).unwrap_or_else(|e| panic!("{name}: {f}: {e} (regenerate it)"))
    };
    let toml_of = |f: &str| -> toml::Table {
        toml::from_str(&String::from_utf8_lossy(&read(f)))
            .unwrap_or_else(|e| panic!("{name}: {f}: {e}"))
    };
    let meta = toml_of("meta.toml");
    let expected = toml_of("expected.toml");
    let cmd = meta["cmd"].as_str().expect("meta.toml: cmd");
    let code = meta["exit"].as_integer().expect("meta.toml: exit") as i32;
    let job = meta["job"].as_str().expect("meta.toml: job");
    let output = read("output.txt");
    let step = failed_step(job, cmd, code, &output);
    Case {
        name,
        step,
        expected,
    }
}

/// The lines the archive reader keeps for a failed `run:` step: the group title, the
/// script echo, the shell, the tool's output (cleaned as the reader cleans it) and the
/// runner's closing error marker.
pub fn failed_step(job: &str, cmd: &str, code: i32, output: &[u8]) -> StepLog {
    let first = cmd.lines().next().unwrap_or("");
    let mut lines = vec![format!("##[group]Run {first}")];
    lines.extend(cmd.lines().map(str::to_string));
    lines.push("shell: /usr/bin/bash -e {0}".to_string());
    lines.extend(output.split(|&b| b == b'\n').map(clean_text));
    if lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    lines.push(format!("##[error]Process completed with exit code {code}."));
    StepLog {
        job: job.to_string(),
        step: format!("Run {first}"),
        failed: true,
        exit_code: Some(code),
        lines,
        commands: cmd.lines().map(str::to_string).collect(),
        ..StepLog::default()
    }
}

/// The failures `parse` finds in `text` as a failed step that ran `cmd`, in log order
/// (for parser tests on literal output).
pub fn failures_of(
    parse: fn(&StepLog) -> Vec<super::Found>,
    text: &str,
    cmd: &str,
) -> Vec<Failure> {
    let step = StepLog {
        failed: true,
        lines: text.lines().map(str::to_string).collect(),
        commands: vec![cmd.to_string()],
        ..StepLog::default()
    };
    let mut found = parse(&step);
    found.sort_by_key(|f| f.at);
    found.into_iter().map(|f| f.failure).collect()
}

/// `raw` (as the tool printed it) names the repo-relative `expected` file: equal once the
/// runner workspace is stripped, or a path suffix of it (Go prints paths relative to the
/// package; triage maps them against the repository, which the harness does not have).
fn same_file(raw: &str, expected: &str) -> bool {
    let rel = to_repo_relative(raw, None);
    rel == expected || expected.ends_with(&format!("/{rel}"))
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
        want(
            "file",
            got.file.as_deref().is_some_and(|g| same_file(g, &file)),
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
    for key in ["test", "symbol"] {
        if let Some(v) = s(key) {
            let field = if key == "test" {
                &got.test
            } else {
                &got.symbol
            };
            want(
                key,
                field.as_deref() == Some(&v),
                format!("got {field:?} want {v}"),
            );
        }
    }
    want("excerpt", !got.excerpt.is_empty(), "empty".into());
    want(
        "message is one line",
        !got.message.contains('\n'),
        got.message.clone(),
    );
    diffs
}

/// Runs the parsers (the real dispatch, [`super::parse_step`]) on every case with one of
/// `prefixes`, and fails with every difference at once.
pub fn assert_cases(prefixes: &[&str], at_least: usize) {
    let cases = load(prefixes);
    assert!(
        cases.len() >= at_least,
        "only {} corpus cases for {prefixes:?}",
        cases.len()
    );
    let diffs: Vec<String> = cases
        .iter()
        .flat_map(|c| check(c, &super::parse_step(&c.step, None)))
        .collect();
    assert!(
        diffs.is_empty(),
        "{} mismatches:\n{}",
        diffs.len(),
        diffs.join("\n")
    );
}
