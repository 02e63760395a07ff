//! The LLM stage's errors, each with a hint of what to do next.

use std::time::Duration;

use crate::error::Hint;

/// Everything that can go wrong asking the model. Its [`Hint`] says what to do next;
/// [`LlmError::Budget`] is the clean stop when the run's token or cost cap is reached.
#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    #[error("cannot connect to the LLM endpoint {url}: {message}")]
    Connect { url: String, message: String },
    #[error("the LLM endpoint {url} answered {status}: {message}")]
    Unauthorized {
        url: String,
        status: u16,
        message: String,
    },
    #[error("the LLM endpoint answered {status}: {message}")]
    Http { status: u16, message: String },
    #[error("the LLM endpoint kept answering {last} after {retries} retries: {message}")]
    RetriesExhausted {
        last: String,
        retries: u32,
        message: String,
    },
    #[error(
        "the LLM endpoint asked to wait {wait:?} before retrying, more than the {max:?} allowed"
    )]
    WaitTooLong { wait: Duration, max: Duration },
    #[error("the LLM endpoint did not answer within {0:?}")]
    Timeout(Duration),
    #[error("the LLM endpoint sent a reply that is not a chat completion: {message}")]
    BadReply { message: String, body: String },
    #[error("the LLM reply held no text (finish_reason: {finish_reason:?})")]
    EmptyReply { finish_reason: Option<String> },
    #[error("the run's LLM budget is spent: {what}")]
    Budget { what: String, hint: String },
    #[error("cassette {path}: {message}")]
    Cassette { path: String, message: String },
    #[error("replayed request #{index} differs from cassette {path}: {diff}")]
    CassetteMismatch {
        index: usize,
        path: String,
        diff: String,
    },
    #[error("cassette {dir} has only {recorded} exchanges but request #{index} was made")]
    CassetteExhausted {
        dir: String,
        recorded: usize,
        index: usize,
    },
    #[error("prompt template {name}: {message}")]
    Prompt { name: String, message: String },
}

impl LlmError {
    /// True for the errors worth another try after a wait: 429, 5xx, connection trouble.
    pub fn is_transient(&self) -> bool {
        matches!(self, LlmError::Connect { .. })
            || matches!(self, LlmError::Http { status, .. } if *status == 429 || *status >= 500)
    }
}

impl Hint for LlmError {
    fn hint(&self) -> String {
        match self {
            LlmError::Connect { .. } => {
                "check that the server runs and set OPENAI_BASE_URL (or [llm] base_url) to its /v1 URL".into()
            }
            LlmError::Unauthorized { .. } => {
                "set OPENAI_API_KEY (or [llm] api_key) to a key this endpoint accepts".into()
            }
            LlmError::Http { status: 404, .. } => {
                "check [llm] base_url (it usually ends in /v1) and [llm] model".into()
            }
            LlmError::Http { status: 400, .. } => {
                "the prompt may exceed the model's context; lower [llm] context_tokens or max_tokens".into()
            }
            LlmError::Http { .. } => "check the endpoint's logs; the request was not retried".into(),
            LlmError::RetriesExhausted { .. } => {
                "wait and run again, or raise [llm] max_retries / max_retry_wait_secs".into()
            }
            LlmError::WaitTooLong { .. } => {
                "the rate limit resets later; run again then, or raise [llm] max_retry_wait_secs".into()
            }
            LlmError::Timeout(_) => "raise [llm] timeout_secs, or lower max_tokens for slow local models".into(),
            LlmError::BadReply { .. } | LlmError::EmptyReply { .. } => {
                "check that [llm] base_url points at an OpenAI-compatible /v1 endpoint".into()
            }
            LlmError::Budget { hint, .. } => hint.clone(),
            LlmError::Cassette { .. } => "check the --record/--replay directory".into(),
            LlmError::CassetteMismatch { .. } => {
                "the prompt changed since recording; record the cassette again with --record".into()
            }
            LlmError::CassetteExhausted { .. } => "record the cassette again with --record".into(),
            LlmError::Prompt { .. } => "fix the template in [llm] prompts_dir, or unset it to use the built-in one".into(),
        }
    }
}

impl From<LlmError> for crate::error::Error {
    fn from(e: LlmError) -> Self {
        crate::error::Error::from_stage(crate::error::exit::ERROR, e)
    }
}
