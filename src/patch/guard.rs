//! Decides which files a patch may touch: inside the repository, never `.git/`, workflows
//! only when allowed, never selfheal's own state dir, `policy.allowed_paths` /
//! `policy.denied_paths`, and only small UTF-8 text files.
//!
//! Paths from the LLM are untrusted. They are normalised (`\` → `/`, `./` dropped) and
//! checked syntactically first, then against the file system: a symlink on the way must
//! not lead outside the repository or into a refused place, and a symlink itself is never
//! replaced.

use std::io;
use std::path::{Component, Path, PathBuf};

use crate::config::PolicyConfig;
use crate::glob::Glob;

/// Bytes scanned for a NUL to call a file binary, as git does.
const BINARY_SNIFF_BYTES: usize = 8 * 1024;

/// Why a path or file may not be edited. Each names the path and the rule.
#[derive(Debug, thiserror::Error)]
pub enum GuardError {
    #[error("cannot open the repository at {path}: {source}")]
    Repo { path: PathBuf, source: io::Error },
    #[error("refusing to edit {path:?}: {why}")]
    InvalidPath { path: String, why: &'static str },
    #[error(
        "refusing to edit {path}: absolute paths are not allowed; use a path relative to the repository root"
    )]
    Absolute { path: String },
    #[error(
        "refusing to edit {path}: `..` leads outside the repository; use a path relative to the repository root"
    )]
    Escapes { path: String },
    #[error("refusing to edit {path}: files under .git/ are never edited")]
    GitDir { path: String },
    #[error(
        "refusing to edit {path}: workflow files under .github/workflows/ are only edited with \
         `policy.allow_workflow_edits = true`"
    )]
    Workflow { path: String },
    #[error("refusing to edit {path}: it is inside selfheal's state directory")]
    StateDir { path: String },
    #[error("refusing to edit {path}: it matches `{pattern}` in policy.denied_paths")]
    Denied { path: String, pattern: String },
    #[error("refusing to edit {path}: it matches none of policy.allowed_paths ({patterns})")]
    NotAllowed { path: String, patterns: String },
    #[error("refusing to edit {path}: it is a symlink; edit the file it points to instead")]
    Symlink { path: String },
    #[error(
        "refusing to edit {path}: a directory on the way is a symlink to {target}, outside the repository"
    )]
    SymlinkEscape { path: String, target: PathBuf },
    #[error("refusing to edit {path}: it is a binary file (NUL byte in the first 8 KiB)")]
    Binary { path: String },
    #[error("refusing to edit {path}: it is {size} bytes, over policy.max_file_bytes = {max}")]
    TooLarge { path: String, size: u64, max: u64 },
    #[error("refusing to edit {path}: it is not valid UTF-8 text")]
    NotUtf8 { path: String },
    #[error("refusing to edit {path}: it is a directory, not a file")]
    NotAFile { path: String },
    #[error("cannot read {path}: {source}")]
    Io { path: String, source: io::Error },
}

impl crate::error::Hint for GuardError {
    fn hint(&self) -> String {
        match self {
            GuardError::Repo { .. } => "check the repository path (--repo-dir)".into(),
            GuardError::Io { .. } => "check that the file is readable".into(),
            GuardError::Workflow { .. } => {
                "set policy.allow_workflow_edits = true to let patches edit workflows".into()
            }
            GuardError::Denied { .. } | GuardError::NotAllowed { .. } => {
                "change policy.denied_paths / policy.allowed_paths in self-heal.toml if the file \
                 should be editable"
                    .into()
            }
            GuardError::TooLarge { .. } => "raise policy.max_file_bytes in self-heal.toml".into(),
            // The other refusals protect the repository; there is nothing to change.
            _ => String::new(),
        }
    }
}

/// The rules for one repository, built once from the policy.
#[derive(Debug, Clone)]
pub struct Guard {
    root: PathBuf,
    allowed: Vec<Glob>,
    denied: Vec<Glob>,
    allow_workflow_edits: bool,
    max_file_bytes: u64,
    /// The state dir relative to the root, when it lies inside the repository.
    state_rel: Option<String>,
}

