//! The code under test, when the log names only the test.
//!
//! Most test failures point at the test file: an assertion on a returned value, a diff,
//! a mocked call. The fix is usually in the code the test exercises. From the failing test
//! (its file, its function, its failing line) this finds, in the repository:
//! - the functions and methods the test calls, on the failing line first, then in its body
//!   and in the helpers of the test file it calls, resolved through the test file's imports
//!   ([`imports`]) before any repository-wide search;
//! - `mock.patch("pkg.mod.Name")` / `monkeypatch.setattr("…")` targets and what the test's
//!   pytest fixtures call;
//! - the module named like the test (`test_foo.py`, `foo_test.go`, `foo.test.js`,
//!   `tests/foo.rs` → `foo`) and the modules the test imports;
//! - the innermost traceback frame inside the repository (never site-packages or the
//!   toolchain);
//! - the module-level statements (a regex constant, a table) the functions found use.
//!
//! [`rerank`] puts these files above the test file unless the failure says the test itself
//! is wrong (it does not compile, a fixture is missing); [`super::build`] puts their
//! definitions in the prompt ahead of the test body. Reading only: nothing is written.

pub mod imports;

use std::collections::HashSet;
use std::path::Path;
use std::sync::LazyLock;

use regex::Regex;

use super::Files;
use super::common::is_common;
use super::symbols::{self, Found};
use super::walk;
use crate::llm::Language;
use crate::logs::paths::is_test_path;
use crate::logs::rank::RankedFile;
use crate::logs::{Failure, Kind};
use imports::{Imports, imports_of};

/// Names taken from one failing test (failing line first).
pub const MAX_CALLED: usize = 10;
/// Source files the fallback search reads per build.
pub const MAX_SCAN_FILES: usize = 400;
/// Longest definition of the code under test taken (lines); the prompt narrows it if needed.
pub const MAX_DEF_LINES: usize = 120;
/// Module-level statements kept per function found.
const MODULE_LEVEL_PER_DEF: usize = 3;
/// How far from a function a module-level statement it uses may be to count as near.
const MODULE_LEVEL_DISTANCE: u32 = 200;

/// Why a file or definition is suspected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Reason {
    CalledOnFailingLine,
    ExpectedByTest,
    PatchedByTest,
    CalledByTest,
    CalledByFixture,
    InnermostFrame,
    NamedLikeTest,
    ModuleLevel,
    ImportedByTest,
}

impl Reason {
    /// Points added to the file's rank score (once per reason and file).
    pub fn points(self) -> u32 {
        match self {
            Reason::CalledOnFailingLine => 100,
            Reason::ExpectedByTest => 90,
            Reason::CalledByTest => 60,
            Reason::PatchedByTest => 50,
            Reason::CalledByFixture => 40,
            Reason::InnermostFrame => 40,
            Reason::NamedLikeTest => 35,
            Reason::ImportedByTest => 10,
            Reason::ModuleLevel => 0,
        }
    }

    /// Evidence strong enough to put the file above the test.
    fn is_code_under_test(self) -> bool {
        self.points() >= Reason::NamedLikeTest.points()
    }
}

/// A place the fix may be: a file, and the definition in it when one was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Suspect {
    pub path: String,
    /// 1-based inclusive lines of the definition.
    pub lines: Option<(u32, u32)>,
    pub reason: Reason,
    /// What was found: `` `moving_average` ``, `` `pkg.mod.Name` ``.
    pub what: String,
}

impl Suspect {
    /// `called by the failing test: `total` (lines 12-20)`.
    pub fn describe(&self) -> String {
        let head = match self.reason {
            Reason::CalledOnFailingLine => "called on the failing line of the test",
            Reason::ExpectedByTest => "the test uses what it does not define yet",
            Reason::CalledByTest => "called by the failing test",
            Reason::PatchedByTest => "patched by the test",
            Reason::CalledByFixture => "called by a fixture of the failing test",
            Reason::InnermostFrame => "innermost frame in the repository",
            Reason::NamedLikeTest => "named like the test",
            Reason::ModuleLevel => "module-level statement used by the code under test",
            Reason::ImportedByTest => "imported by the test",
        };
        let what = if self.what.is_empty() {
            String::new()
        } else {
            format!(": {}", self.what)
        };
        let lines = self
            .lines
            .map(|(a, b)| match a == b {
                true => format!(" (line {a})"),
                false => format!(" (lines {a}-{b})"),
            })
            .unwrap_or_default();
        format!("{head}{what}{lines}")
    }
}

/// What [`localise`] found for a set of failures.
#[derive(Clone, Debug, Default)]
pub struct Localised {
    /// Most telling first.
    pub suspects: Vec<Suspect>,
    /// The failure says the test itself is wrong: the test file keeps its place.
    pub test_is_wrong: bool,
    /// The failing tests' files.
    pub test_files: Vec<String>,
}

impl Localised {
    /// True when some file outside the tests is backed by real evidence.
    pub fn found_code(&self) -> bool {
        self.suspects
            .iter()
            .any(|s| s.reason.is_code_under_test() && !self.test_files.contains(&s.path))
    }
}

