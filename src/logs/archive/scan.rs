//! Streams one log's bytes into bounded [`StepLog`]s: splits lines (memchr), keeps the
//! last `tail_lines` raw lines in a ring, small windows around earlier error-like lines,
//! annotations, `Run …` commands and the exit code. Only kept lines are cleaned and masked.
//!
//! Hot path: one Aho-Corasick pass per chunk finds the few "interesting" lines (markers,
//! error words, key blocks); every other line costs a memchr and a memcpy into the ring.

use std::collections::VecDeque;
use std::sync::LazyLock;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

use super::super::clean::{self, Marker};
use super::super::secrets;
use super::super::{Level, StepLog};

/// Lines kept around an earlier error-like line: this many before and after it.
pub const WINDOW_RADIUS: u64 = 5;
/// At most this many windows per step (the first ones: the root cause usually comes first).
pub const MAX_WINDOWS: usize = 50;
/// Lines kept from the end of a step that did not fail.
pub const PASSED_TAIL: usize = 20;
/// Windows kept in a step that did not fail.
pub const PASSED_WINDOWS: usize = 5;
/// At most this many `Run …` commands per step.
const MAX_COMMANDS: usize = 64;
/// At most this many annotations per step (the runner logs them all, LOGS.md §5).
const MAX_ANNOTATIONS: usize = 200;

/// Substrings that make a line worth a closer look.
const INTERESTING: &[&str] = &[
    "##[",
    "error",
    "Error",
    "ERROR",
    "ERR!",
    "FAIL",
    "fail",
    "Fail",
    "panicked",
    "Traceback",
    "fatal",
    "Fatal",
    "FATAL",
    "Exception",
    "PRIVATE KEY",
    "Killed",
    "timed out",
    "::warning",
    "::notice",
    JOB_TITLE,
];

/// How the runner names the job in its set-up step.
const JOB_TITLE: &str = "Complete job name: ";

/// The subset that makes a line error-like (opens a window).
const ERROR_WORDS: &[&str] = &[
    "error",
    "Error",
    "ERROR",
    "ERR!",
    "FAIL",
    "fail",
    "Fail",
    "panicked",
    "Traceback",
    "fatal",
    "Fatal",
    "FATAL",
    "Exception",
    "Killed",
    "timed out",
];

static INTERESTING_AC: LazyLock<AhoCorasick> = LazyLock::new(|| build_ac(INTERESTING));
static ERROR_AC: LazyLock<AhoCorasick> = LazyLock::new(|| build_ac(ERROR_WORDS));

fn build_ac(words: &[&str]) -> AhoCorasick {
    AhoCorasickBuilder::new()
        .match_kind(MatchKind::LeftmostFirst)
        .build(words)
        .expect("static word list builds")
}

/// How the scanner names and splits steps.
#[derive(Clone, Debug, Default)]
pub struct StepMeta {
    pub job: String,
    pub step: String,
    pub number: Option<u32>,
    pub source: String,
    /// What the jobs API says: `Some(true)` keeps the tail even without an exit-code line.
    pub known_failed: Option<bool>,
}

/// Scanner settings.
#[derive(Clone, Copy, Debug)]
pub struct ScanLimits {
    pub tail_lines: usize,
    pub max_line_bytes: usize,
    /// Start a new step at each `##[group]Run …` line (plain job logs).
    pub split_on_run: bool,
}

/// The last lines of a step, raw (cut to `max_line_bytes`), in one compacting byte buffer.
#[derive(Debug, Default)]
struct Ring {
    buf: Vec<u8>,
    /// Absolute offset of `buf[0]` since the step began.
    base: u64,
    /// (line index, absolute start, length)
    lines: VecDeque<(u64, u64, u32)>,
}

impl Ring {
    fn push(&mut self, index: u64, bytes: &[u8]) {
        let start = self.base + self.buf.len() as u64;
        self.buf.extend_from_slice(bytes);
        self.lines.push_back((index, start, bytes.len() as u32));
    }

