//! Which URL git fetches the run's commit from and pushes fixes to.
//!
//! Laptop clones mostly use SSH (`git@github.com:o/r.git`, `ssh://…`), which git2 is not
//! built for, and a remote on another host must never receive the GitHub token. So the
//! traffic goes over HTTPS to the host the API URL names (or `[github] git_url`), whatever
//! form `origin` has: `https://api.github.com` → `https://github.com/o/r.git`,
//! `https://HOST/api/v3` (GitHub Enterprise Server) → `https://HOST/o/r.git`. Only a local
//! `origin` (a path or `file://`), which needs no token, is used as it is. The user's remote
//! configuration is only read, never written: git2 pushes through an anonymous remote.

use std::path::Path;

use crate::github::RepoSlug;

/// The git URL of `repo`: `git_url` when set, else a local `origin` of the clone at
/// `repo_dir`, else HTTPS on the API's host.
pub fn git_remote_url(git_url: &str, api_url: &str, repo: &RepoSlug, repo_dir: &Path) -> String {
    let base = git_url.trim().trim_end_matches('/');
    if !base.is_empty() {
        return format!("{base}/{}/{}.git", repo.owner, repo.name);
    }
    if let Ok(origin) = crate::github::origin_url(repo_dir)
        && is_local(&origin)
    {
        return origin;
    }
    push_url(api_url, repo)
}

/// A remote on this machine: `file://…` or a plain path (not `host:path`, which is SSH).
fn is_local(url: &str) -> bool {
    url.starts_with("file://")
        || url.starts_with('/')
        || url.starts_with("./")
        || url.starts_with("../")
}

/// The HTTPS URL of a repository on the host of `api_url`, keeping the scheme and port of
/// a plain-HTTP API (a local test server): `https://api.github.com` → `https://github.com`,
/// `https://HOST[:PORT]/api/v3` → `https://HOST[:PORT]`.
pub fn push_url(api_url: &str, repo: &RepoSlug) -> String {
    let tail = format!("{}/{}.git", repo.owner, repo.name);
    let Ok(url) = reqwest::Url::parse(api_url) else {
        return format!("https://github.com/{tail}");
    };
    let host = match url.host_str() {
        Some("api.github.com") | None => "github.com",
        Some(h) => h,
    };
    let scheme = if url.scheme() == "http" {
        "http"
    } else {
        "https"
    };
    let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
    // A GHES API lives under /api/v3; anything before that is the web root.
    let root = url
        .path()
        .split("/api/")
        .next()
        .unwrap_or("")
        .trim_end_matches('/');
    format!("{scheme}://{host}{port}{root}/{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slug() -> RepoSlug {
        "acme/api".parse().unwrap()
    }

    #[test]
    fn the_api_host_names_the_git_host() {
        let r = slug();
        assert_eq!(
            push_url("https://api.github.com", &r),
            "https://github.com/acme/api.git"
        );
        assert_eq!(
            push_url("https://ghe.example/api/v3", &r),
            "https://ghe.example/acme/api.git"
        );
        assert_eq!(
            push_url("https://ghe.example:8443/api/v3/", &r),
            "https://ghe.example:8443/acme/api.git"
        );
        assert_eq!(
            push_url("http://127.0.0.1:4000/api/v3", &r),
            "http://127.0.0.1:4000/acme/api.git"
        );
    }

    fn clone_with_origin(url: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let repo = git2::Repository::init(dir.path()).unwrap();
        repo.remote("origin", url).unwrap();
        dir
    }

    #[test]
    fn ssh_and_foreign_origins_go_to_the_api_host_and_local_ones_stay() {
        let r = slug();
        for origin in [
            "git@github.com:acme/api.git",
            "ssh://git@github.com/acme/api.git",
            "https://mirror.example/acme/api.git",
        ] {
            let dir = clone_with_origin(origin);
            assert_eq!(
                git_remote_url("", "https://api.github.com", &r, dir.path()),
                "https://github.com/acme/api.git",
                "{origin}"
            );
        }
        let ghes = clone_with_origin("git@ghe.example:acme/api.git");
        assert_eq!(
            git_remote_url("", "https://ghe.example/api/v3", &r, ghes.path()),
            "https://ghe.example/acme/api.git"
        );
        let local = clone_with_origin("file:///srv/api.git");
        assert_eq!(
            git_remote_url("", "https://api.github.com", &r, local.path()),
            "file:///srv/api.git"
        );
        assert_eq!(
            git_remote_url(
                "http://127.0.0.1:9/",
                "https://api.github.com",
                &r,
                local.path()
            ),
            "http://127.0.0.1:9/acme/api.git"
        );
        let config = std::fs::read_to_string(local.path().join(".git/config")).unwrap();
        assert!(config.contains("file:///srv/api.git"), "{config}");
    }
}
