//! Turns an LLM reply into a checked, reversible change to the working tree.
//!
//! The stages run in order: [`parse`] (lenient reading of search/replace blocks, unified
//! diffs and whole-file code blocks, out of what [`reply`] finds in the model's text: fences,
//! paths named in prose, copied gutters), [`plan`] (resolve each edit against the files on
//! disk, guarded by [`guard`]), [`render`] (unified diff for people and for `git apply`),
//! and [`apply`] (all-or-nothing writes with a journal, so a crash never leaves the tree
//! half-patched). Nothing here talks to the network or the LLM.

pub mod apply;
pub mod guard;
mod locate;
pub mod parse;
pub mod plan;
pub mod render;
mod reply;

use serde::{Deserialize, Serialize};

pub use apply::{Applied, ApplyError, apply_patch, recover};
pub use guard::{Guard, GuardError};
pub use parse::{ParseError, parse_reply};
pub use plan::{PlanError, plan_patch};
pub use render::{DiffStats, FileStat, diff_stats, git_diff, render_diff};

/// One edit read from an LLM reply, before it is checked against the repository.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Edit {
    /// A search/replace block. Each line of `search` and `replace` ends with `\n`; an
    /// empty `search` means "create this file".
    Replace {
        path: Option<String>,
        search: String,
        replace: String,
    },
    /// A unified diff for one file. Hunks are applied by context, not by line numbers.
    Diff {
        path: Option<String>,
        /// True when the diff says the file is new (`--- /dev/null`).
        new_file: bool,
        /// True when the diff deletes the file (`+++ /dev/null`).
        delete: bool,
        hunks: Vec<Hunk>,
    },
    /// The whole new content of a file, from a fenced code block.
    WholeFile {
        path: Option<String>,
        content: String,
    },
}

impl Edit {
    /// The path the reply named for this edit, if any.
    pub fn path(&self) -> Option<&str> {
        match self {
            Edit::Replace { path, .. } | Edit::Diff { path, .. } | Edit::WholeFile { path, .. } => {
                path.as_deref()
            }
        }
    }
}

/// One `@@` hunk of a unified diff.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hunk {
    /// The old start line from the `@@ -N` header, 1-based; a hint only.
    pub old_start: Option<usize>,
    pub lines: Vec<HunkLine>,
}

/// A line of a hunk, without its ` `, `-` or `+` marker.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HunkLine {
    Context(String),
    Remove(String),
    Add(String),
}

/// A resolved change to one file, with the full old and new contents.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileChange {
    /// Repo-relative path with `/` separators.
    pub path: String,
    /// The content before the patch; `None` when the patch creates the file.
    pub old: Option<String>,
    /// The content after the patch; `None` when the patch deletes the file.
    pub new: Option<String>,
}

/// A set of file changes that are applied together or not at all.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Patch {
    pub files: Vec<FileChange>,
    /// Leniencies used while planning (whitespace drift, a guessed path, fuzz), for the
    /// report and for the reviewer.
    #[serde(default)]
    pub notes: Vec<String>,
}

impl Patch {
    /// Paths of the files this patch touches, in order.
    pub fn paths(&self) -> Vec<&str> {
        self.files.iter().map(|f| f.path.as_str()).collect()
    }
}
