//! A bounded walk of the repository's source files, and capped file reads.
//!
//! Directories that hold no code of the repo's own are pruned without being read: VCS and
//! tool caches (any hidden directory), build output (`target`, `dist`, `build`), dependencies
//! (`node_modules`, `vendor`, `site-packages`) and virtualenvs (`venv`, or any directory with
//! a `pyvenv.cfg`). Only files whose extension names a known [`Language`] are listed; their
//! size is checked when they are read, not with a `stat` per file. In a git work tree the
//! list comes from the index instead (tracked files only, no directory walk at all).

use std::io::Read;
use std::path::{Component, Path, PathBuf};

use crate::llm::Language;

/// Files larger than this are never read into a prompt.
pub const MAX_FILE_BYTES: u64 = 1024 * 1024;

const PRUNED: &[&str] = &[
    "target",
    "node_modules",
    "vendor",
    "dist",
    "build",
    "venv",
    "site-packages",
    "__pycache__",
    "bower_components",
    "Pods",
    "coverage",
];

/// A source file found by the walk: its repo-relative path with `/` separators.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceFile {
    pub rel: String,
    pub language: Language,
}

/// Every source file under `root`, at most `max_files`: the files git tracks when `root` is
/// a git work tree (one read of `.git/index`, sorted by path), else a walk of the tree.
pub fn source_files(root: &Path, max_files: usize) -> Vec<SourceFile> {
    tracked_files(root, max_files).unwrap_or_else(|| walked_files(root, max_files))
}

/// The index's paths that are source files outside pruned directories; None when `root`
/// is not the top of a git work tree or its index is empty or unreadable.
fn tracked_files(root: &Path, max_files: usize) -> Option<Vec<SourceFile>> {
    if !root.join(".git").exists() {
        return None;
    }
    let repo = git2::Repository::open(root).ok()?;
    let index = repo.index().ok()?;
    let mut out: Vec<SourceFile> = Vec::new();
    for entry in index.iter() {
        let Ok(rel) = std::str::from_utf8(&entry.path) else {
            continue;
        };
        let (dirs, name) = rel.rsplit_once('/').unwrap_or(("", rel));
        if out.last().is_some_and(|l| l.rel == rel) || dirs.split('/').any(is_pruned_name) {
            continue;
        }
        if let Some(language) = Language::from_path(name).filter(|l| is_code(*l)) {
            out.push(SourceFile {
                rel: rel.to_string(),
                language,
            });
            if out.len() >= max_files {
                break;
            }
        }
    }
    (!out.is_empty()).then_some(out)
}

/// Depth-first walk in name order: a directory's files, then its subdirectories.
fn walked_files(root: &Path, max_files: usize) -> Vec<SourceFile> {
    let mut out = Vec::new();
    let mut stack = vec![(root.to_path_buf(), String::new())];
    while let Some((dir, rel)) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut entries: Vec<(String, std::fs::DirEntry)> = entries
            .flatten()
            .map(|e| (e.file_name().to_string_lossy().into_owned(), e))
            .collect();
        entries.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let mut subdirs = Vec::new();
        for (name, e) in entries {
            let Ok(ft) = e.file_type() else { continue };
            let child_rel = if rel.is_empty() {
                name.clone()
            } else {
                format!("{rel}/{name}")
            };
            if ft.is_dir() {
                if !is_pruned(&name, &e.path()) {
                    subdirs.push((e.path(), child_rel));
                }
            } else if let Some(language) =
                Language::from_path(&name).filter(|l| ft.is_file() && is_code(*l))
            {
                out.push(SourceFile {
                    rel: child_rel,
                    language,
                });
                if out.len() >= max_files {
                    return out;
                }
            }
        }
        stack.extend(subdirs.into_iter().rev());
    }
    out
}

fn is_pruned_name(name: &str) -> bool {
    name.starts_with('.') || PRUNED.contains(&name)
}

fn is_pruned(name: &str, path: &Path) -> bool {
    is_pruned_name(name) || path.join("pyvenv.cfg").is_file()
}

/// Config languages (YAML, TOML, JSON) are context for CI, not where definitions live.
fn is_code(l: Language) -> bool {
    !matches!(l, Language::Yaml | Language::Toml | Language::Json)
}

/// `rel` joined to `root` if it stays inside it (no absolute path, no `..`).
pub fn inside(root: &Path, rel: &str) -> Option<PathBuf> {
    let p = Path::new(rel);
    let ok = !rel.is_empty()
        && p.components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir));
    ok.then(|| root.join(p))
}

/// The file as text (lossy UTF-8), or None if missing, unreadable, binary or over the cap.
pub fn read_capped(path: &Path, cap: u64) -> Option<String> {
    let file = std::fs::File::open(path).ok()?;
    let mut buf = Vec::new();
    file.take(cap + 1).read_to_end(&mut buf).ok()?;
    if buf.len() as u64 > cap || buf.iter().take(8192).any(|&b| b == 0) {
        return None;
    }
    Some(
        String::from_utf8(buf)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walk_prunes_caches_deps_and_venvs_and_keeps_sorted_code() {
        let d = tempfile::tempdir().unwrap();
        let files = [
            "b.py",
            "a/x.rs",
            "a/y.go",
            "README.md",
            "conf.yml",
            ".git/objects/z.py",
            "node_modules/p/i.js",
            "target/debug/b.rs",
            "myenv/lib/s.py",
            "myenv/pyvenv.cfg",
            "web/app.ts",
        ];
        for f in files {
            let p = d.path().join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, "x").unwrap();
        }
        let got: Vec<String> = source_files(d.path(), 100)
            .into_iter()
            .map(|s| s.rel)
            .collect();
        assert_eq!(
            got,
            ["b.py", "a/x.rs", "a/y.go", "web/app.ts"],
            "a directory's files, then its subdirectories"
        );
        assert_eq!(source_files(d.path(), 2).len(), 2);
    }

    #[test]
    fn git_work_trees_list_tracked_files_from_the_index() {
        let d = tempfile::tempdir().unwrap();
        for f in [
            "src/a.rs",
            "src/b.py",
            "vendor/v.go",
            "notes.txt",
            "untracked.py",
        ] {
            let p = d.path().join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, "x").unwrap();
        }
        let repo = git2::Repository::init(d.path()).unwrap();
        let mut index = repo.index().unwrap();
        for f in ["src/a.rs", "src/b.py", "vendor/v.go", "notes.txt"] {
            index.add_path(Path::new(f)).unwrap();
        }
        index.write().unwrap();
        let got: Vec<String> = source_files(d.path(), 100)
            .into_iter()
            .map(|s| s.rel)
            .collect();
        assert_eq!(got, ["src/a.rs", "src/b.py"]);
    }

    #[test]
    fn inside_rejects_escapes_and_read_capped_rejects_big_and_binary() {
        let d = tempfile::tempdir().unwrap();
        assert!(inside(d.path(), "../etc/passwd").is_none());
        assert!(inside(d.path(), "/etc/passwd").is_none());
        assert!(inside(d.path(), "src/a.rs").is_some());
        std::fs::write(d.path().join("big"), vec![b'a'; 100]).unwrap();
        std::fs::write(d.path().join("bin"), b"ab\0cd").unwrap();
        assert!(read_capped(&d.path().join("big"), 99).is_none());
        assert_eq!(read_capped(&d.path().join("big"), 100).unwrap().len(), 100);
        assert!(read_capped(&d.path().join("bin"), 100).is_none());
        assert!(read_capped(&d.path().join("missing"), 100).is_none());
    }
}
