//! Names called on the lines a failure points at: the failing assertion in a test
//! (`assert moving_average([2, 4, 6], 3) == [4]`, `acct.withdraw(75)`,
//! `Circle{R: 1}.Area()`) and the innermost repository frames. Their definitions are
//! usually the code under test, which the failure message alone rarely names.

use std::sync::LazyLock;

use regex::Regex;

use super::Files;
use super::common::is_common;
use crate::logs::Failure;

/// Lines read above the reported line (a multi-line call or assertion).
const LINES_BEFORE: usize = 2;
/// At most this many names per failure.
const PER_FAILURE: usize = 6;

/// `name(` or `name{` (a call or a struct literal), and `.name(` for methods.
static CALL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"([A-Za-z_][A-Za-z0-9_]*)\s*(?:!\s*)?(?:::<[^>]*>)?[({]").expect("valid regex")
});

/// A line that defines a function rather than calling one.
static DEFINITION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\s*(?:pub(?:\([^)]*\))?\s+)?(?:async\s+)?(?:def|fn|func|function)\b")
        .expect("valid regex")
});

/// Up to a few names per failure, in failure order, for the definition lookup.
pub(crate) fn called_names(failures: &[Failure], files: &mut Files<'_>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for f in failures.iter().filter(|f| f.needs_code_change) {
        let mut spots: Vec<(String, u32)> = Vec::new();
        if let (Some(file), Some(line)) = (&f.file, f.line) {
            spots.push((file.clone(), line));
        }
        spots.extend(
            f.frames
                .iter()
                .rev()
                .filter_map(|fr| Some((fr.file.clone(), fr.line?)))
                .take(2),
        );
        let mut mine = Vec::new();
        for (file, line) in spots {
            for name in names_at(files, &file, line) {
                if !mine.contains(&name) && !out.contains(&name) {
                    mine.push(name);
                }
            }
        }
        mine.truncate(PER_FAILURE);
        out.extend(mine);
    }
    out
}

/// Called names on `line` (1-based) of `file` and the lines just above it.
fn names_at(files: &mut Files<'_>, file: &str, line: u32) -> Vec<String> {
    let Some(lines) = files.lines(file) else {
        return Vec::new();
    };
    let end = (line as usize).min(lines.len());
    let start = end.saturating_sub(LINES_BEFORE + 1);
    let text: Vec<&str> = lines[start..end].iter().map(|l| strip_comment(l)).collect();
    let mut names = Vec::new();
    // The reported line first, then the ones above it.
    for l in text.iter().rev().filter(|l| !DEFINITION.is_match(l)) {
        for c in CALL.captures_iter(l) {
            let name = &c[1];
            if name.len() >= 2 && !is_common(name) && !names.iter().any(|n: &String| n == name) {
                names.push(name.to_string());
            }
        }
    }
    names
}

/// The line without a trailing `//` comment (when no string precedes it).
fn strip_comment(line: &str) -> &str {
    let cut = line
        .find("//")
        .filter(|i| !line[..*i].contains('"'))
        .unwrap_or(line.len());
    &line[..cut]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::Kind;

    fn names_for(file_text: &str, line: u32) -> Vec<String> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("t.src"), file_text).unwrap();
        let mut files = Files::new(dir.path());
        let f = Failure::new("x", Kind::TestFailure, "failed").at("t.src", Some(line), None);
        called_names(&[f], &mut files)
    }

    #[test]
    fn finds_the_code_under_test_on_the_failing_line() {
        assert_eq!(
            names_for(
                "def test_x():\n    assert moving_average([2, 4, 6], 3) == [4]\n",
                2
            ),
            ["moving_average"]
        );
        assert_eq!(
            names_for(
                "    let mut acct = Account::new(\"bob\", 75);\n    assert_eq!(acct.withdraw(75), Ok(0));\n",
                2
            ),
            ["withdraw"]
        );
        assert_eq!(
            names_for(
                "\tapprox(t, \"unit Circle.Area\", Circle{R: 1}.Area(), math.Pi)\n",
                1
            ),
            ["Circle", "Area"]
        );
        assert_eq!(
            names_for("  assert.equal(cartTotal(items, 0.15), 17.0);\n", 1),
            ["cartTotal"]
        );
    }

    #[test]
    fn keywords_helpers_and_missing_files_give_nothing() {
        assert!(names_for("    if x { return Ok(()) }\n", 1).is_empty());
        let dir = tempfile::tempdir().unwrap();
        let mut files = Files::new(dir.path());
        let f = Failure::new("x", Kind::TestFailure, "m").at("missing.py", Some(3), None);
        assert!(called_names(&[f], &mut files).is_empty());
    }
}
