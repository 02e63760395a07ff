//! The Docker sandbox against the real engine: pass, fail, hang, OOM, no network, writes
//! that stay in the container, Ctrl-C, panics, the stale sweep and setup caching (the
//! top-level Dockerfile is tests/dockerfile.rs).
//!
//! Without an engine (or without `selfheal-base:latest`, built by `selfheal sandbox build`) each
//! test prints `SKIP …` and returns; with `CI=true` that skip is a failure instead.
//! The `bench_*` tests are ignored benchmarks (`benches/validate_overhead.sh` runs them).

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use selfheal::error::Hint;
use selfheal::sandbox::container::{LABEL, LABEL_HOST, LABEL_PID, LABEL_RUN_ID, hostname};
use selfheal::sandbox::engine::docker_host_from_env;
use selfheal::sandbox::images::{BASE_IMAGE, image_id};
use selfheal::sandbox::sweep::{is_stale, list_labelled};
use selfheal::sandbox::{
    Container, ContainerSpec, DockerOptions, DockerValidator, Engine, Limits, SandboxError,
    SweepPolicy, TreeFilter, ensure_default, sweep_stale,
};
use selfheal::validate::{
    Lang, LocalValidator, ValidateError, ValidationRequest, Validator, validate_scoped,
};
use tempfile::TempDir;
use tokio::sync::OnceCell;

const BASE: &str = BASE_IMAGE;

/// Connects to the engine and checks the base image, or says why the test is skipped.
/// With CI=true a skip is a failure: CI must exercise the sandbox.
pub(crate) async fn engine_or_skip(test: &str) -> Option<Engine> {
    let reason = match Engine::connect(docker_host_from_env().as_deref()).await {
        Ok(engine) => match image_id(&engine, BASE).await {
            Ok(Some(_)) => return Some(engine),
            Ok(None) => format!("{BASE} is missing (build it with `sudo selfheal sandbox build`)"),
            Err(e) => e.to_string(),
        },
        Err(e) => e.to_string(),
    };
    if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") {
        panic!("{test}: the Docker sandbox is required when CI=true, but: {reason}");
    }
    eprintln!("SKIP {test}: {reason}");
    None
}

macro_rules! require_docker {
    ($name:expr) => {
        match engine_or_skip($name).await {
            Some(engine) => engine,
            None => return,
        }
    };
}

/// The Python image, built once per test binary (shared by the tests that need pytest).
pub(crate) async fn python_image(engine: &Engine) -> String {
    static IMAGE: OnceCell<String> = OnceCell::const_new();
    IMAGE
        .get_or_init(|| async {
            let started = Instant::now();
            let image = ensure_default(engine, Lang::Python, &|line| eprintln!("  build: {line}"))
                .await
                .unwrap();
            eprintln!(
                "python image {image} ready in {:.1} s",
                started.elapsed().as_secs_f64()
            );
            image
        })
        .await
        .clone()
}

pub(crate) fn project(files: &[(&str, &str)]) -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, body) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, body).unwrap();
    }
    dir
}

fn opts(image: &str) -> DockerOptions {
    DockerOptions {
        image: Some(image.to_string()),
        ..DockerOptions::default()
    }
}

async fn validator(options: DockerOptions) -> DockerValidator {
    DockerValidator::connect(options).await.unwrap()
}

pub(crate) fn request(
    dir: &Path,
    command: &str,
    timeout_secs: u64,
    run_id: &str,
) -> ValidationRequest {
    ValidationRequest::new(dir, command, Duration::from_secs(timeout_secs), run_id)
}

pub(crate) fn run_id(test: &str) -> String {
    format!("test-{test}-{}", std::process::id())
}

/// Containers of `run_id` still on the engine.
async fn leftovers(engine: &Engine, run_id: &str) -> Vec<String> {
    let all = list_labelled(engine).await.unwrap();
    all.into_iter()
        .filter(|c| c.labels.get(LABEL_RUN_ID).map(String::as_str) == Some(run_id))
        .map(|c| c.id)
        .collect()
}

