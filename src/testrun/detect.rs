//! Finds the test command of a repository and narrows it to the failing tests.
//!
//! Detection reads marker files only (`Cargo.toml`, `go.mod`, `package.json`, `pom.xml`,
//! `build.gradle`, `pyproject.toml`, …); it never runs anything. `validate.command` in
//! self-heal.toml always wins over what is detected here.

use std::path::Path;

use serde::{Deserialize, Serialize};

/// The ecosystems selfheal has a default sandbox image for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    Python,
    Rust,
    Go,
    Node,
    Java,
}

impl Lang {
    pub const ALL: [Lang; 5] = [Lang::Python, Lang::Rust, Lang::Go, Lang::Node, Lang::Java];

    /// The lowercase name, used in image tags (`selfheal-python:…`).
    pub fn name(self) -> &'static str {
        match self {
            Lang::Python => "python",
            Lang::Rust => "rust",
            Lang::Go => "go",
            Lang::Node => "node",
            Lang::Java => "java",
        }
    }

    /// The language named `name` (as [`Lang::name`] gives it).
    pub fn from_name(name: &str) -> Option<Lang> {
        Lang::ALL.into_iter().find(|l| l.name() == name)
    }

    /// The ecosystem a test command belongs to, from its first program name.
    pub fn of_command(command: &str) -> Option<Lang> {
        let words: Vec<&str> = command.split_whitespace().collect();
        let program = words.iter().find(|w| !w.contains('='))?;
        let program = program.rsplit('/').next().unwrap_or(program);
        match program {
            "pytest" | "tox" | "nox" => Some(Lang::Python),
            p if p.starts_with("python") => Some(Lang::Python),
            "cargo" => Some(Lang::Rust),
            "go" => Some(Lang::Go),
            "npm" | "node" | "npx" | "yarn" | "pnpm" => Some(Lang::Node),
            "mvn" | "gradle" | "gradlew" | "mvnw" => Some(Lang::Java),
            _ => None,
        }
    }
}

/// The ecosystem of the repository at `repo`, from its marker files.
pub fn detect_lang(repo: &Path) -> Option<Lang> {
    detect_command(repo).and_then(|c| Lang::of_command(&c))
}

/// The command that runs the repository's tests, or `None` when nothing is recognised.
pub fn detect_command(repo: &Path) -> Option<String> {
    let has = |name: &str| repo.join(name).exists();
    if has("Cargo.toml") {
        return Some("cargo test".into());
    }
    if has("go.mod") {
        return Some("go test ./...".into());
    }
    if has("package.json") {
        return Some(node_command(repo));
    }
    if has("pom.xml") {
        return Some("mvn -q test".into());
    }
    if has("build.gradle") || has("build.gradle.kts") || has("gradlew") {
        return Some(if has("gradlew") {
            "./gradlew test".into()
        } else {
            "gradle test".into()
        });
    }
    if is_python(repo) {
        return Some("python3 -m pytest -q".into());
    }
    None
}

/// `npm test` when package.json has a real test script, else node's built-in runner.
fn node_command(repo: &Path) -> String {
    let script = std::fs::read_to_string(repo.join("package.json"))
        .ok()
        .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
        .and_then(|json| {
            json.pointer("/scripts/test")
                .and_then(|v| v.as_str())
                .map(str::to_owned)
        });
    match script {
        // `npm init` writes this placeholder, which always fails.
        Some(s) if !s.contains("no test specified") && !s.trim().is_empty() => "npm test".into(),
        _ => "node --test".into(),
    }
}

fn is_python(repo: &Path) -> bool {
    let markers = [
        "pyproject.toml",
        "pytest.ini",
        "setup.py",
        "setup.cfg",
        "tox.ini",
        "conftest.py",
    ];
    markers.iter().any(|m| repo.join(m).exists())
        || dir_has_python(&repo.join("tests"))
        || dir_has_python(&repo.join("test"))
        || has_test_module(repo)
}

fn dir_has_python(dir: &Path) -> bool {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .any(|e| e.path().extension().is_some_and(|x| x == "py"))
        })
        .unwrap_or(false)
}

fn has_test_module(repo: &Path) -> bool {
    std::fs::read_dir(repo)
        .map(|entries| {
            entries.flatten().any(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                name.ends_with(".py") && (name.starts_with("test_") || name.ends_with("_test.py"))
            })
        })
        .unwrap_or(false)
}

