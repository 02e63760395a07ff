//! Docker sandbox: validates a patched tree in a container, never touching the user's tree.
//!
//! [`DockerValidator`] picks an image (`validate.image`, pulled when missing, else the
//! repository's `validate.dockerfile`, else the failed job's own `container:` image, else a
//! default per language: the official image from [`official`] when a registry answers, else
//! selfheal's Debian image from [`images`]), runs `validate.setup` (or the official image's
//! default setup) once with the network on and caches the result as an image keyed by the
//! lock files, then for each validation copies the tree in as a tar stream and runs the
//! command with no network, resource limits, no capabilities and a deadline
//! ([`container`]). An unreachable engine is an error with a hint; this module never falls
//! back to running tests on the host.

pub mod container;
pub mod engine;
pub mod error;
pub mod images;
pub mod job_container;
pub mod official;
pub mod pull;
pub mod recipe;
pub mod sweep;
pub mod tree;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

pub use container::{Container, ContainerSpec, Limits, RunResult};
pub use engine::Engine;
pub use error::SandboxError;
pub use images::ensure_default;
pub use sweep::{SweepPolicy, sweep_stale};
pub use tree::TreeFilter;

use crate::config::ValidateConfig;
use crate::interrupt::interrupted;
use crate::testrun::{Lang, Outcome, OutputSink, ValidationRequest, Validator, detect_lang};

/// Environment of every sandboxed command.
pub const SANDBOX_ENV: &[&str] = &["CI=true", "SELFHEAL_SANDBOX=docker"];

/// The `[validate]` settings the sandbox uses, plus where the engine is.
#[derive(Clone, Debug)]
pub struct DockerOptions {
    pub image: Option<String>,
    /// The failed job's own `container:` image (from its workflow), tried before the defaults.
    pub job_image: Option<String>,
    /// Where default images come from when no image is named.
    pub images: ImageSource,
    /// Pull missing images through the engine.
    pub pull: bool,
    /// Registry path official images are pulled through; empty for Docker Hub.
    pub registry_mirror: String,
    /// Relative to the repository root.
    pub dockerfile: Option<PathBuf>,
    pub setup: Option<String>,
    pub limits: Limits,
    pub network: bool,
    pub exclude: Vec<String>,
    /// The DOCKER_HOST value, if any (`unix://…`).
    pub docker_host: Option<String>,
    /// Deadline of `validate.setup`.
    pub setup_timeout: Duration,
}

impl DockerOptions {
    pub fn from_config(v: &ValidateConfig, docker_host: Option<String>) -> DockerOptions {
        let non_empty = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_string());
        DockerOptions {
            image: non_empty(&v.image),
            job_image: None,
            images: ImageSource::parse(&v.images),
            pull: v.pull,
            registry_mirror: v.registry_mirror.trim().to_string(),
            dockerfile: non_empty(&v.dockerfile).map(PathBuf::from),
            setup: non_empty(&v.setup),
            limits: Limits {
                memory_mb: v.memory_mb,
                cpus: v.cpus,
                pids: v.pids,
            },
            network: v.network,
            exclude: v.exclude.clone(),
            docker_host,
            setup_timeout: Duration::from_secs(v.timeout_secs.max(60)),
        }
    }
}

impl Default for DockerOptions {
    fn default() -> Self {
        DockerOptions {
            image: None,
            job_image: None,
            images: ImageSource::Auto,
            pull: true,
            registry_mirror: String::new(),
            dockerfile: None,
            setup: None,
            limits: Limits {
                memory_mb: 2048,
                cpus: 2.0,
                pids: 512,
            },
            network: false,
            exclude: Vec::new(),
            docker_host: None,
            setup_timeout: Duration::from_secs(600),
        }
    }
}

/// Where the default image of a language comes from (`[validate] images`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImageSource {
    /// The official image when it is present or can be pulled, else selfheal's Debian image.
    Auto,
    /// The official image, pulled when missing; an error when it cannot be had.
    Official,
    /// selfheal's Debian images only (built from `selfheal sandbox build`'s base).
    Local,
}

impl ImageSource {
    /// From the config value (validated when the config loads; unknown means `auto`).
    pub fn parse(value: &str) -> ImageSource {
        match value {
            "official" => ImageSource::Official,
            "local" => ImageSource::Local,
            _ => ImageSource::Auto,
        }
    }
}

/// The image tests start from, and whether it is an official one (which needs a setup).
#[derive(Clone, Debug, PartialEq, Eq)]
struct BaseChoice {
    image: String,
    official: Option<Lang>,
}

type ProgressFn = Arc<dyn Fn(&str) + Send + Sync>;

/// Runs validations in Docker containers.
pub struct DockerValidator {
    engine: Engine,
    opts: DockerOptions,
    filter: TreeFilter,
    sink: Option<OutputSink>,
    progress: ProgressFn,
    /// Prepared images by (language, lock-file hash); the lock serialises builds.
    prepared: tokio::sync::Mutex<HashMap<String, Prepared>>,
}