/// Every file under `dir` with its content, to prove a tree was not touched.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap().flatten() {
            let path = entry.path();
            let rel = path
                .strip_prefix(dir)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            if path.is_dir() {
                stack.push(path);
                out.insert(format!("{rel}/"), Vec::new());
            } else {
                out.insert(rel, std::fs::read(&path).unwrap());
            }
        }
    }
    out
}

const PASSING: &[(&str, &str)] = &[
    ("calc.py", "def add(a, b):\n    return a + b\n"),
    (
        "tests/test_calc.py",
        "from calc import add\n\ndef test_add():\n    assert add(2, 2) == 4\n",
    ),
    (
        "pyproject.toml",
        "[tool.pytest.ini_options]\npythonpath = [\".\"]\n",
    ),
];

#[tokio::test]
async fn passing_suite_passes() {
    let engine = require_docker!("passing_suite_passes");
    let image = python_image(&engine).await;
    let dir = project(PASSING);
    let id = run_id("pass");
    let v = validator(opts(&image)).await;
    let out = v
        .validate(&request(
            dir.path(),
            "python3 -m pytest -q -p no:cacheprovider",
            120,
            &id,
        ))
        .await
        .unwrap();
    assert!(out.passed, "{out:?}");
    assert_eq!(out.exit_code, Some(0));
    assert!(!out.timed_out && !out.oom_killed);
    assert!(out.tail.contains("1 passed"), "{}", out.tail);
    assert!(
        leftovers(&engine, &id).await.is_empty(),
        "container not removed"
    );
}

/// A tree with something for each kind of `validate.exclude` pattern.
const EXCLUDE_TREE: &[(&str, &str)] = &[
    ("src/app.py", "x = 1\n"),
    ("src/fixtures/big.json", "{}\n"),
    ("tests/fixtures/case.json", "{}\n"),
    ("run.log", "log\n"),
    ("deep/er/run.log", "log\n"),
    ("data", "a file named like the dir-only pattern\n"),
    ("lib/data/x.csv", "1\n"),
    ("docs/a/b/shot.png", "png\n"),
    ("docs/readme.md", "doc\n"),
    ("vendor/lib/c.c", "int x;\n"),
    ("vendor/library.c", "int y;\n"),
];
const EXCLUDES: &[&str] = &["fixtures", "*.log", "data/", "docs/**/*.png", "/vendor/lib"];
const KEPT: &str = "./data ./deep ./deep/er ./docs ./docs/a ./docs/a/b ./docs/readme.md ./lib \
                    ./src ./src/app.py ./tests ./vendor ./vendor/library.c";
/// Lists what the sandbox sees, folders too: an emptied `docs/a/b` stays, `lib/data` does not.
const LIST: &str = "find . -mindepth 1 | LC_ALL=C sort | tr '\\n' ' '; echo";

/// `[validate] exclude` is one set of globs (`selfheal::glob`): the local work copy and the
/// Docker tree copy leave out exactly the same paths.
#[tokio::test]
async fn validate_exclude_leaves_out_the_same_paths_in_both_sandboxes() {
    let dir = project(EXCLUDE_TREE);
    let exclude: Vec<String> = EXCLUDES.iter().map(|s| s.to_string()).collect();

    let copy = selfheal::workcopy::WorkCopy::create(dir.path(), &[], &exclude).unwrap();
    let local = LocalValidator::new()
        .validate(&request(copy.path(), LIST, 30, &run_id("exclude-local")))
        .await
        .unwrap();
    assert!(local.passed, "{local:?}");
    assert_eq!(local.tail.trim(), KEPT, "local work copy");

    let engine = require_docker!("validate_exclude_leaves_out_the_same_paths_in_both_sandboxes");
    let id = run_id("exclude-docker");
    let options = DockerOptions {
        exclude,
        ..opts(BASE)
    };
    let docker = validator(options)
        .await
        .validate(&request(dir.path(), LIST, 60, &id))
        .await
        .unwrap();
    assert!(docker.passed, "{docker:?}");
    assert_eq!(docker.tail.trim(), KEPT, "Docker tree copy");
    assert!(leftovers(&engine, &id).await.is_empty());
}

