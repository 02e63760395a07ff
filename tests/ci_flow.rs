//! The CI flow of issue 16 end to end, against the fake GitHub (with the endpoints taken from
//! GitHub's REST docs), real git remotes (a bare repository, and `git http-backend` behind
//! Basic auth), the scripted LLM and real tests: a risky patch becomes a draft pull request
//! labelled for review; a vetoed one becomes none but a run record; a run from a fork is
//! only triaged and commented on; a pull request gets exactly one comment, edited later; a
//! flaky run is re-run once; a GitHub App key yields the installation tokens that the API
//! calls and the push use.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use git2::Repository;
use selfheal::github::fake::{FakeApp, FakeGithub, FakePull, Scenario};
use selfheal::github::schema::{check_requests, check_sent};
use selfheal::llm::fake::{FakeLlm, Scripted};

use crate::heal::{fix_reply, runtime};
use crate::run::{Setup, add_green_run, first_result, run_cmd_env, scenario, setup, text};

const CI: (&str, &str) = ("CI", "true");
const REVIEW: &str = "selfheal: needs review";

/// An open pull request #1 from `head` into `main`, which the failed run belongs to.
fn pull_one(sha: &str, head: &str) -> FakePull {
    FakePull {
        number: 1,
        title: "Add moving averages".into(),
        body: "A contributor's change.".into(),
        head: head.into(),
        head_sha: sha.into(),
        base: "main".into(),
        state: "open".into(),
        merged: false,
        draft: false,
        labels: Vec::new(),
    }
}

/// The scenario of `run_id` whose run belongs to pull request #1 of this repository.
fn scenario_with_pull(s: &Setup, run_id: u64) -> Scenario {
    let mut sc = scenario(s, &[run_id]);
    sc.pulls.push(pull_one(&s.sha, "feature"));
    sc.runs[0].pull_requests = vec![1];
    sc
}

/// Every request and body the fake saw matches the contract (shared files and docs).
fn assert_contract(gh: &FakeGithub) {
    check_requests(&gh.requests()).unwrap_or_else(|e| panic!("requests: {e}"));
    check_sent(&gh.sent()).unwrap_or_else(|e| panic!("answers: {e}"));
    gh.assert_verified();
}

fn outputs(s: &Setup) -> String {
    std::fs::read_to_string(s.actions.path().join("output")).unwrap_or_default()
}

fn summary(s: &Setup) -> String {
    std::fs::read_to_string(s.actions.path().join("summary.md")).unwrap_or_default()
}

#[test]
fn a_risky_patch_becomes_a_draft_pull_request_labelled_for_review_and_one_comment() {
    let rt = runtime();
    let s = setup("py-calc");
    let gh = rt.block_on(FakeGithub::start(scenario_with_pull(&s, 601)));
    let llm = rt.block_on(FakeLlm::start());
    llm.push(Scripted::ok(&fix_reply(&s.b)));
    let risky = [CI, ("SELFHEAL_POLICY_MAX_AUTO_RISK", "0")];
    let out = run_cmd_env(&s, &gh, &llm, &["--run-id", "601", "--json"], &risky);
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));
    let r = first_result(&out);
    assert_eq!(r["outcome"], "needs_review", "{r:#}");
    let pulls = gh.with_scenario(|sc| sc.pulls.clone());
    assert_eq!(pulls.len(), 2, "{pulls:?}");
    let fix = &pulls[1];
    assert!(fix.draft, "the fix is a draft");
    assert!(fix.labels.iter().any(|l| l == REVIEW), "{:?}", fix.labels);
    assert!(
        fix.body
            .starts_with("> [!WARNING]\n> **Needs review: risk "),
        "{}",
        fix.body
    );
    assert!(
        fix.body.contains("changed line(s)"),
        "the reasons follow: {}",
        fix.body
    );
    assert!(gh.with_scenario(|sc| sc.labels.iter().any(|l| l == REVIEW)));
    assert!(
        outputs(&s).contains("outcome=needs_review"),
        "{}",
        outputs(&s)
    );

    // One comment on the pull request the run belongs to: the cause and the draft.
    let comments = gh.with_scenario(|sc| sc.comments.clone());
    assert_eq!(comments.len(), 1, "{comments:?}");
    let c = &comments[0];
    assert_eq!(c.issue_number, 1);
    let site = &s.b.meta["error_site"];
    let at = format!("`{}:{}`", site["file"].as_str().unwrap(), site["line"]);
    assert!(c.body.contains(&at), "{at} not in {}", c.body);
    assert!(c.body.contains(r["pr_url"].as_str().unwrap()), "{}", c.body);

    // The next run of the same failure edits that comment; it never adds a second.
    llm.push(Scripted::ok(&fix_reply(&s.b)));
    let again = run_cmd_env(
        &s,
        &gh,
        &llm,
        &["--run-id", "601", "--json", "--force"],
        &risky,
    );
    assert_eq!(
        first_result(&again)["outcome"],
        "needs_review",
        "{}",
        text(&again)
    );
    let comments = gh.with_scenario(|sc| sc.comments.clone());
    assert_eq!(comments.len(), 1, "{comments:?}");
    assert_eq!(comments[0].edits, 1);
    assert_eq!(gh.count("POST", "/issues/1/comments"), 1);
    assert_eq!(
        gh.count("PATCH", &format!("/issues/comments/{}", comments[0].id)),
        1
    );
    assert_contract(&gh);
}

