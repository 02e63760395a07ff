//! Log differencing against the last green run: most of a failed log is lines that also
//! appear when the job passes (setup, downloads, passing tests). Lines whose normalised
//! form occurs in the green log are dropped; lines around what remains are kept for
//! context. Normalisation strips what changes between runs of the same job:
//! durations, percentages, hashes, temp paths, ports, counters.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use regex::Regex;

use super::StepLog;

/// Lines kept on each side of a line found only in the failed log.
pub const CONTEXT: usize = 2;

static VOLATILE: LazyLock<Vec<(Regex, &'static str)>> = LazyLock::new(|| {
    [
        (
            r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?Z?",
            "<time>",
        ),
        (r"\b[0-9a-f]{7,64}\b", "<hash>"),
        (
            r"\b\d+(\.\d+)?\s*(ms|s|sec|secs|seconds|m|min|µs|us|ns)\b",
            "<dur>",
        ),
        (r"\(\d+(\.\d+)?s?\)", "(<dur>)"),
        (r"(/tmp|/var/folders|/private/var)/[^\s:'\x22]*", "<tmp>"),
        (r"pytest-of-[\w-]+/pytest-\d+", "<tmp>"),
        (r"\d+(\.\d+)?\s*%", "<pct>"),
        (r"(127\.0\.0\.1|localhost):\d+", "<addr>"),
        (r"\d+", "<n>"),
        (r"\s+", " "),
    ]
    .into_iter()
    .map(|(re, with)| (Regex::new(re).expect("static regex"), with))
    .collect()
});

/// The comparison key of a line.
pub fn normalise(line: &str) -> String {
    let mut s = line.trim().to_string();
    for (re, with) in VOLATILE.iter() {
        if re.is_match(&s) {
            s = re.replace_all(&s, *with).into_owned();
        }
    }
    s
}

/// Normalised lines of the green run's steps.
pub fn green_keys(green: &[StepLog]) -> HashSet<String> {
    green
        .iter()
        .flat_map(|s| s.lines.iter())
        .map(|l| normalise(l))
        .collect()
}

/// The green run's normalised lines per job, so a failed step is compared with the same
/// job when the green run has it (a matrix leg with its own setup), else with all jobs.
#[derive(Debug, Default)]
pub struct GreenJobs {
    by_job: HashMap<String, HashSet<String>>,
    all: HashSet<String>,
}

impl GreenJobs {
    pub fn new(green: &[StepLog]) -> GreenJobs {
        let mut out = GreenJobs::default();
        for step in green {
            let keys = out.by_job.entry(step.job.clone()).or_default();
            for line in &step.lines {
                let key = normalise(line);
                keys.insert(key.clone());
                out.all.insert(key);
            }
        }
        out
    }

    /// The keys to subtract from a step of `job`.
    pub fn for_job(&self, job: &str) -> &HashSet<String> {
        self.by_job.get(job).unwrap_or(&self.all)
    }
}

/// The failed step with the lines that also occur in the green run dropped (a
/// `StepLog::GAP` line stands for each dropped run of lines). `##[error]` lines and
/// the last line are always kept.
pub fn subtract(step: &StepLog, green: &HashSet<String>) -> StepLog {
    let novel: Vec<bool> = step
        .lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            l.starts_with("##[error]")
                || i + 1 == step.lines.len()
                || !green.contains(&normalise(l))
        })
        .collect();
    let keep = widen(&novel, CONTEXT);
    let mut out = StepLog {
        lines: Vec::new(),
        ..step.clone()
    };
    let mut gap = false;
    for (line, k) in step.lines.iter().zip(&keep) {
        if *k {
            out.lines.push(line.clone());
            gap = false;
        } else if !gap {
            out.lines.push(StepLog::GAP.to_string());
            gap = true;
        }
    }
    out
}

fn widen(marks: &[bool], by: usize) -> Vec<bool> {
    let mut out = vec![false; marks.len()];
    for (i, _) in marks.iter().enumerate().filter(|(_, m)| **m) {
        let (from, to) = (i.saturating_sub(by), (i + by + 1).min(marks.len()));
        out[from..to].iter_mut().for_each(|k| *k = true);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(lines: &[&str]) -> StepLog {
        StepLog {
            lines: lines.iter().map(|s| s.to_string()).collect(),
            failed: true,
            ..StepLog::default()
        }
    }

    #[test]
    fn volatile_parts_normalise_away() {
        assert_eq!(
            normalise("tests/test_a.py::test_x PASSED [ 10%] in 0.12s"),
            normalise("tests/test_a.py::test_x PASSED [ 55%] in 3.40s")
        );
        assert_eq!(
            normalise("Downloaded serde v1.0.229 (abc1234def)"),
            normalise("Downloaded serde v1.0.230 (0123456789)")
        );
        assert_eq!(
            normalise("wrote /tmp/tmpa8x9/out.txt"),
            normalise("wrote /tmp/tmpZZ/out.txt")
        );
        assert_ne!(
            normalise("FAILED tests/test_a.py::test_x"),
            normalise("PASSED tests/test_a.py::test_x")
        );
    }

    #[test]
    fn lines_seen_in_the_green_run_are_dropped_with_context_kept() {
        let green = step(&[
            "setup python 3.11.4",
            "cache hit: pip-abc1234",
            "installed 12 packages in 3.1s",
            "Python 3.11.4",
            "collected 40 items",
            "tests/a.py ....... [ 50%]",
            "tests/b.py ....... [100%]",
            "40 passed in 1.2s",
        ]);
        let failed = step(&[
            "setup python 3.11.9",
            "cache hit: pip-9f8e7d6",
            "installed 12 packages in 2.7s",
            "Python 3.11.9",
            "collected 40 items",
            "tests/a.py ....... [ 50%]",
            "tests/b.py ...F... [100%]",
            "noise 1",
            "noise 2",
            "noise 3",
            "E   assert 3 == 4",
            "1 failed, 39 passed in 1.3s",
            "##[error]Process completed with exit code 1.",
        ]);
        let keys = green_keys(&[green]);
        let out = subtract(&failed, &keys);
        assert!(
            !out.lines.iter().any(|l| l.starts_with("setup python")),
            "{:?}",
            out.lines
        );
        assert!(out.lines.contains(&"tests/b.py ...F... [100%]".to_string()));
        assert!(out.lines.contains(&"E   assert 3 == 4".to_string()));
        assert!(out.lines.last().unwrap().starts_with("##[error]"));
        assert_eq!(out.lines[0], StepLog::GAP);
        assert!(out.lines.len() < failed.lines.len());
    }

    #[test]
    fn a_step_is_compared_with_the_same_job_when_the_green_run_has_it() {
        let mut unit = step(&["only in unit"]);
        unit.job = "unit".into();
        let mut lint = step(&["only in lint"]);
        lint.job = "lint".into();
        let green = GreenJobs::new(&[unit, lint]);
        assert!(green.for_job("unit").contains("only in unit"));
        assert!(!green.for_job("unit").contains("only in lint"));
        assert!(
            green.for_job("e2e").contains("only in lint"),
            "an unknown job is compared with every job"
        );
    }

    #[test]
    fn without_a_green_run_everything_is_kept() {
        let failed = step(&["a", "b", "c"]);
        assert_eq!(subtract(&failed, &HashSet::new()).lines, failed.lines);
    }
}
