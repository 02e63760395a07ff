//! The one harness for the committed real-output corpus, `tests/corpus/cases/<case>/`, and
//! the one reading of what a case's `expected.toml` means.
//!
//! Both generators (tests/corpus/gen_scripting.py, gen_compiled.sh; `generate.sh` runs
//! both) write one case format: `output.txt` (what the tool printed), `meta.toml` (job,
//! command, exit code), `expected.toml` (the first failure triage must report,
//! repo-relative: [`Expected`]) and `failure.zip` (the same output in the run-log layout).
//! A case is checked twice with the one comparison, [`check`]: here, unit by unit, its
//! output becomes the failed step the archive reader keeps, every line cleaned by
//! [`crate::logs::clean`], and each parser's tests call [`assert_cases`] with the
//! case-name prefixes it owns; and end to end by tests/corpus.rs, which triages
//! `failure.zip`. Test support: compiled for unit tests and with the `test-support` feature.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::logs::clean::clean_text;
use crate::logs::triage::{TriageOptions, triage_steps};
use crate::logs::{Failure, Kind, StepLog};

/// What `expected.toml` says of a case's first failure. `tool` and `kind` are always
/// checked; each other key only when present. Unknown keys are an error (a typo would
/// otherwise check nothing).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expected {
    pub tool: String,
    pub kind: Kind,
    /// Repo-relative, as triage reports it (the runner's workspace stripped).
    pub file: Option<String>,
    pub line: Option<u32>,
    /// A piece of the one-line message.
    pub message_contains: Option<String>,
    pub test: Option<String>,
    pub symbol: Option<String>,
}

impl Expected {
    /// The case's `expected.toml`.
    pub fn read(case_dir: &Path) -> Result<Expected, String> {
        let path = case_dir.join("expected.toml");
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
    }
}

/// The case folders whose names start with one of `prefixes` (every case when empty), in
/// name order.
pub fn case_dirs(prefixes: &[&str]) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/cases");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root)
        .map(|rd| rd.filter_map(|e| e.ok()).map(|e| e.path()).collect())
        .unwrap_or_default();
    dirs.retain(|d| {
        let name = case_name(d);
        d.join("expected.toml").is_file()
            && (prefixes.is_empty() || prefixes.iter().any(|p| name.starts_with(p)))
    });
    dirs.sort();
    dirs
}

/// The case's name: its folder's.
pub fn case_name(dir: &Path) -> String {
    dir.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Every way `got` differs from `want`, joined by `; `.
pub fn check(got: &Failure, want: &Expected) -> Result<(), String> {
    let mut diffs = Vec::new();
    let mut expect = |what: &str, ok: bool, detail: String| {
        if !ok {
            diffs.push(format!("{what}: {detail}"));
        }
    };
    expect(
        "tool",
        got.tool == want.tool,
        format!("got {} want {}", got.tool, want.tool),
    );
    expect(
        "kind",
        got.kind == want.kind,
        format!("got {} want {}", got.kind, want.kind),
    );
    if let Some(file) = &want.file {
        expect(
            "file",
            got.file.as_ref() == Some(file),
            format!("got {:?} want {file}", got.file),
        );
    }
    if let Some(line) = want.line {
        expect(
            "line",
            got.line == Some(line),
            format!("got {:?} want {line}", got.line),
        );
    }
    if let Some(m) = &want.message_contains {
        expect(
            "message",
            got.message.contains(m.as_str()),
            format!("{:?} lacks {m:?}", got.message),
        );
    }
    for (key, field, wanted) in [
        ("test", &got.test, &want.test),
        ("symbol", &got.symbol, &want.symbol),
    ] {
        if let Some(v) = wanted {
            expect(
                key,
                field.as_ref() == Some(v),
                format!("got {field:?} want {v}"),
            );
        }
    }
    expect("excerpt", !got.excerpt.is_empty(), "empty".into());
    expect(
        "message is one line",
        !got.message.contains('\n'),
        format!("{:?}", got.message),
    );
    if diffs.is_empty() {
        Ok(())
    } else {
        Err(diffs.join("; "))
    }
}

/// `Err("<case>: …")` unless the first of `failures` is what the case expects.
pub fn check_first(name: &str, failures: &[Failure], want: &Expected) -> Result<(), String> {
    let got = failures
        .first()
        .ok_or_else(|| format!("{name}: nothing found"))?;
    check(got, want).map_err(|diff| format!("{name}: {diff}"))
}

/// One case: its name, the step as parsers see it, and what it expects.
pub struct Case {
    pub name: String,
    pub step: StepLog,
    pub expected: Expected,
}

/// Cases whose names start with one of `prefixes`, in name order.
pub fn load(prefixes: &[&str]) -> Vec<Case> {
    case_dirs(prefixes).iter().map(|d| read_case(d)).collect()
}

fn read_case(dir: &Path) -> Case {
    let name = case_name(dir);
    let read = |f: &str| {
        std::fs::read(dir.join(f)).unwrap_or_else(|e| panic!("{name}: {f}: {e} (regenerate it)"))
    };
    let meta: toml::Table = toml::from_str(&String::from_utf8_lossy(&read("meta.toml")))
        .unwrap_or_else(|e| panic!("{name}: meta.toml: {e}"));
    let expected = Expected::read(dir).unwrap_or_else(|e| panic!("{name}: {e}"));
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

/// Runs the parsers (the real dispatch, [`super::parse_step`], with paths made
/// repo-relative as triage makes them) on every case with one of `prefixes`, and fails
/// with every difference at once.
pub fn assert_cases(prefixes: &[&str], at_least: usize) {
    let cases = load(prefixes);
    assert!(
        cases.len() >= at_least,
        "only {} corpus cases for {prefixes:?}",
        cases.len()
    );
    let diffs: Vec<String> = cases
        .iter()
        .filter_map(|c| {
            let t = triage_steps(vec![c.step.clone()], &TriageOptions::default());
            check_first(&c.name, &t.failures, &c.expected).err()
        })
        .collect();
    assert!(
        diffs.is_empty(),
        "{} mismatches:\n{}",
        diffs.len(),
        diffs.join("\n")
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn want(text: &str) -> Result<Expected, toml::de::Error> {
        toml::from_str(text)
    }

    #[test]
    fn check_names_every_difference_and_unknown_keys_are_refused() {
        let expected = want(
            "tool = \"pytest\"\nkind = \"test_failure\"\nfile = \"tests/test_a.py\"\nline = 3\nsymbol = \"f\"\n",
        )
        .unwrap();
        let mut got = Failure::new("pytest", Kind::TestFailure, "assert 1 == 2").at(
            "tests/test_a.py",
            Some(3),
            None,
        );
        got.excerpt = "assert 1 == 2".into();
        got.symbol = Some("f".into());
        assert_eq!(check(&got, &expected), Ok(()));
        got.line = Some(4);
        got.file = Some("a.py".into());
        let diff = check(&got, &expected).unwrap_err();
        assert!(
            diff.starts_with("file: ") && diff.contains("; line: got Some(4) want 3"),
            "{diff}"
        );
        assert_eq!(
            check_first("case", &[], &expected),
            Err("case: nothing found".to_string())
        );
        assert!(want("tool = \"x\"\nkind = \"test_failure\"\nfiel = \"a\"\n").is_err());
        assert!(want("tool = \"x\"\nkind = \"no_such_kind\"\n").is_err());
    }
}