/// The real fix plus a test whose assertion is removed: the tests pass, the veto stops it.
fn weakening_reply(s: &Setup) -> String {
    let fix = fix_reply(&s.b);
    let end = fix.find(">>>>>>> REPLACE").unwrap() + ">>>>>>> REPLACE".len();
    format!(
        "{}\n\ntests/test_stats.py\n<<<<<<< SEARCH\ndef test_moving_average_window_too_large():\n    assert moving_average([1, 2], 3) == []\n=======\ndef test_moving_average_window_too_large():\n    pass\n>>>>>>> REPLACE\n",
        &fix[..end]
    )
}

#[test]
fn a_vetoed_patch_becomes_no_pull_request_but_a_record_to_upload() {
    let rt = runtime();
    let s = setup("py-calc");
    let gh = rt.block_on(FakeGithub::start(scenario(&s, &[602])));
    let llm = rt.block_on(FakeLlm::start());
    llm.push(Scripted::ok(&weakening_reply(&s)));
    let out = run_cmd_env(&s, &gh, &llm, &["--run-id", "602", "--json"], &[CI]);
    assert_eq!(out.status.code(), Some(5), "{}", text(&out));
    let r = first_result(&out);
    assert_eq!(r["outcome"], "vetoed", "{r:#}");
    assert!(
        r["note"]
            .as_str()
            .unwrap()
            .contains("veto: assertion-removed"),
        "{r:#}"
    );
    assert_eq!(gh.with_scenario(|sc| sc.pulls.len()), 0, "no pull request");
    assert_eq!(gh.count("POST", "/git/refs"), 0);
    let bare = Repository::open_bare(&s.bare).unwrap();
    assert!(
        bare.find_reference("refs/heads/selfheal/run-602-1")
            .is_err(),
        "nothing pushed"
    );
    // The record the workflow uploads: named in the outputs and the summary, and on disk.
    let outputs = outputs(&s);
    let record = outputs
        .lines()
        .find_map(|l| l.strip_prefix("record="))
        .unwrap_or_else(|| panic!("{outputs}"));
    assert!(Path::new(record).is_file(), "{record}");
    let saved: serde_json::Value = serde_json::from_slice(&std::fs::read(record).unwrap()).unwrap();
    assert_eq!(saved["verdict"], "pending");
    assert_eq!(r["record_path"], record);
    let summary = summary(&s);
    assert!(
        summary.contains("### Run 602 (attempt 1): the fix was vetoed: no pull request"),
        "{summary}"
    );
    assert!(
        summary.contains("**veto** `assertion-removed`"),
        "{summary}"
    );
    assert!(summary.contains(record), "{summary}");
    assert!(outputs.contains("outcome=vetoed"), "{outputs}");
    assert_contract(&gh);
}

