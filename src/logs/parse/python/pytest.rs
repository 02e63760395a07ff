//! pytest's report: the `FAILURES` and `ERRORS` sections in every `--tb` style
//! (auto/long/short: `path:12: in f` locations and `E   ` lines; native: `File "…"`
//! frames; line: one `path:12: Error: msg` per failure; no: none), collection and fixture
//! errors, and the short test summary (`FAILED tests/x.py::test_y[1] - msg`), which gives
//! the node ids and is the only source with `--tb=no`.

use std::sync::LazyLock;

use regex::Regex;

use super::super::Found;
use super::super::generic::one_line;
use super::super::util::window;
use super::traceback::{EXCEPTION, classify, frame_of, location};
use crate::logs::{Failure, Frame, Kind};

static SECTION: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^=+ (FAILURES|ERRORS) =+$").unwrap());
static RULE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^=+ .* =+$|^=+$").unwrap());
static BLOCK: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^_{3,} (.+?) _{3,}$").unwrap());
static SUMMARY: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(FAILED|ERROR) ([^\s\[]+(?:\[.*?\])?)(?: - (.*))?$").unwrap());
/// `tests/x.py:12: in test_y`, `app/x.py:9: ZeroDivisionError`, `tests/x.py:9: ` and the
/// bare `/abs/tests/x.py:4` ending a fixture error.
static LOCATION: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^((?:[A-Za-z]:)?[^\s:]+):(\d+)(?:: ?(.*))?$").unwrap());
static FIXTURE_DEF: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^file (.+), line (\d+)$").unwrap());
static FIXTURE_MISSING: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"fixture '([^']+)' not found").unwrap());
static E_LINE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^E(?:\s+(.*))?$").unwrap());
static USAGE_ERROR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^ERROR: (file or directory not found: .*|usage: .*|not found: .*|.*unrecognized arguments.*)$").unwrap()
});

/// One `FAILED`/`ERROR` line of the short summary.
struct Summary {
    at: usize,
    node: String,
    message: Option<String>,
    error: bool,
}

/// Failures pytest reported; marks the lines it read in `covered`.
pub(super) fn parse(lines: &[String], covered: &mut [bool]) -> Vec<Found> {
    let summary = read_summary(lines);
    let mut found = Vec::new();
    let mut claimed = vec![false; summary.len()];
    for (start, end) in sections(lines) {
        covered[start..end].iter_mut().for_each(|c| *c = true);
        let blocks = blocks(lines, start + 1, end);
        if blocks.is_empty() {
            found.extend(line_style(lines, start + 1, end, &summary, &mut claimed));
        }
        for (at, header, to) in blocks {
            found.push(from_block(lines, at, &header, to, &summary, &mut claimed));
        }
    }
    for (s, _) in summary.iter().zip(&claimed).filter(|(_, c)| !**c) {
        covered[s.at] = true;
        found.push(from_summary(lines, s));
    }
    found.extend(usage_errors(lines));
    found
}

/// `[start, end)` of each FAILURES/ERRORS section (header included).
fn sections(lines: &[String]) -> Vec<(usize, usize)> {
    let heads: Vec<usize> = (0..lines.len())
        .filter(|&i| SECTION.is_match(&lines[i]))
        .collect();
    heads
        .iter()
        .map(|&h| {
            let end = (h + 1..lines.len())
                .find(|&j| RULE.is_match(&lines[j]))
                .unwrap_or(lines.len());
            (h, end)
        })
        .collect()
}

/// `(header index, header text, end)` of each `____ name ____` block in `[from, to)`.
fn blocks(lines: &[String], from: usize, to: usize) -> Vec<(usize, String, usize)> {
    let heads: Vec<(usize, String)> = (from..to)
        .filter_map(|i| {
            BLOCK
                .captures(&lines[i])
                .map(|c| (i, c[1].trim().to_string()))
        })
        .collect();
    heads
        .iter()
        .enumerate()
        .map(|(n, (i, name))| (*i, name.clone(), heads.get(n + 1).map_or(to, |h| h.0)))
        .collect()
}

