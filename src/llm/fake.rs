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
    /// Streamed (the request asked for `stream`): after this many chunks, go silent for
    /// this long before the rest (to trip the client's silence timeout).
    pub stall: Option<(usize, Duration)>,
    /// Streamed: the wait before each chunk (a slow model writing steadily).
    pub pace: Duration,
    /// Answer with the whole JSON body even when the request asked for a stream (servers
    /// that ignore `stream`).
    pub unstreamed: bool,
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
            stall: None,
            pace: Duration::ZERO,
            unstreamed: false,
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
    /// Never streamed, whatever the request asks.
    pub fn unstreamed(mut self) -> Self {
        self.unstreamed = true;
        self
    }
    /// When streamed: each chunk after `pace`.
    pub fn paced(mut self, pace: Duration) -> Self {
        self.pace = pace;
        self
    }
    /// When streamed: `chunks` chunks, then `pause` of silence, then the rest.
    pub fn stalling(mut self, chunks: usize, pause: Duration) -> Self {
        self.stall = Some((chunks, pause));
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

/// Real replies of the local Qwen2.5-Coder models (shared/tools/local-llm-samples and
/// `tests/cassettes/`), verbatim, for scripting the fake with what models really say.
pub mod samples {
    /// A usable SEARCH/REPLACE block (1.5B, one-shot example in the system message).
    pub const GOOD_BLOCK: &str = "stats.py\n<<<<<<< SEARCH\n    return total / (len(xs) - 1)\n=======\n    return total / len(xs)\n>>>>>>> REPLACE";
    /// The same block under the example's placeholder path.
    pub const WRONG_PATH_BLOCK: &str = "path/to/file.py\n<<<<<<< SEARCH\n    return total / (len(xs) - 1)\n=======\n    return total / len(xs)\n>>>>>>> REPLACE";
    /// Chatter, then a unified diff whose fix sits in a context line and whose only change is a no-op.
    pub const CHATTER_MALFORMED_DIFF: &str = "The CI failed because the average function does not correctly calculate the mean of the list. The fix is to divide the total by the length of the list, not the length minus one. Here's the unified diff:\n\n```diff\n--- a/stats.py\n+++ b/stats.py\n@@ -3,7 +3,7 @@\n def average(xs):\n     \"\"\"Return the arithmetic mean of a non-empty list.\"\"\"\n     total = 0\n-    for x in xs:\n+    for x in xs:\n         total += x\n     return total / len(xs)\n```";
    /// The whole corrected function in a fence, format ignored.
    pub const WHOLE_FUNCTION_FENCE: &str = "```python\ndef average(xs):\n    \"\"\"Return the arithmetic mean of a non-empty list.\"\"\"\n    total = 0\n    for x in xs:\n        total += x\n    return total / len(xs)\n```";
    /// Whole files under their paths, with the context's line-number gutters copied (selfheal's own prompt).
    pub const WHOLE_FILES_WITH_GUTTERS: &str = "Cause: The `average` function is incorrectly calculating the mean by subtracting 1 from the length of the list. The correct calculation should be `len(xs)`.\n\nEdit blocks:\nstats.py\n```python\n1| def average(xs):\n2|     \"\"\"Return the arithmetic mean of a non-empty list.\"\"\"\n3|     total = 0\n4|     for x in xs:\n5|         total += x\n6|     return total / len(xs)\n```\ntests/test_stats.py\n```python\n1| from stats import average\n2|\n3|\n4| def test_average():\n5|     assert average([2, 4, 6]) == 4\n```";
    /// Invalid JSON (a Python `"""` string) holding a diff, fenced as ```json.
    pub const JSON_WRAPPED_DIFF: &str = "```json\n{\n  \"diagnosis\": \"The error indicates that the function `parse_port` expects a `u16` return type but receives a `u32` value from the `parse` method of the `str` type.\",\n  \"patch\": \"\"\"\ndiff --git a/src/lib.rs b/src/lib.rs\nindex 1234567..89abcdef 100644\n--- a/src/lib.rs\n+++ b/src/lib.rs\n@@ -3,7 +3,7 @@\n pub fn parse_port(s: &str) -> u16 {\n     let n: u32 = s.parse().unwrap();\n-    n\n+    n as u16\n }\n \"\"\"\n}\n```";
    /// The 0.5B model parroting the prompt's example and a line of its instructions.
    pub const PARROTED_EXAMPLE: &str = "path/to/file.py\n<<<<<<< SEARCH\n    return a - b\n=======\n    return a + b\n>>>>>>> REPLACE\nThe SEARCH part must copy lines from the file exactly. No explanations.";
    /// Every sample, named, for table-driven tests.
    pub const ALL: &[(&str, &str)] = &[
        ("good_block", GOOD_BLOCK),
        ("wrong_path_block", WRONG_PATH_BLOCK),
        ("chatter_malformed_diff", CHATTER_MALFORMED_DIFF),
        ("whole_function_fence", WHOLE_FUNCTION_FENCE),
        ("whole_files_with_gutters", WHOLE_FILES_WITH_GUTTERS),
        ("json_wrapped_diff", JSON_WRAPPED_DIFF),
        ("parroted_example", PARROTED_EXAMPLE),
    ];
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
    /// Model ids `GET /v1/models` lists; `None`: that request is a surprise.
    models: Option<Vec<String>>,
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

    /// Answers `GET /v1/models` with these ids (as OpenAI and llama.cpp list them).
    pub fn serve_models(&self, ids: &[&str]) -> &Self {
        self.lock().models = Some(ids.iter().map(|s| s.to_string()).collect());
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
    let streamed = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|b| b.get("stream").and_then(Value::as_bool))
        .unwrap_or(false);
    match streamed.then(|| sse_chunks(&scripted)).flatten() {
        Some(chunks) => stream_response(chunks, scripted.stall, scripted.pace),
        None => into_response(scripted),
    }
}

/// A scripted 200 chat completion as server-sent events, the way OpenAI and llama-server
/// stream: one `delta` per line of the text, then the finish reason and usage, then
/// `[DONE]`. `None` for anything else (errors and raw bodies are sent as they are).
fn sse_chunks(s: &Scripted) -> Option<Vec<String>> {
    if s.status != 200 || s.unstreamed {
        return None;
    }
    let body: Value = serde_json::from_str(&s.body).ok()?;
    let choice = body.get("choices")?.get(0)?;
    let text = choice.get("message")?.get("content")?.as_str()?;
    let model = body.get("model").cloned().unwrap_or(Value::Null);
    let event = |v: Value| format!("data: {v}\n\n");
    let mut out: Vec<String> = text
        .split_inclusive('\n')
        .map(|piece| {
            event(json!({"model": model, "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": null}]}))
        })
        .collect();
    let mut last = json!({"model": model, "choices": [{"index": 0, "delta": {}, "finish_reason": choice.get("finish_reason")}]});
    if let Some(usage) = body.get("usage") {
        last["usage"] = usage.clone();
    }
    out.push(event(last));
    out.push("data: [DONE]\n\n".to_string());
    Some(out)
}

