//! Patches waiting for a human, under `<state>/pending/<id>/`.
//!
//! Each entry holds `meta.json` (versioned), `diagnosis.md`, `patch.diff` (plain,
//! `git apply`-compatible), `patch.json` (the [`Patch`]) and, for a patch of a failed
//! GitHub run, `origin.json` (what publishing it needs; written by `run`, read by `approve`). An entry is written in a
//! hidden temp directory and renamed into place, so readers never see half of one.
//! Rejected and applied entries leave a line in `pending/history.jsonl`. An exclusive lock
//! file (`create_new`, holding the pid) keeps two `selfheal approve` processes from
//! applying the same patch twice; a lock whose process is gone is taken over.

use std::collections::BTreeMap;
use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use crate::date::rfc3339;
use crate::patch::apply::{process_alive, sha256_hex};
use crate::patch::{Patch, diff_stats, git_diff};
use crate::store::write_atomic;

/// The on-disk format version of `meta.json` and `history.jsonl` lines.
pub const PENDING_VERSION: u32 = 1;

const META: &str = "meta.json";
const DIAGNOSIS: &str = "diagnosis.md";
const DIFF: &str = "patch.diff";
const PATCH: &str = "patch.json";
const ORIGIN: &str = "origin.json";
const LOCK: &str = "lock";
const HISTORY: &str = "history.jsonl";
/// A lock file still empty after this long was left by a process that died while taking it.
const EMPTY_LOCK_GRACE: Duration = Duration::from_secs(10);

/// What went wrong with the queue; each message says what to do.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    #[error("no pending patch {id}")]
    NotFound { id: String },
    #[error("{} is corrupt: {why}; reject the patch or delete its directory", path.display())]
    Corrupt { path: PathBuf, why: String },
    #[error("{} has format version {found}, this selfheal reads version {PENDING_VERSION}; upgrade selfheal", path.display())]
    Version { path: PathBuf, found: u32 },
    #[error("pending patch {id} is being handled by process {pid}; wait for it to finish")]
    Locked { id: String, pid: u32 },
}

impl crate::error::Hint for QueueError {
    fn hint(&self) -> String {
        match self {
            QueueError::Io { .. } => {
                "check that the state directory ([state] dir, --state-dir) is writable".into()
            }
            QueueError::NotFound { .. } => {
                "run `selfheal approve` to list the pending patches".into()
            }
            // The other messages end with the next step.
            _ => String::new(),
        }
    }
}

impl From<QueueError> for crate::error::Error {
    fn from(e: QueueError) -> Self {
        crate::error::Error::from_stage(crate::error::exit::ERROR, e)
    }
}

fn io_err<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> QueueError + 'a {
    move |source| QueueError::Io {
        action,
        path: path.to_path_buf(),
        source,
    }
}

/// `meta.json`: what the queue shows without reading the patch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingMeta {
    pub version: u32,
    pub id: String,
    /// `owner/name` (or the local path) the patch is for.
    pub repo: String,
    pub run_id: Option<u64>,
    pub failure_summary: String,
    pub signature: String,
    /// RFC 3339, UTC.
    pub created_at: String,
    pub risk: u32,
    /// SHA-256 of each touched file as the patch expects it; `None`: must not exist yet.
    pub base_hashes: BTreeMap<String, Option<String>>,
    /// `1 file changed, 1 insertion(+), 1 deletion(-)`.
    pub stats: String,
}

/// What the pipeline hands over when it defers a patch.
#[derive(Debug, Clone)]
pub struct NewPending<'a> {
    pub repo: &'a str,
    pub run_id: Option<u64>,
    pub failure_summary: &'a str,
    pub signature: &'a str,
    pub risk: u32,
    pub diagnosis: &'a str,
    pub patch: &'a Patch,
}

/// A loaded entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    pub meta: PendingMeta,
    pub diagnosis: String,
    pub diff: String,
    pub patch: Patch,
    /// Where the patch came from when it was a failed run's (`origin.json`), as written.
    pub origin: Option<serde_json::Value>,
}

impl Pending {
    /// Paths whose content in `repo` is no longer what the patch was made against.
    pub fn tree_moved(&self, repo: &Path) -> Vec<String> {
        self.meta
            .base_hashes
            .iter()
            .filter(|(path, expected)| current_hash(repo, path) != **expected)
            .map(|(path, _)| path.clone())
            .collect()
    }
}

fn current_hash(repo: &Path, rel: &str) -> Option<String> {
    let bytes = fs::read(repo.join(rel)).ok()?;
    Some(match String::from_utf8(bytes) {
        Ok(text) => sha256_hex(&text),
        Err(_) => "not-utf8".into(),
    })
}

