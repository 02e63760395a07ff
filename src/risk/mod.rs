//! Scores a patch 0–100 before anyone trusts it, and vetoes "fixes" that make CI green
//! by weakening the tests: skipped or deleted tests, removed assertions, loosened
//! expected values, `|| true`. Dangerous additions (`rm -rf`, `curl | sh`, credential
//! reads, network calls in tests) are flagged. A vetoed patch is never auto-approved.

pub mod injection;
mod rules;

use serde::{Deserialize, Serialize};

use crate::logs::Failure;
use crate::logs::paths::is_test_path;

/// One file of a patch as risk sees it: its path and its text before and after.
#[derive(Clone, Copy, Debug)]
pub struct Change<'a> {
    pub path: &'a str,
    pub old: Option<&'a str>,
    pub new: Option<&'a str>,
}

/// A finding with where it is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub rule: String,
    pub path: String,
    pub detail: String,
}

/// The verdict on one patch.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Risk {
    /// 0 (trivial) to 100 (never without a human).
    pub score: u32,
    /// Why the score is what it is, one line each.
    pub reasons: Vec<String>,
    /// Test-weakening: any of these means the patch is never auto-approved.
    pub vetoes: Vec<Finding>,
    /// Dangerous additions (shell pipes to sh, credential reads, …).
    pub dangers: Vec<Finding>,
}

impl Risk {
    pub fn vetoed(&self) -> bool {
        !self.vetoes.is_empty()
    }

    /// May this patch be applied or published without a human?
    pub fn auto_approvable(&self, max_auto_risk: u32) -> bool {
        !self.vetoed() && self.dangers.is_empty() && self.score <= max_auto_risk
    }
}

/// Assesses a patch. `failures` tell whether the failure points at code (then changing
/// a test's expected value is loosening it, not fixing it).
pub fn assess(changes: &[Change<'_>], failures: &[Failure]) -> Risk {
    let mut risk = Risk::default();
    let points_at_code = failures
        .iter()
        .any(|f| f.file.as_deref().is_some_and(|p| !is_test_path(p)))
        || failures
            .iter()
            .any(|f| f.frames.iter().any(|fr| !is_test_path(&fr.file)));
    let mut score = 0u32;
    for c in changes {
        let diff = LineDiff::of(c);
        score += rules::path_points(c.path, &mut risk.reasons);
        risk.vetoes
            .extend(rules::weakening(c, &diff, points_at_code));
        risk.dangers.extend(rules::dangers(c, &diff));
    }
    score += size_points(changes, &mut risk.reasons);
    if !risk.dangers.is_empty() {
        score += 40;
        risk.reasons
            .push(format!("{} dangerous addition(s)", risk.dangers.len()));
    }
    if risk.vetoed() {
        score = score.max(90);
        risk.reasons
            .push(format!("test-weakening veto: {}", risk.vetoes[0].rule));
    }
    risk.score = score.min(100);
    risk
}

fn size_points(changes: &[Change<'_>], reasons: &mut Vec<String>) -> u32 {
    let lines: usize = changes.iter().map(|c| LineDiff::of(c).changed()).sum();
    let files = changes.len();
    let points = (lines as u32).min(30) + (files.saturating_sub(1) as u32 * 5).min(20);
    reasons.push(format!("{lines} changed line(s) in {files} file(s)"));
    points
}

/// Lines only in the old text and lines only in the new one (a multiset difference:
/// moved lines do not count).
pub struct LineDiff<'a> {
    pub removed: Vec<&'a str>,
    pub added: Vec<&'a str>,
}

impl<'a> LineDiff<'a> {
    pub fn of(c: &Change<'a>) -> LineDiff<'a> {
        let old: Vec<&str> = c.old.map(|t| t.lines().collect()).unwrap_or_default();
        let new: Vec<&str> = c.new.map(|t| t.lines().collect()).unwrap_or_default();
        LineDiff {
            removed: minus(&old, &new),
            added: minus(&new, &old),
        }
    }

    pub fn changed(&self) -> usize {
        self.removed.len().max(self.added.len())
    }
}

fn minus<'a>(a: &[&'a str], b: &[&'a str]) -> Vec<&'a str> {
    let mut counts: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for l in b {
        *counts.entry(l.trim()).or_default() += 1;
    }
    a.iter()
        .filter(|l| match counts.get_mut(l.trim()) {
            Some(n) if *n > 0 => {
                *n -= 1;
                false
            }
            _ => true,
        })
        .copied()
        .collect()
}

#[cfg(test)]
mod tests;
