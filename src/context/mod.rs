//! The prompt's context: what the model sees of the failure and the code, within a token budget.
//!
//! Candidates, most useful first (lower rank): the failures' excerpts (already masked by
//! triage); source windows around each reported `file:line` and the innermost frames that
//! are in the repository; the failing test function; definitions of the names the failure
//! mentions (`symbols`). They are fitted by rank; a window that does not fit is tried
//! again narrower before it is dropped, and windows of one file merge when they overlap or
//! touch. Never a whole large file or a whole log: files up to [`WHOLE_FILE_LINES`] lines go
//! whole, others as windows. Each code line carries its number so the model can quote
//! exact lines. Nothing here writes anything.

mod calls;
mod common;
mod fit;
pub mod localise;
pub mod similar;
pub mod symbols;
pub mod walk;

use std::collections::HashMap;
use std::path::Path;
use std::sync::LazyLock;

use regex::Regex;

use serde::Serialize;

use crate::llm::{Language, tokens};
use crate::logs::Failure;
use crate::logs::paths::is_test_path;
use crate::logs::rank::rank_files;
use symbols::{Found, ScanLimits, ScanStats};
use walk::{MAX_FILE_BYTES, inside, read_capped};

/// Files with at most this many lines may go into the prompt whole.
pub const WHOLE_FILE_LINES: usize = 60;
/// Longest line kept in a window or excerpt (minified code would eat the budget).
pub const MAX_LINE_CHARS: usize = 300;
/// Names looked up in the repository per build.
pub const MAX_NAMES: usize = 6;

/// What a piece shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PieceKind {
    /// A failure's message and log excerpt.
    Failure,
    /// Code around a reported line or a stack frame (or a small file whole).
    Source,
    /// The failing test function.
    Test,
    /// The definition of a name the failure mentions.
    Definition,
    /// The files of a directory a failed import points at (what the module is really called).
    Listing,
}

/// One part of the context, as it will be rendered.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Piece {
    pub kind: PieceKind,
    /// Repo-relative path, for code pieces.
    pub path: Option<String>,
    /// 1-based inclusive line range, for code pieces.
    pub lines: Option<(u32, u32)>,
    pub text: String,
    pub tokens: usize,
    /// Lower is more important.
    pub rank: u32,
    /// Why it is here ("reported by pytest", "definition of `average`").
    pub why: String,
}

/// A candidate left out for lack of budget.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Dropped {
    pub kind: PieceKind,
    pub path: Option<String>,
    pub lines: Option<(u32, u32)>,
    pub tokens: usize,
    pub why: String,
}

/// The fitted context.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Context {
    pub pieces: Vec<Piece>,
    /// Tokens of [`Context::render`].
    pub tokens: usize,
    pub budget: usize,
    pub dropped: Vec<Dropped>,
    /// Languages of the code shown, most important first (for the prompt's wording).
    pub languages: Vec<Language>,
    /// The file most likely to need the fix (named in the patch prompt's example).
    pub primary_file: Option<String>,
    pub scan: ScanStats,
}

impl Context {
    /// The text for the prompt: failures first, then code grouped by file.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let failures: Vec<&Piece> = self
            .pieces
            .iter()
            .filter(|p| p.kind == PieceKind::Failure)
            .collect();
        if !failures.is_empty() {
            out.push_str("Failures:\n");
            for p in failures {
                out.push_str(&p.text);
            }
        }
        let code: Vec<&Piece> = self
            .pieces
            .iter()
            .filter(|p| p.kind != PieceKind::Failure)
            .collect();
        if !code.is_empty() {
            if !out.is_empty() {
                out.push('\n');
            }
            out.push_str("Code:\n");
            for p in code {
                out.push_str(&p.text);
            }
        }
        out
    }
}

/// A candidate before fitting.
#[derive(Clone, Debug)]
pub(crate) struct Candidate {
    pub kind: PieceKind,
    pub rank: u32,
    pub why: String,
    pub target: Target,
}

#[derive(Clone, Debug)]
pub(crate) enum Target {
    /// Rendered text (failure excerpts).
    Text(String),
    /// Lines of a file, with a narrower fallback.
    Lines {
        path: String,
        first: u32,
        last: u32,
        narrow: (u32, u32),
    },
}

