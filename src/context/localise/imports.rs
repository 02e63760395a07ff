//! What a test file imports, resolved to repository files, per language.
//!
//! Python `import a.b as m` / `from .x import f as g` (package dirs at the root, under
//! `src/` or `lib/`, or beside the test; `__init__.py` for packages); Go `import "mod/pkg"`
//! mapped through `go.mod`'s module line, plus the test's own package directory; JavaScript
//! `require('./x')` and `import {a} from '../lib/x.js'` (extensions, `index.js`, a
//! package's `main`); Rust `use crate_name::a::b::{X, Y}` from `tests/` (the crate's name
//! from the nearest `Cargo.toml`) and `use super::*` in inline tests. Only files inside the
//! repository are returned; a dependency is never code to fix.

use std::path::Path;
use std::sync::LazyLock;

use regex::Regex;

use super::super::walk::inside;
use crate::llm::Language;
use crate::logs::paths::is_test_path;

/// A name the test file binds to repository code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Binding {
    /// The name as the test writes it (`stats`, `moving_average`, `semver`).
    pub local: String,
    /// The files it comes from (a Go package is every file of its directory).
    pub files: Vec<String>,
    /// The definition's name in those files, None when the binding is a whole module.
    pub target: Option<String>,
}

/// The test file's imports that resolve inside the repository.
#[derive(Clone, Debug, Default)]
pub struct Imports {
    pub bindings: Vec<Binding>,
}

impl Imports {
    /// Every imported file once, in order of appearance.
    pub fn files(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for f in self.bindings.iter().flat_map(|b| b.files.iter()) {
            if !out.contains(f) {
                out.push(f.clone());
            }
        }
        out
    }

    pub fn get(&self, local: &str) -> Option<&Binding> {
        self.bindings.iter().find(|b| b.local == local)
    }
}

/// The imports of `text` (the file at repo-relative `rel`) resolved against `root`.
pub fn imports_of(root: &Path, rel: &str, text: &str) -> Imports {
    let bindings = match Language::from_path(rel) {
        Some(Language::Python) => python(root, rel, text),
        Some(Language::Go) => go(root, rel, text),
        Some(Language::JavaScript | Language::TypeScript) => javascript(root, rel, text),
        Some(Language::Rust) => rust(root, rel, text),
        _ => Vec::new(),
    };
    let bindings = bindings
        .into_iter()
        .map(|mut b| {
            b.files.retain(|f| f != rel && !is_test_path(f));
            b
        })
        .filter(|b| !b.files.is_empty())
        .collect();
    Imports { bindings }
}

fn dir_of(rel: &str) -> &str {
    rel.rsplit_once('/').map_or("", |(d, _)| d)
}

fn join(dir: &str, rest: &str) -> String {
    match (dir.is_empty(), rest.is_empty()) {
        (true, _) => rest.to_string(),
        (_, true) => dir.to_string(),
        _ => format!("{dir}/{rest}"),
    }
}

fn is_file(root: &Path, rel: &str) -> bool {
    inside(root, rel).is_some_and(|p| p.is_file())
}

/// `a/./b/../c` → `a/c`; None when it climbs out of the repository.
fn normalise(path: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for p in path.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            _ => parts.push(p),
        }
    }
    Some(parts.join("/"))
}

// ---------------------------------------------------------------- Python

