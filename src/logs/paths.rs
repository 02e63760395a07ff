//! Maps the paths tools print on a runner to repo-relative ones.
//!
//! Runners check out into `/home/runner/work/<repo>/<repo>/` (Linux), `D:\a\<repo>\<repo>\`
//! (Windows), `/Users/runner/work/<repo>/<repo>/` (macOS), `/__w/<repo>/<repo>/` (container
//! jobs), `/github/workspace/` (Docker actions) and self-hosted `…/_work/<repo>/<repo>/`;
//! GitLab into `/builds/<group>/<project>/`, Jenkins into `…/workspace/<job>/`. A workspace
//! learned from the log itself (see `ci::learn`) wins over these guesses. Tools also print
//! `./x`, `a\b`, Go import paths (`example.com/mod/pkg/x_test.go`, mapped through `go.mod`)
//! and absolute paths of the local checkout.

use std::path::Path;

/// Markers after which the next two components are `<repo>/<repo>`.
const WORK_MARKERS: &[&str] = &[
    "/home/runner/work/",
    "/Users/runner/work/",
    "/Users/runneradmin/work/",
    "/__w/",
    "/_work/",
    ":/a/",
];

/// The repo-relative form of `raw`, or `raw` cleaned up when it is not under a checkout.
/// With `repo_dir`, a path that does not exist as given is matched by its longest suffix that does.
pub fn to_repo_relative(raw: &str, repo_dir: Option<&Path>) -> String {
    to_repo_relative_in(raw, &[], repo_dir)
}

/// [`to_repo_relative`], trying the `workspaces` learned from the log first.
pub fn to_repo_relative_in(raw: &str, workspaces: &[String], repo_dir: Option<&Path>) -> String {
    let mut p = without_marker(raw.trim())
        .trim_matches(|c| c == '"' || c == '\'')
        .replace('\\', "/");
    if let Some(rest) = super::ci::strip_learned(&p, workspaces) {
        p = rest;
    } else if let Some(rest) = strip_runner_workspace(&p) {
        p = rest;
    } else if let Some(dir) = repo_dir.and_then(|d| d.canonicalize().ok()) {
        let prefix = format!("{}/", dir.to_string_lossy());
        if let Some(rest) = p.strip_prefix(&prefix) {
            p = rest.to_string();
        }
    }
    while let Some(rest) = p.strip_prefix("./") {
        p = rest.to_string();
    }
    if let Some(rest) = go_module_tail(&p, repo_dir) {
        p = rest;
    }
    match repo_dir {
        Some(dir) if !p.starts_with('/') && !dir.join(&p).exists() => {
            longest_existing_suffix(&p, dir)
                .or_else(|| unique_file_ending_with(&p, dir))
                .unwrap_or(p)
        }
        Some(dir) if p.starts_with('/') => longest_existing_suffix(&p, dir).unwrap_or(p),
        _ => p,
    }
}

/// Folders never searched for a file: VCS data, build output, dependencies.
const SKIPPED_DIRS: &[&str] = &[
    ".git",
    "target",
    "node_modules",
    "vendor",
    ".venv",
    "venv",
    "__pycache__",
    ".selfheal",
    "dist",
    "build",
];
/// Entries looked at before the search gives up (a huge repo is not walked whole).
const MAX_ENTRIES: usize = 50_000;

/// The one repo file whose path ends with `/p` (Go and others print paths relative to
/// the package directory: `shapes_test.go` for `shapes/shapes_test.go`). Several
/// candidates mean we cannot tell, so none is returned.
fn unique_file_ending_with(p: &str, dir: &Path) -> Option<String> {
    let suffix = format!("/{p}");
    let mut found: Vec<String> = Vec::new();
    let mut stack = vec![String::new()];
    let mut seen = 0;
    while let Some(rel) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(dir.join(&rel)) else {
            continue;
        };
        for entry in rd.flatten() {
            seen += 1;
            if seen > MAX_ENTRIES || found.len() > 1 {
                return None;
            }
            let name = entry.file_name().to_string_lossy().into_owned();
            let child = if rel.is_empty() {
                name.clone()
            } else {
                format!("{rel}/{name}")
            };
            match entry.file_type() {
                Ok(t) if t.is_dir() && !SKIPPED_DIRS.contains(&name.as_str()) => stack.push(child),
                Ok(t) if t.is_file() && format!("/{child}").ends_with(&suffix) => found.push(child),
                _ => {}
            }
        }
    }
    (found.len() == 1).then(|| found.remove(0))
}

