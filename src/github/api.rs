//! The operations selfheal uses, one method each, named after GitHub's operationIds
//! (shared/github-api/index.json). Lists follow `Link: rel="next"` up to a limit.
//!
//! POSTs are never retried blindly: after a 5xx or a lost connection we first look whether
//! GitHub did the work anyway (the ref exists, the pull request is open), and only then try
//! again. Rate-limit answers (403/429) are safe to repeat: GitHub did nothing.

use serde::de::DeserializeOwned;

use super::client::{Client, Req};
use super::error::GithubError;
use super::repo::RepoSlug;
use super::types::{Commit, GitRef, Job, JobList, NewPull, PullRequest, Repository, Run, RunList};

/// Which runs `list_runs` asks for (`actions/list-workflow-runs-for-repo` parameters).
#[derive(Clone, Debug)]
pub struct RunFilter {
    /// `failure` by default.
    pub status: Option<String>,
    pub branch: Option<String>,
    pub event: Option<String>,
    /// `YYYY-MM-DD`: runs created on or after (sent as `created=>=DATE`).
    pub created_since: Option<String>,
    /// Only runs of this commit.
    pub head_sha: Option<String>,
    /// A workflow id or file name: lists `…/actions/workflows/{id}/runs` instead.
    pub workflow: Option<String>,
    /// Items per page, 1..=100.
    pub per_page: u8,
    /// Stop after this many runs.
    pub limit: usize,
}

impl Default for RunFilter {
    fn default() -> Self {
        RunFilter {
            status: Some("failure".into()),
            branch: None,
            event: None,
            created_since: None,
            head_sha: None,
            workflow: None,
            per_page: 30,
            limit: 30,
        }
    }
}

/// The answer to a conditional GET.
#[derive(Clone, Debug, PartialEq)]
pub enum Polled<T> {
    /// 304: nothing changed since the ETag was taken.
    Unchanged,
    Changed {
        value: T,
        etag: Option<String>,
    },
}

/// Which pull requests `list_pulls` asks for.
#[derive(Clone, Debug)]
pub struct PullFilter {
    /// `open`, `closed` or `all`.
    pub state: String,
    /// A branch in this repository (sent as `head=owner:branch`).
    pub head_branch: Option<String>,
    /// The branch's owner when it is not this repository's (a fork); default: the owner.
    pub head_owner: Option<String>,
    pub limit: usize,
}

impl Client {
    /// `GET /repos/{o}/{r}/actions/runs` (or the per-workflow list), following pages.
    pub async fn list_runs(
        &self,
        repo: &RepoSlug,
        filter: &RunFilter,
    ) -> Result<Vec<Run>, GithubError> {
        let first = self.runs_request(repo, filter);
        self.collect(first, filter.limit, |l: RunList| l.workflow_runs)
            .await
    }

    /// The first page of `list_runs`, unless it is unchanged since `etag` (for polling).
    pub async fn list_runs_if_changed(
        &self,
        repo: &RepoSlug,
        filter: &RunFilter,
        etag: Option<&str>,
    ) -> Result<Polled<Vec<Run>>, GithubError> {
        let mut req = self.runs_request(repo, filter);
        req.etag = etag.map(str::to_string);
        let d = self.json::<RunList>(&req).await?;
        Ok(match d.value {
            None => Polled::Unchanged,
            Some(list) => Polled::Changed {
                value: list.workflow_runs.into_iter().take(filter.limit).collect(),
                etag: d.etag,
            },
        })
    }

    fn runs_request(&self, repo: &RepoSlug, f: &RunFilter) -> Req {
        let path = match &f.workflow {
            Some(w) => format!("{}/actions/workflows/{w}/runs", repo.api_path()),
            None => format!("{}/actions/runs", repo.api_path()),
        };
        let mut req = Req::get(self.url(&path), format!("list workflow runs for {repo}"))
            .query("per_page", f.per_page.clamp(1, 100));
        let optional = [
            ("status", f.status.clone()),
            ("branch", f.branch.clone()),
            ("event", f.event.clone()),
            ("head_sha", f.head_sha.clone()),
            (
                "created",
                f.created_since.as_ref().map(|d| format!(">={d}")),
            ),
        ];
        for (k, v) in optional {
            if let Some(v) = v {
                req = req.query(k, v);
            }
        }
        req
    }

    /// `GET …/actions/runs/{run_id}`.
    pub async fn get_run(&self, repo: &RepoSlug, run_id: u64) -> Result<Run, GithubError> {
        let req = self.run_request(repo, run_id);
        self.fetch(&req).await
    }