#[tokio::test]
async fn default_image_is_chosen_from_the_project() {
    let engine = require_docker!("default_image_is_chosen_from_the_project");
    let image = python_image(&engine).await;
    let dir = project(PASSING);
    let v = validator(DockerOptions::default()).await;
    assert_eq!(
        v.prepare(dir.path(), "python3 -m pytest -q")
            .await
            .unwrap()
            .image,
        image
    );
    let out = v
        .validate(&request(
            dir.path(),
            "python3 -m pytest -q",
            120,
            &run_id("default"),
        ))
        .await
        .unwrap();
    assert!(out.passed, "{}", out.tail);
}

#[tokio::test]
async fn failing_suite_fails_and_scoping_runs_the_failing_test_first() {
    let engine = require_docker!("failing_suite_fails");
    let image = python_image(&engine).await;
    let dir = project(&[
        ("calc.py", "def add(a, b):\n    return a - b\n"),
        (
            "tests/test_calc.py",
            "from calc import add\n\ndef test_add():\n    assert add(2, 2) == 4\n\ndef test_ok():\n    pass\n",
        ),
        (
            "pyproject.toml",
            "[tool.pytest.ini_options]\npythonpath = [\".\"]\n",
        ),
    ]);
    let v = validator(opts(&image)).await;
    let mut req = request(
        dir.path(),
        "python3 -m pytest -q -p no:cacheprovider",
        120,
        &run_id("fail"),
    );
    let full = v.validate(&req).await.unwrap();
    assert!(!full.passed && !full.timed_out, "{full:?}");
    assert_eq!(full.exit_code, Some(1));
    assert!(full.tail.contains("1 failed, 1 passed"), "{}", full.tail);
    req.failing_tests = vec!["tests/test_calc.py::test_add".into()];
    let scoped = validate_scoped(&v, &req).await.unwrap();
    assert!(!scoped.passed);
    assert!(
        scoped.command.ends_with("tests/test_calc.py::test_add"),
        "{}",
        scoped.command
    );
    assert!(
        scoped.tail.contains("1 failed") && !scoped.tail.contains("1 passed"),
        "{}",
        scoped.tail
    );
}

#[tokio::test]
async fn repository_dockerfile_is_built_and_used() {
    let _engine = require_docker!("repository_dockerfile_is_built_and_used");
    let marker = format!("{}-{:?}", std::process::id(), Instant::now());
    // An image that runs as root but has a uid-1000 account: tests run as that account.
    let dockerfile =
        format!("FROM {BASE}\nRUN echo '{marker}' > /home/selfheal/from-dockerfile\nUSER root\n");
    let dir = project(&[("ci/Dockerfile", &dockerfile), ("x.txt", "x")]);
    let options = DockerOptions {
        dockerfile: Some("ci/Dockerfile".into()),
        ..DockerOptions::default()
    };
    let v = validator(options).await;
    let ready = v.prepare(dir.path(), "true").await.unwrap();
    let image = ready.image;
    assert!(image.starts_with("selfheal-repo:"), "{image}");
    assert_eq!(ready.user.as_deref(), Some("1000:1000"));
    let req = request(
        dir.path(),
        "id -u; cat /home/selfheal/from-dockerfile",
        60,
        &run_id("dockerfile"),
    );
    let out = v.validate(&req).await.unwrap();
    assert!(out.passed && out.tail.contains(&marker), "{out:?}");
    assert!(out.tail.starts_with("1000\n"), "not root: {}", out.tail);
    let _ = _engine
        .docker
        .remove_image(
            &image,
            None::<bollard::query_parameters::RemoveImageOptions>,
            None,
        )
        .await;
}

#[tokio::test]
async fn hanging_test_is_killed_at_the_timeout() {
    let engine = require_docker!("hanging_test_is_killed_at_the_timeout");
    let dir = project(&[("x.txt", "x")]);
    let id = run_id("hang");
    let v = validator(opts(BASE)).await;
    let started = Instant::now();
    let out = v
        .validate(&request(dir.path(), "echo started; sleep 600", 3, &id))
        .await
        .unwrap();
    assert!(out.timed_out && !out.passed, "{out:?}");
    assert_eq!(out.exit_code, None);
    assert!(out.tail.contains("started"), "{}", out.tail);
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "took {:?}",
        started.elapsed()
    );
    assert!(
        leftovers(&engine, &id).await.is_empty(),
        "timed-out container not removed"
    );
}

