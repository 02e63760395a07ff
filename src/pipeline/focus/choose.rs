//! What the short prompt offers: the failing test's code, and the definitions it runs,
//! best first ([`focus`]), or the likeliest file whole ([`whole_file`]); found by name
//! (what the failing line and the test call), by where the error is made, and by what
//! the context chose.

use std::path::Path;

use super::notes;
use super::place::defined_name;
use super::word_at;
use super::{Editable, Focus, MAX_DEFINITION_LINES, MAX_EDITABLE, MAX_WHOLE_FILE_LINES};
use crate::context::{Context, PieceKind, symbols};
use crate::llm::Language;
use crate::logs::Failure;
use crate::logs::paths::is_test_path;

/// Longer files are not searched for definitions.
const MAX_SCANNED_LINES: usize = 3000;
/// Lines of the failure's excerpt shown.
const EXCERPT_LINES: usize = 25;

/// The focus on `target` from the built context, or `None` when no definition outside the
/// tests can be offered (then search/replace blocks are asked for).
///
/// Offered, best first: the definition holding the reported line when that is code, then
/// the functions the failing line calls, then the others the test calls, found inside the
/// context's code pieces (a class shown whole offers its methods, not itself).
pub fn focus(target: &Failure, ctx: &Context, repo: &Path) -> Option<Focus> {
    let mut pieces: Vec<_> = ctx.pieces.iter().collect();
    pieces.sort_by_key(|p| p.rank);
    let read = |path: &str| std::fs::read_to_string(repo.join(path)).ok();
    let test = test_code(target, &pieces, &read);
    let failing_line = match (&target.file, target.line) {
        (Some(f), Some(l)) => line_of(&read, f, l),
        _ => None,
    };
    let names = wanted_names(
        target,
        failing_line.as_deref(),
        test.as_ref().map(|t| t.1.as_str()),
        &read,
    );
    // words of the test and the failure: `Circle` picks `func (c Circle) Area()` out of
    // several `Area` methods
    let seen = format!(
        "{} {}",
        test.as_ref().map_or("", |t| t.1.as_str()),
        failure_text(target)
    );
    let words: std::collections::HashSet<&str> = seen
        .split(|c: char| !c.is_alphanumeric() && c != '_')
        .filter(|w| w.len() > 2)
        .collect();
    // the failing line's words count twice: `compute_total(lines, tax=False)` picks
    // `order_total(lines, tax=True)` over `line_total(unit_cents, quantity)`
    let on_line: std::collections::HashSet<&str> = failing_line
        .as_deref()
        .unwrap_or("")
        .split(|c: char| !c.is_alphanumeric() && c != '_')
        .filter(|w| w.len() > 2)
        .collect();
    let affinity = |signature: &str| -> usize {
        signature
            .split(|c: char| !c.is_alphanumeric() && c != '_')
            .map(|w| usize::from(words.contains(w)) + usize::from(on_line.contains(w)))
            .sum()
    };
    let shown_defs: Vec<(&str, u32, u32)> = pieces
        .iter()
        .filter(|p| p.kind == PieceKind::Definition)
        .filter_map(|p| Some((p.path.as_deref()?, p.lines?.0, p.lines?.1)))
        .collect();
    let shown = |path: &str, line: u32| {
        shown_defs
            .iter()
            .any(|(p, a, b)| *p == path && (*a..=*b).contains(&line))
    };
    let mut found: Vec<(usize, usize, Editable)> = Vec::new(); // (priority, -affinity, definition)
    // the failure's language: a Rust test's code is Rust, not a script that writes Rust
    let lang = target
        .file
        .as_deref()
        .and_then(Language::from_path)
        .or_else(|| Language::from_tool(&target.tool))
        .or_else(|| test.as_ref().and_then(|t| Language::from_path(&t.0)));
    let mut files: Vec<&String> = Vec::new();
    for p in &pieces {
        if let Some(path) = &p.path
            && !is_test_path(path)
            && lang.is_none_or(|l| Language::from_path(path).is_some_and(|pl| l.kin(pl)))
            && matches!(p.kind, PieceKind::Definition | PieceKind::Source)
            && !files.contains(&path)
        {
            files.push(path);
        }
    }
    let marks = failure_marks(&target.message);
    let producer = notes::producer_of_missing_value(target, failing_line.as_deref(), &read);
    // every function of the files the context shows code of: the context may show the
    // `Rect` one of two `Area` methods, and the test calls the `Circle` one
    for path in files {
        let Some(text) = read(path) else { continue };
        let lines: Vec<&str> = text.lines().collect();
        if lines.is_empty() || lines.len() > MAX_SCANNED_LINES {
            continue;
        }
        let (a, b) = (1, lines.len() as u32);
        let reported = match (&target.file, target.line) {
            (Some(f), Some(l)) if f == path => Some(l as usize - 1),
            _ => None,
        };
        // a failed import: the imports around it, not the whole file (small models copy a
        // whole file back unchanged)
        if let Some((first, last)) = reported.and_then(|r| import_block(&lines, r)) {
            found.push((
                0,
                0,
                Editable {
                    path: path.clone(),
                    first,
                    last,
                    text: exact(&lines, first, last),
                },
            ));
        }
        for (first, last) in functions_in(&lines, a as usize - 1, b as usize - 1) {
            let name = defined_name(lines[first]).unwrap_or("");
            if is_test_function(&lines, first, name, target) {
                continue;
            }
            let by_name = names.iter().position(|n| n == name);
            let priority = if producer.as_deref() == Some(name) {
                0
            } else if reported.is_some_and(|r| (first..=last).contains(&r)) {
                usize::from(producer.is_some())
            } else if raises(&lines[first + 1..=last], &marks) {
                // where the error the failure names is made (`Err(InsufficientFunds {..})`)
                // comes before what the failing line calls (`transfer`, which only passes
                // it on): small models fix the first definition shown
                1
            } else if let Some(i) = by_name {
                2 + 2 * i
            } else if shown(path, first as u32 + 1) {
                // a definition the context chose (a name like a missing one, say)
                2 + 2 * names.len()
            } else {
                continue;
            };
            let dup = found
                .iter()
                .any(|(_, _, e)| e.path == *path && e.first <= last && first <= e.last);
            if !dup && last - first < MAX_DEFINITION_LINES {
                found.push((
                    priority,
                    usize::MAX - affinity(lines[first]),
                    Editable {
                        path: path.clone(),
                        first,
                        last,
                        text: exact(&lines, first, last),
                    },
                ));
            }
        }
    }
    found.sort_by_key(|(p, a, _)| (*p, *a));
    let mut notes = Vec::new();
    let missing = symbols::names_in(std::slice::from_ref(target), 8);
    // the likeliest renamed definition only (found is best first): `order_total(lines,
    // tax=True)` for `compute_total(lines, tax=False)`, not `line_total(unit_cents, …)`
    found.retain(
        |(_, _, e)| match notes::renamed_with_callers(e, &missing, repo) {
            Some(note) => {
                if notes.is_empty() {
                    notes.push(note);
                }
                false
            }
            None => true,
        },
    );
    let mut editables: Vec<Editable> = found
        .into_iter()
        .take(MAX_EDITABLE)
        .map(|(_, _, e)| e)
        .collect();
    if editables.is_empty() {
        return None;
    }
    // a key missing from a table (`KeyError: 'timeout'` where the code reads "retries"
    // and "timeout" from a `DEFAULTS` that has "retries" only): the table alone is
    // offered, with a note; beside the reading function, the 1.5B model kept patching
    // the read with a fallback value
    if let Some((table, note)) = notes::missing_from_table(&target.message, &editables, &read) {
        notes.push(note);
        editables = vec![table];
    }
    if let Some(note) = producer
        .as_deref()
        .and_then(|name| notes::returns_nothing(&editables, name))
    {
        notes.push(note);
    }
    let listed = listings(ctx);
    if let Some(note) = notes::module_note(&target.message, &listed, failing_line.as_deref()) {
        notes.insert(0, note);
    }
    if !listed.is_empty() {
        notes.insert(0, listed);
    }
    Some(Focus {
        failure: failure_text(target),
        test,
        editables,
        files: notes.join("\n"),
    })
}

