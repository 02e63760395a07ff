//! When and how long to wait before asking the LLM endpoint again.
//!
//! 429, 5xx and connection errors are retried at most `max_retries` times. The wait is what
//! the server asked for, in this order: the `retry-after-ms` header (OpenAI), `Retry-After`
//! as seconds or as an HTTP-date (RFC 9110 §10.2.3), then a "retry in 2s" / "try again in
//! 1.5s" / `"retryDelay": "37s"` hint in the error body (OpenAI and Gemini put it there).
//! Otherwise exponential backoff from 1 s. A wait is capped at `max_retry_wait_secs`; when the
//! server asks for more than that we stop at once rather than hammer it.
//! Waits go through a [`Sleeper`] so tests never sleep for real.

use std::sync::LazyLock;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use regex::Regex;

use super::{BoxFuture, LlmError};

/// The clock and the sleep, injected so tests can run retries instantly.
pub trait Sleeper: Send + Sync {
    fn sleep(&self, wait: Duration) -> BoxFuture<'static, ()>;
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// Sleeps for real with tokio.
#[derive(Clone, Copy, Debug, Default)]
pub struct TokioSleeper;

impl Sleeper for TokioSleeper {
    fn sleep(&self, wait: Duration) -> BoxFuture<'static, ()> {
        Box::pin(tokio::time::sleep(wait))
    }
}

/// Returns at once and remembers each wait; `now` is fixed. For tests.
#[derive(Debug)]
pub struct RecordingSleeper {
    pub now: SystemTime,
    waits: Mutex<Vec<Duration>>,
}

impl RecordingSleeper {
    pub fn new(now: SystemTime) -> Self {
        RecordingSleeper {
            now,
            waits: Mutex::new(Vec::new()),
        }
    }
    /// The waits asked for so far.
    pub fn waits(&self) -> Vec<Duration> {
        self.waits.lock().expect("sleeper lock").clone()
    }
}

impl Sleeper for RecordingSleeper {
    fn sleep(&self, wait: Duration) -> BoxFuture<'static, ()> {
        self.waits.lock().expect("sleeper lock").push(wait);
        Box::pin(std::future::ready(()))
    }
    fn now(&self) -> SystemTime {
        self.now
    }
}

/// How many retries and how long a wait may be.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RetryPolicy {
    pub max_retries: u32,
    pub max_wait: Duration,
    /// The first backoff step; doubled on each retry.
    pub base: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 4,
            max_wait: Duration::from_secs(60),
            base: Duration::from_secs(1),
        }
    }
}

impl RetryPolicy {
    /// The wait before retry number `retry` (0-based): the server's hint, else backoff.
    /// Errs when the server asks for longer than `max_wait`.
    pub fn delay(&self, retry: u32, asked: Option<Duration>) -> Result<Duration, LlmError> {
        match asked {
            Some(wait) if wait > self.max_wait => Err(LlmError::WaitTooLong {
                wait,
                max: self.max_wait,
            }),
            Some(wait) => Ok(wait),
            None => Ok(self.backoff(retry)),
        }
    }

    fn backoff(&self, retry: u32) -> Duration {
        let factor = 1u32.checked_shl(retry.min(16)).unwrap_or(u32::MAX);
        self.base.saturating_mul(factor).min(self.max_wait)
    }
}

/// The wait a server asked for, from its headers and error body. `now` is for HTTP-dates.
pub fn asked_wait(
    headers: &reqwest::header::HeaderMap,
    body: &str,
    now: SystemTime,
) -> Option<Duration> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(ms) = header("retry-after-ms").and_then(|v| v.trim().parse::<f64>().ok()) {
        return duration_from_secs(ms / 1000.0);
    }
    header("retry-after")
        .and_then(|v| parse_retry_after(v, now))
        .or_else(|| wait_in_text(body))
}

