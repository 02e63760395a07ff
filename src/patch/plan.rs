//! Resolves parsed [`Edit`]s against the repository into a [`Patch`] of whole-file
//! changes, without writing anything.
//!
//! Each SEARCH block (or diff hunk) must match its file exactly once; whitespace drift is
//! tolerated only when the relaxed match is unique (see `locate`). Diff hunks are placed by
//! context, with their line numbers used only to choose between equal candidates, and with
//! up to two context lines dropped at either end when nothing else matches (GNU patch's
//! default fuzz factor). A reply that names no file, or a file that does not exist, is
//! pointed at the files the model was shown when that choice is unambiguous.

use super::guard::{Guard, GuardError};
use super::locate::{Miss, TextFile, block_lines, locate};
use super::{Edit, FileChange, Hunk, HunkLine, Patch};

/// Why the edits could not be placed. Messages are fed back to the LLM as they are.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error(transparent)]
    Guard(#[from] GuardError),
    #[error(
        "{edit} does not name a file and {count} files were shown ({files}); put the file path on its own \
         line above `<<<<<<< SEARCH`"
    )]
    NoPath {
        edit: String,
        count: usize,
        files: String,
    },
    #[error("{edit} is for {path}, which does not exist; the files shown were: {files}")]
    FileMissing {
        edit: String,
        path: String,
        files: String,
    },
    #[error("{edit} does not match {path}: {why}")]
    NotFound {
        edit: String,
        path: String,
        why: String,
    },
    #[error(
        "{edit} matches {path} {count} times (at lines {lines}); include more surrounding lines so it \
         matches exactly once"
    )]
    Ambiguous {
        edit: String,
        path: String,
        count: usize,
        lines: String,
    },
    #[error(
        "{edit} has an empty SEARCH part but {path} already exists; copy the lines to change into SEARCH \
         (an empty SEARCH only creates a new file)"
    )]
    EmptySearch { edit: String, path: String },
    #[error(
        "{edit} creates {path}, which already exists; send a change against its current content instead"
    )]
    AlreadyExists { edit: String, path: String },
    #[error(
        "{edit} would replace all {old_lines} lines of {path} with {new_lines} lines that look like an \
         excerpt; send search/replace blocks instead of a partial file"
    )]
    LooksLikeExcerpt {
        edit: String,
        path: String,
        old_lines: usize,
        new_lines: usize,
    },
    #[error(
        "the edits leave every file unchanged (SEARCH and REPLACE are the same, or the change is already \
         there); change the code that causes the failure"
    )]
    NoChange,
}

/// Plans `edits` against the repository behind `guard`. `context_files` are the
/// repo-relative files the model was shown; they settle edits without a usable path.
pub fn plan_patch(
    edits: &[Edit],
    context_files: &[String],
    guard: &Guard,
) -> Result<Patch, PlanError> {
    let mut planner = Planner {
        guard,
        context: context_files.to_vec(),
        files: Vec::new(),
        notes: Vec::new(),
    };
    for (i, edit) in edits.iter().enumerate() {
        planner.apply_edit(i + 1, edit)?;
    }
    planner.finish()
}

/// One file as the plan goes: its content on disk and after the edits so far.
struct Entry {
    path: String,
    old: Option<String>,
    current: Option<TextFile>,
}

struct Planner<'a> {
    guard: &'a Guard,
    context: Vec<String>,
    files: Vec<Entry>,
    notes: Vec<String>,
}

