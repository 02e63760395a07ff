//! What `selfheal run` tells people and machines: a run's result ([`RunResult`]), the
//! notes and warnings on stderr, the triage shown for each run (with `::error`
//! annotations in Actions), one line per run, and at the end `--json` or SARIF, the step
//! summary, `GITHUB_OUTPUT` and the exit code. Nothing here acts on GitHub or the store.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::cli::args::{Format, RunArgs};
use crate::cli::{Ctx, print_stdout};
use crate::error::{Error, exit};
use crate::fetch::GreenRun;
use crate::flaky::Assessment;
use crate::github::Run;
use crate::logs::Failure;
use crate::logs::triage::Triage;
use crate::pipeline::RunRecord;
use crate::report::human;
use crate::store::Outcome;

/// What happened to one run, for the report, `--json` and `GITHUB_OUTPUT`.
#[derive(Clone, Debug, Serialize)]
pub struct RunResult {
    pub run_id: u64,
    pub attempt: u32,
    pub outcome: Outcome,
    pub note: Option<String>,
    pub pr_url: Option<String>,
    pub failures: Vec<Failure>,
    pub record: Option<RunRecord>,
    /// Flaky or real, with the evidence (absent when nothing needed judging).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flaky: Option<Assessment>,
    /// The green run whose log was subtracted, and how many lines that dropped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline: Option<Baseline>,
    /// The run's workflow file, where SARIF places failures that name no file.
    #[serde(skip)]
    pub workflow_path: Option<String>,
    /// The run record on disk (`<state>/runs/<id>.json`): the workflow uploads it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record_path: Option<PathBuf>,
    /// selfheal's comment on the run's pull request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment_url: Option<String>,
}

impl RunResult {
    /// `run` with this outcome and nothing else known yet.
    pub(super) fn new(run: &Run, outcome: Outcome) -> RunResult {
        RunResult {
            run_id: run.id,
            attempt: run.run_attempt,
            outcome,
            note: None,
            pr_url: None,
            failures: vec![],
            record: None,
            flaky: None,
            baseline: None,
            workflow_path: None,
            record_path: None,
            comment_url: None,
        }
    }
}

/// The green run a failed log was compared with.
#[derive(Clone, Debug, Serialize)]
pub struct Baseline {
    #[serde(flatten)]
    pub run: GreenRun,
    pub dropped_lines: usize,
}

/// A dim line on stderr, left out with `--json`.
pub(super) fn note(ctx: &Ctx, text: &str) {
    if !ctx.json {
        eprintln!("{}", ctx.term.dim(text));
    }
}

/// A line on stderr that stays visible (not dimmed), also with --json.
pub(super) fn warn(ctx: &Ctx, text: &str) {
    eprintln!("{} {text}", ctx.term.yellow("warning:"));
}

/// A run's triage: its annotations inside Actions, and the human report on stderr.
pub(super) fn show_triage(ctx: &Ctx, t: &Triage) {
    write_annotations(ctx, t);
    if !ctx.json {
        eprint!("{}", human::triage(t, &ctx.term));
    }
}

/// `::error file=…,line=…::` for each failure when running inside GitHub Actions.
fn write_annotations(ctx: &Ctx, t: &Triage) {
    if !ctx.config.env.actions {
        return;
    }
    for f in &t.failures {
        let loc = match (&f.file, f.line) {
            (Some(file), Some(line)) => format!(" file={file},line={line}"),
            (Some(file), None) => format!(" file={file}"),
            _ => String::new(),
        };
        let level = if f.needs_code_change {
            "error"
        } else {
            "warning"
        };
        let msg = f
            .message
            .replace('%', "%25")
            .replace('\r', "%0D")
            .replace('\n', "%0A");
        eprintln!("::{level}{loc},title={}/{}::{msg}", f.tool, f.kind);
    }
}

fn sarif_stdout(ctx: &Ctx, args: &RunArgs) -> bool {
    !ctx.json && args.repair.format == Some(Format::Sarif)
}

