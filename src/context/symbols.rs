//! Definitions of the names a failure mentions, found with a cheap, bounded scan.
//!
//! Names come from the failure's `symbol` and from what its message quotes (`` `x` ``,
//! `'x'`, `"x"`, `undefined: x`). One regex per name recognises a definition in any of the
//! languages we name (`def`, `fn`, `func`, `function`, `class`, `struct`, `const x = (…) =>`,
//! C/Java-style `type name(…)`, `#define`, …). Files are searched nearest first (same
//! directory as a failing file, then same top-level directory, then the rest), each only
//! after a byte search says the name occurs in it, and the scan stops when every name is
//! found or the file/byte bounds are reached. Bounds count files, not time, so the same
//! repository always gives the same context (cassettes replay byte for byte).

use std::collections::HashSet;
use std::path::Path;
use std::sync::LazyLock;

use memchr::memmem;
use regex::Regex;

use super::walk::{MAX_FILE_BYTES, SourceFile, read_capped};
use crate::llm::Language;
use crate::logs::Failure;

/// Longest definition block taken (lines).
pub const MAX_BLOCK_LINES: usize = 40;

/// Names too common to be worth a lookup: builtins, primitive types, keywords.
const STOP: &[&str] = &[
    "None",
    "True",
    "False",
    "self",
    "this",
    "null",
    "undefined",
    "true",
    "false",
    "int",
    "str",
    "float",
    "bool",
    "bytes",
    "list",
    "dict",
    "set",
    "tuple",
    "object",
    "string",
    "number",
    "boolean",
    "any",
    "void",
    "never",
    "unknown",
    "u8",
    "u16",
    "u32",
    "u64",
    "u128",
    "usize",
    "i8",
    "i16",
    "i32",
    "i64",
    "i128",
    "isize",
    "f32",
    "f64",
    "char",
    "String",
    "Vec",
    "Option",
    "Result",
    "Box",
    "Some",
    "Ok",
    "Err",
    "len",
    "print",
    "println",
    "main",
    "test",
    "tests",
    "error",
    "Error",
    "assert",
    "return",
    "function",
    "class",
    "def",
    "import",
    "from",
    "const",
    "let",
    "var",
    "new",
    "nil",
    "err",
    "fmt",
    "main.go",
    "type",
    "value",
    "key",
];

static QUOTED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"`([^`\n]{1,80})`|'([^'\n]{1,80})'|"([^"\n]{1,80})"|\bundefined: ([\w.]+)|\bname (\w+) is not defined"#)
        .expect("valid regex")
});
static IDENT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[A-Za-z_][A-Za-z0-9_]*$").expect("valid regex"));

/// Up to `max` distinct names to look up for these failures, in failure order.
pub fn names_in(failures: &[Failure], max: usize) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for f in failures.iter().filter(|f| f.needs_code_change) {
        let quoted = QUOTED
            .captures_iter(&f.message)
            .filter_map(|c| c.iter().skip(1).flatten().next().map(|m| m.as_str()));
        for raw in f.symbol.iter().map(String::as_str).chain(quoted) {
            if let Some(name) = normalise(raw).filter(|n| !out.contains(n)) {
                out.push(name);
            }
        }
    }
    out.truncate(max);
    out
}

static CALL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b([A-Za-z_][A-Za-z0-9_]*)\s*\(").expect("valid regex"));

/// Calls too common to look up: builtins, assertion helpers, ubiquitous methods.
const CALL_STOP: &[&str] = &[
    "range",
    "isinstance",
    "sorted",
    "sum",
    "min",
    "max",
    "abs",
    "any",
    "all",
    "zip",
    "map",
    "filter",
    "enumerate",
    "open",
    "super",
    "repr",
    "round",
    "getattr",
    "setattr",
    "hasattr",
    "raises",
    "approx",
    "expect",
    "toBe",
    "toEqual",
    "toStrictEqual",
    "describe",
    "require",
    "Errorf",
    "Fatalf",
    "Fatal",
    "Error",
    "Logf",
    "Run",
    "Equal",
    "NoError",
    "assertEqual",
    "assertTrue",
    "assertFalse",
    "assertIn",
    "assertRaises",
    "assertThat",
    "assertEquals",
    "unwrap",
    "to_string",
    "into",
    "clone",
    "iter",
    "collect",
    "Sprintf",
    "Printf",
    "format",
    "while",
    "for",
    "switch",
    "catch",
    "elif",
    "and",
    "not",
];

/// Functions called on the lines the failures point at (`assert moving_average(xs, 2) == …`):
/// their definitions are the code under test when the log shows only the test's line.
pub fn called_names(lines: &[&str], max: usize) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for line in lines {
        for c in CALL.captures_iter(line) {
            let name = &c[1];
            let known = CALL_STOP.contains(&name) || out.iter().any(|n| n == name);
            if let Some(n) = normalise(name).filter(|_| !known) {
                out.push(n);
            }
        }
    }
    out.truncate(max);
    out
}

