//! One locked-down container: create, copy the tree in, run with a deadline, collect, remove.
//!
//! Every container carries the labels `selfheal=1`, `selfheal.run-id`, `selfheal.pid` and
//! `selfheal.host`, and is removed on every path: [`Container::remove`] on the normal path,
//! a forced removal on timeout and Ctrl-C, and [`Drop`] (on its own thread and runtime) when
//! a panic or an early return skips both. [`super::sweep`] catches what a SIGKILL leaves.

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use bollard::models::{ContainerConfig, ContainerCreateBody, HostConfig};
use bollard::query_parameters::{
    CommitContainerOptions, DownloadFromContainerOptions, InspectContainerOptions,
    KillContainerOptions, LogsOptions, RemoveContainerOptions, UploadToContainerOptions,
};
use futures_util::StreamExt;

use super::engine::Engine;
use super::error::SandboxError;
use super::tree::{TreeFilter, TreeStats, tar_stream};
use crate::interrupt::interrupted;
use crate::testrun::{OutputSink, Tail};

/// Where the tree is copied and the command runs.
pub const WORKDIR: &str = "/workspace";
/// Label on every container selfheal creates.
pub const LABEL: &str = "selfheal";
pub const LABEL_RUN_ID: &str = "selfheal.run-id";
pub const LABEL_PID: &str = "selfheal.pid";
pub const LABEL_HOST: &str = "selfheal.host";

/// Resource caps from `[validate]`; zero means no cap.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Limits {
    pub memory_mb: u64,
    pub cpus: f64,
    pub pids: i64,
}

/// What to run and how.
#[derive(Clone, Debug)]
pub struct ContainerSpec {
    pub image: String,
    /// Run with `sh -c`.
    pub command: String,
    /// `None`: the image's own user (`selfheal`, uid 1000, in selfheal's images).
    pub user: Option<String>,
    pub network: bool,
    pub limits: Limits,
    pub run_id: String,
    pub env: Vec<String>,
    /// Capabilities given back after dropping them all (only the setup step needs any).
    pub cap_add: Vec<String>,
}

/// How the command ended.
#[derive(Clone, Debug)]
pub struct RunResult {
    pub exit_code: Option<i64>,
    pub timed_out: bool,
    pub oom_killed: bool,
    pub duration: Duration,
    pub tail: String,
}

/// A created container that is removed whatever happens.
pub struct Container {
    engine: Engine,
    id: String,
    armed: bool,
}

