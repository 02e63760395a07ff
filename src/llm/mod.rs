//! The LLM stage: one [`Provider`] trait and what sits behind it.
//!
//! `client` talks to any OpenAI-compatible endpoint (OpenAI, Ollama, llama.cpp, vLLM) with
//! plain reqwest and lenient types; `retry` owns the 429/5xx policy and the injected
//! sleeper; `meter` counts tokens and cost against the per-run budget; `cassette` records
//! and replays exchanges; `prompts` renders the templates in `prompts/`; `tokens` counts
//! tokens offline. `fake` is an OpenAI-compatible test server used by unit and
//! integration tests (test support: compiled only for tests and the `test-support` feature). Nothing here touches the repository's files.

pub mod cassette;
pub mod client;
mod error;
#[cfg(any(test, feature = "test-support"))]
pub mod fake;
pub mod language;
pub mod meter;
pub mod prompts;
pub mod retry;
pub mod sizing;
pub mod stream;
pub mod tokens;
mod wire;

use std::future::Future;
use std::pin::Pin;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

pub use cassette::{RecordingProvider, ReplayProvider};
pub use client::{ClientOptions, OpenAiClient};
pub use error::LlmError;
pub use language::Language;
pub use meter::{Budget, Meter, MeteredProvider, Totals};
pub use prompts::{Prompts, Template};
pub use retry::{RetryPolicy, Sleeper, TokioSleeper};

/// A boxed future, so that [`Provider`] stays object-safe (`Arc<dyn Provider>`).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// One chat exchange as the pipeline asks for it: a system and a user message.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChatRequest {
    pub system: String,
    pub user: String,
    pub max_tokens: u32,
    pub temperature: f32,
    /// What the call is for: `diagnosis`, `patch` or `retry`. Recorded in cassettes.
    pub purpose: String,
    /// Sampling seed (`[llm] seed`); `None`: not sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<i64>,
    /// When a streamed reply holds all that is wanted and can be closed early.
    #[serde(default, skip_serializing_if = "Done::is_never")]
    pub done: Done,
}

/// Told the number of tokens streamed so far, as a reply comes in (for a progress display).
#[derive(Clone)]
pub struct OnTokens(pub std::sync::Arc<dyn Fn(u64) + Send + Sync>);

impl std::fmt::Debug for OnTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OnTokens(..)")
    }
}

/// When a streamed reply is complete before the model stops on its own.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Done {
    /// Read until the model stops.
    #[default]
    Never,
    /// After the first fenced code block is closed (function and whole-file edits).
    FencedBlock,
    /// After a `>>>>>>> REPLACE` line followed by two lines of prose and no new block (the
    /// edit blocks are over; the model explains).
    EditBlocks,
}

impl Done {
    pub fn is_never(&self) -> bool {
        *self == Done::Never
    }

    /// True when `text` (the reply so far) already holds the complete edit.
    pub fn reached(self, text: &str) -> bool {
        match self {
            Done::Never => false,
            Done::FencedBlock => {
                let fences = text
                    .lines()
                    .filter(|l| l.trim_start().starts_with("```"))
                    .count();
                fences >= 2 && text.ends_with('\n')
            }
            Done::EditBlocks => {
                let Some(at) = text.rfind(">>>>>>> REPLACE") else {
                    return false;
                };
                let rest = &text[at..];
                let prose = rest
                    .lines()
                    .skip(1)
                    .filter(|l| l.split_whitespace().count() >= 4)
                    .count();
                text.ends_with('\n') && !rest.contains("<<<<<<<") && prose >= 2
            }
        }
    }
}

/// The request with every secret masked, in the system and user messages alike (source
/// windows, test-output tails and earlier patches, not only log excerpts), by the same
/// masker as the logs; and how many were masked.
pub fn mask_request(req: &ChatRequest) -> (ChatRequest, u32) {
    let (system, a) = crate::logs::secrets::mask_text(&req.system);
    let (user, b) = crate::logs::secrets::mask_text(&req.user);
    (
        ChatRequest {
            system,
            user,
            ..req.clone()
        },
        a + b,
    )
}

/// Tokens used by one call. `estimated` is true when the server sent no `usage` block and
/// the counts come from [`tokens::count`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    #[serde(default)]
    pub estimated: bool,
}

/// The model's answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChatReply {
    pub text: String,
    pub usage: Usage,
    pub model: String,
    /// As the server said it; `"length"` means the reply was cut at `max_tokens`.
    pub finish_reason: Option<String>,
}

impl ChatReply {
    /// True when the server stopped because `max_tokens` ran out.
    pub fn truncated(&self) -> bool {
        self.finish_reason.as_deref() == Some("length")
    }
}

/// Anything that answers chat requests: the HTTP client, a cassette, a metered wrapper.
pub trait Provider: Send + Sync {
    fn complete<'a>(&'a self, req: &'a ChatRequest) -> BoxFuture<'a, Result<ChatReply, LlmError>>;
}

impl<P: Provider + ?Sized> Provider for std::sync::Arc<P> {
    fn complete<'a>(&'a self, req: &'a ChatRequest) -> BoxFuture<'a, Result<ChatReply, LlmError>> {
        (**self).complete(req)
    }
}

impl<P: Provider + ?Sized> Provider for Box<P> {
    fn complete<'a>(&'a self, req: &'a ChatRequest) -> BoxFuture<'a, Result<ChatReply, LlmError>> {
        (**self).complete(req)
    }
}

/// Installs ring as rustls' crypto provider once per process. Must run before any reqwest
/// client is built (reqwest is built with `rustls-no-provider`, see shared/CRATES.md).
pub fn init_tls() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        // Err means another provider was installed first, which serves as well.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}
