//! `cargo test` and `cargo nextest` failures: panics (old and new message styles), doc-tests,
//! backtraces, and tests named only in the `failures:` list.

use super::*;

/// One panic: where it happened, what it said, and the backtrace if there was one.
pub(super) fn panics(lines: &[String]) -> Vec<Found> {
    let mut out = Vec::new();
    let mut section: Option<String> = None;
    let mut in_tests = false;
    for (i, line) in lines.iter().enumerate() {
        let trimmed = line.trim();
        if let Some(c) = SECTION.captures(trimmed) {
            section = Some(c[1].to_string());
        }
        let running = trimmed.starts_with("running ")
            && (trimmed.ends_with(" test") || trimmed.ends_with(" tests"));
        in_tests |= running || NEXTEST_FAILED.is_match(line);
        if let Some(c) = PANIC.captures(line) {
            let thread = c[1].to_string();
            if let Some(f) = panic_failure(lines, i, &thread, &c[2], section.as_deref(), in_tests) {
                out.push(Found { at: i, failure: f });
            }
        }
    }
    out
}

/// The failure for the panic at `lines[at]`.
pub(super) fn panic_failure(
    lines: &[String],
    at: usize,
    thread: &str,
    rest: &str,
    section: Option<&str>,
    in_tests: bool,
) -> Option<Failure> {
    let (message, file, line, col) = panic_site(lines, at, rest)?;
    let named = !matches!(thread, "main" | "<unnamed>" | "");
    let test = if named {
        Some(thread.to_string())
    } else {
        section.map(str::to_string)
    };
    let is_test = in_tests || section.is_some() || named;
    let (tool, kind) = if is_test {
        ("cargo-test", Kind::TestFailure)
    } else {
        ("cargo", Kind::Unknown)
    };
    let head = format!("thread '{thread}' panicked at {file}:{line}:{col}");
    let mut failure = Failure::new(tool, kind, if message.is_empty() { head } else { message });
    failure.frames = backtrace(lines, at);
    let (mut file, mut line) = (file, Some(line));
    if let Some((doc_file, doc_line)) = test.as_deref().and_then(doctest_site) {
        (file, line) = (doc_file, Some(doc_line));
    } else if let Some(f) = failure.frames.last().filter(|_| !is_own_path(&file)) {
        (file, line) = (f.file.clone(), f.line);
    }
    failure = failure.at(file, line, if line.is_some() { Some(col) } else { None });
    failure.test = test;
    Some(failure.with_excerpt(&window(lines, at, 1, 6)))
}

/// Message, file, line and column of a panic, new style (`panicked at f:l:c:` and the
/// message on the next lines) or old style (`panicked at 'msg', f:l:c`, maybe multi-line).
pub(super) fn panic_site(
    lines: &[String],
    at: usize,
    rest: &str,
) -> Option<(String, String, u32, u32)> {
    if let Some(c) = PANIC_NEW.captures(rest.trim_end()) {
        let message = panic_message(&lines[at + 1..]);
        return Some((
            message,
            c[1].to_string(),
            c[2].parse().ok()?,
            c[3].parse().ok()?,
        ));
    }
    let quoted = rest.strip_prefix('\'')?;
    let mut parts: Vec<&str> = Vec::new();
    let following = lines.iter().skip(at + 1).take(12).map(String::as_str);
    for l in std::iter::once(quoted).chain(following) {
        if let Some(c) = PANIC_OLD_END.captures(l.trim_end()) {
            parts.push(c.get(1).map_or("", |m| m.as_str()).trim());
            let message = parts.join("; ");
            return Some((
                message,
                c[2].to_string(),
                c[3].parse().ok()?,
                c[4].parse().ok()?,
            ));
        }
        parts.push(l.trim());
    }
    None
}

/// The panic message lines after a new-style header, joined with `; `.
pub(super) fn panic_message(after: &[String]) -> String {
    let mut parts = Vec::new();
    for l in after.iter().take(8) {
        let t = l.trim();
        if t.is_empty() || t.starts_with("note:") || t == "stack backtrace:" || PANIC.is_match(l) {
            break;
        }
        parts.push(t);
    }
    let joined = parts.join("; ");
    joined.chars().take(400).collect()
}