/// A line that imports (Python, JavaScript, Rust, Go, C).
static IMPORT: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(
        r#"^\s*(?:from\s+\S+\s+import\b|import\b|(?:pub\s+)?use\s|#\s*include\b|(?:const|let|var)\s+[\w{}\s,:]+=\s*require\(|require\()"#,
    )
    .expect("static regex")
});

/// Lines of an import block offered at most.
const MAX_IMPORT_LINES: usize = 30;

/// The block of imports holding line `at` (0-based) when that line imports: the import
/// lines around it, with the blank lines between them and the continuation lines of a
/// multi-line import.
fn import_block(lines: &[&str], at: usize) -> Option<(usize, usize)> {
    let part = |i: usize| {
        let l = lines[i];
        IMPORT.is_match(l)
            || l.trim().is_empty()
            || l.starts_with([' ', '\t', ')', '}'])
            || l.trim_start().starts_with('"')
    };
    if !IMPORT.is_match(lines.get(at)?) {
        return None;
    }
    let mut first = at;
    while first > 0 && at - first < MAX_IMPORT_LINES && part(first - 1) {
        first -= 1;
    }
    let mut last = at;
    while last + 1 < lines.len() && last - first < MAX_IMPORT_LINES && part(last + 1) {
        last += 1;
    }
    // a continuation line above the first import belongs to something else
    while first < at && !IMPORT.is_match(lines[first]) {
        first += 1;
    }
    // down to the last line of the last import (its continuation lines included)
    while last > at && (lines[last].trim().is_empty() || is_def_start(lines[last])) {
        last -= 1;
    }
    let last_import = (at..=last).rev().find(|&i| IMPORT.is_match(lines[i]))?;
    let closes = (last_import..=last)
        .find(|&i| {
            let t = lines[i].trim_end();
            i > last_import && (t.starts_with(')') || t.starts_with('}'))
        })
        .unwrap_or(last_import);
    Some((first, closes.max(last_import)))
}

