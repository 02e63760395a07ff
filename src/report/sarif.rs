//! SARIF 2.1.0 output (`--format sarif`, `--sarif-out PATH`), shaped for GitHub code
//! scanning (`upload-sarif`): one rule per `tool/kind` (a stable `ruleId`), one result per
//! failure located at a repository-relative `file:line`, the failure signature as a
//! partial fingerprint, one run per file, and results capped below GitHub's limits
//! (`/work/shared/sarif/README.md`: 25,000 results per run, 5,000 shown, 20 runs per file).
//!
//! Code scanning refuses a result without a location. A failure with no file in the
//! repository (a timeout, a runner failure) is placed on the workflow file when the caller
//! knows it (`selfheal run` does); otherwise it is left out and counted in a notification.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::{Value, json};

use crate::logs::Failure;

pub const VERSION: &str = "2.1.0";
pub const SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";
/// Results kept per run: code scanning shows only the first 5,000 of a run.
pub const MAX_RESULTS: usize = 5_000;
/// The partial fingerprint key; bump the suffix if the signature's recipe changes.
pub const FINGERPRINT: &str = "selfheal/signature/v1";

/// What the caller knows beyond the failures.
#[derive(Clone, Debug, Default)]
pub struct SarifOptions<'a> {
    /// The checkout the paths are relative to; becomes `originalUriBaseIds.SRCROOT`.
    pub src_root: Option<&'a Path>,
    /// A repository file (the workflow, e.g. `.github/workflows/ci.yml`) for failures
    /// that name no file of their own.
    pub fallback_uri: Option<&'a str>,
}

/// The SARIF log for `failures`: one run, one result per distinct failure.
pub fn log(failures: &[Failure], opts: &SarifOptions) -> Value {
    let mut rules: Vec<String> = Vec::new();
    let mut seen = BTreeSet::new();
    let (mut unlocated, mut capped) = (0usize, 0usize);
    let mut results = Vec::new();
    for f in failures {
        let Some(location) = location(f, opts.fallback_uri) else {
            unlocated += 1;
            continue;
        };
        // The same failure in two runs (or two jobs) is one alert.
        if !seen.insert((f.signature.clone(), location.to_string())) {
            continue;
        }
        if results.len() == MAX_RESULTS {
            capped += 1;
            continue;
        }
        let index = rule_index(&mut rules, f);
        results.push(result(f, index, location));
    }
    let mut run = json!({
        "tool": { "driver": {
            "name": "selfheal",
            "version": env!("CARGO_PKG_VERSION"),
            "informationUri": "https://github.com/selfheal/selfheal",
            "rules": rules.iter().map(|id| rule(id)).collect::<Vec<_>>(),
        }},
        "automationDetails": { "id": "selfheal/" },
        "columnKind": "unicodeCodePoints",
        "results": results,
    });
    if let Some(root) = opts.src_root.and_then(root_uri) {
        run["originalUriBaseIds"] = json!({ "SRCROOT": { "uri": root } });
    }
    let notes = notifications(unlocated, capped);
    run["invocations"] = json!([{
        "executionSuccessful": true,
        "toolExecutionNotifications": notes,
    }]);
    json!({ "$schema": SCHEMA_URI, "version": VERSION, "runs": [run] })
}

/// `log` as pretty text with a trailing newline.
pub fn to_string(failures: &[Failure], opts: &SarifOptions) -> String {
    let mut s = serde_json::to_string_pretty(&log(failures, opts)).expect("SARIF serialises");
    s.push('\n');
    s
}

fn notifications(unlocated: usize, capped: usize) -> Vec<Value> {
    let mut notes = Vec::new();
    if unlocated > 0 {
        notes.push(json!({
            "level": "note",
            "message": { "text": format!(
                "{unlocated} failure(s) name no file in the repository (timeouts, runner or network trouble) and are not listed; see the step summary"
            )},
        }));
    }
    if capped > 0 {
        notes.push(json!({
            "level": "warning",
            "message": { "text": format!("{capped} more failure(s) left out: at most {MAX_RESULTS} results per run") },
        }));
    }
    notes
}

