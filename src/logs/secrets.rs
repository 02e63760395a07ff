//! Masks secrets GitHub failed to mask (tokens, keys, private key blocks, JWTs,
//! `password=` assignments) before anything is printed or sent to an LLM.
//!
//! The runner masks only the secrets it knows (LOGS.md §4); a token printed by a tool, a key
//! in a test fixture or a password in a connection string still reaches the log. Every kept
//! line goes through [`Masker::mask`] (or [`mask_line`] for a lone line). A cheap
//! case-insensitive substring prefilter skips the regexes on ordinary lines.

use std::sync::LazyLock;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use regex::{Captures, Regex};

/// What replaces a secret.
pub const MASK: &str = "***";

/// Substrings one of which every secret shape contains (ASCII case-insensitive).
const TRIGGERS: &[&str] = &[
    "ghp_",
    "gho_",
    "ghu_",
    "ghs_",
    "ghr_",
    "github_pat_",
    "sk-",
    "akia",
    "asia",
    "xox",
    "eyj",
    "private key",
    "password",
    "passwd",
    "passphrase",
    "pwd",
    "token",
    "secret",
    "api_key",
    "apikey",
    "api-key",
    "access_key",
    "bearer",
    "://",
];

static PREFILTER: LazyLock<AhoCorasick> = LazyLock::new(|| {
    AhoCorasickBuilder::new()
        .ascii_case_insensitive(true)
        .match_kind(MatchKind::LeftmostFirst)
        .build(TRIGGERS)
        .expect("static trigger list builds")
});

/// Shapes replaced as a whole, and whether a match must look random (mix letters and
/// digits) to count: `sk-` also starts ordinary hyphenated words.
static WHOLE: LazyLock<Vec<(Regex, bool)>> = LazyLock::new(|| {
    [
        (
            r"\b(?:gh[pousr]_[A-Za-z0-9]{20,255}|github_pat_[A-Za-z0-9_]{22,255})",
            false,
        ),
        (r"\bsk-(?:proj-|ant-|svcacct-)?[A-Za-z0-9_-]{20,}", true),
        (r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b", false),
        (r"\bxox[baprs]-[A-Za-z0-9-]{10,}", false),
        (
            r"\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*",
            false,
        ),
    ]
    .iter()
    .map(|(p, random)| {
        (
            Regex::new(p).expect("static secret pattern compiles"),
            *random,
        )
    })
    .collect()
});

/// `key = value` shapes: group `v` is the value to mask, the rest stays.
static VALUED: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    [
        // aws_secret_access_key = wJalr…
        r#"(?i)\b(?:aws_)?secret_(?:access_)?key["']?\s*[:=]\s*["']?(?P<v>[A-Za-z0-9/+=]{40})"#,
        // password=…, "token": "…", api_key: …, DB_PASSWORD=…
        r#"(?i)\b[A-Za-z0-9_.-]*?(?:password|passwd|pwd|token|secret|api[_-]?key|apikey|access[_-]?key|private[_-]?key)["']?\s*[:=]\s*(?:"(?P<q1>[^"]+)"|'(?P<q2>[^']+)'|(?P<v>[^\s"',;&:=][^\s"',;&]*))"#,
        // Authorization: Bearer …
        r"(?i)\b(?:bearer|token)\s+(?P<v>[A-Za-z0-9._~+/-]{16,}=*)",
        // https://user:pass@host
        r"://[^/\s:@]+:(?P<v>[^/\s@]+)@",
    ]
    .iter()
    .map(|p| Regex::new(p).expect("static secret pattern compiles"))
    .collect()
});

static KEY_BEGIN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----").expect("static pattern")
});
static KEY_END: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"-----END [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----").expect("static pattern")
});

/// Masks lines one after the other, remembering when a private key block is open.
#[derive(Clone, Debug, Default)]
pub struct Masker {
    in_private_key: bool,
}

impl Masker {
    pub fn new() -> Self {
        Masker::default()
    }

    /// True while a `-----BEGIN … PRIVATE KEY-----` block has not been closed.
    pub fn in_private_key(&self) -> bool {
        self.in_private_key
    }

    /// Replaces every secret in `line` by `***`; returns how many were masked.
    pub fn mask(&mut self, line: &mut String) -> u32 {
        if self.in_private_key {
            return self.mask_key_body(line);
        }
        if !PREFILTER.is_match(line.as_str()) {
            return 0;
        }
        let mut count = mask_key_start(line, &mut self.in_private_key);
        if self.in_private_key {
            return count;
        }
        for (re, random) in WHOLE.iter() {
            count += replace_whole(re, *random, line);
        }
        for re in VALUED.iter() {
            count += replace_value(re, line);
        }
        count
    }

    /// A line inside a key block: all of it is key material, up to an END marker.
    fn mask_key_body(&mut self, line: &mut String) -> u32 {
        match KEY_END.find(line) {
            Some(end) => {
                self.in_private_key = false;
                let before = &line[..end.start()];
                if before.trim().is_empty() {
                    return 0;
                }
                line.replace_range(..end.start(), MASK);
                1
            }
            None if line.trim().is_empty() => 0,
            None => {
                line.clear();
                line.push_str(MASK);
                1
            }
        }
    }
}

