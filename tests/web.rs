//! `selfheal approve --web` in a real browser: Debian's chromium driven by chromedriver
//! over W3C WebDriver (headless, no sandbox, background networking off). One pending
//! patch is approved and another rejected by clicking; the tree and the queue are checked
//! afterwards and a screenshot is kept. Requests without the token, with a foreign Origin
//! or Host, or without the CSRF token are refused.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use selfheal::llm::fake::{FakeLlm, Scripted};
use serde_json::{Value, json};

use crate::cli::selfheal;
use crate::heal::{broken, fix_reply, offline, run_tests, runtime};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A child process killed on drop.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A minimal W3C WebDriver session.
struct Driver {
    http: reqwest::Client,
    base: String,
    session: String,
    _chromedriver: Killed,
}

impl Driver {
    async fn start() -> Driver {
        let port = free_port();
        let child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver");
        let guard = Killed(child);
        selfheal::llm::init_tls();
        let http = reqwest::Client::new();
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        while http.get(format!("{base}/status")).send().await.is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let caps = json!({"capabilities": {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": {
            "binary": "/usr/bin/chromium",
            "args": ["--headless=new", "--no-sandbox", "--disable-background-networking", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1280,1600"]
        }}}});
        let v: Value = http
            .post(format!("{base}/session"))
            .json(&caps)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let session = v["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {v}"))
            .to_string();
        Driver {
            http,
            base,
            session,
            _chromedriver: guard,
        }
    }

    async fn cmd(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        let v: Value = self
            .http
            .request(method, url)
            .json(&body)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        v["value"].clone()
    }

    async fn goto(&self, url: &str) {
        self.cmd(reqwest::Method::POST, "/url", json!({ "url": url }))
            .await;
    }

    async fn find(&self, css: &str) -> Option<String> {
        let v = self
            .cmd(
                reqwest::Method::POST,
                "/element",
                json!({"using": "css selector", "value": css}),
            )
            .await;
        v[ELEMENT].as_str().map(str::to_string)
    }

    async fn click(&self, css: &str) {
        let id = self
            .find(css)
            .await
            .unwrap_or_else(|| panic!("no element {css}"));
        self.cmd(
            reqwest::Method::POST,
            &format!("/element/{id}/click"),
            json!({}),
        )
        .await;
    }

    async fn type_into(&self, css: &str, text: &str) {
        let id = self
            .find(css)
            .await
            .unwrap_or_else(|| panic!("no element {css}"));
        self.cmd(
            reqwest::Method::POST,
            &format!("/element/{id}/value"),
            json!({ "text": text }),
        )
        .await;
    }

    /// Waits until `css` exists and its text contains `want`; returns the text.
    async fn wait_text(&self, css: &str, want: &str, limit: Duration) -> String {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(id) = self.find(css).await {
                let t = self
                    .cmd(
                        reqwest::Method::GET,
                        &format!("/element/{id}/text"),
                        json!({}),
                    )
                    .await;
                let t = t.as_str().unwrap_or("").to_string();
                if t.contains(want) {
                    return t;
                }
                assert!(Instant::now() < deadline, "{css} says {t:?}, not {want:?}");
            }
            assert!(Instant::now() < deadline, "{css} never appeared");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    async fn screenshot(&self, path: &std::path::Path) {
        let v = self
            .cmd(reqwest::Method::GET, "/screenshot", json!({}))
            .await;
        std::fs::write(path, base64_decode(v.as_str().unwrap())).unwrap();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn base64_decode(s: &str) -> Vec<u8> {
    let val = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        _ => 63,
    };
    let bytes: Vec<u8> = s
        .bytes()
        .filter(|c| *c != b'=' && !c.is_ascii_whitespace())
        .map(val)
        .collect();
    bytes
        .chunks(4)
        .flat_map(|c| {
            let n = c
                .iter()
                .enumerate()
                .fold(0u32, |acc, (i, v)| acc | (u32::from(*v) << (18 - 6 * i)));
            let out = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
            out[..c.len().saturating_sub(1)].to_vec()
        })
        .collect()
}

/// `selfheal approve --web --port 0` in `dir`; returns the child and the URL it printed.
fn serve(dir: &std::path::Path) -> (Killed, String) {
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("selfheal"));
    cmd.current_dir(dir)
        .args(["approve", "--web", "--port", "0"])
        .env("NO_COLOR", "1")
        .env("SELFHEAL_SANDBOX", "local")
        .env_remove("CI")
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut child = cmd.spawn().unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no URL in {line:?}"))
        .to_string();
    (Killed(child), url)
}

