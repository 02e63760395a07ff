//! Keeps the direction of the code from eroding: cli → pipeline → stages → foundation.
//!
//! Reads every `crate::…` path in `src/` (`use crate::a::b`, grouped `use crate::{a, b}`,
//! and inline `crate::x::y` in code; comments and string literals are left out) and
//! checks it against [`ALLOWED`], the short table of which top-level module may use which.
//! A failure names the file, the line and the edge. Test-support modules behind
//! `#[cfg(any(test, feature = "test-support"))]` are files like any other here: they are
//! held to the table of the module they live in.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The foundation every module may use: the top-level error and its exit codes.
const EVERYWHERE: &[&str] = &["error"];

/// Top-level module → the top-level modules it may use (besides [`EVERYWHERE`]). Every module of `src/lib.rs` has a
/// row; the table itself must have no cycle.
#[rustfmt::skip]
const ALLOWED: &[(&str, &[&str])] = &[
    // The binary's front: flags, configuration, rendering; it may call anything.
    ("cli", &["approval", "config", "date", "fetch", "flaky", "github", "interrupt", "llm", "logs",
              "memory", "patch", "pipeline", "publish", "report", "risk", "sandbox", "store",
              "validate"]),
    // Reporters render what the pipeline and the stages produce.
    ("report", &["logs", "patch", "pipeline", "risk", "validate"]),
    // Orchestration: the repair driver, and fetching a run into the cache.
    ("pipeline", &["approval", "config", "context", "fixers", "interrupt", "llm", "logs",
                   "date", "memory", "patch", "risk", "store", "testrun", "validate", "workcopy"]),
    ("fetch", &["github", "logs", "store"]),
    // Stages, each above the stages it names.
    ("publish", &["config", "github"]),
    ("flaky", &["github", "logs", "memory"]),
    ("memory", &["config", "llm", "logs", "patch", "risk"]),
    ("approval", &["date", "patch", "store"]),
    ("context", &["llm", "logs"]),
    ("fixers", &["logs", "workcopy"]),
    ("validate", &["config", "interrupt", "sandbox", "testrun", "workcopy"]),
    ("sandbox", &["config", "glob", "interrupt", "testrun"]),
    ("risk", &["logs"]),
    ("llm", &["config", "date", "logs", "store"]),
    ("github", &["config", "date"]),
    ("patch", &["config", "glob", "store"]),
    ("logs", &["config"]),
    // Building blocks below the stages that share them.
    ("testrun", &[]),
    ("workcopy", &["glob"]),
    ("interrupt", &[]),
    // Foundation.
    ("config", &[]),
    ("store", &[]),
    ("glob", &[]),
    ("date", &[]),
    ("error", &[]),
];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn allowed() -> BTreeMap<&'static str, BTreeSet<&'static str>> {
    ALLOWED
        .iter()
        .map(|(m, deps)| {
            let mut deps: BTreeSet<&str> = deps.iter().copied().collect();
            if *m != "error" {
                deps.extend(EVERYWHERE);
            }
            (*m, deps)
        })
        .collect()
}

/// `src/a/b.rs` → `a`; `src/a.rs` → `a`; `src/lib.rs` and `src/main.rs` → `None`.
fn top_module(file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src()).ok()?;
    let first = rel.components().next()?.as_os_str().to_string_lossy();
    match first.strip_suffix(".rs") {
        Some("lib" | "main") => None,
        Some(m) => Some(m.to_string()),
        None => Some(first.into_owned()),
    }
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The source with comments and string/char literals blanked out (newlines kept, so
/// line numbers stay right).
fn code_only(text: &str) -> String {
    let b: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let blank = |c: char| if c == '\n' { '\n' } else { ' ' };
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let next = b.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < b.len() && b[i] != '\n' {
                out.push(' ');
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < b.len() {
                if b[i] == '/' && b.get(i + 1) == Some(&'*') {
                    depth += 1;
                    out.push_str("  ");
                    i += 2;
                } else if b[i] == '*' && b.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    out.push_str("  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    out.push(blank(b[i]));
                    i += 1;
                }
            }
        } else if c == 'r' && (next == Some('"') || next == Some('#')) && raw_string_start(&b, i) {
            // Raw string: r"…", r#"…"#, …
            let mut j = i + 1;
            let mut hashes = 0;
            while b.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if b.get(j) != Some(&'"') {
                out.push(c);
                i += 1;
                continue;
            }
            j += 1;
            loop {
                if j >= b.len() {
                    break;
                }
                if b[j] == '"' && (0..hashes).all(|k| b.get(j + 1 + k) == Some(&'#')) {
                    j += 1 + hashes;
                    break;
                }
                j += 1;
            }
            for &ch in &b[i..j.min(b.len())] {
                out.push(blank(ch));
            }
            i = j;
        } else if c == '"' {
            out.push(' ');
            i += 1;
            while i < b.len() && b[i] != '"' {
                if b[i] == '\\' {
                    out.push(' ');
                    i += 1;
                }
                if i < b.len() {
                    out.push(blank(b[i]));
                    i += 1;
                }
            }
            out.push(' ');
            i += 1;
        } else if c == '\'' && is_char_literal(&b[i..]) {
            // 'x' ends two chars on; '\n', '\'', '\u{..}' at the first quote after the escape.
            let end = if b[i + 1] == '\\' {
                (i + 3..b.len())
                    .find(|&k| b[k] == '\'')
                    .map_or(b.len(), |k| k + 1)
            } else {
                i + 3
            };
            for _ in i..end {
                out.push(' ');
            }
            i = end;
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

fn ident_char(c: Option<&char>) -> bool {
    c.is_some_and(|c| c.is_alphanumeric() || *c == '_')
}

/// The `r` at `i` starts `r"…"`/`r#"…"#` (or `br"…"`), not the end of an identifier.
fn raw_string_start(b: &[char], i: usize) -> bool {
    let before = |k: usize| i.checked_sub(k).map(|j| &b[j]);
    !ident_char(before(1)) || (before(1) == Some(&'b') && !ident_char(before(2)))
}

/// `'x'`, `'\n'`, `'\u{1F600}'`: a char literal, not a lifetime (`'a`).
fn is_char_literal(s: &[char]) -> bool {
    match s.get(1) {
        Some('\\') => true,
        Some(_) => s.get(2) == Some(&'\''),
        None => false,
    }
}

/// Every top-level module `code` names through `crate::`, with its 1-based line.
fn crate_paths(code: &str) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    let line_of = |pos: usize| code[..pos].matches('\n').count() + 1;
    let mut from = 0;
    while let Some(found) = code[from..].find("crate::") {
        let at = from + found;
        from = at + "crate::".len();
        let before = code[..at].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$') {
            continue;
        }
        let rest = &code[from..];
        if let Some(group) = rest.strip_prefix('{') {
            let inner = &group[..matching_brace(group)];
            let mut depth = 0;
            let mut start = 0;
            for (k, ch) in inner.char_indices() {
                match ch {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        push_item(&inner[start..k], from + 1 + start, &line_of, &mut out);
                        start = k + 1;
                    }
                    _ => {}
                }
            }
            push_item(&inner[start..], from + 1 + start, &line_of, &mut out);
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                out.push((name, line_of(at)));
            }
        }
    }
    out
}

