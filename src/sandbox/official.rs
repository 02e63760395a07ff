//! The official per-language images used when a registry answers, and the setup each needs.
//!
//! These are the images teams already run their CI in (Docker Hub's official `python`,
//! `rust`, `golang`, `node` and `maven` images). Unlike selfheal's Debian images they carry
//! no test runner or project dependencies, so a default `validate.setup` installs them once
//! with the network on (cached like any setup). `[validate] registry_mirror` puts the names
//! behind a mirror (`mirror.example/library`), as companies that proxy Docker Hub do.

use std::path::Path;

use crate::testrun::Lang;

/// The official image for `lang` (Docker Hub names, `library/` implied).
pub fn image(lang: Lang) -> &'static str {
    match lang {
        Lang::Python => "python:3.12-slim",
        Lang::Rust => "rust:1-slim",
        Lang::Go => "golang:1.23",
        Lang::Node => "node:20-slim",
        Lang::Java => "maven:3.9-eclipse-temurin-17",
    }
}

/// The official image for `lang` behind `mirror` (`host[:port]/path`), or as is when empty.
pub fn image_via(lang: Lang, mirror: &str) -> String {
    let mirror = mirror.trim().trim_end_matches('/');
    if mirror.is_empty() {
        image(lang).to_string()
    } else {
        format!("{mirror}/{}", image(lang))
    }
}

/// The setup an official image needs before the tests of `repo` can run offline: the test
/// runner and the dependencies the repository declares. Empty when nothing is needed.
pub fn default_setup(lang: Lang, repo: &Path) -> String {
    let has = |name: &str| repo.join(name).is_file();
    let mut steps: Vec<String> = Vec::new();
    match lang {
        Lang::Python => {
            steps.push("python3 -m pip install -q --disable-pip-version-check pytest".into());
            for req in [
                "requirements.txt",
                "requirements-dev.txt",
                "requirements-test.txt",
                "dev-requirements.txt",
                "test-requirements.txt",
            ] {
                if has(req) {
                    steps.push(format!(
                        "python3 -m pip install -q --disable-pip-version-check -r {req}"
                    ));
                }
            }
            if has("setup.py") || declares_python_project(repo) {
                steps.push("python3 -m pip install -q --disable-pip-version-check -e .".into());
            }
        }
        Lang::Rust => {
            if has("Cargo.toml") {
                steps.push("cargo fetch".into());
            }
        }
        Lang::Go => {
            if has("go.sum") {
                steps.push("go mod download".into());
            }
        }
        Lang::Node => {
            if has("package-lock.json") || has("npm-shrinkwrap.json") {
                steps.push("npm ci --no-audit --no-fund".into());
            } else if declares_node_dependencies(repo) {
                steps.push("npm install --no-audit --no-fund".into());
            }
        }
        Lang::Java => {
            if has("pom.xml") {
                steps.push("mvn -q -B dependency:go-offline".into());
            }
        }
    }
    steps.join(" && ")
}

/// True when `pyproject.toml` has a `[project]` table, so `pip install -e .` can build it.
fn declares_python_project(repo: &Path) -> bool {
    std::fs::read_to_string(repo.join("pyproject.toml"))
        .is_ok_and(|text| text.lines().any(|line| line.trim() == "[project]"))
}

/// True when `package.json` lists any dependencies (node:test projects often list none).
fn declares_node_dependencies(repo: &Path) -> bool {
    let Ok(text) = std::fs::read_to_string(repo.join("package.json")) else {
        return false;
    };
    let Ok(json) = serde_json::from_str::<serde_json::Value>(&text) else {
        return false;
    };
    ["dependencies", "devDependencies"]
        .iter()
        .any(|key| json[key].as_object().is_some_and(|deps| !deps.is_empty()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mirror_prefixes_the_official_name() {
        assert_eq!(image_via(Lang::Python, ""), "python:3.12-slim");
        assert_eq!(
            image_via(Lang::Python, "127.0.0.1:5000/library/"),
            "127.0.0.1:5000/library/python:3.12-slim"
        );
    }

    #[test]
    fn python_setup_installs_pytest_and_declared_requirements() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            default_setup(Lang::Python, dir.path()),
            "python3 -m pip install -q --disable-pip-version-check pytest"
        );
        std::fs::write(dir.path().join("requirements.txt"), "requests\n").unwrap();
        let setup = default_setup(Lang::Python, dir.path());
        assert!(
            setup.ends_with(
                "&& python3 -m pip install -q --disable-pip-version-check -r requirements.txt"
            ),
            "{setup}"
        );
    }

    #[test]
    fn node_setup_only_when_dependencies_are_declared() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("package.json"),
            r#"{"scripts":{"test":"node --test"}}"#,
        )
        .unwrap();
        assert_eq!(default_setup(Lang::Node, dir.path()), "");
        std::fs::write(
            dir.path().join("package.json"),
            r#"{"devDependencies":{"c8":"^9"}}"#,
        )
        .unwrap();
        assert_eq!(
            default_setup(Lang::Node, dir.path()),
            "npm install --no-audit --no-fund"
        );
        std::fs::write(dir.path().join("package-lock.json"), "{}").unwrap();
        assert_eq!(
            default_setup(Lang::Node, dir.path()),
            "npm ci --no-audit --no-fund"
        );
    }

    #[test]
    fn go_and_rust_fetch_only_what_they_declare() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(default_setup(Lang::Go, dir.path()), "");
        std::fs::write(dir.path().join("go.sum"), "").unwrap();
        assert_eq!(default_setup(Lang::Go, dir.path()), "go mod download");
        assert_eq!(default_setup(Lang::Rust, dir.path()), "");
    }
}
