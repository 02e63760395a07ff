//! Publishing against a real bare repository as the remote and the fake GitHub for pull
//! requests: the commit and its trailer, the user's clone left alone, no token anywhere
//! on disk, and the dedupe rules (update, closed-unmerged, someone else's push, the cap).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use git2::{Oid, Repository, Signature};
use secrecy::SecretString;
use selfheal::config::Config;
use selfheal::error::Hint;
use selfheal::github::fake::{FakeGithub, FakePull, Scenario, Scripted};
use selfheal::github::{Client, ClientOptions, FakeClock, RepoSlug};
use selfheal::publish::{FileChange, Fix, FixReport, Published, Publisher, Skip, signature_marker};

pub const TOKEN: &str = "ghs_publish_secret_token_42";
const SIG: &str = "pytest/test_failure/0123456789abcdef";

/// A clone with history, and a bare repository it was pushed to.
pub struct Repos {
    _dir: tempfile::TempDir,
    pub user: PathBuf,
    pub bare: PathBuf,
    pub base: String,
}

pub fn repos() -> Repos {
    let dir = tempfile::tempdir().unwrap();
    let user = dir.path().join("clone");
    let bare = dir.path().join("remote.git");
    let repo = Repository::init(&user).unwrap();
    write(&user, "README.md", "# api\n");
    write(&user, "src/lib.py", "def f():\n    return 1\n");
    write(&user, "scripts/run.sh", "#!/bin/sh\necho hi\n");
    set_exec(&user.join("scripts/run.sh"));
    let mut index = repo.index().unwrap();
    for p in ["README.md", "src/lib.py", "scripts/run.sh"] {
        index.add_path(Path::new(p)).unwrap();
    }
    let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
    index.write().unwrap();
    let dev = Signature::now("Dev", "dev@acme.org").unwrap();
    let base = repo
        .commit(Some("refs/heads/main"), &dev, &dev, "init", &tree, &[])
        .unwrap();
    repo.set_head("refs/heads/main").unwrap();
    Repository::init_bare(&bare).unwrap();
    let mut remote = repo.remote_anonymous(bare.to_str().unwrap()).unwrap();
    remote
        .push(&["refs/heads/main:refs/heads/main"], None)
        .unwrap();
    Repos {
        _dir: dir,
        user,
        bare,
        base: base.to_string(),
    }
}

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

#[cfg(unix)]
fn set_exec(p: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).unwrap();
}

pub fn fix(repos: &Repos, run_id: u64, content: &str) -> Fix {
    Fix {
        run_id,
        attempt: 1,
        base_branch: "main".into(),
        base_sha: repos.base.clone(),
        signature: SIG.into(),
        changes: vec![
            FileChange {
                path: "src/lib.py".into(),
                contents: Some(content.as_bytes().to_vec()),
            },
            FileChange {
                path: "tests/test_new.py".into(),
                contents: Some(b"def test_f():\n    assert True\n".to_vec()),
            },
            FileChange {
                path: "README.md".into(),
                contents: None,
            },
        ],
        report: FixReport {
            title: "fix f() returning 1".into(),
            failure: "E   assert 1 == 2".into(),
            diagnosis: "f() returned the wrong constant.".into(),
            diff_summary: " src/lib.py | 2 +-".into(),
            validation: "pytest -q: passed".into(),
            attempts: 1,
            tokens: 900,
            cost_usd: 0.0004,
            model: "gpt-4o-mini".into(),
            run_url: format!("https://github.com/acme/api/actions/runs/{run_id}"),
            review: String::new(),
        },
        force: false,
    }
}

pub async fn fake_for(repos: &Repos) -> FakeGithub {
    let mut s = Scenario::new("acme", "api", TOKEN);
    s.git_dir = Some(repos.bare.clone());
    FakeGithub::start(s).await
}

pub fn client(fake: &FakeGithub) -> Client {
    let opts = ClientOptions {
        api_url: fake.api_url(),
        token: Some(SecretString::from(TOKEN.to_string())),
        max_wait_secs: 60,
        max_retries: 2,
    };
    Client::with_clock(opts, Arc::new(FakeClock::at(0))).unwrap()
}

