//! The git side of publishing, with git2 and no working tree at all.
//!
//! Commits are built in a scratch bare repository whose object store borrows the user's
//! through `objects/info/alternates`: the fix's blobs, trees and commit are written there,
//! so the user's checkout, index, HEAD and branches are never touched (only when the run's
//! commit is missing does [`ensure_commit`] fetch it, like `git fetch origin <branch>`). Pushes go
//! from the scratch repository to an anonymous remote (nothing written to any git config),
//! and the token travels only through the credentials callback
//! (`Cred::userpass_plaintext("x-access-token", token)`), never in a URL, file or log line.

use std::path::{Path, PathBuf};

use git2::{Cred, CredentialType, Oid, PushOptions, RemoteCallbacks, Repository, Signature};
use secrecy::{ExposeSecret, SecretString};

use super::PublishError;

/// One file of the fix: its new contents, or `None` to delete it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileChange {
    /// Relative to the repository root, with `/`.
    pub path: String,
    pub contents: Option<Vec<u8>>,
}

/// A scratch repository bound to the user's clone and one remote.
pub struct GitSide {
    scratch: tempfile::TempDir,
    remote_url: String,
    token: Option<SecretString>,
}

fn git(action: &'static str) -> impl FnOnce(git2::Error) -> PublishError {
    move |source| PublishError::Git { action, source }
}

impl GitSide {
    /// Sets up the scratch repository next to nothing of the user's: a temp dir.
    pub fn open(
        repo_dir: &Path,
        remote_url: &str,
        token: Option<SecretString>,
    ) -> Result<GitSide, PublishError> {
        let user = Repository::discover(repo_dir).map_err(git("open the repository"))?;
        let objects = user.commondir().join("objects");
        let scratch = tempfile::Builder::new()
            .prefix("selfheal-publish-")
            .tempdir()
            .map_err(|source| PublishError::Io {
                path: std::env::temp_dir(),
                source,
            })?;
        Repository::init_bare(scratch.path()).map_err(git("create a scratch repository"))?;
        let alternates = scratch.path().join("objects/info/alternates");
        let line = format!("{}\n", absolute(&objects).display());
        std::fs::write(&alternates, line).map_err(|source| PublishError::Io {
            path: alternates.clone(),
            source,
        })?;
        Ok(GitSide {
            scratch,
            remote_url: strip_credentials(remote_url),
            token,
        })
    }

    fn repo(&self) -> Result<Repository, PublishError> {
        Repository::open_bare(self.scratch.path()).map_err(git("open the scratch repository"))
    }

    /// A commit of `changes` on top of `base_sha`; returns its id.
    pub fn commit(
        &self,
        base_sha: &str,
        changes: &[FileChange],
        message: &str,
        name: &str,
        email: &str,
    ) -> Result<Oid, PublishError> {
        let repo = self.repo()?;
        let base_oid = Oid::from_str(base_sha).map_err(git("read the base commit id"))?;
        let base = repo
            .find_commit(base_oid)
            .map_err(|_| PublishError::MissingBase {
                sha: base_sha.to_string(),
            })?;
        let mut edits = Vec::new();
        for c in changes {
            let parts = checked_path(&c.path)?;
            let blob = match &c.contents {
                Some(bytes) => Some(repo.blob(bytes).map_err(git("write a file"))?),
                None => None,
            };
            edits.push((parts, blob));
        }
        let base_tree = base.tree().map_err(git("read the base tree"))?;
        let tree_id = edit_tree(&repo, Some(&base_tree), &edits)?;
        if tree_id == base_tree.id() {
            return Err(PublishError::EmptyChange);
        }
        let tree = repo.find_tree(tree_id).map_err(git("read the new tree"))?;
        let sig = Signature::now(name, email).map_err(git("make the commit signature"))?;
        repo.commit(None, &sig, &sig, message, &tree, &[&base])
            .map_err(git("commit"))
    }

    /// Force-pushes `commit` to `refs/heads/{branch}`. `branch` must already be vetted by
    /// [`super::check_branch`]: only selfheal's own branches are ever pushed.
    pub fn push(&self, commit: Oid, branch: &str) -> Result<(), PublishError> {
        let repo = self.repo()?;
        let local = format!("refs/selfheal-push/{branch}");
        repo.reference(&local, commit, true, "selfheal push")
            .map_err(git("name the commit"))?;
        let mut remote = repo
            .remote_anonymous(&self.remote_url)
            .map_err(git("set up the remote"))?;
        let rejected = std::cell::RefCell::new(None::<String>);
        let mut cb = token_callbacks(self.token.clone());
        cb.push_update_reference(|name, status| {
            if let Some(msg) = status {
                *rejected.borrow_mut() = Some(format!("{name}: {msg}"));
            }
            Ok(())
        });
        let mut opts = PushOptions::new();
        opts.remote_callbacks(cb);
        let spec = format!("+{local}:refs/heads/{branch}");
        remote
            .push(&[spec.as_str()], Some(&mut opts))
            .map_err(git("push"))?;
        drop(opts);
        match rejected.into_inner() {
            Some(why) => Err(PublishError::PushRejected { why }),
            None => Ok(()),
        }
    }
}

