//! The `--json` output: stable, versioned (`"schema": 1`), JSON only on stdout.
//! Adding a field is compatible; renaming or removing one bumps `SCHEMA`.

use serde::Serialize;

use crate::logs::Failure;
use crate::logs::rank::RankedFile;
use crate::logs::triage::{Stats, Triage};

pub const SCHEMA: u32 = 1;

/// `selfheal offline --no-llm --json`.
#[derive(Debug, Serialize)]
pub struct TriageReport<'a> {
    pub schema: u32,
    pub failures: &'a [Failure],
    pub files: &'a [RankedFile],
    pub stats: &'a Stats,
    pub warnings: &'a [String],
}

pub fn triage_report(t: &Triage) -> TriageReport<'_> {
    TriageReport {
        schema: SCHEMA,
        failures: &t.failures,
        files: &t.files,
        stats: &t.stats,
        warnings: &t.warnings,
    }
}

/// An error on stdout for `--json` callers (the human text still goes to stderr).
#[derive(Debug, Serialize)]
pub struct ErrorReport<'a> {
    pub schema: u32,
    pub error: &'a str,
    pub hint: Option<&'a str>,
    pub exit_code: i32,
}

/// Pretty JSON text for `value`, with a trailing newline.
pub fn to_string<T: Serialize>(value: &T) -> String {
    let mut s = serde_json::to_string_pretty(value).expect("report types serialise");
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::Kind;

    #[test]
    fn triage_report_has_the_documented_shape() {
        let mut t = Triage::default();
        let mut f =
            Failure::new("pytest", Kind::TestFailure, "assert 1 == 2").at("a.py", Some(3), Some(1));
        f.job = "test".into();
        f.step = "Run pytest".into();
        f.signature = "pytest/test_failure/0011223344556677".into();
        t.failures.push(f);
        let v: serde_json::Value = serde_json::from_str(&to_string(&triage_report(&t))).unwrap();
        assert_eq!(v["schema"], 1);
        let f = &v["failures"][0];
        for key in [
            "tool",
            "kind",
            "message",
            "file",
            "line",
            "column",
            "job",
            "step",
            "excerpt",
            "signature",
        ] {
            assert!(f.get(key).is_some(), "failure lacks {key}");
        }
        assert_eq!(f["kind"], "test_failure");
        assert!(v["stats"].get("bytes_inflated").is_some());
        assert!(v["files"].is_array());
    }
}