fn publisher<'a>(github: &'a Client, repos: &Repos, remote_url: String) -> Publisher<'a> {
    Publisher {
        github,
        repo: "acme/api".parse::<RepoSlug>().unwrap(),
        repo_dir: repos.user.clone(),
        remote_url,
        token: Some(SecretString::from(TOKEN.to_string())),
        config: Config::defaults().publish,
    }
}

fn file_url(p: &Path) -> String {
    format!("file://{}", p.display())
}

fn tip(bare: &Path, branch: &str) -> Option<Oid> {
    let repo = Repository::open_bare(bare).unwrap();
    repo.find_reference(&format!("refs/heads/{branch}"))
        .ok()
        .and_then(|r| r.target())
}

/// Every file under `dir`, for "the token is nowhere on disk".
fn grep_dir(dir: &Path, needle: &str) -> Vec<PathBuf> {
    let mut hits = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if std::fs::read(&p)
                .map(|b| b.windows(needle.len()).any(|w| w == needle.as_bytes()))
                .unwrap_or(false)
            {
                hits.push(p);
            }
        }
    }
    hits
}

#[tokio::test]
async fn opens_a_pr_from_a_signed_off_commit_without_touching_the_clone() {
    let repos = repos();
    let fake = fake_for(&repos).await;
    let gh = client(&fake);
    let user = Repository::open(&repos.user).unwrap();
    let refs_before: Vec<String> = user
        .references()
        .unwrap()
        .flatten()
        .filter_map(|r| r.name().ok().map(String::from))
        .collect();

    let out = publisher(&gh, &repos, file_url(&repos.bare))
        .publish(&fix(&repos, 105, "def f():\n    return 2\n"))
        .await
        .unwrap();
    let Published::Opened {
        pr,
        branch,
        warnings,
    } = out
    else {
        panic!("expected a new PR, got {out:?}");
    };
    assert_eq!(branch, "selfheal/run-105-1");
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(
        (pr.base.ref_name.as_str(), pr.head.ref_name.as_str()),
        ("main", branch.as_str())
    );
    assert!(pr.body.unwrap().contains(&signature_marker(SIG)));
    assert_eq!(
        fake.with_scenario(|s| s.pulls[0].labels.clone()),
        ["selfheal"]
    );

    let bare = Repository::open_bare(&repos.bare).unwrap();
    let commit = bare
        .find_commit(tip(&repos.bare, &branch).unwrap())
        .unwrap();
    assert_eq!(commit.parent_id(0).unwrap().to_string(), repos.base);
    let msg = commit.message().unwrap();
    assert!(
        msg.trim_end()
            .ends_with("Signed-off-by: selfheal <selfheal@users.noreply.github.com>"),
        "{msg}"
    );
    assert!(msg.contains("f() returned the wrong constant."));
    let tree = commit.tree().unwrap();
    let blob = |p: &str| {
        bare.find_blob(tree.get_path(Path::new(p)).unwrap().id())
            .unwrap()
            .content()
            .to_vec()
    };
    assert_eq!(blob("src/lib.py"), b"def f():\n    return 2\n");
    assert!(blob("tests/test_new.py").starts_with(b"def test_f"));
    assert!(
        tree.get_path(Path::new("README.md")).is_err(),
        "deleted file is gone"
    );
    assert_eq!(
        tree.get_path(Path::new("scripts/run.sh"))
            .unwrap()
            .filemode(),
        0o100755
    );
    assert_eq!(
        bare.find_reference("refs/heads/main")
            .unwrap()
            .target()
            .unwrap()
            .to_string(),
        repos.base
    );

    let refs_after: Vec<String> = user
        .references()
        .unwrap()
        .flatten()
        .filter_map(|r| r.name().ok().map(String::from))
        .collect();
    assert_eq!(refs_before, refs_after, "the user's refs changed");
    assert_eq!(
        user.head().unwrap().target().unwrap().to_string(),
        repos.base
    );
    assert!(
        user.statuses(None).unwrap().is_empty(),
        "the user's working tree changed"
    );
    assert_eq!(
        std::fs::read_to_string(repos.user.join("src/lib.py")).unwrap(),
        "def f():\n    return 1\n"
    );
    assert!(
        grep_dir(&repos.user, TOKEN).is_empty(),
        "token written in the clone"
    );
    assert!(
        grep_dir(&repos.bare, TOKEN).is_empty(),
        "token written in the remote"
    );
    fake.assert_verified();
}

