//! The HTTP core: base URL, auth, our retry policy and JSON decoding.
//!
//! Plain reqwest, not octocrab's typed calls: we need the headers of every answer (Link,
//! x-ratelimit-*, retry-after, ETag, Location), redirects we follow ourselves (so the token
//! never goes to the log host), and streaming downloads. OCTOCRAB.md lists why its typed
//! calls fall short for each of these. Redirects are off; retries are ours, through an
//! injected [`Clock`], and a POST is never repeated blindly (see `api.rs`).

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use reqwest::header::{ACCEPT, AUTHORIZATION, ETAG, HeaderMap, IF_NONE_MATCH, LINK};
use reqwest::{Method, Response, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;

use super::app::Installation;
use super::clock::{Clock, SystemClock};
use super::error::GithubError;
use super::ratelimit::{Verdict, classify};

/// The REST API version every request asks for.
pub const API_VERSION: &str = "2022-11-28";
/// The public API; GHES is `https://HOST/api/v3`.
pub const DEFAULT_API_URL: &str = "https://api.github.com";

/// Installs ring as rustls' provider once; reqwest panics without one (CRATES.md §2).
pub fn init_tls() {
    static DONE: OnceLock<()> = OnceLock::new();
    DONE.get_or_init(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// How to reach GitHub.
#[derive(Clone, Debug)]
pub struct ClientOptions {
    /// `--api-url` > `GITHUB_API_URL` > `[github] api_url`.
    pub api_url: String,
    pub token: Option<SecretString>,
    /// The most a single call may spend waiting on rate limits and retries.
    pub max_wait_secs: u64,
    /// Retries after the first try, for rate limits, 5xx and network errors.
    pub max_retries: u32,
}

impl ClientOptions {
    /// From the resolved config; an empty token means none.
    pub fn from_config(github: &crate::config::GithubConfig) -> ClientOptions {
        let token = Some(github.token.trim())
            .filter(|t| !t.is_empty())
            .map(|t| SecretString::from(t.to_string()));
        ClientOptions {
            api_url: github.api_url.clone(),
            token,
            max_wait_secs: github.max_wait_secs,
            max_retries: 5,
        }
    }
}

/// How a log download goes, for a progress display: bytes so far, the size when the
/// server sent one, and `done` once (success or not).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Transfer<'a> {
    /// What is downloaded, e.g. `the logs of run 7 of octo/app`.
    pub what: &'a str,
    pub bytes: u64,
    pub total: Option<u64>,
    pub done: bool,
}

/// Receives [`Transfer`]s; set with [`Client::with_transfer_progress`].
pub type TransferFn = Arc<dyn Fn(&Transfer<'_>) + Send + Sync>;

/// Who the client acts as: a token from the environment or config, or a GitHub App
/// installation whose tokens are minted (and refreshed before they expire) on demand.
#[derive(Clone)]
pub enum Credentials {
    Token(SecretString),
    App(Arc<Installation>),
}

impl Credentials {
    /// The token to send now; an App's is re-minted when it is about to expire.
    pub async fn token(&self) -> Result<SecretString, GithubError> {
        match self {
            Credentials::Token(t) => Ok(t.clone()),
            Credentials::App(installation) => installation.token().await,
        }
    }
}

/// A GitHub REST client bound to one API base URL.
#[derive(Clone)]
pub struct Client {
    pub(super) api: reqwest::Client,
    /// For redirect targets: never carries the token.
    pub(super) blob: reqwest::Client,
    pub(super) base: String,
    origin: String,
    credentials: Option<Credentials>,
    pub(super) clock: Arc<dyn Clock>,
    max_wait_secs: u64,
    max_retries: u32,
    /// Epoch second before which the primary limit is spent (an answer said
    /// `x-ratelimit-remaining: 0`); requests wait for it instead of earning a 403.
    spent_until: Arc<std::sync::Mutex<u64>>,
    pub(super) transfer: Option<TransferFn>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.base)
            .field("token", &self.credentials.as_ref().map(|_| "***"))
            .finish()
    }
}

/// One request as the retry loop sees it.
#[derive(Clone, Debug)]
pub(super) struct Req {
    pub method: Method,
    pub url: String,
    pub query: Vec<(String, String)>,
    pub body: Option<serde_json::Value>,
    pub etag: Option<String>,
    pub what: String,
}

impl Req {
    pub fn get(url: String, what: impl Into<String>) -> Req {
        Req {
            method: Method::GET,
            url,
            query: Vec::new(),
            body: None,
            etag: None,
            what: what.into(),
        }
    }
    pub fn post(url: String, body: serde_json::Value, what: impl Into<String>) -> Req {
        Req {
            method: Method::POST,
            body: Some(body),
            ..Req::get(url, what)
        }
    }
    pub fn patch(url: String, body: serde_json::Value, what: impl Into<String>) -> Req {
        Req {
            method: Method::PATCH,
            body: Some(body),
            ..Req::get(url, what)
        }
    }
    pub fn query(mut self, k: &str, v: impl ToString) -> Req {
        self.query.push((k.to_string(), v.to_string()));
        self
    }
    fn idempotent(&self) -> bool {
        matches!(self.method, Method::GET | Method::HEAD)
    }
}

/// A decoded answer with the headers callers need.
#[derive(Debug)]
pub(super) struct Decoded<T> {
    pub value: Option<T>,
    pub next: Option<String>,
    pub etag: Option<String>,
}

impl Client {
    /// A client on the real clock.
    pub fn new(opts: ClientOptions) -> Result<Client, GithubError> {
        Client::with_clock(opts, Arc::new(SystemClock))
    }

    /// From the resolved config; `api_url` is `--api-url` when given (it beats
    /// `GITHUB_API_URL` and `[github] api_url`, which the config layer already merged).
    pub fn from_config(
        github: &crate::config::GithubConfig,
        api_url: Option<&str>,
    ) -> Result<Client, GithubError> {
        let mut opts = ClientOptions::from_config(github);
        if let Some(url) = api_url.filter(|u| !u.trim().is_empty()) {
            opts.api_url = url.to_string();
        }
        Client::new(opts)
    }

    /// A client whose waits go through `clock` (tests pass a `FakeClock`).
    pub fn with_clock(opts: ClientOptions, clock: Arc<dyn Clock>) -> Result<Client, GithubError> {
        init_tls();
        let base = opts.api_url.trim().trim_end_matches('/').to_string();
        let origin = origin_of(&base).ok_or_else(|| GithubError::BadLink {
            what: "set up the GitHub client".into(),
            url: base.clone(),
        })?;
        Ok(Client {
            api: build_http()?,
            blob: build_http()?,
            base,
            origin,
            credentials: opts.token.map(Credentials::Token),
            clock,
            max_wait_secs: opts.max_wait_secs,
            max_retries: opts.max_retries,
            spent_until: Arc::default(),
            transfer: None,
        })
    }

    /// Tells `progress` how each log download goes (the client itself draws nothing).
    pub fn with_transfer_progress(
        mut self,
        progress: impl Fn(&Transfer<'_>) + Send + Sync + 'static,
    ) -> Client {
        self.transfer = Some(Arc::new(progress));
        self
    }

    /// The same client acting as `credentials` (a GitHub App installation, say).
    pub fn with_credentials(mut self, credentials: Credentials) -> Client {
        self.credentials = Some(credentials);
        self
    }

    /// Whether it acts as a GitHub App installation.
    pub fn app(&self) -> Option<&Installation> {
        match &self.credentials {
            Some(Credentials::App(i)) => Some(i),
            _ => None,
        }
    }

    /// The token requests carry now (git pushes use it too); `None` without credentials.
    pub async fn token(&self) -> Result<Option<SecretString>, GithubError> {
        match &self.credentials {
            Some(c) => c.token().await.map(Some),
            None => Ok(None),
        }
    }

    /// The API base URL, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    pub(super) fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Sends with our retry policy; returns the response of a 2xx/3xx answer unread.
    pub(super) async fn execute(&self, req: &Req) -> Result<Response, GithubError> {
        let credentials = self
            .credentials
            .as_ref()
            .ok_or_else(|| GithubError::MissingToken {
                what: req.what.clone(),
            })?;
        let token = &credentials.token().await?;
        let mut waited = self.wait_for_quota(req).await?;
        let mut attempt = 0u32;
        loop {
            let sent = self.build(req, token).send().await;
            if let Ok(resp) = &sent {
                self.note_quota(resp.headers());
            }
            let wait = match sent {
                Err(source) if req.idempotent() => {
                    let wait = 1u64 << attempt.min(6);
                    if !self.may_wait(attempt, waited, wait) {
                        return Err(transport(req, source));
                    }
                    wait
                }
                Err(source) => return Err(transport(req, source)),
                Ok(resp) if resp.status().is_success() || resp.status().is_redirection() => {
                    return Ok(resp);
                }
                Ok(resp) => self.judge(req, resp, attempt, waited).await?,
            };
            tracing::info!(what = %req.what, wait_secs = wait, attempt, "retrying a GitHub request");
            self.clock.sleep(Duration::from_secs(wait)).await;
            waited += wait;
            attempt += 1;
        }
    }

    /// Reads a failed answer and decides: a wait before the next try, or the error.
    async fn judge(
        &self,
        req: &Req,
        resp: Response,
        attempt: u32,
        waited: u64,
    ) -> Result<u64, GithubError> {
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = resp.text().await.unwrap_or_default();
        let now = self.clock.now_epoch();
        match classify(status, &headers, &body, now, attempt) {
            Verdict::RateLimited { wait_secs } => {
                if self.may_wait(attempt, waited, wait_secs) {
                    return Ok(wait_secs);
                }
                Err(GithubError::RateLimited {
                    what: req.what.clone(),
                    wait_secs,
                    max_secs: self.max_wait_secs,
                })
            }
            Verdict::ServerError { wait_secs }
                if req.idempotent() && self.may_wait(attempt, waited, wait_secs) =>
            {
                Ok(wait_secs)
            }
            _ => Err(status_error(&req.what, status, &body, attempt + 1)),
        }
    }

    /// Waits out a spent primary limit seen on an earlier answer; returns the seconds waited.
    async fn wait_for_quota(&self, req: &Req) -> Result<u64, GithubError> {
        let until = *self.spent_until.lock().expect("quota lock");
        let wait = until.saturating_sub(self.clock.now_epoch());
        if wait == 0 {
            return Ok(0);
        }
        if wait > self.max_wait_secs {
            return Err(GithubError::RateLimited {
                what: req.what.clone(),
                wait_secs: wait,
                max_secs: self.max_wait_secs,
            });
        }
        tracing::warn!(what = %req.what, wait_secs = wait, "GitHub's rate limit is spent; waiting for its reset");
        self.clock.sleep(Duration::from_secs(wait)).await;
        Ok(wait)
    }

    /// Remembers the reset time when an answer says the primary limit is spent.
    fn note_quota(&self, headers: &HeaderMap) {
        let num = |name| header_str(headers, name).and_then(|v| v.trim().parse::<u64>().ok());
        if num("x-ratelimit-remaining") == Some(0)
            && let Some(reset) = num("x-ratelimit-reset")
        {
            *self.spent_until.lock().expect("quota lock") = reset;
        }
    }

    fn may_wait(&self, attempt: u32, waited: u64, wait: u64) -> bool {
        attempt < self.max_retries && waited + wait <= self.max_wait_secs
    }

    fn build(&self, req: &Req, token: &SecretString) -> reqwest::RequestBuilder {
        let mut b = self
            .api
            .request(req.method.clone(), &req.url)
            .header(ACCEPT, "application/vnd.github+json")
            .header("X-GitHub-Api-Version", API_VERSION)
            .header(AUTHORIZATION, format!("Bearer {}", token.expose_secret()));
        if !req.query.is_empty() {
            b = b.query(&req.query);
        }
        if let Some(etag) = &req.etag {
            b = b.header(IF_NONE_MATCH, etag);
        }
        if let Some(body) = &req.body {
            b = b.json(body);
        }
        b
    }

    /// Sends and decodes JSON; a 304 gives `value: None`. The `next` link must stay on our origin.
    pub(super) async fn json<T: DeserializeOwned>(
        &self,
        req: &Req,
    ) -> Result<Decoded<T>, GithubError> {
        let resp = self.execute_following_moves(req).await?;
        let next = self.next_link(resp.headers(), &req.what)?;
        let etag = header_str(resp.headers(), ETAG);
        if resp.status() == StatusCode::NOT_MODIFIED {
            return Ok(Decoded {
                value: None,
                next,
                etag,
            });
        }
        let bytes = resp
            .bytes()
            .await
            .map_err(|source| transport(req, source))?;
        let value = serde_json::from_slice(&bytes).map_err(|source| GithubError::Decode {
            what: req.what.clone(),
            source,
        })?;
        Ok(Decoded {
            value: Some(value),
            next,
            etag,
        })
    }

    /// `execute`, following a renamed or transferred repository's `301`/`307`/`308` (GitHub
    /// answers API calls for an old name that way), but only back to the API's own origin.
    async fn execute_following_moves(&self, req: &Req) -> Result<Response, GithubError> {
        let mut resp = self.execute(req).await?;
        for _ in 0..3 {
            let moved = matches!(resp.status().as_u16(), 301 | 307 | 308);
            if !moved || req.method != Method::GET {
                return Ok(resp);
            }
            let location =
                header_str(resp.headers(), reqwest::header::LOCATION).unwrap_or_default();
            if origin_of(&location).as_deref() != Some(self.origin.as_str()) {
                return Err(GithubError::BadLink {
                    what: req.what.clone(),
                    url: location,
                });
            }
            let mut moved_req = Req::get(location, req.what.clone());
            moved_req.etag = req.etag.clone();
            resp = self.execute(&moved_req).await?;
        }
        Ok(resp)
    }

    /// Like [`Client::json`] but a 304 is an error: for calls that send no ETag.
    pub(super) async fn fetch<T: DeserializeOwned>(&self, req: &Req) -> Result<T, GithubError> {
        self.json(req)
            .await?
            .value
            .ok_or_else(|| status_error(&req.what, StatusCode::NOT_MODIFIED, "", 1))
    }

    /// The `rel="next"` URL, refused unless it points back at the API's own origin
    /// (the token goes with it).
    fn next_link(&self, headers: &HeaderMap, what: &str) -> Result<Option<String>, GithubError> {
        let Some(link) = header_str(headers, LINK) else {
            return Ok(None);
        };
        let Some(next) = super::pages::next_link(&link) else {
            return Ok(None);
        };
        if origin_of(&next).as_deref() != Some(self.origin.as_str()) {
            return Err(GithubError::BadLink {
                what: what.to_string(),
                url: next,
            });
        }
        Ok(Some(next))
    }
}

fn build_http() -> Result<reqwest::Client, GithubError> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("selfheal/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(30))
        .read_timeout(Duration::from_secs(120))
        .build()
        .map_err(|source| GithubError::Transport {
            what: "set up the GitHub client".into(),
            url: String::new(),
            source,
        })
}

pub(super) fn transport(req: &Req, source: reqwest::Error) -> GithubError {
    GithubError::Transport {
        what: req.what.clone(),
        url: req.url.clone(),
        source,
    }
}

/// Maps a final non-success status to the error the user reads.
pub(super) fn status_error(
    what: &str,
    status: StatusCode,
    body: &str,
    attempts: u32,
) -> GithubError {
    let what = what.to_string();
    let message = error_message(body);
    match status.as_u16() {
        401 => GithubError::Unauthorized { what, message },
        403 => GithubError::Forbidden { what, message },
        404 => GithubError::NotFound { what, message },
        409 | 422 => GithubError::Rejected {
            what,
            status: status.as_u16(),
            message,
        },
        code => GithubError::Status {
            what,
            status: code,
            attempts,
            message,
        },
    }
}

/// GitHub's `message` field (basic-error), else the start of the body.
pub(super) fn error_message(body: &str) -> String {
    #[derive(serde::Deserialize)]
    struct Basic {
        message: String,
    }
    match serde_json::from_str::<Basic>(body) {
        Ok(b) => b.message,
        Err(_) if body.trim().is_empty() => "empty body".into(),
        Err(_) => body.trim().chars().take(120).collect(),
    }
}

pub(super) fn header_str(
    headers: &HeaderMap,
    name: impl reqwest::header::AsHeaderName,
) -> Option<String> {
    headers.get(name)?.to_str().ok().map(str::to_string)
}

/// `scheme://host[:port]` of an absolute URL, lowercased; `None` if it is not absolute.
pub(super) fn origin_of(url: &str) -> Option<String> {
    let u = reqwest::Url::parse(url).ok()?;
    let host = u.host_str()?;
    Some(match u.port_or_known_default() {
        Some(port) => format!("{}://{}:{}", u.scheme(), host, port).to_lowercase(),
        None => format!("{}://{}", u.scheme(), host).to_lowercase(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origin_includes_default_port() {
        assert_eq!(
            origin_of("https://ghe.acme.com/api/v3").as_deref(),
            Some("https://ghe.acme.com:443")
        );
        assert_eq!(
            origin_of("http://127.0.0.1:8080/x?page=2").as_deref(),
            Some("http://127.0.0.1:8080")
        );
        assert_eq!(origin_of("/relative"), None);
    }

    #[test]
    fn error_message_reads_basic_error_or_text() {
        assert_eq!(
            error_message(r#"{"message":"Bad credentials","documentation_url":"x"}"#),
            "Bad credentials"
        );
        assert_eq!(error_message("<html>oops</html>"), "<html>oops</html>");
        assert_eq!(error_message(""), "empty body");
    }

    #[test]
    fn status_error_maps_codes() {
        let e = status_error(
            "get run",
            StatusCode::UNAUTHORIZED,
            "{\"message\":\"Bad credentials\"}",
            1,
        );
        assert!(matches!(e, GithubError::Unauthorized { .. }));
        let e = status_error("get run", StatusCode::BAD_GATEWAY, "", 3);
        assert!(e.to_string().contains("502 after 3 attempt(s)"), "{e}");
    }

    #[test]
    fn from_config_prefers_the_flag_and_treats_empty_token_as_none() {
        let mut cfg = crate::config::Config::defaults().github;
        let c = Client::from_config(&cfg, Some("https://ghe.acme.com/api/v3/")).unwrap();
        assert_eq!(c.base_url(), "https://ghe.acme.com/api/v3");
        assert!(c.credentials.is_none());
        cfg.token = "t".into();
        let c = Client::from_config(&cfg, None).unwrap();
        assert_eq!(c.base_url(), DEFAULT_API_URL);
        assert!(c.credentials.is_some());
    }

    #[test]
    fn debug_hides_the_token() {
        let c = Client::new(ClientOptions {
            api_url: "http://127.0.0.1:1/".into(),
            token: Some(SecretString::from("ghp_secret".to_string())),
            max_wait_secs: 1,
            max_retries: 0,
        })
        .unwrap();
        assert!(!format!("{c:?}").contains("ghp_secret"));
        assert_eq!(c.base_url(), "http://127.0.0.1:1");
    }
}
