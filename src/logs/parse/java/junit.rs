//! Test failures: Maven Surefire reports and summaries, Gradle's test output, the JUnit
//! console launcher; located at the innermost frame in the project's own code.

use super::*;

/// Where a stack trace points: its message, the project's frames (outermost first) and
/// the innermost of them, taken from the deepest `Caused by:` that has one.
pub(super) struct Trace {
    pub(super) message: String,
    pub(super) frames: Vec<Frame>,
}

/// Reads a stack trace: `lines[0]` is the exception, then `at` frames and `Caused by:`.
pub(super) fn read_trace(lines: &[&str]) -> Trace {
    let mut sections: Vec<(String, Vec<Frame>)> = Vec::new();
    for (k, l) in lines.iter().enumerate() {
        if k == 0 || CAUSED_BY.is_match(l) {
            let head = CAUSED_BY
                .captures(l)
                .map_or(l.trim().to_string(), |c| c[1].trim().to_string());
            sections.push((head.trim_start_matches("=> ").to_string(), Vec::new()));
        } else if let (Some(frame), Some(s)) = (own_frame(l), sections.last_mut()) {
            s.1.push(frame);
        }
    }
    let first = sections.first().map(|s| s.0.clone()).unwrap_or_default();
    match sections.into_iter().rev().find(|s| !s.1.is_empty()) {
        Some((message, mut frames)) => {
            frames.reverse();
            Trace { message, frames }
        }
        None => Trace {
            message: first,
            frames: Vec::new(),
        },
    }
}

/// A frame of the project's own code (`at com.acme.Calc.add(Calc.java:12)`), with the file
/// as a source path from the package (`com/acme/Calc.java`).
pub(super) fn own_frame(line: &str) -> Option<Frame> {
    let c = FRAME.captures(line)?;
    let class = &c[1];
    if FRAMEWORK_PREFIXES.iter().any(|p| class.starts_with(p)) {
        return None;
    }
    let loc = FRAME_LOC.captures(&c[3])?;
    Some(Frame {
        file: source_path(class, &loc[1]),
        line: loc[2].parse().ok(),
        function: Some(format!("{class}.{}", &c[2])),
    })
}

/// Where a class's source lives in the standard Maven/Gradle layout: stack traces name
/// only the class and file, so `com.acme.CalcTest` in `CalcTest.java` becomes
/// `src/test/java/com/acme/CalcTest.java` (test classes by name) and `com.acme.Calc`
/// `src/main/java/com/acme/Calc.java`; Kotlin, Groovy and Scala get their own folders.
pub(super) fn source_path(class: &str, file: &str) -> String {
    if !class.contains('.') {
        // A bare class name (Surefire's summary, some Gradle output): the package is unknown.
        return file.to_string();
    }
    let simple = class.rsplit('.').next().unwrap_or(class);
    let simple = simple.split('$').next().unwrap_or(simple);
    let test = ["Test", "Tests", "IT", "TestCase", "Spec", "Suite"]
        .iter()
        .any(|s| simple.ends_with(s))
        || simple.starts_with("Test");
    let lang = match file.rsplit('.').next() {
        Some("kt") => "kotlin",
        Some("groovy") => "groovy",
        Some("scala") => "scala",
        _ => "java",
    };
    let set = if test { "test" } else { "main" };
    match class.rsplit_once('.') {
        Some((package, _))
            if package
                .chars()
                .next()
                .is_some_and(|ch| ch.is_ascii_lowercase()) =>
        {
            format!("src/{set}/{lang}/{}/{file}", package.replace('.', "/"))
        }
        _ => format!("src/{set}/{lang}/{file}"),
    }
}

/// A test failure from its id and trace lines.
pub(super) fn test_failure(tool: &str, test: String, trace: &[&str], fallback: &str) -> Failure {
    let t = read_trace(trace);
    let message = if t.message.is_empty() {
        fallback.to_string()
    } else {
        t.message
    };
    let mut failure = Failure::new(tool, Kind::TestFailure, message);
    if let Some(f) = t.frames.last() {
        failure = failure.at(f.file.clone(), f.line, None);
    }
    failure.frames = t.frames;
    failure.test = Some(test);
    failure
}

/// Surefire's per-test blocks (`name  Time elapsed: … <<< FAILURE!` + stack trace), and its
/// `Failures:` / `Errors:` summary for tests without such a block.
pub(super) fn surefire_failures(raw: &[String], lines: &[Line]) -> Vec<Found> {
    let mut out: Vec<Found> = Vec::new();
    let mut class: Option<String> = None;
    for (i, line) in lines.iter().enumerate() {
        if let Some(c) = SUREFIRE_CLASS.captures(line.text) {
            class = c.get(1).or(c.get(2)).map(|m| m.as_str().to_string());
            continue;
        }
        let Some(c) = SUREFIRE_TEST.captures(line.text) else {
            continue;
        };
        let test = surefire_test_id(&c[1], class.as_deref());
        let trace: Vec<&str> = lines[i + 1..]
            .iter()
            .take_while(|l| l.level.is_none() && !l.text.trim().is_empty())
            .map(|l| l.text)
            .collect();
        let failure = test_failure("maven", test, &trace, line.text.trim());
        out.push(Found {
            at: i,
            failure: failure.with_excerpt(&window(raw, i, 0, trace.len().min(8))),
        });
    }
    let known: Vec<String> = out.iter().filter_map(|f| f.failure.test.clone()).collect();
    out.extend(surefire_summary(raw, lines, &known));
    out
}

