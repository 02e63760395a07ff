//! `go test` (plain, `-v`, `-json`, gotestsum) failures and panics, with the goroutine's
//! frames in the project's own code and the failing test's package folder.

use super::*;

/// One failing test's own log line (`    x_test.go:12: got 3 want 4`).
pub(super) struct TestLog {
    pub(super) at: usize,
    pub(super) file: String,
    pub(super) line: Option<u32>,
    pub(super) message: String,
}

/// `--- FAIL: TestX` failures located by the test's own `file.go:line:` log lines,
/// whether printed after the FAIL line (plain) or before it (`-v`, `=== RUN`/`=== NAME`).
pub(super) fn test_failures(lines: &[String], panics: &[Found]) -> Vec<Found> {
    let mut current: Option<String> = None;
    let mut logs: Vec<(String, TestLog)> = Vec::new();
    let mut failed: Vec<(usize, String)> = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if let Some(c) = TEST_EVENT.captures(line) {
            let name = c
                .get(2)
                .or(c.get(4))
                .or(c.get(5))
                .map(|m| m.as_str().to_string());
            if c.get(3).is_some_and(|m| m.as_str() == "FAIL") || c.get(5).is_some() {
                failed.push((i, name.clone().unwrap_or_default()));
            }
            current = name;
        } else if let (Some(test), Some(c)) = (&current, TEST_LOG.captures(line)) {
            let log = TestLog {
                at: i,
                file: c[1].to_string(),
                line: c[2].parse().ok(),
                message: c[3].trim().to_string(),
            };
            logs.push((test.clone(), log));
        } else if !line.starts_with([' ', '\t']) && !line.is_empty() {
            current = None;
        }
    }
    let panicked: HashSet<&str> = panics
        .iter()
        .filter_map(|p| p.failure.test.as_deref())
        .collect();
    let names: Vec<&str> = failed.iter().map(|(_, n)| n.as_str()).collect();
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for (at, name) in &failed {
        let parent = names.iter().any(|n| {
            n.len() > name.len() && n.starts_with(name.as_str()) && n[name.len()..].starts_with('/')
        });
        if parent || panicked.contains(name.as_str()) || !seen.insert(name.clone()) {
            continue;
        }
        out.push(test_found(
            lines,
            *at,
            name,
            logs.iter().find(|(t, _)| t == name).map(|(_, l)| l),
        ));
    }
    out
}

/// The failure for test `name` whose `--- FAIL` is at `at`, located by its first log line.
pub(super) fn test_found(lines: &[String], at: usize, name: &str, log: Option<&TestLog>) -> Found {
    let Some(log) = log else {
        let failure = Failure::new("go-test", Kind::TestFailure, lines[at].trim());
        let mut failure = failure.with_excerpt(&window(lines, at, 0, 3));
        failure.test = Some(name.to_string());
        return Found { at, failure };
    };
    let message = if log.message.is_empty() {
        testify_error(lines, log.at).unwrap_or_else(|| lines[at].trim().to_string())
    } else {
        log.message.clone()
    };
    let file = match package_after(lines, at).map(|p| package_dir(&p)) {
        Some(dir) if !log.file.contains('/') && !dir.is_empty() => format!("{dir}/{}", log.file),
        _ => log.file.clone(),
    };
    let mut failure = Failure::new("go-test", Kind::TestFailure, message)
        .at(file, log.line, None)
        .with_excerpt(&window(lines, log.at, 1, 4));
    failure.test = Some(name.to_string());
    Found {
        at: log.at,
        failure,
    }
}

/// testify's block under an empty log line: `Error:  Not equal:` and the expected/actual
/// lines after it, joined.
pub(super) fn testify_error(lines: &[String], at: usize) -> Option<String> {
    static FIELD: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"^\s+(Error|expected|actual)\s*:\s*(.*)$").unwrap());
    let parts: Vec<String> = lines[at + 1..]
        .iter()
        .take(12)
        .take_while(|l| l.starts_with([' ', '\t']) && !TEST_EVENT.is_match(l))
        .filter_map(|l| FIELD.captures(l))
        .map(|c| format!("{}: {}", &c[1], c[2].trim()))
        .collect();
    (!parts.is_empty()).then(|| parts.join("; "))
}

/// The folder of package `import_path` in its repository, when the module is hosted where
/// the module path is `host/owner/repo[/vN]` (GitHub, GitLab, …): `github.com/acme/app/calc`
/// is `calc`. Other import paths are kept whole; with the checkout at hand, triage maps them
/// by their longest existing tail.
pub(super) fn package_dir(import_path: &str) -> String {
    const HOSTS: &[&str] = &[
        "github.com/",
        "gitlab.com/",
        "bitbucket.org/",
        "codeberg.org/",
    ];
    if !HOSTS.iter().any(|h| import_path.starts_with(h)) {
        return import_path.to_string();
    }
    let mut parts = import_path.split('/').skip(3).peekable();
    let major = parts.peek().is_some_and(|p| {
        p.len() > 1 && p.starts_with('v') && p[1..].chars().all(|c| c.is_ascii_digit())
    });
    if major {
        parts.next();
    }
    parts.collect::<Vec<_>>().join("/")
}

/// The import path of the package a test belongs to: the `FAIL\tpkg\t0.01s` (or `ok`)
/// line after it. Go prints only the test file's base name, so the failure's file becomes
/// `<import path>/<base name>`, whose tail is the repo path (see `paths::to_repo_relative`).
pub(super) fn package_after(lines: &[String], at: usize) -> Option<String> {
    static RESULT: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"^(?:FAIL|ok)\s+(\S+)\s+(?:[\d.]+s|\(cached\)|\[)").unwrap());
    lines[at..]
        .iter()
        .take(400)
        .find_map(|l| RESULT.captures(l))
        .map(|c| c[1].to_string())
}