impl Planner<'_> {
    fn apply_edit(&mut self, n: usize, edit: &Edit) -> Result<(), PlanError> {
        match edit {
            Edit::Replace {
                path,
                search,
                replace,
            } => {
                let label = format!("SEARCH/REPLACE block {n}");
                let search = block_lines(search);
                let creates = search.is_empty();
                let probe = (!creates).then_some(search.as_slice());
                let path = self.resolve_path(path.as_deref(), &label, probe, creates)?;
                self.apply_replace(&label, &path, &search, &block_lines(replace))
            }
            Edit::Diff {
                path,
                new_file,
                delete,
                hunks,
            } => {
                let label = format!("the diff in edit {n}");
                let probe = hunks.first().map(|h| hunk_sides(h).0);
                let path =
                    self.resolve_path(path.as_deref(), &label, probe.as_deref(), *new_file)?;
                self.apply_diff(&label, &path, *new_file, *delete, hunks)
            }
            Edit::WholeFile { path, content } => {
                let label = format!("the code block in edit {n}");
                let path = self.resolve_path(path.as_deref(), &label, None, true)?;
                self.apply_whole_file(&label, &path, content)
            }
        }
    }

    /// The file an edit applies to, following the rules in the module docs.
    fn resolve_path(
        &mut self,
        named: Option<&str>,
        label: &str,
        probe: Option<&[String]>,
        creates: bool,
    ) -> Result<String, PlanError> {
        if let Some(raw) = named {
            let rel = self.guard.check_path(raw)?;
            if self.exists(&rel)? || creates {
                return Ok(rel);
            }
            if let Some(stripped) = rel.strip_prefix("a/").or_else(|| rel.strip_prefix("b/")) {
                let stripped = self.guard.check_path(stripped)?;
                if self.exists(&stripped)? {
                    return Ok(stripped);
                }
            }
            if let Some(found) = self.guess_from_context(Some(&rel), probe)? {
                self.notes.push(format!(
                    "{label} named {rel}, which does not exist; it was applied to {found}"
                ));
                return Ok(found);
            }
            return Err(PlanError::FileMissing {
                edit: label.into(),
                path: rel,
                files: self.context_list(),
            });
        }
        if let [only] = self.context.as_slice() {
            return Ok(self.guard.check_path(&only.clone())?);
        }
        if let Some(found) = self.guess_from_context(None, probe)? {
            self.notes.push(format!(
                "{label} named no file; its SEARCH lines matched only {found}"
            ));
            return Ok(found);
        }
        Err(PlanError::NoPath {
            edit: label.into(),
            count: self.context.len(),
            files: self.context_list(),
        })
    }

    /// A context file with the same name, or the only one where the SEARCH lines match.
    fn guess_from_context(
        &mut self,
        named: Option<&str>,
        probe: Option<&[String]>,
    ) -> Result<Option<String>, PlanError> {
        let base = named.map(|p| p.rsplit('/').next().unwrap_or(p).to_string());
        let same_name: Vec<String> = self
            .context
            .iter()
            .filter(|c| {
                base.as_deref()
                    .is_some_and(|b| c.rsplit('/').next() == Some(b))
            })
            .cloned()
            .collect();
        if let [one] = same_name.as_slice() {
            return Ok(Some(self.guard.check_path(one)?));
        }
        let Some(search) = probe else { return Ok(None) };
        let mut hits = Vec::new();
        for candidate in self.context.clone() {
            let rel = self.guard.check_path(&candidate)?;
            let idx = self.load(&rel)?;
            if let Some(file) = &self.files[idx].current
                && locate(&file.texts(), search, &[], None).is_ok()
            {
                hits.push(rel);
            }
        }
        Ok(if hits.len() == 1 { hits.pop() } else { None })
    }

    fn context_list(&self) -> String {
        if self.context.is_empty() {
            "none".into()
        } else {
            self.context.join(", ")
        }
    }

    fn exists(&mut self, rel: &str) -> Result<bool, PlanError> {
        let idx = self.load(rel)?;
        Ok(self.files[idx].current.is_some())
    }

    /// Index of the entry for `rel`, reading it from disk the first time.
    fn load(&mut self, rel: &str) -> Result<usize, PlanError> {
        if let Some(i) = self.files.iter().position(|e| e.path == rel) {
            return Ok(i);
        }
        let old = self.guard.read_existing(rel)?;
        let current = old.as_deref().map(TextFile::parse);
        self.files.push(Entry {
            path: rel.into(),
            old,
            current,
        });
        Ok(self.files.len() - 1)
    }

    fn apply_replace(
        &mut self,
        label: &str,
        path: &str,
        search: &[String],
        replace: &[String],
    ) -> Result<(), PlanError> {
        let idx = self.load(path)?;
        let entry = &mut self.files[idx];
        if search.is_empty() {
            return match &entry.current {
                Some(f) if !f.render().trim().is_empty() => Err(PlanError::EmptySearch {
                    edit: label.into(),
                    path: path.into(),
                }),
                _ => {
                    entry.current = Some(new_file(replace));
                    Ok(())
                }
            };
        }
        self.splice_block(idx, label, search, replace, None)
    }

    /// Places `search` in the entry's current content and swaps in `replace`.
    fn splice_block(
        &mut self,
        idx: usize,
        label: &str,
        search: &[String],
        replace: &[String],
        hint: Option<usize>,
    ) -> Result<(), PlanError> {
        let path = self.files[idx].path.clone();
        let context = self.context_list();
        let Some(file) = &mut self.files[idx].current else {
            return Err(PlanError::FileMissing {
                edit: label.into(),
                path,
                files: context,
            });
        };
        match locate(&file.texts(), search, replace, hint) {
            Ok(found) => {
                if let Some(note) = found.note {
                    self.notes.push(format!("{label} in {path}: {note}"));
                }
                file.splice(found.range, &found.replacement);
                Ok(())
            }
            Err(Miss::NotFound(why)) => Err(PlanError::NotFound {
                edit: label.into(),
                path,
                why,
            }),
            Err(Miss::Ambiguous(lines)) => Err(PlanError::Ambiguous {
                edit: label.into(),
                path,
                count: lines.len(),
                lines: lines
                    .iter()
                    .map(usize::to_string)
                    .collect::<Vec<_>>()
                    .join(", "),
            }),
        }
    }

    fn apply_diff(
        &mut self,
        label: &str,
        path: &str,
        new: bool,
        delete: bool,
        hunks: &[Hunk],
    ) -> Result<(), PlanError> {
        let idx = self.load(path)?;
        let exists = self.files[idx]
            .current
            .as_ref()
            .is_some_and(|f| !f.render().is_empty());
        if delete {
            if self.files[idx].current.is_none() {
                return Err(PlanError::FileMissing {
                    edit: label.into(),
                    path: path.into(),
                    files: self.context_list(),
                });
            }
            self.files[idx].current = None;
            return Ok(());
        }
        if new {
            if exists {
                return Err(PlanError::AlreadyExists {
                    edit: label.into(),
                    path: path.into(),
                });
            }
            let lines: Vec<String> = hunks.iter().flat_map(|h| hunk_sides(h).1).collect();
            self.files[idx].current = Some(new_file(&lines));
            return Ok(());
        }
        for (h, hunk) in hunks.iter().enumerate() {
            let hunk_label = format!("hunk {} of {label}", h + 1);
            self.apply_hunk(idx, &hunk_label, hunk)?;
        }
        Ok(())
    }

    /// One hunk: by context; a hunk with neither context nor `-` lines is inserted at its
    /// header's line; failing all else, with up to two context lines dropped at each end.
    fn apply_hunk(&mut self, idx: usize, label: &str, hunk: &Hunk) -> Result<(), PlanError> {
        let (search, replace) = hunk_sides(hunk);
        if search.is_empty() {
            let Some(file) = &mut self.files[idx].current else {
                return Err(PlanError::FileMissing {
                    edit: label.into(),
                    path: self.files[idx].path.clone(),
                    files: self.context_list(),
                });
            };
            let at = hunk.old_start.unwrap_or(file.len()).min(file.len());
            file.splice(at..at, &replace);
            return Ok(());
        }
        let first = self.splice_block(idx, label, &search, &replace, hunk.old_start);
        let Err(err @ PlanError::NotFound { .. }) = first else {
            return first;
        };
        for (lead, trail) in [
            (1, 0),
            (0, 1),
            (1, 1),
            (2, 0),
            (0, 2),
            (2, 1),
            (1, 2),
            (2, 2),
        ] {
            let Some(trimmed) = trim_context(hunk, lead, trail) else {
                continue;
            };
            let (s, r) = hunk_sides(&trimmed);
            if s.is_empty() {
                continue;
            }
            let fuzzy_label = format!("{label} (with {} context lines ignored)", lead + trail);
            if self
                .splice_block(idx, &fuzzy_label, &s, &r, trimmed.old_start)
                .is_ok()
            {
                self.notes.push(format!(
                    "{label} in {}: applied with fuzz {}",
                    self.files[idx].path,
                    lead + trail
                ));
                return Ok(());
            }
        }
        Err(err)
    }

    fn apply_whole_file(
        &mut self,
        label: &str,
        path: &str,
        content: &str,
    ) -> Result<(), PlanError> {
        let idx = self.load(path)?;
        let new_lines = block_lines(content);
        let Some(file) = &mut self.files[idx].current else {
            self.files[idx].current = Some(new_file(&new_lines));
            return Ok(());
        };
        let old_text = file.render();
        let ratio = similar::TextDiff::from_lines(old_text.as_str(), content).ratio();
        if file.len() > 10 && new_lines.len() * 2 < file.len() && ratio < 0.5 {
            if let Some(range) = excerpt_span(&file.texts(), &new_lines) {
                let (from, to) = (range.start + 1, range.end);
                file.splice(range, &new_lines);
                self.notes.push(format!(
                    "{label}: a partial copy of {path}, placed over lines {from}-{to} where its first and last lines match"
                ));
                return Ok(());
            }
            return Err(PlanError::LooksLikeExcerpt {
                edit: label.into(),
                path: path.into(),
                old_lines: file.len(),
                new_lines: new_lines.len(),
            });
        }
        let len = file.len();
        file.splice(0..len, &new_lines);
        Ok(())
    }

    fn finish(self) -> Result<Patch, PlanError> {
        let mut files = Vec::new();
        for entry in self.files {
            let new = entry.current.map(|f| f.render());
            if new == entry.old {
                continue;
            }
            if let Some(content) = &new {
                self.guard.check_new_content(&entry.path, content)?;
            }
            files.push(FileChange {
                path: entry.path,
                old: entry.old,
                new,
            });
        }
        if files.is_empty() {
            return Err(PlanError::NoChange);
        }
        Ok(Patch {
            files,
            notes: self.notes,
        })
    }
}

