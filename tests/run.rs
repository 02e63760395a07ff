//! `selfheal run` end to end: a failed run of a broken sample project on the fake GitHub,
//! a real bare repository as `origin`, the scripted LLM, and real tests. A validated fix
//! becomes a pushed `selfheal/…` branch and one pull request; a second run does nothing
//! new; a fix that fails validation opens nothing.

use std::io::Read;
use std::path::{Path, PathBuf};

use git2::{Repository, Signature};
use selfheal::github::fake::{FakeGithub, FakeJob, FakeRun, Scenario};
use selfheal::llm::fake::{FakeLlm, Scripted};

use crate::cli::selfheal;
use crate::heal::{Broken, broken, fix_reply, runtime};

pub const TOKEN: &str = "ghs_run_test_token_0123456789";

/// The broken sample committed on `main` of a clone whose origin is a bare repo.
pub struct Setup {
    pub b: Broken,
    pub bare: PathBuf,
    _bare_dir: tempfile::TempDir,
    pub sha: String,
    /// GITHUB_STEP_SUMMARY and GITHUB_OUTPUT, as a runner provides them.
    pub actions: tempfile::TempDir,
}

pub fn setup(sample: &str) -> Setup {
    let b = broken(sample);
    let repo = Repository::init(b.dir.path()).unwrap();
    let mut index = repo.index().unwrap();
    index
        .add_all(["*"], git2::IndexAddOption::DEFAULT, None)
        .unwrap();
    index.write().unwrap();
    let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
    let dev = Signature::now("Dev", "dev@acme.org").unwrap();
    let sha = repo
        .commit(Some("refs/heads/main"), &dev, &dev, "broken", &tree, &[])
        .unwrap()
        .to_string();
    repo.set_head("refs/heads/main").unwrap();
    let bare_dir = tempfile::tempdir().unwrap();
    let bare = bare_dir.path().join("remote.git");
    Repository::init_bare(&bare).unwrap();
    let url = format!("file://{}", bare.display());
    let mut origin = repo.remote("origin", &url).unwrap();
    origin
        .push(&["refs/heads/main:refs/heads/main"], None)
        .unwrap();
    Setup {
        b,
        bare,
        _bare_dir: bare_dir,
        sha,
        actions: tempfile::tempdir().unwrap(),
    }
}

/// Steps of the one job in the ZIP, as the jobs API would list them.
fn job_from_zip(zip: &Path, id: u64) -> FakeJob {
    let mut archive = zip::ZipArchive::new(std::fs::File::open(zip).unwrap()).unwrap();
    let mut job = String::new();
    let mut steps: Vec<(u32, String, bool)> = Vec::new();
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).unwrap();
        let name = entry.name().unwrap().to_string();
        let Some((folder, file)) = name.split_once('/') else {
            continue;
        };
        let Some((n, step)) = file.strip_suffix(".txt").and_then(|f| f.split_once('_')) else {
            continue;
        };
        let mut text = String::new();
        entry.read_to_string(&mut text).unwrap();
        job = folder.to_string();
        steps.push((
            n.parse().unwrap(),
            step.to_string(),
            text.contains("##[error]Process completed"),
        ));
    }
    steps.sort();
    FakeJob {
        id,
        name: job,
        conclusion: Some("failure".into()),
        steps: steps
            .into_iter()
            .map(|(n, s, bad)| {
                (
                    s,
                    n,
                    Some(if bad { "failure" } else { "success" }.to_string()),
                )
            })
            .collect(),
        run_attempt: None,
    }
}

pub fn scenario(s: &Setup, run_ids: &[u64]) -> Scenario {
    let mut sc = Scenario::new("acme", "app", TOKEN);
    sc.git_dir = Some(s.bare.clone());
    for &id in run_ids {
        sc = sc.with_run(FakeRun {
            head_sha: s.sha.clone(),
            ..FakeRun::failed(id)
        });
        sc.jobs.insert(id, vec![job_from_zip(&s.b.zip, id * 10)]);
        sc.run_logs.insert(id, std::fs::read(&s.b.zip).unwrap());
    }
    sc
}

