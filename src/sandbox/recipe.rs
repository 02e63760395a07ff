//! `selfheal sandbox build`: selfheal's own Debian base image, from a recipe kept in the
//! binary, for machines where no registry answers.
//!
//! The recipe (`recipe/base.sh`) makes a minbase root filesystem with debootstrap from
//! Debian's packages; this module runs it, streams the tree into the engine as an image
//! import (`POST /images/create?fromSrc=-`, what `docker import` does) and tags it
//! `selfheal-base:<recipe hash>` and `selfheal-base:latest`. An image with that hash is
//! reused, so building again costs nothing. Language images are built FROM it on demand
//! ([`super::images::ensure_default`]).

use std::process::Stdio;
use std::time::Instant;

use axum::body::Bytes;
use bollard::query_parameters::{CreateImageOptions, TagImageOptions};
use futures_util::StreamExt;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use super::engine::Engine;
use super::error::SandboxError;
use super::images::{BASE_IMAGE, Progress, image_id, short_hash};
use crate::testrun::Tail;

/// The root-filesystem recipe, run by `bash -s -- ROOT`.
pub const RECIPE: &str = include_str!("recipe/base.sh");
/// Repository of the base image.
const BASE_REPO: &str = "selfheal-base";
/// Image settings `docker import --change` would give.
const CHANGES: &[&str] = &[
    "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8",
    "CMD [\"/bin/sh\"]",
    "WORKDIR /workspace",
    "USER selfheal",
    "LABEL selfheal.base=1",
];
/// Environment the recipe reads, part of the image's identity.
const RECIPE_ENV: &[&str] = &[
    "SELFHEAL_DEBIAN_MIRROR",
    "SELFHEAL_DEBIAN_SECURITY_MIRROR",
    "SELFHEAL_SUITE",
];

/// What a build did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BaseImage {
    /// `selfheal-base:<hash>`.
    pub tag: String,
    /// False when an image of this recipe was already there.
    pub built: bool,
    pub seconds: u64,
}

/// The tag of the base image this recipe and environment produce.
pub fn base_tag(env: &[(String, String)]) -> String {
    let mut parts: Vec<&[u8]> = vec![RECIPE.as_bytes()];
    for (k, v) in env {
        parts.push(k.as_bytes());
        parts.push(v.as_bytes());
    }
    for change in CHANGES {
        parts.push(change.as_bytes());
    }
    format!("{BASE_REPO}:{}", short_hash(&parts))
}

/// The recipe's environment as set in this process (unset ones left out).
pub fn recipe_env() -> Vec<(String, String)> {
    RECIPE_ENV
        .iter()
        .filter_map(|k| std::env::var(k).ok().map(|v| (k.to_string(), v)))
        .collect()
}

/// Builds (or finds) the base image and points `selfheal-base:latest` at it.
pub async fn build_base(
    engine: &Engine,
    progress: Progress<'_>,
) -> Result<BaseImage, SandboxError> {
    let start = Instant::now();
    let tag = base_tag(&recipe_env());
    let built = image_id(engine, &tag).await?.is_none();
    if built {
        require_root()?;
        let root = tempfile::Builder::new()
            .prefix("selfheal-rootfs.")
            .tempdir()
            .map_err(|e| failed(format!("cannot make a scratch folder: {e}"), String::new()))?;
        run_recipe(root.path(), progress).await?;
        progress("importing the root filesystem into the engine");
        let tree = tar_tree(root.path()).await?;
        import(engine, tree, &tag).await?;
    } else {
        progress(&format!("{tag} exists; reusing it"));
    }
    let (_, hash) = tag.split_once(':').unwrap_or_default();
    let latest = TagImageOptions {
        repo: Some(BASE_REPO.to_string()),
        tag: Some("latest".to_string()),
    };
    engine
        .docker
        .tag_image(&format!("{BASE_REPO}:{hash}"), Some(latest))
        .await
        .map_err(SandboxError::docker(format!("tag {tag} as {BASE_IMAGE}")))?;
    Ok(BaseImage {
        tag,
        built,
        seconds: start.elapsed().as_secs(),
    })
}

fn failed(message: String, tail: String) -> SandboxError {
    SandboxError::BaseBuildFailed { message, tail }
}

/// debootstrap and chroot need root; say so before anything runs.
fn require_root() -> Result<(), SandboxError> {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let uid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|l| l.split_whitespace().next().map(str::to_string));
    match uid.as_deref() {
        Some("0") => Ok(()),
        _ => Err(failed(
            "it needs root (debootstrap and chroot); run it with sudo".into(),
            String::new(),
        )),
    }
}

