//! Healing one failed run: fetch and cache its logs, subtract the last green run's, triage,
//! set aside what is not repaired (nothing a code change fixes, a fork's or `--triage-only`
//! run, a flaky failure, a fix a person rejected before), repair the rest in a checkout of
//! the run's `head_sha` under the state dir (never the user's working tree) through the
//! pipeline, and hand the verdict to `publish`. Whatever happens, the run's pull request
//! hears of it, the spend is counted and the run is remembered.

use std::path::{Path, PathBuf};

use crate::cli::{spend, wiring};
use crate::error::{Error, Hint};
use crate::fetch::{FetchedRun, GreenRun, fetch_green, fetch_run};
use crate::flaky::{Assessment, Judgment};
use crate::github::{RepoSlug, Run};
use crate::logs::archive::{Limits, LogSource};
use crate::logs::triage::{Triage, TriageOptions, triage};
use crate::memory::Memory;
use crate::pipeline::{RepairJob, RunRecord};
use crate::store::Outcome;

use super::OneRun;
use super::report::{Baseline, RunResult, note, show_triage};
use super::{choose, publish};

/// One run healed ([`heal`]), its pull request told, its spend counted, and the run
/// remembered as handled. Errors become an `Error` outcome.
pub(super) async fn heal_one(one: &OneRun<'_>) -> RunResult {
    let run = one.run;
    let mut result = RunResult {
        workflow_path: Some(run.path.split('@').next().unwrap_or("").to_string())
            .filter(|p| !p.is_empty()),
        ..RunResult::new(run, Outcome::Error)
    };
    match heal(one, &mut result).await {
        Ok(outcome) => result.outcome = outcome,
        Err(e) => {
            result.outcome = Outcome::Error;
            result.note = Some(match &e.hint {
                Some(h) => format!("{} (hint: {h})", e.message),
                None => e.message.clone(),
            });
        }
    }
    let writes = !one.args.repair.dry_run && !one.args.repair.print_prompt;
    if writes && !result.failures.is_empty() {
        publish::comment_on_pull_request(one, &mut result).await;
    }
    if let Some(r) = &result.record {
        spend::count(one.store, r.cost_usd);
    }
    choose::remember(one.ctx, one.store, run, &mut result, writes);
    result
}

/// Diagnose, set aside what is not repaired, repair in a checkout of the run's commit,
/// publish.
async fn heal(one: &OneRun<'_>, result: &mut RunResult) -> Result<Outcome, Error> {
    let mut t = diagnose(one, result).await?;
    if let Some(outcome) = set_aside(one, &mut t, result).await? {
        return Ok(outcome);
    }
    let state = one.ctx.config.state_dir(&one.ctx.repo_root);
    let (worktree, record) = repair(one, &t, &state).await?;
    result.note = record.note.clone();
    result.record_path = Some(record_path(&state, &record));
    let outcome = publish::publish_verdict(one, &worktree, &record, &t, result).await?;
    result.record = Some(record);
    Ok(outcome)
}

/// The run's logs fetched (cached), compared with the last green run's, triaged and shown.
async fn diagnose(one: &OneRun<'_>, result: &mut RunResult) -> Result<Triage, Error> {
    let (ctx, run) = (one.ctx, one.run);
    let fetched: FetchedRun = fetch_run(one.gh, one.repo, run, one.store).await?;
    for w in &fetched.warnings {
        note(ctx, &format!("run {}: {w}", run.id));
    }
    let green = green_run(one, &fetched).await;
    let t = triage_run(one, &fetched.dir, green.as_ref())?;
    result.baseline = green.map(|run| Baseline {
        run,
        dropped_lines: t.stats.baseline_dropped_lines,
    });
    result.failures = t.failures.clone();
    show_triage(ctx, &t);
    Ok(t)
}

fn triage_run(one: &OneRun<'_>, dir: &Path, green: Option<&GreenRun>) -> Result<Triage, Error> {
    let ctx = one.ctx;
    let opts = TriageOptions {
        tool: one.args.repair.tool.clone(),
        repo_dir: Some(ctx.repo_root.clone()),
        limits: Limits::from_config(&ctx.config.logs),
        baseline: green.map(|g| LogSource::Dir(g.dir.clone())),
        from: None,
    };
    match triage(&LogSource::Dir(dir.to_path_buf()), &opts) {
        Err(e) if green.is_some() => {
            // A green log that cannot be read must not stop the repair of the red one.
            note(
                ctx,
                &format!("the green run's log is unusable ({e}); not subtracting it"),
            );
            triage_run(one, dir, None)
        }
        Ok(mut t) => {
            crate::pipeline::locate_code_under_test(&mut t, &ctx.repo_root);
            Ok(t)
        }
        Err(e) => Err(Error::from(e)),
    }
}

