//! Shows a [`Patch`] as a unified diff: coloured with word-level highlights for people,
//! or plain and `git apply`-compatible for PR bodies and the pending queue.
//!
//! Both forms use `--- a/path` / `+++ b/path` headers and 3 lines of context (git's
//! defaults); new and deleted files get git's `new file mode` / `deleted file mode` lines
//! and `/dev/null`, and a last line without a newline gets `\ No newline at end of file`.

use std::fmt;

use console::Style;
use similar::{ChangeTag, TextDiff};

use super::{FileChange, Patch};

const CONTEXT_LINES: usize = 3;

/// Lines added and removed in one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileStat {
    pub path: String,
    pub insertions: usize,
    pub deletions: usize,
}

/// Per-file and total counts, printed like `git diff --stat`'s last line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffStats {
    pub files: Vec<FileStat>,
    pub insertions: usize,
    pub deletions: usize,
}

impl fmt::Display for DiffStats {
    /// `2 files changed, 5 insertions(+), 3 deletions(-)`; zero counts are left out, as
    /// git does.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plural =
            |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        write!(
            f,
            "{}",
            plural(self.files.len(), "file changed", "files changed")
        )?;
        if self.insertions > 0 {
            write!(
                f,
                ", {}",
                plural(self.insertions, "insertion(+)", "insertions(+)")
            )?;
        }
        if self.deletions > 0 {
            write!(
                f,
                ", {}",
                plural(self.deletions, "deletion(-)", "deletions(-)")
            )?;
        }
        Ok(())
    }
}

/// Counts insertions and deletions per file.
pub fn diff_stats(patch: &Patch) -> DiffStats {
    let files: Vec<FileStat> = patch.files.iter().map(file_stat).collect();
    DiffStats {
        insertions: files.iter().map(|f| f.insertions).sum(),
        deletions: files.iter().map(|f| f.deletions).sum(),
        files,
    }
}

fn file_stat(change: &FileChange) -> FileStat {
    let (old, new) = sides(change);
    let diff = TextDiff::from_lines(old, new);
    let count = |tag| diff.iter_all_changes().filter(|c| c.tag() == tag).count();
    FileStat {
        path: change.path.clone(),
        insertions: count(ChangeTag::Insert),
        deletions: count(ChangeTag::Delete),
    }
}

fn sides(change: &FileChange) -> (&str, &str) {
    (
        change.old.as_deref().unwrap_or(""),
        change.new.as_deref().unwrap_or(""),
    )
}

/// The plain diff `git apply` accepts; used for PR bodies and `pending/<id>/patch.diff`.
pub fn git_diff(patch: &Patch) -> String {
    patch.files.iter().map(git_file_diff).collect()
}

fn git_file_diff(change: &FileChange) -> String {
    let mut out = file_header(change);
    let (old, new) = sides(change);
    let diff = TextDiff::from_lines(old, new);
    for hunk in diff
        .unified_diff()
        .context_radius(CONTEXT_LINES)
        .iter_hunks()
    {
        out.push_str(&hunk.to_string());
    }
    out
}

/// A short unified diff for a prompt (few-shot examples from the failure memory): `---` and
/// `+++` per file (`/dev/null` for a new or deleted one), hunks with `context` lines around
/// each change, and none of git's `diff --git` or mode lines.
pub fn compact_diff(patch: &Patch, context: usize) -> String {
    let mut out = String::new();
    for change in &patch.files {
        let p = &change.path;
        let (from, to) = match (&change.old, &change.new) {
            (None, _) => ("/dev/null".to_string(), format!("b/{p}")),
            (_, None) => (format!("a/{p}"), "/dev/null".to_string()),
            _ => (format!("a/{p}"), format!("b/{p}")),
        };
        out.push_str(&format!("--- {from}\n+++ {to}\n"));
        let (old, new) = sides(change);
        let diff = TextDiff::from_lines(old, new);
        for hunk in diff.unified_diff().context_radius(context).iter_hunks() {
            out.push_str(&hunk.to_string());
        }
    }
    out
}