/// Adds the code under test to a triage's ranked files (with `--repo-dir`, and in `run`).
pub fn refine(t: &mut crate::logs::triage::Triage, root: &Path) {
    let found = localise(&t.failures, root);
    t.files = rerank(std::mem::take(&mut t.files), &found);
}

/// The code under test of `failures` in the repository at `root`.
pub fn localise(failures: &[Failure], root: &Path) -> Localised {
    localise_with(failures, root, &mut Files::new(root))
}

pub(crate) fn localise_with(failures: &[Failure], root: &Path, files: &mut Files<'_>) -> Localised {
    let mut out = Localised::default();
    let mut pool = Pool::default();
    for f in failures.iter().filter(|f| f.needs_code_change) {
        let mut expected = Vec::new();
        if let Some(site) = test_site(f, root, files, &mut pool) {
            if !out.test_files.contains(&site.file) {
                out.test_files.push(site.file.clone());
            }
            let mut finder = Finder {
                root,
                files,
                pool: &mut pool,
                site: &site,
                imports: Imports::default(),
            };
            out.suspects.extend(finder.run());
            expected = finder.missing(&f.message);
        }
        // A test that uses what the code does not define yet is not wrong: the code is.
        out.test_is_wrong |= test_is_wrong(f) && expected.is_empty();
        out.suspects.extend(expected);
        out.suspects.extend(innermost_frame(f, files));
    }
    let defs: Vec<Suspect> = out.suspects.clone();
    for s in defs.iter().filter(|s| s.lines.is_some()) {
        out.suspects.extend(module_level(files, s));
    }
    out.suspects.retain(|s| !out.test_files.contains(&s.path));
    dedupe(&mut out.suspects);
    out.suspects
        .sort_by_key(|s| std::cmp::Reverse(s.reason.points()));
    out
}

/// One suspect per (file, lines, reason); the first one's place is kept.
fn dedupe(suspects: &mut Vec<Suspect>) {
    let mut kept: Vec<Suspect> = Vec::new();
    for s in suspects.drain(..) {
        if !kept
            .iter()
            .any(|k| k.path == s.path && k.lines == s.lines && k.reason == s.reason)
        {
            kept.push(s);
        }
    }
    *suspects = kept;
}

/// A failure in the test itself: it does not compile or import, a fixture is missing.
fn test_is_wrong(f: &Failure) -> bool {
    let in_test = f.file.as_deref().is_some_and(is_test_path);
    let broken = matches!(
        f.kind,
        Kind::SyntaxError | Kind::CompileError | Kind::ImportError | Kind::Lint | Kind::Format
    );
    (in_test && broken) || (f.message.contains("fixture '") && f.message.contains("not found"))
}

/// Paths that are never files to fix: dependencies and the toolchain.
pub fn is_outside(path: &str) -> bool {
    path.starts_with('/')
        || path.starts_with('<')
        || path.starts_with("node:")
        || path.contains(":\\")
        || [
            "site-packages/",
            "dist-packages/",
            "node_modules/",
            "/rustc/",
            ".cargo/registry/",
            "go/pkg/mod/",
            "/usr/lib/go",
            "/usr/local/go/",
        ]
        .iter()
        .any(|p| path.contains(p))
}

/// The failing test: its file, the failing line in it, its function's name.
#[derive(Clone, Debug)]
struct TestSite {
    file: String,
    line: Option<u32>,
    name: Option<String>,
}

fn test_site(f: &Failure, root: &Path, files: &mut Files<'_>, pool: &mut Pool) -> Option<TestSite> {
    let (named_file, mut name) = match f.test.as_deref().and_then(super::test_target) {
        Some((p, n)) => (p, Some(n)),
        None => (None, None),
    };
    // `example.com/mod/pkg.TestX/sub`: the Go test function, whatever the package path.
    if let Some(go) = f.test.as_deref().and_then(|t| GO_TEST.captures(t)) {
        name = Some(go[1].to_string());
    }
    let reported = f
        .file
        .clone()
        .filter(|p| is_test_path(p))
        .map(|p| (p, f.line));
    let framed = f
        .frames
        .iter()
        .rev()
        .find(|fr| is_test_path(&fr.file) && !is_outside(&fr.file))
        .map(|fr| (fr.file.clone(), fr.line));
    let by_name = named_file.clone().map(|p| (p, None));
    // Inline tests (`mod tests` in src/x.rs) are reported in a file that is not a test path.
    let inline = f
        .file
        .clone()
        .filter(|p| name.as_deref().is_some_and(|n| defines(files, p, n)))
        .map(|p| (p, f.line));
    let (file, line) = reported
        .or(framed)
        .or(by_name)
        .or(inline)
        .filter(|(p, _)| files.lines(p).is_some())
        .or_else(|| {
            let n = name.as_deref()?;
            let file = pool.test_defining(root, files, n)?;
            Some((file, None))
        })?;
    Some(TestSite { file, line, name })
}

fn defines(files: &mut Files<'_>, path: &str, name: &str) -> bool {
    files
        .lines(path)
        .is_some_and(|l| symbols::definition_regex(name).is_match(&l.join("\n")))
}

