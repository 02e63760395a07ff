//! Writes a [`Patch`] to the working tree all-or-nothing.
//!
//! Before any file is touched, the originals are copied to
//! `<state>/journal/<id>/backups/` and `<state>/journal/<id>/journal.json` lists what will
//! change; both are fsync'd. Each file is then replaced atomically (temp file in the same
//! directory, permissions copied, fsync, rename). The returned [`Applied`] guard either
//! `commit()`s (drops the backups) or `restore()`s; dropping it without either — an error
//! path or a panic — restores too. After a `kill -9` mid-apply, [`recover`] finds the
//! journal on the next start and puts the originals back, removing files the patch created.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::Patch;
use crate::store::{write_atomic, write_atomic_mode};

const JOURNAL_VERSION: u32 = 1;
const JOURNAL_FILE: &str = "journal.json";

/// Why a patch was not applied, or not cleanly undone.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error(
        "{path} changed since the patch was planned; plan the patch again against the current tree"
    )]
    Stale { path: String },
    #[error("cannot write the apply journal in {}: {source}; check that the state directory is writable", dir.display())]
    Journal { dir: PathBuf, source: io::Error },
    #[error("cannot write {path}: {source}; every file was restored to its previous content")]
    Write { path: String, source: io::Error },
    #[error(
        "cannot write {path}: {source}; restoring the other files also failed ({restore}), run \
         `selfheal` again to recover from the journal in {}", journal.display()
    )]
    WriteAndRestore {
        path: String,
        source: io::Error,
        restore: String,
        journal: PathBuf,
    },
    #[error("cannot restore {path}: {source}; its original is kept in {}", backup.display())]
    Restore {
        path: String,
        source: io::Error,
        backup: PathBuf,
    },
    #[error("the apply journal {} is unreadable: {why}", path.display())]
    BadJournal { path: PathBuf, why: String },
}

impl crate::error::Hint for ApplyError {
    fn hint(&self) -> String {
        match self {
            ApplyError::BadJournal { .. } => {
                "check the files it names by hand, then delete the journal directory".into()
            }
            // Every other message ends with the next step.
            _ => String::new(),
        }
    }
}

impl From<ApplyError> for crate::error::Error {
    fn from(e: ApplyError) -> Self {
        crate::error::Error::from_stage(crate::error::exit::ERROR, e)
    }
}

/// What the journal records about one file, enough to undo the change without the patch.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
struct JournalFile {
    path: String,
    /// Backup file name under `backups/`; `None` when the patch creates the file.
    backup: Option<String>,
    mode: Option<u32>,
    old_sha256: Option<String>,
    new_sha256: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
struct Journal {
    version: u32,
    id: String,
    repo: PathBuf,
    pid: u32,
    created_at_unix: u64,
    files: Vec<JournalFile>,
    /// Directories the patch creates, shallowest first; removed on restore if empty.
    created_dirs: Vec<String>,
}

/// A patch written to the tree and not yet committed. Dropping it restores the originals.
#[derive(Debug)]
pub struct Applied {
    repo: PathBuf,
    dir: PathBuf,
    journal: Journal,
    finished: bool,
}

impl Applied {
    /// The repo-relative paths the patch touched.
    pub fn paths(&self) -> Vec<&str> {
        self.journal.files.iter().map(|f| f.path.as_str()).collect()
    }

    /// Keeps the new content and deletes the journal and backups.
    pub fn commit(mut self) -> Result<(), ApplyError> {
        self.finished = true;
        fs::remove_dir_all(&self.dir).map_err(|source| ApplyError::Journal {
            dir: self.dir.clone(),
            source,
        })
    }