/// `pkg.mod.func()` → `func`; None for non-identifiers and common words.
fn normalise(raw: &str) -> Option<String> {
    let raw = raw.trim().trim_end_matches("()");
    let last = raw.rsplit(['.', ':']).next()?.trim();
    (last.len() >= 3 && IDENT.is_match(last) && !STOP.contains(&last)).then(|| last.to_string())
}

/// A regex matching a line that defines `name`, in any language we know.
pub fn definition_regex(name: &str) -> Regex {
    let n = regex::escape(name);
    let modifiers = r#"(?:(?:export|default|pub(?:\([^)]*\))?|public|private|protected|internal|static|async|abstract|final|unsafe|inline|virtual|override|open|data|sealed|extern(?:\s+"[^"]*")?)\s+)*"#;
    let keywords = r"(?:def|fn|func(?:\s*\([^)]*\))?|function\*?|class|struct|enum|trait|interface|type|module|mod|fun|object|let|var|const|static|record|union|macro_rules!)";
    let patterns = [
        format!(r"^[ \t]*{modifiers}{keywords}\s+(?:self\.)?{n}\b"),
        format!(r"^{n}\s*(?::[^=\n]*)?=[^=]"),
        format!(r"^#\s*define\s+{n}\b"),
        format!(r"^[A-Za-z_][\w \t\*&:<>,]*[ \t\*&]{n}\s*\([^;]*$"),
        format!(
            r"^[ \t]*(?:(?:public|private|protected|static|final|synchronized|abstract|native|override)\s+)+[\w<>\[\],.? ]+\s+{n}\s*\("
        ),
        format!(r"^[ \t]+(?:async\s+)?{n}\s*\([^)\n]*\)\s*(?::[^{{\n]*)?\{{"),
    ];
    Regex::new(&format!("(?m){}", patterns.join("|"))).expect("definition regex")
}

/// The block that starts at line `start` (0-based): until the code dedents back to the
/// start's level, including a closing `}`/`end`; at most [`MAX_BLOCK_LINES`]. Inclusive end.
pub fn block_end(lines: &[&str], start: usize) -> usize {
    block_end_within(lines, start, MAX_BLOCK_LINES)
}

/// [`block_end`] with at most `cap` lines.
pub fn block_end_within(lines: &[&str], start: usize, cap: usize) -> usize {
    let indent = indent_of(lines[start]);
    let first = lines[start].trim_end();
    if first.ends_with(';')
        || (first.ends_with('}') && first.matches('{').count() == first.matches('}').count())
    {
        return start;
    }
    let last = (start + cap.max(1) - 1).min(lines.len() - 1);
    let mut end = start;
    for (i, line) in lines.iter().enumerate().take(last + 1).skip(start + 1) {
        let t = line.trim();
        if t.is_empty() {
            continue;
        }
        if indent_of(line) > indent
            || t.starts_with('{')
            || (t.starts_with(')') && (t.ends_with(':') || t.ends_with('{')))
        {
            end = i;
            continue;
        }
        if t.starts_with('}') || t.starts_with(')') || t.starts_with(']') || t == "end" {
            return i;
        }
        return end;
    }
    end
}

fn indent_of(line: &str) -> usize {
    line.chars()
        .take_while(|c| c.is_whitespace())
        .map(|c| if c == '\t' { 4 } else { 1 })
        .sum()
}

