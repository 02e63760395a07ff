//! A fake GitHub on 127.0.0.1 for tests: the operations selfheal uses, served from an
//! in-memory [`Scenario`], with bodies built from the contract's examples.
//!
//! Like gh's `httpmock.Registry`, it fails loudly on surprises: a route it does not know, an
//! unknown repository or a scripted answer nobody asked for makes [`FakeGithub::verify`]
//! fail. Log downloads answer `302` to a second listener (another port, so another origin)
//! that records whether any Authorization header reached it. Every JSON body it sends is
//! kept in [`FakeGithub::sent`] so a test can check each one against the contract's schemas.

mod app;
mod render;
mod routes;
mod scenario;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State as AxumState;
use axum::http::{HeaderMap, Method, Uri};
use axum::response::Response;
use serde_json::Value;
use tokio::task::JoinHandle;

pub use render::{contract, contract_files};
pub use scenario::{
    FakeApp, FakeComment, FakeJob, FakePull, FakeRun, PRIMARY_BODY, SECONDARY_BODY, Scenario,
    Scripted,
};

/// One request as the fake saw it.
#[derive(Clone, Debug, PartialEq)]
pub struct Recorded {
    pub method: String,
    /// Without the API prefix (`/api/v3` on a GHES-style fake).
    pub path: String,
    pub query: String,
    pub authorization: Option<String>,
    pub if_none_match: Option<String>,
    pub body: Option<Value>,
    /// What the fake answered.
    pub status: u16,
}

/// Which schema a sent body must match.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Contract {
    /// `responses[status].schema` of this contract file.
    Operation(&'static str),
    /// GitHub's `basic-error` (an error on an endpoint whose file lists no such status).
    BasicError,
    /// An endpoint the contract folder does not describe (named here for the report).
    NotInContract(&'static str),
}

/// A JSON body the fake sent.
#[derive(Clone, Debug, PartialEq)]
pub struct Sent {
    pub contract: Contract,
    pub status: u16,
    pub body: Value,
}

/// The fake's whole state, behind one lock.
#[derive(Debug)]
pub(crate) struct State {
    pub scenario: Scenario,
    pub script: VecDeque<Scripted>,
    pub requests: Vec<Recorded>,
    pub blob_requests: Vec<Recorded>,
    pub surprises: Vec<String>,
    pub sent: Vec<Sent>,
    /// `http://127.0.0.1:PORT` + prefix.
    pub api_url: String,
    pub api_origin: String,
    pub prefix: String,
    pub blob_url: String,
    /// Answer every blob download with this `(status, content-type, body)`.
    pub blob_override: Option<(u16, String, Vec<u8>)>,
}

type Shared = Arc<Mutex<State>>;

/// A running fake; the listeners stop when it is dropped.
pub struct FakeGithub {
    shared: Shared,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for FakeGithub {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl FakeGithub {
    /// Serves `scenario` at `http://127.0.0.1:PORT` (api.github.com style).
    pub async fn start(scenario: Scenario) -> FakeGithub {
        FakeGithub::start_with_prefix(scenario, "").await
    }

    /// Serves under a path prefix, e.g. `/api/v3` as GitHub Enterprise Server does.
    pub async fn start_with_prefix(scenario: Scenario, prefix: &str) -> FakeGithub {
        let api = bind().await;
        let blob = bind().await;
        let api_origin = format!("http://{}", api.local_addr().expect("addr"));
        let state = State {
            scenario,
            script: VecDeque::new(),
            requests: Vec::new(),
            blob_requests: Vec::new(),
            surprises: Vec::new(),
            sent: Vec::new(),
            api_url: format!("{api_origin}{prefix}"),
            api_origin,
            prefix: prefix.trim_end_matches('/').to_string(),
            blob_url: format!("http://{}", blob.local_addr().expect("addr")),
            blob_override: None,
        };
        let shared = Arc::new(Mutex::new(state));
        let api_app = Router::new()
            .fallback(api_handler)
            .with_state(shared.clone());
        let blob_app = Router::new()
            .fallback(blob_handler)
            .with_state(shared.clone());
        let tasks = vec![
            tokio::spawn(async move {
                let _ = axum::serve(api, api_app).await;
            }),
            tokio::spawn(async move {
                let _ = axum::serve(blob, blob_app).await;
            }),
        ];
        FakeGithub { shared, tasks }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.shared.lock().expect("fake GitHub lock")
    }

    /// The base URL to give the client (`--api-url`).
    pub fn api_url(&self) -> String {
        self.lock().api_url.clone()
    }
    /// The download host's origin (where the 302s point).
    pub fn blob_url(&self) -> String {
        self.lock().blob_url.clone()
    }
    /// Queues a one-off answer; it must be used before [`FakeGithub::verify`].
    pub fn script(&self, s: Scripted) {
        self.lock().script.push_back(s);
    }
    /// Makes every download answer this instead of the logs.
    pub fn override_blob(&self, status: u16, content_type: &str, body: &[u8]) {
        self.lock().blob_override = Some((status, content_type.into(), body.to_vec()));
    }
    pub fn requests(&self) -> Vec<Recorded> {
        self.lock().requests.clone()
    }
    pub fn blob_requests(&self) -> Vec<Recorded> {
        self.lock().blob_requests.clone()
    }
    pub fn sent(&self) -> Vec<Sent> {
        self.lock().sent.clone()
    }
    /// Requests to paths ending with `suffix` with this method.
    pub fn count(&self, method: &str, suffix: &str) -> usize {
        self.lock()
            .requests
            .iter()
            .filter(|r| r.method == method && r.path.ends_with(suffix))
            .count()
    }
    /// Reads or changes the scenario while the fake runs.
    pub fn with_scenario<R>(&self, f: impl FnOnce(&mut Scenario) -> R) -> R {
        f(&mut self.lock().scenario)
    }

    /// A check the smart-HTTP git remote of a test can use: is this the scenario's token, or
    /// an installation token the fake minted that has not expired?
    pub fn token_check(&self) -> impl Fn(&str) -> bool + Send + Sync + 'static {
        let shared = self.shared.clone();
        move |token| app::accepts(&shared.lock().expect("fake GitHub lock").scenario, token)
    }

    /// Fails if any request surprised the fake or a scripted answer was never used.
    pub fn verify(&self) -> Result<(), String> {
        let st = self.lock();
        let mut problems: Vec<String> = st.surprises.clone();
        problems.extend(st.script.iter().map(|s| {
            format!(
                "unused scripted answer: {} …{} → {}",
                s.method, s.path_suffix, s.status
            )
        }));
        if problems.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "fake GitHub saw problems:\n  {}",
                problems.join("\n  ")
            ))
        }
    }

    /// [`FakeGithub::verify`], panicking with the list.
    pub fn assert_verified(&self) {
        if let Err(e) = self.verify() {
            panic!("{e}");
        }
    }
}

