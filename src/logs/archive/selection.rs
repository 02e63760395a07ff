//! Decides what to read from a run-log ZIP: step files where a job's folder has them, the
//! job file otherwise (never both: the job file repeats its step files), and names from the
//! jobs API (`jobs.json`) when there is one (LOGS.md §2–3).

use std::collections::HashMap;

use serde::Deserialize;

use super::StepLog;
use super::names::{self, EntryKind};
use super::scan::StepMeta;
use super::zipread::EntryMeta;

/// GitHub's list-jobs response, as a cached run keeps it in `jobs.json`.
#[derive(Clone, Debug, Default, Deserialize)]
pub(super) struct ApiRun {
    #[serde(default)]
    pub(super) jobs: Vec<ApiJob>,
}

#[derive(Clone, Debug, Deserialize)]
pub(super) struct ApiJob {
    pub(super) id: u64,
    pub(super) name: String,
    #[serde(default)]
    pub(super) conclusion: Option<String>,
    #[serde(default)]
    pub(super) steps: Vec<ApiStep>,
}

#[derive(Clone, Debug, Deserialize)]
pub(super) struct ApiStep {
    pub(super) name: String,
    pub(super) number: u32,
    #[serde(default)]
    pub(super) conclusion: Option<String>,
}

pub(super) fn is_failure(conclusion: &Option<String>) -> bool {
    matches!(
        conclusion.as_deref(),
        Some("failure" | "timed_out" | "startup_failure")
    )
}

/// One entry to read and how to name what it holds.
#[derive(Clone, Debug)]
pub(super) struct Task {
    pub(super) entry: usize,
    pub(super) meta: StepMeta,
}

/// What to read from an archive.
#[derive(Debug, Default)]
pub(super) struct Plan {
    pub(super) tasks: Vec<Task>,
    pub(super) warnings: Vec<String>,
    /// API jobs no archive job matched (indices into `ApiRun::jobs`).
    pub(super) unmatched: Vec<usize>,
}

/// One job as the archive holds it: a job file, a step folder, or both.
#[derive(Debug)]
pub(super) struct ArchiveJob {
    pub(super) name: String,
    pub(super) ordinal: i64,
    pub(super) job_file: Option<usize>,
    /// (number, step name, entry)
    pub(super) steps: Vec<(u32, String, usize)>,
}

/// Decides which entries to read: step files where a job's folder has them, else the job
/// file; names from the jobs API when there is one.
pub(super) fn plan(
    entries: &[EntryMeta],
    api: Option<&ApiRun>,
    head: &dyn Fn(usize) -> Vec<u8>,
) -> Plan {
    let mut plan = Plan::default();
    let (job_files, folders) = sort_entries(entries, &mut plan.warnings);
    let mut jobs = pair_jobs(entries, job_files, folders, head);
    jobs.sort_by_key(|j| j.ordinal);
    let api_of = match_api(&jobs, api, &mut plan.unmatched);
    for (job, api_job) in jobs.iter().zip(api_of) {
        push_tasks(job, api_job, &mut plan.tasks);
    }
    plan
}

pub(super) type JobFiles = Vec<(usize, i64, String)>;
/// (number, step name, entry index)
pub(super) type StepFiles = Vec<(u32, String, usize)>;
pub(super) type Folders = Vec<(String, StepFiles)>;

pub(super) fn sort_entries(
    entries: &[EntryMeta],
    warnings: &mut Vec<String>,
) -> (JobFiles, Folders) {
    let mut job_files = Vec::new();
    let mut folders: Folders = Vec::new();
    let mut folder_index: HashMap<String, usize> = HashMap::new();
    for (i, e) in entries.iter().enumerate() {
        let kind = names::classify(&e.name);
        if matches!(kind, EntryKind::JobFile { .. } | EntryKind::StepFile { .. })
            && e.method != 0
            && e.method != 8
        {
            warnings.push(format!(
                "skipped {:?}: compressed with a method other than deflate",
                e.name
            ));
            continue;
        }
        match kind {
            EntryKind::JobFile { ordinal, job } => job_files.push((i, ordinal, job)),
            EntryKind::StepFile { job, number, step } => {
                let at = *folder_index.entry(job.clone()).or_insert_with(|| {
                    folders.push((job, Vec::new()));
                    folders.len() - 1
                });
                folders[at].1.push((number, step, i));
            }
            EntryKind::Unsafe => warnings.push(format!(
                "skipped the unsafe entry name {:?} (it points outside the archive)",
                e.name
            )),
            EntryKind::Ignored => {}
        }
    }
    for (_, steps) in &mut folders {
        steps.sort_by_key(|s| s.0);
    }
    (job_files, folders)
}

