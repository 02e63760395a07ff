//! Reads a ZIP's planned entries on a few threads (a big entry on two: inflate | scan) and
//! gathers the steps in plan order; a zip bomb stops everything, a corrupt entry is a warning.

use std::fs::File;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, mpsc};

use super::scan::{Scanner, StepMeta};
use super::selection::{ApiRun, Task, plan};
use super::zipread::{self, Budget, CHUNK, EntryMeta, InflateError, Inflater};
use super::{Limits, LogError, ReadOutcome, StepLog, io_err, names, rename_job, scan_limits};

/// Reads a ZIP; also returns the API jobs it had no log for.
pub(super) fn read_zip(
    file: &File,
    label: &str,
    limits: &Limits,
    api: Option<&ApiRun>,
) -> Result<(ReadOutcome, Vec<usize>), LogError> {
    let len = file.metadata().map_err(io_err(Path::new(label)))?.len();
    let listing = zipread::list(file, len, limits.max_inflated_bytes);
    let mut out = ReadOutcome {
        warnings: listing.warnings,
        ..ReadOutcome::default()
    };
    out.stats.entries = listing.entries.len() as u64;
    if listing.entries.is_empty() {
        let path = label.to_string();
        if !listing.recovered {
            let what = "the archive is empty: it holds no job logs".into();
            return Err(LogError::NotALog { path, what });
        }
        let what = match out.warnings.is_empty() {
            true => "no entry could be read".to_string(),
            false => out.warnings.join("; "),
        };
        return Err(match what.contains("max_inflated_bytes") {
            true => LogError::Bomb { path, what },
            false => LogError::Corrupt { path, what },
        });
    }
    let head = |i: usize| zipread::head(file, &listing.entries[i], 512);
    let mut plan = plan(&listing.entries, api, &head);
    out.warnings.append(&mut plan.warnings);
    if plan.tasks.is_empty() {
        let sample: Vec<&str> = listing
            .entries
            .iter()
            .take(5)
            .map(|e| e.name.as_str())
            .collect();
        return Err(LogError::NotALog {
            path: label.to_string(),
            what: format!(
                "the archive holds no job logs ({} entries: {})",
                listing.entries.len(),
                sample.join(", ")
            ),
        });
    }
    for t in &mut plan.tasks {
        t.meta.source = listing.entries[t.entry].name.clone();
    }
    run_tasks(file, label, &listing.entries, plan.tasks, limits, &mut out)?;
    Ok((out, plan.unmatched))
}

/// Compressed entries bigger than this are inflated on their own thread.
pub(super) const PIPELINE_MIN: u64 = 2 << 20;

pub(super) struct Done {
    steps: Vec<StepLog>,
    job_title: Option<String>,
    lines: u64,
    inflated: u64,
    warning: Option<String>,
}

/// Reads the planned entries on a few threads; results keep the plan's order.
pub(super) fn run_tasks(
    file: &File,
    label: &str,
    entries: &[EntryMeta],
    tasks: Vec<Task>,
    limits: &Limits,
    out: &mut ReadOutcome,
) -> Result<(), LogError> {
    let budget = Budget {
        max_total: limits.max_inflated_bytes,
        max_ratio: limits.max_ratio.max(1),
        inflated: AtomicU64::new(0),
    };
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 4)
        .min(tasks.len());
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let results: Mutex<Vec<Option<Result<Done, InflateError>>>> =
        Mutex::new((0..tasks.len()).map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                while !stop.load(Ordering::Relaxed) {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(task) = tasks.get(i) else { break };
                    let r = read_entry(
                        file,
                        &entries[task.entry],
                        task.meta.clone(),
                        limits,
                        &budget,
                    );
                    if matches!(r, Err(InflateError::Bomb(_))) {
                        stop.store(true, Ordering::Relaxed);
                    }
                    results.lock().unwrap_or_else(|p| p.into_inner())[i] = Some(r);
                }
            });
        }
    });
    let results = results.into_inner().unwrap_or_else(|p| p.into_inner());
    let mut titles: Vec<(String, String)> = Vec::new();
    for (task, r) in tasks.iter().zip(results) {
        match r {
            Some(Ok(done)) => {
                out.stats.entries_read += 1;
                out.stats.bytes_compressed += entries[task.entry].compressed;
                out.stats.bytes_inflated += done.inflated;
                out.stats.lines += done.lines;
                out.steps.extend(done.steps);
                if let Some(title) = done.job_title {
                    titles.push((task.meta.job.clone(), title));
                }
                out.warnings.extend(done.warning);
            }
            Some(Err(InflateError::Bomb(what))) => {
                return Err(LogError::Bomb {
                    path: label.to_string(),
                    what,
                });
            }
            Some(Err(e)) => out
                .warnings
                .push(format!("skipped {:?}: {e}", entries[task.entry].name)),
            None => {}
        }
    }
    // the runner's own name for a job (`Complete job name: …`) beats the sanitised one
    for (archive_name, title) in titles {
        if archive_name != title && names::match_score(&archive_name, &title) > 0 {
            rename_job(&mut out.steps, &archive_name, &title);
        }
    }
    Ok(())
}