/// Rank tiers; a candidate's rank is `tier * 1000 + order within the tier`.
mod tier {
    pub const LEAD_FAILURES: u32 = 0;
    pub const PRIMARY_CODE: u32 = 1;
    /// The code the failing test calls (`localise`), ahead of the test's own lines.
    pub const UNDER_TEST: u32 = 2;
    /// The failing test's lines when the code under test was found.
    pub const TEST_LINES: u32 = 3;
    pub const MORE_FAILURES: u32 = 4;
    pub const FRAMES: u32 = 5;
    pub const TEST: u32 = 6;
    pub const DEFINITIONS: u32 = 7;
}

/// Lines of repository files, read at most once each.
pub(crate) struct Files<'a> {
    root: &'a Path,
    cache: HashMap<String, Option<Vec<String>>>,
}

impl<'a> Files<'a> {
    fn new(root: &'a Path) -> Self {
        Files {
            root,
            cache: HashMap::new(),
        }
    }

    /// The file's lines, None when it is missing, outside the repo, binary or too big.
    pub fn lines(&mut self, rel: &str) -> Option<&Vec<String>> {
        let root = self.root;
        self.cache
            .entry(rel.to_string())
            .or_insert_with(|| {
                let text = read_capped(&inside(root, rel)?, MAX_FILE_BYTES)?;
                Some(text.lines().map(|l| cut_line(l).to_string()).collect())
            })
            .as_ref()
    }
}

fn cut_line(line: &str) -> &str {
    match line.char_indices().nth(MAX_LINE_CHARS) {
        Some((i, _)) => &line[..i],
        None => line,
    }
}

/// Builds the context for `failures` in the repository at `repo_dir` within `budget_tokens`.
pub fn build(failures: &[Failure], repo_dir: &Path, budget_tokens: usize) -> Context {
    build_with(failures, repo_dir, budget_tokens, ScanLimits::default())
}

/// [`build`] with explicit bounds on the definition scan.
pub fn build_with(
    failures: &[Failure],
    repo_dir: &Path,
    budget_tokens: usize,
    limits: ScanLimits,
) -> Context {
    let actionable: Vec<Failure> = failures
        .iter()
        .filter(|f| f.needs_code_change)
        .cloned()
        .collect();
    let failures = if actionable.is_empty() {
        failures.to_vec()
    } else {
        actionable
    };
    let mut files = Files::new(repo_dir);
    let found = localise::localise_with(&failures, repo_dir, &mut files);
    let ranked: Vec<String> = localise::rerank(rank_files(&failures, Some(repo_dir)), &found)
        .into_iter()
        .map(|r| r.path)
        .collect();
    let mut candidates = failure_candidates(&failures);
    let mut located = location_candidates(&failures, &ranked, &mut files);
    if found.found_code() && !found.test_is_wrong {
        demote_test_lines(&mut located, &found.test_files);
    }
    candidates.extend(located);
    candidates.extend(under_test_candidates(&found));
    candidates.extend(listing_candidates(&failures, repo_dir));
    let (defs, scan) = definition_candidates(&failures, &ranked, repo_dir, &mut files, limits);
    candidates.extend(defs);
    let mut ctx = fit::fit(candidates, &mut files, budget_tokens);
    ctx.scan = scan;
    ctx.languages = languages_of(&ctx.pieces, &failures);
    ctx.primary_file = primary_file(&ranked, &ctx.pieces, &mut files);
    if ctx.primary_file.as_deref().is_some_and(is_test_path) {
        let code = ctx
            .pieces
            .iter()
            .filter(|p| p.kind == PieceKind::Definition);
        if let Some(p) = code
            .filter_map(|p| p.path.as_deref())
            .find(|p| !is_test_path(p))
        {
            ctx.primary_file = Some(p.to_string());
        }
    }
    ctx
}

/// The definitions the failing tests call, most telling first.
fn under_test_candidates(found: &localise::Localised) -> Vec<Candidate> {
    found
        .suspects
        .iter()
        .filter_map(|s| Some((s, s.lines?)))
        .enumerate()
        .map(|(i, (s, (first, last)))| Candidate {
            kind: PieceKind::Definition,
            rank: tier::UNDER_TEST * 1000 + i as u32,
            why: s.describe(),
            target: Target::Lines {
                path: s.path.clone(),
                first,
                last,
                narrow: (first, last.min(first + 11)),
            },
        })
        .collect()
}