#[tokio::test]
async fn memory_hog_is_reported_as_oom() {
    let engine = require_docker!("memory_hog_is_reported_as_oom");
    let dir = project(&[("x.txt", "x")]);
    let mut options = opts(BASE);
    options.limits = Limits {
        memory_mb: 96,
        cpus: 1.0,
        pids: 64,
    };
    let v = validator(options).await;
    // `tail` keeps a line without newlines whole in memory: 1 GiB of zeros overruns 96 MiB.
    let out = v
        .validate(&request(
            dir.path(),
            "head -c 1G /dev/zero | tail -n 1 >/dev/null",
            120,
            &run_id("oom"),
        ))
        .await;
    let out = out.unwrap();
    assert!(out.oom_killed, "{out:?}");
    assert!(!out.passed && !out.timed_out);
    assert_eq!(
        out.exit_code,
        Some(137),
        "Docker reports a SIGKILL as 128 + 9"
    );
    drop(engine);
}

#[tokio::test]
async fn network_is_off_in_tests() {
    let engine = require_docker!("network_is_off_in_tests");
    let dir = project(&[("x.txt", "x")]);
    let v = validator(opts(BASE)).await;
    let cmd = "ls /sys/class/net; getent hosts deb.debian.org && echo REACHED";
    let out = v
        .validate(&request(dir.path(), cmd, 60, &run_id("net")))
        .await
        .unwrap();
    assert!(
        !out.passed,
        "a name lookup worked without a network: {}",
        out.tail
    );
    assert_eq!(out.tail.trim(), "lo", "only loopback exists: {}", out.tail);
    drop(engine);
}

#[tokio::test]
async fn writes_stay_in_the_container() {
    let engine = require_docker!("writes_stay_in_the_container");
    let dir = project(&[
        ("app.py", "print('original')\n"),
        ("data/keep.txt", "keep\n"),
    ]);
    std::fs::create_dir_all(dir.path().join(".git")).unwrap();
    std::fs::write(dir.path().join(".git/HEAD"), "ref: refs/heads/main\n").unwrap();
    let before = snapshot(dir.path());
    let host = dir.path().display();
    let cmd = format!(
        "set -x; id -u; test ! -e .git && echo NO_GIT; echo hacked > app.py; rm -rf data; touch new_file; \
         echo x > /tmp/outside; echo x > ../escape; touch {host}/pwned; touch /etc/pwned; mkdir -p {host}; \
         touch {host}/pwned; cat app.py"
    );
    let v = validator(opts(BASE)).await;
    let out = v
        .validate(&request(dir.path(), &cmd, 60, &run_id("writes")))
        .await
        .unwrap();
    assert!(
        out.tail.contains("hacked"),
        "the command ran on its copy: {}",
        out.tail
    );
    assert!(
        out.tail.contains("NO_GIT"),
        ".git is not copied: {}",
        out.tail
    );
    assert!(
        out.tail.lines().any(|l| l == "1000"),
        "runs as uid 1000: {}",
        out.tail
    );
    assert!(
        out.tail
            .contains("cannot touch '/etc/pwned': Permission denied"),
        "{}",
        out.tail
    );
    assert_eq!(snapshot(dir.path()), before, "the host tree changed");
    drop(engine);
}

