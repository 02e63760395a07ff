//! A scripted OpenAI-compatible server on 127.0.0.1 for tests (unit and `tests/`).
//!
//! Each test pushes the replies it expects to need, in order; the server answers
//! `POST /v1/chat/completions` with the next one and records every request. Like gh's
//! `httpmock.Registry`, it fails loudly on surprises: a request when the queue is empty or
//! to another path gets a 500/404 whose body says so, and [`FakeLlm::verify`] reports both
//! those and scripted replies nobody asked for.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// One scripted answer.
#[derive(Clone, Debug)]
pub struct Scripted {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// Wait this long before answering (to trip client timeouts).
    pub delay: Duration,
}

impl Scripted {
    /// Usage reported by [`Scripted::ok`] and friends.
    pub const PROMPT_TOKENS: u64 = 120;
    pub const COMPLETION_TOKENS: u64 = 30;

    /// Any status and body.
    pub fn raw(status: u16, body: &str) -> Self {
        Scripted {
            status,
            headers: Vec::new(),
            body: body.to_string(),
            delay: Duration::ZERO,
        }
    }
    /// A complete OpenAI reply with usage and finish_reason `stop`.
    pub fn ok(text: &str) -> Self {
        Self::reply(
            text,
            Some("stop"),
            Some((Self::PROMPT_TOKENS, Self::COMPLETION_TOKENS)),
        )
    }
    /// Cut at max_tokens: finish_reason `length`.
    pub fn truncated(text: &str) -> Self {
        Self::reply(
            text,
            Some("length"),
            Some((Self::PROMPT_TOKENS, Self::COMPLETION_TOKENS)),
        )
    }
    /// No `usage` block, no id/object/created (small servers).
    pub fn without_usage(text: &str) -> Self {
        let body = json!({"choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}]});
        Self::raw(200, &body.to_string())
    }
    /// llama-server's shape: no `object`… but `timings`, `system_fingerprint`, usage (31, 5).
    pub fn llama_cpp(text: &str) -> Self {
        let body = json!({
            "choices": [{"finish_reason": "stop", "index": 0, "message": {"role": "assistant", "content": text}}],
            "created": 1_764_000_000, "model": "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
            "system_fingerprint": "b1-abc", "object": "chat.completion", "id": "chatcmpl-x",
            "usage": {"completion_tokens": 5, "prompt_tokens": 31, "total_tokens": 36},
            "timings": {"prompt_n": 31, "prompt_ms": 310.0, "predicted_n": 5, "predicted_per_second": 10.7}
        });
        Self::raw(200, &body.to_string())
    }
    /// A 429 with `Retry-After: value` (seconds or HTTP-date).
    pub fn rate_limited(retry_after: &str) -> Self {
        Self::raw(429, r#"{"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}}"#)
            .header("retry-after", retry_after)
    }
    /// A 500 with an OpenAI-style error body.
    pub fn server_error() -> Self {
        Self::raw(
            500,
            r#"{"error":{"message":"The server had an error while processing your request.","type":"server_error"}}"#,
        )
    }
    /// Adds a response header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }
    /// Answers only after `delay`.
    pub fn after(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    fn reply(text: &str, finish: Option<&str>, usage: Option<(u64, u64)>) -> Self {
        let mut body = json!({
            "id": "chatcmpl-fake", "object": "chat.completion", "created": 1_764_000_000, "model": "fake-model",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": finish}],
        });
        if let Some((p, c)) = usage {
            body["usage"] =
                json!({"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c});
        }
        Self::raw(200, &body.to_string())
    }
}

/// A request the fake received.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub authorization: Option<String>,
    /// The JSON body (`Value::Null` if it was not JSON).
    pub body: Value,
}

#[derive(Default)]
struct State {
    queue: VecDeque<Scripted>,
    requests: Vec<Recorded>,
    surprises: Vec<String>,
}

/// The running fake; stops when dropped.
pub struct FakeLlm {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    task: tokio::task::JoinHandle<()>,
}

impl FakeLlm {
    /// Binds 127.0.0.1:0 and serves on the current tokio runtime.
    pub async fn start() -> FakeLlm {
        let state = Arc::new(Mutex::new(State::default()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        let shared = state.clone();
        let app = axum::Router::new().fallback(
            move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                let state = shared.clone();
                async move { answer(state, method, uri, headers, body).await }
            },
        );
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeLlm { addr, state, task }
    }

    /// `http://127.0.0.1:PORT/v1`, the value for `[llm] base_url`.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// Queues one reply; chainable.
    pub fn push(&self, reply: Scripted) -> &Self {
        self.lock().queue.push_back(reply);
        self
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<Recorded> {
        self.lock().requests.clone()
    }

    /// Err listing unexpected requests and scripted replies nobody asked for.
    pub fn verify(&self) -> Result<(), String> {
        let s = self.lock();
        let mut problems = s.surprises.clone();
        if !s.queue.is_empty() {
            problems.push(format!(
                "{} scripted replies were never requested",
                s.queue.len()
            ));
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.join("; "))
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().expect("fake LLM state lock")
    }
}

impl Drop for FakeLlm {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn answer(
    state: Arc<Mutex<State>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let scripted = take_next(&state, &method, &uri, &headers, &body);
    let scripted = match scripted {
        Ok(s) => s,
        Err((status, why)) => return (status, why).into_response(),
    };
    if !scripted.delay.is_zero() {
        tokio::time::sleep(scripted.delay).await;
    }
    into_response(scripted)
}

fn take_next(
    state: &Mutex<State>,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Scripted, (StatusCode, String)> {
    let mut s = state.lock().expect("fake LLM state lock");
    let n = s.requests.len() + 1;
    s.requests.push(Recorded {
        method: method.to_string(),
        path: uri.path().to_string(),
        authorization: headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
        body: serde_json::from_slice(body).unwrap_or(Value::Null),
    });
    if method != Method::POST || uri.path() != "/v1/chat/completions" {
        let why = format!("fake LLM: unexpected request #{n}: {method} {}", uri.path());
        s.surprises.push(why.clone());
        return Err((StatusCode::NOT_FOUND, why));
    }
    s.queue.pop_front().ok_or_else(|| {
        let why = format!("fake LLM: request #{n} but no scripted reply is left");
        s.surprises.push(why.clone());
        (StatusCode::INTERNAL_SERVER_ERROR, why)
    })
}

fn into_response(s: Scripted) -> Response {
    let status = StatusCode::from_u16(s.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut resp = (status, s.body).into_response();
    let h = resp.headers_mut();
    h.insert("content-type", HeaderValue::from_static("application/json"));
    for (name, value) in s.headers {
        if let (Ok(n), Ok(v)) = (HeaderName::try_from(name), HeaderValue::try_from(value)) {
            h.insert(n, v);
        }
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn empty_queue_and_wrong_path_are_reported() {
        crate::llm::init_tls();
        let fake = FakeLlm::start().await;
        let http = reqwest::Client::new();
        let r = http
            .post(format!("{}/chat/completions", fake.base_url()))
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 500);
        assert!(
            r.text()
                .await
                .unwrap()
                .contains("no scripted reply is left")
        );
        let r = http
            .get(format!("{}/models", fake.base_url()))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404);
        fake.push(Scripted::ok("never asked"));
        let err = fake.verify().unwrap_err();
        assert!(
            err.contains("request #1 but no scripted reply") && err.contains("GET /v1/models"),
            "{err}"
        );
        assert!(
            err.contains("1 scripted replies were never requested"),
            "{err}"
        );
    }
}
