//! Deterministic fixers: repairs that need no LLM because the tool that complained can
//! fix its own complaint (`cargo fmt`, `gofmt -w`, `ruff format`, `ruff check --fix`,
//! `black`, `eslint --fix`, `cargo clippy --fix`). Each runs on a work copy of the
//! tree; what it changed becomes an ordinary patch that goes through the same diff,
//! approval, apply and validation path as an LLM patch.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::sync::LazyLock;
use std::time::Duration;

use regex::Regex;

use crate::logs::{Failure, Kind};
use crate::workcopy::{self, WorkCopy};

/// A tool invocation that fixes one kind of failure.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fixer {
    /// Short name for reports: `cargo fmt`, `ruff format`, …
    pub name: &'static str,
    /// Program and arguments, run in the work copy's root.
    pub argv: Vec<String>,
}

/// A change a fixer made: repo-relative path, old and new contents.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FixedFile {
    pub path: String,
    pub old: String,
    pub new: String,
}

/// The fixers for `failures`, in order, with duplicates removed. Only failures whose
/// kind and tool say for certain that the tool can fix them get one.
pub fn fixers_for(failures: &[Failure]) -> Vec<Fixer> {
    let mut out: Vec<Fixer> = Vec::new();
    for f in failures {
        if let Some(fx) = fixer_for(f).filter(|fx| !out.contains(fx)) {
            out.push(fx);
        }
    }
    out
}

fn argv(parts: &[&str]) -> Vec<String> {
    parts.iter().map(|s| s.to_string()).collect()
}

fn fixer_for(f: &Failure) -> Option<Fixer> {
    let file = f.file.clone();
    let with_file = |parts: &[&str]| {
        let mut v = argv(parts);
        v.extend(file.clone());
        v
    };
    let fx = match (f.kind, f.tool.as_str()) {
        (Kind::Format, "rustfmt" | "cargo" | "cargo-fmt") => Fixer {
            name: "cargo fmt",
            argv: argv(&["cargo", "fmt", "--all"]),
        },
        (Kind::Format, "gofmt" | "go") => Fixer {
            name: "gofmt -w",
            argv: with_file(&["gofmt", "-w"]),
        },
        (Kind::Format, "ruff") => Fixer {
            name: "ruff format",
            argv: with_file(&["ruff", "format"]),
        },
        (Kind::Format, "black") => Fixer {
            name: "black",
            argv: with_file(&["black", "-q"]),
        },
        (Kind::Lint, "ruff") if f.excerpt.contains("[*]") || f.message.contains("[*]") => Fixer {
            name: "ruff check --fix",
            argv: with_file(&["ruff", "check", "--fix", "--quiet"]),
        },
        (Kind::Lint, "eslint") if eslint_fixes_all(&f.excerpt) => Fixer {
            name: "eslint --fix",
            argv: with_file(&["eslint", "--fix"]),
        },
        (Kind::Lint, "clippy") if f.excerpt.contains("help:") => Fixer {
            name: "cargo clippy --fix",
            argv: argv(&[
                "cargo",
                "clippy",
                "--fix",
                "--allow-no-vcs",
                "--allow-dirty",
                "--allow-staged",
                "--all-targets",
            ]),
        },
        _ => return None,
    };
    // A fixer naming a file needs the file; a missing path means we are not sure.
    if fx.argv.len() > 1
        && fx.name != "cargo fmt"
        && !fx.name.starts_with("cargo clippy")
        && f.file.is_none()
    {
        return None;
    }
    Some(fx)
}

static ESLINT_PROBLEMS: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"✖ \d+ problems? \((\d+) errors?, (\d+) warnings?\)").unwrap());
static ESLINT_FIXABLE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(\d+) errors? and (\d+) warnings? potentially fixable with the `--fix` option")
        .unwrap()
});

/// eslint's summary (which its parser adds to the excerpt) says `--fix` fixes every
/// error, or every warning when there are no errors (`--max-warnings 0`). Its findings
/// say nothing about fixability one by one.
fn eslint_fixes_all(excerpt: &str) -> bool {
    let counts = |re: &Regex| -> Option<(u32, u32)> {
        let c = re.captures(excerpt)?;
        Some((c[1].parse().ok()?, c[2].parse().ok()?))
    };
    match (counts(&ESLINT_PROBLEMS), counts(&ESLINT_FIXABLE)) {
        (Some((0, warnings)), Some((_, fixable))) => warnings > 0 && fixable == warnings,
        (Some((errors, _)), Some((fixable, _))) => fixable == errors,
        _ => false,
    }
}