/// The last green run of the same workflow, fetched and cached, unless turned off.
/// Failing to find or fetch one is a note: the failed log is then read whole.
async fn green_run(one: &OneRun<'_>, fetched: &FetchedRun) -> Option<GreenRun> {
    let (ctx, run) = (one.ctx, one.run);
    if !ctx.config.github.green_baseline {
        return None;
    }
    let failed_jobs: Vec<String> = fetched
        .jobs
        .iter()
        .filter(|j| j.conclusion.as_deref() == Some("failure"))
        .map(|j| j.name.clone())
        .collect();
    match fetch_green(one.gh, one.repo, run, &failed_jobs, one.store).await {
        Ok(Some(green)) => {
            note(
                ctx,
                &format!(
                    "run {}: comparing with green run {} ({})",
                    run.id,
                    green.run_id,
                    green.head_branch.as_deref().unwrap_or("?")
                ),
            );
            Some(green)
        }
        Ok(None) => {
            note(
                ctx,
                &format!(
                    "run {}: no green run of this workflow to compare with",
                    run.id
                ),
            );
            None
        }
        Err(e) => {
            let e: Error = e.into();
            note(
                ctx,
                &format!("run {}: could not fetch a green run: {}", run.id, e.message),
            );
            None
        }
    }
}

/// `Some(outcome)` when the run is not repaired: no failure a code change fixes, a run
/// only triaged, a flaky run, or a fix a person rejected before. Failures of flaky jobs
/// among real ones are marked as needing no code change.
async fn set_aside(
    one: &OneRun<'_>,
    t: &mut Triage,
    result: &mut RunResult,
) -> Result<Option<Outcome>, Error> {
    if !t.failures.iter().any(|f| f.needs_code_change) {
        result.note = Some("no failure that a code change fixes".into());
        return Ok(Some(Outcome::NothingFound));
    }
    if let Some(why) = triage_only(one.args.triage_only, one.repo, one.run) {
        note(one.ctx, &format!("run {}: {why}", one.run.id));
        result.note = Some(why);
        return Ok(Some(Outcome::Triaged));
    }
    let memory = Memory::open(one.store.root())
        .map_err(|e| note(one.ctx, &format!("run {}: {}", one.run.id, e.with_hint())))
        .ok();
    if let Some(outcome) = set_flaky_aside(one, memory.as_ref(), t, result).await? {
        return Ok(Some(outcome));
    }
    if let Some(why) = rejected_before(one.args.force, memory.as_ref(), t) {
        result.note = Some(why);
        return Ok(Some(Outcome::Rejected));
    }
    Ok(None)
}

/// Flaky or real ([`assess`]). Unless `[github] heal_flaky`, a flaky judgment is
/// remembered and a wholly flaky run ends here ([`flaky_outcome`]); in a run with flaky
/// and real jobs, only the real ones' failures are healed.
async fn set_flaky_aside(
    one: &OneRun<'_>,
    memory: Option<&Memory>,
    t: &mut Triage,
    result: &mut RunResult,
) -> Result<Option<Outcome>, Error> {
    let assessment = assess(one, memory, t).await;
    result.flaky = Some(assessment.clone());
    if one.ctx.config.github.heal_flaky || assessment.flaky_jobs.is_empty() {
        return Ok(None);
    }
    let summary = assessment.summary();
    note(one.ctx, &format!("run {}: {summary}", one.run.id));
    if !one.args.repair.dry_run
        && !one.args.repair.print_prompt
        && let Some(m) = memory
    {
        remember_flaky(m, t, &assessment);
    }
    if assessment.judgment == Judgment::Flaky {
        return flaky_outcome(one, &summary, result).await.map(Some);
    }
    // Some jobs are flaky, others not: heal only the others.
    for f in t
        .failures
        .iter_mut()
        .filter(|f| assessment.flaky_jobs.contains(&f.job))
    {
        f.needs_code_change = false;
    }
    Ok(None)
}

/// Flaky or real: the run's attempts, the commit's other runs, the failure memory.
async fn assess(one: &OneRun<'_>, memory: Option<&Memory>, t: &Triage) -> Assessment {
    let (facts, warnings) =
        crate::flaky::gather::gather(one.gh, one.repo, one.run, memory, &t.failures).await;
    for w in warnings {
        note(one.ctx, &format!("run {}: flaky evidence: {w}", one.run.id));
    }
    crate::flaky::judge(&t.failures, &facts, one.ctx.config.github.flaky_after)
}

/// Writes the flaky judgment of each flaky job's failures into the failure memory.
fn remember_flaky(memory: &Memory, t: &Triage, a: &Assessment) {
    let flaky = t
        .failures
        .iter()
        .filter(|f| f.needs_code_change && a.flaky_jobs.contains(&f.job));
    for f in flaky {
        if let Err(e) = memory.record(&crate::memory::Outcome::judged_flaky(f, &a.summary())) {
            eprintln!("warning: {}", e.with_hint());
        }
    }
}

