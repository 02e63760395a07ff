//! Parser for the JVM build tools: javac diagnostics (plain `X.java:12: error:` and Maven's
//! `[ERROR] /p/X.java:[12,5] …`), Kotlin's `e: file:line:col`, Maven Surefire test failures
//! (details with stack traces, or the `Failures:` summary), Gradle's `Class > test() FAILED`,
//! the JUnit Platform console launcher, and build-level failures (Maven's `Failed to execute
//! goal`, Gradle's `What went wrong:`, POM errors) when nothing more precise was found.
//!
//! The tool is the one whose output format it is: `maven` for Maven-formatted lines (also
//! compile errors and Surefire failures), `gradle` in Gradle steps, `javac` for plain javac,
//! `junit` for the console launcher. Kinds: `cannot find symbol` and other compiler errors
//! are `compile_error`, `incompatible types` and argument mismatches `type_error`, `package
//! x does not exist` `import_error`, `';' expected` and friends `syntax_error`. A test
//! failure is located at the innermost frame of the project's own code in the (root cause)
//! stack trace, so an exception thrown by the code under test points there, not at the test.

use std::collections::HashSet;
use std::sync::LazyLock;

use regex::Regex;

use super::Found;
use super::util::window;
use crate::logs::{Failure, Frame, Kind, StepLog};

/// Tool names this parser answers to for `--tool`.
pub const TOOLS: &[&str] = &["javac", "maven", "gradle", "junit"];

static LEVEL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\[(ERROR|WARNING|WARN|INFO|DEBUG|FATAL)\] ?").unwrap());
static MAVEN_LOC: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^((?:[A-Za-z]:)?[^\s\[:][^\[]*?\.(?:java|kt|scala|groovy)):\[(\d+),(\d+)\] (.+)$")
        .unwrap()
});
static JAVAC_LOC: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^((?:[A-Za-z]:)?[^\s:][^:]*?\.java):(\d+): error: (.+)$").unwrap()
});
static KOTLIN_LOC: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^e: (?:file://)?((?:[A-Za-z]:)?[^\s:]+?\.kts?)(?::(\d+):(\d+)|: \((\d+), (\d+)\):) (.+)$",
    )
    .unwrap()
});
static SYMBOL_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\s*symbol:\s+(?:(?:static )?(?:class|method|variable|interface|enum|record|constructor|package)\s+)?([\w.$]+)").unwrap()
});
static PACKAGE_MISSING: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"package ([\w.]+) does not exist").unwrap());
static UNRESOLVED: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^Unresolved reference:? '?([\w$]+)").unwrap());
static TYPE_MSG: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:incompatible types|bad operand types?|possible lossy conversion|inconvertible types|incomparable types)|cannot be applied to given types|cannot be converted to|no suitable (?:method|constructor) found|Type mismatch|cannot be dereferenced|does not take parameters").unwrap()
});
static SYNTAX_MSG: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:'.+' expected|<identifier> expected|illegal start of|class, interface, enum,? or record expected|reached end of file while parsing|unclosed (?:string|character|comment)|not a statement|orphaned|else without if|Expecting |Unexpected tokens|illegal character)").unwrap()
});
static SUREFIRE_TEST: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^(.+?)\s+(?:--\s+)?Time elapsed:\s*[\d.,]+\s*s(?:ec)?\s*<<< (?:FAILURE|ERROR)!\s*$",
    )
    .unwrap()
});
static SUREFIRE_CLASS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:Running (\S+)$|Tests run:.*<<< (?:FAILURE|ERROR)!\s*-+ in (\S+)$)").unwrap()
});
static SUREFIRE_SUMMARY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\s+(?:Run \d+: )?([\w$]+(?:\.[\w$]+)*)\.([\w$]+)(?::(\d+))?(?:->\S+)?\s+(.*)$")
        .unwrap()
});
static GRADLE_TEST: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(\S+) > (.+?) FAILED\s*$").unwrap());
static GRADLE_SHORT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\s+([\w.$]+)(?::\s*(.*?))? at ([\w$-]+\.(?:java|kt|groovy|scala)):(\d+)$")
        .unwrap()
});
static CONSOLE_TEST: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"MethodSource \[className = '([^']+)', methodName = '([^']+)'").unwrap()
});
static FRAME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\s*(?:at )?(?:\S*/)?([\w$]+(?:\.[\w$]+)*)\.([\w$<>-]+)\(([^()]*)\)\s*$").unwrap()
});
static FRAME_LOC: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^([^:()]+\.(?:java|kt|groovy|scala)):(\d+)$").unwrap());
static CAUSED_BY: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^\s*Caused by: (.+)$").unwrap());
static GOAL_FAILED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^Failed to execute goal (.*?)on project ([^:]+): (.+?)(?: -> \[Help \d+\])?$")
        .unwrap()
});
static POM_ERROR: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(?:.*?(\S*pom\.xml).*?)?.*@ line (\d+), column (\d+)").unwrap());
static DEPENDENCY_MSG: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"Could not resolve|Could not find artifact|Failed to collect dependencies|could not be resolved|Non-resolvable|has not been downloaded|Could not transfer artifact|Failed to read artifact descriptor|Could not find [\w.-]+:[\w.-]+|Plugin \[id: .*\] was not found|Could not download").unwrap()
});
static NETWORK_MSG: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)connect(?:ion)? (?:timed out|refused|reset)|unknown ?host|Network is unreachable|status code: 5\d\d|Received fatal alert|PKIX path|Could not (?:GET|HEAD) '|Read timed out").unwrap()
});
static CONFIG_MSG: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"invalid (?:target|source) release|release version \S+ not supported|A problem occurred (?:evaluating|configuring)|Could not compile (?:build|settings) file|Build file '|Unsupported class file major version|does not contain a Gradle build|Rule \d+: .* failed|enforcer|Non-parseable POM|Malformed POM|Script compilation error|invalid flag").unwrap()
});
static ARTIFACT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"([\w.-]+\.[\w.-]+):([\w.-]+):(?:(?:jar|pom|war|aar|test-jar):)?[\w.-]*\d").unwrap()
});
static GRADLE_BUILD_FILE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[Bb]uild file '([^']+)'(?: line: (\d+))?").unwrap());

