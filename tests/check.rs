//! `selfheal check` against the fake GitHub, the fake LLM and the real Docker engine:
//! all green, then each check failing in turn with its hint and the exit code.

use selfheal::github::fake::{FakeGithub, Scenario};
use selfheal::llm::fake::FakeLlm;
use serde_json::Value;

use crate::cli::selfheal;
use crate::heal::runtime;

const TOKEN: &str = "ghs_check_token_0123456789";

struct World {
    gh: FakeGithub,
    llm: FakeLlm,
    _rt: tokio::runtime::Runtime,
    dir: tempfile::TempDir,
}

fn world() -> World {
    let rt = runtime();
    let gh = rt.block_on(FakeGithub::start(Scenario::new("acme", "app", TOKEN)));
    let llm = rt.block_on(FakeLlm::start());
    llm.serve_models(&["gpt-4o-mini"]);
    World {
        gh,
        llm,
        _rt: rt,
        dir: tempfile::tempdir().unwrap(),
    }
}

/// `selfheal --json check` with a healthy environment, changed by `env`; (exit, checks).
fn check(w: &World, env: &[(&str, &str)]) -> (i32, Vec<Value>) {
    let mut cmd = selfheal();
    cmd.current_dir(w.dir.path())
        .env("GITHUB_API_URL", w.gh.api_url())
        .env("GITHUB_REPOSITORY", "acme/app")
        .env("GH_TOKEN", TOKEN)
        .env("OPENAI_BASE_URL", w.llm.base_url())
        .env("OPENAI_API_KEY", "k")
        .env("SELFHEAL_MODEL", "gpt-4o-mini")
        .args(["--json", "check"]);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
    (
        out.status.code().unwrap(),
        v["checks"].as_array().unwrap().clone(),
    )
}

fn status<'a>(checks: &'a [Value], name: &str) -> &'a Value {
    checks
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no check {name}: {checks:?}"))
}

#[test]
fn everything_answers_so_everything_passes() {
    let w = world();
    let started = std::time::Instant::now();
    let (code, checks) = check(&w, &[]);
    let failed: Vec<&Value> = checks
        .iter()
        .filter(|c| c["ok"] == false && c["required"] == true)
        .collect();
    assert_eq!(code, 0, "{failed:?}");
    for name in [
        "config",
        "prompts",
        "state dir",
        "git identity",
        "token",
        "repository",
        "token accepted",
        "runs readable",
        "llm endpoint",
        "llm model",
    ] {
        assert_eq!(
            status(&checks, name)["ok"],
            true,
            "{name}: {:?}",
            status(&checks, name)
        );
    }
    assert!(started.elapsed().as_secs_f64() < 10.0);
}

#[test]
fn a_missing_or_rejected_token_fails_with_a_hint() {
    let w = world();
    let (code, checks) = check(&w, &[("GH_TOKEN", "ghs_wrong")]);
    assert_eq!(code, 1);
    assert_eq!(status(&checks, "token accepted")["ok"], false);
    let (code, checks) = check(&w, &[("GH_TOKEN", "")]);
    assert_eq!(code, 1);
    assert!(
        status(&checks, "token")["hint"]
            .as_str()
            .unwrap()
            .contains("GH_TOKEN")
    );
}

#[test]
fn an_unresolvable_repository_fails() {
    let w = world();
    let (code, checks) = check(&w, &[("GITHUB_REPOSITORY", "")]);
    assert_eq!(code, 1);
    assert_eq!(status(&checks, "repository")["ok"], false);
}

#[test]
fn an_unreachable_llm_or_unlisted_model_is_reported() {
    let w = world();
    let (code, checks) = check(&w, &[("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")]);
    assert_eq!(code, 1);
    assert!(
        status(&checks, "llm endpoint")["hint"]
            .as_str()
            .unwrap()
            .contains("OPENAI_BASE_URL")
    );
    let (code, checks) = check(&w, &[("SELFHEAL_MODEL", "no-such-model")]);
    assert_eq!(code, 0, "an unlisted model is a warning");
    assert_eq!(status(&checks, "llm model")["ok"], false);
}

#[test]
fn an_unwritable_state_dir_and_missing_prompts_fail() {
    let w = world();
    std::fs::write(w.dir.path().join("file"), "x").unwrap();
    let (code, checks) = check(&w, &[("SELFHEAL_STATE_DIR", "file/state")]);
    assert_eq!(code, 1);
    assert_eq!(status(&checks, "state dir")["ok"], false);
    let (code, checks) = check(&w, &[("SELFHEAL_LLM_PROMPTS_DIR", "/nonexistent/prompts")]);
    assert_eq!(code, 1);
    assert_eq!(status(&checks, "prompts")["ok"], false);
}

#[test]
fn docker_is_required_only_for_the_docker_sandbox() {
    let w = world();
    let (code, checks) = check(&w, &[("DOCKER_HOST", "unix:///nonexistent.sock")]);
    assert_eq!(code, 0, "local sandbox: docker is optional");
    assert_eq!(status(&checks, "docker")["ok"], false);
    let (code, _) = check(
        &w,
        &[
            ("DOCKER_HOST", "unix:///nonexistent.sock"),
            ("SELFHEAL_SANDBOX", "docker"),
        ],
    );
    assert_eq!(code, 1);
}