/// Windows of the failing tests' files go after the code under test.
fn demote_test_lines(located: &mut [Candidate], test_files: &[String]) {
    for c in located.iter_mut() {
        let in_test = matches!(&c.target, Target::Lines { path, .. } if test_files.contains(path));
        if in_test && c.rank / 1000 == tier::PRIMARY_CODE {
            c.rank = tier::TEST_LINES * 1000 + c.rank % 1000;
        }
    }
}

/// One piece per distinct failure excerpt; the first three rank above all code.
fn failure_candidates(failures: &[Failure]) -> Vec<Candidate> {
    let mut seen: Vec<String> = Vec::new();
    let mut out = Vec::new();
    for f in failures {
        let text = render_failure(f, seen.len() + 1);
        let key = format!("{}\n{}", f.message, f.excerpt);
        if seen.contains(&key) {
            continue;
        }
        seen.push(key);
        let n = seen.len() as u32;
        let rank = if n <= 3 {
            tier::LEAD_FAILURES * 1000 + n
        } else {
            tier::MORE_FAILURES * 1000 + n
        };
        out.push(Candidate {
            kind: PieceKind::Failure,
            rank,
            why: format!("reported by {}", f.tool),
            target: Target::Text(text),
        });
    }
    out
}

fn render_failure(f: &Failure, n: usize) -> String {
    let place = match (&f.file, f.line) {
        (Some(file), Some(line)) => format!(" at {file}:{line}"),
        (Some(file), None) => format!(" in {file}"),
        _ => String::new(),
    };
    let test = f
        .test
        .as_deref()
        .map(|t| format!(" (test {t})"))
        .unwrap_or_default();
    let mut s = format!(
        "{n}. [{} {}]{place}{test}: {}\n",
        f.tool,
        f.kind,
        f.message.trim()
    );
    let excerpt = bounded_excerpt(&f.excerpt);
    if !excerpt.is_empty() && excerpt.trim() != f.message.trim() {
        s.push_str(&format!("```\n{excerpt}\n```\n"));
    }
    s
}

/// At most 60 lines: the first 15 and the last 45 of longer excerpts.
fn bounded_excerpt(excerpt: &str) -> String {
    let lines: Vec<&str> = excerpt.trim_end().lines().map(cut_line).collect();
    if lines.len() <= 60 {
        return lines.join("\n");
    }
    let gap = format!("[{} lines left out]", lines.len() - 60);
    [&lines[..15], &[gap.as_str()], &lines[lines.len() - 45..]]
        .concat()
        .join("\n")
}

/// Windows around reported lines and repository frames.
fn location_candidates(
    failures: &[Failure],
    ranked: &[String],
    files: &mut Files<'_>,
) -> Vec<Candidate> {
    let order = |path: &str| {
        ranked
            .iter()
            .position(|p| p == path)
            .unwrap_or(ranked.len()) as u32
    };
    let mut out = Vec::new();
    for (i, f) in failures.iter().enumerate() {
        let i = i as u32;
        if let Some(file) = &f.file {
            let why = format!("reported by {}", f.tool);
            out.extend(window(
                files,
                file,
                f.line,
                15,
                4,
                tier::PRIMARY_CODE * 1000 + order(file) * 20 + i,
                why,
            ));
        }
        let repo_frames: Vec<_> = f
            .frames
            .iter()
            .rev()
            .filter(|fr| files.lines(&fr.file).is_some())
            .take(3)
            .collect();
        for (depth, fr) in repo_frames.into_iter().enumerate() {
            let (t, before, narrow) = if depth == 0 {
                (tier::PRIMARY_CODE, 12, 4)
            } else {
                (tier::FRAMES, 6, 3)
            };
            let why = if depth == 0 {
                "innermost frame in the repository"
            } else {
                "caller in the traceback"
            };
            let rank = t * 1000 + order(&fr.file) * 20 + i + depth as u32;
            out.extend(window(
                files,
                &fr.file,
                fr.line,
                before,
                narrow,
                rank,
                why.to_string(),
            ));
        }
    }
    out
}