/// A `##[error]`-style runner marker in front of a path (a problem matcher's line read
/// whole) is never part of it.
fn without_marker(p: &str) -> &str {
    let mut p = p;
    while p.starts_with("##[")
        && let Some(end) = p.find(']')
    {
        p = &p[end + 1..];
    }
    p
}

/// A Go import path (`example.com/mod/pkg/x_test.go`) as a repository path: the module
/// path from `go.mod` taken off when the repository is at hand, otherwise the module part
/// guessed (the host and one more component, and a `/vN` major version). `None` for
/// paths that are not import paths.
fn go_module_tail(p: &str, repo_dir: Option<&Path>) -> Option<String> {
    if !p.ends_with(".go") || p.starts_with('/') {
        return None;
    }
    let host = p.split('/').next()?;
    let is_host = host.contains('.')
        && !host.starts_with('.')
        && !host.ends_with(".go")
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
    if !is_host || p.matches('/').count() < 2 {
        return None;
    }
    if let Some(module) = repo_dir.and_then(go_module_path) {
        if let Some(rest) = p.strip_prefix(&format!("{module}/")) {
            return Some(rest.to_string());
        }
        if repo_dir.is_some_and(|d| d.join(p).is_file()) {
            return None;
        }
    }
    let mut parts = p.split('/').skip(2).peekable();
    let major = parts.peek().is_some_and(|c| {
        c.len() > 1 && c.starts_with('v') && c[1..].chars().all(|d| d.is_ascii_digit())
    });
    if major {
        parts.next();
    }
    let rest: Vec<&str> = parts.collect();
    (!rest.is_empty()).then(|| rest.join("/"))
}

/// The `module` line of `dir/go.mod`.
fn go_module_path(dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(dir.join("go.mod")).ok()?;
    text.lines()
        .find_map(|l| l.trim().strip_prefix("module "))
        .map(|m| m.trim().trim_matches('"').to_string())
}

/// `/home/runner/work/app/app/src/x.py` → `src/x.py`; `None` when no runner marker is present.
fn strip_runner_workspace(p: &str) -> Option<String> {
    if let Some(rest) = p.split_once("/github/workspace/").map(|(_, r)| r) {
        return Some(rest.to_string());
    }
    if let Some(rest) = p.strip_prefix("/builds/") {
        // GitLab: /builds/<group>/<project>/ (a nested group is learned from the log)
        return rest.splitn(3, '/').nth(2).map(str::to_string);
    }
    if p.to_ascii_lowercase().contains("jenkins")
        && let Some((_, rest)) = p.split_once("/workspace/")
    {
        return rest.split_once('/').map(|(_, r)| r.to_string());
    }
    for marker in WORK_MARKERS {
        if let Some(idx) = p.find(marker) {
            let rest = &p[idx + marker.len()..];
            let mut parts = rest.splitn(3, '/');
            let (a, b, tail) = (parts.next()?, parts.next()?, parts.next()?);
            if a == b && !a.is_empty() {
                return Some(tail.to_string());
            }
        }
    }
    None
}

/// The longest tail of `p` (dropping leading components) that names a file in `dir`.
fn longest_existing_suffix(p: &str, dir: &Path) -> Option<String> {
    let parts: Vec<&str> = p.split('/').filter(|s| !s.is_empty()).collect();
    (0..parts.len())
        .map(|i| parts[i..].join("/"))
        .find(|cand| dir.join(cand).is_file())
}