fn run_cmd(s: &Setup, gh: &FakeGithub, llm: &FakeLlm, extra: &[&str]) -> std::process::Output {
    run_cmd_env(s, gh, llm, extra, &[])
}

/// `run_cmd` with more environment; a value of `""` removes the variable.
pub fn run_cmd_env(
    s: &Setup,
    gh: &FakeGithub,
    llm: &FakeLlm,
    extra: &[&str],
    env: &[(&str, &str)],
) -> std::process::Output {
    let mut cmd = selfheal();
    cmd.current_dir(s.b.dir.path())
        .env("GITHUB_API_URL", gh.api_url())
        .env("GH_TOKEN", TOKEN)
        .env("OPENAI_BASE_URL", llm.base_url())
        .env("OPENAI_API_KEY", "test")
        .env("SELFHEAL_LLM_MAX_RETRY_WAIT_SECS", "1")
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", s.actions.path().join("summary.md"))
        .env("GITHUB_OUTPUT", s.actions.path().join("output"))
        .args(["run", "--repo", "acme/app", "--sandbox", "local", "--yes"])
        .args(extra);
    for (k, v) in env {
        if v.is_empty() {
            cmd.env_remove(k);
        } else {
            cmd.env(k, v);
        }
    }
    cmd.output().unwrap()
}