#[tokio::test]
async fn a_run_commit_missing_from_the_clone_is_fetched_first() {
    let repos = repos();
    // Someone pushes `feature` to the remote; the clone never fetched it.
    let bare = Repository::open_bare(&repos.bare).unwrap();
    let base = bare
        .find_commit(Oid::from_str(&repos.base).unwrap())
        .unwrap();
    let dev = Signature::now("Dev", "dev@acme.org").unwrap();
    let feature = bare
        .commit(
            Some("refs/heads/feature"),
            &dev,
            &dev,
            "feature work",
            &base.tree().unwrap(),
            &[&base],
        )
        .unwrap();
    let fake = fake_for(&repos).await;
    let gh = client(&fake);
    let mut f = fix(&repos, 105, "v1\n");
    f.base_branch = "feature".into();
    f.base_sha = feature.to_string();
    let out = publisher(&gh, &repos, file_url(&repos.bare))
        .publish(&f)
        .await
        .unwrap();
    let Published::Opened { pr, branch, .. } = out else {
        panic!("{out:?}");
    };
    assert_eq!(pr.base.ref_name, "feature");
    let pushed = bare
        .find_commit(tip(&repos.bare, &branch).unwrap())
        .unwrap();
    assert_eq!(pushed.parent_id(0).unwrap(), feature);
    let user = Repository::open(&repos.user).unwrap();
    assert_eq!(
        user.head().unwrap().target().unwrap().to_string(),
        repos.base,
        "HEAD moved"
    );
    assert!(user.statuses(None).unwrap().is_empty());
    fake.assert_verified();
}

#[tokio::test]
async fn same_failure_updates_the_open_pr_instead_of_opening_another() {
    let repos = repos();
    let fake = fake_for(&repos).await;
    let gh = client(&fake);
    let p = publisher(&gh, &repos, file_url(&repos.bare));
    p.publish(&fix(&repos, 105, "v1\n")).await.unwrap();
    let first = tip(&repos.bare, "selfheal/run-105-1").unwrap();
    let out = p.publish(&fix(&repos, 106, "v2\n")).await.unwrap();
    let Published::Updated { pr, branch } = out else {
        panic!("expected an update, got {out:?}");
    };
    assert_eq!((pr.number, branch.as_str()), (1, "selfheal/run-105-1"));
    assert_ne!(
        tip(&repos.bare, &branch).unwrap(),
        first,
        "the branch got the new commit"
    );
    assert_eq!(tip(&repos.bare, "selfheal/run-106-1"), None);
    assert_eq!(fake.with_scenario(|s| s.pulls.len()), 1);
    assert_eq!(fake.count("POST", "/pulls"), 1);
    fake.assert_verified();
}

#[tokio::test]
async fn a_branch_someone_else_pushed_to_is_left_alone() {
    let repos = repos();
    let fake = fake_for(&repos).await;
    let gh = client(&fake);
    let p = publisher(&gh, &repos, file_url(&repos.bare));
    p.publish(&fix(&repos, 105, "v1\n")).await.unwrap();
    let bare = Repository::open_bare(&repos.bare).unwrap();
    let head = bare
        .find_commit(tip(&repos.bare, "selfheal/run-105-1").unwrap())
        .unwrap();
    let dev = Signature::now("Dev", "dev@acme.org").unwrap();
    let human = bare
        .commit(
            Some("refs/heads/selfheal/run-105-1"),
            &dev,
            &dev,
            "tweak",
            &head.tree().unwrap(),
            &[&head],
        )
        .unwrap();
    let out = p.publish(&fix(&repos, 106, "v2\n")).await.unwrap();
    assert_eq!(
        out,
        Published::Skipped(Skip::ForeignPush {
            branch: "selfheal/run-105-1".into(),
            author: "dev@acme.org".into()
        })
    );
    assert_eq!(
        tip(&repos.bare, "selfheal/run-105-1"),
        Some(human),
        "the human's commit was overwritten"
    );
    fake.assert_verified();
}

fn closed_pr(number: u64, head: &str, body: &str) -> FakePull {
    FakePull {
        number,
        title: "selfheal: old".into(),
        body: body.into(),
        head: head.into(),
        head_sha: "e".repeat(40),
        base: "main".into(),
        state: "closed".into(),
        merged: false,
        draft: false,
        labels: vec!["selfheal".into()],
    }
}