impl Container {
    /// Creates (does not start) a container for `spec`.
    pub async fn create(engine: &Engine, spec: &ContainerSpec) -> Result<Container, SandboxError> {
        let body = create_body(spec);
        let created = engine
            .docker
            .create_container(None, body)
            .await
            .map_err(|e| match e {
                bollard::errors::Error::DockerResponseServerError {
                    status_code: 404, ..
                } => SandboxError::ImageMissing {
                    image: spec.image.clone(),
                },
                other => SandboxError::Docker {
                    action: format!("create container from {}", spec.image),
                    source: other,
                },
            })?;
        Ok(Container {
            engine: engine.clone(),
            id: created.id,
            armed: true,
        })
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    /// Copies `root` (minus what `filter` leaves out) to [`WORKDIR`] as one tar stream.
    pub async fn upload_tree(
        &self,
        root: &Path,
        filter: &TreeFilter,
    ) -> Result<TreeStats, SandboxError> {
        let (stream, walker) = tar_stream(
            root.to_path_buf(),
            WORKDIR.trim_start_matches('/').into(),
            filter.clone(),
        );
        // Not `copyUIDGID`: Docker 20.10 resolves the image's user name in the *host's*
        // passwd for it ("getent unable to find entry"). The tar's own uid/gid (1000) apply.
        let options = UploadToContainerOptions {
            path: "/".into(),
            ..Default::default()
        };
        let upload = self.engine.docker.upload_to_container(
            &self.id,
            Some(options),
            bollard::body_try_stream(stream),
        );
        let uploaded = upload.await;
        let stats = walker.await.map_err(|e| SandboxError::Tree {
            path: root.into(),
            source: std::io::Error::other(e),
        })?;
        let stats = stats?;
        uploaded.map_err(SandboxError::docker("copy the tree into the container"))?;
        Ok(stats)
    }

    /// The content of one file of the (created, not necessarily started) container.
    pub async fn read_file(&self, path: &str) -> Result<Option<Vec<u8>>, SandboxError> {
        let options = DownloadFromContainerOptions {
            path: path.to_string(),
        };
        let mut stream = self
            .engine
            .docker
            .download_from_container(&self.id, Some(options));
        let mut archive = Vec::new();
        while let Some(chunk) = stream.next().await {
            match chunk {
                Ok(bytes) => archive.extend_from_slice(&bytes),
                Err(bollard::errors::Error::DockerResponseServerError {
                    status_code: 404, ..
                }) => {
                    return Ok(None);
                }
                Err(e) => {
                    return Err(SandboxError::Docker {
                        action: format!("read {path}"),
                        source: e,
                    });
                }
            }
        }
        Ok(first_file(&archive))
    }

    /// Starts the container and waits for it, killing it after `timeout`.
    ///
    /// Ctrl-C or SIGTERM removes the container at once and returns [`SandboxError::Interrupted`].
    pub async fn run(
        &mut self,
        timeout: Duration,
        sink: Option<OutputSink>,
    ) -> Result<RunResult, SandboxError> {
        let (docker, id) = (self.engine.docker.clone(), self.id.clone());
        let start = Instant::now();
        docker
            .start_container(&id, None)
            .await
            .map_err(SandboxError::docker("start container"))?;
        let logs = tokio::spawn(collect_logs(docker.clone(), id.clone(), sink));
        let finished = tokio::select! {
            code = wait_exit(&docker, &id) => Some(code?),
            _ = tokio::time::sleep(timeout) => None,
            _ = interrupted() => {
                logs.abort();
                self.remove_now().await;
                return Err(SandboxError::Interrupted);
            }
        };
        if finished.is_none() {
            let _ = docker
                .kill_container(&id, None::<KillContainerOptions>)
                .await;
            let _ = tokio::time::timeout(Duration::from_secs(20), wait_exit(&docker, &id)).await;
        }
        let duration = start.elapsed();
        let tail = match tokio::time::timeout(Duration::from_secs(10), logs).await {
            Ok(Ok(tail)) => tail,
            _ => String::from("[output unavailable]\n"),
        };
        let (exit_code, oom_killed) = self.exit_state().await?;
        let timed_out = finished.is_none();
        Ok(RunResult {
            exit_code: if timed_out { None } else { exit_code },
            timed_out,
            oom_killed,
            duration,
            tail,
        })
    }

    /// `State.ExitCode` and `State.OOMKilled` of the stopped container. Docker learns of
    /// an OOM kill from an event that can arrive after the exit (seen under load with
    /// cgroup v2): an exit by SIGKILL (137) is inspected again for a second before it is
    /// taken as not OOM.
    async fn exit_state(&self) -> Result<(Option<i64>, bool), SandboxError> {
        let mut state = self.inspect_state().await?;
        for _ in 0..10 {
            if state.0 != Some(137) || state.1 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
            state = self.inspect_state().await?;
        }
        Ok(state)
    }

    async fn inspect_state(&self) -> Result<(Option<i64>, bool), SandboxError> {
        let inspect = self
            .engine
            .docker
            .inspect_container(&self.id, None::<InspectContainerOptions>)
            .await;
        let state = inspect
            .map_err(SandboxError::docker("inspect container"))?
            .state
            .unwrap_or_default();
        Ok((state.exit_code, state.oom_killed.unwrap_or(false)))
    }

    /// Saves the container's filesystem as `repo:tag`, with `user` as the image's user.
    pub async fn commit(
        &self,
        repo: &str,
        tag: &str,
        user: Option<String>,
    ) -> Result<String, SandboxError> {
        let options = CommitContainerOptions {
            container: Some(self.id.clone()),
            repo: Some(repo.into()),
            tag: Some(tag.into()),
            pause: false,
            comment: Some("selfheal validate.setup".into()),
            ..Default::default()
        };
        let config = ContainerConfig {
            user: Some(user.unwrap_or_default()),
            working_dir: Some(WORKDIR.into()),
            cmd: Some(vec!["/bin/sh".into()]),
            entrypoint: Some(vec![]),
            labels: Some(HashMap::from([(
                "selfheal.setup".to_string(),
                "1".to_string(),
            )])),
            ..Default::default()
        };
        let id = self.engine.docker.commit_container(options, config).await;
        Ok(id
            .map_err(SandboxError::docker("commit the setup container"))?
            .id)
    }

    /// Removes the container (forced: it may still run). A missing container is fine.
    pub async fn remove(mut self) -> Result<(), SandboxError> {
        self.armed = false;
        remove(&self.engine.docker, &self.id)
            .await
            .map_err(SandboxError::docker("remove container"))
    }

    async fn remove_now(&mut self) {
        if remove(&self.engine.docker, &self.id).await.is_ok() {
            self.armed = false;
        }
    }
}

impl Drop for Container {
    /// The path of panics and early returns: remove from a thread with its own runtime, since
    /// the caller's runtime may be shutting down.
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let engine = self.engine.clone();
        let id = std::mem::take(&mut self.id);
        let cleanup = std::thread::spawn(move || remove_blocking(&engine, &id));
        let _ = cleanup.join();
    }
}

