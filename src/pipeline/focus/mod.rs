//! The short prompt for small models and the "function" edit format.
//!
//! Small models follow a short, concrete request: one failure at a time, the failing
//! assertion, the test function, and the definitions it runs, shown exactly as in the
//! file (no line-number gutters to copy, no example edit to parrot). They are asked for
//! one definition back, whole; [`place()`] puts it over the definition whose signature it
//! repeats, from that signature to the definition's end. A reply in another shape
//! (search/replace blocks, a diff) is taken as it is.
//!
//! Four parts, re-exported here: `choose` picks what is offered ([`focus()`],
//! [`whole_file()`]), `notes` says what the code shows but a small model misses (a name
//! like the missing one, a key missing from a table, a function with no `return`), `prompt`
//! writes the messages ([`system()`], [`user_message()`]), and `place` reads the reply back
//! ([`place()`], [`sends_back()`]). This file holds what they share: the types, the limits
//! and the tests' fixtures.

mod choose;
mod notes;
mod place;
mod prompt;

pub use choose::{focus, whole_file};
pub use place::{defined_again, place, sends_back};
pub use prompt::{system, user_message};

/// Definitions offered for editing at most.
pub const MAX_EDITABLE: usize = 3;
/// Lines of one definition at most (longer ones are left to the search/replace format).
pub const MAX_DEFINITION_LINES: usize = 80;
/// Lines of a file offered whole at most (`edit_format = "whole_file"`).
pub const MAX_WHOLE_FILE_LINES: usize = 250;

/// Appended to the short prompt for one candidate of each round: reason, then code.
/// The prompt's "No other text." goes: told both, the 1.5B model wrote the sentence and
/// stopped.
pub const REASON_FIRST: &str = "\n\nFirst say in one sentence which line is wrong and why; then write the corrected code block.";

/// The spans a reply quotes in single backticks, trimmed (`` `from .tokenize import x` ``).
pub fn backticked(text: &str) -> impl Iterator<Item = &str> {
    text.split('`').skip(1).step_by(2).map(str::trim)
}

/// Where `word` stands whole in `line`: byte offsets with no identifier character
/// (letter, digit, `_`) right before or after.
fn word_at<'a>(line: &'a str, word: &'a str) -> impl Iterator<Item = usize> + 'a {
    let ident = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
    line.match_indices(word)
        .map(|(at, _)| at)
        .filter(move |&at| {
            !ident(line[..at].chars().next_back()) && !ident(line[at + word.len()..].chars().next())
        })
}

/// A definition the model may rewrite: its exact text and where it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Editable {
    pub path: String,
    /// 0-based first and last (inclusive) line.
    pub first: usize,
    pub last: usize,
    pub text: String,
}

impl Editable {
    /// Its first non-blank line.
    pub fn signature(&self) -> &str {
        self.text
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("")
    }
}

/// What the short prompt shows.
#[derive(Clone, Debug)]
pub struct Focus {
    pub failure: String,
    /// The failing test's path and exact code.
    pub test: Option<(String, String)>,
    pub editables: Vec<Editable>,
    /// Notes on names, one per line: the files next to a failed import (`Files in
    /// textstats/: stats.py, tokenize.py`), and a definition not offered because other
    /// code calls it by a name like the missing one.
    pub files: String,
}

/// What the unit tests share: the `discount()` method (lines 8-11) of a small JavaScript
/// cart, as `choose` finds it, and a temporary tree of files.
#[cfg(test)]
mod fixture {
    use super::Editable;
    use super::choose::{enclosing_definition, exact};

    const CART: &str = "'use strict';\n\nclass Cart {\n  subtotal() {\n    return 10;\n  }\n\n  discount() {\n    const percent = couponPercent(this.coupon, this.subtotal());\n    return Math.floor(this.subtotal() * percent) / 100;\n  }\n}\n";

    pub(super) fn editable() -> Editable {
        let lines: Vec<&str> = CART.lines().collect();
        let (first, last) = enclosing_definition(&lines, 9).unwrap();
        Editable {
            path: "src/cart.js".into(),
            first,
            last,
            text: exact(&lines, first, last),
        }
    }

    /// A temporary tree holding `files` (path, text).
    pub(super) fn write_all(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (rel, text) in files {
            let p = dir.path().join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        dir
    }
}
