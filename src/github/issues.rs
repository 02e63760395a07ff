//! Talking on a pull request: its comments (list, create, edit), labels (create one that is
//! missing, add them), and re-running a run's failed jobs. Operations from GitHub's REST
//! docs (`contract/issues.*.json`, `contract/actions.re-run-workflow-failed-jobs.json`).

use super::client::{Client, Req};
use super::error::GithubError;
use super::repo::RepoSlug;
use super::types::IssueComment;

impl Client {
    /// `GET …/issues/{number}/comments`, every page (oldest first, as GitHub orders them).
    pub async fn list_issue_comments(
        &self,
        repo: &RepoSlug,
        number: u64,
    ) -> Result<Vec<IssueComment>, GithubError> {
        let path = format!("{}/issues/{number}/comments", repo.api_path());
        let req = Req::get(
            self.url(&path),
            format!("list the comments of #{number} in {repo}"),
        )
        .query("per_page", 100);
        self.collect(req, usize::MAX, |v: Vec<IssueComment>| v)
            .await
    }

    /// `POST …/issues/{number}/comments`. Not repeated after a 5xx: a second comment is
    /// worse than none, and the next run edits whichever exists.
    pub async fn create_issue_comment(
        &self,
        repo: &RepoSlug,
        number: u64,
        body: &str,
    ) -> Result<IssueComment, GithubError> {
        let path = format!("{}/issues/{number}/comments", repo.api_path());
        let req = Req::post(
            self.url(&path),
            serde_json::json!({ "body": body }),
            format!("comment on #{number} in {repo}"),
        );
        self.fetch(&req).await
    }

    /// `PATCH …/issues/comments/{comment_id}`: the same text twice is harmless, so it may
    /// be repeated.
    pub async fn update_issue_comment(
        &self,
        repo: &RepoSlug,
        comment_id: u64,
        body: &str,
    ) -> Result<IssueComment, GithubError> {
        let path = format!("{}/issues/comments/{comment_id}", repo.api_path());
        let req = Req::patch(
            self.url(&path),
            serde_json::json!({ "body": body }),
            format!("edit comment {comment_id} in {repo}"),
        );
        match self.fetch(&req).await {
            Err(e) if super::api::is_unknown_outcome(&e) => self.fetch(&req).await,
            other => other,
        }
    }

    /// `POST …/labels` unless the label exists: GitHub answers `422 already_exists` then,
    /// which is what we wanted.
    pub async fn ensure_label(
        &self,
        repo: &RepoSlug,
        name: &str,
        color: &str,
        description: &str,
    ) -> Result<(), GithubError> {
        let path = format!("{}/labels", repo.api_path());
        let body = serde_json::json!({ "name": name, "color": color, "description": description });
        let req = Req::post(
            self.url(&path),
            body,
            format!("create the label {name:?} in {repo}"),
        );
        match self.fetch::<serde_json::Value>(&req).await {
            Ok(_) => Ok(()),
            Err(GithubError::Rejected { status: 422, .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// `POST …/actions/runs/{run_id}/rerun-failed-jobs`: the failed jobs (and those that
    /// depend on them) run again as the run's next attempt.
    pub async fn rerun_failed_jobs(&self, repo: &RepoSlug, run_id: u64) -> Result<(), GithubError> {
        let path = format!(
            "{}/actions/runs/{run_id}/rerun-failed-jobs",
            repo.api_path()
        );
        let req = Req::post(
            self.url(&path),
            serde_json::json!({ "enable_debug_logging": false }),
            format!("re-run the failed jobs of run {run_id} of {repo}"),
        );
        self.fetch::<serde_json::Value>(&req).await.map(drop)
    }
}
