//! Cleans one raw log line: BOMs (anywhere, not only at the start of a file), the runner's
//! timestamp, ANSI escape sequences, CR, and reads the `##[…]` markers (LOGS.md §4–5).
//!
//! Kept lines look like what a person sees in the Actions UI: no timestamp, no colour. Marker
//! lines are kept as the runner wrote them (`##[group]Run pytest`, `##[error]…`); the reader
//! drops `##[endgroup]` and `##[debug]` lines. Invalid UTF-8 is replaced (lossy).

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::Regex;

use super::{Annotation, Level};

/// The UTF-8 byte order mark the runner writes at the start of each file (and block).
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

/// What a `##[…]` marker at the start of a line says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Marker {
    /// An ordinary line.
    None,
    /// `##[group]<title>`.
    Group,
    /// `##[endgroup]`.
    EndGroup,
    /// `##[debug]` (only with step debug logging on).
    Debug,
    /// `##[section]`, `##[command]`.
    Other,
    /// `##[error]`, `##[warning]`, `##[notice]`.
    Issue(Level),
}

/// One cleaned line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Clean {
    /// The message without timestamp, BOMs, ANSI sequences or CR.
    pub text: String,
    /// The line started with a runner timestamp (it starts a record; lines without one
    /// continue the record before them).
    pub stamped: bool,
    pub marker: Marker,
}

impl Clean {
    /// The text after the `##[tag]` marker (the whole text for ordinary lines).
    pub fn body(&self) -> &str {
        marker_body(&self.text)
    }
}

/// Cleans one line (without its `\n`).
pub fn clean_line(raw: &[u8]) -> Clean {
    let (rest, stamped) = strip_prefix(raw);
    let text = clean_text(rest);
    let marker = marker_of(&text);
    Clean {
        text,
        stamped,
        marker,
    }
}

/// Drops leading BOMs and the timestamp; says whether there was a timestamp.
pub fn strip_prefix(raw: &[u8]) -> (&[u8], bool) {
    let mut rest = raw;
    while let Some(r) = rest.strip_prefix(BOM) {
        rest = r;
    }
    match timestamp_len(rest) {
        Some(n) => {
            let mut r = &rest[n..];
            while let Some(x) = r.strip_prefix(BOM) {
                r = x;
            }
            (r, true)
        }
        None => (rest, false),
    }
}

/// Length of a leading `2023-06-29T18:15:54.4601154Z ` (any fraction length, or none;
/// the space is optional at the end of the line).
pub fn timestamp_len(b: &[u8]) -> Option<usize> {
    if b.len() < 20 {
        return None;
    }
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    let shape = digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19);
    if !shape {
        return None;
    }
    let mut i = 19;
    if b.get(i) == Some(&b'.') {
        let frac = b[i + 1..]
            .iter()
            .take(10)
            .take_while(|c| c.is_ascii_digit())
            .count();
        if frac == 0 {
            return None;
        }
        i += 1 + frac;
    }
    if b.get(i) != Some(&b'Z') {
        return None;
    }
    i += 1;
    match b.get(i) {
        None => Some(i),
        Some(b' ') => Some(i + 1),
        Some(_) => None,
    }
}

/// Lossy UTF-8, no BOMs, no ANSI sequences, and what a terminal would show of `\r`
/// overwrites (the text after the last CR).
pub fn clean_text(raw: &[u8]) -> String {
    let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
    let raw = match memchr::memrchr(b'\r', raw) {
        Some(i) if i + 1 < raw.len() => &raw[i + 1..],
        Some(_) => raw.strip_suffix(b"\r").unwrap_or(raw),
        None => raw,
    };
    let text = String::from_utf8_lossy(raw);
    let text = if text.contains('\u{feff}') {
        Cow::Owned(text.replace('\u{feff}', ""))
    } else {
        text
    };
    strip_ansi(&text)
}

/// Removes CSI (`ESC [ … final`), OSC (`ESC ] … BEL` or `ESC \`) and two-byte escapes.
pub fn strip_ansi(s: &str) -> String {
    if !s.contains('\x1b') && !s.contains('\u{9b}') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\x1b' => match chars.next() {
                Some('[') => skip_csi(&mut chars),
                Some(']') => skip_osc(&mut chars),
                // `ESC ( B` and friends: intermediates (0x20–0x2F), then one final byte
                Some(c) if (' '..='/').contains(&c) => skip_escape(&mut chars),
                Some(_) | None => {}
            },
            '\u{9b}' => skip_csi(&mut chars),
            _ => out.push(c),
        }
    }
    out
}

fn skip_csi(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    // parameters and intermediates (0x20–0x3F), then one final byte (0x40–0x7E)
    while let Some(&c) = chars.peek() {
        chars.next();
        if ('\x40'..='\x7e').contains(&c) || !(' '..='\x7e').contains(&c) {
            break;
        }
    }
}

fn skip_escape(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    for c in chars.by_ref() {
        if !(' '..='/').contains(&c) {
            break;
        }
    }
}