#[tokio::test]
async fn a_failure_whose_pr_was_closed_unmerged_is_skipped_unless_forced() {
    let repos = repos();
    let fake = fake_for(&repos).await;
    fake.with_scenario(|s| {
        s.pulls
            .push(closed_pr(9, "selfheal/run-50-1", &signature_marker(SIG)))
    });
    let gh = client(&fake);
    let p = publisher(&gh, &repos, file_url(&repos.bare));
    let out = p.publish(&fix(&repos, 105, "v1\n")).await.unwrap();
    assert_eq!(out, Published::Skipped(Skip::ClosedUnmerged { number: 9 }));
    assert_eq!(
        tip(&repos.bare, "selfheal/run-105-1"),
        None,
        "nothing pushed"
    );
    let mut forced = fix(&repos, 105, "v1\n");
    forced.force = true;
    assert!(matches!(
        p.publish(&forced).await.unwrap(),
        Published::Opened { .. }
    ));
    fake.assert_verified();
}

#[tokio::test]
async fn a_labelling_failure_does_not_hide_the_new_pr() {
    let repos = repos();
    let fake = fake_for(&repos).await;
    fake.script(Scripted::new(
        "POST",
        "/labels",
        403,
        r#"{"message":"Resource not accessible by integration","documentation_url":"https://docs.github.com/rest"}"#,
    ));
    let gh = client(&fake);
    let out = publisher(&gh, &repos, file_url(&repos.bare))
        .publish(&fix(&repos, 105, "v1\n"))
        .await
        .unwrap();
    let Published::Opened { pr, warnings, .. } = out else {
        panic!("{out:?}");
    };
    assert_eq!(pr.number, 1);
    assert!(
        warnings[0].contains("403") && warnings[0].contains("pull-requests: write"),
        "{warnings:?}"
    );
    fake.assert_verified();
}

#[tokio::test]
async fn the_open_pr_cap_is_respected() {
    let repos = repos();
    let fake = fake_for(&repos).await;
    fake.with_scenario(|s| {
        let mut other = closed_pr(3, "selfheal/run-7-1", &signature_marker("other/sig/1"));
        other.state = "open".into();
        s.pulls.push(other);
    });
    let gh = client(&fake);
    let mut p = publisher(&gh, &repos, file_url(&repos.bare));
    p.config.max_open_prs = 1;
    let out = p.publish(&fix(&repos, 105, "v1\n")).await.unwrap();
    assert_eq!(
        out,
        Published::Skipped(Skip::TooManyOpen { open: 1, max: 1 })
    );
    fake.assert_verified();
}

#[tokio::test]
async fn without_pr_the_branch_is_only_pushed_and_selfheal_branches_are_skipped() {
    let repos = repos();
    let fake = fake_for(&repos).await;
    let gh = client(&fake);
    let mut p = publisher(&gh, &repos, file_url(&repos.bare));
    p.config.pr = false;
    let out = p.publish(&fix(&repos, 105, "v1\n")).await.unwrap();
    assert_eq!(
        out,
        Published::Pushed {
            branch: "selfheal/run-105-1".into()
        }
    );
    assert!(tip(&repos.bare, "selfheal/run-105-1").is_some());
    assert_eq!(fake.count("POST", "/pulls"), 0);
    let mut on_fix = fix(&repos, 106, "v2\n");
    on_fix.base_branch = "selfheal/run-105-1".into();
    assert!(matches!(
        p.publish(&on_fix).await.unwrap(),
        Published::Skipped(Skip::SelfhealBranch { .. })
    ));
    fake.assert_verified();
}

/// `git http-backend` behind a loopback HTTP bridge that demands Basic auth, so pushes go
/// through the same credentials callback as against GitHub (CRATES.md, git2 notes). With
/// an API to forward to, `/api/v3/…` goes there: one host serving the API and git, as a
/// GitHub Enterprise Server does.
pub mod http_remote {
    use std::path::PathBuf;
    use std::process::Stdio;
    use std::sync::{Arc, Mutex};

    use axum::body::{Body, Bytes};
    use axum::extract::State;
    use axum::http::{HeaderMap, Method, StatusCode, Uri};
    use axum::response::Response;
    use tokio::io::AsyncWriteExt;

    use super::*;