fn rule_id(f: &Failure) -> String {
    format!("{}/{}", f.tool, f.kind)
}

fn rule_index(rules: &mut Vec<String>, f: &Failure) -> usize {
    let id = rule_id(f);
    rules.iter().position(|r| *r == id).unwrap_or_else(|| {
        rules.push(id);
        rules.len() - 1
    })
}

fn rule(id: &str) -> Value {
    let (tool, kind) = id.split_once('/').unwrap_or((id, "unknown"));
    json!({
        "id": id,
        "name": kind,
        "shortDescription": { "text": format!("{kind} reported by {tool} in CI") },
        "defaultConfiguration": { "level": "error" },
    })
}

/// Whether `path` can be a result's location: relative to the repository, inside it.
pub fn is_repo_path(path: &str) -> bool {
    relative_uri(path).is_some()
}

/// A repository-relative path: no scheme, not absolute, no `..`, `/` separators.
fn relative_uri(path: &str) -> Option<String> {
    let p = path.trim().replace('\\', "/");
    let p = p.trim_start_matches("./");
    let bad = p.is_empty()
        || p.starts_with('/')
        || p.contains("://")
        || p.split('/').any(|part| part == "..")
        || p.as_bytes().get(1) == Some(&b':');
    (!bad).then(|| p.to_string())
}

fn location(f: &Failure, fallback: Option<&str>) -> Option<Value> {
    let (uri, line, column) = match f.file.as_deref().and_then(relative_uri) {
        Some(uri) => (
            uri,
            f.line.unwrap_or(1).max(1),
            f.column.filter(|c| *c >= 1),
        ),
        None => (fallback.and_then(relative_uri)?, 1, None),
    };
    let mut region = json!({ "startLine": line });
    if let Some(c) = column {
        region["startColumn"] = c.into();
    }
    Some(json!({ "physicalLocation": {
        "artifactLocation": { "uri": uri, "uriBaseId": "SRCROOT" },
        "region": region,
    }}))
}

fn result(f: &Failure, index: usize, location: Value) -> Value {
    let mut text = f.message.trim().to_string();
    if text.is_empty() {
        text = format!("{} {}", f.tool, f.kind);
    }
    if !f.job.is_empty() {
        text.push_str(&format!(" ({} ▸ {})", f.job, f.step));
    }
    json!({
        "ruleId": rule_id(f),
        "ruleIndex": index,
        "level": if f.needs_code_change { "error" } else { "warning" },
        "message": { "text": text },
        "locations": [location],
        "partialFingerprints": { FINGERPRINT: f.signature },
    })
}