static PY_FROM: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?m)^[ \t]*from[ \t]+(\.*[\w.]*)[ \t]+import[ \t]+(\([^)]*\)|[^\n#]+)")
        .expect("valid regex")
});
static PY_IMPORT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?m)^[ \t]*import[ \t]+([^\n#]+)").expect("valid regex"));

fn python(root: &Path, rel: &str, text: &str) -> Vec<Binding> {
    let mut out = Vec::new();
    for c in PY_FROM.captures_iter(text) {
        let module = &c[1];
        for (name, local) in py_names(&c[2]) {
            if name == "*" {
                if let Some(file) = py_module(root, rel, module) {
                    out.push(Binding {
                        local: "*".into(),
                        files: vec![file],
                        target: None,
                    });
                }
                continue;
            }
            let sub = if module.ends_with('.') {
                format!("{module}{name}")
            } else {
                format!("{module}.{name}")
            };
            if let Some(file) = py_module(root, rel, &sub) {
                out.push(Binding {
                    local,
                    files: vec![file],
                    target: None,
                });
            } else if let Some(file) = py_module(root, rel, module) {
                out.push(Binding {
                    local,
                    files: vec![file],
                    target: Some(name),
                });
            }
        }
    }
    for c in PY_IMPORT.captures_iter(text) {
        for (module, alias) in py_names(&c[1]) {
            if let Some(file) = py_module(root, rel, &module) {
                let local = if alias != module {
                    alias
                } else {
                    module.clone()
                };
                out.push(Binding {
                    local,
                    files: vec![file],
                    target: None,
                });
            }
        }
    }
    out
}

/// `a, b as c` or `(a,\n b)` → [(a, a), (b, c)].
fn py_names(list: &str) -> Vec<(String, String)> {
    list.trim()
        .trim_start_matches('(')
        .trim_end_matches(')')
        .split(',')
        .filter_map(|part| {
            let mut words = part.split_whitespace();
            let name = words.next()?.to_string();
            let local = match (words.next(), words.next()) {
                (Some("as"), Some(alias)) => alias.to_string(),
                _ => name.clone(),
            };
            Some((name, local))
        })
        .collect()
}

/// The repository file of Python module `module` (`pkg.mod`, `.mod`, `..pkg`) imported from
/// `rel`: absolute names from the root, `src/`, `lib/` and the test's own directories.
pub fn py_module(root: &Path, rel: &str, module: &str) -> Option<String> {
    let dots = module.chars().take_while(|c| *c == '.').count();
    let path = module[dots..].replace('.', "/");
    let bases: Vec<String> = if dots > 0 {
        let mut d = dir_of(rel).to_string();
        for _ in 1..dots {
            d = dir_of(&d).to_string();
        }
        vec![d]
    } else {
        let mut b = vec![String::new(), "src".into(), "lib".into()];
        let mut d = dir_of(rel);
        while !d.is_empty() {
            b.push(d.to_string());
            d = dir_of(d);
        }
        b
    };
    bases.iter().find_map(|base| {
        let stem = join(base, &path);
        [format!("{stem}.py"), join(&stem, "__init__.py")]
            .into_iter()
            .find(|f| !stem.is_empty() && is_file(root, f))
    })
}

// ---------------------------------------------------------------- Go

static GO_IMPORT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?m)^[ \t]*(?:import[ \t]+)?(?:([\w.]+)[ \t]+)?"([\w./\-]+)"[ \t]*$"#)
        .expect("valid regex")
});

fn go(root: &Path, rel: &str, text: &str) -> Vec<Binding> {
    let mut out = Vec::new();
    let own = go_package_files(root, dir_of(rel));
    if !own.is_empty() {
        out.push(Binding {
            local: String::new(),
            files: own,
            target: None,
        });
    }
    let Some((module, mod_dir)) = go_module(root, dir_of(rel)) else {
        return out;
    };
    for c in GO_IMPORT.captures_iter(text) {
        let path = &c[2];
        let Some(rest) = path.strip_prefix(&module) else {
            continue;
        };
        let dir = join(&mod_dir, rest.trim_start_matches('/'));
        let files = go_package_files(root, &dir);
        if files.is_empty() {
            continue;
        }
        let local = c
            .get(1)
            .map(|m| m.as_str().to_string())
            .unwrap_or_else(|| path.rsplit('/').next().unwrap_or(path).to_string());
        out.push(Binding {
            local,
            files,
            target: None,
        });
    }
    out
}

/// The `module` line of the nearest `go.mod` at or above `dir`, and that file's directory.
pub fn go_module(root: &Path, dir: &str) -> Option<(String, String)> {
    let mut d = dir.to_string();
    loop {
        let text = inside(root, &join(&d, "go.mod"))
            .or_else(|| d.is_empty().then(|| root.join("go.mod")))
            .and_then(|p| std::fs::read_to_string(p).ok());
        if let Some(line) = text
            .as_deref()
            .and_then(|t| t.lines().find(|l| l.trim_start().starts_with("module ")))
        {
            let m = line.trim_start()["module ".len()..]
                .trim()
                .trim_matches('"');
            return Some((m.to_string(), d));
        }
        if d.is_empty() {
            return None;
        }
        d = dir_of(&d).to_string();
    }
}

