//! Streamed replies (server-sent events, `stream: true`): read token by token, give up on
//! silence rather than on the total time (a correct 500-token answer takes a minute on two
//! cores), and stop early once the edit is complete ([`Done`]) or the model starts
//! repeating itself.

use std::time::Duration;

use serde_json::Value;

use super::wire::strip_think;
use super::{ChatReply, ChatRequest, LlmError, OnTokens, Usage, tokens};

/// The finish reason recorded when selfheal closed the stream because the edit was complete.
pub const FINISH_DONE: &str = "done";
/// The finish reason recorded when selfheal closed the stream because the reply repeated itself.
pub const FINISH_REPEATING: &str = "repeating";

/// What one `data:` event carried.
#[derive(Debug, Default, PartialEq)]
struct Event {
    content: String,
    finish_reason: Option<String>,
    usage: Option<(u64, u64)>,
    model: Option<String>,
    done: bool,
}

fn parse_event(data: &str) -> Option<Event> {
    let data = data.trim();
    if data == "[DONE]" {
        return Some(Event {
            done: true,
            ..Event::default()
        });
    }
    let v: Value = serde_json::from_str(data).ok()?;
    let choice = v.get("choices").and_then(|c| c.get(0));
    let content = choice
        .and_then(|c| c.get("delta"))
        .and_then(|d| d.get("content"))
        .and_then(Value::as_str)
        .or_else(|| choice.and_then(|c| c.get("text")).and_then(Value::as_str))
        .unwrap_or("")
        .to_string();
    let usage = v
        .get("usage")
        .filter(|u| !u.is_null())
        .and_then(|u| {
            Some((
                u.get("prompt_tokens")?.as_u64()?,
                u.get("completion_tokens")?.as_u64()?,
            ))
        })
        .or_else(|| {
            // llama-server's own counts
            let t = v.get("timings")?;
            Some((
                t.get("prompt_n")?.as_u64()?,
                t.get("predicted_n")?.as_u64()?,
            ))
        });
    Some(Event {
        content,
        finish_reason: choice
            .and_then(|c| c.get("finish_reason"))
            .and_then(Value::as_str)
            .map(str::to_string),
        usage,
        model: v
            .get("model")
            .and_then(Value::as_str)
            .filter(|m| !m.is_empty())
            .map(str::to_string),
        done: false,
    })
}

/// Reads a streamed reply. `waits.0` bounds the wait for the first token (the server reads
/// the prompt first), `waits.1` the wait between tokens after that. `on_tokens` is told
/// the count of tokens so far (one per content event, as OpenAI and llama.cpp send them).
pub async fn read(
    mut resp: reqwest::Response,
    req: &ChatRequest,
    default_model: &str,
    (first, silence): (Duration, Duration),
    on_tokens: Option<&OnTokens>,
) -> Result<ChatReply, LlmError> {
    let mut received: u64 = 0;
    let mut buf: Vec<u8> = Vec::new();
    let mut text = String::new();
    let mut finish: Option<String> = None;
    let mut usage: Option<(u64, u64)> = None;
    let mut model: Option<String> = None;
    'read: loop {
        let wait = if text.is_empty() { first } else { silence };
        let chunk = match tokio::time::timeout(wait, resp.chunk()).await {
            Err(_) => {
                return Err(LlmError::Silent {
                    secs: wait.as_secs(),
                    received: tokens::count(&text),
                });
            }
            Ok(Err(e)) => {
                return Err(LlmError::Connect {
                    url: String::new(),
                    message: format!("the stream broke: {e}"),
                });
            }
            Ok(Ok(None)) => break,
            Ok(Ok(Some(c))) => c,
        };
        buf.extend_from_slice(&chunk);
        while let Some(nl) = buf.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = buf.drain(..=nl).collect();
            let line = String::from_utf8_lossy(&line);
            let Some(data) = line.trim_end().strip_prefix("data:") else {
                continue;
            };
            let Some(ev) = parse_event(data) else {
                continue;
            };
            if ev.done {
                break 'read;
            }
            if !ev.content.is_empty() {
                received += 1;
                if let Some(tell) = on_tokens {
                    (tell.0)(received);
                }
            }
            text.push_str(&ev.content);
            finish = ev.finish_reason.or(finish);
            usage = ev.usage.or(usage);
            model = ev.model.or(model);
            if finish.is_none() && req.done.reached(&text) {
                finish = Some(FINISH_DONE.into());
                break 'read;
            }
            if finish.is_none() && repeating(&text) {
                finish = Some(FINISH_REPEATING.into());
                break 'read;
            }
        }
    }
    let text = strip_think(text);
    if text.trim().is_empty() {
        return Err(LlmError::EmptyReply {
            finish_reason: finish,
        });
    }
    let usage = match usage {
        Some((p, c)) => Usage {
            prompt_tokens: p,
            completion_tokens: c,
            estimated: false,
        },
        None => Usage {
            prompt_tokens: tokens::chat_prompt(&req.system, &req.user) as u64,
            completion_tokens: tokens::count(&text) as u64,
            estimated: true,
        },
    };
    Ok(ChatReply {
        text,
        usage,
        model: model.unwrap_or_else(|| default_model.to_string()),
        finish_reason: finish,
    })
}

