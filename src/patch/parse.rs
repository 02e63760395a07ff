//! Lenient reading of an LLM reply into [`Edit`]s.
//!
//! Real replies (see shared/tools/local-llm-samples) wrap edits in chatter and markdown
//! fences, put the file name in a fence info string, a `### heading`, bold or backticks,
//! leave it out when only one file was shown, write CRLF, get hunk line counts wrong, and
//! sometimes stop in the middle of a block. Three shapes are recognised, in this order of
//! preference: search/replace blocks, unified diffs, whole-file fenced code blocks. The
//! first shape found wins, so an illustrative code block never competes with real edits.
//! Reading around the edits (fences, paths in prose, gutters, JSON) is [`super::reply`]'s.

use super::reply::{
    CodeBlock, clean_path, code_blocks, ends_inside_fence, is_fence, json_patch_field,
    looks_like_path, normalize_newlines, path_from_fence_info, path_from_line, strip_gutters,
};
use super::{Edit, Hunk, HunkLine};

/// Why a reply could not be read as edits. The messages are fed back to the LLM.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error(
        "the reply contains no edit; answer with search/replace blocks: the file path on its own line, \
         then `<<<<<<< SEARCH`, the exact lines from the file, `=======`, the new lines, `>>>>>>> REPLACE`"
    )]
    NoEdits,
    #[error(
        "the reply was cut off in the middle of an edit block for {path}; ask for a shorter patch"
    )]
    Truncated { path: String },
    #[error(
        "search/replace block {block} for {path} has no `=======` line between `<<<<<<< SEARCH` and \
         `>>>>>>> REPLACE`; put the exact old lines above `=======` and the new lines below it"
    )]
    MissingDivider { block: usize, path: String },
}

/// Reads every edit in `reply`. Fails when there is none or the reply was cut off.
pub fn parse_reply(reply: &str) -> Result<Vec<Edit>, ParseError> {
    let text = normalize_newlines(reply);
    if let Some(inner) = json_patch_field(&text)
        && let Ok(edits) = parse_reply(&inner)
    {
        return Ok(edits);
    }
    let lines: Vec<&str> = text.split('\n').collect();
    let blocks = parse_search_replace(&lines)?;
    if !blocks.is_empty() {
        return Ok(blocks.into_iter().map(strip_gutters).collect());
    }
    let diffs = parse_diffs(&lines)?;
    if !diffs.is_empty() {
        return Ok(diffs);
    }
    let files = parse_whole_files(&lines)?;
    if !files.is_empty() {
        return Ok(files.into_iter().map(strip_gutters).collect());
    }
    Err(ParseError::NoEdits)
}

// ---------------------------------------------------------------------------------------
// Search/replace blocks

fn is_search_marker(line: &str) -> bool {
    marker(line, '<', "SEARCH") || search_marker_path(line).is_some()
}

/// `<<<<<<< SEARCH src/a.rs`: some models put the path on the marker line.
fn search_marker_path(line: &str) -> Option<String> {
    let t = line.trim();
    let n = t.chars().take_while(|&c| c == '<').count();
    let rest = t[n..].trim().strip_prefix("SEARCH")?;
    let candidate = rest.trim().trim_start_matches(':').trim();
    ((5..=9).contains(&n) && looks_like_path(candidate)).then(|| clean_path(candidate))
}

fn is_divider(line: &str) -> bool {
    let t = line.trim();
    (5..=9).contains(&t.len()) && t.chars().all(|c| c == '=')
}

fn is_replace_marker(line: &str) -> bool {
    marker(line, '>', "REPLACE")
}

/// `<<<<<<< SEARCH`, tolerating 5 to 9 marker characters and a missing space.
fn marker(line: &str, ch: char, word: &str) -> bool {
    let t = line.trim();
    let n = t.chars().take_while(|&c| c == ch).count();
    (5..=9).contains(&n) && t[n..].trim() == word
}

fn parse_search_replace(lines: &[&str]) -> Result<Vec<Edit>, ParseError> {
    let mut edits = Vec::new();
    let mut last_path: Option<String> = None;
    let mut i = 0;
    while i < lines.len() {
        if !is_search_marker(lines[i]) {
            i += 1;
            continue;
        }
        let path = search_marker_path(lines[i]).or_else(|| path_before(lines, i, &last_path));
        let label = path.clone().unwrap_or_else(|| "an unnamed file".into());
        let (search, replace, next) = read_block(lines, i + 1, edits.len() + 1, &label)?;
        edits.push(Edit::Replace {
            path: path.clone(),
            search,
            replace,
        });
        last_path = path;
        i = next;
    }
    Ok(edits)
}