/// True when `path` looks like a test file in any of the ecosystems we know.
pub fn is_test_path(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    path.split('/')
        .any(|c| c == "tests" || c == "test" || c == "__tests__" || c == "spec")
        || name.starts_with("test_")
        || name.ends_with("_test.py")
        || name.ends_with("_test.go")
        || name.contains(".test.")
        || name.contains(".spec.")
        || (name.ends_with("Test.java") || name.ends_with("Tests.java"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_runner_checkouts() {
        assert_eq!(
            to_repo_relative("/home/runner/work/app/app/src/x.py", None),
            "src/x.py"
        );
        assert_eq!(to_repo_relative(r"D:\a\app\app\src\x.rs", None), "src/x.rs");
        assert_eq!(
            to_repo_relative("/__w/app/app/pkg/a_test.go", None),
            "pkg/a_test.go"
        );
        assert_eq!(
            to_repo_relative("/Users/runner/work/app/app/lib/a.js", None),
            "lib/a.js"
        );
        assert_eq!(to_repo_relative("/opt/_work/app/app/a.c", None), "a.c");
        assert_eq!(to_repo_relative("./src/lib.rs", None), "src/lib.rs");
    }

    #[test]
    fn strips_windows_container_and_other_ci_workspaces() {
        assert_eq!(
            to_repo_relative(r"D:\a\shop\shop\pkg\store\store.go", None),
            "pkg/store/store.go"
        );
        assert_eq!(
            to_repo_relative(r"C:\Users\runneradmin\work\shop\shop\src\a.ts", None),
            "src/a.ts"
        );
        assert_eq!(
            to_repo_relative("/__w/shop/shop/internal/x.go", None),
            "internal/x.go"
        );
        assert_eq!(
            to_repo_relative("/github/workspace/app/main.py", None),
            "app/main.py"
        );
        assert_eq!(
            to_repo_relative("/builds/acme/shop/src/cart.py", None),
            "src/cart.py"
        );
        assert_eq!(
            to_repo_relative("/var/lib/jenkins/workspace/shop-ci/src/Cart.java", None),
            "src/Cart.java"
        );
        let learned = vec!["/builds/acme/team/shop".to_string()];
        assert_eq!(
            to_repo_relative_in("/builds/acme/team/shop/src/cart.py", &learned, None),
            "src/cart.py"
        );
        assert_eq!(
            to_repo_relative("##[error]pkg/store/store.go", None),
            "pkg/store/store.go"
        );
    }

    #[test]
    fn go_import_paths_become_repo_paths() {
        assert_eq!(
            to_repo_relative("example.com/mod/pkg/x_test.go", None),
            "pkg/x_test.go"
        );
        assert_eq!(
            to_repo_relative("go.uber.org/zap/v2/core/level.go", None),
            "core/level.go"
        );
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("go.mod"),
            "module example.com/org/tools\n\ngo 1.22\n",
        )
        .unwrap();
        std::fs::create_dir_all(dir.path().join("cmd/lint")).unwrap();
        std::fs::write(dir.path().join("cmd/lint/main_test.go"), "package main").unwrap();
        assert_eq!(
            to_repo_relative(
                "example.com/org/tools/cmd/lint/main_test.go",
                Some(dir.path())
            ),
            "cmd/lint/main_test.go"
        );
        assert_eq!(to_repo_relative("main.go", None), "main.go");
    }

    #[test]
    fn leaves_foreign_paths_alone() {
        assert_eq!(
            to_repo_relative("/usr/lib/python3.11/site-packages/x.py", None),
            "/usr/lib/python3.11/site-packages/x.py"
        );
        assert_eq!(
            to_repo_relative("/home/runner/work/a/b/x.py", None),
            "/home/runner/work/a/b/x.py"
        );
    }

    #[test]
    fn finds_suffix_in_repo() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("src/app")).unwrap();
        std::fs::write(dir.path().join("src/app/core.py"), "x").unwrap();
        assert_eq!(
            to_repo_relative("/build/checkout/src/app/core.py", Some(dir.path())),
            "src/app/core.py"
        );
        assert_eq!(
            to_repo_relative("app/core.py", Some(dir.path())),
            "src/app/core.py"
        );
    }

    #[test]
    fn finds_package_relative_paths_when_unique() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("shapes")).unwrap();
        std::fs::create_dir_all(dir.path().join("a")).unwrap();
        std::fs::create_dir_all(dir.path().join("b")).unwrap();
        std::fs::write(dir.path().join("shapes/shapes_test.go"), "x").unwrap();
        std::fs::write(dir.path().join("a/util.go"), "x").unwrap();
        std::fs::write(dir.path().join("b/util.go"), "x").unwrap();
        assert_eq!(
            to_repo_relative("shapes_test.go", Some(dir.path())),
            "shapes/shapes_test.go"
        );
        assert_eq!(
            to_repo_relative("util.go", Some(dir.path())),
            "util.go",
            "ambiguous: left alone"
        );
    }

    #[test]
    fn knows_test_files() {
        assert!(is_test_path("tests/test_calc.py"));
        assert!(is_test_path("pkg/calc_test.go"));
        assert!(is_test_path("src/calc.test.js"));
        assert!(is_test_path("src/test/java/a/CalcTest.java"));
        assert!(!is_test_path("src/calc.py"));
    }
}