/// The repository's source files, listed once when a search needs them.
#[derive(Default)]
struct Pool {
    listed: Option<Vec<walk::SourceFile>>,
}

impl Pool {
    fn list(&mut self, root: &Path) -> &[walk::SourceFile] {
        self.listed
            .get_or_insert_with(|| walk::source_files(root, MAX_SCAN_FILES * 10))
    }

    /// The test file defining `name` (a Go `TestX`, a Rust `#[test] fn x`).
    fn test_defining(&mut self, root: &Path, files: &mut Files<'_>, name: &str) -> Option<String> {
        let re = symbols::definition_regex(name);
        let tests: Vec<String> = self
            .list(root)
            .iter()
            .filter(|f| is_test_path(&f.rel))
            .map(|f| f.rel.clone())
            .take(MAX_SCAN_FILES)
            .collect();
        tests.into_iter().find(|p| {
            files.lines(p).is_some_and(|l| {
                l.iter().any(|line| line.contains(name)) && re.is_match(&l.join("\n"))
            })
        })
    }
}

/// The innermost frame inside the repository, when it is not a test file.
fn innermost_frame(f: &Failure, files: &mut Files<'_>) -> Option<Suspect> {
    let fr = f
        .frames
        .iter()
        .rev()
        .find(|fr| !is_outside(&fr.file) && files.lines(&fr.file).is_some())?;
    if is_test_path(&fr.file) {
        return None;
    }
    let lines = files.lines(&fr.file)?;
    let at = fr.line?.clamp(1, lines.len().max(1) as u32);
    let first = super::enclosing_start(lines, at).unwrap_or(at);
    let text: Vec<&str> = lines.iter().map(String::as_str).collect();
    let last = symbols::block_end(&text, first as usize - 1) as u32 + 1;
    Some(Suspect {
        path: fr.file.clone(),
        lines: Some((first, last.max(at))),
        reason: Reason::InnermostFrame,
        what: fr
            .function
            .as_deref()
            .map(|n| format!("`{n}`"))
            .unwrap_or_default(),
    })
}

static GO_TEST: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?:^|[./])(Test[A-Z_0-9]\w*)").expect("valid regex"));

/// `name(`, `obj.name(`, `pkg::name(`, `Type{` (a struct literal).
static CALL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:([A-Za-z_$][\w$]*)\s*(?:\.|::)\s*)?([A-Za-z_$][\w$]*)\s*(?:!\s*)?(?:::<[^>]*>)?\s*([({])")
        .expect("valid regex")
});
static STRING: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#""(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|`[^`]*`"#).expect("valid regex")
});
static PATCH: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?:patch(?:\.object|\.dict)?|setattr|spy)\(\s*['"]([A-Za-z_][\w]*(?:\.[A-Za-z_]\w*)+)['"]"#)
        .expect("valid regex")
});
static TEST_START: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"^\s*(?:(?:it|test|specify|t\.test)\s*\(|(?:async\s+)?(?:def|fn|func|function)\b)"#,
    )
    .expect("valid regex")
});
/// A call found in the test: qualifier (`pkg`, `obj`, `Type`) and name.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Call {
    qual: Option<String>,
    name: String,
    on_failing_line: bool,
    /// A builtin or ubiquitous name (`format`, `len`; [`super::common`]): only looked up on
    /// an imported module.
    common: bool,
}

/// Searches one failing test's code under test.
struct Finder<'r, 'f, 'a> {
    root: &'r Path,
    files: &'f mut Files<'a>,
    pool: &'f mut Pool,
    site: &'f TestSite,
    imports: Imports,
}

