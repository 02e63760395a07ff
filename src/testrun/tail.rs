//! A bounded tail of a command's output: the last N lines and at most M bytes.
//!
//! Test runs can print megabytes; the repair loop only needs the end (the summary and the
//! last failures), so the output is streamed through a [`Tail`] and never held whole.

use std::collections::VecDeque;

/// Lines kept by default (the end of a test run holds its summary).
pub const TAIL_LINES: usize = 200;
/// Bytes kept by default.
pub const TAIL_BYTES: usize = 64 * 1024;

/// The last lines of a stream, bounded in lines and bytes.
#[derive(Debug)]
pub struct Tail {
    lines: VecDeque<String>,
    bytes: usize,
    max_lines: usize,
    max_bytes: usize,
    partial: Vec<u8>,
    dropped: u64,
}

impl Default for Tail {
    fn default() -> Self {
        Tail::new(TAIL_LINES, TAIL_BYTES)
    }
}

impl Tail {
    pub fn new(max_lines: usize, max_bytes: usize) -> Self {
        Tail {
            lines: VecDeque::new(),
            bytes: 0,
            max_lines: max_lines.max(1),
            max_bytes,
            partial: Vec::new(),
            dropped: 0,
        }
    }

    /// Adds a chunk of output; chunks may split lines anywhere.
    pub fn push(&mut self, chunk: &[u8]) {
        let mut rest = chunk;
        while let Some(pos) = rest.iter().position(|&b| b == b'\n') {
            self.partial.extend_from_slice(&rest[..pos]);
            let line = std::mem::take(&mut self.partial);
            self.push_line(&line);
            rest = &rest[pos + 1..];
        }
        self.partial.extend_from_slice(rest);
        if self.partial.len() > self.max_bytes {
            // A line longer than the whole budget: keep only its end.
            let cut = self.partial.len() - self.max_bytes;
            self.partial.drain(..cut);
        }
    }

    fn push_line(&mut self, line: &[u8]) {
        let mut text = String::from_utf8_lossy(line).into_owned();
        if text.ends_with('\r') {
            text.pop();
        }
        self.bytes += text.len() + 1;
        self.lines.push_back(text);
        while self.lines.len() > self.max_lines
            || (self.bytes > self.max_bytes && self.lines.len() > 1)
        {
            let old = self.lines.pop_front().unwrap_or_default();
            self.bytes -= old.len() + 1;
            self.dropped += 1;
        }
    }

    /// Lines dropped from the front so far.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// The kept text, with a note saying how many earlier lines were left out.
    pub fn finish(mut self) -> String {
        if !self.partial.is_empty() {
            let line = std::mem::take(&mut self.partial);
            self.push_line(&line);
        }
        let mut out = String::with_capacity(self.bytes + 64);
        if self.dropped > 0 {
            out.push_str(&format!("[… {} earlier lines omitted]\n", self.dropped));
        }
        for line in &self.lines {
            out.push_str(line);
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_last_lines_across_split_chunks() {
        let mut t = Tail::new(3, 1024);
        t.push(b"one\ntw");
        t.push(b"o\nthree\nfour\nfi");
        t.push(b"ve");
        assert_eq!(
            t.finish(),
            "[… 2 earlier lines omitted]\nthree\nfour\nfive\n"
        );
    }

    #[test]
    fn bounds_bytes() {
        let mut t = Tail::new(1000, 10);
        t.push(b"aaaa\nbbbb\ncccc\n");
        let out = t.finish();
        assert_eq!(out, "[… 1 earlier lines omitted]\nbbbb\ncccc\n");
    }

    #[test]
    fn very_long_line_keeps_its_end() {
        let mut t = Tail::new(10, 8);
        t.push(b"0123456789abcdef");
        assert_eq!(t.finish(), "89abcdef\n");
    }

    #[test]
    fn crlf_and_invalid_utf8() {
        let mut t = Tail::default();
        t.push(b"ok\r\n\xffbad\n");
        assert_eq!(t.finish(), "ok\n\u{fffd}bad\n");
    }

    #[test]
    fn empty_is_empty() {
        assert_eq!(Tail::default().finish(), "");
    }
}