/// A definition found: 1-based inclusive lines.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    pub name: String,
    pub rel: String,
    pub first: u32,
    pub last: u32,
}

/// Bounds on the scan.
#[derive(Clone, Copy, Debug)]
pub struct ScanLimits {
    pub max_files: usize,
    pub max_bytes: u64,
}

impl Default for ScanLimits {
    fn default() -> Self {
        ScanLimits {
            max_files: 500,
            max_bytes: 16 * 1024 * 1024,
        }
    }
}

/// What the scan did, for reports and the timing test.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct ScanStats {
    pub listed: usize,
    pub opened: usize,
    pub bytes: u64,
    pub stopped_early: bool,
    /// Time spent listing files and scanning them, in microseconds.
    pub walk_us: u64,
    pub scan_us: u64,
}

/// Orders `files`: those named after one of `names` first (`Widget` → `widget.py`,
/// `parse_port` → `port.rs`), then nearest to `near` (repo-relative paths of failing files);
/// files in `langs` before others.
pub fn order_by_proximity(
    files: &mut [SourceFile],
    near: &[String],
    langs: &[Language],
    names: &[String],
) {
    let words: HashSet<String> = names.iter().flat_map(|n| name_words(n)).collect();
    let dirs: HashSet<&str> = near
        .iter()
        .map(|p| p.rsplit_once('/').map_or("", |(d, _)| d))
        .collect();
    let tops: HashSet<&str> = near
        .iter()
        .filter_map(|p| p.split_once('/').map(|(t, _)| t))
        .collect();
    files.sort_by_cached_key(|f| {
        let dir = f.rel.rsplit_once('/').map_or("", |(d, _)| d);
        let top = f.rel.split_once('/').map(|(t, _)| t);
        let stem = f
            .rel
            .rsplit('/')
            .next()
            .and_then(|n| n.split('.').next())
            .unwrap_or("");
        let named = words.contains(&stem.to_ascii_lowercase().replace(['_', '-'], ""));
        let distance = if named {
            0
        } else if dirs.contains(dir) {
            1
        } else if top.is_some_and(|t| tops.contains(t)) {
            2
        } else {
            3
        };
        let foreign = !langs.is_empty() && !langs.contains(&f.language);
        (foreign, distance)
    });
}

/// `parse_port` → {parseport, parse, port}; `HttpClient` → {httpclient, http, client}.
pub(super) fn name_words(name: &str) -> Vec<String> {
    let mut words = vec![name.to_ascii_lowercase().replace('_', "")];
    let mut cur = String::new();
    for c in name.chars() {
        if (c == '_' || c.is_ascii_uppercase()) && !cur.is_empty() {
            words.push(std::mem::take(&mut cur));
        }
        if c != '_' {
            cur.push(c.to_ascii_lowercase());
        }
    }
    words.push(cur);
    words.retain(|w| w.len() >= 3);
    words
}

/// Files read per round of the scan; rounds stop once every name is found.
pub const CHUNK: usize = 256;

/// One name to look for: a byte search first, the definition regex only on a hit.
struct Needle {
    name: String,
    finder: memmem::Finder<'static>,
    re: Regex,
}

/// The first definition of each name in `files` (already ordered, nearest first), reading
/// at most `limits.max_files` files in rounds of [`CHUNK`], each round spread over a few
/// threads. The result does not depend on timing: the earliest file in the order wins.
pub fn find_definitions(
    root: &Path,
    files: &[SourceFile],
    names: &[String],
    limits: ScanLimits,
) -> (Vec<Found>, ScanStats) {
    let started = std::time::Instant::now();
    let mut stats = ScanStats {
        listed: files.len(),
        ..ScanStats::default()
    };
    let needles: Vec<Needle> = names
        .iter()
        .map(|n| Needle {
            name: n.clone(),
            finder: memmem::Finder::new(n.as_bytes()).into_owned(),
            re: definition_regex(n),
        })
        .collect();
    let mut found: Vec<Option<Found>> = vec![None; needles.len()];
    let bounded = &files[..files.len().min(limits.max_files)];
    for (round, chunk) in bounded.chunks(CHUNK).enumerate() {
        if found.iter().all(Option::is_some) {
            break;
        }
        if stats.bytes >= limits.max_bytes {
            stats.stopped_early = true;
            break;
        }
        let wanted: Vec<&Needle> = needles
            .iter()
            .zip(&found)
            .filter(|(_, f)| f.is_none())
            .map(|(n, _)| n)
            .collect();
        let (hits, opened, bytes) = scan_chunk(root, chunk, &wanted);
        stats.opened += opened;
        stats.bytes += bytes;
        for (i, needle) in needles.iter().enumerate() {
            if found[i].is_none() {
                found[i] = hits
                    .iter()
                    .filter(|(_, f)| f.name == needle.name)
                    .min_by_key(|(idx, _)| *idx)
                    .map(|(_, f)| f.clone());
            }
        }
        let last_round = (round + 1) * CHUNK >= bounded.len();
        if last_round && bounded.len() < files.len() && found.iter().any(Option::is_none) {
            stats.stopped_early = true;
        }
    }
    stats.scan_us = started.elapsed().as_micros() as u64;
    (found.into_iter().flatten().collect(), stats)
}

