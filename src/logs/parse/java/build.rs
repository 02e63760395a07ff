//! Maven's and Gradle's own failures: a goal that failed (dependencies, the network,
//! the POM), `What went wrong:` blocks.

use super::*;

/// Build-level failures, reported only when nothing more precise was found: Maven's
/// `Failed to execute goal`, POM errors, Gradle's `What went wrong:`, javac option errors.
pub(super) fn build_failures(raw: &[String], lines: &[Line]) -> Vec<Found> {
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let failure = if let Some(c) = GOAL_FAILED.captures(line.text) {
            goal_failure(&c[3], line.text.trim())
        } else if line.level.is_some()
            && (line.text.contains("POM")
                || line.text.contains("'dependencies.")
                || line.text.contains("pom.xml"))
        {
            let Some(c) = POM_ERROR.captures(line.text) else {
                continue;
            };
            let file = c.get(1).map_or("pom.xml", |m| m.as_str());
            Failure::new("maven", Kind::Config, line.text.trim()).at(
                file,
                c[2].parse().ok(),
                c[3].parse().ok(),
            )
        } else if line.text.trim() == "* What went wrong:" {
            gradle_went_wrong(raw, i)
        } else if let Some(rest) = line
            .text
            .strip_prefix("error: ")
            .filter(|r| CONFIG_MSG.is_match(r))
        {
            Failure::new("javac", Kind::Config, format!("error: {rest}"))
        } else {
            continue;
        };
        out.push(Found {
            at: i,
            failure: failure.with_excerpt(&window(raw, i, 0, 4)),
        });
    }
    out
}

/// The failure for Maven's `Failed to execute goal … on project x: <reason>`.
pub(super) fn goal_failure(reason: &str, line: &str) -> Failure {
    let kind = build_kind(reason);
    let mut failure = Failure::new("maven", kind, line);
    if matches!(kind, Kind::Dependency | Kind::Config | Kind::Network) {
        failure = failure.at("pom.xml", None, None);
    }
    failure.symbol = artifact_named(reason);
    failure
}

/// The artifact a resolution error is about: the one after "artifact" or "find", else the
/// last one named (the first is often the project itself).
pub(super) fn artifact_named(text: &str) -> Option<String> {
    let all: Vec<regex::Captures> = ARTIFACT.captures_iter(text).collect();
    let after_word = all.iter().find(|c| {
        let before = text[..c.get(0).map_or(0, |m| m.start())].trim_end();
        before.ends_with("artifact") || before.ends_with("find")
    });
    after_word
        .or(all.last())
        .map(|c| format!("{}:{}", &c[1], &c[2]))
}

/// The kind of a build-level failure reason.
pub(super) fn build_kind(reason: &str) -> Kind {
    if NETWORK_MSG.is_match(reason) {
        Kind::Network
    } else if DEPENDENCY_MSG.is_match(reason) {
        Kind::Dependency
    } else if CONFIG_MSG.is_match(reason) {
        Kind::Config
    } else if reason.contains("test failures")
        || reason.contains("failing tests")
        || reason.contains("forked VM terminated")
    {
        Kind::TestFailure
    } else if reason.contains("Compilation failure") || reason.contains("Compilation failed") {
        Kind::CompileError
    } else if reason.contains("Checkstyle violations")
        || reason.contains("PMD")
        || reason.contains("SpotBugs")
    {
        Kind::Lint
    } else if reason.contains("format violations") || reason.contains("spotless") {
        Kind::Format
    } else {
        Kind::Unknown
    }
}

/// Gradle's `* What went wrong:` block: its first line and `> …` causes.
pub(super) fn gradle_went_wrong(raw: &[String], at: usize) -> Failure {
    let body: Vec<&str> = raw[at + 1..]
        .iter()
        .map(|l| l.trim())
        .take_while(|l| !l.is_empty())
        .take(8)
        .collect();
    let text = body.join(" ");
    let message = body
        .iter()
        .rev()
        .find(|l| l.starts_with("> "))
        .or(body.first())
        .map_or("", |l| l.trim_start_matches("> "));
    let mut failure = Failure::new("gradle", build_kind(&text), message);
    if let Some(c) = GRADLE_BUILD_FILE.captures(&text) {
        failure = failure.at(&c[1], c.get(2).and_then(|m| m.as_str().parse().ok()), None);
    }
    if failure.kind == Kind::Dependency {
        failure.symbol = artifact_named(&text);
    }
    failure
}