    /// Puts every original back, removes created files and directories, then the journal.
    pub fn restore(mut self) -> Result<(), ApplyError> {
        self.finished = true;
        rollback(&self.repo, &self.dir, &self.journal)
    }
}

impl Drop for Applied {
    fn drop(&mut self) {
        if !self.finished {
            // Nothing to report to from here; on failure the journal stays for `recover`.
            let _ = rollback(&self.repo, &self.dir, &self.journal);
        }
    }
}

/// Applies `patch` to `repo`, journaling under `state_dir`. On any error the tree is
/// restored before returning.
pub fn apply_patch(repo: &Path, state_dir: &Path, patch: &Patch) -> Result<Applied, ApplyError> {
    apply_with(repo, state_dir, patch, &mut |_| Ok(()))
}

/// [`apply_patch`] with a hook called before each file is written (fault injection in
/// tests: return an error or panic to prove the rollback).
fn apply_with(
    repo: &Path,
    state_dir: &Path,
    patch: &Patch,
    before_write: &mut dyn FnMut(usize) -> io::Result<()>,
) -> Result<Applied, ApplyError> {
    let applied = begin(repo, state_dir, patch)?;
    for (i, change) in patch.files.iter().enumerate() {
        let written =
            before_write(i).and_then(|()| write_change(&applied, i, change.new.as_deref()));
        if let Err(source) = written {
            return Err(fail_write(applied, change.path.clone(), source));
        }
    }
    Ok(applied)
}

fn fail_write(mut applied: Applied, path: String, source: io::Error) -> ApplyError {
    applied.finished = true;
    match rollback(&applied.repo, &applied.dir, &applied.journal) {
        Ok(()) => ApplyError::Write { path, source },
        Err(e) => ApplyError::WriteAndRestore {
            path,
            source,
            restore: e.to_string(),
            journal: applied.dir.clone(),
        },
    }
}

/// Checks the tree still holds the planned originals, then writes backups and the journal.
fn begin(repo: &Path, state_dir: &Path, patch: &Patch) -> Result<Applied, ApplyError> {
    let repo = repo.canonicalize().map_err(|source| ApplyError::Journal {
        dir: repo.to_path_buf(),
        source,
    })?;
    let mut modes = Vec::new();
    for change in &patch.files {
        modes.push(check_unchanged(&repo, &change.path, change.old.as_deref())?);
    }
    let id = new_id();
    let dir = state_dir.join("journal").join(&id);
    let journal_err = |source| ApplyError::Journal {
        dir: dir.clone(),
        source,
    };
    fs::create_dir_all(dir.join("backups")).map_err(journal_err)?;
    let mut files = Vec::new();
    for (i, (change, mode)) in patch.files.iter().zip(modes).enumerate() {
        let backup = match &change.old {
            Some(old) => {
                write_synced(&dir.join("backups").join(i.to_string()), old.as_bytes())
                    .map_err(journal_err)?;
                Some(i.to_string())
            }
            None => None,
        };
        files.push(JournalFile {
            path: change.path.clone(),
            backup,
            mode,
            old_sha256: change.old.as_deref().map(sha256_hex),
            new_sha256: change.new.as_deref().map(sha256_hex),
        });
    }
    let created_dirs = dirs_to_create(&repo, patch);
    let journal = Journal {
        version: JOURNAL_VERSION,
        id,
        repo: repo.clone(),
        pid: std::process::id(),
        created_at_unix: unix_now(),
        files,
        created_dirs,
    };
    let json = serde_json::to_vec_pretty(&journal).expect("journal serializes");
    write_atomic(&dir.join(JOURNAL_FILE), &json).map_err(journal_err)?;
    Ok(Applied {
        repo,
        dir,
        journal,
        finished: false,
    })
}

/// The file's mode if it matches `expected`, else [`ApplyError::Stale`].
fn check_unchanged(
    repo: &Path,
    rel: &str,
    expected: Option<&str>,
) -> Result<Option<u32>, ApplyError> {
    let stale = || ApplyError::Stale {
        path: rel.to_string(),
    };
    let full = repo.join(rel);
    match (fs::symlink_metadata(&full), expected) {
        (Err(e), None) if is_missing(&e) => Ok(None),
        (Ok(meta), Some(old)) if meta.is_file() => {
            let current = fs::read(&full).map_err(|_| stale())?;
            if current == old.as_bytes() {
                Ok(Some(mode_of(&meta)))
            } else {
                Err(stale())
            }
        }
        _ => Err(stale()),
    }
}

fn is_missing(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
    )
}

/// Missing ancestors of new files, shallowest first.
fn dirs_to_create(repo: &Path, patch: &Patch) -> Vec<String> {
    let mut dirs: Vec<String> = Vec::new();
    for change in patch.files.iter().filter(|c| c.old.is_none()) {
        let parts: Vec<&str> = change.path.split('/').collect();
        for depth in 1..parts.len() {
            let rel = parts[..depth].join("/");
            if fs::symlink_metadata(repo.join(&rel)).is_err() && !dirs.contains(&rel) {
                dirs.push(rel);
            }
        }
    }
    dirs.sort_by_key(|d| d.matches('/').count());
    dirs
}

