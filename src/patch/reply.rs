//! What the model said, before any edit format is read: the reply's line endings, a JSON
//! envelope around the patch, fenced code blocks (nested, or cut off), the file paths
//! models write in prose, headings and fence info strings, and the ` 12| ` line-number
//! gutters they copy from the prompt. [`super::parse`] reads the edit formats out of this.

use super::Edit;

// ---------------------------------------------------------------------------------------
// The reply as a whole

/// The context shows code as ` 12| code`; small models copy that gutter into their
/// edits. When every non-blank line of a block carries one, it is removed.
pub(super) fn strip_gutters(edit: Edit) -> Edit {
    match edit {
        Edit::Replace {
            path,
            search,
            replace,
        } if has_gutters(&search) => Edit::Replace {
            path,
            search: without_gutters(&search),
            replace: if has_gutters(&replace) {
                without_gutters(&replace)
            } else {
                replace
            },
        },
        Edit::WholeFile { path, content } if has_gutters(&content) => Edit::WholeFile {
            path,
            content: without_gutters(&content),
        },
        other => other,
    }
}

fn gutter_len(line: &str) -> Option<usize> {
    let lead = line.len() - line.trim_start().len();
    let rest = &line[lead..];
    let n = rest.bytes().take_while(u8::is_ascii_digit).count();
    if n == 0 || !rest[n..].starts_with('|') {
        return None;
    }
    let after = &rest[n + 1..];
    Some(lead + n + 1 + usize::from(after.starts_with(' ')))
}

fn has_gutters(text: &str) -> bool {
    let mut lines = text.lines().filter(|l| !l.trim().is_empty()).peekable();
    lines.peek().is_some() && lines.all(|l| gutter_len(l).is_some())
}

fn without_gutters(text: &str) -> String {
    let mut out: String = text
        .lines()
        .map(|l| gutter_len(l).map_or(l, |n| &l[n..]))
        .collect::<Vec<_>>()
        .join("\n");
    if text.ends_with('\n') {
        out.push('\n');
    }
    out
}

/// CRLF and lone CR become LF; a leading BOM is dropped. Line endings in a reply carry no
/// meaning: planning re-applies the target file's own line endings.
pub(super) fn normalize_newlines(reply: &str) -> String {
    let reply = reply.strip_prefix('\u{feff}').unwrap_or(reply);
    reply.replace("\r\n", "\n").replace('\r', "\n")
}

