//! The corpus: real tools' output, produced by tests/corpus/gen_*.sh and wrapped in the
//! real run-log ZIP layout. Every case must triage to its expected tool, kind, file and
//! line; human and JSON output are snapshotted.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use selfheal::logs::archive::LogSource;
use selfheal::logs::triage::{Triage, TriageOptions, triage};

/// What `expected.toml` says of a case's first failure.
#[derive(Debug, Deserialize)]
struct Expected {
    tool: String,
    kind: String,
    file: Option<String>,
    line: Option<u32>,
    message_contains: Option<String>,
    test: Option<String>,
}

fn cases() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/cases");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| p.join("expected.toml").is_file())
                .collect()
        })
        .unwrap_or_default();
    dirs.sort();
    dirs
}

fn triage_case(dir: &Path) -> Triage {
    let source = LogSource::Zip(dir.join("failure.zip"));
    triage(&source, &TriageOptions::default()).unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
}

/// Differences between the first failure and what the case expects.
fn check(dir: &Path, t: &Triage) -> Vec<String> {
    let text = std::fs::read_to_string(dir.join("expected.toml")).unwrap();
    let want: Expected = toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let name = dir.file_name().unwrap().to_string_lossy().to_string();
    let Some(got) = t.failures.first() else {
        return vec![format!("{name}: no failure found")];
    };
    let mut diffs = Vec::new();
    let mut expect = |what: &str, ok: bool, detail: String| {
        if !ok {
            diffs.push(format!("{name}: {what}: {detail}"));
        }
    };
    expect(
        "tool",
        got.tool == want.tool,
        format!("got {} want {}", got.tool, want.tool),
    );
    expect(
        "kind",
        got.kind.as_str() == want.kind,
        format!("got {} want {}", got.kind, want.kind),
    );
    if want.file.is_some() {
        expect(
            "file",
            got.file == want.file,
            format!("got {:?} want {:?}", got.file, want.file),
        );
    }
    if want.line.is_some() {
        expect(
            "line",
            got.line == want.line,
            format!("got {:?} want {:?}", got.line, want.line),
        );
    }
    if let Some(m) = &want.message_contains {
        expect(
            "message",
            got.message.contains(m.as_str()),
            format!("{:?} lacks {m:?}", got.message),
        );
    }
    if want.test.is_some() {
        expect(
            "test",
            got.test == want.test,
            format!("got {:?} want {:?}", got.test, want.test),
        );
    }
    diffs
}

#[test]
fn corpus_has_at_least_40_real_cases() {
    let n = cases().len();
    assert!(
        n >= 40,
        "the corpus has {n} cases; at least 40 are required (tests/corpus/gen_*.sh)"
    );
}

#[test]
fn every_case_triages_to_its_expected_root_cause() {
    let mut diffs = Vec::new();
    for dir in cases() {
        diffs.extend(check(&dir, &triage_case(&dir)));
    }
    assert!(
        diffs.is_empty(),
        "{} mismatches:\n{}",
        diffs.len(),
        diffs.join("\n")
    );
}

/// Times, sizes and durations vary between machines: keep them out of snapshots.
fn redacted_json(t: &Triage) -> serde_json::Value {
    let mut v = serde_json::to_value(selfheal::report::json::triage_report(t)).unwrap();
    v["stats"]["duration_ms"] = 0.into();
    v
}

#[test]
fn human_and_json_output_snapshots() {
    let term = selfheal::report::Term::resolve(false, false, "never", false, false);
    let millis = regex::Regex::new(r"in \d+ ms").unwrap();
    for dir in cases() {
        let name = dir.file_name().unwrap().to_string_lossy().to_string();
        let t = triage_case(&dir);
        let human = selfheal::report::human::triage(&t, &term);
        let human = millis.replace(&human, "in <n> ms").to_string();
        insta::assert_snapshot!(format!("{name}.human"), human);
        insta::assert_json_snapshot!(format!("{name}.json"), redacted_json(&t));
    }
}

/// Every sample project's failure triaged with and without its green run's log
/// (`green.zip`): the baseline drops lines, never the root cause.
#[test]
fn the_green_baseline_keeps_every_sample_root_cause() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_projects");
    let mut samples: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("green.zip").is_file())
        .collect();
    samples.sort();
    assert!(samples.len() >= 16, "every sample has a green.zip");
    let mut dropped = 0;
    for dir in &samples {
        let whole = triage(
            &LogSource::Zip(dir.join("failure.zip")),
            &TriageOptions::default(),
        )
        .unwrap();
        let opts = TriageOptions {
            baseline: Some(LogSource::Zip(dir.join("green.zip"))),
            ..TriageOptions::default()
        };
        let diffed = triage(&LogSource::Zip(dir.join("failure.zip")), &opts).unwrap();
        let key = |t: &Triage| {
            let f = &t.failures[0];
            (
                f.tool.clone(),
                f.kind,
                f.file.clone(),
                f.line,
                f.signature.clone(),
            )
        };
        assert_eq!(key(&diffed), key(&whole), "{}", dir.display());
        assert_eq!(
            diffed.failures.len(),
            whole.failures.len(),
            "{}",
            dir.display()
        );
        dropped += diffed.stats.baseline_dropped_lines;
    }
    assert!(dropped > 0, "the samples' passing tests' lines are dropped");
}