/// Writes (or deletes) file `i` of the journal.
fn write_change(applied: &Applied, i: usize, new: Option<&str>) -> io::Result<()> {
    let entry = &applied.journal.files[i];
    let full = applied.repo.join(&entry.path);
    match new {
        Some(content) => {
            if let Some(parent) = full.parent() {
                fs::create_dir_all(parent)?;
            }
            write_atomic_mode(&full, content.as_bytes(), entry.mode)
        }
        None => fs::remove_file(&full),
    }
}

/// Undoes a journal: originals back, created files and directories removed, journal
/// deleted. Idempotent, so a crash during a rollback is recovered the same way.
fn rollback(repo: &Path, dir: &Path, journal: &Journal) -> Result<(), ApplyError> {
    let mut first_error = None;
    for entry in journal.files.iter().rev() {
        if let Err(e) = restore_file(repo, dir, entry) {
            first_error.get_or_insert(e);
        }
    }
    for rel in journal.created_dirs.iter().rev() {
        let _ = fs::remove_dir(repo.join(rel));
    }
    if let Some(e) = first_error {
        return Err(e);
    }
    fs::remove_dir_all(dir).map_err(|source| ApplyError::Journal {
        dir: dir.to_path_buf(),
        source,
    })
}

fn restore_file(repo: &Path, dir: &Path, entry: &JournalFile) -> Result<(), ApplyError> {
    let full = repo.join(&entry.path);
    let Some(name) = &entry.backup else {
        return match fs::symlink_metadata(&full) {
            Ok(meta) if meta.is_file() => {
                fs::remove_file(&full).map_err(|source| ApplyError::Restore {
                    path: entry.path.clone(),
                    source,
                    backup: dir.to_path_buf(),
                })
            }
            _ => Ok(()),
        };
    };
    let backup = dir.join("backups").join(name);
    let err = |source| ApplyError::Restore {
        path: entry.path.clone(),
        source,
        backup: backup.clone(),
    };
    let original = fs::read(&backup).map_err(err)?;
    if fs::read(&full).is_ok_and(|current| current == original) {
        return Ok(());
    }
    if let Some(parent) = full.parent() {
        fs::create_dir_all(parent).map_err(err)?;
    }
    write_atomic_mode(&full, &original, entry.mode).map_err(err)
}

/// Restores every journal left in `state_dir` for `repo` by a process that died
/// mid-apply. Returns the restored paths. Journals of live processes are left alone.
pub fn recover(repo: &Path, state_dir: &Path) -> Result<Vec<String>, ApplyError> {
    let root = state_dir.join("journal");
    let Ok(entries) = fs::read_dir(&root) else {
        return Ok(Vec::new());
    };
    let repo = repo.canonicalize().unwrap_or_else(|_| repo.to_path_buf());
    let mut restored = Vec::new();
    for entry in entries.flatten() {
        let dir = entry.path();
        let Some(journal) = read_journal(&dir)? else {
            // Cut off before journal.json was renamed into place: nothing was touched yet.
            let _ = fs::remove_dir_all(&dir);
            continue;
        };
        if journal.repo != repo || (journal.pid != std::process::id() && process_alive(journal.pid))
        {
            continue;
        }
        rollback(&repo, &dir, &journal)?;
        restored.extend(journal.files.into_iter().map(|f| f.path));
    }
    Ok(restored)
}

fn read_journal(dir: &Path) -> Result<Option<Journal>, ApplyError> {
    let path = dir.join(JOURNAL_FILE);
    let bytes = match fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(ApplyError::BadJournal {
                path,
                why: e.to_string(),
            });
        }
    };
    let journal: Journal = serde_json::from_slice(&bytes).map_err(|e| ApplyError::BadJournal {
        path: path.clone(),
        why: e.to_string(),
    })?;
    if journal.version != JOURNAL_VERSION {
        let why = format!(
            "version {} is not supported (expected {JOURNAL_VERSION})",
            journal.version
        );
        return Err(ApplyError::BadJournal { path, why });
    }
    Ok(Some(journal))
}

/// True when a process with this id exists. Only Linux can tell cheaply without `unsafe`;
/// elsewhere every other process counts as gone.
pub(crate) fn process_alive(pid: u32) -> bool {
    cfg!(target_os = "linux") && Path::new("/proc").join(pid.to_string()).exists()
}

fn write_synced(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = File::create(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(unix)]
fn mode_of(meta: &fs::Metadata) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode()
}