async fn bind() -> tokio::net::TcpListener {
    tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0")
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

fn record(method: &Method, path: &str, uri: &Uri, headers: &HeaderMap, body: &Bytes) -> Recorded {
    Recorded {
        method: method.to_string(),
        path: path.to_string(),
        query: uri.query().unwrap_or("").to_string(),
        authorization: header(headers, "authorization"),
        if_none_match: header(headers, "if-none-match"),
        body: serde_json::from_slice(body).ok(),
        status: 0,
    }
}

async fn api_handler(
    AxumState(shared): AxumState<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut st = shared.lock().expect("fake GitHub lock");
    let full = uri.path().to_string();
    let path = match full.strip_prefix(st.prefix.as_str()) {
        Some(p) if p.starts_with('/') || p.is_empty() => p.to_string(),
        _ => full.clone(),
    };
    st.requests
        .push(record(&method, &path, &uri, &headers, &body));
    let reply = routes::respond(&mut st, &method, &path, &full, &uri, &headers, &body);
    if let Some(last) = st.requests.last_mut() {
        last.status = reply.status;
    }
    if let routes::Body::Json(contract, value) = &reply.body {
        let sent = Sent {
            contract: contract.clone(),
            status: reply.status,
            body: value.clone(),
        };
        st.sent.push(sent);
    }
    reply.into_response()
}

async fn blob_handler(
    AxumState(shared): AxumState<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut st = shared.lock().expect("fake GitHub lock");
    let path = uri.path().to_string();
    st.blob_requests
        .push(record(&method, &path, &uri, &headers, &body));
    let reply = routes::blob(&mut st, &path);
    if let Some(last) = st.blob_requests.last_mut() {
        last.status = reply.status;
    }
    reply.into_response()
}