    fn pop(&mut self) -> Option<(u64, &[u8])> {
        let (index, start, len) = self.lines.pop_front()?;
        let from = (start - self.base) as usize;
        Some((index, &self.buf[from..from + len as usize]))
    }

    /// Drops the bytes of evicted lines once they outweigh the live ones.
    fn compact(&mut self) {
        let Some(&(_, first, _)) = self.lines.front() else {
            self.base += self.buf.len() as u64;
            self.buf.clear();
            return;
        };
        let dead = (first - self.base) as usize;
        if dead > (1 << 20) && dead > self.buf.len() / 2 {
            self.buf.drain(..dead);
            self.base = first;
        }
    }

    fn get(&self, i: usize) -> (u64, &[u8]) {
        let (index, start, len) = self.lines[i];
        let from = (start - self.base) as usize;
        (index, &self.buf[from..from + len as usize])
    }

    fn clear(&mut self) {
        self.base += self.buf.len() as u64;
        self.buf.clear();
        self.lines.clear();
    }
}

/// Builds one step while its bytes stream by.
#[derive(Debug)]
struct Builder {
    log: StepLog,
    known_failed: Option<bool>,
    ring: Ring,
    /// Next line index (dropped marker lines get none).
    index: u64,
    /// Merged window ranges `[from, to]` of line indices, in order.
    windows: Vec<(u64, u64)>,
    /// Next window range to check evicted lines against.
    window_cursor: usize,
    /// Window lines already cleaned: (index, text, secrets masked in it).
    kept: Vec<(u64, String, u32)>,
    /// Private key blocks: (begin index, end index when seen).
    key_blocks: Vec<(u64, Option<u64>)>,
    in_run_group: bool,
    /// The last record was an annotation: lines without timestamp continue it.
    annotation_open: bool,
}

impl Builder {
    fn new(meta: StepMeta) -> Self {
        let log = StepLog {
            job: meta.job,
            step: meta.step,
            number: meta.number,
            source: meta.source,
            ..StepLog::default()
        };
        Builder {
            log,
            known_failed: meta.known_failed,
            ring: Ring::default(),
            index: 0,
            windows: Vec::new(),
            window_cursor: 0,
            kept: Vec::new(),
            key_blocks: Vec::new(),
            in_run_group: false,
            annotation_open: false,
        }
    }
}

/// Turns a byte stream into steps. Feed chunks of any size, then [`Scanner::finish`].
#[derive(Debug)]
pub struct Scanner {
    limits: ScanLimits,
    meta: StepMeta,
    current: Builder,
    done: Vec<StepLog>,
    /// The start of a line that continues into the next chunk (cut to `max_line_bytes`).
    carry: Vec<u8>,
    /// Full length of the carried line so far.
    carry_len: u64,
    hits: Vec<usize>,
    /// gh's tab-separated `--log` output (`None`: not decided yet).
    tabbed: Option<bool>,
    /// Raw lines seen, and bytes (with their `\n`).
    pub lines: u64,
    pub bytes: u64,
    /// The job's real name from the set-up step's `Complete job name: …` line (the archive
    /// only has the sanitised one).
    pub job_title: Option<String>,
}

impl Scanner {
    pub fn new(meta: StepMeta, limits: ScanLimits) -> Self {
        let limits = ScanLimits {
            tail_lines: limits.tail_lines.max(1),
            max_line_bytes: limits.max_line_bytes.max(16),
            ..limits
        };
        Scanner {
            limits,
            current: Builder::new(meta.clone()),
            meta,
            done: Vec::new(),
            carry: Vec::new(),
            carry_len: 0,
            hits: Vec::new(),
            tabbed: (!limits.split_on_run).then_some(false),
            lines: 0,
            bytes: 0,
            job_title: None,
        }
    }