/// `com.acme.CalcTest.addsNumbers` from `addsNumbers(com.acme.CalcTest)`, from surefire 3's
/// `com.acme.CalcTest.addsNumbers`, or from a bare method name and the running class.
pub(super) fn surefire_test_id(name: &str, class: Option<&str>) -> String {
    static METHOD_OF: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"^([\w$]+)(?:\{.*\})?\(([\w.$]+)\)$").unwrap());
    let name = name.trim();
    if let Some(c) = METHOD_OF.captures(name) {
        return format!("{}.{}", &c[2], &c[1]);
    }
    let bare = name.trim_end_matches("()");
    match class {
        Some(cls) if !bare.contains('.') => format!("{cls}.{bare}"),
        _ => bare.to_string(),
    }
}

/// Surefire's results summary (`  CalcTest.addsNumbers:9 expected:<4> but was:<3>`) for
/// failed tests that had no detail block.
pub(super) fn surefire_summary(raw: &[String], lines: &[Line], known: &[String]) -> Vec<Found> {
    let mut out = Vec::new();
    let mut in_list = false;
    for (i, line) in lines.iter().enumerate() {
        let t = line.text.trim();
        if matches!(t, "Failures:" | "Errors:" | "Flakes:") {
            in_list = t != "Flakes:";
            continue;
        }
        if !in_list || line.level != Some("ERROR") {
            in_list = false;
            continue;
        }
        let Some(c) = SUREFIRE_SUMMARY.captures(line.text) else {
            continue;
        };
        let short = format!("{}.{}", &c[1], &c[2]);
        if known.iter().any(|k| k.ends_with(&short)) {
            continue;
        }
        let simple = c[1]
            .rsplit('.')
            .next()
            .unwrap_or(&c[1])
            .split('$')
            .next()
            .unwrap_or_default()
            .to_string();
        let mut failure = Failure::new("maven", Kind::TestFailure, c[4].trim());
        if let Some(l) = c.get(3).and_then(|m| m.as_str().parse().ok()) {
            failure = failure.at(source_path(&c[1], &format!("{simple}.java")), Some(l), None);
        }
        failure.test = Some(short);
        out.push(Found {
            at: i,
            failure: failure.with_excerpt(&window(raw, i, 0, 0)),
        });
    }
    out
}

/// Gradle's `CalcTest > addsNumbers() FAILED` with the short (`Error at CalcTest.java:12`)
/// or full (exception and `at` frames) exception format under it.
pub(super) fn gradle_failures(raw: &[String], lines: &[Line]) -> Vec<Found> {
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if line.level.is_some() {
            continue;
        }
        let Some(c) = GRADLE_TEST.captures(line.text) else {
            continue;
        };
        let class = c[1].to_string();
        let method = c[2]
            .rsplit(" > ")
            .next()
            .unwrap_or(&c[2])
            .trim_end_matches("()")
            .to_string();
        let test = format!("{class}.{method}");
        let trace: Vec<&str> = raw[i + 1..]
            .iter()
            .take_while(|l| l.starts_with(' ') || l.starts_with('\t'))
            .map(String::as_str)
            .collect();
        let failure = match trace.first().and_then(|l| GRADLE_SHORT.captures(l)) {
            Some(s) => {
                let message = s
                    .get(2)
                    .map_or(s[1].to_string(), |m| format!("{}: {}", &s[1], m.as_str()));
                let mut f = Failure::new("gradle", Kind::TestFailure, message).at(
                    source_path(&class, &s[3]),
                    s[4].parse().ok(),
                    None,
                );
                f.test = Some(test);
                f
            }
            None => test_failure("gradle", test, &trace, line.text.trim()),
        };
        out.push(Found {
            at: i,
            failure: failure.with_excerpt(&window(raw, i, 0, trace.len().min(8))),
        });
    }
    out
}

/// The JUnit Platform console launcher's `Failures (n):` entries.
pub(super) fn console_failures(raw: &[String]) -> Vec<Found> {
    let mut out = Vec::new();
    for (i, line) in raw.iter().enumerate() {
        let Some(c) = CONSOLE_TEST.captures(line) else {
            continue;
        };
        let test = format!("{}.{}", &c[1], &c[2]);
        let trace: Vec<&str> = raw[i + 1..]
            .iter()
            .take_while(|l| l.starts_with("    ") || l.starts_with("       "))
            .map(String::as_str)
            .collect();
        let failure = test_failure("junit", test, &trace, line.trim());
        out.push(Found {
            at: i,
            failure: failure.with_excerpt(&window(raw, i, 1, trace.len().min(8))),
        });
    }
    out
}
