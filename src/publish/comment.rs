//! selfheal's one comment on the pull request a failed run belongs to: the root cause with
//! `file:line`, and the fix's pull request or the reason there is none. A hidden marker finds
//! it again, so later runs edit it instead of adding a second.

use crate::github::{Client, GithubError, IssueComment, PullFilter, RepoSlug, Run};

/// The line that marks selfheal's comment.
pub const MARKER: &str = "<!-- selfheal:pull-request-comment -->";

/// One root cause as the comment shows it.
pub struct Cause {
    /// `file:line`, or `None` when the log names no place.
    pub location: Option<String>,
    /// `pytest test_failure`.
    pub what: String,
    pub message: String,
}

/// What the comment says.
pub struct Facts<'a> {
    pub run_id: u64,
    pub attempt: u32,
    pub run_url: &'a str,
    /// What happened, in a few words (`a validated fix waits for review (draft)`).
    pub headline: &'a str,
    /// The root causes, first ones first (three are shown).
    pub causes: Vec<Cause>,
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
    let mut b = format!("{MARKER}\n### selfheal: {}\n\n", f.headline);
    for c in f.causes.iter().take(3) {
        b.push_str(&format!(
            "**Root cause:** `{}` ({}): {}\n\n",
            c.location.as_deref().unwrap_or("(no location in the log)"),
            c.what,
            c.message.lines().next().unwrap_or("").trim()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_comment_names_the_cause_and_the_fix_or_why_not() {
        let cause = || Cause {
            location: Some("calc/stats.py:12".into()),
            what: "pytest test_failure".into(),
            message: "assert [] == [4]".into(),
        };
        let mut f = Facts {
            run_id: 7,
            attempt: 1,
            run_url: "https://github.com/acme/app/actions/runs/7",
            headline: "a validated fix waits for review (draft)",
            causes: vec![cause()],
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
        f.causes = vec![cause()];
        f.note = Some("the run's commit comes from the fork x/y");
        let b = comment_body(&f);
        assert!(
            b.contains("**No fix pull request:** the run's commit comes from the fork"),
            "{b}"
        );
    }
}
