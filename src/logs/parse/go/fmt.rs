//! `gofmt -l` file lists (in steps that run a formatter) and `gofmt -d` diffs.

use super::*;

/// `gofmt -l` file lists (in a step that runs gofmt/goimports) and `gofmt -d` diffs.
pub(super) fn format_findings(lines: &[String], cmds: &str) -> Vec<Found> {
    let mut out = format_diffs(lines);
    let fmt_run = ["gofmt", "goimports", "go fmt", "gofumpt"]
        .iter()
        .any(|t| cmds.contains(t));
    if fmt_run {
        let diffed: HashSet<String> = out.iter().filter_map(|f| f.failure.file.clone()).collect();
        for (i, line) in lines.iter().enumerate() {
            let name = line.trim();
            if GO_FILE.is_match(name) && !diffed.contains(name) {
                let failure =
                    Failure::new("gofmt", Kind::Format, format!("{name} is not gofmt-ed"))
                        .at(name.trim_start_matches("./"), None, None)
                        .with_excerpt(std::slice::from_ref(line));
                out.push(Found { at: i, failure });
            }
        }
    }
    out
}

/// `diff x.go.orig x.go` blocks: reported at the first changed line of the first hunk.
pub(super) fn format_diffs(lines: &[String]) -> Vec<Found> {
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let Some(c) = DIFF_HEADER.captures(line) else {
            continue;
        };
        let Some(first) = first_changed_line(lines, i) else {
            continue;
        };
        let failure = Failure::new("gofmt", Kind::Format, line.trim())
            .at(c[1].trim_start_matches("./"), Some(first), None)
            .with_excerpt(&window(lines, i, 0, 10));
        out.push(Found { at: i, failure });
    }
    out
}