/// `base` narrowed to `failing_tests` (ids from triage), or `None` when it cannot be narrowed.
///
/// Pytest takes node ids, cargo takes name filters after `--`, go takes a `-run` regex,
/// node's runner takes files or a name pattern, Maven takes `-Dtest`, Gradle `--tests`.
pub fn scoped_command(base: &str, failing_tests: &[String]) -> Option<String> {
    let ids: Vec<&str> = failing_tests
        .iter()
        .map(|t| t.trim())
        .filter(|t| !t.is_empty())
        .collect();
    if ids.is_empty() {
        return None;
    }
    let base = base.trim();
    match Lang::of_command(base)? {
        Lang::Python if base.contains("pytest") => Some(append_args(base, &ids)),
        Lang::Python => None,
        Lang::Rust if base.starts_with("cargo test") => Some(scope_cargo(base, &ids)),
        Lang::Rust => None,
        Lang::Go => scope_go(base, &ids),
        Lang::Node => scope_node(base, &ids),
        Lang::Java => scope_java(base, &ids),
    }
}

fn append_args(base: &str, ids: &[&str]) -> String {
    let quoted: Vec<String> = ids.iter().map(|id| shell_quote(id)).collect();
    format!("{base} {}", quoted.join(" "))
}

fn scope_cargo(base: &str, ids: &[&str]) -> String {
    // libtest accepts several name filters; `crate::tests::x` ids are matched as substrings.
    let names: Vec<&str> = ids
        .iter()
        .map(|id| id.rsplit(" - ").next().unwrap_or(id))
        .collect();
    if base.split_whitespace().any(|w| w == "--") {
        append_args(base, &names)
    } else {
        format!(
            "{} -- {}",
            base,
            names
                .iter()
                .map(|n| shell_quote(n))
                .collect::<Vec<_>>()
                .join(" ")
        )
    }
}

fn scope_go(base: &str, ids: &[&str]) -> Option<String> {
    let rest = base.strip_prefix("go test")?;
    // Ids come as `TestX`, `pkg.TestX` or `example.com/m/pkg.TestX/subtest`.
    let mut names: Vec<String> = ids
        .iter()
        .map(|id| {
            let top = id
                .split('/')
                .find(|seg| seg.contains("Test") || seg.contains("Benchmark"))
                .unwrap_or(id);
            top.rsplit('.').next().unwrap_or(top).to_string()
        })
        .filter(|n| n.chars().all(|c| c.is_alphanumeric() || c == '_'))
        .collect();
    names.sort();
    names.dedup();
    if names.is_empty() {
        return None;
    }
    let pattern = format!("^({})$", names.join("|"));
    Some(format!("go test -run {}{}", shell_quote(&pattern), rest))
}

fn scope_node(base: &str, ids: &[&str]) -> Option<String> {
    let is_file = |id: &&str| {
        [".js", ".mjs", ".cjs", ".ts", ".mts"]
            .iter()
            .any(|ext| id.ends_with(ext))
    };
    if ids.iter().all(is_file) {
        return Some(append_args("node --test", ids));
    }
    if base.starts_with("node --test") {
        let pattern = ids
            .iter()
            .map(|id| regex::escape(id))
            .collect::<Vec<_>>()
            .join("|");
        return Some(format!(
            "node --test --test-name-pattern={}",
            shell_quote(&pattern)
        ));
    }
    None
}

fn scope_java(base: &str, ids: &[&str]) -> Option<String> {
    let selectors: Vec<String> = ids.iter().map(|id| java_selector(id)).collect();
    if base.contains("mvn") {
        let list = shell_quote(&selectors.join(","));
        return Some(format!(
            "{base} -Dtest={list} -Dsurefire.failIfNoSpecifiedTests=false"
        ));
    }
    if base.contains("gradle") {
        let args: Vec<String> = ids
            .iter()
            .map(|id| format!("--tests {}", shell_quote(id)))
            .collect();
        return Some(format!("{base} {}", args.join(" ")));
    }
    None
}

/// `com.x.FooTest.testBar` → `com.x.FooTest#testBar` (Surefire's method selector).
fn java_selector(id: &str) -> String {
    if id.contains('#') {
        return id.to_string();
    }
    match id.rsplit_once('.') {
        Some((class, method))
            if method.starts_with(|c: char| c.is_lowercase())
                && class
                    .rsplit('.')
                    .next()
                    .is_some_and(|c| c.starts_with(|ch: char| ch.is_uppercase())) =>
        {
            format!("{class}#{method}")
        }
        _ => id.to_string(),
    }
}