impl Finder<'_, '_, '_> {
    fn run(&mut self) -> Vec<Suspect> {
        let Some(lines) = self.files.lines(&self.site.file).cloned() else {
            return Vec::new();
        };
        let text = lines.join("\n");
        self.imports = imports_of(self.root, &self.site.file, &text);
        let block = test_block(&lines, self.site.name.as_deref(), self.site.line);
        let mut out = Vec::new();
        if let Some((first, last)) = block {
            let mut calls = self.calls_in(&lines, (first, last), self.site.line);
            let imports = &self.imports;
            calls.retain(|c| {
                !c.common || c.qual.as_deref().is_some_and(|q| imports.get(q).is_some())
            });
            for call in calls.iter().take(MAX_CALLED) {
                let reason = if call.on_failing_line {
                    Reason::CalledOnFailingLine
                } else {
                    Reason::CalledByTest
                };
                out.extend(self.resolve(call, reason));
            }
            let above = first.saturating_sub(8).max(1);
            out.extend(self.patched(&lines[above as usize - 1..last as usize]));
            out.extend(self.fixtures(&lines, first));
        }
        out.extend(self.named_like_test());
        for b in self.imports.bindings.iter().filter(|b| !b.local.is_empty()) {
            for f in &b.files {
                out.push(Suspect {
                    path: f.clone(),
                    lines: None,
                    reason: Reason::ImportedByTest,
                    what: format!("`{}`", b.local),
                });
            }
        }
        out
    }

    /// Calls in the test's block (failing line and the two above it first), then in the
    /// helpers of the test file the block calls.
    fn calls_in(&mut self, lines: &[String], block: (u32, u32), failing: Option<u32>) -> Vec<Call> {
        let in_block = |l: u32| l >= block.0 && l <= block.1;
        let failing = failing.filter(|l| in_block(*l));
        let mut out: Vec<Call> = Vec::new();
        if let Some(at) = failing {
            push_calls(&mut out, &lines[at as usize - 1], true);
            // A statement that started on the lines above (an open call, a trailing comma).
            let mut l = at - 1;
            while l >= block.0.max(at.saturating_sub(3)) && l > 0 {
                let above = lines[l as usize - 1].trim_end();
                if !above.ends_with(['(', '[', '{', ',', '\\']) {
                    break;
                }
                push_calls(&mut out, above, true);
                l -= 1;
            }
        }
        for l in block.0 + 1..=block.1 {
            push_calls(&mut out, &lines[l as usize - 1], false);
        }
        // Helpers defined in the test file: what they call, instead of the helper itself.
        let text = lines.join("\n");
        let mut expanded = Vec::new();
        for call in out {
            let own = symbols::definition_in(
                &text,
                &symbols::definition_regex(&call.name),
                &call.name,
                &self.site.file,
            )
            .filter(|d| call.qual.is_none() && (d.first < block.0 || d.first > block.1))
            .filter(|d| is_function_line(&lines[d.first as usize - 1]))
            .filter(|_| self.imports.get(&call.name).is_none());
            match own {
                Some(d) => {
                    let mut inner = Vec::new();
                    for l in d.first + 1..=d.last {
                        push_calls(&mut inner, &lines[l as usize - 1], call.on_failing_line);
                    }
                    expanded.extend(inner.into_iter().filter(|c| c.name != call.name));
                }
                None => expanded.push(call),
            }
        }
        let mut seen = HashSet::new();
        expanded.retain(|c| seen.insert((c.qual.clone(), c.name.clone())));
        expanded
    }

    /// The definition of `call` and the file it is in, looked for in the files the test
    /// imports first (the qualifier's module, the name's module), then nearby files.
    fn resolve(&mut self, call: &Call, reason: Reason) -> Option<Suspect> {
        let mut name = call.name.clone();
        let mut order: Vec<String> = Vec::new();
        if let Some(b) = self.imports.get(&call.name) {
            name = b.target.clone().unwrap_or(name);
            order.extend(b.files.iter().cloned());
        }
        if let Some(q) = &call.qual {
            if let Some(b) = self.imports.get(q) {
                order.extend(b.files.iter().cloned());
            } else if q.starts_with(|c: char| c.is_ascii_uppercase()) {
                let everywhere = self.ordered(&[]);
                if let Some(t) = self.find(q, &everywhere) {
                    order.push(t.rel);
                }
            }
        }
        let order = self.ordered(&order);
        let found = match self.find(&name, &order) {
            Some(found) => found,
            None => return self.default_export(call, reason),
        };
        Some(Suspect {
            path: found.rel,
            lines: Some((found.first, found.last)),
            reason,
            what: match &call.qual {
                Some(q) => format!("`{q}.{}`", call.name),
                None => format!("`{}`", call.name),
            },
        })
    }

    /// A call of a whole imported module (`const parse = require('..')`, `parse(…)`): the
    /// function the module exports, else the module itself.
    fn default_export(&mut self, call: &Call, reason: Reason) -> Option<Suspect> {
        let b = self
            .imports
            .get(&call.name)
            .filter(|b| b.target.is_none())?;
        let file = b.files.first()?.clone();
        let text = self.files.lines(&file)?.join("\n");
        let exported = DEFAULT_EXPORT
            .captures(&text)
            .and_then(|c| c.get(1).or(c.get(2)))
            .map(|m| m.as_str().to_string());
        let lines = exported
            .and_then(|n| self.find(&n, std::slice::from_ref(&file)))
            .map(|f| (f.first, f.last));
        Some(Suspect {
            path: file,
            lines,
            reason,
            what: format!("`{}`", call.name),
        })
    }

    /// Names the failure says are missing (`undefined: X`, `cannot import name 'X' from
    /// 'm'`, `unresolved import `c::X``, `X is not a function`) and that no source file
    /// defines: the module the test takes them from is where they belong.
    fn missing(&mut self, message: &str) -> Vec<Suspect> {
        let mut out = Vec::new();
        for (module, name) in missing_names(message) {
            let everywhere = self.ordered(&[]);
            if self.find(&name, &everywhere).is_some() {
                continue;
            }
            let Some(path) = self.home_of(module.as_deref(), &name) else {
                continue;
            };
            let sibling = self.sibling_of(&path, &name);
            let head = self
                .files
                .lines(&path)
                .map(|l| (1, (l.len() as u32).clamp(1, 30)));
            for (lines, what) in [
                (None, format!("`{name}`")),
                (
                    sibling.as_ref().map(|s| s.1),
                    format!(
                        "`{name}`, beside `{}`",
                        sibling.as_ref().map_or("", |s| s.0.as_str())
                    ),
                ),
                (head, format!("`{name}`, the module's head")),
            ] {
                if lines.is_some() || what == format!("`{name}`") {
                    out.push(Suspect {
                        path: path.clone(),
                        lines,
                        reason: Reason::ExpectedByTest,
                        what,
                    });
                }
            }
        }
        out
    }

    /// The definition in `path` whose name shares the longest run of characters with the
    /// missing `name` (`BytesN` → `Bytes`, `normalized_levenshtein` → `levenshtein`).
    fn sibling_of(&mut self, path: &str, name: &str) -> Option<(String, (u32, u32))> {
        let lines = self.files.lines(path)?.clone();
        let wanted = name.to_ascii_lowercase();
        let best = lines
            .iter()
            .filter_map(|l| DEF_NAME.captures(l).map(|c| c[1].to_string()))
            .map(|n| (common_run(&wanted, &n.to_ascii_lowercase()), n))
            .filter(|(run, _)| *run >= 4)
            .max_by_key(|(run, n)| (*run, std::cmp::Reverse(n.len())))?;
        let found = self.find(&best.1, &[path.to_string()])?;
        Some((best.1, (found.first, found.last)))
    }

    /// The file a missing name should live in: the module named in the message, the one the
    /// test imports it (or its qualifier) from, the module named like the test, the test's
    /// own Go package.
    fn home_of(&mut self, module: Option<&str>, name: &str) -> Option<String> {
        let lang = Language::from_path(&self.site.file);
        if let Some(m) = module {
            let file = match lang {
                Some(Language::Python) => imports::py_module(self.root, &self.site.file, m),
                Some(Language::Rust) => {
                    let text = format!("use {m}::{name};");
                    imports_of(self.root, &self.site.file, &text)
                        .files()
                        .into_iter()
                        .next()
                }
                _ => None,
            };
            let bound = self.imports.get(m).and_then(|b| b.files.first().cloned());
            if let Some(f) = file.or(bound) {
                return Some(f);
            }
            // A type that lacks a method or field: the file that defines the type.
            if m.starts_with(|c: char| c.is_ascii_uppercase()) {
                let everywhere = self.ordered(&[]);
                if let Some(t) = self.find(m, &everywhere) {
                    return Some(t.rel);
                }
            }
        }
        if let Some(f) = self
            .imports
            .get(name)
            .and_then(|b| b.files.first().cloned())
        {
            return Some(f);
        }
        if let Some(f) = self.named_files().into_iter().next() {
            return Some(f);
        }
        let own = self.imports.bindings.iter().find(|b| b.local.is_empty());
        own.and_then(|b| b.files.first().cloned())
    }

    /// `first` files, then the test's imports, the files named like it, and the rest of the
    /// repository in the test's language (nearest first); never test files.
    fn ordered(&mut self, first: &[String]) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let add = |f: &String, out: &mut Vec<String>| {
            if !out.contains(f) && !is_test_path(f) && *f != self.site.file {
                out.push(f.clone());
            }
        };
        for f in first.iter().chain(self.imports.files().iter()) {
            add(f, &mut out);
        }
        for f in self.named_files() {
            add(&f, &mut out);
        }
        let lang = Language::from_path(&self.site.file);
        // a Rust name is defined in Rust: not in a shell script's heredoc
        let mut rest: Vec<walk::SourceFile> = self
            .pool
            .list(self.root)
            .iter()
            .filter(|f| !is_test_path(&f.rel) && lang.is_none_or(|l| l.kin(f.language)))
            .cloned()
            .collect();
        let langs: Vec<Language> = lang.into_iter().collect();
        symbols::order_by_proximity(
            &mut rest,
            std::slice::from_ref(&self.site.file),
            &langs,
            &[],
        );
        for f in rest.iter().take(MAX_SCAN_FILES) {
            add(&f.rel, &mut out);
        }
        out
    }

    fn find(&mut self, name: &str, order: &[String]) -> Option<Found> {
        let re = symbols::definition_regex(name);
        for rel in order {
            let Some(lines) = self.files.lines(rel) else {
                continue;
            };
            if !lines.iter().any(|l| l.contains(name)) {
                continue;
            }
            if let Some(mut found) = symbols::definition_in(&lines.join("\n"), &re, name, rel) {
                let text: Vec<&str> = lines.iter().map(String::as_str).collect();
                let end = symbols::block_end_within(&text, found.first as usize - 1, MAX_DEF_LINES);
                found.last = end as u32 + 1;
                return Some(found);
            }
        }
        None
    }

    /// `mock.patch("pkg.mod.Name")`: the module's file and `Name`'s definition in it.
    fn patched(&mut self, lines: &[String]) -> Vec<Suspect> {
        let mut out = Vec::new();
        for line in lines {
            for c in PATCH.captures_iter(line) {
                let target = &c[1];
                out.extend(self.patch_target(target));
            }
        }
        out
    }

    fn patch_target(&mut self, target: &str) -> Option<Suspect> {
        let segs: Vec<&str> = target.split('.').collect();
        for n in (1..segs.len()).rev() {
            let module = segs[..n].join(".");
            let Some(file) = imports::py_module(self.root, &self.site.file, &module) else {
                continue;
            };
            let item = segs[n];
            let lines = self
                .find(item, std::slice::from_ref(&file))
                .map(|f| (f.first, f.last));
            return Some(Suspect {
                path: file,
                lines,
                reason: Reason::PatchedByTest,
                what: format!("`{target}`"),
            });
        }
        None
    }

    /// pytest fixtures the test takes (defined in the test file or a `conftest.py` above
    /// it): what they call.
    fn fixtures(&mut self, lines: &[String], first: u32) -> Vec<Suspect> {
        if Language::from_path(&self.site.file) != Some(Language::Python) {
            return Vec::new();
        }
        let sig = &lines[first as usize - 1];
        let Some(params) = sig.split_once('(').and_then(|(_, p)| p.split(')').next()) else {
            return Vec::new();
        };
        let params: Vec<String> = params
            .split(',')
            .filter_map(|p| p.split([':', '=']).next())
            .map(|p| p.trim().to_string())
            .filter(|p| !p.is_empty() && p != "self" && p != "cls")
            .collect();
        let mut places = vec![self.site.file.clone()];
        let mut dir = self.site.file.as_str();
        while let Some((d, _)) = dir.rsplit_once('/') {
            places.push(format!("{d}/conftest.py"));
            dir = d;
        }
        places.push("conftest.py".into());
        let mut out = Vec::new();
        for p in &params {
            let Some(fx) = self.fixture_def(&places, p) else {
                continue;
            };
            let Some(fx_lines) = self.files.lines(&fx.rel).cloned() else {
                continue;
            };
            let mut calls = Vec::new();
            for l in fx.first + 1..=fx.last {
                push_calls(&mut calls, &fx_lines[l as usize - 1], false);
            }
            for call in calls.iter().take(3) {
                out.extend(self.resolve(call, Reason::CalledByFixture));
            }
        }
        out
    }

    fn fixture_def(&mut self, places: &[String], name: &str) -> Option<Found> {
        let re = symbols::definition_regex(name);
        for rel in places {
            let Some(lines) = self.files.lines(rel) else {
                continue;
            };
            let Some(found) = symbols::definition_in(&lines.join("\n"), &re, name, rel) else {
                continue;
            };
            let above = lines[..found.first as usize - 1].iter().rev().take(3);
            if above
                .take_while(|l| l.trim_start().starts_with('@'))
                .any(|l| l.contains("fixture"))
            {
                return Some(found);
            }
        }
        None
    }

    /// The modules named like the test file: `tests/test_foo.py` → `foo.py`.
    fn named_files(&mut self) -> Vec<String> {
        let Some(stem) = subject_stem(&self.site.file) else {
            return Vec::new();
        };
        let same_dir_go = self.site.file.ends_with("_test.go");
        let test_dir = self
            .site
            .file
            .rsplit_once('/')
            .map_or("", |(d, _)| d)
            .to_string();
        let key = squash(&stem);
        let lang = Language::from_path(&self.site.file);
        let mut out: Vec<String> = self
            .pool
            .list(self.root)
            .iter()
            .filter(|f| !is_test_path(&f.rel) && Some(f.language) == lang)
            .filter(|f| {
                let (dir, name) = f.rel.rsplit_once('/').unwrap_or(("", &f.rel));
                let file_stem = name.split('.').next().unwrap_or(name);
                let pkg = if file_stem == "__init__" || file_stem == "mod" || file_stem == "index" {
                    dir.rsplit('/').next().unwrap_or(dir)
                } else {
                    file_stem
                };
                squash(pkg) == key && (!same_dir_go || dir == test_dir)
            })
            .map(|f| f.rel.clone())
            .collect();
        if same_dir_go && out.is_empty() {
            let own = format!("{}.go", self.site.file.trim_end_matches("_test.go"));
            if self.files.lines(&own).is_some() {
                out.push(own);
            }
        }
        out
    }

    fn named_like_test(&mut self) -> Vec<Suspect> {
        self.named_files()
            .into_iter()
            .map(|path| Suspect {
                path,
                lines: None,
                reason: Reason::NamedLikeTest,
                what: String::new(),
            })
            .collect()
    }
}

