//! The OpenAI-compatible chat client: `POST {base_url}/chat/completions` with plain reqwest.
//!
//! Why not async-openai (shared/CRATES.md §2): it rejects replies without `object`/`id`/
//! `created`, `finish_reason`s outside its enum and llama.cpp's integer error codes, loses the
//! HTTP status on those, hides `Retry-After`, and retries on its own clock. Our own lenient
//! types (`wire`) and retry policy (`retry`) are less code than working around all that.

use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;

use super::retry::{RetryPolicy, Sleeper, TokioSleeper, asked_wait};
use super::wire::{WireMessageOut, WireReply, WireRequest, cut, error_message, strip_think};
use super::{BoxFuture, ChatReply, ChatRequest, LlmError, Provider, Usage, init_tls, tokens};
use crate::config::LlmConfig;

/// Where and how to call the endpoint.
#[derive(Clone, Debug)]
pub struct ClientOptions {
    /// Ends in `/v1` for most servers; `/chat/completions` is appended.
    pub base_url: String,
    /// Sent as a bearer token when not empty (local servers need none).
    pub api_key: String,
    pub model: String,
    /// Not streaming: the whole request, reply included. Streaming: the wait for the
    /// first token.
    pub timeout: Duration,
    pub retry: RetryPolicy,
    /// Ask for the reply as server-sent events and read it token by token.
    pub stream: bool,
    /// Streaming: the longest wait between two tokens.
    pub silence: Duration,
    /// Streaming: told how many tokens have come so far.
    pub on_tokens: Option<super::OnTokens>,
}

impl ClientOptions {
    pub fn from_config(c: &LlmConfig) -> Self {
        ClientOptions {
            base_url: c.base_url.clone(),
            api_key: c.api_key.clone(),
            model: c.model.clone(),
            timeout: Duration::from_secs(c.timeout_secs.max(1)),
            retry: RetryPolicy {
                max_retries: c.max_retries,
                max_wait: Duration::from_secs(c.max_retry_wait_secs),
                base: Duration::from_secs(1),
            },
            stream: c.stream,
            silence: Duration::from_secs(c.silence_secs.max(1)),
            on_tokens: None,
        }
    }
}

impl ChatRequest {
    /// A request with the model settings from `[llm]`.
    pub fn from_config(c: &LlmConfig, purpose: &str, system: String, user: String) -> Self {
        ChatRequest {
            system,
            user,
            max_tokens: c.max_tokens,
            temperature: c.temperature,
            purpose: purpose.to_string(),
            seed: (c.seed >= 0).then_some(c.seed),
            done: super::Done::Never,
        }
    }
}

/// Request parameters some models refuse, learnt from their 400 answers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Compat {
    /// Send `max_completion_tokens` instead of `max_tokens` (OpenAI o-series, gpt-5).
    completion_tokens: bool,
    /// Leave `temperature` out: the model accepts only its default.
    default_temperature: bool,
}

impl Compat {
    /// The parameters to use instead, if a 400's message asks for a change not made yet.
    /// OpenAI says "Unsupported parameter: 'max_tokens' ... Use 'max_completion_tokens'
    /// instead." and "Unsupported value: 'temperature' does not support 0.0 with this model.
    /// Only the default (1) value is supported."
    fn adapted(self, message: &str) -> Option<Compat> {
        let m = message.to_ascii_lowercase();
        let mut next = self;
        if m.contains("max_completion_tokens") {
            next.completion_tokens = true;
        }
        let refuses = [
            "unsupported",
            "does not support",
            "not supported",
            "only the default",
        ];
        if m.contains("temperature") && refuses.iter().any(|r| m.contains(r)) {
            next.default_temperature = true;
        }
        (next != self).then_some(next)
    }
}

/// One try's failure: worth retrying after a wait, asking again at once with other
/// parameters, or final.
enum Failed {
    Adapt(Compat),
    Transient {
        error: LlmError,
        asked: Option<Duration>,
        label: String,
    },
    Final(LlmError),
}

/// Talks to one OpenAI-compatible endpoint, retrying 429/5xx/connection errors.
pub struct OpenAiClient {
    http: reqwest::Client,
    opts: ClientOptions,
    sleeper: Arc<dyn Sleeper>,
    compat: std::sync::Mutex<Compat>,
}