/// Lines `line-before ..= line+before` of `path` (the whole file when it is small; its
/// head when no line is known), None when the file cannot be read.
fn window(
    files: &mut Files<'_>,
    path: &str,
    line: Option<u32>,
    before: u32,
    narrow: u32,
    rank: u32,
    why: String,
) -> Option<Candidate> {
    let n = files.lines(path)?.len() as u32;
    if n == 0 {
        return None;
    }
    let at = line.unwrap_or(1).clamp(1, n);
    let span = |w: u32| (at.saturating_sub(w).max(1), (at + w).min(n));
    let (first, last) = if n as usize <= WHOLE_FILE_LINES {
        (1, n)
    } else {
        let (first, last) = span(before);
        let lines = files.lines(path)?;
        (
            enclosing_start(lines, at).map_or(first, |s| s.min(first)),
            last,
        )
    };
    let target = Target::Lines {
        path: path.to_string(),
        first,
        last,
        narrow: span(narrow),
    };
    Some(Candidate {
        kind: PieceKind::Source,
        rank,
        why,
        target,
    })
}

/// Entries listed per directory for a failed import.
pub const MAX_LISTING: usize = 40;

static MISSING_IMPORT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)no module named|cannot find module|unresolved import|could not import|cannot import|package .* is not in|failed to resolve")
        .expect("valid regex")
});
static MODULE_PATH: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[A-Za-z_][\w\-]*(?:[./][A-Za-z_][\w\-]*)+").expect("valid regex")
});

/// For failed imports: the files next to the importing file and in the directories the
/// missing module's path names (`textstats.tokenizer` → `textstats/`), so the model sees
/// what the module is really called.
fn listing_candidates(failures: &[Failure], root: &Path) -> Vec<Candidate> {
    let mut dirs: Vec<String> = Vec::new();
    for f in failures
        .iter()
        .filter(|f| f.kind == crate::logs::Kind::ImportError || MISSING_IMPORT.is_match(&f.message))
    {
        let own = f
            .file
            .as_deref()
            .map(|p| p.rsplit_once('/').map_or("", |(d, _)| d).to_string());
        let named = MODULE_PATH.find_iter(&f.message).filter_map(|m| {
            let parts: Vec<&str> = m.as_str().split(['.', '/']).collect();
            Some(parts[..parts.len() - 1].join("/"))
                .filter(|d| inside(root, d).is_some_and(|p| p.is_dir()))
        });
        for d in own.into_iter().chain(named) {
            if !dirs.contains(&d) {
                dirs.push(d);
            }
        }
    }
    dirs.iter()
        .take(3)
        .enumerate()
        .filter_map(|(i, d)| listing(root, d).map(|text| (i, text)))
        .map(|(i, text)| Candidate {
            kind: PieceKind::Listing,
            rank: tier::PRIMARY_CODE * 1000 + 900 + i as u32,
            why: "files next to a failed import".into(),
            target: Target::Text(text),
        })
        .collect()
}

/// `Files in textstats/: __init__.py, stats.py, tokenize.py` (directories end in `/`).
fn listing(root: &Path, dir: &str) -> Option<String> {
    let path = if dir.is_empty() {
        root.to_path_buf()
    } else {
        inside(root, dir)?
    };
    let mut names: Vec<String> = std::fs::read_dir(path)
        .ok()?
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let is_dir = e.file_type().ok()?.is_dir();
            (!name.starts_with('.') && name != "__pycache__")
                .then(|| if is_dir { format!("{name}/") } else { name })
        })
        .collect();
    names.sort();
    let more = names.len().saturating_sub(MAX_LISTING);
    names.truncate(MAX_LISTING);
    let shown = if dir.is_empty() {
        "the repository root".to_string()
    } else {
        format!("{dir}/")
    };
    let tail = if more > 0 {
        format!(" and {more} more")
    } else {
        String::new()
    };
    Some(format!("Files in {shown}: {}{tail}\n", names.join(", ")))
}

/// How far above a reported line the start of its function is looked for.
pub const ENCLOSING_LOOKBACK: u32 = 40;

