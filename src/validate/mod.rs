//! Validation, the stage: proves a patched tree by running the project's tests in the
//! sandbox the configuration names, and says how it went.
//!
//! [`LocalValidator`] runs the command on this machine (in the copy the caller points it
//! at), [`crate::sandbox::DockerValidator`] runs it in a locked-down container on a tar
//! copy of the tree. [`Sandbox`] holds either, chosen once from `Config::sandbox()`; its
//! errors are [`ValidateError`], which keeps a [`SandboxError`] typed. Local execution is
//! never a silent fallback for Docker: `docker` fails when no engine answers; the default
//! (`auto`) outside CI uses Docker when an engine answers, else runs locally and says so in
//! one warning line. The local validator runs without the secrets of the environment
//! ([`env`]). The request, outcome and validator trait live in [`crate::testrun`], below
//! both validators.

pub mod env;
pub mod local;

use std::path::{Path, PathBuf};

pub use crate::testrun::{
    Lang, Outcome, OutputSink, Tail, ValidationRequest, Validator, detect_command, detect_lang,
    map_test_ids, scoped_command, shell_quote, validate_scoped,
};
pub use local::LocalValidator;

use crate::config::Config;
use crate::error::{Error, Hint, exit};
use crate::sandbox::{DockerOptions, DockerValidator, SandboxError};

/// Errors of the validation stage. Test failures are not errors: they are [`Outcome`]s.
#[derive(Debug, thiserror::Error)]
pub enum ValidateError {
    #[error("no test command found for {dir}")]
    NoCommand { dir: PathBuf },
    #[error("could not start `sh -c {command}` in {dir}: {source}")]
    Spawn {
        command: String,
        dir: PathBuf,
        source: std::io::Error,
    },
    #[error("waiting for `{command}` failed: {source}")]
    Wait {
        command: String,
        source: std::io::Error,
    },
    #[error(
        "validation interrupted by Ctrl-C or SIGTERM; its processes and containers were removed"
    )]
    Interrupted,
    #[error(transparent)]
    Sandbox(SandboxError),
}

impl From<SandboxError> for ValidateError {
    fn from(e: SandboxError) -> Self {
        match e {
            SandboxError::Interrupted => ValidateError::Interrupted,
            other => ValidateError::Sandbox(other),
        }
    }
}

impl Hint for ValidateError {
    fn hint(&self) -> String {
        match self {
            ValidateError::NoCommand { .. } => {
                "set validate.command in self-heal.toml, e.g. `command = \"make test\"`".into()
            }
            ValidateError::Spawn { .. } => {
                "check that the directory exists and `sh` is on PATH".into()
            }
            ValidateError::Wait { .. } => {
                "run again; if it repeats, run the command by hand".into()
            }
            ValidateError::Interrupted => String::new(),
            ValidateError::Sandbox(e) => e.hint(),
        }
    }
}

impl From<ValidateError> for Error {
    fn from(e: ValidateError) -> Self {
        let code = if matches!(e, ValidateError::Interrupted) {
            exit::INTERRUPTED
        } else {
            exit::ERROR
        };
        Error::from_stage(code, e)
    }
}

/// The validator chosen from `validate.sandbox` (`local` or `docker`).
pub enum Sandbox {
    Local(LocalValidator),
    Docker(Box<DockerValidator>),
}

impl Sandbox {
    /// Sends image build and setup lines to `progress` (the Docker sandbox; the local one
    /// has no such step).
    pub fn with_progress(self, progress: impl Fn(&str) + Send + Sync + 'static) -> Sandbox {
        match self {
            Sandbox::Docker(docker) => Sandbox::Docker(Box::new(docker.with_progress(progress))),
            local => local,
        }
    }

    /// The validator `config.sandbox()` names: `docker` connects to the engine (an error if
    /// it is not reachable, never a quiet switch to local), `local` runs on this machine
    /// with the build caches of `repo_root` (see [`crate::workcopy::cache_env`]) and the
    /// secrets removed from its environment, and `auto` (outside CI) takes Docker when an
    /// engine answers, else local with a warning saying so.
    pub async fn from_config(config: &Config, repo_root: &Path) -> Result<Chosen, ValidateError> {
        Sandbox::for_job(config, repo_root, None).await
    }

