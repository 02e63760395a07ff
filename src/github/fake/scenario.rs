//! What the fake GitHub holds: one repository's runs, jobs, logs, refs, pull requests, their
//! comments and labels, re-runs asked for, an optional GitHub App installed on it, plus
//! scripted answers (rate limits, 5xx) that tests queue up.

use std::collections::BTreeMap;
use std::path::PathBuf;

/// One repository as the fake serves it.
#[derive(Clone, Debug)]
pub struct Scenario {
    pub owner: String,
    pub repo: String,
    /// The only token the fake accepts (`Bearer` or `token` scheme).
    pub token: String,
    pub default_branch: String,
    pub runs: Vec<FakeRun>,
    /// Jobs by run id.
    pub jobs: BTreeMap<u64, Vec<FakeJob>>,
    /// Run-log ZIP bytes by run id; a run without an entry answers 404.
    pub run_logs: BTreeMap<u64, Vec<u8>>,
    /// Job logs by job id.
    pub job_logs: BTreeMap<u64, String>,
    pub pulls: Vec<FakePull>,
    /// Branch name to sha, when no `git_dir` backs the refs.
    pub refs: BTreeMap<String, String>,
    /// A real (bare) repository whose branches and commits the fake reports, so a test can
    /// push with git2 and then open a pull request against what it pushed.
    pub git_dir: Option<PathBuf>,
    /// Comments on issues and pull requests, oldest first.
    pub comments: Vec<FakeComment>,
    /// The repository's labels (names).
    pub labels: Vec<String>,
    /// Runs whose failed jobs were re-run, in order.
    pub reruns: Vec<u64>,
    /// A GitHub App installed on the repository: its JWTs and installation tokens are
    /// accepted too.
    pub app: Option<FakeApp>,
    /// Installation tokens minted so far, with the epoch second they expire.
    pub minted: Vec<(String, u64)>,
}

/// A GitHub App installed on the fake's repository.
#[derive(Clone, Debug)]
pub struct FakeApp {
    pub app_id: u64,
    pub installation_id: u64,
    /// The App's public key (PEM): every JWT must be signed with its private half.
    pub public_key_pem: String,
    /// How long a minted installation token lives (GitHub: an hour).
    pub token_ttl_secs: u64,
}

/// A comment on an issue or pull request.
#[derive(Clone, Debug, PartialEq)]
pub struct FakeComment {
    pub id: u64,
    pub issue_number: u64,
    pub body: String,
    /// Who wrote it: the App (`<slug>[bot]`) or the token's user.
    pub user: String,
    /// How many times it was edited.
    pub edits: u32,
}

impl Scenario {
    /// An empty `owner/repo` that accepts `token`.
    pub fn new(owner: &str, repo: &str, token: &str) -> Scenario {
        Scenario {
            owner: owner.into(),
            repo: repo.into(),
            token: token.into(),
            default_branch: "main".into(),
            runs: Vec::new(),
            jobs: BTreeMap::new(),
            run_logs: BTreeMap::new(),
            job_logs: BTreeMap::new(),
            pulls: Vec::new(),
            refs: BTreeMap::new(),
            git_dir: None,
            comments: Vec::new(),
            labels: Vec::new(),
            reruns: Vec::new(),
            app: None,
            minted: Vec::new(),
        }
    }

    pub fn with_run(mut self, run: FakeRun) -> Scenario {
        self.runs.push(run);
        self
    }
}

/// A workflow run; the JSON is GitHub's example with these fields set.
#[derive(Clone, Debug)]
pub struct FakeRun {
    pub id: u64,
    pub name: Option<String>,
    pub head_branch: Option<String>,
    pub head_sha: String,
    pub event: String,
    pub status: String,
    pub conclusion: Option<String>,
    pub run_attempt: u32,
    pub workflow_id: u64,
    pub path: String,
    pub created_at: String,
    /// `owner/name` of the repository the run's commit came from, when it is not this one
    /// (a pull request from a fork).
    pub head_repository: Option<String>,
    /// Numbers of the pull requests the run belongs to, as GitHub lists them in
    /// `pull_requests` (it lists none for a fork's pull request).
    pub pull_requests: Vec<u64>,
}

impl FakeRun {
    /// A failed `push` run of `ci.yml` on `main`.
    pub fn failed(id: u64) -> FakeRun {
        FakeRun {
            id,
            name: Some("CI".into()),
            head_branch: Some("main".into()),
            head_sha: format!("{:040x}", id),
            event: "push".into(),
            status: "completed".into(),
            conclusion: Some("failure".into()),
            run_attempt: 1,
            workflow_id: 161335,
            path: ".github/workflows/ci.yml".into(),
            created_at: "2026-11-20T10:00:00Z".into(),
            head_repository: None,
            pull_requests: Vec::new(),
        }
    }
}

