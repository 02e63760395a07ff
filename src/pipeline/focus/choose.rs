//! What the short prompt offers: the failing test's code, and the definitions it runs,
//! best first ([`focus`]), or the likeliest file whole ([`whole_file`]); found by name
//! (what the failing line and the test call), by where the error is made, and by what
//! the context chose.

use std::path::Path;

use super::place::defined_name;
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
    let producer = producer_of_missing_value(target, failing_line.as_deref(), &read);
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
    found.retain(|(_, _, e)| match renamed_with_callers(e, &missing, repo) {
        Some(note) => {
            if notes.is_empty() {
                notes.push(note);
            }
            false
        }
        None => true,
    });
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
    if let Some((table, note)) = missing_from_table(&target.message, &editables, &read) {
        notes.push(note);
        editables = vec![table];
    }
    if let Some(note) = producer
        .as_deref()
        .and_then(|name| returns_nothing(&editables, name))
    {
        notes.push(note);
    }
    let listed = listings(ctx);
    if let Some(note) = module_note(&target.message, &listed, failing_line.as_deref()) {
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

/// Quoted keys (`"timeout"`, `'timeout'`) in `text`.
fn quoted_keys(text: &str) -> Vec<&str> {
    static QUOTED: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r#"['"`]([A-Za-z_][\w.-]*)['"`]"#).expect("static regex")
    });
    QUOTED
        .captures_iter(text)
        .filter_map(|c| c.get(1).map(|m| m.as_str()))
        .collect()
}

/// A key the failure says a lookup missed (`KeyError: 'timeout'`), which the offered code
/// reads, missing from a table that code reads while that table holds other keys the
/// code reads: the table, and a note naming the missing key.
fn missing_from_table(
    message: &str,
    editables: &[Editable],
    read: &dyn Fn(&str) -> Option<String>,
) -> Option<(Editable, String)> {
    let code = editables
        .iter()
        .map(|e| e.text.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    let read_keys = quoted_keys(&code);
    let first = message.lines().next().unwrap_or("");
    let key = quoted_keys(first)
        .into_iter()
        .find(|k| read_keys.contains(k))?;
    tables_read(editables, read).into_iter().find_map(|t| {
        let held = quoted_keys(&t.text);
        if held.contains(&key) {
            return None;
        }
        let mut siblings: Vec<&str> = read_keys
            .iter()
            .copied()
            .filter(|k| held.contains(k))
            .collect();
        siblings.dedup();
        if siblings.is_empty() {
            return None;
        }
        let name = t
            .text
            .split(|c: char| !c.is_alphanumeric() && c != '_')
            .find(|w| {
                w.len() > 2
                    && w.chars()
                        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
            })
            .unwrap_or("the table");
        let listed: Vec<String> = siblings
            .iter()
            .take(4)
            .map(|k| format!("\"{k}\""))
            .collect();
        let note = format!(
            "`{name}` in {} has no \"{key}\" key; it has the other keys the code reads ({}).",
            t.path,
            listed.join(", ")
        );
        Some((t, note))
    })
}

/// Tables looked at at most.
const MAX_TABLES: usize = 3;
/// Lines of one table at most.
const MAX_TABLE_LINES: usize = 40;

/// Module-level tables (`DEFAULTS = {`, `const LIMITS: [u32; 3] = [`) that the offered
/// definitions read, spanning several lines.
fn tables_read(editables: &[Editable], read: &dyn Fn(&str) -> Option<String>) -> Vec<Editable> {
    static CONST: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"\b[A-Z][A-Z0-9_]{2,}\b").expect("static regex")
    });
    let mut out: Vec<Editable> = Vec::new();
    for e in editables {
        let Some(text) = read(&e.path) else { continue };
        let lines: Vec<&str> = text.lines().collect();
        for name in CONST.find_iter(&e.text).map(|m| m.as_str()) {
            if out.len() >= MAX_TABLES {
                return out;
            }
            let Some(first) = lines.iter().position(|l| assigns_table(l, name)) else {
                continue;
            };
            let last = symbols::block_end(&lines, first);
            let taken = editables
                .iter()
                .chain(&out)
                .any(|o| o.path == e.path && o.first <= last && first <= o.last);
            if last > first && last - first < MAX_TABLE_LINES && !taken {
                out.push(Editable {
                    path: e.path.clone(),
                    first,
                    last,
                    text: exact(&lines, first, last),
                });
            }
        }
    }
    out
}