#[cfg(not(unix))]
fn mode_of(meta: &fs::Metadata) -> u32 {
    u32::from(meta.permissions().readonly())
}

pub(crate) fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn new_id() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!(
        "{nanos}-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::patch::FileChange;
    use std::collections::BTreeMap;

    /// Every file and directory under `root` (skipping `skip`), with bytes and mode.
    fn snapshot(root: &Path) -> BTreeMap<String, Option<(Vec<u8>, u32)>> {
        let mut out = BTreeMap::new();
        let mut stack = vec![root.to_path_buf()];
        while let Some(dir) = stack.pop() {
            for entry in fs::read_dir(&dir).unwrap().flatten() {
                let path = entry.path();
                let rel = path
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                let meta = fs::symlink_metadata(&path).unwrap();
                if meta.is_dir() {
                    out.insert(rel, None);
                    stack.push(path);
                } else {
                    out.insert(rel, Some((fs::read(&path).unwrap(), mode_of(&meta))));
                }
            }
        }
        out
    }

    fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (p, c) in files {
            let full = dir.path().join(p);
            fs::create_dir_all(full.parent().unwrap()).unwrap();
            fs::write(full, c).unwrap();
        }
        dir
    }

    fn change(path: &str, old: Option<&str>, new: Option<&str>) -> FileChange {
        FileChange {
            path: path.into(),
            old: old.map(String::from),
            new: new.map(String::from),
        }
    }

    /// Modifies a.txt, creates new/dir/c.txt, deletes d.txt.
    fn three_file_patch() -> (tempfile::TempDir, Patch) {
        let dir = tree(&[("a.txt", "a\n"), ("d.txt", "d\r\n"), ("keep.txt", "k")]);
        let patch = three_file_changes();
        (dir, patch)
    }

    fn three_file_changes() -> Patch {
        Patch {
            files: vec![
                change("a.txt", Some("a\n"), Some("A\n")),
                change("new/dir/c.txt", None, Some("c\n")),
                change("d.txt", Some("d\r\n"), None),
            ],
            notes: vec![],
        }
    }

    fn no_journals(state: &Path) -> bool {
        fs::read_dir(state.join("journal"))
            .map(|d| d.count() == 0)
            .unwrap_or(true)
    }

    #[test]
    fn apply_then_commit_keeps_the_new_tree_and_drops_the_journal() {
        let (dir, patch) = three_file_patch();
        let state = tempfile::tempdir().unwrap();
        let applied = apply_patch(dir.path(), state.path(), &patch).unwrap();
        assert_eq!(applied.paths(), vec!["a.txt", "new/dir/c.txt", "d.txt"]);
        applied.commit().unwrap();
        assert_eq!(fs::read_to_string(dir.path().join("a.txt")).unwrap(), "A\n");
        assert_eq!(
            fs::read_to_string(dir.path().join("new/dir/c.txt")).unwrap(),
            "c\n"
        );
        assert!(!dir.path().join("d.txt").exists());
        assert!(no_journals(state.path()));
    }

    #[test]
    fn restore_after_failed_validation_is_byte_identical() {
        let (dir, patch) = three_file_patch();
        let state = tempfile::tempdir().unwrap();
        let before = snapshot(dir.path());
        let applied = apply_patch(dir.path(), state.path(), &patch).unwrap();
        assert_ne!(snapshot(dir.path()), before);
        fs::write(
            dir.path().join("a.txt"),
            "edited by a formatter during validation",
        )
        .unwrap();
        applied.restore().unwrap();
        assert_eq!(snapshot(dir.path()), before);
        assert!(no_journals(state.path()));
    }

    #[test]
    fn dropping_without_commit_restores() {
        let (dir, patch) = three_file_patch();
        let state = tempfile::tempdir().unwrap();
        let before = snapshot(dir.path());
        drop(apply_patch(dir.path(), state.path(), &patch).unwrap());
        assert_eq!(snapshot(dir.path()), before);
    }

    #[test]
    fn a_real_write_error_on_the_second_of_three_files_restores_the_first() {
        let dir = tree(&[("a.txt", "a\n"), ("README.md", "r\n"), ("z.txt", "z\n")]);
        let state = tempfile::tempdir().unwrap();
        let patch = Patch {
            files: vec![
                change("a.txt", Some("a\n"), Some("A\n")),
                change("README.md/inside.txt", None, Some("cannot exist\n")),
                change("z.txt", Some("z\n"), Some("Z\n")),
            ],
            notes: vec![],
        };
        let before = snapshot(dir.path());
        let err = apply_patch(dir.path(), state.path(), &patch).unwrap_err();
        assert!(
            matches!(&err, ApplyError::Write { path, .. } if path == "README.md/inside.txt"),
            "{err}"
        );
        assert!(err.to_string().contains("every file was restored"));
        assert_eq!(snapshot(dir.path()), before);
        assert!(no_journals(state.path()));
    }

    #[test]
    fn an_injected_error_mid_apply_restores_everything() {
        let (dir, patch) = three_file_patch();
        let state = tempfile::tempdir().unwrap();
        let before = snapshot(dir.path());
        let mut fail_third = |i: usize| {
            if i == 2 {
                Err(io::Error::other("disk full"))
            } else {
                Ok(())
            }
        };
        let err = apply_with(dir.path(), state.path(), &patch, &mut fail_third).unwrap_err();
        assert!(matches!(err, ApplyError::Write { .. }));
        assert_eq!(snapshot(dir.path()), before);
    }

    #[test]
    fn a_panic_mid_apply_restores_everything() {
        let (dir, patch) = three_file_patch();
        let state = tempfile::tempdir().unwrap();
        let before = snapshot(dir.path());
        let result = std::panic::catch_unwind(|| {
            let mut panic_at_second = |i: usize| -> io::Result<()> {
                assert!(i < 1, "simulated bug while applying file {i}");
                Ok(())
            };
            apply_with(dir.path(), state.path(), &patch, &mut panic_at_second)
        });
        assert!(result.is_err());
        assert_eq!(snapshot(dir.path()), before);
        assert!(no_journals(state.path()));
    }

    #[test]
    fn recover_after_a_simulated_kill_restores_originals_and_removes_created_files() {
        let (dir, patch) = three_file_patch();
        let state = tempfile::tempdir().unwrap();
        let before = snapshot(dir.path());
        let applied = begin(dir.path(), state.path(), &patch).unwrap();
        write_change(&applied, 0, patch.files[0].new.as_deref()).unwrap();
        write_change(&applied, 1, patch.files[1].new.as_deref()).unwrap();
        std::mem::forget(applied); // kill -9: no Drop, journal and half-written tree stay behind
        assert_ne!(snapshot(dir.path()), before);
        let restored = recover(dir.path(), state.path()).unwrap();
        assert_eq!(restored, vec!["a.txt", "new/dir/c.txt", "d.txt"]);
        assert_eq!(snapshot(dir.path()), before);
        assert!(no_journals(state.path()));
        assert!(recover(dir.path(), state.path()).unwrap().is_empty());
    }

    /// Child half of the kill test: applies with a hook that parks before the third file.
    #[test]
    #[ignore = "run by kill_minus_nine_mid_apply_is_recovered in a child process"]
    fn kill_child() {
        let (Ok(repo), Ok(state)) = (
            std::env::var("SELFHEAL_KILL_REPO"),
            std::env::var("SELFHEAL_KILL_STATE"),
        ) else {
            return;
        };
        let patch = three_file_changes();
        let mut park = |i: usize| {
            if i == 2 {
                fs::write(Path::new(&state).join("ready"), "").unwrap();
                std::thread::sleep(std::time::Duration::from_secs(120));
            }
            Ok(())
        };
        let _ = apply_with(Path::new(&repo), Path::new(&state), &patch, &mut park);
    }

    #[cfg(unix)]
    #[test]
    fn kill_minus_nine_mid_apply_is_recovered() {
        let (dir, _) = three_file_patch();
        let state = tempfile::tempdir().unwrap();
        let before = snapshot(dir.path());
        let mut child = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--ignored",
                "--exact",
                "patch::apply::tests::kill_child",
                "--nocapture",
            ])
            .env("SELFHEAL_KILL_REPO", dir.path())
            .env("SELFHEAL_KILL_STATE", state.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let ready = state.path().join("ready");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while !ready.exists() && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        assert!(ready.exists(), "the child never reached the third file");
        assert_ne!(
            snapshot(dir.path()),
            before,
            "two of three files were written before the kill"
        );
        fs::remove_file(&ready).unwrap();
        assert_eq!(recover(dir.path(), state.path()).unwrap().len(), 3);
        assert_eq!(snapshot(dir.path()), before);
        assert!(no_journals(state.path()));
    }

    #[test]
    fn recover_drops_an_incomplete_journal_and_skips_other_repos() {
        let (dir, patch) = three_file_patch();
        let other = tempfile::tempdir().unwrap();
        let state = tempfile::tempdir().unwrap();
        fs::create_dir_all(state.path().join("journal/cut-off/backups")).unwrap();
        let applied = begin(dir.path(), state.path(), &patch).unwrap();
        assert!(recover(other.path(), state.path()).unwrap().is_empty());
        assert!(!state.path().join("journal/cut-off").exists());
        applied.commit().unwrap();
    }

    #[test]
    fn a_stale_tree_is_refused_before_anything_is_written() {
        let (dir, patch) = three_file_patch();
        let state = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("d.txt"), "changed meanwhile").unwrap();
        let before = snapshot(dir.path());
        let err = apply_patch(dir.path(), state.path(), &patch).unwrap_err();
        assert_eq!(
            err.to_string(),
            "d.txt changed since the patch was planned; plan the patch again against the current tree"
        );
        assert_eq!(snapshot(dir.path()), before);
        assert!(no_journals(state.path()));
    }

    #[cfg(unix)]
    #[test]
    fn permissions_are_preserved() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tree(&[("run.sh", "echo a\n")]);
        fs::set_permissions(dir.path().join("run.sh"), fs::Permissions::from_mode(0o755)).unwrap();
        let state = tempfile::tempdir().unwrap();
        let patch = Patch {
            files: vec![change("run.sh", Some("echo a\n"), Some("echo b\n"))],
            notes: vec![],
        };
        apply_patch(dir.path(), state.path(), &patch)
            .unwrap()
            .commit()
            .unwrap();
        let mode = fs::metadata(dir.path().join("run.sh"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o755);
    }

    #[test]
    fn journal_is_written_before_the_first_file() {
        let (dir, patch) = three_file_patch();
        let state = tempfile::tempdir().unwrap();
        let mut seen = None;
        let mut check = |i: usize| {
            if i == 0 {
                let journals: Vec<_> = fs::read_dir(state.path().join("journal"))
                    .unwrap()
                    .flatten()
                    .collect();
                let journal = read_journal(&journals[0].path()).unwrap().unwrap();
                seen = Some(journal.files.len());
                assert_eq!(fs::read_to_string(dir.path().join("a.txt")).unwrap(), "a\n");
            }
            Ok(())
        };
        apply_with(dir.path(), state.path(), &patch, &mut check)
            .unwrap()
            .commit()
            .unwrap();
        assert_eq!(seen, Some(3));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(32))]
        #[test]
        fn apply_then_restore_is_identity(
            files in proptest::collection::btree_map("[a-c]{1,2}(/[a-c]{1,2})?", "[a-z\\r\\n]{0,12}", 1..6),
            picks in proptest::collection::vec((0usize..8, 0u8..3, "[a-z\\n]{0,8}"), 1..6),
        ) {
            let names: Vec<String> = files.keys().filter(|k| !files.keys().any(|o| o.starts_with(&format!("{k}/")))).cloned().collect();
            let dir = tempfile::tempdir().unwrap();
            for name in &names {
                let full = dir.path().join(name);
                fs::create_dir_all(full.parent().unwrap()).unwrap();
                fs::write(full, &files[name]).unwrap();
            }
            let mut changes: Vec<FileChange> = Vec::new();
            for (i, (pick, kind, text)) in picks.iter().enumerate() {
                let existing = &names[pick % names.len()];
                if changes.iter().any(|c| &c.path == existing) { continue; }
                let old = Some(files[existing].clone());
                match kind {
                    0 => changes.push(FileChange { path: existing.clone(), old, new: Some(text.clone()) }),
                    1 => changes.push(FileChange { path: existing.clone(), old, new: None }),
                    _ => changes.push(FileChange { path: format!("fresh{i}/x{i}.txt"), old: None, new: Some(text.clone()) }),
                }
            }
            let patch = Patch { files: changes, notes: vec![] };
            let state = tempfile::tempdir().unwrap();
            let before = snapshot(dir.path());
            let applied = apply_patch(dir.path(), state.path(), &patch).unwrap();
            for c in &patch.files {
                let now = fs::read_to_string(dir.path().join(&c.path)).ok();
                proptest::prop_assert_eq!(now, c.new.clone());
            }
            applied.restore().unwrap();
            proptest::prop_assert_eq!(snapshot(dir.path()), before);
        }
    }
}