/// Frameworks whose frames are never the project's own code.
const FRAMEWORK_PREFIXES: &[&str] = &[
    "java.",
    "javax.",
    "jdk.",
    "sun.",
    "com.sun.",
    "org.junit.",
    "junit.",
    "org.opentest4j.",
    "org.apache.maven.",
    "org.gradle.",
    "worker.org.gradle.",
    "kotlin.",
    "kotlinx.",
    "org.assertj.",
    "org.hamcrest.",
    "org.mockito.",
    "net.bytebuddy.",
    "org.springframework.",
    "scala.",
    "groovy.",
    "org.codehaus.groovy.",
    "org.testng.",
    "io.kotest.",
    "org.spockframework.",
    "jakarta.",
];

/// One log line with Maven's `[LEVEL]` prefix split off.
struct Line<'a> {
    level: Option<&'a str>,
    text: &'a str,
}

/// Failures in `step`, with where each starts.
pub fn parse(step: &StepLog) -> Vec<Found> {
    let step = &*super::generic::unmarked(step);
    let lines: Vec<Line> = step.lines.iter().map(|l| split_level(l)).collect();
    let gradle = step.commands.iter().any(|c| c.contains("gradle"))
        || step.lines.iter().any(|l| l.starts_with("> Task :"));
    let mut out = compile_errors(&step.lines, &lines, gradle);
    out.extend(surefire_failures(&step.lines, &lines));
    out.extend(gradle_failures(&step.lines, &lines));
    out.extend(console_failures(&step.lines));
    if out.is_empty() {
        out.extend(build_failures(&step.lines, &lines));
    }
    place_in_module(&mut out, &step.lines);
    dedupe(out)
}

/// Splits off a Maven `[ERROR] ` prefix.
fn split_level(line: &str) -> Line<'_> {
    match LEVEL.captures(line) {
        Some(c) => Line {
            level: c.get(1).map(|m| m.as_str()),
            text: &line[c.get(0).map_or(0, |m| m.end())..],
        },
        None => Line {
            level: None,
            text: line,
        },
    }
}

/// Drops repeats (Maven prints each compile error twice), keeping the first.
fn dedupe(found: Vec<Found>) -> Vec<Found> {
    let mut seen = HashSet::new();
    found
        .into_iter()
        .filter(|f| {
            let x = &f.failure;
            seen.insert((x.file.clone(), x.line, x.message.clone(), x.test.clone()))
        })
        .collect()
}