/// Some prompts ask for JSON `{"diagnosis": …, "patch": "…"}`; take the decoded `patch`
/// string when it is a valid JSON string literal.
pub(super) fn json_patch_field(text: &str) -> Option<String> {
    let re = regex::Regex::new(r#""patch"\s*:\s*""#).ok()?;
    let m = re.find(text)?;
    let literal = &text[m.end() - 1..];
    let mut stream = serde_json::Deserializer::from_str(literal).into_iter::<String>();
    stream.next()?.ok()
}

// ---------------------------------------------------------------------------------------
// Paths named in prose

/// Extensionless file names that are still clearly files.
const BARE_FILE_NAMES: &[&str] = &[
    "Makefile",
    "Dockerfile",
    "Gemfile",
    "Rakefile",
    "Procfile",
    "Justfile",
    "Jenkinsfile",
    "Vagrantfile",
    "LICENSE",
    "Containerfile",
];

/// A path on a line of its own, as models write it: `src/a.rs`, `### src/a.rs`,
/// `**src/a.rs**`, `` `src/a.rs`: ``, `File: src/a.rs`, or a sentence ending in
/// `` `src/a.rs`: ``.
pub(super) fn path_from_line(line: &str) -> Option<String> {
    let mut t = line.trim().trim_start_matches('#').trim();
    for prefix in [
        "File:",
        "file:",
        "FILE:",
        "Path:",
        "path:",
        "Filename:",
        "filename:",
    ] {
        if let Some(rest) = t.strip_prefix(prefix) {
            t = rest.trim();
        }
    }
    let t = t.trim_end_matches(':').trim();
    let bare = t
        .trim_matches(|c| matches!(c, '*' | '`' | '"' | '\'' | '_'))
        .trim_end_matches(':');
    if looks_like_path(bare) {
        return Some(clean_path(bare));
    }
    last_backticked_path(line)
}

/// `In `src/a.rs`:` → `src/a.rs`, only for short lines that end with a colon.
fn last_backticked_path(line: &str) -> Option<String> {
    let t = line.trim();
    if t.len() > 100 || !t.ends_with(':') {
        return None;
    }
    let parts: Vec<&str> = t.split('`').collect();
    parts
        .iter()
        .enumerate()
        .rev()
        .filter(|(i, _)| i % 2 == 1)
        .map(|(_, p)| *p)
        .find(|p| looks_like_path(p))
        .map(clean_path)
}

/// Fence info strings such as `python stats.py`, `stats.py`, `rust:src/a.rs`,
/// `py title="a.py"` or `diff path=a.py`.
pub(super) fn path_from_fence_info(fence: &str) -> Option<String> {
    let info = fence.trim_start_matches(['`', '~']).trim();
    info.split(|c: char| c.is_whitespace() || c == ':' || c == ',')
        .map(|tok| {
            let tok = tok.rsplit('=').next().unwrap_or(tok);
            tok.trim_matches(|c| matches!(c, '"' | '\'' | '{' | '}'))
        })
        .find(|tok| looks_like_path(tok) && (tok.contains('.') || tok.contains('/')))
        .map(clean_path)
}

pub(super) fn looks_like_path(t: &str) -> bool {
    if t.is_empty() || t.len() > 260 || t.starts_with('-') || t.contains("://") {
        return false;
    }
    let ok_chars = t
        .chars()
        .all(|c| c.is_alphanumeric() || "_-./\\@+~".contains(c));
    if !ok_chars || t.ends_with('.') || t.chars().all(|c| c == '.' || c == '/') {
        return false;
    }
    let has_ext = t
        .rsplit(['/', '\\'])
        .next()
        .is_some_and(|n| n.contains('.'));
    has_ext || t.contains('/') || BARE_FILE_NAMES.contains(&t)
}

pub(super) fn clean_path(p: &str) -> String {
    p.trim().replace('\\', "/")
}

// ---------------------------------------------------------------------------------------
// Fenced code blocks

pub(super) fn is_fence(line: &str) -> bool {
    let t = line.trim_start();
    t.starts_with("```") || t.starts_with("~~~")
}

/// True when the reply opens a fence it never closes: a sign that it was cut off.
pub(super) fn ends_inside_fence(lines: &[&str]) -> bool {
    lines.iter().filter(|l| is_fence(l)).count() % 2 == 1
}

/// Info strings of blocks that show output or a diff, never a file's content.
const NOT_SOURCE: &[&str] = &[
    "",
    "text",
    "txt",
    "console",
    "log",
    "output",
    "sh",
    "shell",
    "bash",
    "zsh",
    "diff",
    "patch",
    "plaintext",
    "shell-session",
];

/// A fenced block of the reply: its language (the first word of the info string), the
/// file it names, and its content with a final newline.
pub(super) struct CodeBlock {
    pub info: String,
    pub path: Option<String>,
    pub content: String,
}

impl CodeBlock {
    /// False for blocks that show output, a shell session or a diff: never a file's content.
    pub(super) fn may_be_source(&self) -> bool {
        !NOT_SOURCE.contains(&self.info.to_ascii_lowercase().as_str())
    }
}

/// A fence the reply opens and never closes: it was cut off inside the block that names
/// `path` (when it names one).
#[derive(Debug)]
pub(super) struct Unclosed {
    pub path: Option<String>,
}

/// Top-level fenced blocks. A fence line with an info string inside an open block opens a
/// nested block (models nest ```python inside ```markdown); a bare fence closes the
/// innermost one. A block still open at the end of the reply means it was cut off.
pub(super) fn code_blocks(lines: &[&str]) -> Result<Vec<CodeBlock>, Unclosed> {
    let mut blocks = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if !is_fence(lines[i]) {
            i += 1;
            continue;
        }
        let open = lines[i].trim();
        let info = open.trim_start_matches(['`', '~']).trim();
        let path = path_from_fence_info(open).or_else(|| line_before_path(lines, i));
        let Some(end) = closing_fence(lines, i) else {
            return Err(Unclosed { path });
        };
        let lang = info
            .split(|c: char| c.is_whitespace() || c == ':')
            .next()
            .unwrap_or("");
        let mut content = lines[i + 1..end].join("\n");
        content.push('\n');
        blocks.push(CodeBlock {
            info: lang.to_string(),
            path,
            content,
        });
        i = end + 1;
    }
    Ok(blocks)
}

fn closing_fence(lines: &[&str], open: usize) -> Option<usize> {
    let fence_char = lines[open].trim_start().chars().next()?;
    let fence_len = lines[open]
        .trim_start()
        .chars()
        .take_while(|&c| c == fence_char)
        .count();
    let mut depth = 0usize;
    for (k, line) in lines.iter().enumerate().skip(open + 1) {
        let t = line.trim();
        let n = t.chars().take_while(|&c| c == fence_char).count();
        if n < 3 {
            continue;
        }
        let rest = t[n..].trim();
        if !rest.is_empty() {
            depth += 1;
        } else if depth > 0 && n < fence_len.max(4) {
            depth -= 1;
        } else if n >= fence_len {
            return Some(k);
        }
    }
    None
}

/// The path written on the line just above a fence (blank lines skipped).
fn line_before_path(lines: &[&str], fence: usize) -> Option<String> {
    let line = lines[..fence].iter().rev().find(|l| !l.trim().is_empty())?;
    if is_fence(line) {
        return None;
    }
    path_from_line(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_named_in_prose_headings_and_fence_info() {
        assert_eq!(path_from_line("stats.py:").as_deref(), Some("stats.py"));
        assert_eq!(
            path_from_line("## `src/lib.rs`").as_deref(),
            Some("src/lib.rs")
        );
        assert_eq!(
            path_from_line("File: src\\win\\a.cs").as_deref(),
            Some("src/win/a.cs")
        );
        assert_eq!(path_from_line("Makefile").as_deref(), Some("Makefile"));
        assert_eq!(path_from_line("Here is the fix:"), None);
        assert_eq!(path_from_line("Done."), None);
        assert_eq!(path_from_line("see https://x.io/a.py"), None);
        assert_eq!(
            path_from_fence_info("```py title=\"app/m.py\"").as_deref(),
            Some("app/m.py")
        );
        assert_eq!(
            path_from_fence_info("```rust:src/a.rs").as_deref(),
            Some("src/a.rs")
        );
        assert_eq!(path_from_fence_info("```python"), None);
    }
}
