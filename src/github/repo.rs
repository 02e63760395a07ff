//! Which repository selfheal works on: `--repo OWNER/NAME`, else `GITHUB_REPOSITORY`, else
//! `[github] repo`, else the `origin` remote of the clone (https, `git@host:o/r.git`,
//! `ssh://`, GHES hosts alike).

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use super::error::GithubError;

/// `owner/name`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct RepoSlug {
    pub owner: String,
    pub name: String,
}

impl fmt::Display for RepoSlug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.owner, self.name)
    }
}

impl FromStr for RepoSlug {
    type Err = GithubError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = || GithubError::InvalidRepo {
            input: s.to_string(),
        };
        let (owner, name) = s.trim().split_once('/').ok_or_else(invalid)?;
        let name = name.strip_suffix(".git").unwrap_or(name);
        if !valid_part(owner) || !valid_part(name) {
            return Err(invalid());
        }
        Ok(RepoSlug {
            owner: owner.to_string(),
            name: name.to_string(),
        })
    }
}

/// GitHub allows letters, digits, `-`, `_` and `.` in owner and repository names.
fn valid_part(s: &str) -> bool {
    !s.is_empty()
        && s != "."
        && s != ".."
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

impl RepoSlug {
    /// `/repos/{owner}/{name}`.
    pub fn api_path(&self) -> String {
        format!("/repos/{}/{}", self.owner, self.name)
    }
}

/// Where the repository came from, in order of precedence.
#[derive(Clone, Debug, Default)]
pub struct RepoHints<'a> {
    pub flag: Option<&'a str>,
    pub env_github_repository: Option<&'a str>,
    pub config: Option<&'a str>,
    /// A clone whose `origin` remote names the repository.
    pub repo_dir: Option<&'a Path>,
}

/// Picks the repository from the first hint that is set.
pub fn resolve_repo(hints: &RepoHints<'_>) -> Result<RepoSlug, GithubError> {
    let explicit = [hints.flag, hints.env_github_repository, hints.config];
    if let Some(s) = explicit
        .into_iter()
        .flatten()
        .find(|s| !s.trim().is_empty())
    {
        return s.parse();
    }
    let dir = hints.repo_dir.ok_or_else(|| GithubError::NoRepo {
        why: "no --repo, GITHUB_REPOSITORY or [github] repo, and no clone to look at".into(),
    })?;
    let url = origin_url(dir)?;
    parse_remote_url(&url)
        .map(|(_, slug)| slug)
        .ok_or_else(|| GithubError::NoRepo {
            why: format!("the origin remote {url:?} is not a GitHub repository URL"),
        })
}

/// The URL of the `origin` remote of the clone at `dir` (or any folder inside it).
pub fn origin_url(dir: &Path) -> Result<String, GithubError> {
    let no_repo = |why: String| GithubError::NoRepo { why };
    let repo = git2::Repository::discover(dir).map_err(|e| {
        no_repo(format!(
            "{} is not a git clone ({})",
            dir.display(),
            e.message()
        ))
    })?;
    let remote = repo
        .find_remote("origin")
        .map_err(|_| no_repo("the clone has no `origin` remote".into()))?;
    remote
        .url()
        .map(str::to_string)
        .map_err(|_| no_repo("the origin URL is not UTF-8".into()))
}

/// `(host, owner/name)` from a remote URL: `https://host/o/r(.git)`, `git@host:o/r.git`,
/// `ssh://git@host[:port]/o/r.git`, `git://host/o/r`. Credentials in the URL are ignored.
pub fn parse_remote_url(url: &str) -> Option<(String, RepoSlug)> {
    let url = url.trim();
    let (host, path) = if let Some((scheme, rest)) = url.split_once("://") {
        if !matches!(scheme, "https" | "http" | "ssh" | "git" | "git+ssh") {
            return None;
        }
        let (authority, path) = rest.split_once('/')?;
        let host = authority.rsplit('@').next()?;
        let host = host.split(':').next()?;
        (host.to_string(), path.to_string())
    } else {
        // scp-like: [user@]host:owner/name.git
        let (left, path) = url.split_once(':')?;
        let host = left.rsplit('@').next()?;
        (host.to_string(), path.to_string())
    };
    let path = path.trim_matches('/');
    let mut parts = path.rsplitn(3, '/');
    let name = parts.next()?;
    let owner = parts.next()?;
    let slug: RepoSlug = format!("{owner}/{name}").parse().ok()?;
    (!host.is_empty()).then_some((host.to_lowercase(), slug))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Hint;

    fn slug(s: &str) -> RepoSlug {
        s.parse().unwrap()
    }

    #[test]
    fn parses_remote_forms() {
        let cases = [
            ("https://github.com/acme/api.git", "github.com"),
            ("https://github.com/acme/api", "github.com"),
            (
                "https://x-access-token:abc@github.com/acme/api.git",
                "github.com",
            ),
            ("git@github.com:acme/api.git", "github.com"),
            ("ssh://git@github.com/acme/api.git", "github.com"),
            ("ssh://git@ghe.acme.com:2222/acme/api.git", "ghe.acme.com"),
            ("https://GHE.acme.com/acme/api/", "ghe.acme.com"),
            ("git://github.com/acme/api", "github.com"),
        ];
        for (url, host) in cases {
            let (h, s) = parse_remote_url(url).unwrap_or_else(|| panic!("{url}"));
            assert_eq!((h.as_str(), s), (host, slug("acme/api")), "{url}");
        }
    }

    #[test]
    fn rejects_non_repo_urls() {
        for url in [
            "/srv/git/api.git",
            "file:///srv/api.git",
            "https://github.com/acme",
            "",
        ] {
            assert_eq!(parse_remote_url(url), None, "{url}");
        }
    }

    #[test]
    fn slug_validation() {
        assert_eq!(slug("acme/my.repo-1").name, "my.repo-1");
        for bad in ["acme", "acme/", "/api", "a/b/c", "acme/a b", "../x"] {
            assert!(bad.parse::<RepoSlug>().is_err(), "{bad}");
        }
    }

    #[test]
    fn precedence_flag_env_config_origin() {
        let dir = tempfile::tempdir().unwrap();
        let repo = git2::Repository::init(dir.path()).unwrap();
        repo.remote("origin", "git@ghe.acme.com:from/origin.git")
            .unwrap();
        let mut hints = RepoHints {
            flag: Some("from/flag"),
            env_github_repository: Some("from/env"),
            config: Some("from/config"),
            repo_dir: Some(dir.path()),
        };
        assert_eq!(resolve_repo(&hints).unwrap(), slug("from/flag"));
        hints.flag = None;
        assert_eq!(resolve_repo(&hints).unwrap(), slug("from/env"));
        hints.env_github_repository = None;
        assert_eq!(resolve_repo(&hints).unwrap(), slug("from/config"));
        hints.config = Some("");
        assert_eq!(resolve_repo(&hints).unwrap(), slug("from/origin"));
    }

    #[test]
    fn no_origin_is_a_hinted_error() {
        let dir = tempfile::tempdir().unwrap();
        git2::Repository::init(dir.path()).unwrap();
        let e = resolve_repo(&RepoHints {
            repo_dir: Some(dir.path()),
            ..Default::default()
        })
        .unwrap_err();
        assert!(e.to_string().contains("no `origin` remote"), "{e}");
        assert!(e.hint().contains("--repo"));
    }
}