/// True for an unindented line that assigns `name` a table opened on that line.
fn assigns_table(line: &str, name: &str) -> bool {
    if line.starts_with([' ', '\t']) || !line.trim_end().ends_with(['{', '[', '(']) {
        return false;
    }
    let words = line.split_once('=').map_or("", |(lhs, _)| lhs);
    let mut idents = words.split(|c: char| !c.is_alphanumeric() && c != '_');
    idents.any(|w| w == name)
        && words.split_whitespace().all(|w| {
            w.contains(name) || DECLARES.contains(&w) || w.starts_with(':') || w.starts_with('[')
        })
}

/// Words that may come before a declared name.
const DECLARES: &[&str] = &[
    "pub",
    "pub(crate)",
    "const",
    "static",
    "let",
    "var",
    "export",
    "final",
];

/// When `e` is defined under a name like one the failure says is missing (`order_total`
/// for the missing `compute_total`) and other code calls it by that name, a note saying
/// to call it, and `e` is not offered: renaming it back would break those callers, so the caller
/// that uses the old name is what to fix.
fn renamed_with_callers(e: &Editable, missing: &[String], repo: &Path) -> Option<String> {
    let name = defined_name(e.signature())?;
    if missing.iter().any(|m| m == name) {
        return None;
    }
    let wanted = missing
        .iter()
        .find(|m| crate::context::similar::alike(m, name))?;
    let lang = Language::from_path(&e.path)?;
    let callers: Vec<String> = crate::context::walk::source_files(repo, 2000)
        .into_iter()
        .filter(|f| f.language.kin(lang) && !is_test_path(&f.rel))
        .filter(|f| {
            let Ok(text) = std::fs::read_to_string(repo.join(&f.rel)) else {
                return false;
            };
            text.lines().enumerate().any(|(i, l)| {
                let own = f.rel == e.path && (e.first..=e.last).contains(&i);
                !own && calls(l, name)
            })
        })
        .map(|f| f.rel)
        .take(3)
        .collect();
    if callers.is_empty() {
        return None;
    }
    // said plainly, with what not to do: told only that `order_total` exists, the 1.5B
    // model kept adding the missing `compute_total`
    Some(format!(
        "{} has no `{wanted}`; it has `{}`, which {} call{}. Do not add `{wanted}`: call `{name}`.",
        e.path,
        e.signature().trim().trim_end_matches(['{', ':']).trim(),
        callers.join(", "),
        if callers.len() == 1 { "s" } else { "" }
    ))
}

/// True when `line` calls `name` (`name(`, `.name(`), not defining it.
fn calls(line: &str, name: &str) -> bool {
    line.match_indices(name).any(|(at, _)| {
        let before = line[..at].chars().next_back();
        let after = line[at + name.len()..].trim_start().chars().next();
        !before.is_some_and(|c| c.is_alphanumeric() || c == '_')
            && after == Some('(')
            && !(is_def_start(line) && defined_name(line) == Some(name))
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

/// When a failed import names a module (`textstats.tokenizer`) that is not among the
/// listed files but one like it is (`tokenize.py`): a note saying which to import.
/// Shown only the listing, the 1.5B model kept the missing name.
fn module_note(message: &str, listed: &str, failing_line: Option<&str>) -> Option<String> {
    static MODULE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"[A-Za-z_][\w\-]*(?:[./][A-Za-z_][\w\-]*)*").expect("static regex")
    });
    let first = message.lines().next().unwrap_or("");
    for listing in listed.lines() {
        let Some((dir, names)) = listing
            .strip_prefix("Files in ")
            .and_then(|l| l.split_once(": "))
        else {
            continue;
        };
        let entries: Vec<&str> = names.split(", ").collect();
        for m in MODULE.find_iter(first) {
            let wanted = m.as_str().rsplit(['.', '/']).next().unwrap_or("");
            if wanted.len() < 3 {
                continue;
            }
            let stem = |e: &str| -> String {
                let e = e.trim_end_matches('/');
                e.split_once('.').map_or(e, |(s, _)| s).to_string()
            };
            if entries.iter().any(|e| stem(e) == wanted) {
                continue;
            }
            if let Some(like) = entries
                .iter()
                .find(|e| crate::context::similar::alike(wanted, &stem(e)))
            {
                let have = stem(like);
                // as the failing line spells it (`.tokenizer` → `.tokenize`): told to import
                // from `tokenize`, the 1.5B model dropped the relative dot
                let have = failing_line
                    .and_then(|l| {
                        l.split(|c: char| !(c.is_alphanumeric() || "._/-@".contains(c)))
                            .find(|t| t.ends_with(wanted))
                    })
                    .map_or(have.clone(), |t| {
                        format!("{}{have}", &t[..t.len() - wanted.len()])
                    });
                return Some(format!(
                    "{dir} has no `{wanted}` module; it has `{like}`. Do not add `{wanted}`: import from `{have}`."
                ));
            }
        }
    }
    None
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

/// A value that was not there: `Cannot read properties of undefined`, `'NoneType' object
/// has no attribute`, a nil pointer.
static MISSING_VALUE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(
        r"(?i)of undefined|of null\b|undefined is not|is undefined|'NoneType' object|nil pointer",
    )
    .expect("static regex")
});