/// The context's listings of the files next to a failed import, one per line.
fn listings(ctx: &Context) -> String {
    ctx.pieces
        .iter()
        .filter(|p| p.kind == PieceKind::Listing)
        .map(|p| p.text.trim())
        .collect::<Vec<_>>()
        .join("\n")
}

/// True for a test inside a code file (Rust's `#[test]` functions in `mod tests`, or the
/// failing test by name): the short prompt offers code to fix, never a test.
fn is_test_function(lines: &[&str], first: usize, name: &str, target: &Failure) -> bool {
    let failing = target
        .test
        .as_deref()
        .and_then(|t| t.rsplit([':', '.', '/']).find(|s| !s.is_empty()))
        .map(|t| t.split('[').next().unwrap_or(t));
    if !name.is_empty() && failing == Some(name) {
        return true;
    }
    lines[..first]
        .iter()
        .rev()
        .map(|l| l.trim())
        .take_while(|l| l.starts_with("#[") || l.starts_with('@') || l.starts_with("//"))
        .any(|l| {
            l.starts_with("#[test")
                || l.contains("::test")
                || l.starts_with("@pytest")
                || l.starts_with("@Test")
        })
}

/// What in a failure message names where it was made: error values the code builds
/// (`InsufficientFunds`: two capitalised words or more, not a generic `…Error`), and the
/// message an exception was raised with (`ValueError: window must be positive`).
fn failure_marks(message: &str) -> Vec<String> {
    static CAMEL: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"\b[A-Z][a-z]+(?:[A-Z][a-z0-9]+)+\b").expect("static regex")
    });
    let first = message.lines().next().unwrap_or("");
    let mut marks: Vec<String> = CAMEL
        .find_iter(first)
        .map(|m| m.as_str())
        .filter(|w| w.len() >= 8 && !w.ends_with("Error") && !w.ends_with("Exception"))
        .map(str::to_string)
        .collect();
    if let Some((kind, said)) = first.split_once(": ") {
        let raised = kind.ends_with("Error") || kind.ends_with("Exception");
        let said = said.trim().trim_matches(['\'', '"', '`']);
        let compares =
            said.starts_with("assert") || ["==", "!=", "<", ">"].iter().any(|op| said.contains(op));
        if raised && !compares && said.len() >= 12 && said.contains(' ') {
            marks.push(said.to_string());
        }
    }
    marks.dedup();
    marks
}