/// javac / Maven / Kotlin compiler errors.
fn compile_errors(raw: &[String], lines: &[Line], gradle: bool) -> Vec<Found> {
    let werror = lines
        .iter()
        .any(|l| l.text.contains("warnings found and -Werror specified"));
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let warning = matches!(line.level, Some("WARNING" | "WARN"));
        if line.level == Some("INFO") || warning && !werror {
            continue;
        }
        if let Some(found) = werror_warning(raw, lines, i, gradle).filter(|_| werror) {
            out.push(found);
            continue;
        }
        let (tool, file, l, col, message) = if let Some(c) = MAVEN_LOC.captures(line.text) {
            (
                "maven",
                c[1].to_string(),
                c[2].parse().ok(),
                c[3].parse().ok(),
                c[4].trim().to_string(),
            )
        } else if let Some(c) = JAVAC_LOC.captures(line.text) {
            let tool = if gradle { "gradle" } else { "javac" };
            (
                tool,
                c[1].to_string(),
                c[2].parse().ok(),
                caret_column(lines, i),
                c[3].trim().to_string(),
            )
        } else if let Some(c) = KOTLIN_LOC.captures(line.text) {
            let l = c.get(2).or(c.get(4)).and_then(|m| m.as_str().parse().ok());
            let col = c.get(3).or(c.get(5)).and_then(|m| m.as_str().parse().ok());
            ("gradle", c[1].to_string(), l, col, c[6].trim().to_string())
        } else {
            continue;
        };
        let details = compile_details(lines, i);
        let kind = if warning {
            Kind::Lint
        } else {
            compile_kind(&message)
        };
        let mut failure = Failure::new(tool, kind, message.clone()).at(file, l, col);
        failure.symbol = details
            .iter()
            .find_map(|d| SYMBOL_LINE.captures(d.text))
            .map(|c| c[1].to_string())
            .or_else(|| PACKAGE_MISSING.captures(&message).map(|c| c[1].to_string()))
            .or_else(|| UNRESOLVED.captures(&message).map(|c| c[1].to_string()));
        out.push(Found {
            at: i,
            failure: failure.with_excerpt(&window(raw, i, 0, details.len())),
        });
    }
    out
}

/// A javac warning (`X.java:12: warning: [deprecation] …`) in a build that `-Werror` failed:
/// a `lint` failure named by its category.
fn werror_warning(raw: &[String], lines: &[Line], i: usize, gradle: bool) -> Option<Found> {
    static JAVAC_WARNING: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^((?:[A-Za-z]:)?[^\s:][^:]*?\.java):(\d+): warning: (.+)$").unwrap()
    });
    static CATEGORY: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^\[([\w-]+)\]").unwrap());
    let c = JAVAC_WARNING.captures(lines[i].text)?;
    let message = c[3].trim();
    let tool = if gradle { "gradle" } else { "javac" };
    let mut failure = Failure::new(tool, Kind::Lint, message).at(
        &c[1],
        c[2].parse().ok(),
        caret_column(lines, i),
    );
    failure.symbol = CATEGORY.captures(message).map(|m| m[1].to_string());
    Some(Found {
        at: i,
        failure: failure.with_excerpt(&window(raw, i, 0, 2)),
    })
}

/// The source, caret, `symbol:` and `location:` lines after a compiler error.
fn compile_details<'a>(lines: &'a [Line<'a>], at: usize) -> Vec<&'a Line<'a>> {
    lines[at + 1..]
        .iter()
        .take(6)
        .take_while(|l| {
            let t = l.text.trim_start();
            !t.is_empty()
                && (l.text.starts_with(' ') || l.text.starts_with('\t'))
                && !MAVEN_LOC.is_match(t)
                && !JAVAC_LOC.is_match(t)
        })
        .collect()
}

/// javac's column: where the `^` sits under the echoed source line.
fn caret_column(lines: &[Line], at: usize) -> Option<u32> {
    let caret = lines.get(at + 2)?.text;
    (caret.trim() == "^")
        .then(|| caret.find('^').map(|p| p as u32 + 1))
        .flatten()
}