fn stream_response(
    chunks: Vec<String>,
    stall: Option<(usize, Duration)>,
    pace: Duration,
) -> Response {
    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(4);
    tokio::spawn(async move {
        for (i, chunk) in chunks.into_iter().enumerate() {
            if let Some((after, pause)) = stall
                && i == after
            {
                tokio::time::sleep(pause).await;
            }
            if !pace.is_zero() {
                tokio::time::sleep(pace).await;
            }
            if tx.send(Bytes::from(chunk)).await.is_err() {
                return; // the client closed the stream
            }
        }
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv()
            .await
            .map(|b| (Ok::<Bytes, std::convert::Infallible>(b), rx))
    });
    let mut resp = Response::new(axum::body::Body::from_stream(stream));
    resp.headers_mut().insert(
        "content-type",
        HeaderValue::from_static("text/event-stream"),
    );
    resp
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
    if method == Method::GET
        && uri.path() == "/v1/models"
        && let Some(ids) = &s.models
    {
        let data: Vec<Value> = ids
            .iter()
            .map(|id| serde_json::json!({"id": id, "object": "model", "owned_by": "fake"}))
            .collect();
        return Ok(Scripted::raw(
            200,
            &serde_json::json!({"object": "list", "data": data}).to_string(),
        ));
    }
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