impl Guard {
    /// Builds the guard for `repo`. `state_dir` (absolute or relative to `repo`) is refused
    /// as a target when it lies inside the repository.
    pub fn new(
        repo: &Path,
        policy: &PolicyConfig,
        state_dir: Option<&Path>,
    ) -> Result<Guard, GuardError> {
        let root = repo.canonicalize().map_err(|source| GuardError::Repo {
            path: repo.to_path_buf(),
            source,
        })?;
        let state_rel = state_dir.and_then(|d| state_dir_inside(&root, repo, d));
        Ok(Guard {
            root,
            allowed: policy
                .allowed_paths
                .iter()
                .filter_map(|p| Glob::new(p).ok())
                .collect(),
            denied: policy
                .denied_paths
                .iter()
                .filter_map(|p| Glob::new(p).ok())
                .collect(),
            allow_workflow_edits: policy.allow_workflow_edits,
            max_file_bytes: policy.max_file_bytes,
            state_rel,
        })
    }

    /// The canonical repository root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Checks a path named by the LLM and returns it repo-relative with `/` separators.
    pub fn check_path(&self, raw: &str) -> Result<String, GuardError> {
        let rel = normalize_path(raw)?;
        self.check_rules(&rel)?;
        self.check_symlinks(&rel)?;
        Ok(rel)
    }

    /// Reads a checked file: `None` when it does not exist yet. Refuses symlinks,
    /// directories, binary, non-UTF-8 and oversized files.
    pub fn read_existing(&self, rel: &str) -> Result<Option<String>, GuardError> {
        let full = self.root.join(rel);
        let meta = match std::fs::symlink_metadata(&full) {
            Ok(m) => m,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(GuardError::Io {
                    path: rel.into(),
                    source,
                });
            }
        };
        if meta.file_type().is_symlink() {
            return Err(GuardError::Symlink { path: rel.into() });
        }
        if meta.is_dir() {
            return Err(GuardError::NotAFile { path: rel.into() });
        }
        self.check_size(rel, meta.len())?;
        let bytes = std::fs::read(&full).map_err(|source| GuardError::Io {
            path: rel.into(),
            source,
        })?;
        check_text(rel, &bytes)?;
        String::from_utf8(bytes)
            .map(Some)
            .map_err(|_| GuardError::NotUtf8 { path: rel.into() })
    }

    /// Checks the content a patch would write.
    pub fn check_new_content(&self, rel: &str, content: &str) -> Result<(), GuardError> {
        self.check_size(rel, content.len() as u64)?;
        check_text(rel, content.as_bytes())
    }

    fn check_size(&self, rel: &str, size: u64) -> Result<(), GuardError> {
        if self.max_file_bytes > 0 && size > self.max_file_bytes {
            return Err(GuardError::TooLarge {
                path: rel.into(),
                size,
                max: self.max_file_bytes,
            });
        }
        Ok(())
    }

    /// The rules that depend on the path alone.
    fn check_rules(&self, rel: &str) -> Result<(), GuardError> {
        let path = || rel.to_string();
        if rel.split('/').any(is_git_component) {
            return Err(GuardError::GitDir { path: path() });
        }
        if !self.allow_workflow_edits && rel.to_ascii_lowercase().starts_with(".github/workflows/")
        {
            return Err(GuardError::Workflow { path: path() });
        }
        if let Some(state) = &self.state_rel
            && (rel == state || rel.starts_with(&format!("{state}/")))
        {
            return Err(GuardError::StateDir { path: path() });
        }
        // Denied patterns also match case-insensitively: `.ENV` is `.env` on macOS and Windows.
        let lower = rel.to_lowercase();
        if let Some(glob) = self
            .denied
            .iter()
            .find(|g| g.matches(rel) || g.matches(&lower))
        {
            return Err(GuardError::Denied {
                path: path(),
                pattern: glob.pattern().into(),
            });
        }
        if !self.allowed.is_empty() && !self.allowed.iter().any(|g| g.matches(rel)) {
            let patterns = self
                .allowed
                .iter()
                .map(Glob::pattern)
                .collect::<Vec<_>>()
                .join(", ");
            return Err(GuardError::NotAllowed {
                path: path(),
                patterns,
            });
        }
        Ok(())
    }

    /// Resolves the deepest existing ancestor; when a symlink moved it, the resolved path
    /// must stay inside the repository and pass the rules too.
    fn check_symlinks(&self, rel: &str) -> Result<(), GuardError> {
        let full = self.root.join(rel);
        if std::fs::symlink_metadata(&full).is_ok_and(|m| m.file_type().is_symlink()) {
            return Err(GuardError::Symlink { path: rel.into() });
        }
        let mut ancestor = full.parent().unwrap_or(&self.root).to_path_buf();
        while std::fs::symlink_metadata(&ancestor).is_err() && ancestor != self.root {
            ancestor = ancestor.parent().unwrap_or(&self.root).to_path_buf();
        }
        let resolved = ancestor.canonicalize().map_err(|source| GuardError::Io {
            path: rel.into(),
            source,
        })?;
        if resolved == ancestor {
            return Ok(());
        }
        let Ok(inside) = resolved.strip_prefix(&self.root) else {
            return Err(GuardError::SymlinkEscape {
                path: rel.into(),
                target: resolved,
            });
        };
        let rest = full.strip_prefix(&ancestor).unwrap_or(Path::new(""));
        let real = inside.join(rest).to_string_lossy().replace('\\', "/");
        self.check_rules(&real)
    }
}