/// The kind of a compiler message.
fn compile_kind(message: &str) -> Kind {
    if SYNTAX_MSG.is_match(message) {
        Kind::SyntaxError
    } else if TYPE_MSG.is_match(message) {
        Kind::TypeError
    } else if PACKAGE_MISSING.is_match(message)
        || message.starts_with("Unresolved reference") && message.contains('.')
    {
        Kind::ImportError
    } else {
        Kind::CompileError
    }
}

/// Where a stack trace points: its message, the project's frames (outermost first) and
/// the innermost of them, taken from the deepest `Caused by:` that has one.
struct Trace {
    message: String,
    frames: Vec<Frame>,
}

/// Reads a stack trace: `lines[0]` is the exception, then `at` frames and `Caused by:`.
fn read_trace(lines: &[&str]) -> Trace {
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
fn own_frame(line: &str) -> Option<Frame> {
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
fn source_path(class: &str, file: &str) -> String {
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

/// The module folder of the build that ran the tests after line `from`: Surefire's
/// `Please refer to <dir>/target/surefire-reports`, Gradle's `file://<dir>/build/reports/`.
fn module_dir(lines: &[String], from: usize) -> Option<String> {
    static REPORTS: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?:Please refer to (\S+?)/target/surefire-reports|file://(\S+?)/build/reports/tests/)").unwrap()
    });
    lines[from..]
        .iter()
        .find_map(|l| REPORTS.captures(l))
        .and_then(|c| c.get(1).or(c.get(2)).map(|m| m.as_str().to_string()))
}

/// Test failures' layout paths (`src/test/java/…`) placed under the module folder the log
/// names, when it names one.
fn place_in_module(found: &mut [Found], lines: &[String]) {
    for f in found
        .iter_mut()
        .filter(|f| f.failure.kind == Kind::TestFailure)
    {
        let Some(dir) = module_dir(lines, f.at) else {
            continue;
        };
        let put = |p: &mut String| {
            if p.starts_with("src/") {
                *p = format!("{dir}/{p}");
            }
        };
        if let Some(file) = f.failure.file.as_mut() {
            put(file);
        }
        f.failure.frames.iter_mut().for_each(|fr| put(&mut fr.file));
    }
}

/// A test failure from its id and trace lines.
fn test_failure(tool: &str, test: String, trace: &[&str], fallback: &str) -> Failure {
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
fn surefire_failures(raw: &[String], lines: &[Line]) -> Vec<Found> {
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
fn surefire_test_id(name: &str, class: Option<&str>) -> String {
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
fn surefire_summary(raw: &[String], lines: &[Line], known: &[String]) -> Vec<Found> {
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
fn gradle_failures(raw: &[String], lines: &[Line]) -> Vec<Found> {
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
fn console_failures(raw: &[String]) -> Vec<Found> {
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

/// Build-level failures, reported only when nothing more precise was found: Maven's
/// `Failed to execute goal`, POM errors, Gradle's `What went wrong:`, javac option errors.
fn build_failures(raw: &[String], lines: &[Line]) -> Vec<Found> {
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
fn goal_failure(reason: &str, line: &str) -> Failure {
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
fn artifact_named(text: &str) -> Option<String> {
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
fn build_kind(reason: &str) -> Kind {
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
fn gradle_went_wrong(raw: &[String], at: usize) -> Failure {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str, cmd: &str) -> Vec<Failure> {
        crate::logs::parse::corpus::failures_of(parse, text, cmd)
    }

    #[test]
    fn corpus_cases_match_expectations() {
        crate::logs::parse::corpus::assert_cases(&["java-"], 6);
    }

    #[test]
    fn gradle_compile_error_is_gradles() {
        let text = "> Task :compileJava FAILED\n/home/runner/work/a/a/src/main/java/com/acme/Calc.java:5: error: cannot find symbol\n        return helper(a, b);\n               ^\n  symbol:   method helper(int,int)\n  location: class Calc\n1 error\n\nFAILURE: Build failed with an exception.\n";
        let f = &found(text, "./gradlew build")[0];
        assert_eq!(
            (
                f.tool.as_str(),
                f.kind,
                f.symbol.as_deref(),
                f.line,
                f.column
            ),
            (
                "gradle",
                Kind::CompileError,
                Some("helper"),
                Some(5),
                Some(16)
            )
        );
    }

    #[test]
    fn gradle_short_exception_format() {
        let text = "> Task :test FAILED\n\nCalcTest > addsNumbers() FAILED\n    org.opentest4j.AssertionFailedError at CalcTest.java:12\n\n1 test completed, 1 failed\n";
        let f = &found(text, "gradle test")[0];
        assert_eq!(
            (f.tool.as_str(), f.kind, f.test.as_deref()),
            ("gradle", Kind::TestFailure, Some("CalcTest.addsNumbers"))
        );
        assert_eq!(
            (f.file.as_deref(), f.line),
            (Some("CalcTest.java"), Some(12))
        );
    }

    #[test]
    fn gradle_full_exception_format_points_at_code_under_test() {
        let text = "com.acme.CalcTest > divides() FAILED\n    java.lang.ArithmeticException: / by zero\n        at app//com.acme.Calc.div(Calc.java:7)\n        at app//com.acme.CalcTest.divides(CalcTest.java:15)\n";
        let f = &found(text, "./gradlew test")[0];
        assert_eq!(
            (f.file.as_deref(), f.line),
            (Some("src/main/java/com/acme/Calc.java"), Some(7))
        );
        assert_eq!(
            f.frames.first().map(|fr| fr.file.as_str()),
            Some("src/test/java/com/acme/CalcTest.java")
        );
    }

    #[test]
    fn gradle_missing_dependency() {
        let text = "FAILURE: Build failed with an exception.\n\n* What went wrong:\nExecution failed for task ':compileJava'.\n> Could not resolve all files for configuration ':compileClasspath'.\n   > Could not find com.google.guava:guava:99.0.\n\n* Try:\n";
        let f = &found(text, "./gradlew build")[0];
        assert_eq!(
            (f.kind, f.symbol.as_deref()),
            (Kind::Dependency, Some("com.google.guava:guava"))
        );
    }

    #[test]
    fn caused_by_root_cause_wins() {
        let text = "[ERROR] loads(com.acme.RepoTest)  Time elapsed: 0.01 s  <<< ERROR!\njava.lang.IllegalStateException: load failed\n\tat com.acme.Repo.load(Repo.java:20)\n\tat com.acme.RepoTest.loads(RepoTest.java:9)\nCaused by: java.io.FileNotFoundException: x.json\n\tat java.base/java.io.FileInputStream.open0(Native Method)\n\tat com.acme.Files.read(Files.java:4)\n\t... 2 more\n\n";
        let f = &found(text, "mvn test")[0];
        assert_eq!(
            (f.file.as_deref(), f.line),
            (Some("src/main/java/com/acme/Files.java"), Some(4))
        );
        assert!(f.message.contains("FileNotFoundException"));
    }

    #[test]
    fn surefire_summary_alone() {
        let text = "[ERROR] Failures: \n[ERROR]   CalcTest.addsNumbers:9 expected:<4> but was:<3>\n[INFO] \n[ERROR] Tests run: 1, Failures: 1, Errors: 0, Skipped: 0\n";
        let f = &found(text, "mvn test")[0];
        assert_eq!(
            (f.test.as_deref(), f.file.as_deref(), f.line),
            (Some("CalcTest.addsNumbers"), Some("CalcTest.java"), Some(9))
        );
    }

    #[test]
    fn werror_makes_warnings_the_failures() {
        let text = "src/A.java:7: warning: [rawtypes] found raw type: List\n        List xs = null;\n        ^\nerror: warnings found and -Werror specified\n1 error\n1 warning\n";
        let f = &found(text, "javac -Xlint:all -Werror src/A.java")[0];
        assert_eq!(
            (f.kind, f.line, f.symbol.as_deref()),
            (Kind::Lint, Some(7), Some("rawtypes"))
        );
    }

    #[test]
    fn kotlin_compile_error() {
        let f = &found(
            "e: file:///home/runner/work/a/a/src/main/kotlin/App.kt:3:5 Unresolved reference: foo\n",
            "./gradlew build",
        )[0];
        assert_eq!(
            (f.kind, f.line, f.column),
            (Kind::CompileError, Some(3), Some(5))
        );
        assert_eq!(
            (f.tool.as_str(), f.symbol.as_deref()),
            ("gradle", Some("foo"))
        );
    }
}
