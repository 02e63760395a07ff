//! Sandbox images: the default per-language images, a repository's own Dockerfile, and the
//! images that cache `validate.setup`.
//!
//! These are selfheal's own images, for machines where no registry answers (pulled images
//! are [`super::pull`]'s). `selfheal-base:latest` is a Debian root filesystem made by
//! `selfheal sandbox build` ([`super::recipe`]); the language images are built FROM it
//! with Debian's toolchain packages through the Docker build API, and tagged with a hash of
//! their recipe and of the base image, so a tag that exists is reused as is.

use std::collections::HashMap;
use std::path::Path;

use axum::body::Bytes;
use bollard::query_parameters::BuildImageOptions;
use futures_util::StreamExt;
use sha2::{Digest, Sha256};

use super::container::{Container, ContainerSpec, Limits};
use super::engine::Engine;
use super::error::SandboxError;
use super::tree::{TreeFilter, tar_to_vec};
use crate::testrun::{Lang, Tail};

/// The imported Debian base every default image starts from.
pub const BASE_IMAGE: &str = "selfheal-base:latest";
/// Files whose content decides which dependencies `validate.setup` installs.
pub const LOCK_FILES: &[&str] = &[
    "requirements.txt",
    "requirements-dev.txt",
    "requirements-test.txt",
    "dev-requirements.txt",
    "test-requirements.txt",
    "Pipfile.lock",
    "poetry.lock",
    "uv.lock",
    "pyproject.toml",
    "setup.py",
    "setup.cfg",
    "Cargo.toml",
    "Cargo.lock",
    "go.mod",
    "go.sum",
    "package.json",
    "package-lock.json",
    "npm-shrinkwrap.json",
    "yarn.lock",
    "pnpm-lock.yaml",
    "pom.xml",
    "build.gradle",
    "build.gradle.kts",
    "gradle.lockfile",
];

/// Progress messages (build steps) for the user.
pub type Progress<'a> = &'a (dyn Fn(&str) + Send + Sync);

/// Debian packages that make up each language image.
pub fn packages(lang: Lang) -> &'static [&'static str] {
    match lang {
        Lang::Python => &["python3", "python3-pytest", "python3-pip", "python3-venv"],
        // bookworm's own cargo (0.66) cannot read version-4 lock files; the `-web` builds
        // from bookworm-security are current (1.96) and provide /usr/bin/cargo and rustc.
        Lang::Rust => &["cargo-web", "rustc-web", "libc6-dev"],
        Lang::Go => &["golang-go"],
        Lang::Node => &["nodejs", "npm"],
        Lang::Java => &["default-jdk-headless", "maven"],
    }
}

/// The Dockerfile of a language image (built FROM the `BASE` build argument).
pub fn lang_dockerfile(lang: Lang) -> String {
    let env = match lang {
        // Debian marks its Python as externally managed; setup installs go to ~/.local.
        Lang::Python => "ENV PIP_BREAK_SYSTEM_PACKAGES=1 PIP_DISABLE_PIP_VERSION_CHECK=1\n",
        Lang::Go => "ENV GOTOOLCHAIN=local GOFLAGS=-buildvcs=false\n",
        Lang::Node => "ENV NPM_CONFIG_UPDATE_NOTIFIER=false NPM_CONFIG_FUND=false\n",
        Lang::Rust | Lang::Java => "",
    };
    format!(
        "ARG BASE={BASE_IMAGE}\nFROM ${{BASE}}\nUSER root\n\
         RUN apt-get update -q \\\n && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends {pkgs} \\\n \
         && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/apt /var/log/dpkg.log\n\
         {env}USER selfheal\nWORKDIR /workspace\nLABEL selfheal.lang={name}\n",
        pkgs = packages(lang).join(" "),
        name = lang.name(),
    )
}

/// The id of `name` on the engine, or `None` when it is not there.
pub async fn image_id(engine: &Engine, name: &str) -> Result<Option<String>, SandboxError> {
    match engine.docker.inspect_image(name).await {
        Ok(image) => Ok(image.id),
        Err(bollard::errors::Error::DockerResponseServerError {
            status_code: 404, ..
        }) => Ok(None),
        Err(e) => Err(SandboxError::Docker {
            action: format!("inspect image {name}"),
            source: e,
        }),
    }
}

/// The user an image runs as (`Config.User`), empty for root.
pub async fn image_user(engine: &Engine, name: &str) -> Result<String, SandboxError> {
    let image = engine
        .docker
        .inspect_image(name)
        .await
        .map_err(SandboxError::docker(format!("inspect image {name}")))?;
    Ok(image.config.and_then(|c| c.user).unwrap_or_default())
}

