//! A small glob matcher for `policy.allowed_paths` / `policy.denied_paths`.
//!
//! `*` matches within one path component, `**` across components, `?` one character
//! other than `/`. Like `.gitignore`, a pattern without a `/` matches any component
//! (`*.pem` refuses `certs/a.pem`, `.env` refuses `app/.env/x`); a pattern with a `/` is
//! anchored at the repository root (`secrets/**`).

use regex::Regex;

/// A compiled glob pattern.
#[derive(Debug, Clone)]
pub struct Glob {
    pattern: String,
    regex: Regex,
    anchored: bool,
}

impl Glob {
    /// Compiles `pattern`; returns `None` for an empty pattern.
    pub fn new(pattern: &str) -> Option<Glob> {
        let trimmed = pattern.trim().trim_start_matches("./");
        let anchored = trimmed.trim_end_matches('/').contains('/');
        let body = trimmed.trim_start_matches('/').trim_end_matches('/');
        if body.is_empty() {
            return None;
        }
        let regex = Regex::new(&format!("^{}$", translate(body))).ok()?;
        Some(Glob {
            pattern: pattern.to_string(),
            regex,
            anchored,
        })
    }

    /// The pattern as written in the config.
    pub fn pattern(&self) -> &str {
        &self.pattern
    }

    /// True when `path` (repo-relative, `/`-separated) or, for unanchored patterns, any of
    /// its components or leading directories matches.
    pub fn matches(&self, path: &str) -> bool {
        if self.anchored {
            return self.regex.is_match(path) || self.matches_a_parent(path);
        }
        path.split('/')
            .any(|component| self.regex.is_match(component))
            || self.regex.is_match(path)
    }

    /// `secrets/**` and `build` both cover everything below a matching directory.
    fn matches_a_parent(&self, path: &str) -> bool {
        path.match_indices('/')
            .any(|(i, _)| self.regex.is_match(&path[..i]))
    }
}

/// Glob syntax to a regex body.
fn translate(glob: &str) -> String {
    let chars: Vec<char> = glob.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '*' if chars.get(i + 1) == Some(&'*') => {
                let slash_after = chars.get(i + 2) == Some(&'/');
                out.push_str(if slash_after { "(?:.*/)?" } else { ".*" });
                i += if slash_after { 3 } else { 2 };
                continue;
            }
            '*' => out.push_str("[^/]*"),
            '?' => out.push_str("[^/]"),
            c => out.push_str(&regex::escape(&c.to_string())),
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pattern: &str, path: &str) -> bool {
        Glob::new(pattern).unwrap().matches(path)
    }

    #[test]
    fn star_stays_in_one_component() {
        assert!(m("*.pem", "a.pem"));
        assert!(m("*.pem", "certs/deep/a.pem"));
        assert!(!m("*.pem", "a.pem.txt"));
        assert!(m("src/*.rs", "src/a.rs"));
        assert!(!m("src/*.rs", "src/x/a.rs"));
    }

    #[test]
    fn double_star_crosses_components() {
        assert!(m("secrets/**", "secrets/a"));
        assert!(m("secrets/**", "secrets/x/y/z.txt"));
        assert!(!m("secrets/**", "app/secrets/a"));
        assert!(m("src/**/*.rs", "src/a.rs"));
        assert!(m("src/**/*.rs", "src/x/y/a.rs"));
        assert!(m("**/fixtures/*", "a/b/fixtures/c"));
    }

    #[test]
    fn bare_names_match_any_component() {
        assert!(m(".env", ".env"));
        assert!(m(".env", "app/.env"));
        assert!(m(".env", "app/.env/inner"));
        assert!(!m(".env", "app/.envrc"));
    }

    #[test]
    fn question_mark_and_anchored_directory() {
        assert!(m("v?.txt", "v1.txt"));
        assert!(!m("v?.txt", "v10.txt"));
        assert!(m("docs/", "docs/a.md"));
        assert!(m("vendor/lib", "vendor/lib/x.c"));
        assert!(!m("vendor/lib", "vendor/library.c"));
    }

    #[test]
    fn regex_characters_are_literal_and_empty_is_none() {
        assert!(m("a+b(1).txt", "a+b(1).txt"));
        assert!(!m("a.txt", "abtxt"));
        assert!(Glob::new("  ").is_none());
    }
}