/// `.git`, `.GIT`, and the NTFS aliases `.git.` / `.git ` at any depth.
fn is_git_component(component: &str) -> bool {
    component
        .trim_end_matches(['.', ' '])
        .eq_ignore_ascii_case(".git")
}

/// The state dir relative to the root, if it is inside it.
fn state_dir_inside(root: &Path, repo: &Path, state_dir: &Path) -> Option<String> {
    let abs = if state_dir.is_absolute() {
        state_dir.to_path_buf()
    } else {
        repo.join(state_dir)
    };
    let abs = abs.canonicalize().unwrap_or(abs);
    let rel = abs.strip_prefix(root).ok()?;
    let rel = rel.to_string_lossy().replace('\\', "/");
    (!rel.is_empty()).then_some(rel)
}

/// Normalises a path written by the LLM, refusing absolute, drive and `..` paths.
pub fn normalize_path(raw: &str) -> Result<String, GuardError> {
    let trimmed = raw.trim().trim_matches(|c| matches!(c, '`' | '"' | '\''));
    let unified = trimmed.replace('\\', "/");
    let invalid = |why| GuardError::InvalidPath {
        path: raw.to_string(),
        why,
    };
    if unified.is_empty() {
        return Err(invalid("the path is empty"));
    }
    if unified.chars().any(char::is_control) {
        return Err(invalid("the path contains control characters"));
    }
    if unified.starts_with('/') || unified.starts_with('~') || has_drive_prefix(&unified) {
        return Err(GuardError::Absolute {
            path: raw.to_string(),
        });
    }
    if unified.contains(':') {
        return Err(invalid(
            "`:` is not allowed in paths (Windows drive or stream syntax)",
        ));
    }
    let mut parts = Vec::new();
    for component in Path::new(&unified).components() {
        match component {
            Component::Normal(p) => parts.push(p.to_string_lossy().into_owned()),
            Component::CurDir => {}
            Component::ParentDir => {
                return Err(GuardError::Escapes {
                    path: raw.to_string(),
                });
            }
            Component::RootDir | Component::Prefix(_) => {
                return Err(GuardError::Absolute {
                    path: raw.to_string(),
                });
            }
        }
    }
    if parts.is_empty() {
        return Err(invalid("the path names no file"));
    }
    Ok(parts.join("/"))
}

/// `C:`, `c:/…`, `C:\…`.
fn has_drive_prefix(path: &str) -> bool {
    let b = path.as_bytes();
    b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':'
}