static DEFAULT_EXPORT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?m)^\s*module\.exports\s*=\s*([A-Za-z_$][\w$]*)\s*;?\s*$|^\s*export\s+default\s+(?:async\s+)?(?:function\s*\*?\s*|class\s+)?([A-Za-z_$][\w$]*)")
        .expect("valid regex")
});
static MISSING: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"cannot import name '(?P<py>\w+)' from '(?P<pymod>[\w.]+)'",
        r"|module '(?P<attrmod>[\w.]+)' has no attribute '(?P<attr>\w+)'",
        r"|\bundefined: (?:(?P<goq>\w+)\.)?(?P<go>\w+)",
        r"|`(?P<rspath>\w+(?:::\w+)*)::(?P<rs>\w+)`",
        r"|cannot find (?:function|value|struct|type|macro|trait) `(?P<rsf>\w+)` in (?:crate|module) `(?P<rsmod>[\w:]+)`",
        r"|\b(?:(?P<jsq>[A-Za-z_$][\w$]*)\.)?(?P<js>[A-Za-z_$][\w$]*) is not a function",
        r"|type \*?(?:\w+\.)?(?P<goty>\w+) has no field or method (?P<gof>\w+)",
        r"|no (?:method|field|function or associated item) named `(?P<rsm>\w+)` found for (?:\w+ )?`(?:\w+::)*(?P<rsty>\w+)",
        r"|'(?P<pyty>\w+)' object has no attribute '(?P<pyattr>\w+)'",
    ))
    .expect("valid regex")
});