    /// `get_run` with `If-None-Match`.
    pub async fn get_run_if_changed(
        &self,
        repo: &RepoSlug,
        run_id: u64,
        etag: Option<&str>,
    ) -> Result<Polled<Run>, GithubError> {
        let mut req = self.run_request(repo, run_id);
        req.etag = etag.map(str::to_string);
        let d = self.json::<Run>(&req).await?;
        Ok(match d.value {
            None => Polled::Unchanged,
            Some(value) => Polled::Changed {
                value,
                etag: d.etag,
            },
        })
    }

    fn run_request(&self, repo: &RepoSlug, run_id: u64) -> Req {
        let path = format!("{}/actions/runs/{run_id}", repo.api_path());
        Req::get(
            self.url(&path),
            format!("get workflow run {run_id} of {repo}"),
        )
    }

    /// `GET …/actions/runs/{run_id}/jobs?filter=latest`: the jobs of the latest attempt, with steps.
    pub async fn list_jobs(&self, repo: &RepoSlug, run_id: u64) -> Result<Vec<Job>, GithubError> {
        self.jobs_of(repo, run_id, "latest").await
    }

    /// `…/jobs?filter=all`: the jobs of every attempt, each with its `run_attempt`.
    pub async fn list_jobs_all_attempts(
        &self,
        repo: &RepoSlug,
        run_id: u64,
    ) -> Result<Vec<Job>, GithubError> {
        self.jobs_of(repo, run_id, "all").await
    }

    async fn jobs_of(
        &self,
        repo: &RepoSlug,
        run_id: u64,
        filter: &str,
    ) -> Result<Vec<Job>, GithubError> {
        let path = format!("{}/actions/runs/{run_id}/jobs", repo.api_path());
        let req = Req::get(
            self.url(&path),
            format!("list jobs of run {run_id} of {repo}"),
        )
        .query("filter", filter)
        .query("per_page", 100);
        self.collect(req, usize::MAX, |l: JobList| l.jobs).await
    }

    /// `GET …/actions/jobs/{job_id}`: one job with its steps.
    pub async fn get_job(&self, repo: &RepoSlug, job_id: u64) -> Result<Job, GithubError> {
        let path = format!("{}/actions/jobs/{job_id}", repo.api_path());
        let req = Req::get(self.url(&path), format!("get job {job_id} of {repo}"));
        self.fetch(&req).await
    }

    /// `GET /repos/{o}/{r}`.
    pub async fn get_repo(&self, repo: &RepoSlug) -> Result<Repository, GithubError> {
        let req = Req::get(self.url(&repo.api_path()), format!("get repository {repo}"));
        self.fetch(&req).await
    }

    /// `GET …/commits/{ref}`.
    pub async fn get_commit(
        &self,
        repo: &RepoSlug,
        reference: &str,
    ) -> Result<Commit, GithubError> {
        let path = format!("{}/commits/{reference}", repo.api_path());
        let req = Req::get(self.url(&path), format!("get commit {reference} of {repo}"));
        self.fetch(&req).await
    }

