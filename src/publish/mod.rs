//! Publishing a validated fix: a commit on `selfheal/run-<run_id>-<attempt>` (git2, no
//! working tree), a push of that branch only, and a pull request into the run's branch
//! through `github/`.
//!
//! Dedupe by failure signature (kept in a hidden marker in the PR body):
//! - an open selfheal PR for the same signature is updated (its branch pushed again);
//! - a signature whose PR was closed unmerged is skipped unless `force`;
//! - a branch whose tip someone else wrote is never pushed over;
//! - no more than `[publish] max_open_prs` selfheal PRs are open at once.
//!
//! Never pushes to any branch outside `[publish] branch_prefix`, so never to the default or a
//! protected branch.

pub mod approved;
mod body;
pub mod checkout;
pub mod comment;
mod git;
mod remote;

use std::path::{Path, PathBuf};

use secrecy::SecretString;

use crate::config::PublishConfig;
use crate::error::Hint;
use crate::github::{Client, GithubError, NewPull, PullFilter, PullRequest, RepoSlug};

pub use body::{FixReport, commit_message, pr_body, pr_title, signature_in, signature_marker};
pub use git::{FileChange, GitSide, ensure_commit, strip_credentials};
pub use remote::{git_remote_url, push_url};

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("git could not {action}")]
    Git {
        action: &'static str,
        #[source]
        source: git2::Error,
    },
    #[error("cannot use {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the run's commit {sha} is not in the local clone")]
    MissingBase { sha: String },
    #[error("the fix would write {path:?}, which is outside the repository or inside .git")]
    BadPath { path: String },
    #[error("the fix changes nothing")]
    EmptyChange,
    #[error("refusing to push to {branch:?}: {why}")]
    UnsafeBranch { branch: String, why: String },
    #[error("the remote refused the push: {why}")]
    PushRejected { why: String },
    #[error(transparent)]
    Github(#[from] GithubError),
}

impl Hint for PublishError {
    fn hint(&self) -> String {
        match self {
            PublishError::Git { .. } | PublishError::PushRejected { .. } => {
                "check that the token may push (contents: write) and that the remote URL is right".into()
            }
            PublishError::Io { .. } => "check that the temporary directory is writable".into(),
            PublishError::MissingBase { .. } => {
                "fetch the run's commit first (`git fetch origin <sha>`, or actions/checkout with fetch-depth: 0)".into()
            }
            PublishError::BadPath { .. } => "this is a bug in the patch stage; report it".into(),
            PublishError::EmptyChange => "nothing to publish; the patch may already be applied".into(),
            PublishError::UnsafeBranch { .. } => "set [publish] branch_prefix to something like \"selfheal/\"".into(),
            PublishError::Github(e) => e.hint(),
        }
    }
}

impl From<PublishError> for crate::error::Error {
    fn from(e: PublishError) -> Self {
        crate::error::Error::from_stage(crate::error::exit::ERROR, e)
    }
}

/// A validated fix of one failed run.
#[derive(Clone, Debug)]
pub struct Fix {
    pub run_id: u64,
    pub attempt: u32,
    /// The run's branch: the PR's base.
    pub base_branch: String,
    /// The run's `head_sha`: the fix's parent commit.
    pub base_sha: String,
    /// `logs::signature` of the failure it fixes.
    pub signature: String,
    pub changes: Vec<FileChange>,
    pub report: FixReport,
    /// Publish even if a PR for this signature was closed unmerged.
    pub force: bool,
}

/// What publishing did.
#[derive(Clone, Debug, PartialEq)]
pub enum Published {
    /// A new PR; `warnings` says what did not work after it was opened (labels).
    Opened {
        pr: PullRequest,
        branch: String,
        warnings: Vec<String>,
    },
    /// An open selfheal PR for the same failure got the new commit.
    Updated {
        pr: PullRequest,
        branch: String,
    },
    /// Pushed without a PR (`[publish] pr = false`).
    Pushed {
        branch: String,
    },
    Skipped(Skip),
}

/// Why nothing was pushed.
#[derive(Clone, Debug, PartialEq)]
pub enum Skip {
    /// A PR for this failure was closed without merging; `force` overrides.
    ClosedUnmerged { number: u64 },
    /// Someone other than selfheal wrote the tip of the branch.
    ForeignPush { branch: String, author: String },
    /// `[publish] max_open_prs` reached.
    TooManyOpen { open: usize, max: u32 },
    /// The run itself is on a selfheal branch: no fixes of fixes.
    SelfhealBranch { branch: String },
}

impl std::fmt::Display for Skip {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Skip::ClosedUnmerged { number } => write!(
                f,
                "PR #{number} for this failure was closed without merging (use --force to try again)"
            ),
            Skip::ForeignPush { branch, author } => write!(
                f,
                "{branch} was changed by {author}; selfheal leaves it alone"
            ),
            Skip::TooManyOpen { open, max } => {
                write!(f, "{open} selfheal PRs are open (max_open_prs = {max})")
            }
            Skip::SelfhealBranch { branch } => {
                write!(f, "the run is on selfheal's own branch {branch}")
            }
        }
    }
}