/// `file:///abs/path/` for SRCROOT, when the path can be made absolute.
fn root_uri(root: &Path) -> Option<String> {
    let abs = std::fs::canonicalize(root).ok()?;
    let s = abs.to_str()?.replace('\\', "/");
    let s = s.trim_end_matches('/');
    let encoded: String = s
        .chars()
        .map(|c| match c {
            ' ' => "%20".to_string(),
            '#' => "%23".to_string(),
            '%' => "%25".to_string(),
            '?' => "%3F".to_string(),
            c => c.to_string(),
        })
        .collect();
    let slash = if encoded.starts_with('/') { "" } else { "/" };
    Some(format!("file://{slash}{encoded}/"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::Kind;

    fn failure(
        tool: &str,
        kind: Kind,
        msg: &str,
        file: Option<&str>,
        line: Option<u32>,
    ) -> Failure {
        let mut f = Failure::new(tool, kind, msg);
        f.file = file.map(str::to_string);
        f.line = line;
        f.job = "test".into();
        f.step = "Run tests".into();
        f.signature = format!("{tool}/{kind}/{:016x}", msg.len());
        f
    }

    #[test]
    fn failures_become_results_with_rules_and_locations() {
        let mut first = failure(
            "pytest",
            Kind::TestFailure,
            "assert 1 == 2",
            Some("calc/core.py"),
            Some(12),
        );
        first.column = Some(5);
        let failures = vec![
            first,
            failure(
                "pytest",
                Kind::TestFailure,
                "assert 3 == 44",
                Some("calc/util.py"),
                Some(3),
            ),
            failure("runner", Kind::Timeout, "job timed out", None, None),
        ];
        let log = log(
            &failures,
            &SarifOptions {
                fallback_uri: Some(".github/workflows/ci.yml"),
                ..Default::default()
            },
        );
        assert_eq!(log["version"], "2.1.0");
        let run = &log["runs"][0];
        let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
        assert_eq!(rules.len(), 2);
        assert_eq!(rules[0]["id"], "pytest/test_failure");
        let results = run["results"].as_array().unwrap();
        assert_eq!(results.len(), 3);
        assert_eq!(results[1]["ruleIndex"], 0);
        let loc = &results[0]["locations"][0]["physicalLocation"];
        assert_eq!(loc["artifactLocation"]["uri"], "calc/core.py");
        assert_eq!(loc["region"]["startLine"], 12);
        assert_eq!(loc["region"]["startColumn"], 5);
        let timeout = &results[2];
        assert_eq!(timeout["level"], "warning");
        assert_eq!(
            timeout["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            ".github/workflows/ci.yml"
        );
        assert_eq!(
            timeout["partialFingerprints"][FINGERPRINT],
            failures[2].signature
        );
    }

    #[test]
    fn results_without_a_repository_file_are_left_out_and_counted() {
        let failures = vec![
            failure("runner", Kind::Timeout, "job timed out", None, None),
            failure(
                "gcc",
                Kind::CompileError,
                "no such file",
                Some("/usr/include/x.h"),
                Some(1),
            ),
            failure(
                "go",
                Kind::CompileError,
                "undefined: x",
                Some("../other/x.go"),
                Some(1),
            ),
        ];
        let log = log(&failures, &SarifOptions::default());
        let run = &log["runs"][0];
        assert!(run["results"].as_array().unwrap().is_empty());
        let note = &run["invocations"][0]["toolExecutionNotifications"][0]["message"]["text"];
        assert!(note.as_str().unwrap().starts_with("3 failure(s)"), "{note}");
    }

    #[test]
    fn duplicates_collapse_and_results_are_capped() {
        let same = failure(
            "cargo",
            Kind::CompileError,
            "E0308",
            Some("src/a.rs"),
            Some(2),
        );
        let mut failures = vec![same.clone(), same];
        for i in 0..(MAX_RESULTS + 7) {
            let mut f = failure(
                "cargo",
                Kind::CompileError,
                "E0308",
                Some("src/b.rs"),
                Some(1),
            );
            f.line = Some(i as u32 + 1);
            failures.push(f);
        }
        let log = log(&failures, &SarifOptions::default());
        let run = &log["runs"][0];
        assert_eq!(run["results"].as_array().unwrap().len(), MAX_RESULTS);
        let note = &run["invocations"][0]["toolExecutionNotifications"][0];
        assert_eq!(note["level"], "warning");
        assert!(
            note["message"]["text"]
                .as_str()
                .unwrap()
                .starts_with("8 more")
        );
    }

    #[test]
    fn the_source_root_is_an_absolute_file_uri_with_a_trailing_slash() {
        let dir = tempfile::tempdir().unwrap();
        let uri = root_uri(dir.path()).unwrap();
        assert!(uri.starts_with("file:///") && uri.ends_with('/'), "{uri}");
        assert_eq!(relative_uri("./src/a.rs").as_deref(), Some("src/a.rs"));
        assert_eq!(relative_uri("C:/x.rs"), None);
        assert!(is_repo_path("src/a.rs") && !is_repo_path("/usr/include/x.h"));
    }
}