static DEF_START: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"^\s*(?:(?:pub(?:\([^)]*\))?|export|default|async|static|public|private|protected|final|",
        r"abstract|override|unsafe|const)\s+)*(?:def|fn|func|function|class|impl|struct|enum|trait|",
        r"interface|fun|module)\b|^[A-Za-z_][\w \t\*&:<>,]*\([^;]*$",
    ))
    .expect("valid regex")
});

/// The line (1-based) where the function or class holding line `at` starts: the nearest
/// definition above it, less indented than it, within [`ENCLOSING_LOOKBACK`] lines. The
/// window then shows the signature, not only the lines around the error.
fn enclosing_start(lines: &[String], at: u32) -> Option<u32> {
    let target = lines.get(at as usize - 1)?;
    if target.trim().is_empty() {
        return None;
    }
    let indent = target.len() - target.trim_start().len();
    let lowest = at.saturating_sub(ENCLOSING_LOOKBACK).max(1);
    (lowest..at).rev().find(|&i| {
        let l = &lines[i as usize - 1];
        !l.trim().is_empty() && l.len() - l.trim_start().len() < indent && DEF_START.is_match(l)
    })
}

/// The failing test functions and the definitions of the names the failures mention.
fn definition_candidates(
    failures: &[Failure],
    ranked: &[String],
    root: &Path,
    files: &mut Files<'_>,
    limits: ScanLimits,
) -> (Vec<Candidate>, ScanStats) {
    let tests: Vec<(Option<String>, String)> = failures
        .iter()
        .filter_map(|f| f.test.as_deref().and_then(test_target))
        .collect();
    let mut found: Vec<(PieceKind, Found)> = Vec::new();
    let mut scan_names: Vec<String> = Vec::new();
    for (path, name) in &tests {
        match path.as_deref().and_then(|p| find_in_file(files, p, name)) {
            Some(f) => found.push((PieceKind::Test, f)),
            None => scan_names.push(name.clone()),
        }
    }
    let test_names: Vec<String> = scan_names.clone();
    let failing_lines: Vec<String> = failures
        .iter()
        .filter_map(|f| {
            let line = f.line? as usize;
            files
                .lines(f.file.as_deref()?)?
                .get(line.checked_sub(1)?)
                .cloned()
        })
        .collect();
    let failing_lines: Vec<&str> = failing_lines.iter().map(String::as_str).collect();
    let called = symbols::called_names(&failing_lines, MAX_NAMES);
    let around = calls::called_names(failures, files);
    for name in called
        .into_iter()
        .chain(around)
        .chain(symbols::names_in(failures, MAX_NAMES))
    {
        if !scan_names.contains(&name) {
            scan_names.push(name);
        }
    }
    let mut stats = ScanStats::default();
    let mut renamed = Vec::new();
    if !scan_names.is_empty() {
        let langs = languages_of(&[], failures);
        let started = std::time::Instant::now();
        let mut listed = walk::source_files(root, limits.max_files * 20);
        // a Go name is defined in Go: not in a shell script's heredoc or a README
        if !langs.is_empty() {
            listed.retain(|f| langs.iter().any(|l| l.kin(f.language)));
        }
        symbols::order_by_proximity(&mut listed, ranked, &langs, &scan_names);
        let walk_us = started.elapsed().as_micros() as u64;
        let (defs, s) = symbols::find_definitions(root, &listed, &scan_names, limits);
        stats = ScanStats { walk_us, ..s };
        let missing: Vec<String> = symbols::names_in(failures, MAX_NAMES)
            .into_iter()
            .filter(|n| !defs.iter().any(|d| &d.name == n))
            .collect();
        for d in defs {
            let kind = if test_names.contains(&d.name) {
                PieceKind::Test
            } else {
                PieceKind::Definition
            };
            found.push((kind, d));
        }
        renamed = similar::definitions_like(root, &listed, &missing);
    }
    let n = found.len() as u32;
    let mut candidates: Vec<Candidate> = found
        .into_iter()
        .enumerate()
        .map(|(i, (kind, d))| definition_candidate(kind, d, i as u32))
        .collect();
    candidates.extend(renamed.into_iter().enumerate().map(|(i, (missing, d))| {
        let mut c = definition_candidate(PieceKind::Definition, d, n + i as u32);
        c.why = format!("{}, a name like the missing `{missing}`", c.why);
        c
    }));
    (candidates, stats)
}