/// Inflates and scans one entry. A corrupt tail becomes a warning; what came before is kept.
pub(super) fn read_entry(
    file: &File,
    entry: &EntryMeta,
    meta: StepMeta,
    limits: &Limits,
    budget: &Budget,
) -> Result<Done, InflateError> {
    let mut scanner = Scanner::new(meta, scan_limits(limits, false));
    let (ended, inflated) = match entry.compressed >= PIPELINE_MIN {
        true => inflate_pipelined(file, entry, budget, &mut scanner),
        false => inflate_inline(file, entry, budget, &mut scanner),
    };
    let warning = match ended {
        Ok(()) => None,
        Err(InflateError::Bomb(what)) => return Err(InflateError::Bomb(what)),
        Err(e) if inflated == 0 => return Err(e),
        Err(e) => Some(format!(
            "{:?}: {e}; kept the {inflated} bytes read before",
            entry.name
        )),
    };
    let lines = scanner.lines;
    let job_title = scanner.job_title.take();
    Ok(Done {
        job_title,
        steps: scanner.finish(),
        lines,
        inflated,
        warning,
    })
}

pub(super) fn inflate_inline(
    file: &File,
    entry: &EntryMeta,
    budget: &Budget,
    scanner: &mut Scanner,
) -> (Result<(), InflateError>, u64) {
    let mut inflater = Inflater::new(file, entry, budget);
    let mut buf = Vec::with_capacity(CHUNK);
    loop {
        match inflater.next_chunk(&mut buf) {
            Ok(true) => scanner.feed(&buf),
            Ok(false) => return (Ok(()), inflater.produced()),
            Err(e) => return (Err(e), inflater.produced()),
        }
    }
}

/// Inflates on a second thread while this one scans; a few chunk buffers go back and forth.
pub(super) fn inflate_pipelined(
    file: &File,
    entry: &EntryMeta,
    budget: &Budget,
    scanner: &mut Scanner,
) -> (Result<(), InflateError>, u64) {
    let (full_tx, full_rx) = mpsc::sync_channel::<Vec<u8>>(3);
    let (empty_tx, empty_rx) = mpsc::channel::<Vec<u8>>();
    std::thread::scope(|s| {
        let producer = s.spawn(move || {
            let mut inflater = Inflater::new(file, entry, budget);
            loop {
                let mut buf = empty_rx
                    .try_recv()
                    .unwrap_or_else(|_| Vec::with_capacity(CHUNK));
                match inflater.next_chunk(&mut buf) {
                    Ok(true) => {
                        if full_tx.send(buf).is_err() {
                            return (Ok(()), inflater.produced());
                        }
                    }
                    Ok(false) => return (Ok(()), inflater.produced()),
                    Err(e) => return (Err(e), inflater.produced()),
                }
            }
        });
        for buf in full_rx {
            scanner.feed(&buf);
            let _ = empty_tx.send(buf);
        }
        producer.join().unwrap_or_else(|_| {
            (
                Err(InflateError::Corrupt("the inflate thread failed".into())),
                0,
            )
        })
    })
}