/// (module or qualifier, name) pairs a compile or import error says are missing.
fn missing_names(message: &str) -> Vec<(Option<String>, String)> {
    let mut out: Vec<(Option<String>, String)> = Vec::new();
    for c in MISSING.captures_iter(message) {
        let pair = |m: &str, n: &str| {
            c.name(n).map(|name| {
                (
                    c.name(m).map(|x| x.as_str().to_string()),
                    name.as_str().to_string(),
                )
            })
        };
        let found = pair("pymod", "py")
            .or_else(|| pair("attrmod", "attr"))
            .or_else(|| pair("goq", "go"))
            .or_else(|| pair("rspath", "rs"))
            .or_else(|| pair("rsmod", "rsf"))
            .or_else(|| pair("jsq", "js"))
            .or_else(|| pair("goty", "gof"))
            .or_else(|| pair("rsty", "rsm"))
            .or_else(|| pair("pyty", "pyattr"));
        if let Some(p) = found.filter(|p| !out.contains(p)) {
            out.push(p);
        }
    }
    out.truncate(4);
    out
}

static DEF_NAME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\s*(?:pub(?:\([^)]*\))?\s+)?(?:export\s+)?(?:async\s+)?(?:def|fn|function|class|func(?:\s*\([^)]*\))?)\s+([A-Za-z_$][\w$]*)")
        .expect("valid regex")
});

