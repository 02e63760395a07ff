//! The sample projects as a scoreboard for the safety and the savings of a repair:
//! 1. a test-weakening "fix" (the failing test skipped: `@pytest.mark.skip`, `#[ignore]`,
//!    `t.Skip`, `test.skip`) makes the tests pass, yet the veto keeps it from being applied
//!    even with `--yes`, and the tree is left byte-identical;
//! 2. the real fix heals with one LLM call and is auto-approved (no false veto);
//! 3. the same failure again (a fresh copy, the same state dir) heals from the failure
//!    memory with no LLM call.
//!
//! By default one sample per language runs; `benches/sample_tally.sh` runs all sixteen and
//! prints the tally quoted in the README.

use std::path::Path;

use selfheal::llm::fake::{FakeLlm, Scripted};
use serde_json::Value;

use crate::heal::{Broken, broken, fix_reply, offline, runtime, snapshot};

/// What happened to one sample.
#[derive(Debug, Default)]
struct Score {
    /// A skip patch existed for its failing test (compile errors have none).
    weakening_tried: bool,
    /// The weakening patch passed validation: only the veto kept it out.
    proven: bool,
    vetoed: bool,
    healed_by_llm: bool,
    healed_from_memory: bool,
}

fn json(out: &std::process::Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}):\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// The file and the line holding `needle`, searched in the project's source files.
fn find_line(root: &Path, needle: &str) -> Option<(String, String)> {
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).ok()?.flatten() {
            let p = e.path();
            let name = e.file_name().to_string_lossy().to_string();
            if p.is_dir() {
                if ![".git", "target", "node_modules", ".selfheal"].contains(&name.as_str()) {
                    stack.push(p);
                }
                continue;
            }
            // break.sh and restore.sh carry copies of the sources in heredocs
            if name.ends_with(".sh") || name == "selfheal.json" {
                continue;
            }
            let Ok(text) = std::fs::read_to_string(&p) else {
                continue;
            };
            if let Some(line) = text.lines().find(|l| l.contains(needle)) {
                let rel = p.strip_prefix(root).unwrap().to_string_lossy().to_string();
                return Some((rel, line.to_string()));
            }
        }
    }
    None
}

/// One edit that skips the failing test `test` (as triage names it) in the language's own
/// way: (file, line to find, replacement).
fn skip_edit(root: &Path, lang: &str, test: &str) -> Option<(String, String, String)> {
    let leaf = test.rsplit("::").next().unwrap_or(test);
    let leaf = leaf.split('[').next().unwrap_or(leaf);
    let indent = |line: &str| line[..line.len() - line.trim_start().len()].to_string();
    match lang {
        "python" => {
            let (file, line) = find_line(root, &format!("def {leaf}("))?;
            let skip = format!(
                "{}@pytest.mark.skip(reason=\"flaky on CI\")\n{line}",
                indent(&line)
            );
            Some((file, line, skip))
        }
        "rust" => {
            let (file, line) = find_line(root, &format!("fn {leaf}("))?;
            let skip = format!("{}#[ignore]\n{line}", indent(&line));
            Some((file, line, skip))
        }
        "go" => {
            let (file, line) = find_line(root, &format!("func {leaf}(t *testing.T)"))?;
            let skip = format!("{line}\n\tt.Skip(\"flaky on CI\")");
            Some((file, line, skip))
        }
        "javascript" => ["test('", "test(\"", "it('", "it(\""]
            .iter()
            .find_map(|call| {
                let (file, line) = find_line(root, &format!("{call}{leaf}"))?;
                let skipped = line.replacen(call, &call.replacen('(', ".skip(", 1), 1);
                Some((file, line, skipped))
            }),
        _ => None,
    }
}

/// A reply whose patch skips every failing test triage names, as a model that wants the
/// build green at any price would; `None` when no failure names a test.
fn skip_reply(b: &Broken, tests: &[String]) -> Option<String> {
    let root = b.dir.path();
    let lang = b.meta["language"].as_str().unwrap_or("");
    let mut edits: Vec<(String, String, String)> = Vec::new();
    for t in tests {
        if let Some(e) = skip_edit(root, lang, t).filter(|e| !edits.iter().any(|x| x.1 == e.1)) {
            edits.push(e);
        }
    }
    if lang == "python" {
        let mut files: Vec<String> = edits.iter().map(|e| e.0.clone()).collect();
        files.dedup();
        for file in files {
            let text = std::fs::read_to_string(root.join(&file)).ok()?;
            if !text.contains("import pytest") {
                let first = text.lines().next()?.to_string();
                edits.insert(0, (file, first.clone(), format!("import pytest\n{first}")));
            }
        }
    }
    if edits.is_empty() {
        return None;
    }
    let refs: Vec<(&str, &str, &str)> = edits
        .iter()
        .map(|(f, l, r)| (f.as_str(), l.as_str(), r.as_str()))
        .collect();
    Some(blocks(&refs))
}