fn push_item(
    item: &str,
    offset: usize,
    line_of: &dyn Fn(usize) -> usize,
    out: &mut Vec<(String, usize)>,
) {
    let lead = item.len() - item.trim_start().len();
    let name: String = item
        .trim_start()
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    if !name.is_empty() && name != "self" {
        out.push((name, line_of(offset + lead)));
    }
}

/// The index of the `}` closing a group whose `{` was just before `s`.
fn matching_brace(s: &str) -> usize {
    let mut depth = 1;
    for (k, ch) in s.char_indices() {
        match ch {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return k;
                }
            }
            _ => {}
        }
    }
    s.len()
}

/// The `pub mod` / `mod` names of `src/lib.rs`.
fn lib_modules() -> BTreeSet<String> {
    let lib = std::fs::read_to_string(src().join("lib.rs")).unwrap();
    code_only(&lib)
        .lines()
        .filter_map(|l| {
            let l = l.trim();
            let l = l.strip_prefix("pub ").unwrap_or(l);
            l.strip_prefix("mod ")
                .map(|m| m.trim_end_matches(';').trim().to_string())
        })
        .collect()
}

#[test]
fn every_crate_path_follows_the_layering_table() {
    let table = allowed();
    let modules = lib_modules();
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    files.sort();
    let mut wrong = Vec::new();
    for file in &files {
        let Some(from) = top_module(file) else {
            continue;
        };
        let Some(ok) = table.get(from.as_str()) else {
            wrong.push(format!(
                "{}: module `{from}` has no row in tests/layering.rs ALLOWED",
                file.display()
            ));
            continue;
        };
        let text = std::fs::read_to_string(file).unwrap();
        for (to, line) in crate_paths(&code_only(&text)) {
            if to == from || !modules.contains(&to) || ok.contains(to.as_str()) {
                continue;
            }
            let rel = file.strip_prefix(src().parent().unwrap()).unwrap();
            wrong.push(format!(
                "{}:{line}: `{from}` uses `crate::{to}`, which the layering table does not allow",
                rel.display()
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "dependencies against the direction cli → pipeline → stages → foundation \
         (move the code, or change ALLOWED in tests/layering.rs if the new edge is right):\n{}",
        wrong.join("\n")
    );
}

#[test]
fn every_module_has_a_row_and_the_table_has_no_cycle() {
    let table = allowed();
    for m in lib_modules() {
        assert!(
            table.contains_key(m.as_str()),
            "`{m}` has no row in ALLOWED"
        );
    }
    // Depth-first search for a back edge.
    fn visit<'a>(
        m: &'a str,
        table: &BTreeMap<&'a str, BTreeSet<&'a str>>,
        path: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) {
        if done.contains(m) {
            return;
        }
        assert!(
            !path.contains(&m),
            "cycle in ALLOWED: {} → {m}",
            path.join(" → ")
        );
        path.push(m);
        for dep in table.get(m).into_iter().flatten() {
            visit(dep, table, path, done);
        }
        path.pop();
        done.insert(m);
    }
    let mut done = BTreeSet::new();
    for m in table.keys() {
        visit(m, &table, &mut Vec::new(), &mut done);
    }
}

#[test]
fn the_reader_sees_grouped_inline_and_nested_paths_but_not_comments_or_strings() {
    let code = code_only(
        "use crate::a::X;\n\
         use crate::{\n    b::Y,\n    c::{self, Z},\n    self as me,\n};\n\
         // crate::commented\n\
         /* crate::blocked */\n\
         let s = \"crate::quoted\";\n\
         let r = r#\"crate::raw\"#;\n\
         let c = '\"'; let q = '\\\\'; let d = crate::d::f();\n\
         fn f<'a>(x: &'a str) -> crate::e::T { $crate::macro_path }\n",
    );
    let found = crate_paths(&code);
    assert_eq!(
        found,
        vec![
            ("a".to_string(), 1),
            ("b".to_string(), 3),
            ("c".to_string(), 4),
            ("d".to_string(), 11),
            ("e".to_string(), 12),
        ]
    );
}
