//! SARIF 2.1.0 output (`--format sarif`), so teams can upload the failures to code
//! scanning: one rule per `tool/kind`, one result per failure, located at `file:line`
//! when known, with the failure signature as a partial fingerprint.

use serde_json::{Value, json};

use crate::logs::Failure;
use crate::logs::triage::Triage;

pub const VERSION: &str = "2.1.0";
pub const SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// The SARIF log for a triage.
pub fn triage_log(t: &Triage) -> Value {
    let mut rules: Vec<String> = Vec::new();
    let results: Vec<Value> = t
        .failures
        .iter()
        .map(|f| result(f, rule_index(&mut rules, f)))
        .collect();
    json!({
        "$schema": SCHEMA_URI,
        "version": VERSION,
        "runs": [{
            "tool": { "driver": {
                "name": "selfheal",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/selfheal/selfheal",
                "rules": rules.iter().map(|id| rule(id)).collect::<Vec<_>>(),
            }},
            "originalUriBaseIds": { "SRCROOT": { "uri": "file:///" } },
            "results": results,
        }]
    })
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

fn result(f: &Failure, index: usize) -> Value {
    let mut r = json!({
        "ruleId": rule_id(f),
        "ruleIndex": index,
        "level": if f.needs_code_change { "error" } else { "warning" },
        "message": { "text": format!("{} ({} ▸ {})", f.message, f.job, f.step) },
        "partialFingerprints": { "selfheal/signature/v1": f.signature },
    });
    if let Some(file) = f.file.as_deref().filter(|p| !p.starts_with('/')) {
        let mut region = json!({ "startLine": f.line.unwrap_or(1).max(1) });
        if let Some(c) = f.column.filter(|c| *c >= 1) {
            region["startColumn"] = c.into();
        }
        r["locations"] = json!([{ "physicalLocation": {
            "artifactLocation": { "uri": file, "uriBaseId": "SRCROOT" },
            "region": region,
        }}]);
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::Kind;

    #[test]
    fn failures_become_results_with_rules_and_locations() {
        let mut t = Triage::default();
        t.failures.push(
            Failure::new("pytest", Kind::TestFailure, "assert 1 == 2").at(
                "calc/core.py",
                Some(12),
                Some(5),
            ),
        );
        t.failures.push(
            Failure::new("pytest", Kind::TestFailure, "assert 3 == 4").at(
                "calc/util.py",
                Some(3),
                None,
            ),
        );
        t.failures
            .push(Failure::new("runner", Kind::Timeout, "job timed out"));
        let log = triage_log(&t);
        assert_eq!(log["version"], "2.1.0");
        let run = &log["runs"][0];
        assert_eq!(run["tool"]["driver"]["rules"].as_array().unwrap().len(), 2);
        let results = run["results"].as_array().unwrap();
        assert_eq!(results.len(), 3);
        assert_eq!(results[1]["ruleIndex"], 0);
        let loc = &results[0]["locations"][0]["physicalLocation"];
        assert_eq!(loc["artifactLocation"]["uri"], "calc/core.py");
        assert_eq!(loc["region"]["startLine"], 12);
        assert_eq!(loc["region"]["startColumn"], 5);
        assert!(results[2].get("locations").is_none());
        assert_eq!(results[2]["level"], "warning");
        for r in results {
            assert!(r["message"]["text"].is_string() && r["ruleId"].is_string());
        }
    }
}
