//! `selfheal approve`: the review queue of patches made where nobody could answer y/N.
//! `approve` lists, `approve show ID` shows, `approve ID` re-validates against the
//! current tree and applies (a failed run's patch is published as `run --yes` would have:
//! commit, push, pull request), `approve --reject ID --reason …` records a refusal (also in
//! the failure memory). A lock per entry keeps two processes from applying one patch twice.

use std::path::PathBuf;

use serde::Serialize;

use crate::approval::{self, Decision, Pending, PendingMeta};
use crate::error::{Error, exit};
use crate::publish::approved::RunFix;
use crate::store::{HandledRun, Outcome, Store};

use super::args::ApproveArgs;
use super::{Ctx, print_stdout};

pub fn run(ctx: &Ctx, args: &ApproveArgs) -> Result<i32, Error> {
    let state = ctx.config.state_dir(&ctx.repo_root);
    if args.web {
        return web(ctx, &state, args.port.unwrap_or(ctx.config.approve.port));
    }
    if let Some(id) = &args.reject {
        return reject(ctx, &state, id, args.reason.as_deref().unwrap_or(""));
    }
    match args.target.as_slice() {
        [] => list(ctx, &state),
        [show, id] if show == "show" => show_one(ctx, &state, id),
        [id] => apply(ctx, &state, id, args.yes),
        _ => Err(
            Error::usage("approve takes no argument, `show ID`, or an ID")
                .with_hint("run `selfheal approve` to list the queue"),
        ),
    }
}

#[derive(Serialize)]
struct Listing<'a> {
    schema: u32,
    pending: &'a [PendingMeta],
}

fn list(ctx: &Ctx, state: &std::path::Path) -> Result<i32, Error> {
    let pending = approval::list_pending(state)?;
    if ctx.json {
        print_stdout(&crate::report::json::to_string(&Listing {
            schema: 1,
            pending: &pending,
        }))?;
    } else if pending.is_empty() {
        print_stdout("no patches are waiting for approval\n")?;
    } else {
        let mut out = format!(
            "{:<28} {:>4}  {:<20} {}\n",
            "ID", "RISK", "CREATED", "FAILURE"
        );
        for m in &pending {
            out.push_str(&format!(
                "{:<28} {:>4}  {:<20} {} ({})\n",
                m.id, m.risk, m.created_at, m.failure_summary, m.repo
            ));
        }
        print_stdout(&out)?;
    }
    Ok(if pending.is_empty() {
        exit::NOTHING_FOUND
    } else {
        exit::SUCCESS
    })
}

fn load(state: &std::path::Path, id: &str) -> Result<Pending, Error> {
    Ok(approval::load_pending(state, id)?)
}

fn show_one(ctx: &Ctx, state: &std::path::Path, id: &str) -> Result<i32, Error> {
    let p = load(state, id)?;
    if ctx.json {
        #[derive(Serialize)]
        struct Show<'a> {
            schema: u32,
            meta: &'a PendingMeta,
            diagnosis: &'a str,
            diff: &'a str,
        }
        print_stdout(&crate::report::json::to_string(&Show {
            schema: 1,
            meta: &p.meta,
            diagnosis: &p.diagnosis,
            diff: &p.diff,
        }))?;
        return Ok(exit::SUCCESS);
    }
    let diff = crate::patch::render::render_diff(&p.patch, ctx.term.color);
    print_stdout(&format!(
        "{} {} (risk {}/100)\nrepo: {}\nfailure: {}\n\n{}\n\n{diff}\n",
        ctx.term.bold("pending"),
        p.meta.id,
        p.meta.risk,
        p.meta.repo,
        p.meta.failure_summary,
        p.diagnosis.trim()
    ))?;
    Ok(exit::SUCCESS)
}

/// Drops the patch and remembers why: in the queue's history, in the failure memory (so
/// `run` does not propose a fix for the same failure again), and on the run's record.
fn reject(ctx: &Ctx, state: &std::path::Path, id: &str, reason: &str) -> Result<i32, Error> {
    let _lock = approval::lock_pending(state, id)?;
    let p = load(state, id)?;
    reject_locked(ctx, state, &p, reason)
}