impl OpenAiClient {
    pub fn new(opts: ClientOptions) -> Result<Self, LlmError> {
        init_tls();
        let mut builder =
            reqwest::Client::builder().connect_timeout(opts.timeout.min(Duration::from_secs(10)));
        if !opts.stream {
            builder = builder.timeout(opts.timeout);
        }
        let http = builder.build().map_err(|e| LlmError::Connect {
            url: opts.base_url.clone(),
            message: e.to_string(),
        })?;
        Ok(OpenAiClient {
            http,
            opts,
            sleeper: Arc::new(TokioSleeper),
            compat: std::sync::Mutex::new(Compat::default()),
        })
    }

    /// Replaces the real sleep (tests pass a `RecordingSleeper`).
    pub fn with_sleeper(mut self, sleeper: Arc<dyn Sleeper>) -> Self {
        self.sleeper = sleeper;
        self
    }

    pub fn options(&self) -> &ClientOptions {
        &self.opts
    }

    fn url(&self) -> String {
        format!(
            "{}/chat/completions",
            self.opts.base_url.trim_end_matches('/')
        )
    }

    async fn complete_with_retries(&self, req: &ChatRequest) -> Result<ChatReply, LlmError> {
        let policy = self.opts.retry;
        let mut retry = 0;
        loop {
            let (error, asked, label) = match self.send_once(req).await {
                Ok(reply) => return Ok(reply),
                Err(Failed::Final(e)) => return Err(e),
                Err(Failed::Adapt(compat)) => {
                    tracing::info!(?compat, "LLM endpoint wants other parameters; asking again");
                    *self.compat.lock().expect("compat lock") = compat;
                    continue;
                }
                Err(Failed::Transient {
                    error,
                    asked,
                    label,
                }) => (error, asked, label),
            };
            if retry >= policy.max_retries {
                return Err(exhausted(error, label, retry));
            }
            let wait = policy.delay(retry, asked)?;
            tracing::warn!(%label, retry = retry + 1, ?wait, "LLM endpoint busy; retrying");
            self.sleeper.sleep(wait).await;
            retry += 1;
        }
    }

    async fn send_once(&self, req: &ChatRequest) -> Result<ChatReply, Failed> {
        let compat = *self.compat.lock().expect("compat lock");
        let body = WireRequest {
            model: &self.opts.model,
            messages: [
                WireMessageOut {
                    role: "system",
                    content: &req.system,
                },
                WireMessageOut {
                    role: "user",
                    content: &req.user,
                },
            ],
            temperature: (!compat.default_temperature).then_some(req.temperature),
            max_tokens: (!compat.completion_tokens).then_some(req.max_tokens),
            max_completion_tokens: compat.completion_tokens.then_some(req.max_tokens),
            seed: req.seed,
            stream: self.opts.stream,
            stream_options: self.opts.stream.then_some(super::wire::StreamOptions {
                include_usage: true,
            }),
        };
        tracing::debug!(
            url = %self.url(),
            model = %self.opts.model,
            purpose = %req.purpose,
            max_tokens = req.max_tokens,
            "asking the LLM"
        );
        let mut builder = self.http.post(self.url()).json(&body);
        if !self.opts.api_key.is_empty() {
            builder = builder.bearer_auth(&self.opts.api_key);
        }
        let resp = if self.opts.stream {
            tokio::time::timeout(self.opts.timeout, builder.send())
                .await
                .map_err(|_| Failed::Final(LlmError::Timeout(self.opts.timeout)))?
        } else {
            builder.send().await
        }
        .map_err(|e| self.send_error(e))?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let is_sse = headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/event-stream"));
        if status.is_success() && is_sse {
            let (first, silence) = (self.opts.timeout, self.opts.silence);
            let on_tokens = self.opts.on_tokens.as_ref();
            return super::stream::read(resp, req, &self.opts.model, (first, silence), on_tokens)
                .await
                .map_err(|e| match e {
                    LlmError::Connect { message, .. } => Failed::Transient {
                        error: LlmError::Connect {
                            url: self.opts.base_url.clone(),
                            message,
                        },
                        asked: None,
                        label: "broken streams".into(),
                    },
                    other => Failed::Final(other),
                });
        }
        let text = if self.opts.stream {
            tokio::time::timeout(self.opts.timeout, resp.text())
                .await
                .map_err(|_| Failed::Final(LlmError::Timeout(self.opts.timeout)))?
        } else {
            resp.text().await
        }
        .map_err(|e| self.send_error(e))?;
        if status.is_success() {
            return self.parse_reply(req, &text).map_err(Failed::Final);
        }
        Err(self.status_error(status, &headers, &text, compat))
    }

