//! The sandbox stage's errors; each says what to do next.

use std::path::PathBuf;

use crate::error::Hint;

/// The hint shown whenever the engine cannot be used. Local runs are never automatic.
pub const ENGINE_HINT: &str = "start it with `sudo systemctl start docker` or `dockerd`, \
     or pass --sandbox local to run the tests on this machine";

#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("Docker engine not reachable at {host}: {reason}")]
    EngineUnreachable { host: String, reason: String },
    #[error(
        "DOCKER_HOST={host} is not supported: selfheal talks to Docker over a unix socket only"
    )]
    UnsupportedHost { host: String },
    #[error("Docker {action} failed: {source}")]
    Docker {
        action: String,
        #[source]
        source: bollard::errors::Error,
    },
    #[error("image {image} is not on this machine and validate.pull is off")]
    ImageMissing { image: String },
    #[error("pulling image {image} failed: {reason}")]
    PullFailed { image: String, reason: String },
    #[error("the sandbox base image {image} is missing")]
    BaseImageMissing { image: String },
    #[error("building the sandbox base image failed: {message}\n{tail}")]
    BaseBuildFailed { message: String, tail: String },
    #[error("no sandbox image for {dir}: the language is not recognised")]
    NoImage { dir: PathBuf },
    #[error("building image {tag} failed: {message}\n{tail}")]
    BuildFailed {
        tag: String,
        message: String,
        tail: String,
    },
    #[error("validate.setup `{command}` failed with exit code {code}:\n{tail}")]
    SetupFailed {
        command: String,
        code: i64,
        tail: String,
    },
    #[error("validate.setup `{command}` timed out after {secs} s")]
    SetupTimedOut { command: String, secs: u64 },
    #[error("reading {path} for the sandbox failed: {source}")]
    Tree {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("validate.exclude pattern {pattern:?} is invalid: {reason}")]
    BadPattern { pattern: String, reason: String },
    #[error("interrupted by Ctrl-C or SIGTERM; the container was removed")]
    Interrupted,
}

impl Hint for SandboxError {
    fn hint(&self) -> String {
        match self {
            SandboxError::EngineUnreachable { .. } => ENGINE_HINT.into(),
            SandboxError::UnsupportedHost { .. } => {
                "set DOCKER_HOST=unix:///path/to/docker.sock, or pass --sandbox local".into()
            }
            SandboxError::Docker { .. } => {
                format!("check the engine with `docker info`; {ENGINE_HINT}")
            }
            SandboxError::ImageMissing { .. } => {
                "pull, build or `docker load` it, set validate.pull = true, or clear validate.image \
                 to use a default image"
                    .into()
            }
            SandboxError::PullFailed { image, .. } => format!(
                "check that the registry answers and the name is right (`docker pull {image}`); \
                 offline, clear validate.image and run `sudo selfheal sandbox build` to use \
                 selfheal's Debian images"
            ),
            SandboxError::BaseImageMissing { .. } => {
                "build it once with `sudo selfheal sandbox build`; it needs debootstrap, root and \
                 Docker"
                    .into()
            }
            SandboxError::BaseBuildFailed { .. } => {
                "`selfheal sandbox build` needs root, debootstrap and a Debian mirror; set \
                 SELFHEAL_DEBIAN_MIRROR to a reachable one"
                    .into()
            }
            SandboxError::NoImage { .. } => {
                "set validate.image or validate.dockerfile in self-heal.toml".into()
            }
            SandboxError::BuildFailed { .. } => {
                "fix the Dockerfile, or set validate.image to an image that exists".into()
            }
            SandboxError::SetupFailed { .. } => {
                "fix the setup command in self-heal.toml; it runs once with the network on".into()
            }
            SandboxError::SetupTimedOut { .. } => {
                "raise validate.timeout_secs or make the setup lighter".into()
            }
            SandboxError::Tree { .. } => {
                "check that the repository's files are readable, or leave them out with validate.exclude".into()
            }
            SandboxError::BadPattern { .. } => "fix the pattern in validate.exclude".into(),
            SandboxError::Interrupted => String::new(),
        }
    }
}

impl SandboxError {
    /// The short reason, without the hint, for notes that go on with a fallback.
    pub fn reason(&self) -> String {
        match self {
            SandboxError::PullFailed { reason, .. } => reason.clone(),
            SandboxError::ImageMissing { image } => format!("{image} is not on this machine"),
            other => other.to_string(),
        }
    }

    /// Wraps a bollard error with what we were doing.
    pub fn docker(
        action: impl Into<String>,
    ) -> impl FnOnce(bollard::errors::Error) -> SandboxError {
        let action = action.into();
        move |source| SandboxError::Docker { action, source }
    }
}
