//! Decides what a file or stream holds from its first bytes, not its name: a ZIP, a job
//! log, or something else saved under a log's name (GitHub's HTML or JSON error page, gzip,
//! binary data), which gets a message that says what it is.

/// What the first bytes say.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    Zip,
    Text,
    Empty,
    /// Not a log: a sentence saying what it is instead.
    Other(String),
}

/// How many leading bytes [`sniff`] wants.
pub const HEAD: usize = 8192;

/// Sorts `head` (the first bytes; the whole input when shorter than [`HEAD`]).
pub fn sniff(head: &[u8]) -> Kind {
    if head.is_empty() {
        return Kind::Empty;
    }
    if head.starts_with(b"PK\x03\x04")
        || head.starts_with(b"PK\x05\x06")
        || head.starts_with(b"PK\x07\x08")
    {
        return Kind::Zip;
    }
    let trimmed = trim_start(head);
    if trimmed.is_empty() {
        return Kind::Text;
    }
    if let Some(what) = html(trimmed) {
        return Kind::Other(what);
    }
    if let Some(what) = json(trimmed) {
        return Kind::Other(what);
    }
    if let Some(what) = binary(head) {
        return Kind::Other(what);
    }
    Kind::Text
}

fn trim_start(b: &[u8]) -> &[u8] {
    let b = b.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(b);
    let start = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    &b[start..]
}

fn html(b: &[u8]) -> Option<String> {
    let lower = String::from_utf8_lossy(&b[..b.len().min(HEAD)]).to_ascii_lowercase();
    if !(lower.starts_with("<!doctype html")
        || lower.starts_with("<html")
        || lower.starts_with("<?xml") && lower.contains("<error"))
    {
        return None;
    }
    let text = String::from_utf8_lossy(b);
    let title = between_ci(&text, "<title>", "</title>")
        .or_else(|| between_ci(&text, "<h1>", "</h1>"))
        .or_else(|| between_ci(&text, "<message>", "</message>"));
    Some(match title {
        Some(t) => format!("this is an HTML page, not a log: \"{}\"", squash(&t)),
        None => "this is an HTML page, not a log".to_string(),
    })
}

fn between_ci(text: &str, open: &str, close: &str) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    let from = lower.find(open)? + open.len();
    let to = lower[from..].find(close)? + from;
    let inner = text.get(from..to)?.trim();
    (!inner.is_empty()).then(|| inner.to_string())
}

fn squash(s: &str) -> String {
    let one: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    one.chars().take(200).collect()
}

/// GitHub's API errors: `{"message": "Not Found", "documentation_url": …, "status": "404"}`.
fn json(b: &[u8]) -> Option<String> {
    if b.first() != Some(&b'{') {
        return None;
    }
    let value: serde_json::Value = serde_json::from_slice(b).ok()?;
    let message = value.get("message").and_then(|m| m.as_str());
    let status = value.get("status").and_then(|s| {
        s.as_str()
            .map(str::to_string)
            .or_else(|| s.as_u64().map(|n| n.to_string()))
    });
    Some(match (message, status) {
        (Some(m), Some(s)) => format!(
            "this is a JSON error from GitHub, not a log: {} (status {s})",
            squash(m)
        ),
        (Some(m), None) => format!("this is a JSON error from GitHub, not a log: {}", squash(m)),
        _ => "this is a JSON document, not a log".to_string(),
    })
}

fn binary(head: &[u8]) -> Option<String> {
    if head.starts_with(&[0x1f, 0x8b]) {
        return Some("this is gzip data, not a run-log ZIP (unpack it first)".into());
    }
    let sample = &head[..head.len().min(HEAD)];
    let control = sample
        .iter()
        .filter(|&&c| c < 0x20 && !matches!(c, b'\t' | b'\n' | b'\r' | 0x1b | 0x0c))
        .count();
    (control * 10 > sample.len())
        .then(|| "this is binary data, neither a run-log ZIP nor a job log".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zips_and_logs() {
        assert_eq!(sniff(b"PK\x03\x04rest"), Kind::Zip);
        assert_eq!(sniff(b"PK\x05\x06\0\0"), Kind::Zip);
        assert_eq!(
            sniff(b"\xEF\xBB\xBF2023-06-29T18:15:54.4601154Z hi\n"),
            Kind::Text
        );
        assert_eq!(sniff(b""), Kind::Empty);
        assert_eq!(sniff(b"caf\xe9 latin-1 text\n"), Kind::Text);
    }

    #[test]
    fn html_pages_say_so() {
        let page = b"<!DOCTYPE html>\n<html><head><title>Page not found \xc2\xb7 GitHub</title></head></html>";
        assert_eq!(
            sniff(page),
            Kind::Other("this is an HTML page, not a log: \"Page not found \u{b7} GitHub\"".into())
        );
        let s3 = b"<?xml version=\"1.0\"?><Error><Code>AuthenticationFailed</Code><Message>Signature expired</Message></Error>";
        assert!(matches!(sniff(s3), Kind::Other(m) if m.contains("Signature expired")));
    }

    #[test]
    fn json_errors_say_so() {
        let body = br#"{"message":"Not Found","documentation_url":"https://docs.github.com/rest","status":"404"}"#;
        assert_eq!(
            sniff(body),
            Kind::Other(
                "this is a JSON error from GitHub, not a log: Not Found (status 404)".into()
            )
        );
        assert_eq!(sniff(b"{not json at all"), Kind::Text);
    }

    #[test]
    fn binary_and_gzip() {
        assert!(matches!(sniff(&[0x1f, 0x8b, 8, 0]), Kind::Other(m) if m.contains("gzip")));
        assert!(
            matches!(sniff(&[0u8, 1, 2, 3, 4, 5, 6, 7, 0, 0]), Kind::Other(m) if m.contains("binary"))
        );
    }
}
