//! Our own lenient views of GitHub's JSON: only the fields selfheal reads, with `Option`
//! wherever the schema in shared/github-api allows `null` or leaves a field out.
//!
//! octocrab's models are stricter than the schema (`Run.name`, `Job.steps`, … are required
//! there; see OCTOCRAB.md), so a real run with a null `head_branch` would fail to parse.
//! These types serialise back with GitHub's field names, so a cached `run.json` / `jobs.json`
//! reads like the API's own answer.

use serde::{Deserialize, Serialize};

/// A workflow run (`components/schemas/workflow-run`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Run {
    pub id: u64,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub head_branch: Option<String>,
    pub head_sha: String,
    #[serde(default)]
    pub event: String,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub conclusion: Option<String>,
    /// Missing on old runs: the schema does not require it.
    #[serde(default = "first_attempt")]
    pub run_attempt: u32,
    #[serde(default)]
    pub run_number: u64,
    #[serde(default)]
    pub workflow_id: u64,
    /// `.github/workflows/ci.yml` (sometimes with `@ref`).
    #[serde(default)]
    pub path: String,
    #[serde(default)]
    pub display_title: String,
    #[serde(default)]
    pub html_url: String,
    #[serde(default)]
    pub created_at: String,
    #[serde(default)]
    pub updated_at: Option<String>,
    #[serde(default)]
    pub pull_requests: Vec<RunPullRequest>,
    #[serde(default)]
    pub head_repository: Option<RepoRef>,
}

fn first_attempt() -> u32 {
    1
}

impl Run {
    /// The workflow file name (`ci.yml`), without folders or `@ref`.
    pub fn workflow_file(&self) -> &str {
        let p = self.path.split('@').next().unwrap_or("");
        p.rsplit('/').next().unwrap_or(p)
    }
}

/// `pull_requests[]` inside a run (`pull-request-minimal`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunPullRequest {
    pub id: u64,
    pub number: u64,
    #[serde(default)]
    pub head: Option<BranchRef>,
    #[serde(default)]
    pub base: Option<BranchRef>,
}

/// `{ref, sha}` of a branch tip, as runs and pulls report it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BranchRef {
    #[serde(rename = "ref")]
    pub ref_name: String,
    pub sha: String,
    #[serde(default)]
    pub repo: Option<RepoRef>,
}

/// The few fields of a repository object nested in runs and pulls.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RepoRef {
    #[serde(default)]
    pub id: u64,
    #[serde(default)]
    pub full_name: Option<String>,
}

/// A job with its steps (`components/schemas/job`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Job {
    pub id: u64,
    #[serde(default)]
    pub run_id: u64,
    pub name: String,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub conclusion: Option<String>,
    #[serde(default)]
    pub run_attempt: Option<u32>,
    #[serde(default)]
    pub head_branch: Option<String>,
    #[serde(default)]
    pub head_sha: String,
    #[serde(default)]
    pub workflow_name: Option<String>,
    #[serde(default)]
    pub html_url: Option<String>,
    #[serde(default)]
    pub started_at: Option<String>,
    #[serde(default)]
    pub completed_at: Option<String>,
    #[serde(default)]
    pub steps: Option<Vec<Step>>,
}

impl Job {
    /// Steps whose conclusion is `failure` (GitHub's word), in order.
    pub fn failed_steps(&self) -> impl Iterator<Item = &Step> {
        self.steps
            .iter()
            .flatten()
            .filter(|s| s.conclusion.as_deref() == Some("failure"))
    }
}

/// One step of a job. `number` is what names the step's file in the log ZIP (LOGS.md §2).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Step {
    pub name: String,
    pub number: u32,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub conclusion: Option<String>,
}

/// `GET …/actions/runs` and the per-workflow list wrap their items.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunList {
    pub total_count: u64,
    pub workflow_runs: Vec<Run>,
}

/// `GET …/runs/{id}/jobs`; also the shape of the cached `jobs.json`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct JobList {
    pub total_count: u64,
    pub jobs: Vec<Job>,
}