/// Reads the SEARCH and REPLACE parts of a block starting after its `<<<<<<< SEARCH` line.
/// Returns them and the index of the line after `>>>>>>> REPLACE`.
fn read_block(
    lines: &[&str],
    start: usize,
    block: usize,
    label: &str,
) -> Result<(String, String, usize), ParseError> {
    let truncated = || ParseError::Truncated {
        path: label.to_string(),
    };
    let mut i = start;
    while i < lines.len() && !is_divider(lines[i]) {
        if is_replace_marker(lines[i]) || is_search_marker(lines[i]) {
            return Err(ParseError::MissingDivider {
                block,
                path: label.to_string(),
            });
        }
        i += 1;
    }
    if i == lines.len() {
        return Err(truncated());
    }
    let search = join_lines(&lines[start..i]);
    let replace_start = i + 1;
    let mut j = replace_start;
    while j < lines.len() && !is_replace_marker(lines[j]) && !is_search_marker(lines[j]) {
        j += 1;
    }
    if j == lines.len() || is_search_marker(lines[j]) {
        return Err(truncated());
    }
    Ok((search, join_lines(&lines[replace_start..j]), j + 1))
}

/// Lines with a `\n` after each, so an empty part and a single blank line differ.
fn join_lines(lines: &[&str]) -> String {
    lines.iter().flat_map(|l| [*l, "\n"]).collect()
}

/// The file a block belongs to: the nearest non-blank line above it (skipping fence
/// lines, whose info string may itself name the file). A block that directly follows
/// another block inherits its path.
fn path_before(lines: &[&str], at: usize, last_path: &Option<String>) -> Option<String> {
    let mut fence_path = None;
    for line in lines[..at].iter().rev().take(8) {
        let t = line.trim();
        if t.is_empty() {
            continue;
        }
        if is_fence(t) {
            fence_path = fence_path.or_else(|| path_from_fence_info(t));
            continue;
        }
        if is_replace_marker(t) {
            return fence_path.or_else(|| last_path.clone());
        }
        return path_from_line(t).or(fence_path);
    }
    fence_path
}

// ---------------------------------------------------------------------------------------
// Unified diffs

/// A `diff --git`/`---`/`+++` header or a bare hunk, while reading a diff.
#[derive(Default)]
struct DiffFile {
    old: Option<String>,
    new: Option<String>,
    git_path: Option<String>,
    hunks: Vec<Hunk>,
    /// Line index where this file's section started, to find a path named above it.
    start: usize,
}

fn parse_diffs(lines: &[&str]) -> Result<Vec<Edit>, ParseError> {
    let mut files: Vec<DiffFile> = Vec::new();
    let mut i = 0;
    let mut last_hunk_end = 0;
    while i < lines.len() {
        let line = lines[i];
        if let Some(rest) = line.strip_prefix("diff --git ") {
            files.push(DiffFile {
                git_path: git_header_path(rest),
                start: i,
                ..Default::default()
            });
            i += 1;
        } else if is_file_header_pair(lines, i) {
            let continues = files
                .last()
                .is_some_and(|f| f.hunks.is_empty() && f.old.is_none());
            if !continues {
                files.push(DiffFile {
                    start: i,
                    ..Default::default()
                });
            }
            let f = files.last_mut().expect("pushed above");
            f.old = Some(header_path(&line[4..]));
            f.new = Some(header_path(&lines[i + 1][4..]));
            i += 2;
        } else if line.starts_with("@@") {
            if files.is_empty() {
                files.push(DiffFile {
                    start: i,
                    ..Default::default()
                });
            }
            let (hunk, next) = read_hunk(lines, i);
            files.last_mut().expect("non-empty").hunks.push(hunk);
            last_hunk_end = next;
            i = next;
        } else {
            i += 1;
        }
    }
    if !files.is_empty() && last_hunk_end == lines.len() && ends_inside_fence(lines) {
        let label = files
            .last()
            .and_then(diff_path)
            .unwrap_or_else(|| "an unnamed file".into());
        return Err(ParseError::Truncated { path: label });
    }
    Ok(files
        .into_iter()
        .filter_map(|f| diff_edit(f, lines))
        .collect())
}

/// `--- x` directly followed by `+++ y`; a lone `--- ` line is a removed `-- ` line.
fn is_file_header_pair(lines: &[&str], i: usize) -> bool {
    lines[i].starts_with("--- ") && lines.get(i + 1).is_some_and(|l| l.starts_with("+++ "))
}