/// `diff --git`, mode lines for new/deleted files, `---` and `+++`.
fn file_header(change: &FileChange) -> String {
    let p = &change.path;
    let mut out = format!("diff --git a/{p} b/{p}\n");
    match (&change.old, &change.new) {
        (None, Some(new)) => {
            out.push_str("new file mode 100644\n");
            if !new.is_empty() {
                out.push_str(&format!("--- /dev/null\n+++ b/{p}\n"));
            }
        }
        (Some(old), None) => {
            out.push_str("deleted file mode 100644\n");
            if !old.is_empty() {
                out.push_str(&format!("--- a/{p}\n+++ /dev/null\n"));
            }
        }
        _ => out.push_str(&format!("--- a/{p}\n+++ b/{p}\n")),
    }
    out
}

/// The diff for a terminal, with the `--stat` summary after it. With `color`, removed
/// lines are red, added lines green, and the changed words within a line are reversed.
pub fn render_diff(patch: &Patch, color: bool) -> String {
    let mut out = String::new();
    for change in &patch.files {
        if color {
            out.push_str(&colored_file_diff(change));
        } else {
            out.push_str(&git_file_diff(change));
        }
    }
    out.push_str(&stat_block(&diff_stats(patch), color));
    out
}

/// ` path | 3 ++-` lines and the total, like `git diff --stat`.
fn stat_block(stats: &DiffStats, color: bool) -> String {
    let width = stats
        .files
        .iter()
        .map(|f| f.path.chars().count())
        .max()
        .unwrap_or(0);
    let (green, red) = styles(color).1;
    let mut out = String::new();
    for f in &stats.files {
        let bar = format!(
            "{}{}",
            green.apply_to("+".repeat(f.insertions.min(40))),
            red.apply_to("-".repeat(f.deletions.min(40)))
        );
        out.push_str(&format!(
            " {:<width$} | {} {bar}\n",
            f.path,
            f.insertions + f.deletions
        ));
    }
    out.push_str(&format!(" {stats}\n"));
    out
}

/// (header, (added, removed), (added emphasis, removed emphasis), hunk header) styles.
fn styles(color: bool) -> (Style, (Style, Style), (Style, Style), Style) {
    let s = || Style::new().force_styling(color);
    (
        s().bold(),
        (s().green(), s().red()),
        (s().green().reverse(), s().red().reverse()),
        s().cyan(),
    )
}