    /// `GET …/git/ref/heads/{branch}`; `None` when the branch does not exist.
    pub async fn get_branch_ref(
        &self,
        repo: &RepoSlug,
        branch: &str,
    ) -> Result<Option<GitRef>, GithubError> {
        let path = format!("{}/git/ref/heads/{branch}", repo.api_path());
        let req = Req::get(self.url(&path), format!("get branch {branch} of {repo}"));
        match self.fetch(&req).await {
            Ok(r) => Ok(Some(r)),
            Err(GithubError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `POST …/git/refs` for `refs/heads/{branch}`. After a 5xx or a dropped connection it
    /// checks whether the ref was made before trying again.
    pub async fn create_branch_ref(
        &self,
        repo: &RepoSlug,
        branch: &str,
        sha: &str,
    ) -> Result<GitRef, GithubError> {
        let path = format!("{}/git/refs", repo.api_path());
        let body = serde_json::json!({ "ref": format!("refs/heads/{branch}"), "sha": sha });
        let req = Req::post(
            self.url(&path),
            body,
            format!("create branch {branch} in {repo}"),
        );
        for _ in 0..2 {
            match self.fetch::<GitRef>(&req).await {
                Err(e) if is_unknown_outcome(&e) => {
                    if let Some(made) = self.get_branch_ref(repo, branch).await? {
                        return Ok(made);
                    }
                }
                other => return other,
            }
        }
        self.fetch(&req).await
    }

    /// `GET …/pulls?state=…&head=owner:branch`, following pages.
    pub async fn list_pulls(
        &self,
        repo: &RepoSlug,
        filter: &PullFilter,
    ) -> Result<Vec<PullRequest>, GithubError> {
        let path = format!("{}/pulls", repo.api_path());
        let mut req = Req::get(self.url(&path), format!("list pull requests of {repo}"))
            .query("state", &filter.state)
            .query("per_page", 100);
        if let Some(b) = &filter.head_branch {
            let owner = filter.head_owner.as_deref().unwrap_or(&repo.owner);
            req = req.query("head", format!("{owner}:{b}"));
        }
        self.collect(req, filter.limit, |v: Vec<PullRequest>| v)
            .await
    }

    /// `POST …/pulls`. After a 5xx or a dropped connection it looks for an open pull request
    /// from the same head before trying again, so one failure never opens two.
    pub async fn create_pull(
        &self,
        repo: &RepoSlug,
        pull: &NewPull,
    ) -> Result<PullRequest, GithubError> {
        let path = format!("{}/pulls", repo.api_path());
        let body = serde_json::to_value(pull).expect("NewPull serialises");
        let what = format!("create a pull request from {} in {repo}", pull.head);
        let req = Req::post(self.url(&path), body, what);
        for _ in 0..2 {
            match self.fetch::<PullRequest>(&req).await {
                Err(e) if is_unknown_outcome(&e) => {
                    if let Some(pr) = self.open_pull_from(repo, &pull.head).await? {
                        return Ok(pr);
                    }
                }
                other => return other,
            }
        }
        self.fetch(&req).await
    }

    async fn open_pull_from(
        &self,
        repo: &RepoSlug,
        head: &str,
    ) -> Result<Option<PullRequest>, GithubError> {
        let filter = PullFilter {
            state: "open".into(),
            head_branch: Some(head.to_string()),
            head_owner: None,
            limit: 1,
        };
        Ok(self.list_pulls(repo, &filter).await?.into_iter().next())
    }

    /// `POST …/issues/{number}/labels` (issues/add-labels, from GitHub's docs); adding the
    /// same labels twice is harmless, so this one may be repeated.
    pub async fn add_labels(
        &self,
        repo: &RepoSlug,
        number: u64,
        labels: &[String],
    ) -> Result<(), GithubError> {
        if labels.is_empty() {
            return Ok(());
        }
        let path = format!("{}/issues/{number}/labels", repo.api_path());
        let body = serde_json::json!({ "labels": labels });
        let req = Req::post(
            self.url(&path),
            body,
            format!("label pull request #{number} of {repo}"),
        );
        match self.fetch::<serde_json::Value>(&req).await {
            Err(e) if is_unknown_outcome(&e) => {
                self.fetch::<serde_json::Value>(&req).await.map(drop)
            }
            other => other.map(drop),
        }
    }

    /// Follows `next` links from `first`, mapping each page to items, up to `limit` items.
    pub(super) async fn collect<P, T>(
        &self,
        first: Req,
        limit: usize,
        items: impl Fn(P) -> Vec<T>,
    ) -> Result<Vec<T>, GithubError>
    where
        P: DeserializeOwned,
    {
        let mut out = Vec::new();
        let mut req = first;
        loop {
            let page = self.json::<P>(&req).await?;
            let Some(value) = page.value else { break };
            out.extend(items(value));
            match page.next {
                Some(next) if out.len() < limit => {
                    req = Req::get(next, req.what.clone());
                }
                _ => break,
            }
        }
        out.truncate(limit);
        Ok(out)
    }
}

/// A POST whose effect is unknown: the server failed or the connection dropped mid-way.
pub(super) fn is_unknown_outcome(e: &GithubError) -> bool {
    match e {
        GithubError::Status { status, .. } => *status >= 500,
        GithubError::Transport { .. } => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_outcome_only_for_5xx_and_transport() {
        let s = |status| GithubError::Status {
            what: String::new(),
            status,
            attempts: 1,
            message: String::new(),
        };
        assert!(is_unknown_outcome(&s(502)));
        assert!(!is_unknown_outcome(&s(400)));
        assert!(!is_unknown_outcome(&GithubError::Rejected {
            what: String::new(),
            status: 422,
            message: String::new()
        }));
    }

    #[test]
    fn default_filter_asks_for_failures() {
        let f = RunFilter::default();
        assert_eq!(f.status.as_deref(), Some("failure"));
        assert!(f.per_page <= 100);
    }
}