    fn send_error(&self, e: reqwest::Error) -> Failed {
        if e.is_timeout() {
            return Failed::Final(LlmError::Timeout(self.opts.timeout));
        }
        let message = error_chain(&e);
        let label = if e.is_connect() {
            "connection errors"
        } else {
            "broken connections"
        };
        Failed::Transient {
            error: LlmError::Connect {
                url: self.opts.base_url.clone(),
                message,
            },
            asked: None,
            label: label.into(),
        }
    }

    fn status_error(
        &self,
        status: StatusCode,
        headers: &reqwest::header::HeaderMap,
        body: &str,
        compat: Compat,
    ) -> Failed {
        let message = error_message(body);
        let code = status.as_u16();
        if let Some(adapted) = (code == 400).then(|| compat.adapted(&message)).flatten() {
            return Failed::Adapt(adapted);
        }
        match code {
            401 | 403 => Failed::Final(LlmError::Unauthorized {
                url: self.opts.base_url.clone(),
                status: code,
                message,
            }),
            429 if body.contains("insufficient_quota") => Failed::Final(LlmError::Http {
                status: code,
                message,
            }),
            429 | 500..=599 => Failed::Transient {
                asked: asked_wait(headers, body, self.sleeper.now()),
                error: LlmError::Http {
                    status: code,
                    message,
                },
                label: code.to_string(),
            },
            _ => Failed::Final(LlmError::Http {
                status: code,
                message,
            }),
        }
    }

    fn parse_reply(&self, req: &ChatRequest, body: &str) -> Result<ChatReply, LlmError> {
        let wire: WireReply = serde_json::from_str(body).map_err(|e| LlmError::BadReply {
            message: e.to_string(),
            body: cut(body, 500),
        })?;
        let Some(choice) = wire.choices.first() else {
            return Err(LlmError::BadReply {
                message: format!("no choices: {}", error_message(body)),
                body: cut(body, 500),
            });
        };
        let finish_reason = choice.finish_reason.clone();
        let text = choice
            .text()
            .map(strip_think)
            .ok_or_else(|| LlmError::EmptyReply {
                finish_reason: finish_reason.clone(),
            })?;
        let usage = usage_of(wire.usage.as_ref(), req, &text);
        let model = wire
            .model
            .filter(|m| !m.is_empty())
            .unwrap_or_else(|| self.opts.model.clone());
        Ok(ChatReply {
            text,
            usage,
            model,
            finish_reason,
        })
    }
}

impl Provider for OpenAiClient {
    fn complete<'a>(&'a self, req: &'a ChatRequest) -> BoxFuture<'a, Result<ChatReply, LlmError>> {
        Box::pin(self.complete_with_retries(req))
    }
}

/// The server's counts when it sent both; otherwise our own, marked `estimated`.
fn usage_of(wire: Option<&super::wire::WireUsage>, req: &ChatRequest, text: &str) -> Usage {
    match wire.map(|u| (u.prompt_tokens, u.completion_tokens)) {
        Some((Some(p), Some(c))) => Usage {
            prompt_tokens: p,
            completion_tokens: c,
            estimated: false,
        },
        _ => Usage {
            prompt_tokens: tokens::chat_prompt(&req.system, &req.user) as u64,
            completion_tokens: tokens::count(text) as u64,
            estimated: true,
        },
    }
}

/// The error once retries ran out. Connection trouble keeps its own error (and hint).
fn exhausted(error: LlmError, label: String, retries: u32) -> LlmError {
    match error {
        LlmError::Connect { url, message } => LlmError::Connect {
            url,
            message: format!("{message} (gave up after {retries} retries)"),
        },
        other => LlmError::RetriesExhausted {
            last: label,
            retries,
            message: other.to_string(),
        },
    }
}

