//! The short prompt for small models and the "function" edit format.
//!
//! Small models follow a short, concrete request: one failure at a time, the failing
//! assertion, the test function, and the definitions it runs, shown exactly as in the
//! file (no line-number gutters to copy, no example edit to parrot). They are asked for
//! one definition back, whole; [`place`] puts it over the definition whose signature it
//! repeats, from that signature to the definition's end. A reply in another shape
//! (search/replace blocks, a diff) is taken as it is.

use std::path::Path;

use crate::context::{Context, PieceKind, symbols};
use crate::llm::prompts::{Prompts, Template};
use crate::llm::{Language, LlmError};
use crate::logs::Failure;
use crate::logs::paths::is_test_path;
use crate::patch::{Edit, parse::ParseError};

/// Definitions offered for editing at most.
pub const MAX_EDITABLE: usize = 3;
/// Lines of one definition at most (longer ones are left to the search/replace format).
pub const MAX_DEFINITION_LINES: usize = 80;
/// Longer files are not searched for definitions.
const MAX_SCANNED_LINES: usize = 3000;
/// Lines of the failure's excerpt shown.
const EXCERPT_LINES: usize = 25;

/// A definition the model may rewrite: its exact text and where it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Editable {
    pub path: String,
    /// 0-based first and last (inclusive) line.
    pub first: usize,
    pub last: usize,
    pub text: String,
}

impl Editable {
    fn signature(&self) -> &str {
        self.text
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("")
    }
}

/// What the short prompt shows.
#[derive(Clone, Debug)]
pub struct Focus {
    pub failure: String,
    /// The failing test's path and exact code.
    pub test: Option<(String, String)>,
    pub editables: Vec<Editable>,
    /// The files next to a failed import (`Files in textstats/: stats.py, tokenize.py`).
    pub files: String,
}

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
    let names = wanted_names(target, test.as_ref().map(|t| t.1.as_str()), &read);
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
    let failing_line = match (&target.file, target.line) {
        (Some(f), Some(l)) if l > 0 => read(f)
            .and_then(|t| t.lines().nth(l as usize - 1).map(str::to_string))
            .unwrap_or_default(),
        _ => String::new(),
    };
    let on_line: std::collections::HashSet<&str> = failing_line
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
    let mut files: Vec<&String> = Vec::new();
    for p in &pieces {
        if let Some(path) = &p.path
            && !is_test_path(path)
            && matches!(p.kind, PieceKind::Definition | PieceKind::Source)
            && !files.contains(&path)
        {
            files.push(path);
        }
    }
    let marks = failure_marks(&target.message);
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
        for (first, last) in functions_in(&lines, a as usize - 1, b as usize - 1) {
            let name = defined_name(lines[first]).unwrap_or("");
            if is_test_function(&lines, first, name, target) {
                continue;
            }
            let by_name = names.iter().position(|n| n == name);
            let priority = if reported.is_some_and(|r| (first..=last).contains(&r)) {
                0
            } else if by_name == Some(0) {
                1
            } else if raises(&lines[first + 1..=last], &marks) {
                // where the error the failure names is made: `Err(InsufficientFunds {..})`
                2
            } else if let Some(i) = by_name {
                1 + 2 * i
            } else if shown(path, first as u32 + 1) {
                // a definition the context chose (a name like a missing one, say)
                1 + 2 * names.len()
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
    let editables: Vec<Editable> = found
        .into_iter()
        .take(MAX_EDITABLE)
        .map(|(_, _, e)| e)
        .collect();
    if editables.is_empty() {
        return None;
    }
    Some(Focus {
        failure: failure_text(target),
        test,
        editables,
        files: listings(ctx),
    })
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
        marks.iter().any(|m| {
            line.match_indices(m.as_str()).any(|(at, _)| {
                let before = line[..at].chars().next_back();
                let after = line[at + m.len()..].chars().next();
                let word = !before.is_some_and(|c| c.is_alphanumeric() || c == '_')
                    && !after.is_some_and(|c| c.is_alphanumeric() || c == '_');
                word && !line.contains("=>")
            })
        })
    })
}

/// The failing test's code: the context's test piece, else the block around the
/// reported line of a test file.
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
    let (path, line) = (target.file.as_ref()?, target.line? as usize);
    if !is_test_path(path) {
        return None;
    }
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