fn definition_candidate(kind: PieceKind, d: Found, i: u32) -> Candidate {
    let (t, why) = match kind {
        PieceKind::Test => (tier::TEST, format!("the failing test `{}`", d.name)),
        _ => (tier::DEFINITIONS, format!("definition of `{}`", d.name)),
    };
    let narrow = (d.first, d.last.min(d.first + 11));
    let target = Target::Lines {
        path: d.rel,
        first: d.first,
        last: d.last,
        narrow,
    };
    Candidate {
        kind,
        rank: t * 1000 + i,
        why,
        target,
    }
}

fn find_in_file(files: &mut Files<'_>, path: &str, name: &str) -> Option<Found> {
    let text = files.lines(path)?.join("\n");
    symbols::definition_in(&text, &symbols::definition_regex(name), name, path)
}

/// `tests/test_x.py::TestC::test_y[p]` → (Some(file), "test_y"); `pkg.TestFoo/sub` → (None, "TestFoo").
pub fn test_target(test: &str) -> Option<(Option<String>, String)> {
    let mut segs: Vec<&str> = test.split("::").collect();
    let path = (segs.len() > 1 && Language::from_path(segs[0]).is_some())
        .then(|| segs.remove(0).to_string());
    let last = segs
        .last()?
        .split('[')
        .next()?
        .trim()
        .trim_end_matches("()");
    // `TestAdd/sub_case` (Go subtest) → TestAdd; `mod.TestC.test_y`, `a.CartTest.testAdd`:
    // the last part that looks like a test, else the last part.
    let parts: Vec<&str> = last.split('/').next()?.split('.').collect();
    let testlike = parts
        .iter()
        .rev()
        .find(|p| p.starts_with("Test") || p.starts_with("test"));
    let name = *testlike.or(parts.last())?;
    let ident = !name.is_empty()
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit());
    ident.then(|| (path, name.to_string()))
}

/// Languages of the code pieces by rank, else of the failures' files and tools.
fn languages_of(pieces: &[Piece], failures: &[Failure]) -> Vec<Language> {
    let mut ps: Vec<&Piece> = pieces.iter().filter(|p| p.path.is_some()).collect();
    ps.sort_by_key(|p| p.rank);
    let from_pieces = ps
        .iter()
        .filter_map(|p| p.path.as_deref().and_then(Language::from_path));
    let from_files = failures
        .iter()
        .filter_map(|f| f.file.as_deref().and_then(Language::from_path));
    let from_tools = failures.iter().filter_map(|f| Language::from_tool(&f.tool));
    let mut out: Vec<Language> = Vec::new();
    for l in from_pieces.chain(from_files).chain(from_tools) {
        if !out.contains(&l) {
            out.push(l);
        }
    }
    out.truncate(3);
    out
}

/// The best-ranked existing file that is not a test, else the best-ranked existing file.
fn primary_file(ranked: &[String], pieces: &[Piece], files: &mut Files<'_>) -> Option<String> {
    let existing: Vec<&String> = ranked.iter().filter(|p| files.lines(p).is_some()).collect();
    let shown = || {
        pieces
            .iter()
            .filter(|p| p.kind == PieceKind::Source)
            .filter_map(|p| p.path.as_ref())
    };
    existing
        .iter()
        .find(|p| !is_test_path(p))
        .or_else(|| existing.first())
        .map(|p| p.to_string())
        .or_else(|| shown().next().cloned())
}

/// Tokens of the naive prompt a tool without triage would send: the whole log plus every
/// repository file the failures name, whole. For comparing against [`Context::tokens`].
pub fn naive_prompt_tokens(log_text: &str, failures: &[Failure], repo_dir: &Path) -> usize {
    let mut files = Files::new(repo_dir);
    let mut paths: Vec<&str> = Vec::new();
    for f in failures {
        let named = f
            .file
            .iter()
            .map(String::as_str)
            .chain(f.frames.iter().map(|fr| fr.file.as_str()));
        for p in named {
            if !paths.contains(&p) {
                paths.push(p);
            }
        }
    }
    let code: usize = paths
        .iter()
        .filter_map(|p| files.lines(p).map(|l| tokens::count(&l.join("\n"))))
        .sum();
    tokens::count(log_text) + code
}

#[cfg(test)]
mod tests;