/// An image ready for tests, and the user to run them as.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Prepared {
    pub image: String,
    /// `None`: the image's own user (see [`images::run_user`]).
    pub user: Option<String>,
}

impl DockerValidator {
    /// Connects to the engine and removes containers left by killed runs.
    pub async fn connect(opts: DockerOptions) -> Result<DockerValidator, SandboxError> {
        let filter = TreeFilter::new(&opts.exclude)?;
        let engine = Engine::connect(opts.docker_host.as_deref()).await?;
        sweep_stale(&engine, &SweepPolicy::default()).await?;
        Ok(DockerValidator {
            engine,
            opts,
            filter,
            sink: None,
            progress: Arc::new(|line| tracing::info!("{line}")),
            prepared: tokio::sync::Mutex::new(HashMap::new()),
        })
    }

    /// Also sends the tests' output to `sink` as it arrives.
    pub fn with_output(mut self, sink: OutputSink) -> Self {
        self.sink = Some(sink);
        self
    }

    /// Receives image build and setup progress lines.
    pub fn with_progress(mut self, progress: impl Fn(&str) + Send + Sync + 'static) -> Self {
        self.progress = Arc::new(progress);
        self
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The image the tests of `repo` run in: chosen, built and set up as needed, then cached.
    pub async fn prepare(&self, repo: &Path, command: &str) -> Result<Prepared, SandboxError> {
        let lang = Lang::of_command(command).or_else(|| detect_lang(repo));
        let key = format!("{lang:?}:{}", images::lock_hash(repo));
        let mut prepared = self.prepared.lock().await;
        if let Some(ready) = prepared.get(&key) {
            return Ok(ready.clone());
        }
        let choice = self.base_image(repo, lang).await?;
        let base = choice.image;
        let user = images::run_user(&self.engine, &base).await?;
        let setup = match (&self.opts.setup, choice.official) {
            (Some(setup), _) => Some(setup.clone()),
            (None, Some(lang)) => {
                Some(official::default_setup(lang, repo)).filter(|s| !s.is_empty())
            }
            (None, None) => None,
        };
        let image = match &setup {
            Some(setup) => self.ensure_setup(&base, &user, repo, setup).await?,
            None => base,
        };
        let ready = Prepared { image, user };
        prepared.insert(key, ready.clone());
        Ok(ready)
    }

    /// `validate.image`, else `validate.dockerfile`, else the job's own image, else the
    /// default for the language (see [`ImageSource`]).
    async fn base_image(
        &self,
        repo: &Path,
        lang: Option<Lang>,
    ) -> Result<BaseChoice, SandboxError> {
        let progress = &*self.progress;
        let named = |image: &String| BaseChoice {
            image: image.clone(),
            official: None,
        };
        if let Some(image) = &self.opts.image {
            pull::ensure_image(&self.engine, image, self.opts.pull, progress).await?;
            return Ok(named(image));
        }
        if let Some(dockerfile) = &self.opts.dockerfile {
            let image = images::ensure_dockerfile_image(
                &self.engine,
                repo,
                dockerfile,
                &self.filter,
                progress,
            )
            .await?;
            return Ok(named(&image));
        }
        if let Some(image) = &self.opts.job_image {
            match pull::ensure_image(&self.engine, image, self.opts.pull, progress).await {
                Ok(()) => return Ok(named(image)),
                Err(e) => progress(&format!(
                    "note: the job's container image is not available ({e}); using the default image"
                )),
            }
        }
        let lang = lang.ok_or_else(|| SandboxError::NoImage {
            dir: repo.to_path_buf(),
        })?;
        self.default_image(lang).await
    }

    /// The default image for `lang` under `[validate] images`.
    async fn default_image(&self, lang: Lang) -> Result<BaseChoice, SandboxError> {
        let progress = &*self.progress;
        let official = official::image_via(lang, &self.opts.registry_mirror);
        let local = || async {
            let image = ensure_default(&self.engine, lang, progress).await?;
            Ok(BaseChoice {
                image,
                official: None,
            })
        };
        let try_official = || async {
            pull::ensure_image(&self.engine, &official, self.opts.pull, progress).await?;
            Ok::<_, SandboxError>(BaseChoice {
                image: official.clone(),
                official: Some(lang),
            })
        };
        match self.opts.images {
            ImageSource::Local => local().await,
            ImageSource::Official => try_official().await,
            ImageSource::Auto => match try_official().await {
                Ok(choice) => Ok(choice),
                Err(e) => {
                    progress(&format!(
                        "note: {official} is not available ({}); using selfheal's Debian image",
                        e.reason()
                    ));
                    local().await
                }
            },
        }
    }

    /// Runs `validate.setup` once (network on) and commits the result, keyed by the lock files.
    async fn ensure_setup(
        &self,
        base: &str,
        run_as: &Option<String>,
        repo: &Path,
        setup: &str,
    ) -> Result<String, SandboxError> {
        let base_id = images::image_id(&self.engine, base)
            .await?
            .unwrap_or_default();
        let key = images::short_hash(&[
            base_id.as_bytes(),
            setup.as_bytes(),
            images::lock_hash(repo).as_bytes(),
        ]);
        let image = format!("selfheal-setup:{key}");
        if images::image_id(&self.engine, &image).await?.is_some() {
            return Ok(image);
        }
        (self.progress)(&format!(
            "running validate.setup `{setup}` with the network on (cached as {image})"
        ));
        let user = images::image_user(&self.engine, base).await?;
        let mut spec = self.spec(base, setup, &format!("setup-{key}"), true);
        spec.user = run_as.clone();
        let mut container = Container::create(&self.engine, &spec).await?;
        let result = async {
            container.upload_tree(repo, &self.filter).await?;
            container
                .run(self.opts.setup_timeout, self.sink.clone())
                .await
        }
        .await;
        let committed = match &result {
            Ok(r) if !r.timed_out && r.exit_code == Some(0) => {
                Some(container.commit("selfheal-setup", &key, Some(user)).await)
            }
            _ => None,
        };
        container.remove().await?;
        let run = result?;
        if run.timed_out {
            return Err(SandboxError::SetupTimedOut {
                command: setup.into(),
                secs: self.opts.setup_timeout.as_secs(),
            });
        }
        match committed {
            Some(done) => done.map(|_| image),
            None => Err(SandboxError::SetupFailed {
                command: setup.into(),
                code: run.exit_code.unwrap_or(-1),
                tail: run.tail,
            }),
        }
    }

    fn spec(&self, image: &str, command: &str, run_id: &str, network: bool) -> ContainerSpec {
        ContainerSpec {
            image: image.to_string(),
            command: command.to_string(),
            user: None,
            network,
            limits: self.opts.limits,
            run_id: run_id.to_string(),
            env: SANDBOX_ENV.iter().map(|s| s.to_string()).collect(),
            cap_add: Vec::new(),
        }
    }

    /// Runs `req` in a fresh container from the prepared image; the container is removed on every path.
    pub async fn run_in(
        &self,
        ready: &Prepared,
        req: &ValidationRequest,
    ) -> Result<Outcome, SandboxError> {
        let mut spec = self.spec(&ready.image, &req.command, &req.run_id, self.opts.network);
        spec.user = ready.user.clone();
        let mut container = Container::create(&self.engine, &spec).await?;
        let result = async {
            container.upload_tree(&req.repo_dir, &self.filter).await?;
            container.run(req.timeout, self.sink.clone()).await
        }
        .await;
        let removed = container.remove().await;
        let run = result?;
        removed?;
        Ok(outcome(req, run))
    }
}

fn outcome(req: &ValidationRequest, run: RunResult) -> Outcome {
    Outcome {
        passed: !run.timed_out && run.exit_code == Some(0),
        exit_code: run.exit_code,
        timed_out: run.timed_out,
        oom_killed: run.oom_killed,
        duration: run.duration,
        tail: run.tail,
        command: req.command.clone(),
    }
}

impl Validator for DockerValidator {
    type Error = SandboxError;

