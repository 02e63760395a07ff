//! What a repaired run publishes: for a validated fix, a pull request (or a push) with the
//! report people read; in CI a patch nobody may approve on the runner becomes a draft
//! labelled for review, or nothing when vetoed; on a laptop it waits for `selfheal
//! approve`, tied to the run so approving it opens the same pull request. And selfheal's
//! one comment on the run's own pull request, whatever the outcome.

use std::path::Path;

use crate::cli::wiring;
use crate::error::{Error, Hint};
use crate::github::Run;
use crate::logs::Failure;
use crate::logs::triage::Triage;
use crate::pipeline::{RunRecord, Verdict};
use crate::publish::{self, FileChange, Fix, FixReport, Published, Publisher};
use crate::report::human;
use crate::risk::Risk;
use crate::store::Outcome;

use super::OneRun;
use super::report::{RunResult, note};

/// What the repair's verdict leads to: a pull request for a fix that was applied, review
/// or veto (CI) or approval (elsewhere) for one that waits, else no pull request.
pub(super) async fn publish_verdict(
    one: &OneRun<'_>,
    worktree: &Path,
    record: &RunRecord,
    t: &Triage,
    result: &mut RunResult,
) -> Result<Outcome, Error> {
    let (ctx, args) = (one.ctx, one.args);
    Ok(match record.verdict {
        Verdict::Healed if args.no_pr || args.repair.dry_run => Outcome::Skipped,
        Verdict::Healed => {
            let changes = applied_changes(worktree, record);
            let fix = fix_of(one, record, t, changes, None);
            publish_fix(one, &fix, result).await?
        }
        Verdict::Pending if ctx.config.env.ci && !args.no_pr => {
            review_or_veto(one, record, t, result).await?
        }
        Verdict::Pending => {
            keep_run_fix(one, record, t, result);
            Outcome::NeedsApproval
        }
        Verdict::NoCodeChange => Outcome::NothingFound,
        Verdict::DryRun | Verdict::PromptPrinted => Outcome::Skipped,
        Verdict::Rejected | Verdict::NotHealed => Outcome::NotHealed,
    })
}

/// Ties the pending patch to this run, so approving it publishes what `run --yes` would
/// have; says how to approve it. Without a PR to open (`--no-pr`), nothing is tied.
fn keep_run_fix(one: &OneRun<'_>, record: &RunRecord, t: &Triage, result: &mut RunResult) {
    let Some(id) = &record.pending_id else { return };
    result.note = Some(format!(
        "awaiting approval: `selfheal approve show {id}`, then `selfheal approve {id}` opens the PR"
    ));
    if one.args.no_pr {
        return;
    }
    let run = one.run;
    let origin = publish::approved::RunFix {
        version: publish::approved::RUN_FIX_VERSION,
        repo: one.repo.to_string(),
        api_url: one.gh.base_url().to_string(),
        run_id: run.id,
        attempt: run.run_attempt,
        base_branch: run.head_branch.clone().unwrap_or_default(),
        base_sha: run.head_sha.clone(),
        signature: primary_signature(t),
        report: fix_report(one, record, t),
        draft: one.ctx.config.publish.draft || one.args.draft,
        force: one.args.force,
    };
    if let Err(e) = crate::approval::set_origin(one.store.root(), id, run.id, &origin.to_json()) {
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
async fn review_or_veto(
    one: &OneRun<'_>,
    record: &RunRecord,
    t: &Triage,
    result: &mut RunResult,
) -> Result<Outcome, Error> {
    let risk = last_risk(record).cloned().unwrap_or_default();
    if blocked(&risk) {
        result.note = Some(veto_text(&risk));
        return Ok(Outcome::Vetoed);
    }
    let fix = fix_of(one, record, t, pending_changes(record), Some(&risk));
    match publish_fix(one, &fix, result).await? {
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
    one: &OneRun<'_>,
    record: &RunRecord,
    t: &Triage,
    changes: Vec<FileChange>,
    review: Option<&Risk>,
) -> Fix {
    let mut report = fix_report(one, record, t);
    if let Some(risk) = review {
        report.review = review_text(risk, one.ctx.config.policy.max_auto_risk);
    }
    let run = one.run;
    Fix {
        run_id: run.id,
        attempt: run.run_attempt,
        base_branch: run.head_branch.clone().unwrap_or_default(),
        base_sha: run.head_sha.clone(),
        signature: primary_signature(t),
        changes,
        report,
        force: one.args.force,
    }
}

async fn publish_fix(
    one: &OneRun<'_>,
    fix: &Fix,
    result: &mut RunResult,
) -> Result<Outcome, Error> {
    let (ctx, gh, repo) = (one.ctx, one.gh, one.repo);
    let mut config = ctx.config.publish.clone();
    config.draft |= one.args.draft;
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

fn fix_report(one: &OneRun<'_>, record: &RunRecord, t: &Triage) -> FixReport {
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
        model: one.ctx.config.llm.model.clone(),
        run_url: one.run.html_url.clone(),
        review: String::new(),
    }
}

/// Posts (or edits) selfheal's one comment on the run's pull request. Trouble is a note:
/// the run's outcome stands without it.
pub(super) async fn comment_on_pull_request(one: &OneRun<'_>, result: &mut RunResult) {
    let (ctx, gh, repo, run) = (one.ctx, one.gh, one.repo, one.run);
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
