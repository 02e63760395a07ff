//! What the repairing subcommands (`offline`, `run`) share: the `RepairArgs` flags as
//! config overrides, the pipeline's [`Mode`] and [`LlmSource`] from them, and how a
//! repair is shown on this terminal (events through `report::events`, the y/N question,
//! the result), and what publishing did as `run` and `approve` report it. Subcommands
//! never call each other; they call this and the pipeline.

use crate::approval::prompt;
use crate::error::Error;
use crate::pipeline::{Driver, Event, LlmSource, Mode, RepairJob, RunRecord};
use crate::report::events::{self, Output};
use crate::report::progress;

use super::args::{RepairArgs, SandboxKind};
use super::{Ctx, print_stdout};

/// Flag overrides shared by every subcommand that repairs.
pub fn repair_flags(repair: &RepairArgs) -> Vec<(String, toml::Value)> {
    let mut flags = Vec::new();
    if let Some(n) = repair.max_attempts {
        flags.push((
            "validate.max_attempts".into(),
            toml::Value::Integer(n.into()),
        ));
    }
    if let Some(m) = &repair.model {
        flags.push(("llm.model".into(), m.clone().into()));
    }
    if let Some(s) = repair.sandbox {
        let v = match s {
            SandboxKind::Docker => "docker",
            SandboxKind::Local => "local",
        };
        flags.push(("validate.sandbox".into(), v.into()));
    }
    flags
}

/// How the user wants the repair to go, from the flags and the terminal.
pub fn mode(ctx: &Ctx, args: &RepairArgs) -> Mode {
    Mode {
        yes: args.yes,
        dry_run: args.dry_run,
        print_prompt: args.print_prompt,
        interactive: ctx.term.interactive(),
    }
}

/// `--record` / `--replay`.
pub fn llm_source(args: &RepairArgs) -> LlmSource {
    LlmSource {
        replay: args.replay.clone(),
        record: args.record.clone(),
    }
}

/// The repair driver for `ctx`'s configuration, its sandbox image builds shown on the
/// progress display (and as `tracing` info lines for `-v`), and a streamed reply's tokens
/// so far beside the wait for the model.
pub fn driver<'a>(ctx: &'a Ctx, repo_root: &std::path::Path) -> Driver<'a> {
    let shown = ctx.progress.clone();
    let tokens = ctx.progress.clone();
    Driver::new(&ctx.config, repo_root)
        .with_sandbox_progress(std::sync::Arc::new(move |line: &str| {
            tracing::info!("{line}");
            shown.build_line(line);
        }))
        .with_model_progress(crate::llm::OnTokens(std::sync::Arc::new(move |n| {
            tokens.model_tokens(n)
        })))
}

/// Runs one repair through `driver`, showing its progress on this terminal.
pub async fn repair(
    ctx: &Ctx,
    driver: &Driver<'_>,
    job: &RepairJob<'_>,
) -> Result<RunRecord, Error> {
    let term = ctx.term;
    let quiet = ctx.json;
    let shown = &ctx.progress;
    let mut ask = |p: &crate::pipeline::Proposal| {
        shown.clear();
        let (diagnosis, diff) = events::question(p, &term);
        prompt::ask(&diagnosis, &diff, term.interactive())
    };
    let mut on_event = |e: &Event| {
        show(events::render(e, &term, quiet));
        shown.event(e);
    };
    let record = driver.repair(job, &mut ask, &mut on_event).await;
    shown.clear();
    Ok(record?)
}

/// Writes a rendered event where it belongs (around any progress bar on screen).
fn show(out: Option<Output>) {
    match out {
        Some(Output::Stderr(line)) => progress::suspend(|| eprintln!("{line}")),
        Some(Output::Stdout(text)) => {
            let _ = print_stdout(&text);
        }
        None => {}
    }
}

/// The result of a repair on stdout: the run record with `--json`, else a summary.
pub fn print_result(ctx: &Ctx, record: &RunRecord) -> Result<(), Error> {
    if ctx.json {
        return print_stdout(&crate::report::json::to_string(record));
    }
    match events::result(record, &ctx.term) {
        Some(text) => print_stdout(&text),
        None => Ok(()),
    }
}

/// Restores files a killed run left half-written, before anything else touches `repo`.
pub fn recover(
    ctx: &Ctx,
    repo: &std::path::Path,
    state_dir: &std::path::Path,
) -> Result<(), Error> {
    let restored = crate::pipeline::recover(repo, state_dir)?;
    if !restored.is_empty() && !ctx.json {
        eprintln!(
            "{}: restored {} after an interrupted run",
            ctx.term.yellow("note"),
            restored.join(", ")
        );
    }
    Ok(())
}

/// What publishing did, as `run` reports it: the outcome, the PR's URL, a note.
#[derive(Clone, Debug, PartialEq)]
pub struct PublishedSummary {
    pub outcome: crate::store::Outcome,
    pub pr_url: Option<String>,
    pub pr_number: Option<u64>,
    pub note: Option<String>,
    pub warnings: Vec<String>,
}

impl From<crate::publish::Published> for PublishedSummary {
    fn from(p: crate::publish::Published) -> Self {
        use crate::store::Outcome;
        let summary = |outcome, pr: Option<&crate::github::PullRequest>, note| PublishedSummary {
            outcome,
            pr_url: pr.map(|p| p.html_url.clone()),
            pr_number: pr.map(|p| p.number),
            note,
            warnings: Vec::new(),
        };
        match p {
            crate::publish::Published::Opened { pr, warnings, .. } => PublishedSummary {
                warnings,
                ..summary(Outcome::PullRequest, Some(&pr), None)
            },
            crate::publish::Published::Updated { pr, branch } => summary(
                Outcome::PullRequest,
                Some(&pr),
                Some(format!("updated the open PR's branch {branch}")),
            ),
            crate::publish::Published::Pushed { branch } => {
                summary(Outcome::Pushed, None, Some(format!("pushed {branch}")))
            }
            crate::publish::Published::Skipped(why) => {
                summary(Outcome::Skipped, None, Some(why.to_string()))
            }
        }
    }
}

/// The remote to push to and fetch from: HTTPS on the API's host (or `[github] git_url`),
/// whatever form `origin` has; a local `origin` as it is.
pub fn remote_url(ctx: &Ctx, gh: &crate::github::Client, repo: &crate::github::RepoSlug) -> String {
    crate::publish::git_remote_url(
        &ctx.config.github.git_url,
        gh.base_url(),
        repo,
        &ctx.repo_root,
    )
}

/// The publisher `run` (and `approve`, for a run's pending patch) uses; the token is taken
/// now (an App's installation token is fresh for the push).
pub async fn publisher<'a>(
    ctx: &Ctx,
    gh: &'a crate::github::Client,
    repo: &crate::github::RepoSlug,
    draft: bool,
) -> Result<crate::publish::Publisher<'a>, Error> {
    let mut config = ctx.config.publish.clone();
    config.draft |= draft;
    Ok(crate::publish::Publisher {
        github: gh,
        repo: repo.clone(),
        repo_dir: ctx.repo_root.clone(),
        remote_url: remote_url(ctx, gh, repo),
        token: gh.token().await?,
        config,
    })
}
