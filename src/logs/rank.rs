//! Ranks the files a set of failures points at: which file most likely needs the fix.
//!
//! Where a traceback goes from a test into the code under test, the code is the likely
//! fix and ranks first; the test stays listed. Files that exist in the repo outrank
//! those that don't (site-packages, the standard library, generated code).

use std::collections::HashMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::Failure;
use super::paths::is_test_path;

/// One candidate file with its score (higher is likelier) and why.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RankedFile {
    pub path: String,
    pub score: u32,
    pub reasons: Vec<String>,
}

#[derive(Default)]
struct Tally {
    score: u32,
    reasons: Vec<String>,
    order: usize,
}

impl Tally {
    fn add(&mut self, points: u32, reason: String) {
        self.score += points;
        if !self.reasons.contains(&reason) {
            self.reasons.push(reason);
        }
    }
}

#[derive(Default)]
struct Tallies(HashMap<String, Tally>);

impl Tallies {
    fn get(&mut self, path: &str) -> &mut Tally {
        let n = self.0.len();
        self.0.entry(path.to_string()).or_insert_with(|| Tally {
            order: n,
            ..Tally::default()
        })
    }
}

/// Scores every file named by a failure or its frames. `repo_dir` lets existence count.
pub fn rank_files(failures: &[Failure], repo_dir: Option<&Path>) -> Vec<RankedFile> {
    let mut tallies = Tallies::default();
    for f in failures.iter().filter(|f| f.needs_code_change) {
        if let Some(file) = &f.file {
            tallies
                .get(file)
                .add(50, format!("{} reported by {}", f.kind, f.tool));
            if f.annotated {
                tallies
                    .get(file)
                    .add(30, "annotated by the CI runner (problem matcher)".into());
            }
        }
        score_frames(f, &mut tallies);
    }
    let mut ranked: Vec<(usize, RankedFile)> = tallies
        .0
        .into_iter()
        .filter(|(path, _)| !path.is_empty())
        .map(|(path, mut t)| {
            apply_location_scores(&path, &mut t, repo_dir);
            (
                t.order,
                RankedFile {
                    path,
                    score: t.score,
                    reasons: t.reasons,
                },
            )
        })
        .collect();
    ranked.sort_by(|a, b| b.1.score.cmp(&a.1.score).then(a.0.cmp(&b.0)));
    ranked.into_iter().map(|(_, r)| r).collect()
}

/// Frames after the last test frame are the code under test: they rank above the test.
fn score_frames(f: &Failure, tallies: &mut Tallies) {
    let last_test = f.frames.iter().rposition(|fr| is_test_path(&fr.file));
    for (i, frame) in f.frames.iter().enumerate() {
        let called_from_test = last_test.is_some_and(|t| i > t) && !is_test_path(&frame.file);
        let innermost = i + 1 == f.frames.len();
        let (points, why) = match (called_from_test, innermost) {
            (true, true) => (70, "innermost frame, called from the failing test"),
            (true, false) => (40, "in the stack below the failing test"),
            (false, true) => (30, "innermost frame of the traceback"),
            (false, false) => (10, "in the traceback"),
        };
        tallies.get(&frame.file).add(points, why.to_string());
    }
}

fn apply_location_scores(path: &str, t: &mut Tally, repo_dir: Option<&Path>) {
    let drive = path.as_bytes().get(1..3) == Some(b":/");
    if path.starts_with('/')
        || drive
        || path.contains("site-packages/")
        || path.contains("/rustc/")
        || path.contains("node_modules/")
    {
        t.score /= 4;
        t.reasons.push("outside the repository".into());
        return;
    }
    if let Some(dir) = repo_dir {
        if dir.join(path).is_file() {
            t.add(20, "exists in the repository".into());
        } else {
            t.score /= 2;
            t.reasons.push("not found in the repository".into());
        }
    }
    if is_test_path(path) {
        t.reasons.push("test file".into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::{Frame, Kind};

    fn frame(file: &str, line: u32) -> Frame {
        Frame {
            file: file.into(),
            line: Some(line),
            function: None,
        }
    }

    #[test]
    fn code_under_test_outranks_the_test() {
        let mut f = Failure::new("pytest", Kind::TestFailure, "assert 3 == 4").at(
            "tests/test_calc.py",
            Some(7),
            None,
        );
        f.frames = vec![frame("tests/test_calc.py", 7), frame("calc/core.py", 12)];
        let ranked = rank_files(&[f], None);
        assert_eq!(ranked[0].path, "calc/core.py");
        assert_eq!(ranked[1].path, "tests/test_calc.py");
        assert!(ranked[1].reasons.iter().any(|r| r == "test file"));
    }

    #[test]
    fn files_outside_the_repo_sink() {
        let mut f = Failure::new("python", Kind::ImportError, "No module named x").at(
            "app/main.py",
            Some(1),
            None,
        );
        f.frames = vec![
            frame("app/main.py", 1),
            frame("/usr/lib/python3.11/importlib/__init__.py", 126),
        ];
        let ranked = rank_files(&[f], None);
        assert_eq!(ranked[0].path, "app/main.py");
    }

    #[test]
    fn an_annotated_place_outranks_an_unconfirmed_one() {
        let plain =
            Failure::new("go", Kind::CompileError, "undefined: a").at("a.go", Some(1), None);
        let mut seen =
            Failure::new("go", Kind::CompileError, "undefined: b").at("b.go", Some(2), None);
        seen.annotated = true;
        let ranked = rank_files(&[plain, seen], None);
        assert_eq!(ranked[0].path, "b.go");
        assert!(ranked[0].reasons.iter().any(|r| r.contains("annotated")));
    }

    #[test]
    fn infra_failures_rank_nothing() {
        let f = Failure::new(
            "runner",
            Kind::Timeout,
            "exceeded the maximum execution time",
        )
        .at("x.py", None, None);
        assert!(rank_files(&[f], None).is_empty());
    }
}