    /// Ctrl-C or SIGTERM at any point drops the work in progress; the container's drop
    /// guard removes it, and the error is [`SandboxError::Interrupted`].
    async fn validate(&self, req: &ValidationRequest) -> Result<Outcome, SandboxError> {
        let work = async {
            let ready = self.prepare(&req.repo_dir, &req.command).await?;
            self.run_in(&ready, req).await
        };
        tokio::select! {
            result = work => result,
            _ = interrupted() => Err(SandboxError::Interrupted),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_from_config_treat_empty_as_unset() {
        let opts = crate::config::LoadOptions {
            no_config: true,
            ..Default::default()
        };
        let config = crate::config::Config::load(&Default::default(), &opts).unwrap();
        let opts = DockerOptions::from_config(&config.validate, None);
        assert_eq!(
            (opts.image, opts.dockerfile, opts.setup),
            (None, None, None)
        );
        assert_eq!(
            opts.limits,
            Limits {
                memory_mb: 2048,
                cpus: 2.0,
                pids: 512
            }
        );
        assert!(!opts.network);
        assert_eq!(opts.setup_timeout, Duration::from_secs(600));
    }

    #[test]
    fn outcome_passes_only_on_exit_zero_in_time() {
        let req = ValidationRequest::new("/t", "true", Duration::from_secs(1), "r");
        let run = |exit_code, timed_out| RunResult {
            exit_code,
            timed_out,
            oom_killed: false,
            duration: Duration::ZERO,
            tail: String::new(),
        };
        assert!(outcome(&req, run(Some(0), false)).passed);
        assert!(!outcome(&req, run(Some(1), false)).passed);
        assert!(!outcome(&req, run(None, true)).passed);
    }
}