/// Makes sure the run's commit is in the user's clone (a shallow or single-branch checkout
/// may lack it): fetches `branch` into `refs/remotes/origin/<branch>`, then the sha itself.
/// Only the object store and that remote-tracking ref change; never the working tree.
/// Returns whether anything was fetched.
pub fn ensure_commit(
    repo_dir: &Path,
    remote_url: &str,
    token: Option<SecretString>,
    branch: &str,
    sha: &str,
) -> Result<bool, PublishError> {
    let repo = Repository::discover(repo_dir).map_err(git("open the repository"))?;
    let oid = Oid::from_str(sha).map_err(git("read the commit id"))?;
    if repo.find_commit(oid).is_ok() {
        return Ok(false);
    }
    let mut remote = repo
        .remote_anonymous(&strip_credentials(remote_url))
        .map_err(git("set up the remote"))?;
    let by_branch = format!("+refs/heads/{branch}:refs/remotes/origin/{branch}");
    for spec in [by_branch.as_str(), sha] {
        let mut opts = git2::FetchOptions::new();
        opts.remote_callbacks(token_callbacks(token.clone()));
        let fetched = remote.fetch(&[spec], Some(&mut opts), None);
        if fetched.is_ok() && repo.find_commit(oid).is_ok() {
            return Ok(true);
        }
    }
    Err(PublishError::MissingBase {
        sha: sha.to_string(),
    })
}

/// The token, offered once per operation as Basic auth `x-access-token:<token>`; a second
/// request for credentials means it was rejected, so the operation stops instead of looping.
fn token_callbacks<'a>(token: Option<SecretString>) -> RemoteCallbacks<'a> {
    let mut cb = RemoteCallbacks::new();
    let mut offered = false;
    cb.credentials(move |_url, _user, allowed| {
        let Some(token) = token.as_ref() else {
            return Err(git2::Error::from_str(
                "the git server wants credentials and no token is set",
            ));
        };
        if offered || !allowed.contains(CredentialType::USER_PASS_PLAINTEXT) {
            return Err(git2::Error::from_str("the git server rejected the token"));
        }
        offered = true;
        Cred::userpass_plaintext("x-access-token", token.expose_secret())
    });
    cb
}

fn absolute(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf())
}

/// The URL without `user[:password]@`, so a token pasted into a remote never travels from there.
pub fn strip_credentials(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let host = authority.rsplit('@').next().unwrap_or(authority);
    if path.is_empty() && !rest.contains('/') {
        format!("{scheme}://{host}")
    } else {
        format!("{scheme}://{host}/{path}")
    }
}

/// Path components, refusing anything that could leave the tree or touch `.git`.
fn checked_path(path: &str) -> Result<Vec<String>, PublishError> {
    let parts: Vec<String> = path.split('/').map(str::to_string).collect();
    let bad = path.starts_with('/')
        || path.contains('\\')
        || parts
            .iter()
            .any(|p| p.is_empty() || p == "." || p == ".." || p.eq_ignore_ascii_case(".git"));
    if bad {
        return Err(PublishError::BadPath { path: path.into() });
    }
    Ok(parts)
}

type Edit = (Vec<String>, Option<Oid>);

/// Rewrites `base` with the edits, one directory level at a time. Modes of changed files
/// are kept (an executable stays executable); new files are 0644; empty folders vanish.
fn edit_tree(
    repo: &Repository,
    base: Option<&git2::Tree<'_>>,
    edits: &[Edit],
) -> Result<Oid, PublishError> {
    let mut tb = repo.treebuilder(base).map_err(git("edit a tree"))?;
    let mut names: Vec<&String> = edits.iter().map(|(p, _)| &p[0]).collect();
    names.sort();
    names.dedup();
    for name in names {
        let here: Vec<&Edit> = edits.iter().filter(|(p, _)| &p[0] == name).collect();
        let existing = base.and_then(|t| t.get_name(name));
        if let Some((_, blob)) = here.iter().find(|(p, _)| p.len() == 1) {
            match blob {
                Some(oid) => {
                    let mode = existing
                        .as_ref()
                        .map(|e| e.filemode())
                        .filter(|m| *m == 0o100755 || *m == 0o100644)
                        .unwrap_or(0o100644);
                    tb.insert(name, *oid, mode).map_err(git("add a file"))?;
                }
                None if existing.is_some() => tb.remove(name).map_err(git("remove a file"))?,
                None => {}
            }
            continue;
        }
        let sub_base = existing
            .as_ref()
            .filter(|e| e.kind() == Some(git2::ObjectType::Tree))
            .and_then(|e| repo.find_tree(e.id()).ok());
        let rest: Vec<Edit> = here.iter().map(|(p, b)| (p[1..].to_vec(), *b)).collect();
        let sub = edit_tree(repo, sub_base.as_ref(), &rest)?;
        if repo.find_tree(sub).map(|t| t.is_empty()).unwrap_or(false) {
            if existing.is_some() {
                tb.remove(name).map_err(git("remove a folder"))?;
            }
        } else {
            tb.insert(name, sub, 0o040000)
                .map_err(git("add a folder"))?;
        }
    }
    tb.write().map_err(git("write a tree"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_stripped_from_urls() {
        assert_eq!(
            strip_credentials("https://x-access-token:ghs_abc@github.com/acme/api.git"),
            "https://github.com/acme/api.git"
        );
        assert_eq!(
            strip_credentials("file:///srv/api.git"),
            "file:///srv/api.git"
        );
        assert_eq!(strip_credentials("/srv/api.git"), "/srv/api.git");
    }

    #[test]
    fn paths_that_escape_are_refused() {
        for bad in [
            "../x",
            "a/../../x",
            "/etc/passwd",
            ".git/config",
            "a//b",
            "a\\b",
            "sub/.GIT/hooks",
        ] {
            assert!(checked_path(bad).is_err(), "{bad}");
        }
        assert_eq!(checked_path("src/lib.rs").unwrap(), ["src", "lib.rs"]);
    }
}
