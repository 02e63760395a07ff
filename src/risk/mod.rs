//! Scores a patch 0–100 before anyone trusts it, and vetoes "fixes" that make CI green
//! by weakening the tests: skipped or deleted tests, removed assertions, loosened
//! expected values, `|| true`. Dangerous additions (`rm -rf`, `curl | sh`, credential
//! reads, network calls in tests) are flagged. A vetoed patch is never auto-approved.

pub mod injection;
mod rules;

use serde::{Deserialize, Serialize};

use crate::logs::paths::is_test_path;
use crate::logs::{Failure, Kind};

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
/// a test's expected value is loosening it, not fixing it) and what values the run printed.
pub fn assess(changes: &[Change<'_>], failures: &[Failure]) -> Risk {
    let mut risk = Risk::default();
    let evidence = evidence_of(failures);
    let renamed = renamed_tests(changes);
    let mut score = 0u32;
    for c in changes {
        let diff = LineDiff::of(c);
        score += rules::path_points(c.path, &mut risk.reasons);
        risk.vetoes.extend(rules::weakening(
            c,
            &diff,
            &evidence,
            renamed.contains(&c.path),
        ));
        risk.dangers.extend(rules::dangers(c, &diff));
    }
    if risk.vetoes.is_empty()
        && let Some(v) = test_only_patch(changes, &evidence)
    {
        risk.vetoes.push(v);
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

/// What the failures say about where the bug is.
fn evidence_of(failures: &[Failure]) -> rules::Evidence {
    let points_at_code = failures
        .iter()
        .any(|f| f.file.as_deref().is_some_and(|p| !is_test_path(p)))
        || failures
            .iter()
            .any(|f| f.frames.iter().any(|fr| !is_test_path(&fr.file)));
    let mut printed = Vec::new();
    for f in failures {
        for text in [&f.message, &f.excerpt] {
            printed.extend(PRINTED.find_iter(text).map(|m| m.as_str().to_string()));
        }
    }
    rules::Evidence {
        points_at_code,
        test_failure: failures.iter().any(|f| f.kind == Kind::TestFailure),
        blames_test: !failures.is_empty() && failures.iter().all(blames_test),
        printed,
    }
}

/// Literal values in a failure's text.
static PRINTED: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(r#"\[[^\[\]\n]*\]|-?\d+(\.\d+)?|"[^"\n]*"|'[^'\n]*'|`[^`\n]*`|\b(true|false|True|False|None|null|nil)\b"#)
        .expect("static regex")
});

/// The failure is in the test itself: it does not build or load, or it names something
/// the test got wrong (an undefined name), at a line of a test file.
fn blames_test(f: &Failure) -> bool {
    static IN_TEST: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(
            r"NameError|ReferenceError|SyntaxError|is not defined|undefined: |not found in this scope|cannot find (value|function|type)|unresolved import|fixture '\w+' not found",
        )
        .expect("static regex")
    });
    let in_test = f.file.as_deref().is_some_and(is_test_path);
    let broken = matches!(
        f.kind,
        Kind::CompileError | Kind::SyntaxError | Kind::ImportError | Kind::TypeError
    );
    in_test && (broken || IN_TEST.is_match(&f.message))
}

/// Test files deleted because their tests moved to a file the patch adds: every test
/// definition and assertion of the old file is in the new one.
fn renamed_tests<'a>(changes: &[Change<'a>]) -> Vec<&'a str> {
    let keep = |text: &str| -> Vec<String> {
        let mut v: Vec<String> = text
            .lines()
            .map(str::trim)
            .filter(|l| rules::is_test_line(l))
            .map(str::to_string)
            .collect();
        v.sort();
        v
    };
    let added: Vec<Vec<String>> = changes
        .iter()
        .filter(|c| c.old.is_none() && is_test_path(c.path))
        .filter_map(|c| c.new.map(keep))
        .collect();
    changes
        .iter()
        .filter(|c| c.new.is_none() && is_test_path(c.path))
        .filter(|c| {
            let old = keep(c.old.unwrap_or(""));
            !old.is_empty() && added.iter().any(|a| contains_all(a, &old))
        })
        .map(|c| c.path)
        .collect()
}

/// Every line of `needed` (sorted) is in `have` (sorted), counting repeats.
fn contains_all(have: &[String], needed: &[String]) -> bool {
    let mut i = 0;
    for n in needed {
        while i < have.len() && have[i] < *n {
            i += 1;
        }
        if i == have.len() || have[i] != *n {
            return false;
        }
        i += 1;
    }
    true
}

/// A patch that changes only tests, for a failing test whose failure does not blame the
/// test: the tests may be right and the code wrong, so a person decides (never
/// auto-applied). Spelling fixes of an expected string, when nothing points at the code,
/// pass: the failure said the test was wrong.
fn test_only_patch(changes: &[Change<'_>], ev: &rules::Evidence) -> Option<Finding> {
    if changes.is_empty()
        || !changes.iter().all(|c| is_test_path(c.path))
        || !ev.test_failure
        || ev.blames_test
    {
        return None;
    }
    // whole files added or moved are judged by the other rules (a deletion is a veto)
    let edited: Vec<&Change<'_>> = changes
        .iter()
        .filter(|c| c.old.is_some() && c.new.is_some())
        .collect();
    if edited.is_empty() || !ev.points_at_code && edited.iter().all(|c| only_typo_fixes(c)) {
        return None;
    }
    Some(Finding {
        rule: "test-only-patch".into(),
        path: edited[0].path.to_string(),
        detail: "only test files change while a test fails on what the code does; a person must \
                 decide whether the test or the code is wrong"
            .into(),
    })
}

/// Every changed line of `c` is a spelling fix of a quoted string.
fn only_typo_fixes(c: &Change<'_>) -> bool {
    let diff = LineDiff::of(c);
    diff.removed.len() == diff.added.len()
        && !diff.removed.is_empty()
        && diff.removed.iter().zip(&diff.added).all(|(a, b)| {
            let la: Vec<&str> = rules::literals(a);
            let lb: Vec<&str> = rules::literals(b);
            la.len() == lb.len()
                && la.iter().zip(&lb).any(|(x, y)| x != y)
                && la
                    .iter()
                    .zip(&lb)
                    .all(|(x, y)| x == y || rules::is_typo_fix(x, y))
        })
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
