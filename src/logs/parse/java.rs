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
//!
//! One file per tool: `javac` (compiler errors), `junit` (Surefire, Gradle and console
//! launcher test failures), `build` (Maven's and Gradle's own failures); this file holds
//! the entry point and the patterns they share.

use std::collections::HashSet;
use std::sync::LazyLock;

use regex::Regex;

use super::Found;
use super::util::window;
use crate::logs::{Failure, Frame, Kind, StepLog};

mod build;
mod javac;
mod junit;

use build::*;
use javac::*;
use junit::*;

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