/// When the failure is a missing value read from a parameter of the function it happened
/// in (`formatDay(date)` reading `date.toISOString()`), the function whose result the
/// test passed as that argument (`formatDay(startOfWeek(…))` → `startOfWeek`): the value
/// was missing before the call, so that function is the likelier culprit (a forgotten
/// `return` is the classic), and it is offered first.
fn producer_of_missing_value(
    target: &Failure,
    failing_line: Option<&str>,
    read: &dyn Fn(&str) -> Option<String>,
) -> Option<String> {
    if !MISSING_VALUE.is_match(&target.message) {
        return None;
    }
    let (path, line) = (target.file.as_ref()?, target.line? as usize);
    let text = read(path)?;
    let lines: Vec<&str> = text.lines().collect();
    let (first, _) = enclosing_definition(&lines, line.checked_sub(1)?)?;
    let crashed = defined_name(lines[first])?;
    let params = lines[first]
        .split_once('(')
        .map_or("", |(_, rest)| rest.split(')').next().unwrap_or(""));
    let failing = failing_line?;
    let reads_param = params
        .split(',')
        .filter_map(|p| {
            p.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '$'))
                .find(|w| !w.is_empty() && *w != "self" && *w != "mut")
        })
        .any(|p| {
            failing.match_indices(p).any(|(at, _)| {
                let before = failing[..at].chars().next_back();
                let after = failing[at + p.len()..].chars().next();
                !before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.')
                    && matches!(after, Some('.' | '['))
            })
        });
    if !reads_param {
        return None;
    }
    let call = regex::Regex::new(&format!(
        r"\b{}\s*\(\s*(?:[\w$]+\.)*([A-Za-z_$][\w$]*)\s*\(",
        regex::escape(crashed)
    ))
    .ok()?;
    target
        .frames
        .iter()
        .filter(|f| is_test_path(&f.file))
        .filter_map(|f| line_of(read, &f.file, f.line?))
        .find_map(|l| call.captures(&l).map(|c| c[1].to_string()))
}