/// Masks a whole text line by line (a private key block across lines is masked whole);
/// returns the masked text and how many secrets were masked. Line endings are kept.
pub fn mask_text(text: &str) -> (String, u32) {
    if !PREFILTER.is_match(text) {
        return (text.to_string(), 0);
    }
    let mut masker = Masker::new();
    let mut count = 0;
    let lines: Vec<String> = text
        .split('\n')
        .map(|l| {
            let mut l = l.to_string();
            count += masker.mask(&mut l);
            l
        })
        .collect();
    (lines.join("\n"), count)
}

/// Masks one line on its own (a private key block is masked to the end of this line).
pub fn mask_line(line: &mut String) -> u32 {
    Masker::new().mask(line)
}

/// Masks the body of a key block that starts on this line. Sets `open` when the block
/// goes on past the line.
fn mask_key_start(line: &mut String, open: &mut bool) -> u32 {
    let Some(begin) = KEY_BEGIN.find(line) else {
        return 0;
    };
    let body_start = begin.end();
    match KEY_END.find_at(line, body_start) {
        Some(end) if end.start() > body_start => {
            line.replace_range(body_start..end.start(), MASK);
            1
        }
        Some(_) => 0,
        None => {
            *open = true;
            if line[body_start..].trim().is_empty() {
                return 0;
            }
            line.replace_range(body_start.., MASK);
            1
        }
    }
}

fn replace_whole(re: &Regex, random: bool, line: &mut String) -> u32 {
    let mut count = 0;
    let out = re.replace_all(line, |c: &Captures<'_>| {
        let m = c.get(0).map_or("", |m| m.as_str());
        if !random || looks_random(m) {
            count += 1;
            MASK.to_string()
        } else {
            m.to_string()
        }
    });
    if count > 0 {
        *line = out.into_owned();
    }
    count
}

fn replace_value(re: &Regex, line: &mut String) -> u32 {
    let mut count = 0;
    let out = re.replace_all(line, |c: &Captures<'_>| {
        let all = c.get(0).expect("group 0 always matches");
        let Some(v) = c
            .name("v")
            .or_else(|| c.name("q1"))
            .or_else(|| c.name("q2"))
        else {
            return all.as_str().to_string();
        };
        if !is_secret_value(v.as_str()) {
            return all.as_str().to_string();
        }
        count += 1;
        let (start, end) = (v.start() - all.start(), v.end() - all.start());
        format!("{}{}{}", &all.as_str()[..start], MASK, &all.as_str()[end..])
    });
    if count > 0 {
        *line = out.into_owned();
    }
    count
}

/// Token-shaped matches must mix letters and digits: `sk-learn-and-some-words` is a name.
fn looks_random(s: &str) -> bool {
    let digits = s.bytes().filter(u8::is_ascii_digit).count();
    digits > 0 && s.bytes().any(|b| b.is_ascii_alphabetic())
}