fn remove_blocking(engine: &Engine, id: &str) {
    let Ok(rt) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        return;
    };
    rt.block_on(async {
        if let Ok(docker) = engine.reconnect() {
            let _ = remove(&docker, id).await;
        }
    });
}

async fn remove(docker: &bollard::Docker, id: &str) -> Result<(), bollard::errors::Error> {
    let options = RemoveContainerOptions {
        force: true,
        v: true,
        ..Default::default()
    };
    match docker.remove_container(id, Some(options)).await {
        Err(bollard::errors::Error::DockerResponseServerError {
            status_code: 404, ..
        }) => Ok(()),
        other => other,
    }
}

/// The body of the first regular file in a tar.
fn first_file(archive: &[u8]) -> Option<Vec<u8>> {
    let mut archive = tar::Archive::new(archive);
    for entry in archive.entries().ok()? {
        let mut entry = entry.ok()?;
        if entry.header().entry_type().is_file() {
            let mut body = Vec::new();
            std::io::Read::read_to_end(&mut entry, &mut body).ok()?;
            return Some(body);
        }
    }
    None
}

/// The exit code once the container stops.
///
/// bollard reports a non-zero exit as `Err(DockerContainerWaitError)`: that is a result, not an error.
async fn wait_exit(docker: &bollard::Docker, id: &str) -> Result<i64, SandboxError> {
    let mut waits = docker.wait_container(id, None);
    match waits.next().await {
        Some(Ok(resp)) => Ok(resp.status_code),
        Some(Err(bollard::errors::Error::DockerContainerWaitError { code, .. })) => Ok(code),
        Some(Err(e)) => Err(SandboxError::Docker {
            action: "wait for container".into(),
            source: e,
        }),
        None => Ok(-1),
    }
}

/// Follows stdout and stderr until the container stops; returns the bounded tail.
async fn collect_logs(docker: bollard::Docker, id: String, sink: Option<OutputSink>) -> String {
    let options = LogsOptions {
        follow: true,
        stdout: true,
        stderr: true,
        ..Default::default()
    };
    let mut stream = docker.logs(&id, Some(options));
    let mut tail = Tail::default();
    while let Some(Ok(chunk)) = stream.next().await {
        let bytes = chunk.into_bytes();
        if let Some(sink) = &sink {
            sink(&bytes);
        }
        tail.push(&bytes);
    }
    tail.finish()
}