pub fn text(out: &std::process::Output) -> String {
    format!(
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn a_failed_run_becomes_a_validated_pull_request_once() {
    let rt = runtime();
    let s = setup("rs-stack");
    let gh = rt.block_on(FakeGithub::start(scenario(&s, &[101])));
    let llm = rt.block_on(FakeLlm::start());
    llm.push(Scripted::ok(&fix_reply(&s.b)));
    let before = crate::heal::snapshot(s.b.dir.path());
    let out = run_cmd(&s, &gh, &llm, &["--run-id", "101"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    // the user's working tree is untouched: the repair happened in a checkout of head_sha
    let mut after = crate::heal::snapshot(s.b.dir.path());
    after.retain(|k, _| !k.starts_with(".git/"));
    let mut before = before;
    before.retain(|k, _| !k.starts_with(".git/"));
    assert!(after == before, "the working tree changed");
    // the branch is on the remote with the fix
    let bare = Repository::open_bare(&s.bare).unwrap();
    let branch = bare
        .find_reference("refs/heads/selfheal/run-101-1")
        .expect("branch pushed");
    let commit = branch.peel_to_commit().unwrap();
    assert!(
        commit.message().unwrap().contains("Signed-off-by: "),
        "{:?}",
        commit.message()
    );
    let fix = &s.b.meta["fix"];
    let file = commit
        .tree()
        .unwrap()
        .get_path(Path::new(fix["file"].as_str().unwrap()))
        .unwrap();
    let blob = bare.find_blob(file.id()).unwrap();
    assert!(String::from_utf8_lossy(blob.content()).contains(fix["replace"].as_str().unwrap()));
    // one pull request, head and base right
    let pulls = gh.with_scenario(|sc| sc.pulls.clone());
    assert_eq!(pulls.len(), 1, "{pulls:?}");
    assert_eq!(
        (pulls[0].head.as_str(), pulls[0].base.as_str()),
        ("selfheal/run-101-1", "main")
    );
    assert!(pulls[0].body.contains("selfheal-signature"));
    // inside Actions: annotations, a step summary and outputs
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("::error file=src/stack.rs,line="),
        "{}",
        text(&out)
    );
    let summary = std::fs::read_to_string(s.actions.path().join("summary.md")).unwrap();
    assert!(summary.contains("| 101 | pull_request |"), "{summary}");
    let outputs = std::fs::read_to_string(s.actions.path().join("output")).unwrap();
    assert!(
        outputs.contains("outcome=pull_request") && outputs.contains("pr-url=http"),
        "{outputs}"
    );
    // a second run does nothing new
    let again = run_cmd(&s, &gh, &llm, &["--run-id", "101"]);
    assert_eq!(again.status.code(), Some(3), "{}", text(&again));
    assert_eq!(gh.with_scenario(|sc| sc.pulls.len()), 1);
    assert_eq!(llm.requests().len(), 1, "no second LLM call");
    gh.assert_verified();
}

#[test]
fn a_fix_that_fails_validation_opens_no_pull_request() {
    let rt = runtime();
    let mut s = setup("rs-stack");
    let gh = rt.block_on(FakeGithub::start(scenario(&s, &[202])));
    let llm = rt.block_on(FakeLlm::start());
    let right = s.b.meta["fix"]["replace"].as_str().unwrap().to_string();
    s.b.meta["fix"]["replace"] = s.b.meta["fix"]["find"].clone();
    let noop = fix_reply(&s.b);
    s.b.meta["fix"]["replace"] = right.into();
    for _ in 0..3 {
        llm.push(Scripted::ok(&noop));
    }
    let out = run_cmd(&s, &gh, &llm, &["--run-id", "202"]);
    assert_eq!(out.status.code(), Some(5), "{}", text(&out));
    assert_eq!(gh.with_scenario(|sc| sc.pulls.len()), 0);
    let bare = Repository::open_bare(&s.bare).unwrap();
    assert!(
        bare.find_reference("refs/heads/selfheal/run-202-1")
            .is_err()
    );
}

/// `run --json` parsed, with the first run's result.
pub fn first_result(out: &std::process::Output) -> serde_json::Value {
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("--json is not JSON ({e}): {}", text(out)));
    v["runs"][0].clone()
}

/// The sample's green log as a successful run `id` of the same workflow on `sha`.
pub fn add_green_run(sc: &mut Scenario, s: &Setup, id: u64, sha: &str, event: &str) {
    let green_zip = s.b.zip.with_file_name("green.zip");
    sc.runs.push(FakeRun {
        head_sha: sha.into(),
        event: event.into(),
        conclusion: Some("success".into()),
        ..FakeRun::failed(id)
    });
    let job = job_from_zip(&s.b.zip, id * 10).in_attempt(id * 10, 1, "success");
    sc.jobs.insert(id, vec![job]);
    sc.run_logs.insert(id, std::fs::read(green_zip).unwrap());
}

#[test]
fn a_job_that_passed_on_a_rerun_is_reported_flaky_and_not_patched() {
    let rt = runtime();
    let s = setup("py-calc");
    let mut sc = scenario(&s, &[301]);
    sc.runs[0].run_attempt = 2;
    let failed = sc.jobs[&301][0].clone();
    sc.jobs
        .get_mut(&301)
        .unwrap()
        .push(failed.in_attempt(3009, 1, "success"));
    let gh = rt.block_on(FakeGithub::start(sc));
    let llm = rt.block_on(FakeLlm::start());
    llm.push(Scripted::ok(&fix_reply(&s.b)));

    let out = run_cmd(&s, &gh, &llm, &["--run-id", "301", "--json"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let r = first_result(&out);
    assert_eq!(r["outcome"], "flaky", "{r:#}");
    assert_eq!(r["flaky"]["judgment"], "flaky");
    assert_eq!(r["flaky"]["evidence"][0]["kind"], "passed_on_rerun");
    assert_eq!(r["flaky"]["evidence"][0]["attempt"], 1);
    assert!(
        r["note"].as_str().unwrap().contains("--heal-flaky"),
        "{r:#}"
    );
    assert_eq!(
        llm.requests().len(),
        0,
        "no tokens spent on a flaky failure"
    );
    assert_eq!(gh.with_scenario(|sc| sc.pulls.len()), 0);
    let outputs = std::fs::read_to_string(s.actions.path().join("output")).unwrap();
    assert!(outputs.contains("outcome=flaky"), "{outputs}");
    let jobs_all = gh
        .requests()
        .iter()
        .any(|r| r.path.ends_with("/runs/301/jobs") && r.query.contains("filter=all"));
    assert!(jobs_all, "the earlier attempts were asked for");

    // The judgment went into the failure memory.
    let history = selfheal()
        .current_dir(s.b.dir.path())
        .args(["history", "--json"])
        .output()
        .unwrap();
    let h: serde_json::Value = serde_json::from_slice(&history.stdout).unwrap();
    assert_eq!(h["recent"][0]["verdict"], "flaky", "{h:#}");

    // Asked to, it patches anyway.
    let again = run_cmd(
        &s,
        &gh,
        &llm,
        &["--run-id", "301", "--json", "--force", "--heal-flaky"],
    );
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));
    assert_eq!(first_result(&again)["outcome"], "pull_request");
    assert_eq!(llm.requests().len(), 1);
    gh.assert_verified();
}

#[test]
fn a_job_that_passed_on_the_same_commit_elsewhere_is_flaky() {
    let rt = runtime();
    let s = setup("py-calc");
    let mut sc = scenario(&s, &[401]);
    add_green_run(&mut sc, &s, 402, &s.sha.clone(), "pull_request");
    let gh = rt.block_on(FakeGithub::start(sc));
    let llm = rt.block_on(FakeLlm::start());
    let out = run_cmd(&s, &gh, &llm, &["--run-id", "401", "--json"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let r = first_result(&out);
    assert_eq!(r["outcome"], "flaky", "{r:#}");
    let ev = &r["flaky"]["evidence"][0];
    assert_eq!(
        (
            ev["kind"].as_str(),
            ev["run_id"].as_u64(),
            ev["event"].as_str()
        ),
        (
            Some("passed_on_same_commit"),
            Some(402),
            Some("pull_request")
        ),
        "{r:#}"
    );
    assert_eq!(llm.requests().len(), 0);
    gh.assert_verified();
}

#[test]
fn the_last_green_run_is_fetched_cached_and_subtracted() {
    let rt = runtime();
    let s = setup("js-cart"); // its failing step repeats passing tests' lines
    let mut sc = scenario(&s, &[501]);
    add_green_run(&mut sc, &s, 500, &"e".repeat(40), "push");
    let gh = rt.block_on(FakeGithub::start(sc));
    let llm = rt.block_on(FakeLlm::start());
    llm.push(Scripted::ok(&fix_reply(&s.b)));
    let out = run_cmd(&s, &gh, &llm, &["--run-id", "501", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let r = first_result(&out);
    assert_eq!(r["outcome"], "pull_request", "{r:#}");
    assert_eq!(r["baseline"]["run_id"], 500, "{r:#}");
    assert!(
        r["baseline"]["dropped_lines"].as_u64().unwrap() > 0,
        "{r:#}"
    );
    assert_eq!(r["flaky"]["judgment"], "unknown", "{r:#}");
    let site = &s.b.meta["error_site"];
    assert_eq!(
        r["failures"][0]["file"], site["file"],
        "same root cause with the baseline"
    );
    assert_eq!(r["failures"][0]["line"], site["line"]);
    let cached = s.b.dir.path().join(".selfheal/cache/runs/500/logs.zip");
    assert!(cached.is_file(), "the green log is cached for offline use");

    // --no-baseline: the same run, read whole.
    llm.push(Scripted::ok(&fix_reply(&s.b)));
    let whole = run_cmd(
        &s,
        &gh,
        &llm,
        &[
            "--run-id",
            "501",
            "--json",
            "--force",
            "--no-baseline",
            "--no-pr",
        ],
    );
    let r = first_result(&whole);
    assert!(r.get("baseline").is_none(), "{r:#}");
    assert_eq!(r["failures"][0]["file"], site["file"]);
    gh.assert_verified();
}