#[tokio::test]
async fn setup_runs_once_with_network_and_is_cached() {
    let engine = require_docker!("setup_runs_once_with_network_and_is_cached");
    let marker = format!(
        "{}-{}",
        std::process::id(),
        Instant::now().elapsed().as_nanos()
    );
    let dir = project(&[
        ("requirements.txt", &format!("# {marker}\n")),
        ("x.txt", "x"),
    ]);
    let mut options = opts(BASE);
    // The lookup proves the network is on during setup; the marker that it installed something.
    options.setup =
        Some("getent hosts deb.debian.org >/dev/null && echo installed > ~/setup-marker".into());
    let v = validator(options).await;
    let cmd = "cat ~/setup-marker; getent hosts deb.debian.org || echo OFFLINE";
    let req = request(dir.path(), cmd, 60, &run_id("setup"));
    let first = v.validate(&req).await.unwrap();
    assert!(first.passed, "{first:?}");
    assert!(
        first.tail.contains("installed") && first.tail.contains("OFFLINE"),
        "{}",
        first.tail
    );
    let image = v.prepare(dir.path(), cmd).await.unwrap().image;
    assert!(image.starts_with("selfheal-setup:"), "{image}");
    // A second validator (a new run) finds the committed image instead of running setup again.
    let progress = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let seen = progress.clone();
    let mut options = opts(BASE);
    options.setup =
        Some("getent hosts deb.debian.org >/dev/null && echo installed > ~/setup-marker".into());
    let again = validator(options)
        .await
        .with_progress(move |l| seen.lock().unwrap().push(l.to_string()));
    assert_eq!(again.prepare(dir.path(), cmd).await.unwrap().image, image);
    assert!(
        progress.lock().unwrap().is_empty(),
        "setup ran again: {:?}",
        progress.lock().unwrap()
    );
    let _ = engine
        .docker
        .remove_image(
            &image,
            None::<bollard::query_parameters::RemoveImageOptions>,
            None,
        )
        .await;
}

#[tokio::test]
async fn failing_setup_says_so() {
    let _engine = require_docker!("failing_setup_says_so");
    let dir = project(&[
        ("requirements.txt", &format!("# {}\n", std::process::id())),
        ("x.txt", "x"),
    ]);
    let mut options = opts(BASE);
    options.setup = Some("echo cannot-install >&2; exit 4".into());
    let v = validator(options).await;
    let err = v
        .validate(&request(dir.path(), "true", 60, &run_id("badsetup")))
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("exit code 4")
            && text.contains("cannot-install")
            && err.hint().contains("setup command"),
        "{text}"
    );
}

#[tokio::test]
async fn missing_image_is_an_error_not_a_pull() {
    let _engine = require_docker!("missing_image_is_an_error_not_a_pull");
    let dir = project(&[("x.txt", "x")]);
    // validate.pull = false: a missing image is an error, nothing is pulled.
    let v = validator(DockerOptions {
        pull: false,
        ..opts("selfheal-no-such-image:1")
    })
    .await;
    let err = v
        .validate(&request(dir.path(), "true", 10, &run_id("noimg")))
        .await
        .unwrap_err();
    assert!(matches!(err, SandboxError::ImageMissing { .. }), "{err}");
    // With pulls on (the default) an image no registry has is a pull failure naming it.
    let v = validator(opts("127.0.0.1:9/selfheal-no-such-image:1")).await;
    let err = v
        .validate(&request(dir.path(), "true", 10, &run_id("noimg-pull")))
        .await
        .unwrap_err();
    assert!(
        matches!(
            &err,
            SandboxError::PullFailed { image, .. } if image == "127.0.0.1:9/selfheal-no-such-image:1"
        ),
        "{err}"
    );
}

#[tokio::test]
async fn unreachable_engine_is_an_error_with_a_hint() {
    let options = DockerOptions {
        docker_host: Some("unix:///nonexistent/docker.sock".into()),
        ..DockerOptions::default()
    };
    let err = DockerValidator::connect(options)
        .await
        .err()
        .expect("no engine there");
    let text = err.to_string();
    assert!(
        text.contains("Docker engine not reachable at unix:///nonexistent/docker.sock"),
        "{text}"
    );
    assert!(err.hint().contains("--sandbox local"), "{text}");
}

#[tokio::test]
async fn panic_removes_the_container() {
    let engine = require_docker!("panic_removes_the_container");
    let id = run_id("panic");
    let spec = spec(BASE, "sleep 600", &id);
    let (e2, s2) = (engine.clone(), spec.clone());
    let task = tokio::spawn(async move {
        let container = Container::create(&e2, &s2).await.unwrap();
        let _ = container
            .upload_tree(
                Path::new("/nonexistent-tree"),
                &TreeFilter::new(&[]).unwrap(),
            )
            .await;
        panic!("boom while a container exists");
    });
    assert!(task.await.unwrap_err().is_panic());
    assert!(
        leftovers(&engine, &id).await.is_empty(),
        "the drop guard did not remove the container"
    );
}