/// File and line of a doc-test from its name (`src/lib.rs - double (line 3)`).
pub(super) fn doctest_site(name: &str) -> Option<(String, u32)> {
    let c = DOCTEST.captures(name)?;
    Some((c[1].to_string(), c[2].parse().ok()?))
}

/// False for the standard library, the toolchain and registry crates.
pub(super) fn is_own_path(path: &str) -> bool {
    !(path.starts_with("/rustc/")
        || path.contains("/.cargo/registry/")
        || path.contains("/.cargo/git/")
        || path.contains("/.rustup/")
        || path.starts_with("library/"))
}

/// The project's frames of the `stack backtrace:` after a panic, outermost first.
pub(super) fn backtrace(lines: &[String], at: usize) -> Vec<Frame> {
    let Some(start) =
        (at + 1..(at + 12).min(lines.len())).find(|&j| lines[j].trim() == "stack backtrace:")
    else {
        return Vec::new();
    };
    let mut frames = Vec::new();
    let mut function: Option<String> = None;
    for l in &lines[start + 1..] {
        if let Some(c) = FRAME_AT.captures(l) {
            let file = c[1].trim_start_matches("./").to_string();
            if is_own_path(&file) {
                frames.push(Frame {
                    file,
                    line: c[2].parse().ok(),
                    function: function.take(),
                });
            }
        } else if let Some(c) = FRAME.captures(l) {
            function = Some(c[1].trim().to_string());
        } else {
            break;
        }
    }
    frames.reverse();
    frames
}

/// Tests the log says failed (`test x ... FAILED`, the `failures:` list, nextest's `FAIL`)
/// that no panic explained (a returned `Err`, `should_panic`, a crash, a truncated log).
pub(super) fn unreported_tests(lines: &[String], panics: &[Found]) -> Vec<Found> {
    let mut seen: HashSet<String> = panics
        .iter()
        .filter_map(|f| f.failure.test.clone())
        .collect();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let name = TEST_FAILED
            .captures(line)
            .or_else(|| NEXTEST_FAILED.captures(line))
            .map(|c| c[1].to_string())
            .or_else(|| failures_list_entry(lines, i));
        let Some(name) = name else { continue };
        if !seen.insert(name.clone()) {
            continue;
        }
        let mut failure = section_failure(lines, &name)
            .unwrap_or_else(|| Failure::new("cargo-test", Kind::TestFailure, line.trim()));
        if let Some((file, l)) = doctest_site(&name) {
            failure = failure.at(file, Some(l), None);
        }
        failure.test = Some(name);
        out.push(Found {
            at: i,
            failure: failure.with_excerpt(&window(lines, i, 0, 3)),
        });
    }
    out
}

/// What a failed test's `---- name stdout ----` section says when it did not panic: a
/// `should_panic` test that did not (`note: test did not panic as expected at f:l:c`) or a
/// test that returned `Err` (`Error: …`).
pub(super) fn section_failure(lines: &[String], name: &str) -> Option<Failure> {
    let header = format!("---- {name} stdout ----");
    let start = lines.iter().position(|l| l.trim() == header)?;
    let c = lines[start + 1..]
        .iter()
        .take_while(|l| !l.starts_with("---- ") && l.trim() != "failures:")
        .take(30)
        .find_map(|l| SECTION_NOTE.captures(l.trim()))?;
    let message = c.get(1).or(c.get(5)).map_or("", |m| m.as_str());
    let failure = Failure::new("cargo-test", Kind::TestFailure, message);
    Some(match (c.get(2), c.get(3)) {
        (Some(f), Some(l)) => failure.at(
            f.as_str(),
            l.as_str().parse().ok(),
            c.get(4).and_then(|m| m.as_str().parse().ok()),
        ),
        _ => failure,
    })
}

/// The test named on `lines[i]` when it is an entry of libtest's final `failures:` list.
pub(super) fn failures_list_entry(lines: &[String], i: usize) -> Option<String> {
    let name = lines[i].trim();
    if name.is_empty()
        || !lines[i].starts_with("    ")
        || name.contains(' ') && !name.contains(" - ")
    {
        return None;
    }
    let mut j = i;
    // the list holds one failed test a line: a few hundred at most
    while j > 0 && i - j < 1000 {
        j -= 1;
        let t = lines[j].trim();
        if t == "failures:" {
            return Some(name.to_string());
        }
        if t.is_empty() || !lines[j].starts_with("    ") || t.starts_with("----") {
            return None;
        }
    }
    None
}
