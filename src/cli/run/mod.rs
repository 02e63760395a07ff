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
//!
//! Here: the command's entry and its loop (once, or every poll with `--watch`). Each pass
//! [`choose`]s the runs, [`heal`]s each one (which hands the verdict to [`publish`]), and
//! [`report`] says what happened to each and, at the end, to all.

mod choose;
mod heal;
mod publish;
mod report;

use std::time::Duration;

use crate::error::{Error, exit};
use crate::github::{Client, RepoHints, RepoSlug, Run, resolve_repo};
use crate::store::{Outcome, Store};

use super::args::RunArgs;
use super::{Ctx, spend, wiring};
pub use report::{Baseline, RunResult};
use report::{note, warn};

/// One run being healed, and what every step of healing it works with.
struct OneRun<'a> {
    ctx: &'a Ctx,
    args: &'a RunArgs,
    gh: &'a Client,
    repo: &'a RepoSlug,
    store: &'a Store,
    run: &'a Run,
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
    let mut listing = choose::Listing::default();
    let every = Duration::from_secs(cfg.github.poll_interval_secs.max(1));
    loop {
        match choose::candidate_runs(ctx, args, &gh, &repo, &store, &mut listing).await {
            Ok(runs) => {
                for run in runs {
                    let one = OneRun {
                        ctx,
                        args,
                        gh: &gh,
                        repo: &repo,
                        store: &store,
                        run: &run,
                    };
                    let result = heal_unless_capped(&one).await;
                    report::report_one(ctx, args, &result);
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
    report::finish(ctx, args, &all)
}

/// The run healed, unless the daily cap stops it: then it is reported, not remembered (a
/// later day repairs it).
async fn heal_unless_capped(one: &OneRun<'_>) -> RunResult {
    let repair = &one.args.repair;
    let spends = repair.replay.is_none() && !repair.print_prompt;
    match spend::stop_reason(&one.ctx.config.llm, one.store, spends) {
        Some(why) => RunResult {
            note: Some(why),
            ..RunResult::new(one.run, Outcome::Skipped)
        },
        None => heal::heal_one(one).await,
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
