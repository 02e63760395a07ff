//! Ties the log stages together: read the steps, parse the failing ones, map paths to
//! the repo, sign and dedupe the failures, rank the files. The one entry point the CLI
//! and the repair pipeline call.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Serialize;

use super::archive::{self, Limits, LogError, LogSource, ReadStats};
use super::paths::to_repo_relative_in;
use super::rank::{RankedFile, rank_files};
use super::signature::signature_of;
use super::{Failure, StepLog, baseline, parse};

/// What the caller may set: a tool to force, the repo to check paths against, caps.
#[derive(Clone, Debug, Default)]
pub struct TriageOptions {
    pub tool: Option<String>,
    pub repo_dir: Option<PathBuf>,
    pub limits: Limits,
    /// Logs of the last green run of the same job: lines that also occur there are dropped.
    pub baseline: Option<LogSource>,
    /// The CI that wrote a text log (`--from`); detected when `None`.
    pub from: Option<super::ci::Ci>,
}

/// Counts reported under `stats` in the JSON output.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Stats {
    #[serde(flatten)]
    pub read: ReadStats,
    pub steps: usize,
    pub failed_steps: usize,
    pub masked_secrets: u32,
    /// Lines dropped because the green baseline run has them too.
    pub baseline_dropped_lines: usize,
    pub duration_ms: u64,
}

/// The answer to "what failed, and where".
#[derive(Clone, Debug, Default)]
pub struct Triage {
    pub failures: Vec<Failure>,
    pub files: Vec<RankedFile>,
    pub stats: Stats,
    pub warnings: Vec<String>,
    /// The steps that were parsed (failed ones, or all when none was marked failed).
    /// The repair pipeline asks `risk` whether they address the model.
    pub steps: Vec<StepLog>,
}

/// Reads `source` and finds its failures.
pub fn triage(source: &LogSource, opts: &TriageOptions) -> Result<Triage, LogError> {
    let started = Instant::now();
    let outcome = archive::read_run_from(source, &opts.limits, opts.from)?;
    let mut steps = outcome.steps;
    let mut dropped = 0;
    if let Some(green) = &opts.baseline {
        let green = baseline::GreenJobs::new(&archive::read_run(green, &opts.limits)?.steps);
        for step in steps.iter_mut().filter(|s| s.failed) {
            let before = step.lines.len();
            *step = baseline::subtract(step, green.for_job(&step.job));
            dropped += before.saturating_sub(step.lines.len());
        }
    }
    let mut t = triage_steps(steps, opts);
    t.stats.baseline_dropped_lines = dropped;
    t.stats.read = outcome.stats;
    t.warnings.splice(0..0, outcome.warnings);
    t.stats.duration_ms = started.elapsed().as_millis() as u64;
    Ok(t)
}

/// The part of [`triage`] after reading: parse, normalise, dedupe, rank.
pub fn triage_steps(steps: Vec<StepLog>, opts: &TriageOptions) -> Triage {
    let total_steps = steps.len();
    let masked_secrets = steps.iter().map(|s| s.masked).sum();
    let any_failed = steps.iter().any(|s| s.failed);
    let chosen: Vec<StepLog> = steps
        .into_iter()
        .filter(|s| s.failed || !any_failed)
        .collect();
    let repo_dir = opts.repo_dir.as_deref();
    let mut seen = HashSet::new();
    let mut failures = Vec::new();
    for step in &chosen {
        for f in parse::parse_step(step, opts.tool.as_deref()) {
            let f = finish_failure(f, step, repo_dir);
            if seen.insert((f.signature.clone(), f.file.clone(), f.line)) {
                failures.push(f);
            }
        }
    }
    let files = rank_files(&failures, repo_dir);
    Triage {
        stats: Stats {
            steps: total_steps,
            failed_steps: chosen.iter().filter(|s| s.failed).count(),
            masked_secrets,
            ..Stats::default()
        },
        failures,
        files,
        warnings: Vec::new(),
        steps: chosen,
    }
}

/// Fills in what parsers leave to triage: job, step, repo-relative paths, signature.
fn finish_failure(mut f: Failure, step: &StepLog, repo_dir: Option<&Path>) -> Failure {
    f.job = step.job.clone();
    f.step = step.step.clone();
    f.file = f
        .file
        .map(|p| to_repo_relative_in(&p, &step.workspaces, repo_dir))
        .filter(|p| !p.is_empty());
    for frame in &mut f.frames {
        frame.file = to_repo_relative_in(&frame.file, &step.workspaces, repo_dir);
    }
    f.signature = signature_of(&f);
    f
}
