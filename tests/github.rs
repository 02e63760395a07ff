//! The GitHub client against the fake GitHub: pagination, redirects to another origin,
//! log checks, auth errors, rate limits on a fake clock, POSTs that must not repeat, ETags,
//! and every body the fake sent checked against the contract's schemas.

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use secrecy::SecretString;
use selfheal::error::Hint;
use selfheal::github::fake::{FakeGithub, FakeJob, FakePull, FakeRun, Scenario, Scripted};
use selfheal::github::{
    Client, ClientOptions, FakeClock, GithubError, NewPull, Polled, PullFilter, RepoSlug,
    RunFilter, schema,
};

const TOKEN: &str = "ghs_test_token_123";
const NOW: u64 = 1_900_000_000;

fn slug() -> RepoSlug {
    "acme/api".parse().unwrap()
}

/// A small but real run-log ZIP.
pub fn log_zip() -> Vec<u8> {
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut z = zip::ZipWriter::new(&mut buf);
        let opts = zip::write::SimpleFileOptions::default();
        z.start_file("0_test.txt", opts).unwrap();
        z.write_all(b"2026-11-20T10:00:00.0000000Z ##[error]Process completed with exit code 1.\n")
            .unwrap();
        z.start_file("test/3_Run tests.txt", opts).unwrap();
        z.write_all(b"2026-11-20T10:00:00.0000000Z FAILED tests/test_x.py::test_y\n")
            .unwrap();
        z.finish().unwrap();
    }
    buf.into_inner()
}

fn scenario() -> Scenario {
    let mut s = Scenario::new("acme", "api", TOKEN);
    for id in 101..=105 {
        s = s.with_run(FakeRun::failed(id));
    }
    let mut ok = FakeRun::failed(99);
    ok.conclusion = Some("success".into());
    s = s.with_run(ok);
    s.jobs.insert(
        105,
        vec![FakeJob::failing_at(
            9001,
            "test",
            &["Set up job", "Check out", "Run tests"],
            2,
        )],
    );
    s.run_logs.insert(105, log_zip());
    s.job_logs
        .insert(9001, "2026-11-20T10:00:00.0000000Z FAILED\n".into());
    s
}

fn client_with(fake: &FakeGithub, token: &str, max_wait: u64) -> (Client, FakeClock) {
    let clock = FakeClock::at(NOW);
    let opts = ClientOptions {
        api_url: fake.api_url(),
        token: Some(SecretString::from(token.to_string())),
        max_wait_secs: max_wait,
        max_retries: 5,
    };
    (
        Client::with_clock(opts, Arc::new(clock.clone())).unwrap(),
        clock,
    )
}

fn client(fake: &FakeGithub) -> (Client, FakeClock) {
    client_with(fake, TOKEN, 900)
}

fn secs(v: &[u64]) -> Vec<Duration> {
    v.iter().map(|s| Duration::from_secs(*s)).collect()
}

#[tokio::test]
async fn pagination_follows_absolute_links_over_three_pages() {
    let fake = FakeGithub::start(scenario()).await;
    let (c, _) = client(&fake);
    let filter = RunFilter {
        per_page: 2,
        limit: 100,
        ..Default::default()
    };
    let runs = c.list_runs(&slug(), &filter).await.unwrap();
    let ids: Vec<u64> = runs.iter().map(|r| r.id).collect();
    assert_eq!(
        ids,
        [105, 104, 103, 102, 101],
        "failures only, newest first"
    );
    let reqs = fake.requests();
    assert_eq!(reqs.len(), 3);
    assert!(reqs[1].query.contains("page=2") && reqs[2].query.contains("page=3"));
    assert!(reqs.iter().all(|r| r.query.contains("status=failure")));
    fake.assert_verified();
}

