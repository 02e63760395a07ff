//! Offline token counts with tiktoken's o200k_base (the gpt-4o family's encoding).
//!
//! The BPE tables are compiled into the binary; the encoder is built once, on first use
//! (~0.2 s), in a `LazyLock`. [`count`] is exact for o200k and a good guide for other
//! models' tokenizers. For texts beyond [`EXACT_LIMIT`] bytes (whole logs, whole files for
//! the naive comparison) [`count`] uses [`estimate`], which a test keeps within 25% of the
//! exact count on code and logs.

use std::sync::LazyLock;

use tiktoken_rs::CoreBPE;

static O200K: LazyLock<CoreBPE> =
    LazyLock::new(|| tiktoken_rs::o200k_base().expect("o200k_base tables are compiled in"));

/// Texts longer than this (bytes) are estimated rather than encoded.
pub const EXACT_LIMIT: usize = 256 * 1024;

/// Tokens in `text`: exact (o200k_base) up to [`EXACT_LIMIT`] bytes, estimated beyond.
pub fn count(text: &str) -> usize {
    if text.len() > EXACT_LIMIT {
        estimate(text)
    } else {
        exact(text)
    }
}

/// The exact o200k_base count.
pub fn exact(text: &str) -> usize {
    O200K.encode_ordinary(text).len()
}

/// A fast estimate: one token per word-ish run of up to 4 alphanumeric bytes, and one per
/// punctuation byte outside whitespace. BPE merges common punctuation pairs, so the punctuation
/// is weighted at 0.7.
pub fn estimate(text: &str) -> usize {
    let (mut words, mut run, mut punct) = (0usize, 0usize, 0usize);
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b >= 0x80 || b == b'_' {
            run += 1;
            continue;
        }
        words += run.div_ceil(4);
        run = 0;
        if !b.is_ascii_whitespace() {
            punct += 1;
        }
    }
    words += run.div_ceil(4);
    words + punct * 7 / 10
}

/// Tokens a chat request costs: both messages plus the chat framing (~4 per message).
pub fn chat_prompt(system: &str, user: &str) -> usize {
    count(system) + count(user) + 11
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    const CODE: &str = include_str!("retry.rs");
    const LOG: &str = "2026-11-24T10:00:01.1234567Z ============================= test session starts ==============================\n\
        tests/test_stats.py::test_average FAILED                                  [ 50%]\n\
        E       assert 6.0 == 4\nE        +  where 6.0 = average([2, 4, 6])\n\
        error[E0308]: mismatched types\n --> src/lib.rs:3:5\n  |\n3 |     n\n  |     ^ expected `u16`, found `u32`\n\
        npm ERR! code ELIFECYCLE\nnpm ERR! errno 1\n##[error]Process completed with exit code 1.\n";

    #[test]
    fn counts_known_strings() {
        assert_eq!(count("hello world"), 2);
        assert_eq!(count(""), 0);
    }

    #[test]
    fn estimate_stays_within_a_quarter_of_exact() {
        for (name, text) in [("code", CODE.to_string()), ("log", LOG.repeat(20))] {
            let (e, x) = (estimate(&text) as f64, exact(&text) as f64);
            let ratio = e / x;
            assert!(
                (0.75..=1.25).contains(&ratio),
                "{name}: estimate {e} vs exact {x} ({ratio:.2})"
            );
        }
    }

    #[test]
    fn speed_of_exact_and_estimate_is_reported() {
        let _ = count("warm up");
        let text = CODE.repeat(((EXACT_LIMIT / CODE.len()).max(1)) + 1);
        let t = Instant::now();
        let x = exact(&text);
        let exact_ms = t.elapsed().as_secs_f64() * 1000.0;
        let t = Instant::now();
        let e = estimate(&text);
        let est_ms = t.elapsed().as_secs_f64() * 1000.0;
        let mb = text.len() as f64 / 1e6;
        println!(
            "tokens: {mb:.2} MB -> exact {x} in {exact_ms:.1} ms, estimate {e} in {est_ms:.2} ms"
        );
        assert!(x > 0 && e > 0);
    }
}
