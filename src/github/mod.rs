//! The GitHub REST API: auth, base URL (GHES too), pagination, rate limits and retries,
//! runs, jobs, log downloads, refs, pull requests, their comments and labels, re-runs, and
//! GitHub App installation tokens. Knows nothing of log contents, the
//! LLM or git.
//!
//! The contract is shared/github-api (copied under `tests/contract/github-api/`); `fake`
//! serves it on 127.0.0.1 for tests, built from the contract's own examples and checked
//! against its schemas by `schema`. Both are test support: compiled only for tests and
//! with the `test-support` feature, never into the product.

mod api;
mod app;
mod client;
mod clock;
mod download;
mod error;
#[cfg(any(test, feature = "test-support"))]
pub mod fake;
mod issues;
mod pages;
mod ratelimit;
mod repo;
#[cfg(any(test, feature = "test-support"))]
pub mod schema;
mod select;
mod types;

pub use api::{Polled, PullFilter, RunFilter};
pub use app::{AppKey, Installation, connect};
pub use client::{
    API_VERSION, Client, ClientOptions, Credentials, DEFAULT_API_URL, Transfer, TransferFn,
    init_tls,
};
pub use clock::{Clock, FakeClock, Sleep, SystemClock};
pub use download::{ZIP_MAGIC, is_missing_log};
pub use error::GithubError;
pub use pages::{link_with_rel, next_link};
pub use ratelimit::{Verdict, classify, is_secondary_message};
pub use repo::{RepoHints, RepoSlug, origin_url, parse_remote_url, resolve_repo};
pub use select::exclusion;
pub use types::{
    BranchRef, Commit, CommitDetail, GitActor, GitObject, GitRef, IssueComment, Job, JobList,
    Label, NewPull, PullRequest, RepoPermissions, RepoRef, Repository, Run, RunList,
    RunPullRequest, Step, User,
};