/// Reads `chunk` on up to four threads; returns (index in chunk, definition) hits, files
/// opened and bytes read.
fn scan_chunk(
    root: &Path,
    chunk: &[SourceFile],
    wanted: &[&Needle],
) -> (Vec<(usize, Found)>, usize, u64) {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 4);
    let part = chunk.len().div_ceil(threads).max(1);
    std::thread::scope(|s| {
        let handles: Vec<_> = chunk
            .chunks(part)
            .enumerate()
            .map(|(p, files)| s.spawn(move || scan_files(root, files, p * part, wanted)))
            .collect();
        let mut all = (Vec::new(), 0, 0);
        for h in handles {
            let (hits, opened, bytes) = h.join().expect("scan thread");
            all.0.extend(hits);
            all.1 += opened;
            all.2 += bytes;
        }
        all
    })
}

fn scan_files(
    root: &Path,
    files: &[SourceFile],
    offset: usize,
    wanted: &[&Needle],
) -> (Vec<(usize, Found)>, usize, u64) {
    let (mut hits, mut opened, mut bytes) = (Vec::new(), 0, 0u64);
    for (i, file) in files.iter().enumerate() {
        let Some(text) = read_capped(&root.join(&file.rel), MAX_FILE_BYTES) else {
            continue;
        };
        opened += 1;
        bytes += text.len() as u64;
        for n in wanted
            .iter()
            .filter(|n| n.finder.find(text.as_bytes()).is_some())
        {
            if let Some(f) = definition_in(&text, &n.re, &n.name, &file.rel) {
                hits.push((offset + i, f));
            }
        }
    }
    (hits, opened, bytes)
}

