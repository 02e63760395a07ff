//! Images that come from a registry, against the real engine and a real registry on
//! 127.0.0.1 (Debian's `docker-registry`): `validate.image` pulled when missing, official
//! images through `registry_mirror`, the job's own image, and the fallback to selfheal's
//! Debian images when the registry does not answer.
//!
//! Without an engine or the registry binary each test prints `SKIP …`; with CI=true that
//! is a failure (`.ci/run` installs `docker-registry`).

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bollard::query_parameters::{PushImageOptions, RemoveImageOptions, TagImageOptions};
use futures_util::StreamExt;
use selfheal::sandbox::images::image_id;
use selfheal::sandbox::pull::split_reference;
use selfheal::sandbox::{DockerOptions, DockerValidator, Engine, ImageSource, SandboxError};
use selfheal::validate::Validator;
use tokio::sync::OnceCell;

use crate::sandbox::{engine_or_skip, project, python_image, request, run_id};

const REGISTRY_BIN: &str = "/usr/bin/docker-registry";

/// A registry on a free loopback port, stopped on drop.
struct Registry {
    child: Child,
    addr: String,
    _dir: tempfile::TempDir,
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts the registry, or says why the test is skipped (a failure under CI=true).
fn registry_or_skip(test: &str) -> Option<Registry> {
    if !std::path::Path::new(REGISTRY_BIN).exists() {
        let reason = format!("{REGISTRY_BIN} is missing (apt-get install docker-registry)");
        if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") {
            panic!("{test}: a local registry is required when CI=true, but {reason}");
        }
        eprintln!("SKIP {test}: {reason}");
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let addr = format!("127.0.0.1:{}", free_port());
    let config = dir.path().join("config.yml");
    std::fs::write(
        &config,
        format!(
            "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: {addr}\n",
            dir.path().join("data").display()
        ),
    )
    .unwrap();
    let child = Command::new(REGISTRY_BIN)
        .arg("serve")
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let registry = Registry {
        child,
        addr,
        _dir: dir,
    };
    wait_until_answers(&registry.addr);
    Some(registry)
}

/// Polls `GET /v2/` until the registry answers (10 s at most).
fn wait_until_answers(addr: &str) {
    use std::io::{Read, Write};
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(mut stream) = std::net::TcpStream::connect(addr) {
            let _ = write!(stream, "GET /v2/ HTTP/1.0\r\nHost: {addr}\r\n\r\n");
            let mut reply = String::new();
            let _ = stream.read_to_string(&mut reply);
            if reply.starts_with("HTTP/1.") && reply.contains(" 200 ") {
                return;
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("the registry at {addr} did not answer in 10 s");
}

/// Pushes `local` to the registry as `name` (e.g. `library/python:3.12-slim`), then removes
/// that tag from the engine so only a pull can bring it back. Returns the full reference.
async fn publish(engine: &Engine, registry: &Registry, local: &str, name: &str) -> String {
    // Concurrent pushes of the same layers to one registry race; one push at a time.
    static PUSHING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    let _one_at_a_time = PUSHING.lock().await;
    let reference = format!("{}/{name}", registry.addr);
    let (repo, tag) = split_reference(&reference);
    engine
        .docker
        .tag_image(
            local,
            Some(TagImageOptions {
                repo: Some(repo.clone()),
                tag: Some(tag.clone()),
            }),
        )
        .await
        .unwrap();
    let mut push = engine.docker.push_image(
        &repo,
        Some(PushImageOptions {
            tag: Some(tag),
            ..Default::default()
        }),
        None,
    );
    while let Some(item) = push.next().await {
        item.unwrap_or_else(|e| panic!("push {reference}: {e}"));
    }
    untag(engine, &reference).await;
    reference
}

async fn untag(engine: &Engine, reference: &str) {
    let _ = engine
        .docker
        .remove_image(reference, None::<RemoveImageOptions>, None)
        .await;
    assert_eq!(
        image_id(engine, reference).await.unwrap(),
        None,
        "{reference} still there"
    );
}

/// One registry per test binary holding the Python image as an official-looking name.
async fn shared_registry(engine: &Engine, test: &str) -> Option<(&'static Registry, String)> {
    static REGISTRY: OnceCell<Option<Registry>> = OnceCell::const_new();
    let registry = REGISTRY
        .get_or_init(|| async { registry_or_skip(test) })
        .await
        .as_ref()?;
    let local = python_image(engine).await;
    Some((registry, local))
}

fn collecting() -> (
    Arc<Mutex<Vec<String>>>,
    impl Fn(&str) + Send + Sync + 'static,
) {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let sink = lines.clone();
    (lines, move |line: &str| {
        sink.lock().unwrap().push(line.to_string())
    })
}

fn pytest_project() -> tempfile::TempDir {
    project(&[
        ("calc.py", "def add(a, b):\n    return a + b\n"),
        (
            "test_calc.py",
            "from calc import add\n\ndef test_add():\n    assert add(2, 3) == 5\n",
        ),
    ])
}

/// A port nothing listens on: a registry that does not answer.
fn dead_registry() -> String {
    format!("127.0.0.1:{}", free_port())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_validate_image_is_pulled_with_progress() {
    let test = "a_missing_validate_image_is_pulled_with_progress";
    let Some(engine) = engine_or_skip(test).await else {
        return;
    };
    let Some((registry, local)) = shared_registry(&engine, test).await else {
        return;
    };
    let image = publish(&engine, registry, &local, "library/python:3.12-pulled").await;
    let (lines, progress) = collecting();
    let validator = DockerValidator::connect(DockerOptions {
        image: Some(image.clone()),
        ..DockerOptions::default()
    })
    .await
    .unwrap()
    .with_progress(progress);
    let dir = pytest_project();
    let outcome = validator
        .validate(&request(
            dir.path(),
            "python3 -m pytest -q",
            120,
            &run_id(test),
        ))
        .await
        .unwrap();
    assert!(outcome.passed, "{}", outcome.tail);
    assert!(image_id(&engine, &image).await.unwrap().is_some(), "pulled");
    let lines = lines.lock().unwrap().clone();
    assert!(
        lines.iter().any(|l| l == &format!("pulling {image}")),
        "{lines:?}"
    );
    untag(&engine, &image).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn official_images_come_through_the_registry_mirror() {
    let test = "official_images_come_through_the_registry_mirror";
    let Some(engine) = engine_or_skip(test).await else {
        return;
    };
    let Some((registry, local)) = shared_registry(&engine, test).await else {
        return;
    };
    let image = publish(&engine, registry, &local, "library/python:3.12-slim").await;
    let (lines, progress) = collecting();
    let validator = DockerValidator::connect(DockerOptions {
        images: ImageSource::Official,
        registry_mirror: format!("{}/library", registry.addr),
        ..DockerOptions::default()
    })
    .await
    .unwrap()
    .with_progress(progress);
    let dir = pytest_project();
    // A requirements file unique to this run (a comment only: nothing to download) gives
    // the setup a new cache key, so the default setup really runs here.
    let nonce = format!("# run {}-{:?}\n", std::process::id(), Instant::now());
    std::fs::write(dir.path().join("requirements.txt"), nonce).unwrap();
    let ready = validator
        .prepare(dir.path(), "python3 -m pytest -q")
        .await
        .unwrap();
    // The official image gets the default setup (pytest installed), cached as a setup image.
    assert!(ready.image.starts_with("selfheal-setup:"), "{ready:?}");
    let lines = lines.lock().unwrap().clone();
    assert!(
        lines.iter().any(|l| l == &format!("pulling {image}")),
        "{lines:?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("pip install") && l.contains("-r requirements.txt")),
        "{lines:?}"
    );
    let outcome = validator
        .validate(&request(
            dir.path(),
            "python3 -m pytest -q",
            120,
            &run_id(test),
        ))
        .await
        .unwrap();
    assert!(outcome.passed, "{}", outcome.tail);
    untag(&engine, &image).await;
    untag(&engine, &ready.image).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_registry_that_does_not_answer_falls_back_to_the_debian_image() {
    let test = "a_registry_that_does_not_answer_falls_back_to_the_debian_image";
    let Some(engine) = engine_or_skip(test).await else {
        return;
    };
    let local = python_image(&engine).await;
    let (lines, progress) = collecting();
    let validator = DockerValidator::connect(DockerOptions {
        images: ImageSource::Auto,
        registry_mirror: format!("{}/library", dead_registry()),
        job_image: Some(format!("{}/team/ci:1", dead_registry())),
        ..DockerOptions::default()
    })
    .await
    .unwrap()
    .with_progress(progress);
    let dir = pytest_project();
    let ready = validator
        .prepare(dir.path(), "python3 -m pytest -q")
        .await
        .unwrap();
    assert_eq!(ready.image, local, "offline, the Debian image is used");
    let lines = lines.lock().unwrap();
    let notes: Vec<&String> = lines.iter().filter(|l| l.starts_with("note:")).collect();
    assert_eq!(
        notes.len(),
        2,
        "one note for the job image, one for the official: {lines:?}"
    );
    assert!(notes[0].contains("job's container image"), "{notes:?}");
    assert!(
        notes[1].contains("python:3.12-slim is not available"),
        "{notes:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_named_image_that_cannot_be_pulled_is_a_clear_error() {
    let test = "a_named_image_that_cannot_be_pulled_is_a_clear_error";
    let Some(_engine) = engine_or_skip(test).await else {
        return;
    };
    let image = format!("{}/library/python:3.12-slim", dead_registry());
    let validator = DockerValidator::connect(DockerOptions {
        image: Some(image.clone()),
        ..DockerOptions::default()
    })
    .await
    .unwrap();
    let dir = pytest_project();
    let err = validator
        .validate(&request(
            dir.path(),
            "python3 -m pytest -q",
            60,
            &run_id(test),
        ))
        .await
        .unwrap_err();
    let SandboxError::PullFailed { image: failed, .. } = &err else {
        panic!("expected a pull failure, got {err:?}");
    };
    assert_eq!(failed, &image);
    let text = err.to_string();
    assert!(
        text.starts_with(&format!("pulling image {image} failed:")),
        "{text}"
    );
    let hint = selfheal::error::Hint::hint(&err);
    assert!(
        hint.contains("sudo selfheal sandbox build"),
        "the hint names the offline way: {hint}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_jobs_own_container_image_is_used_when_it_can_be_had() {
    let test = "the_jobs_own_container_image_is_used_when_it_can_be_had";
    let Some(engine) = engine_or_skip(test).await else {
        return;
    };
    let Some((registry, local)) = shared_registry(&engine, test).await else {
        return;
    };
    let image = publish(&engine, registry, &local, "team/ci-python:3").await;
    let validator = DockerValidator::connect(DockerOptions {
        job_image: Some(image.clone()),
        images: ImageSource::Local,
        ..DockerOptions::default()
    })
    .await
    .unwrap();
    let dir = pytest_project();
    let ready = validator
        .prepare(dir.path(), "python3 -m pytest -q")
        .await
        .unwrap();
    assert_eq!(ready.image, image);
    untag(&engine, &image).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sandbox_build_reuses_the_base_of_the_same_recipe() {
    let test = "sandbox_build_reuses_the_base_of_the_same_recipe";
    let Some(engine) = engine_or_skip(test).await else {
        return;
    };
    let out = assert_cmd::Command::cargo_bin("selfheal")
        .unwrap()
        .args(["--json", "--no-config", "sandbox", "build", "--base-only"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let tag = report["base"].as_str().unwrap();
    assert_eq!(
        tag,
        selfheal::sandbox::recipe::base_tag(&selfheal::sandbox::recipe::recipe_env())
    );
    assert_eq!(report["images"], serde_json::json!([]));
    let latest = image_id(&engine, "selfheal-base:latest").await.unwrap();
    assert!(latest.is_some());
    assert_eq!(
        image_id(&engine, tag).await.unwrap(),
        latest,
        ":latest is the recipe's image"
    );
}

#[test]
fn sandbox_build_refuses_an_unknown_language() {
    let out = assert_cmd::Command::cargo_bin("selfheal")
        .unwrap()
        .args(["sandbox", "build", "--lang", "cobol"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("unknown language \"cobol\"; use one of python, rust, go, node, java"),
        "{err}"
    );
}