#[tokio::test]
async fn limit_stops_paging_early() {
    let fake = FakeGithub::start(scenario()).await;
    let (c, _) = client(&fake);
    let filter = RunFilter {
        per_page: 2,
        limit: 3,
        ..Default::default()
    };
    assert_eq!(c.list_runs(&slug(), &filter).await.unwrap().len(), 3);
    assert_eq!(fake.requests().len(), 2);
}

#[tokio::test]
async fn ghes_base_path_is_kept_and_filters_are_sent() {
    let fake = FakeGithub::start_with_prefix(scenario(), "/api/v3").await;
    assert!(fake.api_url().ends_with("/api/v3"));
    let (c, _) = client(&fake);
    let filter = RunFilter {
        per_page: 2,
        limit: 10,
        branch: Some("main".into()),
        event: Some("push".into()),
        created_since: Some("2026-11-01".into()),
        workflow: Some("ci.yml".into()),
        ..Default::default()
    };
    let runs = c.list_runs(&slug(), &filter).await.unwrap();
    assert_eq!(runs.len(), 5);
    let first = &fake.requests()[0];
    assert_eq!(first.path, "/repos/acme/api/actions/workflows/ci.yml/runs");
    assert!(
        first.query.contains("created=%3E%3D2026-11-01"),
        "{}",
        first.query
    );
    fake.assert_verified();
}

#[tokio::test]
async fn run_logs_redirect_to_another_origin_without_authorization() {
    let fake = FakeGithub::start(scenario()).await;
    let (c, _) = client(&fake);
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("runs/105/logs.zip");
    let size = c
        .download_run_logs(&slug(), 105, None, &dest)
        .await
        .unwrap();
    assert_eq!(std::fs::read(&dest).unwrap(), log_zip());
    assert_eq!(size, log_zip().len() as u64);
    assert_eq!(
        fake.requests()[0].authorization.as_deref(),
        Some(&*format!("Bearer {TOKEN}"))
    );
    let blobs = fake.blob_requests();
    assert_eq!(blobs.len(), 1);
    assert_eq!(
        blobs[0].authorization, None,
        "the token leaked to the download host"
    );
    assert_ne!(fake.blob_url(), fake.api_url());
    fake.assert_verified();
}

#[tokio::test]
async fn attempt_logs_and_job_log_download() {
    let fake = FakeGithub::start(scenario()).await;
    let (c, _) = client(&fake);
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("a.zip");
    c.download_run_logs(&slug(), 105, Some(1), &dest)
        .await
        .unwrap();
    assert_eq!(
        fake.requests()[0].path,
        "/repos/acme/api/actions/runs/105/attempts/1/logs"
    );
    let job = dir.path().join("jobs/9001.txt");
    c.download_job_log(&slug(), 9001, &job).await.unwrap();
    assert!(std::fs::read_to_string(&job).unwrap().contains("FAILED"));
    assert!(
        fake.blob_requests()
            .iter()
            .all(|r| r.authorization.is_none())
    );
    fake.assert_verified();
}

#[tokio::test]
async fn missing_log_is_log_not_found() {
    let fake = FakeGithub::start(scenario()).await;
    let (c, _) = client(&fake);
    let dir = tempfile::tempdir().unwrap();
    let e = c
        .download_run_logs(&slug(), 104, None, &dir.path().join("l.zip"))
        .await
        .unwrap_err();
    assert!(matches!(e, GithubError::LogNotFound { .. }), "{e:?}");
    assert!(e.to_string().contains("log not found"), "{e}");
    assert!(e.hint().contains("expired"));
}

#[tokio::test]
async fn html_or_5xx_where_a_zip_was_expected_is_refused() {
    let fake = FakeGithub::start(scenario()).await;
    let (c, _) = client(&fake);
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("logs.zip");
    fake.override_blob(200, "text/html", b"<!DOCTYPE html><html>Sign in</html>");
    let e = c
        .download_run_logs(&slug(), 105, None, &dest)
        .await
        .unwrap_err();
    assert!(matches!(e, GithubError::NotAZip { .. }), "{e:?}");
    fake.override_blob(503, "text/html", b"<html>unavailable</html>");
    let e = c
        .download_run_logs(&slug(), 105, None, &dest)
        .await
        .unwrap_err();
    assert!(
        matches!(e, GithubError::Status { status: 503, .. }),
        "{e:?}"
    );
    assert!(!dest.exists(), "a refused download must not be cached");
    let leftovers = std::fs::read_dir(dir.path()).unwrap().count();
    assert_eq!(leftovers, 0, "no partial files left behind");
}

