//! `selfheal run`: finds failed GitHub Actions runs, caches their logs, triages them,
//! repairs each in a checkout of the run's `head_sha` under the state dir (never the
//! user's working tree), and publishes validated fixes as pull requests. Handled runs
//! are remembered, so a second `run` does nothing new.
//!
//! In CI a fix too risky to merge unseen becomes a draft pull request labelled
//! `selfheal: needs review`; a vetoed one becomes none (the run record says why). A run
//! from a fork (or `--triage-only`) is only triaged: no LLM, no sandbox, no secrets. A run
//! judged flaky has its failed jobs re-run once. When the run belongs to a pull request,
//! one comment there (found again by a hidden marker, and edited) says what happened.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;

use crate::error::{Error, Hint, exit};
use crate::fetch::{FetchedRun, GreenRun, fetch_green, fetch_run};
use crate::flaky::{Assessment, Judgment};
use crate::github::{Client, RepoHints, RepoSlug, Run, RunFilter, exclusion, resolve_repo};
use crate::logs::Failure;
use crate::logs::archive::{Limits, LogSource};
use crate::logs::triage::{Triage, TriageOptions, triage};
use crate::pipeline::{RepairJob, RunRecord, Verdict};
use crate::publish::{self, FileChange, Fix, FixReport, Published, Publisher};
use crate::report::human;
use crate::risk::Risk;
use crate::store::{HandledRun, Outcome, Store};

use super::args::RunArgs;
use super::{Ctx, print_stdout, spend, wiring};

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

/// The green run a failed log was compared with.
#[derive(Clone, Debug, Serialize)]
pub struct Baseline {
    #[serde(flatten)]
    pub run: GreenRun,
    pub dropped_lines: usize,
}

pub fn run(ctx: &Ctx, args: &RunArgs) -> Result<i32, Error> {
    crate::llm::init_tls();
    crate::github::init_tls();
    let rt = super::runtime()?;
    rt.block_on(async {
        tokio::select! {
            res = run_async(ctx, args) => res,
            _ = crate::interrupt::interrupted() => Err(Error::new(exit::INTERRUPTED, "interrupted; the working tree was not touched")),
        }
    })
}

async fn run_async(ctx: &Ctx, args: &RunArgs) -> Result<i32, Error> {
    let cfg = &ctx.config;
    let repo = resolve_repo(&RepoHints {
        flag: args.repo.as_deref(),
        env_github_repository: cfg.env.github_repository.as_deref(),
        config: Some(&cfg.github.repo),
        repo_dir: Some(&ctx.repo_root),
    })?;
    let gh = crate::github::connect(
        &cfg.github,
        cfg.env.app_private_key.as_ref(),
        args.api_url.as_deref(),
        &repo,
    )
    .await?;
    let shown = ctx.progress.clone();
    let gh = gh.with_transfer_progress(move |t| shown.download(t.what, t.bytes, t.total, t.done));
    if let Some(app) = gh.app() {
        note(
            ctx,
            &format!(
                "acting as GitHub App {} (installation {} on {})",
                app.app_id, app.id, app.account
            ),
        );
    }
    let store = Store::open(&cfg.state_dir(&ctx.repo_root))?;
    let _lock = store.lock_run()?;
    let mut all = Vec::new();
    let mut listing = Listing::default();
    let every = Duration::from_secs(cfg.github.poll_interval_secs.max(1));
    loop {
        match candidate_runs(ctx, args, &gh, &repo, &store, &mut listing).await {
            Ok(runs) => {
                for run in runs {
                    let spends = args.repair.replay.is_none() && !args.repair.print_prompt;
                    let result = match spend::stop_reason(&ctx.config.llm, &store, spends) {
                        Some(why) => stopped(&run, why),
                        None => heal_and_remember(ctx, args, &gh, &repo, &store, &run).await,
                    };
                    report_one(ctx, args, &result);
                    all.push(result);
                }
            }
            // --watch keeps going: a failed listing is reported and tried again next poll.
            Err(e) if args.watch => warn(
                ctx,
                &format!(
                    "listing the runs failed: {}; trying again in {} s",
                    e.message,
                    every.as_secs()
                ),
            ),
            Err(e) => return Err(e),
        }
        if !args.watch {
            break;
        }
        tokio::time::sleep(every).await;
    }
    finish(ctx, args, &all)
}

