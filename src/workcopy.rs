//! The work copy: a throwaway copy of the repository where a candidate patch (or a fixer)
//! runs, so nothing is proven or tried on the user's working tree. The tree is copied
//! (leaving out `.git`, build output, dependency folders and the state dir) and the
//! patch's files are written over the copy. Heavy caches are linked back, not copied.
//! The repair pipeline, `selfheal approve` and the fixers all work in one.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::glob::GlobSet;

/// Folders never copied: VCS data, build output, dependencies, selfheal's own state.
pub const EXCLUDED_DIRS: &[&str] = &[
    ".git",
    "target",
    "node_modules",
    ".selfheal",
    ".venv",
    "venv",
    "__pycache__",
    ".pytest_cache",
    ".mypy_cache",
    ".ruff_cache",
    ".tox",
    "build",
    "dist",
    ".gradle",
];

/// Folders that are linked into the copy (read-mostly caches the tests may need).
const LINKED_DIRS: &[&str] = &["node_modules", ".venv", "venv"];

/// A copy of the tree in a temp dir; removed when dropped.
pub struct WorkCopy {
    dir: tempfile::TempDir,
}

impl WorkCopy {
    /// Copies `repo` into a fresh temp dir and writes `files` (repo-relative path, new
    /// content or `None` to delete) over it. `extra_excludes` are the `validate.exclude`
    /// globs ([`crate::glob`], which the Docker sandbox's tree copy obeys alike); an
    /// invalid one is an `InvalidInput` error.
    pub fn create(
        repo: &Path,
        files: &[(String, Option<String>)],
        extra_excludes: &[String],
    ) -> io::Result<WorkCopy> {
        let extra = GlobSet::new(extra_excludes).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("[validate] exclude: {e}"),
            )
        })?;
        let dir = tempfile::Builder::new()
            .prefix("selfheal-workcopy-")
            .tempdir()?;
        copy_tree(repo, dir.path(), "", &extra)?;
        link_caches(repo, dir.path())?;
        overlay(dir.path(), files)?;
        Ok(WorkCopy { dir })
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

/// Writes `files` over the copy in `dir`: new content, or `None` to delete.
fn overlay(dir: &Path, files: &[(String, Option<String>)]) -> io::Result<()> {
    for (path, content) in files {
        let target = dir.join(path);
        match content {
            Some(text) => {
                if let Some(parent) = target.parent() {
                    fs::create_dir_all(parent)?;
                }
                fs::write(&target, text)?;
            }
            None => match fs::remove_file(&target) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                _ => {}
            },
        }
    }
    Ok(())
}

/// Recursive copy of regular files and folders; symlinks are recreated as links
/// (never followed, so a link out of the repo copies nothing from outside it). `rel` is
/// `from`'s path inside the repository (`""` at the root).
fn copy_tree(from: &Path, to: &Path, rel: &str, extra: &GlobSet) -> io::Result<()> {
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let name = entry.file_name();
        let kind = entry.file_type()?;
        let (src, dst) = (entry.path(), to.join(&name));
        let name = name.to_string_lossy();
        let rel = if rel.is_empty() {
            name.to_string()
        } else {
            format!("{rel}/{name}")
        };
        let is_dir = kind.is_dir();
        if (is_dir && EXCLUDED_DIRS.contains(&name.as_ref())) || extra.matches_entry(&rel, is_dir) {
            continue;
        }
        if is_dir {
            fs::create_dir_all(&dst)?;
            copy_tree(&src, &dst, &rel, extra)?;
        } else if kind.is_symlink() {
            let target = fs::read_link(&src)?;
            std::os::unix::fs::symlink(target, &dst)?;
        } else if kind.is_file() {
            fs::copy(&src, &dst)?;
        }
    }
    Ok(())
}

/// Links dependency folders back so tests find them without a reinstall.
fn link_caches(repo: &Path, copy: &Path) -> io::Result<()> {
    for name in LINKED_DIRS {
        let src: PathBuf = repo.join(name);
        if src.is_dir() {
            std::os::unix::fs::symlink(&src, copy.join(name))?;
        }
    }
    Ok(())
}