fn read_summary(lines: &[String]) -> Vec<Summary> {
    let Some(start) = lines
        .iter()
        .rposition(|l| l.contains(" short test summary info "))
    else {
        return Vec::new();
    };
    (start + 1..lines.len())
        .filter_map(|i| {
            let c = SUMMARY.captures(&lines[i])?;
            Some(Summary {
                at: i,
                node: c[2].to_string(),
                message: c.get(3).map(|m| one_line(m.as_str())),
                error: &c[1] == "ERROR",
            })
        })
        .collect()
}

/// What one traceback block says: frames, `E` lines and the exception named by the last
/// location line.
#[derive(Default)]
struct BlockFacts {
    frames: Vec<Frame>,
    e_lines: Vec<String>,
    exception: Option<String>,
    native_exception: Option<String>,
}

fn read_block(lines: &[String], from: usize, to: usize) -> BlockFacts {
    let mut facts = BlockFacts::default();
    for line in &lines[from..to] {
        if let Some(c) = E_LINE.captures(line) {
            let text = c.get(1).map_or("", |m| m.as_str());
            if let Some(frame) = frame_of(text) {
                push_frame(&mut facts.frames, frame);
            }
            facts.e_lines.push(text.to_string());
        } else if let Some(frame) = frame_of(line) {
            push_frame(&mut facts.frames, frame);
        } else if let Some(c) = FIXTURE_DEF.captures(line) {
            push_frame(
                &mut facts.frames,
                Frame {
                    file: c[1].to_string(),
                    line: c[2].parse().ok(),
                    function: None,
                },
            );
        } else if let Some(c) = LOCATION.captures(line) {
            read_location(&c, &mut facts);
        } else if EXCEPTION.is_match(line) {
            facts.native_exception = Some(one_line(line));
        }
    }
    facts
}

fn read_location(c: &regex::Captures, facts: &mut BlockFacts) {
    let rest = c.get(3).map_or("", |m| m.as_str().trim());
    let function = rest.strip_prefix("in ").map(str::to_string);
    if function.is_none() && !rest.is_empty() {
        facts.exception = Some(rest.to_string());
    }
    push_frame(
        &mut facts.frames,
        Frame {
            file: c[1].to_string(),
            line: c[2].parse().ok(),
            function,
        },
    );
}

/// Adds `frame` unless it repeats the previous one (pytest names some locations twice).
fn push_frame(frames: &mut Vec<Frame>, frame: Frame) {
    let same = frames
        .last()
        .is_some_and(|l| l.file == frame.file && l.line == frame.line);
    if same {
        if frame.function.is_some() {
            frames.last_mut().unwrap().function = frame.function;
        }
    } else {
        frames.push(frame);
    }
}

impl BlockFacts {
    /// The exception line (`E   SomeError: msg`) or else the first `E` line.
    fn message(&self) -> Option<String> {
        let e = self
            .e_lines
            .iter()
            .map(|l| l.trim())
            .filter(|l| !l.is_empty());
        let exception = e
            .clone()
            .find(|l| EXCEPTION.is_match(l) && !l.starts_with("File "));
        exception
            .or_else(|| e.clone().next())
            .map(one_line)
            .or_else(|| self.native_exception.clone())
    }
}