/// True when `body` makes one of `marks`: names the error value outside a match arm, or
/// holds the raised message.
fn raises(body: &[&str], marks: &[String]) -> bool {
    body.iter().any(|line| {
        marks
            .iter()
            .any(|m| word_at(line, m).next().is_some() && !line.contains("=>"))
    })
}

/// The failing test's code: the context's test piece, else the block around the
/// reported line of a test file, or around the test's frame in the stack (a pytest
/// failure inside the code names the test's line above it).
fn test_code(
    target: &Failure,
    pieces: &[&crate::context::Piece],
    read: &dyn Fn(&str) -> Option<String>,
) -> Option<(String, String)> {
    if let Some(p) = pieces.iter().find(|p| p.kind == PieceKind::Test)
        && let (Some(path), Some((a, b))) = (&p.path, p.lines)
        && let Some(text) = read(path)
    {
        let lines: Vec<&str> = text.lines().collect();
        return Some((path.clone(), exact(&lines, a as usize - 1, b as usize - 1)));
    }
    // the reported line when it is in a test, else the test's own frame in the stack
    let (path, line) = match (&target.file, target.line) {
        (Some(f), Some(l)) if is_test_path(f) => (f, l as usize),
        _ => target
            .frames
            .iter()
            .find(|f| is_test_path(&f.file))
            .and_then(|f| Some((&f.file, f.line? as usize)))?,
    };
    let text = read(path)?;
    let lines: Vec<&str> = text.lines().collect();
    let at = line.checked_sub(1)?.min(lines.len().checked_sub(1)?);
    let start = (0..=at)
        .rev()
        .find(|&i| TEST_START.is_match(lines[i]) && symbols::block_end(&lines, i) >= at)?;
    let end = symbols::block_end(&lines, start);
    (end - start < MAX_DEFINITION_LINES).then(|| (path.clone(), exact(&lines, start, end)))
}

/// Where a test starts: a test function or a `test(…)`/`it(…)` call.
static TEST_START: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(r"^\s*(?:(?:it|test|describe)(?:\.\w+)?\s*\(|(?:async\s+)?def\s+test|fn\s+\w+|func\s+Test|#\[test\])")
        .expect("static regex")
});

/// Line `line` (1-based) of `path`, read through `read`.
pub(super) fn line_of(
    read: &dyn Fn(&str) -> Option<String>,
    path: &str,
    line: u32,
) -> Option<String> {
    let at = (line as usize).checked_sub(1)?;
    read(path)?.lines().nth(at).map(str::to_string)
}

/// Names worth offering, best first: the failure's symbol, the calls on the failing line,
/// the calls in the test.
fn wanted_names(
    target: &Failure,
    failing_line: Option<&str>,
    test: Option<&str>,
    read: &dyn Fn(&str) -> Option<String>,
) -> Vec<String> {
    let mut names: Vec<String> = target.symbol.iter().cloned().collect();
    let mut sources: Vec<String> = failing_line.map(str::to_string).into_iter().collect();
    // the test's own line in the stack (`formatDay(startOfWeek(...))` in the test when the
    // crash is inside `formatDay`): what it calls is what is under test
    for frame in target.frames.iter().filter(|f| is_test_path(&f.file)) {
        if let Some(line) = frame.line.and_then(|l| line_of(read, &frame.file, l)) {
            sources.push(line);
        }
    }
    sources.push(target.message.clone());
    if let Some(t) = test {
        sources.push(t.to_string());
    }
    for src in &sources {
        let lines: Vec<&str> = src.lines().collect();
        for n in symbols::called_names(&lines, 12) {
            if !names.contains(&n) {
                names.push(n);
            }
        }
    }
    for (call, method) in IMPLICIT {
        if sources.iter().any(|s| s.contains(call)) && !names.iter().any(|n| n == method) {
            names.push(method.to_string());
        }
    }
    names
}