/// `a/src/x.rs b/src/x.rs` → `src/x.rs` (the `b/` side).
fn git_header_path(rest: &str) -> Option<String> {
    let idx = rest.find(" b/")?;
    Some(clean_path(&rest[idx + 3..]))
}

/// `a/src/x.rs\t2024-01-01 …` → `src/x.rs`; `/dev/null` stays as it is.
fn header_path(raw: &str) -> String {
    let p = raw.split('\t').next().unwrap_or(raw).trim();
    let p = p.trim_matches('"');
    if p == "/dev/null" {
        return p.to_string();
    }
    let p = p
        .strip_prefix("a/")
        .or_else(|| p.strip_prefix("b/"))
        .unwrap_or(p);
    clean_path(p)
}

/// Reads one hunk starting at its `@@` line. Line counts in the header are ignored (models
/// get them wrong); the hunk ends at the first line that is not part of a diff.
fn read_hunk(lines: &[&str], at: usize) -> (Hunk, usize) {
    let mut hunk = Hunk {
        old_start: hunk_old_start(lines[at]),
        lines: Vec::new(),
    };
    let mut i = at + 1;
    while i < lines.len() {
        let line = lines[i];
        if line.starts_with("@@") || line.starts_with("diff --git ") || is_fence(line) {
            break;
        }
        if is_file_header_pair(lines, i) {
            break;
        }
        match line.chars().next() {
            None => hunk.lines.push(HunkLine::Context(String::new())),
            Some(' ') => hunk.lines.push(HunkLine::Context(line[1..].to_string())),
            Some('-') => hunk.lines.push(HunkLine::Remove(line[1..].to_string())),
            Some('+') => hunk.lines.push(HunkLine::Add(line[1..].to_string())),
            Some('\\') => {}
            Some(_) => break,
        }
        i += 1;
    }
    while matches!(hunk.lines.last(), Some(HunkLine::Context(s)) if s.trim().is_empty()) {
        hunk.lines.pop();
    }
    (hunk, i)
}

/// `@@ -12,7 +12,8 @@` → `Some(12)`.
fn hunk_old_start(header: &str) -> Option<usize> {
    let rest = header
        .trim_start_matches('@')
        .trim_start()
        .strip_prefix('-')?;
    let num: String = rest.chars().take_while(char::is_ascii_digit).collect();
    num.parse().ok()
}

fn diff_path(f: &DiffFile) -> Option<String> {
    let pick = |p: &Option<String>| p.clone().filter(|p| p != "/dev/null");
    pick(&f.new)
        .or_else(|| pick(&f.old))
        .or_else(|| f.git_path.clone())
}

fn diff_edit(f: DiffFile, lines: &[&str]) -> Option<Edit> {
    let new_file = f.old.as_deref() == Some("/dev/null");
    let delete = f.new.as_deref() == Some("/dev/null");
    let hunks: Vec<Hunk> = f
        .hunks
        .iter()
        .filter(|h| !h.lines.is_empty())
        .cloned()
        .collect();
    if hunks.is_empty() && !delete {
        return None;
    }
    let path = diff_path(&f).or_else(|| path_before(lines, f.start, &None));
    Some(Edit::Diff {
        path,
        new_file,
        delete,
        hunks,
    })
}

// ---------------------------------------------------------------------------------------
// Whole-file code blocks