/// One line of `history.jsonl`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub version: u32,
    pub id: String,
    pub repo: String,
    pub signature: String,
    /// `rejected` or `applied`.
    pub outcome: String,
    pub reason: String,
    pub at: String,
}

fn pending_dir(state_dir: &Path) -> PathBuf {
    state_dir.join("pending")
}

/// Stores a deferred patch and returns its metadata (with the new id).
pub fn save_pending(state_dir: &Path, new: &NewPending<'_>) -> Result<PendingMeta, QueueError> {
    let root = pending_dir(state_dir);
    fs::create_dir_all(&root).map_err(io_err("create", &root))?;
    let now = SystemTime::now();
    let patch_json = serde_json::to_string_pretty(new.patch).expect("patch serializes");
    let id = unique_id(&root, now, &format!("{}{patch_json}", new.signature));
    let meta = PendingMeta {
        version: PENDING_VERSION,
        id: id.clone(),
        repo: new.repo.into(),
        run_id: new.run_id,
        failure_summary: new.failure_summary.into(),
        signature: new.signature.into(),
        created_at: rfc3339(now),
        risk: new.risk,
        base_hashes: new
            .patch
            .files
            .iter()
            .map(|f| (f.path.clone(), f.old.as_deref().map(sha256_hex)))
            .collect(),
        stats: diff_stats(new.patch).to_string(),
    };
    let tmp = root.join(format!(".tmp-{id}-{}", std::process::id()));
    let written = write_entry(
        &tmp,
        &meta,
        new.diagnosis,
        &git_diff(new.patch),
        &patch_json,
    )
    .and_then(|()| fs::rename(&tmp, root.join(&id)).map_err(io_err("rename", &tmp)));
    if written.is_err() {
        let _ = fs::remove_dir_all(&tmp);
    }
    written.map(|()| meta)
}

fn write_entry(
    dir: &Path,
    meta: &PendingMeta,
    diagnosis: &str,
    diff: &str,
    patch_json: &str,
) -> Result<(), QueueError> {
    fs::create_dir_all(dir).map_err(io_err("create", dir))?;
    let meta_json = serde_json::to_string_pretty(meta).expect("meta serializes");
    for (name, body) in [
        (META, meta_json.as_str()),
        (DIAGNOSIS, diagnosis),
        (DIFF, diff),
        (PATCH, patch_json),
    ] {
        let path = dir.join(name);
        write_atomic(&path, body.as_bytes()).map_err(io_err("write", &path))?;
    }
    Ok(())
}

/// `20261124-105800-1a2b3c4d`, with `-2`, `-3`, … if that directory exists.
fn unique_id(root: &Path, now: SystemTime, content: &str) -> String {
    let stamp = rfc3339(now)
        .replace(['-', ':'], "")
        .replace('T', "-")
        .trim_end_matches('Z')
        .to_string();
    let base = format!("{stamp}-{}", &sha256_hex(content)[..8]);
    let mut id = base.clone();
    let mut n = 2;
    while root.join(&id).exists() {
        id = format!("{base}-{n}");
        n += 1;
    }
    id
}

/// Every pending entry, oldest first.
pub fn list_pending(state_dir: &Path) -> Result<Vec<PendingMeta>, QueueError> {
    let root = pending_dir(state_dir);
    let entries = match fs::read_dir(&root) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io_err("read", &root)(e)),
    };
    let mut metas = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || !entry.path().is_dir() {
            continue;
        }
        metas.push(read_meta(&entry.path())?);
    }
    metas.sort_by(|a, b| (&a.created_at, &a.id).cmp(&(&b.created_at, &b.id)));
    Ok(metas)
}

fn read_meta(dir: &Path) -> Result<PendingMeta, QueueError> {
    let path = dir.join(META);
    let text = fs::read_to_string(&path).map_err(io_err("read", &path))?;
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| QueueError::Corrupt {
            path: path.clone(),
            why: e.to_string(),
        })?;
    let found = value
        .get("version")
        .and_then(serde_json::Value::as_u64)
        .unwrap_or(0) as u32;
    if found != PENDING_VERSION {
        return Err(QueueError::Version { path, found });
    }
    serde_json::from_value(value).map_err(|e| QueueError::Corrupt {
        path,
        why: e.to_string(),
    })
}