    /// As [`Sandbox::from_config`], with the failed job's own `container:` image tried
    /// before the default images (Docker only).
    pub async fn for_job(
        config: &Config,
        repo_root: &Path,
        job_image: Option<String>,
    ) -> Result<Chosen, ValidateError> {
        let local = || {
            let mut local = LocalValidator::new().without_secrets(&config.validate.pass_env);
            for (k, v) in crate::workcopy::cache_env(repo_root) {
                local = local.with_env(k, v);
            }
            Sandbox::Local(local)
        };
        let docker = || async {
            let host = config.env.docker_host.clone();
            let mut opts = DockerOptions::from_config(&config.validate, host);
            opts.job_image = job_image.clone();
            DockerValidator::connect(opts).await
        };
        Ok(match config.sandbox() {
            "docker" => Chosen::quiet(Sandbox::Docker(Box::new(docker().await?))),
            "local" => Chosen::quiet(local()),
            _ => match docker().await {
                Ok(d) => Chosen::quiet(Sandbox::Docker(Box::new(d))),
                Err(SandboxError::EngineUnreachable { host, reason }) => Chosen {
                    sandbox: local(),
                    warning: Some(local_warning(&format!("{host}: {reason}"))),
                },
                Err(SandboxError::UnsupportedHost { host }) => Chosen {
                    sandbox: local(),
                    warning: Some(local_warning(&format!(
                        "DOCKER_HOST={host} is not a unix socket"
                    ))),
                },
                Err(e) => return Err(e.into()),
            },
        })
    }
    /// `docker` or `local`, for reports.
    pub fn kind(&self) -> &'static str {
        match self {
            Sandbox::Local(_) => "local",
            Sandbox::Docker(_) => "docker",
        }
    }
}

impl Validator for Sandbox {
    type Error = ValidateError;

    async fn validate(&self, req: &ValidationRequest) -> Result<Outcome, ValidateError> {
        match self {
            Sandbox::Local(v) => v.validate(req).await,
            Sandbox::Docker(v) => Ok(v.validate(req).await?),
        }
    }
}

/// The sandbox picked, and the one warning line to show when it is not what the user
/// would expect (local because no Docker engine answered).
pub struct Chosen {
    pub sandbox: Sandbox,
    pub warning: Option<String>,
}

impl Chosen {
    fn quiet(sandbox: Sandbox) -> Chosen {
        Chosen {
            sandbox,
            warning: None,
        }
    }
}

fn local_warning(reason: &str) -> String {
    format!(
        "no Docker engine to run the tests in ({reason}); the project's tests, with the model's patch, run on this \
         machine in a copy of the tree, without your tokens and keys in their environment \
         (--sandbox docker to require Docker, --sandbox local to silence this)"
    )
}

/// The test command: `validate.command` when set, else the one detected in `repo_dir`.
pub fn resolve_command(configured: &str, repo_dir: &Path) -> Result<String, ValidateError> {
    if !configured.trim().is_empty() {
        return Ok(configured.trim().to_string());
    }
    detect_command(repo_dir).ok_or_else(|| ValidateError::NoCommand {
        dir: repo_dir.to_path_buf(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolve_command_prefers_config() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            resolve_command(" make test ", dir.path()).unwrap(),
            "make test"
        );
        let err = resolve_command("", dir.path()).unwrap_err();
        assert!(err.hint().contains("validate.command"), "{err}");
        std::fs::write(dir.path().join("go.mod"), "module x").unwrap();
        assert_eq!(resolve_command("", dir.path()).unwrap(), "go test ./...");
    }

    #[test]
    fn interrupted_maps_to_exit_130() {
        let e: Error = ValidateError::from(SandboxError::Interrupted).into();
        assert_eq!(e.code, exit::INTERRUPTED);
    }
}