    /// `(request URI, Authorization header)` of each request.
    pub type Seen = Arc<Mutex<Vec<(String, Option<String>)>>>;

    /// Which passwords (tokens) the bridge lets in for the user `x-access-token`.
    pub type TokenCheck = Arc<dyn Fn(&str) -> bool + Send + Sync>;

    #[derive(Clone)]
    struct Bridge {
        root: PathBuf,
        accepts: TokenCheck,
        seen: Seen,
        /// Where `/api/v3/…` is forwarded (the fake GitHub), if anywhere.
        api: Option<String>,
    }

    /// Forwards an API request to the fake GitHub and its answer back.
    async fn forward(
        api: &str,
        method: Method,
        uri: &Uri,
        headers: &HeaderMap,
        body: Bytes,
    ) -> Response {
        let path = uri.path().strip_prefix("/api/v3").unwrap_or(uri.path());
        let query = uri.query().map(|q| format!("?{q}")).unwrap_or_default();
        let mut req = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
            .request(method, format!("{api}{path}{query}"))
            .body(body);
        for (k, v) in headers {
            if k != "host" {
                req = req.header(k, v);
            }
        }
        let answer = req.send().await.expect("the fake GitHub answers");
        let mut resp = Response::builder().status(answer.status().as_u16());
        for (k, v) in answer.headers() {
            if !matches!(
                k.as_str(),
                "transfer-encoding" | "content-length" | "connection"
            ) {
                resp = resp.header(k, v);
            }
        }
        resp.body(Body::from(answer.bytes().await.unwrap()))
            .unwrap()
    }

    /// The token of a `Basic` header for `x-access-token`, if it is one.
    fn basic_token(header: &str) -> Option<String> {
        let encoded = header.strip_prefix("Basic ")?;
        let decoded = unbase64(encoded)?;
        decoded.strip_prefix("x-access-token:").map(str::to_string)
    }

    fn unbase64(input: &str) -> Option<String> {
        const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut bits = 0u32;
        let mut n = 0;
        let mut out = Vec::new();
        for c in input.trim_end_matches('=').bytes() {
            let v = ABC.iter().position(|&a| a == c)? as u32;
            bits = bits << 6 | v;
            n += 6;
            if n >= 8 {
                n -= 8;
                out.push((bits >> n & 0xff) as u8);
            }
        }
        String::from_utf8(out).ok()
    }

    fn base64(input: &[u8]) -> String {
        const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = String::new();
        for chunk in input.chunks(3) {
            let b = [
                chunk[0],
                *chunk.get(1).unwrap_or(&0),
                *chunk.get(2).unwrap_or(&0),
            ];
            let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
            for i in 0..4 {
                if i <= chunk.len() {
                    out.push(ABC[(n >> (18 - 6 * i) & 63) as usize] as char);
                } else {
                    out.push('=');
                }
            }
        }
        out
    }