/// Loads entry `id` in full.
pub fn load_pending(state_dir: &Path, id: &str) -> Result<Pending, QueueError> {
    let dir = entry_dir(state_dir, id)?;
    let meta = read_meta(&dir)?;
    let read = |name: &str| {
        let path = dir.join(name);
        fs::read_to_string(&path).map_err(|source| QueueError::Io {
            action: "read",
            path,
            source,
        })
    };
    let patch_path = dir.join(PATCH);
    let patch: Patch = serde_json::from_str(&read(PATCH)?).map_err(|e| QueueError::Corrupt {
        path: patch_path,
        why: e.to_string(),
    })?;
    let origin = match fs::read_to_string(dir.join(ORIGIN)) {
        Ok(text) => Some(
            serde_json::from_str(&text).map_err(|e| QueueError::Corrupt {
                path: dir.join(ORIGIN),
                why: e.to_string(),
            })?,
        ),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(io_err("read", &dir.join(ORIGIN))(e)),
    };
    Ok(Pending {
        meta,
        diagnosis: read(DIAGNOSIS)?,
        diff: read(DIFF)?,
        patch,
        origin,
    })
}

/// Ties entry `id` to the failed run it repairs: sets `run_id` in its meta and writes
/// `origin` (what publishing it needs) beside it, each file atomically.
pub fn set_origin(
    state_dir: &Path,
    id: &str,
    run_id: u64,
    origin: &serde_json::Value,
) -> Result<(), QueueError> {
    let dir = entry_dir(state_dir, id)?;
    let mut meta = read_meta(&dir)?;
    meta.run_id = Some(run_id);
    let origin_path = dir.join(ORIGIN);
    let body = serde_json::to_string_pretty(origin).expect("origin serializes");
    write_atomic(&origin_path, body.as_bytes()).map_err(io_err("write", &origin_path))?;
    let meta_path = dir.join(META);
    let meta_json = serde_json::to_string_pretty(&meta).expect("meta serializes");
    write_atomic(&meta_path, meta_json.as_bytes()).map_err(io_err("write", &meta_path))
}

/// Whether entry `id` is still waiting.
pub fn is_pending(state_dir: &Path, id: &str) -> bool {
    entry_dir(state_dir, id).is_ok()
}

/// The directory of entry `id`; refuses ids that are not plain names.
fn entry_dir(state_dir: &Path, id: &str) -> Result<PathBuf, QueueError> {
    let plain = !id.is_empty()
        && !id.starts_with('.')
        && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    let dir = pending_dir(state_dir).join(id);
    if !plain || !dir.join(META).is_file() {
        return Err(QueueError::NotFound { id: id.into() });
    }
    Ok(dir)
}

/// Deletes entry `id` without a history line.
pub fn remove_pending(state_dir: &Path, id: &str) -> Result<(), QueueError> {
    let dir = entry_dir(state_dir, id)?;
    fs::remove_dir_all(&dir).map_err(io_err("remove", &dir))
}

/// Records `id` as rejected with `reason` in the history, then deletes it.
pub fn mark_rejected(state_dir: &Path, id: &str, reason: &str) -> Result<(), QueueError> {
    close(state_dir, id, "rejected", reason)
}

/// Records `id` as applied in the history (with `note`, e.g. the pull request's URL),
/// then deletes it.
pub fn mark_applied(state_dir: &Path, id: &str, note: &str) -> Result<(), QueueError> {
    close(state_dir, id, "applied", note)
}

fn close(state_dir: &Path, id: &str, outcome: &str, reason: &str) -> Result<(), QueueError> {
    let meta = read_meta(&entry_dir(state_dir, id)?)?;
    let entry = HistoryEntry {
        version: PENDING_VERSION,
        id: id.into(),
        repo: meta.repo,
        signature: meta.signature,
        outcome: outcome.into(),
        reason: reason.into(),
        at: rfc3339(SystemTime::now()),
    };
    append_history(state_dir, &entry)?;
    remove_pending(state_dir, id)
}

fn append_history(state_dir: &Path, entry: &HistoryEntry) -> Result<(), QueueError> {
    let path = pending_dir(state_dir).join(HISTORY);
    let mut line = serde_json::to_string(entry).expect("history serializes");
    line.push('\n');
    let mut file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(io_err("open", &path))?;
    file.write_all(line.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(io_err("append to", &path))
}

/// Every history line, oldest first.
pub fn read_history(state_dir: &Path) -> Result<Vec<HistoryEntry>, QueueError> {
    let path = pending_dir(state_dir).join(HISTORY);
    let text = match fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io_err("read", &path)(e)),
    };
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            serde_json::from_str(l).map_err(|e| QueueError::Corrupt {
                path: path.clone(),
                why: e.to_string(),
            })
        })
        .collect()
}