/// A pull request (`pull-request` / `pull-request-simple`): what dedupe and reports need.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PullRequest {
    pub number: u64,
    pub state: String,
    pub title: String,
    #[serde(default)]
    pub body: Option<String>,
    pub html_url: String,
    pub head: BranchRef,
    pub base: BranchRef,
    #[serde(default)]
    pub merged_at: Option<String>,
    #[serde(default)]
    pub draft: Option<bool>,
    #[serde(default)]
    pub user: Option<User>,
    #[serde(default)]
    pub labels: Vec<Label>,
}

impl PullRequest {
    pub fn is_open(&self) -> bool {
        self.state == "open"
    }
    /// Closed without being merged.
    pub fn is_rejected(&self) -> bool {
        self.state == "closed" && self.merged_at.is_none()
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct User {
    pub login: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Label {
    pub name: String,
}

/// A comment on an issue or pull request (`issue-comment`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IssueComment {
    pub id: u64,
    #[serde(default)]
    pub body: Option<String>,
    pub html_url: String,
    #[serde(default)]
    pub user: Option<User>,
}

/// `GET /repos/{o}/{r}`: the default branch is the one we never push to.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Repository {
    pub id: u64,
    pub full_name: String,
    pub default_branch: String,
    #[serde(default)]
    pub clone_url: Option<String>,
    #[serde(default)]
    pub html_url: Option<String>,
    #[serde(default)]
    pub archived: Option<bool>,
    /// What the token's user may do here; GitHub leaves it out for some tokens.
    #[serde(default)]
    pub permissions: Option<RepoPermissions>,
}

/// `permissions` of a repository as the authenticated user sees it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RepoPermissions {
    #[serde(default)]
    pub admin: bool,
    #[serde(default)]
    pub push: bool,
    #[serde(default)]
    pub pull: bool,
}

/// `git/ref` and `git/refs`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GitRef {
    #[serde(rename = "ref")]
    pub ref_name: String,
    pub object: GitObject,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GitObject {
    pub sha: String,
    #[serde(rename = "type")]
    pub kind: String,
}

/// `GET …/commits/{ref}`: who wrote and who committed the tip of a branch.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Commit {
    pub sha: String,
    pub commit: CommitDetail,
    #[serde(default)]
    pub author: Option<User>,
    #[serde(default)]
    pub committer: Option<User>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CommitDetail {
    pub message: String,
    #[serde(default)]
    pub author: Option<GitActor>,
    #[serde(default)]
    pub committer: Option<GitActor>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GitActor {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
}

/// What `create_pull` sends (`pulls/create` request body).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NewPull {
    pub title: String,
    /// The branch with the fix (same repository, so no `owner:` prefix is needed).
    pub head: String,
    /// The run's branch, which the fix goes into.
    pub base: String,
    pub body: String,
    pub draft: bool,
    pub maintainer_can_modify: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_accepts_nulls_the_schema_allows() {
        let run: Run = serde_json::from_str(
            r#"{"id":1,"name":null,"head_branch":null,"head_sha":"abc","event":"push",
                "status":null,"conclusion":null,"path":".github/workflows/ci.yml@main"}"#,
        )
        .unwrap();
        assert_eq!(run.run_attempt, 1);
        assert_eq!(run.workflow_file(), "ci.yml");
        assert!(run.name.is_none() && run.head_branch.is_none());
    }

    #[test]
    fn job_without_steps_or_attempt_parses() {
        let job: Job = serde_json::from_str(
            r#"{"id":7,"name":"build / test","status":"requested","conclusion":null}"#,
        )
        .unwrap();
        assert!(job.steps.is_none());
        assert_eq!(job.failed_steps().count(), 0);
    }

    #[test]
    fn failed_steps_are_those_concluded_failure() {
        let job: Job = serde_json::from_str(
            r#"{"id":7,"name":"t","steps":[
                {"name":"a","number":1,"conclusion":"success"},
                {"name":"b","number":4,"conclusion":"failure"},
                {"name":"c","number":16,"conclusion":"skipped"}]}"#,
        )
        .unwrap();
        let numbers: Vec<u32> = job.failed_steps().map(|s| s.number).collect();
        assert_eq!(numbers, [4]);
    }
}