/// Environment for local validation in a work copy: reuse the repo's build cache
/// (cargo fingerprints the copy's path, so only the crate itself rebuilds).
pub fn cache_env(repo: &Path) -> Vec<(String, String)> {
    let mut env = Vec::new();
    let target = repo.join("target");
    if repo.join("Cargo.toml").is_file() {
        let dir = if target.is_dir() {
            target
        } else {
            std::env::temp_dir().join("selfheal-cargo-target")
        };
        env.push((
            "CARGO_TARGET_DIR".into(),
            dir.to_string_lossy().into_owned(),
        ));
    }
    env
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_the_tree_without_vcs_and_build_output_and_overlays_the_patch() {
        let repo = tempfile::tempdir().unwrap();
        let r = repo.path();
        fs::create_dir_all(r.join(".git/objects")).unwrap();
        fs::create_dir_all(r.join("target/debug")).unwrap();
        fs::create_dir_all(r.join("src")).unwrap();
        fs::write(r.join("src/a.py"), "old\n").unwrap();
        fs::write(r.join("src/gone.py"), "x\n").unwrap();
        fs::write(r.join("target/debug/big"), "bin").unwrap();
        let files = vec![
            ("src/a.py".to_string(), Some("new\n".to_string())),
            ("src/new/b.py".to_string(), Some("b\n".to_string())),
            ("src/gone.py".to_string(), None),
        ];
        let copy = WorkCopy::create(r, &files, &[]).unwrap();
        let s = copy.path();
        assert_eq!(fs::read_to_string(s.join("src/a.py")).unwrap(), "new\n");
        assert_eq!(fs::read_to_string(s.join("src/new/b.py")).unwrap(), "b\n");
        assert!(!s.join("src/gone.py").exists());
        assert!(!s.join(".git").exists() && !s.join("target").exists());
        // the user's tree is untouched
        assert_eq!(fs::read_to_string(r.join("src/a.py")).unwrap(), "old\n");
        assert!(r.join("src/gone.py").exists());
        let path = s.to_path_buf();
        drop(copy);
        assert!(!path.exists(), "the work copy is removed on drop");
    }

    #[test]
    fn symlinks_are_not_followed_and_caches_are_linked() {
        let repo = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        fs::write(outside.path().join("secret"), "s").unwrap();
        std::os::unix::fs::symlink(outside.path(), repo.path().join("escape")).unwrap();
        fs::create_dir_all(repo.path().join("node_modules/x")).unwrap();
        let copy = WorkCopy::create(repo.path(), &[], &[]).unwrap();
        let link = copy.path().join("escape");
        assert!(
            fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert!(
            fs::symlink_metadata(copy.path().join("node_modules"))
                .unwrap()
                .file_type()
                .is_symlink()
        );
    }

    #[test]
    fn validate_exclude_globs_leave_out_files_and_folders() {
        let repo = tempfile::tempdir().unwrap();
        let r = repo.path();
        for f in [
            "src/a.py",
            "tests/fixtures/x.json",
            "logs/run.log",
            "data",
            "lib/data/y",
        ] {
            fs::create_dir_all(r.join(f).parent().unwrap()).unwrap();
            fs::write(r.join(f), "x").unwrap();
        }
        let excludes = ["fixtures".to_string(), "*.log".into(), "data/".into()];
        let copy = WorkCopy::create(r, &[], &excludes).unwrap();
        let c = copy.path();
        assert!(c.join("src/a.py").is_file() && c.join("data").is_file());
        assert!(!c.join("tests/fixtures").exists() && c.join("tests").is_dir());
        assert!(!c.join("logs/run.log").exists() && !c.join("lib/data").exists());
        let bad = WorkCopy::create(r, &[], &["*".repeat(200_000)]);
        assert_eq!(
            bad.err().map(|e| e.kind()),
            Some(io::ErrorKind::InvalidInput)
        );
    }
}