/// [`reject`] for a caller that holds the entry's lock already (the y/N prompt of `apply`).
fn reject_locked(
    ctx: &Ctx,
    state: &std::path::Path,
    p: &Pending,
    reason: &str,
) -> Result<i32, Error> {
    let id = p.meta.id.as_str();
    approval::mark_rejected(state, id, reason)?;
    let why = if reason.is_empty() {
        "rejected"
    } else {
        reason
    };
    remember_decision(state, p, false, why);
    if let Some(run_fix) = run_fix_of(p)? {
        note_run(state, &run_fix, |h| {
            h.outcome = Outcome::Rejected;
            h.note = Some(format!("rejected: {why}"));
        });
    }
    if !ctx.json {
        print_stdout(&format!(
            "rejected {id}{}\n",
            if reason.is_empty() {
                String::new()
            } else {
                format!(": {reason}")
            }
        ))?;
    }
    Ok(exit::SUCCESS)
}

/// Lock, reload, recover an interrupted apply, check the tree, ask, prove on a staged
/// copy, publish (a failed run's patch: what `run --yes` would have done), apply, record.
fn apply(ctx: &Ctx, state: &std::path::Path, id: &str, yes: bool) -> Result<i32, Error> {
    let _lock = approval::lock_pending(state, id)?;
    let p = load(state, id)?;
    let run_fix = run_fix_of(&p)?;
    let repo = PathBuf::from(&p.meta.repo);
    if let Some(rf) = &run_fix {
        restore_worktree(ctx, &repo, rf)?;
    }
    // Files a killed apply left half-written are rolled back before anything reads them.
    super::wiring::recover(ctx, &repo, &ctx.config.state_dir(&repo))?;
    let moved = p.tree_moved(&repo);
    if !moved.is_empty() {
        return Err(Error::runtime(format!(
            "{} changed since the patch was made: {}",
            repo.display(),
            moved.join(", ")
        ))
        .with_hint(format!(
            "reject it with `selfheal approve --reject {id}` and run the repair again"
        )));
    }
    if !yes {
        let diff = crate::patch::render::render_diff(&p.patch, ctx.term.color);
        match approval::ask(&p.diagnosis, &diff, ctx.term.interactive()) {
            Decision::Approve => {}
            Decision::Reject => return reject_locked(ctx, state, &p, "rejected at the prompt"),
            Decision::Defer => {
                return Err(
                    Error::new(exit::NEEDS_APPROVAL, format!("{id} needs a decision"))
                        .with_hint("answer on a terminal, or pass --yes"),
                );
            }
        }
    }
    let outcome = revalidate(ctx, &repo, &p)?;
    if !outcome.passed {
        return Err(Error::new(
            exit::NOT_HEALED,
            format!(
                "the patch no longer passes the tests: `{}` {}\n{}",
                outcome.command,
                outcome.summary(),
                last_lines(&outcome.tail, 15)
            ),
        )
        .with_hint(format!(
            "reject it with `selfheal approve --reject {id}` and run the repair again"
        )));
    }
    // Publish first: when the push or the PR fails, the entry stays pending for a retry.
    let published = match &run_fix {
        Some(rf) => Some(publish_run_fix(ctx, rf, &p)?),
        None => None,
    };
    let applied = crate::patch::apply::apply_patch(&repo, &ctx.config.state_dir(&repo), &p.patch)?;
    applied.commit()?;
    let pr_note = published
        .as_ref()
        .and_then(|d| d.pr_url.clone().or(d.note.clone()))
        .unwrap_or_default();
    approval::mark_applied(state, id, &pr_note)?;
    remember_decision(state, &p, true, "");
    if let (Some(rf), Some(done)) = (&run_fix, &published) {
        note_run(state, rf, |h| {
            h.outcome = done.outcome;
            h.pr_url = done.pr_url.clone();
            h.pr_number = done.pr_number;
            h.note = done.note.clone();
            h.pending_id = None;
        });
    }
    if ctx.json {
        return Ok(exit::SUCCESS);
    }
    let mut text = applied_text(id, &repo, &p, &outcome);
    if let Some(done) = &published {
        text.push_str(&format!("\n{}", published_text(ctx, done)));
    }
    print_stdout(&format!("{text}\n"))?;
    Ok(exit::SUCCESS)
}