/// Where an excerpt (a function or block the model rewrote) belongs: its first line must
/// match exactly one file line (ignoring indentation drift), and the span runs to the
/// last excerpt line that matches a file line shortly after. `None` when unsure.
fn excerpt_span(file: &[&str], excerpt: &[String]) -> Option<std::ops::Range<usize>> {
    let key = |s: &str| s.trim().to_string();
    let first = excerpt.iter().position(|l| !l.trim().is_empty())?;
    let starts: Vec<usize> = (0..file.len())
        .filter(|&i| key(file[i]) == key(&excerpt[first]))
        .collect();
    let [start] = starts.as_slice() else {
        return None;
    };
    let start = *start;
    let limit = (start + excerpt.len() * 2 + 5).min(file.len());
    for (idx, last) in excerpt
        .iter()
        .enumerate()
        .skip(first + 1)
        .rev()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        // Several matches (a closing brace): take the one nearest where this line would be.
        let expected = start + (idx - first);
        let found = (start + 1..limit)
            .filter(|&i| key(file[i]) == key(last))
            .min_by_key(|&i| i.abs_diff(expected));
        if let Some(end) = found {
            return Some(start.checked_sub(first)?..end + 1);
        }
    }
    None
}

/// A new file's content: the lines, each ending in `\n`.
fn new_file(lines: &[String]) -> TextFile {
    let mut file = TextFile::parse("");
    file.splice(0..0, lines);
    file
}

