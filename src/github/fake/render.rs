//! The fake's JSON bodies: GitHub's own examples from the contract
//! (`tests/contract/github-api/*.json`) with the scenario's values put in, so every field a
//! real answer has is there. Where an official example fails its own schema (contract
//! README), the gap is filled here.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

use serde_json::{Value, json};

use super::scenario::{FakeApp, FakeComment, FakeJob, FakePull, FakeRun, Scenario};

/// One contract file, compiled into the test build (no path of the build machine is kept).
macro_rules! contract_file {
    ($name:literal) => {
        (
            $name,
            include_str!(concat!("../../../tests/contract/github-api/", $name)),
        )
    };
}

/// Every operation file of the contract, by file name.
const CONTRACT: &[(&str, &str)] = &[
    contract_file!("actions.download-job-logs-for-workflow-run.json"),
    contract_file!("actions.download-workflow-run-logs.json"),
    contract_file!("actions.get-job-for-workflow-run.json"),
    contract_file!("actions.get-workflow-run.json"),
    contract_file!("actions.list-jobs-for-workflow-run.json"),
    contract_file!("actions.list-workflow-runs-for-repo.json"),
    contract_file!("actions.list-workflow-runs.json"),
    contract_file!("actions.re-run-workflow-failed-jobs.json"),
    contract_file!("apps.create-installation-access-token.json"),
    contract_file!("apps.get-repo-installation.json"),
    contract_file!("git.create-ref.json"),
    contract_file!("git.get-ref.json"),
    contract_file!("index.json"),
    contract_file!("issues.add-labels.json"),
    contract_file!("issues.create-comment.json"),
    contract_file!("issues.create-label.json"),
    contract_file!("issues.list-comments.json"),
    contract_file!("issues.update-comment.json"),
    contract_file!("pulls.create.json"),
    contract_file!("pulls.list.json"),
    contract_file!("rate-limit.get.json"),
    contract_file!("rate-limits.json"),
    contract_file!("repos.get-commit.json"),
    contract_file!("repos.get.json"),
];

static FILES: LazyLock<Mutex<HashMap<String, Value>>> = LazyLock::new(Default::default);

/// One operation file of the contract, parsed once.
pub fn contract(file: &str) -> Value {
    let mut cache = FILES.lock().expect("contract cache");
    cache
        .entry(file.to_string())
        .or_insert_with(|| {
            let text = CONTRACT
                .iter()
                .find(|(name, _)| *name == file)
                .map(|(_, text)| *text)
                .unwrap_or_else(|| panic!("fake GitHub: no contract file {file}"));
            serde_json::from_str(text).expect("contract file is JSON")
        })
        .clone()
}

/// The names of the contract's operation files.
pub fn contract_files() -> impl Iterator<Item = &'static str> {
    CONTRACT.iter().map(|(name, _)| *name)
}

/// The example of `status` in `file`, the array's first item when it is a list.
fn example(file: &str, status: &str) -> Value {
    let ex = contract(file)["responses"][status]["example"].clone();
    match ex {
        Value::Array(mut items) => items.remove(0),
        other => other,
    }
}

fn set(v: &mut Value, key: &str, value: Value) {
    v.as_object_mut()
        .expect("example is an object")
        .insert(key.into(), value);
}

