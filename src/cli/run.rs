//! `selfheal run`: finds failed GitHub Actions runs, caches their logs, triages them,
//! repairs each in a checkout of the run's `head_sha` under the state dir (never the
//! user's working tree), and publishes validated fixes as pull requests. Handled runs
//! are remembered, so a second `run` does nothing new.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;

use crate::error::{Error, Hint, exit};
use crate::fetch::{FetchedRun, GreenRun, fetch_green, fetch_run};
use crate::flaky::{Assessment, Judgment};
use crate::github::{
    Client, ClientOptions, RepoHints, RepoSlug, Run, RunFilter, exclusion, resolve_repo,
};
use crate::logs::Failure;
use crate::logs::archive::{Limits, LogSource};
use crate::logs::triage::{Triage, TriageOptions, triage};
use crate::pipeline::{RepairJob, RunRecord, Verdict};
use crate::publish::{self, FileChange, Fix, FixReport, Published, Publisher};
use crate::report::human;
use crate::store::{HandledRun, Outcome, Store};

use super::args::RunArgs;
use super::{Ctx, print_stdout, wiring};

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
    let shown = ctx.progress.clone();
    let gh = Client::from_config(&cfg.github, args.api_url.as_deref())?
        .with_transfer_progress(move |t| shown.download(t.what, t.bytes, t.total, t.done));
    let store = Store::open(&cfg.state_dir(&ctx.repo_root))?;
    let _lock = store.lock_run()?;
    let mut all = Vec::new();
    let mut etag: Option<String> = None;
    loop {
        let runs = candidate_runs(ctx, args, &gh, &repo, &store, &mut etag).await?;
        for run in runs {
            let result = heal_and_remember(ctx, args, &gh, &repo, &store, &run).await;
            report_one(ctx, &result);
            all.push(result);
        }
        if !args.watch {
            break;
        }
        tokio::time::sleep(Duration::from_secs(cfg.github.poll_interval_secs.max(10))).await;
    }
    finish(ctx, &all)
}