    /// Scans the next bytes of the log.
    pub fn feed(&mut self, chunk: &[u8]) {
        self.bytes += chunk.len() as u64;
        let mut pos = 0;
        if self.carry_len > 0 || !self.carry.is_empty() {
            match memchr::memchr(b'\n', chunk) {
                Some(nl) => {
                    self.extend_carry(&chunk[..nl]);
                    let carry = std::mem::take(&mut self.carry);
                    self.line(&carry, true);
                    self.carry = carry;
                    self.carry.clear();
                    self.carry_len = 0;
                    pos = nl + 1;
                }
                None => {
                    self.extend_carry(chunk);
                    return;
                }
            }
        }
        let body = &chunk[pos..];
        let last_nl = match memchr::memrchr(b'\n', body) {
            Some(i) => i,
            None => {
                self.extend_carry(body);
                return;
            }
        };
        let whole = &body[..=last_nl];
        self.find_hits(whole);
        let mut start = 0;
        let mut hit = 0;
        for nl in memchr::memchr_iter(b'\n', whole) {
            while hit < self.hits.len() && self.hits[hit] < start {
                hit += 1;
            }
            let interesting = hit < self.hits.len() && self.hits[hit] < nl;
            let line = &whole[start..nl];
            self.line_full(line, line.len() as u64, interesting);
            start = nl + 1;
        }
        self.extend_carry(&body[last_nl + 1..]);
    }

    /// Ends the log: the last line (without `\n`) and the open step.
    pub fn finish(mut self) -> Vec<StepLog> {
        if self.carry_len > 0 {
            let carry = std::mem::take(&mut self.carry);
            self.line(&carry, true);
            // that last line had no `\n`
            self.current.log.total_bytes = self.current.log.total_bytes.saturating_sub(1);
        }
        let current = std::mem::replace(&mut self.current, Builder::new(StepMeta::default()));
        let keep_empty = self.done.is_empty();
        if let Some(step) = finish_step(current, &self.limits, keep_empty) {
            self.done.push(step);
        }
        self.done
    }

    fn extend_carry(&mut self, bytes: &[u8]) {
        let room = self.limits.max_line_bytes.saturating_sub(self.carry.len());
        self.carry
            .extend_from_slice(&bytes[..bytes.len().min(room)]);
        self.carry_len += bytes.len() as u64;
    }

    fn find_hits(&mut self, bytes: &[u8]) {
        self.hits.clear();
        self.hits
            .extend(INTERESTING_AC.find_iter(bytes).map(|m| m.start()));
    }

    /// A carried line: the interesting check was not done for it yet.
    fn line(&mut self, bytes: &[u8], check: bool) {
        let full = self.carry_len.max(bytes.len() as u64);
        let interesting = check && INTERESTING_AC.is_match(bytes);
        self.line_full(bytes, full, interesting);
    }

    /// A line as split: drops gh's `job<TAB>step<TAB>` prefix (switching steps when it
    /// changes), then cuts it to `max_line_bytes`.
    fn line_full(&mut self, line: &[u8], full: u64, interesting: bool) {
        let rest = match self.tabbed {
            Some(false) => line,
            _ => self.tabbed_rest(line),
        };
        let full = full - (line.len() - rest.len()) as u64;
        let cut = &rest[..rest.len().min(self.limits.max_line_bytes)];
        self.line_cut(cut, full, interesting);
    }

