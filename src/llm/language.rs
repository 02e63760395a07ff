//! Source languages, from a file's extension or the tool that failed.
//!
//! Prompts name the language ("Rust code", "Python code"), never assume one, and context
//! windows are fenced with its tag so the model reads them as code.

use std::path::Path;

/// A language selfheal can name in a prompt. Serialised as its prompt name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Language {
    Python,
    Rust,
    Go,
    JavaScript,
    TypeScript,
    Java,
    Kotlin,
    C,
    Cpp,
    CSharp,
    Ruby,
    Php,
    Shell,
    Yaml,
    Toml,
    Json,
}

impl Language {
    /// True when code in `self` can define what code in `other` calls: the same language,
    /// or one that shares its definitions (JavaScript and TypeScript, C and C++, Java and
    /// Kotlin).
    pub fn kin(self, other: Language) -> bool {
        use Language::*;
        let family = |l: Language| match l {
            JavaScript | TypeScript => 1,
            C | Cpp => 2,
            Java | Kotlin => 3,
            _ => 0,
        };
        self == other || (family(self) != 0 && family(self) == family(other))
    }

    /// From the file name's extension (`a/b.rs` → Rust); None for unknown ones.
    pub fn from_path(path: &str) -> Option<Language> {
        let name = Path::new(path).file_name()?.to_str()?;
        if matches!(name, "Dockerfile" | "Makefile") {
            return Some(Language::Shell);
        }
        let ext = name.rsplit_once('.')?.1.to_ascii_lowercase();
        Some(match ext.as_str() {
            "py" | "pyi" => Language::Python,
            "rs" => Language::Rust,
            "go" => Language::Go,
            "js" | "mjs" | "cjs" | "jsx" => Language::JavaScript,
            "ts" | "tsx" | "mts" | "cts" => Language::TypeScript,
            "java" => Language::Java,
            "kt" | "kts" => Language::Kotlin,
            "c" | "h" => Language::C,
            "cc" | "cpp" | "cxx" | "hpp" | "hh" | "hxx" => Language::Cpp,
            "cs" => Language::CSharp,
            "rb" => Language::Ruby,
            "php" => Language::Php,
            "sh" | "bash" => Language::Shell,
            "yml" | "yaml" => Language::Yaml,
            "toml" => Language::Toml,
            "json" => Language::Json,
            _ => return None,
        })
    }

    /// From the tool that reported a failure (`pytest` → Python), when no file says.
    pub fn from_tool(tool: &str) -> Option<Language> {
        Some(match tool {
            "pytest" | "python" | "mypy" | "ruff" | "flake8" | "pylint" | "black" | "pip"
            | "unittest" => Language::Python,
            "cargo" | "rustc" | "clippy" | "rustfmt" => Language::Rust,
            "go" | "gofmt" | "golangci-lint" | "go vet" => Language::Go,
            "tsc" => Language::TypeScript,
            "eslint" | "jest" | "vitest" | "npm" | "node" | "mocha" | "prettier" => {
                Language::JavaScript
            }
            "maven" | "gradle" | "javac" | "junit" => Language::Java,
            "gcc" | "clang" | "make" | "cmake" | "ctest" => Language::C,
            _ => return None,
        })
    }

    /// The name used in prompts.
    pub fn name(self) -> &'static str {
        match self {
            Language::Python => "Python",
            Language::Rust => "Rust",
            Language::Go => "Go",
            Language::JavaScript => "JavaScript",
            Language::TypeScript => "TypeScript",
            Language::Java => "Java",
            Language::Kotlin => "Kotlin",
            Language::C => "C",
            Language::Cpp => "C++",
            Language::CSharp => "C#",
            Language::Ruby => "Ruby",
            Language::Php => "PHP",
            Language::Shell => "shell",
            Language::Yaml => "YAML",
            Language::Toml => "TOML",
            Language::Json => "JSON",
        }
    }

    /// The Markdown fence tag (```rust).
    pub fn fence(self) -> &'static str {
        match self {
            Language::Cpp => "cpp",
            Language::CSharp => "csharp",
            Language::Shell => "sh",
            other => match other.name() {
                "Python" => "python",
                "Rust" => "rust",
                "Go" => "go",
                "JavaScript" => "javascript",
                "TypeScript" => "typescript",
                "Java" => "java",
                "Kotlin" => "kotlin",
                "C" => "c",
                "Ruby" => "ruby",
                "PHP" => "php",
                "YAML" => "yaml",
                "TOML" => "toml",
                _ => "json",
            },
        }
    }
}

impl serde::Serialize for Language {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

/// "Rust", "Python and Go", "Go, C and C++"; "source" when none is known.
pub fn describe(langs: &[Language]) -> String {
    let mut names: Vec<&str> = Vec::new();
    for l in langs {
        if !names.contains(&l.name()) {
            names.push(l.name());
        }
    }
    match names.as_slice() {
        [] => "source".to_string(),
        [one] => one.to_string(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extensions_and_tools_map_to_languages() {
        assert_eq!(Language::from_path("src/lib.rs"), Some(Language::Rust));
        assert_eq!(
            Language::from_path("web/App.TSX"),
            Some(Language::TypeScript)
        );
        assert_eq!(Language::from_path("native/x.hpp"), Some(Language::Cpp));
        assert_eq!(Language::from_path("README"), None);
        assert_eq!(Language::from_tool("pytest"), Some(Language::Python));
        assert_eq!(Language::from_tool("whatever"), None);
        assert_eq!(Language::Cpp.fence(), "cpp");
        assert_eq!(Language::Go.fence(), "go");
    }

    #[test]
    fn describe_joins_distinct_names() {
        assert_eq!(describe(&[]), "source");
        assert_eq!(describe(&[Language::Rust, Language::Rust]), "Rust");
        assert_eq!(
            describe(&[Language::Go, Language::C, Language::Cpp]),
            "Go, C and C++"
        );
    }
}