/// A workflow run (`workflow-run`).
pub fn run(s: &Scenario, r: &FakeRun, api: &str) -> Value {
    let mut v = example("actions.get-workflow-run.json", "200");
    let url = format!("{api}/repos/{}/{}/actions/runs/{}", s.owner, s.repo, r.id);
    let html = format!(
        "https://github.com/{}/{}/actions/runs/{}",
        s.owner, s.repo, r.id
    );
    let fields = [
        ("id", json!(r.id)),
        ("name", json!(r.name)),
        ("head_branch", json!(r.head_branch)),
        ("head_sha", json!(r.head_sha)),
        ("event", json!(r.event)),
        ("status", json!(r.status)),
        ("conclusion", json!(r.conclusion)),
        ("run_attempt", json!(r.run_attempt)),
        ("run_number", json!(r.id % 10_000)),
        ("workflow_id", json!(r.workflow_id)),
        ("path", json!(r.path)),
        ("display_title", json!(format!("Run {}", r.id))),
        ("created_at", json!(r.created_at)),
        ("updated_at", json!(r.created_at)),
        ("run_started_at", json!(r.created_at)),
        ("html_url", json!(html)),
        ("jobs_url", json!(format!("{url}/jobs"))),
        ("logs_url", json!(format!("{url}/logs"))),
        ("url", json!(url)),
        ("pull_requests", json!(run_pulls(s, r, api))),
    ];
    for (k, value) in fields {
        set(&mut v, k, value);
    }
    // The commit's repository: this one, unless the run comes from a fork.
    let this = format!("{}/{}", s.owner, s.repo);
    let (full, id) = match &r.head_repository {
        Some(fork) => (fork.clone(), 9_000_001),
        None => (this.clone(), 1_296_269),
    };
    for (key, full, id) in [
        ("repository", &this, 1_296_269),
        ("head_repository", &full, id),
    ] {
        let repo = &mut v[key];
        set(repo, "full_name", json!(full));
        set(repo, "id", json!(id));
        if let Some((owner, name)) = full.split_once('/') {
            set(repo, "name", json!(name));
            set(&mut repo["owner"], "login", json!(owner));
        }
    }
    v
}

/// `pull_requests[]` of a run (`pull-request-minimal`): GitHub lists only pull requests
/// whose head is in this repository, so a fork's run has none.
fn run_pulls(s: &Scenario, r: &FakeRun, api: &str) -> Vec<Value> {
    let repo = json!({"id": 1296269, "url": format!("{api}/repos/{}/{}", s.owner, s.repo), "name": s.repo});
    r.pull_requests
        .iter()
        .filter_map(|n| s.pulls.iter().find(|p| p.number == *n))
        .map(|p| {
            json!({"id": 1_000_000 + p.number, "number": p.number,
                   "url": format!("{api}/repos/{}/{}/pulls/{}", s.owner, s.repo, p.number),
                   "head": {"ref": p.head, "sha": p.head_sha, "repo": repo},
                   "base": {"ref": p.base, "sha": r.head_sha, "repo": repo}})
        })
        .collect()
}

/// A job with steps (`job`). The example lacks the required `created_at`.
pub fn job(s: &Scenario, run: &FakeRun, j: &FakeJob, api: &str) -> Value {
    let mut v = example("actions.get-job-for-workflow-run.json", "200");
    let steps: Vec<Value> = j
        .steps
        .iter()
        .map(|(name, number, conclusion)| {
            json!({"name": name, "number": number, "status": "completed", "conclusion": conclusion,
                   "started_at": run.created_at, "completed_at": run.created_at})
        })
        .collect();
    let fields = [
        ("id", json!(j.id)),
        ("run_id", json!(run.id)),
        (
            "run_attempt",
            json!(j.run_attempt.unwrap_or(run.run_attempt)),
        ),
        ("name", json!(j.name)),
        ("status", json!("completed")),
        ("conclusion", json!(j.conclusion)),
        ("head_sha", json!(run.head_sha)),
        ("head_branch", json!(run.head_branch)),
        ("workflow_name", json!(run.name)),
        ("created_at", json!(run.created_at)),
        ("steps", json!(steps)),
        (
            "url",
            json!(format!(
                "{api}/repos/{}/{}/actions/jobs/{}",
                s.owner, s.repo, j.id
            )),
        ),
        (
            "run_url",
            json!(format!(
                "{api}/repos/{}/{}/actions/runs/{}",
                s.owner, s.repo, run.id
            )),
        ),
    ];
    for (k, value) in fields {
        set(&mut v, k, value);
    }
    v
}