/// Holds the exclusive right to act on one pending entry; released on drop.
#[derive(Debug)]
pub struct PendingLock {
    path: PathBuf,
}

impl Drop for PendingLock {
    fn drop(&mut self) {
        // The entry may be gone already (applied or rejected while locked).
        let _ = fs::remove_file(&self.path);
    }
}

/// Takes the lock on entry `id`. Fails with [`QueueError::Locked`] while another live
/// process holds it, and with [`QueueError::NotFound`] once the entry has been handled.
/// Taking over a stale lock is best-effort: two processes racing for the same dead
/// holder's lock is not guarded against.
pub fn lock_pending(state_dir: &Path, id: &str) -> Result<PendingLock, QueueError> {
    let path = entry_dir(state_dir, id)?.join(LOCK);
    for _ in 0..2 {
        match OpenOptions::new().write(true).create_new(true).open(&path) {
            Ok(mut file) => {
                let pid = std::process::id().to_string();
                file.write_all(pid.as_bytes())
                    .and_then(|()| file.sync_all())
                    .map_err(io_err("write", &path))?;
                return Ok(PendingLock { path });
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                if let Some(pid) = live_holder(&path) {
                    return Err(QueueError::Locked { id: id.into(), pid });
                }
                let _ = fs::remove_file(&path);
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(QueueError::NotFound { id: id.into() });
            }
            Err(e) => return Err(io_err("create", &path)(e)),
        }
    }
    Err(QueueError::Locked {
        id: id.into(),
        pid: 0,
    })
}