    /// `gh run view --log` output: `job<TAB>step<TAB><timestamp> message`. Decided on the
    /// first line; only plain job logs are checked.
    fn tabbed_rest<'l>(&mut self, line: &'l [u8]) -> &'l [u8] {
        let Some((job, step, at)) = split_tabbed(line) else {
            self.tabbed.get_or_insert(false);
            return line;
        };
        if self.tabbed.is_none() {
            let (_, stamped) = clean::strip_prefix(&line[at..]);
            self.tabbed = Some(stamped);
            if !stamped {
                return line;
            }
        }
        if job != self.current.log.job.as_bytes() || step != self.current.log.step.as_bytes() {
            let meta = StepMeta {
                job: String::from_utf8_lossy(job).into_owned(),
                step: String::from_utf8_lossy(step).into_owned(),
                number: None,
                ..self.meta.clone()
            };
            self.switch_step(meta);
        }
        &line[at..]
    }

    /// One line: `bytes` is already cut to `max_line_bytes`, `full` its real length.
    fn line_cut(&mut self, bytes: &[u8], full: u64, interesting: bool) {
        self.lines += 1;
        if self.current.annotation_open || self.current.in_run_group {
            self.continuation(bytes);
        }
        let keep = !interesting || self.marked_line(bytes);
        let b = &mut self.current;
        b.log.total_lines += 1;
        b.log.total_bytes += full + 1;
        if !keep {
            return;
        }
        let index = b.index;
        b.index += 1;
        b.ring.push(index, bytes);
        if b.ring.lines.len() > self.limits.tail_lines {
            evict_one(b);
            b.ring.compact();
        }
    }

    /// Lines that follow an annotation or sit in a `Run` group's script echo.
    fn continuation(&mut self, bytes: &[u8]) {
        let (rest, stamped) = clean::strip_prefix(bytes);
        let b = &mut self.current;
        if b.annotation_open {
            if stamped {
                b.annotation_open = false;
            } else if let Some(a) = b.log.annotations.last_mut() {
                clean::continue_annotation(a, &clean::clean_text(rest));
            }
        }
        if b.in_run_group && clean::is_script_echo(rest) && b.log.commands.len() < MAX_COMMANDS {
            let cmd = clean::clean_text(rest).trim().to_string();
            if !cmd.is_empty() && b.log.commands.last() != Some(&cmd) {
                b.log.commands.push(cmd);
            }
        }
    }

    /// Reads a line that holds a marker or an error word. Returns false when the line is
    /// dropped (`##[endgroup]`, `##[debug]`).
    fn marked_line(&mut self, bytes: &[u8]) -> bool {
        let c = clean::clean_line(bytes);
        match c.marker {
            Marker::EndGroup => {
                self.current.in_run_group = false;
                return false;
            }
            Marker::Debug => return false,
            Marker::Group => self.group(c.body()),
            Marker::Issue(level) => self.issue(level, c.body(), c.stamped),
            Marker::None => {
                if let Some(name) = c.text.strip_prefix(JOB_TITLE) {
                    self.job_title
                        .get_or_insert_with(|| name.trim().to_string());
                }
                self.workflow_command(c.text.trim_start());
            }
            Marker::Other => {}
        }
        let b = &mut self.current;
        if c.text.contains("PRIVATE KEY") {
            mark_key_block(b, &c.text);
        }
        let error_like = c.marker == Marker::Issue(Level::Error)
            || (c.marker == Marker::None && ERROR_AC.is_match(&c.text));
        if error_like {
            open_window(b);
        }
        true
    }

    /// A `::warning file=…::msg` line that reached the log as text.
    fn workflow_command(&mut self, text: &str) {
        let level = match text {
            t if t.starts_with("::error") => Level::Error,
            t if t.starts_with("::warning") => Level::Warning,
            t if t.starts_with("::notice") => Level::Notice,
            _ => return,
        };
        let b = &mut self.current;
        if b.log.annotations.len() < MAX_ANNOTATIONS && text[2..].contains("::") {
            b.log.annotations.push(clean::annotation(level, text));
        }
    }

    fn group(&mut self, title: &str) {
        let Some(cmd) = title.strip_prefix("Run ") else {
            return;
        };
        if self.limits.split_on_run && self.tabbed != Some(true) && self.current.index > 0 {
            self.start_step(title);
        }
        let b = &mut self.current;
        b.in_run_group = true;
        if b.log.commands.len() < MAX_COMMANDS {
            b.log.commands.push(cmd.trim().to_string());
        }
    }

    fn issue(&mut self, level: Level, body: &str, stamped: bool) {
        let b = &mut self.current;
        if level == Level::Error {
            if let Some(code) = clean::exit_code(body) {
                b.log.exit_code = Some(code);
            }
            b.log.failed = true;
        }
        if b.log.annotations.len() < MAX_ANNOTATIONS {
            b.log.annotations.push(clean::annotation(level, body));
            b.annotation_open = stamped;
        }
    }

    /// Plain job logs: a `##[group]Run …` line starts the next step.
    fn start_step(&mut self, title: &str) {
        let meta = StepMeta {
            step: title.trim().to_string(),
            number: None,
            ..self.meta.clone()
        };
        self.switch_step(meta);
    }

    fn switch_step(&mut self, meta: StepMeta) {
        let old = std::mem::replace(&mut self.current, Builder::new(meta));
        if let Some(step) = finish_step(old, &self.limits, false) {
            self.done.push(step);
        }
    }
}