/// A pull request: `pull-request` (create, `full`) or `pull-request-simple` (list).
/// The examples' `requested_teams` entries lack the required `type`, so they are emptied.
pub fn pull(s: &Scenario, p: &FakePull, api: &str, full: bool) -> Value {
    let mut v = if full {
        example("pulls.create.json", "201")
    } else {
        example("pulls.list.json", "200")
    };
    let html = format!(
        "https://github.com/{}/{}/pull/{}",
        s.owner, s.repo, p.number
    );
    let merged_at = p.merged.then_some("2026-11-21T10:00:00Z");
    let closed_at = (p.state == "closed").then_some("2026-11-21T10:00:00Z");
    let labels: Vec<Value> = p.labels.iter().map(|l| label(s, l)).collect();
    let fields = [
        ("number", json!(p.number)),
        ("id", json!(1_000_000 + p.number)),
        ("title", json!(p.title)),
        ("body", json!(p.body)),
        ("state", json!(p.state)),
        ("draft", json!(p.draft)),
        ("merged_at", json!(merged_at)),
        ("closed_at", json!(closed_at)),
        ("html_url", json!(html)),
        (
            "url",
            json!(format!(
                "{api}/repos/{}/{}/pulls/{}",
                s.owner, s.repo, p.number
            )),
        ),
        ("labels", json!(labels)),
        ("requested_teams", json!([])),
    ];
    for (k, value) in fields {
        set(&mut v, k, value);
    }
    if full {
        set(&mut v, "merged", json!(p.merged));
    }
    for (side, branch, sha) in [
        ("head", &p.head, &p.head_sha),
        ("base", &p.base, &String::new()),
    ] {
        let b = &mut v[side];
        // A fork's head is `owner:branch`.
        let (owner, branch) = branch.split_once(':').unwrap_or((&s.owner, branch));
        set(b, "ref", json!(branch));
        set(b, "label", json!(format!("{owner}:{branch}")));
        if !sha.is_empty() {
            set(b, "sha", json!(sha));
        }
    }
    v
}

/// A label (`label`), as `issues/add-labels` and `issues/create-label` return it.
pub fn label(s: &Scenario, name: &str) -> Value {
    let mut v = example("issues.create-label.json", "201");
    let n = s.labels.iter().position(|l| l == name).unwrap_or(0) as u64;
    set(&mut v, "id", json!(208_045_946 + n));
    set(&mut v, "name", json!(name));
    set(&mut v, "default", json!(false));
    set(
        &mut v,
        "url",
        json!(format!(
            "https://api.github.com/repos/{}/{}/labels/{name}",
            s.owner, s.repo
        )),
    );
    v
}

/// A comment (`issue-comment`).
pub fn comment(s: &Scenario, c: &FakeComment, api: &str) -> Value {
    let mut v = example("issues.create-comment.json", "201");
    let issue_url = format!(
        "{api}/repos/{}/{}/issues/{}",
        s.owner, s.repo, c.issue_number
    );
    let fields = [
        ("id", json!(c.id)),
        ("body", json!(c.body)),
        (
            "url",
            json!(format!(
                "{api}/repos/{}/{}/issues/comments/{}",
                s.owner, s.repo, c.id
            )),
        ),
        ("issue_url", json!(issue_url)),
        (
            "html_url",
            json!(format!(
                "https://github.com/{}/{}/pull/{}#issuecomment-{}",
                s.owner, s.repo, c.issue_number, c.id
            )),
        ),
        (
            "author_association",
            json!(if c.user.ends_with("[bot]") {
                "NONE"
            } else {
                "OWNER"
            }),
        ),
    ];
    for (k, value) in fields {
        set(&mut v, k, value);
    }
    set(&mut v["user"], "login", json!(c.user));
    v
}

/// The App's installation on the repository (`installation`).
pub fn installation(s: &Scenario, app: &FakeApp, api: &str) -> Value {
    let mut v = example("apps.get-repo-installation.json", "200");
    let fields = [
        ("id", json!(app.installation_id)),
        ("app_id", json!(app.app_id)),
        ("app_slug", json!("selfheal")),
        ("target_type", json!("Organization")),
        (
            "access_tokens_url",
            json!(format!(
                "{api}/app/installations/{}/access_tokens",
                app.installation_id
            )),
        ),
        (
            "permissions",
            json!({"actions": "write", "contents": "write", "issues": "write",
                   "pull_requests": "write", "metadata": "read"}),
        ),
    ];
    for (k, value) in fields {
        set(&mut v, k, value);
    }
    set(&mut v["account"], "login", json!(s.owner));
    v
}

