//! The corpus end to end: real tools' output (tests/corpus/generate.sh) in the real run-log
//! ZIP layout. Every case's `failure.zip` must triage to what its `expected.toml` says,
//! checked by the one comparison the parsers' unit tests use
//! (`selfheal::logs::parse::corpus`); human and JSON output are snapshotted.

use std::path::{Path, PathBuf};

use selfheal::logs::archive::LogSource;
use selfheal::logs::parse::corpus::{self, Expected};
use selfheal::logs::triage::{Triage, TriageOptions, triage};

fn cases() -> Vec<PathBuf> {
    corpus::case_dirs(&[])
}

fn triage_case(dir: &Path) -> Triage {
    let source = LogSource::Zip(dir.join("failure.zip"));
    triage(&source, &TriageOptions::default()).unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
}

#[test]
fn corpus_has_at_least_40_real_cases() {
    let n = cases().len();
    assert!(
        n >= 40,
        "the corpus has {n} cases; at least 40 are required (tests/corpus/generate.sh)"
    );
}

#[test]
fn every_case_triages_to_its_expected_root_cause() {
    let mut diffs = Vec::new();
    for dir in cases() {
        let name = corpus::case_name(&dir);
        let want = Expected::read(&dir).unwrap_or_else(|e| panic!("{e}"));
        diffs.extend(corpus::check_first(&name, &triage_case(&dir).failures, &want).err());
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
        let name = corpus::case_name(&dir);
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