#[derive(Debug, thiserror::Error)]
pub enum FixError {
    #[error("`{0}` is not installed here")]
    Missing(String),
    #[error("could not copy the repository for `{name}`")]
    WorkCopy {
        name: String,
        #[source]
        source: std::io::Error,
    },
    #[error("`{name}` failed (exit {code:?}): {tail}")]
    Failed {
        name: String,
        code: Option<i32>,
        tail: String,
    },
    #[error("`{0}` changed nothing")]
    NoChange(String),
}

impl crate::error::Hint for FixError {
    fn hint(&self) -> String {
        match self {
            FixError::Missing(tool) => {
                format!("install `{tool}` to let selfheal fix this without the model")
            }
            FixError::WorkCopy { .. } => {
                "check that the temporary directory (TMPDIR) is writable and has room".into()
            }
            FixError::Failed { .. } | FixError::NoChange(_) => String::new(),
        }
    }
}

/// Runs `fixer` on a work copy of `repo` and returns the files it changed. The
/// user's tree is never touched.
pub fn run_fixer(
    fixer: &Fixer,
    repo: &Path,
    timeout: Duration,
) -> Result<Vec<FixedFile>, FixError> {
    let copy = WorkCopy::create(repo, &[], &[]).map_err(|e| FixError::WorkCopy {
        name: fixer.name.into(),
        source: e,
    })?;
    let before = snapshot(copy.path());
    let mut cmd = Command::new(&fixer.argv[0]);
    cmd.args(&fixer.argv[1..]).current_dir(copy.path());
    for (k, v) in workcopy::cache_env(repo) {
        cmd.env(k, v);
    }
    let output = run_with_timeout(cmd, timeout).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => FixError::Missing(fixer.argv[0].clone()),
        _ => FixError::Failed {
            name: fixer.name.into(),
            code: None,
            tail: e.to_string(),
        },
    })?;
    let changed = diff_snapshots(&before, &snapshot(copy.path()));
    if changed.is_empty() {
        if !output.status.success() {
            let tail = String::from_utf8_lossy(&output.stderr)
                .lines()
                .rev()
                .take(5)
                .collect::<Vec<_>>()
                .join(" | ");
            return Err(FixError::Failed {
                name: fixer.name.into(),
                code: output.status.code(),
                tail,
            });
        }
        return Err(FixError::NoChange(fixer.name.into()));
    }
    Ok(changed)
}

