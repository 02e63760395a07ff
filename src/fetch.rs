//! Fetching a run and caching it: orchestration above `github` (which downloads) and
//! `store` (which keeps files). One failed run goes into the state dir's cache as
//! `run.json`, `jobs.json`, `logs.zip`, and, when the ZIP is missing or lacks a failed
//! job, that job's own log (`jobs/<job_id>.txt`), as gh does (LOGS.md §2; cli/cli#10853,
//! up to 25 jobs). The last green run of the same workflow is fetched the same way, for
//! triage to subtract.
//!
//! A run whose ZIP is already cached for the same attempt is not downloaded again.

use std::path::PathBuf;

use crate::error::Hint;
use crate::github::{Client, GithubError, Job, JobList, RepoSlug, Run, RunFilter};
use crate::store::{Store, StoreError};

/// gh's `maxAPILogFetchers`: beyond this many per-job downloads, give up on the rest.
pub const MAX_JOB_LOG_FETCHES: usize = 25;

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error(transparent)]
    Github(#[from] GithubError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Hint for FetchError {
    fn hint(&self) -> String {
        match self {
            FetchError::Github(e) => e.hint(),
            FetchError::Store(e) => e.hint(),
        }
    }
}

impl From<FetchError> for crate::error::Error {
    fn from(e: FetchError) -> Self {
        crate::error::Error::from_stage(crate::error::exit::ERROR, e)
    }
}

/// What is in the cache for a run after [`fetch_run`].
#[derive(Clone, Debug)]
pub struct FetchedRun {
    /// `cache/runs/<id>`: pass it to the archive reader (`LogSource::Dir`).
    pub dir: PathBuf,
    pub run: Run,
    pub jobs: Vec<Job>,
    /// `None` when GitHub had no ZIP (404) and only job logs could be fetched.
    pub logs_zip: Option<PathBuf>,
    pub job_logs: Vec<PathBuf>,
    /// The ZIP came from an earlier `selfheal run`.
    pub from_cache: bool,
    /// What could not be fetched, for the report.
    pub warnings: Vec<String>,
}

/// Writes `run.json` (GitHub's field names) and `jobs.json` as `{total_count, jobs}`, the
/// shape of GitHub's answer, so `selfheal offline` reads the directory as it would a ZIP.
pub fn save_run(store: &Store, run: &Run, jobs: &[Job]) -> Result<(), StoreError> {
    store.save_cached(run.id, "run.json", run)?;
    let list = JobList {
        total_count: jobs.len() as u64,
        jobs: jobs.to_vec(),
    };
    store.save_cached(run.id, "jobs.json", &list)?;
    Ok(())
}

/// The cached run, if any.
pub fn load_run(store: &Store, run_id: u64) -> Result<Option<Run>, StoreError> {
    store.load_cached(run_id, "run.json")
}

/// The cached jobs, if any.
pub fn load_jobs(store: &Store, run_id: u64) -> Result<Option<Vec<Job>>, StoreError> {
    let list: Option<JobList> = store.load_cached(run_id, "jobs.json")?;
    Ok(list.map(|l| l.jobs))
}

/// Caches `run` (jobs, ZIP, missing job logs) in `store`.
pub async fn fetch_run(
    client: &Client,
    repo: &RepoSlug,
    run: &Run,
    store: &Store,
) -> Result<FetchedRun, FetchError> {
    let cached_same_attempt =
        load_run(store, run.id)?.is_some_and(|old| old.run_attempt == run.run_attempt);
    let jobs = client.list_jobs(repo, run.id).await?;
    save_run(store, run, &jobs)?;
    let mut out = FetchedRun {
        dir: store.run_dir(run.id),
        run: run.clone(),
        jobs: jobs.clone(),
        logs_zip: None,
        job_logs: Vec::new(),
        from_cache: false,
        warnings: Vec::new(),
    };
    match store.cached_logs(run.id).filter(|_| cached_same_attempt) {
        Some(zip) => {
            out.logs_zip = Some(zip);
            out.from_cache = true;
        }
        None => fetch_zip(client, repo, run, store, &mut out).await?,
    }
    if out.logs_zip.is_none() {
        fetch_job_logs(client, repo, run.id, &jobs, store, &mut out).await?;
    }
    Ok(out)
}

async fn fetch_zip(
    client: &Client,
    repo: &RepoSlug,
    run: &Run,
    store: &Store,
    out: &mut FetchedRun,
) -> Result<(), FetchError> {
    let dest = store.logs_zip_path(run.id);
    match client
        .download_run_logs(repo, run.id, Some(run.run_attempt), &dest)
        .await
    {
        Ok(_) => out.logs_zip = Some(dest),
        Err(GithubError::LogNotFound { what }) => {
            out.warnings.push(format!(
                "{what}: log not found; fetching failed jobs' logs instead"
            ));
        }
        Err(e) => return Err(e.into()),
    }
    Ok(())
}

/// Downloads the logs of failed jobs, up to [`MAX_JOB_LOG_FETCHES`].
async fn fetch_job_logs(
    client: &Client,
    repo: &RepoSlug,
    run_id: u64,
    jobs: &[Job],
    store: &Store,
    out: &mut FetchedRun,
) -> Result<(), FetchError> {
    let failed = jobs
        .iter()
        .filter(|j| j.conclusion.as_deref() == Some("failure"));
    let (paths, warnings) = download_job_logs(client, repo, run_id, failed, store).await?;
    out.job_logs.extend(paths);
    out.warnings.extend(warnings);
    Ok(())
}