/// The last listing, kept for `--watch`: its ETag (an unchanged page costs nothing), and
/// its runs, looked at again when the page is unchanged (errored runs come due).
#[derive(Default)]
struct Listing {
    etag: Option<String>,
    runs: Vec<Run>,
}

/// A run not started because of the daily cap: reported, not remembered (a later day
/// repairs it).
fn stopped(run: &Run, why: String) -> RunResult {
    RunResult {
        run_id: run.id,
        attempt: run.run_attempt,
        outcome: Outcome::Skipped,
        note: Some(why),
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

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// A line on stderr that stays visible (not dimmed), also with --json.
fn warn(ctx: &Ctx, text: &str) {
    eprintln!("{} {text}", ctx.term.yellow("warning:"));
}

/// Failed runs to look at: `--run-id`, or the listing with the filters; excluded and
/// already handled runs are reported and skipped.
async fn candidate_runs(
    ctx: &Ctx,
    args: &RunArgs,
    gh: &Client,
    repo: &RepoSlug,
    store: &Store,
    listing: &mut Listing,
) -> Result<Vec<Run>, Error> {
    let runs = match args.run_id {
        Some(id) => vec![gh.get_run(repo, id).await?],
        None => {
            let filter = RunFilter {
                branch: args.branch.clone(),
                event: args.event.clone(),
                created_since: args.since.as_deref().map(since_date).transpose()?,
                workflow: args.workflow.clone(),
                per_page: args.limit.clamp(1, 100) as u8,
                limit: args.limit as usize,
                ..RunFilter::default()
            };
            // With --watch the listing is conditional: an unchanged page (304) is free.
            if args.watch {
                match gh
                    .list_runs_if_changed(repo, &filter, listing.etag.as_deref())
                    .await?
                {
                    crate::github::Polled::Unchanged => listing.runs.clone(),
                    crate::github::Polled::Changed { value, etag: tag } => {
                        listing.etag = tag;
                        listing.runs = value.clone();
                        value
                    }
                }
            } else {
                gh.list_runs(repo, &filter).await?
            }
        }
    };
    let cfg = &ctx.config.github;
    let mut out = Vec::new();
    for run in runs {
        if let Some(why) = exclusion(&run, &cfg.excluded_workflows, &cfg.excluded_branch_prefixes) {
            note(ctx, &format!("run {}: skipped: {why}", run.id));
            continue;
        }
        let earlier = match args.force {
            true => None,
            false => store.record_of(run.id, run.run_attempt)?,
        };
        let head = format!("run {} attempt {}", run.id, run.run_attempt);
        match earlier {
            None => out.push(run),
            Some(h) if h.retry_due(now_secs()) => {
                note(
                    ctx,
                    &format!(
                        "{head}: trying again after error {} of {}",
                        h.errors, cfg.max_error_retries
                    ),
                );
                out.push(run);
            }
            // Waiting for its next try; --watch says nothing until then.
            Some(h) if !h.settled() => {
                if !args.watch {
                    note(
                        ctx,
                        &format!(
                            "{head}: ended in an error; tried again after a wait (--force now)"
                        ),
                    );
                }
            }
            Some(h) if h.outcome == Outcome::NeedsApproval => match &h.pending_id {
                Some(id) if crate::approval::is_pending(store.root(), id) => note(
                    ctx,
                    &format!(
                        "{head}: awaiting approval: `selfheal approve show {id}`, then `selfheal approve {id}` (or --reject)"
                    ),
                ),
                // The pending entry was removed by hand: nothing waits, so redo it.
                _ => out.push(run),
            },
            Some(_) => note(ctx, &format!("{head}: already handled (--force to redo)")),
        }
    }
    Ok(out)
}

/// `--since`: a date (`2026-11-01`) or a duration back from today (`2d`, `36h`, `1w`).
fn since_date(raw: &str) -> Result<String, Error> {
    let raw = raw.trim();
    let is_date = raw.len() == 10 && raw.as_bytes()[4] == b'-' && raw.as_bytes()[7] == b'-';
    if is_date && raw.chars().filter(char::is_ascii_digit).count() == 8 {
        return Ok(raw.to_string());
    }
    let bad = || {
        Error::usage(format!("--since {raw:?} is neither a date nor a duration"))
            .with_hint("use YYYY-MM-DD, or a duration like 2d, 36h or 1w")
    };
    let (num, unit) = raw.split_at(raw.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?);
    let n: u64 = num.parse().map_err(|_| bad())?;
    let secs = match unit {
        "h" => n * 3600,
        "d" => n * 86_400,
        "w" => n * 7 * 86_400,
        _ => return Err(bad()),
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    Ok(crate::date::Utc::from_epoch_secs(now.saturating_sub(secs)).date())
}

fn note(ctx: &Ctx, text: &str) {
    if !ctx.json {
        eprintln!("{}", ctx.term.dim(text));
    }
}

/// One run healed ([`heal`]) and remembered as handled. Errors become an `Error` outcome.
async fn heal_and_remember(
    ctx: &Ctx,
    args: &RunArgs,
    gh: &Client,
    repo: &RepoSlug,
    store: &Store,
    run: &Run,
) -> RunResult {
    let mut result = RunResult {
        run_id: run.id,
        attempt: run.run_attempt,
        outcome: Outcome::Error,
        note: None,
        pr_url: None,
        failures: vec![],
        record: None,
        flaky: None,
        baseline: None,
        workflow_path: Some(run.path.split('@').next().unwrap_or("").to_string())
            .filter(|p| !p.is_empty()),
        record_path: None,
        comment_url: None,
    };
    match heal(ctx, args, gh, repo, store, run, &mut result).await {
        Ok(outcome) => result.outcome = outcome,
        Err(e) => {
            result.outcome = Outcome::Error;
            result.note = Some(match &e.hint {
                Some(h) => format!("{} (hint: {h})", e.message),
                None => e.message.clone(),
            });
        }
    }
    let writes = !args.repair.dry_run && !args.repair.print_prompt;
    if writes && !result.failures.is_empty() {
        comment_on_pull_request(ctx, gh, repo, run, &mut result).await;
    }
    if let Some(r) = &result.record {
        spend::count(store, r.cost_usd);
    }
    let (errors, retry_at) = error_retry(ctx, store, run, &mut result);
    let handled = HandledRun {
        run_id: run.id,
        attempt: run.run_attempt,
        outcome: result.outcome,
        signature: result.failures.first().map(|f| f.signature.clone()),
        pr_number: None,
        pr_url: result.pr_url.clone(),
        note: result.note.clone(),
        pending_id: result.record.as_ref().and_then(|r| r.pending_id.clone()),
        errors,
        rerun: result.outcome == Outcome::Rerun,
        retry_at,
        at: now_secs(),
    };
    if writes && let Err(e) = store.mark_handled(handled) {
        eprintln!("warning: could not remember run {}: {e}", run.id);
    }
    result
}

/// For a run that ended in an error: how many errors in a row now, and when to try again
/// (`None` once `[github] max_error_retries` is reached, which the note then says).
fn error_retry(ctx: &Ctx, store: &Store, run: &Run, result: &mut RunResult) -> (u32, Option<u64>) {
    if result.outcome != Outcome::Error {
        return (0, None);
    }
    let before = store
        .record_of(run.id, run.run_attempt)
        .ok()
        .flatten()
        .filter(|h| h.outcome == Outcome::Error)
        .map_or(0, |h| h.errors);
    let errors = before + 1;
    let cfg = &ctx.config.github;
    if errors >= cfg.max_error_retries.max(1) {
        let why = result.note.take().unwrap_or_default();
        result.note = Some(format!(
            "{why} (gave up after {errors} error(s); --force tries again)"
        ));
        return (errors, None);
    }
    let wait = crate::store::error_backoff(cfg.poll_interval_secs, errors);
    let why = result.note.take().unwrap_or_default();
    result.note = Some(format!(
        "{why} (trying again in {wait} s, error {errors} of {})",
        cfg.max_error_retries
    ));
    (errors, Some(now_secs() + wait))
}

/// Fetch, triage, judge flakiness, repair in a checkout of the run's commit, publish.
async fn heal(
    ctx: &Ctx,
    args: &RunArgs,
    gh: &Client,
    repo: &RepoSlug,
    store: &Store,
    run: &Run,
    result: &mut RunResult,
) -> Result<Outcome, Error> {
    let fetched: FetchedRun = fetch_run(gh, repo, run, store).await?;
    for w in &fetched.warnings {
        note(ctx, &format!("run {}: {w}", run.id));
    }
    let green = green_run(ctx, gh, repo, run, store, &fetched).await;
    let mut t = triage_run(ctx, args, &fetched.dir, green.as_ref())?;
    result.baseline = green.map(|run| Baseline {
        run,
        dropped_lines: t.stats.baseline_dropped_lines,
    });
    result.failures = t.failures.clone();
    write_annotations(ctx, &t);
    if !ctx.json {
        eprint!("{}", human::triage(&t, &ctx.term));
    }
    if !t.failures.iter().any(|f| f.needs_code_change) {
        result.note = Some("no failure that a code change fixes".into());
        return Ok(Outcome::NothingFound);
    }
    if let Some(why) = triage_only(args, repo, run) {
        note(ctx, &format!("run {}: {why}", run.id));
        result.note = Some(why);
        return Ok(Outcome::Triaged);
    }
    let memory = crate::memory::Memory::open(store.root())
        .map_err(|e| note(ctx, &format!("run {}: {}", run.id, e.with_hint())))
        .ok();
    let assessment = assess(ctx, gh, repo, run, memory.as_ref(), &t).await;
    result.flaky = Some(assessment.clone());
    if !ctx.config.github.heal_flaky && !assessment.flaky_jobs.is_empty() {
        let summary = assessment.summary();
        note(ctx, &format!("run {}: {summary}", run.id));
        if !args.repair.dry_run
            && !args.repair.print_prompt
            && let Some(m) = &memory
        {
            remember_flaky(m, &t, &assessment);
        }
        if assessment.judgment == Judgment::Flaky {
            return flaky_outcome(ctx, args, gh, repo, run, store, &summary, result).await;
        }
        // Some jobs are flaky, others not: heal only the others.
        for f in t
            .failures
            .iter_mut()
            .filter(|f| assessment.flaky_jobs.contains(&f.job))
        {
            f.needs_code_change = false;
        }
    }
    if let Some(why) = rejected_before(args, memory.as_ref(), &t) {
        result.note = Some(why);
        return Ok(Outcome::Rejected);
    }
    let worktree = checkout(ctx, gh, repo, run, store).await?;
    let state = ctx.config.state_dir(&ctx.repo_root);
    let llm = wiring::llm_source(&args.repair);
    let job = RepairJob {
        repo: &worktree,
        state_dir: &state,
        triage: &t,
        llm: &llm,
        mode: wiring::mode(ctx, &args.repair),
    };
    let failed_jobs: Vec<&str> = t
        .failures
        .iter()
        .filter(|f| f.needs_code_change)
        .map(|f| f.job.as_str())
        .collect();
    let job_image = crate::sandbox::job_container::for_jobs(&worktree, &run.path, &failed_jobs);
    let driver = wiring::driver(ctx, &ctx.repo_root).with_job_image(job_image);
    let record = wiring::repair(ctx, &driver, &job).await?;
    result.note = record.note.clone();
    result.record_path = Some(record_path(&state, &record));
    let outcome = match record.verdict {
        Verdict::Healed if args.no_pr || args.repair.dry_run => Outcome::Skipped,
        Verdict::Healed => {
            let changes = applied_changes(&worktree, &record);
            let fix = fix_of(ctx, args, run, &record, &t, changes, None);
            publish_fix(ctx, args, gh, repo, &fix, result).await?
        }
        Verdict::Pending if ctx.config.env.ci && !args.no_pr => {
            review_or_veto(ctx, args, gh, repo, run, &record, &t, result).await?
        }
        Verdict::Pending => {
            keep_run_fix(ctx, args, gh, repo, run, store, &record, &t, result);
            Outcome::NeedsApproval
        }
        Verdict::NoCodeChange => Outcome::NothingFound,
        Verdict::DryRun | Verdict::PromptPrinted => Outcome::Skipped,
        Verdict::Rejected | Verdict::NotHealed => Outcome::NotHealed,
    };
    result.record = Some(record);
    Ok(outcome)
}

fn triage_run(
    ctx: &Ctx,
    args: &RunArgs,
    dir: &Path,
    green: Option<&GreenRun>,
) -> Result<Triage, Error> {
    let opts = TriageOptions {
        tool: args.repair.tool.clone(),
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
            triage_run(ctx, args, dir, None)
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
async fn green_run(
    ctx: &Ctx,
    gh: &Client,
    repo: &RepoSlug,
    run: &Run,
    store: &Store,
    fetched: &FetchedRun,
) -> Option<GreenRun> {
    if !ctx.config.github.green_baseline {
        return None;
    }
    let failed_jobs: Vec<String> = fetched
        .jobs
        .iter()
        .filter(|j| j.conclusion.as_deref() == Some("failure"))
        .map(|j| j.name.clone())
        .collect();
    match fetch_green(gh, repo, run, &failed_jobs, store).await {
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

/// Flaky or real: the run's attempts, the commit's other runs, the failure memory.
async fn assess(
    ctx: &Ctx,
    gh: &Client,
    repo: &RepoSlug,
    run: &Run,
    memory: Option<&crate::memory::Memory>,
    t: &Triage,
) -> Assessment {
    let (facts, warnings) = crate::flaky::gather::gather(gh, repo, run, memory, &t.failures).await;
    for w in warnings {
        note(ctx, &format!("run {}: flaky evidence: {w}", run.id));
    }
    crate::flaky::judge(&t.failures, &facts, ctx.config.github.flaky_after)
}

/// Writes the flaky judgment of each flaky job's failures into the failure memory.
fn remember_flaky(memory: &crate::memory::Memory, t: &Triage, a: &Assessment) {
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

/// `Some(why)` when a person rejected the last proposal for the primary failure
/// (`--force` proposes again).
fn rejected_before(
    args: &RunArgs,
    memory: Option<&crate::memory::Memory>,
    t: &Triage,
) -> Option<String> {
    let sig = &t.failures.iter().find(|f| f.needs_code_change)?.signature;
    let reason = memory?.rejection(sig).ok().flatten()?;
    (!args.force).then(|| {
        format!(
            "a person rejected the fix for {sig} ({reason}); not proposing it again (--force does)"
        )
    })
}

/// Ties the pending patch to this run, so approving it publishes what `run --yes` would
/// have; says how to approve it. Without a PR to open (`--no-pr`), nothing is tied.
#[expect(
    clippy::too_many_arguments,
    reason = "one call site; the pieces come from different stages"
)]
fn keep_run_fix(
    ctx: &Ctx,
    args: &RunArgs,
    gh: &Client,
    repo: &RepoSlug,
    run: &Run,
    store: &Store,
    record: &RunRecord,
    t: &Triage,
    result: &mut RunResult,
) {
    let Some(id) = &record.pending_id else { return };
    result.note = Some(format!(
        "awaiting approval: `selfheal approve show {id}`, then `selfheal approve {id}` opens the PR"
    ));
    if args.no_pr {
        return;
    }
    let origin = publish::approved::RunFix {
        version: publish::approved::RUN_FIX_VERSION,
        repo: repo.to_string(),
        api_url: gh.base_url().to_string(),
        run_id: run.id,
        attempt: run.run_attempt,
        base_branch: run.head_branch.clone().unwrap_or_default(),
        base_sha: run.head_sha.clone(),
        signature: primary_signature(t),
        report: fix_report(ctx, run, record, t),
        draft: ctx.config.publish.draft || args.draft,
        force: args.force,
    };
    if let Err(e) = crate::approval::set_origin(store.root(), id, run.id, &origin.to_json()) {
        eprintln!("warning: approving {id} will not open a PR: {e}");
    }
}

fn primary_signature(t: &Triage) -> String {
    t.failures
        .iter()
        .find(|f| f.needs_code_change)
        .map(|f| f.signature.clone())
        .unwrap_or_default()
}

/// Why this run is only triaged, if it is: a run from a fork never gets the LLM key, the
/// sandbox or a pull request (its code is not ours to run with secrets), and
/// `--triage-only` asks for the same.
fn triage_only(args: &RunArgs, repo: &RepoSlug, run: &Run) -> Option<String> {
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
    args.triage_only
        .then(|| "--triage-only: the diagnosis only, no repair".to_string())
}

/// The head repository's `owner/name` when it is not `repo` (a fork's pull request).
fn fork_of(repo: &RepoSlug, run: &Run) -> Option<String> {
    let head = run.head_repository.as_ref()?.full_name.clone()?;
    (!head.eq_ignore_ascii_case(&repo.to_string())).then_some(head)
}

/// A flaky run: its failed jobs re-run once when `[github] rerun_flaky` allows it (never a
/// run selfheal re-ran before, nor one already in a later attempt), else only reported.
#[expect(
    clippy::too_many_arguments,
    reason = "one call site; the pieces come from different stages"
)]
async fn flaky_outcome(
    ctx: &Ctx,
    args: &RunArgs,
    gh: &Client,
    repo: &RepoSlug,
    run: &Run,
    store: &Store,
    summary: &str,
    result: &mut RunResult,
) -> Result<Outcome, Error> {
    let again = store.was_rerun(run.id)? || run.run_attempt > 1;
    let may = ctx.config.rerun_flaky() && !args.repair.dry_run && !args.repair.print_prompt;
    if may && !again {
        gh.rerun_failed_jobs(repo, run.id).await?;
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

/// Where `repair_in` saved the run record.
fn record_path(state: &Path, record: &RunRecord) -> PathBuf {
    let path = state.join("runs").join(format!("{}.json", record.id));
    // Absolute, so a workflow step in another directory can upload it.
    std::path::absolute(&path).unwrap_or(path)
}

/// The run's `head_sha` written out under `<state>/worktrees/run-<id>-<attempt>`.
async fn checkout(
    ctx: &Ctx,
    gh: &Client,
    repo: &RepoSlug,
    run: &Run,
    store: &Store,
) -> Result<PathBuf, Error> {
    let token = gh.token().await?;
    let branch = run.head_branch.clone().unwrap_or_default();
    publish::ensure_commit(
        &ctx.repo_root,
        &wiring::remote_url(ctx, gh, repo),
        token,
        &branch,
        &run.head_sha,
    )?;
    let dir = store
        .root()
        .join("worktrees")
        .join(format!("run-{}-{}", run.id, run.run_attempt));
    publish::checkout::export_commit(&ctx.repo_root, &run.head_sha, &dir)?;
    Ok(dir)
}

/// The files an applied fix wrote, read back from the worktree.
fn applied_changes(worktree: &Path, record: &RunRecord) -> Vec<FileChange> {
    record
        .applied
        .iter()
        .map(|p| FileChange {
            path: p.clone(),
            contents: std::fs::read(worktree.join(p)).ok(),
        })
        .collect()
}

/// The files of the validated patch that waits for approval (it was not applied).
fn pending_changes(record: &RunRecord) -> Vec<FileChange> {
    record
        .patch
        .iter()
        .flat_map(|p| &p.files)
        .map(|f| FileChange {
            path: f.path.clone(),
            contents: f.new.as_ref().map(|t| t.clone().into_bytes()),
        })
        .collect()
}

/// The risk of the last attempt's patch.
fn last_risk(record: &RunRecord) -> Option<&Risk> {
    record.attempts.last().and_then(|a| a.risk.as_ref())
}

/// In CI, a validated patch nobody may approve on the runner: a veto (test weakening, a
/// dangerous addition) keeps it out of any pull request; anything else becomes a draft
/// labelled `selfheal: needs review` whose body opens with the risk.
#[expect(
    clippy::too_many_arguments,
    reason = "one call site; the pieces come from different stages"
)]
async fn review_or_veto(
    ctx: &Ctx,
    args: &RunArgs,
    gh: &Client,
    repo: &RepoSlug,
    run: &Run,
    record: &RunRecord,
    t: &Triage,
    result: &mut RunResult,
) -> Result<Outcome, Error> {
    let risk = last_risk(record).cloned().unwrap_or_default();
    if blocked(&risk) {
        result.note = Some(veto_text(&risk));
        return Ok(Outcome::Vetoed);
    }
    let fix = fix_of(
        ctx,
        args,
        run,
        record,
        t,
        pending_changes(record),
        Some(&risk),
    );
    match publish_fix(ctx, args, gh, repo, &fix, result).await? {
        Outcome::PullRequest => {
            result.note = Some(format!("draft: needs review (risk {}/100)", risk.score));
            Ok(Outcome::NeedsReview)
        }
        other => Ok(other),
    }
}

/// A veto (test weakening) or a dangerous addition: never a pull request. Suspected prompt
/// injection only flags the patch for review.
fn blocked(risk: &Risk) -> bool {
    risk.vetoed() || risk.dangers.iter().any(|d| d.rule != "prompt-injection")
}

/// One line per veto and danger: `veto: rule: detail (path)`.
fn veto_text(risk: &Risk) -> String {
    let mut lines: Vec<String> = risk
        .vetoes
        .iter()
        .map(|v| format!("veto: {}: {} ({})", v.rule, v.detail, v.path))
        .collect();
    lines.extend(
        risk.dangers
            .iter()
            .map(|d| format!("danger: {}: {} ({})", d.rule, d.detail, d.path)),
    );
    format!("no pull request: {}", lines.join("; "))
}

/// The review preface of a draft PR: the risk score first, then each reason.
fn review_text(risk: &Risk, max: u32) -> String {
    let mut s = format!(
        "> [!WARNING]\n> **Needs review: risk {}/100** (above `[policy] max_auto_risk` = {max}, or a flagged area). selfheal validated this fix but will not propose it for merging without a person.\n>\n",
        risk.score
    );
    for r in &risk.reasons {
        s.push_str(&format!("> - {r}\n"));
    }
    s
}

fn fix_of(
    ctx: &Ctx,
    args: &RunArgs,
    run: &Run,
    record: &RunRecord,
    t: &Triage,
    changes: Vec<FileChange>,
    review: Option<&Risk>,
) -> Fix {
    let mut report = fix_report(ctx, run, record, t);
    if let Some(risk) = review {
        report.review = review_text(risk, ctx.config.policy.max_auto_risk);
    }
    Fix {
        run_id: run.id,
        attempt: run.run_attempt,
        base_branch: run.head_branch.clone().unwrap_or_default(),
        base_sha: run.head_sha.clone(),
        signature: t
            .failures
            .iter()
            .find(|f| f.needs_code_change)
            .map(|f| f.signature.clone())
            .unwrap_or_default(),
        changes,
        report,
        force: args.force,
    }
}

async fn publish_fix(
    ctx: &Ctx,
    args: &RunArgs,
    gh: &Client,
    repo: &RepoSlug,
    fix: &Fix,
    result: &mut RunResult,
) -> Result<Outcome, Error> {
    let mut config = ctx.config.publish.clone();
    config.draft |= args.draft;
    if !fix.report.review.is_empty() {
        config.draft = true;
        config.labels.push(publish::REVIEW_LABEL.to_string());
    }
    let publisher = Publisher {
        github: gh,
        repo: repo.clone(),
        repo_dir: ctx.repo_root.clone(),
        remote_url: wiring::remote_url(ctx, gh, repo),
        // Taken now, after the repair: an App's token is fresh for the push.
        token: gh.token().await?,
        config,
    };
    Ok(match publisher.publish(fix).await? {
        Published::Opened { pr, warnings, .. } => {
            warnings.iter().for_each(|w| note(ctx, w));
            result.pr_url = Some(pr.html_url);
            Outcome::PullRequest
        }
        Published::Updated { pr, .. } => {
            result.pr_url = Some(pr.html_url);
            Outcome::PullRequest
        }
        Published::Pushed { branch } => {
            result.note = Some(format!("pushed {branch}"));
            Outcome::Pushed
        }
        Published::Skipped(why) => {
            result.note = Some(why.to_string());
            Outcome::Skipped
        }
    })
}

fn fix_report(ctx: &Ctx, run: &Run, record: &RunRecord, t: &Triage) -> FixReport {
    let first = t.failures.iter().find(|f| f.needs_code_change);
    let last = record.attempts.last();
    let location = first.and_then(human::location).unwrap_or_default();
    FixReport {
        title: first
            .map(|f| format!("fix {} {} in {location}", f.tool, f.kind))
            .unwrap_or_else(|| "fix CI failure".into()),
        failure: first
            .map(|f| {
                format!(
                    "{} ▸ {}\n{location}: {}\n\n```\n{}\n```",
                    f.job,
                    f.step,
                    f.message,
                    f.excerpt.lines().take(20).collect::<Vec<_>>().join("\n")
                )
            })
            .unwrap_or_default(),
        diagnosis: last.map(|a| a.diagnosis.clone()).unwrap_or_default(),
        diff_summary: last.map(|a| a.patch.clone()).unwrap_or_default(),
        validation: last
            .and_then(|a| a.validation.as_ref())
            .map(|v| format!("`{}` {}", v.command, v.summary()))
            .unwrap_or_default(),
        attempts: record.attempts.len() as u32,
        tokens: record.prompt_tokens + record.completion_tokens,
        cost_usd: record.cost_usd,
        model: ctx.config.llm.model.clone(),
        run_url: run.html_url.clone(),
        review: String::new(),
    }
}

/// Posts (or edits) selfheal's one comment on the run's pull request. Trouble is a note:
/// the run's outcome stands without it.
async fn comment_on_pull_request(
    ctx: &Ctx,
    gh: &Client,
    repo: &RepoSlug,
    run: &Run,
    result: &mut RunResult,
) {
    let number = match publish::comment::pull_request_of(gh, repo, run).await {
        Ok(Some(n)) => n,
        Ok(None) => return,
        Err(e) => {
            note(
                ctx,
                &format!("run {}: cannot find its pull request: {e}", run.id),
            );
            return;
        }
    };
    let body = publish::comment::comment_body(&comment_facts(run, result));
    match publish::comment::upsert(gh, repo, number, &body).await {
        Ok(c) => result.comment_url = Some(c.html_url),
        Err(e) => note(
            ctx,
            &format!(
                "run {}: cannot comment on #{number}: {e} (hint: {})",
                run.id,
                e.hint()
            ),
        ),
    }
}

fn comment_facts<'a>(run: &'a Run, r: &'a RunResult) -> publish::comment::Facts<'a> {
    let causes: Vec<&Failure> = r.failures.iter().filter(|f| f.needs_code_change).collect();
    let shown = if causes.is_empty() {
        r.failures.iter().collect()
    } else {
        causes
    };
    publish::comment::Facts {
        run_id: run.id,
        attempt: run.run_attempt,
        run_url: &run.html_url,
        headline: comment_headline(r.outcome),
        causes: shown
            .into_iter()
            .map(|f| publish::comment::Cause {
                location: human::location(f),
                what: format!("{} {}", f.tool, f.kind),
                message: f.message.clone(),
            })
            .collect(),
        pr_url: r.pr_url.as_deref(),
        note: r.note.as_deref(),
    }
}

/// What happened, as the pull request comment's headline says it.
fn comment_headline(o: Outcome) -> &'static str {
    match o {
        Outcome::PullRequest | Outcome::Pushed => "a validated fix is proposed",
        Outcome::NeedsReview => "a validated fix waits for review (draft)",
        Outcome::Vetoed => "the only fix found was vetoed",
        Outcome::Rerun => "this failure looks flaky; its failed jobs were re-run",
        Outcome::Flaky => "this failure looks flaky",
        Outcome::Triaged => "diagnosis",
        Outcome::NeedsApproval => "a validated fix waits for approval",
        Outcome::Rejected => "a person rejected the fix for this failure before",
        Outcome::NotHealed => "no fix passed the tests",
        Outcome::NothingFound => "nothing a code change fixes",
        Outcome::Skipped => "no new pull request",
        Outcome::Error => "selfheal could not finish",
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
    !ctx.json && args.repair.format == Some(super::args::Format::Sarif)
}

fn report_one(ctx: &Ctx, args: &RunArgs, r: &RunResult) {
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
fn finish(ctx: &Ctx, args: &RunArgs, all: &[RunResult]) -> Result<i32, Error> {
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
        super::offline::write_sarif(path, &sarif_text(ctx, all))?;
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

/// Flag overrides for the config layer.
pub fn flags(args: &RunArgs) -> Vec<(String, toml::Value)> {
    let mut flags = wiring::repair_flags(&args.repair);
    if let Some(url) = &args.api_url {
        flags.push(("github.api_url".into(), url.clone().into()));
    }
    if args.heal_flaky {
        flags.push(("github.heal_flaky".into(), true.into()));
    }
    if args.no_baseline {
        flags.push(("github.green_baseline".into(), false.into()));
    }
    if args.no_rerun {
        flags.push(("github.rerun_flaky".into(), "off".into()));
    }
    flags
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_takes_dates_and_durations() {
        assert_eq!(since_date("2026-11-01").unwrap(), "2026-11-01");
        let two_days = since_date("2d").unwrap();
        assert_eq!(two_days.len(), 10);
        assert!(two_days < since_date("1h").unwrap() || two_days == since_date("1h").unwrap());
        assert!(since_date("yesterday").is_err());
        assert_eq!(since_date("3x").unwrap_err().code, exit::USAGE);
    }
}