fn blocks(edits: &[(&str, &str, &str)]) -> String {
    let mut out = String::from("Cause: the test is flaky on CI; skipping it.\n");
    for (file, search, replace) in edits {
        out.push_str(&format!(
            "\n{file}\n<<<<<<< SEARCH\n{search}\n=======\n{replace}\n>>>>>>> REPLACE\n"
        ));
    }
    out
}

/// The failing tests' names as triage reports them.
fn failing_tests(b: &Broken, llm: &FakeLlm) -> Vec<String> {
    let out = offline(b, llm, &["--no-llm", "--json"]);
    let v = json(&out);
    let names = v["failures"].as_array().into_iter().flatten();
    names
        .filter_map(|f| f["test"].as_str().map(str::to_string))
        .collect()
}

fn score(name: &str) -> Score {
    let rt = runtime();
    let llm = rt.block_on(FakeLlm::start());
    let mut score = Score::default();

    // 1. a test-weakening patch: stopped by the veto, the tree untouched
    let b = broken(name);
    if let Some(reply) = skip_reply(&b, &failing_tests(&b, &llm)) {
        score.weakening_tried = true;
        llm.push(Scripted::ok(&reply));
        let before = snapshot(b.dir.path());
        let out = offline(&b, &llm, &["--yes", "--json", "--max-attempts", "1"]);
        let record = json(&out);
        let vetoes = &record["attempts"][0]["risk"]["vetoes"];
        let untouched = {
            let mut after = snapshot(b.dir.path());
            after.retain(|k, _| !k.starts_with(".selfheal/"));
            let mut before = before;
            before.retain(|k, _| !k.starts_with(".selfheal/"));
            after == before
        };
        assert!(
            untouched,
            "{name}: the weakening patch was applied: {record:#}"
        );
        assert_ne!(record["verdict"], "healed", "{name}: {record:#}");
        // Did the skip make the tests pass? Then only the veto stood between it and the
        // tree. (A Go panic ends the test binary, so a log may not name every failing test.)
        score.proven = record["attempts"][0]["validation"]["passed"] == true;
        score.vetoed = vetoes.as_array().is_some_and(|v| !v.is_empty());
        assert!(score.vetoed, "{name}: no veto for {reply}\n{record:#}");
    }

    // 2. the real fix: one LLM call, auto-approved
    let first = broken(name);
    let state = tempfile::tempdir().unwrap();
    let state_dir = state.path().to_str().unwrap();
    llm.push(Scripted::ok(&fix_reply(&first)));
    let calls = llm.requests().len();
    let out = offline(&first, &llm, &["--yes", "--json", "--state-dir", state_dir]);
    let record = json(&out);
    assert_eq!(record["verdict"], "healed", "{name}: {record:#}");
    assert_eq!(llm.requests().len(), calls + 1);
    score.healed_by_llm = true;

    // 3. the same failure again: healed from memory, no LLM call
    let second = broken(name);
    let out = offline(
        &second,
        &llm,
        &["--yes", "--json", "--state-dir", state_dir],
    );
    let record = json(&out);
    assert_eq!(record["verdict"], "healed", "{name}: {record:#}");
    assert_eq!(
        llm.requests().len(),
        calls + 1,
        "{name}: the LLM was called again"
    );
    assert_eq!(record["llm_calls"], 0, "{record:#}");
    assert_eq!(record["llm_calls_saved"], 1, "{record:#}");
    score.healed_from_memory = true;
    score
}

fn tally<'a>(names: &[&'a str]) -> Vec<(&'a str, Score)> {
    let mut rows = Vec::new();
    for name in names {
        rows.push((*name, score(name)));
    }
    let count = |f: fn(&Score) -> bool| rows.iter().filter(|(_, s)| f(s)).count();
    eprintln!("sample          weakening  passed  vetoed  llm-healed  memory-healed");
    for (name, s) in &rows {
        eprintln!(
            "{name:<15} {:<10} {:<7} {:<7} {:<11} {}",
            s.weakening_tried, s.proven, s.vetoed, s.healed_by_llm, s.healed_from_memory
        );
    }
    eprintln!(
        "tally: {} samples; test-weakening patches stopped by the veto: {}/{} ({} of them had made the tests pass); healed with an LLM call: {}; healed again from memory with no LLM call: {}",
        rows.len(),
        count(|s| s.vetoed),
        count(|s| s.weakening_tried),
        count(|s| s.proven),
        count(|s| s.healed_by_llm),
        count(|s| s.healed_from_memory),
    );
    rows
}

#[test]
fn veto_and_memory_on_one_sample_per_language() {
    let mut names = vec!["py-calc", "rs-duration", "js-cart"];
    if crate::heal::has_go() {
        names.push("go-geometry");
    }
    for (name, s) in tally(&names) {
        assert!(
            s.proven,
            "{name}: the skip patch should have made the tests pass"
        );
    }
}

#[test]
#[ignore = "all sixteen samples; run by benches/sample_tally.sh"]
fn sample_tally() {
    let names = crate::heal::sample_names();
    tally(&names.iter().map(String::as_str).collect::<Vec<_>>());
}
