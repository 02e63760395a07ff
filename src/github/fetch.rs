//! Fetching one failed run into the state dir's cache: `run.json`, `jobs.json`, `logs.zip`,
//! and, when the ZIP is missing or lacks a failed job, that job's own log
//! (`jobs/<job_id>.txt`), as gh does (LOGS.md §2; cli/cli#10853, up to 25 jobs).
//!
//! A run whose ZIP is already cached for the same attempt is not downloaded again.

use std::path::PathBuf;

use super::client::Client;
use super::error::GithubError;
use super::repo::RepoSlug;
use super::types::{Job, Run};
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

impl From<FetchError> for crate::error::Error {
    fn from(e: FetchError) -> Self {
        match e {
            FetchError::Github(e) => e.into(),
            FetchError::Store(e) => e.into(),
        }
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

/// Caches `run` (jobs, ZIP, missing job logs) in `store`.
pub async fn fetch_run(
    client: &Client,
    repo: &RepoSlug,
    run: &Run,
    store: &Store,
) -> Result<FetchedRun, FetchError> {
    let cached_same_attempt = store
        .load_run(run.id)?
        .is_some_and(|old| old.run_attempt == run.run_attempt);
    let jobs = client.list_jobs(repo, run.id).await?;
    store.save_run(run)?;
    store.save_jobs(run.id, &jobs)?;
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
    let failed: Vec<&Job> = jobs
        .iter()
        .filter(|j| j.conclusion.as_deref() == Some("failure"))
        .collect();
    if failed.len() > MAX_JOB_LOG_FETCHES {
        out.warnings.push(format!(
            "too many missing logs: {} failed jobs, fetching the first {MAX_JOB_LOG_FETCHES}",
            failed.len()
        ));
    }
    for job in failed.into_iter().take(MAX_JOB_LOG_FETCHES) {
        let dest = store.job_log_path(run_id, job.id);
        match client.download_job_log(repo, job.id, &dest).await {
            Ok(_) => out.job_logs.push(dest),
            Err(GithubError::LogNotFound { what }) => {
                out.warnings.push(format!("{what}: log not found"))
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}
