//! The chat-completions wire format, read leniently.
//!
//! OpenAI-compatible servers differ in what they leave out. Every field we read is optional
//! here, and odd values are kept as given, so that these all parse (see shared/CRATES.md §2
//! on async-openai, which rejects each of them):
//! - llama.cpp: extra `timings`, integer error `code` (`{"error":{"code":400,...}}`);
//! - Ollama / small servers: no `id`, `object`, `created`, or no `usage` at all;
//! - any `finish_reason` string (`"eos"`, `null`);
//! - `content` as a string or as an array of `{type: text, text}` parts;
//! - error bodies as `{"error":{"message":..}}`, `{"error":"..."}`, `{"message":..}` or plain text.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The request body for `POST {base}/chat/completions`.
#[derive(Debug, Serialize)]
pub(crate) struct WireRequest<'a> {
    pub model: &'a str,
    pub messages: [WireMessageOut<'a>; 2],
    /// Left out for models that accept only their default (OpenAI's reasoning models).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    /// What OpenAI's newer models take instead of `max_tokens`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_completion_tokens: Option<u32>,
    /// Sampling seed (llama.cpp, vLLM and OpenAI honour it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<i64>,
    pub stream: bool,
    /// Streaming: ask OpenAI for the usage in the last event.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream_options: Option<StreamOptions>,
}

#[derive(Debug, Serialize)]
pub(crate) struct StreamOptions {
    pub include_usage: bool,
}

#[derive(Debug, Serialize)]
pub(crate) struct WireMessageOut<'a> {
    pub role: &'a str,
    pub content: &'a str,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct WireReply {
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    pub choices: Vec<WireChoice>,
    #[serde(default)]
    pub usage: Option<WireUsage>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct WireChoice {
    #[serde(default)]
    pub message: Option<WireMessageIn>,
    /// Completions-style servers put the text here.
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub finish_reason: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct WireMessageIn {
    #[serde(default)]
    pub content: Option<Value>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct WireUsage {
    #[serde(default)]
    pub prompt_tokens: Option<u64>,
    #[serde(default)]
    pub completion_tokens: Option<u64>,
}

impl WireChoice {
    /// The reply text, whichever shape the server used.
    pub fn text(&self) -> Option<String> {
        let from_message = self
            .message
            .as_ref()
            .and_then(|m| m.content.as_ref())
            .and_then(content_text);
        from_message.or_else(|| self.text.clone())
    }
}

/// `content` is a string, or an array of parts whose `text` fields are joined.
fn content_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Array(parts) => {
            let texts: Vec<&str> = parts
                .iter()
                .filter_map(|p| p.get("text").and_then(Value::as_str))
                .collect();
            (!texts.is_empty()).then(|| texts.concat())
        }
        _ => None,
    }
}

/// The human-readable part of an error body, whatever its shape, cut to 500 characters.
pub(crate) fn error_message(body: &str) -> String {
    let parsed: Option<Value> = serde_json::from_str(body).ok();
    let message = parsed
        .as_ref()
        .and_then(message_in_json)
        .unwrap_or_else(|| body.trim().to_string());
    let message = if message.is_empty() {
        "(empty body)".to_string()
    } else {
        message
    };
    cut(&message, 500)
}

fn message_in_json(v: &Value) -> Option<String> {
    let err = v.get("error").unwrap_or(v);
    if let Some(s) = err.as_str() {
        return Some(s.to_string());
    }
    err.get("message")
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// The reply without a leading `<think>…</think>` block (reasoning models served by
/// Ollama or llama.cpp put their chain of thought there; it may hold draft edits).
pub(crate) fn strip_think(text: String) -> String {
    let t = text.trim_start();
    match t
        .strip_prefix("<think>")
        .and_then(|r| r.split_once("</think>"))
    {
        Some((_, answer)) => answer.trim_start().to_string(),
        None => text,
    }
}

/// At most `max` characters of `s`, with `…` when cut.
pub(crate) fn cut(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn llama_cpp_reply_with_timings_and_no_object_parses() {
        let body = r#"{"choices":[{"finish_reason":"stop","index":0,"message":{"role":"assistant","content":"hi"}}],
            "model":"qwen","usage":{"completion_tokens":1,"prompt_tokens":5,"total_tokens":6},
            "timings":{"prompt_n":5,"predicted_per_second":10.7}}"#;
        let r: WireReply = serde_json::from_str(body).unwrap();
        assert_eq!(r.choices[0].text().as_deref(), Some("hi"));
        assert_eq!(r.usage.unwrap().prompt_tokens, Some(5));
    }

    #[test]
    fn odd_finish_reason_null_usage_and_parts_parse() {
        let body = r#"{"choices":[{"finish_reason":"eos","message":{"content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]}}],"usage":null}"#;
        let r: WireReply = serde_json::from_str(body).unwrap();
        assert_eq!(r.choices[0].text().as_deref(), Some("ab"));
        assert_eq!(r.choices[0].finish_reason.as_deref(), Some("eos"));
        assert!(r.usage.is_none());
    }

    #[test]
    fn think_blocks_are_dropped() {
        let t = "<think>\nmaybe edit x\n<<<<<<< SEARCH\n</think>\n\nCause: y".to_string();
        assert_eq!(strip_think(t), "Cause: y");
        assert_eq!(strip_think("no think".into()), "no think");
        assert_eq!(
            strip_think("<think>never closed".into()),
            "<think>never closed"
        );
    }

    #[test]
    fn error_messages_of_every_shape() {
        assert_eq!(
            error_message(
                r#"{"error":{"code":400,"message":"too long","type":"invalid_request_error"}}"#
            ),
            "too long"
        );
        assert_eq!(
            error_message(r#"{"error":"model 'x' not found"}"#),
            "model 'x' not found"
        );
        assert_eq!(error_message(r#"{"message":"nope"}"#), "nope");
        assert_eq!(error_message("Bad Gateway\n"), "Bad Gateway");
        assert_eq!(error_message(""), "(empty body)");
        assert!(error_message(&"x".repeat(2000)).chars().count() <= 501);
    }
}