#[test]
fn a_run_from_a_fork_is_triaged_and_commented_on_with_no_pull_request() {
    let rt = runtime();
    let s = setup("py-calc");
    let mut sc = scenario(&s, &[603]);
    sc.runs[0].head_repository = Some("contrib/app".into());
    sc.runs[0].event = "pull_request".into();
    sc.runs[0].head_branch = Some("feature".into());
    sc.pulls.push(pull_one(&s.sha, "contrib:feature"));
    let gh = rt.block_on(FakeGithub::start(sc));
    let llm = rt.block_on(FakeLlm::start());
    let out = run_cmd_env(&s, &gh, &llm, &["--run-id", "603", "--json"], &[CI]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let r = first_result(&out);
    assert_eq!(r["outcome"], "triaged", "{r:#}");
    assert!(r["note"].as_str().unwrap().contains("contrib/app"), "{r:#}");
    assert_eq!(
        llm.requests().len(),
        0,
        "the LLM key is never used for a fork"
    );
    assert!(
        !s.b.dir.path().join(".selfheal/worktrees").exists(),
        "the fork's commit was never checked out, so no sandbox ran it"
    );
    assert_eq!(gh.with_scenario(|sc| sc.pulls.len()), 1, "no pull request");
    let comments = gh.with_scenario(|sc| sc.comments.clone());
    assert_eq!(comments.len(), 1, "{comments:?}");
    assert!(
        comments[0].body.contains("tests/test_stats.py:"),
        "{}",
        comments[0].body
    );
    assert!(comments[0].body.contains("comes from the fork contrib/app"));
    assert!(
        gh.requests()
            .iter()
            .any(|q| q.path.ends_with("/pulls") && q.query.contains("head=contrib%3Afeature")),
        "the fork's pull request is found by its head"
    );
    assert_contract(&gh);
}

#[test]
fn a_flaky_run_is_rerun_once_and_never_again() {
    let rt = runtime();
    let s = setup("py-calc");
    let mut sc = scenario(&s, &[604]);
    add_green_run(&mut sc, &s, 605, &s.sha.clone(), "pull_request");
    let gh = rt.block_on(FakeGithub::start(sc));
    let llm = rt.block_on(FakeLlm::start());
    let out = run_cmd_env(&s, &gh, &llm, &["--run-id", "604", "--json"], &[CI]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert_eq!(first_result(&out)["outcome"], "rerun", "{}", text(&out));
    assert_eq!(gh.with_scenario(|sc| sc.reruns.clone()), [604]);
    assert!(outputs(&s).contains("outcome=rerun"));
    let again = run_cmd_env(
        &s,
        &gh,
        &llm,
        &["--run-id", "604", "--json", "--force"],
        &[CI],
    );
    let r = first_result(&again);
    assert_eq!(r["outcome"], "flaky", "{r:#}");
    assert!(
        r["note"].as_str().unwrap().contains("re-run before"),
        "{r:#}"
    );
    assert_eq!(
        gh.with_scenario(|sc| sc.reruns.len()),
        1,
        "never the same run twice"
    );
    assert_eq!(llm.requests().len(), 0);
    assert_contract(&gh);
}

/// An RSA key pair made by `openssl`, as PEM: (private, public).
fn rsa_key_pair(dir: &Path) -> (String, String) {
    let key = dir.join("app.pem");
    let ok = Command::new("openssl")
        .args(["genrsa", "-out"])
        .arg(&key)
        .arg("2048")
        .output()
        .expect("openssl runs (.ci/run installs it)")
        .status
        .success();
    assert!(ok, "openssl genrsa");
    let public = Command::new("openssl")
        .args(["rsa", "-pubout", "-in"])
        .arg(&key)
        .output()
        .unwrap();
    assert!(public.status.success());
    (
        std::fs::read_to_string(&key).unwrap(),
        String::from_utf8(public.stdout).unwrap(),
    )
}

#[test]
fn a_github_app_key_yields_installation_tokens_that_the_push_and_the_pull_request_use() {
    let rt = runtime();
    let s = setup("py-calc");
    let keys = tempfile::tempdir().unwrap();
    let (private, public) = rsa_key_pair(keys.path());
    let mut sc = scenario(&s, &[606]);
    sc.app = Some(FakeApp {
        app_id: 31337,
        installation_id: 77,
        public_key_pem: public,
        // Shorter than octocrab's 30 s margin: every use mints a fresh token.
        token_ttl_secs: 20,
    });
    let gh = rt.block_on(FakeGithub::start(sc));
    // The clone's origin: git http-backend that lets in only live installation tokens.
    let accepts = Arc::new(gh.token_check());
    let root = s.bare.parent().unwrap().to_path_buf();
    let (base, seen) = rt.block_on(crate::publish::http_remote::serve_checked(
        root.clone(),
        accepts,
    ));
    let user = Repository::open(s.b.dir.path()).unwrap();
    user.remote_set_url("origin", &format!("{base}/remote.git"))
        .unwrap();
    // selfheal pushes to `[github] git_url`/owner/repo.git, never to origin as is: serve the
    // same bare repository under that name too.
    std::fs::create_dir_all(root.join("acme")).unwrap();
    std::os::unix::fs::symlink(&s.bare, root.join("acme/app.git")).unwrap();
    let git_url = base.clone();
    let llm = rt.block_on(FakeLlm::start());
    llm.push(Scripted::ok(&fix_reply(&s.b)));
    let app_env = [
        ("GH_TOKEN", ""),
        ("SELFHEAL_GITHUB_APP_ID", "31337"),
        ("SELFHEAL_GITHUB_APP_PRIVATE_KEY", private.as_str()),
        ("SELFHEAL_GITHUB_GIT_URL", git_url.as_str()),
    ];
    let out = run_cmd_env(&s, &gh, &llm, &["--run-id", "606", "--json"], &app_env);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(
        first_result(&out)["outcome"],
        "pull_request",
        "{}",
        text(&out)
    );
    let minted = gh.with_scenario(|sc| sc.minted.clone());
    assert!(
        minted.len() >= 2,
        "tokens are re-minted before they expire: {minted:?}"
    );
    let is_minted = |auth: &str| minted.iter().any(|(t, _)| auth.ends_with(t.as_str()));
    let requests = gh.requests();
    let pull = requests
        .iter()
        .find(|r| r.method == "POST" && r.path.ends_with("/pulls"))
        .expect("a pull request was opened");
    assert!(
        is_minted(pull.authorization.as_deref().unwrap_or("")),
        "{pull:?}"
    );
    assert!(
        requests
            .iter()
            .all(|r| r.authorization.as_deref() != Some(&format!("Bearer {}", crate::run::TOKEN))),
        "no personal token was used"
    );
    let pushed = seen.lock().unwrap().clone();
    assert!(
        pushed
            .iter()
            .any(|(u, a)| u.contains("git-receive-pack") && a.is_some()),
        "{pushed:?}"
    );
    let bare = Repository::open_bare(&s.bare).unwrap();
    assert!(bare.find_reference("refs/heads/selfheal/run-606-1").is_ok());
    assert!(
        !text(&out).contains(&private[40..80]),
        "the key never shows"
    );
    assert_contract(&gh);

    // `check` names the identity and what it may do.
    let check = crate::cli::selfheal()
        .current_dir(s.b.dir.path())
        .env("GITHUB_API_URL", gh.api_url())
        .env("GITHUB_REPOSITORY", "acme/app")
        .env("SELFHEAL_GITHUB_APP_ID", "31337")
        .env("SELFHEAL_GITHUB_APP_PRIVATE_KEY", &private)
        .env("OPENAI_BASE_URL", llm.base_url())
        .args(["check", "--json"])
        .output()
        .unwrap();
    let v: serde_json::Value =
        serde_json::from_slice(&check.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&check)));
    let line = |name: &str| {
        v["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("no {name} in {v:#}"))
    };
    let identity = line("identity");
    assert_eq!(identity["ok"], true, "{identity:#}");
    assert!(
        identity["detail"]
            .as_str()
            .unwrap()
            .contains("GitHub App 31337, installation 77 on acme"),
        "{identity:#}"
    );
    let publish = line("can publish");
    assert_eq!(publish["ok"], true, "{publish:#}");
}
