//! Which failed runs `selfheal run` heals: `--run-id`, or the listing with its filters
//! (`--branch`, `--event`, `--since`, `--workflow`, `--limit`; with `--watch` a conditional
//! request), less excluded workflows and branches and runs already handled. What decides
//! "already handled" is kept here too: each healed run is remembered in the store with its
//! outcome, a pending approval, or its errors in a row and when to try it again.

use crate::cli::Ctx;
use crate::cli::args::RunArgs;
use crate::error::Error;
use crate::github::{Client, Polled, RepoSlug, Run, RunFilter, exclusion};
use crate::store::{HandledRun, Outcome, Store};

use super::report::{RunResult, note};

/// The last listing, kept for `--watch`: its ETag (an unchanged page costs nothing), and
/// its runs, looked at again when the page is unchanged (errored runs come due).
#[derive(Default)]
pub(super) struct Listing {
    etag: Option<String>,
    runs: Vec<Run>,
}

/// Failed runs to look at: `--run-id`, or the listing with the filters; excluded and
/// already handled runs are reported and skipped.
pub(super) async fn candidate_runs(
    ctx: &Ctx,
    args: &RunArgs,
    gh: &Client,
    repo: &RepoSlug,
    store: &Store,
    listing: &mut Listing,
) -> Result<Vec<Run>, Error> {
    let runs = match args.run_id {
        Some(id) => vec![gh.get_run(repo, id).await?],
        None => list_runs(args, gh, repo, listing).await?,
    };
    let cfg = &ctx.config.github;
    let mut out = Vec::new();
    for run in runs {
        if let Some(why) = exclusion(&run, &cfg.excluded_workflows, &cfg.excluded_branch_prefixes) {
            note(ctx, &format!("run {}: skipped: {why}", run.id));
            continue;
        }
        if is_due(ctx, args, store, &run)? {
            out.push(run);
        }
    }
    Ok(out)
}

/// The listing with the filters. With --watch it is conditional: an unchanged page (304)
/// is free, and gives the runs of the last changed one.
async fn list_runs(
    args: &RunArgs,
    gh: &Client,
    repo: &RepoSlug,
    listing: &mut Listing,
) -> Result<Vec<Run>, Error> {
    let filter = RunFilter {
        branch: args.branch.clone(),
        event: args.event.clone(),
        created_since: args.since.as_deref().map(since_date).transpose()?,
        workflow: args.workflow.clone(),
        per_page: args.limit.clamp(1, 100) as u8,
        limit: args.limit as usize,
        ..RunFilter::default()
    };
    if !args.watch {
        return Ok(gh.list_runs(repo, &filter).await?);
    }
    Ok(
        match gh
            .list_runs_if_changed(repo, &filter, listing.etag.as_deref())
            .await?
        {
            Polled::Unchanged => listing.runs.clone(),
            Polled::Changed { value, etag: tag } => {
                listing.etag = tag;
                listing.runs = value.clone();
                value
            }
        },
    )
}

/// Whether `run` is healed now: never handled (or `--force`), its error retry is due, or
/// the approval it waited for was removed by hand. Otherwise a note says why not.
fn is_due(ctx: &Ctx, args: &RunArgs, store: &Store, run: &Run) -> Result<bool, Error> {
    let earlier = match args.force {
        true => None,
        false => store.record_of(run.id, run.run_attempt)?,
    };
    let head = format!("run {} attempt {}", run.id, run.run_attempt);
    let cfg = &ctx.config.github;
    Ok(match earlier {
        None => true,
        Some(h) if h.retry_due(now_secs()) => {
            note(
                ctx,
                &format!(
                    "{head}: trying again after error {} of {}",
                    h.errors, cfg.max_error_retries
                ),
            );
            true
        }
        // Waiting for its next try; --watch says nothing until then.
        Some(h) if !h.settled() => {
            if !args.watch {
                note(
                    ctx,
                    &format!("{head}: ended in an error; tried again after a wait (--force now)"),
                );
            }
            false
        }
        Some(h) if h.outcome == Outcome::NeedsApproval => match &h.pending_id {
            Some(id) if crate::approval::is_pending(store.root(), id) => {
                note(
                    ctx,
                    &format!(
                        "{head}: awaiting approval: `selfheal approve show {id}`, then `selfheal approve {id}` (or --reject)"
                    ),
                );
                false
            }
            // The pending entry was removed by hand: nothing waits, so redo it.
            _ => true,
        },
        Some(_) => {
            note(ctx, &format!("{head}: already handled (--force to redo)"));
            false
        }
    })
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
    Ok(crate::date::Utc::from_epoch_secs(now_secs().saturating_sub(secs)).date())
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Remembers `run` as handled (when `writes`), so the next `run` skips it or tries it
/// again when due. An error outcome counts one more error in a row and says in the note
/// when the next try is.
pub(super) fn remember(ctx: &Ctx, store: &Store, run: &Run, result: &mut RunResult, writes: bool) {
    let (errors, retry_at) = error_retry(ctx, store, run, result);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::exit;

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