/// A job and its steps `(name, number, conclusion)`.
#[derive(Clone, Debug)]
pub struct FakeJob {
    pub id: u64,
    pub name: String,
    pub conclusion: Option<String>,
    pub steps: Vec<(String, u32, Option<String>)>,
    /// The attempt this job ran in; `None` is the run's latest attempt. Jobs of earlier
    /// attempts are listed only with `filter=all`, as GitHub does.
    pub run_attempt: Option<u32>,
}

impl FakeJob {
    /// The same job as it ran in an earlier `attempt`, with another id and `conclusion`.
    pub fn in_attempt(&self, id: u64, attempt: u32, conclusion: &str) -> FakeJob {
        let steps = self
            .steps
            .iter()
            .map(|(name, n, c)| {
                let c = match (conclusion, c.as_deref()) {
                    ("success", _) => Some("success".to_string()),
                    (_, c) => c.map(str::to_string),
                };
                (name.clone(), *n, c)
            })
            .collect();
        FakeJob {
            id,
            name: self.name.clone(),
            conclusion: Some(conclusion.into()),
            steps,
            run_attempt: Some(attempt),
        }
    }

    /// A job whose step `failing` failed and whose other steps passed.
    pub fn failing_at(id: u64, name: &str, steps: &[&str], failing: usize) -> FakeJob {
        let steps = steps
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let c = if i == failing { "failure" } else { "success" };
                (s.to_string(), i as u32 + 1, Some(c.to_string()))
            })
            .collect();
        FakeJob {
            id,
            name: name.into(),
            conclusion: Some("failure".into()),
            steps,
            run_attempt: None,
        }
    }
}

/// A pull request the fake knows.
#[derive(Clone, Debug)]
pub struct FakePull {
    pub number: u64,
    pub title: String,
    pub body: String,
    /// The head branch; `owner:branch` when it lives in a fork.
    pub head: String,
    pub head_sha: String,
    pub base: String,
    /// `open` or `closed`.
    pub state: String,
    pub merged: bool,
    pub draft: bool,
    pub labels: Vec<String>,
}

/// An answer the fake gives once, instead of (or after doing) the real work.
#[derive(Clone, Debug)]
pub struct Scripted {
    pub method: String,
    /// Matches when the request path (without the API prefix) ends with this.
    pub path_suffix: String,
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// Do the real work first (a POST that was applied, then failed: "502 but created").
    pub after_real: bool,
}

impl Scripted {
    pub fn new(method: &str, path_suffix: &str, status: u16, body: &str) -> Scripted {
        Scripted {
            method: method.into(),
            path_suffix: path_suffix.into(),
            status,
            headers: Vec::new(),
            body: body.into(),
            after_real: false,
        }
    }
    pub fn header(mut self, k: &str, v: &str) -> Scripted {
        self.headers.push((k.into(), v.into()));
        self
    }
    pub fn after_real(mut self) -> Scripted {
        self.after_real = true;
        self
    }
    /// The quoted secondary-limit 403 (rate-limits.json), with `retry-after`.
    pub fn secondary_limit(method: &str, path_suffix: &str, retry_after: Option<u64>) -> Scripted {
        let s = Scripted::new(method, path_suffix, 403, SECONDARY_BODY)
            .header("x-ratelimit-remaining", "4321");
        match retry_after {
            Some(secs) => s.header("retry-after", &secs.to_string()),
            None => s,
        }
    }
    /// The primary limit: `x-ratelimit-remaining: 0` until `reset` (epoch seconds).
    pub fn primary_limit(method: &str, path_suffix: &str, reset: u64) -> Scripted {
        Scripted::new(method, path_suffix, 403, PRIMARY_BODY)
            .header("x-ratelimit-remaining", "0")
            .header("x-ratelimit-limit", "5000")
            .header("x-ratelimit-used", "5000")
            .header("x-ratelimit-reset", &reset.to_string())
    }
    /// A 429 with `retry-after`.
    pub fn too_many(method: &str, path_suffix: &str, retry_after: u64) -> Scripted {
        Scripted::new(method, path_suffix, 429, SECONDARY_BODY)
            .header("retry-after", &retry_after.to_string())
    }
    /// A 5xx with GitHub's unicorn-style HTML body.
    pub fn server_error(method: &str, path_suffix: &str, status: u16) -> Scripted {
        Scripted::new(
            method,
            path_suffix,
            status,
            "<html><body>Unicorn! server error</body></html>",
        )
        .header("content-type", "text/html")
    }
}

pub const SECONDARY_BODY: &str = r#"{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID FA2D:87B1:8879E3:1176C87:6570B7E6.","documentation_url":"https://docs.github.com/free-pro-team@latest/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"}"#;
pub const PRIMARY_BODY: &str = r#"{"message":"API rate limit exceeded for user ID 1.","documentation_url":"https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting"}"#;