/// When the offered definition `name` (whose result the test uses) has no `return` in a
/// language that needs one: a note saying so. Shown the function, the 1.5B model copied it
/// back unchanged; told, it added the `return`.
fn returns_nothing(editables: &[Editable], name: &str) -> Option<String> {
    let e = editables
        .iter()
        .find(|e| defined_name(e.signature()) == Some(name))?;
    let nothing = match Language::from_path(&e.path)? {
        Language::JavaScript | Language::TypeScript => "undefined",
        Language::Python => "None",
        _ => return None,
    };
    let body = e.text.split_once('\n')?.1;
    let returns = body
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .any(|w| w == "return" || w == "yield");
    (!returns).then(|| {
        format!(
            "`{name}` has no `return`, so it returns {nothing}, and the test uses what it returns."
        )
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
fn line_of(read: &dyn Fn(&str) -> Option<String>, path: &str, line: u32) -> Option<String> {
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
    use crate::pipeline::focus::fixture::editable;

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

    fn write_all(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (rel, text) in files {
            let p = dir.path().join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        dir
    }

    #[test]
    fn a_table_missing_the_key_a_lookup_missed_is_offered_alone() {
        let dir = write_all(&[
            (
                "app/config.py",
                "import os\n\nDEFAULTS = {\n    \"host\": \"127.0.0.1\",\n    \"port\": 8080,\n}\n\nPREFIX = \"APP_\"\n\n\ndef load_config(environ):\n    settings = dict(DEFAULTS)\n    for key in DEFAULTS:\n        settings[key] = environ.get(PREFIX + key.upper(), settings[key])\n    return settings\n",
            ),
            (
                "app/client.py",
                "def client_options(cfg):\n    return {\"port\": cfg[\"port\"], \"timeout\": cfg[\"timeout\"]}\n",
            ),
            (
                "tests/test_client.py",
                "from app.client import client_options\nfrom app.config import load_config\n\n\ndef test_client_options():\n    opts = client_options(load_config({}))\n    assert opts == {\"timeout\": 30}\n",
            ),
        ]);
        let mut f = Failure::new(
            "pytest",
            crate::logs::Kind::TestFailure,
            "KeyError: 'timeout'",
        )
        .at("app/client.py", Some(2), None);
        f.test = Some("tests/test_client.py::test_client_options".into());
        f.frames = vec![crate::logs::Frame {
            file: "tests/test_client.py".into(),
            line: Some(6),
            function: None,
        }];
        let ctx = crate::context::build(std::slice::from_ref(&f), dir.path(), 2500);
        let got = focus(&f, &ctx, dir.path()).expect("definitions to offer");
        assert_eq!(got.editables.len(), 1, "{:?}", got.editables);
        let table = &got.editables[0];
        assert!(table.text.starts_with("DEFAULTS = {"), "{table:?}");
        assert_eq!(
            (table.first, table.last),
            (2, 5),
            "from its line to the closing brace"
        );
        assert_eq!(
            got.files,
            "`DEFAULTS` in app/config.py has no \"timeout\" key; it has the other keys the code reads (\"port\")."
        );
        let (test_path, test) = got.test.clone().expect("the test, from its frame");
        assert_eq!(test_path, "tests/test_client.py");
        assert!(test.starts_with("def test_client_options():"), "{test}");
        // an attribute missing from None is no lookup in a table
        let offered = |text: &str| Editable {
            path: "app/config.py".into(),
            first: 10,
            last: 14,
            text: text.into(),
        };
        let read = |_: &str| std::fs::read_to_string(dir.path().join("app/config.py")).ok();
        let reader = offered(
            "def load_config(environ):\n    settings = dict(DEFAULTS)\n    return settings[\"port\"]",
        );
        assert!(
            missing_from_table(
                "AttributeError: 'NoneType' object has no attribute 'tier'",
                std::slice::from_ref(&reader),
                &read
            )
            .is_none()
        );
        // nor is a key the table holds
        assert!(missing_from_table("KeyError: 'port'", &[reader], &read).is_none());
        // a reply that rewrites the table is put over it
        let reply = "```python\nDEFAULTS = {\n    \"host\": \"127.0.0.1\",\n    \"port\": 8080,\n    \"timeout\": 30,\n}\n```";
        let edits = crate::pipeline::focus::place(reply, &got.editables).unwrap();
        assert!(
            matches!(&edits[0], crate::patch::Edit::Replace { search, .. } if search.starts_with("DEFAULTS = {")),
            "{edits:?}"
        );
    }

    #[test]
    fn a_renamed_definition_others_call_by_its_new_name_is_not_offered() {
        let pricing = "def compute_like(x):\n    return x\n\n\ndef order_total(lines, tax=True):\n    return sum(lines)\n";
        let report = "from . import pricing\n\n\ndef untaxed(lines):\n    return pricing.compute_total(lines, tax=False)\n";
        let test = "from inventory.report import untaxed\n\n\ndef test_untaxed():\n    assert untaxed([1, 2]) == 3\n";
        let store =
            "from . import pricing\n\n\ndef sell(lines):\n    return pricing.order_total(lines)\n";
        let f = Failure::new(
            "pytest",
            crate::logs::Kind::TestFailure,
            "AttributeError: module 'inventory.pricing' has no attribute 'compute_total'",
        )
        .at("inventory/report.py", Some(5), None);
        let mut files = vec![
            ("inventory/pricing.py", pricing),
            ("inventory/report.py", report),
            ("tests/test_report.py", test),
        ];
        // nobody else calls `order_total`: renaming it back is a fix, so it is offered
        let alone = write_all(&files);
        let ctx = crate::context::build(std::slice::from_ref(&f), alone.path(), 2500);
        let got = focus(&f, &ctx, alone.path()).unwrap();
        assert!(
            got.editables
                .iter()
                .any(|e| e.text.starts_with("def order_total")),
            "{:?}",
            got.editables
        );
        // store.py calls it by its new name: the caller is what to fix
        files.push(("inventory/store.py", store));
        let called = write_all(&files);
        let ctx = crate::context::build(std::slice::from_ref(&f), called.path(), 2500);
        let got = focus(&f, &ctx, called.path()).unwrap();
        assert!(
            !got.editables
                .iter()
                .any(|e| e.text.starts_with("def order_total")),
            "{:?}",
            got.editables
        );
        assert!(
            got.editables[0].text.starts_with("def untaxed"),
            "{:?}",
            got.editables
        );
        assert!(
            got.files.contains(
                "inventory/pricing.py has no `compute_total`; it has `def order_total(lines, tax=True)`, which inventory/store.py calls. Do not add `compute_total`: call `order_total`."
            ),
            "{}",
            got.files
        );
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
    fn a_module_missing_beside_one_like_it_is_named_as_the_line_spells_it() {
        let listed = "Files in textstats/: __init__.py, stats.py, tokenize.py";
        assert_eq!(
            module_note(
                "ModuleNotFoundError: No module named 'textstats.tokenizer'",
                listed,
                Some("from .tokenizer import sentences, words")
            )
            .as_deref(),
            Some(
                "textstats/ has no `tokenizer` module; it has `tokenize.py`. Do not add `tokenizer`: import from `.tokenize`."
            )
        );
        assert_eq!(
            module_note(
                "Error: Cannot find module './formater'",
                "Files in lib/: formatter.js, index.js",
                Some("const fmt = require('./formater');")
            )
            .as_deref(),
            Some(
                "lib/ has no `formater` module; it has `formatter.js`. Do not add `formater`: import from `./formatter`."
            )
        );
        // the module is there: the failure is something else
        assert_eq!(
            module_note("No module named 'textstats.tokenize'", listed, None),
            None
        );
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
    fn a_missing_value_read_from_a_parameter_puts_the_function_that_made_it_first() {
        let dates = "'use strict';\n\nfunction formatDay(date) {\n  return date.toISOString().slice(0, 10);\n}\n\nfunction startOfWeek(date) {\n  const monday = new Date(date);\n}\n\nmodule.exports = { formatDay, startOfWeek };\n";
        let test = "const { formatDay, startOfWeek } = require('../src/dates');\n\ntest('monday', () => {\n  assert.equal(formatDay(startOfWeek(new Date())), '2024-03-11');\n});\n";
        let dir = write_all(&[("src/dates.js", dates), ("test/dates.test.js", test)]);
        let mut f = Failure::new(
            "node-test",
            crate::logs::Kind::TestFailure,
            "\"Cannot read properties of undefined (reading 'toISOString')\"",
        )
        .at("src/dates.js", Some(4), None);
        f.frames = vec![crate::logs::Frame {
            file: "test/dates.test.js".into(),
            line: Some(4),
            function: None,
        }];
        let ctx = crate::context::build(std::slice::from_ref(&f), dir.path(), 2500);
        let got = focus(&f, &ctx, dir.path()).unwrap();
        assert!(
            got.editables[0].text.starts_with("function startOfWeek"),
            "{:?}",
            got.editables
        );
        assert!(
            got.editables[1].text.starts_with("function formatDay"),
            "{:?}",
            got.editables
        );
        assert_eq!(
            got.files,
            "`startOfWeek` has no `return`, so it returns undefined, and the test uses what it returns."
        );
        // a missing value that is not a parameter (a lookup inside) keeps the crash site first
        let read = |p: &str| std::fs::read_to_string(dir.path().join(p)).ok();
        let mut inside = f.clone();
        inside.message = "TypeError: Cannot read properties of undefined (reading 'x')".into();
        assert_eq!(
            producer_of_missing_value(&inside, Some("  return lookup().x;"), &read),
            None
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