/// `panic:` / `fatal error:` with a goroutine stack: located at the innermost frame of the
/// project's own code (not the Go root, not the module cache).
pub(super) fn panics(lines: &[String]) -> Vec<Found> {
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let Some(c) = PANIC.captures(line) else {
            continue;
        };
        let Some(start) =
            (i + 1..(i + 8).min(lines.len())).find(|&j| GOROUTINE.is_match(&lines[j]))
        else {
            continue;
        };
        let mut frames = goroutine_frames(lines, start + 1);
        if c[1].starts_with("panic: test timed out") {
            frames = test_goroutine(lines, start + 1).unwrap_or(frames);
        }
        let mut failure = panic_failure(lines, i, &c[1], &frames);
        failure.excerpt = window(lines, i, 1, 12).join("\n");
        out.push(Found { at: i, failure });
    }
    out
}

/// After a test timeout, the frames of the goroutine running the test (the first goroutine
/// is the timer's): where the test was stuck.
pub(super) fn test_goroutine(lines: &[String], from: usize) -> Option<Vec<Frame>> {
    for (j, l) in lines.iter().enumerate().skip(from).take(2000) {
        if l.starts_with("FAIL") || l.starts_with("exit status") || l.starts_with("ok ") {
            break;
        }
        if !GOROUTINE.is_match(l) {
            continue;
        }
        let frames = goroutine_frames(lines, j + 1);
        let has_test = frames
            .iter()
            .any(|f| f.function.as_deref().is_some_and(|n| TEST_FUNC.is_match(n)));
        if has_test {
            return Some(frames);
        }
    }
    None
}

/// The failure for a panic whose first goroutine has `frames` (innermost first, all of them).
pub(super) fn panic_failure(
    lines: &[String],
    at: usize,
    message: &str,
    frames: &[Frame],
) -> Failure {
    let goroots = goroots(frames);
    let own: Vec<&Frame> = frames.iter().filter(|f| is_own(f, &goroots)).collect();
    let test = panicking_test(lines, at, frames);
    let timeout = message.starts_with("panic: test timed out");
    let (tool, kind) = match (&test, timeout) {
        (_, true) => ("go-test", Kind::Timeout),
        (Some(_), false) => ("go-test", Kind::TestFailure),
        (None, false) => ("go", Kind::Unknown),
    };
    let mut failure = Failure::new(tool, kind, message);
    if let Some(f) = own.first() {
        failure = failure.at(f.file.clone(), f.line, None);
    }
    failure.frames = own.iter().rev().map(|f| (*f).clone()).collect();
    failure.test = test;
    failure
}

/// Frames of the goroutine stack starting at `from`: function line, then a tab-indented
/// `file:line +0x…` line; innermost first as Go prints them.
pub(super) fn goroutine_frames(lines: &[String], from: usize) -> Vec<Frame> {
    let mut frames = Vec::new();
    let mut function: Option<String> = None;
    for l in lines.iter().skip(from).take(200) {
        if let Some(c) = FRAME_AT.captures(l) {
            frames.push(Frame {
                file: c[1].to_string(),
                line: c[2].parse().ok(),
                function: function.take(),
            });
        } else if l.trim().is_empty()
            || l.starts_with("goroutine ")
            || l.starts_with("FAIL")
            || l.starts_with("exit status")
        {
            break;
        } else if let Some(c) = FRAME_FUNC.captures(l) {
            function = Some(c[1].to_string());
        }
    }
    frames
}

/// Go root folders seen in the stack (`…/src/` above `runtime.*` and `testing.*` frames).
pub(super) fn goroots(frames: &[Frame]) -> Vec<String> {
    let std_fn = |f: &Frame| {
        f.function.as_deref().is_some_and(|n| {
            n.starts_with("runtime.") || n.starts_with("testing.") || n.starts_with("panic(")
        })
    };
    let mut roots: Vec<String> = frames
        .iter()
        .filter(|f| std_fn(f))
        .filter_map(|f| f.file.find("/src/").map(|k| f.file[..k + 5].to_string()))
        .collect();
    roots.dedup();
    roots
}

/// False for the Go root, the module cache and generated `<autogenerated>` frames.
pub(super) fn is_own(frame: &Frame, goroots: &[String]) -> bool {
    let f = frame.file.as_str();
    !(goroots.iter().any(|r| f.starts_with(r.as_str()))
        || f.contains("/pkg/mod/")
        || f.starts_with('<')
        || f.contains("/usr/local/go/src/")
        || f.contains("/hostedtoolcache/go/")
        || f.contains("/usr/lib/go")
        || frame
            .function
            .as_deref()
            .is_some_and(|n| n.starts_with("runtime.") || n.starts_with("testing.")))
}

/// The test a panic happened in: the `--- FAIL:` just above, a `Test…` frame, or the
/// `running tests:` list of a timeout.
pub(super) fn panicking_test(lines: &[String], at: usize, frames: &[Frame]) -> Option<String> {
    let above = lines[at.saturating_sub(3)..at].iter().rev().find_map(|l| {
        TEST_EVENT
            .captures(l)
            .filter(|c| c.get(3).is_some_and(|m| m.as_str() == "FAIL"))
            .map(|c| c[4].to_string())
    });
    let from_frame = || {
        frames.iter().find_map(|f| {
            f.function
                .as_deref()
                .and_then(|n| TEST_FUNC.captures(n))
                .map(|c| c[1].to_string())
        })
    };
    let running = || {
        lines
            .iter()
            .skip(at + 1)
            .take(4)
            .find_map(|l| RUNNING_TEST.captures(l))
            .map(|c| c[1].to_string())
    };
    above.or_else(from_frame).or_else(running)
}