/// `job<TAB>step<TAB>rest` → (job, step, offset of rest), looked for in the first 1 KiB.
fn split_tabbed(line: &[u8]) -> Option<(&[u8], &[u8], usize)> {
    let head = &line[..line.len().min(1024)];
    let t1 = memchr::memchr(b'\t', head)?;
    let t2 = memchr::memchr(b'\t', &head[t1 + 1..])? + t1 + 1;
    (t1 > 0 && t2 > t1 + 1).then(|| (&line[..t1], &line[t1 + 1..t2], t2 + 1))
}

fn mark_key_block(b: &mut Builder, text: &str) {
    let open = b.key_blocks.last().is_some_and(|(_, end)| end.is_none());
    if text.contains("-----BEGIN") && !text.contains("-----END") && !open && b.key_blocks.len() < 64
    {
        b.key_blocks.push((b.index, None));
    } else if text.contains("-----END")
        && open
        && let Some(last) = b.key_blocks.last_mut()
    {
        last.1 = Some(b.index);
    }
}

/// An error-like line at the next index: keep ±[`WINDOW_RADIUS`] lines around it.
fn open_window(b: &mut Builder) {
    let from = b.index.saturating_sub(WINDOW_RADIUS);
    let to = b.index + WINDOW_RADIUS;
    if let Some(last) = b.windows.last_mut()
        && from <= last.1 + 1
    {
        last.1 = last.1.max(to);
        return;
    }
    if b.windows.len() < MAX_WINDOWS {
        b.windows.push((from, to));
    }
}

/// The oldest ring line leaves the tail: keep it if a window covers it.
fn evict_one(b: &mut Builder) {
    let Some((index, bytes)) = b.ring.pop() else {
        return;
    };
    while b.window_cursor < b.windows.len() && b.windows[b.window_cursor].1 < index {
        b.window_cursor += 1;
    }
    let covered = b.windows.get(b.window_cursor).is_some_and(|w| w.0 <= index);
    if covered {
        let in_key = in_key_block(&b.key_blocks, index);
        let (text, n) = clean_masked(bytes, in_key);
        b.kept.push((index, text, n));
    }
}

fn in_key_block(blocks: &[(u64, Option<u64>)], index: u64) -> bool {
    blocks
        .iter()
        .any(|&(from, to)| index > from && to.is_none_or(|t| index < t))
}

/// A kept line, cleaned and masked (wholly masked inside a private key block).
fn clean_masked(bytes: &[u8], in_key: bool) -> (String, u32) {
    let c = clean::clean_line(bytes);
    if in_key && !c.text.trim().is_empty() {
        return (secrets::MASK.to_string(), 1);
    }
    let mut text = c.text;
    let n = secrets::mask_line(&mut text);
    (text, n)
}

/// Closes a step: decides what of the tail to keep and lays out the lines with gaps.
fn finish_step(mut b: Builder, limits: &ScanLimits, keep_empty: bool) -> Option<StepLog> {
    if b.log.total_lines == 0 && !keep_empty {
        return None;
    }
    if b.known_failed == Some(true) {
        b.log.failed = true;
    }
    let keep = if b.log.failed {
        limits.tail_lines
    } else {
        PASSED_TAIL.min(limits.tail_lines)
    };
    while b.ring.lines.len() > keep {
        evict_one(&mut b);
    }
    if !b.log.failed
        && let Some(last) = b.windows.get(PASSED_WINDOWS - 1)
    {
        let end = last.1;
        b.kept.retain(|(index, _, _)| *index <= end);
    }
    let mut lines = Vec::with_capacity(b.kept.len() + b.ring.lines.len() + 8);
    let mut next = 0u64;
    let mut masked = 0;
    for (index, text, n) in std::mem::take(&mut b.kept) {
        masked += n;
        push_with_gap(&mut lines, &mut next, index, text);
    }
    for i in 0..b.ring.lines.len() {
        let (index, bytes) = b.ring.get(i);
        let (text, n) = clean_masked(bytes, in_key_block(&b.key_blocks, index));
        masked += n;
        push_with_gap(&mut lines, &mut next, index, text);
    }
    if next < b.index {
        lines.push(StepLog::GAP.to_string());
    }
    b.ring.clear();
    for a in &mut b.log.annotations {
        masked += secrets::mask_line(&mut a.message);
    }
    for c in &mut b.log.commands {
        masked += secrets::mask_line(c);
    }
    b.log.lines = lines;
    b.log.masked = masked;
    Some(b.log)
}