/// Matches job files to step folders by name. When several job files want one folder
/// (duplicate names), the one that starts like the folder's first step file wins (a job
/// file is its step files one after the other), else the one closest in size.
pub(super) fn pair_jobs(
    entries: &[EntryMeta],
    job_files: JobFiles,
    folders: Folders,
    head: &dyn Fn(usize) -> Vec<u8>,
) -> Vec<ArchiveJob> {
    let mut claims: Vec<Vec<usize>> = vec![Vec::new(); folders.len()];
    for (j, (_, _, name)) in job_files.iter().enumerate() {
        let best = folders
            .iter()
            .enumerate()
            .map(|(f, (folder, _))| {
                (
                    names::match_score(folder, name).max(names::match_score(name, folder)),
                    f,
                )
            })
            .filter(|(score, _)| *score > 0)
            .max_by_key(|(score, f)| (*score, std::cmp::Reverse(*f)));
        if let Some((_, f)) = best {
            claims[f].push(j);
        }
    }
    let mut owner: Vec<Option<usize>> = vec![None; job_files.len()];
    for (f, claimants) in claims.iter().enumerate() {
        let folder_size: u64 = folders[f].1.iter().map(|s| entries[s.2].size).sum();
        let first_step = match (claimants.len() > 1, folders[f].1.first()) {
            (true, Some(step)) => head(step.2),
            _ => Vec::new(),
        };
        let starts_alike =
            |j: usize| !first_step.is_empty() && same_start(&head(job_files[j].0), &first_step);
        let winner = claimants.iter().copied().min_by_key(|&j| {
            (
                !starts_alike(j),
                entries[job_files[j].0].size.abs_diff(folder_size),
            )
        });
        if let Some(j) = winner {
            owner[j] = Some(f);
        }
    }
    let mut folders: Vec<Option<(String, StepFiles)>> = folders.into_iter().map(Some).collect();
    let mut jobs = Vec::new();
    for (j, (entry, ordinal, name)) in job_files.into_iter().enumerate() {
        let steps = owner[j]
            .and_then(|f| folders[f].take())
            .map(|(_, s)| s)
            .unwrap_or_default();
        jobs.push(ArchiveJob {
            name,
            ordinal,
            job_file: Some(entry),
            steps,
        });
    }
    for (name, steps) in folders.into_iter().flatten() {
        if !steps.is_empty() {
            jobs.push(ArchiveJob {
                name,
                ordinal: i64::MAX,
                job_file: None,
                steps,
            });
        }
    }
    jobs
}

/// Two logs start with the same bytes (BOMs aside) as far as both go.
pub(super) fn same_start(a: &[u8], b: &[u8]) -> bool {
    let strip = |x: &[u8]| {
        x.strip_prefix(crate::logs::clean::BOM)
            .unwrap_or(x)
            .to_vec()
    };
    let (a, b) = (strip(a), strip(b));
    let n = a.len().min(b.len());
    n > 0 && a[..n] == b[..n]
}

/// The API job each archive job is, best name match first; fills `unmatched`.
pub(super) fn match_api<'a>(
    jobs: &[ArchiveJob],
    api: Option<&'a ApiRun>,
    unmatched: &mut Vec<usize>,
) -> Vec<Option<&'a ApiJob>> {
    let Some(api) = api else {
        return vec![None; jobs.len()];
    };
    let mut used = vec![false; api.jobs.len()];
    let mut out = vec![None; jobs.len()];
    for min_score in [3u8, 2, 1] {
        for (j, job) in jobs.iter().enumerate() {
            if out[j].is_some() {
                continue;
            }
            let hit =
                api.jobs.iter().enumerate().find(|(a, aj)| {
                    !used[*a] && names::match_score(&job.name, &aj.name) >= min_score
                });
            if let Some((a, aj)) = hit {
                used[a] = true;
                out[j] = Some(aj);
            }
        }
    }
    unmatched.extend(
        used.iter()
            .enumerate()
            .filter(|(_, u)| !**u)
            .map(|(a, _)| a),
    );
    out
}

pub(super) fn push_tasks(job: &ArchiveJob, api: Option<&ApiJob>, tasks: &mut Vec<Task>) {
    let job_name = api.map_or_else(|| job.name.clone(), |a| a.name.clone());
    if job.steps.is_empty() {
        if let Some(entry) = job.job_file {
            let known_failed = api
                .is_some_and(|a| is_failure(&a.conclusion))
                .then_some(true);
            let meta = StepMeta {
                job: job_name,
                step: StepLog::UNKNOWN_STEP.into(),
                number: None,
                source: String::new(),
                known_failed,
            };
            tasks.push(Task { entry, meta });
        }
        return;
    }
    for (number, step, entry) in &job.steps {
        let api_step = api.and_then(|a| a.steps.iter().find(|s| s.number == *number));
        let meta = StepMeta {
            job: job_name.clone(),
            step: api_step.map_or_else(|| step.clone(), |s| s.name.clone()),
            number: Some(*number),
            source: String::new(),
            known_failed: api_step
                .is_some_and(|s| is_failure(&s.conclusion))
                .then_some(true),
        };
        tasks.push(Task {
            entry: *entry,
            meta,
        });
    }
}