/// A flaky run: its failed jobs re-run once when `[github] rerun_flaky` allows it (never a
/// run selfheal re-ran before, nor one already in a later attempt), else only reported.
async fn flaky_outcome(
    one: &OneRun<'_>,
    summary: &str,
    result: &mut RunResult,
) -> Result<Outcome, Error> {
    let (ctx, args, run) = (one.ctx, one.args, one.run);
    let again = one.store.was_rerun(run.id)? || run.run_attempt > 1;
    let may = ctx.config.rerun_flaky() && !args.repair.dry_run && !args.repair.print_prompt;
    if may && !again {
        one.gh.rerun_failed_jobs(one.repo, run.id).await?;
        result.note = Some(format!("{summary}; its failed jobs were re-run"));
        note(ctx, &format!("run {}: re-ran its failed jobs", run.id));
        return Ok(Outcome::Rerun);
    }
    let why = if may {
        "; re-run before, so not again"
    } else {
        ""
    };
    result.note = Some(format!("{summary}{why} (--heal-flaky to patch it anyway)"));
    Ok(Outcome::Flaky)
}

/// `Some(why)` when a person rejected the last proposal for the primary failure
/// (`--force` proposes again).
fn rejected_before(force: bool, memory: Option<&Memory>, t: &Triage) -> Option<String> {
    let sig = &t.failures.iter().find(|f| f.needs_code_change)?.signature;
    let reason = memory?.rejection(sig).ok().flatten()?;
    (!force).then(|| {
        format!(
            "a person rejected the fix for {sig} ({reason}); not proposing it again (--force does)"
        )
    })
}

/// Why this run is only triaged, if it is: a run from a fork never gets the LLM key, the
/// sandbox or a pull request (its code is not ours to run with secrets), and
/// `--triage-only` asks for the same.
fn triage_only(asked: bool, repo: &RepoSlug, run: &Run) -> Option<String> {
    if run
        .head_repository
        .as_ref()
        .and_then(|r| r.full_name.as_ref())
        .is_none()
    {
        // A deleted fork leaves no head repository: its code is no more trusted.
        return Some("the run names no head repository (a deleted fork?): triage only".into());
    }
    if let Some(fork) = fork_of(repo, run) {
        return Some(format!(
            "the run's commit comes from the fork {fork}: triage only (no LLM, no sandbox, no secrets, no pull request)"
        ));
    }
    asked.then(|| "--triage-only: the diagnosis only, no repair".to_string())
}

/// The head repository's `owner/name` when it is not `repo` (a fork's pull request).
fn fork_of(repo: &RepoSlug, run: &Run) -> Option<String> {
    let head = run.head_repository.as_ref()?.full_name.clone()?;
    (!head.eq_ignore_ascii_case(&repo.to_string())).then_some(head)
}

/// The repair, through the pipeline, in a checkout of the run's commit, with the failed
/// jobs' container image when the workflow names one: the worktree and the run record.
async fn repair(one: &OneRun<'_>, t: &Triage, state: &Path) -> Result<(PathBuf, RunRecord), Error> {
    let (ctx, args) = (one.ctx, one.args);
    let worktree = checkout(one).await?;
    let llm = wiring::llm_source(&args.repair);
    let job = RepairJob {
        repo: &worktree,
        state_dir: state,
        triage: t,
        llm: &llm,
        mode: wiring::mode(ctx, &args.repair),
    };
    let failed_jobs: Vec<&str> = t
        .failures
        .iter()
        .filter(|f| f.needs_code_change)
        .map(|f| f.job.as_str())
        .collect();
    let job_image = crate::sandbox::job_container::for_jobs(&worktree, &one.run.path, &failed_jobs);
    let driver = wiring::driver(ctx, &ctx.repo_root).with_job_image(job_image);
    let record = wiring::repair(ctx, &driver, &job).await?;
    Ok((worktree, record))
}

/// The run's `head_sha` written out under `<state>/worktrees/run-<id>-<attempt>`.
async fn checkout(one: &OneRun<'_>) -> Result<PathBuf, Error> {
    let (ctx, gh, run) = (one.ctx, one.gh, one.run);
    let token = gh.token().await?;
    let branch = run.head_branch.clone().unwrap_or_default();
    crate::publish::ensure_commit(
        &ctx.repo_root,
        &wiring::remote_url(ctx, gh, one.repo),
        token,
        &branch,
        &run.head_sha,
    )?;
    let dir = one
        .store
        .root()
        .join("worktrees")
        .join(format!("run-{}-{}", run.id, run.run_attempt));
    crate::publish::checkout::export_commit(&ctx.repo_root, &run.head_sha, &dir)?;
    Ok(dir)
}

/// Where `repair_in` saved the run record.
fn record_path(state: &Path, record: &RunRecord) -> PathBuf {
    let path = state.join("runs").join(format!("{}.json", record.id));
    // Absolute, so a workflow step in another directory can upload it.
    std::path::absolute(&path).unwrap_or(path)
}
