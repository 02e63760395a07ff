//! What `selfheal run` leaves for GitHub Actions: the step summary (`GITHUB_STEP_SUMMARY`),
//! written for people, and the step outputs (`GITHUB_OUTPUT`), written for workflows.
//!
//! Outcome names are the `--json` names (`pull_request`, `needs_approval`, …), taken from
//! the serde form so the two can never drift. This module renders text; the caller
//! appends it to the files Actions names.

use std::fmt::Write as _;

use serde::Serialize;

use crate::logs::Failure;
use crate::pipeline::RunRecord;
use crate::pipeline::record::AttemptRecord;
use crate::report::human;

/// One handled run, as the summary and the outputs need it.
pub struct RunSummary<'a, O: Serialize> {
    pub run_id: u64,
    pub attempt: u32,
    pub outcome: O,
    pub pr_url: Option<&'a str>,
    pub note: Option<&'a str>,
    pub failures: &'a [Failure],
    pub record: Option<&'a RunRecord>,
    /// The run record on disk, which the workflow uploads as an artifact.
    pub record_path: Option<&'a std::path::Path>,
    /// selfheal's comment on the run's pull request.
    pub comment_url: Option<&'a str>,
}

/// The `--json` name of an outcome: its serde form (`"needs_approval"` → `needs_approval`).
pub fn outcome_name<O: Serialize>(outcome: &O) -> String {
    match serde_json::to_value(outcome) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => "error".into(),
    }
}

/// `key=value` lines for `GITHUB_OUTPUT`: `outcome` (the first run's), `pr-url` (the
/// first one opened), `outcomes` (every run's, comma-separated), `record` (the first run
/// record on disk; a vetoed run's first), and `sarif` when a file was written. Values are
/// one line each, so no heredoc delimiter is needed.
pub fn outputs<O: Serialize>(runs: &[RunSummary<O>], sarif: Option<&str>) -> String {
    let names: Vec<String> = runs.iter().map(|r| outcome_name(&r.outcome)).collect();
    let outcome = names
        .first()
        .cloned()
        .unwrap_or_else(|| "nothing_found".into());
    let pr = runs.iter().find_map(|r| r.pr_url).unwrap_or("");
    let mut out = format!(
        "outcome={outcome}\noutcomes={}\npr-url={}\n",
        names.join(","),
        one_line(pr)
    );
    let record = runs
        .iter()
        .filter(|r| r.record_path.is_some())
        .min_by_key(|r| outcome_name(&r.outcome) != "vetoed")
        .and_then(|r| r.record_path)
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    out.push_str(&format!("record={}\n", one_line(&record)));
    if let Some(path) = sarif {
        out.push_str(&format!("sarif={}\n", one_line(path)));
    }
    out
}

fn one_line(s: &str) -> String {
    s.replace(['\r', '\n'], " ")
}

/// The step summary: per run, what failed and where, what was done about it, the diff
/// stat, the validation, the PR link, and what the LLM cost.
pub fn step_summary<O: Serialize>(runs: &[RunSummary<O>]) -> String {
    let mut md = String::from("## selfheal\n\n");
    if runs.is_empty() {
        md.push_str("No failed run to heal.\n");
        return md;
    }
    for r in runs {
        run_section(&mut md, r);
    }
    md
}

fn run_section<O: Serialize>(md: &mut String, r: &RunSummary<O>) {
    let name = outcome_name(&r.outcome);
    let _ = writeln!(
        md,
        "### Run {} (attempt {}): {}\n",
        r.run_id,
        r.attempt,
        headline(&name)
    );
    root_cause(md, r.failures);
    if let Some(url) = r.pr_url {
        let _ = writeln!(md, "**Pull request:** {url}\n");
    }
    if let Some(note) = r.note.filter(|n| !n.is_empty()) {
        let _ = writeln!(md, "**Note:** {}\n", escape(note));
    }
    if let Some(record) = r.record {
        repair(md, record);
    }
    if let Some(url) = r.comment_url {
        let _ = writeln!(md, "**Comment on the pull request:** {url}\n");
    }
    if let Some(p) = r.record_path {
        let _ = writeln!(
            md,
            "**Run record:** `{}` (uploaded as an artifact)\n",
            p.display()
        );
    }
    let _ = writeln!(md, "`outcome={name}`\n");
}