/// `Retry-After: 3`, `Retry-After: 1.5` or `Retry-After: Wed, 21 Oct 2015 07:28:00 GMT`.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<f64>() {
        return duration_from_secs(secs);
    }
    let at = crate::date::parse_http_date(value)?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

static WAIT_IN_TEXT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?i)(?:(?:retry|try again)\s+(?:in|after)\s+|"retryDelay"\s*:\s*")(\d+(?:\.\d+)?)\s*(ms|milliseconds?|s|secs?|seconds?|m|mins?|minutes?)\b"#,
    )
    .expect("valid regex")
});

/// "Please try again in 1.5s", "retry in 2 s", "Retry after 20ms", `"retryDelay": "37s"`.
pub fn wait_in_text(text: &str) -> Option<Duration> {
    let caps = WAIT_IN_TEXT.captures(text)?;
    let n: f64 = caps[1].parse().ok()?;
    let unit = caps[2].to_ascii_lowercase();
    let secs = match unit.as_str() {
        u if u.starts_with("ms") || u.starts_with("milli") => n / 1000.0,
        u if u.starts_with('m') => n * 60.0,
        _ => n,
    };
    duration_from_secs(secs)
}

fn duration_from_secs(secs: f64) -> Option<Duration> {
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(1e9)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Hint;
    use reqwest::header::{HeaderMap, HeaderValue};
    use std::time::UNIX_EPOCH;

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn retry_after_seconds_fraction_and_date() {
        let now = at(784_111_770);
        assert_eq!(parse_retry_after("3", now), Some(Duration::from_secs(3)));
        assert_eq!(
            parse_retry_after(" 1.5 ", now),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", at(784_111_800)),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("-4", now), None);
    }

    #[test]
    fn waits_named_in_error_text() {
        let t = "Rate limit reached for gpt-4o-mini. Please try again in 1.5s. Visit https://...";
        assert_eq!(wait_in_text(t), Some(Duration::from_millis(1500)));
        assert_eq!(
            wait_in_text("server busy, retry in 2s"),
            Some(Duration::from_secs(2))
        );
        assert_eq!(
            wait_in_text("Please retry after 20ms"),
            Some(Duration::from_millis(20))
        );
        assert_eq!(
            wait_in_text(r#"{"retryDelay": "37s"}"#),
            Some(Duration::from_secs(37))
        );
        assert_eq!(
            wait_in_text("try again in 1 minute"),
            Some(Duration::from_secs(60))
        );
        assert_eq!(wait_in_text("quota exceeded"), None);
    }

    #[test]
    fn header_order_ms_then_retry_after_then_body() {
        let now = at(0);
        let mut h = HeaderMap::new();
        assert_eq!(
            asked_wait(&h, "try again in 4s", now),
            Some(Duration::from_secs(4))
        );
        h.insert("retry-after", HeaderValue::from_static("2"));
        assert_eq!(
            asked_wait(&h, "try again in 4s", now),
            Some(Duration::from_secs(2))
        );
        h.insert("retry-after-ms", HeaderValue::from_static("250"));
        assert_eq!(asked_wait(&h, "", now), Some(Duration::from_millis(250)));
    }

    #[test]
    fn backoff_doubles_and_is_capped_and_long_asks_stop() {
        let p = RetryPolicy {
            max_retries: 4,
            max_wait: Duration::from_secs(5),
            base: Duration::from_secs(1),
        };
        let waits: Vec<u64> = (0..5)
            .map(|r| p.delay(r, None).unwrap().as_secs())
            .collect();
        assert_eq!(waits, [1, 2, 4, 5, 5]);
        assert_eq!(
            p.delay(0, Some(Duration::from_secs(3))).unwrap(),
            Duration::from_secs(3)
        );
        let err = p.delay(0, Some(Duration::from_secs(3600))).unwrap_err();
        assert!(matches!(err, LlmError::WaitTooLong { .. }), "{err}");
        assert!(err.hint().contains("max_retry_wait_secs"));
        assert_eq!(p.delay(40, None).unwrap(), Duration::from_secs(5));
    }
}