fn create_body(spec: &ContainerSpec) -> ContainerCreateBody {
    ContainerCreateBody {
        image: Some(spec.image.clone()),
        entrypoint: Some(vec!["/bin/sh".into(), "-c".into()]),
        cmd: Some(vec![spec.command.clone()]),
        user: spec.user.clone(),
        working_dir: Some(WORKDIR.into()),
        env: Some(spec.env.clone()),
        labels: Some(labels(&spec.run_id)),
        tty: Some(false),
        open_stdin: Some(false),
        host_config: Some(host_config(spec)),
        ..Default::default()
    }
}

/// Limits and lock-down: no network unless asked, no capabilities, no privilege gain.
fn host_config(spec: &ContainerSpec) -> HostConfig {
    let memory = (spec.limits.memory_mb > 0).then(|| (spec.limits.memory_mb * 1024 * 1024) as i64);
    HostConfig {
        network_mode: Some(if spec.network { "bridge" } else { "none" }.into()),
        memory,
        memory_swap: memory, // equal to memory: no swap, so an overrun is an OOM kill
        nano_cpus: (spec.limits.cpus > 0.0).then_some((spec.limits.cpus * 1e9) as i64),
        pids_limit: (spec.limits.pids > 0).then_some(spec.limits.pids),
        cap_drop: Some(vec!["ALL".into()]),
        cap_add: (!spec.cap_add.is_empty()).then(|| spec.cap_add.clone()),
        security_opt: Some(vec!["no-new-privileges".into()]),
        init: Some(true),
        ..Default::default()
    }
}

fn labels(run_id: &str) -> HashMap<String, String> {
    HashMap::from([
        (LABEL.to_string(), "1".to_string()),
        (LABEL_RUN_ID.to_string(), run_id.to_string()),
        (LABEL_PID.to_string(), std::process::id().to_string()),
        (LABEL_HOST.to_string(), hostname()),
    ])
}

/// This machine's name, to tell our containers from those of other hosts sharing an engine.
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(network: bool) -> ContainerSpec {
        ContainerSpec {
            image: "img".into(),
            command: "pytest -q".into(),
            user: None,
            network,
            limits: Limits {
                memory_mb: 512,
                cpus: 1.5,
                pids: 64,
            },
            run_id: "run-7".into(),
            env: vec!["CI=true".into()],
            cap_add: vec![],
        }
    }

    #[test]
    fn locked_down_by_default() {
        let body = create_body(&spec(false));
        let host = body.host_config.unwrap();
        assert_eq!(host.network_mode.as_deref(), Some("none"));
        assert_eq!(host.memory, Some(512 * 1024 * 1024));
        assert_eq!(host.memory_swap, host.memory);
        assert_eq!(host.nano_cpus, Some(1_500_000_000));
        assert_eq!(host.pids_limit, Some(64));
        assert_eq!(host.cap_drop, Some(vec!["ALL".to_string()]));
        assert_eq!(host.cap_add, None);
        assert_eq!(
            host.security_opt,
            Some(vec!["no-new-privileges".to_string()])
        );
        assert_eq!(body.cmd, Some(vec!["pytest -q".to_string()]));
        let labels = body.labels.unwrap();
        assert_eq!(labels[LABEL], "1");
        assert_eq!(labels[LABEL_RUN_ID], "run-7");
        assert_eq!(labels[LABEL_PID], std::process::id().to_string());
    }

    #[test]
    fn network_and_zero_limits() {
        let mut s = spec(true);
        s.limits = Limits {
            memory_mb: 0,
            cpus: 0.0,
            pids: 0,
        };
        let host = host_config(&s);
        assert_eq!(host.network_mode.as_deref(), Some("bridge"));
        assert_eq!(
            (host.memory, host.nano_cpus, host.pids_limit),
            (None, None, None)
        );
    }
}