fn push_with_gap(lines: &mut Vec<String>, next: &mut u64, index: u64, text: String) {
    if index > *next {
        lines.push(StepLog::GAP.to_string());
    }
    lines.push(text);
    *next = index + 1;
}

/// Scans a whole in-memory log (tests, small inputs).
pub fn scan_bytes(bytes: &[u8], meta: StepMeta, limits: ScanLimits) -> Vec<StepLog> {
    let mut s = Scanner::new(meta, limits);
    s.feed(bytes);
    s.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const TS: &str = "2023-06-29T18:15:54.4601154Z ";

    fn limits(tail: usize) -> ScanLimits {
        ScanLimits {
            tail_lines: tail,
            max_line_bytes: 4096,
            split_on_run: false,
        }
    }

    fn meta() -> StepMeta {
        StepMeta {
            job: "build".into(),
            step: "Run tests".into(),
            number: Some(3),
            source: "build/3_Run tests.txt".into(),
            known_failed: None,
        }
    }

    fn stamped(lines: &[&str]) -> String {
        lines.iter().map(|l| format!("{TS}{l}\n")).collect()
    }

    fn scan(text: &str, tail: usize) -> StepLog {
        let mut steps = scan_bytes(text.as_bytes(), meta(), limits(tail));
        assert_eq!(steps.len(), 1);
        steps.remove(0)
    }

    #[test]
    fn failed_step_keeps_tail_markers_and_commands() {
        let text = stamped(&[
            "##[group]Run pytest -q",
            "\x1b[36;1mpytest -q\x1b[0m",
            "\x1b[36;1mecho done\x1b[0m",
            "shell: /usr/bin/bash -e {0}",
            "##[endgroup]",
            "##[debug]hidden",
            "E   assert 1 == 2",
            "##[error]Process completed with exit code 1.",
        ]);
        let s = scan(&text, 100);
        assert!(s.failed);
        assert_eq!(s.exit_code, Some(1));
        assert_eq!(s.commands, vec!["pytest -q", "echo done"]);
        assert_eq!(
            s.lines,
            vec![
                "##[group]Run pytest -q",
                "pytest -q",
                "echo done",
                "shell: /usr/bin/bash -e {0}",
                "E   assert 1 == 2",
                "##[error]Process completed with exit code 1."
            ]
        );
        assert_eq!(s.annotations.len(), 1);
        assert_eq!(s.total_lines, 8);
        assert_eq!(s.total_bytes, text.len() as u64);
    }

    #[test]
    fn continuation_lines_join_the_annotation() {
        let text = format!("{TS}##[error]first line\nsecond line\n{TS}after\n");
        let s = scan(&text, 100);
        assert_eq!(s.annotations[0].message, "first line\nsecond line");
        assert_eq!(s.lines, vec!["##[error]first line", "second line", "after"]);
    }

    #[test]
    fn bom_mid_file_and_crlf() {
        let text = format!(
            "\u{feff}{TS}one\r\n\u{feff}{TS}two\r\n{TS}##[error]Process completed with exit code 2.\r\n"
        );
        let s = scan(&text, 100);
        assert_eq!(
            s.lines,
            vec!["one", "two", "##[error]Process completed with exit code 2."]
        );
        assert_eq!(s.exit_code, Some(2));
    }

    #[test]
    fn windows_keep_early_errors_with_gaps() {
        let mut lines: Vec<String> = (0..100).map(|i| format!("noise {i}")).collect();
        lines[20] = "error: early root cause".into();
        lines.push("##[error]Process completed with exit code 1.".into());
        let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
        let s = scan(&stamped(&refs), 10);
        let gap = StepLog::GAP;
        assert_eq!(s.lines[0], gap);
        assert_eq!(s.lines[1], "noise 15");
        assert_eq!(s.lines[6], "error: early root cause");
        assert_eq!(s.lines[11], "noise 25");
        assert_eq!(s.lines[12], gap);
        assert_eq!(s.lines.len(), 13 + 10);
        assert_eq!(
            s.lines.last().unwrap(),
            "##[error]Process completed with exit code 1."
        );
    }

    #[test]
    fn passed_step_keeps_little() {
        let lines: Vec<String> = (0..5000).map(|i| format!("ok {i}")).collect();
        let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
        let s = scan(&stamped(&refs), 2000);
        assert!(!s.failed);
        assert_eq!(s.lines.len(), PASSED_TAIL + 1);
        assert_eq!(s.lines[0], StepLog::GAP);
        assert_eq!(s.total_lines, 5000);
    }

    #[test]
    fn passed_step_keeps_few_windows() {
        let lines: Vec<String> = (0..5000)
            .map(|i| {
                if i % 100 == 0 {
                    format!("test_error_{i} ok")
                } else {
                    format!("ok {i}")
                }
            })
            .collect();
        let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
        let s = scan(&stamped(&refs), 2000);
        let windows = s
            .lines
            .iter()
            .filter(|l| l.starts_with("test_error_"))
            .count();
        assert_eq!(windows, PASSED_WINDOWS);
        assert!(s.lines.len() < PASSED_WINDOWS * 12 + PASSED_TAIL + 2);
    }

    #[test]
    fn commands_are_masked() {
        let text = stamped(&[
            "##[group]Run curl -H 'token: ghp_16C7e42F292c6912E7710c838347Ae178B4a' x",
            "##[endgroup]",
        ]);
        let s = scan(&text, 100);
        assert_eq!(s.commands, vec!["curl -H 'token: ***' x"]);
    }

    #[test]
    fn known_failed_keeps_the_tail() {
        let lines: Vec<String> = (0..50).map(|i| format!("ok {i}")).collect();
        let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
        let m = StepMeta {
            known_failed: Some(true),
            ..meta()
        };
        let s = scan_bytes(stamped(&refs).as_bytes(), m, limits(2000)).remove(0);
        assert!(s.failed);
        assert_eq!(s.lines.len(), 50);
    }

    #[test]
    fn long_lines_are_cut_and_counted() {
        let long = "x".repeat(100_000);
        let text = format!("{TS}{long}\n{TS}short\n");
        let l = ScanLimits {
            tail_lines: 10,
            max_line_bytes: 100,
            split_on_run: false,
        };
        let mut sc = Scanner::new(meta(), l);
        for chunk in text.as_bytes().chunks(777) {
            sc.feed(chunk);
        }
        let s = sc.finish().remove(0);
        assert_eq!(s.total_lines, 2);
        assert_eq!(s.total_bytes, text.len() as u64);
        assert_eq!(s.lines.len(), 2);
        assert_eq!(s.lines[0].len(), 100 - TS.len());
        assert_eq!(s.lines[1], "short");
    }

    #[test]
    fn private_key_block_is_masked_even_in_tail() {
        let text = stamped(&[
            "-----BEGIN OPENSSH PRIVATE KEY-----",
            "b3BlbnNzaC1rZXktdjEAAAAA",
            "QyNTUxOQAAACBvZXJ0eXVp",
            "-----END OPENSSH PRIVATE KEY-----",
            "token=abcdef123456",
            "##[error]Process completed with exit code 1.",
        ]);
        let s = scan(&text, 100);
        assert_eq!(s.lines[1], "***");
        assert_eq!(s.lines[2], "***");
        assert_eq!(s.lines[4], "token=***");
        assert_eq!(s.masked, 3);
    }

    #[test]
    fn plain_job_log_splits_at_run_groups() {
        let text = stamped(&[
            "Current runner version: '2.321.0'",
            "##[group]Run actions/checkout@v4",
            "##[endgroup]",
            "Syncing repository",
            "##[group]Run cargo test",
            "error[E0308]: mismatched types",
            "##[error]Process completed with exit code 101.",
        ]);
        let l = ScanLimits {
            split_on_run: true,
            ..limits(100)
        };
        let m = StepMeta {
            step: StepLog::UNKNOWN_STEP.into(),
            number: None,
            ..meta()
        };
        let steps = scan_bytes(text.as_bytes(), m, l);
        let names: Vec<&str> = steps.iter().map(|s| s.step.as_str()).collect();
        assert_eq!(
            names,
            vec![
                StepLog::UNKNOWN_STEP,
                "Run actions/checkout@v4",
                "Run cargo test"
            ]
        );
        assert!(steps[2].failed && !steps[1].failed);
        assert_eq!(steps[2].exit_code, Some(101));
        assert_eq!(steps[2].commands, vec!["cargo test"]);
        assert_eq!(steps.iter().map(|s| s.total_lines).sum::<u64>(), 7);
    }

    #[test]
    fn bytes_are_counted_exactly() {
        let s = scan("a\nbc", 10);
        assert_eq!((s.total_lines, s.total_bytes), (2, 4));
        let s = scan("a\nbc\n", 10);
        assert_eq!((s.total_lines, s.total_bytes), (2, 5));
    }

    #[test]
    fn empty_input_gives_one_empty_step() {
        let steps = scan_bytes(b"", meta(), limits(10));
        assert_eq!(steps.len(), 1);
        assert!(steps[0].lines.is_empty());
    }

    fn kept_real_lines(steps: &[StepLog]) -> Vec<String> {
        steps
            .iter()
            .flat_map(|s| s.lines.iter().filter(|l| *l != StepLog::GAP).cloned())
            .collect()
    }

    proptest! {
        #[test]
        fn chunking_does_not_change_the_result(
            lines in proptest::collection::vec("[a-zA-Z #\\[\\]:0-9]{0,40}", 0..200),
            cuts in proptest::collection::vec(1usize..64, 1..20),
            tail in 1usize..30,
        ) {
            let text: String = lines.iter().enumerate().map(|(i, l)| format!("{i:05} {l}\n")).collect();
            let l = ScanLimits { tail_lines: tail, max_line_bytes: 4096, split_on_run: false };
            let whole = scan_bytes(text.as_bytes(), meta(), l);
            let mut sc = Scanner::new(meta(), l);
            let mut rest = text.as_bytes();
            let mut i = 0;
            while !rest.is_empty() {
                let n = cuts[i % cuts.len()].min(rest.len());
                sc.feed(&rest[..n]);
                rest = &rest[n..];
                i += 1;
            }
            let parts = sc.finish();
            prop_assert_eq!(&whole, &parts);
            // nothing kept twice: every kept line carries its unique number, in order
            let kept = kept_real_lines(&whole);
            let nums: Vec<&str> = kept.iter().map(|l| &l[..5]).collect();
            let mut sorted = nums.clone();
            sorted.sort();
            sorted.dedup();
            prop_assert_eq!(nums, sorted);
            prop_assert_eq!(whole.iter().map(|s| s.total_lines).sum::<u64>(), lines.len() as u64);
        }

        #[test]
        fn any_bytes_scan_without_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2000), tail in 1usize..20) {
            let l = ScanLimits { tail_lines: tail, max_line_bytes: 64, split_on_run: true };
            let steps = scan_bytes(&bytes, meta(), l);
            let lines: u64 = steps.iter().map(|s| s.total_lines).sum();
            let expected = bytes.iter().filter(|&&b| b == b'\n').count() as u64 + u64::from(!bytes.is_empty() && bytes.last() != Some(&b'\n'));
            prop_assert_eq!(lines, expected);
        }
    }
}
