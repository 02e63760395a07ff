//! Path globs, the one matcher for every path pattern in the config: `[policy]
//! allowed_paths` / `denied_paths` and `[validate] exclude` (which both sandboxes' copies
//! of the tree obey alike).
//!
//! gitignore-like: `*` matches within one path component, `**` across components, `?` one
//! character other than `/`. A pattern without a `/` (other than a trailing one) matches at
//! any depth (`*.pem` covers `certs/a.pem`, `.env` covers `app/.env/x`); a pattern with a
//! `/` is anchored at the repository root (`secrets/**`, `/data`). A trailing `/` matches
//! directories only. A matching directory covers everything below it.

use regex::Regex;

/// A compiled glob pattern.
#[derive(Debug, Clone)]
pub struct Glob {
    pattern: String,
    regex: Regex,
    dir_only: bool,
}

/// Why a pattern is not a glob.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GlobError {
    #[error("the pattern is empty")]
    Empty,
    #[error("pattern {pattern:?} is too large to match with: {reason}")]
    Invalid { pattern: String, reason: String },
}

impl Glob {
    /// Compiles `pattern` (leading `./` and surrounding blanks are ignored).
    pub fn new(pattern: &str) -> Result<Glob, GlobError> {
        let trimmed = pattern.trim().trim_start_matches("./");
        let dir_only = trimmed.ends_with('/');
        let body = trimmed.trim_end_matches('/');
        let anchored = body.contains('/');
        let body = body.trim_start_matches('/');
        if body.is_empty() {
            return Err(GlobError::Empty);
        }
        let re = translate(body);
        let full = if anchored {
            format!("^{re}$")
        } else {
            format!("^(?:.*/)?{re}$")
        };
        let regex = Regex::new(&full).map_err(|e| GlobError::Invalid {
            pattern: pattern.to_string(),
            reason: e.to_string(),
        })?;
        Ok(Glob {
            pattern: pattern.to_string(),
            regex,
            dir_only,
        })
    }

    /// The pattern as written in the config.
    pub fn pattern(&self) -> &str {
        &self.pattern
    }

    /// True when the file at `path` (repo-relative, `/`-separated) or one of the
    /// directories it sits in matches.
    pub fn matches(&self, path: &str) -> bool {
        path.match_indices('/')
            .any(|(i, _)| self.matches_entry(&path[..i], true))
            || self.matches_entry(path, false)
    }

    /// True when this entry itself matches, for a walk that does not descend into a
    /// matching directory (its parents were already asked).
    pub fn matches_entry(&self, path: &str, is_dir: bool) -> bool {
        (is_dir || !self.dir_only) && self.regex.is_match(path)
    }
}

/// Several globs; an entry matches when any of them does.
#[derive(Debug, Clone, Default)]
pub struct GlobSet {
    globs: Vec<Glob>,
}

impl GlobSet {
    /// Compiles every non-blank pattern; the first invalid one is the error.
    pub fn new<S: AsRef<str>>(patterns: &[S]) -> Result<GlobSet, GlobError> {
        let mut globs = Vec::new();
        for p in patterns {
            match Glob::new(p.as_ref()) {
                Ok(g) => globs.push(g),
                Err(GlobError::Empty) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(GlobSet { globs })
    }

    /// See [`Glob::matches_entry`].
    pub fn matches_entry(&self, path: &str, is_dir: bool) -> bool {
        self.globs.iter().any(|g| g.matches_entry(path, is_dir))
    }

    /// See [`Glob::matches`].
    pub fn matches(&self, path: &str) -> bool {
        self.globs.iter().any(|g| g.matches(path))
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
        assert!(m("docs/**/*.png", "docs/a/b/x.png"));
        assert!(!m("docs/**/*.png", "img/x.png"));
    }

    #[test]
    fn bare_names_match_any_component() {
        assert!(m(".env", ".env"));
        assert!(m(".env", "app/.env"));
        assert!(m(".env", "app/.env/inner"));
        assert!(!m(".env", "app/.envrc"));
        assert!(m("fixtures", "tests/fixtures/big.json"), "a folder name");
    }

    #[test]
    fn question_mark_and_anchored_directory() {
        assert!(m("v?.txt", "v1.txt"));
        assert!(!m("v?.txt", "v10.txt"));
        assert!(m("docs/", "docs/a.md"));
        assert!(m("vendor/lib", "vendor/lib/x.c"));
        assert!(!m("vendor/lib", "vendor/library.c"));
        assert!(m("/data/", "data/x.csv") && !m("/data/", "src/data/x.csv"));
        assert!(m("./build", "build/out.o"));
    }

    #[test]
    fn trailing_slash_means_directories_only() {
        let g = Glob::new("data/").unwrap();
        assert!(g.matches_entry("data", true) && g.matches_entry("src/data", true));
        assert!(!g.matches_entry("data", false), "a file named data is kept");
        assert!(!g.matches("data") && g.matches("data/x"));
    }

    #[test]
    fn regex_characters_are_literal_and_blank_is_empty() {
        assert!(m("a+b(1).txt", "a+b(1).txt"));
        assert!(!m("a.txt", "abtxt"));
        assert_eq!(Glob::new("  ").unwrap_err(), GlobError::Empty);
        assert_eq!(Glob::new("/").unwrap_err(), GlobError::Empty);
    }

    #[test]
    fn a_set_skips_blanks_and_matches_any() {
        let set = GlobSet::new(&["*.log", " ", "fixtures/"]).unwrap();
        assert!(set.matches_entry("deep/a.log", false));
        assert!(set.matches_entry("tests/fixtures", true));
        assert!(set.matches("tests/fixtures/a.json"));
        assert!(!set.matches("src/main.rs"));
        assert!(!GlobSet::new::<&str>(&[]).unwrap().matches("x"));
    }
}