/// The line that says what happened to one run.
pub(super) fn report_one(ctx: &Ctx, args: &RunArgs, r: &RunResult) {
    if ctx.json {
        return;
    }
    let what = match r.outcome {
        Outcome::PullRequest => ctx.term.green("pull request"),
        Outcome::Pushed => ctx.term.green("pushed"),
        Outcome::NeedsApproval => ctx.term.yellow("needs approval"),
        Outcome::Rejected => ctx.term.yellow("rejected before, not proposed"),
        Outcome::NeedsReview => ctx.term.yellow("draft pull request, needs review"),
        Outcome::Vetoed => ctx.term.red("vetoed, no pull request"),
        Outcome::Rerun => ctx.term.yellow("flaky, failed jobs re-run"),
        Outcome::Triaged => ctx.term.yellow("triaged only"),
        Outcome::NotHealed => ctx.term.red("not healed"),
        Outcome::NothingFound => ctx.term.yellow("nothing to fix"),
        Outcome::Flaky => ctx.term.yellow("flaky, not patched"),
        Outcome::Skipped => ctx.term.yellow("skipped"),
        Outcome::Error => ctx.term.red("error"),
    };
    // A vetoed run's record is what a person reads next (the workflow uploads it).
    let record = (r.outcome == Outcome::Vetoed)
        .then(|| {
            r.record_path
                .as_ref()
                .map(|p| format!("record {}", p.display()))
        })
        .flatten();
    let extra = [r.pr_url.clone(), r.note.clone(), record]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" · ");
    let line = format!(
        "run {} attempt {}: {what}{}{extra}\n",
        r.run_id,
        r.attempt,
        if extra.is_empty() { "" } else { " · " }
    );
    // With --format sarif stdout carries the SARIF only.
    if sarif_stdout(ctx, args) {
        eprint!("{line}");
    } else {
        let _ = print_stdout(&line);
    }
}

#[derive(Serialize)]
struct Report<'a> {
    schema: u32,
    runs: &'a [RunResult],
}

/// Prints `--json` (or SARIF), writes the SARIF file, the step summary and the outputs,
/// and picks the exit code.
pub(super) fn finish(ctx: &Ctx, args: &RunArgs, all: &[RunResult]) -> Result<i32, Error> {
    if ctx.json {
        print_stdout(&crate::report::json::to_string(&Report {
            schema: 1,
            runs: all,
        }))?;
    } else if sarif_stdout(ctx, args) {
        print_stdout(&sarif_text(ctx, all))?;
    } else if all.is_empty() {
        print_stdout("no failed run to heal\n")?;
    }
    if let Some(path) = &args.repair.sarif_out {
        crate::cli::offline::write_sarif(path, &sarif_text(ctx, all))?;
    }
    write_actions_files(ctx, args, all);
    let has = |o: Outcome| all.iter().any(|r| r.outcome == o);
    Ok(if has(Outcome::Error) {
        exit::ERROR
    } else if has(Outcome::NeedsApproval) || has(Outcome::NeedsReview) {
        exit::NEEDS_APPROVAL
    } else if has(Outcome::NotHealed) || has(Outcome::Vetoed) {
        exit::NOT_HEALED
    } else if all.iter().all(|r| {
        matches!(
            r.outcome,
            Outcome::NothingFound | Outcome::Flaky | Outcome::Rerun
        )
    }) {
        exit::NOTHING_FOUND
    } else {
        exit::SUCCESS
    })
}

/// The failures of every run as one SARIF log; failures naming no repository file sit
/// on the workflow file (one SARIF run: code scanning takes at most 20 per file).
fn sarif_text(ctx: &Ctx, all: &[RunResult]) -> String {
    use crate::report::sarif::{self, SarifOptions};
    let failures: Vec<Failure> = all
        .iter()
        .flat_map(|r| {
            r.failures.iter().cloned().map(|mut f| {
                if !f.file.as_deref().is_some_and(sarif::is_repo_path) {
                    f.file.clone_from(&r.workflow_path);
                    f.line = None;
                }
                f
            })
        })
        .collect();
    let opts = SarifOptions {
        src_root: Some(&ctx.repo_root),
        fallback_uri: None,
    };
    sarif::to_string(&failures, &opts)
}

/// Appends the step summary and the step outputs when running inside Actions.
fn write_actions_files(ctx: &Ctx, args: &RunArgs, all: &[RunResult]) {
    use crate::report::actions::{self, RunSummary};
    let runs: Vec<RunSummary<Outcome>> = all
        .iter()
        .map(|r| RunSummary {
            run_id: r.run_id,
            attempt: r.attempt,
            outcome: r.outcome,
            pr_url: r.pr_url.as_deref(),
            note: r.note.as_deref(),
            failures: &r.failures,
            record: r.record.as_ref(),
            record_path: r.record_path.as_deref(),
            comment_url: r.comment_url.as_deref(),
        })
        .collect();
    if let Some(path) = &ctx.config.env.github_step_summary {
        append(path, &actions::step_summary(&runs));
    }
    if let Some(path) = &ctx.config.env.github_output {
        let sarif = args.repair.sarif_out.as_deref().and_then(|p| p.to_str());
        append(path, &actions::outputs(&runs, sarif));
    }
}

/// Appends to a file Actions reads; a failure is a warning, not the run's failure.
fn append(path: &Path, text: &str) {
    use std::io::Write;
    let res = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .and_then(|mut f| f.write_all(text.as_bytes()));
    if let Err(e) = res {
        eprintln!("warning: cannot append to {}: {e}", path.display());
    }
}