fn skip_osc(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    while let Some(c) = chars.next() {
        if c == '\x07' {
            break;
        }
        if c == '\x1b' {
            if chars.peek() == Some(&'\\') {
                chars.next();
            }
            break;
        }
    }
}

/// The marker a cleaned line starts with.
pub fn marker_of(text: &str) -> Marker {
    let Some(rest) = text.strip_prefix("##[") else {
        return Marker::None;
    };
    let Some(end) = rest.find(']') else {
        return Marker::None;
    };
    match &rest[..end] {
        "group" => Marker::Group,
        "endgroup" => Marker::EndGroup,
        "debug" => Marker::Debug,
        "error" => Marker::Issue(Level::Error),
        "warning" => Marker::Issue(Level::Warning),
        "notice" => Marker::Issue(Level::Notice),
        "section" | "command" => Marker::Other,
        _ => Marker::None,
    }
}

/// The text after a leading `##[tag]`.
pub fn marker_body(text: &str) -> &str {
    match text
        .strip_prefix("##[")
        .and_then(|r| r.find(']').map(|e| &r[e + 1..]))
    {
        Some(body) => body,
        None => text,
    }
}

/// `N` from `Process completed with exit code N.` (the body of the runner's `##[error]`).
pub fn exit_code(body: &str) -> Option<i32> {
    let rest = body.strip_prefix("Process completed with exit code ")?;
    rest.trim_end_matches('.').trim().parse().ok()
}

static WORKFLOW_CMD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^::(error|warning|notice)(?:\s+([^:]*))?::(.*)$").expect("static pattern")
});
static HASH_LOC: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(\S+?)#L(\d+)(?:C(\d+))?(?:(?:\s*[:,-]\s*|\s+)(.*))?$").expect("static pattern")
});
static COLON_LOC: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^([A-Za-z0-9_./\\@+-]*[A-Za-z0-9_-]\.[A-Za-z0-9]{1,10}):(\d+)(?::(\d+))?(?::\s*(.*))?$",
    )
    .expect("static pattern")
});

/// Reads an annotation from the body of a `##[error]`/`##[warning]`/`##[notice]` line, with
/// its location when the message carries one: `::error file=a.py,line=3,col=5::msg`,
/// `src/a.py#L3: msg`, `src/a.py:3:5: msg`.
pub fn annotation(level: Level, body: &str) -> Annotation {
    let body = body.trim_end();
    let mut a = Annotation {
        level,
        message: cap_message(body),
        file: None,
        line: None,
        column: None,
    };
    if let Some(c) = WORKFLOW_CMD.captures(body) {
        a.message = cap_message(&c[3]);
        if let Some(props) = c.get(2) {
            read_properties(props.as_str(), &mut a);
        }
    } else if let Some(c) = HASH_LOC.captures(body) {
        a.file = Some(c[1].to_string());
        a.line = c[2].parse().ok();
        a.column = c.get(3).and_then(|m| m.as_str().parse().ok());
        if let Some(m) = c.get(4).filter(|m| !m.as_str().is_empty()) {
            a.message = cap_message(m.as_str());
        }
    } else if let Some(c) = COLON_LOC.captures(body) {
        a.file = Some(c[1].to_string());
        a.line = c[2].parse().ok();
        a.column = c.get(3).and_then(|m| m.as_str().parse().ok());
    }
    a
}

/// `file=a.py,line=3,col=5,title=T` (the runner's property syntax).
fn read_properties(props: &str, a: &mut Annotation) {
    for kv in props.split(',') {
        let Some((k, v)) = kv.split_once('=') else {
            continue;
        };
        let v = v.trim();
        match k.trim() {
            "file" if !v.is_empty() => a.file = Some(v.to_string()),
            "line" => a.line = v.parse().ok(),
            "col" | "column" => a.column = v.parse().ok(),
            _ => {}
        }
    }
}

/// The runner cuts issue messages at 4096 characters (LOGS.md §5); so do we.
pub const MAX_MESSAGE_CHARS: usize = 4096;

fn cap_message(s: &str) -> String {
    match s.char_indices().nth(MAX_MESSAGE_CHARS) {
        Some((i, _)) => s[..i].to_string(),
        None => s.to_string(),
    }
}

/// Appends a continuation line (one without timestamp) to an annotation's message.
pub fn continue_annotation(a: &mut Annotation, line: &str) {
    if a.message.chars().count() + line.chars().count() < MAX_MESSAGE_CHARS {
        a.message.push('\n');
        a.message.push_str(line);
    }
}