/// The user to run tests as in `image`: `None` keeps the image's own non-root `USER`;
/// for an image that runs as root, its uid-1000 account (the owner of the copied tree)
/// when `/etc/passwd` has one; root only when it has none.
pub async fn run_user(engine: &Engine, image: &str) -> Result<Option<String>, SandboxError> {
    let configured = image_user(engine, image).await?;
    let name = configured.split(':').next().unwrap_or_default();
    if !matches!(name, "" | "root" | "0") {
        return Ok(None);
    }
    let passwd = read_image_file(engine, image, "/etc/passwd")
        .await?
        .unwrap_or_default();
    Ok(has_uid_1000(&String::from_utf8_lossy(&passwd)).then(|| "1000:1000".to_string()))
}

/// One file of an image, read from a created (never started) container.
async fn read_image_file(
    engine: &Engine,
    image: &str,
    path: &str,
) -> Result<Option<Vec<u8>>, SandboxError> {
    let spec = ContainerSpec {
        image: image.to_string(),
        command: "true".into(),
        user: None,
        network: false,
        limits: Limits {
            memory_mb: 0,
            cpus: 0.0,
            pids: 0,
        },
        run_id: "inspect".into(),
        env: Vec::new(),
        cap_add: Vec::new(),
    };
    let container = Container::create(engine, &spec).await?;
    let content = container.read_file(path).await;
    container.remove().await?;
    content
}

/// True when a passwd file has an account with uid 1000.
fn has_uid_1000(passwd: &str) -> bool {
    passwd
        .lines()
        .any(|line| line.split(':').nth(2) == Some("1000"))
}

/// `selfheal-<lang>:<hash>`, built from the base image when missing.
pub async fn ensure_default(
    engine: &Engine,
    lang: Lang,
    progress: Progress<'_>,
) -> Result<String, SandboxError> {
    let base_id =
        image_id(engine, BASE_IMAGE)
            .await?
            .ok_or_else(|| SandboxError::BaseImageMissing {
                image: BASE_IMAGE.into(),
            })?;
    let dockerfile = lang_dockerfile(lang);
    let tag = format!(
        "selfheal-{}:{}",
        lang.name(),
        short_hash(&[dockerfile.as_bytes(), base_id.as_bytes()])
    );
    if image_id(engine, &tag).await?.is_some() {
        return Ok(tag);
    }
    progress(&format!(
        "building sandbox image {tag} from {BASE_IMAGE} (once; later runs reuse it)"
    ));
    let context = dockerfile_context(&dockerfile);
    build_image(engine, context, "Dockerfile", &tag, progress).await?;
    Ok(tag)
}

/// The image built from the repository's own Dockerfile (`validate.dockerfile`).
///
/// Tagged by the Dockerfile and the lock files, not by the sources: the tests run on the
/// uploaded tree, so the image only has to hold the environment.
pub async fn ensure_dockerfile_image(
    engine: &Engine,
    repo: &Path,
    dockerfile: &Path,
    filter: &TreeFilter,
    progress: Progress<'_>,
) -> Result<String, SandboxError> {
    let rel = dockerfile.strip_prefix(repo).unwrap_or(dockerfile);
    let text = std::fs::read(repo.join(rel)).map_err(|source| SandboxError::Tree {
        path: repo.join(rel),
        source,
    })?;
    let tag = format!(
        "selfheal-repo:{}",
        short_hash(&[&text, lock_hash(repo).as_bytes()])
    );
    if image_id(engine, &tag).await?.is_some() {
        return Ok(tag);
    }
    progress(&format!("building {tag} from {}", rel.display()));
    let context = tar_to_vec(repo, "", filter)?;
    build_image(engine, context, &rel.to_string_lossy(), &tag, progress).await?;
    Ok(tag)
}