/// Length of the longest common substring of `a` and `b`.
fn common_run(a: &str, b: &str) -> usize {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut best = 0;
    let mut prev = vec![0usize; b.len() + 1];
    for &x in a {
        let mut cur = vec![0usize; b.len() + 1];
        for (j, &y) in b.iter().enumerate() {
            if x == y {
                cur[j + 1] = prev[j] + 1;
                best = best.max(cur[j + 1]);
            }
        }
        prev = cur;
    }
    best
}

/// A line that starts a function (not a variable that holds an import).
fn is_function_line(line: &str) -> bool {
    let l = line.trim_start();
    [
        "def ",
        "async def ",
        "fn ",
        "pub fn ",
        "func ",
        "function",
        "async function",
    ]
    .iter()
    .any(|k| l.starts_with(k))
        || line.contains("=>")
}

/// `parse_port` / `ParsePort` / `parse-port` → `parseport`.
fn squash(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// The module a test file is named after: `test_foo.py`, `foo_test.py`, `foo_test.go`,
/// `foo.test.js`, `foo.spec.ts`, `test/foo.js`, `tests/foo.rs` → `foo`.
pub fn subject_stem(test_rel: &str) -> Option<String> {
    let name = test_rel.rsplit('/').next()?;
    let (base, _ext) = name.rsplit_once('.')?;
    let stem = base
        .strip_prefix("test_")
        .or_else(|| base.strip_suffix("_test"))
        .or_else(|| base.strip_suffix("_tests"))
        .or_else(|| base.strip_suffix(".test"))
        .or_else(|| base.strip_suffix(".spec"))
        .or_else(|| base.strip_suffix("-test"))
        .or_else(|| base.strip_suffix("Test"))
        .or_else(|| base.strip_prefix("test-"))
        .unwrap_or(base);
    let generic = [
        "test", "tests", "index", "main", "lib", "mod", "conftest", "spec", "all",
    ];
    (!stem.is_empty() && stem != base || !generic.contains(&stem))
        .then(|| stem.to_string())
        .filter(|s| !generic.contains(&s.as_str()) && s.len() >= 2)
}

/// Calls on `line`, strings and comments left out, keywords and assertion helpers skipped.
fn push_calls(out: &mut Vec<Call>, line: &str, on_failing_line: bool) {
    let code = STRING.replace_all(line, "\"\"");
    let code = match code.find("//").or_else(|| code.find(" #")) {
        Some(i) => &code[..i],
        None => &code[..],
    };
    if TEST_START.is_match(code) && code.contains("def ") {
        return;
    }
    for c in CALL.captures_iter(code) {
        let name = c[2].to_string();
        let qual = c.get(1).map(|q| q.as_str().to_string());
        let struct_literal = &c[3] == "{";
        let common = is_common(&name);
        if name.len() < 2
            || (common && qual.is_none())
            || (struct_literal && !name.starts_with(|ch: char| ch.is_ascii_uppercase()))
            || qual
                .as_deref()
                .is_some_and(|q| q == "assert" || q == "t" || q == "expect")
        {
            continue;
        }
        let qual = qual.filter(|q| !matches!(q.as_str(), "self" | "this" | "super"));
        if !out.iter().any(|o| o.name == name && o.qual == qual) {
            out.push(Call {
                qual,
                name,
                on_failing_line,
                common,
            });
        }
    }
}

/// The failing test's lines (1-based, inclusive): its function by name, else the `it(`,
/// `test(`, `def`, `fn` or `func` around the failing line.
fn test_block(lines: &[String], name: Option<&str>, line: Option<u32>) -> Option<(u32, u32)> {
    let text: Vec<&str> = lines.iter().map(String::as_str).collect();
    let by_name = name.and_then(|n| {
        symbols::definition_in(&lines.join("\n"), &symbols::definition_regex(n), n, "")
            .map(|f| (f.first, f.last))
    });
    let around = || {
        let at = line?.clamp(1, lines.len() as u32);
        let indent = |l: &str| l.len() - l.trim_start().len();
        let here = indent(text[at as usize - 1]);
        let start = (1..=at).rev().find(|&i| {
            let l = text[i as usize - 1];
            TEST_START.is_match(l) && (indent(l) < here || i == at)
        })?;
        Some((
            start,
            symbols::block_end(&text, start as usize - 1) as u32 + 1,
        ))
    };
    let (first, last) = by_name.or_else(around)?;
    let last = match line {
        Some(l) if l > last && l <= lines.len() as u32 && l - last < 60 => l,
        _ => last,
    };
    Some((first, last))
}

static MODULE_LEVEL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:pub(?:\([^)]*\))?\s+)?(?:export\s+)?(?:(?:const|let|var|static)\s+(?:mut\s+)?([A-Za-z_$][\w$]*)|([A-Za-z_][\w]*)\s*(?::[^=\n]*)?=[^=])")
        .expect("valid regex")
});
static IDENT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[A-Za-z_$][\w$]*").expect("valid regex"));