/// Everything publishing needs from the outside.
pub struct Publisher<'a> {
    pub github: &'a Client,
    pub repo: RepoSlug,
    /// The user's clone: only its object store is read.
    pub repo_dir: PathBuf,
    /// Where to push (`https://github.com/o/r.git`, or a `file://` bare repo in tests).
    pub remote_url: String,
    pub token: Option<SecretString>,
    pub config: PublishConfig,
}

/// The label of a draft pull request whose fix waits for a person (risk above
/// `[policy] max_auto_risk`, or a flagged area); created in the repository when missing.
pub const REVIEW_LABEL: &str = "selfheal: needs review";
const REVIEW_LABEL_COLOR: &str = "d93f0b";
const REVIEW_LABEL_DESCRIPTION: &str =
    "selfheal proposes a fix whose risk needs a person's review before merging";

/// `{prefix}run-{run_id}-{attempt}`.
pub fn branch_name(prefix: &str, run_id: u64, attempt: u32) -> String {
    format!("{prefix}run-{run_id}-{attempt}")
}

/// Only `refs/heads/{prefix}…` with a real prefix may be pushed.
pub fn check_branch(prefix: &str, branch: &str) -> Result<(), PublishError> {
    let unsafe_branch = |why: &str| PublishError::UnsafeBranch {
        branch: branch.into(),
        why: why.into(),
    };
    let p = prefix.trim_matches('/');
    if p.is_empty() || p.starts_with("refs") {
        return Err(unsafe_branch("the branch prefix is empty"));
    }
    if !branch.starts_with(prefix) || branch.len() == prefix.len() {
        return Err(unsafe_branch("it is not one of selfheal's branches"));
    }
    if branch.contains("..") || branch.contains(' ') || branch.ends_with('/') {
        return Err(unsafe_branch("it is not a valid branch name"));
    }
    Ok(())
}