/// True when the reply's last lines are one block said over and over: a line of some
/// substance 6 times in a row, or a block of 2 to 8 lines 3 times in a row.
pub fn repeating(text: &str) -> bool {
    let complete = match text.rfind('\n') {
        Some(i) => &text[..i],
        None => return false,
    };
    let lines: Vec<&str> = complete.lines().map(str::trim_end).collect();
    (1..=8).any(|k| {
        let times = if k == 1 { 6 } else { 3 };
        if lines.len() < k * times {
            return false;
        }
        let tail = &lines[lines.len() - k * times..];
        let block = &tail[..k];
        let substance: usize = block.iter().map(|l| l.trim().len()).sum();
        substance >= 12 && tail.chunks(k).all(|c| c == block)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::Done;

    #[test]
    fn events_of_openai_and_llama_cpp() {
        let e = parse_event(r#"{"choices":[{"index":0,"delta":{"content":"def f"},"finish_reason":null}],"model":"m"}"#).unwrap();
        assert_eq!(
            (e.content.as_str(), e.model.as_deref()),
            ("def f", Some("m"))
        );
        let e = parse_event(r#"{"choices":[{"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":3}}"#).unwrap();
        assert_eq!(
            (e.finish_reason.as_deref(), e.usage),
            (Some("stop"), Some((9, 3)))
        );
        let e = parse_event(r#"{"choices":[{"delta":{},"finish_reason":"stop"}],"timings":{"prompt_n":31,"predicted_n":5}}"#).unwrap();
        assert_eq!(e.usage, Some((31, 5)));
        assert!(parse_event(" [DONE]").unwrap().done);
        assert!(parse_event("not json").is_none());
    }

    #[test]
    fn repetition_is_caught_but_code_is_not() {
        let looping = "Cause: x\n".to_string() + &"    return total / len(xs)\n".repeat(6);
        assert!(repeating(&looping));
        let block = "if a:\n    b = compute(a)\n".repeat(3);
        assert!(repeating(&format!("start\n{block}")));
        let code = "fn f() {\n    }\n}\n}\n}\n}\n}\n}\n";
        assert!(!repeating(code), "short closing lines are not rambling");
        assert!(!repeating("one line without newline"));
        let normal = "def a():\n    return 1\n\ndef b():\n    return 2\n";
        assert!(!repeating(normal));
    }

    #[test]
    fn done_when_the_edit_is_complete() {
        assert!(!Done::FencedBlock.reached("Cause: x\n```python\ndef f():\n"));
        assert!(Done::FencedBlock.reached("Cause: x\n```python\ndef f():\n    pass\n```\n"));
        assert!(!Done::Never.reached("```\nx\n```\n"));
        let block = "a.py\n<<<<<<< SEARCH\nx\n=======\ny\n>>>>>>> REPLACE\n";
        assert!(!Done::EditBlocks.reached(block));
        assert!(!Done::EditBlocks.reached(&format!("{block}b.py\n")));
        let next = format!(
            "{block}\nNow fix the caller in the other file:\nb.py\n<<<<<<< SEARCH\nthe old line of code here\n"
        );
        assert!(!Done::EditBlocks.reached(&next), "a second block is coming");
        assert!(Done::EditBlocks.reached(&format!(
            "{block}\nThis change makes the loop include the last window.\nIt also keeps the tests as they are.\n"
        )));
    }
}