#[tokio::test]
async fn wrong_token_gives_the_401_hint() {
    let fake = FakeGithub::start(scenario()).await;
    let (c, clock) = client_with(&fake, "ghp_wrong", 900);
    let e = c
        .list_runs(&slug(), &RunFilter::default())
        .await
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "failed to list workflow runs for acme/api: GitHub answered 401 (token rejected: Bad credentials)"
    );
    assert!(e.hint().contains("GH_TOKEN or GITHUB_TOKEN"));
    assert!(clock.sleeps().is_empty(), "401 is not retried");
    assert_eq!(fake.requests().len(), 1);
}

#[tokio::test]
async fn missing_token_is_an_error_before_any_request() {
    let fake = FakeGithub::start(scenario()).await;
    let opts = ClientOptions {
        api_url: fake.api_url(),
        token: None,
        max_wait_secs: 10,
        max_retries: 1,
    };
    let c = Client::new(opts).unwrap();
    let e = c.get_run(&slug(), 105).await.unwrap_err();
    assert!(matches!(e, GithubError::MissingToken { .. }));
    assert!(e.hint().contains("GH_TOKEN"));
    assert!(fake.requests().is_empty());
}

#[tokio::test]
async fn secondary_limit_with_retry_after_waits_on_the_clock_then_succeeds() {
    let fake = FakeGithub::start(scenario()).await;
    fake.script(Scripted::secondary_limit(
        "GET",
        "/actions/runs/105",
        Some(60),
    ));
    let (c, clock) = client(&fake);
    let run = c.get_run(&slug(), 105).await.unwrap();
    assert_eq!(run.id, 105);
    assert_eq!(clock.sleeps(), secs(&[60]));
    assert_eq!(
        fake.requests().iter().map(|r| r.status).collect::<Vec<_>>(),
        [403, 200]
    );
    fake.assert_verified();
}

#[tokio::test]
async fn secondary_limit_without_retry_after_waits_a_minute_then_doubles() {
    let fake = FakeGithub::start(scenario()).await;
    fake.script(Scripted::secondary_limit("GET", "/actions/runs/105", None));
    fake.script(Scripted::secondary_limit("GET", "/actions/runs/105", None));
    let (c, clock) = client(&fake);
    c.get_run(&slug(), 105).await.unwrap();
    assert_eq!(clock.sleeps(), secs(&[60, 120]));
    fake.assert_verified();
}

#[tokio::test]
async fn too_many_requests_honours_retry_after() {
    let fake = FakeGithub::start(scenario()).await;
    fake.script(Scripted::too_many("GET", "/actions/runs/105/jobs", 7));
    let (c, clock) = client(&fake);
    let jobs = c.list_jobs(&slug(), 105).await.unwrap();
    assert_eq!(
        jobs[0].failed_steps().map(|s| s.number).collect::<Vec<_>>(),
        [3]
    );
    assert_eq!(clock.sleeps(), secs(&[7]));
    fake.assert_verified();
}

#[tokio::test]
async fn server_error_then_success_is_retried_with_backoff() {
    let fake = FakeGithub::start(scenario()).await;
    fake.script(Scripted::server_error("GET", "/actions/runs/105", 500));
    fake.script(Scripted::server_error("GET", "/actions/runs/105", 502));
    let (c, clock) = client(&fake);
    assert_eq!(c.get_run(&slug(), 105).await.unwrap().id, 105);
    assert_eq!(clock.sleeps(), secs(&[1, 2]));
    fake.assert_verified();
}