/// A value after `password=` worth masking: not already masked, not a variable, a call or
/// a placeholder.
fn is_secret_value(v: &str) -> bool {
    const PLACEHOLDERS: &[&str] = &[
        "none",
        "null",
        "nil",
        "true",
        "false",
        "undefined",
        "empty",
        "required",
        "optional",
        "passed",
        "failed",
        "skipped",
        "error",
    ];
    if v.len() < 4
        || v.contains(MASK)
        || v.starts_with('$')
        || v.starts_with('{')
        || v.starts_with('<')
        || v.starts_with('%')
    {
        return false;
    }
    if v.contains('(') || v.contains('[') || v.ends_with(':') {
        return false;
    }
    !PLACEHOLDERS.contains(&v.to_ascii_lowercase().as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn masked(s: &str) -> (String, u32) {
        let mut line = s.to_string();
        let n = mask_line(&mut line);
        (line, n)
    }

    #[test]
    fn github_tokens_are_masked() {
        for tok in [
            "ghp_16C7e42F292c6912E7710c838347Ae178B4a",
            "gho_16C7e42F292c6912E7710c838347Ae178B4a",
            "ghu_16C7e42F292c6912E7710c838347Ae178B4a",
            "ghs_16C7e42F292c6912E7710c838347Ae178B4a",
            "ghr_16C7e42F292c6912E7710c838347Ae178B4a",
            "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJ",
        ] {
            let (out, n) = masked(&format!("using {tok} now"));
            assert_eq!(out, "using *** now", "{tok}");
            assert_eq!(n, 1);
        }
    }

    #[test]
    fn cloud_and_chat_keys_are_masked() {
        let (out, n) = masked(
            "OPENAI sk-proj-abcDEF1234567890abcdefghijKLMNOP and sk-abcdefghij0123456789ABCDEFGH",
        );
        assert_eq!(out, "OPENAI *** and ***");
        assert_eq!(n, 2);
        let (out, _) = masked("key id AKIAIOSFODNN7EXAMPLE here");
        assert_eq!(out, "key id *** here");
        let (out, _) = masked("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
        assert_eq!(out, "aws_secret_access_key = ***");
        let (out, _) = masked("slack xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx");
        assert_eq!(out, "slack ***");
    }

    #[test]
    fn jwt_is_masked() {
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";
        let (out, n) = masked(&format!("Authorization header {jwt}"));
        assert_eq!(out, "Authorization header ***");
        assert_eq!(n, 1);
    }

    #[test]
    fn assignments_keep_the_key() {
        assert_eq!(masked("password=hunter22").0, "password=***");
        assert_eq!(
            masked("DB_PASSWORD = 'correct horse'").0,
            "DB_PASSWORD = '***'"
        );
        assert_eq!(
            masked(r#"{"token": "abcd1234efgh"}"#).0,
            r#"{"token": "***"}"#
        );
        assert_eq!(masked("api_key: 9f8e7d6c5b4a").0, "api_key: ***");
        assert_eq!(masked("secret=s3cr3tvalue&x=1").0, "secret=***&x=1");
        assert_eq!(
            masked("curl https://bob:pa55word@example.com/x").0,
            "curl https://bob:***@example.com/x"
        );
        assert_eq!(
            masked("Authorization: Bearer abcdefghijklmnop1234").0,
            "Authorization: Bearer ***"
        );
    }

    #[test]
    fn ordinary_text_is_untouched() {
        for s in [
            "tokenizer loaded 50000 tokens",
            "tests/test_auth.py::password_reset_test PASSED",
            "password_reset_test: ok",
            "GITHUB_TOKEN: ***",
            "token: ${{ secrets.GITHUB_TOKEN }}",
            "token = get_token()",
            "password=None",
            "pip install scikit-learn sk-video",
            "the secret sauce is patience",
            "Asia/Tokyo timezone",
            "error: expected `;`, found `}`",
            "task-runner-for-everything-and-more done",
            // a path (`::`) or a comparison (`==`) after the key is code, not a value
            "            '+' => tokens.push(Token::Plus),",
            "    if kind == Token::Num(value) {",
            "if token == expected_token {",
        ] {
            assert_eq!(masked(s), (s.to_string(), 0), "{s}");
        }
    }

    #[test]
    fn private_key_blocks_span_lines() {
        let mut m = Masker::new();
        let mut lines: Vec<String> = [
            "key:",
            "-----BEGIN RSA PRIVATE KEY-----",
            "MIIEowIBAAKCAQEA1234567890abcdef",
            "qwertyuiopasdfghjkl",
            "-----END RSA PRIVATE KEY-----",
            "after",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let n: u32 = lines.iter_mut().map(|l| m.mask(l)).sum();
        assert_eq!(lines[2], "***");
        assert_eq!(lines[3], "***");
        assert_eq!(lines[1], "-----BEGIN RSA PRIVATE KEY-----");
        assert_eq!(lines[4], "-----END RSA PRIVATE KEY-----");
        assert_eq!(lines[5], "after");
        assert_eq!(n, 2);
        assert!(!m.in_private_key());
    }

    #[test]
    fn private_key_on_one_line_is_masked_between_markers() {
        let (out, n) =
            masked(r#""-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg\n-----END PRIVATE KEY-----""#);
        assert_eq!(
            out,
            r#""-----BEGIN PRIVATE KEY-----***-----END PRIVATE KEY-----""#
        );
        assert_eq!(n, 1);
    }

    proptest::proptest! {
        #[test]
        fn masking_never_panics_and_is_stable(s in "\\PC{0,120}") {
            let mut once = s.clone();
            mask_line(&mut once);
            let mut twice = once.clone();
            mask_line(&mut twice);
            proptest::prop_assert_eq!(once, twice);
        }

        #[test]
        fn planted_tokens_never_survive(prefix in "[a-z ]{0,20}", body in "[A-Za-z0-9]{36}", suffix in "[a-z ]{0,20}") {
            let token = format!("ghp_{body}");
            let mut line = format!("{prefix} {token} {suffix}");
            let n = mask_line(&mut line);
            proptest::prop_assert!(!line.contains(&token));
            proptest::prop_assert!(n >= 1);
        }
    }

    #[test]
    fn fast_path_leaves_lines_alone() {
        let mut s = "collected 25 items".to_string();
        assert_eq!(mask_line(&mut s), 0);
        assert_eq!(s, "collected 25 items");
    }

    #[test]
    fn a_whole_text_is_masked_with_key_blocks_across_lines() {
        let text = "const KEY = \"ghp_0123456789abcdefghij0123456789abcdef\";\n-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----\nfn ok() {}\n";
        let (masked, n) = mask_text(text);
        assert!(
            !masked.contains("ghp_0123") && !masked.contains("MIIEow"),
            "{masked}"
        );
        assert!(masked.ends_with("fn ok() {}\n"), "{masked}");
        assert_eq!(n, 2);
        assert_eq!(mask_text("plain\n"), ("plain\n".to_string(), 0));
    }
}