/// A new installation token (`installation-token`) expiring at `expires` (epoch seconds).
pub fn installation_token(token: &str, expires: u64) -> Value {
    let mut v = example("apps.create-installation-access-token.json", "201");
    set(&mut v, "token", json!(token));
    set(&mut v, "expires_at", json!(rfc3339(expires)));
    set(
        &mut v,
        "permissions",
        json!({"actions": "write", "contents": "write", "issues": "write", "pull_requests": "write"}),
    );
    set(&mut v, "repository_selection", json!("selected"));
    v
}

/// `2026-12-05T13:00:00Z` for an epoch second.
fn rfc3339(epoch: u64) -> String {
    crate::date::Utc::from_epoch_secs(epoch).rfc3339()
}

/// The repository (`full-repository`). The example (and its nested `source` / `parent`)
/// lacks the required `language`.
pub fn repository(s: &Scenario) -> Value {
    let mut v = example("repos.get.json", "200");
    for nested in ["source", "parent", "template_repository"] {
        if v[nested].is_object() {
            set(&mut v[nested], "language", Value::Null);
        }
    }
    set(&mut v, "name", json!(s.repo));
    set(
        &mut v,
        "full_name",
        json!(format!("{}/{}", s.owner, s.repo)),
    );
    set(&mut v, "default_branch", json!(s.default_branch));
    set(&mut v, "language", Value::Null);
    // The scenario's token belongs to the owner: it may push.
    set(
        &mut v,
        "permissions",
        json!({"admin": true, "maintain": true, "push": true, "triage": true, "pull": true}),
    );
    set(&mut v["owner"], "login", json!(s.owner));
    v
}

/// A branch ref (`git-ref`).
pub fn git_ref(s: &Scenario, branch: &str, sha: &str, api: &str) -> Value {
    let mut v = example("git.get-ref.json", "200");
    set(&mut v, "ref", json!(format!("refs/heads/{branch}")));
    set(
        &mut v,
        "url",
        json!(format!(
            "{api}/repos/{}/{}/git/refs/heads/{branch}",
            s.owner, s.repo
        )),
    );
    set(&mut v["object"], "sha", json!(sha));
    v
}

/// A commit (`commit`). The example's `files[]` lack required keys, so there are none.
pub fn commit(sha: &str, message: &str, author: (&str, &str), committer: (&str, &str)) -> Value {
    let mut v = example("repos.get-commit.json", "200");
    set(&mut v, "sha", json!(sha));
    set(&mut v, "files", json!([]));
    let c = &mut v["commit"];
    set(c, "message", json!(message));
    set(&mut c["author"], "name", json!(author.0));
    set(&mut c["author"], "email", json!(author.1));
    set(&mut c["committer"], "name", json!(committer.0));
    set(&mut c["committer"], "email", json!(committer.1));
    v
}

/// `basic-error`.
pub fn error(message: &str, status: u16) -> Value {
    json!({"message": message, "documentation_url": "https://docs.github.com/rest", "status": status.to_string()})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_contract_file_is_compiled_in() {
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/contract/github-api");
        let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name.ends_with(".json"))
            .collect();
        on_disk.sort();
        let compiled: Vec<&str> = contract_files().collect();
        assert_eq!(on_disk, compiled, "add the new file to CONTRACT");
        for op in contract("index.json")["operations"].as_array().unwrap() {
            let file = op["file"].as_str().unwrap();
            assert!(contract(file)["responses"].is_object(), "{file}");
        }
    }

    #[test]
    fn expiry_times_are_rfc3339_utc() {
        assert_eq!(super::rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(super::rfc3339(1_764_939_600), "2025-12-05T13:00:00Z");
    }
}
