//! The GitHub stage's errors. Each message names the operation (`list workflow runs for
//! acme/api`) and what GitHub answered; [`GithubError::hint`] says what to do next.

use std::path::PathBuf;

/// Everything that can go wrong talking to GitHub.
use crate::error::Hint;

#[derive(Debug, thiserror::Error)]
pub enum GithubError {
    #[error("no GitHub token for {what}")]
    MissingToken { what: String },
    #[error("failed to {what}: GitHub answered 401 (token rejected: {message})")]
    Unauthorized { what: String, message: String },
    #[error("failed to {what}: GitHub answered 403 ({message})")]
    Forbidden { what: String, message: String },
    #[error("failed to {what}: log not found (GitHub answered 404)")]
    LogNotFound { what: String },
    #[error("failed to {what}: GitHub answered 404 ({message})")]
    NotFound { what: String, message: String },
    #[error(
        "failed to {what}: rate limited and the wait ({wait_secs} s) would pass the limit of {max_secs} s"
    )]
    RateLimited {
        what: String,
        wait_secs: u64,
        max_secs: u64,
    },
    #[error("failed to {what}: GitHub answered {status} after {attempts} attempt(s) ({message})")]
    Status {
        what: String,
        status: u16,
        attempts: u32,
        message: String,
    },
    #[error("failed to {what}: could not reach {url}")]
    Transport {
        what: String,
        url: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("failed to {what}: the download is not a ZIP archive (it starts with {start:?})")]
    NotAZip { what: String, start: String },
    #[error("failed to {what}: the download is an HTML page, not a log")]
    NotALog { what: String },
    #[error("failed to {what}: GitHub's answer does not parse")]
    Decode {
        what: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("failed to {what}: a redirect or page link points to {url}")]
    BadLink { what: String, url: String },
    #[error("failed to {what}: cannot write {path}")]
    Io {
        what: String,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{input:?} is not a repository in OWNER/NAME form")]
    InvalidRepo { input: String },
    #[error("cannot tell which GitHub repository to use: {why}")]
    NoRepo { why: String },
    #[error("failed to {what}: {message}")]
    App { what: String, message: String },
    #[error("failed to {what}: GitHub answered {status} ({message})")]
    Rejected {
        what: String,
        status: u16,
        message: String,
    },
}

impl Hint for GithubError {
    fn hint(&self) -> String {
        match self {
            GithubError::MissingToken { .. } => {
                "set GH_TOKEN or GITHUB_TOKEN to a token that can read Actions (or [github] token in self-heal.toml)".into()
            }
            GithubError::Unauthorized { .. } => {
                "the token is wrong or expired: set GH_TOKEN or GITHUB_TOKEN to a valid token that can read Actions".into()
            }
            GithubError::Forbidden { .. } => {
                "give the token these permissions: actions: read, contents: write, pull-requests: write (in a workflow, under `permissions:`)".into()
            }
            GithubError::LogNotFound { .. } => {
                "the logs expired or the run was deleted; logs are kept 90 days by default".into()
            }
            GithubError::NotFound { .. } => {
                "check --repo OWNER/NAME and that the token can see the repository".into()
            }
            GithubError::RateLimited { .. } => {
                "wait for the limit to reset, or raise [github] max_wait_secs in self-heal.toml".into()
            }
            GithubError::Status { status, .. } if *status >= 500 => {
                "GitHub is having trouble; try again later (https://www.githubstatus.com)".into()
            }
            GithubError::Status { .. } | GithubError::Rejected { .. } => {
                "see GitHub's message above; run with RUST_LOG=selfheal=debug for the request".into()
            }
            GithubError::Transport { .. } => {
                "check the network and --api-url / GITHUB_API_URL (GHES: https://HOST/api/v3)".into()
            }
            GithubError::NotAZip { .. } | GithubError::NotALog { .. } => {
                "the download was cut or replaced by an error page; run again later".into()
            }
            GithubError::Decode { .. } => {
                "the API URL may not be GitHub's: check --api-url / GITHUB_API_URL".into()
            }
            GithubError::BadLink { .. } => {
                "a proxy may be rewriting GitHub's answers; check --api-url".into()
            }
            GithubError::Io { .. } => "check that the state directory is writable".into(),
            GithubError::InvalidRepo { .. } => "pass --repo OWNER/NAME, e.g. --repo acme/api".into(),
            GithubError::App { .. } => {
                "check [github] app_id (SELFHEAL_GITHUB_APP_ID), the App's private key (SELFHEAL_GITHUB_APP_PRIVATE_KEY or [github] app_private_key_path), and that the App is installed on this repository".into()
            }
            GithubError::NoRepo { .. } => {
                "pass --repo OWNER/NAME, set GITHUB_REPOSITORY, or run inside a clone with an `origin` remote".into()
            }
        }
    }
}

impl From<GithubError> for crate::error::Error {
    fn from(e: GithubError) -> Self {
        crate::error::Error::from_stage(crate::error::exit::ERROR, e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unauthorized_message_and_hint() {
        let e = GithubError::Unauthorized {
            what: "list workflow runs for acme/api".into(),
            message: "Bad credentials".into(),
        };
        assert_eq!(
            e.to_string(),
            "failed to list workflow runs for acme/api: GitHub answered 401 (token rejected: Bad credentials)"
        );
        assert!(e.hint().contains("GH_TOKEN"));
    }

    #[test]
    fn forbidden_names_the_permissions() {
        let e = GithubError::Forbidden {
            what: "create a pull request".into(),
            message: "Resource not accessible by integration".into(),
        };
        let top: crate::error::Error = e.into();
        let hint = top.hint.unwrap();
        for p in ["actions: read", "contents: write", "pull-requests: write"] {
            assert!(hint.contains(p), "{hint}");
        }
    }
}