/// (old side, new side) of a hunk: context and `-` lines, context and `+` lines.
fn hunk_sides(hunk: &Hunk) -> (Vec<String>, Vec<String>) {
    let mut old = Vec::new();
    let mut new = Vec::new();
    for line in &hunk.lines {
        match line {
            HunkLine::Context(t) => {
                old.push(t.clone());
                new.push(t.clone());
            }
            HunkLine::Remove(t) => old.push(t.clone()),
            HunkLine::Add(t) => new.push(t.clone()),
        }
    }
    (old, new)
}

/// The hunk without `lead` leading and `trail` trailing lines, if all of them are context.
fn trim_context(hunk: &Hunk, lead: usize, trail: usize) -> Option<Hunk> {
    let n = hunk.lines.len();
    if lead + trail >= n {
        return None;
    }
    let is_context = |l: &HunkLine| matches!(l, HunkLine::Context(_));
    let edges_are_context =
        hunk.lines[..lead].iter().all(is_context) && hunk.lines[n - trail..].iter().all(is_context);
    edges_are_context.then(|| Hunk {
        old_start: hunk.old_start.map(|s| s + lead),
        lines: hunk.lines[lead..n - trail].to_vec(),
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_rewritten_function_is_placed_where_its_first_and_last_lines_match() {
        let file: Vec<String> = (1..=30).map(|i| format!("line {i}")).collect();
        let mut f: Vec<&str> = file.iter().map(String::as_str).collect();
        f[9] = "def moving_average(values, window):";
        f[12] = "    return [mean(values[i:i + window]) for i in range(len(values) - window)]";
        let excerpt: Vec<String> = [
            "def moving_average(values, window):",
            "line 11",
            "line 12",
            "    return [mean(values[i:i + window]) for i in range(len(values) - window + 1)]",
            "    return [mean(values[i:i + window]) for i in range(len(values) - window)]",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(excerpt_span(&f, &excerpt), Some(9..13));
        let unknown = vec!["def nowhere():".to_string(), "    pass".to_string()];
        assert_eq!(excerpt_span(&f, &unknown), None);
    }

    use super::*;
    use crate::patch::parse::parse_reply;
    use std::path::Path;

    const STATS: &str = "def average(xs):\n    \"\"\"Return the arithmetic mean of a non-empty list.\"\"\"\n    total = 0\n    for x in xs:\n        total += x\n    return total / (len(xs) - 1)\n";

    fn repo(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (path, content) in files {
            let full = dir.path().join(path);
            std::fs::create_dir_all(full.parent().unwrap()).unwrap();
            std::fs::write(full, content).unwrap();
        }
        dir
    }

    fn guard(dir: &Path) -> Guard {
        let mut policy = crate::patch::guard::tests_support::policy();
        policy.max_file_bytes = 1 << 20;
        Guard::new(dir, &policy, None).unwrap()
    }

    fn plan(dir: &Path, reply: &str, context: &[&str]) -> Result<Patch, PlanError> {
        let edits = parse_reply(reply).expect("reply parses");
        let context: Vec<String> = context.iter().map(|s| s.to_string()).collect();
        plan_patch(&edits, &context, &guard(dir))
    }

    fn sample(name: &str) -> String {
        let text = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("src/patch/testdata")
                .join(name),
        )
        .unwrap();
        let start = text.find("<<<REPLY\n").unwrap() + 9;
        text[start..text.rfind("REPLY>>>").unwrap()].to_string()
    }

    #[test]
    fn sample_reply_end_to_end_parse_plan_render_apply() {
        let dir = repo(&[("stats.py", STATS)]);
        let state = tempfile::tempdir().unwrap();
        let patch = plan(
            dir.path(),
            &sample("coder-search-replace-fewshot.txt"),
            &["stats.py"],
        )
        .unwrap();
        let diff = crate::patch::git_diff(&patch);
        assert!(
            diff.contains("-    return total / (len(xs) - 1)\n+    return total / len(xs)\n"),
            "{diff}"
        );
        let applied = crate::patch::apply_patch(dir.path(), state.path(), &patch).unwrap();
        let now = std::fs::read_to_string(dir.path().join("stats.py")).unwrap();
        assert_eq!(Some(now.as_str()), patch.files[0].new.as_deref());
        applied.restore().unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.path().join("stats.py")).unwrap(),
            STATS
        );
    }

    #[test]
    fn exact_block_changes_one_file() {
        let dir = repo(&[("stats.py", STATS)]);
        let reply = "stats.py\n<<<<<<< SEARCH\n    return total / (len(xs) - 1)\n=======\n    return total / len(xs)\n>>>>>>> REPLACE\n";
        let patch = plan(dir.path(), reply, &["stats.py"]).unwrap();
        assert_eq!(patch.files.len(), 1);
        assert_eq!(patch.files[0].old.as_deref(), Some(STATS));
        assert_eq!(
            patch.files[0].new.as_deref(),
            Some(STATS.replace("(len(xs) - 1)", "len(xs)").as_str())
        );
        assert!(patch.notes.is_empty());
    }

    #[test]
    fn sample_fewshot_example_path_falls_back_to_the_context_file() {
        let dir = repo(&[("stats.py", STATS)]);
        let patch = plan(
            dir.path(),
            &sample("coder-search-replace-fewshot.txt"),
            &["stats.py"],
        )
        .unwrap();
        assert_eq!(patch.files[0].path, "stats.py");
        assert!(
            patch.files[0]
                .new
                .as_deref()
                .unwrap()
                .contains("return total / len(xs)\n")
        );
        assert!(
            patch.notes[0].contains("named path/to/file.py, which does not exist"),
            "{:?}",
            patch.notes
        );
    }

    #[test]
    fn sample_tiny_echo_fails_with_closest_lines() {
        let dir = repo(&[("stats.py", STATS), ("other.py", "x = 1\n")]);
        let err = plan(
            dir.path(),
            &sample("tiny-search-replace-fewshot.txt"),
            &["stats.py", "other.py"],
        )
        .unwrap_err();
        assert!(matches!(err, PlanError::FileMissing { .. }), "{err}");
        assert!(err.to_string().contains(
            "path/to/file.py, which does not exist; the files shown were: stats.py, other.py"
        ));
        let reply = "stats.py\n<<<<<<< SEARCH\n    return total / len(xs) - 1\n=======\nx\n>>>>>>> REPLACE\n";
        let err = plan(dir.path(), reply, &["stats.py"]).unwrap_err();
        assert!(matches!(err, PlanError::NotFound { .. }), "{err}");
        assert!(err.to_string().contains("the closest line is 6"), "{err}");
    }

    #[test]
    fn not_found_message_shows_the_closest_lines_and_the_difference() {
        let dir = repo(&[("stats.py", STATS)]);
        let reply = "stats.py\n<<<<<<< SEARCH\n    for x in xs:\n        total += x\n    return total / len(xs) - 1\n=======\nx\n>>>>>>> REPLACE\n";
        let err = plan(dir.path(), reply, &["stats.py"]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "SEARCH/REPLACE block 1 does not match stats.py: the closest lines are 4-6 (97% similar):\n\
             \x20   4 |     for x in xs:\n\
             \x20   5 |         total += x\n\
             \x20   6 |     return total / (len(xs) - 1)\n\
             line 6 of the file is `return total / (len(xs) - 1)` but the SEARCH has `return total / len(xs) - 1`"
        );
    }

    #[test]
    fn sample_whole_file_without_path_uses_the_only_context_file() {
        let dir = repo(&[("stats.py", STATS)]);
        let patch = plan(
            dir.path(),
            &sample("coder-search-replace.txt"),
            &["stats.py"],
        )
        .unwrap();
        assert_eq!(
            patch.files[0].new.as_deref(),
            Some(STATS.replace("(len(xs) - 1)", "len(xs)").as_str())
        );
    }

    #[test]
    fn sample_noop_diff_with_wrong_context_is_rejected() {
        let dir = repo(&[("stats.py", STATS)]);
        let err = plan(dir.path(), &sample("coder-unified-diff.txt"), &["stats.py"]).unwrap_err();
        assert!(matches!(err, PlanError::NoChange), "{err}");
    }

    #[test]
    fn sample_rust_diff_applies_with_fuzz_and_wrong_counts() {
        let lib =
            "pub fn parse_port(s: &str) -> u16 {\n    let n: u32 = s.parse().unwrap();\n    n\n}\n";
        let dir = repo(&[("src/lib.rs", lib)]);
        let patch = plan(
            dir.path(),
            &sample("coder-rust-diagnosis.txt"),
            &["src/lib.rs"],
        )
        .unwrap();
        assert_eq!(
            patch.files[0].new.as_deref(),
            Some(lib.replace("    n\n", "    n as u16\n").as_str())
        );
        assert!(
            patch.notes.iter().any(|n| n.contains("fuzz")),
            "{:?}",
            patch.notes
        );
    }

    #[test]
    fn ambiguous_block_asks_for_more_context() {
        let dir = repo(&[("a.rs", "x();\ny();\nx();\n")]);
        let err = plan(
            dir.path(),
            "a.rs\n<<<<<<< SEARCH\nx();\n=======\nz();\n>>>>>>> REPLACE",
            &[],
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "SEARCH/REPLACE block 1 matches a.rs 2 times (at lines 1, 3); include more surrounding lines so it matches exactly once"
        );
    }

    #[test]
    fn empty_search_creates_only_new_files() {
        let dir = repo(&[("a.rs", "x\n")]);
        let patch = plan(
            dir.path(),
            "src/new.rs\n<<<<<<< SEARCH\n=======\nfn n() {}\n>>>>>>> REPLACE",
            &[],
        )
        .unwrap();
        assert_eq!(
            patch.files[0],
            FileChange {
                path: "src/new.rs".into(),
                old: None,
                new: Some("fn n() {}\n".into())
            }
        );
        let err = plan(
            dir.path(),
            "a.rs\n<<<<<<< SEARCH\n=======\ny\n>>>>>>> REPLACE",
            &[],
        )
        .unwrap_err();
        assert!(matches!(err, PlanError::EmptySearch { .. }), "{err}");
    }

    #[test]
    fn several_blocks_per_file_apply_in_order_and_crlf_is_kept() {
        let dir = repo(&[("w.cs", "class A {\r\n  int a;\r\n  int b;\r\n}\r\n")]);
        let reply = "w.cs\n<<<<<<< SEARCH\n  int a;\n=======\n  long a;\n>>>>>>> REPLACE\nw.cs\n<<<<<<< SEARCH\n  int b;\n=======\n  long b;\n  long c;\n>>>>>>> REPLACE\n";
        let patch = plan(dir.path(), reply, &[]).unwrap();
        assert_eq!(
            patch.files[0].new.as_deref(),
            Some("class A {\r\n  long a;\r\n  long b;\r\n  long c;\r\n}\r\n")
        );
    }

    #[test]
    fn missing_path_with_several_context_files() {
        let dir = repo(&[("a.py", "a = 1\n"), ("b.py", "b = 2\n")]);
        let patch = plan(
            dir.path(),
            "<<<<<<< SEARCH\nb = 2\n=======\nb = 3\n>>>>>>> REPLACE",
            &["a.py", "b.py"],
        )
        .unwrap();
        assert_eq!(patch.files[0].path, "b.py");
        let err = plan(
            dir.path(),
            "<<<<<<< SEARCH\nc = 2\n=======\nc = 3\n>>>>>>> REPLACE",
            &["a.py", "b.py"],
        )
        .unwrap_err();
        assert!(matches!(err, PlanError::NoPath { count: 2, .. }), "{err}");
    }

    #[test]
    fn diff_prefixes_new_and_deleted_files() {
        let dir = repo(&[
            ("b/x.txt", "keep\n"),
            ("gone.txt", "bye\n"),
            ("a.txt", "1\n2\n3\n"),
        ]);
        let reply = "--- a/a.txt\n+++ b/a.txt\n@@ -1,3 +1,3 @@\n 1\n-2\n+two\n 3\n--- /dev/null\n+++ b/new.txt\n@@ -0,0 +1 @@\n+hi\n--- a/gone.txt\n+++ /dev/null\n@@ -1 +0,0 @@\n-bye\n";
        let patch = plan(dir.path(), reply, &[]).unwrap();
        let by_path = |p: &str| patch.files.iter().find(|f| f.path == p).unwrap().clone();
        assert_eq!(by_path("a.txt").new.as_deref(), Some("1\ntwo\n3\n"));
        assert_eq!(
            by_path("new.txt"),
            FileChange {
                path: "new.txt".into(),
                old: None,
                new: Some("hi\n".into())
            }
        );
        assert_eq!(by_path("gone.txt").new, None);
    }

    #[test]
    fn guard_refusals_surface_as_plan_errors() {
        let dir = repo(&[("a.txt", "x\n")]);
        let err = plan(
            dir.path(),
            "../etc/passwd\n<<<<<<< SEARCH\n=======\nroot\n>>>>>>> REPLACE",
            &[],
        )
        .unwrap_err();
        assert!(
            matches!(err, PlanError::Guard(GuardError::Escapes { .. })),
            "{err}"
        );
        let err = plan(
            dir.path(),
            ".git/config\n<<<<<<< SEARCH\n=======\nx\n>>>>>>> REPLACE",
            &[],
        )
        .unwrap_err();
        assert!(
            matches!(err, PlanError::Guard(GuardError::GitDir { .. })),
            "{err}"
        );
    }

    #[test]
    fn partial_whole_file_is_refused() {
        let long: String = (0..40).map(|i| format!("line {i}\n")).collect();
        let dir = repo(&[("big.txt", &long)]);
        let err = plan(dir.path(), "big.txt\n```text\nline 3 changed\n```\n", &[]).unwrap_err();
        assert!(
            matches!(
                err,
                PlanError::LooksLikeExcerpt {
                    old_lines: 40,
                    new_lines: 1,
                    ..
                }
            ),
            "{err}"
        );
    }
}