fn spec(image: &str, command: &str, run_id: &str) -> ContainerSpec {
    ContainerSpec {
        image: image.into(),
        command: command.into(),
        user: None,
        network: false,
        limits: Limits {
            memory_mb: 256,
            cpus: 1.0,
            pids: 64,
        },
        run_id: run_id.into(),
        env: vec![],
        cap_add: vec![],
    }
}

#[tokio::test]
async fn stale_sweep_removes_containers_of_dead_runs_only() {
    use bollard::models::ContainerCreateBody;
    let engine = require_docker!("stale_sweep_removes_containers_of_dead_runs_only");
    let mut dead = std::process::Command::new("true").spawn().unwrap();
    let dead_pid = dead.id();
    dead.wait().unwrap();
    let make = |run: String, pid: u32| {
        let labels = [
            (LABEL, "1".to_string()),
            (LABEL_RUN_ID, run),
            (LABEL_PID, pid.to_string()),
            (LABEL_HOST, hostname()),
        ];
        ContainerCreateBody {
            image: Some(BASE.into()),
            cmd: Some(vec!["true".into()]),
            labels: Some(
                labels
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), v))
                    .collect(),
            ),
            ..Default::default()
        }
    };
    let stale_run = run_id("stale-dead");
    let live_run = run_id("stale-live");
    let stale = engine
        .docker
        .create_container(None, make(stale_run.clone(), dead_pid))
        .await
        .unwrap()
        .id;
    let live = engine
        .docker
        .create_container(None, make(live_run.clone(), std::process::id()))
        .await
        .unwrap()
        .id;
    let removed = sweep_stale(&engine, &SweepPolicy::default()).await.unwrap();
    assert!(removed.contains(&stale), "{removed:?}");
    assert!(
        !removed.contains(&live),
        "a live run's container was removed"
    );
    assert!(leftovers(&engine, &stale_run).await.is_empty());
    assert_eq!(leftovers(&engine, &live_run).await, vec![live.clone()]);
    // Past the maximum age even a live owner's container is stale, unless it is the run we
    // keep. (Judged with `is_stale` on the engine's own listing: a real zero-age sweep would
    // also take the containers of tests running next to this one.)
    let listed = list_labelled(&engine).await.unwrap();
    let mine = listed
        .iter()
        .find(|c| c.id == live)
        .expect("listed with its labels");
    let later = mine.created + 3 * 3600;
    let keep = SweepPolicy {
        keep_run_id: Some(live_run.clone()),
        ..SweepPolicy::default()
    };
    assert!(!is_stale(mine, &keep, later, &hostname(), |_| true));
    assert!(is_stale(
        mine,
        &SweepPolicy::default(),
        later,
        &hostname(),
        |_| true
    ));
    engine.docker.remove_container(&live, None).await.unwrap();
}

/// Body of the Ctrl-C test, run in a child process (the parent sends it SIGINT).
#[tokio::test]
#[ignore = "run by ctrl_c_removes_the_container in a child process"]
async fn ctrl_c_child() {
    let Ok(id) = std::env::var("SELFHEAL_CTRL_C_RUN_ID") else {
        return;
    };
    let dir = project(&[("x.txt", "x")]);
    let v = validator(opts(BASE)).await;
    match v
        .validate(&request(dir.path(), "sleep 600", 300, &id))
        .await
    {
        Err(SandboxError::Interrupted) => println!("CHILD: interrupted"),
        other => println!("CHILD: unexpected {other:?}"),
    }
}