/// A `run:` step echoes its script in cyan (`ESC[36;1m … ESC[0m`, LOGS.md §4).
pub fn is_script_echo(after_timestamp: &[u8]) -> bool {
    after_timestamp.starts_with(b"\x1b[36;1m")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn strips_timestamp_bom_and_ansi() {
        let c =
            clean_line(b"\xEF\xBB\xBF2023-06-29T18:15:54.4601154Z \x1b[36;1mpytest -q\x1b[0m\r");
        assert_eq!(c.text, "pytest -q");
        assert!(c.stamped);
        assert_eq!(c.marker, Marker::None);
    }

    #[test]
    fn tolerates_other_fraction_lengths_and_no_fraction() {
        for ts in [
            "2023-06-29T18:15:54Z ",
            "2023-06-29T18:15:54.4Z ",
            "2023-06-29T18:15:54.123456789Z ",
        ] {
            let c = clean_line(format!("{ts}hello").as_bytes());
            assert_eq!((c.text.as_str(), c.stamped), ("hello", true), "{ts}");
        }
        assert_eq!(timestamp_len(b"2023-06-29T18:15:54.4601154Z"), Some(28));
    }

    #[test]
    fn line_without_timestamp_is_a_continuation() {
        let c = clean_line(b"    at foo (bar.js:1:2)");
        assert!(!c.stamped);
        assert_eq!(c.text, "    at foo (bar.js:1:2)");
        assert!(!clean_line(b"2023-06-29 18:15:54 not the runner's stamp").stamped);
    }

    #[test]
    fn bom_in_the_middle_is_removed() {
        let c =
            clean_line(b"2023-06-29T18:15:54.4601154Z \xEF\xBB\xBFnext block\xEF\xBB\xBF starts");
        assert_eq!(c.text, "next block starts");
    }

    #[test]
    fn markers_are_read() {
        assert_eq!(
            clean_line(b"2023-06-29T18:15:54.4601154Z ##[group]Run pytest").marker,
            Marker::Group
        );
        assert_eq!(clean_line(b"##[endgroup]").marker, Marker::EndGroup);
        assert_eq!(clean_line(b"##[debug]x").marker, Marker::Debug);
        assert_eq!(
            clean_line(b"##[warning]x").marker,
            Marker::Issue(Level::Warning)
        );
        assert_eq!(
            clean_line(b"##[notice]x").marker,
            Marker::Issue(Level::Notice)
        );
        assert_eq!(clean_line(b"##[nonsense]x").marker, Marker::None);
        let c = clean_line(b"##[error]Process completed with exit code 2.");
        assert_eq!(c.marker, Marker::Issue(Level::Error));
        assert_eq!(exit_code(c.body()), Some(2));
        assert_eq!(exit_code("Process completed with exit code -1."), Some(-1));
        assert_eq!(exit_code("Something else"), None);
    }

    #[test]
    fn ansi_osc_and_cr_overwrites() {
        assert_eq!(
            strip_ansi("\x1b]8;;http://x\x07link\x1b]8;;\x1b\\ done"),
            "link done"
        );
        assert_eq!(
            strip_ansi("\x1b[1;31merror\x1b[0m: \x1b[Kbad"),
            "error: bad"
        );
        assert_eq!(clean_text(b" 10%\r 50%\r100%"), "100%");
        assert_eq!(clean_text(b"abc\r"), "abc");
    }

    #[test]
    fn charset_and_other_escapes() {
        assert_eq!(strip_ansi("Found 2 errors\x1b(B\x1b[m"), "Found 2 errors");
        assert_eq!(strip_ansi("\x1b)0x\x1b7y\x1b8"), "xy");
    }

    #[test]
    fn invalid_utf8_is_lossy() {
        assert_eq!(clean_line(b"caf\xe9 \xff").text, "caf\u{fffd} \u{fffd}");
    }

    #[test]
    fn annotations_with_locations() {
        let a = annotation(Level::Error, "src/a.py#L3");
        assert_eq!(
            (a.file.as_deref(), a.line, a.column),
            (Some("src/a.py"), Some(3), None)
        );
        let a = annotation(
            Level::Error,
            "::error file=src/b.rs,line=10,col=4,title=oops::bad thing",
        );
        assert_eq!(
            (a.file.as_deref(), a.line, a.column, a.message.as_str()),
            (Some("src/b.rs"), Some(10), Some(4), "bad thing")
        );
        let a = annotation(Level::Warning, "src/c.ts:7:2: unused variable");
        assert_eq!(
            (a.file.as_deref(), a.line, a.column),
            (Some("src/c.ts"), Some(7), Some(2))
        );
        assert_eq!(a.message, "src/c.ts:7:2: unused variable");
        let a = annotation(Level::Error, "Process completed with exit code 1.");
        assert_eq!((a.file, a.line), (None, None));
        let a = annotation(Level::Error, &"x".repeat(10_000));
        assert_eq!(a.message.len(), MAX_MESSAGE_CHARS);
    }

    proptest! {
        #[test]
        fn cleaning_never_panics_and_drops_escapes(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let c = clean_line(&bytes);
            prop_assert!(!c.text.contains(char::from_u32(0xfeff).unwrap()));
            prop_assert!(!c.text.contains('\x1b'));
            prop_assert!(!c.text.contains('\r'));
            let _ = annotation(Level::Error, c.body());
        }

        #[test]
        fn clean_text_keeps_plain_ascii(s in "[ -~]{0,200}") {
            prop_assert_eq!(clean_text(s.as_bytes()), s);
        }
    }
}