/// The failed run a pending patch belongs to, when `run` made it.
fn run_fix_of(p: &Pending) -> Result<Option<RunFix>, Error> {
    p.origin
        .as_ref()
        .map(RunFix::from_json)
        .transpose()
        .map_err(|why| {
            Error::runtime(format!("cannot read where {} came from: {why}", p.meta.id))
                .with_hint("upgrade selfheal, or reject the patch and run the repair again")
        })
}

/// A run's worktree is a throwaway: written again from the run's commit if it is gone.
fn restore_worktree(ctx: &Ctx, dir: &std::path::Path, rf: &RunFix) -> Result<(), Error> {
    if dir.is_dir() {
        return Ok(());
    }
    crate::publish::checkout::export_commit(&ctx.repo_root, &rf.base_sha, dir).map_err(Error::from)
}

/// Commits, pushes and opens (or updates) the pull request with the restraint rules of
/// `run`: dedupe by signature, closed-unmerged memory, the open-PR cap, human pushes.
fn publish_run_fix(
    ctx: &Ctx,
    rf: &RunFix,
    p: &Pending,
) -> Result<super::wiring::PublishedSummary, Error> {
    crate::github::init_tls();
    let repo: crate::github::RepoSlug = rf.repo.parse().map_err(Error::from)?;
    let gh = crate::github::Client::from_config(&ctx.config.github, Some(&rf.api_url))?;
    let rt = super::runtime()?;
    let publisher = rt.block_on(super::wiring::publisher(ctx, &gh, &repo, rf.draft))?;
    let changes = p
        .patch
        .files
        .iter()
        .map(|f| crate::publish::FileChange {
            path: f.path.clone(),
            contents: f.new.clone().map(String::into_bytes),
        })
        .collect();
    let done = rt.block_on(publisher.publish(&rf.fix(changes)))?;
    Ok(super::wiring::PublishedSummary::from(done))
}

fn published_text(ctx: &Ctx, done: &super::wiring::PublishedSummary) -> String {
    let mut lines: Vec<String> = done.warnings.clone();
    lines.push(match (&done.pr_url, done.outcome) {
        (Some(url), _) => format!("{} {url}", ctx.term.green("pull request")),
        (None, Outcome::Pushed) => done.note.clone().unwrap_or_default(),
        (None, _) => format!(
            "{} {}",
            ctx.term.yellow("not published:"),
            done.note.as_deref().unwrap_or("")
        ),
    });
    lines.join("\n")
}

/// The person's decision in the failure memory: an approved patch becomes a validated fix
/// to reuse; a rejected one stops `run` from proposing one for that failure again.
fn remember_decision(state: &std::path::Path, p: &Pending, approved: bool, reason: &str) {
    if p.meta.signature.is_empty() {
        return;
    }
    let done = crate::memory::Memory::open(state)
        .and_then(|m| m.resolve_pending(&p.meta.signature, approved, reason));
    if let Err(e) = done {
        eprintln!("warning: {e}");
    }
}

/// Updates the handled-run record of the run the patch repairs.
fn note_run(state: &std::path::Path, rf: &RunFix, change: impl FnOnce(&mut HandledRun)) {
    let done = Store::open(state).and_then(|store| {
        let mut h = store
            .record_of(rf.run_id, rf.attempt)?
            .unwrap_or(HandledRun {
                run_id: rf.run_id,
                attempt: rf.attempt,
                outcome: Outcome::NeedsApproval,
                signature: Some(rf.signature.clone()),
                pr_number: None,
                pr_url: None,
                note: None,
                pending_id: None,
                errors: 0,
                retry_at: None,
                rerun: false,
                at: 0,
            });
        change(&mut h);
        h.at = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        store.mark_handled(h)
    });
    if let Err(e) = done {
        eprintln!("warning: could not update run {}: {e}", rf.run_id);
    }
}