/// The first definition `re` matches in `text`, as a block.
pub fn definition_in(text: &str, re: &Regex, name: &str, rel: &str) -> Option<Found> {
    let m = re.find(text)?;
    let start = text[..m.start()].matches('\n').count();
    let lines: Vec<&str> = text.lines().collect();
    let end = block_end(&lines, start);
    Some(Found {
        name: name.to_string(),
        rel: rel.to_string(),
        first: start as u32 + 1,
        last: end as u32 + 1,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::Kind;

    fn defines(line: &str, name: &str) -> bool {
        definition_regex(name).is_match(line)
    }

    #[test]
    fn definitions_in_many_languages() {
        for (line, name) in [
            ("def average(xs):", "average"),
            ("    async def fetch(self, url):", "fetch"),
            ("class Cart(Base):", "Cart"),
            ("pub(crate) fn parse_port(s: &str) -> u16 {", "parse_port"),
            ("pub struct Config {", "Config"),
            ("func (s *Server) Handle(w http.ResponseWriter) {", "Handle"),
            ("func Add(a, b int) int {", "Add"),
            ("export default function render() {", "render"),
            ("export const add = (a, b) => a + b;", "add"),
            ("  total(items) {", "total"),
            ("export interface Props {", "Props"),
            ("    public int add(int a, int b) {", "add"),
            ("static int add(int a, int b)", "add"),
            ("#define MAX_LEN 10", "MAX_LEN"),
            ("MAX_RETRIES = 3", "MAX_RETRIES"),
            ("  def self.build(args)", "build"),
            ("fun greet(name: String): String {", "greet"),
        ] {
            assert!(defines(line, name), "{line:?} should define {name}");
        }
        for (line, name) in [
            ("    return average(xs)", "average"),
            ("x = average(xs)", "average"),
            ("    if add(a, b) > 3 {", "add"),
            ("    result := Add(1, 2);", "Add"),
            ("average == 3", "average"),
        ] {
            assert!(!defines(line, name), "{line:?} should not define {name}");
        }
    }

    #[test]
    fn names_from_symbol_and_message() {
        let mut f = Failure::new(
            "rustc",
            Kind::CompileError,
            "cannot find function `parse_cfg` in module `net::config`",
        );
        f.symbol = Some("net::config::load_all".into());
        let g = Failure::new(
            "pytest",
            Kind::ImportError,
            "ImportError: cannot import name 'Widget' from 'app.ui' (x)",
        );
        let h = Failure::new(
            "go",
            Kind::CompileError,
            "undefined: mathx.Clamp; expected `u16`, found `u32`",
        );
        let names = names_in(&[f, g, h], 10);
        assert_eq!(
            names,
            ["load_all", "parse_cfg", "config", "Widget", "Clamp"]
        );
    }

    #[test]
    fn names_called_on_failing_lines() {
        let lines = [
            "    assert moving_average([1, 2, 3], 2) == [1.5, 2.5]",
            "\tif got := Area(sq); got != 4 { t.Errorf(\"bad\") }",
            "    assert_eq!(parse_duration(\"1h\").unwrap(), 3600);",
            "    expect(slugify('A b')).toBe('a-b');",
            "    assert len(sorted(xs)) == moving_average(xs, 1)",
        ];
        assert_eq!(
            called_names(&lines, 10),
            ["moving_average", "Area", "parse_duration", "slugify"]
        );
        assert_eq!(called_names(&lines, 2), ["moving_average", "Area"]);
    }

    #[test]
    fn blocks_end_where_the_code_dedents() {
        let py = [
            "def f(",
            "    a,",
            "):",
            "    x = 1",
            "",
            "    return x",
            "def g():",
            "    pass",
        ];
        assert_eq!(block_end(&py, 0), 5);
        let rs = ["fn f() {", "    let x = 1;", "    x", "}", "fn g() {}"];
        assert_eq!(block_end(&rs, 0), 3);
        assert_eq!(block_end(&rs, 4), 4);
        let c = [
            "int add(int a, int b)",
            "{",
            "    return a + b;",
            "}",
            "int z;",
        ];
        assert_eq!(block_end(&c, 0), 3);
        let one = ["MAX = 3", "OTHER = 4"];
        assert_eq!(block_end(&one, 0), 0);
        let long: Vec<String> = std::iter::once("def f():".to_string())
            .chain((0..100).map(|i| format!("    x{i} = 1")))
            .collect();
        let long: Vec<&str> = long.iter().map(String::as_str).collect();
        assert_eq!(block_end(&long, 0), MAX_BLOCK_LINES - 1);
    }

    #[test]
    fn proximity_puts_neighbours_and_the_right_language_first() {
        let sf = |rel: &str| SourceFile {
            rel: rel.into(),
            language: Language::from_path(rel).unwrap(),
        };
        let mut files = vec![
            sf("a/z.py"),
            sf("b/c/x.py"),
            sf("b/y.py"),
            sf("b/c/w.rs"),
            sf("top.py"),
            sf("a/http_client.py"),
        ];
        order_by_proximity(
            &mut files,
            &["b/c/main.py".into()],
            &[Language::Python],
            &["HttpClient".into()],
        );
        let got: Vec<&str> = files.iter().map(|f| f.rel.as_str()).collect();
        assert_eq!(
            got,
            [
                "a/http_client.py",
                "b/c/x.py",
                "b/y.py",
                "a/z.py",
                "top.py",
                "b/c/w.rs"
            ]
        );
        assert_eq!(name_words("parse_port"), ["parseport", "parse", "port"]);
        assert_eq!(name_words("HttpClient"), ["httpclient", "http", "client"]);
    }
}