/// Methods a language runs without naming them: `x.to_string()` and `format!` run Rust's
/// `fmt`; `str(x)` and `repr(x)` Python's `__str__` and `__repr__`; `String(x)` and a
/// template literal JavaScript's `toString`.
const IMPLICIT: &[(&str, &str)] = &[
    (".to_string()", "fmt"),
    ("format!(", "fmt"),
    ("str(", "__str__"),
    ("repr(", "__repr__"),
    ("String(", "toString"),
    ("${", "toString"),
];

/// The functions defined in lines `a..=b` (0-based) of a file, each with its end; the
/// definition a piece starts inside counts when its start is above the piece.
fn functions_in(lines: &[&str], a: usize, b: usize) -> Vec<(usize, usize)> {
    let b = b.min(lines.len().saturating_sub(1));
    let mut out = Vec::new();
    if let Some(span) = enclosing_definition(lines, a) {
        out.push(span);
    }
    for i in a..=b {
        if is_def_start(lines[i]) && !out.iter().any(|&(f, _)| f == i) {
            out.push((i, symbols::block_end(lines, i)));
        }
    }
    out
}

/// The focus for `whole_file`: `main_file` (the likeliest file to fix) offered whole.
pub fn whole_file(target: &Failure, ctx: &Context, repo: &Path, main_file: &str) -> Option<Focus> {
    if main_file.is_empty() || is_test_path(main_file) {
        return None;
    }
    let text = std::fs::read_to_string(repo.join(main_file)).ok()?;
    let lines: Vec<&str> = text.lines().collect();
    if lines.is_empty() || lines.len() > MAX_WHOLE_FILE_LINES {
        return None;
    }
    let test = focus(target, ctx, repo).and_then(|f| f.test);
    Some(Focus {
        failure: failure_text(target),
        test,
        editables: vec![Editable {
            path: main_file.to_string(),
            first: 0,
            last: lines.len() - 1,
            text: lines.join("\n"),
        }],
        files: listings(ctx),
    })
}

pub(super) fn exact(lines: &[&str], first: usize, last: usize) -> String {
    let last = last.min(lines.len().saturating_sub(1));
    lines[first.min(last)..=last].join("\n")
}

/// Where a function or method starts, in the languages we know.
static START: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(
        r"^\s*(?:(?:export|default|pub(?:\([^)]*\))?|public|private|protected|static|async|unsafe|const)\s+)*(?:def|fn|func|function\*?)\b|^\s*(?:async\s+)?[A-Za-z_$][\w$]*\s*\([^)]*\)\s*\{\s*$|^\s*(?:const|let|var)\s+[A-Za-z_$][\w$]*\s*=\s*(?:async\s*)?(?:function\b|\([^)]*\)\s*=>)",
    )
    .expect("static regex")
});

/// A line that starts a function or method (not an `if (…) {` or a loop).
pub(super) fn is_def_start(line: &str) -> bool {
    static CONTROL: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"^\s*(?:if|for|while|switch|catch|else|do|return|with|try)\b")
            .expect("static regex")
    });
    START.is_match(line) && !CONTROL.is_match(line)
}

/// The function or method that holds line `at`, 0-based inclusive.
pub(super) fn enclosing_definition(lines: &[&str], at: usize) -> Option<(usize, usize)> {
    let at = at.min(lines.len().checked_sub(1)?);
    (0..=at).rev().find_map(|i| {
        if !is_def_start(lines[i]) {
            return None;
        }
        let end = symbols::block_end(lines, i);
        (end >= at).then_some((i, end))
    })
}