/// A sentence for people per outcome name; unknown names are shown as they are.
fn headline(name: &str) -> String {
    match name {
        "pull_request" => "fixed, pull request opened".into(),
        "pushed" => "fixed, branch pushed".into(),
        "needs_approval" => "a fix waits for approval".into(),
        "needs_review" => "a fix waits for review (draft pull request)".into(),
        "vetoed" => "the fix was vetoed: no pull request".into(),
        "not_healed" => "no fix passed validation".into(),
        "nothing_found" => "nothing a code change fixes".into(),
        "flaky" => "flaky, not patched".into(),
        "rerun" => "flaky, failed jobs re-run".into(),
        "triaged" => "diagnosed (triage only)".into(),
        "skipped" => "skipped".into(),
        "error" => "error".into(),
        other => other.replace('_', " "),
    }
}

fn root_cause(md: &mut String, failures: &[Failure]) {
    // The failures a code change fixes; when there are none, whatever was found.
    let any_code = failures.iter().any(|f| f.needs_code_change);
    let list: Vec<&Failure> = failures
        .iter()
        .filter(|f| f.needs_code_change || !any_code)
        .take(5)
        .collect();
    if list.is_empty() {
        return;
    }
    md.push_str("**Root cause**\n\n");
    for f in &list {
        let at = human::location(f).unwrap_or_else(|| "no file named".into());
        let _ = writeln!(
            md,
            "- `{at}` {} {}: {} ({} ▸ {})",
            f.tool,
            f.kind,
            escape(&f.message),
            escape(&f.job),
            escape(&f.step)
        );
    }
    if failures.len() > list.len() {
        let _ = writeln!(md, "- … and {} more", failures.len() - list.len());
    }
    md.push('\n');
}

fn repair(md: &mut String, record: &RunRecord) {
    if let Some(last) = record.attempts.last() {
        attempt(md, last);
    }
    let _ = writeln!(
        md,
        "**Cost:** {} attempt(s), {} LLM call(s), {} prompt + {} completion tokens, {}\n",
        record.attempts.len(),
        record.llm_calls,
        record.prompt_tokens,
        record.completion_tokens,
        record.cost_text()
    );
}

/// The last attempt: diagnosis, diff stat, risk with its vetoes, validation.
fn attempt(md: &mut String, last: &AttemptRecord) {
    if !last.diagnosis.trim().is_empty() {
        let first = last.diagnosis.trim().lines().next().unwrap_or_default();
        let _ = writeln!(md, "**Diagnosis:** {}\n", escape(first));
    }
    let stat = diff_stat(&last.patch);
    if !stat.is_empty() {
        md.push_str("**Change**\n\n```\n");
        md.push_str(&stat);
        md.push_str("```\n\n");
    }
    if let Some(risk) = &last.risk {
        let _ = write!(md, "**Risk:** {}/100", risk.score);
        if !risk.reasons.is_empty() {
            let _ = write!(md, " ({})", escape(&risk.reasons.join("; ")));
        }
        md.push('\n');
        let tagged = risk.vetoes.iter().map(|f| ("veto", f));
        for (tag, f) in tagged.chain(risk.dangers.iter().map(|f| ("danger", f))) {
            let _ = writeln!(
                md,
                "- **{tag}** `{}` in `{}`: {}",
                f.rule,
                f.path,
                escape(&f.detail)
            );
        }
        md.push('\n');
    }
    if let Some(v) = &last.validation {
        let _ = writeln!(md, "**Validation:** `{}` {}\n", v.command, v.summary());
    }
}

/// `path | +a -b` per file of a unified diff, and a total line.
pub fn diff_stat(diff: &str) -> String {
    let mut files: Vec<(String, usize, usize)> = Vec::new();
    for line in diff.lines() {
        if let Some(path) = line.strip_prefix("+++ ") {
            let path = path.strip_prefix("b/").unwrap_or(path);
            files.push((path.trim().to_string(), 0, 0));
        } else if line.starts_with("--- ") || line.starts_with("diff ") {
            continue;
        } else if let Some(f) = files.last_mut() {
            if line.starts_with('+') {
                f.1 += 1;
            } else if line.starts_with('-') {
                f.2 += 1;
            }
        }
    }
    if files.is_empty() {
        return String::new();
    }
    let width = files.iter().map(|f| f.0.len()).max().unwrap_or(0);
    let mut out = String::new();
    for (path, add, del) in &files {
        let _ = writeln!(out, "{path:<width$} | +{add} -{del}");
    }
    let (add, del) = files.iter().fold((0, 0), |a, f| (a.0 + f.1, a.1 + f.2));
    let _ = writeln!(out, "{} file(s) changed, +{add} -{del}", files.len());
    out
}

