//! Every SARIF file selfheal writes is valid: against the official SARIF 2.1.0 schema
//! (`tests/schemas/`) and GitHub code scanning's limits, checked by
//! `tests/support/validate_sarif.py` (Python's `jsonschema`, installed by `.ci/run`).
//! Covers `offline --format sarif`, `offline --sarif-out`, and the triage of every corpus
//! case and sample; `run --sarif-out` is checked in `tests/run.rs`.

use std::path::{Path, PathBuf};
use std::process::Command;

use selfheal::logs::archive::LogSource;
use selfheal::logs::triage::{TriageOptions, triage};
use selfheal::report::sarif::{self, SarifOptions};

use crate::cli::selfheal;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Fails the test with the validator's report unless every file is valid SARIF that
/// code scanning accepts.
pub fn assert_valid_sarif(files: &[PathBuf]) {
    let out = Command::new("python3")
        .arg(root().join("tests/support/validate_sarif.py"))
        .arg(root().join("tests/schemas/sarif-schema-2.1.0.json"))
        .args(files)
        .output()
        .expect("python3 runs (.ci/run installs jsonschema)");
    assert!(
        out.status.success(),
        "invalid SARIF:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn results(path: &Path) -> Vec<serde_json::Value> {
    let log: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    log["runs"][0]["results"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn zips() -> Vec<PathBuf> {
    let mut zips = Vec::new();
    for dir in ["tests/corpus/cases", "sample_projects"] {
        for entry in std::fs::read_dir(root().join(dir)).unwrap().flatten() {
            let zip = entry.path().join("failure.zip");
            if zip.is_file() {
                zips.push(zip);
            }
        }
    }
    zips.sort();
    zips
}

#[test]
fn sarif_of_every_corpus_case_and_sample_is_valid() {
    let out = tempfile::tempdir().unwrap();
    let zips = zips();
    assert!(zips.len() > 100, "corpus and samples: {}", zips.len());
    let opts = SarifOptions {
        src_root: None,
        fallback_uri: Some(".github/workflows/ci.yml"),
    };
    let mut files = Vec::new();
    for (i, zip) in zips.iter().enumerate() {
        let t = triage(&LogSource::Zip(zip.clone()), &TriageOptions::default()).unwrap();
        let path = out.path().join(format!("{i}.sarif"));
        std::fs::write(&path, sarif::to_string(&t.failures, &opts)).unwrap();
        // With the workflow as a fallback location, every failure has a place.
        assert!(
            t.failures.is_empty() || !results(&path).is_empty(),
            "{}: failures but no result",
            zip.display()
        );
        files.push(path);
    }
    assert_valid_sarif(&files);
}

#[test]
fn offline_format_sarif_prints_valid_sarif_and_nothing_else() {
    let zip = root().join("sample_projects/py-calc/failure.zip");
    let out = selfheal()
        .args(["offline", "--format", "sarif"])
        .arg(&zip)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("stdout.sarif");
    std::fs::write(&path, &out.stdout).unwrap();
    assert_valid_sarif(std::slice::from_ref(&path));
    let results = results(&path);
    assert!(!results.is_empty());
    for r in &results {
        let rule = r["ruleId"].as_str().unwrap();
        assert!(rule.starts_with("pytest/"), "{rule}");
        let fp = r["partialFingerprints"][sarif::FINGERPRINT]
            .as_str()
            .unwrap();
        assert!(fp.starts_with(rule), "{fp}");
    }
}

#[test]
fn offline_sarif_out_writes_the_file_beside_the_json_report() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/out.sarif");
    let zip = root().join("sample_projects/rs-stack/failure.zip");
    let out = selfheal()
        .args(["--json", "offline", "--no-llm", "--sarif-out"])
        .arg(&path)
        .arg(&zip)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let failures = report["failures"].as_array().unwrap();
    assert_valid_sarif(std::slice::from_ref(&path));
    let results = results(&path);
    assert_eq!(results.len(), failures.len());
    let uri = &results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"];
    assert_eq!(
        uri, &failures[0]["file"],
        "the same repository-relative path"
    );
}

#[test]
fn sarif_out_to_an_unwritable_place_is_an_error_with_a_hint() {
    let zip = root().join("sample_projects/py-calc/failure.zip");
    let out = selfheal()
        .args([
            "offline",
            "--no-llm",
            "--sarif-out",
            "/proc/selfheal/x.sarif",
        ])
        .arg(&zip)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot write SARIF") && err.contains("hint"),
        "{err}"
    );
}