#[tokio::test]
async fn ctrl_c_removes_the_container() {
    let engine = require_docker!("ctrl_c_removes_the_container");
    let id = run_id("ctrlc");
    let test_name = format!(
        "{}::ctrl_c_child",
        module_path!().split_once("::").map_or("", |(_, m)| m)
    );
    let child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            test_name.as_str(),
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("SELFHEAL_CTRL_C_RUN_ID", &id)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let running = wait_for_running(&engine, &id, Duration::from_secs(60)).await;
    assert!(running, "the child never started its container");
    let status = std::process::Command::new("kill")
        .args(["-s", "INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let output = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("CHILD: interrupted"),
        "stdout: {stdout}\nstderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        leftovers(&engine, &id).await.is_empty(),
        "Ctrl-C left a container behind"
    );
}

async fn wait_for_running(engine: &Engine, run_id: &str, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        for id in leftovers(engine, run_id).await {
            let state = engine
                .docker
                .inspect_container(&id, None)
                .await
                .ok()
                .and_then(|c| c.state);
            if state.and_then(|s| s.running).unwrap_or(false) {
                tokio::time::sleep(Duration::from_millis(300)).await;
                return true;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

// ---- benchmarks (ignored; run by benches/validate_overhead.sh) ----

/// Time of each step of one validation of a small project with a warm image.
#[tokio::test]
#[ignore = "benchmark: benches/validate_overhead.sh"]
async fn bench_validation_overhead() {
    let engine = require_docker!("bench_validation_overhead");
    let dir = project(PASSING);
    let filter = TreeFilter::new(&[]).unwrap();
    let runs = 10;
    let mut totals = [0f64; 5];
    for i in 0..=runs {
        let t = Instant::now();
        let mut c = Container::create(&engine, &spec(BASE, "true", &run_id("bench")))
            .await
            .unwrap();
        let created = t.elapsed().as_secs_f64();
        c.upload_tree(dir.path(), &filter).await.unwrap();
        let uploaded = t.elapsed().as_secs_f64();
        let run = c.run(Duration::from_secs(60), None).await.unwrap();
        let ran = t.elapsed().as_secs_f64();
        c.remove().await.unwrap();
        let removed = t.elapsed().as_secs_f64();
        assert_eq!(run.exit_code, Some(0));
        if i > 0 {
            // the first run warms caches and is not counted
            for (slot, v) in totals.iter_mut().zip([
                created,
                uploaded - created,
                ran - uploaded,
                removed - ran,
                removed,
            ]) {
                *slot += v;
            }
        }
    }
    let avg: Vec<f64> = totals.iter().map(|t| t / runs as f64 * 1000.0).collect();
    println!(
        "BENCH overhead per validation (command `true`, {runs} runs): create {:.0} ms, copy {:.0} ms, start+wait+logs+inspect {:.0} ms, remove {:.0} ms, total {:.0} ms",
        avg[0], avg[1], avg[2], avg[3], avg[4]
    );
    let v = validator(opts(BASE)).await;
    let t = Instant::now();
    for _ in 0..runs {
        assert!(
            v.validate(&request(dir.path(), "true", 60, &run_id("bench")))
                .await
                .unwrap()
                .passed
        );
    }
    println!(
        "BENCH DockerValidator::validate end to end: {:.0} ms per validation",
        t.elapsed().as_secs_f64() * 1000.0 / runs as f64
    );
}

/// Copy throughput of a generated 100 MB tree into a container.
#[tokio::test]
#[ignore = "benchmark: benches/validate_overhead.sh"]
async fn bench_copy_throughput() {
    let engine = require_docker!("bench_copy_throughput");
    let dir = tempfile::tempdir().unwrap();
    let (files, size) = generate_tree(dir.path());
    let mb = size as f64 / 1e6;
    let filter = TreeFilter::new(&[]).unwrap();
    let t = Instant::now();
    let bytes = selfheal::sandbox::tree::tar_to_vec(dir.path(), "workspace", &filter)
        .unwrap()
        .len();
    let tar_secs = t.elapsed().as_secs_f64();
    let mut c = Container::create(&engine, &spec(BASE, "du -sm /workspace", &run_id("copy")))
        .await
        .unwrap();
    let t = Instant::now();
    let stats = c.upload_tree(dir.path(), &filter).await.unwrap();
    let up_secs = t.elapsed().as_secs_f64();
    let run = c.run(Duration::from_secs(60), None).await.unwrap();
    c.remove().await.unwrap();
    assert_eq!(stats.files, files);
    println!(
        "BENCH tree of {files} files, {mb:.0} MB (tar {:.0} MB): tar only {:.2} s ({:.0} MB/s), upload into container {:.2} s ({:.0} MB/s); in container: {}",
        bytes as f64 / 1e6,
        tar_secs,
        mb / tar_secs,
        up_secs,
        mb / up_secs,
        run.tail.trim()
    );
}

/// 100 files of 900 KB and 2,000 small source files: about 100 MB.
fn generate_tree(root: &Path) -> (u64, u64) {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let (mut files, mut size) = (0, 0);
    for i in 0..100 {
        let data: Vec<u8> = (0..900_000 / 8)
            .flat_map(|_| next().to_le_bytes())
            .collect();
        let path = root.join(format!("blobs/{}/b{i}.bin", i % 10));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &data).unwrap();
        files += 1;
        size += data.len() as u64;
    }
    for i in 0..2000 {
        let body = format!("def f{i}(x):\n    return x + {i}\n").repeat(20);
        let path = root.join(format!("src/pkg{}/m{i}.py", i % 40));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &body).unwrap();
        files += 1;
        size += body.len() as u64;
    }
    (files, size)
}

/// Build time of the default language images (SELFHEAL_BENCH_LANGS=python,go,…; default python).
/// Remove the `selfheal-<lang>` images first to time a cold build.
#[tokio::test]
#[ignore = "benchmark: benches/validate_overhead.sh images"]
async fn bench_default_image_builds() {
    let engine = require_docker!("bench_default_image_builds");
    let wanted = std::env::var("SELFHEAL_BENCH_LANGS").unwrap_or_else(|_| "python".into());
    for lang in Lang::ALL
        .into_iter()
        .filter(|l| wanted.split(',').any(|w| w.trim() == l.name()))
    {
        let t = Instant::now();
        let image = ensure_default(&engine, lang, &|_| {}).await.unwrap();
        let size = engine
            .docker
            .inspect_image(&image)
            .await
            .unwrap()
            .size
            .unwrap_or(0);
        println!(
            "BENCH image {image}: ready in {:.1} s, {:.0} MB",
            t.elapsed().as_secs_f64(),
            size as f64 / 1e6
        );
    }
}

/// Body of the local Ctrl-C test, run in a child process (the parent sends it SIGINT).
#[tokio::test]
#[ignore = "run by local_ctrl_c_kills_the_process_group in a child process"]
async fn local_ctrl_c_child() {
    let Ok(dir) = std::env::var("SELFHEAL_LOCAL_CTRL_C_DIR") else {
        return;
    };
    let cmd = "sleep 600 & echo $! > grandchild.pid; wait";
    let req = request(Path::new(&dir), cmd, 300, "local-ctrl-c");
    match LocalValidator::new().validate(&req).await {
        Err(ValidateError::Interrupted) => println!("CHILD: interrupted"),
        other => println!("CHILD: unexpected {other:?}"),
    }
}

#[tokio::test]
async fn local_ctrl_c_kills_the_process_group() {
    let dir = tempfile::tempdir().unwrap();
    let test_name = format!(
        "{}::local_ctrl_c_child",
        module_path!().split_once("::").map_or("", |(_, m)| m)
    );
    let child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            test_name.as_str(),
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("SELFHEAL_LOCAL_CTRL_C_DIR", dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pidfile = dir.path().join("grandchild.pid");
    let deadline = Instant::now() + Duration::from_secs(30);
    let grandchild = loop {
        if let Some(pid) = std::fs::read_to_string(&pidfile)
            .ok()
            .and_then(|s| s.trim().parse::<u32>().ok())
        {
            break pid;
        }
        assert!(
            Instant::now() < deadline,
            "the child never started its command"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let sent = std::process::Command::new("kill")
        .args(["-s", "INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let output = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("CHILD: interrupted"), "stdout: {stdout}");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        !process_running(grandchild),
        "Ctrl-C left the test's background process running"
    );
}

/// Alive and not a zombie waiting to be reaped.
fn process_running(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            stat.rsplit(')')
                .next()
                .and_then(|rest| rest.split_whitespace().next())
                != Some("Z")
        }
        Err(_) => false,
    }
}