fn colored_file_diff(change: &FileChange) -> String {
    let (header, (green, red), (green_em, red_em), cyan) = styles(true);
    let mut out = String::new();
    for line in file_header(change).lines() {
        out.push_str(&format!("{}\n", header.apply_to(line)));
    }
    let (old, new) = sides(change);
    let diff = TextDiff::from_lines(old, new);
    for group in diff.grouped_ops(CONTEXT_LINES) {
        let header_line = similar::udiff::UnifiedHunkHeader::new(&group).to_string();
        out.push_str(&format!("{}\n", cyan.apply_to(header_line)));
        for op in &group {
            for change in diff.iter_inline_changes(op) {
                let (sign, base, em) = match change.tag() {
                    ChangeTag::Delete => ("-", &red, &red_em),
                    ChangeTag::Insert => ("+", &green, &green_em),
                    ChangeTag::Equal => (" ", &Style::new(), &Style::new()),
                };
                out.push_str(&base.apply_to(sign).to_string());
                for (emphasized, text) in change.iter_strings_lossy() {
                    let text = text.trim_end_matches(['\n', '\r']);
                    let style = if emphasized { em } else { base };
                    out.push_str(&style.apply_to(text).to_string());
                }
                out.push('\n');
                if change.missing_newline() {
                    out.push_str("\\ No newline at end of file\n");
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    fn patch() -> Patch {
        Patch {
            files: vec![
                FileChange {
                    path: "src/stats.py".into(),
                    old: Some(
                        "def average(xs):\n    total = sum(xs)\n    return total / (len(xs) - 1)\n"
                            .into(),
                    ),
                    new: Some(
                        "def average(xs):\n    total = sum(xs)\n    return total / len(xs)\n"
                            .into(),
                    ),
                },
                FileChange {
                    path: "new.txt".into(),
                    old: None,
                    new: Some("one\ntwo\n".into()),
                },
                FileChange {
                    path: "gone.txt".into(),
                    old: Some("bye\n".into()),
                    new: None,
                },
                FileChange {
                    path: "crlf.txt".into(),
                    old: Some("a\r\nb\r\n".into()),
                    new: Some("a\r\nc\r\n".into()),
                },
                FileChange {
                    path: "tail.txt".into(),
                    old: Some("x\ny".into()),
                    new: Some("x\nz".into()),
                },
                FileChange {
                    path: "empty.txt".into(),
                    old: None,
                    new: Some(String::new()),
                },
            ],
            notes: vec![],
        }
    }

    #[test]
    fn stats_count_like_git() {
        let stats = diff_stats(&patch());
        assert_eq!(
            stats.to_string(),
            "6 files changed, 5 insertions(+), 4 deletions(-)"
        );
        let one = Patch {
            files: vec![patch().files[0].clone()],
            notes: vec![],
        };
        assert_eq!(
            diff_stats(&one).to_string(),
            "1 file changed, 1 insertion(+), 1 deletion(-)"
        );
        assert_eq!(
            diff_stats(&one).files[0],
            FileStat {
                path: "src/stats.py".into(),
                insertions: 1,
                deletions: 1
            }
        );
    }

    #[test]
    fn git_diff_has_git_headers_and_context() {
        let text = git_diff(&patch());
        assert!(text.starts_with(
            "diff --git a/src/stats.py b/src/stats.py\n--- a/src/stats.py\n+++ b/src/stats.py\n@@ -1,3 +1,3 @@\n def average(xs):\n"
        ), "{text}");
        assert!(text.contains(
            "new file mode 100644\n--- /dev/null\n+++ b/new.txt\n@@ -0,0 +1,2 @@\n+one\n+two\n"
        ));
        assert!(text.contains(
            "deleted file mode 100644\n--- a/gone.txt\n+++ /dev/null\n@@ -1 +0,0 @@\n-bye\n"
        ));
        assert!(
            text.contains("-y\n\\ No newline at end of file\n+z\n\\ No newline at end of file\n"),
            "{text}"
        );
    }

    #[test]
    fn compact_diff_has_no_git_lines_and_less_context() {
        let text = compact_diff(&patch(), 1);
        assert!(
            text.starts_with(
                "--- a/src/stats.py\n+++ b/src/stats.py\n@@ -2,2 +2,2 @@\n     total = sum(xs)\n-"
            ),
            "{text}"
        );
        assert!(text.contains("--- /dev/null\n+++ b/new.txt\n@@ -0,0 +1,2 @@\n+one\n"));
        assert!(text.contains("--- a/gone.txt\n+++ /dev/null\n"));
        assert!(!text.contains("diff --git") && !text.contains("mode 100644"));
    }

    #[test]
    fn plain_render_has_no_escapes_and_ends_with_stats() {
        let text = render_diff(&patch(), false);
        assert!(!text.contains('\x1b'));
        assert!(text.contains(" src/stats.py | 2 +-\n"), "{text}");
        assert!(
            text.ends_with(" 6 files changed, 5 insertions(+), 4 deletions(-)\n"),
            "{text}"
        );
    }

    #[test]
    fn colored_render_highlights_changed_words() {
        let text = render_diff(&patch(), true);
        let red_reverse = Style::new()
            .red()
            .reverse()
            .force_styling(true)
            .apply_to("(len(xs) - 1)")
            .to_string();
        assert!(text.contains('\x1b'));
        assert!(
            text.contains(&red_reverse) || text.contains("\x1b[7m"),
            "{text:?}"
        );
        let stripped = console::strip_ansi_codes(&text);
        assert!(
            stripped.contains("-    return total / (len(xs) - 1)\n+    return total / len(xs)\n"),
            "{stripped}"
        );
    }

    #[test]
    fn git_apply_accepts_the_plain_diff() {
        if Command::new("git").arg("--version").output().is_err() {
            eprintln!("git not installed; skipping");
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let p = patch();
        for f in &p.files {
            if let Some(old) = &f.old {
                let full = dir.path().join(&f.path);
                std::fs::create_dir_all(full.parent().unwrap()).unwrap();
                std::fs::write(full, old).unwrap();
            }
        }
        let git = |args: &[&str]| {
            Command::new("git")
                .args(args)
                .current_dir(dir.path())
                .output()
                .unwrap()
        };
        assert!(git(&["init", "-q"]).status.success());
        std::fs::write(dir.path().join("p.diff"), git_diff(&p)).unwrap();
        let check = git(&["apply", "--check", "p.diff"]);
        assert!(
            check.status.success(),
            "{}",
            String::from_utf8_lossy(&check.stderr)
        );
        assert!(git(&["apply", "p.diff"]).status.success());
        for f in &p.files {
            let now = std::fs::read_to_string(dir.path().join(&f.path)).ok();
            assert_eq!(now, f.new, "{}", f.path);
        }
    }
}