/// Module-level statements of `s`'s file that its definition uses (a compiled regex, a
/// table), near it.
fn module_level(files: &mut Files<'_>, s: &Suspect) -> Vec<Suspect> {
    let (Some((first, last)), Some(lines)) = (s.lines, files.lines(&s.path)) else {
        return Vec::new();
    };
    let used: HashSet<&str> = lines[first as usize - 1..(last as usize).min(lines.len())]
        .iter()
        .flat_map(|l| IDENT.find_iter(l).map(|m| m.as_str()))
        .collect();
    let text: Vec<&str> = lines.iter().map(String::as_str).collect();
    let mut out = Vec::new();
    for (i, l) in text.iter().enumerate() {
        let n = i as u32 + 1;
        if (n >= first && n <= last) || n.abs_diff(first) > MODULE_LEVEL_DISTANCE {
            continue;
        }
        let Some(c) = MODULE_LEVEL.captures(l) else {
            continue;
        };
        let name = c.get(1).or(c.get(2)).map_or("", |m| m.as_str());
        if name.len() < 2 || !used.contains(name) || is_common(name) {
            continue;
        }
        let end = symbols::block_end(&text, i) as u32 + 1;
        out.push(Suspect {
            path: s.path.clone(),
            lines: Some((n, end)),
            reason: Reason::ModuleLevel,
            what: format!("`{name}`"),
        });
        if out.len() >= MODULE_LEVEL_PER_DEF {
            break;
        }
    }
    out
}

/// `ranked` (from the log) with the code under test added and put above the test file,
/// unless the test itself is wrong; dependency and toolchain files are dropped.
pub fn rerank(ranked: Vec<RankedFile>, loc: &Localised) -> Vec<RankedFile> {
    let mut out: Vec<RankedFile> = ranked
        .into_iter()
        .filter(|r| !is_outside(&r.path))
        .collect();
    let mut given: HashSet<(String, Reason)> = HashSet::new();
    let mut inserted: std::collections::HashMap<String, usize> = Default::default();
    for s in &loc.suspects {
        if !given.insert((s.path.clone(), s.reason)) {
            continue;
        }
        let i = match out.iter().position(|r| r.path == s.path) {
            Some(i) => i,
            None => {
                out.push(RankedFile {
                    path: s.path.clone(),
                    score: 0,
                    reasons: Vec::new(),
                });
                out.len() - 1
            }
        };
        let r = &mut out[i];
        r.score += s.reason.points();
        let mine = inserted.entry(s.path.clone()).or_default();
        r.reasons.insert(*mine, s.describe());
        *mine += 1;
    }
    if loc.test_is_wrong {
        let best = out.iter().map(|r| r.score).max().unwrap_or(0);
        for r in out.iter_mut().filter(|r| loc.test_files.contains(&r.path)) {
            r.score = best + 1;
            r.reasons.push("the failure is in the test itself".into());
        }
    } else if loc.found_code() {
        let best = out
            .iter()
            .filter(|r| !is_test_path(&r.path) && !loc.test_files.contains(&r.path))
            .filter(|r| {
                loc.suspects
                    .iter()
                    .any(|s| s.path == r.path && s.reason.is_code_under_test())
            })
            .map(|r| r.score)
            .max()
            .unwrap_or(0);
        for r in out.iter_mut().filter(|r| loc.test_files.contains(&r.path)) {
            if r.score >= best {
                r.score = best.saturating_sub(1);
                r.reasons
                    .push("the test; the code it calls ranks first".into());
            }
        }
    }
    out.sort_by_key(|r| std::cmp::Reverse(r.score));
    out
}

#[cfg(test)]
mod tests;
