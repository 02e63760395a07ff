//! A checkout of one commit in a folder of its own, so `selfheal run` repairs the run's
//! `head_sha` without touching the user's working tree, index or branches: the commit's
//! tree is written out from the object store (like `git archive`), modes and symlinks kept.

use std::path::Path;

use git2::{ObjectType, Oid, Repository, TreeWalkMode, TreeWalkResult};

use super::PublishError;

/// Writes the tree of `sha` in the repository at `repo_dir` into `dest` (created fresh).
pub fn export_commit(repo_dir: &Path, sha: &str, dest: &Path) -> Result<(), PublishError> {
    let repo = Repository::discover(repo_dir).map_err(|e| git_err("open the repository", e))?;
    let oid = Oid::from_str(sha).map_err(|e| git_err("read the commit id", e))?;
    let tree =
        repo.find_commit(oid)
            .and_then(|c| c.tree())
            .map_err(|_| PublishError::MissingBase {
                sha: sha.to_string(),
            })?;
    if dest.exists() {
        std::fs::remove_dir_all(dest).map_err(|e| io_err(dest, e))?;
    }
    std::fs::create_dir_all(dest).map_err(|e| io_err(dest, e))?;
    let mut failure: Option<PublishError> = None;
    tree.walk(TreeWalkMode::PreOrder, |dir, entry| {
        if entry.kind() != Some(ObjectType::Blob) {
            return TreeWalkResult::Ok;
        }
        let rel = format!("{dir}{}", entry.name().unwrap_or_default());
        match write_entry(&repo, dest, &rel, entry.id(), entry.filemode()) {
            Ok(()) => TreeWalkResult::Ok,
            Err(e) => {
                failure = Some(e);
                TreeWalkResult::Abort
            }
        }
    })
    .map_err(|e| {
        failure
            .take()
            .unwrap_or_else(|| git_err("walk the commit's tree", e))
    })?;
    failure.map_or(Ok(()), Err)
}

fn write_entry(
    repo: &Repository,
    dest: &Path,
    rel: &str,
    id: Oid,
    mode: i32,
) -> Result<(), PublishError> {
    if rel.split('/').any(|c| c == ".." || c.is_empty()) {
        return Ok(());
    }
    let path = dest.join(rel);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| io_err(parent, e))?;
    }
    let blob = repo
        .find_blob(id)
        .map_err(|e| git_err("read a file of the commit", e))?;
    if mode == 0o120000 {
        let target = String::from_utf8_lossy(blob.content()).into_owned();
        return std::os::unix::fs::symlink(target, &path).map_err(|e| io_err(&path, e));
    }
    std::fs::write(&path, blob.content()).map_err(|e| io_err(&path, e))?;
    if mode == 0o100755 {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
            .map_err(|e| io_err(&path, e))?;
    }
    Ok(())
}

fn git_err(action: &'static str, source: git2::Error) -> PublishError {
    PublishError::Git { action, source }
}

fn io_err(path: &Path, source: std::io::Error) -> PublishError {
    PublishError::Io {
        path: path.to_path_buf(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exports_the_commit_not_the_working_tree() {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::init(dir.path()).unwrap();
        std::fs::create_dir_all(dir.path().join("src")).unwrap();
        std::fs::write(dir.path().join("src/a.py"), "committed\n").unwrap();
        let mut index = repo.index().unwrap();
        index.add_path(Path::new("src/a.py")).unwrap();
        let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
        let sig = git2::Signature::now("t", "t@example.com").unwrap();
        let oid = repo
            .commit(Some("HEAD"), &sig, &sig, "c", &tree, &[])
            .unwrap();
        std::fs::write(dir.path().join("src/a.py"), "uncommitted edit\n").unwrap();
        let out = tempfile::tempdir().unwrap();
        let dest = out.path().join("wt");
        export_commit(dir.path(), &oid.to_string(), &dest).unwrap();
        assert_eq!(
            std::fs::read_to_string(dest.join("src/a.py")).unwrap(),
            "committed\n"
        );
        assert_eq!(
            std::fs::read_to_string(dir.path().join("src/a.py")).unwrap(),
            "uncommitted edit\n"
        );
        assert!(export_commit(dir.path(), &"0".repeat(40), &dest).is_err());
    }
}