fn applied_text(
    id: &str,
    repo: &std::path::Path,
    p: &Pending,
    outcome: &crate::validate::Outcome,
) -> String {
    format!(
        "validated ({}) and applied {id} to {} ({})",
        outcome.summary(),
        repo.display(),
        p.patch.paths().join(", ")
    )
}

/// The web page's buttons: the same locked, re-validating apply, without a prompt.
struct WebActions {
    ctx: Ctx,
    state: PathBuf,
}

impl approval::web::Actions for WebActions {
    fn approve(&self, id: &str) -> Result<String, String> {
        let ctx = Ctx {
            json: true,
            ..self.ctx.clone()
        };
        apply(&ctx, &self.state, id, true).map_err(|e| {
            e.message.clone() + &e.hint.map(|h| format!(" ({h})")).unwrap_or_default()
        })?;
        let history = approval::read_history(&self.state).unwrap_or_default();
        let done = history
            .iter()
            .rev()
            .find(|h| h.id == id && h.outcome == "applied");
        Ok(match done {
            Some(h) if h.reason.starts_with("http") => {
                format!("{id}: validated and applied; pull request {}", h.reason)
            }
            Some(h) if !h.reason.is_empty() => {
                format!("{id}: validated and applied; {}", h.reason)
            }
            Some(_) => format!("{id}: validated and applied"),
            None => format!("{id}: done"),
        })
    }

    fn reject(&self, id: &str, reason: &str) -> Result<String, String> {
        let ctx = Ctx {
            json: true,
            ..self.ctx.clone()
        };
        reject(&ctx, &self.state, id, reason).map_err(|e| e.message)?;
        Ok(format!(
            "{id}: rejected{}",
            if reason.is_empty() {
                String::new()
            } else {
                format!(" ({reason})")
            }
        ))
    }
}

/// Serves the review page until Ctrl-C.
fn web(ctx: &Ctx, state: &std::path::Path, port: u16) -> Result<i32, Error> {
    let rt = super::runtime()?;
    let actions = std::sync::Arc::new(WebActions {
        ctx: ctx.clone(),
        state: state.to_path_buf(),
    });
    rt.block_on(async {
        let server = approval::web::bind(port, state.to_path_buf(), actions)
            .await
            .map_err(|e| {
                Error::runtime(format!("cannot listen on 127.0.0.1:{port}"))
                    .with_source(e)
                    .with_hint("pick another --port")
            })?;
        print_stdout(&format!(
            "review pending patches at {}\n(Ctrl-C to stop)\n",
            server.url
        ))?;
        server
            .serve(async { crate::interrupt::interrupted().await })
            .await
            .map_err(|e| Error::runtime("the review page stopped").with_source(e))?;
        Ok(exit::SUCCESS)
    })
}

/// The tests, again, on a work copy of the current tree with the patch over it.
fn revalidate(
    ctx: &Ctx,
    repo: &std::path::Path,
    p: &Pending,
) -> Result<crate::validate::Outcome, Error> {
    let rt = super::runtime()?;
    let driver = super::wiring::driver(ctx, &ctx.repo_root);
    let outcome = rt.block_on(driver.prove(repo, &p.patch, &p.meta.id))?;
    if let Some(w) = driver.take_sandbox_warning() {
        eprintln!("{} {w}", ctx.term.yellow("warning:"));
    }
    Ok(outcome)
}

/// The last `n` lines of the tests' output, masked like any log text.
fn last_lines(tail: &str, n: usize) -> String {
    let lines: Vec<&str> = tail.lines().collect();
    let kept = lines[lines.len().saturating_sub(n)..].join("\n");
    crate::logs::secrets::mask_text(&kept).0
}
