//! selfheal's one comment on the pull request a failed run belongs to: the root cause with
//! `file:line`, and the fix's pull request or the reason there is none. A hidden marker finds
//! it again, so later runs edit it instead of adding a second.

use crate::github::{Client, GithubError, IssueComment, PullFilter, RepoSlug, Run};
use crate::logs::Failure;
use crate::store::Outcome;

/// The line that marks selfheal's comment.
pub const MARKER: &str = "<!-- selfheal:pull-request-comment -->";

/// What the comment says.
pub struct Facts<'a> {
    pub run_id: u64,
    pub attempt: u32,
    pub run_url: &'a str,
    pub failures: &'a [Failure],
    pub outcome: Outcome,
    pub pr_url: Option<&'a str>,
    pub note: Option<&'a str>,
}

/// The pull request the run belongs to: GitHub lists it in `pull_requests` for a branch of
/// this repository, but not for a fork's (then it is found by `fork-owner:branch`).
pub async fn pull_request_of(
    gh: &Client,
    repo: &RepoSlug,
    run: &Run,
) -> Result<Option<u64>, GithubError> {
    if let Some(p) = run.pull_requests.first() {
        return Ok(Some(p.number));
    }
    let head = run
        .head_repository
        .as_ref()
        .and_then(|h| h.full_name.as_deref());
    let (Some(head), Some(branch), true) = (head, &run.head_branch, run.event == "pull_request")
    else {
        return Ok(None);
    };
    let owner = head.split('/').next().unwrap_or(head);
    let filter = PullFilter {
        state: "open".into(),
        head_branch: Some(branch.clone()),
        head_owner: Some(owner.to_string()),
        limit: 1,
    };
    let found = gh.list_pulls(repo, &filter).await?;
    Ok(found.first().map(|p| p.number))
}

/// Edits selfheal's comment on `number` if there is one, else writes it.
pub async fn upsert(
    gh: &Client,
    repo: &RepoSlug,
    number: u64,
    body: &str,
) -> Result<IssueComment, GithubError> {
    let comments = gh.list_issue_comments(repo, number).await?;
    let ours = comments
        .iter()
        .find(|c| c.body.as_deref().is_some_and(|b| b.contains(MARKER)));
    match ours {
        Some(c) => gh.update_issue_comment(repo, c.id, body).await,
        None => gh.create_issue_comment(repo, number, body).await,
    }
}

/// The comment's Markdown.
pub fn comment_body(f: &Facts<'_>) -> String {
    let mut b = format!("{MARKER}\n### selfheal: {}\n\n", headline(f.outcome));
    let causes: Vec<&Failure> = f.failures.iter().filter(|x| x.needs_code_change).collect();
    let shown = if causes.is_empty() {
        f.failures.iter().take(3).collect::<Vec<_>>()
    } else {
        causes.into_iter().take(3).collect()
    };
    for x in shown {
        b.push_str(&format!(
            "**Root cause:** `{}` ({} {}): {}\n\n",
            crate::report::human::location(x).unwrap_or_else(|| "(no location in the log)".into()),
            x.tool,
            x.kind,
            x.message.lines().next().unwrap_or("").trim()
        ));
    }
    match f.pr_url {
        Some(url) => b.push_str(&format!("**Fix:** {url}\n\n")),
        None => b.push_str(&format!(
            "**No fix pull request:** {}\n\n",
            f.note.unwrap_or("selfheal found no fix to propose")
        )),
    }
    b.push_str(&format!(
        "<sub>Run [{}]({}) attempt {} · this comment is edited by later runs</sub>\n",
        f.run_id, f.run_url, f.attempt
    ));
    b
}

fn headline(o: Outcome) -> &'static str {
    match o {
        Outcome::PullRequest | Outcome::Pushed => "a validated fix is proposed",
        Outcome::NeedsReview => "a validated fix waits for review (draft)",
        Outcome::Vetoed => "the only fix found was vetoed",
        Outcome::Rerun => "this failure looks flaky; its failed jobs were re-run",
        Outcome::Flaky => "this failure looks flaky",
        Outcome::Triaged => "diagnosis",
        Outcome::NeedsApproval => "a validated fix waits for approval",
        Outcome::NotHealed => "no fix passed the tests",
        Outcome::NothingFound => "nothing a code change fixes",
        Outcome::Skipped => "no new pull request",
        Outcome::Error => "selfheal could not finish",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure() -> Failure {
        Failure::new("pytest", crate::logs::Kind::TestFailure, "assert [] == [4]").at(
            "calc/stats.py",
            Some(12),
            None,
        )
    }

    #[test]
    fn the_comment_names_the_cause_and_the_fix_or_why_not() {
        let failures = [failure()];
        let mut f = Facts {
            run_id: 7,
            attempt: 1,
            run_url: "https://github.com/acme/app/actions/runs/7",
            failures: &failures,
            outcome: Outcome::NeedsReview,
            pr_url: Some("https://github.com/acme/app/pull/9"),
            note: None,
        };
        let b = comment_body(&f);
        assert!(b.starts_with(MARKER), "{b}");
        assert!(b.contains("`calc/stats.py:12`"), "{b}");
        assert!(
            b.contains("**Fix:** https://github.com/acme/app/pull/9"),
            "{b}"
        );
        f.pr_url = None;
        f.outcome = Outcome::Triaged;
        f.note = Some("the run's commit comes from the fork x/y");
        let b = comment_body(&f);
        assert!(
            b.contains("**No fix pull request:** the run's commit comes from the fork"),
            "{b}"
        );
    }
}
