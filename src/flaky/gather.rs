//! Collecting the facts [`super::judge`] weighs: the run's other attempts
//! (`jobs?filter=all`), the other runs of the same workflow on the same commit
//! (`runs?head_sha=`), and the failure memory. Trouble fetching evidence is a warning,
//! never a reason to stop healing: without evidence the failure is judged on its own.

use crate::github::{Client, Job, RepoSlug, Run, RunFilter};
use crate::logs::Failure;
use crate::memory::Memory;

use super::{Facts, JobResult, Sibling};

/// At most this many other runs of the same commit are looked at.
pub const MAX_SIBLINGS: usize = 5;

/// The facts about `run`, and what could not be fetched.
pub async fn gather(
    gh: &Client,
    repo: &RepoSlug,
    run: &Run,
    memory: Option<&Memory>,
    failures: &[Failure],
) -> (Facts, Vec<String>) {
    let mut warnings = Vec::new();
    let mut facts = Facts::default();
    if run.run_attempt > 1 {
        match gh.list_jobs_all_attempts(repo, run.id).await {
            Ok(jobs) => facts.other_attempts = by_attempt(&jobs, run.run_attempt),
            Err(e) => warnings.push(format!("earlier attempts: {e}")),
        }
    }
    match siblings(gh, repo, run).await {
        Ok(s) => facts.siblings = s,
        Err(e) => warnings.push(format!("other runs of commit {}: {e}", short(run))),
    }
    if let Some(m) = memory {
        for f in failures.iter().filter(|f| f.needs_code_change) {
            match m.seen(&f.signature) {
                Ok(seen) => facts.memory.push((f.signature.clone(), seen)),
                Err(e) => warnings.push(e.to_string()),
            }
        }
    }
    (facts, warnings)
}

fn short(run: &Run) -> &str {
    run.head_sha.get(..7).unwrap_or(&run.head_sha)
}

/// Jobs of attempts other than `current`, grouped by attempt, oldest first.
fn by_attempt(jobs: &[Job], current: u32) -> Vec<(u32, Vec<JobResult>)> {
    let mut out: Vec<(u32, Vec<JobResult>)> = Vec::new();
    for job in jobs {
        let Some(attempt) = job.run_attempt.filter(|a| *a != current) else {
            continue;
        };
        let result = result_of(job);
        match out.iter_mut().find(|(a, _)| *a == attempt) {
            Some((_, v)) => v.push(result),
            None => out.push((attempt, vec![result])),
        }
    }
    out.sort_by_key(|(a, _)| *a);
    out
}

fn result_of(job: &Job) -> JobResult {
    JobResult {
        name: job.name.clone(),
        conclusion: job.conclusion.clone().unwrap_or_default(),
    }
}

/// Completed runs of the same workflow on the same commit, other than `run`.
async fn siblings(
    gh: &Client,
    repo: &RepoSlug,
    run: &Run,
) -> Result<Vec<Sibling>, crate::github::GithubError> {
    let filter = RunFilter {
        status: Some("completed".into()),
        head_sha: Some(run.head_sha.clone()),
        workflow: (run.workflow_id != 0).then(|| run.workflow_id.to_string()),
        per_page: 20,
        limit: 20,
        ..RunFilter::default()
    };
    let mut out = Vec::new();
    let others = gh.list_runs(repo, &filter).await?;
    let same_workflow = |r: &Run| r.workflow_id == run.workflow_id && r.path == run.path;
    for other in others
        .iter()
        .filter(|r| r.id != run.id && same_workflow(r))
        .take(MAX_SIBLINGS)
    {
        let jobs = gh.list_jobs(repo, other.id).await?;
        out.push(Sibling {
            run_id: other.id,
            event: other.event.clone(),
            jobs: jobs.iter().map(result_of).collect(),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(name: &str, attempt: u32, conclusion: &str) -> Job {
        serde_json::from_value(serde_json::json!({
            "id": attempt * 10, "name": name, "run_attempt": attempt, "conclusion": conclusion
        }))
        .unwrap()
    }

    #[test]
    fn jobs_are_grouped_by_attempt_without_the_current_one() {
        let jobs = [
            job("test", 3, "failure"),
            job("test", 1, "success"),
            job("lint", 1, "success"),
            job("test", 2, "failure"),
        ];
        let got = by_attempt(&jobs, 3);
        assert_eq!(got.iter().map(|(a, _)| *a).collect::<Vec<_>>(), [1, 2]);
        assert_eq!(got[0].1.len(), 2);
        assert_eq!(got[1].1[0].conclusion, "failure");
    }
}