/// The pid holding the lock if it is alive; `None` when the lock is stale.
fn live_holder(path: &Path) -> Option<u32> {
    let text = fs::read_to_string(path).ok()?;
    match text.trim().parse::<u32>() {
        Ok(pid) if pid == std::process::id() || process_alive(pid) => Some(pid),
        Ok(_) => None,
        Err(_) => {
            let age = fs::metadata(path)
                .and_then(|m| m.modified())
                .ok()?
                .elapsed()
                .unwrap_or_default();
            (age < EMPTY_LOCK_GRACE).then_some(0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::patch::FileChange;

    fn patch() -> Patch {
        Patch {
            files: vec![
                FileChange {
                    path: "stats.py".into(),
                    old: Some("return 1\n".into()),
                    new: Some("return 2\n".into()),
                },
                FileChange {
                    path: "new.py".into(),
                    old: None,
                    new: Some("x = 1\n".into()),
                },
            ],
            notes: vec!["trailing whitespace differed".into()],
        }
    }

    fn save(state: &Path, p: &Patch) -> PendingMeta {
        let new = NewPending {
            repo: "acme/api",
            run_id: Some(42),
            failure_summary: "pytest: test_average failed",
            signature: "py:assert:stats.py",
            risk: 12,
            diagnosis: "Off by one in `average`.",
            patch: p,
        };
        save_pending(state, &new).unwrap()
    }

    #[test]
    fn save_list_load_round_trip() {
        let state = tempfile::tempdir().unwrap();
        let p = patch();
        let meta = save(state.path(), &p);
        assert_eq!(meta.version, 1);
        assert_eq!(
            meta.stats,
            "2 files changed, 2 insertions(+), 1 deletion(-)"
        );
        assert_eq!(meta.base_hashes["new.py"], None);
        assert_eq!(
            meta.base_hashes["stats.py"].as_deref(),
            Some(sha256_hex("return 1\n").as_str())
        );
        assert_eq!(list_pending(state.path()).unwrap(), vec![meta.clone()]);
        let loaded = load_pending(state.path(), &meta.id).unwrap();
        assert_eq!(loaded.patch, p);
        assert_eq!(loaded.diagnosis, "Off by one in `average`.");
        assert_eq!(loaded.origin, None);
        let origin = serde_json::json!({"version": 1, "run_id": 42});
        set_origin(state.path(), &meta.id, 42, &origin).unwrap();
        let tied = load_pending(state.path(), &meta.id).unwrap();
        assert_eq!((tied.meta.run_id, tied.origin), (Some(42), Some(origin)));
        assert!(is_pending(state.path(), &meta.id));
        assert!(!is_pending(state.path(), "nope"));
        assert!(
            loaded
                .diff
                .starts_with("diff --git a/stats.py b/stats.py\n")
        );
        let dir = state.path().join("pending").join(&meta.id);
        for name in [META, DIAGNOSIS, DIFF, PATCH] {
            assert!(dir.join(name).is_file(), "{name}");
        }
        assert!(
            fs::read_dir(state.path().join("pending"))
                .unwrap()
                .flatten()
                .all(|e| !e.file_name().to_string_lossy().starts_with(".tmp"))
        );
    }

    #[test]
    fn ids_are_unique_for_identical_patches() {
        let state = tempfile::tempdir().unwrap();
        let a = save(state.path(), &patch());
        let b = save(state.path(), &patch());
        assert_ne!(a.id, b.id);
        assert_eq!(list_pending(state.path()).unwrap().len(), 2);
    }

    #[test]
    fn reject_keeps_a_history_line_and_removes_the_entry() {
        let state = tempfile::tempdir().unwrap();
        let meta = save(state.path(), &patch());
        mark_rejected(state.path(), &meta.id, "wrong fix").unwrap();
        assert!(list_pending(state.path()).unwrap().is_empty());
        let history = read_history(state.path()).unwrap();
        assert_eq!(history.len(), 1);
        assert_eq!(
            (history[0].outcome.as_str(), history[0].reason.as_str()),
            ("rejected", "wrong fix")
        );
        assert!(matches!(
            load_pending(state.path(), &meta.id),
            Err(QueueError::NotFound { .. })
        ));
        let other = save(state.path(), &patch());
        mark_applied(state.path(), &other.id, "").unwrap();
        assert_eq!(read_history(state.path()).unwrap()[1].outcome, "applied");
    }

    #[test]
    fn unknown_ids_and_path_tricks_are_not_found() {
        let state = tempfile::tempdir().unwrap();
        save(state.path(), &patch());
        for id in ["nope", "../x", ".tmp-x", "", "a/b"] {
            assert!(
                matches!(
                    load_pending(state.path(), id),
                    Err(QueueError::NotFound { .. })
                ),
                "{id}"
            );
        }
        assert!(
            list_pending(&state.path().join("missing"))
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn newer_format_versions_are_refused_with_a_hint() {
        let state = tempfile::tempdir().unwrap();
        let meta = save(state.path(), &patch());
        let path = state.path().join("pending").join(&meta.id).join(META);
        let text = fs::read_to_string(&path)
            .unwrap()
            .replace("\"version\": 1", "\"version\": 9");
        fs::write(&path, text).unwrap();
        let err = load_pending(state.path(), &meta.id).unwrap_err();
        assert!(matches!(err, QueueError::Version { found: 9, .. }));
        assert!(err.to_string().contains("upgrade selfheal"));
    }

    #[test]
    fn lock_is_exclusive_and_released_on_drop() {
        let state = tempfile::tempdir().unwrap();
        let meta = save(state.path(), &patch());
        let lock = lock_pending(state.path(), &meta.id).unwrap();
        let err = lock_pending(state.path(), &meta.id).unwrap_err();
        assert!(
            matches!(err, QueueError::Locked { pid, .. } if pid == std::process::id()),
            "{err}"
        );
        drop(lock);
        let lock = lock_pending(state.path(), &meta.id).unwrap();
        mark_applied(state.path(), &meta.id, "").unwrap();
        drop(lock);
        assert!(matches!(
            lock_pending(state.path(), &meta.id),
            Err(QueueError::NotFound { .. })
        ));
    }

    #[test]
    fn a_lock_left_by_a_dead_process_is_taken_over() {
        let state = tempfile::tempdir().unwrap();
        let meta = save(state.path(), &patch());
        let lock_path = state.path().join("pending").join(&meta.id).join(LOCK);
        fs::write(&lock_path, u32::MAX.to_string()).unwrap();
        let lock = lock_pending(state.path(), &meta.id).unwrap();
        assert_eq!(
            fs::read_to_string(&lock_path).unwrap(),
            std::process::id().to_string()
        );
        drop(lock);
        fs::write(&lock_path, "").unwrap();
        assert!(matches!(
            lock_pending(state.path(), &meta.id),
            Err(QueueError::Locked { pid: 0, .. })
        ));
    }

    #[test]
    fn tree_moved_reports_changed_and_appeared_files() {
        let state = tempfile::tempdir().unwrap();
        let repo = tempfile::tempdir().unwrap();
        fs::write(repo.path().join("stats.py"), "return 1\n").unwrap();
        let meta = save(state.path(), &patch());
        let pending = load_pending(state.path(), &meta.id).unwrap();
        assert!(pending.tree_moved(repo.path()).is_empty());
        fs::write(repo.path().join("stats.py"), "return 3\n").unwrap();
        fs::write(repo.path().join("new.py"), "already here\n").unwrap();
        assert_eq!(pending.tree_moved(repo.path()), vec!["new.py", "stats.py"]);
    }
}
