//! `cargo fmt --check` / `rustfmt --check` diffs and `--files-with-diff` file lists.

use super::*;

/// rustfmt `--check` diffs (`Diff in f.rs:12:`, older `Diff in f.rs at line 12:`), reported
/// at the first changed line; in a format-only step, the bare file list of `-l`.
pub(super) fn format_diffs(lines: &[String], ctx: &Context) -> Vec<Found> {
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let Some(c) = DIFF_IN.captures(line) else {
            continue;
        };
        let start: u32 = c
            .get(2)
            .or(c.get(3))
            .and_then(|m| m.as_str().parse().ok())
            .unwrap_or(1);
        let hunk: Vec<&String> = lines[i + 1..]
            .iter()
            .take_while(|l| l.is_empty() || l.starts_with([' ', '+', '-']) && !DIFF_IN.is_match(l))
            .collect();
        let context = hunk
            .iter()
            .take_while(|l| !l.starts_with(['+', '-']))
            .count() as u32;
        let failure = Failure::new("rustfmt", Kind::Format, line.trim())
            .at(c[1].to_string(), Some(start + context), None)
            .with_excerpt(&window(lines, i, 0, hunk.len().min(12)));
        out.push(Found { at: i, failure });
    }
    if out.is_empty() && ctx.fmt_only {
        out = listed_files(lines);
    }
    out
}

/// `rustfmt --check -l` / `cargo fmt -- --check -l`: one unformatted file per line.
pub(super) fn listed_files(lines: &[String]) -> Vec<Found> {
    lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.trim().ends_with(".rs") && !l.trim().contains(' '))
        .map(|(i, l)| Found {
            at: i,
            failure: Failure::new(
                "rustfmt",
                Kind::Format,
                format!("{} is not formatted", l.trim()),
            )
            .at(l.trim(), None, None)
            .with_excerpt(std::slice::from_ref(l)),
        })
        .collect()
}