/// Downloads `jobs`' logs into the run's cache, up to [`MAX_JOB_LOG_FETCHES`]: the paths
/// written, and what could not be fetched.
async fn download_job_logs<'a>(
    client: &Client,
    repo: &RepoSlug,
    run_id: u64,
    jobs: impl Iterator<Item = &'a Job>,
    store: &Store,
) -> Result<(Vec<PathBuf>, Vec<String>), FetchError> {
    let jobs: Vec<&Job> = jobs.collect();
    let (mut paths, mut warnings) = (Vec::new(), Vec::new());
    if jobs.len() > MAX_JOB_LOG_FETCHES {
        warnings.push(format!(
            "too many missing logs: {} failed jobs, fetching the first {MAX_JOB_LOG_FETCHES}",
            jobs.len()
        ));
    }
    for job in jobs.into_iter().take(MAX_JOB_LOG_FETCHES) {
        let dest = store.job_log_path(run_id, job.id);
        match client.download_job_log(repo, job.id, &dest).await {
            Ok(_) => paths.push(dest),
            Err(GithubError::LogNotFound { what }) => {
                warnings.push(format!("{what}: log not found"))
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok((paths, warnings))
}

/// The last green run [`fetch_green`] found and cached.
#[derive(Clone, Debug, serde::Serialize)]
pub struct GreenRun {
    pub run_id: u64,
    pub head_branch: Option<String>,
    pub html_url: String,
    /// `cache/runs/<id>` of the green run.
    #[serde(skip)]
    pub dir: PathBuf,
}

/// The last successful run of `failed`'s workflow on `branch`.
pub async fn last_green_run(
    client: &Client,
    repo: &RepoSlug,
    failed: &Run,
    branch: &str,
) -> Result<Option<Run>, GithubError> {
    let filter = RunFilter {
        status: Some("success".into()),
        branch: Some(branch.to_string()),
        workflow: Some(workflow_key(failed)),
        per_page: 5,
        limit: 5,
        ..RunFilter::default()
    };
    let runs = client.list_runs(repo, &filter).await?;
    Ok(runs
        .into_iter()
        .find(|r| r.id != failed.id && r.conclusion.as_deref() == Some("success")))
}

/// The workflow to list runs of: its id, else its file name.
fn workflow_key(run: &Run) -> String {
    if run.workflow_id != 0 {
        run.workflow_id.to_string()
    } else {
        run.workflow_file().to_string()
    }
}

/// Finds and caches the last green run of `failed`'s workflow (its ZIP, or the logs of
/// the jobs named in `job_names` when there is no ZIP). `None`: there is no green run.
pub async fn fetch_green(
    client: &Client,
    repo: &RepoSlug,
    failed: &Run,
    job_names: &[String],
    store: &Store,
) -> Result<Option<GreenRun>, FetchError> {
    let mut green = None;
    if let Some(branch) = &failed.head_branch {
        green = last_green_run(client, repo, failed, branch).await?;
    }
    if green.is_none() {
        let default = client.get_repo(repo).await?.default_branch;
        if failed.head_branch.as_deref() != Some(default.as_str()) {
            green = last_green_run(client, repo, failed, &default).await?;
        }
    }
    let Some(run) = green else { return Ok(None) };
    let jobs = client.list_jobs(repo, run.id).await?;
    save_run(store, &run, &jobs)?;
    if store.cached_logs(run.id).is_none() {
        let dest = store.logs_zip_path(run.id);
        match client.download_run_logs(repo, run.id, None, &dest).await {
            Ok(_) => {}
            Err(GithubError::LogNotFound { .. }) => {
                fetch_named_job_logs(client, repo, run.id, &jobs, job_names, store).await?
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(Some(GreenRun {
        run_id: run.id,
        head_branch: run.head_branch.clone(),
        html_url: run.html_url.clone(),
        dir: store.run_dir(run.id),
    }))
}

/// The logs of the green run's jobs that the failed run's jobs are named like; a green
/// log that is gone only means less to subtract.
async fn fetch_named_job_logs(
    client: &Client,
    repo: &RepoSlug,
    run_id: u64,
    jobs: &[Job],
    job_names: &[String],
    store: &Store,
) -> Result<(), FetchError> {
    let wanted = jobs.iter().filter(|j| {
        job_names
            .iter()
            .any(|n| crate::logs::archive::same_job_name(n, &j.name))
    });
    download_job_logs(client, repo, run_id, wanted, store).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_and_jobs_round_trip_in_the_offline_layout() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join(".selfheal")).unwrap();
        let run: Run = serde_json::from_value(serde_json::json!({
            "id": 42, "name": null, "head_branch": "main", "head_sha": "abc", "event": "push",
            "status": "completed", "conclusion": "failure", "run_attempt": 2,
            "path": ".github/workflows/ci.yml"
        }))
        .unwrap();
        let jobs: Vec<Job> = serde_json::from_str(
            r#"[{"id":7,"name":"test","steps":[{"name":"Run","number":3,"conclusion":"failure"}]}]"#,
        )
        .unwrap();
        save_run(&store, &run, &jobs).unwrap();
        assert_eq!(load_run(&store, 42).unwrap(), Some(run));
        assert_eq!(load_jobs(&store, 42).unwrap(), Some(jobs));
        let d = store.run_dir(42);
        assert!(d.join("run.json").is_file() && d.join("jobs.json").is_file());
        let raw: serde_json::Value =
            serde_json::from_slice(&std::fs::read(d.join("jobs.json")).unwrap()).unwrap();
        assert_eq!(raw["total_count"], 1);
        assert_eq!(load_run(&store, 1).unwrap(), None);
    }
}