/// Names worth offering, best first: the failure's symbol, the calls on the failing line,
/// the calls in the test.
fn wanted_names(
    target: &Failure,
    test: Option<&str>,
    read: &dyn Fn(&str) -> Option<String>,
) -> Vec<String> {
    let mut names: Vec<String> = target.symbol.iter().cloned().collect();
    let failing_line = match (&target.file, target.line) {
        (Some(f), Some(l)) => {
            read(f).and_then(|t| t.lines().nth(l as usize - 1).map(str::to_string))
        }
        _ => None,
    };
    let mut sources: Vec<String> = failing_line.into_iter().collect();
    // the test's own line in the stack (`formatDay(startOfWeek(...))` in the test when the
    // crash is inside `formatDay`): what it calls is what is under test
    for frame in target.frames.iter().filter(|f| is_test_path(&f.file)) {
        if let Some(line) = frame.line.filter(|l| *l > 0).and_then(|l| {
            read(&frame.file)?
                .lines()
                .nth(l as usize - 1)
                .map(str::to_string)
        }) {
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

/// Lines of a file offered whole at most (`edit_format = "whole_file"`).
pub const MAX_WHOLE_FILE_LINES: usize = 250;

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

fn exact(lines: &[&str], first: usize, last: usize) -> String {
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
fn is_def_start(line: &str) -> bool {
    static CONTROL: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"^\s*(?:if|for|while|switch|catch|else|do|return|with|try)\b")
            .expect("static regex")
    });
    START.is_match(line) && !CONTROL.is_match(line)
}

/// The function or method that holds line `at`, 0-based inclusive.
fn enclosing_definition(lines: &[&str], at: usize) -> Option<(usize, usize)> {
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

/// Appended to the short prompt for one candidate of each round: reason, then code.
pub const REASON_FIRST: &str =
    "\n\nThis time, before the block, say in one sentence which line is wrong and why.";

/// The system message of the short prompt (`prompts/short_system.md`): one sentence, no
/// example to copy.
pub fn system(prompts: &Prompts) -> Result<String, LlmError> {
    prompts.render(Template::ShortSystem, &[])
}

/// The user message (`prompts/short.md`): the failure, the test, the definitions, and what
/// to send back. `previous` is what the last try changed and what the tests said after it.
pub fn user_message(
    prompts: &Prompts,
    f: &Focus,
    format: crate::llm::sizing::EditFormat,
    previous: Option<(&str, &str)>,
) -> Result<String, LlmError> {
    let lang = f
        .editables
        .first()
        .and_then(|e| Language::from_path(&e.path));
    let tag = lang.map_or("", |l| l.fence());
    let test = match &f.test {
        Some((path, code)) => format!("\nThe test ({path}):\n```{tag}\n{code}\n```\n"),
        None => String::new(),
    };
    let mut code = String::new();
    for e in &f.editables {
        let tag = Language::from_path(&e.path).map_or("", |l| l.fence());
        code.push_str(&format!(
            "\n{} (lines {}-{}):\n```{tag}\n{}\n```\n",
            e.path,
            e.first + 1,
            e.last + 1,
            e.text
        ));
    }
    let previous = match previous {
        Some((diff, said)) => format!(
            "\nThis change was tried and did not fix it:\n```diff\n{}\n```\nThe tests said:\n```\n{}\n```\n",
            diff.trim_end(),
            said.trim_end()
        ),
        None => String::new(),
    };
    let which = if format == crate::llm::sizing::EditFormat::WholeFile {
        "the file above"
    } else if f.editables.len() == 1 {
        "the definition above"
    } else {
        "the one definition above that is wrong"
    };
    let files = match f.files.as_str() {
        "" => String::new(),
        listed => format!("\n{listed}\n"),
    };
    let vars = [
        ("failure", f.failure.as_str()),
        ("test", test.as_str()),
        ("files", files.as_str()),
        ("code", code.as_str()),
        ("previous", previous.as_str()),
        ("which", which),
        ("fence", tag),
    ];
    Ok(prompts
        .render(Template::Short, &vars)?
        .trim_end()
        .to_string())
}

/// True when `reply`'s code block starts with the first line of `test`: the model
/// rewrote the failing test it was shown, not the code.
pub fn sends_back(reply: &str, test: &str) -> bool {
    let head = |text: &str| -> Option<String> {
        text.lines()
            .map(str::trim)
            .find(|l| !l.is_empty() && !l.starts_with("```"))
            .map(str::to_string)
    };
    let block = reply.split_once("```").map_or(reply, |(_, rest)| {
        rest.split_once('\n').map_or(rest, |(_, r)| r)
    });
    head(block).is_some_and(|h| Some(h) == head(test))
}

/// The edits a reply to the short prompt stands for. A code block is put over the
/// offered definition whose signature it repeats (re-indented if the model dropped the
/// indentation); search/replace blocks and diffs are taken as they are.
pub fn place(reply: &str, editables: &[Editable]) -> Result<Vec<Edit>, String> {
    let edits = crate::patch::parse_reply(reply).map_err(|e| match e {
        ParseError::Truncated { .. } | ParseError::NoEdits => e.to_string(),
        other => other.to_string(),
    })?;
    let mut out = Vec::new();
    for edit in edits {
        match edit {
            Edit::WholeFile { content, .. } => out.push(place_block(&content, editables)?),
            other => out.push(other),
        }
    }
    Ok(out)
}

/// How alike (Dice, over the whole text) a block must be to an offered definition whose
/// name it changed to be taken as that definition.
const RENAMED_ALIKE: f64 = 0.8;

fn place_block(code: &str, editables: &[Editable]) -> Result<Edit, String> {
    let lines: Vec<&str> = code.trim_end_matches('\n').lines().collect();
    let first = lines
        .iter()
        .position(|l| !l.trim().is_empty())
        .ok_or("the code block is empty")?;
    let head = lines[first].trim();
    // the same name defined, and lines alike (a small model may change a parameter)
    let score = |e: &Editable| {
        let alike = dice(header(e.signature()), header(head));
        match (defined_name(e.signature()), defined_name(head)) {
            (Some(a), Some(b)) if a != b => 0.0,
            (Some(_), Some(_)) => 0.5 + alike / 2.0,
            _ => alike,
        }
    };
    let by_head = editables
        .iter()
        .max_by(|a, b| score(a).total_cmp(&score(b)))
        .ok_or("no definition was offered")?;
    // no first line matches: a definition sent back renamed (`normalizeWord` as the
    // `Normalize` its callers want) is still that definition when the rest is alike
    let whole = lines[first..].join("\n");
    let renamed = editables
        .iter()
        .filter(|e| defined_name(e.signature()).is_some() && defined_name(head).is_some())
        .map(|e| (e, dice(&e.text, &whole)))
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .filter(|(_, alike)| *alike >= RENAMED_ALIKE)
        .map(|(e, _)| e);
    let best = match renamed {
        Some(e) if score(by_head) < 0.6 => e,
        _ => by_head,
    };
    if score(best) < 0.6 && renamed.is_none() {
        return Err(format!(
            "the code block starts with `{head}`, which is not the first line of a definition shown; \
             send back one of them whole, starting with its first line (e.g. `{}`)",
            best.signature().trim()
        ));
    }
    let want = indent_of(best.signature());
    let have = indent_of(lines[first]);
    let body: Vec<String> = lines[first..]
        .iter()
        .map(|l| reindent(l, have, want))
        .collect();
    Ok(Edit::Replace {
        path: Some(best.path.clone()),
        search: best.text.clone(),
        replace: body.join("\n"),
    })
}

/// A definition's first line up to where its body opens: a one-line definition
/// (`func (c Circle) Area() float64 { return … }`) compares with the same definition
/// rewritten over several lines by its header alone.
fn header(line: &str) -> &str {
    let line = line.trim();
    match line.find('{') {
        Some(at) => &line[..=at],
        None => line,
    }
}

/// The name a definition line defines: the first identifier before `(` that is not a
/// keyword (`def mean(`, `fn area(`, `func (s *Store) Set(`, `discount() {`, `function f(`).
fn defined_name(line: &str) -> Option<&str> {
    static CALLED: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"([A-Za-z_$][\w$]*)\s*(?:<[^>]*>)?\s*\(").expect("static regex")
    });
    const KEYWORDS: &[&str] = &[
        "def", "fn", "func", "function", "async", "if", "for", "while",
    ];
    CALLED
        .captures_iter(line)
        .map(|c| c.get(1).map_or("", |m| m.as_str()))
        .find(|n| !KEYWORDS.contains(n))
}