/// Keeps a log line from breaking the Markdown around it.
fn escape(s: &str) -> String {
    s.replace('|', "\\|").replace(['\r', '\n'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::Kind;

    #[derive(Serialize)]
    #[serde(rename_all = "snake_case")]
    enum Fake {
        PullRequest,
        NeedsApproval,
    }

    fn failure() -> Failure {
        let mut f = Failure::new("pytest", Kind::TestFailure, "assert add(2, 2) == 4").at(
            "calc/core.py",
            Some(7),
            None,
        );
        f.job = "test".into();
        f.step = "Run pytest".into();
        f
    }

    #[test]
    fn outputs_use_the_json_names() {
        let failures = [failure()];
        let runs = [
            RunSummary {
                run_id: 1,
                attempt: 1,
                outcome: Fake::NeedsApproval,
                pr_url: None,
                note: None,
                failures: &failures,
                record: None,
                record_path: None,
                comment_url: None,
            },
            RunSummary {
                run_id: 2,
                attempt: 1,
                outcome: Fake::PullRequest,
                pr_url: Some("https://github.com/o/r/pull/9"),
                note: None,
                failures: &failures,
                record: None,
                record_path: None,
                comment_url: None,
            },
        ];
        let out = outputs(&runs, Some("/tmp/s.sarif"));
        assert_eq!(
            out,
            "outcome=needs_approval\noutcomes=needs_approval,pull_request\npr-url=https://github.com/o/r/pull/9\nrecord=\nsarif=/tmp/s.sarif\n"
        );
        let none: [RunSummary<Fake>; 0] = [];
        assert!(outputs(&none, None).starts_with("outcome=nothing_found\n"));
    }

    #[test]
    fn the_summary_names_the_root_cause_and_the_pull_request() {
        let failures = [failure()];
        let runs = [RunSummary {
            run_id: 42,
            attempt: 2,
            outcome: Fake::PullRequest,
            pr_url: Some("https://github.com/o/r/pull/9"),
            note: Some("a | pipe"),
            failures: &failures,
            record: None,
            record_path: None,
            comment_url: None,
        }];
        let md = step_summary(&runs);
        assert!(
            md.contains("### Run 42 (attempt 2): fixed, pull request opened"),
            "{md}"
        );
        assert!(
            md.contains(
                "- `calc/core.py:7` pytest test_failure: assert add(2, 2) == 4 (test ▸ Run pytest)"
            ),
            "{md}"
        );
        assert!(md.contains("**Pull request:** https://github.com/o/r/pull/9"));
        assert!(md.contains("a \\| pipe"));
        assert!(md.contains("`outcome=pull_request`"));
        assert!(!md.contains("PullRequest"));
    }

    #[test]
    fn a_vetoed_attempt_shows_its_risk_and_vetoes() {
        use crate::risk::{Finding, Risk};
        let last = AttemptRecord {
            n: 1,
            source: crate::pipeline::Source::Llm,
            diagnosis: "The test expects the last window.\nMore words.".into(),
            patch: "--- a/tests/test_stats.py\n+++ b/tests/test_stats.py\n@@ -1 +1,2 @@\n+@pytest.mark.skip\n def test_x():\n".into(),
            risk: Some(Risk {
                score: 90,
                reasons: vec!["touches tests".into()],
                vetoes: vec![Finding {
                    rule: "skip-added".into(),
                    path: "tests/test_stats.py".into(),
                    detail: "adds @pytest.mark.skip".into(),
                }],
                dangers: vec![],
            }),
            refused: None,
            validation: None,
            usage: Default::default(),
            duration_ms: 5,
        };
        let mut md = String::new();
        attempt(&mut md, &last);
        assert!(
            md.contains("**Diagnosis:** The test expects the last window.\n"),
            "{md}"
        );
        assert!(md.contains("tests/test_stats.py | +1 -0"), "{md}");
        assert!(md.contains("**Risk:** 90/100 (touches tests)"), "{md}");
        assert!(
            md.contains("- **veto** `skip-added` in `tests/test_stats.py`: adds @pytest.mark.skip"),
            "{md}"
        );
    }

    #[test]
    fn diff_stat_counts_per_file() {
        let diff = "diff --git a/a.py b/a.py\n--- a/a.py\n+++ b/a.py\n@@ -1,2 +1,2 @@\n-x = 1\n+x = 2\n+y = 3\n context\n--- a/b.py\n+++ b/b.py\n@@ -1 +1 @@\n-z\n";
        assert_eq!(
            diff_stat(diff),
            "a.py | +2 -1\nb.py | +0 -1\n2 file(s) changed, +2 -2\n"
        );
        assert_eq!(diff_stat(""), "");
    }
}