/// Failed runs to look at: `--run-id`, or the listing with the filters; excluded and
/// already handled runs are reported and skipped.
async fn candidate_runs(
    ctx: &Ctx,
    args: &RunArgs,
    gh: &Client,
    repo: &RepoSlug,
    store: &Store,
    etag: &mut Option<String>,
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
                    .list_runs_if_changed(repo, &filter, etag.as_deref())
                    .await?
                {
                    crate::github::Polled::Unchanged => Vec::new(),
                    crate::github::Polled::Changed { value, etag: tag } => {
                        *etag = tag;
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
        } else if !args.force && store.is_handled(run.id, run.run_attempt)? {
            note(
                ctx,
                &format!(
                    "run {} attempt {}: already handled (--force to redo)",
                    run.id, run.run_attempt
                ),
            );
        } else {
            out.push(run);
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
    let handled = HandledRun {
        run_id: run.id,
        attempt: run.run_attempt,
        outcome: result.outcome,
        signature: result.failures.first().map(|f| f.signature.clone()),
        pr_number: None,
        pr_url: result.pr_url.clone(),
        note: result.note.clone(),
        at: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0),
    };
    if !args.repair.dry_run
        && !args.repair.print_prompt
        && let Err(e) = store.mark_handled(handled)
    {
        eprintln!("warning: could not remember run {}: {e}", run.id);
    }
    result
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
            result.note = Some(format!("{summary} (--heal-flaky to patch it anyway)"));
            return Ok(Outcome::Flaky);
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
    let worktree = checkout(ctx, gh, repo, run, store)?;
    let state = ctx.config.state_dir(&ctx.repo_root);
    let llm = wiring::llm_source(&args.repair);
    let job = RepairJob {
        repo: &worktree,
        state_dir: &state,
        triage: &t,
        llm: &llm,
        mode: wiring::mode(ctx, &args.repair),
    };
    let driver = wiring::driver(ctx, &ctx.repo_root);
    let record = wiring::repair(ctx, &driver, &job).await?;
    result.note = record.note.clone();
    let outcome = match record.verdict {
        Verdict::Healed if args.no_pr || args.repair.dry_run => Outcome::Skipped,
        Verdict::Healed => {
            publish_fix(ctx, args, gh, repo, run, &worktree, &record, &t, result).await?
        }
        Verdict::Pending => Outcome::NeedsApproval,
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
        other => other.map_err(Error::from),
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

/// The remote to push to and fetch from: the clone's `origin`, else the API's host.
fn remote_url(ctx: &Ctx, gh: &Client, repo: &RepoSlug) -> String {
    crate::github::origin_url(&ctx.repo_root)
        .unwrap_or_else(|_| publish::push_url(gh.base_url(), repo))
}

/// The run's `head_sha` written out under `<state>/worktrees/run-<id>-<attempt>`.
fn checkout(
    ctx: &Ctx,
    gh: &Client,
    repo: &RepoSlug,
    run: &Run,
    store: &Store,
) -> Result<PathBuf, Error> {
    let token = ClientOptions::from_config(&ctx.config.github).token;
    let branch = run.head_branch.clone().unwrap_or_default();
    publish::ensure_commit(
        &ctx.repo_root,
        &remote_url(ctx, gh, repo),
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

#[expect(
    clippy::too_many_arguments,
    reason = "one call site; the pieces come from different stages"
)]
async fn publish_fix(
    ctx: &Ctx,
    args: &RunArgs,
    gh: &Client,
    repo: &RepoSlug,
    run: &Run,
    worktree: &Path,
    record: &RunRecord,
    t: &Triage,
    result: &mut RunResult,
) -> Result<Outcome, Error> {
    let mut config = ctx.config.publish.clone();
    config.draft |= args.draft;
    let publisher = Publisher {
        github: gh,
        repo: repo.clone(),
        repo_dir: ctx.repo_root.clone(),
        remote_url: remote_url(ctx, gh, repo),
        token: ClientOptions::from_config(&ctx.config.github).token,
        config,
    };
    let fix = Fix {
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
        changes: record
            .applied
            .iter()
            .map(|p| FileChange {
                path: p.clone(),
                contents: std::fs::read(worktree.join(p)).ok(),
            })
            .collect(),
        report: fix_report(ctx, run, record, t),
        force: args.force,
    };
    Ok(match publisher.publish(&fix).await? {
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

fn report_one(ctx: &Ctx, r: &RunResult) {
    if ctx.json {
        return;
    }
    let what = match r.outcome {
        Outcome::PullRequest => ctx.term.green("pull request"),
        Outcome::Pushed => ctx.term.green("pushed"),
        Outcome::NeedsApproval => ctx.term.yellow("needs approval"),
        Outcome::NotHealed => ctx.term.red("not healed"),
        Outcome::NothingFound => ctx.term.yellow("nothing to fix"),
        Outcome::Flaky => ctx.term.yellow("flaky, not patched"),
        Outcome::Skipped => ctx.term.yellow("skipped"),
        Outcome::Error => ctx.term.red("error"),
    };
    let extra = [r.pr_url.clone(), r.note.clone()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" · ");
    let _ = print_stdout(&format!(
        "run {} attempt {}: {what}{}{extra}\n",
        r.run_id,
        r.attempt,
        if extra.is_empty() { "" } else { " · " }
    ));
}

#[derive(Serialize)]
struct Report<'a> {
    schema: u32,
    runs: &'a [RunResult],
}

/// Prints `--json`, writes the step summary and outputs, and picks the exit code.
fn finish(ctx: &Ctx, all: &[RunResult]) -> Result<i32, Error> {
    if ctx.json {
        print_stdout(&crate::report::json::to_string(&Report {
            schema: 1,
            runs: all,
        }))?;
    } else if all.is_empty() {
        print_stdout("no failed run to heal\n")?;
    }
    write_actions_files(ctx, all);
    let has = |o: Outcome| all.iter().any(|r| r.outcome == o);
    Ok(if has(Outcome::Error) {
        exit::ERROR
    } else if has(Outcome::NeedsApproval) {
        exit::NEEDS_APPROVAL
    } else if has(Outcome::NotHealed) {
        exit::NOT_HEALED
    } else if all
        .iter()
        .all(|r| matches!(r.outcome, Outcome::NothingFound | Outcome::Flaky))
    {
        exit::NOTHING_FOUND
    } else {
        exit::SUCCESS
    })
}

fn write_actions_files(ctx: &Ctx, all: &[RunResult]) {
    use std::io::Write;
    let append = |path: &Path, text: &str| {
        let _ = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .and_then(|mut f| f.write_all(text.as_bytes()));
    };
    if let Some(path) = &ctx.config.env.github_step_summary {
        let mut md = String::from(
            "## selfheal\n\n| run | outcome | pull request | note |\n|---|---|---|---|\n",
        );
        for r in all {
            md.push_str(&format!(
                "| {} | {:?} | {} | {} |\n",
                r.run_id,
                r.outcome,
                r.pr_url.as_deref().unwrap_or(""),
                r.note.as_deref().unwrap_or("").replace('|', "\\|")
            ));
        }
        append(path, &md);
    }
    if let Some(path) = &ctx.config.env.github_output {
        let pr = all
            .iter()
            .find_map(|r| r.pr_url.clone())
            .unwrap_or_default();
        let outcome = all
            .first()
            .map(|r| format!("{:?}", r.outcome).to_lowercase())
            .unwrap_or_else(|| "nothing_found".into());
        append(path, &format!("pr-url={pr}\noutcome={outcome}\n"));
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