/// Builds `tag` from a tar context; build output goes to `progress`, the end of it into errors.
pub async fn build_image(
    engine: &Engine,
    context: Vec<u8>,
    dockerfile: &str,
    tag: &str,
    progress: Progress<'_>,
) -> Result<(), SandboxError> {
    let options = BuildImageOptions {
        dockerfile: dockerfile.to_string(),
        t: Some(tag.to_string()),
        rm: true,
        forcerm: true,
        labels: Some(HashMap::from([(
            "selfheal.image".to_string(),
            "1".to_string(),
        )])),
        ..Default::default()
    };
    let mut stream = engine.docker.build_image(
        options,
        None,
        Some(bollard::body_full(Bytes::from(context))),
    );
    let mut tail = Tail::new(30, 16 * 1024);
    let failed = |message: String, tail: Tail| SandboxError::BuildFailed {
        tag: tag.into(),
        message,
        tail: tail.finish(),
    };
    while let Some(item) = stream.next().await {
        match item {
            Ok(info) => {
                if let Some(text) = info.stream.as_deref().or(info.status.as_deref()) {
                    tail.push(text.as_bytes());
                    let line = text.trim_end();
                    if !line.is_empty() {
                        progress(line);
                    }
                }
                if let Some(detail) = info.error_detail {
                    return Err(failed(detail.message.unwrap_or_default(), tail));
                }
            }
            Err(bollard::errors::Error::DockerStreamError { error }) => {
                return Err(failed(error, tail));
            }
            Err(e) => {
                return Err(SandboxError::Docker {
                    action: format!("build image {tag}"),
                    source: e,
                });
            }
        }
    }
    match image_id(engine, tag).await? {
        Some(_) => Ok(()),
        None => Err(failed("the engine reported no image".into(), tail)),
    }
}

/// A build context holding one Dockerfile.
fn dockerfile_context(dockerfile: &str) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_gnu();
    header.set_size(dockerfile.len() as u64);
    header.set_mode(0o644);
    header.set_cksum();
    // Writing to a Vec cannot fail.
    let _ = builder.append_data(&mut header, "Dockerfile", dockerfile.as_bytes());
    builder.into_inner().unwrap_or_default()
}

/// A hash of the lock files present in `repo` (name and content), stable across copies.
pub fn lock_hash(repo: &Path) -> String {
    let mut hasher = Sha256::new();
    for name in LOCK_FILES {
        if let Ok(content) = std::fs::read(repo.join(name)) {
            hasher.update(name.as_bytes());
            hasher.update((content.len() as u64).to_le_bytes());
            hasher.update(&content);
        }
    }
    hex(&hasher.finalize())[..16].to_string()
}

/// The first 12 hex digits of the SHA-256 of `parts` (length-prefixed so parts cannot run together).
pub fn short_hash(parts: &[&[u8]]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part);
    }
    hex(&hasher.finalize())[..12].to_string()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dockerfiles_install_from_debian_without_recommends() {
        for lang in Lang::ALL {
            let df = lang_dockerfile(lang);
            assert!(
                df.starts_with("ARG BASE=selfheal-base:latest\nFROM ${BASE}\n"),
                "{df}"
            );
            assert!(df.contains("--no-install-recommends"));
            assert!(df.contains("rm -rf /var/lib/apt/lists/*"));
            assert!(
                df.contains("\nUSER selfheal\n"),
                "tests run as the non-root user"
            );
            for pkg in packages(lang) {
                assert!(df.contains(pkg));
            }
        }
        assert!(lang_dockerfile(Lang::Python).contains("python3-pytest"));
    }

    #[test]
    fn context_holds_the_dockerfile() {
        let ctx = dockerfile_context("FROM x\n");
        let mut archive = tar::Archive::new(&ctx[..]);
        let mut entry = archive.entries().unwrap().next().unwrap().unwrap();
        assert_eq!(entry.path().unwrap().to_str(), Some("Dockerfile"));
        let mut body = String::new();
        std::io::Read::read_to_string(&mut entry, &mut body).unwrap();
        assert_eq!(body, "FROM x\n");
    }

    #[test]
    fn lock_hash_follows_lock_files_only() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        for d in [&a, &b] {
            std::fs::write(d.path().join("requirements.txt"), "pytest==8\n").unwrap();
        }
        std::fs::write(b.path().join("app.py"), "x = 1\n").unwrap();
        assert_eq!(
            lock_hash(a.path()),
            lock_hash(b.path()),
            "sources do not change the key"
        );
        std::fs::write(b.path().join("requirements.txt"), "pytest==9\n").unwrap();
        assert_ne!(lock_hash(a.path()), lock_hash(b.path()));
    }

    #[test]
    fn finds_the_uid_1000_account() {
        assert!(has_uid_1000(
            "root:x:0:0::/root:/bin/sh\nnode:x:1000:1000::/home/node:/bin/sh\n"
        ));
        assert!(!has_uid_1000(
            "root:x:0:0::/root:/bin/sh\nx:x:10000:1000::/:/bin/sh\n"
        ));
    }

    #[test]
    fn short_hash_separates_parts() {
        assert_ne!(short_hash(&[b"ab", b"c"]), short_hash(&[b"a", b"bc"]));
        assert_eq!(short_hash(&[b"x"]).len(), 12);
    }
}