/// reqwest's error and its causes on one line ("error sending request: ... Connection refused").
fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![e.to_string()];
    let mut cause = e.source();
    while let Some(c) = cause {
        let s = c.to_string();
        if !parts.iter().any(|p| p.contains(&s)) {
            parts.push(s);
        }
        cause = c.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Hint;
    use crate::llm::fake::{FakeLlm, Scripted};
    use crate::llm::retry::RecordingSleeper;
    use std::time::{SystemTime, UNIX_EPOCH};

    fn opts(base_url: &str) -> ClientOptions {
        ClientOptions {
            base_url: base_url.to_string(),
            api_key: "sk-test".into(),
            model: "gpt-4o-mini".into(),
            timeout: Duration::from_secs(5),
            retry: RetryPolicy {
                max_retries: 4,
                max_wait: Duration::from_secs(60),
                base: Duration::from_secs(1),
            },
            stream: false,
            silence: Duration::from_secs(5),
            on_tokens: None,
        }
    }

    fn request() -> ChatRequest {
        ChatRequest {
            system: "You fix bugs.".into(),
            user: "stats.py:6 divides by len-1".into(),
            max_tokens: 64,
            temperature: 0.0,
            purpose: "patch".into(),
            seed: None,
            done: crate::llm::Done::Never,
        }
    }

    fn client(fake: &FakeLlm) -> (OpenAiClient, Arc<RecordingSleeper>) {
        let sleeper = Arc::new(RecordingSleeper::new(
            UNIX_EPOCH + Duration::from_secs(1_000_000),
        ));
        (
            OpenAiClient::new(opts(&fake.base_url()))
                .unwrap()
                .with_sleeper(sleeper.clone()),
            sleeper,
        )
    }

    #[tokio::test]
    async fn good_reply_and_request_shape() {
        let fake = FakeLlm::start().await;
        fake.push(Scripted::ok("the fix"));
        let (c, _) = client(&fake);
        let reply = c.complete(&request()).await.unwrap();
        assert_eq!(reply.text, "the fix");
        assert_eq!(
            reply.usage,
            Usage {
                prompt_tokens: Scripted::PROMPT_TOKENS,
                completion_tokens: Scripted::COMPLETION_TOKENS,
                estimated: false
            }
        );
        assert_eq!(reply.finish_reason.as_deref(), Some("stop"));
        let got = fake.requests();
        assert_eq!(got[0].path, "/v1/chat/completions");
        assert_eq!(got[0].authorization.as_deref(), Some("Bearer sk-test"));
        assert_eq!(
            got[0].body["messages"][1]["content"],
            "stats.py:6 divides by len-1"
        );
        assert_eq!(got[0].body["max_tokens"], 64);
        fake.verify().unwrap();
    }

    #[tokio::test]
    async fn llama_cpp_body_and_missing_usage_and_fields() {
        let fake = FakeLlm::start().await;
        fake.push(Scripted::llama_cpp("from llama"));
        fake.push(Scripted::without_usage("no usage here"));
        fake.push(Scripted::raw(
            200,
            r#"{"choices":[{"message":{"content":"bare"},"finish_reason":"eos"}]}"#,
        ));
        let (c, _) = client(&fake);
        let a = c.complete(&request()).await.unwrap();
        assert_eq!(
            (a.text.as_str(), a.usage.prompt_tokens, a.usage.estimated),
            ("from llama", 31, false)
        );
        let b = c.complete(&request()).await.unwrap();
        assert!(
            b.usage.estimated && b.usage.prompt_tokens > 10 && b.usage.completion_tokens == 3,
            "{:?}",
            b.usage
        );
        let d = c.complete(&request()).await.unwrap();
        assert_eq!(
            (
                d.text.as_str(),
                d.model.as_str(),
                d.finish_reason.as_deref()
            ),
            ("bare", "gpt-4o-mini", Some("eos"))
        );
        fake.verify().unwrap();
    }

    #[tokio::test]
    async fn real_model_replies_come_back_byte_for_byte() {
        let fake = FakeLlm::start().await;
        for (_, text) in crate::llm::fake::samples::ALL {
            fake.push(Scripted::ok(text));
        }
        let (c, _) = client(&fake);
        for (name, text) in crate::llm::fake::samples::ALL {
            assert_eq!(c.complete(&request()).await.unwrap().text, *text, "{name}");
        }
        fake.verify().unwrap();
    }

    #[tokio::test]
    async fn parameters_refused_by_newer_openai_models_are_adapted_once() {
        let fake = FakeLlm::start().await;
        fake.push(Scripted::raw(400, r#"{"error":{"message":"Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.","type":"invalid_request_error","param":"max_tokens","code":"unsupported_parameter"}}"#));
        fake.push(Scripted::raw(400, r#"{"error":{"message":"Unsupported value: 'temperature' does not support 0.0 with this model. Only the default (1) value is supported.","type":"invalid_request_error","param":"temperature","code":"unsupported_value"}}"#));
        fake.push(Scripted::ok("<think>draft</think>\nanswer"))
            .push(Scripted::ok("again"));
        let (c, sleeper) = client(&fake);
        assert_eq!(c.complete(&request()).await.unwrap().text, "answer");
        assert_eq!(c.complete(&request()).await.unwrap().text, "again");
        let bodies: Vec<_> = fake.requests().into_iter().map(|r| r.body).collect();
        assert_eq!(
            (
                bodies[0]["max_tokens"].as_u64(),
                bodies[0]["temperature"].as_f64()
            ),
            (Some(64), Some(0.0))
        );
        assert!(bodies[1]["max_tokens"].is_null() && bodies[1]["max_completion_tokens"] == 64);
        for b in &bodies[2..] {
            assert!(
                b["temperature"].is_null() && b["max_completion_tokens"] == 64,
                "{b}"
            );
        }
        assert!(sleeper.waits().is_empty());
        fake.verify().unwrap();
    }

    #[tokio::test]
    async fn a_400_that_asks_for_nothing_new_is_final() {
        let fake = FakeLlm::start().await;
        let body = r#"{"error":{"message":"Unsupported parameter: 'max_tokens'. Use 'max_completion_tokens' instead."}}"#;
        fake.push(Scripted::raw(400, body))
            .push(Scripted::raw(400, body));
        let (c, _) = client(&fake);
        let err = c.complete(&request()).await.unwrap_err();
        assert!(matches!(err, LlmError::Http { status: 400, .. }), "{err}");
        assert_eq!(fake.requests().len(), 2);
        fake.verify().unwrap();
    }

    #[tokio::test]
    async fn truncated_reply_is_flagged() {
        let fake = FakeLlm::start().await;
        fake.push(Scripted::truncated("path/a.py\n<<<<<<< SEARCH\n    x ="));
        let (c, _) = client(&fake);
        assert!(c.complete(&request()).await.unwrap().truncated());
    }

    #[tokio::test]
    async fn retry_after_seconds_then_success() {
        let fake = FakeLlm::start().await;
        fake.push(Scripted::rate_limited("3"))
            .push(Scripted::ok("done"));
        let (c, sleeper) = client(&fake);
        assert_eq!(c.complete(&request()).await.unwrap().text, "done");
        assert_eq!(sleeper.waits(), [Duration::from_secs(3)]);
        assert_eq!(fake.requests().len(), 2);
        fake.verify().unwrap();
    }

    #[tokio::test]
    async fn retry_after_http_date_and_text_hint() {
        let fake = FakeLlm::start().await;
        let date = "Mon, 12 Jan 1970 13:46:47 GMT"; // now (1_000_000 s) + 7 s
        fake.push(Scripted::rate_limited(date));
        fake.push(Scripted::raw(429, r#"{"error":{"message":"Rate limit reached. Please try again in 1.5s.","type":"requests","code":"rate_limit_exceeded"}}"#));
        fake.push(Scripted::raw(503, r#"{"error":{"code":503,"message":"Loading model, retry in 2s","type":"unavailable_error"}}"#));
        fake.push(Scripted::ok("ok"));
        let (c, sleeper) = client(&fake);
        assert_eq!(c.complete(&request()).await.unwrap().text, "ok");
        assert_eq!(
            sleeper.waits(),
            [
                Duration::from_secs(7),
                Duration::from_millis(1500),
                Duration::from_secs(2)
            ]
        );
        fake.verify().unwrap();
    }

    #[tokio::test]
    async fn server_error_then_success_uses_backoff() {
        let fake = FakeLlm::start().await;
        fake.push(Scripted::server_error())
            .push(Scripted::server_error())
            .push(Scripted::ok("ok"));
        let (c, sleeper) = client(&fake);
        assert_eq!(c.complete(&request()).await.unwrap().text, "ok");
        assert_eq!(
            sleeper.waits(),
            [Duration::from_secs(1), Duration::from_secs(2)]
        );
    }

    #[tokio::test]
    async fn retries_run_out_with_a_clear_error() {
        let fake = FakeLlm::start().await;
        for _ in 0..5 {
            fake.push(Scripted::rate_limited("1"));
        }
        let (c, sleeper) = client(&fake);
        let err = c.complete(&request()).await.unwrap_err();
        assert_eq!(
            err.to_string().split(':').next().unwrap(),
            "the LLM endpoint kept answering 429 after 4 retries"
        );
        assert!(err.hint().contains("max_retries"), "{}", err.hint());
        assert_eq!(sleeper.waits().len(), 4);
        fake.verify().unwrap();
    }

    #[tokio::test]
    async fn retry_after_beyond_the_cap_stops_at_once() {
        let fake = FakeLlm::start().await;
        fake.push(Scripted::rate_limited("3600"));
        let (c, sleeper) = client(&fake);
        let err = c.complete(&request()).await.unwrap_err();
        assert!(matches!(err, LlmError::WaitTooLong { .. }), "{err}");
        assert!(sleeper.waits().is_empty());
    }

    #[tokio::test]
    async fn unauthorized_and_client_errors_are_not_retried() {
        let fake = FakeLlm::start().await;
        fake.push(Scripted::raw(
            401,
            r#"{"error":{"message":"Incorrect API key provided","type":"invalid_request_error"}}"#,
        ));
        fake.push(Scripted::raw(400, r#"{"error":{"code":400,"message":"the request exceeds the available context size","type":"invalid_request_error"}}"#));
        let (c, sleeper) = client(&fake);
        let err = c.complete(&request()).await.unwrap_err();
        assert!(err.hint().contains("OPENAI_API_KEY"), "{}", err.hint());
        let err = c.complete(&request()).await.unwrap_err();
        assert!(matches!(err, LlmError::Http { status: 400, .. }), "{err}");
        assert!(
            err.to_string()
                .contains("exceeds the available context size")
        );
        assert!(sleeper.waits().is_empty());
        fake.verify().unwrap();
    }

    #[tokio::test]
    async fn slow_reply_times_out() {
        let fake = FakeLlm::start().await;
        fake.push(Scripted::ok("late").after(Duration::from_secs(3)));
        let mut o = opts(&fake.base_url());
        o.timeout = Duration::from_millis(300);
        let c = OpenAiClient::new(o)
            .unwrap()
            .with_sleeper(Arc::new(RecordingSleeper::new(SystemTime::now())));
        let t = std::time::Instant::now();
        let err = c.complete(&request()).await.unwrap_err();
        assert!(matches!(err, LlmError::Timeout(_)), "{err}");
        assert!(t.elapsed() < Duration::from_secs(2));
        assert!(err.hint().contains("timeout_secs"));
    }

    fn streaming(fake: &FakeLlm, first_ms: u64, silence_ms: u64) -> OpenAiClient {
        let mut o = opts(&fake.base_url());
        o.stream = true;
        o.timeout = Duration::from_millis(first_ms);
        o.silence = Duration::from_millis(silence_ms);
        OpenAiClient::new(o)
            .unwrap()
            .with_sleeper(Arc::new(RecordingSleeper::new(SystemTime::now())))
    }

    #[tokio::test]
    async fn a_streamed_reply_times_out_on_silence_not_on_the_total() {
        let fake = FakeLlm::start().await;
        let lines: String = (1..=8)
            .map(|i| format!("line {i} of a slow reply\n"))
            .collect();
        // 8 lines 150 ms apart: 1.2 s in all, never 400 ms of silence
        fake.push(Scripted::ok(&lines).paced(Duration::from_millis(150)));
        // two lines, then 20 s of silence
        fake.push(Scripted::ok(&lines).stalling(2, Duration::from_secs(20)));
        // nothing for 1 s: the server still reads the prompt, past the first-token wait
        fake.push(Scripted::ok("late").after(Duration::from_secs(1)));
        let c = streaming(&fake, 600, 400);
        let reply = c.complete(&request()).await.unwrap();
        assert_eq!(reply.text, lines);
        assert_eq!(reply.usage.prompt_tokens, Scripted::PROMPT_TOKENS);
        assert_eq!(fake.requests()[0].body["stream"], true);
        let t = std::time::Instant::now();
        let err = c.complete(&request()).await.unwrap_err();
        assert!(
            matches!(err, LlmError::Silent { received, .. } if received > 0),
            "{err}"
        );
        assert!(t.elapsed() < Duration::from_secs(8), "{:?}", t.elapsed());
        assert!(err.hint().contains("silence_secs"), "{}", err.hint());
        let err = c.complete(&request()).await.unwrap_err();
        assert!(matches!(err, LlmError::Timeout(_)), "{err}");
    }

    #[tokio::test]
    async fn a_streamed_reply_closes_once_the_edit_is_complete_or_it_repeats() {
        let fake = FakeLlm::start().await;
        let rambling =
            "```python\ndef f():\n    return 1\n```\nThis works because...\nAlso note...\n";
        fake.push(Scripted::ok(rambling));
        let looping = format!("Cause: x\n{}", "    total = total + x\n".repeat(40));
        fake.push(Scripted::ok(&looping));
        let c = streaming(&fake, 5000, 5000);
        let mut req = request();
        req.done = crate::llm::Done::FencedBlock;
        let reply = c.complete(&req).await.unwrap();
        assert_eq!(reply.text, "```python\ndef f():\n    return 1\n```\n");
        assert_eq!(reply.finish_reason.as_deref(), Some("done"));
        let reply = c.complete(&request()).await.unwrap();
        assert_eq!(reply.finish_reason.as_deref(), Some("repeating"));
        assert!(reply.text.lines().count() < 12, "{}", reply.text);
    }

    #[tokio::test]
    async fn a_streamed_reply_tells_the_tokens_so_far_as_they_come() {
        let fake = FakeLlm::start().await;
        let lines: String = (1..=5).map(|i| format!("line {i}\n")).collect();
        fake.push(Scripted::ok(&lines).paced(Duration::from_millis(20)));
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut o = opts(&fake.base_url());
        o.stream = true;
        let log = seen.clone();
        o.on_tokens = Some(crate::llm::OnTokens(Arc::new(move |n| {
            log.lock().unwrap().push(n)
        })));
        let reply = OpenAiClient::new(o).unwrap().complete(&request()).await;
        assert_eq!(reply.unwrap().text, lines);
        let seen = seen.lock().unwrap().clone();
        assert!(seen.len() >= 5, "{seen:?}");
        assert!(seen.windows(2).all(|w| w[1] == w[0] + 1), "{seen:?}");
        assert_eq!(seen[0], 1);
    }

    #[tokio::test]
    async fn a_server_that_ignores_stream_is_read_whole() {
        let fake = FakeLlm::start().await;
        fake.push(Scripted::llama_cpp("plain json").unstreamed());
        let c = streaming(&fake, 2000, 2000);
        let mut req = request();
        req.seed = Some(42);
        assert_eq!(c.complete(&req).await.unwrap().text, "plain json");
        assert_eq!(fake.requests()[0].body["seed"], 42);
    }

    #[tokio::test]
    async fn connection_refused_hints_at_the_base_url() {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let mut o = opts(&format!("http://127.0.0.1:{port}/v1"));
        o.retry.max_retries = 2;
        let sleeper = Arc::new(RecordingSleeper::new(SystemTime::now()));
        let c = OpenAiClient::new(o).unwrap().with_sleeper(sleeper.clone());
        let err = c.complete(&request()).await.unwrap_err();
        assert!(matches!(err, LlmError::Connect { .. }), "{err}");
        assert!(err.to_string().contains("gave up after 2 retries"), "{err}");
        assert!(err.hint().contains("OPENAI_BASE_URL"));
        assert_eq!(sleeper.waits().len(), 2);
    }

    #[tokio::test]
    async fn not_json_is_a_bad_reply() {
        let fake = FakeLlm::start().await;
        fake.push(Scripted::raw(200, "<html>proxy login</html>"));
        let (c, _) = client(&fake);
        let err = c.complete(&request()).await.unwrap_err();
        assert!(matches!(err, LlmError::BadReply { .. }), "{err}");
        assert!(err.hint().contains("base_url"));
    }
}