impl Publisher<'_> {
    /// Commits, pushes and opens (or updates) the pull request, following the dedupe rules.
    pub async fn publish(&self, fix: &Fix) -> Result<Published, PublishError> {
        let prefix = self.config.branch_prefix.as_str();
        if fix.base_branch.starts_with(prefix) {
            return Ok(Published::Skipped(Skip::SelfhealBranch {
                branch: fix.base_branch.clone(),
            }));
        }
        let ours = self.selfheal_pulls().await?;
        let same: Vec<&PullRequest> = ours
            .iter()
            .filter(|p| p.body.as_deref().and_then(signature_in) == Some(fix.signature.as_str()))
            .collect();
        if let Some(open) = same.iter().find(|p| p.is_open()) {
            return self.update(fix, open).await;
        }
        if let Some(closed) = same.iter().find(|p| p.is_rejected())
            && !fix.force
        {
            return Ok(Published::Skipped(Skip::ClosedUnmerged {
                number: closed.number,
            }));
        }
        let open = ours.iter().filter(|p| p.is_open()).count();
        if self.config.pr && open >= self.config.max_open_prs as usize {
            return Ok(Published::Skipped(Skip::TooManyOpen {
                open,
                max: self.config.max_open_prs,
            }));
        }
        self.open(fix).await
    }

    /// PRs whose head is a selfheal branch: every open one, and the newest closed ones
    /// (GitHub cannot filter by head prefix, so open and closed are listed apart).
    async fn selfheal_pulls(&self) -> Result<Vec<PullRequest>, PublishError> {
        let mut ours = Vec::new();
        for (state, limit) in [("open", 1000), ("closed", 300)] {
            let filter = PullFilter {
                state: state.into(),
                head_branch: None,
                head_owner: None,
                limit,
            };
            let pulls = self.github.list_pulls(&self.repo, &filter).await?;
            ours.extend(
                pulls
                    .into_iter()
                    .filter(|p| p.head.ref_name.starts_with(&self.config.branch_prefix)),
            );
        }
        Ok(ours)
    }

    async fn open(&self, fix: &Fix) -> Result<Published, PublishError> {
        let branch = branch_name(&self.config.branch_prefix, fix.run_id, fix.attempt);
        if let Some(skip) = self.foreign_tip(&branch).await? {
            return Ok(Published::Skipped(skip));
        }
        self.commit_and_push(fix, &branch).await?;
        if !self.config.pr {
            return Ok(Published::Pushed { branch });
        }
        let pull = NewPull {
            title: pr_title(&fix.report),
            head: branch.clone(),
            base: fix.base_branch.clone(),
            body: pr_body(&fix.report, fix.run_id, fix.attempt, &fix.signature),
            draft: self.config.draft,
            maintainer_can_modify: true,
        };
        let pr = self.github.create_pull(&self.repo, &pull).await?;
        // The PR exists now: a labelling failure must not hide it.
        let warnings = match self.label(pr.number).await {
            Ok(()) => Vec::new(),
            Err(e) => vec![e.with_hint()],
        };
        Ok(Published::Opened {
            pr,
            branch,
            warnings,
        })
    }

    /// Adds the configured labels, creating the review label first when it is missing
    /// (it carries its own colour and description).
    async fn label(&self, number: u64) -> Result<(), GithubError> {
        if self.config.labels.iter().any(|l| l == REVIEW_LABEL) {
            self.github
                .ensure_label(
                    &self.repo,
                    REVIEW_LABEL,
                    REVIEW_LABEL_COLOR,
                    REVIEW_LABEL_DESCRIPTION,
                )
                .await?;
        }
        self.github
            .add_labels(&self.repo, number, &self.config.labels)
            .await
    }

    async fn update(&self, fix: &Fix, pr: &PullRequest) -> Result<Published, PublishError> {
        let branch = pr.head.ref_name.clone();
        if let Some(skip) = self.foreign_tip(&branch).await? {
            return Ok(Published::Skipped(skip));
        }
        self.commit_and_push(fix, &branch).await?;
        Ok(Published::Updated {
            pr: pr.clone(),
            branch,
        })
    }

    /// `Some(skip)` when the remote branch exists and its tip was not written by selfheal.
    async fn foreign_tip(&self, branch: &str) -> Result<Option<Skip>, PublishError> {
        if self
            .github
            .get_branch_ref(&self.repo, branch)
            .await?
            .is_none()
        {
            return Ok(None);
        }
        let commit = self.github.get_commit(&self.repo, branch).await?;
        let me = self.config.author_email.to_lowercase();
        let email = |a: &Option<crate::github::GitActor>| {
            a.as_ref()
                .and_then(|a| a.email.clone())
                .unwrap_or_default()
                .to_lowercase()
        };
        let (author, committer) = (
            email(&commit.commit.author),
            email(&commit.commit.committer),
        );
        if author == me && committer == me {
            return Ok(None);
        }
        let who = if author != me { author } else { committer };
        Ok(Some(Skip::ForeignPush {
            branch: branch.into(),
            author: who,
        }))
    }

    async fn commit_and_push(&self, fix: &Fix, branch: &str) -> Result<(), PublishError> {
        check_branch(&self.config.branch_prefix, branch)?;
        let signoff = self.config.signoff.then_some((
            self.config.author_name.as_str(),
            self.config.author_email.as_str(),
        ));
        let message = commit_message(
            &fix.report,
            fix.run_id,
            fix.attempt,
            &fix.signature,
            signoff,
        );
        let job = PushJob {
            repo_dir: self.repo_dir.clone(),
            remote_url: self.remote_url.clone(),
            token: self.token.clone(),
            base_branch: fix.base_branch.clone(),
            base_sha: fix.base_sha.clone(),
            changes: fix.changes.clone(),
            message,
            name: self.config.author_name.clone(),
            email: self.config.author_email.clone(),
            branch: branch.to_string(),
        };
        tokio::task::spawn_blocking(move || job.run())
            .await
            .map_err(|e| PublishError::PushRejected {
                why: format!("the push task stopped: {e}"),
            })?
    }
}

/// The blocking git part, run off the async threads (a push can take a while).
struct PushJob {
    repo_dir: PathBuf,
    remote_url: String,
    token: Option<SecretString>,
    base_branch: String,
    base_sha: String,
    changes: Vec<FileChange>,
    message: String,
    name: String,
    email: String,
    branch: String,
}

impl PushJob {
    fn run(&self) -> Result<(), PublishError> {
        let dir = Path::new(&self.repo_dir);
        let token = self.token.clone();
        ensure_commit(
            dir,
            &self.remote_url,
            token,
            &self.base_branch,
            &self.base_sha,
        )?;
        let side = GitSide::open(
            Path::new(&self.repo_dir),
            &self.remote_url,
            self.token.clone(),
        )?;
        let commit = side.commit(
            &self.base_sha,
            &self.changes,
            &self.message,
            &self.name,
            &self.email,
        )?;
        side.push(commit, &self.branch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_prefixed_branches_pass() {
        assert!(check_branch("selfheal/", "selfheal/run-1-1").is_ok());
        for (prefix, branch) in [
            ("selfheal/", "main"),
            ("selfheal/", "selfheal/"),
            ("", "main"),
            ("/", "/x"),
            ("refs/heads/", "refs/heads/main"),
            ("selfheal/", "selfheal/../main"),
        ] {
            assert!(check_branch(prefix, branch).is_err(), "{prefix} {branch}");
        }
    }

    #[test]
    fn branch_names_carry_run_and_attempt() {
        assert_eq!(branch_name("selfheal/", 42, 2), "selfheal/run-42-2");
    }
}