/// The non-test `.go` files of one package directory, sorted.
pub fn go_package_files(root: &Path, dir: &str) -> Vec<String> {
    let path = if dir.is_empty() {
        Some(root.to_path_buf())
    } else {
        inside(root, dir)
    };
    let Some(entries) = path.and_then(|p| std::fs::read_dir(p).ok()) else {
        return Vec::new();
    };
    let mut out: Vec<String> = entries
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            (name.ends_with(".go") && !name.ends_with("_test.go")).then(|| join(dir, &name))
        })
        .collect();
    out.sort();
    out
}

// ---------------------------------------------------------------- JavaScript

static JS_REQUIRE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?:const|let|var)\s+(\{[^}]*\}|[\w$]+)\s*=\s*require\(\s*['"]([^'"]+)['"]\s*\)(?:\.([\w$]+))?"#)
        .expect("valid regex")
});
static JS_IMPORT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?m)^\s*import\s+([^;'"]+?)\s+from\s+['"]([^'"]+)['"]"#).expect("valid regex")
});

fn javascript(root: &Path, rel: &str, text: &str) -> Vec<Binding> {
    let mut out = Vec::new();
    let specs = JS_REQUIRE
        .captures_iter(text)
        .map(|c| {
            let names = match c.get(3) {
                Some(prop) => format!("{{{}: {}}}", prop.as_str(), &c[1]),
                None => c[1].to_string(),
            };
            (names, c[2].to_string())
        })
        .chain(
            JS_IMPORT
                .captures_iter(text)
                .map(|c| (c[1].to_string(), c[2].to_string())),
        );
    for (names, spec) in specs {
        let Some(file) = js_module(root, rel, &spec) else {
            continue;
        };
        for (local, target) in js_names(&names) {
            out.push(Binding {
                local,
                files: vec![file.clone()],
                target,
            });
        }
    }
    out
}

/// `x` → [(x, None)]; `{a, b: c}` / `{a, b as c}` → [(a, a), (c, b)]; `x, {a}`; `* as m`.
fn js_names(names: &str) -> Vec<(String, Option<String>)> {
    let mut out = Vec::new();
    let (head, braced) = match names.split_once('{') {
        Some((h, b)) => (h, b.split('}').next().unwrap_or("")),
        None => (names, ""),
    };
    for part in head.split(',') {
        let part = part.trim();
        let local = part.strip_prefix("* as ").unwrap_or(part).trim();
        if !local.is_empty() {
            out.push((local.to_string(), None));
        }
    }
    for part in braced.split(',') {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let (name, local) = part
            .split_once(':')
            .or_else(|| part.split_once(" as "))
            .unwrap_or((part, part));
        out.push((local.trim().to_string(), Some(name.trim().to_string())));
    }
    out
}

/// The repository file a module specifier names: relative ones from the importing file's
/// directory (with the usual extensions and `index.js`), a directory's `package.json` main.
pub fn js_module(root: &Path, rel: &str, spec: &str) -> Option<String> {
    if !spec.starts_with('.') {
        return None;
    }
    let base = normalise(&join(dir_of(rel), spec))?;
    const EXTS: [&str; 6] = ["", ".js", ".mjs", ".cjs", ".ts", ".jsx"];
    if let Some(f) = EXTS
        .iter()
        .map(|e| format!("{base}{e}"))
        .find(|f| !f.is_empty() && is_file(root, f))
    {
        return Some(f);
    }
    let main = inside(root, &join(&base, "package.json"))
        .or_else(|| base.is_empty().then(|| root.join("package.json")))
        .and_then(|p| std::fs::read_to_string(p).ok())
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .and_then(|v| v.get("main")?.as_str().map(str::to_string));
    let candidates = main
        .into_iter()
        .flat_map(|m| {
            let m = normalise(&join(&base, &m)).unwrap_or_default();
            [m.clone(), format!("{m}.js"), join(&m, "index.js")]
        })
        .chain(["index.js", "index.mjs", "index.ts"].map(|i| join(&base, i)));
    candidates.into_iter().find(|f| is_file(root, f))
}