fn failure_text(f: &Failure) -> String {
    let excerpt: Vec<&str> = f.excerpt.lines().collect();
    let tail = &excerpt[excerpt.len().saturating_sub(EXCERPT_LINES)..];
    let mut out = f.message.trim().to_string();
    if !tail.is_empty() {
        out.push_str("\n\n");
        out.push_str(&tail.join("\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::focus::fixture::{editable, write_all};

    #[test]
    fn the_enclosing_method_is_found() {
        let e = editable();
        assert_eq!((e.first, e.last), (7, 10));
        assert!(e.text.starts_with("  discount() {"), "{}", e.text);
        assert!(e.text.ends_with("  }"), "{}", e.text);
    }

    #[test]
    fn of_several_methods_with_one_name_the_one_the_test_names_comes_first() {
        let dir = tempfile::tempdir().unwrap();
        let write = |rel: &str, text: &str| {
            let p = dir.path().join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        };
        write(
            "shapes/shapes.go",
            "package shapes\n\ntype Rect struct{ W, H float64 }\n\nfunc (r Rect) Area() float64 { return r.W * r.H }\n\ntype Circle struct{ R float64 }\n\nfunc (c Circle) Area() float64 { return 2 * math.Pi * c.R }\n",
        );
        write(
            "shapes/shapes_test.go",
            "package shapes\n\nfunc TestCircle(t *testing.T) {\n\tc := Circle{R: 1}\n\tapprox(t, \"Circle.Area\", c.Area(), math.Pi)\n}\n",
        );
        let mut f = Failure::new(
            "go-test",
            crate::logs::Kind::TestFailure,
            "Circle.Area = 6.283185, want 3.141593",
        )
        .at("shapes/shapes_test.go", Some(5), None);
        f.test = Some("shapes.TestCircle".into());
        let ctx = crate::context::build(std::slice::from_ref(&f), dir.path(), 2500);
        let got = focus(&f, &ctx, dir.path()).expect("a definition to offer");
        assert!(
            got.editables[0].text.starts_with("func (c Circle) Area()"),
            "{:?}",
            got.editables
        );
        assert!(got.test.unwrap().1.contains("func TestCircle"));
    }

    #[test]
    fn the_code_that_makes_the_error_the_failure_names_is_marked() {
        let marks = failure_marks(
            "called `Result::unwrap()` on an `Err` value: InsufficientFunds { balance: 200, requested: 200 }",
        );
        assert_eq!(marks, ["InsufficientFunds"]);
        let withdraw = [
            "        if amount >= self.balance {",
            "            return Err(BankError::InsufficientFunds { balance: self.balance, requested: amount });",
            "        }",
        ];
        assert!(raises(&withdraw, &marks));
        let display = ["            BankError::InsufficientFunds { .. } => write!(f, \"short\"),"];
        assert!(
            !raises(&display, &marks),
            "a match arm reads the error, it does not make it"
        );
        let py = failure_marks("ValueError: window must be positive");
        assert_eq!(py, ["window must be positive"]);
        assert!(raises(
            &["        raise ValueError(\"window must be positive\")"],
            &py
        ));
        assert!(failure_marks("AssertionError: assert 2 == 3").is_empty());
    }

    #[test]
    fn a_failed_import_offers_the_imports_around_it() {
        let py = [
            "\"\"\"Stats.\"\"\"",
            "from collections import Counter",
            "",
            "from .tokenizer import (",
            "    sentences,",
            "    words,",
            ")",
            "",
            "",
            "def summary(text):",
            "    return words(text)",
        ];
        assert_eq!(import_block(&py, 3), Some((1, 6)));
        assert_eq!(import_block(&py, 10), None, "not an import");
        let go = [
            "package wordfreq",
            "",
            "import (",
            "\t\"fmt\"",
            "\t\"example.com/wordfreq/textutil\"",
            ")",
            "",
            "func Count() {}",
        ];
        assert_eq!(
            import_block(&go, 4),
            None,
            "a path inside import ( ) is no import line"
        );
        assert_eq!(import_block(&go, 2), Some((2, 5)));
        let js = [
            "'use strict';",
            "const { slugify } = require('./slug');",
            "const fmt = require('./formatter');",
            "",
            "function title(s) {",
            "  return fmt(s);",
            "}",
        ];
        assert_eq!(import_block(&js, 2), Some((1, 2)));
    }

    #[test]
    fn the_code_that_makes_the_error_comes_before_what_the_test_calls() {
        let dir = write_all(&[
            (
                "src/ledger.rs",
                "pub fn transfer(a: &mut Account, amount: u64) -> Result<(), BankError> {\n    a.withdraw(amount)?;\n    Ok(())\n}\n",
            ),
            (
                "src/account.rs",
                "impl Account {\n    pub fn withdraw(&mut self, amount: u64) -> Result<u64, BankError> {\n        if amount >= self.balance {\n            return Err(BankError::InsufficientFunds { balance: self.balance, requested: amount });\n        }\n        self.balance -= amount;\n        Ok(self.balance)\n    }\n}\n",
            ),
            (
                "tests/ledger.rs",
                "#[test]\nfn transfer_all() {\n    let mut a = Account::new(200);\n    transfer(&mut a, 200).unwrap();\n    assert_eq!(a.withdraw(1).is_err(), true);\n}\n",
            ),
        ]);
        let mut f = Failure::new(
            "cargo-test",
            crate::logs::Kind::TestFailure,
            "called `Result::unwrap()` on an `Err` value: InsufficientFunds { balance: 200, requested: 200 }",
        )
        .at("tests/ledger.rs", Some(4), None);
        f.test = Some("transfer_all".into());
        let ctx = crate::context::build(std::slice::from_ref(&f), dir.path(), 2500);
        let got = focus(&f, &ctx, dir.path()).unwrap();
        assert!(
            got.editables[0].text.contains("fn withdraw"),
            "{:?}",
            got.editables
        );
    }

    #[test]
    fn code_in_another_language_that_writes_the_same_function_is_not_offered() {
        let lib = "use std::fmt;\n\npub struct D(u64);\n\nimpl fmt::Display for D {\n    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {\n        write!(f, \"{:2}\", self.0)\n    }\n}\n\n#[cfg(test)]\nmod tests {\n    #[test]\n    fn displays_zero_padded() {\n        assert_eq!(super::D(5).to_string(), \"05\");\n    }\n}\n";
        let script = "#!/bin/sh\ncat > src/lib.rs <<'EOF'\nimpl fmt::Display for D {\n    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {\n        write!(f, \"{:02}\", self.0)\n    }\n}\nEOF\n";
        let dir = write_all(&[("src/lib.rs", lib), ("restore.sh", script)]);
        let mut f = Failure::new(
            "cargo-test",
            crate::logs::Kind::TestFailure,
            "assertion `left == right` failed; left: \" 5\"; right: \"05\"",
        )
        .at("src/lib.rs", Some(15), None);
        f.test = Some("tests::displays_zero_padded".into());
        let ctx = crate::context::build(std::slice::from_ref(&f), dir.path(), 2500);
        let got = focus(&f, &ctx, dir.path()).unwrap();
        assert!(
            got.editables.iter().all(|e| e.path == "src/lib.rs"),
            "{:?}",
            got.editables
        );
        assert!(
            got.editables[0].text.contains("fn fmt"),
            "{:?}",
            got.editables
        );
    }

    #[test]
    fn tests_inside_code_files_are_never_offered() {
        let lines = [
            "pub fn pad(n: u32) -> String {",
            "    format!(\"{n}\")",
            "}",
            "#[cfg(test)]",
            "mod tests {",
            "    #[test]",
            "    fn displays_zero_padded() {",
            "        assert_eq!(super::pad(1), \"01\");",
            "    }",
            "}",
        ];
        let f = Failure::new(
            "cargo-test",
            crate::logs::Kind::TestFailure,
            "left: 1 right: 01",
        );
        assert!(is_test_function(&lines, 6, "displays_zero_padded", &f));
        assert!(!is_test_function(&lines, 0, "pad", &f));
        let mut named = f.clone();
        named.test = Some("tests::displays_zero_padded".into());
        assert!(is_test_function(
            &["fn displays_zero_padded() {"],
            0,
            "displays_zero_padded",
            &named
        ));
    }
}