fn check_text(rel: &str, bytes: &[u8]) -> Result<(), GuardError> {
    let head = &bytes[..bytes.len().min(BINARY_SNIFF_BYTES)];
    if head.contains(&0) {
        return Err(GuardError::Binary { path: rel.into() });
    }
    Ok(())
}

/// The default policy with a small size limit, for tests across `patch`.
#[cfg(test)]
pub(crate) mod tests_support {
    use crate::config::PolicyConfig;

    pub(crate) fn policy() -> PolicyConfig {
        PolicyConfig {
            allowed_paths: vec![],
            denied_paths: vec![
                ".env".into(),
                "*.pem".into(),
                "*.key".into(),
                "secrets/**".into(),
            ],
            allow_workflow_edits: false,
            max_file_bytes: 1024,
            max_auto_risk: 40,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::tests_support::policy;
    use super::*;

    fn guard(dir: &Path) -> Guard {
        Guard::new(dir, &policy(), Some(Path::new(".selfheal"))).unwrap()
    }

    #[test]
    fn normalizes_harmless_spellings() {
        let dir = tempfile::tempdir().unwrap();
        let g = guard(dir.path());
        assert_eq!(g.check_path("./src//a.rs").unwrap(), "src/a.rs");
        assert_eq!(g.check_path("src\\win\\a.cs").unwrap(), "src/win/a.cs");
        assert_eq!(g.check_path("`src/a.rs`").unwrap(), "src/a.rs");
    }

    #[test]
    fn refuses_paths_outside_the_repository() {
        let dir = tempfile::tempdir().unwrap();
        let g = guard(dir.path());
        assert!(matches!(
            g.check_path("../x"),
            Err(GuardError::Escapes { .. })
        ));
        assert!(matches!(
            g.check_path("src/../../x"),
            Err(GuardError::Escapes { .. })
        ));
        assert!(matches!(
            g.check_path("/etc/passwd"),
            Err(GuardError::Absolute { .. })
        ));
        assert!(matches!(
            g.check_path("C:\\Windows\\a"),
            Err(GuardError::Absolute { .. })
        ));
        assert!(matches!(
            g.check_path("c:a"),
            Err(GuardError::Absolute { .. })
        ));
        assert!(matches!(
            g.check_path("\\\\server\\share\\a"),
            Err(GuardError::Absolute { .. })
        ));
        assert!(matches!(
            g.check_path("~/.bashrc"),
            Err(GuardError::Absolute { .. })
        ));
        assert!(matches!(
            g.check_path("a\0b"),
            Err(GuardError::InvalidPath { .. })
        ));
        assert!(matches!(
            g.check_path("."),
            Err(GuardError::InvalidPath { .. })
        ));
    }

    #[test]
    fn refuses_git_dir_at_any_depth_and_case() {
        let dir = tempfile::tempdir().unwrap();
        let g = guard(dir.path());
        for p in [
            ".git/config",
            ".GIT/hooks/pre-commit",
            "sub/.Git/config",
            ".git./x",
            ".git",
        ] {
            assert!(
                matches!(g.check_path(p), Err(GuardError::GitDir { .. })),
                "{p}"
            );
        }
        assert!(g.check_path(".gitignore").is_ok());
        assert!(g.check_path(".github/dependabot.yml").is_ok());
    }

    #[test]
    fn workflows_need_the_policy_switch() {
        let dir = tempfile::tempdir().unwrap();
        let err = guard(dir.path())
            .check_path(".github/workflows/ci.yml")
            .unwrap_err();
        assert!(err.to_string().contains("allow_workflow_edits"), "{err}");
        assert!(
            guard(dir.path())
                .check_path(".GitHub/Workflows/ci.yml")
                .is_err()
        );
        let mut p = policy();
        p.allow_workflow_edits = true;
        assert!(
            Guard::new(dir.path(), &p, None)
                .unwrap()
                .check_path(".github/workflows/ci.yml")
                .is_ok()
        );
    }

    #[test]
    fn denied_and_allowed_globs_name_the_rule() {
        let dir = tempfile::tempdir().unwrap();
        let g = guard(dir.path());
        let err = g.check_path("config/server.pem").unwrap_err();
        assert_eq!(
            err.to_string(),
            "refusing to edit config/server.pem: it matches `*.pem` in policy.denied_paths"
        );
        assert!(matches!(
            g.check_path("app/.env"),
            Err(GuardError::Denied { .. })
        ));
        assert!(matches!(
            g.check_path("App/.ENV"),
            Err(GuardError::Denied { .. })
        ));
        assert!(matches!(
            g.check_path("secrets/a/b"),
            Err(GuardError::Denied { .. })
        ));
        let mut p = policy();
        p.allowed_paths = vec!["src/**".into(), "tests/*.py".into()];
        let g = Guard::new(dir.path(), &p, None).unwrap();
        assert!(g.check_path("src/x/y.rs").is_ok());
        assert!(g.check_path("tests/t.py").is_ok());
        let err = g.check_path("README.md").unwrap_err();
        assert!(
            err.to_string()
                .contains("none of policy.allowed_paths (src/**, tests/*.py)"),
            "{err}"
        );
    }

    #[test]
    fn refuses_the_state_dir() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join(".selfheal")).unwrap();
        assert!(matches!(
            guard(dir.path()).check_path(".selfheal/pending/x"),
            Err(GuardError::StateDir { .. })
        ));
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_that_escape_or_alias_refused_places_are_refused() {
        let outside = tempfile::tempdir().unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join(".git")).unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.path().join("out")).unwrap();
        std::os::unix::fs::symlink(dir.path().join(".git"), dir.path().join("g")).unwrap();
        std::fs::write(dir.path().join("real.txt"), "x").unwrap();
        std::os::unix::fs::symlink(dir.path().join("real.txt"), dir.path().join("link.txt"))
            .unwrap();
        let g = guard(dir.path());
        assert!(matches!(
            g.check_path("out/a.txt"),
            Err(GuardError::SymlinkEscape { .. })
        ));
        assert!(matches!(
            g.check_path("out/new/deeper/a.txt"),
            Err(GuardError::SymlinkEscape { .. })
        ));
        assert!(matches!(
            g.check_path("g/config"),
            Err(GuardError::GitDir { .. })
        ));
        assert!(matches!(
            g.check_path("link.txt"),
            Err(GuardError::Symlink { .. })
        ));
        assert!(matches!(
            g.read_existing("link.txt"),
            Err(GuardError::Symlink { .. })
        ));
    }

    #[test]
    fn reads_text_and_refuses_binary_large_and_directories() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.txt"), "hello\n").unwrap();
        std::fs::write(dir.path().join("b.bin"), b"\x7fELF\0\0").unwrap();
        std::fs::write(dir.path().join("big.txt"), "x".repeat(2000)).unwrap();
        std::fs::write(dir.path().join("latin1.txt"), b"caf\xe9").unwrap();
        std::fs::create_dir(dir.path().join("d")).unwrap();
        let g = guard(dir.path());
        assert_eq!(
            g.read_existing("a.txt").unwrap().as_deref(),
            Some("hello\n")
        );
        assert_eq!(g.read_existing("missing.txt").unwrap(), None);
        assert!(matches!(
            g.read_existing("b.bin"),
            Err(GuardError::Binary { .. })
        ));
        let err = g.read_existing("big.txt").unwrap_err();
        assert_eq!(
            err.to_string(),
            "refusing to edit big.txt: it is 2000 bytes, over policy.max_file_bytes = 1024"
        );
        assert!(matches!(
            g.read_existing("latin1.txt"),
            Err(GuardError::NotUtf8 { .. })
        ));
        assert!(matches!(
            g.read_existing("d"),
            Err(GuardError::NotAFile { .. })
        ));
        assert!(matches!(
            g.check_new_content("n.txt", "a\0b"),
            Err(GuardError::Binary { .. })
        ));
    }
}