/// Runs the recipe into `root`, its output going to `progress` line by line.
async fn run_recipe(root: &std::path::Path, progress: Progress<'_>) -> Result<(), SandboxError> {
    let spawn_failed = |e: std::io::Error| failed(format!("cannot run bash: {e}"), String::new());
    let mut child = tokio::process::Command::new("bash")
        .args(["-s", "--"])
        .arg(root)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(spawn_failed)?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(RECIPE.as_bytes())
            .await
            .map_err(spawn_failed)?;
    }
    let mut tail = Tail::new(30, 16 * 1024);
    let (out, err) = (child.stdout.take(), child.stderr.take());
    let mut lines = futures_util::stream::select(
        lines_of(out.map(|o| Box::new(o) as Box<dyn tokio::io::AsyncRead + Unpin + Send>)),
        lines_of(err.map(|e| Box::new(e) as Box<dyn tokio::io::AsyncRead + Unpin + Send>)),
    );
    while let Some(line) = lines.next().await {
        tail.push(format!("{line}\n").as_bytes());
        // debootstrap's per-package `I: …` lines stay in the tail (shown on failure).
        if !line.starts_with("I: ") {
            progress(line.trim_end());
        }
    }
    let status = child.wait().await.map_err(spawn_failed)?;
    if status.success() {
        Ok(())
    } else {
        Err(failed(
            format!("the recipe exited with {status}"),
            tail.finish(),
        ))
    }
}

/// The lines of a child's pipe as a stream (empty when the pipe is absent).
fn lines_of(
    pipe: Option<Box<dyn tokio::io::AsyncRead + Unpin + Send>>,
) -> futures_util::stream::BoxStream<'static, String> {
    match pipe {
        None => futures_util::stream::empty().boxed(),
        Some(pipe) => {
            futures_util::stream::unfold(BufReader::new(pipe).lines(), |mut lines| async {
                lines.next_line().await.ok().flatten().map(|l| (l, lines))
            })
            .boxed()
        }
    }
}

/// The root filesystem as a tar stream (numeric owners, device nodes kept), via tar(1).
async fn tar_tree(root: &std::path::Path) -> Result<Vec<u8>, SandboxError> {
    let output = tokio::process::Command::new("tar")
        .arg("-C")
        .arg(root)
        .args(["--numeric-owner", "-c", "."])
        .output()
        .await
        .map_err(|e| failed(format!("cannot run tar: {e}"), String::new()))?;
    if !output.status.success() {
        let tail = String::from_utf8_lossy(&output.stderr).into_owned();
        return Err(failed(format!("tar exited with {}", output.status), tail));
    }
    Ok(output.stdout)
}

/// Imports a root-filesystem tar as `tag`.
async fn import(engine: &Engine, tree: Vec<u8>, tag: &str) -> Result<(), SandboxError> {
    let (repo, hash) = tag.split_once(':').unwrap_or((tag, "latest"));
    let options = CreateImageOptions {
        from_src: Some("-".to_string()),
        repo: Some(repo.to_string()),
        tag: Some(hash.to_string()),
        message: Some("selfheal base: debootstrap minbase".to_string()),
        changes: CHANGES.iter().map(|c| c.to_string()).collect(),
        ..Default::default()
    };
    let mut stream = engine.docker.create_image(
        Some(options),
        Some(bollard::body_full(Bytes::from(tree))),
        None,
    );
    while let Some(item) = stream.next().await {
        let info = item.map_err(SandboxError::docker(format!("import {tag}")))?;
        if let Some(detail) = info.error_detail {
            return Err(failed(detail.message.unwrap_or_default(), String::new()));
        }
    }
    match image_id(engine, tag).await? {
        Some(_) => Ok(()),
        None => Err(failed(
            "the engine reported no image after the import".into(),
            String::new(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tag_follows_the_recipe_environment() {
        let plain = base_tag(&[]);
        assert!(plain.starts_with("selfheal-base:") && plain.len() == "selfheal-base:".len() + 12);
        let mirrored = base_tag(&[("SELFHEAL_DEBIAN_MIRROR".into(), "http://m/debian".into())]);
        assert_ne!(plain, mirrored);
        assert_eq!(plain, base_tag(&[]));
    }

    #[test]
    fn the_recipe_makes_the_sandbox_user_and_workspace() {
        assert!(RECIPE.contains("useradd --create-home --uid 1000"));
        assert!(RECIPE.contains("/workspace"));
        assert!(RECIPE.contains("debootstrap --variant=minbase"));
    }
}