// ---------------------------------------------------------------- Rust

static RS_USE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?m)^\s*(?:pub\s+)?use\s+([^;]+);").expect("valid regex"));

fn rust(root: &Path, rel: &str, text: &str) -> Vec<Binding> {
    let Some((crate_name, crate_dir)) = rust_crate(root, dir_of(rel)) else {
        return Vec::new();
    };
    let src = join(&crate_dir, "src");
    let lib = [join(&src, "lib.rs"), join(&src, "main.rs")]
        .into_iter()
        .find(|f| is_file(root, f));
    let mut out = Vec::new();
    for c in RS_USE.captures_iter(text) {
        let tree = c[1].split_whitespace().collect::<String>();
        for path in expand_use(&tree) {
            let segs: Vec<&str> = path.split("::").collect();
            let Some(first) = segs.first() else { continue };
            let rest = match *first {
                f if f == crate_name || f == "crate" => &segs[1..],
                _ => continue,
            };
            let (file, item) = rust_item_file(root, &src, rest, lib.as_deref());
            let Some(file) = file else { continue };
            let local = item
                .clone()
                .unwrap_or_else(|| rest.last().map_or(crate_name.clone(), |s| s.to_string()));
            out.push(Binding {
                local,
                files: vec![file],
                target: item,
            });
        }
    }
    if out.is_empty()
        && let Some(lib) = lib
    {
        out.push(Binding {
            local: crate_name,
            files: vec![lib],
            target: None,
        });
    }
    out
}

/// `a::{b, c::{d, e}}` → [a::b, a::c::d, a::c::e]; `x as y` keeps `x`.
fn expand_use(tree: &str) -> Vec<String> {
    let Some(open) = tree.find('{') else {
        return vec![tree.split("as").next().unwrap_or(tree).to_string()];
    };
    let prefix = &tree[..open];
    let inner = tree[open + 1..]
        .strip_suffix('}')
        .unwrap_or(&tree[open + 1..]);
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (i, ch) in inner.char_indices() {
        match ch {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&inner[start..]);
    parts
        .into_iter()
        .filter(|p| !p.is_empty() && *p != "self")
        .flat_map(|p| expand_use(&format!("{prefix}{p}")))
        .collect()
}

/// The file of the longest module prefix of `segs` under `src` and the item after it.
fn rust_item_file(
    root: &Path,
    src: &str,
    segs: &[&str],
    lib: Option<&str>,
) -> (Option<String>, Option<String>) {
    for n in (1..=segs.len()).rev() {
        let stem = join(src, &segs[..n].join("/"));
        if let Some(f) = [format!("{stem}.rs"), join(&stem, "mod.rs")]
            .into_iter()
            .find(|f| is_file(root, f))
        {
            let item = segs.get(n).filter(|s| **s != "*").map(|s| s.to_string());
            return (Some(f), item);
        }
    }
    let item = segs.last().filter(|s| **s != "*").map(|s| s.to_string());
    (lib.map(str::to_string), item)
}

static CARGO_NAME: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"(?m)^\s*name\s*=\s*"([^"]+)""#).expect("valid regex"));

/// The crate name (`-` as `_`) and directory of the nearest `Cargo.toml` with a package.
pub fn rust_crate(root: &Path, dir: &str) -> Option<(String, String)> {
    let mut d = dir.to_string();
    loop {
        let manifest = if d.is_empty() {
            Some(root.join("Cargo.toml"))
        } else {
            inside(root, &join(&d, "Cargo.toml"))
        };
        if let Some(text) = manifest.and_then(|p| std::fs::read_to_string(p).ok())
            && let Some(pkg) = text.split("[package]").nth(1)
            && let Some(c) = CARGO_NAME.captures(pkg.split("\n[").next().unwrap_or(pkg))
        {
            return Some((c[1].replace('-', "_"), d));
        }
        if d.is_empty() {
            return None;
        }
        d = dir_of(&d).to_string();
    }
}