fn indent_of(line: &str) -> &str {
    &line[..line.len() - line.trim_start().len()]
}

fn reindent(line: &str, have: &str, want: &str) -> String {
    if have == want || line.trim().is_empty() {
        return line.to_string();
    }
    match line.strip_prefix(have) {
        Some(rest) => format!("{want}{rest}"),
        None => format!("{want}{}", line.trim_start()),
    }
}

/// Sørensen–Dice similarity of two lines' character bigrams (1.0: same).
fn dice(a: &str, b: &str) -> f64 {
    if a == b {
        return 1.0;
    }
    let grams = |s: &str| -> Vec<(char, char)> {
        let c: Vec<char> = s.chars().filter(|c| !c.is_whitespace()).collect();
        let mut g: Vec<(char, char)> = c.windows(2).map(|w| (w[0], w[1])).collect();
        g.sort_unstable();
        g
    };
    let (x, y) = (grams(a), grams(b));
    if x.is_empty() || y.is_empty() {
        return 0.0;
    }
    let (mut i, mut j, mut common) = (0, 0, 0);
    while i < x.len() && j < y.len() {
        match x[i].cmp(&y[j]) {
            std::cmp::Ordering::Equal => {
                common += 1;
                i += 1;
                j += 1;
            }
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
        }
    }
    2.0 * common as f64 / (x.len() + y.len()) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    const CART: &str = "'use strict';\n\nclass Cart {\n  subtotal() {\n    return 10;\n  }\n\n  discount() {\n    const percent = couponPercent(this.coupon, this.subtotal());\n    return Math.floor(this.subtotal() * percent) / 100;\n  }\n}\n";

    fn editable() -> Editable {
        let lines: Vec<&str> = CART.lines().collect();
        let (first, last) = enclosing_definition(&lines, 9).unwrap();
        Editable {
            path: "src/cart.js".into(),
            first,
            last,
            text: exact(&lines, first, last),
        }
    }

    #[test]
    fn the_enclosing_method_is_found() {
        let e = editable();
        assert_eq!((e.first, e.last), (7, 10));
        assert!(e.text.starts_with("  discount() {"), "{}", e.text);
        assert!(e.text.ends_with("  }"), "{}", e.text);
    }

    #[test]
    fn a_rewritten_method_is_placed_by_signature_and_end() {
        let e = editable();
        // unindented, with a copied gutter, chatter around
        let reply = "Here is the fix:\n```javascript\n8| discount() {\n9|   const percent = couponPercent(this.coupon, this.subtotal());\n10|   return roundCents((this.subtotal() * percent) / 100);\n11| }\n```\nThis rounds.";
        let edits = place(reply, std::slice::from_ref(&e)).unwrap();
        let Edit::Replace {
            path,
            search,
            replace,
        } = &edits[0]
        else {
            panic!("{edits:?}")
        };
        assert_eq!(path.as_deref(), Some("src/cart.js"));
        assert_eq!(search, &e.text);
        assert_eq!(
            replace,
            "  discount() {\n    const percent = couponPercent(this.coupon, this.subtotal());\n    return roundCents((this.subtotal() * percent) / 100);\n  }"
        );
    }

    #[test]
    fn a_block_that_is_not_an_offered_definition_is_refused_with_a_reason() {
        let e = editable();
        let err = place(
            "```javascript\ntest('discount', () => {\n  assert.equal(1, 1);\n});\n```",
            &[e],
        )
        .unwrap_err();
        assert!(err.contains("discount() {"), "{err}");
        let cut = place(
            "```javascript\n  discount() {\n    return 1;\n",
            &[editable()],
        )
        .unwrap_err();
        assert!(cut.contains("cut off"), "{cut}");
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
    fn a_one_line_definition_rewritten_over_several_lines_is_placed_over_itself() {
        let go = |first: usize, text: &str| Editable {
            path: "shapes/shapes.go".into(),
            first,
            last: first + text.lines().count() - 1,
            text: text.into(),
        };
        let circle = go(
            23,
            "func (c Circle) Area() float64      { return 2 * math.Pi * c.R }",
        );
        let triangle = go(
            31,
            "func (t Triangle) Area() float64 {\n\ts := t.Perimeter() / 2\n\treturn math.Sqrt(s * (s - t.A) * (s - t.B) * (s - t.C))\n}",
        );
        let reply =
            "```go\nfunc (c Circle) Area() float64 {\n\treturn math.Pi * c.R * c.R\n}\n```\n";
        let edits = place(reply, &[triangle, circle.clone()]).unwrap();
        match &edits[0] {
            Edit::Replace { search, .. } => assert_eq!(search, &circle.text),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_definition_sent_back_under_the_name_its_callers_want_replaces_it() {
        let count = Editable {
            path: "wordfreq/count.go".into(),
            first: 15,
            last: 17,
            text: "func Count(text string) int {\n\treturn len(Normalize(text))\n}".into(),
        };
        let renamed = Editable {
            path: "wordfreq/text.go".into(),
            first: 11,
            last: 16,
            text: "func normalizeWord(word string) string {\n\tw := strings.ToLower(word)\n\tif stopWords[w] {\n\t\treturn \"\"\n\t}\n\treturn w\n}".into(),
        };
        let reply = "```go\nfunc Normalize(word string) string {\n\tw := strings.ToLower(word)\n\tif stopWords[w] {\n\t\treturn \"\"\n\t}\n\treturn w\n}\n```\n";
        let edits = place(reply, &[count.clone(), renamed.clone()]).unwrap();
        match &edits[0] {
            Edit::Replace {
                path,
                search,
                replace,
            } => {
                assert_eq!(path.as_deref(), Some("wordfreq/text.go"));
                assert_eq!(search, &renamed.text);
                assert!(replace.starts_with("func Normalize(word string)"));
            }
            other => panic!("{other:?}"),
        }
        // a sentence on what is wrong before the block (the reasoning candidate) is fine
        let reasoned = format!("The call uses the old name.\n\n{reply}");
        assert_eq!(
            place(&reasoned, &[count.clone(), renamed.clone()]).unwrap(),
            edits
        );
        // a different function under a new name is no rename
        let other =
            "```go\nfunc Tokens(text string) []string {\n\treturn strings.Fields(text)\n}\n```\n";
        assert!(place(other, &[count, renamed]).is_err());
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
    fn a_reply_that_rewrites_the_test_is_recognised() {
        let test = "fn transfer_works() {\n    assert_eq!(1, 1);\n}";
        assert!(sends_back(
            "Here:\n```rust\nfn transfer_works() {\n    assert_eq!(1, 2);\n}\n```",
            test
        ));
        assert!(!sends_back(
            "```rust\npub fn transfer(&mut self) {\n}\n```",
            test
        ));
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

    #[test]
    fn names_of_definitions() {
        assert_eq!(defined_name("  discount() {"), Some("discount"));
        assert_eq!(
            defined_name("def moving_average(xs, n):"),
            Some("moving_average")
        );
        assert_eq!(defined_name("func (s *Store) Set(k string) {"), Some("Set"));
        assert_eq!(defined_name("pub fn area<T>(x: T) -> f64 {"), Some("area"));
        assert_eq!(defined_name("test('discount', () => {"), Some("test"));
        assert_eq!(defined_name("class Cart {"), None);
    }

    #[test]
    fn the_prompt_is_short_and_names_no_example() {
        let f = Focus {
            failure: "2.69 !== 2.7".into(),
            test: Some(("test/cart.test.js".into(), "test('d', () => {});".into())),
            editables: vec![editable()],
            files: String::new(),
        };
        let prompts = Prompts::builtin();
        let text = user_message(
            &prompts,
            &f,
            crate::llm::sizing::EditFormat::Function,
            Some(("-a\n+b", "2.6 !== 2.7")),
        )
        .unwrap();
        assert!(text.contains("src/cart.js (lines 8-11)"), "{text}");
        assert!(text.contains("```javascript\n  discount() {"), "{text}");
        assert!(!text.contains("8|"), "no gutters to copy: {text}");
        assert!(text.contains("This change was tried") && text.contains("2.6 !== 2.7"));
        assert!(
            text.starts_with(
                "A test fails:\n```\n2.69 !== 2.7\n```\n\nThe test (test/cart.test.js):"
            ),
            "{text}"
        );
        assert!(
            text.ends_with("Keep its first line. No other text."),
            "{text}"
        );
        assert!(!system(&prompts).unwrap().contains("SEARCH"));
    }

    #[test]
    fn the_short_prompt_can_be_replaced_from_prompts_dir() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("short_system.md"),
            "Fix it. Reply with code only.",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("short.md"),
            "Failing:\n{{failure}}\nCode:{{code}}Return {{which}} in ```{{fence}}.",
        )
        .unwrap();
        let prompts = Prompts::load(Some(dir.path())).unwrap();
        let f = Focus {
            failure: "2.69 !== 2.7".into(),
            test: None,
            editables: vec![editable()],
            files: String::new(),
        };
        let text =
            user_message(&prompts, &f, crate::llm::sizing::EditFormat::Function, None).unwrap();
        assert!(
            text.starts_with("Failing:\n2.69 !== 2.7\nCode:\nsrc/cart.js (lines 8-11)"),
            "{text}"
        );
        assert!(
            text.ends_with("Return the definition above in ```javascript."),
            "{text}"
        );
        assert_eq!(system(&prompts).unwrap(), "Fix it. Reply with code only.");
        std::fs::write(dir.path().join("short.md"), "no variables at all").unwrap();
        let err = Prompts::load(Some(dir.path())).unwrap_err().to_string();
        assert!(err.contains("{{failure}}"), "{err}");
    }
}