fn run_with_timeout(mut cmd: Command, timeout: Duration) -> std::io::Result<std::process::Output> {
    use std::process::Stdio;
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let started = std::time::Instant::now();
    loop {
        if child.try_wait()?.is_some() {
            return child.wait_with_output();
        }
        if started.elapsed() > timeout {
            let _ = child.kill();
            return Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!("timed out after {timeout:?}"),
            ));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Text files of a tree (bounded size), by repo-relative path.
fn snapshot(root: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in rd.flatten() {
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        let path = entry.path();
        if kind.is_dir()
            && !workcopy::EXCLUDED_DIRS.contains(&entry.file_name().to_string_lossy().as_ref())
        {
            walk(root, &path, out);
        } else if kind.is_file()
            && entry.metadata().map(|m| m.len() < 2 << 20).unwrap_or(false)
            && let (Ok(text), Ok(rel)) = (std::fs::read_to_string(&path), path.strip_prefix(root))
        {
            out.insert(rel.to_string_lossy().replace('\\', "/"), text);
        }
    }
}

fn diff_snapshots(
    before: &BTreeMap<String, String>,
    after: &BTreeMap<String, String>,
) -> Vec<FixedFile> {
    before
        .iter()
        .filter_map(|(path, old)| {
            let new = after.get(path)?;
            (new != old).then(|| FixedFile {
                path: path.clone(),
                old: old.clone(),
                new: new.clone(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(tool: &str, kind: Kind, file: Option<&str>) -> Failure {
        let mut f = Failure::new(tool, kind, "x");
        f.file = file.map(str::to_string);
        f
    }

    #[test]
    fn picks_fixers_only_when_certain() {
        let fx = fixers_for(&[
            failure("rustfmt", Kind::Format, Some("src/lib.rs")),
            failure("rustfmt", Kind::Format, Some("src/main.rs")),
        ]);
        assert_eq!(fx.len(), 1, "one cargo fmt for the whole crate");
        assert_eq!(fx[0].argv, ["cargo", "fmt", "--all"]);
        let fx = fixers_for(&[failure("gofmt", Kind::Format, Some("geo/area.go"))]);
        assert_eq!(fx[0].argv, ["gofmt", "-w", "geo/area.go"]);
        assert!(fixers_for(&[failure("gofmt", Kind::Format, None)]).is_empty());
        assert!(fixers_for(&[failure("pytest", Kind::TestFailure, Some("a.py"))]).is_empty());
        let mut lint = failure("ruff", Kind::Lint, Some("a.py"));
        assert!(fixers_for(&[lint.clone()]).is_empty(), "not marked fixable");
        lint.excerpt = "a.py:1:8: F401 [*] `os` imported but unused".into();
        assert_eq!(fixers_for(&[lint])[0].name, "ruff check --fix");
        let mut eslint = failure("eslint", Kind::Lint, Some("src/money.js"));
        assert!(
            fixers_for(&[eslint.clone()]).is_empty(),
            "not marked fixable"
        );
        eslint.excerpt = "  6:58  error  Missing semicolon  semi\n⋯\n✖ 2 problems (2 errors, 0 warnings)\n1 error and 0 warnings potentially fixable with the `--fix` option.".into();
        assert!(
            fixers_for(&[eslint.clone()]).is_empty(),
            "one error is not fixable"
        );
        eslint.excerpt = eslint.excerpt.replace("1 error and", "2 errors and");
        assert_eq!(
            fixers_for(&[eslint])[0].argv,
            ["eslint", "--fix", "src/money.js"]
        );
    }

    #[test]
    fn eslint_counts_warnings_only_without_errors() {
        let summary =
            |p: &str, f: &str| format!("✖ {p}\n{f} potentially fixable with the `--fix` option.");
        assert!(eslint_fixes_all(&summary(
            "1 problem (0 errors, 1 warning)",
            "0 errors and 1 warning"
        )));
        assert!(!eslint_fixes_all(&summary(
            "2 problems (0 errors, 2 warnings)",
            "0 errors and 1 warning"
        )));
        assert!(eslint_fixes_all(&summary(
            "3 problems (1 error, 2 warnings)",
            "1 error and 0 warnings"
        )));
        assert!(
            !eslint_fixes_all(
                "1 error and 0 warnings potentially fixable with the `--fix` option."
            ),
            "no totals"
        );
    }

    #[test]
    fn rustfmt_fix_is_a_patch_and_the_tree_is_untouched() {
        if Command::new("cargo")
            .arg("fmt")
            .arg("--version")
            .output()
            .map(|o| !o.status.success())
            .unwrap_or(true)
        {
            eprintln!("skipping: cargo fmt is not installed");
            return;
        }
        let repo = tempfile::tempdir().unwrap();
        std::fs::write(
            repo.path().join("Cargo.toml"),
            "[package]\nname = \"t\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
        )
        .unwrap();
        std::fs::create_dir(repo.path().join("src")).unwrap();
        let ugly = "pub fn add(a:i32,b:i32)->i32{a+b}\n";
        std::fs::write(repo.path().join("src/lib.rs"), ugly).unwrap();
        let fx = &fixers_for(&[failure("rustfmt", Kind::Format, Some("src/lib.rs"))])[0];
        let changed = run_fixer(fx, repo.path(), Duration::from_secs(60)).unwrap();
        assert_eq!(changed.len(), 1);
        assert_eq!(changed[0].path, "src/lib.rs");
        assert_eq!(
            changed[0].new,
            "pub fn add(a: i32, b: i32) -> i32 {\n    a + b\n}\n"
        );
        assert_eq!(
            std::fs::read_to_string(repo.path().join("src/lib.rs")).unwrap(),
            ugly
        );
    }

    #[test]
    fn missing_tool_is_reported_not_fatal() {
        let repo = tempfile::tempdir().unwrap();
        let fx = Fixer {
            name: "nope",
            argv: vec!["selfheal-no-such-tool".into()],
        };
        assert!(matches!(
            run_fixer(&fx, repo.path(), Duration::from_secs(5)),
            Err(FixError::Missing(_))
        ));
    }
}