fn have_browser() -> bool {
    let ok = Command::new("chromedriver")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
        && std::path::Path::new("/usr/bin/chromium").exists();
    if !ok {
        assert!(
            std::env::var("CI").is_err(),
            "CI=true needs chromium and chromium-driver (.ci/run installs them)"
        );
        eprintln!("SKIP: chromium / chromedriver not installed");
    }
    ok
}

fn pending_ids(dir: &std::path::Path) -> Vec<String> {
    let out = selfheal()
        .current_dir(dir)
        .args(["--json", "approve"])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v["pending"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn approve_one_and_reject_another_in_a_real_browser() {
    if !have_browser() {
        return;
    }
    let rt = runtime();
    let llm = rt.block_on(FakeLlm::start());
    let b = broken("rs-stack");
    for _ in 0..2 {
        llm.push(Scripted::ok(&fix_reply(&b)));
        assert_eq!(offline(&b, &llm, &[]).status.code(), Some(4));
    }
    let ids = pending_ids(b.dir.path());
    assert_eq!(ids.len(), 2, "{ids:?}");
    let (_server, url) = serve(b.dir.path());
    rt.block_on(async {
        let d = Driver::start().await;
        d.goto(&url).await;
        d.wait_text("h1", "Pending patches (2)", Duration::from_secs(20))
            .await;
        d.click(&format!("#p-{} form.approve button", ids[0])).await;
        d.wait_text("#msg", "validated and applied", Duration::from_secs(180))
            .await;
        let shot = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("approve-web.png");
        d.screenshot(&shot).await;
        assert!(
            std::fs::metadata(&shot).unwrap().len() > 1000,
            "screenshot kept at {}",
            shot.display()
        );
        d.type_into(
            &format!("#p-{} form.reject input[name=reason]", ids[1]),
            "duplicate of the approved fix",
        )
        .await;
        d.click(&format!("#p-{} form.reject button", ids[1])).await;
        d.wait_text("#msg", "rejected", Duration::from_secs(30))
            .await;
        d.wait_text("#empty", "No patches", Duration::from_secs(10))
            .await;
    });
    assert!(
        pending_ids(b.dir.path()).is_empty(),
        "the queue is empty afterwards"
    );
    assert!(run_tests(&b), "the approved fix is in the tree");
    let history =
        std::fs::read_to_string(b.dir.path().join(".selfheal/pending/history.jsonl")).unwrap();
    assert!(
        history.contains("duplicate of the approved fix") && history.contains("\"applied\""),
        "{history}"
    );
}

#[test]
fn requests_without_the_token_or_from_elsewhere_are_refused() {
    let b = broken("rs-stack");
    let (_server, url) = serve(b.dir.path());
    let rt = runtime();
    rt.block_on(async {
        selfheal::llm::init_tls();
        let http = reqwest::Client::new();
        let base = url.split("/?").next().unwrap().to_string();
        let status = |r: reqwest::Response| r.status().as_u16();
        assert_eq!(status(http.get(&url).send().await.unwrap()), 200);
        assert_eq!(
            status(http.get(format!("{base}/")).send().await.unwrap()),
            403,
            "no token"
        );
        assert_eq!(
            status(
                http.get(format!("{base}/?token=nope"))
                    .send()
                    .await
                    .unwrap()
            ),
            403,
            "wrong token"
        );
        assert_eq!(
            status(
                http.get(&url)
                    .header("Origin", "http://evil.example")
                    .send()
                    .await
                    .unwrap()
            ),
            403,
            "foreign Origin"
        );
        assert_eq!(
            status(
                http.get(&url)
                    .header("Host", "evil.example")
                    .send()
                    .await
                    .unwrap()
            ),
            403,
            "foreign Host"
        );
        let token = url.rsplit("token=").next().unwrap();
        let post = http
            .post(format!("{base}/reject/x"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("token={token}&csrf=forged&reason=r"))
            .send()
            .await
            .unwrap();
        assert_eq!(status(post), 403, "no CSRF token");
    });
}