/// A failure from one `____ name ____` block.
fn from_block(
    lines: &[String],
    at: usize,
    header: &str,
    to: usize,
    summary: &[Summary],
    claimed: &mut [bool],
) -> Found {
    let facts = read_block(lines, at + 1, to);
    let name = test_name(header);
    let matched = match header.strip_prefix("ERROR collecting ") {
        Some(file) => claim(summary, claimed, |s| s.node == file.trim()),
        None => name
            .as_deref()
            .and_then(|n| claim(summary, claimed, |s| node_tail(&s.node) == n)),
    };
    let message = facts
        .message()
        .or_else(|| matched.and_then(|m| summary[m].message.clone()))
        .or_else(|| facts.exception.clone())
        .unwrap_or_else(|| header.to_string());
    let (kind, mut symbol) = classify(&message, Kind::TestFailure);
    if let Some(c) = FIXTURE_MISSING.captures(&message) {
        symbol = Some(c[1].to_string());
    }
    let mut f = Failure::new("pytest", kind, message);
    f.symbol = symbol;
    if let Some(loc) = location(&facts.frames) {
        f = f.at(loc.file.clone(), loc.line, None);
    } else if let Some(m) = matched {
        f = f.at(node_file(&summary[m].node), None, None);
    } else if let Some(file) = header.strip_prefix("ERROR collecting ") {
        f = f.at(file.trim(), None, None);
    }
    f.test = match matched {
        Some(m) => Some(summary[m].node.clone()).filter(|n| n.contains("::")),
        None => name,
    };
    f.frames = facts.frames;
    let excerpt_at = last_e_line(lines, at, to).unwrap_or(at);
    let f = f.with_excerpt(&window(lines, excerpt_at, (excerpt_at - at).min(10), 2));
    Found { at, failure: f }
}

fn last_e_line(lines: &[String], from: usize, to: usize) -> Option<usize> {
    (from..to).rev().find(|&i| E_LINE.is_match(&lines[i]))
}

/// The test a block header names; `None` for collection errors.
fn test_name(header: &str) -> Option<String> {
    if header.starts_with("ERROR collecting ") {
        return None;
    }
    let name = [
        "ERROR at setup of ",
        "ERROR at teardown of ",
        "ERROR at call of ",
    ]
    .iter()
    .find_map(|p| header.strip_prefix(p))
    .unwrap_or(header);
    Some(name.trim().to_string())
}

/// The first unclaimed summary entry that `wanted` accepts.
fn claim(
    summary: &[Summary],
    claimed: &mut [bool],
    wanted: impl Fn(&Summary) -> bool,
) -> Option<usize> {
    let i = (0..summary.len()).find(|&i| !claimed[i] && wanted(&summary[i]))?;
    claimed[i] = true;
    Some(i)
}

/// `tests/x.py::TestY::test_z[1]` → `TestY.test_z[1]` (how block headers name tests).
fn node_tail(node: &str) -> String {
    match node.split_once("::") {
        Some((_, tail)) => {
            let (path, params) = match tail.find('[') {
                Some(b) => tail.split_at(b),
                None => (tail, ""),
            };
            format!("{}{params}", path.replace("::", "."))
        }
        None => node.to_string(),
    }
}

fn node_file(node: &str) -> String {
    node.split("::").next().unwrap_or(node).to_string()
}

/// `--tb=line`: one `path:12: Error: msg` line per failure, in summary order.
fn line_style(
    lines: &[String],
    from: usize,
    to: usize,
    summary: &[Summary],
    claimed: &mut [bool],
) -> Vec<Found> {
    let failed: Vec<usize> = (0..summary.len()).filter(|&i| !summary[i].error).collect();
    let mut n = 0;
    let mut found = Vec::new();
    for i in from..to {
        let Some(c) = LOCATION.captures(&lines[i]) else {
            continue;
        };
        let message = c.get(3).map_or("", |m| m.as_str().trim()).to_string();
        if message.is_empty() {
            continue;
        }
        let (kind, symbol) = classify(&message, Kind::TestFailure);
        let mut f =
            Failure::new("pytest", kind, one_line(&message)).at(&c[1], c[2].parse().ok(), None);
        f.symbol = symbol;
        if let Some(&s) = failed.get(n) {
            claimed[s] = true;
            f.test = Some(summary[s].node.clone());
        }
        n += 1;
        found.push(Found {
            at: i,
            failure: f.with_excerpt(&window(lines, i, 1, 0)),
        });
    }
    found
}

/// A failure known only from the short summary (`--tb=no`, or blocks cut from the log).
fn from_summary(lines: &[String], s: &Summary) -> Found {
    let message = s
        .message
        .clone()
        .unwrap_or_else(|| format!("{} {}", if s.error { "ERROR" } else { "FAILED" }, s.node));
    let (kind, symbol) = classify(&message, Kind::TestFailure);
    let mut f = Failure::new("pytest", kind, message).at(node_file(&s.node), None, None);
    f.symbol = symbol;
    f.test = Some(s.node.clone()).filter(|n| n.contains("::"));
    Found {
        at: s.at,
        failure: f.with_excerpt(&window(lines, s.at, 0, 2)),
    }
}

