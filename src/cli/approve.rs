//! `selfheal approve`: the review queue of patches made where nobody could answer y/N.
//! `approve` lists, `approve show ID` shows, `approve ID` re-validates against the
//! current tree and applies, `approve --reject ID --reason …` records a refusal. A lock
//! per entry keeps two processes from applying the same patch twice.

use std::path::PathBuf;

use serde::Serialize;

use crate::approval::{self, Decision, Pending, PendingMeta};
use crate::error::{Error, exit};

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

fn reject(ctx: &Ctx, state: &std::path::Path, id: &str, reason: &str) -> Result<i32, Error> {
    let _lock = approval::lock_pending(state, id)?;
    approval::mark_rejected(state, id, reason)?;
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

/// Lock, reload, check the tree, ask, prove on a work copy, apply, record.
fn apply(ctx: &Ctx, state: &std::path::Path, id: &str, yes: bool) -> Result<i32, Error> {
    let _lock = approval::lock_pending(state, id)?;
    let p = load(state, id)?;
    let repo = PathBuf::from(&p.meta.repo);
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
            Decision::Reject => return reject(ctx, state, id, "rejected at the prompt"),
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
                "the patch no longer passes the tests: {}",
                outcome.summary()
            ),
        )
        .with_hint(format!(
            "reject it with `selfheal approve --reject {id}` and run the repair again"
        )));
    }
    let applied = crate::patch::apply::apply_patch(&repo, &ctx.config.state_dir(&repo), &p.patch)?;
    applied.commit()?;
    approval::mark_applied(state, id)?;
    if ctx.json {
        return Ok(exit::SUCCESS);
    }
    print_stdout(&format!("{}\n", applied_text(id, &repo, &p, &outcome)))?;
    Ok(exit::SUCCESS)
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
        let text =
            std::fs::read_to_string(self.state.join("pending/history.jsonl")).unwrap_or_default();
        let applied = text
            .lines()
            .rev()
            .any(|l| l.contains(id) && l.contains("\"applied\""));
        Ok(if applied {
            format!("{id}: validated and applied")
        } else {
            format!("{id}: done")
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
    Ok(rt.block_on(driver.prove(repo, &p.patch, &p.meta.id))?)
}
