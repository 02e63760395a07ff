//! A stable key for "the same failure": tool, kind and the message with paths, numbers,
//! hashes, addresses and timestamps stripped, so two runs of one bug share it.

use std::sync::LazyLock;

use regex::Regex;
use sha2::{Digest, Sha256};

use super::Failure;

static VOLATILE: LazyLock<Vec<(Regex, &'static str)>> = LazyLock::new(|| {
    [
        (
            r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?Z?",
            "<time>",
        ),
        (r"0x[0-9a-fA-F]+", "<addr>"),
        (r"\b[0-9a-f]{7,64}\b", "<hash>"),
        (r"(?:[A-Za-z]:)?(?:[\w.\-~]*[/\\])+([\w.\-]+)", "$1"),
        (r"\d+(\.\d+)?", "<n>"),
        (r"\s+", " "),
    ]
    .into_iter()
    .map(|(re, with)| (Regex::new(re).expect("static regex"), with))
    .collect()
});

/// The message as it is compared: volatile parts replaced by placeholders.
pub fn normalise(message: &str) -> String {
    let mut s = message.to_string();
    for (re, with) in VOLATILE.iter() {
        s = re.replace_all(&s, *with).into_owned();
    }
    s.trim().to_lowercase()
}

/// `tool/kind/<16 hex>` over the normalised message, the file's name and the test id
/// (without its parameters).
pub fn signature_of(f: &Failure) -> String {
    let file_name = f
        .file
        .as_deref()
        .map(|p| p.rsplit('/').next().unwrap_or(p))
        .unwrap_or("");
    let test = f
        .test
        .as_deref()
        .map(|t| t.split('[').next().unwrap_or(t))
        .unwrap_or("");
    let mut h = Sha256::new();
    for part in [normalise(&f.message).as_str(), file_name, test] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    let digest = h.finalize();
    let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("{}/{}/{}", f.tool, f.kind, hex)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::Kind;

    fn failure(msg: &str, file: &str) -> Failure {
        Failure::new("pytest", Kind::TestFailure, msg).at(file, Some(3), None)
    }

    #[test]
    fn same_bug_same_signature_across_runs() {
        let a = failure(
            "AssertionError: assert 41 == 42 at 2024-01-02T03:04:05.1234567Z in /tmp/pytest-1/x.py",
            "tests/t.py",
        );
        let b = failure(
            "AssertionError: assert 7 == 8 at 2025-11-12T13:14:15.0000001Z in /tmp/pytest-99/x.py",
            "/home/runner/work/a/a/tests/t.py",
        );
        assert_eq!(signature_of(&a), signature_of(&b));
    }

    #[test]
    fn different_bugs_differ() {
        let a = failure("NameError: name 'foo' is not defined", "a.py");
        let b = failure("NameError: name 'bar' is not defined", "a.py");
        assert_ne!(signature_of(&a), signature_of(&b));
        assert!(signature_of(&a).starts_with("pytest/test_failure/"));
    }

    #[test]
    fn hashes_and_addresses_are_stripped() {
        assert_eq!(
            normalise("object at 0x7f3a2b1c deadbeefcafe1234"),
            normalise("object at 0x10 0123456789abcdef")
        );
    }
}