#[tokio::test]
async fn primary_limit_waits_until_reset() {
    let fake = FakeGithub::start(scenario()).await;
    fake.script(Scripted::primary_limit("GET", "/repos/acme/api", NOW + 120));
    let (c, clock) = client(&fake);
    let repo = c.get_repo(&slug()).await.unwrap();
    assert_eq!(repo.default_branch, "main");
    assert_eq!(clock.sleeps(), secs(&[120]));
    fake.assert_verified();
}

#[tokio::test]
async fn a_wait_beyond_max_wait_fails_without_sleeping() {
    let fake = FakeGithub::start(scenario()).await;
    fake.script(Scripted::primary_limit(
        "GET",
        "/repos/acme/api",
        NOW + 3600,
    ));
    let (c, clock) = client_with(&fake, TOKEN, 900);
    let e = c.get_repo(&slug()).await.unwrap_err();
    assert!(
        matches!(
            e,
            GithubError::RateLimited {
                wait_secs: 3600,
                max_secs: 900,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(e.hint().contains("max_wait_secs"));
    assert!(clock.sleeps().is_empty());
}

#[tokio::test]
async fn forbidden_without_limit_signals_is_a_permission_error_not_retried() {
    let fake = FakeGithub::start(scenario()).await;
    fake.script(Scripted::new(
        "POST",
        "/pulls",
        403,
        r#"{"message":"Resource not accessible by integration","documentation_url":"https://docs.github.com/rest"}"#,
    ));
    let (c, clock) = client(&fake);
    fake.with_scenario(|s| s.refs.insert("selfheal/run-105-1".into(), "a".repeat(40)));
    let e = c.create_pull(&slug(), &new_pull()).await.unwrap_err();
    assert!(matches!(e, GithubError::Forbidden { .. }), "{e:?}");
    assert!(e.hint().contains("pull-requests: write"));
    assert!(clock.sleeps().is_empty());
    assert_eq!(fake.count("POST", "/pulls"), 1);
    fake.assert_verified();
}

fn new_pull() -> NewPull {
    NewPull {
        title: "selfheal: fix test_y".into(),
        head: "selfheal/run-105-1".into(),
        base: "main".into(),
        body: "body".into(),
        draft: false,
        maintainer_can_modify: true,
    }
}

#[tokio::test]
async fn create_pull_answering_502_after_creating_is_not_created_twice() {
    let fake = FakeGithub::start(scenario()).await;
    fake.with_scenario(|s| s.refs.insert("selfheal/run-105-1".into(), "a".repeat(40)));
    fake.script(Scripted::server_error("POST", "/pulls", 502).after_real());
    let (c, _) = client(&fake);
    let pr = c.create_pull(&slug(), &new_pull()).await.unwrap();
    assert_eq!(pr.head.ref_name, "selfheal/run-105-1");
    assert_eq!(
        fake.count("POST", "/pulls"),
        1,
        "the POST was repeated blindly"
    );
    assert_eq!(fake.with_scenario(|s| s.pulls.len()), 1);
    let list = &fake.requests()[1];
    assert_eq!(
        (list.method.as_str(), list.path.as_str()),
        ("GET", "/repos/acme/api/pulls")
    );
    assert!(
        list.query.contains("head=acme%3Aselfheal%2Frun-105-1"),
        "{}",
        list.query
    );
    fake.assert_verified();
}

#[tokio::test]
async fn create_pull_502_before_creating_is_tried_again_once_checked() {
    let fake = FakeGithub::start(scenario()).await;
    fake.with_scenario(|s| s.refs.insert("selfheal/run-105-1".into(), "a".repeat(40)));
    fake.script(Scripted::server_error("POST", "/pulls", 502));
    let (c, _) = client(&fake);
    let pr = c.create_pull(&slug(), &new_pull()).await.unwrap();
    assert_eq!(pr.number, 1);
    assert_eq!(fake.count("POST", "/pulls"), 2);
    assert_eq!(fake.with_scenario(|s| s.pulls.len()), 1);
    fake.assert_verified();
}

#[tokio::test]
async fn create_ref_502_after_creating_is_not_created_twice() {
    let fake = FakeGithub::start(scenario()).await;
    fake.script(Scripted::server_error("POST", "/git/refs", 502).after_real());
    let (c, _) = client(&fake);
    let sha = "b".repeat(40);
    let r = c
        .create_branch_ref(&slug(), "selfheal/x", &sha)
        .await
        .unwrap();
    assert_eq!(
        (r.ref_name.as_str(), r.object.sha.as_str()),
        ("refs/heads/selfheal/x", sha.as_str())
    );
    assert_eq!(fake.count("POST", "/git/refs"), 1);
    assert!(c.get_branch_ref(&slug(), "nope").await.unwrap().is_none());
    fake.assert_verified();
}

#[tokio::test]
async fn etag_304_means_unchanged() {
    let fake = FakeGithub::start(scenario()).await;
    let (c, _) = client(&fake);
    let Polled::Changed { value, etag } = c.get_run_if_changed(&slug(), 105, None).await.unwrap()
    else {
        panic!("first poll must return the run");
    };
    assert_eq!(value.id, 105);
    let etag = etag.expect("GitHub sends an ETag");
    assert_eq!(
        c.get_run_if_changed(&slug(), 105, Some(&etag))
            .await
            .unwrap(),
        Polled::Unchanged
    );
    let filter = RunFilter::default();
    let Polled::Changed {
        etag: list_etag, ..
    } = c
        .list_runs_if_changed(&slug(), &filter, None)
        .await
        .unwrap()
    else {
        panic!("first list poll");
    };
    let again = c
        .list_runs_if_changed(&slug(), &filter, list_etag.as_deref())
        .await
        .unwrap();
    assert_eq!(again, Polled::Unchanged);
    fake.with_scenario(|s| s.runs.push(FakeRun::failed(106)));
    let changed = c
        .list_runs_if_changed(&slug(), &filter, list_etag.as_deref())
        .await
        .unwrap();
    assert!(matches!(changed, Polled::Changed { ref value, .. } if value[0].id == 106));
    let reqs = fake.requests();
    assert_eq!(reqs[1].if_none_match.as_deref(), Some(etag.as_str()));
    assert_eq!(reqs[1].status, 304);
}

#[tokio::test]
async fn labels_and_pull_listing() {
    let fake = FakeGithub::start(scenario()).await;
    fake.with_scenario(|s| {
        s.pulls.push(FakePull {
            number: 7,
            title: "old".into(),
            body: "b".into(),
            head: "selfheal/run-1-1".into(),
            head_sha: "c".repeat(40),
            base: "main".into(),
            state: "closed".into(),
            merged: false,
            draft: false,
            labels: vec![],
        })
    });
    let (c, _) = client(&fake);
    c.add_labels(&slug(), 7, &["selfheal".to_string()])
        .await
        .unwrap();
    let open = PullFilter {
        state: "open".into(),
        head_branch: None,
        head_owner: None,
        limit: 10,
    };
    assert!(c.list_pulls(&slug(), &open).await.unwrap().is_empty());
    let all = PullFilter {
        state: "all".into(),
        ..open
    };
    let pulls = c.list_pulls(&slug(), &all).await.unwrap();
    assert!(pulls[0].is_rejected());
    assert_eq!(pulls[0].labels[0].name, "selfheal");
    fake.assert_verified();
}

#[tokio::test]
async fn unexpected_routes_fail_verify() {
    let fake = FakeGithub::start(scenario()).await;
    let (c, _) = client(&fake);
    let e = c
        .get_run(&"other/repo".parse().unwrap(), 1)
        .await
        .unwrap_err();
    assert!(matches!(e, GithubError::NotFound { .. }));
    let err = fake.verify().unwrap_err();
    assert!(err.contains("unknown repository"), "{err}");
    fake.script(Scripted::server_error("GET", "/never", 500));
    assert!(
        fake.verify()
            .unwrap_err()
            .contains("unused scripted answer")
    );
}

/// Drives every operation (and the error paths) so each body the fake can send is checked.
#[tokio::test]
async fn every_body_the_fake_sends_matches_the_contract_schemas() {
    let fake = FakeGithub::start(scenario()).await;
    let (c, _) = client(&fake);
    let r = slug();
    c.list_runs(
        &r,
        &RunFilter {
            per_page: 2,
            limit: 4,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let wf = RunFilter {
        workflow: Some("161335".into()),
        ..Default::default()
    };
    c.list_runs(&r, &wf).await.unwrap();
    c.get_run(&r, 105).await.unwrap();
    c.list_jobs(&r, 105).await.unwrap();
    c.get_job(&r, 9001).await.unwrap();
    c.get_repo(&r).await.unwrap();
    let sha = "d".repeat(40);
    c.create_branch_ref(&r, "selfheal/run-105-1", &sha)
        .await
        .unwrap();
    c.get_branch_ref(&r, "selfheal/run-105-1").await.unwrap();
    let pr = c.create_pull(&r, &new_pull()).await.unwrap();
    c.add_labels(&r, pr.number, &["selfheal".into()])
        .await
        .unwrap();
    let all = PullFilter {
        state: "all".into(),
        head_branch: Some("selfheal/run-105-1".into()),
        head_owner: None,
        limit: 5,
    };
    c.list_pulls(&r, &all).await.unwrap();
    let _ = c.create_pull(&r, &new_pull()).await.unwrap_err(); // 422 already exists
    let _ = c.get_run(&r, 1).await.unwrap_err(); // 404
    let _ = c.get_commit(&r, "main").await.unwrap_err(); // 404 without a git dir
    let dir = tempfile::tempdir().unwrap();
    let _ = c
        .download_run_logs(&r, 104, None, &dir.path().join("x.zip"))
        .await
        .unwrap_err();
    let (bad, _) = client_with(&fake, "nope", 10);
    let _ = bad.get_repo(&r).await.unwrap_err(); // 401
    fake.script(Scripted::secondary_limit(
        "GET",
        "/actions/runs/105",
        Some(1),
    ));
    c.get_run(&r, 105).await.unwrap();
    let sent = fake.sent();
    let checked =
        schema::check_sent(&sent).unwrap_or_else(|e| panic!("the fake drifted from GitHub:\n{e}"));
    assert!(checked >= 15, "only {checked} bodies checked");
    let asked = schema::check_requests(&fake.requests())
        .unwrap_or_else(|e| panic!("the client drifted from GitHub:\n{e}"));
    assert!(asked >= 18, "only {asked} requests checked");
    fake.assert_verified();
}

#[tokio::test]
async fn fetch_run_caches_the_offline_layout_and_reuses_it() {
    let fake = FakeGithub::start(scenario()).await;
    let (c, _) = client(&fake);
    let dir = tempfile::tempdir().unwrap();
    let store = selfheal::store::Store::open(&dir.path().join(".selfheal")).unwrap();
    let run = c.get_run(&slug(), 105).await.unwrap();
    let got = selfheal::fetch::fetch_run(&c, &slug(), &run, &store)
        .await
        .unwrap();
    assert!(!got.from_cache);
    assert_eq!(got.dir, store.run_dir(105));
    for f in ["run.json", "jobs.json", "logs.zip"] {
        assert!(got.dir.join(f).is_file(), "{f} missing");
    }
    assert_eq!(std::fs::read(got.dir.join("logs.zip")).unwrap(), log_zip());
    let again = selfheal::fetch::fetch_run(&c, &slug(), &run, &store)
        .await
        .unwrap();
    assert!(again.from_cache);
    assert_eq!(
        fake.blob_requests().len(),
        1,
        "a cached ZIP is not downloaded again"
    );
    fake.assert_verified();
}

#[tokio::test]
async fn fetch_run_without_a_zip_falls_back_to_job_logs() {
    let fake = FakeGithub::start(scenario()).await;
    fake.with_scenario(|s| s.run_logs.clear());
    let (c, _) = client(&fake);
    let dir = tempfile::tempdir().unwrap();
    let store = selfheal::store::Store::open(dir.path()).unwrap();
    let run = c.get_run(&slug(), 105).await.unwrap();
    let got = selfheal::fetch::fetch_run(&c, &slug(), &run, &store)
        .await
        .unwrap();
    assert_eq!(got.logs_zip, None);
    assert_eq!(got.job_logs, [store.job_log_path(105, 9001)]);
    assert!(
        got.warnings[0].contains("log not found"),
        "{:?}",
        got.warnings
    );
    fake.assert_verified();
}

#[tokio::test]
async fn network_errors_on_gets_are_retried_within_bounds() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener); // nothing listens there now
    let clock = FakeClock::at(NOW);
    let opts = ClientOptions {
        api_url: url,
        token: Some(SecretString::from(TOKEN.to_string())),
        max_wait_secs: 900,
        max_retries: 3,
    };
    let c = Client::with_clock(opts, Arc::new(clock.clone())).unwrap();
    let e = c.get_run(&slug(), 1).await.unwrap_err();
    assert!(matches!(e, GithubError::Transport { .. }), "{e:?}");
    assert!(e.hint().contains("--api-url"));
    assert_eq!(clock.sleeps(), secs(&[1, 2, 4]));
}

#[tokio::test]
async fn a_rate_limited_post_is_safe_to_repeat() {
    let fake = FakeGithub::start(scenario()).await;
    fake.with_scenario(|s| s.refs.insert("selfheal/run-105-1".into(), "a".repeat(40)));
    fake.script(Scripted::secondary_limit("POST", "/pulls", Some(30)));
    let (c, clock) = client(&fake);
    c.create_pull(&slug(), &new_pull()).await.unwrap();
    assert_eq!(clock.sleeps(), secs(&[30]));
    assert_eq!(fake.count("POST", "/pulls"), 2);
    assert_eq!(fake.with_scenario(|s| s.pulls.len()), 1);
    fake.assert_verified();
}

#[tokio::test]
async fn a_next_link_to_another_origin_is_refused() {
    let fake = FakeGithub::start(scenario()).await;
    fake.script(
        Scripted::new("GET", "/pulls", 200, r#"{"placeholder": true}"#)
            .header("link", r#"<https://evil.example/steal?page=2>; rel="next""#),
    );
    let (c, _) = client(&fake);
    let filter = PullFilter {
        state: "open".into(),
        head_branch: None,
        head_owner: None,
        limit: 10,
    };
    let e = c.list_pulls(&slug(), &filter).await.unwrap_err();
    assert!(
        matches!(e, GithubError::BadLink { ref url, .. } if url.starts_with("https://evil.example")),
        "{e:?}"
    );
    fake.assert_verified();
}

#[tokio::test]
async fn get_job_reads_steps() {
    let fake = FakeGithub::start(scenario()).await;
    let (c, _) = client(&fake);
    let job = c.get_job(&slug(), 9001).await.unwrap();
    assert_eq!(job.run_id, 105);
    assert_eq!(job.steps.unwrap().len(), 3);
    fake.assert_verified();
}

#[tokio::test]
async fn a_renamed_repository_is_followed_on_the_same_origin() {
    let fake = FakeGithub::start(scenario()).await;
    let moved_to = format!("{}/repos/acme/api/actions/runs/105", fake.api_url());
    fake.script(
        Scripted::new(
            "GET",
            "/repos/acme/old-name/actions/runs/105",
            301,
            r#"{"message":"Moved Permanently"}"#,
        )
        .header("location", &moved_to),
    );
    let (c, _) = client(&fake);
    let run = c
        .get_run(&"acme/old-name".parse().unwrap(), 105)
        .await
        .unwrap();
    assert_eq!(run.id, 105);
    let reqs = fake.requests();
    assert_eq!(
        reqs[1].authorization.as_deref(),
        Some(&*format!("Bearer {TOKEN}"))
    );
    fake.assert_verified();
}

#[tokio::test]
async fn a_spent_primary_limit_on_a_success_delays_the_next_request() {
    let fake = FakeGithub::start(scenario()).await;
    fake.script(
        Scripted::new(
            "GET",
            "/actions/runs/104",
            200,
            r#"{"id":104,"head_sha":"abc"}"#,
        )
        .header("x-ratelimit-remaining", "0")
        .header("x-ratelimit-reset", &(NOW + 50).to_string()),
    );
    let (c, clock) = client(&fake);
    assert_eq!(c.get_run(&slug(), 104).await.unwrap().id, 104);
    assert!(clock.sleeps().is_empty());
    c.get_run(&slug(), 105).await.unwrap();
    assert_eq!(
        clock.sleeps(),
        secs(&[50]),
        "waited for the reset instead of earning a 403"
    );
    assert_eq!(fake.requests().len(), 2);
    fake.assert_verified();
}

#[tokio::test]
async fn the_green_run_comes_from_the_branch_else_the_default_branch_and_is_cached() {
    let mut sc = scenario();
    let mut feature = FakeRun::failed(300);
    feature.head_branch = Some("feature/x".into());
    sc = sc.with_run(feature.clone());
    sc.run_logs.insert(99, log_zip());
    let fake = FakeGithub::start(sc).await;
    let (c, _) = client(&fake);
    let state = tempfile::tempdir().unwrap();
    let store = selfheal::store::Store::open(state.path()).unwrap();
    let failed = c.get_run(&slug(), 300).await.unwrap();

    // Nothing green on feature/x: the default branch's last green run (99, on main).
    let green = selfheal::fetch::fetch_green(&c, &slug(), &failed, &["test".into()], &store)
        .await
        .unwrap()
        .expect("a green run on main");
    assert_eq!(
        (green.run_id, green.head_branch.as_deref()),
        (99, Some("main"))
    );
    assert!(store.cached_logs(99).is_some(), "its log is cached");
    let listed: Vec<String> = fake
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/actions/workflows/161335/runs"))
        .map(|r| r.query.clone())
        .collect();
    assert!(listed[0].contains("branch=feature%2Fx") || listed[0].contains("branch=feature/x"));
    assert!(listed[0].contains("status=success"), "{listed:?}");
    assert!(listed[1].contains("branch=main"), "{listed:?}");

    // A second look reuses the cached ZIP.
    let downloads = |f: &FakeGithub| {
        f.requests()
            .iter()
            .filter(|r| r.path.ends_with("/runs/99/logs"))
            .count()
    };
    assert_eq!(downloads(&fake), 1);
    selfheal::fetch::fetch_green(&c, &slug(), &failed, &["test".into()], &store)
        .await
        .unwrap();
    assert_eq!(downloads(&fake), 1, "not downloaded twice");
    fake.assert_verified();
}

#[tokio::test]
async fn no_green_run_anywhere_is_none() {
    let mut sc = scenario();
    sc.runs
        .retain(|r| r.conclusion.as_deref() != Some("success"));
    let fake = FakeGithub::start(sc).await;
    let (c, _) = client(&fake);
    let state = tempfile::tempdir().unwrap();
    let store = selfheal::store::Store::open(state.path()).unwrap();
    let failed = c.get_run(&slug(), 105).await.unwrap();
    let green = selfheal::fetch::fetch_green(&c, &slug(), &failed, &[], &store)
        .await
        .unwrap();
    assert!(green.is_none());
}