/// Quotes `s` for `sh -c` when it holds anything but safe characters.
pub fn shell_quote(s: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "-_./:=@%+,".contains(c);
    if !s.is_empty() && s.chars().all(safe) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repo(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (name, body) in files {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, body).unwrap();
        }
        dir
    }

    fn detect(files: &[(&str, &str)]) -> Option<String> {
        detect_command(repo(files).path())
    }

    #[test]
    fn detects_each_ecosystem() {
        assert_eq!(detect(&[("Cargo.toml", "")]).as_deref(), Some("cargo test"));
        assert_eq!(
            detect(&[("go.mod", "module x")]).as_deref(),
            Some("go test ./...")
        );
        assert_eq!(detect(&[("pom.xml", "")]).as_deref(), Some("mvn -q test"));
        assert_eq!(
            detect(&[("build.gradle", "")]).as_deref(),
            Some("gradle test")
        );
        assert_eq!(
            detect(&[("build.gradle.kts", ""), ("gradlew", "")]).as_deref(),
            Some("./gradlew test")
        );
        assert_eq!(
            detect(&[("pyproject.toml", "")]).as_deref(),
            Some("python3 -m pytest -q")
        );
        assert_eq!(
            detect(&[("tests/test_a.py", "")]).as_deref(),
            Some("python3 -m pytest -q")
        );
        assert_eq!(
            detect(&[("test_a.py", "")]).as_deref(),
            Some("python3 -m pytest -q")
        );
        assert_eq!(detect(&[("README.md", "")]), None);
        assert_eq!(detect(&[("tests/data.txt", "")]), None);
    }

    #[test]
    fn node_placeholder_script_falls_back_to_node_test() {
        let placeholder = r#"{"scripts":{"test":"echo \"Error: no test specified\" && exit 1"}}"#;
        assert_eq!(
            detect(&[("package.json", placeholder)]).as_deref(),
            Some("node --test")
        );
        assert_eq!(
            detect(&[("package.json", r#"{"scripts":{"test":"jest"}}"#)]).as_deref(),
            Some("npm test")
        );
        assert_eq!(
            detect(&[("package.json", "{}")]).as_deref(),
            Some("node --test")
        );
        assert_eq!(
            detect(&[("package.json", "not json")]).as_deref(),
            Some("node --test")
        );
    }

    #[test]
    fn lang_of_command() {
        assert_eq!(Lang::of_command("python3 -m pytest -q"), Some(Lang::Python));
        assert_eq!(
            Lang::of_command("RUST_BACKTRACE=1 cargo test"),
            Some(Lang::Rust)
        );
        assert_eq!(Lang::of_command("./gradlew test"), Some(Lang::Java));
        assert_eq!(Lang::of_command("make test"), None);
        assert_eq!(detect_lang(repo(&[("go.mod", "")]).path()), Some(Lang::Go));
    }

    #[test]
    fn scopes_pytest_to_node_ids() {
        let ids = vec![
            "tests/test_x.py::test_y[a b]".to_string(),
            "tests/test_z.py::test_w".to_string(),
        ];
        assert_eq!(
            scoped_command("python3 -m pytest -q", &ids).unwrap(),
            "python3 -m pytest -q 'tests/test_x.py::test_y[a b]' tests/test_z.py::test_w"
        );
    }

    #[test]
    fn scopes_cargo_go_node_java() {
        let one = |s: &str| vec![s.to_string()];
        assert_eq!(
            scoped_command("cargo test", &one("tests::adds")).unwrap(),
            "cargo test -- tests::adds"
        );
        assert_eq!(
            scoped_command("cargo test -- --nocapture", &one("a")).unwrap(),
            "cargo test -- --nocapture a"
        );
        assert_eq!(
            scoped_command(
                "go test ./...",
                &["pkg.TestB".into(), "example.com/m/pkg.TestA/sub".into()]
            )
            .unwrap(),
            "go test -run '^(TestA|TestB)$' ./..."
        );
        assert_eq!(
            scoped_command("npm test", &one("test/a.test.js")).unwrap(),
            "node --test test/a.test.js"
        );
        assert_eq!(scoped_command("npm test", &one("adds numbers")), None);
        assert_eq!(
            scoped_command("node --test", &one("adds (x)")).unwrap(),
            r"node --test --test-name-pattern='adds \(x\)'"
        );
        assert_eq!(
            scoped_command("mvn -q test", &one("com.x.FooTest.testBar")).unwrap(),
            "mvn -q test -Dtest='com.x.FooTest#testBar' -Dsurefire.failIfNoSpecifiedTests=false"
        );
        assert_eq!(
            scoped_command("gradle test", &one("FooTest")).unwrap(),
            "gradle test --tests FooTest"
        );
    }

    #[test]
    fn no_scope_without_ids_or_for_unknown_tools() {
        assert_eq!(scoped_command("python3 -m pytest", &[]), None);
        assert_eq!(scoped_command("make test", &["a".into()]), None);
        assert_eq!(scoped_command("python3 -m unittest", &["a".into()]), None);
    }

    #[test]
    fn shell_quote_escapes_quotes() {
        assert_eq!(shell_quote("plain/path.py"), "plain/path.py");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote(""), "''");
    }
}