    async fn handle(
        State(b): State<Bridge>,
        method: Method,
        uri: Uri,
        headers: HeaderMap,
        body: Bytes,
    ) -> Response {
        if let Some(api) = &b.api
            && (uri.path() == "/api/v3" || uri.path().starts_with("/api/v3/"))
        {
            return forward(api, method, &uri, &headers, body).await;
        }
        let auth = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .map(String::from);
        b.seen.lock().unwrap().push((uri.to_string(), auth.clone()));
        let token = auth.as_deref().and_then(basic_token);
        if !token.is_some_and(|t| (b.accepts)(&t)) {
            return Response::builder()
                .status(StatusCode::UNAUTHORIZED)
                .header("www-authenticate", "Basic realm=\"git\"")
                .body(Body::empty())
                .unwrap();
        }
        let ct = headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let mut child = tokio::process::Command::new("git")
            .arg("http-backend")
            .env("GIT_PROJECT_ROOT", &b.root)
            .env("GIT_HTTP_EXPORT_ALL", "1")
            .env("PATH_INFO", uri.path())
            .env("QUERY_STRING", uri.query().unwrap_or(""))
            .env("REQUEST_METHOD", method.as_str())
            .env("CONTENT_TYPE", ct)
            .env("CONTENT_LENGTH", body.len().to_string())
            .env("REMOTE_USER", "x-access-token")
            .env("REMOTE_ADDR", "127.0.0.1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("git http-backend runs");
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(&body).await.unwrap();
        drop(stdin);
        let out = child.wait_with_output().await.unwrap().stdout;
        cgi_response(&out)
    }

    /// CGI output: headers (with `Status:`), a blank line, the body.
    fn cgi_response(out: &[u8]) -> Response {
        let split = out
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .map(|i| (i, 4));
        let split = split.or_else(|| out.windows(2).position(|w| w == b"\n\n").map(|i| (i, 2)));
        let (end, gap) = split.expect("CGI headers end");
        let mut resp = Response::builder().status(200);
        for line in String::from_utf8_lossy(&out[..end]).lines() {
            let Some((k, v)) = line.split_once(':') else {
                continue;
            };
            if k.eq_ignore_ascii_case("status") {
                let code: u16 = v.trim()[..3].parse().unwrap();
                resp = resp.status(code);
            } else {
                resp = resp.header(k.trim(), v.trim());
            }
        }
        resp.body(Body::from(out[end + gap..].to_vec())).unwrap()
    }

    async fn serve(root: PathBuf, token: &str) -> (String, Seen) {
        let token = token.to_string();
        serve_checked(root, Arc::new(move |t: &str| t == token)).await
    }

    /// Serves the bare repositories under `root` on 127.0.0.1, letting in the tokens
    /// `accepts` approves; returns the base URL and every request seen.
    pub async fn serve_checked(root: PathBuf, accepts: TokenCheck) -> (String, Seen) {
        serve_with_api(root, accepts, None).await
    }

    /// The bridge, also forwarding `/api/v3/…` to `api` when given.
    pub async fn serve_with_api(
        root: PathBuf,
        accepts: TokenCheck,
        api: Option<String>,
    ) -> (String, Seen) {
        let bridge = Bridge {
            api,
            root,
            accepts,
            seen: Arc::default(),
        };
        let seen = bridge.seen.clone();
        let app = axum::Router::new().fallback(handle).with_state(bridge);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        (url, seen)
    }

    #[test]
    fn base64_matches_rfc4648() {
        assert_eq!(unbase64("Zm9vYmE=").as_deref(), Some("fooba"));
        assert_eq!(
            basic_token(&format!("Basic {}", base64(b"x-access-token:t0k"))).as_deref(),
            Some("t0k")
        );
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64(b"fooba"), "Zm9vYmE=");
        assert_eq!(base64(b"foob"), "Zm9vYg==");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn push_over_http_sends_the_token_only_through_the_credentials_callback() {
        let repos = repos();
        let fake = fake_for(&repos).await;
        let gh = client(&fake);
        let (base, seen) = serve(repos.bare.parent().unwrap().to_path_buf(), TOKEN).await;
        let remote_url = format!("{base}/remote.git");
        let out = publisher(&gh, &repos, remote_url.clone())
            .publish(&fix(&repos, 105, "v1\n"))
            .await
            .unwrap();
        assert!(matches!(out, Published::Opened { .. }), "{out:?}");
        assert!(tip(&repos.bare, "selfheal/run-105-1").is_some());
        let seen = seen.lock().unwrap().clone();
        assert_eq!(seen[0].1, None, "the first request carries no credentials");
        assert!(
            seen.iter()
                .any(|(u, a)| u.contains("git-receive-pack") && a.is_some()),
            "{seen:?}"
        );
        assert!(seen.iter().all(|(u, _)| !u.contains(TOKEN)));
        assert!(!remote_url.contains(TOKEN));
        assert!(grep_dir(&repos.user, TOKEN).is_empty());
        fake.assert_verified();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_rejected_token_fails_the_push_without_looping() {
        let repos = repos();
        let fake = fake_for(&repos).await;
        let gh = client(&fake);
        let (base, seen) = serve(repos.bare.parent().unwrap().to_path_buf(), "another-token").await;
        let e = publisher(&gh, &repos, format!("{base}/remote.git"))
            .publish(&fix(&repos, 105, "v1\n"))
            .await
            .unwrap_err();
        assert!(e.to_string().contains("git could not push"), "{e}");
        assert!(e.hint().contains("contents: write"));
        assert!(
            seen.lock().unwrap().len() <= 3,
            "credentials retried in a loop"
        );
        assert_eq!(tip(&repos.bare, "selfheal/run-105-1"), None);
        assert_eq!(fake.count("POST", "/pulls"), 0);
    }
}
