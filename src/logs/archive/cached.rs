//! A cached run directory: `logs.zip` named by `jobs.json` (GitHub's list-jobs response),
//! and `jobs/<job_id>.txt` for the jobs the archive lacks (or all of them when the archive
//! is missing or unreadable).

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use super::scan::StepMeta;
use super::selection::{ApiRun, is_failure};
use super::{
    Limits, LogError, ReadOutcome, StepLog, io_err, merge, read_head, read_text, read_zip, sniff,
};

/// A cached run directory: `logs.zip` named by `jobs.json`, `jobs/<id>.txt` for jobs the
/// archive lacks.
pub(super) fn read_dir(dir: &Path, limits: &Limits) -> Result<ReadOutcome, LogError> {
    let mut out = ReadOutcome::default();
    let api = read_jobs_json(dir, &mut out.warnings);
    let zip_path = dir.join("logs.zip");
    let mut unmatched: Vec<usize> = api
        .as_ref()
        .map(|a| (0..a.jobs.len()).collect())
        .unwrap_or_default();
    let mut zip_error = None;
    if zip_path.is_file() {
        match read_zip_path(&zip_path, limits, api.as_ref()) {
            Ok((o, left)) => {
                merge(&mut out, o);
                unmatched = left;
            }
            Err(e @ LogError::Bomb { .. }) => return Err(e),
            Err(e) => zip_error = Some(e),
        }
    }
    let zip_read = zip_path.is_file() && zip_error.is_none();
    let texts = read_job_texts(dir, api.as_ref(), &unmatched, zip_read, limits, &mut out)?;
    if let Some(e) = zip_error {
        if out.steps.is_empty() {
            return Err(e);
        }
        out.warnings
            .insert(0, format!("{e}; used the job logs in jobs/ instead"));
    }
    if out.steps.is_empty() && texts == 0 && !zip_path.is_file() {
        return Err(LogError::NotALog {
            path: dir.display().to_string(),
            what: "the directory holds no logs.zip and no jobs/<job_id>.txt".into(),
        });
    }
    Ok(out)
}

pub(super) fn read_zip_path(
    path: &Path,
    limits: &Limits,
    api: Option<&ApiRun>,
) -> Result<(ReadOutcome, Vec<usize>), LogError> {
    let label = path.display().to_string();
    let mut file = File::open(path).map_err(io_err(path))?;
    let mut head = [0u8; sniff::HEAD];
    let n = read_head(&mut file, &mut head).map_err(io_err(path))?;
    match sniff::sniff(&head[..n]) {
        sniff::Kind::Zip => read_zip(&file, &label, limits, api),
        sniff::Kind::Empty => Err(LogError::NotALog {
            path: label,
            what: "the file is empty".into(),
        }),
        sniff::Kind::Other(what) => Err(LogError::NotALog { path: label, what }),
        sniff::Kind::Text => Err(LogError::NotALog {
            path: label,
            what: "this is text, not a ZIP".into(),
        }),
    }
}

pub(super) fn read_jobs_json(dir: &Path, warnings: &mut Vec<String>) -> Option<ApiRun> {
    let path = dir.join("jobs.json");
    let text = std::fs::read(&path).ok()?;
    match serde_json::from_slice::<ApiRun>(&text) {
        Ok(run) => Some(run),
        Err(e) => {
            warnings.push(format!(
                "{} is not GitHub's list-jobs response ({e}); steps are named from the archive",
                path.display()
            ));
            None
        }
    }
}

/// `jobs/<id>.txt` for the API jobs the archive lacked; without jobs.json, every
/// `jobs/*.txt` when there is no readable logs.zip.
pub(super) fn read_job_texts(
    dir: &Path,
    api: Option<&ApiRun>,
    unmatched: &[usize],
    zip_read: bool,
    limits: &Limits,
    out: &mut ReadOutcome,
) -> Result<usize, LogError> {
    let jobs_dir = dir.join("jobs");
    let mut files: Vec<(PathBuf, String, Option<bool>)> = Vec::new();
    match api {
        Some(api) => {
            for &i in unmatched {
                let job = &api.jobs[i];
                let path = jobs_dir.join(format!("{}.txt", job.id));
                if path.is_file() {
                    files.push((
                        path,
                        job.name.clone(),
                        is_failure(&job.conclusion).then_some(true),
                    ));
                } else if is_failure(&job.conclusion) {
                    out.warnings.push(format!(
                        "job {:?} ({}) failed but its log is not here; fetch it with `gh run view --job {} --log`",
                        job.name, job.id, job.id
                    ));
                }
            }
        }
        None if !zip_read => {
            let mut found: Vec<PathBuf> = std::fs::read_dir(&jobs_dir)
                .map(|rd| {
                    rd.filter_map(|e| e.ok().map(|e| e.path()))
                        .filter(|p| p.extension().is_some_and(|x| x == "txt"))
                        .collect()
                })
                .unwrap_or_default();
            found.sort();
            for p in found {
                let name = p
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default();
                files.push((p, name, None));
            }
        }
        None => {}
    }
    let count = files.len();
    for (path, job, known_failed) in files {
        let meta = StepMeta {
            job,
            step: StepLog::UNKNOWN_STEP.into(),
            number: None,
            source: path.display().to_string(),
            known_failed,
        };
        match read_path_text(&path, meta, limits) {
            Ok(o) => merge(out, o),
            Err(e) => out.warnings.push(format!("{e}")),
        }
    }
    Ok(count)
}

pub(super) fn read_path_text(
    path: &Path,
    meta: StepMeta,
    limits: &Limits,
) -> Result<ReadOutcome, LogError> {
    let mut file = File::open(path).map_err(io_err(path))?;
    let mut head = vec![0u8; sniff::HEAD];
    let n = read_head(&mut file, &mut head).map_err(io_err(path))?;
    head.truncate(n);
    match sniff::sniff(&head) {
        sniff::Kind::Text | sniff::Kind::Empty => {
            read_text(head.as_slice().chain(file), meta, limits).map_err(io_err(path))
        }
        sniff::Kind::Zip => Err(LogError::NotALog {
            path: path.display().to_string(),
            what: "this is a ZIP, not a job log".into(),
        }),
        sniff::Kind::Other(what) => Err(LogError::NotALog {
            path: path.display().to_string(),
            what,
        }),
    }
}
