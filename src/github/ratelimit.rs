//! Reading GitHub's rate-limit signals (shared/github-api/rate-limits.json) into a decision:
//! retry after a wait, or give up. Pure: no I/O, no clock reads; `now` is passed in.
//!
//! The order follows the contract's `secondary_limit_exceeded.rule`: `retry-after` first,
//! then `x-ratelimit-remaining: 0` with `x-ratelimit-reset`, then the secondary-limit message
//! (at least a minute, doubling). A 403 with none of these is a permission error, never retried.

use reqwest::StatusCode;
use reqwest::header::HeaderMap;

/// What to do with one answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// A final answer (success, or an error the caller reports).
    Done,
    /// Rate limited: try again after this many seconds.
    RateLimited { wait_secs: u64 },
    /// A server error worth retrying (idempotent requests only).
    ServerError { wait_secs: u64 },
}

/// The first wait on a secondary limit without `retry-after` ("wait at least one minute").
pub const SECONDARY_MIN_WAIT: u64 = 60;

/// Classifies a response. `attempt` starts at 0 and drives the backoff.
pub fn classify(
    status: StatusCode,
    headers: &HeaderMap,
    body: &str,
    now_epoch: u64,
    attempt: u32,
) -> Verdict {
    let code = status.as_u16();
    if code == 403 || code == 429 {
        return match limit_wait(headers, body, now_epoch, attempt) {
            Some(wait_secs) => Verdict::RateLimited { wait_secs },
            None if code == 429 => Verdict::RateLimited {
                wait_secs: backoff(SECONDARY_MIN_WAIT, attempt),
            },
            None => Verdict::Done,
        };
    }
    if status.is_server_error() {
        return Verdict::ServerError {
            wait_secs: backoff(1, attempt),
        };
    }
    Verdict::Done
}

/// The wait a rate-limited answer asks for, if it is one.
fn limit_wait(headers: &HeaderMap, body: &str, now_epoch: u64, attempt: u32) -> Option<u64> {
    if let Some(secs) = header_u64(headers, "retry-after") {
        return Some(secs.max(1));
    }
    if header_u64(headers, "x-ratelimit-remaining") == Some(0) {
        let reset = header_u64(headers, "x-ratelimit-reset").unwrap_or(now_epoch + 60);
        return Some(reset.saturating_sub(now_epoch).max(1));
    }
    if is_secondary_message(body) {
        return Some(backoff(SECONDARY_MIN_WAIT, attempt));
    }
    None
}

/// "You have exceeded a secondary rate limit…" and the older "abuse detection" wording.
pub fn is_secondary_message(body: &str) -> bool {
    let lower = body.to_ascii_lowercase();
    lower.contains("secondary rate limit") || lower.contains("abuse detection")
}

/// `base · 2^attempt`, capped so the shift cannot overflow.
fn backoff(base: u64, attempt: u32) -> u64 {
    base.saturating_mul(1u64 << attempt.min(16))
}

fn header_u64(headers: &HeaderMap, name: &str) -> Option<u64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }
    const SECONDARY: &str = r#"{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again."}"#;

    #[test]
    fn retry_after_wins() {
        let h = headers(&[("retry-after", "60"), ("x-ratelimit-remaining", "4000")]);
        let v = classify(StatusCode::FORBIDDEN, &h, SECONDARY, 0, 0);
        assert_eq!(v, Verdict::RateLimited { wait_secs: 60 });
    }

    #[test]
    fn primary_limit_waits_until_reset() {
        let h = headers(&[
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset", "1000120"),
        ]);
        let v = classify(StatusCode::FORBIDDEN, &h, "{}", 1_000_000, 0);
        assert_eq!(v, Verdict::RateLimited { wait_secs: 120 });
    }

    #[test]
    fn secondary_without_headers_waits_a_minute_then_doubles() {
        // KnpLabs/php-github-api#1072: a secondary 403 may carry a non-zero remaining.
        let h = headers(&[("x-ratelimit-remaining", "4999")]);
        assert_eq!(
            classify(StatusCode::FORBIDDEN, &h, SECONDARY, 0, 0),
            Verdict::RateLimited { wait_secs: 60 }
        );
        assert_eq!(
            classify(StatusCode::FORBIDDEN, &h, SECONDARY, 0, 2),
            Verdict::RateLimited { wait_secs: 240 }
        );
    }

    #[test]
    fn plain_403_is_final() {
        let h = headers(&[("x-ratelimit-remaining", "4999")]);
        let body = r#"{"message":"Resource not accessible by integration"}"#;
        assert_eq!(
            classify(StatusCode::FORBIDDEN, &h, body, 0, 0),
            Verdict::Done
        );
    }

    #[test]
    fn bare_429_and_5xx_back_off() {
        let h = HeaderMap::new();
        assert_eq!(
            classify(StatusCode::TOO_MANY_REQUESTS, &h, "", 0, 1),
            Verdict::RateLimited { wait_secs: 120 }
        );
        assert_eq!(
            classify(StatusCode::BAD_GATEWAY, &h, "", 0, 2),
            Verdict::ServerError { wait_secs: 4 }
        );
        assert_eq!(classify(StatusCode::OK, &h, "", 0, 0), Verdict::Done);
    }
}