fn parse_whole_files(lines: &[&str]) -> Result<Vec<Edit>, ParseError> {
    let blocks = code_blocks(lines).map_err(|cut| ParseError::Truncated {
        path: cut.path.unwrap_or_else(|| "an unnamed file".into()),
    })?;
    let named: Vec<Edit> = blocks
        .iter()
        .filter_map(|b| {
            let path = b.path.clone()?;
            Some(Edit::WholeFile {
                path: Some(path),
                content: b.content.clone(),
            })
        })
        .collect();
    if !named.is_empty() {
        return Ok(named);
    }
    let unnamed: Vec<&CodeBlock> = blocks.iter().filter(|b| b.may_be_source()).collect();
    match unnamed.as_slice() {
        [only] => Ok(vec![Edit::WholeFile {
            path: None,
            content: only.content.clone(),
        }]),
        _ => Ok(Vec::new()),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn line_number_gutters_copied_from_the_context_are_removed() {
        let reply = "calc.py\n<<<<<<< SEARCH\n 12|     for i in range(n):\n 13|         total += i\n=======\n 12|     for i in range(n + 1):\n 13|         total += i\n>>>>>>> REPLACE\n";
        let edits = parse_reply(reply).unwrap();
        let Edit::Replace {
            search, replace, ..
        } = &edits[0]
        else {
            panic!("{edits:?}")
        };
        assert_eq!(search, "    for i in range(n):\n        total += i\n");
        assert_eq!(replace, "    for i in range(n + 1):\n        total += i\n");
        let plain = "a.py\n<<<<<<< SEARCH\nx = a | b\n=======\nx = a & b\n>>>>>>> REPLACE\n";
        let Edit::Replace { search, .. } = &parse_reply(plain).unwrap()[0] else {
            panic!()
        };
        assert_eq!(search, "x = a | b\n");
    }

    use super::*;

    /// Replies recorded from a local model (shared/tools/local-llm-samples), kept verbatim.
    fn sample(name: &str) -> String {
        let text = match name {
            "coder-rust-diagnosis.txt" => include_str!("testdata/coder-rust-diagnosis.txt"),
            "coder-search-replace.txt" => include_str!("testdata/coder-search-replace.txt"),
            "coder-search-replace-fewshot.txt" => {
                include_str!("testdata/coder-search-replace-fewshot.txt")
            }
            "coder-unified-diff.txt" => include_str!("testdata/coder-unified-diff.txt"),
            "tiny-search-replace-fewshot.txt" => {
                include_str!("testdata/tiny-search-replace-fewshot.txt")
            }
            other => panic!("no sample {other}"),
        };
        let start = text.find("<<<REPLY\n").expect("reply start") + "<<<REPLY\n".len();
        let end = text.rfind("REPLY>>>").expect("reply end");
        text[start..end].to_string()
    }

    fn replace(path: Option<&str>, search: &str, replace: &str) -> Edit {
        let with_newlines = |s: &str| {
            if s.is_empty() {
                String::new()
            } else {
                format!("{s}\n")
            }
        };
        Edit::Replace {
            path: path.map(String::from),
            search: with_newlines(search),
            replace: with_newlines(replace),
        }
    }

    #[test]
    fn plain_block_with_path_line() {
        let r = "stats.py\n<<<<<<< SEARCH\n    return a\n=======\n    return b\n>>>>>>> REPLACE\n";
        assert_eq!(
            parse_reply(r).unwrap(),
            vec![replace(Some("stats.py"), "    return a", "    return b")]
        );
    }

    #[test]
    fn sample_fewshot_keeps_the_example_path() {
        let edits = parse_reply(&sample("coder-search-replace-fewshot.txt")).unwrap();
        assert_eq!(
            edits,
            vec![replace(
                Some("path/to/file.py"),
                "    return total / (len(xs) - 1)",
                "    return total / len(xs)"
            )]
        );
    }

    #[test]
    fn sample_tiny_model_echo_with_trailing_chatter() {
        let edits = parse_reply(&sample("tiny-search-replace-fewshot.txt")).unwrap();
        assert_eq!(
            edits,
            vec![replace(
                Some("path/to/file.py"),
                "    return a - b",
                "    return a + b"
            )]
        );
    }

    #[test]
    fn sample_whole_file_python_block_without_path() {
        let edits = parse_reply(&sample("coder-search-replace.txt")).unwrap();
        let [
            Edit::WholeFile {
                path: None,
                content,
            },
        ] = edits.as_slice()
        else {
            panic!("expected one pathless whole file, got {edits:?}");
        };
        assert!(content.starts_with("def average(xs):\n"));
        assert!(content.ends_with("    return total / len(xs)\n"));
    }

    #[test]
    fn sample_unified_diff_in_chatter_with_wrong_counts() {
        let edits = parse_reply(&sample("coder-unified-diff.txt")).unwrap();
        let [
            Edit::Diff {
                path,
                new_file: false,
                delete: false,
                hunks,
            },
        ] = edits.as_slice()
        else {
            panic!("expected one diff, got {edits:?}");
        };
        assert_eq!(path.as_deref(), Some("stats.py"));
        assert_eq!(hunks.len(), 1);
        assert_eq!(hunks[0].old_start, Some(3));
        assert_eq!(hunks[0].lines.len(), 7);
        assert_eq!(
            hunks[0].lines[3],
            HunkLine::Remove("    for x in xs:".into())
        );
    }

    #[test]
    fn sample_json_with_triple_quoted_diff() {
        let edits = parse_reply(&sample("coder-rust-diagnosis.txt")).unwrap();
        let [Edit::Diff { path, hunks, .. }] = edits.as_slice() else {
            panic!("expected one diff, got {edits:?}");
        };
        assert_eq!(path.as_deref(), Some("src/lib.rs"));
        assert!(
            hunks[0]
                .lines
                .contains(&HunkLine::Add("    n as u16".into()))
        );
    }

    #[test]
    fn json_patch_string_is_decoded() {
        let r = r#"{"diagnosis": "x", "patch": "--- a/f.rs\n+++ b/f.rs\n@@ -1 +1 @@\n-a\n+b\n"}"#;
        let edits = parse_reply(r).unwrap();
        assert_eq!(
            edits,
            vec![Edit::Diff {
                path: Some("f.rs".into()),
                new_file: false,
                delete: false,
                hunks: vec![Hunk {
                    old_start: Some(1),
                    lines: vec![HunkLine::Remove("a".into()), HunkLine::Add("b".into())]
                }]
            }]
        );
    }

    #[test]
    fn crlf_and_fenced_blocks_with_heading_paths() {
        let r = "Sure!\r\n\r\n### src/a.rs\r\n```rust\r\n<<<<<<< SEARCH\r\nfn a() {}\r\n=======\r\nfn a() { 1 }\r\n>>>>>>> REPLACE\r\n```\r\n\r\n**src/b.rs**\r\n```rust\r\n<<<<<<< SEARCH\r\nx\r\n=======\r\ny\r\n>>>>>>> REPLACE\r\n```\r\nDone.";
        assert_eq!(
            parse_reply(r).unwrap(),
            vec![
                replace(Some("src/a.rs"), "fn a() {}", "fn a() { 1 }"),
                replace(Some("src/b.rs"), "x", "y")
            ]
        );
    }

    #[test]
    fn path_in_fence_info_and_inherited_by_following_block() {
        let r = "```python stats.py\n<<<<<<< SEARCH\na\n=======\nb\n>>>>>>> REPLACE\n<<<<<<< SEARCH\nc\n=======\nd\n>>>>>>> REPLACE\n```";
        assert_eq!(
            parse_reply(r).unwrap(),
            vec![
                replace(Some("stats.py"), "a", "b"),
                replace(Some("stats.py"), "c", "d")
            ]
        );
    }

    #[test]
    fn path_on_the_search_marker_line() {
        let r = "<<<<<<< SEARCH src/a.rs\nx\n=======\ny\n>>>>>>> REPLACE\n";
        assert_eq!(
            parse_reply(r).unwrap(),
            vec![replace(Some("src/a.rs"), "x", "y")]
        );
    }

    #[test]
    fn missing_path_is_none_and_empty_search_is_kept() {
        let r = "Here is the fix\n<<<<<<< SEARCH\n=======\nnew file\n>>>>>>> REPLACE";
        assert_eq!(parse_reply(r).unwrap(), vec![replace(None, "", "new file")]);
    }

    #[test]
    fn truncated_block_names_the_file() {
        let r = "src/lib.rs\n<<<<<<< SEARCH\nfn a() {}\n=======\nfn a() {\n    let x =";
        let err = parse_reply(r).unwrap_err();
        assert_eq!(
            err,
            ParseError::Truncated {
                path: "src/lib.rs".into()
            }
        );
        assert!(
            err.to_string()
                .contains("cut off in the middle of an edit block for src/lib.rs")
        );
    }

    #[test]
    fn truncated_before_divider() {
        let r = "a.py\n<<<<<<< SEARCH\nfoo";
        assert_eq!(
            parse_reply(r).unwrap_err(),
            ParseError::Truncated {
                path: "a.py".into()
            }
        );
    }

    #[test]
    fn missing_divider_is_reported() {
        let r = "a.py\n<<<<<<< SEARCH\nfoo\n>>>>>>> REPLACE\n";
        assert_eq!(
            parse_reply(r).unwrap_err(),
            ParseError::MissingDivider {
                block: 1,
                path: "a.py".into()
            }
        );
    }

    #[test]
    fn truncated_diff_inside_open_fence() {
        let r = "```diff\n--- a/x.c\n+++ b/x.c\n@@ -1,3 +1,3 @@\n int a;\n-int b;\n+int";
        assert_eq!(
            parse_reply(r).unwrap_err(),
            ParseError::Truncated { path: "x.c".into() }
        );
    }

    #[test]
    fn truncated_whole_file_block() {
        let r = "src/x.rs\n```rust\nfn main() {\n";
        assert_eq!(
            parse_reply(r).unwrap_err(),
            ParseError::Truncated {
                path: "src/x.rs".into()
            }
        );
    }

    #[test]
    fn no_edits_is_an_error_that_explains_the_format() {
        let err = parse_reply("I think the test is flaky; rerun it.").unwrap_err();
        assert_eq!(err, ParseError::NoEdits);
        assert!(err.to_string().contains("<<<<<<< SEARCH"));
        assert_eq!(
            parse_reply("Log:\n```\n$ make\nerror\n```\n").unwrap_err(),
            ParseError::NoEdits
        );
    }

    #[test]
    fn diff_git_headers_new_and_deleted_files() {
        let r = "diff --git a/new.txt b/new.txt\nnew file mode 100644\nindex 0000000..1111111\n--- /dev/null\n+++ b/new.txt\n@@ -0,0 +1,2 @@\n+hello\n+world\ndiff --git a/old.txt b/old.txt\ndeleted file mode 100644\n--- a/old.txt\n+++ /dev/null\n@@ -1 +0,0 @@\n-bye\n";
        let edits = parse_reply(r).unwrap();
        assert_eq!(edits.len(), 2);
        assert!(
            matches!(&edits[0], Edit::Diff { path: Some(p), new_file: true, .. } if p == "new.txt")
        );
        assert!(
            matches!(&edits[1], Edit::Diff { path: Some(p), delete: true, .. } if p == "old.txt")
        );
    }

    #[test]
    fn headerless_hunk_takes_path_from_line_above() {
        let r = "In `src/main.rs`:\n```diff\n@@ -1,2 +1,2 @@\n fn main() {\n-    old();\n+    new();\n```\n";
        let edits = parse_reply(r).unwrap();
        assert!(
            matches!(&edits[0], Edit::Diff { path: Some(p), .. } if p == "src/main.rs"),
            "{edits:?}"
        );
    }

    #[test]
    fn blank_hunk_lines_are_context_and_trailing_blanks_dropped() {
        let r = "--- a/x\n+++ b/x\n@@ -1,4 +1,4 @@\n a\n\n-b\n+c\n\nThat is all.";
        let Edit::Diff { hunks, .. } = &parse_reply(r).unwrap()[0] else {
            panic!()
        };
        assert_eq!(
            hunks[0].lines,
            vec![
                HunkLine::Context("a".into()),
                HunkLine::Context("".into()),
                HunkLine::Remove("b".into()),
                HunkLine::Add("c".into())
            ]
        );
    }

    #[test]
    fn named_code_blocks_become_whole_files_and_nested_fences_survive() {
        let r = "README.md\n````markdown\n# T\n```sh\nmake\n```\n````\n\n`src/a.rs`:\n```rust\nfn a() {}\n```\n";
        assert_eq!(
            parse_reply(r).unwrap(),
            vec![
                Edit::WholeFile {
                    path: Some("README.md".into()),
                    content: "# T\n```sh\nmake\n```\n".into()
                },
                Edit::WholeFile {
                    path: Some("src/a.rs".into()),
                    content: "fn a() {}\n".into()
                },
            ]
        );
    }

    #[test]
    fn nested_fence_with_info_inside_triple_backticks() {
        let r = "docs/x.md\n```markdown\nintro\n```python\nprint(1)\n```\nend\n```\n";
        assert_eq!(
            parse_reply(r).unwrap(),
            vec![Edit::WholeFile {
                path: Some("docs/x.md".into()),
                content: "intro\n```python\nprint(1)\n```\nend\n".into()
            }]
        );
    }

    #[test]
    fn two_unnamed_source_blocks_are_ambiguous() {
        let r = "```python\na = 1\n```\nor\n```python\na = 2\n```\n";
        assert_eq!(parse_reply(r).unwrap_err(), ParseError::NoEdits);
    }

    proptest::proptest! {
        #[test]
        fn never_panics_on_arbitrary_text(s in "\\PC*") {
            let _ = parse_reply(&s);
        }

        #[test]
        fn never_panics_on_marker_soup(parts in proptest::collection::vec(proptest::sample::select(vec![
            "<<<<<<< SEARCH", "=======", ">>>>>>> REPLACE", "```", "```rust a.rs", "@@ -1 +1 @@",
            "--- a/x", "+++ b/x", "-x", "+y", " z", "", "a.py", "diff --git a/x b/x", "\r", "\\", "@@",
        ]), 0..30)) {
            let _ = parse_reply(&parts.join("\n"));
        }
    }
}