/// `ERROR: file or directory not found: tests/x` and other command-line mistakes.
fn usage_errors(lines: &[String]) -> Vec<Found> {
    (0..lines.len())
        .filter(|&i| USAGE_ERROR.is_match(&lines[i]))
        .map(|i| {
            let f = Failure::new("pytest", Kind::Config, one_line(&lines[i]));
            Found {
                at: i,
                failure: f.with_excerpt(&window(lines, i, 2, 1)),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str) -> Vec<Failure> {
        let l: Vec<String> = text.lines().map(str::to_string).collect();
        parse(&l, &mut vec![false; l.len()])
            .into_iter()
            .map(|f| f.failure)
            .collect()
    }

    #[test]
    fn class_tests_match_their_summary_entries() {
        let f = run(
            "=================================== FAILURES ===================================\n\
             _____________________________ TestCart.test_total ______________________________\n\
             \n\
             self = <tests.test_cart.TestCart object at 0x7f>\n\
             \n\
             \x20   def test_total(self):\n\
             >       assert total([1]) == 2\n\
             E       assert 1 == 2\n\
             \n\
             tests/test_cart.py:5: AssertionError\n\
             =========================== short test summary info ============================\n\
             FAILED tests/test_cart.py::TestCart::test_total - assert 1 == 2\n\
             ============================== 1 failed in 0.01s ===============================",
        );
        assert_eq!(f.len(), 1);
        assert_eq!(
            f[0].test.as_deref(),
            Some("tests/test_cart.py::TestCart::test_total")
        );
        assert_eq!(
            (f[0].file.as_deref(), f[0].line),
            (Some("tests/test_cart.py"), Some(5))
        );
        assert_eq!(f[0].message, "assert 1 == 2");
    }

    #[test]
    fn collection_syntax_error_inside_e_lines() {
        let f = run(
            "==================================== ERRORS ====================================\n\
             _____________________ ERROR collecting tests/test_bad.py _______________________\n\
             /opt/hostedtoolcache/Python/3.12.1/x64/lib/python3.12/site-packages/_pytest/python.py:493: in importtestmodule\n\
             \x20   mod = import_path(\n\
             E     File \"/home/runner/work/app/app/tests/test_bad.py\", line 3\n\
             E       def test_x(:\n\
             E                  ^\n\
             E   SyntaxError: invalid syntax\n\
             =========================== short test summary info ============================\n\
             ERROR tests/test_bad.py\n\
             !!!!!!!!!!!!!!!!!!!! Interrupted: 1 error during collection !!!!!!!!!!!!!!!!!!!!",
        );
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].kind, Kind::SyntaxError);
        assert_eq!(f[0].message, "SyntaxError: invalid syntax");
        assert_eq!(
            f[0].file.as_deref(),
            Some("/home/runner/work/app/app/tests/test_bad.py")
        );
        assert_eq!(f[0].line, Some(3));
        assert_eq!(f[0].test, None);
    }

    #[test]
    fn summary_alone_still_reports_each_failure() {
        let f = run(
            "=========================== short test summary info ============================\n\
             FAILED tests/test_a.py::test_one[a - b] - ValueError: bad [x]\n\
             FAILED tests/test_a.py::test_two\n\
             ========================= 2 failed in 0.01s ==========================",
        );
        assert_eq!(f.len(), 2);
        assert_eq!(
            f[0].test.as_deref(),
            Some("tests/test_a.py::test_one[a - b]")
        );
        assert_eq!(f[0].message, "ValueError: bad [x]");
        assert_eq!(f[1].file.as_deref(), Some("tests/test_a.py"));
    }

    #[test]
    fn usage_error_is_config() {
        let f = run("ERROR: file or directory not found: tests/unit\n\nno tests ran in 0.01s");
        assert_eq!(f[0].kind, Kind::Config);
    }
}
