//! Maps the paths tools print on a runner to repo-relative ones.
//!
//! Runners check out into `/home/runner/work/<repo>/<repo>/` (Linux), `D:\a\<repo>\<repo>\`
//! (Windows), `/Users/runner/work/<repo>/<repo>/` (macOS), `/__w/<repo>/<repo>/` (container
//! jobs) and self-hosted `…/_work/<repo>/<repo>/`. Tools also print `./x`, `a\b` and absolute
//! paths of the local checkout.

use std::path::Path;

/// Markers after which the next two components are `<repo>/<repo>`.
const WORK_MARKERS: &[&str] = &[
    "/home/runner/work/",
    "/Users/runner/work/",
    "/__w/",
    "/_work/",
    ":/a/",
];

/// The repo-relative form of `raw`, or `raw` cleaned up when it is not under a checkout.
/// With `repo_dir`, a path that does not exist as given is matched by its longest suffix that does.
pub fn to_repo_relative(raw: &str, repo_dir: Option<&Path>) -> String {
    let mut p = raw
        .trim()
        .trim_matches(|c| c == '"' || c == '\'')
        .replace('\\', "/");
    if let Some(rest) = strip_runner_workspace(&p) {
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
    match repo_dir {
        Some(dir) if !p.starts_with('/') && !dir.join(&p).exists() => {
            longest_existing_suffix(&p, dir).unwrap_or(p)
        }
        Some(dir) if p.starts_with('/') => longest_existing_suffix(&p, dir).unwrap_or(p),
        _ => p,
    }
}

/// `/home/runner/work/app/app/src/x.py` → `src/x.py`; `None` when no runner marker is present.
fn strip_runner_workspace(p: &str) -> Option<String> {
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
            "app/core.py"
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
